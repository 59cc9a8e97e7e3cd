#!/usr/bin/env python3
"""Fails when production code has an include circle.

Each `#include "x.h"` of a production file (common/, pkcs11/, formats/, agent/, gui/) is an
arrow to the files that define the functions x.h declares (a header's functions are defined at
the start of a line, return type on the line above: the house style). A circle of such arrows
between two or more files is reported, with the names that tie each step.
"""
import os
import re
import sys

DIRS = ("common", "pkcs11", "formats", "agent", "gui")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
DECL = re.compile(r"\b(sdr_[a-z0-9_]+)\s*\(", re.I)
DEFN = re.compile(r"^(sdr_[a-z0-9_]+)\s*\(", re.M | re.I)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def main(root):
    files = {}
    for d in DIRS:
        top = os.path.join(root, d)
        for base, _, names in os.walk(top):
            for n in names:
                if n.endswith((".c", ".h")):
                    p = os.path.relpath(os.path.join(base, n), root)
                    with open(os.path.join(root, p), encoding="utf-8", errors="replace") as f:
                        files[p] = strip_comments(f.read())
    by_name = {}
    for p in files:
        by_name.setdefault(os.path.basename(p), []).append(p)
    definer = {}
    for p, text in files.items():
        if p.endswith(".c"):
            for m in DEFN.finditer(text):
                definer.setdefault(m.group(1), set()).add(p)
    # header -> {c file: names}
    provides = {}
    for p, text in files.items():
        if p.endswith(".h"):
            out = {}
            for m in DECL.finditer(text):
                for c in definer.get(m.group(1), ()):
                    out.setdefault(c, set()).add(m.group(1))
            provides[p] = out
    # c file -> {c file: names}
    edges = {}
    for p, text in files.items():
        if not p.endswith(".c"):
            continue
        seen = set()
        todo = [inc for inc in INCLUDE.findall(text)]
        while todo:
            inc = todo.pop()
            cands = by_name.get(os.path.basename(inc), [])
            # prefer the header in the same folder as the includer
            same = [c for c in cands if os.path.dirname(c) == os.path.dirname(p)]
            for h in same or cands:
                if h in seen:
                    continue
                seen.add(h)
                todo.extend(INCLUDE.findall(files[h]))
                for c, names in provides.get(h, {}).items():
                    if c != p:
                        used = {n for n in names if re.search(r"\b%s\b" % n, text)}
                        if used:
                            edges.setdefault(p, {}).setdefault(c, set()).update(used)
    # strongly connected components (Tarjan)
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(files):
        if v.endswith(".c") and v not in index:
            visit(v)
    for comp in sccs:
        print("include circle: " + ", ".join(comp))
        for a in comp:
            for b, names in sorted(edges.get(a, {}).items()):
                if b in comp:
                    print("  %s -> %s: %s" % (a, b, ", ".join(sorted(names))))
    print("# %d production files, %d circle(s)" % (len(files), len(sccs)))
    return 1 if sccs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
