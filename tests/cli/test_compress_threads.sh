#!/usr/bin/env bash
# Parallel compression (docs/canonical-tar.md §7.2-7.4): normalize and import write the same gzip
# and zstd bytes for 1, 2, 3 and 8 threads; the gzip blob is the spec's Python reference
# construction and the zstd one what `zstd -3 -T1` writes from a pipe; GNU gzip, Python's gzip and
# zlib, zstd, and Go's readers (skopeo, umoci) read the layers; --version names the compressors.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
need_tools gzip zstd skopeo umoci cmp
report_schema=$(cd "$(dirname "$0")/../../docs" && pwd)/normalize-report.schema.json
cd "$work"

# A rootfs-like tree: text, zeros and pseudo-random bytes, 10 MiB in all (several 128 KiB gzip
# blocks, and more than one 8 MiB libzstd job).
"$PY" - <<'PY'
import os, random
rng = random.Random(7)
os.makedirs("root/usr/lib", exist_ok=True)
for i in range(40):
    with open(f"root/usr/lib/f{i:02d}", "wb") as f:
        kind = i % 3
        n = 100_000 + rng.randrange(400_000)
        if kind == 0:
            f.write(b"".join(b"line %d of a text file\n" % rng.randrange(5000) for _ in range(n // 24)))
        elif kind == 1:
            f.write(bytes(n))
        else:
            f.write(rng.randbytes(n))
PY
"$REPROIMG" normalize -q dir:root -o c.tar

for c in gzip zstd; do
  for t in 1 2 3 8; do
    "$REPROIMG" normalize -q --compress "$c" --threads "$t" dir:root -o "c.$c.$t"
  done
  for t in 2 3 8; do
    same_bytes "$c: --threads $t writes the bytes of --threads 1" "c.$c.1" "c.$c.$t"
  done
done
# The default (the cores available) too.
"$REPROIMG" normalize -q --compress gzip c.tar -o c.gzip.default
same_bytes "gzip: the default thread count writes the same bytes" c.gzip.1 c.gzip.default

# Readers: GNU gzip, Python's gzip and zlib, zstd.
check "gzip -t reads the gzip blob" gzip -t c.gzip.3
gzip -dc c.gzip.3 > d.tar
same_bytes "gzip -d gives the canonical tar" c.tar d.tar
check "Python's gzip and zlib read it, one member" "$PY" - <<'PY'
import gzip, zlib
blob, tar = open("c.gzip.3", "rb").read(), open("c.tar", "rb").read()
d = zlib.decompressobj(31)
assert gzip.decompress(blob) == tar and d.decompress(blob) == tar and d.eof and not d.unused_data
PY
zstd -q -dc c.zstd.8 > z.tar
same_bytes "zstd -d gives the canonical tar" c.tar z.tar

# The spec's constructions.
check "gzip blob = the Python reference of §7.2" "$PY" - <<'PY'
import struct, zlib
def canonical_gzip(C, B=128 * 1024, D=32 * 1024):
    out = [b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"]
    starts = list(range(0, len(C), B)) or [0]
    for k, s in enumerate(starts):
        dictionary = {"zdict": C[s - D:s]} if s > 0 else {}
        c = zlib.compressobj(6, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, **dictionary)
        last = k == len(starts) - 1
        out.append(c.compress(C[s:s + B]) + c.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH))
    out.append(struct.pack("<II", zlib.crc32(C), len(C) & 0xFFFFFFFF))
    return b"".join(out)
assert canonical_gzip(open("c.tar", "rb").read()) == open("c.gzip.1", "rb").read()
PY
zstd -q -3 -T1 -c < c.tar > cli.zst
same_bytes "zstd blob = zstd -3 -T1 from a pipe (§7.3)" cli.zst c.zstd.1

# import: the same image for any thread count; skopeo and umoci (Go's gzip) read it.
"$REPROIMG" import -q --threads 1 dir:root -o img1 --tag t:1
"$REPROIMG" import -q --threads 3 dir:root -o img3 --tag t:1
equal "import --threads 1 and 3: the same index" "$(sha256_of img1/index.json)" "$(sha256_of img3/index.json)"
check "skopeo copies the layout (every blob digest checked)" skopeo copy -q oci:img3:t:1 dir:copied
check "umoci unpacks the gzip layer" umoci unpack --rootless --image img3:t:1 bundle
check "umoci's rootfs holds the files" cmp root/usr/lib/f05 bundle/rootfs/usr/lib/f05

# --threads must be a count; --version names the compressors and their known-answer check.
run "$REPROIMG" normalize --compress gzip --threads 0 c.tar -o x.gz
says_error "--threads 0" 2 "--threads"
"$REPROIMG" --version > version.txt
check "--version: gzip passes the known-answer check" grep -q '^gzip: zlib .*: canonical' version.txt
check "--version: zstd passes the known-answer check" grep -q '^zstd: zstd .*: canonical' version.txt

# The normalize report names what compressed the blob (docs/normalize-report.schema.json): the
# library, its version as --version gives it, the known-answer result; null without compression.
for c in none gzip zstd; do
  "$REPROIMG" normalize -q --compress "$c" c.tar -o "report-out.$c" --report "report.$c.json"
  check "normalize --report ($c) is valid against its schema" "$PY" -c '
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' "report.$c.json" "$report_schema"
done
equal "normalize --report: no compressor without compression" "None" \
  "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["compressor"])' report.none.json)"
for c in gzip zstd; do
  said=$("$PY" -c 'import json,sys; c = json.load(open(sys.argv[1]))["compressor"]; print(c["library"], c["version"] + ":", c["known_answer"])' "report.$c.json")
  line=$(grep "^$c: " version.txt | sed -E 's/^[a-z]+: ([a-z]+ [^:]+): canonical.*/\1: pass/')
  equal "normalize --report ($c): the compressor --version names, and its known-answer result" "$line" "$said"
done

finish
