package org.authenticator.core.android

import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.UserNotAuthenticatedException
import androidx.annotation.RequiresApi
import java.io.File
import java.io.FileOutputStream
import java.io.IOException
import java.io.RandomAccessFile
import java.security.GeneralSecurityException
import java.security.KeyStore
import java.security.ProviderException
import java.security.SecureRandom
import java.security.UnrecoverableKeyException
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import org.authenticator.core.Authenticator

/**
 * Keeps the vault's 32-byte data key on this device, wrapped by an Android Keystore key.
 *
 * The core encrypts every secret in the vault under a data key the app supplies. This helper
 * creates that key once (32 bytes from [SecureRandom]), encrypts it with an AES-256-GCM key that
 * lives in the Android Keystore (in StrongBox when the device has one, else in the TEE) and never
 * leaves it, and stores the result (format version, IV, ciphertext with tag) in
 * `noBackupFilesDir/authenticator-core/data-key.v1.bin`. Vaults opened with [open] live in the same
 * folder.
 *
 * Why `noBackupFilesDir`: Android's Auto Backup skips it. The wrapped key is worthless anywhere
 * but here, because the Keystore key that unwraps it cannot be exported, backed up or restored; a
 * restored copy on a new phone would be a key that can never be unwrapped next to a vault that can
 * never be opened. Keeping both out of backups lets a restored phone start clean. Moving accounts
 * to another phone goes through the core's encrypted export instead, under a secret the user holds.
 *
 * The Keystore key is bound to this device and to an unlocked device: it never leaves the
 * Keystore (nor this phone: Keystore keys are not backed up or transferred), and from API 28 it
 * decrypts only while the device is unlocked (`setUnlockedDeviceRequired(true)`). So the data key
 * cannot be unwrapped on a locked phone: an app that must handle a push arriving while the phone
 * is locked keeps its [Authenticator] open from the last unlock (the core holds the data key in
 * memory), or keeps the payload and handles it after the next unlock. This is what makes a PIN
 * on a push token resist offline guessing: the vault's files alone are AES-256 ciphertext under
 * a key that only this unlocked device can produce.
 *
 * Rules this helper keeps:
 * - It never creates a new data key while vault files exist without the wrapped key
 *   ([DataKeyException.WrappedKeyMissing]); a new key could not open them, and writing a new
 *   vault over them would destroy the accounts.
 * - A Keystore key that was permanently invalidated (for example the screen lock was removed) is
 *   reported as [DataKeyException.KeyInvalidated]: the vault cannot be opened any more, and only the
 *   user can decide to restore an export or erase ([eraseVaultsAndKey]).
 * - Creation is serialised within the process and across processes (a lock file), and the
 *   wrapped key is written to a temporary file, synced and renamed, so a crash leaves either no
 *   key or a complete one.
 *
 * Every function does disk and Keystore work (StrongBox can take a noticeable fraction of a
 * second): call them off the main thread. [getOrCreate] hands out the raw key: overwrite it with
 * zeros (`fill(0)`) as soon as it has been passed on; [open] does that itself.
 */
object KeystoreDataKey {
    /** Size of the data key the core expects. */
    const val DATA_KEY_SIZE: Int = 32

    /** The vault file name [open] uses by default. */
    const val DEFAULT_DB_NAME: String = "vault.db"

    /** Alias of the wrapping key in the Android Keystore. */
    const val KEY_ALIAS: String = "org.authenticator.core.data-key-wrapping.v1"

    private const val DIRECTORY = "authenticator-core"
    private const val WRAPPED_KEY_FILE = "data-key.v1.bin"
    private const val WRAPPED_KEY_TEMP = "data-key.v1.bin.tmp"
    private const val LOCK_FILE = "data-key.lock"
    private val OWN_FILES = setOf(WRAPPED_KEY_FILE, WRAPPED_KEY_TEMP, LOCK_FILE)

    private const val ANDROID_KEYSTORE = "AndroidKeyStore"
    private const val TRANSFORMATION = "AES/GCM/NoPadding"
    private const val FORMAT_VERSION: Byte = 1
    private const val GCM_TAG_BYTES = 16
    private const val MAX_WRAPPED_SIZE = 256

    /** Binds the ciphertext to its purpose and format; changing it makes old files unreadable. */
    private val AAD = "org.authenticator.core data key, format 1".toByteArray(Charsets.UTF_8)

    private val processLock = Any()

