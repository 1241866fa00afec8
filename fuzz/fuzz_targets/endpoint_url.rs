#![no_main]
//! Endpoint overrides: validating and showing any text never panics, and a URL that passes
//! has no white space, control character or user info.
use leverage_doctor::read::endpoints::{check_url, display_url};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = display_url(&text);
    if check_url(&text).is_ok() {
        assert!(text.chars().all(|c| c.is_ascii_graphic()));
        // The authority (up to the first `/`, `?` or `#`) has no user info.
        let rest = text.split("://").nth(1).unwrap_or("");
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        assert!(!authority.contains('@'), "{text}");
    }
});
