//! A hostile world: a second process writing the same file, FIFOs, devices, dangling links and
//! read-only files, portals that answer odd names or loop, sign-in servers that stall, and
//! secrets in error texts. Each case was a reproduced failure first (issue 15).

use crate::support::{Case, Run, check_json, diags, live_of, run_with_sso_server};
use crate::writes::case_with_change;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::Duration;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The doctor in the project root, CI-like, stderr piped, nothing else inherited.
fn spawn(case: &Case, args: &[&str], env: &[(&str, &str)]) -> Child {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("leverage-doctor"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", case.home())
        .env("CI", "true")
        .current_dir(case.project())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Waits until the child says it waits for the folder lock; returns its stderr lines so far
/// and the receiver of the rest.
fn until_waiting(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the writer says it waits for the lock");
        if line.contains("waiting for another leverage-doctor") {
            return rx;
        }
    }
}

fn finish(mut child: Child, rx: std::sync::mpsc::Receiver<String>) -> (i32, String) {
    let code = child.wait().unwrap().code().unwrap_or(-1);
    // Until the reader thread has passed on the last line and hung up.
    let rest: Vec<String> =
        std::iter::from_fn(|| rx.recv_timeout(Duration::from_secs(30)).ok()).collect();
    (code, rest.join("\n"))
}

fn run(case: &Case, args: &[&str]) -> Run {
    let out = case
        .cmd("")
        .env("CI", "true")
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

// ---- 1. sso-reset and duplicate sections -------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn reset_keeps_long_term_keys_beside_a_same_named_session_section() {
    let case = Case::new("sso-healthy");
    let static_keys = "[bb-shared-devops]\naws_access_key_id = AKIALDFIXTURESECRET7\naws_secret_access_key = LDFIXTURESECRETstaticSecret00000000000000\n";
    let session = "\n[bb-shared-devops]\naws_access_key_id = ASIALDFIXTURESECRET8\naws_secret_access_key = LDFIXTURESECRETsessionSecret\naws_session_token = LDFIXTURESECRET-session-token\n";
    std::fs::write(
        case.aws().join("credentials"),
        format!("{static_keys}{session}"),
    )
    .unwrap();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/logout"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let out = run_with_sso_server(&case, server.uri(), &["sso-reset", "--yes"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let after = std::fs::read_to_string(case.aws().join("credentials")).unwrap();
    assert_eq!(
        after.trim_end(),
        static_keys.trim_end(),
        "the long-term keys stay byte for byte, the session section goes"
    );
    assert!(
        out.stdout
            .contains("keep  [bb-shared-devops] (long-term keys)")
    );
}

// ---- 2. no lost updates --------------------------------------------------------------------

#[test]
fn an_edit_made_while_regen_waits_is_kept() {
    let case = case_with_change();
    let config = case.aws().join("config");
    let lock = leverage_doctor::write::FolderLock::acquire(&case.aws()).unwrap();
    let mut child = spawn(&case, &["regen-config", "--iam", "--yes"], &[]);
    let rx = until_waiting(&mut child);
    // Another process adds its own profile after regen computed its edit.
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[profile mine]\nregion = eu-west-1\n");
    std::fs::write(&config, &text).unwrap();
    drop(lock);
    let (code, said) = finish(child, rx);
    assert_eq!(code, 0, "{said}");
    let after = std::fs::read_to_string(&config).unwrap();
    assert!(
        after.contains("[profile mine]\nregion = eu-west-1\n"),
        "the other edit survives:\n{after}"
    );
    assert!(after.contains("[profile bb-apps-prd-devops]"), "{after}");
}

#[test]
fn a_conflicting_edit_stops_the_write_with_a_clear_message() {
    let case = case_with_change();
    let config = case.aws().join("config");
    let lock = leverage_doctor::write::FolderLock::acquire(&case.aws()).unwrap();
    let mut child = spawn(&case, &["regen-config", "--iam", "--yes"], &[]);
    let rx = until_waiting(&mut child);
    // The other process changes a value regen manages: the approved diff no longer holds.
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "region = us-east-1",
        "region = eu-central-1",
        2,
    );
    std::fs::write(&config, &text).unwrap();
    drop(lock);
    let (code, said) = finish(child, rx);
    assert_eq!(code, 2, "{said}");
    assert!(
        said.contains("changed while this command ran") && said.contains("nothing was written"),
        "{said}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_resets_at_once_do_not_undo_or_fail_each_other() {
    let case = Case::new("sso-healthy");
    std::fs::write(
        case.aws().join("credentials"),
        "[bb-shared-devops]\naws_access_key_id = ASIALDFIXTURESECRET2\naws_secret_access_key = LDFIXTURESECRETroleSecret\naws_session_token = LDFIXTURESECRET-session\n\n[bb-security]\naws_access_key_id = AKIALDFIXTURESECRET1\naws_secret_access_key = LDFIXTURESECRETsecretSecretSecret0000000\n",
    )
    .unwrap();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/logout"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let env = [
        ("AWS_ENDPOINT_URL_SSO", uri.as_str()),
        ("AWS_ENDPOINT_URL_SSO_OIDC", uri.as_str()),
    ];
    let aws = case.aws();
    let lock = tokio::task::spawn_blocking(move || {
        leverage_doctor::write::FolderLock::acquire(&aws).unwrap()
    })
    .await
    .unwrap();
    let mut a = spawn(&case, &["sso-reset", "--yes"], &env);
    let mut b = spawn(&case, &["sso-reset", "--yes"], &env);
    let (ra, rb) = tokio::task::spawn_blocking(move || {
        let ra = until_waiting(&mut a);
        let rb = until_waiting(&mut b);
        drop(lock);
        (finish(a, ra), finish(b, rb))
    })
    .await
    .unwrap();
    assert_eq!(ra.0, 0, "{}", ra.1);
    assert_eq!(rb.0, 0, "{}", rb.1);
    assert!(
        format!("{}{}", ra.1, rb.1).contains("already cleared by another run"),
        "{}\n{}",
        ra.1,
        rb.1
    );
    assert!(!case.aws().join("sso/cache/token").exists());
    let creds = std::fs::read_to_string(case.aws().join("credentials")).unwrap();
    assert!(creds.contains("[bb-security]") && !creds.contains("[bb-shared-devops]"));
    // One Logout in all: the second run found the token gone.
    server.verify().await;
}

// ---- 3. only regular files are replaced ----------------------------------------------------

fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_fifo_config_is_refused_and_never_blocks_a_read() {
    let case = case_with_change();
    let config = case.aws().join("config");
    std::fs::remove_file(&config).unwrap();
    mkfifo(&config);
    // `check` reads every AWS file: it must not open the FIFO and wait for a writer.
    let (_, report) = check_json(
        case.cmd("")
            .args(["check", "--offline"])
            .timeout(Duration::from_secs(30)),
    );
    assert!(
        report.to_string().contains("FIFO"),
        "the FIFO is reported: {report}"
    );
    let out = run(&case, &["regen-config", "--iam", "--yes"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("FIFO"), "{}", out.stderr);
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::symlink_metadata(&config)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

/// Links to a FIFO, a folder, or nothing. (Never a link to a real device such as /dev/null: a
/// regression would replace the machine's device with a file. `check_replaceable` refuses
/// devices by the same file-type test, and a unit test asks it about /dev/null without writing.)
#[test]
fn a_symlink_to_a_fifo_a_folder_or_nothing_is_never_replaced() {
    for (kind, expect) in [
        ("fifo", "a FIFO"),
        ("folder", "a folder"),
        ("nothing", "does not exist"),
    ] {
        let case = case_with_change();
        let config = case.aws().join("config");
        let target = case.dir.path().join(format!("target-{kind}"));
        match kind {
            "fifo" => mkfifo(&target),
            "folder" => std::fs::create_dir(&target).unwrap(),
            _ => {}
        }
        std::fs::remove_file(&config).unwrap();
        std::os::unix::fs::symlink(&target, &config).unwrap();
        let out = run(
            &case,
            &[
                "regen-config",
                "--iam",
                "--yes",
                "--mfa-serial",
                "arn:aws:iam::444444444444:mfa/jane.doe",
            ],
        );
        assert_eq!(out.code, 2, "{kind}: {}", out.stderr);
        assert!(out.stderr.contains(expect), "{kind}: {}", out.stderr);
        assert_eq!(
            std::fs::read_link(&config).unwrap(),
            target,
            "the link is still the link"
        );
        if kind == "folder" {
            assert_eq!(
                std::fs::read_dir(&target).unwrap().count(),
                0,
                "nothing written into it"
            );
        }
    }
}

#[test]
fn a_read_only_config_is_not_replaced_silently() {
    let case = case_with_change();
    let config = case.aws().join("config");
    let before = std::fs::read_to_string(&config).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o400)).unwrap();
    let out = run(&case, &["regen-config", "--iam", "--yes"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("read-only"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
}

// ---- 4–6. values from outside: the portal, common.tfvars, the command line ----------------

/// A portal whose answers try to inject INI lines, clash on names, and carry escapes.
async fn hostile_portal(
    accounts: serde_json::Value,
    roles: &[(&str, serde_json::Value)],
) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/assignment/accounts"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"accountList": accounts, "nextToken": null})),
        )
        .mount(&server)
        .await;
    for (account, list) in roles {
        Mock::given(method("GET"))
            .and(path("/assignment/roles"))
            .and(query_param("account_id", *account))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"roleList": list, "nextToken": null})),
            )
            .mount(&server)
            .await;
    }
    server
}

