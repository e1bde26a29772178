//! `continue` and `break` in loop bodies, rewritten into the conditions
//! and loops the rest of the compiler handles.
//!
//! `continue`: the statements after an `if` that may continue move into
//! each of its branches that does not, and a path that reaches `continue`
//! ends there.
//!
//! ```text
//! for i in range(n):          for i in range(n):
//!     if x[i] < 0:                if not x[i] < 0:
//!         continue                    s += x[i]
//!     s += x[i]
//! ```
//!
//! The body keeps the shape the later passes recognise (a conditional
//! update is a reduction). Statements after an `if` that continues in some
//! paths are copied into each path that goes on: a copy per such `if`,
//! which keeps code small for the usual early-exit tests.
//!
//! `break` (of sequential loops: a parallel loop has no order to stop
//! in) sets a flag and continues; the loop runs while the flag is down. A
//! `for` loop becomes a `while` loop over a counter, so that its variable
//! keeps the value of the iteration that broke, as in Python.

use super::ast::{BinaryOp, CompareOp, Expr, ExprKind, Stmt, StmtKind, UnaryOp};
use super::error::Span;

/// Why a loop's exits cannot be rewritten.
#[derive(Debug, PartialEq, Eq)]
pub enum ExitError {
    /// A `continue` or `break` inside `with parir.gpu:`, which cannot
    /// leave its block.
    LeavesDeviceBlock(Span),
    /// A `break` of a parallel (labelled) loop.
    BreaksParallelLoop(Span),
}

/// `body` of one loop without its `continue`s (those of loops nested in
/// it belong to them and are gone already). Errs with the position of a
/// `continue` inside `with parir.gpu:`, which cannot leave its block.
pub fn remove(body: Vec<Stmt>) -> Result<Vec<Stmt>, ExitError> {
    then_rest(body, Vec::new()).map_err(ExitError::LeavesDeviceBlock)
}

/// `statement` as statements without `break`: itself unless it is a loop
/// whose body breaks it.
pub fn without_break(statement: Stmt) -> Result<Vec<Stmt>, ExitError> {
    let breaks = match &statement.kind {
        StmtKind::For { body, .. } | StmtKind::While { body, .. } => exit_in(body, true),
        _ => None,
    };
    let Some(at) = breaks else {
        return Ok(vec![statement]);
    };
    if !statement.labels.is_empty() {
        return Err(ExitError::BreaksParallelLoop(at));
    }
    let span = statement.span;
    // Names no Python code can have.
    let local = |what: &str| Expr {
        kind: ExprKind::Var(format!(
            "({what} of the loop at {}:{})",
            span.line, span.column
        )),
        span,
    };
    let expr = |kind| Expr { kind, span };
    let assign = |target: Expr, value: Expr| Stmt {
        kind: StmtKind::Assign { target, value },
        labels: Vec::new(),
        span,
    };
    let flag = local("break flag");
    let running = |condition: Expr| {
        expr(ExprKind::And(
            Box::new(expr(ExprKind::Unary {
                op: UnaryOp::Not,
                operand: Box::new(flag.clone()),
            })),
            Box::new(condition),
        ))
    };
    let mut statements = vec![assign(flag.clone(), expr(ExprKind::Bool(false)))];
    let (condition, body) = match statement.kind {
        StmtKind::While { condition, body } => (running(condition), body),
        StmtKind::For {
            var,
            start,
            stop,
            step,
            body,
        } => {
            // range() evaluates its arguments once, before the loop.
            let mut once = |what: &str, value: Expr| match value.int_literal() {
                Some(_) => value,
                None => {
                    let name = local(what);
                    statements.push(assign(name.clone(), value));
                    name
                }
            };
            let stop = once("stop", stop);
            let step = once("step", step);
            let next = local("next value");
            statements.push(assign(next.clone(), start));
            let compare = |op, lhs: &Expr, rhs: &Expr| {
                expr(ExprKind::Compare {
                    op,
                    lhs: Box::new(lhs.clone()),
                    rhs: Box::new(rhs.clone()),
                })
            };
            let zero = expr(ExprKind::Int(0));
            let up = compare(CompareOp::Lt, &next, &stop);
            let down = compare(CompareOp::Gt, &next, &stop);
            let more = match step.int_literal() {
                Some(k) if k > 0 => up,
                Some(_) => down,
                None => expr(ExprKind::Or(
                    Box::new(expr(ExprKind::And(
                        Box::new(compare(CompareOp::Gt, &step, &zero)),
                        Box::new(up),
                    ))),
                    Box::new(expr(ExprKind::And(
                        Box::new(compare(CompareOp::Lt, &step, &zero)),
                        Box::new(down),
                    ))),
                )),
            };
            let variable = expr(ExprKind::Var(var));
            let advance = expr(ExprKind::Binary {
                op: BinaryOp::Add,
                lhs: Box::new(next.clone()),
                rhs: Box::new(step),
            });
            let mut counted = vec![assign(variable, next.clone()), assign(next, advance)];
            counted.extend(body);
            (running(more), counted)
        }
        _ => unreachable!("only loops break"),
    };
    let body = replace_breaks(body, &|| {
        vec![
            assign(flag.clone(), expr(ExprKind::Bool(true))),
            Stmt {
                kind: StmtKind::Continue,
                labels: Vec::new(),
                span,
            },
        ]
    });
    statements.push(Stmt {
        kind: StmtKind::While {
            condition,
            body: remove(body)?,
        },
        labels: Vec::new(),
        span,
    });
    Ok(statements)
}

