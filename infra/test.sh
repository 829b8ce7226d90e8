#!/usr/bin/env bash
# Runs every check and test of the repository, on a fresh machine too:
# installs the DynamoDB emulator (moto) and the template linters into .venv
# once, starts moto on a free port, runs the Rust tests against both stores,
# checks the OpenAPI document against `soraaya serve` with schemathesis,
# lints template.yaml, stops moto, and prints how long each stage took.
set -euo pipefail
cd "$(dirname "$0")/.."

stages=()
stage() {
  local name=$1
  shift
  echo "==> $name"
  local started=$SECONDS
  "$@"
  stages+=("$(printf '%-44s %5d s' "$name" $((SECONDS - started)))")
}
report() {
  echo "==> stage times"
  printf '  %s\n' "${stages[@]}"
  printf '  %-44s %5d s\n' "total" "$SECONDS"
}

install_tools() {
  local venv=.venv requirements=infra/requirements-test.txt
  local stamp="$venv/.installed-$(sha256sum "$requirements" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "installing test tools into $venv (first run only)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    rm -f "$venv"/.installed-*
    touch "$stamp"
  fi
}

start_moto() {
  mkdir -p target
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # moto, with its costs that grow with the data removed (see the script)
  .venv/bin/python infra/moto_server.py -H 127.0.0.1 -p "$port" > target/moto.log 2>&1 &
  moto_pid=$!
  trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/moto-api/" 2>/dev/null; then break; fi
    sleep 0.2
  done
  curl -fsS -o /dev/null "http://127.0.0.1:$port/moto-api/" || { echo "moto did not start; see target/moto.log" >&2; exit 1; }
  export SORAAYA_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
  export SORAAYA_REQUIRE_EMULATOR=1
}

sam_validate() {
  SAM_CLI_TELEMETRY=0 .venv/bin/sam validate --lint --region us-east-1 --template template.yaml > target/sam-validate.log 2>&1 \
    || { cat target/sam-validate.log >&2; exit 1; }
}

stage "install test tools" install_tools
stage "start moto" start_moto
stage "cargo fmt --check" cargo fmt --all -- --check
stage "cargo clippy -D warnings" cargo clippy --workspace --all-targets --all-features --quiet -- -D warnings
stage "build the tests" cargo test --workspace --all-features --quiet --no-run
stage "cargo test (embedded store and moto)" cargo test --workspace --all-features --quiet
stage "schemathesis (OpenAPI against serve)" infra/schemathesis.sh 10
stage "cfn-lint template.yaml" .venv/bin/cfn-lint template.yaml
stage "sam validate --lint" sam_validate
report
echo "==> all checks passed"
