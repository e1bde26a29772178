//! Slice statements (`y[:] = x[:] * 2`, `y[:] = parir.sum(x[:, :], axis=1)`)
//! as `looppar` views: each slice is a `looppar.slice`, an elementwise
//! value a `looppar.map` that reads them with `looppar.element`, a slice
//! reduction a `looppar.reduce`, and the statement a `looppar.assign`.
//! The pass `looppar-expand-slices` turns them into loops.
//!
//! Shapes are specialised, so extents that are known here are compared
//! here (a mismatch is a compile error at the statement); with
//! `debug=True` the bounds of every slice and the extents that depend on
//! run-time values are checked before the statement runs.

use super::*;

/// A slice of an array, emitted as `looppar.slice`.
#[derive(Debug, Clone)]
pub(super) struct View {
    ssa: String,
    /// `!looppar.view<T, r : i64>`.
    ty: String,
    info: ArrayInfo,
    /// Per ranging dimension: the number of elements, when known here.
    extents: Vec<Option<i64>>,
    /// Per ranging dimension, with `debug`: the number of elements (index).
    extent_values: Vec<String>,
}

impl View {
    fn rank(&self) -> usize {
        self.extents.len()
    }
}

/// An elementwise expression of slices that a slice reduction reduces.
struct ReducedMap {
    ssa: String,
    /// `!looppar.view<T, r : i64>`.
    ty: String,
    /// The element type of the expression.
    dtype: DType,
}

/// Inside a `looppar.map` body: its index arguments, and the views of the
/// value's slices by source position.
pub(super) struct MapContext {
    indices: Vec<String>,
    views: HashMap<(u32, u32), View>,
    /// Reads of the destination evaluated before the map, by the address
    /// of their expression (`overlap::hoisted_reads`).
    hoisted: HashMap<usize, Hoisted>,
}

/// A read of a slice statement's destination, evaluated before the map.
#[derive(Clone)]
pub(super) enum Hoisted {
    /// Its value.
    Value(Value),
    /// Kept in a local of this type: in GPU device code the read runs in
    /// a one-thread kernel and the map in another, which see each other's
    /// locals (device memory), not each other's values.
    Slot(String, Ty),
}

fn view_type(dtype: DType, rank: usize) -> String {
    format!("!looppar.view<{}, {rank} : i64>", dtype.storage())
}

fn labels_attribute(labels: &[String]) -> Option<String> {
    (!labels.is_empty()).then(|| {
        let quoted: Vec<String> = labels.iter().map(|l| format!("\"{l}\"")).collect();
        format!("labels = [{}]", quoted.join(", "))
    })
}

