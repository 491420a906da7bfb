import Foundation
import XCTest

@testable import AuthenticatorCore

/// The clock through the Swift bindings: a real UDP SNTP server on 127.0.0.1
/// (tests/clock/sntp_server.py, this machine's clock); the phone's wrong clock is simulated by
/// passing a wrong `nowMs`.
final class ClockTests: XCTestCase {
    /// Starts the SNTP server with `arguments`; returns "127.0.0.1:PORT". Stopped at teardown.
    private func sntpServer(_ arguments: [String] = []) throws -> String {
        let repository = ProcessInfo.processInfo.environment["AUTHENTICATOR_REPO"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent() // AuthenticatorCoreTests
            .deletingLastPathComponent() // Tests
            .deletingLastPathComponent() // ios
            .deletingLastPathComponent() // repository
        let script = repository.appendingPathComponent("tests/clock/sntp_server.py").path
        let process = Process()
        if let python = ProcessInfo.processInfo.environment["PI_ADMIN_PYTHON"] {
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [script] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script] + arguments
        }
        let stdout = Pipe()
        process.standardOutput = stdout
        try process.run()
        addTeardownBlock { process.terminate() }
        let port = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertNotNil(Int(port), "the SNTP server printed \(port)")
        return "127.0.0.1:\(port)"
    }

    private func nowMs() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }

    func testAnNtpCheckCorrectsCodesAndWarns() async throws {
        let app = try TempVault(self).open()
        _ = try app.addAccountFromUri(uri: "otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP")
        XCTAssertTrue(try app.clockStatus().automatic)
        let server = try sntpServer()
        let status = try await app.checkClock(nowMs: nowMs() + 90_000, ntpServer: server)
        let measured = try XCTUnwrap(status.lastMeasurement)
        XCTAssertEqual(measured.source, .ntp)
        XCTAssertLessThanOrEqual(abs(measured.offsetMs + 90_000), 500, "\(measured)")
        XCTAssertEqual(status.offsetSeconds, -90)
        XCTAssertEqual(status.warning, "your clock is 90 s ahead; codes are corrected")
        let now = Int64(Date().timeIntervalSince1970)
        XCTAssertTrue(try app.codes(now: now).allSatisfy(\.clockCorrected))
        try app.setClockAutomatic(automatic: false)
        XCTAssertEqual(try app.clockStatus().offsetSeconds, 0)
        XCTAssertFalse(try app.codes(now: now).contains(where: \.clockCorrected))
    }

    func testAnHourFromOneSourceIsProposedAndInForceOnceAccepted() async throws {
        let app = try TempVault(self).open()
        let server = try sntpServer()
        let status = try await app.checkClock(nowMs: nowMs() + 3_600_000, ntpServer: server)
        let proposal = try XCTUnwrap(status.proposal)
        XCTAssertEqual(proposal.source, .ntp)
        XCTAssertEqual(status.offsetSeconds, 0)
        XCTAssertLessThanOrEqual(abs(proposal.offsetMs + 3_600_000), 500, "\(proposal)")
        XCTAssert(status.warning?.hasPrefix("NTP says your clock is 60 min 0 s ahead; not applied") == true, "\(status)")
        let accepted = try app.clockAcceptProposal()
        XCTAssertEqual(accepted.offsetSeconds, -3600)
        XCTAssertEqual(accepted.offsetSource, .ntp)
        XCTAssertNil(accepted.proposal)
        XCTAssertEqual(try app.clockOffset(), -3600)
        do {
            _ = try app.clockAcceptProposal()
            XCTFail("a second accept found a proposal")
        } catch let error as AuthError {
            guard case .InvalidArgument = error else { return XCTFail("\(error)") }
        }
    }

    func testAKissOfDeathIsATimeSourceErrorAndChangesNothing() async throws {
        let app = try TempVault(self).open()
        try app.setClockOffset(seconds: 7)
        let server = try sntpServer(["--stratum", "0", "--code", "RATE"])
        do {
            _ = try await app.checkClock(nowMs: nowMs(), ntpServer: server)
            XCTFail("a kiss-of-death was accepted")
        } catch let error as AuthError {
            guard case .TimeSource(let reason, _) = error else { return XCTFail("\(error)") }
            XCTAssert(reason.contains("RATE"), reason)
        }
        XCTAssertEqual(try app.clockOffset(), 7)
        do {
            _ = try await app.checkClock(nowMs: nowMs(), httpsUrl: "http://time.example.com/")
            XCTFail("plain http to another host was accepted")
        } catch let error as AuthError {
            guard case .Protocol = error else { return XCTFail("\(error)") }
        }
    }
}
