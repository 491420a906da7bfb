package org.authenticator.core.android.docs

import org.authenticator.core.Authenticator
import org.authenticator.core.PushRequest

// The user tapped "Approve". With number matching (request.choices != null) pass the number
// they picked; a token protected by a PIN (request.requiresPin) needs it, entered by the user.
// A network call: suspend, from any coroutine.
suspend fun approve(authenticator: Authenticator, request: PushRequest, picked: String?, pin: String?) {
    authenticator.approve(
        request.id,
        answer = picked,
        pin = if (request.requiresPin) pin else null,
    )
}
