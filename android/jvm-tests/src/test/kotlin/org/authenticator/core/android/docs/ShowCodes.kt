package org.authenticator.core.android.docs

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.launch
import org.authenticator.core.Authenticator
import org.authenticator.core.CodeRecord
import org.authenticator.core.android.codeUpdates

// Every account's code now, then each time any code changes (at period boundaries, not every
// second). In an Activity or Fragment: lifecycleScope.launch { repeatOnLifecycle(STARTED) { … } },
// so collection stops while the screen is not shown. Collect anew after adding accounts.
fun showCodes(scope: CoroutineScope, authenticator: Authenticator, render: (List<CodeRecord>) -> Unit): Job =
    scope.launch {
        authenticator.codeUpdates().collect { codes ->
            render(codes) // value, nextValue, validUntil (Unix seconds) per accountId
        }
    }
