#!/usr/bin/env bash
# Memory of `soraaya serve` holding 100,000 leads: RSS at start, after
# importing them (ten 10,000-row sheets, the reference benchmark's), idle,
# and idle after a restart on the same store.
#   cargo build --release -p soraaya-cli && infra/bench/serve-memory.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${SORAAYA_BIN:-target/release/soraaya}
leads=${LEADS:-100000}
data=$(mktemp -d); out=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SORAAYA_ADMIN_EMAIL=bench@soraaya.local SORAAYA_ADMIN_PASSWORD='benchmark password' \
  SORAAYA_ACCESS_TOKEN_MINUTES=60 "$bin" serve --addr "127.0.0.1:$port" --data-dir "$data" > "$out/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$data" "$out"' EXIT
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null && break; sleep 0.1; done
echo "started: $(grep VmRSS /proc/$pid/status)"
token=$(curl -fsS "http://127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@soraaya.local","password":"benchmark password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
python3 ../shared/bench-reference/gen_leads.py "$out/all.csv" "$leads" > /dev/null
head -1 "$out/all.csv" > "$out/h"; tail -n +2 "$out/all.csv" | split -l 10000 - "$out/part."
for p in "$out"/part.*; do cat "$out/h" "$p" > "$p.csv"; curl -fsS -o /dev/null "http://127.0.0.1:$port/api/v1/leads/import" -H "authorization: Bearer $token" -F "file=@$p.csv"; done
curl -fsS "http://127.0.0.1:$port/api/v1/leads?limit=1" -H "authorization: Bearer $token" | python3 -c 'import json,sys; print("leads stored:", json.load(sys.stdin)["total"])'
echo "after import: $(grep VmRSS /proc/$pid/status)"
sleep 20
echo "idle 20 s: $(grep VmRSS /proc/$pid/status)"
kill $pid; wait $pid 2>/dev/null || true
"$bin" serve --addr "127.0.0.1:$port" --data-dir "$data" > "$out/serve2.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null && break; sleep 0.1; done
sleep 5
echo "restarted on 100k, idle: $(grep VmRSS /proc/$pid/status)"
echo "store on disk: $(du -sh "$data" | cut -f1)"
