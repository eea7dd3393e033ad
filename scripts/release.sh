#!/usr/bin/env bash
# Builds this host's release archive and writes the krew manifest for the archives built.
#
#   scripts/release.sh                  # dist/kubectl-vault_<version>_<os>_<arch>.tar.gz + dist/krew-manifest.yaml
#   scripts/release.sh --manifest-only  # only the manifest, from the archives already in dist/
#
# The manifest (from krew-manifest.yaml) lists exactly the archives of this version
# found in dist/, each with its own sha256: to release several platforms, run this script on
# each one, copy their archives into one dist/, and run it there with --manifest-only.
# Environment: DIST (output folder, default dist), KUBECTL_VAULT_BINARY (package this binary
# instead of building one; the tests use it).
set -euo pipefail
cd "$(dirname "$0")/.."

dist=${DIST:-dist}
version="v$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) echo "unsupported OS $(uname -s)" >&2; exit 2 ;; esac
case "$(uname -m)" in x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) echo "unsupported arch $(uname -m)" >&2; exit 2 ;; esac
mkdir -p "$dist"

if [ "${1:-}" != "--manifest-only" ]; then
  binary=${KUBECTL_VAULT_BINARY:-}
  if [ -z "$binary" ]; then
    cargo build --release --locked
    binary=target/release/kubectl-vault
  fi
  name="kubectl-vault_${version}_${os}_${arch}"
  stage="$dist/${name}"
  rm -rf "$stage" && mkdir -p "$stage"
  cp "$binary" "$stage/kubectl-vault"
  cp LICENSE README.md "$stage/"
  chmod 0755 "$stage/kubectl-vault"
  chmod 0644 "$stage/LICENSE" "$stage/README.md"
  # Reproducible archive: fixed order, owner and mtime, no gzip timestamp.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00:00Z' \
    -C "$stage" -cf - kubectl-vault LICENSE README.md | gzip -n >"$dist/${name}.tar.gz"
  rm -rf "$stage"
  echo "$dist/${name}.tar.gz sha256 $(sha256sum "$dist/${name}.tar.gz" | cut -d' ' -f1)"
fi

python3 - "$version" "$dist" <<'PY'
import hashlib, os, re, sys
version, dist = sys.argv[1:]
template = open("krew-manifest.yaml").read()
# The template's header comment is about the template; the manifest says what it lists.
body = template[template.index("apiVersion:"):]
body = re.sub(r"(?m)^  version: v\S+$", f"  version: {version}", body)
order = ["linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64"]
entries = []
for platform in order:
    archive = os.path.join(dist, f"kubectl-vault_{version}_{platform}.tar.gz")
    if not os.path.exists(archive):
        continue
    sha = hashlib.sha256(open(archive, "rb").read()).hexdigest()
    os_, arch = platform.split("_")
    entries.append(f"""    - selector:
        matchLabels:
          os: {os_}
          arch: {arch}
      uri: https://github.com/kubectl-vault/kubectl-vault/releases/download/{version}/kubectl-vault_{version}_{platform}.tar.gz
      sha256: "{sha}"
      bin: kubectl-vault
      files:
        - from: kubectl-vault
          to: .
        - from: LICENSE
          to: .
""")
if not entries:
    sys.exit(f"no archive of {version} in {dist}/: run scripts/release.sh without --manifest-only first")
if "  platforms: []\n" not in body:
    sys.exit("krew-manifest.yaml must end with `  platforms: []`")
body = body.replace("  platforms: []\n", "  platforms:\n" + "".join(entries))
header = f"# krew manifest of kubectl-vault {version}, written by scripts/release.sh for the archives in {dist}/.\n"
open(os.path.join(dist, "krew-manifest.yaml"), "w").write(header + body)
print(f"{dist}/krew-manifest.yaml: {len(entries)} platform(s)")
PY
