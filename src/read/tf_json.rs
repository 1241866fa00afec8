//! Terraform's JSON syntax (`*.tf.json`): Terraform reads these files beside the `.tf` ones,
//! the Leverage CLI never does (3.1.0 `auth.py` `get_layer_profile` parses `config.tf`,
//! `locals.tf` and `runtime.tf` only, and `path.py` takes a folder for a layer by its `*.tf`).
//! The `provider` and `terraform` blocks of such a file are written out as HCL, so that the
//! same readers find their profiles and credentials; every span is then moved back onto the
//! JSON text (the value's string, or the provider's key).

use crate::source::{FileId, Span};
use serde_json::Value;
use std::ops::Range;

/// A `.tf.json` file's blocks as HCL, and where each written piece sits in the JSON.
pub struct Translated {
    pub hcl: String,
    /// (range in `hcl`, range in the JSON text).
    map: Vec<(Range<usize>, Range<usize>)>,
}

impl Translated {
    /// A span of the HCL text, moved onto the JSON text: the piece that holds it, else the
    /// whole file.
    pub fn remap(&self, span: &mut Span, file: FileId) {
        span.file = file;
        let Some(range) = span.range.clone() else {
            return;
        };
        span.range = self
            .map
            .iter()
            .find(|(h, _)| h.start <= range.start && range.end <= h.end)
            .map(|(_, j)| j.clone());
    }
}

/// Finds JSON pieces in order of need: the first occurrence not yet taken.
struct Locator<'a> {
    text: &'a str,
    taken: Vec<usize>,
}

impl Locator<'_> {
    /// `"key": <value as JSON>`: the value's range.
    fn value(&mut self, key: &str, value: &Value) -> Option<Range<usize>> {
        let encoded = serde_json::to_string(value).ok()?;
        let key = serde_json::to_string(key).ok()?;
        let mut from = 0;
        while let Some(i) = self.text.get(from..).and_then(|t| t.find(&key)) {
            let at = from + i;
            from = at + key.len();
            let rest = self.text[from..].trim_start();
            let Some(after) = rest.strip_prefix(':') else {
                continue;
            };
            let after_trim = after.trim_start();
            let start = self.text.len() - after_trim.len();
            if after_trim.starts_with(&encoded) && !self.taken.contains(&start) {
                self.taken.push(start);
                return Some(start..start + encoded.len());
            }
        }
        None
    }

    /// A key (`"aws"`) followed by `:` — its range, the first not yet taken.
    fn key(&mut self, key: &str) -> Option<Range<usize>> {
        let key = serde_json::to_string(key).ok()?;
        let mut from = 0;
        while let Some(i) = self.text.get(from..).and_then(|t| t.find(&key)) {
            let at = from + i;
            from = at + key.len();
            if self.text[from..].trim_start().starts_with(':') && !self.taken.contains(&at) {
                self.taken.push(at);
                return Some(at..at + key.len());
            }
        }
        None
    }
}