impl<'a> Emitter<'a> {
    /// `dest[slices] = value` / `op=`: see the module comment.
    pub(super) fn slice_statement(
        &mut self,
        statement: &Stmt,
        target: &Expr,
        op: Option<BinaryOp>,
        value: &Expr,
    ) -> Result<()> {
        let parallel = statement
            .labels
            .iter()
            .any(|l| self.spec.get(l).is_some_and(|s| s.is_parallel()));
        if self.parallel_depth == 0 && !self.on_device && !parallel {
            return Err(self.error(
                statement.span,
                "this slice statement would run outside every parallel loop, which JIT functions reject; \
                 label it (parir.label('N') before it) and parallelise the label, or wrap the function body in `with parir.gpu:`",
            ));
        }
        if self.outside_parallel_loops_on_gpu()
            && !self.on_device
            && !overlap::hoisted_reads(self, target, value).is_empty()
        {
            // Reads of the destination that NumPy evaluates before the
            // writes (`x[:] = x[:] - x[0]`) would run on the host, which
            // cannot read device memory: the statement becomes device
            // code, where they run in a one-thread kernel before the map's.
            return self.on_device_block(statement.span, |emitter| {
                emitter.slice_statement(statement, target, op, value)
            });
        }
        for label in &statement.labels {
            self.used_labels.insert(label.clone());
        }
        overlap::check_other_slices(self, target, value)?;
        let mut checks = Vec::new();
        let dest = self.view(target, &mut checks, false)?;
        let reductions = reduction_calls(value);
        let (assigned, accumulate, loops) = match reductions.as_slice() {
            [] => {
                let value = self.elementwise(target, &dest, op, value, &mut checks)?;
                (value, false, dest.rank())
            }
            [(name, argument, axis)] => {
                // The reduction itself, not an expression around it
                // (`max(parir.max(x[i, :]), 0.0)` once dropped the `max`).
                let whole = matches!(&value.kind, ExprKind::Builtin { name: n, args, .. }
                    if n == name && args.len() == 1);
                if !whole {
                    return Err(self.error(
                        value.span,
                        "a slice reduction must be the whole value of its statement: y[:] = parir.sum(x[:, :], axis=1) \
                         (for more, reduce into an element first, then use it: y[i] = parir.max(x[i, :]); \
                         y[i] = max(y[i], 0.0))",
                    ));
                }
                let reduced = self.slice_reduction(
                    statement,
                    target,
                    &dest,
                    name,
                    argument,
                    *axis,
                    &mut checks,
                )?;
                let expected = match name.as_str() {
                    "sum" => Some(BinaryOp::Add),
                    "prod" => Some(BinaryOp::Mul),
                    _ => None,
                };
                if op.is_some() && op != expected {
                    return Err(self.error(
                        statement.span,
                        format!("combine parir.{name} with `=`, or with the matching update (+= for sum, *= for prod)"),
                    ));
                }
                (reduced.0, op.is_some(), dest.rank() + reduced.1)
            }
            _ => {
                return Err(self.error(
                    value.span,
                    "a slice statement holds at most one slice reduction (parir.sum/prod/min/max)",
                ))
            }
        };
        if statement.labels.len() > loops {
            return Err(self.error(
                statement.span,
                format!(
                    "this slice statement makes {loops} loop(s) but has {} label(s)",
                    statement.labels.len()
                ),
            ));
        }
        let mut attributes = Vec::new();
        let dest_labels: Vec<String> = statement.labels.iter().take(dest.rank()).cloned().collect();
        attributes.extend(labels_attribute(&dest_labels));
        if accumulate {
            attributes.push("accumulate".to_string());
        }
        let attributes = if attributes.is_empty() {
            String::new()
        } else {
            format!(" {{{}}}", attributes.join(", "))
        };
        let location = self.location(statement.span);
        let assign = format!(
            "\"looppar.assign\"({}, {}){attributes} : ({}, {}) -> (){location}",
            dest.ssa, assigned.0, dest.ty, assigned.1
        );
        self.checked(&checks, statement.span, &assign);
        Ok(())
    }

    /// The value of an elementwise slice statement: a scalar (broadcast)
    /// or a `looppar.map` over the destination's index space. Returns the
    /// SSA value and its type.
    fn elementwise(
        &mut self,
        target: &Expr,
        dest: &View,
        op: Option<BinaryOp>,
        value: &Expr,
        checks: &mut Vec<String>,
    ) -> Result<(String, String)> {
        let mut views = HashMap::new();
        for slice in sliced_subscripts(value) {
            let view = self.view(slice, checks, false)?;
            self.same_extents(
                dest,
                &view,
                &(0..view.rank()).collect::<Vec<_>>(),
                slice.span,
                checks,
            )?;
            views.insert((slice.span.line, slice.span.column), view);
        }
        // A value without slices is computed once, before the loop, unless
        // GPU code would then read an array on the host (`x[:] = y[0]`):
        // there each element computes it (and reads of the destination
        // come first, `map_over`).
        let host_read = self.outside_parallel_loops_on_gpu() && overlap::reads_arrays(self, value);
        if views.is_empty() && op.is_none() && !host_read {
            let v = self.expr(value)?;
            let v = self.stored_value(v, dest.info.dtype);
            return Ok((v.ssa, dest.info.dtype.storage().to_string()));
        }
        let (result, ty, _) = self.map_over(target, value, views, dest.rank(), |this| {
            let v = match op {
                Some(op) => {
                    let current = this.element(dest)?;
                    let v = this.written_binary(op, current, value, value.span)?;
                    let (from, into) = (v.ty.dtype(), dest.info.dtype);
                    if !casts_within_kind(from, into) {
                        return Err(this.error(
                            target.span,
                            format!(
                                "this update of a slice computes {from} values for {into} elements, which \
                                 NumPy refuses (an in-place operation casts its result only to the same \
                                 kind or a higher one: bool, unsigned, signed, float); assign \
                                 (`y[:] = y[:] {symbol} v`) to convert as a store does",
                                from = from.name(),
                                into = into.name(),
                                symbol = op.symbol(),
                            ),
                        ));
                    }
                    v
                }
                None => this.expr(value)?,
            };
            Ok((v, dest.info.dtype))
        })?;
        Ok((result, ty))
    }

