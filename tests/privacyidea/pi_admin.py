#!/usr/bin/env python3
"""Drive the privacyIDEA test server started by pi-server.sh: the admin and login side of the
push-token tests. Standard library only; runs with any python3 >= 3.8.

The server comes from `--env WORKDIR/server.env` (written by `pi-server.sh start`) or from the
environment (PI_URL, PI_ADMIN_USER, PI_ADMIN_PASSWORD, PI_USER, PI_USER_PASSWORD, PI_REALM).
Every subcommand prints one JSON object on stdout. Exit status: 0 ok, 1 the server said no or
answered unexpectedly (the JSON still says what it answered), 2 usage or connection error.

  enroll-push --user alice [--pin-policy] [--unlock any|biometric|pin]  -> {"serial","uri",...}
  number-matching on|off [--options NUMERIC] [--count 4]
  trigger --user alice [--password PW]             -> {"transaction_id", "response"}
  status TRANSACTION_ID                            -> {"status": pending|accept|declined|cancelled}
  finish --user alice TRANSACTION_ID               -> {"authenticated": bool, "response"}
  set-policy NAME --scope S --action k=v [...]     delete-policy NAME
  set-config KEY=VALUE [...]                       delete-config KEY
  token SERIAL                                     delete-token SERIAL
  call METHOD PATH [k=v ...] [--anonymous]         any REST call, raw reply
  wait-ready [--timeout S] [--pid PID]             configure ... (used by pi-server.sh)
"""

import argparse
import json
import os
import shlex
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

TOKEN_CACHE_SECONDS = 20 * 60
# privacyidea, or edumfa for eduMFA 2.9.5 (tests/edumfa/edumfa-server.sh); set by main().
FLAVOR = "privacyidea"
NUMBER_MATCHING_POLICY = "pi-harness-number-matching"
APP_PIN_POLICY = "pi-harness-app-pin"


class Fail(Exception):
    """The server refused or answered unexpectedly; carries the JSON to print."""

    def __init__(self, payload):
        super().__init__(json.dumps(payload))
        self.payload = payload


def load_env_file(path):
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            parts = shlex.split(value) if value else [""]
            env[key.strip()] = parts[0] if parts else ""
    return env


class Server:
    def __init__(self, url, admin_user, admin_password, token_cache=None, timeout=30):
        self.url = url.rstrip("/")
        self.admin_user = admin_user
        self.admin_password = admin_password
        self.token_cache = token_cache
        self.timeout = timeout
        self._token = None
        self.last_status = None

    def request(self, method, path, params=None, json_body=None, token=None):
        """One HTTP call. Returns (http_status, parsed JSON or {"raw": text})."""
        url = self.url + path
        data = None
        headers = {"Accept": "application/json"}
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif params is not None and method in ("GET", "DELETE"):
            url += "?" + urllib.parse.urlencode(params)
        elif params is not None:
            data = urllib.parse.urlencode(params).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if token:
            headers["PI-Authorization" if FLAVOR == "privacyidea" else "Authorization"] = token
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status, body = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        text = body.decode("utf-8", "replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, {"raw": text}

    # -- admin authentication (JWT from POST /auth, cached in a file between CLI calls) --
    def _read_cached_token(self):
        if not self.token_cache:
            return None
        try:
            with open(self.token_cache, encoding="utf-8") as f:
                cached = json.load(f)
            if (cached.get("url") == self.url and cached.get("user") == self.admin_user
                    and time.time() - cached.get("time", 0) < TOKEN_CACHE_SECONDS):
                return cached.get("token")
        except (OSError, ValueError):
            pass
        return None

    def _login(self):
        status, body = self.request("POST", "/auth",
                                    {"username": self.admin_user, "password": self.admin_password})
        token = (body.get("result") or {}).get("value", {})
        token = token.get("token") if isinstance(token, dict) else None
        if status != 200 or not token:
            raise Fail({"error": "admin login failed", "http_status": status, "response": body})
        if self.token_cache:
            tmp = f"{self.token_cache}.{os.getpid()}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump({"url": self.url, "user": self.admin_user, "time": time.time(),
                           "token": token}, f)
            os.replace(tmp, self.token_cache)
        return token

    def admin(self, method, path, params=None, json_body=None, ok=(200,)):
        """An admin call; returns the parsed reply, raises Fail unless the status is in ok."""
        token = self._token or self._read_cached_token()
        for attempt in (0, 1):
            if not token:
                token = self._login()
            status, body = self.request(method, path, params, json_body, token)
            if status == 401 and attempt == 0:
                token = None  # stale cached JWT (e.g. the server was re-initialised)
                continue
            break
        self._token = token
        self.last_status = status
        if status not in ok:
            raise Fail({"error": f"{method} {path} failed", "http_status": status, "response": body})
        return body


