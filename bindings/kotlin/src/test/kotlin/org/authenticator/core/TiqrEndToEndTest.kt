package org.authenticator.core

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlin.test.fail
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.boolean
import kotlinx.serialization.json.contentOrNull
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/**
 * A tiqr sign-in end to end against the real eduMFA 2.9.5 test server that
 * bindings/kotlin/run-tests.sh starts (tests/edumfa/edumfa-server.sh) and names in EDUMFA_ENV_FILE:
 * enroll from the tiqrenroll:// code, scan the tiqrauth:// code of a login, approve, and the
 * login completes. Without EDUMFA_ENV_FILE this test fails: the runner always provides the server.
 */
@Timeout(180)
class TiqrEndToEndTest {
    @TempDir lateinit var dir: Path

    private val envFile: Path by lazy {
        val path = System.getenv("EDUMFA_ENV_FILE")?.takeIf { it.isNotBlank() }
        assertNotNull(path, "EDUMFA_ENV_FILE is not set: run bindings/kotlin/run-tests.sh, which starts the eduMFA test server")
        Path.of(path).also { assertTrue(Files.isRegularFile(it), "EDUMFA_ENV_FILE=$path does not exist") }
    }

    private val env: Map<String, String> by lazy {
        Files
            .readAllLines(envFile)
            .filter { !it.startsWith("#") && '=' in it }
            .associate { line -> line.substringBefore('=') to line.substringAfter('=').trim('\'', '"') }
    }

    /** pi_admin.py (eduMFA flavour, from the env file) with the server's python; its JSON. */
    private fun admin(vararg args: String): JsonObject {
        val repo = Path.of(System.getProperty("repo.dir") ?: "../..")
        val script = repo.resolve("tests/privacyidea/pi_admin.py").toAbsolutePath().normalize()
        val process =
            ProcessBuilder(listOf(env.getValue("PI_PYTHON"), script.toString(), "--env", envFile.toString()) + args)
                .redirectInput(ProcessBuilder.Redirect.from(java.io.File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start()
        val stdout = process.inputStream.bufferedReader().readText()
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly()
            fail("pi_admin.py ${args.joinToString(" ")} timed out")
        }
        if (process.exitValue() != 0) fail("pi_admin.py ${args.joinToString(" ")} exited ${process.exitValue()}: $stdout")
        return Json.parseToJsonElement(stdout).jsonObject
    }

    private fun JsonObject.string(key: String): String = getValue(key).jsonPrimitive.content

    @Test
    fun `tiqr sign-in completes the login`() {
        val enrollment = admin("enroll-push", "--type", "tiqr", "--user", "alice")
        val serial = enrollment.string("serial")
        try {
            openVault(dir).use { phone ->
                runBlocking {
                    val token = phone.enrollPush(enrollment.string("uri"))
                    assertEquals(PushProtocol.TIQR, token.protocol)
                    assertEquals(DeviceKeyType.OCRA_SECRET, token.keyType)
                    assertTrue(!token.offersNumberMatching && !token.offersDeclineReasons)

                    val trigger = admin("trigger", "--user", "alice", "--password", env.getValue("PI_USER_PASSWORD"))
                    val tx = trigger.string("transaction_id")
                    val challenges = trigger.getValue("response").jsonObject.getValue("detail").jsonObject
                        .getValue("multi_challenge").jsonArray
                    val code =
                        challenges
                            .mapNotNull { it.jsonObject["attributes"]?.jsonObject?.get("value")?.jsonPrimitive?.contentOrNull }
                            .first { it.startsWith("tiqrauth://") }

                    // A code for an identity this phone does not hold is refused.
                    assertThrows<AuthException.UnknownIdentity> {
                        phone.scanSignIn(code.replaceFirst("tiqrauth://alice", "tiqrauth://mallory"))
                    }
                    val request = phone.scanSignIn(code)
                    assertEquals(RequestState.PENDING, request.state)
                    assertTrue(request.question.startsWith("Sign in to"), request.question)
                    assertEquals(listOf(request.id), phone.pendingPushRequests().map { it.id })

                    phone.approve(request.id)
                    assertEquals("accept", admin("status", tx).string("status"))
                    assertTrue(admin("finish", "--user", "alice", tx).getValue("authenticated").jsonPrimitive.boolean)
                    assertThrows<AuthException.AlreadyAnswered> { runBlocking { phone.approve(request.id) } }
                }
            }
        } finally {
            admin("delete-token", serial)
        }
    }
}
