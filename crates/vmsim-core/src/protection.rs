//! Access-rights checks as the processor makes them once a translation is known (Intel SDM
//! Vol. 3A §4.6): R/W, U/S, XD, CR0.WP, CR4.SMEP, CR4.SMAP and protection keys (CR4.PKE, PKRU).

use crate::access::{AccessKind, Privilege};
use crate::tlb::Rights;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Control-register bits that change how rights are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProtectionFeatures {
    /// CR0.WP: supervisor writes honour R/W (every modern OS sets it).
    pub wp: bool,
    /// CR4.SMEP: supervisor fetches from user pages fault.
    pub smep: bool,
    /// CR4.SMAP: supervisor data accesses to user pages fault (EFLAGS.AC = 0 assumed).
    pub smap: bool,
    /// CR4.PKE: protection keys apply to user pages, with rights from PKRU.
    pub pke: bool,
}

impl Default for ProtectionFeatures {
    fn default() -> Self {
        ProtectionFeatures {
            wp: true,
            smep: true,
            smap: true,
            pke: false,
        }
    }
}

/// Why an access to a present page was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtectionFault {
    /// Write to a page whose R/W is clear (for supervisor writes, only with CR0.WP).
    #[error("write to a read-only page")]
    ReadOnly,
    /// User-mode access to a supervisor page (U/S clear at some level).
    #[error("user-mode access to a supervisor page")]
    SupervisorPage,
    /// Instruction fetch from a page with XD set.
    #[error("instruction fetch from a no-execute page")]
    NoExecute,
    /// Supervisor fetch from a user page with CR4.SMEP set.
    #[error("supervisor fetch from a user page (SMEP)")]
    Smep,
    /// Supervisor data access to a user page with CR4.SMAP set.
    #[error("supervisor data access to a user page (SMAP)")]
    Smap,
    /// PKRU's access-disable bit for the page's key is set.
    #[error("protection key {0} disables access")]
    PkeyAccess(u8),
    /// PKRU's write-disable bit for the page's key is set.
    #[error("protection key {0} disables writes")]
    PkeyWrite(u8),
}

/// Checks an access of `kind` at privilege `privilege` against combined `rights`.
#[inline]
pub fn check(
    rights: Rights,
    kind: AccessKind,
    privilege: Privilege,
    f: ProtectionFeatures,
    pkru: u32,
) -> Result<(), ProtectionFault> {
    let user = privilege == Privilege::User;
    match kind {
        AccessKind::Fetch => {
            if user && !rights.user {
                return Err(ProtectionFault::SupervisorPage);
            }
            if !user && rights.user && f.smep {
                return Err(ProtectionFault::Smep);
            }
            if rights.no_execute {
                return Err(ProtectionFault::NoExecute);
            }
            // Protection keys do not apply to instruction fetches (§4.6.2).
            Ok(())
        }
        AccessKind::Read | AccessKind::Write => {
            let write = kind == AccessKind::Write;
            if user && !rights.user {
                return Err(ProtectionFault::SupervisorPage);
            }
            if !user && rights.user && f.smap {
                return Err(ProtectionFault::Smap);
            }
            if write && !rights.writable && (user || f.wp) {
                return Err(ProtectionFault::ReadOnly);
            }
            if f.pke && rights.user {
                let k = rights.pkey & 0xf;
                let bits = pkru >> (2 * k as u32);
                if bits & 1 != 0 {
                    return Err(ProtectionFault::PkeyAccess(k));
                }
                if write && bits & 2 != 0 && (user || f.wp) {
                    return Err(ProtectionFault::PkeyWrite(k));
                }
            }
            Ok(())
        }
    }
}

/// [`check`]'s answers for one privilege, feature set and PKRU, precomputed for the rights
/// that decide them, so the per-access path tests a bit instead of walking the rules. Only
/// R/W, U/S and XD are tabulated: with protection keys on, the key matters too, and every
/// access takes the full check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permits {
    /// Per access kind, bit `w | u << 1 | nx << 2` set when those rights allow it.
    allowed: [u8; 3],
}

impl Permits {
    /// The table for accesses at `privilege` under `f` and `pkru`.
    pub fn new(privilege: Privilege, f: ProtectionFeatures, pkru: u32) -> Self {
        let mut allowed = [0u8; 3];
        if !f.pke {
            for kind in [AccessKind::Read, AccessKind::Write, AccessKind::Fetch] {
                for bits in 0..8u8 {
                    let r = Rights {
                        writable: bits & 1 != 0,
                        user: bits & 2 != 0,
                        no_execute: bits & 4 != 0,
                        dirty: false,
                        pkey: 0,
                    };
                    if check(r, kind, privilege, f, pkru).is_ok() {
                        allowed[kind.index()] |= 1 << bits;
                    }
                }
            }
        }
        Permits { allowed }
    }

