// The passkey credential provider (AuthenticatorPasskeyProvider) against the real core: the
// requests of Apple's AuthenticationServices and the answers of LocalAuthentication come from
// their stand-ins (Linux only, hence `#if !canImport(AuthenticationServices)`), everything else
// is the real library on a real vault file. Signatures are verified by OpenSSL (`openssl` of the
// Swift chroot, which ca-certificates brings), against the public key taken from the registration's
// attestation object.
#if !canImport(AuthenticationServices)
import Foundation
import XCTest

@testable import AuthenticatorCore
@testable import AuthenticatorPasskeyProvider

/// Main-actor isolated, as the view controller is. `@unchecked Sendable`: XCTest's Linux test list
/// hands the test case to each main-actor test method; the class has no state of its own.
@MainActor
final class PasskeyProviderTests: XCTestCase, @unchecked Sendable {
    // MARK: Registration

    func testRegistrationAnswersWithANoneAttestationOfANewES256KeyForTheRelyingParty() async throws {
        let setup = try ProviderSetup(self, owner: .verifies)
        let request = setup.registrationRequest(rpId: "example.org", userName: "alice")

        let credential = try await setup.register(request)

        XCTAssertEqual(credential.relyingParty, "example.org")
        XCTAssertEqual(credential.clientDataHash, request.clientDataHash)
        let attestation = try AttestationObject(credential.attestationObject)
        XCTAssertEqual(attestation.format, "none")
        XCTAssertTrue(attestation.statementIsEmpty)
        let authData = try AuthenticatorData(attestation.authData)
        XCTAssertEqual(authData.rpIdHash, try OpenSSL.sha256(Data("example.org".utf8)))
        XCTAssertTrue(authData.userPresent)
        XCTAssertTrue(authData.userVerified, "the owner verified: UV set")
        XCTAssertTrue(authData.backupEligible)
        XCTAssertEqual(authData.signCount, 0)
        XCTAssertEqual(authData.credentialId, credential.credentialID)
        XCTAssertEqual(authData.publicKey?.count, 65, "an uncompressed P-256 point")
        let stored = try setup.authenticator.passkeys(rpId: nil)
        XCTAssertEqual(stored.map(\.credentialId), [credential.credentialID])
        XCTAssertEqual(stored.first?.userName, "alice")
        XCTAssertEqual(stored.first?.userHandle, request.identity.userHandle)
        XCTAssertEqual(setup.owner.asked, 1)
    }

    func testWithVerificationDiscouragedTheOwnerIsNotAskedAndUVIsNotClaimed() async throws {
        let setup = try ProviderSetup(self, owner: .verifies)
        let request = setup.registrationRequest(rpId: "example.org", userName: "alice", verification: .discouraged)

        let credential = try await setup.register(request)

        let authData = try AuthenticatorData(AttestationObject(credential.attestationObject).authData)
        XCTAssertTrue(authData.userPresent)
        XCTAssertFalse(authData.userVerified)
        XCTAssertEqual(setup.owner.asked, 0)
    }

    func testRequiredVerificationTheDeviceCannotGiveIsRefusedAsFailedAndNothingIsStored() async throws {
        let setup = try ProviderSetup(self, owner: .cannotVerify)
        let request = setup.registrationRequest(rpId: "example.org", userName: "alice", verification: .required)

        let error = try await setup.cancellation { await $0.registerPasskey(for: request.request) }

        XCTAssertEqual(error.code, .failed)
        XCTAssertTrue(error.localizedDescription.lowercased().contains("verif"), error.localizedDescription)
        XCTAssertEqual(try setup.authenticator.passkeys(rpId: nil), [])
        XCTAssertTrue(setup.store.identities.isEmpty)
        XCTAssertEqual(setup.owner.asked, 1)
    }

    func testCancellingTheVerificationCancelsTheRequestAndNothingIsStored() async throws {
        let setup = try ProviderSetup(self, owner: .cancels)
        let request = setup.registrationRequest(rpId: "example.org", userName: "alice", verification: .preferred)

        let error = try await setup.cancellation { await $0.registerPasskey(for: request.request) }

        XCTAssertEqual(error.code, .userCanceled)
        XCTAssertEqual(try setup.authenticator.passkeys(rpId: nil), [])
    }

