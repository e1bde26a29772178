//! The front-end AST of a JIT function, converted from the Python syntax
//! tree. Every construct the compiler does not support is rejected here,
//! with its position.

use super::error::{CompileError, Source, Span};
use super::loop_exits;
use super::namespaces::{self, Namespace, REDUCTIONS};
use super::syntax::{Node, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    BitAnd,
    BitOr,
    BitXor,
    LShift,
    RShift,
}

impl BinaryOp {
    /// The operator as Python writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::FloorDiv => "//",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "**",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "^",
            BinaryOp::LShift => "<<",
            BinaryOp::RShift => ">>",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
    Plus,
    Invert,
}

/// One index in a subscript: an expression, or a slice `lo:hi` (bounds
/// optional).
#[derive(Debug, Clone, PartialEq)]
pub enum Index {
    At(Expr),
    Slice(Option<Expr>, Option<Expr>, Span),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Bool(bool),
    Var(String),
    /// `a[i, j]` or `d["key"][i]`: the base is a variable or a dict entry.
    Subscript {
        base: Box<Expr>,
        indices: Vec<Index>,
    },
    /// `d["key"]` for a dict argument `d`.
    DictEntry {
        dict: String,
        key: String,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Compare {
        op: CompareOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    IfElse {
        condition: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// `parir.exp(x)`, `min(a, b)`, `parir.sum(x[:], axis=1)`, `parir.float32(x)`.
    Builtin {
        name: String,
        args: Vec<Expr>,
        axis: Option<i64>,
    },
    /// `x.shape[k]`, `len(x)`, `x.size`, `x.ndim` of an array (a variable
    /// or a dict entry): constants, as calls specialise on shapes.
    Shape {
        array: Box<Expr>,
        property: ShapeProperty,
    },
    /// A call of another JIT function (as an expression statement).
    Call {
        function: String,
        args: Vec<Expr>,
    },
}

/// What [`ExprKind::Shape`] asks of an array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeProperty {
    /// `x.shape[k]` (negative `k` counts from the end); `len(x)` is axis 0.
    Extent(i64),
    /// `x.size`: the number of elements.
    Size,
    /// `x.ndim`
    Ndim,
    /// Axis `axis` of `n, m = x.shape` (`rank` names): an error unless
    /// the array has `rank` dimensions.
    Unpacked { axis: usize, rank: usize },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl Expr {
    /// The value of an integer literal, negated or not (`-2`).
    pub fn int_literal(&self) -> Option<i64> {
        match &self.kind {
            ExprKind::Int(i) => Some(*i),
            ExprKind::Unary {
                op: UnaryOp::Neg,
                operand,
            } => operand.int_literal()?.checked_neg(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    /// `for var in range(start, stop, step)`.
    For {
        var: String,
        start: Expr,
        stop: Expr,
        step: Expr,
        body: Vec<Stmt>,
    },
    While {
        condition: Expr,
        body: Vec<Stmt>,
    },
    If {
        condition: Expr,
        then: Vec<Stmt>,
        otherwise: Vec<Stmt>,
    },
    /// `target = value` (a variable or a subscript).
    Assign {
        target: Expr,
        value: Expr,
    },
    /// `target op= value`
    AugAssign {
        target: Expr,
        op: BinaryOp,
        value: Expr,
    },
    /// `with parir.gpu:`
    OnDevice(Vec<Stmt>),
    /// A call of another JIT function.
    Call(Expr),
    Pass,
    /// `continue` and `break`: only while a loop is converted, which
    /// rewrites them away (`loop_exits`).
    Continue,
    Break,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    /// The labels (`parir.label('N')`) written just before the statement.
    pub labels: Vec<String>,
    pub span: Span,
}

/// Calls `visit` on every statement of `statements`, nested ones included
/// (loop and `if` bodies, `with parir.gpu:` blocks), outer ones first.
pub fn for_each_statement<'s>(statements: &'s [Stmt], visit: &mut impl FnMut(&'s Stmt)) {
    for statement in statements {
        visit(statement);
        match &statement.kind {
            StmtKind::For { body, .. }
            | StmtKind::While { body, .. }
            | StmtKind::OnDevice(body) => for_each_statement(body, visit),
            StmtKind::If {
                then, otherwise, ..
            } => {
                for_each_statement(then, visit);
                for_each_statement(otherwise, visit);
            }
            StmtKind::Assign { .. }
            | StmtKind::AugAssign { .. }
            | StmtKind::Call(_)
            | StmtKind::Pass
            | StmtKind::Continue
            | StmtKind::Break => {}
        }
    }
}

/// A JIT function's AST.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub params: Vec<String>,
    pub body: Vec<Stmt>,
    pub source: Source,
    pub span: Span,
}

struct Converter<'s> {
    source: &'s Source,
    /// The global names of the modules JIT functions may use (`parir`,
    /// `np`, `math`).
    module_names: Vec<(String, Namespace)>,
    /// The global names of functions of those modules (`from math import
    /// sqrt`): the name, its module and its name there.
    function_names: Vec<(String, Namespace, String)>,
    /// The innermost statement or expression being converted: where an
    /// error about a node without a position (an operator, the parameter
    /// list) is reported.
    position: std::cell::Cell<Span>,
    /// The function's parameters (for messages: `x.fill()` on one is an
    /// array method, not a module's function).
    params: Vec<String>,
}

fn span_of(node: &Node) -> Span {
    Span {
        line: node.line,
        column: node.column,
    }
}

impl Converter<'_> {
    /// Whether `node` is a `Name` of one of the function's parameters.
    fn is_param(&self, node: &Node) -> bool {
        node.str("id")
            .is_some_and(|id| self.params.iter().any(|p| p == id))
    }

    fn error(&self, node: &Node, message: impl Into<String>) -> CompileError {
        let span = if node.line == 0 {
            self.position.get()
        } else {
            span_of(node)
        };
        self.source.error(span, message)
    }

    /// Notes `node` as the innermost one with a position.
    fn enter(&self, node: &Node) {
        if node.line != 0 {
            self.position.set(span_of(node));
        }
    }

    /// The module a name refers to, if it is one JIT functions may use.
    fn namespace(&self, node: &Node) -> Option<Namespace> {
        let id = node.str("id").filter(|_| node.kind == "Name")?;
        self.module_names
            .iter()
            .find(|(name, _)| name == id)
            .map(|(_, namespace)| *namespace)
    }

    /// `np.name` → Some((Numpy, "np", "name")); `sqrt` bound by `from
    /// math import sqrt` → Some((Math, "math", "sqrt")).
    fn module_attribute<'n>(&'n self, node: &'n Node) -> Option<(Namespace, &'n str, &'n str)> {
        if node.kind == "Name" {
            let id = node.str("id")?;
            let (_, namespace, attr) =
                self.function_names.iter().find(|(name, _, _)| name == id)?;
            let module = match namespace {
                Namespace::Parir => "parir",
                Namespace::Math => "math",
                Namespace::Numpy => "numpy",
            };
            return Some((*namespace, module, attr));
        }
        if node.kind != "Attribute" {
            return None;
        }
        let module = node.node("value")?;
        Some((
            self.namespace(module)?,
            module.str("id")?,
            node.str("attr")?,
        ))
    }

    /// `parir.name` → Some("name")
    fn parir_attribute<'n>(&'n self, node: &'n Node) -> Option<&'n str> {
        match self.module_attribute(node) {
            Some((Namespace::Parir, _, attr)) => Some(attr),
            _ => None,
        }
    }

    fn body(&self, values: &[Value]) -> Result<Vec<Stmt>, CompileError> {
        let mut statements = Vec::new();
        let mut labels: Vec<(String, Span)> = Vec::new();
        for value in values {
            let node = value
                .as_node()
                .ok_or_else(|| self.source.error(Span::default(), "malformed syntax tree"))?;
            if let Some(label) = self.label(node)? {
                labels.push((label, span_of(node)));
                continue;
            }
            if let Some(target) = tuple_target(node) {
                if let Some((_, span)) = labels.first() {
                    return Err(self.source.error(*span, "a label must be followed by the statement it labels (a for-loop or a slice statement), not a tuple assignment"));
                }
                statements.extend(self.unpacking(node, target)?);
                continue;
            }
            let mut statement = self.statement(node)?;
            // A loop is one level of parallelism: one label. (A slice
            // statement takes one per loop it makes, checked where it is
            // expanded.)
            if matches!(statement.kind, StmtKind::For { .. }) && labels.len() > 1 {
                return Err(self.source.error(
                    labels[1].1,
                    format!(
                        "a for-loop takes one label, and this one has {}: '{}'; give the loop one of them",
                        labels.len(),
                        labels.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>().join("', '")
                    ),
                ));
            }
            statement.labels = labels.drain(..).map(|(l, _)| l).collect();
            statements
                .extend(loop_exits::without_break(statement).map_err(|e| self.exit_error(e))?);
        }
        if let Some((_, span)) = labels.first() {
            return Err(self.source.error(*span, "a label must be followed by the statement it labels (a for-loop or a slice statement)"));
        }
        Ok(statements)
    }

    /// `a, b = e1, e2` and `n, m = x.shape`. Python evaluates every value,
    /// then assigns the targets left to right; assignments in order do the
    /// same unless a value reads what an earlier target assigns (`a, b =
    /// b, a`), and then the values go through temporaries first.
    fn unpacking(&self, node: &Node, target: &Node) -> Result<Vec<Stmt>, CompileError> {
        let span = span_of(node);
        let mut targets = Vec::new();
        for element in target.list("elts").iter().filter_map(Value::as_node) {
            match element.kind.as_str() {
                "Starred" => {
                    return Err(self.error(
                        element,
                        "starred assignment (a, *b = ...) is not supported in JIT functions",
                    ))
                }
                "Tuple" | "List" => {
                    return Err(self.error(
                        element,
                        "nested tuple assignment is not supported in JIT functions",
                    ))
                }
                _ => targets.push(self.target(element)?),
            }
        }
        let value = self.child(node, "value")?;
        let values: Vec<Expr> = match value.kind.as_str() {
            "Tuple" | "List" => {
                let elements: Vec<&Node> = value.list("elts").iter().filter_map(Value::as_node).collect();
                if let Some(starred) = elements.iter().find(|e| e.kind == "Starred") {
                    return Err(self.error(starred, "*values are not supported in JIT functions"));
                }
                if elements.len() != targets.len() {
                    return Err(self.error(
                        node,
                        format!(
                            "{} values cannot be assigned to {} targets (Python raises ValueError)",
                            elements.len(),
                            targets.len()
                        ),
                    ));
                }
                elements.into_iter().map(|e| self.expr(e)).collect::<Result<_, _>>()?
            }
            "Attribute" if value.str("attr") == Some("shape") && self.module_attribute(value).is_none() => {
                let array = self.expr(self.child(value, "value")?)?;
                let rank = targets.len();
                (0..rank)
                    .map(|axis| Expr {
                        kind: ExprKind::Shape {
                            array: Box::new(array.clone()),
                            property: ShapeProperty::Unpacked { axis, rank },
                        },
                        span: span_of(value),
                    })
                    .collect()
            }
            _ => {
                return Err(self.error(
                    value,
                    "a tuple assignment takes a tuple of values (a, b = x, y) or an array's shape (n, m = x.shape)",
                ))
            }
        };
        let in_order = values.iter().enumerate().all(|(k, value)| {
            targets[..k]
                .iter()
                .filter_map(assigned_name)
                .all(|name| !mentions(value, name))
        });
        let assign = |target: Expr, value: Expr| Stmt {
            kind: StmtKind::Assign { target, value },
            labels: Vec::new(),
            span,
        };
        if in_order {
            return Ok(targets
                .into_iter()
                .zip(values)
                .map(|(t, v)| assign(t, v))
                .collect());
        }
        // Names no Python code can have: the temporaries of this statement.
        let temporaries: Vec<Expr> = (0..values.len())
            .map(|k| Expr {
                kind: ExprKind::Var(format!(
                    "(value {} of the tuple at {}:{})",
                    k + 1,
                    span.line,
                    span.column
                )),
                span,
            })
            .collect();
        let mut statements: Vec<Stmt> = temporaries
            .iter()
            .cloned()
            .zip(values)
            .map(|(t, v)| assign(t, v))
            .collect();
        statements.extend(
            targets
                .into_iter()
                .zip(temporaries)
                .map(|(t, v)| assign(t, v)),
        );
        Ok(statements)
    }

    /// `parir.label('N')` as a statement.
    fn label(&self, node: &Node) -> Result<Option<String>, CompileError> {
        if node.kind != "Expr" {
            return Ok(None);
        }
        let Some(call) = node.node("value").filter(|c| c.kind == "Call") else {
            return Ok(None);
        };
        if call.node("func").and_then(|f| self.parir_attribute(f)) != Some("label") {
            return Ok(None);
        }
        match call.list("args") {
            [Value::Node(arg)] if arg.kind == "Constant" => match arg.field("value") {
                Value::Str(label) if !label.is_empty() => Ok(Some(label.clone())),
                _ => Err(self.error(
                    arg,
                    "parir.label() takes a non-empty string, e.g. parir.label('N')",
                )),
            },
            _ => Err(self.error(
                call,
                "parir.label() takes one string, e.g. parir.label('N')",
            )),
        }
    }

    fn statement(&self, node: &Node) -> Result<Stmt, CompileError> {
        self.enter(node);
        let span = span_of(node);
        let kind = match node.kind.as_str() {
            "For" => self.for_loop(node)?,
            "While" => {
                if !node.list("orelse").is_empty() {
                    return Err(self.error(
                        node,
                        "`else` on a while loop is not supported in JIT functions",
                    ));
                }
                StmtKind::While {
                    condition: self.expr(self.child(node, "test")?)?,
                    body: self.loop_body(node)?,
                }
            }
            "If" => StmtKind::If {
                condition: self.expr(self.child(node, "test")?)?,
                then: self.body(node.list("body"))?,
                otherwise: self.body(node.list("orelse"))?,
            },
            "Assign" => {
                let targets = node.list("targets");
                if targets.len() != 1 {
                    return Err(self.error(
                        node,
                        "chained assignment (a = b = ...) is not supported in JIT functions",
                    ));
                }
                let target = targets[0]
                    .as_node()
                    .ok_or_else(|| self.error(node, "malformed assignment"))?;
                StmtKind::Assign {
                    target: self.target(target)?,
                    value: self.expr(self.child(node, "value")?)?,
                }
            }
            "AugAssign" => {
                let op_node = self.child(node, "op")?;
                StmtKind::AugAssign {
                    target: self.target(self.child(node, "target")?)?,
                    op: self.binary_op(op_node)?,
                    value: self.expr(self.child(node, "value")?)?,
                }
            }
            "With" => self.with(node)?,
            "Expr" => {
                let value = self.child(node, "value")?;
                if value.kind == "Constant" && matches!(value.field("value"), Value::Str(_)) {
                    StmtKind::Pass // a docstring
                } else {
                    let call = self.expr(value)?;
                    match call.kind {
                        ExprKind::Call { .. } => StmtKind::Call(call),
                        _ => return Err(self.error(node, "an expression statement has no effect; only calls of JIT functions may stand alone")),
                    }
                }
            }
            "Pass" => StmtKind::Pass,
            "Continue" => StmtKind::Continue,
            "Return" => {
                if node.node("value").is_some() {
                    return Err(self.error(
                        node,
                        "JIT functions cannot return values: write results into an array argument",
                    ));
                }
                return Err(self.error(node, "`return` is not supported in JIT functions"));
            }
            "Try" | "TryStar" => {
                return Err(self.error(node, "try/except is not supported in JIT functions"))
            }
            "Raise" => return Err(self.error(node, "raise is not supported in JIT functions")),
            "FunctionDef" | "AsyncFunctionDef" | "Lambda" => {
                return Err(self.error(
                    node,
                    "nested function definitions are not supported in JIT functions",
                ))
            }
            "ClassDef" => {
                return Err(self.error(node, "class definitions are not supported in JIT functions"))
            }
            "Import" | "ImportFrom" => {
                return Err(self.error(node, "imports are not supported in JIT functions"))
            }
            "Global" | "Nonlocal" => {
                return Err(self.error(
                    node,
                    "global and nonlocal are not supported in JIT functions",
                ))
            }
            "Delete" => return Err(self.error(node, "del is not supported in JIT functions")),
            "Assert" => return Err(self.error(node, "assert is not supported in JIT functions")),
            "Break" => StmtKind::Break,
            "AnnAssign" => {
                return Err(self.error(
                    node,
                    "annotated assignments are not supported in JIT functions",
                ))
            }
            "Match" => {
                return Err(self.error(node, "match statements are not supported in JIT functions"))
            }
            other => {
                return Err(self.error(
                    node,
                    format!("{other} statements are not supported in JIT functions"),
                ))
            }
        };
        Ok(Stmt {
            kind,
            labels: Vec::new(),
            span,
        })
    }

    fn child<'n>(&self, node: &'n Node, field: &str) -> Result<&'n Node, CompileError> {
        node.node(field)
            .ok_or_else(|| self.error(node, format!("malformed syntax tree (no {field})")))
    }

