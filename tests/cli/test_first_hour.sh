#!/usr/bin/env bash
# End-to-end: the first hour of a new user (issue 18), one section per mistake made and per surprise
# met: extra operands, the output options on every command, --tag as given, demo --keep, outputs
# checked before the work, messages that name what was typed, help, corrupt compressed layers,
# progress, the hints and the HTML and markdown reports.
set -euo pipefail
# shellcheck source=tests/cli/common.sh
. "$(dirname "$0")/common.sh"

need_tools tar gzip zstd skopeo timeout mkfifo

cd "$work"

# A rootfs, two packings of it, a build context.
mkdir -p rootfs/etc rootfs/var/log ctx
printf 'first-hour\n' > rootfs/etc/hostname
printf 'boot\n' > rootfs/var/log/messages
tar -C rootfs -czf a.tar.gz .
tar -C rootfs --zstd -cf b.tar.zst .
printf 'hello\n' > ctx/hello
printf 'FROM scratch\nCOPY hello /hello\nCMD ["/hello"]\n' > ctx/Dockerfile

# --- an operand too many is said, not ignored; digest reads every operand
run "$REPROIMG" normalize a.tar.gz b.tar.zst -o x.tar
says_error "normalize A B -o X" 2 "unexpected argument 'b.tar.zst'"
check "normalize A B -o X: no output" test ! -e x.tar
run "$REPROIMG" import dir:rootfs extra -o o
says_error "import ROOTFS EXTRA -o O" 2 "unexpected argument 'extra'"
check "import ROOTFS EXTRA -o O: no output" test ! -e o
run "$REPROIMG" build ctx extra -o o
says_error "build CTX EXTRA -o O" 2 "unexpected argument 'extra'"
run "$REPROIMG" diff a.tar.gz b.tar.zst c
says_error "diff A B C" 2 "unexpected argument 'c'"
run "$REPROIMG" demo extra
says_error "demo EXTRA" 2 "unexpected argument 'extra'"
run "$REPROIMG" normalize "" -o x.tar
says_error "normalize '' (an unset variable)" 2 "empty argument"

run "$REPROIMG" digest a.tar.gz b.tar.zst
equal "digest A B: exit code" 0 "$rc"
equal "digest A B: one block per input, named" "input        a.tar.gz,input        b.tar.zst" \
  "$(grep '^input' "$work/stdout" | paste -sd,)"
equal "digest A B: both diff_ids (one tree, one tar)" 2 "$(grep -c '^diff_id' "$work/stdout")"
run "$REPROIMG" digest --json a.tar.gz b.tar.zst
equal "digest --json A B: an array of two" "a.tar.gz b.tar.zst" \
  "$("$PY" -c 'import json,sys; print(" ".join(d["input"] for d in json.load(open(sys.argv[1]))))' "$work/stdout")"
run "$REPROIMG" digest a.tar.gz no-such.tar b.tar.zst
equal "digest A MISSING B: exit code" 2 "$rc"
equal "digest A MISSING B: A and B still read" 2 "$(grep -c '^diff_id' "$work/stdout")"
check "digest A MISSING B: the missing one said" grep -q "reproimg: error: no-such.tar: does not exist" "$work/stderr"

# --- the output options work on every command
printf 'FROM scratch\nCOPY hello /hello\n' > ctx/Dockerfile.q
for opt in -q -v --progress --no-progress --color=never --color=always; do
  rm -rf opt-out opt-demo
  run "$REPROIMG" normalize "$opt" a.tar.gz -o opt-out
  equal "normalize $opt: exit code" 0 "$rc"
  rm -rf opt-out
  run "$REPROIMG" digest "$opt" a.tar.gz
  equal "digest $opt: exit code" 0 "$rc"
  run "$REPROIMG" import "$opt" dir:rootfs -o opt-out
  equal "import $opt: exit code" 0 "$rc"
  rm -rf opt-out
  run "$REPROIMG" build "$opt" -f ctx/Dockerfile.q ctx -o opt-out
  equal "build $opt: exit code" 0 "$rc"
  run "$REPROIMG" diff "$opt" a.tar.gz b.tar.zst
  equal "diff $opt: exit code (equivalent: 1)" 1 "$rc"
  run "$REPROIMG" demo "$opt"
  equal "demo $opt: exit code" 0 "$rc"
