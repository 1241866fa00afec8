//! Which Leverage CLI generation a project runs, how it is detected and said, and the checks
//! that differ between generations (the 3.x ones are also run against the real CLI in
//! tests/oracle.rs).

use crate::support::{Case, check_json, diags, rules_of};

fn leverage_of(report: &serde_json::Value) -> (String, String) {
    let l = &report["project"]["leverage"];
    (
        l["generation"].as_str().unwrap_or("?").to_string(),
        l["source"].as_str().unwrap_or("?").to_string(),
    )
}

/// A fake `leverage` on PATH that answers `--version` (and leaves a mark when it runs).
fn fake_leverage(case: &Case, answer: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let bin = case.dir.path().join("fakebin");
    std::fs::create_dir_all(&bin).unwrap();
    let mark = case.dir.path().join("leverage-ran");
    let script = bin.join("leverage");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ntouch '{}'\n{answer}\n", mark.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (std::path::PathBuf::from(path), mark)
}

#[test]
fn the_generation_comes_from_the_project_files_and_is_said() {
    let (_, r) = check_json(
        Case::new("v3-sso-healthy")
            .cmd("")
            .args(["check", "--offline"]),
    );
    assert_eq!(leverage_of(&r), ("3".into(), "build.env TF_BINARY".into()));
    let (_, r) = check_json(
        Case::new("sso-healthy")
            .cmd("")
            .args(["check", "--offline"]),
    );
    assert_eq!(
        leverage_of(&r),
        ("2".into(), "build.env TERRAFORM_IMAGE_TAG".into())
    );
    // A pin beats build.env.
    let case = Case::new("sso-healthy");
    std::fs::write(
        case.project().join("pyproject.toml"),
        "[project]\ndependencies = [\"leverage==3.1.0\"]\n",
    )
    .unwrap();
    let (_, r) = check_json(case.cmd("").args(["check", "--offline"]));
    assert_eq!(leverage_of(&r), ("3".into(), "pyproject.toml".into()));
    assert_eq!(r["project"]["leverage"]["version"], "3.1.0");
    // --leverage-version beats everything; the settings file too.
    let (_, r) =
        check_json(
            case.cmd("")
                .args(["check", "--offline", "--leverage-version", "2.1.1"]),
        );
    assert_eq!(leverage_of(&r), ("2".into(), "--leverage-version".into()));
    std::fs::write(
        case.project().join(".leverage-doctor.toml"),
        "leverage-version = \"1.9\"\n",
    )
    .unwrap();
    let (_, r) = check_json(case.cmd("").args(["check", "--offline"]));
    assert_eq!(r["project"]["leverage"]["generation"], "1");
    // The human report says it first.
    let out = case.cmd("").args(["check", "--offline"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("Leverage CLI 1.9: 1.6–1.11 (toolbox scripts) (from .leverage-doctor.toml leverage-version)"),
        "{text}"
    );
}

/// Live mode with every AWS endpoint refused at once (no test talks to the internet): the only
/// mode that may ask a program (offline runs start none, tests/hostile.rs).
fn live(cmd: &mut assert_cmd::Command) -> &mut assert_cmd::Command {
    cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("CI", "true")
        .args(["check", "--timeout", "2"])
}

#[test]
fn leverage_on_path_is_asked_only_when_the_files_tell_nothing() {
    // broken-iam's build.env has neither TF_BINARY nor an image tag.
    let case = Case::new("broken-iam");
    let (path, mark) = fake_leverage(&case, "echo 'leverage, version 3.1.0'");
    let (_, r) = check_json(live(case.cmd("").env("PATH", &path)));
    assert_eq!(leverage_of(&r), ("3".into(), "leverage --version".into()));
    assert!(mark.exists());
    // Where build.env tells, it is never run.
    let case = Case::new("sso-healthy");
    let (path, mark) = fake_leverage(&case, "echo 'leverage, version 3.1.0'");
    let (_, r) = check_json(live(case.cmd("").env("PATH", &path)));
    assert_eq!(r["project"]["leverage"]["generation"], "2");
    assert!(
        !mark.exists(),
        "leverage --version ran although build.env tells"
    );
    // One that hangs is given up on (bounded), and the files' default is used.
    let case = Case::new("broken-iam");
    let (path, _) = fake_leverage(&case, "sleep 30");
    let (_, r) = check_json(
        live(case.cmd("").env("PATH", &path)).timeout(std::time::Duration::from_secs(25)),
    );
    assert_eq!(r["project"]["leverage"]["generation"], "2");
}

#[test]
fn runtime_tf_is_read_by_3x_only() {
    let case = Case::new("v3-sso-healthy");
    std::fs::write(
        case.project().join("shared/us-east-1/base-network/runtime.tf"),
        "provider \"aws\" {\n  alias   = \"runtime\"\n  region  = \"us-east-1\"\n  profile = \"${var.project}-apps-devstg-devops\"\n}\n",
    )
    .unwrap();
    let layer = "shared/us-east-1/base-network";
    let (code, r) = check_json(case.cmd(layer).args(["check", "--offline"]));
    assert_eq!(code, 0, "{r:#}");
    let (code, r) =
        check_json(
            case.cmd(layer)
                .args(["check", "--offline", "--leverage-version", "2.1"]),
        );
    assert_eq!(code, 1);
    let d = diags(&r, "LD107");
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .contains("Terraform reads it from shared/us-east-1/base-network/runtime.tf, which the Leverage CLI does not scan"),
        "{r:#}"
    );
}

