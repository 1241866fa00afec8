//! Reads `.leverage-doctor.toml` (or `--config FILE`) with positions, so that every unknown
//! key or rule id can be reported where it stands.

use crate::diagnostic::Severity;
use crate::model::config::{DoctorConfig, PerPath};
use crate::source::{FileId, Span};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

pub const FILE_NAME: &str = ".leverage-doctor.toml";

fn severity(s: &str) -> Option<Severity> {
    match s {
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        "info" => Some(Severity::Info),
        _ => None,
    }
}

struct Parser {
    file: FileId,
    config: DoctorConfig,
}

impl Parser {
    fn problem(&mut self, span: std::ops::Range<usize>, message: String) {
        self.config
            .problems
            .push((Span::new(self.file, span), message));
    }

    fn rule_ids(&mut self, value: &Spanned<DeValue>, what: &str) -> Vec<String> {
        let DeValue::Array(items) = value.get_ref() else {
            self.problem(
                value.span(),
                format!("`{what}` must be a list of rule ids, e.g. [\"LD206\"]"),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            match item.get_ref() {
                DeValue::String(id) if crate::rules::find(id).is_some() => {
                    out.push(id.to_uppercase())
                }
                DeValue::String(id) => {
                    self.problem(item.span(), format!("unknown rule id `{id}` in `{what}`"))
                }
                _ => self.problem(item.span(), format!("`{what}` items must be strings")),
            }
        }
        out
    }

    fn severity_value(&mut self, value: &Spanned<DeValue>, what: &str) -> Option<Severity> {
        match value.get_ref() {
            DeValue::String(s) if severity(s).is_some() => severity(s),
            _ => {
                self.problem(
                    value.span(),
                    format!("`{what}` must be \"error\", \"warning\" or \"info\""),
                );
                None
            }
        }
    }

    fn top(&mut self, table: &DeTable) {
        for (key, value) in table {
            match key.get_ref().as_ref() {
                "ignore" => {
                    let ids = self.rule_ids(value, "ignore");
                    self.config.ignore.extend(ids);
                }
                "fail-on" => self.config.fail_on = self.severity_value(value, "fail-on"),
                "leverage-version" => match value.get_ref() {
                    DeValue::String(v)
                        if crate::leverage::Generation::of_version(v).is_some() =>
                    {
                        self.config.leverage_version = Some(v.to_string())
                    }
                    _ => self.problem(
                        value.span(),
                        "`leverage-version` must be a Leverage CLI version such as \"3.1\" or \"2.1.1\"".into(),
                    ),
                },
                "token-store" => match value.get_ref() {
                    DeValue::String(v) if crate::model::sign_in::TokenStore::parse(v).is_some() => {
                        self.config.token_store = crate::model::sign_in::TokenStore::parse(v)
                    }
                    _ => self.problem(
                        value.span(),
                        "`token-store` must be \"file\", \"keyring\" or \"auto\"".into(),
                    ),
                },
                "severity" => match value.get_ref() {
                    DeValue::Table(t) => {
                        for (rule, level) in t {
                            let id = rule.get_ref().to_string();
                            if crate::rules::find(&id).is_none() {
                                self.problem(
                                    rule.span(),
                                    format!("unknown rule id `{id}` in [severity]"),
                                );
                            } else if let Some(s) =
                                self.severity_value(level, &format!("severity.{id}"))
                            {
                                self.config.severity.push((id.to_uppercase(), s));
                            }
                        }
                    }
                    _ => self.problem(
                        value.span(),
                        "`severity` must be a table: [severity] LD505 = \"warning\"".into(),
                    ),
                },
                "per-path" => match value.get_ref() {
                    DeValue::Array(items) => {
                        for item in items {
                            self.per_path(item);
                        }
                    }
                    _ => self.problem(
                        value.span(),
                        "`per-path` must be written [[per-path]]".into(),
                    ),
                },
                other => self.problem(
                    key.span(),
                    format!("unknown key `{other}` (known: ignore, fail-on, leverage-version, token-store, severity, per-path)"),
                ),
            }
        }
    }

    fn per_path(&mut self, item: &Spanned<DeValue>) {
        let DeValue::Table(t) = item.get_ref() else {
            self.problem(
                item.span(),
                "each [[per-path]] is a table with `path` and `ignore`".into(),
            );
            return;
        };
        let mut glob = None;
        let mut ignore = Vec::new();
        for (key, value) in t {
            match key.get_ref().as_ref() {
                "path" => match value.get_ref() {
                    DeValue::String(s) => match crate::model::config::compile_glob(s) {
                        Ok(_) => glob = Some(s.to_string()),
                        Err(e) => self.problem(
                            value.span(),
                            format!("bad glob `{}`: {e}", crate::secrets::one_line(s, 80)),
                        ),
                    },
                    _ => self.problem(
                        value.span(),
                        "`path` must be a string glob, e.g. \"apps-prd/**\"".into(),
                    ),
                },
                "ignore" => ignore = self.rule_ids(value, "per-path.ignore"),
                other => self.problem(
                    key.span(),
                    format!("unknown key `{other}` in [[per-path]] (known: path, ignore)"),
                ),
            }
        }
        match glob {
            Some(glob) => self.config.per_path.push(PerPath { glob, ignore }),
            None => self.problem(item.span(), "[[per-path]] without `path`".into()),
        }
    }
}

/// Parses a config file's text. Never fails: problems are part of the result.
pub fn parse(text: &str, file: FileId) -> DoctorConfig {
    let mut parser = Parser {
        file,
        config: DoctorConfig {
            file: Some(file),
            ..Default::default()
        },
    };
    match DeTable::parse(text) {
        Ok(table) => parser.top(table.get_ref()),
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            parser.problem(span, format!("not valid TOML: {}", e.message()));
        }
    }
    // Reported in the order they stand in the file.
    parser
        .config
        .problems
        .sort_by_key(|(span, _)| span.range.as_ref().map(|r| r.start));
    parser.config
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Sources;
    use std::path::PathBuf;

