import Foundation
import XCTest

@testable import AuthenticatorCore

/// Opening the vault and the errors a UI branches on.
final class VaultTests: XCTestCase {
    func testAccountsPersistAndTheWrongKeyIsRefused() throws {
        let vault = try TempVault(self)
        do {
            let app = try vault.open()
            _ = try app.addAccountFromUri(uri: "otpauth://totp/GitHub:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=GitHub")
        }
        XCTAssertEqual(try vault.open().listAccounts().map(\.label), ["alice@example.com"])

        var wrongKey = vault.key
        wrongKey[0] ^= 0xFF
        assertAuthError(try Authenticator(dbPath: vault.path, dataKey: wrongKey)) { error in
            guard case .WrongKey = error else { return XCTFail("\(error)") }
        }
        // Refused without damage: the right key still opens it.
        XCTAssertEqual(try vault.open().listAccounts().count, 1)
    }

    func testAKeyMustHave32Bytes() throws {
        let vault = try TempVault(self)
        assertAuthError(try Authenticator(dbPath: vault.path, dataKey: Data(repeating: 7, count: 31))) { error in
            guard case .InvalidKey(let reason, _) = error else { return XCTFail("\(error)") }
            XCTAssert(reason.contains("32"), reason)
        }
    }

    func testAFileThatIsNotAVaultIsLeftUntouched() throws {
        let vault = try TempVault(self)
        let notes = vault.directory.appendingPathComponent("notes.txt")
        let text = Data("not a database at all, just some text".utf8)
        try text.write(to: notes)
        assertAuthError(try Authenticator(dbPath: notes.path, dataKey: vault.key)) { error in
            guard case .VaultUnreadable = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try Data(contentsOf: notes), text)
    }

    /// A refused URI says what is wrong, and never echoes the secret.
    func testBadUrisNameTheProblem() throws {
        let app = try TempVault(self).open()
        let secret = "JBSWY3DPEHPK3PXP"
        let cases: [(uri: String, mentions: String)] = [
            ("otpauth://totp/x?secret=\(secret)&digits=11", "digits"),
            ("otpauth://totp/x?issuer=NoSecret", "secret"),
            ("otpauth://totp/x?secret=", "empty"),
            ("otpauth://totp/x?secret=NOT*BASE32!", "base32"),
            ("otpauth://totp/x?secret=\(secret)&algorithm=MD5", "algorithm"),
            ("otpauth://totp/x?secret=\(secret)&period=0", "period"),
            ("otpauth://hotp/x?secret=\(secret)", "counter"),
            ("otpauth://yubikey/x?secret=\(secret)", "type"),
            ("https://example.com/?secret=\(secret)", "otpauth"),
        ]
        for c in cases {
            assertAuthError(try app.addAccountFromUri(uri: c.uri)) { error in
                guard case .InvalidUri(let reason, _) = error else { return XCTFail("\(c.uri): \(error)") }
                XCTAssert(reason.localizedCaseInsensitiveContains(c.mentions), "\(c.uri): \(reason)")
                XCTAssertFalse(reason.contains(secret), "\(c.uri): the reason leaks the secret: \(reason)")
            }
        }
        XCTAssertEqual(try app.listAccounts(), [], "nothing was stored")
        // The same check without a vault, to preview a scanned QR code.
        assertAuthError(try previewUri(uri: cases[0].uri)) { error in
            guard case .InvalidUri = error else { return XCTFail("\(error)") }
        }
    }

    func testPreviewRenameGroupSearchReorderRemove() throws {
        let app = try TempVault(self).open()
        let uri = "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub"
        let preview = try previewUri(uri: uri)
        XCTAssertEqual(preview.issuer, "GitHub")
        XCTAssertEqual(preview.id, 0)
        XCTAssertEqual(try app.listAccounts(), [], "previewing stores nothing")

        let github = try app.addAccountFromUri(uri: uri)
        let corp = try app.addAccountFromUri(uri: "otpauth://totp/Corp:bob?secret=JBSWY3DPEHPK3PXP")
        XCTAssertEqual(corp.issuer, "Corp")

        try app.renameAccount(id: github.id, issuer: "GitHub", label: "alice-work")
        try app.setAccountGroup(id: github.id, group: "Work")
        try app.setAccountGroup(id: corp.id) // the default: no group
        XCTAssertEqual(try app.searchAccounts(query: "WORK").map(\.id), [github.id])
        try app.reorderAccounts(ids: [corp.id])
        XCTAssertEqual(try app.listAccounts().map(\.label), ["bob", "alice-work"])

        try app.removeAccount(id: corp.id)
        assertAuthError(try app.removeAccount(id: corp.id)) { error in
            guard case .NoSuchAccount(let id, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(id, corp.id)
        }
        XCTAssertEqual(try app.listAccounts().map(\.id), [github.id])
        XCTAssertEqual(try app.damagedAccounts(), [], "no damaged rows in a healthy vault")
    }

    func testClockOffsetAppliesToEveryCode() throws {
        let app = try TempVault(self).open()
        _ = try app.addAccountFromUri(uri: "otpauth://totp/x?secret=\(base32("12345678901234567890"))&digits=8")
        try app.setClockOffset(seconds: 30)
        XCTAssertEqual(try app.clockOffset(), 30)
        XCTAssertEqual(try app.codes(now: 29).first?.value, "94287082")
    }
}
