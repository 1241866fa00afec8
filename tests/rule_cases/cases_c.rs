//! Fires/silent pairs of the LD7xx family (see tests/rule_cases.rs): a layer modelled on the
//! reference architecture's vault layers (binbashar/le-tf-infra-aws
//! `shared/us-east-1/tools-github-selfhosted-runners/config.tf`: `provider "vault"` with
//! `address = var.vault_address` and `token = var.vault_token`, the token from the HCP portal),
//! plus a github provider and a module fetched over SSH.

use super::Edit::*;
use super::RuleCase;

const VAULT: &str = "shared/us-east-1/tools-vault";
const CONFIG_TF: &str = "project/shared/us-east-1/tools-vault/config.tf";
const VARIABLES_TF: &str = "project/shared/us-east-1/tools-vault/variables.tf";
const MAIN_TF: &str = "project/shared/us-east-1/tools-vault/main.tf";
const VAULT_TFVARS: &str = "project/shared/config/vault.tfvars";

const CONFIG: &str = r#"provider "aws" {
  region  = var.region
  profile = var.profile
}

#=============================#
# Vault Provider Settings     #
#=============================#
provider "vault" {
  address = var.vault_address

  /*
  Vault token that will be used by Terraform to authenticate.
  admin token from https://portal.cloud.hashicorp.com/.
  */
  token = var.vault_token
}

terraform {
  required_version = "~> 1.6"

  required_providers {
    aws   = "~> 5.24"
    vault = "~> 3.6"
  }

  backend "s3" {
    key = "shared/tools-vault/terraform.tfstate"
  }
}
"#;

const VARIABLES: &str = r#"variable "vault_address" {
  type = string
}

variable "vault_token" {
  type      = string
  sensitive = true
}
"#;

const ADDRESS: &str = "vault_address = \"https://bb-vault.vault.11eb.aws.hashicorp.cloud:8200\"\n";
/// A made-up token of the documented shape (`hvs.` and 24+ characters).
const GOOD_TOKEN: &str = "vault_token = \"hvs.LDFIXTURESECRETvaultTokenAbc123\"\n";

const K8S: &str = "shared/us-east-1/k8s";
const K8S_CONFIG_TF: &str = "project/shared/us-east-1/k8s/config.tf";
const K8S_KUBECONFIG: &str = "project/shared/us-east-1/k8s/kubeconfig";
/// A layer of the reference architecture's k8s-eks kind, with the kubeconfig
/// `aws eks update-kubeconfig --alias bb-shared-eks` writes kept beside it.
const K8S_CONFIG: &str = r#"provider "kubernetes" {
  config_path    = "kubeconfig"
  config_context = "bb-shared-eks"
}

resource "kubernetes_namespace" "monitoring" {
  metadata {
    name = "monitoring"
  }
}
"#;
const KUBECONFIG: &str = r#"apiVersion: v1
clusters:
- cluster:
    server: https://ABCDEF.gr7.us-east-1.eks.amazonaws.com
  name: arn:aws:eks:us-east-1:222222222222:cluster/bb-shared-eks
contexts:
- context:
    cluster: arn:aws:eks:us-east-1:222222222222:cluster/bb-shared-eks
    user: arn:aws:eks:us-east-1:222222222222:cluster/bb-shared-eks
  name: bb-shared-eks
current-context: bb-shared-eks
kind: Config
users:
- name: arn:aws:eks:us-east-1:222222222222:cluster/bb-shared-eks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args:
      - --region
      - us-east-1
      - eks
      - get-token
      - --cluster-name
      - bb-shared-eks
      env:
      - name: AWS_PROFILE
        value: bb-shared-devops
"#;

const SOPS: &str = "shared/us-east-1/secrets";
const SOPS_TF: &str = "project/shared/us-east-1/secrets/config.tf";
const SOPS_FILE: &str = "project/shared/us-east-1/secrets/secrets.enc.yaml";
const SOPS_CONFIG: &str = r#"provider "aws" {
  region  = var.region
  profile = var.profile
}

