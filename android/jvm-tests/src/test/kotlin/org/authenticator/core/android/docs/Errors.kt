package org.authenticator.core.android.docs

import org.authenticator.core.AuthException
import org.authenticator.core.android.DataKeyException

// What the UI does with each typed error. Both `when`s list every case without `else`, so a new
// error type in a later version is a compile error here rather than a silent fallthrough.
// Every message is safe to show or log: it never holds a secret, code, key or PIN.
fun whatToDo(e: DataKeyException): String = when (e) {
    is DataKeyException.UserNotAuthenticated -> "Unlock the phone, then try again"
    is DataKeyException.KeyInvalidated, is DataKeyException.KeyMissing ->
        "This vault can no longer be opened here: restore an export, or start over"
    is DataKeyException.WrappedKeyMissing, is DataKeyException.WrappedKeyCorrupt ->
        "The vault's key file is missing or damaged: restore an export, or start over"
    is DataKeyException.KeystoreFailure -> "The Android Keystore failed: try again"
}

fun whatToDo(e: AuthException): String = when (e) {
    is AuthException.WrongKey, is AuthException.InvalidKey -> "This vault was sealed with another key"
    is AuthException.VaultUnreadable -> "The vault file is damaged (left untouched)"
    is AuthException.NewerVault -> "Update the app: the vault is from a newer version"
    is AuthException.InvalidUri, is AuthException.InvalidEnrollment -> "Not a valid QR code: ${e.message}"
    is AuthException.NoSuchAccount, is AuthException.NoSuchToken, is AuthException.NoSuchRequest ->
        "It was removed meanwhile: refresh the list"
    is AuthException.DamagedAccount -> "This account is damaged and can only be removed"
    is AuthException.AlreadyEnrolled -> "This token is already on this phone"
    is AuthException.AlreadyAnswered, is AuthException.Expired -> "This request is closed"
    is AuthException.NotAChoice, is AuthException.WrongAnswer -> "Pick the number shown at the sign-in"
    is AuthException.PinRequired -> "Enter the token's PIN"
    is AuthException.WrongPin -> "Wrong PIN"
    is AuthException.LockedOut -> "Too many wrong PINs: wait ${e.retryAfterSeconds} s"
    is AuthException.WeakPin, is AuthException.WeakPassword -> "Choose a longer one: ${e.message}"
    is AuthException.WeakPassphrase -> "Too easy to guess (${e.reason}): use a random key and its pairing code"
    is AuthException.PasswordRequired, is AuthException.WrongPassword -> "Enter the backup's password"
    is AuthException.ForgedRequest -> "A forged request was dropped"
    is AuthException.Network -> "No connection to the server: try again"
    is AuthException.ServerRejected, is AuthException.Protocol -> "The server refused: ${e.message}"
    is AuthException.InvalidImport -> "Not a backup this app reads: ${e.message}"
    is AuthException.InvalidChallenge -> "This sign-in is closed: scan a new code"
    is AuthException.ResponseRefused -> "The server refused the response: ${e.message}"
    is AuthException.AccountBlocked -> "The server blocked this account: contact its administrator"
    is AuthException.UnknownIdentity -> "This sign-in code is for an account not on this phone"
    is AuthException.Sync -> "Sync failed: ${e.message}"
    is AuthException.TimeSource -> "The time check failed: ${e.message}"
    is AuthException.ImplausibleClock -> "The time server's answer is implausible (over 24 h off)"
    is AuthException.BackupsOff -> "Turn on automatic backups first"
    is AuthException.BackupFailed -> "The backup failed: ${e.message}"
    is AuthException.PasskeyRequestInvalid -> "The site or app sent a malformed passkey request (${e.field})"
    is AuthException.PasskeyOriginRefused -> "This site or app may not use that account's passkey"
    is AuthException.PasskeyAlreadyRegistered -> "A passkey for this account is already on this phone"
    is AuthException.PasskeyNotSupported -> "The site asks for a kind of passkey this app cannot make"
    is AuthException.PasskeyNotFound -> "No passkey on this phone for this sign-in"
    is AuthException.UserVerificationRequired -> "Unlock with your fingerprint, face or screen lock to use the passkey"
    is AuthException.InvalidArgument, is AuthException.Internal -> "Something went wrong: ${e.message}"
}
