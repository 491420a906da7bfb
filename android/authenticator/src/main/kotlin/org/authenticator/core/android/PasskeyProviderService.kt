package org.authenticator.core.android

import android.app.Activity
import android.app.PendingIntent
import android.app.slice.Slice
import android.app.slice.SliceSpec
import android.content.Intent
import android.credentials.ClearCredentialStateException
import android.credentials.CreateCredentialException
import android.credentials.GetCredentialException
import android.graphics.drawable.Icon
import android.net.Uri
import android.os.CancellationSignal
import android.os.OutcomeReceiver
import android.service.credentials.BeginCreateCredentialRequest
import android.service.credentials.BeginCreateCredentialResponse
import android.service.credentials.BeginGetCredentialOption
import android.service.credentials.BeginGetCredentialRequest
import android.service.credentials.BeginGetCredentialResponse
import android.service.credentials.ClearCredentialStateRequest
import android.service.credentials.CreateEntry
import android.service.credentials.CredentialEntry
import android.service.credentials.CredentialProviderService
import android.util.Base64
import androidx.annotation.RequiresApi
import java.util.concurrent.Executor
import java.util.concurrent.Executors
import org.authenticator.core.AuthException
import org.authenticator.core.PasskeyInfo

/**
 * The passkey provider for Android's Credential Manager (framework API 34,
 * `android.service.credentials`). It answers the platform's queries with entries for its sheet;
 * the entry the user picks starts [PasskeyActivity], which verifies the user and calls the core.
 *
 * - **Create** (`onBeginCreateCredential`): one [CreateEntry] (this app, "passkeys are saved
 *   here") for a request of type [PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL]; none for other
 *   types. A web origin from a browser that [PasskeyProvider.privilegedApps] does not list is refused
 *   at once (`SecurityError`). No vault access.
 * - **Get** (`onBeginGetCredential`): for each passkey option, the core's
 *   [org.authenticator.core.Authenticator.passkeyCandidates] for its `requestJson` and the caller's
 *   origin ([PasskeyProvider.callerOrigin]); one [CredentialEntry] per candidate (user name,
 *   display name or the user's own name, last use), no key opened. A request the core refuses
 *   gives no entries; a vault that cannot be opened (the phone locked) gives `TYPE_UNKNOWN`.
 *
 * The entries' slices follow Jetpack's `CreateEntry` / `PublicKeyCredentialEntry` layout (hints
 * `androidx.credentials.provider.createEntry.*` / `…credentialEntry.*`), which the system's
 * selector reads. Their pending intents are mutable: the platform fills in
 * `EXTRA_CREATE_CREDENTIAL_REQUEST` / `EXTRA_GET_CREDENTIAL_REQUEST`.
 *
 * Declared in the module's manifest (permission `BIND_CREDENTIAL_PROVIDER_SERVICE`, meta-data
 * `android.credentials.provider` → `@xml/authenticator_credential_provider`); see android/README.md.
 */
@RequiresApi(34)
open class PasskeyProviderService : CredentialProviderService() {
    /** The activity behind the entries (an app's subclass of [PasskeyActivity], if it has one). */
    protected open val activityClass: Class<out Activity> get() = PasskeyActivity::class.java

    /** The name on the create entry: the app's label. */
    protected open fun accountName(): CharSequence =
        applicationInfo.loadLabel(packageManager).takeIf { it.isNotBlank() } ?: packageName

