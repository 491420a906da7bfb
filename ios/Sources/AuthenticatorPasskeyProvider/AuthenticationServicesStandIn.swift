// STAND-IN, compiled only where Apple's AuthenticationServices is missing (Linux, this project's
// test machines): `#if !canImport(AuthenticationServices)`, the pattern of the Keychain helper's
// stand-in. On iOS and macOS this file is empty and the real framework is used.
//
// It declares exactly the part of Apple's API that PasskeyProvider and
// PasskeyCredentialProviderViewController use, with Apple's names, argument labels and types
// (iOS 17 / macOS 14; `excludedCredentials` and `matchedExcludedCredential` iOS 18 / macOS 15),
// so that the provider is compiled and tested here in the Swift 6 language mode. What it does is
// only what the tests need: the extension context and the identity store record what they were
// given (internal properties, read by the tests through `@testable import`), and requests and
// request parameters, which only the system makes on Apple platforms, have internal initialisers
// for the tests. Nothing in this file is Apple's code or ships to an Apple platform.
#if !canImport(AuthenticationServices)
import Foundation

// MARK: - Service identifiers and credential identities

open class ASCredentialServiceIdentifier: NSObject {
    public enum IdentifierType: Int, Sendable {
        case domain = 0
        case URL = 1
    }

    public let identifier: String
    public let type: IdentifierType

    public init(identifier: String, type: IdentifierType) {
        self.identifier = identifier
        self.type = type
        super.init()
    }
}

public protocol ASCredentialIdentity: NSObjectProtocol {
    var serviceIdentifier: ASCredentialServiceIdentifier { get }
    var user: String { get }
    var recordIdentifier: String? { get }
    var rank: Int { get set }
}

open class ASPasskeyCredentialIdentity: NSObject, ASCredentialIdentity {
    public let relyingPartyIdentifier: String
    public let userName: String
    public let credentialID: Data
    public let userHandle: Data
    public let recordIdentifier: String?
    public var rank: Int = 0

    public init(
        relyingPartyIdentifier: String, userName: String, credentialID: Data, userHandle: Data,
        recordIdentifier: String? = nil
    ) {
        self.relyingPartyIdentifier = relyingPartyIdentifier
        self.userName = userName
        self.credentialID = credentialID
        self.userHandle = userHandle
        self.recordIdentifier = recordIdentifier
        super.init()
    }

    open var serviceIdentifier: ASCredentialServiceIdentifier {
        ASCredentialServiceIdentifier(identifier: relyingPartyIdentifier, type: .domain)
    }

    open var user: String { userName }
}

// MARK: - Requests

public struct ASAuthorizationPublicKeyCredentialUserVerificationPreference: RawRepresentable, Hashable, Sendable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public static let discouraged = Self(rawValue: "discouraged")
    public static let preferred = Self(rawValue: "preferred")
    public static let required = Self(rawValue: "required")
}

public struct ASCOSEAlgorithmIdentifier: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public init(_ rawValue: Int) { self.rawValue = rawValue }
    public static let ES256 = Self(rawValue: -7)
}

public enum ASCredentialRequestType: Int, Sendable {
    case password = 0
    case passkeyAssertion = 1
    case passkeyRegistration = 2
    case oneTimeCode = 3
}

public protocol ASCredentialRequest: NSObjectProtocol {
    var type: ASCredentialRequestType { get }
    var credentialIdentity: any ASCredentialIdentity { get }
}

open class ASAuthorizationPlatformPublicKeyCredentialDescriptor: NSObject {
    public let credentialID: Data
    public init(credentialID: Data) {
        self.credentialID = credentialID
        super.init()
    }
}

open class ASPasskeyCredentialRequest: NSObject, ASCredentialRequest {
    public let type: ASCredentialRequestType
    public let credentialIdentity: any ASCredentialIdentity
    public let clientDataHash: Data
    public var userVerificationPreference: ASAuthorizationPublicKeyCredentialUserVerificationPreference
    public let supportedAlgorithms: [ASCOSEAlgorithmIdentifier]
    private let excluded: [ASAuthorizationPlatformPublicKeyCredentialDescriptor]?

    @available(iOS 18.0, macOS 15.0, *)
    public var excludedCredentials: [ASAuthorizationPlatformPublicKeyCredentialDescriptor]? { excluded }

    public convenience init(
        credentialIdentity: ASPasskeyCredentialIdentity, clientDataHash: Data,
        userVerificationPreference: ASAuthorizationPublicKeyCredentialUserVerificationPreference,
        supportedAlgorithms: [ASCOSEAlgorithmIdentifier]
    ) {
        self.init(
            type: .passkeyAssertion, credentialIdentity: credentialIdentity, clientDataHash: clientDataHash,
            userVerificationPreference: userVerificationPreference, supportedAlgorithms: supportedAlgorithms,
            excludedCredentials: nil)
    }

