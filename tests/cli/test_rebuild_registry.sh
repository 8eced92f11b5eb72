#!/usr/bin/env bash
# reproimg rebuild --artifact docker://REGISTRY/REPOSITORY:TAG against a real registry on 127.0.0.1
# (tests/registry/harness.py): build scripts that push with `reproimg import -o docker://`. A
# reproducible one exits 0 (the runs one at a time, the tag left on the last run's push); one that
# embeds the date exits 1 naming the file; a run that exits 0 without pushing is exit 2 naming the
# run, the tag put back; a failed build puts the tag back too; a digest is refused.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
. "$here/../registry/registry.sh"
registry_need docker-registry

export XDG_CACHE_HOME="$work/cache" REPROIMG
registry_start plain plain
export P=$plain_REGISTRY
cd "$work"

# The build scripts: a rootfs with explicit modes, imported and pushed to $P/r/app:ci (or $TAG).
mkdir proj
cat > proj/push.sh <<'SH'
#!/bin/sh
set -eu
rm -rf rootfs && mkdir -p rootfs/etc rootfs/usr/bin
echo 'NAME="pushed"' > rootfs/etc/os-release
printf '#!/bin/sh\necho hello\n' > rootfs/usr/bin/hello
[ -z "${EMBED_DATE:-}" ] || date -u +%s%N > rootfs/etc/build-date
chmod -R u=rwX,go=rX rootfs && chmod 755 rootfs/usr/bin/hello
# PUSH_ONLY_CONTROL: the varied run (REPROIMG_REBUILD_EXTRA set by the env variation) pushes nothing.
if [ -n "${PUSH_ONLY_CONTROL:-}" ] && [ -n "${REPROIMG_REBUILD_EXTRA:-}" ]; then exit 0; fi
"$REPROIMG" import dir:rootfs -o "docker://$P/${REPO:-r/app}:ci" --tls-verify=false > /dev/null
SH
chmod 755 proj/push.sh
reg=(--tls-verify=false)
tag_digest() { # the manifest digest the registry's tag names now
  "$REPROIMG" digest --json "docker://$P/$1" "${reg[@]}" > tag.json && jget tag.json manifest_digest
}
rebuild() { run "$REPROIMG" rebuild -C proj --source-date-epoch 1700000000 "${reg[@]}" "$@"; }

# Reproducible: exit 0, the runs one at a time (said with -v), the tag on the pushed image.
rebuild -v --jobs 2 --artifact "docker://$P/r/app:ci" --format json --output ok.json -- ./push.sh
equal "reproducible: exit code ($(head -c 400 "$work/stderr"))" 0 "$rc"
check "reproducible: -v says the runs go one at a time" grep -q "runs one at a time" "$work/stderr"
cp -a proj alone
(cd alone && SOURCE_DATE_EPOCH=1700000000 REPO=r/alone ./push.sh)
pushed=$(tag_digest r/alone:ci)
equal "reproducible: the tag names what the build pushes" "$pushed" "$(tag_digest r/app:ci)"
check "reproducible: the report names the artifact" grep -q "\"artifact\": \"docker://$P/r/app:ci\"" ok.json

# Embeds the date: exit 1, the file named; each run compared by its own digest.
EMBED_DATE=1 rebuild --artifact "docker://$P/r/app:ci" -- ./push.sh
equal "date: exit code ($(head -c 400 "$work/stderr"))" 1 "$rc"
check "date: the file named" grep -q "etc/build-date" "$work/stdout"
check "date: as a content difference" grep -q "content" "$work/stdout"
after_date=$(tag_digest r/app:ci)

# A run that exits 0 and pushes nothing: exit 2 naming it; the tag put back where it was.
rebuild --artifact "docker://$P/r/app:ci" -- true
says_error "no push" 2 "run 'control'" "pushed nothing" "docker://$P/r/app:ci"
equal "no push: the tag put back" "$after_date" "$(tag_digest r/app:ci)"
PUSH_ONLY_CONTROL=1 rebuild --vary env --artifact "docker://$P/r/app:ci" -- ./push.sh
says_error "the varied run pushes nothing" 2 "run 'varied'" "pushed nothing"
check "the varied run pushes nothing: the tag on the control's push" \
  test "$(tag_digest r/app:ci)" = "$pushed"
rebuild --artifact "docker://$P/r/new:ci" -- true
says_error "no push to a new tag" 2 "run 'control'" "pushed nothing"

# A failed build: exit 2 with its status; the tag put back.
before=$(tag_digest r/app:ci)
rebuild --artifact "docker://$P/r/app:ci" -- sh -c 'echo failing; exit 3'
equal "failed build: exit code" 2 "$rc"
check "failed build: its status" grep -q "run 'control': exit status 3" "$work/stderr"
equal "failed build: the tag put back" "$before" "$(tag_digest r/app:ci)"

# A digest names no tag to push to.
rebuild --artifact "docker://$P/r/app@$before" -- ./push.sh
says_error "a digest" 2 "name the tag the build pushes to"

finish
