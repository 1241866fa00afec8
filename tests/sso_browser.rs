//! The browser sign-in (authorization code + PKCE) and the refresh-token renewal, against a test
//! SSO-OIDC server that checks the S256 challenge against the verifier and the redirect URI, with
//! a `BROWSER` script that follows the redirect as a browser would.

use crate::support::{Case, Run};
use std::sync::{Arc, Mutex};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const START_URL: &str = "https://bb-fixture.awsapps.com/start";

/// What the authorize request carried, for the token request to be checked against.
#[derive(Default)]
struct Seen {
    challenge: Option<String>,
    redirect_uri: Option<String>,
    authorize_calls: usize,
    refresh_calls: usize,
}

#[derive(Clone)]
struct Oidc {
    seen: Arc<Mutex<Seen>>,
    /// Answer the redirect with this `state` instead of the one sent (a forged redirect).
    forged_state: Option<String>,
}

fn query(request: &Request, key: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

impl wiremock::Respond for Oidc {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut seen = self.seen.lock().unwrap();
        match request.url.path() {
            "/client/register" => {
                let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
                let grants = body["grantTypes"].to_string();
                assert!(
                    grants.contains("authorization_code") && grants.contains("refresh_token"),
                    "{body}"
                );
                assert_eq!(body["issuerUrl"], START_URL);
                ResponseTemplate::new(200).set_body_json(serde_json::json!({
                    "clientId": "client-pkce", "clientSecret": "LDFIXTURESECRET-pkce-secret",
                    "clientIdIssuedAt": 1_700_000_000, "clientSecretExpiresAt": 4_102_444_800u64
                }))
            }
            "/authorize" => {
                seen.authorize_calls += 1;
                assert_eq!(query(request, "response_type").as_deref(), Some("code"));
                assert_eq!(
                    query(request, "code_challenge_method").as_deref(),
                    Some("S256")
                );
                assert_eq!(
                    query(request, "scopes").as_deref(),
                    Some("sso:account:access")
                );
                assert_eq!(query(request, "client_id").as_deref(), Some("client-pkce"));
                seen.challenge = query(request, "code_challenge");
                let redirect = query(request, "redirect_uri").unwrap();
                assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");
                seen.redirect_uri = Some(redirect.clone());
                let state = self
                    .forged_state
                    .clone()
                    .or_else(|| query(request, "state"))
                    .unwrap();
                ResponseTemplate::new(302).insert_header(
                    "location",
                    format!("{redirect}?code=LDFIXTURESECRET-code&state={state}").as_str(),
                )
            }
            "/token" => {
                let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
                match body["grantType"].as_str() {
                    Some("authorization_code") => {
                        let verifier = body["codeVerifier"].as_str().unwrap_or("");
                        let ok = body["code"] == "LDFIXTURESECRET-code"
                            && seen.challenge.as_deref()
                                == Some(
                                    leverage_doctor::read::browser_login::challenge(verifier)
                                        .as_str(),
                                )
                            && body["redirectUri"].as_str() == seen.redirect_uri.as_deref();
                        if !ok {
                            return ResponseTemplate::new(400)
                                .insert_header("x-amzn-errortype", "InvalidGrantException")
                                .set_body_json(serde_json::json!({"error": "invalid_grant"}));
                        }
                        ResponseTemplate::new(200).set_body_json(serde_json::json!({
                            "accessToken": "LDFIXTURESECRET-pkce-access", "tokenType": "Bearer",
                            "expiresIn": 28800, "refreshToken": "LDFIXTURESECRET-refresh-1"
                        }))
                    }
                    Some("refresh_token") => {
                        seen.refresh_calls += 1;
                        assert_eq!(body["refreshToken"], "LDFIXTURESECRET-refresh-1");
                        ResponseTemplate::new(200).set_body_json(serde_json::json!({
                            "accessToken": "LDFIXTURESECRET-renewed", "tokenType": "Bearer",
                            "expiresIn": 28800, "refreshToken": "LDFIXTURESECRET-refresh-1"
                        }))
                    }
                    _ => ResponseTemplate::new(400),
                }
            }
            _ => ResponseTemplate::new(404),
        }
    }
}

async fn server(forged_state: Option<&str>) -> (MockServer, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let oidc = Oidc {
        seen: seen.clone(),
        forged_state: forged_state.map(str::to_string),
    };
    let server = MockServer::start().await;
    for (m, p) in [
        ("POST", "/client/register"),
        ("GET", "/authorize"),
        ("POST", "/token"),
    ] {
        Mock::given(method(m))
            .and(path(p))
            .respond_with(oidc.clone())
            .mount(&server)
            .await;
    }
    (server, seen)
}

