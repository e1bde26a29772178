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

use super::ast::{BinaryOp, CompareOp, Expr, ExprKind, Function, Index, Stmt, StmtKind, UnaryOp};
use super::error::{CompileError, Source, Span};
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
    function: &'f str,
    bindings: HashMap<String, Binding>,
}

struct AllocBlock {
    /// Where in `out` the slots of this block are inserted when it closes.
    position: usize,
    slots: String,
    /// Locals first assigned in this block, to hide when it closes.
    locals: Vec<String>,
    label: String,
}

struct Emitter<'a> {
    out: String,
    indent: usize,
    next: usize,
    frames: Vec<Frame<'a>>,
    alloc_blocks: Vec<AllocBlock>,
    spec: &'a HashMap<String, LabelSpec>,
    used_labels: HashSet<String>,
    /// How many parallel loops enclose the current statement.
    parallel_depth: usize,
    on_device: bool,
    callees: &'a HashMap<String, Function>,
    /// `debug=True`: every array access is checked against the array's
    /// bounds; a failing access stores its code (1 + its index in
    /// `checks`) into `%err` and is skipped.
    debug: bool,
    checks: Vec<CheckSite>,
}

/// Where a bounds check is, to report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSite {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub source_line: String,
}

type Result<T> = std::result::Result<T, CompileError>;

fn float_bits(value: f64, ty: DType) -> String {
    match ty {
        DType::F32 => format!("0x{:08X}", (value as f32).to_bits()),
        _ => format!("0x{:016X}", value.to_bits()),
    }
}

