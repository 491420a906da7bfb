// STAND-IN, compiled only where Apple's LocalAuthentication is missing (Linux, this project's test
// machines): `#if !canImport(LocalAuthentication)`. On iOS and macOS this file is empty and the
// real framework is used.
//
// It declares the part of Apple's API that PasskeyProvider uses (`LAContext.evaluatePolicy`,
// `LAPolicy`, `LAError`), with Apple's names, labels and types. There is no device owner to verify
// here: a plain `LAContext` answers every evaluation with `LAError.passcodeNotSet`; tests subclass
// `LAContext` (it is an open class on Apple platforms too) to script the owner's answer.
#if !canImport(LocalAuthentication)
import Foundation

public enum LAPolicy: Int, Sendable {
    case deviceOwnerAuthenticationWithBiometrics = 1
    case deviceOwnerAuthentication = 2
}

public let LAErrorDomain = "com.apple.LocalAuthentication"

public struct LAError: CustomNSError, Hashable {
    public enum Code: Int, Sendable {
        case authenticationFailed = -1
        case userCancel = -2
        case userFallback = -3
        case systemCancel = -4
        case passcodeNotSet = -5
        case biometryNotAvailable = -6
        case biometryNotEnrolled = -7
        case biometryLockout = -8
        case appCancel = -9
        case invalidContext = -10
        case notInteractive = -1004
    }

    public let code: Code
    public init(_ code: Code, userInfo: [String: Any] = [:]) { self.code = code }
    public static var errorDomain: String { LAErrorDomain }
    public var errorCode: Int { code.rawValue }

    public static var authenticationFailed: Code { .authenticationFailed }
    public static var userCancel: Code { .userCancel }
    public static var systemCancel: Code { .systemCancel }
    public static var passcodeNotSet: Code { .passcodeNotSet }
    public static var appCancel: Code { .appCancel }
}

open class LAContext: NSObject {
    public override init() { super.init() }

    open func evaluatePolicy(
        _ policy: LAPolicy, localizedReason: String, reply: @escaping @Sendable (Bool, (any Error)?) -> Void
    ) {
        reply(false, LAError(.passcodeNotSet))
    }

    /// As on Apple platforms, the async form answers what the completion-handler form replies.
    open func evaluatePolicy(_ policy: LAPolicy, localizedReason: String) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            evaluatePolicy(policy, localizedReason: localizedReason) { success, error in
                if let error {
                    continuation.resume(throwing: error)
                } else {
                    continuation.resume(returning: success)
                }
            }
        }
    }
}
#endif
