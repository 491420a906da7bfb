package org.authenticator.core

import java.nio.file.Files
import java.nio.file.Path
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/** The vault through the generated bindings and the real host library, as an app uses it. */
class VaultTest {
    @TempDir lateinit var dir: Path

    // RFC 6238 appendix B: the seed is the ASCII digits, repeated to the hash's block size.
    private val rfcSeeds =
        mapOf(
            "SHA1" to "12345678901234567890",
            "SHA256" to "12345678901234567890123456789012",
            "SHA512" to "1234567890123456789012345678901234567890123456789012345678901234",
        )

    private fun rfcUri(algorithm: String) =
        "otpauth://totp/RFC6238:$algorithm?secret=${base32(rfcSeeds.getValue(algorithm).toByteArray())}" +
            "&algorithm=$algorithm&digits=8&period=30&issuer=RFC6238"

    @Test
    fun `accounts added from URIs are listed in order, without secrets`() {
        openVault(dir).use { auth ->
            assertEquals(emptyList(), auth.listAccounts())
            val github = auth.addAccountFromUri("otpauth://totp/GitHub:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=GitHub")
            val hotp = auth.addAccountFromUri("otpauth://hotp/Corp:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0")
            assertEquals("GitHub", github.issuer)
            assertEquals("alice@example.com", github.label)
            assertEquals(OtpKind.TOTP, github.kind)
            assertEquals(Algorithm.SHA1, github.algorithm)
            assertEquals(6, github.digits)
            assertEquals(30, github.period)
            assertEquals("github", github.iconHint)
            assertEquals(OtpKind.HOTP, hotp.kind)

            val listed = auth.listAccounts()
            assertEquals(listOf(github.id, hotp.id), listed.map { it.id })
            assertEquals(listOf("GitHub", "Corp"), listed.map { it.issuer })
            assertEquals(listOf(github.id), auth.searchAccounts("alice").map { it.id })
            assertEquals(emptyList(), auth.damagedAccounts(), "no damaged rows in a healthy vault")
        }
    }

    @Test
    fun `codes match the RFC 6238 vectors for SHA1, SHA256 and SHA512`() {
        openVault(dir).use { auth ->
            val ids = listOf("SHA1", "SHA256", "SHA512").associateWith { auth.addAccountFromUri(rfcUri(it)).id }
            val expected =
                mapOf(
                    59L to mapOf("SHA1" to "94287082", "SHA256" to "46119246", "SHA512" to "90693936"),
                    1111111109L to mapOf("SHA1" to "07081804", "SHA256" to "68084774", "SHA512" to "25091201"),
                )
            for ((t, byAlgorithm) in expected) {
                val codes = auth.codes(t).associateBy { it.accountId }
                assertEquals(3, codes.size)
                for ((algorithm, code) in byAlgorithm) {
                    val record = codes.getValue(ids.getValue(algorithm))
                    assertEquals(code, record.value, "$algorithm at t=$t")
                    assertEquals(OtpKind.TOTP, record.kind)
                    assertEquals(30, record.period)
                }
            }
            // t=59 is the last second of its 30 s window.
            val at59 = auth.codes(59L).first()
            assertEquals(1, at59.secondsLeft)
            assertEquals(30L, at59.validFrom)
            assertEquals(60L, at59.validUntil)
        }
    }

    @Test
    fun `HOTP follows RFC 4226 and takeCode advances the counter`() {
        openVault(dir).use { auth ->
            val uri = "otpauth://hotp/RFC4226:hotp?secret=${base32("12345678901234567890".toByteArray())}&counter=0"
            val account = auth.addAccountFromUri(uri)
            assertEquals(0L, account.counter)

            // Showing codes does not use one up.
            assertEquals("755224", auth.codes(1000L).single().value)
            assertEquals("755224", auth.codes(2000L).single().value)

            val taken = auth.takeCode(account.id, 1000L)
            assertEquals("755224", taken.value)
            assertEquals(OtpKind.HOTP, taken.kind)
            assertEquals("287082", auth.codes(1000L).single().value)
            assertEquals(1L, auth.listAccounts().single().counter)
            assertEquals("287082", auth.takeCode(account.id, 1000L).value)
            assertEquals("359152", auth.codes(1000L).single().value)
        }
    }

    @Test
    fun `the vault reopens with its key and refuses another key with WrongKey`() {
        val key = newDataKey()
        openVault(dir, key).use { it.addAccountFromUri(rfcUri("SHA1")) }
        openVault(dir, key.copyOf()).use { assertEquals(1, it.listAccounts().size) }
        assertThrows<AuthException.WrongKey> { openVault(dir, newDataKey()) }
        // The wrong key changed nothing.
        openVault(dir, key).use { assertEquals("94287082", it.codes(59L).single().value) }
    }

    @Test
    fun `a bad URI is InvalidUri with a reason that names the problem`() {
        openVault(dir).use { auth ->
            val digits = assertThrows<AuthException.InvalidUri> {
                auth.addAccountFromUri("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=11")
            }
            assertTrue("digits" in digits.reason, digits.reason)
            assertTrue("11" in digits.reason, digits.reason)

            val secret = assertThrows<AuthException.InvalidUri> { auth.addAccountFromUri("otpauth://totp/x?secret=not*base32") }
            assertTrue("base32" in secret.reason, secret.reason)
            assertTrue("not*base32" !in secret.reason, "the reason must not echo the secret: ${secret.reason}")

            assertThrows<AuthException.InvalidUri> { auth.addAccountFromUri("https://example.com/") }
            // previewUri parses without storing.
            assertThrows<AuthException.InvalidUri> { previewUri("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5") }
            assertEquals("GitHub", previewUri("otpauth://totp/GitHub:a?secret=JBSWY3DPEHPK3PXP").issuer)
            assertEquals(emptyList(), auth.listAccounts())
        }
    }

    @Test
    fun `a file that is not a vault is VaultUnreadable and left untouched`() {
        val file = dir.resolve("notes.db")
        val content = "these are my notes, not a database\n".repeat(200).toByteArray()
        Files.write(file, content)
        val e = assertThrows<AuthException.VaultUnreadable> { Authenticator(file.toString(), newDataKey()) }
        assertTrue(e.reason.isNotEmpty())
        assertTrue(content.contentEquals(Files.readAllBytes(file)), "the file was modified")
    }

    @Test
    fun `a data key that is not 32 bytes is InvalidKey`() {
        val e = assertThrows<AuthException.InvalidKey> { openVault(dir, ByteArray(31)) }
        assertTrue("31" in e.reason || "32" in e.reason, e.reason)
        assertThrows<AuthException.InvalidKey> { openVault(dir, ByteArray(33)) }
    }

    @Test
    fun `unknown ids are NoSuchAccount and a closed handle refuses calls`() {
        val auth = openVault(dir)
        val e = assertThrows<AuthException.NoSuchAccount> { auth.takeCode(4242, 59L) }
        assertEquals(4242L, e.id)
        auth.close()
        auth.close() // idempotent
        assertThrows<IllegalStateException> { auth.listAccounts() }
    }
}
