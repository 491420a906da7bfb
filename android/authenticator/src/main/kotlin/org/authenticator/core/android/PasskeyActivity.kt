package org.authenticator.core.android

import android.app.Activity
import android.content.Intent
import android.credentials.CreateCredentialResponse
import android.credentials.Credential
import android.credentials.GetCredentialResponse
import android.os.Bundle
import android.service.credentials.CallingAppInfo
import android.service.credentials.CreateCredentialRequest
import android.service.credentials.CredentialProviderService
import android.service.credentials.GetCredentialRequest
import androidx.annotation.RequiresApi
import org.authenticator.core.Authenticator
import org.json.JSONObject

/**
 * The activity behind [PasskeyProviderService]'s entries: it reads the request the platform filled
 * into the entry's pending intent, verifies the user ([PasskeyProvider.userVerifier]), calls the
 * core off the main thread and returns the result to Credential Manager.
 *
 * - **Create**: `CredentialProviderService.EXTRA_CREATE_CREDENTIAL_REQUEST`, a
 *   `android.service.credentials.CreateCredentialRequest` of type
 *   [PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL] whose data bundle holds the `requestJson`
 *   ([PasskeyProvider.BUNDLE_KEY_REQUEST_JSON]) and, from a browser, its client data hash
 *   ([PasskeyProvider.BUNDLE_KEY_CLIENT_DATA_HASH]) → [Authenticator.passkeyCreate] →
 *   `EXTRA_CREATE_CREDENTIAL_RESPONSE`: a `CreateCredentialResponse` whose bundle holds the
 *   `RegistrationResponseJSON` under [PasskeyProvider.BUNDLE_KEY_REGISTRATION_RESPONSE_JSON].
 * - **Get**: `EXTRA_GET_CREDENTIAL_REQUEST`, a `GetCredentialRequest` with the one option of the
 *   entry (its `credentialRetrievalData` holds `requestJson` and the hash), and the credential id
 *   the entry carries ([EXTRA_CREDENTIAL_ID]) → [Authenticator.passkeyGet] →
 *   `EXTRA_GET_CREDENTIAL_RESPONSE`: a `GetCredentialResponse` with a `Credential` of type
 *   [PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL] whose bundle holds the
 *   `AuthenticationResponseJSON` under [PasskeyProvider.BUNDLE_KEY_AUTHENTICATION_RESPONSE_JSON].
 * - **Refused**: `EXTRA_CREATE_CREDENTIAL_EXCEPTION` / `EXTRA_GET_CREDENTIAL_EXCEPTION` with the
 *   framework's `CreateCredentialException` / `GetCredentialException`
 *   ([PasskeyProvider.createException], [PasskeyProvider.getException]: WebAuthn DOM error types
 *   where one fits). Every result is set with `RESULT_OK`: the platform reads the extras only then
 *   (any other result code is "cancelled").
 *
 * The caller's origin is [PasskeyProvider.callerOrigin]; `userVerified` is true only when the
 * verifier said [UserVerifier.Outcome.Verified].
 */
