"""Type stubs of the vmsim package (see the docstrings in vmsim/__init__.py)."""
import os
from typing import Any, ClassVar, Dict, List, Literal, Mapping, Optional, Sequence, Tuple, Type, Union, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from .errors import (
    ConfigError as ConfigError,
    PolicyError as PolicyError,
    SimulationError as SimulationError,
    SweepError as SweepError,
    TraceError as TraceError,
    UsageError as UsageError,
    VmsimError as VmsimError,
)

__version__: str

#: None (the built-in trace), a trace file in any format vmsim reads, or page numbers/addresses.
Trace = Union[None, str, os.PathLike, npt.ArrayLike]
Size = Union[int, str]
Unit = Literal["page", "address"]

class Policy:
    name: ClassVar[Optional[str]]
    frames: int
    def __init__(self, frames: int) -> None: ...
    def on_hit(self, page: int, write: bool) -> None: ...
    def on_miss(self, page: int, write: bool) -> None: ...
    def on_insert(self, page: int, write: bool) -> None: ...
    def evict(self) -> int: ...

PolicyArg = Union[str, Type[Policy], Sequence[Union[str, Type[Policy]]]]

def run(
    trace: Trace = None,
    preset: Optional[str] = None,
    config: Union[str, os.PathLike, None] = None,
    *,
    page_size: Optional[Size] = None,
    cpus: Optional[int] = None,
    paging: Optional[str] = None,
    kernel: Optional[Literal["linux", "demand-zero"]] = None,
    ram: Optional[Size] = None,
    swap: Optional[Size] = None,
    policy: str = "two-list",
    swap_readahead: int = 8,
    limit: Optional[int] = None,
    explain: int = 0,
    format: Optional[str] = None,
    unit: Unit = "page",
) -> Dict[str, Any]: ...
def explain(
    addrs: Union[int, str, Sequence[Union[int, str]]],
    preset: Optional[str] = None,
    config: Union[str, os.PathLike, None] = None,
    *,
    kind: str = "r",
    pid: int = 1,
    page_size: Optional[Size] = None,
    cpus: Optional[int] = None,
    paging: Optional[str] = None,
) -> List[Dict[str, Any]]: ...
def policies() -> Dict[str, str]: ...
def policy(
    trace: Trace = None,
    policies: Optional[PolicyArg] = None,
    frames: Union[int, str, Sequence[int], None] = None,
    *,
    page_size: Optional[Size] = None,
    seed: int = 0,
    jobs: int = 1,
    format: Optional[str] = None,
    unit: Unit = "page",
) -> pd.DataFrame: ...
def mrc(
    trace: Trace = None,
    *,
    sizes: Union[int, str, Sequence[int], None] = None,
    opt: bool = True,
    policies: Optional[PolicyArg] = None,
    shards: Optional[float] = None,
    page_size: Optional[Size] = None,
    seed: int = 0,
    jobs: int = 1,
    format: Optional[str] = None,
    unit: Unit = "page",
) -> pd.DataFrame: ...
def ws(
    trace: Trace = None,
    *,
    window: int = 10_000,
    taus: Union[str, Sequence[int], None] = None,
    frames: Union[str, Sequence[int], None] = None,
    points: int = 200,
    page_size: Optional[Size] = None,
    format: Optional[str] = None,
    unit: Unit = "page",
) -> Dict[str, Any]: ...
@overload
def gen(workload: str, n: int = ..., seed: int = ..., *, writes: Literal[False] = ...) -> npt.NDArray[np.uint64]: ...
@overload
def gen(workload: str, n: int = ..., seed: int = ..., *, writes: Literal[True]) -> Tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_]]: ...
def ostep(sim: str, argv: Union[str, Sequence[str]] = ()) -> Dict[str, Any]: ...
def load_spec(spec: Union[str, os.PathLike, Mapping[str, Any]]) -> Dict[str, Any]: ...
def sweep(
    spec: Union[str, os.PathLike, Mapping[str, Any]],
    client: Any = None,
    *,
    out: Union[str, os.PathLike, None] = None,
    workers: Optional[int] = None,
    progress: bool = False,
) -> pd.DataFrame: ...

class Machine:
    def __init__(
        self,
        preset: Optional[str] = None,
        config: Union[str, os.PathLike, None] = None,
        *,
        page_size: Optional[Size] = None,
        cpus: Optional[int] = None,
        paging: Optional[str] = None,
    ) -> None: ...
    @property
    def name(self) -> str: ...
    def access(self, va: Union[int, str], kind: str = "r", pid: int = 1) -> List[Dict[str, Any]]: ...
    def narrate(self, va: Union[int, str], kind: str = "r", pid: int = 1) -> str: ...
    def tlb_contents(self) -> List[Dict[str, Any]]: ...
    def page_table(self) -> Dict[str, Any]: ...
    def state(self) -> Dict[str, Any]: ...
    def stats(self) -> Dict[str, Any]: ...
