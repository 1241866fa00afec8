//! CI preflight: --all, SARIF / GitHub / JUnit output, settings file, --output, completions, man.

use crate::support::{Case, check_json, doctor, findings, rules_of};

fn stdout(cmd: &mut assert_cmd::Command) -> (i32, String) {
    let out = cmd.output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn sarif_is_valid_and_ties_results_to_rules() {
    let case = Case::new("broken-iam");
    let (code, text) = stdout(
        case.cmd("")
            .args(["check", "--offline", "--format", "sarif"]),
    );
    assert_eq!(code, 1);
    let sarif: serde_sarif::sarif::Sarif = serde_json::from_str(&text).expect("SARIF parses");
    assert_eq!(sarif.version, serde_json::json!("2.1.0"));
    assert_eq!(sarif.runs.len(), 1);
    let run = &sarif.runs[0];
    assert_eq!(run.tool.driver.name, "leverage-doctor");
    let rules = run.tool.driver.rules.as_ref().expect("rules");
    assert_eq!(rules.len(), leverage_doctor::rules::RULES.len());
    assert!(
        rules
            .iter()
            .all(|r| r.short_description.is_some() && r.help.is_some())
    );
    let results = run.results.as_ref().expect("results");
    let (_, json) = check_json(case.cmd("").args(["check", "--offline"]));
    assert_eq!(results.len(), json["diagnostics"].as_array().unwrap().len());
    for r in results {
        let id = r.rule_id.as_deref().expect("ruleId");
        let index = r.rule_index.expect("ruleIndex") as usize;
        assert_eq!(rules[index].id, id);
        let loc = &r.locations.as_ref().expect("locations")[0];
        let artifact = loc
            .physical_location
            .as_ref()
            .unwrap()
            .artifact_location
            .as_ref()
            .unwrap();
        let uri = artifact.uri.as_deref().unwrap();
        assert!(
            !uri.starts_with('/'),
            "relative to the project root or HOME: {uri}"
        );
    }
    let ld102 = results
        .iter()
        .find(|r| r.rule_id.as_deref() == Some("LD102"))
        .unwrap();
    let region = ld102.locations.as_ref().unwrap()[0]
        .physical_location
        .as_ref()
        .unwrap()
        .region
        .as_ref()
        .unwrap();
    assert_eq!(region.start_line, Some(15));
    assert!(!text.contains("LDFIXTURESECRET"));
}

#[test]
fn github_lines_follow_the_workflow_command_grammar() {
    let case = Case::new("broken-iam");
    let (code, text) = stdout(
        case.cmd("")
            .args(["check", "--offline", "--format", "github"]),
    );
    assert_eq!(code, 1);
    let (_, json) = check_json(case.cmd("").args(["check", "--offline"]));
    assert_eq!(
        text.lines().count(),
        json["diagnostics"].as_array().unwrap().len()
    );
    for line in text.lines() {
        let (command, rest) = line
            .strip_prefix("::")
            .and_then(|l| l.split_once(' '))
            .expect(line);
        assert!(["error", "warning", "notice"].contains(&command), "{line}");
        let (props, message) = rest.split_once("::").expect(line);
        assert!(!message.is_empty());
        for prop in props.split(',') {
            let (key, value) = prop.split_once('=').expect(prop);
            assert!(["file", "line", "col", "title"].contains(&key), "{prop}");
            if key == "line" || key == "col" {
                value.parse::<u32>().expect(prop);
            }
            assert!(!value.contains(':') && !value.contains(','), "{prop}");
        }
        assert!(props.contains("title=LD"), "{line}");
    }
    assert!(text.contains("::error file=shared/us-east-1/base-network/config.tf,line=15,col=13,title=LD102 profile-missing::profile `bb-apps-prd-devop`"));
}

#[test]
fn junit_parses_with_the_expected_counts() {
    let case = Case::new("broken-iam");
    let (code, text) = stdout(
        case.cmd("")
            .args(["check", "--offline", "--format", "junit"]),
    );
    assert_eq!(code, 1);
    let doc = roxmltree::Document::parse(&text).expect("JUnit XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let cases: Vec<_> = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let failures = root
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .count();
    assert_eq!(
        root.attribute("tests"),
        Some(cases.len().to_string().as_str())
    );
    assert_eq!(
        root.attribute("failures"),
        Some(failures.to_string().as_str())
    );
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|n| n.attribute("name").unwrap())
        .collect();
    assert_eq!(
        suites,
        [
            "apps-prd/us-east-1/app",
            "project",
            "shared/us-east-1/base-network",
            "shared/us-east-1/broken-layer"
        ]
    );
    let (_, json) = check_json(case.cmd("").args(["check", "--offline"]));
    // A case per checked profile (per layer that uses it) and per rule that fired (per suite).
    let profile_cases = cases
        .iter()
        .filter(|c| c.attribute("name").unwrap().starts_with("profile "))
        .count();
    assert!(profile_cases >= json["profiles"].as_array().unwrap().len());
    let mut fired = rules_of(&json);
    fired.sort();
    for rule in fired {
        assert!(
            cases.iter().any(|c| c
                .attribute("name")
                .unwrap()
                .starts_with(&format!("{rule} "))),
            "{rule}"
        );
    }
}

#[test]
fn all_from_a_layer_covers_every_layer_once() {
    let case = Case::new("broken-iam");
    let (_, root) = check_json(case.cmd("").args(["check", "--offline"]));
    let (code, all) =
        check_json(
            case.cmd("apps-prd/us-east-1/app")
                .args(["check", "--offline", "--all"]),
        );
    assert_eq!(code, 1);
    assert_eq!(all["scope"]["kind"], "project");
    let got = findings(&all);
    assert_eq!(got, findings(&root));
    let mut dedup = got.clone();
    dedup.dedup();
    assert_eq!(dedup, got, "no finding reported twice");
    let (_, layer) = check_json(
        case.cmd("apps-prd/us-east-1/app")
            .args(["check", "--offline"]),
    );
    assert!(findings(&layer).len() < got.len());
}

#[test]
fn settings_file_ignores_regrades_and_fails_on() {
    let case = Case::new("broken-iam");
    let (_, before) = check_json(case.cmd("").args(["check", "--offline"]));
    assert!(!rules_of(&before).is_empty());
    std::fs::write(
        case.project().join(".leverage-doctor.toml"),
        "ignore = [\"LD206\"]\n\n[severity]\nLD505 = \"warning\"\n\n[[per-path]]\npath = \"apps-prd/**\"\nignore = [\"LD007\"]\n",
    )
    .unwrap();
    let (_, after) = check_json(case.cmd("").args(["check", "--offline"]));
    let rules = rules_of(&after);
    assert!(!rules.contains(&"LD206".to_string()));
    assert!(!rules.contains(&"LD007".to_string()), "per-path ignore");
    let ld505 = after["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "LD505")
        .unwrap();
    assert_eq!(ld505["severity"], "warning");
    // fail-on: a project with only warnings passes by default and fails with fail-on = warning.
    let healthy = Case::new("sso-healthy");
    // Its one info: a profile taken from a map only Terraform knows (LD101).
    let layer = healthy
        .project()
        .join("apps-devstg/us-east-1/k8s-eks/cluster/config.tf");
    let mut config = std::fs::read_to_string(&layer).unwrap();
    config.push_str("\ndata \"terraform_remote_state\" \"extra\" {\n  for_each = var.extra_states\n  backend  = \"s3\"\n  config   = { profile = lookup(each.value, \"profile\", var.profile) }\n}\n");
    std::fs::write(&layer, config).unwrap();
    let (code, _) = check_json(
        healthy
            .cmd("")
            .args(["check", "--offline", "--fail-on", "info"]),
    );
    assert_eq!(code, 1);
    std::fs::write(
        healthy.project().join(".leverage-doctor.toml"),
        "fail-on = \"info\"\n",
    )
    .unwrap();
    let (code, _) = check_json(healthy.cmd("").args(["check", "--offline"]));
    assert_eq!(code, 1, "settings fail-on");
    let (code, _) = check_json(
        healthy
            .cmd("")
            .args(["check", "--offline", "--fail-on", "error"]),
    );
    assert_eq!(code, 0, "the flag beats the file");
    let (code, _) = check_json(
        healthy
            .cmd("")
            .args(["check", "--offline", "--ignore", "LD101"]),
    );
    assert_eq!(code, 0, "--ignore removes the only info");
}

#[test]
fn unknown_keys_and_rule_ids_in_settings_are_ld008_with_their_line() {
    let case = Case::new("sso-healthy");
    std::fs::write(
        case.project().join(".leverage-doctor.toml"),
        "ignore = [\"LD101\"]\ncolour = \"never\"\n[severity]\nLD2O6 = \"info\"\n",
    )
    .unwrap();
    let (code, report) = check_json(case.cmd("").args(["check", "--offline"]));
    assert_eq!(code, 1);
    let lines: Vec<_> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "LD008")
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (".leverage-doctor.toml".to_string(), 2),
            (".leverage-doctor.toml".to_string(), 4)
        ]
    );
    doctor()
        .args(["check", "--ignore", "LD999"])
        .assert()
        .code(2);
}