def result_value(body):
    return (body.get("result") or {}).get("value")


def error_message(body):
    return ((body.get("result") or {}).get("error") or {}).get("message")


# ------------------------------------------------------------------------------------------
# Subcommands


def cmd_wait_ready(server, args):
    deadline = time.monotonic() + args.timeout
    start = time.monotonic()
    last = None
    while True:
        if args.pid and not pid_alive(args.pid):
            raise Fail({"ready": False, "error": f"server process {args.pid} exited", "last": last})
        try:
            server.timeout = 2
            # eduMFA has no /healthz/: its web UI's start page answers once the app is up.
            status, body = server.request("GET", "/healthz/" if FLAVOR == "privacyidea" else "/")
            if status == 200:
                return {"ready": True, "seconds": round(time.monotonic() - start, 2), "healthz": body}
            last = {"http_status": status, "response": body}
        except (OSError, urllib.error.URLError) as e:
            last = repr(e)
        if time.monotonic() > deadline:
            raise Fail({"ready": False, "error": f"no answer within {args.timeout}s", "last": last})
        time.sleep(0.2)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own dead child) still answers kill 0.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def cmd_configure(server, args):
    url = f"http://127.0.0.1:{args.port}/ttype/push"
    out = {}
    out["resolver"] = result_value(server.admin("POST", f"/resolver/{args.resolver}", json_body={
        "type": "passwdresolver", "fileName": args.users_file}))
    out["realm"] = result_value(server.admin("POST", f"/realm/{args.realm}", json_body={
        "resolvers": args.resolver}))
    out["defaultrealm"] = result_value(server.admin("POST", f"/defaultrealm/{args.realm}", json_body={}))
    out["enroll_policy"] = result_value(server.admin("POST", "/policy/pi-harness-push-enroll", json_body={
        "scope": "enrollment", "realm": args.realm,
        "action": {"push_firebase_configuration": "poll only",
                   "push_registration_url": url,
                   "push_ssl_verify": "0"}}))
    out["auth_policy"] = result_value(server.admin("POST", "/policy/pi-harness-push-auth", json_body={
        "scope": "authentication", "realm": args.realm,
        "action": {"otppin": "userstore", "push_allow_polling": "allow"}}))
    if FLAVOR == "edumfa":
        # eduPUSH has its own policy names (edupush_*) and endpoint; tiqr is configured in the
        # system config, and its login tokens answer at /ttype/tiqr.
        edu = f"http://127.0.0.1:{args.port}/ttype/edupush"
        out["edupush_enroll_policy"] = result_value(server.admin(
            "POST", "/policy/pi-harness-edupush-enroll", json_body={
                "scope": "enrollment", "realm": args.realm,
                "action": {"edupush_firebase_configuration": "poll only",
                           "edupush_registration_url": edu, "edupush_ssl_verify": "0"}}))
        out["edupush_auth_policy"] = result_value(server.admin(
            "POST", "/policy/pi-harness-edupush-auth", json_body={
                "scope": "authentication", "realm": args.realm,
                "action": {"edupush_allow_polling": "allow", "edupush_ssl_verify": "0"}}))
        tiqr = f"http://127.0.0.1:{args.port}/ttype/tiqr"
        out["tiqr_config"] = result_value(server.admin("POST", "/system/setConfig", json_body={
            "tiqr.regServer": tiqr, "tiqr.authServer": tiqr,
            "tiqr.serviceIdentifier": "org.example.edumfa-test",
            "tiqr.serviceDisplayname": "eduMFA test"}))
    return out


def cmd_enroll_push(server, args):
    realm = args.realm
    temp_policy = None
    if args.pin_policy or args.unlock:
        action = {}
        if args.pin_policy:
            action[f"{args.type}_force_app_pin"] = True
        if args.unlock:
            action["push_app_force_unlock"] = args.unlock
        server.admin("POST", f"/policy/{APP_PIN_POLICY}", json_body={
            "scope": "enrollment", "realm": realm, "action": action})
        temp_policy = APP_PIN_POLICY
    try:
        params = {"type": args.type, "genkey": 1, "user": args.user, "realm": realm}
        if args.description:
            params["description"] = args.description
        body = server.admin("POST", "/token/init", json_body=params)
    finally:
        if temp_policy:
            server.admin("DELETE", f"/policy/{temp_policy}", ok=(200, 404))
    detail = body.get("detail") or {}
    if args.type == "tiqr":
        return {"serial": detail.get("serial"), "uri": (detail.get("tiqrenroll") or {}).get("value"),
                "rollout_state": detail.get("rollout_state")}
    uri = (detail.get("pushurl") or {}).get("value")
    if not uri:
        raise Fail({"error": "no enrollment URI in the /token/init reply", "response": body})
    return {"serial": detail.get("serial"), "uri": uri,
            "rollout_state": detail.get("rollout_state"),
            "enrollment_credential": detail.get("enrollment_credential")}


