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
    assert!(
        again
            .stderr
            .contains("ready: every session the scope needs lasts at least 30m"),
        "{}",
        again.stderr
    );
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

fn output(mut cmd: std::process::Command, stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn exec_refreshes_then_runs_the_command_with_the_projects_files() {
    let server = MockServer::start().await;
    portal(&server, 8).await;
    let case = Case::new("v3-sso-healthy");
    let cmd = process(
        &case,
        &server,
        BASE_NETWORK,
        &[
            "exec",
            "--",
            "sh",
            "-c",
            "cat; echo \"$AWS_CONFIG_FILE|$AWS_SHARED_CREDENTIALS_FILE\"; exit 7",
        ],
    );
    let out = tokio::task::spawn_blocking(move || output(cmd, "from stdin\n"))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout,
        format!(
            "from stdin\n{}|{}\n",
            case.aws().join("config").display(),
            case.aws().join("credentials").display()
        )
    );
    // The refresh came first.
    assert!(read(&case, "credentials").contains("[bb-shared-devops]"));
    assert_eq!(calls(&server, "/federation/credentials").await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn exec_passes_signals_and_missing_commands_through() {
    let server = MockServer::start().await;
    portal(&server, 8).await;
    let case = Case::new("v3-sso-healthy");
    for (args, code) in [
        (vec!["sh", "-c", "kill -TERM $$"], 128 + 15),
        (vec!["sh", "-c", "kill -KILL $$"], 128 + 9),
        (vec!["true"], 0),
        (vec!["/nonexistent/command"], 127),
    ] {
        let mut all = vec!["exec", "--"];
        all.extend(args.iter().copied());
        let cmd = process(&case, &server, BASE_NETWORK, &all);
        let out = tokio::task::spawn_blocking(move || output(cmd, ""))
            .await
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exec_refuses_to_start_when_the_sessions_cannot_cover_the_time() {
    let server = MockServer::start().await;
    portal(&server, 8).await;
    let case = Case::new("v3-sso-healthy");
    let mark = case.dir.path().join("ran");
    let script = format!("touch '{}'", mark.display());
    let cmd = process(
        &case,
        &server,
        BASE_NETWORK,
        &["exec", "--min-remaining", "10h", "--", "sh", "-c", &script],
    );
    let out = tokio::task::spawn_blocking(move || output(cmd, ""))
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!mark.exists());
    assert!(stderr.contains("10h asked"), "{stderr}");
    assert!(stderr.contains("not starting the command"), "{stderr}");
    assert!(!stderr.contains("LDFIXTURESECRET"), "{stderr}");
}

/// `env` quotes for each shell: a path with a space and a quote comes through as it is (run
/// through the shells installed here; the others' text is checked).
#[test]
fn env_exports_quote_for_each_shell() {
    let case = Case::new("v3-sso-healthy");
    let odd = case.home().join("it's a dir");
    crate::support::copy_dir(&case.aws(), &odd.join("bb"));
    let aws_dir = odd.join("bb");
    let config = aws_dir.join("config").display().to_string();
    let credentials = aws_dir.join("credentials").display().to_string();
    let env = |shell: &str, profile: bool| {
        let mut cmd = case.cmd(BASE_NETWORK);
        cmd.args(["env", "--shell", shell, "--aws-dir"])
            .arg(&aws_dir);
        if profile {
            cmd.arg("--profile");
        }
        let out = cmd.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    for shell in ["bash", "zsh", "sh"] {
        let text = env(if shell == "sh" { "bash" } else { shell }, true);
        let Ok(out) = std::process::Command::new(shell)
            .arg("-c")
            .arg(format!(
                "{text}\nprintf '%s\\n%s\\n%s\\n' \"$AWS_CONFIG_FILE\" \"$AWS_SHARED_CREDENTIALS_FILE\" \"$AWS_PROFILE\""
            ))
            .output()
        else {
            continue; // not installed here
        };
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{config}\n{credentials}\nbb-shared-devops\n"),
            "{shell}: {text}"
        );
    }
    // zsh reads the POSIX quoting too (run above where zsh is installed).
    assert_eq!(env("zsh", true), env("bash", true));
    let q = |s: &str| s.replace('\'', "\\'");
    assert_eq!(
        env("fish", false),
        format!(
            "set -gx AWS_CONFIG_FILE '{}'\nset -gx AWS_SHARED_CREDENTIALS_FILE '{}'\n",
            q(&config),
            q(&credentials)
        )
    );
    let q = |s: &str| s.replace('\'', "''");
    assert_eq!(
        env("powershell", true),
        format!(
            "$Env:AWS_CONFIG_FILE = '{}'\n$Env:AWS_SHARED_CREDENTIALS_FILE = '{}'\n$Env:AWS_PROFILE = 'bb-shared-devops'\n",
            q(&config),
            q(&credentials)
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn credential_process_prints_the_json_and_nothing_else() {
    let server = MockServer::start().await;
    portal(&server, 8).await;
    let case = Case::new("v3-sso-healthy");
    let run = |args: &[&str]| {
        let mut all = vec!["credential-process"];
        all.extend(args.iter().copied());
        let cmd = process(&case, &server, "", &all);
        async move {
            tokio::task::spawn_blocking(move || output(cmd, ""))
                .await
                .unwrap()
        }
    };
    let out = run(&["--profile", "bb-shared-devops"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["Version"], 1);
    assert_eq!(json["AccessKeyId"], "ASIAREFRESHREFRESH01");
    assert_eq!(json["SecretAccessKey"], "LDFIXTURESECRET-refresh-secret");
    assert_eq!(json["SessionToken"], "LDFIXTURESECRET-refresh-session");
    let expiration = json["Expiration"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(expiration).is_ok(),
        "{expiration}"
    );
    // Only the role asked for was fetched; fresh, it is not fetched again.
    assert_eq!(calls(&server, "/federation/credentials").await, 1);
    let again = run(&["--profile", "bb-shared-devops"]).await;
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(again.stdout, out.stdout);
    assert_eq!(calls(&server, "/federation/credentials").await, 1);
    // Not a profile Leverage writes: exit 1, nothing on stdout.
    let unknown = run(&["--profile", "bb-nowhere-devops"]).await;
    assert_eq!(unknown.status.code(), Some(1));
    assert!(unknown.stdout.is_empty());
    assert!(!String::from_utf8_lossy(&unknown.stderr).contains("LDFIXTURESECRET"));
    // No project there: exit 1 too (never 2: credential_process knows only 0 and not 0).
    let outside = run(&["--profile", "bb-shared-devops", "/"]).await;
    assert_eq!(outside.status.code(), Some(1));
    assert!(outside.stdout.is_empty());
}

/// An SDK reads it: botocore (the AWS CLI's engine) with `credential_process` calls STS (moto)
/// with the keys the doctor printed.
#[tokio::test(flavor = "multi_thread")]
async fn botocore_uses_credential_process() {
    let server = MockServer::start().await;
    portal(&server, 8).await;
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    let case = Case::new("v3-sso-healthy");
    let python = crate::oracle::venv().join("bin/python3");
    if !python.exists() {
        panic!("the Leverage venv (with boto3) is not installed: run ./scripts/test.sh");
    }
    let doctor = assert_cmd::cargo::cargo_bin("leverage-doctor");
    let config = case.dir.path().join("user-config");
    std::fs::write(
        &config,
        format!(
            "[profile via-doctor]\ncredential_process = {} credential-process --profile bb-shared-devops {}\n",
            doctor.display(),
            case.project().display()
        ),
    )
    .unwrap();
    let mut cmd = std::process::Command::new(python);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", case.home())
        .env("CI", "true")
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", case.dir.path().join("none"))
        .env("AWS_ENDPOINT_URL_SSO", server.uri())
        .env("AWS_ENDPOINT_URL_STS", moto.url())
        .args([
            "-c",
            "import boto3; print(boto3.Session(profile_name='via-doctor', region_name='us-east-1').client('sts').get_caller_identity()['Account'])",
        ]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(calls(&server, "/federation/credentials").await, 1);
}

/// SIGTERM sent to `exec` reaches the command, whose exit code comes back.
#[tokio::test(flavor = "multi_thread")]
async fn exec_forwards_sigterm_to_the_command() {
    let server = MockServer::start().await;
    portal(&server, 8).await;
    let case = Case::new("v3-sso-healthy");
    let ready = case.dir.path().join("trap-set");
    let script = format!(
        "trap 'exit 42' TERM; touch '{}'; while :; do sleep 0.05; done",
        ready.display()
    );
    let mut cmd = process(
        &case,
        &server,
        BASE_NETWORK,
        &["exec", "--", "sh", "-c", &script],
    );
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !ready.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let pid = i32::try_from(child.id()).unwrap();
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(42),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `sso-login` shares the single flight: ten at once, renewing with the refresh token, make one
/// CreateToken; the others use the session the first one wrote.
#[tokio::test(flavor = "multi_thread")]
async fn ten_sso_logins_at_once_make_one_create_token() {
    let server = MockServer::start().await;
    oidc_refresh(&server).await;
    let case = Case::new("v3-sso-healthy");
    expiring_with_refresh_token(&case, 10);
    let children: Vec<std::process::Child> = (0..10)
        .map(|_| {
            process(&case, &server, "", &["sso-login", "--no-browser"])
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
    assert!(read(&case, "sso/cache/token").contains("LDFIXTURESECRET-renewed-token"));
}

/// Names per generation, for a permission set `DevOpsPrd`: 3.x writes `var.profile` as
/// `<p>-<account>-devopsprd`; 2.x keeps the backend's name for it.
#[tokio::test(flavor = "multi_thread")]
async fn refresh_names_what_each_generation_names() {
    for (fixture, shared) in [
        ("v3-sso-healthy", "bb-shared-devopsprd"),
        ("sso-healthy", "bb-shared-devops"),
    ] {
        let server = MockServer::start().await;
        portal(&server, 8).await;
        let case = Case::new(fixture);
        let config = case.aws().join("config");
        let text = std::fs::read_to_string(&config).unwrap().replacen(
            "account_id = 222222222222\nrole_name = DevOps",
            "account_id = 222222222222\nrole_name = DevOpsPrd",
            1,
        );
        std::fs::write(&config, text).unwrap();
        let run = run_with_sso_server(&case, server.uri(), &["refresh", BASE_NETWORK]).await;
        assert_eq!(run.code, 0, "{fixture}: {}", run.stderr);
        let creds = read(&case, "credentials");
        let mut sections: Vec<&str> = creds.lines().filter(|l| l.starts_with('[')).collect();
        sections.sort_unstable();
        let shared_section = format!("[{shared}]");
        let mut want = vec!["[bb-management-devops]", shared_section.as_str()];
        want.sort_unstable();
        assert_eq!(sections, want, "{fixture}");
        let requests = server.received_requests().await.unwrap_or_default();
        assert!(
            requests.iter().any(|r| r
                .url
                .query_pairs()
                .any(|(k, v)| k == "role_name" && v == "DevOpsPrd")),
            "{fixture}"
        );
        assert!(read(&case, "config").contains(&format!("[profile {shared}]\nexpiration = ")));
    }
}

/// `--all`: every layer's runs, each role once; an account without its SSO profile is said
/// (exit 1) while the others are still written.
#[tokio::test(flavor = "multi_thread")]
async fn refresh_all_fetches_each_role_once_and_names_a_missing_sso_profile() {
    let server = MockServer::start().await;
    portal(&server, 8).await;
    let case = Case::new("v3-sso-healthy");
    let run = run_with_sso_server(&case, server.uri(), &["refresh", "--all"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let requests = server.received_requests().await.unwrap_or_default();
    let mut accounts: Vec<String> = requests
        .iter()
        .filter_map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "account_id")
                .map(|(_, v)| v.into_owned())
        })
        .collect();
    accounts.sort();
    let mut unique = accounts.clone();
    unique.dedup();
    assert_eq!(accounts, unique, "each role once");
    assert!(accounts.len() >= 2, "{accounts:?}");

    let case = Case::new("v3-sso-healthy");
    let config = case.aws().join("config");
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "[profile bb-sso-management]",
        "[profile bb-sso-elsewhere]",
        1,
    );
    std::fs::write(&config, text).unwrap();
    let run = run_with_sso_server(&case, server.uri(), &["refresh", BASE_NETWORK]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("[profile bb-sso-management]"),
        "{}",
        run.stderr
    );
    assert!(read(&case, "credentials").contains("[bb-shared-devops]"));
}

/// An IAM project has nothing of SSO to renew: no call, exit 0.
#[tokio::test(flavor = "multi_thread")]
async fn refresh_in_an_iam_project_calls_nothing() {
    let server = MockServer::start().await;
    let case = Case::new("v3-iam-healthy");
    let run = run_with_sso_server(&case, server.uri(), &["refresh", "--all"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

/// A token the portal refuses (revoked, signed out elsewhere) is renewed once with the refresh
/// token and the roles asked again.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_is_renewed_and_the_roles_asked_again() {
    use wiremock::matchers::header;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/federation/credentials"))
        .and(header(
            "x-amz-sso_bearer_token",
            "LDFIXTURESECRET-old-token",
        ))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("x-amzn-errortype", "UnauthorizedException")
                .set_body_json(
                    serde_json::json!({"message": "Session token not found or invalid"}),
                ),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    portal(&server, 8).await;
    oidc_refresh(&server).await;
    let case = Case::new("v3-sso-healthy");
    expiring_with_refresh_token(&case, 600);
    let run = run_with_sso_server(&case, server.uri(), &["refresh", BASE_NETWORK]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(calls(&server, "/token").await, 1);
    assert_eq!(calls(&server, "/federation/credentials").await, 4);
    assert!(read(&case, "credentials").contains("[bb-shared-devops]"));
    // Without a refresh token: the sign-in is named.
    let case = Case::new("v3-sso-healthy");
    expiring_with_refresh_token(&case, 600);
    std::fs::remove_dir_all(case.aws().join("leverage-doctor")).unwrap();
    let run = run_with_sso_server(&case, server.uri(), &["refresh", BASE_NETWORK]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("the portal refused the SSO token"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`leverage-doctor sso-login`"),
        "{}",
        run.stderr
    );
}

/// The real AWS CLI (v1, from PyPI: `LEVERAGE_DOCTOR_AWSCLI_VENV`, installed by
/// scripts/test.sh) reads `credential_process = leverage-doctor credential-process --profile X`
/// and calls STS (moto) with the keys the doctor printed: keys moto minted for a role in
/// account 222222222222, served by the portal, so the identity proves they went through.
#[tokio::test(flavor = "multi_thread")]
async fn the_aws_cli_uses_credential_process() {
    let venv = std::env::var_os("LEVERAGE_DOCTOR_AWSCLI_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-awscli"));
    let aws = venv.join("bin/aws");
    assert!(
        aws.exists(),
        "the AWS CLI is not installed at {}: run ./scripts/test.sh, which installs it",
        aws.display()
    );
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    let case = Case::new("v3-sso-healthy");
    let cli = |args: &[&str], env: &[(&str, &std::ffi::OsStr)]| {
        let mut cmd = std::process::Command::new(&aws);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", case.home())
            .env("CI", "true")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .args(args)
            .args(["--endpoint-url", &moto.url(), "--output", "json"])
            .stdin(std::process::Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    };
    // Keys of an assumed role, from moto.
    let none = case.dir.path().join("none");
    let minted = cli(
        &[
            "sts",
            "assume-role",
            "--role-arn",
            "arn:aws:iam::222222222222:role/DevOps",
            "--role-session-name",
            "doctor",
        ],
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAMINTMINTMINT0001".as_ref()),
            ("AWS_SECRET_ACCESS_KEY", "LDFIXTURESECRET-mint".as_ref()),
            ("AWS_CONFIG_FILE", none.as_os_str()),
            ("AWS_SHARED_CREDENTIALS_FILE", none.as_os_str()),
        ],
    )
    .output()
    .unwrap();
    assert!(
        minted.status.success(),
        "{}",
        String::from_utf8_lossy(&minted.stderr)
    );
    let minted: serde_json::Value = serde_json::from_slice(&minted.stdout).unwrap();
    let keys = &minted["Credentials"];
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/federation/credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "roleCredentials": {
                "accessKeyId": keys["AccessKeyId"], "secretAccessKey": keys["SecretAccessKey"],
                "sessionToken": keys["SessionToken"],
                "expiration": (chrono::Utc::now() + chrono::Duration::hours(1)).timestamp_millis()
            }
        })))
        .mount(&server)
        .await;
    let config = case.dir.path().join("user-config");
    std::fs::write(
        &config,
        format!(
            "[profile via-doctor]\nregion = us-east-1\ncredential_process = {} credential-process --profile bb-shared-devops {}\n",
            assert_cmd::cargo::cargo_bin("leverage-doctor").display(),
            case.project().display()
        ),
    )
    .unwrap();
    let uri = std::ffi::OsString::from(server.uri());
    let mut cmd = cli(
        &["sts", "get-caller-identity", "--profile", "via-doctor"],
        &[
            ("AWS_CONFIG_FILE", config.as_os_str()),
            ("AWS_SHARED_CREDENTIALS_FILE", none.as_os_str()),
            ("AWS_ENDPOINT_URL_SSO", uri.as_os_str()),
        ],
    );
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    let identity: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(identity["Account"], "222222222222", "{identity}");
    assert_eq!(
        identity["Arn"], "arn:aws:sts::222222222222:assumed-role/DevOps/doctor",
        "{identity}"
    );
    assert!(!said.contains("LDFIXTURESECRET"), "{said}");
    assert_eq!(calls(&server, "/federation/credentials").await, 1);
}

/// IAM with MFA (3.x): with its MFA sessions gone, `leverage tf plan` (3.1.0, stub TF_BINARY,
/// no stdin) cannot run, since it asks for a code; after `refresh --mfa-code` (moto's STS takes
/// any code) it runs without asking, from the cache and keys refresh wrote as it writes them.
#[tokio::test(flavor = "multi_thread")]
async fn after_refresh_with_an_mfa_code_leverage_3_asks_for_no_code() {
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    let oracle = crate::oracle::Oracle::new("v3-iam-healthy");
    let case = &oracle.case;
    // No MFA session: the cache is gone and credentials keep only the user's own keys.
    std::fs::remove_dir_all(case.aws().join("cache")).unwrap();
    let creds = read(case, "credentials");
    let own = creds.split("\n#").next().unwrap_or_default().to_string();
    std::fs::write(case.aws().join("credentials"), own).unwrap();
    let env = vec![("AWS_ENDPOINT_URL_STS", moto.url())];
    let (ok, said) = oracle.cli(BASE_NETWORK, "UTC", &env);
    assert!(!ok, "the CLI ran without an MFA session:\n{said}");
    // Without a code and a terminal, refresh asks nothing and says what is needed.
    let out = case
        .cmd(BASE_NETWORK)
        .env("CI", "true")
        .env("AWS_ENDPOINT_URL_STS", moto.url())
        .arg("refresh")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--mfa-code"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = case
        .cmd(BASE_NETWORK)
        .env("CI", "true")
        .env("AWS_ENDPOINT_URL_STS", moto.url())
        .args(["refresh", "--mfa-code", "123456"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("LDFIXTURESECRET"), "{stderr}");
    // The CLI's own format: flat JSON, `Expiration` as %Y-%m-%dT%H:%M:%SZ.
    let cache = read(case, "cache/bb-shared-devops");
    let json: serde_json::Value = serde_json::from_str(&cache).unwrap();
    for k in ["AccessKeyId", "SecretAccessKey", "SessionToken"] {
        assert!(json[k].as_str().is_some_and(|v| !v.is_empty()), "{cache}");
    }
    let at = json["Expiration"].as_str().unwrap_or_default();
    assert!(
        chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%SZ").is_ok(),
        "{cache}"
    );
    assert!(read(case, "credentials").contains("[bb-shared-devops]"));
    let (ok, said) = oracle.cli(BASE_NETWORK, "UTC", &env);
    assert!(ok, "{said}");
    assert!(!said.contains("Enter MFA token code"), "{said}");
    // credential-process serves the MFA session's keys, with its expiry.
    let out = case
        .cmd("")
        .env("CI", "true")
        .env("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
        .args(["credential-process", "--profile", "bb-shared-devops"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["AccessKeyId"], json["AccessKeyId"]);
    assert_eq!(printed["SessionToken"], json["SessionToken"]);
    assert_eq!(printed["Expiration"], json["Expiration"]);
    // Fresh now: a second refresh asks for no code and calls nothing.
    let again = case
        .cmd(BASE_NETWORK)
        .env("CI", "true")
        .env("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
        .arg("refresh")
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}
