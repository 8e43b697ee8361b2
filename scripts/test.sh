#!/usr/bin/env bash
# The one test command: installs what the tests need (a project-local Python venv with the moto
# AWS emulator) and runs the format and lint gates, the doc tests, then every unit, integration
# and binary test of the workspace (last, so its summary closes the output).
#
#   scripts/test.sh                      # everything
#   scripts/test.sh -p rampart-policy    # extra arguments go to the test runner
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh
export RAMPART_MOTO_SERVER="$PWD/.venv/bin/moto_server"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== doc tests"
cargo test --workspace --doc "$@"

echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --lib --bins --tests --no-fail-fast "$@"
else
  cargo test --workspace --lib --bins --tests --no-fail-fast "$@"
fi
