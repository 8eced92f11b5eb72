#!/usr/bin/env bash
# reproimg copy between local transports: the bytes kept (manifest digest, image ID, every blob),
# the destination's tag, a Docker schema 2 manifest kept as it is, a docker-archive made into an OCI
# image and back with its image ID, an index's platform picked; every blob checked before it is
# kept: a layer whose bytes or size differ from its descriptor, or whose compression is not its
# media type's, is exit 2 naming it with nothing written; a config whose diff_id lies is copied as
# it is by default (nothing is decompressed) and refused with --check-contents; outputs byte-identical
# across runs, time zones and locales; the source never modified.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
make="$PY $here/../registry/make_images.py"

field() { "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval("d" + sys.argv[2]))' "$@"; }
# identity REF [OPTION...]: "MANIFEST CONFIG" as digest --json reads them.
identity() {
  "$REPROIMG" digest --json "$@" > "$work/id.json"
  echo "$(field "$work/id.json" '.get("manifest_digest", "")') $(field "$work/id.json" '["config_digest"]')"
}
tree_sum() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1; }

$make image "$work/a" --tag v1 --seed cp --layers 3 --size 200000 > /dev/null

# rewrite DIR LAYER MODE: a copy of a with one thing changed (rewrite_layout.py says what);
# prints the layer's digest.
rewrite() { rm -rf "$1"; "$PY" "$here/rewrite_layout.py" "$work/a" "$1" "$2" "$3"; }
want=$(identity "oci:$work/a:v1")
source_sum=$(tree_sum "$work/a")

