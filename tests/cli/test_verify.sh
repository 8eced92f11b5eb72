#!/usr/bin/env bash
# reproimg lock and verify: the seed's two ways (import --profile debian of a debootstrap-style
# rootfs, build FROM scratch + ADD + CMD) locked and rebuilt from the same inputs pass at every
# level; one change at a time (mtime, owner, mode, content, a log added, a file removed, the layer
# recompressed) fails with exactly that path and cause; the lock is deterministic and validates
# against docs/lock.schema.json; the strict reader refuses bad locks (exit 2); the attestation
# has every field in-toto Statement v1 and SLSA VSA v1 require.
set -euo pipefail
. "$(dirname "$0")/common.sh"

need_tools tar gzip cmp
root=$(cd "$(dirname "$0")/../.." && pwd)
schema=$root/docs/lock.schema.json
cd "$work"
umask 022

# make_tar OUT VARIANT [ORDER]: a debootstrap-style rootfs as a tar (python's tarfile: owners,
# modes and times as given), with one change per variant; ORDER reverse writes the entries in the
# other order. Every time is before E (1700000000), so the image keeps it.
make_tar() {
  "$PY" - "$@" <<'PYEOF'
import io, sys, tarfile
out, variant = sys.argv[1], sys.argv[2]
order = sys.argv[3] if len(sys.argv) > 3 else "forward"
T = 1000000000
entries = [
    ("etc", "dir", 0o755, 0, None),
    ("etc/os-release", "file", 0o644, 0, b"ID=repro\n"),
    ("usr", "dir", 0o755, 0, None),
    ("usr/bin", "dir", 0o755, 0, None),
    ("usr/bin/hello", "file", 0o755, 0, b"#!/bin/sh\necho hello\n"),
    ("var", "dir", 0o755, 0, None),
    ("var/log", "dir", 0o755, 0, None),
    ("var/log/dpkg.log", "file", 0o644, 0, b"2024-01-01 install hello\n"),
]
mtime = {}
if variant == "mtime": mtime["usr/bin/hello"] = T + 500
if variant == "owner": entries[4] = ("usr/bin/hello", "file", 0o755, 1234, entries[4][4])
if variant == "mode": entries[4] = ("usr/bin/hello", "file", 0o700, 0, entries[4][4])
if variant == "content": entries[4] = ("usr/bin/hello", "file", 0o755, 0, b"#!/bin/sh\necho HELLO\n")
if variant == "log": entries.append(("var/log/app.log", "file", 0o644, 0, b"built at 12:00\n"))
if variant == "removed": entries = [e for e in entries if e[0] != "etc/os-release"]
if order == "reverse": entries = entries[::-1]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tf:
    for name, kind, mode, uid, data in entries:
        ti = tarfile.TarInfo(name)
        ti.mode, ti.uid, ti.gid, ti.mtime = mode, uid, uid, mtime.get(name, T)
        if kind == "dir":
            ti.type = tarfile.DIRTYPE
            tf.addfile(ti)
        else:
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
PYEOF
}

# recompress DIR: layer 0 of the OCI layout gzipped again at another level, the manifest and
# index rewritten to name it (the same uncompressed layer, other blob bytes).
recompress() {
  "$PY" - "$1" <<'PYEOF'
import gzip, hashlib, json, os, sys
d = sys.argv[1]
def blob(dg): return os.path.join(d, "blobs", "sha256", dg.split(":")[1])
def put(data):
    dg = "sha256:" + hashlib.sha256(data).hexdigest()
    open(blob(dg), "wb").write(data)
    return dg
index = json.load(open(os.path.join(d, "index.json")))
mdesc = index["manifests"][0]
manifest = json.load(open(blob(mdesc["digest"])))
layer = manifest["layers"][0]
raw = gzip.decompress(open(blob(layer["digest"]), "rb").read())
data = gzip.compress(raw, compresslevel=1, mtime=0)
layer["digest"], layer["size"] = put(data), len(data)
mbytes = json.dumps(manifest, separators=(",", ":"), sort_keys=True).encode()
mdesc["digest"], mdesc["size"] = put(mbytes), len(mbytes)
open(os.path.join(d, "index.json"), "w").write(json.dumps(index, separators=(",", ":")))
PYEOF
}

export SOURCE_DATE_EPOCH=1700000000
import_tar() { "$REPROIMG" import -q --profile debian "$1" -o "$2"; }

# run_verify NAME IMAGE LOCK LEVEL: runs verify with a JSON report into NAME.json, the text into
# NAME.txt; prints the exit code.
run_verify() {
  local rc=0
  "$REPROIMG" verify "$2" --lock "$3" --level "$4" --format json --output "$1.json" 2>"$1.err" || rc=$?
  "$REPROIMG" verify "$2" --lock "$3" --level "$4" >"$1.txt" 2>>"$1.err" || true
  echo "$rc"
}

