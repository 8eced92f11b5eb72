#!/usr/bin/env bash
# reproimg build: FROM scratch Dockerfiles to deterministic images that skopeo, umoci and
# oci-image-tool accept; refusals (RUN, remote ADD) with exit 2 and nothing left behind.
set -euo pipefail
. "$(dirname "$0")/common.sh"

need_tools skopeo umoci oci-image-tool tar gzip cmp diff touch stat

cd "$work"
umask 022
umoci_flags=()
is_root || umoci_flags=(--rootless)

# make_context DIR ORDER: the same files, created in the given order ("forward" or "reverse"),
# with mtimes that differ between the two (all after E, so clamped to it).
make_context() {
  local dir=$1 order=$2 stamp=$3
  mkdir -p "$dir"
  local steps=(hello conf app rootfs docs ignored dockerfile)
  if [ "$order" = reverse ]; then
    steps=(dockerfile ignored docs rootfs app conf hello)
  fi
  for s in "${steps[@]}"; do
    case $s in
      hello) printf 'hello, world\n' > "$dir/hello.txt" ;;
      conf)
        mkdir -p "$dir/conf/sub"
        echo 'port=8080' > "$dir/conf/app.conf"
        echo 'nested' > "$dir/conf/sub/nested.conf"
        ln -sf app.conf "$dir/conf/current.conf"
        ;;
      app) printf '#!/bin/sh\necho app\n' > "$dir/app.sh" && chmod 644 "$dir/app.sh" ;;
      rootfs)
        # A small rootfs as a tar.gz: ADD extracts it, owners and modes included.
        local r=$work/rootfs-$order
        rm -rf "$r" && mkdir -p "$r/etc" "$r/var/lib/app"
        echo 'ID=repro' > "$r/etc/os-release"
        echo 'state' > "$r/var/lib/app/state"
        chmod 600 "$r/var/lib/app/state"
        ln -s ../etc/os-release "$r/var/os-release"
        touch -d "@$stamp" "$r/etc/os-release"
        tar -C "$r" --owner=0 --group=0 -cf "$work/rootfs-$order.tar" .
        tar -C "$r" --owner=1234 --group=5678 -rf "$work/rootfs-$order.tar" ./var/lib/app/state
        gzip -n -c "$work/rootfs-$order.tar" > "$dir/rootfs.tar.gz"
        ;;
      docs) echo 'notes' > "$dir/notes.txt" && echo 'more' > "$dir/more.txt" ;;
      ignored)
        echo 'log' > "$dir/debug.log"
        mkdir -p "$dir/secret"
        echo 'key' > "$dir/secret/key"
        echo 'public' > "$dir/secret/public.txt"
        printf '# build context filter\n*.log\nsecret\n!secret/public.txt\n' > "$dir/.dockerignore"
        ;;
      dockerfile)
        cat > "$dir/Dockerfile" <<'EOF'
# syntax=docker/dockerfile:1
FROM scratch
ARG VERSION=0.0
ARG GREETING
COPY hello.txt /etc/hello.txt
COPY --chmod=755 --chown=1000:1000 app.sh /usr/local/bin/app
COPY conf/ /etc/app/
ADD rootfs.tar.gz /
# a wildcard: every .txt file at the top of the context
COPY *.txt /docs/
COPY secret /secret/
WORKDIR /srv/data
ENV APP_VERSION=$VERSION \
    GREETING=${GREETING:-hello}
LABEL org.opencontainers.image.version=$VERSION \
      org.example.greeting="$GREETING says ${VERSION}"
EXPOSE 8080
USER 1000:1000
WORKDIR /home/app
STOPSIGNAL SIGTERM
CMD ["/usr/local/bin/app"]
EOF
        ;;
    esac
  done
  find "$dir" -exec touch -h -d "@$stamp" {} +
}