# oci -> oci: the same manifest and config; every blob byte-identical; the tag the destination names.
run "$REPROIMG" copy "oci:$work/a:v1" "oci:$work/b:copied"
equal "oci -> oci" 0 "$rc"
equal "oci -> oci keeps the manifest digest and image ID" "$want" "$(identity "oci:$work/b:copied")"
check "prints the manifest digest" grep -qF "manifest  ${want% *}" "$work/stdout"
for blob in "$work"/a/blobs/sha256/*; do
  same_bytes "blob $(basename "$blob")" "$blob" "$work/b/blobs/sha256/$(basename "$blob")"
done
equal "the tag of the destination" copied "$(field "$work/b/index.json" '["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]')"
equal "the platform in the index" amd64 "$(field "$work/b/index.json" '["manifests"][0]["platform"]["architecture"]')"

# Archives: oci-archive keeps both digests; docker-archive keeps the image ID (it has no manifest)
# and comes back as an OCI image with that ID.
run "$REPROIMG" copy "oci:$work/a:v1" "oci-archive:$work/a.tar:v1"
equal "oci -> oci-archive" 0 "$rc"
equal "oci-archive keeps both digests" "$want" "$(identity "oci-archive:$work/a.tar")"
run "$REPROIMG" copy "oci:$work/a:v1" "docker-archive:$work/d.tar:example.com/a:v1"
equal "oci -> docker-archive" 0 "$rc"
equal "docker-archive keeps the image ID" "${want#* }" "$(identity "docker-archive:$work/d.tar" | cut -d' ' -f2)"
tar -xOf "$work/d.tar" manifest.json > "$work/dm.json"
equal "docker-archive RepoTags" "example.com/a:v1" "$(field "$work/dm.json" '[0]["RepoTags"][0]')"
run "$REPROIMG" copy "docker-archive:$work/d.tar" "oci:$work/from-docker"
equal "docker-archive -> oci" 0 "$rc"
equal "docker-archive -> oci keeps the image ID" "${want#* }" "$(identity "oci:$work/from-docker" | cut -d' ' -f2)"
diff_ids() { "$REPROIMG" digest --json "$1" | "$PY" -c 'import json, sys; print(" ".join(l["diff_id"] for l in json.load(sys.stdin)["layers"]))'; }
equal "docker-archive -> oci: the layers' diff_ids (stored uncompressed now)" "$(diff_ids "oci:$work/a:v1")" "$(diff_ids "oci:$work/from-docker")"

# A Docker schema 2 manifest: kept as it is (its digest and media type), in the OCI layout's index.
rewrite "$work/docker2" 0 docker2 > /dev/null
want2=$(identity "oci:$work/docker2")
run "$REPROIMG" copy "oci:$work/docker2" "$work/docker2-copy"
equal "a Docker schema 2 image" 0 "$rc"
equal "its manifest digest kept" "$want2" "$(identity "oci:$work/docker2-copy")"
equal "its media type in the index" "application/vnd.docker.distribution.manifest.v2+json" \
  "$(field "$work/docker2-copy/index.json" '["manifests"][0]["mediaType"]')"

# An index: --platform picks an image, copied with its own manifest digest.
idx_digest=$($make index "$work/idx" --tag multi --seed ix --platforms linux/amd64,linux/arm64/v8)
arm=$("$PY" -c 'import json, sys; print([m["digest"] for m in json.load(open(sys.argv[1]))["manifests"] if m["platform"]["architecture"] == "arm64"][0])' "$work/idx/blobs/sha256/${idx_digest#sha256:}")
run "$REPROIMG" copy --platform linux/arm64/v8 "oci:$work/idx:multi" "oci:$work/arm"
equal "an index with --platform" 0 "$rc"
equal "the arm64 image's manifest" "$arm" "$(identity "oci:$work/arm" | cut -d' ' -f1)"
equal "its platform in the index" "arm64 v8" \
  "$(field "$work/arm/index.json" '["manifests"][0]["platform"]["architecture"]') $(field "$work/arm/index.json" '["manifests"][0]["platform"]["variant"]')"
run "$REPROIMG" copy --platform linux/s390x "oci:$work/idx:multi" "oci:$work/none"
says_error "a platform the index lacks" 2 "linux/s390x"

# --all: the index whole, its digest kept, every platform's image in it, readable per platform.
run "$REPROIMG" copy --all "oci:$work/idx:multi" "oci:$work/all:m"
equal "--all" 0 "$rc"
check "--all prints the index digest" grep -qF "manifest  $idx_digest" "$work/stdout"
equal "--all: the index's digest in the layout" "$idx_digest" "$(field "$work/all/index.json" '["manifests"][0]["digest"]')"
same_bytes "--all: the index's bytes" "$work/idx/blobs/sha256/${idx_digest#sha256:}" "$work/all/blobs/sha256/${idx_digest#sha256:}"
for p in linux/amd64 linux/arm64/v8; do
  from_source=$(identity "oci:$work/idx:multi" --platform "$p")
  equal "--all: the $p image" "$from_source" "$(identity "oci:$work/all:m" --platform "$p")"
done
for blob in "$work"/idx/blobs/sha256/*; do
  same_bytes "--all: blob $(basename "$blob")" "$blob" "$work/all/blobs/sha256/$(basename "$blob")"
done
run "$REPROIMG" copy --all "oci:$work/all:m" "oci-archive:$work/all.tar"
equal "--all into an oci-archive" 0 "$rc"
equal "--all: the oci-archive's index" "$idx_digest" "$(tar -xOf "$work/all.tar" index.json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["manifests"][0]["digest"])')"
run "$REPROIMG" copy --all "oci:$work/a:v1" "oci:$work/all-single"
equal "--all of one image: that image" "$want" "$(identity "oci:$work/all-single")"
run "$REPROIMG" copy --all "oci:$work/idx:multi" "docker-archive:$work/all-d.tar"
says_error "--all into a docker-archive" 2 "docker-archive takes one image"
run "$REPROIMG" copy --all --platform linux/amd64 "oci:$work/idx:multi" "oci:$work/all-p"
says_error "--all with --platform" 2 "drop --platform"

# An index with an attestation (BuildKit's, platform unknown/unknown): read, locked and verified
# for its images only; copied whole by --all, the attestation with it.
att=$("$PY" "$here/rewrite_layout.py" "$work/idx" "$work/att" 0 attest)
run "$REPROIMG" lock "oci:$work/att:multi" -o "$work/att.lock"
equal "lock of an index with an attestation" 0 "$rc"
equal "its images locked, the attestation not" "linux/amd64 linux/arm64/v8" \
  "$("$PY" -c 'import json, sys; print(" ".join(i["platform"] for i in json.load(open(sys.argv[1]))["images"]))' "$work/att.lock")"
run "$REPROIMG" copy --all "oci:$work/att:multi" "oci:$work/att-copy:multi"
equal "--all of it" 0 "$rc"
equal "--all keeps the index with the attestation" "$att" "$(field "$work/att-copy/index.json" '["manifests"][0]["digest"]')"
run "$REPROIMG" verify "oci:$work/att-copy:multi" --lock "$work/att.lock"
equal "the copy verifies against the lock" 0 "$rc"

# Determinism: the same copy under another time zone and locale, twice, gives the same archive.
TZ=Pacific/Kiritimati LC_ALL=C "$REPROIMG" copy -q "oci:$work/a:v1" "oci-archive:$work/again.tar:v1"
same_bytes "oci-archive bytes across time zones and locales" "$work/a.tar" "$work/again.tar"
cat "$work/a/index.json" > /dev/null
equal "the source is not modified" "$source_sum" "$(tree_sum "$work/a")"

# Every blob checked before it is kept.
for mode in flip cut plain; do
  layer=$(rewrite "$work/t-$mode" 1 "$mode")
  for opt in "" --check-contents; do
    run "$REPROIMG" copy $opt "oci:$work/t-$mode" "oci:$work/out-$mode"
    says_error "a layer changed ($mode) ${opt:-by default}" 2 "${layer#sha256:}"
    check "$mode ${opt:-by default}: nothing written" test ! -e "$work/out-$mode"
    check "$mode ${opt:-by default}: no staging left" test -z "$(ls -A "$work" | grep -F 'out-'"$mode"'.tmp' || true)"
  done
done
layer=$(rewrite "$work/t-diffid" 2 diffid)
run "$REPROIMG" copy "oci:$work/t-diffid" "oci:$work/out-diffid"
equal "a config whose diff_id lies: copied as it is by default (nothing decompressed)" 0 "$rc"
run "$REPROIMG" copy --check-contents "oci:$work/t-diffid" "oci:$work/out-diffid2"
says_error "a config whose diff_id lies, --check-contents" 2 "diff_id"
check "--check-contents: nothing written" test ! -e "$work/out-diffid2"
run "$REPROIMG" digest "oci:$work/out-diffid"
says_error "the copy of the lying config: every read of it still refuses it" 2 "diff_id"

# Usage: where a copy cannot go.
mkdir -p "$work/full" && touch "$work/full/x"
run "$REPROIMG" copy "oci:$work/a:v1" "oci:$work/full"
says_error "a destination directory that is not empty" 2 "already exists"
run "$REPROIMG" copy "oci:$work/a:v1" "oci:$work/a"
says_error "the source as destination" 2 "overwrite the source"
run "$REPROIMG" copy "oci-archive:$work/a.tar" "oci-archive:$work/../$(basename "$work")/a.tar"
says_error "the source as destination, spelt another way" 2 "overwrite the source"
run "$REPROIMG" copy "oci:$work/a:v1" "dir:$work/dirt"
says_error "the directory transport as destination" 2 "dir:"
printf 'x' > "$work/layer.tar"
run "$REPROIMG" copy "$work/layer.tar" "oci:$work/l"
says_error "a source that is no image" 2 "not an image"
run "$REPROIMG" copy "oci:$work/a:v1"
says_error "no destination" 2 "want SOURCE and DESTINATION"
finish
