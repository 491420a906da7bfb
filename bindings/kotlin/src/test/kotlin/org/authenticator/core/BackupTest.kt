package org.authenticator.core

import java.nio.file.Files
import java.nio.file.Path
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import org.junit.jupiter.api.Assertions.fail
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/**
 * Backups and imports through the generated bindings, as an app uses them: export from one
 * vault, restore into another (a new phone), and read other apps' exports.
 */
class BackupTest {
    @TempDir lateinit var dir: Path
    @TempDir lateinit var otherDir: Path

    private val password = "correct horse battery"

    /** A fixed moment: RFC 6238's T = 1111111109. */
    private val now = 1_111_111_109L

    /** Everything a list row shows that must survive a backup (ids and timestamps need not). */
    private data class Shape(
        val issuer: String,
        val label: String,
        val kind: OtpKind,
        val algorithm: Algorithm,
        val digits: Int,
        val period: Int,
        val counter: Long,
        val group: String?,
    )

    private fun AccountRecord.shape() = Shape(issuer, label, kind, algorithm, digits, period, counter, group)

    private fun Authenticator.shapes() = listAccounts().map { it.shape() }

    /** Code values in list order (ids differ between vaults). */
    private fun Authenticator.codeValues() = codes(now).map { it.value }

    /**
     * The three accounts: TOTP SHA-256 with 8 digits (RFC 6238 seed), HOTP at counter 5 filed
     * under "Work" (RFC 4226 seed), and Steam.
     */
    private fun addThreeAccounts(auth: Authenticator) {
        auth.addAccount(
            AccountFields("Example", "alice@example.com", OtpKind.TOTP, Algorithm.SHA256, digits = 8),
            base32("12345678901234567890123456789012".toByteArray()),
        )
        auth.addAccount(
            AccountFields("Corp", "bob", OtpKind.HOTP, Algorithm.SHA1, counter = 5L, group = "Work"),
            base32("12345678901234567890".toByteArray()),
        )
        auth.addAccount(
            AccountFields("Steam", "carol", OtpKind.STEAM, Algorithm.SHA1, digits = 5),
            "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
        )
        // The known answers: RFC 6238 SHA-256 at T=1111111109, RFC 4226 at counter 5.
        val codes = auth.codeValues()
        assertEquals(listOf("68084774", "254676"), codes.take(2))
        assertEquals(5, codes[2].length)
    }

    private fun expectedShapes() =
        listOf(
            Shape("Example", "alice@example.com", OtpKind.TOTP, Algorithm.SHA256, 8, 30, 0L, null),
            Shape("Corp", "bob", OtpKind.HOTP, Algorithm.SHA1, 6, 30, 5L, "Work"),
            Shape("Steam", "carol", OtpKind.STEAM, Algorithm.SHA1, 5, 30, 0L, null),
        )

    @Test
    fun `a backup verifies and restores every account into a new vault`() {
        val (backup, shapes, codes) =
            openVault(dir).use { phone ->
                addThreeAccounts(phone)
                assertEquals(expectedShapes(), phone.shapes())
                Triple(phone.exportBackup(password), phone.shapes(), phone.codeValues())
            }
        assertTrue(backup.isNotEmpty())
        // The file does not show the secrets or the names in clear.
        val text = String(backup, Charsets.ISO_8859_1)
        for (clear in listOf("JBSWY3DP", "alice@example.com", "Work")) assertTrue(clear !in text, "backup shows $clear")

        val check = verifyBackup(backup, password)
        assertEquals(3L, check.accounts)
        assertEquals(emptyList(), check.refused)

        // Restored on a new phone: another directory, another data key. ByteArray round-trips
        // through a file as an app would save and pick it.
        val file = otherDir.resolve("authenticator-backup.json")
        Files.write(file, backup)
        openVault(otherDir).use { newPhone ->
            val result = newPhone.importFile(Files.readAllBytes(file), password)
            assertEquals(ImportFormat.BACKUP, result.format)
            assertEquals(listOf("Example (alice@example.com)", "Corp (bob)", "Steam (carol)"), result.report.imported)
            assertEquals(emptyList(), result.report.duplicates)
            assertEquals(emptyList(), result.report.refused)
            assertEquals(shapes, newPhone.shapes())
            assertEquals(codes, newPhone.codeValues())
            assertEquals(listOf("Work"), newPhone.groups())

            // Restoring the same backup again changes nothing.
            val again = newPhone.importFile(backup, password)
            assertEquals(emptyList(), again.report.imported)
            assertEquals(3, again.report.duplicates.size)
            assertEquals(shapes, newPhone.shapes())
        }
    }

