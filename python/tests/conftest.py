"""Shared fixtures: small traces written to temporary files in formats vmsim reads."""
import numpy as np
import pytest

import vmsim


@pytest.fixture(scope="session")
def zipf_pages():
    return vmsim.gen("zipf:pages=2000,alpha=0.9", 60_000, seed=7)


@pytest.fixture(scope="session")
def traces(tmp_path_factory, zipf_pages):
    """Two page-number traces (the plain `pages` format: one number per line)."""
    d = tmp_path_factory.mktemp("traces")
    zipf = d / "zipf.pages"
    np.savetxt(zipf, zipf_pages, fmt="%d")
    loop = d / "loop.pages"
    np.savetxt(loop, vmsim.gen("loop:pages=300", 30_000, seed=1), fmt="%d")
    return {"zipf": zipf, "loop": loop, "dir": d}
