package org.authenticator.core

import java.net.DatagramPacket
import java.net.DatagramSocket
import java.net.InetAddress
import java.net.ServerSocket
import java.nio.ByteBuffer
import java.nio.file.Path
import java.time.ZoneOffset
import java.time.ZonedDateTime
import java.time.format.DateTimeFormatter
import java.util.Locale
import kotlin.concurrent.thread
import kotlin.math.abs
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/**
 * The clock through the bindings: a real UDP SNTP server and a real HTTP server on 127.0.0.1
 * (JVM sockets, answering with this machine's clock); the phone's wrong clock is simulated by
 * passing a wrong `nowMs`.
 */
class ClockTest {
    @TempDir lateinit var dir: Path

    /** An SNTP server answering every request with `stratum` and the JVM's time; returns its port. */
    private fun sntpServer(stratum: Int = 2, code: String = "\u0000\u0000\u0000\u0000"): Int {
        val socket = DatagramSocket(0, InetAddress.getLoopbackAddress())
        thread(isDaemon = true) {
            val buf = ByteArray(512)
            while (true) {
                val request = DatagramPacket(buf, buf.size)
                socket.receive(request)
                val now = System.currentTimeMillis()
                val ntp = ((now / 1000 + 2_208_988_800L) shl 32) or (((now % 1000) shl 32) / 1000)
                val reply = ByteBuffer.allocate(48)
                reply.put(0, 0b00_100_100.toByte()).put(1, stratum.toByte())
                reply.put(12, code.toByteArray(Charsets.US_ASCII), 0, 4)
                reply.put(24, buf, 40, 8) // origin = the request's transmit timestamp
                reply.putLong(32, ntp).putLong(40, ntp)
                socket.send(DatagramPacket(reply.array(), 48, request.socketAddress))
            }
        }
        return socket.localPort
    }

    @Test
    fun `an NTP check corrects codes in automatic mode and warns when the clock is far off`() =
        runBlocking<Unit> {
            openVault(dir).use { auth ->
                auth.addAccountFromUri("otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP")
                val fresh = auth.clockStatus()
                assertTrue(fresh.automatic)
                assertNull(fresh.lastMeasurement)
                val port = sntpServer()
                val status = auth.checkClock(System.currentTimeMillis() - 90_000, ntpServer = "127.0.0.1:$port")
                val m = assertNotNull(status.lastMeasurement)
                assertEquals(TimeSource.NTP, m.source)
                assertTrue(abs(m.offsetMs - 90_000) <= 500, "$m")
                assertEquals(90L, status.offsetSeconds)
                assertEquals(TimeSource.NTP, status.offsetSource)
                assertEquals("your clock is 90 s behind; codes are corrected", status.warning)
                assertTrue(auth.codes(System.currentTimeMillis() / 1000).all { it.clockCorrected })

                auth.setClockAutomatic(false)
                assertEquals(0L, auth.clockStatus().offsetSeconds)
                assertFalse(auth.codes(System.currentTimeMillis() / 1000).single().clockCorrected)
            }
        }

    @Test
    fun `a kiss-of-death is a TimeSource error and changes nothing`() =
        runBlocking<Unit> {
            openVault(dir).use { auth ->
                auth.setClockOffset(7)
                val error = assertThrows<AuthException.TimeSource> {
                    runBlocking { auth.checkClock(System.currentTimeMillis(), ntpServer = "127.0.0.1:${sntpServer(stratum = 0, code = "DENY")}") }
                }
                assertTrue(error.reason.contains("DENY"), error.reason)
                assertEquals(7L, auth.clockOffset())
            }
        }

    /** A raw HTTP server (the JDK's HttpServer writes its own Date) whose Date is `offsetSeconds` off. */
    private fun dateServer(offsetSeconds: Long): ServerSocket {
        val server = ServerSocket(0, 10, InetAddress.getLoopbackAddress())
        val format = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
        thread(isDaemon = true) {
            while (!server.isClosed) {
                val connection = runCatching { server.accept() }.getOrNull() ?: break
                connection.use {
                    val input = it.getInputStream().bufferedReader(Charsets.US_ASCII)
                    while (!input.readLine().isNullOrEmpty()) {}
                    val date = format.format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(offsetSeconds))
                    it.getOutputStream().write("HTTP/1.1 204 No Content\r\nDate: $date\r\nConnection: close\r\n\r\n".toByteArray())
                }
            }
        }
        return server
    }

    @Test
    fun `the Date header of a URL measures the clock, and an hour from one source waits for the user`() =
        runBlocking<Unit> {
            dateServer(3600).use { server ->
                openVault(dir).use { auth ->
                    val url = "http://127.0.0.1:${server.localPort}/"
                    val status = auth.checkClock(System.currentTimeMillis(), httpsUrl = url)
                    val m = assertNotNull(status.lastMeasurement)
                    assertEquals(TimeSource.HTTPS, m.source)
                    assertTrue(abs(m.offsetMs - 3_600_000) <= 1_000, "$m")
                    // Over 2 min from one source: proposed, not applied, until the user accepts it.
                    assertEquals(0L, status.offsetSeconds)
                    assertEquals(m, status.proposal)
                    assertTrue(status.warning!!.startsWith("HTTPS says your clock is 60 min 0 s behind; not applied"), status.warning)
                    val accepted = auth.clockAcceptProposal()
                    assertEquals(3600L, accepted.offsetSeconds)
                    assertEquals(TimeSource.HTTPS, accepted.offsetSource)
                    assertNull(accepted.proposal)
                    assertThrows<AuthException.InvalidArgument> { auth.clockAcceptProposal() }
                    assertThrows<AuthException.Protocol> { runBlocking { auth.checkClock(0, httpsUrl = "http://time.example.com/") } }
                }
            }
        }

    @Test
    fun `NTP and a Date 50,000 s off in one check apply nothing and the banner says who claims what`() =
        runBlocking<Unit> {
            dateServer(-50_000).use { server ->
                openVault(dir).use { auth ->
                    val status = auth.checkClock(
                        System.currentTimeMillis(),
                        ntpServer = "127.0.0.1:${sntpServer()}",
                        httpsUrl = "http://127.0.0.1:${server.localPort}/",
                    )
                    assertEquals(0L, status.offsetSeconds)
                    assertEquals("time sources disagree (NTP: on time, HTTPS: 13 h 53 min ahead); nothing applied", status.warning)
                    assertNull(status.proposal)
                    assertNull(status.hint)
                }
            }
        }
}
