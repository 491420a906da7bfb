package org.authenticator.core.android

import android.content.Context
import android.content.pm.SigningInfo
import android.credentials.CreateCredentialException
import android.credentials.GetCredentialException
import android.service.credentials.CallingAppInfo
import android.util.Base64
import androidx.annotation.RequiresApi
import java.security.MessageDigest
import org.authenticator.core.AuthException
import org.authenticator.core.Authenticator
import org.json.JSONException
import org.json.JSONObject

/**
 * The passkey provider's settings, read by [PasskeyProviderService] and [PasskeyActivity] at each
 * request. Set them once in `Application.onCreate()`, before Credential Manager binds the service.
 *
 * - [vault]: how a request reaches the vault (default: [VaultAccess.keystore], the vault
 *   [KeystoreDataKey.open] opens, opened and closed per request).
 * - [userVerifier]: how the activity verifies the user (default: [BiometricUserVerifier], the
 *   platform's `BiometricPrompt` with strong biometrics or the device credential).
 * - [privilegedApps]: the browsers allowed to call on behalf of a web origin (default: none; see
 *   [PrivilegedApps]).
 */
@RequiresApi(34)
object PasskeyProvider {
    @Volatile @JvmStatic var vault: VaultAccess = VaultAccess.keystore()

    @Volatile @JvmStatic var userVerifier: UserVerifier = BiometricUserVerifier()

    @Volatile @JvmStatic var privilegedApps: PrivilegedApps = PrivilegedApps.NONE

    /** Credential Manager's type of passkeys (`PublicKeyCredential.TYPE_PUBLIC_KEY_CREDENTIAL`). */
    const val TYPE_PUBLIC_KEY_CREDENTIAL = "androidx.credentials.TYPE_PUBLIC_KEY_CREDENTIAL"

    /** The request's `PublicKeyCredentialCreationOptionsJSON` / `…RequestOptionsJSON`. */
    const val BUNDLE_KEY_REQUEST_JSON = "androidx.credentials.BUNDLE_KEY_REQUEST_JSON"

    /** The browser's SHA-256 of its own clientDataJSON (only a privileged caller sends one). */
    const val BUNDLE_KEY_CLIENT_DATA_HASH = "androidx.credentials.BUNDLE_KEY_CLIENT_DATA_HASH"

    /** The create result: `RegistrationResponseJSON`. */
    const val BUNDLE_KEY_REGISTRATION_RESPONSE_JSON = "androidx.credentials.BUNDLE_KEY_REGISTRATION_RESPONSE_JSON"

    /** The get result: `AuthenticationResponseJSON`. */
    const val BUNDLE_KEY_AUTHENTICATION_RESPONSE_JSON = "androidx.credentials.BUNDLE_KEY_AUTHENTICATION_RESPONSE_JSON"

    /** Prefix of the WebAuthn DOM errors of a create, as Jetpack's `CreatePublicKeyCredentialDomException`. */
    const val CREATE_DOM_EXCEPTION = "androidx.credentials.TYPE_CREATE_PUBLIC_KEY_CREDENTIAL_DOM_EXCEPTION"

    /** Prefix of the WebAuthn DOM errors of a get, as Jetpack's `GetPublicKeyCredentialDomException`. */
    const val GET_DOM_EXCEPTION = "androidx.credentials.TYPE_GET_PUBLIC_KEY_CREDENTIAL_DOM_EXCEPTION"

    internal const val INVALID_STATE_ERROR = "androidx.credentials.TYPE_INVALID_STATE_ERROR"
    internal const val NOT_SUPPORTED_ERROR = "androidx.credentials.TYPE_NOT_SUPPORTED_ERROR"
    internal const val SECURITY_ERROR = "androidx.credentials.TYPE_SECURITY_ERROR"
    internal const val NOT_ALLOWED_ERROR = "androidx.credentials.TYPE_NOT_ALLOWED_ERROR"
    internal const val DATA_ERROR = "androidx.credentials.TYPE_DATA_ERROR"

