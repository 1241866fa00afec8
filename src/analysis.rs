//! The analysis stage, between model and rules: built once per run, it says what each profile in
//! scope is — its credential source (as the project's Leverage CLI and the SDKs see it), its
//! `source_profile` chain — and so how the live probe gets its credentials. Rules, live probes
//! and report rows read this; none derives a profile's source from raw keys again.

use crate::leverage::LeverageCli;
use crate::model::Model;
use crate::model::aws::AwsFiles;
use crate::model::project::{Mode, ProfileRef};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where a profile's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// Leverage's SSO step writes them (`<p>-<account>-<role>` in SSO mode): SSO
    /// GetRoleCredentials for `account_id`/`role_name` of `[profile <sso_profile>]`.
    LeverageSso {
        account: String,
        sso_profile: String,
    },
    /// Leverage's MFA step: AssumeRole with an MFA code, configured in `[profile <section>]`
    /// (the profile itself up to 2.x, `<name>-mfa` on 3.x).
    LeverageMfa {
        section: String,
    },
    /// A standard SSO profile (`sso_start_url` or `sso_session`).
    Sso,
    /// `role_arn` with `source_profile` (or `credential_source`).
    AssumeRole {
        source_profile: Option<String>,
    },
    CredentialProcess,
    WebIdentity,
    StaticKeys,
    /// Credentials Terraform's SDK cannot read yet (`login_session`, written by `aws login`).
    Unsupported {
        key: String,
    },
    /// Defined nowhere.
    Missing,
    /// Defined, with nothing the SDK can use.
    Unknown,
}

impl CredentialSource {
    /// The report's `kind` (INTERFACE.md): sso | assume-role | static | mfa | unknown.
    pub fn kind(&self) -> &'static str {
        match self {
            CredentialSource::LeverageSso { .. } | CredentialSource::Sso => "sso",
            CredentialSource::LeverageMfa { .. } => "mfa",
            CredentialSource::AssumeRole { .. } | CredentialSource::WebIdentity => "assume-role",
            CredentialSource::StaticKeys | CredentialSource::CredentialProcess => "static",
            CredentialSource::Missing
            | CredentialSource::Unknown
            | CredentialSource::Unsupported { .. } => "unknown",
        }
    }
}

/// One profile, as the analysis sees it.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub source: CredentialSource,
    /// The profile and the profiles its `source_profile` leads to, in order, up to one that
    /// has none, does not exist, or repeats (a profile naming itself with its own keys ends it).
    pub chain: Vec<String>,
    /// The loop, when the chain runs into one.
    pub cycle: Option<Vec<String>>,
}

/// One layer's `leverage tf plan`, as the project's CLI generation runs it: the references its
/// SSO or MFA step processes, then the ones Terraform reads. A layer is its own run: what
/// another layer's run refreshes does not count.
#[derive(Debug, Clone)]
pub struct LayerRun {
    /// The layer, relative to the root.
    pub layer: String,
    pub account: String,
    /// What the CLI's step processes, resolved name and reference: every `profile` of the
    /// files its generation scans (`LeverageCli::scans`). backend.tfvars only fills in `var.profile`
    /// there (3.1.0 and 2.1.1 `get_profiles`): the backend's profile is refreshed only when a
    /// layer file names it.
    pub refreshed: Vec<(String, Arc<ProfileRef>)>,
    /// What Terraform reads: every `profile` of every `*.tf`, and the backend's when the
    /// layer keeps its state in S3.
    pub terraform: Vec<(String, Arc<ProfileRef>)>,
}

/// Everything the rules, the live probe and the report know about the profiles in scope.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Resolved profile names in scope and every place that names them.
    pub used: BTreeMap<String, Vec<Arc<ProfileRef>>>,
    /// Every used profile and every profile their chains reach.
    pub profiles: BTreeMap<String, Profile>,
    /// Each layer in scope, as its run goes.
    pub runs: Vec<LayerRun>,
}

