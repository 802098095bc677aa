//! malloc.py (vm-freespace): a free-list allocator's operations, printed as the script does,
//! with Python's arithmetic on every value (negative sizes, bases and headers included).

use super::{opt_int, opt_int_str, raise, End, Out};
use crate::args::Parsed;
use crate::py::{bool_str, int};
use crate::pyrandom::PyRandom;
use std::collections::HashMap;
use std::path::Path;

/// The script's `malloc` class: the free list, and the size of each handed-out block.
struct Heap {
    size: i128,
    header: i128,
    free: Vec<(i128, i128)>,
    sizes: HashMap<i128, i128>,
    policy: String,
    order: String,
    coalesce: bool,
    align: i128,
}

impl Heap {
    fn add_to_map(&mut self, addr: i128, size: i128) -> Result<(), End> {
        if self.sizes.contains_key(&addr) {
            return Err(raise(
                "AssertionError",
                format!("address {addr} handed out twice"),
            ));
        }
        self.sizes.insert(addr, size);
        Ok(())
    }

    /// `(address or -1, elements searched)`.
    fn malloc(&mut self, mut size: i128) -> Result<(i128, i128), End> {
        if self.align != -1 {
            let left = size.rem_euclid(self.align);
            if left != 0 {
                size += self.align - left;
            }
        }
        size += self.header;
        let mut best_idx = None;
        let mut best = if self.policy == "BEST" {
            self.size + 1
        } else {
            -1
        };
        let mut best_addr = 0;
        let mut count = 0;
        for (i, &(addr, esize)) in self.free.iter().enumerate() {
            count += 1;
            let better = match self.policy.as_str() {
                "BEST" => esize < best,
                "WORST" => esize > best,
                _ => true,
            };
            if esize >= size && better {
                best_addr = addr;
                best = esize;
                best_idx = Some(i);
                if self.policy == "FIRST" {
                    break;
                }
            }
        }
        let Some(i) = best_idx else {
            return Ok((-1, count));
        };
        if best > size {
            self.free[i] = (best_addr + size, best - size);
        } else {
            self.free.remove(i);
        }
        self.add_to_map(best_addr, size)?;
        Ok((best_addr, count))
    }

    fn free(&mut self, addr: i128) -> i128 {
        let Some(&size) = self.sizes.get(&addr) else {
            return -1;
        };
        match self.order.as_str() {
            "INSERT-FRONT" => self.free.insert(0, (addr, size)),
            _ => self.free.push((addr, size)),
        }
        match self.order.as_str() {
            "ADDRSORT" => self.free.sort_by_key(|e| e.0),
            "SIZESORT+" => self.free.sort_by_key(|e| e.1),
            // sorted(reverse=True) keeps equal keys in their original order.
            "SIZESORT-" => self.free.sort_by_key(|e| std::cmp::Reverse(e.1)),
            _ => {}
        }
        if self.coalesce {
            let mut merged = Vec::new();
            let mut cur = self.free[0];
            for &(a, s) in &self.free[1..] {
                if a == cur.0 + cur.1 {
                    cur.1 += s;
                } else {
                    merged.push(cur);
                    cur = (a, s);
                }
            }
            merged.push(cur);
            self.free = merged;
        }
        self.sizes.remove(&addr);
        0
    }

    fn dump(&self, out: &mut Out) {
        out.part(format!("Free List [ Size {} ]: ", self.free.len()));
        for (a, s) in &self.free {
            out.part(format!("[ addr:{a} sz:{s} ]"));
        }
        out.line("");
    }
}

