#!/usr/bin/env python3
"""A copy of an OCI image layout with one thing changed, for the tests that must see it refused.

  rewrite_layout.py SRC DST LAYER MODE

Copies the layout SRC to DST (which must not exist) and changes layer LAYER (0-based) of the image
index.json names first, by MODE:

  flip     one byte of the blob in the middle (its size kept): the bytes no longer match the digest
  cut      the blob 100 bytes shorter
  plain    the blob stored uncompressed under its gzip media type (digest and size made to match)
  diffid   the config's diff_id of the layer another (config, manifest and index digests made consistent)
  docker2  Docker schema 2 media types for the manifest, the config and every layer (LAYER unused)
  attest   for an index: an attestation manifest for its first image appended, as BuildKit makes
           them (platform unknown/unknown, an in-toto statement as its one layer; LAYER unused)

Prints the digest of layer LAYER as the manifest names it afterwards (attest: the index's digest).
"""

import hashlib
import json
import os
import shutil
import sys
import zlib


def main():
    src, dst, n, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    shutil.copytree(src, dst)

    def blob(d):
        return os.path.join(dst, "blobs", "sha256", d.split(":")[1])

    def put(data):
        d = "sha256:" + hashlib.sha256(data).hexdigest()
        with open(blob(d), "wb") as f:
            f.write(data)
        return d, len(data)

    def rewrite(path, data):
        os.chmod(path, 0o644)
        with open(path, "wb") as f:
            f.write(data)

    with open(os.path.join(dst, "index.json")) as f:
        index = json.load(f)
    with open(blob(index["manifests"][0]["digest"])) as f:
        m = json.load(f)
    if mode == "attest":
        statement = json.dumps({"_type": "https://in-toto.io/Statement/v0.1", "subject": [],
                                "predicateType": "https://spdx.dev/Document", "predicate": {}}).encode()
        sd, ss = put(statement)
        config = json.dumps({"architecture": "unknown", "os": "unknown", "config": {},
                             "rootfs": {"type": "layers", "diff_ids": [sd]}}).encode()
        cd, cs = put(config)
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
                               "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": sd, "size": ss,
                                           "annotations": {"in-toto.io/predicate-type": "https://spdx.dev/Document"}}]}).encode()
        md, ms = put(manifest)
        m["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
                               "platform": {"architecture": "unknown", "os": "unknown"},
                               "annotations": {"vnd.docker.reference.digest": m["manifests"][0]["digest"],
                                               "vnd.docker.reference.type": "attestation-manifest"}})
        top = index["manifests"][0]
        top["digest"], top["size"] = put(json.dumps(m).encode())
        with open(os.path.join(dst, "index.json"), "w") as f:
            json.dump(index, f)
        print(top["digest"])
        return
    layer = m["layers"][n]
    path = blob(layer["digest"])
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if mode == "flip":
        data[len(data) // 2] ^= 0xFF
        rewrite(path, data)
    elif mode == "cut":
        rewrite(path, data[:-100])
    elif mode == "plain":
        layer["digest"], layer["size"] = put(zlib.decompress(bytes(data), 31))
    elif mode == "docker2":
        m["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json"
        m["config"]["mediaType"] = "application/vnd.docker.container.image.v1+json"
        for entry in m["layers"]:
            entry["mediaType"] = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    elif mode == "diffid":
        with open(blob(m["config"]["digest"])) as f:
            config = json.load(f)
        config["rootfs"]["diff_ids"][n] = "sha256:" + "0" * 64
        m["config"]["digest"], m["config"]["size"] = put(json.dumps(config).encode())
    else:
        sys.exit("rewrite_layout.py: unknown mode " + mode)
    top = index["manifests"][0]
    top["digest"], top["size"] = put(json.dumps(m, indent=3).encode())
    top["mediaType"] = m.get("mediaType", top["mediaType"])
    with open(os.path.join(dst, "index.json"), "w") as f:
        json.dump(index, f)
    print(layer["digest"])


if __name__ == "__main__":
    main()
