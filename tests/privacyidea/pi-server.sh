#!/usr/bin/env bash
# Stand up a real privacyIDEA 3.14 server on 127.0.0.1 for the push-token interop tests.
#
#   pi-server.sh install             venv in the cache (idempotent; instant when cached)
#   pi-server.sh start   WORKDIR     fresh or existing server in WORKDIR; writes WORKDIR/server.env
#   pi-server.sh stop    WORKDIR     stop it (idempotent)
#   pi-server.sh restart WORKDIR     stop, then start again: same port, same database
#   pi-server.sh status  WORKDIR     exit 0 when the server is running and answering
#
# Cache (outside the clone): ${AUTHENTICATOR_CACHE:-$HOME/.cache/authenticator-core}/privacyidea-3.14/
#   venv/ (marker .installed-privacyidea-3.14), download/ (every wheel, for offline re-installs),
#   pip-cache/, server-template/ (a set-up server copied into new WORKDIRs).
# WORKDIR (use a temp dir) holds pi.cfg, keys, the sqlite db, logs, server.pid, server.env.
# Environment: PI_WATCH_PID (stop the server when that process exits), PI_START_TIMEOUT (60),
# PI_SERVER_LOGLEVEL (20 = INFO, 10 = DEBUG; at first start), PI_NO_TEMPLATE=1.
# PI_FLAVOR=edumfa runs eduMFA 2.9.5 (privacyIDEA's fork) instead: tests/edumfa/edumfa-server.sh.
# See README.md in this directory.
set -euo pipefail

export PI_FLAVOR="${PI_FLAVOR:-privacyidea}"
case "$PI_FLAVOR" in
  privacyidea)
    PKG=privacyidea PI_VERSION=3.14 MANAGE=pi-manage RUN_CMD=run CFG_PREFIX=PI
    CFG_ENV=PRIVACYIDEA_CONFIGFILE
    ;;
  edumfa)
    PKG=edumfa PI_VERSION=2.9.5 MANAGE=edumfa-manage RUN_CMD=runserver CFG_PREFIX=EDUMFA
    CFG_ENV=EDUMFA_CONFIGFILE
    ;;
  *) echo "[pi-server] error: PI_FLAVOR must be privacyidea or edumfa" >&2; exit 1 ;;
esac
CACHE_ROOT="${AUTHENTICATOR_CACHE:-$HOME/.cache/authenticator-core}/$PKG-$PI_VERSION"
VENV="$CACHE_ROOT/venv"
MARKER="$VENV/.installed-$PKG-$PI_VERSION"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

ADMIN_USER="admin"
ADMIN_PASSWORD=admin-test-pw
TEST_USER=alice
TEST_USER_PASSWORD=alice-test-pw
RESOLVER=pwfile
REALM=testrealm
START_TIMEOUT="${PI_START_TIMEOUT:-60}"

log() { printf '[pi-server] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

find_python() {
  local py
  for py in "${PI_HOST_PYTHON:-}" python3.11 python3; do
    [ -n "$py" ] || continue
    if command -v "$py" >/dev/null 2>&1 &&
      "$py" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 9) else 1)' 2>/dev/null; then
      command -v "$py"
      return 0
    fi
  done
  die "no python3 (>= 3.9) found"
}

installed() { [ -f "$MARKER" ] && [ -x "$VENV/bin/$MANAGE" ]; }

cmd_install() {
  installed && return 0
  mkdir -p "$CACHE_ROOT"
  # Two provisioners at once (two clones) on a cold cache: one installs, the other waits.
  if command -v flock >/dev/null 2>&1; then
    (
      flock 9
      if ! installed; then do_install; fi
    ) 9>"$CACHE_ROOT/.install.lock"
  else
    do_install
  fi
}