    fn for_loop(&self, node: &Node) -> Result<StmtKind, CompileError> {
        if !node.list("orelse").is_empty() {
            return Err(self.error(
                node,
                "`else` on a for loop is not supported in JIT functions",
            ));
        }
        let target = self.child(node, "target")?;
        if target.kind != "Name" {
            return Err(self.error(
                target,
                "a for loop must bind one variable: for i in range(n)",
            ));
        }
        let iter = self.child(node, "iter")?;
        let is_range = iter.kind == "Call"
            && iter
                .node("func")
                .is_some_and(|f| f.kind == "Name" && f.str("id") == Some("range"));
        if !is_range {
            return Err(self.error(iter, "for loops in JIT functions iterate over range(...)"));
        }
        if !iter.list("keywords").is_empty() {
            return Err(self.error(iter, "range() takes positional arguments"));
        }
        let args: Vec<Expr> = iter
            .list("args")
            .iter()
            .map(|a| {
                self.expr(
                    a.as_node()
                        .ok_or_else(|| self.error(iter, "malformed range"))?,
                )
            })
            .collect::<Result<_, _>>()?;
        let span = span_of(iter);
        let int = |value| Expr {
            kind: ExprKind::Int(value),
            span,
        };
        let (start, stop, step) = match args.len() {
            1 => (int(0), args[0].clone(), int(1)),
            2 => (args[0].clone(), args[1].clone(), int(1)),
            3 => (args[0].clone(), args[1].clone(), args[2].clone()),
            _ => return Err(self.error(iter, "range() takes 1 to 3 arguments")),
        };
        if let ExprKind::Int(0) = step.kind {
            return Err(self
                .source
                .error(step.span, "range() step must not be zero"));
        }
        Ok(StmtKind::For {
            var: target.str("id").unwrap_or_default().to_string(),
            start,
            stop,
            step,
            body: self.loop_body(node)?,
        })
    }

