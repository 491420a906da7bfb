#if canImport(AuthenticationServices)
import AuthenticationServices
#endif
#if canImport(LocalAuthentication)
import LocalAuthentication
#endif
import AuthenticatorCore
import Foundation

/// What a passkey credential provider extension does, apart from its screens: it turns the
/// system's requests into calls of the core and the core's answers into the credentials the
/// system wants, verifies the user with LocalAuthentication when the relying party asks for it,
/// and keeps AutoFill's credential identity store in step with the vault.
///
/// `PasskeyCredentialProviderViewController` calls it; tests call it directly too. Every method
/// that throws throws an `ASExtensionError`, ready for `extensionContext.cancelRequest(withError:)`:
/// - `.userCanceled`: the user cancelled the verification (Face ID, Touch ID, passcode);
/// - `.credentialIdentityNotFound`: no stored passkey has that credential id for that relying party;
/// - `.matchedExcludedCredential` (iOS 18): the relying party excluded a passkey stored here;
/// - `.failed`: anything else, with the core's message (which never holds a secret) as
///   `NSLocalizedDescriptionKey`; among them a relying party that requires user verification
///   when the device could not verify the user (nothing is stored or signed then).
@available(iOS 17.0, macOS 14.0, *)
@MainActor
public final class PasskeyProvider {
    public let authenticator: Authenticator
    private let identityStore: ASCredentialIdentityStore
    private let authenticationContext: @MainActor () -> LAContext
    /// Shown by the system under Face ID / Touch ID / passcode prompts.
    public var localizedReason: String

    /// - Parameters:
    ///   - authenticator: the open vault (in an extension: the app group's vault file and the
    ///     data key from the shared Keychain access group, `KeychainDataKey.loadOrCreate(accessGroup:)`).
    ///   - identityStore: AutoFill's store, `.shared`.
    ///   - authenticationContext: makes a fresh `LAContext` for each verification.
    public init(
        authenticator: Authenticator,
        identityStore: ASCredentialIdentityStore = .shared,
        localizedReason: String = "Use your passkey",
        authenticationContext: @escaping @MainActor () -> LAContext = { LAContext() }
    ) {
        self.authenticator = authenticator
        self.identityStore = identityStore
        self.localizedReason = localizedReason
        self.authenticationContext = authenticationContext
    }

    // MARK: Registration