# failing NAME: "cause path" per failing record of a JSON verify report.
failing() { "$PY" -c 'import json,sys; [print(f["cause"], f["path"]) for f in json.load(open(sys.argv[1]))["verify"]["failing"]]' "$1.json"; }

# --- the import way ------------------------------------------------------------------------------
make_tar base.tar base
import_tar base.tar img-a
# E=0 clamps every time to 0: mtimes are normalised away.
"$REPROIMG" lock --source-date-epoch 0 oci:img-a -o a.lock
# A policy that keeps the times (E after them all; here $SOURCE_DATE_EPOCH): mtimes are then
# part of the canonical and files levels.
"$REPROIMG" lock oci:img-a -o a-keep.lock
make_tar base2.tar base reverse
import_tar base2.tar img-a2
for level in bit canonical files; do
  equal "import rebuilt, $level" 0 "$(run_verify same-$level oci:img-a2 a.lock $level)"
done
check "text report says PASSED" grep -q '^verify: PASSED at bit: bit match' same-bit.txt

# expect_fail NAME VARIANT LEVEL LOCK CAUSE PATH: a rebuild with VARIANT fails LEVEL naming CAUSE at PATH.
expect_fail() {
  local name=$1 variant=$2 level=$3 lock=$4 cause=$5 path=$6
  [ -d "img-$variant" ] || { make_tar "$variant.tar" "$variant"; import_tar "$variant.tar" "img-$variant"; }
  equal "$name: exit" 1 "$(run_verify "$name" "oci:img-$variant" "$lock" "$level")"
  local got
  got=$(failing "$name")
  if [ "$level" = bit ]; then
    got=$("$PY" -c 'import json,sys; [print(d["cause"], d.get("path","")) for d in json.load(open(sys.argv[1]))["report"]["differences"]]' "$name.json")
  fi
  check "$name: '$cause $path' in [$got]" grep -qxF "$cause $path" <<<"$got"
  check "$name: text names $path" grep -qF "$path" "$name.txt"
}
expect_pass() {
  local name=$1 variant=$2 level=$3 lock=$4
  [ -d "img-$variant" ] || { make_tar "$variant.tar" "$variant"; import_tar "$variant.tar" "img-$variant"; }
  equal "$name: exit" 0 "$(run_verify "$name" "oci:img-$variant" "$lock" "$level")"
}

# mtime: normalised away at canonical (E=0 clamps it), at files only if the policy keeps it, at bit.
expect_fail mtime-bit mtime bit a.lock mtime usr/bin/hello
expect_pass mtime-canonical mtime canonical a.lock
check "mtime: canonical says the stricter level differs" grep -q 'canonical match; bit-level differs: mtime' mtime-canonical.txt
expect_pass mtime-files mtime files a.lock
expect_fail mtime-files-kept mtime files a-keep.lock mtime usr/bin/hello
for variant in owner:owner-id mode:mode content:content; do
  v=${variant%%:*}
  for level in bit canonical files; do
    expect_fail "$v-$level" "$v" "$level" a.lock "${variant#*:}" usr/bin/hello
  done
done
expect_fail log-files log files a.lock volatile-path var/log/app.log
expect_fail removed-files removed files a.lock removed etc/os-release
# A content change names both digests (the lock has no old bytes to show).
"$PY" - content-files.json <<'PYEOF' || fail "content: both sha256 digests in the record"
import hashlib, json, sys
doc = json.load(open(sys.argv[1]))
rec = [d for d in doc["report"]["differences"] if d["cause"] == "content" and d["path"] == "usr/bin/hello"][0]
want = ["sha256:" + hashlib.sha256(b).hexdigest() for b in (b"#!/bin/sh\necho hello\n", b"#!/bin/sh\necho HELLO\n")]
assert rec["attributes"]["sha256"] == want, rec["attributes"]
PYEOF
pass
# The layer recompressed: bit fails (compression), canonical and files hold and say so.
cp -r img-a img-z
recompress img-z
expect_fail recompressed-bit z bit a.lock compression ""
equal "recompressed canonical: exit" 0 "$(run_verify recompressed-canonical oci:img-z a.lock canonical)"
check "recompressed: 'canonical match; bit-level differs: compression'" \
  grep -q 'canonical match; bit-level differs: compression' recompressed-canonical.txt
equal "recompressed files: exit" 0 "$(run_verify recompressed-files oci:img-z a.lock files)"

