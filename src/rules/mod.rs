//! The rule registry and the context rules read. Rules are pure: they look at the model and
//! push diagnostics; they never read files or print.

mod aws_files;
mod credentials;
pub use credentials::{CredentialStatus, TokenPlan, statuses as credential_statuses, token_plan};
mod live;
mod mode;
mod profiles;
mod project;
mod references;
pub mod sessions;

use crate::analysis::Analysis;
use crate::diagnostic::{Diagnostic, Severity};
use crate::leverage::{account_of_profile, is_role_credentials_name};
use crate::model::Model;
use crate::model::aws::{AwsFile, AwsFiles};
use crate::model::project::{Mode, ProfileRef, Project};
use std::collections::{BTreeMap, BTreeSet};

pub struct Rule {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// The rule's page in `rules/`: the one copy of its documentation.
    pub doc: &'static str,
    pub check: fn(&Context, &mut Vec<Diagnostic>),
}

impl Rule {
    /// A new finding of this rule, at its default severity.
    pub fn diag(&'static self, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            rule: self.id,
            name: self.name,
            severity: self.severity,
            message: message.into(),
            primary: None,
            related: Vec::new(),
            profile: None,
            help: None,
            fix: None,
            edit: None,
            more_edits: Vec::new(),
        }
    }

    /// The one-line summary: the first paragraph after the page's title.
    pub fn summary(&self) -> &'static str {
        self.doc
            .lines()
            .skip(1)
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
    }
}

macro_rules! rule {
    ($ident:ident, $id:literal, $name:literal, $sev:ident, $check:path) => {
        pub static $ident: $crate::rules::Rule = $crate::rules::Rule {
            id: $id,
            name: $name,
            severity: $crate::diagnostic::Severity::$sev,
            doc: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/", $id, ".md")),
            check: $check,
        };
    };
}
pub(crate) use rule;

/// Every rule, sorted by id.
pub static RULES: &[&Rule] = &[
    &project::LD001,
    &project::LD002,
    &project::LD003,
    &project::LD004,
    &project::LD005,
    &project::LD006,
    &project::LD007,
    &project::LD008,
    &project::LD009,
    &references::LD101,
    &references::LD102,
    &references::LD103,
    &references::LD104,
    &references::LD105,
    &references::LD106,
    &references::LD107,
    &references::LD108,
    &aws_files::LD201,
    &aws_files::LD202,
    &aws_files::LD203,
    &aws_files::LD204,
    &aws_files::LD205,
    &aws_files::LD206,
    &aws_files::LD207,
    &aws_files::LD208,
    &profiles::LD301,
    &profiles::LD302,
    &profiles::LD303,
    &profiles::LD304,
    &profiles::LD305,
    &profiles::LD306,
    &profiles::LD307,
    &profiles::LD308,
    &profiles::LD309,
    &profiles::LD310,
    &profiles::LD311,
    &profiles::LD312,
    &mode::LD401,
    &mode::LD402,
    &mode::LD403,
    &sessions::LD501,
    &sessions::LD502,
    &sessions::LD503,
    &sessions::LD504,
    &sessions::LD505,
    &sessions::LD506,
    &live::LD601,
    &live::LD602,
    &live::LD603,
    &credentials::LD701,
    &credentials::LD702,
    &credentials::LD703,
    &credentials::LD704,
    &credentials::LD705,
    &credentials::LD706,
    &credentials::LD707,
    &credentials::LD708,
    &credentials::LD709,
    &credentials::LD710,
];

pub fn find(id: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.id.eq_ignore_ascii_case(id))
}

/// What rules share: the model and the analysis of its profiles, built once per run.
pub struct Context<'a> {
    pub model: &'a Model,
    pub project: Option<&'a Project>,
    pub aws: Option<&'a AwsFiles>,
    /// The project short name (`bb`).
    pub name: String,
    pub mode: Mode,
    /// What the project's Leverage CLI generation does.
    pub cli: crate::leverage::LeverageCli,
    /// What each profile in scope is (credential source, chain).
    pub analysis: &'a Analysis,
    /// Resolved profile names in scope and every place that names them: what Terraform reads
    /// (every `*.tf` of the layers, and the backends).
    pub used: BTreeMap<String, Vec<&'a ProfileRef>>,
    /// The same, for the places the Leverage CLI reads before Terraform runs (the backend and
    /// the layer files its generation scans): the profiles its SSO or MFA step refreshes.
    pub cli_used: BTreeMap<String, Vec<&'a ProfileRef>>,
    pub refs: Vec<&'a ProfileRef>,
}

