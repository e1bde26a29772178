//! For loops and reductions: accumulation in a local, and chunked
//! parallel reductions combined atomically.

use super::*;

/// How the iterations of an emitted loop run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Iterations {
    /// In order: a sequential loop of the program, whose reductions
    /// combine in that order.
    InOrder,
    /// As a parallel loop of the program.
    Parallel,
    /// In order, one thread's share of a parallel loop (a chunk of a
    /// parallel reduction): its reductions may combine in any order, as
    /// the loop's threads do, which lets them vectorise.
    AnyOrder,
}

impl<'a> Emitter<'a> {
    /// The constant step of a range, or an error.
    pub(super) fn constant_step(&mut self, step: &Expr) -> Result<i64> {
        let value = self.expr(step)?;
        match value.literal {
            Some(Literal::Int(0)) => Err(self.error(step.span, "range() step must not be zero")),
            Some(Literal::Int(s)) => Ok(s),
            _ => Err(self.error(
                step.span,
                "range() needs a constant step (an int literal or int argument)",
            )),
        }
    }

    pub(super) fn label_spec(&mut self, statement: &Stmt) -> Option<(String, LabelSpec)> {
        let label = statement.labels.first()?.clone();
        self.used_labels.insert(label.clone());
        let spec = self.spec.get(&label).copied();
        spec.map(|s| (label, s))
    }

    pub(super) fn index_value(&mut self, expr: &Expr) -> Result<Value> {
        let v = self.expr(expr)?;
        if v.ty.is_float() {
            return Err(self.error(
                expr.span,
                format!("range() takes integers, got {}", v.ty.name()),
            ));
        }
        Ok(self.convert(v, Ty::Num(DType::I64)))
    }

    /// The number of iterations of `range(start, stop, step)` (i64, >= 0).
    pub(super) fn trip_count(&mut self, start: &Value, stop: &Value, step: i64) -> String {
        // Python's len(range(start, stop, step)): 0 unless the range runs
        // towards stop, else (|stop - start| - 1) / |step| + 1. The
        // distance and the division are unsigned, so that no bounds or
        // step overflow (range(-2**63, 2**63 - 1, 2**62) has 4 trips).
        let (low, high, runs) = if step > 0 {
            (&start.ssa, &stop.ssa, "slt")
        } else {
            (&stop.ssa, &start.ssa, "slt")
        };
        let nonempty = self.op(&format!("arith.cmpi {runs}, {low}, {high} : i64"));
        let distance = self.op(&format!("arith.subi {high}, {low} : i64"));
        let one = self.op("arith.constant 1 : i64");
        let last = self.op(&format!("arith.subi {distance}, {one} : i64"));
        // |step| as an unsigned i64 (2**63 for step = -2**63).
        let magnitude = self.op(&format!(
            "arith.constant {} : i64",
            step.unsigned_abs() as i64
        ));
        let whole_steps = self.op(&format!("arith.divui {last}, {magnitude} : i64"));
        let trips = self.op(&format!("arith.addi {whole_steps}, {one} : i64"));
        let zero = self.op("arith.constant 0 : i64");
        self.op(&format!("arith.select {nonempty}, {trips}, {zero} : i64"))
    }

    pub(super) fn for_loop(
        &mut self,
        statement: &Stmt,
        var: &str,
        start: &Expr,
        stop: &Expr,
        step: &Expr,
        body: &[Stmt],
    ) -> Result<()> {
        // A local of the same name takes the last value after the loop, as
        // in Python; any other name in use is not a variable to loop over.
        let shadows_local = match self.lookup(var) {
            Some(Binding::Local { .. }) => true,
            None | Some(Binding::Private { .. }) => false,
            Some(Binding::LoopIndex { .. }) => {
                return Err(self.error(
                    statement.span,
                    format!("`{var}` is already the variable of an enclosing loop (or a parameter); give this loop's variable another name"),
                ))
            }
            Some(_) => {
                return Err(self.error(
                    statement.span,
                    format!("`{var}` is a parameter and cannot be a loop variable; give this loop's variable another name"),
                ))
            }
        };
        let step = self.constant_step(step)?;
        let start_value = self.index_value(start)?;
        let stop_value = self.index_value(stop)?;
        let trips = self.trip_count(&start_value, &stop_value, step);
        let literal = |v: &Value| match v.literal {
            Some(Literal::Int(k)) => Some(k),
            _ => None,
        };
        let runs = literal(&start_value)
            .zip(literal(&stop_value))
            .is_some_and(|(a, b)| if step > 0 { a < b } else { a > b });
        self.range_for_loop(statement, var, &start_value, step, &trips, runs, body)?;
        // A loop that certainly runs leaves its variable bound to the last
        // value, as Python does (`for j in range(3): ...`, then `j`); where
        // locals live (in a parallel loop, or on the device).
        let where_locals_live = self.parallel_depth > 0 || self.on_device;
        if shadows_local || (runs && where_locals_live) {
            self.keep_last_value(var, &start_value, step, &trips, statement.span)?;
        }
        Ok(())
    }

    /// After a loop that ran, `var = start + (trips - 1) * step`.
    fn keep_last_value(
        &mut self,
        var: &str,
        start: &Value,
        step: i64,
        trips: &str,
        span: Span,
    ) -> Result<()> {
        let zero = self.op("arith.constant 0 : i64");
        let ran = self.op(&format!("arith.cmpi sgt, {trips}, {zero} : i64"));
        self.line(&format!("scf.if {ran} {{"));
        self.indent += 1;
        let one = self.op("arith.constant 1 : i64");
        let last = self.op(&format!("arith.subi {trips}, {one} : i64"));
        let last = self.op(&format!("arith.index_cast {last} : i64 to index"));
        let ssa = self.induction(&last, start, step);
        let stored = self.store_local(
            var,
            Value {
                ssa,
                ty: Ty::Index,
                literal: None,
            },
            span,
        );
        self.indent -= 1;
        self.line("}");
        stored
    }

