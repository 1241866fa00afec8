//! LD1xx: the profiles the project's files name.

use super::{Context, nearest, obvious_match, rule};
use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::model::aws::AwsFile;
use crate::model::project::{Mode, ProfileRef, RefSite, Resolution};
use crate::source::Span;
use std::collections::{BTreeMap, BTreeSet};

rule!(
    LD101,
    "LD101",
    "profile-unresolved",
    Warning,
    profile_unresolved
);
rule!(LD102, "LD102", "profile-missing", Error, profile_missing);
rule!(
    LD103,
    "LD103",
    "sso-account-profile-missing",
    Error,
    sso_account_profile_missing
);
rule!(
    LD104,
    "LD104",
    "sso-role-suffix-mismatch",
    Error,
    sso_role_suffix_mismatch
);
rule!(
    LD106,
    "LD106",
    "profile-variable-unsupported",
    Error,
    profile_variable_unsupported
);
rule!(
    LD107,
    "LD107",
    "profile-not-refreshed",
    Error,
    profile_not_refreshed
);
rule!(
    LD108,
    "LD108",
    "provider-without-profile",
    Error,
    provider_without_profile
);
rule!(
    LD105,
    "LD105",
    "sso-base-profile-invalid",
    Error,
    sso_base_profile_invalid
);

fn profile_unresolved(cx: &Context, out: &mut Vec<Diagnostic>) {
    // Profiles known only when Terraform runs: one note per layer, not one per reference.
    let mut skipped: BTreeMap<&str, Vec<&ProfileRef>> = BTreeMap::new();
    for r in &cx.refs {
        if let Resolution::Skipped(_) = r.resolution {
            skipped.entry(&*r.owner).or_default().push(r);
        }
    }
    for refs in skipped.values() {
        let first = refs[0];
        let why = match &first.resolution {
            Resolution::Skipped(why) => why.clone(),
            _ => String::new(),
        };
        let message = match refs.len() {
            1 => format!(
                "profile `{}` is not checked: it is only known when Terraform runs",
                first.expr
            ),
            n => format!(
                "{n} profiles of this layer are not checked (`{}`, …): they are only known when Terraform runs",
                first.expr
            ),
        };
        let mut d = LD101
            .diag(message)
            .severity(Severity::Info)
            .at(first.span.clone(), "skipped")
            .help(why);
        for r in refs.iter().skip(1).take(4) {
            d = d.related(r.span.clone(), "also skipped");
        }
        out.push(d);
    }
    for r in &cx.refs {
        match &r.resolution {
            Resolution::Resolved(_) | Resolution::Skipped(_) | Resolution::Iterated(_) => {}
            // key_finder tests `"lookup" in value` on every profile it meets: on null it
            // raises (TypeError), in SSO and MFA runs alike, before Terraform starts.
            Resolution::Unresolved(_)
                if r.expr == "null"
                    && cx.cli_reads(r)
                    && matches!(cx.mode, Mode::Sso | Mode::IamMfa)
                    && cx.cli.crashes_without_account_files(cx.mode == Mode::Sso) =>
            {
                out.push(
                    LD101
                        .diag("`profile = null`: the Leverage CLI's profile search crashes on it")
                        .severity(Severity::Error)
                        .at(r.span.clone(), "null")
                        .help(format!(
                            "Leverage CLI {} looks for `lookup` inside every `profile` value of the files it scans and fails (TypeError) on null before Terraform starts; Terraform alone would take the default chain",
                            cx.cli.generation.label()
                        ))
                        .fix("delete the line (the provider then takes the default chain), or name a profile: profile = var.profile"),
                )
            }
            Resolution::Unresolved(why) => out.push(
                LD101
                    .diag(format!("cannot resolve profile `{}`: {why}", r.expr))
                    .at(r.span.clone(), "unresolved")
                    .help("Terraform takes `var.x` from the tfvars files the run passes (config/*.tfvars, <account>/config/*.tfvars) and from variable defaults; one that none of them sets has no value here")
                    .fix("use a literal, `var.profile`, or \"${var.project}-<account>-<role>\""),
            ),
        }
    }
}

