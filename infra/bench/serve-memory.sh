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
source infra/bench/serve-lib.sh
trap 'kill ${pid:-} 2>/dev/null || true; rm -rf "$data" "$out"' EXIT
start_serve "$data" "$out/serve.log"
echo "started: $(grep VmRSS /proc/$pid/status)"
token=$(sign_in)
python3 ../shared/bench-reference/gen_leads.py "$out/all.csv" "$leads" > /dev/null
head -1 "$out/all.csv" > "$out/h"; tail -n +2 "$out/all.csv" | split -l 10000 - "$out/part."
for p in "$out"/part.*; do cat "$out/h" "$p" > "$p.csv"; curl -fsS -o /dev/null "http://127.0.0.1:$port/api/v1/leads/import" -H "authorization: Bearer $token" -F "file=@$p.csv"; done
curl -fsS "http://127.0.0.1:$port/api/v1/leads?limit=1" -H "authorization: Bearer $token" | python3 -c 'import json,sys; print("leads stored:", json.load(sys.stdin)["total"])'
echo "after import: $(grep VmRSS /proc/$pid/status)"
sleep 20
echo "idle 20 s: $(grep VmRSS /proc/$pid/status)"
kill $pid; wait $pid 2>/dev/null || true
start_serve "$data" "$out/serve2.log"
sleep 5
echo "restarted on $leads leads, idle: $(grep VmRSS /proc/$pid/status)"
echo "store on disk: $(du -sh "$data" | cut -f1)"
