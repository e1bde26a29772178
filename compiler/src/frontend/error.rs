//! Errors in user code, with the position and the source line.

use std::fmt;

/// A construct the compiler does not accept, or a type error, in a JIT
/// function: file, line, column, and the offending source line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub message: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub source_line: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if !self.source_line.is_empty() {
            write!(
                f,
                "\n    {}\n    {:>width$}",
                self.source_line.trim_end(),
                "^",
                width = self.column as usize
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for CompileError {}

/// Where in the user's source a construct is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub line: u32,
    pub column: u32,
}

/// The source of a function, for positions in errors.
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub file: String,
    pub lines: Vec<String>,
}

impl Source {
    pub fn error(&self, span: Span, message: impl Into<String>) -> CompileError {
        CompileError {
            message: message.into(),
            file: self.file.clone(),
            line: span.line,
            column: span.column,
            source_line: self
                .lines
                .get(span.line.saturating_sub(1) as usize)
                .cloned()
                .unwrap_or_default(),
        }
    }
}