    /**
     * How a new wrapping key is made. Only used when the key is created: the options of an
     * existing key cannot change (erase and recreate to change them).
     *
     * @property requireUserAuthentication the Keystore key is usable only for
     *   [authenticationValiditySeconds] after the user unlocked the device or confirmed a strong
     *   biometric or the device credential. Opening the vault then throws
     *   [DataKeyException.UserNotAuthenticated] until the app has had the user authenticate
     *   (BiometricPrompt with DEVICE_CREDENTIAL allowed, or the keyguard). Such a key is also
     *   invalidated if the secure lock screen is removed. Off by default: an [Authenticator]
     *   opened at the last unlock must keep verifying push requests in the background. (Every key
     *   already requires an unlocked device to be unwrapped, from API 28.)
     * @property authenticationValiditySeconds seconds the key stays usable after authentication;
     *   must be at least 1 (per-use authentication would need a CryptoObject flow).
     * @property preferStrongBox create the key in StrongBox when the device has it, falling back to
     *   the TEE when StrongBox refuses.
     */
    data class Options(
        val requireUserAuthentication: Boolean = false,
        val authenticationValiditySeconds: Int = 30,
        val preferStrongBox: Boolean = true,
    ) {
        init {
            require(!requireUserAuthentication || authenticationValiditySeconds >= 1) {
                "authenticationValiditySeconds must be at least 1 when authentication is required"
            }
        }
    }

    /**
     * The data key: unwrapped from this device's stored copy, or created, wrapped and stored on the
     * first call. The caller owns the returned array and should zero it after use.
     *
     * @throws DataKeyException when the key cannot be unwrapped or must not be created.
     * @throws IOException when the key file cannot be read or written.
     */
    @JvmStatic
    @JvmOverloads
    fun getOrCreate(context: Context, options: Options = Options()): ByteArray =
        withLock(context) { dir -> loadOrCreate(dir, context, options) }

    /**
     * Opens (or creates) the vault [dbName] in `noBackupFilesDir/authenticator-core/` with the data
     * key of [getOrCreate], and zeroes this side's copy of the key afterwards.
     *
     * @throws DataKeyException as [getOrCreate].
     * @throws org.authenticator.core.AuthException from the core, e.g. `WrongKey` when the vault was
     *   sealed with another key, or `VaultUnreadable` when the file is not a vault (left untouched).
     */
    @JvmStatic
    @JvmOverloads
    fun open(
        context: Context,
        dbName: String = DEFAULT_DB_NAME,
        options: Options = Options(),
    ): Authenticator {
        val vault = vaultFile(context, dbName)
        val key = getOrCreate(context, options)
        try {
            return Authenticator(vault.path, key)
        } finally {
            key.fill(0)
        }
    }

    /** Where [open] keeps the vault [dbName]: a plain file name inside this helper's folder. */
    @JvmStatic
    fun vaultFile(context: Context, dbName: String): File {
        require(
            dbName.isNotEmpty() && dbName != "." && dbName != ".." &&
                '/' !in dbName && '\\' !in dbName && dbName !in OWN_FILES
        ) { "dbName must be a plain file name, not '$dbName'" }
        return File(directory(context), dbName)
    }

    /** Whether this device holds a wrapped data key (says nothing about whether it still unwraps). */
    @JvmStatic
    fun exists(context: Context): Boolean = File(directory(context), WRAPPED_KEY_FILE).isFile

    /**
     * Erases every vault in this helper's folder, the wrapped data key and the Keystore key. The
     * accounts in those vaults are gone unless the user has an export. For the user's explicit
     * "start over", typically after [DataKeyException.KeyInvalidated]. Close every [Authenticator]
     * opened on these vaults first.
     */
    @JvmStatic
    fun eraseVaultsAndKey(context: Context) {
        withLock(context) { dir ->
            dir.listFiles()?.filter { it.name != LOCK_FILE }?.forEach { file ->
                if (!file.deleteRecursively()) throw IOException("cannot delete $file")
            }
            deleteKeystoreEntry()
        }
    }

    // -----------------------------------------------------------------------------------------

    private fun loadOrCreate(dir: File, context: Context, options: Options): ByteArray {
        val wrappedFile = File(dir, WRAPPED_KEY_FILE)
        if (wrappedFile.exists()) {
            return unwrap(readWrapped(wrappedFile))
        }
        val strays = dir.listFiles()?.map { it.name }?.filter { it !in OWN_FILES }.orEmpty()
        if (strays.isNotEmpty()) {
            throw DataKeyException.WrappedKeyMissing(dir, strays.sorted())
        }
        // No key file and no vault: nothing can depend on a Keystore entry left by an interrupted
        // creation, so start from a clean alias.
        deleteKeystoreEntry()
        val wrappingKey = generateWrappingKey(context, options)
        val dataKey = ByteArray(DATA_KEY_SIZE)
        try {
            SecureRandom().nextBytes(dataKey)
            writeAtomically(dir, wrap(wrappingKey, dataKey))
            return dataKey
        } catch (e: Throwable) {
            dataKey.fill(0)
            throw e
        }
    }

