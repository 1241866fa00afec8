//! Leverage's own AWS-config layout, generated from the source of truth (common.tfvars,
//! account.tfvars, the SSO portal, the existing source profiles). Pure: no I/O.

use super::ini_edit::{EditPlan, SectionSpec};
use crate::leverage::LeverageCli;
use crate::model::aws::AwsFiles;
use crate::model::sign_in::PortalAccount;
use crate::values;
use std::collections::BTreeMap;

/// Something the user should know about the generated config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub warning: bool,
    pub text: String,
}

impl Note {
    fn info(text: String) -> Note {
        Note {
            warning: false,
            text,
        }
    }
    fn warn(text: String) -> Note {
        Note {
            warning: true,
            text,
        }
    }

    /// The line shown for it: `warning: …` or `note: …`, control characters escaped.
    pub fn line(&self) -> String {
        format!(
            "{}: {}",
            if self.warning { "warning" } else { "note" },
            crate::secrets::escape_controls(&self.text, false)
        )
    }
}

/// What regen takes from the project, for `--sso` and `--iam` alike: a pure function of the
/// model, every value validated before it can reach a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFacts {
    pub name: String,
    pub project_long: Option<String>,
    /// common.tfvars `region_primary` (or `region`).
    pub region: Option<String>,
    /// common.tfvars accounts: name → id.
    pub declared: BTreeMap<String, Option<String>>,
    /// account.tfvars `sso_role` per account folder.
    pub expected_roles: BTreeMap<String, String>,
    /// The scope's account, when regen runs in an account folder or a layer.
    pub base_account: Option<String>,
}

/// `<what> \`<value>\` <why>`: a value refused before it is written.
fn refused(what: &str, value: &str, why: String) -> String {
    format!(
        "{what} `{}` {why}: it is not written into an AWS file",
        crate::secrets::escape_controls(value, false)
    )
}

impl ProjectFacts {
    pub fn of(project: &crate::model::project::Project) -> Result<ProjectFacts, String> {
        let name = project.name().unwrap_or_default();
        values::project_name(&name).map_err(|why| refused("the project name", &name, why))?;
        let region = project
            .common_str("region_primary")
            .or_else(|| project.common_str("region"))
            .map(|l| l.value);
        if let Some(r) = &region {
            values::region(r)
                .map_err(|why| refused("config/common.tfvars `region_primary`", r, why))?;
        }
        Ok(ProjectFacts {
            name,
            project_long: project.common_str("project_long").map(|l| l.value),
            region,
            declared: project
                .accounts
                .values()
                .map(|a| (a.name.clone(), a.id.as_ref().map(|l| l.value.clone())))
                .collect(),
            expected_roles: project
                .account_dirs
                .iter()
                .filter_map(|a| {
                    let role = a.account_tfvars.as_ref()?.get_str("sso_role")?.value;
                    Some((a.name.clone(), role))
                })
                .collect(),
            base_account: (project.scope.kind != crate::model::project::ScopeKind::Project)
                .then(|| project.scope.accounts.first().cloned())
                .flatten(),
        })
    }
}

impl ProjectFacts {
    /// The account ids common.tfvars declares: the accounts whose roles `--sso` lists.
    pub fn declared_ids(&self) -> Vec<String> {
        self.declared.values().flatten().cloned().collect()
    }

    /// `--sso`'s layout for a file holding these section headers. The profiles' default
    /// region is the project's, else the SSO region.
    pub fn sso_layout(
        &self,
        sso: &SsoSource,
        existing: &[String],
        prune: bool,
    ) -> (EditPlan, Vec<Note>) {
        let default_region = self.region.as_deref().unwrap_or(&sso.sso_region);
        sso_plan(
            &SsoInputs {
                project: &self.name,
                project_long: self.project_long.as_deref(),
                start_url: &sso.start_url,
                sso_region: &sso.sso_region,
                default_region,
                declared: self.declared.clone(),
                expected_roles: self.expected_roles.clone(),
                base_account: self.base_account.as_deref(),
                portal: &sso.portal,
                existing,
                all_accounts: sso.all_accounts,
                role: sso.role.as_deref(),
            },
            prune,
        )
    }

