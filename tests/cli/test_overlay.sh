#!/usr/bin/env bash
# The image overlay (image/overlay.hpp) against a real client: an image's flattened filesystem, as
# `reproimg diff IMAGE dir:ROOTFS` compares it, is the tree `umoci unpack` extracts.
#
# 1. Images made here with umoci from layers that exercise each rule (whiteouts and opaque markers
#    acting on lower layers only, in any order within their layer; whiteouts of nothing; a file
#    replacing a directory and the other way round; hardlinks whose data's path is whited out or
#    replaced, twice over; an opaque root): umoci's rootfs is first checked against the tree the
#    OCI image spec gives, then compared with reproimg's flattening.
# 2. Every image of the conformance corpora with a whiteout in it (go-containerregistry's
#    whiteout_image.tar and whiteout_dir.tar, dive's Docker and kaniko 14-layer images, regclient's
#    layer-wh.tar on layers that give it something to remove) and go-containerregistry's
#    overwritten_file.tar, moved to OCI layouts by skopeo; the corpora are scanned so that a new
#    whiteout image is not left out. Skipped with a notice where the corpora are absent.
#
# What unpacking changes and is not a difference: nothing, as root (owners, modes and mtimes are
# kept, those of parent directories restored after each entry) but
#  - owner names: a directory holds numeric owners only (owner-name is ignored);
#  - the mode of a symlink, which Linux does not keep (lstat says 0777; umoci does not try): a
#    `mode` difference on a path that is a symlink in the rootfs, with 0777 there, is accepted;
#  - not as root, umoci unpacks with --rootless and cannot chown: owner-id is ignored too, and said.
set -euo pipefail
# shellcheck source=tests/cli/common.sh
source "$(dirname "$0")/common.sh"
need_tools umoci skopeo
cd "$work"
umask 022

umoci_flags=()
ignore=(--ignore owner-name)
if ! is_root; then
  umoci_flags=(--rootless)
  ignore=(--ignore owner-name --ignore owner-id)
  echo "NOTE: not root: umoci unpacks --rootless and cannot chown: owners are not compared"
fi

# same_tree NAME IMAGE ROOTFS: reproimg's flattening of IMAGE is the tree umoci unpacked.
same_tree() {
  local name=$1 image=$2 rootfs=$3 rc=0 out
  out=$(basename "$name")
  "$REPROIMG" diff "$image" "dir:$rootfs" --format json "${ignore[@]}" > "$out.diff.json" 2> "$out.err" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
    fail "$name: reproimg diff exit $rc: $(head -c 400 "$out.err")"
    return
  fi
  local left
  left=$("$PY" - "$out.diff.json" "$rootfs" <<'EOF'
import json, os, stat, sys
doc = json.load(open(sys.argv[1]))
for d in doc["differences"]:
    path = d.get("path")
    if d["cause"] == "mode" and path and set(d["attributes"]) == {"mode"} and d["attributes"]["mode"][1] == "0777":
        if stat.S_ISLNK(os.lstat(os.path.join(sys.argv[2], path)).st_mode):
            continue  # a symlink's mode: not kept by Linux
    print(d["cause"], path, json.dumps(d.get("attributes", {}))[:200])
EOF
  )
  equal "$name: differences between reproimg's flattening and umoci's unpack" "" "$left"
  echo "compared: $name ($(find "$rootfs" -mindepth 1 | wc -l) paths)"
}

# unpack NAME IMAGE: umoci's rootfs of IMAGE in NAME.bundle/rootfs.
unpack() {
  umoci unpack "${umoci_flags[@]}" --image "$2" "$1.bundle" > /dev/null
}

# --- 1. the rules, in images umoci makes ----------------------------------------------------------
mkdir layers
"$PY" - layers <<'EOF'
import io, sys, tarfile

