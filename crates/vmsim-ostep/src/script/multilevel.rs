//! paging-multilevel-translate.py (vm-smalltables): a two-level page table in a 4 KB memory,
//! printed as the script prints it (memory dump, PDBR, each walk).

use super::{opt_int, opt_int_str, raise, seeded, End, Out};
use crate::args::Parsed;
use crate::pyrandom::PyRandom;
use std::path::Path;

const PAGE: usize = 32;
const FRAMES: usize = 128;

/// Physical memory, which frames are taken, and the page directory's frame.
struct Machine {
    mem: [u8; PAGE * FRAMES],
    used: [bool; FRAMES],
    taken: usize,
    pdbr: usize,
}

impl Machine {
    /// `findFree`: a random unused frame; AssertionError when none is left.
    fn find_free(&mut self, rng: &mut PyRandom) -> Result<usize, End> {
        if self.taken >= FRAMES {
            return Err(raise("AssertionError", "no free physical page"));
        }
        let mut look = (rng.random() * FRAMES as f64) as usize;
        while self.used[look] {
            look = (rng.random() * FRAMES as f64) as usize;
        }
        self.taken += 1;
        self.used[look] = true;
        Ok(look)
    }

    fn fill_7f(&mut self, frame: usize) {
        self.mem[frame * PAGE..(frame + 1) * PAGE].fill(0x7f);
    }

    /// `procAlloc`: the directory, then `n` distinct random pages with their tables and data.
    fn alloc(&mut self, n: i128, rng: &mut PyRandom) -> Result<Vec<usize>, End> {
        self.pdbr = self.find_free(rng)?;
        self.fill_7f(self.pdbr);
        let mut vused = [false; 1024];
        let mut pages = Vec::new();
        let mut k = 0i128;
        while k < n {
            let mut vp = (rng.random() * 1024.0) as usize;
            while vused[vp] {
                vp = (rng.random() * 1024.0) as usize;
            }
            vused[vp] = true;
            pages.push(vp);
            let pp = self.find_free(rng)?;
            let pde_addr = self.pdbr * PAGE + (vp >> 5);
            let pde = self.mem[pde_addr];
            let pt = if pde & 0x80 == 0 {
                let f = self.find_free(rng)?;
                self.mem[pde_addr] = 0x80 | f as u8;
                self.fill_7f(f);
                f
            } else {
                (pde & 0x7f) as usize
            };
            self.mem[pt * PAGE + (vp & 0x1f)] = 0x80 | pp as u8;
            for j in 0..PAGE {
                self.mem[pp * PAGE + j] = (rng.random() * 31.0) as u8;
            }
            k += 1;
        }
        Ok(pages)
    }
}

/// The script's flow.
pub fn run(o: &Parsed, out: &mut Out, _dir: &Path) -> Result<(), End> {
    out.line(format!("ARG seed {}", opt_int_str(o, 's')));
    out.line(format!("ARG allocated {}", opt_int_str(o, 'a')));
    out.line(format!("ARG num {}", opt_int_str(o, 'n')));
    out.line("");
    let mut rng = seeded(o, 's');
    let mut m = Machine {
        mem: [0; PAGE * FRAMES],
        used: [false; FRAMES],
        taken: 0,
        pdbr: 0,
    };
    let used = m.alloc(opt_int(o, 'a'), &mut rng)?;
    for i in 0..FRAMES {
        out.part(format!("page {i:3}:"));
        for b in &m.mem[i * PAGE..(i + 1) * PAGE] {
            out.part(format!("{b:02x}"));
        }
        out.line("");
    }
    out.line(format!(
        "\nPDBR: {}  (decimal) [This means the page directory is held in this page]\n",
        m.pdbr
    ));
    let solve = o.flag('c');
    let mut i = 0i128;
    while i < opt_int(o, 'n') {
        let far = rng.random() * 100.0 > 50.0;
        let va = if far || i >= used.len() as i128 {
            (rng.random() * 1024.0 * 32.0) as usize
        } else {
            (used[i as usize] << 5) | (rng.random() * 32.0) as usize
        };
        i += 1;
        if !solve {
            out.line(format!("Virtual Address {va:04x}: Translates To What Physical Address (And Fetches what Value)? Or Fault?"));
            continue;
        }
        out.line(format!("Virtual Address 0x{va:04x}:"));
        let pde_bits = (va & 0x7c00) >> 10;
        let pde = m.mem[(m.pdbr << 5) | pde_bits];
        let (valid, pt) = ((pde & 0x80) >> 7, pde & 0x7f);
        out.line(format!("  --> pde index:0x{pde_bits:x} [decimal {pde_bits}] pde contents:0x{pde:x} (valid {valid}, pfn 0x{pt:02x} [decimal {pt}])"));
        if valid == 0 {
            out.line("      --> Fault (page directory entry not valid)");
            continue;
        }
        let pte_bits = (va & 0x03e0) >> 5;
        let pte = m.mem[((pt as usize) << 5) | pte_bits];
        let (valid, pfn) = ((pte & 0x80) >> 7, pte & 0x7f);
        out.line(format!("    --> pte index:0x{pte_bits:x} [decimal {pte_bits}] pte contents:0x{pte:x} (valid {valid}, pfn 0x{pfn:02x} [decimal {pfn}])"));
        if valid == 0 {
            out.line("      --> Fault (page table entry not valid)");
            continue;
        }
        let pa = ((pfn as usize) << 5) | (va & 0x1f);
        out.line(format!(
            "      --> Translates to Physical Address 0x{pa:03x} --> Value: 0x{:02x}",
            m.mem[pa]
        ));
    }
    out.line("");
    Ok(())
}
