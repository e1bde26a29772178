use thiserror::Error;

/// Errors from loading the dialects or building their ops.
#[derive(Debug, Error)]
pub enum DialectError {
    /// An IRDL definition failed to parse; this is a bug in the definition.
    #[error("the IRDL definition of the `{dialect}` dialect does not parse")]
    IrdlParse { dialect: &'static str },
    /// MLIR rejected an IRDL definition while loading it.
    #[error("MLIR could not load the IRDL definition of the `{dialect}` dialect")]
    IrdlLoad { dialect: &'static str },
    /// The native terminators could not be registered.
    #[error("could not register the native terminators (`task.yield`, `looppar.yield`, `looppar.condition`): the dialects are not loaded")]
    NativeOps,
    /// A builder could not create an op (e.g. the dialects are not loaded in
    /// this context).
    #[error("cannot build `{op}`: {source}")]
    Build {
        op: &'static str,
        #[source]
        source: melior::Error,
    },
    /// A type or attribute written by a builder failed to parse.
    #[error("cannot build `{op}`: `{text}` does not parse as a type or attribute")]
    Syntax { op: &'static str, text: String },
}
