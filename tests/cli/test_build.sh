#!/usr/bin/env bash
# reproimg build: FROM scratch and FROM local images (oci, oci-archive, docker-archive, made by
# reproimg, skopeo and umoci) to deterministic images that skopeo, umoci and oci-image-tool
# accept; base layers kept byte for byte; docker-archive output; refusals (RUN, remote ADD, images
# that are not local) with exit 2 and nothing left behind; the demo's import.
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
skopeo inspect oci:oci-a:test:1 > inspect.json
skopeo inspect --config oci:oci-a:test:1 > config.json
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

check "oci-image-tool validates the layout" oci-image-tool validate --type image --ref name=test:1 oci-a >/dev/null

# umoci unpacks what was added: contents, --chmod, the extracted archive, the directory copy.
check "umoci unpacks the image" umoci unpack "${umoci_flags[@]}" --image oci-a:test:1 bundle >/dev/null
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
cfg = json.loads(subprocess.check_output(["skopeo", "inspect", "--config", "oci:oci-default:test:1"]))
assert "APP_VERSION=0.0" in cfg["config"]["Env"], cfg["config"]["Env"]
PY
"$REPROIMG" build -q ctx-a --build-arg VERSION=1.2.3 --build-arg GREETING=hi --tag test:1 -o oci-greet
check "a --build-arg reaches \${VAR:-default}" "$PY" <<'PY'
import json, subprocess
cfg = json.loads(subprocess.check_output(["skopeo", "inspect", "--config", "oci:oci-greet:test:1"]))
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
refused from-registry $'FROM debian:12\n' "Dockerfile:1: FROM:" "'debian:12' is not an image" "FROM docker://debian:12"
refused from-missing $'FROM oci:no-such-layout:1\n' "Dockerfile:1: FROM:" "cannot read the base image 'oci:no-such-layout:1'"
refused two-stages $'FROM scratch AS a\nCOPY file.txt /\nFROM scratch\n' "Dockerfile:3: FROM:" "multi-stage"
refused copy-from $'FROM scratch\nCOPY --from=a /x /y\n' "Dockerfile:2: COPY:" "--from"
refused missing $'FROM scratch\nCOPY file.txt /a/\nCOPY nothere.txt /b/\n' "Dockerfile:3: COPY:" "nothere.txt"
refused chown-name $'FROM scratch\nCOPY --chown=app file.txt /\n' "numeric UID"

# --- FROM a local image: the base's layers kept byte for byte, its config inherited.
# A base rootfs as a tar with exact owners and modes: a usrmerge symlink, a 0750 directory owned
# by 1234:5678, and a directory that the umoci-made base deletes (a whiteout).
"$PY" - <<'PY'
import io, tarfile
t = tarfile.open("base-rootfs.tar", "w", format=tarfile.PAX_FORMAT)
def add(name, kind="f", data=b"", mode=0o644, uid=0, gid=0, link=""):
    i = tarfile.TarInfo(name)
    i.mode, i.uid, i.gid, i.mtime = mode, uid, gid, 1600000000
    if kind == "d":
        i.type = tarfile.DIRTYPE
    elif kind == "l":
        i.type, i.linkname = tarfile.SYMTYPE, link
    else:
        i.size = len(data)
    t.addfile(i, io.BytesIO(data) if kind == "f" else None)
for d in ["etc", "usr", "usr/bin", "opt", "opt/gone"]:
    add(d, "d", mode=0o755)
add("opt/data", "d", mode=0o750, uid=1234, gid=5678)
add("etc/os-release", data=b"ID=base\n")
add("usr/bin/tool", data=b"#!/bin/sh\necho tool\n", mode=0o755)
add("bin", "l", link="usr/bin")
add("opt/gone/old.txt", data=b"old\n")
t.close()
PY
base_changes=(--change 'ENV PATH=/usr/bin:/bin BASEVAR=base' --change 'WORKDIR /opt' --change 'CMD ["/bin/tool"]'
              --change 'LABEL layer=base keep=yes' --change 'EXPOSE 22' --change 'STOPSIGNAL SIGINT'
              --change 'ONBUILD LABEL triggered=$BASEVAR')