    /// Stand-in only (the system makes requests): a registration request, with the relying
    /// party's excluded credentials.
    init(
        type: ASCredentialRequestType, credentialIdentity: ASPasskeyCredentialIdentity, clientDataHash: Data,
        userVerificationPreference: ASAuthorizationPublicKeyCredentialUserVerificationPreference,
        supportedAlgorithms: [ASCOSEAlgorithmIdentifier],
        excludedCredentials: [ASAuthorizationPlatformPublicKeyCredentialDescriptor]?
    ) {
        self.type = type
        self.credentialIdentity = credentialIdentity
        self.clientDataHash = clientDataHash
        self.userVerificationPreference = userVerificationPreference
        self.supportedAlgorithms = supportedAlgorithms
        excluded = excludedCredentials
        super.init()
    }
}

open class ASPasskeyCredentialRequestParameters: NSObject {
    public let relyingPartyIdentifier: String
    public let clientDataHash: Data
    public let userVerificationPreference: ASAuthorizationPublicKeyCredentialUserVerificationPreference
    public let allowedCredentials: [Data]

    /// Stand-in only (the system makes these).
    init(
        relyingPartyIdentifier: String, clientDataHash: Data,
        userVerificationPreference: ASAuthorizationPublicKeyCredentialUserVerificationPreference,
        allowedCredentials: [Data]
    ) {
        self.relyingPartyIdentifier = relyingPartyIdentifier
        self.clientDataHash = clientDataHash
        self.userVerificationPreference = userVerificationPreference
        self.allowedCredentials = allowedCredentials
        super.init()
    }
}

// MARK: - Credentials

open class ASPasskeyRegistrationCredential: NSObject {
    public let relyingParty: String
    public let clientDataHash: Data
    public let credentialID: Data
    public let attestationObject: Data

    public init(relyingParty: String, clientDataHash: Data, credentialID: Data, attestationObject: Data) {
        self.relyingParty = relyingParty
        self.clientDataHash = clientDataHash
        self.credentialID = credentialID
        self.attestationObject = attestationObject
        super.init()
    }
}

open class ASPasskeyAssertionCredential: NSObject {
    public let userHandle: Data
    public let relyingParty: String
    public let signature: Data
    public let clientDataHash: Data
    public let authenticatorData: Data
    public let credentialID: Data

    public init(
        userHandle: Data, relyingParty: String, signature: Data, clientDataHash: Data,
        authenticatorData: Data, credentialID: Data
    ) {
        self.userHandle = userHandle
        self.relyingParty = relyingParty
        self.signature = signature
        self.clientDataHash = clientDataHash
        self.authenticatorData = authenticatorData
        self.credentialID = credentialID
        super.init()
    }
}

// MARK: - Errors

public let ASExtensionErrorDomain = "ASExtensionErrorDomain"

public struct ASExtensionError: CustomNSError, Hashable {
    public enum Code: Int, Sendable {
        case failed = 0
        case userCanceled = 1
        case userInteractionRequired = 100
        case credentialIdentityNotFound = 101
        case matchedExcludedCredential = 102
    }

    public let code: Code
    private let message: String?

    public init(_ code: Code, userInfo: [String: Any] = [:]) {
        self.code = code
        message = userInfo[NSLocalizedDescriptionKey] as? String
    }

    public var userInfo: [String: Any] { errorUserInfo }
    public static var errorDomain: String { ASExtensionErrorDomain }
    public var errorCode: Int { code.rawValue }
    public var errorUserInfo: [String: Any] {
        message.map { [NSLocalizedDescriptionKey: $0] } ?? [:]
    }

    public static var failed: Code { .failed }
    public static var userCanceled: Code { .userCanceled }
    public static var userInteractionRequired: Code { .userInteractionRequired }
    public static var credentialIdentityNotFound: Code { .credentialIdentityNotFound }
    @available(iOS 18.0, macOS 15.0, *)
    public static var matchedExcludedCredential: Code { .matchedExcludedCredential }
}

// MARK: - The extension context and view controller

open class ASCredentialProviderExtensionContext: NSObject {
    /// Stand-in only: what the extension answered, in order.
    enum Answer {
        case registration(ASPasskeyRegistrationCredential)
        case assertion(ASPasskeyAssertionCredential)
        case cancel(any Error)
        case configurationDone
    }

    var answers: [Answer] = []

    open func completeRegistrationRequest(
        using credential: ASPasskeyRegistrationCredential, completionHandler: (@Sendable (Bool) -> Void)? = nil
    ) {
        answers.append(.registration(credential))
        completionHandler?(false)
    }

