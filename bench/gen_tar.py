#!/usr/bin/env python3
"""Writes the benchmark's input: a rootfs-like tar in shuffled order.

Usage: gen_tar.py OUT.tar [--size-mib M] [--seed S]

Deterministic for a given (size, seed): about 39 regular files per MiB (~40k for 1 GiB), sizes
drawn from a heavy-tailed distribution (many files of a few KiB, a few of tens of MiB), content
half random and half text-like (semi-compressible), plus directories, symlinks and hardlinks.
Entries are shuffled, except that a hardlink always comes after its target (as any tar writer
puts it). mtimes vary (some with a fractional part, which tarfile writes as a pax record), and so
do owners and owner names; a few paths are longer than 100 bytes or not ASCII (pax records too).
"""

import argparse
import io
import math
import os
import random
import sys
import tarfile

POOL_BLOCK = 64 * 1024

OWNERS = [
    (0, 0, "root", "root"),
    (0, 0, "root", "root"),
    (0, 0, "root", "root"),
    (1, 1, "daemon", "daemon"),
    (2, 2, "bin", "bin"),
    (33, 33, "www-data", "www-data"),
    (100, 102, "systemd-network", "systemd-journal"),
    (101, 104, "messagebus", "messagebus"),
    (1000, 1000, "builder", "builder"),
    (65534, 65534, "nobody", "nogroup"),
]

SYLLABLES = ["lib", "usr", "share", "doc", "bin", "etc", "conf", "data", "py", "go", "x86", "core",
             "net", "sys", "util", "man", "locale", "font", "icon", "perl", "ssl", "cert", "zone",
             "info", "kern", "mod", "pkg", "dist", "site", "cache", "var", "opt", "gnu", "text"]
EXTENSIONS = ["", ".so", ".py", ".pyc", ".txt", ".gz", ".h", ".conf", ".json", ".html", ".mo", ".png",
              ".pm", ".1.gz", ".so.6", ".a", ".xml", ".js"]


def make_pool(rng, size):
    """size bytes: 64 KiB blocks, each either random or text-like (compresses ~3-4x)."""
    words = [("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10))))
             for _ in range(2000)]
    text = bytearray()
    while len(text) < 2 * POOL_BLOCK:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(4, 14)))
        text += line.encode() + b"\n"
    text = bytes(text)
    pool = bytearray()
    while len(pool) < size:
        if rng.random() < 0.5:
            pool += rng.randbytes(POOL_BLOCK)
        else:
            start = rng.randrange(0, len(text) - POOL_BLOCK)
            pool += text[start:start + POOL_BLOCK]
    return bytes(pool[:size])


class PoolReader(io.RawIOBase):
    """size bytes of the pool from offset start, wrapping around."""

    def __init__(self, pool, start, size):
        self.pool = memoryview(pool)
        self.pos = start
        self.left = size

    def readable(self):
        return True

    def read(self, n=-1):
        if n is None or n < 0:
            n = self.left
        n = min(n, self.left)
        out = bytearray()
        while len(out) < n:
            if self.pos >= len(self.pool):
                self.pos = 0
            take = min(n - len(out), len(self.pool) - self.pos)
            out += self.pool[self.pos:self.pos + take]
            self.pos += take
        self.left -= n
        return bytes(out)


def name(rng):
    n = rng.choice(SYLLABLES)
    if rng.random() < 0.6:
        n += rng.choice(["-", "_", ""]) + rng.choice(SYLLABLES)
    if rng.random() < 0.5:
        n += str(rng.randint(0, 999))
    return n


