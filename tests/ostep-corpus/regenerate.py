#!/usr/bin/env python3
"""Differential corpus for `vmsim ostep`: random command lines for each OSTEP simulator, run
through the original Python scripts, recorded with their stdout, exit status class and error
type in tests/data/ostep-corpus.jsonl. The Rust test crates/vmsim-ostep/tests/corpus.rs replays
every line through vmsim's ostep mode and requires zero differences.

Usage:
    tests/ostep-corpus/regenerate.py OSTEP_HOMEWORK_DIR [--per-sim N] [--seed S] [--out FILE]
    tests/ostep-corpus/regenerate.py OSTEP_HOMEWORK_DIR --lines FILE --out FILE

OSTEP_HOMEWORK_DIR holds the scripts (searched recursively by name); paging-linear-size.py is
not in upstream master and must be placed there by hand (see golden/ostep/SEMANTICS.md). With
--lines, the command lines come from FILE (one per line: SIM ARGS..., shell-quoted) instead of
the generator: that is how a teacher checks their own command lines.

Each output line is JSON: {"sim", "args", "exit", "error", and either "stdout" (short
outputs) or "len", "fnv" (64-bit FNV-1a of the stdout bytes, as hex) and "head" (its first
400 characters)}. exit is 0, 1 or 2 (the script's status); error is null, "exit" (the script
called exit(1)), "usage" (optparse rejected the line) or the name of the Python exception.
"""
import argparse
import json
import os
import random
import shlex
import subprocess
import sys

SCRIPTS = [
    "relocation",
    "segmentation",
    "malloc",
    "paging-linear-size",
    "paging-linear-translate",
    "paging-multilevel-translate",
    "paging-policy",
]
INLINE_LIMIT = 1500


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def pick(r, *choices):
    return r.choice(choices)


def size(r, lo=1, hi=64, suffixes=("", "", "k", "k", "m")):
    return "%d%s" % (r.randint(lo, hi), r.choice(suffixes))


def maybe(r, p, items):
    return items if r.random() < p else []


def sign_num(r, lo, hi):
    return str(r.randint(lo, hi))


def long_or_short(r, short, long, value, prefixes):
    """A flag as -x V, -xV, --long=V, --long V or an unambiguous --prefix=V."""
    k = r.randrange(5)
    if k == 0:
        return [short, value]
    if k == 1 and not value.startswith("-") and value != "":
        return [short + value]
    if k == 2:
        return ["--" + long + "=" + value]
    if k == 3:
        return ["--" + r.choice(prefixes) + "=" + value]
    return ["--" + long, value]


def gen_relocation(r):
    a = []
    a += maybe(r, 0.8, long_or_short(r, "-s", "seed", sign_num(r, -5, 200), ["se", "see"]))
    a += maybe(r, 0.5, long_or_short(r, "-a", "asize", pick(r, "1k", "512", "2k", "16", "100", "0", "4k"), ["as", "asi"]))
    a += maybe(r, 0.5, long_or_short(r, "-p", "physmem", pick(r, "16k", "4k", "1m", "32k", "2k", "1", "600"), ["ph", "phys"]))
    a += maybe(r, 0.6, long_or_short(r, "-n", "addresses", str(r.randint(0, 15)), ["ad", "addr"]))
    if r.random() < 0.35:
        a += ["-b", pick(r, str(r.randint(-200, 20000)), "0", "1k", "-1", "x")]
    if r.random() < 0.35:
        a += ["-l", pick(r, str(r.randint(-20, 900)), "-1", "512", "1k")]
    if r.random() < 0.03:
        a += [pick(r, "-q", "--bogus", "-s", "--seed=x", "-n 1.5", "--a=1")]
    a += maybe(r, 0.5, [pick(r, "-c", "--compute", "--co", "--c")])
    return a


def gen_segmentation(r):
    a = []
    a += maybe(r, 0.8, ["-s", sign_num(r, -3, 150)])
    a += maybe(r, 0.5, ["-a", pick(r, "1k", "128", "256", "16", "2k", "0")])
    a += maybe(r, 0.5, ["-p", pick(r, "16k", "512", "1k", "4k", "4", "300")])
    a += maybe(r, 0.5, ["-n", str(r.randint(0, 12))])
    for f in ("-b", "-l", "-B", "-L"):
        if r.random() < 0.3:
            a += [f, pick(r, str(r.randint(-200, 2000)), "-1", "0", str(r.randint(0, 300)))]
    if r.random() < 0.3:
        n = r.randint(1, 6)
        a += ["-A", ",".join(str(r.randint(-5, 1100)) for _ in range(n))]
    if r.random() < 0.1:
        a += pick(r, ["--ad=4,9"], ["--num=3"], ["--b0=10"], ["-A", "1,,2"], ["-A", "x"], ["--l=5"])
    a += maybe(r, 0.5, [pick(r, "-c", "-c")])
    return a


