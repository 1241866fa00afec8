#![no_main]
//! SSO token cache files (and, through the same JSON reader, MFA caches).
use leverage_doctor::read::aws;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = aws::parse_token(&text);
    let _ = aws::parse_time(&text);
    let _ = aws::parse_utc(&text);
});