    /// The body of a loop, its `continue`s rewritten into conditions.
    fn loop_body(&self, node: &Node) -> Result<Vec<Stmt>, CompileError> {
        loop_exits::remove(self.body(node.list("body"))?).map_err(|e| self.exit_error(e))
    }

    fn exit_error(&self, error: loop_exits::ExitError) -> CompileError {
        match error {
            loop_exits::ExitError::LeavesDeviceBlock(span) => self.source.error(
                span,
                "continue and break cannot leave a `with parir.gpu:` block; put the loop inside the block",
            ),
            loop_exits::ExitError::BreaksParallelLoop(span) => self.source.error(
                span,
                "break cannot stop a parallel loop (labelled), whose iterations run in no order; \
                 break out of a sequential loop, or skip iterations with continue",
            ),
        }
    }

    fn with(&self, node: &Node) -> Result<StmtKind, CompileError> {
        let items = node.list("items");
        let is_gpu = items.len() == 1
            && items[0]
                .as_node()
                .and_then(|item| item.node("context_expr"))
                .and_then(|e| self.parir_attribute(e))
                == Some("gpu")
            && items[0]
                .as_node()
                .and_then(|item| item.node("optional_vars"))
                .is_none();
        if !is_gpu {
            return Err(self.error(
                node,
                "the only with-statement supported in JIT functions is `with parir.gpu:`",
            ));
        }
        Ok(StmtKind::OnDevice(self.body(node.list("body"))?))
    }