fn role(account: &str, name: &str) -> serde_json::Value {
    serde_json::json!({"roleName": name, "accountId": account})
}

#[tokio::test(flavor = "multi_thread")]
async fn portal_values_never_inject_lines_or_unmanaged_keys() {
    let server = hostile_portal(
        serde_json::json!([
            {"accountId": "222222222222", "accountName": "binbash-shared"},
            {"accountId": "888888888888", "accountName": "evil]\ncredential_process = sh -c 'touch /tmp/pwned'\n[x"},
            {"accountId": "999999999999\ncredential_process = sh", "accountName": "other"},
            {"accountId": "777777777777", "accountName": "ops\u{1b}[31m"}
        ]),
        &[
            ("222222222222", serde_json::json!([role("222222222222", "DevOps\ncredential_process = sh"), role("222222222222", "DevOps")])),
            ("888888888888", serde_json::json!([role("888888888888", "DevOps")])),
            ("777777777777", serde_json::json!([role("777777777777", "ReadOnly")])),
        ],
    )
    .await;
    let case = Case::new("sso-healthy");
    let out = run_with_sso_server(
        &case,
        server.uri(),
        &["regen-config", "--sso", "--yes", "--all-accounts"],
    )
    .await;
    let written = std::fs::read_to_string(case.aws().join("config")).unwrap();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(!written.contains("credential_process"), "{written}");
    assert!(!written.contains('\u{1b}'), "{written}");
    for line in written.lines() {
        let t = line.trim();
        assert!(
            t.is_empty() || t.starts_with('#') || t.starts_with('[') || t.contains(" = "),
            "every written line is a header or a key: {line:?}"
        );
    }
    // The odd name became a valid profile name; the bad id and role were skipped and said.
    assert!(
        written.contains("[profile bb-sso-evil-credential-process-sh-c-touch-tmp-pwned-x]"),
        "{written}"
    );
    assert!(written.contains("[profile bb-sso-ops-31m]"), "{written}");
    assert!(
        out.stderr.contains("is not a 12-digit account id: skipped"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("the portal's role `DevOps\\ncredential_process = sh`"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains('\u{1b}') && !out.stdout.contains('\u{1b}'),
        "escapes are shown, not sent"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_portal_accounts_with_one_name_the_declared_id_wins() {
    let server = hostile_portal(
        serde_json::json!([
            {"accountId": "999999999999", "accountName": "binbash-shared"},
            {"accountId": "222222222222", "accountName": "binbash-shared"}
        ]),
        &[
            (
                "999999999999",
                serde_json::json!([role("999999999999", "DevOps")]),
            ),
            (
                "222222222222",
                serde_json::json!([role("222222222222", "DevOps")]),
            ),
        ],
    )
    .await;
    let case = Case::new("sso-healthy");
    let out = run_with_sso_server(&case, server.uri(), &["regen-config", "--sso", "--yes"]).await;
    let written = std::fs::read_to_string(case.aws().join("config")).unwrap();
    let shared = written
        .split("[profile bb-sso-shared]")
        .nth(1)
        .expect("shared written");
    assert!(
        shared
            .split("\n[")
            .next()
            .unwrap()
            .contains("account_id = 222222222222"),
        "{written}"
    );
    assert!(!written.contains("999999999999"), "{written}");
    assert!(
        out.stderr.contains("999999999999") && out.stderr.contains("matched by id"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_looping_page_token_ends_the_listing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/assignment/accounts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "accountList": [{"accountId": "222222222222", "accountName": "binbash-shared"}],
            "nextToken": "again"
        })))
        .mount(&server)
        .await;
    let case = Case::new("sso-healthy");
    let before = std::fs::read_to_string(case.aws().join("config")).unwrap();
    let out = run_with_sso_server(&case, server.uri(), &["regen-config", "--sso", "--yes"]).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("page token it had sent before"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(case.aws().join("config")).unwrap(),
        before
    );
}

#[test]
fn a_project_name_that_is_a_path_is_an_error_and_nothing_is_written_for_it() {
    let case = case_with_change();
    let common = case.project().join("config/common.tfvars");
    let text: String = std::fs::read_to_string(&common)
        .unwrap()
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("project ") || l.trim_start().starts_with("project=") {
                "project = \"../evil\"\n".to_string()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&common, text).unwrap();
    let build = case.project().join("build.env");
    let env = std::fs::read_to_string(&build)
        .unwrap()
        .replace("PROJECT=bb", "PROJECT=../evil");
    std::fs::write(&build, env).unwrap();
    let (code, report) = check_json(case.cmd("").args(["check", "--offline"]));
    assert_eq!(code, 1);
    assert!(!diags(&report, "LD009").is_empty(), "{report}");
    let out = run(&case, &["regen-config", "--iam", "--yes"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("LD009"), "{}", out.stderr);
    assert!(!case.home().join("evil").exists() && !case.home().join(".aws/evil").exists());
}

#[test]
fn an_mfa_serial_with_a_line_break_is_never_written() {
    let case = case_with_change();
    // A config without mfa_serial, so that the command line's is used.
    let config = case.aws().join("config");
    let text: String = std::fs::read_to_string(&config)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("mfa_serial"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&config, &text).unwrap();
    let out = run(
        &case,
        &[
            "regen-config",
            "--iam",
            "--yes",
            "--mfa-serial",
            "arn:aws:iam::444444444444:mfa/jane\n[profile evil]\ncredential_process = sh",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("the MFA serial"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
}

// ---- 7. secrets ----------------------------------------------------------------------------

#[test]
fn a_malformed_endpoint_url_is_refused_up_front_without_a_request_dump() {
    let case = Case::new("iam-live");
    let out = case
        .cmd("")
        .args(["check"])
        .env("AWS_ENDPOINT_URL_STS", "not a url")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("AWS_ENDPOINT_URL_STS"), "{stderr}");
    for text in [&stderr, &stdout] {
        assert!(
            !text.contains("Request {") && !text.contains("LDFIXTURESECRET"),
            "{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_in_a_servers_error_text_are_scrubbed() {
    // An STS that echoes the caller's session token and secret key in its error message.
    let case = Case::new("iam-live");
    let creds = case.aws().join("credentials");
    std::fs::write(
        &creds,
        "[bb-security]\naws_access_key_id = ASIALDFIXTURESECRET0\naws_secret_access_key = LDFIXTURESECRETliveSecret000000000000000\naws_session_token = LDFIXTURESECRET-echoed-session-token\n",
    )
    .unwrap();
    let server = MockServer::start().await;
    let body = "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>token LDFIXTURESECRET-echoed-session-token with secret LDFIXTURESECRETliveSecret000000000000000 and key ASIALDFIXTURESECRET0 \u{1b}[2J is invalid</Message></Error><RequestId>1</RequestId></ErrorResponse>";
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(403).set_body_raw(body, "text/xml"))
        .mount(&server)
        .await;
    let uri = server.uri();
    let mut cmd = case.cmd("shared/us-east-1/base-network");
    cmd.args(["check", "--format", "json"])
        .env("AWS_ENDPOINT_URL_STS", &uri)
        .timeout(Duration::from_secs(60));
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("LDFIXTURESECRET"), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(live_of(&report, "bb-security")["status"], "failed");
    let human = tokio::task::spawn_blocking({
        let mut cmd = case.cmd("shared/us-east-1/base-network");
        cmd.args(["check", "-v"])
            .env("AWS_ENDPOINT_URL_STS", &uri)
            .timeout(Duration::from_secs(60));
        move || cmd.output().unwrap()
    })
    .await
    .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&human.stdout),
        String::from_utf8_lossy(&human.stderr)
    );
    assert!(!all.contains("LDFIXTURESECRET"), "{all}");
}

#[test]
fn secret_lines_in_project_and_aws_files_are_never_shown() {
    let case = Case::new("sso-healthy");
    let layer = case
        .project()
        .join("shared/us-east-1/base-network/config.tf");
    let mut tf = std::fs::read_to_string(&layer).unwrap();
    tf.push_str("provider \"aws\" {\n  secret_key = \"LDFIXTURESECRET-tf-secret\n}\n");
    std::fs::write(&layer, tf).unwrap();
    let mut common = std::fs::read_to_string(case.project().join("config/common.tfvars")).unwrap();
    common.push_str("token = \"LDFIXTURESECRET-tfvars-token\n");
    std::fs::write(case.project().join("config/common.tfvars"), common).unwrap();
    std::fs::write(
        case.aws().join("credentials"),
        "[bb-shared-devops]\naws_secret_access_key LDFIXTURESECRET-no-separator\naws_access_key_id = AKIALDFIXTURESECRET9\naws_access_key_id = AKIALDFIXTURESECRET8\n",
    )
    .unwrap();
    for format in ["human", "json", "sarif", "github", "junit"] {
        let out = case
            .cmd("")
            .args(["check", "--all", "--offline", "-v", "--format", format])
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("LDFIXTURESECRET"), "{format}: {all}");
        assert!(
            !all.contains("AKIALDFIX"),
            "{format}: key ids keep 4 characters"
        );
    }
}

// ---- 9. sign-in servers that stall or lie --------------------------------------------------

async fn oidc_with(device: serde_json::Value, token: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/client/register"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "clientId": "client-1", "clientSecret": "LDFIXTURESECRET-client-secret",
            "clientIdIssuedAt": 1_700_000_000, "clientSecretExpiresAt": 4_102_444_800u64
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/device_authorization"))
        .respond_with(ResponseTemplate::new(200).set_body_json(device))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(token)
        .mount(&server)
        .await;
    server
}

fn device(expires_in: i64, interval: i64) -> serde_json::Value {
    serde_json::json!({
        "deviceCode": "LDFIXTURESECRET-device", "userCode": "AB\u{1b}]0;pwned\u{7}CD",
        "verificationUri": "https://device.example/", "expiresIn": expires_in, "interval": interval
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_polling_interval_does_not_outlast_the_login_timeout() {
    let pending = ResponseTemplate::new(400)
        .insert_header("x-amzn-errortype", "AuthorizationPendingException")
        .set_body_json(serde_json::json!({"error": "authorization_pending"}));
    let server = oidc_with(device(600, 1_000_000), pending).await;
    let case = Case::new("sso-logged-out");
    let out =
        run_with_sso_server(&case, server.uri(), &["sso-login", "--login-timeout", "10"]).await;
    // The harness kills the run after 60 s: an uncapped interval would sleep for 11 days.
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("expired before it was approved"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains('\u{1b}') && !out.stderr.contains('\u{7}'),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("LDFIXTURESECRET"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_that_has_already_expired_is_not_written() {
    let token = ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "accessToken": "LDFIXTURESECRET-dead-token", "tokenType": "Bearer", "expiresIn": 0
    }));
    let server = oidc_with(device(600, 1), token).await;
    let case = Case::new("sso-logged-out");
    let out =
        run_with_sso_server(&case, server.uri(), &["sso-login", "--poll-unit-ms", "10"]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("expires in 0 s"), "{}", out.stderr);
    assert!(!case.aws().join("sso/cache/token").exists());
}

// ---- 12–14. wrong results and small ones ---------------------------------------------------

#[test]
fn a_token_time_the_leverage_cli_cannot_parse_is_an_error() {
    let case = Case::new("sso-healthy");
    for raw in [
        "2099-01-01T00:00:00.000Z",
        "2099-01-01 00:00:00Z",
        "2099-01-01T00:00:00+00:00",
    ] {
        std::fs::write(
            case.aws().join("sso/cache/token"),
            format!(r#"{{"accessToken":"LDFIXTURESECRET-x","expiresAt":"{raw}","region":"us-east-1","startUrl":"https://bb-fixture.awsapps.com/start"}}"#),
        )
        .unwrap();
        let (code, report) = check_json(case.cmd("").args(["check", "--offline"]));
        assert_eq!(code, 1, "{raw}");
        assert!(!diags(&report, "LD503").is_empty(), "{raw}: {report}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_sts_reply_is_a_failure_not_ok() {
    let case = Case::new("iam-live");
    let server = MockServer::start().await;
    // A reply that parses but says nothing: no Account, no Arn.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult></GetCallerIdentityResult></GetCallerIdentityResponse>",
            "text/xml",
        ))
        .mount(&server)
        .await;
    let mut cmd = case.cmd("shared/us-east-1/base-network");
    cmd.args(["check"])
        .env("AWS_ENDPOINT_URL_STS", server.uri())
        .timeout(Duration::from_secs(60));
    let (code, report) = tokio::task::spawn_blocking(move || check_json(&mut cmd))
        .await
        .unwrap();
    assert_eq!(code, 1);
    assert_eq!(
        live_of(&report, "bb-security")["status"],
        "failed",
        "{report}"
    );
}

#[test]
fn reports_and_new_folders_are_private_whatever_the_umask() {
    let case = Case::new("sso-healthy");
    let report = case.dir.path().join("report.json");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" check --offline --format json --output \"$1\"")
        .arg(assert_cmd::cargo::cargo_bin("leverage-doctor"))
        .arg(&report)
        .current_dir(case.project())
        .env_clear()
        .env("HOME", case.home())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .status()
        .unwrap();
    assert!(status.code().is_some_and(|c| c <= 1));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&report).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

/// Folders the doctor creates (a fresh AWS folder and its sso/cache) are 0700, files 0600,
/// whatever the umask.
#[tokio::test(flavor = "multi_thread")]
async fn new_folders_are_private_whatever_the_umask() {
    let token = ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "accessToken": "LDFIXTURESECRET-new-token", "tokenType": "Bearer", "expiresIn": 28800
    }));
    let server = oidc_with(device(600, 1), token).await;
    let case = Case::new("sso-logged-out");
    std::fs::remove_dir_all(case.home().join(".aws")).unwrap();
    let uri = server.uri();
    let project = case.project();
    let home = case.home();
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg("umask 000; exec \"$0\" sso-login --poll-unit-ms 10")
            .arg(assert_cmd::cargo::cargo_bin("leverage-doctor"))
            .current_dir(project)
            .env_clear()
            .env("CI", "true")
            .env("HOME", home)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &uri)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .status()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(status.success(), "{status}");
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for dir in [".aws", ".aws/bb", ".aws/bb/sso", ".aws/bb/sso/cache"] {
        assert_eq!(mode(&case.home().join(dir)), 0o700, "{dir}");
    }
    assert_eq!(mode(&case.aws().join("sso/cache/token")), 0o600);
}

/// `TERM=dumb` means no colours, even on a terminal (run under `script` for a real pty).
#[test]
fn term_dumb_turns_colours_off_on_a_terminal() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("`script` (util-linux) is needed for this test");
    }
    let case = Case::new("broken-iam");
    let run_on_tty = |term: &str| {
        let out = std::process::Command::new("script")
            .args(["-qec"])
            .arg(format!(
                "{} check --offline",
                assert_cmd::cargo::cargo_bin("leverage-doctor").display()
            ))
            .arg("/dev/null")
            .current_dir(case.project())
            .env_clear()
            .env("HOME", case.home())
            .env("TERM", term)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        run_on_tty("xterm").contains("\u{1b}["),
        "colours on a terminal"
    );
    assert!(
        !run_on_tty("dumb").contains("\u{1b}["),
        "none with TERM=dumb"
    );
}

