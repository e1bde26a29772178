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
    /// `then` if `condition` (an i1) holds, else `otherwise`, in their
    /// common type (bool if both are bool).
    pub(super) fn choose(
        &mut self,
        condition: &str,
        then: Side<'_>,
        otherwise: Side<'_>,
    ) -> Result<Value> {
        if !then.may_fault() && !otherwise.may_fault() {
            let t = self.side(then)?;
            let e = self.side(otherwise)?;
            let ty = Self::common(&t, &e);
            let (t, e) = (self.convert(t, ty), self.convert(e, ty));
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
        let t = self.side(then)?;
        let then_end = self.out.len();
        self.indent -= 1;
        self.line("} else {");
        self.indent += 1;
        let e = self.side(otherwise)?;
        let ty = Self::common(&t, &e);
        let e = self.convert(e, ty);
        self.line(&format!("scf.yield {} : {}", e.ssa, ty.mlir()));
        self.indent -= 1;
        self.line("}");
        let then_yield = {
            let after = std::mem::take(&mut self.out);
            self.indent += 1;
            let t = self.convert(t, ty);
            self.line(&format!("scf.yield {} : {}", t.ssa, ty.mlir()));
            self.indent -= 1;
            std::mem::replace(&mut self.out, after)
        };
        self.out.insert_str(then_end, &then_yield);
        let result = self.fresh();
        let header = format!(
            "{}{result} = scf.if {condition} -> ({}) {{\n",
            "  ".repeat(self.indent),
            ty.mlir()
        );
        self.out.insert_str(header_at, &header);
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
        if a.ty == Ty::Bool && b.ty == Ty::Bool {
            Ty::Bool
        } else {
            // Either side is the value as it is (no arithmetic happens):
            // an int literal the other side's type cannot hold widens it.
            super::expressions::exact_type(a, b)
        }
    }
}
