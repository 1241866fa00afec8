//! The Leverage project as read from its files: plain data, every value with its place.

use crate::source::{Located, Span};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// One `KEY=VALUE` of a build.env.
#[derive(Debug, Clone)]
pub struct EnvEntry {
    pub key: String,
    /// The value the CLI uses: unquoted, `${NAME}` expanded as its parser (yaenv) does.
    pub value: String,
    /// The value had a `${…}` that was expanded.
    pub interpolated: bool,
    pub key_span: Span,
    pub value_span: Span,
    pub line_span: Span,
    /// Written as `export KEY=…`, which the CLI's parser rejects.
    pub exported: bool,
}

#[derive(Debug, Clone)]
pub struct BuildEnvFile {
    /// Relative to the project root ("" for the root's own).
    pub dir: String,
    pub file: crate::source::FileId,
    pub entries: Vec<EnvEntry>,
    /// Lines the Leverage CLI's parser (`yaenv`) refuses, which stop the whole CLI.
    pub unreadable: Vec<(crate::source::Span, String)>,
}

/// A variable set by a .tfvars file (top-level attribute).
#[derive(Debug, Clone)]
pub struct TfVar {
    pub name: String,
    pub value: hcl::Value,
    pub span: Span,
    pub value_span: Span,
}

#[derive(Debug, Clone)]
pub struct TfvarsFile {
    pub file: crate::source::FileId,
    pub vars: Vec<TfVar>,
}

impl TfvarsFile {
    pub fn get(&self, name: &str) -> Option<&TfVar> {
        self.vars.iter().rev().find(|v| v.name == name)
    }

    pub fn get_str(&self, name: &str) -> Option<Located<String>> {
        self.get(name).and_then(|v| match &v.value {
            hcl::Value::String(s) => Some(Located {
                value: s.clone(),
                span: v.value_span.clone(),
            }),
            _ => None,
        })
    }
}

/// An account as common.tfvars declares it.
#[derive(Debug, Clone)]
pub struct AccountDecl {
    pub name: String,
    pub name_span: Span,
    pub id: Option<Located<String>>,
}