done
run "$REPROIMG" diff -q a.tar.gz b.tar.zst
equal "diff -q: nothing on stdout, the exit code is the answer" "" "$(cat "$work/stdout")"
run "$REPROIMG" diff -q a.tar.gz a.tar.gz
equal "diff -q of one file with itself: exit 0" 0 "$rc"
run "$REPROIMG" diff --color=always a.tar.gz b.tar.zst
check "diff --color=always colours the report" grep -q $'\033\\[' "$work/stdout"
run "$REPROIMG" diff a.tar.gz b.tar.zst
check "diff to a pipe is not coloured" test -z "$(grep $'\033' "$work/stdout" || true)"
run "$REPROIMG" digest --color=sometimes a.tar.gz
says_error "--color sometimes" 2 "--color must be auto, always or never"

# --- help and typos
run "$REPROIMG" help normalize
equal "help normalize: exit code" 0 "$rc"
check "help normalize: the command's own help" grep -q -- "--source-date-epoch" "$work/stdout"
run "$REPROIMG" normalise a.tar.gz -o x.tar
equal "normalise: exit code" 2 "$rc"
check "normalise: did you mean normalize?" grep -q "unknown command 'normalise'; did you mean 'normalize'?" "$work/stderr"
run "$REPROIMG" help normalise
check "help normalise: did you mean normalize?" grep -q "did you mean 'normalize'?" "$work/stderr"

# --- demo --keep DIR refuses a folder with files in it, as import refuses one for an OCI layout
mkdir -p keep-full && printf 'mine\n' > keep-full/notes.txt
run "$REPROIMG" demo --keep keep-full
says_error "demo --keep NONEMPTY" 2 "keep-full" "not an empty directory"
equal "demo --keep NONEMPTY: the user's file untouched" "mine" "$(cat keep-full/notes.txt)"
equal "demo --keep NONEMPTY: nothing added" "notes.txt" "$(ls -A keep-full)"
mkdir -p keep-empty
run "$REPROIMG" demo -q --keep keep-empty
equal "demo --keep EMPTY: exit code" 0 "$rc"
check "demo --keep EMPTY: the files are there" test -f keep-empty/a.oci.tar
check "demo --keep EMPTY: nothing staged left beside it" test -z "$(ls -d keep-empty.tmp.* 2> /dev/null || true)"
run "$REPROIMG" demo -q --keep keep-new
check "demo --keep NEW: made" test -f keep-new/b.canonical.tar

# --- an output that cannot be written is said before any work: the input is a fifo no one
# writes, so a command that started reading would wait for ever (timeout: exit 124)
mkfifo never.fifo
mkdir -p existing-folder
run timeout 10 "$REPROIMG" normalize never.fifo -o existing-folder
says_error "normalize -o FOLDER" 2 "existing-folder: is a directory"
run timeout 10 "$REPROIMG" normalize never.fifo -o x.tar --report existing-folder
says_error "normalize --report FOLDER" 2 "existing-folder: is a directory"
check "normalize --report FOLDER: no layer" test ! -e x.tar
run timeout 10 "$REPROIMG" normalize never.fifo -o no-such-dir/x.tar
says_error "normalize -o MISSING/X" 2 "no-such-dir/x.tar" "the directory no-such-dir does not exist"
run timeout 10 "$REPROIMG" import never.fifo --format oci-archive -o existing-folder
says_error "import --format oci-archive -o FOLDER" 2 "existing-folder: is a directory"
run timeout 10 "$REPROIMG" import never.fifo --format docker-archive -o no-such-dir/x.tar
says_error "import --format docker-archive -o MISSING/X" 2 "the directory no-such-dir does not exist"
run timeout 10 "$REPROIMG" diff never.fifo a.tar.gz --output existing-folder
says_error "diff --output FOLDER" 2 "existing-folder: is a directory"
equal "no temp file left beside the folder" "" "$(ls -d existing-folder.tmp.* x.tar.tmp.* 2> /dev/null || true)"

