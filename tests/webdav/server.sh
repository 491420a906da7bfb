#!/usr/bin/env bash
# A real WebDAV server for the sync tests: Apache httpd with mod_dav and mod_dav_fs, basic auth,
# on 127.0.0.1, from a private config in a work directory (nothing of the system's Apache setup
# is used or changed).
#
#   server.sh start WORKDIR [PORT]   write WORKDIR/httpd.conf, an
#                                    htpasswd file (user "sync", password in WORKDIR/password),
#                                    start it; prints the folder URL (http://127.0.0.1:PORT/dav/)
#   server.sh stop WORKDIR           stop it (by its PID file)
#
# The served folder is WORKDIR/dav; its objects can be read and altered there by tests.
set -euo pipefail
source "$(cd "$(dirname "$0")/../.." && pwd)/scripts/lib.sh"
LOG_PREFIX=webdav-server

# apache2 and apache2-utils come from scripts/provision.sh (never installed here: two tests
# starting servers at once would race for dpkg's lock).
need_apache() {
  need_tool /usr/sbin/apache2
  need_tool htpasswd
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start() {
  local work="$1" port="${2:-$(free_port)}"
  need_apache
  mkdir -p "$work/dav" "$work/lock" "$work/run"
  work="$(cd "$work" && pwd)"
  local password
  password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')"
  printf '%s' "$password" >"$work/password"
  htpasswd -cbB "$work/htpasswd" sync "$password" >/dev/null 2>&1
  local modules=/usr/lib/apache2/modules user_line=""
  if [ "$(id -u)" = 0 ]; then
    # Apache refuses to serve as root: run its children as an unprivileged user that owns the folder.
    user_line="User www-data
Group www-data"
    chown -R www-data:www-data "$work/dav" "$work/lock"
    chmod 755 "$work"
  fi
  cat >"$work/httpd.conf" <<CONF
ServerRoot "$work"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$work/run/httpd.pid"
ErrorLog "$work/error.log"
LogLevel warn
$user_line
LoadModule mpm_event_module $modules/mod_mpm_event.so
LoadModule authz_core_module $modules/mod_authz_core.so
LoadModule authz_user_module $modules/mod_authz_user.so
LoadModule authn_core_module $modules/mod_authn_core.so
LoadModule authn_file_module $modules/mod_authn_file.so
LoadModule auth_basic_module $modules/mod_auth_basic.so
LoadModule dav_module $modules/mod_dav.so
LoadModule dav_fs_module $modules/mod_dav_fs.so
LoadModule alias_module $modules/mod_alias.so
Mutex file:$work/run default
DefaultRuntimeDir "$work/run"
DavLockDB "$work/lock/DavLock"
Timeout 20
LimitRequestBody 33554432
DocumentRoot "$work/dav"
Alias /dav "$work/dav"
<Directory />
    Require all denied
</Directory>
<Directory "$work/dav">
    Dav On
    AuthType Basic
    AuthName "sync"
    AuthBasicProvider file
    AuthUserFile "$work/htpasswd"
    Require valid-user
</Directory>
CONF
  /usr/sbin/apache2 -f "$work/httpd.conf" -k start || die "apache2 did not start (see $work/error.log)"
  local url="http://127.0.0.1:$port/dav/"
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null -u "sync:$password" "$url"; then
      printf '%s\n' "$url" >"$work/url"
      printf '%s\n' "$url"
      return 0
    fi
    sleep 0.1
  done
  die "apache2 does not answer on $url (see $work/error.log)"
}

stop() {
  local work="$1"
  [ -f "$work/httpd.conf" ] || return 0
  /usr/sbin/apache2 -f "$work/httpd.conf" -k stop 2>/dev/null || true
  local pid
  pid="$(cat "$work/run/httpd.pid" 2>/dev/null || true)"
  for _ in $(seq 1 50); do
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
}

case "${1:-}" in
  start) start "$2" "${3:-}" ;;
  stop) stop "$2" ;;
  *) die "usage: server.sh start WORKDIR [PORT] | stop WORKDIR" ;;
esac