def gen_malloc(r):
    a = []
    a += maybe(r, 0.7, ["-s", sign_num(r, -3, 200)])
    a += maybe(r, 0.3, ["-S", pick(r, str(r.randint(-50, 400)), "100")])
    a += maybe(r, 0.25, ["-b", pick(r, str(r.randint(-300, 5000)), "1000")])
    a += maybe(r, 0.25, ["-H", str(r.randint(-8, 16))])
    a += maybe(r, 0.25, ["-a", pick(r, "-1", "4", "8", "2", "0", "-3")])
    a += maybe(r, 0.5, ["-p", pick(r, "BEST", "WORST", "FIRST", "best", "NEXT")])
    a += maybe(r, 0.5, ["-l", pick(r, "ADDRSORT", "SIZESORT+", "SIZESORT-", "INSERT-FRONT", "INSERT-BACK", "RANDOM")])
    a += maybe(r, 0.4, [pick(r, "-C", "--coalesce", "--coa")])
    a += maybe(r, 0.5, ["-n", str(r.randint(0, 20))])
    a += maybe(r, 0.3, ["-r", str(r.randint(-5, 40))])
    a += maybe(r, 0.3, ["-P", str(r.randint(-10, 100))])
    if r.random() < 0.35:
        ops = []
        for _ in range(r.randint(1, 8)):
            k = r.random()
            if k < 0.45:
                ops.append("+%d" % r.randint(-5, 40))
            elif k < 0.85:
                ops.append("-%d" % r.randint(0, 6))
            else:
                ops.append(pick(r, "5", "y", "++3", "+3+4", "--1", "+", "-", "+-4", "", "+x"))
        a += ["-A", ",".join(ops)]
    a += maybe(r, 0.5, ["-c"])
    return a


def gen_linear_size(r):
    a = []
    a += maybe(r, 0.7, ["-v", pick(r, str(r.randint(-4, 80)), str(r.randint(100, 1100)), "", "x", "32")])
    a += maybe(r, 0.5, ["-e", pick(r, "4", "8", "2k", str(r.randint(-3, 5000)), "1m", "")])
    a += maybe(r, 0.6, ["-p", pick(r, "4k", "16", "1m", "512", "8k", "0", "-4", "3000", "1g", "1")])
    if r.random() < 0.15:
        a = pick(r, ["--vas=40"], ["--pt=8"], ["--pages=1k"], ["--p=1k"], ["-v", "159", "-e", "4096"]) + a
    a += maybe(r, 0.6, ["-c"])
    return a


def gen_linear_translate(r):
    a = []
    a += maybe(r, 0.7, ["-s", sign_num(r, -3, 200)])
    a += maybe(r, 0.5, ["-a", pick(r, "16k", "1k", "8k", "32", "16", "0", "1m", "12k", "2g")])
    a += maybe(r, 0.5, ["-p", pick(r, "64k", "16k", "32k", "1m", "128", "64", "1", "5m")])
    a += maybe(r, 0.5, ["-P", pick(r, "4k", "1k", "2k", "16", "8", "1", "3k", "512")])
    a += maybe(r, 0.5, ["-n", str(r.randint(0, 10))])
    a += maybe(r, 0.4, ["-u", str(r.randint(-10, 110))])
    a += maybe(r, 0.4, ["-v"])
    if r.random() < 0.25:
        a += ["-A", ",".join(str(r.randint(-40, 40000)) for _ in range(r.randint(1, 5)))]
    if r.random() < 0.06:
        a += pick(r, ["--ad=5,6"], ["--pag=1k"], ["--p=1k"], ["-A", "1,x"])
    a += maybe(r, 0.5, ["-c"])
    return a


def gen_multilevel(r):
    a = []
    a += maybe(r, 0.9, ["-s", sign_num(r, -3, 300)])
    a += maybe(r, 0.5, ["-a", pick(r, str(r.randint(0, 90)), "64", "-2", "130")])
    a += maybe(r, 0.5, ["-n", str(r.randint(-1, 20))])
    if r.random() < 0.05:
        a += pick(r, ["--sol"], ["--add=3"], ["--al=4"], ["--a=3"])
    a += maybe(r, 0.6, [pick(r, "-c", "--solve")])
    return a


def gen_policy(r):
    a = []
    a += maybe(r, 0.7, ["-s", pick(r, sign_num(r, -3, 200), " 7", "1_0", "0x3")])
    a += maybe(r, 0.6, ["-p", pick(r, "FIFO", "LRU", "MRU", "OPT", "UNOPT", "RAND", "CLOCK", "lru", "NONE")])
    a += maybe(r, 0.5, ["-C", pick(r, str(r.randint(0, 6)), "3", "-1", "x")])
    a += maybe(r, 0.3, ["-b", str(r.randint(-1, 4))])
    a += maybe(r, 0.4, ["-n", pick(r, str(r.randint(0, 25)), "0", "1.5")])
    a += maybe(r, 0.4, ["-m", pick(r, str(r.randint(1, 12)), "0", "-3")])
    if r.random() < 0.3:
        a += ["-a", pick(r, ",".join(str(r.randint(0, 8)) for _ in range(r.randint(1, 12))), "1.5", "1,,2", "-1", " 3, 4")]
    if r.random() < 0.03:
        a += ["-f", "no-such-file.txt"]
    a += maybe(r, 0.2, [pick(r, "-N", "--notrace", "--no")])
    if r.random() < 0.05:
        a += pick(r, ["--po=LRU"], ["--cache=2"], ["--c"], ["--max=4"])
    a += maybe(r, 0.6, [pick(r, "-c", "--compute", "--com")])
    return a