data "sops_file" "secrets" {
  source_file = "${path.module}/secrets.enc.yaml"
}
"#;
/// The metadata `sops --encrypt --kms <arn> --aws-profile bb-shared-devops` writes.
const SOPS_SHARED: &str = "password: ENC[AES256_GCM,data:abc=,iv:x=,tag:y=,type:str]\nsops:\n    kms:\n        - arn: arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab\n          created_at: \"2024-01-01T00:00:00Z\"\n          enc: AQICAHg=\n          aws_profile: bb-shared-devops\n    version: 3.8.1\n";

const MODULES: &str = "shared/us-east-1/modules";
const MODULES_TF: &str = "project/shared/us-east-1/modules/main.tf";
const SSH_MODULE: &str = "module \"secrets\" {\n  source = \"git@gitlab.internal.example:binbash/terraform-secrets.git?ref=v1.0.0\"\n}\n";
const HTTPS_MODULE: &str = "module \"secrets\" {\n  source = \"git::https://gitlab.internal.example/binbash/terraform-secrets.git?ref=v1.0.0\"\n}\n";
/// `ssh-keyscan gitlab.internal.example | ssh-keygen -H -f -`: the host name as HMAC-SHA1.
const HASHED_KNOWN_HOST: &str = "|1|TERmaXh0dXJlU2FsdExEZml4dHU=|8GEsbfI3H8xB1+kH5wjAXcJTkYI= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixtureHostKey\n";

pub const CASES: &[RuleCase] = &[
    // The HCP portal token was never put in a tfvars file: Terraform asks for it.
    RuleCase {
        rule: "LD701",
        base: "sso-healthy",
        scope: VAULT,
        fires: &[
            Write(CONFIG_TF, CONFIG),
            Write(VARIABLES_TF, VARIABLES),
            Write(VAULT_TFVARS, ADDRESS),
        ],
        twin: &[
            Write(CONFIG_TF, CONFIG),
            Write(VARIABLES_TF, VARIABLES),
            Write(VAULT_TFVARS, ADDRESS),
            Append(VAULT_TFVARS, GOOD_TOKEN),
        ],
        args: &[],
        env: &[],
    },
    // The unseal key pasted where the token goes.
    RuleCase {
        rule: "LD702",
        base: "sso-healthy",
        scope: VAULT,
        fires: &[
            Write(CONFIG_TF, CONFIG),
            Write(VARIABLES_TF, VARIABLES),
            Write(VAULT_TFVARS, ADDRESS),
            Append(
                VAULT_TFVARS,
                "vault_token = \"LDFIXTURESECRETunsealKey0000000000000000\"\n",
            ),
        ],
        twin: &[
            Write(CONFIG_TF, CONFIG),
            Write(VARIABLES_TF, VARIABLES),
            Write(VAULT_TFVARS, ADDRESS),
            Append(VAULT_TFVARS, GOOD_TOKEN),
        ],
        args: &[],
        env: &[],
    },
    // A private module over SSH, and no agent for the toolbox container to use.
    RuleCase {
        rule: "LD703",
        base: "sso-healthy",
        scope: VAULT,
        fires: &[
            Write(CONFIG_TF, CONFIG),
            Write(VARIABLES_TF, VARIABLES),
            Write(VAULT_TFVARS, ADDRESS),
            Append(VAULT_TFVARS, GOOD_TOKEN),
            Write(
                MAIN_TF,
                "module \"secrets\" {\n  source = \"git@github.com:binbashar/terraform-vault-secrets.git?ref=v1.0.0\"\n}\n",
            ),
        ],
        twin: &[
            Write(CONFIG_TF, CONFIG),
            Write(VARIABLES_TF, VARIABLES),
            Write(VAULT_TFVARS, ADDRESS),
            Append(VAULT_TFVARS, GOOD_TOKEN),
            Write(
                MAIN_TF,
                "module \"secrets\" {\n  source = \"git::https://github.com/binbashar/terraform-vault-secrets.git?ref=v1.0.0\"\n}\n",
            ),
        ],
        args: &[],
        env: &[],
    },
    // The provider names a context the kubeconfig (written with another --alias) lacks.
    RuleCase {
        rule: "LD707",
        base: "sso-healthy",
        scope: K8S,
        fires: &[
            Write(
                K8S_CONFIG_TF,
                "provider \"kubernetes\" {\n  config_path    = \"kubeconfig\"\n  config_context = \"bb-shared-eks-cluster\"\n}\n\nresource \"kubernetes_namespace\" \"monitoring\" {\n  metadata {\n    name = \"monitoring\"\n  }\n}\n",
            ),
            Write(K8S_KUBECONFIG, KUBECONFIG),
        ],
        twin: &[
            Write(K8S_CONFIG_TF, K8S_CONFIG),
            Write(K8S_KUBECONFIG, KUBECONFIG),
        ],
        args: &[],
        env: &[],
    },
    // A secrets file copied from the apps-devstg layer: its key is that account's.
    RuleCase {
        rule: "LD708",
        base: "sso-healthy",
        scope: SOPS,
        fires: &[
            Write(SOPS_TF, SOPS_CONFIG),
            Write(SOPS_FILE, SOPS_SHARED),
            Replace(
                SOPS_FILE,
                "us-east-1:222222222222:key",
                "us-east-1:333333333333:key",
            ),
        ],
        twin: &[Write(SOPS_TF, SOPS_CONFIG), Write(SOPS_FILE, SOPS_SHARED)],
        args: &[],
        env: &[],
    },
    // A private module over SSH from a host never connected to: CI stops at the host key.
    RuleCase {
        rule: "LD709",
        base: "v3-sso-healthy",
        scope: MODULES,
        fires: &[Write(MODULES_TF, SSH_MODULE)],
        twin: &[
            Write(MODULES_TF, SSH_MODULE),
            Write("home/.ssh/known_hosts", HASHED_KNOWN_HOST),
        ],
        args: &[],
        env: &[],
    },
    // A module over HTTPS from a host git has no credential for.
    RuleCase {
        rule: "LD710",
        base: "sso-healthy",
        scope: MODULES,
        fires: &[Write(MODULES_TF, HTTPS_MODULE)],
        twin: &[
            Write(MODULES_TF, HTTPS_MODULE),
            Write(
                "home/.gitconfig",
                "[credential \"https://gitlab.internal.example\"]\n\thelper = store\n",
            ),
        ],
        args: &[],
        env: &[],
    },
];

