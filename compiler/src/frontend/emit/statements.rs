//! Statements: assignments, locals and their stack slots, placement
//! rules, `if`, `while`, `with parir.gpu:`, calls of JIT functions.

use super::*;
use crate::passes::looppar_atomic_updates::ROUNDED_UPDATE;

/// The label of the allocation block of a `with parir.gpu:` block, whose
/// locals cannot be used after it.
pub(super) const ON_DEVICE_BLOCK: &str = "with parir.gpu";

/// Whether `value` is `target op v` or `v op target` (`+ - *`), the
/// element updated in place.
fn combines_target(target: &Expr, value: &Expr) -> bool {
    matches!(
        &value.kind,
        ExprKind::Binary { op: BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul, lhs, rhs }
            if reductions::same(lhs, target) || reductions::same(rhs, target)
    )
}

impl<'a> Emitter<'a> {
    pub(super) fn open_alloc_block(&mut self, label: &str) {
        self.alloc_blocks.push(AllocBlock {
            position: self.out.len(),
            slots: String::new(),
            locals: Vec::new(),
            label: label.to_string(),
        });
    }

    pub(super) fn close_alloc_block(&mut self) {
        let block = self.alloc_blocks.pop().expect("an allocation block");
        self.out.insert_str(block.position, &block.slots);
        for local in block.locals {
            if !self.alloc_blocks.is_empty() {
                self.bind(
                    &local,
                    Binding::Private {
                        label: block.label.clone(),
                    },
                );
            }
        }
    }

    /// `with parir.gpu:` code emitted by `body`: a `looppar.on_device`
    /// region at `span`.
    pub(super) fn on_device_block(
        &mut self,
        span: Span,
        body: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        self.line("\"looppar.on_device\"() ({");
        self.indent += 1;
        self.on_device = true;
        // On a GPU its locals live in the kernels that use them (the CPU
        // runs the block inline: they are the function's).
        let on_gpu = self.target == Target::Gpu;
        if on_gpu {
            self.open_alloc_block(ON_DEVICE_BLOCK);
        }
        let emitted = body(self);
        if on_gpu {
            self.close_alloc_block();
        }
        emitted?;
        self.on_device = false;
        self.line("\"looppar.yield\"() : () -> ()");
        self.indent -= 1;
        let location = self.location(span);
        self.line(&format!("}}) : () -> (){location}"));
        Ok(())
    }

    /// A scalar stack slot of `ty`, at the start of the innermost
    /// allocation block (the function, or the enclosing parallel loop).
    pub(super) fn stack_slot(&mut self, ty: Ty) -> String {
        let slot = self.fresh();
        let indent = "  ".repeat(self.indent.min(2));
        let block = self.alloc_blocks.last_mut().expect("an allocation block");
        let _ = writeln!(
            block.slots,
            "{indent}{slot} = memref.alloca() : memref<{}>",
            ty.mlir()
        );
        slot
    }

    /// A stack slot for a new local named `name`.
    pub(super) fn new_local(&mut self, name: &str, ty: Ty) -> String {
        let slot = self.stack_slot(ty);
        let block = self.alloc_blocks.last_mut().expect("an allocation block");
        block.locals.push(name.to_string());
        self.bind(
            name,
            Binding::Local {
                slot: slot.clone(),
                ty,
            },
        );
        slot
    }

