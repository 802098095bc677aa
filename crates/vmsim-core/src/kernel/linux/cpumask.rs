//! The set of CPUs a process has run on, as include/linux/cpumask.h's `cpumask_t` serves
//! `mm_cpumask`: one bit per CPU, so a shootdown visits exactly the CPUs whose TLBs may hold the
//! process's translations.
//!
//! The mask is a fixed array covering [`MAX_CPUS`] (32 bytes): it is set on a context switch and
//! read on a shootdown, never allocates, and needs no CPU count to be built. A bit per CPU number
//! (not per number modulo 64) keeps CPU 64 from aliasing CPU 0.

use crate::config::MAX_CPUS;

const WORDS: usize = (MAX_CPUS as usize).div_ceil(64);

/// CPUs by number, `0..MAX_CPUS`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct CpuMask([u64; WORDS]);

impl CpuMask {
    /// Adds `cpu`. A machine has at most [`MAX_CPUS`] CPUs (the configuration refuses more), so
    /// a larger number is a bug and panics.
    pub(super) fn set(&mut self, cpu: usize) {
        self.0[cpu / 64] |= 1 << (cpu % 64);
    }

    /// Whether `cpu` is in the set.
    #[cfg(test)]
    fn contains(&self, cpu: usize) -> bool {
        self.0
            .get(cpu / 64)
            .is_some_and(|w| w & (1 << (cpu % 64)) != 0)
    }

    /// The CPUs in the set, in increasing order.
    pub(super) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &w)| {
            let mut rest = w;
            std::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let bit = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                Some(i * 64 + bit)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpus_64_apart_are_distinct() {
        let mut m = CpuMask::default();
        m.set(64);
        assert!(m.contains(64));
        assert!(!m.contains(0));
        m.set(0);
        m.set(255);
        m.set(3);
        assert_eq!(m.iter().collect::<Vec<_>>(), [0, 3, 64, 255]);
        assert!(!m.contains(256));
    }
}
