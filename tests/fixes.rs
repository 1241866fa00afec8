//! `check --fix` on the project's own files (issue 20): a misspelt profile reference in a `.tf`
//! file or backend.tfvars, when one defined profile is the obvious match, is an unsafe edit of
//! that string literal alone; the file keeps every other byte and its mode, a backup holds the
//! old text, and nothing is written through a link.

use crate::support::{Case, check_json, diags};
use std::os::unix::fs::PermissionsExt;

const LAYER: &str = "shared/us-east-1/base-network";

/// `check --offline --fix ARGS` in the layer, CI-like; stdout and stderr together.
fn fix(case: &Case, args: &[&str]) -> (i32, String) {
    let out = case
        .cmd(LAYER)
        .env("CI", "true")
        .args(["check", "--offline", "--fix"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn errors(r: &serde_json::Value) -> std::collections::BTreeSet<String> {
    r["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| format!("{} {}", d["rule"], d["message"]))
        .collect()
}

/// The backups `--fix` left next to `file`.
fn backups(file: &std::path::Path) -> Vec<std::path::PathBuf> {
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{name}.bak-"))
        })
        .collect()
}

#[test]
fn a_misspelt_profile_in_a_tf_file_is_an_unsafe_fix_of_that_literal_alone() {
    let case = Case::new("iam-mfa-healthy");
    let tf = case.project().join(LAYER).join("config.tf");
    let good = std::fs::read_to_string(&tf).unwrap();
    let bad = good.replacen(
        "\"${var.project}-security-devops\"",
        "\"${var.project}-security-devop\"",
        1,
    );
    assert_ne!(good, bad);
    std::fs::write(&tf, &bad).unwrap();
    std::fs::set_permissions(&tf, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (_, before) = check_json(case.cmd(LAYER).args(["check", "--offline"]));
    let found = diags(&before, "LD102");
    assert_eq!(found.len(), 1, "{before:#}");
    assert_eq!(found[0]["fix"]["applicability"], "unsafe", "{before:#}");
    assert_eq!(
        found[0]["fix"]["edits"][0]["replacement"],
        "\"${var.project}-security-devops\""
    );
    // Safe fixes only: the reference is left, and the run says why.
    let (_, said) = fix(&case, &["--yes"]);
    assert!(said.contains("--unsafe-fixes"), "{said}");
    assert_eq!(std::fs::read_to_string(&tf).unwrap(), bad);
    // --diff shows the one line and writes nothing.
    let (code, shown) = fix(&case, &["--unsafe-fixes", "--diff"]);
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains("-  profile = \"${var.project}-security-devop\"")
            && shown.contains("+  profile = \"${var.project}-security-devops\""),
        "{shown}"
    );
    assert!(shown.contains("nothing written"), "{shown}");
    assert_eq!(std::fs::read_to_string(&tf).unwrap(), bad);
    // Applied: the literal alone changes; mode kept; the backup is the old text.
    let (_, said) = fix(&case, &["--unsafe-fixes", "--yes"]);
    assert_eq!(std::fs::read_to_string(&tf).unwrap(), good, "{said}");
    assert_eq!(
        std::fs::metadata(&tf).unwrap().permissions().mode() & 0o777,
        0o640
    );
    let saved = backups(&tf);
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(std::fs::read_to_string(&saved[0]).unwrap(), bad);
    let (_, after) = check_json(case.cmd(LAYER).args(["check", "--offline"]));
    assert!(diags(&after, "LD102").is_empty(), "{after:#}");
    let new: Vec<_> = errors(&after)
        .difference(&errors(&before))
        .cloned()
        .collect();
    assert!(new.is_empty(), "{new:?}");
}

#[test]
fn a_misspelt_profile_in_backend_tfvars_is_fixed_there() {
    let case = Case::new("iam-mfa-healthy");
    let backend = case.project().join("shared/config/backend.tfvars");
    let good = std::fs::read_to_string(&backend).unwrap();
    let bad = good.replacen("\"bb-shared-devops\"", "\"bb-shared-devop\"", 1);
    assert_ne!(good, bad);
    std::fs::write(&backend, &bad).unwrap();
    let (_, before) = check_json(case.cmd(LAYER).args(["check", "--offline"]));
    assert_eq!(diags(&before, "LD102").len(), 1, "{before:#}");
    let (_, said) = fix(&case, &["--unsafe-fixes", "--yes"]);
    assert_eq!(std::fs::read_to_string(&backend).unwrap(), good, "{said}");
    let (_, after) = check_json(case.cmd(LAYER).args(["check", "--offline"]));
    assert!(diags(&after, "LD102").is_empty(), "{after:#}");
    let new: Vec<_> = errors(&after)
        .difference(&errors(&before))
        .cloned()
        .collect();
    assert!(new.is_empty(), "{new:?}");
}

/// Two profiles as near as each other: no obvious match, so no edit (the help still names one).
#[test]
fn no_edit_when_two_profiles_are_as_near() {
    let case = Case::new("iam-mfa-healthy");
    let backend = case.project().join("shared/config/backend.tfvars");
    let bad = std::fs::read_to_string(&backend).unwrap().replacen(
        "\"bb-shared-devops\"",
        "\"bb-shared-devop\"",
        1,
    );
    std::fs::write(&backend, &bad).unwrap();
    let config = case.aws().join("config");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[profile bb-shared-devopz]\nregion = us-east-1\n");
    std::fs::write(&config, &text).unwrap();
    let (_, r) = check_json(case.cmd(LAYER).args(["check", "--offline"]));
    let found = diags(&r, "LD102");
    assert_eq!(found.len(), 1, "{r:#}");
    assert_eq!(found[0]["fix"]["applicability"], "manual", "{r:#}");
    assert_eq!(found[0]["fix"]["edits"], serde_json::json!([]), "{r:#}");
    fix(&case, &["--unsafe-fixes", "--yes"]);
    assert_eq!(std::fs::read_to_string(&backend).unwrap(), bad);
}

/// A project file that is a symlink (here to another file of the project: one outside is not
/// even read) is never edited through the link: refused, the target untouched.
#[test]
fn a_linked_project_file_is_refused() {
    let case = Case::new("iam-mfa-healthy");
    let backend = case.project().join("shared/config/backend.tfvars");
    let bad = std::fs::read_to_string(&backend).unwrap().replacen(
        "\"bb-shared-devops\"",
        "\"bb-shared-devop\"",
        1,
    );
    std::fs::create_dir_all(case.project().join("shared/links")).unwrap();
    let target = case.project().join("shared/links/backend.tfvars");
    std::fs::write(&target, &bad).unwrap();
    std::fs::remove_file(&backend).unwrap();
    std::os::unix::fs::symlink(&target, &backend).unwrap();
    let (_, r) = check_json(case.cmd(LAYER).args(["check", "--offline"]));
    assert_eq!(diags(&r, "LD102").len(), 1, "{r:#}");
    let (code, said) = fix(&case, &["--unsafe-fixes", "--yes"]);
    assert_eq!(code, 2, "{said}");
    assert!(
        said.contains("is a symlink") && said.contains("nothing was written"),
        "{said}"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), bad);
    assert!(
        std::fs::symlink_metadata(&backend)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(backups(&target).is_empty());
}

/// `check --offline --fix --yes` (safe fixes only) from the project root, every layer.
fn fix_all(case: &Case) -> String {
    let out = case
        .cmd("")
        .env("CI", "true")
        .args(["check", "--offline", "--all", "--fix", "--yes"])
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn check_all(case: &Case) -> serde_json::Value {
    check_json(case.cmd("").args(["check", "--offline", "--all"])).1
}

/// An exact duplicate key line is a safe fix: the later line goes, nothing else; a duplicate
/// with another value stays the user's choice (no edit).
#[test]
fn an_exact_duplicate_key_is_deleted_and_a_different_one_is_not() {
    let case = Case::new("iam-mfa-healthy");
    let config = case.aws().join("config");
    let good = std::fs::read_to_string(&config).unwrap();
    let bad = good.replacen(
        "[profile bb-shared-devops]\noutput = json\n",
        "[profile bb-shared-devops]\noutput = json\noutput = json\n",
        1,
    );
    let bad = bad.replacen(
        "[profile bb-security-devops]\noutput = json\nregion = us-east-1\n",
        "[profile bb-security-devops]\noutput = json\nregion = us-east-1\nregion = us-east-2\n",
        1,
    );
    std::fs::write(&config, &bad).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = check_all(&case);
    let found = diags(&before, "LD203");
    assert_eq!(found.len(), 2, "{before:#}");
    assert_eq!(
        found
            .iter()
            .filter(|d| d["fix"]["applicability"] == "safe")
            .count(),
        1,
        "{before:#}"
    );
    let said = fix_all(&case);
    let after_text = std::fs::read_to_string(&config).unwrap();
    assert_eq!(
        after_text,
        bad.replacen("output = json\noutput = json\n", "output = json\n", 1),
        "{said}"
    );
    // An AWS file is written 0600, as every write of the doctor (a project file keeps its mode).
    assert_eq!(
        std::fs::metadata(&config).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let after = check_all(&case);
    let left = diags(&after, "LD203");
    assert_eq!(left.len(), 1, "{after:#}");
    assert!(left[0]["message"].as_str().unwrap().contains("us-east-2"));
}

/// A section repeated line for line is a safe fix: the later copy goes, and its blank line
/// before it stays (every other byte kept). A repeat with a comment inside is left alone.
#[test]
fn an_exact_duplicate_section_is_deleted_unless_it_holds_a_comment() {
    let case = Case::new("iam-mfa-healthy");
    let config = case.aws().join("config");
    let good = std::fs::read_to_string(&config).unwrap();
    let copy = "[profile bb-shared-devops]\noutput = json\nregion = us-east-1\nrole_arn = arn:aws:iam::222222222222:role/DevOps\nsource_profile = bb-security\nmfa_serial = arn:aws:iam::444444444444:mfa/jane.doe\n";
    assert!(good.contains(copy));
    std::fs::write(&config, format!("{good}\n{copy}")).unwrap();
    let said = fix_all(&case);
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        format!("{good}\n"),
        "{said}"
    );
    assert!(diags(&check_all(&case), "LD202").is_empty());
    // With a comment in the copy, deleting it would lose the comment: no edit.
    let commented = copy.replacen("output = json\n", "# mine\noutput = json\n", 1);
    let bad = format!("{good}\n{commented}");
    std::fs::write(&config, &bad).unwrap();
    let r = check_all(&case);
    let found = diags(&r, "LD202");
    assert_eq!(found.len(), 1, "{r:#}");
    assert_eq!(found[0]["fix"]["applicability"], "manual", "{r:#}");
    assert_eq!(found[0]["fix"]["edits"], serde_json::json!([]), "{r:#}");
    fix_all(&case);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), bad);
}

/// A profile section of the config without `region` (and no `[default]` region) gets the
/// project's primary region right under its header: a safe fix, nothing else changes.
#[test]
fn a_missing_region_is_added_under_the_profile_header() {
    let case = Case::new("iam-mfa-healthy");
    let config = case.aws().join("config");
    let good = std::fs::read_to_string(&config).unwrap();
    let bad = good
        .replacen(
            "[default]\noutput = json\nregion = us-east-1\n",
            "[default]\noutput = json\n",
            1,
        )
        .replacen(
            "[profile bb-shared-devops]\noutput = json\nregion = us-east-1\n",
            "[profile bb-shared-devops]\noutput = json\n",
            1,
        );
    assert_ne!(good, bad);
    std::fs::write(&config, &bad).unwrap();
    // A remote state without a region of its own needs the profile's.
    let tf = case.project().join(LAYER).join("config.tf");
    let mut layer = std::fs::read_to_string(&tf).unwrap();
    layer.push_str("\ndata \"terraform_remote_state\" \"shared\" {\n  backend = \"s3\"\n  config = {\n    bucket  = \"bb-shared-terraform-backend\"\n    key     = \"shared/x/terraform.tfstate\"\n    profile = \"${var.project}-shared-devops\"\n  }\n}\n");
    std::fs::write(&tf, layer).unwrap();
    let (_, before) = check_json(case.cmd(LAYER).args(["check", "--offline"]));
    let found = diags(&before, "LD301");
    assert_eq!(found.len(), 1, "{before:#}");
    assert_eq!(found[0]["fix"]["applicability"], "safe");
    let (_, said) = fix(&case, &["--yes"]);
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        bad.replacen(
            "[profile bb-shared-devops]\n",
            "[profile bb-shared-devops]\nregion = us-east-1\n",
            1
        ),
        "{said}"
    );
    let (_, after) = check_json(case.cmd(LAYER).args(["check", "--offline"]));
    assert!(diags(&after, "LD301").is_empty(), "{after:#}");
    let new: Vec<_> = errors(&after)
        .difference(&errors(&before))
        .cloned()
        .collect();
    assert!(new.is_empty(), "{new:?}");
}

