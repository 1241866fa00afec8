//! A line-based reader for the AWS config and credentials files.
//!
//! A plain INI library hides what breaks the real readers: it drops lines, merges duplicates and
//! forgets positions. This reader keeps every section and key with its byte range, reports text
//! outside sections and broken headers, and never fails: whatever it cannot read is a problem
//! with a place.

use crate::model::aws::{
    IniEntry, IniFile, IniKind, IniProblem, IniProblemKind, IniSection, SectionName,
};
use crate::source::{FileId, Span};
use std::ops::Range;

const SECRET_KEYS: &[&str] = &[
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
];

/// Parses `text`; returns the file and the byte ranges of secret values.
pub fn parse(text: &str, file: FileId, kind: IniKind) -> (IniFile, Vec<Range<usize>>) {
    let mut ini = IniFile {
        file,
        kind,
        sections: Vec::new(),
        problems: Vec::new(),
    };
    let mut secrets = Vec::new();
    let mut offset = 0;
    let mut last_was_entry = false;
    for raw_line in text.split_inclusive('\n') {
        let start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end_matches(['\n', '\r']);
        let line_range = start..start + line.len();
        let (body, body_start) = match line.strip_prefix('\u{feff}') {
            Some(rest) if start == 0 => {
                ini.problems.push(IniProblem {
                    kind: IniProblemKind::ByteOrderMark,
                    span: Span::new(file, 0..3),
                    message: "the file starts with a UTF-8 byte-order mark, which the AWS CLI reads as part of the first line".into(),
                });
                (rest, start + 3)
            }
            _ => (line, start),
        };
        let trimmed = body.trim();
        // Indentation is spaces and tabs only (as `continues_entry` sees it).
        let indent = body.len() - body.trim_start_matches([' ', '\t']).len();
        // Where the text starts (any white space skipped), for positions.
        let text_start = body_start + (body.len() - body.trim_start().len());
        if trimmed.is_empty() {
            last_was_entry = false;
            continue;
        }
        if indent > 0 && last_was_entry {
            // Indented lines right below a key continue its value (botocore's nested
            // sub-settings), whatever they hold. `continues_entry` is the same rule for edits.
            continue;
        }
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            last_was_entry = false;
            continue;
        }
        if trimmed.starts_with('[') {
            last_was_entry = false;
            let open = text_start;
            match parse_header(trimmed) {
                Some(raw) => {
                    let name = section_name(raw, kind);
                    ini.sections.push(IniSection {
                        name,
                        raw: raw.to_string(),
                        header: Span::new(file, open..open + trimmed.len()),
                        entries: Vec::new(),
                    });
                }
                None => ini.problems.push(IniProblem {
                    kind: IniProblemKind::BrokenHeader,
                    span: Span::new(file, open..line_range.end),
                    message: "broken section header: expected `[name]`".into(),
                }),
            }
            continue;
        }
        let key_start = text_start;
        let Some(sep_at) = body.find(['=', ':']) else {
            last_was_entry = false;
            // A line no reader can parse may still hold a secret (`aws_secret_access_key
            // wJalr…`): then it is never shown; prose is.
            if crate::source::may_hold_secret(body) {
                secrets.push(key_start..line_range.end);
            }
            ini.problems.push(IniProblem {
                kind: IniProblemKind::NoSeparator,
                span: Span::new(file, key_start..line_range.end),
                message: "line has no `=`: readers reject it".into(),
            });
            continue;
        };
        let Some(section) = ini.sections.last_mut() else {
            last_was_entry = false;
            if crate::source::may_hold_secret(body) {
                secrets.push(key_start..line_range.end);
            }
            ini.problems.push(IniProblem {
                kind: IniProblemKind::TextBeforeSection,
                span: Span::new(file, key_start..line_range.end),
                message: "text before the first section header".into(),
            });
            continue;
        };
        let key_raw = &body[..sep_at];
        let key = key_raw.trim();
        if key.is_empty() {
            last_was_entry = false;
            secrets.push(key_start..line_range.end);
            ini.problems.push(IniProblem {
                kind: IniProblemKind::EmptyKey,
                span: Span::new(file, key_start..line_range.end),
                message: "line has a value but no key".into(),
            });
            continue;
        }
        let value_raw = &body[sep_at + 1..];
        let value = value_raw.trim();
        let value_start =
            body_start + sep_at + 1 + (value_raw.len() - value_raw.trim_start().len());
        let value_range = value_start..value_start + value.len();
        let secret = SECRET_KEYS.iter().any(|k| key.eq_ignore_ascii_case(k));
        if secret {
            secrets.push(value_range.clone());
            crate::secrets::register(value);
        } else if key.eq_ignore_ascii_case("aws_access_key_id") && value.len() > 4 {
            // Key ids show their first 4 characters only.
            let head = value.char_indices().nth(4).map_or(value.len(), |(i, _)| i);
            secrets.push(value_range.start + head..value_range.end);
            crate::secrets::register_key_id(value);
        }
        section.entries.push(IniEntry {
            key: key.to_string(),
            value: value.to_string(),
            key_span: Span::new(file, key_start..key_start + key.len()),
            value_span: Span::new(file, value_range),
            line_span: Span::new(file, line_range.clone()),
            separator: body.as_bytes()[sep_at] as char,
            secret,
        });
        last_was_entry = true;
    }
    (ini, secrets)
}

