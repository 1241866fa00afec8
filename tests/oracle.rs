//! Differential tests against the real Leverage CLI 3.1.0 (PyPI, installed into .venv-leverage/
//! by scripts/test.sh). For each case, `leverage tf plan` runs in a layer with build.env
//! `TF_BINARY` pointing to a stub that asks STS (moto) for every profile Terraform would read;
//! SSO GetRoleCredentials goes to a test server speaking the portal's wire format. The doctor's
//! offline verdict for that layer (any error or none) must equal what happened. When they
//! disagree, the doctor is wrong.

use crate::support::{Case, Moto, check_json};
use std::path::{Path, PathBuf};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub(crate) fn venv() -> PathBuf {
    std::env::var_os("LEVERAGE_DOCTOR_LEVERAGE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-leverage"))
}

/// The stub Terraform: answers `--version` like OpenTofu; otherwise works out, on its own and
/// not from the doctor, which profiles Terraform reads in the folder it runs in — every `profile`
/// of every `*.tf` (python-hcl2, as the CLI parses; `default` for a `provider "aws"` without
/// one), `${var.x}` from the `-var-file`s the CLI
/// passes, and, where a layer keeps its state in S3, the backend's `profile` (backend.tfvars is
/// one of them) — then gets an identity
/// for each through the files the CLI points AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE at
/// (the region is Terraform's to pass; a `data "sops_file"`'s file adds its KMS keys'
/// `aws_profile`s), and leaves a mark when every one worked:
/// `leverage tf plan` (3.1.0) exits 0 even when Terraform fails. A var-file Terraform would
/// refuse (an interpolation in a .tfvars) fails the stub too.
const STUB: &str = r#"import glob, os, re, sys
if sys.argv[1:2] in (["--version"], ["version"]):
    print("OpenTofu v1.8.0")
    sys.exit(0)
import boto3, hcl2
variables = {}
for a in sys.argv[1:]:
    if a.startswith("-var-file="):
        with open(a.split("=", 1)[1]) as f:
            values = hcl2.load(f)
        for k, v in values.items():
            if isinstance(v, str) and "${" in v:
                print(f"stub: {a}: variables are not allowed in a .tfvars ({k})", file=sys.stderr)
                sys.exit(1)
        variables.update(values)
found = set()
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            if k == "profile" and isinstance(x, str):
                found.add(x)
            else:
                walk(x)
    elif isinstance(v, list):
        # an exec block's `args = [..., "--profile", X]`: Terraform runs the AWS CLI with it
        for a, b in zip(v, v[1:]):
            if a == "--profile" and isinstance(b, str):
                found.add(b)
        for x in v:
            walk(x)
for name in sorted(glob.glob("*.tf")):
    with open(name) as f:
        body = hcl2.load(f)
    walk(body)
    # the sops provider opens a session with each KMS key's aws_profile of the file it decrypts
    for block in body.get("data", []):
        for config in (block.get("sops_file") or {}).values():
            source = str(config.get("source_file", "")).replace("${path.module}/", "")
            if os.path.isfile(source):
                for m in re.finditer(r'aws_profile"?\s*:\s*"?([A-Za-z0-9_.@+-]+)', open(source).read()):
                    found.add(m.group(1))
    for block in body.get("provider", []):
        for config in (block.get("aws"),) if isinstance(block.get("aws"), dict) else []:
            if "profile" not in config:
                found.add("default")
profiles = set()
for raw in found:
    value = re.sub(r"\$\{var\.([A-Za-z0-9_]+)\}", lambda m: str(variables.get(m.group(1), m.group(0))), raw)
    if "${" not in value:
        profiles.add(value)
def s3_backend(v):
    if isinstance(v, dict):
        return any((k == "backend" and "s3" in str(x)) or s3_backend(x) for k, x in v.items())
    if isinstance(v, list):
        return any(s3_backend(x) for x in v)
    return False
backend = False
for name in sorted(glob.glob("*.tf")):
    with open(name) as f:
        backend = backend or s3_backend(hcl2.load(f).get("terraform", []))
if backend and isinstance(variables.get("profile"), str):
    profiles.add(variables["profile"])
import configparser
def keys(p):
    out = {}
    for path, name in ((os.environ["AWS_CONFIG_FILE"], p if p == "default" else "profile " + p),
                       (os.environ["AWS_SHARED_CREDENTIALS_FILE"], p)):
        c = configparser.RawConfigParser()
        c.read(path)
        if c.has_section(name):
            out.update(c.items(name))
    return out
def go_sdk_refuses(p, seen=()):
    # Terraform's Go SDK (unlike boto3) refuses a credential source with no role to assume
    k = keys(p)
    if ("source_profile" in k or "credential_source" in k) and "role_arn" not in k:
        return True
    src = k.get("source_profile")
    return bool(src) and src not in seen and go_sdk_refuses(src, seen + (p,))
ok = True
for p in sorted(profiles):
    if go_sdk_refuses(p):
        print(f"stub: {p}: credential type source_profile requires role_arn", file=sys.stderr)
        ok = False
        continue
    try:
        boto3.Session(profile_name=p, region_name="us-east-1").client("sts").get_caller_identity()
    except Exception as e:
        print(f"stub: {p}: {type(e).__name__}", file=sys.stderr)
        ok = False
print("stub: profiles " + ",".join(sorted(profiles)), file=sys.stderr)
if ok:
    open(os.environ["STUB_MARK"], "w").write("ok")
sys.exit(0 if ok else 1)
"#;

