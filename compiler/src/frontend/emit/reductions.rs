//! Recognising reductions: loop bodies that update one array element, the
//! same in every iteration.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReductionKind {
    Add,
    Mul,
    Min,
    Max,
    /// The bitwise `&`, `|`, `^` of integers (and of bools, on the bytes
    /// that hold them).
    And,
    Or,
    Xor,
}

impl ReductionKind {
    /// The name in a loop's `reduction` attribute.
    pub(super) fn name(self) -> &'static str {
        match self {
            ReductionKind::Add => "add",
            ReductionKind::Mul => "mul",
            ReductionKind::Min => "min",
            ReductionKind::Max => "max",
            ReductionKind::And => "and",
            ReductionKind::Or => "or",
            ReductionKind::Xor => "xor",
        }
    }

    pub(super) fn is_bitwise(self) -> bool {
        matches!(
            self,
            ReductionKind::And | ReductionKind::Or | ReductionKind::Xor
        )
    }

    /// The kind that combines into elements of `dtype`. NumPy adds bools
    /// as a logical or and multiplies them as a logical and: on bytes that
    /// hold 0 or 1 (see [`accumulator_type`]) those are max and min, which
    /// every lowering already combines (atomically, across threads,
    /// vectorised); an integer sum of bytes would wrap at 256.
    pub(super) fn on(self, dtype: DType) -> Self {
        match (self, dtype) {
            (ReductionKind::Add, DType::Bool) => ReductionKind::Max,
            (ReductionKind::Mul, DType::Bool) => ReductionKind::Min,
            (kind, _) => kind,
        }
    }

    /// The starting value of a partial result that is always combined into
    /// another value before anyone sees it: the identity, except that float
    /// sums start at -0.0, the exact identity of IEEE addition (x + -0.0 is
    /// x for every x, +0.0 and -0.0 included), which LLVM removes from
    /// `-0.0 + x` where it must keep `0.0 + x`.
    pub(super) fn partial_identity(self, dtype: DType) -> Literal {
        match (self, dtype.is_float()) {
            (ReductionKind::Add, true) => Literal::Float(-0.0),
            _ => self.identity(dtype),
        }
    }

    pub(super) fn identity(self, dtype: DType) -> Literal {
        match (self, dtype.is_float()) {
            // Bools are bytes holding 0 or 1.
            (ReductionKind::And, _) if dtype == DType::Bool => Literal::Int(1),
            (ReductionKind::And, _) => Literal::Int(-1), // every bit set
            (ReductionKind::Or | ReductionKind::Xor, _) => Literal::Int(0),
            (ReductionKind::Add, true) => Literal::Float(0.0),
            (ReductionKind::Add, false) => Literal::Int(0),
            (ReductionKind::Mul, true) => Literal::Float(1.0),
            (ReductionKind::Mul, false) => Literal::Int(1),
            (ReductionKind::Min, true) => Literal::Float(f64::INFINITY),
            (ReductionKind::Max, true) => Literal::Float(f64::NEG_INFINITY),
            // The type's extremes, as 64 bits (uint64's greatest is -1).
            (ReductionKind::Min, false) => Literal::Int(dtype.integer_range().1 as i64),
            (ReductionKind::Max, false) => Literal::Int(dtype.integer_range().0 as i64),
        }
    }

    /// `memref.atomic_rmw`'s kind for combining into an element of
    /// `dtype`; None for products, which no atomic instruction computes.
    pub(super) fn atomic(self, dtype: DType) -> Option<&'static str> {
        Some(match (self, dtype.is_float(), dtype.orders_unsigned()) {
            (ReductionKind::Add, true, _) => "addf",
            (ReductionKind::Add, false, _) => "addi",
            (ReductionKind::Mul, _, _) => return None,
            (ReductionKind::And, _, _) => "andi",
            (ReductionKind::Or, _, _) => "ori",
            (ReductionKind::Xor, _, _) => "xori",
            (ReductionKind::Min, true, _) => "minimumf",
            (ReductionKind::Max, true, _) => "maximumf",
            (ReductionKind::Min, false, true) => "minu",
            (ReductionKind::Max, false, true) => "maxu",
            (ReductionKind::Min, false, false) => "mins",
            (ReductionKind::Max, false, false) => "maxs",
        })
    }
}

/// The type of an accumulator for elements of `dtype`: the stored form,
/// bools as bytes holding 0 or 1.
pub(super) fn accumulator_type(dtype: DType) -> Ty {
    Ty::Num(if dtype == DType::Bool {
        DType::U8
    } else {
        dtype
    })
}

