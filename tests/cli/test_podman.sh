#!/usr/bin/env bash
# reproimg import as docker-archive and oci-archive: podman loads and runs them, skopeo reads them.
#
# The classic base-image walk-through (mkimage-busybox.sh, then `docker run IMAGE cat
# /etc/lsb-release`) with podman standing in for the daemon: a busybox rootfs is imported, loaded
# into a private podman store and run. Where this machine cannot start a container at all (no
# namespaces in a sandbox), the run is skipped with the reason; loading and reading never are.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_tools podman runc skopeo ldd sha256sum cmp
cd "$work"

export SOURCE_DATE_EPOCH=1700000000
created=2023-11-14T22:13:20Z
release_line='DISTRIB_ID=ReproBusybox'

# A minimal busybox rootfs. A static busybox is copied alone; a dynamic one (Debian's `busybox`)
# with the libraries ldd names, at their paths, so the image runs without the host.
busybox=$(command -v busybox)
mkdir -p rootfs/bin rootfs/etc
cp "$busybox" rootfs/bin/busybox
chmod 755 rootfs/bin/busybox
if ldd "$busybox" >/dev/null 2>&1; then
  for lib in $(ldd "$busybox" | grep -o '/[^ ]*'); do
    mkdir -p "rootfs$(dirname "$lib")"
    cp -L "$lib" "rootfs$lib"
  done
fi
for applet in sh echo cat; do
  ln -s busybox "rootfs/bin/$applet"
done
echo "$release_line" > rootfs/etc/lsb-release