    /// `--iam`'s layout for a file holding these section headers: the source profiles' keys
    /// are looked up in `aws`; with an MFA serial (the CLI's MFA step runs), each profile is
    /// written to the section the CLI reads for it. The region is the project's, else
    /// `us-east-1`.
    pub fn iam_layout(
        &self,
        aws: &AwsFiles,
        cli: LeverageCli,
        mfa_serial: Option<&str>,
        existing: &[String],
        prune: bool,
    ) -> (EditPlan, Vec<Note>) {
        let has_keys = |p: &str| aws.profile_value(p, "aws_access_key_id").is_some();
        let section_of = |p: &str| {
            if mfa_serial.is_some() {
                cli.mfa_section(p)
            } else {
                p.to_string()
            }
        };
        iam_plan(
            &IamInputs {
                project: &self.name,
                region: self.region.as_deref().unwrap_or("us-east-1"),
                declared: self.declared.clone(),
                mfa_serial,
                has_profile: &has_keys,
                section_of: &section_of,
                existing,
            },
            prune,
        )
    }
}

/// `--sso`: the project's portal as listed, and the options that shape the layout.
#[derive(Debug, Clone)]
pub struct SsoSource {
    pub start_url: String,
    pub sso_region: String,
    pub portal: Vec<PortalAccount>,
    /// Write every visible account, not only those common.tfvars declares (by id).
    pub all_accounts: bool,
    /// `--role`: the role for every account that has it.
    pub role: Option<String>,
}

/// Never list another organisation's accounts into this project: the SSO token must have been
/// issued for the project's start URL and SSO region (a token that does not say is taken).
/// `aws_dir` is the project's AWS folder as shown.
pub fn token_is_the_projects(
    token_start_url: Option<&str>,
    token_region: Option<&str>,
    start_url: &str,
    sso_region: &str,
    aws_dir: &str,
) -> Result<(), String> {
    if let Some(url) = token_start_url
        && !values::same_start_url(url, start_url)
    {
        return Err(format!(
            "the SSO token in {aws_dir}/sso/cache/token was issued for `{}`, not this project's `{start_url}`: nothing listed or written; sign in to the project's portal first (leverage-doctor sso-reset --login)",
            crate::secrets::one_line(url, 200)
        ));
    }
    if let Some(region) = token_region
        && region.trim() != sso_region.trim()
    {
        return Err(format!(
            "the SSO token in {aws_dir}/sso/cache/token is for region `{}`, not this project's `{sso_region}`: nothing listed or written; sign in again (leverage-doctor sso-reset --login)",
            crate::secrets::one_line(region, 40)
        ));
    }
    Ok(())
}

/// The section headers of an AWS config text, as written.
pub fn headers(text: &str) -> Vec<String> {
    let (parsed, _) = crate::ini::parse(
        text,
        crate::source::FileId::DETACHED,
        crate::model::aws::IniKind::Config,
    );
    parsed.sections.into_iter().map(|s| s.raw).collect()
}

/// The MFA serial `--iam` writes when the CLI's MFA step runs: `--mfa-serial`, else the one the
/// config already has; None when MFA is off.
pub fn iam_mfa_serial(
    mfa_on: bool,
    config: &crate::model::aws::IniFile,
    given: Option<&str>,
) -> Result<Option<String>, String> {
    if !mfa_on {
        return Ok(None);
    }
    let serial = given
        .map(str::to_string)
        .or_else(|| {
            config
                .sections
                .iter()
                .find_map(|s| s.get("mfa_serial"))
                .map(|e| e.value.clone())
        })
        .ok_or("the Leverage CLI runs its MFA step (build.env MFA_ENABLED; 3.x whenever SSO is off) and no profile has an `mfa_serial` yet: pass --mfa-serial arn:aws:iam::<security account id>:mfa/<your user>")?;
    values::mfa_serial(&serial).map_err(|why| refused("the MFA serial", &serial, why))?;
    Ok(Some(serial))
}

pub struct SsoInputs<'a> {
    pub project: &'a str,
    pub project_long: Option<&'a str>,
    pub start_url: &'a str,
    pub sso_region: &'a str,
    pub default_region: &'a str,
    /// common.tfvars accounts: name → id.
    pub declared: BTreeMap<String, Option<String>>,
    /// account.tfvars `sso_role` per account folder.
    pub expected_roles: BTreeMap<String, String>,
    /// The account whose role `[profile <p>-sso]` logs in with.
    pub base_account: Option<&'a str>,
    pub portal: &'a [PortalAccount],
    /// Headers already in the file (to keep `[default]` and find stale sections).
    pub existing: &'a [String],
    /// Write every visible account, not only those common.tfvars declares (by id).
    pub all_accounts: bool,
    /// `--role`: the role for every account that has it.
    pub role: Option<&'a str>,
}

