#!/usr/bin/env bash
# Installs, with apt, whatever the build and the tests need that the machine lacks (Debian 12, root).
set -euo pipefail
packages=(
  # build
  g++ cmake ninja-build pkg-config
  libarchive-dev libssl-dev libzstd-dev zlib1g-dev libcxxopts-dev nlohmann-json3-dev libboost-test-dev
  # peers the tests and benchmarks run: tar programs, compressors, python
  tar libarchive-tools busybox python3 gzip pigz bzip2 xz-utils zstd attr
  # clients that judge our images
  skopeo umoci oci-image-tool
  # podman loads and runs the images (tests/cli/test_podman.sh), with runc as its runtime
  podman runc
  # benchmarks only (bench/normalize): GNU time for wall time and peak RSS, the openssl CLI as the floor
  time openssl
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
