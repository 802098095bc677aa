//! Several replacement policies × cache sizes over one page stream: the engine behind
//! `vmsim policy`, `vmsim mrc --policy` and the Python binding's grid, so every face counts
//! with the same code. The stream is given as a slice, an iterator or batches from a reader,
//! read once: each batch is fed to every cell as it arrives (cells split across threads, the
//! batch shared), so memory is the cells' own state, flat in the trace's length, plus OPT's
//! look-ahead log ([`crate::opt_log`], 8⅛ bytes per reference) when an OPT cell is asked for.

use crate::opt_log::{LogFull, Lookahead, OptLog};
use serde::Serialize;
use thiserror::Error;
use vmsim_core::replace::{AnyPolicy, Page, PolicyKind, ReplaceError, Stats};

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
    /// OPT's look-ahead log is full.
    #[error(transparent)]
    LogFull(#[from] LogFull),
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

/// Frame counts up to this build their cell's policy as given; larger ones are first capped
/// here, beyond any footprint a 4-byte slot index can hold. Either way a policy evicts only
/// when memory is full, so any count at or above the footprint counts the same (see
/// [`vmsim_core::replace::frames_needed`], which bounds by the footprint when the whole trace
/// is at hand); the structures reserve a bounded amount up front and grow with the pages seen.
const FRAMES_CAP: usize = 1 << 30;

/// References handed to the cells at a time (16 MiB of them): each cell reloads its own state
/// into the cache once per batch, so a long batch keeps that cost small when many cells share
/// the trace (18 cells over 10 M references took 9.4 s of CPU with 64 Ki batches).
pub const BATCH: usize = 1 << 20;

/// One cell's running state.
#[derive(Debug)]
enum Run {
    /// A policy simulated as the batches come (boxed: policies differ in size).
    Live(Box<AnyPolicy>, Stats),
    /// OPT, simulated from the shared look-ahead log at the end.
    Opt,
}

/// A grid being fed: [`PolicyGrid::feed`] each batch of the stream in order, then
/// [`PolicyGrid::finish`].
#[derive(Debug)]
pub struct PolicyGrid {
    cells: Vec<Cell>,
    runs: Vec<Run>,
    opt: Option<OptLog>,
    accesses: u64,
    pool: Option<rayon::ThreadPool>,
}

impl PolicyGrid {
    /// A grid over `cells`; `seed` seeds randomised policies; `jobs` threads share the cells.
    pub fn new(cells: &[Cell], seed: u64, jobs: usize) -> Result<Self, GridError<Never>> {
        if cells.iter().any(|c| c.frames == 0) {
            return Err(ReplaceError::ZeroFrames.into());
        }
        let runs = cells
            .iter()
            .map(|c| match c.policy {
                PolicyKind::Opt => Ok(Run::Opt),
                k => Ok(Run::Live(
                    Box::new(AnyPolicy::new(k, c.frames.min(FRAMES_CAP), &[], seed)?),
                    Stats::default(),
                )),
            })
            .collect::<Result<Vec<_>, ReplaceError>>()?;
        let opt = runs.iter().any(|r| matches!(r, Run::Opt)).then(OptLog::new);
        let live = runs.iter().filter(|r| matches!(r, Run::Live(..))).count();
        let pool = if jobs > 1 && live > 1 {
            Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(jobs)
                    .build()
                    .map_err(|source| GridError::Threads { jobs, source })?,
            )
        } else {
            None
        };
        Ok(PolicyGrid {
            cells: cells.to_vec(),
            runs,
            opt,
            accesses: 0,
            pool,
        })
    }

    /// The next references of the stream, to every cell.
    pub fn feed(&mut self, refs: &[(Page, bool)]) -> Result<(), LogFull> {
        if let Some(log) = &mut self.opt {
            log.extend(refs)?;
        }
        self.accesses += refs.len() as u64;
        let step = |r: &mut Run| {
            if let Run::Live(p, s) = r {
                p.feed(refs, s);
            }
        };
        match &self.pool {
            Some(pool) => {
                use rayon::prelude::*;
                pool.install(|| self.runs.par_iter_mut().with_max_len(1).for_each(step))
            }
            None => self.runs.iter_mut().for_each(step),
        }
        Ok(())
    }

    /// The results, in the order of the cells (OPT cells simulated now, from the log).
    pub fn finish(self) -> GridResults {
        let look: Option<Lookahead> = self.opt.map(OptLog::finish);
        let opt_stats = |frames: usize| -> Stats {
            look.as_ref()
                .map(|l| l.simulate(frames))
                .unwrap_or_default()
        };
        let mut opt_cells: Vec<(usize, usize)> = Vec::new();
        let mut results: Vec<CellResult> = Vec::with_capacity(self.cells.len());
        for (i, (c, r)) in self.cells.iter().zip(self.runs).enumerate() {
            let s = match r {
                Run::Live(_, s) => s,
                Run::Opt => {
                    opt_cells.push((i, c.frames));
                    Stats::default()
                }
            };
            results.push(CellResult::new(*c, s));
        }
        let opt_results: Vec<(usize, Stats)> = match &self.pool {
            Some(pool) => {
                use rayon::prelude::*;
                pool.install(|| {
                    opt_cells
                        .par_iter()
                        .map(|&(i, f)| (i, opt_stats(f)))
                        .collect()
                })
            }
            None => opt_cells.iter().map(|&(i, f)| (i, opt_stats(f))).collect(),
        };
        for (i, s) in opt_results {
            results[i] = CellResult::new(self.cells[i], s);
        }
        GridResults {
            accesses: self.accesses,
            results,
        }
    }
}