/// Up to this many names are listed in a summary line; the rest are counted.
const LISTED: usize = 8;

fn summary(names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(LISTED).map(String::as_str).collect();
    let more = names.len().saturating_sub(LISTED);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// The account name Leverage gives a portal account: its name without `<project_long>-`,
/// made a valid, stable profile-name part: lower-case, every run of characters outside
/// `[a-z0-9-]` turned into one `-` (`Data Lake` → `data-lake`, `ops[eu]` → `ops-eu`).
pub fn account_name(portal_name: &str, project_long: Option<&str>) -> String {
    let bare = project_long
        .and_then(|long| portal_name.strip_prefix(&format!("{long}-")))
        .unwrap_or(portal_name);
    let mut out = String::with_capacity(bare.len());
    for c in bare.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Which name each portal account gets: the common.tfvars account whose id matches, else its
/// own name made valid. Two accounts never share a name: the one whose id common.tfvars
/// declares wins, then the first by id; the others are reported and skipped, as are accounts
/// with an invalid id or name.
fn name_accounts<'p>(
    i: &SsoInputs<'p>,
    notes: &mut Vec<Note>,
) -> BTreeMap<String, &'p PortalAccount> {
    let by_id: BTreeMap<&str, &str> = i
        .declared
        .iter()
        .filter_map(|(name, id)| Some((id.as_deref()?, name.as_str())))
        .collect();
    let mut accounts: Vec<&PortalAccount> = i.portal.iter().collect();
    // Declared ids first, so that they win a name; then by id, for a stable result.
    accounts.sort_by(|a, b| {
        (!by_id.contains_key(a.id.as_str()), &a.id)
            .cmp(&(!by_id.contains_key(b.id.as_str()), &b.id))
    });
    let mut named: BTreeMap<String, &PortalAccount> = BTreeMap::new();
    for account in accounts {
        let shown = crate::secrets::escape_controls(&account.name, false);
        if let Err(why) = values::account_id(&account.id) {
            notes.push(Note::warn(format!(
                "portal account `{shown}`: its id `{}` {why}: skipped",
                crate::secrets::escape_controls(&account.id, false)
            )));
            continue;
        }
        let name = match by_id.get(account.id.as_str()) {
            Some(declared) => declared.to_string(),
            None => account_name(&account.name, i.project_long),
        };
        if let Err(why) = values::profile_name(&format!(
            "{}{name}",
            crate::leverage::sso_account_prefix(i.project)
        )) {
            notes.push(Note::warn(format!(
                "portal account `{shown}` ({}): no valid profile name can be made of it ({why}): skipped",
                account.id
            )));
            continue;
        }
        if !by_id.contains_key(account.id.as_str())
            && let Some(Some(declared_id)) = i.declared.get(&name)
        {
            notes.push(Note::warn(format!(
                "portal account `{shown}` ({}) has the name of common.tfvars account `{name}`, which is {declared_id}: skipped (accounts are matched by id)",
                account.id
            )));
            continue;
        }
        if let Some(first) = named.get(&name) {
            notes.push(Note::warn(format!(
                "portal accounts {} and {} would both be named `{name}`: {} kept, {} skipped",
                first.id, account.id, first.id, account.id
            )));
            continue;
        }
        named.insert(name, account);
    }
    named
}

