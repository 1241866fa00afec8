//! `status`: every credential session with its expiry, and `--min-remaining` as a gate.

use crate::support::{Case, check_json};

fn token_expiring_in(case: &Case, minutes: i64) {
    let at = (chrono::Utc::now() + chrono::Duration::minutes(minutes))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    std::fs::write(
        case.aws().join("sso/cache/token"),
        format!(r#"{{"startUrl":"https://bb-fixture.awsapps.com/start","region":"us-east-1","accessToken":"LDFIXTURESECRET-t","expiresAt":"{at}"}}"#),
    )
    .unwrap();
}

fn status(case: &Case, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = case
        .cmd("")
        .args(["status", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn min_remaining_gates_on_the_sessions_the_scope_needs() {
    let case = Case::new("sso-healthy");
    token_expiring_in(&case, 180);
    // Edges: just under what is left passes, just over fails.
    assert_eq!(status(&case, &["--min-remaining", "2h58m"]).0, 0);
    let (code, _, said) = status(&case, &["--min-remaining", "3h1m"]);
    assert_eq!(code, 1);
    assert!(
        said.contains("sso-token") && said.contains("left; --min-remaining asks for 3h 1m"),
        "{said}"
    );
    // Without a gate, status only reports.
    assert_eq!(status(&case, &[]).0, 0);
    // Expired, and missing: the gate fails.
    token_expiring_in(&case, -5);
    assert_eq!(status(&case, &["--min-remaining", "1m"]).0, 1);
    std::fs::remove_file(case.aws().join("sso/cache/token")).unwrap();
    let (code, json, said) = status(&case, &["--min-remaining", "1m"]);
    assert_eq!(code, 1, "{json:#}");
    assert!(said.contains("missing"), "{said}");
}

#[test]
fn every_session_kind_is_listed_with_the_interface_fields() {
    let case = Case::new("sso-healthy");
    token_expiring_in(&case, 120);
    // Leverage's cached role credentials (config `expiration`, ms) and the AWS CLI's token.
    let config = case.aws().join("config");
    let text = std::fs::read_to_string(&config).unwrap();
    let in_40m = (chrono::Utc::now() + chrono::Duration::minutes(40)).timestamp_millis();
    std::fs::write(
        &config,
        format!("{text}\n[profile bb-shared-devops]\nexpiration = {in_40m}\n"),
    )
    .unwrap();
    let cli_cache = case.home().join(".aws/sso/cache");
    std::fs::create_dir_all(&cli_cache).unwrap();
    std::fs::write(
        cli_cache.join(format!("{}.json", leverage_doctor::fix::reset::sha1_hex("https://bb-fixture.awsapps.com/start"))),
        r#"{"startUrl":"https://bb-fixture.awsapps.com/start","region":"us-east-1","accessToken":"LDFIXTURESECRET-cli","expiresAt":"2099-01-01T00:00:00Z","refreshToken":"LDFIXTURESECRET-r","clientId":"c","clientSecret":"LDFIXTURESECRET-s"}"#,
    )
    .unwrap();
    let (code, json, _) = status(&case, &[]);
    assert_eq!(code, 0);
    assert_eq!(json["version"], 1);
    assert_eq!(json["project"]["name"], "bb");
    let sessions = json["sessions"].as_array().unwrap();
    let kind = |k: &str| {
        sessions
            .iter()
            .find(|s| s["kind"] == k)
            .unwrap_or_else(|| panic!("no {k}: {json:#}"))
    };
    let token = kind("sso-token");
    assert_eq!(token["file"], "~/.aws/bb/sso/cache/token");
    assert!(token["remaining_s"].as_i64().unwrap() > 7000);
    assert_eq!(token["refreshable"], false);
    let role = kind("role-credentials");
    assert_eq!(role["profile"], "bb-shared-devops");
    assert!(
        (2300..=2400).contains(&role["remaining_s"].as_i64().unwrap()),
        "{role}"
    );
    let cli = kind("aws-cli-sso-token");
    assert_eq!(cli["refreshable"], true);
    assert!(!json.to_string().contains("LDFIXTURESECRET"));
    // check shows when each profile's credentials expire.
    let (_, report) = check_json(
        case.cmd("shared/us-east-1/base-network")
            .args(["check", "--offline"]),
    );
    let row = report["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "bb-shared-devops")
        .unwrap();
    let expected = chrono::DateTime::from_timestamp_millis(in_40m)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    assert_eq!(row["expires_at"], expected.as_str());
}

/// Colour goes through the table, which counts only what is visible: every row of the status
/// table is as wide as its border, with colour on as off.
#[test]
fn the_coloured_status_table_stays_aligned() {
    let case = Case::new("sso-healthy");
    token_expiring_in(&case, 30);
    for colour in ["always", "never"] {
        let out = case
            .cmd("shared")
            .args(["status", "--color", colour])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let plain = strip_sgr(&text);
        assert_eq!(colour == "always", plain != text, "{text}");
        let widths: std::collections::BTreeSet<usize> = plain
            .lines()
            .filter(|l| l.starts_with(['│', '┌', '└', '╞']))
            .map(|l| l.chars().count())
            .collect();
        assert_eq!(widths.len(), 1, "colour {colour}:\n{plain}");
    }
}

fn strip_sgr(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\x1b[") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 2..];
        let end = tail.find('m').map_or(tail.len(), |i| i + 1);
        rest = &tail[end..];
    }
    out + rest
}

/// The status table wraps its cells to the terminal (`COLUMNS`): no line wider than 60 there;
/// piped without it, rows are as wide as their content.
#[test]
fn the_status_table_fits_the_terminal() {
    let case = Case::new("sso-healthy");
    token_expiring_in(&case, 30);
    let run = |columns: Option<&str>| {
        let mut cmd = case.cmd("shared");
        if let Some(c) = columns {
            cmd.env("COLUMNS", c);
        }
        let out = cmd.args(["status", "--color", "never"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let widest = |text: &str| text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let wide = run(None);
    assert!(widest(&wide) > 60, "{wide}");
    let narrow = run(Some("60"));
    assert!(
        narrow
            .lines()
            .filter(|l| l.starts_with(['│', '┌', '└', '╞']))
            .all(|l| l.chars().count() <= 60),
        "{narrow}"
    );
}

/// A token file that is there but has no expiry the readers can parse is not "missing"; one
/// that is not there is.
#[test]
fn a_present_file_without_an_expiry_is_not_called_missing() {
    let case = Case::new("sso-healthy");
    let token = case.aws().join("sso/cache/token");
    let table = |case: &Case| {
        let out = case
            .cmd("")
            .args(["status", "--color", "never"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    std::fs::write(&token, "{\"accessToken\": \"x\"}").unwrap();
    let text = table(&case);
    let row = text
        .lines()
        .find(|l| l.contains("sso-token"))
        .unwrap_or_default();
    assert!(row.contains("no readable expiry"), "{text}");
    std::fs::remove_file(&token).unwrap();
    let text = table(&case);
    let row = text
        .lines()
        .find(|l| l.contains("sso-token"))
        .unwrap_or_default();
    assert!(row.contains("missing"), "{text}");
}

/// Role credentials Leverage wrote for `name`, lasting `minutes`.
fn role_credentials_expiring_in(case: &Case, name: &str, minutes: i64) {
    use std::io::Write;
    let ms = (chrono::Utc::now() + chrono::Duration::minutes(minutes)).timestamp_millis();
    let mut config = std::fs::OpenOptions::new()
        .append(true)
        .open(case.aws().join("config"))
        .unwrap();
    write!(config, "\n[profile {name}]\nexpiration = {ms}\n").unwrap();
    std::fs::write(
        case.aws().join("credentials"),
        format!(
            "[{name}]\naws_access_key_id = ASIAROLEROLEROLE0001\naws_secret_access_key = LDFIXTURESECRET-s\naws_session_token = LDFIXTURESECRET-t\n"
        ),
    )
    .unwrap();
}

/// The token lasts, a role credential the scope's runs use does not: the gate fails on it too,
/// as Terraform keeps the keys it started with for the whole apply.
#[test]
fn min_remaining_gates_on_the_role_credentials_the_scope_uses() {
    let case = Case::new("v3-sso-healthy");
    token_expiring_in(&case, 600);
    role_credentials_expiring_in(&case, "bb-shared-devops", 40);
    let at = |args: &[&str]| {
        let out = case
            .cmd("shared/us-east-1/base-network")
            .args(["status", "--format", "json"])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(at(&["--min-remaining", "30m"]).0, 0);
    let (code, said) = at(&["--min-remaining", "1h"]);
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains("role-credentials `bb-shared-devops`")
            && said.contains("--min-remaining asks for 1h"),
        "{said}"
    );
    assert!(!said.contains("LDFIXTURESECRET"), "{said}");
    // Role credentials no run of the scope uses do not gate it.
    let other = Case::new("v3-sso-healthy");
    token_expiring_in(&other, 600);
    role_credentials_expiring_in(&other, "bb-nowhere-devops", 5);
    let out = other
        .cmd("shared/us-east-1/base-network")
        .args(["status", "--min-remaining", "1h"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
