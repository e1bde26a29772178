//! The compiled specialisations of one JIT function, bounded: a call with
//! a new scalar value compiles a new one (about 1 MB of machine code and
//! engine each), so a loop that passes a changing value would otherwise
//! grow the process without limit.

use std::{collections::HashMap, sync::Arc};

/// How many specialisations of one function (per cache: CPU, GPU) stay
/// compiled; the least recently used goes first.
pub const KEPT: usize = 64;

pub struct Specialisations<T> {
    entries: HashMap<Vec<u8>, (Arc<T>, u64)>,
    /// Counts lookups and insertions: an entry's stamp is its last use.
    clock: u64,
}

impl<T> Default for Specialisations<T> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            clock: 0,
        }
    }
}

impl<T> Specialisations<T> {
    pub fn get(&mut self, key: &[u8]) -> Option<Arc<T>> {
        self.clock += 1;
        let (value, used) = self.entries.get_mut(key)?;
        *used = self.clock;
        Some(value.clone())
    }

    /// Keeps `value` under `key`, dropping the least recently used
    /// specialisation when [`KEPT`] are kept (a call still running it
    /// holds its own reference).
    pub fn insert(&mut self, key: Vec<u8>, value: Arc<T>) {
        self.clock += 1;
        if self.entries.len() >= KEPT && !self.entries.contains_key(&key) {
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
    }
}