    func testAnExcludedCredentialStoredHereIsMatchedExcludedCredentialAndNothingMoreIsStored() async throws {
        let setup = try ProviderSetup(self, owner: .verifies)
        let first = try await setup.register(setup.registrationRequest(rpId: "example.org", userName: "alice"))
        let again = setup.registrationRequest(
            rpId: "example.org", userName: "alice", excluding: [Data(repeating: 7, count: 16), first.credentialID])

        let error = try await setup.cancellation { await $0.registerPasskey(for: again.request) }

        XCTAssertEqual(error.code, .matchedExcludedCredential)
        XCTAssertEqual(try setup.authenticator.passkeys(rpId: nil).count, 1)
        XCTAssertEqual(setup.owner.asked, 1, "refused before asking the owner again")
    }

    func testARelyingPartyWithoutES256IsRefusedAndNothingIsStored() async throws {
        let setup = try ProviderSetup(self, owner: .verifies)
        let rs256 = ASCOSEAlgorithmIdentifier(rawValue: -257)
        let request = setup.registrationRequest(rpId: "example.org", userName: "alice", algorithms: [rs256])

        let error = try await setup.cancellation { await $0.registerPasskey(for: request.request) }

        XCTAssertEqual(error.code, .failed)
        XCTAssertTrue(error.localizedDescription.contains("ES256"), error.localizedDescription)
        XCTAssertEqual(try setup.authenticator.passkeys(rpId: nil), [])
        XCTAssertEqual(setup.owner.asked, 0, "refused before asking the owner")
    }

    // MARK: Assertion

    func testAnAssertionIsSignedByTheRegisteredKeyAndASecondOneToo() async throws {
        let setup = try ProviderSetup(self, owner: .verifies)
        let registration = try await setup.register(setup.registrationRequest(rpId: "example.org", userName: "alice"))
        let publicKey = try XCTUnwrap(
            AuthenticatorData(AttestationObject(registration.attestationObject).authData).publicKey)
        let identity = try XCTUnwrap(setup.store.passkeyIdentities.first)

        for _ in 0..<2 {
            let request = ASPasskeyCredentialRequest(
                credentialIdentity: identity, clientDataHash: randomBytes(32),
                userVerificationPreference: .preferred, supportedAlgorithms: [])
            let assertion = try await setup.assertion { await $0.provideCredential(answering: request) }

            XCTAssertEqual(assertion.relyingParty, "example.org")
            XCTAssertEqual(assertion.credentialID, registration.credentialID)
            XCTAssertEqual(assertion.userHandle, identity.userHandle)
            XCTAssertEqual(assertion.clientDataHash, request.clientDataHash)
            let authData = try AuthenticatorData(assertion.authenticatorData)
            XCTAssertEqual(authData.rpIdHash, try OpenSSL.sha256(Data("example.org".utf8)))
            XCTAssertTrue(authData.userPresent)
            XCTAssertTrue(authData.userVerified)
            XCTAssertNil(authData.credentialId, "no attested credential data in an assertion")
            let signed = assertion.authenticatorData + request.clientDataHash
            XCTAssertTrue(try OpenSSL.verify(signature: assertion.signature, of: signed, publicKey: publicKey))
            XCTAssertFalse(
                try OpenSSL.verify(signature: assertion.signature, of: assertion.authenticatorData + randomBytes(32),
                                   publicKey: publicKey),
                "the signature covers the client data hash")
        }
        XCTAssertEqual(setup.owner.asked, 3)
    }

    func testWithoutUserInteractionOnlyWhenTheRelyingPartyDiscouragesVerification() async throws {
        let setup = try ProviderSetup(self, owner: .verifies)
        let registration = try await setup.register(
            setup.registrationRequest(rpId: "example.org", userName: "alice", verification: .discouraged))
        let publicKey = try XCTUnwrap(
            AuthenticatorData(AttestationObject(registration.attestationObject).authData).publicKey)
        let identity = try XCTUnwrap(setup.store.passkeyIdentities.first)
        let preferred = ASPasskeyCredentialRequest(
            credentialIdentity: identity, clientDataHash: randomBytes(32),
            userVerificationPreference: .preferred, supportedAlgorithms: [])
        let discouraged = ASPasskeyCredentialRequest(
            credentialIdentity: identity, clientDataHash: randomBytes(32),
            userVerificationPreference: .discouraged, supportedAlgorithms: [])

        let needsUI = try await setup.cancellation { await $0.provideCredentialWithoutUserInteraction(answering: preferred) }
        let assertion = try await setup.assertion {
            await $0.provideCredentialWithoutUserInteraction(answering: discouraged)
        }

        XCTAssertEqual(needsUI.code, .userInteractionRequired)
        XCTAssertFalse(try AuthenticatorData(assertion.authenticatorData).userVerified)
        XCTAssertTrue(try OpenSSL.verify(
            signature: assertion.signature, of: assertion.authenticatorData + discouraged.clientDataHash,
            publicKey: publicKey))
        XCTAssertEqual(setup.owner.asked, 0)
    }