    fn target(&self, node: &Node) -> Result<Expr, CompileError> {
        match node.kind.as_str() {
            "Name" | "Subscript" => self.expr(node),
            "Tuple" | "List" => Err(self.error(
                node,
                "tuple assignment (a, b = ...) is not supported in JIT functions",
            )),
            "Attribute" => Err(self.error(
                node,
                "assigning to attributes is not supported in JIT functions",
            )),
            _ => Err(self.error(node, "cannot assign to this expression")),
        }
    }

    fn binary_op(&self, node: &Node) -> Result<BinaryOp, CompileError> {
        Ok(match node.kind.as_str() {
            "Add" => BinaryOp::Add,
            "Sub" => BinaryOp::Sub,
            "Mult" => BinaryOp::Mul,
            "Div" => BinaryOp::Div,
            "FloorDiv" => BinaryOp::FloorDiv,
            "Mod" => BinaryOp::Mod,
            "Pow" => BinaryOp::Pow,
            "BitAnd" => BinaryOp::BitAnd,
            "BitOr" => BinaryOp::BitOr,
            "BitXor" => BinaryOp::BitXor,
            "LShift" => BinaryOp::LShift,
            "RShift" => BinaryOp::RShift,
            other => {
                return Err(self.error(
                    node,
                    format!("the operator {other} is not supported in JIT functions"),
                ))
            }
        })
    }

