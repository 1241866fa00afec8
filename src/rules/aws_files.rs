//! LD2xx: the AWS config and credentials files as text.

use super::{Context, rule};
use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::model::aws::{AwsFile, IniFile, IniKind, SectionName};
use crate::model::project::Mode;
use crate::source::Span;
use std::collections::BTreeMap;

rule!(
    LD208,
    "LD208",
    "aws-file-exposed",
    Warning,
    aws_file_exposed
);
rule!(LD201, "LD201", "aws-file-missing", Error, aws_file_missing);
rule!(
    LD202,
    "LD202",
    "duplicate-section",
    Error,
    duplicate_section
);
rule!(LD203, "LD203", "duplicate-key", Error, duplicate_key);
rule!(
    LD204,
    "LD204",
    "section-name-invalid",
    Warning,
    section_name_invalid
);
rule!(LD205, "LD205", "syntax-error", Error, syntax_error);
rule!(
    LD206,
    "LD206",
    "reader-divergence",
    Warning,
    reader_divergence
);
rule!(
    LD207,
    "LD207",
    "cross-file-conflict",
    Info,
    cross_file_conflict
);

fn aws_file_missing(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    let files = [
        (&aws.config, true, true),
        (&aws.credentials, cx.mode != Mode::Sso, false),
    ];
    for (file, required, is_config) in files {
        match file {
            AwsFile::Missing { file } if required => {
                let shown = &cx.model.sources.get(*file).display;
                // regen writes the config; keys come only from `leverage credentials configure`.
                let fix = if is_config || cx.project.is_some_and(|p| p.common.is_none()) {
                    cx.regen_fix()
                } else {
                    "leverage credentials configure --type SECURITY --credentials-file <your access keys .csv>   (the keys of your IAM user in the security account; regen-config never writes keys)".to_string()
                };
                out.push(
                    LD201
                        .diag(format!("{shown} does not exist"))
                        .at(Span::whole(*file), "missing")
                        .help("Leverage keeps each project's AWS files in ~/.aws/<project>/, not in ~/.aws/config")
                        .fix(fix),
                );
            }
            AwsFile::Unreadable { file, reason } => {
                let shown = &cx.model.sources.get(*file).display;
                out.push(
                    LD201
                        .diag(format!("{shown} cannot be read: {reason}"))
                        .at(Span::whole(*file), reason.clone())
                        .fix(format!(
                            "chmod 600 {shown}   # and make sure it is a file you own"
                        )),
                );
            }
            _ => {}
        }
    }
}