/// A `BROWSER` that follows the authorize URL's redirect to the loopback listener, and leaves a
/// mark that it ran.
fn browser(case: &Case) -> (std::path::PathBuf, std::path::PathBuf) {
    let script = case.dir.path().join("browser.py");
    let mark = case.dir.path().join("browser-ran");
    std::fs::write(
        &script,
        format!(
            "#!/usr/bin/env python3\nimport sys, urllib.request\nopen({:?}, 'w').write('ran')\nurllib.request.urlopen(sys.argv[1], timeout=20).read()\n",
            mark.display().to_string()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, mark)
}

/// sso-login as a person on a desktop would run it: no CI, a BROWSER.
async fn login(case: &Case, server: &MockServer, script: &std::path::Path) -> Run {
    let mut cmd = case.cmd("");
    cmd.env("AWS_ENDPOINT_URL_SSO_OIDC", server.uri())
        .env("AWS_ENDPOINT_URL_SSO", server.uri())
        .env("BROWSER", script)
        .args(["sso-login", "--login-timeout", "30"])
        .timeout(std::time::Duration::from_secs(60));
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run"))
        .await
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_sign_in_with_pkce_then_renewal_with_the_refresh_token() {
    let (server, seen) = server(None).await;
    let case = Case::new("sso-logged-out");
    let (script, mark) = browser(&case);
    let run = login(&case, &server, &script).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(mark.exists(), "the browser was opened");
    let token: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case.aws().join("sso/cache/token")).unwrap())
            .unwrap();
    assert_eq!(token["accessToken"], "LDFIXTURESECRET-pkce-access");
    assert_eq!(token["startUrl"], START_URL);
    // The refresh token and registration are kept privately, outside sso/cache/.
    let kept = case.aws().join("leverage-doctor/sso-session.json");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        std::fs::read_to_string(&kept)
            .unwrap()
            .contains("LDFIXTURESECRET-refresh-1")
    );
    let cache: Vec<String> = std::fs::read_dir(case.aws().join("sso/cache"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(cache, ["token"], "nothing but the token in sso/cache/");
    assert!(!format!("{}{}", run.stdout, run.stderr).contains("LDFIXTURESECRET"));
    // The access token expires; the next sign-in renews it without a browser or a code.
    let mut expired = token.clone();
    expired["expiresAt"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(case.aws().join("sso/cache/token"), expired.to_string()).unwrap();
    std::fs::remove_file(&mark).unwrap();
    let status = case
        .cmd("")
        .args(["status", "--format", "json"])
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["sessions"][0]["refreshable"], true, "{status:#}");
    let run = login(&case, &server, &script).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("renewed the SSO session with the refresh token"),
        "{}",
        run.stderr
    );
    assert!(!mark.exists(), "no browser for a renewal");
    {
        let seen = seen.lock().unwrap();
        assert_eq!((seen.authorize_calls, seen.refresh_calls), (1, 1));
    }
    let token: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case.aws().join("sso/cache/token")).unwrap())
            .unwrap();
    assert_eq!(token["accessToken"], "LDFIXTURESECRET-renewed");
    // sso-reset removes what was kept.
    let mut cmd = case.cmd("");
    cmd.env("AWS_ENDPOINT_URL_SSO", server.uri())
        .env("CI", "true")
        .args(["sso-reset", "--yes"]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!kept.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_with_another_state_is_refused() {
    let (server, _) = server(Some("forged-state")).await;
    let case = Case::new("sso-logged-out");
    let (script, _) = browser(&case);
    let run = login(&case, &server, &script).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("another `state`"), "{}", run.stderr);
    assert!(!case.aws().join("sso/cache/token").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_browser_the_device_code_is_used() {
    // CI (or --no-browser, --use-device-code, an SSH session): the device flow's endpoints.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/client/register"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "clientId": "c", "clientSecret": "LDFIXTURESECRET-s",
            "clientIdIssuedAt": 1_700_000_000, "clientSecretExpiresAt": 4_102_444_800u64
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/device_authorization"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "deviceCode": "LDFIXTURESECRET-d", "userCode": "ABCD-EFGH",
            "verificationUri": "https://device.example/", "expiresIn": 600, "interval": 1
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "accessToken": "LDFIXTURESECRET-dev", "tokenType": "Bearer", "expiresIn": 3600
        })))
        .mount(&server)
        .await;
    let case = Case::new("sso-logged-out");
    let (script, mark) = browser(&case);
    let mut cmd = case.cmd("");
    cmd.env("AWS_ENDPOINT_URL_SSO_OIDC", server.uri())
        .env("BROWSER", &script)
        .args([
            "sso-login",
            "--use-device-code",
            "--no-browser",
            "--poll-unit-ms",
            "10",
        ]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!mark.exists());
    server.verify().await;
}

/// A device sign-in keeps the refresh token too: once the access token expires, the next
/// sign-in renews it with no device authorization.
#[tokio::test(flavor = "multi_thread")]
async fn a_device_sign_in_is_renewed_without_a_second_device_authorization() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/client/register"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "clientId": "c", "clientSecret": "LDFIXTURESECRET-s",
            "clientIdIssuedAt": 1_700_000_000, "clientSecretExpiresAt": 4_102_444_800u64
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/device_authorization"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "deviceCode": "LDFIXTURESECRET-d", "userCode": "ABCD-EFGH",
            "verificationUri": "https://device.example/", "expiresIn": 600, "interval": 1
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(wiremock::matchers::body_partial_json(serde_json::json!({"grantType": "refresh_token", "refreshToken": "LDFIXTURESECRET-dev-refresh"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "accessToken": "LDFIXTURESECRET-renewed", "tokenType": "Bearer", "expiresIn": 3600
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "accessToken": "LDFIXTURESECRET-dev", "tokenType": "Bearer", "expiresIn": 3600,
            "refreshToken": "LDFIXTURESECRET-dev-refresh"
        })))
        .mount(&server)
        .await;
    let case = Case::new("sso-logged-out");
    let run = |case: &Case| {
        let mut cmd = case.cmd("");
        cmd.env("AWS_ENDPOINT_URL_SSO_OIDC", server.uri())
            .env("CI", "true")
            .args(["sso-login", "--poll-unit-ms", "10"]);
        cmd
    };
    let mut first = run(&case);
    let out = tokio::task::spawn_blocking(move || first.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token_path = case.aws().join("sso/cache/token");
    let mut token: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&token_path).unwrap()).unwrap();
    token["expiresAt"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(&token_path, token.to_string()).unwrap();
    let mut second = run(&case);
    let out = tokio::task::spawn_blocking(move || second.output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("renewed the SSO session with the refresh token"),
        "{stderr}"
    );
    let token: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&token_path).unwrap()).unwrap();
    assert_eq!(token["accessToken"], "LDFIXTURESECRET-renewed");
    server.verify().await;
}
