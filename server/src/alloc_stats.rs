//! A counting wrapper around the allocator (`crate::allocator`) (feature `alloc-stats`): how many bytes the
//! evaluator allocates, in which sizes, and the live peak, printed to stderr at exit.
//! Used to find where memory goes; never built by default.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

const BUCKETS: usize = 33;

/// mimalloc, counting every allocation by size (16-byte buckets up to 512 bytes).
pub struct Counting;

static COUNTS: [AtomicUsize; BUCKETS] = [const { AtomicUsize::new(0) }; BUCKETS];
static BYTES: [AtomicUsize; BUCKETS] = [const { AtomicUsize::new(0) }; BUCKETS];
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn record(size: usize) {
    let b = (size.saturating_sub(1) / 16).min(BUCKETS - 1);
    COUNTS[b].fetch_add(1, Relaxed);
    BYTES[b].fetch_add(size, Relaxed);
    let live = LIVE.fetch_add(size, Relaxed) + size;
    PEAK.fetch_max(live, Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        record(l.size());
        unsafe { crate::allocator::SmallFirst.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        record(l.size());
        unsafe { crate::allocator::SmallFirst.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        unsafe { crate::allocator::SmallFirst.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_sub(l.size(), Relaxed);
        record(new);
        unsafe { crate::allocator::SmallFirst.realloc(p, l, new) }
    }
}

/// Writes the histogram to stderr.
pub fn report() {
    let mut total = (0, 0);
    for b in 0..BUCKETS {
        let (n, bytes) = (COUNTS[b].load(Relaxed), BYTES[b].load(Relaxed));
        total = (total.0 + n, total.1 + bytes);
        if n > 0 {
            let hi = if b == BUCKETS - 1 {
                "+".to_string()
            } else {
                format!("{}", b * 16 + 16)
            };
            eprintln!(
                "alloc {:>4}..{:<4} {:>10} allocs {:>12} bytes",
                b * 16 + 1,
                hi,
                n,
                bytes
            );
        }
    }
    eprintln!(
        "alloc total {} allocs, {} bytes, live peak {} bytes",
        total.0,
        total.1,
        PEAK.load(Relaxed)
    );
}
