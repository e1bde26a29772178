//! The native side of `parla.parir`: parsed JIT functions, their
//! specialisation cache, and calls of compiled kernels.

use crate::{
    arrays::{call_arguments, ArrayView, Location},
    gpu_call,
    specialisations::Specialisations,
};
use parla_compiler::{
    frontend::{
        self,
        syntax::{Node, Value},
        Argument, CheckKind, CheckSite, CompileError, LabelSpec, Namespace, Source,
    },
    gpu::{GpuExecutable, GpuTarget},
    jit::{MemrefArgument, PackedArguments},
    kernel::{self, CompileOptions, Kernel, KernelError},
    signature::{self, ArrayParameter},
};
use parla_runtime::gpu::{Gpu, Vendor};
use pyo3::{
    exceptions::{PyRuntimeError, PyTypeError, PyValueError},
    intern,
    prelude::*,
    sync::PyOnceLock,
    types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple},
};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

pyo3::create_exception!(
    parla,
    ReversedViews,
    pyo3::exceptions::PyException,
    "A call passed an array with a negative stride (see `JitFunction.call`)."
);

pub fn compile_error(py: Python<'_>, error: &CompileError) -> PyErr {
    let exception = py
        .import("parla.parir")
        .and_then(|m| m.getattr("CompileError"))
        .and_then(|class| {
            class.call1((
                error.to_string(),
                error.file.clone(),
                error.line,
                error.column,
                error.source_line.clone(),
            ))
        });
    match exception {
        Ok(value) => PyErr::from_value(value),
        Err(e) => e,
    }
}

pub(crate) fn kernel_error(py: Python<'_>, error: KernelError) -> PyErr {
    match error {
        KernelError::Compile(e) => compile_error(py, &e),
        KernelError::InvalidIr(text) => {
            PyValueError::new_err(format!("the IR does not parse or verify:\n{text}"))
        }
        KernelError::Jit(e) => PyValueError::new_err(format!("code generation failed: {e}")),
        KernelError::MissingLibrary(text) => PyRuntimeError::new_err(text),
        KernelError::UnsupportedTarget(text) | KernelError::BadEntry(text) => {
            PyValueError::new_err(text)
        }
    }
}

/// Python syntax data (nested tuples) to the compiler's syntax tree.
///
/// A loop over an explicit stack, not recursion: a long expression (a sum
/// of a thousand terms) nests deeper than a thread's stack would hold.
fn syntax_value(root: &Bound<'_, PyAny>) -> PyResult<Value> {
    let mut frames: Vec<SyntaxFrame> = Vec::new();
    // The next item to convert; None: the innermost open frame is done.
    let mut pending = Some(root.clone());
    loop {
        let converted = match pending.take() {
            Some(item) => match open_syntax(&item)? {
                Opened::Leaf(value) => Some(value),
                Opened::Frame(frame) => {
                    frames.push(frame);
                    None
                }
            },
            None => Some(frames.pop().expect("a list or node is open").finish()),
        };
        if let Some(value) = converted {
            match frames.last_mut() {
                Some(top) => top.values.push(value),
                None => return Ok(value),
            }
        }
        pending = frames
            .last_mut()
            .expect("a list or node is open")
            .items
            .next();
    }
}

/// A list or node of syntax data whose items are being converted.
struct SyntaxFrame<'py> {
    /// (kind, line, column, field names) of a node; None for a list.
    node: Option<(String, u32, u32, Vec<String>)>,
    items: std::vec::IntoIter<Bound<'py, PyAny>>,
    values: Vec<Value>,
}

impl SyntaxFrame<'_> {
    fn finish(self) -> Value {
        match self.node {
            None => Value::List(self.values),
            Some((kind, line, column, names)) => Value::Node(Box::new(Node {
                kind,
                line,
                column,
                fields: names.into_iter().zip(self.values).collect(),
            })),
        }
    }
}

enum Opened<'py> {
    Leaf(Value),
    Frame(SyntaxFrame<'py>),
}

