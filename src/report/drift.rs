//! `regen-config --check --format json`: does the file differ from what regen would write, and
//! which sections.

use serde::Serialize;

#[derive(Serialize)]
struct Drift<'a> {
    version: u32,
    file: &'a str,
    differs: bool,
    sections: Sections<'a>,
}

#[derive(Serialize)]
struct Sections<'a> {
    added: &'a [String],
    changed: &'a [String],
    removed: &'a [String],
}

/// One JSON object and a newline.
pub fn json(
    file: &str,
    differs: bool,
    added: &[String],
    changed: &[String],
    removed: &[String],
) -> String {
    let drift = Drift {
        version: 1,
        file,
        differs,
        sections: Sections {
            added,
            changed,
            removed,
        },
    };
    format!("{}\n", serde_json::to_string(&drift).unwrap_or_default())
}
