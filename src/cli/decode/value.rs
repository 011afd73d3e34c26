//! What `decode` says about a message, as a small tree of labelled values, and its two
//! renderings: indented text for people and JSON for programs. Both render the same tree, so
//! the JSON never says less than the text.

use std::fmt::Write as _;

/// One value of the decoded tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(u64),
    Bool(bool),
    List(Vec<Value>),
    /// A list shown one item a line in the text (proposals, selectors), an array in JSON.
    Rows(Vec<Value>),
    /// Named fields, in the order they are shown.
    Obj(Vec<(&'static str, Value)>),
    /// A one-line summary for the text, with the structure behind it for JSON (a proposal is
    /// `IKE:AES_GCM_16_256/...` in the text, its transforms one by one in JSON).
    Brief(String, Box<Value>),
}

impl Value {
    pub fn str(text: impl Into<String>) -> Value {
        Value::Str(text.into())
    }

    pub fn brief(text: impl Into<String>, detail: Value) -> Value {
        Value::Brief(text.into(), Box::new(detail))
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::Str(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::Str(text)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::Int(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

/// Bytes as lowercase hex, without separators.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Renders fields as indented `label  value` lines, `indent` spaces deep. Labels are the JSON
/// keys with spaces for underscores; a list of scalars goes on one line, any other list or
/// object one item a line, one level deeper.
pub fn write_text(out: &mut String, fields: &[(&'static str, Value)], indent: usize) {
    let width = fields.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
    for (key, value) in fields {
        let label = key.replace('_', " ");
        match value {
            Value::List(items) | Value::Rows(items) if items.is_empty() => {
                let _ = writeln!(out, "{:indent$}{label:width$}  (none)", "");
            }
            Value::List(items) if !one_line(items) => {
                let _ = writeln!(out, "{:indent$}{label}", "");
                items
                    .iter()
                    .for_each(|item| write_item(out, item, indent + 2));
            }
            Value::List(items) => {
                let line: Vec<String> = items.iter().map(inline).collect();
                let _ = writeln!(out, "{:indent$}{label:width$}  {}", "", line.join(", "));
            }
            Value::Rows(items) => {
                let _ = writeln!(out, "{:indent$}{label}", "");
                items
                    .iter()
                    .for_each(|item| write_item(out, item, indent + 2));
            }
            Value::Obj(inner) => {
                let _ = writeln!(out, "{:indent$}{label}", "");
                write_text(out, inner, indent + 2);
            }
            scalar => {
                let _ = writeln!(out, "{:indent$}{label:width$}  {}", "", inline(scalar));
            }
        }
    }
}

fn write_item(out: &mut String, item: &Value, indent: usize) {
    match item {
        Value::Obj(fields) => {
            let _ = writeln!(out, "{:indent$}-", "");
            write_text(out, fields, indent + 2);
        }
        Value::List(items) | Value::Rows(items) => {
            for inner in items {
                write_item(out, inner, indent);
            }
        }
        other => {
            let _ = writeln!(out, "{:indent$}{}", "", inline(other));
        }
    }
}

/// Whether a list goes on one line: scalars only, and not too many of them.
fn one_line(items: &[Value]) -> bool {
    let scalars = items.iter().all(|v| {
        matches!(
            v,
            Value::Str(_) | Value::Int(_) | Value::Bool(_) | Value::Brief(..)
        )
    });
    scalars && items.iter().map(|v| inline(v).len() + 2).sum::<usize>() <= 72
}

fn inline(value: &Value) -> String {
    match value {
        Value::Str(s) | Value::Brief(s, _) => s.clone(),
        Value::Int(n) => n.to_string(),
        Value::Bool(true) => "yes".to_owned(),
        Value::Bool(false) => "no".to_owned(),
        Value::List(_) | Value::Rows(_) => "(none)".to_owned(),
        Value::Obj(_) => String::new(),
    }
}

/// Writes `value` as compact JSON.
pub fn write_json(out: &mut String, value: &Value) {
    match value {
        Value::Str(s) => crate::cli::json::string(out, s),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Brief(_, detail) => write_json(out, detail),
        Value::List(items) | Value::Rows(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Value::Obj(fields) => {
            out.push('{');
            for (i, (key, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                crate::cli::json::string(out, key);
                out.push(':');
                write_json(out, item);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<(&'static str, Value)> {
        vec![
            ("message_id", Value::Int(7)),
            ("critical", Value::Bool(false)),
            (
                "hashes",
                Value::List(vec!["SHA2_256".into(), "SHA2_384".into()]),
            ),
            (
                "proposals",
                Value::Rows(vec![Value::brief(
                    "#1 IKE:AES_GCM_16_256",
                    Value::Obj(vec![("number", Value::Int(1))]),
                )]),
            ),
            ("id", Value::Obj(vec![("type", "ID_FQDN".into())])),
        ]
    }

    #[test]
    fn text_aligns_labels_and_nests() {
        let mut out = String::new();
        write_text(&mut out, &sample(), 2);
        assert_eq!(
            out,
            "  message id  7\n  critical    no\n  hashes      SHA2_256, SHA2_384\n  \
             proposals\n    #1 IKE:AES_GCM_16_256\n  id\n    type  ID_FQDN\n"
        );
    }

    #[test]
    fn json_keeps_the_structure_behind_briefs() {
        let mut out = String::new();
        write_json(&mut out, &Value::Obj(sample()));
        assert_eq!(
            out,
            r#"{"message_id":7,"critical":false,"hashes":["SHA2_256","SHA2_384"],"proposals":[{"number":1}],"id":{"type":"ID_FQDN"}}"#
        );
    }

    #[test]
    fn json_escapes_what_rfc_8259_requires() {
        let mut out = String::new();
        write_json(&mut out, &Value::str("a\"b\\c\n\u{1}é"));
        assert_eq!(out, r#""a\"b\\c\n\u0001é""#);
    }

    #[test]
    fn hex_is_lowercase_without_separators() {
        assert_eq!(hex(&[0x00, 0xab, 0x10]), "00ab10");
    }
}
