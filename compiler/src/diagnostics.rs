//! Capturing MLIR diagnostics as owned Rust values, with their source
//! positions resolved.

use melior::{
    diagnostic::{Diagnostic, DiagnosticHandlerId, DiagnosticSeverity},
    ir::Location,
    Context,
};
use std::{cell::RefCell, fmt, rc::Rc};

/// Where a diagnostic points in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePosition {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    Error,
    Warning,
    Remark,
    Note,
}

impl Severity {
    /// The word MLIR prints, e.g. `error`.
    pub fn word(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Remark => "remark",
            Severity::Note => "note",
        }
    }
}

/// One diagnostic, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub severity: Severity,
    /// `None` when the location has no file position (e.g. `loc(unknown)`).
    pub position: Option<SourcePosition>,
    /// The location as MLIR prints it, for positions that cannot be resolved.
    pub location: String,
    pub text: String,
    pub notes: Vec<Message>,
}

impl fmt::Display for Message {
    /// `file:line:col: error: text`, as mlir-opt prints it (notes on their
    /// own lines).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.position {
            Some(p) => write!(f, "{}:{}:{}: ", p.file, p.line, p.column)?,
            None => write!(f, "{}: ", self.location)?,
        }
        write!(f, "{}: {}", self.severity.word(), self.text)?;
        for note in &self.notes {
            write!(f, "\n{note}")?;
        }
        Ok(())
    }
}

/// Messages one per line (with their notes), as mlir-opt prints them.
pub fn render(messages: &[Message]) -> String {
    messages
        .iter()
        .map(Message::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Resolves a location to a file position: file-line-col directly, names
/// and call sites through their child/callee, fused locations through the
/// first part that has a position.
pub fn position(location: Location) -> Option<SourcePosition> {
    use mlir_sys::*;
    let raw = location.to_raw();
    // SAFETY: every call only reads the (live) location.
    unsafe {
        if mlirLocationIsAFileLineColRange(raw) {
            let file = mlirIdentifierStr(mlirLocationFileLineColRangeGetFilename(raw));
            let file = if file.length == 0 || file.data.is_null() {
                String::new()
            } else {
                let bytes = std::slice::from_raw_parts(file.data as *const u8, file.length);
                String::from_utf8_lossy(bytes).into_owned()
            };
            return Some(SourcePosition {
                file,
                line: mlirLocationFileLineColRangeGetStartLine(raw) as u32,
                column: mlirLocationFileLineColRangeGetStartColumn(raw) as u32,
            });
        }
        if mlirLocationIsAName(raw) {
            return position(Location::from_raw(mlirLocationNameGetChildLoc(raw)));
        }
        if mlirLocationIsACallSite(raw) {
            return position(Location::from_raw(mlirLocationCallSiteGetCallee(raw)));
        }
        if mlirLocationIsAFused(raw) {
            let count = mlirLocationFusedGetNumLocations(raw);
            let mut parts = vec![
                MlirLocation {
                    ptr: std::ptr::null()
                };
                count as usize
            ];
            mlirLocationFusedGetLocations(raw, parts.as_mut_ptr());
            return parts
                .into_iter()
                .find_map(|part| position(Location::from_raw(part)));
        }
    }
    None
}

fn message(diagnostic: &Diagnostic) -> Message {
    let severity = match diagnostic.severity() {
        DiagnosticSeverity::Error => Severity::Error,
        DiagnosticSeverity::Warning => Severity::Warning,
        DiagnosticSeverity::Remark => Severity::Remark,
        DiagnosticSeverity::Note => Severity::Note,
    };
    let location = diagnostic.location();
    let notes = (0..diagnostic.note_count())
        .filter_map(|i| diagnostic.note(i).ok())
        .map(|note| message(&note))
        .collect();
    Message {
        severity,
        position: position(location),
        location: location.to_string(),
        text: diagnostic.to_string(),
        notes,
    }
}

/// Collects every diagnostic emitted in a context while it lives, instead
/// of letting MLIR print them.
pub struct Capture<'c> {
    context: &'c Context,
    id: Option<DiagnosticHandlerId>,
    messages: Rc<RefCell<Vec<Message>>>,
}

impl<'c> Capture<'c> {
    pub fn new(context: &'c Context) -> Self {
        let messages = Rc::new(RefCell::new(Vec::new()));
        let sink = messages.clone();
        let id = context.attach_diagnostic_handler(move |diagnostic| {
            sink.borrow_mut().push(message(&diagnostic));
            true // handled: MLIR prints nothing itself
        });
        Self {
            context,
            id: Some(id),
            messages,
        }
    }

    /// Takes the messages collected so far.
    pub fn take(&self) -> Vec<Message> {
        std::mem::take(&mut self.messages.borrow_mut())
    }
}

impl Drop for Capture<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            self.context.detach_diagnostic_handler(id);
        }
    }
}