export SOURCE_DATE_EPOCH=1700000000
make_context ctx-a forward 1710000000
make_context ctx-b reverse 1720000000

build_args=(--build-arg VERSION=1.2.3 --tag test:1)
"$REPROIMG" build -q ctx-a "${build_args[@]}" -o oci-a
"$REPROIMG" build -q -f ctx-b/Dockerfile ctx-b "${build_args[@]}" -o oci-b
check "two builds of one Dockerfile give identical layouts" diff -r oci-a oci-b
json_a=$("$REPROIMG" build --json ctx-a "${build_args[@]}" -o oci-c)
json_b=$("$REPROIMG" build --json ctx-b "${build_args[@]}" -o oci-d)
digest_a=$(printf '%s' "$json_a" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["manifest_digest"])')
digest_b=$(printf '%s' "$json_b" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["manifest_digest"])')
equal "manifest digest of the second build" "$digest_a" "$digest_b"
printf '%s' "$json_a" > build.json

"$REPROIMG" build -q ctx-a "${build_args[@]}" --format oci-archive -o a1.tar
"$REPROIMG" build -q ctx-b "${build_args[@]}" --format oci-archive -o a2.tar
same_bytes "oci-archive of the second build" a1.tar a2.tar
check "skopeo reads the oci-archive" skopeo inspect oci-archive:a1.tar >/dev/null

# skopeo sees the config the Dockerfile asked for, and the diff_ids we printed.
skopeo inspect oci:oci-a:1 > inspect.json
skopeo inspect --config oci:oci-a:1 > config.json
check "skopeo inspect shows Env, Labels, digest and time" "$PY" - "$digest_a" <<'PY'
import json, sys
doc = json.load(open("inspect.json"))
assert doc["Digest"] == sys.argv[1], (doc["Digest"], sys.argv[1])
assert doc["Created"] == "2023-11-14T22:13:20Z", doc["Created"]
assert doc["Architecture"] == "amd64" and doc["Os"] == "linux"
assert "APP_VERSION=1.2.3" in doc["Env"] and "GREETING=hello" in doc["Env"], doc["Env"]
assert any(e.startswith("PATH=") for e in doc["Env"]), doc["Env"]
assert doc["Labels"] == {"org.opencontainers.image.version": "1.2.3",
                         "org.example.greeting": "hello says 1.2.3"}, doc["Labels"]
PY
check "the config holds Cmd, WorkingDir, User, ports and the printed diff_ids" "$PY" <<'PY'
import json
cfg = json.load(open("config.json"))
built = json.load(open("build.json"))
c = cfg["config"]
assert c["Cmd"] == ["/usr/local/bin/app"], c
assert c["WorkingDir"] == "/home/app" and c["User"] == "1000:1000", c
assert c["ExposedPorts"] == {"8080/tcp": {}} and c["StopSignal"] == "SIGTERM", c
diff_ids = [l["diff_id"] for l in built["layers"]]
assert cfg["rootfs"]["diff_ids"] == diff_ids, (cfg["rootfs"], diff_ids)
assert len(diff_ids) == 8, diff_ids  # 6 ADD/COPY + 2 WORKDIR
layered = [h for h in cfg["history"] if not h.get("empty_layer")]
assert len(layered) == len(diff_ids), cfg["history"]
assert all(h["created"] == "2023-11-14T22:13:20Z" for h in cfg["history"])
assert all(h["created_by"].startswith("/bin/sh -c #(nop) ") for h in cfg["history"])
by = [h["created_by"][len("/bin/sh -c #(nop) "):] for h in cfg["history"]]
assert by[0] == "ARG VERSION=1.2.3" and by[1] == "ARG GREETING", by
assert by[3].startswith("COPY --chown=1000:1000 --chmod=0755 file:") and by[3].endswith(" in /usr/local/bin/app"), by
assert by[5].startswith("ADD file:") and by[5].endswith(" in /"), by
assert by[6].startswith("COPY multi:") and by[6].endswith(" in /docs/"), by
assert "ENV APP_VERSION=1.2.3 GREETING=hello" in by and 'CMD ["/usr/local/bin/app"]' in by, by
PY

