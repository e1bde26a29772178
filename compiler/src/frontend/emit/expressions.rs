//! Expressions: variables, array elements, arithmetic, comparisons,
//! built-in functions.

use super::*;

impl<'a> Emitter<'a> {
    /// `-value`, in its own type (NumPy's wrapping for integers).
    pub(super) fn negate(&mut self, value: Value, span: Span) -> Result<Value> {
        // -True is the int -1.
        let value = self.python_int_of_bool(value);
        if value.ty == Ty::Bool {
            return Err(self.error(
                span,
                "NumPy does not negate booleans; use `not` for the opposite",
            ));
        }
        if let Some(literal) = value.literal {
            let negated = match literal {
                Literal::Int(i) => Literal::Int(i.wrapping_neg()),
                Literal::Float(f) => Literal::Float(-f),
            };
            return Ok(self.constant(negated, value.ty));
        }
        if value.ty.is_float() {
            let ssa = self.op(&format!("arith.negf {} : {}", value.ssa, value.ty.mlir()));
            Ok(Value {
                ssa,
                ty: value.ty,
                literal: None,
            })
        } else {
            let zero = self.literal(Literal::Int(0), value.ty);
            self.binary(BinaryOp::Sub, zero, value, span)
        }
    }

    pub(super) fn expr(&mut self, expr: &Expr) -> Result<Value> {
        if let Some(value) = self.hoisted(expr) {
            return Ok(value);
        }
        match &expr.kind {
            ExprKind::Int(i) => Ok(self.literal(Literal::Int(*i), Ty::WeakInt)),
            ExprKind::Float(f) => Ok(self.literal(Literal::Float(*f), Ty::WeakFloat)),
            ExprKind::Bool(b) => Ok(self.literal(Literal::Int(*b as i64), Ty::WeakBool)),
            ExprKind::Var(name) => self.variable(name, expr.span),
            ExprKind::Shape { array, property } => self.shape(array, *property, expr.span),
            ExprKind::DictEntry { dict, key } => {
                let binding = self.dict_entry(dict, key, expr.span)?;
                self.read_binding(&binding, &format!("{dict}[\"{key}\"]"), expr.span)
            }
            ExprKind::Subscript { base, indices } => {
                if let Some(element) = self.slice_element(expr)? {
                    return Ok(element);
                }
                let (array, info) = self.array_of(base)?;
                let at = self.element_indices(&info, indices, expr.span)?;
                let ssa = self.load(&array, &info, &at, expr.span);
                Ok(self.loaded_value(ssa, info.dtype))
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.expr(lhs)?;
                self.written_binary(*op, l, rhs, expr.span)
            }
            ExprKind::Unary { op, operand } => {
                let value = self.expr(operand)?;
                match op {
                    UnaryOp::Plus => Ok(value),
                    UnaryOp::Not => {
                        // Python's `not`, of any value: a Python bool.
                        let b = self.convert_to_bool(value);
                        if let Some(truth) = b.known_truth() {
                            return Ok(self.constant(Literal::Int(i64::from(!truth)), Ty::WeakBool));
                        }
                        let t = self.op("arith.constant true");
                        let ssa = self.op(&format!("arith.xori {}, {t} : i1", b.ssa));
                        Ok(Value {
                            ssa,
                            ty: Ty::WeakBool,
                            literal: None,
                        })
                    }
                    UnaryOp::Neg => self.negate(value, expr.span),
                    UnaryOp::Invert => {
                        if value.ty.is_float() {
                            return Err(self.error(expr.span, "~ needs an integer operand"));
                        }
                        // ~True is the int -2 (~ of a NumPy bool is `not`).
                        let value = self.python_int_of_bool(value);
                        if let Some(Literal::Int(i)) = value.literal {
                            if value.ty == Ty::WeakInt {
                                return Ok(self.constant(Literal::Int(!i), Ty::WeakInt));
                            }
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
                // Python's `a and b` is `b` if `a` is true, else `a`;
                // `a or b` is `a` if `a` is true, else `b`. `b` is evaluated
                // only when it is the result.
                let x = self.expr(a)?;
                let truth = self.convert_to_bool(x.clone());
                if matches!(expr.kind, ExprKind::And(..)) {
                    self.choose(&truth, Side::Lazy(b), Side::Ready(x))
                } else {
                    self.choose(&truth, Side::Ready(x), Side::Lazy(b))
                }
            }
            ExprKind::IfElse {
                condition,
                then,
                otherwise,
            } => {
                let c = self.expr(condition)?;
                let c = self.convert_to_bool(c);
                self.choose(&c, Side::Lazy(then), Side::Lazy(otherwise))
            }
            ExprKind::Builtin { name, args, axis } => self.builtin(name, args, *axis, expr.span),
            // Said of any name: what it names is not known here (only
            // statement calls are resolved), and neither kind is a value.
            ExprKind::Call { function, .. } => Err(self.error(
                expr.span,
                format!(
                    "`{function}(...)` cannot be used as a value: JIT code calls only JIT functions (decorated with @parir.jit), as statements, and they return no value"
                ),
            )),
        }
    }

    /// A loaded element as a value: bools are stored as bytes.
    pub(super) fn loaded_value(&mut self, ssa: String, dtype: DType) -> Value {
        if dtype == DType::Bool {
            let zero = self.op("arith.constant 0 : i8");
            let ssa = self.op(&format!("arith.cmpi ne, {ssa}, {zero} : i8"));
            return Value {
                ssa,
                ty: Ty::Bool,
                literal: None,
            };
        }
        Value {
            ssa,
            ty: Ty::Num(dtype),
            literal: None,
        }
    }

    /// A value converted for storing into an array of `dtype`.
    pub(super) fn stored_value(&mut self, value: Value, dtype: DType) -> Value {
        if dtype == DType::Bool {
            let b = self.convert_to_bool(value);
            self.convert(b, Ty::Num(DType::U8))
        } else {
            self.convert(value, Ty::Num(dtype))
        }
    }

    pub(super) fn variable(&mut self, name: &str, span: Span) -> Result<Value> {
        let binding = self.lookup(name).cloned().ok_or_else(|| {
            self.error(span, format!("`{name}` is not defined: JIT functions see their parameters and their own variables"))
        })?;
        self.read_binding(&binding, name, span)
    }

    pub(super) fn read_binding(
        &mut self,
        binding: &Binding,
        name: &str,
        span: Span,
    ) -> Result<Value> {
        match binding {
            // A uint64 above int64's range: its bits are not the literal's
            // value, so it is not folded as one.
            Binding::Constant(Literal::Int(i), Ty::Num(DType::U64)) if *i < 0 => {
                let mut value = self.constant(Literal::Int(*i), Ty::Num(DType::U64));
                value.literal = None;
                Ok(value)
            }
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
                Ok(self.loaded_value(loaded, info.dtype))
            }
            Binding::Array { .. } => Err(self.error(
                span,
                format!("`{name}` is an array: index it (e.g. {name}[i]); slices belong in slice statements"),
            )),
            Binding::Private { label } if label == super::statements::ON_DEVICE_BLOCK => Err(self.error(
                span,
                format!("`{name}` belongs to a `with parir.gpu:` block (it lives on the GPU) and cannot be used after it"),
            )),
            Binding::Private { label } => Err(self.error(
                span,
                format!("`{name}` is private to the parallel loop '{label}' (each iteration has its own) and cannot be used after it"),
            )),
            Binding::Dict(_) => Err(self.error(span, format!("`{name}` is a dict: use its entries, e.g. {name}[\"key\"]"))),
        }
    }

    pub(super) fn dict_entry(&self, dict: &str, key: &str, span: Span) -> Result<Binding> {
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

    /// `x.shape[k]`, `len(x)`, `x.size` or `x.ndim`: a Python int known
    /// when compiling.
    fn shape(&mut self, array: &Expr, property: ShapeProperty, span: Span) -> Result<Value> {
        let (binding, name) = match &array.kind {
            ExprKind::Var(name) => (self.lookup(name).cloned(), name.clone()),
            ExprKind::DictEntry { dict, key } => (
                Some(self.dict_entry(dict, key, array.span)?),
                format!("{dict}[\"{key}\"]"),
            ),
            _ => (None, String::new()),
        };
        let Some(Binding::Array { info, .. }) = binding else {
            let what = if name.is_empty() {
                "this".to_string()
            } else {
                format!("`{name}`")
            };
            return Err(self.error(
                span,
                format!("{what} is not an array: shapes are those of array arguments"),
            ));
        };
        let rank = info.shape.len() as i64;
        let value = match property {
            ShapeProperty::Size => info.shape.iter().product(),
            ShapeProperty::Ndim => rank,
            ShapeProperty::Unpacked { axis, rank: names } => {
                if names as i64 != rank {
                    return Err(self.error(
                        span,
                        format!("`{name}` has {rank} dimension(s): its shape cannot be assigned to {names} names (Python raises ValueError)"),
                    ));
                }
                info.shape[axis]
            }
            ShapeProperty::Extent(axis) => {
                let at = if axis < 0 { axis + rank } else { axis };
                if !(0..rank).contains(&at) {
                    return Err(self.error(
                        span,
                        format!("`{name}` has {rank} dimension(s): axis {axis} is out of range (Python raises IndexError)"),
                    ));
                }
                info.shape[at as usize]
            }
        };
        Ok(self.literal(Literal::Int(value), Ty::WeakInt))
    }

    pub(super) fn array_of(&self, base: &Expr) -> Result<(String, ArrayInfo)> {
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
    pub(super) fn element_indices(
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
        for (axis, index) in indices.iter().enumerate() {
            match index {
                Index::At(expr) => {
                    let (ssa, known) = self.integer_index(expr, "array indices")?;
                    at.push(self.position(ssa, known, info.shape[axis], axis, expr.span)?);
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

    /// The position that index `ssa` (`known` where it is known when
    /// compiling) stands for on `axis`, of `size`: a constant index is
    /// checked now (except in dead code, which never runs), and a negative
    /// one counts from the end, as in Python.
    pub(super) fn position(
        &mut self,
        ssa: String,
        known: Option<i64>,
        size: i64,
        axis: usize,
        span: Span,
    ) -> Result<String> {
        let Some(k) = known.filter(|_| size >= 0) else {
            return Ok(ssa);
        };
        let from_start = if k < 0 { k.saturating_add(size) } else { k };
        if !(0..size).contains(&from_start) {
            if self.in_dead_code() {
                return Ok(ssa);
            }
            return Err(self.error(
                span,
                format!("index {k} is out of bounds for axis {axis} with size {size}"),
            ));
        }
        Ok(if from_start == k {
            ssa
        } else {
            self.op(&format!("arith.constant {from_start} : index"))
        })
    }

    /// An index operand (`what` names it in the error for a float or bool)
    /// and, for a literal or a specialised scalar, its value.
    pub(super) fn integer_index(
        &mut self,
        expr: &Expr,
        what: &str,
    ) -> Result<(String, Option<i64>)> {
        let value = self.expr(expr)?;
        if value.ty.is_float() || value.ty.is_bool() {
            return Err(self.error(
                expr.span,
                format!("{what} are integers, got {}", value.ty.name()),
            ));
        }
        let literal = match value.literal {
            Some(Literal::Int(i)) => Some(i),
            _ => None,
        };
        Ok((self.convert(value, Ty::Index).ssa, literal))
    }

    /// `l op rhs` for an operator written in the source (`l` evaluated
    /// already): a literal zero divisor of an integer `//` or `%` is an
    /// error there, and so is a zero between Python ints (which raise
    /// ZeroDivisionError); any other zero divisor, a typed scalar argument
    /// of 0 included, gives NumPy's 0 when the code runs.
    pub(super) fn written_binary(
        &mut self,
        op: BinaryOp,
        l: Value,
        rhs: &Expr,
        span: Span,
    ) -> Result<Value> {
        let r = self.expr(rhs)?;
        let python_ints = l.ty == Ty::WeakInt && r.ty == Ty::WeakInt;
        let zero = matches!(rhs.kind, ExprKind::Int(0))
            || (python_ints && matches!(r.literal, Some(Literal::Int(0))));
        if matches!(op, BinaryOp::FloorDiv | BinaryOp::Mod)
            && zero
            && !l.ty.is_float()
            && !self.in_dead_code()
        {
            return Err(self.error(span, "integer division or modulo by zero"));
        }
        // Between Python numbers (not NumPy's, which give inf or NaN),
        // any zero divisor raises.
        let weak = |v: &Value| matches!(v.ty, Ty::WeakInt | Ty::WeakFloat | Ty::WeakBool);
        let zero_divisor = matches!(r.literal, Some(Literal::Int(0)))
            || matches!(r.literal, Some(Literal::Float(f)) if f == 0.0);
        if matches!(op, BinaryOp::Div | BinaryOp::FloorDiv | BinaryOp::Mod)
            && weak(&l)
            && weak(&r)
            && zero_divisor
            && !self.in_dead_code()
        {
            return Err(self.error(
                span,
                "division by zero between Python numbers (Python raises ZeroDivisionError)",
            ));
        }
        // Where NumPy's floats give NaN, Python's give a complex number.
        let negative = matches!(l.literal, Some(Literal::Int(i)) if i < 0)
            || matches!(l.literal, Some(Literal::Float(f)) if f < 0.0 && f.is_finite());
        let fractional =
            matches!(r.literal, Some(Literal::Float(f)) if f.is_finite() && f.fract() != 0.0);
        if op == BinaryOp::Pow
            && weak(&l)
            && weak(&r)
            && negative
            && fractional
            && !self.in_dead_code()
        {
            return Err(self.error(
                span,
                "a negative Python number to a fractional power is a complex number in Python, \
                 which JIT functions do not have",
            ));
        }
        self.binary(op, l, r, span)
    }

    pub(super) fn binary(&mut self, op: BinaryOp, l: Value, r: Value, span: Span) -> Result<Value> {
        use BinaryOp::*;
        // Fold arithmetic on values known when compiling.
        match fold(op, &l, &r) {
            Folded::Value(literal, ty) => return Ok(self.constant(literal, ty)),
            Folded::TooBig => {
                return Err(self.error(
                    span,
                    "this arithmetic on Python ints does not fit 64 bits (Python's ints are unbounded; JIT code computes in int64)",
                ))
            }
            Folded::No => {}
        }
        if l.ty.is_bool() && r.ty.is_bool() {
            if let Some(result) = self.boolean_arithmetic(op, &l, &r, span)? {
                return Ok(result);
            }
        }
        let mut ty = Self::concrete(promote(l.ty, r.ty));
        // NumPy's bools floor-divide, take remainders, powers and shifts
        // as int8 (`np.True_ >> np.True_` is int8(0)); Python's bools
        // alone are Python ints.
        let numpy_bools =
            l.ty.is_bool() && r.ty.is_bool() && !(l.ty == Ty::WeakBool && r.ty == Ty::WeakBool);
        if numpy_bools && matches!(op, FloorDiv | Mod | Pow | LShift | RShift) {
            ty = Ty::Num(DType::I8);
        }
        if op == Div && !ty.is_float() {
            ty = Ty::Num(DType::F64);
        }
        if op == Pow && !ty.is_float() {
            if let Some(Literal::Int(e)) = r.literal {
                if e < 0 {
                    return Err(self.error(
                        span,
                        "integers to negative integer powers are not allowed (NumPy raises ValueError; \
                         Python's ints give a float): use a float base",
                    ));
                }
                if e <= 16 {
                    let base = self.convert(l, ty);
                    let mut result = self.constant(Literal::Int(1), ty);
                    for _ in 0..e {
                        result = self.binary(Mul, result, base.clone(), span)?;
                    }
                    return Ok(result);
                }
            }
            if l.ty.is_python() && r.ty.is_python() && r.literal.is_none() {
                // Python's ints: a float for a negative exponent, and
                // exact beyond 64 bits; neither is what int64 code can be.
                return Err(self.error(
                    span,
                    "a power of Python ints (loop variables, int arguments) with an exponent known only \
                     when the code runs: Python gives a float for a negative exponent and an exact int \
                     for a large result; use a float base (2.0 ** i) or a NumPy int (np.int64(2) ** i)",
                ));
            }
            return Ok(self.integer_power(l, r, ty, span));
        }
        if matches!(op, BitAnd | BitOr | BitXor | LShift | RShift) {
            self.check_bitwise_operands(l.ty, r.ty, span)?;
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
            FloorDiv | Mod if float => self.float_floor_division(op, x, y, m),
            FloorDiv | Mod => self.integer_floor_division(op, x, y, b.literal, m, unsigned),
            Pow => self.op(&format!("math.powf {x}, {y} : {m}")),
            BitAnd => self.op(&format!("arith.andi {x}, {y} : {m}")),
            BitOr => self.op(&format!("arith.ori {x}, {y} : {m}")),
            BitXor => self.op(&format!("arith.xori {x}, {y} : {m}")),
            LShift | RShift => self.shift(op, x, y, b.literal, ty),
        };
        Ok(Value {
            ssa,
            ty,
            literal: None,
        })
    }

    /// That a bitwise operator applies to operands of types `l` and `r`:
    /// integers (or bools) whose common type is one too.
    pub(super) fn check_bitwise_operands(&self, l: Ty, r: Ty, span: Span) -> Result<()> {
        if !Self::concrete(promote(l, r)).is_float() {
            return Ok(());
        }
        if !l.is_float() && !r.is_float() {
            return Err(self.error(
                span,
                format!(
                    "bitwise operators need one integer type, and {} with {} has none (NumPy promotes them to float64): \
                     convert one operand, e.g. parir.int64(...)",
                    l.name(),
                    r.name()
                ),
            ));
        }
        Err(self.error(span, "bitwise operators need integer operands"))
    }

    /// `x << y` or `x >> y` as NumPy computes them: a count at or above
    /// the bit width (or negative) shifts everything out, leaving 0, or -1
    /// for a negative value shifted right. MLIR's shifts leave that
    /// undefined, so the count is checked unless it is a constant in range.
    fn shift(&mut self, op: BinaryOp, x: &str, y: &str, count: Option<Literal>, ty: Ty) -> String {
        let m = ty.mlir();
        let width = ty.dtype().bits() as i64;
        let signed_right = op == BinaryOp::RShift && !ty.dtype().is_unsigned();
        let instruction = match op {
            BinaryOp::LShift => "shli",
            _ if signed_right => "shrsi",
            _ => "shrui",
        };
        let shifted = self.op(&format!("arith.{instruction} {x}, {y} : {m}"));
        if matches!(count, Some(Literal::Int(c)) if (0..width).contains(&c)) {
            return shifted;
        }
        let limit = self.op(&format!("arith.constant {width} : {m}"));
        let in_range = self.op(&format!("arith.cmpi ult, {y}, {limit} : {m}"));
        let emptied = if signed_right {
            let top = self.op(&format!("arith.constant {} : {m}", width - 1));
            self.op(&format!("arith.shrsi {x}, {top} : {m}"))
        } else {
            self.op(&format!("arith.constant 0 : {m}"))
        };
        self.op(&format!(
            "arith.select {in_range}, {shifted}, {emptied} : {m}"
        ))
    }

    /// Arithmetic between two booleans. NumPy's (a NumPy bool on either
    /// side): `+` is or and `*` is and (a bool result), `& | ^` stay bool,
    /// `-` is a TypeError. Python's (two Python bools): `& | ^` stay bool.
    /// None for the rest, which compute on integers.
    fn boolean_arithmetic(
        &mut self,
        op: BinaryOp,
        l: &Value,
        r: &Value,
        span: Span,
    ) -> Result<Option<Value>> {
        use BinaryOp::*;
        let python = l.ty == Ty::WeakBool && r.ty == Ty::WeakBool;
        if python && !matches!(op, BitAnd | BitOr | BitXor) {
            return Ok(None);
        }
        let instruction = match op {
            Add | BitOr => "ori",
            Mul | BitAnd => "andi",
            BitXor => "xori",
            Sub => {
                return Err(self.error(
                    span,
                    "NumPy does not subtract booleans; use ^ or != for the difference",
                ))
            }
            _ => return Ok(None),
        };
        let ty = if python { Ty::WeakBool } else { Ty::Bool };
        if let (Some(a), Some(b)) = (l.known_truth(), r.known_truth()) {
            let truth = match instruction {
                "ori" => a | b,
                "andi" => a & b,
                _ => a ^ b,
            };
            return Ok(Some(self.constant(Literal::Int(i64::from(truth)), ty)));
        }
        let ssa = self.op(&format!("arith.{instruction} {}, {} : i1", l.ssa, r.ssa));
        Ok(Some(Value {
            ssa,
            ty,
            literal: None,
        }))
    }

    /// A Python bool as the int it is in arithmetic (0 or 1: a Python int
    /// when known, an int64 otherwise); any other value as it is.
    fn python_int_of_bool(&mut self, value: Value) -> Value {
        match (value.ty, value.known_truth()) {
            (Ty::WeakBool, Some(truth)) => {
                self.constant(Literal::Int(i64::from(truth)), Ty::WeakInt)
            }
            (Ty::WeakBool, None) => self.convert(value, Ty::Num(DType::I64)),
            _ => value,
        }
    }

    /// Python's `x // y` or `x % y` on floats (CPython's float_divmod):
    /// from the exact remainder `fmod`, so that `1.0 // 0.1` is 9.0 and
    /// `1.0 % 0.1` is 0.09999999999999995, as in Python, where flooring
    /// the rounded quotient gives 10.0 and 0.0. By zero: NumPy's inf/nan.
    fn float_floor_division(&mut self, op: BinaryOp, x: &str, y: &str, m: &str) -> String {
        let zero = self.op(&format!("arith.constant 0.0 : {m}"));
        let one = self.op(&format!("arith.constant 1.0 : {m}"));
        let half = self.op(&format!("arith.constant 0.5 : {m}"));
        let rem = self.op(&format!("arith.remf {x}, {y} : {m}"));
        // The remainder takes the divisor's sign.
        let rem_nonzero = self.op(&format!("arith.cmpf une, {rem}, {zero} : {m}"));
        let y_negative = self.op(&format!("arith.cmpf olt, {y}, {zero} : {m}"));
        let rem_negative = self.op(&format!("arith.cmpf olt, {rem}, {zero} : {m}"));
        let signs_differ = self.op(&format!("arith.xori {y_negative}, {rem_negative} : i1"));
        let adjust = self.op(&format!("arith.andi {rem_nonzero}, {signs_differ} : i1"));
        if op == BinaryOp::Mod {
            let shifted = self.op(&format!("arith.addf {rem}, {y} : {m}"));
            let adjusted = self.op(&format!("arith.select {adjust}, {shifted}, {rem} : {m}"));
            let signed_zero = self.op(&format!("math.copysign {zero}, {y} : {m}"));
            return self.op(&format!(
                "arith.select {rem_nonzero}, {adjusted}, {signed_zero} : {m}"
            ));
        }
        let exact = self.op(&format!("arith.subf {x}, {rem} : {m}"));
        let div = self.op(&format!("arith.divf {exact}, {y} : {m}"));
        let less = self.op(&format!("arith.subf {div}, {one} : {m}"));
        let div = self.op(&format!("arith.select {adjust}, {less}, {div} : {m}"));
        let floor = self.op(&format!("math.floor {div} : {m}"));
        let excess = self.op(&format!("arith.subf {div}, {floor} : {m}"));
        let round_up = self.op(&format!("arith.cmpf ogt, {excess}, {half} : {m}"));
        let up = self.op(&format!("arith.addf {floor}, {one} : {m}"));
        let floor = self.op(&format!("arith.select {round_up}, {up}, {floor} : {m}"));
        let quotient = self.op(&format!("arith.divf {x}, {y} : {m}"));
        let signed_zero = self.op(&format!("math.copysign {zero}, {quotient} : {m}"));
        let div_nonzero = self.op(&format!("arith.cmpf une, {div}, {zero} : {m}"));
        let result = self.op(&format!(
            "arith.select {div_nonzero}, {floor}, {signed_zero} : {m}"
        ));
        let by_zero = self.op(&format!("arith.cmpf oeq, {y}, {zero} : {m}"));
        self.op(&format!(
            "arith.select {by_zero}, {quotient}, {result} : {m}"
        ))
    }

    /// `x // y` or `x % y` on integers, floored as in Python. The CPU traps
    /// (SIGFPE) on a zero divisor and on the most negative value over -1;
    /// those give NumPy's results instead: 0 by zero, a wrapped quotient
    /// and 0 remainder over -1. A constant divisor needs no guard.
    fn integer_floor_division(
        &mut self,
        op: BinaryOp,
        x: &str,
        y: &str,
        divisor: Option<Literal>,
        m: &str,
        unsigned: bool,
    ) -> String {
        let (divide, constant_ok) = if unsigned {
            (
                "arith.divui",
                matches!(divisor, Some(Literal::Int(d)) if d != 0),
            )
        } else {
            (
                "arith.floordivsi",
                matches!(divisor, Some(Literal::Int(d)) if d != 0 && d != -1),
            )
        };
        let remainder = |this: &mut Self, q: &str, d: &str| {
            if unsigned {
                this.op(&format!("arith.remui {x}, {d} : {m}"))
            } else {
                let p = this.op(&format!("arith.muli {q}, {d} : {m}"));
                this.op(&format!("arith.subi {x}, {p} : {m}"))
            }
        };
        if constant_ok {
            let q = self.op(&format!("{divide} {x}, {y} : {m}"));
            return if op == BinaryOp::Mod {
                remainder(self, &q, y)
            } else {
                q
            };
        }
        let zero = self.op(&format!("arith.constant 0 : {m}"));
        let one = self.op(&format!("arith.constant 1 : {m}"));
        let by_zero = self.op(&format!("arith.cmpi eq, {y}, {zero} : {m}"));
        let (unsafe_divisor, by_minus_one) = if unsigned {
            (by_zero.clone(), None)
        } else {
            let minus_one = self.op(&format!("arith.constant -1 : {m}"));
            let by_minus_one = self.op(&format!("arith.cmpi eq, {y}, {minus_one} : {m}"));
            let either = self.op(&format!("arith.ori {by_zero}, {by_minus_one} : i1"));
            (either, Some(by_minus_one))
        };
        let d = self.op(&format!("arith.select {unsafe_divisor}, {one}, {y} : {m}"));
        let q = self.op(&format!("{divide} {x}, {d} : {m}"));
        if op == BinaryOp::Mod {
            // x % 1 is 0: right for both guarded divisors.
            return remainder(self, &q, &d);
        }
        let q = match by_minus_one {
            Some(by_minus_one) => {
                let negated = self.op(&format!("arith.subi {zero}, {x} : {m}"));
                self.op(&format!(
                    "arith.select {by_minus_one}, {negated}, {q} : {m}"
                ))
            }
            None => q,
        };
        self.op(&format!("arith.select {by_zero}, {zero}, {q} : {m}"))
    }

    pub(super) fn compare(&mut self, op: CompareOp, l: Value, r: Value) -> Value {
        // Python numbers compare to a Python bool, anything NumPy's to a
        // NumPy bool.
        let result = if l.ty.is_python() && r.ty.is_python() {
            Ty::WeakBool
        } else {
            Ty::Bool
        };
        let ty = if l.ty.is_bool() && r.ty.is_bool() {
            Ty::Bool
        } else {
            exact_type(&l, &r)
        };
        // A uint64 against a negative Python int: NumPy's answer is known.
        if ty == Ty::Num(DType::U64) {
            let negative = |v: &Value| matches!((v.literal, v.ty), (Some(Literal::Int(i)), Ty::WeakInt) if i < 0);
            if negative(&l) || negative(&r) {
                let unsigned_is_greater = negative(&r);
                let holds = match op {
                    CompareOp::Eq => false,
                    CompareOp::Ne => true,
                    CompareOp::Gt | CompareOp::Ge => unsigned_is_greater,
                    CompareOp::Lt | CompareOp::Le => !unsigned_is_greater,
                };
                return self.constant(Literal::Int(i64::from(holds)), result);
            }
        }
        let (a, b) = (self.convert(l, ty), self.convert(r, ty));
        if let Some(holds) = fold_compare(op, &a, &b, ty) {
            return self.constant(Literal::Int(i64::from(holds)), result);
        }
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
            let u = ty.dtype().orders_unsigned();
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
            ty: result,
            literal: None,
        }
    }

    pub(super) fn builtin(
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
        if name == "bool" {
            // Python's truth: nonzero, NaN included.
            arity(1)?;
            return Ok(self.convert(values[0].clone(), Ty::WeakBool));
        }
        if let Some(dtype) = DType::from_name(name) {
            arity(1)?;
            return Ok(self.convert(values[0].clone(), Ty::Num(dtype)));
        }
        match name {
            "min" | "max" | "fmin" | "fmax" => {
                if values.len() < 2 {
                    return Err(self.error(span, format!("{name}(a, b) takes at least two values; over a slice use parir.{name}(x[:])")));
                }
                let mut iter = values.into_iter();
                let mut result = iter.next().expect("two values");
                let smaller = name.ends_with("min");
                for next in iter {
                    // Of two bools, a bool (NumPy's maximum of bools, and
                    // Python's max(True, False)).
                    let ty = if result.ty == Ty::WeakBool && next.ty == Ty::WeakBool {
                        Ty::WeakBool
                    } else if result.ty.is_bool() && next.ty.is_bool() {
                        Ty::Bool
                    } else {
                        exact_type(&result, &next)
                    };
                    // (A Python int meeting a uint64 takes its type: a
                    // negative one would wrap.)
                    if (ty.is_float() || ty == Ty::Num(DType::U64))
                        && mixes_uint64_with_signed(&result, &next)
                    {
                        result = self.mixed_sign_extreme(smaller, ty, result, next);
                        continue;
                    }
                    let (a, b) = (self.convert(result, ty), self.convert(next, ty));
                    // min/max propagate NaN (NumPy's minimum/maximum);
                    // fmin/fmax take the number over a NaN.
                    let op = match (name, ty.is_float(), ty.dtype().orders_unsigned()) {
                        ("min", true, _) => "minimumf",
                        ("max", true, _) => "maximumf",
                        ("fmin", true, _) => "minnumf",
                        ("fmax", true, _) => "maxnumf",
                        (_, false, true) if smaller => "minui",
                        (_, false, true) => "maxui",
                        _ if smaller => "minsi",
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
                // abs(True) is the int 1 (abs of a NumPy bool a bool).
                let value = self.python_int_of_bool(values[0].clone());
                let ty = Self::concrete(value.ty);
                let v = self.convert(value, ty);
                if !ty.is_float() && (ty.dtype().is_unsigned() || ty.dtype() == DType::Bool) {
                    // Never negative: math.absi would read the top bit as a sign.
                    return Ok(v);
                }
                let op = if ty.is_float() {
                    "math.absf"
                } else {
                    "math.absi"
                };
                Ok(self.computed(&format!("{op} {} : {}", v.ssa, ty.mlir()), ty))
            }
            "fabs" => {
                arity(1)?;
                let v = self.as_float(values[0].clone());
                Ok(self.computed(&format!("math.absf {} : {}", v.ssa, v.ty.mlir()), v.ty))
            }
            // NumPy (from 2.3) keeps integers (and bools) as they are.
            "floor" | "ceil" | "trunc" if !Self::concrete(values[0].ty).is_float() => {
                arity(1)?;
                let value = values[0].clone();
                Ok(self.convert(value.clone(), Self::concrete(value.ty)))
            }
            name if FLOAT_FUNCTIONS.contains(&name) => {
                arity(1)?;
                let v = self.as_float(values[0].clone());
                let op = if name == "rint" { "roundeven" } else { name };
                Ok(self.computed(&format!("math.{op} {} : {}", v.ssa, v.ty.mlir()), v.ty))
            }
            // Python's math.floor, math.ceil and round(x): ints.
            "floor_int" | "ceil_int" | "round_int" => {
                arity(1)?;
                let value = values[0].clone();
                if name == "round_int" && value.ty == Ty::Bool {
                    return Err(self.error(
                        span,
                        "round() of a NumPy bool, which defines no __round__ (Python raises \
                         TypeError); use int(b)",
                    ));
                }
                if !Self::concrete(value.ty).is_float() {
                    return Ok(self.convert(value, Ty::Num(DType::I64)));
                }
                let v = self.convert(value.clone(), Self::concrete(value.ty));
                let op = match name {
                    "floor_int" => "floor",
                    "ceil_int" => "ceil",
                    _ => "roundeven",
                };
                let rounded =
                    self.computed(&format!("math.{op} {} : {}", v.ssa, v.ty.mlir()), v.ty);
                Ok(self.convert(rounded, Ty::Num(DType::I64)))
            }
            "isnan" | "isinf" | "isfinite" | "isnan_python" | "isinf_python"
            | "isfinite_python" => {
                arity(1)?;
                // math's answer Python bools, NumPy's NumPy bools.
                let (name, bool_kind) = match name.strip_suffix("_python") {
                    Some(numpy_name) => (numpy_name, Ty::WeakBool),
                    None => (name, Ty::Bool),
                };
                let value = values[0].clone();
                if !Self::concrete(value.ty).is_float() {
                    // Integers are finite numbers.
                    return Ok(self.constant(Literal::Int((name == "isfinite") as i64), bool_kind));
                }
                let v = self.convert(value.clone(), Self::concrete(value.ty));
                let m = v.ty.mlir();
                let ssa = if name == "isnan" {
                    self.op(&format!("arith.cmpf uno, {}, {} : {m}", v.ssa, v.ssa))
                } else {
                    let magnitude = self.op(&format!("math.absf {} : {m}", v.ssa));
                    let infinity = self.literal(Literal::Float(f64::INFINITY), v.ty);
                    // `olt` is false for NaN: NaN is neither finite nor infinite.
                    let predicate = if name == "isinf" { "oeq" } else { "olt" };
                    self.op(&format!(
                        "arith.cmpf {predicate}, {magnitude}, {} : {m}",
                        infinity.ssa
                    ))
                };
                Ok(Value {
                    ssa,
                    ty: bool_kind,
                    literal: None,
                })
            }
            "atan2" | "pow" | "copysign" | "fmod" | "fmod_numpy" => {
                arity(2)?;
                let common = match Self::concrete(promote(values[0].ty, values[1].ty)) {
                    t if t.is_bool() => Ty::Num(DType::I8), // as NumPy's fmod of bools
                    t => t,
                };
                if name == "fmod_numpy" && !common.is_float() {
                    return Ok(self.integer_fmod(values[0].clone(), values[1].clone(), common));
                }
                let ty = if common.is_float() {
                    common
                } else {
                    Ty::Num(DType::F64)
                };
                let (a, b) = (
                    self.convert(values[0].clone(), ty),
                    self.convert(values[1].clone(), ty),
                );
                let op = match name {
                    "pow" => "math.powf",
                    "atan2" => "math.atan2",
                    "copysign" => "math.copysign",
                    // C's fmod: the sign of the dividend, as math.fmod and np.fmod.
                    _ => "arith.remf",
                };
                Ok(self.computed(&format!("{op} {}, {} : {}", a.ssa, b.ssa, ty.mlir()), ty))
            }
            _ => Err(self.error(span, format!("{name}() cannot be called in JIT functions"))),
        }
    }

    /// `base ** exponent` of integers (type `ty`) by squaring, for an
    /// exponent known only when the code runs (or above 16), wrapping as
    /// NumPy's does. A negative exponent, where NumPy raises, gives 0 here
    /// (1 and -1 to it are 1 and 1 or -1, as repeated division would
    /// truncate); with `debug`, it raises ValueError as NumPy does.
    fn integer_power(&mut self, base: Value, exponent: Value, ty: Ty, span: Span) -> Value {
        let m = ty.mlir();
        let base = self.convert(base, ty);
        // The exponent's bits in 64; a uint64 one is never negative (its
        // loop shifts them out logically).
        let unsigned_exponent = Self::concrete(exponent.ty).dtype().is_unsigned();
        let exponent = self.convert(exponent, Ty::Num(DType::I64));
        let e = exponent.ssa;
        let zero = self.op("arith.constant 0 : i64");
        let one_i64 = self.op("arith.constant 1 : i64");
        let one = self.op(&format!("arith.constant 1 : {m}"));
        let negative = if unsigned_exponent {
            self.op("arith.constant false")
        } else {
            self.op(&format!("arith.cmpi slt, {e}, {zero} : i64"))
        };
        if self.debug && !unsigned_exponent {
            let code = self.check_site(span, CheckKind::NegativePower);
            self.line(&format!("scf.if {negative} {{"));
            self.indent += 1;
            self.report_failed_check(code);
            self.indent -= 1;
            self.line("}");
        }
        // Squaring: while e > 0 { if e & 1: r *= b; b *= b; e >>= 1 }.
        let result = self.fresh();
        let (r, b, k) = (self.fresh(), self.fresh(), self.fresh());
        let (r2, b2, k2) = (self.fresh(), self.fresh(), self.fresh());
        let start = self.op(&format!("arith.select {negative}, {zero}, {e} : i64"));
        self.line(&format!(
            "{result}:3 = scf.while ({r} = {one}, {b} = {}, {k} = {start}) : ({m}, {m}, i64) -> ({m}, {m}, i64) {{",
            base.ssa
        ));
        self.indent += 1;
        let more = self.op(&format!("arith.cmpi ne, {k}, {zero} : i64"));
        self.line(&format!(
            "scf.condition({more}) {r}, {b}, {k} : {m}, {m}, i64"
        ));
        self.indent -= 1;
        self.line("} do {");
        self.indent += 1;
        self.line(&format!("^bb0({r2}: {m}, {b2}: {m}, {k2}: i64):"));
        let bit = self.op(&format!("arith.andi {k2}, {one_i64} : i64"));
        let odd = self.op(&format!("arith.cmpi ne, {bit}, {zero} : i64"));
        let times = self.op(&format!("arith.muli {r2}, {b2} : {m}"));
        let next_r = self.op(&format!("arith.select {odd}, {times}, {r2} : {m}"));
        let next_b = self.op(&format!("arith.muli {b2}, {b2} : {m}"));
        let next_k = self.op(&format!("arith.shrui {k2}, {one_i64} : i64"));
        self.line(&format!(
            "scf.yield {next_r}, {next_b}, {next_k} : {m}, {m}, i64"
        ));
        self.indent -= 1;
        self.line("}");
        let power = format!("{result}#0");
        // A negative exponent: 0, except for bases 1 and -1.
        let minus_one = self.op(&format!("arith.constant -1 : {m}"));
        let is_one = self.op(&format!("arith.cmpi eq, {}, {one} : {m}", base.ssa));
        let is_minus_one = self.op(&format!("arith.cmpi eq, {}, {minus_one} : {m}", base.ssa));
        let odd_exponent = {
            let bit = self.op(&format!("arith.andi {e}, {one_i64} : i64"));
            self.op(&format!("arith.cmpi ne, {bit}, {zero} : i64"))
        };
        let sign = self.op(&format!(
            "arith.select {odd_exponent}, {minus_one}, {one} : {m}"
        ));
        let zero_m = self.op(&format!("arith.constant 0 : {m}"));
        let unit = self.op(&format!(
            "arith.select {is_minus_one}, {sign}, {zero_m} : {m}"
        ));
        let unit = self.op(&format!("arith.select {is_one}, {one}, {unit} : {m}"));
        self.computed(
            &format!("arith.select {negative}, {unit}, {power} : {m}"),
            ty,
        )
    }

    /// Python's min (`smaller`) or max of `a` and `b`, one a uint64 and the
    /// other a signed integer, whose common type `ty` is float64 (or
    /// uint64, for a Python int): no integer type holds both and float64
    /// rounds, so the winner of an exact comparison, in the type that
    /// holds it (a max is at least the uint64, a min at most the signed
    /// one).
    fn mixed_sign_extreme(&mut self, smaller: bool, ty: Ty, a: Value, b: Value) -> Value {
        let negative_literal = |v: &Value| matches!(v.literal, Some(Literal::Int(k)) if k < 0);
        if negative_literal(&a) || negative_literal(&b) {
            // Below every uint64: it loses a max, wins a min.
            let (negative, other) = if negative_literal(&a) { (a, b) } else { (b, a) };
            return if smaller {
                self.convert(negative, Ty::Num(DType::I64))
            } else {
                let ty = Self::concrete(other.ty);
                self.convert(other, ty)
            };
        }
        if !smaller && !ty.is_float() {
            // A Python int with a uint64: a max raises the int to 0, which
            // keeps the op a uint64 max (that reductions recognise).
            let unsigned_first = Self::concrete(a.ty).dtype() == DType::U64;
            let (u, i) = if unsigned_first { (a, b) } else { (b, a) };
            let i = self.convert(i, Ty::Num(DType::I64));
            let zero = self.op("arith.constant 0 : i64");
            let negative = self.op(&format!("arith.cmpi slt, {}, {zero} : i64", i.ssa));
            let raised = self.op(&format!("arith.select {negative}, {zero}, {} : i64", i.ssa));
            let u = self.convert(u, Ty::Num(DType::U64));
            let (x, y) = if unsigned_first {
                (u.ssa, raised)
            } else {
                (raised, u.ssa)
            };
            return self.computed(&format!("arith.maxui {x}, {y} : i64"), Ty::Num(DType::U64));
        }
        let first_wins = if smaller {
            self.mixed_sign_greater(&b, &a)
        } else {
            self.mixed_sign_greater(&a, &b)
        };
        let winner_ty = Ty::Num(if smaller { DType::I64 } else { DType::U64 });
        let (a, b) = (self.convert(a, winner_ty), self.convert(b, winner_ty));
        self.computed(
            &format!("arith.select {first_wins}, {}, {} : i64", a.ssa, b.ssa),
            winner_ty,
        )
    }

    /// The i1 `a > b`, exactly, for integers of which one is uint64 and
    /// the other signed (which NumPy would compare in float64).
    pub(super) fn mixed_sign_greater(&mut self, a: &Value, b: &Value) -> String {
        let bits = |this: &mut Self, v: &Value| -> (String, bool) {
            let unsigned = Self::concrete(v.ty).dtype().is_unsigned();
            let ty = Ty::Num(if unsigned { DType::U64 } else { DType::I64 });
            (this.convert(v.clone(), ty).ssa, unsigned)
        };
        let (x, a_unsigned) = bits(self, a);
        let (y, _) = bits(self, b);
        let zero = self.op("arith.constant 0 : i64");
        if a_unsigned {
            // Greater than any negative number, else as unsigned.
            let negative = self.op(&format!("arith.cmpi slt, {y}, {zero} : i64"));
            let above = self.op(&format!("arith.cmpi ugt, {x}, {y} : i64"));
            self.op(&format!("arith.ori {negative}, {above} : i1"))
        } else {
            let not_negative = self.op(&format!("arith.cmpi sge, {x}, {zero} : i64"));
            let above = self.op(&format!("arith.cmpi ugt, {x}, {y} : i64"));
            self.op(&format!("arith.andi {not_negative}, {above} : i1"))
        }
    }

    /// NumPy's fmod of integers, in their common type `ty`: C's remainder
    /// (the dividend's sign), and 0 for a zero divisor (NumPy warns) and
    /// for a divisor of -1 (whose remainder of the minimum would
    /// overflow).
    fn integer_fmod(&mut self, a: Value, b: Value, ty: Ty) -> Value {
        let (a, b) = (self.convert(a, ty), self.convert(b, ty));
        let m = ty.mlir();
        let unsigned = ty.dtype().is_unsigned();
        let zero = self.op(&format!("arith.constant 0 : {m}"));
        let one = self.op(&format!("arith.constant 1 : {m}"));
        let mut trivial = self.op(&format!("arith.cmpi eq, {}, {zero} : {m}", b.ssa));
        if !unsigned {
            let minus_one = self.op(&format!("arith.constant -1 : {m}"));
            let negative_one = self.op(&format!("arith.cmpi eq, {}, {minus_one} : {m}", b.ssa));
            trivial = self.op(&format!("arith.ori {trivial}, {negative_one} : i1"));
        }
        // A remainder by 1 is 0: the answer for both.
        let divisor = self.op(&format!("arith.select {trivial}, {one}, {} : {m}", b.ssa));
        let op = if unsigned { "remui" } else { "remsi" };
        self.computed(&format!("arith.{op} {}, {divisor} : {m}", a.ssa), ty)
    }

    /// `value` as a float: its own float type, or float64 for an integer
    /// or a bool (NumPy's and Python's math functions of ints).
    fn as_float(&mut self, value: Value) -> Value {
        let ty = match Self::concrete(value.ty) {
            t if t.is_float() => t,
            _ => Ty::Num(DType::F64),
        };
        self.convert(value, ty)
    }

    /// The result of `op_text` (one op), of type `ty`.
    pub(super) fn computed(&mut self, op_text: &str, ty: Ty) -> Value {
        let ssa = self.op(op_text);
        Value {
            ssa,
            ty,
            literal: None,
        }
    }

    // ----- statements -----
}

/// Whether one of two integers is a uint64 and the other a signed integer
/// (NumPy's common type of the two is float64).
fn mixes_uint64_with_signed(a: &Value, b: &Value) -> bool {
    let kind = |v: &Value| {
        let d = Emitter::concrete(v.ty).dtype();
        (
            d == DType::U64,
            !d.is_float() && !d.is_unsigned() && d != DType::Bool,
        )
    };
    let ((a_u64, a_signed), (b_u64, b_signed)) = (kind(a), kind(b));
    (a_u64 && b_signed) || (b_u64 && a_signed)
}

/// The type two values are compared in (or take min/max in, or are
/// chosen between by `x if c else y`): their
/// promoted type, or int64 where that is an integer type that cannot hold
/// a Python int on the other side (`a > -1` for uint8 `a`), so that the
/// answer is NumPy's exact one. uint64 has no wider type: a Python int it
/// cannot hold is reported by `convert`, or answered by `compare`.
pub(super) fn exact_type(l: &Value, r: &Value) -> Ty {
    let ty = Emitter::concrete(promote(l.ty, r.ty));
    let outside = |v: &Value| matches!((v.literal, v.ty), (Some(Literal::Int(i)), Ty::WeakInt) if !ty.dtype().holds(i));
    match ty {
        Ty::Num(d) if !d.is_float() && d != DType::U64 && (outside(l) || outside(r)) => {
            Ty::Num(DType::I64)
        }
        _ => ty,
    }
}