def layer(name, entries):
    with tarfile.open(sys.argv[1] + "/" + name + ".tar", "w", format=tarfile.PAX_FORMAT) as tf:
        for kind, path, *rest in entries:
            ti = tarfile.TarInfo(path)
            ti.mtime = 1700000000
            ti.mode = 0o644
            data = None
            if kind == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = rest[0] if rest else 0o755
            elif kind == "file":
                data = rest[0].encode()
                ti.mode = rest[1] if len(rest) > 1 else 0o644
            elif kind == "link":
                ti.type = tarfile.LNKTYPE
                ti.linkname = rest[0]
            elif kind == "sym":
                ti.type = tarfile.SYMTYPE
                ti.linkname = rest[0]
                ti.mode = 0o777
            elif kind == "wh":
                data = b""
            if data is not None:
                ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data) if data is not None else None)

layer("rules1", [
    ("dir", "d"), ("file", "d/keep", "keep\n"), ("dir", "d/sub"), ("file", "d/sub/x", "x\n"),
    ("dir", "wd"), ("file", "wd/a", "a\n"), ("dir", "wd/b"), ("file", "wd/b/c", "c\n"),
    ("dir", "op", 0o700), ("file", "op/old", "old\n"), ("dir", "op/deep"), ("file", "op/deep/y", "y\n"),
    ("file", "f2d", "file\n"),
    ("dir", "d2f"), ("file", "d2f/child", "child\n"), ("dir", "d2f/sub"), ("file", "d2f/sub/g", "g\n"),
    ("dir", "dirsym"), ("file", "dirsym/z", "z\n"),
    ("dir", "hl"), ("file", "hl/data", "hl-data\n", 0o640), ("link", "hl/link1", "hl/data"),
    ("link", "hl/link2", "hl/data"),
    ("dir", "hr"), ("file", "hr/data", "hr-old\n"), ("link", "hr/link", "hr/data"),
    ("dir", "hs"), ("file", "hs/data", "hs-data\n"), ("link", "hs/link", "hs/data"),
    ("dir", "same"), ("file", "same/file", "same-old\n"),
])
# Markers after the entries they must spare (umoci and containerd apply in stream order; the spec
# says the order does not matter); a hardlink to a lower file its own layer whites out, before
# the whiteout (the order in which a stream-order extractor can make it).
layer("rules2", [
    ("dir", "op", 0o755), ("file", "op/new", "new\n"), ("wh", "op/.wh..wh..opq"),
    ("wh", ".wh.wd"),
    ("dir", "f2d"), ("file", "f2d/inside", "inside\n"),
    ("file", "d2f", "now a file\n"),
    ("sym", "dirsym", "d"),
    ("wh", "hl/.wh.data"),
    ("file", "hr/data", "hr-new\n"),
    ("link", "hs/newlink", "hs/data"), ("wh", "hs/.wh.data"),
    ("file", "same/file", "same-new\n"), ("wh", "same/.wh.file"),
    ("wh", ".wh.nonexistent"), ("wh", "d/.wh.ghost"), ("wh", "d/sub/.wh.x"), ("wh", "d/keep/.wh.below-a-file"),
    ("wh", "nodir/.wh..wh..opq"), ("wh", ".wh..wh.plnk"),
])
layer("rules3", [
    ("wh", "op/.wh.new"),
    ("dir", "dirsym"), ("file", "dirsym/w", "w\n"),
    ("wh", "hl/.wh.link1"),
])
layer("root1", [("file", "a", "a\n"), ("dir", "b"), ("file", "b/c", "c\n")])
layer("root2", [("file", "n", "n\n"), ("wh", ".wh..wh..opq")])
EOF
umoci init --layout rules.oci
umoci new --image rules.oci:rules
for l in rules1 rules2 rules3; do umoci raw add-layer --image rules.oci:rules "layers/$l.tar"; done
umoci new --image rules.oci:root
for l in root1 root2; do umoci raw add-layer --image rules.oci:root "layers/$l.tar"; done
unpack rules rules.oci:rules
unpack root rules.oci:root

