package org.authenticator.core.android

import java.io.File
import java.security.SecureRandom
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.authenticator.core.AuthException
import org.authenticator.core.Authenticator
import org.authenticator.core.CodeRecord
import org.authenticator.core.PushRequest
import org.authenticator.core.RequestState
import org.authenticator.core.android.docs.approve
import org.authenticator.core.android.docs.dataKey
import org.authenticator.core.android.docs.onPush
import org.authenticator.core.android.docs.openVault
import org.authenticator.core.android.docs.showCodes
import org.authenticator.core.android.docs.whatToDo
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.annotation.Config

/**
 * docs/mobile.md's Android snippets: each ```kotlin block of the doc is one file of
 * `docs/` in this test tree (compiled with the suite, warnings as errors), verbatim, and each
 * such file is in the doc. The snippets then run here against the real core.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34])
class DocsTest : FakeKeystoreTest() {
    @Test
    fun every_kotlin_block_of_the_doc_is_a_compiled_snippet_and_every_snippet_is_in_the_doc() {
        val repo = File(System.getProperty("repo.dir") ?: error("repo.dir not set (run through Maven)"))
        val doc = File(repo, "docs/mobile.md").readText()
        val blocks = Regex("```kotlin\n(.*?)```", RegexOption.DOT_MATCHES_ALL).findAll(doc).map { it.groupValues[1] }.toList()
        val dir = File(repo, "android/jvm-tests/src/test/kotlin/org/authenticator/core/android/docs")
        val snippets = dir.listFiles { f -> f.name.endsWith(".kt") }!!.sortedBy { it.name }.associate { file ->
            val text = file.readText()
            val header = "package org.authenticator.core.android.docs\n\n"
            assertTrue(text.startsWith(header), "${file.name} starts with its package line and a blank line")
            file.name to text.removePrefix(header)
        }
        assertTrue(snippets.size >= 5)
        for ((name, snippet) in snippets) {
            assertTrue(snippet in blocks, "docs/mobile.md has $name verbatim in a ```kotlin block")
        }
        for (block in blocks) {
            assertTrue(block in snippets.values, "this ```kotlin block of docs/mobile.md is not a compiled snippet:\n$block")
        }
    }

    @Test
    fun the_snippets_open_a_vault_show_codes_and_map_errors() = runBlocking {
        val auth = openVault(context)
        auth.use {
            val account = it.addAccountFromUri(BindingsTest.RFC6238_SHA1)
            // The data key of the snippet is the one the vault was opened with.
            val path = KeystoreDataKey.vaultFile(context, KeystoreDataKey.DEFAULT_DB_NAME).path
            val again = Authenticator(path, dataKey(context))
            again.close()

            val rendered = Channel<List<CodeRecord>>(Channel.CONFLATED)
            val job = showCodes(this, it) { codes -> rendered.trySend(codes) }
            val codes = withTimeout(10_000) { rendered.receive() }
            job.cancel()
            assertEquals(listOf(account.id), codes.map { c -> c.accountId })

            // A payload that is not privacyIDEA's is refused with a typed error.
            val e = assertFailsWith<AuthException> { onPush(it, mapOf("hello" to "world")) }
            assertTrue(whatToDo(e).isNotEmpty())

            val unknown = PushRequest(
                id = 4242, tokenId = 1, serial = "PIPU0001", issuer = "", label = "", title = "",
                question = "", choices = null, declineReasons = false, receivedAt = 0, expiresAt = 0,
                state = RequestState.PENDING, requiresPin = false,
            )
            val noSuch = assertFailsWith<AuthException.NoSuchRequest> { approve(it, unknown, null, null) }
            assertEquals("It was removed meanwhile: refresh the list", whatToDo(noSuch))
        }

        val other = ByteArray(32).also { SecureRandom().nextBytes(it) }
        val path = KeystoreDataKey.vaultFile(context, KeystoreDataKey.DEFAULT_DB_NAME).path
        val wrong = assertFailsWith<AuthException.WrongKey> { Authenticator(path, other) }
        assertEquals("This vault was sealed with another key", whatToDo(wrong))

        File(context.noBackupFilesDir, "authenticator-core/data-key.v1.bin").writeBytes(ByteArray(3))
        val corrupt = assertFailsWith<DataKeyException.WrappedKeyCorrupt> { openVault(context) }
        assertContains(whatToDo(corrupt), "damaged")
    }
}
