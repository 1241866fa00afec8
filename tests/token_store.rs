//! `token-store`: the refresh token and the client secret in the OS secret store, against the
//! real Secret Service (Debian's gnome-keyring on a private D-Bus session bus, started here and
//! stopped by pid), and the file fallback where no store answers.

use crate::support::{Case, Run};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BASE_NETWORK: &str = "shared/us-east-1/base-network";
const START_URL: &str = "https://bb-fixture.awsapps.com/start";

/// A D-Bus session bus and gnome-keyring's Secret Service on it, the login keyring unlocked
/// with a known password; both killed (by pid) on drop.
struct SecretService {
    bus: Child,
    keyring: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl SecretService {
    fn start() -> SecretService {
        let dir = tempfile::tempdir().expect("tempdir");
        let run = dir.path().join("run");
        std::fs::create_dir_all(&run).expect("run dir");
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).expect("0700");
        }
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian's dbus-daemon; scripts/test.sh installs it)");
        let mut address = String::new();
        std::io::BufReader::new(bus.stdout.take().expect("stdout"))
            .read_line(&mut address)
            .expect("bus address");
        let address = address.trim().to_string();
        assert!(address.starts_with("unix:"), "bus address: {address:?}");
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_RUNTIME_DIR", &run)
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (Debian's gnome-keyring; scripts/test.sh installs it)");
        // The login keyring's password, then end of input.
        let mut stdin = keyring.stdin.take().expect("stdin");
        stdin.write_all(b"test-keyring-password").expect("password");
        drop(stdin);
        let service = SecretService {
            bus,
            keyring,
            address,
            _dir: dir,
        };
        service.wait_for("org.freedesktop.secrets");
        service
    }

    /// Until `name` has an owner on the bus (10 s at most).
    fn wait_for(&self, name: &str) {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let out = Command::new("dbus-send")
                .args([
                    &format!("--bus={}", self.address),
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    &format!("string:{name}"),
                ])
                .output()
                .expect("dbus-send");
            if String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                return;
            }
            assert!(
                std::time::Instant::now() < until,
                "{name} never appeared on the bus"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        for child in [&mut self.keyring, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The doctor in the project root, the endpoints at the test server, no terminal, and the
/// session bus when given.
async fn run(case: &Case, server: &MockServer, bus: Option<&str>, args: &[&str]) -> Run {
    let mut cmd = case.cmd("");
    cmd.env("AWS_ENDPOINT_URL_SSO", server.uri())
        .env("AWS_ENDPOINT_URL_SSO_OIDC", server.uri())
        .env("CI", "true")
        .args(args)
        .timeout(std::time::Duration::from_secs(60));
    if let Some(address) = bus {
        cmd.env("DBUS_SESSION_BUS_ADDRESS", address);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run"))
        .await
        .expect("join");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

/// GetRoleCredentials for any role, lasting 8 hours.
async fn portal(server: &MockServer) {
    let expiration = (chrono::Utc::now() + chrono::Duration::hours(8)).timestamp_millis();
    Mock::given(method("GET"))
        .and(path("/federation/credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "roleCredentials": {
                "accessKeyId": "ASIATOKENSTORE000001",
                "secretAccessKey": "LDFIXTURESECRET-store-secret",
                "sessionToken": "LDFIXTURESECRET-store-session",
                "expiration": expiration
            }
        })))
        .mount(server)
        .await;
}

/// CreateToken (refresh grant) answering only for this client secret and refresh token, with a
/// new access token and a rotated refresh token.
async fn refresh_grant(server: &MockServer, refresh: &str, access: &str, rotated: &str) {
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_partial_json(serde_json::json!({
            "grantType": "refresh_token",
            "clientSecret": "LDFIXTURESECRET-client-secret",
            "refreshToken": refresh
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "accessToken": access, "tokenType": "Bearer", "expiresIn": 28800,
            "refreshToken": rotated
        })))
        .mount(server)
        .await;
}

/// The SSO token expires in `minutes`.
fn token_expiring(case: &Case, minutes: i64) {
    let at = (chrono::Utc::now() + chrono::Duration::minutes(minutes))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    std::fs::write(
        case.aws().join("sso/cache/token"),
        serde_json::json!({"startUrl": START_URL, "region": "us-east-1",
            "accessToken": "LDFIXTURESECRET-old-token", "expiresAt": at})
        .to_string(),
    )
    .expect("token");
}

/// What an earlier leverage-doctor (or the file store) kept: the secrets in the 0600 file.
fn kept_in_the_file(case: &Case) {
    let state = case.aws().join("leverage-doctor");
    std::fs::create_dir_all(&state).expect("state dir");
    std::fs::write(
        state.join("sso-session.json"),
        serde_json::json!({
            "startUrl": START_URL,
            "registration": {"clientId": "client-1", "clientSecret": "LDFIXTURESECRET-client-secret",
                "expiresAt": "2099-01-01T00:00:00Z", "region": "us-east-1",
                "scopes": ["sso:account:access"], "grantTypes": ["refresh_token"]},
            "refreshToken": "LDFIXTURESECRET-refresh-token"
        })
        .to_string(),
    )
    .expect("state");
}

fn setting(case: &Case, store: &str) {
    std::fs::write(
        case.project().join(".leverage-doctor.toml"),
        format!("token-store = \"{store}\"\n"),
    )
    .expect("settings");
}

/// Every file under `dir` holding `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            out.extend(files_holding(&path, needle));
        } else if kind.is_file()
            && std::fs::read(&path)
                .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        {
            out.push(path);
        }
    }
    out
}

