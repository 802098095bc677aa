//! `vmsim.run` and `vmsim.explain`: a trace replayed through a machine (`vmsim run --json`'s
//! report) and addresses explained on a fresh one (`vmsim explain --json`'s accesses).
use crate::errors::Failure;
use crate::interrupt::detached;
use crate::trace::{self, TraceArg};
use pyo3::prelude::*;
use std::path::PathBuf;
use vmsim_core::event::Event;
use vmsim_core::kernel::LinuxConfig;
use vmsim_core::replace::ReclaimPolicy;
use vmsim_core::{AccessKind, PagingMode};
use vmsim_sim::machine_choice::MachineChoice;
use vmsim_sim::{KernelChoice, KernelKind, ReplayOptions, SimError, Simulation, Watch};

/// Parses Python's `json` text of a serde value into Python objects.
pub fn to_python<T: serde::Serialize>(py: Python<'_>, v: &T) -> PyResult<PyObject> {
    // Through a `Value`, whose keys are sorted: the order the CLI's `--json` prints.
    let text = serde_json::to_value(v)
        .and_then(|v| serde_json::to_string(&v))
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// The machine the keyword arguments name.
pub fn machine_choice(
    preset: Option<String>,
    config: Option<PathBuf>,
    page_size: Option<&Bound<'_, PyAny>>,
    cpus: Option<u16>,
    paging: Option<&str>,
) -> PyResult<MachineChoice> {
    let paging = match paging {
        None => None,
        Some("4" | "4-level") => Some(PagingMode::Level4),
        Some("5" | "5-level") => Some(PagingMode::Level5),
        Some(s) => {
            return Err(Failure::usage(format!(
                "paging: `{s}` is not a paging mode (expected 4-level or 5-level)"
            ))
            .into())
        }
    };
    if cpus == Some(0) || cpus.is_some_and(|n| n > vmsim_core::config::MAX_CPUS) {
        return Err(Failure::usage(format!(
            "cpus: {} is not in 1..={}",
            cpus.unwrap_or(0),
            vmsim_core::config::MAX_CPUS
        ))
        .into());
    }
    Ok(MachineChoice {
        preset,
        config,
        page_size: trace::page_size(page_size)?,
        cpus,
        paging,
    })
}

/// Parses an access kind: r/read, w/write, x/fetch.
pub fn access_kind(s: &str) -> Result<AccessKind, Failure> {
    vmsim_sim::explain::parse_kind(s)
        .ok_or_else(|| Failure::usage(format!("`{s}` is not an access kind (use r, w or x)")))
}

/// Collects the narrated accesses' events and polls Ctrl-C once per batch.
struct PyWatch<'a> {
    explained: Vec<Vec<Event>>,
    stop: &'a crate::interrupt::Stop<'a>,
}

impl Watch for PyWatch<'_> {
    fn explained(&mut self, _index: u64, events: Vec<Event>) {
        self.explained.push(events);
    }
    fn stop(&mut self) -> bool {
        self.stop.now()
    }
}

/// Replays a trace through a machine and returns `vmsim run --json`'s report.
#[pyfunction]
#[pyo3(signature = (trace=None, preset=None, config=None, *, page_size=None, cpus=None,
    paging=None, kernel=None, ram=None, swap=None, policy="two-list", swap_readahead=8,
    limit=None, explain=0, format=None, unit="page"))]