    private fun unwrap(wrapped: Wrapped): ByteArray {
        val entry = try {
            keyStore().getKey(KEY_ALIAS, null)
        } catch (e: UnrecoverableKeyException) {
            // Some devices report an invalidated key here rather than at Cipher.init.
            throw DataKeyException.KeyInvalidated(e)
        } catch (e: GeneralSecurityException) {
            throw DataKeyException.KeystoreFailure("cannot read the Keystore key", e)
        }
        val key = entry as? SecretKey ?: throw DataKeyException.KeyMissing()

        return keystoreCall {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(GCM_TAG_BYTES * 8, wrapped.iv))
            cipher.updateAAD(AAD)
            val plain = try {
                cipher.doFinal(wrapped.ciphertext)
            } catch (e: AEADBadTagException) {
                throw DataKeyException.WrappedKeyCorrupt("the wrapped key does not authenticate", e)
            }
            if (plain.size != DATA_KEY_SIZE) {
                plain.fill(0)
                throw DataKeyException.WrappedKeyCorrupt("the unwrapped key has ${plain.size} bytes")
            }
            plain
        }
    }

    private fun wrap(key: SecretKey, dataKey: ByteArray): ByteArray = keystoreCall {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        // The Keystore picks a fresh random 96-bit IV (randomized encryption is required).
        cipher.init(Cipher.ENCRYPT_MODE, key)
        cipher.updateAAD(AAD)
        val ciphertext = cipher.doFinal(dataKey)
        val iv = cipher.iv
        ByteArray(2 + iv.size + ciphertext.size).also { out ->
            out[0] = FORMAT_VERSION
            out[1] = iv.size.toByte()
            iv.copyInto(out, 2)
            ciphertext.copyInto(out, 2 + iv.size)
        }
    }

    /** Maps Keystore exceptions of one cipher operation to [DataKeyException]s. */
    private fun <T> keystoreCall(block: () -> T): T = try {
        block()
    } catch (e: DataKeyException) {
        throw e
    } catch (e: KeyPermanentlyInvalidatedException) {
        throw DataKeyException.KeyInvalidated(e)
    } catch (e: UserNotAuthenticatedException) {
        throw DataKeyException.UserNotAuthenticated(e)
    } catch (e: GeneralSecurityException) {
        throw DataKeyException.KeystoreFailure("Keystore operation failed", e)
    } catch (e: ProviderException) {
        // Keystore failures surface as ProviderException on some devices.
        throw DataKeyException.KeystoreFailure("Keystore operation failed", e)
    }

    private fun generateWrappingKey(context: Context, options: Options): SecretKey {
        if (options.preferStrongBox &&
            Build.VERSION.SDK_INT >= Build.VERSION_CODES.P &&
            context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)
        ) {
            generateInStrongBox(options)?.let { return it }
            deleteKeystoreEntry()
        }
        return keystoreCall { generate(keySpec(options).build()) }
    }

    /** A StrongBox key, or null when StrongBox refuses (StrongBoxUnavailableException and kin). */
    @RequiresApi(Build.VERSION_CODES.P)
    private fun generateInStrongBox(options: Options): SecretKey? = try {
        generate(keySpec(options).setIsStrongBoxBacked(true).build())
    } catch (e: ProviderException) {
        null
    } catch (e: GeneralSecurityException) {
        null
    }

    private fun generate(spec: KeyGenParameterSpec): SecretKey {
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
        generator.init(spec)
        return generator.generateKey()
    }

    @Suppress("DEPRECATION") // setUserAuthenticationValidityDurationSeconds, for API < 30
    private fun keySpec(options: Options): KeyGenParameterSpec.Builder {
        val builder = KeyGenParameterSpec.Builder(
            KEY_ALIAS,
            KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT,
        )
            .setKeySize(256)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setRandomizedEncryptionRequired(true)
        // This device only, and only while unlocked: a thief with a locked phone, or with the
        // app's files, cannot have the data key unwrapped. (Keystore keys are never exported or
        // backed up; the wrapped key lives in noBackupFilesDir.)
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) {
            builder.setUnlockedDeviceRequired(true)
        }
        if (options.requireUserAuthentication) {
            builder.setUserAuthenticationRequired(true)
            // Enrolling another fingerprint needs the device credential already; invalidating the
            // key for it would lose the vault for no security gain.
            builder.setInvalidatedByBiometricEnrollment(false)
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                builder.setUserAuthenticationParameters(
                    options.authenticationValiditySeconds,
                    KeyProperties.AUTH_BIOMETRIC_STRONG or KeyProperties.AUTH_DEVICE_CREDENTIAL,
                )
            } else {
                builder.setUserAuthenticationValidityDurationSeconds(
                    options.authenticationValiditySeconds,
                )
            }
        }
        return builder
    }

    private fun keyStore(): KeyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

    private fun deleteKeystoreEntry() {
        try {
            val store = keyStore()
            if (store.containsAlias(KEY_ALIAS)) store.deleteEntry(KEY_ALIAS)
        } catch (e: GeneralSecurityException) {
            throw DataKeyException.KeystoreFailure("cannot delete the Keystore key", e)
        }
    }

    private class Wrapped(val iv: ByteArray, val ciphertext: ByteArray)

    private fun readWrapped(file: File): Wrapped {
        val bytes = file.readBytes()
        fun corrupt(why: String): Nothing = throw DataKeyException.WrappedKeyCorrupt("$file: $why")
        if (bytes.size < 2 || bytes.size > MAX_WRAPPED_SIZE) corrupt("${bytes.size} bytes")
        if (bytes[0] != FORMAT_VERSION) corrupt("unknown format ${bytes[0]}")
        val ivSize = bytes[1].toInt()
        if (ivSize !in 12..16) corrupt("IV of $ivSize bytes")
        val ciphertextSize = bytes.size - 2 - ivSize
        if (ciphertextSize != DATA_KEY_SIZE + GCM_TAG_BYTES) corrupt("ciphertext of $ciphertextSize bytes")
        return Wrapped(
            iv = bytes.copyOfRange(2, 2 + ivSize),
            ciphertext = bytes.copyOfRange(2 + ivSize, bytes.size),
        )
    }

    /** Temporary file, fsync, rename: the key file is either absent or complete. */
    private fun writeAtomically(dir: File, bytes: ByteArray) {
        val temp = File(dir, WRAPPED_KEY_TEMP)
        FileOutputStream(temp).use { out ->
            out.write(bytes)
            out.fd.sync()
        }
        if (!temp.renameTo(File(dir, WRAPPED_KEY_FILE))) {
            temp.delete()
            throw IOException("cannot move $temp into place")
        }
    }

    private fun directory(context: Context): File {
        val dir = File(context.noBackupFilesDir, DIRECTORY)
        if (!dir.isDirectory && !dir.mkdirs() && !dir.isDirectory) {
            throw IOException("cannot create $dir")
        }
        return dir
    }

    /** One caller at a time: threads of this process, then other processes of the app. */
    private fun <T> withLock(context: Context, block: (File) -> T): T = synchronized(processLock) {
        val dir = directory(context)
        RandomAccessFile(File(dir, LOCK_FILE), "rw").use { file ->
            val lock = file.channel.lock()
            try {
                block(dir)
            } finally {
                lock.release()
            }
        }
    }
}

