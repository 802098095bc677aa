//! Several replacement policies × cache sizes over one page stream: the engine behind
//! `vmsim policy`, `vmsim mrc --policy` and the Python binding's grid, so every face counts
//! with the same code. The stream is given as a slice, an iterator or batches from a reader;
//! batches are fed to every cell as they arrive, so nothing but OPT's look-ahead grows with the
//! trace's length.

use serde::Serialize;
use thiserror::Error;
use vmsim_core::replace::{simulate_kind, Page, PolicyKind, ReplaceError, Stats};

/// One cell of the grid: a policy with a number of frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// The replacement policy.
    pub policy: PolicyKind,
    /// Frames (at least 1; any larger count than the trace's footprint behaves as the
    /// footprint).
    pub frames: usize,
}

impl Cell {
    /// Every policy × every frame count, policies outermost (the order results come in).
    pub fn grid(policies: &[PolicyKind], frames: &[usize]) -> Vec<Cell> {
        policies
            .iter()
            .flat_map(|&policy| frames.iter().map(move |&frames| Cell { policy, frames }))
            .collect()
    }
}

/// What one cell counted; serialises with the fields of `vmsim policy --json`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CellResult {
    /// The policy's command-line name.
    #[serde(serialize_with = "policy_name")]
    pub policy: PolicyKind,
    /// Frames asked for.
    pub frames: usize,
    /// References that found their page resident.
    pub hits: u64,
    /// References that did not.
    pub misses: u64,
    /// Misses per reference.
    pub miss_ratio: f64,
    /// Misses that evicted a page.
    pub evictions: u64,
    /// Evictions of dirty pages (writebacks).
    pub dirty_evictions: u64,
}

fn policy_name<S: serde::Serializer>(p: &PolicyKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(p.name())
}

impl CellResult {
    fn new(cell: Cell, s: Stats) -> Self {
        CellResult {
            policy: cell.policy,
            frames: cell.frames,
            hits: s.hits,
            misses: s.misses,
            miss_ratio: s.miss_ratio(),
            evictions: s.evictions,
            dirty_evictions: s.dirty_evictions,
        }
    }

    /// The counts as [`Stats`].
    pub fn stats(&self) -> Stats {
        Stats {
            hits: self.hits,
            misses: self.misses,
            evictions: self.evictions,
            dirty_evictions: self.dirty_evictions,
        }
    }
}

/// A whole grid's results, in the order of its cells.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridResults {
    /// References in the stream.
    pub accesses: u64,
    /// One result per cell.
    pub results: Vec<CellResult>,
}

/// Running a grid failed.
#[derive(Debug, Error)]
pub enum GridError<E: std::error::Error + 'static> {
    /// A cell could not be built.
    #[error(transparent)]
    Policy(#[from] ReplaceError),
    /// The worker threads could not be started.
    #[error("cannot start {jobs} worker threads: {source}")]
    Threads {
        /// Threads asked for.
        jobs: usize,
        /// Why not.
        source: rayon::ThreadPoolBuildError,
    },
    /// The stream could not be read.
    #[error(transparent)]
    Source(E),
}

/// No error: the stream is in memory.
#[derive(Debug, Error)]
#[error("unreachable")]
pub enum Never {}

fn pool<E: std::error::Error>(jobs: usize) -> Result<rayon::ThreadPool, GridError<E>> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .map_err(|source| GridError::Threads { jobs, source })
}

/// Runs every cell over `refs` (page, is-write) on `jobs` threads; `results[i]` belongs to
/// `cells[i]` whatever the schedule.
pub fn run_refs(
    cells: &[Cell],
    refs: &[(Page, bool)],
    seed: u64,
    jobs: usize,
) -> Result<GridResults, GridError<Never>> {
    use rayon::prelude::*;
    let stats: Result<Vec<Stats>, ReplaceError> = pool(jobs)?.install(|| {
        cells
            .par_iter()
            .map(|c| simulate_kind(c.policy, c.frames, refs, seed))
            .collect()
    });
    Ok(GridResults {
        accesses: refs.len() as u64,
        results: cells
            .iter()
            .zip(stats?)
            .map(|(&c, s)| CellResult::new(c, s))
            .collect(),
    })
}

/// Runs every cell over `pages`, all of them reads.
pub fn run_pages(
    cells: &[Cell],
    pages: &[Page],
    seed: u64,
    jobs: usize,
) -> Result<GridResults, GridError<Never>> {
    let refs: Vec<(Page, bool)> = pages.iter().map(|&p| (p, false)).collect();
    run_refs(cells, &refs, seed, jobs)
}

/// Runs every cell over the batches `next` fills (it clears and fills the buffer, returning how
/// many references it put there, 0 at the end of the stream).
pub fn run_batches<E: std::error::Error + 'static>(
    cells: &[Cell],
    seed: u64,
    jobs: usize,
    mut next: impl FnMut(&mut Vec<(Page, bool)>) -> Result<usize, E>,
) -> Result<GridResults, GridError<E>> {
    let mut refs = Vec::new();
    let mut buf = Vec::with_capacity(1 << 14);
    while next(&mut buf).map_err(GridError::Source)? > 0 {
        refs.extend_from_slice(&buf);
    }
    run_refs(cells, &refs, seed, jobs).map_err(|e| match e {
        GridError::Policy(p) => GridError::Policy(p),
        GridError::Threads { jobs, source } => GridError::Threads { jobs, source },
        GridError::Source(n) => match n {},
    })
}

/// Runs every cell over an iterator of (page, is-write).
pub fn run_iter(
    cells: &[Cell],
    seed: u64,
    jobs: usize,
    refs: impl IntoIterator<Item = (Page, bool)>,
) -> Result<GridResults, GridError<Never>> {
    let mut it = refs.into_iter();
    run_batches(cells, seed, jobs, |buf| {
        buf.clear();
        buf.extend(it.by_ref().take(1 << 14));
        Ok(buf.len())
    })
}