def file_sizes(rng, count, budget):
    """count sizes adding up to about budget bytes: a lognormal body plus a tail of large files."""
    small = []
    for _ in range(count):
        if rng.random() < 0.02:
            small.append(0)
        else:
            small.append(min(int(rng.lognormvariate(math.log(3000), 1.7)), 1 << 20))
    small_total = sum(small)
    # The body carries ~40% of the bytes; large files (1 MiB up to 1/8 of the budget, at most
    # 64 MiB, log-uniform) the rest.
    body_budget = int(budget * 0.4)
    if small_total > body_budget:
        scale = body_budget / small_total
        small = [int(s * scale) for s in small]
        small_total = sum(small)
    large = []
    left = budget - small_total
    top = max(1 << 20, min(64 << 20, budget // 8))
    while left > (1 << 20):
        s = int(math.exp(rng.uniform(math.log(1 << 20), math.log(top))))
        s = min(s, left)
        large.append(s)
        left -= s
    # Large files replace some of the small ones, so the count stays as asked.
    sizes = small[:max(0, count - len(large))] + large
    rng.shuffle(sizes)
    return sizes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    budget = args.size_mib << 20
    n_files = max(100, round(args.size_mib * 39))
    n_dirs = max(20, n_files // 16)
    n_symlinks = max(5, n_files // 25)
    n_hardlinks = max(2, n_files // 100)

    # Directories: a random tree.
    dirs = ["usr", "etc", "var", "opt"]
    while len(dirs) < n_dirs:
        parent = rng.choice(dirs)
        if parent.count("/") >= 7:
            continue
        d = parent + "/" + name(rng)
        if rng.random() < 0.003:
            d += "-\u00e9t\u00e9"  # a non-ASCII name
        dirs.append(d)
    dirs = list(dict.fromkeys(dirs))

    def attrs(ti, mode):
        uid, gid, uname, gname = rng.choice(OWNERS)
        ti.uid, ti.gid, ti.uname, ti.gname = uid, gid, uname, gname
        ti.mode = mode
        ti.mtime = rng.randint(946684800, 1730000000)
        if rng.random() < 0.1:
            ti.mtime += rng.random()  # sub-second: a pax mtime record
        return ti

    entries = []  # (sort key, TarInfo, content start or None)
    for d in dirs:
        ti = attrs(tarfile.TarInfo(d), 0o755)
        ti.type = tarfile.DIRTYPE
        entries.append([rng.random(), ti, None])

    pool_size = min(64 << 20, max(4 << 20, budget // 4))
    pool = make_pool(rng, pool_size)
    paths = set(dirs)
    files = []
    for size in file_sizes(rng, n_files, budget):
        while True:
            p = rng.choice(dirs) + "/" + name(rng) + rng.choice(EXTENSIONS)
            if rng.random() < 0.02:
                p = rng.choice(dirs) + "/" + "-".join(name(rng) for _ in range(12)) + ".long"
            if p not in paths:
                break
        paths.add(p)
        ti = attrs(tarfile.TarInfo(p), rng.choice([0o644] * 12 + [0o755] * 6 + [0o600, 0o4755]))
        ti.size = size
        e = [rng.random(), ti, rng.randrange(0, pool_size)]
        entries.append(e)
        files.append(e)

    for _ in range(n_symlinks):
        p = rng.choice(dirs) + "/" + name(rng) + ".lnk"
        if p in paths:
            continue
        paths.add(p)
        ti = attrs(tarfile.TarInfo(p), 0o777)
        ti.type = tarfile.SYMTYPE
        target = rng.choice(files)[1].name
        ti.linkname = "/" + target if rng.random() < 0.5 else os.path.relpath(target, os.path.dirname(p))
        entries.append([rng.random(), ti, None])

    for _ in range(n_hardlinks):
        target = rng.choice(files)
        p = rng.choice(dirs) + "/" + name(rng) + ".hl"
        if p in paths:
            continue
        paths.add(p)
        t = target[1]
        ti = tarfile.TarInfo(p)
        ti.type = tarfile.LNKTYPE
        ti.linkname = t.name
        ti.mode, ti.uid, ti.gid, ti.uname, ti.gname, ti.mtime = t.mode, t.uid, t.gid, t.uname, t.gname, t.mtime
        # After its target, at a random place.
        entries.append([target[0] + (1 - target[0]) * rng.random(), ti, None])

    entries.sort(key=lambda e: e[0])
    tmp = args.out + ".partial"
    with open(tmp, "wb") as raw, tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for _, ti, start in entries:
            if ti.type == tarfile.REGTYPE and ti.size > 0:
                tf.addfile(ti, PoolReader(pool, start, ti.size))
            else:
                tf.addfile(ti)
    os.replace(tmp, args.out)
    total = os.path.getsize(args.out)
    print(f"wrote {args.out}: {total / 2**20:.0f} MiB, {len(entries)} entries ({len(files)} files, "
          f"{len(dirs)} dirs, symlinks and hardlinks)", file=sys.stderr)


if __name__ == "__main__":
    main()
