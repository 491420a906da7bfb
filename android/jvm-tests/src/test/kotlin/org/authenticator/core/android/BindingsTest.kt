package org.authenticator.core.android

import android.os.Build
import java.io.File
import java.security.SecureRandom
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import org.authenticator.core.AuthException
import org.authenticator.core.Authenticator
import org.authenticator.core.OtpKind
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.annotation.Config

/**
 * The Android flavour of the generated bindings, on the Android framework of API 24, 34 and 35, with
 * the real core (the host build of libauthenticator_core.so) loaded through JNA.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [24, 34, 35])
class BindingsTest : FakeKeystoreTest() {
    @Test
    fun a_vault_in_no_backup_files_gives_rfc_codes_for_totp_and_hotp_and_reopens() {
        val vault = KeystoreDataKey.vaultFile(context, KeystoreDataKey.DEFAULT_DB_NAME)
        assertEquals(File(context.noBackupFilesDir, "authenticator-core/vault.db"), vault)
        val ids = KeystoreDataKey.open(context).use { auth ->
            val totp = auth.addAccountFromUri(RFC6238_SHA1)
            val hotp = auth.addAccountFromUri(RFC4226)
            assertEquals(OtpKind.TOTP, totp.kind)
            assertEquals(OtpKind.HOTP, hotp.kind)
            val codes = auth.codes(59L).associateBy { it.accountId }
            assertEquals("94287082", codes.getValue(totp.id).value) // RFC 6238 appendix B, SHA-1
            assertEquals(1, codes.getValue(totp.id).secondsLeft)
            assertEquals("755224", codes.getValue(hotp.id).value) // RFC 4226 appendix D, counter 0
            assertEquals("755224", auth.takeCode(hotp.id, 59L).value)
            listOf(totp.id, hotp.id)
        }
        assertTrue(vault.isFile)

        KeystoreDataKey.open(context).use { auth ->
            assertEquals(ids, auth.listAccounts().map { it.id })
            val codes = auth.codes(1111111109L).associateBy { it.accountId }
            assertEquals("07081804", codes.getValue(ids[0]).value)
            assertEquals("287082", codes.getValue(ids[1]).value, "the HOTP counter moved on to 1")
        }
    }

    @Test
    fun another_key_is_wrong_key_and_leaves_the_vault_intact() {
        KeystoreDataKey.open(context).use { it.addAccountFromUri(RFC6238_SHA1) }
        val vault = KeystoreDataKey.vaultFile(context, KeystoreDataKey.DEFAULT_DB_NAME)
        val before = vault.readBytes()
        val other = ByteArray(32).also { SecureRandom().nextBytes(it) }
        val e = assertFailsWith<AuthException.WrongKey> { Authenticator(vault.path, other) }
        assertTrue(e.detail.isNotEmpty())
        assertTrue(before.contentEquals(vault.readBytes()))
        KeystoreDataKey.open(context).use { assertEquals(1, it.listAccounts().size) }
    }

    @Test
    fun the_bindings_pick_android_system_cleaner_from_api_34_and_jna_cleaner_below() {
        KeystoreDataKey.open(context).use { auth ->
            val cleanable = cleanableOf(auth)
            val expected = if (Build.VERSION.SDK_INT >= 34) "AndroidSystemCleanable" else "UniffiJnaCleanable"
            assertEquals(expected, cleanable.javaClass.simpleName)
        }
    }

    @Test
    fun close_releases_the_vault_connection() {
        // The observation the GC test relies on: SQLite removes the WAL file when the last
        // connection to the vault closes.
        val wal = File(KeystoreDataKey.vaultFile(context, "closed.db").path + "-wal")
        val auth = KeystoreDataKey.open(context, "closed.db")
        auth.addAccountFromUri(RFC6238_SHA1)
        assertTrue(wal.exists())
        auth.close()
        assertFalse(wal.exists())
    }

    @Test
    fun an_unclosed_authenticator_is_freed_by_the_cleaner_after_gc() {
        val wal = File(KeystoreDataKey.vaultFile(context, "leaked.db").path + "-wal")
        openAndForget("leaked.db")
        assertTrue(wal.exists(), "the leaked Authenticator still holds its connection")
        val deadline = System.nanoTime() + 20_000_000_000L
        while (wal.exists() && System.nanoTime() < deadline) {
            System.gc()
            Thread.sleep(50)
        }
        assertFalse(wal.exists(), "the cleaner freed the Rust object, which closed the vault")
        KeystoreDataKey.open(context, "leaked.db").use { assertEquals(1, it.listAccounts().size) }
    }

    /** In its own frame, so no reference to the Authenticator survives on this test's stack. */
    private fun openAndForget(name: String) {
        KeystoreDataKey.open(context, name).addAccountFromUri(RFC6238_SHA1)
    }

    private fun cleanableOf(auth: Authenticator): Any {
        val field = Authenticator::class.java.getDeclaredField("cleanable")
        field.isAccessible = true
        return field.get(auth) ?: error("no cleanable")
    }

    companion object {
        /** RFC 6238 appendix B's SHA-1 seed "12345678901234567890", base32. */
        const val RFC_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        const val RFC6238_SHA1 = "otpauth://totp/RFC6238:sha1?secret=$RFC_SEED&digits=8&period=30&issuer=RFC6238"
        const val RFC4226 = "otpauth://hotp/RFC4226:hotp?secret=$RFC_SEED&counter=0"
    }
}
