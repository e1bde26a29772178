//! Slice statements (`y[:] = x[:] * 2`, `y[:] = parir.sum(x[:, :], axis=1)`):
//! one loop per slice dimension of the destination.

use super::*;

impl<'a> Emitter<'a> {
    /// `dest[slices] = value` / `op=`: one loop per slice dimension of the
    /// destination, left to right, labelled in order by the statement's
    /// labels; slices in the value follow the same loops in order.
    pub(super) fn slice_statement(
        &mut self,
        statement: &Stmt,
        target: &Expr,
        op: Option<BinaryOp>,
        value: &Expr,
    ) -> Result<()> {
        let ExprKind::Subscript { base, indices } = &target.kind else {
            return Err(self.error(target.span, "slices are only allowed on arrays"));
        };
        let (_, info) = self.array_of(base)?;
        if indices.len() != info.shape.len() {
            return Err(self.error(
                target.span,
                format!(
                    "list every dimension of the array in a slice statement ({} here)",
                    info.shape.len()
                ),
            ));
        }
        // The destination's slice dimensions: (dimension, lower, upper).
        let mut loops = Vec::new();
        for (d, index) in indices.iter().enumerate() {
            if let Index::Slice(lower, upper, _) = index {
                loops.push((d, lower.clone(), upper.clone()));
            }
        }
        let reductions = reduction_calls(value);
        if reductions.len() > 1 {
            return Err(self.error(
                value.span,
                "a slice statement holds at most one slice reduction (parir.sum/prod/min/max)",
            ));
        }
        let mut variables = Vec::new();
        let mut bounds = Vec::new();
        for (n, (d, lower, upper)) in loops.iter().enumerate() {
            let var = format!("__slice{n}_{}", target.span.line);
            let start = lower.clone().unwrap_or(Expr {
                kind: ExprKind::Int(0),
                span: target.span,
            });
            let stop = upper.clone().unwrap_or(Expr {
                kind: ExprKind::Int(info.shape[*d]),
                span: target.span,
            });
            variables.push(var.clone());
            bounds.push((var, start, stop));
        }
        // Rewrite: destination and value slices become indexed by the loop
        // variables, in order.
        let new_target = index_slices(target, &variables, &mut 0, self.source(), &info)?;
        match reductions.first() {
            None => {
                let mut counter = 0;
                let new_value = substitute_slices(value, &variables, &mut counter, self, true)?;
                if counter != 0 && counter != variables.len() {
                    return Err(self.error(
                        value.span,
                        format!(
                            "the value has {counter} slice dimension(s) but the destination has {}",
                            variables.len()
                        ),
                    ));
                }
                let body = match op {
                    Some(op) => StmtKind::AugAssign {
                        target: new_target,
                        op,
                        value: new_value,
                    },
                    None => StmtKind::Assign {
                        target: new_target,
                        value: new_value,
                    },
                };
                let inner = Stmt {
                    kind: body,
                    labels: Vec::new(),
                    span: statement.span,
                };
                let nest = build_nest(&bounds, inner, &statement.labels, statement.span);
                self.statement_in_place(&nest)
            }
            Some((name, argument, axis)) => self.slice_reduction(
                statement, &bounds, new_target, op, value, name, argument, *axis, &variables,
            ),
        }
    }

    /// Emits a statement that was built by the compiler (no placement
    /// check: the user's statement passed it).
    pub(super) fn statement_in_place(&mut self, statement: &Stmt) -> Result<()> {
        match &statement.kind {
            StmtKind::For {
                var,
                start,
                stop,
                step,
                body,
            } => self.for_loop(statement, var, start, stop, step, body),
            _ => self.statement(statement),
        }
    }

