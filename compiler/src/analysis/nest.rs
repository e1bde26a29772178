//! Where two accesses of a parallel loop's body meet when their affine
//! indices also use the variables of inner loops: `x[i, j] = x[j, i]`
//! over an inner `for j`, or `y[i] = 0` beside `y[j] += x[i]`.
//!
//! Every iteration of the parallel loop runs each inner loop with
//! constant bounds over all of its values, so an access that runs in
//! every iteration touches the element of each combination of them: the
//! indices are evaluated, exactly, on the first few iterations and the
//! first few values of each inner variable. A meeting found there is
//! certain; none found proves nothing.

use super::affine::{Affine, Symbol};
use std::collections::HashMap;

/// The iterations of a loop with constant bounds: the variable is
/// `lower + step * t` in iteration `t` of `0..trips`.
#[derive(Clone, Copy, Debug)]
pub struct Iterations {
    pub lower: i64,
    pub step: i64,
    pub trips: i64,
}

impl Iterations {
    pub fn value(&self, t: i64) -> Option<i64> {
        self.lower.checked_add(self.step.checked_mul(t)?)
    }

    /// The first `count` and the last `count` iterations, each once.
    pub fn sampled(&self, count: i64) -> impl Iterator<Item = i64> {
        let head = self.trips.min(count);
        let tail = (self.trips - count).max(head);
        (0..head).chain(tail..self.trips)
    }
}

/// How many iterations of the parallel loop, and values of each inner
/// variable, are tried.
const SAMPLES: i64 = 8;

/// At most this many combinations of inner variables per iteration.
const COMBINATIONS: usize = 512;

/// The elements one access touches in one iteration of the loop (whose
/// variable is `iv`), for the sampled values of the inner variables; None
/// when its indices use anything but `iv` and inner variables in `inner`.
fn elements(
    iv: Symbol,
    forms: &[Affine],
    value: i64,
    inner: &HashMap<Symbol, Iterations>,
) -> Option<Vec<Vec<i64>>> {
    let mut symbols: Vec<Symbol> = forms
        .iter()
        .flat_map(|f| f.coefficients.keys().copied())
        .filter(|s| *s != iv)
        .collect();
    symbols.sort_unstable();
    symbols.dedup();
    let ranges: Vec<Vec<i64>> = symbols
        .iter()
        .map(|s| {
            let range = inner.get(s)?;
            range
                .sampled(SAMPLES / 2)
                .map(|t| range.value(t))
                .collect::<Option<Vec<i64>>>()
        })
        .collect::<Option<_>>()?;
    let combinations = ranges
        .iter()
        .try_fold(1usize, |n, r| n.checked_mul(r.len()))
        .filter(|n| *n <= COMBINATIONS)?;
    let mut found = Vec::with_capacity(combinations);
    for n in 0..combinations {
        let mut rest = n;
        let mut values: HashMap<Symbol, i64> = HashMap::from([(iv, value)]);
        for (symbol, range) in symbols.iter().zip(&ranges) {
            values.insert(*symbol, range[rest % range.len()]);
            rest /= range.len();
        }
        let element = forms
            .iter()
            .map(|f| {
                f.coefficients.iter().try_fold(f.constant, |sum, (s, c)| {
                    sum.checked_add(c.checked_mul(*values.get(s)?)?)
                })
            })
            .collect::<Option<Vec<i64>>>()?;
        found.push(element);
    }
    Some(found)
}

/// Iterations `(t, u)`, `t != u`, in which the store with index forms
/// `store` and another access with `other` (the store itself when `same`)
/// touch one element, over the loop's iterations `space`; inner variables
/// take the values of their loops in `inner`.
pub fn nest_meeting(
    iv: Symbol,
    store: &[Affine],
    other: &[Affine],
    space: Iterations,
    inner: &HashMap<Symbol, Iterations>,
    same: bool,
) -> Option<(i64, i64)> {
    if store.len() != other.len() {
        return None;
    }
    let mut written: HashMap<Vec<i64>, i64> = HashMap::new();
    for t in space.sampled(SAMPLES / 2) {
        for element in elements(iv, store, space.value(t)?, inner)? {
            match written.get(&element) {
                Some(&first) if same && first != t => return Some((first, t)),
                Some(_) => {}
                None => {
                    written.insert(element, t);
                }
            }
        }
    }
    if same {
        return None;
    }
    for u in space.sampled(SAMPLES / 2) {
        for element in elements(iv, other, space.value(u)?, inner)? {
            if let Some(&t) = written.get(&element).filter(|&&t| t != u) {
                return Some((t, u));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const I: Symbol = 0;
    const J: Symbol = 1;
    const K: Symbol = 2;

    fn form(terms: &[(Symbol, i64)], constant: i64) -> Affine {
        Affine {
            constant,
            coefficients: terms.iter().copied().collect::<BTreeMap<_, _>>(),
        }
    }

    fn loop_of(trips: i64) -> Iterations {
        Iterations {
            lower: 0,
            step: 1,
            trips,
        }
    }

    #[test]
    fn a_transpose_in_place_meets_itself_across_iterations() {
        let inner = HashMap::from([(J, loop_of(64))]);
        let write = [form(&[(I, 1)], 0), form(&[(J, 1)], 0)];
        let read = [form(&[(J, 1)], 0), form(&[(I, 1)], 0)];
        let (t, u) = nest_meeting(I, &write, &read, loop_of(64), &inner, false).unwrap();
        assert_ne!(t, u);
        // Each iteration writes its own row: no write meets another.
        assert_eq!(
            nest_meeting(I, &write, &write, loop_of(64), &inner, true),
            None
        );
        // Rows read in their own iteration only.
        let own_row = [form(&[(I, 1)], 0), form(&[(J, 1)], 0)];
        assert_eq!(
            nest_meeting(I, &write, &own_row, loop_of(64), &inner, false),
            None
        );
    }

    #[test]
    fn every_iteration_writing_every_element_of_an_inner_loop_is_found() {
        let inner = HashMap::from([(J, loop_of(10))]);
        let spread = [form(&[(J, 1)], 0)];
        assert!(nest_meeting(I, &spread, &spread, loop_of(10), &inner, true).is_some());
        // y[i] against y[j]: iteration 0 resets what iteration 1 adds to.
        let own = [form(&[(I, 1)], 0)];
        assert!(nest_meeting(I, &own, &spread, loop_of(10), &inner, false).is_some());
    }

    #[test]
    fn disjoint_ranges_and_unknown_symbols_meet_nowhere() {
        // x[i, j] and x[i, j + 100] with j < 10: different columns.
        let inner = HashMap::from([(J, loop_of(10))]);
        let left = [form(&[(I, 1)], 0), form(&[(J, 1)], 0)];
        let right = [form(&[(I, 1)], 0), form(&[(J, 1)], 100)];
        assert_eq!(
            nest_meeting(I, &left, &right, loop_of(10), &inner, false),
            None
        );
        // K is no inner loop with known bounds: nothing is claimed.
        let unknown = [form(&[(K, 1)], 0), form(&[(I, 1)], 0)];
        assert_eq!(
            nest_meeting(I, &left, &unknown, loop_of(10), &inner, false),
            None
        );
    }
}