    /// A `looppar.map` of rank `rank` whose element `element` computes
    /// from `value` (the expression it stands for), reading the slices in
    /// `views`; reads of `target`, the statement's destination, are
    /// evaluated before it. `element` answers the element and the dtype
    /// it is stored in. Returns the map's SSA value, its view type and
    /// that dtype.
    fn map_over(
        &mut self,
        target: &Expr,
        value: &Expr,
        views: HashMap<(u32, u32), View>,
        rank: usize,
        element: impl FnOnce(&mut Self) -> Result<(Value, DType)>,
    ) -> Result<(String, String, DType)> {
        let mut hoisted = HashMap::new();
        let into_slots = self.outside_parallel_loops_on_gpu() && self.on_device;
        for read in overlap::hoisted_reads(self, target, value) {
            let v = self.expr(read)?;
            let kept = if into_slots && v.literal.is_none() {
                let slot = self.stack_slot(v.ty);
                self.line(&format!(
                    "memref.store {}, {slot}[] : memref<{}>",
                    v.ssa,
                    v.ty.mlir()
                ));
                Hoisted::Slot(slot, v.ty)
            } else {
                Hoisted::Value(v)
            };
            hoisted.insert(read as *const Expr as usize, kept);
        }
        let indices: Vec<String> = (0..rank).map(|_| self.fresh()).collect();
        let result = self.fresh();
        self.line(&format!("{result} = \"looppar.map\"() ({{"));
        let arguments: Vec<String> = indices.iter().map(|i| format!("{i}: index")).collect();
        self.line(&format!("^bb0({}):", arguments.join(", ")));
        self.indent += 1;
        let outer = self.map.replace(MapContext {
            indices,
            views,
            hoisted,
        });
        let computed = element(self);
        self.map = outer;
        let (v, dtype) = computed?;
        let v = self.stored_value(v, dtype);
        self.line(&format!(
            "\"looppar.yield\"({}) : ({}) -> ()",
            v.ssa,
            dtype.storage()
        ));
        self.indent -= 1;
        let ty = view_type(dtype, rank);
        let location = self.location(value.span);
        self.line(&format!("}}) : () -> {ty}{location}"));
        Ok((result, ty, dtype))
    }

