#!/usr/bin/env python3
"""The causes `reproimg diff` must give two layer tars, found path by path with Python's tarfile.

Reads both tars, compares every path's attributes and classifies each difference by the rules of
docs/diff-causes.md: one cause per differing attribute (mtime, pax-time, owner-id, owner-name, mode,
xattr, link-target, hardlink, content); a volatile path's contents, type or presence are
`volatile-path`; a type change is one record (`type`, or `volatile-path`). Then compares that with
the records of a `reproimg diff --format json` report, path by path. Only `content` is judged
coarsely: reproimg may find that a content difference is an `embedded-timestamp` one.

usage: tar_causes.py A.tar B.tar REPORT.json PROFILE.json
  PROFILE.json   a `reproimg normalize --profile debian --report` report: the profile's globs
Prints the counts per cause (both sides) and every disagreement; exit 0 when they agree on every
path, 1 when they do not, 2 on an error.
"""
import collections
import decimal
import fnmatch
import hashlib
import json
import sys
import tarfile


def canonical(name):
    while name.startswith("./"):
        name = name[2:]
    name = name.lstrip("/")
    while name.endswith("/"):
        name = name[:-1]
    return "" if name == "." else name


def glob_matches_path_or_parent(glob, path):
    """What normalize's glob_matches_path_or_parent does (fnmatch without FNM_PATHNAME)."""
    while glob.startswith("/") or glob.startswith("./"):
        glob = glob[1:] if glob.startswith("/") else glob[2:]
    glob = glob.rstrip("/") or glob
    if fnmatch.fnmatchcase(path, glob):
        return True
    return any(fnmatch.fnmatchcase(path[:i], glob) for i, c in enumerate(path) if c == "/")


class Volatility:
    def __init__(self, profile_report):
        options = json.load(open(profile_report, encoding="utf-8"))["options"]
        self.excludes = options["exclude"]
        self.truncates = options["truncate"]

    def is_volatile(self, path, kind):
        if any(glob_matches_path_or_parent(g, path) for g in self.excludes + self.truncates):
            return True
        # Directories under var/log and var/cache are not volatile themselves (docs/diff-causes.md).
        return kind != "dir" and (path.startswith("var/log/") or path.startswith("var/cache/"))


def kind_of(m):
    for test, name in ((m.isreg, "file"), (m.isdir, "dir"), (m.issym, "symlink"), (m.islnk, "hardlink"),
                       (m.ischr, "char"), (m.isblk, "block"), (m.isfifo, "fifo")):
        if test():
            return name
    return "other"


def exact_time(m, key):
    """A pax time as an exact decimal (sub-seconds kept), else the header's whole seconds."""
    text = (m.pax_headers or {}).get(key)
    if text is not None:
        return decimal.Decimal(text)
    return decimal.Decimal(int(m.mtime)) if key == "mtime" else None


def read_index(path):
    entries = {}
    with tarfile.open(path, "r:*") as tar:
        for m in tar:
            p = canonical(m.name)
            if p == "":
                continue
            pax = m.pax_headers or {}
            atime, ctime = exact_time(m, "atime"), exact_time(m, "ctime")
            e = {
                "kind": kind_of(m),
                "mtime": exact_time(m, "mtime"),
                # reproimg keeps whole seconds of atime/ctime (the records normalize drops anyway)
                "pax-time": tuple(None if t is None else int(t) for t in (atime, ctime)),
                "uid": m.uid, "gid": m.gid,
                "uname": m.uname, "gname": m.gname,
                "mode": m.mode & 0o7777,
                "xattr": tuple(sorted((k, v) for k, v in pax.items() if k.startswith("SCHILY.xattr."))),
                "symlink": m.linkname if m.issym() else None,
                "hardlink": canonical(m.linkname) if m.islnk() else None,
                "device": (m.devmajor, m.devminor) if (m.ischr() or m.isblk()) else None,
                "sha256": None,
            }
            if m.isreg():
                h = hashlib.sha256()
                f = tar.extractfile(m)
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
                e["sha256"] = h.hexdigest()
            entries[p] = e
    return entries


def resolve(entries, path):
    """The entry carrying path's data (hardlinks followed)."""
    e = entries.get(path)
    for _ in range(16):
        if e is None or e["kind"] != "hardlink":
            return e
        e = entries.get(e["hardlink"])
    return None


