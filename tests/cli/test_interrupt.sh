#!/usr/bin/env bash
# End-to-end: SIGINT, SIGTERM and SIGHUP at several points of import, build, normalize and diff of a
# large input, for every output kind (OCI layout, oci-archive, docker-archive, a layer file, a
# report): the exit code is 128 + the signal (130 for Ctrl-C), and nothing is left where the
# command wrote, neither beside the output nor in $TMPDIR.
set -euo pipefail
# shellcheck source=tests/cli/common.sh
. "$(dirname "$0")/common.sh"

need_tools tar zstd head timeout

# A rootfs of 320 MiB that does not compress (so gzip takes seconds), a tar of it, and the same
# tar in zstd (fast to make, slow to read back in full: diff hashes every content).
big=$work/big
mkdir -p "$big/rootfs/data" "$big/ctx"
for i in 1 2 3 4; do
  head -c 80M /dev/urandom > "$big/rootfs/data/part$i"
done
printf 'hello\n' > "$big/rootfs/hello"
tar -C "$big/rootfs" -cf "$big/rootfs.tar" .
zstd -q -1 -T2 "$big/rootfs.tar" -o "$big/rootfs.tar.zst"
# The build context is the rootfs; the Dockerfile is outside it.
printf 'FROM scratch\nCOPY . /\nCMD ["/hello"]\n' > "$big/Dockerfile"
"$REPROIMG" import -q "$big/rootfs.tar" --format docker-archive -o "$big/image.tar"

out=$work/out # every interrupted command writes here
mkdir -p "$out"

# leftovers: what is in the output directory and in $TMPDIR, one line.
leftovers() {
  (cd "$out" && ls -A) | sed 's|^|out/|'
  (cd "$TMPDIR" && ls -A) | sed 's|^|$TMPDIR/|'
}

# when_ready WHEN PID: waits until the command is at the point WHEN, and says whether it still runs:
#   temp     something of the command's exists (a temp file or folder beside the output or in $TMPDIR)
#   archive  the final archive is being written (a regular temp file beside the output)
#   SECONDS  that long after the start
when_ready() {
  local when=$1 pid=$2 deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2> /dev/null && [ $SECONDS -lt $deadline ]; do
    case $when in
      temp) [ -n "$(leftovers)" ] && return 0 ;;
      archive) find "$out" -maxdepth 1 -type f -name '*.tmp.*' | grep -q . && return 0 ;;
      *) sleep "$when"; kill -0 "$pid" 2> /dev/null; return ;;
    esac
    sleep 0.02
  done
  kill -0 "$pid" 2> /dev/null
}

# interrupted SIGNAL WHEN DESCRIPTION COMMAND...: runs COMMAND, sends SIGNAL at WHEN, and checks
# the exit code and that nothing is left.
interrupted() {
  local sig=$1 when=$2 what=$3
  shift 3
  rm -rf "${out:?}"/* "$TMPDIR"/*
  "$@" > /dev/null 2> "$work/interrupted.err" &
  local pid=$! rc=0
  if ! when_ready "$when" "$pid"; then
    wait "$pid" || true
    # A faster machine finishes before a fixed delay: nothing to interrupt, nothing to judge (the
    # 'temp' and 'archive' points, taken as the command reaches them, still are).
    echo "notice: $what: finished before SIG$sig could be sent at '$when'; not interrupted"
    pass
    return
  fi
  kill -s "$sig" "$pid"
  wait "$pid" || rc=$?
  local want
  case $sig in INT) want=130 ;; TERM) want=143 ;; HUP) want=129 ;; esac
  equal "$what, SIG$sig at '$when': exit code ($(tr '\n' ' ' < "$work/interrupted.err"))" "$want" "$rc"
  equal "$what, SIG$sig at '$when': nothing left" "" "$(leftovers | tr '\n' ' ')"
}

for format in oci oci-archive docker-archive; do
  interrupted INT temp "import --format $format" \
    "$REPROIMG" import "dir:$big/rootfs" --format "$format" -o "$out/image"
  # An uncompressed docker-archive is written in about a second: signalled earlier.
  early=1
  [ "$format" = docker-archive ] && early=0.4
  interrupted TERM "$early" "import --format $format" \
    "$REPROIMG" import "$big/rootfs.tar" --format "$format" -o "$out/image"
  interrupted INT temp "build --format $format" \
    "$REPROIMG" build -f "$big/Dockerfile" "$big/rootfs" --format "$format" -o "$out/image"
  interrupted TERM "$early" "build --format $format" \
    "$REPROIMG" build -f "$big/Dockerfile" "$big/rootfs" --format "$format" -o "$out/image"
done
# While the archive is written from the layout staged in $TMPDIR: both exist then.
interrupted INT archive "import --format docker-archive (writing the archive)" \
  "$REPROIMG" import "$big/rootfs.tar" --format docker-archive -o "$out/image.tar"
interrupted TERM archive "build --format docker-archive (writing the archive)" \
  "$REPROIMG" build -f "$big/Dockerfile" "$big/rootfs" --format docker-archive -o "$out/image.tar"
interrupted HUP temp "import --format oci" "$REPROIMG" import "$big/rootfs.tar" -o "$out/image"

interrupted INT temp "normalize to a layer file" \
  "$REPROIMG" normalize "$big/rootfs.tar" --compress gzip -o "$out/layer.tar.gz" --report "$out/report.json"
interrupted TERM 1 "normalize to a layer file" \
  "$REPROIMG" normalize "dir:$big/rootfs" --compress gzip -o "$out/layer.tar.gz"
interrupted INT 1 "normalize of an image to an OCI layout" \
  "$REPROIMG" normalize "docker-archive:$big/image.tar" -o "$out/image"
interrupted TERM temp "normalize of an image to an oci-archive" \
  "$REPROIMG" normalize "docker-archive:$big/image.tar" --format oci-archive -o "$out/image.tar"

interrupted INT temp "copy to an OCI layout" \
  "$REPROIMG" copy "docker-archive:$big/image.tar" "oci:$out/image"
interrupted TERM temp "copy --check-contents to an oci-archive" \
  "$REPROIMG" copy --check-contents "docker-archive:$big/image.tar" "oci-archive:$out/image.tar"
interrupted HUP temp "copy to a docker-archive" \
  "$REPROIMG" copy "docker-archive:$big/image.tar" "docker-archive:$out/image.tar"

interrupted INT temp "diff --output" \
  "$REPROIMG" diff "$big/rootfs.tar.zst" "dir:$big/rootfs" --output "$out/report.txt"
interrupted TERM 0.5 "diff --output" \
  "$REPROIMG" diff "$big/rootfs.tar.zst" "docker-archive:$big/image.tar" --format html --output "$out/report.html"

finish
