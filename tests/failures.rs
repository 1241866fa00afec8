//! Every live failure class of the JSON report (`live.failure`), each produced by a server
//! speaking AWS's real wire format (STS XML errors with their codes and a `Date` header; the
//! SSO portal's JSON errors with `x-amzn-errortype`), or by the network itself.

use crate::support::{Case, live_of};
use std::time::Duration;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// `check --format json` in `rel` with the environment given; the report.
async fn live(
    case: &Case,
    rel: &str,
    env: Vec<(&'static str, String)>,
    extra: &[&str],
) -> serde_json::Value {
    let mut cmd = case.cmd(rel);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.env("CI", "true")
        .args(["check", "--format", "json"])
        .args(extra)
        .timeout(Duration::from_secs(120));
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run"))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)))
}

/// `check` of iam-live's base-network layer with STS at `sts`: the report.
async fn base_network(case: &Case, sts: &MockServer) -> serde_json::Value {
    live(
        case,
        "shared/us-east-1/base-network",
        vec![("AWS_ENDPOINT_URL_STS", sts.uri())],
        &[],
    )
    .await
}

fn sts_error(
    status: u16,
    code: &str,
    date: Option<chrono::DateTime<chrono::Utc>>,
) -> ResponseTemplate {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>test {code}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
    );
    let t = ResponseTemplate::new(status).set_body_raw(body, "text/xml");
    match date {
        Some(d) => t.insert_header("date", d.to_rfc2822().as_str()),
        None => t,
    }
}

const IDENTITY: &str = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::444444444444:user/jane</Arn><UserId>AIDA</UserId><Account>444444444444</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>";

/// The SSO portal's GetRoleCredentials answer: fresh role credentials.
fn role_credentials() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "roleCredentials": {"accessKeyId": "ASIAPORTALPORTAL0001", "secretAccessKey": "LDFIXTURESECRET-p",
                            "sessionToken": "LDFIXTURESECRET-ps", "expiration": 4_102_444_800_000u64}
    }))
}

/// The class the report gives `profile` when STS answers `response` to every call.
async fn sts_class(response: ResponseTemplate, profile: &str) -> String {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(response)
        .mount(&server)
        .await;
    let case = Case::new("iam-live");
    let report = base_network(&case, &server).await;
    live_of(&report, profile)["failure"]
        .as_str()
        .unwrap_or("null")
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn sts_error_codes_are_classified() {
    let now = chrono::Utc::now();
    for (response, want) in [
        (sts_error(403, "ExpiredToken", None), "expired-token"),
        (sts_error(403, "InvalidClientTokenId", None), "unknown-key"),
        (
            sts_error(403, "SignatureDoesNotMatch", Some(now)),
            "bad-signature",
        ),
        // The same code with a server clock two hours away is the clock, not the key.
        (
            sts_error(
                403,
                "SignatureDoesNotMatch",
                Some(now - chrono::Duration::hours(2)),
            ),
            "clock-skew",
        ),
        (sts_error(400, "Throttling", None), "throttled"),
    ] {
        assert_eq!(sts_class(response, "bb-security").await, want);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_assume_role_is_assume_role_denied() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=AssumeRole"))
        .respond_with(sts_error(403, "AccessDenied", None))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(IDENTITY, "text/xml"))
        .mount(&server)
        .await;
    let case = Case::new("iam-live");
    let report = base_network(&case, &server).await;
    assert_eq!(
        live_of(&report, "bb-shared-devops")["failure"],
        "assume-role-denied",
        "{report:#}"
    );
    assert_eq!(
        live_of(&report, "bb-security")["failure"],
        serde_json::Value::Null
    );
    assert_eq!(live_of(&report, "bb-security")["status"], "ok");
}

/// STS's AssumeRole reply for `arn`, with fresh credentials.
fn assumed(arn: &str) -> ResponseTemplate {
    let body = format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROA:leverage-doctor</AssumedRoleId><Arn>{arn}</Arn></AssumedRoleUser><Credentials><AccessKeyId>ASIAROLEROLEROLE0001</AccessKeyId><SecretAccessKey>LDFIXTURESECRET-r</SecretAccessKey><SessionToken>LDFIXTURESECRET-rs</SessionToken><Expiration>2100-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>"
    );
    ResponseTemplate::new(200).set_body_raw(body, "text/xml")
}

