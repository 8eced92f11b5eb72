#!/usr/bin/env bash
# End-to-end: one tree packed by real tar programs normalises to one byte-identical layer.
#
# The packers are really run: GNU tar (gnu, posix, ustar), bsdtar (restricted pax, pax, gnutar,
# ustar), Python's tarfile (GNU_FORMAT, PAX_FORMAT, USTAR_FORMAT) and busybox tar, under different
# mtimes, entry orders, owner names, locales and compressions (none, gzip, pigz, bzip2, xz, zstd).
# Then: idempotence, locale, file-vs-pipe output, gzip/zstd output, extraction with GNU tar, digest.
set -euo pipefail
# shellcheck source=tests/cli/common.sh
. "$(dirname "$0")/common.sh"

need_tools tar bsdtar busybox gzip pigz bzip2 xz zstd cmp sha256sum find sort mkfifo touch stat readlink

tree=$work/tree
packs=$work/packs
out=$work/out
mkdir -p "$tree" "$packs" "$out"

# Names longer than 100 bytes: one that ustar can split into prefix + name, one it cannot.
long_dir=long/$(printf 'd%.0s' {1..60})
long_path=$long_dir/$(printf 'f%.0s' {1..60}).txt
unsplittable=$(printf 'n%.0s' {1..120})

make_tree() {
  (
    cd "$tree"
    umask 022
    mkdir -p sub/deeper empty-dir "$long_dir"
    printf 'hello\n' > a.txt
    printf '#!/bin/sh\necho hi\n' > run.sh
    chmod 755 run.sh
    printf 'setuid\n' > suid-bin
    chmod 4755 suid-bin
    : > empty
    printf 'nested\n' > sub/deeper/n.txt
    seq 1 60000 > sub/numbers.txt # several blocks, several read buffers
    ln -s ../a.txt sub/link
    ln a.txt sub/hard
    printf 'utf-8 name\n' > 'é.txt'
    mkfifo fifo
    printf 'long\n' > "$long_path"
    printf 'unsplittable\n' > "$unsplittable"
    printf 'owned\n' > owned
    if is_root; then
      chown 1234:5678 owned
    fi
  )
}

# retime DATE: every entry of the tree gets this mtime (symlinks too), so each pack differs in time.
retime() { find "$tree" -exec touch -h -d "$1" {} +; }

make_tree
if ! is_root; then
  echo "NOTE: not root: the file owned by 1234:5678 and the ownership checks after extraction are skipped"
fi

# Entry lists for packers that take names: sorted in reverse, with and without a leading ./
(cd "$tree" && find . -mindepth 1 -printf '%P\0' | sort -zr) > "$work/reversed.list"
(cd "$tree" && find . -mindepth 1 -print0 | sort -zr) > "$work/reversed-dot.list"

printf '+0 alice:0\n+1234 bob:1234\n' > "$work/owner.map"
printf '+0 staff:0\n+5678 crew:5678\n' > "$work/group.map"

pack() { # pack NAME COMMAND...: runs COMMAND in the tree, its stdout becomes packs/NAME
  local name=$1
  shift
  if ! (cd "$tree" && "$@") > "$packs/$name" 2> "$work/pack.err"; then
    fail "packer for $name failed: $(head -n 3 "$work/pack.err")"
    rm -f "$packs/$name"
  fi
}

py_pack() { # py_pack FORMAT ORDER UNAME [EXCLUDE]: Python's tarfile writes a tar to stdout
  "$PY" - "$@" <<'EOF'
import os, sys, tarfile
fmt, order, uname = sys.argv[1], sys.argv[2], sys.argv[3]
exclude = sys.argv[4] if len(sys.argv) > 4 else None
fmt = {"gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT, "ustar": tarfile.USTAR_FORMAT}[fmt]

def rename_owner(ti):
    if exclude and ti.name.endswith(exclude):
        return None
    if uname != "-":
        ti.uname, ti.gname = uname, uname + "-group"
    return ti

with tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=fmt) as t:
    if order == "recursive":
        t.add(".", filter=rename_owner)
    else:  # every name on its own, in reverse byte order: a hard link comes before its target
        names = []
        for root, dirs, files in os.walk("."):
            for n in dirs + files:
                names.append(os.path.relpath(os.path.join(root, n), "."))
        for n in sorted(names, key=os.fsencode, reverse=True):
            t.add(n, recursive=False, filter=rename_owner)
EOF
}