# --- --tag NAME:TAG is recorded as given, and read back as skopeo reads it
"$REPROIMG" build -q -f ctx/Dockerfile ctx --tag hello:1 -o hello-oci
equal "--tag hello:1: the index records hello:1" "hello:1" \
  "$("$PY" -c 'import json; print(json.load(open("hello-oci/index.json"))["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"])')"
check "skopeo inspect oci:hello-oci:hello:1" skopeo inspect oci:hello-oci:hello:1 > /dev/null
run "$REPROIMG" digest oci:hello-oci:hello:1
equal "digest oci:hello-oci:hello:1: exit code" 0 "$rc"
run "$REPROIMG" import -q dir:rootfs --tag 'bad tag' -o bad-tag-oci
says_error "--tag with a space" 2 "invalid --tag 'bad tag'"

# --- messages name what was typed, and say what is wrong with it
run "$REPROIMG" digest oci:nosuchdir
says_error "digest oci:MISSING" 2 "nosuchdir: does not exist"
run "$REPROIMG" diff oci:./build1 oci:./build2
says_error "diff oci:MISSING oci:MISSING" 2 "./build1: does not exist"
run "$REPROIMG" digest oci-archive:no-such.tar
says_error "digest oci-archive:MISSING" 2 "no-such.tar: does not exist"
run "$REPROIMG" normalize no-such.tar -o x.tar
says_error "normalize MISSING" 2 "no-such.tar: does not exist"
run "$REPROIMG" digest dir:no-such-dir
says_error "digest dir:MISSING" 2 "no-such-dir: does not exist"
touch plain-file
run "$REPROIMG" digest oci:plain-file
says_error "digest oci:FILE" 2 "plain-file: not a directory (an OCI layout)"
closed_port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REPROIMG_REGISTRY_ATTEMPTS=2 REPROIMG_REGISTRY_BACKOFF=0 run "$REPROIMG" digest "docker://127.0.0.1:$closed_port/alpine"
says_error "digest docker://CLOSED-PORT" 2 "docker://127.0.0.1:$closed_port: cannot reach the registry after 2 attempt(s)"
run "$REPROIMG" digest docker://Alpine
says_error "digest docker://Alpine" 2 "docker://Alpine: not a registry reference" "lower-case"
run "$REPROIMG" import docker://alpine:3.19 -o o
says_error "import docker://alpine:3.19" 2 "docker://alpine:3.19: an image in a registry, where a layer or a rootfs is wanted"
run "$REPROIMG" import docker-daemon:alpine:3.19 -o o
says_error "import docker-daemon:" 2 "docker save alpine:3.19"
run "$REPROIMG" build -f ctx/nosuch ctx -o o
says_error "build -f MISSING" 2 "cannot open ctx/nosuch"
run "$REPROIMG" build -f ctx ctx -o o
says_error "build -f FOLDER" 2 "cannot open ctx" "a directory"
mkdir -p empty-ctx
run "$REPROIMG" build empty-ctx -o o
says_error "build CTX without a Dockerfile" 2 "empty-ctx/Dockerfile" "-f FILE"
run "$REPROIMG" build no-such-ctx -o o
says_error "build MISSING-CTX" 2 "no-such-ctx: the build context does not exist"
run "$REPROIMG" normalize --compress lz4 a.tar.gz -o x.tar
says_error "--compress lz4" 2 "not 'lz4'"
run "$REPROIMG" diff --format yaml a.tar.gz b.tar.zst
says_error "diff --format yaml" 2 "not 'yaml'"
check "no output after the refusals" test ! -e o