impl<'a> Emitter<'a> {
    fn source(&self) -> &'a Source {
        self.frames.last().expect("a frame").source
    }

    fn error(&self, span: Span, message: impl Into<String>) -> CompileError {
        self.source().error(span, message)
    }

    fn fresh(&mut self) -> String {
        self.next += 1;
        format!("%v{}", self.next)
    }

    fn line(&mut self, text: &str) {
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn op(&mut self, text: &str) -> String {
        let ssa = self.fresh();
        self.line(&format!("{ssa} = {text}"));
        ssa
    }

    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.frames.last().and_then(|f| f.bindings.get(name))
    }

    fn bind(&mut self, name: &str, binding: Binding) -> Option<Binding> {
        self.frames
            .last_mut()
            .expect("a frame")
            .bindings
            .insert(name.to_string(), binding)
    }

    fn unbind(&mut self, name: &str, previous: Option<Binding>) {
        let bindings = &mut self.frames.last_mut().expect("a frame").bindings;
        match previous {
            Some(p) => {
                bindings.insert(name.to_string(), p);
            }
            None => {
                bindings.remove(name);
            }
        }
    }

    // ----- values and conversions -----

    fn constant(&mut self, literal: Literal, ty: Ty) -> Value {
        let mlir = ty.mlir();
        let ssa = match (literal, ty) {
            (Literal::Int(i), Ty::Bool) => self.op(&format!("arith.constant {} : i1", i != 0)),
            (Literal::Float(f), Ty::Bool) => self.op(&format!("arith.constant {} : i1", f != 0.0)),
            (Literal::Int(i), t) if t.is_float() => self.op(&format!(
                "arith.constant {} : {mlir}",
                float_bits(i as f64, t.dtype())
            )),
            (Literal::Float(f), t) if t.is_float() => self.op(&format!(
                "arith.constant {} : {mlir}",
                float_bits(f, t.dtype())
            )),
            (Literal::Int(i), _) => self.op(&format!("arith.constant {i} : {mlir}")),
            (Literal::Float(f), _) => self.op(&format!("arith.constant {} : {mlir}", f as i64)),
        };
        Value {
            ssa,
            ty,
            literal: Some(literal),
        }
    }

    fn literal(&mut self, literal: Literal, ty: Ty) -> Value {
        self.constant(literal, ty)
    }

    /// Converts `value` to type `to` (numeric casts, bools, indices).
    fn convert(&mut self, value: Value, to: Ty) -> Value {
        if value.ty == to {
            return value;
        }
        if let Some(literal) = value.literal {
            return self.constant(literal, to);
        }
        let from = value.ty;
        let v = &value.ssa;
        let ssa = match (from, to) {
            (Ty::Index, Ty::Bool) => {
                let zero = self.op("arith.constant 0 : index");
                self.op(&format!("arith.cmpi ne, {v}, {zero} : index"))
            }
            (Ty::Index, t) => {
                let as_i64 = self.op(&format!("arith.index_cast {v} : index to i64"));
                return self.convert(
                    Value {
                        ssa: as_i64,
                        ty: Ty::Num(DType::I64),
                        literal: None,
                    },
                    t,
                );
            }
            (f, Ty::Index) => {
                let as_i64 = self.convert(value.clone(), Ty::Num(DType::I64));
                let _ = f;
                self.op(&format!("arith.index_cast {} : i64 to index", as_i64.ssa))
            }
            (Ty::Bool, t) => {
                let dtype = t.dtype();
                if dtype.is_float() {
                    self.op(&format!("arith.uitofp {v} : i1 to {}", dtype.storage()))
                } else {
                    self.op(&format!("arith.extui {v} : i1 to {}", dtype.storage()))
                }
            }
            (f, Ty::Bool) => {
                let mlir = f.mlir();
                if f.is_float() {
                    let zero = self.op(&format!(
                        "arith.constant {} : {mlir}",
                        float_bits(0.0, f.dtype())
                    ));
                    self.op(&format!("arith.cmpf une, {v}, {zero} : {mlir}"))
                } else {
                    let zero = self.op(&format!("arith.constant 0 : {mlir}"));
                    self.op(&format!("arith.cmpi ne, {v}, {zero} : {mlir}"))
                }
            }
            (f, t) => {
                let (fd, td) = (f.dtype(), t.dtype());
                let (fm, tm) = (fd.storage(), td.storage());
                if fm == tm {
                    // Same storage (weak int → int64, signedness changes).
                    return Value {
                        ssa: value.ssa,
                        ty: to,
                        literal: None,
                    };
                }
                match (fd.is_float(), td.is_float()) {
                    (true, true) if fd.bits() < td.bits() => {
                        self.op(&format!("arith.extf {v} : {fm} to {tm}"))
                    }
                    (true, true) => self.op(&format!("arith.truncf {v} : {fm} to {tm}")),
                    (false, true) if fd.is_unsigned() => {
                        self.op(&format!("arith.uitofp {v} : {fm} to {tm}"))
                    }
                    (false, true) => self.op(&format!("arith.sitofp {v} : {fm} to {tm}")),
                    (true, false) if td.is_unsigned() => {
                        self.op(&format!("arith.fptoui {v} : {fm} to {tm}"))
                    }
                    (true, false) => self.op(&format!("arith.fptosi {v} : {fm} to {tm}")),
                    (false, false) if fd.bits() < td.bits() && fd.is_unsigned() => {
                        self.op(&format!("arith.extui {v} : {fm} to {tm}"))
                    }
                    (false, false) if fd.bits() < td.bits() => {
                        self.op(&format!("arith.extsi {v} : {fm} to {tm}"))
                    }
                    (false, false) => self.op(&format!("arith.trunci {v} : {fm} to {tm}")),
                }
            }
        };
        Value {
            ssa,
            ty: to,
            literal: None,
        }
    }

    /// Materialises weak types (a Python int is an int64 on its own).
    fn concrete(ty: Ty) -> Ty {
        match ty {
            Ty::WeakInt | Ty::Index => Ty::Num(DType::I64),
            Ty::WeakFloat => Ty::Num(DType::F64),
            other => other,
        }
    }

    fn to_bool(&mut self, value: Value) -> Value {
        self.convert(value, Ty::Bool)
    }

    // ----- expressions -----

    fn expr(&mut self, expr: &Expr) -> Result<Value> {
        match &expr.kind {
            ExprKind::Int(i) => Ok(self.literal(Literal::Int(*i), Ty::WeakInt)),
            ExprKind::Float(f) => Ok(self.literal(Literal::Float(*f), Ty::WeakFloat)),
            ExprKind::Bool(b) => Ok(self.literal(Literal::Int(*b as i64), Ty::Bool)),
            ExprKind::Inf => Ok(self.literal(Literal::Float(f64::INFINITY), Ty::WeakFloat)),
            ExprKind::Var(name) => self.variable(name, expr.span),
            ExprKind::DictEntry { dict, key } => {
                let binding = self.dict_entry(dict, key, expr.span)?;
                self.read_binding(&binding, &format!("{dict}[\"{key}\"]"), expr.span)
            }
            ExprKind::Subscript { base, indices } => {
                let (array, info) = self.array_of(base)?;
                let at = self.element_indices(&info, indices, expr.span)?;
                let ssa = self.load(&array, &info, &at, expr.span);
                let mut value = Value {
                    ssa,
                    ty: Ty::Num(info.dtype),
                    literal: None,
                };
                if info.dtype == DType::Bool {
                    let zero = self.op("arith.constant 0 : i8");
                    let ssa = self.op(&format!("arith.cmpi ne, {}, {zero} : i8", value.ssa));
                    value = Value {
                        ssa,
                        ty: Ty::Bool,
                        literal: None,
                    };
                }
                Ok(value)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let (l, r) = (self.expr(lhs)?, self.expr(rhs)?);
                self.binary(*op, l, r, expr.span)
            }
            ExprKind::Unary { op, operand } => {
                let value = self.expr(operand)?;
                match op {
                    UnaryOp::Plus => Ok(value),
                    UnaryOp::Not => {
                        let b = self.to_bool(value);
                        let t = self.op("arith.constant true");
                        let ssa = self.op(&format!("arith.xori {}, {t} : i1", b.ssa));
                        Ok(Value {
                            ssa,
                            ty: Ty::Bool,
                            literal: None,
                        })
                    }
                    UnaryOp::Neg => {
                        if let Some(literal) = value.literal {
                            let negated = match literal {
                                Literal::Int(i) => Literal::Int(i.wrapping_neg()),
                                Literal::Float(f) => Literal::Float(-f),
                            };
                            return Ok(self.constant(negated, value.ty));
                        }
                        if value.ty.is_float() {
                            let ssa =
                                self.op(&format!("arith.negf {} : {}", value.ssa, value.ty.mlir()));
                            Ok(Value {
                                ssa,
                                ty: value.ty,
                                literal: None,
                            })
                        } else {
                            let zero = self.literal(Literal::Int(0), value.ty);
                            self.binary(BinaryOp::Sub, zero, value, expr.span)
                        }
                    }
                    UnaryOp::Invert => {
                        if value.ty.is_float() {
                            return Err(self.error(expr.span, "~ needs an integer operand"));
                        }
                        let ty = Self::concrete(value.ty);
                        let v = self.convert(value, ty);
                        let ones = self.op(&format!("arith.constant -1 : {}", ty.mlir()));
                        let ssa = self.op(&format!("arith.xori {}, {ones} : {}", v.ssa, ty.mlir()));
                        Ok(Value {
                            ssa,
                            ty,
                            literal: None,
                        })
                    }
                }
            }
            ExprKind::Compare { op, lhs, rhs } => {
                let (l, r) = (self.expr(lhs)?, self.expr(rhs)?);
                Ok(self.compare(*op, l, r))
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                // Both sides are evaluated (JIT code has no side effects in
                // conditions).
                let (x, y) = (self.expr(a)?, self.expr(b)?);
                let (x, y) = (self.to_bool(x), self.to_bool(y));
                let op = if matches!(expr.kind, ExprKind::And(..)) {
                    "andi"
                } else {
                    "ori"
                };
                let ssa = self.op(&format!("arith.{op} {}, {} : i1", x.ssa, y.ssa));
                Ok(Value {
                    ssa,
                    ty: Ty::Bool,
                    literal: None,
                })
            }
            ExprKind::IfElse {
                condition,
                then,
                otherwise,
            } => {
                let c = self.expr(condition)?;
                let c = self.to_bool(c);
                let (t, e) = (self.expr(then)?, self.expr(otherwise)?);
                let ty = Self::concrete(promote(t.ty, e.ty));
                let ty = if t.ty == Ty::Bool && e.ty == Ty::Bool {
                    Ty::Bool
                } else {
                    ty
                };
                let (t, e) = (self.convert(t, ty), self.convert(e, ty));
                let ssa = self.op(&format!(
                    "arith.select {}, {}, {} : {}",
                    c.ssa,
                    t.ssa,
                    e.ssa,
                    ty.mlir()
                ));
                Ok(Value {
                    ssa,
                    ty,
                    literal: None,
                })
            }
            ExprKind::Builtin { name, args, axis } => self.builtin(name, args, *axis, expr.span),
            ExprKind::Call { function, .. } => Err(self.error(
                expr.span,
                format!(
                    "calls of JIT functions ({function}) are statements here; they return no value"
                ),
            )),
        }
    }

    fn variable(&mut self, name: &str, span: Span) -> Result<Value> {
        let binding = self.lookup(name).cloned().ok_or_else(|| {
            self.error(span, format!("`{name}` is not defined: JIT functions see their parameters and their own variables"))
        })?;
        self.read_binding(&binding, name, span)
    }

    fn read_binding(&mut self, binding: &Binding, name: &str, span: Span) -> Result<Value> {
        match binding {
            Binding::Constant(literal, ty) => Ok(self.constant(*literal, *ty)),
            Binding::LoopIndex { ssa } => Ok(Value { ssa: ssa.clone(), ty: Ty::Index, literal: None }),
            Binding::Local { slot, ty } => {
                let ssa = self.op(&format!("memref.load {slot}[] : memref<{}>", ty.mlir()));
                Ok(Value { ssa, ty: *ty, literal: None })
            }
            Binding::Array { ssa, info } if info.shape == [1] => {
                // A shape-(1,) array used as a value: an unspecialised scalar.
                let zero = self.op("arith.constant 0 : index");
                let loaded = self.op(&format!("memref.load {ssa}[{zero}] : {}", info.memref()));
                Ok(Value { ssa: loaded, ty: Ty::Num(info.dtype), literal: None })
            }
            Binding::Array { .. } => Err(self.error(
                span,
                format!("`{name}` is an array: index it (e.g. {name}[i]); slices belong in slice statements"),
            )),
            Binding::Private { label } => Err(self.error(
                span,
                format!("`{name}` is private to the parallel loop '{label}' (each iteration has its own) and cannot be used after it"),
            )),
            Binding::Dict(_) => Err(self.error(span, format!("`{name}` is a dict: use its entries, e.g. {name}[\"key\"]"))),
        }
    }

    fn dict_entry(&self, dict: &str, key: &str, span: Span) -> Result<Binding> {
        match self.lookup(dict) {
            Some(Binding::Dict(entries)) => entries
                .get(key)
                .cloned()
                .ok_or_else(|| self.error(span, format!("the dict `{dict}` has no key \"{key}\""))),
            Some(_) => Err(self.error(
                span,
                format!("`{dict}` is not a dict; strings index only dicts"),
            )),
            None => Err(self.error(span, format!("`{dict}` is not defined"))),
        }
    }

    fn array_of(&self, base: &Expr) -> Result<(String, ArrayInfo)> {
        let binding = match &base.kind {
            ExprKind::Var(name) => self
                .lookup(name)
                .cloned()
                .ok_or_else(|| self.error(base.span, format!("`{name}` is not defined")))?,
            ExprKind::DictEntry { dict, key } => self.dict_entry(dict, key, base.span)?,
            _ => return Err(self.error(base.span, "only array arguments can be indexed")),
        };
        match binding {
            Binding::Array { ssa, info } => Ok((ssa, info)),
            _ => Err(self.error(base.span, "only array arguments can be indexed")),
        }
    }

    /// The `index` values of a fully indexed element.
    fn element_indices(
        &mut self,
        info: &ArrayInfo,
        indices: &[Index],
        span: Span,
    ) -> Result<Vec<String>> {
        if indices.len() != info.shape.len() {
            return Err(self.error(
                span,
                format!(
                    "this array has {} dimension(s) and takes that many indices, got {}",
                    info.shape.len(),
                    indices.len()
                ),
            ));
        }
        let mut at = Vec::with_capacity(indices.len());
        for index in indices {
            match index {
                Index::At(expr) => {
                    let value = self.expr(expr)?;
                    if value.ty.is_float() || value.ty == Ty::Bool {
                        return Err(self.error(expr.span, format!("array indices are integers, got {}", value.ty.name())));
                    }
                    at.push(self.convert(value, Ty::Index).ssa);
                }
                Index::Slice(_, _, span) => {
                    return Err(self.error(
                        *span,
                        "a slice cannot be used as a value here: slices belong in slice statements such as a[:] = b[:]; \
                         to work on a row, pass an array and write a[:] = x[i, :]",
                    ))
                }
            }
        }
        Ok(at)
    }

    /// With `debug`, the i1 "every index is in bounds" of an access, and
    /// the code that reports it.
    fn check_bounds(
        &mut self,
        info: &ArrayInfo,
        at: &[String],
        span: Span,
    ) -> Option<(String, usize)> {
        if !self.debug {
            return None;
        }
        let mut ok: Option<String> = None;
        for (index, size) in at.iter().zip(&info.shape) {
            let bound = self.op(&format!("arith.constant {size} : index"));
            // Unsigned: a negative index is out of bounds too.
            let inside = self.op(&format!("arith.cmpi ult, {index}, {bound} : index"));
            ok = Some(match ok {
                None => inside,
                Some(previous) => self.op(&format!("arith.andi {previous}, {inside} : i1")),
            });
        }
        let source = self.source();
        self.checks.push(CheckSite {
            file: source.file.clone(),
            line: span.line,
            column: span.column,
            source_line: source
                .lines
                .get(span.line.saturating_sub(1) as usize)
                .cloned()
                .unwrap_or_default(),
        });
        let code = self.checks.len();
        ok.map(|ok| (ok, code))
    }

    fn report_failed_check(&mut self, code: usize) {
        let value = self.op(&format!("arith.constant {code} : i64"));
        let zero = self.op("arith.constant 0 : index");
        self.line(&format!(
            "memref.store {value}, %err[{zero}] : memref<1xi64>"
        ));
    }

    /// `memref.load`, guarded by a bounds check with `debug`.
    fn load(&mut self, array: &str, info: &ArrayInfo, at: &[String], span: Span) -> String {
        let load = format!("memref.load {array}[{}] : {}", at.join(", "), info.memref());
        match self.check_bounds(info, at, span) {
            None => self.op(&load),
            Some((ok, code)) => {
                let element = info.dtype.storage();
                let result = self.fresh();
                self.line(&format!("{result} = scf.if {ok} -> ({element}) {{"));
                self.indent += 1;
                let loaded = self.op(&load);
                self.line(&format!("scf.yield {loaded} : {element}"));
                self.indent -= 1;
                self.line("} else {");
                self.indent += 1;
                self.report_failed_check(code);
                let zero = if info.dtype.is_float() {
                    self.op(&format!(
                        "arith.constant {} : {element}",
                        float_bits(0.0, info.dtype)
                    ))
                } else {
                    self.op(&format!("arith.constant 0 : {element}"))
                };
                self.line(&format!("scf.yield {zero} : {element}"));
                self.indent -= 1;
                self.line("}");
                result
            }
        }
    }

    /// A store (or other access with no result) guarded with `debug`.
    fn guarded(&mut self, text: &str, info: &ArrayInfo, at: &[String], span: Span) {
        match self.check_bounds(info, at, span) {
            None => self.line(text),
            Some((ok, code)) => {
                self.line(&format!("scf.if {ok} {{"));
                self.indent += 1;
                self.line(text);
                self.indent -= 1;
                self.line("} else {");
                self.indent += 1;
                self.report_failed_check(code);
                self.indent -= 1;
                self.line("}");
            }
        }
    }

    fn binary(&mut self, op: BinaryOp, l: Value, r: Value, span: Span) -> Result<Value> {
        use BinaryOp::*;
        // Fold literal arithmetic on Python scalars.
        if let (Some(a), Some(b)) = (l.literal, r.literal) {
            if let Some(folded) = fold(op, a, b) {
                let ty = promote(l.ty, r.ty);
                let ty = if op == Div {
                    if ty.is_float() {
                        ty
                    } else {
                        Ty::WeakFloat
                    }
                } else {
                    ty
                };
                return Ok(self.constant(folded, ty));
            }
        }
        let mut ty = Self::concrete(promote(l.ty, r.ty));
        if op == Div && !ty.is_float() {
            ty = Ty::Num(DType::F64);
        }
        if op == Pow {
            if let (false, Some(Literal::Int(e))) = (ty.is_float(), r.literal) {
                if (0..=16).contains(&e) {
                    let base = self.convert(l, ty);
                    let mut result = self.constant(Literal::Int(1), ty);
                    for _ in 0..e {
                        result = self.binary(Mul, result, base.clone(), span)?;
                    }
                    return Ok(result);
                }
            }
            if !ty.is_float() {
                return Err(self.error(span, "integer powers need a constant exponent from 0 to 16; use a float base for others"));
            }
        }
        if matches!(op, BitAnd | BitOr | BitXor | LShift | RShift) && ty.is_float() {
            return Err(self.error(span, "bitwise operators need integer operands"));
        }
        let (a, b) = (self.convert(l, ty), self.convert(r, ty));
        let m = ty.mlir();
        let (x, y) = (&a.ssa, &b.ssa);
        let float = ty.is_float();
        let unsigned = ty.dtype().is_unsigned();
        let ssa = match op {
            Add => self.op(&format!(
                "arith.{} {x}, {y} : {m}",
                if float { "addf" } else { "addi" }
            )),
            Sub => self.op(&format!(
                "arith.{} {x}, {y} : {m}",
                if float { "subf" } else { "subi" }
            )),
            Mul => self.op(&format!(
                "arith.{} {x}, {y} : {m}",
                if float { "mulf" } else { "muli" }
            )),
            Div => self.op(&format!("arith.divf {x}, {y} : {m}")),
            FloorDiv if float => {
                let q = self.op(&format!("arith.divf {x}, {y} : {m}"));
                self.op(&format!("math.floor {q} : {m}"))
            }
            FloorDiv if unsigned => self.op(&format!("arith.divui {x}, {y} : {m}")),
            FloorDiv => self.op(&format!("arith.floordivsi {x}, {y} : {m}")),
            Mod if float => {
                // Python's sign convention: the result has the divisor's sign.
                let q = self.op(&format!("arith.divf {x}, {y} : {m}"));
                let f = self.op(&format!("math.floor {q} : {m}"));
                let p = self.op(&format!("arith.mulf {f}, {y} : {m}"));
                self.op(&format!("arith.subf {x}, {p} : {m}"))
            }
            Mod if unsigned => self.op(&format!("arith.remui {x}, {y} : {m}")),
            Mod => {
                let q = self.op(&format!("arith.floordivsi {x}, {y} : {m}"));
                let p = self.op(&format!("arith.muli {q}, {y} : {m}"));
                self.op(&format!("arith.subi {x}, {p} : {m}"))
            }
            Pow => self.op(&format!("math.powf {x}, {y} : {m}")),
            BitAnd => self.op(&format!("arith.andi {x}, {y} : {m}")),
            BitOr => self.op(&format!("arith.ori {x}, {y} : {m}")),
            BitXor => self.op(&format!("arith.xori {x}, {y} : {m}")),
            LShift => self.op(&format!("arith.shli {x}, {y} : {m}")),
            RShift if unsigned => self.op(&format!("arith.shrui {x}, {y} : {m}")),
            RShift => self.op(&format!("arith.shrsi {x}, {y} : {m}")),
        };
        Ok(Value {
            ssa,
            ty,
            literal: None,
        })
    }

    fn compare(&mut self, op: CompareOp, l: Value, r: Value) -> Value {
        let ty = if l.ty == Ty::Bool && r.ty == Ty::Bool {
            Ty::Bool
        } else {
            Self::concrete(promote(l.ty, r.ty))
        };
        let (a, b) = (self.convert(l, ty), self.convert(r, ty));
        let ssa = if ty.is_float() {
            let predicate = match op {
                CompareOp::Eq => "oeq",
                CompareOp::Ne => "une",
                CompareOp::Lt => "olt",
                CompareOp::Le => "ole",
                CompareOp::Gt => "ogt",
                CompareOp::Ge => "oge",
            };
            self.op(&format!(
                "arith.cmpf {predicate}, {}, {} : {}",
                a.ssa,
                b.ssa,
                ty.mlir()
            ))
        } else {
            let u = ty.dtype().is_unsigned();
            let predicate = match op {
                CompareOp::Eq => "eq",
                CompareOp::Ne => "ne",
                CompareOp::Lt if u => "ult",
                CompareOp::Le if u => "ule",
                CompareOp::Gt if u => "ugt",
                CompareOp::Ge if u => "uge",
                CompareOp::Lt => "slt",
                CompareOp::Le => "sle",
                CompareOp::Gt => "sgt",
                CompareOp::Ge => "sge",
            };
            self.op(&format!(
                "arith.cmpi {predicate}, {}, {} : {}",
                a.ssa,
                b.ssa,
                ty.mlir()
            ))
        };
        Value {
            ssa,
            ty: Ty::Bool,
            literal: None,
        }
    }

    fn builtin(
        &mut self,
        name: &str,
        args: &[Expr],
        axis: Option<i64>,
        span: Span,
    ) -> Result<Value> {
        if axis.is_some() || (matches!(name, "sum" | "prod") && args.len() == 1) {
            return Err(self.error(
                span,
                format!("parir.{name} over slices belongs in a slice statement, e.g. y[:] = parir.{name}(x[:, :], axis=1)"),
            ));
        }
        let values: Vec<Value> = args.iter().map(|a| self.expr(a)).collect::<Result<_>>()?;
        let arity = |n: usize| -> Result<()> {
            if values.len() != n {
                return Err(self.error(
                    span,
                    format!("{name}() takes {n} argument(s), got {}", values.len()),
                ));
            }
            Ok(())
        };
        if let Some(dtype) = DType::from_name(name) {
            arity(1)?;
            return Ok(self.convert(values[0].clone(), Ty::Num(dtype)));
        }
        match name {
            "min" | "max" => {
                if values.len() < 2 {
                    return Err(self.error(span, format!("{name}(a, b) takes at least two values; over a slice use parir.{name}(x[:])")));
                }
                let mut iter = values.into_iter();
                let mut result = iter.next().expect("two values");
                for next in iter {
                    let ty = Self::concrete(promote(result.ty, next.ty));
                    let (a, b) = (self.convert(result, ty), self.convert(next, ty));
                    let op = match (name, ty.is_float(), ty.dtype().is_unsigned()) {
                        ("min", true, _) => "minimumf",
                        ("max", true, _) => "maximumf",
                        ("min", false, true) => "minui",
                        ("max", false, true) => "maxui",
                        ("min", false, false) => "minsi",
                        _ => "maxsi",
                    };
                    let ssa = self.op(&format!("arith.{op} {}, {} : {}", a.ssa, b.ssa, ty.mlir()));
                    result = Value {
                        ssa,
                        ty,
                        literal: None,
                    };
                }
                Ok(result)
            }
            "abs" => {
                arity(1)?;
                let ty = Self::concrete(values[0].ty);
                let v = self.convert(values[0].clone(), ty);
                let op = if ty.is_float() {
                    "math.absf"
                } else {
                    "math.absi"
                };
                let ssa = self.op(&format!("{op} {} : {}", v.ssa, ty.mlir()));
                Ok(Value {
                    ssa,
                    ty,
                    literal: None,
                })
            }
            "exp" | "log" | "sqrt" | "sin" | "cos" | "tanh" => {
                arity(1)?;
                let ty = match Self::concrete(values[0].ty) {
                    t if t.is_float() => t,
                    _ => Ty::Num(DType::F64),
                };
                let v = self.convert(values[0].clone(), ty);
                let ssa = self.op(&format!("math.{name} {} : {}", v.ssa, ty.mlir()));
                Ok(Value {
                    ssa,
                    ty,
                    literal: None,
                })
            }
            "atan2" | "pow" => {
                arity(2)?;
                let ty = match Self::concrete(promote(values[0].ty, values[1].ty)) {
                    t if t.is_float() => t,
                    _ => Ty::Num(DType::F64),
                };
                let (a, b) = (
                    self.convert(values[0].clone(), ty),
                    self.convert(values[1].clone(), ty),
                );
                let op = if name == "pow" { "powf" } else { "atan2" };
                let ssa = self.op(&format!("math.{op} {}, {} : {}", a.ssa, b.ssa, ty.mlir()));
                Ok(Value {
                    ssa,
                    ty,
                    literal: None,
                })
            }
            _ => Err(self.error(span, format!("{name}() cannot be called in JIT functions"))),
        }
    }

    // ----- statements -----

    fn open_alloc_block(&mut self, label: &str) {
        self.alloc_blocks.push(AllocBlock {
            position: self.out.len(),
            slots: String::new(),
            locals: Vec::new(),
            label: label.to_string(),
        });
    }

    fn close_alloc_block(&mut self) {
        let block = self.alloc_blocks.pop().expect("an allocation block");
        self.out.insert_str(block.position, &block.slots);
        for local in block.locals {
            if !self.alloc_blocks.is_empty() {
                self.bind(
                    &local,
                    Binding::Private {
                        label: block.label.clone(),
                    },
                );
            }
        }
    }

    /// A stack slot for a new local, at the start of the innermost
    /// allocation block (the function, or the enclosing parallel loop).
    fn new_local(&mut self, name: &str, ty: Ty) -> String {
        let slot = self.fresh();
        let indent = "  ".repeat(self.indent.min(2));
        let block = self.alloc_blocks.last_mut().expect("an allocation block");
        let _ = writeln!(
            block.slots,
            "{indent}{slot} = memref.alloca() : memref<{}>",
            ty.mlir()
        );
        block.locals.push(name.to_string());
        self.bind(
            name,
            Binding::Local {
                slot: slot.clone(),
                ty,
            },
        );
        slot
    }

    fn store_local(&mut self, name: &str, value: Value, span: Span) -> Result<()> {
        match self.lookup(name).cloned() {
            Some(Binding::Local { slot, ty }) => {
                if value.ty.is_float() && !ty.is_float() && value.ty != Ty::Bool {
                    return Err(self.error(
                        span,
                        format!("`{name}` holds {} values; assigning a {} would lose its fraction (convert with int())", ty.name(), value.ty.name()),
                    ));
                }
                let v = self.convert(value, ty);
                self.line(&format!(
                    "memref.store {}, {slot}[] : memref<{}>",
                    v.ssa,
                    ty.mlir()
                ));
                Ok(())
            }
            None | Some(Binding::Private { .. }) => {
                let ty = Self::concrete(value.ty);
                let v = self.convert(value, ty);
                let slot = self.new_local(name, ty);
                self.line(&format!(
                    "memref.store {}, {slot}[] : memref<{}>",
                    v.ssa,
                    ty.mlir()
                ));
                Ok(())
            }
            Some(_) => Err(self.error(
                span,
                format!("`{name}` is a parameter or loop variable and cannot be assigned"),
            )),
        }
    }

    fn store_element(
        &mut self,
        base: &Expr,
        indices: &[Index],
        value: Value,
        span: Span,
    ) -> Result<()> {
        let (array, info) = self.array_of(base)?;
        let at = self.element_indices(&info, indices, span)?;
        let v = if info.dtype == DType::Bool {
            let b = self.to_bool(value);
            self.convert(b, Ty::Num(DType::U8))
        } else {
            self.convert(value, Ty::Num(info.dtype))
        };
        let store = format!(
            "memref.store {}, {array}[{}] : {}",
            v.ssa,
            at.join(", "),
            info.memref()
        );
        self.guarded(&store, &info, &at, span);
        Ok(())
    }

    fn check_placement(&self, statement: &Stmt) -> Result<()> {
        let is_loop = matches!(
            statement.kind,
            StmtKind::For { .. } | StmtKind::While { .. } | StmtKind::Pass | StmtKind::OnDevice(_)
        );
        if self.parallel_depth == 0
            && !self.on_device
            && !is_loop
            && !self.is_slice_statement(statement)
        {
            return Err(self.error(
                statement.span,
                "this statement would run outside every parallel loop, which JIT functions reject; \
                 put it in a parallel loop, or wrap the function body in `with parir.gpu:` to run it sequentially",
            ));
        }
        Ok(())
    }

    fn is_slice_statement(&self, statement: &Stmt) -> bool {
        match &statement.kind {
            StmtKind::Assign { target, value } | StmtKind::AugAssign { target, value, .. } => {
                has_slices(target) || !reduction_calls(value).is_empty()
            }
            _ => false,
        }
    }

    fn statements(&mut self, statements: &[Stmt]) -> Result<()> {
        for statement in statements {
            self.statement(statement)?;
        }
        Ok(())
    }

    fn statement(&mut self, statement: &Stmt) -> Result<()> {
        if !matches!(statement.kind, StmtKind::For { .. }) && !self.is_slice_statement(statement) {
            if let Some(label) = statement.labels.first() {
                return Err(self.error(
                    statement.span,
                    format!(
                        "the label '{label}' must be followed by a for loop or a slice statement"
                    ),
                ));
            }
        }
        self.check_placement(statement)?;
        match &statement.kind {
            StmtKind::Pass => Ok(()),
            StmtKind::For {
                var,
                start,
                stop,
                step,
                body,
            } => self.for_loop(statement, var, start, stop, step, body),
            StmtKind::While { condition, body } => self.while_loop(condition, body),
            StmtKind::If {
                condition,
                then,
                otherwise,
            } => {
                let c = self.expr(condition)?;
                let c = self.to_bool(c);
                self.line(&format!("scf.if {} {{", c.ssa));
                self.indent += 1;
                self.statements(then)?;
                self.indent -= 1;
                if otherwise.is_empty() {
                    self.line("}");
                } else {
                    self.line("} else {");
                    self.indent += 1;
                    self.statements(otherwise)?;
                    self.indent -= 1;
                    self.line("}");
                }
                Ok(())
            }
            StmtKind::Assign { target, value } => {
                if self.is_slice_statement(statement) {
                    return self.slice_statement(statement, target, None, value);
                }
                let v = self.expr(value)?;
                self.assign(target, v)
            }
            StmtKind::AugAssign { target, op, value } => {
                if self.is_slice_statement(statement) {
                    return self.slice_statement(statement, target, Some(*op), value);
                }
                let current = self.expr(target)?;
                let v = self.expr(value)?;
                let result = self.binary(*op, current, v, statement.span)?;
                self.assign(target, result)
            }
            StmtKind::OnDevice(body) => {
                if self.on_device {
                    return Err(
                        self.error(statement.span, "`with parir.gpu:` blocks cannot be nested")
                    );
                }
                self.line("\"looppar.on_device\"() ({");
                self.indent += 1;
                self.on_device = true;
                self.statements(body)?;
                self.on_device = false;
                self.line("\"looppar.yield\"() : () -> ()");
                self.indent -= 1;
                self.line("}) : () -> ()");
                Ok(())
            }
            StmtKind::Call(call) => self.inline_call(call),
        }
    }

    fn assign(&mut self, target: &Expr, value: Value) -> Result<()> {
        match &target.kind {
            ExprKind::Var(name) => self.store_local(name, value, target.span),
            ExprKind::Subscript { base, indices } => {
                self.store_element(base, indices, value, target.span)
            }
            ExprKind::DictEntry { .. } => Err(self.error(
                target.span,
                "dict entries cannot be assigned; write into an array entry instead",
            )),
            _ => Err(self.error(target.span, "cannot assign to this expression")),
        }
    }

    /// The constant step of a range, or an error.
    fn constant_step(&mut self, step: &Expr) -> Result<i64> {
        let value = self.expr(step)?;
        match value.literal {
            Some(Literal::Int(0)) => Err(self.error(step.span, "range() step must not be zero")),
            Some(Literal::Int(s)) => Ok(s),
            _ => Err(self.error(
                step.span,
                "range() needs a constant step (an int literal or int argument)",
            )),
        }
    }

    fn label_spec(&mut self, statement: &Stmt) -> Option<(String, LabelSpec)> {
        let label = statement.labels.first()?.clone();
        self.used_labels.insert(label.clone());
        let spec = self.spec.get(&label).copied();
        spec.map(|s| (label, s))
    }

    fn index_value(&mut self, expr: &Expr) -> Result<Value> {
        let v = self.expr(expr)?;
        if v.ty.is_float() {
            return Err(self.error(
                expr.span,
                format!("range() takes integers, got {}", v.ty.name()),
            ));
        }
        Ok(self.convert(v, Ty::Num(DType::I64)))
    }

    /// The number of iterations of `range(start, stop, step)` (i64, >= 0).
    fn trip_count(&mut self, start: &Value, stop: &Value, step: i64) -> String {
        // ceil((stop - start) / step), clamped at zero.
        let span = self.op(&format!("arith.subi {}, {} : i64", stop.ssa, start.ssa));
        let s = self.op(&format!("arith.constant {step} : i64"));
        let adjust = self.op(&format!(
            "arith.constant {} : i64",
            if step > 0 { step - 1 } else { step + 1 }
        ));
        let biased = self.op(&format!("arith.addi {span}, {adjust} : i64"));
        let trips = self.op(&format!("arith.divsi {biased}, {s} : i64"));
        let zero = self.op("arith.constant 0 : i64");
        self.op(&format!("arith.maxsi {trips}, {zero} : i64"))
    }

    fn for_loop(
        &mut self,
        statement: &Stmt,
        var: &str,
        start: &Expr,
        stop: &Expr,
        step: &Expr,
        body: &[Stmt],
    ) -> Result<()> {
        let step = self.constant_step(step)?;
        let labelled = self.label_spec(statement);
        let parallel = labelled.as_ref().is_some_and(|(_, s)| s.is_parallel());
        let reduce = labelled.as_ref().is_some_and(|(_, s)| s.reduces());
        let start_value = self.index_value(start)?;
        let stop_value = self.index_value(stop)?;
        let trips = self.trip_count(&start_value, &stop_value, step);

        // A loop (nest) whose body only updates one element, the same in
        // every iteration: accumulate in a local and store once.
        let reduction = find_reduction(var, body);
        if reduce && reduction.is_none() {
            return Err(self.error(
                statement.span,
                format!(
                    "the loop labelled '{}' is a reduction (.reduce()), so its body must be one update of one array element, \
                     the same in every iteration: a[...] += expr (or *=, or a[...] = max(a[...], expr))",
                    labelled.as_ref().map(|(l, _)| l.as_str()).unwrap_or("")
                ),
            ));
        }
        if let (Some(reduction), true) = (&reduction, parallel && self.parallel_depth == 0) {
            return self.parallel_reduction(
                labelled.expect("labelled").0,
                var,
                &start_value,
                step,
                &trips,
                reduction,
            );
        }
        // Sequential loops, and parallel loops nested in another parallel
        // loop (which run sequentially on a CPU), accumulate in a local.
        let accumulator = match &reduction {
            Some(r) => Some(self.begin_accumulation(&r.reduction)?),
            None => None,
        };
        let label = statement.labels.first().cloned();
        self.counted_loop(&trips, label.as_deref(), parallel, |this, k| {
            let induction = this.induction(k, &start_value, step);
            let previous = this.bind(var, Binding::LoopIndex { ssa: induction });
            let result = match (&accumulator, &reduction) {
                (Some(slot), Some(r)) => this.accumulate_nest(slot, &r.loops, &r.reduction),
                _ => this.statements(body),
            };
            this.unbind(var, previous);
            result
        })?;
        if let Some(slot) = &accumulator {
            self.end_accumulation(slot)?;
        }
        Ok(())
    }

    /// `looppar.for` over `0..trips` (an i64 SSA value); `body` gets the
    /// iteration number (an index).
    fn counted_loop(
        &mut self,
        trips: &str,
        label: Option<&str>,
        parallel: bool,
        body: impl FnOnce(&mut Self, &str) -> Result<()>,
    ) -> Result<()> {
        let zero = self.op("arith.constant 0 : index");
        let one = self.op("arith.constant 1 : index");
        let upper = self.op(&format!("arith.index_cast {trips} : i64 to index"));
        self.range_loop(&zero, &upper, &one, label, parallel, body)
    }

    fn range_loop(
        &mut self,
        lower: &str,
        upper: &str,
        one: &str,
        label: Option<&str>,
        parallel: bool,
        body: impl FnOnce(&mut Self, &str) -> Result<()>,
    ) -> Result<()> {
        let k = self.fresh();
        self.line(&format!("\"looppar.for\"({lower}, {upper}, {one}) ({{"));
        self.line(&format!("^bb0({k}: index):"));
        self.indent += 1;
        if parallel {
            self.parallel_depth += 1;
            self.open_alloc_block(label.unwrap_or(""));
        }
        let result = body(self, &k);
        if parallel {
            self.close_alloc_block();
            self.parallel_depth -= 1;
        }
        result?;
        self.line("\"looppar.yield\"() : () -> ()");
        self.indent -= 1;
        let attributes = label
            .map(|l| format!(" {{label = \"{l}\"}}"))
            .unwrap_or_default();
        self.line(&format!("}}){attributes} : (index, index, index) -> ()"));
        Ok(())
    }

    /// The inner loops of a reduction nest (sequential) around the update
    /// of the accumulator.
    fn accumulate_nest(
        &mut self,
        accumulator: &Accumulator,
        loops: &[(String, Expr, Expr, Expr, Vec<String>)],
        reduction: &Reduction,
    ) -> Result<()> {
        let Some(((var, start, stop, step, labels), rest)) = loops.split_first() else {
            return self.accumulate(accumulator, reduction);
        };
        for label in labels {
            self.used_labels.insert(label.clone());
        }
        let step = self.constant_step(step)?;
        let start = self.index_value(start)?;
        let stop = self.index_value(stop)?;
        let trips = self.trip_count(&start, &stop, step);
        self.counted_loop(
            &trips,
            labels.first().map(String::as_str),
            false,
            |this, k| {
                let induction = this.induction(k, &start, step);
                let previous = this.bind(var, Binding::LoopIndex { ssa: induction });
                let result = this.accumulate_nest(accumulator, rest, reduction);
                this.unbind(var, previous);
                result
            },
        )
    }

    /// `start + k * step` as an index.
    fn induction(&mut self, k: &str, start: &Value, step: i64) -> String {
        let k64 = self.op(&format!("arith.index_cast {k} : index to i64"));
        let s = self.op(&format!("arith.constant {step} : i64"));
        let scaled = self.op(&format!("arith.muli {k64}, {s} : i64"));
        let i = self.op(&format!("arith.addi {}, {scaled} : i64", start.ssa));
        self.op(&format!("arith.index_cast {i} : i64 to index"))
    }

    fn begin_accumulation(&mut self, reduction: &Reduction) -> Result<Accumulator> {
        let (array, info) = self.array_of(&reduction.base)?;
        let at = self.element_indices(&info, &reduction.indices, reduction.span)?;
        let ty = Ty::Num(info.dtype);
        let slot = self.fresh();
        let block = self.alloc_blocks.last_mut().expect("an allocation block");
        let _ = writeln!(
            block.slots,
            "  {slot} = memref.alloca() : memref<{}>",
            ty.mlir()
        );
        let current = self.load(&array, &info, &at, reduction.span);
        self.line(&format!(
            "memref.store {current}, {slot}[] : memref<{}>",
            ty.mlir()
        ));
        Ok(Accumulator {
            slot,
            ty,
            array,
            info,
            at,
            span: reduction.span,
        })
    }

    fn accumulate(&mut self, accumulator: &Accumulator, reduction: &Reduction) -> Result<()> {
        let current = self.op(&format!(
            "memref.load {}[] : memref<{}>",
            accumulator.slot,
            accumulator.ty.mlir()
        ));
        let current = Value {
            ssa: current,
            ty: accumulator.ty,
            literal: None,
        };
        let value = self.expr(&reduction.value)?;
        let combined = self.combine(reduction.kind, current, value, reduction.span)?;
        let combined = self.convert(combined, accumulator.ty);
        self.line(&format!(
            "memref.store {}, {}[] : memref<{}>",
            combined.ssa,
            accumulator.slot,
            accumulator.ty.mlir()
        ));
        Ok(())
    }

    fn end_accumulation(&mut self, accumulator: &Accumulator) -> Result<()> {
        let value = self.op(&format!(
            "memref.load {}[] : memref<{}>",
            accumulator.slot,
            accumulator.ty.mlir()
        ));
        let store = format!(
            "memref.store {value}, {}[{}] : {}",
            accumulator.array,
            accumulator.at.join(", "),
            accumulator.info.memref()
        );
        self.guarded(&store, &accumulator.info, &accumulator.at, accumulator.span);
        Ok(())
    }

    fn combine(
        &mut self,
        kind: ReductionKind,
        current: Value,
        value: Value,
        span: Span,
    ) -> Result<Value> {
        let result = match kind {
            // A reduction may combine in any order (parallel chunks already
            // do): let LLVM reassociate, which vectorises the loop.
            ReductionKind::Add | ReductionKind::Mul if current.ty.is_float() => {
                let ty = current.ty;
                let v = self.convert(value, ty);
                let op = if kind == ReductionKind::Add {
                    "addf"
                } else {
                    "mulf"
                };
                let ssa = self.op(&format!(
                    "arith.{op} {}, {} fastmath<reassoc> : {}",
                    current.ssa,
                    v.ssa,
                    ty.mlir()
                ));
                Value {
                    ssa,
                    ty,
                    literal: None,
                }
            }
            ReductionKind::Add => self.binary(BinaryOp::Add, current, value, span)?,
            ReductionKind::Mul => self.binary(BinaryOp::Mul, current, value, span)?,
            ReductionKind::Min | ReductionKind::Max => {
                let ty = current.ty;
                let v = self.convert(value, ty);
                let float = ty.is_float();
                let unsigned = ty.dtype().is_unsigned();
                let op = match (kind, float, unsigned) {
                    (ReductionKind::Min, true, _) => "minimumf",
                    (ReductionKind::Max, true, _) => "maximumf",
                    (ReductionKind::Min, false, true) => "minui",
                    (ReductionKind::Max, false, true) => "maxui",
                    (ReductionKind::Min, false, false) => "minsi",
                    _ => "maxsi",
                };
                let ssa = self.op(&format!(
                    "arith.{op} {}, {} : {}",
                    current.ssa,
                    v.ssa,
                    ty.mlir()
                ));
                Value {
                    ssa,
                    ty,
                    literal: None,
                }
            }
        };
        Ok(result)
    }

    /// The outermost parallel loop is a reduction: split the iterations
    /// into chunks, reduce each chunk in a private accumulator, and combine
    /// the chunks atomically into the element.
    fn parallel_reduction(
        &mut self,
        label: String,
        var: &str,
        start: &Value,
        step: i64,
        trips: &str,
        nested: &NestedReduction,
    ) -> Result<()> {
        let reduction = &nested.reduction;
        let (array, info) = self.array_of(&reduction.base)?;
        let ty = Ty::Num(info.dtype);
        let chunks = self.op(&format!("arith.constant {REDUCTION_CHUNKS} : i64"));
        let bias = self.op(&format!("arith.constant {} : i64", REDUCTION_CHUNKS - 1));
        let biased = self.op(&format!("arith.addi {trips}, {bias} : i64"));
        let chunk_length = self.op(&format!("arith.divsi {biased}, {chunks} : i64"));
        let zero = self.op("arith.constant 0 : index");
        let one = self.op("arith.constant 1 : index");
        let count = self.op(&format!("arith.constant {REDUCTION_CHUNKS} : index"));
        let (array_c, info_c) = (array.clone(), info.clone());
        self.range_loop(&zero, &count, &one, Some(&label), true, |this, c| {
            let c64 = this.op(&format!("arith.index_cast {c} : index to i64"));
            let first = this.op(&format!("arith.muli {c64}, {chunk_length} : i64"));
            let end = this.op(&format!("arith.addi {first}, {chunk_length} : i64"));
            let last = this.op(&format!("arith.minsi {end}, {trips} : i64"));
            let first_index = this.op(&format!("arith.index_cast {first} : i64 to index"));
            let last_index = this.op(&format!("arith.index_cast {last} : i64 to index"));
            // The chunk's accumulator starts at the reduction's identity.
            let slot = this.fresh();
            {
                let block = this.alloc_blocks.last_mut().expect("an allocation block");
                let _ = writeln!(
                    block.slots,
                    "    {slot} = memref.alloca() : memref<{}>",
                    ty.mlir()
                );
            }
            let identity = reduction.kind.identity(info_c.dtype);
            let identity = this.constant(identity, ty);
            this.line(&format!(
                "memref.store {}, {slot}[] : memref<{}>",
                identity.ssa,
                ty.mlir()
            ));
            let accumulator = Accumulator {
                slot: slot.clone(),
                ty,
                array: array_c.clone(),
                info: info_c.clone(),
                at: Vec::new(),
                span: reduction.span,
            };
            this.range_loop(&first_index, &last_index, &one, None, false, |this, k| {
                let induction = this.induction(k, start, step);
                let previous = this.bind(var, Binding::LoopIndex { ssa: induction });
                let result = this.accumulate_nest(&accumulator, &nested.loops, reduction);
                this.unbind(var, previous);
                result
            })?;
            let partial = this.op(&format!("memref.load {slot}[] : memref<{}>", ty.mlir()));
            let at = this.element_indices(&info_c, &reduction.indices, reduction.span)?;
            let kind = reduction.kind.atomic(info_c.dtype);
            let combined = this.fresh();
            let update = format!(
                "{combined} = memref.atomic_rmw {kind} {partial}, {array_c}[{}] : ({}, {}) -> {}",
                at.join(", "),
                ty.mlir(),
                info_c.memref(),
                ty.mlir()
            );
            this.guarded(&update, &info_c, &at, reduction.span);
            Ok(())
        })
    }

    fn while_loop(&mut self, condition: &Expr, body: &[Stmt]) -> Result<()> {
        self.line("\"looppar.while\"() ({");
        self.indent += 1;
        let c = self.expr(condition)?;
        let c = self.to_bool(c);
        self.line(&format!("\"looppar.condition\"({}) : (i1) -> ()", c.ssa));
        self.indent -= 1;
        self.line("}, {");
        self.indent += 1;
        self.statements(body)?;
        self.line("\"looppar.yield\"() : () -> ()");
        self.indent -= 1;
        self.line("}) : () -> ()");
        Ok(())
    }

    /// `dest[slices] = value` / `op=`: one loop per slice dimension of the
    /// destination, left to right, labelled in order by the statement's
    /// labels; slices in the value follow the same loops in order.
    fn slice_statement(
        &mut self,
        statement: &Stmt,
        target: &Expr,
        op: Option<BinaryOp>,
        value: &Expr,
    ) -> Result<()> {
        let ExprKind::Subscript { base, indices } = &target.kind else {
            return Err(self.error(target.span, "slices are only allowed on arrays"));
        };
        let (_, info) = self.array_of(base)?;
        if indices.len() != info.shape.len() {
            return Err(self.error(
                target.span,
                format!(
                    "list every dimension of the array in a slice statement ({} here)",
                    info.shape.len()
                ),
            ));
        }
        // The destination's slice dimensions: (dimension, lower, upper).
        let mut loops = Vec::new();
        for (d, index) in indices.iter().enumerate() {
            if let Index::Slice(lower, upper, _) = index {
                loops.push((d, lower.clone(), upper.clone()));
            }
        }
        let reductions = reduction_calls(value);
        if reductions.len() > 1 {
            return Err(self.error(
                value.span,
                "a slice statement holds at most one slice reduction (parir.sum/prod/min/max)",
            ));
        }
        let mut variables = Vec::new();
        let mut bounds = Vec::new();
        for (n, (d, lower, upper)) in loops.iter().enumerate() {
            let var = format!("__slice{n}_{}", target.span.line);
            let start = lower.clone().unwrap_or(Expr {
                kind: ExprKind::Int(0),
                span: target.span,
            });
            let stop = upper.clone().unwrap_or(Expr {
                kind: ExprKind::Int(info.shape[*d]),
                span: target.span,
            });
            variables.push(var.clone());
            bounds.push((var, start, stop));
        }
        // Rewrite: destination and value slices become indexed by the loop
        // variables, in order.
        let new_target = index_slices(target, &variables, &mut 0, self.source(), &info)?;
        match reductions.first() {
            None => {
                let mut counter = 0;
                let new_value = substitute_slices(value, &variables, &mut counter, self, true)?;
                if counter != 0 && counter != variables.len() {
                    return Err(self.error(
                        value.span,
                        format!(
                            "the value has {counter} slice dimension(s) but the destination has {}",
                            variables.len()
                        ),
                    ));
                }
                let body = match op {
                    Some(op) => StmtKind::AugAssign {
                        target: new_target,
                        op,
                        value: new_value,
                    },
                    None => StmtKind::Assign {
                        target: new_target,
                        value: new_value,
                    },
                };
                let inner = Stmt {
                    kind: body,
                    labels: Vec::new(),
                    span: statement.span,
                };
                let nest = build_nest(&bounds, inner, &statement.labels, statement.span);
                self.statement_in_place(&nest)
            }
            Some((name, argument, axis)) => self.slice_reduction(
                statement, &bounds, new_target, op, value, name, argument, *axis, &variables,
            ),
        }
    }

    /// Emits a statement that was built by the compiler (no placement
    /// check: the user's statement passed it).
    fn statement_in_place(&mut self, statement: &Stmt) -> Result<()> {
        match &statement.kind {
            StmtKind::For {
                var,
                start,
                stop,
                step,
                body,
            } => self.for_loop(statement, var, start, stop, step, body),
            _ => self.statement(statement),
        }
    }

    /// `dest[:] = parir.sum(x[:, :], axis=1)`: the destination's slices
    /// map to the kept dimensions; the reduced dimensions become inner
    /// reduction loops (all of them without `axis`).
    #[allow(clippy::too_many_arguments)]
    fn slice_reduction(
        &mut self,
        statement: &Stmt,
        bounds: &[(String, Expr, Expr)],
        target: Expr,
        op: Option<BinaryOp>,
        value: &Expr,
        name: &str,
        argument: &Expr,
        axis: Option<i64>,
        variables: &[String],
    ) -> Result<()> {
        let ExprKind::Subscript { base, indices } = &argument.kind else {
            return Err(self.error(
                argument.span,
                format!("parir.{name} takes a slice of an array, e.g. x[:, :]"),
            ));
        };
        let (_, info) = self.array_of(base)?;
        let slice_dims: Vec<usize> = indices
            .iter()
            .enumerate()
            .filter(|(_, i)| matches!(i, Index::Slice(..)))
            .map(|(d, _)| d)
            .collect();
        let reduced: Vec<usize> = match axis {
            Some(a) if a < 0 || a as usize >= slice_dims.len() => {
                return Err(self.error(
                    argument.span,
                    format!(
                        "axis {a} is out of range for {} slice dimension(s)",
                        slice_dims.len()
                    ),
                ))
            }
            Some(a) => vec![slice_dims[a as usize]],
            None => slice_dims.clone(),
        };
        let kept: Vec<usize> = slice_dims
            .iter()
            .copied()
            .filter(|d| !reduced.contains(d))
            .collect();
        if kept.len() != variables.len() {
            return Err(self.error(
                value.span,
                format!(
                    "the reduction leaves {} slice dimension(s) but the destination has {}",
                    kept.len(),
                    variables.len()
                ),
            ));
        }
        let kind = match name {
            "sum" => ReductionKind::Add,
            "prod" => ReductionKind::Mul,
            "min" => ReductionKind::Min,
            _ => ReductionKind::Max,
        };
        // Index the argument: kept dimensions by the outer loop variables,
        // reduced ones by inner loop variables.
        let mut inner = Vec::new();
        let mut new_indices = Vec::new();
        let mut outer = variables.iter();
        for (d, index) in indices.iter().enumerate() {
            match index {
                Index::At(e) => new_indices.push(Index::At(e.clone())),
                Index::Slice(lower, upper, span) => {
                    let var = if reduced.contains(&d) {
                        let v = format!("__reduce{d}_{}", statement.span.line);
                        let start = lower.clone().unwrap_or(Expr {
                            kind: ExprKind::Int(0),
                            span: *span,
                        });
                        let stop = upper.clone().unwrap_or(Expr {
                            kind: ExprKind::Int(info.shape[d]),
                            span: *span,
                        });
                        inner.push((v.clone(), start, stop));
                        v
                    } else {
                        let v = outer
                            .next()
                            .expect("as many kept dimensions as loops")
                            .clone();
                        // A kept dimension with its own bounds is offset.
                        if let Some(lower) = lower {
                            new_indices.push(Index::At(add(var_expr(&v, *span), lower.clone())));
                            continue;
                        }
                        v
                    };
                    new_indices.push(Index::At(var_expr(&var, *span)));
                }
            }
        }
        let element = Expr {
            kind: ExprKind::Subscript {
                base: base.clone(),
                indices: new_indices,
            },
            span: argument.span,
        };
        // The statement's value with the reduction replaced by the element:
        // only `dest = red(...)` and `dest op= red(...)` are accepted.
        if !matches!(value.kind, ExprKind::Builtin { .. }) {
            return Err(self.error(
                value.span,
                "a slice reduction must be the whole value: y[:] = parir.sum(x[:, :], axis=1)",
            ));
        }
        // Inner loops: reduce into the destination element.
        let reduce_op = match kind {
            ReductionKind::Add => Some(BinaryOp::Add),
            ReductionKind::Mul => Some(BinaryOp::Mul),
            _ => None,
        };
        let update = match reduce_op {
            Some(bop) => StmtKind::AugAssign {
                target: target.clone(),
                op: bop,
                value: element,
            },
            None => StmtKind::Assign {
                target: target.clone(),
                value: Expr {
                    kind: ExprKind::Builtin {
                        name: name.to_string(),
                        args: vec![target.clone(), element],
                        axis: None,
                    },
                    span: value.span,
                },
            },
        };
        let mut body = Stmt {
            kind: update,
            labels: Vec::new(),
            span: statement.span,
        };
        for (n, (var, start, stop)) in inner.iter().enumerate().rev() {
            // The labels after the destination's go to the reduced loops.
            let label: Vec<String> = statement
                .labels
                .get(bounds.len() + n)
                .cloned()
                .into_iter()
                .collect();
            body = Stmt {
                kind: StmtKind::For {
                    var: var.clone(),
                    start: start.clone(),
                    stop: stop.clone(),
                    step: Expr {
                        kind: ExprKind::Int(1),
                        span: statement.span,
                    },
                    body: vec![body],
                },
                labels: label,
                span: statement.span,
            };
        }
        // Before reducing: `=` starts from the identity, `op=` from the
        // current value.
        let mut statements = Vec::new();
        if op.is_none() {
            let identity = match kind.identity(info.dtype) {
                Literal::Int(i) => ExprKind::Int(i),
                Literal::Float(f) => ExprKind::Float(f),
            };
            statements.push(Stmt {
                kind: StmtKind::Assign {
                    target: target.clone(),
                    value: Expr {
                        kind: identity,
                        span: value.span,
                    },
                },
                labels: Vec::new(),
                span: statement.span,
            });
        } else if op != reduce_op {
            return Err(self.error(statement.span, format!("combine parir.{name} with `=`, or with the matching update (+= for sum, *= for prod)")));
        }
        statements.push(body);
        let labels: Vec<String> = statement
            .labels
            .iter()
            .take(bounds.len())
            .cloned()
            .collect();
        if bounds.is_empty() {
            // A full reduction into one element: the reduction loops carry
            // the statement's labels.
            let mut labelled = statements;
            if let Some(last) = labelled.last_mut() {
                if last.labels.is_empty() {
                    last.labels = statement.labels.first().cloned().into_iter().collect();
                }
            }
            if self.parallel_depth == 0 && !self.on_device {
                // The identity store needs a home: run it on the device.
                let init = labelled.remove(0);
                if let StmtKind::Assign { .. } = init.kind {
                    self.on_device = true;
                    let r = self.statement(&init);
                    self.on_device = false;
                    r?;
                }
                return self.statement_in_place(&labelled[0]);
            }
            for s in &labelled {
                self.statement_in_place(s)?;
            }
            return Ok(());
        }
        let nest = build_nest_many(bounds, statements, &labels, statement.span);
        self.statement_in_place(&nest)
    }

    fn inline_call(&mut self, call: &Expr) -> Result<()> {
        let ExprKind::Call { function, args } = &call.kind else {
            unreachable!("a call")
        };
        if self.frames.iter().any(|f| f.function == function) {
            return Err(self.error(call.span, format!("`{function}` calls itself (directly or not): recursion is not supported in JIT functions")));
        }
        let callee = self.callees.get(function).ok_or_else(|| {
            self.error(call.span, format!("`{function}` is not a JIT function: only functions decorated with @parir.jit can be called"))
        })?;
        if callee.params.len() != args.len() {
            return Err(self.error(
                call.span,
                format!(
                    "`{function}` takes {} argument(s), got {}",
                    callee.params.len(),
                    args.len()
                ),
            ));
        }
        let mut bindings = HashMap::new();
        for (param, arg) in callee.params.iter().zip(args) {
            let binding = match &arg.kind {
                ExprKind::Var(name) => match self.lookup(name).cloned() {
                    Some(Binding::Local { .. })
                    | Some(Binding::LoopIndex { .. })
                    | None
                    | Some(Binding::Private { .. }) => {
                        let v = self.expr(arg)?;
                        self.value_binding(v)
                    }
                    Some(other) => other,
                },
                ExprKind::DictEntry { dict, key } => self.dict_entry(dict, key, arg.span)?,
                _ => {
                    let v = self.expr(arg)?;
                    self.value_binding(v)
                }
            };
            bindings.insert(param.clone(), binding);
        }
        self.frames.push(Frame {
            source: &callee.source,
            function: &callee.name,
            bindings,
        });
        let result = self.statements(&callee.body);
        self.frames.pop();
        result
    }

    /// Binds a computed value: literals stay constants, others go into a
    /// stack slot read by the callee.
    fn value_binding(&mut self, value: Value) -> Binding {
        if let Some(literal) = value.literal {
            return Binding::Constant(literal, value.ty);
        }
        if value.ty == Ty::Index {
            return Binding::LoopIndex { ssa: value.ssa };
        }
        let ty = Self::concrete(value.ty);
        let v = self.convert(value, ty);
        let slot = self.fresh();
        let block = self.alloc_blocks.last_mut().expect("an allocation block");
        let _ = writeln!(
            block.slots,
            "  {slot} = memref.alloca() : memref<{}>",
            ty.mlir()
        );
        self.line(&format!(
            "memref.store {}, {slot}[] : memref<{}>",
            v.ssa,
            ty.mlir()
        ));
        Binding::Local { slot, ty }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReductionKind {
    Add,
    Mul,
    Min,
    Max,
}

impl ReductionKind {
    fn identity(self, dtype: DType) -> Literal {
        match (self, dtype.is_float()) {
            (ReductionKind::Add, true) => Literal::Float(0.0),
            (ReductionKind::Add, false) => Literal::Int(0),
            (ReductionKind::Mul, true) => Literal::Float(1.0),
            (ReductionKind::Mul, false) => Literal::Int(1),
            (ReductionKind::Min, true) => Literal::Float(f64::INFINITY),
            (ReductionKind::Max, true) => Literal::Float(f64::NEG_INFINITY),
            (ReductionKind::Min, false) => Literal::Int(match dtype {
                DType::I8 => i8::MAX as i64,
                DType::I16 => i16::MAX as i64,
                DType::I32 => i32::MAX as i64,
                DType::U8 => u8::MAX as i64,
                DType::U16 => u16::MAX as i64,
                DType::U32 => u32::MAX as i64,
                DType::U64 => -1,
                _ => i64::MAX,
            }),
            (ReductionKind::Max, false) => Literal::Int(match dtype {
                DType::I8 => i8::MIN as i64,
                DType::I16 => i16::MIN as i64,
                DType::I32 => i32::MIN as i64,
                DType::U8 | DType::U16 | DType::U32 | DType::U64 | DType::Bool => 0,
                _ => i64::MIN,
            }),
        }
    }

    fn atomic(self, dtype: DType) -> &'static str {
        match (self, dtype.is_float(), dtype.is_unsigned()) {
            (ReductionKind::Add, true, _) => "addf",
            (ReductionKind::Add, false, _) => "addi",
            (ReductionKind::Mul, true, _) => "mulf",
            (ReductionKind::Mul, false, _) => "muli",
            (ReductionKind::Min, true, _) => "minimumf",
            (ReductionKind::Max, true, _) => "maximumf",
            (ReductionKind::Min, false, true) => "minu",
            (ReductionKind::Max, false, true) => "maxu",
            (ReductionKind::Min, false, false) => "mins",
            (ReductionKind::Max, false, false) => "maxs",
        }
    }
}

