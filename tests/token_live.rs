//! Live checks of the other providers' tokens (LD704–LD706) against small servers speaking each
//! API's documented wire format: GitHub `GET /api/v3/user` (Enterprise base), GitLab
//! `GET /api/v4/personal_access_tokens/self`, Vault `GET /v1/auth/token/lookup-self`.

use crate::support::{Case, check_json, diags};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

pub const GH_OK: &str = "ghp_LDFIXTURESECRETgithubOk0000000000000";
pub const GH_SOON: &str = "ghp_LDFIXTURESECRETgithubSoon00000000000";
pub const GH_BAD: &str = "ghp_LDFIXTURESECRETgithubBad000000000000";
pub const GL_OK: &str = "glpat-LDFIXTURESECRETgitlabOk";
pub const GL_EXPIRED: &str = "glpat-LDFIXTURESECRETgitlabExpired";
pub const GL_BAD: &str = "glpat-LDFIXTURESECRETgitlabBad";
pub const VAULT_OK: &str = "hvs.LDFIXTURESECRETvaultOk";
pub const VAULT_BAD: &str = "hvs.LDFIXTURESECRETvaultBad";

/// One request as the server saw it: path and headers (lower-case names).
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

type Route = dyn Fn(&Seen) -> (u16, Vec<(String, String)>, String) + Send + Sync;

