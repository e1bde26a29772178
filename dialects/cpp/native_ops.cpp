//===- native_ops.cpp - Ops that IRDL in MLIR 22 cannot define ------------===//
//
// IRDL-defined (dynamic) ops cannot carry traits in MLIR 22:
// `DynamicOpDefinition::hasTrait` always answers false. MLIR's verifier
// requires the last op of a block in a region of a registered op to have
// the IsTerminator trait, so the terminators of our region-holding ops are
// registered here as native ops of the already-loaded IRDL dialects.
// Everything else about the dialects stays in their `.irdl.mlir` files.
//
//===----------------------------------------------------------------------===//

#include "mlir-c/IR.h"
#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "mlir/IR/ExtensibleDialect.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OperationSupport.h"

using namespace mlir;

namespace {

/// `<dialect>.yield`: ends a region of one of our ops, optionally passing
/// values to it. Which values each parent accepts is checked by the
/// parent's verifier (Rust side).
template <typename Name>
class YieldOp
    : public Op<YieldOp<Name>, OpTrait::ZeroRegions, OpTrait::ZeroResults,
                OpTrait::ZeroSuccessors, OpTrait::VariadicOperands,
                OpTrait::IsTerminator> {
public:
  using Op<YieldOp<Name>, OpTrait::ZeroRegions, OpTrait::ZeroResults,
           OpTrait::ZeroSuccessors, OpTrait::VariadicOperands,
           OpTrait::IsTerminator>::Op;
  static StringRef getOperationName() { return Name::value; }
  static ArrayRef<StringRef> getAttributeNames() { return {}; }
};

/// `looppar.condition`: ends the `before` region of a `looppar.while` with
/// the loop condition (an i1).
class ConditionOp
    : public Op<ConditionOp, OpTrait::ZeroRegions, OpTrait::ZeroResults,
                OpTrait::ZeroSuccessors, OpTrait::OneOperand,
                OpTrait::IsTerminator> {
public:
  using Op::Op;
  static StringRef getOperationName() { return "looppar.condition"; }
  static ArrayRef<StringRef> getAttributeNames() { return {}; }
  LogicalResult verify() {
    if (!getOperation()->getOperand(0).getType().isInteger(1))
      return emitOpError("requires an i1 condition, got ")
             << getOperation()->getOperand(0).getType();
    return success();
  }
};

struct TaskYield {
  static constexpr const char *value = "task.yield";
};
struct LoopparYield {
  static constexpr const char *value = "looppar.yield";
};

template <typename OpT>
bool registerIn(MLIRContext *context, StringRef dialectName) {
  Dialect *dialect = context->getLoadedDialect(dialectName);
  if (!dialect || !isa<DynamicDialect>(dialect))
    return false;
  if (RegisteredOperationName::lookup(OpT::getOperationName(), context))
    return true; // Already registered in this context.
  RegisteredOperationName::insert<OpT>(*dialect);
  return true;
}

} // namespace

extern "C" {

/// Registers `task.yield`, `looppar.yield` and `looppar.condition` into
/// the IRDL-loaded `task` and `looppar` dialects of `context`. Returns false when a dialect is not
/// loaded yet. Idempotent.
bool parlaRegisterNativeOps(MlirContext context) {
  MLIRContext *ctx = unwrap(context);
  return registerIn<YieldOp<TaskYield>>(ctx, "task") &&
         registerIn<YieldOp<LoopparYield>>(ctx, "looppar") &&
         registerIn<ConditionOp>(ctx, "looppar");
}
}
