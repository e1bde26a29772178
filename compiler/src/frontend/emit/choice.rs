//! Conditional values: `x if c else y`, `a and b`, `a or b`. Python
//! evaluates only the side it picks, and programs rely on it
//! (`x[i] if i < n else 0.0`): a side that could fault (it reads an array,
//! divides, calls) is evaluated inside an `scf.if` branch; otherwise both
//! sides are computed and selected, which keeps loops vectorisable.

use super::*;

/// One side of a choice: already computed, or an expression to evaluate
/// only if chosen.
pub(super) enum Side<'e> {
    Ready(Value),
    Lazy(&'e Expr),
}

impl Side<'_> {
    fn may_fault(&self) -> bool {
        match self {
            Side::Ready(_) => false,
            Side::Lazy(expr) => may_fault(expr),
        }
    }
}

/// Whether evaluating `expr` could fail where its guard is false: an array
/// read (the index may be out of bounds), a division (by zero), a call.
fn may_fault(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Subscript { .. } | ExprKind::Call { .. } => true,
        ExprKind::Binary { op, lhs, rhs } => {
            matches!(op, BinaryOp::Div | BinaryOp::FloorDiv | BinaryOp::Mod)
                || may_fault(lhs)
                || may_fault(rhs)
        }
        ExprKind::Unary { operand, .. } => may_fault(operand),
        ExprKind::Compare { lhs, rhs, .. } => may_fault(lhs) || may_fault(rhs),
        ExprKind::And(a, b) | ExprKind::Or(a, b) => may_fault(a) || may_fault(b),
        ExprKind::IfElse {
            condition,
            then,
            otherwise,
        } => may_fault(condition) || may_fault(then) || may_fault(otherwise),
        ExprKind::Builtin { args, .. } => args.iter().any(may_fault),
        _ => false,
    }
}

impl<'a> Emitter<'a> {
    /// `then` if `condition` (a bool) holds, else `otherwise`, in their
    /// common type (bool if both are bool). Where the condition is known
    /// when compiling, the other side is dead code (see `dead_code`).
    pub(super) fn choose(
        &mut self,
        condition: &Value,
        then: Side<'_>,
        otherwise: Side<'_>,
    ) -> Result<Value> {
        let known = condition.known_truth();
        let condition = &condition.ssa;
        if !then.may_fault() && !otherwise.may_fault() {
            let t = self.unless_dead(known == Some(false), |e| e.side(then))?;
            let e = self.unless_dead(known == Some(true), |e| e.side(otherwise))?;
            let ty = Self::common(&t, &e);
            let (t, e) = (self.convert(t, ty), self.convert(e, ty));
            if let Some(holds) = known {
                return Ok(if holds { t } else { e });
            }
            let ssa = self.op(&format!(
                "arith.select {condition}, {}, {} : {}",
                t.ssa,
                e.ssa,
                ty.mlir()
            ));
            return Ok(Value {
                ssa,
                ty,
                literal: None,
            });
        }
        // The header needs the result type, known once both sides are
        // emitted: it and the first branch's yield are inserted afterwards.
        let header_at = self.out.len();
        self.indent += 1;
        let t = self.unless_dead(known == Some(false), |e| e.side(then))?;
        let then_end = self.out.len();
        self.indent -= 1;
        self.line("} else {");
        self.indent += 1;
        let e = self.unless_dead(known == Some(true), |e| e.side(otherwise))?;
        let ty = Self::common(&t, &e);
        let e = self.convert(e, ty);
        self.line(&format!("scf.yield {} : {}", e.ssa, ty.mlir()));
        self.indent -= 1;
        self.line("}");
        let (then_yield, t) = {
            let after = std::mem::take(&mut self.out);
            self.indent += 1;
            let t = self.convert(t, ty);
            self.line(&format!("scf.yield {} : {}", t.ssa, ty.mlir()));
            self.indent -= 1;
            (std::mem::replace(&mut self.out, after), t)
        };
        self.out.insert_str(then_end, &then_yield);
        let result = self.fresh();
        let header = format!(
            "{}{result} = scf.if {condition} -> ({}) {{\n",
            "  ".repeat(self.indent),
            ty.mlir()
        );
        self.out.insert_str(header_at, &header);
        // The chosen side's value, where known when compiling, stays known.
        let chosen = match known {
            Some(true) => t.literal,
            Some(false) => e.literal,
            None => None,
        };
        if let Some(literal) = chosen {
            return Ok(self.constant(literal, ty));
        }
        Ok(Value {
            ssa: result,
            ty,
            literal: None,
        })
    }

    fn side(&mut self, side: Side<'_>) -> Result<Value> {
        match side {
            Side::Ready(value) => Ok(value),
            Side::Lazy(expr) => self.expr(expr),
        }
    }

    /// The type both sides of a choice convert to.
    fn common(a: &Value, b: &Value) -> Ty {
        if a.ty == Ty::WeakBool && b.ty == Ty::WeakBool {
            Ty::WeakBool
        } else if a.ty.is_bool() && b.ty.is_bool() {
            Ty::Bool
        } else {
            // Either side is the value as it is (no arithmetic happens):
            // an int literal the other side's type cannot hold widens it.
            super::expressions::exact_type(a, b)
        }
    }
}
