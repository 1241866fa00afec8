#![no_main]
//! Whatever a portal answers (names, ids, roles), the generated layout passes the last gate:
//! no line break, no bracket in a header, only managed keys. Never panics.
use leverage_doctor::fix::ini_edit::apply;
use leverage_doctor::fix::layout::{SsoInputs, sso_plan};
use leverage_doctor::fix::ini_edit::check_plan;
use leverage_doctor::model::aws::IniKind;
use leverage_doctor::read::sso_portal::PortalAccount;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Records separated by \x1e, fields by \x1f: id, name, roles...
    let portal: Vec<PortalAccount> = text
        .split('\u{1e}')
        .take(50)
        .map(|rec| {
            let mut f = rec.split('\u{1f}');
            PortalAccount {
                id: f.next().unwrap_or("").to_string(),
                name: f.next().unwrap_or("").to_string(),
                roles: f.map(str::to_string).collect(),
            }
        })
        .collect();
    let declared = BTreeMap::from([("shared".to_string(), Some("222222222222".to_string()))]);
    let inputs = SsoInputs {
        project: "bb",
        project_long: Some("binbash"),
        start_url: "https://x.awsapps.com/start",
        sso_region: "us-east-1",
        default_region: "us-east-1",
        declared,
        expected_roles: BTreeMap::new(),
        base_account: None,
        portal: &portal,
        existing: &[],
        all_accounts: true,
        role: None,
    };
    let (plan, _) = sso_plan(&inputs, true);
    check_plan(&plan).expect("the layout always passes the gate");
    let out = apply("", IniKind::Config, &plan);
    assert!(!out.contains("credential_process"));
});
