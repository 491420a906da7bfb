import Foundation
import XCTest

@testable import AuthenticatorCore

/// Named blobs in memory, as an iOS shell would keep them in a file provider or iCloud Drive;
/// `failWrites` makes writes fail after storing half the bytes, as full storage does.
final class MemoryDestination: BackupDestination, @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String: Data] = [:]
    private var failure: DestinationError?

    var blobs: [String: Data] { lock.withLock { storage } }
    var names: [String] { blobs.keys.sorted() }

    func failWrites(_ error: DestinationError?) { lock.withLock { failure = error } }

    func write(name: String, bytes: Data) throws {
        try lock.withLock {
            if let failure {
                storage[name] = bytes.prefix(bytes.count / 2)
                throw failure
            }
            storage[name] = bytes
        }
    }

    func read(name: String) throws -> Data {
        try lock.withLock {
            guard let bytes = storage[name] else { throw DestinationError.Gone(detail: "no blob \(name)") }
            return bytes
        }
    }

    func rename(from: String, to: String) throws {
        try lock.withLock {
            guard let bytes = storage.removeValue(forKey: from) else {
                throw DestinationError.Gone(detail: "no blob \(from)")
            }
            storage[to] = bytes
        }
    }

    func list() throws -> [String] { names }

    func delete(name: String) throws { _ = lock.withLock { storage.removeValue(forKey: name) } }
}

/// Automatic backups through the foreign trait, implemented here in Swift.
final class AutoBackupTests: XCTestCase {
    private let password = "correct horse battery"

    private func waitFor(_ app: Authenticator, _ done: (BackupStatus) -> Bool) throws -> BackupStatus {
        for _ in 0..<1000 {
            let status = try app.backupStatus()
            if done(status) { return status }
            Thread.sleep(forTimeInterval: 0.01)
        }
        XCTFail("no backup outcome: \(try app.backupStatus())")
        return try app.backupStatus()
    }

    func testAChangeIsBackedUpThroughTheAppsDestinationAndTheCopyRestores() throws {
        let app = try TempVault(self).open()
        _ = try app.addAccountFromUri(uri: "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example")
        let destination = MemoryDestination()
        try app.setBackupDestination(destination: destination)
        try app.enableBackups(password: password, keep: 2)
        let status = try waitFor(app) { $0.lastSuccessAt != nil }
        XCTAssertTrue(status.enabled && !status.pendingChanges, "\(status)")
        XCTAssertNil(status.warning)
        let name = try XCTUnwrap(status.lastSuccessName)
        XCTAssertNotNil(name.range(of: #"^authenticator-backup-\d{8}-\d{6}-\d{3}\.json$"#, options: .regularExpression), name)
        XCTAssertEqual(destination.names, [name])
        let bytes = try XCTUnwrap(destination.blobs[name])

        // A burst of changes right after a backup is coalesced: one backup at most a minute
        // later (or now, on request), not one per change.
        let bank = try app.addAccountFromUri(uri: "otpauth://totp/Bank:bob?secret=JBSWY3DPEHPK3PXP")
        try app.renameAccount(id: bank.id, issuer: "Bank", label: "robert")
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertTrue(try app.backupStatus().pendingChanges)
        XCTAssertEqual(destination.names.count, 1)
        let newest = try XCTUnwrap(try app.backupNow().lastSuccessName)
        XCTAssertEqual(try verifyBackup(file: try XCTUnwrap(destination.blobs[newest]), password: password).accounts, 2)
        _ = try app.backupNow()
        XCTAssertEqual(destination.names.count, 2, "rotated to the newest 2")
        XCTAssert(destination.names.contains(newest))

        XCTAssertEqual(try verifyBackup(file: bytes, password: password).accounts, 1)
        let restored = try TempVault(self).open()
        _ = try restored.importFile(file: bytes, password: password)
        XCTAssertEqual(try restored.listAccounts().map(\.issuer), ["Example"])
    }

    func testAFailingDestinationIsReportedTypedAndCostsNoGoodCopy() throws {
        let app = try TempVault(self).open()
        let destination = MemoryDestination()
        try app.setBackupDestination(destination: destination)
        try app.enableBackups(password: password, keep: 10)
        let good = try waitFor(app) { $0.lastSuccessAt != nil }.lastSuccessName
        let before = destination.names
        XCTAssertEqual(before, [good])

        destination.failWrites(DestinationError.Full(detail: "no space left"))
        assertAuthError(try app.backupNow()) { error in
            guard case .BackupFailed(let failure, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(failure, .diskFull)
        }
        XCTAssertEqual(destination.names, before, "no partial blob, nothing deleted")
        let status = try app.backupStatus()
        XCTAssertEqual(status.lastFailure, .diskFull)
        XCTAssert(status.warning?.contains("disk full") == true, "\(String(describing: status.warning))")

        // The change that triggers a failing backup is committed all the same.
        destination.failWrites(DestinationError.NoPermission(detail: "read-only"))
        _ = try app.addAccountFromUri(uri: "otpauth://totp/Bank:bob?secret=JBSWY3DPEHPK3PXP")
        XCTAssertEqual(try app.listAccounts().count, 1)
        assertAuthError(try app.backupNow()) { error in
            guard case .BackupFailed(let failure, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(failure, .noPermission)
        }
        XCTAssertEqual(try app.backupStatus().lastFailure, .noPermission)

        destination.failWrites(nil)
        XCTAssertNil(try app.backupNow().warning)
        try app.disableBackups()
        assertAuthError(try app.backupNow()) { error in
            guard case .BackupsOff = error else { return XCTFail("\(error)") }
        }
    }
}