#[test]
fn the_1x_sso_layout_is_recognised() {
    let case = Case::new("sso-healthy");
    crate::support::v1_sso_layout(&case);
    let build = case.project().join("build.env");
    let env = std::fs::read_to_string(&build)
        .unwrap()
        .replace("TERRAFORM_IMAGE_TAG=1.3.5-0.2.4\n", "");
    std::fs::write(&build, env).unwrap();
    std::fs::remove_file(case.project().join("apps-devstg/build.env")).unwrap();
    let (_, r) = check_json(
        case.cmd("shared/us-east-1/base-network")
            .args(["check", "--offline"]),
    );
    assert_eq!(r["project"]["leverage"]["generation"], "1", "{r:#}");
    assert!(diags(&r, "LD103").is_empty(), "{r:#}");
}

#[test]
fn var_project_resolves_without_common_tfvars() {
    let case = Case::new("v3-iam-healthy");
    std::fs::remove_file(case.project().join("config/common.tfvars")).unwrap();
    let (_, r) = check_json(
        case.cmd("shared/us-east-1/base-network")
            .args(["check", "--offline"]),
    );
    let rules = rules_of(&r);
    assert!(rules.contains(&"LD004".to_string()), "{rules:?}");
    assert!(
        !rules.contains(&"LD101".to_string()) && !rules.contains(&"LD102".to_string()),
        "`${{var.project}}-security-devops` resolves from build.env PROJECT: {r:#}"
    );
}

#[test]
fn regen_iam_writes_the_layout_of_the_generation() {
    // 3.x: -mfa sections, which the CLI's MFA step reads; the offline check then passes LD310.
    let case = Case::new("v3-iam-broken");
    let out = case
        .cmd("")
        .env("CI", "true")
        .args(["regen-config", "--iam", "--yes"])
        .output()
        .unwrap();
    let config = std::fs::read_to_string(case.aws().join("config")).unwrap();
    assert!(
        config.contains("[profile bb-shared-devops-mfa]"),
        "{config}"
    );
    let security = config
        .split("[profile bb-security-devops-mfa]")
        .nth(1)
        .and_then(|s| s.split("\n[").next())
        .unwrap_or("");
    assert!(
        security.contains("mfa_serial = arn:aws:iam::444444444444:mfa/jane.doe"),
        "the incomplete section is completed: {config}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("reads another layout"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!config.contains("management-devops"), "{config}");
    let (_, r) = check_json(
        case.cmd("shared/us-east-1/base-network")
            .args(["check", "--offline"]),
    );
    assert!(diags(&r, "LD310").is_empty(), "{r:#}");
    // 2.x: the plain layout, MFA only with MFA_ENABLED=true.
    let case = Case::new("iam-mfa-healthy");
    let _ = case
        .cmd("")
        .env("CI", "true")
        .args(["regen-config", "--iam", "--yes"])
        .output()
        .unwrap();
    let config = std::fs::read_to_string(case.aws().join("config")).unwrap();
    assert!(!config.contains("-mfa]"), "{config}");
    assert!(!config.contains("management-devops"), "{config}");
}

#[test]
fn the_1x_mfa_script_reads_commented_profile_lines() {
    let case = Case::new("iam-mfa-healthy");
    let layer = case
        .project()
        .join("shared/us-east-1/base-network/config.tf");
    let tf = std::fs::read_to_string(&layer).unwrap();
    std::fs::write(
        &layer,
        format!(
            "{tf}\n# provider \"aws\" {{\n#   profile = \"${{var.project}}-legacy-devops\"\n# }}\n"
        ),
    )
    .unwrap();
    let (_, r) = check_json(case.cmd("shared/us-east-1/base-network").args([
        "check",
        "--offline",
        "--leverage-version",
        "1.9",
    ]));
    let d = diags(&r, "LD310");
    assert_eq!(d.len(), 1, "{r:#}");
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .contains("`bb-legacy-devops` lacks"),
        "{r:#}"
    );
    // 1.12 and later parse HCL: comments are comments.
    let (code, r) = check_json(case.cmd("shared/us-east-1/base-network").args([
        "check",
        "--offline",
        "--leverage-version",
        "2.1",
    ]));
    assert_eq!(code, 0, "{r:#}");
}

