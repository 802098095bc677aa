//! Long calls without the GIL, stoppable with Ctrl-C: the work runs on a scoped thread while
//! the calling thread, holding no GIL, wakes every 50 ms to let Python handle signals. On a
//! KeyboardInterrupt it raises the flag the work polls (once per batch or cell, never per
//! access), waits for the work to notice, and re-raises.
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// Whether the caller asked the work to stop.
pub struct Stop<'a>(&'a AtomicBool);

impl Stop<'_> {
    /// Whether to stop now.
    pub fn now(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Runs `work` without the GIL; a Python signal (Ctrl-C) raises its exception within 50 ms of
/// the work's next look at [`Stop`].
pub fn detached<T: Send>(py: Python<'_>, work: impl FnOnce(&Stop<'_>) -> T + Send) -> PyResult<T> {
    let flag = AtomicBool::new(false);
    let stop = Stop(&flag);
    std::thread::scope(|s| {
        let (tx, mut rx) = mpsc::channel();
        let stop = &stop;
        s.spawn(move || {
            let _ = tx.send(work(stop));
        });
        let mut interrupted: Option<PyErr> = None;
        loop {
            let (got, back) = py.allow_threads(move || {
                let got = rx.recv_timeout(Duration::from_millis(50));
                (got, rx)
            });
            rx = back;
            match got {
                Ok(v) => return interrupted.map_or(Ok(v), Err),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(interrupted.unwrap_or_else(|| {
                        pyo3::exceptions::PyRuntimeError::new_err("vmsim: the work thread died")
                    }))
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if interrupted.is_none() {
                        if let Err(e) = py.check_signals() {
                            flag.store(true, Ordering::Relaxed);
                            interrupted = Some(e);
                        }
                    }
                }
            }
        }
    })
}
