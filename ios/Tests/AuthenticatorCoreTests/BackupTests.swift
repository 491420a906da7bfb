import Foundation
import XCTest

@testable import AuthenticatorCore

/// Backups and imports as an app uses them: export from one vault, restore into another (a new
/// phone), and read other apps' exports.
final class BackupTests: XCTestCase {
    private let password = "correct horse battery"
    /// A fixed moment: RFC 6238's T = 1111111109.
    private let now: Int64 = 1_111_111_109

    /// Everything a list row shows that must survive a backup (ids and timestamps need not).
    private struct Shape: Equatable {
        var issuer: String
        var label: String
        var kind: OtpKind
        var algorithm: Algorithm
        var digits: Int32
        var period: Int32
        var counter: Int64
        var group: String?

        init(_ issuer: String, _ label: String, _ kind: OtpKind, _ algorithm: Algorithm,
             digits: Int32, period: Int32 = 30, counter: Int64 = 0, group: String? = nil) {
            (self.issuer, self.label, self.kind, self.algorithm) = (issuer, label, kind, algorithm)
            (self.digits, self.period, self.counter, self.group) = (digits, period, counter, group)
        }

        init(_ a: AccountRecord) {
            self.init(a.issuer, a.label, a.kind, a.algorithm, digits: a.digits, period: a.period,
                      counter: a.counter, group: a.group)
        }

        func withoutGroup() -> Shape {
            var copy = self
            copy.group = nil
            return copy
        }
    }

    private let expectedShapes = [
        Shape("Example", "alice@example.com", .totp, .sha256, digits: 8),
        Shape("Corp", "bob", .hotp, .sha1, digits: 6, counter: 5, group: "Work"),
        Shape("Steam", "carol", .steam, .sha1, digits: 5),
    ]

    private func shapes(_ app: Authenticator) throws -> [Shape] {
        try app.listAccounts().map(Shape.init)
    }

    /// Code values in list order (ids differ between vaults).
    private func codeValues(_ app: Authenticator) throws -> [String] {
        try app.codes(now: now).map(\.value)
    }

