//! Emits the `looppar`/`arith`/`math`/`memref` IR of one specialisation of
//! a JIT function: its arguments' types, shapes and scalar values, and the
//! parallel specification of the call.
//!
//! Locals live in stack slots (`memref.alloca`), which LLVM promotes to
//! registers; a local first assigned inside a parallel loop gets its slot
//! in that loop's body, so every iteration has its own. Reductions into an
//! array element (`y[i] += e` in a loop whose iterations all update the
//! same element) accumulate in a local and store once; in the outermost
//! parallel loop they are split into chunks combined with an atomic
//! update.

use super::ast::{
    BinaryOp, CompareOp, Expr, ExprKind, Function, Index, ShapeProperty, Stmt, StmtKind, UnaryOp,
};
use super::error::{CompileError, Source, Span};
use super::namespaces::FLOAT_FUNCTIONS;
use super::spec::{Argument, ArrayInfo, LabelSpec};
use super::types::{promote, DType, Ty};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

/// Parallel reductions in the outermost parallel loop are split into this
/// many chunks (a few per worker, for balance), each combined atomically.
const REDUCTION_CHUNKS: i64 = 64;

/// The emitted IR and the order of its memref parameters.
#[derive(Debug, Clone)]
pub struct Emitted {
    pub text: String,
    pub entry: String,
    /// With `debug`: the bounds checks; the entry then takes a
    /// `memref<1xi64>` error word as its first parameter.
    pub checks: Option<Vec<CheckSite>>,
    /// For each memref parameter: the argument path (parameter index, and
    /// dict key when inside a dict).
    pub arrays: Vec<(usize, Option<String>)>,
}

#[derive(Debug, Clone)]
struct Value {
    ssa: String,
    ty: Ty,
    /// Set for literals and specialised scalars: re-emitted at whatever
    /// type they are converted to.
    literal: Option<Literal>,
}

impl Value {
    /// A bool's value where it is known when compiling.
    fn known_truth(&self) -> Option<bool> {
        match (self.ty, self.literal) {
            (Ty::Bool | Ty::WeakBool, Some(Literal::Int(i))) => Some(i != 0),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Literal {
    Int(i64),
    Float(f64),
}

#[derive(Debug, Clone)]
enum Binding {
    Array {
        ssa: String,
        info: ArrayInfo,
    },
    Constant(Literal, Ty),
    Local {
        slot: String,
        ty: Ty,
    },
    /// A local that belongs to a parallel loop that has ended.
    Private {
        label: String,
    },
    LoopIndex {
        ssa: String,
    },
    Dict(HashMap<String, Binding>),
}

struct Frame<'f> {
    source: &'f Source,
    /// The key of this function in `callees` (empty for the function
    /// compiled): its calls resolve under it (see [`callee_key`]).
    key: String,
    bindings: HashMap<String, Binding>,
    /// Where the function is defined (in `source`): what tells a call of
    /// it again, under any name, from another function of its name.
    definition: Span,
    /// The locals its body assigns exactly once (see
    /// `constant_outside_loops`).
    assigned_once: HashSet<String>,
}

/// The names `body` assigns exactly once, as a local or a loop variable.
fn assigned_once(body: &[Stmt]) -> HashSet<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    crate::frontend::ast::for_each_statement(body, &mut |statement| {
        let name = match &statement.kind {
            StmtKind::Assign { target, .. } | StmtKind::AugAssign { target, .. } => {
                match &target.kind {
                    ExprKind::Var(name) => Some(name.as_str()),
                    _ => None,
                }
            }
            StmtKind::For { var, .. } => Some(var.as_str()),
            _ => None,
        };
        if let Some(name) = name {
            *counts.entry(name).or_default() += 1;
        }
    });
    counts
        .into_iter()
        .filter(|(_, n)| *n == 1)
        .map(|(name, _)| name.to_string())
        .collect()
}

/// The key in `callees` of the function that `name` calls from the
/// function with key `caller`: the name itself from the function
/// compiled, `caller/name` from a callee, since each resolves the names
/// it calls in its own module and scope (two modules' helpers may share
/// a name).
pub fn callee_key(caller: &str, name: &str) -> String {
    if caller.is_empty() {
        name.to_string()
    } else {
        format!("{caller}/{name}")
    }
}

struct AllocBlock {
    /// Where in `out` the slots of this block are inserted when it closes.
    position: usize,
    slots: String,
    /// Locals first assigned in this block, to hide when it closes.
    locals: Vec<String>,
    label: String,
}

/// What the emitted IR is for. The IR is the same `looppar` either way,
/// except where a strategy belongs to the target: an outermost parallel
/// reduction is chunked and combined atomically for CPU threads, and left
/// as a marked reduction loop for the GPU lowering (grid-stride partial
/// results, block reductions, one atomic per block).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Cpu,
    Gpu,
}

