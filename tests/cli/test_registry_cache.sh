#!/usr/bin/env bash
# The blob cache of docker:// pulls against a real registry on 127.0.0.1: a cached layer is checked
# by the read that uses it, so a damaged copy (same size, other bytes) is never an answer (digest,
# lock, verify, diff exit 2 naming the blob and the removed copy; the next run fetches it again);
# a damaged config is fetched again; a use touches a blob; a run that added blobs prunes the cache
# to $REPROIMG_CACHE_MAX, least recently used first; `reproimg cache prune|clear`; a cache another
# run holds is never pruned under it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
. "$here/../registry/registry.sh"
registry_need docker-registry skopeo openssl
need_tools flock

export XDG_CACHE_HOME="$work/cache" SOURCE_DATE_EPOCH=1700000000
unset REPROIMG_CACHE_MAX
blobs="$work/cache/reproimg/blobs/sha256"
make="$PY $here/../registry/make_images.py"
$make image "$work/a" --tag v1 --seed ca --layers 3 --size 300000 > /dev/null
$make image "$work/z" --tag v1 --seed cz --layers 2 --size 200000 > /dev/null
registry_start plain plain
P=$plain_REGISTRY
insecure=(--tls-verify=false)
skopeo copy -q --dest-tls-verify=false "oci:$work/a:v1" "docker://$P/c/a:v1"
skopeo copy -q --dest-tls-verify=false "oci:$work/z:v1" "docker://$P/c/z:v1"
"$REPROIMG" digest --json "oci:$work/a:v1" > "$work/want.json"
"$REPROIMG" lock "oci:$work/a:v1" -o "$work/a.lock"
field() { "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval("d" + sys.argv[2]))' "$@"; }
# identities FILE: a digest --json's identities, its input's name left out.
identities() { "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); d.pop("input"); print(json.dumps(d, sort_keys=True))' "$1"; }
same_identities() { equal "$1" "$(identities "$work/want.json")" "$(identities "$work/stdout" 2>/dev/null || true)"; }
layer=$(field "$work/want.json" '["layers"][1]["blob_digest"]')
config=$(field "$work/want.json" '["config_digest"]')
A="docker://$P/c/a:v1"

run "$REPROIMG" digest --json "$A" "${insecure[@]}"
equal "first pull" 0 "$rc"
same_identities "first pull: the local image's identities"
check "first pull: the layer cached" test -f "$blobs/${layer#sha256:}"

# damage FILE: one byte in the middle changed, the size kept.
damage() {
  "$PY" -c 'import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0xff
open(p, "wb").write(b)' "$1"
}

# --- a damaged cached layer: every reader refuses it (exit 2, the blob and the removal named)
for cmd in digest lock verify diff; do
  damage "$blobs/${layer#sha256:}"
  case $cmd in
    digest) run "$REPROIMG" digest --json "$A" "${insecure[@]}" ;;
    lock) run "$REPROIMG" lock "$A" "${insecure[@]}" -o "$work/damaged.lock" ;;
    verify) run "$REPROIMG" verify "$A" "${insecure[@]}" --lock "$work/a.lock" ;;
    diff) run "$REPROIMG" diff "$A" "oci:$work/a:v1" "${insecure[@]}" ;;
  esac
  says_error "damaged cached layer, $cmd" 2 "$layer" "blob cache" "removed"
  check "damaged cached layer, $cmd: the copy removed" test ! -e "$blobs/${layer#sha256:}"
  check "damaged cached layer, $cmd: nothing written" test ! -e "$work/damaged.lock"
  run "$REPROIMG" digest --json "$A" "${insecure[@]}"
  equal "damaged cached layer, $cmd: the next run fetches it again" 0 "$rc"
  same_identities "damaged cached layer, $cmd: the next run's identities"
  check "damaged cached layer, $cmd: cached again, whole" test "$(sha256_of "$blobs/${layer#sha256:}")" = "${layer#sha256:}"
done

# --- a damaged cached config: hashed when taken, fetched again, the right answer
damage "$blobs/${config#sha256:}"
run "$REPROIMG" digest --json "$A" "${insecure[@]}"
equal "damaged cached config: read" 0 "$rc"
same_identities "damaged cached config: the right identities"
check "damaged cached config: cached again, whole" test "$(sha256_of "$blobs/${config#sha256:}")" = "${config#sha256:}"

# --- a use touches the blobs it reads (least recently used is evicted first)
touch -d '2001-01-01' "$blobs"/*
run "$REPROIMG" digest --json "$A" "${insecure[@]}"
equal "warm pull" 0 "$rc"
check "warm pull: the layer's use noted (mtime)" test "$blobs/${layer#sha256:}" -nt "$work/a.lock"

# --- a run that adds blobs prunes to $REPROIMG_CACHE_MAX, the least recently used first
touch -d '2001-01-01' "$blobs"/*
a_files=$(cd "$blobs" && ls)
z_bytes=$("$PY" -c 'import json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "index.json")))["manifests"][0]["digest"]
man = json.load(open(os.path.join(d, "blobs/sha256", m[7:])))
print(sum(x["size"] for x in [man["config"]] + man["layers"]))' "$work/z")
REPROIMG_CACHE_MAX=$z_bytes run "$REPROIMG" digest --json "docker://$P/c/z:v1" "${insecure[@]}"
equal "bounded pull" 0 "$rc"
for f in $a_files; do
  check "bounded pull: the older blob $f evicted" test ! -e "$blobs/$f"
done
for d in $("$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["config_digest"], *[l["blob_digest"] for l in d["layers"]])' "$work/stdout"); do
  check "bounded pull: this run's blob $d kept" test -f "$blobs/${d#sha256:}"
done
total=$(cat "$blobs"/* | wc -c)
check "bounded pull: the cache within the bound ($total <= $z_bytes)" test "$total" -le "$z_bytes"
REPROIMG_CACHE_MAX=12X run "$REPROIMG" digest "docker://$P/c/z:v1" "${insecure[@]}"
says_error "a bad \$REPROIMG_CACHE_MAX" 2 "REPROIMG_CACHE_MAX" "12X"

# --- never pruned under a run that uses the cache (the lock another run holds)
run "$REPROIMG" digest "$A" "${insecure[@]}"
equal "pull a again" 0 "$rc"
before=$(ls "$blobs" | wc -l)
exec 9< "$work/cache/reproimg/.lock"
flock -s 9 # as another run holds it
run "$REPROIMG" cache prune --max-size 0
says_error "prune while another run uses the cache" 2 "in use by another reproimg run"
equal "prune while another run uses the cache: nothing removed" "$before" "$(ls "$blobs" | wc -l)"
rm -f "$blobs/${layer#sha256:}"
REPROIMG_CACHE_MAX=0 run "$REPROIMG" digest "$A" "${insecure[@]}"
equal "a pull beside another run" 0 "$rc"
equal "a pull beside another run: no eviction under it" "$before" "$(ls "$blobs" | wc -l)"
exec 9<&-

# --- reproimg cache prune | clear
run "$REPROIMG" cache prune --max-size 1G
equal "prune within the bound" 0 "$rc"
equal "prune within the bound: nothing removed" "removed 0 blobs (0 bytes); the cache holds $before blobs ($(cat "$blobs"/* | wc -c) bytes)" "$(cat "$work/stdout")"
run "$REPROIMG" cache prune --max-size 1x
says_error "prune --max-size 1x" 2 "--max-size" "not a size"
run "$REPROIMG" cache clear
equal "clear" 0 "$rc"
equal "clear: the cache empty" 0 "$(ls "$blobs" | wc -l)"
run "$REPROIMG" cache
says_error "cache without an action" 2 "prune or clear"
run "$REPROIMG" digest --json "$A" "${insecure[@]}"
equal "a pull after clear" 0 "$rc"
same_identities "a pull after clear: the identities"
finish
