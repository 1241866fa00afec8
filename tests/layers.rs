//! The layers of src/, enforced. Every `crate::…` and `super::…` path a source file names
//! (outside its tests and comments) must lead to a unit its own unit may use, and the pure core
//! does no I/O. The matrix is written once, here.

use std::collections::BTreeSet;
use std::path::Path;

/// Each unit and the units it may use. Lowest first; a unit may use only units above it in
/// this list (checked by `the_matrix_has_no_cycle`). A unit is a top-level module, or a
/// sub-module named here on its own (`read::fs`).
const LAYERS: &[(&str, &[&str])] = &[
    // --- The pure core: plain functions and data, no I/O, no async. ---
    // The output gate: every text that leaves the tool passes through it.
    ("secrets", &[]),
    // Durations for people and for the command line.
    ("time", &[]),
    // What a value written to a user's file may be.
    ("values", &["secrets"]),
    // Files and byte positions: what a diagnostic points at.
    ("source", &["secrets"]),
    // A finding: rule, severity, place, fix.
    ("diagnostic", &["source", "secrets"]),
    // What each generation of the Leverage CLI does: the one place that knows it.
    ("leverage", &[]),
    // Plain data gathered by `read`.
    (
        "model",
        &[
            "leverage",
            "diagnostic",
            "source",
            "values",
            "secrets",
            "time",
        ],
    ),
    // The AWS files' INI dialect: parse (and the edits' grammar in `fix`).
    ("ini", &["model", "source", "secrets"]),
    // What each profile is and what each layer's run does: the plan.
    (
        "analysis",
        &["model", "leverage", "ini", "source", "secrets", "time"],
    ),
    // The sessions a person has open, for `status`.
    (
        "session_list",
        &["analysis", "model", "leverage", "source", "time"],
    ),
    // The checks: model and analysis in, diagnostics out.
    (
        "rules",
        &[
            "analysis",
            "model",
            "leverage",
            "diagnostic",
            "source",
            "secrets",
            "time",
            "values",
            "session_list",
        ],
    ),
    // Edits planned from the model (regen layouts, resets), checked before any write.
    (
        "fix",
        &[
            "model",
            "leverage",
            "ini",
            "values",
            "source",
            "secrets",
            "time",
            "diagnostic",
        ],
    ),
    // Rendering: a report in, text out.
    (
        "report",
        &[
            "rules",
            "analysis",
            "model",
            "diagnostic",
            "source",
            "secrets",
            "time",
            "session_list",
            "leverage",
        ],
    ),
    // --- I/O: file reading and writing beside each other, on one set of file primitives. ---
    ("read::fs", &["secrets", "source"]),
    (
        "read",
        &[
            "read::fs",
            "secrets",
            "time",
            "values",
            "source",
            "diagnostic",
            "leverage",
            "model",
            "ini",
            "analysis",
            "session_list",
            "rules",
            "fix",
        ],
    ),
    ("write", &["read::fs", "report", "secrets", "source"]),
    // Keeping sessions alive: the kept SSO session and the renewal of a scope, on read and
    // write (portal, OIDC, STS calls; the lock per project).
    (
        "keep_alive",
        &[
            "read",
            "read::fs",
            "write",
            "fix",
            "analysis",
            "session_list",
            "ini",
            "model",
            "leverage",
            "values",
            "source",
            "secrets",
            "time",
        ],
    ),
    // --- The command line and one wiring file per command, on top. ---
    ("cli", &["leverage", "time", "session_list"]),
    (
        "commands",
        &[
            "cli",
            "keep_alive",
            "read",
            "read::fs",
            "write",
            "report",
            "rules",
            "fix",
            "session_list",
            "analysis",
            "ini",
            "model",
            "leverage",
            "diagnostic",
            "source",
            "values",
            "secrets",
            "time",
        ],
    ),
    ("lib", &["secrets"]),
    ("main", &["cli", "commands", "read", "secrets"]),
];

/// The first unit that may do I/O: every unit above it in LAYERS is the pure core.
const FIRST_IO_UNIT: &str = "read::fs";

/// The pure core: the units before the first I/O unit.
fn core() -> &'static [(&'static str, &'static [&'static str])] {
    let at = LAYERS
        .iter()
        .position(|(u, _)| *u == FIRST_IO_UNIT)
        .unwrap_or(LAYERS.len());
    &LAYERS[..at]
}

/// What the core may not name in its files (tests aside).
const IO: &[&str] = &[
    "std::fs",
    "std::env",
    "std::process",
    "std::net",
    "std::io::stdin",
    "tokio::",
    "println!",
    "eprintln!",
    "print!(",
    "eprint!(",
    "say!(",
];