/// Runs every cell over `refs` (page, is-write) on `jobs` threads; `results[i]` belongs to
/// `cells[i]` whatever the schedule.
pub fn run_refs(
    cells: &[Cell],
    refs: &[(Page, bool)],
    seed: u64,
    jobs: usize,
) -> Result<GridResults, GridError<Never>> {
    let mut grid = PolicyGrid::new(cells, seed, jobs)?;
    for chunk in refs.chunks(BATCH) {
        grid.feed(chunk)?;
    }
    Ok(grid.finish())
}

/// Runs every cell over `pages`, all of them reads.
pub fn run_pages(
    cells: &[Cell],
    pages: &[Page],
    seed: u64,
    jobs: usize,
) -> Result<GridResults, GridError<Never>> {
    run_iter(cells, seed, jobs, pages.iter().map(|&p| (p, false)))
}

/// Runs every cell over the batches `next` fills (it clears the buffer and fills it with up to
/// its capacity of references, returning how many, 0 at the end of the stream).
pub fn run_batches<E: std::error::Error + 'static>(
    cells: &[Cell],
    seed: u64,
    jobs: usize,
    mut next: impl FnMut(&mut Vec<(Page, bool)>) -> Result<usize, E>,
) -> Result<GridResults, GridError<E>> {
    let mut grid = PolicyGrid::new(cells, seed, jobs).map_err(GridError::widen)?;
    let mut buf = Vec::with_capacity(BATCH);
    while next(&mut buf).map_err(GridError::Source)? > 0 {
        grid.feed(&buf)?;
    }
    Ok(grid.finish())
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
        buf.extend(it.by_ref().take(BATCH));
        Ok(buf.len())
    })
}

impl GridError<Never> {
    /// The same error in a grid whose source can fail.
    fn widen<E: std::error::Error + 'static>(self) -> GridError<E> {
        match self {
            GridError::Policy(p) => GridError::Policy(p),
            GridError::LogFull(l) => GridError::LogFull(l),
            GridError::Threads { jobs, source } => GridError::Threads { jobs, source },
            GridError::Source(n) => match n {},
        }
    }
}
