#!/usr/bin/env python3
"""Small OCI image layouts for the registry tests, made without any container tool.

  make_images.py image DIR --tag TAG [--seed S] [--layers N] [--size BYTES] [--platform OS/ARCH]
  make_images.py index DIR --tag TAG [--seed S] [--platforms OS/ARCH,OS/ARCH[/VARIANT],...]

`image`: a one-platform image (an OCI manifest) of N gzip layers, each a tar of a few files whose
bytes follow from the seed (pseudo-random, so that they do not compress away: --size bytes per layer
in all). `index`: an OCI image index with one such image per platform, each platform's files
distinct. Every time and owner is fixed, so the same arguments make the same bytes. The layout's
index.json names the image (or the index) with org.opencontainers.image.ref.name = TAG, as skopeo's
`oci:DIR:TAG` reads it. Prints the digest of what TAG names.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import tarfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def put_blob(layout, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", digest[7:])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return digest


def layer_tar(rng, tag, size, files=4):
    """An uncompressed tar: a directory, `files` regular files sharing `size` bytes, a symlink."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        def add(name, kind, data=b"", link=""):
            ti = tarfile.TarInfo(name)
            ti.type, ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = kind, 1700000000, 0, 0, "", ""
            ti.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
            ti.linkname = link
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data else None)
        add("opt", tarfile.DIRTYPE)
        add("opt/" + tag, tarfile.DIRTYPE)
        for i in range(files):
            add("opt/%s/file%d.bin" % (tag, i), tarfile.REGTYPE, rng.randbytes(max(1, size // files)))
        add("opt/%s/notes.txt" % tag, tarfile.REGTYPE, ("layer %s\n" % tag).encode())
        add("opt/%s/latest" % tag, tarfile.SYMTYPE, link="file0.bin")
    return buf.getvalue()


def make_image(layout, seed, layers, size, platform):
    """Writes one image's blobs; returns the manifest descriptor (with its platform)."""
    os_, arch, *variant = platform.split("/")
    rng = random.Random("%s/%s" % (seed, platform))
    descs, diff_ids = [], []
    for n in range(layers):
        tar = layer_tar(rng, "%s-%s-%d" % (seed, platform.replace("/", "-"), n), size // max(1, layers))
        gz = gzip.compress(tar, compresslevel=6, mtime=0)
        descs.append({"mediaType": OCI_LAYER_GZIP, "digest": put_blob(layout, gz), "size": len(gz)})
        diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
    config = {"architecture": arch, "os": os_, "created": "2023-11-14T22:13:20Z",
              "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                         "Cmd": ["/bin/sh"], "Labels": {"seed": str(seed)}},
              "rootfs": {"type": "layers", "diff_ids": diff_ids},
              "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "make_images.py layer %d" % i}
                          for i in range(layers)]}
    if variant:
        config["variant"] = variant[0]
    cfg = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": put_blob(layout, cfg), "size": len(cfg)},
                "layers": descs}
    m = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    plat = {"architecture": arch, "os": os_}
    if variant:
        plat["variant"] = variant[0]
    return {"mediaType": OCI_MANIFEST, "digest": put_blob(layout, m), "size": len(m), "platform": plat}


def write_layout(layout, desc, tag):
    desc = dict(desc)
    desc.pop("platform", None)
    desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [desc]}, f, sort_keys=True)
    print(desc["digest"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=("image", "index"))
    ap.add_argument("dir")
    ap.add_argument("--tag", default="latest")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--size", type=int, default=200000)
    ap.add_argument("--platform", default="linux/amd64")
    ap.add_argument("--platforms", default="linux/amd64,linux/arm64/v8")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    if args.kind == "image":
        write_layout(args.dir, make_image(args.dir, args.seed, args.layers, args.size, args.platform), args.tag)
        return
    manifests = [make_image(args.dir, args.seed, args.layers, args.size, p) for p in args.platforms.split(",")]
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests},
                       sort_keys=True, separators=(",", ":")).encode()
    write_layout(args.dir, {"mediaType": OCI_INDEX, "digest": put_blob(args.dir, index), "size": len(index)},
                 args.tag)


if __name__ == "__main__":
    main()
