#!/usr/bin/env bash
# reproimg copy with registries (Debian's docker-registry on 127.0.0.1, started here): a push keeps
# the source's manifest digest (skopeo pulls the same blobs); a pull into oci: keeps it; registry to
# registry within one registry mounts the blobs (nothing uploaded), to another registry with the
# destination's own credentials; a second push uploads nothing; a Docker schema 2 image skopeo
# pushed comes back byte for byte; a local layer whose bytes differ from its digest is refused
# (exit 2 naming it) and its upload, begun early, is cancelled: nothing stored, no manifest; an index
# (--all) pushed and pulled whole, its digest kept, skopeo on the other side.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
. "$here/../registry/registry.sh"
registry_need docker-registry skopeo openssl curl

export XDG_CACHE_HOME="$work/cache" SOURCE_DATE_EPOCH=1700000000
make="$PY $here/../registry/make_images.py"
$make image "$work/a" --tag v1 --seed cr --layers 3 --size 300000 > /dev/null
registry_start plain plain
registry_start auth basic
P=$plain_REGISTRY
B=$auth_REGISTRY
no_tls=(--tls-verify=false)
want=$(manifest_of "oci:$work/a:v1")
log=$plain_REGISTRY_LOG
patches() { grep -c "\"PATCH /v2/$1/blobs/uploads/" "$log" || true; }

# Push: the digest the layout has, printed and in --digestfile; skopeo pulls the same blobs.
rr push copy "oci:$work/a:v1" "docker://$P/r/a:v1" "${no_tls[@]}" --digestfile "$work/digest"
pushed_as "copy oci: -> docker://" "$work/a" "$P/r/a:v1" --tls-verify=false
equal "the digest file" "$want" "$(cat "$work/digest")"
before=$(patches r/a)
equal "three layers sent" 3 "$before"
rr again copy "oci:$work/a:v1" "docker://$P/r/a:v2" "${no_tls[@]}"
equal "a second push" 0 "$rc"
equal "a second push sends no blob" "$before" "$(patches r/a)"

# Pull: into an OCI layout, the same manifest and blobs.
rr pull copy --no-cache "docker://$P/r/a:v1" "oci:$work/pulled-back:x" "${no_tls[@]}"
equal "copy docker:// -> oci:" 0 "$rc"
equal "the pulled manifest digest" "$want" "$(manifest_of "oci:$work/pulled-back:x")"
check "the pulled blobs are the source's" diff -r "$work/a/blobs" "$work/pulled-back/blobs"

# Within one registry: mounted, not sent again.
rr mount copy "docker://$P/r/a:v1" "docker://$P/r/other:v1" "${no_tls[@]}"
equal "registry to registry" 0 "$rc"
equal "the other repository serves the same manifest" "$want" "$(remote_digest "$P/r/other:v1" --tls-verify=false)"
equal "nothing uploaded to the other repository" 0 "$(patches r/other)"
check "the layers were mounted" grep -q "POST /v2/r/other/blobs/uploads/?.*mount=" "$log"

# To another registry, with that registry's credentials (and the source read without any).
rr cross copy "docker://$P/r/a:v1" "docker://$B/r/a:v1" "${no_tls[@]}" \
  --dest-creds "$auth_REGISTRY_USER:$auth_REGISTRY_PASS"
equal "to another registry with --dest-creds" 0 "$rc"
equal "it serves the same manifest" "$want" \
  "$(remote_digest "$B/r/a:v1" --tls-verify=false --creds "$auth_REGISTRY_USER:$auth_REGISTRY_PASS")"
rr nocreds copy "docker://$P/r/a:v1" "docker://$B/r/b:v1" "${no_tls[@]}"
says_error "without credentials" 2 "$B" "r/b" "401"

# A Docker schema 2 image skopeo pushed: copied out and back, the same manifest bytes.
skopeo copy -q --format v2s2 --dest-tls-verify=false "oci:$work/a:v1" "docker://$P/r/d2:v1"
d2=$(remote_digest "$P/r/d2:v1" --tls-verify=false)
rr d2 copy "docker://$P/r/d2:v1" "oci:$work/d2" "${no_tls[@]}"
equal "a Docker schema 2 image into oci:" "$d2" "$(manifest_of "oci:$work/d2")"
rr d2back copy "oci:$work/d2" "docker://$P/r/d2b:v1" "${no_tls[@]}"
equal "and pushed again: the same digest" "$d2" "$(remote_digest "$P/r/d2b:v1" --tls-verify=false)"

# An index (--all): pushed whole with its digest, skopeo reads every platform; one skopeo pushed
# (--all) comes back into an OCI layout byte for byte.
idx_digest=$($make index "$work/idx" --tag multi --seed cx --platforms linux/amd64,linux/arm64/v8,linux/s390x)
rr all copy --all "oci:$work/idx:multi" "docker://$P/r/multi:v1" "${no_tls[@]}"
equal "--all push" 0 "$rc"
check "--all prints the index digest" grep -qF "$P/r/multi:v1@$idx_digest" "$work/stdout"
equal "the registry serves the index" "$idx_digest" "$(remote_digest "$P/r/multi:v1" --tls-verify=false)"
rm -rf "$work/sk-all"
check "skopeo copies it whole" skopeo copy -q --all --src-tls-verify=false "docker://$P/r/multi:v1" "oci:$work/sk-all:x"
check "with the same blobs" diff -r "$work/idx/blobs" "$work/sk-all/blobs"
skopeo copy -q --all --dest-tls-verify=false "oci:$work/idx:multi" "docker://$P/r/sk-multi:v1"
rr allpull copy --all --no-cache "docker://$P/r/sk-multi:v1" "oci:$work/all-back:x" "${no_tls[@]}"
equal "--all pull of what skopeo pushed" 0 "$rc"
equal "--all pull: the index digest" "$idx_digest" "$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$work/all-back/index.json")"
check "--all pull: the blobs" diff -r "$work/idx/blobs" "$work/all-back/blobs"

# A local layer whose bytes differ from its digest (same size): refused, nothing stored.
layer=$("$PY" "$here/rewrite_layout.py" "$work/a" "$work/bad" 1 flip)
rr bad copy "oci:$work/bad" "docker://$P/r/bad:v1" "${no_tls[@]}"
says_error "a layer whose bytes are not its digest's" 2 "${layer#sha256:}"
status=$(curl -s -o /dev/null -w '%{http_code}' -I "http://$P/v2/r/bad/blobs/$layer")
equal "the bad layer is not stored" 404 "$status"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://$P/v2/r/bad/manifests/v1")
equal "no manifest pushed" 404 "$status"
check "the upload begun early was cancelled" grep -q "\"DELETE /v2/r/bad/blobs/uploads/" "$log"

no_secret "copy's outputs" "$auth_REGISTRY_PASS" "$work"/outs/*
finish
