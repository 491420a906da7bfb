#if canImport(AuthenticationServices)
import AuthenticationServices
#endif
#if canImport(UIKit)
import UIKit
#endif
import AuthenticatorCore
import Foundation

/// The principal class of a passkey credential provider extension (iOS 17): subclass it in the
/// extension target, override `makePasskeyProvider()` to open the vault, and name the subclass as
/// `NSExtensionPrincipalClass` (the Info.plist is in ios/README.md).
///
/// What the system calls, and what happens:
/// - `prepareInterface(forPasskeyRegistration:)`: `PasskeyProvider.register`, then
///   `completeRegistrationRequest(using:)`.
/// - `provideCredentialWithoutUserInteraction(for:)` (the user picked one of our passkeys among
///   AutoFill's suggestions): signs at once when the relying party discourages user verification;
///   otherwise cancels with `.userInteractionRequired`, and the system calls
///   `prepareInterfaceToProvideCredential(for:)`, which verifies the user and signs.
/// - `prepareCredentialList(for:requestParameters:)` (the user chose this provider for a passkey
///   request): the relying party's passkeys, one chosen by the user (`chooseCredential`), signed.
/// - `prepareInterfaceForExtensionConfiguration()` (the user turned the provider on, with
///   `ShowsConfigurationUI`): fills AutoFill's identity store.
/// Every failure ends in `cancelRequest(withError:)` with an `ASExtensionError`.
@available(iOS 17.0, macOS 14.0, *)
open class PasskeyCredentialProviderViewController: ASCredentialProviderViewController {
    private var openedProvider: PasskeyProvider?

    /// Opens the vault for this extension. Override it; the default throws.
    ///
    /// ```swift
    /// override func makePasskeyProvider() throws -> PasskeyProvider {
    ///     let key = try KeychainDataKey.loadOrCreate(accessGroup: "TEAMID.org.example.shared")
    ///     let folder = FileManager.default.containerURL(
    ///         forSecurityApplicationGroupIdentifier: "group.org.example.authenticator")!
    ///     let vault = try Authenticator(dbPath: folder.appendingPathComponent("vault.db").path, dataKey: key)
    ///     return PasskeyProvider(authenticator: vault)
    /// }
    /// ```
    open func makePasskeyProvider() throws -> PasskeyProvider {
        throw ASExtensionError(
            .failed,
            userInfo: [NSLocalizedDescriptionKey: "PasskeyCredentialProviderViewController.makePasskeyProvider() is not overridden"])
    }

    /// Lets the user choose among several passkeys of the relying party; nil: the user declined.
    /// One candidate is taken as it is. The default shows an alert listing them (UIKit).
    open func chooseCredential(from candidates: [PasskeyInfo]) async -> PasskeyInfo? {
        if candidates.count == 1 { return candidates[0] }
        #if canImport(UIKit)
        return await withCheckedContinuation { continuation in
            let alert = UIAlertController(title: "Sign in with a passkey", message: nil, preferredStyle: .alert)
            for passkey in candidates {
                alert.addAction(UIAlertAction(title: passkey.title, style: .default) { _ in
                    continuation.resume(returning: passkey)
                })
            }
            alert.addAction(UIAlertAction(title: "Cancel", style: .cancel) { _ in
                continuation.resume(returning: nil)
            })
            present(alert, animated: true)
        }
        #else
        return nil
        #endif
    }

    // MARK: What the system calls

    override open func prepareInterface(forPasskeyRegistration registrationRequest: any ASCredentialRequest) {
        Task { await registerPasskey(for: registrationRequest) }
    }

    override open func provideCredentialWithoutUserInteraction(for credentialRequest: any ASCredentialRequest) {
        Task { await provideCredentialWithoutUserInteraction(answering: credentialRequest) }
    }

    override open func prepareInterfaceToProvideCredential(for credentialRequest: any ASCredentialRequest) {
        Task { await provideCredential(answering: credentialRequest) }
    }

    override open func prepareCredentialList(
        for serviceIdentifiers: [ASCredentialServiceIdentifier], requestParameters: ASPasskeyCredentialRequestParameters
    ) {
        Task { await provideChosenCredential(for: requestParameters) }
    }

    override open func prepareInterfaceForExtensionConfiguration() {
        Task { await configure() }
    }

    // MARK: The same, awaitable (tests call these)

    public func registerPasskey(for request: any ASCredentialRequest) async {
        await answer {
            guard let request = request as? ASPasskeyCredentialRequest else { throw ASExtensionError(.failed) }
            let credential = try await $0.register(request)
            extensionContext.completeRegistrationRequest(using: credential, completionHandler: nil)
        }
    }

    public func provideCredentialWithoutUserInteraction(answering request: any ASCredentialRequest) async {
        await answer {
            guard let request = request as? ASPasskeyCredentialRequest else {
                throw ASExtensionError(.credentialIdentityNotFound)
            }
            guard !$0.needsUserInteraction(request) else { throw ASExtensionError(.userInteractionRequired) }
            let credential = try await $0.assert(request)
            extensionContext.completeAssertionRequest(using: credential, completionHandler: nil)
        }
    }

    public func provideCredential(answering request: any ASCredentialRequest) async {
        await answer {
            guard let request = request as? ASPasskeyCredentialRequest else {
                throw ASExtensionError(.credentialIdentityNotFound)
            }
            let credential = try await $0.assert(request)
            extensionContext.completeAssertionRequest(using: credential, completionHandler: nil)
        }
    }

    public func provideChosenCredential(for parameters: ASPasskeyCredentialRequestParameters) async {
        await answer {
            let candidates = try $0.candidates(for: parameters)
            guard !candidates.isEmpty else { throw ASExtensionError(.credentialIdentityNotFound) }
            guard let chosen = await chooseCredential(from: candidates) else { throw ASExtensionError(.userCanceled) }
            let credential = try await $0.assert(chosen, for: parameters)
            extensionContext.completeAssertionRequest(using: credential, completionHandler: nil)
        }
    }

    public func configure() async {
        if let provider = try? provider() {
            try? await provider.updateIdentityStore()
        }
        extensionContext.completeExtensionConfigurationRequest()
    }

    // MARK: -

    private func provider() throws -> PasskeyProvider {
        if let openedProvider { return openedProvider }
        let provider = try makePasskeyProvider()
        openedProvider = provider
        return provider
    }

    /// Runs `body` with the provider; any failure cancels the request with its `ASExtensionError`.
    private func answer(_ body: (PasskeyProvider) async throws -> Void) async {
        do {
            try await body(try provider())
        } catch {
            extensionContext.cancelRequest(withError: PasskeyProvider.extensionError(for: error))
        }
    }
}
