//! `vmsim.gen`: a synthetic, seeded page stream (`vmsim gen`'s workloads) as a numpy array.
use crate::errors::Failure;
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use vmsim_trace::synth::{Generator, Workload};

/// `n` page numbers of `workload` from generator seed `seed` (and, with `writes=True`, a
/// boolean array of which references write).
#[pyfunction]
#[pyo3(signature = (workload, n=1_000_000, seed=0, *, writes=false))]
pub fn gen(py: Python<'_>, workload: &str, n: u64, seed: u64, writes: bool) -> PyResult<PyObject> {
    let w: Workload = workload
        .parse()
        .map_err(|e| Failure::usage(format!("{e}")))?;
    w.check_fits(n)
        .map_err(|e| Failure::usage(format!("{e}")))?;
    let count = usize::try_from(n).map_err(|_| Failure::usage("n is too large"))?;
    let (pages, kinds): (Vec<u64>, Vec<bool>) =
        crate::interrupt::detached(py, |_| Generator::new(&w, seed).take(count).unzip())?;
    let pages: Bound<'_, PyArray1<u64>> = pages.into_pyarray(py);
    if writes {
        Ok((pages, kinds.into_pyarray(py))
            .into_pyobject(py)?
            .into_any()
            .unbind())
    } else {
        Ok(pages.into_any().unbind())
    }
}
