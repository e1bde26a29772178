//! parla-opt: the mlir-opt of this project.
//!
//! Reads IR (a file or stdin), verifies it against the upstream dialects
//! and ours, runs a pass pipeline, and prints the result. Exits non-zero
//! with the diagnostics on bad input.

mod cli;
mod expect;
mod split;

use parla_compiler::{
    diagnostics::{Capture, Message},
    pipeline, source,
};
use std::{
    io::{Read, Write},
    process::ExitCode,
};

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("parla-opt: {message}");
            ExitCode::from(2)
        }
    }
}

/// Ok(true): success; Ok(false): diagnostics were printed; Err: a usage or
/// I/O problem.
fn run() -> Result<bool, String> {
    let options = cli::parse(std::env::args().skip(1))?;
    if options.help {
        print!("{}", cli::help());
        return Ok(true);
    }
    if options.version {
        println!("parla-opt {} (MLIR 22)", env!("CARGO_PKG_VERSION"));
        return Ok(true);
    }
    let (name, text) = read_input(options.input.as_deref())?;

    pipeline::register_upstream_passes();
    let context = parla_dialects::create_context().map_err(|e| e.to_string())?;
    context.set_allow_unregistered_dialects(options.allow_unregistered_dialect);
    if options.print_ir_after_all || options.print_ir_before_all {
        // MLIR prints IR between passes only from a single thread.
        context.enable_multi_threading(false);
    }

    let mut outputs = Vec::new();
    let mut ok = true;
    for chunk in split::split(&text, options.split_input_file) {
        let mut expectations = if options.verify_diagnostics {
            Some(expect::parse(&chunk.text).map_err(|e| format!("{name}: {e}"))?)
        } else {
            None
        };
        let capture = Capture::new(&context);
        let result = process(&context, &options, &chunk.text, &name);
        let mut messages = capture.take();
        drop(capture);
        let output = match result {
            Ok(output) => Some(output),
            Err(mut failure) => {
                messages.append(&mut failure);
                None
            }
        };
        match expectations.as_mut() {
            Some(expectations) => {
                let problems = expect::check(&name, expectations, &messages);
                for problem in &problems {
                    eprintln!("{problem}");
                }
                ok &= problems.is_empty();
            }
            None => {
                for message in &messages {
                    print_message(message, &chunk.text);
                }
                ok &= output.is_some() && !messages.iter().any(is_error);
            }
        }
        if let Some(output) = output {
            outputs.push(output);
        }
    }
    write_output(options.output.as_deref(), &outputs.join("// -----\n"))?;
    Ok(ok)
}

fn is_error(message: &Message) -> bool {
    message.severity == parla_compiler::diagnostics::Severity::Error
}

/// Parses, verifies and transforms one chunk; returns the printed result.
fn process(
    context: &melior::Context,
    options: &cli::Options,
    text: &str,
    name: &str,
) -> Result<String, Vec<Message>> {
    let mut module = source::parse_module(context, text, name)?;
    if !parla_dialects::verify(&module.as_operation()) {
        return Err(Vec::new()); // the diagnostics were captured
    }
    let manager = pipeline::module_pass_manager(context);
    let built = match &options.pipeline {
        Some(text) => pipeline::build_pipeline(&manager, text),
        None => options.passes.iter().try_for_each(|(name, pass_options)| {
            pipeline::add_pass(manager.as_operation_pass_manager(), name, pass_options)
        }),
    };
    if let Err(error) = built {
        return Err(vec![usage_message(error.to_string())]);
    }
    if options.print_ir_after_all || options.print_ir_before_all {
        manager.enable_ir_printing(&melior::pass::PassIrPrintingOptions {
            before_all: options.print_ir_before_all,
            after_all: options.print_ir_after_all,
            module_scope: true,
            on_change: false,
            on_failure: false,
            flags: melior::ir::operation::OperationPrintingFlags::new(),
            tree_printing_path: Default::default(),
        });
    }
    if manager.run(&mut module).is_err() {
        return Err(Vec::new()); // the pass reported why
    }
    // Our rules hold after every pipeline, as MLIR's do.
    if !parla_dialects::verify(&module.as_operation()) {
        return Err(Vec::new());
    }
    Ok(format!("{}\n", module.as_operation()))
}

fn usage_message(text: String) -> Message {
    Message {
        severity: parla_compiler::diagnostics::Severity::Error,
        position: None,
        location: "parla-opt".into(),
        text,
        notes: Vec::new(),
    }
}

/// Prints a diagnostic as mlir-opt does: position, severity, text, then
/// the source line with a caret.
fn print_message(message: &Message, text: &str) {
    eprintln!("{}", header(message));
    print_source_line(message, text);
    for note in &message.notes {
        eprintln!("{}", header(note));
        print_source_line(note, text);
    }
}

fn header(message: &Message) -> String {
    let mut plain = message.clone();
    plain.notes.clear();
    plain.to_string()
}

fn print_source_line(message: &Message, text: &str) {
    let Some(position) = &message.position else {
        return;
    };
    if let Some(line) = text.lines().nth(position.line.saturating_sub(1) as usize) {
        eprintln!("{line}");
        // Built by hand: format's width stops at 65535 columns.
        let pad = " ".repeat(position.column.max(1) as usize - 1);
        eprintln!("{pad}^");
    }
}

fn read_input(input: Option<&str>) -> Result<(String, String), String> {
    match input {
        None | Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
            Ok(("<stdin>".into(), text))
        }
        Some(path) => std::fs::read_to_string(path)
            .map(|text| (path.to_string(), text))
            .map_err(|e| format!("cannot read '{path}': {e}")),
    }
}

fn write_output(output: Option<&str>, text: &str) -> Result<(), String> {
    match output {
        None | Some("-") => std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| format!("cannot write stdout: {e}")),
        Some(path) => std::fs::write(path, text).map_err(|e| format!("cannot write '{path}': {e}")),
    }
}
