#!/usr/bin/env bash
# Example: two Debian minbase builds a minute apart -> one image, bit for bit, with `reproimg import`.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: examples/debian-minbase.sh [--suite S] [--builder mmdebstrap|debootstrap] [--epoch E] [--keep DIR]

Builds a Debian minbase rootfs twice, the second build starting at least a minute after the first
(SOURCE_DATE_EPOCH unset, as in a build that does not set it), and shows that
  - packed with plain tar, the two rootfs tars differ: their diff_ids (what `docker import` would
    give the layer) are not equal;
  - imported with `reproimg import --profile debian --source-date-epoch E`, the two images are the
    same bytes: equal layer diff_ids, image IDs (config digests) and manifest digests.
When they are not equal, it says what still differs (`reproimg diff` of the two images).

options:
  --suite S      Debian suite (default bookworm)
  --builder B    mmdebstrap (default) or debootstrap (then packed with `tar --numeric-owner --xattrs`)
  --epoch E      the fixed SOURCE_DATE_EPOCH of both imports (default 1700000000). Any fixed time
                 before the builds works: mtimes are clamped to E, so the files the builds wrote
                 (with the time of the build) all get E; an E after the builds leaves them differing
  --keep DIR     keep the tars and the two images in DIR (default: a temporary directory, removed)
  -h, --help     show this help

environment:
  BENCH_DIR   where bench/diff caches its two tars: reused when present (same suite and builder),
              and new tars are built there so the benchmark can reuse them
  REPROIMG    the reproimg binary (default: build/cli/reproimg, else reproimg on PATH)
  MIRROR      a Debian mirror URL for the builder (default: the builder's own default)

Needs root (mmdebstrap's root mode or debootstrap), the network to a Debian mirror, ~2.5 minutes
per build and ~1 GiB of disk. `scripts/install-deps.sh --bench` installs mmdebstrap and debootstrap.
Exit 0 when the two images are identical and the two plain tars are not; 1 otherwise; 2 on a usage error.
EOF
}

suite=bookworm
builder=mmdebstrap
epoch=1700000000
keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --suite) suite=${2:?--suite needs a name}; shift 2 ;;
    --builder) builder=${2:?--builder needs mmdebstrap or debootstrap}; shift 2 ;;
    --epoch) epoch=${2:?--epoch needs a number}; shift 2 ;;
    --keep) keep=${2:?--keep needs a directory}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "debian-minbase.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$epoch" in ''|*[!0-9]*) echo "debian-minbase.sh: --epoch: '$epoch' is not a whole number" >&2; exit 2 ;; esac
case "$builder" in mmdebstrap|debootstrap) ;; *) echo "debian-minbase.sh: --builder: mmdebstrap or debootstrap" >&2; exit 2 ;; esac
case "$suite" in ''|*[!a-z0-9-]*) echo "debian-minbase.sh: --suite: '$suite' is not a suite name" >&2; exit 2 ;; esac

repo=$(cd "$(dirname "$0")/.." && pwd -P)
if [ -z "${REPROIMG:-}" ]; then
  if [ -x "$repo/build/cli/reproimg" ]; then REPROIMG=$repo/build/cli/reproimg; else REPROIMG=$(command -v reproimg || true); fi
fi
if [ -z "$REPROIMG" ] || [ ! -x "$REPROIMG" ]; then
  echo "debian-minbase.sh: no reproimg binary (build it with scripts/build.sh, or set REPROIMG)" >&2
  exit 2
fi

if [ -n "$keep" ]; then
  mkdir -p "$keep"
  work=$(cd "$keep" && pwd -P)
  rm -rf "$work/image-a" "$work/image-b" "$work/plain-a" "$work/plain-b"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/debian-minbase.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
trap 'exit 130' INT TERM

# The two rootfs tars: bench/diff's cached pair when there is one, else two new builds.
store=${BENCH_DIR:-$work}
mkdir -p "$store"
tar_a="$store/debian-$suite-minbase-$builder-a.tar"
tar_b="$store/debian-$suite-minbase-$builder-b.tar"

