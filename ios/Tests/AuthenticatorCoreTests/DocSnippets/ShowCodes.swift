import AuthenticatorCore

/// Every account's code now, then each time any code changes (at period boundaries, not every
/// second). In SwiftUI: `.task { await model.run() }`, which cancels it with the view. Iterate
/// anew after adding accounts.
@MainActor
final class CodeListModel {
    private(set) var codes: [CodeRecord] = []  // value, nextValue, validUntil per accountId
    private(set) var problem: String?
    let authenticator: Authenticator

    init(authenticator: Authenticator) { self.authenticator = authenticator }

    func run() async {
        do {
            for try await codes in authenticator.codeUpdates() {
                self.codes = codes
            }
        } catch let error as AuthError {
            problem = whatToDo(error)
        } catch {
            problem = "\(error)"
        }
    }
}