struct Emitter<'a> {
    target: Target,
    out: String,
    indent: usize,
    next: usize,
    frames: Vec<Frame<'a>>,
    alloc_blocks: Vec<AllocBlock>,
    spec: &'a HashMap<String, LabelSpec>,
    used_labels: HashSet<String>,
    /// Every label written in the function and its callees (for messages).
    written_labels: HashSet<String>,
    /// How many parallel loops enclose the current statement.
    parallel_depth: usize,
    /// The variables of the parallel loops around the code being emitted,
    /// outermost first.
    parallel_vars: Vec<String>,
    on_device: bool,
    /// The JIT functions the code calls, by [`callee_key`].
    callees: &'a HashMap<String, Function>,
    /// `debug=True`: every array access is checked against the array's
    /// bounds; a failing access stores its code (1 + its index in
    /// `checks`) into `%err` and is skipped.
    debug: bool,
    checks: Vec<CheckSite>,
    /// The i1 values among a statement's checks that compare the extents
    /// of its slices: failing, they are a shape mismatch, not an index
    /// out of bounds.
    shape_checks: HashSet<String>,
    /// The statement being emitted: ops get its location, so that passes
    /// report problems at the user's source.
    span: Span,
    /// Inside the `looppar.map` of a slice statement.
    map: Option<MapContext>,
    /// A Python int that met an integer type that cannot hold it (NumPy
    /// raises OverflowError): reported at the statement, once it is
    /// emitted, by `statement`.
    overflow: Option<(Span, String)>,
    /// How many branches around the code being emitted are never taken,
    /// their conditions known when compiling (`if k >= 0:` with `k`
    /// specialised to -1). Python never runs them, so what only running
    /// them would raise (a constant index out of bounds, a division by a
    /// literal zero) is no error there; the branch is still emitted and
    /// checked, and canonicalisation removes it.
    dead_code: usize,
    /// For each loop around the code being emitted, innermost last:
    /// whether its iterations may run in any order (see `Iterations`).
    any_order: Vec<bool>,
}

/// What a failed check stores into the error word: one check site's
/// code, or (a statement whose slices' extents are compared beside its
/// bounds) the shape mismatch's code when `shapes_ok` is false and else
/// the bounds'.
enum Failure {
    Code(usize),
    Chosen {
        shapes_ok: String,
        bounds: usize,
        shapes: usize,
    },
}

/// Where a check of `debug=True` is, and what it checks, to report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSite {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub source_line: String,
    pub kind: CheckKind,
}

/// What a failed check means: the error NumPy would raise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckKind {
    /// An index or a slice out of bounds (IndexError).
    Bounds,
    /// Slices of one statement whose extents differ (ValueError, as
    /// NumPy's broadcast).
    ShapeMismatch,
    /// `parir.min`/`parir.max` (`name`) of an empty slice (ValueError).
    EmptyReduction { name: String },
    /// An integer to a negative integer power (ValueError, as NumPy).
    NegativePower,
}

