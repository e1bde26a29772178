//! Parsing IR text into a module, as mlir-opt does: a single top-level
//! `builtin.module` is used as is; anything else is wrapped in one.

use crate::diagnostics::{Capture, Message};
use melior::{
    ir::{operation::OperationLike, BlockLike, Location, Module, Operation},
    Context, StringRef,
};

const MULTIPLE_TOP_LEVEL: &str = "source must contain a single top-level operation";

/// Parses `text` (named `source_name` in locations) into a module. On
/// failure, returns the parser's diagnostics.
pub fn parse_module<'c>(
    context: &'c Context,
    text: &str,
    source_name: &str,
) -> Result<Module<'c>, Vec<Message>> {
    let capture = Capture::new(context);
    if let Some(op) = parse_operation(context, text, source_name) {
        return Ok(into_module(context, op));
    }
    let messages = capture.take();
    let only_multiple = !messages.is_empty()
        && messages
            .iter()
            .all(|m| m.text.starts_with(MULTIPLE_TOP_LEVEL));
    if !only_multiple {
        return Err(messages);
    }
    // Several top-level ops: wrap them, keeping every line where it was
    // (the wrapper shares the first line).
    let wrapped = format!("module {{{text}\n}}");
    match parse_operation(context, &wrapped, source_name) {
        Some(op) => Ok(into_module(context, op)),
        None => Err(capture.take()),
    }
}

fn parse_operation<'c>(
    context: &'c Context,
    text: &str,
    source_name: &str,
) -> Option<Operation<'c>> {
    let text = StringRef::new(text);
    let name = StringRef::new(source_name);
    // SAFETY: the context is alive; MLIR copies what it needs from the
    // strings; a null result means failure (reported as diagnostics).
    unsafe {
        Operation::from_option_raw(mlir_sys::mlirOperationCreateParse(
            context.to_raw(),
            text.to_raw(),
            name.to_raw(),
        ))
    }
}

fn into_module<'c>(context: &'c Context, op: Operation<'c>) -> Module<'c> {
    if op.name().as_string_ref().as_str() == Ok("builtin.module") {
        if let Some(module) = Module::from_operation(op) {
            return module;
        }
        unreachable!("a builtin.module op converts to a Module");
    }
    let module = Module::new(Location::unknown(context));
    module.body().append_operation(op);
    module
}
