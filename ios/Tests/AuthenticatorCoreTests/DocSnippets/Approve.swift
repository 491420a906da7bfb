import AuthenticatorCore

/// The user tapped "Approve". With number matching (`request.choices != nil`) pass the number
/// they picked; a token protected by a PIN (`request.requiresPin`) needs it, entered by the user.
func approve(_ authenticator: Authenticator, _ request: PushRequest, picked: String?, pin: String?) async throws {
    try await authenticator.approve(
        requestId: request.id,
        answer: picked,
        pin: request.requiresPin ? pin : nil)
}