"$REPROIMG" import -q base-rootfs.tar "${base_changes[@]}" --tag 1 -o base-oci
"$REPROIMG" import -q base-rootfs.tar "${base_changes[@]}" --format oci-archive --tag 1 -o base-oci.tar
"$REPROIMG" import -q base-rootfs.tar "${base_changes[@]}" --format docker-archive --tag base:1 -o base-docker.tar
# The same image as other tools write it: skopeo recompressed with zstd, skopeo's docker-archive,
# and umoci's repack of an unpacked bundle with /opt/gone deleted (a layer of whiteouts on top).
skopeo copy -q --dest-compress-format zstd oci:base-oci:1 oci:base-skopeo:1
skopeo copy -q oci:base-oci:1 docker-archive:base-skopeo-docker.tar:base:1
cp -r base-oci base-umoci
umoci unpack "${umoci_flags[@]}" --image base-umoci:1 base-bundle >/dev/null
rm -rf base-bundle/rootfs/opt/gone
umoci repack --image base-umoci:1 base-bundle >/dev/null

mkdir -p ctx-from
printf '#!/bin/sh\necho tool2\n' > ctx-from/tool2 && chmod 755 ctx-from/tool2
echo data > ctx-from/data.txt
echo note > ctx-from/note.txt
cat > ctx-from/Dockerfile <<'EOF2'
ARG BASE
ARG BASEPLATFORM=linux/amd64
FROM --platform=$BASEPLATFORM $BASE AS app
COPY tool2 /bin/
COPY data.txt data/
COPY note.txt /opt/gone
ENV APP=1 FROMBASE=$BASEVAR
WORKDIR app
LABEL layer=app
EXPOSE 8080
EOF2
find ctx-from -exec touch -h -d @1710000000 {} +

# from_checks NAME BASE-REF OUT [no-umoci]: the built image against its base (skopeo, umoci and
# the blobs); umoci 0.4 cannot unpack zstd layers.
from_checks() {
  local name=$1 base=$2 out=$3 unpack=${4:-umoci}
  skopeo inspect "$base" > "base-$name.json"
  skopeo inspect --config "$base" > "base-$name-config.json"
  skopeo inspect "oci:$out" > "out-$name.json"
  skopeo inspect --config "oci:$out" > "out-$name-config.json"
  check "FROM $name: base layers and config inherited, new layers on top" "$PY" - "$name" "$out" <<'PY'
import hashlib, json, sys
name, out = sys.argv[1], sys.argv[2]
base, base_cfg = json.load(open(f"base-{name}.json")), json.load(open(f"base-{name}-config.json"))
new, cfg = json.load(open(f"out-{name}.json")), json.load(open(f"out-{name}-config.json"))
n = len(base["Layers"])
# The base's blobs, byte for byte: the same digests, and the stored files hash to them.
assert new["Layers"][:n] == base["Layers"], (new["Layers"], base["Layers"])
for d in new["Layers"]:
    assert hashlib.sha256(open(f"{out}/blobs/sha256/{d[7:]}", "rb").read()).hexdigest() == d[7:], d
assert cfg["rootfs"]["diff_ids"][:n] == base_cfg["rootfs"]["diff_ids"], "the base's diff_ids first"
assert len(cfg["rootfs"]["diff_ids"]) == n + 4 and len(new["Layers"]) == n + 4, cfg["rootfs"]  # 3 COPY + 1 WORKDIR
assert cfg["history"][:len(base_cfg["history"])] == base_cfg["history"], "the base's history first"
by = [h["created_by"] for h in cfg["history"][len(base_cfg["history"]):]]
# The base's ONBUILD runs right after FROM (umoci's repack drops OnBuild from the config).
triggered = name != "umoci"
assert (by[0] == "/bin/sh -c #(nop) LABEL triggered=base") == triggered, by
c = cfg["config"]
assert c["Env"] == ["PATH=/usr/bin:/bin", "BASEVAR=base", "APP=1", "FROMBASE=base"], c["Env"]
assert c["Cmd"] == ["/bin/tool"] and c["StopSignal"] == "SIGINT", c
assert c["WorkingDir"] == "/opt/app", c["WorkingDir"]  # relative to the base's WORKDIR
assert c["Labels"] == {"layer": "app", "keep": "yes", **({"triggered": "base"} if triggered else {})}, c["Labels"]
assert c["ExposedPorts"] == {"22/tcp": {}, "8080/tcp": {}}, c["ExposedPorts"]
assert "OnBuild" not in c, "the triggers ran: they are not inherited"
assert cfg["os"] == "linux" and cfg["architecture"] == "amd64", cfg
assert cfg["created"] == "2023-11-14T22:13:20Z", cfg["created"]
PY
  [ "$unpack" = umoci ] || return 0
  rm -rf "bundle-$name"
  check "FROM $name: umoci unpacks it" umoci unpack "${umoci_flags[@]}" --image "$out:1" "bundle-$name" >/dev/null
  local r=bundle-$name/rootfs
  check "FROM $name: the base's files" cmp "$r/usr/bin/tool" base-bundle/rootfs/usr/bin/tool
  equal "FROM $name: the base's symlink" usr/bin "$(readlink "$r/bin" || true)"
  check "FROM $name: COPY into /bin/ follows the base's symlink" cmp "$r/usr/bin/tool2" ctx-from/tool2
  check "FROM $name: a relative destination is under the base's WORKDIR" cmp "$r/opt/data/data.txt" ctx-from/data.txt
  check "FROM $name: WORKDIR creates its directory" test -d "$r/opt/app"
}

