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

/// True when no known secret holds a line break: the gate may then take a text a block of
/// whole lines at a time.
pub fn line_bounded() -> bool {
    !lock().values.keys().any(|v| v.contains(['\n', '\r']))
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

/// Characters that change what a reader sees without being seen: controls (ESC, CR, BEL, DEL,
/// C1 …), and the bidirectional overrides and isolates ("Trojan Source", CVE-2021-42574).
fn hidden(ch: char) -> bool {
    ch.is_control() || matches!(ch, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Control characters (ESC, CR, BEL, DEL, C1 …) and bidi overrides as visible escapes; tabs
/// kept, newlines kept only when `keep_newlines`.
pub fn escape_controls(text: &str, keep_newlines: bool) -> String {
    if !text.chars().any(hidden) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        if (ch == '\n' && keep_newlines) || ch == '\t' {
            out.push(ch);
        } else if hidden(ch) {
            out.extend(ch.escape_default());
        } else {
            out.push(ch);
        }
    }
    out
}

/// The last gate before a terminal or a CI log, for every text the doctor prints or writes as
/// a report: secrets scrubbed, control characters escaped (our own colour codes kept when
/// `colour` — `ESC [ digits ; m` and nothing else), and no line that a GitHub runner would
/// take for a workflow command: a line whose first non-blank characters are `::` gets a `\`
/// before them, and `##[` (the older form, matched anywhere in a line) becomes `#\#[`.
/// The runner reads stdout and stderr alike, and a bare CR ends a line for it: CR is escaped.
pub fn for_output(text: &str, colour: bool) -> String {
    let scrubbed = scrub(text);
    let mut out = String::with_capacity(scrubbed.len());
    let mut chars = scrubbed.char_indices().peekable();
    while let Some((at, ch)) = chars.next() {
        if ch == '\x1b'
            && colour
            && let Some(len) = sgr_len(&scrubbed[at..])
        {
            out.push_str(&scrubbed[at..at + len]);
            while chars.peek().is_some_and(|(i, _)| *i < at + len) {
                chars.next();
            }
        } else if ch == '\n' || ch == '\t' || !hidden(ch) {
            out.push(ch);
        } else {
            out.extend(ch.escape_default());
        }
    }
    guard_workflow_commands(&out)
}

/// The output gate for JSON (and SARIF): serde already escapes every control character inside
/// strings and no line of pretty JSON starts with `::`, so what is left is the runner's older
/// `##[` form, written `#\u0023[` (the same text once parsed, and still valid JSON).
pub fn for_json_output(text: &str) -> String {
    scrub(text).replace("##[", "#\\u0023[")
}

/// `ESC [ 1;31 m`: the length of a colour (SGR) sequence at the start of `text`, if it is one.
fn sgr_len(text: &str) -> Option<usize> {
    let rest = text.strip_prefix("\x1b[")?;
    let params = rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    (rest.as_bytes().get(params) == Some(&b'm')).then_some(2 + params + 1)
}

/// Whitespace as .NET's `TrimStart` sees it (the runner trims before it looks for `::`).
fn blank(ch: char) -> bool {
    ch.is_whitespace() || matches!(ch, '\u{feff}' | '\u{200b}' | '\u{180e}')
}

/// See `for_output`: no line of the text starts a workflow command.
pub fn guard_workflow_commands(text: &str) -> String {
    if !text.contains("::") && !text.contains("##[") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for line in text.split_inclusive('\n') {
        // Blanks and our own colour codes before the text do not hide a command.
        let mut body = line.trim_start_matches(blank);
        while let Some(len) = sgr_len(body) {
            body = body[len..].trim_start_matches(blank);
        }
        let lead = line.len() - body.len();
        out.push_str(&line[..lead]);
        if body.starts_with("::") {
            out.push('\\');
        }
        out.push_str(&body.replace("##[", "#\\#["));
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

/// One line on stderr, through the output gate (the `say!` macro). A closed stderr is not an
/// error.
pub fn say(text: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", for_output(text, false));
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
        assert_eq!(escape_controls("x\u{202E}y", false), "x\\u{202e}y");
        assert_eq!(one_line("x\u{7}y\nsecond", 10), "x\\u{7}y");
    }

    #[test]
    fn output_keeps_our_colours_only_and_starts_no_workflow_command() {
        assert_eq!(
            for_output("\x1b[1;31merror\x1b[0m\x1b]0;title\x07", true),
            "\x1b[1;31merror\x1b[0m\\u{1b}]0;title\\u{7}"
        );
        assert_eq!(for_output("\x1b[1;31mx", false), "\\u{1b}[1;31mx");
        assert_eq!(
            for_output(
                "ok\n  ::error::pwned\n\u{a0}::set-env name=x::y\r::warning::z",
                false
            ),
            "ok\n  \\::error::pwned\n\u{a0}\\::set-env name=x::y\\r::warning::z"
        );
        assert_eq!(for_output("a ##[error]b", false), "a #\\#[error]b");
        assert_eq!(for_output("a::b\n", false), "a::b\n");
    }
}