/// iam-live with `bb-shared-devops` an SSO profile taking its settings from an `[sso-session]`.
fn iam_live_with_an_sso_session_profile() -> Case {
    let case = Case::new("iam-live");
    let config = case.aws().join("config");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[profile bb-shared-devops]",
        "[profile bb-shared-devops-old]",
    );
    std::fs::write(
        &config,
        format!("{text}\n[sso-session bb]\nsso_start_url = https://bb.awsapps.com/start\nsso_region = us-east-1\n\n[profile bb-shared-devops]\nsso_session = bb\nsso_account_id = 222222222222\nsso_role_name = DevOps\nregion = us-east-1\n"),
    )
    .unwrap();
    case
}

/// An AWS provider plugin older than 4.54.0 cannot read `sso_session` either: held to one by
/// `.terraform.lock.hcl` (what `init` installs) or by `required_providers`.
#[test]
fn sso_session_profiles_for_an_aws_provider_too_old_to_read_them() {
    let case = iam_live_with_an_sso_session_profile();
    let layer = case.project().join("shared/us-east-1/base-network");
    let lock = |version: &str| {
        std::fs::write(
            layer.join(".terraform.lock.hcl"),
            format!("# This file is maintained automatically by \"terraform init\".\nprovider \"registry.terraform.io/hashicorp/aws\" {{\n  version     = \"{version}\"\n  constraints = \"~> 4.0\"\n  hashes = [\n    \"h1:abc=\",\n  ]\n}}\n"),
        )
        .unwrap();
    };
    let provider_ld312 = || {
        let (_, r) = check_json(case.cmd("shared").args(["check", "--offline"]));
        diags(&r, "LD312")
            .into_iter()
            .filter(|d| d["message"].as_str().unwrap().contains("AWS provider"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert!(provider_ld312().is_empty(), "no pin, no claim");
    lock("4.40.0");
    // The profile itself, and the role profile whose chain goes through it.
    let found = provider_ld312();
    let named: Vec<&str> = found
        .iter()
        .map(|d| d["profile"].as_str().unwrap())
        .collect();
    assert_eq!(
        named,
        ["bb-shared-devops", "bb-apps-devstg-devops"],
        "{found:#?}"
    );
    lock("4.67.0");
    assert!(provider_ld312().is_empty(), "4.67.0 reads sso_session");
    std::fs::remove_file(layer.join(".terraform.lock.hcl")).unwrap();
    std::fs::write(
        layer.join("versions.tf"),
        "terraform {\n  required_providers {\n    aws = {\n      source  = \"hashicorp/aws\"\n      version = \"~> 4.40.0\"\n    }\n  }\n}\n",
    )
    .unwrap();
    assert_eq!(
        provider_ld312().len(),
        2,
        "a constraint that allows only older releases"
    );
}

/// The S3 backend of Terraform before 1.6 cannot read `sso_session` profiles; the version comes
/// from the toolbox tag (≤ 2.x) or `TF_BINARY --version` (3.x).
#[test]
fn sso_session_profiles_for_a_terraform_too_old_to_read_them() {
    let case = iam_live_with_an_sso_session_profile();
    let build = case.project().join("build.env");
    let set_tag = |tag: &str| {
        let env: String = std::fs::read_to_string(&build)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("TERRAFORM_IMAGE_TAG") && !l.starts_with("TF_BINARY"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&build, format!("{env}{tag}\n")).unwrap();
    };
    let ld312 = || {
        let (_, r) = check_json(case.cmd("shared").args(["check", "--offline"]));
        diags(&r, "LD312").len()
    };
    set_tag("TERRAFORM_IMAGE_TAG=1.5.7-0.2.4");
    assert_eq!(ld312(), 1);
    set_tag("TERRAFORM_IMAGE_TAG=1.6.0-0.2.4");
    assert_eq!(ld312(), 0);
    set_tag("TERRAFORM_IMAGE_TAG=1.5.0-tofu-0.3.0");
    assert_eq!(ld312(), 0, "OpenTofu reads sso_session");
    // 3.x: the binary says which.
    let stub = case.dir.path().join("terraform");
    std::fs::write(&stub, "#!/bin/sh\necho 'Terraform v1.5.7'\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    set_tag(&format!("TF_BINARY={}", stub.display()));
    // Offline starts no program: the version is not known, nothing is claimed…
    assert_eq!(ld312(), 0);
    // …live asks the binary (it lies outside the project).
    let (_, r) = check_json(live(&mut case.cmd("shared")));
    assert_eq!(diags(&r, "LD312").len(), 1, "{r:#}");
}

/// Terraform's Go SDKs refuse `source_profile` (or `credential_source`) without `role_arn`;
/// the AWS CLI ignores the line. The fix depends on whether the profile has keys of its own.
#[test]
fn a_source_profile_without_a_role_to_assume() {
    let case = Case::new("iam-live");
    let config = case.aws().join("config");
    let original = std::fs::read_to_string(&config).unwrap();
    let ld302 = || {
        let (_, r) = check_json(case.cmd("shared").args(["check", "--offline"]));
        diags(&r, "LD302")
            .into_iter()
            .filter(|d| d["message"].as_str().unwrap().contains("no `role_arn`"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert!(ld302().is_empty());
    std::fs::write(
        &config,
        original.replace("role_arn = arn:aws:iam::333333333333:role/DevOps\n", ""),
    )
    .unwrap();
    let found = ld302();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["profile"], "bb-apps-devstg-devops");
    assert_eq!(found[0]["severity"], "error");
    assert!(
        found[0]["fix"]["text"]
            .as_str()
            .unwrap()
            .starts_with("role_arn = ")
    );
}

/// 3.x `leverage tf` runs only a binary whose `--version` says OpenTofu. Offline the doctor
/// starts nothing and goes by the name; live it asks a binary outside the checkout.
#[test]
fn a_tf_binary_that_is_not_opentofu() {
    let case = Case::new("v3-sso-healthy");
    let build = case.project().join("build.env");
    let stub = case.dir.path().join("terraform");
    let set = |says: &str| {
        std::fs::write(&stub, format!("#!/bin/sh\necho '{says}'\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
        let env: String = std::fs::read_to_string(&build)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("TF_BINARY"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&build, format!("{env}TF_BINARY={}\n", stub.display())).unwrap();
    };
    let not_opentofu = |r: &serde_json::Value| {
        diags(r, "LD005")
            .into_iter()
            .filter(|d| d["message"].as_str().unwrap().contains("OpenTofu"))
            .map(|d| d["message"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    set("Terraform v1.5.7");
    let (_, r) = check_json(case.cmd("shared").args(["check", "--offline"]));
    let found = not_opentofu(&r);
    assert_eq!(found.len(), 1, "{r:#}");
    assert!(found[0].contains("named like Terraform"), "{found:?}");
    let (_, r) = check_json(live(&mut case.cmd("shared")));
    let found = not_opentofu(&r);
    assert_eq!(found.len(), 1, "{r:#}");
    assert!(found[0].contains("says `Terraform v1.5.7`"), "{found:?}");
    // Named `terraform`, but it is OpenTofu: asked, it says so.
    set("OpenTofu v1.8.0");
    let (_, r) = check_json(live(&mut case.cmd("shared")));
    assert!(not_opentofu(&r).is_empty(), "{r:#}");
}

/// SSO mode, a reference to an account common.tfvars does not declare (the reference
/// architecture's `${var.project}-root-administrator` where the account is `management`):
/// regen can never write `[profile <p>-sso-root]`, so the fix is the reference. Following its
/// example clears the finding and brings no other.
#[test]
fn a_reference_to_an_undeclared_account_is_fixed_at_the_reference() {
    let case = Case::new("v3-sso-healthy");
    let layer = "shared/us-east-1/base-network";
    let config_tf = case.project().join(layer).join("config.tf");
    let original = std::fs::read_to_string(&config_tf).unwrap();
    let with = |profile: &str| {
        std::fs::write(
            &config_tf,
            format!("{original}\nprovider \"aws\" {{\n  alias   = \"root\"\n  region  = \"us-east-1\"\n  profile = \"{profile}\"\n}}\n"),
        )
        .unwrap();
    };
    with("${var.project}-root-administrator");
    let (_, r) = check_json(case.cmd(layer).args(["check", "--offline"]));
    let found = diags(&r, "LD103");
    assert_eq!(found.len(), 1, "{r:#}");
    let fix = found[0]["fix"]["text"].as_str().unwrap().to_string();
    assert!(
        fix.contains("`root` is not an account of config/common.tfvars"),
        "{fix}"
    );
    assert!(!fix.starts_with("leverage-doctor regen-config"), "{fix}");
    // The example it gives: `${var.project}-<declared account>-<its role>`.
    let example = fix
        .split("e.g. \"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    with(&example);
    let (_, after) = check_json(case.cmd(layer).args(["check", "--offline"]));
    for rule in ["LD102", "LD103", "LD104"] {
        assert!(
            diags(&after, rule).is_empty(),
            "{rule} after following `{example}`: {after:#}"
        );
    }
}

/// LD102 with a near name: the fix renames the reference, and applying it clears the finding.
#[test]
fn a_misspelt_reference_is_fixed_by_its_fix_line() {
    let case = Case::new("broken-iam");
    let layer = "shared/us-east-1/base-network";
    let (_, r) = check_json(case.cmd(layer).args(["check", "--offline"]));
    let d = diags(&r, "LD102")
        .into_iter()
        .find(|d| d["profile"] == "bb-apps-prd-devop")
        .cloned()
        .expect("LD102 for the misspelt profile");
    let fix = d["fix"]["text"].as_str().unwrap();
    let line = fix.split("   #").next().unwrap();
    assert_eq!(line, "profile = \"bb-apps-prd-devops\"");
    let file = case.project().join(d["file"].as_str().unwrap());
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("profile = \"bb-apps-prd-devop\"", line)).unwrap();
    let (_, after) = check_json(case.cmd(layer).args(["check", "--offline"]));
    assert!(
        diags(&after, "LD102")
            .iter()
            .all(|d| d["profile"] != "bb-apps-prd-devop"),
        "{after:#}"
    );
}

/// Profiles only Terraform can know (`lookup(`, `local.`) are one note per layer, not one per
/// reference (a reference-architecture layer has dozens).
#[test]
fn profiles_known_only_at_plan_time_are_one_note_per_layer() {
    let case = Case::new("v3-sso-healthy");
    let layer = "shared/us-east-1/base-network";
    let config_tf = case.project().join(layer).join("config.tf");
    let mut text = std::fs::read_to_string(&config_tf).unwrap();
    for alias in ["a", "b", "c"] {
        text.push_str(&format!("\nprovider \"aws\" {{\n  alias   = \"{alias}\"\n  region  = \"us-east-1\"\n  profile = lookup(local.profiles, \"{alias}\", var.profile)\n}}\n"));
    }
    std::fs::write(&config_tf, text).unwrap();
    let (_, r) = check_json(case.cmd(layer).args(["check", "--offline"]));
    let notes = diags(&r, "LD101");
    assert_eq!(notes.len(), 1, "{r:#}");
    assert!(
        notes[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("3 profiles of this layer"),
        "{}",
        notes[0]["message"]
    );
    assert_eq!(notes[0]["related"].as_array().unwrap().len(), 2);
}