    fn expr(&self, node: &Node) -> Result<Expr, CompileError> {
        self.enter(node);
        let span = span_of(node);
        let boxed = |n: &Node, field: &str| -> Result<Box<Expr>, CompileError> {
            Ok(Box::new(self.expr(self.child(n, field)?)?))
        };
        let kind = match node.kind.as_str() {
            "Constant" => match node.field("value") {
                Value::Int(i) => ExprKind::Int(*i),
                Value::BigInt(text) => {
                    return Err(self.error(
                        node,
                        format!(
                            "the int {text} does not fit int64, the widest integer JIT functions compute with \
                             (write it as a float, e.g. {:e}, if that is what you mean)",
                            text.parse::<f64>().unwrap_or(f64::INFINITY)
                        ),
                    ))
                }
                Value::Float(f) => ExprKind::Float(*f),
                Value::Bool(b) => ExprKind::Bool(*b),
                Value::Str(_) => {
                    return Err(self.error(node, "strings are not supported in JIT functions"))
                }
                Value::Other(kind) => {
                    return Err(self.error(
                        node,
                        format!("{kind} constants are not supported in JIT functions"),
                    ))
                }
                Value::None => {
                    return Err(self.error(node, "None is not supported in JIT functions"))
                }
                _ => {
                    return Err(self.error(node, "this constant is not supported in JIT functions"))
                }
            },
            "Name" => {
                let id = node.str("id").unwrap_or_default();
                match id {
                    "True" => ExprKind::Bool(true),
                    "False" => ExprKind::Bool(false),
                    _ => ExprKind::Var(id.to_string()),
                }
            }
            "Attribute" => match self.module_attribute(node) {
                Some((namespace, module, name)) => match namespaces::constant(namespace, name) {
                    Some(value) => ExprKind::Float(value),
                    None => {
                        let supported = match namespace {
                            Namespace::Parir => "parir.inf",
                            Namespace::Math => "math.pi, math.e, math.tau, math.inf, math.nan",
                            Namespace::Numpy => "pi, e, inf, nan",
                        };
                        return Err(self.error(
                            node,
                            format!("{module}.{name} is not a value JIT functions know; supported: {supported}"),
                        ));
                    }
                },
                None => {
                    let array = self.child(node, "value")?;
                    let property = match node.str("attr") {
                        Some("size") => ShapeProperty::Size,
                        Some("ndim") => ShapeProperty::Ndim,
                        Some("shape") => {
                            return Err(self.error(
                                node,
                                "x.shape is a tuple, which JIT functions do not have: use x.shape[k]",
                            ))
                        }
                        _ => {
                            return Err(self.error(
                                node,
                                "attribute access is not supported in JIT functions (but x.shape[k], x.size and x.ndim)",
                            ))
                        }
                    };
                    ExprKind::Shape {
                        array: Box::new(self.expr(array)?),
                        property,
                    }
                }
            },
            "Subscript" => self.subscript(node)?,
            "BinOp" => ExprKind::Binary {
                op: self.binary_op(self.child(node, "op")?)?,
                lhs: boxed(node, "left")?,
                rhs: boxed(node, "right")?,
            },
            "UnaryOp" => {
                let op = match self.child(node, "op")?.kind.as_str() {
                    "USub" => {
                        // -9223372036854775808: int64's minimum, whose
                        // absolute value alone is beyond int64.
                        let operand = self.child(node, "operand")?;
                        if let ("Constant", Value::BigInt(text)) =
                            (operand.kind.as_str(), operand.field("value"))
                        {
                            if text == "9223372036854775808" {
                                return Ok(Expr {
                                    kind: ExprKind::Int(i64::MIN),
                                    span,
                                });
                            }
                        }
                        UnaryOp::Neg
                    }
                    "UAdd" => UnaryOp::Plus,
                    "Not" => UnaryOp::Not,
                    "Invert" => UnaryOp::Invert,
                    other => {
                        return Err(
                            self.error(node, format!("the operator {other} is not supported"))
                        )
                    }
                };
                ExprKind::Unary {
                    op,
                    operand: boxed(node, "operand")?,
                }
            }
            "Compare" => {
                let ops = node.list("ops");
                let comparators = node.list("comparators");
                if ops.len() != 1 || comparators.len() != 1 {
                    return Err(self.error(node, "chained comparisons (a < b < c) are not supported in JIT functions; use `and`"));
                }
                let op =
                    match ops[0].as_node().map(|n| n.kind.as_str()) {
                        Some("Eq") => CompareOp::Eq,
                        Some("NotEq") => CompareOp::Ne,
                        Some("Lt") => CompareOp::Lt,
                        Some("LtE") => CompareOp::Le,
                        Some("Gt") => CompareOp::Gt,
                        Some("GtE") => CompareOp::Ge,
                        _ => return Err(self.error(
                            node,
                            "only ==, !=, <, <=, >, >= comparisons are supported in JIT functions",
                        )),
                    };
                let rhs = comparators[0]
                    .as_node()
                    .ok_or_else(|| self.error(node, "malformed comparison"))?;
                ExprKind::Compare {
                    op,
                    lhs: boxed(node, "left")?,
                    rhs: Box::new(self.expr(rhs)?),
                }
            }
            "BoolOp" => {
                let values: Vec<Expr> = node
                    .list("values")
                    .iter()
                    .map(|v| {
                        self.expr(
                            v.as_node()
                                .ok_or_else(|| self.error(node, "malformed boolean operation"))?,
                        )
                    })
                    .collect::<Result<_, _>>()?;
                let is_and = self.child(node, "op")?.kind == "And";
                let mut values = values.into_iter();
                let first = values
                    .next()
                    .ok_or_else(|| self.error(node, "empty boolean operation"))?;
                return Ok(values.fold(first, |acc, next| Expr {
                    kind: if is_and {
                        ExprKind::And(Box::new(acc), Box::new(next))
                    } else {
                        ExprKind::Or(Box::new(acc), Box::new(next))
                    },
                    span,
                }));
            }
            "IfExp" => ExprKind::IfElse {
                condition: boxed(node, "test")?,
                then: boxed(node, "body")?,
                otherwise: boxed(node, "orelse")?,
            },
            "Call" => self.call(node)?,
            "ListComp" | "SetComp" | "DictComp" | "GeneratorExp" => {
                return Err(self.error(node, "comprehensions are not supported in JIT functions"))
            }
            "Lambda" => return Err(self.error(node, "lambdas are not supported in JIT functions")),
            "JoinedStr" | "FormattedValue" => {
                return Err(self.error(node, "strings are not supported in JIT functions"))
            }
            "List" | "Tuple" | "Set" | "Dict" => {
                return Err(self.error(
                    node,
                    "lists, tuples, sets and dicts cannot be built in JIT functions",
                ))
            }
            "Await" | "Yield" | "YieldFrom" => {
                return Err(self.error(node, "await and yield are not supported in JIT functions"))
            }
            "NamedExpr" => {
                return Err(self.error(
                    node,
                    "assignment expressions (:=) are not supported in JIT functions",
                ))
            }
            "Starred" => {
                return Err(self.error(
                    node,
                    "starred expressions are not supported in JIT functions",
                ))
            }
            other => {
                return Err(self.error(
                    node,
                    format!("{other} expressions are not supported in JIT functions"),
                ))
            }
        };
        Ok(Expr { kind, span })
    }

