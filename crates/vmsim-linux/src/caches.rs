//! The data caches of a CPU as sysfs describes them
//! (`/sys/devices/system/cpu/cpuN/cache/indexK/{level,type,size}`,
//! Documentation/ABI/testing/sysfs-devices-system-cpu), so that the TLB probe can tell a knee
//! that the data footprint causes from one that the TLB causes.
use crate::error::ProcError;
use serde::Serialize;

/// One data or unified cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cache {
    /// 1, 2, 3...
    pub level: u8,
    /// `Data` or `Unified`.
    pub kind: String,
    /// Bytes.
    pub bytes: u64,
}

/// Parses a sysfs cache `size` such as `48K`, `2048K`, `32M`.
pub fn parse_size(name: &str, s: &str) -> Result<u64, ProcError> {
    let s = s.trim();
    let (num, mul) = match s.as_bytes().last() {
        Some(b'K') => (&s[..s.len() - 1], 1 << 10),
        Some(b'M') => (&s[..s.len() - 1], 1 << 20),
        Some(b'G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mul))
        .ok_or_else(|| ProcError::malformed(name, 1, format!("bad cache size `{s}`")))
}

/// The data and unified caches of `cpu`, smallest level first (empty if sysfs has none).
pub fn data_caches(cpu: usize) -> Result<Vec<Cache>, ProcError> {
    let dir = format!("/sys/devices/system/cpu/cpu{cpu}/cache");
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(out);
    };
    for e in entries.flatten() {
        let p = e.path();
        if !e.file_name().to_string_lossy().starts_with("index") {
            continue;
        }
        let read = |f: &str| crate::procfs::read(&p.join(f));
        let kind = read("type")?.trim().to_string();
        if kind == "Instruction" {
            continue;
        }
        let level_path = p.join("level");
        let level = read("level")?.trim().parse().map_err(|_| {
            ProcError::malformed(&level_path.display().to_string(), 1, "bad cache level")
        })?;
        let size_path = p.join("size");
        let bytes = parse_size(&size_path.display().to_string(), &read("size")?)?;
        out.push(Cache { level, kind, bytes });
    }
    out.sort_by_key(|c| c.level);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_bad_ones_are_named() {
        assert_eq!(parse_size("s", "48K\n").unwrap(), 48 << 10);
        assert_eq!(parse_size("s", "266240K").unwrap(), 266240 << 10);
        assert_eq!(parse_size("s", "32M").unwrap(), 32 << 20);
        assert_eq!(parse_size("s", "512").unwrap(), 512);
        let e = parse_size("/sys/x/size", "big").unwrap_err().to_string();
        assert_eq!(e, "/sys/x/size:1: bad cache size `big`");
    }
}
