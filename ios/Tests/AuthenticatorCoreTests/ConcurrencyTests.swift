import Foundation
import XCTest

@testable import AuthenticatorCore

/// One `Authenticator` shared by several Swift tasks, as a UI and a push service would.
final class ConcurrencyTests: XCTestCase {
    func testTasksAddAccountsAndReadCodesAtOnce() async throws {
        let vault = try TempVault(self)
        let app = try vault.open()
        let secret = base32("12345678901234567890")
        let tasks = 6
        let perTask = 15

        let reads = try await withThrowingTaskGroup(of: Int.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    var reads = 0
                    for i in 0..<perTask {
                        _ = try app.addAccountFromUri(
                            uri: "otpauth://totp/Task\(t):account\(i)?secret=\(secret)&digits=8")
                        let codes = try app.codes(now: 59)
                        XCTAssert(codes.allSatisfy { $0.value == "94287082" })
                        reads += codes.count
                    }
                    return reads
                }
            }
            // A reader that only reads, meanwhile.
            group.addTask {
                var reads = 0
                for _ in 0..<50 {
                    reads += try app.listAccounts().count
                    await Task.yield()
                }
                return reads
            }
            return try await group.reduce(0, +)
        }
        XCTAssertGreaterThan(reads, tasks * perTask)
        let accounts = try app.listAccounts()
        XCTAssertEqual(accounts.count, tasks * perTask)
        XCTAssertEqual(Set(accounts.map(\.id)).count, tasks * perTask)
        XCTAssertEqual(try app.codes(now: 59).count, tasks * perTask)

        // A second handle on the same file (another process, an app extension) sees them all.
        XCTAssertEqual(try vault.open().listAccounts().count, tasks * perTask)
    }

    func testAsyncCallsFromManyTasks() async throws {
        let app = try TempVault(self).open()
        // Polling with no push tokens: an async call that touches no network.
        try await withThrowingTaskGroup(of: PollResult.self) { group in
            for _ in 0..<8 {
                group.addTask { try await app.pollPush(pins: [:]) }
            }
            for try await result in group {
                XCTAssertEqual(result.newRequests, [])
                XCTAssertEqual(result.failures, [])
            }
        }
    }
}
