#!/usr/bin/env bash
# End-to-end: a warning libarchive gives about a tar header reaches the user (stderr, or the diff
# report's notes) on every path that reads one: a layer's digest, an image's layers (digest, diff,
# build FROM) and an ADD archive; never dropped.
set -euo pipefail
# shellcheck source=tests/cli/common.sh
. "$(dirname "$0")/common.sh"

need_tools

# warn.tar: one file whose pax header announces a GNU sparse format libarchive does not know
# (GNU.sparse.major=2); libarchive reads the entry as a plain file and warns "Unrecognized GNU
# sparse file format". good.tar: the same file without it.
"$PY" - "$work" <<'PY'
import hashlib, io, json, os, sys, tarfile
work = sys.argv[1]
def layer(name, pax):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo("etc/motd")
        ti.size, ti.mtime, ti.pax_headers = 6, 0, pax
        t.addfile(ti, io.BytesIO(b"hello\n"))
    data = buf.getvalue()
    open(os.path.join(work, name), "wb").write(data)
    return data
def oci(dirname, data):
    d = os.path.join(work, dirname)
    os.makedirs(d + "/blobs/sha256")
    def blob(b):
        h = hashlib.sha256(b).hexdigest()
        open(d + "/blobs/sha256/" + h, "wb").write(b)
        return {"digest": "sha256:" + h, "size": len(b)}
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(data).hexdigest()]}}).encode()
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": dict(blob(config), mediaType="application/vnd.oci.image.config.v1+json"),
                "layers": [dict(blob(data), mediaType="application/vnd.oci.image.layer.v1.tar")]}
    m = json.dumps(manifest).encode()
    index = {"schemaVersion": 2, "manifests": [dict(blob(m), mediaType="application/vnd.oci.image.manifest.v1+json")]}
    open(d + "/index.json", "w").write(json.dumps(index))
    open(d + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
oci("warn-image", layer("warn.tar", {"GNU.sparse.major": "2", "GNU.sparse.minor": "0"}))
oci("good-image", layer("good.tar", {}))
PY

warning="Unrecognized GNU sparse file format"

# warned WHAT FILE: FILE holds the warning, naming the entry.
warned() {
  if grep -q "warning: .*entry etc/motd: .*$warning" "$2"; then pass; else fail "$1: no warning: $(cat "$2")"; fi
}
# quiet WHAT FILE: FILE says nothing of it.
unwarned() {
  if grep -q "$warning" "$2"; then fail "$1: $(cat "$2")"; else pass; fi
}

"$REPROIMG" digest "$work/warn.tar" > "$work/out" 2> "$work/err"
warned "digest LAYER" "$work/err"
"$REPROIMG" digest -q "$work/warn.tar" > "$work/out" 2> "$work/err"
unwarned "digest -q LAYER" "$work/err"
"$REPROIMG" digest "$work/good.tar" > "$work/out" 2> "$work/err"
unwarned "digest of a layer without the warning" "$work/err"

"$REPROIMG" digest "oci:$work/warn-image" > "$work/out" 2> "$work/err"
warned "digest IMAGE" "$work/err"
"$REPROIMG" digest --canonical "oci:$work/warn-image" > "$work/out" 2> "$work/err"
warned "digest --canonical IMAGE" "$work/err"
if [ "$(grep -c "$warning" "$work/err")" = 1 ]; then pass; else fail "digest --canonical IMAGE: said once: $(cat "$work/err")"; fi

# diff: layers with the same diff_id are only hashed, others indexed; either way the warning is a
# note of the report and said on stderr.
cp -r "$work/warn-image" "$work/warn-image-copy"
"$REPROIMG" diff --format json "oci:$work/warn-image" "oci:$work/warn-image-copy" > "$work/out" 2> "$work/err"
warned "diff IMAGE IMAGE (same diff_id)" "$work/err"
if grep -q "warning: .*$warning" "$work/out"; then pass; else fail "diff IMAGE IMAGE: not in the notes: $(cat "$work/out")"; fi
"$REPROIMG" diff "$work/warn.tar" "$work/good.tar" > "$work/out" 2> "$work/err" || true
warned "diff LAYER LAYER" "$work/err"

# build: the base image's layers are kept as they are, read once for the tree; an ADD archive.
mkdir -p "$work/ctx"
printf 'FROM oci:%s\nCMD ["true"]\n' "$work/warn-image" > "$work/ctx/Dockerfile"
"$REPROIMG" build "$work/ctx" -o "$work/built" > "$work/out" 2> "$work/err"
warned "build FROM IMAGE" "$work/err"
mkdir -p "$work/ctx2"
cp "$work/warn.tar" "$work/ctx2/"
printf 'FROM scratch\nADD warn.tar /\n' > "$work/ctx2/Dockerfile"
"$REPROIMG" build "$work/ctx2" -o "$work/built2" > "$work/out" 2> "$work/err"
warned "build ADD ARCHIVE" "$work/err"

finish
