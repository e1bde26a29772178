//! Index values that are functions of one loop variable alone, such as
//! `i % 7` or `i // 2` (which are not affine), read from the `arith` ops
//! that compute them and evaluated for chosen values of the variable.

use super::affine::symbol_of;
use melior::ir::{attribute::IntegerAttribute, operation::OperationLike, Value, ValueLike};

/// An integer expression of one variable `v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexFunction {
    Variable,
    Constant(i64),
    Binary(Binary, Box<IndexFunction>, Box<IndexFunction>),
    /// `arith.cmpi` (1 when it holds, else 0).
    Compare(Predicate, Box<IndexFunction>, Box<IndexFunction>),
    /// `arith.select`: the second when the first is not 0, else the third.
    Select(Box<[IndexFunction; 3]>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    /// Truncating division (`divsi`).
    Div,
    FloorDiv,
    CeilDiv,
    /// Truncating remainder (`remsi`).
    Rem,
    Min,
    Max,
    /// Bitwise, as `arith.andi`, `ori` and `xori` (on `i1`, whose values
    /// here are 0 and 1, the logical operations).
    And,
    Or,
    Xor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predicate {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

const MAX_DEPTH: usize = 48;

/// `value` as a function of the block argument `variable` alone; None when
/// it depends on anything else (a load, another variable) or on an op this
/// does not model. Integers wider than 64 bits and unsigned ops are left
/// alone: their arithmetic is not i64's.
pub fn index_function(value: Value, variable: usize) -> Option<IndexFunction> {
    build(value, variable, 0)
}

fn build(value: Value, variable: usize, depth: usize) -> Option<IndexFunction> {
    if depth > MAX_DEPTH {
        return None;
    }
    if parla_dialects::values::block_argument(value).is_some() {
        return (symbol_of(value) == variable).then_some(IndexFunction::Variable);
    }
    let result = parla_dialects::values::op_result(value)?;
    let op = result.owner();
    let name = op.name();
    let name = name.as_string_ref().as_str().unwrap_or("");
    let operand = |i: usize| {
        op.operand(i)
            .ok()
            .and_then(|v| build(v, variable, depth + 1))
            .map(Box::new)
    };
    let binary = |kind| Some(IndexFunction::Binary(kind, operand(0)?, operand(1)?));
    match name {
        "arith.constant" => IntegerAttribute::try_from(op.attribute("value").ok()?)
            .ok()
            .map(|i| match value.r#type().to_string().as_str() {
                // `true` reads as -1 (its one bit, sign-extended).
                "i1" => IndexFunction::Constant(i64::from(i.value() != 0)),
                _ => IndexFunction::Constant(i.value()),
            }),
        "arith.index_cast" | "arith.extsi" => operand(0).map(|b| *b),
        "memref.load" => build(super::locals::stored_value(op)?, variable, depth + 1),
        "arith.addi" => binary(Binary::Add),
        "arith.subi" => binary(Binary::Sub),
        "arith.muli" => binary(Binary::Mul),
        "arith.divsi" => binary(Binary::Div),
        "arith.floordivsi" => binary(Binary::FloorDiv),
        "arith.ceildivsi" => binary(Binary::CeilDiv),
        "arith.remsi" => binary(Binary::Rem),
        "arith.minsi" => binary(Binary::Min),
        "arith.maxsi" => binary(Binary::Max),
        "arith.andi" => binary(Binary::And),
        "arith.ori" => binary(Binary::Or),
        "arith.xori" => binary(Binary::Xor),
        "arith.cmpi" => {
            // The predicate enum of arith.cmpi: eq, ne, slt, sle, sgt, sge, ...
            let code = IntegerAttribute::try_from(op.attribute("predicate").ok()?)
                .ok()?
                .value();
            let predicate = match code {
                0 => Predicate::Eq,
                1 => Predicate::Ne,
                2 => Predicate::Lt,
                3 => Predicate::Le,
                4 => Predicate::Gt,
                5 => Predicate::Ge,
                _ => return None,
            };
            Some(IndexFunction::Compare(predicate, operand(0)?, operand(1)?))
        }
        "arith.select" => Some(IndexFunction::Select(Box::new([
            *operand(0)?,
            *operand(1)?,
            *operand(2)?,
        ]))),
        _ => None,
    }
    .filter(|_| narrow_enough(value))
}

/// Whether the value's type is an integer of at most 64 bits, or an index.
fn narrow_enough(value: Value) -> bool {
    let text = value.r#type().to_string();
    text == "index"
        || text
            .strip_prefix('i')
            .and_then(|bits| bits.parse::<u32>().ok())
            .is_some_and(|bits| bits <= 64)
}

impl IndexFunction {
    /// The value at `v`; None where it is undefined (division by zero,
    /// overflow).
    pub fn at(&self, v: i64) -> Option<i64> {
        Some(match self {
            IndexFunction::Variable => v,
            IndexFunction::Constant(c) => *c,
            IndexFunction::Binary(kind, a, b) => {
                let (a, b) = (a.at(v)?, b.at(v)?);
                match kind {
                    Binary::Add => a.checked_add(b)?,
                    Binary::Sub => a.checked_sub(b)?,
                    Binary::Mul => a.checked_mul(b)?,
                    Binary::Div => a.checked_div(b)?,
                    Binary::FloorDiv => floor_div(a, b)?,
                    Binary::CeilDiv => {
                        floor_div(a, b)?.checked_add(i64::from(a.checked_rem(b)? != 0))?
                    }
                    Binary::Rem => a.checked_rem(b)?,
                    Binary::Min => a.min(b),
                    Binary::Max => a.max(b),
                    Binary::And => a & b,
                    Binary::Or => a | b,
                    Binary::Xor => a ^ b,
                }
            }
            IndexFunction::Compare(predicate, a, b) => {
                let (a, b) = (a.at(v)?, b.at(v)?);
                i64::from(match predicate {
                    Predicate::Eq => a == b,
                    Predicate::Ne => a != b,
                    Predicate::Lt => a < b,
                    Predicate::Le => a <= b,
                    Predicate::Gt => a > b,
                    Predicate::Ge => a >= b,
                })
            }
            IndexFunction::Select(parts) => {
                let [condition, yes, no] = &**parts;
                if condition.at(v)? != 0 {
                    yes.at(v)?
                } else {
                    no.at(v)?
                }
            }
        })
    }
}

fn floor_div(a: i64, b: i64) -> Option<i64> {
    let quotient = a.checked_div(b)?;
    let inexact = a.checked_rem(b)? != 0;
    Some(if inexact && ((a < 0) != (b < 0)) {
        quotient - 1
    } else {
        quotient
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary(kind: Binary, a: IndexFunction, b: IndexFunction) -> IndexFunction {
        IndexFunction::Binary(kind, Box::new(a), Box::new(b))
    }

    #[test]
    fn python_modulo_and_divisions() {
        use IndexFunction::{Constant, Variable};
        // i - 7 * (i // 7), as the front end writes i % 7.
        let modulo = binary(
            Binary::Sub,
            Variable,
            binary(
                Binary::Mul,
                Constant(7),
                binary(Binary::FloorDiv, Variable, Constant(7)),
            ),
        );
        assert_eq!(modulo.at(15), Some(1));
        assert_eq!(modulo.at(-1), Some(6));
        assert_eq!(binary(Binary::Div, Variable, Constant(2)).at(-3), Some(-1));
        assert_eq!(
            binary(Binary::CeilDiv, Variable, Constant(2)).at(3),
            Some(2)
        );
        assert_eq!(
            binary(Binary::CeilDiv, Variable, Constant(2)).at(-3),
            Some(-1)
        );
        assert_eq!(binary(Binary::Rem, Variable, Constant(0)).at(3), None);
        assert_eq!(
            binary(Binary::Mul, Variable, Constant(i64::MAX)).at(2),
            None
        );
        let select = IndexFunction::Select(Box::new([
            IndexFunction::Compare(Predicate::Lt, Box::new(Variable), Box::new(Constant(4))),
            Variable,
            Constant(0),
        ]));
        assert_eq!((select.at(3), select.at(5)), (Some(3), Some(0)));
        // A divisor guarded as Python's % by a value the front end does not
        // know: `d == 0 or d == -1` chooses 1 instead.
        let guard = binary(
            Binary::Or,
            IndexFunction::Compare(Predicate::Eq, Box::new(Variable), Box::new(Constant(0))),
            IndexFunction::Compare(Predicate::Eq, Box::new(Variable), Box::new(Constant(-1))),
        );
        assert_eq!(
            (guard.at(0), guard.at(-1), guard.at(5)),
            (Some(1), Some(1), Some(0))
        );
        assert_eq!(binary(Binary::Xor, guard, Constant(1)).at(5), Some(1));
    }
}
