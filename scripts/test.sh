#!/usr/bin/env bash
# The project's test command (what the README and CI run): installs what the tests need on a
# fresh Debian machine with the Rust toolchain, Python 3 and apt (scripts/test-deps.sh: bao
# and kubectl into a virtual environment under target/, PostgreSQL from apt; it prints what it
# installs), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x scripts/test-deps.sh ]; then
  # Real OpenBao (bao), PostgreSQL and kubectl for the integration tests, without touching
  # the user's Python or PATH; prints what it installs and the paths the tests use.
  source scripts/test-deps.sh
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# fault-injection: the named crash points the commit recovery tests kill the run at (never in
# a release build).
cargo test --locked --features kubectl-vault/fault-injection "$@" 2>&1 | tee "$log" || status=$?
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
