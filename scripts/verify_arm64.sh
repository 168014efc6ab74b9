#!/usr/bin/env bash
# `make verify-arm64`: the artifact users ship, built and proven here.
#
# Builds the release arm64 bootstrap and bootstrap.zip with cargo-lambda, using Debian's Rust
# toolchain and aarch64 std (rustup cannot add targets offline), checks it is an aarch64 ELF that
# needs no glibc newer than Amazon Linux 2023's 2.34, boots it under qemu as a Lambda against a
# runtime API with the AWS endpoint on the local emulator, runs one real deploy and one rollback
# through it, and prints the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."

GLIBC_MAX=2.34
TARGET_DIR=target/arm64
LAMBDA_DIR=target/lambda
ZIP=$LAMBDA_DIR/self-deployer/bootstrap.zip
# What Lambda runs: the binary inside the zip.
BOOTSTRAP=$LAMBDA_DIR/self-deployer/unzipped/bootstrap

need_toolchain() {
  ! { [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/aarch64-unknown-linux-gnu ] \
      && command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64-static >/dev/null \
      && command -v aarch64-linux-gnu-objdump >/dev/null; }
}

if need_toolchain; then
  echo "== installing Debian's Rust toolchain with the aarch64 std, the cross linker and qemu"
  if [ "$(id -u)" != 0 ]; then echo "run as root (apt-get), or install: rustc-web cargo-web libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static binutils-aarch64-linux-gnu" >&2; exit 1; fi
  dpkg --add-architecture arm64
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rustc-web cargo-web libstd-rust-web-dev:arm64 \
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static binutils-aarch64-linux-gnu >/dev/null
fi

echo "== building $ZIP ($(/usr/bin/rustc --version))"
# Debian's cargo and rustc (rustup's shims come first on PATH and have no aarch64 std here).
PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc CARGO=/usr/bin/cargo CARGO_TARGET_DIR="$TARGET_DIR" \
  CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
  .venv-build/bin/cargo-lambda lambda build --release --arm64 --output-format zip \
    --compiler cargo --skip-target-check --locked --lambda-dir "$LAMBDA_DIR"

echo "== checking the binary"
rm -rf "$LAMBDA_DIR/self-deployer/unzipped"
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$ZIP" "$LAMBDA_DIR/self-deployer/unzipped"
chmod +x "$BOOTSTRAP"
[ "$(python3 -c 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).namelist())' "$ZIP")" = "['bootstrap']" ] \
  || { echo "the zip must hold exactly one file, bootstrap" >&2; exit 1; }
machine=$(aarch64-linux-gnu-readelf -h "$BOOTSTRAP" | awk -F: '/Machine/ {gsub(/^ +/, "", $2); print $2}')
[ "$machine" = "AArch64" ] || { echo "not an aarch64 ELF: $machine" >&2; exit 1; }
glibc=$(aarch64-linux-gnu-objdump -T "$BOOTSTRAP" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
if [ "$(printf '%s\n%s\n' "$glibc" "$GLIBC_MAX" | sort -V | tail -1)" != "$GLIBC_MAX" ]; then
  echo "needs GLIBC_$glibc, newer than Amazon Linux 2023's $GLIBC_MAX" >&2; exit 1
fi
if aarch64-linux-gnu-readelf -S "$BOOTSTRAP" | grep -q '\.debug_'; then
  echo "debug sections in the shipped binary" >&2; exit 1
fi
echo "   aarch64 ELF, highest glibc symbol GLIBC_$glibc (<= $GLIBC_MAX), no debug sections"

echo "== sizes"
printf '   bootstrap      %8d bytes\n' "$(stat -c %s "$BOOTSTRAP")"
printf '   bootstrap.zip  %8d bytes\n' "$(stat -c %s "$ZIP")"
printf '   sha256         %s\n' "$(sha256sum "$BOOTSTRAP" | cut -d' ' -f1)"

echo "== booting it under qemu as a Lambda: one deploy, one rollback"
(cd tests/e2e && SELF_DEPLOYER_BIN="$PWD/../../$BOOTSTRAP" SELF_DEPLOYER_QEMU="$(command -v qemu-aarch64-static)" \
  ../../.venv/bin/python -m pytest -q test_lambda_runtime_e2e.py)