# tree ROOTFS: path, type, mode, link count, content or symlink target; the root left out.
tree() {
  "$PY" - "$1" <<'EOF'
import os, stat, sys
root = sys.argv[1]
paths = sorted(os.path.relpath(os.path.join(d, n), root) for d, dirs, files in os.walk(root) for n in dirs + files)
for rel in paths:
        p = os.path.join(root, rel)
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            what = "symlink -> " + os.readlink(p)
        elif stat.S_ISDIR(st.st_mode):
            what = "dir"
        else:
            what = "file " + repr(open(p).read())
        print(rel, oct(stat.S_IMODE(st.st_mode)), st.st_nlink if not stat.S_ISDIR(st.st_mode) else "-", what)
EOF
}
# What the spec says the three layers give: wd whited out with what is below it; op opaque (its
# new mode kept, its lower content gone, op/new spared by its own layer's marker and whited out
# by the next layer); d/sub/x whited out, the whiteouts of nothing ignored; f2d now a directory,
# d2f now a file, dirsym a symlink then a directory again (z gone with the first replacement);
# hl/data whited out, then hl/link1 that had taken its data: hl/link2 keeps it; hr/link keeps
# the old data of the replaced hr/data; hs/newlink, linked to hs/data in the layer that whites
# hs/data out, shares the data with hs/link; same/file of the layer that whites it out stays.
cat > rules.expected <<'EOF'
d 0o755 - dir
d/keep 0o644 1 file 'keep\n'
d/sub 0o755 - dir
d2f 0o644 1 file 'now a file\n'
dirsym 0o755 - dir
dirsym/w 0o644 1 file 'w\n'
f2d 0o755 - dir
f2d/inside 0o644 1 file 'inside\n'
hl 0o755 - dir
hl/link2 0o640 1 file 'hl-data\n'
hr 0o755 - dir
hr/data 0o644 1 file 'hr-new\n'
hr/link 0o644 1 file 'hr-old\n'
hs 0o755 - dir
hs/link 0o644 2 file 'hs-data\n'
hs/newlink 0o644 2 file 'hs-data\n'
op 0o755 - dir
same 0o755 - dir
same/file 0o644 1 file 'same-new\n'
EOF
cat > root.expected <<'EOF'
n 0o644 1 file 'n\n'
EOF
tree rules.bundle/rootfs > rules.got
tree root.bundle/rootfs > root.got
same_bytes "umoci's unpack of the rules image is the spec's tree" rules.expected rules.got
same_bytes "umoci's unpack of an opaque root is the spec's tree" root.expected root.got
same_tree rules oci:rules.oci:rules rules.bundle/rootfs
same_tree opaque-root oci:rules.oci:root root.bundle/rootfs

# build sees its base through the same overlay: d/sub went with d when a file replaced it, so a
# COPY into d/sub after d is a directory again makes a new d/sub (0755, root), not the old one
# (0700, uid 7); umoci's unpack of the result is again reproimg's flattening.
"$PY" - layers <<'EOF'
import io, sys, tarfile
def layer(name, entries):
    with tarfile.open(sys.argv[1] + "/" + name + ".tar", "w", format=tarfile.PAX_FORMAT) as tf:
        for path, mode, uid, data in entries:
            ti = tarfile.TarInfo(path)
            ti.mtime, ti.mode, ti.uid, ti.gid = 1700000000, mode, uid, uid
            if data is None:
                ti.type = tarfile.DIRTYPE
            else:
                ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data) if data is not None else None)
layer("base1", [("d", 0o755, 0, None), ("d/sub", 0o700, 7, None), ("d/sub/old", 0o644, 7, b"old\n")])
layer("base2", [("d", 0o644, 0, b"a file\n")])
layer("base3", [("d", 0o755, 0, None)])
EOF
umoci new --image rules.oci:base
for l in base1 base2 base3; do umoci raw add-layer --image rules.oci:base "layers/$l.tar"; done
mkdir ctx
echo new > ctx/new
printf 'FROM oci:rules.oci:base\nCOPY new /d/sub/new\n' > ctx/Dockerfile
"$REPROIMG" build -q -f ctx/Dockerfile ctx --tag built -o built.oci
unpack built built.oci:built
equal "build: COPY into a directory a file replaced: a new directory" "755 new" \
  "$(stat -c %a built.bundle/rootfs/d/sub) $(ls built.bundle/rootfs/d/sub)"
