#![no_main]
use leverage_doctor::read::doctor_config;
use leverage_doctor::source::Sources;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut sources = Sources::default();
    let id = sources.add("d".into(), "d".into(), text.clone());
    for (span, _) in doctor_config::parse(&text, id).problems {
        let _ = sources.start_of(&span);
    }
});
