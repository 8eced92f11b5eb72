#!/usr/bin/env python3
"""What differs between two tars, entry by entry: the reference bench/diff checks `reproimg diff` against.

Reads both tars with Python's tarfile (any compression it knows), indexes each entry by its canonical
path (no leading ./ or /, no trailing /) and compares type, mode, uid, gid, uname, gname, mtime,
symlink or hardlink target, device numbers, pax atime/ctime, xattrs and the sha256 of the content.
Prints a summary: entry counts, how many paths differ in each attribute, the paths whose content
differs (and whether only an embedded timestamp does: gzip header, .pyc header), added and removed paths.

usage: tar_delta.py A.tar B.tar [--paths FILE] [--max-list N]
  --paths FILE   write every differing path (sorted, one a line) to FILE
  --max-list N   list at most N paths per section (default 40)
Exit 0 when the two indexes are identical, 1 when they differ, 2 on error.
"""
import argparse
import gzip
import hashlib
import os
import sys
import tarfile
import zlib

CHUNK = 1 << 20


def canonical(name):
    while name.startswith("./"):
        name = name[2:]
    name = name.lstrip("/")
    while name.endswith("/") and name != "":
        name = name[:-1]
    return "" if name == "." else name


def kind(member):
    if member.isreg():
        return "file"
    if member.isdir():
        return "dir"
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hardlink"
    if member.ischr():
        return "char"
    if member.isblk():
        return "block"
    if member.isfifo():
        return "fifo"
    return "other:" + member.type.decode("latin-1")


def index(path, want_content):
    """path -> attribute dict, and the entry order. Content kept (bytes) only for small paths asked for."""
    entries = {}
    order = []
    with tarfile.open(path, "r:*") as tar:
        for m in tar:
            p = canonical(m.name)
            if p == "":
                continue
            pax = m.pax_headers or {}
            e = {
                "type": kind(m),
                "mode": m.mode & 0o7777,
                "uid": m.uid,
                "gid": m.gid,
                "uname": m.uname,
                "gname": m.gname,
                "mtime": int(m.mtime),
                "link": canonical(m.linkname) if m.islnk() else (m.linkname if m.issym() else ""),
                "dev": (m.devmajor, m.devminor) if (m.ischr() or m.isblk()) else None,
                "pax-time": tuple(pax.get(k) for k in ("atime", "ctime")),
                "xattr": tuple(sorted((k, v) for k, v in pax.items() if k.startswith("SCHILY.xattr."))),
                "sha256": None,
                "size": m.size if m.isreg() else 0,
            }
            if m.isreg():
                h = hashlib.sha256()
                f = tar.extractfile(m)
                keep = want_content(p)
                kept = []
                while True:
                    b = f.read(CHUNK)
                    if not b:
                        break
                    h.update(b)
                    if keep:
                        kept.append(b)
                e["sha256"] = h.hexdigest()
                if keep:
                    e["content"] = b"".join(kept)
            if p in entries:
                order.remove(p)
            entries[p] = e
            order.append(p)
    return entries, order


def timestamp_only(path, a, b):
    """True when the contents differ only in a timestamp the format embeds (what diff calls embedded-timestamp)."""
    if a[:2] == b"\x1f\x8b" and b[:2] == b"\x1f\x8b":
        try:
            if gzip.decompress(a) == gzip.decompress(b):
                return "gzip"
        except (OSError, EOFError, zlib.error):
            return None
    if path.endswith(".pyc") and len(a) >= 16 and len(a) == len(b) and a[:4] == b[:4] and a[16:] == b[16:]:
        return "pyc header"
    return None


ATTRS = ["type", "mode", "uid", "gid", "uname", "gname", "mtime", "link", "dev", "pax-time", "xattr", "sha256"]


