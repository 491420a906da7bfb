package org.authenticator.core.ktx

import java.nio.file.Path
import java.time.Instant
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlin.coroutines.EmptyCoroutineContext
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.flow.onEach
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.test.runTest
import kotlinx.coroutines.withTimeout
import org.authenticator.core.AuthException
import org.authenticator.core.Authenticator
import org.authenticator.core.OtpKind
import org.authenticator.core.base32
import org.authenticator.core.newDataKey
import org.authenticator.core.openVault
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

@OptIn(ExperimentalCoroutinesApi::class) // runTest's virtual clock
class KtxTest {
    @TempDir lateinit var dir: Path

    private val sha1Uri = "otpauth://totp/RFC:sha1?secret=${base32("12345678901234567890".toByteArray())}&digits=8&issuer=RFC"

    @Test
    fun `codesFlow emits at once and then on each second boundary of its clock`() =
        runTest {
            openVault(dir).use { auth ->
                auth.addAccountFromUri(sha1Uri)
                // Virtual time: the flow starts 250 ms before t=59 s.
                val start = 58_750L
                val clock = { start + testScheduler.currentTime }
                val emittedAt = mutableListOf<Long>()
                val lists =
                    auth
                        .codesFlow(clock, context = EmptyCoroutineContext)
                        .onEach { emittedAt += testScheduler.currentTime }
                        .take(3)
                        .toList()
                assertEquals(3, lists.size)
                // t=58 and t=59 share the window [30, 60); t=60 starts the next one.
                assertEquals(listOf("94287082", "94287082"), lists.take(2).map { it.single().value })
                assertEquals(listOf(2, 1, 30), lists.map { it.single().secondsLeft })
                assertEquals(listOf(30L, 30L, 60L), lists.map { it.single().validFrom })
                assertTrue(lists[2].single().value != "94287082")
                // 58.75 → 59.00 → 60.00: at once, 250 ms later, then 1 s later.
                assertEquals(listOf(0L, 250L, 1250L), emittedAt)
            }
        }

    @Test
    fun `codesFlow ticks in real time`() {
        openVault(dir).use { auth ->
            auth.addAccountFromUri(sha1Uri)
            val (first, second) =
                runBlocking {
                    withTimeout(5.seconds) {
                        auth.codesFlow().take(2).toList().map { it.single() }
                    }
                }
            // Two different seconds: the countdown moved on (or the window rolled over).
            assertTrue(first.secondsLeft != second.secondsLeft || first.validFrom != second.validFrom, "$first $second")
            assertEquals(OtpKind.TOTP, second.kind)
        }
    }

    @Test
    fun `a closed handle ends codesFlow with its exception`() {
        val auth = openVault(dir)
        auth.close()
        assertThrows<IllegalStateException> { runBlocking { auth.codesFlow().take(1).toList() } }
    }

    @Test
    fun `open, codes at an Instant, and the display helpers`() =
        runBlocking {
            val key = newDataKey()
            Authenticator.open(dir.resolve("v.db"), key).use { auth ->
                val account = auth.addAccountFromUri(sha1Uri)
                assertEquals("RFC (sha1)", account.displayName)
                val code = auth.codes(Instant.ofEpochSecond(59)).single()
                assertEquals("94287082", code.value)
                assertEquals(code, auth.codes(59L).single())
                assertEquals("9428 7082", code.grouped())
                assertEquals(1f / 30f, code.remainingFraction)
                assertEquals("755-224", auth.addAccountFromUri("otpauth://hotp/h?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0")
                    .let { h -> auth.codes(0L).single { it.accountId == h.id } }.grouped("-"))
                assertEquals(0f, auth.codes(0L).last().remainingFraction)
            }
            assertThrows<AuthException.WrongKey> { runBlocking { Authenticator.open(dir.resolve("v.db"), newDataKey()) } }
            Unit
        }
}
