#!/usr/bin/env bash
# reproimg's docker:// against a real registry on 127.0.0.1 (tests/registry/harness.py), with skopeo
# as the peer client: what reproimg pushes (import, build, normalize -o docker://) skopeo pulls with
# the same digests and bytes; what skopeo pushes (OCI and Docker schema 2, gzip and zstd, a
# multi-platform index) reproimg reads, locks, verifies, diffs and audits; `diff docker://A
# docker://B` of two images pushed by two tools says what the local diff of the two says; a push
# sends no blob the registry holds and mounts a base image's layers; one command reads each blob
# once (the cache); errors exit 2 with one line naming registry, repository and status, and write
# nothing. The authenticated and TLS modes are tests/cli/test_registry_auth.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
. "$here/../registry/registry.sh"
registry_need docker-registry skopeo openssl curl
if ! "$REPROIMG" digest --help 2>/dev/null | grep -- '--tls-verify' >/dev/null; then
  echo "SKIP: test_registry_peers: this reproimg has no registry client (docker:// references)"
  exit 77
fi

export XDG_CACHE_HOME="$work/cache" SOURCE_DATE_EPOCH=1700000000
make="$PY $here/../registry/make_images.py"
img_a=$($make image "$work/a" --tag v1 --seed a)
$make image "$work/z" --tag v1 --seed z > /dev/null
$make index "$work/multi" --tag all --seed m > /dev/null
mkdir -p "$work/rootfs/etc" "$work/rootfs/usr/bin" "$work/ctx"
printf 'NAME="registry peers"\n' > "$work/rootfs/etc/os-release"
head -c 150000 /dev/urandom > "$work/rootfs/usr/bin/tool"
cp "$work/rootfs/usr/bin/tool" "$work/ctx/tool"
printf 'FROM scratch\nCOPY tool /usr/local/bin/tool\nCMD ["/usr/local/bin/tool"]\n' > "$work/ctx/Dockerfile"

registry_start plain plain
P=$plain_REGISTRY
insecure=(--tls-verify=false)

mkdir -p "$work/outs"

# --- reproimg pushes, skopeo pulls: import, build, normalize
rr import-oci import "dir:$work/rootfs" --tag v1 -o "$work/imp"
rr import-push import "dir:$work/rootfs" -o "docker://$P/r/imp:v1" "${insecure[@]}"
pushed_as "import -o docker://" "$work/imp" "$P/r/imp:v1" --tls-verify=false
rr build-oci build -f "$work/ctx/Dockerfile" "$work/ctx" -o "$work/built"
rr build-push build -f "$work/ctx/Dockerfile" "$work/ctx" -o "docker://$P/r/built:v1" "${insecure[@]}"
pushed_as "build -o docker://" "$work/built" "$P/r/built:v1" --tls-verify=false
rr normalize-oci normalize "oci:$work/a:v1" -o "$work/norm"
rr normalize-push normalize "oci:$work/a:v1" -o "docker://$P/r/norm:v1" "${insecure[@]}"
pushed_as "normalize -o docker://" "$work/norm" "$P/r/norm:v1" --tls-verify=false
rr push-again import "dir:$work/rootfs" -o "docker://$P/r/imp:v1" "${insecure[@]}"
equal "a second push of the same image" 0 "$rc"

# --- skopeo pushes, reproimg reads: OCI gzip, Docker schema 2, zstd, an index
skopeo copy -q --dest-tls-verify=false "oci:$work/a:v1" "docker://$P/peer/a:v1"
skopeo copy -q --format v2s2 --dest-tls-verify=false "oci:$work/a:v1" "docker://$P/peer/s2:v1"
skopeo copy -q --dest-compress --dest-compress-format zstd --dest-tls-verify=false "oci:$work/z:v1" "docker://$P/peer/zstd:v1"
skopeo copy -q --all --dest-tls-verify=false "oci:$work/multi:all" "docker://$P/peer/multi:v1"
"$REPROIMG" digest --json "oci:$work/a:v1" > "$work/local-a.json"
for repo in a s2 zstd; do
  rr "read-$repo" digest --json "docker://$P/peer/$repo:v1" "${insecure[@]}"
  equal "skopeo's $repo: read" 0 "$rc"
  equal "skopeo's $repo: the manifest digest skopeo sees" "$(remote_digest "$P/peer/$repo:v1" --tls-verify=false)" \
    "$(jget "$work/stdout" manifest_digest 2>/dev/null || true)"