field() { "$PY" -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print("null" if v is None else v)' "$1"; }

import_args=(dir:rootfs --tag busybox:repro --change 'CMD ["/bin/sh"]')
docker_json=$("$REPROIMG" import --json "${import_args[@]}" --format docker-archive -o busybox-docker.tar)
image_id=$(printf '%s' "$docker_json" | field config_digest)
diff_id=$(printf '%s' "$docker_json" | field diff_id)
equal "docker-archive: no registry manifest to name" null "$(printf '%s' "$docker_json" | field manifest_digest)"
equal "docker-archive: the layer is stored uncompressed (digest = diff_id)" "$diff_id" \
  "$(printf '%s' "$docker_json" | field layer_digest)"
oci_json=$("$REPROIMG" import --json "${import_args[@]}" --format oci-archive -o busybox-oci.tar)
equal "oci-archive and docker-archive hold the same config (same image ID)" "$image_id" \
  "$(printf '%s' "$oci_json" | field config_digest)"

# Reproducible: a second import after the rootfs's times changed gives the same bytes.
touch -d '2024-05-01' rootfs/etc/lsb-release rootfs/bin/busybox
"$REPROIMG" import -q "${import_args[@]}" --format docker-archive -o busybox-docker2.tar
same_bytes "docker-archive twice" busybox-docker.tar busybox-docker2.tar

# The archive itself: v1.2 layout, sorted members, fixed metadata, the identities we printed.
check "docker-archive layout and metadata" "$PY" - busybox-docker.tar "$image_id" "$diff_id" "$SOURCE_DATE_EPOCH" <<'PY'
import hashlib, json, sys, tarfile
path, image_id, diff_id, epoch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
tar = tarfile.open(path)
members = tar.getmembers()
names = [m.name.rstrip("/") for m in members]
assert names == sorted(names, key=lambda n: n.encode()), names
for m in members:
    assert (m.uid, m.gid, m.uname, m.gname) == (0, 0, "", ""), (m.name, m.uid, m.gid, m.uname, m.gname)
    assert m.mtime == epoch, (m.name, m.mtime)
    assert m.mode == (0o755 if m.isdir() else 0o644), (m.name, oct(m.mode))
    assert m.isdir() or m.isfile(), m.name
read = lambda n: tar.extractfile(n).read()
manifest = json.loads(read("manifest.json"))
assert len(manifest) == 1, manifest
item = manifest[0]
assert item["RepoTags"] == ["busybox:repro"], item
config = read(item["Config"])
assert item["Config"] == image_id[7:] + ".json", item
assert "sha256:" + hashlib.sha256(config).hexdigest() == image_id
assert json.loads(config)["rootfs"]["diff_ids"] == [diff_id]
assert len(item["Layers"]) == 1
layer_dir = item["Layers"][0].rsplit("/", 1)[0]
assert item["Layers"][0] == layer_dir + "/layer.tar", item
assert "sha256:" + hashlib.sha256(read(item["Layers"][0])).hexdigest() == diff_id
assert read(layer_dir + "/VERSION") == b"1.0"
legacy = json.loads(read(layer_dir + "/json"))
assert legacy["id"] == layer_dir and "parent" not in legacy, legacy
assert legacy["config"]["Cmd"] == ["/bin/sh"] and legacy["os"] == "linux", legacy
assert json.loads(read("repositories")) == {"busybox": {"repro": layer_dir}}
layer = tarfile.open(fileobj=tar.extractfile(item["Layers"][0]))
assert layer.extractfile("etc/lsb-release").read() == b"DISTRIB_ID=ReproBusybox\n"
assert layer.getmember("bin/sh").issym() and layer.getmember("bin/sh").linkname == "busybox"
PY

# Untagged, as `docker save IMAGE-ID` writes it: RepoTags null, no repositories file.
"$REPROIMG" import -q dir:rootfs --format docker-archive -o untagged.tar
check "untagged docker-archive: RepoTags null, no repositories" "$PY" - untagged.tar <<'PY'
import json, sys, tarfile
tar = tarfile.open(sys.argv[1])
assert json.loads(tar.extractfile("manifest.json").read())[0]["RepoTags"] is None
assert "repositories" not in tar.getnames()
PY
# Refusals: a reference docker load would refuse, a compressed docker-archive layer. Nothing is written.
rc_upper=0
"$REPROIMG" import -q dir:rootfs --format docker-archive --tag 'BusyBox:1' -o refused.tar 2>err.txt || rc_upper=$?
rc_gzip=0
"$REPROIMG" import -q dir:rootfs --format docker-archive --compress gzip -o refused.tar 2>>err.txt || rc_gzip=$?
equal "an upper-case name is a usage error" 2 "$rc_upper"
equal "--compress gzip with docker-archive is a usage error" 2 "$rc_gzip"
check "no output after a refusal" test ! -e refused.tar
check "the refusal names the reference" grep -q "invalid image reference 'BusyBox:1'" err.txt

# skopeo reads the docker-archive: the config it reports is ours, and it copies it to an OCI layout.
skopeo inspect --raw docker-archive:busybox-docker.tar > raw.json
equal "skopeo: config digest = our image ID" "$image_id" \
  "$("$PY" -c 'import json; print(json.load(open("raw.json"))["config"]["digest"])')"
skopeo inspect --config docker-archive:busybox-docker.tar > config.json
check "skopeo: config as written" "$PY" - "$diff_id" "$created" <<'PY'
import json, sys
cfg = json.load(open("config.json"))
assert cfg["rootfs"]["diff_ids"] == [sys.argv[1]], cfg["rootfs"]
assert cfg["created"] == sys.argv[2] and cfg["config"]["Cmd"] == ["/bin/sh"], cfg
PY
check "skopeo inspect docker-archive:FILE:busybox:repro" \
  skopeo inspect docker-archive:busybox-docker.tar:busybox:repro >/dev/null
check "skopeo copy docker-archive -> oci" skopeo copy -q docker-archive:busybox-docker.tar oci:copied:repro
check "skopeo copy untagged docker-archive -> oci" skopeo copy -q docker-archive:untagged.tar oci:copied-untagged:x
# The OCI copy re-encodes the config (its own key order), so compare what it says, not its digest.
skopeo inspect --config oci:copied:repro > copied-config.json
# shellcheck disable=SC2317 # called through check
same_json() { "$PY" -c 'import json,sys; assert json.load(open(sys.argv[1])) == json.load(open(sys.argv[2]))' "$@"; }
check "the copy keeps the config" same_json copied-config.json config.json

# podman, in a private store; runc, cgroupfs and vfs work without systemd or overlay support.
mkdir -p podman/root podman/runroot podman/tmp
cat > containers.conf <<'EOF'
[containers]
# Setting container ulimits needs privileges a nested or rootless sandbox may not have.
default_ulimits = []
EOF
export CONTAINERS_CONF=$work/containers.conf
pod=(podman --root "$work/podman/root" --runroot "$work/podman/runroot" --tmpdir "$work/podman/tmp"
     --runtime runc --cgroup-manager cgroupfs --storage-driver vfs --events-backend none)
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup_podman() {
  "${pod[@]}" rm -a -f >/dev/null 2>&1 || true
  "${pod[@]}" rmi -a -f >/dev/null 2>&1 || true
}
trap 'cleanup_podman; rm -rf "$work"' EXIT

check "podman load docker-archive" "${pod[@]}" load -q -i busybox-docker.tar >/dev/null
equal "podman: the image ID is the config digest" "${image_id#sha256:}" \
  "$("${pod[@]}" image inspect --format '{{.Id}}' busybox:repro 2>&1)"
check "podman load oci-archive" "${pod[@]}" load -q -i busybox-oci.tar >/dev/null
equal "podman: one image for both archives" 1 "$("${pod[@]}" images -q --no-trunc | sort -u | wc -l)"
check "podman load untagged docker-archive (RepoTags null)" "${pod[@]}" load -q -i untagged.tar >/dev/null

# Running needs namespaces; try the plain way, then without the parts a sandbox may forbid.
run_ok=
run_err=
for extra in "" "--net none" "--net none --cgroups disabled" \
             "--net none --cgroups disabled --security-opt seccomp=unconfined --security-opt apparmor=unconfined"; do
  # shellcheck disable=SC2086 # $extra is a list of options
  if out=$("${pod[@]}" run --rm $extra busybox:repro cat /etc/lsb-release 2>run-err.txt); then
    run_ok=1
    break
  fi
  run_err=$(tail -n 1 run-err.txt)
done
if [ -n "$run_ok" ]; then
  equal "podman run busybox:repro cat /etc/lsb-release" "$release_line" "$out"
  # The image's CMD (/bin/sh) reads its script from stdin.
  # shellcheck disable=SC2086,SC2016 # $extra is a list of options; $(...) is for the container's sh
  out=$(echo 'echo hello from $(cat /etc/lsb-release)' | "${pod[@]}" run -i --rm $extra busybox:repro 2>&1) || true
  equal "podman run: CMD [\"/bin/sh\"] runs busybox sh" "hello from $release_line" "$out"
else
  echo "SKIP (run only): podman cannot start a container here: $run_err"
fi

finish