/// A loop body that is one update of one array element: `a[idx] op= v`.
struct Reduction {
    base: Expr,
    indices: Vec<Index>,
    value: Expr,
    kind: ReductionKind,
    span: Span,
}

struct Accumulator {
    slot: String,
    ty: Ty,
    array: String,
    info: ArrayInfo,
    at: Vec<String>,
    span: Span,
}

fn mentions(expr: &Expr, name: &str) -> bool {
    match &expr.kind {
        ExprKind::Var(v) => v == name,
        ExprKind::DictEntry { dict, .. } => dict == name,
        ExprKind::Subscript { base, indices } => {
            mentions(base, name)
                || indices.iter().any(|i| match i {
                    Index::At(e) => mentions(e, name),
                    Index::Slice(a, b, _) => {
                        a.as_ref().is_some_and(|e| mentions(e, name))
                            || b.as_ref().is_some_and(|e| mentions(e, name))
                    }
                })
        }
        ExprKind::Binary { lhs, rhs, .. } | ExprKind::Compare { lhs, rhs, .. } => {
            mentions(lhs, name) || mentions(rhs, name)
        }
        ExprKind::Unary { operand, .. } => mentions(operand, name),
        ExprKind::And(a, b) | ExprKind::Or(a, b) => mentions(a, name) || mentions(b, name),
        ExprKind::IfElse {
            condition,
            then,
            otherwise,
        } => mentions(condition, name) || mentions(then, name) || mentions(otherwise, name),
        ExprKind::Builtin { args, .. } | ExprKind::Call { args, .. } => {
            args.iter().any(|a| mentions(a, name))
        }
        _ => false,
    }
}

