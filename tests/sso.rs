//! sso-reset and sso-login against a test server speaking the SSO portal's and SSO-OIDC's wire
//! formats (wiremock: moto has neither).

use crate::support::{Case, Run, check_json, copy_dir, diags, run_with_sso_server};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn doctor(case: &Case, server: &MockServer, args: &[&str]) -> Run {
    run_with_sso_server(case, server.uri(), args).await
}

/// Every file under a folder, relative, sorted.
fn files(root: &std::path::Path) -> Vec<String> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                walk(root, &e.path(), out);
            } else {
                out.push(e.path().strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

const CREDENTIALS: &str = "# static keys, keep\n[bb-security]\naws_access_key_id = AKIALDFIXTURESECRET1\naws_secret_access_key = LDFIXTURESECRETsecretSecretSecret0000000\n\n[bb-shared-devops]\naws_access_key_id = ASIALDFIXTURESECRET2\naws_secret_access_key = LDFIXTURESECRETroleSecret\naws_session_token = LDFIXTURESECRET-session\n";

/// sso-healthy plus SSO-derived role credentials, a second token, and another project.
fn reset_case() -> Case {
    let case = Case::new("sso-healthy");
    std::fs::write(case.aws().join("credentials"), CREDENTIALS).unwrap();
    let mut config = std::fs::read_to_string(case.aws().join("config")).unwrap();
    config.push_str("\n[profile bb-shared-devops]\nexpiration = 4102444800000\n");
    std::fs::write(case.aws().join("config"), config).unwrap();
    std::fs::write(
        case.aws().join("sso/cache/0123abcd.json"),
        r#"{"accessToken":"LDFIXTURESECRET-second","expiresAt":"2099-01-01T00:00:00Z","region":"us-east-2"}"#,
    )
    .unwrap();
    let other = case.home().join(".aws/other");
    copy_dir(&case.aws(), &other);
    case
}

async fn logout_mock(server: &MockServer, token: &str, status: u16) {
    Mock::given(method("POST"))
        .and(path("/logout"))
        .and(header("x-amz-sso_bearer_token", token))
        .respond_with(ResponseTemplate::new(status))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_logs_out_each_token_and_removes_only_sso_derived_state() {
    let server = MockServer::start().await;
    logout_mock(&server, "LDFIXTURESECRET-sso-access-token-healthy", 200).await;
    logout_mock(&server, "LDFIXTURESECRET-second", 200).await;
    let case = reset_case();
    let other_before = files(&case.home().join(".aws/other"));
    let run = doctor(&case, &server, &["sso-reset", "--yes"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    server.verify().await;
    // Token files gone; credentials and config edited with backups; nothing else (not even
    // the writers' lock file).
    let mut remaining = files(&case.aws());
    remaining.retain(|f| !f.contains(".bak-"));
    assert_eq!(remaining, ["config", "credentials"]);
    let creds = std::fs::read_to_string(case.aws().join("credentials")).unwrap();
    assert_eq!(
        creds,
        "# static keys, keep\n[bb-security]\naws_access_key_id = AKIALDFIXTURESECRET1\naws_secret_access_key = LDFIXTURESECRETsecretSecretSecret0000000\n\n"
    );
    let config = std::fs::read_to_string(case.aws().join("config")).unwrap();
    assert!(!config.contains("expiration"));
    assert!(
        config.contains("[profile bb-sso-shared]"),
        "SSO profiles stay"
    );
    assert_eq!(
        files(&case.home().join(".aws/other")),
        other_before,
        "another project untouched"
    );
    assert!(
        run.stderr
            .contains("also sign out in the browser: open https://bb-fixture.awsapps.com/start")
    );
    assert!(
        !run.stdout.contains("LDFIXTURESECRET") && !run.stderr.contains("LDFIXTURESECRET"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_dry_run_changes_nothing_and_calls_nothing() {
    let server = MockServer::start().await;
    let case = reset_case();
    let before = files(&case.home());
    let creds = std::fs::read_to_string(case.aws().join("credentials")).unwrap();
    let run = doctor(&case, &server, &["sso-reset", "--dry-run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("log out and delete  ~/.aws/bb/sso/cache/token"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("remove SSO role credentials  [bb-shared-devops]")
    );
    assert!(run.stdout.contains("keep  [bb-security] (long-term keys)"));
    // One vocabulary with regen-config --dry-run and check --fix --diff.
    assert!(
        run.stderr.contains("dry run: nothing written"),
        "{}",
        run.stderr
    );
    assert_eq!(files(&case.home()), before);
    assert_eq!(
        std::fs::read_to_string(case.aws().join("credentials")).unwrap(),
        creds
    );
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_logout_still_clears_local_state_and_says_so() {
    let server = MockServer::start().await;
    logout_mock(&server, "LDFIXTURESECRET-sso-access-token-healthy", 500).await;
    logout_mock(&server, "LDFIXTURESECRET-second", 200).await;
    let case = reset_case();
    let run = doctor(&case, &server, &["sso-reset", "--yes"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning: SSO Logout failed for ~/.aws/bb/sso/cache/token"),
        "{}",
        run.stderr
    );
    assert!(!case.aws().join("sso/cache/token").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_without_a_terminal_needs_yes() {
    let server = MockServer::start().await;
    let case = reset_case();
    let run = doctor(&case, &server, &["sso-reset"]).await;
    assert_eq!(run.code, 2);
    assert!(case.aws().join("sso/cache/token").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_aws_cli_cache_removes_only_this_projects_entries() {
    let server = MockServer::start().await;
    logout_mock(&server, "LDFIXTURESECRET-sso-access-token-healthy", 200).await;
    logout_mock(&server, "LDFIXTURESECRET-second", 200).await;
    let case = reset_case();
    let sso_cache = case.home().join(".aws/sso/cache");
    let cli_cache = case.home().join(".aws/cli/cache");
    std::fs::create_dir_all(&sso_cache).unwrap();
    std::fs::create_dir_all(&cli_cache).unwrap();
    let url = "https://bb-fixture.awsapps.com/start";
    let ours = leverage_doctor::fix::reset::sha1_hex(url);
    let role = leverage_doctor::fix::reset::cli_role_cache_key(url, "222222222222", "DevOps");
    for f in [
        sso_cache.join("someone-else.json"),
        cli_cache.join(format!("{role}.json")),
        cli_cache.join("assume-role.json"),
    ] {
        std::fs::write(f, "{}").unwrap();
    }
    // The AWS CLI's token names its portal: that is what proves it is the project's.
    std::fs::write(
        sso_cache.join(format!("{ours}.json")),
        serde_json::json!({"startUrl": url, "region": "us-east-1", "accessToken": "LDFIXTURESECRET-cli", "expiresAt": "2026-01-01T00:00:00Z"}).to_string(),
    )
    .unwrap();
    let run = doctor(&case, &server, &["sso-reset", "--yes", "--aws-cli-cache"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(files(&sso_cache), ["someone-else.json"]);
    assert_eq!(files(&cli_cache), ["assume-role.json"]);
}

async fn oidc(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/client/register"))
        .and(body_partial_json(
            serde_json::json!({"clientType": "public", "scopes": ["sso:account:access"]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "clientId": "client-1", "clientSecret": "LDFIXTURESECRET-client-secret",
            "clientIdIssuedAt": 1_700_000_000, "clientSecretExpiresAt": 4_102_444_800u64
        })))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/device_authorization"))
        .and(body_partial_json(serde_json::json!({"clientId": "client-1", "startUrl": "https://bb-fixture.awsapps.com/start"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "deviceCode": "device-1", "userCode": "ABCD-EFGH",
            "verificationUri": "https://device.sso.us-east-1.amazonaws.com/",
            "verificationUriComplete": "https://device.sso.us-east-1.amazonaws.com/?user_code=ABCD-EFGH",
            "expiresIn": 600, "interval": 1
        })))
        .mount(server)
        .await;
}

fn oidc_error(code: &str, status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-amzn-errortype", code)
        .set_body_json(serde_json::json!({"error": "e", "error_description": "test"}))
}

async fn token_after(server: &MockServer, first: Vec<ResponseTemplate>) {
    for response in first {
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(response)
            .up_to_n_times(1)
            .expect(1)
            .mount(server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_partial_json(serde_json::json!({"deviceCode": "device-1", "grantType": "urn:ietf:params:oauth:grant-type:device_code"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "accessToken": "LDFIXTURESECRET-new-token", "tokenType": "Bearer", "expiresIn": 28800
        })))
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn login_polls_through_pending_and_writes_a_token_leverage_reads() {
    let server = MockServer::start().await;
    oidc(&server).await;
    token_after(
        &server,
        vec![
            oidc_error("AuthorizationPendingException", 400),
            oidc_error("AuthorizationPendingException", 400),
        ],
    )
    .await;
    let case = Case::new("sso-logged-out");
    let run = doctor(
        &case,
        &server,
        &["sso-login", "--poll-unit-ms", "20", "--aws-cli-cache"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("ABCD-EFGH"),
        "shows the code: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("the session lasts 7h 59m")
            || run.stderr.contains("the session lasts 8h"),
        "{}",
        run.stderr
    );
    let token: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case.aws().join("sso/cache/token")).unwrap())
            .unwrap();
    assert_eq!(token["accessToken"], "LDFIXTURESECRET-new-token");
    assert_eq!(token["startUrl"], "https://bb-fixture.awsapps.com/start");
    let expires = token["expiresAt"].as_str().unwrap();
    assert!(expires.len() == 20 && expires.ends_with('Z'), "{expires}");
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: std::path::PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(case.aws().join("sso/cache/token")), 0o600);
    assert_eq!(mode(case.aws().join("sso/cache")), 0o700);
    let cli = case.home().join(".aws/sso/cache").join(format!(
        "{}.json",
        leverage_doctor::fix::reset::sha1_hex("https://bb-fixture.awsapps.com/start")
    ));
    assert!(cli.exists());
    // The Leverage token is one `check` accepts.
    let (_, report) = check_json(case.cmd("").args(["check", "--offline"]));
    for rule in ["LD501", "LD502", "LD503"] {
        assert!(diags(&report, rule).is_empty(), "{rule}: {report:#}");
    }
    assert!(!run.stderr.contains("LDFIXTURESECRET") && !run.stdout.contains("LDFIXTURESECRET"));
    server.verify().await;
    // A second login reuses the cached registration (RegisterClient expected once in all).
    let again = doctor(&case, &server, &["sso-login", "--poll-unit-ms", "20"]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_down_increases_the_interval() {
    let server = MockServer::start().await;
    oidc(&server).await;
    token_after(&server, vec![oidc_error("SlowDownException", 400)]).await;
    let case = Case::new("sso-logged-out");
    let run = doctor(&case, &server, &["sso-login", "--poll-unit-ms", "10"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("polling every 6 s"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn access_denied_and_expired_code_end_with_exit_1() {
    for (code, says) in [
        ("AccessDeniedException", "sign-in was denied"),
        ("ExpiredTokenException", "the sign-in code expired"),
        // The classic wrong `sso_region`: its cause, not the raw exception.
        (
            "InvalidGrantException",
            "set `sso_region` in config/common.tfvars",
        ),
    ] {
        let server = MockServer::start().await;
        oidc(&server).await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(oidc_error(code, 400))
            .mount(&server)
            .await;
        let case = Case::new("sso-logged-out");
        let run = doctor(&case, &server, &["sso-login", "--poll-unit-ms", "10"]).await;
        assert_eq!(run.code, 1, "{code}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{code}: {}", run.stderr);
        assert!(!case.aws().join("sso/cache/token").exists());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_then_login() {
    let server = MockServer::start().await;
    logout_mock(&server, "LDFIXTURESECRET-sso-access-token-healthy", 200).await;
    oidc(&server).await;
    token_after(&server, vec![]).await;
    let case = Case::new("sso-healthy");
    let run = doctor(
        &case,
        &server,
        &["sso-reset", "--yes", "--login", "--poll-unit-ms", "10"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let token = std::fs::read_to_string(case.aws().join("sso/cache/token")).unwrap();
    assert!(token.contains("LDFIXTURESECRET-new-token"));
}

/// Profiles using an `sso-session`: the AWS CLI keys the token by the session's name and the
/// role credentials by it too; `--aws-cli-cache` clears those, and only those.
#[tokio::test(flavor = "multi_thread")]
async fn reset_aws_cli_cache_clears_sso_session_entries() {
    let server = MockServer::start().await;
    logout_mock(&server, "LDFIXTURESECRET-sso-access-token-healthy", 200).await;
    logout_mock(&server, "LDFIXTURESECRET-second", 200).await;
    let case = reset_case();
    let config = case.aws().join("config");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[sso-session bb]\nsso_start_url = https://bb-fixture.awsapps.com/start/\nsso_region = us-east-1\n\n[profile bb-console]\nsso_session = bb\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\n\n[sso-session other]\nsso_start_url = https://other.awsapps.com/start\nsso_region = us-east-1\n"),
    )
    .unwrap();
    let sso_cache = case.home().join(".aws/sso/cache");
    let cli_cache = case.home().join(".aws/cli/cache");
    std::fs::create_dir_all(&sso_cache).unwrap();
    std::fs::create_dir_all(&cli_cache).unwrap();
    let sha = leverage_doctor::fix::reset::sha1_hex;
    let role =
        leverage_doctor::fix::reset::cli_session_role_cache_key("bb", "222222222222", "ReadOnly");
    for (f, url) in [
        (
            sso_cache.join(format!("{}.json", sha("bb"))),
            "https://bb-fixture.awsapps.com/start/#/",
        ),
        (
            sso_cache.join(format!("{}.json", sha("other"))),
            "https://other.awsapps.com/start",
        ),
    ] {
        std::fs::write(
            f,
            serde_json::json!({"startUrl": url, "accessToken": "LDFIXTURESECRET-cli"}).to_string(),
        )
        .unwrap();
    }
    std::fs::write(cli_cache.join(format!("{role}.json")), "{}").unwrap();
    let run = doctor(&case, &server, &["sso-reset", "--yes", "--aws-cli-cache"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(files(&sso_cache), [format!("{}.json", sha("other"))]);
    assert!(files(&cli_cache).is_empty());
}
