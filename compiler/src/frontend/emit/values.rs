//! Values, constants, conversions between types, and emission basics.

use super::*;

impl<'a> Emitter<'a> {
    pub(super) fn source(&self) -> &'a Source {
        self.frames.last().expect("a frame").source
    }

    pub(super) fn error(&self, span: Span, message: impl Into<String>) -> CompileError {
        self.source().error(span, message)
    }

    pub(super) fn fresh(&mut self) -> String {
        self.next += 1;
        format!("%v{}", self.next)
    }

    pub(super) fn line(&mut self, text: &str) {
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    pub(super) fn op(&mut self, text: &str) -> String {
        let ssa = self.fresh();
        let location = self.location(self.span);
        self.line(&format!("{ssa} = {text}{location}"));
        ssa
    }

    /// ` loc("file":line:column)` for `span` in the current function.
    pub(super) fn location(&self, span: Span) -> String {
        if span.line == 0 {
            return String::new();
        }
        let file = self
            .source()
            .file
            .replace('\\', "\\\\")
            .replace('"', "\\\"");
        format!(" loc(\"{file}\":{}:{})", span.line, span.column)
    }

    /// Whether the code being emitted is GPU code outside every parallel
    /// loop: host code, or `with parir.gpu:` code, whose runs between
    /// parallel loops become one-thread kernels of their own. Neither can
    /// hand a value it reads from an array to a parallel loop's kernel.
    pub(super) fn outside_parallel_loops_on_gpu(&self) -> bool {
        self.target == Target::Gpu && self.parallel_depth == 0
    }

    pub(super) fn lookup(&self, name: &str) -> Option<&Binding> {
        self.frames.last().and_then(|f| f.bindings.get(name))
    }

    pub(super) fn bind(&mut self, name: &str, binding: Binding) -> Option<Binding> {
        self.frames
            .last_mut()
            .expect("a frame")
            .bindings
            .insert(name.to_string(), binding)
    }

    pub(super) fn unbind(&mut self, name: &str, previous: Option<Binding>) {
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

    /// A constant of type `ty`; its literal is kept as the code holds it
    /// (integers wrapped to their dtype, float32 rounded, bools 0 or 1).
    pub(super) fn constant(&mut self, literal: Literal, ty: Ty) -> Value {
        if ty == Ty::WeakBool {
            return Self::as_kind(self.constant(literal, Ty::Bool), ty);
        }
        let literal = match (literal, ty) {
            (Literal::Int(i), Ty::Bool) => Literal::Int((i != 0) as i64),
            (Literal::Int(i), Ty::Num(d)) if !d.is_float() => {
                Literal::Int(wrap_to(i128::from(i), d))
            }
            (Literal::Float(f), Ty::Num(DType::F32)) => Literal::Float(f as f32 as f64),
            (literal, _) => literal,
        };
        let mlir = ty.mlir();
        let ssa = match (literal, ty) {
            // `true`/`false` are typed (i1) already: no `: i1` after them.
            (Literal::Int(i), Ty::Bool) => self.op(&format!("arith.constant {}", i != 0)),
            (Literal::Float(f), Ty::Bool) => self.op(&format!("arith.constant {}", f != 0.0)),
            (Literal::Int(i), t) if t.is_float() => self.op(&format!(
                "arith.constant {} : {mlir}",
                float_bits(i as f64, t.dtype())
            )),
            (Literal::Float(f), t) if t.is_float() => self.op(&format!(
                "arith.constant {} : {mlir}",
                float_bits(f, t.dtype())
            )),
            // Wrapped to the type's width, so that the text always parses
            // (a Python int that does not fit is reported by `convert`).
            (Literal::Int(i), t) if t != Ty::Index => {
                let bits = 128 - t.dtype().bits() as u32;
                let wrapped = (i128::from(i) << bits) >> bits;
                self.op(&format!("arith.constant {wrapped} : {mlir}"))
            }
            (Literal::Int(i), _) => self.op(&format!("arith.constant {i} : {mlir}")),
            (Literal::Float(f), _) => self.op(&format!("arith.constant {} : {mlir}", f as i64)),
        };
        Value {
            ssa,
            ty,
            literal: Some(literal),
        }
    }

    pub(super) fn literal(&mut self, literal: Literal, ty: Ty) -> Value {
        self.constant(literal, ty)
    }

    /// Converts `value` to type `to` (numeric casts, bools, indices).
    pub(super) fn convert(&mut self, value: Value, to: Ty) -> Value {
        if value.ty == to {
            return value;
        }
        // Python's and NumPy's bools are the same i1 values.
        if to == Ty::WeakBool {
            let b = self.convert(value, Ty::Bool);
            return Self::as_kind(b, to);
        }
        if value.ty == Ty::WeakBool {
            return self.convert(Self::as_kind(value, Ty::Bool), to);
        }
        // A float known when compiling converts as `float_to_integer`'s
        // code does on the CPU (NaN and out-of-range values included), or
        // to a bool as NumPy's (NaN is true).
        match (value.literal, to) {
            (Some(Literal::Float(f)), Ty::Num(d)) if !d.is_float() => {
                return self.constant(Literal::Int(float_to_integer_value(f, d)), to);
            }
            (Some(Literal::Float(f)), Ty::Bool) => {
                return self.constant(Literal::Int((f != 0.0) as i64), to);
            }
            _ => {}
        }
        if let Some(literal) = value.literal {
            if let (Literal::Int(i), Ty::WeakInt, Ty::Num(dtype)) = (literal, value.ty, to) {
                if !dtype.holds(i) && self.overflow.is_none() && !self.in_dead_code() {
                    self.overflow = Some((
                        self.span,
                        format!(
                            "the int {i} does not fit {} (the type it meets here); NumPy raises OverflowError",
                            dtype.name()
                        ),
                    ));
                }
            }
            // An integer into a float type rounds once, from its exact value.
            let literal = match (literal, to.is_float()) {
                (Literal::Int(i), true) => {
                    let exact = exact_integer(i, value.ty);
                    Literal::Float(if to == Ty::Num(DType::F32) {
                        exact as f32 as f64
                    } else {
                        exact as f64
                    })
                }
                _ => literal,
            };
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
                    (true, false) => self.float_to_integer(v, fd, td),
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

    /// A float converted to an integer type as NumPy does on the CPU, on
    /// every target alike: C's conversion to int (types up to 32 bits,
    /// but uint32) or int64, then wrapping into the narrower type, so
    /// `-2.5` becomes 254 in uint8 and 4294967294 in uint32; uint64
    /// converts values from 2**63 up as unsigned, and from 2**64 up to 0.
    fn float_to_integer(&mut self, v: &str, from: DType, to: DType) -> String {
        let (fm, tm) = (from.storage(), to.storage());
        let via = if to.bits() <= 16 || to == DType::I32 {
            "i32"
        } else {
            "i64"
        };
        let wide = self.fptosi_as_on_x86(v, from, via);
        match to {
            DType::I64 | DType::I32 => wide,
            DType::U64 => {
                let unsigned = self.op(&format!("arith.fptoui {v} : {fm} to i64"));
                let limit = self.op(&format!(
                    "arith.constant {} : {fm}",
                    float_bits(9_223_372_036_854_775_808.0, from)
                ));
                let high = self.op(&format!("arith.cmpf oge, {v}, {limit} : {fm}"));
                let converted = self.op(&format!("arith.select {high}, {unsigned}, {wide} : i64"));
                // From 2**64 up, C's conversion (as NumPy's) gives 0 on
                // every CPU; fptoui's own answer there varies.
                let beyond = self.op(&format!(
                    "arith.constant {} : {fm}",
                    float_bits(18_446_744_073_709_551_616.0, from)
                ));
                let too_high = self.op(&format!("arith.cmpf oge, {v}, {beyond} : {fm}"));
                let zero = self.op("arith.constant 0 : i64");
                self.op(&format!(
                    "arith.select {too_high}, {zero}, {converted} : i64"
                ))
            }
            _ => self.op(&format!("arith.trunci {wide} : {via} to {tm}")),
        }
    }

    /// `fptosi` of `v` (of float type `from`) to `via` (i32 or i64), with
    /// the CPU's answer, the type's minimum, for NaN and values beyond
    /// its range written out: LLVM takes those conversions as poison and
    /// may fold them away (`fptosi(sitofp x)` becomes `x`, keeping bits
    /// that the float had rounded off), and GPUs saturate instead.
    fn fptosi_as_on_x86(&mut self, v: &str, from: DType, via: &str) -> String {
        let fm = from.storage();
        let bits = if via == "i32" { 31 } else { 63 };
        let limit = (1u64 << bits) as f64;
        let converted = self.op(&format!("arith.fptosi {v} : {fm} to {via}"));
        let lower = self.op(&format!(
            "arith.constant {} : {fm}",
            float_bits(-limit, from)
        ));
        let upper = self.op(&format!(
            "arith.constant {} : {fm}",
            float_bits(limit, from)
        ));
        // Ordered comparisons: NaN is in neither bound.
        let above = self.op(&format!("arith.cmpf oge, {v}, {lower} : {fm}"));
        let below = self.op(&format!("arith.cmpf olt, {v}, {upper} : {fm}"));
        let in_range = self.op(&format!("arith.andi {above}, {below} : i1"));
        let minimum = self.op(&format!("arith.constant {} : {via}", -(1i128 << bits)));
        self.op(&format!(
            "arith.select {in_range}, {converted}, {minimum} : {via}"
        ))
    }

    /// A bool as the other kind of bool (the same i1 value).
    pub(super) fn as_kind(value: Value, bool_kind: Ty) -> Value {
        debug_assert!(value.ty.is_bool() && bool_kind.is_bool());
        Value {
            ty: bool_kind,
            ..value
        }
    }

    /// Materialises weak types (a Python int is an int64 on its own; a
    /// Python bool stays one, an i1 already).
    pub(super) fn concrete(ty: Ty) -> Ty {
        match ty {
            Ty::WeakInt | Ty::Index => Ty::Num(DType::I64),
            Ty::WeakFloat => Ty::Num(DType::F64),
            other => other,
        }
    }

    pub(super) fn convert_to_bool(&mut self, value: Value) -> Value {
        self.convert(value, Ty::Bool)
    }

    // ----- expressions -----
}