    func testRequiredVerificationAtSignInTheDeviceCannotGiveIsRefusedAsFailed() async throws {
        let setup = try ProviderSetup(self, owner: .verifies)
        _ = try await setup.register(setup.registrationRequest(rpId: "example.org", userName: "alice"))
        let identity = try XCTUnwrap(setup.store.passkeyIdentities.first)
        setup.owner.answer = .cannotVerify
        let request = ASPasskeyCredentialRequest(
            credentialIdentity: identity, clientDataHash: randomBytes(32),
            userVerificationPreference: .required, supportedAlgorithms: [])

        let error = try await setup.cancellation { await $0.provideCredential(answering: request) }

        XCTAssertEqual(error.code, .failed)
        XCTAssertTrue(error.localizedDescription.lowercased().contains("verif"), error.localizedDescription)
    }

    func testAPasskeyThatIsNotStoredIsCredentialIdentityNotFoundWithoutAskingTheOwner() async throws {
        let setup = try ProviderSetup(self, owner: .verifies)
        let stale = ASPasskeyCredentialIdentity(
            relyingPartyIdentifier: "example.org", userName: "alice", credentialID: randomBytes(16),
            userHandle: randomBytes(16), recordIdentifier: "1")
        let request = ASPasskeyCredentialRequest(
            credentialIdentity: stale, clientDataHash: randomBytes(32),
            userVerificationPreference: .preferred, supportedAlgorithms: [])

        let error = try await setup.cancellation { await $0.provideCredential(answering: request) }

        XCTAssertEqual(error.code, .credentialIdentityNotFound)
        XCTAssertEqual(setup.owner.asked, 0)
    }

    func testTheCredentialListSignsWithThePasskeyTheUserChoseAmongTheAllowedOnes() async throws {
        let setup = try ProviderSetup(self, owner: .verifies)
        let alice = try await setup.register(setup.registrationRequest(rpId: "example.org", userName: "alice"))
        let bob = try await setup.register(setup.registrationRequest(rpId: "example.org", userName: "bob"))
        let carol = try await setup.register(setup.registrationRequest(rpId: "example.org", userName: "carol"))
        _ = try await setup.register(setup.registrationRequest(rpId: "other.example", userName: "alice"))
        let bobKey = try XCTUnwrap(AuthenticatorData(AttestationObject(bob.attestationObject).authData).publicKey)
        let parameters = ASPasskeyCredentialRequestParameters(
            relyingPartyIdentifier: "example.org", clientDataHash: randomBytes(32),
            userVerificationPreference: .preferred, allowedCredentials: [carol.credentialID, bob.credentialID])
        setup.controller.choice = "bob"

        let assertion = try await setup.assertion { await $0.provideChosenCredential(for: parameters) }

        XCTAssertEqual(setup.controller.offered, ["bob", "carol"], "the allowed passkeys, oldest first")
        XCTAssertEqual(assertion.credentialID, bob.credentialID)
        XCTAssertNotEqual(assertion.credentialID, alice.credentialID)
        XCTAssertTrue(try OpenSSL.verify(
            signature: assertion.signature, of: assertion.authenticatorData + parameters.clientDataHash,
            publicKey: bobKey))
    }

    func testACredentialListWithoutAPasskeyOfTheRelyingPartyIsCredentialIdentityNotFound() async throws {
        let setup = try ProviderSetup(self, owner: .verifies)
        _ = try await setup.register(setup.registrationRequest(rpId: "other.example", userName: "alice"))
        let parameters = ASPasskeyCredentialRequestParameters(
            relyingPartyIdentifier: "example.org", clientDataHash: randomBytes(32),
            userVerificationPreference: .preferred, allowedCredentials: [])

        let error = try await setup.cancellation { await $0.provideChosenCredential(for: parameters) }

        XCTAssertEqual(error.code, .credentialIdentityNotFound)
    }

    // MARK: Identity store

