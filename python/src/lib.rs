//! `vmsim._native`: the Rust half of the `vmsim` Python package. Every number it returns comes
//! from the workspace's library crates (vmsim-sim, vmsim-analysis, vmsim-trace, vmsim-ostep),
//! the same code the CLI runs; the Python half (`python/vmsim/`) turns results into pandas
//! tables and runs sweeps.
use pyo3::prelude::*;

mod errors;
mod gen;
mod interrupt;
mod machine;
mod mrc;
mod ostep;
mod policy;
mod py_policy;
mod run;
mod trace;
mod ws;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run::run, m)?)?;
    m.add_function(wrap_pyfunction!(run::explain, m)?)?;
    m.add_function(wrap_pyfunction!(policy::policy, m)?)?;
    m.add_function(wrap_pyfunction!(policy::policies, m)?)?;
    m.add_function(wrap_pyfunction!(mrc::mrc, m)?)?;
    m.add_function(wrap_pyfunction!(ws::ws, m)?)?;
    m.add_function(wrap_pyfunction!(gen::gen, m)?)?;
    m.add_function(wrap_pyfunction!(ostep::ostep, m)?)?;
    m.add_class::<machine::Machine>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