/** Why [KeystoreDataKey] cannot hand out the data key. */
sealed class DataKeyException(message: String, cause: Throwable? = null) : Exception(message, cause) {

    /**
     * The Keystore key that wraps the data key was permanently invalidated (for example the
     * secure lock screen was removed or reset, for a key that requires user authentication). The
     * data key, and with it every vault in the folder, cannot be recovered on this device: restore
     * an encrypted export, or erase with [KeystoreDataKey.eraseVaultsAndKey] and start over.
     */
    class KeyInvalidated(cause: Throwable) : DataKeyException(
        "The Android Keystore key protecting the vault's data key was permanently invalidated; " +
            "the vault cannot be opened without it",
        cause,
    )

    /**
     * The wrapped data key exists but the Keystore key that unwraps it does not (the Keystore was
     * cleared, or the file came from another device or install). Same outcome as [KeyInvalidated].
     */
    class KeyMissing : DataKeyException(
        "The wrapped data key exists but its Android Keystore key is gone; the vault cannot be " +
            "opened without it"
    )

    /**
     * Vault files exist in [directory] but the wrapped data key does not. No new key is created,
     * because it could not open them. Restore the key file, or delete the files deliberately.
     */
    class WrappedKeyMissing(val directory: File, val files: List<String>) : DataKeyException(
        "Found ${files.joinToString()} in $directory but no wrapped data key; refusing to create " +
            "a new key that could never open them"
    )

    /** The wrapped key file is malformed or fails authentication. */
    class WrappedKeyCorrupt(reason: String, cause: Throwable? = null) :
        DataKeyException("The wrapped data key is unusable: $reason", cause)

    /**
     * The device is locked (every key made on API 28+ requires an unlocked device), or the key
     * requires user authentication and the user has not authenticated recently enough: have them
     * unlock (BiometricPrompt allowing the device credential, or the keyguard), then call again
     * (within the validity period, for an authentication-bound key).
     */
    class UserNotAuthenticated(cause: Throwable) :
        DataKeyException("User authentication is required to use the vault's data key", cause)

    /** Any other Keystore or crypto provider failure. */
    class KeystoreFailure(reason: String, cause: Throwable) : DataKeyException(reason, cause)
}
