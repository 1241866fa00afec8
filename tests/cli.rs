//! Exit codes, arguments, explain, colours, the environment rule.

use crate::support::{Case, check_json, diags, doctor, rules_of};
use predicates::prelude::*;

#[test]
fn explain_prints_the_rule_page() {
    doctor()
        .args(["explain", "LD102"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("LD102 profile-missing\n"))
        .stdout(predicate::str::contains("\nHow to fix\n"));
    doctor()
        .args(["explain", "ld202"])
        .assert()
        .success()
        .stdout(predicate::str::contains("duplicate-section"));
}

#[test]
fn explain_without_id_lists_every_rule() {
    let out = doctor()
        .arg("explain")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), leverage_doctor::rules::RULES.len());
}

#[test]
fn explain_unknown_rule_exits_2_with_one_line() {
    doctor()
        .args(["explain", "LD999"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no rule `LD999`"));
}

#[test]
fn bad_arguments_exit_2() {
    doctor()
        .args(["check", "--format", "yaml"])
        .assert()
        .code(2);
    doctor().arg("frobnicate").assert().code(2);
}

#[test]
fn missing_path_exits_2_with_a_clear_line() {
    let out = doctor()
        .args(["check", "/nonexistent/leverage/project"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("/nonexistent/leverage/project: not found"),
        "{err}"
    );
}

#[test]
fn a_folder_outside_any_project_is_ld001() {
    let dir = tempfile::tempdir().unwrap();
    let (code, report) = check_json(
        doctor()
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .args(["check", "--offline"]),
    );
    assert_eq!(code, 1);
    assert_eq!(rules_of(&report), ["LD001"]);
    assert!(report["project"].is_null());
}

#[test]
fn human_report_shows_source_line_marker_and_fix_without_colour_when_piped() {
    let case = Case::new("broken-iam");
    let out = case
        .cmd("shared/us-east-1/base-network")
        .args(["check", "--offline"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains('\x1b'), "no colour when not a terminal");
    assert!(text.contains("error[LD102]: profile `bb-apps-prd-devop` is not defined in ~/.aws/bb"));
    // Run in the layer: its files are named from there (INTERFACE.md), AWS files with `~`.
    assert!(text.contains("  --> config.tf:15:13"), "{text}");
    assert!(text.contains("15 |   profile = \"bb-apps-prd-devop\""));
    assert!(text.contains("   |             ^^^^^^^^^^^^^^^^^^^ used here"));
    assert!(text.contains("= help: did you mean `bb-apps-prd-devops`?"));
    assert!(text.contains("┆ referenced at"), "profiles table");
    assert!(text.contains("failed: project `bb` (iam-mfa), layer `shared/us-east-1/base-network`"));
}

#[test]
fn colour_always_and_no_color() {
    let case = Case::new("broken-iam");
    case.cmd("")
        .args(["check", "--offline", "--color", "always"])
        .assert()
        .stdout(predicate::str::contains("\x1b[1;31merror[LD"));
    case.cmd("")
        .env("NO_COLOR", "1")
        .args(["check", "--offline"])
        .assert()
        .stdout(predicate::str::contains('\x1b').not());
}

#[test]
fn fail_on_warning_and_quiet() {
    let case = Case::new("sso-healthy");
    case.cmd("apps-devstg/us-east-1/k8s-eks/cluster")
        .args(["check", "--offline", "--fail-on", "info"])
        .assert()
        .code(1);
    case.cmd("")
        .args(["check", "--offline", "--fail-on", "warning"])
        .assert()
        .code(0);
    let out = case
        .cmd("")
        .args(["check", "--offline", "-q"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text.lines().count(),
        1,
        "quiet prints only the summary: {text}"
    );
}

#[test]
fn environment_overrides_are_ld403_and_keys_are_masked() {
    let case = Case::new("sso-healthy");
    let (code, report) = check_json(
        case.cmd("")
            .env("AWS_ACCESS_KEY_ID", "AKIALDFIXTURESECRET9")
            .env("AWS_PROFILE", "a")
            .env("AWS_DEFAULT_PROFILE", "b")
            .env("AWS_CONFIG_FILE", "/elsewhere/config")
            .args(["check", "--offline"]),
    );
    assert_eq!(code, 0, "warnings only");
    let ld403: Vec<_> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "LD403")
        .collect();
    assert_eq!(ld403.len(), 3, "{ld403:#?}");
    let text = report.to_string();
    assert!(text.contains("AKIA…"));
    assert!(!text.contains("LDFIXTURESECRET"));
}

#[test]
fn aws_dir_overrides_home() {
    let case = Case::new("sso-healthy");
    let elsewhere = tempfile::tempdir().unwrap();
    crate::support::copy_dir(&case.aws(), elsewhere.path());
    std::fs::remove_dir_all(case.aws()).unwrap();
    let (code, _) = check_json(
        case.cmd("")
            .args(["check", "--offline", "--aws-dir"])
            .arg(elsewhere.path()),
    );
    assert_eq!(code, 0);
    let (code, report) = check_json(case.cmd("").args(["check", "--offline"]));
    assert_eq!(code, 1);
    assert!(rules_of(&report).contains(&"LD201".to_string()));
}

#[test]
fn sso_token_close_to_expiry_is_a_warning() {
    let case = Case::new("sso-healthy");
    let soon = chrono::Utc::now() + chrono::Duration::minutes(10);
    std::fs::write(
        case.aws().join("sso/cache/token"),
        format!(
            r#"{{"accessToken":"LDFIXTURESECRET","expiresAt":"{}","region":"us-east-1"}}"#,
            soon.format("%Y-%m-%dT%H:%M:%SZ")
        ),
    )
    .unwrap();
    let (code, report) = check_json(case.cmd("").args(["check", "--offline"]));
    assert_eq!(code, 0);
    let d = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "LD502")
        .expect("LD502");
    assert_eq!(d["severity"], "warning");
    assert!(d["message"].as_str().unwrap().contains("expires in"));
}

/// Environment settings that change what Terraform does: regions that disagree, a CA bundle
/// that is not there, a proxy that is not a URL (user info allowed), FIPS endpoints.
#[test]
fn environment_settings_that_change_terraform_are_said() {
    let case = Case::new("sso-healthy");
    let messages = |env: &[(&str, &str)]| -> Vec<String> {
        let mut cmd = case.cmd("");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let (_, report) = check_json(cmd.args(["check", "--offline"]));
        diags(&report, "LD403")
            .iter()
            .map(|d| d["message"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let m = messages(&[
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
    ]);
    assert!(
        m.iter()
            .any(|m| m.contains("AWS_REGION is `us-east-1` but AWS_DEFAULT_REGION is `eu-west-1`")),
        "{m:?}"
    );
    assert!(
        messages(&[
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "us-east-1")
        ])
        .is_empty()
    );
    let m = messages(&[("AWS_CA_BUNDLE", "/nonexistent/ca.pem")]);
    assert!(
        m.iter()
            .any(|m| m.contains("AWS_CA_BUNDLE points to `/nonexistent/ca.pem`")),
        "{m:?}"
    );
    let m = messages(&[("HTTPS_PROXY", "proxy.corp:3128")]);
    assert!(m.iter().any(|m| m.contains("not a proxy URL")), "{m:?}");
    assert!(messages(&[("HTTPS_PROXY", "http://user:LDFIXTURESECRET@proxy.corp:3128")]).is_empty());
    let m = messages(&[("AWS_USE_FIPS_ENDPOINT", "true")]);
    assert!(m.iter().any(|m| m.contains("FIPS")), "{m:?}");
}

/// The profiles table fits the terminal (`COLUMNS`): at 80 columns no line of it is wider,
/// and a table too wide turns into one line a profile with its places under it, every place
/// kept; wide enough, it is the table.
#[test]
fn the_profiles_table_fits_the_terminal() {
    let case = Case::new("broken-iam");
    let run = |columns: &str| {
        let out = case
            .cmd("")
            .env("COLUMNS", columns)
            .args(["check", "--offline", "--color", "never"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let narrow = run("80");
    let table_part = narrow
        .split_once("\nprofile ")
        .and_then(|(_, t)| t.split_once("\n\n"))
        .map(|(t, _)| t)
        .expect("the narrow form");
    assert!(
        table_part.lines().all(|l| l.chars().count() <= 80),
        "{narrow}"
    );
    for place in [
        "    shared/us-east-1/base-network/config.tf:9",
        "    shared/us-east-1/base-network/config.tf:36",
        "    apps-prd/config/backend.tfvars:1",
    ] {
        assert!(
            table_part.contains(&format!("{place}\n")),
            "{place}: {narrow}"
        );
    }
    let wide = run("250");
    assert!(wide.contains("┆ referenced at"), "{wide}");
    assert!(!run("250").contains("\nprofile "));
}

/// Each subcommand takes only the options it uses: a format it cannot produce, or an option it
/// would ignore, is refused (exit 2) with the parser's one-line reason; `explain` gives JSON.
#[test]
fn subcommands_refuse_options_they_do_not_use() {
    for args in [
        &["status", "--format", "sarif"][..],
        &["explain", "--format", "sarif"],
        &["man", "--format", "json"],
        &["man", "--aws-dir", "x"],
        &["explain", "LD102", "--quiet"],
        &["sso-login", "--format", "json"],
        &["completions", "bash", "--color", "always"],
    ] {
        let out = doctor().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("invalid value") || err.contains("unexpected argument"),
            "{args:?}: {err}"
        );
    }
    let out = doctor()
        .args(["explain", "LD102", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let page: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(page["id"], "LD102");
    assert_eq!(page["severity"], "error");
    assert!(page["page"].as_str().unwrap().starts_with("# LD102"));
    let out = doctor()
        .args(["explain", "--format", "json"])
        .output()
        .unwrap();
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        all.as_array().unwrap().len(),
        leverage_doctor::rules::RULES.len()
    );
}

/// A profile many layers name shows a few of its places and counts the rest (the reference
/// architecture's missing profiles filled ~2 000 lines); `-v` and JSON keep every place.
#[test]
fn a_finding_shows_a_few_places_and_counts_the_rest() {
    let case = Case::new("broken-iam");
    for i in 0..6 {
        let layer = case.project().join(format!("shared/us-east-1/extra-{i}"));
        std::fs::create_dir_all(&layer).unwrap();
        std::fs::write(
            layer.join("config.tf"),
            "provider \"aws\" {\n  region  = var.region\n  profile = \"${var.project}-nowhere-devops\"\n}\n",
        )
        .unwrap();
    }
    let run = |extra: &[&str]| {
        let out = case
            .cmd("")
            .args([
                "check",
                "--all",
                "--offline",
                "--color",
                "never",
                "--select",
                "LD102",
            ])
            .args(extra)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let block = |text: &str| {
        text.split("\n\n")
            .find(|b| b.contains("`bb-nowhere-devops`"))
            .unwrap_or_else(|| panic!("{text}"))
            .to_string()
    };
    let short = block(&run(&[]));
    assert_eq!(short.matches("- also used here").count(), 3, "{short}");
    assert!(
        short.contains("= 2 more (also used here; -v lists them)"),
        "{short}"
    );
    let long = block(&run(&["-v"]));
    assert_eq!(long.matches("- also used here").count(), 5, "{long}");
    assert!(!long.contains("more (also used here"), "{long}");
    let (_, report) =
        check_json(
            case.cmd("")
                .args(["check", "--all", "--offline", "--select", "LD102"]),
        );
    let d = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["message"]
                .as_str()
                .unwrap_or("")
                .contains("bb-nowhere-devops")
        })
        .unwrap();
    // five other places and where the near name is defined
    assert_eq!(d["related"].as_array().unwrap().len(), 6);
}