impl Analysis {
    pub fn new(model: &Model) -> Analysis {
        let mut out = Analysis::default();
        let Some(project) = model.project.as_ref() else {
            return out;
        };
        for r in project.refs_in_scope() {
            if let Some(name) = r.resolved() {
                out.used
                    .entry(name.to_string())
                    .or_default()
                    .push(r.clone());
            }
        }
        out.runs = layer_runs(model, project);
        let Some(aws) = model.aws.as_ref() else {
            return out;
        };
        let cli = model.cli();
        let name = project.name().unwrap_or_default();
        let mode = project.mode(cli);
        let used: Vec<String> = out.used.keys().cloned().collect();
        for profile in used {
            let (chain, cycle) = chain_of(aws, &profile);
            for member in &chain {
                if !out.profiles.contains_key(member) {
                    let (c, cy) = chain_of(aws, member);
                    out.profiles.insert(
                        member.clone(),
                        Profile {
                            name: member.clone(),
                            source: source_of(aws, cli, &name, mode, member),
                            chain: c,
                            cycle: cy,
                        },
                    );
                }
            }
            // Where the chain leaves the files (a source Leverage writes at run time), that
            // source is known too.
            if let Some(last) = chain.last()
                && let Some(next) = aws.profile_value(last, "source_profile")
                && !aws.has_profile(&next.value)
                && !out.profiles.contains_key(&next.value)
            {
                out.profiles.insert(
                    next.value.clone(),
                    Profile {
                        name: next.value.clone(),
                        source: source_of(aws, cli, &name, mode, &next.value),
                        chain: vec![next.value.clone()],
                        cycle: None,
                    },
                );
            }
            out.profiles.entry(profile.clone()).or_insert(Profile {
                source: source_of(aws, cli, &name, mode, &profile),
                name: profile,
                chain,
                cycle,
            });
        }
        out
    }

    /// Whether Leverage itself writes this profile's credentials at run time (SSO or 3.x MFA),
    /// so that its absence from the files is no error.
    pub fn written_by_leverage(&self, name: &str) -> bool {
        matches!(
            self.source(name),
            Some(CredentialSource::LeverageSso { .. } | CredentialSource::LeverageMfa { .. })
        )
    }

    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    pub fn source(&self, name: &str) -> Option<&CredentialSource> {
        self.profiles.get(name).map(|p| &p.source)
    }
}

/// The resolved backend profiles (config/backend.tfvars `profile` of an account) of the
/// accounts whose layers run in scope: what `env --profile` exports when there is exactly one.
pub fn backend_profiles(
    runs: &[LayerRun],
    backend_refs: &[Arc<ProfileRef>],
) -> std::collections::BTreeSet<String> {
    let accounts: std::collections::BTreeSet<&str> =
        runs.iter().map(|r| r.account.as_str()).collect();
    backend_refs
        .iter()
        .filter(|r| accounts.contains(&*r.owner))
        .filter_map(|r| r.resolved().map(str::to_string))
        .collect()
}

/// One role Leverage's SSO step would fetch for the scope's runs (GetRoleCredentials), and
/// the names it writes the result under, as the project's generation names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleFetch {
    pub account: String,
    pub account_id: String,
    pub role: String,
    /// Credentials section and `[profile <name>] expiration`, one per name (2.x keeps the
    /// backend's name for `var.profile` beside `<p>-<account>-<role>`).
    pub names: Vec<String>,
}

/// What `refresh` does for a scope, decided from the files: the roles to fetch, and what the
/// CLI's own step would stop on (exit 40: no `[profile <p>-sso-<account>]`).
#[derive(Debug, Clone, Default)]
pub struct RefreshPlan {
    pub roles: Vec<RoleFetch>,
    pub problems: Vec<String>,
}

/// The roles the SSO step of every layer run in scope fetches (`LayerRun::refreshed`), each
/// once: `account_id`/`role_name` of the account's SSO profile, written under the names
/// `LeverageCli::sso_credentials_name` gives. Empty unless the project runs in SSO mode.
pub fn refresh_plan(model: &Model, analysis: &Analysis) -> RefreshPlan {
    let mut out = RefreshPlan::default();
    let (Some(project), Some(aws)) = (model.project.as_ref(), model.aws.as_ref()) else {
        return out;
    };
    let cli = model.cli();
    if project.mode(cli) != Mode::Sso {
        return out;
    }
    let name = project.name().unwrap_or_default();
    for run in &analysis.runs {
        for (profile, r) in &run.refreshed {
            let account = crate::leverage::cli_account_of(profile).to_string();
            let section = cli.sso_account_section(&name, &account, None);
            let value = |key: &str| aws.profile_value(&section, key).map(|e| e.value.clone());
            let (Some(account_id), Some(role)) = (value("account_id"), value("role_name")) else {
                let problem = format!(
                    "layer {}: `{profile}` needs [profile {section}] with account_id and role_name (the Leverage CLI stops with exit 40): run `leverage-doctor regen-config --sso`",
                    run.layer
                );
                if !out.problems.contains(&problem) {
                    out.problems.push(problem);
                }
                continue;
            };
            let kind = if r.site == crate::model::project::RefSite::Backend
                || r.expr == "var.profile"
                || r.expr == "each.value.profile"
            {
                crate::leverage::RefKind::VarProfile
            } else {
                crate::leverage::RefKind::Named
            };
            let written = cli.sso_credentials_name(kind, profile, &name, &account, &role);
            match out
                .roles
                .iter_mut()
                .find(|f| f.account_id == account_id && f.role == role)
            {
                Some(f) => {
                    if !f.names.contains(&written) {
                        f.names.push(written);
                    }
                }
                None => out.roles.push(RoleFetch {
                    account,
                    account_id,
                    role,
                    names: vec![written],
                }),
            }
        }
    }
    out
}

