import AuthenticatorCore

/// What the UI does with each typed error. The switch lists every case without `default`, so a
/// new error in a later version is a compile error here rather than a silent fallthrough. Every
/// `detail` is safe to show or log: it never holds a secret, code, key or PIN.
func whatToDo(_ error: AuthError) -> String {
    switch error {
    case .WrongKey, .InvalidKey: return "This vault was sealed with another key"
    case .VaultUnreadable: return "The vault file is damaged (left untouched)"
    case .NewerVault: return "Update the app: the vault is from a newer version"
    case .InvalidUri(_, let detail), .InvalidEnrollment(_, let detail): return "Not a valid QR code: \(detail)"
    case .NoSuchAccount, .NoSuchToken, .NoSuchRequest: return "It was removed meanwhile: refresh the list"
    case .DamagedAccount: return "This account is damaged and can only be removed"
    case .AlreadyEnrolled: return "This token is already on this phone"
    case .AlreadyAnswered, .Expired: return "This request is closed"
    case .NotAChoice, .WrongAnswer: return "Pick the number shown at the sign-in"
    case .PinRequired: return "Enter the token's PIN"
    case .WrongPin: return "Wrong PIN"
    case .LockedOut(let retryAfterSeconds, _): return "Too many wrong PINs: wait \(retryAfterSeconds) s"
    case .WeakPin(_, let detail), .WeakPassword(_, let detail): return "Choose a longer one: \(detail)"
    case .WeakPassphrase(let reason, _, _): return "Too easy to guess (\(reason)): use a random key and its pairing code"
    case .PasswordRequired, .WrongPassword: return "Enter the backup's password"
    case .ForgedRequest: return "A forged request was dropped"
    case .Network: return "No connection to the server: try again"
    case .ServerRejected(_, let detail), .Protocol(_, let detail): return "The server refused: \(detail)"
    case .InvalidImport(_, let detail): return "Not a backup this app reads: \(detail)"
    case .InvalidChallenge: return "This sign-in is closed: scan a new code"
    case .ResponseRefused: return "The server refused the response"
    case .AccountBlocked: return "The server blocked this account: contact its administrator"
    case .UnknownIdentity: return "This sign-in code is for an account not on this phone"
    case .Sync: return "Sync failed: try again"
    case .TimeSource: return "The time check failed"
    case .ImplausibleClock: return "The time server's answer is implausible (over 24 h off)"
    case .BackupsOff: return "Turn on automatic backups first"
    case .BackupFailed: return "The backup failed"
    case .PasskeyRequestInvalid(_, _, let detail), .PasskeyOriginRefused(_, let detail),
         .PasskeyNotSupported(_, let detail): return "The site's passkey request was refused: \(detail)"
    case .PasskeyAlreadyRegistered: return "This account has a passkey on this phone already"
    case .PasskeyNotFound: return "That passkey is not on this phone"
    case .UserVerificationRequired: return "The site wants Face ID, Touch ID or the passcode: set a passcode"
    case .InvalidArgument(_, let detail), .Internal(_, let detail): return "Something went wrong: \(detail)"
    }
}
