package org.authenticator.core.android

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.conflate
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.flowOn
import org.authenticator.core.Authenticator
import org.authenticator.core.CodeRecord

/**
 * Every account's codes now, then again each time any account's code changes: at the next period
 * boundary of the account whose code expires first (30 s and 60 s accounts give emissions at :00
 * and :30, not one a second). One FFI call per emission (`codes(now)`), so the code, the next code
 * and `secondsLeft` of a list always agree; a countdown UI derives its seconds from `validUntil`.
 *
 * ```kotlin
 * lifecycleScope.launch {
 *     repeatOnLifecycle(Lifecycle.State.STARTED) {
 *         authenticator.codeUpdates().collect { codes -> adapter.submit(codes) }
 *     }
 * }
 * ```
 *
 * - **Clock changes.** Between emissions the flow wakes at most every
 *   [CodeTicker.CLOCK_CHECK_MILLIS] to read the clock (no FFI call): when the wall clock has
 *   jumped past the next boundary, or back before the last emission (the user or the network
 *   changed the time), it emits the codes for the new time at once instead of waiting out a
 *   delay measured on the old one.
 * - **Cancellation.** Cancelling the collector stops the flow at its next suspension point; no
 *   call into the core happens after that.
 * - **Slow collectors.** Conflated: a collector that falls behind gets the newest codes, never a
 *   backlog of stale lists.
 * - **Accounts changed.** The flow does not watch the vault: after adding, removing or importing
 *   accounts, collect anew (or restart it from your own change signal). Only HOTP accounts, or none:
 *   one emission every [CodeTicker.IDLE_MILLIS], since no code expires.
 * - **Errors.** A failure of `codes` (an `AuthException`) ends the flow with that exception.
 *
 * The work runs on [dispatcher] (SQLite reads: never the main thread). Uses no `java.time`, so it
 * runs from API 24 without desugaring.
 *
 * @param clock the wall clock in milliseconds since the Unix epoch (a parameter for tests).
 * @param dispatcher where `codes` is called; [Dispatchers.IO] by default.
 */
@JvmOverloads
fun Authenticator.codeUpdates(
    clock: () -> Long = System::currentTimeMillis,
    dispatcher: CoroutineDispatcher = Dispatchers.IO,
): Flow<List<CodeRecord>> = flow {
    while (true) {
        val emittedAt = clock().floorDiv(1000L)
        val codes = codes(emittedAt)
        emit(codes)
        val boundary = nextBoundary(emittedAt, codes)
        // Sleep towards the boundary in slices, re-reading the wall clock after each one.
        while (true) {
            val nowMillis = clock()
            val now = nowMillis.floorDiv(1000L)
            if (now >= boundary || now < emittedAt) break
            val untilBoundary = boundary * 1000L - nowMillis
            delay(minOf(untilBoundary, CodeTicker.CLOCK_CHECK_MILLIS))
        }
    }
}.conflate().flowOn(dispatcher)

/** The Unix second at which the first of [codes] expires; [CodeTicker.IDLE_MILLIS] on when none does. */
private fun nextBoundary(now: Long, codes: List<CodeRecord>): Long {
    // secondsLeft counts from `now` on the vault's corrected clock, so it is also the distance
    // on the device's clock (validUntil includes the vault's clock offset and is not).
    val soonest = codes.filter { it.secondsLeft > 0 }.minOfOrNull { it.secondsLeft.toLong() }
    return now + (soonest ?: (CodeTicker.IDLE_MILLIS / 1000L))
}

/** The timing constants of [codeUpdates]. */
object CodeTicker {
    /** How often [codeUpdates] reads the wall clock between emissions, to notice it being changed. */
    const val CLOCK_CHECK_MILLIS: Long = 1_000L

    /** How often [codeUpdates] emits when no account has a code that expires (HOTP only, or none). */
    const val IDLE_MILLIS: Long = 30_000L
}
