//! Where `execve` puts things in a Linux x86-64 address space, and how much ASLR moves them
//! (arch/x86/mm/mmap.c, fs/binfmt_elf.c): a PIE's text, data and bss above `ELF_ET_DYN_BASE`,
//! the heap (`brk`) just after bss, the mmap area growing down from below the stack gap, the
//! stack at the top of the user address space, and the vDSO.
//!
//! Entropy, as Linux's defaults give it on x86-64 with 4-level paging: the mmap base and the PIE
//! base move by 28 bits of pages (`mmap_rnd_bits`), the stack by 22 bits of pages
//! (`STACK_RND_MASK`), the heap start by up to 32 MiB (13 bits of pages). All draws come from a
//! seeded generator, so a layout is reproducible; with ASLR off every offset is zero, as under
//! `setarch -R`.

use super::vma::{Prot, Vma, PAGE};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;

/// Top of the user address space with 4-level paging (`TASK_SIZE_MAX`, one page below 2^47).
pub const TASK_SIZE: u64 = (1 << 47) - PAGE;
/// Where a PIE is loaded without randomisation (2/3 of TASK_SIZE, page aligned).
pub const ELF_ET_DYN_BASE: u64 = 0x5555_5555_4000;
/// Gap between the stack top and the mmap base (128 MiB minimum, as mmap_base() keeps).
pub const STACK_GAP: u64 = 128 << 20;
/// Initial stack size mapped at exec.
pub const STACK_SIZE: u64 = 132 << 10;

/// Sizes of a program image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Image {
    /// Text (code) bytes.
    pub text: u64,
    /// Initialised data bytes.
    pub data: u64,
    /// Zero-initialised data bytes.
    pub bss: u64,
}

impl Default for Image {
    /// A small program: 64 KiB of text, 8 KiB of data, 16 KiB of bss.
    fn default() -> Self {
        Image {
            text: 64 << 10,
            data: 8 << 10,
            bss: 16 << 10,
        }
    }
}

/// The bases ASLR chose, for reports and for mmap placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Layout {
    /// First byte of text.
    pub text: u64,
    /// First byte of data.
    pub data: u64,
    /// First byte of bss.
    pub bss: u64,
    /// Start of the heap (the initial program break).
    pub brk: u64,
    /// Top of the mmap area (mappings go below it).
    pub mmap_base: u64,
    /// Top of the stack.
    pub stack_top: u64,
    /// The vDSO.
    pub vdso: u64,
}

fn round_up(x: u64) -> u64 {
    x.div_ceil(PAGE) * PAGE
}

impl Layout {
    /// Chooses a layout for `image`, randomised from `seed` when `aslr` is on.
    pub fn new(image: Image, aslr: bool, seed: u64) -> Self {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut pages = |bits: u32| -> u64 {
            if aslr {
                rng.gen_range(0..1u64 << bits) * PAGE
            } else {
                0
            }
        };
        let mmap_rnd = pages(28);
        let pie_rnd = pages(28);
        let stack_rnd = pages(22);
        let brk_rnd = pages(13);
        let vdso_rnd = pages(9);
        let stack_top = TASK_SIZE - stack_rnd;
        let mmap_base = stack_top - STACK_GAP - mmap_rnd;
        let text = ELF_ET_DYN_BASE + pie_rnd;
        let data = text + round_up(image.text);
        let bss = data + round_up(image.data);
        let brk = round_up(bss + image.bss) + brk_rnd;
        Layout {
            text,
            data,
            bss,
            brk,
            mmap_base,
            stack_top,
            vdso: stack_top + PAGE + vdso_rnd,
        }
    }

    /// The VMAs `execve` creates for `image` under this layout.
    pub fn vmas(&self, image: Image) -> Vec<Vma> {
        let mut v = vec![
            Vma::anon(self.text, self.data, Prot::RX, "text"),
            Vma::anon(self.data, self.bss, Prot::RW, "data"),
        ];
        if image.bss > 0 {
            v.push(Vma::anon(
                self.bss,
                round_up(self.bss + image.bss),
                Prot::RW,
                "bss",
            ));
        }
        // An empty heap VMA that brk() grows.
        v.push(Vma::anon(self.brk, self.brk + PAGE, Prot::RW, "[heap]"));
        let mut stack = Vma::anon(
            self.stack_top - STACK_SIZE,
            self.stack_top,
            Prot::RW,
            "[stack]",
        );
        stack.grows_down = true;
        v.push(stack);
        v.push(Vma::anon(
            self.vdso,
            self.vdso + 2 * PAGE,
            Prot::RX,
            "[vdso]",
        ));
        v
    }
}

/// Bits of entropy observed in `bases` (log2 of distinct values), for ASLR reports.
pub fn entropy_bits(bases: &[u64]) -> f64 {
    let mut v = bases.to_vec();
    v.sort_unstable();
    v.dedup();
    (v.len() as f64).log2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_aslr_the_layout_is_linuxs_default() {
        let l = Layout::new(Image::default(), false, 0);
        assert_eq!(l.text, 0x5555_5555_4000);
        assert_eq!(l.stack_top, 0x7fff_ffff_f000);
        assert_eq!(l.mmap_base, 0x7fff_ffff_f000 - (128 << 20));
        assert_eq!(l.data, l.text + (64 << 10));
        assert_eq!(l.brk, l.bss + (16 << 10));
        let vmas = l.vmas(Image::default());
        assert_eq!(vmas.len(), 6);
        assert!(vmas.iter().any(|v| v.grows_down));
    }

    #[test]
    fn aslr_moves_every_region_within_linuxs_ranges() {
        let ls: Vec<Layout> = (0..200)
            .map(|s| Layout::new(Image::default(), true, s))
            .collect();
        for l in &ls {
            assert!(l.text >= ELF_ET_DYN_BASE && l.text < ELF_ET_DYN_BASE + (PAGE << 28));
            assert!(l.stack_top <= TASK_SIZE && l.stack_top > TASK_SIZE - (PAGE << 22));
            assert!(l.brk - (l.bss + (16 << 10)) < 32 << 20);
            assert!(l.mmap_base < l.stack_top - STACK_GAP);
            assert_eq!(l.text % PAGE, 0);
        }
        let stacks: Vec<u64> = ls.iter().map(|l| l.stack_top).collect();
        // 200 draws from 2^22 values are almost surely all distinct.
        assert!(entropy_bits(&stacks) > 7.5);
        assert_eq!(
            Layout::new(Image::default(), true, 7),
            Layout::new(Image::default(), true, 7)
        );
    }
}