/// One item of syntax data: a value, or a list or node to convert.
fn open_syntax<'py>(value: &Bound<'py, PyAny>) -> PyResult<Opened<'py>> {
    let leaf = if value.is_none() {
        Value::None
    } else if value.is_instance_of::<PyBool>() {
        Value::Bool(value.extract()?)
    } else if value.is_instance_of::<PyInt>() {
        match value.extract::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::BigInt(value.str()?.to_string()),
        }
    } else if value.is_instance_of::<PyFloat>() {
        Value::Float(value.extract()?)
    } else if let Ok(s) = value.cast::<PyString>() {
        Value::Str(s.to_str()?.to_string())
    } else if let Ok(list) = value.cast::<PyList>() {
        return Ok(Opened::Frame(SyntaxFrame {
            node: None,
            items: list.iter().collect::<Vec<_>>().into_iter(),
            values: Vec::new(),
        }));
    } else if let Ok(tuple) = value.cast::<PyTuple>() {
        // (kind, line, column, [(field, value), ...])
        let kind: String = tuple.get_item(0)?.extract()?;
        let line: u32 = tuple.get_item(1)?.extract()?;
        let column: u32 = tuple.get_item(2)?.extract()?;
        let mut names = Vec::new();
        let mut items = Vec::new();
        for pair in tuple.get_item(3)?.cast::<PyList>()?.iter() {
            let pair = pair.cast::<PyTuple>()?.clone();
            names.push(pair.get_item(0)?.extract::<String>()?);
            items.push(pair.get_item(1)?);
        }
        return Ok(Opened::Frame(SyntaxFrame {
            node: Some((kind, line, column, names)),
            items: items.into_iter(),
            values: Vec::new(),
        }));
    } else {
        // `_Other(kind)`: bytes, complex, Ellipsis, rejected later by name.
        let kind = value
            .getattr("kind")
            .and_then(|k| k.extract::<String>())
            .unwrap_or_else(|_| "this".to_string());
        Value::Other(kind)
    };
    Ok(Opened::Leaf(leaf))
}

/// The parallel specification from `parir.par({...})` options.
fn label_specs(options: &Bound<'_, PyAny>) -> PyResult<HashMap<String, LabelSpec>> {
    let mut specs = HashMap::new();
    if options.is_none() {
        return Ok(specs);
    }
    let py = options.py();
    let parallel = options.getattr(intern!(py, "parallelize"))?;
    let parallel = parallel
        .cast::<PyDict>()
        .map_err(|_| PyTypeError::new_err("opts.parallelize must be a dict"))?;
    for (label, spec) in parallel.iter() {
        let label: String = label
            .extract()
            .map_err(|_| PyTypeError::new_err("parallel specification keys are label strings"))?;
        let threads: Option<u64> = spec.getattr(intern!(py, "threads"))?.extract()?;
        let spec = match threads {
            None => LabelSpec::Sequential,
            Some(threads) => LabelSpec::Threads {
                threads,
                tpb: spec.getattr(intern!(py, "tpb_"))?.extract()?,
                reduce: spec.getattr(intern!(py, "reduce_"))?.extract()?,
            },
        };
        specs.insert(label, spec);
    }
    Ok(specs)
}

