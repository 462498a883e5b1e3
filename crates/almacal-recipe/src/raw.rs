//! A spanned TOML tree. Every node (and every table key) keeps its byte span
//! so that validation, which happens after parsing, can still point at the
//! recipe's line and column. Built from `toml_edit`'s parsed document because
//! `toml::Spanned` does not survive serde's untagged/flattened enums and
//! loses the spans of `[a.b]` header keys.

use std::ops::Range;

use toml_edit::{ImDocument, Item, Value};

/// A value with the byte span it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Range<usize>,
    pub value: RawValue,
}

/// A key with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub span: Range<usize>,
    pub name: String,
}

/// TOML values; tables keep their keys in source order.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Vec<(Key, Node)>),
}

impl RawValue {
    /// The TOML type name used in "expected X, found Y" messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            RawValue::Str(_) => "a string",
            RawValue::Int(_) => "an integer",
            RawValue::Float(_) => "a float",
            RawValue::Bool(_) => "a boolean",
            RawValue::Datetime(_) => "a datetime",
            RawValue::Array(_) => "an array",
            RawValue::Table(_) => "a table",
        }
    }
}

impl Node {
    pub fn as_table(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            RawValue::Table(t) => Some(t),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            RawValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// A TOML syntax error with its byte span.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub span: Range<usize>,
    pub message: String,
}

/// Parse TOML text into a spanned tree (the root is a table).
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let doc = ImDocument::parse(text.to_string()).map_err(|e| SyntaxError {
        span: e.span().unwrap_or(0..0),
        message: e.message().trim().to_string(),
    })?;
    let root = doc.as_table();
    Ok(Node {
        span: 0..0,
        value: RawValue::Table(table_entries(root.iter().map(|(k, _)| k), |k| {
            root.get_key_value(k)
        })),
    })
}

fn table_entries<'a, I, F>(keys: I, get: F) -> Vec<(Key, Node)>
where
    I: Iterator<Item = &'a str>,
    F: Fn(&str) -> Option<(&'a toml_edit::Key, &'a Item)>,
{
    let mut out = Vec::new();
    for name in keys {
        let Some((key, item)) = get(name) else {
            continue;
        };
        let key_span = key.span().unwrap_or(0..0);
        if let Some(node) = item_node(item, &key_span) {
            out.push((
                Key {
                    span: key_span,
                    name: name.to_string(),
                },
                node,
            ));
        }
    }
    out
}

fn item_node(item: &Item, key_span: &Range<usize>) -> Option<Node> {
    // Implicit tables (`stage` in `[stage.x]`) have no span: use the key's.
    let span = item.span().unwrap_or_else(|| key_span.clone());
    let value = match item {
        Item::None => return None,
        Item::Value(v) => return Some(value_node(v)),
        Item::Table(t) => RawValue::Table(table_entries(t.iter().map(|(k, _)| k), |k| {
            t.get_key_value(k)
        })),
        Item::ArrayOfTables(a) => RawValue::Array(
            a.iter()
                .map(|t| Node {
                    span: t.span().unwrap_or_else(|| span.clone()),
                    value: RawValue::Table(table_entries(t.iter().map(|(k, _)| k), |k| {
                        t.get_key_value(k)
                    })),
                })
                .collect(),
        ),
    };
    Some(Node { span, value })
}

fn value_node(v: &Value) -> Node {
    let span = v.span().unwrap_or(0..0);
    let value = match v {
        Value::String(s) => RawValue::Str(s.value().clone()),
        Value::Integer(i) => RawValue::Int(*i.value()),
        Value::Float(f) => RawValue::Float(*f.value()),
        Value::Boolean(b) => RawValue::Bool(*b.value()),
        Value::Datetime(d) => RawValue::Datetime(d.value().to_string()),
        Value::Array(a) => RawValue::Array(a.iter().map(value_node).collect()),
        Value::InlineTable(t) => {
            let mut entries = Vec::new();
            for (name, _) in t.iter() {
                if let Some((key, item)) = t.get_key_value(name) {
                    let key_span = key.span().unwrap_or(0..0);
                    if let Some(node) = item_node(item, &key_span) {
                        entries.push((
                            Key {
                                span: key_span,
                                name: name.to_string(),
                            },
                            node,
                        ));
                    }
                }
            }
            RawValue::Table(entries)
        }
    };
    Node { span, value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_key_and_value_spans() {
        let text = "[stage.bp]\ntask = \"bandpass\"\ngaintable = [\"a\", \"b\"]\n";
        let root = parse(text).expect("parses");
        let stage = &root.as_table().expect("table")[0];
        assert_eq!(stage.0.name, "stage");
        let bp = &stage.1.as_table().expect("table")[0];
        assert_eq!(&text[bp.0.span.clone()], "bp");
        let entries = bp.1.as_table().expect("table");
        assert_eq!(&text[entries[0].0.span.clone()], "task");
        assert_eq!(&text[entries[0].1.span.clone()], "\"bandpass\"");
        let RawValue::Array(items) = &entries[1].1.value else {
            panic!("array expected")
        };
        assert_eq!(&text[items[1].span.clone()], "\"b\"");
    }

    #[test]
    fn inline_tables_keep_spans() {
        let text = "commands = [ { mode = \"manual\", spw = \"16\" } ]\n";
        let root = parse(text).expect("parses");
        let RawValue::Array(items) = &root.as_table().expect("t")[0].1.value else {
            panic!("array")
        };
        let t = items[0].as_table().expect("inline table");
        assert_eq!(&text[t[1].0.span.clone()], "spw");
        assert_eq!(&text[t[1].1.span.clone()], "\"16\"");
    }

    #[test]
    fn syntax_errors_have_spans() {
        let err = parse("a = \n").expect_err("must fail");
        assert!(err.span.start <= 4, "{err:?}");
        assert!(!err.message.is_empty());
    }
}
