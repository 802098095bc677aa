//! What a machine holds right now, as JSON: the TLBs of CPU 0 (the CPU explained accesses run
//! on) entry by entry, CR3, the page-table pages per level and the processes. Read from the
//! machine, never kept beside it; the web explorer's state and Python's `Machine` show it.
use crate::{with_machine, Explainer};
use serde_json::{json, Value};
use vmsim_core::event::TlbLevel;
use vmsim_core::kernel::Kernel;
use vmsim_core::machine::Machine;
use vmsim_core::radix::Geometry;
use vmsim_core::tlb::Tlb;

/// The state document of `ex`'s machine (`machine` is its name).
pub fn state(ex: &Explainer) -> Value {
    let geom = *ex.geometry();
    let mut v = with_machine!(ex.machine(), m => of_machine(m, &geom));
    v["machine"] = json!(ex.config().name);
    v
}

fn of_machine<K: Kernel>(m: &Machine<K>, geom: &Geometry) -> Value {
    let cpu = &m.cpus()[0];
    let tlbs: Vec<Value> = TlbLevel::ALL
        .iter()
        .filter_map(|&l| cpu.tlb(l).map(|t| tlb(l, t)))
        .collect();
    let pages = m.table_pages();
    let mut levels = Vec::new();
    let mut level = Some(geom.top());
    while let Some(l) = level {
        let name = crate::narrate::table_name(geom, l);
        levels.push(json!({
            "level": l.number(),
            "name": name,
            "pages": pages[usize::from(l.number()) - 1],
        }));
        level = l.next_lower();
    }
    json!({
        "cpu": 0,
        "cr3": cpu.cr3().map(|(root, pcid)| json!({
            "root": format!("{:#x}", root.0),
            "pcid": pcid.get(),
        })),
        "tlbs": tlbs,
        "page_tables": {
            "levels": levels,
            "total": pages.iter().sum::<u64>(),
        },
        "processes": m.kernel().processes(),
        "frames_in_use": m.mem().frames_in_use(),
    })
}

/// One TLB level: its capacity and its valid entries, pages in ascending order.
fn tlb(level: TlbLevel, t: &Tlb) -> Value {
    let mut entries: Vec<_> = t.iter().collect();
    entries.sort_by_key(|e| (e.vpn.base(e.size).as_u64(), e.pcid));
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|e| {
            json!({
                "page": format!("{:#x}", e.vpn.base(e.size).as_u64()),
                "frame": format!("{:#x}", e.pfn.0),
                "size": e.size.name(),
                "pcid": e.pcid.get(),
                "global": e.global,
                "writable": e.rights.writable,
                "user": e.rights.user,
                "no_execute": e.rights.no_execute,
                "dirty": e.rights.dirty,
            })
        })
        .collect();
    json!({
        "level": level.key(),
        "capacity": t.capacity(),
        "len": entries.len(),
        "entries": entries,
    })
}
