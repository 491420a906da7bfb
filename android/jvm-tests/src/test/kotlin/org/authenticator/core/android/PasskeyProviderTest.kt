package org.authenticator.core.android

import android.app.Activity
import android.app.PendingIntent
import android.content.Intent
import android.content.pm.Signature
import android.content.pm.SigningInfo
import android.credentials.CreateCredentialException
import android.credentials.CreateCredentialResponse
import android.credentials.CredentialOption
import android.credentials.GetCredentialException
import android.credentials.GetCredentialResponse
import android.hardware.biometrics.BiometricManager
import android.os.Bundle
import android.os.CancellationSignal
import android.os.Looper
import android.os.OutcomeReceiver
import android.os.Parcel
import android.service.credentials.BeginCreateCredentialRequest
import android.service.credentials.BeginCreateCredentialResponse
import android.service.credentials.BeginGetCredentialOption
import android.service.credentials.BeginGetCredentialRequest
import android.service.credentials.BeginGetCredentialResponse
import android.service.credentials.CallingAppInfo
import android.service.credentials.CreateCredentialRequest
import android.service.credentials.CredentialEntry
import android.service.credentials.CredentialProviderService
import android.service.credentials.GetCredentialRequest
import java.security.KeyFactory
import java.security.MessageDigest
import java.security.interfaces.ECPublicKey
import java.security.spec.X509EncodedKeySpec
import java.util.Base64
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.json.JSONObject
import org.junit.After
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadow.api.Shadow
import org.robolectric.shadows.ShadowBiometricManager
import org.robolectric.shadows.ShadowSigningInfo