fn base_name(expr: &Expr) -> Option<&str> {
    match &expr.kind {
        ExprKind::Var(v) => Some(v),
        ExprKind::DictEntry { dict, .. } => Some(dict),
        _ => None,
    }
}

/// A loop body that is a nest of loops around one reduction statement, the
/// element updated being the same in every iteration of every loop.
struct NestedReduction {
    /// The inner loops, outermost first: (variable, start, stop, step, labels).
    loops: Vec<(String, Expr, Expr, Expr, Vec<String>)>,
    reduction: Reduction,
}

fn find_reduction(var: &str, body: &[Stmt]) -> Option<NestedReduction> {
    let mut vars = vec![var.to_string()];
    let mut loops = Vec::new();
    let mut current = body;
    loop {
        if let Some(reduction) = single_reduction(&vars, current) {
            return Some(NestedReduction { loops, reduction });
        }
        match current {
            [Stmt {
                kind:
                    StmtKind::For {
                        var,
                        start,
                        stop,
                        step,
                        body,
                    },
                labels,
                ..
            }] => {
                if [start, stop]
                    .iter()
                    .any(|e| vars.iter().any(|v| mentions(e, v)))
                {
                    return None; // a triangular nest: keep it as written
                }
                loops.push((
                    var.clone(),
                    start.clone(),
                    stop.clone(),
                    step.clone(),
                    labels.clone(),
                ));
                vars.push(var.clone());
                current = body;
            }
            _ => return None,
        }
    }
}

