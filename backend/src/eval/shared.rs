//! `Shared<T>`: the reference-counted pointer every shared evaluator value sits behind.
//!
//! `Rc` without the weak count, which no value uses: the header is one word, so a thunk,
//! the most numerous allocation, is 32 bytes instead of 40. The count is the first field
//! for every `T` (`repr(C)`), which lets `Value::clone` bump it without a per-variant call.

use std::cell::Cell;
use std::ptr::NonNull;

/// A reference-counted pointer with a one-word header: `Rc` without the weak count, which
/// no value uses. Every shared value sits behind one; thunks are the most numerous
/// allocation, and the word saved makes one 32 bytes instead of 40.
pub struct Shared<T>(NonNull<SharedInner<T>>);

// `repr(C)` keeps `refs` first for every `T`, so the count of any shared value is read
// the same way (see `Value::clone`).
#[repr(C)]
struct SharedInner<T> {
    refs: Cell<usize>,
    value: T,
}

impl<T> Shared<T> {
    /// Moves `value` into a new allocation with one handle.
    #[inline]
    pub fn new(value: T) -> Shared<T> {
        let inner = Box::new(SharedInner {
            refs: Cell::new(1),
            value,
        });
        Shared(NonNull::from(Box::leak(inner)))
    }
    /// Whether two handles point to the same allocation.
    #[inline]
    pub fn ptr_eq(a: &Shared<T>, b: &Shared<T>) -> bool {
        a.0 == b.0
    }
    /// The allocation's address as a number: an identity, for cycle and repeat detection.
    #[inline]
    pub fn addr(this: &Shared<T>) -> usize {
        this.0.as_ptr() as usize
    }
    /// The bytes one allocation takes.
    pub fn alloc_size() -> usize {
        std::mem::size_of::<SharedInner<T>>()
    }
    #[inline]
    fn inner(&self) -> &SharedInner<T> {
        // SAFETY: the allocation lives as long as any handle.
        unsafe { self.0.as_ref() }
    }
    #[inline]
    pub(super) fn refs(&self) -> &Cell<usize> {
        &self.inner().refs
    }
    #[inline]
    pub(super) fn bump(refs: &Cell<usize>) {
        let n = refs
            .get()
            .checked_add(1)
            .unwrap_or_else(|| std::process::abort());
        refs.set(n);
    }
    /// Frees the value once its last handle is gone; out of line (as in `Rc`) so that
    /// the common decrement stays small where drops are inlined.
    #[inline(never)]
    fn drop_slow(&mut self) {
        // SAFETY: this was the last handle; the allocation came from `Box::new`.
        unsafe { drop(Box::from_raw(self.0.as_ptr())) }
    }
}

impl<T> Clone for Shared<T> {
    #[inline]
    fn clone(&self) -> Shared<T> {
        Shared::<T>::bump(self.refs());
        Shared(self.0)
    }
}

impl<T> Drop for Shared<T> {
    #[inline]
    fn drop(&mut self) {
        let refs = self.refs();
        let n = refs.get() - 1;
        refs.set(n);
        if n == 0 {
            self.drop_slow();
        }
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner().value
    }
}