    /// Creates a passkey for `request` (what `prepareInterface(forPasskeyRegistration:)` gets),
    /// stores it, updates the identity store and returns the credential for
    /// `completeRegistrationRequest(using:)`. The user is verified first unless the relying party
    /// discourages it. Refused (nothing stored) when ES256 is not among the request's algorithms,
    /// when a credential it excludes is stored here, or when it requires user verification and the
    /// user was not verified.
    public func register(_ request: ASPasskeyCredentialRequest) async throws -> ASPasskeyRegistrationCredential {
        guard let identity = request.credentialIdentity as? ASPasskeyCredentialIdentity else {
            throw Self.failure("the request is not for a passkey")
        }
        // Apple's requests list the relying party's algorithms; none listed means the WebAuthn
        // default, which includes ES256.
        guard request.supportedAlgorithms.isEmpty || request.supportedAlgorithms.contains(.ES256) else {
            throw Self.failure("the relying party does not accept ES256 keys, the only kind made here")
        }
        var excluded: [Data] = []
        if #available(iOS 18.0, macOS 15.0, *) {
            excluded = request.excludedCredentials?.map(\.credentialID) ?? []
        }
        // The core refuses an excluded credential too; asking first spares the user a Face ID
        // prompt for nothing.
        if !excluded.isEmpty {
            let stored: [PasskeyInfo]
            do {
                stored = try authenticator.passkeys(rpId: identity.relyingPartyIdentifier)
            } catch {
                throw Self.extensionError(for: error)
            }
            if stored.contains(where: { excluded.contains($0.credentialId) }) {
                throw Self.extensionError(for: AuthError.PasskeyAlreadyRegistered(
                    detail: "this account has a passkey on this device already"))
            }
        }
        let preference = request.userVerificationPreference
        let verified = try await verifyUser(preference)
        let registration: PasskeyRegistration
        do {
            registration = try authenticator.passkeyRegisterParts(
                rpId: identity.relyingPartyIdentifier,
                userName: identity.userName,
                // iOS hands no display name for a passkey being registered.
                userDisplayName: identity.userName,
                userHandle: identity.userHandle,
                clientDataHash: request.clientDataHash,
                userVerified: verified,
                uvRequired: preference == .required,
                excludedCredentials: excluded
            )
        } catch {
            throw Self.extensionError(for: error)
        }
        // The passkey is stored: a store that cannot be updated now is updated next time.
        try? await updateIdentityStore()
        return ASPasskeyRegistrationCredential(
            relyingParty: identity.relyingPartyIdentifier,
            clientDataHash: request.clientDataHash,
            credentialID: registration.credentialId,
            attestationObject: registration.attestationObject
        )
    }

    // MARK: Assertion

    /// Whether `request` needs the user (for verification) before it can be answered, so that
    /// `provideCredentialWithoutUserInteraction(for:)` must cancel with `.userInteractionRequired`
    /// and let the system call `prepareInterfaceToProvideCredential(for:)`.
    public func needsUserInteraction(_ request: ASPasskeyCredentialRequest) -> Bool {
        request.userVerificationPreference != .discouraged
    }

    /// Signs `request` with the passkey its credential identity names (the user picked it among
    /// AutoFill's suggestions), verifying the user first unless the relying party discourages it.
    public func assert(_ request: ASPasskeyCredentialRequest) async throws -> ASPasskeyAssertionCredential {
        guard let identity = request.credentialIdentity as? ASPasskeyCredentialIdentity else {
            throw ASExtensionError(.credentialIdentityNotFound)
        }
        return try await assert(
            rpId: identity.relyingPartyIdentifier, credentialId: identity.credentialID,
            clientDataHash: request.clientDataHash, preference: request.userVerificationPreference)
    }

    /// The stored passkeys that can answer `parameters` (what
    /// `prepareCredentialList(for:requestParameters:)` gets): the relying party's, and of those
    /// only the allowed ones when the relying party names some. Oldest first.
    public func candidates(for parameters: ASPasskeyCredentialRequestParameters) throws -> [PasskeyInfo] {
        let passkeys: [PasskeyInfo]
        do {
            passkeys = try authenticator.passkeys(rpId: parameters.relyingPartyIdentifier)
        } catch {
            throw Self.extensionError(for: error)
        }
        let allowed = parameters.allowedCredentials
        return allowed.isEmpty ? passkeys : passkeys.filter { allowed.contains($0.credentialId) }
    }

    /// Signs `parameters` with `passkey`, one of `candidates(for:)` the user chose.
    public func assert(
        _ passkey: PasskeyInfo, for parameters: ASPasskeyCredentialRequestParameters
    ) async throws -> ASPasskeyAssertionCredential {
        try await assert(
            rpId: parameters.relyingPartyIdentifier, credentialId: passkey.credentialId,
            clientDataHash: parameters.clientDataHash, preference: parameters.userVerificationPreference)
    }

    private func assert(
        rpId: String, credentialId: Data, clientDataHash: Data,
        preference: ASAuthorizationPublicKeyCredentialUserVerificationPreference
    ) async throws -> ASPasskeyAssertionCredential {
        // Ask for Face ID only for a passkey that is there: an identity left in AutoFill's store
        // after the passkey was removed is answered at once (and the store brought up to date).
        let known: Bool
        do {
            known = try authenticator.passkeys(rpId: rpId).contains { $0.credentialId == credentialId }
        } catch {
            throw Self.extensionError(for: error)
        }
        guard known else {
            try? await updateIdentityStore()
            throw ASExtensionError(.credentialIdentityNotFound)
        }
        let verified = try await verifyUser(preference)
        let assertion: PasskeyAssertion
        do {
            assertion = try authenticator.passkeyAssertParts(
                rpId: rpId, credentialId: credentialId, clientDataHash: clientDataHash,
                userVerified: verified, uvRequired: preference == .required)
        } catch {
            throw Self.extensionError(for: error)
        }
        return ASPasskeyAssertionCredential(
            userHandle: assertion.userHandle,
            relyingParty: rpId,
            signature: assertion.signature,
            clientDataHash: clientDataHash,
            authenticatorData: assertion.authenticatorData,
            credentialID: assertion.credentialId
        )
    }

    // MARK: User verification

    /// Verifies the device owner (`.deviceOwnerAuthentication`: Face ID or Touch ID, falling back
    /// to the passcode) unless the relying party discourages verification. Returns whether the
    /// user was verified; a cancelled prompt throws `.userCanceled`. A device that cannot verify
    /// (no passcode set, biometry locked out) answers false: the core then refuses a relying
    /// party that requires verification, and signs without the UV flag for one that prefers it.
    private func verifyUser(
        _ preference: ASAuthorizationPublicKeyCredentialUserVerificationPreference
    ) async throws -> Bool {
        guard preference != .discouraged else { return false }
        let context = authenticationContext()
        do {
            return try await context.evaluatePolicy(.deviceOwnerAuthentication, localizedReason: localizedReason)
        } catch let error as LAError where [.userCancel, .appCancel, .systemCancel].contains(error.code) {
            throw ASExtensionError(.userCanceled)
        } catch {
            return false
        }
    }

    // MARK: Identity store upkeep

    /// Replaces the extension's identities in AutoFill's store with one `ASPasskeyCredentialIdentity`
    /// per stored passkey (relying party, user name, credential id, user handle, and the local id
    /// as `recordIdentifier`). Called after each registration here; the app calls it after
    /// removing, renaming or restoring passkeys, and at launch. Does nothing while the user has
    /// not turned the provider on (the store is disabled then).
    public func updateIdentityStore() async throws {
        let store = identityStore
        let enabled = await withCheckedContinuation { continuation in
            store.getState { state in continuation.resume(returning: state.isEnabled) }
        }
        guard enabled else { return }
        let identities: [any ASCredentialIdentity] = try authenticator.passkeys(rpId: nil).map {
            ASPasskeyCredentialIdentity(
                relyingPartyIdentifier: $0.rpId,
                userName: $0.userName,
                credentialID: $0.credentialId,
                userHandle: $0.userHandle,
                recordIdentifier: String($0.id)
            )
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            store.replaceCredentialIdentities(identities) { _, error in
                if let error {
                    continuation.resume(throwing: error)
                } else {
                    continuation.resume()
                }
            }
        }
    }

    // MARK: Errors

    /// The `ASExtensionError` for a failure of the core (or an `ASExtensionError` as it is).
    public nonisolated static func extensionError(for error: any Error) -> ASExtensionError {
        if let error = error as? ASExtensionError { return error }
        guard let error = error as? AuthError else { return failure(error.localizedDescription) }
        switch error {
        case .PasskeyNotFound:
            return ASExtensionError(.credentialIdentityNotFound, userInfo: [NSLocalizedDescriptionKey: "\(error)"])
        case .PasskeyAlreadyRegistered:
            if #available(iOS 18.0, macOS 15.0, *) {
                return ASExtensionError(.matchedExcludedCredential, userInfo: [NSLocalizedDescriptionKey: "\(error)"])
            }
            return failure("\(error)")
        default:
            return failure("\(error)")
        }
    }

    private nonisolated static func failure(_ message: String) -> ASExtensionError {
        ASExtensionError(.failed, userInfo: [NSLocalizedDescriptionKey: message])
    }
}

extension PasskeyInfo {
    /// How to show the passkey in a list: the user's own name for it, else `user_name`.
    public var title: String { name.isEmpty ? userName : name }
}
