//! Strength reduction: multiplications by powers of two become shifts.

use super::super::language::{Arith, ConstantFold};
use super::Rule;
use egg::{rewrite as rw, Applier, EGraph, Id, PatternAst, Subst, Symbol, Var};

/// `a * 2^k` → `a << k` (for k >= 1; wrapping semantics agree).
struct MulToShift {
    a: Var,
    c: Var,
}

impl Applier<Arith, ConstantFold> for MulToShift {
    fn apply_one(
        &self,
        egraph: &mut EGraph<Arith, ConstantFold>,
        eclass: Id,
        subst: &Subst,
        _ast: Option<&PatternAst<Arith>>,
        _rule: Symbol,
    ) -> Vec<Id> {
        let Some(c) = egraph[subst[self.c]].data else {
            return vec![];
        };
        if c < 2 || c.count_ones() != 1 {
            return vec![];
        }
        let shift = egraph.add(Arith::Num(c.trailing_zeros() as i64));
        let shifted = egraph.add(Arith::Shl([subst[self.a], shift]));
        if egraph.union(eclass, shifted) {
            vec![eclass]
        } else {
            vec![]
        }
    }
}

pub fn rules() -> Vec<Rule> {
    vec![
        // a * 2^k = a << k
        rw!("mul-power-of-two"; "(* ?a ?c)" => { MulToShift { a: "?a".parse().unwrap(), c: "?c".parse().unwrap() } }),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::check;

    #[test]
    fn shifts() {
        let rules = super::rules();
        check(&rules, "(* i 8)", "(<< i 3)");
        check(&rules, "(* i 2)", "(<< i 1)");
    }

    #[test]
    fn not_for_other_constants() {
        let start: egg::RecExpr<super::Arith> = "(* i 6)".parse().unwrap();
        let (best, _, _) = crate::egraph::simplify(&start);
        assert_eq!(best.to_string(), "(* i 6)");
    }
}
