//! Address-space layout randomisation, measured: the base of each region (the executable, the
//! heap, the stack, the vDSO, each library) over several runs of one program, and how many
//! address bits changed between runs. The count of bits that changed is an estimate from
//! below that reaches the true number of random bits as runs are added: with n runs a bit that
//! is random stays the same in all of them with probability 2^(1-n).
use crate::layout::{classify, Region};
use crate::procfs::maps::MapsEntry;
use serde::Serialize;
use std::collections::BTreeMap;

/// The base of each region in one run: the executable's and each library's first area, the
/// heap's start, the stack's top, the vDSO's and vvar's start.
pub fn bases(areas: &[MapsEntry], exe: Option<&str>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (a, r) in areas.iter().zip(classify(areas, exe)) {
        let key = match r {
            Region::Text | Region::Rodata | Region::Data => "exe".to_string(),
            Region::Heap => "heap".into(),
            Region::Vdso => "vdso".into(),
            Region::Vvar if a.path == "[vvar]" => "vvar".into(),
            Region::Library => a.path.rsplit('/').next().unwrap_or(&a.path).to_string(),
            Region::Stack => {
                out.insert("stack (top)".into(), a.end);
                continue;
            }
            _ => continue,
        };
        out.entry(key).or_insert(a.start);
    }
    out
}

/// One region's randomness over the runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entropy {
    /// Region name.
    pub region: String,
    /// Runs in which it appeared.
    pub runs: usize,
    /// Distinct bases seen.
    pub distinct: usize,
    /// Address bits that differed between some two runs.
    pub varying_bits: u32,
    /// Lowest and highest varying bit (none when nothing varied).
    pub bit_range: Option<(u32, u32)>,
    /// The first run's base.
    pub first: u64,
}

/// Entropy of every region present in at least one run.
pub fn entropy(runs: &[BTreeMap<String, u64>]) -> Vec<Entropy> {
    let mut by: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for r in runs {
        for (k, &v) in r {
            by.entry(k.as_str()).or_default().push(v);
        }
    }
    by.into_iter()
        .map(|(k, v)| {
            let diff = v.iter().fold(0u64, |acc, &b| acc | (b ^ v[0]));
            let mut d = v.clone();
            d.sort_unstable();
            d.dedup();
            Entropy {
                region: k.to_string(),
                runs: v.len(),
                distinct: d.len(),
                varying_bits: diff.count_ones(),
                bit_range: (diff != 0).then(|| (diff.trailing_zeros(), 63 - diff.leading_zeros())),
                first: v[0],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procfs::maps::parse;

    #[test]
    fn bases_and_varying_bits_by_hand() {
        let t = "55a000000000-55a000001000 r--p 0 08:01 5 /bin/x\n\
                 55a000001000-55a000002000 r-xp 1000 08:01 5 /bin/x\n\
                 55a001000000-55a001021000 rw-p 0 00:00 0 [heap]\n\
                 7f0000100000-7f0000200000 r-xp 0 08:01 9 /lib/libc.so.6\n\
                 7ffc00000000-7ffc00021000 rw-p 0 00:00 0 [stack]\n";
        let b = bases(&parse("m", t).unwrap(), Some("/bin/x"));
        assert_eq!(b["exe"], 0x55a000000000);
        assert_eq!(b["heap"], 0x55a001000000);
        assert_eq!(b["libc.so.6"], 0x7f0000100000);
        assert_eq!(b["stack (top)"], 0x7ffc00021000);
        let run =
            |exe: u64| BTreeMap::from([("exe".to_string(), exe), ("fixed".to_string(), 0x1000)]);
        // 0x5000 ^ 0x7000 = 0x2000, 0x5000 ^ 0x4000 = 0x1000: bits 12 and 13 varied.
        let e = entropy(&[run(0x5000), run(0x7000), run(0x4000), run(0x5000)]);
        assert_eq!(e[0].region, "exe");
        assert_eq!((e[0].runs, e[0].distinct, e[0].varying_bits), (4, 3, 2));
        assert_eq!(e[0].bit_range, Some((12, 13)));
        assert_eq!((e[1].varying_bits, e[1].bit_range), (0, None));
    }
}