fn profile_missing(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    if matches!(aws.config, AwsFile::Unreadable { .. }) {
        return; // LD201 says why the file cannot be read; what it holds is unknown.
    }
    // A missing config holds no profile: each one the layers name and the credentials file
    // lacks is missing too (LD201 says how to create the file).
    let names = aws.profile_names();
    for (name, refs) in &cx.used {
        if aws.has_profile(name) || cx.is_sso_derived(name) || cx.is_mfa_derived(name) {
            continue;
        }
        let mut d = LD102
            .diag(format!(
                "profile `{name}` is not defined in {}",
                aws.dir_display
            ))
            .profile(name.clone())
            .at(refs[0].span.clone(), "used here");
        for r in refs.iter().skip(1) {
            d = d.related(r.span.clone(), "also used here");
        }
        if let Some(near) = nearest(name, names.iter().copied()) {
            d = d.help(format!(
                "did you mean `{near}`? it is defined in {}",
                aws.dir_display
            ));
            if let Some(section) = aws.profile_anchor(near) {
                d = d.related(section.header.clone(), format!("`{near}` is defined here"));
            }
            // The reference is what is misspelt: name the profile that exists.
            // A `var.profile` takes its value from backend.tfvars: that is the line to change.
            let site = refs
                .iter()
                .find(|r| r.site == RefSite::Backend)
                .unwrap_or(&refs[0]);
            d = d.fix(renamed_reference(cx, site, name, near));
            // One obvious match and a plain string: `check --fix --unsafe-fixes` writes it.
            // Unsafe: which profile the user meant is a guess, however near.
            if obvious_match(name, names.iter().copied()) == Some(near)
                && let Some(literal) = renamed_literal(&site.expr, name, near)
            {
                d = d.edit(site.span.clone(), literal, Applicability::Unsafe);
                // The same name written elsewhere (other layers, other blocks): the same fix.
                let mut seen = vec![site.span.clone()];
                for r in refs.iter() {
                    if seen.contains(&r.span) {
                        continue;
                    }
                    seen.push(r.span.clone());
                    if let Some(literal) = renamed_literal(&r.expr, name, near) {
                        d = d.also_edit(r.span.clone(), literal, Applicability::Unsafe);
                    }
                }
            }
        } else {
            d = d
                .help("Terraform fails with \"failed to get shared config profile\"")
                .fix(missing_profile_fix(cx, name));
        }
        out.push(d);
    }
}

/// The reference rewritten to name `near`, in the form it is written (`${var.project}-…`
/// stays so).
fn renamed_reference(cx: &Context, r: &ProfileRef, name: &str, near: &str) -> String {
    let written = r.expr.trim();
    let quoted = |s: &str| format!("profile = \"{s}\"");
    let value = match near.strip_prefix(&format!("{}-", cx.name)) {
        Some(rest) if written.contains("${var.project}") => {
            quoted(&format!("${{var.project}}-{rest}"))
        }
        _ => quoted(near),
    };
    let was = if written.starts_with('"') || written.contains('.') {
        written.to_string()
    } else {
        format!("\"{name}\"")
    };
    format!(
        "{value}   # instead of {}",
        crate::secrets::escape_controls(&was, false)
    )
}

/// The string literal `written` (which evaluates to `name`) rewritten to evaluate to `near`,
/// in the form it is written: `"bb-x"` → `"bb-y"`, `"${var.project}-x"` →
/// `"${var.project}-y"`. `None` for anything else (a variable, a function, escapes, other
/// interpolations): the fix line then says what to change.
fn renamed_literal(written: &str, name: &str, near: &str) -> Option<String> {
    let inner = written.strip_prefix('"')?.strip_suffix('"')?;
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '@' | ':' | '+')
            })
    };
    if !plain(near) {
        return None;
    }
    if inner == name && plain(inner) {
        return Some(format!("\"{near}\""));
    }
    let tail = inner.strip_prefix("${var.project}")?;
    if !plain(tail) {
        return None;
    }
    // What `${var.project}` stood for, and the same prefix on the match.
    let project = name.strip_suffix(tail)?;
    let new_tail = near.strip_prefix(project)?;
    plain(new_tail).then(|| format!("\"${{var.project}}{new_tail}\""))
}

