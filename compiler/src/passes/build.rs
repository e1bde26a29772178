//! Op construction shared by our passes: a builder that stamps ops with
//! one location, insertion before an op, and reduction identities.

use melior::{
    ir::{
        attribute::{FloatAttribute, IntegerAttribute},
        operation::{OperationBuilder, OperationRef},
        r#type::IntegerType,
        Attribute, BlockLike, Identifier, Location, Type, TypeLike, Value,
    },
    Context,
};

pub(crate) struct Builder<'c> {
    pub(crate) context: &'c Context,
    pub(crate) location: Location<'c>,
    pub(crate) index: Type<'c>,
}

impl<'c> Builder<'c> {
    pub(crate) fn new(context: &'c Context, location: Location<'c>) -> Self {
        Self {
            context,
            location,
            index: Type::index(context),
        }
    }

    pub(crate) fn build(
        &self,
        name: &str,
        operands: &[Value<'c, '_>],
        results: &[Type<'c>],
        attributes: &[(&str, Attribute<'c>)],
    ) -> Result<melior::ir::Operation<'c>, String> {
        let attributes: Vec<_> = attributes
            .iter()
            .map(|(n, a)| (Identifier::new(self.context, n), *a))
            .collect();
        OperationBuilder::new(name, self.location)
            .add_operands(operands)
            .add_results(results)
            .add_attributes(&attributes)
            .build()
            .map_err(|e| format!("cannot build {name}: {e}"))
    }

    pub(crate) fn index_constant(&self, value: i64) -> Result<melior::ir::Operation<'c>, String> {
        self.build(
            "arith.constant",
            &[],
            &[self.index],
            &[("value", IntegerAttribute::new(self.index, value).into())],
        )
    }
}

/// The attribute that asks LLVM to unroll a loop `count` times: `scf.for`
/// passes it to the branch that closes the loop (`convert-scf-to-cf`),
/// whose LLVM form keeps it as loop metadata.
pub(crate) fn unroll_annotation(
    context: &Context,
    count: u32,
) -> Result<(Identifier<'_>, Attribute<'_>), String> {
    let text = format!("#llvm.loop_annotation<unroll = <count = {count} : i32>>");
    let annotation = Attribute::parse(context, &text).ok_or("cannot build a loop annotation")?;
    Ok((Identifier::new(context, "loop_annotation"), annotation))
}

/// Inserts `op` before `before` in `block` and returns its first result.
pub(crate) fn insert<'c, 'a>(
    block: melior::ir::BlockRef<'c, 'a>,
    before: OperationRef<'c, 'a>,
    op: melior::ir::Operation<'c>,
) -> Value<'c, 'a> {
    block
        .insert_operation_before(before, op)
        .result(0)
        .expect("one result")
        .into()
}

/// The identity of a reduction, as a constant of `ty`.
pub(crate) fn identity<'c>(
    context: &'c Context,
    kind: &str,
    combine: &str,
    ty: Type<'c>,
) -> Attribute<'c> {
    let float = !ty.is_integer() && !ty.is_index();
    if float {
        let value = match kind {
            "add" => 0.0,
            "mul" => 1.0,
            "min" => f64::INFINITY,
            _ => f64::NEG_INFINITY,
        };
        return FloatAttribute::new(context, ty, value).into();
    }
    let unsigned = combine.ends_with("ui");
    let width = IntegerType::try_from(ty).map(|t| t.width()).unwrap_or(64);
    let (min, max) = if unsigned {
        (
            0i64,
            if width >= 64 {
                -1
            } else {
                ((1u64 << width) - 1) as i64
            },
        )
    } else if width >= 64 {
        (i64::MIN, i64::MAX)
    } else {
        (-(1i64 << (width - 1)), (1i64 << (width - 1)) - 1)
    };
    let value = match kind {
        "add" | "or" | "xor" => 0,
        "mul" => 1,
        "and" => -1, // every bit set
        "min" => max,
        _ => min,
    };
    IntegerAttribute::new(ty, value).into()
}

/// The starting value of a partial result that is combined into another
/// value before anyone sees it: the identity, except that float sums start
/// at -0.0, the exact identity of IEEE addition (x + -0.0 is x for every x),
/// which LLVM removes from `-0.0 + x` where it must keep `0.0 + x`.
pub(crate) fn partial_identity<'c>(
    context: &'c Context,
    kind: &str,
    combine: &str,
    ty: Type<'c>,
) -> Attribute<'c> {
    if kind == "add" && !ty.is_integer() && !ty.is_index() {
        return FloatAttribute::new(context, ty, -0.0).into();
    }
    identity(context, kind, combine, ty)
}