    /// The loop of `for var in range(start, ..., step)`, `trips` times
    /// (`runs`: certainly at least once).
    #[allow(clippy::too_many_arguments)]
    fn range_for_loop(
        &mut self,
        statement: &Stmt,
        var: &str,
        start_value: &Value,
        step: i64,
        trips: &str,
        runs: bool,
        body: &[Stmt],
    ) -> Result<()> {
        let labelled = self.label_spec(statement);
        let parallel = labelled.as_ref().is_some_and(|(_, s)| s.is_parallel());
        let reduce = labelled.as_ref().is_some_and(|(_, s)| s.reduces());

        // A loop (nest) whose body only updates one element, the same in
        // every iteration: accumulate in a local and store once.
        let found = find_reduction(var, body)
            .filter(|nested| !self.reads_an_alias(&nested.reduction))
            .filter(|nested| self.combines_as_its_kind(&nested.reduction))
            .map(|mut nested| {
                if let Ok((_, info)) = self.array_of(&nested.reduction.base) {
                    let kind = nested.reduction.kind;
                    nested.reduction.truths = info.dtype == DType::Bool
                        && matches!(kind, ReductionKind::Add | ReductionKind::Mul);
                    nested.reduction.kind = kind.on(info.dtype);
                }
                nested
            });
        let is_reduction = found.is_some();
        // Under `debug`, a conditional reduction runs as written: Python
        // touches the element only where an update happens, and there its
        // index is checked.
        // A nest whose conditions, known when compiling, leave no update
        // (`if k >= 0: y[k] += v` with `k` specialised to -1) is dead code
        // as written: its element may be out of bounds.
        // A nest that may run no iteration (`for j in range(i)` at i = 0)
        // may update no element, and Python then touches none, as for a
        // conditional one: its element is accessed only where in bounds
        // (under `debug`, it runs as written too).
        let may_not_update = found.as_ref().is_some_and(|n| {
            n.reduction.contribution.is_conditional() || !(runs && self.inner_loops_run(&n.loops))
        });
        // On a GPU, so does an outermost one whose element's index is read
        // from an array (`if k[0] >= 0: y[k[0]] += v`): the test of that
        // element's bounds, once around the nest, would read the array on
        // the host; as written, each update is tested in the kernel (and
        // made atomic). Inside a parallel loop the test is in the kernel.
        let index_read_on_host = self.outside_parallel_loops_on_gpu()
            && found
                .as_ref()
                .is_some_and(|n| overlap::indices_read_arrays(self, &n.reduction.indices));
        let reduction = found.filter(|n| {
            let conditional = n.reduction.contribution.is_conditional();
            !((may_not_update && (self.debug || index_read_on_host))
                || (conditional && self.never_updates(&n.reduction.contribution)))
        });
        if reduce && !is_reduction && !only_updates(var, body) {
            return Err(self.error(
                statement.span,
                format!(
                    "the loop labelled '{}' is a reduction (.reduce()), so its body must update array elements that are \
                     the same in every iteration, or locals: a[...] += expr (or *=, |=, &=, ^=, or a[...] = max(a[...], expr)), s += expr, \
                     each possibly under an if",
                    labelled.as_ref().map(|(l, _)| l.as_str()).unwrap_or("")
                ),
            ));
        }
        if let (Some(reduction), true) = (&reduction, parallel && self.parallel_depth == 0) {
            let label = labelled.expect("labelled").0;
            // A conditional reduction may update no element, and Python
            // then touches none: the loop, which accesses the element (the
            // same in every iteration) in each of its parts, runs only
            // where the element is in bounds.
            let in_bounds = match may_not_update {
                true => {
                    let (_, info) = self.array_of(&reduction.reduction.base)?;
                    let r = &reduction.reduction;
                    let at = self.element_indices(&info, &r.indices, r.span)?;
                    Some(self.element_in_bounds(&info, &at))
                }
                false => None,
            };
            if let Some(ok) = &in_bounds {
                self.line(&format!("scf.if {ok} {{"));
                self.indent += 1;
            }
            let emitted = if self.target == Target::Gpu {
                self.marked_parallel_reduction(label, var, start_value, step, trips, reduction)
            } else {
                self.parallel_reduction(label, var, start_value, step, trips, reduction)
            };
            if in_bounds.is_some() {
                self.indent -= 1;
                self.line("}");
            }
            return emitted;
        }
        // A parallel loop inside another whose iterations each reduce a
        // nest of sequential loops, for a GPU: each iteration reduces its
        // nest privately, then combines into the accumulator once, the
        // update that the GPU lowering makes a block reduction of (the
        // threads of a block share the iterations).
        if let (Some(nested), true, Target::Gpu) = (&reduction, parallel, self.target) {
            if !nested.loops.is_empty() {
                return self.nested_parallel_reduction(
                    statement,
                    var,
                    start_value,
                    step,
                    trips,
                    nested,
                    may_not_update,
                );
            }
        }
        // Sequential loops, and parallel loops nested in another parallel
        // loop (which run sequentially on a CPU), accumulate in a local.
        let accumulator = match &reduction {
            Some(r) => {
                let in_order = !parallel
                    && r.loops.iter().all(|(.., labels)| {
                        labels.iter().all(|label| !self.label_is_parallel(label))
                    });
                Some(self.begin_accumulation(&r.reduction, in_order, may_not_update)?)
            }
            None => None,
        };
        let label = statement.labels.first().cloned();
        let kind = reduction.as_ref().map(|r| r.reduction.kind);
        if parallel {
            self.parallel_vars.push(var.to_string());
        }
        let iterations = if parallel {
            Iterations::Parallel
        } else {
            Iterations::InOrder
        };
        let emitted = self.counted_loop(trips, label.as_deref(), iterations, kind, |this, k| {
            let induction = this.induction(k, start_value, step);
            let previous = this.bind(var, Binding::LoopIndex { ssa: induction });
            let result = match (&accumulator, &reduction) {
                (Some(slot), Some(r)) => this.accumulate_nest(slot, &r.loops, &r.reduction),
                _ => this.statements(body),
            };
            this.unbind(var, previous);
            result
        });
        if parallel {
            self.parallel_vars.pop();
        }
        emitted?;
        if let (Some(slot), Some(kind)) = (&accumulator, kind) {
            self.end_accumulation(slot, kind)?;
        }
        Ok(())
    }