/// The lines Leverage would have written for a missing IAM role profile.
fn missing_profile_fix(cx: &Context, name: &str) -> String {
    if cx.mode == Mode::Sso {
        return match cx.account_of(name) {
            Some(account) => cx.sso_account_fix(name, account),
            None => cx.regen_fix(),
        };
    }
    let Some(account) = cx.account_of(name) else {
        return format!(
            "add `[{name}]` with its keys to credentials: leverage credentials configure"
        );
    };
    let role_suffix = name.rsplit('-').next().unwrap_or("");
    let (role, source) = match role_suffix {
        "oaar" => (
            "OrganizationAccountAccessRole",
            format!("{}-management", cx.name),
        ),
        _ => ("DevOps", format!("{}-security", cx.name)),
    };
    let id = cx.account_id(account).unwrap_or("<account id>");
    let region = cx
        .project
        .and_then(|p| {
            p.common_str("region_primary")
                .or_else(|| p.common_str("region"))
        })
        .map(|r| r.value)
        .unwrap_or_else(|| "us-east-1".into());
    let mut lines = format!(
        "{}\nadd to {}/config:\n[profile {name}]\noutput = json\nregion = {region}\nrole_arn = arn:aws:iam::{id}:role/{role}\nsource_profile = {source}",
        cx.regen_fix(),
        cx.aws
            .map(|a| a.dir_display.as_str())
            .unwrap_or("~/.aws/<project>")
    );
    if cx.mode == Mode::IamMfa {
        lines.push_str(&format!(
            "\nmfa_serial = arn:aws:iam::{}:mfa/<your MFA device's name>",
            cx.account_id("security").unwrap_or("<security account id>")
        ));
    }
    lines
}

