//! `authenticator push …`: enroll push tokens, receive sign-in requests, approve or deny them.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::time::Duration;

use clap::Subcommand;
use domain::RequestState;
use net::HttpClient;
use services::Error;
use services::push::{self, DeclineReason, EnrollOptions, PushRequest, PushToken, tiqr};
use storage::Vault;
use zeroize::Zeroizing;

use crate::prompt::PinSource;
use crate::{CliError, CliResult, note, prompt, runtime, say};

#[derive(Subcommand)]
pub enum PushCommand {
    /// Enroll from the server's QR code: otpauth://pipush/… or pia://… (privacyIDEA, RSA key),
    /// edumfa-push://… (eduMFA's eduPUSH, P-256 key), tiqrenroll://… (tiqr, 32-byte secret).
    Enroll {
        #[arg(required_unless_present = "qr", conflicts_with = "qr")]
        uri: Option<String>,
        /// Read the enrollment QR code from a PNG or JPEG image (a screenshot) instead.
        #[arg(long, value_name = "IMAGE")]
        qr: Option<std::path::PathBuf>,
        /// Lock the token behind a PIN (asked without echo; one line from stdin when piped).
        /// Required when the server demands a PIN.
        #[arg(long)]
        pin: bool,
        /// Skip TLS certificate checks when the server says sslverify=0 (trusted networks only).
        #[arg(long)]
        allow_insecure_tls: bool,
    },
    /// List enrolled push tokens.
    List,
    /// A tiqr sign-in QR code (tiqrauth://… or its https form, or a PNG/JPEG image of it):
    /// prints the request and its id; then `push approve ID` or `push deny ID`.
    Scan {
        /// The code's text, or an image file holding it.
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// Fetch sign-in requests from the servers and list those waiting for an answer.
    Poll {
        /// Print JSON: an array of requests.
        #[arg(long)]
        json: bool,
        /// PIN for PIN-locked tokens (their poll is signed with the locked key).
        #[command(flatten)]
        pin: PinSource,
    },
    /// Approve a request.
    Approve {
        id: i64,
        /// Number matching: the number shown on the sign-in screen.
        #[arg(long)]
        answer: Option<String>,
        #[command(flatten)]
        pin: PinSource,
    },
    /// Deny a request.
    Deny {
        id: i64,
        /// unknown_trigger (I did not try to sign in) or cancelled (I changed my mind).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        pin: PinSource,
    },
    /// Past decisions: approved, denied, expired, and rejected forgeries.
    History {
        #[arg(long)]
        json: bool,
        /// How many entries, newest first.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Keep polling and ask about each request as it arrives (Ctrl-C quits).
    Watch {
        /// Seconds between polls.
        #[arg(long, default_value_t = 3)]
        interval: u64,
    },
    /// Set, change or remove a token's PIN (asked without echo).
    Pin {
        /// Token id or serial.
        token: String,
        /// Remove the PIN (not possible when the server demands one).
        #[arg(long)]
        remove: bool,
    },
    /// Remove a push token from this device.
    Remove {
        /// Token id or serial.
        token: String,
        #[arg(long)]
        yes: bool,
    },
}

pub fn run(vault: &Vault, command: PushCommand) -> CliResult<()> {
    let rt = runtime()?;
    let client = HttpClient::new()?;
    match command {
        PushCommand::Enroll { uri, qr, pin, allow_insecure_tls } => {
            let uri = match (uri, qr) {
                (Some(uri), _) => Zeroizing::new(uri),
                (None, Some(image)) => enrollment_in_image(&image)?,
                (None, None) => return Err(CliError::msg("give the otpauth://pipush/… URI or --qr IMAGE")),
            };
            let pin = if pin { Some(prompt::new_pin()?) } else { None };
            let options =
                EnrollOptions { pin: pin.map(|p| p.to_string()), allow_insecure_tls, ..EnrollOptions::default() };
            eprintln!("Generating a device key and registering with the server…");
            let token = rt.block_on(push::enroll(vault, &client, &uri, options)).map_err(|e| match e {
                Error::PinRequired => CliError::msg("this server requires a PIN for the token: add --pin"),
                e => e.into(),
            })?;
            note!("Enrolled {} [id {}]{}", describe(&token), token.id, if token.has_pin { ", PIN-locked" } else { "" });
            Ok(())
        }
        PushCommand::List => {
            let tokens = vault.push_tokens()?;
            if tokens.is_empty() {
                eprintln!("No push tokens yet. Enroll one: authenticator push enroll 'otpauth://pipush/…'");
            }
            for t in tokens {
                say!(
                    "{:>4}  {:<16} {:<30} {}  [{}, {}]{}",
                    t.id,
                    t.serial,
                    describe(&t),
                    t.url,
                    t.protocol.as_str(),
                    t.key_type.as_str(),
                    if t.has_pin { "  [PIN]" } else { "" }
                );
            }
            Ok(())
        }
        PushCommand::Scan { code, json } => {
            let path = std::path::Path::new(&code);
            let text = if !tiqr::is_auth_uri(&code) && path.is_file() {
                code_in_image(path, tiqr::is_auth_uri, "tiqr sign-in QR code (tiqrauth://…)")?
            } else {
                Zeroizing::new(code)
            };
            let request = tiqr::scan(vault, &text)?;
            if json {
                say!("{}", request.to_json());
            } else if request.state != RequestState::Pending {
                // A code scanned again after its answer: no Approve to offer.
                say!(
                    "{:>4}  {} — {}: {}  (already {})",
                    request.id,
                    request.serial,
                    request.title,
                    request.question,
                    request.state.as_str()
                );
            } else {
                say!("{}", summary(&request));
                note!(
                    "Approve with `authenticator push approve {0}`, or deny with `authenticator push deny {0}`",
                    request.id
                );
            }
            Ok(())
        }
        PushCommand::Poll { json, pin } => {
            let pins = pins_for(vault, pin.read(false)?.as_deref().map(|p| p.as_str()))?;
            let report = rt.block_on(push::poll(vault, &client, &pins))?;
            for reason in &report.rejected {
                note!("dropped a forged request: {reason}");
            }
            for (serial, error) in &report.failures {
                note!("{serial}: {error}");
            }
            let pending = vault.pending_push_requests()?;
            if json {
                let items: Vec<serde_json::Value> = pending.iter().map(PushRequest::to_json).collect();
                say!("{}", serde_json::to_string_pretty(&items)?);
            } else if pending.is_empty() {
                eprintln!("No sign-in requests.");
            } else {
                for request in &pending {
                    say!("{}", summary(request));
                }
            }
            Ok(())
        }
        PushCommand::Approve { id, answer, pin } => {
            let pin = pin_if_needed(vault, id, pin)?;
            rt.block_on(push::approve(vault, &client, id, answer.as_deref(), pin.as_deref().map(|p| p.as_str())))?;
            eprintln!("Approved.");
            Ok(())
        }
        PushCommand::Deny { id, reason, pin } => {
            let reason = reason.map(|r| r.parse::<DeclineReason>()).transpose()?;
            let pin = pin_if_needed(vault, id, pin)?;
            rt.block_on(push::deny(vault, &client, id, reason, pin.as_deref().map(|p| p.as_str())))?;
            eprintln!("Denied.");
            Ok(())
        }
        PushCommand::History { json, limit } => {
            let history = vault.push_history(limit)?;
            if json {
                let items: Vec<serde_json::Value> = history.iter().map(|h| h.to_json()).collect();
                say!("{}", serde_json::to_string_pretty(&items)?);
                return Ok(());
            }
            if history.is_empty() {
                eprintln!("No decisions yet.");
            }
            for h in history {
                // A rejected request keeps only its reason (and its serial when it is ours).
                let mut what = if h.title.is_empty() && h.question.is_empty() {
                    String::new()
                } else {
                    format!("{}: {}", h.title, h.question)
                };
                if let Some(detail) = &h.detail {
                    what = if what.is_empty() { format!("({detail})") } else { format!("{what}  ({detail})") };
                }
                let serial = if h.serial.is_empty() { "-" } else { h.serial.as_str() };
                say!("{}  {:<8}  {:<16} {}", clock(h.at), h.decision.as_str(), serial, what);
            }
            Ok(())
        }
        PushCommand::Watch { interval } => watch(vault, &client, &rt, interval.max(1)),
        PushCommand::Pin { token, remove } => {
            let token = find_token(vault, &token)?;
            let current = if token.has_pin { Some(prompt::hidden("Current PIN: ")?) } else { None };
            let new = if remove { None } else { Some(prompt::new_pin()?) };
            push::pin::set_pin(
                vault,
                token.id,
                current.as_deref().map(|p| p.as_str()),
                new.as_deref().map(|p| p.as_str()),
            )?;
            eprintln!("{}", if remove { "PIN removed." } else { "PIN set." });
            Ok(())
        }
        PushCommand::Remove { token, yes } => {
            let token = find_token(vault, &token)?;
            if !yes {
                prompt::confirm(
                    &format!(
                        "Remove push token {}? Sign-ins that need it will fail until it is enrolled again.",
                        token.serial
                    ),
                    "yes",
                )?;
            }
            vault.remove_push_token(token.id)?;
            eprintln!("Removed {}", token.serial);
            Ok(())
        }
    }
}

fn describe(token: &PushToken) -> String {
    match (token.issuer.is_empty(), token.label.is_empty()) {
        (false, false) => format!("{} ({})", token.issuer, token.label),
        (false, true) => token.issuer.clone(),
        _ => token.label.clone(),
    }
}

fn find_token(vault: &Vault, query: &str) -> CliResult<PushToken> {
    let tokens = vault.push_tokens()?;
    let id = query.parse::<i64>().ok();
    tokens
        .into_iter()
        .find(|t| Some(t.id) == id || t.serial.eq_ignore_ascii_case(query.trim()))
        .ok_or_else(|| CliError::msg(format!("no push token '{query}' (see `authenticator push list`)")))
}

/// The same PIN for every PIN-locked token (`--pin-stdin` or `AUTHENTICATOR_PIN`).
fn pins_for(vault: &Vault, pin: Option<&str>) -> CliResult<BTreeMap<i64, String>> {
    let Some(pin) = pin else { return Ok(BTreeMap::new()) };
    Ok(vault.push_tokens()?.into_iter().filter(|t| t.has_pin).map(|t| (t.id, pin.to_owned())).collect())
}

/// The PIN for answering `request_id`: given, asked for on a terminal, or absent (the core then
/// says a PIN is required).
fn pin_if_needed(vault: &Vault, request_id: i64, pin: PinSource) -> CliResult<Option<Zeroizing<String>>> {
    pin.read(vault.push_request(request_id)?.requires_pin)
}

fn summary(r: &PushRequest) -> String {
    let left = r.expires_at - domain::time::now();
    let mut line = format!("{:>4}  {} — {}: {}  (expires in {left} s)", r.id, r.serial, r.title, r.question);
    if let Some(choices) = &r.choices {
        line.push_str(&format!("  choices: {}", choices.join(" ")));
    }
    if r.requires_pin {
        line.push_str("  [PIN]");
    }
    line
}

/// Polls every `interval` seconds and asks about each request as it arrives.
fn watch(vault: &Vault, client: &HttpClient, rt: &tokio::runtime::Runtime, interval: u64) -> CliResult<()> {
    // PIN-locked tokens sign their polls with the locked key: ask each PIN once, keep it for
    // this session only.
    let mut pins = BTreeMap::new();
    for token in vault.push_tokens()?.into_iter().filter(|t| t.has_pin) {
        let pin = prompt::hidden(&format!("PIN for {} ({}): ", describe(&token), token.serial))?;
        pins.insert(token.id, pin.to_string());
    }
    eprintln!("Waiting for sign-in requests (Ctrl-C quits)…");
    let mut lines = std::io::stdin().lock().lines();
    let mut skipped = std::collections::HashSet::new();
    loop {
        let report = rt.block_on(push::poll(vault, client, &pins))?;
        for reason in &report.rejected {
            note!("dropped a forged request: {reason}");
        }
        for (serial, error) in &report.failures {
            note!("{serial}: {error}");
        }
        let waiting: Vec<PushRequest> =
            vault.pending_push_requests()?.into_iter().filter(|r| !skipped.contains(&r.id)).collect();
        for request in waiting {
            let mut ask = |question: &str| -> CliResult<Option<String>> {
                eprint!("{}", domain::text::printable(question));
                std::io::stderr().flush()?;
                Ok(lines.next().transpose()?.map(|l| l.trim().to_owned()))
            };
            eprintln!();
            note!("Sign-in request for {} ({})", request.issuer, request.serial);
            note!("  {}: {}", request.title, request.question);
            let Some(choice) = ask("Approve? [y]es / [n]o / [s]kip: ")? else { return Ok(()) };
            let pin = pins.get(&request.token_id).map(String::as_str);
            let outcome = match choice.to_ascii_lowercase().as_str() {
                "y" | "yes" => {
                    let answer = match &request.choices {
                        Some(choices) => {
                            let q = format!("Which number does the sign-in screen show? [{}]: ", choices.join("/"));
                            match ask(&q)? {
                                Some(a) => Some(a),
                                None => return Ok(()),
                            }
                        }
                        None => None,
                    };
                    rt.block_on(push::approve(vault, client, request.id, answer.as_deref(), pin)).map(|_| "Approved.")
                }
                "n" | "no" => {
                    let reason = if request.decline_reasons {
                        let answer = ask("Why? [u]nknown: I did not try to sign in / [c]ancelled: ")?;
                        answer.and_then(|a| a.parse::<DeclineReason>().ok())
                    } else {
                        None
                    };
                    rt.block_on(push::deny(vault, client, request.id, reason, pin)).map(|_| "Denied.")
                }
                _ => {
                    skipped.insert(request.id);
                    Ok("Skipped.")
                }
            };
            match outcome {
                Ok(message) => note!("{message}"),
                Err(e) => note!("authenticator: {e}"),
            }
        }
        std::thread::sleep(Duration::from_secs(interval));
    }
}

/// "2026-11-25 10:56:25Z" from Unix seconds.
fn clock(unix: i64) -> String {
    domain::time::iso8601_utc(unix).replace('T', " ").replace(".000000+00:00", "Z")
}

/// The one push enrollment code (`otpauth://pipush/…`, `edumfa-push://…`, `tiqrenroll://…`) in a
/// PNG or JPEG image.
fn enrollment_in_image(image: &std::path::Path) -> CliResult<Zeroizing<String>> {
    code_in_image(image, |t| !tiqr::is_auth_uri(t), "push enrollment QR code (otpauth://pipush/…)")
}

/// The one push or tiqr code in a PNG or JPEG image that `wanted` accepts.
fn code_in_image(image: &std::path::Path, wanted: fn(&str) -> bool, what: &str) -> CliResult<Zeroizing<String>> {
    use crate::qr::Code;
    let bytes = crate::backup::read(image)?;
    let codes = crate::qr::read_codes(&bytes).map_err(|e| CliError::msg(format!("{}: {}", image.display(), e.0)))?;
    let mut push: Vec<Zeroizing<String>> = codes
        .into_iter()
        .filter_map(|c| if let Code::Push(uri) = c { Some(uri) } else { None })
        .filter(|uri| wanted(uri))
        .collect();
    match push.len() {
        1 => Ok(push.remove(0)),
        0 => Err(CliError::msg(format!(
            "{}: no {what} in the image; `authenticator add --qr` reads code accounts",
            image.display()
        ))),
        n => Err(CliError::msg(format!("{}: {n} such QR codes in the image; crop it to one", image.display()))),
    }
}
