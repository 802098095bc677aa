"""Parameter sweeps: one command (run, policy or mrc) over traces x a grid of its flags, every
cell an independent task, on a local process pool (the default) or a Dask cluster.

A spec is a TOML file or a dict of the same shape::

    command = "policy"                 # run | policy | mrc
    traces = ["zipf.pgt", {gen = "loop:pages=500", n = 100000}]
    [flags]                            # the same for every cell (optional)
    page_size = "4K"
    [grid]                             # every combination, one cell each
    policy = ["lru", "fifo"]
    frames = [64, 256]

Cells are traces (outermost) x the grid's values in the order written. Each cell gets a seed
derived from the spec and the cell (SHA-256 of their canonical JSON), so a cell gives the same
numbers wherever and whenever it runs; a generated trace's seed is derived from the spec and the
trace alone, so every cell of one trace sees the same stream.
"""
from __future__ import annotations

import concurrent.futures as cf
import copy
import functools
import hashlib
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from .errors import SweepError, VmsimError

COMMANDS = ("run", "policy", "mrc")
#: Flags whose grid value is one item of a list the command takes.
_LISTED = {"policy": {"policy": "policies", "policies": "policies", "frames": "frames"},
           "mrc": {"policy": "policies", "policies": "policies", "sizes": "sizes"},
           "run": {}}
_SEEDED = ("policy", "mrc")


def load_spec(spec: Union[str, os.PathLike, Mapping[str, Any]]) -> Dict[str, Any]:
    """Reads and checks a spec (a TOML path or a dict); relative trace paths in a file are taken
    from the file's folder, and every path is made absolute (Dask workers must see it)."""
    base = Path.cwd()
    if isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        try:
            text = path.read_text()
        except OSError as e:
            raise SweepError(f"cannot read {path}: {e.strerror or e}") from None
        try:
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover
                import tomli as tomllib
            spec = tomllib.loads(text)
        except Exception as e:  # tomllib.TOMLDecodeError
            raise SweepError(f"{path}: {e}") from None
        base = path.resolve().parent
    else:
        spec = copy.deepcopy(dict(spec))
    unknown = set(spec) - {"command", "traces", "grid", "flags"}
    if unknown:
        raise SweepError(f"unknown key `{sorted(unknown)[0]}` in the sweep (command, traces, grid, flags)")
    command = spec.get("command")
    if command not in COMMANDS:
        raise SweepError(f"command: `{command}` is not a sweep command (run, policy or mrc)")
    traces = spec.get("traces", [None])
    if not isinstance(traces, list) or not traces:
        raise SweepError("traces: give a list of traces (paths, or {gen = ..., n = ...})")
    norm = []
    for t in traces:
        if t is None or t == "builtin":
            norm.append(None)
        elif isinstance(t, str):
            norm.append(str((base / t).resolve()) if not os.path.isabs(t) else t)
        elif isinstance(t, Mapping) and "gen" in t:
            extra = set(t) - {"gen", "n", "seed"}
            if extra:
                raise SweepError(f"traces: unknown key `{sorted(extra)[0]}` in a generated trace (gen, n, seed)")
            norm.append({"gen": str(t["gen"]), "n": int(t.get("n", 1_000_000)),
                         **({"seed": int(t["seed"])} if "seed" in t else {})})
        else:
            raise SweepError(f"traces: `{t!r}` is neither a path nor {{gen = ..., n = ...}}")
    grid = spec.get("grid", {})
    flags = spec.get("flags", {})
    if not isinstance(grid, Mapping) or not isinstance(flags, Mapping):
        raise SweepError("grid and flags are tables of flag = value(s)")
    grid = {k: (list(v) if isinstance(v, (list, tuple)) else [v]) for k, v in grid.items()}
    for k, v in grid.items():
        if not v:
            raise SweepError(f"grid: `{k}` has no values")
    clash = set(grid) & set(flags)
    if clash:
        raise SweepError(f"`{sorted(clash)[0]}` is both in grid and in flags")
    return {"command": command, "traces": norm, "grid": grid, "flags": dict(flags)}


def _label(trace: Any) -> str:
    if trace is None:
        return "built-in"
    if isinstance(trace, dict):
        return f"gen:{trace['gen']}:n={trace['n']}"
    return trace


def _digest(*parts: Any) -> int:
    text = json.dumps(parts, sort_keys=True, default=_jsonable)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


def _jsonable(v: Any) -> Any:
    if isinstance(v, type):
        return f"{v.__module__}.{v.__qualname__}"
    return str(v)


