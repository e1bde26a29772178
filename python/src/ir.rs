//! IR verification from Python (`parla.ir.verify`).

use parla_compiler::diagnostics::{Capture, Message};
use pyo3::{create_exception, exceptions::PyException, prelude::*};

create_exception!(
    _parla,
    IRError,
    PyException,
    "IR that does not parse or verify."
);

/// The `(severity, file, line, column, message)` of one diagnostic; file,
/// line and column are None where MLIR gives no position.
type DiagnosticTuple = (String, Option<String>, Option<u32>, Option<u32>, String);

fn tuples(messages: &[Message]) -> Vec<DiagnosticTuple> {
    messages
        .iter()
        .flat_map(|m| std::iter::once(m).chain(m.notes.iter()))
        .map(|m| {
            let position = m.position.as_ref();
            (
                m.severity.word().to_string(),
                position.map(|p| p.file.clone()),
                position.map(|p| p.line),
                position.map(|p| p.column),
                m.text.clone(),
            )
        })
        .collect()
}

/// Parses and verifies IR text (the upstream dialects and task, device,
/// looppar), returning it printed back. Raises IRError with the
/// diagnostics (a list of DiagnosticTuple) as its second argument.
#[pyfunction]
#[pyo3(signature = (text, source_name = "<string>"))]
pub fn verify_ir(py: Python<'_>, text: &str, source_name: &str) -> PyResult<String> {
    let outcome = py.detach(|| -> Result<String, (String, Vec<DiagnosticTuple>)> {
        let context = parla_dialects::create_context().map_err(|e| (e.to_string(), Vec::new()))?;
        let capture = Capture::new(&context);
        let module = parla_compiler::source::parse_module(&context, text, source_name)
            .map_err(|messages| (summary(&messages), tuples(&messages)))?;
        let op = module.as_operation();
        if !parla_dialects::verify(&op) {
            let messages = capture.take();
            return Err((summary(&messages), tuples(&messages)));
        }
        Ok(op.to_string())
    });
    outcome.map_err(|(summary, diagnostics)| IRError::new_err((summary, diagnostics)))
}

fn summary(messages: &[Message]) -> String {
    match messages.first() {
        Some(first) => first.to_string(),
        None => "invalid IR".to_string(),
    }
}
