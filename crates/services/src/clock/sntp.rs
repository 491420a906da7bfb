//! SNTP (RFC 4330) client mode over UDP: one request, one validated reply.
//!
//! A reply counts only when it comes from the server's address and port and echoes our
//! request's transmit timestamp as its origin (anything else is ignored, as the RFC says, and
//! named if nothing better arrives); it must then be a server reply (mode 4) of a synchronised
//! server (stratum 1–15, leap indicator not 3). A kiss-of-death (stratum 0) is a typed error
//! carrying its code. The request's transmit timestamp carries random low bits, so an off-path
//! forger cannot guess the origin a reply must echo.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

use super::{Measurement, TimeSource, TimeSourceError};
use crate::error::{Error, Result};
use domain::time::DeviceClock;

/// The NTP port, when a server is named without one.
pub const DEFAULT_PORT: u16 = 123;
const PACKET_LEN: usize = 48;
/// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01.
const NTP_UNIX_DELTA: i64 = 2_208_988_800;

/// Asks `server` for the time once, measuring against `device`; waits at most `timeout`.
pub fn query(server: &str, device: DeviceClock, timeout: Duration) -> Result<Measurement> {
    let addr = resolve(server)?;
    let local: SocketAddr = if addr.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
    let socket = UdpSocket::bind(local)?;
    let mut request = [0u8; PACKET_LEN];
    request[0] = 0b00_100_011; // LI 0, version 4, mode 3 (client)
    let sent = Instant::now();
    let mut transmit = to_ntp(device.at(sent) * 1000);
    // The low 16 bits of the fraction (15 µs) are random: a forger must echo them.
    transmit = (transmit & !0xffff) | u64::from(u16::from_be_bytes(storage::crypto::random_array::<2>()?));
    request[40..48].copy_from_slice(&transmit.to_be_bytes());
    let t1 = from_ntp(transmit);
    socket.send_to(&request, addr).map_err(|e| Error::network(format!("cannot send to the time server: {e}")))?;
    let deadline = sent + timeout;
    let mut ignored: Option<TimeSourceError> = None;
    let mut buf = [0u8; 512];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::TimeSource(ignored.unwrap_or(TimeSourceError::NoAnswer(timeout.as_secs()))));
        }
        socket.set_read_timeout(Some(left))?;
        let (len, from) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
            // An ICMP "port unreachable" from an earlier send surfaces here on Linux.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Err(Error::network(format!("the time server refused: {e}")));
            }
            Err(e) => return Err(e.into()),
        };
        let received = Instant::now();
        if from != addr {
            ignored.get_or_insert(TimeSourceError::WrongSource);
            continue;
        }
        let packet = &buf[..len];
        if len < PACKET_LEN {
            return Err(malformed("shorter than 48 bytes"));
        }
        if packet[24..32] != transmit.to_be_bytes() {
            ignored.get_or_insert(TimeSourceError::WrongOrigin);
            continue;
        }
        let t4 = t1 + (received - sent).as_micros() as i64;
        return measure(packet, t1, t4);
    }
}

/// Validates a reply to our request (origin already checked) and computes the offset from the
/// four timestamps, in microseconds: t1 sent, t2 server received, t3 server sent, t4 received.
fn measure(packet: &[u8], t1: i64, t4: i64) -> Result<Measurement> {
    let (leap, version, mode) = (packet[0] >> 6, (packet[0] >> 3) & 7, packet[0] & 7);
    let stratum = packet[1];
    if mode != 4 {
        return Err(malformed("not a server reply (mode is not 4)"));
    }
    if !(1..=4).contains(&version) {
        return Err(malformed("unknown NTP version"));
    }
    if stratum == 0 {
        let code: String =
            packet[12..16].iter().map(|&b| if b.is_ascii_alphanumeric() { b as char } else { '?' }).collect();
        return Err(Error::TimeSource(TimeSourceError::KissOfDeath(code)));
    }
    if leap == 3 || stratum > 15 {
        return Err(Error::TimeSource(TimeSourceError::Unsynchronized));
    }
    let stamp = |range: std::ops::Range<usize>| u64::from_be_bytes(packet[range].try_into().expect("8 bytes"));
    let (t2, t3) = (stamp(32..40), stamp(40..48));
    if t2 == 0 || t3 == 0 {
        return Err(malformed("a timestamp is zero"));
    }
    let (t2, t3) = (from_ntp(t2), from_ntp(t3));
    let offset = ((t2 - t1) + (t3 - t4)) / 2;
    let delay = ((t4 - t1) - (t3 - t2)).max(0);
    Ok(Measurement {
        source: TimeSource::Ntp,
        offset_ms: offset.div_euclid(1000),
        uncertainty_ms: (delay / 2 / 1000).max(1),
        measured_at_ms: t4.div_euclid(1000),
    })
}

