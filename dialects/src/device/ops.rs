//! Typed builders for the `device` dialect's ops.

use super::Device;
use crate::builder::{finish, named};
use crate::DialectError;
use melior::{
    ir::{
        attribute::{FloatAttribute, IntegerAttribute},
        operation::OperationBuilder,
        r#type::IntegerType,
        Location, Operation, Type, Value,
    },
    Context,
};

/// Creates a `device.resources` operation: what `device` offers the
/// scheduler.
///
/// ```mlir
/// "device.resources"() {device = #device.gpu<0 : i64>, memory = 85899345920 : i64, vcus = 1.000000e+00 : f64} : () -> ()
/// ```
pub fn resources<'c>(
    context: &'c Context,
    device: Device,
    vcus: f64,
    memory: u64,
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    finish(
        "device.resources",
        OperationBuilder::new("device.resources", location).add_attributes(&[
            named(context, "device", device.attribute(context)?),
            named(
                context,
                "vcus",
                FloatAttribute::new(context, Type::float64(context), vcus).into(),
            ),
            named(context, "memory", i64_attribute(context, memory as i64)),
        ]),
    )
}

/// Creates a `device.alloc` operation: a buffer of type `buffer` (a memref)
/// in the memory of `device`, with one size per dynamic dimension.
///
/// ```mlir
/// %buf = "device.alloc"(%n) {device = #device.gpu<0 : i64>} : (index) -> memref<?xf32>
/// ```
pub fn alloc<'c>(
    context: &'c Context,
    device: Device,
    buffer: Type<'c>,
    dynamic_sizes: &[Value<'c, '_>],
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    finish(
        "device.alloc",
        OperationBuilder::new("device.alloc", location)
            .add_operands(dynamic_sizes)
            .add_attributes(&[named(context, "device", device.attribute(context)?)])
            .add_results(&[buffer]),
    )
}

/// Creates a `device.free` operation.
///
/// ```mlir
/// "device.free"(%buf) {device = #device.gpu<0 : i64>} : (memref<?xf32>) -> ()
/// ```
pub fn free<'c>(
    context: &'c Context,
    device: Device,
    buffer: Value<'c, '_>,
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    finish(
        "device.free",
        OperationBuilder::new("device.free", location)
            .add_operands(&[buffer])
            .add_attributes(&[named(context, "device", device.attribute(context)?)]),
    )
}

/// Creates a `device.copy` operation: `source` (on `from`) into `target`
/// (on `to`).
///
/// ```mlir
/// "device.copy"(%host, %dev) {from = #device.cpu, to = #device.gpu<0 : i64>} : (memref<4xf32>, memref<4xf32>) -> ()
/// ```
pub fn copy<'c>(
    context: &'c Context,
    source: Value<'c, '_>,
    target: Value<'c, '_>,
    from: Device,
    to: Device,
    location: Location<'c>,
) -> Result<Operation<'c>, DialectError> {
    finish(
        "device.copy",
        OperationBuilder::new("device.copy", location)
            .add_operands(&[source, target])
            .add_attributes(&[
                named(context, "from", from.attribute(context)?),
                named(context, "to", to.attribute(context)?),
            ]),
    )
}

pub(crate) fn i64_attribute(context: &Context, value: i64) -> melior::ir::Attribute<'_> {
    IntegerAttribute::new(IntegerType::new(context, 64).into(), value).into()
}