    /// `looppar.for` over `0..trips` (an i64 SSA value); `body` gets the
    /// iteration number (an index).
    pub(super) fn counted_loop(
        &mut self,
        trips: &str,
        label: Option<&str>,
        iterations: Iterations,
        reduction: Option<ReductionKind>,
        body: impl FnOnce(&mut Self, &str) -> Result<()>,
    ) -> Result<()> {
        let zero = self.op("arith.constant 0 : index");
        let one = self.op("arith.constant 1 : index");
        let upper = self.op(&format!("arith.index_cast {trips} : i64 to index"));
        self.range_loop(&zero, &upper, &one, label, iterations, reduction, body)
    }

    /// `looppar.for` over `lower..upper`. A loop that performs a reduction
    /// the front end recognised says so (`reduction = "add"`, ...): its
    /// iterations update one element on purpose.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn range_loop(
        &mut self,
        lower: &str,
        upper: &str,
        one: &str,
        label: Option<&str>,
        iterations: Iterations,
        reduction: Option<ReductionKind>,
        body: impl FnOnce(&mut Self, &str) -> Result<()>,
    ) -> Result<()> {
        let parallel = iterations == Iterations::Parallel;
        let any_order = iterations != Iterations::InOrder
            || label.is_some_and(|label| self.label_is_parallel(label));
        let location = self.location(self.span);
        let k = self.fresh();
        self.line(&format!("\"looppar.for\"({lower}, {upper}, {one}) ({{"));
        self.line(&format!("^bb0({k}: index):"));
        self.indent += 1;
        if parallel {
            self.parallel_depth += 1;
            self.open_alloc_block(label.unwrap_or(""));
        }
        self.any_order.push(any_order);
        let result = body(self, &k);
        self.any_order.pop();
        if parallel {
            self.close_alloc_block();
            self.parallel_depth -= 1;
        }
        result?;
        self.line("\"looppar.yield\"() : () -> ()");
        self.indent -= 1;
        let mut attributes: Vec<String> = Vec::new();
        if let Some(l) = label {
            attributes.push(format!("label = \"{l}\""));
        }
        if let Some(kind) = reduction {
            attributes.push(format!("reduction = \"{}\"", kind.name()));
        }
        let attributes = if attributes.is_empty() {
            String::new()
        } else {
            format!(" {{{}}}", attributes.join(", "))
        };
        self.line(&format!(
            "}}){attributes} : (index, index, index) -> (){location}"
        ));
        Ok(())
    }

    /// The inner loops of a reduction nest (sequential) around the update
    /// of the accumulator.
    pub(super) fn accumulate_nest(
        &mut self,
        accumulator: &Accumulator,
        loops: &[(String, Expr, Expr, Expr, Vec<String>)],
        reduction: &Reduction,
    ) -> Result<()> {
        let Some(((var, start, stop, step, labels), rest)) = loops.split_first() else {
            return self.accumulate(accumulator, reduction);
        };
        for label in labels {
            self.used_labels.insert(label.clone());
        }
        let step = self.constant_step(step)?;
        let start = self.index_value(start)?;
        let stop = self.index_value(stop)?;
        let trips = self.trip_count(&start, &stop, step);
        self.counted_loop(
            &trips,
            labels.first().map(String::as_str),
            Iterations::InOrder,
            Some(reduction.kind),
            |this, k| {
                let induction = this.induction(k, &start, step);
                let previous = this.bind(var, Binding::LoopIndex { ssa: induction });
                let result = this.accumulate_nest(accumulator, rest, reduction);
                this.unbind(var, previous);
                result
            },
        )
    }

    /// `start + k * step` as an index.
    pub(super) fn induction(&mut self, k: &str, start: &Value, step: i64) -> String {
        let k64 = self.op(&format!("arith.index_cast {k} : index to i64"));
        let s = self.op(&format!("arith.constant {step} : i64"));
        let scaled = self.op(&format!("arith.muli {k64}, {s} : i64"));
        let i = self.op(&format!("arith.addi {}, {scaled} : i64", start.ssa));
        self.op(&format!("arith.index_cast {i} : i64 to index"))
    }

    /// A private accumulator for `reduction` into `array`, starting at the
    /// reduction's (partial) identity: a parallel piece of an outermost reduction
    /// reduces into it before combining with the element.
    fn private_accumulator(
        &mut self,
        array: &str,
        info: &ArrayInfo,
        reduction: &Reduction,
    ) -> Accumulator {
        let ty = accumulator_type(info.dtype);
        let slot = self.stack_slot(ty);
        let identity = self.constant(reduction.kind.partial_identity(info.dtype), ty);
        self.line(&format!(
            "memref.store {}, {slot}[] : memref<{}>{}",
            identity.ssa,
            ty.mlir(),
            self.location(self.span)
        ));
        Accumulator {
            slot,
            ty,
            array: array.to_string(),
            info: info.clone(),
            at: Vec::new(),
            span: reduction.span,
            start: None,
            stepwise: std::cell::Cell::new(false),
            as_written: false,
            in_bounds: None,
        }
    }

    /// Iteration `k` of an outermost parallel reduction: binds the loop
    /// variable and reduces the nest into `accumulator`.
    fn accumulate_iteration(
        &mut self,
        accumulator: &Accumulator,
        k: &str,
        var: &str,
        start: &Value,
        step: i64,
        nested: &NestedReduction,
    ) -> Result<()> {
        let induction = self.induction(k, start, step);
        let previous = self.bind(var, Binding::LoopIndex { ssa: induction });
        let result = self.accumulate_nest(accumulator, &nested.loops, &nested.reduction);
        self.unbind(var, previous);
        result
    }

    /// A local that a reduction nest accumulates into, starting from the
    /// reduction's identity; [`Self::end_accumulation`] combines it into
    /// the element once. Starting from the element's value instead would
    /// store over the updates of other parallel iterations that share the
    /// element (`y[g[i]] += x[i, j]`); as an update of the element, the
    /// combination is made atomic where they may share it.
    ///
    /// `in_order`: the nest's loops run in the program's order (see
    /// [`Accumulator::as_written`]).
    ///
    /// `may_not_update`: the nest may update no element (a condition, or
    /// a loop that may run no iteration): the element is then read and
    /// combined into only where it is in bounds.
    pub(super) fn begin_accumulation(
        &mut self,
        reduction: &Reduction,
        in_order: bool,
        may_not_update: bool,
    ) -> Result<Accumulator> {
        // The element's accesses are the update statement's.
        let outer = std::mem::replace(&mut self.span, reduction.span);
        let result = self.begin_accumulation_here(reduction, in_order, may_not_update);
        self.span = outer;
        result
    }

    fn begin_accumulation_here(
        &mut self,
        reduction: &Reduction,
        in_order: bool,
        may_not_update: bool,
    ) -> Result<Accumulator> {
        let (array, info) = self.array_of(&reduction.base)?;
        let at = self.element_indices(&info, &reduction.indices, reduction.span)?;
        let ty = accumulator_type(info.dtype);
        let slot = self.stack_slot(ty);
        let in_bounds = may_not_update.then(|| self.element_in_bounds(&info, &at));
        // Starting from the element's value instead, for a nest whose
        // updates round at every step (`end_accumulation` picks); from the
        // identity where a conditional nest's element is out of bounds.
        let position = self.out.len();
        let current = match &in_bounds {
            None => self.load(&array, &info, &at, reduction.span),
            Some(ok) => {
                let current = self.fresh();
                self.line(&format!("{current} = scf.if {ok} -> ({}) {{", ty.mlir()));
                self.indent += 1;
                let loaded = self.load(&array, &info, &at, reduction.span);
                self.line(&format!("scf.yield {loaded} : {}", ty.mlir()));
                self.indent -= 1;
                self.line("} else {");
                self.indent += 1;
                let identity = self.constant(reduction.kind.partial_identity(info.dtype), ty);
                self.line(&format!("scf.yield {} : {}", identity.ssa, ty.mlir()));
                self.indent -= 1;
                self.line("}");
                current
            }
        };
        self.line(&format!(
            "memref.store {current}, {slot}[] : memref<{}>{}",
            ty.mlir(),
            self.location(self.span)
        ));
        let from_element = self.out.split_off(position);
        let identity = self.constant(reduction.kind.partial_identity(info.dtype), ty);
        self.line(&format!(
            "memref.store {}, {slot}[] : memref<{}>{}",
            identity.ssa,
            ty.mlir(),
            self.location(self.span)
        ));
        Ok(Accumulator {
            slot,
            ty,
            array,
            info,
            at,
            span: reduction.span,
            start: Some(AccumulatorStart {
                position,
                length: self.out.len() - position,
                from_element,
            }),
            stepwise: std::cell::Cell::new(false),
            as_written: in_order && self.unshared(reduction),
            in_bounds,
        })
    }

    /// Whether the contribution of `reduction` reads its array under
    /// another name (`f(a, a)` binds both parameters to one array): then
    /// the element changes under the nest, which is no reduction.
    fn reads_an_alias(&self, reduction: &Reduction) -> bool {
        let ExprKind::Var(target) = &reduction.base.kind else {
            return false;
        };
        let Some(Binding::Array { ssa, .. }) = self.lookup(target) else {
            return false;
        };
        let Some(frame) = self.frames.last() else {
            return false;
        };
        frame.bindings.iter().any(|(name, binding)| {
            name != target
                && matches!(binding, Binding::Array { ssa: other, .. } if other == ssa)
                && reduction.contribution.mentions(name)
        })
    }

    /// `value` (an integer) as a contribution to a min (max) of elements of
    /// `element`, where Python compares the two as numbers: unchanged when
    /// `element` holds every value of its type; raised to `element`'s
    /// minimum for a max (lowered to its maximum for a min) when the values
    /// beyond `element`'s range are all on that side, which then never win
    /// (a uint32 maximum of int32 values: negative ones count as 0), and
    /// converted. `Err(value)` when values may win that `element` cannot
    /// hold (a uint8 minimum of int16 values), so that the result wraps
    /// at every step.
    fn extreme_in_element_type(
        &mut self,
        kind: ReductionKind,
        element: DType,
        value: Value,
    ) -> Result<std::result::Result<Value, Value>> {
        let (least, most) = element.integer_range();
        let (int64_least, int64_most) = DType::I64.integer_range();
        let (low, high) = match value.literal {
            Some(Literal::Int(k)) => (i128::from(k), i128::from(k)),
            // A Python int (a loop index) that wins but does not fit the
            // element is an OverflowError in NumPy, not a wrapped value:
            // only the side that never wins is the reduction's to handle.
            _ if value.ty.is_python() => match kind {
                ReductionKind::Max => (int64_least, most),
                _ => (least, int64_most),
            },
            _ => value.ty.dtype().integer_range(),
        };
        let (beyond, bound, compare) = match kind {
            ReductionKind::Max if high <= most => (low < least, least, "slt"),
            ReductionKind::Min if low >= least => (high > most, most, "sgt"),
            _ => return Ok(Err(value)),
        };
        let value = if beyond {
            // The bound is one of the value's type here (see above).
            let ty = Self::concrete(value.ty);
            let unsigned = ty.dtype().is_unsigned();
            let predicate = if unsigned {
                compare.replace('s', "u")
            } else {
                compare.to_string()
            };
            let v = self.convert(value, ty);
            let limit = self.op(&format!("arith.constant {bound} : {}", ty.mlir()));
            let outside = self.op(&format!(
                "arith.cmpi {predicate}, {}, {limit} : {}",
                v.ssa,
                ty.mlir()
            ));
            self.computed(
                &format!("arith.select {outside}, {limit}, {} : {}", v.ssa, ty.mlir()),
                ty,
            )
        } else {
            value
        };
        Ok(Ok(self.convert(value, Ty::Num(element))))
    }

    /// A float contribution to a min (max) of integer elements of
    /// `element`, converted: Python compares the numbers, so a value below
    /// the element's range never wins a max (nor one above it a min, nor a
    /// NaN either), where converted first it would wrap (-4.0 into uint16
    /// is 65532). Such values become the element's bound, chosen by an
    /// exact comparison with the range's end (a power of two, which every
    /// float type holds); others convert as a store does (beyond the
    /// range, the cast's value).
    fn float_extreme_in_element_type(
        &mut self,
        kind: ReductionKind,
        element: DType,
        value: Value,
    ) -> Value {
        let (least, most) = element.integer_range();
        let ty = Self::concrete(value.ty);
        let v = self.convert(value, ty);
        let m = ty.mlir();
        // Below the least, or at the greatest plus one: 0 or minus a
        // power of two, and a power of two, exact as floats. Unordered
        // predicates: a NaN takes the bound too.
        let (predicate, limit, bound) = match kind {
            ReductionKind::Max => ("ult", least as f64, least),
            _ => ("uge", (most + 1) as f64, most),
        };
        let bound = Literal::Int(bound as i64);
        let limit = self.constant(Literal::Float(limit), ty).ssa;
        let outside = self.op(&format!("arith.cmpf {predicate}, {}, {limit} : {m}", v.ssa));
        let converted = self.convert(v, Ty::Num(element));
        let bound = self.constant(bound, Ty::Num(element));
        self.computed(
            &format!(
                "arith.select {outside}, {}, {} : {}",
                bound.ssa,
                converted.ssa,
                element.storage()
            ),
            Ty::Num(element),
        )
    }

    /// The min (max) of the element's `current` value and `value`, one of
    /// them uint64 and the other signed, by an exact comparison; the
    /// winner converted to the element's type, as Python stores it (ties
    /// keep the element's value, as Python's max and min do).
    fn exact_extreme(&mut self, kind: ReductionKind, current: Value, value: Value) -> Value {
        let element = current.ty;
        let wins = if kind == ReductionKind::Max {
            self.mixed_sign_greater(&value, &current)
        } else {
            self.mixed_sign_greater(&current, &value)
        };
        let converted = self.convert(value, element);
        self.computed(
            &format!(
                "arith.select {wins}, {}, {} : {}",
                converted.ssa,
                current.ssa,
                element.mlir()
            ),
            element,
        )
    }

    /// Whether a bitwise or min/max update combines as its kind: into a
    /// bool element only bools do (on the bytes, 0 or 1), since NumPy
    /// stores the truth of the integer result (`b[0] ^= 2` from True is 3,
    /// which is True, and `min(False, -27)` is -27, which is True too: no
    /// xor or min of truth values gives those). Others run as written.
    fn combines_as_its_kind(&self, reduction: &Reduction) -> bool {
        fn values<'r>(contribution: &'r Contribution, out: &mut Vec<&'r Expr>) {
            match contribution {
                Contribution::Value { value, .. } => out.push(value),
                Contribution::Choice {
                    then, otherwise, ..
                } => {
                    values(then, out);
                    if let Some(otherwise) = otherwise {
                        values(otherwise, out);
                    }
                }
            }
        }
        // An or is exact on truths: `b | v` is true where b or v is.
        if !matches!(
            reduction.kind,
            ReductionKind::And | ReductionKind::Xor | ReductionKind::Min | ReductionKind::Max
        ) {
            return true;
        }
        let Ok((_, info)) = self.array_of(&reduction.base) else {
            return true; // the emitted access reports the error
        };
        if info.dtype != DType::Bool {
            return true;
        }
        let mut found = Vec::new();
        values(&reduction.contribution, &mut found);
        found.iter().all(|value| self.obviously_bool(value))
    }

    /// Whether each of a nest's inner loops (`NestedReduction::loops`)
    /// certainly runs at least once: bounds known when compiling (literals,
    /// specialised scalars), whatever the enclosing loops' variables.
    fn inner_loops_run(&mut self, loops: &[(String, Expr, Expr, Expr, Vec<String>)]) -> bool {
        loops.iter().all(|(_, start, stop, step, _)| {
            let up = match &step.kind {
                ExprKind::Int(s) if *s > 0 => true,
                ExprKind::Unary {
                    op: UnaryOp::Neg,
                    operand,
                } if matches!(operand.kind, ExprKind::Int(s) if s > 0) => false,
                _ => return false,
            };
            let runs = Expr {
                kind: ExprKind::Compare {
                    op: if up { CompareOp::Lt } else { CompareOp::Gt },
                    lhs: Box::new(start.clone()),
                    rhs: Box::new(stop.clone()),
                },
                span: start.span,
            };
            self.known_condition(&runs) == Some(true)
        })
    }

    /// Whether no update of `contribution` can happen, its conditions
    /// known when compiling.
    fn never_updates(&mut self, contribution: &Contribution) -> bool {
        match contribution {
            Contribution::Value { .. } => false,
            Contribution::Choice {
                condition,
                then,
                otherwise,
            } => {
                let dead = |c: &Option<Box<Contribution>>, this: &mut Self| {
                    c.as_deref().is_none_or(|c| this.never_updates(c))
                };
                match self.known_condition(condition) {
                    Some(true) => self.never_updates(then),
                    Some(false) => dead(otherwise, self),
                    None => self.never_updates(then) && dead(otherwise, self),
                }
            }
        }
    }

    /// The i1 "every index of `at` is within `info`'s shape".
    fn element_in_bounds(&mut self, info: &ArrayInfo, at: &[String]) -> String {
        let mut all = self.op("arith.constant true");
        for inside in self.index_checks(info, at) {
            all = self.op(&format!("arith.andi {all}, {inside} : i1"));
        }
        all
    }

    /// One iteration's update of `accumulator`: conditional contributions
    /// as written (`scf.if` around each branch's update), which
    /// `looppar-if-convert-updates` turns into one update by a chosen value.
    pub(super) fn accumulate(
        &mut self,
        accumulator: &Accumulator,
        reduction: &Reduction,
    ) -> Result<()> {
        self.accumulate_contribution(accumulator, reduction, &reduction.contribution)
    }

    fn accumulate_contribution(
        &mut self,
        accumulator: &Accumulator,
        reduction: &Reduction,
        contribution: &Contribution,
    ) -> Result<()> {
        match contribution {
            Contribution::Value {
                value,
                subtracted,
                span,
            } => self.accumulate_value(accumulator, reduction, value, *subtracted, *span),
            Contribution::Choice {
                condition,
                then,
                otherwise,
            } => self.branches(
                condition,
                |this| this.accumulate_contribution(accumulator, reduction, then),
                otherwise.as_ref().map(|otherwise| {
                    move |this: &mut Self| {
                        this.accumulate_contribution(accumulator, reduction, otherwise)
                    }
                }),
            ),
        }
    }

    /// The update `span` writes, located there (not at its loop).
    fn accumulate_value(
        &mut self,
        accumulator: &Accumulator,
        reduction: &Reduction,
        value: &Expr,
        subtracted: bool,
        span: Span,
    ) -> Result<()> {
        let outer = std::mem::replace(&mut self.span, span);
        let result = self.accumulate_value_here(accumulator, reduction, value, subtracted, span);
        self.span = outer;
        result
    }

    fn accumulate_value_here(
        &mut self,
        accumulator: &Accumulator,
        reduction: &Reduction,
        value: &Expr,
        subtracted: bool,
        span: Span,
    ) -> Result<()> {
        let current = self.op(&format!(
            "memref.load {}[] : memref<{}>",
            accumulator.slot,
            accumulator.ty.mlir()
        ));
        let mut current = Value {
            ssa: current,
            ty: accumulator.ty,
            literal: None,
        };
        let mut value = self.expr(value)?;
        let mut exact = None;
        if reduction.truths && subtracted && value.ty.is_bool() {
            return Err(self.error(
                span,
                "NumPy does not subtract booleans; use `^`, or `&` with `not`, for what you mean",
            ));
        } else if reduction.truths && !value.ty.is_bool() {
            // NumPy's bool += int is the truth of the integer sum at each
            // step ((True + -1) is False), which no or of truth values is.
            return Err(self.error(
                span,
                "this update adds (or multiplies) numbers into a bool element, where NumPy keeps whether \
                 each step's sum is nonzero; reductions into bools take truth values: write the condition \
                 you mean (a[i] += x[j] != 0), or accumulate in an integer array",
            ));
        } else if subtracted {
            // Negated in the type NumPy subtracts in (`-u` of a uint8
            // would wrap first); integers in the element's own type, which
            // keeps the same low bits.
            let ty = match crate::frontend::types::promote(accumulator.ty, value.ty) {
                t if t.is_float() => t,
                _ => accumulator.ty,
            };
            value = self.convert(value, ty);
            value = self.negate(value, span)?;
        }
        if accumulator.info.dtype == DType::Bool {
            // `kind` is an or/and of truth values (`ReductionKind::on`),
            // or a bitwise or min/max update with a bool
            // (`combines_as_its_kind`).
            if reduction.kind.is_bitwise() {
                self.check_bitwise_operands(Ty::Bool, value.ty, span)?;
            }
            value = self.stored_value(value, DType::Bool);
        } else if reduction.kind.is_bitwise() {
            // Bitwise results have the low bits of their operands' low
            // bits: combined in the element's type, as NumPy's promoted
            // result is stored there.
            self.check_bitwise_operands(accumulator.ty, value.ty, span)?;
            value = self.convert(value, accumulator.ty);
        } else if matches!(reduction.kind, ReductionKind::Add | ReductionKind::Mul)
            && !accumulator.ty.is_float()
            && (value.ty.is_float()
                || (!value.ty.is_python()
                    && Self::concrete(crate::frontend::types::promote(accumulator.ty, value.ty))
                        .is_float()))
        {
            // Rounded into the integer at every step (a float value, or
            // uint64 with int64, which NumPy adds in float64): no order
            // but the written one gives the same result, from the
            // element's value, which parallel iterations must then not
            // share.
            if accumulator.start.is_none() || !accumulator.as_written {
                let what = if value.ty.is_float() {
                    "floats".to_string()
                } else {
                    format!(
                        "{} values (which NumPy adds to {} in float64)",
                        value.ty.name(),
                        accumulator.ty.name()
                    )
                };
                return Err(self.error(
                    span,
                    format!(
                        "this reduction adds (or multiplies) {what} into an integer element, which rounds at every \
                         step, so parallel iterations cannot combine or share it: accumulate in a float array, or \
                         convert the contribution to the element's type first"
                    ),
                ));
            }
            accumulator.stepwise.set(true);
        } else if matches!(reduction.kind, ReductionKind::Add | ReductionKind::Mul)
            && !accumulator.ty.is_float()
            && !value.ty.is_float()
        {
            // Integer sums and products wrap to the same low bits in the
            // element's type as in a wider one: combined there, the update
            // is the accumulator's own op, which the GPU lowering
            // recognises as a reduction.
            value = self.convert(value, accumulator.ty);
        } else if matches!(reduction.kind, ReductionKind::Min | ReductionKind::Max)
            && !accumulator.ty.is_float()
            && value.ty.is_float()
        {
            value =
                self.float_extreme_in_element_type(reduction.kind, accumulator.ty.dtype(), value);
        } else if matches!(reduction.kind, ReductionKind::Min | ReductionKind::Max)
            && !accumulator.ty.is_float()
            && !value.ty.is_bool()
        {
            match self.extreme_in_element_type(reduction.kind, accumulator.ty.dtype(), value)? {
                Ok(fitted) => value = fitted,
                Err(unfitted) => {
                    // Python compares the two as numbers and stores the
                    // winner, wrapped to the element's type, at every
                    // step (a uint8 minimum of 7 and -1 is 255): only the
                    // written order gives that.
                    if accumulator.start.is_none() || !accumulator.as_written {
                        return Err(self.error(
                            span,
                            format!(
                                "this min/max compares {} values with a {} element, which cannot hold them all, \
                                 so the result wraps at every step and parallel iterations cannot combine or share \
                                 it: accumulate in an array of a type that holds both, or convert the value first",
                                unfitted.ty.name(),
                                accumulator.ty.name()
                            ),
                        ));
                    }
                    accumulator.stepwise.set(true);
                    let wide = Self::concrete(crate::frontend::types::promote(
                        accumulator.ty,
                        unfitted.ty,
                    ));
                    if wide.is_float() {
                        // uint64 with a signed type: no integer type holds
                        // both, and float64 would round; the winner of an
                        // exact comparison is stored.
                        exact = Some(self.exact_extreme(
                            reduction.kind,
                            current.clone(),
                            unfitted.clone(),
                        ));
                    } else {
                        current = self.convert(current, wide);
                    }
                    value = unfitted;
                }
            }
        }
        let combined = match exact {
            Some(winner) => winner,
            None => self.combine(reduction.kind, current, value, span)?,
        };
        let combined = self.convert(combined, accumulator.ty);
        self.line(&format!(
            "memref.store {}, {}[] : memref<{}>{}",
            combined.ssa,
            accumulator.slot,
            accumulator.ty.mlir(),
            self.location(self.span)
        ));
        Ok(())
    }

    /// Whether the call's specification makes `label`'s loops parallel.
    fn label_is_parallel(&self, label: &str) -> bool {
        self.spec.get(label).is_some_and(|spec| spec.is_parallel())
    }

    /// Whether no two iterations of the parallel loops around share
    /// `reduction`'s element: an index is the outermost parallel loop's
    /// variable (inner ones run sequentially in its iterations on a CPU,
    /// or are not around a nest's accumulator).
    fn unshared(&self, reduction: &Reduction) -> bool {
        self.parallel_vars.first().is_none_or(|outer| {
            reduction.indices.iter().any(|index| {
                matches!(index, Index::At(Expr { kind: ExprKind::Var(v), .. }) if v == outer)
            })
        })
    }

    /// `element = element op accumulated`, once after the nest.
    pub(super) fn end_accumulation(
        &mut self,
        accumulator: &Accumulator,
        kind: ReductionKind,
    ) -> Result<()> {
        let value = |ssa: String| Value {
            ssa,
            ty: accumulator.ty,
            literal: None,
        };
        let partial = value(self.op(&format!(
            "memref.load {}[] : memref<{}>",
            accumulator.slot,
            accumulator.ty.mlir()
        )));
        if let Some(ok) = &accumulator.in_bounds {
            self.line(&format!("scf.if {ok} {{"));
            self.indent += 1;
        }
        let as_written = accumulator.stepwise.get() || accumulator.as_written;
        let new = match (as_written, &accumulator.start) {
            // Rounded at every step, or in order: start from the element,
            // as the code is written, and store the result.
            (true, Some(start)) => {
                self.out.replace_range(
                    start.position..start.position + start.length,
                    &start.from_element,
                );
                partial
            }
            _ => {
                let old = self.load(
                    &accumulator.array,
                    &accumulator.info,
                    &accumulator.at,
                    accumulator.span,
                );
                let new = self.combine(kind, value(old), partial, accumulator.span)?;
                self.convert(new, accumulator.ty)
            }
        };
        let store = format!(
            "memref.store {}, {}[{}] : {}",
            new.ssa,
            accumulator.array,
            accumulator.at.join(", "),
            accumulator.info.memref()
        );
        self.guarded(&store, &accumulator.info, &accumulator.at, accumulator.span);
        if accumulator.in_bounds.is_some() {
            self.indent -= 1;
            self.line("}");
        }
        Ok(())
    }

    pub(super) fn combine(
        &mut self,
        kind: ReductionKind,
        current: Value,
        value: Value,
        span: Span,
    ) -> Result<Value> {
        let result = match kind {
            // In a loop whose iterations may run in any order (a parallel
            // one, or a thread's share of one), a reduction may combine in
            // any order too: let LLVM reassociate, which vectorises the
            // loop. Sequential loops combine in their order.
            ReductionKind::Add | ReductionKind::Mul
                if current.ty.is_float() && self.any_order.last() == Some(&true) =>
            {
                let ty = current.ty;
                let v = self.convert(value, ty);
                let op = if kind == ReductionKind::Add {
                    "addf"
                } else {
                    "mulf"
                };
                let ssa = self.op(&format!(
                    "arith.{op} {}, {} fastmath<reassoc> : {}",
                    current.ssa,
                    v.ssa,
                    ty.mlir()
                ));
                Value {
                    ssa,
                    ty,
                    literal: None,
                }
            }
            ReductionKind::Add => self.binary(BinaryOp::Add, current, value, span)?,
            ReductionKind::Mul => self.binary(BinaryOp::Mul, current, value, span)?,
            ReductionKind::And => self.binary(BinaryOp::BitAnd, current, value, span)?,
            ReductionKind::Or => self.binary(BinaryOp::BitOr, current, value, span)?,
            ReductionKind::Xor => self.binary(BinaryOp::BitXor, current, value, span)?,
            ReductionKind::Min | ReductionKind::Max => {
                let ty = current.ty;
                let v = self.convert(value, ty);
                let float = ty.is_float();
                let unsigned = ty.dtype().orders_unsigned();
                let op = match (kind, float, unsigned) {
                    (ReductionKind::Min, true, _) => "minimumf",
                    (ReductionKind::Max, true, _) => "maximumf",
                    (ReductionKind::Min, false, true) => "minui",
                    (ReductionKind::Max, false, true) => "maxui",
                    (ReductionKind::Min, false, false) => "minsi",
                    _ => "maxsi",
                };
                let ssa = self.op(&format!(
                    "arith.{op} {}, {} : {}",
                    current.ssa,
                    v.ssa,
                    ty.mlir()
                ));
                Value {
                    ssa,
                    ty,
                    literal: None,
                }
            }
        };
        Ok(result)
    }

    /// The outermost parallel loop is a reduction, for a GPU (or, on a CPU,
    /// one that no atomic instruction combines): each
    /// iteration reduces its part of the nest into a private accumulator
    /// and combines it into the element (`a[at] = a[at] op partial`), and
    /// the loop is marked as a reduction, which the GPU lowering turns into
    /// per-thread partial results, block reductions and one atomic update
    /// per block, and `looppar-to-scf` into `scf.parallel` with
    /// `scf.reduce`.
    pub(super) fn marked_parallel_reduction(
        &mut self,
        label: String,
        var: &str,
        start: &Value,
        step: i64,
        trips: &str,
        nested: &NestedReduction,
    ) -> Result<()> {
        let reduction = &nested.reduction;
        let (array, info) = self.array_of(&reduction.base)?;
        self.counted_loop(
            trips,
            Some(&label),
            Iterations::Parallel,
            Some(reduction.kind),
            |this, k| {
                let mut accumulator = this.private_accumulator(&array, &info, reduction);
                this.accumulate_iteration(&accumulator, k, var, start, step, nested)?;
                accumulator.at = this.element_indices(&info, &reduction.indices, reduction.span)?;
                this.end_accumulation(&accumulator, reduction.kind)
            },
        )
    }

    /// A parallel loop nested in another (for a GPU, see the caller) whose
    /// iterations each reduce a nest of sequential loops into one element.
    #[allow(clippy::too_many_arguments)]
    fn nested_parallel_reduction(
        &mut self,
        statement: &Stmt,
        var: &str,
        start: &Value,
        step: i64,
        trips: &str,
        nested: &NestedReduction,
        may_not_update: bool,
    ) -> Result<()> {
        let reduction = &nested.reduction;
        let accumulator = self.begin_accumulation(reduction, false, may_not_update)?;
        let (array, info) = self.array_of(&reduction.base)?;
        let label = statement.labels.first().cloned();
        self.counted_loop(
            trips,
            label.as_deref(),
            Iterations::Parallel,
            Some(reduction.kind),
            |this, k| {
                let private = this.private_accumulator(&array, &info, reduction);
                this.accumulate_iteration(&private, k, var, start, step, nested)?;
                let load = |this: &mut Self, slot: &str| Value {
                    ssa: this.op(&format!(
                        "memref.load {slot}[] : memref<{}>",
                        accumulator.ty.mlir()
                    )),
                    ty: accumulator.ty,
                    literal: None,
                };
                let partial = load(this, &private.slot);
                let current = load(this, &accumulator.slot);
                let combined = this.combine(reduction.kind, current, partial, reduction.span)?;
                let combined = this.convert(combined, accumulator.ty);
                this.line(&format!(
                    "memref.store {}, {}[] : memref<{}>{}",
                    combined.ssa,
                    accumulator.slot,
                    accumulator.ty.mlir(),
                    this.location(this.span)
                ));
                Ok(())
            },
        )?;
        self.end_accumulation(&accumulator, reduction.kind)
    }

    /// The outermost parallel loop is a reduction: split the iterations
    /// into chunks, reduce each chunk in a private accumulator, and combine
    /// the chunks atomically into the element. Without an atomic for the
    /// combination (products), the marked form, which `looppar-to-scf`
    /// makes an OpenMP reduction.
    pub(super) fn parallel_reduction(
        &mut self,
        label: String,
        var: &str,
        start: &Value,
        step: i64,
        trips: &str,
        nested: &NestedReduction,
    ) -> Result<()> {
        let reduction = &nested.reduction;
        let (array, info) = self.array_of(&reduction.base)?;
        let Some(kind) = reduction.kind.atomic(info.dtype) else {
            return self.marked_parallel_reduction(label, var, start, step, trips, nested);
        };
        let ty = accumulator_type(info.dtype);
        let chunks = self.op(&format!("arith.constant {REDUCTION_CHUNKS} : i64"));
        let bias = self.op(&format!("arith.constant {} : i64", REDUCTION_CHUNKS - 1));
        let biased = self.op(&format!("arith.addi {trips}, {bias} : i64"));
        let chunk_length = self.op(&format!("arith.divsi {biased}, {chunks} : i64"));
        let zero = self.op("arith.constant 0 : index");
        let one = self.op("arith.constant 1 : index");
        let count = self.op(&format!("arith.constant {REDUCTION_CHUNKS} : index"));
        let (array_c, info_c) = (array.clone(), info.clone());
        self.range_loop(
            &zero,
            &count,
            &one,
            Some(&label),
            Iterations::Parallel,
            Some(reduction.kind),
            |this, c| {
                let c64 = this.op(&format!("arith.index_cast {c} : index to i64"));
                let first = this.op(&format!("arith.muli {c64}, {chunk_length} : i64"));
                let end = this.op(&format!("arith.addi {first}, {chunk_length} : i64"));
                let last = this.op(&format!("arith.minsi {end}, {trips} : i64"));
                let first_index = this.op(&format!("arith.index_cast {first} : i64 to index"));
                let last_index = this.op(&format!("arith.index_cast {last} : i64 to index"));
                let accumulator = this.private_accumulator(&array_c, &info_c, reduction);
                this.range_loop(
                    &first_index,
                    &last_index,
                    &one,
                    None,
                    Iterations::AnyOrder,
                    Some(reduction.kind),
                    |this, k| this.accumulate_iteration(&accumulator, k, var, start, step, nested),
                )?;
                let partial = this.op(&format!(
                    "memref.load {}[] : memref<{}>",
                    accumulator.slot,
                    ty.mlir()
                ));
                let at = this.element_indices(&info_c, &reduction.indices, reduction.span)?;
                let combined = this.fresh();
                let update = format!(
                "{combined} = memref.atomic_rmw {kind} {partial}, {array_c}[{}] : ({}, {}) -> {}",
                at.join(", "),
                ty.mlir(),
                info_c.memref(),
                ty.mlir()
            );
                this.guarded(&update, &info_c, &at, reduction.span);
                Ok(())
            },
        )
    }
}