/// The report lists each credential with where it comes from and its status (JSON
/// `credentials`, a line each in the human report), and leaves the field out where no layer
/// needs one.
#[test]
fn credentials_are_listed() {
    use crate::support::{Case, check_json};
    let case = Case::new("sso-healthy");
    let (_, json) = check_json(
        case.cmd("shared/us-east-1/base-network")
            .args(["check", "--offline"]),
    );
    assert!(json.get("credentials").is_none(), "{json}");
    super::apply(
        &case,
        &[
            Write(CONFIG_TF, CONFIG),
            Write(VARIABLES_TF, VARIABLES),
            Write(VAULT_TFVARS, ADDRESS),
        ],
    );
    let (code, json) = check_json(case.cmd(VAULT).args(["check", "--offline"]));
    assert_eq!(code, 1);
    let rows: Vec<(String, String, String, String)> = json["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
            (s("provider"), s("credential"), s("source"), s("status"))
        })
        .collect();
    let want = [
        (
            "vault",
            "address",
            "var.vault_address via config/*.tfvars",
            "ok",
        ),
        ("vault", "token", "var.vault_token", "missing"),
    ]
    .map(|(a, b, c, d)| (a.into(), b.into(), c.into(), d.into()));
    assert_eq!(rows, want);
    let out = case
        .cmd(VAULT)
        .args(["check", "--offline", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("  vault token: missing, from var.vault_token  "),
        "{text}"
    );
}

