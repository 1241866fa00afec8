//! Live checks against real AWS wire formats on 127.0.0.1: moto's server for STS, and a
//! wiremock server speaking the SSO portal's and STS's exact formats where moto cannot
//! (portal SSO, exact error codes).

use crate::support::{Case, Moto, diags, free_port, live_of};
use std::time::Duration;

fn live_check(
    case: &Case,
    rel: &str,
    env: &[(&str, String)],
    extra: &[&str],
) -> (i32, serde_json::Value, String) {
    let mut cmd = case.cmd(rel);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.env("CI", "true")
        .timeout(Duration::from_secs(120))
        .arg("check")
        .args(extra);
    let out = cmd.arg("--format").arg("json").output().expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (out.status.code().unwrap_or(-1), report, stdout + &stderr)
}

#[test]
fn static_keys_role_chains_and_wrong_account_against_moto() {
    let moto = Moto::start();
    let case = Case::new("iam-live");
    let (code, report, all) = live_check(&case, "", &[("AWS_ENDPOINT_URL_STS", moto.url())], &[]);
    assert_eq!(code, 1, "LD602 and LD308 fail the run");
    let keys = live_of(&report, "bb-security");
    assert_eq!(keys["status"], "ok");
    assert_eq!(keys["arn"], "arn:aws:sts::123456789012:user/moto");
    let one_hop = live_of(&report, "bb-shared-devops");
    assert_eq!(one_hop["status"], "ok");
    assert_eq!(one_hop["account"], "222222222222");
    assert!(
        one_hop["arn"]
            .as_str()
            .unwrap()
            .contains(":assumed-role/DevOps/")
    );
    let two_hops = live_of(&report, "bb-apps-devstg-devops");
    assert_eq!(two_hops["status"], "ok", "{two_hops}");
    assert_eq!(two_hops["account"], "333333333333");
    let wrong = diags(&report, "LD602");
    assert_eq!(wrong.len(), 1, "{report:#}");
    assert_eq!(wrong[0]["profile"], "bb-apps-prd-devops");
    assert!(
        wrong[0]["message"]
            .as_str()
            .unwrap()
            .contains("lands in account 999999999999")
    );
    assert!(diags(&report, "LD601").is_empty());
    assert_eq!(report["summary"]["live_ok"], 4);
    assert!(!all.contains("LDFIXTURESECRET"));
}

#[test]
fn unknown_key_is_ld601_unknown_key_id() {
    let moto = Moto::start();
    moto.enable_auth();
    let case = Case::new("iam-live");
    let (code, report, all) = live_check(&case, "", &[("AWS_ENDPOINT_URL_STS", moto.url())], &[]);
    assert_eq!(code, 1);
    assert_eq!(live_of(&report, "bb-security")["status"], "failed");
    let failed = diags(&report, "LD601");
    let keys = failed
        .iter()
        .find(|d| d["profile"] == "bb-security")
        .expect("LD601 for bb-security");
    assert!(
        keys["message"]
            .as_str()
            .unwrap()
            .contains("does not know the access key id"),
        "{keys}"
    );
    assert!(
        keys["help"]
            .as_str()
            .unwrap()
            .contains("InvalidClientTokenId"),
        "{keys}"
    );
    assert!(!all.contains("LDFIXTURESECRET"));
}