#[test]
fn output_file_gets_the_report_and_the_terminal_the_human_summary() {
    let case = Case::new("broken-iam");
    let out = case.dir.path().join("report.sarif");
    let (code, text) = stdout(
        case.cmd("")
            .args(["check", "--offline", "--format", "sarif", "--output"])
            .arg(&out),
    );
    assert_eq!(code, 1);
    assert!(text.contains("failed: project `bb`"), "{text}");
    let sarif: serde_sarif::sarif::Sarif =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(sarif.runs.len(), 1);
}

#[test]
fn completions_and_man_page_generate() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, text) = stdout(doctor().args(["completions", shell]));
        assert_eq!(code, 0, "{shell}");
        assert!(text.contains("regen-config"), "{shell}");
    }
    let (code, text) = stdout(doctor().arg("man"));
    assert_eq!(code, 0);
    assert!(
        text.starts_with(".ie") || text.contains(".TH leverage-doctor"),
        "{}",
        &text[..200.min(text.len())]
    );
}

#[test]
fn ci_means_no_colour_and_no_prompt() {
    let case = Case::new("broken-iam");
    let (_, text) = stdout(case.cmd("").env("CI", "true").args(["check", "--offline"]));
    assert!(!text.contains('\x1b'));
}

/// A fix that is an edit is a SARIF `fix` too: the region it replaces and the text it writes
/// (code-scanning tools offer it as a suggestion).
#[test]
fn sarif_carries_the_edits_as_fixes() {
    let case = Case::new("broken-iam");
    let (_, text) = stdout(
        case.cmd("")
            .args(["check", "--offline", "--format", "sarif"]),
    );
    let sarif: serde_json::Value = serde_json::from_str(&text).unwrap();
    let fixes: Vec<&serde_json::Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["fixes"].as_array())
        .flatten()
        .collect();
    let header = fixes
        .iter()
        .find(|f| {
            f["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"] == "[bb-extra]"
        })
        .unwrap_or_else(|| panic!("no fix writing [bb-extra]: {fixes:#?}"));
    let change = &header["artifactChanges"][0];
    assert_eq!(change["artifactLocation"]["uri"], ".aws/bb/credentials");
    let region = &change["replacements"][0]["deletedRegion"];
    assert_eq!(region["startLine"], 9);
    assert_eq!(region["startColumn"], 1);
    assert_eq!(region["endLine"], 9);
    assert_eq!(region["endColumn"], 19);
}
