package org.authenticator.core.android

import android.content.Context

/**
 * Gives the core's TLS stack (rustls with rustls-platform-verifier) the Android application
 * context, so that HTTPS certificates are checked by Android's own trust manager: system and
 * admin-installed CAs, revocation where available, the device's distrust decisions.
 *
 * Call [init] once per process before the first network call of the core (push enrollment,
 * polling, answers), for example in `Application.onCreate()`. Later calls do nothing.
 *
 * The JNI side is `Java_org_authenticator_core_android_RustlsPlatformVerifier_nativeInit` in
 * `libauthenticator_core.so` (crates/ffi/src/android.rs), which passes the context to
 * `rustls_platform_verifier::android::init_with_env`: see "Rust side" in android/README.md.
 */
object RustlsPlatformVerifier {
    @Volatile
    private var initialized = false

    @JvmStatic
    fun init(context: Context) {
        if (initialized) return
        synchronized(this) {
            if (initialized) return
            // The same library JNA loads for the generated bindings: one copy in the process.
            System.loadLibrary("authenticator_core")
            nativeInit(context.applicationContext)
            initialized = true
        }
    }

    @JvmStatic
    private external fun nativeInit(context: Context)
}
