//! Rewrites sections of an AWS config file and leaves every other byte as it was.
//!
//! A generated section replaces the section of the same name where it stands: its managed keys
//! get their new values (a line whose value is already right is not touched), keys the doctor
//! does not manage are kept, and duplicates of the section collapse into the first one (their
//! unmanaged keys move there; the later value wins, as in the SDKs). Comments, blank lines,
//! unrelated sections, their order and the file's line endings stay byte for byte.

use crate::ini;
use crate::model::aws::{IniKind, IniSection};
use crate::source::FileId;
use std::collections::{BTreeMap, BTreeSet};

/// A section to write: its header text (`profile bb-sso`) and the keys the doctor manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionSpec {
    pub header: String,
    pub keys: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct EditPlan {
    pub upsert: Vec<SectionSpec>,
    /// Headers of sections to delete, every occurrence (with `--prune`).
    pub remove: Vec<String>,
    /// `(header, n)`: only the n-th (0-based) section with that header. Duplicate sections are
    /// judged one by one (sso-reset removes the derived one and keeps long-term keys).
    pub remove_occurrence: Vec<(String, usize)>,
    /// `(header, key)`: keys to delete wherever that section stands.
    pub remove_keys: Vec<(String, String)>,
}

/// `profile  x` and `profile x` are the same section.
pub fn normalize_header(raw: &str) -> String {
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        if starts.last() == Some(&text.len()) && !text.is_empty() {
            starts.pop();
        }
        if text.is_empty() {
            starts.clear();
        }
        Lines { text, starts }
    }
    fn len(&self) -> usize {
        self.starts.len()
    }
    fn index_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }
    fn get(&self, i: usize) -> &'a str {
        let end = self.starts.get(i + 1).copied().unwrap_or(self.text.len());
        &self.text[self.starts[i]..end]
    }
    /// The entry line and the indented continuation lines that belong to it.
    fn entry_lines(&self, first: usize) -> std::ops::Range<usize> {
        let mut end = first + 1;
        while end < self.len() && ini::continues_entry(self.get(end)) {
            end += 1;
        }
        first..end
    }
}

/// The line ending the file mostly uses.
pub fn line_ending(text: &str) -> &'static str {
    let crlf = text.matches("\r\n").count();
    let lf = text.matches('\n').count() - crlf;
    if crlf > lf { "\r\n" } else { "\n" }
}

fn start_of(section: &IniSection) -> usize {
    section.header.range.as_ref().map(|r| r.start).unwrap_or(0)
}

fn entry_start(e: &crate::model::aws::IniEntry) -> usize {
    e.line_span.range.as_ref().map(|r| r.start).unwrap_or(0)
}