/// A case: what it is, whether `leverage tf plan` must work, and how it changes the fixture.
type Twin = (&'static str, bool, Box<dyn Fn(&Oracle) + Send>);

pub(crate) struct Oracle {
    pub(crate) case: Case,
    mark: PathBuf,
}

impl Oracle {
    /// A fixture copied, made a git repository (the CLI needs its top level), with the stub as
    /// TF_BINARY.
    pub(crate) fn new(fixture: &str) -> Oracle {
        let venv = venv();
        assert!(
            venv.join("bin/leverage").exists(),
            "the Leverage CLI is not installed at {}: run ./scripts/test.sh, which installs leverage==3.1.0",
            venv.display()
        );
        let case = Case::new(fixture);
        let stub = case.dir.path().join("tofu-stub");
        std::fs::write(
            &stub,
            format!("#!{}\n{STUB}", venv.join("bin/python3").display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
        let build = case.project().join("build.env");
        let text: String = std::fs::read_to_string(&build)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("TF_BINARY="))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&build, format!("{text}TF_BINARY={}\n", stub.display())).unwrap();
        let git = std::process::Command::new("git")
            .args(["init", "-q"])
            .current_dir(case.project())
            .status()
            .unwrap();
        assert!(git.success());
        let mark = case.dir.path().join("stub-ran");
        Oracle { case, mark }
    }

    fn edit(&self, rel: &str, f: impl FnOnce(String) -> String) {
        let path = if let Some(aws) = rel.strip_prefix("~/") {
            self.case.home().join(aws)
        } else {
            self.case.project().join(rel)
        };
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        std::fs::write(&path, f(text)).unwrap();
    }

    /// The doctor's offline verdict for the layer, and the profiles Terraform reads there.
    fn doctor(&self, layer: &str, tz: &str, env: &[(&str, String)]) -> (bool, Vec<String>, String) {
        let mut cmd = self.case.cmd(layer);
        cmd.env("TZ", tz);
        // The same PATH (where `tofu` is looked for) and AWS_PROFILE as the CLI's run;
        // endpoints are not read offline.
        for (k, v) in env
            .iter()
            .filter(|(k, _)| ["PATH", "AWS_PROFILE"].contains(k))
        {
            cmd.env(k, v);
        }
        let (code, report) = check_json(cmd.args(["check", "--offline"]));
        assert!(code <= 1, "{report:#}");
        let profiles = report["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect();
        let errors: Vec<String> = report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["severity"] == "error")
            .map(|d| format!("{} {}", d["rule"], d["message"]))
            .collect();
        (code == 0, profiles, errors.join("\n"))
    }

    /// Whether `leverage tf plan` got Terraform (the stub) every credential it needs.
    pub(crate) fn cli(&self, layer: &str, tz: &str, env: &[(&str, String)]) -> (bool, String) {
        let _ = std::fs::remove_file(&self.mark);
        let mut cmd = std::process::Command::new(venv().join("bin/leverage"));
        cmd.args(["tf", "plan"])
            .current_dir(self.case.project().join(layer))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.case.home())
            .env("TZ", tz)
            .env("COLUMNS", "200")
            .env("STUB_MARK", &self.mark)
            .stdin(std::process::Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let said = format!(
            "exit {:?}\n{}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success() && self.mark.exists(), said)
    }

    /// Runs both and asserts they agree; returns the verdict.
    fn agree(&self, what: &str, layer: &str, tz: &str, env: &[(&str, String)]) -> bool {
        let (doctor_ok, _, errors) = self.doctor(layer, tz, env);
        let (cli_ok, said) = self.cli(layer, tz, env);
        assert_eq!(
            doctor_ok,
            cli_ok,
            "{what}: the doctor says {} but `leverage tf plan` {}\ndoctor errors:\n{errors}\nCLI:\n{said}",
            if doctor_ok { "ok" } else { "broken" },
            if cli_ok { "worked" } else { "failed" },
        );
        cli_ok
    }
}

impl Oracle {
    /// build.env without its TF_BINARY, then `STUB_DIR=<the stub's folder>` and `lines`.
    fn tf_binary_lines(&self, lines: &str) {
        let dir = self.case.dir.path().display().to_string();
        self.edit("build.env", |t| {
            let kept: String = t
                .lines()
                .filter(|l| !l.starts_with("TF_BINARY="))
                .map(|l| format!("{l}\n"))
                .collect();
            format!("{kept}STUB_DIR={dir}\n{lines}\n")
        });
    }

    /// Adds an aliased provider naming `profile` (as written in HCL) to the base-network layer.
    fn add_provider(&self, alias: &str, profile: &str) {
        self.edit("shared/us-east-1/base-network/config.tf", |t| {
            format!("{t}\nprovider \"aws\" {{\n  alias   = \"{alias}\"\n  region  = \"us-east-1\"\n  profile = \"{profile}\"\n}}\n")
        });
    }

    /// The shared account's permission set becomes `DevOpsPrd` (config and account.tfvars).
    fn role_devopsprd(&self) {
        self.edit("~/.aws/bb/config", |t| {
            t.replacen(
                "account_id = 222222222222\nrole_name = DevOps",
                "account_id = 222222222222\nrole_name = DevOpsPrd",
                1,
            )
        });
        self.edit("shared/config/account.tfvars", |t| {
            t.replace("\"DevOps\"", "\"DevOpsPrd\"")
        });
    }
}

/// The portal's GetRoleCredentials for any account and role.
async fn portal() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/federation/credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "roleCredentials": {
                "accessKeyId": "ASIAORACLEORACLE0001",
                "secretAccessKey": "LDFIXTURESECRET-oracle-secret",
                "sessionToken": "LDFIXTURESECRET-oracle-session",
                "expiration": 4_102_444_800_000u64
            }
        })))
        .mount(&server)
        .await;
    server
}

