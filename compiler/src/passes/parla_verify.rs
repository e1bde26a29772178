//! `parla-verify`: checks the semantic rules of the task, device and
//! looppar dialects (see `parla_dialects::verify`) at a point of a
//! pipeline. The pass manager's own verifier checks only what IRDL states.

use melior::{ir::operation::OperationRef, pass::ExternalPass};

external_pass!(
    "parla-verify",
    "Check the rules of the task, device and looppar dialects that IRDL cannot state",
    run
);

fn run(operation: OperationRef, pass: ExternalPass) {
    // Emits one diagnostic per violation; failing the pass stops the
    // pipeline like any verifier failure.
    if !parla_dialects::verify(&operation) {
        pass.signal_failure();
    }
}
