//! A unified diff of a file the doctor is about to change.

use similar::{ChangeTag, TextDiff};

pub fn unified(old: &str, new: &str, name: &str, color: bool) -> String {
    let diff = TextDiff::configure()
        .algorithm(similar::Algorithm::Patience)
        .diff_lines(old, new);
    let mut lines: Vec<(ChangeTag, &str)> = diff
        .iter_all_changes()
        .map(|c| (c.tag(), c.value()))
        .collect();
    slide_down(&mut lines);
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = paint("1", &format!("--- {name}\n+++ {name} (new)\n"));
    // Hunks: changed lines with up to 3 lines of context, merged when close.
    let changed: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].0 != ChangeTag::Equal)
        .collect();
    let mut i = 0;
    while i < changed.len() {
        let start = changed[i].saturating_sub(3);
        let mut end = changed[i];
        while i < changed.len() && changed[i] <= end + 7 {
            end = changed[i];
            i += 1;
        }
        let end = (end + 4).min(lines.len());
        let count = |skip: ChangeTag| lines[start..end].iter().filter(|(t, _)| *t != skip).count();
        let before = |skip: ChangeTag| lines[..start].iter().filter(|(t, _)| *t != skip).count();
        out.push_str(&paint(
            "36",
            &format!(
                "@@ -{},{} +{},{} @@\n",
                before(ChangeTag::Insert) + 1,
                count(ChangeTag::Insert),
                before(ChangeTag::Delete) + 1,
                count(ChangeTag::Delete)
            ),
        ));
        for (tag, value) in &lines[start..end] {
            let line = mask_secret_value(value.trim_end_matches(['\n', '\r']));
            out.push_str(&match tag {
                ChangeTag::Delete => paint("31", &format!("-{line}")),
                ChangeTag::Insert => paint("32", &format!("+{line}")),
                ChangeTag::Equal => format!(" {line}"),
            });
            out.push('\n');
        }
    }
    out
}

/// Moves a run of added (or removed) lines down while the diff stays the same, so that a new
/// section shows as one block starting at a blank line or its header (as git's diff heuristics
/// show it), not as the previous section's last lines followed by the rest.
fn slide_down(lines: &mut [(ChangeTag, &str)]) {
    let mut i = 0;
    while i < lines.len() {
        let tag = lines[i].0;
        if tag == ChangeTag::Equal {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < lines.len() && lines[end].0 == tag {
            end += 1;
        }
        // How far the part of the run from `k` can slide: equal lines that repeat it.
        let reach = |lines: &[(ChangeTag, &str)], k: usize| {
            let mut m = 0;
            while k + m < end
                && end + m < lines.len()
                && lines[end + m].0 == ChangeTag::Equal
                && lines[end + m].1 == lines[k + m].1
            {
                m += 1;
            }
            m
        };
        let starts_block = |s: &str| s.trim().is_empty() || s.trim_start().starts_with('[');
        let best = (i..end)
            .map(|k| (k, reach(lines, k)))
            .find(|&(k, m)| m > 0 && k + m < end + m && starts_block(lines[k + m].1));
        if let Some((k, m)) = best {
            for j in 0..m {
                lines[k + j].0 = ChangeTag::Equal;
                lines[end + j].0 = tag;
            }
            i = end + m;
        } else {
            i = end;
        }
    }
}

/// `aws_secret_access_key = …` → `aws_secret_access_key = ****`; key ids keep 4 characters.
/// A line that names a secret key without a separator (`aws_secret_access_key wJalr…`) is
/// masked after the key too. Works on characters, never on byte offsets inside a value.
pub fn mask_secret_value(line: &str) -> String {
    const SECRET: &[&str] = &[
        "aws_secret_access_key",
        "aws_session_token",
        "aws_security_token",
    ];
    let indent = line.len() - line.trim_start().len();
    let body = &line[indent..];
    let lower = body.to_ascii_lowercase();
    let key_len = SECRET
        .iter()
        .chain(std::iter::once(&"aws_access_key_id"))
        .find(|k| lower.starts_with(*k))
        .map(|k| k.len());
    let Some(key_len) = key_len else {
        return crate::secrets::escape_controls(line, false);
    };
    // `key_len` is within the ASCII prefix that matched, so it is a char boundary.
    let (key, rest) = body.split_at(key_len);
    let is_key_id = key.eq_ignore_ascii_case("aws_access_key_id");
    let value = rest.trim_start_matches([' ', '\t', '=', ':']).trim();
    let sep = &rest[..rest.len() - rest.trim_start_matches([' ', '\t', '=', ':']).len()];
    let shown = if value.is_empty() {
        String::new()
    } else if is_key_id {
        crate::secrets::key_id_shown(value)
    } else {
        "****".into()
    };
    crate::secrets::escape_controls(&format!("{}{key}{sep}{shown}", &line[..indent]), false)
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
        assert!(d.contains("@@ -1,3 +1,2 @@"), "{d}");
        assert!(d.contains("-aws_secret_access_key = ****"), "{d}");
        assert!(!d.contains("SECRETSECRET"));
    }

    /// Found by the trust review: masking sliced a value by bytes and panicked on non-ASCII.
    #[test]
    fn masking_never_slices_inside_a_character() {
        assert_eq!(
            mask_secret_value("aws_access_key_id = ééééé"),
            "aws_access_key_id = éééé…"
        );
        assert_eq!(
            mask_secret_value("aws_secret_access_key wJalrXUtnFEMI"),
            "aws_secret_access_key ****"
        );
        assert_eq!(
            mask_secret_value("  AWS_SESSION_TOKEN:x"),
            "  AWS_SESSION_TOKEN:****"
        );
        assert_eq!(mask_secret_value("region = é\x1b"), "region = é\\u{1b}");
    }
}

#[cfg(test)]
mod slide_tests {
    use super::unified;

    #[test]
    fn a_new_section_reads_as_a_block() {
        let old = "[a]\nx = 1\ny = 2\n";
        let new = "[a]\nx = 1\ny = 2\n\n[b]\nx = 1\ny = 2\n";
        let d = unified(old, new, "c", false);
        assert!(d.ends_with(" y = 2\n+\n+[b]\n+x = 1\n+y = 2\n"), "{d}");
    }
}