impl<'a> Context<'a> {
    /// A line's span with its line break: what deleting the line removes.
    pub fn whole_line(&self, line: &crate::source::Span) -> crate::source::Span {
        let text = &self.model.sources.get(line.file).text;
        match &line.range {
            Some(r) => {
                let after = text.get(r.end..).unwrap_or("");
                let end = if after.starts_with("\r\n") {
                    r.end + 2
                } else if after.starts_with('\n') {
                    r.end + 1
                } else {
                    r.end
                };
                crate::source::Span::new(line.file, r.start..end)
            }
            None => line.clone(),
        }
    }

    pub fn new(model: &'a Model, analysis: &'a Analysis) -> Context<'a> {
        let project = model.project.as_ref();
        let refs: Vec<&ProfileRef> = project
            .map(|p| p.refs_in_scope().into_iter().map(|r| &**r).collect())
            .unwrap_or_default();
        let used: BTreeMap<String, Vec<&ProfileRef>> = analysis
            .used
            .iter()
            .map(|(name, refs)| (name.clone(), refs.iter().map(|r| &**r).collect()))
            .collect();
        let cli_used = used
            .iter()
            .filter_map(|(name, refs)| {
                let read: Vec<&ProfileRef> = refs
                    .iter()
                    .copied()
                    .filter(|r| crate::analysis::cli_reads(model, r))
                    .collect();
                (!read.is_empty()).then(|| (name.clone(), read))
            })
            .collect();
        Context {
            model,
            project,
            aws: model.aws.as_ref(),
            name: project.and_then(|p| p.name()).unwrap_or_default(),
            mode: project.map(|p| p.mode(model.cli())).unwrap_or(Mode::Iam),
            cli: model.cli(),
            analysis,
            used,
            cli_used,
            refs,
        }
    }

    /// Whether the Leverage CLI reads this reference before Terraform runs.
    pub fn cli_reads(&self, r: &ProfileRef) -> bool {
        crate::analysis::cli_reads(self.model, r)
    }

    /// The account a profile designates (`bb-apps-devstg-devops` → `apps-devstg`).
    pub fn account_of<'n>(&self, profile: &'n str) -> Option<&'n str> {
        account_of_profile(&self.name, profile)
    }

    /// `<p>-<account>-<role>` profiles that Leverage writes itself in SSO mode (not those
    /// defined with their own source, such as a role chained from them).
    pub fn is_sso_derived(&self, profile: &str) -> bool {
        match self.analysis.source(profile) {
            Some(source) => matches!(
                source,
                crate::analysis::CredentialSource::LeverageSso { .. }
            ),
            None => self.mode == Mode::Sso && is_role_credentials_name(&self.name, profile),
        }
    }

    /// Profiles whose credentials the CLI's MFA step writes at run time (3.x: `[X]` in
    /// credentials, from `[profile X-mfa]`): not expected in the files beforehand.
    pub fn is_mfa_derived(&self, profile: &str) -> bool {
        self.mode == Mode::IamMfa
            && self.cli.mfa_section(profile) != profile
            && self
                .aws
                .is_some_and(|a| a.has_profile(&self.cli.mfa_section(profile)))
    }

    /// The SSO account profile the CLI reads for an account (`<p>-sso-<account>`).
    pub fn sso_account_profile(&self, account: &str) -> String {
        self.cli.sso_account_section(&self.name, account, None)
    }

    /// Used profiles plus every profile their `source_profile` chains reach (defined ones).
    pub fn chain_profiles(&self) -> BTreeSet<String> {
        let Some(aws) = self.aws else {
            return BTreeSet::new();
        };
        self.analysis
            .profiles
            .keys()
            .filter(|p| aws.has_profile(p))
            .cloned()
            .collect()
    }

    /// The fix for a missing `<p>-sso-<account>` section: regen writes one for every account
    /// common.tfvars declares, never for one it does not — then the reference is what to fix.
    pub fn sso_account_fix(&self, profile: &str, account: &str) -> String {
        let declared: Vec<&str> = self
            .project
            .map(|p| p.accounts.keys().map(String::as_str).collect())
            .unwrap_or_default();
        if declared.is_empty() || declared.contains(&account) {
            return self.regen_fix();
        }
        // The example names a declared account with the role its SSO profile gives, so that
        // following it brings no LD104.
        let example = declared[0];
        let role = self
            .aws
            .and_then(|a| a.profile_value(&self.sso_account_profile(example), "role_name"))
            .map(|e| e.value.to_lowercase())
            .unwrap_or_else(|| profile.rsplit('-').next().unwrap_or("devops").to_string());
        format!(
            "`{account}` is not an account of config/common.tfvars ({}): if it is one of those under another name, name that one (e.g. \"${{var.project}}-{example}-{role}\"); if it is an account of its own, add it to `accounts` with its id, then: {}",
            declared.join(", "),
            self.regen_fix()
        )
    }

    /// The configured `regen-config` command for this project's mode.
    pub fn regen_fix(&self) -> String {
        // Without common.tfvars the mode is a guess (SSO is off for the CLI too): say what
        // decides it before naming a command.
        if self.model.after_regen {
            return match self.mode {
                Mode::Sso => "regen-config has just written every account the portal lists for you: one it did not write is not among your accounts and roles there (ask for access to it, or change the reference)".into(),
                _ => "regen-config has just written a profile for every account of config/common.tfvars: add the account there (with its id) or change the reference; keys come from leverage credentials configure".into(),
            };
        }
        if self.project.is_some_and(|p| p.common.is_none()) {
            return "create config/common.tfvars first (copy config/common.tfvars.example and fill it in): its `sso_enabled` decides between leverage-doctor regen-config --sso and --iam".into();
        }
        match self.mode {
            Mode::Sso => {
                "leverage-doctor regen-config --sso   (or: leverage aws configure sso)".into()
            }
            _ => "leverage-doctor regen-config --iam   (or: leverage credentials configure)".into(),
        }
    }

    pub fn config_file(&self) -> Option<&'a AwsFile> {
        self.aws.map(|a| &a.config)
    }

    /// The expected account id for an account name, from common.tfvars.
    pub fn account_id(&self, account: &str) -> Option<&'a str> {
        self.project?
            .accounts
            .get(account)?
            .id
            .as_ref()
            .map(|l| l.value.as_str())
    }
}