/// A loop body that is one update of one array element: `a[idx] op= v`,
/// possibly under conditions (`if c: a[idx] op= v else: a[idx] op= w`).
pub(super) struct Reduction {
    pub(super) base: Expr,
    pub(super) indices: Vec<Index>,
    pub(super) contribution: Contribution,
    pub(super) kind: ReductionKind,
    /// A sum or product into bool elements, computed as an or / and of
    /// truth values (`ReductionKind::on`).
    pub(super) truths: bool,
    pub(super) span: Span,
}

/// What an iteration of a reduction combines into the element.
pub(super) enum Contribution {
    /// `a[idx] op= value`; `a[idx] -= value` when `subtracted`: adds
    /// `-value`, negated in the element's type (as NumPy subtracts there:
    /// `-u` of a uint8 `u` would wrap first).
    Value {
        value: Expr,
        subtracted: bool,
        span: Span,
    },
    /// `if condition:` one update `else:` another (`otherwise`), or none.
    Choice {
        condition: Expr,
        then: Box<Contribution>,
        otherwise: Option<Box<Contribution>>,
    },
}

impl Contribution {
    pub(super) fn is_conditional(&self) -> bool {
        matches!(self, Contribution::Choice { .. })
    }

    /// Whether a value or condition of the contribution mentions `name`.
    pub(super) fn mentions(&self, name: &str) -> bool {
        match self {
            Contribution::Value { value, .. } => mentions(value, name),
            Contribution::Choice {
                condition,
                then,
                otherwise,
            } => {
                mentions(condition, name)
                    || then.mentions(name)
                    || otherwise.as_ref().is_some_and(|o| o.mentions(name))
            }
        }
    }
}

pub(super) struct Accumulator {
    pub(super) slot: String,
    pub(super) ty: Ty,
    pub(super) array: String,
    pub(super) info: ArrayInfo,
    pub(super) at: Vec<String>,
    pub(super) span: Span,
    /// For an accumulator of the element's whole nest (not a parallel
    /// piece of it): where its start from the identity was emitted, and
    /// the code that would start it from the element's value instead.
    pub(super) start: Option<AccumulatorStart>,
    /// Set when an update rounds at every step (float contributions to an
    /// integer element's sum or product: `a[i] *= 0.5`), which no other
    /// order of the steps gives: the nest then runs as written.
    pub(super) stepwise: std::cell::Cell<bool>,
    /// The nest's loops all run in the program's order and no parallel
    /// iterations share the element: it then starts from the element's
    /// value, so that it combines in the order written (`y[i] + x[i, 0] +
    /// x[i, 1] ...`, not `y[i] + (x[i, 0] + ...)`).
    pub(super) as_written: bool,
    /// For a conditional nest (`if c: y[k] += v`), which may update no
    /// element: the i1 "the element's indices are in bounds", which guards
    /// the accesses of the element (Python touches `y[k]` only where an
    /// update happens, and programs guard invalid indices so; under
    /// `debug` such nests run as written, their accesses checked).
    pub(super) in_bounds: Option<String>,
}

/// The start of an [`Accumulator`] as emitted, and the alternative.
pub(super) struct AccumulatorStart {
    pub(super) position: usize,
    pub(super) length: usize,
    pub(super) from_element: String,
}

pub(super) use crate::frontend::ast::mentions;

pub(super) fn base_name(expr: &Expr) -> Option<&str> {
    match &expr.kind {
        ExprKind::Var(v) => Some(v),
        ExprKind::DictEntry { dict, .. } => Some(dict),
        _ => None,
    }
}

/// A loop body that is a nest of loops around one reduction statement, the
/// element updated being the same in every iteration of every loop.
pub(super) struct NestedReduction {
    /// The inner loops, outermost first: (variable, start, stop, step, labels).
    pub(super) loops: Vec<(String, Expr, Expr, Expr, Vec<String>)>,
    pub(super) reduction: Reduction,
}