/// Recognises a body of one reduction statement over loop variables `vars`.
fn single_reduction(vars: &[String], body: &[Stmt]) -> Option<Reduction> {
    let [statement] = body else { return None };
    let (target, kind, value) = match &statement.kind {
        StmtKind::AugAssign {
            target,
            op: BinaryOp::Add,
            value,
        } => (target, ReductionKind::Add, value.clone()),
        StmtKind::AugAssign {
            target,
            op: BinaryOp::Mul,
            value,
        } => (target, ReductionKind::Mul, value.clone()),
        StmtKind::Assign { target, value } => match &value.kind {
            ExprKind::Builtin {
                name,
                args,
                axis: None,
            } if (name == "min" || name == "max") && args.len() == 2 => {
                let other = if same(&args[0], target) {
                    args[1].clone()
                } else if same(&args[1], target) {
                    args[0].clone()
                } else {
                    return None;
                };
                (
                    target,
                    if name == "min" {
                        ReductionKind::Min
                    } else {
                        ReductionKind::Max
                    },
                    other,
                )
            }
            _ => return None,
        },
        _ => return None,
    };
    let ExprKind::Subscript { base, indices } = &target.kind else {
        return None;
    };
    let array = base_name(base)?;
    let invariant = indices
        .iter()
        .all(|i| matches!(i, Index::At(e) if !vars.iter().any(|var| mentions(e, var))));
    if !invariant || mentions(&value, array) || has_slices(target) {
        return None;
    }
    Some(Reduction {
        base: (**base).clone(),
        indices: indices.clone(),
        value,
        kind,
        span: statement.span,
    })
}

