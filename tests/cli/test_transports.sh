#!/usr/bin/env bash
# Transports are not content: one image moved by skopeo and podman between every container format
# they write compares `identical` or `equivalent` in `reproimg diff`, every pair of them.
#
# Two images (one layer from `reproimg import`; four layers from `reproimg build` FROM it), each in:
# the OCI layout we wrote; skopeo's oci-archive, docker-archive, directory transport (`dir:`, OCI
# manifest) and directory transport in Docker schema 2 (`--format v2s2`); the OCI layout skopeo
# makes back from the docker-archive; and, loaded into a private podman store, `podman save` in its
# four formats (docker-archive, oci-archive, oci-dir, docker-dir) of the image it loaded from the
# docker-archive. For every pair: the verdict is
# identical or equivalent, the only causes are `format` and `compression` (never `manifest`, never
# a file), and every blob digest a record shows is a sha256. `reproimg digest` of every copy gives
# the same diff_ids; what else is the same, and what is not, is checked below as observed. Each
# copy normalises to the same bytes, which is what makes `equivalent` true. podman parts are
# skipped with a notice where podman cannot run.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_tools skopeo cmp
schema=$(cd "$(dirname "$0")/../../docs" && pwd)/diff-report.schema.json
cd "$work"
export SOURCE_DATE_EPOCH=1700000000

# --- the two images -----------------------------------------------------------------------------
mkdir -p rootfs/etc rootfs/bin ctx/d
echo hello > rootfs/etc/hello
printf '#!/bin/sh\necho hi\n' > rootfs/bin/hi
chmod 755 rootfs/bin/hi
"$REPROIMG" import -q dir:rootfs --tag 1 --change 'CMD ["/bin/hi"]' -o single.oci
echo app > ctx/app.txt
echo z > ctx/d/z
cat > ctx/Dockerfile <<'EOF'
FROM oci:single.oci:1
COPY app.txt /srv/app.txt
ENV A=1
COPY d /opt/d
LABEL org.example.k=v
COPY app.txt /srv/again.txt
EOF
"$REPROIMG" build -q -f ctx/Dockerfile ctx --tag 2 -o multi.oci

# --- podman, in a private store (as tests/cli/test_podman.sh) -----------------------------------
podman_ok=
if command -v podman >/dev/null 2>&1; then
  mkdir -p podman/root podman/runroot podman/tmp
  printf '[containers]\ndefault_ulimits = []\n' > containers.conf
  export CONTAINERS_CONF=$work/containers.conf
  pod=(podman --root "$work/podman/root" --runroot "$work/podman/runroot" --tmpdir "$work/podman/tmp"
       --runtime runc --cgroup-manager cgroupfs --storage-driver vfs --events-backend none)
  # shellcheck disable=SC2317 # called from the EXIT trap
  cleanup_podman() { "${pod[@]}" rmi -a -f >/dev/null 2>&1 || true; }
  trap 'cleanup_podman; rm -rf "$work"' EXIT
  if "${pod[@]}" images >/dev/null 2>podman-err.txt; then
    podman_ok=1
  else
    echo "SKIP (podman parts): podman cannot run here: $(tail -n 1 podman-err.txt)"
  fi
else
  echo "SKIP (podman parts): podman is not installed"
fi

# copies NAME TAG: every transport's copy of NAME.oci; prints one reference per line.
copies() {
  local name=$1 tag=$2
  echo "oci:$name.oci:$tag"
  skopeo copy -q "oci:$name.oci:$tag" "oci-archive:$name.skopeo.oci-archive.tar"
  echo "oci-archive:$name.skopeo.oci-archive.tar"
  skopeo copy -q "oci:$name.oci:$tag" "docker-archive:$name.skopeo.docker-archive.tar:localhost/$name:$tag"
  echo "docker-archive:$name.skopeo.docker-archive.tar"
  skopeo copy -q "oci:$name.oci:$tag" "dir:$name.skopeo.dir"
  echo "dir:$name.skopeo.dir"
  skopeo copy -q --format v2s2 "oci:$name.oci:$tag" "dir:$name.skopeo-v2s2.dir"
  echo "dir:$name.skopeo-v2s2.dir"
  skopeo copy -q "docker-archive:$name.skopeo.docker-archive.tar" "oci:$name.from-docker.oci:$tag"
  echo "oci:$name.from-docker.oci:$tag"
  if [ -n "$podman_ok" ]; then
    "${pod[@]}" load -q -i "$name.skopeo.docker-archive.tar" >/dev/null
    local format
    for format in docker-archive oci-archive oci-dir docker-dir; do
      "${pod[@]}" save -q --format "$format" -o "$name.podman.$format" "localhost/$name:$tag"
      case $format in
        docker-archive) echo "docker-archive:$name.podman.$format" ;;
        oci-archive) echo "oci-archive:$name.podman.$format" ;;
        oci-dir) echo "oci:$name.podman.$format" ;;
        docker-dir) echo "dir:$name.podman.$format" ;;
      esac
    done
  fi
}

