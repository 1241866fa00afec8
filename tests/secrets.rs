//! No secret ever reaches the output: every command, every format, every fixture. Fixture
//! secrets (keys, secret keys, session and SSO tokens, cached sessions) all carry the marker
//! `LDFIXTURESECRET`; the full key ids contain it after their first 4 characters.

use crate::support::{Case, fixtures_dir, free_port};

const MARKER: &str = "LDFIXTURESECRET";

fn fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn no_command_prints_a_secret() {
    let closed = format!("http://127.0.0.1:{}", free_port());
    let mut runs = 0;
    let mut leaks = Vec::new();
    for fixture in fixtures() {
        let case = Case::new(&fixture);
        let report = case.dir.path().join("report.out");
        let mut commands: Vec<Vec<String>> = Vec::new();
        for format in ["human", "json", "sarif", "github", "junit"] {
            for verbose in [false, true] {
                let mut args = vec!["check", "--all", "--offline", "--format", format];
                if verbose {
                    args.push("-v");
                }
                commands.push(args.iter().map(|s| s.to_string()).collect());
            }
        }
        // Live, failing fast against a closed port: the error paths print AWS's words.
        for format in ["human", "json"] {
            commands.push(
                ["check", "--all", "-v", "--timeout", "1", "--format", format]
                    .map(String::from)
                    .to_vec(),
            );
        }
        commands.push(vec![
            "check".into(),
            "--all".into(),
            "--offline".into(),
            "--format".into(),
            "json".into(),
            "--output".into(),
            report.display().to_string(),
        ]);
        commands.push(
            ["regen-config", "--iam", "--dry-run"]
                .map(String::from)
                .to_vec(),
        );
        commands.push(
            ["regen-config", "--sso", "--dry-run", "--timeout", "1"]
                .map(String::from)
                .to_vec(),
        );
        commands.push(["sso-reset", "--dry-run"].map(String::from).to_vec());
        commands.push(
            ["sso-reset", "--dry-run", "--aws-cli-cache"]
                .map(String::from)
                .to_vec(),
        );
        for args in commands {
            let out = case
                .cmd("")
                .env("CI", "true")
                .env("AWS_ENDPOINT_URL", &closed)
                .env("AWS_ACCESS_KEY_ID", "AKIALDFIXTURESECRETE")
                .env("AWS_SECRET_ACCESS_KEY", "LDFIXTURESECRETenvSecret")
                .env("AWS_SESSION_TOKEN", "LDFIXTURESECRET-env-session")
                .args(&args)
                .timeout(std::time::Duration::from_secs(60))
                .output()
                .unwrap();
            runs += 1;
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            if let Ok(written) = std::fs::read_to_string(&report) {
                text.push_str(&written);
            }
            if text.contains(MARKER) {
                let line = text.lines().find(|l| l.contains(MARKER)).unwrap_or("");
                leaks.push(format!("{fixture}: {}: {line}", args.join(" ")));
            }
            assert_ne!(out.status.code(), Some(101), "{fixture}: {args:?} panicked");
        }
    }
    assert!(runs >= 100, "ran {runs} commands");
    assert!(leaks.is_empty(), "secrets in output:\n{}", leaks.join("\n"));
}

#[test]
fn explain_and_listing_are_clean() {
    let out = crate::support::doctor().arg("explain").output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains(MARKER));
}

/// Tokens of the other providers (LD7xx) are secrets too: written in a provider block, given
/// by a tfvars file, in the environment or in ~/.vault-token, malformed so that LD702 speaks of
/// each, in every format.
#[test]
fn provider_tokens_never_print() {
    let case = Case::new("v3-sso-healthy");
    let layer = case.project().join("shared/us-east-1/tools-tokens");
    std::fs::create_dir_all(&layer).unwrap();
    std::fs::write(
        layer.join("config.tf"),
        "provider \"vault\" {\n  address = \"https://vault.example.com:8200\"\n  token   = \"LDFIXTURESECRETliteralVault\"\n}\n\
         provider \"github\" {\n  owner = \"bb\"\n}\n\
         provider \"gitlab\" {\n  token = var.gitlab_token\n}\n\
         provider \"tfe\" {\n  token = var.tfe_token\n}\n\
         resource \"github_repository\" \"r\" {\n  name = \"r\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        layer.join("variables.tf"),
        "variable \"gitlab_token\" {\n  type = string\n}\nvariable \"tfe_token\" {\n  type = string\n}\n",
    )
    .unwrap();
    std::fs::write(
        case.project().join("shared/config/tokens.tfvars"),
        "gitlab_token = \"LDFIXTURESECRETgitlabFromTfvars\"\n",
    )
    .unwrap();
    std::fs::write(
        case.home().join(".vault-token"),
        "LDFIXTURESECRETvaultFile\n",
    )
    .unwrap();
    let mut runs = 0;
    let mut fired = false;
    for format in ["human", "json", "sarif", "github", "junit"] {
        for verbose in [false, true] {
            let mut cmd = case.cmd("shared/us-east-1/tools-tokens");
            cmd.env("GITHUB_TOKEN", "LDFIXTURESECRETgithubEnv")
                .env("TFE_TOKEN", "LDFIXTURESECRETtfeEnv")
                .env("TF_VAR_tfe_token", "LDFIXTURESECRETtfVar")
                .args([
                    "check",
                    "--offline",
                    "--fail-on",
                    "info",
                    "--format",
                    format,
                ]);
            if verbose {
                cmd.arg("-v");
            }
            let out = cmd.output().unwrap();
            runs += 1;
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            fired |= text.contains("LD702");
            if format == "human" {
                for source in ["TF_VAR_tfe_token", "GITHUB_TOKEN", "var.gitlab_token"] {
                    assert!(text.contains(source), "{source} not reported:\n{text}");
                }
            }
            assert!(
                !text.contains(MARKER),
                "{format}: {}",
                text.lines().find(|l| l.contains(MARKER)).unwrap_or("")
            );
            assert_ne!(out.status.code(), Some(101));
        }
    }
    assert_eq!(runs, 10);
    assert!(fired, "LD702 never fired: the test checks nothing");
}

