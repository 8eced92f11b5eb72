#!/usr/bin/env python3
"""The obvious tarfile normaliser, as a user would write it: the benchmark's Python baseline.

Usage: python_normalize.py IN.tar OUT.tar

Reads every member's header, sorts by name, sets mtime to 0 and clears owner names and pax
records, and writes a pax tar. File contents are copied with extractfile(), which reads them from
the input at each member's recorded offset; in sorted order, so memory holds the headers only.
(It does none of what reproimg does beyond that: no path cleaning, no hardlink re-anchoring.)
"""

import sys
import tarfile


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    with tarfile.open(src, "r:") as tin, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as tout:
        members = sorted(tin.getmembers(), key=lambda m: m.name)
        for m in members:
            m.mtime = 0
            m.uname = ""
            m.gname = ""
            m.pax_headers = {}
            if m.isreg():
                tout.addfile(m, tin.extractfile(m))
            else:
                tout.addfile(m)


if __name__ == "__main__":
    main()