pub fn apply(text: &str, kind: IniKind, plan: &EditPlan) -> String {
    let (parsed, _) = ini::parse(text, FileId::DETACHED, kind);
    let lines = Lines::new(text);
    let eol = line_ending(text);
    let mut replaced: BTreeMap<usize, String> = BTreeMap::new();
    let mut deleted: BTreeSet<usize> = BTreeSet::new();
    let mut inserted: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut appended: Vec<String> = Vec::new();

    let delete_entry = |deleted: &mut BTreeSet<usize>, e: &crate::model::aws::IniEntry| {
        deleted.extend(lines.entry_lines(lines.index_of(entry_start(e))));
    };

    for spec in &plan.upsert {
        let wanted = normalize_header(&spec.header);
        let occurrences: Vec<&IniSection> = parsed
            .sections
            .iter()
            .filter(|s| normalize_header(&s.raw) == wanted)
            .collect();
        let Some((first, rest)) = occurrences.split_first() else {
            appended.push(format!("[{}]{eol}", spec.header));
            for (k, v) in &spec.keys {
                appended.push(format!("{k} = {v}{eol}"));
            }
            appended.push(String::new()); // a blank line between appended sections
            continue;
        };
        let managed = |key: &str| spec.keys.iter().any(|(k, _)| k.eq_ignore_ascii_case(key));
        // Where new lines go: after the first occurrence's last entry (or its header).
        let anchor = first
            .entries
            .last()
            .map(|e| lines.entry_lines(lines.index_of(entry_start(e))).end - 1)
            .unwrap_or_else(|| lines.index_of(start_of(first)));
        let mut new_lines = Vec::new();
        for (key, value) in &spec.keys {
            let mut found = first.entries.iter().filter(|e| e.key_is(key));
            match found.next() {
                Some(e) => {
                    if e.value != *value {
                        let i = lines.index_of(entry_start(e));
                        let range = lines.entry_lines(i);
                        replaced.insert(i, format!("{} = {value}{eol}", e.key));
                        deleted.extend(range.start + 1..range.end);
                    }
                    for dup in found {
                        delete_entry(&mut deleted, dup);
                    }
                }
                None => new_lines.push(format!("{key} = {value}{eol}")),
            }
        }
        for dup_section in rest {
            deleted.insert(lines.index_of(start_of(dup_section)));
            for e in &dup_section.entries {
                let range = lines.entry_lines(lines.index_of(entry_start(e)));
                if !managed(&e.key) {
                    let moved: String = range.clone().map(|i| lines.get(i)).collect();
                    let moved = if moved.ends_with('\n') {
                        moved
                    } else {
                        format!("{moved}{eol}")
                    };
                    // The later value wins, as the SDKs read duplicates.
                    match first.entries.iter().find(|f| f.key_is(&e.key)) {
                        Some(f) => {
                            let i = lines.index_of(entry_start(f));
                            let old = lines.entry_lines(i);
                            replaced.insert(i, moved);
                            deleted.extend(old.start + 1..old.end);
                        }
                        None => new_lines.push(moved),
                    }
                }
                deleted.extend(range);
            }
        }
        if !new_lines.is_empty() {
            // A last line without an ending must get one before anything follows it.
            if anchor + 1 == lines.len() && !lines.get(anchor).ends_with('\n') {
                let fixed = replaced
                    .get(&anchor)
                    .cloned()
                    .unwrap_or_else(|| lines.get(anchor).to_string());
                if !fixed.ends_with('\n') {
                    replaced.insert(anchor, format!("{fixed}{eol}"));
                }
            }
            inserted.entry(anchor).or_default().extend(new_lines);
        }
    }

    for header in &plan.remove {
        let wanted = normalize_header(header);
        for section in parsed
            .sections
            .iter()
            .filter(|s| normalize_header(&s.raw) == wanted)
        {
            deleted.insert(lines.index_of(start_of(section)));
            for e in &section.entries {
                delete_entry(&mut deleted, e);
            }
        }
    }

    for (header, n) in &plan.remove_occurrence {
        let wanted = normalize_header(header);
        if let Some(section) = parsed
            .sections
            .iter()
            .filter(|s| normalize_header(&s.raw) == wanted)
            .nth(*n)
        {
            deleted.insert(lines.index_of(start_of(section)));
            for e in &section.entries {
                delete_entry(&mut deleted, e);
            }
        }
    }

    for (header, key) in &plan.remove_keys {
        let wanted = normalize_header(header);
        for section in parsed
            .sections
            .iter()
            .filter(|s| normalize_header(&s.raw) == wanted)
        {
            for e in section.entries.iter().filter(|e| e.key_is(key)) {
                delete_entry(&mut deleted, e);
            }
        }
    }

    let mut out = String::with_capacity(text.len() + 256);
    // An indented line reads as part of the key above it. Where an edit puts a key (inserted,
    // or uncovered by a deletion) right above an indented line that was not such a part, a
    // blank line keeps the two apart, so the file means what it meant and edits stay
    // idempotent.
    let separate = |out: &mut String, next: usize| {
        let ends_with_key = out
            .trim_end_matches(['\n', '\r'])
            .rsplit('\n')
            .next()
            .is_some_and(|l| !l.trim().is_empty());
        if next < lines.len()
            && !deleted.contains(&next)
            && ini::continues_entry(lines.get(next))
            && ends_with_key
        {
            out.push_str(eol);
        }
    };
    let mut after_deleted = false;
    for i in 0..lines.len() {
        if deleted.contains(&i) {
            after_deleted = true;
        } else {
            if after_deleted && !replaced.contains_key(&i) {
                separate(&mut out, i);
            }
            after_deleted = false;
            match replaced.get(&i) {
                Some(r) => out.push_str(r),
                None => out.push_str(lines.get(i)),
            }
        }
        if let Some(extra) = inserted.get(&i) {
            if deleted.contains(&i) && !out.is_empty() && !out.ends_with('\n') {
                out.push_str(eol);
            }
            for line in extra {
                out.push_str(line);
            }
            separate(&mut out, i + 1);
            after_deleted = false;
        }
    }
    if !appended.is_empty() {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(eol);
        }
        if !out.is_empty() && !out.ends_with(&format!("{eol}{eol}")) && out != eol {
            out.push_str(eol);
        }
        while appended.last().is_some_and(|l| l.is_empty()) {
            appended.pop();
        }
        for line in appended {
            out.push_str(if line.is_empty() { eol } else { &line });
        }
    }
    out
}

/// The last gate before an edit reaches a file.
pub fn check_plan(plan: &EditPlan) -> Result<(), String> {
    for spec in &plan.upsert {
        if spec.header.contains(['[', ']'])
            || spec.header.chars().any(char::is_control)
            || spec.header.trim().is_empty()
        {
            return Err(format!(
                "refusing to write the section header `{}`",
                crate::secrets::escape_controls(&spec.header, false)
            ));
        }
        for (key, value) in &spec.keys {
            if !crate::values::MANAGED_KEYS.contains(&key.as_str()) {
                return Err(format!(
                    "refusing to write `{key}`: not a key leverage-doctor manages"
                ));
            }
            crate::values::plain(value).map_err(|why| {
                format!(
                    "refusing to write `{key}` in [{}]: the value {why}",
                    spec.header
                )
            })?;
        }
    }
    Ok(())
}

