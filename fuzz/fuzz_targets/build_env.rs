#![no_main]
use leverage_doctor::read::buildenv;
use leverage_doctor::source::Sources;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut sources = Sources::default();
    let id = sources.add("b".into(), "b".into(), text.clone());
    for e in buildenv::parse(&text, id) {
        let r = e.key_span.range.clone().unwrap();
        assert_eq!(&text[r], e.key);
        let _ = sources.start_of(&e.value_span);
    }
});
