//! Property tests of every parser the doctor owns: any input is read without a panic, and what
//! is read points back into the input.

use leverage_doctor::ini;
use leverage_doctor::model::aws::IniKind;
use leverage_doctor::read::{aws, buildenv, doctor_config, hcl, kubeconfig, tf_json};
use leverage_doctor::source::Sources;
use proptest::prelude::*;
use std::path::PathBuf;

fn ini_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        "\\[(profile |sso-session )?[a-zA-Z0-9 _.-]{0,12}\\]",
        "[a-z_]{1,12} ?[=:] ?[ -~]{0,20}",
        "[#;][ -~]{0,20}",
        "  [a-z]{1,5} = [a-z]{0,5}",
        "[ -~]{0,30}",
        Just(String::new()),
    ];
    (prop::collection::vec(line, 0..30), any::<bool>())
        .prop_map(|(lines, crlf)| lines.join(if crlf { "\r\n" } else { "\n" }))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn ini_reader_accounts_for_every_line(text in ini_text(), credentials in any::<bool>()) {
        let mut s = Sources::default();
        let id = s.add(PathBuf::from("c"), "c".into(), text.clone());
        let kind = if credentials { IniKind::Credentials } else { IniKind::Config };
        let (file, secrets) = ini::parse(&text, id, kind);
        for section in &file.sections {
            let r = section.header.range.clone().unwrap();
            prop_assert!(text[r].starts_with('['));
            for e in &section.entries {
                let k = e.key_span.range.clone().unwrap();
                prop_assert_eq!(&text[k], e.key.as_str());
                let v = e.value_span.range.clone().unwrap();
                prop_assert_eq!(&text[v], e.value.as_str());
            }
        }
        for r in secrets {
            prop_assert!(r.end <= text.len());
        }
    }

    #[test]
    fn ini_reader_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut s = Sources::default();
        let id = s.add(PathBuf::from("c"), "c".into(), text.clone());
        let _ = ini::parse(&text, id, IniKind::Config);
    }

    #[test]
    fn build_env_reader_points_into_its_input(text in "([A-Z_]{1,8}=[ -~]{0,12}\n|export [A-Z]{1,5}=x\n|#[ -~]{0,10}\n|[ -~]{0,15}\n){0,20}") {
        let mut s = Sources::default();
        let id = s.add(PathBuf::from("b"), "b".into(), text.clone());
        for e in buildenv::parse(&text, id) {
            let r = e.key_span.range.clone().unwrap();
            prop_assert_eq!(&text[r], e.key.as_str());
        }
    }

    #[test]
    fn token_reader_never_panics(text in "[ -~]{0,200}") {
        let _ = aws::parse_token(&text);
    }

    #[test]
    fn token_reader_reads_what_it_is_given(
        token in "[A-Za-z0-9]{1,20}",
        y in 1970i32..9999, mo in 1u32..13, d in 1u32..29, h in 0u32..24, mi in 0u32..60,
    ) {
        let at = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:00Z");
        let t = aws::parse_token(&format!(r#"{{"accessToken":"{token}","expiresAt":"{at}"}}"#)).unwrap();
        prop_assert!(t.access_token.is_some());
        prop_assert!(matches!(t.expires_at, Some(Ok(_))));
    }

    #[test]
    fn hcl_reference_extraction_never_panics(text in "(provider \"aws\" \\{\n  (profile|alias|region) = (var\\.[a-z]{1,8}|\"[ -~&&[^\"\\\\]]{0,12}\"|\"\\$\\{var\\.[a-z]{1,7}\\}-x\"|lookup\\(a, b\\)|[0-9]{1,3}|\\[\\]|\\{\\})\n\\}\n|locals \\{ x = \\{ profile = \"a\" \\} \\}\n|[ -~]{0,20}\n){0,8}") {
        let mut s = Sources::default();
        let id = s.add(PathBuf::from("t"), "t".into(), text.clone());
        let mut vars = ::hcl::Map::new();
        vars.insert("project".to_string(), ::hcl::Value::from("bb"));
        vars.insert("profile".to_string(), ::hcl::Value::from("bb-shared-devops"));
        if let Ok(body) = hcl::parse_body(&text, id) {
            for r in hcl::profile_refs(&body, &text, id, &vars, &"l".into()).refs {
                let range = r.span.range.clone().unwrap();
                prop_assert!(range.end <= text.len());
            }
        }
    }

    #[test]
    fn doctor_settings_reader_never_panics(text in "[ -~\n]{0,200}") {
        let mut s = Sources::default();
        let id = s.add(PathBuf::from("d"), "d".into(), text.clone());
        let c = doctor_config::parse(&text, id);
        for (span, _) in c.problems {
            prop_assert!(span.range.unwrap().end <= text.len());
        }
    }
}

/// Every input a fuzzer once broke the doctor with (`tests/fuzz-regressions/<target>-N`), run
/// through the same checks as its fuzz target.
#[test]
fn fuzz_regressions_stay_fixed() {
    use leverage_doctor::fix::ini_edit::{EditPlan, SectionSpec, apply};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("tests/fuzz-regressions") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let target = name.rsplit_once('-').map(|(t, _)| t).unwrap_or(&name);
        match target {
            "ini_edit" => {
                let plan = EditPlan {
                    upsert: vec![
                        SectionSpec {
                            header: "profile bb-sso-shared".into(),
                            keys: vec![
                                ("role_name".into(), "DevOps".into()),
                                ("account_id".into(), "222222222222".into()),
                            ],
                        },
                        SectionSpec {
                            header: "default".into(),
                            keys: vec![("region".into(), "us-east-1".into())],
                        },
                    ],
                    remove: vec!["profile bb-sso-old".into()],
                    remove_keys: vec![("profile a".into(), "expiration".into())],
                    ..Default::default()
                };
                let once = apply(&text, IniKind::Config, &plan);
                assert_eq!(apply(&once, IniKind::Config, &plan), once, "{name}");
            }
            "ini" => {
                let mut s = Sources::default();
                let id = s.add(PathBuf::from("c"), "c".into(), text.clone());
                let _ = ini::parse(&text, id, IniKind::Config);
            }
            "hcl_refs" => {
                let mut s = Sources::default();
                let id = s.add(PathBuf::from("t"), "t".into(), text.clone());
                if let Ok(body) = hcl::parse_body(&text, id) {
                    let _ = hcl::profile_refs(&body, &text, id, &::hcl::Map::new(), &"l".into());
                }
                if let Ok((_, body)) = hcl::tfvars(&text, id) {
                    let _ = hcl::accounts(&body, id);
                }
            }
            other => panic!("no runner for fuzz target `{other}` ({name})"),
        }
        seen += 1;
    }
    assert!(seen >= 1);
}