/// `body` with each `break` of its loop (not of nested loops) replaced by
/// `exit()`.
fn replace_breaks(body: Vec<Stmt>, exit: &dyn Fn() -> Vec<Stmt>) -> Vec<Stmt> {
    let mut done = Vec::with_capacity(body.len());
    for statement in body {
        match statement.kind {
            StmtKind::Break => done.extend(exit()),
            StmtKind::If {
                condition,
                then,
                otherwise,
            } => done.push(Stmt {
                kind: StmtKind::If {
                    condition,
                    then: replace_breaks(then, exit),
                    otherwise: replace_breaks(otherwise, exit),
                },
                ..statement
            }),
            StmtKind::OnDevice(body) => done.push(Stmt {
                kind: StmtKind::OnDevice(replace_breaks(body, exit)),
                ..statement
            }),
            kind => done.push(Stmt { kind, ..statement }),
        }
    }
    done
}

/// `statements` followed by `rest` on every path that does not continue,
/// without continues (those of `rest` too: `if a: continue` then `if b:
/// continue`).
fn then_rest(statements: Vec<Stmt>, rest: Vec<Stmt>) -> Result<Vec<Stmt>, Span> {
    let mut done = Vec::with_capacity(statements.len() + rest.len());
    let mut statements = statements.into_iter().chain(rest);
    while let Some(statement) = statements.next() {
        match statement.kind {
            StmtKind::Continue => return Ok(done),
            StmtKind::If {
                condition,
                then,
                otherwise,
            } if continues(&then) || continues(&otherwise) => {
                let after: Vec<Stmt> = statements.collect();
                let then = then_rest(then, after.clone())?;
                let otherwise = then_rest(otherwise, after)?;
                // `if c: continue` + rest is `if not c: rest`: the form
                // of a conditional update that reductions are found in.
                let kind = if then.is_empty() && !otherwise.is_empty() {
                    let span = condition.span;
                    StmtKind::If {
                        condition: Expr {
                            kind: ExprKind::Unary {
                                op: UnaryOp::Not,
                                operand: Box::new(condition),
                            },
                            span,
                        },
                        then: otherwise,
                        otherwise: Vec::new(),
                    }
                } else {
                    StmtKind::If {
                        condition,
                        then,
                        otherwise,
                    }
                };
                done.push(Stmt { kind, ..statement });
                return Ok(done);
            }
            StmtKind::OnDevice(ref body) => {
                if let Some(at) = exit_in(body, false) {
                    return Err(at);
                }
                done.push(statement);
            }
            _ => done.push(statement),
        }
    }
    Ok(done)
}

