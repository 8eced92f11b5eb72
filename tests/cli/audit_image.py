#!/usr/bin/env python3
"""Writes the crafted three-layer OCI layout tests/cli/test_audit.sh audits.
Usage: audit_image.py DIR
Layer 0: accounts, a setuid usr/bin/passwd, a world-writable directory without the sticky bit, a
file owned by uid 4242 (no account), a gzip file with a set mtime, a timestamp-based .pyc, a
device outside dev/, a .git directory, an .npmrc token, an ssh host key.
Layer 1: a PEM private key, root/.ssh/id_rsa. Layer 2: its whiteout (deleted, still in layer 1).
Config: an Env credential, no User."""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

MTIME = 1700000000


def add(t, path, data=b"", mode=0o644, uid=0, gid=0, kind=tarfile.REGTYPE):
    ti = tarfile.TarInfo(path)
    ti.type, ti.mode, ti.uid, ti.gid, ti.mtime = kind, mode, uid, gid, MTIME
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def layer(build):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        build(t)
    return buf.getvalue()


def layer0(t):
    for d in ("etc", "usr", "usr/bin", "usr/share", "usr/share/doc", "opt", "app", "tmp", "root"):
        add(t, d, kind=tarfile.DIRTYPE, mode=0o1777 if d == "tmp" else 0o755)
    add(t, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    add(t, "etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    add(t, "etc/shadow", b"root:*:19675:0:99999:7:::\nnobody:*:19675:0:99999:7:::\n", mode=0o640)
    add(t, "usr/bin/passwd", b"\x7fELF passwd", mode=0o4755)
    add(t, "shared", kind=tarfile.DIRTYPE, mode=0o777)
    add(t, "opt/stray", b"owned by nobody we know\n", uid=4242, gid=4242)
    add(t, "usr/share/doc/notes.gz", gzip.compress(b"notes\n", mtime=MTIME - 3600))
    pyc = b"\xa7\x0d\x0d\x0a" + b"\0\0\0\0" + (MTIME - 7200).to_bytes(4, "little") + (6).to_bytes(4, "little") + b"\xe3code"
    add(t, "app/mod.cpython-311.pyc", pyc)
    add(t, "opt/null", mode=0o666, kind=tarfile.CHRTYPE)
    for d in ("srv", "srv/app", "srv/app/.git", "home", "home/u", "etc/ssh"):
        add(t, d, kind=tarfile.DIRTYPE, mode=0o755)
    add(t, "srv/app/.git/config", b"[remote \"origin\"]\n")
    add(t, "home/u/.npmrc", b"//registry.npmjs.org/:_authToken=npm_0000\n", mode=0o600)
    add(t, "etc/ssh/ssh_host_ed25519_key", KEY, mode=0o600)


KEY = (b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + b"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n" * 5 +
       b"-----END OPENSSH PRIVATE KEY-----\n")


def layer1(t):
    add(t, "root/.ssh", kind=tarfile.DIRTYPE, mode=0o700)
    add(t, "root/.ssh/id_rsa", KEY, mode=0o600)


def layer2(t):
    add(t, "root/.ssh/.wh.id_rsa", b"")


def blob(out, data, media):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return {"mediaType": media, "digest": "sha256:" + d, "size": len(data)}


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    layers = [layer(b) for b in (layer0, layer1, layer2)]
    descs = [blob(out, l, "application/vnd.oci.image.layer.v1.tar") for l in layers]
    created = "2023-11-14T22:13:20Z"
    config = {"architecture": "amd64", "os": "linux", "created": created,
              "config": {"Env": ["PATH=/usr/bin:/bin", "API_TOKEN=not-a-real-token-1234"], "Cmd": ["/bin/sh"]},
              "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]},
              "history": [{"created": created, "created_by": "layer %d" % i} for i in range(3)]}
    cdesc = blob(out, json.dumps(config, sort_keys=True).encode(), "application/vnd.oci.image.config.v1+json")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cdesc, "layers": descs}
    mdesc = blob(out, json.dumps(manifest, sort_keys=True).encode(), "application/vnd.oci.image.manifest.v1+json")
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [mdesc]}, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


main()