/// A role over static keys is one AssumeRole call: its reply names the role session, as
/// GetCallerIdentity would (half the calls of a 50-account IAM project). A reply whose ARN is
/// not a role session's falls back to asking GetCallerIdentity.
#[tokio::test(flavor = "multi_thread")]
async fn a_role_over_static_keys_is_one_assume_role_call() {
    for (reply_arn, identity_calls, account) in [
        (
            "arn:aws:sts::222222222222:assumed-role/DevOps/leverage-doctor",
            1,
            "222222222222",
        ),
        ("not-an-arn", 2, "444444444444"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(body_string_contains("Action=AssumeRole"))
            .and(body_string_contains("RoleSessionName=leverage-doctor"))
            .respond_with(assumed(reply_arn))
            .expect(1)
            .mount(&server)
            .await;
        // bb-security's own keys, and the fallback.
        Mock::given(method("POST"))
            .and(body_string_contains("Action=GetCallerIdentity"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(IDENTITY, "text/xml"))
            .expect(identity_calls)
            .mount(&server)
            .await;
        let case = Case::new("iam-live");
        let layer = case
            .project()
            .join("shared/us-east-1/base-network/config.tf");
        // Only the one-hop role and the keys it starts from.
        std::fs::write(
            &layer,
            "provider \"aws\" {\n  region  = var.region\n  profile = var.profile\n}\n\nprovider \"aws\" {\n  alias   = \"keys\"\n  region  = var.region\n  profile = \"bb-security\"\n}\n",
        )
        .unwrap();
        let report = base_network(&case, &server).await;
        let role = live_of(&report, "bb-shared-devops");
        assert_eq!(role["status"], "ok", "{report:#}");
        assert_eq!(role["account"], account, "{report:#}");
        if identity_calls == 1 {
            assert_eq!(role["arn"], reply_arn);
        }
        server.verify().await;
    }
}

/// A call STS throttles is made again after a backoff (AssumeRole and GetCallerIdentity alike),
/// and the profile is ok when the next answer is.
#[tokio::test(flavor = "multi_thread")]
async fn a_throttled_call_is_made_again() {
    let server = MockServer::start().await;
    for action in ["Action=AssumeRole", "Action=GetCallerIdentity"] {
        Mock::given(method("POST"))
            .and(body_string_contains(action))
            .respond_with(sts_error(400, "Throttling", None))
            .up_to_n_times(1)
            .with_priority(1)
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(body_string_contains("Action=AssumeRole"))
        .respond_with(assumed(
            "arn:aws:sts::222222222222:assumed-role/DevOps/leverage-doctor",
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=GetCallerIdentity"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(IDENTITY, "text/xml"))
        .mount(&server)
        .await;
    let case = Case::new("iam-live");
    let report = base_network(&case, &server).await;
    assert_eq!(
        live_of(&report, "bb-shared-devops")["status"],
        "ok",
        "{report:#}"
    );
    assert_eq!(
        live_of(&report, "bb-shared-devops")["account"],
        "222222222222"
    );
    assert_eq!(
        live_of(&report, "bb-security")["status"],
        "ok",
        "{report:#}"
    );
    // Whichever profile's call was throttled, none is left failed by it.
    for p in report["profiles"].as_array().unwrap() {
        assert_ne!(p["live"]["failure"], "throttled", "{p}");
    }
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn network_and_timeout_are_told_apart() {
    // A closed port: nothing listens.
    let closed = format!("http://127.0.0.1:{}", crate::support::free_port());
    let case = Case::new("iam-live");
    let report = live(
        &case,
        "",
        vec![("AWS_ENDPOINT_URL_STS", closed)],
        &["--timeout", "2"],
    )
    .await;
    assert_eq!(
        live_of(&report, "bb-security")["failure"],
        "network",
        "{report:#}"
    );
    // A server that accepts and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().take(16).flatten() {
            held.push(s);
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    let report = live(
        &case,
        "",
        vec![("AWS_ENDPOINT_URL_STS", format!("http://127.0.0.1:{port}"))],
        &["--timeout", "1"],
    )
    .await;
    assert_eq!(
        live_of(&report, "bb-security")["failure"],
        "timeout",
        "{report:#}"
    );
}

/// The SSO portal answering GetRoleCredentials with `response`; the class of `bb-shared-devops`.
async fn sso_class(
    response: ResponseTemplate,
    roles: serde_json::Value,
) -> (String, serde_json::Value) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/federation/credentials"))
        .respond_with(response)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/assignment/roles"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"roleList": roles})),
        )
        .mount(&server)
        .await;
    let case = Case::new("sso-healthy");
    let report = live(
        &case,
        "shared/us-east-1/base-network",
        vec![
            ("AWS_ENDPOINT_URL_SSO", server.uri()),
            ("AWS_ENDPOINT_URL_STS", server.uri()),
        ],
        &[],
    )
    .await;
    let l = live_of(&report, "bb-shared-devops").clone();
    (l["failure"].as_str().unwrap_or("null").to_string(), l)
}

fn sso_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-amzn-errortype", code)
        .set_body_json(serde_json::json!({"message": message}))
}

#[tokio::test(flavor = "multi_thread")]
async fn sso_portal_errors_are_classified() {
    let (class, _) = sso_class(
        sso_error(
            401,
            "UnauthorizedException",
            "Session token not found or invalid",
        ),
        serde_json::json!([]),
    )
    .await;
    assert_eq!(class, "sso-session-invalid");
    let (class, _) = sso_class(
        sso_error(429, "TooManyRequestsException", "slow down"),
        serde_json::json!([]),
    )
    .await;
    assert_eq!(class, "throttled");
    let (class, _) = sso_class(
        sso_error(400, "InvalidGrantException", "Invalid grant provided"),
        serde_json::json!([]),
    )
    .await;
    assert_eq!(class, "invalid-grant");
    // Not assigned (or still propagating): the roles the user does have are listed.
    let (class, live) = sso_class(
        sso_error(403, "ForbiddenException", "No access"),
        serde_json::json!([{"roleName": "ReadOnly", "accountId": "222222222222"}, {"roleName": "Billing", "accountId": "222222222222"}]),
    )
    .await;
    assert_eq!(class, "role-not-assigned");
    let error = live["error"].as_str().unwrap();
    assert!(
        error.contains("your roles there: ReadOnly, Billing"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn login_session_profiles_are_unsupported_for_terraform() {
    let case = Case::new("iam-live");
    let config = case.aws().join("config");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[profile bb-security]\nlogin_session = arn:aws:sts::444444444444:assumed-role/Admin/jane\nregion = us-east-1\n"),
    )
    .unwrap();
    std::fs::write(case.aws().join("credentials"), "").unwrap();
    let report = live(
        &case,
        "shared/us-east-1/base-network",
        vec![("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1".into())],
        &[],
    )
    .await;
    assert_eq!(
        live_of(&report, "bb-security")["failure"],
        "unsupported-credentials",
        "{report:#}"
    );
    assert!(
        report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["rule"] == "LD311"),
        "{report:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chain_without_keys_is_no_credentials_and_mfa_without_a_code_is_mfa_needed() {
    let case = Case::new("iam-live");
    std::fs::write(case.aws().join("credentials"), "").unwrap();
    let report = live(
        &case,
        "shared/us-east-1/base-network",
        vec![("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1".into())],
        &[],
    )
    .await;
    assert_eq!(
        live_of(&report, "bb-shared-devops")["failure"],
        "no-credentials",
        "{report:#}"
    );
    let case = Case::new("iam-mfa-healthy");
    std::fs::remove_file(case.aws().join("cache/bb-shared-devops")).unwrap();
    let report = live(
        &case,
        "shared/us-east-1/base-network",
        vec![("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1".into())],
        &[],
    )
    .await;
    assert_eq!(
        live_of(&report, "bb-shared-devops")["failure"],
        "mfa-needed",
        "{report:#}"
    );
}

/// A partner/break-glass role chained from a profile Leverage writes from SSO: valid offline,
/// and checked live the Leverage way (GetRoleCredentials) then AssumeRole, in the role's account.
#[tokio::test(flavor = "multi_thread")]
async fn a_role_chained_from_leverage_sso_credentials_works() {
    let case = Case::new("sso-healthy");
    let config = case.aws().join("config");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[profile bb-shared-breakglass]\nrole_arn = arn:aws:iam::222222222222:role/BreakGlass\nsource_profile = bb-shared-devops\nregion = us-east-1\n"),
    )
    .unwrap();
    let layer = case
        .project()
        .join("shared/us-east-1/base-network/config.tf");
    let tf = std::fs::read_to_string(&layer).unwrap();
    std::fs::write(
        &layer,
        format!("{tf}\nprovider \"aws\" {{\n  alias   = \"breakglass\"\n  region  = \"us-east-1\"\n  profile = \"bb-shared-breakglass\"\n}}\n"),
    )
    .unwrap();
    let (code, offline) = crate::support::check_json(
        case.cmd("shared/us-east-1/base-network")
            .args(["check", "--offline"]),
    );
    assert_eq!(
        code, 0,
        "no LD104/LD304/LD306 for a chain from Leverage's SSO credentials: {offline:#}"
    );
    let portal = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/federation/credentials"))
        .respond_with(role_credentials())
        .expect(1..)
        .mount(&portal)
        .await;
    let moto = tokio::task::spawn_blocking(crate::support::Moto::start)
        .await
        .unwrap();
    let report = live(
        &case,
        "shared/us-east-1/base-network",
        vec![
            ("AWS_ENDPOINT_URL_SSO", portal.uri()),
            ("AWS_ENDPOINT_URL_STS", moto.url()),
        ],
        &[],
    )
    .await;
    let l = live_of(&report, "bb-shared-breakglass");
    assert_eq!(l["status"], "ok", "{report:#}");
    assert_eq!(l["account"], "222222222222");
    assert!(
        l["arn"]
            .as_str()
            .unwrap()
            .contains("assumed-role/BreakGlass/"),
        "{l}"
    );
    portal.verify().await;
    drop(moto);
}

/// A corporate TLS proxy's CA: Terraform and the AWS CLI read `AWS_CA_BUNDLE`, and so do the
/// live checks (the Rust SDK alone does not). moto over HTTPS with a self-signed certificate.
#[test]
fn the_live_checks_trust_aws_ca_bundle() {
    // A test CA and a server certificate it signed (rustls refuses a CA used as the server's).
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let ext = p("ext.cnf");
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    for args in [
        vec![
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=leverage-doctor test CA",
            "-keyout",
            &p("ca.key"),
            "-out",
            &p("ca.pem"),
        ],
        vec![
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            &p("key.pem"),
            "-out",
            &p("leaf.csr"),
        ],
        vec![
            "x509",
            "-req",
            "-in",
            &p("leaf.csr"),
            "-CA",
            &p("ca.pem"),
            "-CAkey",
            &p("ca.key"),
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            &ext,
            "-out",
            &p("cert.pem"),
        ],
    ] {
        let status = std::process::Command::new("openssl")
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl");
        assert!(status.success(), "{args:?}");
    }
    let (cert, key, ca) = (
        dir.path().join("cert.pem"),
        dir.path().join("key.pem"),
        dir.path().join("ca.pem"),
    );
    let moto = crate::support::Moto::start_with(&[
        "--ssl-cert",
        cert.to_str().unwrap(),
        "--ssl-key",
        key.to_str().unwrap(),
    ]);
    let url = format!("https://127.0.0.1:{}", moto.port);
    let case = Case::new("iam-live");
    let run = |bundle: Option<&std::path::Path>| {
        let mut cmd = case.cmd("shared/us-east-1/base-network");
        cmd.env("AWS_ENDPOINT_URL_STS", &url)
            .env("CI", "true")
            .args(["check", "--format", "json", "--timeout", "10"])
            .timeout(Duration::from_secs(120));
        if let Some(b) = bundle {
            cmd.env("AWS_CA_BUNDLE", b);
        }
        let out = cmd.output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let without = run(None);
    assert_eq!(
        live_of(&without, "bb-security")["status"],
        "failed",
        "an unknown CA is refused"
    );
    let with = run(Some(&ca));
    assert_eq!(live_of(&with, "bb-security")["status"], "ok", "{with:#}");
    drop(moto);
}

/// `HTTP_PROXY`/`HTTPS_PROXY` are honoured as Terraform and the AWS CLI honour them: every STS
/// call goes through a forwarding proxy on 127.0.0.1, which counts them.
#[test]
fn the_live_checks_go_through_the_proxy() {
    use std::io::{BufRead, BufReader, Read, Write};
    let moto = crate::support::Moto::start();
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_port = proxy.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for client in proxy.incoming().take(64).flatten() {
            let counter = counter.clone();
            std::thread::spawn(move || {
                // One request: absolute-form target, headers, a Content-Length body.
                let mut reader = BufReader::new(client.try_clone().unwrap());
                let mut head = String::new();
                let mut line = String::new();
                let mut length = 0usize;
                while reader.read_line(&mut line).unwrap_or(0) > 0 {
                    if line.to_ascii_lowercase().starts_with("content-length:") {
                        length = line[15..].trim().parse().unwrap_or(0);
                    }
                    let end = line == "\r\n";
                    head.push_str(&line);
                    line.clear();
                    if end {
                        break;
                    }
                }
                let mut body = vec![0u8; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let target = head.split_whitespace().nth(1).unwrap_or("").to_string();
                let Some(rest) = target.strip_prefix("http://") else {
                    return;
                };
                let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut upstream = std::net::TcpStream::connect(authority).unwrap();
                let head = head.replacen(&target, if path.is_empty() { "/" } else { path }, 1);
                let head = head.replace("Connection: keep-alive", "Connection: close");
                upstream.write_all(head.as_bytes()).unwrap();
                upstream.write_all(&body).unwrap();
                let mut answer = Vec::new();
                let _ = upstream.read_to_end(&mut answer);
                let mut client = client;
                let _ = client.write_all(&answer);
            });
        }
    });
    let case = Case::new("iam-live");
    let out = case
        .cmd("shared/us-east-1/base-network")
        .env("AWS_ENDPOINT_URL_STS", moto.url())
        .env("HTTP_PROXY", format!("http://127.0.0.1:{proxy_port}"))
        .env("CI", "true")
        .args(["check", "--format", "json"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        live_of(&report, "bb-security")["status"],
        "ok",
        "{report:#}"
    );
    assert!(
        seen.load(std::sync::atomic::Ordering::SeqCst) >= 1,
        "no call went through the proxy"
    );
}

/// Role credentials Leverage wrote and STS rejects: while config `expiration` says they are good
/// for more than 30 minutes the CLI reuses them, so "sign in again" or "rerun" changes nothing;
/// the fix is to clear that record. Once the record is stale, signing in is the fix.
#[tokio::test(flavor = "multi_thread")]
async fn rejected_leverage_keys_name_the_record_that_keeps_them() {
    let sts = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(sts_error(403, "ExpiredToken", None))
        .mount(&sts)
        .await;
    let portal = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/federation/credentials"))
        .respond_with(role_credentials())
        .mount(&portal)
        .await;
    let case = Case::new("sso-healthy");
    let config = case.aws().join("config");
    let text = std::fs::read_to_string(&config).unwrap();
    let with_expiration = |ms: i64| {
        std::fs::write(
            &config,
            format!("{text}\n[profile bb-shared-devops]\nexpiration = {ms}\n"),
        )
        .unwrap();
    };
    std::fs::write(
        case.aws().join("credentials"),
        "[bb-shared-devops]\naws_access_key_id = ASIAOLDKEYSOLDKEYS01\naws_secret_access_key = LDFIXTURESECRET-old\naws_session_token = LDFIXTURESECRET-oldt\n",
    )
    .unwrap();
    let fix_for = |report: &serde_json::Value| {
        report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["rule"] == "LD601" && d["profile"] == "bb-shared-devops")
            .map(|d| d["fix"]["text"].as_str().unwrap_or("").to_string())
            .unwrap_or_else(|| panic!("no LD601 for bb-shared-devops: {report:#}"))
    };
    let env = || {
        vec![
            ("AWS_ENDPOINT_URL_STS", sts.uri()),
            ("AWS_ENDPOINT_URL_SSO", portal.uri()),
        ]
    };
    let hours = |h: i64| (chrono::Utc::now() + chrono::Duration::hours(h)).timestamp_millis();
    with_expiration(hours(5));
    let fix = fix_for(&live(&case, "shared/us-east-1/base-network", env(), &[]).await);
    assert!(fix.contains("delete the `expiration` line"), "{fix}");
    with_expiration(hours(-1));
    let fix = fix_for(&live(&case, "shared/us-east-1/base-network", env(), &[]).await);
    assert!(fix.starts_with("sign in"), "{fix}");
}
