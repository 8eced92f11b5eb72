#!/usr/bin/env bash
# Per-side registry settings and registries.conf against real registries on 127.0.0.1
# (tests/registry/harness.py): --src-creds/--dest-creds between two htpasswd registries and between
# two users of one (the registry's log says which user made each request), --src-cert-dir with a TLS
# source, a plain option contradicting a side's option (exit 2); registries.conf remapping a made-up
# name to a test registry, insecure (and --tls-verify=true winning over it), blocked (in a drop-in),
# mirrors (one down, then one that serves; pushes never to a mirror; a digest-only mirror passed
# over for a tag, a tag-only one for a digest), a file that is not TOML (exit 2 naming the line).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
. "$here/../registry/registry.sh"
registry_need docker-registry openssl htpasswd curl
# (the help read whole first: grep -q leaving early would kill the writer, and pipefail the test)
help=$("$REPROIMG" normalize --help 2>/dev/null || true)
if ! grep -q -- '--src-creds' <<< "$help"; then
  echo "SKIP: test_registry_sides: this reproimg has no per-side registry options"
  exit 77
fi

export XDG_CACHE_HOME="$work/cache" SOURCE_DATE_EPOCH=1700000000
export REPROIMG_REGISTRY_BACKOFF=0 REPROIMG_REGISTRY_ATTEMPTS=2
# No registries.conf of this machine's: HOME's own (absent until a check writes one).
export HOME="$work/home"
unset CONTAINERS_REGISTRIES_CONF
conf_dir="$HOME/.config/containers"
mkdir -p "$conf_dir" "$work/rootfs/etc" "$work/other/etc" "$work/ctx"
printf 'NAME="sides"\n' > "$work/rootfs/etc/os-release"
printf 'NAME="the mirror'"'"'s other image"\n' > "$work/other/etc/os-release"
printf 'FROM docker://%s\nCOPY Dockerfile /Dockerfile\n' "PLACEHOLDER" > "$work/ctx/Dockerfile"

registry_start b1 basic --second-user
registry_start b2 basic
registry_start tls tls
registry_start loc plain
registry_start mir plain
no=--tls-verify=false
u1="$b1_REGISTRY_USER:$b1_REGISTRY_PASS"
u2="$b1_REGISTRY_USER2:$b1_REGISTRY_PASS2"
v2="$b2_REGISTRY_USER:$b2_REGISTRY_PASS"

# status REGISTRY PATH [CURL-OPTION...]: the HTTP status of a manifest GET
status() {
  local reg=$1 path=$2
  shift 2
  curl -s -o /dev/null -w '%{http_code}' "$@" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$reg/v2/$path"
}
# users LOG REPOSITORY: the users the registry's log names for requests of REPOSITORY, sorted
users() {
  grep 'msg="response completed' "$1" | grep -E "http.request.uri=\"?/v2/$2/" | grep -o 'auth.user.name=[^ ]*' |
    sed 's/auth.user.name=//; s/"//g' | sort -u | tr '\n' ' '
}

# --- the images: X in b1 (r/src), X at loc/real and loc/primary, Y (another) in the mirror
rr seed-x import "dir:$work/rootfs" -o "docker://$b1_REGISTRY/r/src:v1" $no --creds "$u1"
equal "seed: pushed with user 1" 0 "$rc"
x=$(sed -n 's/^Pushed .*@//p' "$work/stdout")
rr seed-tls import "dir:$work/rootfs" -o "docker://$tls_REGISTRY/r/src:v1" --cert-dir "$tls_REGISTRY_CERT_DIR"
rr seed-loc import "dir:$work/rootfs" -o "docker://$loc_REGISTRY/real/app:v1" $no
rr seed-loc2 import "dir:$work/rootfs" -o "docker://$loc_REGISTRY/primary/base:v1" $no
rr seed-mir import "dir:$work/rootfs" -o "docker://$mir_REGISTRY/cache/app:v1" $no
rr seed-y import "dir:$work/other" -o "docker://$mir_REGISTRY/dcache/app:v1" $no
y=$(sed -n 's/^Pushed .*@//p' "$work/stdout")
rr seed-dx import "dir:$work/rootfs" -o "docker://$loc_REGISTRY/dprimary/app:v1" $no
check "seed: two different images" test -n "$x" -a -n "$y" -a "$x" != "$y"

# --- --src-creds and --dest-creds: two registries, each with its own user
rr two-registries normalize "docker://$b1_REGISTRY/r/src:v1" -o "docker://$b2_REGISTRY/r/dst:v1" \
  --src-creds "$u1" --dest-creds "$v2" $no
equal "two registries: copied" 0 "$rc"
equal "two registries: the destination serves it" 200 "$(status "$b2_REGISTRY" r/dst/manifests/v1 -u "$v2")"
rr two-swapped normalize "docker://$b1_REGISTRY/r/src:v1" -o "docker://$b2_REGISTRY/r/dst:v2" \
  --src-creds "$v2" --dest-creds "$u1" $no
