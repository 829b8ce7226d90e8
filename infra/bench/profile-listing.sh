#!/usr/bin/env bash
# Where the listing's time goes: starts `soraaya serve` on a fresh data
# directory, imports the reference benchmark's 10,000 leads, and runs wrk
# against the reference's request while `perf record` samples the server.
#   CARGO_TARGET_DIR=/work/target-prof cargo build --profile profiling -p soraaya-cli
#   SORAAYA_BIN=/work/target-prof/profiling/soraaya infra/bench/profile-listing.sh
#   perf report -i target/profile-listing/perf.data --no-children --percent-limit 1
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${SORAAYA_BIN:-target/release/soraaya}
query=${QUERY:-'/api/v1/leads?status=to_call&limit=50'}
out=target/profile-listing
mkdir -p "$out"
data=$(mktemp -d)
source infra/bench/serve-lib.sh
trap 'kill ${pid:-} 2>/dev/null || true; rm -rf "$data"' EXIT
start_serve "$data" "$out/serve.log"
token=$(sign_in)
python3 ../shared/bench-reference/gen_leads.py "$out/leads.csv" "${LEADS:-10000}"
curl -fsS -o /dev/null "http://127.0.0.1:$port/api/v1/leads/import" -H "authorization: Bearer $token" -F "file=@$out/leads.csv"
wrk -t2 -c16 -d3s "http://127.0.0.1:$port$query" -H "Authorization: Bearer $token" > /dev/null
if [ "${PERF:-1}" = 1 ]; then
  perf record -F 999 -g --call-graph dwarf,16384 -p "$pid" -o "$out/perf.data" -- sleep "${SECONDS_PROFILED:-8}" 2> "$out/perf.log" &
  perf_pid=$!
fi
wrk -t2 -c16 -d"${DURATION:-8}s" --latency "http://127.0.0.1:$port$query" -H "Authorization: Bearer $token" | tee "$out/wrk.txt"
[ -n "${perf_pid:-}" ] && wait "$perf_pid"
grep -E "VmRSS" /proc/$pid/status
