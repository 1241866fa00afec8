#![no_main]
//! Endpoint overrides: validating and showing any text never panics, and a URL that passes
//! has no white space, control character or user info.
use leverage_doctor::read::endpoints::{check_url, display_url, user_info};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Whatever the form (with or without a scheme), the user info is never shown.
    let shown = display_url(&text);
    if let Some(range) = user_info(&text) {
        let info = &text[range.clone()];
        let elsewhere = text[..range.start].contains(info) || text[range.end..].contains(info);
        if info.len() >= 3 && !elsewhere && !info.chars().any(|c| c.is_control()) {
            assert!(!shown.contains(info), "{text:?} → {shown:?}");
        }
    }
    if check_url(&text).is_ok() {
        assert!(text.chars().all(|c| c.is_ascii_graphic()));
        // The authority (up to the first `/`, `?` or `#`) has no user info.
        let rest = text.split("://").nth(1).unwrap_or("");
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        assert!(!authority.contains('@'), "{text}");
    }
});