if is_root; then
  equal "build: COPY into a directory a file replaced: its owner" 0:0 "$(stat -c %u:%g built.bundle/rootfs/d/sub)"
fi
same_tree build oci:built.oci:built built.bundle/rootfs

# --- 2. the conformance corpora's whiteout images -------------------------------------------------
corpus=${REPROIMG_CONFORMANCE_DIR:-}
if [ -z "$corpus" ] || [ ! -d "$corpus" ]; then
  echo "NOTE: no conformance corpora (REPROIMG_CONFORMANCE_DIR='$corpus'): their whiteout images are not compared"
  finish
fi

archives=(
  go-containerregistry/pkg/v1/mutate/testdata/whiteout_image.tar
  go-containerregistry/pkg/v1/mutate/testdata/whiteout_dir.tar # a kaniko-style tarball, 4 layers
  go-containerregistry/pkg/v1/mutate/testdata/overwritten_file.tar # no whiteout: a file replaced by a symlink
  dive/data/test-docker-image.tar
  dive/data/test-kaniko-image.tar
)
layer_files=(regclient/testdata/layer-wh.tar) # a lone layer: put on layers here

# Every file of the image corpora with a whiteout in it (in a layer of an image, or a layer) is
# one of the above.
listed=$(printf '%s\n' "${archives[@]}" "${layer_files[@]}" | sort)
found=$("$PY" - "$corpus" <<'EOF'
import io, os, sys, tarfile
root = sys.argv[1]
def has_whiteout(data, depth):
    try:
        tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
        members = tf.getmembers()
    except Exception:
        return False
    if any(os.path.basename(m.name.rstrip("/")).startswith(".wh.") for m in members):
        return True
    return depth == 0 and any(m.isfile() and m.size < (32 << 20) and has_whiteout(tf.extractfile(m).read(), 1)
                              for m in members)
for corpus in ("go-containerregistry", "containers-image", "regclient", "dive"):
    for dirpath, _, files in os.walk(os.path.join(root, corpus)):
        for f in files:
            p = os.path.join(dirpath, f)
            if os.path.getsize(p) < (32 << 20) and has_whiteout(open(p, "rb").read(), 0):
                print(os.path.relpath(p, root))
EOF
)
found=$(sort <<< "$found")
uncovered=$(comm -13 <(echo "$listed") <(echo "$found"))
equal "whiteout files of the corpora this test does not compare" "" "$uncovered"

n=0
for f in "${archives[@]}"; do
  if [ ! -f "$corpus/$f" ]; then
    echo "NOTE: $f is absent: not compared"
    continue
  fi
  n=$((n + 1))
  skopeo copy -q "docker-archive:$corpus/$f" "oci:fixture$n.oci:t"
  unpack "fixture$n" "fixture$n.oci:t"
  same_tree "$f" "oci:fixture$n.oci:t" "fixture$n.bundle/rootfs"
done

# regclient's layer-wh.tar (.wh.layer2.txt, exdir/.wh..wh..opq) over its own layer.tar
# (layer1-3.txt) and a layer of ours that fills exdir.
f=regclient/testdata/layer-wh.tar
if [ -f "$corpus/$f" ] && [ -f "$corpus/regclient/testdata/layer.tar" ]; then
  mkdir -p exdir-layer/exdir/sub
  echo lower > exdir-layer/exdir/lower.txt
  echo deep > exdir-layer/exdir/sub/deep.txt
  tar -C exdir-layer --numeric-owner -cf exdir.tar exdir
  umoci init --layout regclient.oci
  umoci new --image regclient.oci:t
  for l in "$corpus/regclient/testdata/layer.tar" exdir.tar "$corpus/$f"; do
    umoci raw add-layer --image regclient.oci:t "$l"
  done
  unpack regclient regclient.oci:t
  equal "$f: umoci's unpack" "exdir layer1.txt layer3.txt" "$(cd regclient.bundle/rootfs && find . -mindepth 1 | sed 's|^\./||' | sort | tr '\n' ' ' | sed 's/ $//')"
  same_tree "$f" oci:regclient.oci:t regclient.bundle/rootfs
else
  echo "NOTE: $f is absent: not compared"
fi

finish
