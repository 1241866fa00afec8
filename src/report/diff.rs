//! A unified diff of a file the doctor is about to change.

use similar::{ChangeTag, TextDiff};

pub fn unified(old: &str, new: &str, name: &str, color: bool) -> String {
    let diff = TextDiff::from_lines(old, new);
    let mut out = String::new();
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    out.push_str(&paint("1", &format!("--- {name}\n+++ {name} (new)\n")));
    for group in diff.grouped_ops(3) {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        out.push_str(&paint(
            "36",
            &format!(
                "@@ -{},{} +{},{} @@\n",
                old_range.start + 1,
                old_range.len(),
                new_range.start + 1,
                new_range.len()
            ),
        ));
        for op in &group {
            for change in diff.iter_changes(op) {
                let line = mask_secret_value(change.value().trim_end_matches(['\n', '\r']));
                let line = line.as_str();
                let text = match change.tag() {
                    ChangeTag::Delete => paint("31", &format!("-{line}")),
                    ChangeTag::Insert => paint("32", &format!("+{line}")),
                    ChangeTag::Equal => format!(" {line}"),
                };
                out.push_str(&text);
                out.push('\n');
            }
        }
    }
    out
}

/// `aws_secret_access_key = …` → `aws_secret_access_key = ****`; key ids keep 4 characters.
pub fn mask_secret_value(line: &str) -> String {
    let Some(at) = line.find(['=', ':']) else {
        return line.to_string();
    };
    let key = line[..at].trim().to_ascii_lowercase();
    let value = line[at + 1..].trim();
    match key.as_str() {
        "aws_secret_access_key" | "aws_session_token" | "aws_security_token" => {
            format!("{}= ****", &line[..at])
        }
        "aws_access_key_id" if value.len() > 4 => format!("{}= {}…", &line[..at], &value[..4]),
        _ => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_changes_and_masks_secrets() {
        let old = "[a]\nk = 1\naws_secret_access_key = SECRETSECRET\n";
        let new = "[a]\nk = 2\n";
        let d = unified(old, new, "config", false);
        assert!(d.contains("-k = 1\n") && d.contains("+k = 2\n"), "{d}");
        assert!(d.contains("-aws_secret_access_key = ****"), "{d}");
        assert!(!d.contains("SECRETSECRET"));
    }
}
