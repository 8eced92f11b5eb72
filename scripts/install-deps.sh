#!/usr/bin/env bash
# Installs, with apt, whatever the build and the tests need that the machine lacks (Debian 12, root).
# --bench adds the heavy peers only the benchmarks and examples/ use (diffoscope, mmdebstrap, debootstrap).
set -euo pipefail
bench=0
case "${1:-}" in
  --bench) bench=1 ;;
  "") ;;
  *) echo "usage: scripts/install-deps.sh [--bench]" >&2; exit 2 ;;
esac
packages=(
  # build
  g++ cmake ninja-build pkg-config
  libarchive-dev libssl-dev libcurl4-openssl-dev libzstd-dev zlib1g-dev libisal-dev liblzma-dev libbz2-dev libcxxopts-dev nlohmann-json3-dev libboost-test-dev
  # the audit policy file (verify/audit_policy.cpp)
  libyaml-cpp-dev
  # registries.conf, TOML (registry/registries_conf)
  libtomlplusplus-dev
  # the sanitized unit-test build and the fuzz targets (tests/fuzz): clang with libFuzzer
  clang libfuzzer-14-dev
  # peers the tests and benchmarks run: tar programs, compressors, python
  # (busybox-static: a tar packer, and the static busybox of tests/cli/test_audit.sh's mkimage-busybox
  # image; it replaces the dynamically linked busybox package)
  tar libarchive-tools busybox-static python3 gzip pigz bzip2 xz-utils zstd attr file
  # tests/cli/test_transports.sh validates diff reports against docs/diff-report.schema.json
  python3-jsonschema
  # tests/cli/test_ci_examples.sh runs the CI examples: their YAML read with PyYAML, their steps call jq
  # and are linted with shellcheck
  python3-yaml jq shellcheck
  # corpus/generate.sh: zip and ar (binutils) make archives with embedded timestamps
  zip binutils
  # clients that judge our images
  skopeo umoci oci-image-tool
  # podman loads and runs the images (tests/cli/test_podman.sh), with runc as its runtime
  podman runc
  # reproimg rebuild's variations (tests/cli/test_rebuild.sh): libfaketime for time, disorderfs (FUSE)
  # for file-order, a locale that sorts unlike C for locale, git for SOURCE_DATE_EPOCH of a checkout
  faketime disorderfs locales-all git util-linux
  # benchmarks only (bench/normalize): GNU time for wall time and peak RSS, the openssl CLI as the floor
  time openssl
  # the registry tests (tests/registry, tests/cli/test_registry*.sh): the CNCF distribution registry,
  # htpasswd for its Basic auth, the token service's signing (python3-cryptography), curl as a raw client
  docker-registry apache2-utils python3-cryptography curl
)
if [ "$bench" -eq 1 ]; then
  # bench/diff and examples/debian-minbase.sh: the peer differ (its minimal form: the tar, text and
  # archive comparators, without the hundreds of MiB of format tools it recommends) and the rootfs builders
  packages+=(diffoscope-minimal mmdebstrap debootstrap)
  # bench/rebuild_reprotest: Debian's reprotest beside reproimg rebuild
  packages+=(reprotest)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  # Another apt (an unattended upgrade, a parallel job) may hold the lock: wait for it rather than fail.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 \
    "${missing[@]}" >/dev/null
fi