do_install() {
  local py t0 dl wheel reqs f
  py="$(find_python)"
  t0=$SECONDS
  log "installing $PKG $PI_VERSION into $VENV (one-time)"
  rm -rf "$VENV" "$CACHE_ROOT/server-template"
  "$py" -m venv "$VENV"
  export PIP_CACHE_DIR="$CACHE_ROOT/pip-cache"
  export PIP_DISABLE_PIP_VERSION_CHECK=1
  # Every downloaded file also lands in $dl, so a re-install (e.g. after deleting the venv) is
  # offline even where the package index forbids HTTP caching.
  dl="$CACHE_ROOT/download"
  mkdir -p "$dl"
  wheel=""
  for f in "$dl"/"$PKG"-"$PI_VERSION"-*.whl; do [ -f "$f" ] && wheel="$f"; done
  if [ -z "$wheel" ]; then
    "$VENV/bin/python" -m pip download --quiet --no-deps --only-binary=:all: -d "$dl" \
      "$PKG==$PI_VERSION"
    for f in "$dl"/"$PKG"-"$PI_VERSION"-*.whl; do [ -f "$f" ] && wheel="$f"; done
  fi
  [ -n "$wheel" ] || die "$PKG $PI_VERSION wheel not downloaded"
  if [ "$PKG" = edumfa ]; then
    # eduMFA's wheel pins every dependency with == in its metadata (no hashes to check).
    if ! "$VENV/bin/python" -m pip install --quiet --no-index --find-links "$dl" "$wheel" >/dev/null 2>&1; then
      "$VENV/bin/python" -m pip download --quiet -d "$dl" "$wheel"
      "$VENV/bin/python" -m pip install --quiet --no-index --find-links "$dl" "$wheel"
    fi
    "$VENV/bin/python" -c 'import edumfa.app, edumfa.commands.manage.main' ||
      die "edumfa does not import after install"
    echo "edumfa==$PI_VERSION installed $(date -u +%FT%TZ) in $((SECONDS - t0))s" >"$MARKER"
    log "installed in $((SECONDS - t0))s"
    return 0
  fi
  # The wheel ships its own fully pinned, hash-checked requirements.
  reqs="$dl/requirements.txt"
  "$VENV/bin/python" - "$wheel" "$reqs" "$PI_VERSION" <<'PY'
import sys, zipfile
wheel, out, ver = sys.argv[1:4]
name = f"privacyidea-{ver}.data/data/lib/privacyidea/requirements.txt"
with zipfile.ZipFile(wheel) as z, open(out, "wb") as f:
    f.write(z.read(name))
PY
  if ! "$VENV/bin/python" -m pip install --quiet --no-index --find-links "$dl" --require-hashes \
    -r "$reqs" >/dev/null 2>&1; then
    "$VENV/bin/python" -m pip download --quiet --require-hashes -r "$reqs" -d "$dl"
    "$VENV/bin/python" -m pip install --quiet --no-index --find-links "$dl" --require-hashes -r "$reqs"
  fi
  "$VENV/bin/python" -m pip install --quiet --no-index --no-deps "$wheel"
  # Import only: `pi-manage --help` would build an app and write privacyidea.log into the cwd.
  "$VENV/bin/python" -c 'import privacyidea.app, privacyidea.cli.pimanage' ||
    die "privacyidea does not import after install"
  echo "privacyidea==$PI_VERSION installed $(date -u +%FT%TZ) in $((SECONDS - t0))s" >"$MARKER"
  log "installed in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------------------------------------
# Server lifecycle

abs_dir() { mkdir -p "$1" && (cd "$1" && pwd -P); }

# True when PID runs (a zombie - dead, waiting for a reaper that may be slow - does not count).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  if [ -r "/proc/$1/stat" ]; then
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [ "${stat%% *}" != "Z" ]
  fi
}

# True when PID is alive and is the server of this WORKDIR (guards against a recycled PID).
pid_is_ours() {
  local pid=$1 wd=$2
  [ -n "$pid" ] && alive "$pid" || return 1
  if [ -r "/proc/$pid/environ" ]; then
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "$CFG_ENV=$wd/pi.cfg"
  else
    ps -p "$pid" -o command= 2>/dev/null | grep -q "$MANAGE"
  fi
}

recorded_pid() { [ -f "$1/server.pid" ] && tr -dc '0-9' <"$1/server.pid" || true; }

