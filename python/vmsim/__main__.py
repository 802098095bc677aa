"""``python -m vmsim sweep SPEC.toml [--scheduler tcp://HOST:8786] [-o results.parquet]``."""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from .errors import VmsimError


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vmsim", description="vmsim from Python")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sweep", help="run a sweep spec (TOML) and write its table as Parquet")
    s.add_argument("spec", help="the sweep, a TOML file")
    s.add_argument("-o", "--output", help="Parquet file to write (cells stream to OUTPUT.parts/ "
                                          "as they finish; running again resumes)")
    s.add_argument("--scheduler", help="a Dask scheduler's address, e.g. tcp://HOST:8786 "
                                        "(default: a local process pool)")
    s.add_argument("--workers", type=int, help="local processes (default: all cores)")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    from . import sweep

    client = None
    try:
        if a.scheduler:
            from dask.distributed import Client

            client = Client(a.scheduler)
        df = sweep(a.spec, client, out=a.output, workers=a.workers, progress=not a.no_progress)
    except VmsimError as e:
        print(f"vmsim: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"vmsim: {e}", file=sys.stderr)
        return 1
    finally:
        if client is not None:
            client.close()
    failed = int(df["error"].notna().sum())
    where = a.output or "(not written: no -o)"
    print(f"{len(df)} rows from {df['cell'].nunique()} cells, {failed} failed; {where}")
    if a.output is None:
        print(df.to_string(max_rows=40))
    return 0


if __name__ == "__main__":
    sys.exit(main())