fn normalized(raw: &str) -> String {
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn duplicate_section(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    for file in aws.files() {
        let mut first: BTreeMap<String, &crate::model::aws::IniSection> = BTreeMap::new();
        for section in &file.sections {
            let key = normalized(&section.raw);
            match first.get(&key) {
                Some(earlier) => {
                    let d = LD202
                        .diag(format!("section `[{}]` is defined twice", section.raw))
                        .profile(section.name.profile_name().unwrap_or(&section.raw).to_string())
                        .at(section.header.clone(), "defined again here")
                        .related(earlier.header.clone(), "first defined here")
                        .help("the AWS CLI refuses the file (\"Unable to parse config file\"); Terraform and the SDKs silently merge both, the later values winning");
                    out.push(match exact_repeat(cx, file, earlier, section) {
                        // Every reader ends with the same values without it: safe.
                        Some(span) => d
                            .fix("delete the later section: it repeats the first one line for line")
                            .edit(span, "", Applicability::Safe),
                        None => d.fix("merge the two sections into one and delete the other"),
                    });
                }
                None => {
                    first.insert(key, section);
                }
            }
        }
    }
}

/// The lines of `later` (header to last entry, line breaks included) when it repeats `earlier`
/// exactly: the same header and the same lines in the same order, and nothing else between them
/// but blank lines (no comment, no line a reader refuses, which deleting would lose).
fn exact_repeat(
    cx: &Context,
    file: &IniFile,
    earlier: &crate::model::aws::IniSection,
    later: &crate::model::aws::IniSection,
) -> Option<Span> {
    let text = &cx.model.sources.get(file.file).text;
    let line = |span: &Span| {
        span.range
            .as_ref()
            .and_then(|r| text.get(r.clone()))
            .map(str::trim)
    };
    if earlier.raw != later.raw || earlier.entries.len() != later.entries.len() {
        return None;
    }
    if !earlier
        .entries
        .iter()
        .zip(&later.entries)
        .all(|(a, b)| line(&a.line_span).is_some() && line(&a.line_span) == line(&b.line_span))
    {
        return None;
    }
    let start = later.header.range.as_ref()?.start;
    let last = later
        .entries
        .last()
        .map(|e| e.line_span.clone())
        .unwrap_or_else(|| later.header.clone());
    let end = cx.whole_line(&last).range?.end;
    let body = text.get(start..end)?;
    let entry_lines = later.entries.len() + 1;
    let content_lines = body.lines().filter(|l| !l.trim().is_empty()).count();
    let problem_inside = file.problems.iter().any(|p| {
        p.span
            .range
            .as_ref()
            .is_some_and(|r| r.start >= start && r.start < end)
    });
    (content_lines == entry_lines && !problem_inside).then(|| Span::new(file.file, start..end))
}

fn duplicate_key(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    for file in aws.files() {
        for section in &file.sections {
            // The last earlier entry of each key: one pass, not a scan per key.
            let mut last: std::collections::HashMap<String, usize> =
                std::collections::HashMap::with_capacity(section.entries.len());
            for (i, entry) in section.entries.iter().enumerate() {
                let Some(earlier) = last
                    .insert(entry.key.to_ascii_lowercase(), i)
                    .map(|at| &section.entries[at])
                else {
                    continue;
                };
                let values = if entry.secret {
                    "two different secrets".to_string()
                } else {
                    format!("{} and {}", shown_value(earlier), shown_value(entry))
                };
                let d = LD203
                    .diag(format!("`{}` is set twice in `[{}]`: {values}", entry.key, section.raw))
                    .at(entry.line_span.clone(), "the SDKs (Terraform, Rust) use this one")
                    .related(earlier.line_span.clone(), "first set here")
                    .help("the AWS CLI refuses the file (DuplicateOptionError); the SDKs take the last value; rust-ini based tools take the first");
                // The same line twice: every reader reads the same value without the later.
                let text = |e: &crate::model::aws::IniEntry| {
                    e.line_span
                        .range
                        .as_ref()
                        .and_then(|r| cx.model.sources.get(e.line_span.file).text.get(r.clone()))
                        .map(str::trim)
                };
                out.push(if text(entry).is_some() && text(entry) == text(earlier) {
                    d.fix("delete the later line: it repeats the first one exactly")
                        .edit(cx.whole_line(&entry.line_span), "", Applicability::Safe)
                } else {
                    d.fix("keep one of the two lines")
                });
            }
        }
    }
}

const NAME_CHARS: &str = "_-/.%@:+";

fn section_name_invalid(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    for file in aws.files() {
        let mut plain_default = None;
        let mut profile_default = None;
        for section in &file.sections {
            let header = section.header.clone();
            if section.raw == "DEFAULT" {
                out.push(
                    LD204
                        .diag("`[DEFAULT]` is special to Python's configparser: the AWS CLI copies its keys into every profile")
                        .at(header.clone(), "not the default profile")
                        .fix("[default]")
                        .edit(header.clone(), "[default]", Applicability::Unsafe),
                );
                continue;
            }
            match (&section.name, file.kind) {
                (SectionName::Other(raw), IniKind::Config) => out.push(
                    LD204
                        .diag(format!("`[{raw}]` is not a profile in the config file: readers ignore it"))
                        .at(header.clone(), "missing the `profile ` prefix")
                        .edit(header.clone(), format!("[profile {raw}]"), Applicability::Unsafe)
                        .help("in ~/.aws/<project>/config every profile but `default` is written `[profile NAME]`")
                        .fix(format!("[profile {raw}]")),
                ),
                (SectionName::Profile(name), IniKind::Credentials) if section.raw.starts_with("profile ") => out.push(
                    LD204
                        .diag(format!("`[{}]` in the credentials file is a profile literally named `{}`", section.raw, section.raw))
                        .at(header.clone(), "no `profile ` prefix in credentials")
                        .fix(format!("[{}]", name.trim_start_matches("profile ").trim()))
                        // Nothing names a profile `profile x`: safe.
                        .edit(header.clone(), format!("[{}]", name.trim_start_matches("profile ").trim()), Applicability::Safe),
                ),
                (SectionName::Default, IniKind::Config) => {
                    if section.raw == "default" {
                        plain_default.get_or_insert(header.clone());
                    } else {
                        profile_default.get_or_insert(header.clone());
                    }
                }
                _ => {}
            }
            let name = match &section.name {
                SectionName::Profile(n) | SectionName::SsoSession(n) => n.as_str(),
                _ => continue,
            };
            let bad: Vec<char> = name
                .chars()
                .filter(|c| !(c.is_ascii_alphanumeric() || NAME_CHARS.contains(*c)))
                .collect();
            if !bad.is_empty() && !name.starts_with("profile ") {
                let shown: String = bad
                    .iter()
                    .map(|c| format!("`{}`", c.escape_default()))
                    .collect::<Vec<_>>()
                    .join(", ");
                out.push(
                    LD204
                        .diag(format!("profile name `{name}` has characters readers disagree on: {shown}"))
                        .at(header.clone(), "use letters, digits and _-/.%@:+ only")
                        .help("names with spaces or other characters cannot be given to `--profile` reliably and some SDKs reject them")
                        .fix(format!("[profile {}]", name.replace(|c: char| bad.contains(&c), "-"))),
                );
            }
        }
        if let (Some(plain), Some(prefixed)) = (plain_default, profile_default) {
            out.push(
                LD204
                    .diag("both `[default]` and `[profile default]`: readers pick different ones")
                    .at(prefixed, "`[profile default]`")
                    .related(plain, "`[default]`")
                    .fix("keep only `[default]`"),
            );
        }
    }
}

fn syntax_error(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    for file in aws.files() {
        report_problems(file, out);
    }
}

fn report_problems(file: &IniFile, out: &mut Vec<Diagnostic>) {
    use crate::model::aws::IniProblemKind as K;
    for p in &file.problems {
        let fix = match p.kind {
            K::TextBeforeSection => "move the line into a section, or delete it",
            K::NoSeparator => "write `key = value`, or make the line a comment with `#`",
            K::BrokenHeader => "write the header as `[profile NAME]` on its own line",
            K::InvalidUtf8 => "save the file as UTF-8 (remove the stray bytes)",
            K::ByteOrderMark => "save the file as UTF-8 without BOM",
            K::EmptyKey => "write `key = value`",
            K::Truncated => "the file is too large to be an AWS config",
        };
        out.push(
            LD205
                .diag(p.message.clone())
                .at(p.span.clone(), "here")
                .help("the AWS CLI stops with \"Unable to parse config file\"; the Rust SDK rejects the whole file")
                .fix(fix),
        );
    }
}

fn reader_divergence(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    for file in aws.files() {
        for section in &file.sections {
            for e in &section.entries {
                let v = &e.value;
                let inline = v
                    .find(" #")
                    .or_else(|| v.find(" ;"))
                    .or_else(|| v.find("\t#"));
                if let Some(at) = inline {
                    let kept = v[..at].trim_end();
                    let shown = if e.secret {
                        "the secret".to_string()
                    } else if e.key_is("aws_access_key_id") {
                        format!("`{}`", crate::secrets::key_id_shown(kept))
                    } else {
                        format!("`{}`", crate::secrets::escape_controls(kept, false))
                    };
                    out.push(
                        LD206
                            .diag(format!("inline comment after `{}`: readers disagree on the value", e.key))
                            .at(e.value_span.clone(), "comment inside the value")
                            .help(format!("the AWS CLI (botocore) keeps the comment as part of the value; the Rust and Go SDKs (Terraform) read {shown}"))
                            .fix("put the comment on its own line above"),
                    );
                }
                let quoted = v.len() >= 2
                    && ((v.starts_with('"') && v.ends_with('"'))
                        || (v.starts_with('\'') && v.ends_with('\'')));
                if quoted {
                    out.push(
                        LD206
                            .diag(format!("`{}` is quoted: the quotes become part of the value", e.key))
                            .at(e.value_span.clone(), "quoted value")
                            .help("the AWS CLI and the Rust SDK keep the quotes; some tools strip them; nothing treats them alike")
                            .fix(format!("{} = <value without quotes>", e.key)),
                    );
                }
                if e.separator == ':' {
                    out.push(
                        LD206
                            .diag(format!("`{}` uses `:` instead of `=`", e.key))
                            .at(e.line_span.clone(), "`:` separator")
                            .help("the AWS CLI (configparser) accepts `:`; the Rust SDK rejects the line and Go's reader misreads it")
                            .fix(format!("{} = …", e.key)),
                    );
                }
            }
        }
    }
}

fn cross_file_conflict(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    let (Some(config), Some(creds)) = (aws.config.parsed(), aws.credentials.parsed()) else {
        return;
    };
    for cs in &creds.sections {
        let Some(name) = cs.name.profile_name() else {
            continue;
        };
        for ps in config.profile_sections(name) {
            for ce in &cs.entries {
                let Some(pe) = ps.get(&ce.key) else { continue };
                if pe.value == ce.value {
                    continue;
                }
                let what = if ce.secret || pe.secret {
                    "different secrets".to_string()
                } else {
                    format!("`{}` here, `{}` in config", ce.value, pe.value)
                };
                out.push(
                    LD207
                        .diag(format!(
                            "`{}` of profile `{name}` is set in both files: {what}",
                            ce.key
                        ))
                        .severity(Severity::Info)
                        .profile(name.to_string())
                        .at(ce.line_span.clone(), "credentials wins")
                        .related(pe.line_span.clone(), "ignored value in config")
                        .fix("keep the key in one file only"),
                );
            }
        }
    }
}

/// A value as a message may show it: key ids cut to 4 characters, secrets never.
fn shown_value(e: &crate::model::aws::IniEntry) -> String {
    if e.secret {
        "a secret".into()
    } else if e.key_is("aws_access_key_id") {
        format!("`{}`", crate::secrets::key_id_shown(&e.value))
    } else {
        format!("`{}`", crate::secrets::escape_controls(&e.value, false))
    }
}

/// Secrets readable by others, or files another user owns (root, left by the Docker toolbox:
/// leverage#191), which the Leverage CLI then cannot rewrite.
fn aws_file_exposed(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    for access in &aws.access {
        let file = cx.model.sources.get(access.file);
        let shown = &file.display;
        if access.mode & 0o077 != 0 {
            out.push(
                LD208
                    .diag(format!(
                        "`{shown}` holds secrets and is readable by {} (mode {:04o})",
                        if access.mode & 0o007 != 0 { "every user" } else { "its group" },
                        access.mode
                    ))
                    .at(crate::source::Span::whole(access.file), "too open")
                    .help("the AWS CLI writes these files 0600; anyone who can read them can use the keys or the SSO session")
                    .fix(format!("chmod 600 {shown}"))
                    .mode_edit(access.file, 0o600),
            );
        }
        if access.uid != aws.uid {
            out.push(
                LD208
                    .diag(format!(
                        "`{shown}` is owned by {}, not by you (uid {})",
                        if access.uid == 0 { "root (left by the Leverage toolbox's Docker runs?)".to_string() } else { format!("uid {}", access.uid) },
                        aws.uid
                    ))
                    .at(crate::source::Span::whole(access.file), "another owner")
                    .help("the Leverage CLI and the AWS CLI cannot rewrite it: logins and credential refreshes fail with \"permission denied\" (leverage#191)")
                    .fix(format!("sudo chown $(id -u):$(id -g) {shown}")),
            );
        }
    }
}
