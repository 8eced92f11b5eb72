#!/usr/bin/env bash
# Two Debian minbase builds a minute apart, diffed: every differing path carries the causes a
# path-by-path comparison with Python's tarfile finds (tests/cli/tar_causes.py), and the options the
# report suggests are the fewest that make the two layers one: with all of them, the canonical
# diff_ids (`reproimg digest --canonical`) of the two tars are equal; with any proper subset, not.
#
# Runs only with REPROIMG_DEBOOTSTRAP_TESTS=1 (root, the builder, a Debian mirror, a few minutes);
# otherwise it reports a skip. Settings:
#   REPROIMG_DEBOOTSTRAP_BUILDER   debootstrap (default; packed with GNU tar) or mmdebstrap
#   REPROIMG_DEBOOTSTRAP_SUITE     the Debian suite (default bookworm)
#   BENCH_DIR                      where the two tars are kept and reused (bench/diff's names);
#                                  without it they are built in the test's work directory
#   MIRROR                         a Debian mirror URL for the builder
set -euo pipefail

if [ "${REPROIMG_DEBOOTSTRAP_TESTS:-}" != 1 ]; then
  echo "SKIP: set REPROIMG_DEBOOTSTRAP_TESTS=1 to build two Debian minbase rootfs and check their diff's causes" \
    "(needs root, a Debian mirror and a few minutes)"
  exit 77
fi
. "$(dirname "$0")/common.sh"
here=$(cd "$(dirname "$0")" && pwd)
need_tools cmp tar

builder=${REPROIMG_DEBOOTSTRAP_BUILDER:-debootstrap}
suite=${REPROIMG_DEBOOTSTRAP_SUITE:-bookworm}
store=${BENCH_DIR:-$work/rootfs}
echo "== two $suite minbase tars ($builder), a minute apart"
"$here/../../bench/minbase_pair" --builder "$builder" --suite "$suite" "$store"
tar_a="$store/debian-$suite-minbase-$builder-a.tar"
tar_b="$store/debian-$suite-minbase-$builder-b.tar"
for f in "$tar_a" "$tar_b"; do
  echo "   $(basename "$f"): $(stat -c %s "$f") bytes; $(cat "$f.info" 2>/dev/null || echo 'no build record')"
done

# --- the causes, path by path --------------------------------------------------------------------
rc=0
"$REPROIMG" diff --format json "$tar_a" "$tar_b" > "$work/report.json" || rc=$?
check "reproimg diff exits 1 (the builds differ), not $rc" [ "$rc" -eq 1 ]
printf 'x\n' > "$work/x"
tar -C "$work" -cf "$work/x.tar" x
"$REPROIMG" normalize -q "$work/x.tar" --profile debian -o "$work/x.norm.tar" --report "$work/profile.json"
echo "== causes: tests/cli/tar_causes.py (Python tarfile) against the report"
check "every differing path has the causes Python's tarfile finds" \
  "$PY" "$here/tar_causes.py" "$tar_a" "$tar_b" "$work/report.json" "$work/profile.json"

# --- the suggested options: they remove every difference, and none of them can be left out -------
mapfile -t suggested < <("$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["verdict"])
for o in r["normalize_options"]:
    print(o)' "$work/report.json")
verdict=${suggested[0]}
options=("${suggested[@]:1}")
echo "== verdict: $verdict; suggested: reproimg normalize ${options[*]}"
equal "the verdict" equivalent "$verdict"

# canonical_pair WITH...: "same" when the two tars have one canonical diff_id under the options
# whose numbers (indexes into $options) are given. Without the --source-date-epoch option, the epoch
# is one after every build (year 9999), so that mtimes are kept as they are rather than clamped to
# the default 0, which would make any two times equal.
canonical_pair() {
  local words=(--source-date-epoch 253402300799) i
  for i in "$@"; do
    local w
    mapfile -d '' -t w < <("$PY" -c 'import shlex, sys; sys.stdout.write("".join(a + "\0" for a in shlex.split(sys.argv[1])))' \
      "${options[$i]}")
    words+=("${w[@]}")
  done
  local da db
  da=$("$REPROIMG" digest --canonical --json "${words[@]}" "$tar_a" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["canonical_diff_id"])')
  db=$("$REPROIMG" digest --canonical --json "${words[@]}" "$tar_b" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["canonical_diff_id"])')
  if [ "$da" = "$db" ]; then echo same; else echo different; fi
}

n=${#options[@]}
check "a report of an equivalent pair names at most 8 options (got $n)" [ "$n" -le 8 ]
all=()
for ((i = 0; i < n; i++)); do all+=("$i"); done
equal "both tars normalised with every suggested option" same "$(canonical_pair "${all[@]}")"
# Every proper subset: a bit mask over the options, all ones excluded.
for ((mask = 0; mask < (1 << n) - 1; mask++)); do
  subset=()
  names=()
  for ((i = 0; i < n; i++)); do
    if (((mask >> i) & 1)); then subset+=("$i"); names+=("${options[$i]}"); fi
  done
  equal "normalised with only [${names[*]}] of the suggested options" different "$(canonical_pair "${subset[@]}")"
done
finish
