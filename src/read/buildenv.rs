//! build.env: `KEY=VALUE` lines, `#` comments, optional quotes, `${NAME}` expansion.

use crate::model::project::EnvEntry;
use crate::source::{FileId, Span};

pub fn parse(text: &str, file: FileId) -> Vec<EnvEntry> {
    let mut entries = Vec::new();
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let indent = line.len() - line.trim_start().len();
        let body = line.trim();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let (exported, body, body_at) = match body.strip_prefix("export ") {
            Some(rest) => {
                let rest_trim = rest.trim_start();
                (
                    true,
                    rest_trim,
                    start + indent + (body.len() - rest_trim.len()),
                )
            }
            None => (false, body, start + indent),
        };
        let Some(eq) = body.find('=') else { continue };
        let key = body[..eq].trim();
        let raw_value = body[eq + 1..].trim();
        let value_at =
            body_at + eq + 1 + (body[eq + 1..].len() - body[eq + 1..].trim_start().len());
        let value = unquote(strip_comment(raw_value));
        entries.push(EnvEntry {
            key: key.to_string(),
            value: value.to_string(),
            // yaenv expands unquoted and double-quoted values, never single-quoted ones.
            interpolated: !raw_value.starts_with('\'') && value.contains("${"),
            key_span: Span::new(file, body_at..body_at + key.len()),
            value_span: Span::new(file, value_at..value_at + raw_value.len()),
            line_span: Span::new(file, start..start + line.len()),
            exported,
        });
    }
    entries
}

/// Process variables that hold no secret: their values may be shown.
const SHOWN_VARIABLES: &[&str] = &["HOME", "USER", "LOGNAME", "PWD", "TMPDIR", "SHELL", "PATH"];

/// `${NAME}` expanded as the CLI's parser (yaenv 1.5, `Env.vars`) does it, line by line in file
/// order: the name is looked up in this file's values (as expanded so far), then in the
/// process environment; an unknown name is empty. Its pattern `\$\{([^}].*)?\}` is greedy,
/// so `${A}/${B}` is one name, `A}/${B`, which is unknown: empty. Variables of other build.env
/// files are not visible. A value taken from the process environment may be a secret (a
/// checkout can write `PROJECT=${AWS_SECRET_ACCESS_KEY}`): it is masked in every output.
pub fn expand(entries: &mut [EnvEntry], process: &dyn Fn(&str) -> Option<String>) {
    let mut values: std::collections::HashMap<String, String> = entries
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect();
    for entry in entries.iter_mut() {
        if !entry.interpolated {
            continue;
        }
        let mut out = String::new();
        let mut rest = entry.value.as_str();
        while let Some(at) = rest.find("${") {
            let after = &rest[at + 2..];
            let (name, end) = if after.starts_with('}') {
                ("", at + 3)
            } else if let Some(close) = after.rfind('}') {
                (&after[..close], at + 2 + close + 1)
            } else {
                break;
            };
            out.push_str(&rest[..at]);
            let found = match values.get(name) {
                Some(v) => Some(v.clone()),
                None if name.is_empty() => None,
                None => process(name).inspect(|v| {
                    if !SHOWN_VARIABLES.contains(&name) {
                        crate::secrets::register(v);
                    }
                }),
            };
            out.push_str(found.as_deref().unwrap_or(""));
            rest = &rest[end..];
        }
        out.push_str(rest);
        entry.value = out;
        values.insert(entry.key.clone(), entry.value.clone());
    }
}

/// The lines the Leverage CLI's build.env parser (`yaenv`, shlex-based) refuses, each with why;
/// one of them makes the CLI refuse the whole file (1.12 →). Its rules: a key of letters,
/// digits and `_` (not starting with a digit, not `_`), `=`, one value token (quoted or not,
/// quotes matched), then nothing but a comment.
pub fn refused_lines(text: &str, file: FileId) -> Vec<(Span, String)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if let Some(why) = yaenv_refuses(line) {
            out.push((Span::new(file, start..start + line.len()), why));
        }
    }
    out
}