# --- a damaged compressed layer: the compression that failed, the entry it was in, and one
# meaning of each offset ("at byte N" of the file as stored, "at tar offset N" of the tar stream),
# the same line from digest, digest --canonical and normalize, file or pipe
mkdir -p dmg
seq 1 60000 > dmg/counting.txt
head -c 200000 /dev/urandom > dmg/noise.bin
seq 1 40000 | rev > dmg/reversed.txt
tar -C dmg --format=gnu -cf dmg.tar counting.txt noise.bin reversed.txt
# A deflate block that zlib refuses (an invalid block type), starting inside noise.bin's data: the
# stream is flushed to a byte boundary there, and the next block's header is made type 3.
"$PY" - dmg.tar damaged-block.tar.gz <<'PY'
import struct, sys, tarfile, zlib
tar = open(sys.argv[1], "rb").read()
noise = {m.name: m for m in tarfile.open(sys.argv[1])}["noise.bin"]
cut = noise.offset_data + noise.size // 2
c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
head = c.compress(tar[:cut]) + c.flush(zlib.Z_FULL_FLUSH)
tail = bytearray(c.compress(tar[cut:]) + c.flush())
tail[0] = 0x06  # BFINAL 0, BTYPE 3: "invalid block type"
gz = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + head + bytes(tail) + struct.pack("<II", zlib.crc32(tar), len(tar))
open(sys.argv[2], "wb").write(gz)
PY
messages=()
for cmd in "digest" "digest --canonical" "normalize -o /dev/null"; do
  # shellcheck disable=SC2086 # cmd is words
  run "$REPROIMG" $cmd damaged-block.tar.gz
  says_error "$cmd of a damaged deflate block" 2 "damaged-block.tar.gz: entry noise.bin: at byte " "gzip data damaged"
  messages+=("$(cat "$work/stderr")")
  run sh -c "\"\$1\" $cmd - < damaged-block.tar.gz" sh "$REPROIMG"
  says_error "$cmd of a damaged deflate block on stdin" 2 "<stdin>: entry noise.bin: at byte " "gzip data damaged"
done
equal "digest, digest --canonical and normalize say one thing of one damaged file" 1 \
  "$(printf '%s\n' "${messages[@]}" | sort -u | wc -l)"
# A deflate stream that decodes (to a damaged tar) but fails its CRC-32: the CRC is the cause,
# the damaged header the symptom; gzip is named, and the tar offset of the symptom.
"$PY" - dmg.tar crc.tar.gz <<'PY'
import struct, sys, tarfile, zlib
tar = bytearray(open(sys.argv[1], "rb").read())
second = [m for m in tarfile.open(sys.argv[1])][1].offset
crc = zlib.crc32(bytes(tar))
tar[second + 150] ^= 0x01  # the header checksum field of noise.bin
c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
body = c.compress(bytes(tar)) + c.flush()
open(sys.argv[2], "wb").write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + body + struct.pack("<II", crc, len(tar) & 0xffffffff))
PY
second_header=$("$PY" -c 'import tarfile,sys; print([m for m in tarfile.open(sys.argv[1])][1].offset)' dmg.tar)
for cmd in "digest" "normalize -o /dev/null"; do
  # shellcheck disable=SC2086 # cmd is words
  run "$REPROIMG" $cmd crc.tar.gz
  says_error "$cmd of a gzip member with a wrong CRC-32" 2 "crc.tar.gz: at byte " "gzip data damaged: CRC-32 mismatch" \
    "tar offset $second_header" "after entry counting.txt"
done
# A tar cut short: the same line from both commands, the offset that of the entry's header.
head -c $((second_header + 100000)) dmg.tar > cut.tar
run "$REPROIMG" digest cut.tar
says_error "digest of a cut tar" 2 "cut.tar: entry noise.bin: at tar offset $second_header: truncated"
digest_says=$(cat "$work/stderr")
run "$REPROIMG" normalize cut.tar -o /dev/null
equal "normalize of a cut tar says what digest says" "$digest_says" "$(cat "$work/stderr")"

# --- progress says how far along and how long to go, where the size is known
mkdir -p prog
head -c 48M /dev/urandom > prog/data.bin
tar -C prog -cf prog.tar .
run "$REPROIMG" normalize --progress prog.tar --compress gzip -o prog-out.tar.gz
equal "normalize --progress: exit code" 0 "$rc"
check "normalize --progress: the total, the percentage and the time left" \
  grep -Eq '^writing: [0-9.]+ MiB of 48.0 MiB \([0-9]+%\), [0-9]+ of [0-9]+ entries, .*/s, .* left$' "$work/stderr"
