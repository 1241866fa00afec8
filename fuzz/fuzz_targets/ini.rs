#![no_main]
//! The AWS config/credentials reader: any bytes, both kinds; spans must point into the input.
use leverage_doctor::model::aws::IniKind;
use leverage_doctor::ini;
use leverage_doctor::source::Sources;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut sources = Sources::default();
    let id = sources.add("f".into(), "f".into(), text.clone());
    for kind in [IniKind::Config, IniKind::Credentials] {
        let (file, secrets) = ini::parse(&text, id, kind);
        for s in &file.sections {
            for e in &s.entries {
                let r = e.value_span.range.clone().unwrap();
                assert_eq!(&text[r], e.value);
            }
        }
        for r in secrets {
            assert!(r.end <= text.len());
        }
        for p in &file.problems {
            let _ = sources.start_of(&p.span);
        }
    }
});