    @Test
    fun `password errors - wrong, missing and too short - import nothing`() {
        val backup =
            openVault(dir).use { phone ->
                addThreeAccounts(phone)
                val weak = assertThrows<AuthException.WeakPassword> { phone.exportBackup("short") }
                assertEquals(8, weak.minChars)
                phone.exportBackup(password)
            }

        assertThrows<AuthException.WrongPassword> { verifyBackup(backup, "wrong horse battery") }
        openVault(otherDir).use { newPhone ->
            assertThrows<AuthException.WrongPassword> { newPhone.importFile(backup, "wrong horse battery") }
            assertThrows<AuthException.WrongPassword> { newPhone.previewImport(backup, "wrong horse battery") }
            assertThrows<AuthException.PasswordRequired> { newPhone.importFile(backup) }
            assertThrows<AuthException.PasswordRequired> { newPhone.previewImport(backup) }
            val garbage = assertThrows<AuthException.InvalidImport> { newPhone.importFile("hello".toByteArray()) }
            assertTrue(garbage.reason.isNotEmpty())
            // A modified backup does not open either, even with the right password.
            assertThrows<AuthException.WrongPassword> { newPhone.importFile(tamperedCiphertext(backup), password) }
            assertEquals(emptyList(), newPhone.listAccounts(), "a refused import wrote something")
        }
    }

    /** The backup with one base64 character of its `ciphertext` changed (still valid base64). */
    private fun tamperedCiphertext(backup: ByteArray): ByteArray {
        val text = String(backup, Charsets.UTF_8)
        val start = requireNotNull(Regex("\"ciphertext\"\\s*:\\s*\"").find(text)) { "no ciphertext in $text" }.range.last + 1
        val i = start + 10
        val changed = if (text[i] == 'A') 'B' else 'A'
        return (text.substring(0, i) + changed + text.substring(i + 1)).toByteArray(Charsets.UTF_8)
    }

    @Test
    fun `otpauth URIs preview without writing, import, and then are duplicates`() {
        val (uris, codes) =
            openVault(dir).use { phone ->
                addThreeAccounts(phone)
                phone.exportOtpauthUris() to phone.codeValues()
            }
        assertEquals(3, uris.size)
        assertTrue(uris.all { it.startsWith("otpauth://") }, uris.toString())
        val file = uris.joinToString("\n").toByteArray(Charsets.UTF_8)

        openVault(otherDir).use { newPhone ->
            val preview = newPhone.previewImport(file)
            assertEquals(ImportFormat.URI_LIST, preview.format)
            assertEquals(3, preview.report.imported.size)
            assertEquals(emptyList(), preview.report.duplicates)
            assertEquals(emptyList(), preview.report.refused)
            assertEquals(emptyList(), newPhone.listAccounts(), "a preview wrote accounts")

            val imported = newPhone.importFile(file)
            assertEquals(preview.report, imported.report)
            // URIs carry no group.
            assertEquals(expectedShapes().map { it.copy(group = null) }, newPhone.shapes())
            assertEquals(codes, newPhone.codeValues())

            val again = newPhone.importFile(file)
            assertEquals(emptyList(), again.report.imported)
            assertEquals(imported.report.imported, again.report.duplicates)
            assertEquals(3, newPhone.listAccounts().size)
        }
    }

    @Test
    fun `otpauth URIs can carry Steam as totp with encoder=steam, and import back as Steam`() {
        val (uris, codes) =
            openVault(dir).use { phone ->
                addThreeAccounts(phone)
                phone.exportOtpauthUris(steamAsTotp = true) to phone.codeValues()
            }
        val steam = uris.single { "carol" in it }
        assertTrue(steam.startsWith("otpauth://totp/Steam:carol?") && steam.endsWith("&encoder=steam"), steam)

        openVault(otherDir).use { newPhone ->
            val result = newPhone.importFile(uris.joinToString("\n").toByteArray())
            assertEquals(ImportFormat.URI_LIST, result.format)
            // URIs carry no group; Steam stays Steam, with Steam's codes.
            assertEquals(expectedShapes().map { it.copy(group = null) }, newPhone.shapes())
            assertEquals(codes, newPhone.codeValues())
        }
    }

