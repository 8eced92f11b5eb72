#!/usr/bin/env bash
# Never fooled by what is read (1): a blob with one byte flipped (same size) in an OCI layout, an
# oci-archive and a docker-archive is refused by every command that reads the image (digest,
# digest --canonical, normalize, diff against the original, build FROM), exit 2, the message naming
# the blob; an image archive cut short is refused by every command. Nothing is written on refusal.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
need_tools tar
cd "$work"

# A small image: a gzip layer with a few files, in the three forms.
mkdir -p rootfs/etc rootfs/bin
printf 'ID=test\n' > rootfs/etc/os-release
seq 1 20000 > rootfs/etc/numbers
printf '#!/bin/sh\necho hi\n' > rootfs/bin/hello
chmod 755 rootfs/bin/hello
"$REPROIMG" import -q dir:rootfs --tag t:1 -o oci
"$REPROIMG" import -q dir:rootfs --tag t:1 --format oci-archive -o oci-archive.tar
"$REPROIMG" import -q dir:rootfs --tag t:1 --format docker-archive -o docker-archive.tar

# flip FILE OFFSET [MASK]: one byte changed in place (inverted, or XORed with MASK).
flip() {
  "$PY" - "$1" "$2" "${3:-255}" <<'EOF'
import sys
path, at, mask = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "r+b") as f:
    f.seek(at)
    b = f.read(1)
    f.seek(at)
    f.write(bytes([b[0] ^ mask]))
EOF
}

# member_span ARCHIVE NAME: the offset and size of a member's data.
member_span() {
  "$PY" - "$1" "$2" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    m = t.getmember(sys.argv[2])
    print(m.offset_data, m.size)
EOF
}

# refused_by_all WHAT REF NEEDLE: every command that reads REF exits 2, names NEEDLE, writes nothing.
refused_by_all() {
  local what=$1 ref=$2 needle=$3 rc msg
  printf 'FROM %s\nCMD ["/bin/hello"]\n' "$ref" > Dockerfile.from
  mkdir -p out
  local -a commands=(
    "digest|$REPROIMG digest $ref"
    "digest --canonical|$REPROIMG digest --canonical $ref"
    "normalize|$REPROIMG normalize $ref -o out/normalized"
    "diff|$REPROIMG diff oci:oci $ref"
    "build FROM|$REPROIMG build -f Dockerfile.from . -o out/built"
  )
  for entry in "${commands[@]}"; do
    local name=${entry%%|*} cmd=${entry#*|}
    rc=0
    $cmd > stdout.txt 2> stderr.txt || rc=$?
    equal "$what: $name: exit code" 2 "$rc"
    msg=$(head -n 1 stderr.txt)
    case $msg in
      *"$needle"*) pass ;;
      *) fail "$what: $name: the message does not name $needle: $msg" ;;
    esac
    equal "$what: $name: nothing written" "" "$(ls -A out)"
  done
}

# --- OCI layout: the layer, the config and the manifest blob, each flipped in its middle.
manifest=$("$PY" -c 'import json,sys; print(json.load(open("oci/index.json"))["manifests"][0]["digest"].split(":")[1])')
config=$("$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["config"]["digest"].split(":")[1])' "oci/blobs/sha256/$manifest")
layer=$("$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["layers"][0]["digest"].split(":")[1])' "oci/blobs/sha256/$manifest")
for kind in layer config manifest; do
  hex=${!kind}
  rm -rf tampered && cp -a oci tampered
  size=$(stat -c %s "tampered/blobs/sha256/$hex")
  flip "tampered/blobs/sha256/$hex" $((size / 2))
  refused_by_all "oci layout, $kind blob flipped" oci:tampered "$hex"
done
# The same image twice compares identical only after its blobs were read: a copy with a flipped
# layer and the original have equal manifest digests.
rm -rf tampered && cp -a oci tampered
flip "tampered/blobs/sha256/$layer" 100
rc=0
"$REPROIMG" diff oci:oci oci:tampered > stdout.txt 2> stderr.txt || rc=$?
equal "equal manifest digests, tampered layer: exit code" 2 "$rc"
check "equal manifest digests, tampered layer: says content digest" grep -q "content digest" stderr.txt
rc=0
"$REPROIMG" diff oci:oci oci:oci > stdout.txt 2> stderr.txt || rc=$?
equal "an image against itself: identical" 0 "$rc"

# --- oci-archive: the same three blobs as members of the archive.
for kind in layer config manifest; do
  hex=${!kind}
  cp oci-archive.tar tampered.tar
  read -r at size < <(member_span tampered.tar "blobs/sha256/$hex")
  flip tampered.tar $((at + size / 2))
  refused_by_all "oci-archive, $kind blob flipped" oci-archive:tampered.tar "$hex"
done

# --- docker-archive: the layer (checked against the config's diff_id and its name) and the config
# (named by its digest).
mapfile -t members < <("$PY" -c '
import json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    doc = json.load(t.extractfile("manifest.json"))[0]
print(doc["Config"]); print(doc["Layers"][0])' docker-archive.tar)
for member in "${members[@]}"; do
  cp docker-archive.tar tampered.tar
  read -r at size < <(member_span tampered.tar "$member")
  flip tampered.tar $((at + size / 2))
  refused_by_all "docker-archive, $member flipped" docker-archive:tampered.tar "$member"
done

# A config changed so that it is still valid JSON (a letter's case): its name is its digest.
cp docker-archive.tar tampered.tar
read -r at size < <(member_span tampered.tar "${members[0]}")
flip tampered.tar $((at + 2)) 32
"$PY" -c 'import json,sys,tarfile; json.load(tarfile.open(sys.argv[1]).extractfile(sys.argv[2]))' tampered.tar "${members[0]}"
refused_by_all "docker-archive, config still valid JSON" docker-archive:tampered.tar "${members[0]}"

# --- image archives cut short: every command refuses each cut (a geometric series to the end,
# and the last blocks one by one); the whole archive is read.
for archive in oci-archive docker-archive; do
  size=$(stat -c %s "$archive.tar")
  cuts=()
  c=100
  while [ "$c" -lt "$size" ]; do cuts+=("$c"); c=$((c * 3 / 2)); done
  # Inside the last member's data, and every block boundary before the end blocks.
  last_end=$("$PY" -c '
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    m = max(t.getmembers(), key=lambda m: m.offset_data + m.size)
    print(m.offset_data + m.size)' "$archive.tar")
  cuts+=($((last_end - 1)) $((last_end - 512)))
  tried=0
  for cut in "${cuts[@]}"; do
    [ "$cut" -lt "$last_end" ] || continue
    head -c "$cut" "$archive.tar" > cut.tar
    for args in "digest" "digest --canonical" "normalize --output out/n.tar"; do
      rc=0
      # shellcheck disable=SC2086
      "$REPROIMG" $args "$archive:cut.tar" > stdout.txt 2> stderr.txt || rc=$?
      equal "$archive cut at $cut: $args: exit code" 2 "$rc"
    done
    rc=0
    "$REPROIMG" diff "$archive:$archive.tar" "$archive:cut.tar" > stdout.txt 2> stderr.txt || rc=$?
    equal "$archive cut at $cut: diff: exit code" 2 "$rc"
    equal "$archive cut at $cut: nothing written" "" "$(ls -A out)"
    tried=$((tried + 1))
  done
  echo "$archive: $tried cut points refused by digest, digest --canonical, normalize and diff"
  check "$archive: whole archive read" "$REPROIMG" digest "$archive:$archive.tar"
done

finish