/// Text as a hostile checkout or server would write it: controls, CR, ESC sequences, bidi
/// overrides, workflow-command prefixes, Unicode blanks.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("::".to_string()),
        Just("##[".to_string()),
        Just("\u{1b}[".to_string()),
        Just("\u{1b}]0;".to_string()),
        Just("\r".to_string()),
        Just("\n".to_string()),
        Just("\u{a0}".to_string()),
        Just("\u{feff}".to_string()),
        Just("\u{202e}".to_string()),
        "[0-9;]{0,4}m?",
        "[ -~]{0,8}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The output gate (every sink): no control but newline and tab; no line a GitHub runner
    /// takes for a workflow command; with colour, only complete colour codes.
    #[test]
    fn output_gate_lets_no_command_or_control_through(text in hostile_text(), colour in any::<bool>()) {
        let out = leverage_doctor::secrets::for_output(&text, colour);
        let mut plain = String::new();
        let mut rest = out.as_str();
        while let Some(at) = rest.find('\u{1b}') {
            plain.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let n = after
                .strip_prefix('[')
                .map(|a| a.bytes().take_while(|b| b.is_ascii_digit() || *b == b';').count());
            prop_assert!(colour, "an escape without colour: {:?}", out);
            prop_assert!(n.is_some_and(|n| after.as_bytes().get(n + 1) == Some(&b'm')), "{:?}", out);
            rest = &after[n.unwrap_or(0) + 2..];
        }
        plain.push_str(rest);
        prop_assert!(!plain.chars().any(|c| c.is_control() && c != '\t' && c != '\n'), "{:?}", out);
        for line in plain.split('\n') {
            let body = line.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
            prop_assert!(!body.starts_with("::"), "{:?}", line);
            prop_assert!(!line.contains("##["), "{:?}", line);
        }
    }

    /// User info is never shown, with or without a scheme.
    #[test]
    fn url_user_info_is_never_shown(
        scheme in prop_oneof![Just(""), Just("http://"), Just("https://"), Just("socks5h://")],
        user in "[a-z]{1,8}",
        password in "[A-Za-z0-9!$%&@]{6,16}",
        host in "[a-z0-9.-]{1,12}",
        tail in prop_oneof![Just(""), Just(":3128"), Just("/p?q=1"), Just(":8080/")],
    ) {
        let url = format!("{scheme}{user}:{password}@{host}{tail}");
        let shown = leverage_doctor::read::endpoints::display_url(&url);
        prop_assert!(!shown.contains(&format!("{user}:{password}")), "{} → {}", url, shown);
        prop_assert!(shown.contains("****@"), "{} → {}", url, shown);
    }
}

