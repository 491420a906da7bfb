import AuthenticatorCore

/// From `application(_:didReceiveRemoteNotification:fetchCompletionHandler:)`, or a Notification
/// Service Extension: APNs' `userInfo`, whose string entries are the server's payload. The core
/// checks the server's signature: a forged payload throws `AuthError.ForgedRequest`. After a new
/// device token, call `updatePushToken(tokenId:fbToken:)` for each push token.
func onPush(_ authenticator: Authenticator, userInfo: [AnyHashable: Any]) throws -> PushRequest? {
    var payload: [String: String] = [:]
    for case let (key as String, value as String) in userInfo {
        payload[key] = value
    }
    return try authenticator.handlePushPayload(payload: payload)  // nil: already received
}