for kind in oci oci-archive docker-archive skopeo skopeo-docker-archive umoci; do
  unpack=umoci
  case $kind in
    oci) base=oci:base-oci:1 ;;
    oci-archive) base=oci-archive:base-oci.tar:1 ;;
    docker-archive) base=docker-archive:base-docker.tar:base:1 ;;
    skopeo) base=oci:base-skopeo:1 unpack=no-umoci ;;
    skopeo-docker-archive) base=base-skopeo-docker.tar ;; # no prefix: detected
    umoci) base=oci:base-umoci:1 ;;
  esac
  "$REPROIMG" build -q ctx-from --build-arg "BASE=$base" --tag 1 -o "from-$kind"
  [ "$kind" != skopeo-docker-archive ] || base=docker-archive:$base
  from_checks "$kind" "$base" "from-$kind" "$unpack"
done
check "skopeo's zstd base: its layers are zstd" grep -q 'tar+zstd' "from-skopeo/blobs/sha256/$("$PY" -c 'import json; print(json.load(open("from-skopeo/index.json"))["manifests"][0]["digest"][7:])')"
# The whiteout of the umoci base removed /opt/gone: COPY note.txt /opt/gone makes a file there.
check "FROM umoci: the base's whiteout is applied" cmp bundle-umoci/rootfs/opt/gone ctx-from/note.txt
check "FROM oci: without a whiteout /opt/gone is a directory" cmp bundle-oci/rootfs/opt/gone/note.txt ctx-from/note.txt
# A parent directory the new layer repeats keeps the base's owner and mode (as a layer diff does).
check "FROM oci: /opt/data in the new layer keeps 1234:5678 and 0750" "$PY" <<'PY'
import gzip, io, json, tarfile
index = json.load(open("from-oci/index.json"))
manifest = json.load(open("from-oci/blobs/sha256/" + index["manifests"][0]["digest"][7:]))
layer = manifest["layers"][2]  # base, COPY tool2, COPY data.txt
data = gzip.open("from-oci/blobs/sha256/" + layer["digest"][7:]).read()
members = {m.name.rstrip("/"): m for m in tarfile.open(fileobj=io.BytesIO(data))}
d = members["opt/data"]
assert (d.uid, d.gid, d.mode) == (1234, 5678, 0o750), (d.uid, d.gid, oct(d.mode))
assert "opt/data/data.txt" in members, sorted(members)
PY
check "oci-image-tool validates an image built FROM an image" \
  oci-image-tool validate --type image --ref name=1 from-oci >/dev/null

