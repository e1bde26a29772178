//! Typed builders for the `looppar` dialect's ops.

use super::{view_type, Parallelism, ReduceKind, SliceDim};
use crate::builder::{finish, named};
use crate::device::ops::i64_attribute;
use crate::DialectError;
use melior::{
    ir::{
        attribute::{ArrayAttribute, DenseI64ArrayAttribute, StringAttribute},
        operation::OperationBuilder,
        Attribute, Location, Operation, Region, Type, Value,
    },
    Context,
};

/// Creates a `looppar.for` operation: `for i in range(lower, upper, step)`.
/// `body` has one block whose single `index` argument is `i`, ending with
/// `looppar.yield`.
///
/// ```mlir
/// "looppar.for"(%c0, %n, %c1) ({
/// ^bb0(%i: index):
///   "looppar.yield"() : () -> ()
/// }) {label = "N"} : (index, index, index) -> ()
/// ```
pub fn r#for<'c>(
    context: &'c Context,
    lower: Value<'c, '_>,
    upper: Value<'c, '_>,
    step: Value<'c, '_>,
    label: Option<&str>,
    body: Region<'c>,
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    let attributes: Vec<_> = label
        .map(|label| {
            named(
                context,
                "label",
                StringAttribute::new(context, label).into(),
            )
        })
        .into_iter()
        .collect();
    finish(
        "looppar.for",
        OperationBuilder::new("looppar.for", location)
            .add_operands(&[lower, upper, step])
            .add_attributes(&attributes)
            .add_regions([body]),
    )
}

/// Creates a `looppar.while` operation: `before` computes the condition
/// and ends with `looppar.condition`; `after` is the body and ends with
/// `looppar.yield`.
///
/// ```mlir
/// "looppar.while"() ({
///   %c = ...
///   "looppar.condition"(%c) : (i1) -> ()
/// }, {
///   "looppar.yield"() : () -> ()
/// }) : () -> ()
/// ```
pub fn r#while<'c>(
    before: Region<'c>,
    after: Region<'c>,
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    finish(
        "looppar.while",
        OperationBuilder::new("looppar.while", location).add_regions([before, after]),
    )
}

/// Creates a `looppar.condition` operation, ending the `before` region of
/// a `looppar.while`.
///
/// ```mlir
/// "looppar.condition"(%c) : (i1) -> ()
/// ```
pub fn condition<'c>(
    condition: Value<'c, '_>,
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    finish(
        "looppar.condition",
        OperationBuilder::new("looppar.condition", location).add_operands(&[condition]),
    )
}

/// Creates a `looppar.parallelize` operation: the parallel specification of
/// `label`.
///
/// ```mlir
/// "looppar.parallelize"() {label = "M", reduce, threads = 128 : i64} : () -> ()
/// "looppar.parallelize"() {label = "K", seq} : () -> ()
/// ```
pub fn parallelize<'c>(
    context: &'c Context,
    label: &str,
    parallelism: Parallelism,
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    let mut attributes = vec![named(
        context,
        "label",
        StringAttribute::new(context, label).into(),
    )];
    match parallelism {
        Parallelism::Threads {
            threads,
            threads_per_block,
            reduce,
        } => {
            attributes.push(named(
                context,
                "threads",
                i64_attribute(context, threads as i64),
            ));
            if let Some(tpb) = threads_per_block {
                attributes.push(named(context, "tpb", i64_attribute(context, tpb as i64)));
            }
            if reduce {
                attributes.push(named(context, "reduce", Attribute::unit(context)));
            }
        }
        Parallelism::Sequential => {
            attributes.push(named(context, "seq", Attribute::unit(context)));
        }
    }
    finish(
        "looppar.parallelize",
        OperationBuilder::new("looppar.parallelize", location).add_attributes(&attributes),
    )
}

/// Creates a `looppar.slice` operation: a view of `source` (a memref of
/// element type `element`) where each dimension is indexed as `dims` says,
/// taking its index operands from `indices` in order.
///
/// ```mlir
/// %row = "looppar.slice"(%x, %i) {kinds = array<i64: 0, 1>}
///   : (memref<?x?xf32>, index) -> !looppar.view<f32, 1 : i64>
/// ```
pub fn slice<'c>(
    context: &'c Context,
    source: Value<'c, '_>,
    element: Type<'c>,
    dims: &[SliceDim],
    indices: &[Value<'c, '_>],
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    let kinds: Vec<i64> = dims.iter().map(|d| d.code()).collect();
    let rank = dims.iter().filter(|d| **d != SliceDim::Point).count();
    let mut operands = vec![source];
    operands.extend_from_slice(indices);
    finish(
        "looppar.slice",
        OperationBuilder::new("looppar.slice", location)
            .add_operands(&operands)
            .add_attributes(&[named(
                context,
                "kinds",
                DenseI64ArrayAttribute::new(context, &kinds).into(),
            )])
            .add_results(&[view_type(context, element, rank)?]),
    )
}