fn sso_account_profile_missing(cx: &Context, out: &mut Vec<Diagnostic>) {
    if cx.mode != Mode::Sso {
        return;
    }
    let Some(aws) = cx.aws else { return };
    if aws.config.parsed().is_none() {
        return;
    }
    let mut seen = std::collections::BTreeSet::new();
    // Only what the CLI reads makes it stop; a profile Terraform alone reads is LD107's.
    for (name, refs) in &cx.cli_used {
        if crate::leverage::is_sso_profile_name(&cx.name, name) {
            continue;
        }
        // The CLI takes the text between the first and the last `-` as the account, whatever
        // the prefix: `bb-bootstrap` → ``, `other-shared-devops` → `shared`.
        let account = crate::leverage::cli_account_of(name);
        let sso_profile = cx.sso_account_profile(account);
        let names = aws.profile_names();
        let found = names
            .iter()
            .any(|n| cx.cli.is_sso_account_section(&cx.name, account, n));
        if found && !seen.insert(sso_profile.clone()) {
            continue;
        }
        if found {
            // The CLI looks the section up by its exact header text; the AWS CLI and the SDKs
            // forgive extra blanks, the Leverage CLI does not.
            let Some(config) = aws.config.parsed() else {
                continue;
            };
            let header = cx.cli.section_header(&sso_profile);
            if !cx.cli.looks_up_sections_exactly()
                || config.sections.iter().any(|s| s.raw == header)
            {
                continue;
            }
            if let Some(near) = config
                .sections
                .iter()
                .find(|s| s.name.profile_name() == Some(sso_profile.as_str()))
            {
                out.push(
                    LD103
                        .diag(format!(
                            "the Leverage CLI looks for `[{header}]` by its exact text and does not find `[{}]`",
                            crate::secrets::escape_controls(&near.raw, false)
                        ))
                        .profile(name.clone())
                        .at(near.header.clone(), "blanks or case differ")
                        .related(refs[0].span.clone(), format!("`{name}` needs it"))
                        .help("its config reader (ConfigUpdater) matches section names exactly, so it stops with exit code 40 (\"Missing … permission\"), although the AWS CLI and Terraform read the section")
                        .fix(format!("[{header}]"))
                        // The AWS CLI and Terraform already read it so: safe.
                        .edit(near.header.clone(), format!("[{header}]"), crate::diagnostic::Applicability::Safe),
                );
            }
            continue;
        }
        if !seen.insert(sso_profile.clone()) {
            continue;
        }
        let (message, help) = if cx.account_of(name).is_some() {
            (
                format!("no `[profile {sso_profile}]` for account `{account}`, which `{name}` needs"),
                "the Leverage CLI stops with exit code 40: it cannot tell which account and role to get credentials for".to_string(),
            )
        } else {
            (
                format!(
                    "the Leverage CLI reads `{name}` as account `{account}` and looks for `[profile {sso_profile}]`, which cannot exist"
                ),
                format!(
                    "in SSO mode the CLI gets credentials for every profile a layer names, taking the text between the first and the last `-` as the account; it stops with exit code 40 (\"Missing {sso_profile} permission\")"
                ),
            )
        };
        let mut d = LD103
            .diag(message)
            .profile(name.clone())
            .at(refs[0].span.clone(), format!("account `{account}` for the CLI"))
            .help(help)
            .fix(if cx.account_of(name).is_some() {
                cx.sso_account_fix(name, account)
            } else {
                format!("name the profile `{}-<account>-<role>` (e.g. \"${{var.project}}-shared-devops\"), or move it into locals.tf, which the CLI skips", cx.name)
            });
        if cx.account_of(name).is_some()
            && let Some((span, text)) = sso_account_section(cx, account, &sso_profile)
        {
            // Unsafe: offline, whether the portal gives you that role in that account is
            // unknown (the live check tells; regen-config --sso asks the portal).
            let fix = format!(
                "{}\nor add to {}/config (check --fix --unsafe-fixes; the role is the one the project names, the portal must give it to you):\n{}",
                cx.sso_account_fix(name, account),
                aws.dir_display,
                text.trim().replace("\r\n", "\n")
            );
            d = d.fix(fix).edit(span, text, Applicability::Unsafe);
        }
        out.push(d);
    }
}

/// The section regen-config --sso (and `leverage aws configure sso`) would add for one account
/// the config lacks, appended at the end of the config file, when every value is known offline
/// and valid: the id from common.tfvars `accounts`, the role from the account's account.tfvars
/// `sso_role` or else the one role every other SSO account section names, the SSO region and
/// start URL from `[profile <p>-sso]` (where the CLI takes them) or else common.tfvars. `None`
/// when any is unknown: the fix stays the command.
fn sso_account_section(cx: &Context, account: &str, sso_profile: &str) -> Option<(Span, String)> {
    let aws = cx.aws?;
    let project = cx.project?;
    let config = aws.config.parsed()?;
    // Only where the section's name is the account's alone (1.6–1.11 add the role to it).
    if !cx
        .cli
        .is_sso_account_section(&cx.name, account, sso_profile)
    {
        return None;
    }
    let id = cx.account_id(account)?;
    crate::values::account_id(id).ok()?;
    let prefix = crate::leverage::sso_account_prefix(&cx.name);
    let role = match project
        .account_dir(account)
        .and_then(|a| a.account_tfvars.as_ref()?.get_str("sso_role"))
    {
        Some(role) => role.value,
        None => {
            let roles: BTreeSet<&str> = config
                .sections
                .iter()
                .filter(|s| {
                    s.name
                        .profile_name()
                        .is_some_and(|n| n.starts_with(&prefix))
                })
                .filter_map(|s| s.get("role_name"))
                .map(|e| e.value.as_str())
                .collect();
            let mut roles = roles.into_iter();
            match (roles.next(), roles.next()) {
                (Some(only), None) => only.to_string(),
                _ => return None,
            }
        }
    };
    crate::values::role_name(&role).ok()?;
    let base = crate::leverage::sso_base_profile(&cx.name);
    let from = |key: &str, common: &str| {
        aws.profile_value(&base, key)
            .map(|e| e.value.clone())
            .or_else(|| project.common_str(common).map(|l| l.value))
    };
    let sso_region = from("sso_region", "sso_region")?;
    crate::values::region(&sso_region).ok()?;
    let start_url = from("sso_start_url", "sso_start_url")?;
    crate::values::start_url(&start_url).ok()?;
    let text = &cx.model.sources.get(config.file).text;
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut section = String::new();
    if !text.is_empty() {
        if !text.ends_with('\n') {
            section.push_str(eol);
        }
        section.push_str(eol);
    }
    section.push_str(&format!("[{}]{eol}", cx.cli.section_header(sso_profile)));
    for (key, value) in
        crate::leverage::sso_account_section_keys(&role, id, &sso_region, &start_url)
    {
        section.push_str(&format!("{key} = {value}{eol}"));
    }
    Some((Span::new(config.file, text.len()..text.len()), section))
}