/// Whether the Leverage CLI reads a reference before Terraform runs: the backend's `profile`,
/// or a `profile` its search reaches in a layer file its generation scans (not a command's
/// `--profile`, not one hidden beside its block's own `profile`).
pub fn cli_reads(model: &Model, r: &ProfileRef) -> bool {
    use crate::model::project::RefSite;
    match r.site {
        RefSite::Backend => true,
        RefSite::Exec | RefSite::Sops => false,
        _ => {
            !r.hidden_from_cli
                && model
                    .sources
                    .get(r.span.file)
                    .path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| model.cli().scans(n))
        }
    }
}

/// Each layer in scope, as its run goes (see `LayerRun`).
fn layer_runs(model: &Model, project: &crate::model::project::Project) -> Vec<LayerRun> {
    project
        .layers_in_scope()
        .map(|layer| {
            let named = |r: &Arc<ProfileRef>| r.resolved().map(|n| (n.to_string(), r.clone()));
            let backend = project
                .backend_refs
                .iter()
                .filter(|r| *r.owner == *layer.account && layer.s3_backend);
            LayerRun {
                layer: layer.path.clone(),
                account: layer.account.clone(),
                refreshed: layer
                    .refs
                    .iter()
                    .filter(|r| cli_reads(model, r))
                    .filter_map(named)
                    .collect(),
                terraform: backend.chain(&layer.refs).filter_map(named).collect(),
            }
        })
        .collect()
}

/// How the project's Leverage CLI and the SDKs get credentials for `profile`.
fn source_of(
    aws: &AwsFiles,
    cli: LeverageCli,
    project: &str,
    mode: Mode,
    profile: &str,
) -> CredentialSource {
    let has = |p: &str, k: &str| aws.profile_value(p, k).is_some();
    // A profile defined with its own source (a partner or break-glass role chained from
    // Leverage's credentials) is the SDK's to resolve, even under a Leverage-like name.
    let own_source = [
        "role_arn",
        "sso_start_url",
        "sso_session",
        "credential_process",
    ]
    .iter()
    .any(|k| has(profile, k));
    if mode == Mode::Sso
        && !own_source
        && crate::leverage::is_role_credentials_name(project, profile)
    {
        let account = crate::leverage::account_of_profile(project, profile)
            .unwrap_or_default()
            .to_string();
        // The section the generation reads for the account, as it is in the file (1.6–1.11
        // name it with the role: `<p>-sso-<acct>-<Role>`).
        let sso_profile = aws
            .profile_names()
            .into_iter()
            .find(|n| cli.is_sso_account_section(project, &account, n))
            .map(str::to_string)
            .unwrap_or_else(|| cli.sso_account_section(project, &account, None));
        return CredentialSource::LeverageSso {
            sso_profile,
            account,
        };
    }
    if mode == Mode::IamMfa {
        let section = cli.mfa_section(profile);
        if has(&section, "mfa_serial") && has(&section, "role_arn") {
            return CredentialSource::LeverageMfa { section };
        }
    }
    if !aws.has_profile(profile) {
        return CredentialSource::Missing;
    }
    // Terraform's SDK does not know `login_session` and reads the profile's other credentials
    // (keys, a role, SSO, a process) as if the line were not there: only a profile with
    // nothing else is one it cannot use.
    if has(profile, "login_session")
        && ![
            "sso_start_url",
            "sso_session",
            "role_arn",
            "credential_process",
            "aws_access_key_id",
        ]
        .iter()
        .any(|k| has(profile, k))
    {
        return CredentialSource::Unsupported {
            key: "login_session".into(),
        };
    }
    if has(profile, "sso_start_url") || has(profile, "sso_session") {
        CredentialSource::Sso
    } else if has(profile, "role_arn") {
        if has(profile, "web_identity_token_file") {
            CredentialSource::WebIdentity
        } else {
            CredentialSource::AssumeRole {
                source_profile: aws
                    .profile_value(profile, "source_profile")
                    .map(|e| e.value.clone()),
            }
        }
    } else if has(profile, "credential_process") {
        CredentialSource::CredentialProcess
    } else if has(profile, "aws_access_key_id") {
        CredentialSource::StaticKeys
    } else {
        CredentialSource::Unknown
    }
}

