//! `--json`: VICI messages as JSON, the same shape strongSwan's vici Python and Go clients
//! give them: sections are objects, lists arrays, values strings, in the order the daemon sent
//! them. A value that is not UTF-8 (a certificate's DER, say) is written as lowercase hex
//! after `0x`. A streamed listing is an array of its events' messages, so `list-sas` gives
//! `[{"conn-name": {...}}, ...]`.

use std::fmt::Write as _;

use crate::vici::wire::{Item, Message, Value};

/// A JSON document being built: values of the VICI tree, or structure of our own (`status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    pub fn str(s: impl Into<String>) -> Json {
        Json::Str(s.into())
    }

    /// The document, indented by two spaces, with a final newline.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        write(&mut out, self, Some(0));
        out.push('\n');
        out
    }

    /// The document on one line, without a final newline (one event a line for `log`).
    pub fn compact(&self) -> String {
        let mut out = String::new();
        write(&mut out, self, None);
        out
    }
}

/// A message as an object.
pub fn message(m: &Message) -> Json {
    Json::Object(
        m.items
            .iter()
            .map(|(name, item)| {
                let value = match item {
                    Item::Value(v) => value(v),
                    Item::Section(s) => message(s),
                    Item::List(l) => Json::Array(l.iter().map(value).collect()),
                };
                (name.clone(), value)
            })
            .collect(),
    )
}

/// An array of messages: a streamed listing.
pub fn messages<'a>(list: impl IntoIterator<Item = &'a Message>) -> Json {
    Json::Array(list.into_iter().map(message).collect())
}

/// A value: its text, or `0x` and hex when it is not UTF-8.
pub fn value(v: &Value) -> Json {
    match v.as_str() {
        Some(s) => Json::str(s),
        None => {
            let mut hex = String::with_capacity(2 + 2 * v.0.len());
            hex.push_str("0x");
            for b in &v.0 {
                let _ = write!(hex, "{b:02x}");
            }
            Json::Str(hex)
        }
    }
}

fn newline(out: &mut String, indent: Option<usize>) {
    if let Some(level) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', 2 * level));
    }
}

fn write(out: &mut String, json: &Json, indent: Option<usize>) {
    let inner = indent.map(|l| l + 1);
    match json {
        Json::Str(s) => string(out, s),
        Json::Array(items) if items.is_empty() => out.push_str("[]"),
        Json::Object(fields) if fields.is_empty() => out.push_str("{}"),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, inner);
                write(out, item, inner);
            }
            newline(out, indent);
            out.push(']');
        }
        Json::Object(fields) => {
            out.push('{');
            for (i, (key, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, inner);
                string(out, key);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write(out, item, inner);
            }
            newline(out, indent);
            out.push('}');
        }
    }
}

/// RFC 8259 7: the quote, the backslash and the control characters are escaped, DEL and the
/// line and paragraph separators too (they break JavaScript and some line-based tools);
/// everything else is UTF-8 as it is.
pub(crate) fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_lists_and_values_keep_their_order() {
        let m = Message::new()
            .with_section(
                "gw",
                Message::new()
                    .with_value("uniqueid", "1")
                    .with_list("local-ts", ["10.0.0.0/24", "10.1.0.0/24"])
                    .with_section("child-sas", Message::new())
                    .with_list("empty", Vec::<String>::new()),
            )
            .with_value("a", "b");
        assert_eq!(
            message(&m).compact(),
            r#"{"gw":{"uniqueid":"1","local-ts":["10.0.0.0/24","10.1.0.0/24"],"child-sas":{},"empty":[]},"a":"b"}"#
        );
        assert_eq!(
            messages([&m.section("gw").unwrap().clone().with_value("x", "y")])
                .pretty()
                .lines()
                .take(3)
                .collect::<Vec<_>>(),
            ["[", "  {", r#"    "uniqueid": "1","#]
        );
    }

    #[test]
    fn escapes_what_json_requires_and_hexes_binary() {
        let m = Message::new()
            .with_value("msg", "a\"b\\c\n\t\u{1}\u{7f}é\u{2028}")
            .with_value("data", vec![0x30, 0x82, 0xff]);
        assert_eq!(
            message(&m).compact(),
            r#"{"msg":"a\"b\\c\n\t\u0001\u007fé\u2028","data":"0x3082ff"}"#
        );
    }

    #[test]
    fn pretty_indents_by_two() {
        let json = Json::Object(vec![
            (
                "a".into(),
                Json::Array(vec![Json::str("x"), Json::str("y")]),
            ),
            ("b".into(), Json::Object(vec![])),
        ]);
        assert_eq!(
            json.pretty(),
            "{\n  \"a\": [\n    \"x\",\n    \"y\"\n  ],\n  \"b\": {}\n}\n"
        );
    }
}