/// How a reference names its profile, as the CLI tells them apart.
fn ref_kind(r: &crate::model::project::ProfileRef) -> crate::leverage::RefKind {
    if r.site == RefSite::Backend || r.expr == "var.profile" || r.expr == "each.value.profile" {
        crate::leverage::RefKind::VarProfile
    } else {
        crate::leverage::RefKind::Named
    }
}

fn sso_role_suffix_mismatch(cx: &Context, out: &mut Vec<Diagnostic>) {
    if cx.mode != Mode::Sso {
        return;
    }
    let Some(aws) = cx.aws else { return };
    for (name, refs) in &cx.cli_used {
        if !cx.is_sso_derived(name) {
            continue;
        }
        let Some(account) = cx.account_of(name) else {
            continue;
        };
        let sso_profile = cx.sso_account_profile(account);
        let Some(role) = aws.profile_value(&sso_profile, "role_name") else {
            continue;
        };
        // Where the name the CLI writes differs from the name Terraform reads: 2.x keeps the
        // backend's name for `var.profile`, 3.x derives every name from the role.
        let wrong: Vec<_> = refs
            .iter()
            .filter_map(|r| {
                let written =
                    cx.cli
                        .sso_credentials_name(ref_kind(r), name, &cx.name, account, &role.value);
                (written != *name).then_some((r, written))
            })
            .collect();
        let Some((first, expected)) = wrong.first() else {
            continue;
        };
        let via_backend = ref_kind(first) == crate::leverage::RefKind::VarProfile;
        let mut d = LD104
            .diag(format!(
                "`{name}` will never get credentials: Leverage writes them as `{expected}` (role `{}` of `{sso_profile}`)",
                role.value
            ))
            .profile(name.clone())
            .at(first.span.clone(), "Terraform reads this profile")
            .related(role.value_span.clone(), "the role Leverage derives the name from");
        for (r, _) in wrong.iter().skip(1) {
            d = d.related(r.span.clone(), "also read here");
        }
        d = if via_backend {
            d.help(format!(
                "Leverage CLI {} writes credentials for every reference, `var.profile` and the backend included, under `<project>-<account>-<role lower-cased>` (leverage#326); Terraform fails with \"failed to get shared config profile\"",
                cx.cli.generation.label()
            ))
            .fix(format!(
                "profile = \"{expected}\"   (in {account}/config/backend.tfvars, and the same name wherever it is used), or a permission set named like the suffix (`{}`)",
                name.rsplit('-').next().unwrap_or("")
            ))
        } else {
            d.help("Terraform then fails with \"failed to get shared config profile\" although `leverage aws sso login` worked")
                .fix(format!("profile = \"${{var.project}}-{account}-{}\"", role.value.to_lowercase()))
        };
        out.push(d);
    }
}