    /// `parir.sum/prod/min/max(x[...], axis=k)` as `looppar.reduce`, of a
    /// slice or of an elementwise expression of slices (`parir.sum(a[:] *
    /// b[:])`, a `looppar.map` over the slices' index space). Returns the
    /// SSA value and its type, and the number of reduced dimensions.
    #[allow(clippy::too_many_arguments)]
    fn slice_reduction(
        &mut self,
        statement: &Stmt,
        target: &Expr,
        dest: &View,
        name: &str,
        argument: &Expr,
        axis: Option<i64>,
        checks: &mut Vec<String>,
    ) -> Result<((String, String), usize)> {
        if sliced_subscripts(argument).is_empty() {
            return Err(self.error(
                argument.span,
                format!("parir.{name} takes a slice of an array, e.g. x[:, :], or an expression of slices"),
            ));
        }
        // A reduction's extent may be anything: its computed bounds are
        // Python's. A slice whose elements the destination's type counts
        // in (see `reduces_modularly`) is read through a map that converts.
        let into = dest.info.dtype;
        let plain_slice = has_slices(argument)
            && match &argument.kind {
                ExprKind::Subscript { base, .. } => {
                    !reduces_modularly(name, self.array_of(base)?.1.dtype, into)
                }
                _ => true,
            };
        let (source, map) = if plain_slice {
            (self.view(argument, checks, true)?, None)
        } else {
            let (shape, map) = self.reduced_map(target, argument, checks, name, into)?;
            (shape, Some(map))
        };
        let dtype = map.as_ref().map_or(source.info.dtype, |m| m.dtype);
        let rank = source.rank() as i64;
        // A negative axis counts from the last, as in NumPy.
        let axis = axis.map(|a| if a < 0 && a >= -rank { a + rank } else { a });
        let reduced = match axis {
            Some(a) if a < 0 || a as usize >= source.rank() => {
                return Err(self.error(
                    argument.span,
                    format!(
                        "axis {a} is out of range for {} slice dimension(s)",
                        source.rank()
                    ),
                ))
            }
            Some(a) => vec![a as usize],
            None => (0..source.rank()).collect(),
        };
        if matches!(name, "min" | "max") && reduced.iter().any(|d| source.extents[*d] == Some(0)) {
            return Err(self.error(
                argument.span,
                format!(
                    "parir.{name} over an empty slice: NumPy raises ValueError ({})",
                    empty_reduction(name)
                ),
            ));
        }
        if matches!(name, "min" | "max") && self.debug {
            self.check_nonempty(name, &source, &reduced, argument.span);
        }
        let kept: Vec<usize> = (0..source.rank())
            .filter(|d| !reduced.contains(d))
            .collect();
        if kept.len() != dest.rank() {
            return Err(self.error(
                argument.span,
                format!(
                    "the reduction leaves {} slice dimension(s) but the destination has {}",
                    kept.len(),
                    dest.rank()
                ),
            ));
        }
        self.same_extents(dest, &source, &kept, argument.span, checks)?;
        if dtype != dest.info.dtype {
            return Err(self.error(
                argument.span,
                format!(
                    "parir.{name} over {} elements into {} array: the element types of a slice reduction must match \
                     (integer and bool elements sum and multiply into any integer array)",
                    dtype.name(),
                    with_article(dest.info.dtype.name())
                ),
            ));
        }
        let result_type = if kept.is_empty() {
            dtype.storage().to_string()
        } else {
            view_type(dtype, kept.len())
        };
        // NumPy's sum of bools counts the true ones and its product is 1
        // when all are: stored into a bool, `any` and `all`, which are the
        // max and min of bytes holding 0 or 1 (a byte sum would wrap).
        let kind = match (dtype, name) {
            (DType::Bool, "sum") => "max",
            (DType::Bool, "prod") => "min",
            _ => name,
        };
        let mut attributes = vec![format!("kind = \"{kind}\"")];
        if let Some(a) = axis {
            attributes.push(format!("axis = {a} : i64"));
        }
        let reduce_labels: Vec<String> =
            statement.labels.iter().skip(dest.rank()).cloned().collect();
        attributes.extend(labels_attribute(&reduce_labels));
        if dtype.orders_unsigned() {
            attributes.push("unsigned".to_string());
        }
        let (operands, types) = match &map {
            Some(map) => (
                format!("{}, {}", map.ssa, source.ssa),
                format!("{}, {}", map.ty, source.ty),
            ),
            None => (source.ssa.clone(), source.ty.clone()),
        };
        let result = self.op(&format!(
            "\"looppar.reduce\"({operands}) {{{}}} : ({types}) -> {result_type}",
            attributes.join(", "),
        ));
        Ok(((result, result_type), reduced.len()))
    }

