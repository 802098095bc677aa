//! `vmsim.ws`: Denning working sets of a trace's page stream (`vmsim_analysis::ws_report`, what
//! `vmsim ws --json` prints).
use crate::errors::Failure;
use crate::interrupt::detached;
use crate::policy::frames_list;
use crate::trace::{self, TraceArg};
use pyo3::prelude::*;
use vmsim_analysis::ws_report::{OverTime, WsOptions, WsPass};
use vmsim_core::PageSize;

/// Returns `vmsim ws --json`'s document.
#[pyfunction]
#[pyo3(signature = (trace=None, *, window=10_000, taus=None, frames=None, points=200,
    page_size=None, format=None, unit="page"))]
#[allow(clippy::too_many_arguments)]
pub fn ws<'py>(
    py: Python<'py>,
    trace: Option<&Bound<'py, PyAny>>,
    window: usize,
    taus: Option<Vec<usize>>,
    frames: Option<Vec<usize>>,
    points: usize,
    page_size: Option<&Bound<'py, PyAny>>,
    format: Option<&str>,
    unit: &str,
) -> PyResult<PyObject> {
    if window == 0 {
        return Err(Failure::usage("window must be at least 1").into());
    }
    if points == 0 {
        return Err(Failure::usage("points must be at least 1").into());
    }
    if let Some(t) = &taus {
        frames_list("taus", t)?;
    }
    if let Some(f) = &frames {
        frames_list("frames", f)?;
    }
    let size = trace::page_size(page_size)?.unwrap_or(PageSize::SIZE_4K);
    let arg = TraceArg::extract(trace, unit)?;
    let format = trace::format(format)?;
    let source = arg.source();
    let report = detached(py, |stop| -> Result<_, Failure> {
        // The stream is held in memory for the second pass (the CLI reads its file twice).
        let (refs, name) = source.pages(format, size, stop)?;
        let mut pass = WsPass::new(WsOptions {
            window,
            taus,
            frames,
        });
        let mut over = OverTime::new(window, refs.len(), points);
        for chunk in refs.chunks(1 << 16) {
            if stop.now() {
                break;
            }
            chunk.iter().for_each(|&(p, _)| pass.access(p));
        }
        for chunk in refs.chunks(1 << 16) {
            if stop.now() {
                break;
            }
            chunk.iter().for_each(|&(p, _)| over.access(p));
        }
        let mut report = pass.finish(&name);
        report.over_time = over.finish();
        Ok(report)
    })??;
    crate::run::to_python(py, &report)
}