/// A test server on a free port of 127.0.0.1 (std::net, one thread), recording every request.
pub struct Server {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub fn start(route: Box<Route>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let mut lines = text.split("\r\n");
                let path = lines
                    .next()
                    .and_then(|l| l.split(' ').nth(1))
                    .unwrap_or("")
                    .to_string();
                let headers = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
                    .collect();
                let req = Seen { path, headers };
                let (status, extra, body) = route(&req);
                log.lock().unwrap().push(req);
                let mut reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (n, v) in extra {
                    reply.push_str(&format!("{n}: {v}\r\n"));
                }
                reply.push_str("\r\n");
                reply.push_str(&body);
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        Server { port, seen }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn stamp(days: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() + chrono::Duration::days(days)
}

/// GitHub, GitLab and Vault as documented, answering by token.
pub fn providers() -> Server {
    Server::start(Box::new(|req: &Seen| {
        let json = |s: &str| s.to_string();
        match req.path.as_str() {
            // docs.github.com/rest/users/users#get-the-authenticated-user
            "/api/v3/user" => {
                let token = req
                    .header("authorization")
                    .and_then(|a| a.strip_prefix("Bearer "))
                    .unwrap_or("");
                let expiry = |days| {
                    (
                        "github-authentication-token-expiration".to_string(),
                        stamp(days).format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                    )
                };
                let scopes = ("X-OAuth-Scopes".to_string(), "repo, read:org".to_string());
                match token {
                    GH_OK => (
                        200,
                        vec![scopes, expiry(60)],
                        json(r#"{"login":"octocat","id":1,"type":"User"}"#),
                    ),
                    GH_SOON => (
                        200,
                        vec![scopes, expiry(2)],
                        json(r#"{"login":"octocat","id":1,"type":"User"}"#),
                    ),
                    _ => (
                        401,
                        vec![],
                        json(
                            r#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}"#,
                        ),
                    ),
                }
            }
            // docs.gitlab.com/api/personal_access_tokens/#get-details-on-a-personal-access-token
            "/api/v4/personal_access_tokens/self" => match req.header("private-token") {
                Some(GL_OK) => (
                    200,
                    vec![],
                    format!(
                        r#"{{"id":4,"name":"terraform","revoked":false,"created_at":"2026-01-01T00:00:00.000Z","scopes":["api"],"user_id":24,"last_used_at":null,"active":true,"expires_at":"{}"}}"#,
                        stamp(90).format("%Y-%m-%d")
                    ),
                ),
                Some(GL_EXPIRED) => (
                    401,
                    vec![],
                    json(
                        r#"{"error":"invalid_token","error_description":"Token is expired. You can either do re-authorization or token refresh."}"#,
                    ),
                ),
                _ => (401, vec![], json(r#"{"message":"401 Unauthorized"}"#)),
            },
            // developer.hashicorp.com/vault/api-docs/auth/token#lookup-a-token-self
            "/v1/auth/token/lookup-self" => match req.header("x-vault-token") {
                Some(VAULT_OK) => (
                    200,
                    vec![],
                    format!(
                        r#"{{"request_id":"1","lease_id":"","renewable":false,"lease_duration":0,"data":{{"accessor":"a","display_name":"token-ops","expire_time":"{}","policies":["default","ops"],"renewable":true,"ttl":2764800}},"warnings":null,"auth":null}}"#,
                        stamp(32).to_rfc3339()
                    ),
                ),
                _ => (403, vec![], json(r#"{"errors":["permission denied"]}"#)),
            },
            _ => (404, vec![], json(r#"{"message":"Not Found"}"#)),
        }
    }))
}

/// A layer using github, gitlab and vault with their tokens left to the environment
/// (Leverage 3.x: Terraform sees it), `extra` added to config.tf.
pub fn case_with_providers(extra: &str) -> Case {
    let case = Case::new("v3-sso-healthy");
    let layer = case.project().join("shared/us-east-1/tools-tokens");
    std::fs::create_dir_all(&layer).unwrap();
    std::fs::write(
        layer.join("config.tf"),
        format!(
            "provider \"github\" {{\n  owner = \"bb\"\n}}\n\
             provider \"gitlab\" {{\n}}\n\
             provider \"vault\" {{\n}}\n\
             resource \"github_repository\" \"r\" {{\n  name = \"r\"\n}}\n\
             resource \"gitlab_project\" \"p\" {{\n  name = \"p\"\n}}\n\
             resource \"vault_generic_secret\" \"s\" {{\n  path = \"secret/x\"\n}}\n{extra}"
        ),
    )
    .unwrap();
    case
}

/// `check --format json` of that layer, live, AWS pointed at a closed port, only LD70x.
pub fn run(case: &Case, env: &[(&str, String)], extra_args: &[&str]) -> (i32, serde_json::Value) {
    let mut cmd = case.cmd("shared/us-east-1/tools-tokens");
    cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
        .env("AWS_MAX_ATTEMPTS", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args([
        "check",
        "--timeout",
        "5",
        "--select",
        "LD701,LD702,LD704,LD705,LD706",
    ])
    .args(extra_args);
    check_json(&mut cmd)
}

fn env_for(server: &Server, gh: &str, gl: &str, vault: &str) -> Vec<(&'static str, String)> {
    vec![
        ("GITHUB_TOKEN", gh.to_string()),
        ("GITHUB_BASE_URL", format!("{}/", server.url())),
        ("GITLAB_TOKEN", gl.to_string()),
        ("GITLAB_BASE_URL", format!("{}/api/v4/", server.url())),
        ("VAULT_TOKEN", vault.to_string()),
        ("VAULT_ADDR", server.url()),
    ]
}

fn row<'a>(report: &'a serde_json::Value, provider: &str) -> &'a serde_json::Value {
    report["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .find(|c| c["provider"] == provider && c["credential"] == "token")
        .unwrap_or_else(|| panic!("no {provider} token row: {report:#}"))
}

#[test]
fn valid_tokens_give_ok_rows_with_their_expiry() {
    let server = providers();
    let case = case_with_providers("");
    let (code, report) = run(&case, &env_for(&server, GH_OK, GL_OK, VAULT_OK), &[]);
    let live: Vec<String> = ["LD704", "LD705", "LD706"]
        .iter()
        .flat_map(|r| diags(&report, r))
        .map(|d| d["message"].to_string())
        .collect();
    assert!(live.is_empty(), "{live:?}");
    assert_eq!(code, 0, "{report:#}");
    for provider in ["github", "gitlab", "vault"] {
        let live = &row(&report, provider)["live"];
        assert_eq!(live["status"], "ok", "{provider}: {live:#}");
        assert!(live["expires_at"].is_string(), "{provider}: {live:#}");
        assert!(live["remaining_s"].as_i64().unwrap() > 86400 * 20);
    }
    assert_eq!(row(&report, "github")["live"]["identity"], "octocat");
    assert_eq!(
        row(&report, "vault")["live"]["scopes"],
        serde_json::json!(["default", "ops"])
    );
    assert_eq!(row(&report, "vault")["live"]["renewable"], true);
    // Each API's own header, nothing else carrying the token.
    let seen = server.requests();
    assert_eq!(seen.len(), 3, "{seen:?}");
    let by = |path: &str| seen.iter().find(|s| s.path == path).expect(path).clone();
    assert_eq!(
        by("/api/v3/user").header("authorization"),
        Some(format!("Bearer {GH_OK}").as_str())
    );
    assert!(by("/api/v3/user").header("user-agent").is_some());
    assert_eq!(
        by("/api/v4/personal_access_tokens/self").header("private-token"),
        Some(GL_OK)
    );
    assert_eq!(
        by("/v1/auth/token/lookup-self").header("x-vault-token"),
        Some(VAULT_OK)
    );
}

#[test]
fn refused_tokens_fire_ld704_at_the_provider_block() {
    let server = providers();
    let case = case_with_providers("");
    let (code, report) = run(&case, &env_for(&server, GH_BAD, GL_BAD, VAULT_BAD), &[]);
    assert_eq!(code, 1, "{report:#}");
    let found = diags(&report, "LD704");
    assert_eq!(found.len(), 3, "{report:#}");
    for d in &found {
        assert_eq!(d["severity"], "error");
        assert_eq!(
            d["file"], "shared/us-east-1/tools-tokens/config.tf",
            "{d:#}"
        );
        assert!(!fix_text(d).is_empty(), "{d:#}");
    }
    let vault = found
        .iter()
        .find(|d| d["message"].as_str().unwrap().contains("vault"))
        .expect("vault");
    assert_eq!(vault["line"], 6);
    assert!(
        fix_text(vault).contains("vault login"),
        "{}",
        fix_text(vault)
    );
    for provider in ["github", "gitlab", "vault"] {
        assert_eq!(row(&report, provider)["live"]["failure"], "rejected");
    }
}

fn fix_text(d: &serde_json::Value) -> String {
    d["fix"]["text"]
        .as_str()
        .or_else(|| d["fix"].as_str())
        .unwrap_or("")
        .to_string()
}

#[test]
fn expired_and_expiring_tokens_fire_ld705() {
    let server = providers();
    let case = case_with_providers("");
    let (code, report) = run(&case, &env_for(&server, GH_SOON, GL_EXPIRED, VAULT_OK), &[]);
    assert_eq!(code, 1, "{report:#}");
    let found = diags(&report, "LD705");
    assert_eq!(found.len(), 2, "{report:#}");
    let sev = |p: &str| {
        found
            .iter()
            .find(|d| d["message"].as_str().unwrap().contains(p))
            .map(|d| d["severity"].as_str().unwrap().to_string())
    };
    assert_eq!(sev("github").as_deref(), Some("warning"));
    assert_eq!(sev("gitlab").as_deref(), Some("error"));
    assert_eq!(row(&report, "gitlab")["live"]["failure"], "expired");
    assert!(diags(&report, "LD704").is_empty());
}

#[test]
fn an_unreachable_service_is_a_class_not_a_panic() {
    let server = providers();
    let closed = crate::support::free_port();
    let case = case_with_providers(
        "provider \"tfe\" {\n}\nresource \"tfe_workspace\" \"w\" {\n  name = \"w\"\n}\n",
    );
    let mut env = env_for(&server, GH_OK, GL_OK, VAULT_OK);
    env.retain(|(k, _)| *k != "VAULT_ADDR");
    env.push(("VAULT_ADDR", format!("http://127.0.0.1:{closed}")));
    env.push(("TFE_TOKEN", "abc.atlasv1.LDFIXTURESECRETtfe".into()));
    env.push(("TFE_HOSTNAME", format!("127.0.0.1:{closed}")));
    let (code, report) = run(&case, &env, &[]);
    assert_ne!(code, 101);
    let found = diags(&report, "LD706");
    assert_eq!(found.len(), 2, "{report:#}");
    assert_eq!(row(&report, "vault")["live"]["failure"], "unreachable");
    assert_eq!(row(&report, "tfe")["live"]["failure"], "unreachable");
    assert_eq!(row(&report, "github")["live"]["status"], "ok");
}

#[test]
fn offline_makes_no_call() {
    let server = providers();
    let case = case_with_providers("");
    let mut cmd = case.cmd("shared/us-east-1/tools-tokens");
    for (k, v) in env_for(&server, GH_BAD, GL_BAD, VAULT_BAD) {
        cmd.env(k, v);
    }
    cmd.args(["check", "--offline"]);
    let (_, report) = check_json(&mut cmd);
    assert!(diags(&report, "LD704").is_empty());
    assert!(row(&report, "github")["live"].is_null());
    assert_eq!(server.requests().len(), 0);
}

/// A redirect is not followed: the token never reaches the place it points to.
#[test]
fn a_redirect_does_not_carry_the_token() {
    let elsewhere = Server::start(Box::new(|_: &Seen| (200, vec![], "{}".to_string())));
    let target = format!("{}/api/v3/user", elsewhere.url());
    let redirecting = Server::start(Box::new(move |_: &Seen| {
        (
            302,
            vec![("Location".to_string(), target.clone())],
            String::new(),
        )
    }));
    let case = case_with_providers("");
    let env = vec![
        ("GITHUB_TOKEN", GH_OK.to_string()),
        ("GITHUB_BASE_URL", format!("{}/", redirecting.url())),
    ];
    let (_, report) = run(&case, &env, &[]);
    assert_eq!(redirecting.requests().len(), 1);
    assert_eq!(elsewhere.requests().len(), 0);
    assert_eq!(
        row(&report, "github")["live"]["failure"],
        "unexpected-reply"
    );
    assert_eq!(diags(&report, "LD706").len(), 1, "{report:#}");
}

/// A checkout naming the API address (`base_url`) does not get a token from the user's
/// environment sent there, unless the environment names that same address; a token written
/// in the block itself may go where the block says.
#[test]
fn a_checkout_named_address_gets_no_outside_token() {
    let server = providers();
    let case = Case::new("v3-sso-healthy");
    let layer = case.project().join("shared/us-east-1/tools-tokens");
    std::fs::create_dir_all(&layer).unwrap();
    let base = format!("{}/", server.url());
    std::fs::write(
        layer.join("config.tf"),
        format!(
            "provider \"github\" {{\n  base_url = \"{base}\"\n}}\nresource \"github_repository\" \"r\" {{\n  name = \"r\"\n}}\n"
        ),
    )
    .unwrap();
    let (_, report) = run(&case, &[("GITHUB_TOKEN", GH_OK.to_string())], &[]);
    assert_eq!(server.requests().len(), 0);
    let live = &row(&report, "github")["live"];
    assert_eq!(live["status"], "skipped", "{live:#}");
    assert!(
        live["detail"].as_str().unwrap().contains("GITHUB_BASE_URL"),
        "{live:#}"
    );
    // The user's environment names the same address: checked.
    let (_, report) = run(
        &case,
        &[
            ("GITHUB_TOKEN", GH_OK.to_string()),
            ("GITHUB_BASE_URL", base.clone()),
        ],
        &[],
    );
    assert_eq!(server.requests().len(), 1);
    assert_eq!(row(&report, "github")["live"]["status"], "ok");
    // A token written in the block goes where the block says.
    std::fs::write(
        layer.join("config.tf"),
        format!(
            "provider \"github\" {{\n  base_url = \"{base}\"\n  token    = \"{GH_BAD}\"\n}}\nresource \"github_repository\" \"r\" {{\n  name = \"r\"\n}}\n"
        ),
    )
    .unwrap();
    let (_, report) = run(&case, &[], &[]);
    assert_eq!(server.requests().len(), 2);
    let found = diags(&report, "LD704");
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["line"], 3);
}

/// `status --live` lists each provider token with its expiry as the service says, and
/// `--min-remaining` gates on it: GitHub's expires in 2 days, so 3 days asked fails and 1 day
/// passes; without `--live` nothing is asked and no token is listed.
#[test]
fn status_live_lists_provider_tokens_and_gates_on_them() {
    let server = providers();
    let case = case_with_providers("");
    let status = |args: &[&str]| {
        let mut cmd = case.cmd("shared/us-east-1/tools-tokens");
        for (k, v) in env_for(&server, GH_SOON, GL_OK, VAULT_OK) {
            cmd.env(k, v);
        }
        let out = cmd
            .args(["status", "--format", "json"])
            .args(args)
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code().unwrap_or(-1), json)
    };
    let (_, plain) = status(&[]);
    assert!(server.requests().is_empty());
    let tokens = |r: &serde_json::Value| -> Vec<serde_json::Value> {
        r["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == "provider-token")
            .cloned()
            .collect()
    };
    assert!(tokens(&plain).is_empty(), "{plain:#}");
    let (_, live) = status(&["--live"]);
    let rows = tokens(&live);
    assert_eq!(rows.len(), 3, "{live:#}");
    let github = rows.iter().find(|r| r["profile"] == "github").unwrap();
    let left = github["remaining_s"].as_i64().unwrap();
    assert!(left > 86400 && left <= 2 * 86400, "{github:#}");
    assert_eq!(github["needed"], true);
    let vault = rows.iter().find(|r| r["profile"] == "vault").unwrap();
    assert_eq!(vault["refreshable"], true, "{vault:#}");
    let (code, _) = status(&["--live", "--min-remaining", "3d"]);
    assert_eq!(code, 1);
    let (code, r) = status(&["--live", "--min-remaining", "1d"]);
    assert_eq!(code, 0, "{r:#}");
    // No token text in the report.
    let text = r.to_string();
    for token in [GH_SOON, GL_OK, VAULT_OK] {
        assert!(!text.contains(token));
    }
}
