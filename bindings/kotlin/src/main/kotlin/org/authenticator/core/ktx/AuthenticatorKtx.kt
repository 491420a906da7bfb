@file:JvmName("AuthenticatorKtx")

// Kotlin conveniences over the generated uniffi API (org.authenticator.core). Nothing here talks
// to the native library except through the generated `Authenticator`; each helper is small enough
// to copy into an app that prefers not to depend on this module.

package org.authenticator.core.ktx

import java.nio.file.Path
import java.time.Instant
import kotlin.coroutines.CoroutineContext
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.withContext
import org.authenticator.core.AccountRecord
import org.authenticator.core.AuthException
import org.authenticator.core.Authenticator
import org.authenticator.core.CodeRecord
import org.authenticator.core.PushRequest

/** The device clock in milliseconds since the Unix epoch; the default clock of [codesFlow]. */
val systemClockMillis: () -> Long = System::currentTimeMillis

/**
 * Opens (or creates) the vault at [dbFile] with the 32-byte [dataKey] on [Dispatchers.IO]
 * (opening checks the key and may migrate the schema: keep it off the main thread).
 *
 * @throws AuthException.WrongKey, AuthException.InvalidKey, AuthException.VaultUnreadable, …
 */
suspend fun Authenticator.Companion.open(
    dbFile: Path,
    dataKey: ByteArray,
    context: CoroutineContext = Dispatchers.IO,
): Authenticator = withContext(context) { Authenticator(dbFile.toString(), dataKey) }

/**
 * Every account's code at [now] (whole seconds; the vault's clock offset is applied).
 *
 * @throws AuthException.InvalidArgument for an instant before 1970.
 */
@Throws(AuthException::class)
fun Authenticator.codes(now: Instant): List<CodeRecord> = codes(now.epochSecond)

/**
 * The codes of every account, emitted at once and then on every second boundary of [clock]
 * (milliseconds since the epoch), for a code list with countdowns: collect it while the screen
 * is visible. Each emission is one call into the core (about 0.5 ms for 1,000 accounts).
 *
 * The core is called on [context] ([Dispatchers.IO] by default). Errors (for example the vault
 * file vanished) end the flow with the [AuthException]; use `retry`/`catch` to recover.
 */
fun Authenticator.codesFlow(
    clock: () -> Long = systemClockMillis,
    context: CoroutineContext = Dispatchers.IO,
): Flow<List<CodeRecord>> =
    flow {
        while (true) {
            val nowMillis = clock()
            emit(codes(Math.floorDiv(nowMillis, 1000L)))
            // Sleep to the next second boundary of the clock *after* the emission: a slow
            // collector does not make the next tick late, it only skips it.
            val after = clock()
            delay(1000L - Math.floorMod(after, 1000L))
        }
    }.flowOn(context)

/**
 * Polls every push token every [interval] and emits each new sign-in request. Tokens that cannot
 * be polled (offline, PIN needed) are retried on the next round; call `pollPush` directly to see
 * why. A thrown [AuthException] ends the flow.
 */
fun Authenticator.pushRequests(
    pins: Map<Long, String> = emptyMap(),
    interval: Duration = 2.seconds,
): Flow<PushRequest> =
    flow {
        while (true) {
            pollPush(pins).newRequests.forEach { emit(it) }
            delay(interval)
        }
    }

/** Fraction of the period still left, 1.0 → 0.0, for a countdown ring; 0 for HOTP. */
val CodeRecord.remainingFraction: Float
    get() = if (period == 0) 0f else secondsLeft.toFloat() / period.toFloat()

/** The code split in two halves for reading aloud or display: "755 224", "9428 7082". */
fun CodeRecord.grouped(separator: String = " "): String = value.grouped(separator)

/** The name a list row shows: "Issuer (label)", or just one of them when the other is empty. */
val AccountRecord.displayName: String
    get() =
        when {
            issuer.isEmpty() -> label
            label.isEmpty() -> issuer
            else -> "$issuer ($label)"
        }

internal fun String.grouped(separator: String): String {
    if (length < 6 || any { !it.isDigit() }) return this // Steam codes are letters: leave them
    val half = (length + 1) / 2
    return substring(0, half) + separator + substring(half)
}