/// Each SSO bullet of 3.x, the broken case and its healthy twin.
#[tokio::test(flavor = "multi_thread")]
async fn sso_layers_agree_with_leverage_3() {
    let server = portal().await;
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    let env = vec![
        ("AWS_ENDPOINT_URL_STS", moto.url()),
        ("AWS_ENDPOINT_URL_SSO", server.uri()),
    ];
    let layer = "shared/us-east-1/base-network";
    let cases: Vec<Twin> = vec![
        ("healthy", true, Box::new(|_| {})),
        (
            // A permission set not called like the backend's suffix: 3.x writes
            // bb-shared-devopsprd for var.profile too, Terraform reads bb-shared-devops.
            "role DevOpsPrd",
            false,
            Box::new(|o: &Oracle| {
                o.role_devopsprd();
            }),
        ),
        (
            // Its twin: the backend names the profile the way 3.x writes it.
            "role DevOpsPrd, backend named for it",
            true,
            Box::new(|o: &Oracle| {
                o.role_devopsprd();
                o.edit("shared/config/backend.tfvars", |t| {
                    t.replace("\"bb-shared-devops\"", "\"bb-shared-devopsprd\"")
                });
            }),
        ),
        (
            // A variable the CLI does not substitute (Terraform alone would).
            "var.environment in a profile",
            false,
            Box::new(|o: &Oracle| {
                o.add_provider("env", "${var.project}-${var.environment}-devops");
            }),
        ),
        (
            "the same profile written literally",
            true,
            Box::new(|o: &Oracle| {
                o.add_provider("env", "${var.project}-shared-devops");
            }),
        ),
        (
            // The account is the text between the first and the last `-`: `bb-bootstrap` has
            // none, `other-shared-devops` is read as account `shared`.
            "a <p>-bootstrap profile in SSO mode",
            false,
            Box::new(|o: &Oracle| {
                o.add_provider("boot", "bb-bootstrap");
            }),
        ),
        (
            "TF_BINARY that does not exist",
            false,
            Box::new(|o: &Oracle| {
                o.edit("build.env", |t| {
                    t.lines()
                        .filter(|l| !l.starts_with("TF_BINARY="))
                        .map(|l| format!("{l}\n"))
                        .collect::<String>()
                        + "TF_BINARY=/nonexistent/tofu\n"
                });
            }),
        ),
        (
            // 3.x `leverage tf` runs `--version` first and refuses a binary that does not say
            // OpenTofu (`leverage terraform` is the command for Terraform).
            "TF_BINARY is Terraform",
            false,
            Box::new(|o: &Oracle| {
                let bin = o.case.dir.path().join("terraform");
                std::fs::write(&bin, "#!/bin/sh\necho 'Terraform v1.5.7'\n").unwrap();
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
                o.tf_binary_lines(&format!("TF_BINARY={}", bin.display()));
            }),
        ),
        (
            // yaenv expands `${NAME}` from the same file.
            "TF_BINARY built from a build.env variable",
            true,
            Box::new(|o: &Oracle| o.tf_binary_lines("TF_BINARY=${STUB_DIR}/tofu-stub")),
        ),
        (
            // Its pattern is greedy: `${A}/${B}` is one unknown name, so TF_BINARY is empty
            // and the CLI looks for `tofu` on PATH.
            "two ${} in TF_BINARY collapse to nothing",
            false,
            Box::new(|o: &Oracle| {
                o.tf_binary_lines("STUB=tofu-stub\nTF_BINARY=${STUB_DIR}/${STUB}")
            }),
        ),
        (
            "a single-quoted TF_BINARY is not expanded",
            false,
            Box::new(|o: &Oracle| o.tf_binary_lines("TF_BINARY='${STUB_DIR}/tofu-stub'")),
        ),
        (
            // yaenv refuses the whole file on one line it cannot read.
            "an `export` line in build.env",
            false,
            Box::new(|o: &Oracle| o.edit("build.env", |t| t + "export AWS_PAGER=\n")),
        ),
    ];
    for (what, expected, setup) in cases {
        let oracle = tokio::task::spawn_blocking(|| Oracle::new("v3-sso-healthy"))
            .await
            .unwrap();
        setup(&oracle);
        let env = env.clone();
        let verdict = tokio::task::spawn_blocking(move || oracle.agree(what, layer, "UTC", &env))
            .await
            .unwrap();
        assert_eq!(
            verdict, expected,
            "{what}: the case itself is not what it means to be"
        );
    }
}

/// 3.x checks the SSO token against the local clock: east of UTC a valid token is refused.
#[tokio::test(flavor = "multi_thread")]
async fn the_token_check_in_local_time_agrees_with_leverage_3() {
    let server = portal().await;
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    let env = vec![
        ("AWS_ENDPOINT_URL_STS", moto.url()),
        ("AWS_ENDPOINT_URL_SSO", server.uri()),
    ];
    let expires = (chrono::Utc::now() + chrono::Duration::hours(2))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    for (tz, expected) in [("UTC", true), ("Etc/GMT-14", false)] {
        let oracle = tokio::task::spawn_blocking(|| Oracle::new("v3-sso-healthy"))
            .await
            .unwrap();
        oracle.edit("~/.aws/bb/sso/cache/token", |_| {
            format!(r#"{{"startUrl":"https://bb-fixture.awsapps.com/start","region":"us-east-1","accessToken":"LDFIXTURESECRET-x","expiresAt":"{expires}"}}"#)
        });
        let env = env.clone();
        let verdict = tokio::task::spawn_blocking(move || {
            oracle.agree(
                &format!("token valid 2h, TZ={tz}"),
                "shared/us-east-1/base-network",
                tz,
                &env,
            )
        })
        .await
        .unwrap();
        assert_eq!(verdict, expected, "TZ={tz}");
    }
}

/// 3.x IAM: the MFA step runs whenever SSO is off and reads `[profile X-mfa]`.
#[test]
fn iam_layers_agree_with_leverage_3() {
    let moto = Moto::start();
    let env = vec![("AWS_ENDPOINT_URL_STS", moto.url())];
    let layer = "shared/us-east-1/base-network";
    let strip_section = |name: &'static str| {
        move |t: String| {
            let start = t.find(&format!("[profile {name}]")).unwrap();
            let end = t[start + 1..]
                .find("\n[")
                .map_or(t.len(), |e| start + 1 + e + 1);
            format!("{}{}", &t[..start], &t[end..])
        }
    };
    let cases: Vec<Twin> = vec![
        ("healthy", true, Box::new(|_| {})),
        (
            "no [profile bb-shared-devops-mfa] (MFA_ENABLED=false)",
            false,
            Box::new(move |o: &Oracle| {
                o.edit("~/.aws/bb/config", strip_section("bb-shared-devops-mfa"))
            }),
        ),
        (
            // 3.x reads mfa_serial without checking it: AttributeError before Terraform runs.
            "[profile bb-shared-devops-mfa] without mfa_serial",
            false,
            Box::new(|o: &Oracle| {
                o.edit("~/.aws/bb/config", |t| {
                    let start = t.find("[profile bb-shared-devops-mfa]").unwrap();
                    let (head, tail) = t.split_at(start);
                    let tail = tail.replacen(
                        "mfa_serial = arn:aws:iam::444444444444:mfa/jane.doe\n",
                        "",
                        1,
                    );
                    format!("{head}{tail}")
                })
            }),
        ),
        (
            "MFA_ENABLED empty: no MFA step, keys already in credentials",
            true,
            Box::new(move |o: &Oracle| {
                o.edit("~/.aws/bb/config", strip_section("bb-shared-devops-mfa"));
                o.edit("build.env", |t| {
                    t.replace("MFA_ENABLED=false", "MFA_ENABLED=")
                });
            }),
        ),
        (
            "a 2.x MFA cache file",
            false,
            Box::new(|o: &Oracle| {
                o.edit("~/.aws/bb/cache/bb-shared-devops", |_| {
                    r#"{"Credentials": {"AccessKeyId": "ASIALDFIXTURESECRET2", "SecretAccessKey": "LDFIXTURESECRETcachedSecret0000000000000", "SessionToken": "LDFIXTURESECRET-session-token", "Expiration": "2099-01-01T00:00:00+00:00"}}"#.to_string()
                })
            }),
        ),
    ];
    for (what, expected, setup) in cases {
        let oracle = Oracle::new("v3-iam-healthy");
        setup(&oracle);
        let verdict = oracle.agree(what, layer, "UTC", &env);
        assert_eq!(
            verdict, expected,
            "{what}: the case itself is not what it means to be"
        );
    }
    drop(moto);
}

