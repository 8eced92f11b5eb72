#!/usr/bin/env bash
# End-to-end: the CI report formats of `reproimg diff` (junit, sarif, github). JUnit validates
# against Ant's published schema, SARIF against the SARIF 2.1.0 schema (read in place from
# ../shared/schemas, or $REPROIMG_SCHEMAS_DIR; skipped with a notice when absent), for an
# identical pair and a pair with several causes and paths that need escaping; every format's
# bytes do not depend on the locale, the time zone or file-vs-pipe; --format github keeps every
# command on its line whatever a path holds, and appends the markdown report to
# $GITHUB_STEP_SUMMARY.
set -euo pipefail
# shellcheck source=tests/cli/common.sh
. "$(dirname "$0")/common.sh"

need_tools cmp grep
root=$(cd "$(dirname "$0")/../.." && pwd)
schemas=${REPROIMG_SCHEMAS_DIR:-$root/../shared/schemas}
unset GITHUB_STEP_SUMMARY

# Two layers whose paths need escaping everywhere: a space, %, :, a comma, non-ASCII, markup, a
# newline followed by a workflow command. B differs by content, mtime, mode, owner name, a
# volatile path and a path only in B.
"$PY" - "$work/a.tar" "$work/b.tar" <<'PYEOF'
import io, sys, tarfile
HOSTILE = "etc/a b%c:d,\u00e9<&>\n::error::x"
def write(name, files):
    with tarfile.open(name, "w", format=tarfile.PAX_FORMAT) as t:
        for path, data, mtime, uname, mode in files:
            ti = tarfile.TarInfo(path)
            ti.size, ti.mtime, ti.uname, ti.mode = len(data), mtime, uname, mode
            t.addfile(ti, io.BytesIO(data))
a = [(HOSTILE, b"1\n", 1000, "root", 0o644), ("usr/bin/t\u00e9st", b"t", 1000, "root", 0o755),
     ("var/log/dpkg.log", b"a\n", 1000, "root", 0o644), ("x/<&>.txt", b"x", 1000, "root", 0o644)]
b = [(HOSTILE, b"2\n", 2000, "root", 0o644), ("usr/bin/t\u00e9st", b"t", 1000, "root", 0o700),
     ("var/log/dpkg.log", b"b\n", 1000, "root", 0o644), ("x/<&>.txt", b"x", 1000, "bob", 0o644),
     ("only in b", b"", 1000, "root", 0o644)]
write(sys.argv[1], a)
write(sys.argv[2], b)
PYEOF
# Two images of them (OCI layouts), for the image-level records and per-layer cases.
"$REPROIMG" import -q "$work/a.tar" --source-date-epoch 1000 -o "$work/img-a"
"$REPROIMG" import -q "$work/b.tar" --source-date-epoch 2000 --keep-names -o "$work/img-b"

# The pairs as (name, A, B, exit code).
pair_fields() {
  case $1 in
    same-layer) echo "$work/a.tar" "$work/a.tar" 0 ;;
    layers) echo "$work/a.tar" "$work/b.tar" 1 ;;
    same-image) echo "oci:$work/img-a" "oci:$work/img-a" 0 ;;
    images) echo "oci:$work/img-a" "oci:$work/img-b" 1 ;;
  esac
}
names=(same-layer layers same-image images)

# --- every format: exit code, and the same bytes under another locale and time zone, and through --output
for p in "${names[@]}"; do
  read -r A B want <<< "$(pair_fields "$p")"
  for f in text json markdown html junit sarif github; do
    rc=0
    LC_ALL=C TZ=UTC "$REPROIMG" diff "$A" "$B" --format "$f" > "$work/$p.$f" 2>/dev/null || rc=$?
    equal "$p --format $f: exit code" "$want" "$rc"
    rc=0
    LC_ALL=C.UTF-8 TZ=Pacific/Chatham "$REPROIMG" diff "$A" "$B" --format "$f" --output "$work/$p.$f.2" || rc=$?
    equal "$p --format $f --output: exit code" "$want" "$rc"
    same_bytes "$p --format $f: same bytes in another locale and time zone, to a file" "$work/$p.$f" "$work/$p.$f.2"
  done