    open func completeRegistrationRequest(using credential: ASPasskeyRegistrationCredential) async -> Bool {
        answers.append(.registration(credential))
        return false
    }

    open func completeAssertionRequest(
        using credential: ASPasskeyAssertionCredential, completionHandler: (@Sendable (Bool) -> Void)? = nil
    ) {
        answers.append(.assertion(credential))
        completionHandler?(false)
    }

    open func completeAssertionRequest(using credential: ASPasskeyAssertionCredential) async -> Bool {
        answers.append(.assertion(credential))
        return false
    }

    open func cancelRequest(withError error: any Error) {
        answers.append(.cancel(error))
    }

    open func completeExtensionConfigurationRequest() {
        answers.append(.configurationDone)
    }
}

/// On iOS a `UIViewController` (macOS: `NSViewController`), hence main-actor isolated.
@MainActor
open class ASCredentialProviderViewController {
    private let context = ASCredentialProviderExtensionContext()

    public init() {}

    open var extensionContext: ASCredentialProviderExtensionContext { context }

    open func prepareCredentialList(for serviceIdentifiers: [ASCredentialServiceIdentifier]) {}
    open func prepareCredentialList(
        for serviceIdentifiers: [ASCredentialServiceIdentifier], requestParameters: ASPasskeyCredentialRequestParameters
    ) {}
    open func provideCredentialWithoutUserInteraction(for credentialRequest: any ASCredentialRequest) {}
    open func prepareInterfaceToProvideCredential(for credentialRequest: any ASCredentialRequest) {}
    open func prepareInterface(forPasskeyRegistration registrationRequest: any ASCredentialRequest) {}
    open func prepareInterfaceForExtensionConfiguration() {}
}

// MARK: - The identity store (AutoFill's QuickType suggestions)

open class ASCredentialIdentityStoreState: NSObject {
    public let isEnabled: Bool
    public let supportsIncrementalUpdates: Bool

    init(isEnabled: Bool, supportsIncrementalUpdates: Bool) {
        self.isEnabled = isEnabled
        self.supportsIncrementalUpdates = supportsIncrementalUpdates
        super.init()
    }
}

public let ASCredentialIdentityStoreErrorDomain = "ASCredentialIdentityStoreErrorDomain"

public struct ASCredentialIdentityStoreError: CustomNSError, Hashable {
    public enum Code: Int, Sendable {
        case internalError = 0
        case storeDisabled = 1
        case storeBusy = 2
    }

    public let code: Code
    public init(_ code: Code, userInfo: [String: Any] = [:]) { self.code = code }
    public static var errorDomain: String { ASCredentialIdentityStoreErrorDomain }
    public var errorCode: Int { code.rawValue }
}

open class ASCredentialIdentityStore: NSObject {
    nonisolated(unsafe) private static let sharedStore = ASCredentialIdentityStore()
    open class var shared: ASCredentialIdentityStore { sharedStore }

    /// Stand-in only: the store's content and whether the user turned the provider on (Settings ›
    /// General › AutoFill & Passwords), which the tests set.
    var identities: [any ASCredentialIdentity] = []
    var isEnabled = true

    /// Stand-in only: the system owns the one store; tests make their own.
    override init() { super.init() }

    open func getState(_ completion: @escaping @Sendable (ASCredentialIdentityStoreState) -> Void) {
        completion(ASCredentialIdentityStoreState(isEnabled: isEnabled, supportsIncrementalUpdates: true))
    }

    open func saveCredentialIdentities(
        _ credentialIdentities: [any ASCredentialIdentity],
        completion: (@Sendable (Bool, (any Error)?) -> Void)? = nil
    ) {
        change(completion) { $0 + credentialIdentities }
    }

    open func removeCredentialIdentities(
        _ credentialIdentities: [any ASCredentialIdentity],
        completion: (@Sendable (Bool, (any Error)?) -> Void)? = nil
    ) {
        change(completion) { stored in stored.filter { old in !credentialIdentities.contains { $0.isEqual(old) } } }
    }

    open func replaceCredentialIdentities(
        _ newCredentialIdentities: [any ASCredentialIdentity],
        completion: (@Sendable (Bool, (any Error)?) -> Void)? = nil
    ) {
        change(completion) { _ in newCredentialIdentities }
    }

    private func change(
        _ completion: (@Sendable (Bool, (any Error)?) -> Void)?,
        _ update: ([any ASCredentialIdentity]) -> [any ASCredentialIdentity]
    ) {
        guard isEnabled else {
            completion?(false, ASCredentialIdentityStoreError(.storeDisabled))
            return
        }
        identities = update(identities)
        completion?(true, nil)
    }
}
#endif