/// The unit a module path belongs to.
fn unit_of(module: &str) -> &'static str {
    let mut best: Option<&'static str> = None;
    for (unit, _) in LAYERS {
        let inside = module == *unit || module.starts_with(&format!("{unit}::"));
        if inside && best.is_none_or(|b| unit.len() > b.len()) {
            best = Some(unit);
        }
    }
    best.unwrap_or("?")
}

/// The text that counts: before the file's `#[cfg(test)]`, without comments.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(at) => &l[..at],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident_path(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
        .collect::<String>()
        .trim_end_matches(':')
        .to_string()
}

/// Every module path a file's code names: `crate::a::b`, `crate::{a, b::c}`, `super::x`
/// (resolved against the file's own module).
fn named_paths(module: &str, is_mod_file: bool, code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            out.extend(group[..end].split(',').map(|s| ident_path(s.trim())));
        } else {
            out.push(ident_path(rest));
        }
    }
    // `super::` in `a/b.rs` (module a::b) is `a`; in `a/mod.rs` (module a) it is the crate.
    let parent: Vec<&str> = {
        let parts: Vec<&str> = module.split("::").collect();
        if is_mod_file {
            Vec::new()
        } else {
            parts[..parts.len().saturating_sub(1)].to_vec()
        }
    };
    for (at, _) in code.match_indices("super::") {
        if at > 0 && code[..at].ends_with("::") {
            continue;
        }
        let rest = ident_path(&code[at + "super::".len()..]);
        let mut path = parent.clone();
        path.push(&rest);
        out.push(path.join("::"));
    }
    out.retain(|p| !p.is_empty());
    out
}

/// `(from module, from unit, to unit, path)` for every edge the matrix does not allow, and
/// every I/O use in the core.
fn violations(files: &[(String, bool, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (module, is_mod_file, text) in files {
        let from = unit_of(module);
        let code = code(text);
        let allowed = LAYERS
            .iter()
            .find(|(u, _)| *u == from)
            .map(|(_, a)| *a)
            .unwrap_or(&[]);
        for path in named_paths(module, *is_mod_file, &code) {
            let first = path.split("::").next().unwrap_or("");
            // Macros and re-exports at the crate root (`crate::say!`) are not modules.
            if !LAYERS
                .iter()
                .any(|(u, _)| u.split("::").next() == Some(first))
            {
                continue;
            }
            let to = unit_of(&path);
            if to != from && !allowed.contains(&to) {
                out.push(format!("{module} ({from}) uses {path} ({to})"));
            }
        }
        if core().iter().any(|(u, _)| *u == from) {
            for io in IO {
                if code.contains(io) {
                    out.push(format!("{module} ({from}) is core and uses {io}"));
                }
            }
        }
    }
    out
}

fn source_files() -> Vec<(String, bool, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&src).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                let is_mod_file = parts.last().is_some_and(|p| p == "mod");
                if is_mod_file {
                    parts.pop();
                }
                let module = parts.join("::");
                files.push((module, is_mod_file, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_use_of_a_module_follows_the_layers() {
    let files = source_files();
    assert!(files.len() > 40, "{} files", files.len());
    for (module, ..) in &files {
        assert_ne!(
            unit_of(module),
            "?",
            "{module} is in no layer: add it to LAYERS"
        );
    }
    let found = violations(&files);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_matrix_has_no_cycle() {
    for (i, (unit, allowed)) in LAYERS.iter().enumerate() {
        for a in *allowed {
            let at = LAYERS.iter().position(|(u, _)| u == a);
            assert!(
                at.is_some_and(|at| at < i),
                "{unit} may use {a}, which is not below it"
            );
        }
    }
    let names: BTreeSet<&str> = LAYERS.iter().map(|(u, _)| *u).collect();
    assert_eq!(names.len(), LAYERS.len(), "a unit listed twice");
}

/// The check fails on a planted edge: a rule reading a file, and the model using `read`.
#[test]
fn a_planted_edge_fails() {
    let planted = [
        (
            "rules::project".to_string(),
            false,
            "fn f() { let t = std::fs::read_to_string(\"x\"); }".to_string(),
        ),
        (
            "model::project".to_string(),
            false,
            "use crate::read::fs;\nuse super::super::x;".to_string(),
        ),
        (
            "rules".to_string(),
            true,
            "use crate::{model::aws, commands::check};".to_string(),
        ),
        (
            "read::live".to_string(),
            false,
            "// crate::commands in a comment is fine\nuse super::fs::read_text;".to_string(),
        ),
    ];
    let found = violations(&planted);
    assert_eq!(
        found,
        [
            "rules::project (rules) is core and uses std::fs",
            "model::project (model) uses read::fs (read::fs)",
            "rules (rules) uses commands::check (commands)",
        ],
    );
}
