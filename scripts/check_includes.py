#!/usr/bin/env python3
"""The include rules of ARCHITECTURE.md, checked: areas depend one way
(util <- digest <- readers <- normalize <- image <- dockerfile, diff <- report <- verify <- cli;
util <- digest <- registry <- image), and
no two modules of the project (a NAME.hpp with its NAME.cpp) include each other, directly or through
others.
Usage: scripts/check_includes.py [SOURCE_DIR]; exit 0 when both hold, 1 with the offences listed."""
import os
import re
import sys

# Each area and the areas it may include (besides itself). dockerfile/ and diff/ both stand on
# image/ and know nothing of each other.
_BASE = ["util", "digest", "readers", "normalize", "image"]
USES = {
    "util": [],
    "digest": ["util"],
    "registry": ["util", "digest"],
    "readers": ["util", "digest"],
    "normalize": ["util", "digest", "readers"],
    "image": ["util", "digest", "registry", "readers", "normalize"],
    "dockerfile": _BASE,
    "diff": _BASE,
    "report": _BASE + ["diff"],
    "verify": _BASE + ["registry", "diff", "report"],
    "cli": _BASE + ["registry", "dockerfile", "diff", "report", "verify"],
}
AREAS = list(USES)
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([A-Za-z0-9_]+)\.hpp"', re.M)


def modules(root):
    """module ("area/name") -> set of modules it includes."""
    graph = {}
    for area in AREAS:
        folder = os.path.join(root, area)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            stem, ext = os.path.splitext(name)
            if ext not in (".hpp", ".cpp"):
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                text = f.read()
            deps = graph.setdefault(f"{area}/{stem}", set())
            for inc_area, inc_name in INCLUDE.findall(text):
                if inc_area in AREAS:
                    deps.add(f"{inc_area}/{inc_name}")
    return graph


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    graph = modules(root)
    problems = []
    for mod, deps in sorted(graph.items()):
        area = mod.split("/")[0]
        for dep in sorted(deps):
            dep_area = dep.split("/")[0]
            if dep_area != area and dep_area not in USES[area]:
                problems.append(f"{mod} includes {dep}: {area}/ may use only {', '.join(USES[area]) or 'the standard library'}")
    # Cycles between modules (Tarjan's strongly connected components).
    index, low, on_stack, stack, counter = {}, {}, set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w == v or w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                problems.append("include loop: " + " <-> ".join(sorted(component)))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    for p in problems:
        print(p)
    print(f"{len(graph)} modules, {sum(len(d) for d in graph.values())} includes, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