/// A provider only `required_providers` names is configured only when something uses it; the
/// layer's own terraform.tfvars / *.auto.tfvars give its variables (Terraform loads them).
#[test]
fn usage_and_the_layers_own_tfvars() {
    use crate::support::{Case, check_json};
    let rules = |case: &Case| -> Vec<(String, String)> {
        let (_, json) = check_json(case.cmd("shared/us-east-1/tools-tfe").args([
            "check",
            "--offline",
            "--select",
            "LD701",
        ]));
        json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["severity"].as_str().unwrap_or("").to_string(),
                    d["message"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let required =
        "terraform {\n  required_providers {\n    tfe = { source = \"hashicorp/tfe\" }\n  }\n}\n";
    let case = Case::new("sso-healthy");
    super::apply(
        &case,
        &[Write(
            "project/shared/us-east-1/tools-tfe/config.tf",
            required,
        )],
    );
    assert!(rules(&case).is_empty(), "{:?}", rules(&case));
    super::apply(
        &case,
        &[Write(
            "project/shared/us-east-1/tools-tfe/main.tf",
            "resource \"tfe_workspace\" \"w\" {\n  name = \"w\"\n}\n",
        )],
    );
    let found = rules(&case);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "error");
    assert!(
        found[0].1.contains("provider \"tfe\" has no token"),
        "{found:?}"
    );
    // Only a module call: it may use the provider, or not.
    super::apply(
        &case,
        &[Write(
            "project/shared/us-east-1/tools-tfe/main.tf",
            "module \"m\" {\n  source = \"./m\"\n}\n",
        )],
    );
    let found = rules(&case);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "warning");
    // A variable the layer's own terraform.tfvars gives.
    let case = Case::new("sso-healthy");
    super::apply(
        &case,
        &[
            Write(CONFIG_TF, CONFIG),
            Write(VARIABLES_TF, VARIABLES),
            Write(VAULT_TFVARS, ADDRESS),
            Write(
                "project/shared/us-east-1/tools-vault/terraform.tfvars",
                GOOD_TOKEN,
            ),
        ],
    );
    let (code, json) =
        check_json(
            case.cmd(VAULT)
                .args(["check", "--offline", "--select", "LD701"]),
        );
    assert_eq!(code, 0, "{json}");
}