    func testTheIdentityStoreHoldsOneIdentityPerStoredPasskeyAndFollowsARemoval() async throws {
        let setup = try ProviderSetup(self, owner: .verifies)
        let first = setup.registrationRequest(rpId: "example.org", userName: "alice")
        let second = setup.registrationRequest(rpId: "other.example", userName: "bob")
        _ = try await setup.register(first)
        _ = try await setup.register(second)
        let stored = try setup.authenticator.passkeys(rpId: nil)

        let identities = setup.store.passkeyIdentities
        XCTAssertEqual(identities.map(\.relyingPartyIdentifier), ["example.org", "other.example"])
        XCTAssertEqual(identities.map(\.userName), ["alice", "bob"])
        XCTAssertEqual(identities.map(\.credentialID), stored.map(\.credentialId))
        XCTAssertEqual(identities.map(\.userHandle), [first.identity.userHandle, second.identity.userHandle])
        XCTAssertEqual(identities.map(\.recordIdentifier), stored.map { String($0.id) })

        try setup.authenticator.removePasskey(id: stored[0].id)
        try await setup.provider.updateIdentityStore()

        XCTAssertEqual(setup.store.passkeyIdentities.map(\.userName), ["bob"])
    }

    func testADisabledIdentityStoreIsLeftAloneAndTheRegistrationStillSucceeds() async throws {
        let setup = try ProviderSetup(self, owner: .verifies)
        setup.store.isEnabled = false

        let credential = try await setup.register(setup.registrationRequest(rpId: "example.org", userName: "alice"))

        XCTAssertEqual(try setup.authenticator.passkeys(rpId: nil).map(\.credentialId), [credential.credentialID])
        XCTAssertTrue(setup.store.identities.isEmpty)
    }

    func testTurningTheProviderOnFillsTheIdentityStoreAndCompletesTheConfiguration() async throws {
        let setup = try ProviderSetup(self, owner: .verifies)
        setup.store.isEnabled = false
        _ = try await setup.register(setup.registrationRequest(rpId: "example.org", userName: "alice"))
        setup.store.isEnabled = true

        await setup.controller.configure()

        XCTAssertEqual(setup.store.passkeyIdentities.map(\.userName), ["alice"])
        guard case .configurationDone = setup.controller.extensionContext.answers.last else {
            return XCTFail("expected completeExtensionConfigurationRequest, got \(setup.controller.extensionContext.answers)")
        }
    }
}

// MARK: - Test support