/// Structural equality, ignoring positions.
fn same(a: &Expr, b: &Expr) -> bool {
    fn strip(e: &Expr) -> Expr {
        let kind = match &e.kind {
            ExprKind::Subscript { base, indices } => ExprKind::Subscript {
                base: Box::new(strip(base)),
                indices: indices
                    .iter()
                    .map(|i| match i {
                        Index::At(x) => Index::At(strip(x)),
                        Index::Slice(l, u, _) => Index::Slice(
                            l.as_ref().map(strip),
                            u.as_ref().map(strip),
                            Span::default(),
                        ),
                    })
                    .collect(),
            },
            ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
                op: *op,
                lhs: Box::new(strip(lhs)),
                rhs: Box::new(strip(rhs)),
            },
            ExprKind::Unary { op, operand } => ExprKind::Unary {
                op: *op,
                operand: Box::new(strip(operand)),
            },
            ExprKind::Builtin { name, args, axis } => ExprKind::Builtin {
                name: name.clone(),
                args: args.iter().map(strip).collect(),
                axis: *axis,
            },
            other => other.clone(),
        };
        Expr {
            kind,
            span: Span::default(),
        }
    }
    strip(a) == strip(b)
}

fn has_slices(expr: &Expr) -> bool {
    matches!(&expr.kind, ExprKind::Subscript { indices, .. } if indices.iter().any(|i| matches!(i, Index::Slice(..))))
}

