#!/usr/bin/env python3
"""vmsim's policy simulator side by side with libCacheSim's `cachesim` on the same trace.

Needs the environment variable LIBCACHESIM_CACHESIM naming a `cachesim` binary built from
libCacheSim's source (not part of this repository). Writes a Zipf page stream with
`vmsim gen`, converts it to libCacheSim's oracleGeneral binary format (24-byte records:
u32 time, u64 object id, u32 size, i64 next access position or -1; next uses from one backward
pass, which Belady needs), runs both simulators on every policy at caches of 1% and 10% of the
footprint, one thread each, and prints CPU seconds (user + system, median of the runs), their
ratio, peak RSS and the miss ratios each reports (which should agree where the algorithms are
the same).

    LIBCACHESIM_CACHESIM=/path/to/cachesim benches/libcachesim_side_by_side.py \\
        [--vmsim target/release/vmsim] [--refs 10M] [--pages 1M] [--runs 3] [--dir /tmp/lcs]
"""
import argparse
import os
import re
import statistics
import struct
import subprocess
import sys

# vmsim policy name -> libCacheSim eviction algorithm name.
POLICIES = [
    ("lru", "lru"), ("fifo", "fifo"), ("clock", "clock"), ("sieve", "sieve"),
    ("s3fifo", "s3fifo"), ("2q", "twoq"), ("arc", "arc"), ("lfu", "lfu"),
    ("lirs", "lirs"), ("opt", "belady"),
]


def timed(cmd):
    """Runs cmd under /usr/bin/time; returns (stdout, CPU seconds, peak RSS KiB)."""
    p = subprocess.run(["/usr/bin/time", "-f", "TIME %U %S %M"] + cmd,
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {p.stderr.strip()}")
    m = re.search(r"TIME ([\d.]+) ([\d.]+) (\d+)", p.stderr)
    return p.stdout + p.stderr, float(m.group(1)) + float(m.group(2)), int(m.group(3))


def convert(vmsim, workload, refs, out):
    """Writes the stream as oracleGeneral records; returns its footprint."""
    text = subprocess.run([vmsim, "gen", workload, "-n", refs, "--format", "pages"],
                          capture_output=True, text=True, check=True).stdout
    pages = [int(line) for line in text.split() if line and line[0].isdigit()]
    nxt = [-1] * len(pages)
    last = {}
    for i in range(len(pages) - 1, -1, -1):
        nxt[i] = last.get(pages[i], -1)
        last[pages[i]] = i
    rec = struct.Struct("<IQIq")
    buf = bytearray(rec.size * len(pages))
    for i, p in enumerate(pages):
        rec.pack_into(buf, i * rec.size, i & 0xFFFFFFFF, p, 1, nxt[i])
    with open(out, "wb") as f:
        f.write(buf)
    return len(last)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vmsim", default="target/release/vmsim")
    ap.add_argument("--refs", default="10M")
    ap.add_argument("--pages", default="1M")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default="/tmp/vmsim-libcachesim")
    ap.add_argument("--policies", default=",".join(p for p, _ in POLICIES))
    a = ap.parse_args()
    cachesim = os.environ.get("LIBCACHESIM_CACHESIM")
    if not cachesim:
        sys.exit("set LIBCACHESIM_CACHESIM to libCacheSim's cachesim binary")
    os.makedirs(a.dir, exist_ok=True)
    workload = f"zipf:pages={a.pages},alpha=1.0"
    pgt = os.path.join(a.dir, "zipf.pgt")
    ogb = os.path.join(a.dir, "zipf.oracleGeneral.bin")
    subprocess.run([a.vmsim, "gen", workload, "-n", a.refs, "-o", pgt], check=True)
    footprint = convert(a.vmsim, workload, a.refs, ogb)
    print(f"trace: {workload}, {a.refs} references, footprint {footprint} pages; "
          f"CPU seconds are medians of {a.runs} runs\n")
    print("| policy | cache | vmsim CPU s | libCacheSim CPU s | ratio | vmsim RSS MiB | "
          "libCacheSim RSS MiB | vmsim miss ratio | libCacheSim miss ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    wanted = a.policies.split(",")
    for ours, theirs in POLICIES:
        if ours not in wanted:
            continue
        for pct in (1, 10):
            frames = footprint * pct // 100
            v_cpu, v_rss, l_cpu, l_rss = [], [], [], []
            v_mr = l_mr = "?"
            for _ in range(a.runs):
                out, cpu, rss = timed([a.vmsim, "policy", pgt, "--policy", ours,
                                       "--frames", str(frames), "--csv"])
                v_cpu.append(cpu)
                v_rss.append(rss)
                v_mr = out.splitlines()[1].split(",")[4]
                out, cpu, rss = timed([cachesim, ogb, "oracleGeneral", theirs, str(frames),
                                       "--ignore-obj-size=true", "--num-thread=1",
                                       "-o", os.path.join(a.dir, "cachesim-out")])
                l_cpu.append(cpu)
                l_rss.append(rss)
                m = re.search(r"cache size .* miss ratio ([\d.]+)", out)
                l_mr = m.group(1) if m else "?"
            v, l = statistics.median(v_cpu), statistics.median(l_cpu)
            print(f"| {ours} | {pct}% ({frames}) | {v:.2f} | {l:.2f} | {l / max(v, 0.005):.1f}x | "
                  f"{max(v_rss) / 1024:.0f} | {max(l_rss) / 1024:.0f} | {v_mr} | {l_mr} |",
                  flush=True)


if __name__ == "__main__":
    main()
