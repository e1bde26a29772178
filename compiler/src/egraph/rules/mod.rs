//! The rewrites of `looppar-simplify`, by topic. No blanket commutativity
//! or associativity: each rule states one identity, and the ones that
//! move constants only move constants.

mod factoring;
mod identities;
mod reassociation;
mod strength;

use super::language::{Arith, ConstantFold};
use egg::Rewrite;

pub type Rule = Rewrite<Arith, ConstantFold>;

/// Every rule.
pub fn all() -> Vec<Rule> {
    let mut rules = identities::rules();
    rules.extend(reassociation::rules());
    rules.extend(factoring::rules());
    rules.extend(strength::rules());
    rules
}

/// Whether the e-class bound to `var` holds a constant.
pub(super) fn is_constant(
    var: &str,
) -> impl Fn(&mut egg::EGraph<Arith, ConstantFold>, egg::Id, &egg::Subst) -> bool {
    let var: egg::Var = var.parse().expect("a pattern variable");
    move |egraph, _, subst| egraph[subst[var]].data.is_some()
}

#[cfg(test)]
pub(super) fn check(rules: &[Rule], start: &str, goal: &str) {
    let start: egg::RecExpr<Arith> = start.parse().expect("start parses");
    let goal: egg::RecExpr<Arith> = goal.parse().expect("goal parses");
    let mut runner = egg::Runner::<Arith, ConstantFold>::default()
        .with_expr(&start)
        .with_expr(&goal)
        .with_iter_limit(super::LIMITS.iterations)
        .run(rules);
    let (a, b) = (
        runner.egraph.find(runner.roots[0]),
        runner.egraph.find(runner.roots[1]),
    );
    assert_eq!(a, b, "{start} => {goal} does not hold with these rules");
    let _ = &mut runner;
}