    /// The elements of `argument`, an elementwise expression of slices, as
    /// a `looppar.map` over their index space, and the view of its first
    /// slice, whose extents that space has (every slice must have them).
    /// The elements keep their own type, as NumPy reduces them, unless
    /// `parir.{name}` of them reduces modularly `into` the destination's.
    fn reduced_map(
        &mut self,
        target: &Expr,
        argument: &Expr,
        checks: &mut Vec<String>,
        name: &str,
        into: DType,
    ) -> Result<(View, ReducedMap)> {
        let mut views = HashMap::new();
        let mut shape: Option<View> = None;
        for slice in sliced_subscripts(argument) {
            let view = self.view(slice, checks, true)?;
            if let Some(first) = &shape {
                let dims: Vec<usize> = (0..view.rank()).collect();
                let first = first.clone();
                self.same_extents_as(&first, "the first slice", &view, &dims, slice.span, checks)?;
            } else {
                shape = Some(view.clone());
            }
            views.insert((slice.span.line, slice.span.column), view);
        }
        let shape = shape.expect("an expression of slices");
        let (result, ty, dtype) = self.map_over(target, argument, views, shape.rank(), |this| {
            let v = this.expr(argument)?;
            let dtype = Self::concrete(v.ty).dtype();
            if reduces_modularly(name, dtype, into) {
                Ok((v, into))
            } else {
                Ok((v, dtype))
            }
        })?;
        Ok((
            shape,
            ReducedMap {
                ssa: result,
                ty,
                dtype,
            },
        ))
    }

    /// With `debug`: reports `parir.min/max` over `reduced` dimensions of
    /// `source` whose extents are known only at run time when one is 0
    /// (the identity is no answer: NumPy raises).
    fn check_nonempty(&mut self, name: &str, source: &View, reduced: &[usize], span: Span) {
        let unknown: Vec<String> = reduced
            .iter()
            .filter(|d| source.extents[**d].is_none())
            .map(|d| source.extent_values[*d].clone())
            .collect();
        if unknown.is_empty() {
            return;
        }
        let zero = self.op("arith.constant 0 : index");
        let mut empty = self.op(&format!("arith.cmpi eq, {}, {zero} : index", unknown[0]));
        for extent in &unknown[1..] {
            let this = self.op(&format!("arith.cmpi eq, {extent}, {zero} : index"));
            empty = self.op(&format!("arith.ori {empty}, {this} : i1"));
        }
        let code = self.check_site(
            span,
            CheckKind::EmptyReduction {
                name: name.to_string(),
            },
        );
        self.line(&format!("scf.if {empty} {{"));
        self.indent += 1;
        self.report_failed_check(code);
        self.indent -= 1;
        self.line("}");
    }

