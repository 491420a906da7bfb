import Foundation
import XCTest

@testable import AuthenticatorCore

/// A wall clock for `codeUpdates(now:sleep:)`: sleeping moves it forward at once, and a test may
/// schedule jumps (the user or the network changing the time) at given points of virtual time.
final class VirtualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var elapsed: TimeInterval = 0
    private var offset: TimeInterval
    private var jumps: [(after: TimeInterval, by: TimeInterval)] = []
    private(set) var reads = 0
    private(set) var sleeps = 0

    init(start: TimeInterval) { offset = start }

    func now() -> TimeInterval {
        lock.lock()
        defer { lock.unlock() }
        reads += 1
        return offset + elapsed
    }

    func sleep(_ seconds: TimeInterval) async throws {
        try Task.checkCancellation()
        advance(seconds)
    }

    private func advance(_ seconds: TimeInterval) {
        lock.lock()
        defer { lock.unlock() }
        precondition(seconds > 0 && seconds <= CodeUpdates.clockCheckInterval, "slept \(seconds) s")
        sleeps += 1
        elapsed += seconds
        while let jump = jumps.first, jump.after <= elapsed {
            offset += jump.by
            jumps.removeFirst()
        }
    }

    /// Moves the wall clock by `seconds` once `after` seconds of virtual time have passed.
    func jump(after: TimeInterval, by seconds: TimeInterval) {
        lock.lock()
        defer { lock.unlock() }
        jumps.append((after, seconds))
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }

    func increment() {
        lock.lock()
        defer { lock.unlock() }
        count += 1
    }
}

final class CodeUpdatesTests: XCTestCase {
    private let seed = base32("12345678901234567890")

    private func vault(periods: [Int]) throws -> Authenticator {
        let app = try TempVault(self).open()
        for period in periods {
            _ = try app.addAccountFromUri(
                uri: "otpauth://totp/Ticker:p\(period)?secret=\(seed)&period=\(period)&issuer=Ticker")
        }
        return app
    }

    /// Start of the 30 s window holding `second`.
    private func window(_ second: Int64) -> Int64 { second - second % 30 }

    private func updates(_ app: Authenticator, _ clock: VirtualClock) -> CodeUpdates {
        app.codeUpdates(now: { clock.now() }, sleep: { try await clock.sleep($0) })
    }

    func testEmitsAtOnceThenAtEachPeriodBoundaryOfAnyAccountNotEverySecond() async throws {
        let app = try vault(periods: [30, 45])
        let start: Int64 = 1_000_000_005
        let clock = VirtualClock(start: TimeInterval(start) + 0.4)
        var seconds: [Int64] = []
        for try await codes in updates(app, clock) {
            let second = Int64(clock.now().rounded(.down))
            if second > start + 120 { break }
            seconds.append(second)
            XCTAssertEqual(codes.count, 2)
            for code in codes {
                XCTAssert(code.validFrom <= second && second < code.validUntil, "\(second) in \(code.validFrom)..<\(code.validUntil)")
            }
        }
        let boundaries = (start + 1...start + 120).filter { $0 % 30 == 0 || $0 % 45 == 0 }
        XCTAssertEqual(seconds, [start] + boundaries)
        // Slices of at most a second, plus short ones up to each boundary: no busy loop.
        XCTAssertLessThanOrEqual(clock.sleeps, 2 * 121)
    }

    func testAFixedClockGivesTheCodesOfThatSecond() async throws {
        let app = try vault(periods: [30])
        var iterator = app.codeUpdates(now: { 59.5 }).makeAsyncIterator()
        let fixed = try await iterator.next()
        XCTAssertEqual(fixed, try app.codes(now: 59))
        XCTAssertEqual(fixed?.first?.value, "287082") // RFC 6238's 94287082 at 6 digits
        XCTAssertEqual(fixed?.first?.secondsLeft, 1)
    }

    func testWithoutExpiringCodesItEmitsEveryIdleInterval() async throws {
        let app = try vault(periods: [])
        _ = try app.addAccountFromUri(uri: "otpauth://hotp/Ticker:h?secret=\(seed)&counter=0")
        let clock = VirtualClock(start: 2_000_000_000)
        var seconds: [Int64] = []
        for try await _ in updates(app, clock) {
            seconds.append(Int64(clock.now()) - 2_000_000_000)
            if seconds.count == 4 { break }
        }
        XCTAssertEqual(seconds, [0, 30, 60, 90])
    }

    func testAWallClockJumpingForwardEmitsTheNewCodesWithinASecond() async throws {
        let app = try vault(periods: [30])
        let clock = VirtualClock(start: 1_000_000_000)
        clock.jump(after: 5, by: 3_600) // the user sets the clock an hour ahead
        var windows: [Int64] = []
        var emittedAt: [Int64] = []
        for try await codes in updates(app, clock) {
            windows.append(try XCTUnwrap(codes.first).validFrom)
            emittedAt.append(Int64(clock.now()))
            if windows.count == 2 { break }
        }
        XCTAssertEqual(windows, [window(1_000_000_000), window(1_000_003_605)])
        XCTAssertEqual(emittedAt, [1_000_000_000, 1_000_003_605])
    }

    func testAWallClockJumpingBackEmitsTheCodesOfTheEarlierTime() async throws {
        let app = try vault(periods: [30])
        let clock = VirtualClock(start: 1_000_000_020)
        clock.jump(after: 1, by: -120) // network time corrects a fast clock
        var windows: [Int64] = []
        for try await codes in updates(app, clock) {
            windows.append(try XCTUnwrap(codes.first).validFrom)
            if windows.count == 2 { break }
        }
        XCTAssertEqual(windows, [window(1_000_000_020), window(999_999_901)])
    }

    /// With the real clock and `Task.sleep`: cancelling the consuming task ends the sequence.
    func testCancellingTheConsumerEndsTheSequence() async throws {
        let app = try vault(periods: [30])
        let emissions = Counter()
        let consumer = Task {
            for try await _ in app.codeUpdates() { emissions.increment() }
        }
        for _ in 0..<200 where emissions.value == 0 {
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        XCTAssertGreaterThanOrEqual(emissions.value, 1, "the first emission came at once")
        consumer.cancel()
        try await consumer.value // returns: the sequence ended instead of throwing or hanging
        let atCancel = emissions.value
        try await Task.sleep(nanoseconds: 200_000_000)
        XCTAssertEqual(emissions.value, atCancel)
    }

    func testACoreErrorIsThrownAsTheTypedError() async throws {
        let app = try vault(periods: [30])
        var iterator = app.codeUpdates(now: { -5 }).makeAsyncIterator()
        do {
            _ = try await iterator.next()
            XCTFail("a time before 1970 was accepted")
        } catch let error as AuthError {
            guard case .InvalidArgument = error else { return XCTFail("got \(error)") }
        }
    }
}
