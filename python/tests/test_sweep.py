"""Sweeps: cells and seeds, errors per row, Parquet streaming and resume, the shell command, and
the same table from a real Dask cluster (a scheduler and two workers as separate processes)."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import vmsim
from vmsim import sweeps as sweep_mod


def spec_for(traces):
    """3 traces x 2 policies x 4 frame counts = 24 cells, 24 rows."""
    return {
        "command": "policy",
        "traces": [str(traces["zipf"]), str(traces["loop"]), {"gen": "zipf:pages=500", "n": 20000}],
        "grid": {"policy": ["lru", "random"], "frames": [16, 64, 128, 256]},
    }


def test_cells_and_seeds_come_from_the_spec(traces):
    s = sweep_mod.load_spec(spec_for(traces))
    cells = sweep_mod.cells(s)
    assert len(cells) == 24
    assert cells[0]["params"] == {"policy": "lru", "frames": 16}
    assert cells[1]["params"] == {"policy": "lru", "frames": 64}
    again = sweep_mod.cells(sweep_mod.load_spec(spec_for(traces)))
    assert [c["seed"] for c in cells] == [c["seed"] for c in again]
    assert len({c["seed"] for c in cells}) == 24


def test_local_sweep_rows_equal_direct_calls(traces):
    df = vmsim.sweep(spec_for(traces), workers=2)
    assert len(df) == 24 and df["error"].isna().all()
    assert list(df.columns[:4]) == ["cell", "trace", "policy", "frames"]
    for col in ("hits", "misses", "miss_ratio", "evictions", "dirty_evictions", "accesses"):
        assert col in df.columns
    lru = vmsim.policy(traces["zipf"], "lru", [16, 64, 128, 256])
    got = df[(df.trace == str(traces["zipf"])) & (df.policy == "lru")]
    assert list(got["misses"]) == list(lru["misses"])
    # A randomised policy's cell is reproducible: its seed comes from the spec.
    again = vmsim.sweep(spec_for(traces), workers=1)
    pd.testing.assert_frame_equal(df, again)


def test_a_failing_cell_is_a_row_not_a_crash(traces, tmp_path):
    spec = {"command": "run", "traces": [str(traces["loop"]), str(tmp_path / "missing.pages")],
            "grid": {"preset": ["zen4", "nope"]}, "flags": {"limit": 5000}}
    df = vmsim.sweep(spec, workers=2)
    assert len(df) == 4
    ok = df[df.error.isna()]
    assert len(ok) == 1 and ok.iloc[0]["preset"] == "zen4" and ok.iloc[0]["accesses"] == 5000
    bad = df[df.error.notna()]
    assert any("unknown preset `nope`" in e for e in bad.error)
    assert any("missing.pages: No such file" in e for e in bad.error)


def test_mrc_sweep_has_a_row_per_size(traces):
    spec = {"command": "mrc", "traces": [str(traces["zipf"])],
            "grid": {"policy": ["fifo", "clock"]}, "flags": {"sizes": "8,32,128"}}
    df = vmsim.sweep(spec, workers=1)
    assert len(df) == 6 and set(df.frames) == {8, 32, 128}
    assert df[df.policy == "fifo"]["fifo"].notna().all()


def test_spec_errors(tmp_path):
    with pytest.raises(vmsim.SweepError, match="not a sweep command"):
        vmsim.sweep({"command": "explain"})
    with pytest.raises(vmsim.SweepError, match="unknown key `gird`"):
        vmsim.sweep({"command": "run", "gird": {}})
    bad = tmp_path / "bad.toml"
    bad.write_text("command = \n")
    with pytest.raises(vmsim.SweepError, match="bad.toml"):
        vmsim.sweep(bad)
    with pytest.raises(vmsim.SweepError, match="cannot read"):
        vmsim.sweep(tmp_path / "none.toml")


def test_parquet_streams_and_resumes(traces, tmp_path):
    out = tmp_path / "res.parquet"
    full = vmsim.sweep(spec_for(traces), out=out, workers=2)
    assert out.exists() and not (tmp_path / "res.parquet.parts").exists()
    pd.testing.assert_frame_equal(pd.read_parquet(out), full)
    # A sweep that died: half the cells written as parts, no final file.
    parts = tmp_path / "res.parquet.parts"
    parts.mkdir()
    for c in range(12):
        full[full.cell == c].to_parquet(parts / f"cell-{c:06d}.parquet", index=False)
    (parts / "cell-000013.parquet").write_bytes(b"PAR1 cut short")
    os.unlink(out)
    # Count what runs through the progress bar: it is told how many cells were done already.
    import io
    err = io.StringIO()
    bar = sweep_mod._Progress
    seen = []

    class Spy(bar):
        def __init__(self, total, done, stream=None):
            seen.append(done)
            super().__init__(total, done, err)

    sweep_mod._Progress = Spy
    try:
        resumed = vmsim.sweep(spec_for(traces), out=out, workers=1, progress=True)
    finally:
        sweep_mod._Progress = bar
    assert seen == [12]  # 12 cells already done; the cut-short part was run again
    assert "24/24 cells" in err.getvalue()
    pd.testing.assert_frame_equal(resumed, full)


def test_shell_command(traces, tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(f'command = "policy"\ntraces = ["{traces["zipf"]}"]\n'
                    '[grid]\npolicy = ["lru", "fifo"]\nframes = [7, 70]\n')
    out = tmp_path / "o.parquet"
    p = subprocess.run([sys.executable, "-m", "vmsim", "sweep", str(spec), "-o", str(out),
                        "--workers", "2"], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "4/4 cells" in p.stderr and "4 rows from 4 cells, 0 failed" in p.stdout
    assert len(pd.read_parquet(out)) == 4
    p = subprocess.run([sys.executable, "-m", "vmsim", "sweep", str(tmp_path / "none.toml")],
                       capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 1 and p.stderr.startswith("vmsim: cannot read")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A real scheduler and two single-threaded workers, separate processes on 127.0.0.1."""
    pytest.importorskip("distributed")
    bindir = Path(sys.executable).parent
    dask = str(bindir / "dask") if (bindir / "dask").exists() else "dask"
    port = free_port()
    addr = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("dask")
    env = dict(os.environ, DASK_DISTRIBUTED__WORKER__DAEMON="False")
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=open(logs / "s.log", "w"),
                              stderr=subprocess.STDOUT, env=env)]
    for i in range(2):
        procs.append(subprocess.Popen([dask, "worker", addr, "--nthreads", "1", "--nworkers", "1",
                                       "--no-dashboard", "--name", f"w{i}"],
                                      stdout=open(logs / f"w{i}.log", "w"),
                                      stderr=subprocess.STDOUT, env=env))
    from dask.distributed import Client
    client = None
    try:
        client = Client(addr, timeout=30)
        client.wait_for_workers(2, timeout=60)
        yield client, addr
    finally:
        if client is not None:
            client.close()
        for p in procs[::-1]:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def test_dask_sweep_equals_the_local_one(traces, dask_cluster, tmp_path):
    client, addr = dask_cluster
    local = vmsim.sweep(spec_for(traces), workers=2)
    remote = vmsim.sweep(spec_for(traces), client, out=tmp_path / "d.parquet")
    assert len(remote) == 24
    pd.testing.assert_frame_equal(local, remote)
    # Both workers ran cells.
    who = client.run(lambda: 1)
    assert len(who) == 2


def test_dask_sweep_from_the_shell(traces, dask_cluster, tmp_path):
    _, addr = dask_cluster
    spec = tmp_path / "s.toml"
    spec.write_text(f'command = "policy"\ntraces = ["{traces["loop"]}"]\n'
                    '[grid]\npolicy = ["lru", "clock"]\nframes = [100, 299, 300]\n')
    out = tmp_path / "o.parquet"
    p = subprocess.run([sys.executable, "-m", "vmsim", "sweep", str(spec), "--scheduler", addr,
                        "-o", str(out)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert p.returncode == 0, p.stderr
    df = pd.read_parquet(out)
    # A loop of 300 pages: LRU misses every reference below 300 frames, only cold misses at 300.
    lru = df[df.policy == "lru"].set_index("frames")["misses"]
    assert lru[299] == df.accesses.iloc[0] and lru[300] == 300
