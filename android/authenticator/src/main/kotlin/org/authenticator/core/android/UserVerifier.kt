package org.authenticator.core.android

import android.app.Activity
import android.hardware.biometrics.BiometricManager
import android.hardware.biometrics.BiometricManager.Authenticators.BIOMETRIC_STRONG
import android.hardware.biometrics.BiometricManager.Authenticators.DEVICE_CREDENTIAL
import android.hardware.biometrics.BiometricPrompt
import android.os.CancellationSignal
import androidx.annotation.RequiresApi

/**
 * How [PasskeyActivity] verifies the user before the core creates or signs with a passkey. The
 * activity tells the core `userVerified = true` only for [Outcome.Verified].
 */
fun interface UserVerifier {
    /**
     * Asks the user, from [activity] (on its main thread), and calls [done] exactly once, on the
     * main thread. [title] and [subtitle] name the site or app and the account.
     */
    fun verify(activity: Activity, title: CharSequence, subtitle: CharSequence, done: (Outcome) -> Unit)

    /** What the verification gave. */
    sealed class Outcome {
        /** The platform verified the user (strong biometrics or the device credential). */
        object Verified : Outcome()

        /**
         * The device cannot verify anyone (no screen lock, no enrolled biometrics): the core gets
         * `userVerified = false` and refuses a request that requires verification. The user's tap
         * on the entry in Credential Manager's sheet is the presence the core signs (UP).
         */
        object Unavailable : Outcome()

        /** The user dismissed the prompt: the request ends as cancelled. */
        class Canceled(val message: String) : Outcome()

        /** The verification failed for good (locked out, a hardware error): the request is refused. */
        class Failed(val message: String) : Outcome()
    }
}

/**
 * The platform's `BiometricPrompt` (framework API, not androidx.biometric) allowing
 * `BIOMETRIC_STRONG or DEVICE_CREDENTIAL`: a class-3 biometric or the PIN, pattern or password.
 * Without either ([BiometricManager.canAuthenticate] not `BIOMETRIC_SUCCESS`) the outcome is
 * [UserVerifier.Outcome.Unavailable].
 */
@RequiresApi(34)
class BiometricUserVerifier : UserVerifier {
    override fun verify(
        activity: Activity,
        title: CharSequence,
        subtitle: CharSequence,
        done: (UserVerifier.Outcome) -> Unit,
    ) {
        val manager = activity.getSystemService(BiometricManager::class.java)
        if (manager == null || manager.canAuthenticate(AUTHENTICATORS) != BiometricManager.BIOMETRIC_SUCCESS) {
            done(UserVerifier.Outcome.Unavailable)
            return
        }
        val prompt = BiometricPrompt.Builder(activity)
            .setTitle(title)
            .setSubtitle(subtitle)
            .setAllowedAuthenticators(AUTHENTICATORS)
            .build()
        prompt.authenticate(
            CancellationSignal(),
            activity.mainExecutor,
            object : BiometricPrompt.AuthenticationCallback() {
                override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
                    done(UserVerifier.Outcome.Verified)
                }

                override fun onAuthenticationError(errorCode: Int, errString: CharSequence) {
                    done(
                        when (errorCode) {
                            BiometricPrompt.BIOMETRIC_ERROR_USER_CANCELED, BiometricPrompt.BIOMETRIC_ERROR_CANCELED ->
                                UserVerifier.Outcome.Canceled(errString.toString())
                            else -> UserVerifier.Outcome.Failed(errString.toString())
                        }
                    )
                }
                // onAuthenticationFailed: one attempt was not recognised; the prompt stays open.
            },
        )
    }

    companion object {
        /** Strong (class 3) biometrics or the device credential. */
        const val AUTHENTICATORS = BIOMETRIC_STRONG or DEVICE_CREDENTIAL
    }
}