done
"$PY" -c 'import json, sys; print(" ".join(l["diff_id"] for l in json.load(open(sys.argv[1]))["layers"]))' "$work/local-a.json" > "$work/want"
"$PY" -c 'import json, sys; print(" ".join(l["diff_id"] for l in json.load(open(sys.argv[1]))["layers"]))' "$work/outs/read-s2.out" > "$work/got" || true
same_bytes "skopeo's v2s2: the diff_ids of the OCI original" "$work/want" "$work/got"
check "skopeo's zstd: zstd layers read" grep -q '"compression": "zstd"' "$work/outs/read-zstd.out"
skopeo inspect --raw --tls-verify=false "docker://$P/peer/multi:v1" > "$work/index.json"
for arch in amd64 arm64; do
  want=$("$PY" -c 'import json, sys; print([m["digest"] for m in json.load(open(sys.argv[1]))["manifests"] if m["platform"]["architecture"] == sys.argv[2]][0])' "$work/index.json" "$arch")
  rr "index-$arch" digest --json --platform "linux/$arch" "docker://$P/peer/multi:v1" "${insecure[@]}"
  equal "skopeo's index: --platform linux/$arch" "$want" "$(jget "$work/stdout" manifest_digest 2>/dev/null || true)"
done
rr index-by-digest digest --json "docker://$P/peer/multi@$want" "${insecure[@]}"
equal "skopeo's index: a manifest by digest" "$want" "$(jget "$work/stdout" manifest_digest 2>/dev/null || true)"
if [ "$(uname -m)" = x86_64 ]; then
  amd64=$("$PY" -c 'import json, sys; print([m["digest"] for m in json.load(open(sys.argv[1]))["manifests"] if m["platform"]["architecture"] == "amd64"][0])' "$work/index.json")
  rr index-host digest --json "docker://$P/peer/multi:v1" "${insecure[@]}"
  equal "skopeo's index: the host's platform by default" "$amd64" "$(jget "$work/stdout" manifest_digest 2>/dev/null || true)"
fi
# the same index as a Docker manifest list
skopeo copy -q --all --format v2s2 --dest-tls-verify=false "oci:$work/multi:all" "docker://$P/peer/list:v1"
check "skopeo's manifest list: a Docker list" grep -q 'manifest.list.v2+json' <(skopeo inspect --raw --tls-verify=false "docker://$P/peer/list:v1")
rr list-arm64 digest --json --platform linux/arm64 "docker://$P/peer/list:v1" "${insecure[@]}"
equal "skopeo's manifest list: --platform linux/arm64 read" 0 "$rc"
check "skopeo's manifest list: the arm64 image" grep -q '"platform": "linux/arm64' "$work/stdout"

# lock and verify across transports; audit when this reproimg has it
rr lock lock "docker://$P/peer/a:v1" "${insecure[@]}" -o "$work/a.lock"
equal "lock docker://" 0 "$rc"
rr verify-remote verify "docker://$P/peer/s2:v1" --lock "$work/a.lock" --level files "${insecure[@]}"
equal "verify docker:// (skopeo's v2s2) against the lock of its OCI original, files" 0 "$rc"
rr verify-local verify "oci:$work/a:v1" --lock "$work/a.lock"
equal "verify the oci: original against the lock of its push" 0 "$rc"
rr verify-other verify "docker://$P/peer/zstd:v1" --lock "$work/a.lock" "${insecure[@]}"
equal "verify another image: a mismatch" 1 "$rc"
if "$REPROIMG" audit --help > /dev/null 2>&1; then
  rr audit audit "docker://$P/peer/s2:v1" "${insecure[@]}"
  check "audit docker:// (exit $rc)" test "$rc" -le 1
  check "audit docker://: a report" test -s "$work/stdout"
else
  echo "note: this reproimg has no audit command; the audit check did not run"
fi

# diff across tools: reproimg's push of imp against skopeo's v2s2 copy of the same layout says what
# the local diff of the two layouts says
skopeo copy -q --format v2s2 --dest-tls-verify=false "oci:$work/imp" "docker://$P/peer/imp-s2:v1"
skopeo copy -q --src-tls-verify=false "docker://$P/peer/imp-s2:v1" "oci:$work/imp-s2:x"
verdict() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["verdict"])' "$1" 2>/dev/null || echo none; }
rr diff-local diff "oci:$work/imp" "oci:$work/imp-s2:x" --format json
local_rc=$rc
cp "$work/stdout" "$work/diff-local.json"
rr diff-remote diff "docker://$P/r/imp:v1" "docker://$P/peer/imp-s2:v1" --format json "${insecure[@]}"
equal "diff docker:// docker://: the local diff's exit code" "$local_rc" "$rc"
equal "diff docker:// docker://: the local diff's verdict" "$(verdict "$work/diff-local.json")" "$(verdict "$work/stdout")"
rr diff-different diff "docker://$P/r/imp:v1" "docker://$P/peer/a:v1" "${insecure[@]}"
equal "diff of two different images" 1 "$rc"