def cells(spec: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The cells of a (loaded) spec, in order: index, trace, grid values, seed."""
    keys = list(spec["grid"])
    out = []
    for trace in spec["traces"]:
        for values in itertools.product(*(spec["grid"][k] for k in keys)):
            params = dict(zip(keys, values))
            i = len(out)
            out.append({"cell": i, "trace": trace, "params": params,
                        "seed": _digest(spec["command"], spec["flags"], _label(trace), params)})
    return out


@functools.lru_cache(maxsize=4)
def _generated(workload: str, n: int, seed: int):
    from . import gen
    return gen(workload, n, seed)


def _trace_arg(spec_digest: int, trace: Any) -> Any:
    if isinstance(trace, dict):
        seed = trace.get("seed", _digest(spec_digest, trace))
        return _generated(trace["gen"], trace["n"], seed)
    return trace


def _flatten(d: Mapping[str, Any], prefix: str = "") -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, key + "."))
        elif isinstance(v, list):
            out[key] = json.dumps(v)
        else:
            out[key] = v
    return out


def run_cell(command: str, flags: Mapping[str, Any], cell: Mapping[str, Any],
             spec_digest: int) -> List[Dict[str, Any]]:
    """Runs one cell; returns its rows (trace, cell, grid values, result fields, error). Never
    raises for a cell's own failure: the message goes in the ``error`` column."""
    import vmsim

    head = {"cell": cell["cell"], "trace": _label(cell["trace"]), **cell["params"]}
    kwargs = dict(flags)
    listed = _LISTED[command]
    for k, v in cell["params"].items():
        if k in listed:
            kwargs[listed[k]] = [v]
        else:
            kwargs[k] = v
    if command in _SEEDED and "seed" not in kwargs:
        kwargs["seed"] = cell["seed"]
    try:
        trace = _trace_arg(spec_digest, cell["trace"])
        if command == "run":
            results = [_flatten(vmsim.run(trace, **kwargs))]
        elif command == "policy":
            df = vmsim.policy(trace, **kwargs)
            results = [dict(r, accesses=df.attrs["accesses"]) for r in df.to_dict("records")]
        else:
            df = vmsim.mrc(trace, **kwargs)
            results = [dict(r, references=df.attrs["references"], footprint=df.attrs["footprint"])
                       for r in df.to_dict("records")]
    except (VmsimError, TypeError, ValueError, OSError) as e:
        return [dict(head, error=f"{type(e).__name__}: {e}")]
    rows = []
    for r in results:
        row = dict(head)
        for k, v in r.items():
            if k in ("policy", "policies") and k in head:
                continue
            if k not in row:
                row[k] = v
        row["error"] = None
        rows.append(row)
    return rows


class _Progress:
    """cells done / total with the time left, on one line of stderr."""

    def __init__(self, total: int, done: int, stream=None) -> None:
        self.total, self.start_done, self.done = total, done, done
        self.t0 = time.monotonic()
        self.stream = stream if stream is not None else sys.stderr

    def step(self, n: int = 1) -> None:
        self.done += n
        ran = self.done - self.start_done
        dt = time.monotonic() - self.t0
        left = (self.total - self.done) * dt / ran if ran else float("nan")
        width = 30
        fill = int(width * self.done / self.total) if self.total else width
        eta = "?" if left != left else f"{left:.0f}s"
        self.stream.write(f"\r[{'=' * fill}{' ' * (width - fill)}] {self.done}/{self.total} cells, "
                          f"{dt:.0f}s elapsed, ETA {eta}  ")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _parts_dir(out: Path) -> Path:
    return out.with_name(out.name + ".parts")


def _done_cells(out: Optional[Path]) -> Dict[int, List[Dict[str, Any]]]:
    """Rows already written: from a finished output, or the parts of an unfinished one."""
    if out is None:
        return {}
    import pandas as pd

    done: Dict[int, List[Dict[str, Any]]] = {}
    frames = []
    if out.exists():
        frames.append(pd.read_parquet(out))
    parts = _parts_dir(out)
    if parts.is_dir():
        for p in sorted(parts.glob("cell-*.parquet")):
            try:
                frames.append(pd.read_parquet(p))
            except Exception:  # a part cut short when the sweep died: run that cell again
                p.unlink()
    for f in frames:
        for r in f.to_dict("records"):
            done.setdefault(int(r["cell"]), []).append(r)
    return done


def _write_part(out: Path, cell: int, rows: List[Dict[str, Any]]) -> None:
    import pandas as pd

    parts = _parts_dir(out)
    parts.mkdir(parents=True, exist_ok=True)
    tmp = parts / f".cell-{cell:06d}.tmp"
    pd.DataFrame(rows).to_parquet(tmp, index=False)
    os.replace(tmp, parts / f"cell-{cell:06d}.parquet")


def _table(spec: Mapping[str, Any], rows_by_cell: Mapping[int, List[Dict[str, Any]]]):
    import pandas as pd

    rows = [r for c in sorted(rows_by_cell) for r in rows_by_cell[c]]
    df = pd.DataFrame(rows)
    head = ["cell", "trace"] + list(spec["grid"])
    rest = [c for c in df.columns if c not in head and c != "error"]
    for c in head + ["error"]:
        if c not in df.columns:
            df[c] = None
    df = df[head + rest + ["error"]]
    for c in df.columns:
        # A column that mixes numbers and missing values (a failed cell) stays numeric.
        if df[c].dtype == object and c != "error":
            conv = pd.to_numeric(df[c], errors="coerce")
            if conv.notna().sum() == df[c].notna().sum() and df[c].notna().any():
                df[c] = conv
    return df.reset_index(drop=True)


def sweep(spec: Union[str, os.PathLike, Mapping[str, Any]], client: Any = None, *,
          out: Union[str, os.PathLike, None] = None, workers: Optional[int] = None,
          progress: bool = False):
    """Runs every cell of ``spec`` and returns the table: one row per cell (per result row where
    a command returns several, as ``policy`` and ``mrc`` do) with columns ``cell``, ``trace``,
    one per grid key, the result's fields under their ``--json`` names, and ``error`` (None, or
    why the cell failed; a failed cell does not stop the others).

    ``client``: a ``dask.distributed.Client`` to run cells as tasks on its workers (trace paths
    must be visible to them); without one, a local process pool of ``workers`` processes (all
    cores by default). ``out``: a Parquet file; each cell is written as it finishes (to
    ``OUT.parts/``) and the table to ``out`` at the end, and a sweep run again with the same
    ``out`` skips the cells already written. ``progress``: a progress bar on stderr.
    """
    spec = load_spec(spec)
    todo_all = cells(spec)
    digest = _digest(spec)
    outp = Path(out) if out is not None else None
    done = _done_cells(outp)
    todo = [c for c in todo_all if c["cell"] not in done]
    bar = _Progress(len(todo_all), len(todo_all) - len(todo)) if progress else None
    rows_by_cell: Dict[int, List[Dict[str, Any]]] = {c: r for c, r in done.items()
                                                     if c < len(todo_all)}

    def finished(cell: int, rows: List[Dict[str, Any]]) -> None:
        rows_by_cell[cell] = rows
        if outp is not None:
            _write_part(outp, cell, rows)
        if bar:
            bar.step()

    try:
        if not todo:
            pass
        elif client is not None:
            from dask.distributed import as_completed

            futures = {client.submit(run_cell, spec["command"], spec["flags"], c, digest,
                                     pure=False, key=f"vmsim-cell-{digest:x}-{c['cell']}"): c["cell"]
                       for c in todo}
            for fut in as_completed(futures):
                cell = futures[fut]
                try:
                    rows = fut.result()
                except Exception as e:  # the worker died or the task could not run
                    c = next(x for x in todo if x["cell"] == cell)
                    rows = [{"cell": cell, "trace": _label(c["trace"]), **c["params"],
                             "error": f"{type(e).__name__}: {e}"}]
                finished(cell, rows)
        else:
            n = workers or os.cpu_count() or 1
            with cf.ProcessPoolExecutor(max_workers=min(n, len(todo))) as pool:
                futures = {pool.submit(run_cell, spec["command"], spec["flags"], c, digest): c
                           for c in todo}
                for fut in cf.as_completed(futures):
                    c = futures[fut]
                    try:
                        rows = fut.result()
                    except Exception as e:  # the worker process died
                        rows = [{"cell": c["cell"], "trace": _label(c["trace"]), **c["params"],
                                 "error": f"{type(e).__name__}: {e}"}]
                    finished(c["cell"], rows)
    finally:
        if bar:
            bar.close()
    df = _table(spec, rows_by_cell)
    if outp is not None:
        tmp = outp.with_name("." + outp.name + ".tmp")
        df.to_parquet(tmp, index=False)
        os.replace(tmp, outp)
        parts = _parts_dir(outp)
        if parts.is_dir():
            for p in parts.iterdir():
                p.unlink()
            parts.rmdir()
    return df
