#if canImport(Security)
import Foundation
import Security

/// The vault's 32-byte data key, kept in the Keychain.
///
/// The key is a generic-password item that is
/// - readable only while the device is unlocked, `kSecAttrAccessibleWhenUnlockedThisDeviceOnly`:
///   a thief with a locked phone, or with the app's files, cannot have it. A push arriving while
///   the phone is locked is handled by an `Authenticator` kept open since the last unlock (the
///   core holds the key in memory), or kept and handled after the next unlock;
/// - bound to this device: never in iCloud Keychain (not synchronizable) and not restored from a
///   backup onto another device (`ThisDeviceOnly`), like the vault it opens. The vault's files
///   alone are then AES-256 ciphertext, which is what makes a push PIN resist offline guessing;
/// - created once, from `SecRandomCopyBytes`, and **never overwritten**: a vault sealed with a
///   lost key cannot be opened again, so every failure is thrown instead of replaced by a new key.
///
/// ```swift
/// let key = try KeychainDataKey.loadOrCreate()
/// let dbPath = try FileManager.default
///     .url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
///     .appendingPathComponent("vault.db").path
/// let authenticator = try Authenticator(dbPath: dbPath, dataKey: key)
/// ```
public enum KeychainDataKey {
    public static let keyLength = 32
    public static let defaultService = "org.authenticator.core.data-key"
    public static let defaultAccount = "vault"

    public enum Failure: Error, Equatable, Sendable {
        /// A Keychain call failed with this `OSStatus`, e.g. `errSecInteractionNotAllowed`
        /// while the device is locked. Retry after the unlock; do not reset the vault.
        case keychain(OSStatus)
        /// The system random number generator failed.
        case randomness(OSStatus)
        /// An item exists but does not hold 32 bytes; it is left as it is.
        case malformedKey(length: Int)
    }

    /// The data key, created on first use. Safe against races with other threads or app
    /// extensions sharing `accessGroup`: when two create at once, the first stored key wins and
    /// both return it.
    public static func loadOrCreate(
        service: String = defaultService,
        account: String = defaultAccount,
        accessGroup: String? = nil
    ) throws -> Data {
        if let key = try load(service: service, account: account, accessGroup: accessGroup) {
            restrictToUnlockedDevice(service: service, account: account, accessGroup: accessGroup)
            return key
        }
        var key = Data(count: keyLength)
        let random = key.withUnsafeMutableBytes { bytes in
            SecRandomCopyBytes(kSecRandomDefault, keyLength, bytes.baseAddress!)
        }
        guard random == errSecSuccess else { throw Failure.randomness(random) }

        var item = query(service: service, account: account, accessGroup: accessGroup)
        item[kSecValueData as String] = key
        item[kSecAttrAccessible as String] = kSecAttrAccessibleWhenUnlockedThisDeviceOnly
        // SecItemAdd never replaces an item: a key stored in the meantime makes it fail with
        // errSecDuplicateItem, and that key is the one to use.
        let status = SecItemAdd(item as CFDictionary, nil)
        switch status {
        case errSecSuccess:
            return key
        case errSecDuplicateItem:
            guard let existing = try load(service: service, account: account, accessGroup: accessGroup) else {
                throw Failure.keychain(status)
            }
            return existing
        default:
            throw Failure.keychain(status)
        }
    }

    /// The stored data key, or nil when there is none yet. Throws on any other Keychain failure
    /// (a locked device is not "no key").
    public static func load(
        service: String = defaultService,
        account: String = defaultAccount,
        accessGroup: String? = nil
    ) throws -> Data? {
        var request = query(service: service, account: account, accessGroup: accessGroup)
        request[kSecReturnData as String] = true
        request[kSecMatchLimit as String] = kSecMatchLimitOne
        var result: CFTypeRef?
        let status = SecItemCopyMatching(request as CFDictionary, &result)
        switch status {
        case errSecSuccess:
            guard let key = result as? Data else { throw Failure.malformedKey(length: -1) }
            guard key.count == keyLength else { throw Failure.malformedKey(length: key.count) }
            return key
        case errSecItemNotFound:
            return nil
        default:
            throw Failure.keychain(status)
        }
    }

    /// Moves an item stored by an earlier version (readable after the first unlock) to
    /// `kSecAttrAccessibleWhenUnlockedThisDeviceOnly`; nothing to do for items that already are.
    /// Best effort: the key was read, so a failure here only means trying again next time.
    private static func restrictToUnlockedDevice(service: String, account: String, accessGroup: String?) {
        var request = query(service: service, account: account, accessGroup: accessGroup)
        request[kSecReturnAttributes as String] = true
        request[kSecMatchLimit as String] = kSecMatchLimitOne
        var result: CFTypeRef?
        guard SecItemCopyMatching(request as CFDictionary, &result) == errSecSuccess,
              let attributes = result as? [String: Any]
        else { return }
        let unlockedOnly = kSecAttrAccessibleWhenUnlockedThisDeviceOnly as String
        if attributes[kSecAttrAccessible as String] as? String == unlockedOnly { return }
        let change: [String: Any] = [kSecAttrAccessible as String: unlockedOnly]
        _ = SecItemUpdate(
            query(service: service, account: account, accessGroup: accessGroup) as CFDictionary,
            change as CFDictionary
        )
    }

    private static func query(service: String, account: String, accessGroup: String?) -> [String: Any] {
        var query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecAttrSynchronizable as String: false,
            // macOS: the data-protection (iOS-style) keychain, so the attributes above apply
            // (needs a signed app with a keychain access group there; ignored on iOS).
            kSecUseDataProtectionKeychain as String: true,
        ]
        if let accessGroup {
            query[kSecAttrAccessGroup as String] = accessGroup
        }
        return query
    }
}
#endif
