//! The bad-input corpus: each case breaks one file of a healthy project in its own way. Every
//! case must end in a diagnostic (exit 0 or 1) or in exit 2 with one clear line — never a
//! panic (101) and never a hang (each run is killed after 60 s, which fails the case).

use crate::support::Case;
use std::path::Path;
use std::time::Duration;

type Setup = fn(&Case);

enum Expect {
    /// Exit 0/1 and this rule among the findings.
    Rule(&'static str),
    /// Exit 0/1, whatever is found (the point is: no crash, no hang).
    Runs,
    /// Exit 2 and stderr (one line) containing this.
    CannotRun(&'static str),
}

fn write(case: &Case, rel: &str, bytes: &[u8]) {
    let path = if let Some(aws) = rel.strip_prefix("aws:") {
        case.aws().join(aws)
    } else {
        case.project().join(rel)
    };
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn replace_with_dir(path: &Path) {
    let _ = std::fs::remove_file(path);
    std::fs::create_dir_all(path).unwrap();
}

fn big(line: &str, bytes: usize) -> Vec<u8> {
    line.repeat(bytes / line.len() + 1).into_bytes()
}

const LAYER: &str = "shared/us-east-1/base-network/config.tf";

fn cases() -> Vec<(&'static str, Setup, Expect)> {
    use Expect::*;
    vec![
        (
            "truncated config mid-header",
            |c| {
                write(
                    c,
                    "aws:config",
                    b"[default]\nregion = us-east-1\n[profile bb-sso",
                )
            },
            Rule("LD205"),
        ),
        (
            "binary junk in credentials",
            |c| {
                write(
                    c,
                    "aws:credentials",
                    &[0, 159, 146, 150, 255, 10, 91, 0, 93],
                )
            },
            Rule("LD205"),
        ),
        (
            "invalid UTF-8 in config",
            |c| write(c, "aws:config", b"[default]\nregion = us-\xffeast-1\n"),
            Rule("LD205"),
        ),
        (
            "BOM in config",
            |c| {
                let text = std::fs::read(c.aws().join("config")).unwrap();
                write(c, "aws:config", &[b"\xef\xbb\xbf".to_vec(), text].concat())
            },
            Rule("LD205"),
        ),
        (
            "CRLF everywhere",
            |c| {
                for f in ["aws:config", "config/common.tfvars", "build.env", LAYER] {
                    let path = if let Some(a) = f.strip_prefix("aws:") {
                        c.aws().join(a)
                    } else {
                        c.project().join(f)
                    };
                    let text = std::fs::read_to_string(&path)
                        .unwrap()
                        .replace('\n', "\r\n");
                    std::fs::write(path, text).unwrap();
                }
            },
            Runs,
        ),
        (
            "tabs in config",
            |c| {
                let text = std::fs::read_to_string(c.aws().join("config"))
                    .unwrap()
                    .replace(" = ", "\t=\t");
                write(c, "aws:config", text.as_bytes())
            },
            Runs,
        ),
        (
            "config larger than the cap",
            |c| {
                write(
                    c,
                    "aws:config",
                    &big("[profile x]\nregion = us-east-1\n", 9 << 20),
                )
            },
            Rule("LD201"),
        ),
        (
            "one 2 MiB line in config",
            |c| {
                write(
                    c,
                    "aws:config",
                    &[b"[default]\nregion = ".to_vec(), vec![b'a'; 2 << 20]].concat(),
                )
            },
            Runs,
        ),
        (
            "empty config",
            |c| write(c, "aws:config", b""),
            Rule("LD105"),
        ),
        (
            "empty common.tfvars",
            |c| write(c, "config/common.tfvars", b""),
            Runs,
        ),
        (
            "empty build.env",
            |c| write(c, "build.env", b""),
            Rule("LD005"),
        ),
        (
            "credentials is a folder",
            |c| replace_with_dir(&c.aws().join("credentials")),
            Rule("LD201"),
        ),
        (
            "token is a folder",
            |c| replace_with_dir(&c.aws().join("sso/cache/token")),
            Rule("LD501"),
        ),
        (
            "sso/cache is a file",
            |c| {
                std::fs::remove_dir_all(c.aws().join("sso/cache")).unwrap();
                write(c, "aws:sso/cache", b"not a folder");
            },
            Rule("LD501"),
        ),
        (
            "config symlink loop",
            |c| {
                std::fs::remove_file(c.aws().join("config")).unwrap();
                std::os::unix::fs::symlink("config", c.aws().join("config")).unwrap();
            },
            Rule("LD201"),
        ),
        (
            "dangling config symlink",
            |c| {
                std::fs::remove_file(c.aws().join("config")).unwrap();
                std::os::unix::fs::symlink("nowhere", c.aws().join("config")).unwrap();
            },
            Rule("LD201"),
        ),
        (
            "layer folder symlink loop",
            |c| {
                std::os::unix::fs::symlink(
                    "..",
                    c.project().join("shared/us-east-1/base-network/up"),
                )
                .unwrap();
            },
            Runs,
        ),
        (
            "token expiresAt garbage",
            |c| {
                write(
                    c,
                    "aws:sso/cache/token",
                    br#"{"accessToken":"LDFIXTURESECRET","expiresAt":"soon"}"#,
                )
            },
            Rule("LD503"),
        ),
        (
            "token expiresAt far future",
            |c| {
                write(
                    c,
                    "aws:sso/cache/token",
                    br#"{"accessToken":"LDFIXTURESECRET","expiresAt":"9999-12-31T23:59:59Z"}"#,
                )
            },
            Runs,
        ),
        (
            "token expiresAt a number",
            |c| {
                write(
                    c,
                    "aws:sso/cache/token",
                    br#"{"accessToken":"LDFIXTURESECRET","expiresAt":1700000000}"#,
                )
            },
            Rule("LD503"),
        ),
        (
            "token is a JSON array",
            |c| write(c, "aws:sso/cache/token", b"[1,2,3]"),
            Rule("LD503"),
        ),
        (
            "token is empty",
            |c| write(c, "aws:sso/cache/token", b""),
            Rule("LD503"),
        ),
        (
            "token deeply nested JSON",
            |c| {
                write(
                    c,
                    "aws:sso/cache/token",
                    &[vec![b'['; 100_000], vec![b']'; 100_000]].concat(),
                )
            },
            Rule("LD503"),
        ),
        (
            "MFA cache garbage",
            |c| write(c, "aws:cache/bb-shared-devops", b"\x00\x01garbage"),
            Rule("LD505"),
        ),
        (
            "MFA cache without expiration",
            |c| write(c, "aws:cache/bb-shared-devops", br#"{"Credentials":{}}"#),
            Rule("LD505"),
        ),
        (
            "header `[` alone",
            |c| write(c, "aws:config", b"[\nregion = x\n"),
            Rule("LD205"),
        ),
        (
            "header `[]`",
            |c| write(c, "aws:config", b"[]\nregion = x\n"),
            Rule("LD205"),
        ),
        (
            "key without value",
            |c| write(c, "aws:config", b"[default]\nregion =\n"),
            Runs,
        ),
        (
            "unicode in section names",
            |c| {
                write(
                    c,
                    "aws:config",
                    "[profile bb-sso-\u{e9}t\u{e9}]\nregion = us-east-1\n".as_bytes(),
                )
            },
            Rule("LD204"),
        ),
        (
            "spaces in section names",
            |c| {
                write(
                    c,
                    "aws:config",
                    b"[profile my profile]\nregion = us-east-1\n",
                )
            },
            Rule("LD204"),
        ),
        (
            "NUL bytes in a layer file",
            |c| write(c, LAYER, b"provider \"aws\" {\n  profile = \"a\x00b\"\n}\n"),
            Runs,
        ),
        (
            "broken HCL in a layer",
            |c| write(c, LAYER, b"provider \"aws\" {\n  profile = \n"),
            Rule("LD002"),
        ),
        (
            "HCL with unbalanced quotes",
            |c| write(c, LAYER, b"provider \"aws {\n  profile = var.profile\n}\n"),
            Rule("LD002"),
        ),
        (
            "heredoc in tfvars",
            |c| {
                let mut t =
                    std::fs::read_to_string(c.project().join("config/common.tfvars")).unwrap();
                t.push_str("notes = <<EOT\nhello ${x}\nEOT\n");
                write(c, "config/common.tfvars", t.as_bytes())
            },
            Runs,
        ),
        (
            "functions in tfvars",
            |c| {
                write(
                    c,
                    "config/common.tfvars",
                    b"project = lower(\"BB\")\naccounts = merge({}, {})\nsso_enabled = true\n",
                )
            },
            Runs,
        ),
        (
            "profile from each.value",
            |c| {
                write(
                    c,
                    LAYER,
                    b"provider \"aws\" {\n  for_each = toset([\"a\"])\n  profile = each.value\n}\n",
                )
            },
            Rule("LD101"),
        ),
        (
            "profile is a number",
            |c| write(c, LAYER, b"provider \"aws\" {\n  profile = 42\n}\n"),
            Rule("LD101"),
        ),
        (
            "profile is null",
            |c| write(c, LAYER, b"provider \"aws\" {\n  profile = null\n}\n"),
            Rule("LD101"),
        ),
        (
            "deeply nested HCL",
            |c| {
                let t = format!(
                    "locals {{\n  x = {}1{}\n}}\nprovider \"aws\" {{ profile = var.profile }}\n",
                    "[".repeat(2000),
                    "]".repeat(2000)
                );
                write(c, "shared/us-east-1/base-network/locals.tf", t.as_bytes())
            },
            Runs,
        ),
        (
            "config.tf is a folder",
            |c| replace_with_dir(&c.project().join(LAYER)),
            Rule("LD002"),
        ),
        (
            "project.yaml garbage",
            |c| write(c, "project.yaml", &[0xff, 0xfe, b':', b'\n']),
            Runs,
        ),
        (
            "settings file garbage",
            |c| write(c, ".leverage-doctor.toml", b"ignore = [\n\xff"),
            Rule("LD008"),
        ),
        (
            "AWS folder is a file",
            |c| {
                std::fs::remove_dir_all(c.aws()).unwrap();
                std::fs::write(c.aws(), b"").unwrap();
            },
            Rule("LD201"),
        ),
        (
            "thousands of layers' worth of providers",
            |c| {
                let t = (0..3000).map(|i| format!("provider \"aws\" {{\n  alias = \"a{i}\"\n  profile = \"${{var.project}}-shared-devops\"\n}}\n")).collect::<String>();
                write(c, LAYER, t.as_bytes())
            },
            Runs,
        ),
        ("HOME unset", |_| {}, CannotRun("HOME is not set")),
        (
            "build.env is a folder",
            |c| replace_with_dir(&c.project().join("shared/build.env")),
            Rule("LD002"),
        ),
    ]
}

#[test]
fn every_bad_input_ends_in_a_diagnostic_or_one_clear_line() {
    let cases = cases();
    assert!(cases.len() >= 40, "the corpus has {} cases", cases.len());
    let mut failures = Vec::new();
    for (name, setup, expect) in cases {
        let case = Case::new("sso-healthy");
        setup(&case);
        let mut cmd = case.cmd("shared/us-east-1/base-network");
        if name == "HOME unset" {
            cmd.env_remove("HOME");
        }
        let out = cmd
            .args(["check", "--offline", "--format", "json"])
            .timeout(Duration::from_secs(60))
            .output()
            .expect("run");
        let code = out.status.code().unwrap_or(-1);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let problem = match &expect {
            _ if code == 101
                || stderr.contains("panicked")
                || stderr.contains("internal error") =>
            {
                Some(format!("crashed: {stderr}"))
            }
            _ if code == -1 => Some("killed (hang?)".to_string()),
            Expect::CannotRun(says) => {
                (code != 2 || !stderr.contains(says) || stderr.lines().count() != 1)
                    .then(|| format!("want exit 2 with `{says}`, got {code}: {stderr}"))
            }
            Expect::Rule(_) | Expect::Runs if code == 2 => Some(format!("exit 2: {stderr}")),
            Expect::Rule(rule) => {
                let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
                let found = report["diagnostics"]
                    .as_array()
                    .is_some_and(|d| d.iter().any(|x| x["rule"] == *rule));
                (!found).then(|| format!("no {rule} in {stdout}"))
            }
            Expect::Runs => serde_json::from_str::<serde_json::Value>(&stdout)
                .err()
                .map(|e| format!("not a report: {e}")),
        };
        if let Some(p) = problem {
            failures.push(format!("[{name}] {p}"));
        }
        assert!(
            !stdout.contains("LDFIXTURESECRET") && !stderr.contains("LDFIXTURESECRET"),
            "[{name}] secret shown"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