/// The cache key of a specialisation: the arguments as the compiler sees
/// them, the labels' specifications, and `stages` (debug builds), encoded
/// as bytes (floats by their bits, so that -0.0 and NaN specialise apart
/// and alike). Every call builds one: formatting them as text cost a
/// tenth of a warm call.
fn key_of(arguments: &[Argument], specs: &HashMap<String, LabelSpec>, stages: bool) -> Vec<u8> {
    fn text(out: &mut Vec<u8>, text: &str) {
        out.extend_from_slice(&(text.len() as u64).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    fn numbers(out: &mut Vec<u8>, values: &[i64]) {
        out.extend_from_slice(&(values.len() as u64).to_le_bytes());
        for value in values {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
    fn array(out: &mut Vec<u8>, info: &parla_compiler::frontend::spec::ArrayInfo) {
        out.push(info.dtype as u8);
        numbers(out, &info.shape);
        numbers(out, &info.strides);
    }
    fn encode(out: &mut Vec<u8>, argument: &Argument) {
        match argument {
            Argument::Int(v) => {
                out.push(0);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Argument::Float(v) => {
                out.push(1);
                out.extend_from_slice(&v.to_bits().to_le_bytes());
            }
            Argument::Bool(v) => out.extend_from_slice(&[2, *v as u8]),
            Argument::Scalar(dtype, bits) => {
                out.extend_from_slice(&[3, *dtype as u8]);
                out.extend_from_slice(&bits.to_le_bytes());
            }
            Argument::Array(info) => {
                out.push(4);
                array(out, info);
            }
            Argument::Dict(entries) => {
                out.push(5);
                out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
                for (key, value) in entries {
                    text(out, key);
                    encode(out, value);
                }
            }
            Argument::Alias(index, info) => {
                out.push(6);
                out.extend_from_slice(&(*index as u64).to_le_bytes());
                array(out, info);
            }
        }
    }
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&(arguments.len() as u64).to_le_bytes());
    for a in arguments {
        encode(&mut out, a);
    }
    let mut labels: Vec<_> = specs.iter().collect();
    labels.sort_by(|a, b| a.0.cmp(b.0));
    out.extend_from_slice(&(labels.len() as u64).to_le_bytes());
    for (label, spec) in labels {
        text(&mut out, label);
        match spec {
            LabelSpec::Threads {
                threads,
                tpb,
                reduce,
            } => {
                out.push(0);
                out.extend_from_slice(&threads.to_le_bytes());
                out.extend_from_slice(&tpb.map_or(0, |t| t + 1).to_le_bytes());
                out.push(*reduce as u8);
            }
            LabelSpec::Sequential => out.push(1),
        }
    }
    out.push(stages as u8);
    out
}

/// A parsed JIT function with its compiled specialisations.
#[pyclass(module = "parla.parir", frozen)]
pub struct ParsedFunction {
    function: Arc<frontend::Function>,
    /// Whether the body has a `with parir.gpu:` block, which needs no
    /// parallelism (asked on every call).
    has_device_block: bool,
    cache: Mutex<Specialisations<Kernel>>,
    gpu_cache: Mutex<Specialisations<GpuExecutable>>,
}

/// Which code a call runs.
enum Backend {
    Cpu,
    Gpu(Vendor),
}

/// The backend of a call: `opts.backend`, with 'auto' following the data
/// (and the current task's device).
fn backend_of(
    options: &Bound<'_, PyAny>,
    arrays: &[ArrayView],
    array_name: &dyn Fn(usize) -> String,
) -> PyResult<Backend> {
    let name = if options.is_none() {
        None
    } else {
        Some(options.getattr(intern!(options.py(), "backend"))?)
    };
    let name = match &name {
        Some(name) => name
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err("opts.backend must be a string"))?
            .to_str()?,
        None => "auto",
    };
    match name {
        "cpu" => {
            if let Some(index) = arrays
                .iter()
                .position(|a| matches!(a.location, Location::Gpu { .. }))
            {
                return Err(PyValueError::new_err(format!(
                    "{} is on a GPU, but backend='cpu' runs on the host; use backend='cuda' or 'auto'",
                    array_name(index)
                )));
            }
            Ok(Backend::Cpu)
        }
        "cuda" => Ok(Backend::Gpu(Vendor::Nvidia)),
        "rocm" => Ok(Backend::Gpu(Vendor::Amd)),
        _ if gpu_call::auto_picks_gpu(arrays) => Ok(Backend::Gpu(gpu_call::auto_vendor())),
        _ => Ok(Backend::Cpu),
    }
}

/// Where libdevice is (`parla.parir._libdevice()`, cached there): asked
/// only by GPU calls, so CPU calls do not pay for it.
fn libdevice(py: Python<'_>) -> PyResult<Option<String>> {
    static FIND: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    FIND.import(py, "parla.parir", "_libdevice")?
        .call0()?
        .extract()
}

/// The target of a call on `device`: `opts.arch` when given, else the
/// device's own.
fn gpu_target(py: Python<'_>, options: &Bound<'_, PyAny>, device: Gpu) -> PyResult<GpuTarget> {
    let arch: Option<String> = if options.is_none() {
        None
    } else {
        options.getattr(intern!(py, "arch"))?.extract()?
    };
    let chip = arch.unwrap_or_else(|| device.arch());
    Ok(match device.vendor() {
        Vendor::Nvidia => GpuTarget::Cuda {
            chip,
            libdevice: libdevice(py)?,
        },
        Vendor::Amd => GpuTarget::Rocm { chip },
    })
}

/// The target of GPU backend `name` ('cuda', 'rocm') for `chip`.
pub(crate) fn gpu_target_named(
    name: &str,
    chip: String,
    libdevice: Option<String>,
) -> PyResult<GpuTarget> {
    match name {
        "cuda" => Ok(GpuTarget::Cuda { chip, libdevice }),
        "rocm" => Ok(GpuTarget::Rocm { chip }),
        other => Err(PyValueError::new_err(format!(
            "no GPU backend named {other:?}"
        ))),
    }
}

fn callee_map(
    py: Python<'_>,
    callees: &Bound<'_, PyDict>,
) -> PyResult<HashMap<String, frontend::Function>> {
    let mut map = HashMap::new();
    for (name, parsed) in callees.iter() {
        let parsed = parsed.cast::<ParsedFunction>()?;
        map.insert(name.extract::<String>()?, (*parsed.get().function).clone());
    }
    let _ = py;
    Ok(map)
}

/// How messages name array `index` of a call: `x` for parameter x,
/// `d["k"]` for an entry of a dict parameter.
fn array_name(params: &[String], arguments: &[Argument], index: usize) -> String {
    let is_array = |a: &Argument| matches!(a, Argument::Array(_) | Argument::Alias(..));
    let mut names = params.iter().zip(arguments).flat_map(|(param, argument)| {
        let entries: Vec<String> = match argument {
            Argument::Dict(entries) => entries
                .iter()
                .filter(|(_, v)| is_array(v))
                .map(|(key, _)| format!("`{param}[\"{key}\"]`"))
                .collect(),
            a if is_array(a) => vec![format!("`{param}`")],
            _ => Vec::new(),
        };
        entries
    });
    names.nth(index).unwrap_or_else(|| positional_name(index))
}

/// The name of an array passed by position (code compiled from text).
pub fn positional_name(index: usize) -> String {
    format!("array argument {index}")
}

/// Runs a CPU kernel; `name` says how messages name each array.
fn run(
    py: Python<'_>,
    kernel: &Kernel,
    arrays: &[ArrayView],
    name: &dyn Fn(usize) -> String,
) -> PyResult<()> {
    if let Some(index) = arrays
        .iter()
        .position(|a| matches!(a.location, Location::Gpu { .. }))
    {
        return Err(PyValueError::new_err(format!(
            "{} is on a GPU, but this code runs on the host",
            name(index)
        )));
    }
    crate::arrays::check_arrays(
        arrays,
        &kernel.written,
        usize::from(kernel.checks.is_some()),
        name,
    )?;
    let mut packed = PackedArguments::with_capacity(arrays.len() * 7 + 5);
    let mut error = [0i64; 1];
    if kernel.checks.is_some() {
        packed.push_memref(&MemrefArgument {
            data: error.as_mut_ptr().cast(),
            offset: 0,
            sizes: vec![1],
            strides: vec![1],
        });
    }
    for view in arrays {
        packed.push_memref(&MemrefArgument {
            data: view.data,
            offset: 0,
            sizes: view.info.shape.clone(),
            strides: view.info.strides.clone(),
        });
    }
    let entry = kernel.entry;
    // The arrays stay alive: the caller holds their Python objects.
    let pointer = &mut packed as *mut PackedArguments as usize;
    py.detach(move || unsafe { (*(pointer as *mut PackedArguments)).call(entry) });
    failed_check(kernel.checks.as_deref(), error[0])
}

/// The error for error word `code` of a call with `checks` (0: every
/// check held): an IndexError for bounds, a ValueError for slices of
/// different extents and for the min/max of an empty slice, as NumPy
/// raises.
pub(crate) fn failed_check(checks: Option<&[CheckSite]>, code: i64) -> PyResult<()> {
    let Some(checks) = checks.filter(|_| code != 0) else {
        return Ok(());
    };
    let site = usize::try_from(code)
        .ok()
        .and_then(|c| checks.get(c.checked_sub(1)?));
    let Some(site) = site else {
        return Err(pyo3::exceptions::PyIndexError::new_err(format!(
            "index out of bounds (checked because debug=True; unknown check {code})"
        )));
    };
    let message = format!(
        "{}:{}:{}: {} (checked because debug=True)\n    {}",
        site.file,
        site.line,
        site.column,
        site.kind.failure(),
        site.source_line.trim()
    );
    Err(match site.kind {
        CheckKind::Bounds => pyo3::exceptions::PyIndexError::new_err(message),
        CheckKind::ShapeMismatch | CheckKind::EmptyReduction { .. } | CheckKind::NegativePower => {
            pyo3::exceptions::PyValueError::new_err(message)
        }
    })
}

impl ParsedFunction {
    fn call_on_cpu(
        &self,
        py: Python<'_>,
        arguments: &[Argument],
        arrays: &[ArrayView],
        specs: &HashMap<String, LabelSpec>,
        callees: &Bound<'_, PyDict>,
        debug: bool,
    ) -> PyResult<Option<Vec<(String, String, f64)>>> {
        let key = key_of(arguments, specs, debug);
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key);
        let kernel = match cached {
            Ok(kernel) => kernel,
            Err(generation) => {
                let callees = callee_map(py, callees)?;
                let function = self.function.clone();
                let options = CompileOptions {
                    opt_level: 3,
                    keep_stages: debug,
                    bounds_checks: debug,
                };
                let kernel = py
                    .detach(|| kernel::compile(&function, &callees, arguments, specs, options))
                    .map_err(|e| kernel_error(py, e))?;
                let kernel = Arc::new(kernel);
                self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(
                    key,
                    kernel.clone(),
                    generation,
                );
                kernel
            }
        };
        let name = |i| array_name(&self.function.params, arguments, i);
        run(py, &kernel, arrays, &name)?;
        Ok(debug.then(|| kernel.stages.clone()))
    }

    /// The executable of this specialisation for `target`, compiled once.
    fn gpu_executable(
        &self,
        py: Python<'_>,
        arguments: &[Argument],
        specs: &HashMap<String, LabelSpec>,
        callees: &Bound<'_, PyDict>,
        target: &GpuTarget,
        bounds_checks: bool,
    ) -> PyResult<Arc<GpuExecutable>> {
        let mut key = key_of(arguments, specs, bounds_checks);
        key.extend_from_slice(format!("{target:?}").as_bytes());
        let cached = self
            .gpu_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key);
        let generation = match cached {
            Ok(executable) => return Ok(executable),
            Err(generation) => generation,
        };
        let callees = callee_map(py, callees)?;
        let function = self.function.clone();
        let executable = py
            .detach(|| {
                parla_compiler::gpu::compile_executable(
                    &function,
                    &callees,
                    arguments,
                    specs,
                    target,
                    bounds_checks,
                )
            })
            .map_err(|e| kernel_error(py, e))?;
        let executable = Arc::new(executable);
        self.gpu_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, executable.clone(), generation);
        Ok(executable)
    }
}

