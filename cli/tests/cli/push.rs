//! `authenticator push` against a hostile server on 127.0.0.1 (a std `TcpListener` thread, not
//! privacyIDEA): it registers the device like privacyIDEA, then answers the poll with a reply
//! that never ends. The poll must stop at the reply cap with a typed error, and the process's
//! peak memory stays small.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use services::push::keys::generate_device_key;

use crate::support::{Cli, Home, assert_no_panic, base64};

const MIB: u64 = 1 << 20;
const SERIAL: &str = "PIPU0000HOSTILE";
/// Peak RSS budget of one `push poll` process against a hostile server.
const BUDGET: u64 = 32 * MIB;

/// Reads one request's head and body; returns its first line.
fn read_request(stream: &mut TcpStream) -> String {
    testkit::wire::read_request(stream).lines().next().unwrap_or_default().to_owned()
}

/// Answers a poll with a chunked reply that goes on for up to 256 MiB, counting what got out.
fn endless_reply(stream: &mut TcpStream, count: &AtomicU64) {
    let item = br#"{"nonce":"N","title":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},"#.repeat(1300);
    let mut chunk = format!("{:x}\r\n", item.len()).into_bytes();
    chunk.extend_from_slice(&item);
    chunk.extend_from_slice(b"\r\n");
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    let opening = br#"{"result":{"status":true,"value":["#;
    let first = [format!("{head}{:x}\r\n", opening.len()).as_bytes(), opening, b"\r\n"].concat();
    if stream.write_all(&first).is_err() {
        return;
    }
    while count.load(Ordering::SeqCst) < 256 * MIB {
        if stream.write_all(&chunk).is_err() {
            return;
        }
        count.fetch_add(chunk.len() as u64, Ordering::SeqCst);
    }
}

/// Answers a poll with a reply just under the 1 MiB cap that is all tiny JSON values
/// (`[0,0,0,…]`): the most JSON nodes a capped reply can hold.
fn densest_reply(stream: &mut TcpStream, count: &AtomicU64) {
    let opening = r#"{"result":{"status":true,"value":["#;
    let closing = "0]}}";
    let zeros = "0,".repeat((MIB as usize - 64 - opening.len() - closing.len()) / 2);
    let body = format!("{opening}{zeros}{closing}");
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(reply.as_bytes()).is_ok() {
        count.fetch_add(body.len() as u64, Ordering::SeqCst);
    }
}

/// A push server on 127.0.0.1: registration (POST) succeeds with a real RSA server key; every
/// poll (GET) is answered by `poll`. Returns its URL and a count of the poll bytes sent.
fn hostile_server(poll: fn(&mut TcpStream, &AtomicU64)) -> (String, Arc<AtomicU64>) {
    let server_key = generate_device_key(2048).expect("generate the server's key");
    let registered = format!(
        r#"{{"result":{{"status":true,"value":true}},"detail":{{"public_key":"{}"}}}}"#,
        base64(&server_key.spki)
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let sent = Arc::new(AtomicU64::new(0));
    let count = sent.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (registered, count) = (registered.clone(), count.clone());
            std::thread::spawn(move || {
                if read_request(&mut stream).starts_with("POST") {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                         Connection: close\r\n\r\n{registered}",
                        registered.len()
                    );
                    return;
                }
                poll(&mut stream, &count);
            });
        }
    });
    (format!("http://127.0.0.1:{port}/ttype/push"), sent)
}

/// How a measured run of the binary ended.
struct Measured {
    exit_code: Option<i32>,
    peak_rss_bytes: u64,
    elapsed: Duration,
    stderr: String,
}

/// Set in a fresh copy of this test binary that runs one measured command (see [`measured`]).
const PROBE_ENV: &str = "AUTHENTICATOR_TEST_MEASURE_ARGS";
const PROBE_MARK: &str = "MEASURED ";

