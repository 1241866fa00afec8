//! Secrets never reach output. Readers register every secret value they meet (secret keys,
//! session tokens, SSO access and refresh tokens, client secrets); every text the tool prints
//! or writes as a report passes through `scrub` at its sink, whatever its origin (our files, an
//! SDK's error text, a server's reply). Key ids are cut to their first 4 characters.
//!
//! `escape_controls` is the other half of printing text we did not write: a server's user code,
//! URL or account name must not move the cursor or recolour the terminal.

use aho_corasick::{AhoCorasick, MatchKind};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Shorter values are not secrets worth matching (and would mask ordinary words).
const MIN_SECRET_LEN: usize = 8;

/// Known secret values (→ what replaces each), and the matcher over all of them, built when
/// first needed after a change: registering is O(1), scrubbing is linear in the text, however
/// many secrets a file holds.
#[derive(Default)]
struct Known {
    values: HashMap<String, String>,
    matcher: Option<Arc<(AhoCorasick, Vec<String>)>>,
}

fn known() -> &'static Mutex<Known> {
    static KNOWN: OnceLock<Mutex<Known>> = OnceLock::new();
    KNOWN.get_or_init(|| Mutex::new(Known::default()))
}

fn lock() -> std::sync::MutexGuard<'static, Known> {
    match known().lock() {
        Ok(k) => k,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn remember(value: &str, replacement: String) {
    let value = value.trim();
    if value.len() < MIN_SECRET_LEN {
        return;
    }
    let mut known = lock();
    if !known.values.contains_key(value) {
        known.values.insert(value.to_string(), replacement);
        known.matcher = None;
    }
}

/// Remembers a secret value so that no later output shows it.
pub fn register(value: &str) {
    remember(value, "****".into());
}

/// Remembers an access key id: shown as its first 4 characters only, whatever its shape.
pub fn register_key_id(value: &str) {
    remember(value, key_id_shown(value));
}

/// `AKIA…`: the first 4 characters of a key id.
pub fn key_id_shown(value: &str) -> String {
    let head: String = value.trim().chars().take(4).collect();
    format!("{head}…")
}

/// The matcher over every known secret (longest match wins, so a secret containing another
/// is masked whole), or None when none is known.
fn matcher() -> Option<Arc<(AhoCorasick, Vec<String>)>> {
    let mut known = lock();
    if known.values.is_empty() {
        return None;
    }
    if known.matcher.is_none() {
        let (patterns, replacements): (Vec<String>, Vec<String>) = known
            .values
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .unzip();
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .ok()?;
        known.matcher = Some(Arc::new((automaton, replacements)));
    }
    known.matcher.clone()
}

/// The text with every registered secret replaced by `****` and every access key id cut to
/// its first 4 characters.
pub fn scrub(text: &str) -> String {
    let out = match matcher() {
        Some(m) => {
            let (automaton, replacements) = &*m;
            automaton.replace_all(text, replacements)
        }
        None => text.to_string(),
    };
    mask_key_ids(&out)
}

/// `AKIA…`/`ASIA…` followed by 16 upper-case letters or digits: keeps `AKIA`.
fn mask_key_ids(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i + 20 <= bytes.len() {
        let window = &bytes[i..i + 20];
        let is_key = (window.starts_with(b"AKIA") || window.starts_with(b"ASIA"))
            && window
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            && bytes.get(i + 20).is_none_or(|b| !b.is_ascii_alphanumeric());
        if is_key {
            // Safe to slice: the window is ASCII, so i and i + 20 are char boundaries.
            out.push_str(&text[copied..i + 4]);
            out.push('…');
            i += 20;
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Control characters (ESC, CR, BEL, DEL, C1 …) as visible escapes; tabs kept, newlines kept
/// only when `keep_newlines`.
pub fn escape_controls(text: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if (ch == '\n' && keep_newlines) || ch == '\t' {
            out.push(ch);
        } else if ch.is_control() {
            out.extend(ch.escape_default());
        } else {
            out.push(ch);
        }
    }
    out
}

/// A value from outside (a server, a file) made safe for one line of output: no secrets, no
/// control characters, at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let first = text.lines().next().unwrap_or("");
    let scrubbed = scrub(first);
    let escaped = escape_controls(&scrubbed, false);
    if escaped.chars().count() > max {
        let cut: String = escaped.chars().take(max).collect();
        format!("{cut}…")
    } else {
        escaped
    }
}

/// One line on stderr, scrubbed (the `say!` macro). A closed stderr is not an error.
pub fn say(text: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", scrub(text));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_values_and_key_ids_are_masked() {
        register("tok-SECRETVALUE-0123456789");
        let text = "error: bearer tok-SECRETVALUE-0123456789 for AKIAABCDEFGHIJKLMNOP";
        assert_eq!(scrub(text), "error: bearer **** for AKIA…");
        // Short values are not registered (they would mask ordinary words).
        register("abc");
        assert_eq!(scrub("abc"), "abc");
    }

    #[test]
    fn key_ids_inside_words_or_non_ascii_text_are_handled() {
        assert_eq!(
            mask_key_ids("é AKIAABCDEFGHIJKLMNOP é"),
            "é AKIA… é".to_string()
        );
        assert_eq!(
            mask_key_ids("XAKIAABCDEFGHIJKLMNOP"),
            "XAKIAABCDEFGHIJKLMNOP"
        );
    }

    #[test]
    fn controls_are_escaped() {
        assert_eq!(
            escape_controls("a\x1b[31mb\r\n", false),
            "a\\u{1b}[31mb\\r\\n"
        );
        assert_eq!(escape_controls("a\nb", true), "a\nb");
        assert_eq!(one_line("x\u{7}y\nsecond", 10), "x\\u{7}y");
    }
}