fn yaenv_refuses(line: &str) -> Option<String> {
    let body = line.trim();
    if body.is_empty() || body.starts_with('#') {
        return None;
    }
    let key_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    let key = &body[..key_len];
    let rest = body[key_len..].trim_start();
    if key.is_empty() || key == "_" || key.starts_with(|c: char| c.is_ascii_digit()) {
        return Some("the line does not start with a variable name".into());
    }
    let Some(rest) = rest.strip_prefix('=') else {
        return Some(if key == "export" {
            "`export` is not allowed".into()
        } else {
            format!("no `=` after `{key}`")
        });
    };
    let rest = rest.trim_start();
    let after = match rest.chars().next() {
        Some(q @ ('"' | '\'')) => match rest[1..].find(q) {
            Some(end) => &rest[end + 2..],
            None => return Some("mismatched quotes".into()),
        },
        _ => {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let value = &rest[..end];
            if value.ends_with(['"', '\'']) {
                return Some("mismatched quotes".into());
            }
            &rest[end..]
        }
    };
    let after = after.trim_start();
    if after.is_empty() || after.starts_with('#') {
        None
    } else {
        Some("more than one value (quote a value with spaces)".into())
    }
}

fn strip_comment(v: &str) -> &str {
    if v.starts_with(['"', '\'']) {
        return v;
    }
    match v.find(" #") {
        Some(i) => v[..i].trim_end(),
        None => v,
    }
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expanded(text: &str) -> Vec<(String, String)> {
        let mut entries = parse(text, FileId::DETACHED);
        expand(&mut entries, &|name| match name {
            "HOME" => Some("/home/tester".into()),
            "LD_TEST_SECRET" => Some("s3cr3t-value-from-ci".into()),
            _ => None,
        });
        entries.into_iter().map(|e| (e.key, e.value)).collect()
    }

    #[test]
    fn expansion_is_yaenvs() {
        let got = expanded(
            "BIN=${HOME}/tofu\nA=x\nB=${A}-y\nC='${A}'\nD=\"${A}\"\nE=${A}/${B}\nF=${NOPE}z\nG=${}q\nH=$A\nPROJECT=${LD_TEST_SECRET}\n",
        );
        let want = [
            ("BIN", "/home/tester/tofu"),
            ("A", "x"),
            ("B", "x-y"),
            ("C", "${A}"),
            ("D", "x"),
            // Greedy: one name `A}/${B`, unknown.
            ("E", ""),
            ("F", "z"),
            ("G", "q"),
            ("H", "$A"),
            ("PROJECT", "s3cr3t-value-from-ci"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
        // A value from the process environment never reaches the output.
        assert!(!crate::secrets::scrub("p s3cr3t-value-from-ci").contains("s3cr3t"));
        assert!(crate::secrets::scrub("/home/tester/tofu").contains("/home/tester"));
    }

    #[test]
    fn lines_the_cli_refuses() {
        for ok in [
            "PROJECT=bb",
            "A = b",
            "A=\"x y\"",
            "A=b # c",
            "# c",
            "",
            "A=",
            "TF_BINARY=~/bin/tofu",
        ] {
            assert_eq!(yaenv_refuses(ok), None, "{ok}");
        }
        for bad in [
            "export A=b",
            "===",
            "A b",
            "A=b c",
            "A=\"x",
            "1A=b",
            "A=x\"",
            "-A=b",
        ] {
            assert!(yaenv_refuses(bad).is_some(), "{bad}");
        }
    }
    use crate::source::Sources;
    use std::path::PathBuf;

    #[test]
    fn keys_values_quotes_and_export() {
        let text = "# c\nPROJECT=bb\nMFA_ENABLED=\"true\"\nexport TF_IMAGE_TAG=1.6 # tag\nnoise\n";
        let mut s = Sources::default();
        let id = s.add(PathBuf::from("b"), "b".into(), text.into());
        let e = parse(text, id);
        assert_eq!(e.len(), 3);
        assert_eq!((e[0].key.as_str(), e[0].value.as_str()), ("PROJECT", "bb"));
        assert_eq!(e[1].value, "true");
        assert!(e[2].exported);
        assert_eq!(e[2].key, "TF_IMAGE_TAG");
        assert_eq!(e[2].value, "1.6");
        assert_eq!(
            s.get(id)
                .line_col(e[2].key_span.range.clone().unwrap().start),
            (4, 8)
        );
    }
}