fn malformed(what: &'static str) -> Error {
    Error::TimeSource(TimeSourceError::Malformed(what))
}

/// `host`, `host:port`, `a.b.c.d:port` or `[v6]:port` → the first address it resolves to.
fn resolve(server: &str) -> Result<SocketAddr> {
    let server = server.trim();
    let bad =
        || Error::InvalidInput(format!("'{}' is not a time server (HOST or HOST:PORT)", domain::text::excerpt(server)));
    if server.is_empty() || server.contains('/') {
        return Err(bad());
    }
    if let Ok(addr) = server.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let (host, port) = match server.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, port.parse::<u16>().map_err(|_| bad())?),
        _ => (server.trim_start_matches('[').trim_end_matches(']'), DEFAULT_PORT),
    };
    (host, port)
        .to_socket_addrs()
        .map_err(|e| Error::network(format!("cannot resolve the time server: {e}")))?
        .next()
        .ok_or_else(|| Error::network("the time server's name resolves to no address".into()))
}

/// Unix microseconds → NTP timestamp (32.32 fixed point since 1900; era 1 from 2036).
pub(super) fn to_ntp(unix_us: i64) -> u64 {
    let secs = unix_us.div_euclid(1_000_000) + NTP_UNIX_DELTA;
    let frac = ((unix_us.rem_euclid(1_000_000) as u64) << 32) / 1_000_000;
    ((secs as u64 & 0xffff_ffff) << 32) | frac
}

/// NTP timestamp → Unix microseconds. Seconds below 2^31 are read as era 1 (2036–2104), as
/// RFC 4330 suggests: no reply this code sees was made before 1968.
pub(super) fn from_ntp(ts: u64) -> i64 {
    let secs = (ts >> 32) as i64;
    let secs = if secs < 1 << 31 { secs + (1 << 32) } else { secs };
    let micros = (((ts & 0xffff_ffff) * 1_000_000) >> 32) as i64;
    (secs - NTP_UNIX_DELTA) * 1_000_000 + micros
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_timestamps_round_trip_across_the_2036_era() {
        for unix_us in [0, 1_700_000_000_123_456, 2_085_978_496_000_000, 2_085_978_495_999_999, 3_000_000_000_000_000] {
            assert!((from_ntp(to_ntp(unix_us)) - unix_us).abs() <= 1, "{unix_us}");
        }
    }

    #[test]
    fn server_names_take_an_optional_port() {
        assert_eq!(resolve("127.0.0.1").unwrap(), "127.0.0.1:123".parse().unwrap());
        assert_eq!(resolve("127.0.0.1:4123").unwrap(), "127.0.0.1:4123".parse().unwrap());
        assert_eq!(resolve("[::1]:4123").unwrap(), "[::1]:4123".parse().unwrap());
        assert_eq!(resolve("localhost:4123").unwrap().port(), 4123);
        for bad in ["", "127.0.0.1:x", "https://pool.ntp.org", "127.0.0.1:99999"] {
            assert!(matches!(resolve(bad), Err(Error::InvalidInput(_))), "{bad}");
        }
    }
}
