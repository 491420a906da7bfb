package org.authenticator.core.android

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.UserNotAuthenticatedException
import java.io.InputStream
import java.io.OutputStream
import java.security.InvalidAlgorithmParameterException
import java.security.InvalidKeyException
import java.security.Key
import java.security.KeyStore
import java.security.KeyStoreSpi
import java.security.NoSuchAlgorithmException
import java.security.Provider
import java.security.ProviderException
import java.security.SecureRandom
import java.security.Security
import java.security.UnrecoverableKeyException
import java.security.cert.Certificate
import java.security.spec.AlgorithmParameterSpec
import java.util.Collections
import java.util.Date
import java.util.Enumeration
import java.util.concurrent.atomic.AtomicInteger
import javax.crypto.Cipher
import javax.crypto.CipherSpi
import javax.crypto.KeyGeneratorSpi
import javax.crypto.NoSuchPaddingException
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import javax.crypto.spec.SecretKeySpec

/**
 * A stand-in for the Android Keystore, registered under its provider name "AndroidKeyStore".
 *
 * Robolectric has no AndroidKeyStore (robolectric issue #1518), so [KeystoreDataKey] would fail at
 * `KeyStore.getInstance("AndroidKeyStore")`. This provider gives it one that keeps the rules the
 * real Keystore enforces on an AES-GCM key, so that code which breaks them fails here too:
 * - keys are opaque (`getEncoded()` is null; the material never leaves the provider);
 * - only [KeyGenParameterSpec] makes keys, for AES 128/192/256 only;
 * - encryption with a caller-chosen IV is refused while randomized encryption is required (the
 *   default); the provider picks a random 12-byte IV itself, readable with `Cipher.getIV()`;
 * - the tag is 128 bits, and decryption needs a 12-byte IV and a 128-bit tag;
 * - a key is used only for the purposes, block mode and padding it was made for.
 *
 * Switches make it behave like devices that lack StrongBox, a key that was permanently invalidated
 * (reported when the key is loaded, as some devices do, or at `Cipher.init`), a locked device, and a
 * user who has not authenticated recently. Everything it was asked to make is recorded in [generated].
 *
 * Tests [install] it before each test and [uninstall] it after: the JDK's provider list outlives
 * Robolectric's per-API-level class loaders.
 */
class FakeAndroidKeyStore private constructor() : Provider(NAME, "1.0", "Android Keystore stand-in for tests") {

    /** A Keystore key: the spec it was made with, its material kept inside the provider. */
    class Entry(val spec: KeyGenParameterSpec, val strongBox: Boolean, val material: ByteArray)

    /** The key object callers get: opaque, like the real `AndroidKeyStoreSecretKey`. */
    class OpaqueKey(val alias: String, private val algorithm: String) : SecretKey {
        override fun getAlgorithm(): String = algorithm
        override fun getFormat(): String? = null
        override fun getEncoded(): ByteArray? = null
    }

    enum class Invalidation { NONE, AT_KEY_LOAD, AT_CIPHER_INIT }

    /** The device has StrongBox; when false, a StrongBox-backed spec is refused. */
    @Volatile var strongBoxAvailable = false
    @Volatile var invalidation = Invalidation.NONE
    /** The device is locked: keys made with `setUnlockedDeviceRequired(true)` refuse to work. */
    @Volatile var deviceLocked = false
    /** The user has (recently) authenticated: keys that require authentication work only then. */
    @Volatile var userAuthenticated = true

    private val stored = Collections.synchronizedMap(mutableMapOf<String, Entry>())
    /** Every successful key generation, in order (specs refused for StrongBox are in [refused]). */
    val generated: MutableList<Entry> = Collections.synchronizedList(mutableListOf())
    val refused: MutableList<KeyGenParameterSpec> = Collections.synchronizedList(mutableListOf())
    val cipherInits = AtomicInteger()

    fun entry(alias: String): Entry? = stored[alias]
    fun aliases(): Set<String> = synchronized(stored) { stored.keys.toSet() }
    fun delete(alias: String) {
        stored.remove(alias)
    }

    init {
        putService(service("KeyStore", NAME, KeyStoreImpl::class.java) { KeyStoreImpl() })
        putService(service("KeyGenerator", "AES", KeyGeneratorImpl::class.java) { KeyGeneratorImpl() })
        putService(object : Service(this, "Cipher", TRANSFORMATION, CipherImpl::class.java.name, null, null) {
            override fun newInstance(constructorParameter: Any?): Any = CipherImpl()

            // Cipher.getInstance without a provider picks one at init: only Keystore keys come here.
            override fun supportsParameter(parameter: Any?): Boolean = parameter is OpaqueKey
        })
    }

    private fun service(type: String, algorithm: String, spi: Class<*>, make: () -> Any) =
        object : Service(this, type, algorithm, spi.name, null, null) {
            override fun newInstance(constructorParameter: Any?): Any = make()
        }

