#!/usr/bin/env bash
# Benchmark: collect + audit of an emulated organization (moto) of N accounts x 2 regions, and,
# in the same run against the same emulator, Prowler's CIS 3.0 checks on every account.
#
# Usage: scripts/bench-emulator.sh [ACCOUNTS=20] [RUNS=3]
#   Needs scripts/install-test-deps.sh. Prowler is optional: PROWLER=/path/to/prowler (e.g. from
#   `python3 -m venv /tmp/prowler-venv && /tmp/prowler-venv/bin/pip install prowler`); without it
#   only rampart is measured. PROWLER_ACCOUNTS limits how many accounts Prowler scans (default all;
#   the per-account time is reported so a partial run still gives a comparable figure).
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
ACCOUNTS=$(.venv/bin/python - "$N" <<'PY'
import boto3, sys
n = int(sys.argv[1])
o = boto3.client("organizations")
o.create_organization(FeatureSet="ALL")
for i in range(n - 1):
    o.create_account(Email=f"a{i}@example.com", AccountName=f"acct-{i}")
print(" ".join(a["Id"] for a in o.list_accounts()["Accounts"]))
PY
)
MGMT=$(.venv/bin/python -c 'import boto3; print(boto3.client("sts").get_caller_identity()["Account"])')
tmp=$(mktemp -d)
for i in $(seq 1 "$RUNS"); do
  s=$(date +%s.%N)
  "$BIN" collect --regions us-east-1,eu-west-1 -o "$tmp/snap.json" 2> "$tmp/collect.err"
  m=$(date +%s.%N)
  "$BIN" audit --snapshot "$tmp/snap.json" --format json -o "$tmp/findings.json" 2>/dev/null || true
  e=$(date +%s.%N)
  echo "rampart run $i: collect $(echo "$m - $s" | bc) s, audit $(echo "$e - $m" | bc) s; $(tail -1 "$tmp/collect.err")"
done
if [ -n "${PROWLER:-}" ]; then
  LIMIT="${PROWLER_ACCOUNTS:-$N}"
  total=0; k=0
  for acct in $ACCOUNTS; do
    [ "$k" -ge "$LIMIT" ] && break
    role=()
    [ "$acct" != "$MGMT" ] && role=(--role "arn:aws:iam::$acct:role/OrganizationAccountAccessRole")
    s=$(date +%s.%N)
    "$PROWLER" aws --compliance cis_3.0_aws --region us-east-1 eu-west-1 "${role[@]}" \
      --no-banner --ignore-exit-code-3 -M csv -o "$tmp/prowler" > "$tmp/prowler-$acct.log" 2>&1 \
      || echo "prowler failed for $acct (see $tmp/prowler-$acct.log)"
    e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc); total=$(echo "$total + $t" | bc); k=$((k + 1))
    echo "prowler account $acct: $t s"
  done
  echo "prowler: $k account(s) in $total s ($(echo "scale=1; $total / $k" | bc) s per account)"
fi
