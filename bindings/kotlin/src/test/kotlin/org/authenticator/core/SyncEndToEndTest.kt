package org.authenticator.core

import java.nio.file.Files
import java.nio.file.Path
import java.util.UUID
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/**
 * End-to-end encrypted sync of one device (and a second one joining with its pairing code)
 * against the real Apache WebDAV server that bindings/kotlin/run-tests.sh starts
 * (tests/webdav/server.sh) and names in SYNC_DAV_URL / SYNC_DAV_PASSWORD. Without them these
 * tests fail: the runner always provides the server.
 */
class SyncEndToEndTest {
    @TempDir
    lateinit var dir: Path

    private fun server(): Pair<String, String> {
        val url = System.getenv("SYNC_DAV_URL")?.takeIf { it.isNotBlank() }
        assertNotNull(url, "SYNC_DAV_URL is not set: run bindings/kotlin/run-tests.sh, which starts the WebDAV server")
        val password = System.getenv("SYNC_DAV_PASSWORD")
        assertNotNull(password)
        // A folder of this test's own on the shared server.
        return "${url}kotlin-${UUID.randomUUID()}/" to password
    }

    private fun device(name: String) = openVault(Files.createDirectories(dir.resolve(name)))

    @Test
    fun `a device syncs through WebDAV and a second one joins with its pairing code`() = runBlocking<Unit> {
        val (url, password) = server()
        device("phone").use { phone ->
            device("tablet").use { tablet ->
                phone.addAccountFromUri("otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub")
                phone.addAccountFromUri("otpauth://hotp/Bank:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=4")
                assertNull(phone.syncStatus().server)
                val weak = assertThrows<AuthException.WeakPassphrase> {
                    runBlocking { phone.setupSync(url, "sync", password, passphrase = "dragon") }
                }
                assertEquals("a common password or word", weak.reason)
                assertNull(phone.syncStatus().server, "nothing stored")
                phone.setupSync(url, "sync", password, passphrase = "kotlin ember walrus quilt")
                assertEquals(2L, phone.syncStatus().pendingChanges)
                assertEquals(true, phone.syncNow().uploaded)
                // Synced once a round reads the changes back from the server.
                assertEquals(2L, phone.syncStatus().pendingChanges)
                assertEquals(false, phone.syncNow().uploaded)
                val status = phone.syncStatus()
                assertEquals(0L, status.pendingChanges)
                assertNotNull(status.lastSuccess)

                val wrong = assertThrows<AuthException.Sync> {
                    runBlocking { tablet.setupSync(url, "sync", password, passphrase = "not it") }
                }
                assertEquals(SyncProblem.WRONG_SECRET, wrong.problem)
                tablet.setupSync(url, "sync", password, pairingCode = phone.syncPairingCode())
                val joined = tablet.syncNow()
                assertEquals(0, joined.refused)
                assertEquals(emptyList<String>(), joined.refusedReasons)
                assertEquals(listOf("GitHub", "Bank"), tablet.listAccounts().map { it.issuer })
                // Last seen per device: the tablet first, then the phone; nothing to warn about.
                val seen = tablet.syncStatus()
                assertEquals(listOf(true, false), seen.devices.map { it.thisDevice })
                assertTrue(seen.devices.none { it.stale })
                assertEquals(emptyList<String>(), seen.warnings)
                val now = System.currentTimeMillis() / 1000
                assertEquals(phone.codes(now).map { it.value }, tablet.codes(now).map { it.value })

                tablet.leaveSync()
                assertThrows<AuthException.Sync> { runBlocking { tablet.syncNow() } }
            }
        }
    }

    @Test
    fun `a random key sets sync up, and after a rekey the other device must join again`() = runBlocking<Unit> {
        val (url, password) = server()
        device("phone").use { phone ->
            device("tablet").use { tablet ->
                phone.addAccountFromUri("otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub")
                phone.setupSync(url, "sync", password)
                phone.syncNow()
                tablet.setupSync(url, "sync", password, pairingCode = phone.syncPairingCode())
                tablet.syncNow()
                val old = phone.syncPairingCode()
                phone.rekeySync()
                val changed = assertThrows<AuthException.Sync> { runBlocking { tablet.syncNow() } }
                assertEquals(SyncProblem.KEY_CHANGED, changed.problem)
                assertThrows<AuthException.Sync> {
                    runBlocking { tablet.setupSync(url, "sync", password, pairingCode = old) }
                }
                tablet.setupSync(url, "sync", password, pairingCode = phone.syncPairingCode())
                tablet.syncNow()
                assertEquals(listOf("GitHub"), tablet.listAccounts().map { it.issuer })
            }
        }
    }
}