    /// `dest[:] = parir.sum(x[:, :], axis=1)`: the destination's slices
    /// map to the kept dimensions; the reduced dimensions become inner
    /// reduction loops (all of them without `axis`).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn slice_reduction(
        &mut self,
        statement: &Stmt,
        bounds: &[(String, Expr, Expr)],
        target: Expr,
        op: Option<BinaryOp>,
        value: &Expr,
        name: &str,
        argument: &Expr,
        axis: Option<i64>,
        variables: &[String],
    ) -> Result<()> {
        let ExprKind::Subscript { base, indices } = &argument.kind else {
            return Err(self.error(
                argument.span,
                format!("parir.{name} takes a slice of an array, e.g. x[:, :]"),
            ));
        };
        let (_, info) = self.array_of(base)?;
        let slice_dims: Vec<usize> = indices
            .iter()
            .enumerate()
            .filter(|(_, i)| matches!(i, Index::Slice(..)))
            .map(|(d, _)| d)
            .collect();
        let reduced: Vec<usize> = match axis {
            Some(a) if a < 0 || a as usize >= slice_dims.len() => {
                return Err(self.error(
                    argument.span,
                    format!(
                        "axis {a} is out of range for {} slice dimension(s)",
                        slice_dims.len()
                    ),
                ))
            }
            Some(a) => vec![slice_dims[a as usize]],
            None => slice_dims.clone(),
        };
        let kept: Vec<usize> = slice_dims
            .iter()
            .copied()
            .filter(|d| !reduced.contains(d))
            .collect();
        if kept.len() != variables.len() {
            return Err(self.error(
                value.span,
                format!(
                    "the reduction leaves {} slice dimension(s) but the destination has {}",
                    kept.len(),
                    variables.len()
                ),
            ));
        }
        let kind = match name {
            "sum" => ReductionKind::Add,
            "prod" => ReductionKind::Mul,
            "min" => ReductionKind::Min,
            _ => ReductionKind::Max,
        };
        // Index the argument: kept dimensions by the outer loop variables,
        // reduced ones by inner loop variables.
        let mut inner = Vec::new();
        let mut new_indices = Vec::new();
        let mut outer = variables.iter();
        for (d, index) in indices.iter().enumerate() {
            match index {
                Index::At(e) => new_indices.push(Index::At(e.clone())),
                Index::Slice(lower, upper, span) => {
                    let var = if reduced.contains(&d) {
                        let v = format!("__reduce{d}_{}", statement.span.line);
                        let start = lower.clone().unwrap_or(Expr {
                            kind: ExprKind::Int(0),
                            span: *span,
                        });
                        let stop = upper.clone().unwrap_or(Expr {
                            kind: ExprKind::Int(info.shape[d]),
                            span: *span,
                        });
                        inner.push((v.clone(), start, stop));
                        v
                    } else {
                        let v = outer
                            .next()
                            .expect("as many kept dimensions as loops")
                            .clone();
                        // A kept dimension with its own bounds is offset.
                        if let Some(lower) = lower {
                            new_indices.push(Index::At(add(var_expr(&v, *span), lower.clone())));
                            continue;
                        }
                        v
                    };
                    new_indices.push(Index::At(var_expr(&var, *span)));
                }
            }
        }
        let element = Expr {
            kind: ExprKind::Subscript {
                base: base.clone(),
                indices: new_indices,
            },
            span: argument.span,
        };
        // The statement's value with the reduction replaced by the element:
        // only `dest = red(...)` and `dest op= red(...)` are accepted.
        if !matches!(value.kind, ExprKind::Builtin { .. }) {
            return Err(self.error(
                value.span,
                "a slice reduction must be the whole value: y[:] = parir.sum(x[:, :], axis=1)",
            ));
        }
        // Inner loops: reduce into the destination element.
        let reduce_op = match kind {
            ReductionKind::Add => Some(BinaryOp::Add),
            ReductionKind::Mul => Some(BinaryOp::Mul),
            _ => None,
        };
        let update = match reduce_op {
            Some(bop) => StmtKind::AugAssign {
                target: target.clone(),
                op: bop,
                value: element,
            },
            None => StmtKind::Assign {
                target: target.clone(),
                value: Expr {
                    kind: ExprKind::Builtin {
                        name: name.to_string(),
                        args: vec![target.clone(), element],
                        axis: None,
                    },
                    span: value.span,
                },
            },
        };
        let update = Stmt {
            kind: update,
            labels: Vec::new(),
            span: statement.span,
        };
        // The labels after the destination's go to the reduced loops.
        let reduced_labels = statement.labels.get(bounds.len()..).unwrap_or(&[]);
        let body = build_nest(&inner, update, reduced_labels, statement.span);
        // Before reducing: `=` starts from the identity, `op=` from the
        // current value.
        let mut statements = Vec::new();
        if op.is_none() {
            let identity = match kind.identity(info.dtype) {
                Literal::Int(i) => ExprKind::Int(i),
                Literal::Float(f) => ExprKind::Float(f),
            };
            statements.push(Stmt {
                kind: StmtKind::Assign {
                    target: target.clone(),
                    value: Expr {
                        kind: identity,
                        span: value.span,
                    },
                },
                labels: Vec::new(),
                span: statement.span,
            });
        } else if op != reduce_op {
            return Err(self.error(statement.span, format!("combine parir.{name} with `=`, or with the matching update (+= for sum, *= for prod)")));
        }
        statements.push(body);
        let labels: Vec<String> = statement
            .labels
            .iter()
            .take(bounds.len())
            .cloned()
            .collect();
        if bounds.is_empty() {
            // A full reduction into one element: the reduction loops carry
            // the statement's labels.
            let mut labelled = statements;
            if let Some(last) = labelled.last_mut() {
                if last.labels.is_empty() {
                    last.labels = statement.labels.first().cloned().into_iter().collect();
                }
            }
            if self.parallel_depth == 0 && !self.on_device {
                // The identity store needs a home: run it on the device.
                let init = labelled.remove(0);
                if let StmtKind::Assign { .. } = init.kind {
                    self.on_device = true;
                    let r = self.statement(&init);
                    self.on_device = false;
                    r?;
                }
                return self.statement_in_place(&labelled[0]);
            }
            for s in &labelled {
                self.statement_in_place(s)?;
            }
            return Ok(());
        }
        let nest = build_nest_many(bounds, statements, &labels, statement.span);
        self.statement_in_place(&nest)
    }
}

