#!/usr/bin/env bash
# End-to-end: exit codes, one-line errors, output safety, the policy options and dir: input.
set -euo pipefail
# shellcheck source=tests/cli/common.sh
. "$(dirname "$0")/common.sh"

need_tools tar gzip cmp sha256sum find sort mkfifo touch stat timeout

out=$work/outdir # every run that must fail writes here; it must stay empty
mkdir -p "$out"

# run_rc VAR COMMAND...: runs COMMAND with stdout to $work/stdout, stderr to $work/stderr; VAR=exit code.
run_rc() {
  local __var=$1
  shift
  local __rc=0
  "$@" > "$work/stdout" 2> "$work/stderr" || __rc=$?
  printf -v "$__var" '%s' "$__rc"
}

# refused WHAT WANT_RC SUBSTRING...: the last run_rc exited WANT_RC with exactly one line on
# stderr, in the "reproimg: error: " form, holding every SUBSTRING; nothing was left in $out.
refused() {
  says_error "$@"
  local what=$1
  local left
  left=$(ls -A "$out")
  equal "$what: nothing left in the output directory (no OUT, no OUT.tmp.*)" "" "$left"
  rm -rf "${out:?}"/* "${out:?}"/.[!.]* 2>/dev/null || true
}

# A layer built in Python, every field chosen: names in reverse order, mtimes before and after
# 1700000000, owner names, a file owned by 1234:5678, and the volatile paths of a Debian rootfs.
sample=$work/sample.tar
"$PY" - "$sample" <<'EOF'
import io, sys, tarfile
E_BEFORE, E_AFTER = 978307200, 1900000000  # 2001-01-01, 2030-03-17
def entry(name, kind="file", data=b"", mode=0o644, uid=0, gid=0, uname="root", gname="root",
          mtime=E_AFTER, link=""):
    ti = tarfile.TarInfo(name)
    ti.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
               "hardlink": tarfile.LNKTYPE}[kind]
    ti.mode, ti.uid, ti.gid, ti.uname, ti.gname, ti.mtime, ti.linkname = mode, uid, gid, uname, gname, mtime, link
    ti.size = len(data) if kind == "file" else 0
    return ti, data
entries = [
    entry("etc", "dir", mode=0o755),
    entry("etc/hostname", data=b"builder-host\n"),
    entry("etc/machine-id", data=b"0123456789abcdef0123456789abcdef\n", mode=0o444),
    entry("usr", "dir", mode=0o755),
    entry("usr/bin", "dir", mode=0o755),
    entry("usr/bin/tool", data=b"#!/bin/sh\n", mode=0o755, uid=1234, gid=5678, uname="builder", gname="staff"),
    entry("usr/bin/tool-link", "symlink", mode=0o777, link="tool"),
    entry("usr/share", "dir", mode=0o755, mtime=E_BEFORE),
    entry("usr/share/old.txt", data=b"old\n", mtime=E_BEFORE, uname="", gname=""),
    entry("var", "dir", mode=0o755),
    entry("var/lib", "dir", mode=0o755),
    entry("var/lib/apt", "dir", mode=0o755),
    entry("var/lib/apt/lists", "dir", mode=0o755),
    entry("var/lib/apt/lists/partial", "dir", mode=0o700),
    entry("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", data=b"Date: today\n"),
    entry("var/lib/apt/lists/lock", data=b""),
    entry("var/log", "dir", mode=0o755),
    entry("var/log/dpkg.log", data=b"2024-01-01 install\n"),
    entry("var/log/apt", "dir", mode=0o755),
    entry("var/log/apt/history.log", data=b"Start-Date: now\n"),
]
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    for ti, data in reversed(entries):
        t.addfile(ti, io.BytesIO(data))
EOF
sample_sha=$(sha256_of "$sample")

# list_tar FILE: one line per entry, "name type mode uid:gid uname:gname mtime size linkname"
list_tar() {
  "$PY" - "$1" <<'EOF'
import sys, tarfile
for m in tarfile.open(sys.argv[1], "r:*"):
    print(m.name, m.type.decode(), oct(m.mode), f"{m.uid}:{m.gid}", f"{m.uname}:{m.gname}", m.mtime, m.size, m.linkname)
EOF
}
field() { # field FILE NAME COLUMN: one column of list_tar for one entry
  list_tar "$1" | awk -v n="$2" -v c="$3" '$1 == n { print $c }'
}

# --- usage errors
run_rc rc "$REPROIMG" normalize
refused "normalize with no arguments" 2 "missing input"
run_rc rc "$REPROIMG" normalize -o "$out/x.tar"
refused "normalize with no input" 2 "missing input"
run_rc rc "$REPROIMG" normalize "$sample"
refused "normalize with no -o" 2 "-o"
run_rc rc "$REPROIMG" normalize --no-such-option "$sample" -o "$out/x.tar"
refused "unknown option" 2 "no-such-option"
run_rc rc "$REPROIMG" no-such-command
equal "unknown command: exit code" 2 "$rc"
run_rc rc "$REPROIMG" normalize --compress lz4 "$sample" -o "$out/x.tar"
refused "--compress lz4" 2 "--compress"
run_rc rc "$REPROIMG" normalize "$work/does-not-exist.tar" -o "$out/x.tar"
refused "nonexistent input" 2 "$work/does-not-exist.tar"
run_rc rc "$REPROIMG" digest "$work/does-not-exist.tar"
refused "digest of a nonexistent input" 2 "$work/does-not-exist.tar"
run_rc rc env SOURCE_DATE_EPOCH=yesterday "$REPROIMG" normalize "$sample" -o "$out/x.tar"
refused "SOURCE_DATE_EPOCH that is not a number" 2 "SOURCE_DATE_EPOCH"
run_rc rc "$REPROIMG" normalize "$sample" -o "$sample"
refused "output that would overwrite the input" 2 "overwrite"
equal "the input survives -o INPUT" "$sample_sha" "$(sha256_of "$sample")"

# --- --help of every subcommand (read from the top-level help) exits 0 and shows examples
run_rc rc "$REPROIMG" --help
equal "reproimg --help: exit code" 0 "$rc"
commands=$(awk '/^commands:/ {f = 1; next} f && /^  [a-z]/ {print $1} f && /^$/ {f = 0}' "$work/stdout")
for c in normalize digest demo; do
  case " ${commands//$'\n'/ } " in
    *" $c "*) pass ;;
    *) fail "reproimg --help does not list '$c'" ;;
  esac
done
for c in $commands; do
  run_rc rc "$REPROIMG" "$c" --help
  equal "reproimg $c --help: exit code" 0 "$rc"
  if grep -q '^Examples' "$work/stdout"; then pass; else fail "reproimg $c --help has no 'Examples'"; fi
done

# --- a truncated tar is refused with the entry and the header's offset, file and pipe alike
src=$work/trunc-src
mkdir -p "$src"
printf 'small\n' > "$src/small"
seq 1 3000 > "$src/mid.txt"
seq 1 5000 > "$src/big.txt"
good=$work/good.tar
tar -C "$src" --format=gnu -cf "$good" small mid.txt big.txt
read -r big_hdr big_data big_size < <("$PY" -c '
import sys, tarfile
m = [m for m in tarfile.open(sys.argv[1]) if m.name == "big.txt"][0]
print(m.offset, m.offset_data, m.size)' "$good")
cut_data=$((big_data + big_size / 2))         # inside big.txt's data
cut_header=$((big_hdr + 100))                  # inside big.txt's header
cut_padding=$((big_data + big_size + 10))      # inside the padding after big.txt's data
for cut in $cut_data $cut_header; do
  t=$work/trunc-$cut.tar
  head -c "$cut" "$good" > "$t"
  t_sha=$(sha256_of "$t")
  case $cut in
    "$cut_header") want=("at tar offset $big_hdr") ;;
    *) want=("entry big.txt" "at tar offset $big_hdr") ;;
  esac
  run_rc rc "$REPROIMG" normalize "$t" -o "$out/layer.tar"
  refused "tar cut at byte $cut (file)" 2 "$t" "${want[@]}"
  run_rc rc sh -c 'cat "$1" | "$2" normalize - -o "$3"' sh "$t" "$REPROIMG" "$out/layer.tar"
  refused "tar cut at byte $cut (pipe)" 2 "<stdin>" "${want[@]}"
  equal "truncated input unchanged" "$t_sha" "$(sha256_of "$t")"
done
# Cut inside the padding after the last entry's data: the data is whole, as Go's archive/tar (and
# so containerd, podman, umoci) reads it; read as complete, and said in the report.
t=$work/trunc-$cut_padding.tar
head -c "$cut_padding" "$good" > "$t"
"$REPROIMG" normalize -q "$good" -o "$out/good-canonical.tar"
run_rc rc "$REPROIMG" normalize "$t" -o "$out/padding-cut.tar" --report "$out/padding-cut.json"
equal "tar cut inside the last entry's padding: exit code" 0 "$rc"
equal "tar cut inside the last entry's padding: same canonical layer as the whole tar" \
  "$(sha256_of "$out/good-canonical.tar")" "$(sha256_of "$out/padding-cut.tar")"
if grep -q 'not padded to 512 bytes' "$out/padding-cut.json"; then pass; else fail "the report does not say the padding is missing"; fi
run_rc rc "$REPROIMG" digest "$t"
equal "digest of the padding cut: exit code" 0 "$rc"
if grep -q 'not padded to 512 bytes' "$work/stdout"; then pass; else fail "digest does not say the padding is missing: $(cat "$work/stdout")"; fi
rm -f "$out"/*
# Output that never reached its destination is a failure: digest to a full disk exits 2.
if [ -w /dev/full ]; then
  run_rc rc sh -c '"$1" digest "$2" > /dev/full' sh "$REPROIMG" "$good"
  equal "digest > /dev/full: exit code" 2 "$rc"
  if grep -q "cannot write to standard output" "$work/stderr"; then pass; else fail "digest > /dev/full: $(cat "$work/stderr")"; fi
fi
# A failed run leaves an existing output as it was.
printf 'previous\n' > "$work/existing.tar"
run_rc rc "$REPROIMG" normalize "$work/trunc-$cut_data.tar" -o "$work/existing.tar"
equal "failed run: exit code" 2 "$rc"
equal "failed run leaves the existing output untouched" "previous" "$(cat "$work/existing.tar")"
equal "failed run leaves no temp file beside the output" "" "$(compgen -G "$work/existing.tar.tmp.*" || true)"

# An interrupt removes the temp file and exits 130.
mkfifo "$work/slow"
"$REPROIMG" normalize - -o "$out/interrupted.tar" < "$work/slow" 2> "$work/int.err" &
pid=$!
exec 3> "$work/slow"
head -c 1024 "$good" >&3
for _ in $(seq 1 50); do
  compgen -G "$out/interrupted.tar.tmp.*" > /dev/null && break
  sleep 0.1
done
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
exec 3>&-
equal "SIGINT while reading: exit code" 130 "$rc"
equal "SIGINT while reading: nothing left in the output directory" "" "$(ls -A "$out")"
rm -rf "${out:?}"/*

# --- unsafe paths are refused
"$PY" - "$work" <<'EOF'
import io, sys, tarfile
for name, path, link in (("dotdot", "../x", None), ("inner-dotdot", "a/../../x", None),
                         ("link-dotdot", "a", "../../etc/passwd")):
    with tarfile.open(f"{sys.argv[1]}/{name}.tar", "w", format=tarfile.PAX_FORMAT) as t:
        if link is None:
            ti = tarfile.TarInfo(path); ti.size = 2
            t.addfile(ti, io.BytesIO(b"x\n"))
        else:
            ti = tarfile.TarInfo("target"); ti.size = 2
            t.addfile(ti, io.BytesIO(b"x\n"))
            ti = tarfile.TarInfo(path); ti.type = tarfile.LNKTYPE; ti.linkname = link
            t.addfile(ti)
EOF
for name in dotdot inner-dotdot link-dotdot; do
  run_rc rc "$REPROIMG" normalize "$work/$name.tar" -o "$out/x.tar"
  refused "a tar with a '..' path ($name)" 2 "$work/$name.tar" ".."
done

# --- -o - to a pipe
"$REPROIMG" normalize -q "$sample" -o "$work/sample-n.tar"
canon_sha=$(sha256_of "$work/sample-n.tar")
equal "-o - to a pipe gives the file's bytes" "$canon_sha" "$("$REPROIMG" normalize -q "$sample" -o - | sha256sum | cut -d' ' -f1)"
equal "input unchanged by a successful run" "$sample_sha" "$(sha256_of "$sample")"

# --- standard input that is a regular file already read in part: the tar starts where stdin
# stands (contents used to be taken by offset from the file's start: another file's bytes)
head -c 10240 /dev/zero | tr '\0' J > "$work/prefixed.bin"
cat "$sample" >> "$work/prefixed.bin"
equal "stdin (a file) part-read: the tar from where it stands" "$canon_sha" \
  "$( (dd bs=10240 count=1 of=/dev/null status=none; "$REPROIMG" normalize -q - -o -) < "$work/prefixed.bin" | sha256sum | cut -d' ' -f1)"
equal "digest --canonical of stdin part-read agrees" "sha256:$canon_sha" \
  "$( (dd bs=10240 count=1 of=/dev/null status=none; "$REPROIMG" digest --canonical --json -) < "$work/prefixed.bin" |
     "$PY" -c 'import json,sys; print(json.load(sys.stdin)["canonical_diff_id"])')"

# --- an existing fifo or device as OUT is written through, not replaced by a regular file
# (a rename over "-o /dev/null" would turn the machine's /dev/null into a file)
mkfifo "$work/out.fifo"
timeout 20 cat "$work/out.fifo" > "$work/from-fifo.tar" &
reader=$!
rc=0
timeout 20 "$REPROIMG" normalize -q "$sample" -o "$work/out.fifo" || rc=$?
wait "$reader" || true
equal "-o FIFO: exit code" 0 "$rc"
same_bytes "-o FIFO: the reader gets the layer" "$work/sample-n.tar" "$work/from-fifo.tar"
equal "-o FIFO: the fifo is still a fifo" "fifo" "$(stat -c %F "$work/out.fifo")"
if is_root; then
  mknod -m 666 "$work/null" c 1 3
  rc=0
  "$REPROIMG" normalize -q "$sample" -o "$work/null" --report "$work/null" || rc=$?
  equal "-o DEVICE --report DEVICE: exit code" 0 "$rc"
  equal "-o DEVICE: the device node is still a character device" "character special file" "$(stat -c %F "$work/null")"
  equal "-o DEVICE: nothing left beside it" "" "$(compgen -G "$work/null.tmp.*" || true)"
fi

# --- the report
"$REPROIMG" normalize -q "$sample" -o "$work/r.tar" --report "$work/report.json"
if "$PY" -m json.tool "$work/report.json" > /dev/null; then pass; else fail "--report is not valid JSON"; fi
count() { # count REPORT RULE
  "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["changes"].get(sys.argv[2], {}).get("count", 0))' "$1" "$2"
}
n_entries=$(list_tar "$sample" | wc -l)
n_named=$(list_tar "$sample" | awk '$5 != ":"' | wc -l)
equal "report: mtime changed on every entry (all are after 0)" "$n_entries" "$(count "$work/report.json" mtime)"
equal "report: owner-name cleared on every entry that had one" "$n_named" "$(count "$work/report.json" owner-name)"
# An entry is out of order when the one sorted before it came later in the input.
n_order=$("$PY" -c '
import sys, tarfile
names = [m.name for m in tarfile.open(sys.argv[1])]
seq = {n: i for i, n in enumerate(names)}
s = sorted(names, key=lambda n: n.encode())
print(sum(1 for a, b in zip(s, s[1:]) if seq[b] < seq[a]))' "$sample")
if [ "$n_order" -gt 0 ]; then pass; else fail "the sample tar is in sorted order: the order check would be void"; fi
equal "report: order counts every entry that came before the one sorted ahead of it" "$n_order" "$(count "$work/report.json" order)"
"$REPROIMG" normalize -q "$work/r.tar" -o "$work/r2.tar" --report "$work/report2.json"
for rule in mtime owner-name order; do
  equal "report of a canonical input: no '$rule' change" 0 "$(count "$work/report2.json" "$rule")"
done
equal "report: diff_id is the output's sha256" "sha256:$(sha256_of "$work/r.tar")" \
  "$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["diff_id"])' "$work/report.json")"
run_rc rc "$REPROIMG" normalize "$work/trunc-$cut_data.tar" -o "$out/x.tar" --report "$out/report.json"
refused "failed run with --report" 2 "entry big.txt"

# --- --exclude, --truncate, --profile debian
"$REPROIMG" normalize -q "$sample" --exclude 'var/log/*' -o "$work/ex.tar"
names=$(list_tar "$work/ex.tar" | awk '{print $1}')
if echo "$names" | grep '^var/log/.' > /dev/null; then fail "--exclude 'var/log/*' kept: $(echo "$names" | grep '^var/log/.' | tr '\n' ' ')"; else pass; fi
if echo "$names" | grep -x 'var/log' > /dev/null; then pass; else fail "--exclude 'var/log/*' removed var/log itself"; fi
equal "--exclude keeps everything else" "$((n_entries - 3))" "$(echo "$names" | wc -l)"

"$REPROIMG" normalize -q "$sample" --truncate 'etc/hostname' -o "$work/tr.tar"
equal "--truncate empties the file" 0 "$(field "$work/tr.tar" etc/hostname 7)"
equal "--truncate keeps the file's mode" "0o644" "$(field "$work/tr.tar" etc/hostname 3)"
equal "--truncate leaves other files" 33 "$(field "$work/tr.tar" etc/machine-id 7)"

"$REPROIMG" normalize -q "$sample" --profile debian -o "$work/deb.tar"
names=$(list_tar "$work/deb.tar" | awk '{print $1}')
if echo "$names" | grep '^var/lib/apt/lists/.' > /dev/null; then
  fail "--profile debian kept apt lists: $(echo "$names" | grep '^var/lib/apt/lists/.' | tr '\n' ' ')"
else pass; fi
if echo "$names" | grep -x 'var/lib/apt/lists' > /dev/null; then pass; else fail "--profile debian removed var/lib/apt/lists itself"; fi
equal "--profile debian empties etc/machine-id" 0 "$(field "$work/deb.tar" etc/machine-id 7)"
equal "--profile debian keeps etc/machine-id's mode" "0o444" "$(field "$work/deb.tar" etc/machine-id 3)"
equal "--profile debian empties var/log/dpkg.log" 0 "$(field "$work/deb.tar" var/log/dpkg.log 7)"
equal "--profile debian keeps etc/hostname" 13 "$(field "$work/deb.tar" etc/hostname 7)"

# --- mtimes: clamp (default), set, SOURCE_DATE_EPOCH and its override
E=1700000000
mtimes() { list_tar "$1" | awk '{print $6}' | sort -u | tr '\n' ' '; }
equal "default: every mtime clamped to 0" "0 " "$(mtimes "$work/sample-n.tar")"
"$REPROIMG" normalize -q "$sample" --mtime-policy set --source-date-epoch $E -o "$work/set.tar"
equal "--mtime-policy set: every mtime is E" "$E " "$(mtimes "$work/set.tar")"
tar --full-time -tvf "$work/set.tar" | awk '{print $4 " " $5}' | sort -u > "$work/fulltime"
equal "--mtime-policy set: tar --full-time agrees" "2023-11-14 22:13:20" "$(cat "$work/fulltime")"
"$REPROIMG" normalize -q "$sample" --source-date-epoch $E -o "$work/clamp.tar"
equal "clamp: a newer mtime becomes E" "$E" "$(field "$work/clamp.tar" usr/bin/tool 6)"
equal "clamp: an older mtime is kept" 978307200 "$(field "$work/clamp.tar" usr/share/old.txt 6)"
SOURCE_DATE_EPOCH=$E "$REPROIMG" normalize -q "$sample" -o "$work/env.tar"
same_bytes "SOURCE_DATE_EPOCH=E gives the same layer as --source-date-epoch E" "$work/clamp.tar" "$work/env.tar"
SOURCE_DATE_EPOCH=$E "$REPROIMG" normalize -q "$sample" --source-date-epoch 1600000000 -o "$work/override.tar"
equal "--source-date-epoch overrides SOURCE_DATE_EPOCH" 1600000000 "$(field "$work/override.tar" usr/bin/tool 6)"
SOURCE_DATE_EPOCH=$E "$REPROIMG" normalize -q "$sample" --mtime-policy set -o "$work/env-set.tar"
same_bytes "--mtime-policy set takes E from SOURCE_DATE_EPOCH" "$work/set.tar" "$work/env-set.tar"

# --- owners and names
equal "default: numeric owner kept" "1234:5678" "$(field "$work/sample-n.tar" usr/bin/tool 4)"
equal "default: owner names cleared" ":" "$(list_tar "$work/sample-n.tar" | awk '{print $5}' | sort -u | tr -d '\n')"
"$REPROIMG" normalize -q "$sample" --owner 0:0 -o "$work/own.tar"
equal "--owner 0:0 forces every owner" "0:0" "$(list_tar "$work/own.tar" | awk '{print $4}' | sort -u | tr -d '\n')"
"$REPROIMG" normalize -q "$sample" --owner 1000:100 -o "$work/own2.tar"
equal "--owner 1000:100 forces every owner" "1000:100" "$(list_tar "$work/own2.tar" | awk '{print $4}' | sort -u | tr -d '\n')"
"$REPROIMG" normalize -q "$sample" --keep-names -o "$work/names.tar"
equal "--keep-names keeps uname:gname" "builder:staff" "$(field "$work/names.tar" usr/bin/tool 5)"
equal "--keep-names keeps root:root" "root:root" "$(field "$work/names.tar" etc/hostname 5)"
"$REPROIMG" normalize -q "$sample" --owner-map 1234=0 -o "$work/map.tar"
equal "--owner-map 1234=0 maps the uid only where it matches" "0:5678" "$(field "$work/map.tar" usr/bin/tool 4)"

# --- dir: input equals GNU tar of the directory, whatever the creation order
have_cap=no
make_dir_tree() { # make_dir_tree DIR ORDER(forward|reverse)
  local d=$1
  mkdir -p "$d"
  (
    cd "$d"
    umask 022
    steps=(
      "mkdir -p bin etc/ssl lib"
      "printf 'one\n' > bin/tool && chmod 755 bin/tool"
      "printf 'cfg\n' > etc/ssl/openssl.cnf"
      "seq 1 20000 > lib/data.txt"
      "ln -s ../bin/tool lib/tool-link"
      "mkfifo lib/fifo"
      ": > etc/empty"
    )
    if [ "$2" = reverse ]; then
      for ((i = ${#steps[@]} - 1; i >= 0; i--)); do
        case ${steps[$i]} in mkdir*) ;; *) continue ;; esac
        eval "${steps[$i]}"
      done
      for ((i = ${#steps[@]} - 1; i >= 0; i--)); do
        case ${steps[$i]} in mkdir*) continue ;; esac
        eval "${steps[$i]}"
      done
      # hard links made from the other end: the later name is the original here
      printf 'linked\n' > lib/z-hard
      ln lib/z-hard bin/a-hard
      ln lib/z-hard etc/m-hard
    else
      for s in "${steps[@]}"; do eval "$s"; done
      printf 'linked\n' > bin/a-hard
      ln bin/a-hard etc/m-hard
      ln bin/a-hard lib/z-hard
    fi
    if is_root; then
      mknod lib/null c 1 3
      chown 1234:5678 etc/ssl/openssl.cnf
    fi
    if command -v setfattr > /dev/null &&
      setfattr -n security.capability -v 0x0100000200200000000000000000000000000000 bin/tool 2> /dev/null; then
      echo yes > "$work/cap"
    fi
    setfattr -n user.note -v dropped bin/tool 2> /dev/null || true
  )
}
make_dir_tree "$work/dirA" forward
make_dir_tree "$work/dirB" reverse
find "$work/dirA" -exec touch -h -d "2020-01-01 00:00:00" {} +
find "$work/dirB" -exec touch -h -d "2025-06-01 12:00:00.5" {} +
[ -f "$work/cap" ] && have_cap=yes
if ! is_root; then echo "NOTE: not root: no character device and no 1234:5678 file in the dir: tree"; fi
if [ $have_cap = no ]; then echo "NOTE: cannot set security.capability here: the xattr part of the dir: check is skipped"; fi

"$REPROIMG" normalize -q "dir:$work/dirA" -o "$work/dirA.tar"
"$REPROIMG" normalize -q "dir:$work/dirB" -o "$work/dirB.tar"
same_bytes "dir: trees made in two different orders give one layer" "$work/dirA.tar" "$work/dirB.tar"
tar --xattrs --xattrs-include='*' -C "$work/dirA" -cf "$work/dirA-gnu.tar" .
"$REPROIMG" normalize -q "$work/dirA-gnu.tar" -o "$work/dirA-gnu-n.tar"
same_bytes "dir:PATH = GNU tar of PATH, normalised" "$work/dirA.tar" "$work/dirA-gnu-n.tar"
"$REPROIMG" normalize -q "$work/dirB" -o "$work/dirB-bare.tar"
same_bytes "a bare directory path is read as dir:" "$work/dirA.tar" "$work/dirB-bare.tar"
listing=$(list_tar "$work/dirA.tar")
equal "dir: hard links: the first sorted path carries the data" "bin/a-hard 0" \
  "$(echo "$listing" | awk '$1 == "bin/a-hard" {print $1, $2}')"
equal "dir: hard links: later paths link to the first" "etc/m-hard->bin/a-hard lib/z-hard->bin/a-hard " \
  "$(echo "$listing" | awk '$2 == "1" {printf "%s->%s ", $1, $8}')"
equal "dir: symlink kept" "lib/tool-link 2 ../bin/tool" "$(echo "$listing" | awk '$1 == "lib/tool-link" {print $1, $2, $8}')"
equal "dir: fifo kept" "6" "$(echo "$listing" | awk '$1 == "lib/fifo" {print $2}')"
if is_root; then
  equal "dir: character device kept with major/minor" "3 1,3" "$("$PY" -c '
import sys, tarfile
m = tarfile.open(sys.argv[1]).getmember("lib/null")
print(m.type.decode(), f"{m.devmajor},{m.devminor}")' "$work/dirA.tar")"
  equal "dir: numeric owner kept" "1234:5678" "$(echo "$listing" | awk '$1 == "etc/ssl/openssl.cnf" {print $4}')"
fi
if [ $have_cap = yes ]; then
  xattrs=$("$PY" -c '
import sys, tarfile
m = tarfile.open(sys.argv[1]).getmember("bin/tool")
print(" ".join(sorted(k for k in m.pax_headers if k.startswith("SCHILY.xattr."))))' "$work/dirA.tar")
  equal "dir: security.capability kept, user.* dropped" "SCHILY.xattr.security.capability" "$xattrs"
  "$REPROIMG" normalize -q "dir:$work/dirA" --xattrs none -o "$work/dirA-nox.tar"
  if cmp -s "$work/dirA.tar" "$work/dirA-nox.tar"; then fail "--xattrs none gives the same layer as the default"; else pass; fi
fi

# No command replaces a file it read, however the output names it (the same path, another spelling,
# a hard link): exit 2 naming it, the input byte for byte as it was, no temporary file left.
mkdir -p "$work/own"
printf 'kept\n' > "$work/own/motd"
tar -C "$work/own" -cf "$work/own.tar" motd
ln "$work/own.tar" "$work/own-link.tar"
own_sum=$(sha256_of "$work/own.tar")
for case in "import|$work/own.tar --format oci-archive -o $work/own.tar" \
            "import|$work/own.tar --format docker-archive -o $work/../$(basename "$work")/own-link.tar" \
            "normalize|$work/own.tar -o $work/own-link.tar" \
            "diff|$work/own.tar $work/own.tar --output $work/own.tar" \
            "lock|$work/own.tar -o $work/own-link.tar"; do
  # shellcheck disable=SC2086
  run "$REPROIMG" ${case%%|*} ${case#*|}
  says_error "${case%%|*} writing over its input" 2 "is an input of this command"
  equal "${case%%|*}: the input unchanged" "$own_sum" "$(sha256_of "$work/own.tar")"
done
equal "no temporary file left beside the input" "own-link.tar own.tar" "$(cd "$work" && ls own.tar* own-link.tar* | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"

# An output inside the directory being read: its temporary file or folder is not part of the tree.
mkdir -p "$work/tree/etc"
printf 'tree\n' > "$work/tree/etc/motd"
"$REPROIMG" normalize -q "dir:$work/tree" -o "$work/tree-layer.tar"
"$REPROIMG" normalize -q "dir:$work/tree" -o "$work/tree/layer.tar"
same_bytes "a layer written inside the tree it packs" "$work/tree-layer.tar" "$work/tree/layer.tar"
rm "$work/tree/layer.tar"
"$REPROIMG" import -q "dir:$work/tree" -o "$work/tree-oci"
"$REPROIMG" import -q "dir:$work/tree" -o "$work/tree/oci"
same_bytes "an image staged inside the tree it packs" "$work/tree-oci/index.json" "$work/tree/oci/index.json"

finish
