// swift-tools-version:6.0
//
// AuthenticatorCore: the Rust authenticator core for iOS, through uniffi.
//
// Where the C side of the FFI (module AuthenticatorCoreFFI) comes from:
// - Apple platforms: AuthenticatorCoreFFI.xcframework beside this file, built by
//   build-xcframework.sh (static libraries for device + simulator, the uniffi header and
//   module map). Git-ignored; build it (or download a release copy) before building the package.
// - Linux (and macOS with AUTHENTICATOR_CORE_LOCAL_FFI=1): a .systemLibrary target over the
//   uniffi header + module map that sync-bindings.sh copies into Sources/AuthenticatorCoreFFI/,
//   linked against the host's libauthenticator_core.so/.dylib from AUTHENTICATOR_CORE_LIB_DIR
//   (default ../target/debug, where bindings/generate.sh builds it). That is how run-tests.sh
//   runs the XCTest suite. The -L/-rpath flags are unsafeFlags, which SwiftPM allows only in a
//   root package: this mode is for developing and testing the package itself, not for apps.
//
// The generated Swift (Sources/AuthenticatorCore/Generated/, git-ignored) is copied in by
// sync-bindings.sh; run it (or run-tests.sh / build-xcframework.sh) after changing the core.
import Foundation
import PackageDescription

let environment = ProcessInfo.processInfo.environment

#if os(Linux)
let useLocalFFI = true
#else
let useLocalFFI = environment["AUTHENTICATOR_CORE_LOCAL_FFI"] == "1"
#endif

let ffiTarget: Target
var coreLinkerSettings: [LinkerSetting] = [
    // The Rust TLS stack verifies certificates with the platform verifier (Security.framework).
    .linkedFramework("Security", .when(platforms: [.iOS, .macOS, .macCatalyst])),
    .linkedFramework("CoreFoundation", .when(platforms: [.iOS, .macOS, .macCatalyst])),
]

if useLocalFFI {
    let libDir = environment["AUTHENTICATOR_CORE_LIB_DIR"]
        ?? URL(fileURLWithPath: Context.packageDirectory)
        .appendingPathComponent("../target/debug").standardizedFileURL.path
    ffiTarget = .systemLibrary(name: "AuthenticatorCoreFFI", path: "Sources/AuthenticatorCoreFFI")
    coreLinkerSettings += [
        .linkedLibrary("authenticator_core"),
        .unsafeFlags(["-L", libDir, "-Xlinker", "-rpath", "-Xlinker", libDir]),
    ]
} else {
    ffiTarget = .binaryTarget(name: "AuthenticatorCoreFFI", path: "AuthenticatorCoreFFI.xcframework")
}

let package = Package(
    name: "AuthenticatorCore",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "AuthenticatorCore", targets: ["AuthenticatorCore"]),
        // For a passkey credential provider extension (iOS 17): see README.md, "Passkeys".
        .library(name: "AuthenticatorPasskeyProvider", targets: ["AuthenticatorPasskeyProvider"]),
    ],
    targets: [
        ffiTarget,
        .target(
            name: "AuthenticatorCore",
            dependencies: ["AuthenticatorCoreFFI"],
            path: "Sources/AuthenticatorCore",
            linkerSettings: coreLinkerSettings
        ),
        // AuthenticationServices and LocalAuthentication on Apple platforms; on Linux, stand-ins
        // of the parts it uses (AuthenticationServicesStandIn.swift, LocalAuthenticationStandIn.swift).
        .target(
            name: "AuthenticatorPasskeyProvider",
            dependencies: ["AuthenticatorCore"],
            path: "Sources/AuthenticatorPasskeyProvider"
        ),
        .testTarget(
            name: "AuthenticatorCoreTests",
            dependencies: ["AuthenticatorCore", "AuthenticatorPasskeyProvider"],
            path: "Tests/AuthenticatorCoreTests"
        ),
    ]
)
