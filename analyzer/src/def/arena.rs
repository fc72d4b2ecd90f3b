//! A minimal typed arena: values in a `Vec`, addressed by a `u32` index that knows its type.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

/// The index of a value in an [`Arena`].
pub struct Idx<T> {
    raw: u32,
    _ty: PhantomData<fn() -> T>,
}

impl<T> Idx<T> {
    /// Builds an index from its raw position.
    pub fn from_raw(raw: u32) -> Self {
        Idx {
            raw,
            _ty: PhantomData,
        }
    }
    /// The raw position in the arena.
    pub fn into_raw(self) -> u32 {
        self.raw
    }
}

impl<T> Clone for Idx<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Idx<T> {}
impl<T> PartialEq for Idx<T> {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}
impl<T> Eq for Idx<T> {}
impl<T> PartialOrd for Idx<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Idx<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.raw.cmp(&other.raw)
    }
}
impl<T> Hash for Idx<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.raw.hash(state)
    }
}
impl<T> fmt::Debug for Idx<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Idx({})", self.raw)
    }
}

/// Values of one type, allocated once and never removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arena<T> {
    data: Vec<T>,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Arena { data: Vec::new() }
    }
}

impl<T> Arena<T> {
    /// Stores a value and returns its index.
    pub fn alloc(&mut self, value: T) -> Idx<T> {
        let idx = Idx::from_raw(self.data.len() as u32);
        self.data.push(value);
        idx
    }
    /// Number of values stored.
    pub fn len(&self) -> usize {
        self.data.len()
    }
    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    /// Every index with its value, in allocation order.
    pub fn iter(&self) -> impl Iterator<Item = (Idx<T>, &T)> + '_ {
        self.data
            .iter()
            .enumerate()
            .map(|(i, v)| (Idx::from_raw(i as u32), v))
    }
    /// Shrinks the backing storage (lowering is done allocating).
    pub fn shrink_to_fit(&mut self) {
        self.data.shrink_to_fit()
    }
}

impl<T> std::ops::Index<Idx<T>> for Arena<T> {
    type Output = T;
    fn index(&self, idx: Idx<T>) -> &T {
        &self.data[idx.raw as usize]
    }
}
impl<T> std::ops::IndexMut<Idx<T>> for Arena<T> {
    fn index_mut(&mut self, idx: Idx<T>) -> &mut T {
        &mut self.data[idx.raw as usize]
    }
}
