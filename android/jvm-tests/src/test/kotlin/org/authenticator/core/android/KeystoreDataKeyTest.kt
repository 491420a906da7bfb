package org.authenticator.core.android

import android.content.pm.PackageManager
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import java.io.File
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config

/**
 * KeystoreDataKey against the stand-in Keystore ([FakeAndroidKeyStore]), on the module's minSdk
 * (24) and on API 34 and 35. What only a device can show (real TEE/StrongBox keys, real lock
 * screens) is listed in android/README.md.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [24, 34, 35])
class KeystoreDataKeyTest : FakeKeystoreTest() {
    private val dir: File get() = File(context.noBackupFilesDir, "authenticator-core")
    private val keyFile: File get() = File(dir, "data-key.v1.bin")

    private fun deviceHasStrongBox() {
        shadowOf(context.packageManager).setSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE, true)
    }

    // --- creation and reuse -------------------------------------------------------------------

    @Test
    fun first_call_creates_a_32_byte_key_wrapped_in_no_backup_files_and_later_calls_return_it() {
        assertFalse(KeystoreDataKey.exists(context))
        val first = KeystoreDataKey.getOrCreate(context)
        assertEquals(32, first.size)
        assertTrue(first.any { it != 0.toByte() })
        assertTrue(keyFile.isFile, "the wrapped key lives in noBackupFilesDir/authenticator-core")
        assertTrue(KeystoreDataKey.exists(context))
        assertEquals(setOf(KeystoreDataKey.KEY_ALIAS), keystore.aliases())

        val second = KeystoreDataKey.getOrCreate(context)
        assertContentEquals(first, second)
        assertEquals(1, keystore.generated.size, "the Keystore key is made once")
    }

    @Test
    fun the_key_file_holds_version_a_keystore_chosen_12_byte_iv_and_ciphertext_with_128_bit_tag() {
        val key = KeystoreDataKey.getOrCreate(context)
        val bytes = keyFile.readBytes()
        assertEquals(1, bytes[0].toInt(), "format version")
        assertEquals(12, bytes[1].toInt(), "IV length")
        assertEquals(2 + 12 + 32 + 16, bytes.size)
        assertFalse(bytes.toList().windowed(32).any { it.toByteArray().contentEquals(key) }, "the key is not stored in clear")

        // A second creation (after an erase) gets a fresh random IV from the Keystore.
        val iv1 = bytes.copyOfRange(2, 14)
        KeystoreDataKey.eraseVaultsAndKey(context)
        KeystoreDataKey.getOrCreate(context)
        val iv2 = keyFile.readBytes().copyOfRange(2, 14)
        assertFalse(iv1.contentEquals(iv2))
    }

    @Test
    fun a_leftover_temporary_key_file_from_a_crash_is_not_a_vault_and_does_not_block_creation() {
        dir.mkdirs()
        File(dir, "data-key.v1.bin.tmp").writeBytes(ByteArray(10))
        assertEquals(32, KeystoreDataKey.getOrCreate(context).size)
    }

    @Test
    fun a_keystore_entry_left_by_an_interrupted_creation_is_replaced() {
        KeystoreDataKey.getOrCreate(context)
        keyFile.delete() // crash between key generation and the rename
        val before = keystore.entry(KeystoreDataKey.KEY_ALIAS)
        KeystoreDataKey.getOrCreate(context)
        assertTrue(before !== keystore.entry(KeystoreDataKey.KEY_ALIAS))
        assertEquals(2, keystore.generated.size)
    }

    // --- the key-generation settings, field by field ------------------------------------------

    @Test
    fun the_wrapping_key_is_aes_256_gcm_no_padding_randomized_for_encrypt_and_decrypt_only() {
        KeystoreDataKey.getOrCreate(context)
        val spec = keystore.generated.single().spec
        assertEquals(KeystoreDataKey.KEY_ALIAS, spec.keystoreAlias)
        assertEquals(256, spec.keySize)
        assertEquals(KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT, spec.purposes)
        assertContentEquals(arrayOf(KeyProperties.BLOCK_MODE_GCM), spec.blockModes)
        assertContentEquals(arrayOf(KeyProperties.ENCRYPTION_PADDING_NONE), spec.encryptionPaddings)
        assertTrue(spec.isRandomizedEncryptionRequired)
        assertFalse(spec.isUserAuthenticationRequired, "off by default: push must work in the background")
        assertNull(spec.algorithmParameterSpec)
    }

    @Test
    @Config(sdk = [34, 35])
    fun from_api_28_the_key_works_only_while_the_device_is_unlocked() {
        KeystoreDataKey.getOrCreate(context)
        assertTrue(keystore.generated.single().spec.isUnlockedDeviceRequired)
    }

    @Test
    @Config(sdk = [34, 35])
    fun strongbox_is_used_when_the_device_has_it() {
        deviceHasStrongBox()
        keystore.strongBoxAvailable = true
        KeystoreDataKey.getOrCreate(context)
        assertTrue(keystore.generated.single().strongBox)
        assertTrue(keystore.generated.single().spec.isStrongBoxBacked)
    }

    @Test
    @Config(sdk = [34, 35])
    fun strongbox_refusing_falls_back_to_the_tee_with_the_same_settings() {
        deviceHasStrongBox()
        keystore.strongBoxAvailable = false // the feature flag says yes, the hardware says no
        val key = KeystoreDataKey.getOrCreate(context)
        assertEquals(1, keystore.refused.size, "StrongBox was tried first")
        val made = keystore.generated.single()
        assertFalse(made.strongBox)
        assertFalse(made.spec.isStrongBoxBacked)
        assertEquals(256, made.spec.keySize)
        assertTrue(made.spec.isUnlockedDeviceRequired)
        assertContentEquals(key, KeystoreDataKey.getOrCreate(context))
    }

    @Test
    @Config(sdk = [34, 35])
    fun strongbox_is_not_tried_without_the_feature_or_when_not_preferred() {
        KeystoreDataKey.getOrCreate(context)
        assertEquals(0, keystore.refused.size)
        assertFalse(keystore.generated.single().spec.isStrongBoxBacked)

        KeystoreDataKey.eraseVaultsAndKey(context)
        deviceHasStrongBox()
        keystore.strongBoxAvailable = true
        KeystoreDataKey.getOrCreate(context, KeystoreDataKey.Options(preferStrongBox = false))
        assertFalse(keystore.generated.last().spec.isStrongBoxBacked)
    }

    @Test
    @Config(sdk = [24])
    fun before_api_28_there_is_no_strongbox_to_try() {
        deviceHasStrongBox()
        KeystoreDataKey.getOrCreate(context)
        assertEquals(1, keystore.generated.size)
        assertEquals(0, keystore.refused.size)
    }

    /**
     * Makes the key with user authentication for 45 s and checks what every API level sets for it;
     * returns its spec for the checks of one level.
     */
    private fun authenticationBoundSpec(): KeyGenParameterSpec {
        KeystoreDataKey.getOrCreate(
            context,
            KeystoreDataKey.Options(requireUserAuthentication = true, authenticationValiditySeconds = 45),
        )
        val spec = keystore.generated.single().spec
        assertTrue(spec.isUserAuthenticationRequired)
        assertEquals(45, spec.userAuthenticationValidityDurationSeconds)
        assertFalse(spec.isInvalidatedByBiometricEnrollment)
        return spec
    }

    @Test
    @Config(sdk = [34, 35])
    fun user_authentication_from_api_30_is_time_based_with_strong_biometric_or_device_credential() {
        val spec = authenticationBoundSpec()
        assertEquals(
            KeyProperties.AUTH_BIOMETRIC_STRONG or KeyProperties.AUTH_DEVICE_CREDENTIAL,
            spec.userAuthenticationType,
        )
    }

    @Test
    @Config(sdk = [24])
    fun user_authentication_before_api_30_uses_the_validity_duration() {
        authenticationBoundSpec()
    }

    @Test
    fun options_refuse_a_validity_below_one_second() {
        assertFailsWith<IllegalArgumentException> {
            KeystoreDataKey.Options(requireUserAuthentication = true, authenticationValiditySeconds = 0)
        }
    }

    // --- every failure ------------------------------------------------------------------------

    @Test
    fun vault_files_without_a_wrapped_key_are_refused_and_no_key_is_made() {
        dir.mkdirs()
        File(dir, "vault.db").writeText("not empty")
        File(dir, "vault.db-wal").writeText("")
        val e = assertFailsWith<DataKeyException.WrappedKeyMissing> { KeystoreDataKey.getOrCreate(context) }
        assertEquals(listOf("vault.db", "vault.db-wal"), e.files)
        assertEquals(dir, e.directory)
        assertTrue(keystore.generated.isEmpty())
        assertFalse(keyFile.exists())
    }

    @Test
    fun any_stray_file_blocks_creation_too() {
        dir.mkdirs()
        File(dir, "notes").mkdirs()
        val e = assertFailsWith<DataKeyException.WrappedKeyMissing> { KeystoreDataKey.getOrCreate(context) }
        assertEquals(listOf("notes"), e.files)
    }

    /** Makes the key, rewrites its file as [damage] returns it, and expects the next call to find it corrupt. */
    private fun corruptAfterDamage(damage: (ByteArray) -> ByteArray): DataKeyException.WrappedKeyCorrupt {
        KeystoreDataKey.getOrCreate(context)
        keyFile.writeBytes(damage(keyFile.readBytes()))
        return assertFailsWith<DataKeyException.WrappedKeyCorrupt> { KeystoreDataKey.getOrCreate(context) }
    }

    @Test
    fun a_truncated_key_file_is_corrupt() {
        corruptAfterDamage { it.copyOf(30) }
    }

    @Test
    fun an_unknown_format_version_is_corrupt() {
        corruptAfterDamage { it.also { bytes -> bytes[0] = 2 } }
    }

    @Test
    fun an_impossible_iv_length_is_corrupt() {
        corruptAfterDamage { it.also { bytes -> bytes[1] = 40 } }
    }

    @Test
    fun a_flipped_ciphertext_bit_fails_authentication_and_is_corrupt() {
        val e = corruptAfterDamage { it.also { bytes -> bytes[20] = (bytes[20].toInt() xor 1).toByte() } }
        assertIs<javax.crypto.AEADBadTagException>(e.cause)
    }

    @Test
    fun a_key_file_without_its_keystore_key_is_key_missing_and_nothing_is_recreated() {
        KeystoreDataKey.getOrCreate(context)
        keystore.delete(KeystoreDataKey.KEY_ALIAS) // Keystore cleared, or the file came from elsewhere
        assertFailsWith<DataKeyException.KeyMissing> { KeystoreDataKey.getOrCreate(context) }
        assertTrue(keystore.aliases().isEmpty())
        assertTrue(keyFile.isFile, "the key file is left for the user to decide")
    }

    @Test
    fun a_key_reported_invalidated_when_loaded_is_key_invalidated() {
        KeystoreDataKey.getOrCreate(context)
        keystore.invalidation = FakeAndroidKeyStore.Invalidation.AT_KEY_LOAD
        val e = assertFailsWith<DataKeyException.KeyInvalidated> { KeystoreDataKey.getOrCreate(context) }
        assertIs<java.security.UnrecoverableKeyException>(e.cause)
    }

    @Test
    fun a_key_invalidated_at_cipher_init_is_key_invalidated_and_erase_starts_over() {
        KeystoreDataKey.getOrCreate(context)
        File(dir, "vault.db").writeText("a vault")
        keystore.invalidation = FakeAndroidKeyStore.Invalidation.AT_CIPHER_INIT
        val e = assertFailsWith<DataKeyException.KeyInvalidated> { KeystoreDataKey.getOrCreate(context) }
        assertIs<android.security.keystore.KeyPermanentlyInvalidatedException>(e.cause)
        assertTrue(File(dir, "vault.db").isFile, "nothing is erased without the user")

        keystore.invalidation = FakeAndroidKeyStore.Invalidation.NONE
        KeystoreDataKey.eraseVaultsAndKey(context)
        assertFalse(File(dir, "vault.db").exists())
        assertFalse(KeystoreDataKey.exists(context))
        assertTrue(keystore.aliases().isEmpty())
        assertEquals(32, KeystoreDataKey.getOrCreate(context).size)
    }

    @Test
    @Config(sdk = [34, 35])
    fun a_locked_device_is_user_not_authenticated_from_api_28() {
        val key = KeystoreDataKey.getOrCreate(context)
        keystore.deviceLocked = true
        val e = assertFailsWith<DataKeyException.UserNotAuthenticated> { KeystoreDataKey.getOrCreate(context) }
        assertIs<android.security.keystore.UserNotAuthenticatedException>(e.cause)
        keystore.deviceLocked = false
        assertContentEquals(key, KeystoreDataKey.getOrCreate(context))
    }

    @Test
    fun an_authentication_bound_key_without_recent_authentication_is_user_not_authenticated() {
        val options = KeystoreDataKey.Options(requireUserAuthentication = true)
        val key = KeystoreDataKey.getOrCreate(context, options)
        keystore.userAuthenticated = false
        assertFailsWith<DataKeyException.UserNotAuthenticated> { KeystoreDataKey.getOrCreate(context, options) }
        keystore.userAuthenticated = true
        assertContentEquals(key, KeystoreDataKey.getOrCreate(context, options))
    }

    @Test
    fun a_key_without_authentication_ignores_the_authentication_switch() {
        val key = KeystoreDataKey.getOrCreate(context)
        keystore.userAuthenticated = false
        assertContentEquals(key, KeystoreDataKey.getOrCreate(context))
    }

    @Test
    fun vault_file_names_are_plain_names_in_the_helper_folder() {
        assertEquals(File(dir, "work.db"), KeystoreDataKey.vaultFile(context, "work.db"))
        for (bad in listOf("", ".", "..", "a/b", "..\\x", "data-key.v1.bin", "data-key.lock")) {
            assertFailsWith<IllegalArgumentException>(bad) { KeystoreDataKey.vaultFile(context, bad) }
        }
    }

    // --- concurrency --------------------------------------------------------------------------

    @Test
    fun sixteen_concurrent_first_calls_make_one_key_and_all_get_it() {
        val threads = 16
        val pool = Executors.newFixedThreadPool(threads)
        try {
            val start = CountDownLatch(1)
            val results = (1..threads).map {
                pool.submit<ByteArray> {
                    start.await()
                    KeystoreDataKey.getOrCreate(context)
                }
            }
            start.countDown()
            val keys = results.map { it.get(30, TimeUnit.SECONDS) }
            assertEquals(1, keys.map { it.toList() }.toSet().size, "every caller got the same key")
            assertEquals(1, keystore.generated.size, "one Keystore key")
            assertNotNull(keystore.entry(KeystoreDataKey.KEY_ALIAS))
            assertEquals(threads, keystore.cipherInits.get(), "one wrap and fifteen unwraps")
        } finally {
            pool.shutdownNow()
        }
    }
}

