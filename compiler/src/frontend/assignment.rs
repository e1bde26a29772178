//! Definite assignment: a local read where some path reaches it without
//! assigning it (`if c: w = 1.0` and then `w`) is an UnboundLocalError in
//! Python, and would read an uninitialised stack slot in compiled code.
//! Such reads are compile errors, found on the AST of each JIT function
//! before any specialisation.
//!
//! A name counts as a local if the function assigns it somewhere and it is
//! not a parameter; reads of other names (parameters, `parir`, builtins)
//! are the emitter's business. After an `if`, a local is assigned when
//! both branches assign it; after a `while`, or a `for` whose trip count
//! is not a positive constant, only what was assigned before the loop.
//! (Reading a loop variable after its loop is the emitter's business.)

use super::ast::{for_each_statement, Expr, ExprKind, Function, Index, Stmt, StmtKind};
use super::error::{CompileError, Span};

use std::collections::HashSet;

/// Checks that every local `function` reads is assigned on every path
/// that reaches the read.
pub fn check(function: &Function) -> Result<(), CompileError> {
    let mut locals = HashSet::new();
    assigned_names(&function.body, &mut locals);
    for param in &function.params {
        locals.remove(param);
    }
    let checker = Checker { function, locals };
    checker.statements(&function.body, HashSet::new())?;
    Ok(())
}

struct Checker<'f> {
    function: &'f Function,
    locals: HashSet<String>,
}

type Assigned = HashSet<String>;

impl Checker<'_> {
    fn statements(
        &self,
        statements: &[Stmt],
        mut assigned: Assigned,
    ) -> Result<Assigned, CompileError> {
        for statement in statements {
            assigned = self.statement(statement, assigned)?;
        }
        Ok(assigned)
    }

    fn statement(
        &self,
        statement: &Stmt,
        mut assigned: Assigned,
    ) -> Result<Assigned, CompileError> {
        match &statement.kind {
            // (A loop's continue is rewritten away when it is converted.)
            StmtKind::Pass | StmtKind::Continue | StmtKind::Break => Ok(assigned),
            StmtKind::Assign { target, value } => {
                self.expr(value, &assigned)?;
                self.target(target, &assigned)?;
                if let ExprKind::Var(name) = &target.kind {
                    assigned.insert(name.clone());
                }
                Ok(assigned)
            }
            StmtKind::AugAssign { target, value, .. } => {
                self.expr(target, &assigned)?;
                self.expr(value, &assigned)?;
                Ok(assigned)
            }
            StmtKind::Call(call) => {
                self.expr(call, &assigned)?;
                Ok(assigned)
            }
            StmtKind::OnDevice(body) => self.statements(body, assigned),
            StmtKind::If {
                condition,
                then,
                otherwise,
            } => {
                self.expr(condition, &assigned)?;
                let after_then = self.statements(then, assigned.clone())?;
                let after_otherwise = self.statements(otherwise, assigned)?;
                Ok(after_then.intersection(&after_otherwise).cloned().collect())
            }
            StmtKind::While { condition, body } => {
                self.expr(condition, &assigned)?;
                self.statements(body, assigned.clone())?;
                Ok(assigned)
            }
            StmtKind::For {
                var,
                start,
                stop,
                step,
                body,
            } => {
                for bound in [start, stop, step] {
                    self.expr(bound, &assigned)?;
                }
                let mut inside = assigned.clone();
                inside.insert(var.clone());
                let after_body = self.statements(body, inside)?;
                if runs_at_least_once(start, stop, step) {
                    assigned = after_body;
                }
                Ok(assigned)
            }
        }
    }

    /// An assignment target's own reads (indices of a subscript).
    fn target(&self, target: &Expr, assigned: &Assigned) -> Result<(), CompileError> {
        match &target.kind {
            ExprKind::Var(_) => Ok(()),
            _ => self.expr(target, assigned),
        }
    }

    fn expr(&self, expr: &Expr, assigned: &Assigned) -> Result<(), CompileError> {
        match &expr.kind {
            ExprKind::Var(name) => {
                if self.locals.contains(name) && !assigned.contains(name) {
                    return Err(self.unassigned(name, expr.span));
                }
                Ok(())
            }
            // Only the array's shape is read, known when compiling.
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) | ExprKind::Shape { .. } => {
                Ok(())
            }
            ExprKind::DictEntry { .. } => Ok(()),
            ExprKind::Subscript { base, indices } => {
                self.expr(base, assigned)?;
                for index in indices {
                    match index {
                        Index::At(e) => self.expr(e, assigned)?,
                        Index::Slice(lower, upper, _) => {
                            for bound in [lower, upper].into_iter().flatten() {
                                self.expr(bound, assigned)?;
                            }
                        }
                    }
                }
                Ok(())
            }
            ExprKind::Binary { lhs, rhs, .. } | ExprKind::Compare { lhs, rhs, .. } => {
                self.expr(lhs, assigned)?;
                self.expr(rhs, assigned)
            }
            ExprKind::Unary { operand, .. } => self.expr(operand, assigned),
            // Python evaluates the right side only sometimes; a local it
            // reads must still be assigned on the way there.
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                self.expr(a, assigned)?;
                self.expr(b, assigned)
            }
            ExprKind::IfElse {
                condition,
                then,
                otherwise,
            } => {
                self.expr(condition, assigned)?;
                self.expr(then, assigned)?;
                self.expr(otherwise, assigned)
            }
            ExprKind::Builtin { args, .. } | ExprKind::Call { args, .. } => {
                args.iter().try_for_each(|a| self.expr(a, assigned))
            }
        }
    }

    fn unassigned(&self, name: &str, span: Span) -> CompileError {
        self.function.source.error(
            span,
            format!(
                "`{name}` may be read here before it is assigned (Python's UnboundLocalError): \
                 it is assigned only under a condition or in a loop that may not run; \
                 give it a value before that"
            ),
        )
    }
}

/// Every name a statement list assigns (`name = ...`, `name op= ...`,
/// loop variables), at any depth.
fn assigned_names(statements: &[Stmt], names: &mut HashSet<String>) {
    for_each_statement(statements, &mut |statement| match &statement.kind {
        StmtKind::Assign { target, .. } | StmtKind::AugAssign { target, .. } => {
            if let ExprKind::Var(name) = &target.kind {
                names.insert(name.clone());
            }
        }
        StmtKind::For { var, .. } => {
            names.insert(var.clone());
        }
        _ => {}
    });
}

/// `range(start, stop, step)` with integer constants that has iterations.
fn runs_at_least_once(start: &Expr, stop: &Expr, step: &Expr) -> bool {
    // A literal, or a negated one (`range(10, 0, -4)`).
    match (start.int_literal(), stop.int_literal(), step.int_literal()) {
        (Some(a), Some(b), Some(s)) if s > 0 => a < b,
        (Some(a), Some(b), Some(s)) if s < 0 => a > b,
        _ => false,
    }
}