/// Runs the binary with `args` in `home` and measures its peak RSS.
///
/// Not from this process: on Linux a child's ru_maxrss includes the memory of the process that
/// spawned it (the spawner's high-water mark is carried over at exec), and this test process
/// may be large (other tests, a symbolised backtrace). So a fresh copy of this test binary,
/// running only `test` in its probe role ([`probe`]), spawns the command and reports
/// getrusage(RUSAGE_CHILDREN): the peak of the command itself, or of that small spawner if
/// larger, so never less than the truth.
fn measured(test: &str, home: &Home, args: &[&str]) -> Measured {
    let mut all: Vec<String> = vec!["--data-dir".into(), home.path().to_string_lossy().into_owned()];
    all.extend(args.iter().map(|a| (*a).to_owned()));
    let probe = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads", "1"])
        .env(PROBE_ENV, serde_json::to_string(&all).unwrap())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let output = crate::support::wait_with_deadline(probe, Duration::from_secs(90));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(line) = stdout.lines().find_map(|l| l.split_once(PROBE_MARK).map(|(_, report)| report)) else {
        panic!("the probe reported nothing\nstdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&output.stderr))
    };
    let report: serde_json::Value = serde_json::from_str(line).unwrap();
    Measured {
        exit_code: report["exit_code"].as_i64().map(|c| c as i32),
        peak_rss_bytes: report["maxrss_kib"].as_u64().unwrap() * 1024,
        elapsed: Duration::from_millis(report["elapsed_ms"].as_u64().unwrap()),
        stderr: report["stderr"].as_str().unwrap().to_owned(),
    }
}

/// The probe role: in a copy of this binary started by [`measured`], runs the command it was
/// given, prints how it went, and returns true (the test then ends there). Returns false in the
/// test's own run.
#[allow(unsafe_code)] // getrusage through libc: std has no resource usage of children.
fn probe() -> bool {
    let Ok(args) = std::env::var(PROBE_ENV) else { return false };
    let args: Vec<String> = serde_json::from_str(&args).unwrap();
    let start = Instant::now();
    let run = Cli::new(&args).run();
    let elapsed = start.elapsed();
    // SAFETY: an all-zero rusage is a valid value of this plain C struct, which getrusage fills.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: usage is valid for writes.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) }, 0);
    let report = serde_json::json!({
        "exit_code": run.status.code(),
        // ru_maxrss is in KiB on Linux.
        "maxrss_kib": usage.ru_maxrss,
        "elapsed_ms": elapsed.as_millis() as u64,
        "stderr": run.stderr,
    });
    println!("{PROBE_MARK}{report}");
    true
}

/// A data dir with one token enrolled at a server whose polls `poll` answers.
fn enrolled(name: &str, poll: fn(&mut TcpStream, &AtomicU64)) -> (Home, Arc<AtomicU64>) {
    let (url, sent) = hostile_server(poll);
    let home = Home::new(name);
    let uri = format!(
        "otpauth://pipush/{SERIAL}?url={url}&ttl=10&issuer=Hostile&enrollment_credential=abc&v=1\
         &serial={SERIAL}&sslverify=1&poll_only=True"
    );
    home.ok(&["push", "enroll", &uri]);
    (home, sent)
}

#[test]
fn an_endless_poll_reply_stops_at_the_cap_with_little_memory() {
    if probe() {
        return;
    }
    const TEST: &str = "push::an_endless_poll_reply_stops_at_the_cap_with_little_memory";
    let (home, sent) = enrolled("push-endless", endless_reply);
    let baseline = measured(TEST, &home, &["push", "list"]);
    assert_eq!(baseline.exit_code, Some(0), "{}", baseline.stderr);

    let poll = measured(TEST, &home, &["push", "poll"]);
    assert_no_panic(&poll.stderr);
    eprintln!(
        "endless poll: peak RSS {:.1} MiB (push list: {:.1} MiB), {:.2} s, server got {:.1} MiB out",
        poll.peak_rss_bytes as f64 / MIB as f64,
        baseline.peak_rss_bytes as f64 / MIB as f64,
        poll.elapsed.as_secs_f64(),
        sent.load(Ordering::SeqCst) as f64 / MIB as f64,
    );
    assert!(
        poll.stderr.contains(&format!("{SERIAL}: protocol error: the server's reply is larger than 1 MiB")),
        "the poll names the typed error: {}",
        poll.stderr
    );
    // Budget: 32 MiB of peak RSS for the whole process (`push list` takes about 14; a poll that
    // buffered the reply took 270), and well under the 20 s request timeout: the cap, not the
    // clock, stops it.
    assert!(poll.peak_rss_bytes <= BUDGET, "peak RSS {} MiB", poll.peak_rss_bytes / MIB);
    assert!(poll.elapsed < Duration::from_secs(15), "took {:?}", poll.elapsed);
    assert!(sent.load(Ordering::SeqCst) < 32 * MIB, "the client kept reading");
}

#[test]
fn a_poll_reply_of_a_mebibyte_of_tiny_values_stays_within_the_budget() {
    if probe() {
        return;
    }
    const TEST: &str = "push::a_poll_reply_of_a_mebibyte_of_tiny_values_stays_within_the_budget";
    let (home, _) = enrolled("push-densest", densest_reply);
    let poll = measured(TEST, &home, &["push", "poll"]);
    assert_no_panic(&poll.stderr);
    eprintln!("densest 1 MiB poll reply: peak RSS {:.1} MiB", poll.peak_rss_bytes as f64 / MIB as f64);
    assert!(
        poll.stderr
            .contains(&format!("{SERIAL}: protocol error: the server's reply holds more than 10000 JSON values")),
        "{}",
        poll.stderr
    );
    // Unbounded, its half a million JSON values took the process to 48 MiB.
    assert!(poll.peak_rss_bytes <= BUDGET, "peak RSS {} MiB", poll.peak_rss_bytes / MIB);
}
