//! `looppar-apply-parallel-spec`: copies each `looppar.parallelize`
//! specification onto the loops carrying its label (`threads`, `tpb`,
//! `reduce`; nothing for `seq`) and removes the specifications. A
//! specification whose label labels no loop is an error.

use super::rewrite;
use melior::{
    ir::operation::{OperationLike, OperationMutLike},
    pass::ExternalPass,
};
use std::collections::HashMap;

external_pass!(
    "looppar-apply-parallel-spec",
    "Attach each label's parallel specification (looppar.parallelize) to the loops it labels",
    run
);

fn run(root: melior::ir::operation::OperationRef, pass: ExternalPass) {
    let specs = rewrite::collect(root, "looppar.parallelize");
    let loops = rewrite::collect(root, "looppar.for");
    let mut by_label: HashMap<String, Vec<_>> = HashMap::new();
    for raw in &loops {
        // SAFETY: collected from the live IR just above.
        let op = unsafe { rewrite::view(*raw) };
        if let Some(l) = rewrite::string_attribute(op, "label") {
            by_label.entry(l).or_default().push(*raw);
        }
    }
    let mut failed = false;
    for spec in specs {
        // SAFETY: as above; specs are only erased after being read.
        let spec_op = unsafe { rewrite::view(spec) };
        let Some(name) = rewrite::string_attribute(spec_op, "label") else {
            continue;
        };
        let Some(targets) = by_label.get(&name) else {
            rewrite::emit_error(
                spec_op.location(),
                &format!("'looppar.parallelize' op specifies label '{name}', which labels no loop"),
            );
            failed = true;
            continue;
        };
        for target in targets {
            // SAFETY: a live loop op.
            let mut target_op =
                unsafe { melior::ir::operation::OperationRefMut::from_raw(*target) };
            for key in ["threads", "tpb", "reduce"] {
                if let Ok(value) = spec_op.attribute(key) {
                    target_op.set_attribute(key, value);
                }
            }
        }
        // SAFETY: the spec op has no results and nothing refers to it.
        unsafe { rewrite::erase(spec) };
    }
    if failed {
        pass.signal_failure();
    }
}
