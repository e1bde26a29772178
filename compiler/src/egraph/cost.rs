//! What an expression costs: roughly the latency of each operation, so
//! that rewrites trade multiplications for shifts and additions, and
//! divisions for anything.

use super::language::Arith;
use egg::{CostFunction, Id, Language, RecExpr};

pub struct OpCost;

impl CostFunction<Arith> for OpCost {
    type Cost = usize;

    fn cost<C>(&mut self, enode: &Arith, mut costs: C) -> usize
    where
        C: FnMut(Id) -> usize,
    {
        let own = match enode {
            Arith::Num(_) | Arith::Symbol(_) => 1,
            Arith::Add(_) | Arith::Sub(_) | Arith::Shl(_) | Arith::Min(_) | Arith::Max(_) => 2,
            Arith::Mul(_) => 4,
            Arith::Div(_) | Arith::Rem(_) => 20,
        };
        enode.fold(own, |sum, id| sum + costs(id))
    }
}

/// The cost of an expression as written.
pub fn cost_of(expr: &RecExpr<Arith>) -> usize {
    OpCost.cost_rec(expr)
}
