//! `looppar-expand-slices`: turns slice statements into loop nests.
//!
//! `looppar.assign(dest, value)` becomes one `looppar.for` per ranging
//! dimension of `dest`, outermost first, each from 0 to the dimension's
//! extent and labelled by the assign's `labels` in order. At each point the
//! value's element is stored into `dest`:
//! - a `looppar.slice` is read with `memref.load` (a point index as given, a
//!   range offset by its lower bound);
//! - a `looppar.map` body moves into the innermost loop, its index
//!   arguments replaced by the loop indices and each `looppar.element`
//!   replaced by the element it reads;
//! - a scalar is stored at every point (broadcast).
//!
//! A `looppar.reduce` value adds loops over its reduced dimensions,
//! labelled by its `labels`, marked `reduction = kind`, that combine the
//! elements into one target:
//! - the destination element itself when the outermost reduced loop is
//!   parallel and no parallel loop encloses it: `looppar-to-scf` and
//!   `looppar-to-gpu` lower that form to parallel reductions. Its initial
//!   value (the identity) is stored first, in `looppar.on_device` when the
//!   statement is outside every parallel loop, so that the GPU does it;
//! - otherwise a private accumulator, a stack slot at the start of the
//!   enclosing parallel loop's body (or of the function), stored into the
//!   destination at the end: LLVM keeps it in a register.
//!
//! With more than one reduced dimension, the inner reduced loops combine
//! into a private partial result that the outermost one then combines.
//! Extents are not compared here: the verifier rejects static extents that
//! differ, and the front end checks the others (with `debug=True`) at run
//! time.

use super::build::{identity, partial_identity, Builder};
use super::looppar_detect_reductions::uses;
use super::rewrite;
use melior::{
    ir::{
        attribute::{ArrayAttribute, DenseI64ArrayAttribute, IntegerAttribute, StringAttribute},
        operation::{OperationLike, OperationMutLike, OperationRef},
        r#type::MemRefType,
        Attribute, Block, BlockLike, Location, Operation, Region, RegionLike, ShapedTypeLike, Type,
        TypeLike, Value, ValueLike,
    },
    pass::ExternalPass,
};
use mlir_sys::MlirOperation;
use std::collections::HashSet;

external_pass!(
    "looppar-expand-slices",
    "Expand slice statements (looppar.assign of slice, map and reduce views) into looppar.for loop nests",
    run,
    depends on [arith, memref]
);

type Failure<'c> = (Option<Location<'c>>, String);

/// Where new ops go: before `before`, in its block.
#[derive(Clone, Copy)]
struct Cursor {
    before: MlirOperation,
}

impl Cursor {
    fn at<'c, 'a>(self) -> OperationRef<'c, 'a> {
        // SAFETY: cursors point at live ops (terminators or the statement).
        unsafe { rewrite::view(self.before) }
    }
}

/// How one dimension of a `looppar.slice` is indexed.
enum Dim<'c, 'a> {
    Point(Value<'c, 'a>),
    Whole(usize),
    Range(Value<'c, 'a>, Value<'c, 'a>),
}

/// A `looppar.slice`: its memref and how each dimension is indexed.
struct Slice<'c, 'a> {
    memref: Value<'c, 'a>,
    dims: Vec<Dim<'c, 'a>>,
    element: Type<'c>,
}

impl Slice<'_, '_> {
    /// The positions (in `dims`) of the ranging dimensions.
    fn ranging(&self) -> Vec<usize> {
        (0..self.dims.len())
            .filter(|d| !matches!(self.dims[*d], Dim::Point(_)))
            .collect()
    }
}

fn labels(op: OperationRef) -> Vec<String> {
    let Some(array) = op
        .attribute("labels")
        .ok()
        .and_then(|a| ArrayAttribute::try_from(a).ok())
    else {
        return Vec::new();
    };
    (0..array.len())
        .filter_map(|i| array.element(i).ok())
        .filter_map(|a| StringAttribute::try_from(a).ok())
        .map(|s| s.value().to_string())
        .collect()
}

fn owner<'c, 'a>(value: Value<'c, 'a>) -> Option<OperationRef<'c, 'a>> {
    parla_dialects::values::op_result(value).map(|r| r.owner())
}

struct Expander<'c, 's> {
    b: Builder<'c>,
    /// Labels whose specification is `threads` (parallel).
    parallel_labels: &'s HashSet<String>,
}

