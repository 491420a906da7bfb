//! The push transport against hostile HTTP servers: real sockets on 127.0.0.1, served by std
//! `TcpListener` threads. Redirects are never followed, and replies are capped in size.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::*;
use super::{SERIAL, challenge_at, fixture_at};
use storage::vault::DataKey;
use testkit::wire::read_request;

/// A server on 127.0.0.1 that answers every connection with `respond`, recording what arrived
/// and how many response bytes it managed to write.
struct Hostile {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
    sent: Arc<AtomicU64>,
}

type Respond = dyn Fn(&mut TcpStream, &AtomicU64) + Send + Sync;

impl Hostile {
    fn serve(respond: impl Fn(&mut TcpStream, &AtomicU64) + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::new(AtomicU64::new(0));
        let respond: Arc<Respond> = Arc::new(respond);
        let (log, count) = (requests.clone(), sent.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (log, count, respond) = (log.clone(), count.clone(), respond.clone());
                std::thread::spawn(move || {
                    // Anything that connects counts, even if it sends nothing.
                    log.lock().unwrap().push(String::new());
                    let request = read_request(&mut stream);
                    *log.lock().unwrap().last_mut().unwrap() = request;
                    respond(&mut stream, &count);
                });
            }
        });
        Hostile { url: format!("http://127.0.0.1:{port}/ttype/push"), requests, sent }
    }

    /// A server that redirects everything to `location` with `status`.
    fn redirecting(status: u16, location: &str) -> Hostile {
        let head = format!(
            "HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        Hostile::serve(move |stream, _| {
            let _ = stream.write_all(head.as_bytes());
        })
    }

    /// A server that answers everything with this JSON, as privacyIDEA would.
    fn json(body: &str) -> Hostile {
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        Hostile::serve(move |stream, sent| {
            if stream.write_all(reply.as_bytes()).is_ok() {
                sent.fetch_add(reply.len() as u64, Ordering::SeqCst);
            }
        })
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

/// Writes `head`, then `chunk` over and over (chunked transfer encoding when `chunked`) until
/// `limit` bytes are out or the client hangs up; counts what was written into `sent`.
fn stream_body(stream: &mut TcpStream, sent: &AtomicU64, head: &str, prefix: &[u8], chunked: bool, limit: u64) {
    let frame = |payload: &[u8]| -> Vec<u8> {
        if chunked {
            let mut framed = format!("{:x}\r\n", payload.len()).into_bytes();
            framed.extend_from_slice(payload);
            framed.extend_from_slice(b"\r\n");
            framed
        } else {
            payload.to_vec()
        }
    };
    let filler = frame(&b"\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",".repeat(1024));
    if stream.write_all(head.as_bytes()).is_err() || stream.write_all(&frame(prefix)).is_err() {
        return;
    }
    while sent.load(Ordering::SeqCst) < limit {
        if stream.write_all(&filler).is_err() {
            return;
        }
        sent.fetch_add(filler.len() as u64, Ordering::SeqCst);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[track_caller]
/// A protocol error (the push reply's, or the network rules' on redirects and sizes, which the
/// foreign API reports as `Protocol` too) whose message says `expected`.
fn assert_protocol_error(error: &Error, expected: &str) {
    match error {
        Error::Protocol(_) | Error::Net(net::Error::Redirected { .. } | net::Error::TooLarge { .. }) => {
            let message = error.to_string();
            assert!(message.contains(expected), "{message:?} does not say {expected:?}")
        }
        other => panic!("expected a protocol error saying {expected:?}, got {other:?}"),
    }
}

#[test]
fn push_calls_never_follow_redirects_enroll_poll_approve_or_deny() {
    // Where a redirect would take the call: it must see nothing, ever.
    let target = Hostile::json(r#"{"result":{"status":true,"value":true},"detail":{}}"#);
    let redirect = Hostile::redirecting(307, &target.url);
    let rt = runtime();
    let client = HttpClient::new().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path().join("vault.db"), &DataKey::from_bytes([9; 32])).unwrap();
    let uri = format!(
        "otpauth://pipush/{SERIAL}?url={}&ttl=10&issuer=privacyIDEA&enrollment_credential=abc&v=1\
         &serial={SERIAL}&sslverify=1&poll_only=True",
        redirect.url
    );
    let options = EnrollOptions { key_bits: Some(2048), ..EnrollOptions::default() };
    let error = rt.block_on(enroll(&vault, &client, &uri, options)).unwrap_err();
    assert_protocol_error(&error, "HTTP 307");
    assert!(vault.push_tokens().unwrap().is_empty());

    let f = fixture_at(&redirect.url, None);
    let report = rt.block_on(poll(&f.vault, &client, &BTreeMap::new())).unwrap();
    assert_eq!(report.failures.len(), 1, "{report:?}");
    assert_protocol_error(&report.failures[0].1, "HTTP 307");

    let request = handle_push_payload(&f.vault, &challenge_at(&redirect.url, "N1", None)).unwrap().unwrap();
    let error = rt.block_on(approve(&f.vault, &client, request.id, None, None)).unwrap_err();
    assert_protocol_error(&error, "HTTP 307");
    let error =
        rt.block_on(deny(&f.vault, &client, request.id, Some(DeclineReason::UnknownTrigger), None)).unwrap_err();
    assert_protocol_error(&error, "HTTP 307");
    // Not delivered: the request stays answerable.
    assert_eq!(f.vault.pending_push_requests().unwrap().len(), 1);

    let seen = redirect.requests();
    assert_eq!(seen.len(), 4, "enroll, poll, approve and deny each reached the enrolled URL once");
    assert!(seen[2].contains("signature=") && seen[2].contains("nonce=N1"), "{}", seen[2]);
    assert_eq!(target.requests(), Vec::<String>::new(), "a redirect was followed");
    assert_eq!(target.sent(), 0);
}

#[test]
fn every_redirect_status_is_refused_and_the_location_is_shown_only_as_an_excerpt() {
    let target = Hostile::json(r#"{"result":{"status":true,"value":[]},"detail":{}}"#);
    let rt = runtime();
    let client = HttpClient::new().unwrap();
    let location = format!("{}?{}", target.url, "a".repeat(500));
    for status in [301, 302, 303, 307, 308] {
        let redirect = Hostile::redirecting(status, &location);
        let f = fixture_at(&redirect.url, None);
        let report = rt.block_on(poll(&f.vault, &client, &BTreeMap::new())).unwrap();
        assert_eq!(report.failures.len(), 1, "{status}: {report:?}");
        let error = &report.failures[0].1;
        assert_protocol_error(error, &format!("HTTP {status}"));
        assert!(error.to_string().len() < 200, "the Location is not repeated in full: {error}");
    }
    assert_eq!(target.requests(), Vec::<String>::new(), "a redirect was followed");
}

const MIB: u64 = 1 << 20;

/// A poll reply that never ends: the envelope's opening, then challenges' worth of text for up
/// to 256 MiB, without a Content-Length (chunked), so only the reader can stop it.
fn endless_reply() -> Hostile {
    Hostile::serve(|stream, sent| {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        stream_body(stream, sent, head, br#"{"result":{"status":true,"value":["#, true, 256 * MIB);
    })
}

#[test]
fn an_endless_poll_reply_is_cut_at_one_mebibyte() {
    let server = endless_reply();
    let f = fixture_at(&server.url, None);
    let report = runtime().block_on(poll(&f.vault, &HttpClient::new().unwrap(), &BTreeMap::new())).unwrap();
    assert_eq!(report.failures.len(), 1, "{report:?}");
    assert_protocol_error(&report.failures[0].1, "larger than 1 MiB");
    assert_eq!(server.requests().len(), 1, "an oversized reply is not retried");
    // The reader stopped: what the server got out is the cap plus what the sockets buffer.
    assert!(server.sent() < 32 * MIB, "the client read {} MiB", server.sent() / MIB);
}

#[test]
fn a_reply_declaring_an_oversized_body_is_refused_before_reading_it() {
    let server = Hostile::serve(|stream, sent| {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n";
        stream_body(stream, sent, head, br#"{"result":{"status":true,"value":["#, false, 256 * MIB);
    });
    let client = HttpClient::new().unwrap();
    let error = runtime().block_on(client::post(&client, &server.url, &[("serial", SERIAL)], true)).unwrap_err();
    assert_protocol_error(&error, "larger than 1 MiB");
    assert!(server.sent() < 32 * MIB, "the client read {} MiB", server.sent() / MIB);
    // An error status with a huge body is capped the same way.
    let server = Hostile::serve(|stream, sent| {
        let head = "HTTP/1.1 400 BAD REQUEST\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        stream_body(stream, sent, head, br#"{"result":{"status":false,"error":{"message":""#, true, 256 * MIB);
    });
    let error = runtime().block_on(client::post(&client, &server.url, &[("serial", SERIAL)], true)).unwrap_err();
    assert_protocol_error(&error, "larger than 1 MiB");
    assert!(server.sent() < 32 * MIB, "the client read {} MiB", server.sent() / MIB);
}

#[test]
fn a_poll_reply_with_more_than_100_challenges_is_refused() {
    let items = vec![r#"{"nonce":"N"}"#; 101].join(",");
    let server = Hostile::json(&format!(r#"{{"result":{{"status":true,"value":[{items}]}},"detail":{{}}}}"#));
    let f = fixture_at(&server.url, None);
    let report = runtime().block_on(poll(&f.vault, &HttpClient::new().unwrap(), &BTreeMap::new())).unwrap();
    assert_eq!(report.failures.len(), 1, "{report:?}");
    assert_protocol_error(&report.failures[0].1, "more than 100 challenges");
    assert!(report.rejected.is_empty(), "no item is looked at: {report:?}");
}

#[test]
fn a_push_servers_time_70000_s_ahead_polled_repeatedly_is_shown_and_never_applied() {
    // privacyIDEA's `time` field, 70,000 s ahead of this machine's clock, on every reply.
    let ahead = domain::time::now_ms() as f64 / 1000.0 + 70_000.0;
    let server = Hostile::json(&format!(r#"{{"result":{{"status":true,"value":[]}},"time":{ahead},"detail":{{}}}}"#));
    let f = fixture_at(&server.url, None);
    let (rt, client) = (runtime(), HttpClient::new().unwrap());
    for _ in 0..3 {
        let report = rt.block_on(poll(&f.vault, &client, &BTreeMap::new())).unwrap();
        assert!(report.failures.is_empty(), "{report:?}");
    }
    assert_eq!(server.requests().len(), 3);
    let s = crate::clock::status(&f.vault).unwrap();
    let hint = s.hint.expect("the push server's time is shown");
    assert!((hint.offset_ms - 70_000_000).abs() < 2_000, "{hint:?}");
    assert_eq!((s.offset_seconds, s.offset_source, s.proposal, s.last_measurement), (0, None, None, None), "{s:?}");
    assert_eq!(f.vault.clock_offset().unwrap(), 0);
    let warning = s.warning.unwrap();
    assert!(
        warning.starts_with("privacyIDEA says your clock is 19 h 26 min behind; a push server's clock is not applied"),
        "{warning}"
    );
}