#[test]
fn mfa_code_gives_one_session_for_every_role() {
    let moto = Moto::start();
    let case = Case::new("iam-mfa-healthy");
    std::fs::remove_dir_all(case.aws().join("cache")).unwrap();
    let env = [("AWS_ENDPOINT_URL_STS", moto.url())];
    // No terminal and no code: never a prompt, LD601 "MFA code needed".
    let (code, report, _) = live_check(&case, "", &env, &[]);
    assert_eq!(code, 1);
    let needed = diags(&report, "LD601");
    assert_eq!(needed.len(), 2);
    assert!(needed.iter().all(|d| {
        d["message"]
            .as_str()
            .unwrap()
            .contains("MFA code is needed")
    }));
    // With a code: GetSessionToken with the device, then AssumeRole per profile.
    let (code, report, _) = live_check(&case, "", &env, &["--mfa-code", "123456"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        live_of(&report, "bb-shared-devops")["account"],
        "222222222222"
    );
    assert_eq!(
        live_of(&report, "bb-security-devops")["account"],
        "444444444444"
    );
}

#[test]
fn fifty_profiles_are_all_checked_with_bounded_concurrency() {
    let moto = Moto::start();
    let case = Case::new("iam-live");
    let mut config = String::from("[default]\nregion = us-east-1\n");
    let mut layer = String::new();
    let mut accounts = String::from("accounts = {\n");
    for i in 0..50 {
        let id = format!("1000000000{i:02}");
        config.push_str(&format!(
            "\n[profile bb-acct{i}-devops]\nrole_arn = arn:aws:iam::{id}:role/DevOps\nsource_profile = bb-security\n"
        ));
        layer.push_str(&format!(
            "provider \"aws\" {{\n  alias   = \"a{i}\"\n  profile = \"${{var.project}}-acct{i}-devops\"\n}}\n"
        ));
        accounts.push_str(&format!("  acct{i} = {{ id = \"{id}\" }}\n"));
    }
    accounts.push_str("  shared = { id = \"222222222222\" }\n}\n");
    std::fs::write(case.aws().join("config"), config).unwrap();
    std::fs::write(
        case.project()
            .join("shared/us-east-1/base-network/config.tf"),
        layer,
    )
    .unwrap();
    std::fs::write(
        case.project().join("config/common.tfvars"),
        format!("project = \"bb\"\nsso_enabled = false\n{accounts}"),
    )
    .unwrap();
    let (_, report, _) = live_check(
        &case,
        "shared/us-east-1/base-network",
        &[("AWS_ENDPOINT_URL_STS", moto.url())],
        &["--jobs", "4"],
    );
    let profiles = report["profiles"].as_array().unwrap();
    let ok: Vec<_> = profiles
        .iter()
        .filter(|p| p["live"]["status"] == "ok")
        .collect();
    // 50 role profiles; the backend's bb-shared-devops is not defined here (skipped).
    assert_eq!(ok.len(), 50, "{report:#}");
    assert!(
        diags(&report, "LD602").is_empty(),
        "each lands in its own account"
    );
}

#[test]
fn unreachable_endpoint_is_ld601_network_not_a_hang() {
    let case = Case::new("iam-live");
    let closed = format!("http://127.0.0.1:{}", free_port());
    let (_, report, _) = live_check(
        &case,
        "",
        &[("AWS_ENDPOINT_URL_STS", closed)],
        &["--timeout", "2"],
    );
    let failed = diags(&report, "LD601");
    assert_eq!(failed.len(), 4, "{report:#}");
    assert!(
        failed.iter().all(|d| d["message"]
            .as_str()
            .unwrap()
            .contains("could not be reached")),
        "{failed:#?}"
    );
}

#[test]
fn a_server_that_never_answers_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept connections and hold them open without a byte of answer.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(64).flatten() {
            held.push(stream);
        }
    });
    let case = Case::new("iam-live");
    let started = std::time::Instant::now();
    let (_, report, _) = live_check(
        &case,
        "",
        &[("AWS_ENDPOINT_URL_STS", format!("http://127.0.0.1:{port}"))],
        &["--timeout", "1"],
    );
    let failed = diags(&report, "LD601");
    assert_eq!(failed.len(), 4, "{report:#}");
    assert!(
        failed
            .iter()
            .all(|d| { d["message"].as_str().unwrap().contains("timed out") })
    );
    // Bounded by the timeout (not a timing assertion on speed: a hang would take minutes).
    assert!(started.elapsed() < Duration::from_secs(60));
}

mod sso {
    use super::*;
    use wiremock::matchers::{
        body_string_contains, header, header_regex, method, path, query_param,
    };
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const TOKEN: &str = "LDFIXTURESECRET-sso-access-token-healthy";

    fn key_id(account: &str) -> String {
        format!("ASIAACCT{account}")
    }