def cmd_number_matching(server, args):
    if args.state == "on":
        body = server.admin("POST", f"/policy/{NUMBER_MATCHING_POLICY}", json_body={
            "scope": "authentication", "realm": args.realm,
            "action": {"push_require_presence": True,
                       "push_presence_options": args.options,
                       "push_presence_num_options": str(args.count)}})
        return {"number_matching": True, "policy": NUMBER_MATCHING_POLICY,
                "response": result_value(body)}
    server.admin("DELETE", f"/policy/{NUMBER_MATCHING_POLICY}", ok=(200, 404))
    return {"number_matching": False, "policy": NUMBER_MATCHING_POLICY}


def cmd_trigger(server, args):
    params = {"user": args.user, "pass": args.password}
    if args.realm:
        params["realm"] = args.realm
    status, body = server.request("POST", "/validate/check", params)
    detail = body.get("detail") or {}
    txid = detail.get("transaction_id")
    if not txid:
        for ch in detail.get("multi_challenge") or []:
            if ch.get("transaction_id"):
                txid = ch["transaction_id"]
                break
    # With number matching on, the login side gets the number the user must pick on the phone.
    presence = detail.get("presence_answer")
    if presence is None:
        presence = next((ch.get("presence_answer") for ch in detail.get("multi_challenge") or []
                         if ch.get("presence_answer")), None)
    out = {"transaction_id": txid, "presence_answer": presence, "serials": sorted(
        {ch.get("serial") for ch in detail.get("multi_challenge") or [] if ch.get("serial")}),
        "message": detail.get("message"), "http_status": status, "response": body}
    if not txid:
        raise Fail(dict(out, error="no transaction_id in the /validate/check reply"))
    return out


def cmd_status(server, args):
    status, body = server.request("GET", "/validate/polltransaction",
                                  {"transaction_id": args.transaction_id})
    out = {"status": (body.get("detail") or {}).get("challenge_status"),
           "value": result_value(body), "http_status": status, "response": body}
    if status != 200:
        raise Fail(out)
    return out


def cmd_finish(server, args):
    params = {"user": args.user, "pass": args.password, "transaction_id": args.transaction_id}
    if args.realm:
        params["realm"] = args.realm
    status, body = server.request("POST", "/validate/check", params)
    result = body.get("result") or {}
    return {"authenticated": result.get("value") is True,
            "authentication": result.get("authentication"),
            "http_status": status, "response": body}


def parse_kv(items):
    out = {}
    for item in items or []:
        if "=" in item:
            k, v = item.split("=", 1)
        else:
            k, v = item, True
        out[k.strip()] = v
    return out


def cmd_set_policy(server, args):
    body = {"scope": args.scope, "action": parse_kv(args.action), "priority": args.priority}
    for key in ("realm", "user", "resolver", "client"):
        if getattr(args, key):
            body[key] = getattr(args, key)
    return {"response": result_value(server.admin("POST", f"/policy/{args.name}", json_body=body))}


def cmd_delete_policy(server, args):
    body = server.admin("DELETE", f"/policy/{args.name}", ok=(200, 404))
    return {"deleted": result_value(body), "response": body}


def cmd_set_config(server, args):
    return {"response": result_value(server.admin("POST", "/system/setConfig",
                                                  json_body=parse_kv(args.pairs)))}


def cmd_delete_config(server, args):
    return {"response": result_value(server.admin("DELETE", f"/system/{args.key}", ok=(200, 404)))}


def cmd_token(server, args):
    body = server.admin("GET", "/token/", {"serial": args.serial})
    tokens = (result_value(body) or {}).get("tokens") or []
    if not tokens:
        raise Fail({"error": f"no token {args.serial}", "response": body})
    return tokens[0]


def cmd_delete_token(server, args):
    return {"response": result_value(server.admin("DELETE", f"/token/{args.serial}", ok=(200, 404)))}