free_port() {
  "$VENV/bin/python" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

admin_py() {
  # pi_admin.py with the credentials of this harness (the venv python; pi_admin.py is stdlib only).
  # PI_ENV_FILE emptied: a caller may have exported another server's env file (pi_start).
  PI_ENV_FILE= PI_FLAVOR="$PI_FLAVOR" PI_URL="http://127.0.0.1:$PORT" PI_ADMIN_USER="$ADMIN_USER" PI_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    PI_ADMIN_TOKEN_CACHE="$WD/.admin-token" \
    "$VENV/bin/python" "$HERE/pi_admin.py" "$@"
}

show_log_tail() {
  local f
  for f in "$WD/server.log" "$WD/$PKG.log"; do
    [ -f "$f" ] || continue
    log "---- last lines of $f ----"
    tail -n 40 "$f" >&2 || true
  done
}

# Write DIR/pi.cfg for a server whose files live in DIR. The secrets (SECRET_KEY, PI_PEPPER,
# PI_NODE_UUID) come from DIR/secrets.json, created on first use: they must match the enckey and
# the database that were created with them.
write_cfg() {
  "$VENV/bin/python" - "$1" "$CFG_PREFIX" "$PKG" <<'PY'
import json, os, secrets, sys, uuid
d, prefix, pkg = sys.argv[1:4]
sf = os.path.join(d, "secrets.json")
if not os.path.exists(sf):
    fd = os.open(sf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"SECRET_KEY": secrets.token_hex(32), "PI_PEPPER": secrets.token_hex(16),
                   "PI_NODE_UUID": str(uuid.uuid4())}, f)
with open(sf) as f:
    sec = json.load(f)
cfg = {
    "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(d, "privacyidea.sqlite"),
    "SECRET_KEY": sec["SECRET_KEY"],
    prefix + "_PEPPER": sec["PI_PEPPER"],
    prefix + "_ENCFILE": os.path.join(d, "enckey"),
    prefix + "_AUDIT_KEY_PRIVATE": os.path.join(d, "private.pem"),
    prefix + "_AUDIT_KEY_PUBLIC": os.path.join(d, "public.pem"),
    prefix + "_AUDIT_SQL_TRUNCATE": True,
    prefix + "_LOGFILE": os.path.join(d, pkg + ".log"),
    prefix + "_LOGLEVEL": int(os.environ.get("PI_SERVER_LOGLEVEL", "20")),
    prefix + "_NODE": "authenticator-test",
    prefix + "_NODE_UUID": sec["PI_NODE_UUID"],
    "SUPERUSER_REALM": ["superuser"],
}
fd = os.open(os.path.join(d, "pi.cfg"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    f.write(f"# Generated by tests/privacyidea/pi-server.sh for a throwaway {pkg} test server.\n")
    for k, v in cfg.items():
        f.write(f"{k} = {v!r}\n")
PY
}

# The pi-manage setup of a fresh server in DIR: enckey, audit keys, tables, admin. The same
# pi-manage commands as on the command line, run in one interpreter (saves ~4 s of imports).
pi_manage_setup() {
  local d=$1
  (
    cd "$d"
    env "$CFG_ENV=$d/pi.cfg" "$VENV/bin/python" - "$ADMIN_USER" "$ADMIN_PASSWORD" "$PKG" <<'PY'
import sys
user, password, pkg = sys.argv[1:4]
if pkg == "edumfa":
    from edumfa.commands.manage.main import cli
    steps = (["-q", "create_enckey"], ["-q", "create_audit_keys"], ["-q", "create_tables"],
             ["-q", "admin", "add", user, "-p", password])
else:
    from privacyidea.cli.pimanage import cli
    steps = (["setup", "create_enckey"], ["setup", "create_audit_keys"], ["setup", "create_tables"],
             ["admin", "add", user, "-p", password])
for argv in steps:
    print("+ manage " + " ".join(argv[:3]), flush=True)
    try:
        cli.main(args=argv, prog_name="manage", standalone_mode=False)
    except SystemExit as e:
        if e.code:
            raise
PY
  ) >>"$d/setup.log" 2>&1 || { tail -n 30 "$d/setup.log" >&2; die "pi-manage setup failed in $d"; }
}

# A set-up server (keys, secrets, empty database with the admin) is cached beside the venv and
# copied into each new WORKDIR: a fresh server costs a file copy instead of the pi-manage setup.
# PI_NO_TEMPLATE=1 runs the setup in the WORKDIR itself.
TEMPLATE="$CACHE_ROOT/server-template"
TEMPLATE_FILES=(secrets.json enckey private.pem public.pem privacyidea.sqlite)

ensure_template() {
  [ -f "$TEMPLATE/.complete" ] && return 0
  (
    if command -v flock >/dev/null 2>&1; then flock 9; fi
    [ -f "$TEMPLATE/.complete" ] && exit 0
    log "building the server template in $TEMPLATE (one-time)"
    rm -rf "$TEMPLATE" "$TEMPLATE.tmp"
    mkdir -p "$TEMPLATE.tmp"
    write_cfg "$TEMPLATE.tmp"
    pi_manage_setup "$TEMPLATE.tmp"
    echo "$PKG==$PI_VERSION admin=$ADMIN_USER" >"$TEMPLATE.tmp/.complete"
    mv "$TEMPLATE.tmp" "$TEMPLATE"
  ) 9>"$CACHE_ROOT/.template.lock"
}

# One-time setup of a WORKDIR: pi.cfg, keys, database with the admin, passwd-file users.
init_workdir() {
  log "initialising $WD"
  rm -f "$WD"/{pi.cfg,secrets.json,enckey,private.pem,public.pem,privacyidea.sqlite,users.passwd} \
    "$WD"/{port,.configured,.admin-token}
  if [ -n "${PI_NO_TEMPLATE:-}" ]; then
    write_cfg "$WD"
    pi_manage_setup "$WD"
  else
    ensure_template
    local f
    for f in "${TEMPLATE_FILES[@]}"; do cp -p "$TEMPLATE/$f" "$WD/$f"; done
    write_cfg "$WD"
  fi
  # passwd-file resolver users, in the format privacyidea-create-pwidresolver-user prints, with
  # cheap sha512-crypt rounds so /validate/check stays fast in tests.
  "$VENV/bin/python" - "$WD/users.passwd" "$TEST_USER" "$TEST_USER_PASSWORD" <<'PY'
import sys
from passlib.hash import sha512_crypt
path, user, password = sys.argv[1:4]
with open(path, "w") as f:
    for uid, (name, pw, gecos) in enumerate([(user, password, "Alice Tester"),
                                            ("bob", "bob-test-pw", "Bob Tester")], start=1000):
        f.write(f"{name}:{sha512_crypt.using(rounds=5000).hash(pw)}:{uid}:{uid}:{gecos}::\n")
PY
  touch "$WD/.initialized"
}

# Start pi-manage run in its own session, stdio detached (a caller that captures our stdout must
# not wait for the server), and record its PID.
launch() {
  printf '\n==== %s start on 127.0.0.1:%s\n' "$(date -u +%FT%TZ)" "$PORT" >>"$WD/server.log"
  (
    cd "$WD"
    export "$CFG_ENV=$WD/pi.cfg"
    exec "$VENV/bin/python" -c 'import os, sys
try:
    os.setsid()
except OSError:
    pass
os.execv(sys.argv[1], sys.argv[1:])' "$VENV/bin/$MANAGE" "$RUN_CMD" -h 127.0.0.1 -p "$PORT" --with-threads \
      </dev/null >>"$WD/server.log" 2>&1
  ) &
  PID=$!
  echo "$PID" >"$WD/server.pid"
}

# Optional: stop the server when process PI_WATCH_PID exits (e.g. a test binary killed by Ctrl-C
# or SIGKILL, which never runs its cleanup).
start_watcher() {
  local watch=${PI_WATCH_PID:-}
  [ -n "$watch" ] || return 0
  kill -0 "$watch" 2>/dev/null || return 0
  local old
  old=""
  if [ -f "$WD/watcher.pid" ]; then old="$(tr -dc '0-9' <"$WD/watcher.pid")"; fi
  if [ -n "$old" ] && tr '\0' ' ' <"/proc/$old/cmdline" 2>/dev/null | grep -q 'pi-server.sh'; then
    kill "$old" 2>/dev/null || true
  fi
  (
    trap '' HUP INT
    while alive "$watch" && alive "$PID"; do sleep 1; done
    if ! alive "$watch"; then PI_SERVER_FROM_WATCHER=1 "$HERE/pi-server.sh" stop "$WD"; fi
  ) </dev/null >/dev/null 2>&1 &
  echo $! >"$WD/watcher.pid"
}

write_env() {
  local tmp="$WD/server.env.tmp"
  {
    echo "# $PKG $PI_VERSION test server (source me). Written by pi-server.sh."
    printf 'PI_FLAVOR=%q\n' "$PI_FLAVOR"
    printf 'PI_URL=%q\n' "http://127.0.0.1:$PORT"
    printf 'PI_PORT=%q\n' "$PORT"
    printf 'PI_PID=%q\n' "$PID"
    printf 'PI_WORKDIR=%q\n' "$WD"
    printf 'PI_REALM=%q\n' "$REALM"
    printf 'PI_ADMIN_USER=%q\n' "$ADMIN_USER"
    printf 'PI_ADMIN_PASSWORD=%q\n' "$ADMIN_PASSWORD"
    printf 'PI_USER=%q\n' "$TEST_USER"
    printf 'PI_USER_PASSWORD=%q\n' "$TEST_USER_PASSWORD"
    printf 'PI_USER2=%q\n' "bob"
    printf 'PI_USER2_PASSWORD=%q\n' "bob-test-pw"
    printf 'PI_PYTHON=%q\n' "$VENV/bin/python"
    printf 'PI_ADMIN_TOKEN_CACHE=%q\n' "$WD/.admin-token"
  } >"$tmp"
  mv -f "$tmp" "$WD/server.env"
}

cmd_start() {
  [ -n "${1:-}" ] || die "usage: $0 start WORKDIR"
  installed || die "$PKG $PI_VERSION is not installed in $VENV: run scripts/provision.sh once (./test-all does)"
  WD="$(abs_dir "$1")"
  local t0=$SECONDS attempt
  PID="$(recorded_pid "$WD")"
  if pid_is_ours "$PID" "$WD"; then
    PORT="$(cat "$WD/port")"
    admin_py wait-ready --timeout "$START_TIMEOUT" --pid "$PID" >/dev/null || {
      show_log_tail; die "server (pid $PID) is running but does not answer"; }
    write_env
    log "already running: http://127.0.0.1:$PORT (pid $PID)"
    return 0
  fi
  rm -f "$WD/server.pid" "$WD/server.env"
  if [ ! -f "$WD/.initialized" ]; then init_workdir; fi

  for attempt in 1 2 3; do
    if [ -f "$WD/port" ]; then
      PORT="$(cat "$WD/port")"
    else
      PORT="$(free_port)"
    fi
    launch
    if admin_py wait-ready --timeout "$START_TIMEOUT" --pid "$PID" >/dev/null; then
      break
    fi
    # The server died or never answered. Before the first configuration the port is free to
    # change (another process may have taken the port we picked); afterwards it is part of the
    # registered tokens' URL and must stay.
    kill -KILL "$PID" 2>/dev/null || true
    rm -f "$WD/server.pid"
    if [ -f "$WD/.configured" ] || [ "$attempt" = 3 ]; then
      show_log_tail
      die "$PKG did not come up on 127.0.0.1:$PORT within ${START_TIMEOUT}s"
    fi
    log "server did not come up on port $PORT, retrying on another port"
    rm -f "$WD/port"
  done
  echo "$PORT" >"$WD/port"

  if [ ! -f "$WD/.configured" ]; then
    admin_py configure --port "$PORT" --users-file "$WD/users.passwd" --resolver "$RESOLVER" \
      --realm "$REALM" >>"$WD/setup.log" 2>&1 || {
      tail -n 30 "$WD/setup.log" >&2; show_log_tail; cmd_stop "$WD"; die "REST configuration failed"; }
    touch "$WD/.configured"
  fi
  start_watcher
  write_env
  log "$PKG $PI_VERSION on http://127.0.0.1:$PORT (pid $PID, workdir $WD) in $((SECONDS - t0))s"
}

cmd_stop() {
  [ -n "${1:-}" ] || die "usage: $0 stop WORKDIR"
  [ -d "$1" ] || return 0
  WD="$(cd "$1" && pwd -P)"
  local pid watcher
  pid="$(recorded_pid "$WD")"
  if pid_is_ours "$pid" "$WD"; then
    # The server leads its own process group (setsid in launch): signal the group.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      alive "$pid" || break
      sleep 0.05
    done
    if alive "$pid"; then
      log "server pid $pid ignored TERM for 5s, sending KILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do alive "$pid" || break; sleep 0.05; done
    fi
    log "stopped server pid $pid"
  fi
  rm -f "$WD/server.pid"
  if [ -z "${PI_SERVER_FROM_WATCHER:-}" ] && [ -f "$WD/watcher.pid" ]; then
    watcher="$(tr -dc '0-9' <"$WD/watcher.pid")"
    # Only our own watcher (a subshell of this script), never a process that recycled its PID.
    if [ -n "$watcher" ] && tr '\0' ' ' <"/proc/$watcher/cmdline" 2>/dev/null | grep -q 'pi-server.sh'; then
      kill "$watcher" 2>/dev/null || true
    fi
  fi
  rm -f "$WD/watcher.pid"
}

cmd_restart() {
  [ -n "${1:-}" ] || die "usage: $0 restart WORKDIR"
  [ -f "$1/.configured" ] || die "$1 holds no configured server; use start"
  cmd_stop "$1"
  cmd_start "$1"
}

cmd_status() {
  [ -n "${1:-}" ] || die "usage: $0 status WORKDIR"
  [ -d "$1" ] || die "no such workdir: $1"
  WD="$(cd "$1" && pwd -P)"
  PID="$(recorded_pid "$WD")"
  pid_is_ours "$PID" "$WD" || { log "not running"; return 1; }
  PORT="$(cat "$WD/port")"
  admin_py wait-ready --timeout 2 --pid "$PID" >/dev/null || { log "pid $PID not answering"; return 1; }
  log "running: http://127.0.0.1:$PORT (pid $PID)"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start "${2:-}" ;;
  stop) cmd_stop "${2:-}" ;;
  restart) cmd_restart "${2:-}" ;;
  status) cmd_status "${2:-}" ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
  *) die "usage: $0 install | start WORKDIR | stop WORKDIR | restart WORKDIR | status WORKDIR" ;;
esac
