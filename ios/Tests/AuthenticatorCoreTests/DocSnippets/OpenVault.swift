import AuthenticatorCore
import Foundation

/// The data key from the Keychain (made on the first call, this device only, readable while the
/// device is unlocked, never replaced), and the vault in Application Support opened with it.
func openVault() throws -> Authenticator {
    let key = try KeychainDataKey.loadOrCreate()
    let directory = try FileManager.default.url(
        for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
    return try Authenticator(dbPath: directory.appendingPathComponent("vault.db").path, dataKey: key)
}