gzip -1 -c prog.tar > prog.tar.gz
run "$REPROIMG" digest --canonical --progress prog.tar.gz
check "digest --canonical --progress of a gzip layer: the stored size is the total" \
  grep -Eq '^reading prog.tar.gz: [0-9.]+ MiB of [0-9.]+ MiB \([0-9]+%\)' "$work/stderr"
run "$REPROIMG" normalize --no-progress prog.tar --compress gzip -o prog-out.tar.gz
equal "normalize --no-progress: nothing on stderr" "" "$(cat "$work/stderr")"

# --- hints name fixes that work: two layers that differ in var/log/messages (a path the debian
# profile does not cover); the options the report names make the two one layer
mkdir -p hint-a/var/log hint-b/var/log
printf 'boot 1\n' > hint-a/var/log/messages
printf 'boot 2, longer\n' > hint-b/var/log/messages
touch -d 2020-01-01 hint-a/var/log/messages hint-b/var/log/messages hint-a/var/log hint-b/var/log hint-a/var hint-b/var
"$REPROIMG" normalize -q dir:hint-a -o hint-a.tar
"$REPROIMG" normalize -q dir:hint-b -o hint-b.tar
run "$REPROIMG" diff --format json hint-a.tar hint-b.tar
hint=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["hints"]["volatile-path"])' "$work/stdout")
case $hint in
  *"--profile debian"*) fail "the hint names --profile debian, which keeps var/log/messages: $hint" ;;
  *"--exclude"*) pass ;;
  *) fail "the hint names no fix: $hint" ;;
esac
"$REPROIMG" normalize -q dir:hint-a --profile debian -o hint-a-deb.tar
"$REPROIMG" normalize -q dir:hint-b --profile debian -o hint-b-deb.tar
if cmp -s hint-a-deb.tar hint-b-deb.tar; then
  fail "--profile debian made the two layers one: the check of the hint above is void"
else
  pass # --profile debian keeps var/log/messages: a hint naming it would be wrong
fi
"$REPROIMG" normalize -q dir:hint-a --exclude 'var/log/messages' -o hint-a-ex.tar
"$REPROIMG" normalize -q dir:hint-b --exclude 'var/log/messages' -o hint-b-ex.tar
same_bytes "the hint's --exclude makes the two layers one" hint-a-ex.tar hint-b-ex.tar

# --- the markdown and HTML reports: commands as code, the first cause open when there are few
run "$REPROIMG" diff --format markdown hint-a.tar hint-b.tar
check "markdown: no escaped backtick" test -z "$(grep -F '\`' "$work/stdout" || true)"
check "markdown: the command is a code span" grep -qF "\`reproimg normalize --exclude 'var/log/messages'\`" "$work/stdout"
check "markdown: the first cause is open" grep -q '^<details open><summary><code>volatile-path</code>' "$work/stdout"
run "$REPROIMG" diff --format markdown a.tar.gz b.tar.zst
check "markdown: a '|' inside a command in a table cell is escaped for GitHub" \
  grep -qF '`reproimg normalize --compress gzip\|zstd`' "$work/stdout"
run "$REPROIMG" diff --format html hint-a.tar hint-b.tar
check "html: the command is <code>" grep -qF "<code>reproimg normalize --exclude 'var/log/messages'</code>" "$work/stdout"
check "html: no backtick left in the text" test -z "$(grep -v '^<style\|{' "$work/stdout" | grep -F '`' || true)"
check "html: the first cause is open" grep -q '<details id="volatile-path" open>' "$work/stdout"
# Many differences: every cause closed, the summary table first.
mkdir -p many-a many-b
for i in $(seq 1 30); do printf 'a%s\n' "$i" > "many-a/f$i"; printf 'b%s\n' "$i" > "many-b/f$i"; done
run "$REPROIMG" diff --format html dir:many-a dir:many-b
check "html: with 30 differences the causes start closed" test -z "$(grep '<details[^>]* open' "$work/stdout" || true)"

finish