    /**
     * The origin the core is given for [app]: the web origin a privileged browser set (only when
     * [privileged] lists the browser with its signing certificate; without the trailing `/` some
     * browsers add), else `android:apk-key-hash:` + base64url (no padding) of the SHA-256 of the
     * app's signing certificate.
     *
     * @throws OriginRefused when an app not in [privileged] claims a web origin.
     */
    @JvmStatic
    fun callerOrigin(app: CallingAppInfo, privileged: PrivilegedApps = privilegedApps): String {
        val claimed = app.origin
        if (claimed != null) {
            if (!privileged.allows(app.packageName, app.signingInfo)) {
                throw OriginRefused("${app.packageName} is not a browser this provider trusts to name a web origin")
            }
            return claimed.removeSuffix("/")
        }
        val signers = app.signingInfo.apkContentsSigners
        if (signers.isEmpty()) throw OriginRefused("${app.packageName} has no signing certificate")
        val hash = MessageDigest.getInstance("SHA-256").digest(signers[0].toByteArray())
        return "android:apk-key-hash:" + Base64.encodeToString(hash, Base64.URL_SAFE or Base64.NO_PADDING or Base64.NO_WRAP)
    }

    /** Credential Manager's error for a refused create (a WebAuthn DOM error where one fits). */
    @JvmStatic
    fun createException(e: Throwable): CreateCredentialException = when (e) {
        is AuthException.PasskeyAlreadyRegistered -> dom(CREATE_DOM_EXCEPTION, INVALID_STATE_ERROR, e)
        is AuthException.PasskeyNotSupported -> dom(CREATE_DOM_EXCEPTION, NOT_SUPPORTED_ERROR, e)
        is AuthException.PasskeyOriginRefused, is OriginRefused -> dom(CREATE_DOM_EXCEPTION, SECURITY_ERROR, e)
        is AuthException.UserVerificationRequired, is UserNotVerified -> dom(CREATE_DOM_EXCEPTION, NOT_ALLOWED_ERROR, e)
        is AuthException.PasskeyRequestInvalid, is RequestMissing -> dom(CREATE_DOM_EXCEPTION, DATA_ERROR, e)
        is UserCanceled -> CreateCredentialException(CreateCredentialException.TYPE_USER_CANCELED, e.message)
        else -> CreateCredentialException(CreateCredentialException.TYPE_UNKNOWN, e.message)
    }

    /** Credential Manager's error for a refused get. */
    @JvmStatic
    fun getException(e: Throwable): GetCredentialException = when (e) {
        is AuthException.PasskeyNotFound -> GetCredentialException(GetCredentialException.TYPE_NO_CREDENTIAL, e.message)
        is AuthException.PasskeyNotSupported -> getDom(NOT_SUPPORTED_ERROR, e)
        is AuthException.PasskeyOriginRefused, is OriginRefused -> getDom(SECURITY_ERROR, e)
        is AuthException.UserVerificationRequired, is UserNotVerified -> getDom(NOT_ALLOWED_ERROR, e)
        is AuthException.PasskeyRequestInvalid, is RequestMissing -> getDom(DATA_ERROR, e)
        is UserCanceled -> GetCredentialException(GetCredentialException.TYPE_USER_CANCELED, e.message)
        else -> GetCredentialException(GetCredentialException.TYPE_UNKNOWN, e.message)
    }

    private fun dom(prefix: String, error: String, e: Throwable) = CreateCredentialException("$prefix/$error", e.message)

    private fun getDom(error: String, e: Throwable) = GetCredentialException("$GET_DOM_EXCEPTION/$error", e.message)

    /** An app named a web origin without being a privileged browser of this provider. */
    class OriginRefused(message: String) : Exception(message)

    /** The request lacks what the platform always sends (its JSON, the caller). */
    class RequestMissing(message: String) : Exception(message)

    /** The user dismissed the verification. */
    class UserCanceled(message: String) : Exception(message)

    /** The verification failed (too many attempts, a hardware error). */
    class UserNotVerified(message: String) : Exception(message)
}

/** How a passkey request reaches the vault. */
interface VaultAccess {
    /** Runs [block] with the vault, on a background thread, and closes what it opened. */
    fun <T> use(context: Context, block: (Authenticator) -> T): T

