//! The machines the server holds: one per session, named by a random 128-bit id (from the
//! operating system's generator, so one session cannot guess another's), at most
//! [`Limits::max_machines`] of them, each dropped once nobody touched it for
//! [`Limits::idle`]. A machine is locked while one request uses it; the table is locked only to
//! find, add or drop one.
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use vmsim_sim::Explainer;

/// The bounds a server keeps.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Machines held at once.
    pub max_machines: usize,
    /// How long a machine nobody touches is kept.
    pub idle: Duration,
    /// The largest request body accepted, in bytes.
    pub max_body: usize,
    /// The most TLB and page-walk-cache entries a machine may have over all its CPUs (what a
    /// pasted configuration could otherwise make the server allocate).
    pub max_cached_entries: u64,
}

impl Default for Limits {
    /// 64 machines, 30 minutes, 64 KiB bodies, 2^20 cached entries per machine.
    fn default() -> Limits {
        Limits {
            max_machines: 64,
            idle: Duration::from_secs(30 * 60),
            max_body: 64 * 1024,
            max_cached_entries: 1 << 20,
        }
    }
}

/// One session's machine.
pub struct Session {
    /// The machine and its configuration.
    pub explainer: Explainer,
    /// The processes its accesses named, in order of pid.
    pub pids: BTreeSet<u32>,
    touched: Instant,
}

/// The table of sessions.
pub struct Sessions {
    limits: Limits,
    table: Mutex<HashMap<String, Arc<Mutex<Session>>>>,
}

/// Why a machine could not be added.
#[derive(Debug)]
pub struct Full(pub usize);

impl Sessions {
    /// No machines yet.
    pub fn new(limits: Limits) -> Sessions {
        Sessions {
            limits,
            table: Mutex::new(HashMap::new()),
        }
    }

    /// The bounds.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn table(&self) -> MutexGuard<'_, HashMap<String, Arc<Mutex<Session>>>> {
        // A worker that panicked left the table whole (it is only inserted into and removed
        // from), so a poisoned lock is taken as it is.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sweep(&self, table: &mut HashMap<String, Arc<Mutex<Session>>>) {
        let now = Instant::now();
        let idle = self.limits.idle;
        table.retain(|_, s| match s.try_lock() {
            Ok(s) => now.duration_since(s.touched) < idle,
            // In use right now: touched.
            Err(_) => true,
        });
    }

    /// Adds `explainer` under a new id, after dropping the idle machines.
    pub fn add(&self, explainer: Explainer) -> Result<String, Full> {
        let mut table = self.table();
        self.sweep(&mut table);
        if table.len() >= self.limits.max_machines {
            return Err(Full(self.limits.max_machines));
        }
        let id = loop {
            let id = new_id();
            if !table.contains_key(&id) {
                break id;
            }
        };
        let s = Session {
            explainer,
            pids: BTreeSet::new(),
            touched: Instant::now(),
        };
        table.insert(id.clone(), Arc::new(Mutex::new(s)));
        Ok(id)
    }

    /// Runs `f` on the machine `id`, which counts as touched; `None` if there is none (never
    /// was, or dropped as idle).
    pub fn with<R>(&self, id: &str, f: impl FnOnce(&mut Session) -> R) -> Option<R> {
        let s = {
            let mut table = self.table();
            self.sweep(&mut table);
            table.get(id)?.clone()
        };
        let mut s = s.lock().unwrap_or_else(|p| p.into_inner());
        s.touched = Instant::now();
        Some(f(&mut s))
    }

    /// Drops the machine `id`; whether there was one.
    pub fn remove(&self, id: &str) -> bool {
        self.table().remove(id).is_some()
    }

    /// Machines held now (after dropping the idle ones).
    pub fn len(&self) -> usize {
        let mut table = self.table();
        self.sweep(&mut table);
        table.len()
    }

    /// Whether no machine is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// 128 random bits from the operating system, in hex.
fn new_id() -> String {
    let mut b = [0u8; 16];
    // Without the system's generator no id could be unguessable: refuse to go on.
    getrandom::getrandom(&mut b).expect("the operating system's random generator");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmsim_core::config::MachineConfig;

    fn machine() -> Explainer {
        Explainer::new(MachineConfig::preset("teaching").unwrap()).unwrap()
    }

    #[test]
    fn bounded_idle_dropped_ids_random() {
        let s = Sessions::new(Limits {
            max_machines: 2,
            idle: Duration::from_millis(200),
            ..Limits::default()
        });
        let a = s.add(machine()).unwrap();
        let b = s.add(machine()).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(s.add(machine()).is_err());
        assert!(s.with(&a, |_| ()).is_some());
        assert!(s.with("0123", |_| ()).is_none());
        std::thread::sleep(Duration::from_millis(250));
        assert!(s.with(&a, |_| ()).is_none(), "idle machines are dropped");
        assert!(s.is_empty());
        let c = s.add(machine()).unwrap();
        assert!(s.remove(&c));
        assert!(!s.remove(&c));
    }
}