/// The same misspelt name in two places of a layer: one fix, both literals rewritten (all or
/// none), so the finding goes in one run; JSON lists both edits in `fix.edits`.
#[test]
fn every_place_of_a_misspelt_profile_is_fixed_together() {
    let case = Case::new("iam-mfa-healthy");
    let tf = case.project().join(LAYER).join("config.tf");
    let good = format!(
        "{}\ndata \"terraform_remote_state\" \"security\" {{\n  backend = \"s3\"\n  config = {{\n    region  = \"us-east-1\"\n    bucket  = \"bb-security-terraform-backend\"\n    key     = \"security/x/terraform.tfstate\"\n    profile = \"${{var.project}}-security-devops\"\n  }}\n}}\n",
        std::fs::read_to_string(&tf).unwrap()
    );
    let bad = good.replace(
        "\"${var.project}-security-devops\"",
        "\"${var.project}-security-devop\"",
    );
    assert_eq!(bad.matches("security-devop\"").count(), 2);
    std::fs::write(&tf, &bad).unwrap();
    let (_, before) = check_json(case.cmd(LAYER).args(["check", "--offline"]));
    let found = diags(&before, "LD102");
    assert_eq!(found.len(), 1, "{before:#}");
    assert_eq!(
        found[0]["fix"]["edits"].as_array().map(Vec::len),
        Some(2),
        "{before:#}"
    );
    let (_, said) = fix(&case, &["--unsafe-fixes", "--yes"]);
    assert_eq!(std::fs::read_to_string(&tf).unwrap(), good, "{said}");
    let (_, after) = check_json(case.cmd(LAYER).args(["check", "--offline"]));
    assert!(diags(&after, "LD102").is_empty(), "{after:#}");
    // SARIF carries both replacements.
    std::fs::write(&tf, &bad).unwrap();
    let out = case
        .cmd(LAYER)
        .args(["check", "--offline", "--format", "sarif"])
        .output()
        .unwrap();
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let ld102 = results
        .iter()
        .find(|r| r["ruleId"] == "LD102")
        .expect("an LD102 result");
    assert_eq!(
        ld102["fixes"][0]["artifactChanges"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{ld102:#}"
    );
}

/// An SSO account section the config lacks (LD103) is the section regen-config --sso writes for
/// that account alone, appended at the end: its id from common.tfvars, the one role every other
/// account section names, the SSO region and start URL of `[profile bb-sso]`. Unsafe: offline,
/// whether the portal gives that role is unknown. Every other byte stays.
#[test]
fn a_missing_sso_account_section_is_appended_as_regen_writes_it() {
    let case = Case::new("sso-healthy");
    let config = case.aws().join("config");
    let good = std::fs::read_to_string(&config).unwrap();
    let section = "[profile bb-sso-management]\nsso_start_url = https://bb-fixture.awsapps.com/start\nsso_region = us-east-1\naccount_id = 111111111111\nrole_name = DevOps\n\n";
    let bad = good.replace(section, "");
    assert_ne!(good, bad);
    std::fs::write(&config, &bad).unwrap();
    let (_, before) = check_json(case.cmd(LAYER).args(["check", "--offline"]));
    let found = diags(&before, "LD103");
    assert_eq!(found.len(), 1, "{before:#}");
    assert_eq!(found[0]["fix"]["applicability"], "unsafe", "{before:#}");
    // Safe fixes only: nothing written.
    fix(&case, &["--yes"]);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), bad);
    let (_, said) = fix(&case, &["--unsafe-fixes", "--yes"]);
    let after = std::fs::read_to_string(&config).unwrap();
    assert_eq!(
        after,
        format!(
            "{bad}\n[profile bb-sso-management]\nrole_name = DevOps\naccount_id = 111111111111\nsso_region = us-east-1\nsso_start_url = https://bb-fixture.awsapps.com/start\n"
        ),
        "{said}"
    );
    assert_eq!(backups(&config).len(), 1);
    let (_, r) = check_json(case.cmd(LAYER).args(["check", "--offline"]));
    assert!(diags(&r, "LD103").is_empty(), "{r:#}");
    assert!(errors(&r).is_subset(&errors(&before)), "{r:#}");
    // Written as Leverage writes it: 0600.
    let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

/// When the other account sections name different roles and account.tfvars names none, the
/// role is a guess: no edit, the fix is regen-config --sso (which asks the portal).
#[test]
fn no_sso_section_edit_when_the_role_is_unknown() {
    let case = Case::new("sso-healthy");
    let account = case.project().join("management/config/account.tfvars");
    let tfvars = std::fs::read_to_string(&account).unwrap();
    let without = tfvars.replace("sso_role    = \"DevOps\"", "");
    assert_ne!(tfvars, without);
    std::fs::write(&account, without).unwrap();
    let config = case.aws().join("config");
    let good = std::fs::read_to_string(&config).unwrap();
    let bad = good
        .replace(
            "[profile bb-sso-management]\nsso_start_url = https://bb-fixture.awsapps.com/start\nsso_region = us-east-1\naccount_id = 111111111111\nrole_name = DevOps\n\n",
            "",
        )
        .replace(
            "account_id = 333333333333\nrole_name = DevOps",
            "account_id = 333333333333\nrole_name = Administrator",
        );
    std::fs::write(&config, &bad).unwrap();
    let (_, r) = check_json(case.cmd(LAYER).args(["check", "--offline"]));
    let found = diags(&r, "LD103");
    assert_eq!(found.len(), 1, "{r:#}");
    assert_eq!(found[0]["fix"]["applicability"], "manual", "{r:#}");
    assert_eq!(
        found[0]["fix"]["command"], "leverage-doctor regen-config --sso",
        "{r:#}"
    );
    fix(&case, &["--unsafe-fixes", "--yes"]);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), bad);
}

/// `--aws-dir` given relative, through `..` (from a layer to a folder beside the project): the
/// fixes go to that folder's files (they were refused as "outside" it, the path compared with
/// its `..` left in).
#[test]
fn a_relative_aws_dir_through_dotdot_is_written() {
    let case = Case::new("broken-iam");
    let credentials = case.aws().join("credentials");
    let before = std::fs::read_to_string(&credentials).unwrap();
    let out = case
        .cmd("shared")
        .env("CI", "true")
        .args([
            "check",
            "--offline",
            "--aws-dir",
            "../../home/.aws/bb",
            "--fix",
            "--yes",
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!said.contains("is outside"), "{said}");
    let after = std::fs::read_to_string(&credentials).unwrap();
    assert_ne!(before, after, "{said}");
    assert!(after.contains("\n[bb-extra]\n"), "{after}");
}