def cmd_call(server, args):
    params = parse_kv(args.params)
    method = args.method.upper()
    if args.anonymous:
        status, body = server.request(method, args.path, params or None)
    else:
        body = server.admin(method, args.path, params or None, ok=range(100, 600))
        status = server.last_status
    return {"http_status": status, "response": body}


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", help="server.env written by pi-server.sh start")
    p.add_argument("--url", help="server URL (default: PI_URL)")
    sub = p.add_subparsers(dest="command", required=True)

    def user_args(sp):
        sp.add_argument("--user", default=None, help="login name (default PI_USER)")
        sp.add_argument("--realm", default=None, help="realm (default: the default realm)")
        return sp

    def one_positional(name, arg, func):
        """A subcommand whose only argument is the positional `arg`."""
        sp = sub.add_parser(name)
        sp.add_argument(arg)
        sp.set_defaults(func=func)

    s = sub.add_parser("wait-ready")
    s.add_argument("--timeout", type=float, default=60)
    s.add_argument("--pid", type=int)
    s.set_defaults(func=cmd_wait_ready)

    s = sub.add_parser("configure")
    s.add_argument("--port", required=True, type=int)
    s.add_argument("--users-file", required=True)
    s.add_argument("--resolver", default="pwfile")
    s.add_argument("--realm", default="testrealm")
    s.set_defaults(func=cmd_configure)

    s = user_args(sub.add_parser("enroll-push"))
    s.add_argument("--pin-policy", action="store_true",
                   help="enroll under push_force_app_pin (URI gets pin=True&app_force_unlock=pin)")
    s.add_argument("--unlock", choices=["any", "biometric", "pin"],
                   help="enroll under push_app_force_unlock=VALUE")
    s.add_argument("--description")
    s.add_argument("--type", choices=["push", "edupush", "tiqr"],
                   help="token type (default: push on privacyIDEA, edupush on eduMFA)")
    s.set_defaults(func=cmd_enroll_push)

    s = sub.add_parser("number-matching")
    s.add_argument("state", choices=["on", "off"])
    s.add_argument("--options", default="NUMERIC", choices=["NUMERIC", "ALPHABETIC", "CUSTOM"])
    s.add_argument("--count", type=int, default=4, help="push_presence_num_options (2..10)")
    s.add_argument("--realm", default=None)
    s.set_defaults(func=cmd_number_matching)

    s = user_args(sub.add_parser("trigger"))
    s.add_argument("--password", default=None, help="userstore password (default PI_USER_PASSWORD)")
    s.set_defaults(func=cmd_trigger)

    one_positional("status", "transaction_id", cmd_status)

    s = user_args(sub.add_parser("finish"))
    s.add_argument("--password", default="", help='sent as pass (default "")')
    s.add_argument("transaction_id")
    s.set_defaults(func=cmd_finish)

    s = sub.add_parser("set-policy")
    s.add_argument("name")
    s.add_argument("--scope", required=True)
    s.add_argument("--action", action="append", required=True, help="key=value or key (bool)")
    s.add_argument("--realm")
    s.add_argument("--user")
    s.add_argument("--resolver")
    s.add_argument("--client")
    s.add_argument("--priority", type=int, default=1)
    s.set_defaults(func=cmd_set_policy)

    one_positional("delete-policy", "name", cmd_delete_policy)

    s = sub.add_parser("set-config", help="e.g. PushChallengeValidityTime=5")
    s.add_argument("pairs", nargs="+")
    s.set_defaults(func=cmd_set_config)

    one_positional("delete-config", "key", cmd_delete_config)
    one_positional("token", "serial", cmd_token)
    one_positional("delete-token", "serial", cmd_delete_token)

    s = sub.add_parser("call")
    s.add_argument("method")
    s.add_argument("path")
    s.add_argument("params", nargs="*", help="k=v")
    s.add_argument("--anonymous", action="store_true", help="no admin JWT")
    s.set_defaults(func=cmd_call)
    return p


def main(argv=None):
    global FLAVOR
    args = build_parser().parse_args(argv)
    env = dict(os.environ)
    env_file = args.env or os.environ.get("PI_ENV_FILE")
    if env_file:
        # The file describes one server completely, so it wins over stray PI_* variables.
        env.update(load_env_file(env_file))
    FLAVOR = env.get("PI_FLAVOR") or "privacyidea"
    if getattr(args, "type", "") is None:
        args.type = "push" if FLAVOR == "privacyidea" else "edupush"
    url = args.url or env.get("PI_URL")
    if not url:
        print(json.dumps({"error": "no server: pass --env WORKDIR/server.env or set PI_URL"}))
        return 2
    if hasattr(args, "user") and args.user is None:
        args.user = env.get("PI_USER", "alice")
    if hasattr(args, "realm") and args.realm is None:
        args.realm = env.get("PI_REALM") or None
    if args.command == "trigger" and args.password is None:
        args.password = env.get("PI_USER_PASSWORD", "")
    if args.command in ("number-matching", "enroll-push") and not args.realm:
        args.realm = "testrealm"
    server = Server(url, env.get("PI_ADMIN_USER", "admin"), env.get("PI_ADMIN_PASSWORD", ""),
                    token_cache=env.get("PI_ADMIN_TOKEN_CACHE"))
    try:
        out = args.func(server, args)
    except Fail as e:
        print(json.dumps(e.payload, indent=1, sort_keys=True))
        return 1
    except (OSError, urllib.error.URLError) as e:
        print(json.dumps({"error": f"cannot reach {url}: {e!r}"}))
        return 2
    print(json.dumps(out, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
