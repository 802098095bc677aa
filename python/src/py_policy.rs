//! A replacement policy written in Python, as a `vmsim_core::replace::Policy`: it runs through
//! the same `simulate` loop, grid and curves as the built-in ones. The adapter keeps which
//! pages are resident and their dirty bits, so the Python class only decides: it hears of hits,
//! misses and insertions and, when memory is full, names the victim (`evict()`); a victim that
//! is not resident is a `vmsim.PolicyError`. A Python exception in a hook stops the simulation
//! (the remaining references are skipped) and is raised when it returns.
use crate::errors::{Failure, Kind};
use pyo3::prelude::*;
use std::collections::HashMap;
use vmsim_core::replace::{Evicted, Outcome, Page, Policy, Stats};

/// References between two looks at Ctrl-C.
const SIGNAL_EVERY: u64 = 1 << 16;

/// One instance of a `vmsim.Policy` subclass with `frames` frames.
pub struct PyPolicy<'py> {
    obj: Bound<'py, PyAny>,
    frames: usize,
    resident: HashMap<Page, bool>,
    error: Option<PyErr>,
    seen: u64,
}

/// The name of a Python policy class: its `name` attribute, or the class's name.
pub fn name(class: &Bound<'_, PyAny>) -> PyResult<String> {
    match class.getattr("name") {
        Ok(n) if !n.is_none() => n.extract(),
        _ => Ok(class.getattr("__name__")?.extract()?),
    }
}

impl<'py> PyPolicy<'py> {
    /// `class(frames)`.
    pub fn new(class: &Bound<'py, PyAny>, frames: usize) -> PyResult<Self> {
        Ok(PyPolicy {
            obj: class.call1((frames,))?,
            frames,
            resident: HashMap::new(),
            error: None,
            seen: 0,
        })
    }

    /// Simulates `refs` and returns the counts, or the first exception a hook raised.
    pub fn run(mut self, refs: &[(Page, bool)]) -> PyResult<Stats> {
        let stats = vmsim_core::replace::simulate(&mut self, refs.iter().copied());
        match self.error {
            Some(e) => Err(e),
            None => Ok(stats),
        }
    }

    fn hook(&mut self, method: &str, page: Page, write: bool) {
        if let Err(e) = self.obj.call_method1(method, (page, write)) {
            self.error = Some(e);
        }
    }

    fn victim(&mut self) -> Option<Evicted> {
        let v = match self
            .obj
            .call_method0("evict")
            .and_then(|v| v.extract::<Page>())
        {
            Ok(v) => v,
            Err(e) => {
                self.error = Some(e);
                return None;
            }
        };
        match self.resident.remove(&v) {
            Some(dirty) => Some(Evicted { page: v, dirty }),
            None => {
                let name = name(&self.obj.get_type().into_any()).unwrap_or_default();
                self.error = Some(
                    Failure::new(
                        Kind::Policy,
                        format!("policy {name} evicted page {v:#x}, which is not resident"),
                    )
                    .into(),
                );
                None
            }
        }
    }
}

impl Policy for PyPolicy<'_> {
    fn capacity(&self) -> usize {
        self.frames
    }

    fn len(&self) -> usize {
        self.resident.len()
    }

    fn contains(&self, page: Page) -> bool {
        self.resident.contains_key(&page)
    }

    fn access(&mut self, page: Page, write: bool) -> Outcome {
        if self.error.is_some() {
            return Outcome::Hit;
        }
        self.seen += 1;
        if self.seen.is_multiple_of(SIGNAL_EVERY) {
            if let Err(e) = self.obj.py().check_signals() {
                self.error = Some(e);
                return Outcome::Hit;
            }
        }
        if let Some(dirty) = self.resident.get_mut(&page) {
            *dirty |= write;
            self.hook("on_hit", page, write);
            return Outcome::Hit;
        }
        self.hook("on_miss", page, write);
        let evicted = if self.resident.len() >= self.frames {
            let v = self.victim();
            if v.is_none() {
                return Outcome::Hit;
            }
            v
        } else {
            None
        };
        self.resident.insert(page, write);
        self.hook("on_insert", page, write);
        Outcome::Miss { evicted }
    }

    fn remove(&mut self, page: Page) -> Option<Evicted> {
        self.resident
            .remove(&page)
            .map(|dirty| Evicted { page, dirty })
    }

    fn resident(&self, out: &mut Vec<Page>) {
        out.extend(self.resident.keys().copied());
    }
}
