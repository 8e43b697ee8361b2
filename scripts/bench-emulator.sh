#!/usr/bin/env bash
# Benchmark: collect + audit of an emulated organization (moto) of N accounts x 2 regions.
# Usage: scripts/bench-emulator.sh [ACCOUNTS=20] [RUNS=3]   (needs scripts/install-test-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-20}"; RUNS="${2:-3}"
BIN="${RAMPART_BIN:-target/release/rampart}"
[ -x "$BIN" ] || cargo build --release -p rampart
PORT=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.venv/bin/moto_server -H 127.0.0.1 -p "$PORT" >/dev/null 2>&1 &
MOTO=$!
trap 'kill $MOTO' EXIT
sleep 2
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
.venv/bin/python - "$N" <<'PY'
import boto3, sys
n = int(sys.argv[1])
o = boto3.client("organizations")
o.create_organization(FeatureSet="ALL")
for i in range(n - 1):
    o.create_account(Email=f"a{i}@example.com", AccountName=f"acct-{i}")
PY
tmp=$(mktemp -d)
for i in $(seq 1 "$RUNS"); do
  s=$(date +%s.%N)
  "$BIN" collect --regions us-east-1,eu-west-1 -o "$tmp/snap.json" 2> "$tmp/collect.err"
  m=$(date +%s.%N)
  "$BIN" audit --snapshot "$tmp/snap.json" --format json -o "$tmp/findings.json" 2>/dev/null || true
  e=$(date +%s.%N)
  echo "run $i: collect $(echo "$m - $s" | bc) s, audit $(echo "$e - $m" | bc) s; $(tail -1 "$tmp/collect.err")"
done
