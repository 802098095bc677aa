//! `vmsim.ostep`: an OSTEP homework simulator's run, as the golden-schema JSON document.
use crate::errors::Failure;
use pyo3::prelude::*;

/// Runs OSTEP simulator `sim` (e.g. `"paging-linear-translate"`) on `argv` (its flags, as on the
/// command line, without `-c`); relative input files are read from the current directory.
#[pyfunction]
#[pyo3(signature = (sim, argv=Vec::new()))]
pub fn ostep(py: Python<'_>, sim: &str, argv: Vec<String>) -> PyResult<PyObject> {
    let dir = std::env::current_dir()?;
    let case = vmsim_ostep::run(sim, &argv, &dir).ok_or_else(|| {
        Failure::usage(format!(
            "unknown simulator `{sim}` (expected one of: {})",
            vmsim_ostep::SIMULATORS.join(", ")
        ))
    })?;
    crate::run::to_python(py, &case)
}
