#!/usr/bin/env bash
# reproimg's registry client under faults injected by tests/registry/fault_proxy.py between it and a
# real registry on 127.0.0.1: a connection dropped mid-blob (retried from where it broke off, a Range request, then the right bytes), a blob
# whose bytes do not match its digest (exit 2, nothing cached, nothing written), 429 with
# Retry-After (waited for), 503 once (retried) and for good (a clear give-up), a Bearer token that
# expires mid-pull (a new one fetched), blobs redirected to storage at another host (no credential
# sent there), and tokens the registry itself lets expire within a command.
# Each fault is counted by the proxy, and the test asserts that it struck.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
. "$here/../registry/registry.sh"
registry_need docker-registry skopeo openssl
if ! "$REPROIMG" digest --help 2>/dev/null | grep -- '--tls-verify' >/dev/null; then
  echo "SKIP: test_registry_faults: this reproimg has no registry client (docker:// references)"
  exit 77
fi

make="$PY $here/../registry/make_images.py"
$make image "$work/a" --tag v1 --seed faults --size 400000 > /dev/null
"$REPROIMG" digest --json "oci:$work/a:v1" > "$work/want.json"
registry_start plain plain
registry_start token token
creds="$token_REGISTRY_USER:$token_REGISTRY_PASS"
skopeo copy -q --dest-tls-verify=false "oci:$work/a:v1" "docker://$plain_REGISTRY/f/a:v1"
skopeo copy -q --dest-tls-verify=false --dest-creds "$creds" "oci:$work/a:v1" "docker://$token_REGISTRY/f/a:v1"
layer=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["layers"][1]["blob_digest"])' "$work/want.json")
insecure=(--tls-verify=false)

mkdir -p "$work/outs"
n=0
# pull PROXY-NAME [OPTIONS...]: `reproimg digest --json` of f/a:v1 through that proxy, with a cache of
# its own ($work/cache-N); $rc, $work/stdout, $work/stderr, $cache.
pull() {
  local proxy_var="${1}_PROXY"
  shift
  n=$((n + 1))
  cache="$work/cache-$n"
  XDG_CACHE_HOME=$cache run "$REPROIMG" digest --json "docker://${!proxy_var}/f/a:v1" "${insecure[@]}" "$@"
  cp "$work/stdout" "$work/outs/$n.out"
  cp "$work/stderr" "$work/outs/$n.err"
}
same_identities() { # WHAT: the pull's identities are the image's
  local field
  for field in manifest_digest config_digest; do
    equal "$1: $field" "$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/want.json" "$field")" \
      "$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/stdout" "$field" 2>/dev/null || true)"
  done
}
cached() { [ -f "$cache/reproimg/blobs/sha256/${1#sha256:}" ]; }

# --- a connection reset halfway through a layer: retried, then the right bytes
registry_proxy plain drop drop-blob
pull drop
equal "dropped: read" 0 "$rc"
equal "dropped: the fault struck once" 1 "$(count_of "$drop_PROXY_COUNTS" dropped)"
same_identities "dropped"
dropped=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["dropped_digests"][0])' "$drop_PROXY_COUNTS")
check "dropped: the blob cached after the retry" cached "$dropped"
check "dropped: the cached blob is whole" test "$(sha256_of "$cache/reproimg/blobs/sha256/${dropped#sha256:}")" = "${dropped#sha256:}"
equal "dropped: the retry asked for the rest only (Range)" 1 "$(count_of "$drop_PROXY_COUNTS" range_requests)"
equal "dropped: and the registry sent the rest (206)" 1 "$(kind_count "$drop_PROXY_COUNTS" responses "blob-get 206")"

# --- a layer whose bytes are not its digest's: exit 2 naming it, nothing cached, nothing written
registry_proxy plain corrupt corrupt-blob
n=$((n + 1))
cache="$work/cache-$n"
XDG_CACHE_HOME=$cache run "$REPROIMG" lock "docker://$corrupt_PROXY/f/a:v1" "${insecure[@]}" -o "$work/corrupt.lock"
says_error "corrupt" 2 "sha256:"
at_least "corrupt: the fault struck" 1 "$(count_of "$corrupt_PROXY_COUNTS" corrupted)"
check "corrupt: no lock written" test ! -e "$work/corrupt.lock"
for d in $("$PY" -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["corrupted_digests"]))' "$corrupt_PROXY_COUNTS"); do
  check "corrupt: $d not cached" test ! -e "$cache/reproimg/blobs/sha256/${d#sha256:}"