fn reduction_calls(expr: &Expr) -> Vec<(String, Expr, Option<i64>)> {
    let mut found = Vec::new();
    fn walk(expr: &Expr, found: &mut Vec<(String, Expr, Option<i64>)>) {
        match &expr.kind {
            ExprKind::Builtin { name, args, axis }
                if matches!(name.as_str(), "sum" | "prod" | "min" | "max") && args.len() == 1 =>
            {
                found.push((name.clone(), args[0].clone(), *axis));
            }
            ExprKind::Binary { lhs, rhs, .. } | ExprKind::Compare { lhs, rhs, .. } => {
                walk(lhs, found);
                walk(rhs, found);
            }
            ExprKind::Unary { operand, .. } => walk(operand, found),
            ExprKind::Builtin { args, .. } => args.iter().for_each(|a| walk(a, found)),
            _ => {}
        }
    }
    walk(expr, &mut found);
    found
}

fn var_expr(name: &str, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Var(name.to_string()),
        span,
    }
}

fn add(a: Expr, b: Expr) -> Expr {
    let span = a.span;
    Expr {
        kind: ExprKind::Binary {
            op: BinaryOp::Add,
            lhs: Box::new(a),
            rhs: Box::new(b),
        },
        span,
    }
}

/// The destination with its slices replaced by the loop variables (offset
/// by the slice's lower bound).
fn index_slices(
    target: &Expr,
    variables: &[String],
    next: &mut usize,
    source: &Source,
    _info: &ArrayInfo,
) -> Result<Expr> {
    let ExprKind::Subscript { base, indices } = &target.kind else {
        return Err(source.error(target.span, "slices are only allowed on arrays"));
    };
    let mut new = Vec::new();
    for index in indices {
        match index {
            Index::At(e) => new.push(Index::At(e.clone())),
            Index::Slice(lower, _, span) => {
                let v = var_expr(&variables[*next], *span);
                *next += 1;
                new.push(Index::At(match lower {
                    Some(l) => add(v, l.clone()),
                    None => v,
                }));
            }
        }
    }
    Ok(Expr {
        kind: ExprKind::Subscript {
            base: base.clone(),
            indices: new,
        },
        span: target.span,
    })
}

