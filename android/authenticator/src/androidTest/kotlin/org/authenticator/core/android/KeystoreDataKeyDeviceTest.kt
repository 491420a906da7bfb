package org.authenticator.core.android

import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.security.keystore.KeyInfo
import android.security.keystore.KeyProperties
import androidx.test.platform.app.InstrumentationRegistry
import java.security.KeyStore
import javax.crypto.SecretKey
import javax.crypto.SecretKeyFactory
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test

/**
 * What the JVM suite (android/jvm-tests) cannot show: the real Android Keystore, TEE or StrongBox,
 * the ABI library packaged in the APK, and JNA's Android AAR. Run on a device or emulator with
 * `./gradlew :authenticator:connectedAndroidTest` (android/README.md). Compiled, not run, by
 * android/run-jvm-tests.sh. Uses this test APK's own files and Keystore alias, erased around
 * each test.
 */
class KeystoreDataKeyDeviceTest {
    private lateinit var context: Context

    @Before
    fun setUp() {
        context = InstrumentationRegistry.getInstrumentation().targetContext
        KeystoreDataKey.eraseVaultsAndKey(context)
    }

    @After
    fun tearDown() {
        KeystoreDataKey.eraseVaultsAndKey(context)
    }

    @Test
    fun the_data_key_is_made_once_in_secure_hardware_and_opens_the_vault_again() {
        val key = KeystoreDataKey.getOrCreate(context)
        assertEquals(32, key.size)
        assertArrayEquals(key, KeystoreDataKey.getOrCreate(context))

        val store = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }
        val wrapping = store.getKey(KeystoreDataKey.KEY_ALIAS, null) as SecretKey
        assertNull("Keystore keys are not exportable", wrapping.encoded)
        val info = SecretKeyFactory.getInstance(wrapping.algorithm, "AndroidKeyStore")
            .getKeySpec(wrapping, KeyInfo::class.java) as KeyInfo
        assertEquals(256, info.keySize)
        if (Build.VERSION.SDK_INT >= 31) {
            val strongBox = context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)
            val expected = if (strongBox) KeyProperties.SECURITY_LEVEL_STRONGBOX else KeyProperties.SECURITY_LEVEL_TRUSTED_ENVIRONMENT
            assertEquals(expected, info.securityLevel)
        } else {
            @Suppress("DEPRECATION")
            assertTrue(info.isInsideSecureHardware)
        }
    }

    @Test
    fun the_packaged_core_gives_rfc_codes_through_jna_and_the_ticker() {
        val seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        val id = KeystoreDataKey.open(context).use {
            it.addAccountFromUri("otpauth://totp/RFC6238:sha1?secret=$seed&digits=8&issuer=RFC6238").id
        }
        KeystoreDataKey.open(context).use { auth ->
            assertEquals("94287082", auth.codes(59L).single { it.accountId == id }.value)
            val first = runBlocking { auth.codeUpdates().first() }
            assertEquals(listOf(id), first.map { it.accountId })
        }
    }

    @Test
    fun the_tls_verifier_initialises_with_the_app_context() {
        RustlsPlatformVerifier.init(context)
        RustlsPlatformVerifier.init(context) // a second call does nothing
    }
}