    fn subscript(&self, node: &Node) -> Result<ExprKind, CompileError> {
        let base = self.child(node, "value")?;
        let slice = self.child(node, "slice")?;
        // x.shape[k]
        if base.kind == "Attribute"
            && base.str("attr") == Some("shape")
            && self.module_attribute(base).is_none()
        {
            let Some(axis) = self.expr(slice)?.int_literal() else {
                return Err(self.error(slice, "x.shape takes a constant index, e.g. x.shape[0]"));
            };
            return Ok(ExprKind::Shape {
                array: Box::new(self.expr(self.child(base, "value")?)?),
                property: ShapeProperty::Extent(axis),
            });
        }
        // d["key"]: a dict argument's entry.
        if base.kind == "Name" && slice.kind == "Constant" {
            if let Value::Str(key) = slice.field("value") {
                return Ok(ExprKind::DictEntry {
                    dict: base.str("id").unwrap_or_default().to_string(),
                    key: key.clone(),
                });
            }
        }
        let base_expr = match base.kind.as_str() {
            "Name" | "Subscript" => self.expr(base)?,
            _ => {
                return Err(self.error(
                    base,
                    "only arrays (arguments) can be indexed in JIT functions",
                ))
            }
        };
        if let ExprKind::Subscript { .. } = base_expr.kind {
            return Err(self.error(
                node,
                "index arrays with one subscript: a[i, j], not a[i][j]",
            ));
        }
        let items: Vec<&Node> = if slice.kind == "Tuple" {
            slice
                .list("elts")
                .iter()
                .filter_map(Value::as_node)
                .collect()
        } else {
            vec![slice]
        };
        let mut indices = Vec::with_capacity(items.len());
        for item in items {
            if item.kind == "Slice" {
                if item.node("step").is_some() {
                    return Err(self.error(
                        item,
                        "slices with a step are not supported in JIT functions",
                    ));
                }
                let lower = item.node("lower").map(|n| self.expr(n)).transpose()?;
                let upper = item.node("upper").map(|n| self.expr(n)).transpose()?;
                indices.push(Index::Slice(lower, upper, span_of(item)));
            } else {
                indices.push(Index::At(self.expr(item)?));
            }
        }
        Ok(ExprKind::Subscript {
            base: Box::new(base_expr),
            indices,
        })
    }

