# Shared helpers for the end-to-end scripts (sourced by tests/cli/test_*.sh, not run by itself).
# shellcheck shell=bash
#
# Gives a private work directory (removed on exit), $TMPDIR inside it, check counting that goes on
# after a failed check so one run shows every failure, and a summary that sets the exit code.

: "${REPROIMG:?set REPROIMG to the reproimg binary (ctest does)}"
if [ ! -x "$REPROIMG" ]; then
  echo "FAIL: REPROIMG=$REPROIMG is not an executable" >&2
  exit 1
fi

# A command that fails outside a check stops the script (set -e): say where.
set -o errtrace
trap 'echo "FAIL: command failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

work=$(mktemp -d "${TMPDIR:-/tmp}/reproimg-e2e.XXXXXX")
trap 'rm -rf "$work"' EXIT
export TMPDIR="$work/tmp"
mkdir -p "$TMPDIR"
# The caller's SOURCE_DATE_EPOCH must not leak into checks that expect the default (0).
unset SOURCE_DATE_EPOCH
export LC_ALL=C.UTF-8

PY=/usr/bin/python3
if [ ! -x "$PY" ]; then
  PY=$(command -v python3 || true)
fi

checks=0
failed=0

pass() { checks=$((checks + 1)); }
fail() {
  checks=$((checks + 1))
  failed=$((failed + 1))
  echo "FAIL: $*" >&2
}

# check DESCRIPTION COMMAND...: one check that passes when COMMAND succeeds.
check() {
  local what=$1
  shift
  if "$@"; then pass; else fail "$what"; fi
}

# same_bytes DESCRIPTION EXPECTED ACTUAL: the two files are byte-identical.
same_bytes() {
  if cmp -s "$2" "$3"; then
    pass
  else
    fail "$1: $(basename "$3") differs from $(basename "$2") ($(cmp "$2" "$3" 2>&1 | head -n 1))"
  fi
}

# equal DESCRIPTION EXPECTED ACTUAL: two strings are equal.
equal() {
  if [ "$2" = "$3" ]; then
    pass
  else
    fail "$1: expected '$2', got '$3'"
  fi
}

# need_tools TOOL...: every tool must be installed (scripts/install-deps.sh installs them);
# a missing one is a failure, not a skip, so that a green run means every check ran.
need_tools() {
  local missing=()
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  if [ -z "$PY" ]; then
    missing+=(python3)
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "FAIL: missing tools: ${missing[*]} (scripts/install-deps.sh installs them)" >&2
    exit 1
  fi
}

# run COMMAND...: runs it; $rc, $work/stdout and $work/stderr hold what it did.
run() {
  rc=0
  "$@" > "$work/stdout" 2> "$work/stderr" || rc=$?
}

# says_error WHAT RC SUBSTRING...: the last run exited RC with one line on stderr, in the
# "reproimg: error: " form, holding every SUBSTRING.
says_error() {
  local what=$1 want=$2
  shift 2
  equal "$what: exit code" "$want" "$rc"
  equal "$what: one line on stderr" 1 "$(wc -l < "$work/stderr")"
  local msg
  msg=$(head -n 1 "$work/stderr")
  case $msg in
    "reproimg: error: "*) pass ;;
    *) fail "$what: not a 'reproimg: error: ' line: $msg" ;;
  esac
  for s in "$@"; do
    case $msg in
      *"$s"*) pass ;;
      *) fail "$what: the message lacks '$s': $msg" ;;
    esac
  done
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# finish: the summary line, and the exit code.
finish() {
  local name
  name=$(basename "$0" .sh)
  if [ "$failed" -eq 0 ]; then
    echo "$name: all $checks checks passed"
    exit 0
  fi
  echo "$name: $failed of $checks checks FAILED" >&2
  exit 1
}