fn status_json(run: &Run) -> serde_json::Value {
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("status JSON")
}

async fn token_calls(server: &MockServer) -> Vec<serde_json::Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == "/token")
        .filter_map(|r| serde_json::from_slice(&r.body).ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_refresh_token_lives_in_the_secret_service_and_renews_from_there() {
    let service = SecretService::start();
    let bus = Some(service.address.as_str());
    let server = MockServer::start().await;
    portal(&server).await;
    refresh_grant(
        &server,
        "LDFIXTURESECRET-refresh-token",
        "LDFIXTURESECRET-renewed-1",
        "LDFIXTURESECRET-rotated-1",
    )
    .await;
    refresh_grant(
        &server,
        "LDFIXTURESECRET-rotated-1",
        "LDFIXTURESECRET-renewed-2",
        "LDFIXTURESECRET-rotated-2",
    )
    .await;
    let case = Case::new("v3-sso-healthy");
    setting(&case, "keyring");
    token_expiring(&case, 10);
    // Kept in the file by an earlier version: moved to the store by this renewal.
    kept_in_the_file(&case);

    let first = run(&case, &server, bus, &["refresh", BASE_NETWORK]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(!first.stderr.contains("warning"), "{}", first.stderr);
    let token = std::fs::read_to_string(case.aws().join("sso/cache/token")).expect("token");
    assert!(token.contains("LDFIXTURESECRET-renewed-1"), "{token}");
    // What only the doctor needs is in no file of HOME (or of the project) any more.
    for secret in [
        "LDFIXTURESECRET-refresh-token",
        "LDFIXTURESECRET-rotated-1",
        "LDFIXTURESECRET-client-secret",
    ] {
        let found = files_holding(case.home().parent().expect("case dir"), secret);
        assert!(found.is_empty(), "{secret} in {found:?}");
    }
    let state =
        std::fs::read_to_string(case.aws().join("leverage-doctor/sso-session.json")).expect("kept");
    assert!(
        state.contains("\"secretsIn\": \"keyring (Secret Service)\""),
        "{state}"
    );

    // status says where, in JSON and for people, without asking the store.
    let json = status_json(&run(&case, &server, None, &["status", "--format", "json"]).await);
    assert_eq!(json["token_store"], "keyring (Secret Service)", "{json}");
    let sso = json["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .find(|s| s["kind"] == "sso-token")
        .cloned()
        .expect("sso-token");
    assert_eq!(sso["refreshable"], true, "{json}");
    let human = run(&case, &server, None, &["status"]).await;
    assert!(
        human
            .stdout
            .contains("refresh token kept in: keyring (Secret Service)"),
        "{}",
        human.stdout
    );

    // The next renewal takes the (rotated) refresh token and the client secret from the store.
    token_expiring(&case, 5);
    let second = run(&case, &server, bus, &["refresh", BASE_NETWORK]).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    let calls = token_calls(&server).await;
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[1]["refreshToken"], "LDFIXTURESECRET-rotated-1");
    assert_eq!(calls[1]["clientSecret"], "LDFIXTURESECRET-client-secret");
    let token = std::fs::read_to_string(case.aws().join("sso/cache/token")).expect("token");
    assert!(token.contains("LDFIXTURESECRET-renewed-2"), "{token}");
    let found = files_holding(
        case.home().parent().expect("case dir"),
        "LDFIXTURESECRET-rotated-2",
    );
    assert!(found.is_empty(), "{found:?}");
    for r in [&first, &second, &human] {
        assert!(
            !r.stdout.contains("LDFIXTURESECRET") && !r.stderr.contains("LDFIXTURESECRET"),
            "{}{}",
            r.stdout,
            r.stderr
        );
    }

    // Without the store (no session bus), the kept session cannot be renewed: said, exit 1.
    token_expiring(&case, 5);
    let away = run(&case, &server, None, &["refresh", BASE_NETWORK]).await;
    assert_eq!(away.code, 1, "{}", away.stderr);
    assert!(
        away.stderr.contains("keyring (Secret Service)"),
        "{}",
        away.stderr
    );
    assert_eq!(token_calls(&server).await.len(), 2);

    // `token-store = "file"` moves it back into the file and out of the store.
    refresh_grant(
        &server,
        "LDFIXTURESECRET-rotated-2",
        "LDFIXTURESECRET-renewed-3",
        "LDFIXTURESECRET-rotated-3",
    )
    .await;
    setting(&case, "file");
    let back = run(&case, &server, bus, &["refresh", BASE_NETWORK]).await;
    assert_eq!(back.code, 0, "{}", back.stderr);
    let state =
        std::fs::read_to_string(case.aws().join("leverage-doctor/sso-session.json")).expect("kept");
    assert!(state.contains("LDFIXTURESECRET-rotated-3"), "{state}");
    assert!(!state.contains("secretsIn"), "{state}");
    let json = status_json(&run(&case, &server, None, &["status", "--format", "json"]).await);
    assert_eq!(
        json["token_store"], "file ~/.aws/bb/leverage-doctor/sso-session.json",
        "{json}"
    );
    // Nothing left in the store: with the file's copy gone, nothing renews.
    std::fs::remove_file(case.aws().join("leverage-doctor/sso-session.json")).expect("rm");
    std::fs::write(
        case.aws().join("leverage-doctor/sso-session.json"),
        state.replace("LDFIXTURESECRET-rotated-3", "").replace(
            "\"refreshToken\": \"\"",
            "\"refreshToken\": null, \"secretsIn\": \"keyring (Secret Service)\"",
        ),
    )
    .expect("state");
    token_expiring(&case, 5);
    let gone = run(&case, &server, bus, &["refresh", BASE_NETWORK]).await;
    assert_eq!(gone.code, 1, "{}", gone.stderr);
    assert!(
        gone.stderr
            .contains("the keyring (Secret Service) has no refresh token for this project"),
        "{}",
        gone.stderr
    );
    drop(service);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_secret_service_the_file_keeps_the_token() {
    let server = MockServer::start().await;
    portal(&server).await;
    refresh_grant(
        &server,
        "LDFIXTURESECRET-refresh-token",
        "LDFIXTURESECRET-renewed-1",
        "LDFIXTURESECRET-rotated-1",
    )
    .await;
    for (store, warns) in [("keyring", true), ("auto", false), ("file", false)] {
        let case = Case::new("v3-sso-healthy");
        setting(&case, store);
        token_expiring(&case, 10);
        kept_in_the_file(&case);
        let started = std::time::Instant::now();
        // No session bus in the environment (the machine's, if any, is not this test's).
        let r = run(&case, &server, None, &["refresh", BASE_NETWORK]).await;
        assert_eq!(r.code, 0, "{store}: {}", r.stderr);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{store}: no hang"
        );
        let warnings = r.stderr.matches("warning:").count();
        assert_eq!(warnings, usize::from(warns), "{store}: {}", r.stderr);
        if warns {
            assert!(
                r.stderr
                    .contains("the refresh token is kept in ~/.aws/bb/leverage-doctor/sso-session.json instead"),
                "{}",
                r.stderr
            );
        }
        assert!(!r.stderr.contains("LDFIXTURESECRET"), "{}", r.stderr);
        let state = std::fs::read_to_string(case.aws().join("leverage-doctor/sso-session.json"))
            .expect("kept");
        assert!(
            state.contains("LDFIXTURESECRET-rotated-1"),
            "{store}: {state}"
        );
        let json = status_json(&run(&case, &server, None, &["status", "--format", "json"]).await);
        assert_eq!(
            json["token_store"], "file ~/.aws/bb/leverage-doctor/sso-session.json",
            "{json}"
        );
    }
}

#[test]
fn a_token_store_setting_must_be_known() {
    let case = Case::new("v3-sso-healthy");
    setting(&case, "vault");
    let out = case
        .cmd("")
        .args(["check", "--offline", "--format", "json"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("`token-store` must be \\\"file\\\", \\\"keyring\\\" or \\\"auto\\\""),
        "{text}"
    );
    let env = case
        .cmd("")
        .env("LEVERAGE_DOCTOR_TOKEN_STORE", "vault")
        .args(["refresh", BASE_NETWORK])
        .output()
        .expect("run");
    assert_eq!(env.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&env.stderr)
            .contains("LEVERAGE_DOCTOR_TOKEN_STORE must be one of file, keyring, auto"),
        "{}",
        String::from_utf8_lossy(&env.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_bus_that_never_answers_costs_seconds_not_a_hang() {
    // A socket that takes connections and says nothing: the D-Bus handshake never ends.
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("bus");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).expect("bind");
    let address = format!("unix:path={}", socket.display());
    let server = MockServer::start().await;
    portal(&server).await;
    refresh_grant(
        &server,
        "LDFIXTURESECRET-refresh-token",
        "LDFIXTURESECRET-renewed-1",
        "LDFIXTURESECRET-rotated-1",
    )
    .await;
    let case = Case::new("v3-sso-healthy");
    token_expiring(&case, 10);
    kept_in_the_file(&case);
    let started = std::time::Instant::now();
    // `auto` with a bus to ask: the store is tried, given up on, and the file used.
    let r = run(&case, &server, Some(&address), &["refresh", BASE_NETWORK]).await;
    let took = started.elapsed();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(took < std::time::Duration::from_secs(15), "{took:?}");
    assert_eq!(r.stderr.matches("warning:").count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("did not answer within 3 s"),
        "{}",
        r.stderr
    );
    let state =
        std::fs::read_to_string(case.aws().join("leverage-doctor/sso-session.json")).expect("kept");
    assert!(state.contains("LDFIXTURESECRET-rotated-1"), "{state}");
}
