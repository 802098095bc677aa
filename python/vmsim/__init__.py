"""vmsim from Python: the memory-virtualization simulator's engine (TLBs, page-table walks,
kernels, replacement policies, miss-ratio curves, working sets, OSTEP homework) as functions that
return the CLI's ``--json`` documents as dicts, and pandas DataFrames where a table is natural;
plus sweeps over parameter grids on a local process pool or a Dask cluster (:func:`sweep`).

Every number comes from the same Rust library code the ``vmsim`` command runs.
"""
from __future__ import annotations

import os
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np

from . import _native
from .errors import (
    ConfigError,
    PolicyError,
    SimulationError,
    SweepError,
    TraceError,
    UsageError,
    VmsimError,
)
from .policy_base import Policy
from ._native import Machine

__version__ = _native.__version__

__all__ = [
    "run", "explain", "policy", "policies", "mrc", "ws", "gen", "ostep", "sweep", "load_spec",
    "Machine", "Policy", "VmsimError", "UsageError", "TraceError", "ConfigError",
    "SimulationError", "PolicyError", "SweepError",
]


def _trace(trace: Any) -> Any:
    """A trace argument as the native module takes it: None, a path, or a 1-d uint64 array
    (an array that already is one is passed as it is, without a copy)."""
    if trace is None:
        return None
    if isinstance(trace, (str, os.PathLike)):
        return os.fspath(trace)
    a = np.asarray(trace)
    if a.ndim != 1:
        raise UsageError(f"trace: expected a 1-d array, not {a.ndim}-d")
    if a.dtype == np.uint64 and a.flags.c_contiguous:
        return a
    if a.dtype.kind not in "iu":
        if a.size == 0:
            return np.zeros(0, dtype=np.uint64)
        raise UsageError(f"trace: expected integers (page numbers or addresses), not {a.dtype}")
    if a.dtype.kind == "i" and a.size and a.min() < 0:
        raise UsageError("trace: page numbers and addresses cannot be negative")
    return np.ascontiguousarray(a, dtype=np.uint64)


def _policies(policies: Any) -> Optional[List[Any]]:
    if policies is None:
        return None
    if isinstance(policies, str):
        return [p for p in policies.split(",")]
    if isinstance(policies, type):
        return [policies]
    return list(policies)


def _ints(v: Any) -> Optional[List[int]]:
    if v is None:
        return None
    if isinstance(v, (int, np.integer)):
        return [int(v)]
    if isinstance(v, str):
        try:
            return [int(x) for x in v.split(",")]
        except ValueError:
            raise UsageError(f"`{v}` is not a list of positive numbers") from None
    return [int(x) for x in v]


def run(trace: Any = None, preset: Optional[str] = None, config: Any = None, **flags: Any) -> Dict[str, Any]:
    """Replays a trace through a machine and returns ``vmsim run --json``'s report.

    ``trace``: None (the built-in trace), a path, or an array of page numbers (``unit="address"``
    for addresses). ``flags`` as in ``vmsim run``: ``ram="64M"``, ``swap="256M"``,
    ``policy="lru"``, ``page_size="2M"``, ``cpus=2``, ``paging="5-level"``,
    ``kernel="demand-zero"``, ``swap_readahead=8``, ``limit=N``, ``explain=N``, ``format=...``.
    """
    return _native.run(_trace(trace), preset, None if config is None else os.fspath(config), **flags)


def explain(addrs: Union[int, str, Sequence[Union[int, str]]], preset: Optional[str] = None,
            config: Any = None, **flags: Any) -> List[Dict[str, Any]]:
    """Accesses ``addrs`` in order on a fresh machine; returns each access's events
    (``vmsim explain --json``'s ``accesses``). An address is a number or text such as
    ``"0x401000"`` or ``"w:0x601040"``; ``kind="w"`` makes the others writes; ``pid=``."""
    if isinstance(addrs, (int, str, np.integer)):
        addrs = [addrs]
    addrs = [int(a) if isinstance(a, np.integer) else a for a in addrs]
    return _native.explain(addrs, preset, None if config is None else os.fspath(config), **flags)


def policies() -> Dict[str, str]:
    """The built-in replacement policies (``vmsim policy --list``): name -> description."""
    return _native.policies()


def policy(trace: Any = None, policies: Any = None, frames: Any = None, **flags: Any):
    """Every policy at every frame count over the trace's page stream: a DataFrame with the
    columns of ``vmsim policy --json``'s results (policy, frames, hits, misses, miss_ratio,
    evictions, dirty_evictions); ``df.attrs`` holds trace, page_size and accesses.

    ``policies``: names (``"lru,fifo"`` or a list) and/or :class:`vmsim.Policy` subclasses.
    ``flags``: ``page_size``, ``seed``, ``jobs`` (threads), ``format``, ``unit``.
    """
    import pandas as pd

    doc = _native.policy(_trace(trace), _policies(policies), _ints(frames), **flags)
    df = pd.DataFrame(doc["results"], columns=[
        "policy", "frames", "hits", "misses", "miss_ratio", "evictions", "dirty_evictions"])
    df.attrs.update({k: doc[k] for k in ("trace", "page_size", "accesses")})
    return df


def mrc(trace: Any = None, **flags: Any):
    """Miss-ratio curves (``vmsim mrc --json``): a DataFrame with a ``frames`` column and one
    column per curve (lru, opt, shards, and any ``policies=`` given, Python ones included);
    ``df.attrs`` holds trace, references, footprint, shards_rate and shards_max_error.
    ``flags``: ``sizes``, ``opt`` (False leaves OPT out), ``policies``, ``shards``, ``page_size``,
    ``seed``, ``jobs``, ``format``, ``unit``."""
    import pandas as pd

    if "sizes" in flags:
        flags["sizes"] = _ints(flags["sizes"])
    if "policies" in flags:
        flags["policies"] = _policies(flags["policies"])
    doc = _native.mrc(_trace(trace), **flags)
    df = pd.DataFrame(doc["curve"], columns=["frames"] + doc["curves"])
    df.attrs.update({k: doc[k] for k in ("trace", "references", "footprint", "shards_rate",
                                         "shards_max_error")})
    return df


def ws(trace: Any = None, **flags: Any) -> Dict[str, Any]:
    """Denning working sets (``vmsim ws --json``'s document). ``flags``: ``window``, ``taus``,
    ``frames``, ``points``, ``page_size``, ``format``, ``unit``. Its tables (mean_size,
    over_time, thrashing, reuse buckets) turn into DataFrames with ``pandas.DataFrame(d[key])``."""
    for k in ("taus", "frames"):
        if k in flags:
            flags[k] = _ints(flags[k])
    return _native.ws(_trace(trace), **flags)


def gen(workload: str, n: int = 1_000_000, seed: int = 0, *, writes: bool = False):
    """``n`` page numbers of a synthetic workload (``vmsim gen``'s specs, e.g.
    ``"zipf:pages=1M,alpha=1.0"``) as a uint64 numpy array; with ``writes=True``, also a bool
    array of which references write."""
    return _native.gen(workload, int(n), int(seed), writes=writes)


def ostep(sim: str, argv: Union[str, Sequence[str]] = ()) -> Dict[str, Any]:
    """Runs an OSTEP homework simulator (``vmsim ostep SIM ARGS --json``) and returns the
    golden-schema document: problem, answers, summary, error."""
    if isinstance(argv, str):
        argv = argv.split()
    return _native.ostep(sim, [str(a) for a in argv])


from .sweeps import load_spec, sweep  # noqa: E402  (needs the functions above)
