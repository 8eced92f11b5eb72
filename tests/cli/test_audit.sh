#!/usr/bin/env bash
# End-to-end: `reproimg audit` on images made here. A crafted three-layer image (tests/cli/
# audit_image.py) shows each planted hazard as its check, naming the layer: the private key added in
# layer 1 and deleted in layer 2 (private-key and hidden-by-later-layer, high), the world-writable
# directory, the unknown uid, the gzip mtime and the .pyc source mtime; a policy allowing setuid
# for usr/bin/passwd removes exactly that finding and shows its reason, one without a reason is
# refused (exit 2, file and line). SARIF and JUnit validate against the published schemas
# (../shared/schemas, else skipped with a notice); every format's bytes are the same under another
# locale and time zone and through --output. dive's fixture (../shared/conformance/dive) gives
# dive's own wasted bytes and efficiency. A static busybox image as moby's mkimage-busybox.sh
# makes it has nothing above low but root-user (skipped with a notice without a static busybox:
# $REPROIMG_STATIC_BUSYBOX, or a `busybox` on PATH that is statically linked).
set -euo pipefail
# shellcheck source=tests/cli/common.sh
. "$(dirname "$0")/common.sh"

need_tools cmp grep tar
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
schemas=${REPROIMG_SCHEMAS_DIR:-$root/../shared/schemas}
conformance=${REPROIMG_CONFORMANCE_DIR:-$root/../shared/conformance}
unset GITHUB_STEP_SUMMARY