/// The name each generation writes SSO credentials under, and the account it reads, asked of
/// the CLIs' own Python (`modules/auth.py` `get_layer_profile` of 2.1.1 and 3.1.0) and of
/// `src/leverage/`: they must agree, reference by reference.
#[test]
fn credential_naming_agrees_with_the_clis_own_functions() {
    use leverage_doctor::leverage::{Generation, LeverageCli, RefKind, cli_account_of};
    let venv2 = std::env::var_os("LEVERAGE_DOCTOR_LEVERAGE2_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-leverage2"));
    // (raw value as python-hcl2 gives it, backend profile, role of the account profile)
    let cases = [
        ("${var.profile}", "bb-shared-devops", "DevOps"),
        ("${var.profile}", "bb-shared-devops", "DevOpsPrd"),
        (
            "${var.project}-shared-devops",
            "bb-shared-devops",
            "DevOpsPrd",
        ),
        ("bb-apps-prd-devops", "bb-shared-devops", "DevOps"),
        ("other-shared-devops", "bb-shared-devops", "DevOps"),
        ("bb-bootstrap", "bb-shared-devops", "DevOps"),
    ];
    let script = r#"
import json, sys
from configupdater import ConfigUpdater
from leverage.modules.auth import get_layer_profile
out = []
for raw, tf_profile, role in json.loads(sys.argv[1]):
    c = ConfigUpdater()
    c.read_string("".join(f"[profile bb-sso-{a}]\naccount_id = 222222222222\nrole_name = {role}\n" for a in ("shared", "apps-prd")))
    try:
        out.append(get_layer_profile(raw, c, tf_profile, "bb")[3])
    except Exception as e:
        out.append("exit " + str(getattr(e, "exit_code", type(e).__name__)))
print(json.dumps(out))
"#;
    let json = serde_json::to_string(&cases).unwrap();
    for (venv, generation) in [(venv2, Generation::V2), (venv(), Generation::V3)] {
        assert!(
            venv.join("bin/python").exists(),
            "{} missing: run ./scripts/test.sh",
            venv.display()
        );
        let out = std::process::Command::new(venv.join("bin/python"))
            .args(["-c", script, &json])
            .env("COLUMNS", "200")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout.lines().last().unwrap_or("");
        let theirs: Vec<String> = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
        let cli = LeverageCli::new(generation);
        for ((raw, tf_profile, role), their) in cases.iter().zip(&theirs) {
            let resolved = raw
                .replace("${var.profile}", tf_profile)
                .replace("${var.project}", "bb");
            let account = cli_account_of(&resolved);
            let ours = if ["shared", "apps-prd"].contains(&account) {
                let kind = if *raw == "${var.profile}" {
                    RefKind::VarProfile
                } else {
                    RefKind::Named
                };
                cli.sso_credentials_name(kind, &resolved, "bb", account, role)
            } else {
                "exit 40".to_string()
            };
            assert_eq!(&ours, their, "{generation:?} {raw} (role {role})");
        }
    }
}