    /// Emits `x[...]` (with at least one slice) as `looppar.slice`; with
    /// `debug`, adds the i1 "in bounds" of each index and range to `checks`.
    /// Bounds known only when the code runs count from the end when
    /// negative and are clamped to the axis, as Python's. `python_bounds`:
    /// constant bounds clamp too (for reductions, whose extent need not
    /// match anything); otherwise a constant outside the axis is an error.
    fn view(&mut self, expr: &Expr, checks: &mut Vec<String>, python_bounds: bool) -> Result<View> {
        let ExprKind::Subscript { base, indices } = &expr.kind else {
            return Err(self.error(expr.span, "slices are only allowed on arrays"));
        };
        let (array, info) = self.array_of(base)?;
        if indices.len() != info.shape.len() {
            return Err(self.error(
                expr.span,
                format!(
                    "list every dimension of the array in a slice ({} here, {} given)",
                    info.shape.len(),
                    indices.len()
                ),
            ));
        }
        let mut kinds = Vec::new();
        let mut operands = Vec::new();
        let mut extents = Vec::new();
        let mut extent_values = Vec::new();
        for (d, index) in indices.iter().enumerate() {
            let size = info.shape[d];
            match index {
                Index::At(e) => {
                    let (position, known) = self.integer_index(e, "array indices")?;
                    let position = self.position(position, known, size, d, e.span)?;
                    kinds.push(0);
                    if self.debug {
                        let bound = self.op(&format!("arith.constant {size} : index"));
                        checks
                            .push(self.op(&format!("arith.cmpi ult, {position}, {bound} : index")));
                    }
                    operands.push(position);
                }
                Index::Slice(None, None, _) => {
                    kinds.push(1);
                    extents.push(Some(size));
                    if self.debug {
                        extent_values.push(self.op(&format!("arith.constant {size} : index")));
                    }
                }
                Index::Slice(lower, upper, span) => {
                    let bound = |e: &Option<Expr>, default: i64| {
                        e.clone().unwrap_or(Expr {
                            kind: ExprKind::Int(default),
                            span: *span,
                        })
                    };
                    let (lower, upper) = (bound(lower, 0), bound(upper, size));
                    let (lo, lo_literal) = self.integer_index(&lower, "slice bounds")?;
                    let (hi, hi_literal) = self.integer_index(&upper, "slice bounds")?;
                    // A reduction's constant bounds clamp as Python's do
                    // (`parir.sum(x[k:])` with k = -100: all of x).
                    let clamp = |this: &mut Self, ssa: String, literal: Option<i64>| match literal {
                        Some(v) if python_bounds && size >= 0 => {
                            let v = if v < 0 {
                                v.saturating_add(size).max(0)
                            } else {
                                v.min(size)
                            };
                            (this.op(&format!("arith.constant {v} : index")), Some(v))
                        }
                        _ => (ssa, literal),
                    };
                    let (lo, lo_literal) = clamp(self, lo, lo_literal);
                    let (hi, hi_literal) = clamp(self, hi, hi_literal);
                    // A negative constant bound counts from the end, as in Python.
                    let (lo, lo_literal) = self.counted_from_the_end(lo, lo_literal, size);
                    let (hi, hi_literal) = self.counted_from_the_end(hi, hi_literal, size);
                    // Bounds known only when the code runs, as Python reads
                    // them (`y[n[0]:n[1]] = v` with n = [-2, 99]).
                    let lo = self.python_bound(lo, lo_literal, size);
                    let hi = self.python_bound(hi, hi_literal, size);
                    // An end before the start is an empty slice, as in
                    // NumPy (x[2:1]).
                    let (hi, hi_literal) = match (lo_literal, hi_literal) {
                        (Some(a), Some(b)) if a > b => (lo.clone(), lo_literal),
                        (Some(_), Some(_)) => (hi, hi_literal),
                        _ => (self.op(&format!("arith.maxsi {lo}, {hi} : index")), None),
                    };
                    let outside = |v: Option<i64>| v.is_some_and(|v| v < 0 || v > size);
                    let invalid = outside(lo_literal) || outside(hi_literal);
                    if invalid && !self.in_dead_code() {
                        return Err(self.error(
                            *span,
                            format!(
                                "the slice {}:{} is out of bounds for dimension {d}, of size {size}",
                                lo_literal.map_or("?".to_string(), |v| v.to_string()),
                                hi_literal.map_or("?".to_string(), |v| v.to_string())
                            ),
                        ));
                    }
                    kinds.push(2);
                    // Bounds of code that never runs give no extent to check.
                    extents.push(
                        lo_literal
                            .zip(hi_literal)
                            .filter(|_| !invalid)
                            .map(|(a, b)| b - a),
                    );
                    if self.debug {
                        let limit = self.op(&format!("arith.constant {size} : index"));
                        checks.push(self.op(&format!("arith.cmpi ule, {lo}, {hi} : index")));
                        checks.push(self.op(&format!("arith.cmpi ule, {hi}, {limit} : index")));
                        extent_values.push(self.op(&format!("arith.subi {hi}, {lo} : index")));
                    }
                    operands.push(lo);
                    operands.push(hi);
                }
            }
        }
        let ty = view_type(info.dtype, extents.len());
        let mut all = vec![array];
        all.extend(operands);
        let types: Vec<String> = std::iter::once(info.memref())
            .chain((1..all.len()).map(|_| "index".to_string()))
            .collect();
        let kinds: Vec<String> = kinds.iter().map(i64::to_string).collect();
        let ssa = self.op(&format!(
            "\"looppar.slice\"({}) {{kinds = array<i64: {}>}} : ({}) -> {ty}",
            all.join(", "),
            kinds.join(", "),
            types.join(", ")
        ));
        Ok(View {
            ssa,
            ty,
            info,
            extents,
            extent_values,
        })
    }