impl CheckKind {
    /// What failed, in words.
    pub fn failure(&self) -> String {
        match self {
            CheckKind::Bounds => "index out of bounds".to_string(),
            CheckKind::ShapeMismatch => {
                "shape mismatch: the slices of this statement have different extents".to_string()
            }
            CheckKind::NegativePower => {
                "integers to negative integer powers are not allowed".to_string()
            }
            CheckKind::EmptyReduction { name } => {
                format!(
                    "parir.{name} over an empty slice ({})",
                    empty_reduction(name)
                )
            }
        }
    }
}

/// NumPy's words for `min`/`max` (`name`) of an empty array.
fn empty_reduction(name: &str) -> String {
    let operation = if name == "min" { "minimum" } else { "maximum" };
    format!("zero-size array to reduction operation {operation} which has no identity")
}

type Result<T> = std::result::Result<T, CompileError>;

fn float_bits(value: f64, ty: DType) -> String {
    match ty {
        DType::F32 => format!("0x{:08X}", (value as f32).to_bits()),
        _ => format!("0x{:016X}", value.to_bits()),
    }
}

mod access;
mod choice;
mod expressions;
mod folding;
mod loops;
mod overlap;
mod reductions;
mod slices;
mod statements;
mod values;

use choice::Side;
use folding::*;
use reductions::*;
use slices::*;

/// Emits the specialisation of `function` for `arguments` under `spec`;
/// `callees` holds the JIT functions it calls, by [`callee_key`].
pub fn emit(
    function: &Function,
    callees: &HashMap<String, Function>,
    arguments: &[Argument],
    spec: &HashMap<String, LabelSpec>,
    target: Target,
    debug: bool,
) -> Result<Emitted> {
    super::stack::on_front_end_stack(|| {
        emit_function(function, callees, arguments, spec, target, debug)
    })
}

