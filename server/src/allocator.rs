//! The process's allocator: mimalloc, entered through its plain `mi_malloc` whenever that
//! gives the alignment asked for anyway.
//!
//! The evaluator makes millions of small allocations (thunks, frames, sets), and mimalloc
//! handles that far better than glibc. The `mimalloc` crate always takes the aligned entry
//! point, a few more checks on every allocation; like Rust's own `System` with `malloc`,
//! this calls the plain one when the layout allows (about 3% of evalModules' user time).

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys::{mi_free, mi_malloc, mi_realloc, mi_zalloc};

/// mimalloc, through `mi_malloc` when the alignment allows it.
pub struct SmallFirst;

/// The alignment `mi_malloc` gives a block of `size` bytes without being asked: 16 bytes
/// when the size allows it, else the size's own (natural) alignment. A Rust layout's size
/// is a multiple of its alignment, so `align <= 16 && align <= size` is always met by it.
fn plain_malloc_aligns(align: usize, size: usize) -> bool {
    const MI_MAX_ALIGN: usize = 16;
    align <= MI_MAX_ALIGN && align <= size
}

// SAFETY: every path returns memory from mimalloc, which `mi_free` releases, with at least
// the alignment asked for (`plain_malloc_aligns`; the test below checks it over sizes).
unsafe impl GlobalAlloc for SmallFirst {
    #[inline]
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if plain_malloc_aligns(l.align(), l.size()) {
            unsafe { mi_malloc(l.size()) as *mut u8 }
        } else {
            unsafe { mimalloc::MiMalloc.alloc(l) }
        }
    }
    #[inline]
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if plain_malloc_aligns(l.align(), l.size()) {
            unsafe { mi_zalloc(l.size()) as *mut u8 }
        } else {
            unsafe { mimalloc::MiMalloc.alloc_zeroed(l) }
        }
    }
    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, _l: Layout) {
        unsafe { mi_free(p as *mut c_void) }
    }
    #[inline]
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if plain_malloc_aligns(l.align(), new) {
            unsafe { mi_realloc(p as *mut c_void, new) as *mut u8 }
        } else {
            unsafe { mimalloc::MiMalloc.realloc(p, l, new) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layout_gets_its_alignment() {
        let a = SmallFirst;
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in (align..=16_384).step_by(align).take(600) {
                let l = Layout::from_size_align(size, align).unwrap();
                // SAFETY: non-zero sizes; every block is freed with its own layout.
                unsafe {
                    let blocks: Vec<*mut u8> = (0..3).map(|_| a.alloc(l)).collect();
                    let zeroed = a.alloc_zeroed(l);
                    for &p in blocks.iter().chain([&zeroed]) {
                        assert!(!p.is_null());
                        assert_eq!(p as usize % align, 0, "size {size}, align {align}");
                    }
                    assert!((0..size).all(|i| *zeroed.add(i) == 0));
                    let grown = a.realloc(blocks[0], l, size * 3);
                    assert_eq!(grown as usize % align, 0, "realloc to {}", size * 3);
                    a.dealloc(grown, Layout::from_size_align(size * 3, align).unwrap());
                    for &p in blocks[1..].iter().chain([&zeroed]) {
                        a.dealloc(p, l);
                    }
                }
            }
        }
    }
}
