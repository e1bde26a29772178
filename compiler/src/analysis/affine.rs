//! Affine forms of index values: `c0 + sum(c_k * s_k)` over SSA values
//! `s_k` (loop variables, arguments, other results), read from the
//! `arith` ops that compute them and through the loads of locals
//! (`analysis::locals`).

use melior::ir::{attribute::IntegerAttribute, operation::OperationLike, Value, ValueLike};
use std::collections::BTreeMap;

/// An SSA value, by identity.
pub type Symbol = usize;

/// `constant + sum(coefficients[s] * s)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Affine {
    pub constant: i64,
    pub coefficients: BTreeMap<Symbol, i64>,
}

impl Affine {
    fn constant(value: i64) -> Self {
        Self {
            constant: value,
            coefficients: BTreeMap::new(),
        }
    }

    fn symbol(symbol: Symbol) -> Self {
        Self {
            constant: 0,
            coefficients: BTreeMap::from([(symbol, 1)]),
        }
    }

    fn add(mut self, other: &Affine, sign: i64) -> Option<Self> {
        self.constant = self
            .constant
            .checked_add(other.constant.checked_mul(sign)?)?;
        for (symbol, coefficient) in &other.coefficients {
            let entry = self.coefficients.entry(*symbol).or_insert(0);
            *entry = entry.checked_add(coefficient.checked_mul(sign)?)?;
        }
        self.coefficients.retain(|_, c| *c != 0);
        Some(self)
    }

    fn scale(mut self, factor: i64) -> Option<Self> {
        self.constant = self.constant.checked_mul(factor)?;
        for coefficient in self.coefficients.values_mut() {
            *coefficient = coefficient.checked_mul(factor)?;
        }
        self.coefficients.retain(|_, c| *c != 0);
        Some(self)
    }

    fn as_constant(&self) -> Option<i64> {
        self.coefficients.is_empty().then_some(self.constant)
    }

    /// `self - other`, where it is a constant.
    pub fn difference(&self, other: &Affine) -> Option<i64> {
        self.clone().add(other, -1)?.as_constant()
    }

    /// The coefficient of `symbol`.
    pub fn coefficient(&self, symbol: Symbol) -> i64 {
        self.coefficients.get(&symbol).copied().unwrap_or(0)
    }

    /// This form without the `symbol` term.
    pub fn without(&self, symbol: Symbol) -> Affine {
        let mut rest = self.clone();
        rest.coefficients.remove(&symbol);
        rest
    }
}

/// The identity of a value, for use as a symbol.
pub fn symbol_of(value: Value) -> Symbol {
    value.to_raw().ptr as usize
}

/// The affine form of an integer or index value, or None when it is not
/// affine (or too deep to follow).
pub fn affine(value: Value) -> Option<Affine> {
    affine_at(value, 0)
}

fn affine_at(value: Value, depth: usize) -> Option<Affine> {
    if depth > 64 {
        return None;
    }
    if parla_dialects::values::block_argument(value).is_some() {
        return Some(Affine::symbol(symbol_of(value)));
    }
    let result = parla_dialects::values::op_result(value)?;
    let op = result.owner();
    let name = op.name();
    let name = name.as_string_ref().as_str().unwrap_or("");
    let operand = |i: usize| op.operand(i).ok().and_then(|v| affine_at(v, depth + 1));
    match name {
        "arith.constant" => {
            let attribute = op.attribute("value").ok()?;
            IntegerAttribute::try_from(attribute)
                .ok()
                .map(|i| Affine::constant(i.value()))
        }
        "arith.index_cast" | "arith.index_castui" | "arith.extsi" => operand(0),
        // A local's value, where the store before it in the block is known.
        "memref.load" => match super::locals::stored_value(op) {
            Some(stored) => affine_at(stored, depth + 1),
            None => Some(Affine::symbol(symbol_of(value))),
        },
        "arith.addi" => operand(0)?.add(&operand(1)?, 1),
        "arith.subi" => operand(0)?.add(&operand(1)?, -1),
        "arith.muli" => {
            let (a, b) = (operand(0)?, operand(1)?);
            match (a.as_constant(), b.as_constant()) {
                (Some(c), _) => b.scale(c),
                (_, Some(c)) => a.scale(c),
                _ => Some(Affine::symbol(symbol_of(value))),
            }
        }
        // Anything else is an opaque symbol of its own.
        _ => Some(Affine::symbol(symbol_of(value))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_combine() {
        let i = Affine::symbol(1);
        let j = Affine::symbol(2);
        let e = i
            .clone()
            .scale(3)
            .unwrap()
            .add(&j, 1)
            .unwrap()
            .add(&Affine::constant(4), -1)
            .unwrap();
        assert_eq!(e.coefficient(1), 3);
        assert_eq!(e.coefficient(2), 1);
        assert_eq!(e.constant, -4);
        assert_eq!(e.without(1), j.add(&Affine::constant(4), -1).unwrap());
        assert!(i
            .clone()
            .add(&i.scale(-1).unwrap(), 1)
            .unwrap()
            .coefficients
            .is_empty());
    }
}
