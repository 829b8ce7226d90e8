# Sourced by the bench scripts: a `soraaya serve` of their own on a free
# port, with a known admin (created on an empty store only).
# Needs $bin; start_serve sets $port (once) and $pid.

start_serve() { # data dir, log file
  : "${port:=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
  SORAAYA_ADMIN_EMAIL=bench@soraaya.local SORAAYA_ADMIN_PASSWORD='benchmark password' \
    SORAAYA_ACCESS_TOKEN_MINUTES=60 "$bin" serve --addr "127.0.0.1:$port" --data-dir "$1" > "$2" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "soraaya serve did not answer on port $port (see $2)" >&2
  return 1
}

sign_in() { # prints the admin's access token
  curl -fsS "http://127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"bench@soraaya.local","password":"benchmark password"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