pub(super) fn has_slices(expr: &Expr) -> bool {
    matches!(&expr.kind, ExprKind::Subscript { indices, .. } if indices.iter().any(|i| matches!(i, Index::Slice(..))))
}

pub(super) fn reduction_calls(expr: &Expr) -> Vec<(String, Expr, Option<i64>)> {
    let mut found = Vec::new();
    pub(super) fn walk(expr: &Expr, found: &mut Vec<(String, Expr, Option<i64>)>) {
        match &expr.kind {
            ExprKind::Builtin { name, args, axis }
                if matches!(name.as_str(), "sum" | "prod" | "min" | "max") && args.len() == 1 =>
            {
                found.push((name.clone(), args[0].clone(), *axis));
            }
            ExprKind::Binary { lhs, rhs, .. } | ExprKind::Compare { lhs, rhs, .. } => {
                walk(lhs, found);
                walk(rhs, found);
            }
            ExprKind::Unary { operand, .. } => walk(operand, found),
            ExprKind::Builtin { args, .. } => args.iter().for_each(|a| walk(a, found)),
            _ => {}
        }
    }
    walk(expr, &mut found);
    found
}

pub(super) fn var_expr(name: &str, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Var(name.to_string()),
        span,
    }
}

pub(super) fn add(a: Expr, b: Expr) -> Expr {
    let span = a.span;
    Expr {
        kind: ExprKind::Binary {
            op: BinaryOp::Add,
            lhs: Box::new(a),
            rhs: Box::new(b),
        },
        span,
    }
}

/// The destination with its slices replaced by the loop variables (offset
/// by the slice's lower bound).
pub(super) fn index_slices(
    target: &Expr,
    variables: &[String],
    next: &mut usize,
    source: &Source,
    _info: &ArrayInfo,
) -> Result<Expr> {
    let ExprKind::Subscript { base, indices } = &target.kind else {
        return Err(source.error(target.span, "slices are only allowed on arrays"));
    };
    let mut new = Vec::new();
    for index in indices {
        match index {
            Index::At(e) => new.push(Index::At(e.clone())),
            Index::Slice(lower, _, span) => {
                let v = var_expr(&variables[*next], *span);
                *next += 1;
                new.push(Index::At(match lower {
                    Some(l) => add(v, l.clone()),
                    None => v,
                }));
            }
        }
    }
    Ok(Expr {
        kind: ExprKind::Subscript {
            base: base.clone(),
            indices: new,
        },
        span: target.span,
    })
}

