//! Every profile name the Leverage CLI builds or reads: its SSO base and account sections, the
//! names it writes role credentials under, the `-mfa` sections of 3.x, and how it finds the
//! account in a name.

use super::{Generation, LeverageCli};
/// How a profile is referenced in a layer (what the CLI substitutes and how it names the result).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// `profile = var.profile` (or the backend's `profile`).
    VarProfile,
    /// Anything else: a literal or `"${var.project}-…"`.
    Named,
}

/// The account a profile designates, as every generation's CLI works it out: the text between
/// the first and the last `-`, whatever the prefix (`bb-apps-devstg-devops` → `apps-devstg`,
/// `other-shared-devops` → `shared`, `bb-bootstrap` → ``).
/// Whether the CLI accepts a project.yaml `short_name`: `^[a-z]{2,4}$` (2.1.1 and 3.1.0
/// `credentials.py` `_load_configs_for_credentials`, `project.py` `create`). build.env `PROJECT`
/// and common.tfvars `project` are not checked by it.
pub fn accepts_yaml_short_name(name: &str) -> bool {
    (2..=4).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase())
}

pub fn cli_account_of(profile: &str) -> &str {
    match (profile.find('-'), profile.rfind('-')) {
        (Some(first), Some(last)) if first < last => &profile[first + 1..last],
        _ => "",
    }
}

/// The account a profile name designates, as the Leverage CLI works it out: the text between
/// `<project>-` and the last `-` (`bb-apps-devstg-devops` → `apps-devstg`), or what follows
/// `<project>-sso-` for Leverage's SSO account profiles.
pub fn account_of_profile<'a>(project: &str, profile: &'a str) -> Option<&'a str> {
    let rest = profile.strip_prefix(project)?.strip_prefix('-')?;
    if let Some(account) = rest.strip_prefix("sso-") {
        return Some(account);
    }
    let (account, _role) = rest.rsplit_once('-')?;
    (!account.is_empty()).then_some(account)
}

/// `[profile <p>-sso]`: the base SSO profile Leverage logs in with.
pub fn sso_base_profile(project: &str) -> String {
    format!("{project}-sso")
}

/// `<p>-sso-`: what every SSO account profile's name starts with, in every layout.
pub fn sso_account_prefix(project: &str) -> String {
    format!("{}-", sso_base_profile(project))
}

/// The keys of an SSO account section (`[profile <p>-sso-<account>]`) as `leverage aws configure
/// sso` writes them, in its order (2.x, 3.x `add_sso_profile`); regen-config --sso writes the same.
pub fn sso_account_section_keys(
    role: &str,
    account_id: &str,
    sso_region: &str,
    start_url: &str,
) -> [(&'static str, String); 4] {
    [
        ("role_name", role.to_string()),
        ("account_id", account_id.to_string()),
        ("sso_region", sso_region.to_string()),
        ("sso_start_url", start_url.to_string()),
    ]
}

/// What 3.x appends to a profile's name for the config section its MFA step reads.
pub const MFA_SECTION_SUFFIX: &str = "-mfa";

/// `<p>-sso…`: Leverage's own SSO profiles (the base and the account profiles).
pub fn is_sso_profile_name(project: &str, profile: &str) -> bool {
    profile.starts_with(&sso_base_profile(project))
}

/// `<p>-<account>-<role>`: a name Leverage writes role credentials under (SSO, or 3.x MFA),
/// not one of its SSO profiles.
pub fn is_role_credentials_name(project: &str, profile: &str) -> bool {
    account_of_profile(project, profile).is_some() && !is_sso_profile_name(project, profile)
}

impl LeverageCli {
    /// `[profile <p>-sso-<account>]` (1.12 →) or `[profile <p>-sso-<account>-<Role>]` (1.6–1.11).
    pub fn sso_account_section(self, project: &str, account: &str, role: Option<&str>) -> String {
        match (self.generation, role) {
            (Generation::V1, Some(role)) => {
                format!("{}{account}-{role}", sso_account_prefix(project))
            }
            (Generation::V1, None) | (Generation::V2 | Generation::V3, _) => {
                format!("{}{account}", sso_account_prefix(project))
            }
        }
    }

    /// Whether a config profile is the SSO account profile the CLI reads for `account`:
    /// `<p>-sso-<account>` (1.12 →), `<p>-sso-<account>-<Role>` (1.6–1.11).
    pub fn is_sso_account_section(self, project: &str, account: &str, profile: &str) -> bool {
        let base = format!("{}{account}", sso_account_prefix(project));
        match self.generation {
            Generation::V1 => profile
                .strip_prefix(&base)
                .and_then(|r| r.strip_prefix('-'))
                .is_some_and(|role| !role.is_empty() && !role.contains('-')),
            Generation::V2 | Generation::V3 => profile == base,
        }
    }

    /// The name SSO credentials are written under for a reference: 3.x writes every reference,
    /// `var.profile` and the backend included, as `<p>-<account>-<role lower-cased>` (its
    /// `var.profile` test never matches: leverage#326); 2.x keeps the backend's name for
    /// `var.profile`; 1.x writes the name the .tf uses.
    pub fn sso_credentials_name(
        self,
        kind: RefKind,
        resolved: &str,
        project: &str,
        account: &str,
        role: &str,
    ) -> String {
        match (self.generation, kind) {
            (Generation::V1, _) | (Generation::V2, RefKind::VarProfile) => resolved.to_string(),
            (Generation::V2, RefKind::Named) | (Generation::V3, _) => {
                format!("{project}-{account}-{}", role.to_lowercase())
            }
        }
    }

    /// The config section the MFA step reads for a profile: `X-mfa` on 3.x, `X` before.
    pub fn mfa_section(self, profile: &str) -> String {
        match self.generation {
            Generation::V3 => format!("{profile}{MFA_SECTION_SUFFIX}"),
            Generation::V1 | Generation::V2 => profile.to_string(),
        }
    }

    /// The header text the CLI looks a config profile up by (`profile <name>`).
    pub fn section_header(self, profile: &str) -> String {
        format!("profile {profile}")
    }
}
