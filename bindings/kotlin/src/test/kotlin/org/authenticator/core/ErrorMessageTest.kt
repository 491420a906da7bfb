package org.authenticator.core

import java.nio.file.Path
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/**
 * Every `AuthException` has a `message` that names the problem (also the variants a UI knows by
 * their class alone), keeps the fields a UI branches on, and never echoes a secret.
 * AlreadyAnswered is checked in PushEndToEndTest (it needs a real push request).
 */
class ErrorMessageTest {
    @TempDir lateinit var dir: Path

    /** The message names the problem; `detail` and `toString()` (Rust's Display) say the same. */
    private fun AuthException.assertNames(vararg words: String) {
        val message = checkNotNull(message)
        assertTrue(message.isNotBlank(), "${this::class.simpleName} has an empty message")
        for (word in words) assertTrue(word in message.lowercase(), "${this::class.simpleName}: '$word' not in '$message'")
        assertTrue(toString().isNotBlank() && toString() in message, "toString() '${toString()}' vs message '$message'")
    }

    @Test
    fun `field-less variants have a message that names the problem`() {
        val key = newDataKey()
        openVault(dir, key).use { it.addAccountFromUri("otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP") }
        assertThrows<AuthException.WrongKey> { openVault(dir, newDataKey()) }.apply {
            assertNames("wrong key")
            assertEquals(toString(), detail)
        }

        openVault(dir, key).use { auth ->
            val backup = auth.exportBackup("correct horse battery")
            assertThrows<AuthException.PasswordRequired> { auth.importFile(backup) }.assertNames("password")
            assertThrows<AuthException.WrongPassword> { auth.previewImport(backup, "not it") }.assertNames("wrong password")
        }
    }

    @Test
    fun `variants with fields keep them and still have a message`() {
        openVault(dir).use { auth ->
            assertThrows<AuthException.NoSuchAccount> { auth.removeAccount(4242) }.apply {
                assertEquals(4242L, id)
                assertNames("no account", "4242")
            }
            assertThrows<AuthException.WeakPassword> { auth.exportBackup("short") }.apply {
                assertEquals(8, minChars)
                assertNames("password", "8")
            }
            assertThrows<AuthException.InvalidUri> {
                auth.addAccountFromUri("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=11")
            }.apply {
                assertTrue("digits" in reason, reason)
                assertNames("digits", "11")
            }
            val secret = assertThrows<AuthException.InvalidUri> { auth.addAccountFromUri("otpauth://totp/x?secret=not*base32") }
            assertTrue("not*base32" !in secret.message, "the message must not echo the secret: ${secret.message}")
        }
    }

    @Test
    fun `a negative time or limit and out-of-range fields are typed errors`() {
        openVault(dir).use { auth ->
            val account = auth.addAccountFromUri("otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP")
            assertThrows<AuthException.InvalidArgument> { auth.codes(-1L) }.assertNames("1970")
            assertThrows<AuthException.InvalidArgument> { auth.takeCode(account.id, Long.MIN_VALUE) }.assertNames("1970")
            assertThrows<AuthException.InvalidArgument> { auth.pushHistory(-1) }.assertNames("limit")
            val fields = AccountFields("X", "x", OtpKind.TOTP, Algorithm.SHA1)
            assertThrows<AuthException.InvalidUri> { auth.addAccount(fields.copy(digits = -6), "JBSWY3DPEHPK3PXP") }
                .assertNames("digits")
            assertThrows<AuthException.InvalidUri> { auth.addAccount(fields.copy(period = 1 shl 20), "JBSWY3DPEHPK3PXP") }
                .assertNames("period")
            assertThrows<AuthException.InvalidUri> {
                auth.addAccount(fields.copy(kind = OtpKind.HOTP, counter = -1L), "JBSWY3DPEHPK3PXP")
            }.assertNames("counter")
            // The defaults (6 digits, 30 s) are what a hand-typed account gets.
            val added = auth.addAccount(fields, "JBSWY3DPEHPK3PXP")
            assertEquals(6 to 30, added.digits to added.period)
            assertEquals(null, added.group)
            // The far end of Long is no crash: codes, or a typed error.
            runCatching { auth.codes(Long.MAX_VALUE) }.exceptionOrNull()?.let {
                assertTrue(it is AuthException.InvalidArgument, "$it")
            }
        }
    }
}