pub fn sso_plan(i: &SsoInputs, prune: bool) -> (EditPlan, Vec<Note>) {
    let mut plan = EditPlan::default();
    let mut notes = Vec::new();
    let has = |h: &str| {
        i.existing
            .iter()
            .any(|e| super::ini_edit::normalize_header(e) == h)
    };
    if !has("default") && !has("profile default") {
        plan.upsert.push(SectionSpec {
            header: "default".into(),
            keys: vec![
                ("region".into(), i.default_region.into()),
                ("output".into(), "json".into()),
            ],
        });
    }
    let mut chosen: BTreeMap<String, (String, String)> = BTreeMap::new(); // name → (id, role)
    let mut visible: Vec<String> = Vec::new();
    let mut out_of_scope: Vec<String> = Vec::new();
    let mut undeclared_written: Vec<String> = Vec::new();
    let mut no_role: Vec<String> = Vec::new();
    let mut fell_back: Vec<String> = Vec::new();
    let mut first_of_many: Vec<String> = Vec::new();
    let declared_ids: Vec<&str> = i.declared.values().flatten().map(String::as_str).collect();
    for (name, account) in name_accounts(i, &mut notes) {
        visible.push(name.clone());
        let in_project = declared_ids.contains(&account.id.as_str())
            || i.declared.get(&name).is_some_and(Option::is_none);
        if !in_project {
            if !i.all_accounts {
                out_of_scope.push(format!("{name} ({})", account.id));
                continue;
            }
            undeclared_written.push(format!("{name} ({})", account.id));
        }
        let roles: Vec<&String> = account
            .roles
            .iter()
            .filter(|r| match values::role_name(r) {
                Ok(()) => true,
                Err(why) => {
                    notes.push(Note::warn(format!(
                        "`{name}`: the portal's role `{}` {why}: skipped",
                        crate::secrets::escape_controls(r, false)
                    )));
                    false
                }
            })
            .collect();
        let Some(first) = roles.first().copied() else {
            no_role.push(format!("{name} ({})", account.id));
            continue;
        };
        // --role, else account.tfvars sso_role, else the first role.
        let wanted = i
            .role
            .map(str::to_string)
            .or_else(|| i.expected_roles.get(&name).cloned());
        let role = match &wanted {
            Some(want) if roles.contains(&want) => want.clone(),
            Some(want) => {
                let fallback = i
                    .expected_roles
                    .get(&name)
                    .filter(|e| i.role.is_some() && roles.iter().any(|r| r == e))
                    .unwrap_or(first);
                fell_back.push(format!("{name} (no `{want}`: `{fallback}`)"));
                fallback.clone()
            }
            None => {
                if roles.len() > 1 {
                    first_of_many.push(format!("{name} (`{first}` of {})", join(&roles)));
                }
                first.clone()
            }
        };
        chosen.insert(name, (account.id.clone(), role));
    }
    // One short block, not a line per account: organisations have hundreds.
    if !out_of_scope.is_empty() {
        notes.push(Note::info(format!(
            "{} not in common.tfvars, not written (--all-accounts writes them): {}",
            crate::time::count_of(out_of_scope.len(), "visible account", "visible accounts"),
            summary(&out_of_scope)
        )));
    }
    if !undeclared_written.is_empty() {
        notes.push(Note::warn(format!(
            "{} visible to you but not declared in common.tfvars `accounts`, written (--all-accounts): {}",
            crate::time::count_of(undeclared_written.len(), "account", "accounts"),
            summary(&undeclared_written)
        )));
    }
    let unseen: Vec<String> = i
        .declared
        .keys()
        .filter(|n| !visible.contains(n))
        .cloned()
        .collect();
    if !unseen.is_empty() {
        notes.push(Note::warn(format!(
            "{} common.tfvars declares but your SSO user cannot see (no profile generated): {}",
            crate::time::count_of(unseen.len(), "account", "accounts"),
            summary(&unseen)
        )));
    }
    if !no_role.is_empty() {
        notes.push(Note::warn(format!(
            "{} with no role for you, skipped: {}",
            crate::time::count_of(no_role.len(), "account", "accounts"),
            summary(&no_role)
        )));
    }
    if !fell_back.is_empty() {
        notes.push(Note::warn(format!(
            "{} the role asked for (--role, else account.tfvars sso_role) and fell back: {}",
            crate::time::count_of(fell_back.len(), "account lacks", "accounts lack"),
            summary(&fell_back)
        )));
    }
    if !first_of_many.is_empty() {
        notes.push(Note::info(format!(
            "{} the first of your roles: {}",
            crate::time::count_of(
                first_of_many.len(),
                "account without sso_role or --role uses",
                "accounts without sso_role or --role use"
            ),
            summary(&first_of_many)
        )));
    }
    let base = i
        .base_account
        .and_then(|a| chosen.get_key_value(a))
        .or_else(|| chosen.get_key_value("management"))
        .or_else(|| chosen.iter().next());
    if let Some((base_name, (id, role))) = base {
        notes.push(Note::info(format!(
            "`{}-sso` logs in through `{base_name}` ({id}) as `{role}`",
            i.project
        )));
        plan.upsert.push(SectionSpec {
            header: format!("profile {}", crate::leverage::sso_base_profile(i.project)),
            keys: vec![
                ("sso_start_url".into(), i.start_url.into()),
                ("sso_region".into(), i.sso_region.into()),
                ("sso_account_id".into(), id.clone()),
                ("sso_role_name".into(), role.clone()),
            ],
        });
    }
    for (name, (id, role)) in &chosen {
        plan.upsert.push(SectionSpec {
            header: format!("profile {}-sso-{name}", i.project),
            keys: crate::leverage::sso_account_section_keys(role, id, i.sso_region, i.start_url)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        });
    }
    let prefix = format!("profile {}-sso-", i.project);
    for header in i.existing {
        let header = super::ini_edit::normalize_header(header);
        let Some(name) = header.strip_prefix(&prefix) else {
            continue;
        };
        if chosen.contains_key(name) || visible.iter().any(|v| v == name) {
            continue;
        }
        stale_section(
            &mut plan,
            &mut notes,
            header,
            "no such account any more",
            prune,
        );
    }
    (plan, notes)
}