/// A kubeconfig the provider names: missing, or in the home folder the toolbox container
/// (before 3.x) does not mount; found with 3.x, which runs Terraform on this machine.
#[test]
fn kubeconfig_paths() {
    use crate::support::{Case, check_json};
    let config = "provider \"kubernetes\" {\n  config_path = \"~/.kube/config\"\n}\nresource \"kubernetes_namespace\" \"n\" {\n  metadata {\n    name = \"n\"\n  }\n}\n";
    let messages = |base: &str, kubeconfig: bool| -> Vec<String> {
        let case = Case::new(base);
        super::apply(
            &case,
            &[Write("project/shared/us-east-1/k8s/config.tf", config)],
        );
        if kubeconfig {
            super::apply(&case, &[Write("home/.kube/config", "apiVersion: v1\n")]);
        }
        let (_, json) = check_json(case.cmd("shared/us-east-1/k8s").args([
            "check",
            "--offline",
            "--select",
            "LD701",
        ]));
        json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["message"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let container = messages("sso-healthy", true);
    assert_eq!(container.len(), 1, "{container:?}");
    assert!(container[0].contains("does not mount"), "{container:?}");
    assert!(messages("v3-sso-healthy", true).is_empty());
    let missing = messages("v3-sso-healthy", false);
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(missing[0].contains("which does not exist"), "{missing:?}");
    // A checkout naming a path outside the project and home (absolute, or climbing out with
    // `..`) is not probed: the report must not tell a pull request which files exist there.
    for outside in [
        "/etc/hostname-nowhere",
        "../../../../../../etc/nowhere",
        "~/../../nowhere",
    ] {
        let case = Case::new("v3-sso-healthy");
        let layer = case.project().join("shared/us-east-1/k8s");
        std::fs::create_dir_all(&layer).unwrap();
        std::fs::write(
            layer.join("config.tf"),
            config.replace("~/.kube/config", outside),
        )
        .unwrap();
        let (_, json) = check_json(case.cmd("shared/us-east-1/k8s").args([
            "check",
            "--offline",
            "--select",
            "LD701",
        ]));
        assert_eq!(json["diagnostics"], serde_json::json!([]), "{outside}");
    }
}

/// The kubeconfig's own context checks: the current-context when no config_context is written,
/// and the profile its `exec` user runs `aws eks get-token` with, an AWS reference (LD102 in an
/// IAM project when it is nowhere in the AWS files).
#[test]
fn kubeconfig_contexts_and_exec_profiles() {
    use crate::support::{Case, check_json};
    let run = |base: &str, config: &str, kubeconfig: &str, rule: &str| -> Vec<String> {
        let case = Case::new(base);
        for (file, text) in [(K8S_CONFIG_TF, config), (K8S_KUBECONFIG, kubeconfig)] {
            let path = case.dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let (_, json) = check_json(case.cmd(K8S).args(["check", "--offline", "--select", rule]));
        json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["message"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let no_context = K8S_CONFIG.replace("  config_context = \"bb-shared-eks\"\n", "");
    assert!(run("sso-healthy", &no_context, KUBECONFIG, "LD707").is_empty());
    let stale = KUBECONFIG.replace("current-context: bb-shared-eks", "current-context: bb-old");
    let found = run("sso-healthy", &no_context, &stale, "LD707");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("current-context `bb-old`"), "{found:?}");
    let none = KUBECONFIG.replace("current-context: bb-shared-eks\n", "");
    let found = run("sso-healthy", &no_context, &none, "LD707");
    assert!(found[0].contains("names no current-context"), "{found:?}");
    let found = run("sso-healthy", &no_context, "contexts: [\n", "LD707");
    assert!(found[0].contains("is not a kubeconfig"), "{found:?}");
    // A checkout's "billion laughs" (nine levels of nine aliases) is refused as it is read,
    // not expanded: the run ends at once with the same finding.
    let mut laughs = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let refs = vec![format!("*{}", pair[0]); 9].join(",");
        laughs.push_str(&format!("{}: &{} [{refs}]\n", pair[1], pair[1]));
    }
    laughs.push_str("contexts: [*i]\n");
    let found = run("sso-healthy", &no_context, &laughs, "LD707");
    assert!(found[0].contains("is not a kubeconfig"), "{found:?}");
    // The exec user's AWS_PROFILE is a reference: found in the IAM project's files, or not.
    assert!(run("iam-mfa-healthy", K8S_CONFIG, KUBECONFIG, "LD102").is_empty());
    let typo = KUBECONFIG.replace("value: bb-shared-devops", "value: bb-shared-devop");
    let found = run("iam-mfa-healthy", K8S_CONFIG, &typo, "LD102");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("bb-shared-devop"), "{found:?}");
    // Only the context in use counts: another context's user is not a reference.
    let other = K8S_CONFIG.replace("\"bb-shared-eks\"", "\"other\"");
    let two = typo.replace(
        "  name: bb-shared-eks\n",
        "  name: bb-shared-eks\n- context:\n    cluster: c\n    user: u\n  name: other\n",
    );
    assert!(run("iam-mfa-healthy", &other, &two, "LD102").is_empty());
}

/// `data "aws_eks_cluster_auth"` gets its token with the AWS provider it names (`provider =
/// aws.<alias>`, else the default one): that provider's profile is a reference like any other,
/// whether or not anything else uses the alias.
#[test]
fn eks_cluster_auth_counts_its_providers_profile() {
    use crate::support::{Case, check_json};
    let config = |profile: &str| {
        format!(
            "provider \"aws\" {{\n  region  = var.region\n  profile = var.profile\n}}\n\nprovider \"aws\" {{\n  alias   = \"eks\"\n  region  = var.region\n  profile = \"{profile}\"\n}}\n\ndata \"aws_eks_cluster_auth\" \"cluster\" {{\n  provider = aws.eks\n  name     = \"bb-shared-eks\"\n}}\n\nprovider \"kubernetes\" {{\n  host  = \"https://ABCDEF.gr7.us-east-1.eks.amazonaws.com\"\n  token = data.aws_eks_cluster_auth.cluster.token\n}}\n"
        )
    };
    let run = |profile: &str| -> Vec<String> {
        let case = Case::new("iam-mfa-healthy");
        let path = case.dir.path().join(K8S_CONFIG_TF);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, config(profile)).unwrap();
        let (_, json) = check_json(
            case.cmd(K8S)
                .args(["check", "--offline", "--select", "LD102"]),
        );
        json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["message"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert!(run("bb-shared-devops").is_empty());
    let found = run("bb-shared-eks-devops");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("bb-shared-eks-devops"), "{found:?}");
}

/// Known hosts (plain, hashed, other host), StrictHostKeyChecking, and ~/.netrc (seen by 3.x
/// only: the 2.x toolbox container does not mount it).
#[test]
fn git_host_keys_and_https_credentials() {
    use crate::support::{Case, check_json};
    let run = |base: &str, module: &str, home: &[(&str, &str)], rule: &str| -> usize {
        let case = Case::new(base);
        let mut files = vec![(MODULES_TF, module)];
        files.extend_from_slice(home);
        for (file, text) in files {
            let path = case.dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let (_, json) =
            check_json(
                case.cmd(MODULES)
                    .args(["check", "--offline", "--select", rule]),
            );
        json["diagnostics"].as_array().unwrap().len()
    };
    let known = |text: &'static str| [("home/.ssh/known_hosts", text)];
    assert_eq!(
        run(
            "v3-sso-healthy",
            SSH_MODULE,
            &known("gitlab.internal.example,10.0.0.1 ssh-ed25519 AAAA\n"),
            "LD709"
        ),
        0
    );
    assert_eq!(
        run(
            "v3-sso-healthy",
            SSH_MODULE,
            &known("github.com ssh-ed25519 AAAA\n"),
            "LD709"
        ),
        1
    );
    assert_eq!(
        run(
            "v3-sso-healthy",
            SSH_MODULE,
            &known("@revoked gitlab.internal.example ssh-ed25519 AAAA\n"),
            "LD709"
        ),
        1
    );
    assert_eq!(
        run(
            "v3-sso-healthy",
            SSH_MODULE,
            &[(
                "home/.ssh/config",
                "Host *\n  StrictHostKeyChecking accept-new\n"
            )],
            "LD709"
        ),
        0
    );
    // Before 3.x git runs in the toolbox container: its known hosts are not seen from here.
    assert_eq!(run("sso-healthy", SSH_MODULE, &[], "LD709"), 0);
    let netrc = [(
        "home/.netrc",
        "machine gitlab.internal.example login me password LDFIXTURESECRETnetrc\n",
    )];
    assert_eq!(run("v3-sso-healthy", HTTPS_MODULE, &netrc, "LD710"), 0);
    assert_eq!(run("sso-healthy", HTTPS_MODULE, &netrc, "LD710"), 1);
    let helper = [("home/.gitconfig", "[credential]\n\thelper = osxkeychain\n")];
    assert_eq!(run("sso-healthy", HTTPS_MODULE, &helper, "LD710"), 0);
}

/// `*.tf.json`: Terraform reads its `provider` blocks (the Leverage CLI does not): a profile
/// there is a reference, shown at its line in the JSON; a vault provider there needs its token.
#[test]
fn tf_json_providers_are_read() {
    use crate::support::{Case, check_json};
    const LAYER: &str = "shared/us-east-1/base-network";
    let run = |base: &str, json: &str, rule: &str| -> Vec<(String, String)> {
        let case = Case::new(base);
        let path = case
            .dir
            .path()
            .join("project")
            .join(LAYER)
            .join("providers.tf.json");
        std::fs::write(path, json).unwrap();
        let (_, report) =
            check_json(
                case.cmd(LAYER)
                    .args(["check", "--offline", "--select", rule]),
            );
        report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["message"].as_str().unwrap_or("").to_string(),
                    format!(
                        "{}:{}",
                        d["file"].as_str().unwrap_or(""),
                        d["line"].as_u64().unwrap_or(0)
                    ),
                )
            })
            .collect()
    };
    let aws = |profile: &str| {
        format!(
            "{{\n  \"provider\": {{\n    \"aws\": [\n      {{\n        \"alias\": \"json\",\n        \"region\": \"us-east-1\",\n        \"profile\": \"{profile}\"\n      }}\n    ]\n  }}\n}}\n"
        )
    };
    assert_eq!(
        run("iam-mfa-healthy", &aws("bb-shared-devops"), "LD102"),
        []
    );
    let found = run("iam-mfa-healthy", &aws("bb-shared-devop"), "LD102");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].0.contains("bb-shared-devop"), "{found:?}");
    assert!(found[0].1.ends_with("providers.tf.json:7"), "{found:?}");
    let vault = "{\"provider\": {\"vault\": {\"address\": \"https://vault.example.com:8200\"}},\n \"data\": {\"vault_generic_secret\": {\"s\": {\"path\": \"secret/x\"}}}}\n";
    let found = run("sso-healthy", vault, "LD701");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].0.contains("vault"), "{found:?}");
    // A token variable declared (with a default) in JSON counts as declared and set.
    let declared = "{\"provider\": {\"vault\": {\"address\": \"https://vault.example.com:8200\", \"token\": \"${var.vault_token}\"}},\n \"variable\": {\"vault_token\": {\"default\": \"hvs.LDFIXTURESECRETjsonDefault0000\"}},\n \"data\": {\"vault_generic_secret\": {\"s\": {\"path\": \"secret/x\"}}}}\n";
    assert_eq!(run("sso-healthy", declared, "LD701"), []);
    let undeclared = declared.replace(
        "\"variable\": {\"vault_token\": {\"default\": \"hvs.LDFIXTURESECRETjsonDefault0000\"}}",
        "\"variable\": {\"vault_token\": {}}",
    );
    let found = run("sso-healthy", &undeclared, "LD701");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].0.contains("var.vault_token"), "{found:?}");
    // Not JSON: Terraform fails on it too.
    let found = run("sso-healthy", "{\"provider\": ", "LD002");
    assert_eq!(found.len(), 1, "{found:?}");
}

