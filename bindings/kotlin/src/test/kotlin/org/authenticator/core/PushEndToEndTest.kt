package org.authenticator.core

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlin.test.fail
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.boolean
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.authenticator.core.ktx.pushRequests
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.io.TempDir

/**
 * Push approvals end to end against the real privacyIDEA 3.14 test server that
 * bindings/kotlin/run-tests.sh starts (tests/privacyidea/pi-server.sh) and names in PI_ENV_FILE.
 * The phone side is the generated Kotlin API: suspend calls into the core's own tokio runtime.
 * Without PI_ENV_FILE these tests fail: the runner always provides the server.
 */
@Timeout(180)
class PushEndToEndTest {
    @TempDir lateinit var dir: Path

    companion object {
        private lateinit var envFile: Path
        private lateinit var env: Map<String, String>
        private lateinit var piAdmin: Path

        @BeforeAll
        @JvmStatic
        fun server() {
            val path =
                System.getenv("PI_ENV_FILE")?.takeIf { it.isNotBlank() }
                    ?: System.getProperty("pi.env.file")?.takeIf { it.isNotBlank() }
            assertNotNull(path, "PI_ENV_FILE is not set: run bindings/kotlin/run-tests.sh, which starts the privacyIDEA test server")
            envFile = Path.of(path)
            assertTrue(Files.isRegularFile(envFile), "PI_ENV_FILE=$path does not exist")
            env =
                Files
                    .readAllLines(envFile)
                    .filter { !it.startsWith("#") && '=' in it }
                    .associate { line -> line.substringBefore('=') to line.substringAfter('=').trim('\'', '"') }
            val repo = Path.of(System.getProperty("repo.dir") ?: "../..")
            piAdmin = repo.resolve("tests/privacyidea/pi_admin.py").toAbsolutePath().normalize()
            assertTrue(Files.isRegularFile(piAdmin), "$piAdmin not found")
            assertTrue(env.containsKey("PI_PYTHON") && env.containsKey("PI_URL"), "incomplete $envFile: $env")
        }

        /** Runs pi_admin.py with the server's python and returns its JSON; fails on a non-zero exit. */
        fun admin(vararg args: String): JsonObject {
            val process =
                ProcessBuilder(listOf(env.getValue("PI_PYTHON"), piAdmin.toString(), "--env", envFile.toString()) + args)
                    .redirectInput(ProcessBuilder.Redirect.from(java.io.File("/dev/null")))
                    .redirectError(ProcessBuilder.Redirect.PIPE)
                    .start()
            val stderr = StringBuilder()
            val errReader = Thread { stderr.append(process.errorStream.bufferedReader().readText()) }.apply { start() }
            val stdout = process.inputStream.bufferedReader().readText()
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly()
                fail("pi_admin.py ${args.joinToString(" ")} timed out")
            }
            errReader.join()
            if (process.exitValue() != 0) {
                fail("pi_admin.py ${args.joinToString(" ")} exited ${process.exitValue()}: $stdout $stderr")
            }
            return Json.parseToJsonElement(stdout).jsonObject
        }

        fun JsonObject.string(key: String): String = getValue(key).jsonPrimitive.content

        fun trigger(user: String): String {
            val password = if (user == env["PI_USER2"]) env.getValue("PI_USER2_PASSWORD") else env.getValue("PI_USER_PASSWORD")
            return admin("trigger", "--user", user, "--password", password).string("transaction_id")
        }

        fun status(transactionId: String): String = admin("status", transactionId).string("status")

        fun finish(user: String, transactionId: String): Boolean =
            admin("finish", "--user", user, transactionId).getValue("authenticated").jsonPrimitive.boolean
    }

    /** Polls until a request arrives (the server may take a moment to store the challenge). */
    private suspend fun Authenticator.pollOne(): PushRequest {
        repeat(20) {
            val result = pollPush()
            assertEquals(emptyList(), result.failures, "poll failures")
            assertEquals(emptyList(), result.rejected, "rejected challenges")
            result.newRequests.firstOrNull()?.let { return it }
            delay(300.milliseconds)
        }
        fail("no push request arrived")
    }

    @Test
    fun `approve completes the login`() {
        val enrollment = admin("enroll-push", "--user", "alice")
        val serial = enrollment.string("serial")
        try {
            openVault(dir).use { phone ->
                runBlocking {
                    val token = phone.enrollPush(enrollment.string("uri"))
                    assertEquals(serial, token.serial)
                    assertEquals(listOf(serial), phone.pushTokens().map { it.serial })
                    assertTrue(!token.hasPin)

                    val tx = trigger("alice")
                    assertEquals("pending", status(tx))
                    val request = phone.pollOne()
                    assertEquals(serial, request.serial)
                    assertEquals(token.id, request.tokenId)
                    assertTrue(request.question.isNotEmpty() && request.title.isNotEmpty(), "$request")
                    assertEquals(RequestState.PENDING, request.state)
                    assertEquals(listOf(request.id), phone.pendingPushRequests().map { it.id })

                    phone.approve(request.id)
                    assertEquals("accept", status(tx))
                    assertTrue(finish("alice", tx), "the login did not complete")

                    assertEquals(emptyList(), phone.pendingPushRequests())
                    assertEquals(Decision.APPROVED, phone.pushHistory(10).first().decision)
                    // Answered once: a second answer is refused by the phone itself.
                    try {
                        phone.approve(request.id)
                        fail("a second approve was accepted")
                    } catch (e: AuthException.AlreadyAnswered) {
                        // A field-less problem still has a message that names it.
                        assertTrue("already answered" in e.message, e.message)
                        assertEquals(e.detail, e.toString())
                    }
                }
            }
        } finally {
            admin("delete-token", serial)
        }
    }

    @Test
    fun `deny with a reason declines the login`() {
        val enrollment = admin("enroll-push", "--user", "alice")
        val serial = enrollment.string("serial")
        try {
            openVault(dir).use { phone ->
                runBlocking {
                    phone.enrollPush(enrollment.string("uri"))
                    val tx = trigger("alice")
                    // The ktx polling flow, as an app's foreground poller would use it.
                    val request = withTimeout(20.seconds) { phone.pushRequests(interval = 300.milliseconds).first() }
                    assertEquals(serial, request.serial)
                    assertTrue(request.declineReasons, "privacyIDEA 3.14 advertises decline reasons")

                    phone.deny(request.id, DeclineReason.UNKNOWN_TRIGGER)
                    assertEquals("declined", status(tx))
                    assertTrue(!finish("alice", tx), "a declined login was accepted")
                    assertEquals(Decision.DENIED, phone.pushHistory(10).first().decision)
                }
            }
        } finally {
            admin("delete-token", serial)
        }
    }

    @Test
    fun `a bad enrollment URI is InvalidEnrollment`() {
        openVault(dir).use { phone ->
            val e =
                runCatching { runBlocking { phone.enrollPush("otpauth://pipush/X?serial=X") } }
                    .exceptionOrNull()
            assertTrue(e is AuthException.InvalidEnrollment, "got $e")
            assertTrue(e.reason.isNotEmpty())
        }
    }
}