    pub(super) fn store_local(&mut self, name: &str, value: Value, span: Span) -> Result<()> {
        let (slot, ty) = match self.lookup(name).cloned() {
            Some(Binding::Local { slot, ty }) => {
                if value.ty.is_float() && !ty.is_float() {
                    return Err(self.error(
                        span,
                        format!("`{name}` holds {} values; assigning a {} would lose its fraction (convert with int())", ty.name(), value.ty.name()),
                    ));
                }
                // Python's variable takes the type of each value assigned;
                // a local keeps its first one. A value that type cannot
                // hold (an int16 into an int8 local, a float64 into a
                // float32 one) would be cut down: refused. Literals take
                // the local's type, as NumPy's Python numbers do.
                let widened = promote(ty, value.ty);
                let weak = matches!(value.ty, Ty::WeakInt | Ty::WeakFloat);
                // Either kind of bool into a bool local (one i1).
                let bools = ty.is_bool() && value.ty.is_bool();
                if value.ty != ty && widened != ty && !weak && !bools {
                    return Err(self.error(
                        span,
                        format!(
                            "`{name}` holds {} values (the type of its first assignment), which cannot hold this {} value, \
                             and a local keeps one type: give its first assignment the wider type, e.g. {name} = parir.{}(...)",
                            ty.name(),
                            value.ty.name(),
                            widened.name()
                        ),
                    ));
                }
                (slot, ty)
            }
            None | Some(Binding::Private { .. }) => {
                let ty = Self::concrete(value.ty);
                (self.new_local(name, ty), ty)
            }
            Some(_) => {
                return Err(self.error(
                    span,
                    format!("`{name}` is a parameter or loop variable and cannot be assigned"),
                ))
            }
        };
        let v = self.convert(value, ty);
        self.line(&format!(
            "memref.store {}, {slot}[] : memref<{}>{}",
            v.ssa,
            ty.mlir(),
            self.location(self.span)
        ));
        Ok(())
    }

    pub(super) fn store_element(
        &mut self,
        base: &Expr,
        indices: &[Index],
        value: Value,
        span: Span,
    ) -> Result<()> {
        let (array, info) = self.array_of(base)?;
        let at = self.element_indices(&info, indices, span)?;
        self.store_at(&array, &info, &at, value, span);
        Ok(())
    }

    /// Stores `value` (converted to the element type) at `at`, guarded by
    /// a bounds check under `debug`.
    fn store_at(&mut self, array: &str, info: &ArrayInfo, at: &[String], value: Value, span: Span) {
        self.store_update_at(array, info, at, value, span, false);
    }

    /// [`Self::store_at`]; with `update` (the value combines the element's
    /// own: `a[k] += v`, `a[k] = a[k] * v`), a float rounded into an
    /// integer element is marked [`ROUNDED_UPDATE`].
    fn store_update_at(
        &mut self,
        array: &str,
        info: &ArrayInfo,
        at: &[String],
        value: Value,
        span: Span,
        update: bool,
    ) {
        let rounded =
            update && value.ty.is_float() && info.dtype != DType::Bool && !info.dtype.is_float();
        let attributes = if rounded {
            format!(" {{{ROUNDED_UPDATE}}}")
        } else {
            String::new()
        };
        let v = self.stored_value(value, info.dtype);
        let store = format!(
            "memref.store {}, {array}[{}]{attributes} : {}",
            v.ssa,
            at.join(", "),
            info.memref()
        );
        self.guarded(&store, info, at, span);
    }

