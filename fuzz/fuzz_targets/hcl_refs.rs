#![no_main]
//! Profile references over HCL: parse, walk, evaluate with variables.
use leverage_doctor::read::hcl;
use leverage_doctor::source::Sources;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut sources = Sources::default();
    let id = sources.add("t".into(), "t".into(), text.clone());
    let mut vars = ::hcl::Map::new();
    vars.insert("project".to_string(), ::hcl::Value::from("bb"));
    vars.insert("profile".to_string(), ::hcl::Value::from("bb-shared-devops"));
    match hcl::parse_body(&text, id) {
        Ok(body) => {
            for r in hcl::profile_refs(&body, &text, id, &vars, "layer").refs {
                let _ = sources.start_of(&r.span);
            }
        }
        Err(e) => {
            let _ = sources.start_of(&e.span);
        }
    }
    if let Ok((_, body)) = hcl::tfvars(&text, id) {
        let _ = hcl::accounts(&body, id);
    }
});