fn join(roles: &[&String]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A section generated earlier for an account that is gone: removed with `--prune`, else kept
/// and said.
fn stale_section(
    plan: &mut EditPlan,
    notes: &mut Vec<Note>,
    header: String,
    why: &str,
    prune: bool,
) {
    if prune {
        notes.push(Note::info(format!(
            "removing `[{header}]`: {why} (--prune)"
        )));
        plan.remove.push(header);
    } else {
        notes.push(Note::info(format!(
            "`[{header}]`: {why}; kept (use --prune to remove it)"
        )));
    }
}

pub struct IamInputs<'a> {
    pub project: &'a str,
    pub region: &'a str,
    /// common.tfvars accounts: name → id.
    pub declared: BTreeMap<String, Option<String>>,
    /// `Some(serial)` when MFA is on.
    pub mfa_serial: Option<&'a str>,
    /// Which source profiles with keys exist.
    pub has_profile: &'a dyn Fn(&str) -> bool,
    /// The section the CLI reads for a profile (3.x: `X-mfa` when its MFA step runs).
    pub section_of: &'a dyn Fn(&str) -> String,
    pub existing: &'a [String],
}

pub fn iam_plan(i: &IamInputs, prune: bool) -> (EditPlan, Vec<Note>) {
    let mut plan = EditPlan::default();
    let mut notes = Vec::new();
    let security = format!("{}-security", i.project);
    let management = [
        format!("{}-management", i.project),
        format!("{}-bootstrap", i.project),
    ]
    .into_iter()
    .find(|p| (i.has_profile)(p));
    let mut kinds: Vec<(&str, &str, String)> = Vec::new(); // (suffix, role, source)
    if (i.has_profile)(&security) {
        kinds.push(("devops", "DevOps", security.clone()));
    } else {
        notes.push(Note::warn(format!(
            "no `[{security}]` keys: `<account>-devops` profiles need them (leverage credentials configure --type SECURITY)"
        )));
    }
    match &management {
        Some(source) => kinds.push(("oaar", "OrganizationAccountAccessRole", source.clone())),
        None => notes.push(Note::warn(format!(
            "no `[{0}-management]` or `[{0}-bootstrap]` keys: `<account>-oaar` profiles need them (leverage credentials configure --type MANAGEMENT)",
            i.project
        ))),
    }
    let mut generated = Vec::new();
    for (name, id) in &i.declared {
        let Some(id) = id else {
            notes.push(Note::warn(format!(
                "account `{name}` has no id in common.tfvars: skipped"
            )));
            continue;
        };
        let valid = values::account_id(id)
            .map_err(|why| format!("its id `{id}` {why}"))
            .and_then(|()| {
                values::profile_name(&format!("{}-{name}-devops", i.project))
                    .map_err(|why| format!("its name {why}"))
            });
        if let Err(why) = valid {
            notes.push(Note::warn(format!(
                "account `{}` of common.tfvars: {}: skipped",
                crate::secrets::escape_controls(name, false),
                crate::secrets::escape_controls(&why, false)
            )));
            continue;
        }
        for (suffix, role, source) in &kinds {
            // `leverage credentials configure` writes no DevOps profile for management.
            if name == "management" && *suffix == "devops" {
                continue;
            }
            let header = format!(
                "profile {}",
                (i.section_of)(&format!("{}-{name}-{suffix}", i.project))
            );
            let mut keys = vec![
                ("output".to_string(), "json".to_string()),
                ("region".to_string(), i.region.to_string()),
                (
                    "role_arn".to_string(),
                    format!("arn:aws:iam::{id}:role/{role}"),
                ),
                ("source_profile".to_string(), source.clone()),
            ];
            if let Some(serial) = i.mfa_serial {
                keys.push(("mfa_serial".into(), serial.into()));
            }
            generated.push(header.clone());
            plan.upsert.push(SectionSpec { header, keys });
        }
    }
    for header in i.existing {
        let header = super::ini_edit::normalize_header(header);
        let Some(rest) = header.strip_prefix(&format!("profile {}-", i.project)) else {
            continue;
        };
        let stale = ["-devops", "-oaar", "-devops-mfa", "-oaar-mfa"]
            .iter()
            .any(|s| rest.ends_with(s))
            && !generated.contains(&header);
        if !stale || kinds.is_empty() {
            continue;
        }
        let declared = i.declared.keys().any(|a| {
            ["-devops", "-oaar", "-devops-mfa", "-oaar-mfa"]
                .iter()
                .any(|s| rest == format!("{a}{s}"))
        });
        let why = if declared {
            "the project's Leverage CLI reads another layout (`-mfa` sections with 3.x)"
        } else {
            "its account is not in common.tfvars"
        };
        stale_section(&mut plan, &mut notes, header, why, prune);
    }
    (plan, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sso_layout_chooses_expected_role_and_reports_mismatches() {
        let portal = vec![
            PortalAccount {
                id: "222222222222".into(),
                name: "binbash-shared".into(),
                roles: vec!["Admin".into(), "DevOps".into()],
            },
            PortalAccount {
                id: "777777777777".into(),
                name: "sandbox".into(),
                roles: vec!["ReadOnly".into()],
            },
        ];
        let declared = BTreeMap::from([
            ("shared".to_string(), Some("222222222222".to_string())),
            ("network".to_string(), Some("555555555555".to_string())),
        ]);
        let existing = vec!["default".to_string(), "profile bb-sso-old".to_string()];
        let inputs = SsoInputs {
            project: "bb",
            project_long: Some("binbash"),
            start_url: "https://x.awsapps.com/start",
            sso_region: "us-east-1",
            default_region: "us-east-1",
            declared,
            expected_roles: BTreeMap::from([("shared".to_string(), "DevOps".to_string())]),
            base_account: None,
            portal: &portal,
            existing: &existing,
            all_accounts: true,
            role: None,
        };
        let (plan, notes) = sso_plan(&inputs, true);
        let headers: Vec<_> = plan.upsert.iter().map(|s| s.header.as_str()).collect();
        assert_eq!(
            headers,
            [
                "profile bb-sso",
                "profile bb-sso-sandbox",
                "profile bb-sso-shared"
            ]
        );
        assert_eq!(
            plan.upsert[2].keys[0],
            ("role_name".into(), "DevOps".into())
        );
        assert_eq!(plan.remove, ["profile bb-sso-old"]);
        let text: Vec<_> = notes.iter().map(|n| n.text.as_str()).collect();
        assert!(
            text.iter()
                .any(|t| t.contains("visible to you but not declared in common.tfvars `accounts`, written (--all-accounts): sandbox (777777777777)"))
        );
        assert!(text.iter().any(|t| {
            t.contains("declares but your SSO user cannot see (no profile generated): network")
        }));
    }

    fn facts(region: Option<&str>) -> ProjectFacts {
        ProjectFacts {
            name: "bb".into(),
            project_long: None,
            region: region.map(str::to_string),
            declared: BTreeMap::from([
                ("shared".to_string(), Some("222222222222".to_string())),
                ("apps".to_string(), None),
            ]),
            expected_roles: BTreeMap::new(),
            base_account: None,
        }
    }

    #[test]
    fn a_token_of_another_portal_or_region_is_refused_with_the_exact_text() {
        let url = "https://bb.awsapps.com/start";
        let ok = |u, r| token_is_the_projects(u, r, url, "us-east-1", "~/.aws/bb");
        assert_eq!(ok(None, None), Ok(()));
        assert_eq!(
            ok(Some("https://BB.awsapps.com/start/"), Some(" us-east-1 ")),
            Ok(())
        );
        assert_eq!(
            ok(Some("https://other.awsapps.com/start"), Some("eu-west-1")),
            Err("the SSO token in ~/.aws/bb/sso/cache/token was issued for `https://other.awsapps.com/start`, not this project's `https://bb.awsapps.com/start`: nothing listed or written; sign in to the project's portal first (leverage-doctor sso-reset --login)".to_string())
        );
        assert_eq!(
            ok(Some(url), Some("eu-west-1\nx")),
            Err("the SSO token in ~/.aws/bb/sso/cache/token is for region `eu-west-1`, not this project's `us-east-1`: nothing listed or written; sign in again (leverage-doctor sso-reset --login)".to_string())
        );
        // A region too long to show is cut.
        let long = "r".repeat(50);
        let Err(why) = ok(None, Some(&long)) else {
            panic!("a long region taken");
        };
        assert!(why.contains(&format!("`{}…`", "r".repeat(40))), "{why}");
    }

    #[test]
    fn headers_are_as_written_and_notes_are_escaped() {
        assert_eq!(
            headers("[default]\nregion = x\n[profile  bb-sso]\nk = v\n"),
            ["default", "profile  bb-sso"]
        );
        assert_eq!(
            Note::warn("a\u{1b}b".into()).line(),
            format!(
                "warning: {}",
                crate::secrets::escape_controls("a\u{1b}b", false)
            )
        );
        assert_eq!(Note::info("x".into()).line(), "note: x");
    }

    #[test]
    fn sso_layout_defaults_to_the_sso_region_and_lists_declared_ids() {
        let f = facts(None);
        assert_eq!(f.declared_ids(), ["222222222222"]);
        let sso = SsoSource {
            start_url: "https://bb.awsapps.com/start".into(),
            sso_region: "eu-west-1".into(),
            portal: Vec::new(),
            all_accounts: false,
            role: None,
        };
        let region_of_default = |f: &ProjectFacts| {
            let (plan, _) = f.sso_layout(&sso, &[], false);
            let default = plan.upsert.iter().find(|s| s.header == "default").cloned();
            default.map(|d| d.keys[0].clone())
        };
        assert_eq!(
            region_of_default(&f),
            Some(("region".to_string(), "eu-west-1".to_string()))
        );
        assert_eq!(
            region_of_default(&facts(Some("us-east-2"))),
            Some(("region".to_string(), "us-east-2".to_string()))
        );
    }

    #[test]
    fn iam_layout_reads_keys_from_the_files_and_follows_the_mfa_step() {
        use crate::leverage::Generation;
        let aws = crate::ini::aws_files_of(
            "",
            "[bb-security]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n",
        );
        let v3 = LeverageCli::new(Generation::V3);
        let f = facts(None);
        let (plan, notes) = f.iam_layout(&aws, v3, None, &[], false);
        let headers: Vec<_> = plan.upsert.iter().map(|s| s.header.as_str()).collect();
        assert_eq!(headers, ["profile bb-shared-devops"]);
        assert!(
            plan.upsert[0]
                .keys
                .contains(&("region".into(), "us-east-1".into()))
        );
        // No management keys: said, and no `-oaar` profile.
        assert!(notes.iter().any(|n| n.text.contains("[bb-management]")));
        let serial = "arn:aws:iam::444444444444:mfa/j";
        let (plan, _) = facts(Some("eu-west-1")).iam_layout(&aws, v3, Some(serial), &[], false);
        let headers: Vec<_> = plan.upsert.iter().map(|s| s.header.as_str()).collect();
        assert_eq!(headers, ["profile bb-shared-devops-mfa"]);
        assert!(
            plan.upsert[0]
                .keys
                .contains(&("region".into(), "eu-west-1".into()))
        );
        assert!(
            plan.upsert[0]
                .keys
                .contains(&("mfa_serial".into(), serial.into()))
        );
    }
}