# --- the build way -------------------------------------------------------------------------------
make_ctx() {
  mkdir -p "$1"
  printf '#!/bin/sh\necho run\n' > "$1/script.sh"
  printf 'FROM scratch\nADD script.sh /usr/local/bin/run.sh\nCMD ["/usr/local/bin/run.sh"]\n' > "$1/Dockerfile"
  find "$1" -exec touch -h -d "@$2" {} +
}
make_ctx ctx1 1710000000
make_ctx ctx2 1720000000
"$REPROIMG" build -q ctx1 -o oci-b1
"$REPROIMG" build -q ctx2 -o oci-b2
"$REPROIMG" lock oci:oci-b1 -o b.lock
for level in bit canonical files; do
  equal "build rebuilt, $level" 0 "$(run_verify build-$level oci:oci-b2 b.lock $level)"
done
make_ctx ctx3 1710000000
printf '#!/bin/sh\necho edited\n' > ctx3/script.sh
"$REPROIMG" build -q ctx3 -o oci-b3
for level in canonical files; do
  equal "run.sh edited, $level: exit" 1 "$(run_verify build-edit-$level oci:oci-b3 b.lock $level)"
  check "run.sh edited, $level: content usr/local/bin/run.sh" grep -qx 'content usr/local/bin/run.sh' <(failing build-edit-$level)
done

# --- verify's CI reports: junit and sarif valid against the published schemas, github one command a line
schemas=${REPROIMG_SCHEMAS_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/schemas}
for f in junit sarif github; do
  rc=0
  GITHUB_STEP_SUMMARY="$work/summary.md" "$REPROIMG" verify oci:oci-b3 --lock b.lock --level files --format "$f" \
    --output "edit.$f" 2>/dev/null || rc=$?
  equal "run.sh edited, --format $f: exit" 1 "$rc"
  check "run.sh edited, --format $f names the path" grep -q 'usr/local/bin/run.sh' "edit.$f"
done
check "github: the markdown report appended to the step summary" grep -q 'reproimg verify' "$work/summary.md"
check "github: an error line for content" grep -q '^::error title=reproimg verify%3A content' edit.github
if [ -f "$schemas/junit/JUnit.xsd" ] && command -v xmllint >/dev/null 2>&1; then
  check "verify junit valid against JUnit.xsd" xmllint --noout --schema "$schemas/junit/JUnit.xsd" edit.junit
else
  echo "NOTICE: $schemas/junit/JUnit.xsd or xmllint absent: verify's junit not validated"
fi
if [ -f "$schemas/sarif/sarif-schema-2.1.0.json" ] && "$PY" -c 'import jsonschema' 2>/dev/null; then
  check "verify sarif valid against SARIF 2.1.0" "$PY" -m jsonschema -i edit.sarif "$schemas/sarif/sarif-schema-2.1.0.json"
else
  echo "NOTICE: the SARIF schema or python3-jsonschema absent: verify's sarif not validated"
fi

# --- the lock: deterministic, valid, read strictly ------------------------------------------------
mkdir -p elsewhere
(cd elsewhere && LC_ALL=C TZ=Asia/Tokyo "$REPROIMG" lock --source-date-epoch 0 "oci:$work/img-a2" -o "$work/a2.lock")
same_bytes "lock of the rebuild (other locale, TZ, cwd, entry order)" a.lock a2.lock
mkdir -p rootfs-1 rootfs-2
tar -C rootfs-1 -xf base.tar
tar -C rootfs-2 -xf base2.tar
LC_ALL=C.UTF-8 TZ=UTC "$REPROIMG" lock dir:rootfs-1 -o r1.lock
(cd rootfs-2 && LC_ALL=C TZ=America/New_York "$REPROIMG" lock dir:. -o ../r2.lock)
same_bytes "lock of a rootfs written in another order" r1.lock r2.lock
equal "rootfs verify files" 0 "$(run_verify rootfs dir:rootfs-2 r1.lock files)"
"$REPROIMG" lock base.tar -o t.lock
equal "layer tar verify bit" 0 "$(run_verify tar base.tar t.lock bit)"
if "$PY" -c 'import jsonschema' 2>/dev/null; then
  for l in a.lock a-keep.lock b.lock r1.lock t.lock; do
    check "$l validates against docs/lock.schema.json" "$PY" -m jsonschema -i "$l" "$schema"
  done
else
  fail "python3-jsonschema is missing (scripts/install-deps.sh installs it)"
fi

