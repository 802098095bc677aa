//! The `trace` argument every function takes: nothing (the built-in trace), a path to a trace
//! file in any format vmsim reads, or a numpy array of page numbers or addresses (`uint64`,
//! which `vmsim/__init__.py` makes of any integer array; read in place, never copied by numpy).
use crate::errors::Failure;
use crate::interrupt::Stop;
use numpy::{PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::prelude::*;
use std::path::PathBuf;
use vmsim_core::{AccessKind, PageSize};
use vmsim_trace::{Format, Record, TraceReader};

/// How the numbers of an array are meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Page numbers (what `vmsim.gen` returns).
    Page,
    /// Byte addresses.
    Address,
}

impl Unit {
    /// Parses `"page"` or `"address"`.
    pub fn parse(s: &str) -> Result<Unit, Failure> {
        match s {
            "page" | "pages" => Ok(Unit::Page),
            "address" | "addresses" => Ok(Unit::Address),
            _ => Err(Failure::usage(format!(
                "unit: `{s}` is not a unit (expected page or address)"
            ))),
        }
    }
}

/// The name reports give an array.
pub const ARRAY_NAME: &str = "<array>";

/// A trace as the caller gave it, with the array borrowed from numpy.
pub enum TraceArg<'py> {
    /// The built-in trace.
    Builtin,
    /// A file.
    File(PathBuf),
    /// Numbers in memory.
    Array(PyReadonlyArray1<'py, u64>, Unit),
}

/// The trace's contents, free of Python, for work without the GIL.
pub enum Source<'a> {
    /// The built-in trace.
    Builtin,
    /// A file.
    File(&'a PathBuf),
    /// Numbers in memory.
    Array(&'a [u64], Unit),
}

impl<'py> TraceArg<'py> {
    /// Reads the argument: `None`, a path (`str` or `os.PathLike`) or a 1-d `uint64` array.
    pub fn extract(trace: Option<&Bound<'py, PyAny>>, unit: &str) -> PyResult<TraceArg<'py>> {
        let unit = Unit::parse(unit)?;
        let Some(t) = trace else {
            return Ok(TraceArg::Builtin);
        };
        if let Ok(a) = t.extract::<PyReadonlyArray1<'py, u64>>() {
            if !a.is_c_contiguous() {
                return Err(Failure::usage("trace: the array must be contiguous").into());
            }
            return Ok(TraceArg::Array(a, unit));
        }
        match t.extract::<PathBuf>() {
            Ok(p) => Ok(TraceArg::File(p)),
            Err(_) => Err(Failure::usage(format!(
                "trace: expected a path or a 1-d integer array, not {}",
                t.get_type().name()?
            ))
            .into()),
        }
    }

    /// The trace's contents, to hand to work without the GIL.
    pub fn source(&self) -> Source<'_> {
        match self {
            TraceArg::Builtin => Source::Builtin,
            TraceArg::File(p) => Source::File(p),
            TraceArg::Array(a, u) => Source::Array(a.as_slice().expect("contiguous"), *u),
        }
    }
}