/// Where the first `continue` (or, with `breaks`, `break`) of `body`'s
/// loop is: outside nested loops, whose bodies hold none any more.
fn exit_in(body: &[Stmt], breaks: bool) -> Option<Span> {
    body.iter().find_map(|statement| match &statement.kind {
        StmtKind::Continue if !breaks => Some(statement.span),
        StmtKind::Break if breaks => Some(statement.span),
        StmtKind::If {
            then, otherwise, ..
        } => exit_in(then, breaks).or_else(|| exit_in(otherwise, breaks)),
        StmtKind::OnDevice(body) => exit_in(body, breaks),
        _ => None,
    })
}

/// Whether `statements` may continue the enclosing loop.
fn continues(statements: &[Stmt]) -> bool {
    exit_in(statements, false).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32) -> Span {
        Span { line, column: 1 }
    }

    fn statement(kind: StmtKind, line: u32) -> Stmt {
        Stmt {
            kind,
            labels: Vec::new(),
            span: at(line),
        }
    }

    fn call(line: u32) -> Stmt {
        let name = Expr {
            kind: ExprKind::Var(format!("s{line}")),
            span: at(line),
        };
        statement(
            StmtKind::Assign {
                target: name.clone(),
                value: name,
            },
            line,
        )
    }

    fn branch(then: Vec<Stmt>, otherwise: Vec<Stmt>, line: u32) -> Stmt {
        let condition = Expr {
            kind: ExprKind::Bool(true),
            span: at(line),
        };
        statement(
            StmtKind::If {
                condition,
                then,
                otherwise,
            },
            line,
        )
    }

    fn lines(statements: &[Stmt]) -> String {
        statements
            .iter()
            .map(|s| match &s.kind {
                StmtKind::If {
                    then, otherwise, ..
                } => format!("if{}[{}|{}]", s.span.line, lines(then), lines(otherwise)),
                _ => s.span.line.to_string(),
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    #[test]
    fn the_rest_moves_into_the_paths_that_go_on() {
        let continue_ = |line| statement(StmtKind::Continue, line);
        // if c: continue; 3; 4  =>  if not c: 3, 4
        let body = vec![branch(vec![continue_(2)], vec![], 1), call(3), call(4)];
        let rewritten = remove(body).unwrap();
        assert_eq!(lines(&rewritten), "if1[3,4|]");
        let StmtKind::If { condition, .. } = &rewritten[0].kind else {
            unreachable!()
        };
        assert!(matches!(
            condition.kind,
            ExprKind::Unary {
                op: UnaryOp::Not,
                ..
            }
        ));
        // 1; if: 3; continue / else: 5; 6  =>  1, if[3|5,6]
        let body = vec![
            call(1),
            branch(vec![call(3), continue_(4)], vec![call(5)], 2),
            call(6),
        ];
        assert_eq!(lines(&remove(body).unwrap()), "1,if2[3|5,6]");
        // Nested: if: (if: continue); 4; then 5.
        let inner = branch(vec![continue_(3)], vec![], 2);
        let body = vec![branch(vec![inner, call(4)], vec![], 1), call(5)];
        assert_eq!(lines(&remove(body).unwrap()), "if1[if2[4,5|]|5]");
        // A bare continue ends the body.
        let body = vec![call(1), continue_(2), call(3)];
        assert_eq!(lines(&remove(body).unwrap()), "1");
        // Two early exits in a row: the second one's rest moves too.
        let body = vec![
            branch(vec![continue_(2)], vec![], 1),
            branch(vec![continue_(4)], vec![], 3),
            call(5),
        ];
        assert_eq!(lines(&remove(body).unwrap()), "if1[if3[5|]|]");
    }

    #[test]
    fn a_continue_cannot_leave_a_device_block() {
        let device = statement(
            StmtKind::OnDevice(vec![statement(StmtKind::Continue, 7)]),
            6,
        );
        assert_eq!(
            remove(vec![device]).unwrap_err(),
            ExitError::LeavesDeviceBlock(at(7))
        );
    }
}
