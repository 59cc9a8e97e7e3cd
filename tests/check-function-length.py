#!/usr/bin/env python3
"""Fails when a C function of production code is longer than a limit (120 lines by
default) without a comment saying why, just above it, that starts with `long:`
(e.g. `/* long: one state machine over the whole PDF trailer */`).

A function is a definition in the house style: the return type on its own line, the
name at the start of the next line, the body from the `{` at the start of a line to
the next `}` at the start of a line. Usage:
  check-function-length.py [--dirs agent formats] [--max 120] [ROOT]
"""
import argparse
import os
import re
import sys

DEFN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\(")
LONG = re.compile(r"/\*\s*long:|//\s*long:")


def check_file(path, limit):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    found = []
    i = 0
    while i < len(lines):
        m = DEFN.match(lines[i])
        if m is None or i == 0 or lines[i - 1].strip() == "" or lines[i - 1].startswith(("#", " ", "\t")):
            i += 1
            continue
        # the opening brace at the start of a line, before any ';' (not a prototype)
        j = i
        while j < len(lines) and lines[j] != "{" and not lines[j].rstrip().endswith(";"):
            j += 1
        if j >= len(lines) or lines[j] != "{":
            i += 1
            continue
        k = j + 1
        while k < len(lines) and lines[k] != "}":
            k += 1
        length = k - i + 1
        # the comment that may explain it: the lines above the return type
        above = []
        a = i - 2
        while a >= 0 and lines[a].strip() != "" and not lines[a].startswith("}"):
            above.append(lines[a])
            a -= 1
        if length > limit and not any(LONG.search(l) for l in above):
            found.append((i + 1, m.group(1), length))
        i = k + 1
    return found


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dirs", nargs="+", default=["agent", "formats"])
    ap.add_argument("--max", type=int, default=120)
    ap.add_argument("--self-test", action="store_true", help="check the checker on a synthetic file")
    ap.add_argument("root", nargs="?", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    bad = 0
    count = 0
    for d in args.dirs:
        for base, _, names in os.walk(os.path.join(args.root, d)):
            for n in sorted(names):
                if not n.endswith(".c"):
                    continue
                p = os.path.join(base, n)
                count += 1
                for line, name, length in check_file(p, args.max):
                    print("%s:%d: %s() is %d lines (> %d) without a /* long: why */ comment"
                          % (os.path.relpath(p, args.root), line, name, length, args.max))
                    bad += 1
    print("# %d files in %s, %d function(s) too long" % (count, " ".join(args.dirs), bad))
    return 1 if bad else 0


def self_test():
    import tempfile

    body = "\n".join("\tx++;" for _ in range(8))
    text = ("static int\nshort_one(void)\n{\n\treturn 0;\n}\n\n"
            "static void\nlong_one(int x)\n{\n" + body + "\n}\n\n"
            "/* long: a table */\nstatic void\nexcused(int x)\n{\n" + body + "\n}\n")
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "t.c")
        with open(p, "w") as f:
            f.write(text)
        got = [name for _, name, _ in check_file(p, 5)]
    if got != ["long_one"]:
        print("self-test failed: found %r, expected ['long_one']" % got)
        return 1
    print("# self-test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
