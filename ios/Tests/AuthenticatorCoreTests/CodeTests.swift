import Foundation
import XCTest

@testable import AuthenticatorCore

/// Codes as an app shows them: accounts added from otpauth:// URIs, codes from `codes(now:)`.
final class CodeTests: XCTestCase {
    /// RFC 6238 appendix B, T = 59 s, 8 digits, with the RFC's seed for each hash.
    func testRfc6238VectorsForEveryAlgorithm() throws {
        let vault = try TempVault(self)
        let app = try vault.open()
        let cases: [(algorithm: String, seed: String, code: String, expected: Algorithm)] = [
            ("SHA1", "12345678901234567890", "94287082", .sha1),
            ("SHA256", "12345678901234567890123456789012", "46119246", .sha256),
            ("SHA512", "1234567890123456789012345678901234567890123456789012345678901234", "90693936", .sha512),
        ]
        var expectedCodes: [Int64: String] = [:]
        for c in cases {
            let uri = "otpauth://totp/RFC6238:\(c.algorithm)?secret=\(base32(c.seed))&issuer=RFC6238"
                + "&algorithm=\(c.algorithm)&digits=8&period=30"
            let account = try app.addAccountFromUri(uri: uri)
            XCTAssertEqual(account.issuer, "RFC6238")
            XCTAssertEqual(account.label, c.algorithm)
            XCTAssertEqual(account.kind, .totp)
            XCTAssertEqual(account.algorithm, c.expected)
            XCTAssertEqual(account.digits, 8)
            XCTAssertEqual(account.period, 30)
            XCTAssertEqual(account.iconHint, "rfc6238")
            expectedCodes[account.id] = c.code
        }

        let codes = try app.codes(now: 59)
        XCTAssertEqual(codes.count, 3)
        for code in codes {
            XCTAssertEqual(code.value, expectedCodes[code.accountId], "account \(code.accountId)")
            XCTAssertEqual(code.validFrom, 30)
            XCTAssertEqual(code.validUntil, 60)
            XCTAssertEqual(code.secondsLeft, 1)
            XCTAssertEqual(code.period, 30)
            XCTAssertEqual(code.kind, .totp)
        }
        // The next code is the one for T = 60..89 (RFC 6238 lists none for it, so compare
        // with the current code one period later).
        let later = try app.codes(now: 60)
        XCTAssertEqual(codes.map(\.nextValue), later.map(\.value))
        XCTAssertEqual(later.first?.secondsLeft, 30)

        // The account list never carries the secret.
        let listed = "\(try app.listAccounts())"
        XCTAssertFalse(listed.contains(base32(cases[0].seed)))
    }

    /// RFC 4226 appendix D: counter 0 → 755224, 1 → 287082. Taking a code advances the counter.
    func testHotpCounterAdvancesOnlyWhenACodeIsTaken() throws {
        let vault = try TempVault(self)
        let app = try vault.open()
        let account = try app.addAccountFromUri(
            uri: "otpauth://hotp/Corp:bob?secret=\(base32("12345678901234567890"))&counter=0&issuer=Corp")
        XCTAssertEqual(account.kind, .hotp)
        XCTAssertEqual(account.counter, 0)

        let shown = try XCTUnwrap(app.codes(now: 1_700_000_000).first)
        XCTAssertEqual(shown.value, "755224")
        XCTAssertEqual(shown.nextValue, "287082")
        XCTAssertEqual(shown.secondsLeft, 0)
        XCTAssertEqual(try app.codes(now: 1_700_000_100).first?.value, "755224", "showing does not advance")

        let taken = try app.takeCode(id: account.id, now: 1_700_000_000)
        XCTAssertEqual(taken.value, "755224")
        XCTAssertEqual(try app.codes(now: 1_700_000_000).first?.value, "287082")
        XCTAssertEqual(try app.listAccounts().first?.counter, 1)
        XCTAssertNotNil(try app.listAccounts().first?.lastUsedAt)

        // The counter survives reopening the vault.
        let reopened = try vault.open()
        XCTAssertEqual(try reopened.takeCode(id: account.id, now: 1_700_000_000).value, "287082")
    }

    func testAccountTypedInByHand() throws {
        let app = try TempVault(self).open()
        let fields = AccountFields(
            issuer: "Example", label: "carol", kind: .totp, algorithm: .sha1,
            digits: 8, group: "Work")
        // As services print it: lower case, spaces.
        let account = try app.addAccount(fields: fields, secretBase32: "gezd gnbv gy3t qojq gezd gnbv gy3t qojq")
        XCTAssertEqual(try app.codes(now: 59).first?.value, "94287082")
        XCTAssertEqual(account.group, "Work")
        XCTAssertEqual(try app.groups(), ["Work"])
    }
}

final class PackageTests: XCTestCase {
    /// The package (generated bindings included) builds in the Swift 6 language mode, with its
    /// complete data-race checking.
    func testBuiltInTheSwift6LanguageMode() {
        #if swift(>=6.0)
        let languageMode = 6
        #else
        let languageMode = 5
        #endif
        XCTAssertEqual(languageMode, 6)
    }
}
