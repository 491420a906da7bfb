package org.authenticator.core

import java.nio.file.Path
import java.security.KeyFactory
import java.security.MessageDigest
import java.security.Signature
import java.security.spec.X509EncodedKeySpec
import java.util.Base64
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/**
 * Passkeys through the generated bindings and the real library, as an Android provider calls
 * them: the registration's public key (SPKI) verifies the assertion's signature with
 * java.security, as a relying party would.
 */
class PasskeyTest {
    @TempDir lateinit var dir: Path

    private val origin = "https://example.org"
    private fun b64url(bytes: ByteArray) = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes)
    private fun unb64url(text: String) = Base64.getUrlDecoder().decode(text)
    private fun json(text: String): JsonObject = Json.parseToJsonElement(text).jsonObject
    private fun JsonObject.text(key: String) = getValue(key).jsonPrimitive.content

    private fun creationOptions(userVerification: String = "preferred") =
        """{"rp": {"id": "example.org", "name": "Example"},
            "user": {"id": "${b64url("alice".toByteArray())}", "name": "alice@example.org", "displayName": "Alice"},
            "challenge": "${b64url("registration challenge".toByteArray())}",
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
            "authenticatorSelection": {"residentKey": "required", "userVerification": "$userVerification"}}"""

    private val requestOptions = """{"challenge": "${b64url("login challenge".toByteArray())}", "rpId": "example.org"}"""

    @Test
    fun `a passkey registers and signs in, and the signature verifies with its public key`() {
        openVault(dir).use { auth ->
            val registration = auth.passkeyCreate(creationOptions(), origin, null, true)
            val response = json(registration.responseJson)
            assertEquals(b64url(registration.credentialId), response.text("id"))
            assertEquals("platform", response.text("authenticatorAttachment"))
            val spki = unb64url(response.getValue("response").jsonObject.text("publicKey"))
            val publicKey = KeyFactory.getInstance("EC").generatePublic(X509EncodedKeySpec(spki))

            val candidates = auth.passkeyCandidates(requestOptions, origin)
            assertEquals(listOf("alice@example.org"), candidates.map { it.userName })
            val assertion = auth.passkeyGet(requestOptions, origin, null, candidates.single().credentialId, true)
            val clientData = json(String(assertion.clientDataJson!!))
            assertEquals("webauthn.get", clientData.text("type"))
            assertEquals(origin, clientData.text("origin"))
            val verifier = Signature.getInstance("SHA256withECDSA")
            verifier.initVerify(publicKey)
            verifier.update(assertion.authenticatorData)
            verifier.update(MessageDigest.getInstance("SHA-256").digest(assertion.clientDataJson))
            assertTrue(verifier.verify(assertion.signature))
            assertContentEquals("alice".toByteArray(), assertion.userHandle)
            assertEquals(0x05, assertion.authenticatorData[32].toInt() and 0x05, "UP and UV")
            assertTrue(auth.passkeys(null).single().lastUsedAt != null)
        }
    }

    @Test
    fun `refusals are typed and store nothing`() {
        openVault(dir).use { auth ->
            assertThrows<AuthException.UserVerificationRequired> {
                auth.passkeyCreate(creationOptions("required"), origin, null, false)
            }
            val field = assertThrows<AuthException.PasskeyRequestInvalid> {
                auth.passkeyCreate("""{"rp": {"id": "example.org"}, "user": {"id": ""}}""", origin, null, true)
            }
            assertEquals("user.id", field.field)
            assertThrows<AuthException.PasskeyOriginRefused> {
                auth.passkeyCreate(creationOptions(), "https://evil.example", null, true)
            }
            assertEquals(emptyList(), auth.passkeys(null))
            val made = auth.passkeyCreate(creationOptions(), origin, null, false)
            val excluded = creationOptions().replace(
                "\"pubKeyCredParams\"",
                "\"excludeCredentials\": [{\"type\": \"public-key\", \"id\": \"${b64url(made.credentialId)}\"}], \"pubKeyCredParams\"",
            )
            assertThrows<AuthException.PasskeyAlreadyRegistered> { auth.passkeyCreate(excluded, origin, null, true) }
            auth.renamePasskey(made.passkey.id, "Work")
            assertEquals("Work", auth.passkeys("example.org").single().name)
            auth.removePasskey(made.passkey.id)
            assertEquals(emptyList(), auth.passkeys(null))
        }
    }
}
