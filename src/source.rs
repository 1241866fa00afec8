//! Source files the doctor read, and positions in them.
//!
//! Positions are byte ranges into a file's text; they become `line:col` only when a report is
//! rendered. Readers record where secret values sit so that renderers can mask them.

use std::ops::Range;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(u32);

impl FileId {
    /// For text parsed outside a run's `Sources` (e.g. a file being rewritten).
    pub const DETACHED: FileId = FileId(u32::MAX);
}

/// A place in a file: a byte range, or the whole file when `range` is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub file: FileId,
    pub range: Option<Range<usize>>,
}

impl Span {
    pub fn new(file: FileId, range: Range<usize>) -> Span {
        Span {
            file,
            range: Some(range),
        }
    }

    pub fn whole(file: FileId) -> Span {
        Span { file, range: None }
    }
}

/// A value together with where it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub span: Span,
}

#[derive(Debug)]
pub struct SourceFile {
    /// The path as reports show it: relative to the project root, or `~/…` for files in HOME.
    pub display: String,
    pub path: PathBuf,
    pub text: String,
    /// False for files whose text must never be shown (token caches).
    pub showable: bool,
    /// Byte offset of each line's start (u32: files are read up to 8 MiB; 4 bytes a line for
    /// the hundreds of thousands of lines of a large project).
    line_starts: Vec<u32>,
    secrets: Vec<Range<usize>>,
}

impl SourceFile {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let key = u32::try_from(offset).unwrap_or(u32::MAX);
        let line = match self.line_starts.binary_search(&key) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        (line + 1, col + 1)
    }

    /// Byte range of a 1-based line, without its line ending.
    pub fn line_range(&self, line: usize) -> Range<usize> {
        let start =
            self.line_starts[line.saturating_sub(1).min(self.line_starts.len() - 1)] as usize;
        let rest = &self.text[start..];
        let end = start + rest.find('\n').unwrap_or(rest.len());
        let end = if end > start && self.text.as_bytes()[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        start..end
    }

    /// The text of a 1-based line with every secret byte range masked.
    pub fn masked_line(&self, line: usize) -> String {
        let range = self.line_range(line);
        let mut out = String::with_capacity(range.len());
        // Secrets are sorted and disjoint: only those overlapping this line are looked at.
        let first = self.secrets.partition_point(|s| s.end <= range.start);
        let here: Vec<&Range<usize>> = self.secrets[first..]
            .iter()
            .take_while(|s| s.start < range.end)
            .collect();
        for (i, ch) in self.text[range.clone()].char_indices() {
            let at = range.start + i;
            if ch.is_control() && ch != '\t' {
                out.extend(ch.escape_default());
            } else if here.iter().any(|s| s.contains(&at)) {
                out.push('*');
            } else if ch == '\t' {
                out.push(' ');
            } else {
                out.push(ch);
            }
        }
        out
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

/// Every file read in one run.
#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, path: PathBuf, display: String, text: String) -> FileId {
        // A file name is text from outside too (a checkout may name a file `\x1b[2J.tf`).
        let display = crate::secrets::escape_controls(&display, false);
        let mut line_starts = Vec::with_capacity(1 + text.bytes().filter(|b| *b == b'\n').count());
        line_starts.push(0);
        line_starts.extend(
            text.match_indices('\n')
                .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX)),
        );
        let secrets = secret_assignments(&text);
        self.files.push(SourceFile {
            display,
            path,
            text,
            showable: true,
            line_starts,
            secrets,
        });
        FileId((self.files.len() - 1) as u32)
    }

    /// A file whose content is never shown (e.g. a token cache): only its name is reported.
    pub fn add_opaque(&mut self, path: PathBuf, display: String) -> FileId {
        let id = self.add(path, display, String::new());
        self.files[id.0 as usize].showable = false;
        id
    }

    pub fn mark_secret(&mut self, file: FileId, range: Range<usize>) {
        self.mark_secrets(file, vec![range]);
    }

    /// Ranges never shown; kept sorted and merged so that a line finds its own in log time.
    pub fn mark_secrets(&mut self, file: FileId, ranges: Vec<Range<usize>>) {
        let secrets = &mut self.files[file.0 as usize].secrets;
        secrets.extend(ranges);
        secrets.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(secrets.len());
        for r in secrets.drain(..) {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        *secrets = merged;
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// `(line, column)` of the start of a span, if it has a range.
    pub fn start_of(&self, span: &Span) -> Option<(usize, usize)> {
        let file = self.get(span.file);
        span.range.as_ref().map(|r| file.line_col(r.start))
    }

    pub fn iter(&self) -> impl Iterator<Item = &SourceFile> {
        self.files.iter()
    }
}

/// Names whose values are secrets in any project file (.tf, .tfvars, build.env, AWS files):
/// `secret_key = "…"`, `token = …`, `AWS_SECRET_ACCESS_KEY=…`. Matched on the key, lower-cased.
/// A line that could not be parsed may still hold a secret (`aws_secret_access_key wJalr…`, a
/// pasted key alone): true when a word of it is secret-named or looks like key material (20 or
/// more characters of base64 with upper and lower case letters and digits). Prose and names
/// (`Role profiles written by…`, `bb-apps-devstg-devops`) are shown as they are.
pub fn may_hold_secret(line: &str) -> bool {
    line.split(|c: char| c.is_whitespace() || c == '=' || c == ':')
        .filter(|w| !w.is_empty())
        .any(|w| {
            let material = w.len() >= 20
                && w.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/+=_-".contains(&b))
                && w.bytes().any(|b| b.is_ascii_uppercase())
                && w.bytes().any(|b| b.is_ascii_lowercase())
                && w.bytes().any(|b| b.is_ascii_digit());
            material || (w.len() >= 5 && is_secret_name(w))
        })
}

fn is_secret_name(key: &str) -> bool {
    let key = key.trim().trim_matches('"');
    let key = key.strip_prefix("export ").unwrap_or(key).trim();
    // Case-insensitive without allocating: this runs on every line of every file read.
    let has = |word: &str| {
        key.as_bytes()
            .windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
    };
    SECRET_WORDS.iter().any(|w| has(w))
        || key.eq_ignore_ascii_case("access_key")
        || key.eq_ignore_ascii_case("aws_access_key_id")
        // A registry's `user:password` in base64 (Docker's config.json `auths`).
        || key.eq_ignore_ascii_case("auth")
}

/// The value ranges of every line that names a secret: from the value after the first
/// secret-named word (`secret_key = "…"`, `AWS_SECRET_ACCESS_KEY=…`, `"client-secret": "…"`,
/// `"name": "AWS_SECRET_ACCESS_KEY", "value": "…"`) to the end of the line, wherever the word
/// stands in it (one-line objects, `.tf.json`, JSON kubeconfigs, trailing comments). A
/// reference (`token = var.vault_token`) says where a secret is, not what: it stays shown.
fn secret_assignments(text: &str) -> Vec<Range<usize>> {
    // Most lines name no secret: one pass over the whole text finds the lines that may.
    static WORDS: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::OnceLock::new();
    let words = WORDS.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(SECRET_WORDS.iter().chain(&["access_key", "auth"]))
            .ok()
    });
    let mut out = Vec::new();
    let mut line_of = |at: usize| {
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let body = text[start..end].trim_end_matches('\r');
        if let Some(value) = secret_value_start(body) {
            out.push(start + value..start + body.len());
        }
        end + 1
    };
    match words {
        Some(words) => {
            let mut done = 0;
            for found in words.find_iter(text) {
                if found.start() >= done {
                    done = line_of(found.start());
                }
            }
        }
        None => {
            let mut at = 0;
            while at < text.len() {
                at = line_of(at);
            }
        }
    }
    out
}

