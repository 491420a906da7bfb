#if !canImport(Security)
import Foundation

/// Linux has no Keychain, so `KeychainDataKey` is compiled on Apple platforms only. This stand-in
/// has its signature, so that docs/mobile.md's snippet (DocSnippets/OpenVault.swift) compiles here
/// too; on macOS the snippet compiles against the real one.
enum KeychainDataKey {
    static func loadOrCreate(service: String = "", account: String = "") throws -> Data {
        randomDataKey()
    }
}
#endif