# jq-like queries on a JSON report, in Python: q FILE EXPR (EXPR sees the document as r).
q() { "$PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# --- the crafted image ---------------------------------------------------------------------------
"$PY" "$here/audit_image.py" "$work/img"
rc=0
"$REPROIMG" audit "oci:$work/img" --format json > "$work/a.json" || rc=$?
equal "crafted image: exit 1 (high findings)" 1 "$rc"
has() { # has CHECK LAYER PATH [SEVERITY]: a finding of CHECK at LAYER naming PATH
  local sev=${4:-}
  q "$work/a.json" "any(f['check'] == '$1' and f['layer'] == $2 and '$3' in f['paths'] and ('$sev' == '' or f['severity'] == '$sev') for f in r['findings'])"
}
equal "private-key in layer 1" True "$(has private-key 1 root/.ssh/id_rsa high)"
equal "hidden-by-later-layer: layer 1's key, high" True "$(has hidden-by-later-layer 1 root/.ssh/id_rsa high)"
equal "hidden-by-later-layer names the size and layer 2" "True" \
  "$(q "$work/a.json" "[f for f in r['findings'] if f['check'] == 'hidden-by-later-layer'][0]['attributes'] == {'size': 425, 'hidden_by_layer': 2, 'secret': True}")"
equal "world-writable directory" True "$(has world-writable 0 shared)"
equal "tmp (sticky) is not world-writable" False "$(has world-writable 0 tmp)"
equal "unknown uid 4242" True "$(q "$work/a.json" "any(f['check'] == 'unknown-owner' and f['attributes'].get('uid') == 4242 and f['paths'] == ['opt/stray'] for f in r['findings'])")"
equal "gzip mtime" True "$(has embedded-timestamp 0 usr/share/doc/notes.gz)"
equal "pyc source mtime" True "$(q "$work/a.json" "any(f['check'] == 'embedded-timestamp' and f['attributes']['field'] == 'pyc.source_mtime' and f['attributes']['time'] == '2023-11-14T20:13:20Z' for f in r['findings'])")"
equal "setuid passwd" True "$(has setuid 0 usr/bin/passwd medium)"
equal "device outside dev/" True "$(has device-node 0 opt/null medium)"
equal ".git directory, once" "['srv/app/.git']" "$(q "$work/a.json" "[f['paths'][0] for f in r['findings'] if f['check'] == 'private-key' and '.git' in f['paths'][0]]")"
equal ".npmrc token" True "$(has private-key 0 home/u/.npmrc high)"
equal "ssh host key: a secret" True "$(has private-key 0 etc/ssh/ssh_host_ed25519_key high)"
equal "ssh host key: volatile" True "$(has volatile-file 0 etc/ssh/ssh_host_ed25519_key low)"
equal "secret-env, value never shown" "True" "$(q "$work/a.json" "any(f['check'] == 'secret-env' for f in r['findings']) and 'not-a-real-token' not in open('$work/a.json').read()")"
equal "root-user" True "$(q "$work/a.json" "any(f['check'] == 'root-user' for f in r['findings'])")"
equal "the schema" "reproimg-audit/1" "$(q "$work/a.json" "r['schema']")"
if "$PY" -c 'import jsonschema' 2>/dev/null; then
  check "the JSON report validates against docs/audit-report.schema.json" \
    "$PY" -m jsonschema -i "$work/a.json" "$root/docs/audit-report.schema.json"
fi
# Every embedded-timestamp case of the corpus (gzip, zip/jar and its extra fields, .pyc, ar): found
# in both of its layers, in the format diff names.
for case_dir in "$root"/corpus/cases/embedded-timestamp-*; do
  name=$(basename "$case_dir")
  for side in a b; do
    "$REPROIMG" audit "$case_dir/$side.tar" --format json > "$work/c.json" || true
    equal "$name/$side: one embedded-timestamp finding" 1 \
      "$(q "$work/c.json" "len([f for f in r['findings'] if f['check'] == 'embedded-timestamp'])")"
  done
done
# --fail-on: critical passes (nothing critical), low fails.
rc=0; "$REPROIMG" audit -q "oci:$work/img" --fail-on critical || rc=$?
equal "--fail-on critical: exit 0" 0 "$rc"
rc=0; "$REPROIMG" audit -q "oci:$work/img" --fail-on severe 2>/dev/null || rc=$?
equal "--fail-on severe: exit 2" 2 "$rc"

# --- the policy ----------------------------------------------------------------------------------
cat > "$work/policy.yaml" <<'YAML'
version: 1
allow:
  - check: setuid
    paths: [usr/bin/passwd]
    reason: users change their own password
YAML
rc=0
"$REPROIMG" audit "oci:$work/img" --policy "$work/policy.yaml" --format json > "$work/p.json" || rc=$?
equal "with the policy: still exit 1" 1 "$rc"
equal "exactly the setuid finding is allowed, with its reason" \
  "[('setuid', ['usr/bin/passwd'], 'users change their own password')]" \
  "$(q "$work/p.json" "[(f['check'], f['paths'], f['allowed']['reason']) for f in r['findings'] if f['allowed']]")"
equal "every other finding is as without the policy" True \
  "$("$PY" -c '
import json, sys
strip = lambda fs: [{k: v for k, v in f.items() if k != "allowed"} for f in fs]
a, p = (json.load(open(x))["findings"] for x in sys.argv[1:3])
print(strip(a) == strip(p))' "$work/a.json" "$work/p.json")"
"$REPROIMG" audit "oci:$work/img" --policy "$work/policy.yaml" > "$work/p.txt" || true
check "the text report shows the reason" grep -q "allowed by .*policy.yaml:3: users change their own password" "$work/p.txt"
printf 'allow:\n  - check: setuid\n    paths: [usr/bin/passwd]\n' > "$work/noreason.yaml"
rc=0
"$REPROIMG" audit "oci:$work/img" --policy "$work/noreason.yaml" 2> "$work/err" > /dev/null || rc=$?
equal "an allowance without a reason: exit 2" 2 "$rc"
check "... naming the file and line" grep -q "noreason.yaml:2: allow: the allowance of setuid has no reason" "$work/err"
printf 'severity:\n  setuid: low\n' > "$work/unknown.yaml"
rc=0
"$REPROIMG" audit "oci:$work/img" --policy "$work/unknown.yaml" 2> "$work/err" > /dev/null || rc=$?
equal "an unknown key: exit 2" 2 "$rc"
check "... naming the file and line" grep -q "unknown.yaml:1: unknown key 'severity'" "$work/err"

# --- formats: deterministic bytes; SARIF and JUnit against their schemas --------------------------
for f in text json markdown junit sarif github; do
  rc=0
  LC_ALL=C TZ=UTC "$REPROIMG" audit "oci:$work/img" --policy "$work/policy.yaml" --format "$f" > "$work/r.$f" 2>/dev/null || rc=$?
  equal "--format $f: exit 1" 1 "$rc"
  rc=0
  LC_ALL=C.UTF-8 TZ=Pacific/Chatham "$REPROIMG" audit "oci:$work/img" --policy "$work/policy.yaml" --format "$f" \
    --output "$work/r2.$f" || rc=$?
  same_bytes "--format $f: same bytes in another locale and time zone, to a file" "$work/r.$f" "$work/r2.$f"
done
rc=0; "$REPROIMG" audit "oci:$work/img" --format html > /dev/null 2>&1 || rc=$?
equal "--format html: refused" 2 "$rc"
equal "SARIF: a rule per check" 15 "$(q "$work/r.sarif" "len(r['runs'][0]['tool']['driver']['rules'])")"
equal "SARIF: the allowed finding is suppressed with its reason" "users change their own password" \
  "$(q "$work/r.sarif" "[x['suppressions'][0]['justification'] for x in r['runs'][0]['results'] if 'suppressions' in x][0]")"
check "JUnit: private-key fails" grep -q '<testcase name="private-key" classname="reproimg.audit.checks" time="0">' "$work/r.junit"
check "JUnit: setuid passes (allowed)" grep -q '<testcase name="setuid" classname="reproimg.audit.checks" time="0"/>' "$work/r.junit"
check "github: an error for private-key" grep -q '^::error title=reproimg audit%3A private-key' "$work/r.github"
if [ -f "$schemas/sarif/sarif-schema-2.1.0.json" ] && [ -f "$schemas/junit/JUnit.xsd" ] && command -v xmllint > /dev/null; then
  check "SARIF validates against SARIF 2.1.0" "$PY" -m jsonschema -i "$work/r.sarif" "$schemas/sarif/sarif-schema-2.1.0.json"
  check "JUnit validates against Ant's schema" xmllint --noout --schema "$schemas/junit/JUnit.xsd" "$work/r.junit"
else
  echo "NOTICE: schemas not found under $schemas (or no xmllint): SARIF and JUnit not validated"
fi

# --- dive's fixture: dive's own figures ------------------------------------------------------------
dive_tar=$conformance/dive/data/test-docker-image.tar
if [ -f "$dive_tar" ]; then
  rc=0
  "$REPROIMG" audit "docker-archive:$dive_tar" --format json > "$work/dive.json" || rc=$?
  equal "dive image: exit 0 or 1" True "$([ "$rc" -le 1 ] && echo True || echo False)"
  equal "dive: wasted bytes" 32025 "$(q "$work/dive.json" "r['facts']['efficiency']['wasted_bytes']")"
  equal "dive: efficiency" 0.9844212134184309 "$(q "$work/dive.json" "repr(r['facts']['efficiency']['efficiency'])")"
  equal "dive: size bytes" 1220598 "$(q "$work/dive.json" "r['facts']['efficiency']['size_bytes']")"
  equal "dive: user size bytes" 66237 "$(q "$work/dive.json" "r['facts']['efficiency']['user_size_bytes']")"
  equal "dive: wasted-space finding" 32025 \
    "$(q "$work/dive.json" "[f for f in r['findings'] if f['check'] == 'wasted-space'][0]['attributes']['wasted_bytes']")"
else
  echo "NOTICE: $dive_tar not found: dive's figures not checked"
fi

# --- busybox, as moby's contrib/mkimage-busybox.sh makes it -----------------------------------------
bb=${REPROIMG_STATIC_BUSYBOX:-}
if [ -z "$bb" ] && command -v busybox > /dev/null && file -L "$(command -v busybox)" 2>/dev/null | grep -q 'statically linked'; then
  bb=$(command -v busybox)
fi
if [ -n "$bb" ] && [ -x "$bb" ]; then
  rootfs=$work/busybox
  mkdir -p "$rootfs/bin"
  cp "$bb" "$rootfs/bin/busybox"
  (
    cd "$rootfs"
    IFS=$'\n'
    for module in $(bin/busybox --list-modules); do
      mkdir -p "$(dirname "$module")"
      ln -sf /bin/busybox "$module"
    done
  )
  tar --numeric-owner -C "$rootfs" -cf "$work/busybox.tar" .
  "$REPROIMG" import -q "$work/busybox.tar" --tag busybox:latest -o "$work/bb-oci"
  rc=0
  "$REPROIMG" audit "oci:$work/bb-oci" --format json > "$work/bb.json" || rc=$?
  equal "busybox: exit 0" 0 "$rc"
  equal "busybox: nothing above low but root-user" "[]" \
    "$(q "$work/bb.json" "[f['check'] for f in r['findings'] if f['severity'] not in ('info', 'low') and f['check'] != 'root-user']")"
  equal "busybox: root-user" True "$(q "$work/bb.json" "any(f['check'] == 'root-user' for f in r['findings'])")"
else
  echo "NOTICE: no static busybox (set REPROIMG_STATIC_BUSYBOX, e.g. from Debian's busybox-static): busybox image not audited"
fi

finish
