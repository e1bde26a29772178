//! A Python syntax tree as handed over from Python (`ast` nodes as plain
//! data), before it is checked and turned into the front-end AST.

/// One value of a node's field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Node(Box<Node>),
    List(Vec<Value>),
    Str(String),
    Int(i64),
    /// An int beyond int64's range, as its decimal text.
    BigInt(String),
    Float(f64),
    Bool(bool),
    None,
    /// A constant of another Python type (complex, bytes, Ellipsis), by
    /// its type's name.
    Other(String),
}

/// An `ast.AST` node: its class name, position (1-based line, 1-based
/// column) and fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: String,
    pub line: u32,
    pub column: u32,
    pub fields: Vec<(String, Value)>,
}

impl Node {
    pub fn field(&self, name: &str) -> &Value {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .unwrap_or(&Value::None)
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        match self.field(name) {
            Value::Node(node) => Some(node),
            _ => None,
        }
    }

    pub fn list(&self, name: &str) -> &[Value] {
        match self.field(name) {
            Value::List(items) => items,
            _ => &[],
        }
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        match self.field(name) {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl Value {
    pub fn as_node(&self) -> Option<&Node> {
        match self {
            Value::Node(node) => Some(node),
            _ => None,
        }
    }
}