says_error "two registries, the users swapped" 2 "$b1_REGISTRY" "401"
rr two-plain normalize "docker://$b1_REGISTRY/r/src:v1" -o "docker://$b2_REGISTRY/r/dst:v3" --creds "$u1" $no
says_error "--creds for both sides: the destination refuses" 2 "$b2_REGISTRY" "r/dst" "401"
rr build-sides build -f - "$work/ctx" -o "docker://$b2_REGISTRY/r/built:v1" --src-creds "$u1" --dest-creds "$v2" $no \
  < <(sed "s|PLACEHOLDER|$b1_REGISTRY/r/src:v1|" "$work/ctx/Dockerfile")
equal "build: FROM with --src-creds, pushed with --dest-creds" 0 "$rc"
equal "build: the destination serves it" 200 "$(status "$b2_REGISTRY" r/built/manifests/v1 -u "$v2")"

# --- one registry, two users: reads as user 1, writes as user 2
rr one-registry normalize "docker://$b1_REGISTRY/r/src:v1" -o "docker://$b1_REGISTRY/r/dst:v1" \
  --src-creds "$u1" --dest-creds "$u2" $no
equal "one registry, two users: copied" 0 "$rc"
equal "one registry: the source read by user 1 only" "$b1_REGISTRY_USER " "$(users "$b1_REGISTRY_LOG" r/src)"
equal "one registry: the destination written by user 2 only" "$b1_REGISTRY_USER2 " "$(users "$b1_REGISTRY_LOG" r/dst)"

# --- TLS per side: a source with its CA, a plain-HTTP destination
rr tls-sides normalize "docker://$tls_REGISTRY/r/src:v1" -o "docker://$loc_REGISTRY/from-tls/app:v1" \
  --src-cert-dir "$tls_REGISTRY_CERT_DIR" --dest-tls-verify=false
equal "--src-cert-dir and --dest-tls-verify=false" 0 "$rc"
rr tls-no-ca normalize "docker://$tls_REGISTRY/r/src:v1" -o "docker://$loc_REGISTRY/from-tls/app:v2" \
  --dest-tls-verify=false
says_error "a TLS source without its CA (the destination's setting is not the source's)" 2 "$tls_REGISTRY"
rr import-dest import "dir:$work/rootfs" -o "docker://$b2_REGISTRY/r/imp:v1" --dest-creds "$v2" --dest-tls-verify=false
equal "import: --dest-creds, --dest-tls-verify" 0 "$rc"
help=$("$REPROIMG" import --help)
if grep -q -- '--src-creds' <<< "$help"; then fail "import offers --src-creds (it reads no registry)"; else pass; fi

# --- a plain option and a side's option that contradict each other
rr contra-creds normalize "docker://$b1_REGISTRY/r/src:v1" -o "docker://$b2_REGISTRY/r/x:v1" --creds "$u1" --src-creds "$u2" $no
says_error "--creds against --src-creds" 2 "--creds" "--src-creds" "contradict"
rr contra-tls normalize "docker://$b1_REGISTRY/r/src:v1" -o "docker://$b2_REGISTRY/r/x:v1" --tls-verify=false --dest-tls-verify=true
says_error "--tls-verify against --dest-tls-verify" 2 "--tls-verify" "--dest-tls-verify" "contradict"
rr contra-dir import "dir:$work/rootfs" -o "docker://$b2_REGISTRY/r/x:v1" --cert-dir "$work" --dest-cert-dir "$work/rootfs"
says_error "--cert-dir against --dest-cert-dir" 2 "--dest-cert-dir" "contradict"
no_secret "contradictions: no credential printed" "$b1_REGISTRY_PASS2" "$work/outs/contra-creds.err"

# --- registries.conf: a made-up name remapped to a test registry, insecure
rr conf-none digest --json "docker://made.up/team/app:v1"
equal "without registries.conf made.up is not a registry here" 2 "$rc"
cat > "$conf_dir/registries.conf" <<EOF
unqualified-search-registries = ["docker.io"]

[[registry]]
prefix = "made.up/team"
location = "$loc_REGISTRY/real"
insecure = true

[[registry]]
prefix = "secure.test"
location = "$loc_REGISTRY"

[[registry]]
prefix = "mirrored.test/team"
location = "$loc_REGISTRY/primary"
insecure = true
[[registry.mirror]]
location = "127.0.0.1:9/down"
insecure = true
[[registry.mirror]]
location = "$mir_REGISTRY/cache"
insecure = true

[[registry]]
prefix = "dig.test/team"
location = "$loc_REGISTRY/dprimary"
insecure = true
[[registry.mirror]]
location = "$mir_REGISTRY/dcache"
insecure = true
pull-from-mirror = "digest-only"

