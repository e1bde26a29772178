//! Command-line options, parsed by hand: pass flags (`--canonicalize`,
//! `--parla-verify=...`) are open-ended, so they are collected in order
//! rather than declared.

use std::fmt::Write;

#[derive(Debug, Default)]
pub struct Options {
    pub input: Option<String>,
    pub output: Option<String>,
    pub pipeline: Option<String>,
    /// Individual pass flags, in command-line order: (name, options).
    pub passes: Vec<(String, String)>,
    pub split_input_file: bool,
    pub verify_diagnostics: bool,
    pub print_ir_after_all: bool,
    pub print_ir_before_all: bool,
    pub allow_unregistered_dialect: bool,
    pub help: bool,
    pub version: bool,
}

pub fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (flag, value) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_string(), Some(value.to_string())),
            None => (arg.clone(), None),
        };
        let no_value = |name: &str| -> Result<(), String> {
            match value {
                Some(_) => Err(format!("option '{name}' takes no value")),
                None => Ok(()),
            }
        };
        match flag.as_str() {
            "-h" | "--help" => options.help = true,
            "--version" => options.version = true,
            "--split-input-file" => {
                no_value(&flag)?;
                options.split_input_file = true
            }
            "--verify-diagnostics" => {
                no_value(&flag)?;
                options.verify_diagnostics = true
            }
            "--print-ir-after-all" | "--mlir-print-ir-after-all" => {
                no_value(&flag)?;
                options.print_ir_after_all = true
            }
            "--print-ir-before-all" | "--mlir-print-ir-before-all" => {
                no_value(&flag)?;
                options.print_ir_before_all = true
            }
            "--allow-unregistered-dialect" => {
                no_value(&flag)?;
                options.allow_unregistered_dialect = true
            }
            "--pass-pipeline" | "-p" => {
                let text = match value {
                    Some(v) => v,
                    None => args
                        .next()
                        .ok_or("option '--pass-pipeline' needs a value")?,
                };
                if options.pipeline.replace(text).is_some() {
                    return Err("option '--pass-pipeline' given twice".into());
                }
            }
            "-o" => {
                options.output = Some(args.next().ok_or("option '-o' needs a file name")?);
            }
            "-" => set_input(&mut options, arg)?,
            _ if flag.starts_with("--") => {
                let name = flag.trim_start_matches("--").to_string();
                let value = value.unwrap_or_default();
                let value = value.trim_matches('"').to_string();
                options.passes.push((name, value));
            }
            _ if flag.starts_with('-') => return Err(format!("unknown option '{arg}'")),
            _ => set_input(&mut options, arg)?,
        }
    }
    if options.pipeline.is_some() && !options.passes.is_empty() {
        return Err("give passes either with '--pass-pipeline' or as flags, not both".into());
    }
    Ok(options)
}

fn set_input(options: &mut Options, arg: String) -> Result<(), String> {
    if let Some(previous) = options.input.replace(arg) {
        return Err(format!(
            "more than one input file ('{previous}' and another)"
        ));
    }
    Ok(())
}

pub fn help() -> String {
    let mut text = String::from(
        "OVERVIEW: parla-opt: parses, verifies and transforms MLIR that uses the task, device and looppar dialects

USAGE: parla-opt [options] [input file (default: stdin)]

OPTIONS:
  -o <file>                     Write output to <file> (default: stdout)
  --pass-pipeline=<pipeline>    Run a textual pipeline, e.g. 'builtin.module(func.func(cse),parla-verify)'
  --<pass>[=<options>]          Run one pass (ours or upstream), in command-line order
  --split-input-file            Process each '// -----' chunk of the input separately
  --verify-diagnostics          Check diagnostics against 'expected-error' (etc.) comments
  --print-ir-after-all          Print the IR after each pass (to stderr)
  --print-ir-before-all         Print the IR before each pass (to stderr)
  --allow-unregistered-dialect  Accept ops of unknown dialects
  --version                     Print the version
  -h, --help                    Print this help

PASSES OF THIS PROJECT:
",
    );
    for info in parla_compiler::passes::PASSES {
        let _ = writeln!(text, "  --{:<28} {}", info.name, info.summary);
    }
    text.push_str(
        "\nUPSTREAM PASSES: the MLIR transforms, conversions and GPU passes are available by their
mlir-opt names (canonicalize, cse, convert-scf-to-cf, gpu-kernel-outlining, ...).

DIALECTS: task, device, looppar (ours); builtin, func, arith, math, memref, scf, cf, index,
gpu, llvm, nvvm, rocdl, vector (upstream).
",
    );
    text
}