    /// `size + bound` for a negative constant bound (an index SSA value
    /// and its constant, if known); other bounds unchanged.
    /// A slice bound known only when the code runs, as Python reads it:
    /// from the end when negative, then clamped to `0..=size`. Constants
    /// (resolved and checked when compiling) stay.
    fn python_bound(&mut self, bound: String, literal: Option<i64>, size: i64) -> String {
        if literal.is_some() || size < 0 {
            return bound;
        }
        let zero = self.op("arith.constant 0 : index");
        let size = self.op(&format!("arith.constant {size} : index"));
        let negative = self.op(&format!("arith.cmpi slt, {bound}, {zero} : index"));
        let from_end = self.op(&format!("arith.addi {bound}, {size} : index"));
        let read = self.op(&format!(
            "arith.select {negative}, {from_end}, {bound} : index"
        ));
        let low = self.op(&format!("arith.maxsi {read}, {zero} : index"));
        self.op(&format!("arith.minsi {low}, {size} : index"))
    }

    fn counted_from_the_end(
        &mut self,
        bound: String,
        literal: Option<i64>,
        size: i64,
    ) -> (String, Option<i64>) {
        match literal {
            Some(v) if v < 0 && v.checked_add(size).is_some_and(|c| c >= 0) => {
                let counted = v + size;
                (
                    self.op(&format!("arith.constant {counted} : index")),
                    Some(counted),
                )
            }
            _ => (bound, literal),
        }
    }

    /// Checks that dimensions `dims` of `view` have the extents of the
    /// destination's dimensions, in order: here when both are known, at
    /// run time (with `debug`) otherwise.
    fn same_extents(
        &mut self,
        dest: &View,
        view: &View,
        dims: &[usize],
        span: Span,
        checks: &mut Vec<String>,
    ) -> Result<()> {
        self.same_extents_as(dest, "the destination", view, dims, span, checks)
    }