pub(super) fn find_reduction(var: &str, body: &[Stmt]) -> Option<NestedReduction> {
    let mut vars = vec![var.to_string()];
    let mut loops = Vec::new();
    let mut current = body;
    loop {
        if let Some(reduction) = single_reduction(&vars, current) {
            return Some(NestedReduction { loops, reduction });
        }
        match current {
            [Stmt {
                kind:
                    StmtKind::For {
                        var,
                        start,
                        stop,
                        step,
                        body,
                    },
                labels,
                ..
            }] => {
                if [start, stop]
                    .iter()
                    .any(|e| vars.iter().any(|v| mentions(e, v)))
                {
                    return None; // a triangular nest: keep it as written
                }
                loops.push((
                    var.clone(),
                    start.clone(),
                    stop.clone(),
                    step.clone(),
                    labels.clone(),
                ));
                vars.push(var.clone());
                current = body;
            }
            _ => return None,
        }
    }
}

/// Whether every statement of `body` (one at least) is an update of a
/// local (`s += v`, `s = max(s, v)`) or of an array element that is the
/// same in every iteration of `var`'s loop (`y[0] += v`), possibly under
/// conditions (`if c: s += v`, with an `else` that updates it too):
/// reductions that `looppar-detect-reductions` finds in the emitted code
/// (`looppar-if-convert-updates` makes conditional ones unconditional),
/// each into its own location.
pub(super) fn only_updates(var: &str, body: &[Stmt]) -> bool {
    let same_element = |target: &Expr| {
        matches!(&target.kind, ExprKind::Subscript { indices, .. }
            if indices.iter().all(|i| matches!(i, Index::At(e) if !mentions(e, var))))
    };
    !body.is_empty()
        && body.iter().all(|statement| {
            updated_local(std::slice::from_ref(statement)).is_some()
                || update(statement).is_some_and(|(target, ..)| same_element(target))
        })
}

/// The local that `body`, one statement, updates (see [`only_updates`]).
fn updated_local(body: &[Stmt]) -> Option<&str> {
    let [statement] = body else { return None };
    fn local(target: &Expr) -> Option<&str> {
        match &target.kind {
            ExprKind::Var(name) => Some(name.as_str()),
            _ => None,
        }
    }
    match &statement.kind {
        StmtKind::AugAssign { target, .. } => local(target),
        StmtKind::Assign { target, value } => {
            let reduces = matches!(&value.kind, ExprKind::Builtin { name, args, .. }
                if (name == "min" || name == "max") && args.iter().any(|a| same(a, target)))
                || spelled_out_update(target, value).is_some();
            local(target).filter(|_| reduces)
        }
        StmtKind::If {
            then, otherwise, ..
        } => {
            let name = updated_local(then)?;
            (otherwise.is_empty() || updated_local(otherwise) == Some(name)).then_some(name)
        }
        _ => None,
    }
}

/// Recognises a body of one reduction statement over loop variables `vars`
/// (one update, or a condition whose branches update the same element
/// the same way, or one branch only).
pub(super) fn single_reduction(vars: &[String], body: &[Stmt]) -> Option<Reduction> {
    let [statement] = body else { return None };
    let (target, kind, contribution) = update(statement)?;
    let ExprKind::Subscript { base, indices } = &target.kind else {
        return None;
    };
    let array = base_name(base)?;
    let invariant = indices
        .iter()
        .all(|i| matches!(i, Index::At(e) if !vars.iter().any(|var| mentions(e, var))));
    if !invariant || contribution.mentions(array) || has_slices(target) {
        return None;
    }
    Some(Reduction {
        base: (**base).clone(),
        indices: indices.clone(),
        contribution,
        kind,
        truths: false,
        span: statement.span,
    })
}