    private inner class KeyStoreImpl : KeyStoreSpi() {
        override fun engineLoad(stream: InputStream?, password: CharArray?) {
            require(stream == null) { "AndroidKeyStore is loaded with load(null)" }
        }

        override fun engineGetKey(alias: String, password: CharArray?): Key? {
            val entry = stored[alias] ?: return null
            if (invalidation == Invalidation.AT_KEY_LOAD) {
                throw UnrecoverableKeyException("Failed to obtain information about key")
            }
            return OpaqueKey(entry.spec.keystoreAlias, KeyProperties.KEY_ALGORITHM_AES)
        }

        override fun engineContainsAlias(alias: String): Boolean = stored.containsKey(alias)
        override fun engineDeleteEntry(alias: String) {
            stored.remove(alias)
        }

        override fun engineAliases(): Enumeration<String> = Collections.enumeration(aliases())
        override fun engineSize(): Int = stored.size
        override fun engineIsKeyEntry(alias: String): Boolean = stored.containsKey(alias)
        override fun engineIsCertificateEntry(alias: String): Boolean = false
        override fun engineGetCreationDate(alias: String): Date? = null
        override fun engineGetCertificate(alias: String): Certificate? = null
        override fun engineGetCertificateChain(alias: String): Array<Certificate>? = null
        override fun engineGetCertificateAlias(cert: Certificate): String? = null
        override fun engineSetKeyEntry(alias: String, key: Key, password: CharArray?, chain: Array<out Certificate>?) =
            throw UnsupportedOperationException("import keys with KeyStore.setEntry(KeyProtection) on Android")

        override fun engineSetKeyEntry(alias: String, key: ByteArray, chain: Array<out Certificate>?) =
            throw UnsupportedOperationException("not supported by AndroidKeyStore")

        override fun engineSetCertificateEntry(alias: String, cert: Certificate) =
            throw UnsupportedOperationException("not used by KeystoreDataKey")

        override fun engineStore(stream: OutputStream?, password: CharArray?) =
            throw UnsupportedOperationException("AndroidKeyStore cannot be stored")
    }

    private inner class KeyGeneratorImpl : KeyGeneratorSpi() {
        private var spec: KeyGenParameterSpec? = null

        override fun engineInit(random: SecureRandom?) =
            throw IllegalStateException("AndroidKeyStore keys need a KeyGenParameterSpec")

        override fun engineInit(keysize: Int, random: SecureRandom?) =
            throw IllegalStateException("AndroidKeyStore keys need a KeyGenParameterSpec")

        override fun engineInit(params: AlgorithmParameterSpec?, random: SecureRandom?) {
            if (params !is KeyGenParameterSpec) {
                throw InvalidAlgorithmParameterException("expected a KeyGenParameterSpec, got $params")
            }
            if (params.keySize !in setOf(-1, 128, 192, 256)) {
                throw InvalidAlgorithmParameterException("AES key size ${params.keySize}")
            }
            spec = params
        }

        override fun engineGenerateKey(): SecretKey {
            val spec = spec ?: throw IllegalStateException("not initialised")
            val strongBox = Build.VERSION.SDK_INT >= 28 && StrongBoxCheck.isStrongBoxBacked(spec)
            if (strongBox && !strongBoxAvailable) {
                refused += spec
                throw StrongBoxCheck.unavailable()
            }
            val size = if (spec.keySize == -1) 128 else spec.keySize
            val material = ByteArray(size / 8).also { SecureRandom().nextBytes(it) }
            val entry = Entry(spec, strongBox, material)
            stored[spec.keystoreAlias] = entry
            generated += entry
            return OpaqueKey(spec.keystoreAlias, KeyProperties.KEY_ALGORITHM_AES)
        }
    }

