//! Parsing IR text into a module, as mlir-opt does: a single top-level
//! `builtin.module` is used as is; anything else is wrapped in one.

use crate::diagnostics::{Capture, Message, Severity, SourcePosition};
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
    if let Some(message) = unparsable(text, source_name) {
        return Err(vec![message]);
    }
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

/// Text that MLIR's parser would crash on rather than reject, as a
/// diagnostic: a dense array of `index` elements (`array<index: 1>`),
/// which the parser takes for a float array (a null dereference). Text in
/// strings and comments is skipped.
fn unparsable(text: &str, source_name: &str) -> Option<Message> {
    let bytes = text.as_bytes();
    let (mut line, mut column) = (1u32, 1u32);
    let (mut in_string, mut in_comment) = (false, false);
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_comment {
            in_comment = c != b'\n';
        } else if in_string {
            if c == b'\\' {
                i += 1;
                column += 1;
            } else if c == b'"' {
                in_string = false;
            }
        } else if c == b'"' {
            in_string = true;
        } else if bytes[i..].starts_with(b"//") {
            in_comment = true;
        } else if let Some(rest) = bytes[i..]
            .strip_prefix(b"array<")
            .filter(|_| i == 0 || !is_name_byte(bytes[i - 1]))
        {
            let element = rest.trim_ascii_start();
            let after = element.strip_prefix(b"index").unwrap_or(b"x");
            if after
                .first()
                .is_some_and(|c| matches!(c, b':' | b'>') || c.is_ascii_whitespace())
            {
                return Some(Message {
                    severity: Severity::Error,
                    position: Some(SourcePosition {
                        file: source_name.to_string(),
                        line,
                        column,
                    }),
                    location: format!("{source_name}:{line}:{column}"),
                    text: "dense arrays of index elements are not supported: write array<i64: ...>"
                        .to_string(),
                    notes: Vec::new(),
                });
            }
        }
        if c == b'\n' {
            line += 1;
            column = 1;
        } else if c & 0xC0 != 0x80 {
            column += 1;
        }
        i += 1;
    }
    None
}

/// Whether `byte` may stand in, or just before, a name (`xarray`,
/// `#test.array`, `!foo.array`): `array<` after one is not the builtin.
fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'$' | b'#' | b'!')
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