impl Source<'_> {
    /// The trace's name in reports.
    pub fn name(&self) -> String {
        match self {
            Source::Builtin => vmsim_sim::builtin_trace::NAME.to_string(),
            Source::File(p) => p.display().to_string(),
            Source::Array(..) => ARRAY_NAME.to_string(),
        }
    }

    /// A reader of a file or the built-in trace (`None` for an array).
    pub fn reader(&self, format: Option<Format>) -> Result<Option<TraceReader>, Failure> {
        Ok(match self {
            Source::Builtin => Some(vmsim_sim::builtin_trace::open(format)?),
            Source::File(p) => Some(TraceReader::open(p, format)?),
            Source::Array(..) => None,
        })
    }

    /// The page stream at `size` pages, as (page, write) pairs, and the trace's name; an empty
    /// stream is an error, as in the CLI. Stops early (returning what it read) when told to.
    pub fn pages(
        &self,
        format: Option<Format>,
        size: PageSize,
        stop: &Stop<'_>,
    ) -> Result<(Vec<(u64, bool)>, String), Failure> {
        let name = self.name();
        let refs: Vec<(u64, bool)> = match (self, self.reader(format)?) {
            (Source::Array(a, unit), _) => {
                let shift = size.shift();
                match unit {
                    Unit::Page => a.iter().map(|&p| (p, false)).collect(),
                    Unit::Address => a.iter().map(|&x| (x >> shift, false)).collect(),
                }
            }
            (_, Some(mut reader)) => {
                let mut buf = Vec::with_capacity(1 << 14);
                let mut refs = Vec::new();
                while !stop.now() && reader.read_pages(size, &mut buf)? > 0 {
                    refs.extend_from_slice(&buf);
                }
                refs
            }
            (_, None) => unreachable!("a file or the built-in trace has a reader"),
        };
        if refs.is_empty() && !stop.now() {
            return Err(Failure::new(
                crate::errors::Kind::Trace,
                format!("{name}: the trace holds no accesses"),
            ));
        }
        Ok((refs, name))
    }

    /// Hands the page stream to `each` in batches of at most `batch` references, without
    /// holding it whole; returns how many there were (an empty stream is an error, as in the
    /// CLI). Stops early when told to.
    pub fn for_each_batch(
        &self,
        format: Option<Format>,
        size: PageSize,
        batch: usize,
        stop: &Stop<'_>,
        mut each: impl FnMut(&[(u64, bool)]) -> Result<(), Failure>,
    ) -> Result<u64, Failure> {
        let mut buf: Vec<(u64, bool)> = Vec::with_capacity(batch);
        let mut n = 0u64;
        match (self, self.reader(format)?) {
            (Source::Array(a, unit), _) => {
                let shift = match unit {
                    Unit::Page => 0,
                    Unit::Address => size.shift(),
                };
                for chunk in a.chunks(batch) {
                    if stop.now() {
                        break;
                    }
                    buf.clear();
                    buf.extend(chunk.iter().map(|&x| (x >> shift, false)));
                    n += buf.len() as u64;
                    each(&buf)?;
                }
            }
            (_, Some(mut reader)) => {
                while !stop.now() && reader.read_pages(size, &mut buf)? > 0 {
                    n += buf.len() as u64;
                    each(&buf)?;
                }
            }
            (_, None) => unreachable!("a file or the built-in trace has a reader"),
        }
        if n == 0 && !stop.now() {
            return Err(Failure::new(
                crate::errors::Kind::Trace,
                format!("{}: the trace holds no accesses", self.name()),
            ));
        }
        Ok(n)
    }

    /// The array's numbers as one-byte reads by process 1 on CPU 0 (page numbers at the first
    /// byte of their `size` page); `None` for a file or the built-in trace.
    pub fn records(&self, size: PageSize) -> Result<Option<Vec<Record>>, Failure> {
        let Source::Array(a, unit) = self else {
            return Ok(None);
        };
        let shift = size.shift();
        a.iter()
            .enumerate()
            .map(|(i, &x)| {
                let addr = match unit {
                    Unit::Address => x,
                    Unit::Page => x
                        .checked_shl(shift)
                        .filter(|&y| y >> shift == x)
                        .ok_or_else(|| {
                            Failure::usage(format!(
                                "trace: element {i}: page {x:#x} is beyond 64-bit addresses at this page size"
                            ))
                        })?,
                };
                Ok(Record::new(AccessKind::Read, addr))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

/// Parses a format name (`None` detects it from the content).
pub fn format(name: Option<&str>) -> Result<Option<Format>, Failure> {
    name.map(|n| {
        n.parse::<Format>()
            .map_err(|e| Failure::usage(format!("format: {e}")))
    })
    .transpose()
}

/// Parses a page size given as text (`"4K"`) or bytes.
pub fn page_size(v: Option<&Bound<'_, PyAny>>) -> PyResult<Option<PageSize>> {
    let Some(v) = v else { return Ok(None) };
    let parsed = if let Ok(n) = v.extract::<u64>() {
        PageSize::try_from_bytes(n).map_err(|e| e.to_string())
    } else {
        v.extract::<String>()?.parse::<PageSize>()
    };
    parsed
        .map(Some)
        .map_err(|e| Failure::usage(format!("page_size: {e}")).into())
}

/// Parses a byte count given as text (`"64M"`) or a number.
pub fn bytes(flag: &str, v: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u64>> {
    let Some(v) = v else { return Ok(None) };
    if let Ok(n) = v.extract::<u64>() {
        return Ok(Some(n));
    }
    vmsim_core::units::parse_bytes(&v.extract::<String>()?)
        .map(Some)
        .map_err(|e| Failure::usage(format!("{flag}: {e}")).into())
}