/**
 * The passkey provider on the framework of API 34 and 35 with the real core: the service's
 * entries, and the activity behind them driven with the extras the platform fills in, its results
 * read back through a Parcel as the platform's `PendingIntentResultHandler` reads them. The
 * registration's SPKI verifies the assertion's signature with java.security, as a relying party would.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34, 35])
class PasskeyProviderTest : FakeKeystoreTest() {
    private val appCert = "the signing certificate of the calling app".toByteArray()
    private val appOrigin get() = "android:apk-key-hash:" + b64url(sha256(appCert))
    private val browserPackage = "org.example.browser"
    private val browserCert = "the signing certificate of the browser".toByteArray()
    private var prompts = mutableListOf<Pair<String, String>>()

    @Before
    fun defaults() {
        PasskeyProvider.vault = VaultAccess.keystore()
        PasskeyProvider.privilegedApps = PrivilegedApps.NONE
        verifyWith(UserVerifier.Outcome.Verified)
    }

    @After
    fun restore() {
        PasskeyProvider.vault = VaultAccess.keystore()
        PasskeyProvider.privilegedApps = PrivilegedApps.NONE
        PasskeyProvider.userVerifier = BiometricUserVerifier()
    }

    // ---- the service ------------------------------------------------------------------------

    @Test
    fun begin_create_offers_one_create_entry_whose_mutable_intent_starts_the_activity() {
        val response = beginCreate(PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL, callingApp())
        val entry = response.createEntries.single()
        val items = entry.slice.items
        val name = items.single { it.hasHint(PasskeyProviderService.HINT_ACCOUNT_NAME) }.text
        assertTrue(name.isNotEmpty())
        val pending = items.single { it.hasHint(PasskeyProviderService.HINT_CREATE_PENDING_INTENT) }.action
        assertFalse(pending.isImmutable, "the platform fills the request into the intent")
        val intent = shadowOf(pending).savedIntent
        assertEquals(PasskeyActivity::class.java.name, intent.component!!.className)
        assertEquals(PasskeyActivity.ACTION_CREATE, intent.action)
    }

    @Test
    fun begin_create_of_another_credential_type_offers_no_entry() {
        val response = beginCreate("android.credentials.TYPE_PASSWORD_CREDENTIAL", callingApp())
        assertEquals(0, response.createEntries.size)
    }

    @Test
    fun begin_create_from_a_browser_not_listed_as_privileged_is_a_security_error() {
        val outcome = CompletableFuture<Any>()
        service().onBeginCreateCredential(
            BeginCreateCredentialRequest(PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL, Bundle(), browser("https://example.org")),
            CancellationSignal(),
            receiver(outcome),
        )
        val error = outcome.get(20, TimeUnit.SECONDS) as CreateCredentialException
        assertEquals("${PasskeyProvider.CREATE_DOM_EXCEPTION}/androidx.credentials.TYPE_SECURITY_ERROR", error.type)
    }

    @Test
    fun begin_get_offers_one_credential_entry_per_candidate_of_the_rp() {
        KeystoreDataKey.open(context).use { auth ->
            auth.passkeyCreate(creationOptions(user = "alice"), appOrigin, null, true)
            auth.passkeyCreate(creationOptions(user = "bob"), appOrigin, null, true)
            auth.passkeyCreate(creationOptions(user = "carol", rpId = "other.example"), appOrigin, null, true)
        }
        val option = BeginGetCredentialOption("option-1", PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL, requestBundle(requestOptions()))
        val response = beginGet(callingApp(), option)
        val entries = response.credentialEntries
        assertEquals(listOf("alice@example.org", "bob@example.org"), entries.map { title(it) }.sorted())
        for (entry in entries) {
            assertEquals(PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL, entry.type)
            assertEquals("option-1", entry.beginGetCredentialOptionId)
            val intent = shadowOf(pendingIntent(entry)).savedIntent
            assertEquals(PasskeyActivity.ACTION_GET, intent.action)
            assertNotNull(intent.getByteArrayExtra(PasskeyActivity.EXTRA_CREDENTIAL_ID))
        }
        val ids = entries.map { shadowOf(pendingIntent(it)).savedIntent.getByteArrayExtra(PasskeyActivity.EXTRA_CREDENTIAL_ID)!!.toList() }
        assertEquals(2, ids.toSet().size, "each entry carries its own credential")
    }

    @Test
    fun begin_get_without_a_matching_passkey_offers_no_entry() {
        val option = BeginGetCredentialOption("option-1", PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL, requestBundle(requestOptions()))
        assertEquals(0, beginGet(callingApp(), option).credentialEntries.size)
    }

    // ---- the activity: create ---------------------------------------------------------------

    @Test
    fun create_returns_a_registration_response_whose_fields_check_out() {
        val (code, result) = create(creationOptions(user = "alice"), callingApp())
        assertEquals(Activity.RESULT_OK, code)
        val json = registrationJson(result)
        val rawId = unb64url(json.getString("rawId"))
        assertEquals(json.getString("id"), b64url(rawId))
        assertTrue(rawId.size >= 16)
        assertEquals("public-key", json.getString("type"))
        assertEquals("platform", json.getString("authenticatorAttachment"))
        val response = json.getJSONObject("response")
        assertEquals(-7, response.getInt("publicKeyAlgorithm"))
        val clientData = JSONObject(String(unb64url(response.getString("clientDataJSON"))))
        assertEquals("webauthn.create", clientData.getString("type"))
        assertEquals(appOrigin, clientData.getString("origin"), "the app's apk-key-hash origin")
        assertEquals(b64url("registration challenge".toByteArray()), clientData.getString("challenge"))

        val authData = unb64url(response.getString("authenticatorData"))
        assertContentEquals(sha256("example.org".toByteArray()), authData.copyOfRange(0, 32))
        val flags = authData[32].toInt()
        assertEquals(0x45, flags and 0x45, "UP, UV (verified) and AT")
        val idLength = ((authData[53].toInt() and 0xff) shl 8) or (authData[54].toInt() and 0xff)
        assertContentEquals(rawId, authData.copyOfRange(55, 55 + idLength))
        val attestation = unb64url(response.getString("attestationObject"))
        assertTrue(contains(attestation, byteArrayOf(0x63) + "fmt".toByteArray() + byteArrayOf(0x64) + "none".toByteArray()))
        assertTrue(contains(attestation, byteArrayOf(0x67) + "attStmt".toByteArray() + byteArrayOf(0xa0.toByte())))
        assertTrue(contains(attestation, authData))
        val key = publicKey(json)
        assertEquals(256, key.params.curve.field.fieldSize)

        assertEquals("Create a passkey for example.org" to "alice@example.org", prompts.single())
        assertEquals(listOf("alice@example.org"), KeystoreDataKey.open(context).use { a -> a.passkeys(null).map { it.userName } })
    }

    @Test
    fun create_without_verification_tells_the_core_the_user_was_not_verified() {
        verifyWith(UserVerifier.Outcome.Unavailable)
        val (_, result) = create(creationOptions(), callingApp())
        val authData = unb64url(registrationJson(result).getJSONObject("response").getString("authenticatorData"))
        assertEquals(0x01, authData[32].toInt() and 0x05, "UP without UV")
    }

    @Test
    fun a_request_without_es256_ends_with_not_supported_error_and_stores_nothing() {
        val options = creationOptions().replace("\"alg\": -7", "\"alg\": -257")
        val (code, result) = create(options, callingApp())
        assertEquals(Activity.RESULT_OK, code, "the platform reads the exception only with RESULT_OK")
        assertNull(result.getParcelableExtra(CredentialProviderService.EXTRA_CREATE_CREDENTIAL_RESPONSE, CreateCredentialResponse::class.java))
        assertEquals("${PasskeyProvider.CREATE_DOM_EXCEPTION}/androidx.credentials.TYPE_NOT_SUPPORTED_ERROR", createError(result).type)
        assertEquals(0, storedPasskeys())
    }

    @Test
    fun an_excluded_credential_ends_with_invalid_state_error_and_stores_nothing_more() {
        val (_, first) = create(creationOptions(), callingApp())
        val id = registrationJson(first).getString("id")
        val excluded = creationOptions().replace(
            "\"pubKeyCredParams\"",
            "\"excludeCredentials\": [{\"type\": \"public-key\", \"id\": \"$id\"}], \"pubKeyCredParams\"",
        )
        val (_, result) = create(excluded, callingApp())
        assertEquals("${PasskeyProvider.CREATE_DOM_EXCEPTION}/androidx.credentials.TYPE_INVALID_STATE_ERROR", createError(result).type)
        assertEquals(1, storedPasskeys())
    }

    @Test
    fun a_dismissed_verification_ends_as_user_canceled_and_stores_nothing() {
        verifyWith(UserVerifier.Outcome.Canceled("dismissed"))
        val (_, result) = create(creationOptions(), callingApp())
        assertEquals(CreateCredentialException.TYPE_USER_CANCELED, createError(result).type)
        assertEquals(0, storedPasskeys())
    }

    @Test
    fun a_verifier_that_cannot_show_its_prompt_ends_with_not_allowed_error_and_stores_nothing() {
        PasskeyProvider.userVerifier = UserVerifier { _, _, _, _ -> throw IllegalArgumentException("no prompt") }
        val (code, result) = create(creationOptions(), callingApp())
        assertEquals(Activity.RESULT_OK, code)
        assertEquals("${PasskeyProvider.CREATE_DOM_EXCEPTION}/androidx.credentials.TYPE_NOT_ALLOWED_ERROR", createError(result).type)
        assertEquals(0, storedPasskeys())
    }

    @Test
    fun required_verification_on_a_phone_without_screen_lock_ends_with_not_allowed_error() {
        // The real BiometricUserVerifier: Robolectric's BiometricManager says nothing can authenticate.
        PasskeyProvider.userVerifier = BiometricUserVerifier()
        Shadow.extract<ShadowBiometricManager>(context.getSystemService(BiometricManager::class.java)).setCanAuthenticate(false)
        val (_, result) = create(creationOptions(userVerification = "required"), callingApp())
        assertEquals("${PasskeyProvider.CREATE_DOM_EXCEPTION}/androidx.credentials.TYPE_NOT_ALLOWED_ERROR", createError(result).type)
        assertEquals(0, storedPasskeys())
    }

    // ---- the activity: get ------------------------------------------------------------------

    @Test
    fun get_returns_an_assertion_whose_signature_verifies_with_the_registered_public_key() {
        val (_, created) = create(creationOptions(user = "alice"), callingApp())
        val registration = registrationJson(created)
        val entry = singleEntry(callingApp(), requestOptions())
        prompts.clear()

        val (code, result) = get(entry, requestOptions(), callingApp())
        assertEquals(Activity.RESULT_OK, code)
        val credential = result.getParcelableExtra(CredentialProviderService.EXTRA_GET_CREDENTIAL_RESPONSE, GetCredentialResponse::class.java)!!.credential
        assertEquals(PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL, credential.type)
        val json = JSONObject(credential.data.getString(PasskeyProvider.BUNDLE_KEY_AUTHENTICATION_RESPONSE_JSON)!!)
        assertEquals(registration.getString("id"), json.getString("id"))
        assertEquals("public-key", json.getString("type"))
        val response = json.getJSONObject("response")
        assertContentEquals("alice".toByteArray(), unb64url(response.getString("userHandle")))
        val clientDataJson = unb64url(response.getString("clientDataJSON"))
        val clientData = JSONObject(String(clientDataJson))
        assertEquals("webauthn.get", clientData.getString("type"))
        assertEquals(appOrigin, clientData.getString("origin"))
        val authData = unb64url(response.getString("authenticatorData"))
        assertEquals(0x05, authData[32].toInt() and 0x05, "UP and UV")
        assertTrue(verifies(publicKey(registration), authData, sha256(clientDataJson), unb64url(response.getString("signature"))))
        assertEquals("Sign in to example.org" to "alice@example.org", prompts.single())
    }

    @Test
    fun a_privileged_browser_gets_its_client_data_hash_signed_for_its_web_origin() {
        PasskeyProvider.privilegedApps = PrivilegedApps.of(mapOf(browserPackage to listOf(hex(sha256(browserCert)))))
        val browser = browser("https://example.org/") // the trailing slash some browsers add is dropped
        val createHash = sha256("the browser's own clientDataJSON for create".toByteArray())
        val (_, created) = create(creationOptions(), browser, createHash)
        val registration = registrationJson(created)
        assertEquals("", registration.getJSONObject("response").getString("clientDataJSON"), "the browser puts its own in")

        val entry = singleEntry(browser, requestOptions())
        val getHash = sha256("the browser's own clientDataJSON for get".toByteArray())
        val (_, result) = get(entry, requestOptions(), browser, getHash)
        val credential = result.getParcelableExtra(CredentialProviderService.EXTRA_GET_CREDENTIAL_RESPONSE, GetCredentialResponse::class.java)!!.credential
        val response = JSONObject(credential.data.getString(PasskeyProvider.BUNDLE_KEY_AUTHENTICATION_RESPONSE_JSON)!!).getJSONObject("response")
        assertEquals("", response.getString("clientDataJSON"))
        val authData = unb64url(response.getString("authenticatorData"))
        assertTrue(verifies(publicKey(registration), authData, getHash, unb64url(response.getString("signature"))))
    }

    @Test
    fun get_of_a_passkey_removed_meanwhile_ends_with_no_credential() {
        create(creationOptions(), callingApp())
        val entry = singleEntry(callingApp(), requestOptions())
        KeystoreDataKey.open(context).use { auth -> auth.removePasskey(auth.passkeys(null).single().id) }
        val (code, result) = get(entry, requestOptions(), callingApp())
        assertEquals(Activity.RESULT_OK, code)
        val error = result.getParcelableExtra(CredentialProviderService.EXTRA_GET_CREDENTIAL_EXCEPTION, GetCredentialException::class.java)!!
        assertEquals(GetCredentialException.TYPE_NO_CREDENTIAL, error.type)
    }

    // ---- the privileged apps list -----------------------------------------------------------

    @Test
    fun the_privileged_list_in_googles_format_allows_only_the_listed_package_with_its_certificate() {
        val print = sha256(browserCert).joinToString(":") { "%02X".format(it) }
        val list = PrivilegedApps.fromJson(
            """{"apps": [{"type": "android", "info": {"package_name": "$browserPackage",
               "signatures": [{"build": "release", "cert_fingerprint_sha256": "$print"}]}}]}""",
        )
        assertEquals(setOf(browserPackage), list.packages)
        assertTrue(list.allows(browserPackage, signing(browserCert)))
        assertFalse(list.allows(browserPackage, signing(appCert)), "another certificate")
        assertFalse(list.allows("org.example.other", signing(browserCert)), "another package")
    }

    // ---- helpers ----------------------------------------------------------------------------

    private fun verifyWith(outcome: UserVerifier.Outcome) {
        PasskeyProvider.userVerifier = UserVerifier { _, title, subtitle, done ->
            prompts += title.toString() to subtitle.toString()
            done(outcome)
        }
    }

    private fun creationOptions(user: String = "alice", rpId: String = "example.org", userVerification: String = "preferred") =
        """{"rp": {"id": "$rpId", "name": "Example"},
            "user": {"id": "${b64url(user.toByteArray())}", "name": "$user@$rpId", "displayName": "${user.replaceFirstChar { it.uppercase() }}"},
            "challenge": "${b64url("registration challenge".toByteArray())}",
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
            "authenticatorSelection": {"residentKey": "required", "userVerification": "$userVerification"}}"""

    private fun requestOptions() = """{"challenge": "${b64url("login challenge".toByteArray())}", "rpId": "example.org"}"""

    /** A request bundle as Jetpack's `CreatePublicKeyCredentialRequest` / `GetPublicKeyCredentialOption` makes it. */
    private fun requestBundle(json: String, clientDataHash: ByteArray? = null) = Bundle().apply {
        putString("androidx.credentials.BUNDLE_KEY_SUBTYPE", "androidx.credentials.BUNDLE_VALUE_SUBTYPE_CREATE_PUBLIC_KEY_CREDENTIAL_REQUEST")
        putString(PasskeyProvider.BUNDLE_KEY_REQUEST_JSON, json)
        putByteArray(PasskeyProvider.BUNDLE_KEY_CLIENT_DATA_HASH, clientDataHash)
    }

    private fun signing(vararg certs: ByteArray): SigningInfo {
        val info = Shadow.newInstanceOf(SigningInfo::class.java)
        Shadow.extract<ShadowSigningInfo>(info).setSignatures(certs.map { Signature(it) }.toTypedArray())
        return info
    }

    private fun callingApp() = CallingAppInfo("org.example.app", signing(appCert))

    private fun browser(origin: String) = CallingAppInfo(browserPackage, signing(browserCert), origin)

    private fun service(): PasskeyProviderService = Robolectric.setupService(PasskeyProviderService::class.java)

    private fun <R : Any, E : Throwable> receiver(outcome: CompletableFuture<Any>): OutcomeReceiver<R, E> =
        object : OutcomeReceiver<R, E> {
            override fun onResult(result: R) {
                outcome.complete(result)
            }

            override fun onError(error: E) {
                outcome.complete(error)
            }
        }

    private fun beginCreate(type: String, app: CallingAppInfo): BeginCreateCredentialResponse {
        val outcome = CompletableFuture<Any>()
        service().onBeginCreateCredential(BeginCreateCredentialRequest(type, requestBundle(creationOptions()), app), CancellationSignal(), receiver(outcome))
        return outcome.get(20, TimeUnit.SECONDS) as BeginCreateCredentialResponse
    }

    private fun beginGet(app: CallingAppInfo, option: BeginGetCredentialOption): BeginGetCredentialResponse {
        val outcome = CompletableFuture<Any>()
        val request = BeginGetCredentialRequest.Builder().setCallingAppInfo(app).addBeginGetCredentialOption(option).build()
        service().onBeginGetCredential(request, CancellationSignal(), receiver(outcome))
        val result = outcome.get(20, TimeUnit.SECONDS)
        check(result is BeginGetCredentialResponse) { "begin-get failed: $result" }
        return result
    }

    private fun singleEntry(app: CallingAppInfo, requestJson: String): CredentialEntry {
        val option = BeginGetCredentialOption("option-1", PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL, requestBundle(requestJson))
        return beginGet(app, option).credentialEntries.single()
    }

    private fun title(entry: CredentialEntry) = entry.slice.items.single { it.hasHint(PasskeyProviderService.HINT_USER_NAME) }.text.toString()

    private fun pendingIntent(entry: CredentialEntry): PendingIntent =
        entry.slice.items.single { it.hasHint(PasskeyProviderService.HINT_CREDENTIAL_PENDING_INTENT) }.action

    /** Begin-create's entry, its intent filled in as the platform does, through the activity. */
    private fun create(json: String, app: CallingAppInfo, clientDataHash: ByteArray? = null): Pair<Int, Intent> {
        val entry = beginCreate(PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL, app).createEntries.single()
        val pending = entry.slice.items.single { it.hasHint(PasskeyProviderService.HINT_CREATE_PENDING_INTENT) }.action
        val request = CreateCredentialRequest(app, PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL, requestBundle(json, clientDataHash))
        val intent = Intent(shadowOf(pending).savedIntent).putExtra(CredentialProviderService.EXTRA_CREATE_CREDENTIAL_REQUEST, request)
        return run(intent)
    }

    private fun get(entry: CredentialEntry, json: String, app: CallingAppInfo, clientDataHash: ByteArray? = null): Pair<Int, Intent> {
        val data = requestBundle(json, clientDataHash)
        val option = CredentialOption.Builder(PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL, data, data).build()
        val request = GetCredentialRequest(app, listOf(option))
        val intent = Intent(shadowOf(pendingIntent(entry)).savedIntent).putExtra(CredentialProviderService.EXTRA_GET_CREDENTIAL_REQUEST, request)
        return run(intent)
    }

    /** Runs the activity on [intent] (parcelled, as it crosses processes) until it finishes. */
    private fun run(intent: Intent): Pair<Int, Intent> {
        val activity = Robolectric.buildActivity(PasskeyActivity::class.java, parcelled(intent)).setup().get()
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
        while (!activity.isFinishing) {
            check(System.nanoTime() < deadline) { "the activity did not finish" }
            shadowOf(Looper.getMainLooper()).idle()
            Thread.sleep(5)
        }
        val shadow = shadowOf(activity)
        return shadow.resultCode to parcelled(shadow.resultIntent)
    }

    private fun parcelled(intent: Intent): Intent {
        val parcel = Parcel.obtain()
        try {
            intent.writeToParcel(parcel, 0)
            parcel.setDataPosition(0)
            return Intent.CREATOR.createFromParcel(parcel).also { it.setExtrasClassLoader(javaClass.classLoader) }
        } finally {
            parcel.recycle()
        }
    }

    private fun registrationJson(result: Intent): JSONObject {
        val response = result.getParcelableExtra(CredentialProviderService.EXTRA_CREATE_CREDENTIAL_RESPONSE, CreateCredentialResponse::class.java)
        assertNotNull(response, "a registration, not ${result.extras?.keySet()}: ${createErrorOrNull(result)?.type}")
        return JSONObject(response.data.getString(PasskeyProvider.BUNDLE_KEY_REGISTRATION_RESPONSE_JSON)!!)
    }

    private fun createErrorOrNull(result: Intent) =
        result.getParcelableExtra(CredentialProviderService.EXTRA_CREATE_CREDENTIAL_EXCEPTION, CreateCredentialException::class.java)

    private fun createError(result: Intent): CreateCredentialException = assertNotNull(createErrorOrNull(result))

    private fun storedPasskeys() = KeystoreDataKey.open(context).use { it.passkeys(null).size }

    private fun publicKey(registration: JSONObject): ECPublicKey {
        val spki = unb64url(registration.getJSONObject("response").getString("publicKey"))
        return KeyFactory.getInstance("EC").generatePublic(X509EncodedKeySpec(spki)) as ECPublicKey
    }

    private fun verifies(key: ECPublicKey, authData: ByteArray, clientDataHash: ByteArray, signature: ByteArray): Boolean {
        val verifier = java.security.Signature.getInstance("SHA256withECDSA")
        verifier.initVerify(key)
        verifier.update(authData)
        verifier.update(clientDataHash)
        return verifier.verify(signature)
    }

    private fun contains(haystack: ByteArray, needle: ByteArray) =
        (0..haystack.size - needle.size).any { i -> needle.indices.all { haystack[i + it] == needle[it] } }

    private fun sha256(bytes: ByteArray) = MessageDigest.getInstance("SHA-256").digest(bytes)

    private fun hex(bytes: ByteArray) = bytes.joinToString("") { "%02x".format(it) }

    private fun b64url(bytes: ByteArray) = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes)

    private fun unb64url(text: String) = Base64.getUrlDecoder().decode(text)
}
