//! `parla-verify`: checks the semantic rules of the task, device and
//! looppar dialects (see `parla_dialects::verify`) at a point of a
//! pipeline. The pass manager's own verifier checks only what IRDL states.

use super::PassInfo;
use melior::{
    ir::{operation::OperationRef, r#type::TypeId},
    pass::{create_external, ExternalPass, Pass},
};

pub(super) const INFO: PassInfo = PassInfo {
    name: "parla-verify",
    summary: "Check the rules of the task, device and looppar dialects that IRDL cannot state",
    anchor: "",
    create,
};

#[repr(align(8))]
struct PassId;
static PASS_ID: PassId = PassId;

fn run(operation: OperationRef, pass: ExternalPass) {
    // Emits one diagnostic per violation; failing the pass stops the
    // pipeline like any verifier failure.
    if !parla_dialects::verify(&operation) {
        pass.signal_failure();
    }
}

fn create() -> Pass {
    create_external(
        run,
        TypeId::create(&PASS_ID),
        INFO.name,
        INFO.name,
        INFO.summary,
        INFO.anchor,
        &[],
    )
}
