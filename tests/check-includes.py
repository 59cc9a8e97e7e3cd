#!/usr/bin/env python3
"""Fails when production code has an include circle.

Each `#include "x.h"` of a production file (common/, pkcs11/, formats/, agent/, gui/) is an
arrow to the files that define the functions x.h declares (a header's functions are defined at
the start of a line, return type on the line above: the house style). A circle of such arrows
between two or more files is reported, with the names that tie each step.

Usage: check-includes.py [ROOT] [--dirs common pkcs11 formats ...] [--self-test]
(--dirs: only those folders are read, so only circles among them are reported).
"""
import argparse
import os
import re
import sys
import tempfile

DIRS = ("common", "pkcs11", "formats", "agent", "gui")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
DECL = re.compile(r"\b(sdr_[a-z0-9_]+)\s*\(", re.I)
DEFN = re.compile(r"^(sdr_[a-z0-9_]+)\s*\(", re.M | re.I)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def main(root, dirs=DIRS):
    files = {}
    for d in dirs:
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
    print("# %d production files in %s, %d circle(s)" % (len(files), " ".join(dirs), len(sccs)))
    return 1 if sccs else 0


def self_test():
    """A synthetic two-file circle must fail; the same files without it must pass."""

    def tree(tmp, b_calls_a):
        os.makedirs(os.path.join(tmp, "formats"), exist_ok=True)
        src = {
            "sdr-a.h": "int sdr_a_run(void);\n",
            "sdr-a.c": '#include "sdr-a.h"\n#include "sdr-b.h"\nint\nsdr_a_run(void)\n{\n\treturn sdr_b_run();\n}\n',
            "sdr-b.h": "int sdr_b_run(void);\n",
            "sdr-b.c": ('#include "sdr-b.h"\n#include "sdr-a.h"\nint\nsdr_b_run(void)\n{\n\treturn sdr_a_run();\n}\n'
                        if b_calls_a else
                        '#include "sdr-b.h"\n/* sdr_a_run() is not called here */\nint\nsdr_b_run(void)\n{\n\treturn 0;\n}\n'),
        }
        for name, text in src.items():
            with open(os.path.join(tmp, "formats", name), "w") as f:
                f.write(text)

    with tempfile.TemporaryDirectory() as tmp:
        tree(tmp, True)
        cycle = main(tmp, ("formats",))
        tree(tmp, False)
        dag = main(tmp, ("formats",))
    if cycle != 1 or dag != 0:
        print("self-test failed: circle gave %d (want 1), no circle gave %d (want 0)" % (cycle, dag))
        return 1
    print("# self-test passed")
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root", nargs="?",
                    default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--dirs", nargs="+", default=list(DIRS))
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    sys.exit(self_test() if args.self_test else main(args.root, tuple(args.dirs)))