    #[test]
    fn reads_settings_and_reports_unknowns_with_places() {
        let text = "ignore = [\"LD206\", \"LD2O6\"]\nfail-on = \"warning\"\ncolour = true\n[severity]\nLD505 = \"warning\"\n[[per-path]]\npath = \"apps-prd/**\"\nignore = [\"LD102\"]\n";
        let mut s = Sources::default();
        let id = s.add(PathBuf::from("c"), "c".into(), text.into());
        let c = parse(text, id);
        assert_eq!(c.ignore, ["LD206"]);
        assert_eq!(c.fail_on, Some(Severity::Warning));
        assert_eq!(c.severity, [("LD505".to_string(), Severity::Warning)]);
        assert_eq!(c.per_path[0].glob, "apps-prd/**");
        let lines: Vec<_> = c
            .problems
            .iter()
            .map(|(sp, m)| (s.start_of(sp).unwrap().0, m.clone()))
            .collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0].0, 1);
        assert!(lines[0].1.contains("LD2O6"));
        assert_eq!(lines[1].0, 3);
        assert!(lines[1].1.contains("unknown key `colour`"));
    }

    /// Found by the trust review: globset panics on deeply nested alternates.
    #[test]
    fn deeply_nested_globs_are_refused_not_a_panic() {
        let deep = format!("{}a{}", "{".repeat(400), "}".repeat(400));
        assert!(crate::model::config::compile_glob(&deep).is_err());
        assert!(crate::model::config::compile_glob("{a,{b,c}}/**").is_ok());
        let text = format!("[[per-path]]\npath = \"{deep}\"\nignore = [\"LD102\"]\n");
        let mut sources = crate::source::Sources::default();
        let file = sources.add("x".into(), "x".into(), text.clone());
        let c = parse(&text, file);
        assert!(c.per_path.is_empty());
        assert!(
            c.problems
                .iter()
                .any(|(_, m)| m.contains("nests more than")),
            "{:?}",
            c.problems
        );
    }
}