    @Test
    fun `a Google Authenticator export leaves Steam out with a warning, the rest imports back`() {
        val (export, codes) =
            openVault(dir).use { phone ->
                addThreeAccounts(phone)
                phone.exportGoogleMigration() to phone.codeValues()
            }
        assertEquals(1, export.warnings.size, export.warnings.toString())
        assertTrue("Steam" in export.warnings.single(), export.warnings.single())
        assertTrue(export.uris.isNotEmpty())
        assertTrue(export.uris.all { it.startsWith("otpauth-migration://offline?data=") }, export.uris.toString())

        openVault(otherDir).use { newPhone ->
            val result = newPhone.importFile(export.uris.joinToString("\n").toByteArray())
            assertEquals(ImportFormat.GOOGLE_MIGRATION, result.format)
            assertEquals(2, result.report.imported.size)
            assertEquals(emptyList(), result.report.refused)
            assertEquals(expectedShapes().take(2).map { it.copy(group = null) }, newPhone.shapes())
            assertEquals(codes.take(2), newPhone.codeValues())
        }
    }

    @Test
    fun `Aegis and 2FAS exports, encrypted and plain, import back into another app's vault`() {
        val password = "correct horse battery"
        val exports =
            openVault(dir).use { phone ->
                addThreeAccounts(phone)
                assertThrows<AuthException.WeakPassword> { phone.exportAegis("short") }
                assertThrows<AuthException.WeakPassword> { phone.exportTwoFas("short") }
                listOf(
                    Triple(phone.exportAegis(password), password, ImportFormat.AEGIS),
                    Triple(phone.exportAegis(null), null, ImportFormat.AEGIS),
                    Triple(phone.exportTwoFas(password), password, ImportFormat.TWO_FAS),
                    Triple(phone.exportTwoFas(null), null, ImportFormat.TWO_FAS),
                ) to phone.codeValues()
            }
        val (files, codes) = exports
        for ((file, filePassword, format) in files) {
            val text = String(file, Charsets.UTF_8)
            // Encrypted files hold no secret in clear; plain ones do (the user confirmed).
            assertEquals(filePassword == null, "JBSWY3DPEHPK3PXP" in text, "$format, password: ${filePassword != null}")
            Files.createDirectories(otherDir)
            Files.list(otherDir).use { it.forEach(Files::delete) }
            openVault(otherDir).use { newPhone ->
                if (filePassword != null) assertThrows<AuthException.PasswordRequired> { newPhone.importFile(file) }
                val result = newPhone.importFile(file, filePassword)
                assertEquals(format, result.format)
                assertEquals(3, result.report.imported.size, result.report.toString())
                assertEquals(expectedShapes(), newPhone.shapes())
                assertEquals(codes, newPhone.codeValues())
            }
        }
    }

    @Test
    fun `an encrypted Aegis export imports its 7 accounts`() {
        val repo = Path.of(System.getProperty("repo.dir") ?: "../..").toAbsolutePath().normalize()
        val fixtures = repo.resolve("../shared/fixtures/import").normalize()
        val file = fixtures.resolve("aegis_encrypted.json")
        if (!Files.isRegularFile(file)) {
            // CI always has ../shared beside the clone: there a missing fixture is a failure.
            if (System.getenv("CI") == "true") fail<Unit>("no import fixtures at $fixtures (CI=true)")
            println("[BackupTest] skipped: no import fixtures at $fixtures")
        }
        assumeTrue(Files.isRegularFile(file), "no import fixtures at $fixtures")

        openVault(dir).use { auth ->
            val bytes = Files.readAllBytes(file)
            assertThrows<AuthException.PasswordRequired> { auth.importFile(bytes) }
            assertThrows<AuthException.WrongPassword> { auth.importFile(bytes, "not the password") }
            val result = auth.importFile(bytes, "test")
            assertEquals(ImportFormat.AEGIS, result.format)
            assertEquals(7, result.report.imported.size, result.report.toString())
            assertEquals(emptyList(), result.report.refused)
            val accounts = auth.listAccounts()
            assertEquals(7, accounts.size)
            assertEquals(listOf(3, 3, 1), listOf(OtpKind.TOTP, OtpKind.HOTP, OtpKind.STEAM).map { k -> accounts.count { it.kind == k } })
            assertEquals(7, auth.codes(now).size)
        }
    }
}
