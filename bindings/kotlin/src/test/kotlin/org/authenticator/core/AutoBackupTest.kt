package org.authenticator.core

import java.nio.file.Path
import java.util.concurrent.ConcurrentSkipListMap
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/**
 * Automatic backups through the foreign trait, as an Android shell provides it (there: the
 * Storage Access Framework): the test's own [BackupDestination] keeps named blobs in memory and
 * can be told to fail the way storage fails.
 */
class AutoBackupTest {
    @TempDir lateinit var dir: Path
    @TempDir lateinit var otherDir: Path

    private val password = "correct horse battery"

    /** Named blobs in memory; [failWrites] makes writes fail after storing half the bytes. */
    private class MemoryDestination : BackupDestination {
        val blobs = ConcurrentSkipListMap<String, ByteArray>()
        @Volatile var failWrites: (() -> Exception)? = null

        override fun write(name: String, bytes: ByteArray) {
            failWrites?.let { fail ->
                blobs[name] = bytes.copyOf(bytes.size / 2)
                throw fail()
            }
            blobs[name] = bytes
        }

        override fun read(name: String): ByteArray =
            blobs[name] ?: throw DestinationException.Gone("no blob $name")

        override fun rename(from: String, to: String) {
            blobs[to] = blobs.remove(from) ?: throw DestinationException.Gone("no blob $from")
        }

        override fun list(): List<String> = blobs.keys.toList()

        override fun delete(name: String) {
            blobs.remove(name)
        }
    }

    private fun Authenticator.waitFor(done: (BackupStatus) -> Boolean): BackupStatus {
        repeat(1000) {
            val status = backupStatus()
            if (done(status)) return status
            Thread.sleep(10)
        }
        error("no backup outcome: ${backupStatus()}")
    }

    @Test
    fun `a change is backed up through the app's destination and the copy restores`() {
        val auth = openVault(dir)
        auth.addAccount(
            AccountFields("Example", "alice@example.com", OtpKind.TOTP, Algorithm.SHA1, group = "Work"),
            "JBSWY3DPEHPK3PXP",
        )
        val destination = MemoryDestination()
        auth.setBackupDestination(destination)
        auth.enableBackups(password, keep = 2)
        val status = auth.waitFor { it.lastSuccessAt != null }
        assertTrue(status.enabled && !status.pendingChanges, "$status")
        assertNull(status.warning)
        val name = assertNotNull(status.lastSuccessName)
        assertTrue(Regex("""authenticator-backup-\d{8}-\d{6}-\d{3}\.json""").matches(name), name)
        assertEquals(listOf(name), destination.blobs.keys.toList())
        val bytes = destination.blobs.getValue(name)

        // A burst of changes right after a backup is coalesced: one backup at most a minute
        // later (or now, on request), not one per change.
        auth.addAccountFromUri("otpauth://totp/Bank:bob?secret=JBSWY3DPEHPK3PXP")
        auth.renameAccount(auth.listAccounts()[1].id, "Bank", "robert")
        Thread.sleep(500)
        assertTrue(auth.backupStatus().pendingChanges)
        assertEquals(1, destination.blobs.size)
        val newest = assertNotNull(auth.backupNow().lastSuccessName)
        assertEquals(2, verifyBackup(destination.blobs.getValue(newest), password).accounts)
        auth.backupNow()
        assertEquals(2, destination.blobs.size, "rotated to the newest 2: ${destination.blobs.keys}")
        assertTrue(newest in destination.blobs.keys)

        assertEquals(1, verifyBackup(bytes, password).accounts)
        val restored = openVault(otherDir)
        restored.importFile(bytes, password)
        assertEquals(listOf("Example" to "Work"), restored.listAccounts().map { it.issuer to it.group })
    }

    @Test
    fun `a failing destination is reported typed and costs no good copy`() {
        val auth = openVault(dir)
        val destination = MemoryDestination()
        auth.setBackupDestination(destination)
        auth.enableBackups(password)
        val good = auth.waitFor { it.lastSuccessAt != null }.lastSuccessName
        val before = destination.blobs.keys.toList()
        assertEquals(listOf(good), before)

        destination.failWrites = { DestinationException.Full("no space left") }
        val full = assertThrows<AuthException.BackupFailed> { auth.backupNow() }
        assertEquals(BackupFailure.DISK_FULL, full.failure)
        assertEquals(before, destination.blobs.keys.toList(), "no partial blob, nothing deleted")
        val status = auth.backupStatus()
        assertEquals(BackupFailure.DISK_FULL, status.lastFailure)
        assertTrue(status.warning!!.contains("disk full"), status.warning)

        // Whatever else the shell throws is a typed failure too, never a crash.
        destination.failWrites = { IllegalStateException("the document provider went away") }
        val other = assertThrows<AuthException.BackupFailed> { auth.backupNow() }
        assertEquals(BackupFailure.OTHER, other.failure)

        // The change that triggers a failing backup is committed all the same.
        destination.failWrites = { DestinationException.Gone("unmounted") }
        auth.addAccountFromUri("otpauth://totp/Bank:bob?secret=JBSWY3DPEHPK3PXP")
        assertEquals(1, auth.listAccounts().size)
        val gone = assertThrows<AuthException.BackupFailed> { auth.backupNow() }
        assertEquals(BackupFailure.DESTINATION_GONE, gone.failure)
        assertEquals(BackupFailure.DESTINATION_GONE, auth.backupStatus().lastFailure)

        destination.failWrites = null
        assertNull(auth.backupNow().warning)
        auth.disableBackups()
        assertThrows<AuthException.BackupsOff> { auth.backupNow() }
    }
}
