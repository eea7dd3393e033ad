#!/usr/bin/env bash
# Builds this host's release archive, computes its sha256 and fills the host's entry in
# krew-manifest.yaml (version, uri and sha256). Run it once on each release platform
# (linux/darwin × amd64/arm64); each run fills only its own platform.
#
#   scripts/release.sh            # archive in dist/, manifest updated in place
set -euo pipefail
cd "$(dirname "$0")/.."

version="v$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) echo "unsupported OS $(uname -s)" >&2; exit 2 ;; esac
case "$(uname -m)" in x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) echo "unsupported arch $(uname -m)" >&2; exit 2 ;; esac

cargo build --release --locked
name="kubectl-vault_${version}_${os}_${arch}"
stage="dist/${name}"
rm -rf "$stage" && mkdir -p "$stage"
cp target/release/kubectl-vault LICENSE README.md "$stage/"
# Reproducible archive: fixed order, owner and mtime.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00:00Z' \
  -C "$stage" -czf "dist/${name}.tar.gz" kubectl-vault LICENSE README.md
sha=$(sha256sum "dist/${name}.tar.gz" | cut -d' ' -f1)

python3 - "$version" "$os" "$arch" "$sha" <<'PY'
import re, sys
version, os_, arch, sha = sys.argv[1:]
path = "krew-manifest.yaml"
text = open(path).read()
text = re.sub(r"(?m)^  version: v\S+$", f"  version: {version}", text)
text = re.sub(r"releases/download/v[^/]+/kubectl-vault_v[^_]+_", f"releases/download/{version}/kubectl-vault_{version}_", text)
# The sha256 line of this platform's entry follows its uri line.
pattern = re.compile(rf"(uri: \S+_{os_}_{arch}\.tar\.gz\n\s+sha256: )\"[0-9a-f]{{64}}\"")
text, n = pattern.subn(rf'\g<1>"{sha}"', text)
if n != 1:
    sys.exit(f"no {os_}/{arch} entry in {path}")
open(path, "w").write(text)
PY
echo "dist/${name}.tar.gz sha256 ${sha}; krew-manifest.yaml updated for ${os}/${arch}"