/// The section headers a rewrite adds, changes (keys or values) and removes.
pub fn section_changes(old: &str, new: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let sections = |text: &str| -> BTreeMap<String, Vec<(String, String)>> {
        let (parsed, _) = crate::ini::parse(
            text,
            crate::source::FileId::DETACHED,
            crate::model::aws::IniKind::Config,
        );
        let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for s in parsed.sections {
            out.entry(normalize_header(&s.raw)).or_default().extend(
                s.entries
                    .into_iter()
                    .map(|e| (e.key.to_ascii_lowercase(), e.value)),
            );
        }
        out
    };
    let (old, new) = (sections(old), sections(new));
    let added = new
        .keys()
        .filter(|k| !old.contains_key(*k))
        .cloned()
        .collect();
    let removed = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    let changed = new
        .iter()
        .filter(|(k, v)| old.get(*k).is_some_and(|o| o != *v))
        .map(|(k, _)| k.clone())
        .collect();
    (added, changed, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(header: &str, keys: &[(&str, &str)]) -> SectionSpec {
        SectionSpec {
            header: header.into(),
            keys: keys
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn replaces_in_place_keeps_unmanaged_and_collapses_duplicates() {
        let text = "# mine\n[profile bb-sso-shared]\nrole_name = Admin\nexpiration = 1\n\n[profile user]\ncli_pager =\n\n[profile bb-sso-shared]\naccount_id = 1\ncli_pager = less\n";
        let plan = EditPlan {
            upsert: vec![spec(
                "profile bb-sso-shared",
                &[("role_name", "DevOps"), ("account_id", "2")],
            )],
            ..Default::default()
        };
        let out = apply(text, IniKind::Config, &plan);
        assert_eq!(
            out,
            "# mine\n[profile bb-sso-shared]\nrole_name = DevOps\nexpiration = 1\naccount_id = 2\ncli_pager = less\n\n[profile user]\ncli_pager =\n\n"
        );
    }

    #[test]
    fn appends_missing_sections_with_crlf_and_leaves_right_values_alone() {
        let text = "[default]\r\nregion = us-east-1\r\n[profile a]\r\nrole_name =   DevOps\r\n";
        let plan = EditPlan {
            upsert: vec![
                spec("profile a", &[("role_name", "DevOps")]),
                spec("profile b", &[("k", "v")]),
            ],
            ..Default::default()
        };
        let out = apply(text, IniKind::Config, &plan);
        assert_eq!(out, format!("{text}\r\n[profile b]\r\nk = v\r\n"));
    }

    #[test]
    fn removes_pruned_sections_and_handles_no_final_newline() {
        let text = "[profile old]\nk = v\n[profile a]\nx = 1";
        let plan = EditPlan {
            upsert: vec![spec("profile a", &[("y", "2")])],
            remove: vec!["profile old".into()],
            remove_keys: vec![("profile a".into(), "x".into())],
            ..Default::default()
        };
        assert_eq!(apply(text, IniKind::Config, &plan), "[profile a]\ny = 2\n");
    }

    /// Found by fuzzing: an indented `[default]` below a key is part of its value; deleting
    /// the key must delete it too, or a second edit would see a new section.
    #[test]
    fn continuation_lines_go_with_their_key_and_edits_are_idempotent() {
        let text = "[profile a]\nx = 1\n [default]\n# c\n  y\n[profile a]\nx = 2\n";
        let plan = EditPlan {
            upsert: vec![spec("profile a", &[("x", "3")])],
            ..Default::default()
        };
        let once = apply(text, IniKind::Config, &plan);
        assert_eq!(apply(&once, IniKind::Config, &plan), once);
        // The old value's continuation went with it; the comment and what follows stay.
        assert_eq!(once, "[profile a]\nx = 3\n# c\n  y\n");
    }

    #[test]
    fn empty_file_gets_the_sections() {
        let plan = EditPlan {
            upsert: vec![spec("default", &[("region", "us-east-1")])],
            ..Default::default()
        };
        assert_eq!(
            apply("", IniKind::Config, &plan),
            "[default]\nregion = us-east-1\n"
        );
    }

    #[test]
    fn the_last_gate_refuses_unmanaged_keys_and_line_breaks() {
        let plan = |header: &str, key: &str, value: &str| EditPlan {
            upsert: vec![SectionSpec {
                header: header.into(),
                keys: vec![(key.into(), value.into())],
            }],
            ..Default::default()
        };
        assert!(check_plan(&plan("profile bb-sso", "region", "us-east-1")).is_ok());
        assert!(check_plan(&plan("profile bb-sso", "credential_process", "sh")).is_err());
        assert!(check_plan(&plan("profile x]\n[y", "region", "us-east-1")).is_err());
        assert!(check_plan(&plan("profile x", "region", "a\nb")).is_err());
    }
}