    /// `a[k] op= value`: as in Python, the index is evaluated once, and the
    /// load and the store use it (so that `h[b[i]] += 1` reads `b[i]` once,
    /// and `looppar-atomic-updates` sees one element, under `debug` too).
    /// `a[k] = max(a[k], v)` (or `min`, either order) on a bool element
    /// with a bool `v`: NumPy's max and min of bools are `or` and `and`,
    /// made as that update on the stored byte (see `update_element`), so
    /// that iterations sharing the element update it atomically.
    fn bool_extreme_update<'s>(
        &self,
        target: &'s Expr,
        value: &'s Expr,
    ) -> Option<(&'s Expr, &'s [Index], BinaryOp, &'s Expr)> {
        let ExprKind::Subscript { base, indices } = &target.kind else {
            return None;
        };
        let ExprKind::Builtin {
            name,
            args,
            axis: None,
        } = &value.kind
        else {
            return None;
        };
        let op = match name.as_str() {
            "max" => BinaryOp::BitOr,
            "min" => BinaryOp::BitAnd,
            _ => return None,
        };
        let other = match args.as_slice() {
            [a, b] if reductions::same(a, target) => b,
            [a, b] if reductions::same(b, target) => a,
            _ => return None,
        };
        let bool_array = |base: &Expr| {
            self.array_of(base)
                .is_ok_and(|(_, info)| info.dtype == DType::Bool)
        };
        (bool_array(base) && self.obviously_bool(other)).then_some((
            &**base,
            indices.as_slice(),
            op,
            other,
        ))
    }

    /// Whether `expr` is a bool whatever the specialisation: a comparison,
    /// a literal, `not`, an element of a bool array, `and`/`or` of such.
    pub(super) fn obviously_bool(&self, expr: &Expr) -> bool {
        match &expr.kind {
            ExprKind::Compare { .. } | ExprKind::Bool(_) => true,
            ExprKind::Unary {
                op: UnaryOp::Not, ..
            } => true,
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                self.obviously_bool(a) && self.obviously_bool(b)
            }
            ExprKind::Subscript { base, indices } => {
                indices.iter().all(|i| matches!(i, Index::At(_)))
                    && self
                        .array_of(base)
                        .is_ok_and(|(_, info)| info.dtype == DType::Bool)
            }
            _ => false,
        }
    }

    fn update_element(
        &mut self,
        base: &Expr,
        indices: &[Index],
        op: BinaryOp,
        value: &Expr,
        span: Span,
    ) -> Result<()> {
        let (array, info) = self.array_of(base)?;
        let at = self.element_indices(&info, indices, span)?;
        let loaded = self.load(&array, &info, &at, span);
        // NumPy's + and * of bools are `or` and `and`.
        let on_bytes = match op {
            BinaryOp::BitOr | BinaryOp::Add => Some("ori"),
            BinaryOp::BitAnd | BinaryOp::Mul => Some("andi"),
            BinaryOp::BitXor => Some("xori"),
            _ => None,
        };
        if let (DType::Bool, Some(name)) = (info.dtype, on_bytes) {
            // On the stored bytes (0 or 1), as `load; op; store` of one
            // type: the update later passes find as a reduction, or make
            // atomic where iterations share the element (`found[0] |= x[i] > 0`).
            let v = self.expr(value)?;
            if v.ty.is_bool() {
                let byte = self.convert(v, Ty::Num(DType::U8));
                let combined = self.op(&format!("arith.{name} {loaded}, {} : i8", byte.ssa));
                let store = format!(
                    "memref.store {combined}, {array}[{}] : {}",
                    at.join(", "),
                    info.memref()
                );
                self.guarded(&store, &info, &at, span);
                return Ok(());
            }
            let current = self.loaded_value(loaded, info.dtype);
            let result = self.binary(op, current, v, span)?;
            self.store_at(&array, &info, &at, result, span);
            return Ok(());
        }
        let current = self.loaded_value(loaded, info.dtype);
        let result = self.written_binary(op, current, value, span)?;
        self.store_update_at(&array, &info, &at, result, span, true);
        Ok(())
    }

    pub(super) fn check_placement(&self, statement: &Stmt) -> Result<()> {
        let is_loop = matches!(
            statement.kind,
            StmtKind::For { .. } | StmtKind::While { .. } | StmtKind::Pass | StmtKind::OnDevice(_)
        ) || is_plain_call(statement);
        if self.parallel_depth == 0
            && !self.on_device
            && !is_loop
            && !self.is_slice_statement(statement)
        {
            return Err(self.error(
                statement.span,
                format!(
                    "this statement would run outside every parallel loop, which JIT functions reject; \
                     put it in a parallel loop, or wrap the function body in `with parir.gpu:` to run it sequentially{}{}",
                    self.label_mismatch(),
                    if matches!(statement.kind, StmtKind::Assign { .. }) {
                        " (a local may be assigned here only once, from values known when compiling, \
                         such as `n, m = x.shape`)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        Ok(())
    }

    /// When the parallel specification names labels the code does not
    /// have (a typo), a hint saying so; empty otherwise.
    fn label_mismatch(&self) -> String {
        let quoted = |labels: Vec<&String>| {
            let mut labels: Vec<String> = labels.iter().map(|l| format!("'{l}'")).collect();
            labels.sort();
            labels.join(", ")
        };
        let unknown: Vec<&String> = self
            .spec
            .keys()
            .filter(|l| !self.written_labels.contains(*l))
            .collect();
        if unknown.is_empty() {
            return String::new();
        }
        let written: Vec<&String> = self.written_labels.iter().collect();
        format!(
            " (the parallel specification names {}, which labels nothing here; the code's labels are {})",
            quoted(unknown),
            if written.is_empty() {
                "none".to_string()
            } else {
                quoted(written)
            }
        )
    }

    pub(super) fn is_slice_statement(&self, statement: &Stmt) -> bool {
        match &statement.kind {
            StmtKind::Assign { target, value } | StmtKind::AugAssign { target, value, .. } => {
                has_slices(target) || !reduction_calls(value).is_empty()
            }
            _ => false,
        }
    }

    pub(super) fn statements(&mut self, statements: &[Stmt]) -> Result<()> {
        for statement in statements {
            self.statement(statement)?;
        }
        Ok(())
    }

    pub(super) fn statement(&mut self, statement: &Stmt) -> Result<()> {
        let outer = std::mem::replace(&mut self.span, statement.span);
        let result = self.statement_at(statement);
        self.span = outer;
        result?;
        match self.overflow.take() {
            Some((span, message)) => Err(self.error(span, message)),
            None => Ok(()),
        }
    }

    fn statement_at(&mut self, statement: &Stmt) -> Result<()> {
        if !matches!(statement.kind, StmtKind::For { .. }) && !self.is_slice_statement(statement) {
            if let Some(label) = statement.labels.first() {
                return Err(self.error(
                    statement.span,
                    format!(
                        "the label '{label}' must be followed by a for loop or a slice statement"
                    ),
                ));
            }
        }
        if self.constant_outside_loops(statement) {
            return Ok(());
        }
        self.check_placement(statement)?;
        match &statement.kind {
            StmtKind::Pass => Ok(()),
            // Loop bodies are converted without their continues.
            StmtKind::Continue | StmtKind::Break => {
                Err(self.error(statement.span, "continue or break outside a loop"))
            }
            StmtKind::For {
                var,
                start,
                stop,
                step,
                body,
            } => self.for_loop(statement, var, start, stop, step, body),
            StmtKind::While { condition, body } => self.while_loop(condition, body),
            StmtKind::If {
                condition,
                then,
                otherwise,
            } => self.branches(
                condition,
                |this| this.statements(then),
                (!otherwise.is_empty()).then_some(|this: &mut Self| this.statements(otherwise)),
            ),
            StmtKind::Assign { target, value } => {
                if self.is_slice_statement(statement) {
                    return self.slice_statement(statement, target, None, value);
                }
                if let Some((base, indices, op, other)) = self.bool_extreme_update(target, value) {
                    return self.update_element(base, indices, op, other, target.span);
                }
                let v = self.expr(value)?;
                if let (ExprKind::Subscript { base, indices }, true) =
                    (&target.kind, combines_target(target, value))
                {
                    let (array, info) = self.array_of(base)?;
                    let at = self.element_indices(&info, indices, target.span)?;
                    self.store_update_at(&array, &info, &at, v, target.span, true);
                    return Ok(());
                }
                self.assign(target, v)
            }
            StmtKind::AugAssign { target, op, value } => {
                if self.is_slice_statement(statement) {
                    return self.slice_statement(statement, target, Some(*op), value);
                }
                if let ExprKind::Subscript { base, indices } = &target.kind {
                    return self.update_element(base, indices, *op, value, target.span);
                }
                let current = self.expr(target)?;
                let result = self.written_binary(*op, current, value, statement.span)?;
                self.assign(target, result)
            }
            // Inside a parallel loop the code runs on the device already
            // (each iteration is a thread there): the block adds nothing.
            StmtKind::OnDevice(body) if self.parallel_depth > 0 => self.statements(body),
            StmtKind::OnDevice(body) => {
                if self.on_device {
                    return Err(
                        self.error(statement.span, "`with parir.gpu:` blocks cannot be nested")
                    );
                }
                self.on_device_block(statement.span, |emitter| emitter.statements(body))
            }
            StmtKind::Call(call) => self.inline_call(call),
        }
    }

    pub(super) fn assign(&mut self, target: &Expr, value: Value) -> Result<()> {
        match &target.kind {
            ExprKind::Var(name) => self.store_local(name, value, target.span),
            ExprKind::Subscript { base, indices } => {
                self.store_element(base, indices, value, target.span)
            }
            ExprKind::DictEntry { .. } => Err(self.error(
                target.span,
                "dict entries cannot be assigned; write into an array entry instead",
            )),
            _ => Err(self.error(target.span, "cannot assign to this expression")),
        }
    }

    /// `scf.if condition { then } else { otherwise }`, without an else
    /// branch when `otherwise` is None.
    pub(super) fn branches(
        &mut self,
        condition: &Expr,
        then: impl FnOnce(&mut Self) -> Result<()>,
        otherwise: Option<impl FnOnce(&mut Self) -> Result<()>>,
    ) -> Result<()> {
        let c = self.expr(condition)?;
        let c = self.convert_to_bool(c);
        let known = c.known_truth();
        self.line(&format!("scf.if {} {{", c.ssa));
        self.indent += 1;
        self.unless_dead(known == Some(false), then)?;
        self.indent -= 1;
        if let Some(otherwise) = otherwise {
            self.line("} else {");
            self.indent += 1;
            self.unless_dead(known == Some(true), otherwise)?;
            self.indent -= 1;
        }
        // At the condition: passes report conditions they cannot place
        // (one the GPU computes, steering the host).
        let location = self.location(condition.span);
        self.line(&format!("}}{location}"));
        Ok(())
    }

    /// Outside every parallel loop, `name = value` with a value known
    /// when compiling (`n, m = x.shape`, `k = 2 * n`), for a local assigned
    /// nowhere else: bound as a constant of the call, which computes
    /// nothing where it stands (as a scalar argument is). Whether it was.
    fn constant_outside_loops(&mut self, statement: &Stmt) -> bool {
        let StmtKind::Assign { target, value } = &statement.kind else {
            return false;
        };
        let ExprKind::Var(name) = &target.kind else {
            return false;
        };
        let once = self
            .frames
            .last()
            .is_some_and(|frame| frame.assigned_once.contains(name));
        if self.parallel_depth > 0 || self.on_device || !once || self.lookup(name).is_some() {
            return false;
        }
        let (out, checks, overflow) = (self.out.len(), self.checks.len(), self.overflow.clone());
        let known = self.expr(value).ok().and_then(|v| Some((v.literal?, v.ty)));
        self.out.truncate(out);
        self.checks.truncate(checks);
        self.overflow = overflow;
        let Some((literal, ty)) = known else {
            return false;
        };
        // A local's type, as `store_local` gives it: Python numbers are
        // int64 and float64 (see the README's differences from NumPy).
        self.bind(name, Binding::Constant(literal, Self::concrete(ty)));
        true
    }

    /// The truth of `condition` where it is known when compiling (it
    /// depends only on literals and specialised scalars), evaluated
    /// without emitting anything; None otherwise, or if it is invalid
    /// here (it names variables not bound yet), where emitting it reports.
    pub(super) fn known_condition(&mut self, condition: &Expr) -> Option<bool> {
        let (out, checks, overflow) = (self.out.len(), self.checks.len(), self.overflow.clone());
        let truth = self
            .expr(condition)
            .ok()
            .map(|c| self.convert_to_bool(c))
            .and_then(|c| c.known_truth());
        self.out.truncate(out);
        self.checks.truncate(checks);
        self.overflow = overflow;
        truth
    }

    /// Emits `code`, as dead code if `dead` (see `dead_code`).
    pub(super) fn unless_dead<R>(&mut self, dead: bool, code: impl FnOnce(&mut Self) -> R) -> R {
        self.dead_code += usize::from(dead);
        let result = code(self);
        self.dead_code -= usize::from(dead);
        result
    }

    /// Whether the code being emitted never runs (see `dead_code`).
    pub(super) fn in_dead_code(&self) -> bool {
        self.dead_code > 0
    }

    pub(super) fn while_loop(&mut self, condition: &Expr, body: &[Stmt]) -> Result<()> {
        self.line("\"looppar.while\"() ({");
        self.indent += 1;
        let c = self.expr(condition)?;
        let c = self.convert_to_bool(c);
        self.line(&format!("\"looppar.condition\"({}) : (i1) -> ()", c.ssa));
        self.indent -= 1;
        self.line("}, {");
        self.indent += 1;
        self.statements(body)?;
        self.line("\"looppar.yield\"() : () -> ()");
        self.indent -= 1;
        self.line("}) : () -> ()");
        Ok(())
    }

    pub(super) fn inline_call(&mut self, call: &Expr) -> Result<()> {
        let ExprKind::Call { function, args } = &call.kind else {
            unreachable!("a call")
        };
        let caller = self.frames.last().map_or("", |frame| frame.key.as_str());
        let key = callee_key(caller, function);
        let callee = self.callees.get(&key).ok_or_else(|| {
            self.error(call.span, format!("`{function}` is not a JIT function: only functions decorated with @parir.jit can be called"))
        })?;
        if self
            .frames
            .iter()
            .any(|f| f.definition == callee.span && f.source.file == callee.source.file)
        {
            return Err(self.error(call.span, format!("`{function}` calls itself (directly or not): recursion is not supported in JIT functions")));
        }
        if callee.params.len() != args.len() {
            return Err(self.error(
                call.span,
                format!(
                    "`{function}` takes {} argument(s), got {}",
                    callee.params.len(),
                    args.len()
                ),
            ));
        }
        let mut bindings = HashMap::new();
        for (param, arg) in callee.params.iter().zip(args) {
            let binding = match &arg.kind {
                ExprKind::Var(name) => match self.lookup(name).cloned() {
                    Some(Binding::Local { .. })
                    | Some(Binding::LoopIndex { .. })
                    | None
                    | Some(Binding::Private { .. }) => {
                        let v = self.expr(arg)?;
                        self.value_binding(v)
                    }
                    Some(other) => other,
                },
                ExprKind::DictEntry { dict, key } => self.dict_entry(dict, key, arg.span)?,
                _ => {
                    let v = self.expr(arg)?;
                    self.value_binding(v)
                }
            };
            bindings.insert(param.clone(), binding);
        }
        self.frames.push(Frame {
            source: &callee.source,
            key,
            bindings,
            definition: callee.span,
            assigned_once: assigned_once(&callee.body),
        });
        let result = self.statements(&callee.body);
        self.frames.pop();
        result
    }

    /// Binds a computed value: literals stay constants, others go into a
    /// stack slot read by the callee.
    pub(super) fn value_binding(&mut self, value: Value) -> Binding {
        if let Some(literal) = value.literal {
            return Binding::Constant(literal, value.ty);
        }
        if value.ty == Ty::Index {
            return Binding::LoopIndex { ssa: value.ssa };
        }
        let ty = Self::concrete(value.ty);
        let v = self.convert(value, ty);
        let slot = self.stack_slot(ty);
        self.line(&format!(
            "memref.store {}, {slot}[] : memref<{}>{}",
            v.ssa,
            ty.mlir(),
            self.location(self.span)
        ));
        Binding::Local { slot, ty }
    }
}

/// A call whose arguments are names and literals (`inner(x, y, n)`): it
/// computes nothing where it stands, so it may stand outside the parallel
/// loops, and the callee's statements are placed as its own.
fn is_plain_call(statement: &Stmt) -> bool {
    fn plain(arg: &Expr) -> bool {
        match &arg.kind {
            ExprKind::Var(_)
            | ExprKind::DictEntry { .. }
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Bool(_) => true,
            ExprKind::Unary { operand, .. } => plain(operand),
            _ => false,
        }
    }
    matches!(&statement.kind, StmtKind::Call(Expr { kind: ExprKind::Call { args, .. }, .. }) if args.iter().all(plain))
}
