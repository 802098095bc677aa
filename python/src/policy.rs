//! `vmsim.policy`: replacement policies × frame counts over a trace's page stream, counted by
//! `vmsim_analysis::policy_grid` (what `vmsim policy` runs) for the built-in policies and by the
//! same `simulate` loop for policies written in Python.
use crate::errors::Failure;
use crate::interrupt::detached;
use crate::py_policy::{self, PyPolicy};
use crate::trace::{self, TraceArg};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use vmsim_analysis::policy_grid::{self, Cell, PolicyGrid};
use vmsim_core::replace::{Page, PolicyKind, Stats};
use vmsim_core::PageSize;

/// A policy as the caller names it.
pub enum Named<'py> {
    /// One of `vmsim policy --list`.
    Builtin(PolicyKind),
    /// A `vmsim.Policy` subclass.
    Python(Bound<'py, PyAny>),
}

impl<'py> Named<'py> {
    /// A name or a class.
    pub fn extract(p: &Bound<'py, PyAny>) -> PyResult<Named<'py>> {
        if let Ok(s) = p.extract::<String>() {
            let kind = s
                .trim()
                .parse::<PolicyKind>()
                .map_err(|e| Failure::usage(format!("policy: {e}")))?;
            return Ok(Named::Builtin(kind));
        }
        let base = p.py().import("vmsim")?.getattr("Policy")?;
        let is_sub = p.is_instance_of::<pyo3::types::PyType>()
            && p.downcast::<pyo3::types::PyType>()?.is_subclass(&base)?;
        if is_sub {
            Ok(Named::Python(p.clone()))
        } else {
            Err(Failure::usage(format!(
                "policy: expected a policy name or a vmsim.Policy subclass, not {}",
                p.repr()?
            ))
            .into())
        }
    }

    /// The policy's name in results.
    pub fn name(&self) -> PyResult<String> {
        match self {
            Named::Builtin(k) => Ok(k.name().to_string()),
            Named::Python(c) => py_policy::name(c),
        }
    }
}

/// Checks frame counts as the CLI's `--frames` does.
pub fn frames_list(flag: &str, frames: &[usize]) -> Result<(), Failure> {
    if frames.contains(&0) {
        return Err(Failure::usage(format!(
            "{flag}: the number of frames must be at least 1"
        )));
    }
    Ok(())
}

/// Every (policy, frames) cell's counts, policies outermost: built-in cells `jobs` at a time
/// without the GIL (a Ctrl-C is seen between them), Python ones with it.
pub fn counts(
    py: Python<'_>,
    policies: &[Named<'_>],
    frames: &[usize],
    refs: &[(Page, bool)],
    seed: u64,
    jobs: usize,
) -> PyResult<Vec<Stats>> {
    let builtin: Vec<Cell> = policies
        .iter()
        .filter_map(|p| match p {
            Named::Builtin(k) => Some(*k),
            Named::Python(_) => None,
        })
        .flat_map(|policy| frames.iter().map(move |&frames| Cell { policy, frames }))
        .collect();
    let jobs = jobs.max(1);
    let built: Vec<Stats> = detached(py, |stop| -> Result<Vec<Stats>, Failure> {
        let mut out = Vec::with_capacity(builtin.len());
        for group in builtin.chunks(jobs) {
            if stop.now() {
                break;
            }
            let r = policy_grid::run_refs(group, refs, seed, jobs)
                .map_err(|e| Failure::of(crate::errors::Kind::Usage, &e))?;
            out.extend(r.results.iter().map(|c| c.stats()));
        }
        Ok(out)
    })??;
    let mut built = built.into_iter();
    let mut all = Vec::new();
    for p in policies {
        for &f in frames {
            match p {
                Named::Builtin(_) => all.push(built.next().expect("one result per cell")),
                Named::Python(class) => {
                    let n = vmsim_core::replace::frames_needed(f, refs);
                    all.push(PyPolicy::new(class, n)?.run(refs)?);
                }
            }
        }
    }
    Ok(all)
}

/// The policies `vmsim policy --list` lists: name → description.
#[pyfunction]
pub fn policies(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    for k in PolicyKind::ALL {
        d.set_item(k.name(), k.describe())?;
    }
    Ok(d)
}

/// Runs every policy at every frame count over the trace's page stream; returns `vmsim policy
/// --json`'s document.
#[pyfunction]
#[pyo3(signature = (trace=None, policies=None, frames=None, *, page_size=None, seed=0, jobs=1,
    format=None, unit="page"))]