/// The value with each sliced subscript indexed by the loop variables, in
/// order. Counts the slice dimensions of the first sliced operand and
/// checks the others match.
pub(super) fn substitute_slices(
    expr: &Expr,
    variables: &[String],
    counter: &mut usize,
    emitter: &Emitter,
    top: bool,
) -> Result<Expr> {
    let _ = top;
    let kind = match &expr.kind {
        ExprKind::Subscript { base, indices }
            if indices.iter().any(|i| matches!(i, Index::Slice(..))) =>
        {
            let slices = indices
                .iter()
                .filter(|i| matches!(i, Index::Slice(..)))
                .count();
            if slices != variables.len() {
                return Err(emitter.error(
                    expr.span,
                    format!(
                        "this slice has {slices} dimension(s) but the destination has {}",
                        variables.len()
                    ),
                ));
            }
            *counter = slices;
            let mut n = 0;
            let mut new = Vec::new();
            for index in indices {
                match index {
                    Index::At(e) => new.push(Index::At(e.clone())),
                    Index::Slice(lower, _, span) => {
                        let v = var_expr(&variables[n], *span);
                        n += 1;
                        new.push(Index::At(match lower {
                            Some(l) => add(v, l.clone()),
                            None => v,
                        }));
                    }
                }
            }
            ExprKind::Subscript {
                base: base.clone(),
                indices: new,
            }
        }
        ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
            op: *op,
            lhs: Box::new(substitute_slices(lhs, variables, counter, emitter, false)?),
            rhs: Box::new(substitute_slices(rhs, variables, counter, emitter, false)?),
        },
        ExprKind::Unary { op, operand } => ExprKind::Unary {
            op: *op,
            operand: Box::new(substitute_slices(
                operand, variables, counter, emitter, false,
            )?),
        },
        ExprKind::Builtin { name, args, axis } => ExprKind::Builtin {
            name: name.clone(),
            args: args
                .iter()
                .map(|a| substitute_slices(a, variables, counter, emitter, false))
                .collect::<Result<_>>()?,
            axis: *axis,
        },
        ExprKind::IfElse {
            condition,
            then,
            otherwise,
        } => ExprKind::IfElse {
            condition: Box::new(substitute_slices(
                condition, variables, counter, emitter, false,
            )?),
            then: Box::new(substitute_slices(then, variables, counter, emitter, false)?),
            otherwise: Box::new(substitute_slices(
                otherwise, variables, counter, emitter, false,
            )?),
        },
        ExprKind::Compare { op, lhs, rhs } => ExprKind::Compare {
            op: *op,
            lhs: Box::new(substitute_slices(lhs, variables, counter, emitter, false)?),
            rhs: Box::new(substitute_slices(rhs, variables, counter, emitter, false)?),
        },
        other => other.clone(),
    };
    Ok(Expr {
        kind,
        span: expr.span,
    })
}

pub(super) fn build_nest(
    bounds: &[(String, Expr, Expr)],
    inner: Stmt,
    labels: &[String],
    span: Span,
) -> Stmt {
    build_nest_many(bounds, vec![inner], labels, span)
}

pub(super) fn build_nest_many(
    bounds: &[(String, Expr, Expr)],
    inner: Vec<Stmt>,
    labels: &[String],
    span: Span,
) -> Stmt {
    let mut body = inner;
    for (n, (var, start, stop)) in bounds.iter().enumerate().rev() {
        body = vec![Stmt {
            kind: StmtKind::For {
                var: var.clone(),
                start: start.clone(),
                stop: stop.clone(),
                step: Expr {
                    kind: ExprKind::Int(1),
                    span,
                },
                body,
            },
            labels: labels.get(n).cloned().into_iter().collect(),
            span,
        }];
    }
    body.pop().expect("a statement")
}