    override fun onBeginCreateCredential(
        request: BeginCreateCredentialRequest,
        cancellationSignal: CancellationSignal,
        callback: OutcomeReceiver<BeginCreateCredentialResponse, CreateCredentialException>,
    ) {
        if (request.type != PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL) {
            callback.onResult(BeginCreateCredentialResponse.Builder().build())
            return
        }
        val app = request.callingAppInfo
        if (app != null) {
            try {
                PasskeyProvider.callerOrigin(app)
            } catch (e: PasskeyProvider.OriginRefused) {
                callback.onError(PasskeyProvider.createException(e))
                return
            }
        }
        val intent = Intent(this, activityClass).setAction(PasskeyActivity.ACTION_CREATE).setIdentifier("create")
        val pending = PendingIntent.getActivity(this, 0, intent, PENDING_INTENT_FLAGS)
        val entry = CreateEntry(createEntrySlice(accountName(), pending))
        callback.onResult(BeginCreateCredentialResponse.Builder().addCreateEntry(entry).build())
    }

    override fun onBeginGetCredential(
        request: BeginGetCredentialRequest,
        cancellationSignal: CancellationSignal,
        callback: OutcomeReceiver<BeginGetCredentialResponse, GetCredentialException>,
    ) {
        executor.execute {
            val response = try {
                queryCandidates(request)
            } catch (e: Exception) {
                if (!cancellationSignal.isCanceled) callback.onError(PasskeyProvider.getException(e))
                return@execute
            }
            if (!cancellationSignal.isCanceled) callback.onResult(response)
        }
    }

    override fun onClearCredentialState(
        request: ClearCredentialStateRequest,
        cancellationSignal: CancellationSignal,
        callback: OutcomeReceiver<Void, ClearCredentialStateException>,
    ) {
        // Nothing is kept per session (no "last used account" state): nothing to clear.
        callback.onResult(null)
    }

    private fun queryCandidates(request: BeginGetCredentialRequest): BeginGetCredentialResponse {
        val builder = BeginGetCredentialResponse.Builder()
        val options = request.beginGetCredentialOptions.filter { it.type == PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL }
        val app = request.callingAppInfo
        if (options.isEmpty() || app == null) return builder.build()
        val origin = try {
            PasskeyProvider.callerOrigin(app)
        } catch (e: PasskeyProvider.OriginRefused) {
            return builder.build()
        }
        PasskeyProvider.vault.use(this) { auth ->
            for (option in options) {
                val json = option.candidateQueryData.getString(PasskeyProvider.BUNDLE_KEY_REQUEST_JSON) ?: continue
                val candidates = try {
                    auth.passkeyCandidates(json, origin)
                } catch (e: AuthException) {
                    continue // a request the core refuses (malformed, another site's rpId): no entries
                }
                for (passkey in candidates) builder.addCredentialEntry(credentialEntry(option, passkey))
            }
        }
        return builder.build()
    }

    private fun credentialEntry(option: BeginGetCredentialOption, passkey: PasskeyInfo): CredentialEntry {
        val id = Base64.encodeToString(passkey.credentialId, Base64.URL_SAFE or Base64.NO_PADDING or Base64.NO_WRAP)
        val intent = Intent(this, activityClass)
            .setAction(PasskeyActivity.ACTION_GET)
            .setIdentifier("get:${option.id}:$id") // one PendingIntent per entry, never merged
            .putExtra(PasskeyActivity.EXTRA_CREDENTIAL_ID, passkey.credentialId)
            .putExtra(PasskeyActivity.EXTRA_USER_NAME, passkey.userName)
        val pending = PendingIntent.getActivity(this, 0, intent, PENDING_INTENT_FLAGS)
        val subtitle = passkey.name.ifEmpty { passkey.userDisplayName }.ifEmpty { null }
        return CredentialEntry(option, credentialEntrySlice(option, passkey, subtitle, pending))
    }

