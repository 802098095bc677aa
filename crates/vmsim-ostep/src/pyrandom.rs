//! Python's `random` as the OSTEP simulators use it: MT19937 seeded through `init_by_array`
//! with the absolute value of an integer of any size, and `random()` built from two 32-bit
//! outputs (Matsumoto & Nishimura, "Mersenne Twister", ACM TOMACS 1998; CPython's
//! `_randommodule.c` documents the seeding and the 53-bit float).

const N: usize = 624;
const M: usize = 397;

/// A Mersenne Twister with CPython's seeding.
#[derive(Clone)]
pub struct PyRandom {
    mt: [u32; N],
    index: usize,
}

impl PyRandom {
    /// Seeded like `random.seed(n)` for the integer whose magnitude has the little-endian
    /// 32-bit `words` (an empty slice means 0).
    pub fn from_words(words: &[u32]) -> Self {
        let key: &[u32] = if words.is_empty() { &[0] } else { words };
        let mut r = PyRandom::init_genrand(19_650_218);
        let (mut i, mut j) = (1usize, 0usize);
        let mut k = N.max(key.len());
        while k > 0 {
            let prev = r.mt[i - 1] ^ (r.mt[i - 1] >> 30);
            r.mt[i] = (r.mt[i] ^ prev.wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                r.mt[0] = r.mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
            k -= 1;
        }
        k = N - 1;
        while k > 0 {
            let prev = r.mt[i - 1] ^ (r.mt[i - 1] >> 30);
            r.mt[i] = (r.mt[i] ^ prev.wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                r.mt[0] = r.mt[N - 1];
                i = 1;
            }
            k -= 1;
        }
        r.mt[0] = 0x8000_0000;
        r
    }

    /// Seeded like `random.seed(n)`.
    pub fn new(seed: &BigInt) -> Self {
        Self::from_words(&seed.words)
    }

    fn init_genrand(s: u32) -> Self {
        let mut mt = [0u32; N];
        mt[0] = s;
        for i in 1..N {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        PyRandom { mt, index: N }
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            for i in 0..N {
                let y = (self.mt[i] & 0x8000_0000) | (self.mt[(i + 1) % N] & 0x7fff_ffff);
                let mut v = self.mt[(i + M) % N] ^ (y >> 1);
                if y & 1 != 0 {
                    v ^= 0x9908_b0df;
                }
                self.mt[i] = v;
            }
            self.index = 0;
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// The 53-bit integer behind the next `random()`.
    pub fn next_53(&mut self) -> u64 {
        let a = (self.next_u32() >> 5) as u64;
        let b = (self.next_u32() >> 6) as u64;
        a * 67_108_864 + b
    }

    /// `random.random()`: a float in [0, 1).
    pub fn random(&mut self) -> f64 {
        self.next_53() as f64 / 9_007_199_254_740_992.0
    }

    /// `int(x * random())`: the simulators' way of drawing below `x`.
    pub fn below(&mut self, x: f64) -> i64 {
        (x * self.random()).trunc() as i64
    }
}

/// A non-negative integer of any size (a seed's magnitude), as little-endian 32-bit words.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BigInt {
    /// Magnitude, least significant word first, no trailing zero words.
    pub words: Vec<u32>,
    /// Whether the value was negative (Python seeds with the absolute value).
    pub negative: bool,
}

impl BigInt {
    /// From an `i64`.
    pub fn from_i64(v: i64) -> Self {
        let mut b = BigInt {
            words: Vec::new(),
            negative: v < 0,
        };
        let mut m = v.unsigned_abs();
        while m > 0 {
            b.words.push(m as u32);
            m >>= 32;
        }
        b
    }

    /// Parses digits in `radix` (2..=16), `_` separators allowed between digits.
    pub fn parse_digits(s: &str, radix: u32) -> Option<Self> {
        let mut b = BigInt::default();
        let mut any = false;
        let mut prev_us = true;
        for c in s.chars() {
            if c == '_' {
                if prev_us {
                    return None;
                }
                prev_us = true;
                continue;
            }
            prev_us = false;
            let d = c.to_digit(radix)?;
            any = true;
            let mut carry = d as u64;
            for w in &mut b.words {
                let v = *w as u64 * radix as u64 + carry;
                *w = v as u32;
                carry = v >> 32;
            }
            if carry > 0 {
                b.words.push(carry as u32);
            }
        }
        if !any || prev_us {
            return None;
        }
        while b.words.last() == Some(&0) {
            b.words.pop();
        }
        Some(b)
    }

    /// The value if it fits in an `i64`.
    pub fn to_i64(&self) -> Option<i64> {
        if self.words.len() > 2 {
            return None;
        }
        let mut m = 0u64;
        for (i, w) in self.words.iter().enumerate() {
            m |= (*w as u64) << (32 * i);
        }
        let v = i64::try_from(m).ok()?;
        Some(if self.negative { -v } else { v })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_first_draws() {
        // random.seed(0); random.random() == 0.8444218515250481
        let mut r = PyRandom::new(&BigInt::from_i64(0));
        assert_eq!(r.random(), 0.844_421_851_525_048_1);
        let b = BigInt::parse_digits("18446744073709551619", 10).unwrap();
        assert_eq!(b.words, vec![3, 0, 1]);
        assert!(BigInt::parse_digits("1__0", 10).is_none());
        assert!(BigInt::parse_digits("_1", 10).is_none());
        assert_eq!(BigInt::parse_digits("1_0", 10).unwrap().to_i64(), Some(10));
    }
}