/// Where the value of the first secret-named word of a line starts (see `secret_assignments`).
fn secret_value_start(line: &str) -> Option<usize> {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !is_word(bytes[i]) {
            i += 1;
            continue;
        }
        let from = i;
        while i < bytes.len() && is_word(bytes[i]) {
            i += 1;
        }
        if !is_secret_name(&line[from..i]) {
            continue;
        }
        // A key (`word =`, `"word":`) or a whole quoted string (`"name": "AWS_SECRET_KEY"`);
        // not a word inside other text (a repository named `terraform-vault-secrets`).
        let quote = from
            .checked_sub(1)
            .map(|q| bytes[q])
            .filter(|q| matches!(q, b'"' | b'\''));
        let mut at = i;
        let quoted_whole = quote.is_some_and(|q| bytes.get(i) == Some(&q));
        if quoted_whole {
            at += 1;
        }
        at += line[at..].len() - line[at..].trim_start().len();
        if line[at..].starts_with(['=', ':']) {
            at += 1;
            at += line[at..].len() - line[at..].trim_start().len();
        } else if !quoted_whole {
            continue;
        }
        let value = line[at..].trim_end();
        if value.is_empty() || is_reference(value.trim_end_matches([',', '}', ']', ';', ' '])) {
            continue;
        }
        return Some(at);
    }
    None
}

