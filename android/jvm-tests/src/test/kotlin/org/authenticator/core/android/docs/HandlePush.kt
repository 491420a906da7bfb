package org.authenticator.core.android.docs

import org.authenticator.core.Authenticator
import org.authenticator.core.PushRequest

// In your FirebaseMessagingService:
//   override fun onMessageReceived(message: RemoteMessage) {
//       onPush(authenticator, message.data)?.let { showApprovalNotification(it) }
//   }
// The core checks the server's signature: a forged payload throws AuthException.ForgedRequest.
// After onNewToken(token), call authenticator.updatePushToken(tokenId, token) for each push token.
fun onPush(authenticator: Authenticator, data: Map<String, String>): PushRequest? =
    authenticator.handlePushPayload(data) // null: already received (by FCM or by pollPush())