def link_peers(entries):
    groups = collections.defaultdict(set)
    for p, e in entries.items():
        if e["kind"] == "hardlink":
            target = e["hardlink"]
            while target in entries and entries[target]["kind"] == "hardlink":
                target = entries[target]["hardlink"]
            groups[target] |= {p, target}
    peers = {}
    for members in groups.values():
        for p in members:
            peers[p] = tuple(sorted(members - {p}))
    return peers


def entry_causes(path, a, b, peers, vol):
    """The causes of a path present in both trees."""
    da, db = resolve(a, path), resolve(b, path)
    ea, eb = a[path], b[path]
    ka = da["kind"] if da else ea["kind"]
    kb = db["kind"] if db else eb["kind"]
    volatile = vol.is_volatile(path, ea["kind"])
    if ka != kb:
        return {"volatile-path" if volatile else "type"}
    causes = set()
    simple = {"mtime": "mtime", "pax-time": "pax-time", "uid": "owner-id", "gid": "owner-id", "uname": "owner-name",
              "gname": "owner-name", "mode": "mode", "xattr": "xattr"}
    for attr, cause in simple.items():
        if ea[attr] != eb[attr]:
            causes.add(cause)
    if peers[0].get(path, ()) != peers[1].get(path, ()):
        causes.add("hardlink")
    if ka == "symlink" and ea["symlink"] != eb["symlink"]:
        causes.add("link-target")
    content = (ka in ("char", "block") and ea["device"] != eb["device"]) or \
              (ka == "file" and da and db and da["sha256"] != db["sha256"])
    if content:
        causes.add("volatile-path" if volatile else "content")
    return causes


def expected_records(a, b, vol):
    peers = (link_peers(a), link_peers(b))
    want = {}
    for path in sorted(set(a) | set(b)):
        if path in a and path in b:
            causes = entry_causes(path, a, b, peers, vol)
        else:
            kind = (a.get(path) or b.get(path))["kind"]
            causes = {"volatile-path" if vol.is_volatile(path, kind) else ("removed" if path in a else "added")}
        if causes:
            want[path] = causes
    return want


def reported_records(report):
    got = collections.defaultdict(set)
    for d in report["differences"]:
        if d["path"] and not d["path"].startswith(("config:", "manifest:")):
            # What Python calls content, reproimg may have explained as embedded timestamps.
            got[d["path"]].add("content" if d["cause"] == "embedded-timestamp" else d["cause"])
    return got


def main():
    if len(sys.argv) != 5:
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 2
    tar_a, tar_b, report_path, profile_path = sys.argv[1:]
    try:
        vol = Volatility(profile_path)
        a, b = read_index(tar_a), read_index(tar_b)
        report = json.load(open(report_path, encoding="utf-8", errors="surrogateescape"))
    except (OSError, ValueError, KeyError, tarfile.TarError) as exc:
        print(f"tar_causes.py: {exc}", file=sys.stderr)
        return 2
    want = expected_records(a, b, vol)
    got = reported_records(report)
    count = lambda records: collections.Counter(c for causes in records.values() for c in causes)
    print(f"differing paths: python {len(want)}, reproimg {len(got)}")
    print("records per cause (python / reproimg):")
    cw, cg = count(want), count(got)
    for cause in sorted(set(cw) | set(cg)):
        print(f"  {cause:<14} {cw[cause]:>6} / {cg[cause]:>6}")
    on_volatile = collections.Counter(c for p, causes in want.items() for c in causes
                                      if vol.is_volatile(p, (a.get(p) or b.get(p))["kind"]))
    print("  of them on volatile paths: " + (", ".join(f"{c} {n}" for c, n in sorted(on_volatile.items())) or "none"))
    disagreements = [(p, sorted(want.get(p, ())), sorted(got.get(p, ()))) for p in sorted(set(want) | set(got))
                     if want.get(p, set()) != got.get(p, set())]
    for p, w, g in disagreements[:40]:
        print(f"  DISAGREE {p}: python {w}, reproimg {g}")
    if len(disagreements) > 40:
        print(f"  ... {len(disagreements) - 40} more")
    print(f"agreement: {'every path' if not disagreements else f'{len(disagreements)} paths disagree'}")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
