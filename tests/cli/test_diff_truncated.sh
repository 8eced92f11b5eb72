#!/usr/bin/env bash
# reproimg diff of a tar that is truncated while diff reads it: exit 2 with one error line saying
# the file changed (or 1 when the cut came after the read), never a crash by a signal. The cut
# lands at varied moments; tests/diff/test_diff.cpp checks the error itself deterministically.
set -euo pipefail
. "$(dirname "$0")/common.sh"

need_tools tar truncate head
cd "$work"
mkdir -p t
# Six files of 16 MB: the index is read in moments (headers), the contents compared for longer.
head -c 16000000 /dev/urandom > t/f1
for n in 2 3 4 5 6; do cp t/f1 "t/f$n"; done
# (a small file that differs, so that the inputs are not identical as wholes)
printf a > t/f0
tar --format=pax --sort=name --mtime=@0 -C t -cf a.tar .
printf b > t/f0
tar --format=pax --sort=name --mtime=@0 -C t -cf b0.tar .
rm -r t
size=$(stat -c %s a.tar)
crashed=0
errors=0
for delay in 0 0.01 0.02 0.03 0.04 0.05 0.06 0.08 0.1 0.12 0.15 0.2; do
  cp b0.tar b.tar
  "$REPROIMG" diff a.tar b.tar > out.txt 2> err.txt &
  pid=$!
  sleep "$delay"
  truncate -s $((size / 2)) b.tar
  rc=0
  wait "$pid" || rc=$?
  if [ "$rc" -ge 128 ]; then
    crashed=$((crashed + 1))
    fail "cut after ${delay}s: killed by a signal (exit $rc)"
  elif [ "$rc" -eq 2 ]; then
    errors=$((errors + 1))
    equal "cut after ${delay}s: one error line" 1 "$(wc -l < err.txt)"
    check "cut after ${delay}s: the message says the file changed or ended early ($(head -c 300 err.txt))" \
      grep -Eq '^reproimg: error: .*b\.tar.*(changed|unexpected end|truncated|shorter)' err.txt
  else
    equal "cut after ${delay}s: the small file's difference, when the cut came after the read" 1 "$rc"
  fi
done
echo "notice: $errors of 12 cuts landed while diff read the file" >&2
# Cut before diff starts: always the error.
cp b0.tar b.tar
truncate -s $((size / 2)) b.tar
run "$REPROIMG" diff a.tar b.tar
says_error "cut before" 2 "b.tar"
finish
