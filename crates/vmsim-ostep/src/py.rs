//! Python's value semantics the OSTEP scripts print with: `int()` and `convert()` raising the
//! same exceptions, `%d`/`%x` on negative numbers (`-00000ac`), `repr(float)` (`6.103515625e-05`),
//! `int(float)` of any size, and a list's `repr`. Integers are `i128`: every value the scripts
//! compute from a command line of ordinary length fits.

use crate::args::{py_int, ConvertError};
use crate::pyrandom::BigInt;
use std::fmt;

/// A Python exception a script raises: its class name and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exc {
    /// The exception class (`ValueError`, ...).
    pub name: &'static str,
    /// Its message.
    pub message: String,
}

impl Exc {
    /// An exception of class `name`.
    pub fn new(name: &'static str, message: impl Into<String>) -> Self {
        Exc {
            name,
            message: message.into(),
        }
    }
}

impl fmt::Display for Exc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

/// The value of `b` as an `i128`, if it fits.
pub fn big_to_i128(b: &BigInt) -> Option<i128> {
    if b.words.len() > 4 {
        return None;
    }
    let mut m = 0u128;
    for (i, w) in b.words.iter().enumerate() {
        m |= (*w as u128) << (32 * i);
    }
    let v = i128::try_from(m).ok()?;
    Some(if b.negative { -v } else { v })
}

/// The decimal text of `b` (Python's `str(int)`).
pub fn big_str(b: &BigInt) -> String {
    let mut words = b.words.clone();
    let mut chunks = Vec::new();
    while !words.is_empty() {
        let mut rem = 0u64;
        for w in words.iter_mut().rev() {
            let cur = (rem << 32) | *w as u64;
            *w = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        chunks.push(rem as u32);
        while words.last() == Some(&0) {
            words.pop();
        }
    }
    let mut s = String::from(if b.negative { "-" } else { "" });
    match chunks.split_last() {
        None => s.push('0'),
        Some((top, rest)) => {
            s.push_str(&top.to_string());
            for c in rest.iter().rev() {
                s.push_str(&format!("{c:09}"));
            }
        }
    }
    s
}

/// `int(text)`: decimal, blanks around, sign, `_` between digits; else `ValueError`.
pub fn int(text: &str) -> Result<i128, Exc> {
    let b = py_int(text, 10).ok_or_else(|| {
        Exc::new(
            "ValueError",
            format!("invalid literal for int() with base 10: '{text}'"),
        )
    })?;
    big_to_i128(&b).ok_or_else(|| Exc::new("OverflowError", "integer beyond 2^127"))
}

/// The scripts' `convert(size)`: an optional k/m/g suffix on `int()`; `IndexError` for "".
pub fn convert(text: &str) -> Result<i128, Exc> {
    let last = text
        .chars()
        .last()
        .ok_or_else(|| Exc::new(ConvertError::Index.name(), "string index out of range"))?;
    let (num, mul) = match last {
        'k' | 'K' => (&text[..text.len() - 1], 1i128 << 10),
        'm' | 'M' => (&text[..text.len() - 1], 1 << 20),
        'g' | 'G' => (&text[..text.len() - 1], 1 << 30),
        _ => (text, 1),
    };
    int(num)?
        .checked_mul(mul)
        .ok_or_else(|| Exc::new("OverflowError", "integer beyond 2^127"))
}

/// `'%0Nx' % v` (or `'%x'` for width 0): a negative value is `-` and its magnitude, padded
/// with zeros to the width including the sign.
pub fn hex(v: i128, width: usize) -> String {
    let digits = format!("{:x}", v.unsigned_abs());
    if v < 0 {
        format!("-{digits:0>w$}", w = width.saturating_sub(1))
    } else {
        format!("{digits:0>width$}")
    }
}

/// Python's `repr(float)`: the shortest digits that read back, fixed notation for exponents
/// -4..16, else `d.ddde+XX`.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let mut sci = format!("{x:e}"); // shortest round-trip digits: "-6.103515625e-5"
    if sci.chars().filter(char::is_ascii_digit).count() - exp_digits(&sci) >= 17 {
        // Seventeen digits: Python takes the correctly rounded ones (ties to even), which
        // Rust's exact formatting gives; its shortest form may round a tie up instead.
        sci = format!("{x:.16e}");
    }
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mant) = match mant.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mant),
    };
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        let s = if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{s}")
    } else {
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        let es = if exp < 0 { "-" } else { "+" };
        format!("{sign}{m}e{es}{:02}", exp.abs())
    }
}