def main():
    ap = argparse.ArgumentParser(description="What differs between two tars, entry by entry.")
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--paths", help="write every differing path to this file")
    ap.add_argument("--max-list", type=int, default=40)
    args = ap.parse_args()

    # Keep contents only of the files that are small and plausibly timestamp-carrying, to classify them.
    def small_candidate(p):
        return p.endswith((".gz", ".pyc"))

    try:
        ea, oa = index(args.a, small_candidate)
        eb, ob = index(args.b, small_candidate)
    except (OSError, tarfile.TarError) as exc:
        print(f"tar_delta.py: {exc}", file=sys.stderr)
        return 2

    removed = sorted(set(ea) - set(eb))
    added = sorted(set(eb) - set(ea))
    common = sorted(set(ea) & set(eb))
    by_attr = {a: [] for a in ATTRS}
    differing = []
    mtime_only = 0
    mtime_deltas = {}
    content = []
    for p in common:
        a, b = ea[p], eb[p]
        diff = [k for k in ATTRS if a[k] != b[k]]
        if not diff:
            continue
        differing.append(p)
        for k in diff:
            by_attr[k].append(p)
        if diff == ["mtime"]:
            mtime_only += 1
        if "mtime" in diff:
            d = b["mtime"] - a["mtime"]
            mtime_deltas[d] = mtime_deltas.get(d, 0) + 1
        if "sha256" in diff:
            why = None
            if "content" in a and "content" in b:
                why = timestamp_only(p, a["content"], b["content"])
            content.append((p, a["size"], b["size"], why))

    common_a = [p for p in oa if p in eb]
    common_b = [p for p in ob if p in ea]
    same_order = common_a == common_b

    def size_of(entries):
        return sum(e["size"] for e in entries.values())

    print(f"entries   A {len(ea)}  B {len(eb)}  (content bytes A {size_of(ea)}, B {size_of(eb)})")
    print(f"paths     {len(common)} in both, {len(differing)} of them differ ({mtime_only} in mtime only), "
          f"{len(removed)} removed (only in A), {len(added)} added (only in B)")
    print(f"order     {'same' if same_order else 'different'} order of the common paths")
    print("per attribute (paths whose value differs):")
    for k in ATTRS:
        if by_attr[k]:
            label = "content" if k == "sha256" else k
            print(f"  {label:<9} {len(by_attr[k])}")
    if mtime_deltas:
        top = sorted(mtime_deltas.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        print("mtime B-A (s): " + ", ".join(f"{d:+d} x{n}" for d, n in top)
              + (" ..." if len(mtime_deltas) > 5 else ""))
    if content:
        print(f"content differs ({len(content)}):")
        for p, sa, sb, why in content[: args.max_list]:
            note = f"  [{why} only]" if why else ""
            print(f"  {p}  ({sa} -> {sb} bytes){note}")
        if len(content) > args.max_list:
            print(f"  ... {len(content) - args.max_list} more")
    for label, paths in (("removed (only in A)", removed), ("added (only in B)", added)):
        if paths:
            print(f"{label} ({len(paths)}):")
            for p in paths[: args.max_list]:
                print(f"  {p}")
            if len(paths) > args.max_list:
                print(f"  ... {len(paths) - args.max_list} more")
    meta_only = [p for p in differing if p not in {c[0] for c in content}]
    if meta_only:
        print("metadata differs, e.g.:")
        for p in meta_only[: min(args.max_list, 10)]:
            d = [k for k in ATTRS if ea[p][k] != eb[p][k]]
            print(f"  {p}  " + ", ".join(f"{k} {ea[p][k]!r} -> {eb[p][k]!r}" for k in d))
    if args.paths:
        with open(args.paths + ".tmp", "w", encoding="utf-8", errors="surrogateescape") as f:
            for p in sorted(set(differing) | set(added) | set(removed)):
                f.write(p + "\n")
        os.replace(args.paths + ".tmp", args.paths)
    return 0 if not (differing or added or removed or not same_order) else 1


if __name__ == "__main__":
    sys.exit(main())