impl<'c: 'a, 'a> Expander<'c, '_> {
    fn fail<T>(&self, message: impl Into<String>) -> Result<T, Failure<'c>> {
        Err((Some(self.b.location), message.into()))
    }

    fn insert(
        &self,
        cursor: Cursor,
        op: Operation<'c>,
    ) -> Result<OperationRef<'c, 'a>, Failure<'c>> {
        let before = cursor.at();
        let Some(block) = before.block() else {
            return self.fail("the statement is not in a block");
        };
        let raw = block.insert_operation_before(before, op).to_raw();
        // SAFETY: just inserted into the live IR.
        Ok(unsafe { rewrite::view(raw) })
    }

    /// The single result of a live op.
    fn result(&self, op: OperationRef<'c, 'a>) -> Result<Value<'c, 'a>, Failure<'c>> {
        if op.result_count() != 1 {
            return self.fail("expected an op with one result");
        }
        // SAFETY: the op is live and has a result 0.
        Ok(unsafe { Value::from_raw(mlir_sys::mlirOperationGetResult(op.to_raw(), 0)) })
    }

    /// Builds `name` at `cursor` and returns its single result.
    fn value(
        &self,
        cursor: Cursor,
        name: &str,
        operands: &[Value<'c, '_>],
        result: Type<'c>,
        attributes: &[(&str, Attribute<'c>)],
    ) -> Result<Value<'c, 'a>, Failure<'c>> {
        let op = self
            .b
            .build(name, operands, &[result], attributes)
            .map_err(|e| (Some(self.b.location), e))?;
        let op = self.insert(cursor, op)?;
        self.result(op)
    }

    fn statement(
        &self,
        cursor: Cursor,
        name: &str,
        operands: &[Value<'c, '_>],
    ) -> Result<(), Failure<'c>> {
        let op = self
            .b
            .build(name, operands, &[], &[])
            .map_err(|e| (Some(self.b.location), e))?;
        self.insert(cursor, op).map(|_| ())
    }

    fn index(&self, cursor: Cursor, value: i64) -> Result<Value<'c, 'a>, Failure<'c>> {
        let index = self.b.index;
        self.constant(cursor, IntegerAttribute::new(index, value).into(), index)
    }

    fn slice(&self, view: Value<'c, 'a>) -> Result<Slice<'c, 'a>, Failure<'c>> {
        let Some(op) = owner(view).filter(|o| rewrite::name_of(*o) == "looppar.slice") else {
            return self.fail(format!(
                "expects a view from 'looppar.slice' here, got {}",
                view.r#type()
            ));
        };
        let Some(kinds) = op
            .attribute("kinds")
            .ok()
            .and_then(|a| DenseI64ArrayAttribute::try_from(a).ok())
        else {
            return self.fail("'looppar.slice' without 'kinds'");
        };
        let operands: Vec<Value> = op.operands().collect();
        let memref = operands[0];
        let mut next = 1;
        let mut dims = Vec::new();
        for d in 0..kinds.len() {
            dims.push(match kinds.element(d).unwrap_or(-1) {
                0 => {
                    next += 1;
                    Dim::Point(operands[next - 1])
                }
                1 => Dim::Whole(d),
                _ => {
                    next += 2;
                    Dim::Range(operands[next - 2], operands[next - 1])
                }
            });
        }
        let Ok(memref_type) = MemRefType::try_from(memref.r#type()) else {
            return self.fail("'looppar.slice' of a value that is not a memref");
        };
        Ok(Slice {
            memref,
            dims,
            element: memref_type.element(),
        })
    }

    /// The number of elements along dimension `d` of `slice` (a ranging one).
    fn extent(
        &self,
        cursor: Cursor,
        slice: &Slice<'c, 'a>,
        d: usize,
    ) -> Result<Value<'c, 'a>, Failure<'c>> {
        match slice.dims[d] {
            Dim::Whole(dimension) => {
                let position = self.index(cursor, dimension as i64)?;
                self.value(
                    cursor,
                    "memref.dim",
                    &[slice.memref, position],
                    self.b.index,
                    &[],
                )
            }
            Dim::Range(lower, upper) => {
                self.value(cursor, "arith.subi", &[upper, lower], self.b.index, &[])
            }
            Dim::Point(_) => self.fail("a point dimension has no extent"),
        }
    }

    /// The memref indices of a slice element: ranging dimension `k` takes
    /// `at[k]` (offset by a range's lower bound).
    fn indices(
        &self,
        cursor: Cursor,
        slice: &Slice<'c, 'a>,
        at: &[Option<Value<'c, 'a>>],
    ) -> Result<Vec<Value<'c, 'a>>, Failure<'c>> {
        let mut ranging = at.iter();
        let mut indices = Vec::new();
        for dim in &slice.dims {
            let index = match dim {
                Dim::Point(v) => *v,
                Dim::Whole(_) | Dim::Range(..) => {
                    let Some(Some(j)) = ranging.next() else {
                        return self.fail("a view read with too few indices");
                    };
                    match dim {
                        Dim::Range(lower, _) => {
                            self.value(cursor, "arith.addi", &[*lower, *j], self.b.index, &[])?
                        }
                        _ => *j,
                    }
                }
            };
            indices.push(index);
        }
        Ok(indices)
    }

    fn load(
        &self,
        cursor: Cursor,
        memref: Value<'c, 'a>,
        indices: &[Value<'c, 'a>],
        element: Type<'c>,
    ) -> Result<Value<'c, 'a>, Failure<'c>> {
        let mut operands = vec![memref];
        operands.extend_from_slice(indices);
        self.value(cursor, "memref.load", &operands, element, &[])
    }

    fn store(
        &self,
        cursor: Cursor,
        value: Value<'c, 'a>,
        memref: Value<'c, 'a>,
        indices: &[Value<'c, 'a>],
    ) -> Result<(), Failure<'c>> {
        let mut operands = vec![value, memref];
        operands.extend_from_slice(indices);
        self.statement(cursor, "memref.store", &operands)
    }

    /// `looppar.for` from 0 to `upper` at `cursor`; returns a cursor in its
    /// body and its index.
    fn build_loop(
        &self,
        cursor: Cursor,
        upper: Value<'c, 'a>,
        label: Option<&str>,
        reduction: Option<&str>,
    ) -> Result<(Cursor, Value<'c, 'a>), Failure<'c>> {
        let context = self.b.context;
        let location = self.b.location;
        let zero = self.index(cursor, 0)?;
        let one = self.index(cursor, 1)?;
        let region = self.body_region(&[self.b.index])?;
        let mut op =
            parla_dialects::looppar::ops::r#for(context, zero, upper, one, label, region, location)
                .map_err(|e| (Some(location), e.to_string()))?;
        if let Some(kind) = reduction {
            op.set_attribute("reduction", StringAttribute::new(context, kind).into());
        }
        let op = self.insert(cursor, op)?;
        let (body, block) = self.body_cursor(op)?;
        let index: Value = block
            .argument(0)
            .map_err(|e| (Some(location), e.to_string()))?
            .into();
        Ok((body, index))
    }

    /// A region of one block with `arguments`, ending in `looppar.yield`.
    fn body_region(&self, arguments: &[Type<'c>]) -> Result<Region<'c>, Failure<'c>> {
        let location = self.b.location;
        let arguments: Vec<_> = arguments.iter().map(|t| (*t, location)).collect();
        let block = Block::new(&arguments);
        let terminator = parla_dialects::looppar::ops::r#yield(&[], location)
            .map_err(|e| (Some(location), e.to_string()))?;
        block.append_operation(terminator);
        let region = Region::new();
        region.append_block(block);
        Ok(region)
    }

    /// Where ops go in the body of `op` (before its terminator), and the body.
    fn body_cursor(
        &self,
        op: OperationRef<'c, 'a>,
    ) -> Result<(Cursor, melior::ir::BlockRef<'c, 'a>), Failure<'c>> {
        let location = self.b.location;
        let body = op
            .region(0)
            .ok()
            .and_then(|r| r.first_block())
            .ok_or((Some(location), "an op without a body".to_string()))?;
        let terminator = body
            .terminator()
            .ok_or((Some(location), "a body without terminator".to_string()))?;
        Ok((
            Cursor {
                before: terminator.to_raw(),
            },
            body,
        ))
    }

    fn is_parallel(&self, op: OperationRef) -> bool {
        rewrite::name_of(op) == "looppar.for"
            && (op.attribute("threads").is_ok()
                || rewrite::string_attribute(op, "label")
                    .is_some_and(|l| self.parallel_labels.contains(&l)))
    }

    /// The innermost op around `cursor` that satisfies `test`.
    fn enclosing(
        &self,
        cursor: Cursor,
        test: impl Fn(OperationRef) -> bool,
    ) -> Option<OperationRef<'c, 'a>> {
        rewrite::ancestors(cursor.at()).find(|op| test(*op))
    }

    /// A stack slot for one `element`, at the start of the enclosing
    /// parallel loop's body, `with parir.gpu:` block (whose locals live in
    /// its kernels on GPUs) or function: each parallel iteration gets its
    /// own, and none is allocated inside a sequential loop.
    fn slot(&self, cursor: Cursor, element: Type<'c>) -> Result<Value<'c, 'a>, Failure<'c>> {
        let home = self
            .enclosing(cursor, |op| {
                self.is_parallel(op)
                    || matches!(
                        rewrite::name_of(op).as_str(),
                        "func.func" | "looppar.on_device"
                    )
            })
            .and_then(|op| op.region(0).ok())
            .and_then(|r| r.first_block())
            .and_then(|b| b.first_operation());
        let at = home
            .map(|op| Cursor {
                before: op.to_raw(),
            })
            .unwrap_or(cursor);
        let memref = MemRefType::new(element, &[], None, None);
        let segments = melior::ir::attribute::DenseI32ArrayAttribute::new(self.b.context, &[0, 0]);
        self.value(
            at,
            "memref.alloca",
            &[],
            memref.into(),
            &[("operandSegmentSizes", segments.into())],
        )
    }

    fn constant(
        &self,
        cursor: Cursor,
        value: Attribute<'c>,
        ty: Type<'c>,
    ) -> Result<Value<'c, 'a>, Failure<'c>> {
        self.value(cursor, "arith.constant", &[], ty, &[("value", value)])
    }

    /// The element of `view` at `at` (one index per ranging dimension).
    fn element_at(
        &self,
        cursor: Cursor,
        view: Value<'c, 'a>,
        at: &[Value<'c, 'a>],
    ) -> Result<Value<'c, 'a>, Failure<'c>> {
        let Some(op) = owner(view) else {
            return self.fail("reads a view that is a block argument; views come from 'looppar.slice' or 'looppar.map'");
        };
        match rewrite::name_of(op).as_str() {
            "looppar.slice" => {
                let slice = self.slice(view)?;
                let at: Vec<_> = at.iter().map(|v| Some(*v)).collect();
                let indices = self.indices(cursor, &slice, &at)?;
                self.load(cursor, slice.memref, &indices, slice.element)
            }
            "looppar.map" => self.inline_map(cursor, op, at),
            "looppar.reduce" => self.fail(
                "uses a 'looppar.reduce' inside a value; a slice reduction must be the whole value of 'looppar.assign'",
            ),
            other => self.fail(format!("cannot read the elements of a view defined by '{other}'")),
        }
    }

    /// Moves the body of `map` before `cursor` with its indices bound to
    /// `at`; returns the element it yields.
    fn inline_map(
        &self,
        cursor: Cursor,
        map: OperationRef<'c, 'a>,
        at: &[Value<'c, 'a>],
    ) -> Result<Value<'c, 'a>, Failure<'c>> {
        let result: Value = map
            .result(0)
            .map_err(|e| (Some(map.location()), e.to_string()))?
            .into();
        if uses(result) != 1 {
            return Err((
                Some(map.location()),
                "a 'looppar.map' read more than once cannot be expanded".into(),
            ));
        }
        let block = map
            .region(0)
            .ok()
            .and_then(|r| r.first_block())
            .ok_or((Some(map.location()), "a map without a body".to_string()))?;
        for (k, index) in at.iter().enumerate() {
            let argument = block
                .argument(k)
                .map_err(|e| (Some(map.location()), e.to_string()))?;
            // SAFETY: both values are live; the argument's uses move to `index`.
            unsafe { mlir_sys::mlirValueReplaceAllUsesOfWith(argument.to_raw(), index.to_raw()) };
        }
        let terminator = block.terminator().ok_or((
            Some(map.location()),
            "a map body without terminator".to_string(),
        ))?;
        let mut moved = Vec::new();
        let mut current = block.first_operation();
        while let Some(op) = current {
            if op == terminator {
                break;
            }
            current = op.next_in_block();
            // SAFETY: a live op moves to another live block.
            unsafe { mlir_sys::mlirOperationMoveBefore(op.to_raw(), cursor.before) };
            moved.push(op.to_raw());
        }
        let mut elements = Vec::new();
        for raw in moved {
            // SAFETY: just moved, still live.
            let op = unsafe { rewrite::view(raw) };
            elements.extend(rewrite::collect(op, "looppar.element"));
        }
        for raw in elements {
            // SAFETY: collected just above; each is replaced once.
            let element = unsafe { rewrite::view(raw) };
            let operands: Vec<Value> = element.operands().collect();
            let value = self.element_at(Cursor { before: raw }, operands[0], &operands[1..])?;
            let old = element
                .result(0)
                .map_err(|e| (Some(element.location()), e.to_string()))?;
            unsafe {
                mlir_sys::mlirValueReplaceAllUsesOfWith(old.to_raw(), value.to_raw());
                rewrite::erase(raw);
            }
        }
        terminator.operand(0).map_err(|_| {
            (
                Some(map.location()),
                "a map that yields nothing".to_string(),
            )
        })
    }

    /// Combines `contribution` into `memref[indices]`: load, combine, store.
    fn combine_into(
        &self,
        cursor: Cursor,
        combine: &str,
        memref: Value<'c, 'a>,
        indices: &[Value<'c, 'a>],
        contribution: Value<'c, 'a>,
    ) -> Result<(), Failure<'c>> {
        let ty = contribution.r#type();
        let old = self.load(cursor, memref, indices, ty)?;
        let mut attributes = Vec::new();
        if matches!(combine, "arith.addf" | "arith.mulf") {
            // A reduction may combine in any order: LLVM may reassociate,
            // which vectorises the loop.
            if let Some(fast) = Attribute::parse(self.b.context, "#arith.fastmath<reassoc>") {
                attributes.push(("fastmath", fast));
            }
        }
        let new = self.value(cursor, combine, &[old, contribution], ty, &attributes)?;
        self.store(cursor, new, memref, indices)
    }

    fn expand(&self, raw: MlirOperation) -> Result<(), Failure<'c>> {
        // SAFETY: a live assign, erased at the end.
        let assign = unsafe { rewrite::view(raw) };
        let cursor = Cursor { before: raw };
        let operands: Vec<Value> = assign.operands().collect();
        let dest = self.slice(operands[0])?;
        // The destination's loops.
        let mut inner = cursor;
        let mut indices = Vec::new();
        let loop_labels = labels(assign);
        for (k, d) in dest.ranging().into_iter().enumerate() {
            let extent = self.extent(inner, &dest, d)?;
            let (body, index) =
                self.build_loop(inner, extent, loop_labels.get(k).map(String::as_str), None)?;
            inner = body;
            indices.push(index);
        }
        let value = operands[1];
        let reduce = owner(value).filter(|o| rewrite::name_of(*o) == "looppar.reduce");
        let ranging: Vec<_> = indices.iter().map(|v| Some(*v)).collect();
        let at = self.indices(inner, &dest, &ranging)?;
        match reduce {
            Some(reduce) => self.reduction(inner, assign, &dest, &at, &indices, reduce)?,
            None => {
                let element = if parla_dialects::looppar::view_parts(value.r#type()).is_some() {
                    self.element_at(inner, value, &indices)?
                } else {
                    value
                };
                self.store(inner, element, dest.memref, &at)?;
            }
        }
        // SAFETY: the assign has no results.
        unsafe { rewrite::erase(raw) };
        Ok(())
    }

    /// `dest[at] = reduce(...)` (or `op=` with `accumulate`); `kept` are
    /// the destination loops' indices, which index the kept dimensions.
    fn reduction(
        &self,
        cursor: Cursor,
        assign: OperationRef<'c, 'a>,
        dest: &Slice<'c, 'a>,
        at: &[Value<'c, 'a>],
        kept: &[Value<'c, 'a>],
        reduce: OperationRef<'c, 'a>,
    ) -> Result<(), Failure<'c>> {
        let input: Value = reduce
            .operand(0)
            .map_err(|e| (Some(reduce.location()), e.to_string()))?;
        // An input from `looppar.map` (`parir.sum(a[:] * b[:])`) takes its
        // extents from `shape`, and its elements from the map's body.
        let map = reduce.operand(1).is_ok().then_some(input);
        let source = self.slice(reduce.operand(1).unwrap_or(input))?;
        let element = match map {
            Some(map) => self.map_element_type(map)?,
            None => source.element,
        };
        let float = !element.is_integer() && !element.is_index();
        let unsigned = reduce.attribute("unsigned").is_ok();
        let kind = match rewrite::string_attribute(reduce, "kind").as_deref() {
            Some("sum") => "add",
            Some("prod") => "mul",
            Some("min") => "min",
            _ => "max",
        };
        let combine = match (kind, float, unsigned) {
            ("add", true, _) => "arith.addf",
            ("add", false, _) => "arith.addi",
            ("mul", true, _) => "arith.mulf",
            ("mul", false, _) => "arith.muli",
            ("min", true, _) => "arith.minimumf",
            ("max", true, _) => "arith.maximumf",
            ("min", false, true) => "arith.minui",
            ("max", false, true) => "arith.maxui",
            ("min", false, false) => "arith.minsi",
            _ => "arith.maxsi",
        };
        let ranging = source.ranging();
        let reduced: Vec<usize> = match reduce
            .attribute("axis")
            .ok()
            .and_then(|a| IntegerAttribute::try_from(a).ok())
        {
            Some(axis) => usize::try_from(axis.value())
                .ok()
                .and_then(|a| ranging.get(a).copied())
                .into_iter()
                .collect(),
            None => ranging.clone(),
        };
        if reduced.is_empty() {
            return Err((
                Some(reduce.location()),
                "looppar.reduce needs a view with a ranging dimension to reduce (this one is a single element)"
                    .to_string(),
            ));
        }
        let reduce_labels = labels(reduce);
        let accumulate = assign.attribute("accumulate").is_ok();
        let identity_value =
            |c: Cursor| self.constant(c, identity(self.b.context, kind, combine, element), element);

        // The target that the outermost reduced loop combines into.
        let first_parallel = reduce_labels
            .first()
            .is_some_and(|l| self.parallel_labels.contains(l));
        let enclosed = self.enclosing(cursor, |op| self.is_parallel(op)).is_some();
        let direct = first_parallel && !enclosed;
        let (target, target_at): (Value, Vec<Value>) = if direct {
            if !accumulate {
                let on_device = self
                    .enclosing(cursor, |op| rewrite::name_of(op) == "looppar.on_device")
                    .is_some();
                if on_device {
                    let init = identity_value(cursor)?;
                    self.store(cursor, init, dest.memref, at)?;
                } else {
                    self.on_device_store(cursor, element, kind, combine, dest.memref, at)?;
                }
            }
            (dest.memref, at.to_vec())
        } else {
            let slot = self.slot(cursor, element)?;
            let init = if accumulate {
                self.load(cursor, dest.memref, at, element)?
            } else {
                identity_value(cursor)?
            };
            self.store(cursor, init, slot, &[])?;
            (slot, Vec::new())
        };

        // Source indices: kept dimensions from the destination loops,
        // reduced ones from the reduction loops.
        let mut source_at: Vec<Option<Value>> = Vec::new();
        let mut kept_indices = kept.iter();
        for d in &ranging {
            source_at.push(if reduced.contains(d) {
                None
            } else {
                kept_indices.next().copied()
            });
        }
        let position = |d: usize| {
            ranging
                .iter()
                .position(|r| *r == d)
                .expect("a ranging dimension")
        };

        let extent = self.extent(cursor, &source, reduced[0])?;
        let (body, first) = self.build_loop(
            cursor,
            extent,
            reduce_labels.first().map(String::as_str),
            Some(kind),
        )?;
        source_at[position(reduced[0])] = Some(first);
        let contribution = if reduced.len() == 1 {
            self.reduced_element(body, &source, map, &source_at, element)?
        } else {
            let partial = self.slot(body, element)?;
            let init = self.constant(
                body,
                partial_identity(self.b.context, kind, combine, element),
                element,
            )?;
            self.store(body, init, partial, &[])?;
            let mut inner = body;
            for (n, d) in reduced.iter().enumerate().skip(1) {
                let extent = self.extent(inner, &source, *d)?;
                let (next, index) = self.build_loop(
                    inner,
                    extent,
                    reduce_labels.get(n).map(String::as_str),
                    Some(kind),
                )?;
                source_at[position(*d)] = Some(index);
                inner = next;
            }
            let value = self.reduced_element(inner, &source, map, &source_at, element)?;
            self.combine_into(inner, combine, partial, &[], value)?;
            self.load(body, partial, &[], element)?
        };
        self.combine_into(body, combine, target, &target_at, contribution)?;
        if !direct {
            let result = self.load(cursor, target, &[], element)?;
            self.store(cursor, result, dest.memref, at)?;
        }
        Ok(())
    }

    /// The element a reduction combines at `at` (one index per ranging
    /// dimension of `source`, all known): of the map when the input is
    /// one, else of `source` itself.
    fn reduced_element(
        &self,
        cursor: Cursor,
        source: &Slice<'c, 'a>,
        map: Option<Value<'c, 'a>>,
        at: &[Option<Value<'c, 'a>>],
        element: Type<'c>,
    ) -> Result<Value<'c, 'a>, Failure<'c>> {
        match map {
            Some(map) => {
                let at: Option<Vec<Value>> = at.iter().copied().collect();
                let at = at.ok_or((
                    Some(self.b.location),
                    "a reduced element without all its indices".to_string(),
                ))?;
                self.element_at(cursor, map, &at)
            }
            None => {
                let indices = self.indices(cursor, source, at)?;
                self.load(cursor, source.memref, &indices, element)
            }
        }
    }

    /// The element type of the view a `looppar.map` makes (what its body
    /// yields).
    fn map_element_type(&self, map: Value<'c, 'a>) -> Result<Type<'c>, Failure<'c>> {
        let op = owner(map)
            .filter(|o| rewrite::name_of(*o) == "looppar.map")
            .ok_or((
                Some(self.b.location),
                "a 'shape' operand with an input that is no 'looppar.map'".to_string(),
            ))?;
        op.region(0)
            .ok()
            .and_then(|r| r.first_block())
            .and_then(|b| b.terminator())
            .and_then(|t| t.operand(0).ok())
            .map(|v| v.r#type())
            .ok_or((
                Some(op.location()),
                "a map body that yields no element".to_string(),
            ))
    }

    /// Stores the identity into `memref[at]` inside a new `looppar.on_device`.
    fn on_device_store(
        &self,
        cursor: Cursor,
        element: Type<'c>,
        kind: &str,
        combine: &str,
        memref: Value<'c, 'a>,
        at: &[Value<'c, 'a>],
    ) -> Result<(), Failure<'c>> {
        let region = self.body_region(&[])?;
        let op = parla_dialects::looppar::ops::on_device(region, self.b.location)
            .map_err(|e| (Some(self.b.location), e.to_string()))?;
        let op = self.insert(cursor, op)?;
        let (inside, _) = self.body_cursor(op)?;
        let init = self.constant(
            inside,
            identity(self.b.context, kind, combine, element),
            element,
        )?;
        self.store(inside, init, memref, at)
    }
}