    async fn role_credentials(server: &MockServer, account: &str, expect: u64) {
        Mock::given(method("GET"))
            .and(path("/federation/credentials"))
            .and(query_param("account_id", account))
            .and(query_param("role_name", "DevOps"))
            .and(header("x-amz-sso_bearer_token", TOKEN))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "roleCredentials": {
                    "accessKeyId": key_id(account),
                    "secretAccessKey": "LDFIXTURESECRETroleSecret",
                    "sessionToken": "LDFIXTURESECRET-role-session",
                    "expiration": 4102444800000u64
                }
            })))
            .expect(expect)
            .mount(server)
            .await;
    }

    async fn caller_identity(server: &MockServer, account: &str) {
        let xml = format!(
            r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::{account}:assumed-role/AWSReservedSSO_DevOps_0123456789abcdef/jane</Arn>
    <UserId>AROAEXAMPLE:jane</UserId>
    <Account>{account}</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>"#
        );
        Mock::given(method("POST"))
            .and(path("/"))
            .and(body_string_contains("Action=GetCallerIdentity"))
            .and(header_regex(
                "authorization",
                &format!("Credential={}/", key_id(account)),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_raw(xml, "text/xml"))
            .mount(server)
            .await;
    }

    async fn run(case: Case, server: &MockServer) -> (i32, serde_json::Value, String) {
        let uri = server.uri();
        tokio::task::spawn_blocking(move || {
            live_check(
                &case,
                "",
                &[
                    ("AWS_ENDPOINT_URL_SSO", uri.clone()),
                    ("AWS_ENDPOINT_URL_STS", uri),
                ],
                &[],
            )
        })
        .await
        .expect("join")
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn leverage_sso_profiles_get_role_credentials_once_per_account_and_role() {
        let server = MockServer::start().await;
        for account in ["111111111111", "222222222222", "333333333333"] {
            role_credentials(&server, account, 1).await;
            caller_identity(&server, account).await;
        }
        let (code, report, all) = run(Case::new("sso-healthy"), &server).await;
        assert_eq!(code, 0, "{report:#}");
        for (profile, account) in [
            ("bb-management-devops", "111111111111"),
            ("bb-shared-devops", "222222222222"),
            ("bb-apps-devstg-devops", "333333333333"),
        ] {
            let live = live_of(&report, profile);
            assert_eq!(live["status"], "ok", "{profile}: {live}");
            assert_eq!(live["account"], account);
        }
        assert!(
            diags(&report, "LD603").is_empty(),
            "AWSReservedSSO_DevOps_… is role DevOps"
        );
        assert!(!all.contains("LDFIXTURESECRET"));
        server.verify().await;
    }

    /// 1.6–1.11 keep one `[profile <p>-sso-<acct>-<Role>]` per account and role, with the
    /// standard `sso_account_id`/`sso_role_name` keys: the probe finds and uses them.
    #[tokio::test(flavor = "multi_thread")]
    async fn the_1x_sso_layout_is_probed_too() {
        let server = MockServer::start().await;
        for account in ["111111111111", "222222222222", "333333333333"] {
            role_credentials(&server, account, 1).await;
            caller_identity(&server, account).await;
        }
        let case = Case::new("sso-healthy");
        crate::support::v1_sso_layout(&case);
        std::fs::write(
            case.project().join(".leverage-doctor.toml"),
            "leverage-version = \"1.9\"\n",
        )
        .unwrap();
        let (_, report, _) = run(case, &server).await;
        assert_eq!(report["project"]["leverage"]["generation"], "1");
        for (profile, account) in [
            ("bb-shared-devops", "222222222222"),
            ("bb-apps-devstg-devops", "333333333333"),
        ] {
            let live = live_of(&report, profile);
            assert_eq!(live["status"], "ok", "{profile}: {live}");
            assert_eq!(live["account"], account);
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn revoked_sso_session_is_ld601_revoked() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/federation/credentials"))
            .respond_with(
                ResponseTemplate::new(401)
                    .insert_header("x-amzn-errortype", "UnauthorizedException")
                    .set_body_json(
                        serde_json::json!({"message": "Session token not found or invalid"}),
                    ),
            )
            .mount(&server)
            .await;
        let (code, report, _) = run(Case::new("sso-healthy"), &server).await;
        assert_eq!(code, 1);
        let failed = diags(&report, "LD601");
        assert_eq!(failed.len(), 3, "{report:#}");
        for d in failed {
            assert!(
                d["message"]
                    .as_str()
                    .unwrap()
                    .contains("SSO session is revoked or expired"),
                "{d}"
            );
            assert!(
                d["fix"]["text"]
                    .as_str()
                    .unwrap()
                    .contains("leverage-doctor sso-reset --login")
            );
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn expired_token_from_sts_is_ld601_expired() {
        let server = MockServer::start().await;
        for account in ["111111111111", "222222222222", "333333333333"] {
            role_credentials(&server, account, 1).await;
        }
        let error = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error>
  <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>
</ErrorResponse>"#;
        Mock::given(method("POST"))
            .and(path("/"))
            .respond_with(ResponseTemplate::new(400).set_body_raw(error, "text/xml"))
            .mount(&server)
            .await;
        let (code, report, _) = run(Case::new("sso-healthy"), &server).await;
        assert_eq!(code, 1);
        let failed = diags(&report, "LD601");
        assert_eq!(failed.len(), 3, "{report:#}");
        assert!(
            failed
                .iter()
                .all(|d| d["message"].as_str().unwrap().contains("have expired"))
        );
        assert!(
            failed
                .iter()
                .all(|d| d["help"].as_str().unwrap().starts_with("ExpiredToken"))
        );
    }
}
