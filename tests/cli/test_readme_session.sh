#!/usr/bin/env bash
# End-to-end: the README's "A first session" block, taken from README.md as it is and run as
# written in an empty folder, reproimg on the PATH, no network: every command succeeds, except the
# lines marked "exit 1", which must exit 1 (they compare two things that differ). So the README
# cannot drift from the program.
set -euo pipefail
# shellcheck source=tests/cli/common.sh
. "$(dirname "$0")/common.sh"

need_tools tar bsdtar zstd gzip cmp

readme=$(cd "$(dirname "$0")/../.." && pwd)/README.md
session=$work/session.sh
# The first ```sh block after the "## A first session" heading.
awk '/^## A first session/ { in_section = 1; next }
     in_section && /^## / { exit }
     in_section && /^```sh$/ { in_block = 1; next }
     in_block && /^```$/ { exit }
     in_block { print }' "$readme" > "$session"
lines=$(wc -l < "$session")
if [ "$lines" -lt 10 ]; then
  fail "README.md: no 'A first session' block of commands found ($lines lines)"
  finish
fi

mkdir -p "$work/bin" "$work/session"
ln -s "$REPROIMG" "$work/bin/reproimg"

# Runs the block with bash, as a reader would paste it. A failing command stops nothing (as in a
# terminal); the ERR trap records its line and exit code, checked below against the "exit 1"
# marks. (A heredoc or a continued line reports the line it starts on.)
cat > "$work/runner.sh" << 'EOF'
trap 'echo "$LINENO $?" >> "$FAILURES"' ERR
EOF
cat "$session" >> "$work/runner.sh"
printf '\necho "end of the session"\n' >> "$work/runner.sh"
failures=$work/failures
: > "$failures"
(cd "$work/session" && PATH="$work/bin:$PATH" FAILURES="$failures" bash "$work/runner.sh") \
  > "$work/session.out" 2> "$work/session.err" || true
check "the session runs to its end" grep -qx "end of the session" "$work/session.out"

# The runner has one line (the trap) before the block: line N of the runner is line N-1 of it.
marked=$( (grep -n 'exit 1' "$session" || true) | (grep -v '^[0-9]*:#' || true) | cut -d: -f1 | sort -n | tr '\n' ' ')
failed_1=""
while read -r line code; do
  [ -n "$line" ] || continue
  n=$((line - 1))
  text=$(sed -n "${n}p" "$session")
  if [ "$code" = 1 ] && grep -q 'exit 1' <<< "$text"; then
    failed_1="$failed_1$n "
  else
    fail "README line $n exited $code: $text ($(tr '\n' ' ' < "$work/session.err" | cut -c1-300))"
  fi
done < "$failures"
equal "the lines marked 'exit 1' exit 1, and only they" "$marked" "$failed_1"

# What the session says it shows, it shows.
check "the two packings normalise to one layer ('identical')" grep -qx identical "$work/session.out"
check "the markdown report is written" test -s "$work/session/diff.md"
check "the OCI layout records the tag as given" grep -q '"org.opencontainers.image.ref.name":"hello:1"' \
  "$work/session/hello-oci/index.json"
equal "nothing but the files the session names is left (no temp files)" "" \
  "$(cd "$work/session" && find . -name '*.tmp.*')"

finish