fn expand_all<'c>(root: OperationRef<'c, '_>) -> Result<(), Failure<'c>> {
    let context_ref = root.context();
    // SAFETY: the context outlives the pass run.
    let context = unsafe { context_ref.to_ref() };
    let mut parallel_labels = HashSet::new();
    for raw in rewrite::collect(root, "looppar.parallelize") {
        // SAFETY: collected from the live IR.
        let op = unsafe { rewrite::view(raw) };
        if op.attribute("threads").is_ok() {
            parallel_labels.extend(rewrite::string_attribute(op, "label"));
        }
    }
    for raw in rewrite::collect(root, "looppar.assign") {
        // SAFETY: collected from the live IR; each assign is expanded once.
        let location = unsafe { rewrite::view(raw) }.location();
        let expander = Expander {
            b: Builder::new(context, location),
            parallel_labels: &parallel_labels,
        };
        expander.expand(raw)?;
    }
    // The views are now unused, users first: reductions (which read maps
    // and slices), maps (their yields read values that moved out, their
    // bodies slices), then slices.
    for name in ["looppar.reduce", "looppar.map", "looppar.slice"] {
        for raw in rewrite::collect(root, name).into_iter().rev() {
            // SAFETY: collected from the live IR.
            let op = unsafe { rewrite::view(raw) };
            let unused = op.result(0).map(|r| uses(r.into()) == 0).unwrap_or(false);
            if !unused {
                return Err((
                    Some(op.location()),
                    format!("'{name}' op is not part of a slice statement ('looppar.assign'), so it cannot be expanded"),
                ));
            }
            unsafe { rewrite::erase(raw) };
        }
    }
    Ok(())
}

fn run(root: OperationRef, pass: ExternalPass) {
    if let Err((location, message)) = expand_all(root) {
        let location = location.unwrap_or_else(|| root.location());
        rewrite::emit_error(location, &format!("looppar-expand-slices: {message}"));
        pass.signal_failure();
    }
}