check "oci-image-tool validates the layout" oci-image-tool validate --type image --ref name=1 oci-a >/dev/null

# umoci unpacks what was added: contents, --chmod, the extracted archive, the directory copy.
check "umoci unpacks the image" umoci unpack "${umoci_flags[@]}" --image oci-a:1 bundle >/dev/null
root=bundle/rootfs
check "COPY: content" cmp "$root/etc/hello.txt" ctx-a/hello.txt
equal "COPY --chmod: mode" 755 "$(stat -c %a "$root/usr/local/bin/app")"
if is_root; then
  equal "COPY --chown: owner (umoci)" 1000:1000 "$(stat -c %u:%g "$root/usr/local/bin/app")"
  equal "ADD: the archive's owner (umoci)" 1234:5678 "$(stat -c %u:%g "$root/var/lib/app/state")"
fi
equal "COPY of a file: mode kept" 644 "$(stat -c %a "$root/etc/hello.txt")"
check "COPY of a directory: its content" cmp "$root/etc/app/sub/nested.conf" ctx-a/conf/sub/nested.conf
equal "COPY keeps symlinks" app.conf "$(readlink "$root/etc/app/current.conf")"
check "ADD extracts a local tar.gz" cmp "$root/etc/os-release" "$work/rootfs-forward/etc/os-release"
equal "ADD: the archive's modes" 600 "$(stat -c %a "$root/var/lib/app/state")"
equal "ADD: the archive's symlinks" ../etc/os-release "$(readlink "$root/var/os-release")"
check "wildcard sources" test -f "$root/docs/notes.txt" -a -f "$root/docs/more.txt"
check "WORKDIR creates its directory" test -d "$root/srv/data" -a -d "$root/home/app"
check ".dockerignore: *.log is not in the image" test ! -e "$root/debug.log"
check ".dockerignore: secret/key is not in the image" test ! -e "$root/secret/key"
check ".dockerignore: the ! exception is" cmp "$root/secret/public.txt" ctx-a/secret/public.txt

# Owners, from the layers themselves (umoci would map them when not run as root).
check "owners: 0:0 by default, --chown, the archive's own" "$PY" <<'PY'
import json, tarfile, gzip, io
index = json.load(open("oci-a/index.json"))
manifest = json.load(open("oci-a/blobs/sha256/" + index["manifests"][0]["digest"][7:]))
owners = {}
for layer in manifest["layers"]:
    data = gzip.open("oci-a/blobs/sha256/" + layer["digest"][7:]).read()
    for m in tarfile.open(fileobj=io.BytesIO(data)):
        owners[m.name.rstrip("/")] = (m.uid, m.gid, m.uname, m.gname, m.mtime)
assert owners["etc/hello.txt"][:2] == (0, 0), owners["etc/hello.txt"]
assert owners["usr/local/bin/app"][:2] == (1000, 1000), owners["usr/local/bin/app"]
assert owners["usr/local/bin"][:2] == (1000, 1000), owners["usr/local/bin"]
assert owners["var/lib/app/state"][:2] == (1234, 5678), owners["var/lib/app/state"]
assert owners["srv/data"][:2] == (0, 0), owners["srv/data"]
assert owners["home/app"][:2] == (1000, 1000), owners["home/app"]  # WORKDIR after USER: USER's
assert all(o[2] == "" and o[3] == "" for o in owners.values()), "owner names are cleared"
assert all(o[4] <= 1700000000 for o in owners.values()), "mtimes are clamped to E"
PY