#[pymethods]
impl ParsedFunction {
    /// Parses a function's syntax tree (see `parla/parir/_syntax.py`).
    #[new]
    fn new(
        py: Python<'_>,
        tree: &Bound<'_, PyAny>,
        file: String,
        lines: Vec<String>,
        module_names: Vec<(String, String)>,
        function_names: Vec<(String, String, String)>,
    ) -> PyResult<Self> {
        let Value::Node(node) = syntax_value(tree)? else {
            return Err(PyTypeError::new_err("expected a syntax tree"));
        };
        let module_names = module_names
            .into_iter()
            .map(|(name, module)| match Namespace::from_name(&module) {
                Some(namespace) => Ok((name, namespace)),
                None => Err(PyValueError::new_err(format!(
                    "no JIT namespace `{module}`"
                ))),
            })
            .collect::<PyResult<Vec<_>>>()?;
        let function_names = function_names
            .into_iter()
            .map(|(name, module, attr)| match Namespace::from_name(&module) {
                Some(namespace) => Ok((name, namespace, attr)),
                None => Err(PyValueError::new_err(format!(
                    "no JIT namespace `{module}`"
                ))),
            })
            .collect::<PyResult<Vec<_>>>()?;
        let source = Source { file, lines };
        let function = frontend::convert(&node, &source, &module_names, &function_names)
            .map_err(|e| compile_error(py, &e))?;
        let mut has_device_block = false;
        frontend::ast::for_each_statement(&function.body, &mut |statement| {
            has_device_block |= matches!(statement.kind, frontend::ast::StmtKind::OnDevice(_));
        });
        Ok(Self {
            function: Arc::new(function),
            has_device_block,
            cache: Mutex::new(Specialisations::bounded()),
            gpu_cache: Mutex::new(Specialisations::unbounded()),
        })
    }

