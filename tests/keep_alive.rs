//! refresh, exec, env and credential-process against the portal/OIDC test server; the proof
//! that after `refresh` the real Leverage CLI 3.1.0 makes no portal call of its own.

use crate::support::{Case, Moto, run_with_sso_server};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BASE_NETWORK: &str = "shared/us-east-1/base-network";

/// GetRoleCredentials for any account and role, lasting `hours`.
async fn portal(server: &MockServer, hours: i64) {
    let expiration = (chrono::Utc::now() + chrono::Duration::hours(hours)).timestamp_millis();
    Mock::given(method("GET"))
        .and(path("/federation/credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "roleCredentials": {
                "accessKeyId": "ASIAREFRESHREFRESH01",
                "secretAccessKey": "LDFIXTURESECRET-refresh-secret",
                "sessionToken": "LDFIXTURESECRET-refresh-session",
                "expiration": expiration
            }
        })))
        .mount(server)
        .await;
}

/// CreateToken with the refresh-token grant.
async fn oidc_refresh(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_partial_json(
            serde_json::json!({"grantType": "refresh_token", "refreshToken": "LDFIXTURESECRET-refresh-token"}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({
                    "accessToken": "LDFIXTURESECRET-renewed-token", "tokenType": "Bearer",
                    "expiresIn": 28800, "refreshToken": "LDFIXTURESECRET-refresh-token"
                }))
                // Slow enough that processes started together overlap.
                .set_delay(std::time::Duration::from_millis(200)),
        )
        .mount(server)
        .await;
}

async fn calls(server: &MockServer, p: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == p)
        .count()
}

/// The token expires in `minutes`, and sso-login kept a registration and a refresh token.
fn expiring_with_refresh_token(case: &Case, minutes: i64) {
    let at = (chrono::Utc::now() + chrono::Duration::minutes(minutes))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    std::fs::write(
        case.aws().join("sso/cache/token"),
        serde_json::json!({"startUrl": "https://bb-fixture.awsapps.com/start", "region": "us-east-1",
            "accessToken": "LDFIXTURESECRET-old-token", "expiresAt": at})
        .to_string(),
    )
    .unwrap();
    let state = case.aws().join("leverage-doctor");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("sso-session.json"),
        serde_json::json!({
            "startUrl": "https://bb-fixture.awsapps.com/start",
            "registration": {"clientId": "client-1", "clientSecret": "LDFIXTURESECRET-client-secret",
                "expiresAt": "2099-01-01T00:00:00Z", "region": "us-east-1",
                "scopes": ["sso:account:access"], "grantTypes": ["refresh_token"]},
            "refreshToken": "LDFIXTURESECRET-refresh-token"
        })
        .to_string(),
    )
    .unwrap();
}

