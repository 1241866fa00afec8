//! Malformed inputs give diagnostics (or exit 2 with one line), never a panic or a hang.

use crate::support::{Case, check_json, diags, rules_of};

fn run(case: &Case, rel: &str) -> (i32, serde_json::Value) {
    let (code, report) = check_json(case.cmd(rel).args(["check", "--offline"]));
    assert!(code == 0 || code == 1, "exit {code}");
    (code, report)
}

#[test]
fn binary_junk_in_the_aws_config_is_ld205() {
    let case = Case::new("sso-healthy");
    let mut bytes = std::fs::read(case.aws().join("config")).unwrap();
    bytes.extend_from_slice(b"\n\xff\xfe\x00junk\x01\n");
    std::fs::write(case.aws().join("config"), bytes).unwrap();
    let (_, report) = run(&case, "");
    assert!(rules_of(&report).contains(&"LD205".to_string()));
}

#[test]
fn a_token_that_is_not_json_is_ld503() {
    let case = Case::new("sso-healthy");
    std::fs::write(case.aws().join("sso/cache/token"), "\u{0}\u{1}garbage").unwrap();
    let (code, report) = run(&case, "");
    assert_eq!(code, 1);
    assert_eq!(rules_of(&report), ["LD503"]);
}

#[test]
fn broken_hcl_in_common_tfvars_is_ld002_with_a_line() {
    let case = Case::new("sso-healthy");
    std::fs::write(
        case.project().join("config/common.tfvars"),
        "project = \"bb\"\naccounts = {\n",
    )
    .unwrap();
    let (_, report) = run(&case, "");
    let d = *diags(&report, "LD002").first().expect("LD002");
    assert_eq!(d["file"], "config/common.tfvars");
    assert!(d["line"].as_u64().unwrap() >= 2);
}

#[test]
fn invalid_utf8_in_a_layer_is_ld002() {
    let case = Case::new("sso-healthy");
    std::fs::write(
        case.project()
            .join("shared/us-east-1/base-network/config.tf"),
        b"provider \"aws\" {\n \xff\xfe }\n",
    )
    .unwrap();
    let (_, report) = run(&case, "shared/us-east-1/base-network");
    let d = *diags(&report, "LD002").first().expect("LD002");
    assert_eq!(d["line"], 2);
}

#[test]
fn a_folder_where_the_config_file_should_be_is_ld201() {
    let case = Case::new("sso-healthy");
    std::fs::remove_file(case.aws().join("config")).unwrap();
    std::fs::create_dir(case.aws().join("config")).unwrap();
    let (_, report) = run(&case, "");
    let d = *diags(&report, "LD201").first().expect("LD201");
    assert!(d["message"].as_str().unwrap().contains("is a folder"));
}

#[test]
fn symlink_loops_in_layers_do_not_hang() {
    let case = Case::new("sso-healthy");
    let layer = case.project().join("shared/us-east-1");
    std::os::unix::fs::symlink(&layer, layer.join("loop")).unwrap();
    std::os::unix::fs::symlink("self-link.tf", layer.join("base-network/self-link.tf")).unwrap();
    let (code, report) = run(&case, "");
    // Terraform reads every *.tf and cannot read this one either: an error at the file.
    assert_eq!(code, 1, "{report:#}");
    let d = *diags(&report, "LD002").first().expect("LD002");
    assert!(
        d["file"].as_str().unwrap().ends_with("self-link.tf"),
        "{d:#}"
    );
}

#[test]
fn huge_files_are_capped_and_reported() {
    let case = Case::new("sso-healthy");
    let big = vec![b'#'; 9 * 1024 * 1024];
    std::fs::write(
        case.project()
            .join("shared/us-east-1/base-network/config.tf"),
        big,
    )
    .unwrap();
    let (_, report) = run(&case, "shared/us-east-1/base-network");
    let d = *diags(&report, "LD002").first().expect("LD002");
    assert!(d["message"].as_str().unwrap().contains("larger than 8 MiB"));
}

#[test]
fn empty_files_are_fine() {
    let case = Case::new("sso-healthy");
    std::fs::write(
        case.project()
            .join("shared/us-east-1/base-network/config.tf"),
        "",
    )
    .unwrap();
    std::fs::write(case.aws().join("credentials"), "").unwrap();
    let (code, _) = run(&case, "shared/us-east-1/base-network");
    assert_eq!(code, 0);
}

#[test]
fn deeply_nested_hcl_does_not_crash() {
    let case = Case::new("sso-healthy");
    let depth = 500;
    let text = format!(
        "locals {{\n  x = {}1{}\n}}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    std::fs::write(
        case.project()
            .join("shared/us-east-1/base-network/locals.tf"),
        text,
    )
    .unwrap();
    run(&case, "shared/us-east-1/base-network");
}

#[test]
fn thousands_of_profiles() {
    let case = Case::new("sso-healthy");
    let mut text = std::fs::read_to_string(case.aws().join("config")).unwrap();
    for i in 0..5000 {
        text.push_str(&format!("\n[profile extra-{i}]\nregion = us-east-1\n"));
    }
    std::fs::write(case.aws().join("config"), text).unwrap();
    let (code, _) = run(&case, "");
    assert_eq!(code, 0);
}