/// Terraform reads every `*.tf` of a layer; the Leverage CLI refreshes credentials only for the
/// profiles of the files its generation scans (and the backend). A profile Terraform reads
/// whose credentials only a Leverage step writes, which no step of this run writes, works only
/// while what an earlier run left is fresh.
fn profile_not_refreshed(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    for run in &cx.analysis.runs {
        let mut terraform: BTreeMap<&str, Vec<&ProfileRef>> = BTreeMap::new();
        for (name, r) in &run.terraform {
            terraform.entry(name).or_default().push(r);
        }
        let written = refreshed_names(cx, run.refreshed.iter().map(|(n, r)| (n.as_str(), &**r)));
        for (name, refs) in &terraform {
            if written.contains(*name) {
                continue;
            }
            let step = if cx.is_sso_derived(name) {
                "SSO"
            } else if cx.is_mfa_derived(name) {
                "MFA"
            } else {
                continue;
            };
            out.push(not_refreshed(cx, aws, name, refs, step));
        }
    }
}

fn not_refreshed(
    cx: &Context,
    aws: &crate::model::aws::AwsFiles,
    name: &str,
    refs: &[&ProfileRef],
    step: &str,
) -> Diagnostic {
    let files: Vec<String> = refs
        .iter()
        .map(|r| cx.model.sources.get(r.span.file).display.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let scanned = cx.cli.layer_files().join(", ");
    let cached = cached_until(cx, aws, name, step);
    let backend_only = refs.iter().all(|r| r.site == RefSite::Backend);
    let exec_only = refs.iter().all(|r| r.site == RefSite::Exec);
    let sops_only = refs.iter().all(|r| r.site == RefSite::Sops);
    let hidden = refs.iter().all(|r| r.hidden_from_cli);
    let message = if hidden {
        format!(
            "no step of `leverage tf` refreshes `{name}`: the block around it in {} has its own `profile`, and the Leverage CLI's search returns that one alone",
            files.join(", ")
        )
    } else if exec_only {
        format!(
            "no step of `leverage tf` refreshes `{name}`: Terraform passes it to a command (`--profile` of an `exec` block in {}), which the Leverage CLI does not read",
            files.join(", ")
        )
    } else if sops_only {
        format!(
            "no step of `leverage tf` refreshes `{name}`: the sops provider decrypts {} with it (`aws_profile` of its KMS key), and the Leverage CLI does not read that file",
            files.join(", ")
        )
    } else if backend_only {
        format!(
            "no step of `leverage tf` refreshes `{name}`, the state backend's profile: no file of the layer names it (the CLI reads backend.tfvars only to fill in `var.profile`)"
        )
    } else {
        format!(
            "no step of `leverage tf` refreshes `{name}`: Terraform reads it from {}, which the Leverage CLI does not scan",
            files.join(", ")
        )
    };
    let mut d = LD107.diag(message).profile(name.to_string()).at(
        refs[0].span.clone(),
        "Terraform reads this; the CLI does not",
    );
    for r in refs.iter().skip(1) {
        d = d.related(r.span.clone(), "also read here");
    }
    d = d
        .help(format!(
            "Leverage CLI {} writes {step} credentials only for the profiles of {scanned} and the backend; {}",
            cx.cli.generation.label(),
            match cached {
                Some(until) => format!(
                    "the credentials an earlier run left work until {} (UTC), then Terraform fails",
                    until.format("%Y-%m-%d %H:%M")
                ),
                None => "none are cached, so Terraform fails with \"failed to get shared config profile\" or expired credentials".to_string(),
            }
        ))
        .fix(if backend_only {
            "add the layer's default provider to config.tf: provider \"aws\" { region = var.region  profile = var.profile }"
        } else {
            "name the profile in config.tf too (for example, move this provider block there), so the CLI refreshes it before Terraform runs"
        });
    if cached.is_some() {
        d = d.severity(Severity::Warning);
    }
    d
}

/// The credentials names the CLI's steps write for these references (the ones it reads): each
/// profile itself, and in SSO mode the name it derives (`<p>-<account>-<role>`).
fn refreshed_names<'r>(
    cx: &Context,
    refs: impl Iterator<Item = (&'r str, &'r ProfileRef)>,
) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for (name, r) in refs {
        out.insert(name.to_string());
        if cx.mode != Mode::Sso {
            continue;
        }
        let (Some(aws), Some(account)) = (cx.aws, cx.account_of(name)) else {
            continue;
        };
        if let Some(role) = aws.profile_value(&cx.sso_account_profile(account), "role_name") {
            out.insert(cx.cli.sso_credentials_name(
                ref_kind(r),
                name,
                &cx.name,
                account,
                &role.value,
            ));
        }
    }
    out
}

