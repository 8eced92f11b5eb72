#!/usr/bin/env bash
# reproimg diff against corpus/cases: for every pair, the exit code, the verdict, exactly the
# expected (cause, path) records and, where the case names them, the suggested normalize options;
# and the JSON report is the same bytes under LC_ALL=C and C.UTF-8.
set -euo pipefail
. "$(dirname "$0")/common.sh"

if ! "$REPROIMG" diff --help >/dev/null 2>&1; then
  echo "SKIP: this reproimg has no working diff command"
  exit 77
fi
need_tools cmp

cases_dir=$(cd "$(dirname "$0")/../../corpus/cases" && pwd)
[ -d "$cases_dir" ] || { echo "FAIL: no corpus at $cases_dir" >&2; exit 1; }

# source_of FILE: how to name a case input to reproimg (by its suffix).
source_of() {
  case $1 in
    *.oci) echo "oci:$1" ;;
    *.oci-archive.tar) echo "oci-archive:$1" ;;
    *.docker-archive.tar) echo "docker-archive:$1" ;;
    *) echo "tar:$1" ;;
  esac
}

# check_report EXPECTED JSON: verdict, summary and the records against the expected file; prints
# one line per mismatch and exits 1 if there is any.
check_report() {
  "$PY" - "$1" "$2" <<'EOF'
import collections, json, sys
expected_path, report_path = sys.argv[1], sys.argv[2]
lines = open(expected_path, encoding="utf-8").read().splitlines()
verdict = lines[0].split(":", 1)[1].strip()
want = set()
options = None  # the normalize options the report must suggest, when the case says
for line in lines[1:]:
    if line.startswith("options:"):
        options = line.split(":", 1)[1].strip()
    if line.startswith(("args:", "options:")) or not line.strip():
        continue
    cause, _, path = line.partition("\t")
    want.add((cause, path))
problems = []
try:
    report = json.load(open(report_path, encoding="utf-8"))
except ValueError as e:
    print(f"    the report is not JSON: {e}")
    sys.exit(1)
if report.get("schema") != "reproimg-diff/1":
    problems.append(f"schema {report.get('schema')!r}")
if report.get("verdict") != verdict:
    problems.append(f"verdict {report.get('verdict')!r}, expected {verdict!r}")
if options is not None and " ".join(report.get("normalize_options", [])) != options:
    problems.append(f"normalize options {' '.join(report.get('normalize_options', []))!r}, expected {options!r}")
records = report.get("differences", [])
got = collections.Counter((d.get("cause"), d.get("path")) for d in records)
for key in sorted(want - set(got)):
    problems.append("missing     %s\t%s" % key)
for key in sorted(set(got) - want):
    problems.append("unexpected  %s\t%s" % key)
# One record per (path, cause) and layer.
per_layer = collections.Counter((d.get("cause"), d.get("path"), json.dumps(d.get("layer"))) for d in records)
for key, n in sorted(per_layer.items()):
    if n > 1:
        problems.append("%d records for %s\t%s (layer %s)" % (n, *key))
counts = dict(collections.Counter(d.get("cause") for d in records))
if report.get("summary", {}) != counts:
    problems.append(f"summary {report.get('summary')} does not count the records {counts}")
for p in problems:
    print("    " + p)
sys.exit(1 if problems else 0)
EOF
}

cd "$cases_dir"
total=0
bad=0
for dir in */; do
  name=${dir%/}
  [ -f "$name/expected" ] || continue
  total=$((total + 1))
  a=$(find "$name" -mindepth 1 -maxdepth 1 -name 'a.*')
  b=$(find "$name" -mindepth 1 -maxdepth 1 -name 'b.*')
  verdict=$(sed -n '1s/^verdict: *//p' "$name/expected")
  args=()
  if args_line=$(grep -m1 '^args:' "$name/expected"); then
    read -ra args <<< "${args_line#args:}"
  fi
  want_rc=1
  if [ "$verdict" = identical ]; then
    want_rc=0
  elif [ "$verdict" = equivalent ]; then
    for x in "${args[@]}"; do [ "$x" = --accept-normalizable ] && want_rc=0; done
  fi

  out_c=$work/$name.C.json
  out_u=$work/$name.UTF-8.json
  rc=0
  LC_ALL=C "$REPROIMG" diff --format json "${args[@]}" "$(source_of "$a")" "$(source_of "$b")" \
    > "$out_c" 2> "$work/$name.err" || rc=$?
  rc_u=0
  LC_ALL=C.UTF-8 "$REPROIMG" diff --format json "${args[@]}" "$(source_of "$a")" "$(source_of "$b")" \
    > "$out_u" 2>> "$work/$name.err" || rc_u=$?

  problems=()
  [ "$rc" -eq "$want_rc" ] || problems+=("exit code $rc, expected $want_rc ($(head -n 1 "$work/$name.err"))")
  [ "$rc_u" -eq "$rc" ] || problems+=("exit code $rc_u under C.UTF-8, $rc under C")
  cmp -s "$out_c" "$out_u" || problems+=("the JSON differs between LC_ALL=C and LC_ALL=C.UTF-8")
  if [ "$rc" -le 1 ]; then
    if ! detail=$(check_report "$name/expected" "$out_c"); then
      problems+=("records:"$'\n'"$detail")
    fi
  fi
  if [ ${#problems[@]} -eq 0 ]; then
    pass
    printf 'ok    %-40s %s, %s record(s)\n' "$name" "$verdict" "$(grep -c $'\t' "$name/expected" || true)"
  else
    bad=$((bad + 1))
    fail "corpus case $name"
    printf 'FAIL  %s\n' "$name"
    printf '    %s\n' "${problems[@]}"
  fi
done

[ "$total" -gt 0 ] || fail "no case under $cases_dir"
echo "corpus: $total cases, $((total - bad)) passed, $bad failed"
finish