    #[getter]
    fn name(&self) -> &str {
        &self.function.name
    }

    /// The names this function calls (to resolve JIT callees).
    fn called_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        frontend::ast::for_each_statement(&self.function.body, &mut |statement| {
            if let frontend::ast::StmtKind::Call(call) = &statement.kind {
                if let frontend::ast::ExprKind::Call { function, .. } = &call.kind {
                    names.push(function.clone());
                }
            }
        });
        names
    }

    /// Compiles (once per specialisation and target) and runs the function.
    #[pyo3(signature = (args, options, callees, debug = false))]
    fn call(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        options: &Bound<'_, PyAny>,
        callees: &Bound<'_, PyDict>,
        debug: bool,
    ) -> PyResult<Option<Vec<(String, String, f64)>>> {
        let (arguments, arrays) = call_arguments(args, &self.function.params)?;
        if arrays.iter().any(|a| {
            a.info
                .shape
                .iter()
                .zip(&a.info.strides)
                .any(|(n, s)| *n > 1 && *s < 0)
        }) {
            // The Python side passes such arrays as copies and calls again
            // (`parla.parir._with_positive_strides`): compiled code's index
            // arithmetic may not wrap below zero.
            return Err(ReversedViews::new_err(()));
        }
        let specs = label_specs(options)?;
        // Code written for one device thread (`with parir.gpu:`) needs no
        // parallelism; otherwise a call without any is a forgotten `opts`.
        if !self.has_device_block && !specs.values().any(LabelSpec::is_parallel) {
            return Err(PyValueError::new_err(format!(
                "{}() was called with no parallelism: pass opts=parir.par({{'label': parir.threads(n)}}) for a labelled loop, or seq=True to run it in Python",
                self.function.name
            )));
        }
        let name = |i| array_name(&self.function.params, &arguments, i);
        match backend_of(options, &arrays, &name)? {
            Backend::Cpu => self.call_on_cpu(py, &arguments, &arrays, &specs, callees, debug),
            Backend::Gpu(vendor) => {
                let placement = gpu_call::placement(&arrays, vendor)?;
                let target = gpu_target(py, options, placement.device)?;
                let executable =
                    self.gpu_executable(py, &arguments, &specs, callees, &target, debug)?;
                let name = |i| array_name(&self.function.params, &arguments, i);
                gpu_call::run(py, &executable, &arrays, &placement, &name)?;
                Ok(debug.then(|| executable.program.all_stages(target.code_stage())))
            }
        }
    }

    /// The IR of each stage for these arguments (compiling if needed).
    #[pyo3(signature = (args, options, callees, bounds_checks = false))]
    fn stages(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        options: &Bound<'_, PyAny>,
        callees: &Bound<'_, PyDict>,
        bounds_checks: bool,
    ) -> PyResult<Vec<(String, String, f64)>> {
        let (arguments, _) = call_arguments(args, &self.function.params)?;
        let specs = label_specs(options)?;
        let callees = callee_map(py, callees)?;
        let function = self.function.clone();
        let options = CompileOptions {
            opt_level: 3,
            keep_stages: true,
            bounds_checks,
        };
        let kernel = py
            .detach(|| kernel::compile(&function, &callees, &arguments, &specs, options))
            .map_err(|e| kernel_error(py, e))?;
        Ok(kernel.stages.clone())
    }

    /// How many specialisations are compiled.
    #[getter]
    fn cache_size(&self) -> usize {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).len()
            + self
                .gpu_cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .len()
    }

    /// The GPU stages for these arguments: `looppar`, `gpu` (kernels as
    /// `gpu.launch`), `host` (after outlining), and the device code (`ptx`
    /// or `amdgcn`).
    #[allow(clippy::too_many_arguments)] // the Python signature
    #[pyo3(signature = (args, options, callees, backend, chip, libdevice = None, bounds_checks = false))]
    fn gpu_stages(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        options: &Bound<'_, PyAny>,
        callees: &Bound<'_, PyDict>,
        backend: &str,
        chip: String,
        libdevice: Option<String>,
        bounds_checks: bool,
    ) -> PyResult<Vec<(String, String, f64)>> {
        let (arguments, _) = call_arguments(args, &self.function.params)?;
        let specs = label_specs(options)?;
        let callees = callee_map(py, callees)?;
        let target = gpu_target_named(backend, chip, libdevice)?;
        let function = self.function.clone();
        let program = py
            .detach(|| {
                parla_compiler::gpu::compile(
                    &function,
                    &callees,
                    &arguments,
                    &specs,
                    &target,
                    bounds_checks,
                )
            })
            .map_err(|e| kernel_error(py, e))?;
        Ok(program.all_stages(target.code_stage()))
    }

    /// Forgets every compiled specialisation.
    fn clear(&self) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.gpu_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// A kernel compiled from IR text by `compile_string`.
