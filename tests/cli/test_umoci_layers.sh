#!/usr/bin/env bash
# Layers as Go-based tools write them: `umoci insert` before umoci 0.4.8 (Debian 12 ships 0.4.7)
# ends a layer right after its last file's data, with no padding and no end-of-archive blocks.
# Go's archive/tar (containerd, podman, umoci) reads such a layer as complete, so reproimg does,
# and says so; a cut inside a header or inside data stays an error.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
need_tools umoci tar gzip
cd "$work"

# The same files, one tree per layer for image A, one tree for image B; times fixed.
mkdir -p part1/etc part2/etc all/etc
printf 'hello\n' > part1/etc/a
seq 1 1000 > part2/etc/b
cp part1/etc/a part2/etc/b all/etc/
for d in part1 part2 all; do
  find "$d" -exec touch -h -d @1700000000 {} +
done
umoci init --layout img
umoci new --image img:a
umoci insert --image img:a part1 /
umoci insert --image img:a part2 /
umoci new --image img:b
umoci insert --image img:b all /

# The layers really end without padding (GNU tar refuses them).
layer_b=$("$PY" - <<'EOF'
import json
idx = json.load(open("img/index.json"))
m = [d for d in idx["manifests"] if d["annotations"]["org.opencontainers.image.ref.name"] == "b"][0]
man = json.load(open("img/blobs/sha256/" + m["digest"].split(":")[1]))
print(man["layers"][-1]["digest"].split(":")[1])
EOF
)
zcat "img/blobs/sha256/$layer_b" > umoci-layer.tar
size=$(stat -c %s umoci-layer.tar)
if [ $((size % 512)) -ne 0 ]; then pass; else fail "umoci's layer is a whole number of blocks ($size bytes): this umoci pads its layers"; fi
if tar -tf umoci-layer.tar > /dev/null 2>&1; then fail "GNU tar read umoci's layer: not the ending under test"; else pass; fi

# digest reads it, and says how it ends.
rc=0
"$REPROIMG" digest "img/blobs/sha256/$layer_b" > digest.txt 2> err.txt || rc=$?
equal "digest of umoci's layer: exit code" 0 "$rc"
check "digest of umoci's layer: says the padding is missing" grep -q "not padded to 512 bytes" digest.txt
rc=0
"$REPROIMG" digest oci:img:a > image-digest.txt 2> err.txt || rc=$?
equal "digest of umoci's image: exit code" 0 "$rc"
check "digest of umoci's image: says so per layer" grep -q "note .*not padded" image-digest.txt

# normalize of umoci's layer gives the canonical tar of GNU tar's packing of the same files.
tar -C all --numeric-owner -cf gnu.tar .
"$REPROIMG" normalize -q "img/blobs/sha256/$layer_b" -o from-umoci.tar --report report.json
"$REPROIMG" normalize -q gnu.tar -o from-gnu.tar
same_bytes "normalize: umoci's layer and GNU tar's packing" from-gnu.tar from-umoci.tar
check "normalize --report: says the padding is missing" grep -q "not padded to 512 bytes" report.json

# Two layers against one of the same files: layer-split, no file differences.
rc=0
"$REPROIMG" diff oci:img:a oci:img:b --format json > diff.json 2> err.txt || rc=$?
equal "diff of umoci's two images: exit code" 1 "$rc"
"$PY" - diff.json <<'EOF' > causes.txt
import json, sys
doc = json.load(open(sys.argv[1]))
for d in doc["differences"]:
    print(d["cause"], d.get("path", ""))
EOF
check "diff: layer-split reported" grep -q "^layer-split" causes.txt
file_causes=$(grep -v -E '^(layer-split|config-created|config-history|config-field|manifest|format) ' causes.txt || true)
equal "diff: no file differences between umoci's two images" "" "$file_causes"

# A cut inside the last file's data, or inside a header, is still refused.
head -c $((size - 3)) umoci-layer.tar > cut-data.tar
rc=0
"$REPROIMG" digest cut-data.tar > /dev/null 2> err.txt || rc=$?
equal "umoci layer cut inside the last data: exit code" 2 "$rc"
head -c 700 umoci-layer.tar > cut-header.tar
rc=0
"$REPROIMG" digest cut-header.tar > /dev/null 2> err.txt || rc=$?
equal "umoci layer cut inside a header: exit code" 2 "$rc"

finish