# ARG: a different --build-arg gives a different image; the default applies without one.
"$REPROIMG" build -q ctx-a --tag test:1 -o oci-default
check "without --build-arg the ARG default is used" "$PY" <<'PY'
import json, subprocess
cfg = json.loads(subprocess.check_output(["skopeo", "inspect", "--config", "oci:oci-default:1"]))
assert "APP_VERSION=0.0" in cfg["config"]["Env"], cfg["config"]["Env"]
PY
"$REPROIMG" build -q ctx-a --build-arg VERSION=1.2.3 --build-arg GREETING=hi --tag test:1 -o oci-greet
check "a --build-arg reaches \${VAR:-default}" "$PY" <<'PY'
import json, subprocess
cfg = json.loads(subprocess.check_output(["skopeo", "inspect", "--config", "oci:oci-greet:1"]))
assert "GREETING=hi" in cfg["config"]["Env"], cfg["config"]["Env"]
assert cfg["config"]["Labels"]["org.example.greeting"] == "hi says 1.2.3", cfg["config"]["Labels"]
PY

# The output inside the context (COPY . copies the context) is not part of the context.
mkdir -p ctx-self && echo self > ctx-self/file.txt && printf 'FROM scratch\nCOPY . /app/\n' > ctx-self/Dockerfile
self_out=$("$REPROIMG" build --json ctx-self -o oci-self | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["manifest_digest"])')
self_in=$("$REPROIMG" build --json ctx-self -o ctx-self/oci | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["manifest_digest"])')
equal "an output inside the context does not change the image" "$self_out" "$self_in"

# A Dockerfile of config only still makes an image the validators accept.
mkdir -p ctx-config && printf 'FROM scratch\nENTRYPOINT ["/bin/true"]\n' > ctx-config/Dockerfile
"$REPROIMG" build -q ctx-config --tag 1 -o oci-config
check "a config-only image validates" oci-image-tool validate --type image --ref name=1 oci-config >/dev/null
check "skopeo reads a config-only image" skopeo inspect oci:oci-config:1 >/dev/null

# Refusals: exit 2, one line naming the Dockerfile line and what to do, nothing at OUT.
# refused NAME DOCKERFILE-TEXT SUBSTRING...
refused() {
  local name=$1 text=$2
  shift 2
  rm -rf "ctx-$name" && mkdir -p "ctx-$name" && printf '%s' "$text" > "ctx-$name/Dockerfile"
  echo data > "ctx-$name/file.txt"
  local rc=0
  "$REPROIMG" build -q "ctx-$name" -o "out-$name" 2> err.txt || rc=$?
  equal "$name: exit code" 2 "$rc"
  equal "$name: one line on stderr" 1 "$(wc -l < err.txt)"
  for s in "$@"; do
    if grep -qF -- "$s" err.txt; then pass; else fail "$name: message lacks '$s': $(cat err.txt)"; fi
  done
  check "$name: nothing at OUT" test ! -e "out-$name"
  check "$name: no staging directory left" test -z "$(ls -d "out-$name".tmp.* 2>/dev/null || true)"
}
refused run $'FROM scratch\nCOPY file.txt /\nRUN apt-get update\n' \
  "reproimg: error: " "Dockerfile:3: RUN:" "container runtime" "reproimg import"
refused remote $'FROM scratch\nADD https://example.com/x.tar.gz /\n' "Dockerfile:2: ADD:" "download the file first"
refused from-image $'FROM debian:12\n' "only FROM scratch is supported yet"
refused missing $'FROM scratch\nCOPY file.txt /a/\nCOPY nothere.txt /b/\n' "Dockerfile:3: COPY:" "nothere.txt"
refused chown-name $'FROM scratch\nCOPY --chown=app file.txt /\n' "numeric UID"

# An existing non-empty output is not overwritten.
mkdir taken && touch taken/x
rc=0
"$REPROIMG" build -q ctx-a -o taken 2> err.txt || rc=$?
equal "existing output: exit code" 2 "$rc"
check "existing output: message" grep -q "already exists" err.txt

finish
