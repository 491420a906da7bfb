import Foundation
import XCTest

@testable import AuthenticatorCore

/// RFC 4648 base32 with no padding, as otpauth:// URIs carry secrets.
func base32(_ text: String) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    var out = ""
    var buffer = 0
    var bits = 0
    for byte in Array(text.utf8) {
        buffer = (buffer << 8) | Int(byte)
        bits += 8
        while bits >= 5 {
            out.append(alphabet[(buffer >> (bits - 5)) & 31])
            bits -= 5
        }
    }
    if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 31]) }
    return out
}

/// A fresh 32-byte data key, as the Keychain helper makes one.
func randomDataKey() -> Data {
    var generator = SystemRandomNumberGenerator()
    return Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
}

/// A vault in its own temporary directory, removed when the test ends.
struct TempVault {
    let directory: URL
    let path: String
    let key: Data

    init(_ test: XCTestCase, key: Data = randomDataKey()) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("authenticator-swift-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("vault.db").path
        self.key = key
        let directory = self.directory
        test.addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
    }

    func open() throws -> Authenticator {
        try Authenticator(dbPath: path, dataKey: key)
    }
}

/// Asserts that `body` throws `AuthError` and hands it to `check`.
func assertAuthError<T>(
    _ body: @autoclosure () throws -> T,
    file: StaticString = #filePath, line: UInt = #line,
    _ check: (AuthError) -> Void
) {
    do {
        let value = try body()
        XCTFail("expected an AuthError, got \(value)", file: file, line: line)
    } catch let error as AuthError {
        check(error)
    } catch {
        XCTFail("expected an AuthError, got \(type(of: error)): \(error)", file: file, line: line)
    }
}

/// The admin and login side of the privacyIDEA test server (tests/privacyidea/pi_admin.py),
/// started by run-tests.sh, which passes its server.env as PI_ENV_FILE.
struct PrivacyIdeaAdmin {
    let envFile: String
    let python: String
    let script: String

    /// nil when PI_ENV_FILE (or `variable`: EDUMFA_ENV_FILE for the eduMFA server) is not set
    /// (e.g. `swift test` run by hand without a server).
    static func fromEnvironment(_ variable: String = "PI_ENV_FILE") throws -> PrivacyIdeaAdmin? {
        let environment = ProcessInfo.processInfo.environment
        guard let envFile = environment[variable], !envFile.isEmpty else { return nil }
        let settings = try parseEnvFile(envFile)
        // PI_PYTHON is the server venv's python on the host; run-tests.sh sets PI_ADMIN_PYTHON
        // to the chroot's python3 when the tests run in the Swift chroot (pi_admin.py needs only
        // the standard library).
        guard let python = environment["PI_ADMIN_PYTHON"] ?? settings["PI_PYTHON"] else {
            throw Failure("no PI_PYTHON in \(envFile)")
        }
        let script = environment["PI_ADMIN_SCRIPT"]
            ?? URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent() // AuthenticatorCoreTests
            .deletingLastPathComponent() // Tests
            .deletingLastPathComponent() // ios
            .deletingLastPathComponent() // repository
            .appendingPathComponent("tests/privacyidea/pi_admin.py").path
        return PrivacyIdeaAdmin(envFile: envFile, python: python, script: script)
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Runs one pi_admin.py subcommand and returns its JSON object.
    @discardableResult
    func run(_ arguments: String...) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "--env", envFile] + arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: output, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure("pi_admin.py \(arguments.joined(separator: " ")) exited \(process.terminationStatus): "
                + text + String(decoding: errors, as: UTF8.self))
        }
        guard let json = try JSONSerialization.jsonObject(with: output) as? [String: Any] else {
            throw Failure("pi_admin.py \(arguments.joined(separator: " ")) printed no JSON object: \(text)")
        }
        return json
    }

    /// KEY=VALUE lines as pi-server.sh writes them (bash `printf %q`, simple values unquoted).
    static func parseEnvFile(_ path: String) throws -> [String: String] {
        var settings: [String: String] = [:]
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
            var value = String(line[line.index(after: equals)...])
            if value.count >= 2, value.hasPrefix("'"), value.hasSuffix("'") {
                value = String(value.dropFirst().dropLast())
            } else {
                value = value.replacingOccurrences(of: "\\", with: "")
            }
            settings[String(line[..<equals])] = value
        }
        return settings
    }
}
