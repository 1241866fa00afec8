//! A rule page (`rules/LDxxx.md`) for the terminal: the subset of Markdown the pages use —
//! `#`/`##` headings, paragraphs, `-` lists (continued by indented lines), fenced code blocks,
//! pipe tables, inline `` `code` `` and `**bold**`.
//!
//! Laid out as `man` lays out a page: headings at the margin, the body indented under them and
//! filled to the width; code blocks verbatim (indented, never wrapped: a wrapped INI line or
//! error message would read as two); tables aligned by comfy-table within the width. Without
//! colour, `**` is dropped and backticks stay (they mark literals, as in the tool's messages);
//! with colour, headings and `**` are bold and code is cyan, without the markers.

use std::fmt::Write;
use unicode_width::UnicodeWidthStr;

/// The body's indent under a heading.
const BODY: usize = 2;
/// A code block's indent.
const CODE: usize = BODY + 2;

/// `page` laid out for `width` columns (at least 40 are used, so that a tiny `COLUMNS` still
/// gives words room).
pub fn render(page: &str, width: usize, color: bool) -> String {
    let width = width.max(40);
    let mut out = String::new();
    for block in blocks(page) {
        match block {
            Block::Heading(level, text) => {
                let line = fill(&text, width, 0, 0, color, true);
                out.push_str(&line);
                // A page's title stands apart from its summary.
                if level == 1 {
                    out.push('\n');
                }
            }
            Block::Paragraph(text) => {
                out.push_str(&fill(&text, width, BODY, BODY, color, false));
                out.push('\n');
            }
            Block::List(items) => {
                for item in items {
                    let filled = fill(&item, width, BODY + 2, BODY + 2, color, false);
                    // `- ` in the first line's indent.
                    let mut rest = filled.as_str();
                    let first = rest.split_inclusive('\n').next().unwrap_or_default();
                    rest = &rest[first.len()..];
                    let _ = write!(
                        out,
                        "{}- {}{rest}",
                        " ".repeat(BODY),
                        first.trim_start_matches(' ')
                    );
                }
                out.push('\n');
            }
            Block::Code(lines) => {
                for line in lines {
                    if line.is_empty() {
                        out.push('\n');
                    } else {
                        let _ = writeln!(out, "{}{line}", " ".repeat(CODE));
                    }
                }
                out.push('\n');
            }
            Block::Table(rows) => {
                out.push_str(&table(&rows, width - BODY, color));
                out.push('\n');
            }
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// One line of inline Markdown (a rule's summary) filled to `width`, its first line starting
/// at column `indent` (the caller has written what stands before it) and the others indented
/// by as much.
pub fn inline(text: &str, width: usize, indent: usize, color: bool) -> String {
    let filled = fill(text, width.max(indent + 20), indent, indent, color, false);
    filled.get(indent..).unwrap_or(&filled).to_string()
}

#[derive(Debug, PartialEq)]
enum Block {
    Heading(usize, String),
    /// Its lines joined by spaces.
    Paragraph(String),
    /// Each item's lines joined by spaces, without the `- `.
    List(Vec<String>),
    Code(Vec<String>),
    /// The header row first; the `|---|` row dropped.
    Table(Vec<Vec<String>>),
}

fn blocks(page: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = page.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with("```") {
            let mut code = Vec::new();
            for l in lines.by_ref() {
                if l.trim_start().starts_with("```") {
                    break;
                }
                code.push(l.trim_end().to_string());
            }
            out.push(Block::Code(code));
        } else if let Some((level, text)) = heading(line) {
            out.push(Block::Heading(level, text.to_string()));
        } else if trimmed.starts_with('|') {
            let mut rows = vec![cells(trimmed)];
            while let Some(l) = lines.next_if(|l| l.trim_start().starts_with('|')) {
                let row = cells(l.trim_start());
                let rule = row
                    .iter()
                    .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')));
                if !rule {
                    rows.push(row);
                }
            }
            out.push(Block::Table(rows));
        } else if let Some(first) = item(line) {
            let mut items = vec![first.to_string()];
            while let Some(l) =
                lines.next_if(|l| !l.trim().is_empty() && (item(l).is_some() || !starts_block(l)))
            {
                match item(l) {
                    Some(next) => items.push(next.to_string()),
                    None => {
                        if let Some(last) = items.last_mut() {
                            last.push(' ');
                            last.push_str(l.trim());
                        }
                    }
                }
            }
            out.push(Block::List(items));
        } else {
            let mut text = line.trim().to_string();
            while let Some(l) = lines.next_if(|l| !l.trim().is_empty() && !starts_block(l)) {
                text.push(' ');
                text.push_str(l.trim());
            }
            out.push(Block::Paragraph(text));
        }
    }
    out
}

fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|c| *c == '#').count();
    let text = line.get(level..)?.strip_prefix(' ')?;
    (1..=6).contains(&level).then_some((level, text.trim()))
}