    /// TOTP SHA-256 with 8 digits (RFC 6238 seed), HOTP at counter 5 filed under "Work" (RFC 4226
    /// seed), and Steam.
    private func phoneWithThreeAccounts() throws -> Authenticator {
        let app = try TempVault(self).open()
        _ = try app.addAccount(
            fields: AccountFields(issuer: "Example", label: "alice@example.com", kind: .totp, algorithm: .sha256,
                                  digits: 8),
            secretBase32: base32("12345678901234567890123456789012"))
        _ = try app.addAccount(
            fields: AccountFields(issuer: "Corp", label: "bob", kind: .hotp, algorithm: .sha1,
                                  counter: 5, group: "Work"),
            secretBase32: base32("12345678901234567890"))
        _ = try app.addAccount(
            fields: AccountFields(issuer: "Steam", label: "carol", kind: .steam, algorithm: .sha1, digits: 5),
            secretBase32: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        XCTAssertEqual(try shapes(app), expectedShapes)
        // The known answers: RFC 6238 SHA-256 at T=1111111109, RFC 4226 at counter 5.
        let codes = try codeValues(app)
        XCTAssertEqual(Array(codes.prefix(2)), ["68084774", "254676"])
        XCTAssertEqual(codes.last?.count, 5)
        return app
    }

    func testABackupVerifiesAndRestoresEveryAccountIntoANewVault() throws {
        let phone = try phoneWithThreeAccounts()
        let backup = try phone.exportBackup(password: password)
        XCTAssertFalse(backup.isEmpty)
        // Nothing in clear: not the secrets, the names or the group.
        let text = String(decoding: backup, as: UTF8.self)
        for clear in ["JBSWY3DP", "alice@example.com", "Work"] {
            XCTAssertFalse(text.contains(clear), "the backup shows \(clear)")
        }

        let check = try verifyBackup(file: backup, password: password)
        XCTAssertEqual(check.accounts, 3)
        XCTAssertEqual(check.refused, [])

        // Saved to a file and picked on a new phone (another directory, another data key).
        let newVault = try TempVault(self)
        let file = newVault.directory.appendingPathComponent("authenticator-backup.json")
        try backup.write(to: file)
        let newPhone = try newVault.open()
        let result = try newPhone.importFile(file: try Data(contentsOf: file), password: password)
        XCTAssertEqual(result.format, .backup)
        XCTAssertEqual(result.report.imported, ["Example (alice@example.com)", "Corp (bob)", "Steam (carol)"])
        XCTAssertEqual(result.report.duplicates, [])
        XCTAssertEqual(result.report.refused, [])
        XCTAssertEqual(try shapes(newPhone), try shapes(phone))
        XCTAssertEqual(try codeValues(newPhone), try codeValues(phone))
        XCTAssertEqual(try newPhone.groups(), ["Work"])

        // Restoring the same backup again changes nothing.
        let again = try newPhone.importFile(file: backup, password: password)
        XCTAssertEqual(again.report.imported, [])
        XCTAssertEqual(again.report.duplicates.count, 3)
        XCTAssertEqual(try shapes(newPhone), expectedShapes)
    }

    func testPasswordErrorsImportNothing() throws {
        let phone = try phoneWithThreeAccounts()
        assertAuthError(try phone.exportBackup(password: "short")) { error in
            guard case .WeakPassword(let minChars, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(minChars, 8)
        }
        let backup = try phone.exportBackup(password: password)

        assertAuthError(try verifyBackup(file: backup, password: "wrong horse battery")) { error in
            guard case .WrongPassword = error else { return XCTFail("\(error)") }
        }
        let newPhone = try TempVault(self).open()
        assertAuthError(try newPhone.importFile(file: backup, password: "wrong horse battery")) { error in
            guard case .WrongPassword = error else { return XCTFail("\(error)") }
        }
        assertAuthError(try newPhone.previewImport(file: backup, password: "wrong horse battery")) { error in
            guard case .WrongPassword = error else { return XCTFail("\(error)") }
        }
        assertAuthError(try newPhone.importFile(file: backup)) { error in
            guard case .PasswordRequired = error else { return XCTFail("\(error)") }
        }
        assertAuthError(try newPhone.previewImport(file: backup)) { error in
            guard case .PasswordRequired = error else { return XCTFail("\(error)") }
        }
        assertAuthError(try newPhone.importFile(file: Data("hello".utf8))) { error in
            guard case .InvalidImport(let reason, _) = error else { return XCTFail("\(error)") }
            XCTAssertFalse(reason.isEmpty)
        }
        // A modified backup does not open either, even with the right password.
        assertAuthError(try newPhone.importFile(file: try tamperedCiphertext(backup), password: password)) { error in
            guard case .WrongPassword = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try newPhone.listAccounts(), [], "a refused import wrote something")
    }

    /// The backup with one base64 character of its `ciphertext` changed (still valid base64).
    private func tamperedCiphertext(_ backup: Data) throws -> Data {
        var bytes = [UInt8](backup)
        let key = Array(#""ciphertext""#.utf8)
        let quote = UInt8(ascii: "\"")
        let keyAt = try XCTUnwrap(
            (0...(bytes.count - key.count)).first { Array(bytes[$0..<$0 + key.count]) == key },
            "no ciphertext in \(String(decoding: backup, as: UTF8.self))")
        // The value's opening quote, after the colon (the file is pretty-printed JSON).
        let valueAt = try XCTUnwrap(bytes[(keyAt + key.count)...].firstIndex(of: quote))
        let i = valueAt + 1 + 10
        bytes[i] = bytes[i] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        return Data(bytes)
    }

    func testOtpauthUrisPreviewImportAndThenAreDuplicates() throws {
        let phone = try phoneWithThreeAccounts()
        let uris = try phone.exportOtpauthUris()
        XCTAssertEqual(uris.count, 3)
        XCTAssert(uris.allSatisfy { $0.hasPrefix("otpauth://") }, "\(uris)")
        let file = Data(uris.joined(separator: "\n").utf8)

        let newPhone = try TempVault(self).open()
        let preview = try newPhone.previewImport(file: file)
        XCTAssertEqual(preview.format, .uriList)
        XCTAssertEqual(preview.report.imported.count, 3)
        XCTAssertEqual(preview.report.duplicates, [])
        XCTAssertEqual(preview.report.refused, [])
        XCTAssertEqual(try newPhone.listAccounts(), [], "a preview wrote accounts")

        let imported = try newPhone.importFile(file: file)
        XCTAssertEqual(imported.report, preview.report)
        // URIs carry no group.
        XCTAssertEqual(try shapes(newPhone), expectedShapes.map { $0.withoutGroup() })
        XCTAssertEqual(try codeValues(newPhone), try codeValues(phone))

        let again = try newPhone.importFile(file: file)
        XCTAssertEqual(again.report.imported, [])
        XCTAssertEqual(again.report.duplicates, imported.report.imported)
        XCTAssertEqual(try newPhone.listAccounts().count, 3)
    }

    func testOtpauthURIsCanCarrySteamAsTotpWithTheSteamEncoderAndImportBackAsSteam() throws {
        let phone = try phoneWithThreeAccounts()
        let uris = try phone.exportOtpauthUris(steamAsTotp: true)
        let steam = uris.filter { $0.contains("carol") }
        XCTAssertEqual(steam.count, 1, "\(uris)")
        XCTAssert(steam[0].hasPrefix("otpauth://totp/Steam:carol?") && steam[0].hasSuffix("&encoder=steam"), steam[0])

        let newPhone = try TempVault(self).open()
        let result = try newPhone.importFile(file: Data(uris.joined(separator: "\n").utf8))
        XCTAssertEqual(result.format, .uriList)
        // URIs carry no group; Steam stays Steam, with Steam's codes.
        XCTAssertEqual(try shapes(newPhone), expectedShapes.map { $0.withoutGroup() })
        XCTAssertEqual(try codeValues(newPhone), try codeValues(phone))
    }

    func testAGoogleExportLeavesSteamOutWithAWarningAndTheRestImportsBack() throws {
        let phone = try phoneWithThreeAccounts()
        let export = try phone.exportGoogleMigration()
        XCTAssertEqual(export.warnings.count, 1, "\(export.warnings)")
        XCTAssert(export.warnings.first?.contains("Steam") == true, "\(export.warnings)")
        XCTAssertFalse(export.uris.isEmpty)
        XCTAssert(export.uris.allSatisfy { $0.hasPrefix("otpauth-migration://offline?data=") }, "\(export.uris)")

        let newPhone = try TempVault(self).open()
        let result = try newPhone.importFile(file: Data(export.uris.joined(separator: "\n").utf8))
        XCTAssertEqual(result.format, .googleMigration)
        XCTAssertEqual(result.report.imported.count, 2)
        XCTAssertEqual(result.report.refused, [])
        XCTAssertEqual(try shapes(newPhone), expectedShapes.prefix(2).map { $0.withoutGroup() })
        XCTAssertEqual(try codeValues(newPhone), Array(try codeValues(phone).prefix(2)))
    }

    func testAegisAnd2FASExportsEncryptedAndPlainImportBackIntoAnotherVault() throws {
        let phone = try phoneWithThreeAccounts()
        assertAuthError(try phone.exportAegis(password: "short")) { error in
            guard case .WeakPassword = error else { return XCTFail("\(error)") }
        }
        assertAuthError(try phone.exportTwoFas(password: "short")) { error in
            guard case .WeakPassword = error else { return XCTFail("\(error)") }
        }
        let files: [(Data, String?, ImportFormat)] = [
            (try phone.exportAegis(password: password), password, .aegis),
            (try phone.exportAegis(password: nil), nil, .aegis),
            (try phone.exportTwoFas(password: password), password, .twoFas),
            (try phone.exportTwoFas(password: nil), nil, .twoFas),
        ]
        for (file, filePassword, format) in files {
            // Encrypted files hold no secret in clear; plain ones do (the user confirmed).
            let text = String(decoding: file, as: UTF8.self)
            XCTAssertEqual(text.contains("JBSWY3DPEHPK3PXP"), filePassword == nil, "\(format)")
            let newPhone = try TempVault(self).open()
            if filePassword != nil {
                assertAuthError(try newPhone.importFile(file: file)) { error in
                    guard case .PasswordRequired = error else { return XCTFail("\(error)") }
                }
            }
            let result = try newPhone.importFile(file: file, password: filePassword)
            XCTAssertEqual(result.format, format)
            XCTAssertEqual(result.report.imported.count, 3, "\(result.report)")
            XCTAssertEqual(try shapes(newPhone), expectedShapes)
            XCTAssertEqual(try codeValues(newPhone), try codeValues(phone))
        }
    }

    /// ../shared/fixtures/import beside the repository (see its README); skipped without it.
    func testAnEncryptedAegisExportImportsItsSevenAccounts() throws {
        let repo = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent() // AuthenticatorCoreTests
            .deletingLastPathComponent() // Tests
            .deletingLastPathComponent() // ios
            .deletingLastPathComponent() // repository
        let fixtures = repo.appendingPathComponent("../shared/fixtures/import").standardizedFileURL
        let file = fixtures.appendingPathComponent("aegis_encrypted.json")
        guard FileManager.default.isReadableFile(atPath: file.path) else {
            // CI always has ../shared beside the clone: there a missing fixture is a failure.
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                XCTFail("no import fixtures at \(fixtures.path) (CI=true)")
                return
            }
            print("[BackupTests] skipped: no import fixtures at \(fixtures.path)")
            throw XCTSkip("no import fixtures at \(fixtures.path)")
        }

        let app = try TempVault(self).open()
        let bytes = try Data(contentsOf: file)
        assertAuthError(try app.importFile(file: bytes)) { error in
            guard case .PasswordRequired = error else { return XCTFail("\(error)") }
        }
        assertAuthError(try app.importFile(file: bytes, password: "not the password")) { error in
            guard case .WrongPassword = error else { return XCTFail("\(error)") }
        }
        let result = try app.importFile(file: bytes, password: "test")
        XCTAssertEqual(result.format, .aegis)
        XCTAssertEqual(result.report.imported.count, 7, "\(result.report)")
        XCTAssertEqual(result.report.refused, [])
        let accounts = try app.listAccounts()
        XCTAssertEqual(accounts.count, 7)
        XCTAssertEqual([OtpKind.totp, .hotp, .steam].map { kind in accounts.filter { $0.kind == kind }.count }, [3, 3, 1])
        XCTAssertEqual(try app.codes(now: now).count, 7)
    }
}
