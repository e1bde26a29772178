//! `continue` in loop bodies, rewritten into the conditions the rest of
//! the code already handles: the statements after an `if` that may
//! continue move into each of its branches that does not, and a path that
//! reaches `continue` ends there.
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

use super::ast::{Expr, ExprKind, Stmt, StmtKind, UnaryOp};
use super::error::Span;

/// `body` of one loop without its `continue`s (those of loops nested in
/// it belong to them and are gone already). Errs with the position of a
/// `continue` inside `with parir.gpu:`, which cannot leave its block.
pub fn remove(body: Vec<Stmt>) -> Result<Vec<Stmt>, Span> {
    then_rest(body, Vec::new())
}

/// `statements` followed by `rest` on every path that does not continue.
fn then_rest(statements: Vec<Stmt>, rest: Vec<Stmt>) -> Result<Vec<Stmt>, Span> {
    let mut done = Vec::with_capacity(statements.len() + rest.len());
    let mut statements = statements.into_iter();
    while let Some(statement) = statements.next() {
        match statement.kind {
            StmtKind::Continue => return Ok(done),
            StmtKind::If {
                condition,
                then,
                otherwise,
            } if then.iter().chain(&otherwise).any(continues) => {
                let after: Vec<Stmt> = statements.chain(rest).collect();
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
            StmtKind::OnDevice(ref body) if body.iter().any(continues) => {
                return Err(continue_in(body).unwrap_or(statement.span));
            }
            _ => done.push(statement),
        }
    }
    done.extend(rest);
    Ok(done)
}

/// Whether `statement` may continue the enclosing loop.
fn continues(statement: &Stmt) -> bool {
    match &statement.kind {
        StmtKind::Continue => true,
        StmtKind::If {
            then, otherwise, ..
        } => then.iter().chain(otherwise).any(continues),
        StmtKind::OnDevice(body) => body.iter().any(continues),
        _ => false,
    }
}

/// Where the first `continue` of `body` (outside nested loops) is.
fn continue_in(body: &[Stmt]) -> Option<Span> {
    body.iter().find_map(|statement| match &statement.kind {
        StmtKind::Continue => Some(statement.span),
        StmtKind::If {
            then, otherwise, ..
        } => continue_in(then).or_else(|| continue_in(otherwise)),
        StmtKind::OnDevice(body) => continue_in(body),
        _ => None,
    })
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
    }

    #[test]
    fn a_continue_cannot_leave_a_device_block() {
        let device = statement(
            StmtKind::OnDevice(vec![statement(StmtKind::Continue, 7)]),
            6,
        );
        assert_eq!(remove(vec![device]).unwrap_err(), at(7));
    }
}
