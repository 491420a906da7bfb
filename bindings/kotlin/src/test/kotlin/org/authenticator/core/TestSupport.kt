package org.authenticator.core

import java.nio.file.Path
import java.security.SecureRandom

/** A fresh random 32-byte data key, as an app would keep in the Android Keystore. */
fun newDataKey(): ByteArray = ByteArray(32).also { SecureRandom().nextBytes(it) }

/** A vault file in [dir] opened with [key], the way an app opens its vault. */
fun openVault(dir: Path, key: ByteArray = newDataKey()): Authenticator =
    Authenticator(dir.resolve("vault.db").toString(), key)

/** RFC 4648 base32 without padding (what otpauth:// URIs carry). */
fun base32(bytes: ByteArray): String {
    val alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    val out = StringBuilder()
    var buffer = 0
    var bits = 0
    for (b in bytes) {
        buffer = (buffer shl 8) or (b.toInt() and 0xff)
        bits += 8
        while (bits >= 5) {
            out.append(alphabet[(buffer shr (bits - 5)) and 31])
            bits -= 5
        }
    }
    if (bits > 0) out.append(alphabet[(buffer shl (5 - bits)) and 31])
    return out.toString()
}