/// Until when credentials an earlier run left for `name` stay usable, if they do now: keys in
/// credentials, and (SSO) `expiration` in config or (MFA) the cached session, more than the
/// CLI's 30-minute margin away.
pub(super) fn cached_until(
    cx: &Context,
    aws: &crate::model::aws::AwsFiles,
    name: &str,
    step: &str,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let has_keys = aws.credentials.parsed().is_some_and(|c| {
        c.profile_sections(name)
            .any(|s| s.get("aws_access_key_id").is_some())
    });
    if !has_keys {
        return None;
    }
    let until = if step == "SSO" {
        aws.profile_value(name, "expiration")
            .and_then(|e| e.value.parse::<i64>().ok())
            .and_then(chrono::DateTime::<chrono::Utc>::from_timestamp_millis)?
    } else {
        aws.mfa_cache
            .iter()
            .find(|c| c.profile == name)
            .and_then(|c| c.expiration.as_ref().ok().copied())?
    };
    (until > cx.model.now).then_some(until)
}

/// A `provider "aws"` without `profile` takes the default chain: with Leverage's files that is
/// `[default]`, which Leverage writes with a region and an output format only.
fn provider_without_profile(cx: &Context, out: &mut Vec<Diagnostic>) {
    let (Some(aws), Some(project)) = (cx.aws, cx.project) else {
        return;
    };
    // Credentials from the environment reach Terraform this way; nothing to say then.
    if ["AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"]
        .iter()
        .any(|v| cx.model.env(v).is_some())
    {
        return;
    }
    let usable = [
        "role_arn",
        "sso_session",
        "sso_start_url",
        "credential_process",
        "aws_access_key_id",
    ]
    .iter()
    .any(|k| aws.profile_value("default", k).is_some());
    if usable {
        return;
    }
    for layer in project.layers_in_scope() {
        for span in &layer.providers_without_profile {
            out.push(
                LD108
                    .diag("`provider \"aws\"` has no `profile`: Terraform takes `[default]`, which has no credentials")
                    .at(span.clone(), "no profile")
                    .help(format!(
                        "the Leverage CLI points Terraform at {dir}/config and {dir}/credentials, where `[default]` holds only a region and an output format; the provider finds no credentials and the plan fails",
                        dir = aws.dir_display
                    ))
                    .fix("profile = var.profile   (inside this provider block)"),
            );
        }
    }
}