func randomBytes(_ count: Int) -> Data {
    var generator = SystemRandomNumberGenerator()
    return Data((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
}

/// The device owner as LocalAuthentication's stand-in answers for them, and how often asked.
@MainActor
final class DeviceOwner {
    enum Answer: Sendable { case verifies, cancels, cannotVerify }
    var answer: Answer
    private(set) var asked = 0

    init(_ answer: Answer) { self.answer = answer }

    func context() -> LAContext {
        asked += 1
        return ScriptedContext(answer)
    }

    final class ScriptedContext: LAContext {
        let answer: Answer
        init(_ answer: Answer) {
            self.answer = answer
            super.init()
        }

        override func evaluatePolicy(
            _ policy: LAPolicy, localizedReason: String, reply: @escaping @Sendable (Bool, (any Error)?) -> Void
        ) {
            guard policy == .deviceOwnerAuthentication, !localizedReason.isEmpty else {
                return reply(false, LAError(.invalidContext))
            }
            switch answer {
            case .verifies: reply(true, nil)
            case .cancels: reply(false, LAError(.userCancel))
            case .cannotVerify: reply(false, LAError(.passcodeNotSet))
            }
        }
    }
}

/// The extension's view controller as an app subclasses it, over a test vault; the user's pick
/// in the credential list is scripted.
final class TestProviderController: PasskeyCredentialProviderViewController {
    var provider: PasskeyProvider?
    var choice: String?
    var offered: [String] = []

    override func makePasskeyProvider() throws -> PasskeyProvider {
        try XCTUnwrap(provider)
    }

    override func chooseCredential(from candidates: [PasskeyInfo]) async -> PasskeyInfo? {
        offered = candidates.map(\.title)
        return candidates.first { $0.userName == choice }
    }
}

/// A vault, an identity store, the device owner and the view controller, wired together.
@MainActor
struct ProviderSetup {
    let authenticator: Authenticator
    let store = ASCredentialIdentityStore()
    let owner: DeviceOwner
    let provider: PasskeyProvider
    let controller = TestProviderController()

    init(_ test: XCTestCase, owner answer: DeviceOwner.Answer) throws {
        authenticator = try TempVault(test).open()
        let owner = DeviceOwner(answer)
        self.owner = owner
        provider = PasskeyProvider(
            authenticator: authenticator, identityStore: store, localizedReason: "Sign in",
            authenticationContext: { owner.context() })
        controller.provider = provider
    }

    struct Registration {
        let request: ASPasskeyCredentialRequest
        var identity: ASPasskeyCredentialIdentity { request.credentialIdentity as! ASPasskeyCredentialIdentity }
        var clientDataHash: Data { request.clientDataHash }
    }

    /// A request as iOS hands `prepareInterface(forPasskeyRegistration:)`.
    func registrationRequest(
        rpId: String, userName: String,
        verification: ASAuthorizationPublicKeyCredentialUserVerificationPreference = .preferred,
        algorithms: [ASCOSEAlgorithmIdentifier] = [.ES256],
        excluding excluded: [Data]? = nil
    ) -> Registration {
        let identity = ASPasskeyCredentialIdentity(
            relyingPartyIdentifier: rpId, userName: userName, credentialID: Data(), userHandle: randomBytes(16),
            recordIdentifier: nil)
        return Registration(request: ASPasskeyCredentialRequest(
            type: .passkeyRegistration, credentialIdentity: identity, clientDataHash: randomBytes(32),
            userVerificationPreference: verification, supportedAlgorithms: algorithms,
            excludedCredentials: excluded?.map { ASAuthorizationPlatformPublicKeyCredentialDescriptor(credentialID: $0) }))
    }

}

extension ProviderSetup {
    /// Registers through the view controller; the credential it completed the request with.
    func register(_ registration: Registration) async throws -> ASPasskeyRegistrationCredential {
        await controller.registerPasskey(for: registration.request)
        guard case .registration(let credential) = controller.extensionContext.answers.last else {
            throw Failure("expected completeRegistrationRequest, got \(controller.extensionContext.answers)")
        }
        return credential
    }

    func cancellation(_ call: (TestProviderController) async -> Void) async throws -> ASExtensionError {
        await call(controller)
        guard case .cancel(let error) = controller.extensionContext.answers.last else {
            throw Failure("expected cancelRequest, got \(controller.extensionContext.answers)")
        }
        return try XCTUnwrap(error as? ASExtensionError)
    }

    func assertion(_ call: (TestProviderController) async -> Void) async throws -> ASPasskeyAssertionCredential {
        await call(controller)
        guard case .assertion(let credential) = controller.extensionContext.answers.last else {
            throw Failure("expected completeAssertionRequest, got \(controller.extensionContext.answers)")
        }
        return credential
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

extension ASCredentialIdentityStore {
    var passkeyIdentities: [ASPasskeyCredentialIdentity] { identities.compactMap { $0 as? ASPasskeyCredentialIdentity } }
}

// MARK: - WebAuthn bytes, read independently of the core

/// `{"fmt": …, "attStmt": {…}, "authData": h'…'}`.
struct AttestationObject {
    let format: String
    let statementIsEmpty: Bool
    let authData: Data

    init(_ bytes: Data) throws {
        var reader = CBORReader(bytes)
        guard case .map(let map) = try reader.read(), reader.atEnd,
              case .text(let format)? = map[.text("fmt")],
              case .map(let statement)? = map[.text("attStmt")],
              case .bytes(let authData)? = map[.text("authData")]
        else { throw CBORReader.Malformed() }
        self.format = format
        statementIsEmpty = statement.isEmpty
        self.authData = authData
    }
}

/// WebAuthn §6.1: rpIdHash, flags, signCount, then (AT) the attested credential data.
struct AuthenticatorData {
    let rpIdHash: Data
    let flags: UInt8
    let signCount: UInt32
    let credentialId: Data?
    /// The credential's public key, `04 ‖ x ‖ y`, from its COSE key (EC2, ES256, P-256).
    let publicKey: Data?

    var userPresent: Bool { flags & 0x01 != 0 }
    var userVerified: Bool { flags & 0x04 != 0 }
    var backupEligible: Bool { flags & 0x08 != 0 }

    init(_ data: Data) throws {
        let bytes = [UInt8](data)
        guard bytes.count >= 37 else { throw CBORReader.Malformed() }
        rpIdHash = Data(bytes[0..<32])
        flags = bytes[32]
        signCount = bytes[33..<37].reduce(0) { $0 << 8 | UInt32($1) }
        guard flags & 0x40 != 0 else {
            credentialId = nil
            publicKey = nil
            return
        }
        guard bytes.count >= 55 else { throw CBORReader.Malformed() }
        let length = Int(bytes[53]) << 8 | Int(bytes[54])
        guard bytes.count >= 55 + length else { throw CBORReader.Malformed() }
        credentialId = Data(bytes[55..<(55 + length)])
        var reader = CBORReader(Data(bytes[(55 + length)...]))
        guard case .map(let key) = try reader.read(),
              key[.int(1)] == .int(2), key[.int(3)] == .int(-7), key[.int(-1)] == .int(1),
              case .bytes(let x)? = key[.int(-2)], case .bytes(let y)? = key[.int(-3)],
              x.count == 32, y.count == 32
        else { throw CBORReader.Malformed() }
        publicKey = Data([0x04]) + x + y
    }
}

/// Just enough CBOR (RFC 8949) for attestation objects and COSE keys.
struct CBORReader {
    indirect enum Value: Hashable {
        case int(Int64)
        case bytes(Data)
        case text(String)
        case array([Value])
        case map([Value: Value])
        case simple(UInt8)
    }

    struct Malformed: Error {}

    private let bytes: [UInt8]
    private var offset = 0

    init(_ data: Data) { bytes = [UInt8](data) }

    var atEnd: Bool { offset == bytes.count }

    mutating func read() throws -> Value {
        let initial = try byte()
        let major = initial >> 5
        let argument = try self.argument(initial & 0x1f)
        switch major {
        case 0: return .int(Int64(argument))
        case 1: return .int(-1 - Int64(argument))
        case 2: return .bytes(Data(try take(Int(argument))))
        case 3:
            guard let text = String(bytes: try take(Int(argument)), encoding: .utf8) else { throw Malformed() }
            return .text(text)
        case 4: return .array(try (0..<argument).map { _ in try read() })
        case 5:
            var map: [Value: Value] = [:]
            for _ in 0..<argument { map[try read()] = try read() }
            return .map(map)
        case 7: return .simple(UInt8(argument))
        default: throw Malformed()
        }
    }

    private mutating func argument(_ info: UInt8) throws -> UInt64 {
        switch info {
        case 0..<24: return UInt64(info)
        case 24...27: return try take(1 << Int(info - 24)).reduce(0) { $0 << 8 | UInt64($1) }
        default: throw Malformed()
        }
    }

    private mutating func byte() throws -> UInt8 {
        let slice = try take(1)
        return slice[slice.startIndex]
    }

    private mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - offset >= count else { throw Malformed() }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }
}

// MARK: - OpenSSL, the independent verifier

enum OpenSSL {
    struct Failed: Error, CustomStringConvertible { let description: String }

    static func sha256(_ data: Data) throws -> Data {
        let (status, output) = try run(["dgst", "-sha256", "-binary"], input: data)
        guard status == 0, output.count == 32 else { throw Failed(description: "openssl dgst failed (\(status))") }
        return output
    }

    /// Whether `signature` (DER ECDSA) is a valid ES256 signature of `message` by `publicKey`
    /// (`04 ‖ x ‖ y`).
    static func verify(signature: Data, of message: Data, publicKey: Data) throws -> Bool {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("passkey-verify-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // SubjectPublicKeyInfo: id-ecPublicKey, prime256v1, the uncompressed point.
        let spkiPrefix: [UInt8] = [
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
            0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        ]
        let spki = Data(spkiPrefix) + publicKey
        let pem = "-----BEGIN PUBLIC KEY-----\n"
            + spki.base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
            + "\n-----END PUBLIC KEY-----\n"
        let keyFile = folder.appendingPathComponent("key.pem")
        let signatureFile = folder.appendingPathComponent("signature.der")
        try Data(pem.utf8).write(to: keyFile)
        try signature.write(to: signatureFile)
        let (status, output) = try run(
            ["dgst", "-sha256", "-verify", keyFile.path, "-signature", signatureFile.path], input: message)
        let text = String(decoding: output, as: UTF8.self)
        switch (status, text.contains("Verified OK")) {
        case (0, true): return true
        case (1, false) where text.contains("Verification failure"): return false
        default: throw Failed(description: "openssl dgst -verify: status \(status), \(text)")
        }
    }

    private static func run(_ arguments: [String], input: Data) throws -> (Int32, Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
#endif
