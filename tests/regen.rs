//! regen-config against a test server speaking the SSO portal's wire format (wiremock: moto has
//! no portal SSO), and the IAM layout from common.tfvars.

use crate::support::{Case, Run, check_json, diags, run_with_sso_server};
use proptest::prelude::*;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "LDFIXTURESECRET-sso-access-token-healthy";

/// Comments, a user's own profile, a duplicated section, Leverage's `expiration` keys, CRLF.
const EXISTING: &str = "# my settings, keep me\r\n[default]\r\nregion = us-east-1\r\noutput = json\r\n\r\n[profile bb-sso-shared]\r\nrole_name = Administrator\r\naccount_id = 222222222222\r\nexpiration = 1700000000000\r\n\r\n[profile personal]\r\n# my own account\r\nregion = eu-west-1\r\ncli_pager =\r\n\r\n[profile bb-sso-shared]\r\nsso_region = us-east-1\r\ncli_pager = less\r\n\r\n[profile bb-sso-old]\r\nrole_name = DevOps\r\naccount_id = 999999999999\r\n";

async fn portal() -> MockServer {
    let server = MockServer::start().await;
    let accounts = |list: serde_json::Value, next: Option<&str>| {
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"accountList": list, "nextToken": next}))
    };
    Mock::given(method("GET"))
        .and(path("/assignment/accounts"))
        .and(header("x-amz-sso_bearer_token", TOKEN))
        .and(query_param_is_missing("next_token"))
        .respond_with(accounts(
            serde_json::json!([
                {"accountId": "111111111111", "accountName": "binbash-management", "emailAddress": "a@example.com"},
                {"accountId": "222222222222", "accountName": "binbash-shared", "emailAddress": "b@example.com"}
            ]),
            Some("page-2"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/assignment/accounts"))
        .and(query_param("next_token", "page-2"))
        .respond_with(accounts(
            serde_json::json!([
                {"accountId": "333333333333", "accountName": "binbash-apps-devstg", "emailAddress": "c@example.com"},
                {"accountId": "777777777777", "accountName": "sandbox", "emailAddress": "d@example.com"}
            ]),
            None,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let roles = |account: &str, list: &[&str], next: Option<&str>| {
        let list: Vec<_> = list
            .iter()
            .map(|r| serde_json::json!({"roleName": r, "accountId": account}))
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"roleList": list, "nextToken": next}))
    };
    for (account, list) in [
        ("111111111111", &["DevOps", "Administrator"][..]),
        ("333333333333", &["ReadOnly", "DevOps"][..]),
        ("777777777777", &["ReadOnly"][..]),
    ] {
        Mock::given(method("GET"))
            .and(path("/assignment/roles"))
            .and(query_param("account_id", account))
            .respond_with(roles(account, list, None))
            .mount(&server)
            .await;
    }
    // Two pages of roles for shared: the expected DevOps is on the second.
    Mock::given(method("GET"))
        .and(path("/assignment/roles"))
        .and(query_param("account_id", "222222222222"))
        .and(query_param_is_missing("next_token"))
        .respond_with(roles("222222222222", &["Administrator"], Some("roles-2")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/assignment/roles"))
        .and(query_param("account_id", "222222222222"))
        .and(query_param("next_token", "roles-2"))
        .respond_with(roles("222222222222", &["DevOps"], None))
        .mount(&server)
        .await;
    server
}

async fn regen(case: &Case, server: &MockServer, args: &[&str]) -> Run {
    let args: Vec<&str> = std::iter::once("regen-config")
        .chain(args.iter().copied())
        .collect();
    run_with_sso_server(case, server.uri(), &args).await
}

fn sso_case() -> Case {
    let case = Case::new("sso-healthy");
    std::fs::write(case.aws().join("config"), EXISTING).unwrap();
    case
}

const EXPECTED: &str = "# my settings, keep me\r\n[default]\r\nregion = us-east-1\r\noutput = json\r\n\r\n[profile bb-sso-shared]\r\nrole_name = DevOps\r\naccount_id = 222222222222\r\nexpiration = 1700000000000\r\nsso_region = us-east-1\r\nsso_start_url = https://bb-fixture.awsapps.com/start\r\ncli_pager = less\r\n\r\n[profile personal]\r\n# my own account\r\nregion = eu-west-1\r\ncli_pager =\r\n\r\n\r\n";

#[tokio::test(flavor = "multi_thread")]
async fn sso_regen_writes_leverage_layout_and_keeps_every_user_line() {
    let server = portal().await;
    let case = sso_case();
    let run = regen(
        &case,
        &server,
        &["--sso", "--yes", "--prune", "--all-accounts"],
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let written = std::fs::read_to_string(case.aws().join("config")).unwrap();
    let tail = "[profile bb-sso]\r\nsso_start_url = https://bb-fixture.awsapps.com/start\r\nsso_region = us-east-1\r\nsso_account_id = 111111111111\r\nsso_role_name = DevOps\r\n\r\n[profile bb-sso-apps-devstg]\r\nrole_name = DevOps\r\naccount_id = 333333333333\r\nsso_region = us-east-1\r\nsso_start_url = https://bb-fixture.awsapps.com/start\r\n\r\n[profile bb-sso-management]\r\nrole_name = DevOps\r\naccount_id = 111111111111\r\nsso_region = us-east-1\r\nsso_start_url = https://bb-fixture.awsapps.com/start\r\n\r\n[profile bb-sso-sandbox]\r\nrole_name = ReadOnly\r\naccount_id = 777777777777\r\nsso_region = us-east-1\r\nsso_start_url = https://bb-fixture.awsapps.com/start\r\n";
    assert_eq!(written, format!("{EXPECTED}{tail}"));
    // What was chosen and what differs from common.tfvars is said.
    assert!(
        run.stderr.contains(
            "1 account visible to you but not declared in common.tfvars `accounts`, written (--all-accounts): sandbox (777777777777)"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("removing `[profile bb-sso-old]`"));
    // Backup next to the file, byte for byte the old one; the new file is 0600.
    let backups: Vec<_> = std::fs::read_dir(case.aws())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("config.bak-"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(
        std::fs::read_to_string(backups[0].path()).unwrap(),
        EXISTING
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(case.aws().join("config"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // The offline check of the result ran and finds no profile or file errors.
    assert!(
        run.stdout.contains("+[profile bb-sso-sandbox]"),
        "diff shown"
    );
    let (_, report) = check_json(case.cmd("").args(["check", "--offline"]));
    for d in report["diagnostics"].as_array().unwrap() {
        let rule = d["rule"].as_str().unwrap();
        assert!(
            !(d["severity"] == "error"
                && (rule.starts_with("LD1") || rule.starts_with("LD2") || rule.starts_with("LD3"))),
            "{d}"
        );
    }
    assert!(!run.stdout.contains("LDFIXTURESECRET") && !run.stderr.contains("LDFIXTURESECRET"));
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_prune_stale_sections_stay() {
    let server = portal().await;
    let case = sso_case();
    let run = regen(&case, &server, &["--sso", "--yes"]).await;
    // Written; the stale section holds what the CLI reads (account_id, role_name) and no
    // layer uses it: harmless, kept, and the offline check of the result is clean.
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("error["), "{}", run.stdout);
    let written = std::fs::read_to_string(case.aws().join("config")).unwrap();
    assert!(
        written.contains(
            "[profile bb-sso-old]\r\nrole_name = DevOps\r\naccount_id = 999999999999\r\n"
        )
    );
    assert!(run.stderr.contains("use --prune to remove it"));
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_shows_the_diff_and_writes_nothing() {
    let server = portal().await;
    let case = sso_case();
    let run = regen(&case, &server, &["--sso", "--dry-run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("-role_name = Administrator\n+role_name = DevOps"),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read_to_string(case.aws().join("config")).unwrap(),
        EXISTING
    );
    let files: Vec<_> = std::fs::read_dir(case.aws())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        !files.iter().any(|f| f.to_string_lossy().contains(".bak-")),
        "{files:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_terminal_it_needs_yes() {
    let server = portal().await;
    let case = sso_case();
    let run = regen(&case, &server, &["--sso"]).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("pass --yes to write, or --dry-run"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(case.aws().join("config")).unwrap(),
        EXISTING
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_token_is_refused_with_a_clear_message() {
    let server = MockServer::start().await;
    let case = sso_case();
    std::fs::write(
        case.aws().join("sso/cache/token"),
        r#"{"accessToken":"LDFIXTURESECRET","expiresAt":"2020-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    let run = regen(&case, &server, &["--sso", "--yes"]).await;
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("expired") && run.stderr.contains("leverage-doctor sso-login"),
        "{}",
        run.stderr
    );
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
    assert_eq!(
        std::fs::read_to_string(case.aws().join("config")).unwrap(),
        EXISTING
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn iam_regen_adds_missing_accounts_and_keeps_mfa_serial() {
    let server = MockServer::start().await; // unused: IAM regen calls nothing
    let case = Case::new("iam-mfa-healthy");
    let common = case.project().join("config/common.tfvars");
    let text = std::fs::read_to_string(&common).unwrap().replace(
        "accounts = {",
        "accounts = {\n  apps-prd = {\n    email = \"aws+apps-prd@example.com\"\n    id    = \"666666666666\"\n  }",
    );
    std::fs::write(&common, text).unwrap();
    let before = std::fs::read_to_string(case.aws().join("config")).unwrap();
    let run = regen(&case, &server, &["--iam", "--yes"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let after = std::fs::read_to_string(case.aws().join("config")).unwrap();
    assert_eq!(
        after,
        format!(
            "{before}\n[profile bb-apps-prd-devops]\noutput = json\nregion = us-east-1\nrole_arn = arn:aws:iam::666666666666:role/DevOps\nsource_profile = bb-security\nmfa_serial = arn:aws:iam::444444444444:mfa/jane.doe\n"
        )
    );
    assert!(
        run.stderr
            .contains("no `[bb-management]` or `[bb-bootstrap]` keys"),
        "{}",
        run.stderr
    );
}

#[test]
fn offline_check_after_regen_is_clean_for_the_iam_fixture() {
    // Regenerating an already-correct IAM config changes nothing.
    let case = Case::new("iam-mfa-healthy");
    let out = case
        .cmd("")
        .env("CI", "true")
        .args(["regen-config", "--iam", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
    let (code, report) = check_json(case.cmd("").args(["check", "--offline"]));
    assert_eq!(code, 0);
    assert!(diags(&report, "LD102").is_empty());
}

fn unrelated_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,8} = [a-zA-Z0-9 ./:-]{0,20}".prop_map(|s| s),
        "# [ -~]{0,30}".prop_map(|s| s),
        Just(String::new()),
        "  [a-z]{1,6} = [a-z0-9]{1,6}".prop_map(|s| s),
    ]
}

proptest! {
    /// Whatever the user wrote in other sections survives a regeneration byte for byte.
    #[test]
    fn unrelated_content_survives(
        sections in prop::collection::vec(("[a-z]{1,10}", prop::collection::vec(unrelated_line(), 0..6)), 0..5),
        crlf in any::<bool>(),
    ) {
        use leverage_doctor::fix::ini_edit::{apply, EditPlan, SectionSpec};
        use leverage_doctor::model::aws::IniKind;
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut user = String::new();
        for (name, lines) in &sections {
            user.push_str(&format!("[profile user-{name}]{eol}"));
            for l in lines {
                user.push_str(l);
                user.push_str(eol);
            }
        }
        let text = format!("[profile bb-sso-shared]{eol}role_name = Old{eol}{user}");
        let plan = EditPlan {
            upsert: vec![SectionSpec {
                header: "profile bb-sso-shared".into(),
                keys: vec![("role_name".into(), "DevOps".into()), ("account_id".into(), "2".into())],
            }],
            ..Default::default()
        };
        let out = apply(&text, IniKind::Config, &plan);
        prop_assert!(out.ends_with(&user), "user content changed:\n{out:?}");
        let head = format!("[profile bb-sso-shared]{eol}role_name = DevOps{eol}account_id = 2{eol}");
        prop_assert!(out.starts_with(&head));
    }
}

/// What regen takes from the project is a function of the model alone: no server, no file
/// written. Run in an account folder, the scope's account is the one `[profile <p>-sso]` uses.
#[test]
fn regen_inputs_are_a_function_of_the_model() {
    use leverage_doctor::fix::layout::{ProjectFacts, iam_mfa_serial};
    let case = Case::new("v3-sso-healthy");
    let load = |path: std::path::PathBuf| {
        leverage_doctor::read::load(&leverage_doctor::read::ReadSettings {
            path,
            aws_dir: Some(case.aws()),
            all: false,
            config: None,
            leverage_version: None,
            programs: leverage_doctor::read::Programs::None,
        })
        .unwrap()
    };
    let model = load(case.project().join("shared"));
    let facts = ProjectFacts::of(model.project.as_ref().unwrap()).unwrap();
    assert_eq!(facts.name, "bb");
    assert_eq!(facts.project_long.as_deref(), Some("binbash"));
    assert_eq!(facts.region.as_deref(), Some("us-east-1"));
    assert_eq!(facts.base_account.as_deref(), Some("shared"));
    assert_eq!(
        facts.declared.get("apps-devstg"),
        Some(&Some("333333333333".to_string()))
    );
    assert_eq!(
        facts.expected_roles.get("shared").map(String::as_str),
        Some("DevOps")
    );
    let root = ProjectFacts::of(load(case.project()).project.as_ref().unwrap()).unwrap();
    assert_eq!(root.base_account, None);
    // A region that could break a file is refused before any layout is made.
    let common = case.project().join("config/common.tfvars");
    let text = std::fs::read_to_string(&common).unwrap();
    std::fs::write(
        &common,
        text.replace(
            "\"us-east-1\"\nregion_secondary",
            "\"us-east-1\\n[evil]\"\nregion_secondary",
        ),
    )
    .unwrap();
    let bad = ProjectFacts::of(load(case.project()).project.as_ref().unwrap()).unwrap_err();
    assert!(bad.contains("region_primary"), "{bad}");
    // The MFA serial: given, else the config's, validated; none when MFA is off.
    let config = model.aws.as_ref().unwrap().config.parsed().unwrap();
    assert_eq!(iam_mfa_serial(false, config, Some("x")), Ok(None));
    assert!(
        iam_mfa_serial(true, config, None)
            .unwrap_err()
            .contains("--mfa-serial")
    );
    assert_eq!(
        iam_mfa_serial(true, config, Some("arn:aws:iam::444444444444:mfa/jane")),
        Ok(Some("arn:aws:iam::444444444444:mfa/jane".to_string()))
    );
    assert!(iam_mfa_serial(true, config, Some("jane\n[x]")).is_err());
}

/// `regen-config --sso` says what the project is before what it lacks: an IAM project is told
/// to use `--iam`, one without common.tfvars to create it; nothing is written either way.
#[test]
fn regen_sso_in_a_project_without_sso_says_so() {
    let case = Case::new("iam-live");
    let config = case.aws().join("config");
    let before = std::fs::read(&config).unwrap();
    let out = case
        .cmd("")
        .args(["regen-config", "--sso", "--yes"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("does not use SSO"), "{stderr}");
    assert!(stderr.contains("regen-config --iam"), "{stderr}");
    assert!(!stderr.contains("has no `sso_start_url`"), "{stderr}");
    std::fs::remove_file(case.project().join("config/common.tfvars")).unwrap();
    let out = case
        .cmd("")
        .args(["regen-config", "--sso", "--yes"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("config/common.tfvars is missing"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&config).unwrap(), before);
}

/// After `regen-config --iam --yes` has written, its own check never sends the user back to
/// `regen-config` (what remains is what regen cannot write).
#[test]
fn the_check_after_regen_never_proposes_regen_again() {
    let case = Case::new("broken-iam");
    let out = case
        .cmd("")
        .env("CI", "true")
        .args(["regen-config", "--iam", "--yes"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("wrote"), "{text}");
    for line in text.lines().filter(|l| l.contains("fix:")) {
        assert!(!line.contains("regen-config --iam"), "{line}\n{text}");
    }
}
