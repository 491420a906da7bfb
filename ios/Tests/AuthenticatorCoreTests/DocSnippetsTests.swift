import Foundation
import XCTest

@testable import AuthenticatorCore

/// docs/mobile.md's iOS snippets: each ```swift block of the doc is one file of DocSnippets/
/// (compiled with this test target in the Swift 6 language mode), verbatim, and each such file is
/// in the doc. The snippets then run here against the real core.
final class DocSnippetsTests: XCTestCase {
    private let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    /// The ```swift blocks of a Markdown text, each with its final newline.
    private func swiftBlocks(_ markdown: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil {
                if line == "```swift" { current = [] }
            } else if line == "```" {
                blocks.append(current!.joined(separator: "\n") + "\n")
                current = nil
            } else {
                current!.append(line)
            }
        }
        return blocks
    }

    func testEverySwiftBlockOfTheDocIsACompiledSnippetAndEverySnippetIsInTheDoc() throws {
        let repo = testsDir.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: repo.appendingPathComponent("docs/mobile.md"), encoding: .utf8)
        let blocks = swiftBlocks(doc)
        let dir = testsDir.appendingPathComponent("DocSnippets")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".swift") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 5)
        var snippets: [String] = []
        for name in names {
            let snippet = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            snippets.append(snippet)
            XCTAssert(blocks.contains(snippet), "docs/mobile.md has \(name) verbatim in a ```swift block")
        }
        for block in blocks {
            XCTAssert(snippets.contains(block), "this ```swift block of docs/mobile.md is not a compiled snippet:\n\(block)")
        }
    }

    func testTheSnippetsShowCodesAndMapErrors() async throws {
        let vault = try TempVault(self)
        let app = try vault.open()
        let account = try app.addAccountFromUri(uri: "otpauth://totp/Docs:a?secret=\(base32("12345678901234567890"))")

        let model = await CodeListModel(authenticator: app)
        let task = Task { await model.run() }
        for _ in 0..<200 where await model.codes.isEmpty {
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        task.cancel()
        await task.value
        let shown = await model.codes.map(\.accountId)
        XCTAssertEqual(shown, [account.id])

        do {
            _ = try onPush(app, userInfo: ["hello": "world", "aps": ["alert": "x"]])
            XCTFail("a payload that is not the server's was accepted")
        } catch let error as AuthError {
            XCTAssertFalse(whatToDo(error).isEmpty)
        }

        let unknown = PushRequest(
            id: 4242, tokenId: 1, serial: "PIPU0001", issuer: "", label: "", title: "", question: "",
            choices: nil, declineReasons: false, receivedAt: 0, expiresAt: 0, state: .pending,
            requiresPin: false)
        do {
            try await approve(app, unknown, picked: nil, pin: nil)
            XCTFail("an unknown request was approved")
        } catch let error as AuthError {
            XCTAssertEqual(whatToDo(error), "It was removed meanwhile: refresh the list")
        }

        assertAuthError(try Authenticator(dbPath: vault.path, dataKey: randomDataKey())) { error in
            XCTAssertEqual(whatToDo(error), "This vault was sealed with another key")
        }
    }
}
