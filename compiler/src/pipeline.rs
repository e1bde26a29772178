//! Textual pass pipelines that mix our passes with upstream MLIR ones.
//!
//! MLIR's C API cannot register an external pass by name, so MLIR's own
//! pipeline parser does not know our passes. We parse the pipeline text
//! here (same grammar as `mlir-opt --pass-pipeline`), create our passes
//! directly, and hand each upstream element to MLIR by name.

use crate::passes;
use melior::{
    pass::{OperationPassManager, PassManager},
    Context, StringRef,
};
use std::ffi::c_void;
use thiserror::Error;

/// A pipeline that could not be built.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PipelineError {
    /// The text does not follow the pipeline grammar.
    #[error("invalid pass pipeline at offset {offset}: {message}\n  {text}\n  {caret:>width$}", caret = "^", width = offset + 1)]
    Syntax {
        text: String,
        offset: usize,
        message: String,
    },
    /// MLIR rejected an upstream pass (unknown name, bad options).
    #[error("cannot add pass `{element}`: {message}")]
    Pass { element: String, message: String },
}

/// One element of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    /// A pass with its option text (without braces), e.g. `canonicalize`.
    Pass { name: String, options: String },
    /// Passes nested under an op name, e.g. `func.func(cse)`.
    Nest {
        anchor: String,
        elements: Vec<Element>,
    },
}

/// Parses pipeline text into elements.
pub fn parse(text: &str) -> Result<Vec<Element>, PipelineError> {
    let mut parser = Parser {
        text,
        position: 0,
        depth: 0,
    };
    let elements = parser.elements()?;
    parser.skip_space();
    if parser.position != text.len() {
        return Err(parser.error("expected ',' or the end of the pipeline"));
    }
    Ok(elements)
}

struct Parser<'t> {
    text: &'t str,
    position: usize,
    /// How many nests are open (bounded: the parser recurses).
    depth: usize,
}

/// Deeper nests than this are a mistake, not a pipeline.
const MAX_NESTING: usize = 256;

impl Parser<'_> {
    fn error(&self, message: &str) -> PipelineError {
        PipelineError::Syntax {
            text: self.text.to_string(),
            offset: self.position,
            message: message.to_string(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.position..].chars().next()
    }

    fn skip_space(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.position += c.len_utf8();
        }
    }

    fn elements(&mut self) -> Result<Vec<Element>, PipelineError> {
        let mut elements = Vec::new();
        self.skip_space();
        if matches!(self.peek(), None | Some(')')) {
            return Ok(elements);
        }
        loop {
            elements.push(self.element()?);
            self.skip_space();
            if self.peek() == Some(',') {
                self.position += 1;
            } else {
                return Ok(elements);
            }
        }
    }

    fn element(&mut self) -> Result<Element, PipelineError> {
        self.skip_space();
        let start = self.position;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            self.position += 1;
        }
        if start == self.position {
            return Err(self.error("expected a pass or an op name"));
        }
        let name = self.text[start..self.position].to_string();
        self.skip_space();
        match self.peek() {
            Some('(') => {
                if self.depth == MAX_NESTING {
                    return Err(self.error(&format!(
                        "the pipeline nests more than {MAX_NESTING} levels deep"
                    )));
                }
                self.position += 1;
                self.depth += 1;
                let elements = self.elements()?;
                self.depth -= 1;
                self.skip_space();
                if self.peek() != Some(')') {
                    return Err(self.error("expected ')'"));
                }
                self.position += 1;
                Ok(Element::Nest {
                    anchor: name,
                    elements,
                })
            }
            Some('{') => {
                let options = self.options()?;
                Ok(Element::Pass { name, options })
            }
            _ => Ok(Element::Pass {
                name,
                options: String::new(),
            }),
        }
    }

    /// Reads `{...}` (nested braces and quoted strings allowed) and returns
    /// what is inside.
    fn options(&mut self) -> Result<String, PipelineError> {
        let start = self.position + 1;
        let mut depth = 0usize;
        let mut quote = None;
        while let Some(c) = self.peek() {
            self.position += c.len_utf8();
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '{') => depth += 1,
                (None, '}') => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(self.text[start..self.position - 1].to_string());
                    }
                }
                _ => {}
            }
        }
        Err(self.error("unterminated '{' in pass options"))
    }
}

/// Registers the upstream passes that pipelines may name: the general
/// transforms, the conversions, and the passes of the dialects the project
/// uses. Idempotent.
pub fn register_upstream_passes() {
    // Registering twice corrupts MLIR's registry: once per process.
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: registration only inserts into MLIR's global pass registry.
    ONCE.call_once(|| unsafe {
        mlir_sys::mlirRegisterTransformsPasses();
        mlir_sys::mlirRegisterConversionPasses();
        mlir_sys::mlirRegisterGPUPasses();
        mlir_sys::mlirRegisterMemRefPasses();
        mlir_sys::mlirRegisterSCFPasses();
        mlir_sys::mlirRegisterArithPasses();
        mlir_sys::mlirRegisterMathPasses();
        mlir_sys::mlirRegisterAffinePasses();
        mlir_sys::mlirRegisterLLVMPasses();
        mlir_sys::mlirRegisterFuncPasses();
    });
}

