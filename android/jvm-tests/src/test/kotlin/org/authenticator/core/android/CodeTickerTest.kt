package org.authenticator.core.android

import android.app.Application
import java.io.File
import java.security.SecureRandom
import java.util.concurrent.atomic.AtomicInteger
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.test.StandardTestDispatcher
import kotlinx.coroutines.test.TestScope
import kotlinx.coroutines.test.advanceTimeBy
import kotlinx.coroutines.test.runCurrent
import kotlinx.coroutines.test.runTest
import org.authenticator.core.AuthException
import org.authenticator.core.Authenticator
import org.authenticator.core.CodeRecord
import org.junit.After
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config

/**
 * `Authenticator.codeUpdates()` with a virtual clock: coroutine time from kotlinx-coroutines-test
 * (delays take no real time), and a wall clock that follows it plus whatever jumps a test makes.
 */
@OptIn(ExperimentalCoroutinesApi::class)
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [24, 34])
class CodeTickerTest {
    private lateinit var context: Application
    private lateinit var auth: Authenticator

    @Before
    fun setUp() {
        context = RuntimeEnvironment.getApplication()
        val key = ByteArray(32).also { SecureRandom().nextBytes(it) }
        auth = Authenticator(File(context.noBackupFilesDir, "ticker.db").path, key)
    }

    @After
    fun tearDown() {
        auth.close()
    }

    /** The wall clock of a test: a start time, coroutine time since, and jumps. */
    private class VirtualClock(private val scope: TestScope, startMillis: Long) {
        @Volatile var offset = startMillis
        val reads = AtomicInteger()
        fun now(): Long {
            reads.incrementAndGet()
            return offset + scope.testScheduler.currentTime
        }
    }

    /** Start of the 30 s window holding [second]. */
    private fun window(second: Long) = second - second % 30

    private fun totp(period: Int) = auth.addAccountFromUri(
        "otpauth://totp/Ticker:p$period?secret=${BindingsTest.RFC_SEED}&period=$period&issuer=Ticker"
    )

    /**
     * Emissions of the flow as (wall second, codes), collected from its first emission while [run]
     * moves virtual time (and perhaps the wall clock) on; the collector is cancelled after.
     */
    private fun TestScope.emissionsWhile(clock: VirtualClock, run: () -> Unit): List<Pair<Long, List<CodeRecord>>> {
        val seen = mutableListOf<Pair<Long, List<CodeRecord>>>()
        val job = launch {
            auth.codeUpdates(clock::now, StandardTestDispatcher(testScheduler)).collect { codes ->
                seen += (clock.now() / 1000) to codes
            }
        }
        runCurrent()
        run()
        runCurrent()
        job.cancel()
        return seen
    }

    /** Emissions of the flow as (wall second, codes), collected while virtual time runs. */
    private fun TestScope.emissions(clock: VirtualClock, runFor: Long) = emissionsWhile(clock) { advanceTimeBy(runFor) }

    /** The start of the window of each emission's single code, collected while [run] runs. */
    private fun TestScope.windowsWhile(clock: VirtualClock, run: () -> Unit): List<Long> =
        emissionsWhile(clock, run).map { (_, codes) -> codes.single().validFrom }

    @Test
    fun emits_at_once_then_at_each_period_boundary_of_any_account_not_every_second() = runTest {
        totp(30)
        totp(45)
        val start = 1_000_000_005L
        val clock = VirtualClock(this, start * 1000 + 400)
        val seen = emissions(clock, runFor = 120_000)

        val boundaries = (start + 1..start + 120).filter { it % 30 == 0L || it % 45 == 0L }
        assertEquals(listOf(start) + boundaries, seen.map { it.first })
        // Each emission holds codes for its own second: every account's window contains it.
        for ((second, codes) in seen) {
            assertEquals(2, codes.size)
            for (code in codes) assertTrue(second in code.validFrom until code.validUntil, "$second in $code")
        }
        // Wake-ups read the clock (at most one a second), but call the core only per emission.
        assertTrue(clock.reads.get() <= 2 * 121 + seen.size)
    }

    @Test
    fun emits_codes_equal_to_a_direct_call_at_the_same_second() = runTest {
        val account = totp(30)
        val clock = VirtualClock(this, 59_000L)
        val first = auth.codeUpdates(clock::now, StandardTestDispatcher(testScheduler)).first()
        assertEquals(auth.codes(59L), first)
        assertEquals("287082", first.single { it.accountId == account.id }.value) // RFC 6238, 6 digits
    }

    @Test
    fun without_expiring_codes_it_emits_every_idle_period() = runTest {
        auth.addAccountFromUri("otpauth://hotp/Ticker:h?secret=${BindingsTest.RFC_SEED}&counter=0")
        val clock = VirtualClock(this, 2_000_000_000_000L)
        val seen = emissions(clock, runFor = 3 * CodeTicker.IDLE_MILLIS)
        assertEquals(listOf(0L, 30L, 60L, 90L), seen.map { it.first - 2_000_000_000L })
    }

    @Test
    fun cancelling_the_collector_stops_the_flow_and_its_calls() = runTest {
        totp(30)
        val clock = VirtualClock(this, 10_000L)
        var emitted = 0
        val job = launch {
            auth.codeUpdates(clock::now, StandardTestDispatcher(testScheduler)).collect { emitted++ }
        }
        runCurrent()
        advanceTimeBy(25_000) // emissions at 10 s and 30 s
        runCurrent()
        assertEquals(2, emitted)
        job.cancel()
        runCurrent()
        assertTrue(job.isCancelled && job.isCompleted)
        val readsAtCancel = clock.reads.get()
        advanceTimeBy(600_000)
        runCurrent()
        assertEquals(2, emitted)
        assertEquals(readsAtCancel, clock.reads.get(), "nothing runs after cancellation")
    }

    @Test
    fun a_wall_clock_jumping_forward_emits_the_new_codes_within_a_second() = runTest {
        totp(30)
        val clock = VirtualClock(this, 1_000_000_000_000L)
        val seen = windowsWhile(clock) {
            advanceTimeBy(5_000)
            clock.offset += 3_600_000 // the user sets the clock an hour ahead
            advanceTimeBy(1_001)
        }
        assertEquals(listOf(window(1_000_000_000L), window(1_000_003_605L)), seen)
    }

    @Test
    fun a_wall_clock_jumping_back_emits_the_codes_of_the_earlier_time() = runTest {
        totp(30)
        val clock = VirtualClock(this, 1_000_000_020_000L)
        val seen = windowsWhile(clock) {
            clock.offset -= 120_000 // back two minutes (network time correcting a fast clock)
            advanceTimeBy(1_001)
        }
        assertEquals(listOf(window(1_000_000_020L), window(999_999_900L)), seen)
    }

    @Test
    fun a_core_error_ends_the_flow_with_the_typed_exception() = runTest {
        val clock = VirtualClock(this, -5_000L) // before 1970: the core refuses the time
        assertFailsWith<AuthException.InvalidArgument> {
            auth.codeUpdates(clock::now, StandardTestDispatcher(testScheduler)).take(1).toList()
        }
    }
}