/// How many digits the exponent of `{:e}` text has.
fn exp_digits(sci: &str) -> usize {
    sci.split_once('e')
        .map_or(0, |(_, e)| e.chars().filter(char::is_ascii_digit).count())
}

/// `str(int(x))` for a float of any size: its integral part exactly, in decimal.
pub fn float_int_str(x: f64) -> Result<String, Exc> {
    if x.is_infinite() {
        return Err(Exc::new(
            "OverflowError",
            "cannot convert float infinity to integer",
        ));
    }
    if x.is_nan() {
        return Err(Exc::new(
            "ValueError",
            "cannot convert float NaN to integer",
        ));
    }
    let t = x.trunc();
    if t.abs() < 1e18 {
        return Ok(format!("{}", t as i64));
    }
    // t = mantissa * 2^exp exactly, with exp >= 0 here: double a base-1e9 number exp times.
    let bits = t.abs().to_bits();
    let e = ((bits >> 52) & 0x7ff) as i32 - 1075;
    let m = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    let mut limbs: Vec<u64> = vec![
        m % 1_000_000_000,
        m / 1_000_000_000 % 1_000_000_000,
        m / 1_000_000_000_000_000_000,
    ];
    for _ in 0..e {
        let mut carry = 0;
        for l in limbs.iter_mut() {
            let v = *l * 2 + carry;
            *l = v % 1_000_000_000;
            carry = v / 1_000_000_000;
        }
        if carry > 0 {
            limbs.push(carry);
        }
    }
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut s = String::from(if x < 0.0 { "-" } else { "" });
    s.push_str(&limbs.last().copied().unwrap_or(0).to_string());
    for l in limbs.iter().rev().skip(1) {
        s.push_str(&format!("{l:09}"));
    }
    Ok(s)
}

/// `repr(list)` of integers: `[1, 2, 3]`.
pub fn list_repr(v: &[i128]) -> String {
    let items: Vec<String> = v.iter().map(i128::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// `str(bool)`.
pub fn bool_str(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// `int(x * random.random())` for an integer `x`: the scripts' draw below `x`.
pub fn draw_below(x: i128, r: f64) -> i128 {
    (x as f64 * r).trunc() as i128
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_spellings() {
        assert_eq!(hex(-172, 8), "-00000ac");
        assert_eq!(hex(172, 8), "000000ac");
        assert_eq!(hex(-1, 0), "-1");
        assert_eq!(float_repr(6.103515625e-05), "6.103515625e-05");
        assert_eq!(float_repr(4096.0), "4096.0");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(7.1362384635298e+44), "7.1362384635298e+44");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(3.0517578125e-05), "3.0517578125e-05");
        assert_eq!(float_repr(2.9802322387695312e-08), "2.9802322387695312e-08");
        assert_eq!(float_repr(1048576.0), "1048576.0");
        assert_eq!(
            float_int_str(2f64.powi(159)).unwrap(),
            "730750818665451459101842416358141509827966271488"
        );
        assert_eq!(float_int_str(-3.7).unwrap(), "-3");
        assert!(float_int_str(f64::INFINITY).is_err());
        assert_eq!(list_repr(&[1, 2]), "[1, 2]");
        assert_eq!(convert("").unwrap_err().name, "IndexError");
        assert_eq!(convert("2k").unwrap(), 2048);
        assert_eq!(int(" -7 ").unwrap(), -7);
        let b = BigInt::parse_digits("18446744073709551619", 10).unwrap();
        assert_eq!(big_str(&b), "18446744073709551619");
    }
}
