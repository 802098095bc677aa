//! One CPU's caches for the host dimension of a nested walk, and the host translation of one
//! guest-physical address through them: a nested TLB (gPA→hPA for a whole host page, as the
//! combined TLB holds gVA→hPA) and host page-walk caches that let an EPT walk skip upper levels.
//! Both reuse the machine's own mechanisms ([`Tlb`], [`Pwc`]) keyed by guest-physical address:
//! they only compare page numbers and tags, whatever the address space. The VPID is the tag.
//!
//! A walk that meets a missing EPT entry is an EPT violation: the VM exits, the host backs the
//! page ([`HostMemory::back`]) and the guest re-executes the access, whose walk starts again
//! (the reads before the exit are counted).

use super::ept::{EptRead, EptWalk};
use super::{HostMemory, VirtStats, VmExit};
use crate::addr::{PageSize, Pfn, VirtAddr};
use crate::pte::Level;
use crate::pwc::{Pwc, PwcConfig};
use crate::radix::ALL_RIGHTS;
use crate::tlb::{Pcid, Replacement, Rights, Tlb, TlbArrayConfig, TlbConfig, TlbEntry, TlbLookup};

/// The VPID of the one VM modelled (VPID 0 is the host's, SDM Vol. 3C §29.1).
pub const GUEST_VPID: Pcid = match Pcid::try_new(1) {
    Some(p) => p,
    None => Pcid::ZERO,
};

/// A CPU's nested TLB and host page-walk caches.
#[derive(Debug, Clone)]
pub struct HostCaches {
    tlb: Option<Tlb>,
    pwc: Pwc,
}

impl HostCaches {
    /// A nested TLB of `entries` (0: none) and host PWCs sized by `pwc`.
    pub fn new(entries: u32, pwc: &PwcConfig) -> HostCaches {
        let tlb = (entries > 0)
            .then(|| TlbConfig {
                arrays: vec![TlbArrayConfig {
                    sets: 1,
                    ways: entries,
                    page_sizes: vec![PageSize::SIZE_4K, PageSize::SIZE_2M, PageSize::SIZE_1G],
                    replacement: Replacement::Lru,
                }],
            })
            .and_then(|c| Tlb::new(&c, 0).ok());
        HostCaches {
            tlb,
            pwc: Pwc::new(pwc),
        }
    }

    /// Drops every cached host translation (the host changed its EPT).
    pub fn flush(&mut self) {
        if let Some(t) = &mut self.tlb {
            t.invpcid(crate::tlb::Invpcid::All);
        }
        self.pwc.invalidate_all();
    }

    /// The host frame holding guest-physical `gpa`'s 4 KiB page and the host page size, found
    /// through the nested TLB, else the host PWCs and an EPT walk. `on_read` sees every EPT
    /// entry read. A missing entry is an EPT violation: the host backs the page and the answer
    /// is [`VmExit`], after which the guest re-executes. `Ok(None)` only when the host cannot
    /// back the page (an address outside the guest's memory).
    pub fn translate(
        &mut self,
        host: &mut HostMemory,
        stats: &mut VirtStats,
        gpa: u64,
        write: bool,
        mut on_read: impl FnMut(&EptRead),
    ) -> Result<Option<(Pfn, PageSize)>, VmExit> {
        let key = VirtAddr::new_unchecked(gpa);
        if let Some(t) = &mut self.tlb {
            if let TlbLookup::Hit(h) = t.lookup(key, GUEST_VPID) {
                stats.nested_tlb_hits += 1;
                let e = h.entry;
                return Ok(Some((Pfn(e.pfn.0 + ((gpa & e.size.mask()) >> 12)), e.size)));
            }
        }
        stats.host_walks += 1;
        let top = host.eptp().top;
        {
            let (mut table, mut level) = (host.eptp().root, top);
            if self.pwc.is_enabled() {
                if let Some(h) = self.pwc.lookup(key, GUEST_VPID, top) {
                    stats.host_pwc_hits += 1;
                    table = h.next_table;
                    level = h.level.next_lower().unwrap_or(Level::Pt);
                }
            }
            let mut upper = [None; 5];
            let walked = host.walk(gpa, table, level, write, |r| {
                stats.host_walk_refs += 1;
                stats.host_walk_refs_by_level[r.level.index()] += 1;
                if r.entry.present() && !r.entry.is_leaf(r.level) {
                    upper[r.level.index()] = Some(r.entry.frame());
                }
                on_read(r);
            });
            for (i, next) in upper.iter().enumerate() {
                if let (Some(next), Some(l)) = (next, Level::from_number(i as u8 + 1)) {
                    self.pwc.fill(l, key, GUEST_VPID, *next, ALL_RIGHTS);
                }
            }
            match walked {
                EptWalk::Mapped { frame, size } => {
                    if let Some(t) = &mut self.tlb {
                        t.fill(TlbEntry {
                            vpn: key.vpn(size),
                            size,
                            pcid: GUEST_VPID,
                            global: false,
                            pfn: frame,
                            rights: Rights {
                                dirty: true,
                                ..ALL_RIGHTS
                            },
                        });
                    }
                    Ok(Some((Pfn(frame.0 + ((gpa & size.mask()) >> 12)), size)))
                }
                EptWalk::Violation { .. } => {
                    stats.ept_violations += 1;
                    stats.vm_exits += 1;
                    if host.back(gpa) {
                        Err(VmExit)
                    } else {
                        Ok(None)
                    }
                }
            }
        }
    }
}
