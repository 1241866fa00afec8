#![no_main]
//! What reaches a terminal: diff lines, masked values, scrubbed and escaped server text. Never
//! panics (byte-slicing of non-ASCII values did), and escaped text holds no control character.
use leverage_doctor::report::diff::{mask_secret_value, unified};
use leverage_doctor::secrets::{escape_controls, for_output, one_line, scrub};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (old, new) = text.split_at(text.char_indices().nth(text.chars().count() / 2).map_or(text.len(), |(i, _)| i));
    let _ = unified(old, new, "config", false);
    for line in text.lines() {
        let masked = mask_secret_value(line);
        assert!(!masked.chars().any(|c| c.is_control() && c != '\t'), "{masked:?}");
    }
    let _ = scrub(&text);
    assert!(!escape_controls(&text, false).chars().any(|c| c.is_control() && c != '\t'));
    assert!(!one_line(&text, 400).chars().any(|c| c.is_control() && c != '\t'));
    // The output gate: no control but newline and tab, and no line a GitHub runner takes for a
    // workflow command (`::` first after blanks, `##[` anywhere; CR ends a runner line too).
    let out = for_output(&text, false);
    assert!(!out.chars().any(|c| c.is_control() && c != '\t' && c != '\n'), "{out:?}");
    for line in out.split(['\n', '\r']) {
        let body = line.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        assert!(!body.starts_with("::") && !line.contains("##["), "{line:?}");
    }
    // With colour allowed, only complete `ESC [ digits ; m` sequences stay.
    let coloured = for_output(&text, true);
    let mut rest = coloured.as_str();
    while let Some(at) = rest.find('\u{1b}') {
        let after = &rest[at + 1..];
        let n = after.strip_prefix('[').map(|a| a.bytes().take_while(|b| b.is_ascii_digit() || *b == b';').count());
        assert!(n.is_some_and(|n| after.as_bytes().get(n + 1) == Some(&b'm')), "{coloured:?}");
        rest = after;
    }
});
