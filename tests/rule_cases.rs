//! One pair per rule, ruff style. `fires` is a small overlay on a base fixture that makes the
//! rule report; its human rendering (message, help and fix) is kept in
//! `tests/rule_cases/<ID>.txt`, so that a change of wording is seen in review
//! (`UPDATE_EXPECT=1` rewrites them). `silent` is the same base with only the `twin` edits (its
//! healthy twin, usually the base as it is): the rule reports nothing there. Each runs
//! `check --offline --select <ID>`: that rule alone.
//!
//! Every fix that is an edit is then applied (`check --fix --unsafe-fixes --yes`) to the fires
//! case: the finding must be gone and no new error appear.

use crate::support::{Case, check_json};

/// An edit of a fixture copy; paths are relative to the case folder (`project/…`,
/// `home/.aws/bb/…`).
#[allow(dead_code)] // the variants the pairs use change as they are written
pub enum Edit {
    /// The first occurrence of a text, replaced (it must be there).
    Replace(&'static str, &'static str, &'static str),
    /// A whole file, written (created with its folders).
    Write(&'static str, &'static str),
    /// Text added at the end of a file.
    Append(&'static str, &'static str),
    Remove(&'static str),
    Mode(&'static str, u32),
}

pub struct RuleCase {
    pub rule: &'static str,
    pub base: &'static str,
    /// Where `check` runs, relative to `project/` ("" = the root).
    pub scope: &'static str,
    pub fires: &'static [Edit],
    /// The healthy twin's own edits (most often none: the base is healthy).
    pub twin: &'static [Edit],
    /// Extra arguments (`--all`), for both runs.
    pub args: &'static [&'static str],
    /// Environment variables of the fires run (the twin runs without them).
    pub env: &'static [(&'static str, &'static str)],
}

use Edit::*;

mod cases_a;
mod cases_b;
mod cases_c;

/// Cases in rule order (`tests/rule_cases/cases_*.rs` hold most). `RULE_CASE=LD1` runs only
/// the rules whose id starts so, while writing cases.
fn cases() -> Vec<&'static RuleCase> {
    let mut all: Vec<&RuleCase> = CASES
        .iter()
        .chain(cases_a::CASES)
        .chain(cases_b::CASES)
        .chain(cases_c::CASES)
        .collect();
    all.sort_by_key(|c| c.rule);
    all
}

fn selected() -> Vec<&'static RuleCase> {
    let only = std::env::var("RULE_CASE").unwrap_or_default();
    cases()
        .into_iter()
        .filter(|c| c.rule.starts_with(only.as_str()))
        .collect()
}