# A multi-platform base: FROM --platform (or the build's --platform) picks the image, whose
# platform the result has; with neither matching, a one-line error lists the candidates.
"$REPROIMG" import -q base-rootfs.tar --platform linux/arm64 --change 'ENV ARCH=arm64' -o base-arm64
cp -r base-oci base-multi && cp base-arm64/blobs/sha256/* base-multi/blobs/sha256/
"$PY" - <<'PY'
import json
index = json.load(open("base-multi/index.json"))
index["manifests"] += json.load(open("base-arm64/index.json"))["manifests"]
for m in index["manifests"]:
    m.pop("annotations", None)
json.dump(index, open("base-multi/index.json", "w"))
PY
mkdir -p ctx-multi && printf 'ARG P=linux/amd64
FROM --platform=$P oci:base-multi
LABEL arch=${ARCH:-none}
' > ctx-multi/Dockerfile
"$REPROIMG" build -q ctx-multi --build-arg P=linux/arm64 -o from-multi-arm64
"$REPROIMG" build -q ctx-multi -o from-multi-amd64
check "multi-platform base: FROM --platform picks the image and its platform" "$PY" <<'PY'
import json, subprocess
for arch, label in [("arm64", "arm64"), ("amd64", "none")]:
    cfg = json.loads(subprocess.check_output(["skopeo", "inspect", "--config", f"oci:from-multi-{arch}"]))
    assert cfg["architecture"] == arch and cfg["config"]["Labels"]["arch"] == label, cfg
    index = json.load(open(f"from-multi-{arch}/index.json"))
    assert index["manifests"][0]["platform"]["architecture"] == arch, index
PY
printf 'FROM oci:base-multi
' > ctx-multi/Dockerfile.any
rc=0
"$REPROIMG" build -q -f ctx-multi/Dockerfile.any ctx-multi --platform linux/s390x -o from-multi-s390x 2> err.txt || rc=$?
equal "multi-platform base, no match: exit code" 2 "$rc"
check "multi-platform base, no match: the candidates" grep -q "linux/amd64, untagged linux/arm64); choose one" err.txt

# The same base in any form gives the same new layers; the same form, the same image.
equal "FROM oci-archive: the image of FROM oci" "$(cat from-oci/index.json)" "$(cat from-oci-archive/index.json)"
top_layers() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["Layers"][-4:])' "$1"; }
equal "FROM docker-archive: the same new layers" "$(top_layers out-oci.json)" "$(top_layers out-docker-archive.json)"
# Touched context files (mtimes after E, another order) do not change the image.
cp -r ctx-from ctx-from2 && find ctx-from2 -exec touch -h -d @1720000000 {} +
"$REPROIMG" build -q ctx-from2 --build-arg BASE=oci:base-oci:1 --tag 1 -o from-oci-again
same_bytes "FROM oci, rebuilt from a touched context: the same manifest" from-oci/index.json from-oci-again/index.json
check "FROM oci, rebuilt: identical layouts" diff -r from-oci from-oci-again

# build -> docker-archive: skopeo reads it; its config is the OCI build's, byte for byte.
json_oci=$("$REPROIMG" build --json ctx-from --build-arg BASE=oci:base-oci:1 -o from-oci-json)
json_docker=$("$REPROIMG" build --json ctx-from --build-arg BASE=oci:base-oci:1 --format docker-archive --tag app:2 -o from.docker.tar)
config_of() { printf '%s' "$1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["config_digest"])'; }
equal "docker-archive output: the image ID of the OCI build" "$(config_of "$json_oci")" "$(config_of "$json_docker")"
check "docker-archive output: no manifest digest" test "$(printf '%s' "$json_docker" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["manifest_digest"])')" = None
skopeo inspect docker-archive:from.docker.tar > docker-out.json
check "skopeo inspect docker-archive: the layers are the diff_ids, Env inherited" "$PY" <<'PY'
import json
doc, cfg = json.load(open("docker-out.json")), json.load(open("out-oci-config.json"))
assert doc["Layers"] == cfg["rootfs"]["diff_ids"], (doc["Layers"], cfg["rootfs"]["diff_ids"])
assert "BASEVAR=base" in doc["Env"] and doc["Labels"]["layer"] == "app", doc
PY
"$REPROIMG" build -q ctx-from --build-arg BASE=oci:base-oci:1 --format docker-archive --tag app:2 -o from2.docker.tar
same_bytes "docker-archive output: rebuilt byte for byte" from.docker.tar from2.docker.tar
check "docker-archive output: tagged app:2" grep -q '"RepoTags":\["app:2"\]' <(tar -xOf from.docker.tar manifest.json)
# ... and it is a base for the next build.
printf 'FROM docker-archive:from.docker.tar:app:2\nENTRYPOINT ["/bin/tool"]\n' > ctx-config/Dockerfile.chain
"$REPROIMG" build -q -f ctx-config/Dockerfile.chain ctx-config --tag 1 -o from-chain
check "FROM a docker-archive build wrote: ENTRYPOINT drops the inherited CMD" "$PY" <<'PY'
import json, subprocess
cfg = json.loads(subprocess.check_output(["skopeo", "inspect", "--config", "oci:from-chain:1"]))
c = cfg["config"]
assert c["Entrypoint"] == ["/bin/tool"] and "Cmd" not in c, c
assert len(cfg["rootfs"]["diff_ids"]) == 5, cfg["rootfs"]  # nothing added: the base's 5 layers
PY

# Refusals about the base: exit 2, one line naming it, nothing at OUT.
# base_refused NAME BUILD-ARGS... -- SUBSTRING...
base_refused() {
  local name=$1 args=() rc=0
  shift
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  "$REPROIMG" build -q ctx-from "${args[@]}" -o "out-$name" 2> err.txt || rc=$?
  equal "$name: exit code" 2 "$rc"
  equal "$name: one line on stderr" 1 "$(wc -l < err.txt)"
  for s in "$@"; do
    if grep -qF -- "$s" err.txt; then pass; else fail "$name: message lacks '$s': $(cat err.txt)"; fi
  done
  check "$name: nothing at OUT" test ! -e "out-$name"
}
base_refused platform --build-arg BASE=oci:base-oci:1 --build-arg BASEPLATFORM=linux/arm64 -- \
  "Dockerfile:3: FROM:" "is linux/amd64, not the linux/arm64"
base_refused no-tag --build-arg BASE=oci:base-oci:nope -- "cannot read the base image 'oci:base-oci:nope'" "nope"
cp -r base-oci base-corrupt
layer_blob=$("$PY" -c 'import json; print(json.load(open("out-oci.json"))["Layers"][0][7:])')
printf 'X' | dd of="base-corrupt/blobs/sha256/$layer_blob" bs=1 seek=40 conv=notrunc status=none
base_refused corrupt --build-arg BASE=oci:base-corrupt:1 -- "Dockerfile:3: FROM:" "content digest" "differs"
check "corrupt base: no staging directory left" test -z "$(ls -d out-corrupt.tmp.* 2>/dev/null || true)"

# The demo: the two naive packings, imported, are one image.
rm -rf demo && mkdir demo
check "reproimg demo exits 0" "$REPROIMG" demo --keep demo >demo.txt
check "demo: the two imports are byte-identical oci-archives" cmp demo/a.oci.tar demo/b.oci.tar
check "demo: skopeo reads them" skopeo inspect oci-archive:demo/a.oci.tar >/dev/null
check "demo: it says the images are identical" grep -q "identical: one image" demo.txt

# An existing non-empty output is not overwritten.
mkdir taken && touch taken/x
rc=0
"$REPROIMG" build -q ctx-a -o taken 2> err.txt || rc=$?
equal "existing output: exit code" 2 "$rc"
check "existing output: message" grep -q "already exists" err.txt

finish
