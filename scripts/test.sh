#!/usr/bin/env bash
# The project's test command (what the README and CI run): installs what the tests need on a
# fresh Debian machine with the Rust toolchain, Python 3 and apt, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x scripts/test-deps.sh ]; then
  # Real OpenBao (bao), PostgreSQL and kubectl for the integration tests; prints their paths.
  source scripts/test-deps.sh
fi
cargo test --locked "$@"
