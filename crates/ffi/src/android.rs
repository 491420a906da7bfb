//! Android's one platform quirk, isolated: rustls-platform-verifier checks certificates with
//! Android's own trust manager, and needs the JVM, the app context and its class loader first.
//! The shell calls `org.authenticator.core.android.RustlsPlatformVerifier.init(context)` once
//! (android/authenticator); this is its JNI side, outside uniffi.

use jni::EnvUnowned;
use jni::errors::ThrowRuntimeExAndDefault;
use jni::objects::{JClass, JObject};

/// `RustlsPlatformVerifier.nativeInit(Context)`, a static method. Idempotent; errors and panics
/// become a Java RuntimeException instead of crossing into the JVM.
// JNI finds the function by its exported name; no other unsafe code exists in the crate.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_authenticator_core_android_RustlsPlatformVerifier_nativeInit<'caller>(
    mut env: EnvUnowned<'caller>,
    _class: JClass<'caller>,
    context: JObject<'caller>,
) {
    env.with_env(|env| rustls_platform_verifier::android::init_with_env(env, context))
        .resolve::<ThrowRuntimeExAndDefault>()
}
