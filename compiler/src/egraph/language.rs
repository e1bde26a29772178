//! Integer arithmetic as the e-graph sees it, with constant folding.

use egg::{define_language, Analysis, DidMerge, EGraph, Id, Symbol};

define_language! {
    /// Integer (and index) expressions: `arith` ops with wrapping 64-bit
    /// semantics; values from outside the expression are symbols.
    pub enum Arith {
        Num(i64),
        "+" = Add([Id; 2]),
        "-" = Sub([Id; 2]),
        "*" = Mul([Id; 2]),
        // Signed division and remainder, rounding toward zero (divsi/remsi).
        "/" = Div([Id; 2]),
        "%" = Rem([Id; 2]),
        "<<" = Shl([Id; 2]),
        "min" = Min([Id; 2]),
        "max" = Max([Id; 2]),
        Symbol(Symbol),
    }
}

/// Folds operations on constants (never on overflow or division by zero,
/// whose results the target defines differently).
#[derive(Default)]
pub struct ConstantFold;

impl Analysis<Arith> for ConstantFold {
    type Data = Option<i64>;

    fn make(egraph: &mut EGraph<Arith, Self>, enode: &Arith, _id: Id) -> Self::Data {
        let value = |id: &Id| egraph[*id].data;
        match enode {
            Arith::Num(n) => Some(*n),
            Arith::Add([a, b]) => value(a)?.checked_add(value(b)?),
            Arith::Sub([a, b]) => value(a)?.checked_sub(value(b)?),
            Arith::Mul([a, b]) => value(a)?.checked_mul(value(b)?),
            Arith::Div([a, b]) => value(a)?.checked_div(value(b)?),
            Arith::Rem([a, b]) => value(a)?.checked_rem(value(b)?),
            Arith::Shl([a, b]) => {
                let shift = u32::try_from(value(b)?).ok().filter(|s| *s < 63)?;
                value(a)?.checked_mul(1i64 << shift)
            }
            Arith::Min([a, b]) => Some(value(a)?.min(value(b)?)),
            Arith::Max([a, b]) => Some(value(a)?.max(value(b)?)),
            Arith::Symbol(_) => None,
        }
    }

    fn merge(&mut self, to: &mut Self::Data, from: Self::Data) -> DidMerge {
        egg::merge_option(to, from, |a, b| {
            debug_assert_eq!(*a, b, "one e-class, two constants");
            DidMerge(false, false)
        })
    }

    fn modify(egraph: &mut EGraph<Arith, Self>, id: Id) {
        if let Some(value) = egraph[id].data {
            let constant = egraph.add(Arith::Num(value));
            egraph.union(id, constant);
        }
    }
}