#[pyclass(module = "parla.parir", frozen)]
pub struct StringKernel {
    name: String,
    kernel: Kernel,
}

#[pymethods]
impl StringKernel {
    #[new]
    fn new(py: Python<'_>, name: String, code: String) -> PyResult<Self> {
        let kernel = py
            .detach(|| kernel::compile_ir(&code, &name, Vec::new(), CompileOptions::default()))
            .map_err(|e| kernel_error(py, e))?;
        Ok(Self { name, kernel })
    }

    /// Runs the kernel: its memref parameters take the array arguments in
    /// order (scalars were specialised into the code).
    fn __call__(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<()> {
        let (_, arrays) = call_arguments(args, &[])?;
        check_parameters(&self.name, self.kernel.parameters.as_deref(), &arrays)?;
        run(py, &self.kernel, &arrays, &positional_name)
    }
}

/// A ValueError when `arrays` do not fit code text's entry `name` (its
/// `parameters`): code compiled for other arrays would access memory
/// outside these.
pub(crate) fn check_parameters(
    name: &str,
    parameters: Option<&[ArrayParameter]>,
    arrays: &[ArrayView],
) -> PyResult<()> {
    let Some(parameters) = parameters else {
        return Ok(());
    };
    signature::check_call(name, parameters, arrays.iter().map(|a| &a.info))
        .map_err(PyValueError::new_err)
}