done

# --- JUnit: identical passes every case, differing fails the layer and each cause
for p in same-layer same-image; do
  check "$p junit: no failure" grep -q 'failures="0"' "$work/$p.junit"
  if grep -q '<failure' "$work/$p.junit"; then fail "$p junit: a failure in an identical pair"; else pass; fi
done
check "same-image junit: a case for the manifest and config" grep -q '<testcase name="manifest and config" classname="reproimg.diff.layers" time="0"/>' "$work/same-image.junit"
check "same-image junit: a case for layer 0" grep -q '<testcase name="layer 0" classname="reproimg.diff.layers" time="0"/>' "$work/same-image.junit"
check "layers junit: layer 0 fails" grep -q '<testcase name="layer 0" classname="reproimg.diff.layers" time="0">' "$work/layers.junit"
for c in content mtime mode owner-name volatile-path added; do
  check "layers junit: cause $c fails" grep -q "<testcase name=\"$c\" classname=\"reproimg.diff.causes\" time=\"0\">" "$work/layers.junit"
done
check "layers junit: xattr holds" grep -q '<testcase name="xattr" classname="reproimg.diff.causes" time="0"/>' "$work/layers.junit"
check "layers junit: the hostile path escaped" grep -qF 'etc/a b%c:d,é&lt;&amp;&gt;\x0a::error::x' "$work/layers.junit"
check "images junit: config-created fails" grep -q '<testcase name="config-created" classname="reproimg.diff.causes" time="0">' "$work/images.junit"
check "junit: the epoch without SOURCE_DATE_EPOCH" grep -q 'timestamp="1970-01-01T00:00:00" hostname="localhost"' "$work/layers.junit"
SOURCE_DATE_EPOCH=1700000000 "$REPROIMG" diff "$work/a.tar" "$work/b.tar" --format junit > "$work/sde.junit" || true
check "junit: the timestamp from SOURCE_DATE_EPOCH" grep -q 'timestamp="2023-11-14T22:13:20"' "$work/sde.junit"

# --- SARIF: levels, the percent-encoded path under IMAGE_ROOT
check "sarif: an error result" grep -q '"level": "error"' "$work/layers.sarif"
check "sarif: a warning result" grep -q '"level": "warning"' "$work/layers.sarif"
check "sarif: the hostile path percent-encoded" grep -qF '"uri": "etc/a%20b%25c%3Ad%2C%C3%A9%3C%26%3E%0A%3A%3Aerror%3A%3Ax"' "$work/layers.sarif"
check "sarif: relative to IMAGE_ROOT" grep -q '"uriBaseId": "IMAGE_ROOT"' "$work/layers.sarif"
check "sarif: the tool's version" grep -q "\"version\": \"$("$REPROIMG" --version | cut -d' ' -f2)\"" "$work/layers.sarif"

# --- validation against the published schemas
if [ -f "$schemas/junit/JUnit.xsd" ] && command -v xmllint > /dev/null 2>&1; then
  for p in "${names[@]}" ; do
    check "$p: junit valid against JUnit.xsd" xmllint --noout --schema "$schemas/junit/JUnit.xsd" "$work/$p.junit"
  done
  check "SOURCE_DATE_EPOCH junit valid" xmllint --noout --schema "$schemas/junit/JUnit.xsd" "$work/sde.junit"
  # The check can fail: a report without its required system-err is refused.
  grep -v '<system-err>' "$work/layers.junit" > "$work/broken.junit"
  if xmllint --noout --schema "$schemas/junit/JUnit.xsd" "$work/broken.junit" 2>/dev/null; then
    fail "xmllint accepted a junit report without system-err"
  else
    pass
  fi
else
  echo "NOTICE: $schemas/junit/JUnit.xsd or xmllint absent: junit not validated"
