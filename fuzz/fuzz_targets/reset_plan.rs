#![no_main]
//! sso-reset on any credentials file: never panics, and never removes a section holding
//! long-term keys (an AKIA key id, or no session token).
use leverage_doctor::fix::ini_edit::apply;
use leverage_doctor::fix::reset::credentials_plan;
use leverage_doctor::model::aws::IniKind;
use leverage_doctor::ini::parse;
use leverage_doctor::source::FileId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let (creds, _) = parse(&text, FileId::DETACHED, IniKind::Credentials);
    let plan = credentials_plan(&creds, None, "bb");
    let out = apply(&text, IniKind::Credentials, &plan.edit);
    let (after, _) = parse(&out, FileId::DETACHED, IniKind::Credentials);
    let long_term = |s: &leverage_doctor::model::aws::IniSection| {
        s.get("aws_access_key_id").is_some()
            && (s.get("aws_access_key_id").is_some_and(|k| k.value.starts_with("AKIA"))
                || s.get("aws_session_token").is_none_or(|t| t.value.is_empty()))
    };
    let kept = |s: &leverage_doctor::model::aws::IniSection| {
        let id = s.get("aws_access_key_id").map(|k| k.value.clone());
        after.sections.iter().any(|a| a.raw == s.raw && a.get("aws_access_key_id").map(|k| k.value.clone()) == id)
    };
    for s in creds.sections.iter().filter(|s| long_term(s)) {
        assert!(kept(s), "long-term keys of [{}] removed", s.raw);
    }
});