/// The target, kind and contribution of an update statement, or of a
/// condition around updates of one target with one kind.
fn update(statement: &Stmt) -> Option<(&Expr, ReductionKind, Contribution)> {
    if let StmtKind::If {
        condition,
        then,
        otherwise,
    } = &statement.kind
    {
        let [then] = then.as_slice() else { return None };
        let (target, kind, then) = update(then)?;
        let otherwise = match otherwise.as_slice() {
            [] => None,
            [other] => {
                let (other_target, other_kind, other) = update(other)?;
                if !same(other_target, target) || other_kind != kind {
                    return None;
                }
                Some(Box::new(other))
            }
            _ => return None,
        };
        return Some((
            target,
            kind,
            Contribution::Choice {
                condition: condition.clone(),
                then: Box::new(then),
                otherwise,
            },
        ));
    }
    let mut subtracted = false;
    let (target, kind, value) = match &statement.kind {
        StmtKind::AugAssign {
            target,
            op: BinaryOp::Add,
            value,
        } => (target, ReductionKind::Add, value.clone()),
        StmtKind::AugAssign {
            target,
            op: BinaryOp::Mul,
            value,
        } => (target, ReductionKind::Mul, value.clone()),
        StmtKind::AugAssign { target, op, value } if bitwise_kind(*op).is_some() => {
            (target, bitwise_kind(*op)?, value.clone())
        }
        // `a -= v` adds `-v`.
        StmtKind::AugAssign {
            target,
            op: BinaryOp::Sub,
            value,
        } => {
            subtracted = true;
            (target, ReductionKind::Add, value.clone())
        }
        StmtKind::Assign { target, value } => match &value.kind {
            ExprKind::Builtin {
                name,
                args,
                axis: None,
            } if (name == "min" || name == "max") && args.len() == 2 => {
                let other = if same(&args[0], target) {
                    args[1].clone()
                } else if same(&args[1], target) {
                    args[0].clone()
                } else {
                    return None;
                };
                (
                    target,
                    if name == "min" {
                        ReductionKind::Min
                    } else {
                        ReductionKind::Max
                    },
                    other,
                )
            }
            _ => match spelled_out_update(target, value) {
                Some((kind, other, minus)) => {
                    subtracted = minus;
                    (target, kind, other)
                }
                None => return None,
            },
        },
        _ => return None,
    };
    Some((
        target,
        kind,
        Contribution::Value {
            value,
            subtracted,
            span: statement.span,
        },
    ))
}

/// The reduction kind of a bitwise operator.
fn bitwise_kind(op: BinaryOp) -> Option<ReductionKind> {
    Some(match op {
        BinaryOp::BitAnd => ReductionKind::And,
        BinaryOp::BitOr => ReductionKind::Or,
        BinaryOp::BitXor => ReductionKind::Xor,
        _ => return None,
    })
}

/// `t = t + v` (or `v + t`), `t = t * v` (or `v * t`), `t = t - v`, `t =
/// t | v` (and `&`, `^`, either order): the update `t += v`, `t *= v`, `t
/// -= v`, `t |= v` spelled out, as its kind, `v` and whether `v` is
/// subtracted.
fn spelled_out_update(target: &Expr, value: &Expr) -> Option<(ReductionKind, Expr, bool)> {
    let ExprKind::Binary { op, lhs, rhs } = &value.kind else {
        return None;
    };
    let kind = match op {
        BinaryOp::Add | BinaryOp::Sub => ReductionKind::Add,
        BinaryOp::Mul => ReductionKind::Mul,
        _ => bitwise_kind(*op)?,
    };
    if same(lhs, target) && !mentions_target(rhs, target) {
        Some((kind, (**rhs).clone(), *op == BinaryOp::Sub))
    } else if *op != BinaryOp::Sub && same(rhs, target) && !mentions_target(lhs, target) {
        Some((kind, (**lhs).clone(), false))
    } else {
        None
    }
}

/// Whether `expr` may read `target`: the local, or any element of the
/// array whose element it is (unknown targets: assumed read).
fn mentions_target(expr: &Expr, target: &Expr) -> bool {
    match &target.kind {
        ExprKind::Var(name) => mentions(expr, name),
        ExprKind::Subscript { base, .. } => match &base.kind {
            ExprKind::Var(array) => mentions(expr, array),
            _ => true,
        },
        _ => true,
    }
}

/// Structural equality, ignoring positions.
pub(super) fn same(a: &Expr, b: &Expr) -> bool {
    pub(super) fn strip(e: &Expr) -> Expr {
        let kind = match &e.kind {
            ExprKind::Subscript { base, indices } => ExprKind::Subscript {
                base: Box::new(strip(base)),
                indices: indices
                    .iter()
                    .map(|i| match i {
                        Index::At(x) => Index::At(strip(x)),
                        Index::Slice(l, u, _) => Index::Slice(
                            l.as_ref().map(strip),
                            u.as_ref().map(strip),
                            Span::default(),
                        ),
                    })
                    .collect(),
            },
            ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
                op: *op,
                lhs: Box::new(strip(lhs)),
                rhs: Box::new(strip(rhs)),
            },
            ExprKind::Unary { op, operand } => ExprKind::Unary {
                op: *op,
                operand: Box::new(strip(operand)),
            },
            ExprKind::Builtin { name, args, axis } => ExprKind::Builtin {
                name: name.clone(),
                args: args.iter().map(strip).collect(),
                axis: *axis,
            },
            other => other.clone(),
        };
        Expr {
            kind,
            span: Span::default(),
        }
    }
    strip(a) == strip(b)
}