for image in single:1 multi:2; do
  name=${image%%:*}
  mapfile -t refs < <(copies "$name" "${image#*:}")
  : > "$name.pairs"
  # Every pair, not just against the original: --accept-normalizable makes `equivalent` exit 0.
  for ((i = 0; i < ${#refs[@]}; i++)); do
    for ((j = i + 1; j < ${#refs[@]}; j++)); do
      n=$((i * 100 + j))
      rc=0
      "$REPROIMG" diff --accept-normalizable --format json "${refs[i]}" "${refs[j]}" > "$name.$n.json" 2> "$name.$n.err" || rc=$?
      equal "$name: diff ${refs[i]} ${refs[j]} exits 0 ($(head -c 200 "$name.$n.err"))" 0 "$rc"
      echo "$name.$n.json" >> "$name.pairs"
    done
    "$REPROIMG" digest --json "${refs[i]}" > "$name.digest.$i.json"
    "$REPROIMG" normalize -q "${refs[i]}" --format oci-archive --tag n -o "$name.normalized.$i.tar"
    same_bytes "$name: ${refs[i]} normalises to the bytes the original does" "$name.normalized.0.tar" \
      "$name.normalized.$i.tar"
  done
  printf '%s\n' "${refs[@]}" > "$name.refs"
done

if ! "$PY" -c 'import jsonschema' 2>/dev/null; then
  echo "FAIL: $PY has no jsonschema module (scripts/install-deps.sh installs python3-jsonschema)" >&2
  exit 1
fi
# shellcheck disable=SC2317 # called through check
check_reports() {
  "$PY" - "$schema" "$@" <<'EOF'
import json, re, sys
import jsonschema
validator = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
sha = re.compile(r"^sha256:[0-9a-f]{64}$")
bad = []
for pairs in sys.argv[2:]:
    for path in open(pairs).read().split():
        r = json.load(open(path))
        where = f"{r['a']} vs {r['b']}"
        for e in validator.iter_errors(r):
            bad.append(f"{where}: not as docs/diff-report.schema.json says: {e.message[:200]}")
        if r["verdict"] not in ("identical", "equivalent"):
            bad.append(f"{where}: verdict {r['verdict']}")
        for d in r["differences"]:
            if d["cause"] not in ("format", "compression"):
                bad.append(f"{where}: a {d['cause']} record at {d['path']!r}")
            if not d["normalizable"]:
                bad.append(f"{where}: {d['cause']} at {d['path']!r} is not normalizable")
            for side in d["attributes"].get("blob_digest", []):
                if not isinstance(side, str) or not sha.match(side):
                    bad.append(f"{where}: layer {d['layer']}: blob digest {side!r}")
        if r["summary"].get("format") and "format" not in r["hints"]:
            bad.append(f"{where}: no hint for format")
for b in bad:
    print("   ", b)
sys.exit(1 if bad else 0)
EOF
}
check "every pair: identical or equivalent, only format/compression, every blob digest shown, the report schema" \
  check_reports single.pairs multi.pairs

# ...and the records say what the transports did: the docker-archive's manifest is none, its layers
# plain tars; skopeo's v2s2 keeps the gzip bytes under Docker's types; the config re-encoded is a
# config: record with both digests.
# shellcheck disable=SC2317 # called through check
check_known_pairs() {
  "$PY" - <<'EOF'
import json, sys
refs = open("multi.refs").read().split("\n")[:-1]
def report(a, b):
    i, j = refs.index(a), refs.index(b)
    return json.load(open(f"multi.{i * 100 + j}.json"))
def records(r, path=None, layer=None):
    return [d for d in r["differences"] if d["path"] == path or (layer is not None and d["layer"] == layer)]
bad = []
r = report("oci:multi.oci:2", "docker-archive:multi.skopeo.docker-archive.tar")
m = records(r, "manifest:")
if len(m) != 1 or m[0]["attributes"].get("manifest_media_type", [None, 0])[1] is not None:
    bad.append(f"oci vs docker-archive: manifest record {m}")
for n in range(4):
    l = records(r, layer=n)
    if len(l) != 1 or l[0]["cause"] != "format" or l[0]["attributes"]["compression"] != ["gzip", "none"]:
        bad.append(f"oci vs docker-archive: layer {n}: {l}")
r = report("oci:multi.oci:2", "dir:multi.skopeo-v2s2.dir")
for n in range(4):
    l = records(r, layer=n)
    if len(l) != 1 or l[0]["attributes"]["blob_digest"][0] != l[0]["attributes"]["blob_digest"][1]:
        bad.append(f"oci vs v2s2: layer {n}: {l}")
r = report("oci:multi.oci:2", "oci:multi.from-docker.oci:2")
c = records(r, "config:")
if len(c) != 1 or c[0]["cause"] != "format" or c[0]["attributes"]["config_digest"][0] == c[0]["attributes"]["config_digest"][1]:
    bad.append(f"oci vs from-docker: config record {c}")
for b in bad:
    print("   ", b)
sys.exit(1 if bad else 0)
EOF
}
check "the records name what each transport did" check_known_pairs

# What the transports keep and what they change, as observed (skopeo 1.9, podman 4.3):
#  - diff_ids: the same everywhere (the layers' tars are not touched);
#  - the config: the same bytes (image ID) everywhere but where an image read from a docker-archive
#    is written with an OCI manifest (skopeo copy docker-archive: oci:, and podman save --format
#    oci-archive or oci-dir of the image podman loaded from it): the config is re-encoded (same
#    JSON, other key order). OCI to Docker keeps its bytes;
#  - the manifest digest: the same for the OCI layout, the oci-archive and the directory transport
#    (skopeo copies the manifest's bytes), none for a docker-archive, another for the rest;
#  - blob digests: every layer has one, a docker-archive's included (there the diff_id: uncompressed).
# shellcheck disable=SC2317 # called through check
check_digests() {
  "$PY" - "$@" <<'EOF'
import glob, json, sys
bad = []
for name in sys.argv[1:]:
    refs = open(name + ".refs").read().split("\n")[:-1]
    docs = [json.load(open(f"{name}.digest.{i}.json")) for i in range(len(refs))]
    original = docs[0]
    for ref, doc in zip(refs, docs):
        diff_ids = [l["diff_id"] for l in doc["layers"]]
        if diff_ids != [l["diff_id"] for l in original["layers"]]:
            bad.append(f"{ref}: diff_ids {diff_ids}")
        reencoded = ref.startswith((f"oci:{name}.from-docker.oci", f"oci-archive:{name}.podman.", f"oci:{name}.podman."))
        if (doc["config_digest"] == original["config_digest"]) == reencoded:
            bad.append(f"{ref}: config digest {doc['config_digest']} (original {original['config_digest']})")
        same_manifest = ref.split(":")[1] in (f"{name}.oci", f"{name}.skopeo.oci-archive.tar", f"{name}.skopeo.dir")
        if (doc["manifest_digest"] == original["manifest_digest"]) != same_manifest:
            bad.append(f"{ref}: manifest digest {doc['manifest_digest']}")
        if ref.startswith("docker-archive:") and doc["manifest_digest"] != "":
            bad.append(f"{ref}: a docker-archive with a manifest digest {doc['manifest_digest']}")
        for l in doc["layers"]:
            if not l["blob_digest"].startswith("sha256:"):
                bad.append(f"{ref}: blob digest {l['blob_digest']!r}")
            if ref.startswith("docker-archive:") and l["blob_digest"] != l["diff_id"]:
                bad.append(f"{ref}: a docker-archive layer stored compressed ({l['compression']})")
for b in bad:
    print("   ", b)
sys.exit(1 if bad else 0)
EOF
}
check "digest: the same diff_ids everywhere; config and manifest digests as the transports keep them" \
  check_digests single multi

# The text report says why: the format cause and its hint, for the docker-archive the bug report named.
"$REPROIMG" diff oci:single.oci:1 docker-archive:single.skopeo.docker-archive.tar > text.txt || true
check "text report: equivalent, by format" grep -q '^verdict: equivalent' text.txt
check "text report: the hint names the containers and the decompressed layer" \
  grep -q 'oci vs docker-archive; manifest OCI vs none (docker-archive); 1 layer stored uncompressed' text.txt
check "text report: no manifest cause" bash -c '! grep -q "^  manifest " text.txt'

# A rootfs that merely has a file named version (and a manifest.json) is a rootfs, not an image.
mkdir -p notimage/etc
echo '1.0.2' > notimage/version
echo '{}' > notimage/manifest.json
"$REPROIMG" digest dir:notimage > notimage.txt
check "dir: of a rootfs with a version file is a rootfs" grep -q '^canonical ' notimage.txt
# import packs a rootfs: the directory transport is refused, in one line naming it.
rc=0
"$REPROIMG" import -q dir:single.skopeo.dir -o refused.oci 2> refused.txt || rc=$?
equal "import of a dir: image: exit 2" 2 "$rc"
equal "import of a dir: image: one line" 1 "$(wc -l < refused.txt)"
check "import of a dir: image: the message names it" grep -q "single.skopeo.dir: an image in skopeo's directory transport" refused.txt
check "import of a dir: image: nothing written" test ! -e refused.oci
# build FROM the directory transport: the base's layers kept as they are. podman's docker-dir
# labels its uncompressed layers "...tar.gzip"; they are taken by their bytes.
base_dir=multi.skopeo-v2s2.dir
[ -z "$podman_ok" ] || base_dir=multi.podman.docker-dir
printf 'FROM dir:%s\nCOPY app.txt /x\n' "$work/$base_dir" > ctx/Dockerfile.dir
"$REPROIMG" build -q -f ctx/Dockerfile.dir ctx -o from-dir.oci
"$REPROIMG" digest --json from-dir.oci > from-dir.json
# shellcheck disable=SC2317 # called through check
keeps_base() {
  "$PY" - <<'EOF'
import json, sys
base = [l["diff_id"] for l in json.load(open("multi.digest.0.json"))["layers"]]
built = [l["diff_id"] for l in json.load(open("from-dir.json"))["layers"]]
sys.exit(0 if built[:len(base)] == base and len(built) == len(base) + 1 else 1)
EOF
}
check "build FROM dir:$base_dir keeps the base's diff_ids" keeps_base

finish
