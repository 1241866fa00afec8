//! regen-config at organisation scale: a portal with hundreds of accounts, awkward names and a
//! rate limit (429 TooManyRequestsException past N requests a second), the default scope
//! (common.tfvars accounts, by id), `--role`, and `--check` as a drift gate.

use crate::support::{Case, Run, run_with_sso_server};
use wiremock::MockServer;

#[path = "../examples/support/rate_limited_portal.rs"]
mod rate_limited_portal;
use rate_limited_portal::{Portal, accounts, serve};

async fn regen(case: &Case, server: &MockServer, args: &[&str]) -> Run {
    let args: Vec<&str> = std::iter::once("regen-config")
        .chain(args.iter().copied())
        .collect();
    run_with_sso_server(case, server.uri(), &args).await
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_accounts_through_a_throttling_portal_without_a_failure() {
    let portal = Portal::new(accounts(200), 100);
    let server = serve(&portal).await;
    let case = Case::new("sso-healthy");
    // Asking faster than the portal holds: the shared limit plus back-off must absorb the 429s.
    let run = regen(
        &case,
        &server,
        &[
            "--sso",
            "--all-accounts",
            "--yes",
            "--rate",
            "150",
            "--jobs",
            "8",
        ],
    )
    .await;
    assert!(run.code <= 1, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("error:"), "{}", run.stderr);
    let config = std::fs::read_to_string(case.aws().join("config")).unwrap();
    let sections = config.matches("[profile bb-sso-").count();
    assert_eq!(sections, 203, "every account written once");
    assert!(
        config.contains("[profile bb-sso-data-lake-0]"),
        "names made valid"
    );
    assert!(config.contains("[profile bb-sso-ops-eu-1]"), "{config}");
    assert!(
        config.contains("[profile bb-sso-prod-payments-3]"),
        "{config}"
    );
    assert!(config.contains("[profile bb-sso-qa-staging-4]"), "{config}");
    // The summary is a block, not a line per account.
    assert!(run.stderr.lines().count() < 30, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("200 accounts visible to you but not declared"),
        "{}",
        run.stderr
    );
    let throttled = *portal.throttled.lock().unwrap();
    if throttled > 0 {
        assert!(run.stderr.contains("were retried"), "{}", run.stderr);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn by_default_only_the_projects_accounts_are_listed_and_written() {
    let portal = Portal::new(accounts(30), 1000);
    let server = serve(&portal).await;
    let case = Case::new("sso-healthy");
    let run = regen(&case, &server, &["--sso", "--yes"]).await;
    assert!(run.code <= 1, "{}", run.stderr);
    let asked = portal.roles_asked.lock().unwrap().clone();
    let mut ids: Vec<&String> = asked.keys().collect();
    ids.sort();
    assert_eq!(
        ids,
        ["111111111111", "222222222222", "333333333333"],
        "roles listed only for declared ids"
    );
    let config = std::fs::read_to_string(case.aws().join("config")).unwrap();
    assert_eq!(config.matches("[profile bb-sso-").count(), 3, "{config}");
    assert!(
        run.stderr.contains(
            "30 visible accounts not in common.tfvars, not written (--all-accounts writes them)"
        ),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn role_picks_the_role_everywhere_and_fallbacks_are_said() {
    let portal = Portal::new(accounts(8), 1000);
    let server = serve(&portal).await;
    let case = Case::new("sso-healthy");
    let run = regen(
        &case,
        &server,
        &["--sso", "--yes", "--all-accounts", "--role", "DevOps"],
    )
    .await;
    assert!(run.code <= 1, "{}", run.stderr);
    let config = std::fs::read_to_string(case.aws().join("config")).unwrap();
    let role_of = |profile: &str| {
        config
            .split(&format!("[profile {profile}]"))
            .nth(1)
            .and_then(|s| s.lines().find(|l| l.starts_with("role_name = ")))
            .map(str::to_string)
    };
    assert_eq!(
        role_of("bb-sso-sandbox-2").as_deref(),
        Some("role_name = DevOps")
    );
    // 400000000003 (n % 4 == 3) has only ReadOnly: it falls back, and says so.
    assert_eq!(
        role_of("bb-sso-sandbox-7").as_deref(),
        Some("role_name = ReadOnly"),
        "{config}"
    );
    assert!(
        run.stderr.contains("lack the role asked for"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("sandbox-7 (no `DevOps`: `ReadOnly`)"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_is_a_drift_gate_that_writes_nothing() {
    let portal = Portal::new(accounts(0), 1000);
    let server = serve(&portal).await;
    let case = Case::new("sso-healthy");
    let config = case.aws().join("config");
    // Drift: a role changed by hand.
    let drifted = std::fs::read_to_string(&config).unwrap().replacen(
        "\nrole_name = DevOps",
        "\nrole_name = Admin",
        1,
    );
    std::fs::write(&config, &drifted).unwrap();
    let run = regen(&case, &server, &["--sso", "--check"]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("-role_name = Admin\n+role_name = DevOps"),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        drifted,
        "nothing written"
    );
    let json = regen(&case, &server, &["--sso", "--check", "--format", "json"]).await;
    assert_eq!(json.code, 1);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect(&json.stdout);
    assert_eq!(report["differs"], true);
    assert_eq!(
        report["sections"]["changed"],
        serde_json::json!(["profile bb-sso-management"])
    );
    // After a regen, no drift.
    let run = regen(&case, &server, &["--sso", "--yes"]).await;
    assert!(run.code <= 1, "{}", run.stderr);
    let run = regen(&case, &server, &["--sso", "--check", "--format", "json"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect(&run.stdout);
    assert_eq!(report["differs"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_from_another_organisation_lists_nothing() {
    let portal = Portal::new(accounts(3), 1000);
    let server = serve(&portal).await;
    let case = Case::new("sso-healthy");
    std::fs::write(
        case.aws().join("sso/cache/token"),
        r#"{"startUrl": "https://other-org.awsapps.com/start", "region": "us-east-1", "accessToken": "LDFIXTURESECRET-other", "expiresAt": "2099-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    let before = std::fs::read_to_string(case.aws().join("config")).unwrap();
    let run = regen(&case, &server, &["--sso", "--yes"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("was issued for `https://other-org.awsapps.com/start`"),
        "{}",
        run.stderr
    );
    assert!(
        portal.roles_asked.lock().unwrap().is_empty() && portal.window.lock().unwrap().is_empty(),
        "no portal call"
    );
    assert_eq!(
        std::fs::read_to_string(case.aws().join("config")).unwrap(),
        before
    );
}