/// The script's flow.
pub fn run(o: &Parsed, out: &mut Out, _dir: &Path) -> Result<(), End> {
    let (policy, order) = (o.str('p'), o.str('l'));
    let align = opt_int(o, 'a');
    if !["FIRST", "BEST", "WORST"].contains(&policy) {
        return Err(raise("AssertionError", format!("policy {policy}")));
    }
    if ![
        "ADDRSORT",
        "SIZESORT+",
        "SIZESORT-",
        "INSERT-FRONT",
        "INSERT-BACK",
    ]
    .contains(&order)
    {
        return Err(raise("AssertionError", format!("list order {order}")));
    }
    if !(align == -1 || align > 0) {
        return Err(raise("AssertionError", format!("alignment {align}")));
    }
    let mut m = Heap {
        size: opt_int(o, 'S'),
        header: opt_int(o, 'H'),
        free: vec![(opt_int(o, 'b'), opt_int(o, 'S'))],
        sizes: HashMap::new(),
        policy: policy.to_string(),
        order: order.to_string(),
        coalesce: o.flag('C'),
        align,
    };
    let solve = o.flag('c');
    for (name, v) in [
        ("seed", opt_int_str(o, 's')),
        ("size", opt_int_str(o, 'S')),
        ("baseAddr", opt_int_str(o, 'b')),
        ("headerSize", opt_int_str(o, 'H')),
        ("alignment", opt_int_str(o, 'a')),
        ("policy", policy.to_string()),
        ("listOrder", order.to_string()),
        ("coalesce", bool_str(m.coalesce).to_string()),
        ("numOps", opt_int_str(o, 'n')),
        ("range", opt_int_str(o, 'r')),
        ("percentAlloc", opt_int_str(o, 'P')),
        ("allocList", o.str('A').to_string()),
        ("compute", bool_str(solve).to_string()),
    ] {
        out.line(format!("{name} {v}"));
    }
    out.line("");
    let percent = opt_int(o, 'P') as f64 / 100.0;
    let mut rng = PyRandom::new(&o.big('s'));
    if percent <= 0.0 {
        return Err(raise(
            "AssertionError",
            "percent of allocations must be positive",
        ));
    }
    let list = o.str('A');
    if list.is_empty() {
        random_ops(o, &mut m, &mut rng, percent, solve, out)
    } else {
        listed_ops(list, &mut m, solve, out)
    }
}

/// `-A` empty: operations drawn from the seed.
fn random_ops(
    o: &Parsed,
    m: &mut Heap,
    rng: &mut PyRandom,
    percent: f64,
    solve: bool,
    out: &mut Out,
) -> Result<(), End> {
    let (num, range) = (opt_int(o, 'n'), opt_int(o, 'r'));
    let mut ptrs: HashMap<i128, i128> = HashMap::new();
    let mut live: Vec<i128> = Vec::new();
    let (mut c, mut j) = (0i128, 0i128);
    while j < num {
        let mut printed = false;
        if rng.random() < percent {
            let size = (rng.random() * range as f64).trunc() as i128 + 1;
            let (ptr, cnt) = m.malloc(size)?;
            if ptr != -1 {
                ptrs.insert(c, ptr);
                live.push(c);
            }
            out.part(format!("ptr[{c}] = Alloc({size})"));
            if solve {
                out.line(format!(
                    " returned {} (searched {cnt} elements)",
                    ptr + m.header
                ));
            } else {
                out.line(" returned ?");
            }
            c += 1;
            j += 1;
            printed = true;
        } else if !ptrs.is_empty() {
            let d = (rng.random() * live.len() as f64).trunc() as usize;
            let rc = m.free(ptrs[&live[d]]);
            out.line(format!("Free(ptr[{}])", live[d]));
            out.line(if solve {
                format!("returned {rc}")
            } else {
                "returned ?".into()
            });
            ptrs.remove(&live[d]);
            live.remove(d);
            printed = true;
            j += 1;
        }
        if printed {
            if solve {
                m.dump(out);
            } else {
                out.line("List? ");
            }
            out.line("");
        }
    }
    Ok(())
}

/// `-A +10,-0,...`: each op split on its own sign as `op.split(sign)[1]` does.
fn listed_ops(list: &str, m: &mut Heap, solve: bool, out: &mut Out) -> Result<(), End> {
    let mut ptrs: HashMap<i128, i128> = HashMap::new();
    let mut c = 0i128;
    for op in list.split(',') {
        let Some(sign) = op.chars().next() else {
            return Err(raise("IndexError", "string index out of range"));
        };
        let second = |op: &str| op.split(sign).nth(1).unwrap_or("").to_string();
        match sign {
            '+' => {
                let size = int(&second(op))?;
                let (ptr, cnt) = m.malloc(size)?;
                if ptr != -1 {
                    ptrs.insert(c, ptr);
                }
                out.part(format!("ptr[{c}] = Alloc({size})"));
                if solve {
                    out.line(format!(" returned {ptr} (searched {cnt} elements)"));
                } else {
                    out.line(" returned ?");
                }
                c += 1;
            }
            '-' => {
                let index = int(&second(op))?;
                if index >= ptrs.len() as i128 {
                    out.line("Invalid Free: Skipping");
                    continue;
                }
                out.line(format!("Free(ptr[{index}])"));
                let Some(&addr) = ptrs.get(&index) else {
                    return Err(raise("KeyError", index.to_string()));
                };
                let rc = m.free(addr);
                out.line(if solve {
                    format!("returned {rc}")
                } else {
                    "returned ?".into()
                });
            }
            // The script calls an undefined abort() here.
            _ => return Err(raise("NameError", "name 'abort' is not defined")),
        }
        if solve {
            m.dump(out);
        } else {
            out.line("List?");
        }
        out.line("");
    }
    Ok(())
}