fi
if [ -f "$schemas/sarif/sarif-schema-2.1.0.json" ] && "$PY" -c 'import jsonschema' 2> /dev/null; then
  for p in "${names[@]}"; do
    check "$p: sarif valid against sarif-schema-2.1.0.json" \
      "$PY" -W ignore -m jsonschema -i "$work/$p.sarif" "$schemas/sarif/sarif-schema-2.1.0.json"
  done
  sed 's/"version": "2.1.0"/"version": "2.0.0"/' "$work/layers.sarif" > "$work/broken.sarif"
  if "$PY" -W ignore -m jsonschema -i "$work/broken.sarif" "$schemas/sarif/sarif-schema-2.1.0.json" 2>/dev/null; then
    fail "jsonschema accepted a sarif report of version 2.0.0"
  else
    pass
  fi
else
  echo "NOTICE: $schemas/sarif/sarif-schema-2.1.0.json or python3-jsonschema absent: sarif not validated"
fi

# --- github: one command per line, whatever a path holds
lines=$(wc -l < "$work/layers.github")
equal "github: a notice and a line per cause (6)" 7 "$lines"
if grep -v '^::\(notice\|warning\|error\) title=[^:]*::' "$work/layers.github" > /dev/null; then
  fail "github: a line that is not one command: $(grep -v '^::\(notice\|warning\|error\) title=[^:]*::' "$work/layers.github" | head -n 1)"
else
  pass
fi
check "github: content is an error" grep -q '^::error title=reproimg diff%3A content (1 difference)::' "$work/layers.github"
check "github: mtime is a warning" grep -q '^::warning title=reproimg diff%3A mtime (1 difference)::' "$work/layers.github"
check "github: % escaped" grep -qF 'etc/a b%25c:d' "$work/layers.github"
equal "github: identical is one notice" "::notice title=reproimg diff%3A identical::identical" "$(cat "$work/same-layer.github")"

# --- $GITHUB_STEP_SUMMARY: appended, never truncated; unwritable is exit 2 naming it
printf 'earlier step\n' > "$work/summary.md"
GITHUB_STEP_SUMMARY=$work/summary.md "$REPROIMG" diff "$work/a.tar" "$work/b.tar" --format github > "$work/gh1" || true
GITHUB_STEP_SUMMARY=$work/summary.md "$REPROIMG" diff "$work/a.tar" "$work/b.tar" --format github -q || true
{ printf 'earlier step\n'; cat "$work/layers.markdown" "$work/layers.markdown"; } > "$work/summary.want"
same_bytes "GITHUB_STEP_SUMMARY: the markdown report appended after what was there, twice" "$work/summary.want" "$work/summary.md"
same_bytes "GITHUB_STEP_SUMMARY: stdout is the github report still" "$work/layers.github" "$work/gh1"
GITHUB_STEP_SUMMARY=$work/summary.md "$REPROIMG" diff "$work/a.tar" "$work/b.tar" --format json > /dev/null || true
same_bytes "GITHUB_STEP_SUMMARY: untouched by another format" "$work/summary.want" "$work/summary.md"
mkdir -p "$work/a-directory"
rc=0
GITHUB_STEP_SUMMARY=$work/a-directory "$REPROIMG" diff "$work/a.tar" "$work/b.tar" --format github > "$work/out" 2> "$work/err" || rc=$?
equal "GITHUB_STEP_SUMMARY a directory: exit code" 2 "$rc"
check "GITHUB_STEP_SUMMARY a directory: the message names it" grep -qF "reproimg: error: $work/a-directory: cannot append the markdown report to \$GITHUB_STEP_SUMMARY" "$work/err"
equal "GITHUB_STEP_SUMMARY a directory: nothing on stdout" "" "$(cat "$work/out")"

# --- refusal names every format
rc=0
"$REPROIMG" diff "$work/a.tar" "$work/b.tar" --format xml > /dev/null 2> "$work/err" || rc=$?
equal "--format xml: exit code" 2 "$rc"
check "--format xml: the formats listed" grep -qF "text, json, markdown, html, junit, sarif or github, not 'xml'" "$work/err"

finish