# --- push: blobs the registry holds are not sent again (HEAD first); a base image's layers are
# mounted from the repository they were read from; build FROM docker:// is build FROM oci:
registry_proxy plain pushes
rr repush import "dir:$work/rootfs" -o "docker://$pushes_PROXY/r/imp:v1" "${insecure[@]}"
equal "a push of what the registry holds" 0 "$rc"
equal "a push of what the registry holds: no blob uploaded" 0 "$(kind_count "$pushes_PROXY_COUNTS" requests upload-put)"
at_least "a push of what the registry holds: its blobs asked for (HEAD)" 2 "$(kind_count "$pushes_PROXY_COUNTS" responses "blob-head 200")"
printf 'FROM docker://%s/peer/a:v1\nCOPY tool /usr/local/bin/tool\n' "$pushes_PROXY" > "$work/ctx/Dockerfile.remote"
printf 'FROM oci:%s:v1\nCOPY tool /usr/local/bin/tool\n' "$work/a" > "$work/ctx/Dockerfile.local"
rr child-local build -f "$work/ctx/Dockerfile.local" "$work/ctx" -o "$work/child"
rr child-push build -f "$work/ctx/Dockerfile.remote" "$work/ctx" -o "docker://$pushes_PROXY/r/child:v1" "${insecure[@]}"
pushed_as "build FROM docker:// -o docker://" "$work/child" "$pushes_PROXY/r/child:v1" --tls-verify=false
equal "build FROM docker://: the base's two layers mounted, not uploaded" 2 "$(kind_count "$pushes_PROXY_COUNTS" responses "mount 201")"
equal "build FROM docker://: the new layer and the config uploaded" 2 "$(kind_count "$pushes_PROXY_COUNTS" requests upload-put)"

# --- the cache: lock, verify and digest of one image fetch each blob once; --no-cache leaves it alone
export XDG_CACHE_HOME="$work/cache2"
registry_proxy plain counted
blobs=$("$PY" -c 'import json, sys; m = json.load(open(sys.argv[1])); print(1 + len(m["layers"]))' <(skopeo inspect --raw --tls-verify=false "docker://$P/peer/s2:v1"))
ref="docker://$counted_PROXY/peer/s2:v1"
rr cache-lock lock "$ref" "${insecure[@]}" -o "$work/s2.lock"
rr cache-verify verify "$ref" --lock "$work/s2.lock" --level files "${insecure[@]}"
equal "cache: verify" 0 "$rc"
rr cache-digest digest "$ref" "${insecure[@]}"
blob_gets() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["requests"].get("blob-get", 0))' "$counted_PROXY_COUNTS"; }
equal "cache: each blob fetched once by lock, verify and digest" "$blobs" "$(blob_gets)"
bad=0
for f in "$XDG_CACHE_HOME"/reproimg/blobs/sha256/*; do
  [ -f "$f" ] || continue
  [ "$(sha256_of "$f")" = "$(basename "$f")" ] || bad=$((bad + 1))
done
equal "cache: every cached file holds what its name says" 0 "$bad"
before=$(find "$XDG_CACHE_HOME" -type f | sort | sha256sum)
rr no-cache digest --no-cache "$ref" "${insecure[@]}"
equal "--no-cache: read" 0 "$rc"
at_least "--no-cache: the blobs fetched again" $((2 * blobs)) "$(blob_gets)"
equal "--no-cache: the cache unchanged" "$before" "$(find "$XDG_CACHE_HOME" -type f | sort | sha256sum)"

# two runs at once sharing one cache: both read the image, the cache holds whole blobs only
export XDG_CACHE_HOME="$work/cache3"
"$REPROIMG" digest --json "docker://$P/peer/zstd:v1" "${insecure[@]}" > "$work/par1" 2>&1 &
pid1=$!
"$REPROIMG" digest --json "docker://$P/peer/zstd:v1" "${insecure[@]}" > "$work/par2" 2>&1 &
pid2=$!
rc1=0 rc2=0
wait "$pid1" || rc1=$?
wait "$pid2" || rc2=$?
equal "a shared cache: two runs at once" "0 0" "$rc1 $rc2"
same_bytes "a shared cache: the same answer" "$work/par1" "$work/par2"
bad=0
for f in "$XDG_CACHE_HOME"/reproimg/blobs/sha256/*; do
  [ -f "$f" ] || continue
  [ "$(sha256_of "$f")" = "$(basename "$f")" ] || bad=$((bad + 1))
done
equal "a shared cache: every cached file whole" 0 "$bad"
cp "$work/par1" "$work/outs/par1.out"
cp "$work/par2" "$work/outs/par2.out"

# --- errors: exit 2, one line naming registry, repository and the registry's error; nothing written
rr no-tag lock "docker://$P/peer/a:no-such-tag" "${insecure[@]}" -o "$work/none.lock"
says_error "a missing tag" 2 "$P" "peer/a" "404" "MANIFEST_UNKNOWN"
check "a missing tag: no lock written" test ! -e "$work/none.lock"
rr no-repo digest "docker://$P/no/such-repo:v1" "${insecure[@]}"
says_error "a missing repository" 2 "$P" "no/such-repo" "404"
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REPROIMG_REGISTRY_ATTEMPTS=2 rr refused digest "docker://127.0.0.1:$port/x/y:v1" "${insecure[@]}"
says_error "a registry that is not there" 2 "127.0.0.1:$port"

finish