    /// Whether the table alone says `rights` allow an access of `kind` (false: ask [`check`]).
    #[inline(always)]
    pub fn allows(&self, rights: Rights, kind: AccessKind) -> bool {
        let bits = u8::from(rights.writable)
            | u8::from(rights.user) << 1
            | u8::from(rights.no_execute) << 2;
        self.allowed[kind.index()] >> bits & 1 != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(writable: bool, user: bool, nx: bool) -> Rights {
        Rights {
            writable,
            user,
            no_execute: nx,
            dirty: false,
            pkey: 0,
        }
    }

    #[test]
    fn user_checks() {
        let f = ProtectionFeatures::default();
        let u = Privilege::User;
        assert_eq!(
            check(r(true, true, false), AccessKind::Write, u, f, 0),
            Ok(())
        );
        assert_eq!(
            check(r(false, true, false), AccessKind::Write, u, f, 0),
            Err(ProtectionFault::ReadOnly)
        );
        assert_eq!(
            check(r(true, false, false), AccessKind::Read, u, f, 0),
            Err(ProtectionFault::SupervisorPage)
        );
        assert_eq!(
            check(r(true, true, true), AccessKind::Fetch, u, f, 0),
            Err(ProtectionFault::NoExecute)
        );
        assert_eq!(
            check(r(true, true, true), AccessKind::Read, u, f, 0),
            Ok(())
        );
    }

    #[test]
    fn supervisor_checks() {
        let s = Privilege::Supervisor;
        let mut f = ProtectionFeatures::default();
        assert_eq!(
            check(r(true, true, false), AccessKind::Fetch, s, f, 0),
            Err(ProtectionFault::Smep)
        );
        assert_eq!(
            check(r(true, true, false), AccessKind::Read, s, f, 0),
            Err(ProtectionFault::Smap)
        );
        assert_eq!(
            check(r(false, false, false), AccessKind::Write, s, f, 0),
            Err(ProtectionFault::ReadOnly)
        );
        f.wp = false;
        f.smap = false;
        f.smep = false;
        assert_eq!(
            check(r(false, false, false), AccessKind::Write, s, f, 0),
            Ok(())
        );
        assert_eq!(
            check(r(false, true, false), AccessKind::Write, s, f, 0),
            Ok(())
        );
        assert_eq!(
            check(r(true, true, false), AccessKind::Fetch, s, f, 0),
            Ok(())
        );
    }

    #[test]
    fn protection_keys() {
        let f = ProtectionFeatures {
            pke: true,
            ..Default::default()
        };
        let mut rt = r(true, true, false);
        rt.pkey = 3;
        let ad = 1 << 6;
        let wd = 2 << 6;
        let u = Privilege::User;
        assert_eq!(
            check(rt, AccessKind::Read, u, f, ad),
            Err(ProtectionFault::PkeyAccess(3))
        );
        assert_eq!(check(rt, AccessKind::Read, u, f, wd), Ok(()));
        assert_eq!(
            check(rt, AccessKind::Write, u, f, wd),
            Err(ProtectionFault::PkeyWrite(3))
        );
        // Fetches ignore keys; supervisor pages ignore keys.
        assert_eq!(check(rt, AccessKind::Fetch, u, f, ad), Ok(()));
        let sup = r(true, false, false);
        assert_eq!(
            check(sup, AccessKind::Read, Privilege::Supervisor, f, ad),
            Ok(())
        );
    }

    /// The table answers exactly as the rules for every privilege, feature set, kind and
    /// rights (it may only defer, and defers only when protection keys are on).
    #[test]
    fn permits_table_agrees_with_check() {
        for fbits in 0..16u8 {
            let f = ProtectionFeatures {
                wp: fbits & 1 != 0,
                smep: fbits & 2 != 0,
                smap: fbits & 4 != 0,
                pke: fbits & 8 != 0,
            };
            for privilege in [Privilege::User, Privilege::Supervisor] {
                let t = Permits::new(privilege, f, 0b0100);
                for kind in [AccessKind::Read, AccessKind::Write, AccessKind::Fetch] {
                    for bits in 0..64u8 {
                        let rights = Rights {
                            writable: bits & 1 != 0,
                            user: bits & 2 != 0,
                            no_execute: bits & 4 != 0,
                            dirty: bits & 8 != 0,
                            pkey: bits >> 4,
                        };
                        let ok = check(rights, kind, privilege, f, 0b0100).is_ok();
                        if f.pke {
                            assert!(!t.allows(rights, kind));
                        } else {
                            assert_eq!(
                                t.allows(rights, kind),
                                ok,
                                "{f:?} {privilege:?} {kind:?} {rights:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}
