#!/usr/bin/env bash
# Regenerates corpus/cases/: pairs of inputs that differ for one known cause each, made by real tools.
#
# Usage: REPROIMG=path/to/reproimg corpus/generate.sh [OUT_DIR]   (default OUT_DIR: corpus/cases)
#
# Every case is a directory OUT_DIR/<case>/ with two inputs, a.<kind> and b.<kind>, and `expected`:
#   line 1   verdict: identical|equivalent|different
#   line 2   args: EXTRA DIFF ARGS            (optional)
#   then     <cause><TAB><path>               one line per expected difference record
# <kind> says how to name the input to `reproimg diff`: .tar/.tar.gz/.tar.zst -> tar:FILE, .oci -> oci:DIR.
# corpus/README.md lists the cases. Times are fixed (touch -d, tar --mtime), the time zone is UTC and
# SOURCE_DATE_EPOCH is unset, so a rerun with the same tool versions gives the same bytes (an ar archive
# also records the caller's uid and gid: the same on both sides of its pair).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/cases}
: "${REPROIMG:?set REPROIMG to the reproimg binary (it builds the image cases)}"
REPROIMG=$(cd "$(dirname "$REPROIMG")" && pwd)/$(basename "$REPROIMG")

for t in tar bsdtar gzip zstd zip ar setfattr skopeo umoci; do
  command -v "$t" >/dev/null || { echo "generate.sh: $t is missing (scripts/install-deps.sh installs it)" >&2; exit 2; }
done
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

export TZ=UTC LC_ALL=C.UTF-8
unset SOURCE_DATE_EPOCH
umask 022