/// Parts of names whose values are secrets (matched without case).
const SECRET_WORDS: &[&str] = &[
    "secret",
    "token",
    "password",
    "passwd",
    "private_key",
    "private-key",
    "key-data",
    "key_data",
    "api_key",
    "api-key",
    "apikey",
];

/// A Terraform reference (`token = var.vault_token`): it names where the secret is, it is not
/// one, and the report shows it.
fn is_reference(value: &str) -> bool {
    let Some((root, rest)) = value.split_once('.') else {
        return false;
    };
    ["var", "local", "data", "each", "module"].contains(&root)
        && !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.[]\"".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_is_shown_a_literal_is_masked() {
        assert!(secret_assignments("token = var.vault_token\n").is_empty());
        assert!(secret_assignments("token = local.t[\"a\"]\n").is_empty());
        assert_eq!(secret_assignments("token = \"hvs.abc\"\n").len(), 1);
        assert_eq!(secret_assignments("token = var.a + x\n").len(), 1);
        assert_eq!(
            secret_assignments("aws_secret_access_key = wJalr/x\n").len(),
            1
        );
    }

    #[test]
    fn a_secret_anywhere_in_a_line_is_masked_not_only_the_first_key() {
        // Found by a hostile-checkout audit: one-line objects, .tf.json, JSON kubeconfigs and
        // trailing comments were shown whole when their first key was harmless.
        let shown = |line: &str| {
            let mut sources = Sources::default();
            let id = sources.add(PathBuf::from("f"), "f".into(), format!("{line}\n"));
            sources.get(id).masked_line(1)
        };
        for line in [
            r#"  config = { region = "us-east-1", profile = "bb-x", bucket = "b", secret_key = "wJalrSECRET01" }"#,
            r#"  profile = "bb-shared-devop" # old: aws_secret_access_key=wJalrSECRET02"#,
            r#"{"provider":{"aws":[{"alias":"j","profile":"bb-x","secret_key":"wJalrSECRET03","token":"IQoJSECRET04"}]}}"#,
            r#"{"current-context": "x", "users": [{"user": {"auth-provider": {"config": {"client-secret": "SECRET05", "refresh-token": "SECRET06"}}}}]}"#,
            r#"{"exec": {"env": [{"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrSECRET07"}]}}"#,
            r#"{"users": [{"user": {"client-key-data": "LS0tLS1CRUdJTiBSU0EgSECRET08"}}]}"#,
            r#"{"auths": {"registry.example.com": {"auth": "dXNlcjpwYXNzSECRET09"}}}"#,
        ] {
            let out = shown(line);
            assert!(!out.contains("SECRET0"), "{line}\nshown as\n{out}");
        }
        // What is not a secret stays readable: the part of the line before the secret, and
        // references, which say where a secret is.
        assert!(
            shown(r#"  config = { profile = "bb-x", secret_key = "wJalr" }"#)
                .contains(r#"profile = "bb-x""#)
        );
        assert_eq!(
            shown("  token = var.vault_token"),
            "  token = var.vault_token"
        );
        assert_eq!(
            shown(r#"  profile = "bb-x", token = var.t }"#),
            r#"  profile = "bb-x", token = var.t }"#
        );
    }

    #[test]
    fn only_lines_that_may_hold_a_secret_are_masked() {
        for (line, secret) in [
            (
                "Role profiles written by leverage credentials configure",
                false,
            ),
            ("output json", false),
            ("bb-apps-devstg-devops us-east-1", false),
            ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", true),
            ("aws_secret_access_key wJalr", true),
            ("  session_token", true),
        ] {
            assert_eq!(may_hold_secret(line), secret, "{line}");
        }
    }

    #[test]
    fn line_col_and_masking() {
        let mut sources = Sources::default();
        let id = sources.add(
            PathBuf::from("c"),
            "c".into(),
            "[a]\r\nkey = SECRET\nz".into(),
        );
        let file = sources.get(id);
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(5), (2, 1));
        assert_eq!(file.line_col(11), (2, 7));
        assert_eq!(file.line_range(1), 0..3);
        sources.mark_secret(id, 11..17);
        assert_eq!(sources.get(id).masked_line(2), "key = ******");
        assert_eq!(sources.get(id).line_count(), 3);
        let id = sources.add(
            PathBuf::from("t"),
            "t".into(),
            "provider \"aws\" {\n  secret_key = \"wJalr\n  token=\"abc\"\n  region = \"x\u{1b}\"\n}\n".into(),
        );
        assert_eq!(sources.get(id).masked_line(2), "  secret_key = ******");
        assert_eq!(sources.get(id).masked_line(3), "  token=*****");
        assert_eq!(sources.get(id).masked_line(4), "  region = \"x\\u{1b}\"");
    }
}
