#![no_main]
//! What reaches a terminal: diff lines, masked values, scrubbed and escaped server text. Never
//! panics (byte-slicing of non-ASCII values did), and escaped text holds no control character.
use leverage_doctor::report::diff::{mask_secret_value, unified};
use leverage_doctor::secrets::{escape_controls, one_line, scrub};
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
});
