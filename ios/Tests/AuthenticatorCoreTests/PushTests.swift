import Foundation
import XCTest

@testable import AuthenticatorCore

/// Push approval end to end against the real privacyIDEA 3.14 test server that run-tests.sh
/// starts (PI_ENV_FILE): the test is the phone; pi_admin.py is the admin and the sign-in page.
final class PushTests: XCTestCase {
    func testApproveASignInEndToEnd() async throws {
        guard let admin = try PrivacyIdeaAdmin.fromEnvironment() else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                XCTFail("PI_ENV_FILE is not set under CI=true: run ios/run-tests.sh, which starts the test server")
                return
            }
            throw XCTSkip("PI_ENV_FILE is not set: run ios/run-tests.sh, which starts the test server")
        }
        let app = try TempVault(self).open()

        // The admin enrolls a push token; the phone scans the QR code's URI.
        let enrollment = try admin.run("enroll-push", "--user", "alice")
        let serial = try XCTUnwrap(enrollment["serial"] as? String)
        let uri = try XCTUnwrap(enrollment["uri"] as? String)
        addTeardownBlock { _ = try? admin.run("delete-token", serial) }
        let token = try await app.enrollPush(uri: uri)
        XCTAssertEqual(token.serial, serial)
        XCTAssertFalse(token.hasPin)
        XCTAssertEqual(try app.pushTokens().map(\.serial), [serial])
        XCTAssertEqual(try app.listAccounts(), [], "a push token is not an OTP account")

        // Someone signs in as alice; the phone polls until the request arrives.
        let trigger = try admin.run("trigger", "--user", "alice")
        let transaction = try XCTUnwrap(trigger["transaction_id"] as? String)
        var request: PushRequest?
        for _ in 0..<40 {
            let poll = try await app.pollPush()
            XCTAssertEqual(poll.failures, [])
            XCTAssertEqual(poll.rejected, [])
            if let first = poll.newRequests.first {
                request = first
                break
            }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
        let pending = try XCTUnwrap(request, "no push request arrived")
        XCTAssertEqual(pending.serial, serial)
        XCTAssertEqual(pending.tokenId, token.id)
        XCTAssertEqual(pending.state, .pending)
        XCTAssertFalse(pending.question.isEmpty)
        XCTAssertNil(pending.choices)
        XCTAssertFalse(pending.requiresPin)
        XCTAssertEqual(try app.pendingPushRequests().map(\.id), [pending.id])

        // The user approves; the sign-in page sees it and completes the login.
        try await app.approve(requestId: pending.id)
        let status = try admin.run("status", transaction)
        XCTAssertEqual(status["status"] as? String, "accept")
        let finish = try admin.run("finish", "--user", "alice", transaction)
        XCTAssertEqual(finish["authenticated"] as? Bool, true)

        // Answered once: a second approval is refused locally; the history records the decision.
        do {
            try await app.approve(requestId: pending.id)
            XCTFail("a request was approved twice")
        } catch let error as AuthError {
            guard case .AlreadyAnswered = error else { return XCTFail("\(error)") }
            // A case without fields of its own still says what went wrong.
            XCTAssert(error.description.contains("already answered"), error.description)
            XCTAssert(error.localizedDescription.contains("already answered"), error.localizedDescription)
        }
        XCTAssertEqual(try app.pendingPushRequests(), [])
        let history = try app.pushHistory(limit: 10)
        XCTAssertEqual(history.first?.serial, serial)
        XCTAssertEqual(history.first?.decision, .approved)

        // Enrolling the same token again is a typed error, not a crash.
        do {
            _ = try await app.enrollPush(uri: uri)
            XCTFail("the same token was enrolled twice")
        } catch let error as AuthError {
            guard case .AlreadyEnrolled(serial, _) = error else { return XCTFail("\(error)") }
        }
    }

    /// A tiqr sign-in against the real eduMFA 2.9.5 test server (EDUMFA_ENV_FILE): enroll from the
    /// tiqrenroll:// code, scan the login's tiqrauth:// code, approve; the login completes.
    func testTiqrSignInEndToEnd() async throws {
        guard let admin = try PrivacyIdeaAdmin.fromEnvironment("EDUMFA_ENV_FILE") else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                XCTFail("EDUMFA_ENV_FILE is not set under CI=true: run ios/run-tests.sh, which starts the test server")
                return
            }
            throw XCTSkip("EDUMFA_ENV_FILE is not set: run ios/run-tests.sh, which starts the test server")
        }
        let app = try TempVault(self).open()
        let enrollment = try admin.run("enroll-push", "--type", "tiqr", "--user", "alice")
        let serial = try XCTUnwrap(enrollment["serial"] as? String)
        addTeardownBlock { _ = try? admin.run("delete-token", serial) }
        let token = try await app.enrollPush(uri: try XCTUnwrap(enrollment["uri"] as? String))
        XCTAssertEqual(token.protocol, .tiqr)
        XCTAssertEqual(token.keyType, .ocraSecret)

        let trigger = try admin.run("trigger", "--user", "alice")
        let transaction = try XCTUnwrap(trigger["transaction_id"] as? String)
        let detail = try XCTUnwrap((trigger["response"] as? [String: Any])?["detail"] as? [String: Any])
        let challenges = try XCTUnwrap(detail["multi_challenge"] as? [[String: Any]])
        let code = try XCTUnwrap(
            challenges.compactMap { ($0["attributes"] as? [String: Any])?["value"] as? String }
                .first { $0.hasPrefix("tiqrauth://") })

        do {
            _ = try app.scanSignIn(uri: code.replacingOccurrences(of: "tiqrauth://alice", with: "tiqrauth://mallory"))
            XCTFail("a code for an identity not held here was accepted")
        } catch let error as AuthError {
            guard case .UnknownIdentity = error else { return XCTFail("\(error)") }
        }
        let request = try app.scanSignIn(uri: code)
        XCTAssertEqual(request.state, .pending)
        try await app.approve(requestId: request.id)
        XCTAssertEqual(try admin.run("status", transaction)["status"] as? String, "accept")
        XCTAssertEqual(try admin.run("finish", "--user", "alice", transaction)["authenticated"] as? Bool, true)
    }
}