[[registry]]
prefix = "tag.test/team"
location = "$loc_REGISTRY/tprimary"
insecure = true
[[registry.mirror]]
location = "$mir_REGISTRY/dcache"
insecure = true
pull-from-mirror = "tag-only"
EOF
rr conf-remap digest --json "docker://made.up/team/app:v1"
equal "remapped: read" 0 "$rc"
equal "remapped: the location's image" "$x" "$(jget "$work/stdout" manifest_digest 2>/dev/null || true)"
rr conf-secure digest --json "docker://secure.test/real/app:v1"
says_error "a location not insecure: TLS asked of a plain-HTTP registry" 2 "$loc_REGISTRY" "--tls-verify=false"
rr conf-verify digest --json "docker://made.up/team/app:v1" --tls-verify=true
says_error "--tls-verify=true wins over insecure = true" 2 "$loc_REGISTRY"
rr conf-push import "dir:$work/other" -o "docker://made.up/team/pushed:v1"
equal "remapped: a push goes to the location" 0 "$rc"
equal "remapped: the location has it" 200 "$(status "$loc_REGISTRY" real/pushed/manifests/v1)"

# --- mirrors: one down, one that serves; the location when no mirror has it; pushes never to a mirror
rr conf-mirror digest --json "docker://mirrored.test/team/app:v1"
equal "mirrors: the second mirror serves what the location lacks" 0 "$rc"
equal "mirrors: its image" "$x" "$(jget "$work/stdout" manifest_digest 2>/dev/null || true)"
rr conf-mirror-norm normalize "docker://mirrored.test/team/app:v1" -o "$work/from-mirror"
equal "mirrors: a normalize reads the blobs there too" 0 "$rc"
rr conf-fallback digest --json "docker://mirrored.test/team/base:v1"
equal "mirrors: the location serves what no mirror has" "$x" "$(jget "$work/stdout" manifest_digest 2>/dev/null || true)"
rr conf-mirror-push import "dir:$work/rootfs" -o "docker://mirrored.test/team/pushed:v1"
equal "mirrors: a push goes to the location" 200 "$(status "$loc_REGISTRY" primary/pushed/manifests/v1)"
equal "mirrors: and never to a mirror" 404 "$(status "$mir_REGISTRY" cache/pushed/manifests/v1)"

# --- a digest-only mirror: passed over for a tag, used for a digest
rr conf-dig-tag digest --json "docker://dig.test/team/app:v1"
equal "digest-only mirror: a tag is read from the location" "$x" "$(jget "$work/stdout" manifest_digest 2>/dev/null || true)"
rr conf-dig-digest digest --json "docker://dig.test/team/app@$y"
equal "digest-only mirror: a digest is read from the mirror" "$y" "$(jget "$work/stdout" manifest_digest 2>/dev/null || true)"

# --- a tag-only mirror: used for a tag, passed over for a digest (which the location lacks)
rr conf-tagonly-tag digest --json "docker://tag.test/team/app:v1"
equal "tag-only mirror: a tag is read from the mirror" "$y" "$(jget "$work/stdout" manifest_digest 2>/dev/null || true)"
rr conf-tagonly-digest digest --json "docker://tag.test/team/app@$y"
says_error "tag-only mirror: a digest goes to the location only" 2 "$loc_REGISTRY/tprimary/app" "404"

# --- blocked (in a drop-in), and a file that is not TOML
mkdir -p "$conf_dir/registries.conf.d"
printf '[[registry]]\nprefix = "made.up/team"\nlocation = "%s/real"\nblocked = true\n' "$loc_REGISTRY" \
  > "$conf_dir/registries.conf.d/50-block.conf"
rr conf-blocked digest "docker://made.up/team/app:v1"
says_error "blocked" 2 "made.up/team/app" "blocked" "50-block.conf"
rr conf-blocked-push import "dir:$work/rootfs" -o "docker://made.up/team/app:v2"
says_error "blocked: a push" 2 "blocked" "50-block.conf"
printf '[[registry]]\nprefix = "a.io"\nlocation = "b.io\ninsecure = true\n' > "$work/bad.conf"
CONTAINERS_REGISTRIES_CONF="$work/bad.conf" rr conf-bad digest "docker://made.up/team/app:v1"
says_error "not TOML" 2 "$work/bad.conf:3"
printf '[[registry]]\nlocation = "b.io"\nblocked = "yes"\n' > "$work/bad2.conf"
CONTAINERS_REGISTRIES_CONF="$work/bad2.conf" rr conf-bad-type digest "docker://made.up/team/app:v1"
says_error "a value of the wrong type" 2 "$work/bad2.conf:3" "blocked"

# --- no credential anywhere
for secret in "$b1_REGISTRY_PASS" "$b1_REGISTRY_PASS2" "$b2_REGISTRY_PASS"; do
  no_secret "outputs" "$secret" "$work"/outs/*
done
finish