#[allow(clippy::too_many_arguments)]
pub fn run(
    py: Python<'_>,
    trace: Option<&Bound<'_, PyAny>>,
    preset: Option<String>,
    config: Option<PathBuf>,
    page_size: Option<&Bound<'_, PyAny>>,
    cpus: Option<u16>,
    paging: Option<&str>,
    kernel: Option<&str>,
    ram: Option<&Bound<'_, PyAny>>,
    swap: Option<&Bound<'_, PyAny>>,
    policy: &str,
    swap_readahead: u32,
    limit: Option<u64>,
    explain: u64,
    format: Option<&str>,
    unit: &str,
) -> PyResult<PyObject> {
    let choice = machine_choice(preset, config, page_size, cpus, paging)?;
    let arg = TraceArg::extract(trace, unit)?;
    let format = trace::format(format)?;
    let kernel = kernel
        .map(|k| {
            k.parse::<KernelKind>()
                .map_err(|e| Failure::usage(format!("kernel: {e}")))
        })
        .transpose()?;
    let reclaim: ReclaimPolicy = policy
        .parse()
        .map_err(|e| Failure::usage(format!("policy: {e}")))?;
    let ram = trace::bytes("ram", ram)?;
    let swap = trace::bytes("swap", swap)?;

    let mut cfg = choice.load().map_err(Failure::from)?;
    if let Some(ram) = ram {
        cfg.memory = ram;
        cfg.validate()
            .map_err(|e| Failure::usage(format!("ram: {e}")))?;
    }
    let linux = LinuxConfig {
        policy: reclaim,
        swap_pages: u32::try_from(swap.unwrap_or(0) / 4096)
            .map_err(|_| Failure::usage("swap is larger than 16 TiB"))?,
        swap_readahead,
        implicit_anon: true,
        ..LinuxConfig::default()
    };
    let choice = KernelChoice::resolve(kernel, &cfg, linux).map_err(|e| match e {
        SimError::LinuxNeeds4K => Failure::usage(
            "the linux kernel model maps x86-64 4K pages only: use kernel=\"demand-zero\" with page_size=\"2M\" or \"1G\" and teaching machines",
        ),
        other => other.into(),
    })?;
    let mut sim = Simulation::new(cfg, choice).map_err(Failure::from)?;
    let size = sim.config().page_size;
    let source = arg.source();
    let options = ReplayOptions { limit, explain };
    let (report, interrupted) = detached(py, |stop| -> Result<_, Failure> {
        let mut watch = PyWatch {
            explained: Vec::new(),
            stop,
        };
        match source.reader(format)? {
            Some(reader) => sim.replay(reader, options, &mut watch)?,
            None => {
                let records = source.records(size)?.unwrap_or_default();
                sim.replay_records(&records, options, &mut watch)?
            }
        };
        let mut report = sim.report(&source.name());
        if explain > 0 {
            report.explain = Some(watch.explained);
        }
        Ok((report, stop.now()))
    })??;
    debug_assert!(!interrupted, "an interrupted run raised already");
    to_python(py, &report)
}

/// Explains accesses on a fresh machine; returns `vmsim explain --json`'s accesses.
#[pyfunction]
#[pyo3(signature = (addrs, preset=None, config=None, *, kind="r", pid=1, page_size=None,
    cpus=None, paging=None))]
#[allow(clippy::too_many_arguments)]
pub fn explain(
    py: Python<'_>,
    addrs: Vec<Bound<'_, PyAny>>,
    preset: Option<String>,
    config: Option<PathBuf>,
    kind: &str,
    pid: u32,
    page_size: Option<&Bound<'_, PyAny>>,
    cpus: Option<u16>,
    paging: Option<&str>,
) -> PyResult<PyObject> {
    let cfg = machine_choice(preset, config, page_size, cpus, paging)?
        .load()
        .map_err(Failure::from)?;
    let default = access_kind(kind)?;
    let mut ex = vmsim_sim::Explainer::new(cfg).map_err(Failure::from)?;
    let mut all = Vec::new();
    for a in addrs {
        let (k, va) = address(&a, default)?;
        all.push(ex.access(pid, va, k).map_err(Failure::from)?);
    }
    let doc = ex.explanation(all);
    let v = to_python(py, &doc)?;
    Ok(v.bind(py).get_item("accesses")?.unbind())
}

/// An address to explain: a number, or text as the CLI takes it (`0x1000`, `w:0x1000`).
pub fn address(a: &Bound<'_, PyAny>, default: AccessKind) -> PyResult<(AccessKind, u64)> {
    if let Ok(n) = a.extract::<u64>() {
        return Ok((default, n));
    }
    let s: String = a.extract()?;
    let (kind, va) = vmsim_sim::explain::parse_access(&s).map_err(Failure::usage)?;
    Ok((kind.unwrap_or(default), va))
}
