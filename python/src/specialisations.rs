//! The compiled specialisations of one JIT function, bounded on the CPU: a
//! call with a new scalar value compiles a new one (about 1 MB of machine
//! code and engine each), so a loop that passes a changing value would
//! otherwise grow the process without limit.

use std::{collections::HashMap, sync::Arc};

/// How many CPU specialisations of one function stay compiled; the least
/// recently used goes first.
pub const KEPT: usize = 64;

pub struct Specialisations<T> {
    entries: HashMap<Vec<u8>, (Arc<T>, u64)>,
    /// Counts lookups and insertions: an entry's stamp is its last use.
    clock: u64,
    limit: usize,
    /// Counts `clear`s: a compile that began before one (with callees that
    /// have since been rebound) must not fill the emptied cache.
    generation: u64,
}

impl<T> Specialisations<T> {
    /// At most [`KEPT`]: for CPU kernels, which have finished when their
    /// call returns.
    pub fn bounded() -> Self {
        Self::with_limit(KEPT)
    }

    /// Every one: GPU executables, whose kernels may still run on a stream
    /// after their call returns, and which dropping would unload.
    pub fn unbounded() -> Self {
        Self::with_limit(usize::MAX)
    }

    fn with_limit(limit: usize) -> Self {
        Self {
            entries: HashMap::new(),
            clock: 0,
            limit,
            generation: 0,
        }
    }

    /// The specialisation under `key`; on a miss, the generation to
    /// [`insert`](Self::insert) its compilation under.
    pub fn get(&mut self, key: &[u8]) -> Result<Arc<T>, u64> {
        self.clock += 1;
        match self.entries.get_mut(key) {
            Some((value, used)) => {
                *used = self.clock;
                Ok(value.clone())
            }
            None => Err(self.generation),
        }
    }

    /// Keeps `value` under `key`, compiled since `get` gave `generation`,
    /// unless the cache was cleared since (what it was compiled with may
    /// be stale); drops the least recently used specialisation when the
    /// limit is reached (a call still running it holds its own reference).
    pub fn insert(&mut self, key: Vec<u8>, value: Arc<T>, generation: u64) {
        if generation != self.generation {
            return;
        }
        self.clock += 1;
        if self.entries.len() >= self.limit && !self.entries.contains_key(&key) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(key, (value, self.clock));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.generation += 1;
    }
}