retime "2001-02-03 04:05:06.789"
pack gnu-sorted.tar tar --format=gnu --sort=name -cf - .
retime "2011-06-15 12:34:56"
pack gnu-reversed.tar.gz sh -c 'tar --format=gnu --no-recursion --null -T "$1" -cf - | gzip -9' sh "$work/reversed.list"
pack gnu-owner-names.tar.bz2 sh -c 'tar --format=gnu --owner-map="$1" --group-map="$2" -cf - . | bzip2' sh \
  "$work/owner.map" "$work/group.map"
retime "2024-12-31 23:59:59.999999999"
pack posix.tar.gz sh -c 'tar --format=posix -cf - . | pigz'
pack posix-lc-c.tar.xz sh -c 'LC_ALL=C tar --format=posix --sort=inode -cf - . | xz'
retime "1999-09-09 09:09:09"
pack bsdtar.tar.zst sh -c 'bsdtar -cf - . | zstd -q'
pack bsdtar-gnutar-lc-c.tar sh -c 'LC_ALL=C bsdtar --format=gnutar -cf - .'
pack bsdtar-pax-reversed.tar.gz sh -c 'bsdtar --format=pax -n --null -T "$1" -cf - | gzip -1' sh "$work/reversed-dot.list"
retime "2030-01-01 00:00:00"
(cd "$tree" && py_pack gnu recursive pyuser | xz -1) > "$packs/python-gnu-pyuser.tar.xz" || fail "python GNU_FORMAT packer failed"
retime "1980-01-02 03:04:05"
(cd "$tree" && py_pack pax reversed - | zstd -q -19) > "$packs/python-pax-reversed.tar.zst" || fail "python PAX_FORMAT packer failed"
retime "2015-05-05 05:05:05"
pack busybox.tar.gz sh -c 'busybox tar -cf - . | gzip -n'
pack busybox-lc-c.tar sh -c 'LC_ALL=C busybox tar -cf - .'