# refuse NAME PYTHON-EDIT WORDS: an edited lock is refused with exit 2, naming the file and WORDS.
refuse() {
  "$PY" -c "import json,sys; d=json.load(open('a.lock')); $2; json.dump(d, open('$1', 'w'))"
  local rc=0
  "$REPROIMG" verify oci:img-a --lock "$1" 2>"$1.err" >/dev/null || rc=$?
  equal "$1 refused: exit" 2 "$rc"
  check "$1 refused: message names the file and '$3'" grep -qF "$1: $3" "$1.err"
}
refuse bad-schema.lock 'd["schema"]="reproimg-lock/2"' "/schema"
refuse bad-mode.lock 'd["images"][0]["files"][0]["mode"]=0o17777' "/images/0/files/0/mode"
refuse bad-digest.lock 'd["images"][0]["layers"][0]["digest"]="md5:00"' "/images/0/layers/0/digest"
refuse bad-order.lock 'd["images"][0]["files"].reverse()' "/images/0/files/1/path"
refuse no-policy.lock 'del d["policy"]' "/policy"
printf '{"schema": "reproimg-lock/1",' > truncated.lock
rc=0; "$REPROIMG" verify oci:img-a --lock truncated.lock 2>truncated.err >/dev/null || rc=$?
equal "truncated lock: exit" 2 "$rc"
"$REPROIMG" lock --source-date-epoch 0 --no-files oci:img-a -o nofiles.lock
rc=0; "$REPROIMG" verify oci:img-a --lock nofiles.lock --level files 2>nofiles.err >/dev/null || rc=$?
equal "--level files with a --no-files lock: exit" 2 "$rc"
equal "--no-files lock, canonical" 0 "$(run_verify nofiles oci:img-mtime nofiles.lock canonical)"
"$REPROIMG" lock --no-files oci:img-a -o nofiles-keep.lock
equal "--no-files lock keeping mtimes, canonical: exit" 1 "$(run_verify nofiles-keep oci:img-mtime nofiles-keep.lock canonical)"
check "--no-files mismatch names the layer's canonical diff_id" grep -q 'canonical mismatch: layer 0 canonical diff_id' nofiles-keep.txt

# --- the attestation ------------------------------------------------------------------------------
SOURCE_DATE_EPOCH=1700000000 "$REPROIMG" verify oci:img-a2 --lock a.lock --level canonical --attest pass.intoto.json -q
SOURCE_DATE_EPOCH=1700000000 "$REPROIMG" verify oci:img-a2 --lock a.lock --level canonical --attest pass2.intoto.json -q
same_bytes "attestation bytes are deterministic" pass.intoto.json pass2.intoto.json
rc=0; "$REPROIMG" verify oci:img-mode --lock a.lock --level files --attest fail.intoto.json -q || rc=$?
equal "failing verify with --attest: exit" 1 "$rc"
"$PY" - pass.intoto.json fail.intoto.json a.lock img-a2 <<'PYEOF' || fail "attestation fields (in-toto Statement v1, SLSA VSA v1)"
import hashlib, json, re, sys
ok, bad, lock, img = sys.argv[1:5]
lock_hex = hashlib.sha256(open(lock, "rb").read()).hexdigest()
manifest = json.load(open(img + "/index.json"))["manifests"][0]["digest"].split(":")[1]
for path, result in ((ok, "PASSED"), (bad, "FAILED")):
    s = json.load(open(path))
    assert s["_type"] == "https://in-toto.io/Statement/v1"
    assert isinstance(s["subject"], list) and s["subject"]
    for sub in s["subject"]:
        assert isinstance(sub["name"], str) and sub["name"]
        assert all(re.fullmatch("[0-9a-f]{64}", v) for v in sub["digest"].values()) and "sha256" in sub["digest"]
    assert s["predicateType"] == "https://slsa.dev/verification_summary/v1"
    p = s["predicate"]
    assert isinstance(p["verifier"]["id"], str) and p["verifier"]["id"].startswith("https://")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["timeVerified"])
    assert isinstance(p["resourceUri"], str) and p["resourceUri"]
    assert p["policy"]["digest"]["sha256"] == lock_hex and p["policy"]["uri"] == lock
    assert p["verificationResult"] == result
    assert isinstance(p["verifiedLevels"], list) and p["verifiedLevels"]
    assert all(re.fullmatch("[A-Z0-9_]+", l) for l in p["verifiedLevels"])
    assert (p["verifiedLevels"] == ["FAILED"]) == (result == "FAILED")
    assert isinstance(p.get("dependencyLevels", {}), dict) and isinstance(p.get("inputAttestations", []), list)
ok_doc = json.load(open(ok))
assert ok_doc["subject"][0]["digest"]["sha256"] == manifest
assert ok_doc["predicate"]["timeVerified"] == "2023-11-14T22:13:20Z"
PYEOF
pass

finish
