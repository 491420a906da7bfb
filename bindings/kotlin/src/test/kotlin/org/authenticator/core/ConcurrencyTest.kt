package org.authenticator.core

import java.nio.file.Path
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.io.TempDir

/** One `Authenticator` shared by many coroutines (a UI, a widget, a push service). */
class ConcurrencyTest {
    @TempDir lateinit var dir: Path

    @Test
    @Timeout(120)
    fun `8 coroutines adding 25 accounts each and reading codes`() {
        val workers = 8
        val perWorker = 25
        val secret = base32("12345678901234567890".toByteArray())
        val key = newDataKey()
        openVault(dir, key).use { auth ->
            val added =
                runBlocking {
                    withContext(Dispatchers.Default) {
                        (0 until workers)
                            .map { w ->
                                async {
                                    (0 until perWorker).map { i ->
                                        val account =
                                            auth.addAccountFromUri(
                                                "otpauth://totp/Worker$w:account$i?secret=$secret&digits=8&issuer=Worker$w",
                                            )
                                        // Read while the others write: every code is a valid one.
                                        val codes = auth.codes(59L)
                                        assertTrue(codes.isNotEmpty())
                                        assertTrue(codes.all { it.value == "94287082" }, "a code went wrong")
                                        assertTrue(codes.any { it.accountId == account.id })
                                        auth.listAccounts()
                                        account.id
                                    }
                                }
                            }.awaitAll()
                            .flatten()
                    }
                }
            assertEquals(workers * perWorker, added.toSet().size, "ids must be distinct")
            val accounts = auth.listAccounts()
            assertEquals(200, accounts.size)
            assertEquals(added.toSet(), accounts.map { it.id }.toSet())
            assertEquals(200, auth.codes(59L).size)
            for (w in 0 until workers) assertEquals(perWorker, auth.searchAccounts("Worker$w").size)
        }
        // Everything was committed: a second handle sees it all.
        openVault(dir, key).use { assertEquals(200, it.listAccounts().size) }
    }
}