    private fun credentialEntrySlice(
        option: BeginGetCredentialOption,
        passkey: PasskeyInfo,
        subtitle: CharSequence?,
        pending: PendingIntent,
    ): Slice {
        val builder = Slice.Builder(Uri.EMPTY, SliceSpec(PasskeyProvider.TYPE_PUBLIC_KEY_CREDENTIAL, 1))
            .addText(TYPE_DISPLAY_NAME, null, listOf(HINT_TYPE_DISPLAY_NAME))
            .addText(passkey.userName.ifEmpty { passkey.rpId }, null, listOf(HINT_USER_NAME))
            .addText(subtitle, null, listOf(HINT_DISPLAY_NAME))
            .addText("false", null, listOf(HINT_AUTO_ALLOWED))
            .addText(option.id, null, listOf(HINT_OPTION_ID))
            .addIcon(icon(), null, listOf(HINT_CREDENTIAL_ICON))
        passkey.lastUsedAt?.let { builder.addLong(it * 1000, null, listOf(HINT_LAST_USED)) }
        builder.addAction(pending, Slice.Builder(builder).addHints(listOf(HINT_CREDENTIAL_PENDING_INTENT)).build(), null)
        return builder.build()
    }

    private fun createEntrySlice(accountName: CharSequence, pending: PendingIntent): Slice {
        val builder = Slice.Builder(Uri.EMPTY, SliceSpec("type", 1))
            .addText(accountName, null, listOf(HINT_ACCOUNT_NAME))
            .addIcon(icon(), null, listOf(HINT_CREATE_ICON))
        builder.addAction(pending, Slice.Builder(builder).addHints(listOf(HINT_CREATE_PENDING_INTENT)).build(), null)
        return builder.build()
    }

    /** A framework drawable, present on every device (the module has no resources of its own). */
    private fun icon(): Icon = Icon.createWithResource("android", android.R.drawable.ic_lock_lock)

    companion object {
        /** Mutable (the platform fills in the request), updated in place when asked again. */
        const val PENDING_INTENT_FLAGS = PendingIntent.FLAG_MUTABLE or PendingIntent.FLAG_UPDATE_CURRENT

        /** The type label on the get entries. */
        const val TYPE_DISPLAY_NAME = "Passkey"

        // Jetpack's slice hints (androidx.credentials.provider.CreateEntry).
        const val HINT_ACCOUNT_NAME = "androidx.credentials.provider.createEntry.SLICE_HINT_USER_PROVIDER_ACCOUNT_NAME"
        const val HINT_CREATE_ICON = "androidx.credentials.provider.createEntry.SLICE_HINT_PROFILE_ICON"
        const val HINT_CREATE_PENDING_INTENT = "androidx.credentials.provider.createEntry.SLICE_HINT_PENDING_INTENT"

        // Jetpack's slice hints (androidx.credentials.provider.PublicKeyCredentialEntry).
        const val HINT_TYPE_DISPLAY_NAME = "androidx.credentials.provider.credentialEntry.SLICE_HINT_TYPE_DISPLAY_NAME"
        const val HINT_USER_NAME = "androidx.credentials.provider.credentialEntry.SLICE_HINT_USER_NAME"
        const val HINT_DISPLAY_NAME = "androidx.credentials.provider.credentialEntry.SLICE_HINT_CREDENTIAL_TYPE_DISPLAY_NAME"
        const val HINT_LAST_USED = "androidx.credentials.provider.credentialEntry.SLICE_HINT_LAST_USED_TIME_MILLIS"
        const val HINT_CREDENTIAL_ICON = "androidx.credentials.provider.credentialEntry.SLICE_HINT_PROFILE_ICON"
        const val HINT_CREDENTIAL_PENDING_INTENT = "androidx.credentials.provider.credentialEntry.SLICE_HINT_PENDING_INTENT"
        const val HINT_AUTO_ALLOWED = "androidx.credentials.provider.credentialEntry.SLICE_HINT_AUTO_ALLOWED"
        const val HINT_OPTION_ID = "androidx.credentials.provider.credentialEntry.SLICE_HINT_OPTION_ID"

        /** Core calls of the service and the activity run here, off the main thread. */
        internal val executor: Executor = Executors.newSingleThreadExecutor { r ->
            Thread(r, "authenticator-passkeys").apply { isDaemon = true }
        }
    }
}