#[test]
fn a_backup_that_cannot_be_written_whole_stops_the_edit() {
    let case = case_with_change();
    let config = case.aws().join("config");
    // Larger than the 512-byte file-size limit set below, so the backup's write fails.
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&"# padding line to make the file larger than the limit\n".repeat(20));
    std::fs::write(&config, &text).unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 1; exec \"$0\" regen-config --iam --yes")
        .arg(assert_cmd::cargo::cargo_bin("leverage-doctor"))
        .current_dir(case.project())
        .env_clear()
        .env("CI", "true")
        .env("HOME", case.home())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("backup could not be written completely"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        text,
        "the file is untouched"
    );
    let leftovers: Vec<_> = std::fs::read_dir(case.aws())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".bak-") || n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Credentials left world-readable or owned by another user (root, by the Docker toolbox).
#[test]
fn exposed_or_foreign_owned_secret_files_are_reported() {
    let case = Case::new("iam-mfa-healthy");
    let creds = case.aws().join("credentials");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, report) = check_json(case.cmd("").args(["check", "--offline"]));
    let d = diags(&report, "LD208");
    assert_eq!(d.len(), 1, "{report:#}");
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .contains("readable by every user (mode 0644)")
    );
    assert_eq!(d[0]["fix"]["text"], "chmod 600 ~/.aws/bb/credentials");
    // Another owner (tests run as root in CI, which may give a file away).
    let status = std::process::Command::new("chown")
        .args(["65534", &creds.display().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "chown needs root");
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (_, report) = check_json(case.cmd("").args(["check", "--offline"]));
    let d = diags(&report, "LD208");
    assert_eq!(d.len(), 1, "{report:#}");
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .contains("owned by uid 65534"),
        "{report:#}"
    );
}