/// Runs every rule over the model; diagnostics come back ordered by file, line and rule.
pub fn run(model: &Model, analysis: &Analysis) -> Vec<Diagnostic> {
    run_only(model, analysis, &[])
}

/// Runs only the rules `ids` names (`--select`; case-insensitive ids), every rule when empty.
pub fn run_only(model: &Model, analysis: &Analysis, ids: &[String]) -> Vec<Diagnostic> {
    let cx = Context::new(model, analysis);
    let mut out = Vec::new();
    for rule in RULES
        .iter()
        .filter(|r| ids.is_empty() || ids.iter().any(|id| id.eq_ignore_ascii_case(r.id)))
    {
        (rule.check)(&cx, &mut out);
    }
    out
}

/// Applies the team's settings and `--ignore`: drops ignored findings (globally or for a
/// path), re-grades severities. LD008 (the settings' own errors) cannot be silenced.
pub fn apply_policy(
    model: &Model,
    diagnostics: Vec<Diagnostic>,
    extra_ignore: &[String],
) -> Vec<Diagnostic> {
    let config = &model.config;
    let per_path: Vec<(globset::GlobMatcher, &[String])> = config
        .per_path
        .iter()
        .filter_map(|p| {
            let glob = crate::model::config::compile_glob(&p.glob).ok()?;
            Some((glob, p.ignore.as_slice()))
        })
        .collect();
    diagnostics
        .into_iter()
        .filter(|d| {
            if d.rule == "LD008" {
                return true;
            }
            let ignored = |list: &[String]| list.iter().any(|r| r.eq_ignore_ascii_case(d.rule));
            if ignored(&config.ignore) || ignored(extra_ignore) {
                return false;
            }
            let Some(label) = &d.primary else { return true };
            let file = &model.sources.get(label.span.file).display;
            !per_path
                .iter()
                .any(|(glob, ids)| glob.is_match(file) && ignored(ids))
        })
        .map(|mut d| {
            if let Some((_, s)) = config
                .severity
                .iter()
                .find(|(r, _)| r.eq_ignore_ascii_case(d.rule))
                && d.rule != "LD008"
            {
                d.severity = *s;
            }
            d
        })
        .collect()
}

/// The name among `candidates` nearest to `name`, if it is near enough to be a likely typo.
pub fn nearest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let limit = (name.len() / 3).max(2);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (strsim::levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// `nearest`, when no other candidate is as near: the one obvious match a fix may apply.
pub fn obvious_match<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str> + Clone,
) -> Option<&'c str> {
    let near = nearest(name, candidates.clone())?;
    let distance = strsim::levenshtein(name, near);
    let ties = candidates
        .into_iter()
        .filter(|c| *c != name && strsim::levenshtein(name, c) == distance)
        .count();
    (ties == 1).then_some(near)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_obvious_match_has_no_tie() {
        let names = ["bb-shared-devops", "bb-shared-devopz", "bb-security-devops"];
        assert_eq!(obvious_match("bb-shared-devop", names), None);
        assert_eq!(
            obvious_match("bb-security-devop", names),
            Some("bb-security-devops")
        );
    }

    #[test]
    fn registry_is_sorted_and_unique() {
        let ids: Vec<_> = RULES.iter().map(|r| r.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn nearest_names() {
        let names = ["bb-shared-devops", "bb-security", "bb-apps-prd-devops"];
        assert_eq!(nearest("bb-shared-devop", names), Some("bb-shared-devops"));
        assert_eq!(nearest("bb-network-devops", names), None);
    }
}