/// An HCL string literal holding `s` as Terraform reads a JSON string (a template: `${…}` is
/// kept as written).
fn hcl_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Nested objects become blocks (`assume_role`, `exec`, helm's `kubernetes`…), lists of
/// objects repeated blocks, the rest attributes.
fn write_body(
    obj: &serde_json::Map<String, Value>,
    out: &mut Translated,
    loc: &mut Locator,
    depth: usize,
) {
    if depth > 8 {
        return;
    }
    for (key, value) in obj {
        // HCL identifiers only: other keys (`//` comments) are skipped.
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            || key.starts_with(|c: char| c.is_ascii_digit())
        {
            continue;
        }
        match value {
            Value::Object(inner) => {
                out.hcl.push_str(&format!("{key} {{\n"));
                write_body(inner, out, loc, depth + 1);
                out.hcl.push_str("}\n");
            }
            Value::Array(items) if items.iter().all(Value::is_object) && !items.is_empty() => {
                for item in items {
                    if let Value::Object(inner) = item {
                        out.hcl.push_str(&format!("{key} {{\n"));
                        write_body(inner, out, loc, depth + 1);
                        out.hcl.push_str("}\n");
                    }
                }
            }
            _ => {
                let Some(literal) = hcl_value(value) else {
                    continue;
                };
                out.hcl.push_str(&format!("{key} = "));
                let start = out.hcl.len();
                out.hcl.push_str(&literal);
                let end = out.hcl.len();
                out.hcl.push('\n');
                if let Some(json) = loc.value(key, value) {
                    out.map.push((start..end, json));
                }
            }
        }
    }
}

fn hcl_value(value: &Value) -> Option<String> {
    Some(match value {
        // `"${var.x}"` alone is the reference itself (Terraform's JSON syntax: a template of
        // one interpolation gives its value).
        Value::String(s)
            if s.starts_with("${")
                && s.ends_with('}')
                && s.len() > 3
                && s[2..s.len() - 1]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                && s[2..].starts_with(|c: char| c.is_ascii_alphabetic()) =>
        {
            s[2..s.len() - 1].to_string()
        }
        Value::String(s) => hcl_string(s),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => "null".into(),
        Value::Array(items) => {
            let parts: Option<Vec<String>> = items.iter().map(hcl_value).collect();
            format!("[{}]", parts?.join(", "))
        }
        Value::Object(_) => return None,
    })
}

/// The `provider` and `terraform` blocks of a `.tf.json` file as HCL; `Err` says why the file
/// is not Terraform JSON.
pub fn translate(text: &str) -> Result<Translated, String> {
    let root: Value = serde_json::from_str(text)
        .map_err(|e| format!("not valid JSON (line {}, column {})", e.line(), e.column()))?;
    let Value::Object(root) = root else {
        return Err("not a JSON object of Terraform blocks".into());
    };
    let mut out = Translated {
        hcl: String::new(),
        map: Vec::new(),
    };
    let mut loc = Locator {
        text,
        taken: Vec::new(),
    };
    // `"provider": {"aws": {...}}`, `{"aws": [{...}, {...}]}`, or a list of such objects.
    let providers: Vec<&serde_json::Map<String, Value>> = match root.get("provider") {
        Some(Value::Object(m)) => vec![m],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    };
    for by_name in providers {
        for (name, configs) in by_name {
            let configs: Vec<&serde_json::Map<String, Value>> = match configs {
                Value::Object(m) => vec![m],
                Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
                _ => continue,
            };
            for config in configs {
                let start = out.hcl.len();
                out.hcl
                    .push_str(&format!("provider {} {{\n", hcl_string(name)));
                if let Some(json) = loc.key(name) {
                    out.map.push((start..start + "provider".len(), json));
                }
                write_body(config, &mut out, &mut loc, 0);
                out.hcl.push_str("}\n");
            }
        }
    }
    // `terraform { backend "s3" {...}  required_providers {...} }`: blocks with labels.
    let terraforms: Vec<&serde_json::Map<String, Value>> = match root.get("terraform") {
        Some(Value::Object(m)) => vec![m],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    };
    for t in terraforms {
        out.hcl.push_str("terraform {\n");
        if let Some(Value::Object(backends)) = t.get("backend") {
            for (kind, config) in backends {
                out.hcl
                    .push_str(&format!("backend {} {{\n", hcl_string(kind)));
                if let Value::Object(config) = config {
                    write_body(config, &mut out, &mut loc, 1);
                }
                out.hcl.push_str("}\n");
            }
        }
        if let Some(Value::Object(required)) = t.get("required_providers") {
            out.hcl.push_str("required_providers {\n");
            for (name, spec) in required {
                let Some(literal) = (match spec {
                    Value::Object(m) => {
                        let fields: Vec<String> = m
                            .iter()
                            .filter_map(|(k, v)| Some(format!("{k} = {}", hcl_value(v)?)))
                            .collect();
                        Some(format!("{{ {} }}", fields.join(", ")))
                    }
                    other => hcl_value(other),
                }) else {
                    continue;
                };
                out.hcl.push_str(&format!("{name} = {literal}\n"));
            }
            out.hcl.push_str("}\n");
        }
        out.hcl.push_str("}\n");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn providers_as_hcl_with_json_positions() {
        let text = r#"{
  "provider": {
    "aws": [
      {"region": "${var.region}", "profile": "${var.profile}"},
      {"alias": "management", "profile": "bb-management-devops"}
    ],
    "vault": {"address": "https://vault.example.com:8200"}
  },
  "terraform": {"backend": {"s3": {"key": "x"}}}
}"#;
        let t = translate(text).unwrap();
        let body = crate::read::hcl::parse_body(&t.hcl, FileId::DETACHED).unwrap();
        assert!(crate::read::hcl::declares_s3_backend(&body));
        let blocks: Vec<_> = body
            .blocks()
            .filter(|b| b.ident.as_str() == "provider")
            .collect();
        assert_eq!(blocks.len(), 3);
        let at = t.hcl.find("\"bb-management-devops\"").unwrap();
        let mut span = Span::new(FileId::DETACHED, at..at + 22);
        t.remap(&mut span, FileId::DETACHED);
        assert_eq!(&text[span.range.unwrap()], "\"bb-management-devops\"");
        assert!(translate("[1]").is_err());
        assert!(translate("{").is_err());
    }
}
