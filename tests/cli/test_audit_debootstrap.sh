#!/usr/bin/env bash
# `reproimg audit` of a Debian minbase rootfs (the tar, and the image `import` makes of it): its
# setuid binaries and its volatile files are exactly the ones a listing with Python's tarfile
# finds (the volatile ones by the debian profile's globs, docs/audit.md), nothing is above medium,
# and the image adds root-user.
#
# Runs only with REPROIMG_DEBOOTSTRAP_TESTS=1 (root, the builder, a Debian mirror, a few minutes);
# otherwise it reports a skip. Settings as tests/cli/test_debootstrap_causes.sh:
#   REPROIMG_DEBOOTSTRAP_BUILDER   mmdebstrap (default) or debootstrap (packed with GNU tar)
#   REPROIMG_DEBOOTSTRAP_SUITE     the Debian suite (default bookworm)
#   BENCH_DIR                      where the tar is kept and reused (bench/minbase_pair's names)
#   MIRROR                         a Debian mirror URL for the builder
set -euo pipefail

if [ "${REPROIMG_DEBOOTSTRAP_TESTS:-}" != 1 ]; then
  echo "SKIP: set REPROIMG_DEBOOTSTRAP_TESTS=1 to build a Debian minbase rootfs and audit it" \
    "(needs root, a Debian mirror and a few minutes)"
  exit 77
fi
. "$(dirname "$0")/common.sh"
need_tools tar

builder=${REPROIMG_DEBOOTSTRAP_BUILDER:-mmdebstrap}
suite=${REPROIMG_DEBOOTSTRAP_SUITE:-bookworm}
store=${BENCH_DIR:-$work/rootfs}
mkdir -p "$store"
tar_in="$store/debian-$suite-minbase-$builder-a.tar"
if [ ! -f "$tar_in" ]; then
  echo "== building $tar_in ($builder)"
  case $builder in
    mmdebstrap) mmdebstrap --variant=minbase "$suite" "$tar_in.tmp" ${MIRROR:+"$MIRROR"} > "$work/build.log" 2>&1 ;;
    debootstrap)
      debootstrap --variant=minbase "$suite" "$work/rootfs-dir" ${MIRROR:+"$MIRROR"} > "$work/build.log" 2>&1
      tar --numeric-owner --xattrs -C "$work/rootfs-dir" -cf "$tar_in.tmp" . ;;
    *) echo "FAIL: unknown builder $builder" >&2; exit 1 ;;
  esac
  mv "$tar_in.tmp" "$tar_in"
fi

rc=0
"$REPROIMG" audit "$tar_in" --format json > "$work/tar.json" || rc=$?
equal "the rootfs tar: exit 0 (nothing at or above high)" 0 "$rc"
"$REPROIMG" import -q "$tar_in" --source-date-epoch 1700000000 -o "$work/img"
rc=0
"$REPROIMG" audit "oci:$work/img" --format json > "$work/img.json" || rc=$?
equal "the image: exit 0" 0 "$rc"

cat > "$work/compare.py" <<'PYEOF'
import fnmatch, json, sys, tarfile
DROPS = ["var/lib/apt/lists/*", "var/cache/apt/*.bin", "var/cache/apt/archives/*.deb",
         "var/cache/apt/archives/partial/*", "var/cache/ldconfig/aux-cache", "var/cache/debconf/*-old",
         "var/lib/dpkg/*-old", "var/log/apt/eipp.log.xz", "run/*", "tmp/*", "var/tmp/*", "etc/ssh/ssh_host_*"]
EMPTIES = ["etc/machine-id", "var/lib/dbus/machine-id", "var/log/dpkg.log", "var/log/apt/*.log",
           "var/log/alternatives.log", "var/log/bootstrap.log", "var/log/lastlog", "var/log/faillog",
           "var/log/wtmp", "var/log/btmp"]
def matches(globs, path):
    parts = path.split("/")
    return any(fnmatch.fnmatchcase("/".join(parts[:i]), g) for g in globs for i in range(1, len(parts) + 1))
setuid, volatile = set(), set()
with tarfile.open(sys.argv[1]) as t:
    for m in t:
        path = m.name[2:] if m.name.startswith("./") else m.name.lstrip("/")
        if not m.isreg():
            continue
        if m.mode & 0o6000:
            setuid.add(path)
        if matches(DROPS, path):
            volatile.add(path)
        elif m.size > 0 and (matches(EMPTIES, path) or path in ("etc/hostname", "etc/resolv.conf")
                             or path.startswith("var/log/") or path.startswith("var/cache/")):
            volatile.add(path)
ok = True
for name in sys.argv[2:4]:
    r = json.load(open(name))
    got_setuid = {p for f in r["findings"] if f["check"] == "setuid" for p in f["paths"]}
    got_volatile = {p for f in r["findings"] if f["check"] == "volatile-file" and f["paths"] != ["etc/shadow"] for p in f["paths"]}
    for what, want, got in (("setuid", setuid, got_setuid), ("volatile", volatile, got_volatile)):
        if want != got:
            ok = False
            print(f"{name}: {what}: tarfile finds {sorted(want - got)[:10]} that audit does not; audit {sorted(got - want)[:10]} that tarfile does not")
    above = [f["check"] for f in r["findings"] if f["severity"] in ("high", "critical")]
    if above:
        ok = False
        print(f"{name}: findings above medium: {above}")
img = json.load(open(sys.argv[3]))
if not any(f["check"] == "root-user" for f in img["findings"]):
    ok = False
    print("the image: no root-user finding")
print(f"setuid {len(setuid)}, volatile {len(volatile)}")
sys.exit(0 if ok else 1)
PYEOF
if "$PY" "$work/compare.py" "$tar_in" "$work/tar.json" "$work/img.json" > "$work/compare.txt"; then
  pass
else
  fail "$(cat "$work/compare.txt")"
fi
echo "   $(tail -n 1 "$work/compare.txt")"
finish
