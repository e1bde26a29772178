//! Typed builders for the `task` dialect's ops.

use super::{group_type, handle_type, space_type};
use crate::builder::{finish, named, segment_sizes};
use crate::device::{ops::i64_attribute, Device};
use crate::DialectError;
use melior::{
    ir::{
        attribute::{ArrayAttribute, FloatAttribute, StringAttribute},
        operation::OperationBuilder,
        Attribute, Location, Operation, Region, Type, Value,
    },
    Context,
};

/// Creates a `task.graph` operation: the `with Parla():` scope. `body` must
/// end with `task.yield`.
///
/// ```mlir
/// "task.graph"() ({
///   ...
///   "task.yield"() : () -> ()
/// }) : () -> ()
/// ```
pub fn graph<'c>(body: Region<'c>, location: Location<'c>) -> Result<Operation<'c>, DialectError> {
    finish(
        "task.graph",
        OperationBuilder::new("task.graph", location).add_regions([body]),
    )
}

/// Creates a `task.create_space` operation: `TaskSpace(name)`.
///
/// ```mlir
/// %T = "task.create_space"() {name = "T"} : () -> !task.space
/// ```
pub fn create_space<'c>(
    context: &'c Context,
    name: &str,
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    finish(
        "task.create_space",
        OperationBuilder::new("task.create_space", location)
            .add_attributes(&[named(
                context,
                "name",
                StringAttribute::new(context, name).into(),
            )])
            .add_results(&[space_type(context)?]),
    )
}

/// Creates a `task.id` operation: the task `space[indices...]`.
///
/// ```mlir
/// %t = "task.id"(%T, %i) : (!task.space, index) -> !task.handle
/// ```
pub fn id<'c>(
    context: &'c Context,
    space: Value<'c, '_>,
    indices: &[Value<'c, '_>],
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    let mut operands = vec![space];
    operands.extend_from_slice(indices);
    finish(
        "task.id",
        OperationBuilder::new("task.id", location)
            .add_operands(&operands)
            .add_results(&[handle_type(context)?]),
    )
}

/// Creates a `task.slice` operation: `space[l0:u0, l1:u1, ...]` from
/// `(lower, upper)` pairs, upper exclusive.
///
/// ```mlir
/// %g = "task.slice"(%T, %c0, %c4) : (!task.space, index, index) -> !task.group
/// ```
pub fn slice<'c>(
    context: &'c Context,
    space: Value<'c, '_>,
    bounds: &[(Value<'c, '_>, Value<'c, '_>)],
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    let mut operands = vec![space];
    for (lower, upper) in bounds {
        operands.push(*lower);
        operands.push(*upper);
    }
    finish(
        "task.slice",
        OperationBuilder::new("task.slice", location)
            .add_operands(&operands)
            .add_results(&[group_type(context)?]),
    )
}

/// What a `task.spawn` asks of the scheduler.
#[derive(Debug, Clone, PartialEq)]
pub struct SpawnOptions {
    /// Devices the task may run on, in order of preference.
    pub placement: Vec<Device>,
    /// Fraction of a device's compute the task holds while it runs
    /// (`vcus=1` runs tasks one at a time, `0.5` two at a time).
    pub vcus: f64,
    /// Device memory reserved while the task runs, in bytes.
    pub memory: u64,
    /// Whether the body is a coroutine that may `task.await`.
    pub is_async: bool,
}

impl Default for SpawnOptions {
    fn default() -> Self {
        Self {
            placement: vec![Device::Cpu],
            vcus: 1.0,
            memory: 0,
            is_async: false,
        }
    }
}

/// Creates a `task.spawn` operation: the task `id` runs `body` after
/// `after_tasks` and every task in `after_groups` complete. `body` must end
/// with `task.yield` (with the task's return value, if any).
///
/// ```mlir
/// "task.spawn"(%t1, %t0, %g) ({
///   "task.yield"() : () -> ()
/// }) {memory = 0 : i64, operandSegmentSizes = array<i32: 1, 1, 1>,
///     placement = [#device.cpu], vcus = 1.000000e+00 : f64}
///   : (!task.handle, !task.handle, !task.group) -> ()
/// ```
pub fn spawn<'c>(
    context: &'c Context,
    id: Value<'c, '_>,
    after_tasks: &[Value<'c, '_>],
    after_groups: &[Value<'c, '_>],
    options: &SpawnOptions,
    body: Region<'c>,
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    let mut operands = vec![id];
    operands.extend_from_slice(after_tasks);
    operands.extend_from_slice(after_groups);
    let placement = options
        .placement
        .iter()
        .map(|device| device.attribute(context))
        .collect::<Result<Vec<Attribute>, _>>()?;
    let mut attributes = vec![
        named(
            context,
            "placement",
            ArrayAttribute::new(context, &placement).into(),
        ),
        named(
            context,
            "vcus",
            FloatAttribute::new(context, Type::float64(context), options.vcus).into(),
        ),
        named(
            context,
            "memory",
            i64_attribute(context, options.memory as i64),
        ),
        segment_sizes(context, &[1, after_tasks.len(), after_groups.len()]),
    ];
    if options.is_async {
        attributes.push(named(context, "async", Attribute::unit(context)));
    }
    finish(
        "task.spawn",
        OperationBuilder::new("task.spawn", location)
            .add_operands(&operands)
            .add_attributes(&attributes)
            .add_regions([body]),
    )
}

/// Creates a `task.await` operation inside an async task body. With
/// `result` set, exactly one task may be awaited and its return value (of
/// type `result`) is the op's result.
///
/// ```mlir
/// %x = "task.await"(%t0) {operandSegmentSizes = array<i32: 1, 0>} : (!task.handle) -> i64
/// ```
pub fn r#await<'c>(
    context: &'c Context,
    tasks: &[Value<'c, '_>],
    groups: &[Value<'c, '_>],
    result: Option<Type<'c>>,
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    let mut operands = tasks.to_vec();
    operands.extend_from_slice(groups);
    finish(
        "task.await",
        OperationBuilder::new("task.await", location)
            .add_operands(&operands)
            .add_attributes(&[segment_sizes(context, &[tasks.len(), groups.len()])])
            .add_results(result.as_slice()),
    )
}

/// Creates a `task.yield` operation, ending a `task.graph` (no values) or a
/// `task.spawn` body (at most one value: the task's return value).
///
/// ```mlir
/// "task.yield"(%x) : (i64) -> ()
/// ```
pub fn r#yield<'c>(
    values: &[Value<'c, '_>],
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    finish(
        "task.yield",
        OperationBuilder::new("task.yield", location).add_operands(values),
    )
}
