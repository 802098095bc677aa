//! The data TLBs this processor reports through CPUID: on AMD, leaves 0x80000005 (L1) and
//! 0x80000006 (L2) (AMD64 APM Vol. 3, appendix E.4); on Intel, leaf 0x18 (deterministic
//! address translation parameters) or, on older parts, the one-byte descriptors of leaf 2
//! (Intel SDM Vol. 2A, CPUID, Table 3-12). In a virtual machine the hypervisor decides what
//! these leaves say.
use serde::Serialize;

/// One TLB as CPUID describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlbDesc {
    /// 1 or 2.
    pub level: u8,
    /// `data`, `instruction` or `unified` (shared by data and instructions).
    pub kind: &'static str,
    /// Page sizes it holds, e.g. `4K`, `2M/4M`.
    pub pages: String,
    /// Entries.
    pub entries: u32,
    /// Ways (0 = fully associative).
    pub ways: u32,
    /// Which leaf said so.
    pub source: &'static str,
}

/// The processor vendor string (`GenuineIntel`, `AuthenticAMD`...).
pub fn vendor() -> String {
    let [_, b, c, d] = crate::sys::cpuid(0, 0);
    let bytes: Vec<u8> = [b, d, c].iter().flat_map(|r| r.to_le_bytes()).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The data and unified TLBs CPUID reports (instruction TLBs are left out).
pub fn data_tlbs() -> Vec<TlbDesc> {
    let max = crate::sys::cpuid(0, 0)[0];
    let ext = crate::sys::cpuid(0x8000_0000, 0)[0];
    let v = vendor();
    let mut out = Vec::new();
    if (v == "AuthenticAMD" || v == "HygonGenuine") && ext >= 0x8000_0006 {
        out.extend(amd(
            crate::sys::cpuid(0x8000_0005, 0),
            crate::sys::cpuid(0x8000_0006, 0),
        ));
    } else if v == "GenuineIntel" {
        if max >= 0x18 {
            let n = crate::sys::cpuid(0x18, 0)[0];
            for sub in 0..=n.min(64) {
                if let Some(t) = leaf_0x18(crate::sys::cpuid(0x18, sub)) {
                    out.push(t);
                }
            }
        }
        if out.is_empty() && max >= 2 {
            out.extend(leaf_2(crate::sys::cpuid(2, 0)));
        }
    }
    out
}

/// Why [`data_tlbs`] found nothing, when it did not: the leaves that are empty.
pub fn why_none() -> Option<String> {
    if !data_tlbs().is_empty() {
        return None;
    }
    let max = crate::sys::cpuid(0, 0)[0];
    let v = vendor();
    if v != "GenuineIntel" {
        return Some(format!("no TLB leaves decoded for vendor {v}"));
    }
    let defers = max >= 2
        && crate::sys::cpuid(2, 0)
            .iter()
            .any(|r| r >> 31 == 0 && r.to_le_bytes().contains(&0xfe));
    let empty_18 = max < 0x18 || crate::sys::cpuid(0x18, 0) == [0; 4];
    Some(if defers && empty_18 {
        "leaf 2 defers to leaf 0x18 (descriptor 0xfe), and leaf 0x18 is all zeros: the hypervisor does not pass the TLB description through"
            .into()
    } else {
        format!(
            "leaf 2 has no data-TLB descriptor this decoder knows; leaf 0x18 is {}",
            if empty_18 {
                "empty"
            } else {
                "without data TLBs"
            }
        )
    })
}

/// AMD's L1 (0x80000005 EAX 2M/4M, EBX 4K) and L2 (0x80000006 EAX 2M/4M, EBX 4K) data TLBs.
pub fn amd(l1: [u32; 4], l2: [u32; 4]) -> Vec<TlbDesc> {
    let mut out = Vec::new();
    for (reg, pages) in [(l1[1], "4K"), (l1[0], "2M/4M")] {
        let entries = (reg >> 16) & 0xff;
        if entries != 0 {
            let ways = reg >> 24;
            out.push(TlbDesc {
                level: 1,
                kind: "data",
                pages: pages.into(),
                entries,
                ways: if ways == 0xff { 0 } else { ways },
                source: "cpuid 0x80000005",
            });
        }
    }
    for (reg, pages) in [(l2[1], "4K"), (l2[0], "2M/4M")] {
        let entries = (reg >> 16) & 0xfff;
        if entries != 0 {
            out.push(TlbDesc {
                level: 2,
                kind: "data",
                pages: pages.into(),
                entries,
                ways: amd_l2_ways(reg >> 28),
                source: "cpuid 0x80000006",
            });
        }
    }
    out
}

/// AMD's encoded L2 associativity (APM Vol. 3, E.4.6; 0xf = fully associative, reported 0).
fn amd_l2_ways(code: u32) -> u32 {
    match code {
        1 => 1,
        2 => 2,
        3 => 3,
        4 => 4,
        5 => 6,
        6 => 8,
        8 => 16,
        0xa => 32,
        0xb => 48,
        0xc => 64,
        0xd => 96,
        0xe => 128,
        _ => 0,
    }
}

/// One sub-leaf of Intel leaf 0x18: EDX[4:0] type, EDX[7:5] level, EDX[8] fully
/// associative, EBX[3:0] page sizes (4K, 2M, 4M, 1G), EBX[31:16] ways, ECX sets.
pub fn leaf_0x18(r: [u32; 4]) -> Option<TlbDesc> {
    let [_, ebx, ecx, edx] = r;
    let kind = match edx & 0x1f {
        1 | 4 | 5 => "data",
        3 => "unified",
        _ => return None,
    };
    let sizes: Vec<&str> = [(1, "4K"), (2, "2M"), (4, "4M"), (8, "1G")]
        .iter()
        .filter(|(b, _)| ebx & b != 0)
        .map(|&(_, n)| n)
        .collect();
    let ways = ebx >> 16;
    Some(TlbDesc {
        level: ((edx >> 5) & 7) as u8,
        kind,
        pages: sizes.join("/"),
        entries: ways * ecx,
        ways: if edx & 0x100 != 0 { 0 } else { ways },
        source: "cpuid 0x18",
    })
}

/// Intel leaf 2's data-TLB descriptors: (byte, level, kind, pages, entries, ways).
const LEAF2: &[(u8, u8, &str, &str, u32, u32)] = &[
    (0x03, 1, "data", "4K", 64, 4),
    (0x04, 1, "data", "4M", 8, 4),
    (0x05, 1, "data", "4M", 32, 4),
    (0x56, 1, "data", "4M", 16, 4),
    (0x57, 1, "data", "4K", 16, 4),
    (0x59, 1, "data", "4K", 16, 0),
    (0x5a, 1, "data", "2M/4M", 32, 4),
    (0x5b, 1, "data", "4K/4M", 64, 0),
    (0x5c, 1, "data", "4K/4M", 128, 0),
    (0x5d, 1, "data", "4K/4M", 256, 0),
    (0x63, 1, "data", "2M/4M", 32, 4),
    (0x64, 1, "data", "4K", 512, 4),
    (0x6b, 1, "data", "4K", 256, 8),
    (0x6c, 1, "data", "2M/4M", 128, 8),
    (0x6d, 1, "data", "1G", 16, 0),
    (0xa0, 1, "data", "4K", 32, 0),
    (0xb3, 1, "data", "4K", 128, 4),
    (0xb4, 1, "data", "4K", 256, 4),
    (0xba, 1, "data", "4K", 64, 4),
    (0xc0, 1, "data", "4K/4M", 8, 4),
    (0xc1, 2, "unified", "4K/2M", 1024, 8),
    (0xc2, 1, "data", "4K/2M", 16, 4),
    (0xc3, 2, "unified", "4K/2M", 1536, 6),
    (0xc4, 1, "data", "2M/4M", 32, 4),
    (0xca, 2, "unified", "4K", 512, 4),
];

/// Decodes leaf 2: AL is the iteration count (1), registers with bit 31 set hold no
/// descriptors, every other byte is one descriptor.
pub fn leaf_2(r: [u32; 4]) -> Vec<TlbDesc> {
    let mut out = Vec::new();
    for (i, reg) in r.iter().enumerate() {
        if reg >> 31 != 0 {
            continue;
        }
        for (k, byte) in reg.to_le_bytes().iter().enumerate() {
            if i == 0 && k == 0 {
                continue;
            }
            if let Some(&(_, level, kind, pages, entries, ways)) =
                LEAF2.iter().find(|d| d.0 == *byte)
            {
                out.push(TlbDesc {
                    level,
                    kind,
                    pages: pages.into(),
                    entries,
                    ways,
                    source: "cpuid 2",
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_zen4_extended_leaves() {
        // Registers built by hand: L1 DTLB 72 entries, fully associative (0xff), for 4K and
        // 2M pages; L2 DTLB 3072 (0xc00) entries with associativity code 0xb (48 ways).
        let l1 = [0xff48_ff40, 0xff48_ff40, 0, 0];
        let l2 = [
            0xbc00_0000 | 0x2000 | 0x200,
            0xbc00_0000 | 0x4000 | 0x200,
            0,
            0,
        ];
        let t = amd(l1, l2);
        let l1_4k = &t[0];
        assert_eq!(
            (l1_4k.level, l1_4k.entries, l1_4k.ways, l1_4k.pages.as_str()),
            (1, 72, 0, "4K")
        );
        let l2_4k = t.iter().find(|d| d.level == 2 && d.pages == "4K").unwrap();
        assert_eq!((l2_4k.entries, l2_4k.ways), (3072, 48));
    }

    #[test]
    fn decodes_intel_leaf_0x18_and_leaf_2() {
        // A 4-way, 16-set (64-entry) L1 load TLB for 4K pages.
        let d = leaf_0x18([0, (4 << 16) | 1, 16, (1 << 5) | 4]).unwrap();
        assert_eq!(
            (d.level, d.kind, d.entries, d.ways, d.pages.as_str()),
            (1, "data", 64, 4, "4K")
        );
        // A 12-way, 128-set shared L2 TLB for 4K and 2M pages.
        let d = leaf_0x18([0, (12 << 16) | 3, 128, (2 << 5) | 3]).unwrap();
        assert_eq!((d.level, d.kind, d.entries), (2, "unified", 1536));
        // Instruction TLBs and invalid sub-leaves are skipped.
        assert_eq!(leaf_0x18([0, 1, 1, 2]), None);
        assert_eq!(leaf_0x18([0, 0, 0, 0]), None);
        // Leaf 2 of a Haswell-era part: 0x5a, 0x03 and 0xc3 among others; AL = 1 skipped.
        let t = leaf_2([0x035a_5501, 0x8000_0000, 0x00c3_0000, 0]);
        let entries: Vec<u32> = t.iter().map(|d| d.entries).collect();
        assert_eq!(entries, vec![32, 64, 1536]);
    }
}