/// Runs each case on a fresh copy of `fixture` in `layer` and asserts that the doctor and
/// `leverage tf plan` agree and that the case is what it means to be.
async fn run_cases(
    fixture: &'static str,
    layer: &'static str,
    env: Vec<(&'static str, String)>,
    cases: Vec<Twin>,
) {
    for (what, expected, setup) in cases {
        let oracle = tokio::task::spawn_blocking(move || Oracle::new(fixture))
            .await
            .unwrap();
        setup(&oracle);
        let env = env.clone();
        let verdict = tokio::task::spawn_blocking(move || oracle.agree(what, layer, "UTC", &env))
            .await
            .unwrap();
        assert_eq!(
            verdict, expected,
            "{what}: the case itself is not what it means to be"
        );
    }
}

const BASE_NETWORK: &str = "shared/us-east-1/base-network";

impl Oracle {
    /// Writes a file of the base-network layer.
    fn layer_file(&self, name: &str, text: &str) {
        std::fs::write(self.case.project().join(BASE_NETWORK).join(name), text).unwrap();
    }

    /// secrets.tf decrypting secrets.enc.yaml, whose KMS key names `profile`.
    fn sops_file(&self, profile: &str) {
        self.layer_file(
            "secrets.tf",
            "data \"sops_file\" \"secrets\" {\n  source_file = \"${path.module}/secrets.enc.yaml\"\n}\n",
        );
        self.layer_file(
            "secrets.enc.yaml",
            &format!("password: ENC[AES256_GCM,data:abc=,type:str]\nsops:\n    kms:\n        - arn: arn:aws:kms:us-east-1:333333333333:key/k\n          aws_profile: {profile}\n    version: 3.8.1\n"),
        );
    }

    /// An aliased provider naming `profile`, in `file` of the base-network layer.
    /// (`__NULL__` writes `profile = null`.)
    fn provider_in(&self, file: &str, alias: &str, profile: &str) {
        let value = if profile == "__NULL__" {
            "null".to_string()
        } else {
            format!("\"{profile}\"")
        };
        self.edit(&format!("{BASE_NETWORK}/{file}"), |t| {
            format!("{t}\nprovider \"aws\" {{\n  alias   = \"{alias}\"\n  region  = \"us-east-1\"\n  profile = {value}\n}}\n")
        });
    }

    /// Deletes the lines of a file that start with `prefix`.
    fn drop_lines(&self, rel: &str, prefix: &str) {
        self.edit(rel, |t| {
            t.lines()
                .filter(|l| !l.starts_with(prefix))
                .map(|l| format!("{l}\n"))
                .collect()
        });
    }

    /// Appends to the project's AWS config.
    fn config_append(&self, text: &str) {
        self.edit("~/.aws/bb/config", |t| format!("{t}\n{text}"));
    }

    /// Role credentials an earlier run left: keys in credentials, `expiration` in config.
    fn cached_role_credentials(&self, profile: &str, expires_in: chrono::Duration, keys: bool) {
        let ms = (chrono::Utc::now() + expires_in).timestamp_millis();
        self.config_append(&format!("[profile {profile}]\nexpiration = {ms}\n"));
        if keys {
            self.edit("~/.aws/bb/credentials", |t| {
                format!("{t}\n[{profile}]\naws_access_key_id = ASIAORACLECACHED0001\naws_secret_access_key = LDFIXTURESECRETcachedSecret9999999999999\naws_session_token = LDFIXTURESECRET-cached-token\n")
            });
        }
    }
}

/// What Terraform reads beyond the CLI's files, what the CLI caches and skips, and what makes
/// the CLI crash before Terraform: each broken case with its healthy twin (3.x, SSO).
#[tokio::test(flavor = "multi_thread")]
async fn the_run_agrees_with_leverage_3_sso() {
    let server = portal().await;
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    let env = vec![
        ("AWS_ENDPOINT_URL_STS", moto.url()),
        ("AWS_ENDPOINT_URL_SSO", server.uri()),
    ];
    let hour = chrono::Duration::hours(1);
    let cases: Vec<Twin> = vec![
        (
            // The CLI reads backend.tfvars only to fill in var.profile: no layer file names
            // the backend's profile, so nothing refreshes it, and the backend needs it.
            "a layer whose files never name the backend's profile",
            false,
            Box::new(|o: &Oracle| {
                o.edit(&format!("{BASE_NETWORK}/config.tf"), |t| {
                    t.replacen(
                        "provider \"aws\" {\n  region  = var.region\n  profile = var.profile\n}\n",
                        "",
                        1,
                    )
                })
            }),
        ),
        (
            "the same layer naming it literally",
            true,
            Box::new(|o: &Oracle| {
                o.edit(&format!("{BASE_NETWORK}/config.tf"), |t| {
                    t.replacen("profile = var.profile", "profile = \"bb-shared-devops\"", 1)
                })
            }),
        ),
        (
            // No profile: the default chain, `[default]` of the project's files (no keys).
            "a provider without a profile",
            false,
            Box::new(|o: &Oracle| {
                o.edit(&format!("{BASE_NETWORK}/config.tf"), |t| {
                    t + "\nprovider \"aws\" {\n  alias  = \"plain\"\n  region = \"us-east-1\"\n}\n"
                })
            }),
        ),
        (
            // Terraform runs `aws eks get-token --profile X`; the CLI reads `profile` keys only.
            "a kubernetes exec block's --profile",
            false,
            Box::new(|o: &Oracle| {
                o.edit(&format!("{BASE_NETWORK}/config.tf"), |t| t + "\nprovider \"kubernetes\" {\n  host = \"https://k8s.example\"\n  exec {\n    api_version = \"client.authentication.k8s.io/v1beta1\"\n    command     = \"aws\"\n    args        = [\"eks\", \"get-token\", \"--cluster-name\", \"c\", \"--profile\", \"bb-apps-devstg-devops\"]\n  }\n}\n")
            }),
        ),
        (
            "the same --profile a provider of config.tf also names",
            true,
            Box::new(|o: &Oracle| {
                o.edit(&format!("{BASE_NETWORK}/config.tf"), |t| t + "\nprovider \"kubernetes\" {\n  host = \"https://k8s.example\"\n  exec {\n    api_version = \"client.authentication.k8s.io/v1beta1\"\n    command     = \"aws\"\n    args        = [\"eks\", \"get-token\", \"--cluster-name\", \"c\", \"--profile\", \"bb-management-devops\"]\n  }\n}\n")
            }),
        ),
        (
            // key_finder returns a block's own `profile` alone: the map beside it is never
            // searched, though Terraform reads the remote state's profile from it.
            "a locals block with its own profile beside a map of remote-state profiles",
            false,
            Box::new(|o: &Oracle| {
                o.layer_file("locals.tf", "locals {\n  profile = \"bb-shared-devops\"\n  remote = {\n    apps = {\n      profile = \"bb-apps-devstg-devops\"\n    }\n  }\n}\n");
            }),
        ),
        (
            "the same map in a locals block without a profile of its own",
            true,
            Box::new(|o: &Oracle| {
                o.layer_file("locals.tf", "locals {\n  remote = {\n    apps = {\n      profile = \"bb-apps-devstg-devops\"\n    }\n  }\n}\n");
            }),
        ),
        (
            // key_finder: `"lookup" in None` raises before Terraform starts.
            "profile = null in config.tf",
            false,
            Box::new(|o: &Oracle| o.provider_in("config.tf", "nul", "__NULL__")),
        ),
        (
            // Terraform reads providers.tf; the CLI scans config.tf, locals.tf, runtime.tf.
            "a provider only providers.tf names",
            false,
            Box::new(|o: &Oracle| {
                o.provider_in("providers.tf", "sec", "${var.project}-apps-devstg-devops")
            }),
        ),
        (
            "the same provider in config.tf",
            true,
            Box::new(|o: &Oracle| {
                o.provider_in("config.tf", "sec", "${var.project}-apps-devstg-devops")
            }),
        ),
        (
            "providers.tf names a profile config.tf also names",
            true,
            Box::new(|o: &Oracle| {
                o.provider_in("providers.tf", "again", "${var.project}-management-devops")
            }),
        ),
        (
            "a remote state in remote_states.tf",
            false,
            Box::new(|o: &Oracle| {
                o.layer_file("remote_states.tf", "data \"terraform_remote_state\" \"x\" {\n  backend = \"s3\"\n  config = {\n    region  = \"us-east-1\"\n    profile = \"${var.project}-apps-devstg-devops\"\n    bucket  = \"b\"\n    key     = \"k\"\n  }\n}\n")
            }),
        ),
        (
            // The sops provider decrypts with the KMS key's `aws_profile`: no step of the CLI
            // reads the encrypted file.
            "a sops file's aws_profile",
            false,
            Box::new(|o: &Oracle| o.sops_file("bb-apps-devstg-devops")),
        ),
        (
            "a sops file's aws_profile that config.tf also names",
            true,
            Box::new(|o: &Oracle| {
                o.sops_file("bb-apps-devstg-devops");
                o.provider_in("config.tf", "kms", "${var.project}-apps-devstg-devops");
            }),
        ),
        (
            "the remote state in config.tf (the CLI finds nested profiles)",
            true,
            Box::new(|o: &Oracle| {
                o.edit(&format!("{BASE_NETWORK}/config.tf"), |t| t + "\ndata \"terraform_remote_state\" \"x\" {\n  backend = \"s3\"\n  config = {\n    region  = \"us-east-1\"\n    profile = \"${var.project}-apps-devstg-devops\"\n    bucket  = \"b\"\n    key     = \"k\"\n  }\n}\n")
            }),
        ),
        (
            "runtime.tf (3.x scans it)",
            true,
            Box::new(|o: &Oracle| {
                o.provider_in("runtime.tf", "rt", "${var.project}-apps-devstg-devops")
            }),
        ),
        (
            "a providers.tf profile whose credentials an earlier run left, fresh",
            true,
            Box::new(move |o: &Oracle| {
                o.provider_in("providers.tf", "sec", "bb-apps-devstg-devops");
                o.cached_role_credentials("bb-apps-devstg-devops", hour * 5, true);
            }),
        ),
        (
            // The CLI trusts `expiration` and does not look at credentials (3.x, 2.x).
            "role credentials marked fresh, missing from credentials",
            false,
            Box::new(move |o: &Oracle| {
                o.cached_role_credentials("bb-shared-devops", hour * 5, false)
            }),
        ),
        (
            "role credentials marked fresh, present in credentials",
            true,
            Box::new(move |o: &Oracle| {
                o.cached_role_credentials("bb-shared-devops", hour * 5, true)
            }),
        ),
        (
            "role credentials within the 30-minute margin, missing: refreshed",
            true,
            Box::new(|o: &Oracle| {
                o.cached_role_credentials("bb-shared-devops", chrono::Duration::minutes(10), false)
            }),
        ),
        (
            "no SSO token",
            false,
            Box::new(|o: &Oracle| {
                std::fs::remove_file(o.case.aws().join("sso/cache/token")).unwrap()
            }),
        ),
        (
            "a token that expired an hour ago",
            false,
            Box::new(|o: &Oracle| {
                let expired = (chrono::Utc::now() - chrono::Duration::hours(1))
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string();
                o.edit("~/.aws/bb/sso/cache/token", |_| format!(r#"{{"startUrl":"https://bb-fixture.awsapps.com/start","region":"us-east-1","accessToken":"LDFIXTURESECRET-x","expiresAt":"{expired}"}}"#));
            }),
        ),
        (
            // The CLI never compares the token's startUrl: the portal's own `#/` is harmless.
            "a token whose startUrl ends in #/",
            true,
            Box::new(|o: &Oracle| {
                o.edit("~/.aws/bb/sso/cache/token", |t| {
                    t.replace("awsapps.com/start\"", "awsapps.com/start/#/\"")
                })
            }),
        ),
        (
            // check_sso_token builds a path from account.tfvars sso_role: TypeError without it.
            "account.tfvars without sso_role",
            false,
            Box::new(|o: &Oracle| o.drop_lines("shared/config/account.tfvars", "sso_role")),
        ),
        (
            // get_profiles reads backend.tfvars["profile"]: KeyError without it.
            "backend.tfvars without profile",
            false,
            Box::new(|o: &Oracle| o.drop_lines("shared/config/backend.tfvars", "profile")),
        ),
        (
            // 3.x reads only sso_region from [profile bb-sso].
            "[profile bb-sso] with sso_region only",
            true,
            Box::new(|o: &Oracle| {
                o.edit("~/.aws/bb/config", |t| {
                    let start = t.find("[profile bb-sso]").unwrap();
                    let end = t[start + 1..]
                        .find("\n[")
                        .map_or(t.len(), |e| start + 1 + e + 1);
                    format!(
                        "{}[profile bb-sso]\nsso_region = us-east-1\n\n{}",
                        &t[..start],
                        &t[end..]
                    )
                })
            }),
        ),
        (
            "no [profile bb-sso]",
            false,
            Box::new(|o: &Oracle| {
                o.edit("~/.aws/bb/config", |t| {
                    let start = t.find("[profile bb-sso]").unwrap();
                    let end = t[start + 1..]
                        .find("\n[")
                        .map_or(t.len(), |e| start + 1 + e + 1);
                    format!("{}{}", &t[..start], &t[end..])
                })
            }),
        ),
        (
            // NoOptionError: only a missing section is caught (exit 40).
            "[profile bb-sso-shared] without role_name",
            false,
            Box::new(|o: &Oracle| {
                o.edit("~/.aws/bb/config", |t| {
                    t.replacen(
                        "account_id = 222222222222\nrole_name = DevOps\n",
                        "account_id = 222222222222\n",
                        1,
                    )
                })
            }),
        ),
        (
            // ConfigUpdater finds sections by their exact text: exit 40.
            "[profile  bb-sso-shared] with two blanks",
            false,
            Box::new(|o: &Oracle| {
                o.edit("~/.aws/bb/config", |t| {
                    t.replace("[profile bb-sso-shared]", "[profile  bb-sso-shared]")
                })
            }),
        ),
        (
            // ConfigUpdater raises on a repeated section before anything is refreshed.
            "a duplicated section in the config",
            false,
            Box::new(|o: &Oracle| {
                o.config_append("[profile bb-extra]\nregion = us-east-1\n\n[profile bb-extra]\nregion = us-east-1\n")
            }),
        ),
        (
            "a section the layer does not use",
            true,
            Box::new(|o: &Oracle| o.config_append("[profile bb-extra]\nregion = us-east-1\n")),
        ),
        (
            // Every config/*.tfvars is a -var-file: Terraform refuses variables in one.
            "an interpolation in config/common.tfvars",
            false,
            Box::new(|o: &Oracle| {
                o.edit("config/common.tfvars", |t| {
                    t + "\nproject_tag = \"${var.project}-tag\"\n"
                })
            }),
        ),
        (
            "a plain value added to config/common.tfvars",
            true,
            Box::new(|o: &Oracle| {
                o.edit("config/common.tfvars", |t| {
                    t + "\nproject_tag = \"bb-tag\"\n"
                })
            }),
        ),
    ];
    run_cases("v3-sso-healthy", BASE_NETWORK, env, cases).await;
}

/// The same for 3.x IAM with MFA: the MFA step covers only what the CLI reads.
#[tokio::test(flavor = "multi_thread")]
async fn the_run_agrees_with_leverage_3_iam() {
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    let env = vec![("AWS_ENDPOINT_URL_STS", moto.url())];
    let cases: Vec<Twin> = vec![
        (
            // config.tf does not name it: no MFA step for it, and no keys were ever written.
            "a providers.tf profile with an -mfa section the MFA step never reads",
            false,
            Box::new(|o: &Oracle| {
                o.config_append("[profile bb-apps-devstg-devops-mfa]\nregion = us-east-1\nrole_arn = arn:aws:iam::333333333333:role/DevOps\nsource_profile = bb-security\nmfa_serial = arn:aws:iam::444444444444:mfa/jane.doe\n");
                o.provider_in("providers.tf", "dev", "bb-apps-devstg-devops");
            }),
        ),
        (
            "a config.tf profile whose MFA session and keys an earlier run left",
            true,
            Box::new(|o: &Oracle| o.provider_in("config.tf", "sec", "bb-security-devops")),
        ),
        (
            // The MFA step trusts its cache and writes nothing: the keys must already be there.
            "a fresh MFA session cached, its keys missing from credentials",
            false,
            Box::new(|o: &Oracle| {
                o.edit("~/.aws/bb/credentials", |t| {
                    let start = t.find("# Temporary keys").unwrap();
                    t[..start].to_string()
                });
            }),
        ),
        (
            "providers.tf names the profile config.tf names",
            true,
            Box::new(|o: &Oracle| o.provider_in("providers.tf", "again", "bb-shared-devops")),
        ),
        (
            // The step asks for a code; with no terminal (stdin closed, as in CI) it aborts.
            "an expired MFA session, no terminal to type the code",
            false,
            Box::new(|o: &Oracle| {
                o.edit("~/.aws/bb/cache/bb-shared-devops", |t| {
                    t.replace("2099-01-01T00:00:00Z", "2020-01-01T00:00:00Z")
                })
            }),
        ),
        (
            "no MFA session cached, no terminal",
            false,
            Box::new(|o: &Oracle| {
                std::fs::remove_file(o.case.aws().join("cache/bb-shared-devops")).unwrap()
            }),
        ),
        (
            // 3.x's MFA step writes keys without a region; Terraform passes the provider's and
            // the backend's.
            "no region anywhere in the AWS files",
            true,
            Box::new(|o: &Oracle| o.drop_lines("~/.aws/bb/config", "region")),
        ),
        (
            "[profile bb-shared-devops-mfa] without source_profile",
            false,
            Box::new(|o: &Oracle| {
                o.edit("~/.aws/bb/config", |t| {
                    let start = t.find("[profile bb-shared-devops-mfa]").unwrap();
                    let (head, tail) = t.split_at(start);
                    format!(
                        "{head}{}",
                        tail.replacen("source_profile = bb-security\n", "", 1)
                    )
                })
            }),
        ),
        (
            // Terraform's Go SDK refuses `source_profile` without `role_arn` (boto3 and the
            // AWS CLI ignore the line).
            "a profile Terraform reads with source_profile and no role_arn",
            false,
            Box::new(|o: &Oracle| {
                o.config_append(
                    "[profile bb-extra]\nregion = us-east-1\nsource_profile = bb-security\n",
                );
                o.provider_in("providers.tf", "extra", "bb-extra");
            }),
        ),
        (
            "the same profile with a role to assume",
            true,
            Box::new(|o: &Oracle| {
                o.config_append("[profile bb-extra]\nregion = us-east-1\nsource_profile = bb-security\nrole_arn = arn:aws:iam::222222222222:role/DevOps\n");
                o.provider_in("providers.tf", "extra", "bb-extra");
            }),
        ),
    ];
    run_cases("v3-iam-healthy", BASE_NETWORK, env, cases).await;
}

/// The model's facts (tests/data/leverage-facts.tsv, one behaviour of the CLI a row with the
/// source line it comes from): each names a rule that exists and, where it has one, a scenario
/// of this file that runs it against the real CLI.
#[test]
fn the_facts_table_points_at_real_rules_and_scenarios() {
    let table = include_str!("data/leverage-facts.tsv");
    let this_file = include_str!("oracle.rs");
    let mut rows = 0;
    let mut run = 0;
    for line in table.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 6, "{line}");
        let (id, generation, source, rule, case) = (cols[0], cols[1], cols[3], cols[4], cols[5]);
        assert!(
            id.starts_with('F') && ["3.1.0", "2.1.1", "both"].contains(&generation),
            "{line}"
        );
        assert!(
            source.contains(".py") || source.contains(".sh"),
            "{id}: no source line: {source}"
        );
        if rule != "-" {
            assert!(
                leverage_doctor::rules::find(rule).is_some(),
                "{id}: no rule {rule}"
            );
        }
        if case != "-" {
            assert!(
                this_file.contains(&format!("\"{case}")),
                "{id}: no scenario \"{case}\""
            );
            run += 1;
        }
        rows += 1;
    }
    assert!(rows >= 60 && run >= 20, "{rows} facts, {run} run");
}

/// 3.x without TF_BINARY runs `tofu` from PATH: broken without one, fine with one.
#[tokio::test(flavor = "multi_thread")]
async fn tf_binary_unset_means_tofu_on_path() {
    let server = portal().await;
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    for on_path in [false, true] {
        let oracle = tokio::task::spawn_blocking(|| Oracle::new("v3-sso-healthy"))
            .await
            .unwrap();
        oracle.drop_lines("build.env", "TF_BINARY=");
        // Offline, a project without TF_BINARY says its generation by a pin.
        oracle.edit("requirements.txt", |_| "leverage==3.1.0\n".into());
        let bin = oracle.case.dir.path().join("pathbin");
        std::fs::create_dir_all(&bin).unwrap();
        if on_path {
            std::os::unix::fs::symlink(oracle.case.dir.path().join("tofu-stub"), bin.join("tofu"))
                .unwrap();
        }
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let env = vec![
            ("AWS_ENDPOINT_URL_STS", moto.url()),
            ("AWS_ENDPOINT_URL_SSO", server.uri()),
            ("PATH", path),
        ];
        let what = if on_path {
            "no TF_BINARY, tofu on PATH"
        } else {
            "no TF_BINARY, no tofu on PATH"
        };
        let verdict =
            tokio::task::spawn_blocking(move || oracle.agree(what, BASE_NETWORK, "UTC", &env))
                .await
                .unwrap();
        assert_eq!(verdict, on_path, "{what}");
    }
}

/// 3.x builds its SSO client from the user's own AWS settings: an AWS_PROFILE that
/// ~/.aws/config does not define crashes the run; one it defines does not.
#[tokio::test(flavor = "multi_thread")]
async fn a_host_aws_profile_the_users_config_lacks() {
    let server = portal().await;
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    for defined in [false, true] {
        let oracle = tokio::task::spawn_blocking(|| Oracle::new("v3-sso-healthy"))
            .await
            .unwrap();
        if defined {
            oracle.edit("~/.aws/config", |_| {
                "[profile personal]\nregion = us-east-1\n".into()
            });
        }
        let env = vec![
            ("AWS_ENDPOINT_URL_STS", moto.url()),
            ("AWS_ENDPOINT_URL_SSO", server.uri()),
            ("AWS_PROFILE", "personal".to_string()),
        ];
        let what = if defined {
            "AWS_PROFILE defined in ~/.aws/config"
        } else {
            "AWS_PROFILE no ~/.aws/config defines"
        };
        let verdict =
            tokio::task::spawn_blocking(move || oracle.agree(what, BASE_NETWORK, "UTC", &env))
                .await
                .unwrap();
        assert_eq!(verdict, defined, "{what}");
    }
}

/// A layer below a layer (`base-network/cluster`): the CLI runs it as a layer of the first-level
/// account, scanning the nested folder's own files only — what its parent names is not
/// refreshed for it.
#[tokio::test(flavor = "multi_thread")]
async fn a_nested_layer_agrees_with_leverage_3() {
    let server = portal().await;
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    let env = vec![
        ("AWS_ENDPOINT_URL_STS", moto.url()),
        ("AWS_ENDPOINT_URL_SSO", server.uri()),
    ];
    let nested = |o: &Oracle, files: &[(&str, &str)]| {
        let dir = o.case.project().join(NESTED);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
    };
    const CONFIG: &str = "provider \"aws\" {\n  region  = \"us-east-1\"\n  profile = var.profile\n}\n\nterraform {\n  backend \"s3\" {}\n}\n";
    let cases: Vec<Twin> = vec![
        (
            "a nested layer naming its profiles in its own config.tf",
            true,
            Box::new(move |o: &Oracle| {
                nested(
                    o,
                    &[(
                        "config.tf",
                        &format!(
                            "{CONFIG}\nprovider \"aws\" {{\n  alias   = \"dev\"\n  region  = \"us-east-1\"\n  profile = \"${{var.project}}-apps-devstg-devops\"\n}}\n"
                        ),
                    )],
                );
            }),
        ),
        (
            // The parent's config.tf names the profile; the nested run does not scan it.
            "a nested layer whose providers.tf profile only its parent's config.tf names",
            false,
            Box::new(move |o: &Oracle| {
                o.provider_in("config.tf", "dev", "${var.project}-apps-devstg-devops");
                nested(
                    o,
                    &[
                        ("config.tf", CONFIG),
                        (
                            "providers.tf",
                            "provider \"aws\" {\n  alias   = \"dev\"\n  region  = \"us-east-1\"\n  profile = \"bb-apps-devstg-devops\"\n}\n",
                        ),
                    ],
                );
            }),
        ),
    ];
    run_cases("v3-sso-healthy", NESTED, env, cases).await;
}

const NESTED: &str = "shared/us-east-1/base-network/cluster";
