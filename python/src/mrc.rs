//! `vmsim.mrc`: miss-ratio curves of a trace's page stream (`vmsim_analysis::mrc_report`, what
//! `vmsim mrc` prints), with the other policies' curves from the policy grid, Python policies'
//! included.
use crate::errors::Failure;
use crate::interrupt::detached;
use crate::policy::{counts, frames_list, Named};
use crate::trace::{self, TraceArg};
use pyo3::prelude::*;
use vmsim_analysis::mrc_report::MrcPass;
use vmsim_core::replace::PolicyKind;
use vmsim_core::PageSize;

/// Returns `vmsim mrc --json`'s document.
#[pyfunction]
#[pyo3(signature = (trace=None, *, sizes=None, opt=true, policies=None, shards=None,
    page_size=None, seed=0, jobs=1, format=None, unit="page"))]
#[allow(clippy::too_many_arguments)]
pub fn mrc<'py>(
    py: Python<'py>,
    trace: Option<&Bound<'py, PyAny>>,
    sizes: Option<Vec<usize>>,
    opt: bool,
    policies: Option<Vec<Bound<'py, PyAny>>>,
    shards: Option<f64>,
    page_size: Option<&Bound<'py, PyAny>>,
    seed: u64,
    jobs: usize,
    format: Option<&str>,
    unit: &str,
) -> PyResult<PyObject> {
    if let Some(r) = shards {
        if !(r > 0.0 && r <= 1.0) {
            return Err(Failure::usage("shards takes a rate in (0, 1]").into());
        }
    }
    if let Some(s) = &sizes {
        frames_list("sizes", s)?;
    }
    let names: Vec<Named<'py>> = match &policies {
        Some(list) => list
            .iter()
            .map(Named::extract)
            .collect::<PyResult<Vec<_>>>()?
            .into_iter()
            .filter(|n| {
                !matches!(
                    n,
                    Named::Builtin(PolicyKind::Lru) | Named::Builtin(PolicyKind::Opt)
                )
            })
            .collect(),
        None => Vec::new(),
    };
    let size = trace::page_size(page_size)?.unwrap_or(PageSize::SIZE_4K);
    let arg = TraceArg::extract(trace, unit)?;
    let format = trace::format(format)?;
    let source = arg.source();
    let (report, refs) = detached(py, |stop| -> Result<_, Failure> {
        // The stream is held for the simulated curves (Python policies run after the pass).
        let (refs, name) = source.pages(format, size, stop)?;
        let mut pass = MrcPass::new(shards, opt);
        for chunk in refs.chunks(1 << 16) {
            if stop.now() {
                break;
            }
            pass.feed(chunk);
        }
        let report = pass.finish(&name, sizes, opt).ok_or_else(|| {
            Failure::new(
                crate::errors::Kind::Trace,
                format!("{name}: the trace holds no accesses"),
            )
        })?;
        Ok((report, refs))
    })??;
    let mut report = report;
    let stats = counts(py, &names, &report.sizes, &refs, seed, jobs)?;
    let n = report.sizes.len().max(1);
    for (p, row) in names.iter().zip(stats.chunks(n)) {
        report.push(&p.name()?, row.iter().map(|s| s.miss_ratio()).collect());
    }
    crate::run::to_python(py, &report)
}
