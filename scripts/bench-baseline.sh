#!/usr/bin/env bash
# Benchmark: `rampart apply` on a fresh emulated organization (moto) that ends with N accounts
# x 2 regions, then `rampart plan` with no changes, and — as the in-run reference — a plain
# `rampart collect` of the same organization. Each run starts a fresh moto server.
#
# Usage: scripts/bench-baseline.sh [ACCOUNTS=20] [RUNS=3]
#   Needs scripts/install-test-deps.sh. RAMPART_BIN overrides the binary (default the release
#   build). The organization starts with the management account and ACCOUNTS-3 members;
#   apply creates the Log Archive and Audit accounts.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-20}"; RUNS="${2:-3}"
BIN="${RAMPART_BIN:-target/release/rampart}"
[ -x "$BIN" ] || cargo build --release -p rampart
BIN=$(realpath "$BIN")
PY=$(realpath .venv/bin/python)
for i in $(seq 1 "$RUNS"); do
  PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  .venv/bin/moto_server -H 127.0.0.1 -p "$PORT" >/dev/null 2>&1 &
  MOTO=$!
  sleep 2
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
  $PY - "$N" <<'PY'
import boto3, sys
o = boto3.client("organizations")
o.create_organization(FeatureSet="ALL")
for i in range(int(sys.argv[1]) - 3):
    o.create_account(Email=f"a{i}@example.com", AccountName=f"acct-{i}")
PY
  tmp=$(mktemp -d)
  (cd "$tmp" && "$BIN" init --regions us-east-1,eu-west-1 -q)
  # moto refuses config.amazonaws.com as a delegated-administrator principal (README: gaps).
  sed -i 's/^config = true/config = false/' "$tmp/rampart.toml"
  s=$(date +%s.%N)
  (cd "$tmp" && "$BIN" apply --auto-approve 2> apply.err) || { tail -20 "$tmp/apply.err"; exit 1; }
  a=$(date +%s.%N)
  (cd "$tmp" && "$BIN" plan 2> plan.err >/dev/null) || { echo "plan after apply is not empty"; cat "$tmp/plan.err"; exit 1; }
  p=$(date +%s.%N)
  (cd "$tmp" && "$BIN" collect --regions us-east-1,eu-west-1 -o snap.json 2> collect.err)
  c=$(date +%s.%N)
  echo "run $i: apply $(echo "$a - $s" | bc) s ($(grep -c . "$tmp/rampart-audit.jsonl") state-changing calls; $(tail -1 "$tmp/apply.err"))"
  echo "run $i: no-change plan $(echo "$p - $a" | bc) s ($(grep '^collected' "$tmp/plan.err"))"
  echo "run $i: collect (reference) $(echo "$c - $p" | bc) s ($(tail -1 "$tmp/collect.err"))"
  kill $MOTO; wait $MOTO 2>/dev/null || true
done