GENERATORS = {
    "relocation": gen_relocation,
    "segmentation": gen_segmentation,
    "malloc": gen_malloc,
    "paging-linear-size": gen_linear_size,
    "paging-linear-translate": gen_linear_translate,
    "paging-multilevel-translate": gen_multilevel,
    "paging-policy": gen_policy,
}

# Lines every corpus carries: the examples and each script's -h.
FIXED = [
    "segmentation -b 100 -B 50 -c",
    "relocation -s 38 -a 70 -p 71 -n 12 -l 14 -b -84 -c",
    "malloc -S 45 -b -252 -A +10,-0 -c",
    "malloc -A 5",
    "malloc -A +3,y",
    "malloc -A ++3",
    "malloc -A +3+4 -c",
    "paging-linear-size -v 159 -e 4096 -c",
    "paging-linear-size -v 1029 -p 16 --ptesize=2k -c",
    "paging-linear-size -p 16k -v 2 -c",
    "paging-linear-size -v '' -c",
    "relocation --ad=4",
    "paging-policy --po=LRU -c",
    "malloc --coa -c",
    "paging-policy -p lru",
    "paging-policy -p lru -c",
    "paging-policy -n 0",
    "paging-policy -n 0 -c",
    "paging-linear-translate -A 70000 -a 64k -p 128k",
    "paging-linear-translate -A 70000 -a 64k -p 128k -c",
    "paging-policy -p NONE -a 1.5",
    "paging-policy -p CLOCK -b 2 -c",
    "paging-policy -N -c",
    "paging-policy -N -c -p CLOCK",
    "malloc -A +10,-5,-0,-0 -c",
    "paging-linear-translate -a 16 -p 5m -P 1 -c",
] + ["%s -h" % s for s in SCRIPTS]


def find_scripts(root):
    found = {}
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".py") and f[:-3] in SCRIPTS:
                found[f[:-3]] = os.path.join(d, f)
    return found


def run(script, args):
    env = dict(os.environ, COLUMNS="80", PYTHONHASHSEED="0")
    try:
        p = subprocess.run(
            [sys.executable, os.path.basename(script)] + args,
            cwd=os.path.dirname(script),
            capture_output=True,
            timeout=20,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return None  # the script loops forever on this line: not a comparable case
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode == 0:
        error = None
    elif p.returncode == 2:
        error = "usage"
    elif "Traceback (most recent call last)" in err:
        last = err.strip().splitlines()[-1]
        error = last.split(":")[0].strip()
    else:
        error = "exit"
    return min(p.returncode, 2), error, p.stdout


def record(sim, args, result):
    code, error, out = result
    rec = {"sim": sim, "args": args, "exit": code, "error": error}
    if len(out) <= INLINE_LIMIT:
        rec["stdout"] = out.decode("utf-8")
    else:
        rec["len"] = len(out)
        rec["fnv"] = fnv1a64(out)
        rec["head"] = out[:400].decode("utf-8", "replace")
    return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("homework")
    ap.add_argument("--per-sim", type=int, default=300)
    ap.add_argument("--seed", type=int, default=23)
    ap.add_argument("--lines")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data", "ostep-corpus.jsonl"))
    o = ap.parse_args()
    scripts = find_scripts(o.homework)
    missing = [s for s in SCRIPTS if s not in scripts]
    if missing:
        print("not found under %s: %s" % (o.homework, ", ".join(missing)), file=sys.stderr)
    if o.lines:
        with open(o.lines) as f:
            lines = [shlex.split(l) for l in f if l.strip() and not l.startswith("#")]
    else:
        r = random.Random(o.seed)
        lines = [shlex.split(l) for l in FIXED]
        for sim in SCRIPTS:
            for _ in range(o.per_sim):
                lines.append([sim] + GENERATORS[sim](r))
    n = skipped = 0
    with open(o.out, "w") as out:
        for line in lines:
            sim, args = line[0], line[1:]
            if sim not in scripts:
                continue
            res = run(scripts[sim], args)
            if res is None:
                skipped += 1
                continue
            out.write(json.dumps(record(sim, args, res), sort_keys=True) + "\n")
            n += 1
    print("%d command lines recorded in %s (%d skipped: the script did not finish in 20 s)" % (n, o.out, skipped), file=sys.stderr)


if __name__ == "__main__":
    main()