/// A `TF_VAR_` value is a secret only when a provider takes a credential from that variable:
/// one that happens to equal a profile name (or a region) must not blank it out of the report.
#[test]
fn a_tf_var_no_provider_takes_a_credential_from_stays_shown() {
    let case = Case::new("sso-healthy");
    let out = case
        .cmd("")
        .env("TF_VAR_note", "bb-apps-devstg-devops")
        .args(["check", "--offline", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("bb-apps-devstg-devops"), "{text}");
    assert!(!text.contains("****"), "{text}");
}

/// The live token checks (LD704–LD706) keep every token out of every format: refused, expired
/// and valid tokens, sent to test servers speaking GitHub's, GitLab's and Vault's wire format.
#[test]
fn live_token_checks_never_print_a_token() {
    use crate::token_live::*;
    let server = providers();
    let case = case_with_providers("");
    let mut fired = false;
    for (gh, gl, vault) in [(GH_BAD, GL_EXPIRED, VAULT_OK), (GH_SOON, GL_OK, VAULT_BAD)] {
        for format in ["human", "json", "sarif", "github", "junit"] {
            let mut cmd = case.cmd("shared/us-east-1/tools-tokens");
            cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
                .env("GITHUB_TOKEN", gh)
                .env("GITHUB_BASE_URL", format!("{}/", server.url()))
                .env("GITLAB_TOKEN", gl)
                .env("GITLAB_BASE_URL", format!("{}/api/v4/", server.url()))
                .env("VAULT_TOKEN", vault)
                .env("VAULT_ADDR", server.url())
                .args(["check", "-v", "--fail-on", "info", "--format", format]);
            let out = cmd.output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            fired |= text.contains("LD704") && text.contains("LD705");
            assert!(
                !text.contains(MARKER),
                "{format}: {}",
                text.lines().find(|l| l.contains(MARKER)).unwrap_or("")
            );
            assert_ne!(out.status.code(), Some(101));
        }
    }
    assert!(fired, "LD704/LD705 never fired: the test checks nothing");
    assert!(server.requests().len() >= 10);
}

/// Kubeconfig tokens and passwords, and ~/.netrc passwords, are never printed: the kubeconfig
/// is read for its contexts (LD707 points into it), ~/.netrc for its machine names only.
#[test]
fn kubeconfig_and_netrc_secrets_never_print() {
    let case = Case::new("v3-sso-healthy");
    let layer = case.project().join("shared/us-east-1/k8s");
    std::fs::create_dir_all(&layer).unwrap();
    std::fs::write(
        layer.join("config.tf"),
        "provider \"kubernetes\" {\n  config_path = \"kubeconfig\"\n}\nresource \"kubernetes_namespace\" \"n\" {\n  metadata {\n    name = \"n\"\n  }\n}\nmodule \"m\" {\n  source = \"git::https://gitlab.internal.example/org/m.git\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        layer.join("kubeconfig"),
        "contexts:\n- context:\n    user: u\n  name: c\ncurrent-context: LDFIXTURESECRETnotAContext\nusers:\n- name: u\n  user:\n    token: LDFIXTURESECRETkubeToken\n    password: LDFIXTURESECRETkubePassword\n",
    )
    .unwrap();
    std::fs::write(
        case.home().join(".netrc"),
        "machine other.example login me password LDFIXTURESECRETnetrcPassword\n",
    )
    .unwrap();
    let mut fired = false;
    for format in ["human", "json", "sarif", "github", "junit"] {
        let out = case
            .cmd("shared/us-east-1/k8s")
            .args([
                "check",
                "--offline",
                "--fail-on",
                "info",
                "--format",
                format,
                "-v",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        fired |= text.contains("LD707") && text.contains("LD710");
        for secret in [
            "LDFIXTURESECRETkubeToken",
            "LDFIXTURESECRETkubePassword",
            "LDFIXTURESECRETnetrcPassword",
        ] {
            assert!(!text.contains(secret), "{format}: {secret}\n{text}");
        }
        assert_ne!(out.status.code(), Some(101));
    }
    assert!(
        fired,
        "LD707 and LD710 never fired: the test checks nothing"
    );
}