/// Variables the CLI does not substitute (1.12 →): only `${var.profile}` and `${var.project}`.
fn profile_variable_unsupported(cx: &Context, out: &mut Vec<Diagnostic>) {
    if !cx.cli.substitutes_only_profile_and_project() || cx.mode == Mode::Iam {
        return;
    }
    for r in &cx.refs {
        if r.site == RefSite::Backend
            || matches!(
                r.resolution,
                Resolution::Skipped(_) | Resolution::Iterated(_)
            )
            || !cx.cli_reads(r)
        {
            continue;
        }
        let others: Vec<&str> = var_names(&r.expr)
            .into_iter()
            .filter(|v| *v != "profile" && *v != "project")
            .collect();
        let Some(first) = others.first() else {
            continue;
        };
        let step = if cx.mode == Mode::Sso { "SSO" } else { "MFA" };
        // What Terraform resolves it to, written so the CLI reads the same name.
        let fix = match r.resolved() {
            Some(name) => {
                let literal = match name.strip_prefix(&format!("{}-", cx.name)) {
                    Some(rest) => format!("${{var.project}}-{rest}"),
                    None => name.to_string(),
                };
                format!(
                    "profile = \"{}\"   # what Terraform resolves it to here, written so the CLI reads it too",
                    crate::secrets::escape_controls(&literal, false)
                )
            }
            None => "write the account literally: profile = \"${var.project}-<account>-<role>\" (or use var.profile)".to_string(),
        };
        out.push(
            LD106
                .diag(format!(
                    "the Leverage CLI does not substitute `var.{first}` in profile `{}`",
                    crate::secrets::escape_controls(&r.expr, false)
                ))
                .at(r.span.clone(), format!("`var.{first}` stays as written for the CLI"))
                .help(format!(
                    "its {step} step substitutes only `${{var.profile}}` and `${{var.project}}`, looks for a profile with `${{var.{first}}}` in its name and stops with exit code 40, although Terraform alone would resolve it"
                ))
                .fix(fix),
        );
    }
}

/// `var.x` names in an expression (`"${var.project}-${var.environment}-devops"` → project, environment).
fn var_names(expr: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("var.") {
        let before_ok = at == 0
            || !rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        let after = &rest[at + 4..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(after.len());
        if before_ok && len > 0 {
            out.push(&after[..len]);
        }
        rest = &after[len..];
    }
    out
}

fn sso_base_profile_invalid(cx: &Context, out: &mut Vec<Diagnostic>) {
    if cx.mode != Mode::Sso {
        return;
    }
    let (Some(aws), Some(project)) = (cx.aws, cx.project) else {
        return;
    };
    let Some(config) = aws.config.parsed() else {
        return;
    };
    let base = crate::leverage::sso_base_profile(&cx.name);
    let Some(section) = config.profile_sections(&base).last() else {
        out.push(
            LD105
                .diag(format!(
                    "no `[profile {base}]` in the config: SSO login has nothing to start from"
                ))
                .at(Span::whole(config.file), format!("add `[profile {base}]`"))
                .help("`leverage aws sso login` reads the start URL and region from it")
                .fix(cx.regen_fix()),
        );
        return;
    };
    let missing: Vec<&str> = cx
        .cli
        .sso_base_keys()
        .iter()
        .copied()
        .filter(|k| section.get(k).is_none())
        .collect();
    if !missing.is_empty() {
        out.push(
            LD105
                .diag(format!(
                    "`[profile {base}]` lacks {}",
                    super::project::list(&missing)
                ))
                .at(section.header.clone(), "incomplete")
                .fix(cx.regen_fix()),
        );
    }
    for key in ["sso_start_url", "sso_region"] {
        let (Some(have), Some(want)) = (section.get(key), project.common_str(key)) else {
            continue;
        };
        if have.value.trim_end_matches('/') != want.value.trim_end_matches('/') {
            out.push(
                LD105
                    .diag(format!("`{key}` of `{base}` is `{}` but common.tfvars says `{}`", have.value, want.value))
                    .at(have.value_span.clone(), "differs from common.tfvars")
                    .related(want.span.clone(), "the project's value")
                    .help("login goes to another SSO instance than the one the project's accounts live in")
                    .fix(format!("{key} = {}", want.value)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn variable_names() {
        assert_eq!(
            super::var_names("\"${var.project}-${var.environment}-devops\""),
            ["project", "environment"]
        );
        assert_eq!(super::var_names("var.profile"), ["profile"]);
        assert!(super::var_names("local.x").is_empty());
    }
}
