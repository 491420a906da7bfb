import Foundation
import XCTest

@testable import AuthenticatorCore

/// End-to-end encrypted sync against the real Apache WebDAV server that ios/run-tests.sh starts
/// (tests/webdav/server.sh) and names in SYNC_DAV_URL / SYNC_DAV_PASSWORD.
final class SyncTests: XCTestCase {
    func testADeviceSyncsThroughWebDAVAndASecondJoinsWithItsPairingCode() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let base = environment["SYNC_DAV_URL"], !base.isEmpty,
            let password = environment["SYNC_DAV_PASSWORD"]
        else {
            return XCTFail("SYNC_DAV_URL is not set: run ios/run-tests.sh, which starts the WebDAV server")
        }
        let url = "\(base)swift-\(UUID().uuidString)/"
        let phone = try TempVault(self).open()
        let tablet = try TempVault(self).open()
        _ = try phone.addAccountFromUri(uri: "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub")
        XCTAssertNil(try phone.syncStatus().server)
        do {
            try await phone.setupSync(url: url, user: "sync", password: password, passphrase: "dragon")
            XCTFail("a weak passphrase was accepted")
        } catch let error as AuthError {
            guard case .WeakPassphrase(let reason, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(reason, "a common password or word")
        }
        XCTAssertNil(try phone.syncStatus().server)
        try await phone.setupSync(url: url, user: "sync", password: password, passphrase: "swift pylon marsh cobweb")
        let result = try await phone.syncNow()
        XCTAssertTrue(result.uploaded)
        // Synced once a round reads the changes back from the server.
        XCTAssertEqual(try phone.syncStatus().pendingChanges, 1)
        let settled = try await phone.syncNow()
        XCTAssertFalse(settled.uploaded)
        XCTAssertEqual(try phone.syncStatus().pendingChanges, 0)

        do {
            try await tablet.setupSync(url: url, user: "sync", password: password, passphrase: "not it")
            XCTFail("a wrong passphrase was accepted")
        } catch let error as AuthError {
            guard case .Sync(.wrongSecret, _, _) = error else { return XCTFail("\(error)") }
        }
        try await tablet.setupSync(url: url, user: "sync", password: password, pairingCode: try phone.syncPairingCode())
        let joined = try await tablet.syncNow()
        XCTAssertEqual(joined.refused, 0)
        XCTAssertEqual(try tablet.listAccounts().map(\.issuer), ["GitHub"])
        // Last seen per device: the tablet first, then the phone; nothing to warn about.
        let seen = try tablet.syncStatus()
        XCTAssertEqual(seen.devices.map(\.thisDevice), [true, false])
        XCTAssertEqual(seen.warnings, [])
        let now = Int64(Date().timeIntervalSince1970)
        XCTAssertEqual(try phone.codes(now: now).map(\.value), try tablet.codes(now: now).map(\.value))

        // A rekey (a device was lost): the tablet must join again with the new pairing code.
        _ = try await phone.rekeySync()
        do {
            _ = try await tablet.syncNow()
            XCTFail("the old key still syncs")
        } catch let error as AuthError {
            guard case .Sync(.keyChanged, _, _) = error else { return XCTFail("\(error)") }
        }
        try await tablet.setupSync(url: url, user: "sync", password: password, pairingCode: try phone.syncPairingCode())
        _ = try await tablet.syncNow()
        XCTAssertEqual(try tablet.listAccounts().map(\.issuer), ["GitHub"])
    }
}
