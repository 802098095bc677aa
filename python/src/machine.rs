//! `vmsim.Machine`: one machine to step through in a notebook, access by access, looking at its
//! TLBs, page tables and counters in between (the web explorer's machine, from Python).
use crate::errors::Failure;
use crate::run::{access_kind, address, machine_choice, to_python};
use pyo3::prelude::*;
use std::path::PathBuf;
use vmsim_sim::Explainer;

/// A fresh machine with its default kernel (Linux-like, or demand-zero where the Linux model
/// cannot map the machine's pages).
#[pyclass(module = "vmsim", unsendable)]
pub struct Machine {
    ex: Explainer,
    accesses: u64,
}

#[pymethods]
impl Machine {
    #[new]
    #[pyo3(signature = (preset=None, config=None, *, page_size=None, cpus=None, paging=None))]
    fn new(
        preset: Option<String>,
        config: Option<PathBuf>,
        page_size: Option<&Bound<'_, PyAny>>,
        cpus: Option<u16>,
        paging: Option<&str>,
    ) -> PyResult<Machine> {
        let cfg = machine_choice(preset, config, page_size, cpus, paging)?
            .load()
            .map_err(Failure::from)?;
        Ok(Machine {
            ex: Explainer::new(cfg).map_err(Failure::from)?,
            accesses: 0,
        })
    }

    /// One access of one byte on CPU 0; returns its events, in order.
    #[pyo3(signature = (va, kind="r", pid=1))]
    fn access(
        &mut self,
        py: Python<'_>,
        va: &Bound<'_, PyAny>,
        kind: &str,
        pid: u32,
    ) -> PyResult<PyObject> {
        let (k, va) = address(va, access_kind(kind)?)?;
        let a = self.ex.access(pid, va, k).map_err(Failure::from)?;
        self.accesses += 1;
        to_python(py, &a.events)
    }

    /// The step-by-step story of one access, as `vmsim explain` tells it (the access is made).
    #[pyo3(signature = (va, kind="r", pid=1))]
    fn narrate(&mut self, va: &Bound<'_, PyAny>, kind: &str, pid: u32) -> PyResult<String> {
        let (k, va) = address(va, access_kind(kind)?)?;
        let a = self.ex.access(pid, va, k).map_err(Failure::from)?;
        self.accesses += 1;
        Ok(self.ex.narrate(&a))
    }

    /// The TLBs of CPU 0, level by level, with their valid entries.
    fn tlb_contents(&self, py: Python<'_>) -> PyResult<PyObject> {
        let state = vmsim_sim::machine_state::state(&self.ex);
        to_python(py, &state["tlbs"])
    }

    /// CR3 and the page-table pages per level.
    fn page_table(&self, py: Python<'_>) -> PyResult<PyObject> {
        let state = vmsim_sim::machine_state::state(&self.ex);
        let mut v = state["page_tables"].clone();
        v["cr3"] = state["cr3"].clone();
        to_python(py, &v)
    }

    /// The whole state document (TLBs, CR3, page tables, processes, frames in use).
    fn state(&self, py: Python<'_>) -> PyResult<PyObject> {
        to_python(py, &vmsim_sim::machine_state::state(&self.ex))
    }

    /// The counters so far, as `vmsim run --json` reports them.
    fn stats(&self, py: Python<'_>) -> PyResult<PyObject> {
        let report = self.ex.machine().report(self.ex.config(), "<machine>");
        to_python(py, &report)
    }

    /// The machine's name.
    #[getter]
    fn name(&self) -> String {
        self.ex.config().name.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "<vmsim.Machine {} after {} accesses>",
            self.ex.config().name,
            self.accesses
        )
    }
}