// ---- issue 19: a checkout is untrusted input ------------------------------------------------

/// An executable script at `path` that leaves `mark` when it runs, then says `answer`.
fn marking_script(path: &std::path::Path, mark: &std::path::Path, answer: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        path,
        format!("#!/bin/sh\ntouch '{}'\n{answer}\n", mark.display()),
    )
    .unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Live mode with every AWS endpoint refused at once (no test talks to the internet).
fn live_without_network(cmd: &mut assert_cmd::Command) -> &mut assert_cmd::Command {
    cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("CI", "true")
        .args(["--timeout", "2"])
}

/// A v3 project whose AWS config uses `sso_session` (so the Terraform version matters) and
/// whose TF_BINARY is the checkout's own `bin/tofu`, which marks when it runs.
fn v3_case_with_marking_tf_binary() -> (Case, std::path::PathBuf) {
    let case = Case::new("v3-sso-healthy");
    let mark = case.dir.path().join("tf-binary-ran");
    marking_script(
        &case.project().join("bin/tofu"),
        &mark,
        "echo 'Terraform v1.5.7'",
    );
    let config = case.aws().join("config");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[sso-session bb]\nsso_start_url = https://bb-fixture.awsapps.com/start\nsso_region = us-east-1\n\n[profile bb-extra]\nsso_session = bb\nsso_account_id = 222222222222\nsso_role_name = DevOps\n");
    std::fs::write(&config, text).unwrap();
    (case, mark)
}

#[test]
fn an_offline_check_never_runs_the_checkouts_tf_binary() {
    let (case, mark) = v3_case_with_marking_tf_binary();
    for args in [
        vec!["check", "--offline"],
        vec!["check", "--offline", "--all"],
        vec!["status"],
        vec!["regen-config", "--iam", "--check"],
        vec!["regen-config", "--iam", "--dry-run"],
        vec!["sso-reset", "--dry-run"],
    ] {
        let _ = case
            .cmd("shared")
            .env("CI", "true")
            .args(&args)
            .output()
            .unwrap();
        assert!(
            !mark.exists(),
            "`{}` ran the checkout's TF_BINARY",
            args.join(" ")
        );
    }
    // Live: a TF_BINARY inside the checkout is not started either…
    let _ = live_without_network(case.cmd("shared").arg("check"))
        .output()
        .unwrap();
    assert!(!mark.exists(), "a live check ran the checkout's TF_BINARY");
    // …unless the user vouches for it (the test can fail: the script does mark).
    let _ = live_without_network(case.cmd("shared").args(["check", "--trust-tf-binary"]))
        .output()
        .unwrap();
    assert!(mark.exists(), "--trust-tf-binary runs it");
}