/// The `source_profile` chain from `start`, and the loop if it runs into one.
pub fn chain_of(aws: &AwsFiles, start: &str) -> (Vec<String>, Option<Vec<String>>) {
    let mut path: Vec<String> = Vec::new();
    let mut current = start.to_string();
    while aws.has_profile(&current) {
        if let Some(i) = path.iter().position(|p| *p == current) {
            let cycle = path[i..].to_vec();
            return (path, Some(cycle));
        }
        path.push(current.clone());
        match aws.profile_value(&current, "source_profile") {
            // A profile naming itself with its own keys is the SDKs' documented self-reference.
            Some(next)
                if next.value == current
                    && aws.profile_value(&current, "aws_access_key_id").is_some() =>
            {
                break;
            }
            Some(next) => current = next.value.clone(),
            None => break,
        }
    }
    if path.is_empty() {
        path.push(start.to_string());
    }
    (path, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leverage::Generation;
    use crate::source::FileId;

    fn aws(config: &str, credentials: &str) -> AwsFiles {
        crate::ini::aws_files_of(config, credentials)
    }

    /// The plan the live probe executes, decided without a network.
    #[test]
    fn sources_follow_the_generation() {
        let files = aws(
            "[profile bb-shared-devops]\nrole_arn = arn:aws:iam::2:role/DevOps\nsource_profile = bb-security\nmfa_serial = arn:aws:iam::4:mfa/j\n[profile bb-shared-devops-mfa]\nrole_arn = arn:aws:iam::2:role/DevOps\nsource_profile = bb-security\nmfa_serial = arn:aws:iam::4:mfa/j\n[profile partner]\nsso_start_url = https://x\n",
            "[bb-security]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n",
        );
        let v2 = LeverageCli::new(Generation::V2);
        let v3 = LeverageCli::new(Generation::V3);
        assert_eq!(
            source_of(&files, v2, "bb", Mode::IamMfa, "bb-shared-devops"),
            CredentialSource::LeverageMfa {
                section: "bb-shared-devops".into()
            }
        );
        assert_eq!(
            source_of(&files, v3, "bb", Mode::IamMfa, "bb-shared-devops"),
            CredentialSource::LeverageMfa {
                section: "bb-shared-devops-mfa".into()
            }
        );
        assert_eq!(
            source_of(&files, v2, "bb", Mode::Sso, "bb-apps-devstg-devops"),
            CredentialSource::LeverageSso {
                account: "apps-devstg".into(),
                sso_profile: "bb-sso-apps-devstg".into()
            }
        );
        assert_eq!(
            source_of(&files, v2, "bb", Mode::Sso, "partner"),
            CredentialSource::Sso
        );
        assert_eq!(
            source_of(&files, v2, "bb", Mode::Iam, "bb-security"),
            CredentialSource::StaticKeys
        );
        assert_eq!(
            source_of(&files, v2, "bb", Mode::Iam, "nope"),
            CredentialSource::Missing
        );
        assert_eq!(
            source_of(&files, v2, "bb", Mode::Iam, "bb-shared-devops"),
            CredentialSource::AssumeRole {
                source_profile: Some("bb-security".into())
            }
        );
    }

    #[test]
    fn chains_and_loops() {
        let files = aws(
            "[profile a]\nrole_arn = r\nsource_profile = b\n[profile b]\nrole_arn = r\nsource_profile = c\n[profile c]\nrole_arn = r\nsource_profile = a\n[profile d]\nsource_profile = d\naws_access_key_id = AKIAX\n",
            "",
        );
        let (chain, cycle) = chain_of(&files, "a");
        assert_eq!(chain, ["a", "b", "c"]);
        assert_eq!(cycle.unwrap(), ["a", "b", "c"]);
        assert_eq!(chain_of(&files, "d"), (vec!["d".to_string()], None));
    }

    #[test]
    fn backend_profiles_are_those_of_the_accounts_in_scope() {
        use crate::model::project::{RefSite, Resolution};
        let run = |account: &str| LayerRun {
            layer: format!("{account}/base"),
            account: account.into(),
            refreshed: Vec::new(),
            terraform: Vec::new(),
        };
        let backend = |owner: &str, resolution: Resolution| {
            Arc::new(ProfileRef {
                span: crate::source::Span {
                    file: FileId::DETACHED,
                    range: None,
                },
                expr: "x".into(),
                site: RefSite::Backend,
                resolution,
                owner: owner.into(),
                region_given: false,
                hidden_from_cli: false,
            })
        };
        let refs = [
            backend("shared", Resolution::Resolved("bb-shared-devops".into())),
            backend("apps", Resolution::Resolved("bb-apps-devops".into())),
            backend("network", Resolution::Skipped("local.p".into())),
        ];
        let names = |runs: &[LayerRun]| {
            backend_profiles(runs, &refs)
                .into_iter()
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&[run("shared"), run("shared")]), ["bb-shared-devops"]);
        assert_eq!(
            names(&[run("apps"), run("shared")]),
            ["bb-apps-devops", "bb-shared-devops"]
        );
        assert!(names(&[run("network"), run("security")]).is_empty());
    }
}