fn emit_function(
    function: &Function,
    callees: &HashMap<String, Function>,
    arguments: &[Argument],
    spec: &HashMap<String, LabelSpec>,
    target: Target,
    debug: bool,
) -> Result<Emitted> {
    let source = &function.source;
    if arguments.len() != function.params.len() {
        return Err(source.error(
            function.span,
            format!(
                "{}() takes {} argument(s), got {}",
                function.name,
                function.params.len(),
                arguments.len()
            ),
        ));
    }
    let mut emitter = Emitter {
        target,
        out: String::new(),
        indent: 1,
        next: 0,
        frames: Vec::new(),
        alloc_blocks: Vec::new(),
        spec,
        used_labels: HashSet::new(),
        written_labels: written_labels(function, callees),
        parallel_depth: 0,
        parallel_vars: Vec::new(),
        on_device: false,
        callees,
        debug,
        checks: Vec::new(),
        shape_checks: HashSet::new(),
        span: function.span,
        map: None,
        overflow: None,
        dead_code: 0,
        any_order: Vec::new(),
    };
    let mut params = Vec::new();
    if debug {
        params.push("%err: memref<1xi64>".to_string());
    }
    let mut arrays = Vec::new();
    let mut bindings = HashMap::new();
    for (index, (name, argument)) in function.params.iter().zip(arguments).enumerate() {
        // A value that is not a dict: a constant, or an array parameter.
        let mut leaf = |argument: &Argument, key: Option<&String>| match argument {
            Argument::Int(i) => Some(Binding::Constant(Literal::Int(*i), Ty::WeakInt)),
            Argument::Float(f) => Some(Binding::Constant(Literal::Float(*f), Ty::WeakFloat)),
            Argument::Bool(b) => Some(Binding::Constant(Literal::Int(i64::from(*b)), Ty::WeakBool)),
            Argument::Scalar(dtype, bits) => Some(scalar_binding(*dtype, *bits)),
            Argument::Array(info) => {
                let ssa = format!("%arg{}", arrays.len());
                params.push(format!("{ssa}: {}", info.memref()));
                arrays.push((index, key.cloned()));
                Some(Binding::Array {
                    ssa,
                    info: info.clone(),
                })
            }
            Argument::Alias(first, info) => {
                params.push(format!("%arg{}: {}", arrays.len(), info.memref()));
                arrays.push((index, key.cloned()));
                Some(Binding::Array {
                    ssa: format!("%arg{first}"),
                    info: info.clone(),
                })
            }
            Argument::Dict(_) => None,
        };
        let binding = match argument {
            Argument::Dict(entries) => {
                let mut map = HashMap::new();
                for (key, value) in entries {
                    let Some(binding) = leaf(value, Some(key)) else {
                        return Err(source.error(
                            function.span,
                            format!(
                                "the dict argument `{name}` holds a dict; dicts cannot be nested"
                            ),
                        ));
                    };
                    map.insert(key.clone(), binding);
                }
                Binding::Dict(map)
            }
            other => leaf(other, None).expect("not a dict"),
        };
        bindings.insert(name.clone(), binding);
    }
    emitter.frames.push(Frame {
        source,
        key: String::new(),
        bindings,
        definition: function.span,
        assigned_once: assigned_once(&function.body),
    });
    // The parallel specification, for the passes.
    let mut labels: Vec<&String> = spec.keys().collect();
    labels.sort();
    emitter.open_alloc_block("");
    for label in labels {
        let attributes = match spec[label] {
            LabelSpec::Threads {
                threads,
                tpb,
                reduce,
            } => {
                let mut a = format!("label = \"{label}\", threads = {threads} : i64");
                if let Some(tpb) = tpb {
                    let _ = write!(a, ", tpb = {tpb} : i64");
                }
                if reduce {
                    a.push_str(", reduce");
                }
                a
            }
            LabelSpec::Sequential => format!("label = \"{label}\", seq"),
        };
        emitter.line(&format!(
            "\"looppar.parallelize\"() {{{attributes}}} : () -> ()"
        ));
    }
    emitter.statements(&function.body)?;
    emitter.close_alloc_block();
    let mut unused: Vec<&String> = spec
        .keys()
        .filter(|l| !emitter.used_labels.contains(*l))
        .collect();
    unused.sort();
    if let Some(label) = unused.first() {
        return Err(source.error(
            function.span,
            format!(
                "the parallel specification names the label '{label}', which labels nothing in {}",
                function.name
            ),
        ));
    }
    let mut text = String::new();
    let _ = writeln!(
        text,
        "func.func @{}({}) {{",
        function.name,
        params.join(", ")
    );
    text.push_str(&emitter.out);
    text.push_str("  return\n}\n");
    let checks = debug.then(|| emitter.checks.clone());
    Ok(Emitted {
        text,
        entry: function.name.clone(),
        checks,
        arrays,
    })
}

fn scalar_binding(dtype: DType, bits: u64) -> Binding {
    let literal = match dtype {
        DType::F32 => Literal::Float(f32::from_bits(bits as u32) as f64),
        DType::F64 => Literal::Float(f64::from_bits(bits)),
        DType::I8 => Literal::Int(bits as u8 as i8 as i64),
        DType::I16 => Literal::Int(bits as u16 as i16 as i64),
        DType::I32 => Literal::Int(bits as u32 as i32 as i64),
        DType::Bool => Literal::Int((bits & 0xff != 0) as i64),
        DType::U8 => Literal::Int(bits as u8 as i64),
        DType::U16 => Literal::Int(bits as u16 as i64),
        DType::U32 => Literal::Int(bits as u32 as i64),
        _ => Literal::Int(bits as i64),
    };
    let ty = if dtype == DType::Bool {
        Ty::Bool
    } else {
        Ty::Num(dtype)
    };
    Binding::Constant(literal, ty)
}

/// The labels written before statements of `function` and of the
/// functions it may call.
fn written_labels(function: &Function, callees: &HashMap<String, Function>) -> HashSet<String> {
    let mut labels = HashSet::new();
    for body in std::iter::once(&function.body).chain(callees.values().map(|c| &c.body)) {
        crate::frontend::ast::for_each_statement(body, &mut |statement| {
            labels.extend(statement.labels.iter().cloned())
        });
    }
    labels
}
