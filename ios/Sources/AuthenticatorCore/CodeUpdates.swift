import Foundation

extension Authenticator {
    /// Every account's code now, then again at the start of each following second, for a code
    /// list that ticks: one FFI call per tick (`codes(now:)`), so the countdown, the code and the
    /// next code always agree.
    ///
    /// ```swift
    /// for try await codes in authenticator.codeUpdates() {
    ///     self.codes = codes          // on the main actor
    /// }
    /// ```
    ///
    /// The stream ends when the consuming task is cancelled, and throws the first `AuthError`.
    /// Only the newest tick is buffered: a consumer that falls behind skips to the current codes.
    /// `now` is the clock in Unix seconds (a parameter for tests).
    public func codeUpdates(
        now: @escaping @Sendable () -> TimeInterval = { Date().timeIntervalSince1970 }
    ) -> AsyncThrowingStream<[CodeRecord], Error> {
        AsyncThrowingStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let task = Task { [self] in
                do {
                    while !Task.isCancelled {
                        let time = now()
                        // Whole seconds; a clock the core cannot use (before 1970, NaN, beyond
                        // Int64) becomes -1, which it refuses with `AuthError.InvalidArgument`.
                        continuation.yield(try codes(now: Int64(exactly: time.rounded(.down)) ?? -1))
                        // Sleep to just past the next whole second.
                        let wait = 1.0 - time.truncatingRemainder(dividingBy: 1.0) + 0.005
                        try await Task.sleep(nanoseconds: UInt64(wait * 1_000_000_000))
                    }
                    continuation.finish()
                } catch is CancellationError {
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