fn read(case: &Case, file: &str) -> String {
    std::fs::read_to_string(case.aws().join(file)).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_writes_what_leverage_3_writes() {
    let server = MockServer::start().await;
    portal(&server, 8).await;
    let case = Case::new("v3-sso-healthy");
    let run = run_with_sso_server(&case, server.uri(), &["refresh", BASE_NETWORK]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // Two roles: the backend's account (var.profile) and the management alias.
    assert_eq!(calls(&server, "/federation/credentials").await, 2);
    let creds = read(&case, "credentials");
    for name in ["bb-shared-devops", "bb-management-devops"] {
        assert!(
            creds.contains(&format!("[{name}]\naws_access_key_id = ASIAREFRESHREFRESH01\naws_secret_access_key = LDFIXTURESECRET-refresh-secret\naws_session_token = LDFIXTURESECRET-refresh-session\n")),
            "{creds}"
        );
    }
    let config = read(&case, "config");
    let ms = config
        .split("[profile bb-shared-devops]\nexpiration = ")
        .nth(1)
        .and_then(|t| t.lines().next())
        .and_then(|v| v.parse::<i64>().ok())
        .expect(&config);
    let left = ms - chrono::Utc::now().timestamp_millis();
    assert!(left > 7 * 3_600_000 && left <= 8 * 3_600_000, "{ms}");
    use std::os::unix::fs::PermissionsExt;
    for f in ["config", "credentials"] {
        let mode = std::fs::metadata(case.aws().join(f))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }
    assert!(!run.stderr.contains("LDFIXTURESECRET") && !run.stdout.contains("LDFIXTURESECRET"));
    // Fresh now: a second run fetches nothing.
    let again = run_with_sso_server(&case, server.uri(), &["refresh", BASE_NETWORK]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(calls(&server, "/federation/credentials").await, 2);
    // Asking for more than the credentials last fetches again, and says they stay short.
    let long = run_with_sso_server(
        &case,
        server.uri(),
        &["refresh", BASE_NETWORK, "--min-remaining", "10h"],
    )
    .await;
    assert_eq!(long.code, 1, "{}", long.stderr);
    assert!(long.stderr.contains("10h asked"), "{}", long.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_renews_the_token_with_the_refresh_token() {
    let server = MockServer::start().await;
    portal(&server, 8).await;
    oidc_refresh(&server).await;
    let case = Case::new("v3-sso-healthy");
    expiring_with_refresh_token(&case, 10);
    let run = run_with_sso_server(&case, server.uri(), &["refresh", BASE_NETWORK]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(calls(&server, "/token").await, 1);
    let token = read(&case, "sso/cache/token");
    assert!(token.contains("LDFIXTURESECRET-renewed-token"), "{token}");
    // The role calls used the renewed token.
    let requests = server.received_requests().await.unwrap_or_default();
    assert!(
        requests
            .iter()
            .filter(|r| r.url.path() == "/federation/credentials")
            .all(|r| r
                .headers
                .get("x-amz-sso_bearer_token")
                .is_some_and(|v| v == "LDFIXTURESECRET-renewed-token"))
    );
    assert!(!run.stderr.contains("LDFIXTURESECRET"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_without_a_refresh_token_names_the_sign_in() {
    let server = MockServer::start().await;
    portal(&server, 8).await;
    let case = Case::new("v3-sso-healthy");
    expiring_with_refresh_token(&case, 10);
    std::fs::remove_dir_all(case.aws().join("leverage-doctor")).unwrap();
    let run = run_with_sso_server(&case, server.uri(), &["refresh", BASE_NETWORK]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`leverage aws sso login` or `leverage-doctor sso-login`"),
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
}

/// The key proof: after `refresh`, `leverage tf plan` (3.1.0, stub TF_BINARY asking moto for
/// every profile) works without a single portal call of its own.
#[tokio::test(flavor = "multi_thread")]
async fn after_refresh_leverage_3_makes_no_portal_call() {
    let server = MockServer::start().await;
    portal(&server, 8).await;
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    let oracle = crate::oracle::Oracle::new("v3-sso-healthy");
    let case = &oracle.case;
    let run = run_with_sso_server(case, server.uri(), &["refresh", BASE_NETWORK]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let before = server.received_requests().await.unwrap_or_default().len();
    assert!(before > 0);
    let env = vec![
        ("AWS_ENDPOINT_URL_STS", moto.url()),
        ("AWS_ENDPOINT_URL_SSO", server.uri()),
    ];
    let (ok, said) = oracle.cli(BASE_NETWORK, "UTC", &env);
    assert!(ok, "{said}");
    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        before,
        "the Leverage CLI called the portal itself:\n{said}"
    );
    // Without the refresh, the same run does call the portal (the test can see it).
    let fresh = crate::oracle::Oracle::new("v3-sso-healthy");
    let (ok, said) = fresh.cli(BASE_NETWORK, "UTC", &env);
    assert!(ok, "{said}");
    assert!(server.received_requests().await.unwrap_or_default().len() > before);
}

/// `leverage-doctor ARGS` as a plain process in `project/<rel>` (to start many at once).
fn process(case: &Case, server: &MockServer, rel: &str, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("leverage-doctor"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", case.home())
        .env("CI", "true")
        .env("AWS_ENDPOINT_URL_SSO", server.uri())
        .env("AWS_ENDPOINT_URL_SSO_OIDC", server.uri())
        .current_dir(case.project().join(rel))
        .args(args)
        .stdin(std::process::Stdio::null());
    cmd
}

/// Single flight: 20 `refresh` processes started together make one CreateToken and fetch each
/// role once; every one of them ends ready.
#[tokio::test(flavor = "multi_thread")]
async fn twenty_refreshes_at_once_sign_in_once_and_fetch_each_role_once() {
    let server = MockServer::start().await;
    portal(&server, 8).await;
    oidc_refresh(&server).await;
    let case = Case::new("v3-sso-healthy");
    expiring_with_refresh_token(&case, 10);
    let children: Vec<std::process::Child> = (0..20)
        .map(|_| {
            process(&case, &server, BASE_NETWORK, &["refresh"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for out in &outs {
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(calls(&server, "/token").await, 1);
    assert_eq!(calls(&server, "/federation/credentials").await, 2);
    let creds = read(&case, "credentials");
    assert_eq!(creds.matches("[bb-shared-devops]").count(), 1, "{creds}");
}
