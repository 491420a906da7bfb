import Foundation
import XCTest

@testable import AuthenticatorCore

/// Every `AuthError` names its problem (also the cases a UI knows by name alone), keeps the
/// fields a UI branches on, and never echoes a secret. AlreadyAnswered is checked in PushTests.
final class ErrorMessageTests: XCTestCase {
    /// `description`, `"\(error)"` and `localizedDescription` all name the problem.
    private func assertNames(_ error: AuthError, _ words: String..., file: StaticString = #filePath, line: UInt = #line) {
        let texts = [error.description, "\(error)", error.localizedDescription, error.errorDescription ?? ""]
        for text in texts {
            XCTAssertFalse(text.isEmpty, "\(error)", file: file, line: line)
            for word in words {
                XCTAssert(text.lowercased().contains(word), "'\(word)' not in '\(text)'", file: file, line: line)
            }
        }
    }

    func testCasesWithoutFieldsOfTheirOwnNameTheProblem() throws {
        let vault = try TempVault(self)
        var wrongKey = vault.key
        wrongKey[0] ^= 0xFF
        _ = try vault.open()
        assertAuthError(try Authenticator(dbPath: vault.path, dataKey: wrongKey)) { error in
            guard case .WrongKey(let detail) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(detail, error.description)
            assertNames(error, "wrong key")
        }

        let app = try vault.open()
        let backup = try app.exportBackup(password: "correct horse battery")
        assertAuthError(try app.importFile(file: backup)) { error in
            guard case .PasswordRequired = error else { return XCTFail("\(error)") }
            assertNames(error, "password")
        }
        assertAuthError(try app.previewImport(file: backup, password: "not it")) { error in
            guard case .WrongPassword = error else { return XCTFail("\(error)") }
            assertNames(error, "wrong password")
        }
    }

    func testCasesWithFieldsKeepThemAndNameTheProblem() throws {
        let app = try TempVault(self).open()
        assertAuthError(try app.removeAccount(id: 4242)) { error in
            guard case .NoSuchAccount(let id, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(id, 4242)
            assertNames(error, "no account", "4242")
        }
        assertAuthError(try app.exportBackup(password: "short")) { error in
            guard case .WeakPassword(let minChars, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(minChars, 8)
            assertNames(error, "password", "8")
        }
        assertAuthError(try app.addAccountFromUri(uri: "otpauth://totp/x?secret=NOT*BASE32!")) { error in
            guard case .InvalidUri(let reason, _) = error else { return XCTFail("\(error)") }
            XCTAssert(reason.contains("base32"), reason)
            assertNames(error, "base32")
            XCTAssertFalse(error.description.contains("NOT*BASE32"), "the message echoes the secret")
        }
    }

    func testNegativeTimesLimitsAndOutOfRangeFieldsAreTypedErrors() throws {
        let app = try TempVault(self).open()
        let account = try app.addAccountFromUri(uri: "otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP")
        let calls: [() throws -> Void] = [{ _ = try app.codes(now: -1) }, { _ = try app.takeCode(id: account.id, now: .min) }]
        for body in calls {
            assertAuthError(try body()) { error in
                guard case .InvalidArgument = error else { return XCTFail("\(error)") }
                assertNames(error, "1970")
            }
        }
        assertAuthError(try app.pushHistory(limit: -1)) { error in
            guard case .InvalidArgument = error else { return XCTFail("\(error)") }
            assertNames(error, "limit")
        }
        let fields = AccountFields(issuer: "X", label: "x", kind: .totp, algorithm: .sha1)
        var negative = fields
        negative.digits = -6
        assertAuthError(try app.addAccount(fields: negative, secretBase32: "JBSWY3DPEHPK3PXP")) { error in
            guard case .InvalidUri(let reason, _) = error else { return XCTFail("\(error)") }
            XCTAssert(reason.contains("digits"), reason)
        }
        // The defaults: 6 digits, 30 s, no group.
        let added = try app.addAccount(fields: fields, secretBase32: "JBSWY3DPEHPK3PXP")
        XCTAssertEqual([added.digits, added.period], [6, 30])
        XCTAssertNil(added.group)
        // The far end of Int64 is no crash: codes, or a typed error.
        do {
            _ = try app.codes(now: .max)
        } catch let error as AuthError {
            guard case .InvalidArgument = error else { return XCTFail("\(error)") }
        }
    }
}
