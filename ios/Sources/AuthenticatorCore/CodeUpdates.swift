import Foundation

extension Authenticator {
    /// Every account's codes now, then again each time any account's code changes: at the next
    /// period boundary of the account whose code expires first (30 s and 60 s accounts give
    /// emissions at :00 and :30, not one a second). One FFI call per emission (`codes(now:)`), so
    /// the code, the next code and `secondsLeft` of a list always agree; a countdown derives its
    /// seconds from `validUntil`.
    ///
    /// ```swift
    /// for try await codes in authenticator.codeUpdates() {
    ///     self.codes = codes          // on the main actor
    /// }
    /// ```
    ///
    /// - Clock changes: between emissions the sequence wakes at most every
    ///   `CodeUpdates.clockCheckInterval` seconds to read the clock (no FFI call); when the wall
    ///   clock has jumped past the next boundary, or back before the last emission, it emits the
    ///   codes for the new time at once.
    /// - Pull-based: nothing runs while the consumer is busy, and a consumer that falls behind
    ///   gets the current codes, never a backlog.
    /// - Cancellation: cancelling the consuming task ends the sequence (`nil`) at its next sleep.
    /// - Accounts changed: the sequence does not watch the vault; iterate anew after adding,
    ///   removing or importing accounts. With no expiring code (HOTP only, or no account), it
    ///   emits every `CodeUpdates.idleInterval` seconds.
    /// - Errors: a failure of `codes(now:)` is thrown (`AuthError`).
    ///
    /// `now` is the wall clock in Unix seconds and `sleep` waits that many seconds (both parameters
    /// for tests: a virtual clock).
    public func codeUpdates(
        now: @escaping @Sendable () -> TimeInterval = { Date().timeIntervalSince1970 },
        sleep: @escaping @Sendable (TimeInterval) async throws -> Void = { seconds in
            try await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1_000_000_000))
        }
    ) -> CodeUpdates {
        CodeUpdates(authenticator: self, now: now, sleep: sleep)
    }
}

/// The codes of every account, emitted at once and then at each period boundary of any account:
/// see `Authenticator.codeUpdates(now:sleep:)`.
public struct CodeUpdates: AsyncSequence, Sendable {
    public typealias Element = [CodeRecord]

    /// Seconds between two readings of the wall clock while waiting for the next boundary.
    public static let clockCheckInterval: TimeInterval = 1
    /// Seconds between emissions when no account has a code that expires.
    public static let idleInterval: Int64 = 30

    let authenticator: Authenticator
    let now: @Sendable () -> TimeInterval
    let sleep: @Sendable (TimeInterval) async throws -> Void

    public func makeAsyncIterator() -> Iterator {
        Iterator(sequence: self)
    }

    public struct Iterator: AsyncIteratorProtocol, Sendable {
        let sequence: CodeUpdates
        /// The Unix second of the last emission, and the second at which its first code expires.
        var emittedAt: Int64?
        var boundary: Int64 = 0

        public mutating func next() async throws -> [CodeRecord]? {
            if let emittedAt {
                while true {
                    if Task.isCancelled { return nil }
                    let time = sequence.now()
                    let second = wholeSecond(time)
                    if second >= boundary || second < emittedAt { break }
                    let wait = Swift.min(Double(boundary) - time, CodeUpdates.clockCheckInterval)
                    do {
                        try await sequence.sleep(wait)
                    } catch is CancellationError {
                        return nil
                    }
                }
            }
            if Task.isCancelled { return nil }
            let second = wholeSecond(sequence.now())
            let codes = try sequence.authenticator.codes(now: second)
            // secondsLeft counts from `second` on the vault's corrected clock, so it is also the
            // distance on this clock (validUntil includes the vault's clock offset).
            let soonest = codes.filter { $0.secondsLeft > 0 }.map { Int64($0.secondsLeft) }.min()
            emittedAt = second
            boundary = second + (soonest ?? CodeUpdates.idleInterval)
            return codes
        }
    }
}

/// Whole seconds; a clock the core cannot use (before 1970, NaN, beyond Int64) becomes -1, which
/// it refuses with `AuthError.InvalidArgument`.
private func wholeSecond(_ time: TimeInterval) -> Int64 {
    Int64(exactly: time.rounded(.down)) ?? -1
}