const CASES: &[RuleCase] = &[
    RuleCase {
        rule: "LD102",
        base: "iam-mfa-healthy",
        scope: "shared/us-east-1/base-network",
        fires: &[Replace(
            "project/shared/us-east-1/base-network/config.tf",
            "profile = \"${var.project}-security-devops\"",
            "profile = \"${var.project}-security-devop\"",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    RuleCase {
        rule: "LD403",
        base: "iam-mfa-healthy",
        scope: "shared/us-east-1/base-network",
        fires: &[],
        twin: &[],
        args: &[],
        // Keys left exported in the shell from an earlier `aws configure export-credentials`.
        env: &[
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
        ],
    },
    RuleCase {
        rule: "LD502",
        base: "sso-healthy",
        scope: "shared/us-east-1/base-network",
        // A token from a sign-in long ago.
        fires: &[Replace(
            "home/.aws/bb/sso/cache/token",
            "2099-01-01T00:00:00Z",
            "2024-01-01T00:00:00Z",
        )],
        twin: &[],
        args: &[],
        env: &[],
    },
    RuleCase {
        rule: "LD208",
        base: "iam-mfa-healthy",
        scope: "",
        fires: &[Mode("home/.aws/bb/credentials", 0o644)],
        twin: &[],
        args: &[],
        env: &[],
    },
];

fn apply(case: &Case, edits: &[Edit]) {
    use std::os::unix::fs::PermissionsExt;
    let root = case.dir.path();
    for edit in edits {
        match edit {
            Replace(file, from, to) => {
                let path = root.join(file);
                let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
                assert!(text.contains(from), "{file} has no `{from}`");
                std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
            }
            Write(file, text) => {
                let path = root.join(file);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, text).unwrap();
            }
            Append(file, text) => {
                let path = root.join(file);
                let old = std::fs::read_to_string(&path).unwrap_or_default();
                std::fs::write(&path, old + text).unwrap();
            }
            Remove(file) => std::fs::remove_file(root.join(file)).unwrap(),
            Mode(file, mode) => {
                std::fs::set_permissions(root.join(file), std::fs::Permissions::from_mode(*mode))
                    .unwrap()
            }
        }
    }
}

/// The case as a fresh fixture copy with `edits` applied.
fn prepared(c: &RuleCase, edits: &[Edit]) -> Case {
    let case = Case::new(c.base);
    apply(&case, edits);
    case
}

/// `check --offline --select ID` in human form (no colour, findings of every severity, no
/// table), with the temp folder written `<case>` and times from now (`2522d 19h`, `5m`)
/// written `<duration>`, so that a rendering stays what it is from one day to the next.
fn rendered(c: &RuleCase, case: &Case, env: &[(&str, &str)]) -> (i32, String) {
    let out = case
        .cmd(c.scope)
        .envs(env.iter().copied())
        .args([
            "check",
            "--offline",
            "--select",
            c.rule,
            "--fail-on",
            "info",
        ])
        .args(["--quiet", "--color", "never"])
        .args(c.args)
        .output()
        .expect("run");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let dir = case.dir.path().display().to_string();
    (
        out.status.code().unwrap_or(-1),
        durations_masked(&text.replace(&dir, "<case>")),
    )
}

/// `2522d 19h`, `1h 5m`, `45m`, `30s`, `2h0m`, `3 months`, `72 years` → `<duration>` (what
/// follows the last unit, `)` or `,`, is kept); colour codes (`\x1b[0m`) are left alone.
pub(crate) fn durations_masked(text: &str) -> String {
    fn prefix(word: &str) -> usize {
        word.find(|c: char| c.is_alphanumeric()).unwrap_or(0)
    }
    fn digits_end(word: &str) -> Option<usize> {
        let start = prefix(word);
        // `\x1b[0m` is a colour code, not zero minutes.
        if word[..start].ends_with("\x1b[") {
            return None;
        }
        let digits = start
            + word[start..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(word.len() - start);
        (digits > start).then_some(digits)
    }
    fn unit_end(word: &str) -> Option<usize> {
        let digits = digits_end(word)?;
        let rest = &word[digits..];
        let unit = ["h0m", "d", "h", "m", "s"]
            .into_iter()
            .find(|u| rest.starts_with(u))?;
        let end = digits + unit.len();
        // A unit is followed by nothing or by punctuation, never by more letters (`3 keys`).
        word[end..]
            .chars()
            .all(|c| !c.is_alphanumeric())
            .then_some(end)
    }
    /// `years` in `72 years`: the word after a bare number.
    fn long_unit_end(word: &str) -> Option<usize> {
        let unit = ["years", "year", "months", "month", "days", "day"]
            .into_iter()
            .find(|u| word.starts_with(u))?;
        word[unit.len()..]
            .chars()
            .all(|c| !c.is_alphanumeric())
            .then_some(unit.len())
    }
    let head = |w: &str| w.split('\n').next().unwrap_or("").to_string();
    let words: Vec<&str> = text.split(' ').collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        // The last word of the run and where its unit ends.
        let mut last: Option<(usize, usize)> = None;
        let mut j = i;
        // `19h` may end a line (`19h\n`): only its last word of the run carries that.
        while j < words.len() {
            let h = head(words[j]);
            if let Some(end) = unit_end(&h) {
                last = Some((j, end));
                if words[j].contains('\n') {
                    break;
                }
                j += 1;
            } else if !words[j].contains('\n')
                && digits_end(&h) == Some(h.len())
                && let Some(end) = words.get(j + 1).and_then(|w| long_unit_end(&head(w)))
            {
                last = Some((j + 1, end));
                if words[j + 1].contains('\n') {
                    break;
                }
                j += 2;
            } else {
                break;
            }
        }
        match last {
            Some((l, end)) => {
                let word = words[l];
                let first = words[i];
                out.push(format!(
                    "{}<duration>{}",
                    &first[..prefix(first)],
                    &word[end..]
                ));
                i = l + 1;
            }
            None => {
                out.push(words[i].to_string());
                i += 1;
            }
        }
    }
    out.join(" ")
}

#[test]
fn every_rule_fires_as_expected_and_its_twin_is_silent() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    for c in selected() {
        let marker = format!("[{}]", c.rule);
        let (_, fires) = rendered(c, &prepared(c, c.fires), c.env);
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/rule_cases")
            .join(format!("{}.txt", c.rule));
        if !fires.contains(&marker) {
            failures.push(format!(
                "{}: the fires case does not fire:\n{fires}",
                c.rule
            ));
        } else if update {
            std::fs::write(&file, &fires).unwrap();
        } else {
            let want = std::fs::read_to_string(&file).unwrap_or_default();
            if want != fires {
                failures.push(format!("{}\n--- want\n{want}--- got\n{fires}", c.rule));
            }
        }
        let (code, silent) = rendered(c, &prepared(c, c.twin), &[]);
        if silent.contains(&marker) || code != 0 {
            failures.push(format!(
                "{}: the twin is not silent (exit {code}):\n{silent}",
                c.rule
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every rule has its pair here, but the live ones (LD6xx, LD704–LD706): their findings come
/// from STS answers, and their pairs run against moto and the STS test server in tests/live.rs
/// and tests/failures.rs; the token checks' against the GitHub/GitLab/Vault test servers of
/// tests/token_live.rs (ok token silent, refused/expiring/unreachable fire).
#[test]
fn every_rule_has_fires_and_silent() {
    let covered: std::collections::BTreeSet<&str> = cases().iter().map(|c| c.rule).collect();
    let missing: Vec<&str> = leverage_doctor::rules::RULES
        .iter()
        .map(|r| r.id)
        .filter(|id| {
            !id.starts_with("LD6")
                && !["LD704", "LD705", "LD706"].contains(id)
                && !covered.contains(id)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "rules without a fires/silent pair: {missing:?}"
    );
    let pages = std::fs::read_dir(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rule_cases"),
    )
    .unwrap()
    .filter_map(|e| {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        name.strip_suffix(".txt").map(str::to_string)
    })
    .filter(|id| !covered.contains(id.as_str()))
    .collect::<Vec<_>>();
    assert!(pages.is_empty(), "renderings of no case: {pages:?}");
}

/// A fix that is an edit, applied by `check --fix --unsafe-fixes --yes`, makes its finding go
/// away and brings no new error.
#[test]
fn every_edit_fix_resolves_its_finding() {
    let mut failures = Vec::new();
    let mut applied = 0;
    for c in selected() {
        let case = prepared(c, c.fires);
        let run =
            |case: &Case| check_json(case.cmd(c.scope).args(["check", "--offline"]).args(c.args)).1;
        let before = run(&case);
        let of_rule = |r: &serde_json::Value| -> Vec<serde_json::Value> {
            crate::support::diags(r, c.rule)
                .into_iter()
                .cloned()
                .collect()
        };
        if !of_rule(&before)
            .iter()
            .any(|d| !d["fix"]["edits"].as_array().is_none_or(Vec::is_empty))
        {
            continue;
        }
        applied += 1;
        let out = case
            .cmd(c.scope)
            .envs(c.env.iter().copied())
            .env("CI", "true")
            .args(["check", "--offline", "--fix", "--unsafe-fixes", "--yes"])
            .args(c.args)
            .output()
            .unwrap();
        let after = run(&case);
        let new: Vec<_> = error_set(&after)
            .difference(&error_set(&before))
            .cloned()
            .collect();
        if !of_rule(&after).is_empty() || !new.is_empty() {
            failures.push(format!(
                "{}: after --fix: still {:?}, new errors {new:?}\n{}",
                c.rule,
                of_rule(&after)
                    .iter()
                    .map(|d| d["message"].clone())
                    .collect::<Vec<_>>(),
                String::from_utf8_lossy(&out.stdout)
            ));
        }
    }
    assert!(
        applied >= 1 || std::env::var_os("RULE_CASE").is_some(),
        "no case has an edit fix"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn durations_are_masked_and_nothing_else() {
    assert_eq!(
        durations_masked("expired 2522d 19h ago (5m left, 30s) at 14:00 in 2h0m\n= fix: 3 keys"),
        "expired <duration> ago (<duration> left, <duration>) at 14:00 in <duration>\n= fix: 3 keys"
    );
    assert_eq!(
        durations_masked("expired 6 years ago, in 3 months\n(in 1 day) 2 profiles 1d\n\x1b[0m"),
        "expired <duration> ago, in <duration>\n(in <duration>) 2 profiles <duration>\n\x1b[0m"
    );
}

/// LD402's fix for a leftover IAM section under the name Leverage writes in SSO mode, done as
/// it says (its role_arn, source_profile and mfa_serial lines deleted): the finding is gone and
/// no error appears.
#[test]
fn ld402_leftover_fix_resolves_it() {
    let case = Case::new("sso-healthy");
    let config = case.aws().join("config");
    let base = std::fs::read_to_string(&config).unwrap();
    let leftover = "\n[profile bb-management-devops]\nregion = us-east-1\nrole_arn = arn:aws:iam::111111111111:role/DevOps\nsource_profile = bb-security\nmfa_serial = arn:aws:iam::444444444444:mfa/jane\n";
    std::fs::write(&config, format!("{base}{leftover}")).unwrap();
    let scope = "shared/us-east-1/base-network";
    let (_, before) = check_json(case.cmd(scope).args(["check", "--offline"]));
    let found = crate::support::diags(&before, "LD402");
    assert_eq!(found.len(), 1, "{before:#}");
    let fix = found[0]["fix"]["text"].as_str().unwrap();
    assert!(fix.starts_with("delete the `role_arn`, `source_profile` and `mfa_serial` lines of [profile bb-management-devops]"), "{fix}");
    let fixed: String = leftover
        .lines()
        .filter(|l| {
            !["role_arn", "source_profile", "mfa_serial"]
                .iter()
                .any(|k| l.starts_with(k))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&config, format!("{base}{fixed}")).unwrap();
    let (code, after) = check_json(case.cmd(scope).args(["check", "--offline"]));
    assert!(
        crate::support::diags(&after, "LD402").is_empty(),
        "{after:#}"
    );
    assert_eq!(code, 0, "{after:#}");
}

/// `login_session` beside the profile's own static keys: Terraform's SDK ignores the line and
/// uses the keys, so LD311 stays silent.
#[test]
fn ld311_is_silent_when_static_keys_sit_beside_login_session() {
    let case = Case::new("iam-mfa-healthy");
    let credentials = case.aws().join("credentials");
    let text = std::fs::read_to_string(&credentials).unwrap();
    assert!(text.contains("[bb-security]\n"), "{text}");
    std::fs::write(
        &credentials,
        text.replacen(
            "[bb-security]\n",
            "[bb-security]\nlogin_session = arn:aws:iam::444444444444:user/jane.doe\n",
            1,
        ),
    )
    .unwrap();
    let (_, r) = check_json(case.cmd("shared/us-east-1/base-network").args([
        "check",
        "--offline",
        "--select",
        "LD311",
    ]));
    assert!(crate::support::diags(&r, "LD311").is_empty(), "{r:#}");
}

/// project.yaml `short_name` must match the CLI's `^[a-z]{2,4}$` (`leverage credentials
/// configure` stops otherwise), though `bb1` is a fine folder name.
#[test]
fn ld009_names_the_cli_check_of_the_yaml_short_name() {
    let case = Case::new("iam-mfa-healthy");
    let yaml = case.project().join("project.yaml");
    std::fs::write(&yaml, "project_name: binbash\nshort_name: bb1\n").unwrap();
    let (_, r) = check_json(
        case.cmd("")
            .args(["check", "--offline", "--select", "LD009"]),
    );
    let found = crate::support::diags(&r, "LD009");
    assert_eq!(found.len(), 1, "{r:#}");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("2 to 4 lower-case letters"),
        "{r:#}"
    );
    std::fs::write(&yaml, "project_name: binbash\nshort_name: bb\n").unwrap();
    let (_, r) = check_json(
        case.cmd("")
            .args(["check", "--offline", "--select", "LD009"]),
    );
    assert!(crate::support::diags(&r, "LD009").is_empty(), "{r:#}");
}

/// LD302 for a source without a role names the role ARN the profile's name designates: the
/// account id from common.tfvars, the role as the project's other role profiles spell it.
#[test]
fn ld302_names_the_role_the_profile_designates() {
    let case = Case::new("iam-mfa-healthy");
    let config = case.aws().join("config");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen("role_arn = arn:aws:iam::222222222222:role/DevOps\n", "", 1),
    )
    .unwrap();
    let (_, r) = check_json(case.cmd("shared/us-east-1/base-network").args([
        "check",
        "--offline",
        "--select",
        "LD302",
    ]));
    let found = crate::support::diags(&r, "LD302");
    assert_eq!(found.len(), 1, "{r:#}");
    assert!(
        found[0]["fix"]["text"]
            .as_str()
            .unwrap()
            .starts_with("role_arn = arn:aws:iam::222222222222:role/DevOps "),
        "{r:#}"
    );
}

/// LD311's fix done as it says (the `-tf` profile added, `source_profile` moved to it in the
/// sections it names): the finding is gone and no error appears. The sections are the ones the
/// fix line names, read from it.
#[test]
fn ld311_fix_resolves_it() {
    let c = cases()
        .into_iter()
        .find(|c| c.rule == "LD311")
        .expect("LD311 case");
    let case = prepared(c, c.fires);
    let run = |case: &Case| check_json(case.cmd(c.scope).args(["check", "--offline"])).1;
    let before = run(&case);
    let found = crate::support::diags(&before, "LD311");
    assert_eq!(found.len(), 1, "{before:#}");
    let fix = found[0]["fix"]["text"].as_str().unwrap().to_string();
    let lines: Vec<&str> = fix.lines().collect();
    // "[profile X-tf]" and its credential_process line, then where to take the keys from it.
    let header = lines
        .iter()
        .position(|l| l.starts_with("[profile "))
        .unwrap();
    let section = format!("\n{}\n{}\n", lines[header], lines[header + 1]);
    let then = lines[header + 2];
    let (assignment, sections) = then
        .split_once("source_profile = ")
        .and_then(|(_, rest)| rest.split_once("   # in "))
        .expect("the fix names the sections");
    let config = case.aws().join("config");
    let mut text = std::fs::read_to_string(&config).unwrap();
    for name in sections.split(", ") {
        let name = name.trim_start_matches("[profile ").trim_end_matches(']');
        let at = text
            .find(&format!("[profile {name}]"))
            .expect("named section");
        let key = at
            + text[at..]
                .find("source_profile = ")
                .expect("its source_profile");
        let end = key + text[key..].find('\n').unwrap();
        text.replace_range(key..end, &format!("source_profile = {assignment}"));
    }
    text.push_str(&section);
    std::fs::write(&config, &text).unwrap();
    let after = run(&case);
    assert!(
        crate::support::diags(&after, "LD311").is_empty(),
        "{fix}\n{after:#}"
    );
    let new: Vec<_> = error_set(&after)
        .difference(&error_set(&before))
        .cloned()
        .collect();
    assert!(new.is_empty(), "{fix}\nnew errors: {new:?}");
}

/// LD311 on a profile a layer names itself (the backend's): the fix's `-tf` profile, named
/// instead in backend.tfvars, resolves it in an IAM+MFA project with no new error (the
/// Leverage CLI's MFA step reads only `[profile X-mfa]` sections, and there is none for it).
#[test]
fn ld311_fix_resolves_it_where_a_layer_names_the_profile() {
    let case = Case::new("iam-mfa-healthy");
    let config = case.aws().join("config");
    let text = std::fs::read_to_string(&config).unwrap();
    let role = "[profile bb-shared-devops]\noutput = json\nregion = us-east-1\nrole_arn = arn:aws:iam::222222222222:role/DevOps\nsource_profile = bb-security\nmfa_serial = arn:aws:iam::444444444444:mfa/jane.doe";
    assert!(text.contains(role), "{text}");
    let text = text.replace(
        role,
        "[profile bb-shared-devops]\nregion = us-east-1\nlogin_session = arn:aws:iam::444444444444:user/jane",
    );
    std::fs::write(&config, &text).unwrap();
    let scope = "shared/us-east-1/base-network";
    let (_, before) = check_json(case.cmd(scope).args(["check", "--offline"]));
    let found = crate::support::diags(&before, "LD311");
    assert_eq!(found.len(), 1, "{before:#}");
    let fix = found[0]["fix"]["text"].as_str().unwrap().to_string();
    assert!(
        fix.contains("then name `bb-shared-devops-tf` instead of `bb-shared-devops`"),
        "{fix}"
    );
    let lines: Vec<&str> = fix.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("[profile "))
        .unwrap();
    std::fs::write(
        &config,
        format!("{text}\n{}\n{}\n", lines[header], lines[header + 1]),
    )
    .unwrap();
    let backend = case.project().join("shared/config/backend.tfvars");
    let tfvars = std::fs::read_to_string(&backend).unwrap();
    std::fs::write(
        &backend,
        tfvars.replace("\"bb-shared-devops\"", "\"bb-shared-devops-tf\""),
    )
    .unwrap();
    let (_, after) = check_json(case.cmd(scope).args(["check", "--offline"]));
    assert!(
        crate::support::diags(&after, "LD311").is_empty(),
        "{after:#}"
    );
    let errors: Vec<_> = after["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert!(errors.is_empty(), "{fix}\n{after:#}");
}

/// A portal test server (its wire format) listing the fixtures' three accounts, each with the
/// DevOps role, for the bearer token of the SSO fixtures.
async fn fixture_portal() -> wiremock::MockServer {
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let token = "LDFIXTURESECRET-sso-access-token-healthy";
    let accounts = [
        ("111111111111", "management"),
        ("222222222222", "shared"),
        ("333333333333", "apps-devstg"),
    ];
    let list: Vec<_> = accounts
        .iter()
        .map(|(id, name)| serde_json::json!({"accountId": id, "accountName": name, "emailAddress": "x@example.com"}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/assignment/accounts"))
        .and(header("x-amz-sso_bearer_token", token))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"accountList": list})),
        )
        .mount(&server)
        .await;
    for (id, _) in accounts {
        Mock::given(method("GET"))
            .and(path("/assignment/roles"))
            .and(query_param("account_id", id))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"roleList": [{"roleName": "DevOps", "accountId": id}]}),
            ))
            .mount(&server)
            .await;
    }
    server
}

/// Every fix that is a `leverage-doctor regen-config` command, run as its fix line writes it
/// (plus `--yes`; `--sso` against the portal test server) where the finding was made: the
/// finding is gone and no new error appears. The other commands fix lines name are sign-ins
/// (`leverage aws sso login`, `sso-reset --login`: tests/sso.rs and tests/keep_alive.rs run
/// them against the portal and OIDC test servers) or `leverage credentials configure` with the
/// user's own keys file (a person's step: the fix names the file it needs).
#[tokio::test(flavor = "multi_thread")]
async fn every_regen_fix_resolves_its_finding() {
    let server = fixture_portal().await;
    let mut failures = Vec::new();
    let mut ran = Vec::new();
    for c in selected() {
        let case = prepared(c, c.fires);
        let check = |case: &Case| {
            check_json(
                case.cmd(c.scope)
                    .envs(c.env.iter().copied())
                    .args(["check", "--offline"])
                    .args(c.args),
            )
            .1
        };
        let before = check(&case);
        let commands: Vec<String> = crate::support::diags(&before, c.rule)
            .iter()
            .filter_map(|d| d["fix"]["command"].as_str().map(str::to_string))
            .filter(|cmd| cmd.starts_with("leverage-doctor regen-config"))
            .collect();
        let Some(command) = commands.first() else {
            continue;
        };
        ran.push(c.rule);
        let mut cmd = case.cmd(c.scope);
        cmd.envs(c.env.iter().copied())
            .env("AWS_ENDPOINT_URL_SSO", server.uri())
            .env("AWS_ENDPOINT_URL_SSO_OIDC", server.uri())
            .env("CI", "true")
            .args(command.split_whitespace().skip(1))
            .arg("--yes");
        let out = tokio::task::spawn_blocking(move || cmd.output().expect("run"))
            .await
            .expect("join");
        let after = check(&case);
        let new: Vec<_> = error_set(&after)
            .difference(&error_set(&before))
            .cloned()
            .collect();
        let left = crate::support::diags(&after, c.rule);
        if !out.status.success() || !left.is_empty() || !new.is_empty() {
            failures.push(format!(
                "{}: `{command}` exit {:?}; still {:?}; new errors {new:?}\n{}{}",
                c.rule,
                out.status.code(),
                left.iter()
                    .map(|d| d["message"].clone())
                    .collect::<Vec<_>>(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(
        !ran.is_empty() || std::env::var_os("RULE_CASE").is_some(),
        "no case's fix is a regen-config command"
    );
    assert!(
        failures.is_empty(),
        "ran for {ran:?}\n{}",
        failures.join("\n\n")
    );
}

/// The file a JSON report names, in the case: `~/…` under its HOME, else under the project.
fn case_file(case: &Case, file: &str) -> std::path::PathBuf {
    match file.strip_prefix("~/") {
        Some(rest) => case.home().join(rest),
        None => case.project().join(file),
    }
}

/// A fix line that is `key = value` (a comment may follow) is the line to write in place of
/// the flagged one, whose key it names, or first in the section or block the finding points
/// at, which lacks it. Done so in every fires case where it is one: the
/// finding is gone and no new error appears. The fixes this cannot apply are the edits
/// `check --fix` makes, the commands of `every_regen_fix_resolves_its_finding`, and those
/// `MANUAL` says why.
#[test]
fn every_line_fix_resolves_its_finding() {
    let line_fix = regex_lite_line;
    let mut failures = Vec::new();
    let mut ran = Vec::new();
    for c in selected() {
        let case = prepared(c, c.fires);
        let check = |case: &Case| {
            check_json(
                case.cmd(c.scope)
                    .envs(c.env.iter().copied())
                    .args(["check", "--offline"])
                    .args(c.args),
            )
            .1
        };
        let before = check(&case);
        let found = crate::support::diags(&before, c.rule);
        let Some(d) = found.first() else { continue };
        if d["fix"]["applicability"] != "manual" {
            continue;
        }
        let (Some(text), Some(file)) = (d["fix"]["text"].as_str(), d["file"].as_str()) else {
            continue;
        };
        let Some((key, value)) = line_fix(text.lines().next().unwrap_or("")) else {
            continue;
        };
        let path = case_file(&case, file);
        let Ok(old) = std::fs::read_to_string(&path) else {
            continue;
        };
        let mut lines: Vec<String> = old.lines().map(str::to_string).collect();
        // A finding about the whole file: the line is added to it.
        let line = match d["line"].as_u64() {
            Some(line) => line,
            None => {
                lines.push(String::new());
                lines.len() as u64
            }
        };
        let Some(flagged) = lines.get_mut(line as usize - 1) else {
            continue;
        };
        let indent: String = flagged.chars().take_while(|c| c.is_whitespace()).collect();
        let written_key = flagged.trim_start().split(['=', ' ']).next().unwrap_or("");
        let sep = if file.ends_with("build.env") {
            "="
        } else {
            " = "
        };
        let opens = flagged.trim_start().starts_with('[') || flagged.trim_end().ends_with('{');
        if written_key.eq_ignore_ascii_case(&key) || flagged.is_empty() {
            // The flagged line, rewritten.
            *flagged = format!("{indent}{key}{sep}{value}");
        } else if opens || file.starts_with("~/.aws/") {
            // A section or block that lacks the key (the finding points at its header or at
            // one of its keys: in an AWS file the order of keys does not matter): the line
            // goes in after it.
            let inner = if flagged.trim_end().ends_with('{') {
                format!("{indent}  ")
            } else {
                indent.clone()
            };
            lines.insert(line as usize, format!("{inner}{key}{sep}{value}"));
        } else {
            eprintln!("{}: `{key}` is not at {file}:{line}", c.rule);
            continue;
        }
        ran.push(c.rule);
        let mut new = lines.join("\n");
        if old.ends_with('\n') {
            new.push('\n');
        }
        std::fs::write(&path, &new).unwrap();
        let after = check(&case);
        let new_errors: Vec<_> = error_set(&after)
            .difference(&error_set(&before))
            .cloned()
            .collect();
        let left = crate::support::diags(&after, c.rule);
        if !left.is_empty() || !new_errors.is_empty() {
            failures.push(format!(
                "{}: `{key}{sep}{value}` at {file}:{line}: still {:?}; new errors {new_errors:?}",
                c.rule,
                left.iter()
                    .map(|d| d["message"].clone())
                    .collect::<Vec<_>>()
            ));
        }
    }
    eprintln!("line fixes applied for {ran:?}");
    assert!(
        !ran.is_empty() || std::env::var_os("RULE_CASE").is_some(),
        "no case's fix is a line"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `key = value` (or `KEY=value`); what follows three blanks explains it (a `# comment` or
/// `(where)`): (key, value).
fn regex_lite_line(line: &str) -> Option<(String, String)> {
    let line = match line.find("   ") {
        Some(at) => &line[..at],
        None => line,
    };
    let (key, value) = line.split_once('=')?;
    let key = key.trim();
    let value = value.trim();
    let is_key = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (is_key && !value.is_empty()).then(|| (key.to_string(), value.to_string()))
}

/// Every manual fix (advice or a command for a person) is applied by a test, or says here why
/// no test applies it. Applied: `every_line_fix_resolves_its_finding` (LD005–LD007, LD104–LD108,
/// LD302, LD308, LD401), `every_regen_fix_resolves_its_finding` (LD303, LD307, LD310),
/// `ld311_fix_resolves_it*`, `ld402_leftover_fix_resolves_it`; sign-ins against the test servers
/// in tests/sso.rs and tests/keep_alive.rs.
const MANUAL: &[(&str, &str)] = &[
    (
        "LD001",
        "the project's short name in the new build.env is the user's to choose",
    ),
    (
        "LD002",
        "where the unclosed block ends is the author's to say (terraform fmt points at the same place)",
    ),
    (
        "LD003",
        "which of the two names is meant is the user's to say",
    ),
    (
        "LD004",
        "the copy of common.tfvars.example is then filled in with the user's own accounts and SSO values",
    ),
    (
        "LD008",
        "an entry of the doctor's own settings file: corrected or deleted as the user meant it",
    ),
    ("LD009", "a new short name is the user's to choose"),
    (
        "LD101",
        "the value exists only when Terraform runs: what to write instead is the author's choice",
    ),
    (
        "LD107",
        "moving a provider block to config.tf changes the layer's code: the author's call",
    ),
    (
        "LD201",
        "needs the user's own access keys (their .csv): a person's step with the Leverage CLI's command",
    ),
    (
        "LD203",
        "two different values of one key: which is right is the user's to say (identical ones are a safe edit, applied)",
    ),
    (
        "LD205",
        "what a malformed line was meant to say cannot be known",
    ),
    (
        "LD206",
        "the comment belongs to the user: where it goes is theirs to say",
    ),
    (
        "LD207",
        "info: which of the two files keeps the key is the user's choice",
    ),
    (
        "LD305",
        "which profile of the loop should hold the keys is the user's to say",
    ),
    (
        "LD306",
        "needs the user's own access keys: a person's step with the Leverage CLI's command",
    ),
    (
        "LD309",
        "keys or role: which the profile should use is the user's to say",
    ),
    (
        "LD311",
        "applied by ld311_fix_resolves_it and ld311_fix_resolves_it_where_a_layer_names_the_profile",
    ),
    (
        "LD312",
        "a change of layout or of Terraform version: the user's choice",
    ),
    ("LD402", "applied by ld402_leftover_fix_resolves_it"),
    (
        "LD403",
        "the shell's own variables: only the user's shell can unset them",
    ),
    (
        "LD501",
        "a browser sign-in: tests/sso.rs and tests/sso_browser.rs run sso-login against the OIDC and portal test servers",
    ),
    (
        "LD502",
        "a browser sign-in: tests/sso.rs runs sso-login and sso-reset --login against the test servers",
    ),
    (
        "LD503",
        "a browser sign-in after removing the token: tests/sso.rs runs sso-login against the test servers",
    ),
    (
        "LD505",
        "the next run asks for an MFA code: tests/keep_alive.rs runs refresh --mfa-code and then the real Leverage CLI",
    ),
    (
        "LD506",
        "a browser sign-in: tests/sso.rs runs sso-reset --login against the test servers",
    ),
    ("LD701", "the missing value is the user's secret or address"),
    (
        "LD702",
        "a new token is made on the provider's site by the user",
    ),
    (
        "LD703",
        "a new SSH key is added to the user's account on the git host",
    ),
    (
        "LD707",
        "needs the cluster's name and the user's AWS access to EKS: a person's step against a real cluster",
    ),
    (
        "LD708",
        "which account's key should encrypt the file is the user's call (a key policy may let the other account decrypt)",
    ),
    (
        "LD709",
        "a host key is trusted once a person has compared it with the fingerprints the host publishes (ssh-keyscan alone trusts the network)",
    ),
    ("LD710", "the token for the git host is the user's own"),
];

#[test]
fn every_manual_fix_is_applied_by_a_test_or_says_why() {
    let applied_by_line_or_regen = [
        "LD005", "LD006", "LD007", "LD104", "LD105", "LD106", "LD108", "LD302", "LD308", "LD401",
        "LD303", "LD307", "LD310",
    ];
    let mut missing = Vec::new();
    for c in selected() {
        if applied_by_line_or_regen.contains(&c.rule) || MANUAL.iter().any(|(id, _)| *id == c.rule)
        {
            continue;
        }
        let case = prepared(c, c.fires);
        let r = check_json(
            case.cmd(c.scope)
                .envs(c.env.iter().copied())
                .args(["check", "--offline"])
                .args(c.args),
        )
        .1;
        if crate::support::diags(&r, c.rule)
            .iter()
            .any(|d| d["fix"]["applicability"] == "manual")
        {
            missing.push(c.rule);
        }
    }
    assert!(
        missing.is_empty(),
        "manual fixes no test applies and MANUAL does not explain: {missing:?}"
    );
    let ids: Vec<&str> = leverage_doctor::rules::RULES.iter().map(|r| r.id).collect();
    for (id, why) in MANUAL {
        assert!(ids.contains(id), "MANUAL names no rule {id}");
        assert!(!why.is_empty());
    }
}

/// The errors of a JSON report, as `rule message` lines.
fn error_set(r: &serde_json::Value) -> std::collections::BTreeSet<String> {
    r["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| format!("{} {}", d["rule"], d["message"]))
        .collect()
}