fn item(line: &str) -> Option<&str> {
    line.strip_prefix("- ")
        .or_else(|| line.strip_prefix("* "))
        .map(str::trim)
}

/// A line that ends the paragraph or list item before it.
fn starts_block(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("```") || t.starts_with('|') || heading(line).is_some() || item(line).is_some()
}

/// A table row's cells, split at the pipes outside code spans (`\|` is a pipe in a cell).
fn cells(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut cells = vec![String::new()];
    let mut in_code = false;
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                push_last(&mut cells, '|');
            }
            '`' => {
                in_code = !in_code;
                push_last(&mut cells, c);
            }
            '|' if !in_code => cells.push(String::new()),
            _ => push_last(&mut cells, c),
        }
    }
    cells.into_iter().map(|c| c.trim().to_string()).collect()
}

fn push_last(cells: &mut [String], c: char) {
    if let Some(last) = cells.last_mut() {
        last.push(c);
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Plain,
    Code,
    Bold,
}

/// Inline text as runs: `code` (its backticks kept in the text when `keep_ticks`), **bold**.
fn spans(text: &str, keep_ticks: bool) -> Vec<(String, Kind)> {
    let mut out: Vec<(String, Kind)> = Vec::new();
    let mut rest = text;
    let mut bold = false;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('`')
            && let Some(end) = after.find('`')
        {
            let code = &after[..end];
            let shown = if keep_ticks {
                format!("`{code}`")
            } else {
                code.to_string()
            };
            out.push((shown, Kind::Code));
            rest = &after[end + 1..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("**")
            && (bold || after.contains("**"))
        {
            bold = !bold;
            rest = after;
            continue;
        }
        let next = rest
            .char_indices()
            .skip(1)
            .find(|(i, _)| rest[*i..].starts_with('`') || rest[*i..].starts_with("**"))
            .map_or(rest.len(), |(i, _)| i);
        let kind = if bold { Kind::Bold } else { Kind::Plain };
        match out.last_mut() {
            Some((t, k)) if *k == kind => t.push_str(&rest[..next]),
            _ => out.push((rest[..next].to_string(), kind)),
        }
        rest = &rest[next..];
    }
    out
}

fn paint(text: &str, kind: Kind, color: bool, heading: bool) -> String {
    let code = match (kind, heading) {
        _ if !color => return text.to_string(),
        (Kind::Code, _) => "36",
        (_, true) | (Kind::Bold, _) => "1",
        (Kind::Plain, false) => return text.to_string(),
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// Inline `text` filled to `width`: the first line indented by `first`, the others by `rest`.
/// A word longer than the line stays whole on a line of its own.
fn fill(text: &str, width: usize, first: usize, rest: usize, color: bool, heading: bool) -> String {
    // Words, each a list of styled pieces (a word may cross a code span's edge: `x`,).
    let mut words: Vec<Vec<(String, Kind)>> = vec![Vec::new()];
    for (run, kind) in spans(text, !color) {
        // A short code span is not broken across lines (`[profile <name>-mfa]` reads as one).
        let unbroken = kind == Kind::Code && run.width() <= width / 3;
        let pieces: Vec<&str> = if unbroken {
            vec![run.as_str()]
        } else {
            run.split(' ').collect()
        };
        for (i, piece) in pieces.into_iter().enumerate() {
            if i > 0 {
                words.push(Vec::new());
            }
            if !piece.is_empty()
                && let Some(word) = words.last_mut()
            {
                word.push((piece.to_string(), kind));
            }
        }
    }
    words.retain(|w| !w.is_empty());
    if words.is_empty() {
        return "\n".into();
    }
    let mut out = String::new();
    let mut line: Vec<&Vec<(String, Kind)>> = Vec::new();
    let mut used = first;
    let mut indent = first;
    // A line's pieces merged by kind (the space between two pieces of one span takes its
    // kind), each painted once.
    let flush = |out: &mut String, line: &[&Vec<(String, Kind)>], indent: usize| {
        let mut runs: Vec<(String, Kind)> = Vec::new();
        let mut push = |text: &str, kind: Kind| match runs.last_mut() {
            Some((t, k)) if *k == kind => t.push_str(text),
            _ => runs.push((text.to_string(), kind)),
        };
        for (i, word) in line.iter().enumerate() {
            if i > 0 {
                let before = line[i - 1].last().map(|(_, k)| *k);
                let after = word.first().map(|(_, k)| *k);
                push(
                    " ",
                    if before == after {
                        after.unwrap_or(Kind::Plain)
                    } else {
                        Kind::Plain
                    },
                );
            }
            for (piece, kind) in word.iter() {
                push(piece, *kind);
            }
        }
        out.push_str(&" ".repeat(indent));
        for (text, kind) in &runs {
            out.push_str(&paint(text, *kind, color, heading));
        }
        out.push('\n');
    };
    for word in &words {
        let w: usize = word.iter().map(|(p, _)| p.width()).sum();
        let needed = if line.is_empty() { w } else { w + 1 };
        if !line.is_empty() && used + needed > width {
            flush(&mut out, &line, indent);
            line.clear();
            indent = rest;
            used = rest;
        }
        used += if line.is_empty() { w } else { w + 1 };
        line.push(word);
    }
    if !line.is_empty() {
        flush(&mut out, &line, indent);
    }
    out
}

/// A pipe table, aligned within `width` by comfy-table (cells wrap when it is narrower), the
/// body's indent before each line.
fn table(rows: &[Vec<String>], width: usize, color: bool) -> String {
    use comfy_table::{Cell, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
    let cell = |text: &str, header: bool| {
        // Markers dropped (backticks too: the column says what the cell is); bold and colour
        // through comfy-table, which counts only the visible characters.
        let plain: String = spans(text, false).into_iter().map(|(t, _)| t).collect();
        let c = Cell::new(plain);
        if color && header {
            c.add_attribute(comfy_table::Attribute::Bold)
        } else {
            c
        }
    };
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(u16::try_from(width).unwrap_or(u16::MAX));
    if color {
        t.enforce_styling();
    }
    let mut rows = rows.iter();
    if let Some(header) = rows.next() {
        t.set_header(header.iter().map(|h| cell(h, true)));
    }
    for row in rows {
        t.add_row(row.iter().map(|c| cell(c, false)));
    }
    let mut out = String::new();
    for line in t.to_string().lines() {
        let _ = writeln!(out, "{}{line}", " ".repeat(BODY));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visible(line: &str) -> usize {
        let mut plain = String::new();
        let mut rest = line;
        while let Some(at) = rest.find('\x1b') {
            plain.push_str(&rest[..at]);
            rest = rest[at..].split_once('m').map_or("", |(_, r)| r);
        }
        plain.push_str(rest);
        plain.width()
    }

    #[test]
    fn blocks_of_the_subset() {
        let page = "# LD1 x\n\nA para\ncontinued.\n\n## H\n\n- one\n  more\n- two\n\n```ini\n[a]\n```\n\n| a | b |\n|---|---|\n| `x|y` | z \\| w |\n";
        assert_eq!(
            blocks(page),
            vec![
                Block::Heading(1, "LD1 x".into()),
                Block::Paragraph("A para continued.".into()),
                Block::Heading(2, "H".into()),
                Block::List(vec!["one more".into(), "two".into()]),
                Block::Code(vec!["[a]".into()]),
                Block::Table(vec![
                    vec!["a".into(), "b".into()],
                    vec!["`x|y`".into(), "z | w".into()]
                ]),
            ]
        );
    }

    #[test]
    fn fills_to_the_width_with_and_without_colour() {
        let text = "word `code span` and **bold words** ".repeat(20);
        for color in [false, true] {
            let out = fill(&text, 50, 2, 4, color, false);
            assert!(out.lines().all(|l| visible(l) <= 50), "{out}");
            assert!(!out.contains("**"));
            assert_eq!(out.contains('`'), !color);
            // Every escape opened on a line is closed on it.
            for l in out.lines() {
                assert_eq!(l.matches("\x1b[0m").count() * 2, l.matches("\x1b[").count());
            }
        }
        assert_eq!(fill("", 50, 2, 2, false, false), "\n");
    }

    #[test]
    fn a_short_code_span_stays_on_one_line() {
        // Split at its space, `[profile` would end the first line.
        let text = format!("{}`[profile x-mfa]` dd", "aaaa ".repeat(8));
        let out = fill(&text, 51, 0, 0, false, false);
        assert!(
            out.lines().any(|l| l.contains("`[profile x-mfa]`")),
            "{out}"
        );
    }

    #[test]
    fn a_long_word_stands_alone() {
        let out = fill(&format!("a {} b", "x".repeat(60)), 40, 0, 0, false, false);
        assert_eq!(out.lines().count(), 3);
    }
}