work=$(mktemp -d "${TMPDIR:-/tmp}/corpus-gen.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
# A case renamed or dropped from this script must not linger: remove every old case first.
for old in "$out"/*/expected; do
  [ -e "$old" ] && rm -rf "$(dirname "$old")"
done

T0=1600000000 # 2020-09-13 12:26:40 UTC: the time of every file
T1=1600086400 # a day later: the "other" time
E1=1700000000 # 2023-11-14: SOURCE_DATE_EPOCH of one image build
E2=1700086400 # a day later

# --- helpers ----------------------------------------------------------------------------------

# base_tree DIR: the small rootfs every layer case starts from.
base_tree() {
  local d=$1
  mkdir -p "$d/etc" "$d/usr/bin" "$d/var/lib/app"
  printf 'corpus\n' > "$d/etc/hostname"
  printf 'ID=corpus\nVERSION_ID=1\n' > "$d/etc/os-release"
  printf '#!/bin/sh\necho tool\n' > "$d/usr/bin/tool"
  chmod 755 "$d/usr/bin/tool"
  printf 'state=1\n' > "$d/var/lib/app/state"
}

# stamp DIR [TIME]: every entry's mtime (and atime) set to TIME (default T0); symlinks themselves too.
stamp() {
  find "$1" -exec touch -h -d "@${2:-$T0}" {} +
}

# entries DIR: the relative paths under DIR in byte order (parents first), NUL-terminated, less
# the paths in the array $skip.
skip=()
entries() {
  (cd "$1" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) | while IFS= read -r p; do
    local x
    for x in "${skip[@]}"; do [ "$p" = "$x" ] && continue 2; done
    printf '%s\0' "$p"
  done
}

# gnutar DIR OUT [TAR OPTIONS...]: GNU tar, gnu format, root-owned, entries in byte order.
# Options after OUT override the defaults (--format, --owner, ...).
gnutar() {
  local d=$1 o=$2
  shift 2
  entries "$d" | tar -C "$d" --format=gnu --owner=root:0 --group=root:0 "$@" --no-recursion --null -T - -cf "$o"
}

# xattr_capable_dir: a scratch directory on a file system that takes user.* extended attributes
# (tmpfs may not): under $work if it can, else beside the output.
xattr_capable_dir() {
  local d
  for d in "$work/.xattr-fs" "$out/.xattr-scratch"; do
    mkdir -p "$d"
    if touch "$d/.probe" && setfattr -n user.probe -v 1 "$d/.probe" 2>/dev/null; then
      rm -f "$d/.probe"
      echo "$d"
      return 0
    fi
    rm -rf "$d"
  done
  echo "generate.sh: no file system here takes user.* extended attributes" >&2
  return 1
}

# case_begin NAME: a fresh case directory $c and two fresh trees $ta $tb holding base_tree.
case_begin() {
  name=$1
  c=$out/$name
  rm -rf "$c" "${work:?}/$name"
  mkdir -p "$c"
  skip=()
  ta=$work/$name/a
  tb=$work/$name/b
  base_tree "$ta"
  base_tree "$tb"
}

# expect VERDICT [ARGS [OPTIONS]]: writes $c/expected, the cause<TAB>path lines read from stdin.
# OPTIONS, when given (even empty), are the normalize options the report must suggest.
expect() {
  {
    echo "verdict: $1"
    if [ -n "${2:-}" ]; then echo "args: $2"; fi
    if [ $# -ge 3 ]; then echo "options:${3:+ $3}"; fi
    # Accept "cause path" with any blank between; write one TAB.
    sed -e '/^[[:space:]]*$/d' -e 's/^\([a-z-]*\)[[:space:]]\{1,\}/\1\t/' -e 's/^\([a-z-]*\)$/\1\t/'
  } > "$c/expected"
  echo "  $name"
}

echo "generating into $out"

# --- identical and equivalent pairs ------------------------------------------------------------

# The same tree, made twice at different times and packed by GNU tar with fixed times and owners.
case_begin identical-gnutar
stamp "$ta"
sleep 1 # the second tree is packed later: its files' real times differ, stamp decides
rm -rf "$tb" && base_tree "$tb" && stamp "$tb"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect identical < /dev/null

# bsdtar and GNU tar over the same files, where the second one also lists them in reverse, records
# its own user name and keeps the real times: every difference is one `normalize` removes.
case_begin equivalent-bsdtar
stamp "$ta"
stamp "$tb" "$T1"
gnutar "$ta" "$c/a.tar"
# shellcheck disable=SC2046
(cd "$tb" && bsdtar -cf "$c/b.tar" --format ustar -n --uid 0 --gid 0 --uname builder --gname builder \
  $(find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort -r))
expect equivalent <<'EOF'
order
mtime etc
owner-name etc
mtime etc/hostname
owner-name etc/hostname
mtime etc/os-release
owner-name etc/os-release
mtime usr
owner-name usr
mtime usr/bin
owner-name usr/bin
mtime usr/bin/tool
owner-name usr/bin/tool
mtime var
owner-name var
mtime var/lib
owner-name var/lib
mtime var/lib/app
owner-name var/lib/app
mtime var/lib/app/state
owner-name var/lib/app/state
EOF

# --- one entry attribute each ---------------------------------------------------------------------

# One file touched a day later.
case_begin mtime
stamp "$ta"
stamp "$tb"
touch -d "@$T1" "$tb/etc/os-release"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect equivalent <<'EOF'
mtime etc/os-release
EOF

# GNU tar --mtime: every entry's time forced, to two different values.
case_begin mtime-tar-option
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar" --mtime="@$T0"
gnutar "$tb" "$c/b.tar" --mtime="@$T1"
expect equivalent <<'EOF'
mtime etc
mtime etc/hostname
mtime etc/os-release
mtime usr
mtime usr/bin
mtime usr/bin/tool
mtime var
mtime var/lib
mtime var/lib/app
mtime var/lib/app/state
EOF

# GNU tar in posix format records atime and ctime in pax headers (here pinned with atime:= and
# ctime:=, so the run is repeatable); only those records differ.
case_begin pax-time
rm -rf "${ta:?}/usr" "${ta:?}/var" "${tb:?}/usr" "${tb:?}/var"
stamp "$ta"
stamp "$tb"
pax_opts() { echo "--pax-option=exthdr.name=%d/PaxHeaders/%f,atime:=$1,ctime:=$1"; }
gnutar "$ta" "$c/a.tar" --format=posix "$(pax_opts 1600000100)"
gnutar "$tb" "$c/b.tar" --format=posix "$(pax_opts 1600000200)"
expect equivalent <<'EOF'
pax-time etc
pax-time etc/hostname
pax-time etc/os-release
EOF

# A numeric owner: the state file appended by a second tar run with another uid (same name).
case_begin owner-id
stamp "$ta"
stamp "$tb"
skip=(var/lib/app/state)
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
tar -C "$ta" --format=gnu --owner=app:1000 --group=app:1000 -rf "$c/a.tar" var/lib/app/state
tar -C "$tb" --format=gnu --owner=app:1001 --group=app:1000 -rf "$c/b.tar" var/lib/app/state
expect different <<'EOF'
owner-id var/lib/app/state
EOF

# A user and group name: the same ids, named by two different build hosts' passwd files.
case_begin owner-name
stamp "$ta"
stamp "$tb"
skip=(var/lib/app/state)
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
tar -C "$ta" --format=gnu --owner=alice:1000 --group=staff:1000 -rf "$c/a.tar" var/lib/app/state
tar -C "$tb" --format=gnu --owner=bobby:1000 --group=users:1000 -rf "$c/b.tar" var/lib/app/state
expect equivalent <<'EOF'
owner-name var/lib/app/state
EOF

# An mtime and a user name of the same entry: two records, one per cause.
case_begin mtime-and-owner-name
stamp "$ta"
stamp "$tb"
touch -d "@$T1" "$tb/var/lib/app/state"
skip=(var/lib/app/state)
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
tar -C "$ta" --format=gnu --owner=alice:1000 --group=app:1000 -rf "$c/a.tar" var/lib/app/state
tar -C "$tb" --format=gnu --owner=bobby:1000 --group=app:1000 -rf "$c/b.tar" var/lib/app/state
expect equivalent <<'EOF'
mtime var/lib/app/state
owner-name var/lib/app/state
EOF

# The umask of the shell that wrote a file: 022 against 002 (group-writable).
case_begin mode
rm "$tb/var/lib/app/state"
(umask 002 && printf 'state=1\n' > "$tb/var/lib/app/state")
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect different <<'EOF'
mode var/lib/app/state
EOF

# A user.* extended attribute set with setfattr, archived by GNU tar --xattrs (pax SCHILY.xattr).
case_begin xattr
xattr_dir=$(xattr_capable_dir)
for t in "$ta" "$tb"; do
  rm -rf "${t:?}/usr" "${t:?}/var"
  mkdir -p "$xattr_dir/$(basename "$t")"
  cp -a "$t/." "$xattr_dir/$(basename "$t")/"
done
setfattr -n user.origin -v build-host-one "$xattr_dir/a/etc/hostname"
setfattr -n user.origin -v build-host-two "$xattr_dir/b/etc/hostname"
stamp "$xattr_dir/a"
stamp "$xattr_dir/b"
# shellcheck disable=SC2054 # the commas are inside one --pax-option argument
xattr_opts=(--format=posix --xattrs --xattrs-include='user.*'
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)
gnutar "$xattr_dir/a" "$c/a.tar" "${xattr_opts[@]}"
gnutar "$xattr_dir/b" "$c/b.tar" "${xattr_opts[@]}"
rm -rf "${xattr_dir:?}"
expect equivalent <<'EOF'
xattr etc/hostname
EOF

# The same through Python's tarfile: a SCHILY.xattr pax record written by hand.
case_begin xattr-python-tarfile
rm -rf "$ta" "$tb"
pytar_xattr() {
  "$PY" - "$1" "$2" "$T0" <<'EOF'
import io, sys, tarfile
out, value, t0 = sys.argv[1], sys.argv[2], int(sys.argv[3])
def info(name, kind, mode, data=b""):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime = kind, mode, t0
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    ti.size = len(data)
    return ti
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tf:
    tf.addfile(info("usr", tarfile.DIRTYPE, 0o755))
    tf.addfile(info("usr/bin", tarfile.DIRTYPE, 0o755))
    data = b"#!/bin/sh\necho tool\n"
    ti = info("usr/bin/tool", tarfile.REGTYPE, 0o755, data)
    ti.pax_headers = {"SCHILY.xattr.user.mime_type": value}
    tf.addfile(ti, io.BytesIO(data))
EOF
}
pytar_xattr "$c/a.tar" text/x-sh
pytar_xattr "$c/b.tar" text/plain
expect equivalent <<'EOF'
xattr usr/bin/tool
EOF

# --- layer-wide: order, encoding, compression ---------------------------------------------------

# The same entries given to GNU tar in another order (what a directory listing does).
case_begin order
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar"
(cd "$tb" && find . -mindepth 1 -printf '%P\0' | LC_ALL=C sort -z -r) |
  tar -C "$tb" --format=gnu --owner=root:0 --group=root:0 --no-recursion --null -T - -cf "$c/b.tar"
expect equivalent <<'EOF'
order
EOF

# The same pair, accepted: --accept-normalizable makes the exit code 0, the verdict stays.
case_begin order-accept-normalizable
rm -rf "$ta" "$tb"
cp "$out/order/a.tar" "$out/order/b.tar" "$c/"
expect equivalent "--accept-normalizable" <<'EOF'
order
EOF

# GNU tar's gnu dialect against its ustar dialect: same entries, same metadata, other header bytes.
case_begin tar-encoding-gnu-ustar
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar" --format=gnu
gnutar "$tb" "$c/b.tar" --format=ustar
expect equivalent <<'EOF'
tar-encoding
EOF

# Python's tarfile against GNU tar, both ustar: tarfile leaves devmajor/devminor as NULs.
case_begin tar-encoding-python-tarfile
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar" --format=ustar
"$PY" - "$tb" "$c/b.tar" <<'EOF'
import os, sys, tarfile
root, out = sys.argv[1], sys.argv[2]
paths = []
for d, dirs, files in os.walk(root):
    for n in dirs + files:
        paths.append(os.path.relpath(os.path.join(d, n), root))
def owner(ti):
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    ti.mtime = int(ti.mtime)
    return ti
with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as tf:
    for p in sorted(paths, key=os.fsencode):
        tf.add(os.path.join(root, p), arcname=p, recursive=False, filter=owner)
EOF
expect equivalent <<'EOF'
tar-encoding
EOF

# GNU tar's blocking factor: records of 512 bytes (-b 1) against the default 10240: the same
# headers, but less padding after the end-of-archive blocks.
case_begin tar-encoding-padding
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar" --blocking-factor=1
expect equivalent <<'EOF'
tar-encoding
EOF

# compressible_tree DIR: base_tree plus a few KB of text, so that gzip levels give different bytes.
compressible_tree() {
  mkdir -p "$1/usr/share/doc/tool"
  "$PY" -c '
import sys
words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
for i in range(300):
    print(" ".join(words[(i * 7 + j * 3) % len(words)] for j in range(i % 11 + 3)), i)
' > "$1/usr/share/doc/tool/NEWS"
}

# gzip -1 against gzip -9 of the same tar (both -n: no name, no time).
case_begin compression-gzip-level
compressible_tree "$ta"
stamp "$ta"
gnutar "$ta" "$work/layer.tar"
gzip -n -1 -c "$work/layer.tar" > "$c/a.tar.gz"
gzip -n -9 -c "$work/layer.tar" > "$c/b.tar.gz"
expect equivalent <<'EOF'
compression
EOF

# gzip with and without -n: the header stores the file name and its mtime, or neither.
case_begin compression-gzip-header
compressible_tree "$ta"
stamp "$ta"
gnutar "$ta" "$work/layer.tar"
touch -d "@$T1" "$work/layer.tar"
gzip -n -6 -c "$work/layer.tar" > "$c/a.tar.gz"
gzip -6 -k -f "$work/layer.tar" && mv "$work/layer.tar.gz" "$c/b.tar.gz"
expect equivalent <<'EOF'
compression
EOF

# gzip against zstd of the same tar.
case_begin compression-gzip-zstd
compressible_tree "$ta"
stamp "$ta"
gnutar "$ta" "$work/layer.tar"
gzip -n -9 -c "$work/layer.tar" > "$c/a.tar.gz"
zstd -q -19 -c "$work/layer.tar" > "$c/b.tar.zst"
expect equivalent <<'EOF'
compression
EOF

# --- what a file is ------------------------------------------------------------------------------

# A second name for a file: a hard link in A, a copy in B; both paths are linked in one side only.
case_begin hardlink
ln "$ta/usr/bin/tool" "$ta/usr/bin/tool-alias"
cp -p "$tb/usr/bin/tool" "$tb/usr/bin/tool-alias"
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect different <<'EOF'
hardlink usr/bin/tool
hardlink usr/bin/tool-alias
EOF

# Two equal files and a third name hard-linked to the first in A, to the second in B: every one of
# the three paths is linked differently.
case_begin hardlink-target
for t in "$ta" "$tb"; do
  cp -p "$t/usr/bin/tool" "$t/usr/bin/tool-copy"
done
ln "$ta/usr/bin/tool" "$ta/usr/bin/tool-link"
ln "$tb/usr/bin/tool-copy" "$tb/usr/bin/tool-link"
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect different <<'EOF'
hardlink usr/bin/tool
hardlink usr/bin/tool-copy
hardlink usr/bin/tool-link
EOF

# etc/localtime as a copied file in A and a symlink in B: one record, even though mode and size differ too.
case_begin type
printf 'TZif2 UTC\n' > "$ta/etc/localtime"
ln -s /usr/share/zoneinfo/Etc/UTC "$tb/etc/localtime"
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect different <<'EOF'
type etc/localtime
EOF

# An alternatives symlink pointing at two different editors.
case_begin link-target
mkdir -p "$ta/etc/alternatives" "$tb/etc/alternatives"
ln -s /usr/bin/vim.basic "$ta/etc/alternatives/editor"
ln -s /usr/bin/nano.tiny "$tb/etc/alternatives/editor"
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect different <<'EOF'
link-target etc/alternatives/editor
EOF

# A text file whose content differs (a version number).
case_begin content-text
printf 'ID=corpus\nVERSION_ID=2\n' > "$tb/etc/os-release"
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect different <<'EOF'
content etc/os-release
EOF

# A binary file whose content differs in a few bytes, same size.
case_begin content-binary
mkdir -p "$ta/usr/lib/tool" "$tb/usr/lib/tool"
"$PY" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 4)' > "$ta/usr/lib/tool/table.bin"
"$PY" -c '
import sys
b = bytearray(bytes(range(256)) * 4)
b[600:604] = b"\xde\xad\xbe\xef"
sys.stdout.buffer.write(bytes(b))' > "$tb/usr/lib/tool/table.bin"
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect different <<'EOF'
content usr/lib/tool/table.bin
EOF

# A file with a UTF-8 name (GNU tar stores the bytes as they are): the report must name it the same
# way under every locale.
case_begin content-utf8-name
for t in "$ta" "$tb"; do mkdir -p "$t/usr/share/doc/tool"; done
printf 'menu: café crème\n' > "$ta/usr/share/doc/tool/café.txt"
printf 'menu: café noir\n' > "$tb/usr/share/doc/tool/café.txt"
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect different <<'EOF'
content usr/share/doc/tool/café.txt
EOF

# --- timestamps embedded in the content ------------------------------------------------------

# A changelog compressed by gzip without -n: the gzip header stores the source file's mtime.
case_begin embedded-timestamp-gzip
for t in "$ta" "$tb"; do
  mkdir -p "$t/usr/share/doc/tool"
  printf 'tool (1.0) unstable; urgency=low\n\n  * Initial release.\n' > "$t/usr/share/doc/tool/changelog"
done
touch -d "@$T0" "$ta/usr/share/doc/tool/changelog"
touch -d "@$T1" "$tb/usr/share/doc/tool/changelog"
gzip -9 "$ta/usr/share/doc/tool/changelog"
gzip -9 "$tb/usr/share/doc/tool/changelog"
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect different <<'EOF'
embedded-timestamp usr/share/doc/tool/changelog.gz
EOF

# A jar-like zip (zip -X: no extra fields) of the same two files with different mtimes: the DOS
# date and time of each entry differ.
zip_case() {
  local flags=$1
  for t in "$ta" "$tb"; do
    mkdir -p "$t/usr/share/java" "$work/$name/src-$(basename "$t")/META-INF"
    local s
    s=$work/$name/src-$(basename "$t")
    printf 'Manifest-Version: 1.0\n' > "$s/META-INF/MANIFEST.MF"
    printf 'greeting=hello\n' > "$s/app.properties"
  done
  stamp "$work/$name/src-a" "$T0"
  stamp "$work/$name/src-b" "$T1"
  for side in a b; do
    local t=$work/$name/$side
    # shellcheck disable=SC2086
    (cd "$work/$name/src-$side" && zip -q $flags "$t/usr/share/java/app.jar" META-INF/MANIFEST.MF app.properties)
  done
  stamp "$ta"
  stamp "$tb"
  gnutar "$ta" "$c/a.tar"
  gnutar "$tb" "$c/b.tar"
}
case_begin embedded-timestamp-zip
zip_case -X
expect different <<'EOF'
embedded-timestamp usr/share/java/app.jar
EOF

# The same with zip's defaults: the extended-timestamp ("UT") and unix ("ux") extra fields too.
case_begin embedded-timestamp-zip-extra-fields
zip_case ""
expect different <<'EOF'
embedded-timestamp usr/share/java/app.jar
EOF

# py_compile of the same source with two different source mtimes: the .pyc header stores it.
case_begin embedded-timestamp-pyc
pyc_tag=$("$PY" -c 'import sys; print(sys.implementation.cache_tag)')
pyc=usr/lib/python3/dist-packages/tool/__pycache__/__init__.$pyc_tag.pyc
for t in "$ta" "$tb"; do
  mkdir -p "$t/usr/lib/python3/dist-packages/tool"
  printf 'def greet(name):\n    return "hello, " + name\n' > "$t/usr/lib/python3/dist-packages/tool/__init__.py"
done
touch -d "@$T0" "$ta/usr/lib/python3/dist-packages/tool/__init__.py"
touch -d "@$T1" "$tb/usr/lib/python3/dist-packages/tool/__init__.py"
for t in "$ta" "$tb"; do
  "$PY" -c '
import py_compile, sys
py_compile.compile(sys.argv[1], cfile=sys.argv[2], dfile=sys.argv[3], doraise=True,
                   invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)' \
    "$t/usr/lib/python3/dist-packages/tool/__init__.py" "$t/$pyc" /usr/lib/python3/dist-packages/tool/__init__.py
done
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
printf 'embedded-timestamp %s\n' "$pyc" | expect different

# A static library made by ar in non-deterministic mode (U): each member header stores its mtime.
case_begin embedded-timestamp-ar
for side in a b; do
  s=$work/$name/src-$side
  mkdir -p "$s" "$work/$name/$side/usr/lib"
  printf 'int one(void) { return 1; }\n' > "$s/one.c"
  printf 'int two(void) { return 2; }\n' > "$s/two.c"
done
stamp "$work/$name/src-a" "$T0"
stamp "$work/$name/src-b" "$T1"
for side in a b; do
  (cd "$work/$name/src-$side" && ar rcU "$work/$name/$side/usr/lib/libtool.a" one.c two.c)
done
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect different <<'EOF'
embedded-timestamp usr/lib/libtool.a
EOF

# --- volatile paths ---------------------------------------------------------------------------------

# What dpkg, systemd-machine-id-setup and ldconfig leave behind: their contents differ, one
# volatile-path record each (the profile empties the log and machine-id, drops the aux-cache); the
# log's mtime differs too, an mtime record as on any path.
case_begin volatile-path
for side in a b; do
  t=$work/$name/$side
  mkdir -p "$t/var/log" "$t/var/cache/ldconfig"
done
printf '2020-09-13 12:26:40 startup archives unpack\n' > "$ta/var/log/dpkg.log"
printf '2020-09-14 12:26:40 startup archives unpack\n' > "$tb/var/log/dpkg.log"
printf '0123456789abcdef0123456789abcdef\n' > "$ta/etc/machine-id"
printf 'fedcba9876543210fedcba9876543210\n' > "$tb/etc/machine-id"
printf 'aux-cache\001\002' > "$ta/var/cache/ldconfig/aux-cache"
printf 'aux-cache\003\004' > "$tb/var/cache/ldconfig/aux-cache"
stamp "$ta"
stamp "$tb"
touch -d "@$T1" "$tb/var/log/dpkg.log"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect equivalent "" "--source-date-epoch $T0 --profile debian" <<'EOF'
volatile-path etc/machine-id
volatile-path var/cache/ldconfig/aux-cache
volatile-path var/log/dpkg.log
mtime var/log/dpkg.log
EOF

# What two debootstrap runs a minute apart leave in volatile paths with the same bytes: a package
# apt downloaded again (an ar archive, made with `ar rcD`), run/lock, the dpkg log. Only their mtimes
# differ: mtime records, which the epoch alone removes; the debian profile is not needed.
case_begin volatile-path-mtime
printf '2.0\n' > "$work/$name/debian-binary"
for side in a b; do
  t=$work/$name/$side
  mkdir -p "$t/var/cache/apt/archives" "$t/run/lock" "$t/var/log"
  (cd "$work/$name" && ar rcD "$t/var/cache/apt/archives/tool_1.0_all.deb" debian-binary)
  printf '2020-09-13 12:26:40 startup archives unpack\n' > "$t/var/log/dpkg.log"
done
stamp "$ta"
stamp "$tb"
touch -d "@$T1" "$tb/var/cache/apt/archives/tool_1.0_all.deb" "$tb/run/lock" "$tb/var/log/dpkg.log"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect equivalent "" "--source-date-epoch $T0" <<'EOF'
mtime run/lock
mtime var/cache/apt/archives/tool_1.0_all.deb
mtime var/log/dpkg.log
EOF

# A log the profile empties, packed on two build hosts whose passwd and group files name the same
# ids differently (GNU tar -r --owner/--group): an owner-name record, which normalize clears with no
# option at all.
case_begin volatile-path-owner-name
mkdir -p "$ta/var/log/apt" "$tb/var/log/apt"
printf 'Log started: 2020-09-13  12:26:40\n' > "$ta/var/log/apt/term.log"
printf 'Log started: 2020-09-13  12:26:40\n' > "$tb/var/log/apt/term.log"
stamp "$ta"
stamp "$tb"
skip=(var/log/apt/term.log)
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
tar -C "$ta" --format=gnu --owner=root:0 --group=adm:4 -rf "$c/a.tar" var/log/apt/term.log
tar -C "$tb" --format=gnu --owner=admin:0 --group=logs:4 -rf "$c/b.tar" var/log/apt/term.log
expect equivalent "" "" <<'EOF'
owner-name var/log/apt/term.log
EOF

# A log the debian profile does not cover (var/log/syslog): its contents are volatile-path, and the
# report names --exclude for it, not the profile.
case_begin volatile-path-not-in-profile
mkdir -p "$ta/var/log" "$tb/var/log"
printf 'Sep 13 12:26:40 corpus kernel: boot 1\n' > "$ta/var/log/syslog"
printf 'Sep 14 12:26:40 corpus kernel: boot 2\n' > "$tb/var/log/syslog"
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect equivalent "" "--exclude 'var/log/syslog'" <<'EOF'
volatile-path var/log/syslog
EOF

# --- added and removed -------------------------------------------------------------------------------

case_begin added
printf 'welcome\n' > "$tb/etc/motd"
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect different <<'EOF'
added etc/motd
EOF

case_begin removed
mkdir -p "$ta/usr/share/doc/tool"
printf 'read me\n' > "$ta/usr/share/doc/tool/README"
stamp "$ta"
stamp "$tb"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect different <<'EOF'
removed usr/share
removed usr/share/doc
removed usr/share/doc/tool
removed usr/share/doc/tool/README
EOF

# --- --ignore and --exclude --------------------------------------------------------------------------

# The mtime pair with --ignore mtime: nothing left, so identical (exit 0).
case_begin ignore-mtime
rm -rf "$ta" "$tb"
cp "$out/mtime-tar-option/a.tar" "$out/mtime-tar-option/b.tar" "$c/"
expect identical "--ignore mtime" < /dev/null

# mtime and content differences with --ignore mtime,owner-name: only the content is left.
case_begin ignore-partial
printf 'ID=corpus\nVERSION_ID=2\n' > "$tb/etc/os-release"
stamp "$ta"
stamp "$tb" "$T1"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar" --owner=builder:0 --group=builder:0
expect different "--ignore mtime,owner-name" <<'EOF'
content etc/os-release
EOF

# A build-info file that differs, excluded by a glob: identical.
case_begin exclude-glob
for t in "$ta" "$tb"; do mkdir -p "$t/usr/share/doc/tool"; done
printf 'built on host-one at 12:00\n' > "$ta/usr/share/doc/tool/buildinfo"
printf 'built on host-two at 13:00\n' > "$tb/usr/share/doc/tool/buildinfo"
stamp "$ta"
stamp "$tb"
touch -d "@$T1" "$tb/usr/share/doc/tool/buildinfo"
gnutar "$ta" "$c/a.tar"
gnutar "$tb" "$c/b.tar"
expect identical "--exclude usr/share/doc/tool/buildinfo" < /dev/null

# --- images ---------------------------------------------------------------------------------------

# image_rootfs TAR: the base tree as a layer tar, every time T0 (before both epochs: nothing clamped).
image_rootfs() {
  local d=$work/rootfs-$RANDOM$RANDOM
  base_tree "$d"
  stamp "$d"
  gnutar "$d" "$1"
}
img() { "$REPROIMG" "$@" -q; }

# The same rootfs imported twice: byte-identical layouts.
case_begin image-identical
image_rootfs "$work/$name.tar"
img import "$work/$name.tar" --source-date-epoch "$E1" --tag 1.0 -o "$c/a.oci"
img import "$work/$name.tar" --source-date-epoch "$E1" --tag 1.0 -o "$c/b.oci"
expect identical < /dev/null

# Two imports with different SOURCE_DATE_EPOCH: config "created" and the history entry's "created".
case_begin image-epoch
image_rootfs "$work/$name.tar"
img import "$work/$name.tar" --source-date-epoch "$E1" --tag 1.0 -o "$c/a.oci"
img import "$work/$name.tar" --source-date-epoch "$E2" --tag 1.0 -o "$c/b.oci"
expect equivalent <<'EOF'
config-created config:/created
config-history config:/history/0
EOF

# umoci config --created (without a history entry), applied to copies of one import.
umoci_pair() {
  local base=$work/$name.base
  image_rootfs "$work/$name.tar"
  img import "$work/$name.tar" --source-date-epoch "$E1" --tag 1.0 -o "$base"
  cp -a "$base" "$c/a.oci"
  cp -a "$base" "$c/b.oci"
  umoci config --image "$c/a.oci:1.0" --no-history "${umoci_a[@]}"
  umoci config --image "$c/b.oci:1.0" --no-history "${umoci_b[@]}"
  umoci gc --layout "$c/a.oci"
  umoci gc --layout "$c/b.oci"
}
case_begin image-created-umoci
umoci_a=(--created 2023-11-14T22:13:20Z)
umoci_b=(--created 2024-01-01T00:00:00Z)
umoci_pair
expect equivalent <<'EOF'
config-created config:/created
EOF

# A history comment: reproimg import --message.
case_begin image-history
image_rootfs "$work/$name.tar"
img import "$work/$name.tar" --source-date-epoch "$E1" --tag 1.0 -m "nightly build 41" -o "$c/a.oci"
img import "$work/$name.tar" --source-date-epoch "$E1" --tag 1.0 -m "nightly build 42" -o "$c/b.oci"
expect different <<'EOF'
config-history config:/history/0
EOF

# reproimg import --change 'ENV ...' with two values.
case_begin image-config-env
image_rootfs "$work/$name.tar"
img import "$work/$name.tar" --source-date-epoch "$E1" --tag 1.0 -c 'ENV TOOL_MODE=release' -o "$c/a.oci"
img import "$work/$name.tar" --source-date-epoch "$E1" --tag 1.0 -c 'ENV TOOL_MODE=debug' -o "$c/b.oci"
expect different <<'EOF'
config-field config:/config/Env
EOF

# reproimg import --change 'LABEL ...': a build id label.
case_begin image-config-labels
image_rootfs "$work/$name.tar"
img import "$work/$name.tar" --source-date-epoch "$E1" --tag 1.0 -c 'LABEL org.example.build-id=41' -o "$c/a.oci"
img import "$work/$name.tar" --source-date-epoch "$E1" --tag 1.0 -c 'LABEL org.example.build-id=42' -o "$c/b.oci"
expect different <<'EOF'
config-field config:/config/Labels
EOF

# reproimg import --platform: the same rootfs declared for two architectures.
case_begin image-config-architecture
image_rootfs "$work/$name.tar"
img import "$work/$name.tar" --source-date-epoch "$E1" --tag 1.0 --platform linux/amd64 -o "$c/a.oci"
img import "$work/$name.tar" --source-date-epoch "$E1" --tag 1.0 --platform linux/arm64 -o "$c/b.oci"
expect different <<'EOF'
config-field config:/architecture
EOF

# Manifest annotations set by umoci (the config is rewritten by umoci on both sides alike).
case_begin image-manifest-annotations
umoci_a=(--manifest.annotation org.opencontainers.image.revision=41)
umoci_b=(--manifest.annotation org.opencontainers.image.revision=42)
umoci_pair
expect different <<'EOF'
manifest manifest:/annotations
EOF

# skopeo copy re-compresses the layer with zstd: same diff_id, another blob.
case_begin image-compression
image_rootfs "$work/$name.tar"
img import "$work/$name.tar" --source-date-epoch "$E1" --tag 1.0 -o "$c/a.oci"
skopeo copy -q --dest-compress-format zstd "oci:$c/a.oci:1.0" "oci:$c/b.oci:1.0"
expect equivalent <<'EOF'
compression
EOF

# One file's content differs inside the single layer of two imports.
case_begin image-layer-content
d=$work/$name-a
base_tree "$d" && stamp "$d" && gnutar "$d" "$work/$name-a.tar"
d=$work/$name-b
base_tree "$d" && printf 'state=2\n' > "$d/var/lib/app/state" && stamp "$d" && gnutar "$d" "$work/$name-b.tar"
img import "$work/$name-a.tar" --source-date-epoch "$E1" --tag 1.0 -o "$c/a.oci"
img import "$work/$name-b.tar" --source-date-epoch "$E1" --tag 1.0 -o "$c/b.oci"
expect different <<'EOF'
content var/lib/app/state
EOF

# reproimg build: the same two files in one COPY against two COPYs. The flattened filesystems are
# the same; the history says COPY once against twice.
case_begin image-layer-split
ctx=$work/$name/ctx
mkdir -p "$ctx"
printf 'one\n' > "$ctx/one.txt"
printf 'two\n' > "$ctx/two.txt"
printf 'FROM scratch\nCOPY one.txt two.txt /srv/\n' > "$ctx/Dockerfile.one"
printf 'FROM scratch\nCOPY one.txt /srv/\nCOPY two.txt /srv/\n' > "$ctx/Dockerfile.two"
stamp "$ctx"
img build -f "$ctx/Dockerfile.one" "$ctx" --source-date-epoch "$E1" --tag 1.0 -o "$c/a.oci"
img build -f "$ctx/Dockerfile.two" "$ctx" --source-date-epoch "$E1" --tag 1.0 -o "$c/b.oci"
expect different <<'EOF'
layer-split
config-history config:/history/0
config-history config:/history/1
EOF

echo "done: $(find "$out" -mindepth 1 -maxdepth 1 -type d | wc -l) cases," \
  "$(find "$out" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }') bytes in files"