/// Creates a pass manager anchored on `builtin.module`.
pub fn module_pass_manager(context: &Context) -> PassManager<'_> {
    let anchor = StringRef::new("builtin.module");
    // SAFETY: the context outlives the pass manager (lifetime 'c).
    unsafe {
        PassManager::from_raw(mlir_sys::mlirPassManagerCreateOnOperation(
            context.to_raw(),
            anchor.to_raw(),
        ))
    }
}

/// Adds the pipeline `text` to `manager` (anchored on `builtin.module`).
/// The text is either `builtin.module(...)` or a bare list of elements.
pub fn build_pipeline(manager: &PassManager, text: &str) -> Result<(), PipelineError> {
    register_upstream_passes();
    let elements = parse(text)?;
    let root = manager.as_operation_pass_manager();
    match elements.as_slice() {
        [Element::Nest { anchor, elements }] if anchor == "builtin.module" => {
            add_elements(root, elements)
        }
        _ => add_elements(root, &elements),
    }
}

/// Adds one pass, by name, with its option text.
pub fn add_pass(
    manager: OperationPassManager,
    name: &str,
    options: &str,
) -> Result<(), PipelineError> {
    add_elements(
        manager,
        &[Element::Pass {
            name: name.to_string(),
            options: options.to_string(),
        }],
    )
}

fn add_elements(manager: OperationPassManager, elements: &[Element]) -> Result<(), PipelineError> {
    for element in elements {
        match element {
            Element::Nest { anchor, elements } => {
                add_elements(manager.nested_under(anchor), elements)?
            }
            Element::Pass { name, options } => match passes::lookup(name) {
                Some(info) => {
                    if !options.is_empty() {
                        return Err(PipelineError::Pass {
                            element: name.clone(),
                            message: "this pass takes no options".into(),
                        });
                    }
                    manager.add_pass((info.create)());
                }
                None => add_upstream(manager, name, options)?,
            },
        }
    }
    Ok(())
}

fn add_upstream(
    manager: OperationPassManager,
    name: &str,
    options: &str,
) -> Result<(), PipelineError> {
    let element = if options.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{options}}}")
    };
    let mut message = String::new();
    unsafe extern "C" fn collect(text: mlir_sys::MlirStringRef, data: *mut c_void) {
        // SAFETY: `data` is the `message` String below, alive for the call.
        let message = unsafe { &mut *(data as *mut String) };
        if text.length == 0 || text.data.is_null() {
            return;
        }
        let bytes = unsafe { std::slice::from_raw_parts(text.data as *const u8, text.length) };
        message.push_str(&String::from_utf8_lossy(bytes));
    }
    let text = StringRef::new(&element);
    // SAFETY: the manager is alive; `collect` only appends to `message`.
    let result = unsafe {
        mlir_sys::mlirOpPassManagerAddPipeline(
            manager.to_raw(),
            text.to_raw(),
            Some(collect),
            &mut message as *mut String as *mut c_void,
        )
    };
    if result.value == 0 {
        let message = message.trim().to_string();
        return Err(PipelineError::Pass {
            element,
            message: if message.is_empty() {
                "unknown pass or invalid options".into()
            } else {
                message
            },
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_pipelines_with_options() {
        let elements = parse("builtin.module(func.func(cse, canonicalize{max-iterations=3 test-convergence}), parla-verify)").unwrap();
        assert_eq!(
            elements,
            vec![Element::Nest {
                anchor: "builtin.module".into(),
                elements: vec![
                    Element::Nest {
                        anchor: "func.func".into(),
                        elements: vec![
                            Element::Pass {
                                name: "cse".into(),
                                options: "".into()
                            },
                            Element::Pass {
                                name: "canonicalize".into(),
                                options: "max-iterations=3 test-convergence".into()
                            },
                        ]
                    },
                    Element::Pass {
                        name: "parla-verify".into(),
                        options: "".into()
                    },
                ]
            }]
        );
    }

    #[test]
    fn keeps_braces_inside_quoted_options() {
        let elements = parse("nvvm-attach-target{chip=\"sm_90\" features=\"{x}\"}").unwrap();
        assert_eq!(
            elements,
            vec![Element::Pass {
                name: "nvvm-attach-target".into(),
                options: "chip=\"sm_90\" features=\"{x}\"".into()
            }]
        );
    }

    #[test]
    fn takes_any_whitespace_and_bounds_nesting() {
        assert_eq!(
            parse("builtin.module(cse,\u{a0}\u{3000}canonicalize)").unwrap(),
            parse("builtin.module(cse, canonicalize)").unwrap()
        );
        let deep = format!("{}cse{}", "a(".repeat(10_000), ")".repeat(10_000));
        assert!(matches!(
            parse(&deep),
            Err(PipelineError::Syntax { message, .. }) if message.contains("more than 256 levels")
        ));
    }

    #[test]
    fn reports_where_the_syntax_breaks() {
        let error = parse("builtin.module(cse").unwrap_err();
        match error {
            PipelineError::Syntax {
                offset, message, ..
            } => {
                assert_eq!(offset, 18);
                assert_eq!(message, "expected ')'");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(parse("cse,,canonicalize").is_err());
        assert!(parse("cse{a=1").is_err());
    }
}