    private inner class CipherImpl : CipherSpi() {
        private var inner: Cipher? = null
        private var iv: ByteArray? = null

        override fun engineSetMode(mode: String) {
            if (!mode.equals("GCM", ignoreCase = true)) throw NoSuchAlgorithmException(mode)
        }

        override fun engineSetPadding(padding: String) {
            if (!padding.equals("NoPadding", ignoreCase = true)) throw NoSuchPaddingException(padding)
        }

        override fun engineGetBlockSize(): Int = 16
        override fun engineGetOutputSize(inputLen: Int): Int = inputLen + TAG_BITS / 8
        override fun engineGetIV(): ByteArray? = iv?.clone()
        override fun engineGetParameters(): java.security.AlgorithmParameters? = null

        override fun engineInit(opmode: Int, key: Key, random: SecureRandom?) = init(opmode, key, null)

        override fun engineInit(opmode: Int, key: Key, params: AlgorithmParameterSpec?, random: SecureRandom?) =
            init(opmode, key, params)

        override fun engineInit(opmode: Int, key: Key, params: java.security.AlgorithmParameters?, random: SecureRandom?) =
            init(opmode, key, params?.getParameterSpec(GCMParameterSpec::class.java))

        private fun init(opmode: Int, key: Key, params: AlgorithmParameterSpec?) {
            if (key !is OpaqueKey) throw InvalidKeyException("not an AndroidKeyStore key")
            val entry = stored[key.alias] ?: throw InvalidKeyException("key ${key.alias} was deleted")
            cipherInits.incrementAndGet()
            val spec = entry.spec
            if (invalidation == Invalidation.AT_CIPHER_INIT) {
                throw KeyPermanentlyInvalidatedException()
            }
            if (Build.VERSION.SDK_INT >= 28 && deviceLocked && StrongBoxCheck.isUnlockedDeviceRequired(spec)) {
                throw UserNotAuthenticatedException("device locked")
            }
            if (spec.isUserAuthenticationRequired && !userAuthenticated) {
                throw UserNotAuthenticatedException("user not authenticated")
            }
            if (!spec.blockModes.contains(KeyProperties.BLOCK_MODE_GCM)) {
                throw InvalidKeyException("block mode GCM not authorized for this key")
            }
            if (!spec.encryptionPaddings.contains(KeyProperties.ENCRYPTION_PADDING_NONE)) {
                throw InvalidKeyException("padding NoPadding not authorized for this key")
            }
            val ivBytes: ByteArray
            when (opmode) {
                Cipher.ENCRYPT_MODE -> {
                    if (spec.purposes and KeyProperties.PURPOSE_ENCRYPT == 0) {
                        throw InvalidKeyException("key not authorized for encryption")
                    }
                    if (params != null && spec.isRandomizedEncryptionRequired) {
                        throw InvalidAlgorithmParameterException(
                            "Caller-provided IV not permitted when encrypting (randomized encryption required)"
                        )
                    }
                    ivBytes = ByteArray(IV_BYTES).also { SecureRandom().nextBytes(it) }
                }
                Cipher.DECRYPT_MODE -> {
                    if (spec.purposes and KeyProperties.PURPOSE_DECRYPT == 0) {
                        throw InvalidKeyException("key not authorized for decryption")
                    }
                    if (params !is GCMParameterSpec) throw InvalidAlgorithmParameterException("IV required when decrypting")
                    if (params.tLen != TAG_BITS) throw InvalidAlgorithmParameterException("tag length ${params.tLen}")
                    if (params.iv.size != IV_BYTES) throw InvalidAlgorithmParameterException("IV of ${params.iv.size} bytes")
                    ivBytes = params.iv
                }
                else -> throw UnsupportedOperationException("mode $opmode")
            }
            iv = ivBytes
            inner = Cipher.getInstance(TRANSFORMATION, "SunJCE").apply {
                init(opmode, SecretKeySpec(entry.material, "AES"), GCMParameterSpec(TAG_BITS, ivBytes))
            }
        }

        private fun cipher(): Cipher = inner ?: throw IllegalStateException("not initialised")

        override fun engineUpdateAAD(src: ByteArray, offset: Int, len: Int) = cipher().updateAAD(src, offset, len)
        override fun engineUpdate(input: ByteArray, inputOffset: Int, inputLen: Int): ByteArray? =
            cipher().update(input, inputOffset, inputLen)

        override fun engineUpdate(input: ByteArray, inputOffset: Int, inputLen: Int, output: ByteArray, outputOffset: Int): Int =
            cipher().update(input, inputOffset, inputLen, output, outputOffset)

        override fun engineDoFinal(input: ByteArray?, inputOffset: Int, inputLen: Int): ByteArray =
            if (input == null) cipher().doFinal() else cipher().doFinal(input, inputOffset, inputLen)

        override fun engineDoFinal(input: ByteArray?, inputOffset: Int, inputLen: Int, output: ByteArray, outputOffset: Int): Int =
            cipher().doFinal(input ?: ByteArray(0), inputOffset, inputLen, output, outputOffset)
    }

    /** API 28+ members, in their own class so that API 24's verifier never has to load them. */
    private object StrongBoxCheck {
        fun isStrongBoxBacked(spec: KeyGenParameterSpec): Boolean = spec.isStrongBoxBacked
        fun isUnlockedDeviceRequired(spec: KeyGenParameterSpec): Boolean = spec.isUnlockedDeviceRequired
        fun unavailable(): ProviderException = android.security.keystore.StrongBoxUnavailableException()
    }

    companion object {
        const val NAME = "AndroidKeyStore"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_BYTES = 12
        const val TAG_BITS = 128

        /** Registers a fresh stand-in first in the provider list, replacing any earlier one. */
        fun install(): FakeAndroidKeyStore {
            Security.removeProvider(NAME)
            return FakeAndroidKeyStore().also { Security.insertProviderAt(it, 1) }
        }

        fun uninstall() {
            Security.removeProvider(NAME)
        }

        /** The real KeyStore API, as KeystoreDataKey sees it. */
        fun keyStore(): KeyStore = KeyStore.getInstance(NAME).apply { load(null) }
    }
}