    /// Whether `view`'s dimensions `dims` have the extents of `dest`'s,
    /// which the errors call `whose`.
    fn same_extents_as(
        &mut self,
        dest: &View,
        whose: &str,
        view: &View,
        dims: &[usize],
        span: Span,
        checks: &mut Vec<String>,
    ) -> Result<()> {
        if dims.len() != dest.rank() {
            return Err(self.error(
                span,
                format!(
                    "this slice has {} dimension(s) but {whose} has {}",
                    dims.len(),
                    dest.rank()
                ),
            ));
        }
        for (k, d) in dims.iter().enumerate() {
            match (dest.extents[k], view.extents[*d]) {
                (Some(a), Some(b)) if a != b => {
                    return Err(self.error(
                        span,
                        format!(
                            "shape mismatch: this slice has {b} element(s) along its dimension {d} where {whose} has {a}"
                        ),
                    ))
                }
                (Some(_), Some(_)) => {}
                _ if self.debug => {
                    let (a, b) = (&dest.extent_values[k], &view.extent_values[*d]);
                    let same = self.op(&format!("arith.cmpi eq, {a}, {b} : index"));
                    self.shape_checks.insert(same.clone());
                    checks.push(same);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Inside a map body: the element of `view` at the map's indices.
    fn element(&mut self, view: &View) -> Result<Value> {
        let indices = self
            .map
            .as_ref()
            .map(|m| m.indices.clone())
            .unwrap_or_default();
        let storage = view.info.dtype.storage();
        let ssa = self.op(&format!(
            "\"looppar.element\"({}, {}) : ({}, {}) -> {storage}",
            view.ssa,
            indices.join(", "),
            view.ty,
            vec!["index"; indices.len()].join(", ")
        ));
        Ok(self.loaded_value(ssa, view.info.dtype))
    }

    /// `x[i, :]` read inside a map body (its view was emitted before the
    /// map).
    /// A read of the destination evaluated before the map, if `expr` is one.
    pub(super) fn hoisted(&mut self, expr: &Expr) -> Option<Value> {
        let map = self.map.as_ref()?;
        match map.hoisted.get(&(expr as *const Expr as usize)).cloned()? {
            Hoisted::Value(value) => Some(value),
            Hoisted::Slot(slot, ty) => {
                let ssa = self.op(&format!("memref.load {slot}[] : memref<{}>", ty.mlir()));
                Some(Value {
                    ssa,
                    ty,
                    literal: None,
                })
            }
        }
    }

    pub(super) fn slice_element(&mut self, expr: &Expr) -> Result<Option<Value>> {
        let key = (expr.span.line, expr.span.column);
        let Some(view) = self.map.as_ref().and_then(|m| m.views.get(&key)).cloned() else {
            return Ok(None);
        };
        self.element(&view).map(Some)
    }
}

/// Whether `parir.{name}` of `element` values stored into an `into` array
/// may be computed in `into`'s type: NumPy sums and multiplies bools and
/// integers in (at least) 64 bits and the store wraps the result to
/// `into`, and wrapping each element first and every step after gives the
/// same bits (integers modulo 2^n are a ring). A bool destination keeps
/// its own any/all reductions, and min/max do not commute with narrowing.
fn reduces_modularly(name: &str, element: DType, into: DType) -> bool {
    matches!(name, "sum" | "prod")
        && element != into
        && !element.is_float()
        && !into.is_float()
        && into != DType::Bool
}

/// "an int8", "a uint8", "a float32".
fn with_article(dtype: &str) -> String {
    let article = if dtype.starts_with('i') { "an" } else { "a" };
    format!("{article} {dtype}")
}

pub(super) fn has_slices(expr: &Expr) -> bool {
    matches!(&expr.kind, ExprKind::Subscript { indices, .. } if indices.iter().any(|i| matches!(i, Index::Slice(..))))
}

/// The subscripts with slices in an elementwise value, in source order.
fn sliced_subscripts(expr: &Expr) -> Vec<&Expr> {
    fn walk<'e>(expr: &'e Expr, found: &mut Vec<&'e Expr>) {
        if has_slices(expr) {
            found.push(expr);
        } else {
            operands(expr).into_iter().for_each(|o| walk(o, found));
        }
    }
    let mut found = Vec::new();
    walk(expr, &mut found);
    found
}

/// The operands of a value (not the indices inside subscripts), in source
/// order.
pub(super) fn operands(expr: &Expr) -> Vec<&Expr> {
    match &expr.kind {
        ExprKind::Binary { lhs, rhs, .. } | ExprKind::Compare { lhs, rhs, .. } => vec![lhs, rhs],
        ExprKind::And(a, b) | ExprKind::Or(a, b) => vec![a, b],
        ExprKind::Unary { operand, .. } => vec![operand],
        ExprKind::IfElse {
            condition,
            then,
            otherwise,
        } => vec![condition, then, otherwise],
        ExprKind::Builtin { args, .. } | ExprKind::Call { args, .. } => args.iter().collect(),
        _ => Vec::new(),
    }
}

pub(super) fn reduction_calls(expr: &Expr) -> Vec<(String, Expr, Option<i64>)> {
    let mut found = Vec::new();
    fn walk(expr: &Expr, found: &mut Vec<(String, Expr, Option<i64>)>) {
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

/// Whether NumPy's `same_kind` casting, that of in-place operations on
/// arrays (`y[:] *= v`), stores `from` values into `into` elements: a safe
/// cast, or one to the same kind or a higher one (bool < unsigned <
/// signed < float).
fn casts_within_kind(from: DType, into: DType) -> bool {
    let kind = |d: DType| match d {
        DType::Bool => 0,
        d if d.is_float() => 3,
        d if d.is_unsigned() => 1,
        _ => 2,
    };
    kind(from) <= kind(into)
}