# Sanity: every pack holds the whole tree (a packer that silently dropped entries would make the
# comparison below meaningless).
entries=$(cd "$tree" && find . -mindepth 1 | wc -l)
for p in "$packs"/*; do
  n=$("$PY" -c 'import sys, tarfile; print(sum(1 for m in tarfile.open(sys.argv[1], "r:*") if m.name not in (".", "./")))' "$p" 2>/dev/null || echo "unreadable")
  case $p in *.zst) n=$(zstd -dc "$p" | "$PY" -c 'import sys, tarfile; print(sum(1 for m in tarfile.open(fileobj=sys.stdin.buffer, mode="r|") if m.name not in (".", "./")))') ;; esac
  equal "pack $(basename "$p") holds every entry of the tree" "$entries" "$n"
done

# --- every pack, under two locales, from a file and from stdin: one canonical layer
ref=$out/ref.tar
"$REPROIMG" normalize -q "$packs/gnu-sorted.tar" -o "$ref" || fail "normalize of the reference pack failed"
for p in "$packs"/*; do
  name=$(basename "$p")
  for loc in C.UTF-8 C; do
    rc=0
    LC_ALL=$loc "$REPROIMG" normalize -q "$p" -o "$out/$name.$loc.tar" || rc=$?
    if [ $rc -ne 0 ]; then
      fail "normalize $name under LC_ALL=$loc exited $rc"
      continue
    fi
    same_bytes "normalize $name (LC_ALL=$loc) = the reference layer" "$ref" "$out/$name.$loc.tar"
  done
  rc=0
  cat "$p" | "$REPROIMG" normalize -q - -o "$out/$name.pipe.tar" || rc=$?
  if [ $rc -ne 0 ]; then
    fail "cat $name | normalize - exited $rc"
  else
    same_bytes "cat $name | normalize - (input from a pipe) = the reference layer" "$ref" "$out/$name.pipe.tar"
  fi
  rc=0
  "$REPROIMG" normalize -q - -o "$out/$name.stdin.tar" < "$p" || rc=$?
  if [ $rc -ne 0 ]; then
    fail "normalize - < $name exited $rc"
  else
    same_bytes "normalize - < $name (stdin is the file) = the reference layer" "$ref" "$out/$name.stdin.tar"
  fi
done

# --- ustar cannot hold a 120-byte name: its packs leave that one file out, and are compared with
# the reference layer normalised with --exclude of that file.
retime "2022-02-22 22:22:22"
pack gnu-ustar.tar tar --format=ustar --exclude="./$unsplittable" -cf - .
pack bsdtar-ustar.tar.gz sh -c 'bsdtar --format=ustar --exclude "$1" -cf - . | gzip' sh "$unsplittable"
(cd "$tree" && py_pack ustar recursive - "$unsplittable") > "$packs/python-ustar.tar" || fail "python USTAR_FORMAT packer failed"
"$REPROIMG" normalize -q "$ref" --exclude "$unsplittable" -o "$out/ref-ustar.tar"
if tar -tf "$out/ref-ustar.tar" | grep -x "$long_path" >/dev/null; then pass; else fail "the ustar reference lost $long_path"; fi
for p in gnu-ustar.tar bsdtar-ustar.tar.gz python-ustar.tar; do
  if [ -f "$packs/$p" ] && "$REPROIMG" normalize -q "$packs/$p" -o "$out/$p.tar"; then
    same_bytes "normalize $p (ustar, without the 120-byte name) = the reference --exclude that name" \
      "$out/ref-ustar.tar" "$out/$p.tar"
  else
    fail "normalize $p failed"
  fi
  rm -f "$packs/$p" # not part of the one-layer comparison above
done

# --- GNU tar --owner=NAME:ID forces the numeric owner as well as the name (the file owned by
# 1234:5678 becomes 0:0), so this pack equals the reference normalised with --owner 0:0.
retime "2012-12-12 12:12:12"
pack gnu-forced-owner.tar.gz sh -c 'tar --format=gnu --owner=alice:0 --group=staff:0 -cf - . | gzip'
"$REPROIMG" normalize -q "$ref" --owner 0:0 -o "$out/ref-owner0.tar"
if [ -f "$packs/gnu-forced-owner.tar.gz" ] &&
  "$REPROIMG" normalize -q "$packs/gnu-forced-owner.tar.gz" -o "$out/forced-owner.tar"; then
  same_bytes "tar --owner=alice:0 --group=staff:0, normalised = the reference with --owner 0:0" \
    "$out/ref-owner0.tar" "$out/forced-owner.tar"
else
  fail "normalize gnu-forced-owner.tar.gz failed"
fi
rm -f "$packs/gnu-forced-owner.tar.gz"

# --- idempotence
"$REPROIMG" normalize -q "$ref" -o "$out/ref2.tar"
same_bytes "normalize(normalize(x)) = normalize(x)" "$ref" "$out/ref2.tar"

# --- output to a pipe equals output to a file
"$REPROIMG" normalize -q "$packs/posix.tar.gz" -o - | cat > "$out/piped.tar"
same_bytes "normalize -o - | cat = normalize -o FILE" "$ref" "$out/piped.tar"
cat "$packs/bsdtar.tar.zst" | "$REPROIMG" normalize -q - -o - | cat > "$out/piped2.tar"
same_bytes "normalize - -o - (pipe in, pipe out) = normalize -o FILE" "$ref" "$out/piped2.tar"

# --- compressed output: deterministic, decompresses to the canonical layer
for c in gzip zstd; do
  "$REPROIMG" normalize -q "$packs/busybox.tar.gz" --compress $c -o "$out/c1.$c"
  "$REPROIMG" normalize -q "$packs/python-pax-reversed.tar.zst" --compress $c -o "$out/c2.$c"
  "$REPROIMG" normalize -q "$packs/gnu-sorted.tar" --compress $c -o - | cat > "$out/c3.$c"
  same_bytes "--compress $c: two runs from different packs give the same bytes" "$out/c1.$c" "$out/c2.$c"
  same_bytes "--compress $c: file and pipe output give the same bytes" "$out/c1.$c" "$out/c3.$c"
  if $c -dc < "$out/c1.$c" > "$out/c1.$c.tar"; then
    same_bytes "--compress $c output decompresses ($c -dc) to the uncompressed canonical layer" "$ref" "$out/c1.$c.tar"
  else
    fail "$c -dc cannot decompress the --compress $c output"
  fi
done
# gzip header: no timestamp (MTIME bytes 4..7 zero) and no file name (FLG bit 3 clear)
hdr=$(od -An -tx1 -N10 "$out/c1.gzip" | tr -d ' \n')
equal "gzip output starts with magic, deflate" "1f8b08" "${hdr:0:6}"
flg=$((16#${hdr:6:2}))
if [ $((flg & 8)) -eq 0 ]; then pass; else fail "gzip output stores a file name (FLG=$flg)"; fi
equal "gzip output has MTIME 0" "00000000" "${hdr:8:8}"

# --- extraction with GNU tar gives back the tree
x=$work/extracted
mkdir -p "$x"
if ! tar --numeric-owner -xpf "$ref" -C "$x" 2> "$work/x.err"; then
  fail "GNU tar cannot extract the canonical layer: $(head -n 3 "$work/x.err")"
fi
lst_src=$( (cd "$tree" && find . -mindepth 1 | LC_ALL=C sort) )
lst_x=$( (cd "$x" && find . -mindepth 1 | LC_ALL=C sort) )
equal "extracted tree has exactly the source tree's paths" "$lst_src" "$lst_x"
while IFS= read -r -d '' rel; do
  s=$tree/$rel
  d=$x/$rel
  if [ ! -e "$d" ] && [ ! -L "$d" ]; then
    fail "extracted tree lacks $rel"
    continue
  fi
  equal "type of $rel" "$(stat -c %F "$s")" "$(stat -c %F "$d")"
  if [ ! -L "$s" ]; then
    equal "mode of $rel" "$(stat -c %a "$s")" "$(stat -c %a "$d")"
  fi
  if is_root; then
    equal "numeric owner of $rel" "$(stat -c %u:%g "$s")" "$(stat -c %u:%g "$d")"
  fi
  if [ -L "$s" ]; then
    equal "symlink target of $rel" "$(readlink "$s")" "$(readlink "$d")"
  elif [ -f "$s" ]; then
    if cmp -s "$s" "$d"; then pass; else fail "content of $rel differs after extraction"; fi
  fi
done < <(cd "$tree" && find . -mindepth 1 -printf '%P\0')
equal "hard link a.txt / sub/hard extracts to one inode" "$(stat -c %i "$x/a.txt")" "$(stat -c %i "$x/sub/hard")"
if is_root; then
  equal "owned file keeps uid 1234 gid 5678" "1234:5678" "$(stat -c %u:%g "$x/owned")"
fi
equal "setuid bit survives" "4755" "$(stat -c %a "$x/suid-bin")"

# --- digest
ref_sha=$(sha256_of "$ref")
line=$("$REPROIMG" digest --canonical "$packs/busybox.tar.gz" | grep '^canonical' || true)
canon=$(echo "$line" | awk '{print $2}')
equal "digest --canonical prints sha256 of the normalised output" "sha256:$ref_sha" "$canon"
canon_json=$("$REPROIMG" digest --canonical --json "$packs/python-pax-reversed.tar.zst" |
  "$PY" -c 'import json, sys; print(json.load(sys.stdin)["canonical_diff_id"])')
equal "digest --canonical --json (zstd input) prints sha256 of the normalised output" "sha256:$ref_sha" "$canon_json"
# A canonical input is compared with its canonical stream instead of being hashed twice: the
# answer must not change, nor for near-canonical inputs (trailing bytes, a changed content byte).
canon_of() { "$REPROIMG" digest --canonical "$@" | awk '$1 == "canonical" {print $2}'; }
equal "digest --canonical of the canonical layer itself" "sha256:$ref_sha" "$(canon_of "$ref")"
equal "digest --canonical of the canonical layer on stdin" "sha256:$ref_sha" "$(canon_of - < "$ref")"
{ cat "$ref"; printf 'trailing bytes'; } > "$work/canon-trailing.tar"
equal "digest --canonical of the canonical layer with trailing bytes" "sha256:$ref_sha" "$(canon_of "$work/canon-trailing.tar")"
cp "$ref" "$work/canon-flipped.tar"
flip_at=$(( $(stat -c %s "$ref") - 2048 - 1 )) # inside the last member's data or padding
printf 'Z' | dd of="$work/canon-flipped.tar" bs=1 seek="$flip_at" conv=notrunc status=none
"$REPROIMG" normalize -q "$work/canon-flipped.tar" -o "$work/canon-flipped-norm.tar"
equal "digest --canonical of a canonical layer with one byte changed" \
  "sha256:$(sha256_of "$work/canon-flipped-norm.tar")" "$(canon_of "$work/canon-flipped.tar")"

gz=$packs/gnu-reversed.tar.gz
text=$("$REPROIMG" digest "$gz")
equal "digest of a gzip layer: blob = sha256sum of the .gz" "sha256:$(sha256_of "$gz")" \
  "$(echo "$text" | awk '$1 == "blob" {print $2}')"
equal "digest of a gzip layer: diff_id = sha256sum of the gunzipped stream" \
  "sha256:$(gzip -dc "$gz" | sha256sum | cut -d' ' -f1)" "$(echo "$text" | awk '$1 == "diff_id" {print $2}')"
equal "digest of a gzip layer: compression" "gzip" "$(echo "$text" | awk '$1 == "compression" {print $2}')"
equal "digest of an uncompressed layer: diff_id = sha256sum" "sha256:$ref_sha" \
  "$("$REPROIMG" digest "$ref" | awk '$1 == "diff_id" {print $2}')"

finish
