#!/usr/bin/python3
"""json-differential.py VERDICT_TOOL CORPUS_DIR - the bridge's JSON parser against Python's.

The model is Python's json module made strict the way the bridge documents it
(docs/internals/bridge.md): one object root, no NaN/Infinity, finite numbers,
integers within ±(2^63 - 2), no repeated member names, no lone surrogates, no
U+0000, nesting at most 16, RFC 8259 whitespace only. Inputs: the corpus, plus
mutations of it (seeded, bounded: a deterministic run). Any disagreement fails.
"""
import json
import os
import random
import subprocess
import sys
import tempfile

MAX_DEPTH = 16
INT_LIMIT = 2 ** 63 - 1
WS = " \t\r\n"


class Refuse(Exception):
    pass


def pairs(items):
    keys = [k for k, _ in items]
    if len(set(keys)) != len(keys):
        raise Refuse("duplicate")
    return dict(items)


def constant(name):
    raise Refuse(name)


def number_float(text):
    v = float(text)
    if v in (float("inf"), float("-inf")):
        raise Refuse("inf")
    return v


def number_int(text):
    v = int(text)
    if abs(v) >= INT_LIMIT:
        raise Refuse("int range")
    return v


def walk(v, depth):
    if isinstance(v, (dict, list)):
        depth += 1
        if depth > MAX_DEPTH:
            raise Refuse("depth")
        for x in (v.values() if isinstance(v, dict) else v):
            walk(x, depth)
        if isinstance(v, dict):
            for k in v:
                walk(k, depth)
    elif isinstance(v, str):
        if "\0" in v:
            raise Refuse("nul")
        v.encode("utf-8")  # lone surrogates raise


def model(data):
    try:
        text = data.decode("utf-8")
        if not text or text[0] not in WS + "{" or text.lstrip(WS)[:1] != "{":
            return 0
        v = json.loads(text, object_pairs_hook=pairs, parse_constant=constant,
                       parse_float=number_float, parse_int=number_int)
        if not isinstance(v, dict):
            return 0
        walk(v, 0)
        return 1
    except (Refuse, ValueError, UnicodeError, RecursionError):
        return 0


MUTATIONS = [b"'", b'"', b"/*", b"*/", b"//", b"\\", b"\\u", b"\\ud800", b"\\udc00", b"0x", b"NaN",
             b"Infinity", b"-", b".", b"e", b"1e999", b"\x00", b"\x01", b"\t", b"\xff", b"\xed\xa0\x80",
             b"\xc3\xa9", b"[", b"]", b"{", b"}", b",", b":", b" ", b"\v", b"true", b"nul", b"99999999999999999999"]


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(4)
        pos = rng.randint(0, len(data))
        if op == 0 and data:
            del data[min(pos, len(data) - 1)]
        elif op == 1:
            data[pos:pos] = rng.choice(MUTATIONS)
        elif op == 2 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        else:
            data = data[:pos] + data[pos:][: rng.randint(0, 8)] + data[pos:]
    return bytes(data)


def main():
    tool, corpus = sys.argv[1], sys.argv[2]
    seeds = []
    for name in sorted(os.listdir(corpus)):
        with open(os.path.join(corpus, name), "rb") as f:
            seeds.append((name, f.read()))
    rng = random.Random(10)
    cases = list(seeds)
    small = [s for s in seeds if len(s[1]) < 4096]
    for i in range(3000):
        name, data = rng.choice(small)
        cases.append(("%s~%d" % (name, i), mutate(rng, data)))
    with tempfile.TemporaryDirectory(prefix="sdr-json-diff-") as d:
        paths = []
        for i, (_, data) in enumerate(cases):
            p = os.path.join(d, "%05d" % i)
            with open(p, "wb") as f:
                f.write(data)
            paths.append(p)
        out = []
        for k in range(0, len(paths), 500):
            r = subprocess.run([tool] + paths[k:k + 500], stdout=subprocess.PIPE, check=True)
            out += [int(x) for x in r.stdout.split()]
    bad = 0
    accepted = 0
    for (name, data), got in zip(cases, out):
        want = model(data)
        accepted += got
        if got != want:
            bad += 1
            if bad <= 20:
                print("DIFFER %s bridge=%d python=%d %r" % (name, got, want, data[:120]))
    print("%d inputs (%d corpus), %d accepted by the bridge, %d disagreements" %
          (len(cases), len(seeds), accepted, bad))
    print("%d passed, %d failed" % (len(cases) - bad, bad))
    return 1 if bad or len(out) != len(cases) else 0


if __name__ == "__main__":
    sys.exit(main())