#[allow(clippy::too_many_arguments)]
pub fn policy<'py>(
    py: Python<'py>,
    trace: Option<&Bound<'py, PyAny>>,
    policies: Option<Vec<Bound<'py, PyAny>>>,
    frames: Option<Vec<usize>>,
    page_size: Option<&Bound<'py, PyAny>>,
    seed: u64,
    jobs: usize,
    format: Option<&str>,
    unit: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let names: Vec<Named<'py>> = match &policies {
        Some(list) => list.iter().map(Named::extract).collect::<PyResult<_>>()?,
        None => ["opt", "lru", "fifo", "clock", "arc"]
            .iter()
            .map(|n| Named::Builtin(n.parse().expect("a built-in policy")))
            .collect(),
    };
    let frames = frames.unwrap_or_else(|| vec![4, 16, 64]);
    frames_list("frames", &frames)?;
    if !(1..=256).contains(&jobs) {
        return Err(Failure::usage(format!(
            "jobs: `{jobs}` is not a thread count from 1 to 256"
        ))
        .into());
    }
    let size = trace::page_size(page_size)?.unwrap_or(PageSize::SIZE_4K);
    let arg = TraceArg::extract(trace, unit)?;
    let format = trace::format(format)?;
    let source = arg.source();
    let name = source.name();
    // The built-in cells are fed the stream batch by batch, as `vmsim policy` feeds them; the
    // stream is held whole only when Python policies need it afterwards.
    let builtin: Vec<Cell> = names
        .iter()
        .filter_map(|p| match p {
            Named::Builtin(k) => Some(*k),
            Named::Python(_) => None,
        })
        .flat_map(|policy| frames.iter().map(move |&frames| Cell { policy, frames }))
        .collect();
    let keep = names.iter().any(|n| matches!(n, Named::Python(_)));
    let (grid, refs, accesses) = detached(py, |stop| -> Result<_, Failure> {
        let mut grid = PolicyGrid::new(&builtin, seed, jobs)
            .map_err(|e| Failure::of(crate::errors::Kind::Usage, &e))?;
        let mut refs = Vec::new();
        let n = source.for_each_batch(format, size, policy_grid::BATCH, stop, |batch| {
            grid.feed(batch)
                .map_err(|e| Failure::of(crate::errors::Kind::Simulation, &e))?;
            if keep {
                refs.extend_from_slice(batch);
            }
            Ok(())
        })?;
        Ok((grid.finish(), refs, n))
    })??;
    let mut built = grid.results.iter().map(|c| c.stats());
    let mut stats = Vec::new();
    for p in &names {
        for &f in &frames {
            match p {
                Named::Builtin(_) => stats.push(built.next().expect("one result per cell")),
                Named::Python(class) => {
                    let n = vmsim_core::replace::frames_needed(f, &refs);
                    stats.push(PyPolicy::new(class, n)?.run(&refs)?);
                }
            }
        }
    }
    let results = PyList::empty(py);
    let mut it = stats.iter();
    for p in &names {
        let pname = p.name()?;
        for &f in &frames {
            let s = it.next().expect("one result per cell");
            let row = PyDict::new(py);
            row.set_item("policy", &pname)?;
            row.set_item("frames", f)?;
            row.set_item("hits", s.hits)?;
            row.set_item("misses", s.misses)?;
            row.set_item("miss_ratio", s.miss_ratio())?;
            row.set_item("evictions", s.evictions)?;
            row.set_item("dirty_evictions", s.dirty_evictions)?;
            results.append(row)?;
        }
    }
    let doc = PyDict::new(py);
    doc.set_item("trace", name)?;
    doc.set_item("page_size", size.bytes())?;
    doc.set_item("accesses", accesses)?;
    doc.set_item("results", results)?;
    Ok(doc)
}