    companion object {
        /** The vault [KeystoreDataKey.open] opens (`dbName` in its folder), opened for one request. */
        @JvmStatic
        @JvmOverloads
        fun keystore(dbName: String = KeystoreDataKey.DEFAULT_DB_NAME): VaultAccess = object : VaultAccess {
            override fun <T> use(context: Context, block: (Authenticator) -> T): T =
                KeystoreDataKey.open(context.applicationContext, dbName).use(block)
        }

        /** An [Authenticator] the app keeps open (never closed by the provider). */
        @JvmStatic
        fun shared(authenticator: Authenticator): VaultAccess = object : VaultAccess {
            override fun <T> use(context: Context, block: (Authenticator) -> T): T = block(authenticator)
        }
    }
}

/**
 * The browsers (and other privileged apps) this provider lets name a web origin, each with the
 * SHA-256 fingerprints of its signing certificates. From API 34 a caller holding
 * `CREDENTIAL_MANAGER_SET_ORIGIN` can pass any origin to Credential Manager, so the provider
 * checks the caller itself, as Jetpack's `CallingAppInfo.getOrigin(privilegedAllowlist)` does.
 * [fromJson] reads the format of Google's list of privileged browsers
 * (`https://www.gstatic.com/gpm-passkeys-privileged-apps/apps.json`); the app ships the list it
 * trusts.
 */
class PrivilegedApps private constructor(private val fingerprints: Map<String, Set<String>>) {
    /** The package names listed. */
    val packages: Set<String> get() = fingerprints.keys

    /**
     * Whether [packageName] is listed and signed by a listed certificate: with several signers all
     * must be listed, with one (and its rotation history) any certificate of the history.
     */
    fun allows(packageName: String, signingInfo: SigningInfo): Boolean {
        val allowed = fingerprints[packageName] ?: return false
        val certs = if (signingInfo.hasMultipleSigners()) signingInfo.apkContentsSigners else signingInfo.signingCertificateHistory
        if (certs.isNullOrEmpty()) return false
        val listed = certs.map { fingerprint(it.toByteArray()) in allowed }
        return if (signingInfo.hasMultipleSigners()) listed.all { it } else listed.any { it }
    }

    companion object {
        /** No browser: only apps call, each under its own `android:apk-key-hash:` origin. */
        @JvmField val NONE = PrivilegedApps(emptyMap())

        /** Package name → SHA-256 fingerprints (`AB:CD:…` or plain hex, any case). */
        @JvmStatic
        fun of(apps: Map<String, Collection<String>>): PrivilegedApps =
            PrivilegedApps(apps.mapValues { (_, prints) -> prints.map(::normalise).toSet() })

        /**
         * Google's format: `{"apps": [{"type": "android", "info": {"package_name": …,
         * "signatures": [{"build": "release", "cert_fingerprint_sha256": "AB:CD:…"}]}}]}`.
         *
         * @throws IllegalArgumentException when [json] is not in that format.
         */
        @JvmStatic
        fun fromJson(json: String): PrivilegedApps {
            val apps = mutableMapOf<String, MutableSet<String>>()
            try {
                val list = JSONObject(json).getJSONArray("apps")
                for (i in 0 until list.length()) {
                    val app = list.getJSONObject(i)
                    if (app.optString("type") != "android") continue
                    val info = app.getJSONObject("info")
                    val signatures = info.getJSONArray("signatures")
                    val prints = apps.getOrPut(info.getString("package_name")) { mutableSetOf() }
                    for (j in 0 until signatures.length()) {
                        prints += normalise(signatures.getJSONObject(j).getString("cert_fingerprint_sha256"))
                    }
                }
            } catch (e: JSONException) {
                throw IllegalArgumentException("not a privileged apps list: ${e.message}", e)
            }
            return PrivilegedApps(apps)
        }

        private fun normalise(print: String): String {
            val hex = print.replace(":", "").lowercase()
            require(hex.length == 64 && hex.all { it in '0'..'9' || it in 'a'..'f' }) {
                "a SHA-256 fingerprint is 32 bytes in hex, not '$print'"
            }
            return hex
        }

        private fun fingerprint(cert: ByteArray): String =
            MessageDigest.getInstance("SHA-256").digest(cert).joinToString("") { "%02x".format(it) }
    }
}
