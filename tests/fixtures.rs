//! Whole-project cases: each `fixtures/<case>/expected/<scope>.txt` lists exactly what
//! `check --offline` reports when run in that scope (`root`, or a path with `/` written `__`).
//! `UPDATE_EXPECT=1 cargo test` rewrites them after a deliberate change.

use crate::support::{Case, check_json, findings, fixtures_dir};

fn scopes() -> Vec<(String, String, std::path::PathBuf)> {
    let mut out = Vec::new();
    for fixture in std::fs::read_dir(fixtures_dir()).expect("fixtures") {
        let fixture = fixture.expect("entry").path();
        let Ok(expected) = std::fs::read_dir(fixture.join("expected")) else {
            continue;
        };
        for file in expected {
            let file = file.expect("entry").path();
            let scope = file.file_stem().unwrap().to_string_lossy().to_string();
            let case = fixture.file_name().unwrap().to_string_lossy().to_string();
            out.push((case, scope, file));
        }
    }
    out.sort();
    out
}

#[test]
fn every_fixture_reports_exactly_what_it_expects() {
    let scopes = scopes();
    assert!(scopes.len() >= 10, "expected files missing: {scopes:?}");
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    for (case_name, scope, file) in scopes {
        let case = Case::new(&case_name);
        let rel = if scope == "root" {
            String::new()
        } else {
            scope.replace("__", "/")
        };
        let (code, report) = check_json(case.cmd(&rel).args(["check", "--offline"]));
        let mut got = findings(&report);
        got.insert(0, format!("exit {code}"));
        let got = got.join("\n") + "\n";
        if update {
            std::fs::write(&file, &got).expect("write expected");
            continue;
        }
        let want = std::fs::read_to_string(&file).expect("read expected");
        if got != want {
            failures.push(format!(
                "{case_name} [{scope}]\n--- want\n{want}--- got\n{got}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn healthy_fixtures_report_no_errors_or_warnings_in_every_scope() {
    for (case_name, scopes) in [
        (
            "sso-healthy",
            &[
                "",
                "shared",
                "shared/us-east-1/base-network",
                "apps-devstg/us-east-1/k8s-eks/cluster",
            ][..],
        ),
        (
            "iam-mfa-healthy",
            &["", "shared", "security/global/base-identities"][..],
        ),
        (
            "v3-sso-healthy",
            &[
                "",
                "shared/us-east-1/base-network",
                "apps-devstg/us-east-1/k8s-eks/cluster",
            ][..],
        ),
        (
            "v3-iam-healthy",
            &[
                "",
                "shared/us-east-1/base-network",
                "security/global/base-identities",
            ][..],
        ),
    ] {
        let case = Case::new(case_name);
        for rel in scopes {
            let (code, report) = check_json(case.cmd(rel).args(["check", "--offline"]));
            assert_eq!(code, 0, "{case_name} {rel}: {report:#}");
            assert_eq!(report["summary"]["errors"], 0, "{case_name} {rel}");
            let unexpected: Vec<_> = report["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["severity"] != "info")
                .collect();
            assert!(unexpected.is_empty(), "{case_name} {rel}: {unexpected:#?}");
        }
    }
}

/// A new user's clean examples: git checks the AWS files out 0644, so the first check warns
/// (LD208, and nothing else new); the README's `check --fix --yes` sets 0600 and the check
/// then reports exactly what `expected/` says.
#[test]
fn clean_examples_from_a_fresh_clone_are_clean_after_check_fix() {
    for name in [
        "sso-healthy",
        "iam-mfa-healthy",
        "v3-sso-healthy",
        "v3-iam-healthy",
    ] {
        let case = Case::as_cloned(name);
        let want = std::fs::read_to_string(fixtures_dir().join(name).join("expected/root.txt"))
            .expect("expected/root.txt");
        let (code, report) = check_json(case.cmd("").args(["check", "--offline"]));
        let got = findings(&report);
        let extra: Vec<_> = got.iter().filter(|l| !want.contains(l.as_str())).collect();
        assert!(
            !extra.is_empty() && extra.iter().all(|l| l.starts_with("LD208 warning")),
            "{name} as cloned: {got:?}"
        );
        assert_eq!(code, 0, "{name}: a warning alone does not fail the check");
        let out = case
            .cmd("")
            .env("CI", "true")
            .args(["check", "--offline", "--fix", "--yes"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {out:?}");
        let (code, report) = check_json(case.cmd("").args(["check", "--offline"]));
        let mut got = findings(&report);
        got.insert(0, format!("exit {code}"));
        assert_eq!(
            got.join("\n") + "\n",
            want,
            "{name} after check --fix --yes"
        );
    }
}

/// Every rule LD001–LD505 is triggered by some fixture (LD001 and LD403 by the CLI tests,
/// which need no project or an environment variable; LD009 by tests/hostile.rs, whose
/// path-like project name would make a fixture folder unsafe to copy around).
#[test]
fn fixtures_cover_every_offline_rule() {
    let mut seen = std::collections::BTreeSet::new();
    for (_, _, file) in scopes() {
        let text = std::fs::read_to_string(file).unwrap();
        for line in text.lines().skip(1) {
            seen.insert(line.split(' ').next().unwrap().to_string());
        }
    }
    seen.insert("LD001".into());
    seen.insert("LD403".into());
    seen.insert("LD009".into());
    // LD311 (login_session) by tests/failures.rs, live and offline.
    seen.insert("LD311".into());
    // LD312 (Terraform too old for sso_session) by tests/generations.rs, per version source.
    seen.insert("LD312".into());
    let missing: Vec<_> = leverage_doctor::rules::RULES
        .iter()
        .map(|r| r.id)
        .filter(|id| *id < "LD600" && !seen.contains(*id))
        .collect();
    assert!(missing.is_empty(), "rules no fixture triggers: {missing:?}");
}

#[test]
fn json_report_has_the_interface_shape() {
    let case = Case::new("broken-iam");
    let (code, r) = check_json(case.cmd("shared").args(["check", "--offline"]));
    assert_eq!(code, 1);
    assert_eq!(r["version"], 2);
    assert_eq!(r["tool"]["name"], "leverage-doctor");
    assert_eq!(r["project"]["name"], "bb");
    assert_eq!(r["project"]["mode"], "iam-mfa");
    assert_eq!(r["project"]["aws_dir"], "~/.aws/bb");
    assert_eq!(r["scope"]["kind"], "account");
    assert_eq!(r["scope"]["path"], "shared");
    let profile = r["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "bb-apps-prd-devop")
        .expect("profile row");
    assert_eq!(
        profile["referenced_by"][0]["file"],
        "shared/us-east-1/base-network/config.tf"
    );
    assert_eq!(profile["referenced_by"][0]["line"], 15);
    assert_eq!(profile["live"]["status"], "skipped");
    let d = r["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "LD102")
        .expect("LD102");
    assert_eq!(d["name"], "profile-missing");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["profile"], "bb-apps-prd-devop");
    assert_eq!(d["column"], 13);
    assert!(
        d["help"]
            .as_str()
            .unwrap()
            .contains("did you mean `bb-apps-prd-devops`")
    );
    // The reference is what is misspelt: the fix names the profile that exists (it used to
    // propose adding the misspelt one).
    assert_eq!(
        d["fix"]["text"],
        "profile = \"bb-apps-prd-devops\"   # instead of \"bb-apps-prd-devop\""
    );
    // The fix as data (schema version 2): a rename `--unsafe-fixes` applies, at the quoted
    // name's exact range (line 15, columns 13 to 32, end exclusive).
    assert_eq!(d["fix"]["applicability"], "unsafe");
    assert_eq!(d["fix"]["command"], serde_json::Value::Null);
    assert_eq!(
        d["fix"]["edits"],
        serde_json::json!([{
            "file": "shared/us-east-1/base-network/config.tf",
            "start": {"line": 15, "column": 13},
            "end": {"line": 15, "column": 32},
            "replacement": "\"bb-apps-prd-devops\"",
        }])
    );
    // A fix for a person names its command; it has no edits.
    let manual = r["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["fix"]["applicability"] == "manual" && !d["fix"]["command"].is_null())
        .expect("a manual fix with a command");
    assert_eq!(manual["fix"]["edits"], serde_json::json!([]));
    assert!(
        manual["fix"]["text"]
            .as_str()
            .unwrap()
            .starts_with(manual["fix"]["command"].as_str().unwrap()),
        "{manual:#}"
    );
    assert_eq!(d["related"][0]["file"], "~/.aws/bb/config");
    for key in ["errors", "warnings", "infos", "profiles", "live_ok"] {
        assert!(r["summary"][key].is_u64(), "summary.{key}");
    }
    let dup = r["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "LD203")
        .unwrap();
    assert_eq!(dup["line"], 10);
    assert_eq!(dup["related"][0]["line"], 6);
}