/// The value with each sliced subscript indexed by the loop variables, in
/// order. Counts the slice dimensions of the first sliced operand and
/// checks the others match.
fn substitute_slices(
    expr: &Expr,
    variables: &[String],
    counter: &mut usize,
    emitter: &Emitter,
    top: bool,
) -> Result<Expr> {
    let _ = top;
    let kind = match &expr.kind {
        ExprKind::Subscript { base, indices }
            if indices.iter().any(|i| matches!(i, Index::Slice(..))) =>
        {
            let slices = indices
                .iter()
                .filter(|i| matches!(i, Index::Slice(..)))
                .count();
            if slices != variables.len() {
                return Err(emitter.error(
                    expr.span,
                    format!(
                        "this slice has {slices} dimension(s) but the destination has {}",
                        variables.len()
                    ),
                ));
            }
            *counter = slices;
            let mut n = 0;
            let mut new = Vec::new();
            for index in indices {
                match index {
                    Index::At(e) => new.push(Index::At(e.clone())),
                    Index::Slice(lower, _, span) => {
                        let v = var_expr(&variables[n], *span);
                        n += 1;
                        new.push(Index::At(match lower {
                            Some(l) => add(v, l.clone()),
                            None => v,
                        }));
                    }
                }
            }
            ExprKind::Subscript {
                base: base.clone(),
                indices: new,
            }
        }
        ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
            op: *op,
            lhs: Box::new(substitute_slices(lhs, variables, counter, emitter, false)?),
            rhs: Box::new(substitute_slices(rhs, variables, counter, emitter, false)?),
        },
        ExprKind::Unary { op, operand } => ExprKind::Unary {
            op: *op,
            operand: Box::new(substitute_slices(
                operand, variables, counter, emitter, false,
            )?),
        },
        ExprKind::Builtin { name, args, axis } => ExprKind::Builtin {
            name: name.clone(),
            args: args
                .iter()
                .map(|a| substitute_slices(a, variables, counter, emitter, false))
                .collect::<Result<_>>()?,
            axis: *axis,
        },
        ExprKind::IfElse {
            condition,
            then,
            otherwise,
        } => ExprKind::IfElse {
            condition: Box::new(substitute_slices(
                condition, variables, counter, emitter, false,
            )?),
            then: Box::new(substitute_slices(then, variables, counter, emitter, false)?),
            otherwise: Box::new(substitute_slices(
                otherwise, variables, counter, emitter, false,
            )?),
        },
        ExprKind::Compare { op, lhs, rhs } => ExprKind::Compare {
            op: *op,
            lhs: Box::new(substitute_slices(lhs, variables, counter, emitter, false)?),
            rhs: Box::new(substitute_slices(rhs, variables, counter, emitter, false)?),
        },
        other => other.clone(),
    };
    Ok(Expr {
        kind,
        span: expr.span,
    })
}

fn build_nest(bounds: &[(String, Expr, Expr)], inner: Stmt, labels: &[String], span: Span) -> Stmt {
    build_nest_many(bounds, vec![inner], labels, span)
}

fn build_nest_many(
    bounds: &[(String, Expr, Expr)],
    inner: Vec<Stmt>,
    labels: &[String],
    span: Span,
) -> Stmt {
    let mut body = inner;
    for (n, (var, start, stop)) in bounds.iter().enumerate().rev() {
        body = vec![Stmt {
            kind: StmtKind::For {
                var: var.clone(),
                start: start.clone(),
                stop: stop.clone(),
                step: Expr {
                    kind: ExprKind::Int(1),
                    span,
                },
                body,
            },
            labels: labels.get(n).cloned().into_iter().collect(),
            span,
        }];
    }
    body.pop().expect("a statement")
}

fn fold(op: BinaryOp, a: Literal, b: Literal) -> Option<Literal> {
    use BinaryOp::*;
    Some(match (a, b) {
        (Literal::Int(x), Literal::Int(y)) => match op {
            Add => Literal::Int(x.checked_add(y)?),
            Sub => Literal::Int(x.checked_sub(y)?),
            Mul => Literal::Int(x.checked_mul(y)?),
            FloorDiv if y != 0 => Literal::Int(
                x.div_euclid(y)
                    - if (x.rem_euclid(y) != 0) && (y < 0) {
                        1
                    } else {
                        0
                    },
            ),
            Mod if y != 0 => Literal::Int(((x % y) + y) % y),
            Div if y != 0 => Literal::Float(x as f64 / y as f64),
            _ => return None,
        },
        (x, y) => {
            let f = |l: Literal| match l {
                Literal::Int(i) => i as f64,
                Literal::Float(f) => f,
            };
            let (x, y) = (f(x), f(y));
            match op {
                Add => Literal::Float(x + y),
                Sub => Literal::Float(x - y),
                Mul => Literal::Float(x * y),
                Div => Literal::Float(x / y),
                _ => return None,
            }
        }
    })
}

/// Emits the specialisation of `function` for `arguments` under `spec`.
pub fn emit(
    function: &Function,
    callees: &HashMap<String, Function>,
    arguments: &[Argument],
    spec: &HashMap<String, LabelSpec>,
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
        out: String::new(),
        indent: 1,
        next: 0,
        frames: Vec::new(),
        alloc_blocks: Vec::new(),
        spec,
        used_labels: HashSet::new(),
        parallel_depth: 0,
        on_device: false,
        callees,
        debug,
        checks: Vec::new(),
    };
    let mut params = Vec::new();
    if debug {
        params.push("%err: memref<1xi64>".to_string());
    }
    let mut arrays = Vec::new();
    let mut bindings = HashMap::new();
    for (index, (name, argument)) in function.params.iter().zip(arguments).enumerate() {
        let binding = match argument {
            Argument::Int(i) => Binding::Constant(Literal::Int(*i), Ty::WeakInt),
            Argument::Float(f) => Binding::Constant(Literal::Float(*f), Ty::WeakFloat),
            Argument::Scalar(dtype, bits) => scalar_binding(*dtype, *bits),
            Argument::Array(info) => {
                let ssa = format!("%arg{}", arrays.len());
                params.push(format!("{ssa}: {}", info.memref()));
                arrays.push((index, None));
                Binding::Array {
                    ssa,
                    info: info.clone(),
                }
            }
            Argument::Dict(entries) => {
                let mut map = HashMap::new();
                for (key, value) in entries {
                    let binding = match value {
                        Argument::Int(i) => Binding::Constant(Literal::Int(*i), Ty::WeakInt),
                        Argument::Float(f) => Binding::Constant(Literal::Float(*f), Ty::WeakFloat),
                        Argument::Scalar(dtype, bits) => scalar_binding(*dtype, *bits),
                        Argument::Array(info) => {
                            let ssa = format!("%arg{}", arrays.len());
                            params.push(format!("{ssa}: {}", info.memref()));
                            arrays.push((index, Some(key.clone())));
                            Binding::Array {
                                ssa,
                                info: info.clone(),
                            }
                        }
                        Argument::Dict(_) => return Err(source.error(
                            function.span,
                            format!(
                                "the dict argument `{name}` holds a dict; dicts cannot be nested"
                            ),
                        )),
                    };
                    map.insert(key.clone(), binding);
                }
                Binding::Dict(map)
            }
        };
        bindings.insert(name.clone(), binding);
    }
    emitter.frames.push(Frame {
        source,
        function: &function.name,
        bindings,
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