#[test]
fn a_leverage_program_in_the_checkout_or_an_offline_run_is_never_started() {
    // broken-iam's build.env tells no generation, so the doctor would like to ask `leverage`.
    let case = Case::new("broken-iam");
    let mark = case.dir.path().join("leverage-ran");
    let in_checkout = case.project().join("node_modules/.bin");
    marking_script(
        &in_checkout.join("leverage"),
        &mark,
        "echo 'leverage, version 3.1.0'",
    );
    let path = format!(
        "{}:{}",
        in_checkout.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let _ = case
        .cmd("")
        .env("PATH", &path)
        .args(["check", "--offline"])
        .output()
        .unwrap();
    assert!(!mark.exists(), "offline ran `leverage --version`");
    let _ = live_without_network(case.cmd("").env("PATH", &path).arg("check"))
        .output()
        .unwrap();
    assert!(!mark.exists(), "a live check ran the checkout's `leverage`");
    // One outside the checkout is asked in live mode only.
    let outside = case.dir.path().join("userbin");
    marking_script(
        &outside.join("leverage"),
        &mark,
        "echo 'leverage, version 3.1.0'",
    );
    let path = format!(
        "{}:{}",
        outside.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let _ = case
        .cmd("")
        .env("PATH", &path)
        .args(["check", "--offline"])
        .output()
        .unwrap();
    assert!(!mark.exists(), "offline ran `leverage --version`");
    let (_, r) = check_json(live_without_network(
        case.cmd("").env("PATH", &path).arg("check"),
    ));
    assert!(mark.exists());
    assert_eq!(r["project"]["leverage"]["source"], "leverage --version");
}

#[test]
fn the_terraform_version_comes_from_pinned_files_offline() {
    let (case, mark) = v3_case_with_marking_tf_binary();
    let ld312 = |case: &Case| {
        let (_, r) = check_json(case.cmd("shared").args(["check", "--offline"]));
        diags(&r, "LD312").len()
    };
    // Make the backend's profile use sso_session: LD312 depends on the Terraform version.
    let config = case.aws().join("config");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("[profile bb-extra]", "[profile bb-shared-devops-sso]"),
    )
    .unwrap();
    let backend = case.project().join("shared/config/backend.tfvars");
    let b = std::fs::read_to_string(&backend).unwrap();
    let b: String = b
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("profile") {
                "profile = \"bb-shared-devops-sso\"".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&backend, b).unwrap();
    assert_eq!(ld312(&case), 0, "unknown offline: nothing claimed");
    std::fs::write(case.project().join(".terraform-version"), "1.5.7\n").unwrap();
    assert_eq!(ld312(&case), 1, ".terraform-version says 1.5.7");
    std::fs::remove_file(case.project().join(".terraform-version")).unwrap();
    std::fs::write(
        case.project().join(".tool-versions"),
        "python 3.12.1\nterraform 1.6.2\n",
    )
    .unwrap();
    assert_eq!(ld312(&case), 0, ".tool-versions says 1.6.2");
    assert!(!mark.exists());
}

#[test]
fn a_program_that_leaves_a_child_holding_the_pipe_is_bounded() {
    // `leverage --version` (outside the checkout) forks a child that keeps stdout open for
    // 67 s: the doctor kills the whole group at its bound and goes on.
    let case = Case::new("broken-iam");
    let mark = case.dir.path().join("leverage-ran");
    let bin = case.dir.path().join("userbin");
    marking_script(
        &bin.join("leverage"),
        &mark,
        "sleep 67 &\necho 'leverage, version 3.1.0'",
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let started = std::time::Instant::now();
    let out = live_without_network(case.cmd("").env("PATH", &path).arg("check"))
        .timeout(Duration::from_secs(50))
        .output()
        .unwrap();
    assert!(mark.exists());
    assert!(
        out.status.code().is_some(),
        "the doctor was killed by the test's timeout"
    );
    // No `sleep 60` of ours is left behind.
    let left = std::process::Command::new("pgrep")
        .args(["-f", "sleep 67"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let _ = started;
    assert!(
        left.is_empty(),
        "the grandchild outlived the doctor: {left}"
    );
}

#[test]
fn output_never_writes_through_a_link_or_into_the_aws_folder() {
    let case = Case::new("sso-healthy");
    let credentials = case.aws().join("credentials");
    std::fs::write(
        &credentials,
        "[bb-x]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
    )
    .unwrap();
    let before = std::fs::read(&credentials).unwrap();
    // A link in the checkout to the user's credentials.
    let link = case.project().join("report.json");
    std::os::unix::fs::symlink(&credentials, &link).unwrap();
    let out = case
        .cmd("")
        .env("CI", "true")
        .args([
            "check",
            "--offline",
            "--format",
            "json",
            "--output",
            "report.json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("link"));
    assert_eq!(std::fs::read(&credentials).unwrap(), before);
    // A dangling link is refused too (it would create the target).
    let target = case.dir.path().join("created-through-link");
    std::os::unix::fs::symlink(&target, case.project().join("dangling.json")).unwrap();
    let out = case
        .cmd("")
        .args(["check", "--offline", "--output", "dangling.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!target.exists());
    // Never a file in ~/.aws, by its real path either.
    let out = case
        .cmd("")
        .args(["check", "--offline", "--output"])
        .arg(case.aws().join("report.txt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!case.aws().join("report.txt").exists());
    let out = case
        .cmd("")
        .args(["check", "--offline", "--output"])
        .arg(&credentials)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&credentials).unwrap(), before);
    // A new file, and a regular file, are fine.
    let out = case
        .cmd("")
        .args([
            "check",
            "--offline",
            "--format",
            "json",
            "--output",
            "fresh.json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(case.project().join("fresh.json").is_file());
}

#[test]
fn project_files_that_link_outside_the_project_are_reported_not_read() {
    let case = Case::new("sso-healthy");
    let secret = case.dir.path().join("netrc");
    std::fs::write(
        &secret,
        "machine github.com login me password LDOUTSIDESECRET0000001\nprofile = \"LDOUTSIDESECRET0000002\"\n",
    )
    .unwrap();
    let layer = case.project().join("shared/us-east-1/base-network");
    std::os::unix::fs::symlink(&secret, layer.join("locals.tf")).unwrap();
    std::os::unix::fs::symlink(&secret, case.project().join("shared/config/extra.tfvars")).unwrap();
    std::fs::remove_file(case.project().join("build.env")).unwrap();
    std::fs::write(
        case.project().join("build.env.real"),
        "PROJECT=bb\nTERRAFORM_IMAGE_TAG=1.3.5-0.2.4\n",
    )
    .unwrap();
    // A link inside the project is fine (layers link common-variables.tf).
    std::os::unix::fs::symlink("build.env.real", case.project().join("build.env")).unwrap();
    for format in ["human", "json", "sarif", "github", "junit"] {
        let out = case
            .cmd("")
            .args(["check", "--offline", "--all", "--format", format])
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains("LDOUTSIDESECRET"), "{format}: {text}");
        assert!(!text.contains("machine github.com"), "{format}: {text}");
        if format == "json" {
            let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let outside: Vec<_> = r["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    d["message"]
                        .as_str()
                        .unwrap_or("")
                        .contains("outside the project")
                })
                .map(|d| d["file"].as_str().unwrap_or("").to_string())
                .collect();
            assert!(
                outside.contains(&"shared/us-east-1/base-network/locals.tf".to_string())
                    && outside.contains(&"shared/config/extra.tfvars".to_string()),
                "{r:#}"
            );
            assert_eq!(r["project"]["name"], "bb", "the in-project link is read");
        }
    }
}

#[test]
fn a_token_reached_through_a_link_is_the_same_token_for_every_command() {
    // People keep AWS files in dotfiles: `sso/cache/token` may be a link.
    let case = Case::new("sso-healthy");
    let token = case.aws().join("sso/cache/token");
    let kept = case.dir.path().join("dotfiles-token.json");
    std::fs::rename(&token, &kept).unwrap();
    std::os::unix::fs::symlink(&kept, &token).unwrap();
    let status = run(&case, &["status", "--format", "json"]);
    let s: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert!(
        s["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["kind"] == "sso-token"
                && x["file"]
                    .as_str()
                    .unwrap_or("")
                    .ends_with("sso/cache/token")
                && !x["expires_at"].is_null()),
        "{s:#}"
    );
    let reset = run(&case, &["sso-reset", "--dry-run"]);
    assert!(
        reset.stdout.contains("log out and delete") && reset.stdout.contains("sso/cache/token"),
        "sso-reset must see the token status sees: {}{}",
        reset.stdout,
        reset.stderr
    );
    assert!(!reset.stdout.contains("nothing to log out of"));
}

/// The GitHub runner's grammar: a line whose first non-blank characters are `::` is a workflow
/// command (stdout and stderr alike; a bare CR ends a line), and `##[` anywhere is the older form.
fn workflow_commands_in(text: &str) -> Vec<String> {
    text.split(['\n', '\r'])
        .filter(|line| {
            let body = line.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
            body.starts_with("::") || line.contains("##[")
        })
        .map(str::to_string)
        .collect()
}

/// Control characters other than newline and tab (ESC, BEL, CR, C1, DEL) and bidi overrides.
fn raw_controls_in(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| {
            (c.is_control() && *c != '\n' && *c != '\t')
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

#[test]
fn text_from_the_checkout_cannot_start_a_workflow_command_or_drive_the_terminal() {
    let case = Case::new("sso-healthy");
    let layer = case.project().join("shared/us-east-1/base-network");
    // HCL string escapes give a profile name with line breaks, ESC, BEL, CR and a bidi override.
    let evil = r#"bb-x\n::error file=a,line=1::pwned\r::add-mask::x\u001b]0;title\u0007\u001b[2J ##[set-env name=A]b \u202Egnp"#;
    std::fs::write(
        layer.join("locals.tf"),
        format!("provider \"aws\" {{\n  alias   = \"evil\"\n  region  = \"us-east-1\"\n  profile = \"{evil}\"\n}}\n"),
    )
    .unwrap();
    // A folder name is text from the checkout too.
    let odd = case
        .project()
        .join("shared/us-east-1/\u{1b}[31mred\n::warning::dir");
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::write(
        odd.join("config.tf"),
        "provider \"aws\" {\n  profile = \"bb-y\\n::error::z\"\n}\n",
    )
    .unwrap();
    for format in ["human", "json", "sarif", "github", "junit"] {
        for colour in ["never", "always"] {
            let out = case
                .cmd("")
                .env("CI", "true")
                .args([
                    "check",
                    "--offline",
                    "--all",
                    "--color",
                    colour,
                    "--format",
                    format,
                ])
                .output()
                .unwrap();
            assert!(
                out.status.code().is_some_and(|c| c < 2),
                "{format}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                workflow_commands_in(&stderr).is_empty(),
                "{format}/{colour} stderr: {stderr}"
            );
            if format == "json" || format == "sarif" {
                let parsed: Result<serde_json::Value, _> = serde_json::from_str(&stdout);
                assert!(
                    parsed.is_ok(),
                    "{format}: the gate broke the JSON: {stdout}"
                );
                assert!(
                    parsed.unwrap().to_string().contains("##[set-env"),
                    "the value survives, escaped"
                );
            }
            let commands = workflow_commands_in(&stdout);
            if format == "github" {
                for c in &commands {
                    assert!(
                        ["::error ", "::warning ", "::notice "]
                            .iter()
                            .any(|k| c.starts_with(k))
                            && !c.contains("##["),
                        "github: a line that is not one of ours: {c:?}"
                    );
                }
                assert!(!commands.is_empty());
            } else {
                assert!(
                    commands.is_empty(),
                    "{format}/{colour}: {commands:?}\n{stdout}"
                );
            }
            // Our colour codes are the only escape sequences, and only with colour on.
            let text = if colour == "always" && format == "human" {
                strip_sgr(&stdout)
            } else {
                stdout.to_string()
            };
            assert!(
                raw_controls_in(&text).is_empty() && raw_controls_in(&stderr).is_empty(),
                "{format}/{colour}: {:?}\n{text}",
                raw_controls_in(&text)
            );
        }
    }
}

/// The text without `ESC [ digits ; m` colour codes.
fn strip_sgr(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\u{1b}[") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let n = after
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b';')
            .count();
        if after.as_bytes().get(n) == Some(&b'm') {
            rest = &after[n + 1..];
        } else {
            out.push_str(&rest[at..at + 2]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn passwords_in_proxy_and_endpoint_urls_are_masked_with_or_without_a_scheme() {
    let case = Case::new("sso-healthy");
    for (name, value) in [
        ("HTTPS_PROXY", "me:LDPROXYPASS0001@proxy.internal:3128"),
        (
            "https_proxy",
            "http://me:LDPROXYPASS0002@proxy internal:3128",
        ),
        ("ALL_PROXY", "me:LDPROXYPASS0003@proxy.internal:1080"),
        ("HTTP_PROXY", "me:LDPROXYPASS0004@proxy.internal:3128"),
        ("AWS_ENDPOINT_URL_STS", "me:LDPROXYPASS0005@127.0.0.1:9"),
        ("AWS_ENDPOINT_URL", "http://me:LDPROXYPASS0006@127.0.0.1:9"),
    ] {
        for args in [
            vec!["check", "--offline"],
            vec!["check", "--timeout", "2"],
            vec!["check", "--offline", "--format", "json"],
            vec!["status"],
        ] {
            let out = case
                .cmd("")
                .env("CI", "true")
                .env(name, value)
                .args(&args)
                .output()
                .unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                !text.contains("LDPROXYPASS"),
                "{name} with {args:?}: {text}"
            );
        }
    }
}

#[test]
fn fifos_named_by_the_environment_or_settings_never_make_a_command_wait() {
    let case = Case::new("sso-healthy");
    let fifo = case.dir.path().join("fifo");
    mkfifo(&fifo);
    let fifo_s = fifo.to_str().unwrap();
    // Each run is bounded by the test: a wait on the FIFO would be killed (no exit code).
    let bounded = |env: &[(&str, &str)], args: &[&str]| {
        let mut cmd = case.cmd("");
        cmd.env("CI", "true")
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .args(args)
            .timeout(Duration::from_secs(40));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.code().is_some(),
            "{env:?} {args:?} waited on the FIFO: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    for var in [
        "AWS_CA_BUNDLE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ] {
        bounded(&[(var, fifo_s)], &["check", "--timeout", "2"]);
        bounded(&[(var, fifo_s)], &["check", "--offline"]);
        bounded(
            &[(var, fifo_s)],
            &["regen-config", "--sso", "--dry-run", "--timeout", "2"],
        );
        bounded(
            &[(var, fifo_s)],
            &[
                "sso-login",
                "--use-device-code",
                "--login-timeout",
                "10",
                "--timeout",
                "2",
            ],
        );
        bounded(&[(var, fifo_s)], &["sso-reset", "--yes", "--timeout", "2"]);
        bounded(&[(var, fifo_s)], &["status"]);
    }
    let out = bounded(&[], &["check", "--offline", "--config", fifo_s]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FIFO"));
    // The project's own AWS files as FIFOs: a live check does not hand them to the SDK.
    let credentials = case.aws().join("credentials");
    let _ = std::fs::remove_file(&credentials);
    mkfifo(&credentials);
    bounded(&[], &["check", "--timeout", "2"]);
}

#[test]
fn idle_slow_and_many_clients_cannot_stretch_the_browser_sign_in() {
    // A "browser" that, instead of completing the sign-in, opens 40 connections to the
    // loopback listener: half idle, half sending one byte every 300 ms, for 90 s at most (the
    // test stops it sooner).
    let case = Case::new("sso-logged-out");
    let script = case.dir.path().join("browser.py");
    let pid_file = case.dir.path().join("browser.pid");
    std::fs::write(
        &script,
        r#"#!/usr/bin/env python3
import os, socket, sys, threading, time, urllib.parse
open(os.path.join(os.path.dirname(sys.argv[0]), "browser.pid"), "w").write(str(os.getpid()))
q = urllib.parse.parse_qs(urllib.parse.urlparse(sys.argv[1]).query)
port = urllib.parse.urlparse(q["redirect_uri"][0]).port
end = time.time() + 90
def client(slow):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        while time.time() < end:
            if slow:
                s.send(b"G")
            time.sleep(0.3)
    except OSError:
        pass
ts = [threading.Thread(target=client, args=(i % 2 == 0,), daemon=True) for i in range(40)]
for t in ts:
    t.start()
time.sleep(90)
"#,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/client/register"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "clientId": "client-x", "clientSecret": "LDFIXTURESECRET-x",
                "clientIdIssuedAt": 1_700_000_000, "clientSecretExpiresAt": 4_102_444_800u64
            })))
            .mount(&server)
            .await;
        server
    });
    let out = case
        .cmd("")
        .env("AWS_ENDPOINT_URL_SSO_OIDC", server.uri())
        .env("AWS_ENDPOINT_URL_SSO", server.uri())
        .env("BROWSER", &script)
        .args(["sso-login", "--login-timeout", "10"])
        .timeout(Duration::from_secs(40))
        .output()
        .unwrap();
    if let Ok(pid) = std::fs::read_to_string(&pid_file) {
        let _ = std::process::Command::new("kill").arg(pid.trim()).status();
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code().is_some(),
        "the sign-in outlived its --login-timeout of 10 s by far: {stderr}"
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr.contains("in time"), "{stderr}");
    drop(rt);
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_cli_cache_files_are_deleted_only_when_they_name_the_projects_portal() {
    // The project's config has `[sso-session work]` for its portal; the user's own AWS CLI
    // setup has another `[sso-session work]` for another organisation, whose token is what
    // sits under sha1("work").
    let case = Case::new("sso-healthy");
    let config = case.aws().join("config");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[sso-session work]\nsso_start_url = https://bb-fixture.awsapps.com/start\nsso_region = us-east-1\n\n[profile bb-console]\nsso_session = work\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\n"),
    )
    .unwrap();
    let sso_cache = case.home().join(".aws/sso/cache");
    let cli_cache = case.home().join(".aws/cli/cache");
    std::fs::create_dir_all(&sso_cache).unwrap();
    std::fs::create_dir_all(&cli_cache).unwrap();
    let sha = leverage_doctor::fix::reset::sha1_hex;
    let foreign = sso_cache.join(format!("{}.json", sha("work")));
    std::fs::write(
        &foreign,
        serde_json::json!({"startUrl": "https://another-org.awsapps.com/start", "accessToken": "LDFIXTURESECRET-foreign"}).to_string(),
    )
    .unwrap();
    let role =
        leverage_doctor::fix::reset::cli_session_role_cache_key("work", "222222222222", "ReadOnly");
    std::fs::write(cli_cache.join(format!("{role}.json")), "{}").unwrap();
    // A file named for the project's start URL that is not a token of it (no startUrl).
    let unproven = sso_cache.join(format!(
        "{}.json",
        sha("https://bb-fixture.awsapps.com/start")
    ));
    std::fs::write(&unproven, "{\"note\": \"not a token\"}").unwrap();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/logout"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let out = run_with_sso_server(
        &case,
        server.uri(),
        &["sso-reset", "--yes", "--aws-cli-cache"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        foreign.exists(),
        "another organisation's token was deleted: {}",
        out.stdout
    );
    assert!(cli_cache.join(format!("{role}.json")).exists());
    assert!(unproven.exists());
}

#[test]
fn durations_past_the_range_are_a_clear_error_not_a_panic() {
    let case = Case::new("sso-healthy");
    for long in [
        "9223372036854775807s",
        "99999999999999999999999d",
        "106751991167301d",
    ] {
        let out = run(&case, &["status", "--min-remaining", long]);
        assert_eq!(out.code, 2, "{long}: {}", out.stderr);
        assert!(out.stderr.contains("longer than"), "{long}: {}", out.stderr);
        assert!(!out.stderr.contains("internal error"), "{}", out.stderr);
    }
    // Times at the edges of what the files may hold are read without a panic either.
    let token = case.aws().join("sso/cache/token");
    let text = std::fs::read_to_string(&token).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    for at in ["9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z"] {
        let mut j = json.clone();
        j["expiresAt"] = at.into();
        std::fs::write(&token, j.to_string()).unwrap();
        for args in [
            vec!["status", "--min-remaining", "2h"],
            vec!["check", "--offline"],
        ] {
            let out = run(&case, &args);
            assert!(out.code < 2, "{at} {args:?}: {}", out.stderr);
        }
    }
    let config = case.aws().join("config");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("[profile bb-sso-shared]", "[profile bb-shared-devops]\nexpiration = 9223372036854775807\n\n[profile bb-sso-shared]")).unwrap();
    let out = run(&case, &["status", "--min-remaining", "1h"]);
    assert!(out.code < 2, "{}", out.stderr);
}

#[test]
fn refreshable_means_sso_login_would_renew_without_a_browser() {
    let case = Case::new("sso-healthy");
    let state = case.aws().join("leverage-doctor");
    std::fs::create_dir_all(&state).unwrap();
    let saved = |start_url: &str, region: &str, expires_at: String| {
        serde_json::json!({
            "startUrl": start_url,
            "registration": {"clientId": "c", "clientSecret": "LDFIXTURESECRET-reg", "expiresAt": expires_at,
                              "region": region, "scopes": ["sso:account:access"], "grantTypes": ["refresh_token", "authorization_code"]},
            "refreshToken": "LDFIXTURESECRET-refresh"
        })
        .to_string()
    };
    let refreshable = || {
        let out = run(&case, &["status", "--format", "json"]);
        let s: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        s["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["kind"] == "sso-token")
            .map(|x| x["refreshable"].as_bool().unwrap())
            .unwrap()
    };
    let in_days = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let in_minutes = (chrono::Utc::now() + chrono::Duration::minutes(30)).to_rfc3339();
    let url = "https://bb-fixture.awsapps.com/start";
    std::fs::write(
        state.join("sso-session.json"),
        saved(url, "us-east-1", in_days.clone()),
    )
    .unwrap();
    assert!(refreshable());
    std::fs::write(
        state.join("sso-session.json"),
        saved(&format!("{url}/#/"), "us-east-1", in_days.clone()),
    )
    .unwrap();
    assert!(
        refreshable(),
        "the same portal, written with the portal's own #/"
    );
    // sso-login needs the registration for another hour: 30 minutes means a new sign-in.
    std::fs::write(
        state.join("sso-session.json"),
        saved(url, "us-east-1", in_minutes),
    )
    .unwrap();
    assert!(!refreshable());
    // Kept for another portal or region: sso-login does not use it.
    std::fs::write(
        state.join("sso-session.json"),
        saved(
            "https://other.awsapps.com/start",
            "us-east-1",
            in_days.clone(),
        ),
    )
    .unwrap();
    assert!(!refreshable());
    std::fs::write(
        state.join("sso-session.json"),
        saved(url, "eu-west-1", in_days),
    )
    .unwrap();
    assert!(!refreshable());
}

#[test]
fn with_no_aws_config_no_profile_is_ok() {
    // A new user on a fresh clone: ~/.aws/bb/config does not exist yet.
    let case = Case::new("broken-iam");
    std::fs::remove_file(case.aws().join("config")).unwrap();
    let (code, r) = check_json(case.cmd("").args(["check", "--offline"]));
    assert_eq!(code, 1);
    let ld102: Vec<String> = diags(&r, "LD102")
        .iter()
        .filter_map(|d| d["profile"].as_str().map(str::to_string))
        .collect();
    assert!(
        ld102.contains(&"bb-apps-devstg-devops".to_string()),
        "{r:#}"
    );
    let out = case
        .cmd("")
        .env("COLUMNS", "200")
        .args(["check", "--offline"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text
        .lines()
        .find(|l| l.contains("bb-apps-devstg-devops ") && l.contains('│'))
        .unwrap_or_else(|| panic!("no row: {text}"));
    assert!(row.contains("error") && !row.contains("ok"), "{row}");
}

// ---- check --fix against a second writer, links, and its backup ----------------------------

/// Another process edits the credentials file after `check --fix` showed its diff and before
/// it writes: under the lock the doctor reads the file again, finds it changed, and writes
/// nothing; the other writer's lines survive and the doctor's fix is left for the next run.
#[test]
fn check_fix_does_not_clobber_an_edit_made_while_it_waits() {
    let case = Case::new("broken-iam");
    let credentials = case.aws().join("credentials");
    let lock = leverage_doctor::write::FolderLock::acquire(&case.aws()).unwrap();
    let mut child = spawn(&case, &["check", "--offline", "--fix", "--yes"], &[]);
    let rx = until_waiting(&mut child);
    let mut text = std::fs::read_to_string(&credentials).unwrap();
    text.push_str("\n[mine]\naws_access_key_id = AKIALDFIXTURESECRET9\naws_secret_access_key = LDFIXTURESECRETmineSecret000000000000000\n");
    std::fs::write(&credentials, &text).unwrap();
    drop(lock);
    let (code, said) = finish(child, rx);
    assert!(code == 1 || code == 2, "{said}");
    assert_eq!(
        std::fs::read_to_string(&credentials).unwrap(),
        text,
        "the other writer's file is kept byte for byte:\n{said}"
    );
    assert!(
        said.contains("changed since it was read") || said.contains("changed while"),
        "{said}"
    );
    // Run again: now the fix applies on top of the other writer's text.
    let again = run(&case, &["check", "--offline", "--fix", "--yes"]);
    let after = std::fs::read_to_string(&credentials).unwrap();
    assert_eq!(
        after,
        text.replace("[profile bb-extra]", "[bb-extra]"),
        "{}",
        again.stderr
    );
}

/// The credentials file is a symlink — to a file inside the AWS folder, or outside it —:
/// `check --fix` refuses it before writing anything, and the target is untouched (no backup,
/// no rewrite through the link).
#[test]
fn check_fix_refuses_a_linked_aws_file() {
    for inside in [true, false] {
        let case = Case::new("broken-iam");
        let credentials = case.aws().join("credentials");
        let text = std::fs::read_to_string(&credentials).unwrap();
        let target = if inside {
            case.aws().join("credentials.real")
        } else {
            case.dir.path().join("elsewhere-credentials")
        };
        std::fs::rename(&credentials, &target).unwrap();
        std::os::unix::fs::symlink(&target, &credentials).unwrap();
        let (_, r) = check_json(case.cmd("").args(["check", "--offline"]));
        let has_edit = diags(&r, "LD204")
            .iter()
            .any(|d| !d["fix"]["edits"].as_array().is_none_or(Vec::is_empty));
        let out = run(&case, &["check", "--offline", "--fix", "--yes"]);
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            text,
            "inside={inside}"
        );
        assert!(
            std::fs::symlink_metadata(&credentials)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let backups = std::fs::read_dir(target.parent().unwrap())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains(".bak-"))
            .count();
        assert_eq!(backups, 0, "inside={inside}");
        assert!(has_edit, "inside={inside}: the fix is offered\n{r:#}");
        assert_eq!(out.code, 2, "inside={inside}: {}", out.stderr);
        assert!(
            out.stderr.contains("is a symlink"),
            "inside={inside}: {}",
            out.stderr
        );
    }
}

/// The backup `check --fix` leaves beside an AWS file holds the text before the fix, 0600.
#[test]
fn check_fix_leaves_a_backup_of_the_old_text() {
    let case = Case::new("broken-iam");
    let credentials = case.aws().join("credentials");
    let before = std::fs::read_to_string(&credentials).unwrap();
    let out = run(&case, &["check", "--offline", "--fix", "--yes"]);
    let after = std::fs::read_to_string(&credentials).unwrap();
    assert_ne!(after, before, "{}", out.stderr);
    let backups: Vec<_> = std::fs::read_dir(case.aws())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("credentials.bak-")
        })
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(std::fs::read_to_string(&backups[0]).unwrap(), before);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&backups[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(out.stderr.contains("backup:"), "{}", out.stderr);
}

/// The same for a file of the project: `--fix --unsafe-fixes` waits for the AWS folder's lock
/// (no lock file in the checkout), reads backend.tfvars again, finds another edit and writes
/// nothing over it.
#[test]
fn check_fix_of_a_project_file_does_not_clobber_an_edit_made_while_it_waits() {
    let case = Case::new("iam-mfa-healthy");
    let backend = case.project().join("shared/config/backend.tfvars");
    let bad = std::fs::read_to_string(&backend).unwrap().replacen(
        "\"bb-shared-devops\"",
        "\"bb-shared-devop\"",
        1,
    );
    std::fs::write(&backend, &bad).unwrap();
    let lock = leverage_doctor::write::FolderLock::acquire(&case.aws()).unwrap();
    let mut child = spawn(
        &case,
        &["check", "--offline", "--fix", "--unsafe-fixes", "--yes"],
        &[],
    );
    let rx = until_waiting(&mut child);
    let theirs = format!("{bad}# kept by the other writer\n");
    std::fs::write(&backend, &theirs).unwrap();
    drop(lock);
    let (_, said) = finish(child, rx);
    assert_eq!(std::fs::read_to_string(&backend).unwrap(), theirs, "{said}");
    assert!(said.contains("changed since it was read"), "{said}");
    assert!(
        !case.project().join(".leverage-doctor.lock").exists(),
        "no lock file in the checkout"
    );
}

/// A `~/…` path a layer names is looked at only where such files live (`~/.kube/` for a
/// kubeconfig): `config_path = "~/.ssh/id_rsa"` neither opens the key nor tells whether it is
/// there (a hostile-checkout audit saw the doctor open and parse it).
#[test]
fn a_home_path_outside_the_kube_folder_is_never_opened_nor_told() {
    let report_with = |key_present: bool| {
        let case = Case::new("v3-sso-healthy");
        let ssh = case.home().join(".ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        if key_present {
            std::fs::write(ssh.join("id_rsa"), "{\"current-context\": \"x\"}\n").unwrap();
        }
        let layer = case.project().join("apps-devstg/us-east-1/k8s-eks/cluster");
        std::fs::write(
            layer.join("k8s.tf"),
            "provider \"kubernetes\" {\n  config_path = \"~/.ssh/id_rsa\"\n}\n\
             resource \"kubernetes_namespace\" \"x\" {}\n",
        )
        .unwrap();
        let (_, report) = check_json(case.cmd("").args(["check", "--all", "--offline"]));
        let mut seen: Vec<String> = report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| format!("{} {} {}", d["rule"], d["file"], d["message"]))
            .collect();
        seen.sort();
        (seen, report["credentials"].to_string())
    };
    assert_eq!(report_with(true), report_with(false));
}

/// A kubeconfig path a layer names through a symlinked folder (`lnk/x` with `lnk -> /etc`)
/// is not looked at: whether the file exists out there must not reach the report (a
/// hostile-checkout audit read "ok" for /etc/shadow and "does not exist" for a missing file).
#[test]
fn a_kubeconfig_path_through_a_link_tells_nothing_about_where_it_points() {
    let case = Case::new("v3-sso-healthy");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("there"), "x").unwrap();
    let layer = case.project().join("apps-devstg/us-east-1/k8s-eks/cluster");
    std::os::unix::fs::symlink(outside.path(), layer.join("lnk")).unwrap();
    std::fs::write(
        layer.join("k8s.tf"),
        "provider \"kubernetes\" {\n  config_path = \"lnk/there\"\n}\n\
         provider \"helm\" {\n  kubernetes {\n    config_path = \"lnk/not-there\"\n  }\n}\n\
         resource \"kubernetes_namespace\" \"x\" {}\nresource \"helm_release\" \"y\" {}\n",
    )
    .unwrap();
    let (_, report) = check_json(case.cmd("").args(["check", "--all", "--offline"]));
    let about_the_link: Vec<_> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["message"].as_str().unwrap_or("").contains("lnk/"))
        .collect();
    assert!(about_the_link.is_empty(), "{report:#}");
}

/// Each stuck file costs half a second, not the five a large file may take: a checkout of a
/// hundred stuck 360-byte files must not hold a CI job for minutes (a hostile-checkout audit
/// found ten of them in config/ took 51 s). The limit a file gets is the one it is reported with.
#[test]
fn a_small_file_the_parser_never_finishes_is_given_up_on_after_half_a_second() {
    let case = Case::new("broken-iam");
    let stuck = "w=111-1%{".repeat(40);
    for i in 0..3 {
        std::fs::write(
            case.project().join(format!("config/z{i}.tfvars")),
            format!("{stuck}\n"),
        )
        .unwrap();
    }
    std::fs::write(
        case.project().join("shared/us-east-1/base-network/zz.tf"),
        format!("provider \"aws\" {{}}\n{stuck}"),
    )
    .unwrap();
    let (_, report) = check_json(case.cmd("").args(["check", "--all", "--offline"]));
    let mut given_up: Vec<String> = diags(&report, "LD002")
        .into_iter()
        .filter(|d| {
            d["message"]
                .as_str()
                .unwrap_or("")
                .contains("did not finish within 0.5 s")
        })
        .map(|d| d["file"].as_str().unwrap_or("").to_string())
        .collect();
    given_up.sort();
    assert_eq!(
        given_up,
        [
            "config/z0.tfvars",
            "config/z1.tfvars",
            "config/z2.tfvars",
            "shared/us-east-1/base-network/zz.tf"
        ],
        "{report:#}"
    );
}

/// A file the HCL parser never finishes (found by fuzzing) is given up on after the parse
/// limit and reported; every other layer, before and after it, is read and judged as usual
/// (the layers stream through registration in order, around the stuck one).
#[test]
fn a_file_the_parser_never_finishes_is_skipped_and_the_rest_is_judged() {
    let case = Case::new("broken-iam");
    let (_, before) = check_json(case.cmd("").args(["check", "--all", "--offline"]));
    std::fs::write(
        case.project().join("shared/us-east-1/base-network/zz.tf"),
        format!("provider \"aws\" {{}}\n{}", "w=111-1%{".repeat(40)),
    )
    .unwrap();
    let (_, after) = check_json(case.cmd("").args(["check", "--all", "--offline"]));
    let stuck: Vec<_> = diags(&after, "LD002")
        .into_iter()
        .filter(|d| {
            d["message"]
                .as_str()
                .unwrap_or("")
                .contains("did not finish")
        })
        .collect();
    assert_eq!(stuck.len(), 1, "{after:#}");
    assert_eq!(stuck[0]["file"], "shared/us-east-1/base-network/zz.tf");
    let without = |report: &serde_json::Value| -> Vec<String> {
        report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                !d["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("did not finish")
            })
            .map(|d| format!("{} {} {}", d["rule"], d["file"], d["line"]))
            .collect()
    };
    assert_eq!(without(&before), without(&after));
}
