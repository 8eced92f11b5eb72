#!/usr/bin/env bash
# reproimg's docker:// against a real registry on 127.0.0.1 (tests/registry/harness.py) in each
# authenticated or encrypted mode, with skopeo as the peer client: htpasswd Basic auth (--creds, the
# auth file, anonymous and wrong passwords refused), TLS with a CA of the test's own (--cert-dir;
# an unknown CA refused; --tls-verify=false), token auth from the harness's token service (the push
# scope asked for); what reproimg pushes skopeo pulls with the same digests and bytes; a refused push
# tags nothing; no credential or token appears in any output or in the cache.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
. "$here/../registry/registry.sh"
registry_need docker-registry skopeo openssl htpasswd
if ! "$REPROIMG" digest --help 2>/dev/null | grep -- '--tls-verify' >/dev/null; then
  echo "SKIP: test_registry_auth: this reproimg has no registry client (docker:// references)"
  exit 77
fi

export XDG_CACHE_HOME="$work/cache" SOURCE_DATE_EPOCH=1700000000
mkdir -p "$work/rootfs/etc" "$work/rootfs/usr/bin" "$work/ctx"
printf 'NAME="registry peers"\n' > "$work/rootfs/etc/os-release"
head -c 150000 /dev/urandom > "$work/rootfs/usr/bin/tool"
cp "$work/rootfs/usr/bin/tool" "$work/ctx/tool"
printf 'FROM scratch\nCOPY tool /usr/local/bin/tool\nCMD ["/usr/local/bin/tool"]\n' > "$work/ctx/Dockerfile"

registry_start basic basic
registry_start tls tls
registry_start token token
insecure=(--tls-verify=false)

mkdir -p "$work/outs"

rr import-oci import "dir:$work/rootfs" --tag v1 -o "$work/imp"

# --- every mode: a push, then reproimg and skopeo read it back
creds="$basic_REGISTRY_USER:$basic_REGISTRY_PASS"
rr basic-push import "dir:$work/rootfs" -o "docker://$basic_REGISTRY/r/imp:v1" "${insecure[@]}" --creds "$creds"
pushed_as "basic" "$work/imp" "$basic_REGISTRY/r/imp:v1" --tls-verify=false --creds "$creds"
rr basic-anon digest "docker://$basic_REGISTRY/r/imp:v1" "${insecure[@]}"
says_error "basic: anonymous" 2 "$basic_REGISTRY" "r/imp" "401" "UNAUTHORIZED"
rr basic-wrong digest "docker://$basic_REGISTRY/r/imp:v1" "${insecure[@]}" --creds "$basic_REGISTRY_USER:not-the-password"
says_error "basic: a wrong password" 2 "$basic_REGISTRY" "401"
# the auth file, as skopeo and podman write it
mkdir -p "$work/auth"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$basic_REGISTRY" "$(printf '%s' "$creds" | base64 -w0)" > "$work/auth/auth.json"
REGISTRY_AUTH_FILE="$work/auth/auth.json" rr basic-authfile digest --json "docker://$basic_REGISTRY/r/imp:v1" "${insecure[@]}"
equal "basic: credentials from \$REGISTRY_AUTH_FILE" 0 "$rc"
# --authfile (skopeo's option): read in place of $REGISTRY_AUTH_FILE, which here holds a wrong password
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$basic_REGISTRY" "$(printf '%s' "$basic_REGISTRY_USER:wrong" | base64 -w0)" > "$work/auth/wrong.json"
REGISTRY_AUTH_FILE="$work/auth/wrong.json" rr basic-wrongfile digest --json "docker://$basic_REGISTRY/r/imp:v1" "${insecure[@]}"
says_error "basic: a wrong password in \$REGISTRY_AUTH_FILE" 2 "$basic_REGISTRY" "401"
REGISTRY_AUTH_FILE="$work/auth/wrong.json" rr basic-authfile-opt digest --json "docker://$basic_REGISTRY/r/imp:v1" "${insecure[@]}" --authfile "$work/auth/auth.json"
equal "basic: --authfile wins over \$REGISTRY_AUTH_FILE" 0 "$rc"
rr basic-authfile-missing digest --json "docker://$basic_REGISTRY/r/imp:v1" "${insecure[@]}" --authfile "$work/auth/none.json"
says_error "basic: --authfile naming no file" 2 "none.json" "--authfile"

rr tls-push import "dir:$work/rootfs" -o "docker://$tls_REGISTRY/r/imp:v1" --cert-dir "$tls_REGISTRY_CERT_DIR"
pushed_as "tls" "$work/imp" "$tls_REGISTRY/r/imp:v1" --cert-dir "$tls_REGISTRY_CERT_DIR"
rr tls-unknown-ca digest "docker://$tls_REGISTRY/r/imp:v1"
says_error "tls: a server certificate of an unknown CA" 2 "$tls_REGISTRY"
rr tls-no-verify digest --json "docker://$tls_REGISTRY/r/imp:v1" "${insecure[@]}"
equal "tls: --tls-verify=false" 0 "$rc"

tcreds="$token_REGISTRY_USER:$token_REGISTRY_PASS"
rr token-push import "dir:$work/rootfs" -o "docker://$token_REGISTRY/r/imp:v1" "${insecure[@]}" --creds "$tcreds"
pushed_as "token" "$work/imp" "$token_REGISTRY/r/imp:v1" --tls-verify=false --creds "$tcreds"
at_least "token: tokens issued to reproimg" 1 "$(count_of "$token_TOKEN_COUNTS" issued)"
check "token: reproimg asked for the push scope" grep -q '"repository:r/imp:pull,push"' "$token_TOKEN_COUNTS"
rr token-read digest --json "docker://$token_REGISTRY/r/imp:v1" "${insecure[@]}" --creds "$tcreds"
equal "token: read back" "$(manifest_of "oci:$work/imp")" "$(jget "$work/stdout" manifest_digest 2>/dev/null || true)"
rr token-wrong digest "docker://$token_REGISTRY/r/imp:v1" "${insecure[@]}" --creds "$token_REGISTRY_USER:nope"
says_error "token: a wrong password" 2 "$token_REGISTRY"

# --- errors
rr push-refused import "dir:$work/rootfs" -o "docker://$basic_REGISTRY/r/denied:v1" "${insecure[@]}"
says_error "a push without credentials" 2 "$basic_REGISTRY" "r/denied" "401"
equal "a push without credentials: nothing tagged" 404 "$(curl -s -o /dev/null -w '%{http_code}' -u "$creds" \
  -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$basic_REGISTRY/v2/r/denied/manifests/v1")"

# --- no credential, no token anywhere
for secret in "$basic_REGISTRY_PASS" "$token_REGISTRY_PASS" "$(printf '%s' "$creds" | base64 -w0)"; do
  no_secret "outputs" "$secret" "$work"/outs/*
done
if grep -lE 'eyJ[A-Za-z0-9_-]{10,}\.eyJ' "$work"/outs/* > "$work/jwt" 2>/dev/null; then
  fail "a token appears in $(head -n 1 "$work/jwt")"
else
  pass
fi
check "the cache holds no credential" test -z "$(grep -rlF -e "$basic_REGISTRY_PASS" -e "$token_REGISTRY_PASS" "$work/cache" 2>/dev/null || true)"
finish
