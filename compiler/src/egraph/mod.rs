//! Equality saturation (egg) over integer and index arithmetic.
//!
//! `language` defines the expressions and their constant folding;
//! `rules/` holds the rewrites, one file per topic, each rule with its
//! identity in a comment; `cost` says what is cheaper; `LIMITS` bounds
//! every saturation run.

pub mod cost;
pub mod language;
pub mod rules;

use egg::{Extractor, RecExpr, Runner};
use language::{Arith, ConstantFold};
use std::time::Duration;

/// Bounds on one saturation run: expressions here are small (the index
/// arithmetic of one access), so these are generous but keep the pass
/// well under a millisecond per expression.
pub struct Limits {
    pub nodes: usize,
    pub iterations: usize,
    pub time: Duration,
}

pub const LIMITS: Limits = Limits {
    nodes: 2_000,
    iterations: 12,
    time: Duration::from_millis(5),
};

/// The cheapest equivalent of `expr` under `cost::OpCost`, with its cost,
/// and the cost of `expr` itself.
pub fn simplify(expr: &RecExpr<Arith>) -> (RecExpr<Arith>, usize, usize) {
    let original = cost::cost_of(expr);
    let runner = Runner::<Arith, ConstantFold>::default()
        .with_node_limit(LIMITS.nodes)
        .with_iter_limit(LIMITS.iterations)
        .with_time_limit(LIMITS.time)
        .with_expr(expr)
        .run(&rules::all());
    let extractor = Extractor::new(&runner.egraph, cost::OpCost);
    let (best_cost, best) = extractor.find_best(runner.roots[0]);
    (best, best_cost, original)
}
