#!/usr/bin/env python3
"""Throwaway reference phone for the privacyIDEA push protocol, to validate the test harness and
pin down the wire format against the real server. It is NOT a stand-in for the server, and not
the product: the Rust core implements the phone side itself.

Run it with the server's venv python (it needs `cryptography`, a privacyIDEA dependency):

    tests/privacyidea/pi-server.sh start "$WD"
    . "$WD/server.env"
    "$PI_PYTHON" tests/privacyidea/reference_client.py --env "$WD/server.env" [--bits 4096]
        [--samples "$WD/wire-samples.json"] [--restart]

Every scenario checks what the server must do and records what it does (status, reply JSON) in
the samples file. Exit status 0 when every expectation held.
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pi_admin  # noqa: E402  (same directory; stdlib only)

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = {}
FAILURES = []


def note(name, value):
    SAMPLES[name] = value


def expect(cond, what, detail=None):
    mark = "ok  " if cond else "FAIL"
    print(f"[{mark}] {what}" + (f"  -- {json.dumps(detail)[:400]}" if detail is not None and not cond else ""),
          flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


def b32(sig: bytes) -> str:
    return base64.b32encode(sig).decode()  # RFC 4648, with '=' padding


def redact(body, keys=("signature", "capabilities_signature", "public_key")):
    """Copy of a reply with long opaque values shortened (for the samples file / README)."""
    if isinstance(body, dict):
        return {k: (f"<{len(v)} chars>" if k in keys and isinstance(v, str) else redact(v, keys))
                for k, v in body.items()}
    if isinstance(body, list):
        return [redact(v, keys) for v in body]
    return body


def jcs(value) -> bytes:
    """RFC 8785 canonical JSON for the simple values used here (str keys, bool/str/int values):
    sorted keys, no whitespace, UTF-8. (Numbers other than small ints would need the ES6 rules.)"""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def utc_now_iso():
    return datetime.now(timezone.utc).isoformat()  # 2026-01-01T12:00:00.123456+00:00


class Phone:
    def __init__(self, server, uri, bits):
        self.server = server
        self.uri = uri
        parsed = urllib.parse.urlsplit(uri)
        assert parsed.scheme in ("otpauth", "pia") and parsed.netloc == "pipush", uri
        self.label = urllib.parse.unquote(parsed.path.lstrip("/"))
        self.params = {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()}
        self.url = self.params["url"]
        self.serial = self.params["serial"]
        t0 = time.monotonic()
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        self.keygen_seconds = round(time.monotonic() - t0, 2)
        self.server_key = None

    # -- transport: the token's own url, form-encoded, no auth --
    def _request(self, method, params, raw_query=None):
        path_url = self.url
        s = pi_admin.Server(path_url, "", "")
        if raw_query is not None:
            s.url = path_url + "?" + raw_query
            return s.request(method, "")
        return s.request(method, "", params)

    def sign(self, text: str) -> str:
        return b32(self.key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()))

    def pubkey_b64(self) -> str:
        der = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
        return base64.b64encode(der).decode()

    def register(self, fbtoken="no_firebase_token", credential=None, serial=None):
        status, body = self._request("POST", {
            "enrollment_credential": credential or self.params["enrollment_credential"],
            "serial": serial or self.serial,
            "fbtoken": fbtoken,
            "pubkey": self.pubkey_b64()})
        if status == 200 and (body.get("detail") or {}).get("public_key"):
            pem = ("-----BEGIN RSA PUBLIC KEY-----\n" + body["detail"]["public_key"].strip()
                   + "\n-----END RSA PUBLIC KEY-----\n")
            self.server_key = serialization.load_pem_public_key(pem.encode())
        return status, body

    def poll(self, timestamp=None, serial=None, signature=None, sign_timestamp=None):
        ts = timestamp or utc_now_iso()
        serial = serial or self.serial
        sig = signature or self.sign(f"{serial}|{sign_timestamp or ts}")
        return self._request("GET", {"serial": serial, "timestamp": ts, "signature": sig})

    def server_verify(self, text: str, sig_b32: str) -> bool:
        try:
            self.server_key.verify(base64.b32decode(sig_b32), text.encode("utf-8"),
                                   padding.PKCS1v15(), hashes.SHA256())
            return True
        except (InvalidSignature, ValueError):
            return False

    def verify_challenge(self, ch) -> bool:
        fields = [ch["nonce"], ch["url"], ch["serial"], ch["question"], ch["title"], ch["sslverify"]]
        if "require_presence" in ch:
            fields.append(ch["require_presence"])
        return self.server_verify("|".join(fields), ch["signature"])

    def verify_capabilities(self, ch) -> bool:
        caps = json.loads(ch["capabilities"])
        return self.server_verify(jcs({"capabilities": caps, "nonce": ch["nonce"]}).decode(),
                                  ch["capabilities_signature"])

    def answer(self, ch, decline=False, reason=None, presence=None, signature=None, serial=None):
        serial = serial or self.serial
        text = f"{ch['nonce']}|{serial}"
        params = {"serial": serial, "nonce": ch["nonce"]}
        if decline:
            text += "|decline"
            params["decline"] = "1"
            if reason:
                text += f"|{reason}"
                params["decline_reason"] = reason
        if presence is not None:
            text += f"|{presence}"
            params["presence_answer"] = presence
        params["signature"] = signature or self.sign(text)
        return self._request("POST", params)


def err(body):
    e = ((body or {}).get("result") or {}).get("error") or {}
    return {"message": e.get("message"), "code": e.get("code")}


def open_challenges(phone):
    status, body = phone.poll()
    expect(status == 200 and body["result"]["status"] is True, "poll answers 200", body)
    return body["result"]["value"]


def expect_gone_and_refused(phone, ch, gone, reply_name, refused):
    """The challenge `ch` is no longer offered (`gone`), and answering it anyway gets 200 with value
    false (`refused`); the reply is recorded as `reply_name`."""
    expect(open_challenges(phone) == [], gone)
    status, body = phone.answer(ch)
    note(reply_name, {"http_status": status, "body": redact(body)})
    expect(status == 200 and body["result"]["value"] is False, refused, body)


def enroll(server, bits, admin_args=(), name="enroll"):
    enrolled = run_admin(server, ["enroll-push", *admin_args])
    phone = Phone(server, enrolled["uri"], bits)
    status, body = phone.register()
    note(f"{name}.uri", enrolled["uri"])
    note(f"{name}.register_reply", {"http_status": status, "body": redact(body)})
    expect(status == 200 and phone.server_key is not None,
           f"register with RSA-{bits} (keygen {phone.keygen_seconds}s)", body)
    return phone, status, body


def run_admin(server, argv):
    """pi_admin subcommand in-process, returning its JSON (raises on failure)."""
    args = pi_admin.build_parser().parse_args(["--url", server.url, *argv])
    for key, default in (("user", "alice"), ("realm", None)):
        if hasattr(args, key) and getattr(args, key) is None:
            setattr(args, key, default)
    if getattr(args, "command", None) == "trigger" and args.password is None:
        args.password = ENV.get("PI_USER_PASSWORD", "")
    if args.command in ("number-matching", "enroll-push") and not args.realm:
        args.realm = ENV.get("PI_REALM", "testrealm")
    return args.func(server, args)


def drain(phone):
    """Cancel whatever the token still has open (left over from an earlier scenario)."""
    for ch in open_challenges(phone):
        phone.answer(ch, decline=True, reason="cancelled")


def scenario_enroll_and_accept(server, bits):
    print(f"\n== enroll (RSA-{bits}), poll, accept, finish")
    phone, status, body = enroll(server, bits)
    det = body.get("detail") or {}
    expect(det.get("rollout_state") == "enrolled", "register reply rollout_state=enrolled", det)
    pk = det.get("public_key", "")
    expect("\n" in pk and not pk.startswith("-----"), "server public_key is bare base64 with newlines")
    expect(phone.server_key.key_size == 4096, f"server key is RSA-{phone.server_key.key_size}")
    note("server_key_bits", phone.server_key.key_size)
    note("server_public_key_line_lengths", sorted({len(line) for line in pk.split("\n")}))

    status, body = phone.register()
    note("register_again_reply", {"http_status": status, "body": redact(body)})
    expect(status != 200, "second registration of the same serial is refused", body)

    ch0 = open_challenges(phone)
    expect(ch0 == [], "poll without a login: empty list")

    trig = run_admin(server, ["trigger"])
    txid = trig["transaction_id"]
    note("trigger_reply", redact(trig["response"]))
    detail = trig["response"].get("detail") or {}
    expect(detail.get("transaction_id") == txid, "trigger: detail.transaction_id present")
    mc = detail.get("multi_challenge") or []
    expect(any(c.get("transaction_id") == txid and c.get("serial") == phone.serial for c in mc),
           "trigger: detail.multi_challenge[] has one entry per push token (transaction_id + serial)", mc)
    expect(run_admin(server, ["status", txid])["status"] == "pending", "polltransaction: pending")
    note("polltransaction_pending", redact(run_admin(server, ["status", txid])["response"]))

    t0 = time.monotonic()
    status, body = phone.poll()
    note("poll_seconds", round(time.monotonic() - t0, 3))
    note("poll_reply", {"http_status": status, "body": redact(body)})
    chs = body["result"]["value"]
    expect(len(chs) == 1, "poll: one open challenge", body)
    ch = chs[0]
    note("challenge_keys", sorted(ch.keys()))
    note("challenge_sample", redact(ch))
    note("capabilities_raw", ch.get("capabilities"))
    expect(ch["serial"] == phone.serial and ch["url"] == phone.url, "challenge serial/url match the token")
    expect(phone.verify_challenge(ch), "challenge signature verifies (nonce|url|serial|question|title|sslverify)")
    expect("require_presence" not in ch and "version" not in ch, "no require_presence without the policy")
    expect(phone.verify_capabilities(ch), "capabilities_signature verifies over JCS {capabilities, nonce}")
    try:
        import rfc8785  # the server's own canonicaliser, for comparison
        same = rfc8785.dumps({"capabilities": json.loads(ch["capabilities"]), "nonce": ch["nonce"]}) == \
            jcs({"capabilities": json.loads(ch["capabilities"]), "nonce": ch["nonce"]})
        expect(same, "our JCS bytes == rfc8785.dumps bytes")
    except ImportError:
        pass
    note("capabilities_signed_bytes_example",
         jcs({"capabilities": json.loads(ch["capabilities"]), "nonce": "NONCE"}).decode())
    expect(not phone.server_verify(ch["capabilities"] + ch["nonce"], ch["capabilities_signature"]),
           "capabilities_signature is NOT over the raw capabilities string")

    # Second poll returns the same challenge (same nonce), freshly signed.
    chs2 = open_challenges(phone)
    expect(len(chs2) == 1 and chs2[0]["nonce"] == ch["nonce"], "repeat poll: same nonce offered again")
    note("repeat_poll_same_signature", chs2[0]["signature"] == ch["signature"])

    status, body = phone.answer(ch)
    note("accept_reply", {"http_status": status, "body": redact(body)})
    expect(status == 200 and body["result"]["value"] is True, "accept: value true", body)
    st = run_admin(server, ["status", txid])
    note("polltransaction_accept", redact(st["response"]))
    expect(st["status"] == "accept" and st["value"] is True, "polltransaction: accept", st)
    expect_gone_and_refused(phone, ch, "answered challenge is no longer offered",
                            "replayed_accept_reply", "replayed accept: 200 value false")

    fin = run_admin(server, ["finish", txid])
    note("finish_accept_reply", redact(fin["response"]))
    expect(fin["authenticated"] is True, "finish: authenticated", fin)
    fin2 = run_admin(server, ["finish", txid])
    note("finish_again_reply", redact(fin2["response"]))
    expect(fin2["authenticated"] is False, "finishing the same transaction twice fails", fin2)
    st = run_admin(server, ["status", txid])
    note("polltransaction_after_finish", st["status"])

    status, body = phone.answer(ch)
    note("accept_after_finish_reply", {"http_status": status, "body": redact(body)})
    expect(body.get("result", {}).get("value") is False, "answer after finish: value false", body)
    return phone


def scenario_decline(server, phone):
    print("\n== decline (plain, unknown_trigger, cancelled)")
    for reason, want in ((None, "declined"), ("unknown_trigger", "declined"), ("cancelled", "cancelled")):
        txid = run_admin(server, ["trigger"])["transaction_id"]
        ch = open_challenges(phone)[0]
        caps = json.loads(ch["capabilities"])
        if reason:
            expect(caps.get("decline_reason") is True, "capabilities advertise decline_reason")
        status, body = phone.answer(ch, decline=True, reason=reason)
        note(f"decline_{reason or 'plain'}_reply", {"http_status": status, "body": redact(body)})
        expect(status == 200 and body["result"]["value"] is True, f"decline ({reason}): value true", body)
        st = run_admin(server, ["status", txid])
        note(f"polltransaction_decline_{reason or 'plain'}", redact(st["response"]))
        expect(st["status"] == want and st["value"] is False, f"polltransaction after decline ({reason}): {want}",
               st)
        expect(open_challenges(phone) == [], "declined challenge is no longer offered")
        status, body = phone.answer(ch)
        expect(body.get("result", {}).get("value") is False, "accept after decline: value false", body)
        fin = run_admin(server, ["finish", txid])
        note(f"finish_after_decline_{reason or 'plain'}", redact(fin["response"]))
        expect(fin["authenticated"] is False, "finish after decline: not authenticated", fin)

    # A decline whose signature leaves out a reason that is sent (downgrade attempt) must fail.
    txid = run_admin(server, ["trigger"])["transaction_id"]
    ch = open_challenges(phone)[0]
    forged = phone.sign(f"{ch['nonce']}|{phone.serial}|decline")
    status, body = phone.answer(ch, decline=True, reason="cancelled", signature=forged)
    note("decline_reason_not_signed_reply", {"http_status": status, "body": redact(body)})
    expect(body["result"]["value"] is False, "decline_reason outside the signature: value false", body)
    status, body = phone.answer(ch, decline=True, reason="some_future_reason")
    note("decline_unknown_reason_reply", {"http_status": status, "body": redact(body)})
    st = run_admin(server, ["status", txid])
    note("polltransaction_unknown_reason", st["status"])
    expect(body["result"]["value"] is True and st["status"] == "declined",
           "signed unknown decline_reason: plain decline", st)


def scenario_number_matching(server, phone):
    print("\n== number matching (push_require_presence, NUMERIC, 4 options)")
    run_admin(server, ["number-matching", "on"])
    try:
        trig = run_admin(server, ["trigger"])
        txid = trig["transaction_id"]
        note("trigger_number_matching_reply", redact(trig["response"]))
        detail = trig["response"].get("detail") or {}
        mc = (detail.get("multi_challenge") or [{}])[0]
        shown = mc.get("presence_answer") or detail.get("presence_answer")
        expect(bool(shown), "trigger reply carries the number to show (presence_answer)", detail)
        ch = open_challenges(phone)[0]
        note("challenge_number_matching", redact(ch))
        choices = ch.get("require_presence", "").split(",")
        expect(len(choices) == 4 and all(len(c) == 2 and c.isdigit() for c in choices),
               "require_presence: 4 two-digit choices", ch)
        expect(ch.get("version") == "2", "version is \"2\"")
        expect(shown in choices, "the shown number is one of the choices")
        expect(phone.verify_challenge(ch), "signature covers |require_presence")
        wrong = next(c for c in choices if c != shown)
        status, body = phone.answer(ch, presence=wrong)
        note("presence_wrong_reply", {"http_status": status, "body": redact(body)})
        expect(body["result"]["value"] is False, "wrong presence_answer: value false", body)
        expect(run_admin(server, ["status", txid])["status"] == "pending", "still pending after a wrong choice")
        still = open_challenges(phone)
        note("challenge_offered_after_wrong_presence", bool(still))
        status, body = phone.answer(ch)
        note("presence_missing_reply", {"http_status": status, "body": redact(body)})
        expect(body["result"]["value"] is False, "accept without presence_answer: value false", body)
        status, body = phone.answer(ch, presence=shown)
        note("presence_right_reply", {"http_status": status, "body": redact(body)})
        expect(body["result"]["value"] is True, "right presence_answer: value true", body)
        expect(run_admin(server, ["status", txid])["status"] == "accept", "polltransaction: accept")
        expect(run_admin(server, ["finish", txid])["authenticated"] is True, "finish: authenticated")
        status, body = phone.answer(ch, presence=shown)
        note("presence_replay_reply", {"http_status": status, "body": redact(body)})
        expect(body["result"]["value"] is False, "replayed presence answer: value false", body)

        # decline under number matching: no presence answer in the signature
        txid = run_admin(server, ["trigger"])["transaction_id"]
        ch = open_challenges(phone)[0]
        status, body = phone.answer(ch, decline=True, reason="unknown_trigger")
        note("presence_decline_reply", {"http_status": status, "body": redact(body)})
        expect(body["result"]["value"] is True and run_admin(server, ["status", txid])["status"] == "declined",
               "decline under number matching (no presence in signature)", body)
    finally:
        run_admin(server, ["number-matching", "off"])


def scenario_errors(server, phone):
    print("\n== error replies")
    errors = {}

    def record(name, status, body):
        value = (body.get("result") or {}).get("value")
        errors[name] = {"http_status": status, "error": err(body),
                        "value": f"<list of {len(value)}>" if isinstance(value, list) else value,
                        "status": (body.get("result") or {}).get("status")}
        return errors[name]

    txid = run_admin(server, ["trigger"])["transaction_id"]
    ch = open_challenges(phone)[0]

    # poll: bad signature, unknown serial, stale / future timestamps, formats
    ts = utc_now_iso()
    r = record("poll_bad_signature", *phone.poll(timestamp=ts, sign_timestamp=ts + "x"))
    expect(r["http_status"] == 400, "poll with a bad signature: 400", r)
    r = record("poll_garbage_signature", *phone.poll(signature="not-base32!"))
    r = record("poll_unknown_serial", *phone.poll(serial="PIPU99999999"))
    expect(r["http_status"] == 400, "poll for an unknown serial: 400", r)
    stale = (datetime.now(timezone.utc) - timedelta(seconds=70)).isoformat()
    r = record("poll_stale_timestamp_70s", *phone.poll(timestamp=stale))
    expect(r["http_status"] == 400, "poll with a 70 s old timestamp: 400", r)
    ok55 = (datetime.now(timezone.utc) - timedelta(seconds=55)).isoformat()
    r = record("poll_timestamp_55s_old", *phone.poll(timestamp=ok55))
    expect(r["http_status"] == 200, "poll with a 55 s old timestamp: 200", r)
    fut = (datetime.now(timezone.utc) + timedelta(seconds=70)).isoformat()
    r = record("poll_future_timestamp_70s", *phone.poll(timestamp=fut))
    expect(r["http_status"] == 400, "poll with a timestamp 70 s ahead: 400", r)
    r = record("poll_unparseable_timestamp", *phone.poll(timestamp="yesterday"))

    formats = {}
    now = datetime.now(timezone.utc)
    for name, text in {
        "python_isoformat_+00:00": now.isoformat(),
        "Z_millis": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "Z_seconds": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "naive_utc": now.replace(tzinfo=None).isoformat(),
        "offset_+02:00": now.astimezone(timezone(timedelta(hours=2))).isoformat(),
        "basic_20260101T120000Z": now.strftime("%Y%m%dT%H%M%SZ"),
        "space_separator": now.strftime("%Y-%m-%d %H:%M:%S+00:00"),
        "unix_seconds": str(int(now.timestamp())),
    }.items():
        status, body = phone.poll(timestamp=text)
        formats[name] = {"timestamp": text, "http_status": status, "error": err(body)["message"]}
    note("poll_timestamp_formats", formats)
    # a '+' sent unescaped in the query string turns into a space on the server side
    ts = now.isoformat()
    raw = (f"serial={phone.serial}&timestamp={ts}"
           f"&signature={urllib.parse.quote(phone.sign(f'{phone.serial}|{ts}'))}")
    status, body = phone._request("GET", None, raw_query=raw)
    note("poll_unescaped_plus_in_timestamp", {"http_status": status, "error": err(body)})
    expect(status == 400, "a raw '+' in the query timestamp breaks the signature (escape it as %2B)")

    # answers: bad signature, unknown serial, unknown nonce, garbage base32
    r = record("answer_bad_signature", *phone.answer(ch, signature=phone.sign("something else")))
    expect(r["http_status"] == 200 and r["value"] is False, "answer with a bad signature: 200 value false", r)
    try:
        r = record("answer_garbage_signature", *phone.answer(ch, signature="!!notbase32"))
    except Exception as e:  # noqa: BLE001
        errors["answer_garbage_signature"] = repr(e)
    r = record("answer_unpadded_base32", *phone.answer(ch, signature=phone.sign(
        f"{ch['nonce']}|{phone.serial}").rstrip("=")))
    r = record("answer_unknown_serial", *phone.answer(ch, serial="PIPU99999999"))
    unknown = dict(ch, nonce=b32(os.urandom(20)))
    r = record("answer_unknown_nonce", *phone.answer(unknown))
    expect(r["http_status"] == 200 and r["value"] is False, "answer for an unknown nonce: 200 value false", r)
    r = record("answer_missing_serial", *phone._request("POST", {"nonce": ch["nonce"], "signature": "AA"}))
    r = record("answer_no_signature", *phone._request("POST", {"serial": phone.serial, "nonce": ch["nonce"]}))
    # The answer does not name the challenge: the server tries every open challenge of the token
    # with the signature, so the nonce parameter is not what selects it.
    r = record("answer_wrong_nonce_param_but_valid_signature", *phone._request("POST", {
        "serial": phone.serial, "nonce": "WRONG", "signature": phone.sign(f"{ch['nonce']}|{phone.serial}")}))
    note("answer_nonce_param_ignored", r["value"] is True)
    st = run_admin(server, ["status", txid])["status"]
    note("status_after_nonce_param_test", st)

    # registration errors
    enrolled = run_admin(server, ["enroll-push"])
    p2 = Phone(server, enrolled["uri"], 2048)
    record("register_wrong_credential", *p2.register(credential="00" * 20))
    record("register_unknown_serial", *p2.register(serial="PIPU99999999"))
    status, body = server.request("POST", "/validate/check", {"user": "alice", "pass": "wrong"})
    errors["trigger_wrong_password"] = {"http_status": status, "result": body.get("result"),
                                        "detail": body.get("detail")}
    status, body = server.request("GET", "/validate/polltransaction", {"transaction_id": "12345678901234567890"})
    errors["polltransaction_unknown_txid"] = {"http_status": status, "result": body.get("result"),
                                              "detail": body.get("detail")}
    record("register_missing_pubkey", *p2._request("POST", {
        "enrollment_credential": p2.params["enrollment_credential"], "serial": p2.serial, "fbtoken": "x"}))
    run_admin(server, ["delete-token", p2.serial])
    note("errors", errors)


def scenario_keysizes(server):
    print("\n== which phone key sizes does the server accept?")
    sizes = {}
    for bits in (1024, 2048, 3072, 4096):
        enrolled = run_admin(server, ["enroll-push"])
        p = Phone(server, enrolled["uri"], bits)
        status, body = p.register()
        ok = status == 200
        if ok:
            txid = run_admin(server, ["trigger"])["transaction_id"]
            chs = p.poll()[1]["result"]["value"]
            ch = [c for c in chs if p.verify_challenge(c)][0]
            ok = p.answer(ch)[1]["result"]["value"] is True and \
                run_admin(server, ["finish", txid])["authenticated"] is True
        sizes[bits] = {"register_http_status": status, "full_login": ok, "keygen_s": p.keygen_seconds}
        run_admin(server, ["delete-token", p.serial])
    note("phone_key_sizes", sizes)
    expect(sizes[2048]["full_login"] and sizes[4096]["full_login"], "RSA-2048 and RSA-4096 phone keys work", sizes)


def scenario_urlsafe_pubkey(server):
    print("\n== pubkey encodings")
    out = {}
    for name in ("standard", "urlsafe", "pem_with_headers"):
        enrolled = run_admin(server, ["enroll-push"])
        p = Phone(server, enrolled["uri"], 2048)
        b64 = p.pubkey_b64()
        if name == "urlsafe":
            b64 = b64.replace("+", "-").replace("/", "_")
        elif name == "pem_with_headers":
            b64 = p.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        status, body = p._request("POST", {"enrollment_credential": p.params["enrollment_credential"],
                                           "serial": p.serial, "fbtoken": "no_firebase_token", "pubkey": b64})
        ok = status == 200
        if ok:
            txid = run_admin(server, ["trigger"])["transaction_id"]
            st, bd = p.poll()
            ok = st == 200
            if ok:
                ch = bd["result"]["value"][-1]
                ok = p.answer(ch)[1]["result"]["value"] is True
            run_admin(server, ["finish", txid])
        out[name] = {"register_http_status": status, "poll_and_answer_ok": ok,
                     "error": err(body)["message"] if status != 200 else None}
        run_admin(server, ["delete-token", p.serial])
    note("pubkey_encodings", out)


def scenario_fb_update(server, phone):
    print("\n== firebase token update")
    ts = utc_now_iso()
    status, body = phone._request("POST", {"serial": phone.serial, "new_fb_token": "new-token", "timestamp": ts,
                                           "signature": phone.sign(f"new-token|{phone.serial}|{ts}")})
    note("fb_update_reply", {"http_status": status, "body": redact(body)})
    expect(status == 200 and body["result"]["value"] is True, "new_fb_token update: value true", body)
    status, body = phone._request("POST", {"serial": phone.serial, "new_fb_token": "other", "timestamp": ts,
                                           "signature": phone.sign("wrong")})
    note("fb_update_bad_signature", {"http_status": status, "error": err(body)})


def scenario_expiry(server, phone):
    print("\n== expiry (PushChallengeValidityTime=3)")
    run_admin(server, ["set-config", "PushChallengeValidityTime=3"])
    try:
        txid = run_admin(server, ["trigger"])["transaction_id"]
        ch = open_challenges(phone)[0]
        time.sleep(4.5)
        expect_gone_and_refused(phone, ch, "expired challenge is not offered",
                                "answer_expired_reply", "answer after expiry: 200 value false")
        st = run_admin(server, ["status", txid])
        note("polltransaction_expired", redact(st["response"]))
        expect(st["status"] == "pending", "polltransaction of an expired challenge: pending", st)
        fin = run_admin(server, ["finish", txid])
        note("finish_expired_reply", redact(fin["response"]))
        expect(fin["authenticated"] is False, "finish after expiry: not authenticated")
    finally:
        run_admin(server, ["delete-config", "PushChallengeValidityTime"])


def scenario_restart(server, phone, env):
    print("\n== server restart between polls")
    drain(phone)
    txid = run_admin(server, ["trigger"])["transaction_id"]
    ch = open_challenges(phone)[0]
    t0 = time.monotonic()
    subprocess.run([os.path.join(HERE, "pi-server.sh"), "restart", env["PI_WORKDIR"]], check=True)
    note("restart_seconds", round(time.monotonic() - t0, 1))
    chs = open_challenges(phone)
    expect(len(chs) == 1 and chs[0]["nonce"] == ch["nonce"], "after restart the same challenge is offered")
    status, body = phone.answer(chs[0])
    expect(body["result"]["value"] is True, "answer after restart accepted", body)
    expect(run_admin(server, ["finish", txid])["authenticated"] is True, "finish after restart")


def scenario_multiple_open(server, phone):
    print("\n== two open logins at once")
    t1 = run_admin(server, ["trigger"])["transaction_id"]
    t2 = run_admin(server, ["trigger"])["transaction_id"]
    chs = open_challenges(phone)
    note("two_open_challenges_count", len(chs))
    expect(len(chs) == 2 and chs[0]["nonce"] != chs[1]["nonce"], "two open challenges, distinct nonces")
    status, body = phone.answer(chs[1])
    s1 = run_admin(server, ["status", t1])["status"]
    s2 = run_admin(server, ["status", t2])["status"]
    note("answer_second_of_two", {"t1": s1, "t2": s2})
    expect(body["result"]["value"] is True and {s1, s2} == {"accept", "pending"},
           "answering one challenge accepts exactly one transaction", {"t1": s1, "t2": s2})
    # the challenge list carries no transaction_id: the phone only knows nonces
    expect("transaction_id" not in chs[0], "challenges carry no transaction_id")
    for t in (t1, t2):
        run_admin(server, ["finish", t])
    # leave nothing open
    for c in open_challenges(phone):
        phone.answer(c, decline=True, reason="cancelled")


ENV = {}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--env", required=True)
    ap.add_argument("--bits", type=int, default=4096)
    ap.add_argument("--samples", help="write observed wire samples (JSON) here")
    ap.add_argument("--restart", action="store_true", help="also exercise pi-server.sh restart")
    ap.add_argument("--quick", action="store_true", help="skip key-size and encoding surveys")
    a = ap.parse_args()
    ENV.update(pi_admin.load_env_file(a.env))
    server = pi_admin.Server(ENV["PI_URL"], ENV["PI_ADMIN_USER"], ENV["PI_ADMIN_PASSWORD"],
                             token_cache=ENV.get("PI_ADMIN_TOKEN_CACHE"))
    t0 = time.monotonic()
    phone = scenario_enroll_and_accept(server, a.bits)
    # Every login of alice challenges all her push tokens; a transaction that is not finished
    # successfully leaves the other tokens' challenges open. Cancel those between scenarios.
    for scenario in (scenario_decline, scenario_number_matching, scenario_multiple_open,
                     scenario_errors, scenario_fb_update, scenario_expiry):
        drain(phone)
        scenario(server, phone)
    if not a.quick:
        scenario_keysizes(server)
        drain(phone)
        scenario_urlsafe_pubkey(server)
    if a.restart:
        scenario_restart(server, phone, ENV)
    note("total_seconds", round(time.monotonic() - t0, 1))
    if a.samples:
        with open(a.samples, "w", encoding="utf-8") as f:
            json.dump(SAMPLES, f, indent=1, sort_keys=True, default=str)
    print(f"\n{len(FAILURES)} failed expectation(s)" + (": " + "; ".join(FAILURES) if FAILURES else ""))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
