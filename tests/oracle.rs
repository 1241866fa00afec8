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

fn venv() -> PathBuf {
    std::env::var_os("LEVERAGE_DOCTOR_LEVERAGE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-leverage"))
}

/// The stub Terraform: answers `--version` like OpenTofu; otherwise gets an identity for each
/// profile of STUB_PROFILES through the files the CLI points AWS_CONFIG_FILE and
/// AWS_SHARED_CREDENTIALS_FILE at (the region is Terraform's to pass), and leaves a mark when
/// every one worked: `leverage tf plan` may exit 0 although the stub failed.
const STUB: &str = r#"import os, sys
if sys.argv[1:2] in (["--version"], ["version"]):
    print("OpenTofu v1.8.0")
    sys.exit(0)
import boto3
ok = True
for p in filter(None, os.environ.get("STUB_PROFILES", "").split(",")):
    try:
        boto3.Session(profile_name=p, region_name="us-east-1").client("sts").get_caller_identity()
    except Exception as e:
        print(f"stub: {p}: {type(e).__name__}", file=sys.stderr)
        ok = False
if ok:
    open(os.environ["STUB_MARK"], "w").write("ok")
sys.exit(0 if ok else 1)
"#;

/// A case: what it is, whether `leverage tf plan` must work, and how it changes the fixture.
type Twin = (&'static str, bool, Box<dyn Fn(&Oracle) + Send>);

struct Oracle {
    case: Case,
    mark: PathBuf,
}

impl Oracle {
    /// A fixture copied, made a git repository (the CLI needs its top level), with the stub as
    /// TF_BINARY.
    fn new(fixture: &str) -> Oracle {
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
    fn doctor(&self, layer: &str, tz: &str) -> (bool, Vec<String>, String) {
        let (code, report) = check_json(
            self.case
                .cmd(layer)
                .env("TZ", tz)
                .args(["check", "--offline"]),
        );
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
    fn cli(
        &self,
        layer: &str,
        tz: &str,
        profiles: &[String],
        env: &[(&str, String)],
    ) -> (bool, String) {
        let _ = std::fs::remove_file(&self.mark);
        let mut cmd = std::process::Command::new(venv().join("bin/leverage"));
        cmd.args(["tf", "plan"])
            .current_dir(self.case.project().join(layer))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.case.home())
            .env("TZ", tz)
            .env("COLUMNS", "200")
            .env("STUB_PROFILES", profiles.join(","))
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
        let (doctor_ok, profiles, errors) = self.doctor(layer, tz);
        let (cli_ok, said) = self.cli(layer, tz, &profiles, env);
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
    use leverage_doctor::leverage::{Cli, Generation, RefKind, cli_account_of};
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
        let cli = Cli::new(generation);
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