echo "== 1. two $suite minbase rootfs tars ($builder, SOURCE_DATE_EPOCH unset)"
if [ -f "$tar_a" ] && [ -f "$tar_b" ]; then
  echo "   reusing $tar_a and $tar_b"
else
  "$repo/bench/minbase_pair" --builder "$builder" --suite "$suite" --gap 60 "$store"
fi
for f in "$tar_a" "$tar_b"; do
  printf '   %s  %s bytes, %s entries%s\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(tar -tf "$f" | wc -l)" \
    "$([ -f "$f.info" ] && echo ", $(cat "$f.info")")"
done

# json_field FILE KEY: one field of a JSON object that reproimg printed.
json_field() { python3 -c 'import json, sys; v = json.load(open(sys.argv[1]))[sys.argv[2]]; print("" if v is None else v)' "$1" "$2"; }

echo
echo "== 2. packed with plain tar: the layer docker import would make"
"$REPROIMG" digest --json "$tar_a" >"$work/plain-a"
"$REPROIMG" digest --json "$tar_b" >"$work/plain-b"
raw_a=$(json_field "$work/plain-a" diff_id)
raw_b=$(json_field "$work/plain-b" diff_id)
echo "   diff_id A  $raw_a"
echo "   diff_id B  $raw_b"
if [ "$raw_a" = "$raw_b" ]; then raw_verdict="EQUAL (the two builds did not differ at all)"; else raw_verdict="DIFFERENT"; fi
echo "   -> $raw_verdict"

echo
echo "== 3. reproimg import --profile debian --source-date-epoch $epoch (oci-archive, gzip layer)"
import_one() { # import_one TAR NAME
  local t0 t1
  t0=$(date +%s.%N)
  "$REPROIMG" import "$1" --profile debian --source-date-epoch "$epoch" --format oci-archive \
    --tag "$suite-minbase" --json -o "$work/$2.oci.tar" >"$work/$2"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'
}
secs_a=$(import_one "$tar_a" image-a)
secs_b=$(import_one "$tar_b" image-b)
same=1
for k in diff_id config_digest manifest_digest layer_digest; do
  va=$(json_field "$work/image-a" "$k")
  vb=$(json_field "$work/image-b" "$k")
  if [ "$va" = "$vb" ]; then mark="equal"; else mark="DIFFERENT (B: $vb)"; same=0; fi
  label=$k
  [ "$k" = config_digest ] && label="image ID"
  printf '   %-16s %s  %s\n' "$label" "$va" "$mark"
done
if cmp -s "$work/image-a.oci.tar" "$work/image-b.oci.tar"; then
  echo "   the two oci-archives are the same bytes ($(stat -c %s "$work/image-a.oci.tar") bytes; imports took ${secs_a} s and ${secs_b} s)"
else
  echo "   the two oci-archives differ: $(cmp "$work/image-a.oci.tar" "$work/image-b.oci.tar" 2>&1 | head -1)"
  same=0
fi

if [ "$same" -ne 1 ]; then
  echo
  echo "== what still differs (reproimg diff oci-archive:A oci-archive:B, first 30 lines)"
  "$REPROIMG" diff "oci-archive:$work/image-a.oci.tar" "oci-archive:$work/image-b.oci.tar" 2>&1 | head -30 | sed 's/^/   /' || true
fi

echo
if [ "$same" -eq 1 ] && [ "$raw_a" != "$raw_b" ]; then
  echo "RESULT  plain tar: two different layers; reproimg import: one image, $(json_field "$work/image-a" manifest_digest)"
  [ -n "$keep" ] && echo "        (the images: $work/image-a.oci.tar, $work/image-b.oci.tar)"
  exit 0
fi
if [ "$same" -eq 1 ]; then
  echo "RESULT  the images are identical, but so were the plain tars: the two builds did not differ"
else
  echo "RESULT  the two imports differ (see above): a build-specific path the debian profile does not cover,"
  echo "        or (mtime) an --epoch later than the builds: mtimes are clamped to E, never raised"
fi
exit 1
