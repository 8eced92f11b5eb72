#!/usr/bin/env bash
# reproimg import: deterministic OCI images that skopeo, umoci and oci-image-tool accept.
set -euo pipefail
: "${REPROIMG:?set REPROIMG to the reproimg binary}"
for tool in skopeo umoci oci-image-tool; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed (scripts/install-deps.sh installs it)"
    exit 77
  fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail=0
check() { if "$@"; then :; else echo "FAIL: $*"; fail=1; fi; }

# A small rootfs, packed by two tar programs at two times.
mkdir -p rootfs/bin rootfs/etc rootfs/usr/share
printf '#!/bin/sh\necho hi\n' > rootfs/bin/hello && chmod 755 rootfs/bin/hello
echo 'ID=test' > rootfs/etc/os-release
ln -s ../../bin/hello rootfs/usr/share/hello-link
ln rootfs/etc/os-release rootfs/etc/os-release.hard
chown 1234:5678 rootfs/etc/os-release
touch -d '2024-01-01' rootfs/bin/hello  # both after E: clamped to E
tar -C rootfs --format=gnu -czf a.tar.gz .
touch -d '2024-06-01' rootfs/bin/hello
bsdtar -C rootfs --format pax --zstd -cf b.tar.zst .

export SOURCE_DATE_EPOCH=1700000000
changes=(--change 'CMD ["/bin/hello"]' --change 'ENV PATH=/bin LANG=C.UTF-8' --change 'LABEL org.example=1' \
         --change 'EXPOSE 8080' --change 'WORKDIR /srv' --change 'USER 1000')
"$REPROIMG" import -q a.tar.gz --tag test:1 "${changes[@]}" -o oci-a
"$REPROIMG" import -q b.tar.zst --tag test:1 "${changes[@]}" -o oci-b
check diff -r oci-a oci-b
"$REPROIMG" import -q dir:rootfs --tag test:1 "${changes[@]}" -o oci-dir
# The directory's mtimes are the build's own (after E), clamped like the tars': same image.
check diff -r oci-a oci-dir

# Archives: byte-identical twice, and equal to the layout's content.
"$REPROIMG" import -q a.tar.gz --tag test:1 "${changes[@]}" --format oci-archive -o a1.tar
"$REPROIMG" import -q b.tar.zst --tag test:1 "${changes[@]}" --format oci-archive -o a2.tar
check cmp a1.tar a2.tar

# skopeo reads all of them, and reports the digests we print.
json=$("$REPROIMG" import a.tar.gz --json --tag test:1 "${changes[@]}" -o oci-c)
manifest=$(printf '%s' "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest_digest"])')
diff_id=$(printf '%s' "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["diff_id"])')
inspect=$(skopeo inspect oci:oci-a:test-not-there 2>/dev/null || true)
check test -z "$inspect"
skopeo inspect oci:oci-a:test:1 > inspect.json
check python3 - "$manifest" <<'PY'
import json, sys
doc = json.load(open("inspect.json"))
assert doc["Digest"] == sys.argv[1], (doc["Digest"], sys.argv[1])
assert doc["Created"] == "2023-11-14T22:13:20Z", doc["Created"]
assert doc["Architecture"] == "amd64" and doc["Os"] == "linux"
assert "PATH=/bin" in doc["Env"] and "LANG=C.UTF-8" in doc["Env"], doc["Env"]
assert doc["Labels"] == {"org.example": "1"}, doc["Labels"]
PY
skopeo inspect --config oci:oci-a:test:1 > config.json
check python3 - "$diff_id" <<'PY'
import json, sys
cfg = json.load(open("config.json"))
assert cfg["rootfs"]["diff_ids"] == [sys.argv[1]], cfg["rootfs"]
assert cfg["config"]["Cmd"] == ["/bin/hello"]
assert cfg["config"]["WorkingDir"] == "/srv" and cfg["config"]["User"] == "1000"
assert cfg["config"]["ExposedPorts"] == {"8080/tcp": {}}
assert all(h["created"] == "2023-11-14T22:13:20Z" for h in cfg["history"])
PY
check skopeo inspect oci-archive:a1.tar >/dev/null
# skopeo copy into other formats, and back.
check skopeo copy -q oci:oci-a:test:1 docker-archive:docker.tar:test:1
check skopeo copy -q oci-archive:a1.tar oci:copied:1
check skopeo inspect docker-archive:docker.tar >/dev/null

# The diff_id is what sha256sum of the uncompressed layer gives.
layer=$(python3 -c 'import json; m=json.load(open("oci-a/blobs/sha256/"+json.load(open("oci-a/index.json"))["manifests"][0]["digest"][7:])); print(m["layers"][0]["digest"][7:])')
check test "sha256:$(gzip -dc "oci-a/blobs/sha256/$layer" | sha256sum | cut -d' ' -f1)" = "$diff_id"

# oci-image-tool validates the layout against the OCI schemas.
check oci-image-tool validate --type image --ref name=test:1 oci-a

# umoci unpacks the rootfs: content, mode, owner, symlink, hardlink.
check umoci unpack --image oci-a:test:1 bundle >/dev/null
check cmp bundle/rootfs/bin/hello rootfs/bin/hello
check test "$(stat -c %a bundle/rootfs/bin/hello)" = 755
check test "$(stat -c %u:%g bundle/rootfs/etc/os-release)" = 1234:5678
check test "$(readlink bundle/rootfs/usr/share/hello-link)" = ../../bin/hello
check test "$(stat -c %i bundle/rootfs/etc/os-release)" = "$(stat -c %i bundle/rootfs/etc/os-release.hard)"

# The empty base image, from a tar of nothing (its end blocks only), as Docker's docs make it.
tar -cf - --files-from /dev/null | "$REPROIMG" import -q - -o scratch
check skopeo inspect oci:scratch >/dev/null
# An empty input is not an empty layer: a download that never started must not become one.
if "$REPROIMG" import -q - -o scratch-empty < /dev/null 2>err.txt; then echo "FAIL: an empty input was imported"; fail=1; fi
check grep -q "empty: no tar header" err.txt
check test ! -e scratch-empty

# Refusals: an existing non-empty output, an unknown --change instruction; nothing is left behind.
mkdir taken && touch taken/x
if "$REPROIMG" import -q a.tar.gz -o taken 2>err.txt; then echo "FAIL: overwrote a non-empty directory"; fail=1; fi
check grep -q "already exists" err.txt
set +e
"$REPROIMG" import -q a.tar.gz --change 'RUN true' -o new 2>err.txt
rc=$?
set -e
check test "$rc" = 2
check test ! -e new
check test -z "$(ls -d new.tmp.* 2>/dev/null)"

if [ "$fail" -ne 0 ]; then exit 1; fi
echo "import: all checks passed"