/// With no `config_path`, the provider reads `KUBE_CONFIG_PATH` (not `KUBECONFIG`): with 3.x,
/// which runs Terraform with your shell's variables, that file's current-context is checked.
#[test]
fn kube_config_path_from_the_environment() {
    use crate::support::{Case, check_json};
    let count = |base: &str, var: &str| -> usize {
        let case = Case::new(base);
        let config = case.dir.path().join(K8S_CONFIG_TF);
        std::fs::create_dir_all(config.parent().unwrap()).unwrap();
        std::fs::write(
            &config,
            "provider \"kubernetes\" {}\nresource \"kubernetes_namespace\" \"n\" {\n  metadata {\n    name = \"n\"\n  }\n}\n",
        )
        .unwrap();
        let kube = case.home().join(".kube/config");
        std::fs::create_dir_all(kube.parent().unwrap()).unwrap();
        std::fs::write(
            &kube,
            KUBECONFIG.replace("current-context: bb-shared-eks", "current-context: bb-old"),
        )
        .unwrap();
        let (_, json) = check_json(case.cmd(K8S).env(var, &kube).args([
            "check",
            "--offline",
            "--select",
            "LD707",
        ]));
        json["diagnostics"].as_array().unwrap().len()
    };
    assert_eq!(count("v3-sso-healthy", "KUBE_CONFIG_PATH"), 1);
    assert_eq!(count("v3-sso-healthy", "KUBECONFIG"), 0);
    // The 2.x toolbox container gets neither the variable nor the home folder.
    assert_eq!(count("sso-healthy", "KUBE_CONFIG_PATH"), 0);
}
