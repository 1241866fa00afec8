#![no_main]
//! Rewriting sections: never panics, and a second identical edit changes nothing (idempotent).
use leverage_doctor::fix::ini_edit::{EditPlan, SectionSpec, apply};
use leverage_doctor::model::aws::IniKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let plan = EditPlan {
        upsert: vec![
            SectionSpec { header: "profile bb-sso-shared".into(), keys: vec![("role_name".into(), "DevOps".into()), ("account_id".into(), "222222222222".into())] },
            SectionSpec { header: "default".into(), keys: vec![("region".into(), "us-east-1".into())] },
        ],
        remove: vec!["profile bb-sso-old".into()],
        remove_keys: vec![("profile a".into(), "expiration".into())],
        remove_occurrence: vec![("profile bb-sso-shared".into(), 1)],
    };
    let once = apply(&text, IniKind::Config, &plan);
    let twice = apply(&once, IniKind::Config, &plan);
    assert_eq!(once, twice, "editing twice must equal editing once");
});
