package org.authenticator.core.android.docs

import android.content.Context
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import org.authenticator.core.Authenticator
import org.authenticator.core.android.KeystoreDataKey

// The data key: 32 random bytes made on the first call, wrapped by an AES-256-GCM key in the
// Android Keystore (StrongBox when the device has one) and kept in noBackupFilesDir, so it never
// leaves this device. Keystore and disk work: off the main thread.
suspend fun dataKey(context: Context): ByteArray = withContext(Dispatchers.IO) {
    KeystoreDataKey.getOrCreate(context) // zero it with fill(0) once handed over
}

// The vault: noBackupFilesDir/authenticator-core/vault.db, created on the first call. open()
// fetches the data key itself and zeroes its own copy once the core has it.
suspend fun openVault(context: Context): Authenticator = withContext(Dispatchers.IO) {
    KeystoreDataKey.open(context)
}