    fn call(&self, node: &Node) -> Result<ExprKind, CompileError> {
        let function = self.child(node, "func")?;
        if function.kind == "Name" && function.str("id") == Some("print") {
            return Err(self.error(node, "print is not supported in JIT functions"));
        }
        // float('inf'), float('-inf'), float('nan'): Python's spellings of
        // the special values (and of any float).
        if function.kind == "Name" && function.str("id") == Some("float") {
            if let [Value::Node(arg)] = node.list("args") {
                if let (Value::Str(text), true) = (arg.field("value"), arg.kind == "Constant") {
                    return float_of(text).map(ExprKind::Float).ok_or_else(|| {
                        self.error(
                            arg,
                            format!("float({text:?}): JIT functions read strings of numbers, inf and nan"),
                        )
                    });
                }
            }
        }
        let args: Vec<Expr> = node
            .list("args")
            .iter()
            .map(|a| {
                let a = a
                    .as_node()
                    .ok_or_else(|| self.error(node, "malformed call"))?;
                if a.kind == "Starred" {
                    return Err(self.error(a, "*args is not supported in JIT functions"));
                }
                self.expr(a)
            })
            .collect::<Result<_, _>>()?;
        let mut axis = None;
        for keyword in node.list("keywords").iter().filter_map(Value::as_node) {
            match (keyword.str("arg"), keyword.node("value")) {
                (Some("axis"), Some(value)) => {
                    axis = self.expr(value)?.int_literal();
                    if axis.is_none() {
                        return Err(self.error(value, "axis must be an integer constant"));
                    }
                }
                (Some(name), _) => {
                    return Err(self.error(
                        keyword,
                        format!(
                            "keyword arguments (`{name}=...`) are not supported in calls in JIT functions \
                             (only `axis=` of parir's reductions): pass the arguments in order"
                        ),
                    ))
                }
                (None, _) => {
                    return Err(self.error(keyword, "**kwargs is not supported in JIT functions"))
                }
            }
        }
        if let Some((namespace, module, attr)) = self.module_attribute(function) {
            let Some(name) = namespaces::function(namespace, attr) else {
                return Err(self.error(
                    function,
                    format!("{module}.{attr} cannot be called in JIT functions"),
                ));
            };
            if axis.is_some() && !REDUCTIONS.contains(&name) {
                return Err(self.error(node, format!("{module}.{attr} takes no axis")));
            }
            if namespace == Namespace::Numpy && REDUCTIONS.contains(&attr) && args.len() != 1 {
                // NumPy's np.min(a, b) is np.min(a, axis=b).
                let hint = match attr {
                    "min" | "max" => {
                        format!("; of values, use {attr}(a, b) or {module}.{attr}imum(a, b)")
                    }
                    _ => String::new(),
                };
                return Err(self.error(
                    node,
                    format!("{module}.{attr} takes one array slice (and axis=){hint}"),
                ));
            }
            if matches!(attr, "minimum" | "maximum" | "fmin" | "fmax") && args.len() != 2 {
                return Err(self.error(
                    node,
                    format!("{module}.{attr} takes two values, got {}", args.len()),
                ));
            }
            return Ok(ExprKind::Builtin {
                name: name.to_string(),
                args,
                axis,
            });
        }
        if function.kind == "Name" {
            let id = function.str("id").unwrap_or_default();
            match id {
                "round" if args.len() != 1 => {
                    return Err(self.error(
                        node,
                        "round(x, ndigits) is not supported in JIT functions; round(x) is",
                    ))
                }
                "min" | "max" | "abs" | "float" | "int" | "round" | "bool" => {
                    if matches!(id, "min" | "max") && args.len() > 1 && args.iter().any(has_slice) {
                        // Python's min/max of several arguments compare
                        // them as wholes, which for arrays raises (an
                        // ambiguous truth value); of one, they compare its
                        // elements, as parir.min/max reduce.
                        let elementwise = if id == "min" { "minimum" } else { "maximum" };
                        return Err(self.error(
                            node,
                            format!(
                                "Python's {id}() compares whole arrays, which NumPy refuses (an ambiguous truth \
                                 value): use np.{elementwise}(a[:], b[:]) element by element, or parir.{id}(x[:]) \
                                 to reduce"
                            ),
                        ));
                    }
                    if axis.is_some() {
                        let hint = match id {
                            "min" | "max" => format!("; use parir.{id}(x[:], axis=k)"),
                            _ => String::new(),
                        };
                        return Err(self.error(node, format!("{id}() takes no axis{hint}")));
                    }
                    let name = match id {
                        "float" => "float64",
                        "int" => "int64",
                        "round" => "round_int",
                        other => other,
                    };
                    return Ok(ExprKind::Builtin {
                        name: name.to_string(),
                        args,
                        axis: None,
                    });
                }
                "print" => return Err(self.error(node, "print is not supported in JIT functions")),
                "range" => {
                    return Err(self.error(
                        node,
                        "range() is only supported as the iterable of a for loop",
                    ))
                }
                "len" => {
                    let [array] = <[Expr; 1]>::try_from(args).map_err(|args| {
                        self.error(
                            node,
                            format!("len() takes one argument, got {}", args.len()),
                        )
                    })?;
                    return Ok(ExprKind::Shape {
                        array: Box::new(array),
                        property: ShapeProperty::Extent(0),
                    });
                }
                _ => {
                    if axis.is_some() {
                        return Err(
                            self.error(node, "axis is only accepted by parir.sum/prod/min/max")
                        );
                    }
                    return Ok(ExprKind::Call {
                        function: id.to_string(),
                        args,
                    });
                }
            }
        }
        // `helpers.scale(...)`: a function reached through another module
        // (or an object), which JIT code cannot look into.
        let through = match (function.kind.as_str(), function.node("value")) {
            ("Attribute", Some(owner)) if owner.kind == "Name" && self.is_param(owner) => format!(
                " (`{}.{}(...)`: arrays have no methods in JIT functions)",
                owner.str("id").unwrap_or_default(),
                function.str("attr").unwrap_or_default()
            ),
            ("Attribute", Some(owner)) if owner.kind == "Name" => format!(
                " (`{0}.{1}(...)` reaches into `{0}`: call a JIT function of another module by its own name, \
                 `from {0} import {1}`, then `{1}(...)`)",
                owner.str("id").unwrap_or_default(),
                function.str("attr").unwrap_or_default()
            ),
            _ => String::new(),
        };
        Err(self.error(
            node,
            format!(
                "only JIT functions and the functions of parir, NumPy and math can be called in JIT functions{through}"
            ),
        ))
    }
}

