#!/usr/bin/env bash
# Installs what the tests need: PostgreSQL's server binaries (Debian's `postgresql`; the
# rampart-store tests start a throwaway cluster with initdb + pg_ctl), headless Chromium and
# chromedriver (rampart serve's browser tests), and a Python venv (.venv)
# with the moto AWS emulator (server mode) and boto3 for the emulator fixtures.
# Idempotent and quick when done.
set -euo pipefail
cd "$(dirname "$0")/.."

# PostgreSQL: initdb on PATH or in Debian's versioned directory.
if command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  echo "test deps: PostgreSQL server binaries present"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql
  echo "test deps: installed PostgreSQL"
fi
# rampart serve's browser tests: headless Chromium and chromedriver (Debian's packages),
# driven over WebDriver by crates/rampart-serve/tests/browser.rs.
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  echo "test deps: chromium and chromedriver present"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver
  echo "test deps: installed chromium and chromium-driver"
fi
MOTO_VERSION="5.2.6"
if [ -x .venv/bin/moto_server ] && .venv/bin/python -c "import moto, sys; sys.exit(0 if moto.__version__ == '$MOTO_VERSION' else 1)" 2>/dev/null; then
  echo "test deps: moto $MOTO_VERSION already in .venv"
else
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" boto3
  echo "test deps: installed moto $MOTO_VERSION into .venv"
fi

# --- rampart hunt: local Apache Spark (PySpark from PyPI on Debian's Java 17) ---------------
# The differential tests run the emitted Spark job in local mode. PySpark ships spark-submit
# and the Spark jars; Java comes from Debian packages when the machine has none.
PYSPARK_VERSION="4.0.1"
if ! command -v java >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null
  echo "test deps: installed openjdk-17-jre-headless"
fi
if [ -x .venv/bin/spark-submit ] && .venv/bin/python -c "import pyspark, sys; sys.exit(0 if pyspark.__version__ == '$PYSPARK_VERSION' else 1)" 2>/dev/null; then
  echo "test deps: pyspark $PYSPARK_VERSION already in .venv"
else
  .venv/bin/pip install --quiet --disable-pip-version-check "pyspark==$PYSPARK_VERSION"
  echo "test deps: installed pyspark $PYSPARK_VERSION into .venv"
fi
# --- end rampart hunt -----------------------------------------------------------------------