/// Terraform JSON with providers (lists or objects), strings with interpolations and quotes.
fn tf_json_text() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        "\"[a-z${}.\\\\\" -]{0,16}\"",
        Just("\"${var.profile}\"".to_string()),
        Just("true".to_string()),
        Just("[\"--profile\", \"p\"]".to_string()),
        Just("{}".to_string()),
    ];
    let attr = ("(profile|alias|region|token|config_path|x y)", value)
        .prop_map(|(k, v)| format!("\"{k}\": {v}"));
    let block = prop::collection::vec(attr, 0..4).prop_map(|a| format!("{{{}}}", a.join(", ")));
    let provider = (
        "(aws|vault|kubernetes|helm)",
        prop::collection::vec(block, 1..3),
        any::<bool>(),
    )
        .prop_map(|(name, blocks, list)| {
            if list {
                format!("\"{name}\": [{}]", blocks.join(", "))
            } else {
                format!("\"{name}\": {}", blocks[0])
            }
        });
    prop::collection::vec(provider, 0..4)
        .prop_map(|p| format!("{{\"provider\": {{{}}}}}", p.join(", ")))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Every reference found in a `.tf.json` file points into the JSON text, at a whole value.
    #[test]
    fn tf_json_references_point_into_the_json(text in tf_json_text()) {
        use leverage_doctor::source::FileId;
        let Ok(t) = tf_json::translate(&text) else { return Ok(()) };
        let body = hcl::parse_body(&t.hcl, FileId::DETACHED);
        // A JSON string is a template for Terraform too: an unterminated `${` or `%{` fails
        // there as here (the reader reports the file, LD002). Nothing else may fail.
        prop_assert!(
            body.is_ok() || text.contains("${") || text.contains("%{"),
            "{}\n{}",
            text,
            t.hcl
        );
        let Ok(body) = body else { return Ok(()) };
        let refs = hcl::profile_refs(&body, &t.hcl, FileId::DETACHED, &Default::default(), &"l".into());
        for r in refs.refs {
            let mut span = r.span;
            t.remap(&mut span, FileId::DETACHED);
            if let Some(range) = span.range {
                prop_assert!(
                    text.get(range.clone())
                        .is_some_and(|s| serde_json::from_str::<serde_json::Value>(s).is_ok()),
                    "{} {:?}",
                    text,
                    range
                );
            }
        }
    }

    /// Any text: kubeconfig and sops readers never panic, and what they point at is in it.
    #[test]
    fn kubeconfig_and_sops_readers_point_into_the_text(text in "[ -~\n]{0,200}") {
        if let Ok(k) = kubeconfig::parse(&text) {
            for u in &k.users {
                if let Some(p) = kubeconfig::exec_profile(u, &text) {
                    prop_assert!(text.get(p.range).is_some());
                }
            }
        }
        for (range, ..) in hcl::sops_kms_keys(&text) {
            prop_assert!(text.get(range).is_some());
        }
    }
}
