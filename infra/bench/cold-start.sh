#!/usr/bin/env bash
# Builds the release binaries and prints the cold-start figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet -p soraaya-cli -p auth-api
exec python3 infra/bench/cold_start.py "${1:-10}"