/// Whether a line directly below a key (or below such a line) belongs to that key's value.
pub fn continues_entry(line: &str) -> bool {
    line.starts_with([' ', '\t']) && !line.trim().is_empty()
}

/// The text between the brackets, or `None` when the header is broken. A trailing comment
/// after `]` is allowed, as botocore and the SDKs allow it.
fn parse_header(trimmed: &str) -> Option<&str> {
    let close = trimmed.find(']')?;
    let rest = trimmed[close + 1..].trim();
    if !(rest.is_empty() || rest.starts_with('#') || rest.starts_with(';')) {
        return None;
    }
    let inner = trimmed[1..close].trim();
    if inner.is_empty() { None } else { Some(inner) }
}

fn section_name(raw: &str, kind: IniKind) -> SectionName {
    let split = |prefix: &str| {
        raw.strip_prefix(prefix)
            .filter(|rest| rest.starts_with([' ', '\t']))
            .map(|rest| rest.trim().to_string())
    };
    match kind {
        IniKind::Credentials => {
            if raw == "default" {
                SectionName::Default
            } else {
                SectionName::Profile(raw.to_string())
            }
        }
        IniKind::Config => {
            if raw == "default" {
                SectionName::Default
            } else if let Some(name) = split("profile") {
                if name == "default" {
                    SectionName::Default
                } else {
                    SectionName::Profile(name)
                }
            } else if let Some(name) = split("sso-session") {
                SectionName::SsoSession(name)
            } else if let Some(name) = split("services") {
                SectionName::Services(name)
            } else {
                SectionName::Other(raw.to_string())
            }
        }
    }
}

/// A project's AWS files parsed from two texts, nothing else read (unit tests).
#[cfg(test)]
pub fn aws_files_of(config: &str, credentials: &str) -> crate::model::aws::AwsFiles {
    use crate::model::aws::AwsFile;
    let parse = |t: &str, k| AwsFile::Parsed(parse(t, FileId::DETACHED, k).0);
    crate::model::aws::AwsFiles {
        dir: "/x".into(),
        dir_display: "~/.aws/bb".into(),
        config: parse(config, IniKind::Config),
        credentials: parse(credentials, IniKind::Credentials),
        sso_tokens: Vec::new(),
        mfa_cache: Vec::new(),
        access: Vec::new(),
        uid: 0,
        aws_cli_token: None,
        saved_session: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Sources;
    use std::path::PathBuf;

    fn parse_str(text: &str, kind: IniKind) -> IniFile {
        let mut sources = Sources::default();
        let id = sources.add(PathBuf::from("x"), "x".into(), text.into());
        parse(text, id, kind).0
    }

    #[test]
    fn reads_sections_keys_and_problems() {
        let ini = parse_str(
            "orphan = 1\n[default]\r\nregion = us-east-1\n[profile bb-sso]\nsso_region: us-east-1\n  nested = x\nno separator\n[broken\n[x] junk\n",
            IniKind::Config,
        );
        assert_eq!(ini.sections.len(), 2);
        assert_eq!(ini.sections[0].name, SectionName::Default);
        assert_eq!(ini.sections[1].name, SectionName::Profile("bb-sso".into()));
        assert_eq!(ini.sections[1].entries[0].separator, ':');
        assert_eq!(ini.sections[0].entries[0].value, "us-east-1");
        let kinds: Vec<_> = ini.problems.iter().map(|p| p.kind.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                IniProblemKind::TextBeforeSection,
                IniProblemKind::NoSeparator,
                IniProblemKind::BrokenHeader,
                IniProblemKind::BrokenHeader
            ]
        );
    }

    #[test]
    fn credentials_names_and_secret_ranges() {
        let text = "[bb-security]\naws_access_key_id = AKIAEXAMPLEEXAMPLE12\naws_secret_access_key = s3cr3t\n";
        let mut sources = Sources::default();
        let id = sources.add(PathBuf::from("x"), "x".into(), text.into());
        let (ini, secrets) = parse(text, id, IniKind::Credentials);
        assert_eq!(
            ini.sections[0].name,
            SectionName::Profile("bb-security".into())
        );
        assert_eq!(secrets.len(), 2);
        assert_eq!(&text[secrets[0].clone()], "EXAMPLEEXAMPLE12");
        assert_eq!(&text[secrets[1].clone()], "s3cr3t");
    }

    #[test]
    fn profile_default_is_default_and_bom_is_reported() {
        let ini = parse_str("\u{feff}[profile default]\nregion=x\n", IniKind::Config);
        assert_eq!(ini.sections[0].name, SectionName::Default);
        assert_eq!(ini.problems[0].kind, IniProblemKind::ByteOrderMark);
    }
}