@RequiresApi(34)
open class PasskeyActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val create = intent.getParcelableExtra(
            CredentialProviderService.EXTRA_CREATE_CREDENTIAL_REQUEST,
            CreateCredentialRequest::class.java,
        )
        val get = intent.getParcelableExtra(
            CredentialProviderService.EXTRA_GET_CREDENTIAL_REQUEST,
            GetCredentialRequest::class.java,
        )
        when {
            create != null -> create(create)
            get != null -> get(get)
            else -> {
                // Started by something other than Credential Manager: nothing to answer.
                setResult(RESULT_CANCELED)
                finish()
            }
        }
    }

    private fun create(request: CreateCredentialRequest) {
        val parsed = try {
            if (request.type != PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL) {
                throw PasskeyProvider.RequestMissing("not a passkey request: ${request.type}")
            }
            Parsed.of(request.data, request.callingAppInfo)
        } catch (e: Exception) {
            return finishCreate(error = e)
        }
        val options = parsed.options
        val rp = options?.optJSONObject("rp")?.optString("id")?.ifEmpty { null } ?: parsed.origin
        val user = options?.optJSONObject("user")?.optString("name").orEmpty()
        verifyThen("Create a passkey for $rp", user, ::finishCreate) { auth, verified ->
            auth.passkeyCreate(parsed.json, parsed.origin, parsed.clientDataHash, verified).responseJson
        }
    }

    private fun get(request: GetCredentialRequest) {
        val credentialId = intent.getByteArrayExtra(EXTRA_CREDENTIAL_ID)
        val option = request.credentialOptions.firstOrNull { it.type == PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL }
        val parsed = try {
            if (credentialId == null || option == null) {
                throw PasskeyProvider.RequestMissing("no passkey option or credential in the request")
            }
            Parsed.of(option.credentialRetrievalData, request.callingAppInfo)
        } catch (e: Exception) {
            return finishGet(error = e)
        }
        val rp = parsed.options?.optString("rpId")?.ifEmpty { null } ?: parsed.origin
        val user = intent.getStringExtra(EXTRA_USER_NAME).orEmpty()
        verifyThen("Sign in to $rp", user, ::finishGet) { auth, verified ->
            auth.passkeyGet(parsed.json, parsed.origin, parsed.clientDataHash, credentialId, verified).responseJson
        }
    }

    /** Verifies the user, then runs [call] off the main thread and finishes with its result. */
    private fun verifyThen(
        title: String,
        subtitle: String,
        finish: (String?, Throwable?) -> Unit,
        call: (Authenticator, Boolean) -> String,
    ) {
        var answered = false
        val onOutcome: (UserVerifier.Outcome) -> Unit = onOutcome@{ outcome ->
            if (answered) return@onOutcome // a verifier calling back twice: the first answer stands
            answered = true
            val verified = when (outcome) {
                is UserVerifier.Outcome.Verified -> true
                is UserVerifier.Outcome.Unavailable -> false
                is UserVerifier.Outcome.Canceled -> return@onOutcome finish(null, PasskeyProvider.UserCanceled(outcome.message))
                is UserVerifier.Outcome.Failed -> return@onOutcome finish(null, PasskeyProvider.UserNotVerified(outcome.message))
            }
            PasskeyProviderService.executor.execute {
                val result = runCatching { PasskeyProvider.vault.use(this) { call(it, verified) } }
                runOnUiThread { finish(result.getOrNull(), result.exceptionOrNull()) }
            }
        }
        try {
            PasskeyProvider.userVerifier.verify(this, title, subtitle, onOutcome)
        } catch (e: RuntimeException) {
            // The prompt could not be shown (BiometricPrompt refusing its settings, a broken
            // verifier): nobody was verified, and the caller hears so instead of a crash.
            onOutcome(UserVerifier.Outcome.Failed(e.message ?: e.javaClass.name))
        }
    }

    private fun finishCreate(json: String? = null, error: Throwable? = null) {
        val result = Intent()
        if (json != null) {
            val data = Bundle().apply { putString(PasskeyProvider.BUNDLE_KEY_REGISTRATION_RESPONSE_JSON, json) }
            result.putExtra(CredentialProviderService.EXTRA_CREATE_CREDENTIAL_RESPONSE, CreateCredentialResponse(data))
        } else {
            result.putExtra(
                CredentialProviderService.EXTRA_CREATE_CREDENTIAL_EXCEPTION,
                PasskeyProvider.createException(error ?: IllegalStateException("no result")),
            )
        }
        setResult(RESULT_OK, result)
        finish()
    }

    private fun finishGet(json: String? = null, error: Throwable? = null) {
        val result = Intent()
        if (json != null) {
            val data = Bundle().apply { putString(PasskeyProvider.BUNDLE_KEY_AUTHENTICATION_RESPONSE_JSON, json) }
            val credential = Credential(PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL, data)
            result.putExtra(CredentialProviderService.EXTRA_GET_CREDENTIAL_RESPONSE, GetCredentialResponse(credential))
        } else {
            result.putExtra(
                CredentialProviderService.EXTRA_GET_CREDENTIAL_EXCEPTION,
                PasskeyProvider.getException(error ?: IllegalStateException("no result")),
            )
        }
        setResult(RESULT_OK, result)
        finish()
    }

    /** What the core needs from a request bundle and its caller. */
    private class Parsed(val json: String, val origin: String, val clientDataHash: ByteArray?, val options: JSONObject?) {
        companion object {
            fun of(data: Bundle, app: CallingAppInfo?): Parsed {
                val json = data.getString(PasskeyProvider.BUNDLE_KEY_REQUEST_JSON)
                    ?: throw PasskeyProvider.RequestMissing("the request has no requestJson")
                app ?: throw PasskeyProvider.RequestMissing("the request names no calling app")
                val origin = PasskeyProvider.callerOrigin(app)
                val hash = data.getByteArray(PasskeyProvider.BUNDLE_KEY_CLIENT_DATA_HASH)
                // Only for the prompt's text; the core parses (and refuses) the request itself.
                val options = runCatching { JSONObject(json).let { it.optJSONObject("publicKey") ?: it } }.getOrNull()
                return Parsed(json, origin, hash, options)
            }
        }
    }

    companion object {
        /** The action of the create entry's intent. */
        const val ACTION_CREATE = "org.authenticator.core.android.action.CREATE_PASSKEY"

        /** The action of a get entry's intent. */
        const val ACTION_GET = "org.authenticator.core.android.action.GET_PASSKEY"

        /** The credential id a get entry stands for (ByteArray). */
        const val EXTRA_CREDENTIAL_ID = "org.authenticator.core.android.extra.CREDENTIAL_ID"

        /** The passkey's user name, for the prompt (String). */
        const val EXTRA_USER_NAME = "org.authenticator.core.android.extra.USER_NAME"
    }
}
