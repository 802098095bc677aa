//! Byte counts as people write them in configurations and on command lines: `4096`, `64K`,
//! `2M`, `16GiB` (binary multiples), and back.

/// Parses a byte count with an optional binary suffix `K`, `M`, `G`, `T` (either case, with or
/// without `iB`/`B`) or a plain `B`.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix("ib"))
        .unwrap_or(t);
    let t = t.strip_suffix(['B', 'b']).unwrap_or(t);
    let (num, shift) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 10),
        Some((i, 'M' | 'm')) => (&t[..i], 20),
        Some((i, 'G' | 'g')) => (&t[..i], 30),
        Some((i, 'T' | 't')) => (&t[..i], 40),
        Some((i, 'P' | 'p')) => (&t[..i], 50),
        Some((i, 'E' | 'e')) => (&t[..i], 60),
        _ => (t, 0),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("invalid size `{s}` (expected e.g. 4096, 64K, 2M, 16G, 1T, 1P)"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("size `{s}` is too large"))
}

/// Formats a byte count with the largest exact binary suffix (`3G`, `64K`, `1000`).
pub fn format_bytes(v: u64) -> String {
    for (shift, suffix) in [
        (60, "E"),
        (50, "P"),
        (40, "T"),
        (30, "G"),
        (20, "M"),
        (10, "K"),
    ] {
        if v >= 1 << shift && v.is_multiple_of(1 << shift) {
            return format!("{}{suffix}", v >> shift);
        }
    }
    v.to_string()
}

/// `a / b` as a fraction, 0 when `b` is 0 (a hit ratio of no lookups, a share of nothing).
pub fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(parse_bytes("16G"), Ok(16 << 30));
        assert_eq!(parse_bytes("64KiB"), Ok(64 << 10));
        assert_eq!(parse_bytes("32B"), Ok(32));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("K").is_err());
        assert!(parse_bytes("99999999999T").is_err());
        // Every suffix up to what a u64 holds: 1P is as much a size as 1048576G.
        assert_eq!(parse_bytes("1P"), parse_bytes("1048576G"));
        assert_eq!(parse_bytes("15E"), Ok(15 << 60));
        assert!(parse_bytes("16E").is_err());
        assert_eq!(format_bytes(1 << 50), "1P");
        assert_eq!(ratio(1, 4), 0.25);
        assert_eq!(ratio(3, 0), 0.0);
        assert_eq!(format_bytes(3 << 30), "3G");
        assert_eq!(format_bytes(1000), "1000");
        for v in [1u64, 4096, 1 << 21, 3 << 30, 12345, 5 << 50, 7 << 60] {
            assert_eq!(parse_bytes(&format_bytes(v)), Ok(v));
        }
    }
}