done
equal "corrupt: no temporary file left in the cache" "" "$(find "$cache" -type f ! -path '*/blobs/sha256/*' ! -name .lock 2>/dev/null | head -n 1)"
for f in "$cache"/reproimg/blobs/sha256/*; do
  [ -f "$f" ] || continue
  equal "corrupt: what is cached is what its name says" "$(basename "$f")" "$(sha256_of "$f")"
done

# only the second layer corrupted: named in the message; the blobs read before it may be cached,
# never it
registry_proxy plain corrupt1 corrupt-blob --corrupt-digest "$layer"
pull corrupt1
says_error "one corrupt layer" 2 "$layer"
equal "one corrupt layer: the fault struck it" "$layer" \
  "$("$PY" -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["corrupted_digests"]))' "$corrupt1_PROXY_COUNTS")"
check "one corrupt layer: not cached" test ! -e "$cache/reproimg/blobs/sha256/${layer#sha256:}"

# --- 429 with Retry-After: waited for, then read
registry_proxy plain throttle 429
pull throttle
equal "429: read" 0 "$rc"
equal "429: the fault struck" 1 "$(count_of "$throttle_PROXY_COUNTS" throttled)"
at_least "429: waited Retry-After (2 s) before asking again" 1.9 "$(count_of "$throttle_PROXY_COUNTS" retry_gap)"
same_identities "429"

# --- 503 once: retried; 503 for good: a clear give-up
registry_proxy plain flaky 503
pull flaky
equal "503 once: read" 0 "$rc"
equal "503 once: the fault struck" 1 "$(count_of "$flaky_PROXY_COUNTS" unavailable)"
same_identities "503 once"
registry_proxy plain down 503-always
REPROIMG_REGISTRY_ATTEMPTS=3 pull down
says_error "503 always" 2 "$down_PROXY" "f/a" "503"
equal "503 always: each blob tried as often as allowed, not more" 3 "$(count_of "$down_PROXY_COUNTS" unavailable_most_per_blob)"
registry_proxy plain down2 503-always
REPROIMG_REGISTRY_ATTEMPTS=3 pull down2 --retry-times 1
says_error "503 always, --retry-times 1" 2 "$down2_PROXY" "503" "gave up after 2 attempts"
equal "--retry-times 1 (wins over the environment): 2 attempts" 2 "$(count_of "$down2_PROXY_COUNTS" unavailable_most_per_blob)"

# --- a token that expires mid-pull: refused with invalid_token, a new one fetched, the pull completes
registry_proxy token expire expire-token
issued_before=$(count_of "$token_TOKEN_COUNTS" issued)
pull expire --creds "$creds"
equal "expired token: read" 0 "$rc"
equal "expired token: the fault struck" 1 "$(count_of "$expire_PROXY_COUNTS" tokens_expired)"
at_least "expired token: refused" 1 "$(count_of "$expire_PROXY_COUNTS" token_rejected)"
at_least "expired token: served after with a new one" 1 "$(count_of "$expire_PROXY_COUNTS" ok_after_expiry)"
at_least "expired token: a new token fetched" $((issued_before + 2)) "$(count_of "$token_TOKEN_COUNTS" issued)"
same_identities "expired token"

# --- every blob redirected to storage at another host: followed, without the Authorization header
registry_proxy token redirect redirect-blob
pull redirect --creds "$creds"
equal "redirected: read" 0 "$rc"
same_identities "redirected"
at_least "redirected: every blob" 3 "$(count_of "$redirect_PROXY_COUNTS" redirected)"
at_least "redirected: the storage host asked" 3 "$(count_of "$redirect_PROXY_COUNTS" storage_requests)"
equal "redirected: no Authorization header sent to the storage host" 0 "$(count_of "$redirect_PROXY_COUNTS" storage_with_authorization)"

# --- tokens the registry refuses 2 s after they are issued, over a slow pull of several blobs
registry_start short token --token-expiry 2
screds="$short_REGISTRY_USER:$short_REGISTRY_PASS"
skopeo copy -q --dest-tls-verify=false --dest-creds "$screds" "oci:$work/a:v1" "docker://$short_REGISTRY/f/a:v1"
registry_proxy short slow 429
n=$((n + 1))
XDG_CACHE_HOME="$work/cache-$n" run "$REPROIMG" digest --json "docker://$slow_PROXY/f/a:v1" "${insecure[@]}" --creds "$screds"
cp "$work/stdout" "$work/outs/$n.out"
cp "$work/stderr" "$work/outs/$n.err"
equal "short-lived tokens: read across the expiry" 0 "$rc"
at_least "short-lived tokens: a new token fetched after the first expired" 3 "$(count_of "$short_TOKEN_COUNTS" issued)"
same_identities "short-lived tokens"

# --- no credential or token in any output
no_secret "outputs" "$token_REGISTRY_PASS" "$work"/outs/*
no_secret "outputs" "$short_REGISTRY_PASS" "$work"/outs/*
if grep -lE 'eyJ[A-Za-z0-9_-]{10,}\.eyJ' "$work"/outs/* > "$work/jwt" 2>/dev/null; then
  fail "a token appears in $(head -n 1 "$work/jwt")"
else
  pass
fi
finish
