#!/usr/bin/env bash
# -o docker:// with --digestfile against Debian's docker-registry started here on 127.0.0.1 (plain
# HTTP, --tls-verify=false): the digest file holds the pushed manifest digest, the one -o DIR gives,
# and the registry serves it; a second push sends no blob again (HEAD first); --digestfile without a
# push and a docker:// output of another format are refused. build FROM an image: its layer is sent
# while the build checks it and committed only after; a base whose layer fails the diff_id check
# leaves nothing in the registry (the early upload is cancelled, never committed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
if ! command -v docker-registry > /dev/null 2>&1 || ! command -v curl > /dev/null 2>&1; then
  echo "SKIP: test_docker_push: docker-registry (Debian's docker-registry package) or curl is not installed"
  exit 77
fi

mkdir -p "$work/rootfs/etc"
printf 'pushed\n' > "$work/rootfs/etc/motd"
head -c 100000 /dev/urandom > "$work/rootfs/etc/blob"
run "$REPROIMG" import "dir:$work/rootfs" -o "$work/o" --digestfile "$work/d"
says_error "--digestfile without a push" 2 "--digestfile: only with -o docker://REF"
run "$REPROIMG" import "dir:$work/rootfs" -o docker://127.0.0.1:1/x:1 --format oci-archive
says_error "a docker:// output of another format" 2 "a registry takes an OCI image"

port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/config.yml" <<YML
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $work/data
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$work/config.yml" > "$work/registry.log" 2>&1 &
registry_pid=$!
trap 'kill "$registry_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" > /dev/null && break; sleep 0.1; done
export XDG_CACHE_HOME="$work/cache"

"$REPROIMG" import -q "dir:$work/rootfs" -o "$work/local"
want=$("$REPROIMG" digest --json "oci:$work/local" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["manifest_digest"])')
run "$REPROIMG" import -q "dir:$work/rootfs" -o "docker://127.0.0.1:$port/t/img:v1" --tls-verify=false --digestfile "$work/digest"
equal "push" 0 "$rc"
equal "the digest file: the oci: output's manifest digest" "$want" "$(cat "$work/digest")"
check "prints the pushed reference" grep -qF "Pushed 127.0.0.1:$port/t/img:v1@$want" "$work/stdout"
served=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://127.0.0.1:$port/v2/t/img/manifests/v1" | sha256sum | cut -d' ' -f1)
equal "the registry serves that manifest" "$want" "sha256:$served"
uploads() { grep -c '"PUT /v2/t/img/blobs/uploads/' "$work/registry.log" || true; }
before=$(uploads)
equal "the first push uploaded config and layer" 2 "$before"
run "$REPROIMG" import -q "dir:$work/rootfs" -o "docker://127.0.0.1:$port/t/img:v2" --tls-verify=false
equal "a second push" 0 "$rc"
equal "a second push uploads nothing (HEAD first)" "$before" "$(uploads)"

# build FROM oci: -o docker://: the base's layer goes while the build checks it.
mkdir -p "$work/ctx"
printf 'FROM oci:%s\n' "$work/local" > "$work/ctx/Dockerfile"
"$REPROIMG" build -q -f "$work/ctx/Dockerfile" "$work/ctx" -o "$work/built"
want=$("$REPROIMG" digest --json "oci:$work/built" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["manifest_digest"])')
run "$REPROIMG" build -q -f "$work/ctx/Dockerfile" "$work/ctx" -o "docker://127.0.0.1:$port/t/built:v1" --tls-verify=false --digestfile "$work/digest"
equal "build FROM -o docker://" 0 "$rc"
equal "build's pushed digest: the -o DIR build's" "$want" "$(cat "$work/digest")"
equal "pulled back: the same manifest" "$want" \
  "$("$REPROIMG" digest --json --no-cache "docker://127.0.0.1:$port/t/built:v1" --tls-verify=false | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["manifest_digest"])')"

# A base whose config names another diff_id (its blobs' digests made consistent again): the build
# refuses it, and the layer it had begun to send is not stored.
layer=$("$PY" "$here/rewrite_layout.py" "$work/local" "$work/tampered" 0 diffid)
printf 'FROM oci:%s\n' "$work/tampered" > "$work/ctx/Dockerfile"
run "$REPROIMG" build -q -f "$work/ctx/Dockerfile" "$work/ctx" -o "docker://127.0.0.1:$port/t/bad:v1" --tls-verify=false
says_error "a base layer that fails its diff_id check" 2 "diff_id"
status=$(curl -s -o /dev/null -w '%{http_code}' -I "http://127.0.0.1:$port/v2/t/bad/blobs/$layer")
equal "the layer begun early was not committed" 404 "$status"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/t/bad/manifests/v1")
equal "no manifest pushed" 404 "$status"
finish
