#!/usr/bin/env python3
"""Replays a corpus written by regenerate.py through a vmsim binary (`vmsim ostep SIM ARGS`)
and counts the command lines whose stdout, exit status or error type differ from the original
script's. vmsim names the error type on stderr as `ostep SIM.py: TYPE: ...`.

Usage: tests/ostep-corpus/compare.py VMSIM_BINARY [CORPUS] [--show N]
"""
import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from regenerate import fnv1a64  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("vmsim")
    ap.add_argument("corpus", nargs="?", default=os.path.join(os.path.dirname(__file__), "..", "data", "ostep-corpus.jsonl"))
    ap.add_argument("--show", type=int, default=3, help="print the first N differences")
    o = ap.parse_args()
    total = differ = 0
    for line in open(o.corpus):
        rec = json.loads(line)
        p = subprocess.run([o.vmsim, "ostep", rec["sim"]] + rec["args"], capture_output=True, timeout=60,
                           env=dict(os.environ, COLUMNS="80"))
        m = re.search(r"ostep \S+\.py: (\w+):", p.stderr.decode("utf-8", "replace"))
        error = None if p.returncode == 0 else (m.group(1) if m else "?")
        if "stdout" in rec:
            same = p.stdout == rec["stdout"].encode("utf-8")
        else:
            same = len(p.stdout) == rec["len"] and fnv1a64(p.stdout) == rec["fnv"]
        total += 1
        if not (same and p.returncode == rec["exit"] and error == rec["error"]):
            differ += 1
            if differ <= o.show:
                print("DIFF %s %s: exit %s/%s error %s/%s stdout %s" % (
                    rec["sim"], " ".join(rec["args"]), rec["exit"], p.returncode, rec["error"], error,
                    "same" if same else "differs"))
    print("%d of %d command lines differ" % (differ, total))
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