/// The value of `float(text)`: a number, or Python's names of infinity
/// and NaN (Rust's parser reads the same, case-insensitively).
fn float_of(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok()
}

/// The target of `a, b = ...` (a tuple or list), if `node` is one.
fn tuple_target(node: &Node) -> Option<&Node> {
    if node.kind != "Assign" {
        return None;
    }
    match node.list("targets") {
        [Value::Node(target)] if matches!(target.kind.as_str(), "Tuple" | "List") => Some(target),
        _ => None,
    }
}

/// The variable or array an assignment target writes.
fn assigned_name(target: &Expr) -> Option<&str> {
    match &target.kind {
        ExprKind::Var(name) => Some(name),
        ExprKind::DictEntry { dict, .. } => Some(dict),
        ExprKind::Subscript { base, .. } => assigned_name(base),
        _ => None,
    }
}

/// Whether `expr` reads `name` (as a value, an array or a dict).
pub fn mentions(expr: &Expr, name: &str) -> bool {
    let any = |exprs: &[&Expr]| exprs.iter().any(|e| mentions(e, name));
    match &expr.kind {
        ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) => false,
        ExprKind::Var(var) => var == name,
        ExprKind::DictEntry { dict, .. } => dict == name,
        ExprKind::Subscript { base, indices } => {
            mentions(base, name)
                || indices.iter().any(|index| match index {
                    Index::At(e) => mentions(e, name),
                    Index::Slice(lower, upper, _) => {
                        lower.iter().chain(upper.iter()).any(|e| mentions(e, name))
                    }
                })
        }
        ExprKind::Binary { lhs, rhs, .. } | ExprKind::Compare { lhs, rhs, .. } => any(&[lhs, rhs]),
        ExprKind::And(a, b) | ExprKind::Or(a, b) => any(&[a, b]),
        ExprKind::Unary { operand, .. } => mentions(operand, name),
        ExprKind::IfElse {
            condition,
            then,
            otherwise,
        } => any(&[condition, then, otherwise]),
        ExprKind::Builtin { args, .. } | ExprKind::Call { args, .. } => {
            args.iter().any(|a| mentions(a, name))
        }
        // Shapes are fixed for the call.
        ExprKind::Shape { .. } => false,
    }
}

/// Whether `expr` has an array slice (`a[:]`, `x[i, 1:]`) in it, outside
/// the indices of subscripts and of slice reductions (`parir.max(x[i,
/// :])` is a number).
fn has_slice(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Subscript { base, indices } => {
            has_slice(base) || indices.iter().any(|i| matches!(i, Index::Slice(..)))
        }
        ExprKind::Binary { lhs, rhs, .. } | ExprKind::Compare { lhs, rhs, .. } => {
            has_slice(lhs) || has_slice(rhs)
        }
        ExprKind::And(a, b) | ExprKind::Or(a, b) => has_slice(a) || has_slice(b),
        ExprKind::Unary { operand, .. } => has_slice(operand),
        ExprKind::IfElse {
            condition,
            then,
            otherwise,
        } => has_slice(condition) || has_slice(then) || has_slice(otherwise),
        ExprKind::Builtin { name, args, .. }
            if REDUCTIONS.contains(&name.as_str()) && args.len() == 1 =>
        {
            false
        }
        ExprKind::Builtin { args, .. } | ExprKind::Call { args, .. } => args.iter().any(has_slice),
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::Var(_)
        | ExprKind::DictEntry { .. }
        | ExprKind::Shape { .. } => false,
    }
}

/// Converts a `FunctionDef` syntax node.
pub fn convert(
    tree: &Node,
    source: &Source,
    module_names: &[(String, Namespace)],
    function_names: &[(String, Namespace, String)],
) -> Result<Function, CompileError> {
    super::stack::on_front_end_stack(|| {
        convert_function(tree, source, module_names, function_names)
    })
}

fn convert_function(
    tree: &Node,
    source: &Source,
    module_names: &[(String, Namespace)],
    function_names: &[(String, Namespace, String)],
) -> Result<Function, CompileError> {
    let mut converter = Converter {
        source,
        module_names: module_names.to_vec(),
        function_names: function_names.to_vec(),
        position: std::cell::Cell::new(span_of(tree)),
        params: Vec::new(),
    };
    if tree.kind != "FunctionDef" {
        let message = if tree.kind == "AsyncFunctionDef" {
            "JIT functions cannot be async"
        } else {
            "@parir.jit decorates a function definition"
        };
        return Err(converter.error(tree, message));
    }
    let arguments = converter.child(tree, "args")?;
    for field in ["vararg", "kwarg"] {
        if arguments.node(field).is_some() {
            return Err(converter.error(
                arguments,
                "*args and **kwargs are not supported in JIT functions",
            ));
        }
    }
    if !arguments.list("kwonlyargs").is_empty() || !arguments.list("defaults").is_empty() {
        return Err(converter.error(
            arguments,
            "JIT functions take positional parameters without defaults",
        ));
    }
    let params: Vec<String> = arguments
        .list("posonlyargs")
        .iter()
        .chain(arguments.list("args"))
        .filter_map(Value::as_node)
        .map(|a| a.str("arg").unwrap_or_default().to_string())
        .collect();
    converter.params = params.clone();
    let function = Function {
        name: tree.str("name").unwrap_or_default().to_string(),
        params,
        body: converter.body(tree.list("body"))?,
        source: source.clone(),
        span: span_of(tree),
    };
    super::assignment::check(&function)?;
    Ok(function)
}
