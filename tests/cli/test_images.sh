#!/usr/bin/env bash
# Reading images: every image in the conformance corpora is read, or refused with exit 2 and a
# message naming the file; normalising an image is deterministic and skopeo reads the result.
set -euo pipefail
: "${REPROIMG:?set REPROIMG to the reproimg binary}"
corpus=${REPROIMG_CONFORMANCE_DIR:-}
if [ -z "$corpus" ] || [ ! -d "$corpus/go-containerregistry" ]; then
  echo "SKIP: conformance corpus not found (set REPROIMG_CONFORMANCE_DIR)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
check() { if "$@"; then :; else echo "FAIL: $*"; fail=1; fi; }

# name -> expected exit code of `reproimg digest --canonical`; 2 with the reason.
declare -A expect=(
  [go-containerregistry/pkg/v1/tarball/testdata/test_image_1.tar]=0
  [go-containerregistry/pkg/v1/tarball/testdata/test_image_2.tar]=0
  [go-containerregistry/pkg/v1/tarball/testdata/test_load_manifest.tar]=0
  [go-containerregistry/pkg/v1/tarball/testdata/hello-world-v25.tar]=0
  [docker-archive:go-containerregistry/pkg/v1/tarball/testdata/test_bundle.tar:@0]=0
  [docker-archive:go-containerregistry/pkg/v1/tarball/testdata/test_link.tar:@1]=0
  [docker-archive:go-containerregistry/pkg/v1/tarball/testdata/test_link.tar:bazel/v1/tarball:test_image_3]=0
  [go-containerregistry/pkg/v1/tarball/testdata/test_bundle.tar]=2        # two images: which one?
  [docker-archive:go-containerregistry/pkg/v1/tarball/testdata/no_manifest.tar]=2
  [go-containerregistry/pkg/v1/tarball/testdata/null_manifest.tar]=2
  [go-containerregistry/pkg/v1/mutate/testdata/whiteout_image.tar]=0
  [go-containerregistry/pkg/v1/mutate/testdata/overwritten_file.tar]=0
  # Its config is named 6e0b05...json but its sha256 is 05b5ec...: in a docker-archive the name is the
  # only check of the config (and through it of every diff_id), so a mismatch is refused as tampering.
  [go-containerregistry/pkg/v1/mutate/testdata/source_image_with_empty_layer_history.tar]=2
  [go-containerregistry/pkg/v1/layout/testdata/test_index_one_image]=0
  [go-containerregistry/pkg/v1/layout/testdata/test_index_media_type]=2   # a Helm chart, not an image
  [go-containerregistry/pkg/v1/layout/testdata/test_gc_image_unknown_mediatype]=2 # blobs missing
  [containers-image/docker/archive/fixtures/almostempty.tar]=0
  [containers-image/oci/layout/fixtures/delete_image_only_one_image]=2  # config size differs from its descriptor
  [containers-image/oci/layout/fixtures/name_lookups]=2                  # index only, no blobs
  [regclient/testdata/testrepo]=2                                        # 48 manifests: which one?
  [oci:regclient/testdata/testrepo:v1]=0
  [dive/data/test-docker-image.tar]=0
  [dive/data/test-kaniko-image.tar]=0
  [dive/data/test-oci-gzip-image.tar]=0
  [dive/data/test-oci-zstd-image.tar]=0
  [dive/data/test-oci-uncompressed-image.tar]=0
  [dive/data/test-oci-estargz-image.tar]=0
)
cd "$corpus"
for name in $(printf '%s\n' "${!expect[@]}" | sort); do
  set +e
  timeout 60 "$REPROIMG" digest --canonical "$name" >"$work/out" 2>"$work/err"
  rc=$?
  set -e
  if [ "$rc" != "${expect[$name]}" ]; then
    echo "FAIL: $name: exit $rc, expected ${expect[$name]}: $(head -1 "$work/err")"
    fail=1
  elif [ "$rc" = 2 ]; then
    lines=$(wc -l < "$work/err")
    file=${name#*:}; file=${file%%:*}
    check test "$lines" = 1
    check grep -q "$(basename "$file")" "$work/err"
    echo "refused as expected: $name: $(cut -c1-160 "$work/err")"
  fi
done
# --platform picks one image of an index.
check "$REPROIMG" digest oci:regclient/testdata/testrepo:b1 --platform linux/arm64 >/dev/null

# The identities we print are the ones skopeo reports.
img=go-containerregistry/pkg/v1/tarball/testdata/test_image_1.tar
ours=$("$REPROIMG" digest --json "$img" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["config_digest"], *[l["diff_id"] for l in d["layers"]])')
theirs=$(skopeo inspect --config "docker-archive:$img" | python3 -c 'import json,sys,hashlib; d=json.load(sys.stdin); print(*d["rootfs"]["diff_ids"])')
check test "${ours#* }" = "$theirs"

# Normalising an image: twice gives the same bytes; the canonical image ID digest --canonical
# predicts is the one written; skopeo and umoci read the result.
cd "$work"
export SOURCE_DATE_EPOCH=1700000000
src="$corpus/go-containerregistry/pkg/v1/mutate/testdata/whiteout_image.tar"
"$REPROIMG" normalize -q "$src" -o n1 --tag 1
"$REPROIMG" normalize -q "$src" -o n2 --tag 1
check diff -r n1 n2
"$REPROIMG" normalize -q "$src" -o n1.tar --format oci-archive
"$REPROIMG" normalize -q "$src" -o n2.tar --format oci-archive
check cmp n1.tar n2.tar
predicted=$("$REPROIMG" digest --canonical --json "$src" | python3 -c 'import json,sys; print(json.load(sys.stdin)["canonical_config_digest"])')
written=$("$REPROIMG" digest --json oci:n1:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["config_digest"])')
check test "$predicted" = "$written"
check skopeo inspect oci:n1:1 >/dev/null
check skopeo inspect oci-archive:n1.tar >/dev/null
created=$(skopeo inspect --config oci:n1:1 | python3 -c 'import json,sys; c=json.load(sys.stdin); print(c["created"], *sorted({h["created"] for h in c.get("history", [])}))')
check test "$created" = "2023-11-14T22:13:20Z 2023-11-14T22:13:20Z"
# A docker-archive written by skopeo (gzip layers become tar) normalises to the same image as the
# OCI layout it came from.
check skopeo copy -q oci:n1:1 docker-archive:from-oci.tar:test:1
"$REPROIMG" normalize -q from-oci.tar -o n3 --tag 1
check diff -r n1 n3
# A tampered blob is refused, naming it.
cp -r n1 bad
layer=$(python3 -c 'import json; m=json.load(open("bad/blobs/sha256/"+json.load(open("bad/index.json"))["manifests"][0]["digest"][7:])); print(m["layers"][0]["digest"][7:])')
chmod u+w "bad/blobs/sha256/$layer"
printf 'x' >> "bad/blobs/sha256/$layer"
set +e
"$REPROIMG" digest oci:bad:1 2>err.txt
rc=$?
set -e
check test "$rc" = 2
check grep -q "$layer" err.txt

if [ "$fail" -ne 0 ]; then exit 1; fi
echo "images: all checks passed"