#[derive(Debug, Clone)]
pub struct AccountDir {
    pub name: String,
    pub account_tfvars: Option<TfvarsFile>,
    pub backend_tfvars: Option<TfvarsFile>,
    /// Every *.tfvars in the account's config/, in the order Terraform is given them.
    pub var_files: Vec<TfvarsFile>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefSite {
    /// `provider "aws"` (with its alias, if any).
    Provider { alias: Option<String> },
    /// The state backend's `profile` in backend.tfvars.
    Backend,
    /// A `terraform_remote_state` data source's config.
    RemoteState,
    /// A `locals` block.
    Local,
    /// A command's `--profile` argument (a kubernetes/helm provider's `exec` block running the
    /// AWS CLI): Terraform runs it, the Leverage CLI never reads it.
    Exec,
    /// `aws_profile` in the sops metadata of a file a `data "sops_file"` decrypts: the sops
    /// provider opens a session with it for KMS; the Leverage CLI never reads it.
    Sops,
    /// Any other place a `profile` attribute stands.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Resolved(String),
    /// Left out on purpose, as the Leverage CLI leaves it out (`lookup(`, `local.`).
    Skipped(String),
    /// Taken from the elements of literal `locals` maps (named here) that a `for_each`
    /// iterates: each element's profile is a reference of its own, checked where it is
    /// written (and `lookup`'s default, when an element lacks the key). The Leverage CLI skips
    /// it, as it skips every `lookup(`.
    Iterated(String),
    /// Could not be worked out: why.
    Unresolved(String),
}

/// One place that names an AWS profile.
#[derive(Debug, Clone)]
pub struct ProfileRef {
    pub span: Span,
    /// The expression as written.
    pub expr: String,
    pub site: RefSite,
    pub resolution: Resolution,
    /// The layer (or account, for backends) it belongs to, relative to the root: one string
    /// for all the layer's references.
    pub owner: std::sync::Arc<str>,
    /// The same block or object gives Terraform a `region` (a provider's `region`, a remote
    /// state's `config.region`, backend.tfvars `region`): the profile's own region is not used.
    pub region_given: bool,
    /// The Leverage CLI's search never reaches it: the block or object around it has its own
    /// `profile`, and the CLI's `key_finder` returns that one alone (3.1.0 and 2.1.1
    /// `_utils.py`), whatever else the block holds.
    pub hidden_from_cli: bool,
}

impl ProfileRef {
    pub fn resolved(&self) -> Option<&str> {
        match &self.resolution {
            Resolution::Resolved(name) => Some(name),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Layer {
    /// Relative to the project root.
    pub path: String,
    pub account: String,
    /// Shared: the analysis and every layer run hold the same references, not copies.
    pub refs: Vec<Arc<ProfileRef>>,
    /// `profile = "…"` lines inside comments (`#`, `//`) of config.tf and locals.tf, with
    /// `${var.project}` substituted: the 1.x toolbox's grep-based MFA script still reads them.
    pub commented_profiles: Vec<Located<String>>,
    /// A `terraform { backend "s3" {} }` block: the layer's state lives in S3, reached with
    /// the account's backend.tfvars `profile`.
    pub s3_backend: bool,
    /// `provider "aws"` blocks without a `profile` (the default chain), at their `provider`.
    pub providers_without_profile: Vec<Span>,
    /// Which AWS provider plugin the layer may run: `.terraform.lock.hcl`, else the
    /// `required_providers` constraint.
    pub aws_provider: Option<ProviderPin>,
    /// Non-AWS credentials the layer's providers need (github, gitlab, vault, tfe, hcp,
    /// kubernetes, helm), one per credential and provider configuration.
    pub credentials: Vec<crate::model::credentials::CredentialNeed>,
    /// Module sources `terraform init` fetches with git.
    pub module_sources: Vec<crate::model::credentials::ModuleSource>,
    /// The KMS keys of the files its `data "sops_file"` blocks decrypt.
    pub sops_keys: Vec<crate::model::credentials::SopsKey>,
}

/// The AWS provider version a layer is held to, as written.
#[derive(Debug, Clone)]
pub struct ProviderPin {
    pub written: Located<String>,
    /// From `.terraform.lock.hcl` (what `init` installs), not a constraint.
    pub locked: bool,
}

/// The first AWS provider release whose own authentication reads a profile's `sso_session`
/// (hashicorp/terraform-provider-aws#28263: before it, "is configured to use SSO but is
/// missing required configuration: sso_region, sso_start_url").
pub const AWS_PROVIDER_READS_SSO_SESSION: (u32, u32, u32) = (4, 54, 0);

impl ProviderPin {
    /// Whether every version the pin allows is older than `first`: a locked version below it,
    /// or a constraint whose upper bound (`= v`, `<= v`, `< v`, `~> x.y`, `~> x.y.z`) is.
    pub fn only_older_than(&self, first: (u32, u32, u32)) -> bool {
        if self.locked {
            return parse_version(self.written.value.trim()).is_some_and(|v| v < first);
        }
        self.written.value.split(',').any(|part| {
            let part = part.trim();
            let (op, v) = match part.find(|c: char| c.is_ascii_digit()) {
                Some(at) => (part[..at].trim(), part[at..].trim()),
                None => return false,
            };
            let Some(version) = parse_version(v) else {
                return false;
            };
            let parts = v.split('.').count();
            match op {
                "" | "=" | "<=" => version < first,
                "<" => version <= first,
                "~>" if parts >= 3 => (version.0, version.1 + 1, 0) <= first,
                "~>" => (version.0 + 1, 0, 0) <= first,
                _ => false,
            }
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    Layer,
    Account,
    Project,
}

impl ScopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Layer => "layer",
            ScopeKind::Account => "account",
            ScopeKind::Project => "project",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Scope {
    pub kind: ScopeKind,
    /// Relative to the project root ("." for the root).
    pub path: String,
    /// Accounts in scope.
    pub accounts: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Sso,
    Iam,
    IamMfa,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Sso => "sso",
            Mode::Iam => "iam",
            Mode::IamMfa => "iam-mfa",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ParseError {
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    /// build.env files from the root down to the start folder.
    pub build_envs: Vec<BuildEnvFile>,
    pub common: Option<TfvarsFile>,
    /// config/common.tfvars, registered even when absent so findings can name it.
    pub common_file: crate::source::FileId,
    pub common_example_exists: bool,
    /// Every *.tfvars in the root config/, in order.
    pub root_var_files: Vec<TfvarsFile>,
    pub project_yaml_short_name: Option<Located<String>>,
    pub accounts: BTreeMap<String, AccountDecl>,
    pub account_dirs: Vec<AccountDir>,
    pub layers: Vec<Layer>,
    /// backend.tfvars `profile` of each account.
    pub backend_refs: Vec<Arc<ProfileRef>>,
    pub scope: Scope,
    pub parse_errors: Vec<ParseError>,
    /// What is wrong with build.env `TF_BINARY` as the 3.x CLI resolves it (not found, not
    /// executable), when it is set.
    pub tf_binary_problem: Option<String>,
    /// What the binary `leverage tf` runs is, as far as the doctor knows (3.x).
    pub tf_binary_kind: Option<TfBinaryKind>,
    /// The Terraform or OpenTofu the project runs, where known.
    pub terraform: Option<Terraform>,
}

/// What `TF_BINARY` (or `tofu` on PATH) is: `leverage tf` runs only a binary whose
/// `--version` says OpenTofu (3.1.0 `tfrunner.py`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TfBinaryKind {
    /// Its `--version` says OpenTofu.
    OpenTofu,
    /// Its `--version` does not (its first line, for the report).
    NotOpenTofu { said: String },
    /// Not run (offline, or inside the checkout); its file name says `terraform`.
    NamedTerraform,
}

/// Which Terraform runs the layers, and where that is known from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terraform {
    pub opentofu: bool,
    pub version: (u32, u32, u32),
    pub source: String,
}

impl Terraform {
    /// `1.5.7-0.2.4` (Terraform), `1.9.1-tofu-0.3.0` (OpenTofu): the toolbox image tag.
    pub fn from_image_tag(tag: &str) -> Option<Terraform> {
        let mut parts = tag.split('-');
        let version = parse_version(parts.next()?)?;
        Some(Terraform {
            opentofu: tag.contains("-tofu-"),
            version,
            source: format!("toolbox image {tag}"),
        })
    }

    /// A version pinned in a file (`1.5.7` in `.terraform-version`, `terraform 1.5.7` in
    /// `.tool-versions`); `latest`, ranges and the like tell nothing.
    pub fn from_pin(version: &str, opentofu: bool, file: &str) -> Option<Terraform> {
        let v = version.trim().trim_start_matches('v');
        if v.is_empty()
            || !v
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        Some(Terraform {
            opentofu,
            version: parse_version(v)?,
            source: format!("{file} {v}"),
        })
    }

    /// `Terraform v1.5.7` / `OpenTofu v1.8.0` (the first line of `--version`).
    pub fn from_version_output(text: &str, binary: &str) -> Option<Terraform> {
        let first = text.lines().next()?;
        let v = first.split_whitespace().find(|w| w.starts_with('v'))?;
        Some(Terraform {
            opentofu: first.contains("OpenTofu"),
            version: parse_version(v.trim_start_matches('v'))?,
            source: format!("`{binary} --version`"),
        })
    }

    pub fn shown(&self) -> String {
        let (a, b, c) = self.version;
        format!(
            "{} {a}.{b}.{c}",
            if self.opentofu {
                "OpenTofu"
            } else {
                "Terraform"
            }
        )
    }
}

fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let mut n = v.split('.').map(|p| p.parse::<u32>().ok());
    Some((
        n.next()??,
        n.next().flatten().unwrap_or(0),
        n.next().flatten().unwrap_or(0),
    ))
}

impl Project {
    /// The merged build.env value (deeper files win).
    pub fn build_var(&self, key: &str) -> Option<&EnvEntry> {
        self.build_envs
            .iter()
            .rev()
            .find_map(|f| f.entries.iter().rev().find(|e| e.key == key))
    }

    /// The project short name the CLI uses: common.tfvars `project`, else build.env `PROJECT`.
    pub fn name(&self) -> Option<String> {
        self.common
            .as_ref()
            .and_then(|c| c.get_str("project"))
            .map(|l| l.value)
            .or_else(|| self.build_var("PROJECT").map(|e| e.value.clone()))
    }

    pub fn common_var(&self, name: &str) -> Option<&TfVar> {
        self.common.as_ref().and_then(|c| c.get(name))
    }

    pub fn common_str(&self, name: &str) -> Option<Located<String>> {
        self.common.as_ref().and_then(|c| c.get_str(name))
    }

    /// SSO is on when `sso_enabled` is truthy, as the CLI reads it (a non-empty string counts).
    pub fn sso_enabled(&self) -> bool {
        match self.common_var("sso_enabled").map(|v| &v.value) {
            Some(hcl::Value::Bool(b)) => *b,
            Some(hcl::Value::String(s)) => !s.is_empty(),
            Some(hcl::Value::Number(n)) => n.as_f64() != Some(0.0),
            _ => false,
        }
    }

    pub fn mfa_enabled(&self) -> bool {
        self.build_var("MFA_ENABLED")
            .is_some_and(|e| e.value == "true")
    }

    /// How the project's Leverage CLI gets credentials: SSO, or IAM with or without its MFA
    /// step (which 3.x runs whenever SSO is off).
    pub fn mode(&self, cli: crate::leverage::LeverageCli) -> Mode {
        let raw = self.build_var("MFA_ENABLED").map(|e| e.value.as_str());
        if self.sso_enabled() {
            Mode::Sso
        } else if cli.mfa_runs(false, raw) {
            Mode::IamMfa
        } else {
            Mode::Iam
        }
    }

    pub fn account_dir(&self, name: &str) -> Option<&AccountDir> {
        self.account_dirs.iter().find(|a| a.name == name)
    }

    pub fn layers_in_scope(&self) -> impl Iterator<Item = &Layer> {
        self.layers
            .iter()
            .filter(|l| self.scope.accounts.contains(&l.account))
            .filter(|l| {
                self.scope.kind != ScopeKind::Layer
                    || l.path == self.scope.path
                    || l.path.starts_with(&format!("{}/", self.scope.path))
            })
    }

    /// Every profile reference in scope: the backends of the accounts in scope, then the layers'.
    pub fn refs_in_scope(&self) -> Vec<&Arc<ProfileRef>> {
        let backends = self
            .backend_refs
            .iter()
            .filter(|r| self.scope.accounts.iter().any(|a| **a == *r.owner));
        backends
            .chain(self.layers_in_scope().flat_map(|l| l.refs.iter()))
            .collect()
    }
}

pub use crate::leverage::account_of_profile;

#[cfg(test)]
mod tests {
    use super::account_of_profile;

    #[test]
    fn provider_pins_older_than_a_release() {
        use super::{ProviderPin, Span};
        use crate::source::{FileId, Located};
        let pin = |written: &str, locked: bool| ProviderPin {
            written: Located {
                value: written.into(),
                span: Span::whole(FileId::DETACHED),
            },
            locked,
        };
        let first = (4, 54, 0);
        for older in [
            "4.40.0",
            "= 4.53.1",
            "<= 4.0",
            "< 4.54.0",
            "~> 4.40.0",
            "~> 3.0",
            ">= 3.0, < 4.50",
        ] {
            assert!(pin(older, false).only_older_than(first), "{older}");
        }
        for newer in [
            "4.54.0",
            ">= 3.0",
            "~> 4.0",
            "~> 5.0",
            "~> 4.54.1",
            "< 4.54.1",
            "!= 4.0",
            "latest",
        ] {
            assert!(!pin(newer, false).only_older_than(first), "{newer}");
        }
        assert!(pin("4.53.0", true).only_older_than(first));
        assert!(!pin("5.31.0", true).only_older_than(first));
    }

    #[test]
    fn account_names_from_profiles() {
        assert_eq!(
            account_of_profile("bb", "bb-apps-devstg-devops"),
            Some("apps-devstg")
        );
        assert_eq!(account_of_profile("bb", "bb-shared-oaar"), Some("shared"));
        assert_eq!(
            account_of_profile("bb", "bb-sso-apps-prd"),
            Some("apps-prd")
        );
        assert_eq!(account_of_profile("bb", "bb-security"), None);
        assert_eq!(account_of_profile("bb", "le-shared-devops"), None);
    }
}