/// Creates a `looppar.map` operation: an elementwise computation over an
/// index space of rank `rank`, producing a view of `element`s. `body` takes
/// one `index` argument per dimension, reads views with `looppar.element`,
/// and ends with `looppar.yield` of the result element.
///
/// ```mlir
/// %z = "looppar.map"() ({
/// ^bb0(%j: index):
///   %a = "looppar.element"(%row, %j) : (!looppar.view<f32, 1 : i64>, index) -> f32
///   %p = arith.mulf %a, %two : f32
///   "looppar.yield"(%p) : (f32) -> ()
/// }) : () -> !looppar.view<f32, 1 : i64>
/// ```
pub fn map<'c>(
    context: &'c Context,
    element: Type<'c>,
    rank: usize,
    body: Region<'c>,
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    finish(
        "looppar.map",
        OperationBuilder::new("looppar.map", location)
            .add_regions([body])
            .add_results(&[view_type(context, element, rank)?]),
    )
}

/// Creates a `looppar.element` operation: the element of `view` (of
/// element type `element`) at `indices`, one per ranging dimension.
///
/// ```mlir
/// %a = "looppar.element"(%row, %j) : (!looppar.view<f32, 1 : i64>, index) -> f32
/// ```
pub fn element<'c>(
    view: Value<'c, '_>,
    indices: &[Value<'c, '_>],
    element: Type<'c>,
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    let mut operands = vec![view];
    operands.extend_from_slice(indices);
    finish(
        "looppar.element",
        OperationBuilder::new("looppar.element", location)
            .add_operands(&operands)
            .add_results(&[element]),
    )
}

/// Creates a `looppar.reduce` operation: `parir.<kind>(input, axis=...)`.
/// `result` is a view of one rank less (with `axis`) or the element type
/// (without `axis`, or when one dimension remains). `shape` gives the
/// extents of an `input` from `looppar.map`, which has none.
///
/// ```mlir
/// %r = "looppar.reduce"(%xs) {axis = 1 : i64, kind = "sum"}
///   : (!looppar.view<f32, 2 : i64>) -> !looppar.view<f32, 1 : i64>
/// ```
pub fn reduce<'c>(
    context: &'c Context,
    input: Value<'c, '_>,
    shape: Option<Value<'c, '_>>,
    kind: ReduceKind,
    axis: Option<usize>,
    result: Type<'c>,
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    let mut attributes = vec![named(
        context,
        "kind",
        StringAttribute::new(context, kind.name()).into(),
    )];
    if let Some(axis) = axis {
        attributes.push(named(context, "axis", i64_attribute(context, axis as i64)));
    }
    finish(
        "looppar.reduce",
        OperationBuilder::new("looppar.reduce", location)
            .add_operands(&std::iter::once(input).chain(shape).collect::<Vec<_>>())
            .add_attributes(&attributes)
            .add_results(&[result]),
    )
}

/// Creates a `looppar.assign` operation: `dest[...] = value`, with the
/// labels of the loops that its ranging dimensions become.
///
/// ```mlir
/// "looppar.assign"(%ys, %r) {labels = ["N"]}
///   : (!looppar.view<f32, 1 : i64>, !looppar.view<f32, 1 : i64>) -> ()
/// ```
pub fn assign<'c>(
    context: &'c Context,
    dest: Value<'c, '_>,
    value: Value<'c, '_>,
    labels: &[&str],
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    let mut builder =
        OperationBuilder::new("looppar.assign", location).add_operands(&[dest, value]);
    if !labels.is_empty() {
        let labels: Vec<Attribute> = labels
            .iter()
            .map(|l| StringAttribute::new(context, l).into())
            .collect();
        builder = builder.add_attributes(&[named(
            context,
            "labels",
            ArrayAttribute::new(context, &labels).into(),
        )]);
    }
    finish("looppar.assign", builder)
}

/// Creates a `looppar.on_device` operation (`with parir.gpu:`): `body` runs
/// once on one thread of the target device and ends with `looppar.yield`.
///
/// ```mlir
/// "looppar.on_device"() ({
///   "looppar.yield"() : () -> ()
/// }) : () -> ()
/// ```
pub fn on_device<'c>(
    body: Region<'c>,
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    finish(
        "looppar.on_device",
        OperationBuilder::new("looppar.on_device", location).add_regions([body]),
    )
}

/// Creates a `looppar.yield` operation: ends the region of `looppar.for`,
/// `looppar.while` (body), `looppar.on_device` (no values) or `looppar.map`
/// (one value).
///
/// ```mlir
/// "looppar.yield"() : () -> ()
/// ```
pub fn r#yield<'c>(
    values: &[Value<'c, '_>],
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    finish(
        "looppar.yield",
        OperationBuilder::new("looppar.yield", location).add_operands(values),
    )
}
