//! LD3xx: each profile the scope uses, and every profile its chain reaches.

use super::{Context, nearest, obvious_match, rule};
use crate::diagnostic::Diagnostic;
use crate::model::aws::AwsFiles;
use crate::model::project::Mode;
use crate::source::Span;

rule!(LD301, "LD301", "region-missing", Error, region_missing);
rule!(
    LD302,
    "LD302",
    "role-profile-invalid",
    Error,
    role_profile_invalid
);
rule!(
    LD303,
    "LD303",
    "mfa-serial-missing",
    Error,
    mfa_serial_missing
);
rule!(
    LD310,
    "LD310",
    "mfa-profile-missing",
    Error,
    mfa_profile_missing
);
rule!(
    LD311,
    "LD311",
    "credentials-unsupported-by-terraform",
    Error,
    credentials_unsupported
);
rule!(
    LD312,
    "LD312",
    "profile-too-new-for-terraform",
    Error,
    profile_too_new_for_terraform
);
rule!(
    LD304,
    "LD304",
    "source-profile-missing",
    Error,
    source_profile_missing
);
rule!(
    LD305,
    "LD305",
    "source-profile-cycle",
    Error,
    source_profile_cycle
);
rule!(
    LD306,
    "LD306",
    "source-credentials-missing",
    Error,
    source_credentials_missing
);
rule!(
    LD307,
    "LD307",
    "sso-profile-incomplete",
    Error,
    sso_profile_incomplete
);
rule!(
    LD308,
    "LD308",
    "account-id-mismatch",
    Error,
    account_id_mismatch
);
rule!(
    LD309,
    "LD309",
    "mixed-credential-sources",
    Warning,
    mixed_credential_sources
);

const CREDENTIAL_SOURCES: &[&str] = &["Environment", "Ec2InstanceMetadata", "EcsContainer"];

fn anchor(aws: &AwsFiles, name: &str) -> Option<Span> {
    aws.profile_anchor(name).map(|s| s.header.clone())
}

fn region_missing(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    let default_region = aws.profile_value("default", "region").is_some();
    for (name, refs) in &cx.used {
        if !aws.has_profile(name) || default_region || aws.profile_value(name, "region").is_some() {
            continue;
        }
        // Terraform passes the region of the block that names the profile (3.x's MFA step
        // writes keys without one on purpose): only a place without its own region needs it.
        if refs.iter().all(|r| r.region_given) {
            continue;
        }
        let Some(at) = anchor(aws, name) else {
            continue;
        };
        // The region Leverage writes into the profiles it makes (`primary_region`:
        // region_primary, else region, of the project; 3.1.0 credentials.py).
        let known = cx
            .project
            .and_then(|p| {
                p.common_str("region_primary")
                    .or_else(|| p.common_str("region"))
            })
            .map(|r| r.value)
            .filter(|r| {
                !r.is_empty()
                    && r.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            });
        let mut d = LD301
            .diag(format!("profile `{name}` has no `region`, and there is no `[default]` region"))
            .profile(name.clone())
            .at(at, "no region")
            // The place that needs it: a reference whose block gives no region of its own.
            .related(
                refs.iter()
                    .find(|r| !r.region_given)
                    .unwrap_or(&refs[0])
                    .span
                    .clone(),
                "used here, with no region of its own",
            )
            .help("AWS calls through it fail with a missing signing region (`aws sts get-caller-identity` too)");
        d = match &known {
            Some(region) => match region_insertion(cx, aws, name, region) {
                Some((span, text, fix)) => d
                    .fix(fix)
                    .edit(span, text, crate::diagnostic::Applicability::Safe),
                None => d.fix(format!("region = {region}   # the project's primary region (common.tfvars)")),
            },
            None => d.fix("region = <the region of the account's resources>   # config/common.tfvars has no region_primary or region to take it from"),
        };
        out.push(d);
    }
}

/// Where `region = <region>` goes for profile `name`: under its last config section, or in a
/// new `[profile name]` section at the end of the config when only the credentials file has it.
/// (span, text to insert, the fix line.)
fn region_insertion(
    cx: &Context,
    aws: &AwsFiles,
    name: &str,
    region: &str,
) -> Option<(Span, String, String)> {
    let config = aws.config.parsed()?;
    let text = &cx.model.sources.get(config.file).text;
    let line = format!("region = {region}");
    if let Some(section) = config.profile_sections(name).last() {
        let header = section.header.range.clone()?;
        let whole = cx.whole_line(&section.header).range?;
        let (at, insert) = if whole.end > header.end {
            let eol = if text.get(header.end..whole.end) == Some("\r\n") {
                "\r\n"
            } else {
                "\n"
            };
            (whole.end, format!("{line}{eol}"))
        } else {
            (header.end, format!("\n{line}\n"))
        };
        return Some((
            Span::new(config.file, at..at),
            insert,
            format!(
                "{line}   # under [{}] in {}: the project's primary region (common.tfvars)",
                section.raw,
                cx.model.sources.get(config.file).display
            ),
        ));
    }
    let header = if name == "default" {
        "[default]".to_string()
    } else {
        format!("[profile {name}]")
    };
    let lead = match text.as_str() {
        "" => "",
        t if t.ends_with("\n\n") => "",
        t if t.ends_with('\n') => "\n",
        _ => "\n\n",
    };
    let end = text.len();
    Some((
        Span::new(config.file, end..end),
        format!("{lead}{header}\n{line}\n"),
        format!(
            "add to {}:\n{header}\n{line}   # the project's primary region (common.tfvars)",
            cx.model.sources.get(config.file).display
        ),
    ))
}

fn role_profile_invalid(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    for name in cx.chain_profiles() {
        let Some(role) = aws.profile_value(&name, "role_arn") else {
            // The Go SDKs (Terraform, its S3 backend) refuse a credential source without a
            // role to assume; the AWS CLI ignores it. (aws-sdk-go-v2 `config/shared_config.go`
            // `validateCredentialsRequireARN`.)
            let source = ["source_profile", "credential_source"]
                .into_iter()
                .find_map(|k| aws.profile_value(&name, k).map(|e| (k, e)));
            if let Some((key, entry)) = source {
                let own_keys = aws.profile_value(&name, "aws_access_key_id").is_some();
                out.push(
                    LD302
                        .diag(format!("`{name}` has `{key}` but no `role_arn`"))
                        .profile(name.clone())
                        .at(entry.line_span.clone(), "a source with no role to assume")
                        .help(format!(
                            "Terraform's AWS SDK refuses the profile (\"credential type {key} requires role_arn, profile {name}\"); the AWS CLI ignores the line, so `aws sts get-caller-identity --profile {name}` may still work"
                        ))
                        .fix(if own_keys {
                            format!("delete the `{key}` line (the profile's own keys are used)")
                        } else {
                            role_arn_fix(cx, aws, &name)
                        }),
                );
            }
            continue;
        };
        let source = aws.profile_value(&name, "source_profile");
        let cred_source = aws.profile_value(&name, "credential_source");
        let base = LD302.diag("").profile(name.clone());
        match (source, cred_source) {
            (None, None) => out.push(Diagnostic {
                message: format!("`{name}` has `role_arn` but neither `source_profile` nor `credential_source`"),
                ..base.clone()
            }
            .at(role.line_span.clone(), "nothing to assume the role with")
            .help("the AWS CLI and Terraform's SDK have no credentials to call AssumeRole with: the profile gives none")
            .fix(source_profile_fix(cx, aws, &name))),
            (Some(s), Some(c)) => out.push(Diagnostic {
                message: format!("`{name}` has both `source_profile` and `credential_source`"),
                ..base.clone()
            }
            .at(c.line_span.clone(), "credential_source")
            .related(s.line_span.clone(), "source_profile")
            .help("the SDKs reject a profile with both")
            .fix("delete one of the two lines")),
            (None, Some(c)) if !CREDENTIAL_SOURCES.contains(&c.value.as_str()) => out.push(Diagnostic {
                message: format!("`credential_source = {}` is not one of Environment, Ec2InstanceMetadata, EcsContainer", c.value),
                ..base.clone()
            }
            .at(c.value_span.clone(), "unknown credential source")
            .fix("credential_source = Environment")),
            _ => {}
        }
        if crate::values::arn_account(&role.value, "iam", "role").is_none() {
            out.push(
                Diagnostic {
                    message: format!("`role_arn` of `{name}` is not a role ARN: `{}`", role.value),
                    ..base
                }
                .at(
                    role.value_span.clone(),
                    "expected arn:aws:iam::<12-digit account>:role/<name>",
                )
                .fix("role_arn = arn:aws:iam::<account id>:role/DevOps"),
            );
        }
    }
}

/// The MFA device ARN to write: the security account's id when common.tfvars declares it; the
/// device's name is the user's to look up (IAM → Security credentials), it need not be the
/// user's name. regen writes it into every profile at once.
/// `source_profile = …` for a role profile without one: the profile the project's other role
/// profiles take their keys from when they agree on one, else Leverage's own (`<p>-management`
/// for `-oaar`, `<p>-security` otherwise) when it is defined; else what to find out.
fn source_profile_fix(cx: &Context, aws: &AwsFiles, name: &str) -> String {
    let mut used: Vec<&str> = aws
        .files()
        .flat_map(|f| f.sections.iter())
        .filter(|s| s.name.profile_name() != Some(name))
        .filter_map(|s| s.get("source_profile"))
        .map(|e| e.value.as_str())
        .filter(|p| aws.has_profile(p))
        .collect();
    used.sort_unstable();
    used.dedup();
    if let [source] = used.as_slice() {
        return format!(
            "source_profile = {source}   # the profile the project's other role profiles take their keys from"
        );
    }
    let leverage = if name.ends_with("-oaar") {
        format!("{}-management", cx.name)
    } else {
        format!("{}-security", cx.name)
    };
    if aws.has_profile(&leverage) {
        format!(
            "source_profile = {leverage}   # the profile with your IAM user's keys, as Leverage writes it"
        )
    } else {
        "source_profile = <the profile with your IAM user's keys>   # none of the usual names is defined: see `leverage credentials configure`".to_string()
    }
}

/// `role_arn = …` for a profile with a source and no role: the account from the profile's name
/// (common.tfvars), the role as the project's other role profiles spell it for the same
/// `-<role>` suffix; a placeholder for what is not known.
fn role_arn_fix(cx: &Context, aws: &AwsFiles, name: &str) -> String {
    let id = cx.account_of(name).and_then(|a| cx.account_id(a));
    let suffix = name.rsplit('-').next().unwrap_or("");
    let mut roles: Vec<&str> = aws
        .files()
        .flat_map(|f| f.sections.iter())
        .filter_map(|s| s.get("role_arn"))
        .filter_map(|e| e.value.rsplit_once(":role/").map(|(_, r)| r))
        .filter(|r| !suffix.is_empty() && r.eq_ignore_ascii_case(suffix))
        .filter(|r| {
            r.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@-_".contains(&b))
        })
        .collect();
    roles.sort_unstable();
    roles.dedup();
    let role = match roles.as_slice() {
        [role] => *role,
        _ => "<role>",
    };
    format!(
        "role_arn = arn:aws:iam::{}:role/{role}   # the role to assume with the source's credentials{}",
        id.unwrap_or("<account id>"),
        match (id, role) {
            (Some(_), "<role>") => " (the account is the one the profile's name designates)",
            (Some(_), _) => " (account and role as the profile's name designates them)",
            (None, _) => "",
        }
    )
}

fn mfa_serial_fix(cx: &Context) -> String {
    // The one device the project's other profiles already name is the one to use.
    let mut known: Vec<&str> = cx
        .aws
        .into_iter()
        .flat_map(|a| a.files())
        .flat_map(|f| f.sections.iter())
        .filter_map(|s| s.get("mfa_serial"))
        .map(|e| e.value.as_str())
        .filter(|v| crate::values::arn_account(v, "iam", "mfa").is_some())
        .collect();
    known.sort_unstable();
    known.dedup();
    if let [arn] = known.as_slice() {
        let arn = crate::secrets::escape_controls(arn, false);
        return format!(
            "leverage-doctor regen-config --iam --mfa-serial {arn}   (the device the project's other role profiles name)\nor by hand: mfa_serial = {arn}"
        );
    }
    let id = cx.account_id("security").unwrap_or("<security account id>");
    let arn = format!("arn:aws:iam::{id}:mfa/<your MFA device's name>");
    format!(
        "leverage-doctor regen-config --iam --mfa-serial {arn}   (the device's name is in IAM → your user → Security credentials; often, not always, your user name)\nor by hand: mfa_serial = {arn}"
    )
}

fn mfa_serial_missing(cx: &Context, out: &mut Vec<Diagnostic>) {
    if cx.mode != Mode::IamMfa {
        return;
    }
    let Some(aws) = cx.aws else { return };
    for (name, refs) in &cx.cli_used {
        // The section the CLI's MFA step reads (3.x: `[profile X-mfa]`; LD310 covers it).
        if cx.cli.mfa_section(name) != *name {
            continue;
        }
        let Some(role) = aws.profile_value(name, "role_arn") else {
            continue;
        };
        match aws.profile_value(name, "mfa_serial") {
            None => out.push(
                LD303
                    .diag(format!(
                        "MFA is on but role profile `{name}` has no `mfa_serial`"
                    ))
                    .profile(name.clone())
                    .at(role.line_span.clone(), "role profile without mfa_serial")
                    .related(refs[0].span.clone(), "used here")
                    .help("the Leverage CLI stops with exit code 151 before Terraform runs")
                    .fix(mfa_serial_fix(cx)),
            ),
            Some(serial) if crate::values::arn_account(&serial.value, "iam", "mfa").is_none() => {
                out.push(
                    LD303
                        .diag(format!(
                            "`mfa_serial` of `{name}` is not an MFA device ARN: `{}`",
                            serial.value
                        ))
                        .profile(name.clone())
                        .at(
                            serial.value_span.clone(),
                            "expected arn:aws:iam::<account>:mfa/<device>",
                        )
                        .fix(mfa_serial_fix(cx)),
                )
            }
            _ => {}
        }
    }
}

/// 3.x's MFA step reads `[profile X-mfa]` for every profile a layer names, whenever SSO is off;
/// the 1.x toolbox's grep also reads profile lines inside comments.
fn mfa_profile_missing(cx: &Context, out: &mut Vec<Diagnostic>) {
    if cx.mode != Mode::IamMfa {
        return;
    }
    let Some(aws) = cx.aws else { return };
    let Some(config) = aws.config.parsed() else {
        return;
    };
    if cx.cli.mfa_reads_commented_profiles()
        && let Some(project) = cx.project
    {
        for layer in project.layers_in_scope() {
            for commented in &layer.commented_profiles {
                let name = &commented.value;
                let missing: Vec<&str> = ["role_arn", "mfa_serial", "source_profile"]
                    .into_iter()
                    .filter(|k| aws.profile_value(name, k).is_none())
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                out.push(
                    LD310
                        .diag(format!(
                            "the 1.x toolbox's MFA script reads this commented-out profile too, and `{name}` lacks {}",
                            super::project::list(&missing)
                        ))
                        .profile(name.clone())
                        .at(commented.span.clone(), "still read: the script greps for `profile`")
                        .help("Leverage CLI 1.6–1.11 finds a layer's profiles with grep, comments included, and stops (exit 150–152) on one it cannot assume")
                        .fix("delete the commented-out line (or define the profile)"),
                );
            }
        }
    }
    for (name, refs) in &cx.cli_used {
        let section = cx.cli.mfa_section(name);
        if section == *name {
            continue;
        }
        let Some(found) = config.profile_sections(&section).last() else {
            let mut d = LD310
                .diag(format!("no `[profile {section}]` for `{name}`: the Leverage CLI's MFA step stops (exit 40)"))
                .profile(name.clone())
                .at(refs[0].span.clone(), format!("needs `[profile {section}]`"))
                .help(format!(
                    "Leverage CLI {} runs its MFA step whenever SSO is off (MFA_ENABLED=false included) and reads role_arn, mfa_serial and source_profile from `[profile {section}]`; it then writes the temporary keys to credentials `[{name}]`",
                    cx.cli.generation.label()
                ));
            if aws.has_profile(name) {
                d = d.related(
                    aws.profile_anchor(name)
                        .map(|s| s.header.clone())
                        .unwrap_or_else(|| refs[0].span.clone()),
                    "the 2.x layout: 3.x does not read this section for MFA",
                );
            }
            out.push(d.fix(format!(
                "leverage-doctor regen-config --iam   (writes [profile {section}] with role_arn, mfa_serial, source_profile)"
            )));
            continue;
        };
        let missing: Vec<&str> = ["role_arn", "mfa_serial", "source_profile"]
            .into_iter()
            .filter(|k| found.get(k).is_none())
            .collect();
        if !missing.is_empty() {
            out.push(
                LD310
                    .diag(format!(
                        "`[profile {section}]` lacks {}: the Leverage CLI's MFA step crashes",
                        super::project::list(&missing)
                    ))
                    .profile(name.clone())
                    .at(found.header.clone(), "incomplete")
                    .related(refs[0].span.clone(), "used here")
                    .help("3.x reads role_arn, mfa_serial and source_profile without checking them (AttributeError)")
                    .fix(format!(
                        "add to [profile {section}]: {}",
                        missing.iter().map(|k| format!("{k} = …")).collect::<Vec<_>>().join(", ")
                    )),
            );
        }
    }
}

/// Credentials the AWS CLI can use but Terraform and its Go SDK cannot (yet).
fn credentials_unsupported(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    for (name, profile) in &cx.analysis.profiles {
        let crate::analysis::CredentialSource::Unsupported { key } = &profile.source else {
            continue;
        };
        let Some(entry) = aws.profile_value(name, key) else {
            continue;
        };
        let mut d = LD311
            .diag(format!(
                "`{name}` uses `{key}` (written by `aws login`, AWS CLI 2.32 and later): Terraform and its AWS SDK cannot read it"
            ))
            .profile(name.clone())
            .at(entry.line_span.clone(), "only the AWS CLI reads this");
        let used = cx.used.get(name).and_then(|r| r.first());
        if let Some(r) = used {
            d = d.related(r.span.clone(), "used here");
        }
        // The profiles that take their keys from it (`source_profile = name`).
        let mut sourced: Vec<&str> = aws
            .profile_names()
            .into_iter()
            .filter(|p| {
                *p != name.as_str()
                    && aws
                        .profile_value(p, "source_profile")
                        .is_some_and(|s| s.value == *name)
            })
            .collect();
        sourced.dedup();
        let tf = format!("{name}-tf");
        let new_profile = format!(
            "a profile Terraform can read that asks the AWS CLI for the keys:\n[profile {tf}]\ncredential_process = aws configure export-credentials --profile {name} --format process"
        );
        // The new profile helps only where something names it.
        let then = match (used.is_some(), sourced.as_slice()) {
            (_, []) => format!("\nthen name `{tf}` instead of `{name}` where the layer uses it"),
            (false, users) => format!(
                "\nthen take the keys from it: source_profile = {tf}   # in {}",
                users
                    .iter()
                    .map(|u| format!("[profile {u}]"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (true, users) => format!(
                "\nthen name `{tf}` instead of `{name}` where the layer uses it, and take the keys from it: source_profile = {tf}   # in {}",
                users
                    .iter()
                    .map(|u| format!("[profile {u}]"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        out.push(
            d.help("Terraform fails with \"no valid credential sources found\"; the AWS CLI itself works, which makes it confusing")
                .fix(format!("{new_profile}{then}")),
        );
    }
}

/// What the project's Terraform cannot read: the S3 backend before Terraform 1.6 rejects
/// profiles configured through an `sso-session` (OpenTofu has it from its first release).
/// The first member of `name`'s chain that takes its SSO settings from an `sso_session`.
fn sso_session_in_chain<'a>(
    cx: &Context,
    aws: &'a crate::model::aws::AwsFiles,
    name: &str,
) -> Option<(String, &'a crate::model::aws::IniEntry)> {
    let chain = cx
        .analysis
        .profile(name)
        .map(|p| p.chain.clone())
        .unwrap_or_else(|| vec![name.to_string()]);
    chain
        .iter()
        .find_map(|m| aws.profile_value(m, "sso_session").map(|s| (m.clone(), s)))
}

fn profile_too_new_for_terraform(cx: &Context, out: &mut Vec<Diagnostic>) {
    let (Some(aws), Some(project)) = (cx.aws, cx.project) else {
        return;
    };
    // The AWS provider plugin a layer runs reads profiles for every `provider "aws"`.
    let first = crate::model::project::AWS_PROVIDER_READS_SSO_SESSION;
    for layer in project.layers_in_scope() {
        let Some(pin) = layer
            .aws_provider
            .as_ref()
            .filter(|p| p.only_older_than(first))
        else {
            continue;
        };
        for r in &layer.refs {
            if !matches!(r.site, crate::model::project::RefSite::Provider { .. }) {
                continue;
            }
            let Some(name) = r.resolved() else { continue };
            let Some((member, session)) = sso_session_in_chain(cx, aws, name) else {
                continue;
            };
            let (major, minor, patch) = first;
            out.push(
                LD312
                    .diag(format!(
                        "`{name}` uses `sso_session`, which the AWS provider this layer is held to ({}) cannot read (it needs {major}.{minor}.{patch} or later)",
                        pin.written.value
                    ))
                    .profile(name.to_string())
                    .at(r.span.clone(), "the AWS provider reads this profile")
                    .related(pin.written.span.clone(), if pin.locked { "the provider version `init` installs" } else { "the provider versions allowed" })
                    .related(session.line_span.clone(), format!("`{member}` gets its SSO settings from an sso-session"))
                    .help("the plan stops with \"profile … is configured to use SSO but is missing required configuration: sso_region, sso_start_url\"")
                    .fix(format!(
                        "allow a newer provider (`version = \">= {major}.{minor}.{patch}\"` in required_providers) and run `leverage tf init -upgrade`, or put the SSO settings in the profile itself (sso_start_url, sso_region, sso_account_id, sso_role_name)"
                    )),
            );
        }
    }
    let Some(tf) = &project.terraform else { return };
    if tf.opentofu || tf.version >= (1, 6, 0) {
        return;
    }
    for r in project.refs_in_scope() {
        if r.site != crate::model::project::RefSite::Backend {
            continue;
        }
        let Some(name) = r.resolved() else { continue };
        let Some((member, session)) = sso_session_in_chain(cx, aws, name) else {
            continue;
        };
        out.push(
            LD312
                .diag(format!(
                    "the backend's profile `{name}` uses `sso_session`, which the S3 backend of {} cannot read (it needs Terraform 1.6 or later)",
                    tf.shown()
                ))
                .profile(name.to_string())
                .at(r.span.clone(), "the S3 backend reads this profile")
                .related(session.line_span.clone(), format!("`{member}` gets its SSO settings from an sso-session"))
                .help(format!("`terraform init` fails to configure the backend; the version comes from {}", tf.source))
                .fix("put the SSO settings in the profile itself (sso_start_url, sso_region, sso_account_id, sso_role_name), or use Terraform 1.6 or later"),
        );
    }
}

fn source_profile_missing(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    let names = aws.profile_names();
    for name in cx.chain_profiles() {
        let Some(source) = aws.profile_value(&name, "source_profile") else {
            continue;
        };
        // A source Leverage writes at run time (its SSO credentials) is valid when it is.
        if aws.has_profile(&source.value) || cx.analysis.written_by_leverage(&source.value) {
            continue;
        }
        let mut d = LD304
            .diag(format!("`source_profile = {}` of `{name}` names a profile that does not exist", source.value))
            .profile(name.clone())
            .at(source.value_span.clone(), "no such profile")
            .help("the Leverage CLI stops with exit code 152; the AWS CLI says \"The source profile … could not be found\"");
        d = match nearest(&source.value, names.iter().copied()) {
            // One obvious match: `--fix --unsafe-fixes` writes it (which was meant is a guess).
            Some(near) if obvious_match(&source.value, names.iter().copied()) == Some(near) => d
                .fix(format!("source_profile = {near}"))
                .edit(
                    source.value_span.clone(),
                    near,
                    crate::diagnostic::Applicability::Unsafe,
                ),
            Some(near) => d.fix(format!("source_profile = {near}")),
            None => d.fix(format!(
                "add `[{}]` with aws_access_key_id and aws_secret_access_key to credentials (leverage credentials configure)",
                source.value
            )),
        };
        out.push(d);
    }
}

fn source_profile_cycle(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    let mut reported = std::collections::BTreeSet::new();
    for start in cx.used.keys() {
        let Some(cycle) = cx.analysis.profile(start).and_then(|p| p.cycle.as_ref()) else {
            continue;
        };
        let mut key = cycle.clone();
        key.sort();
        if !reported.insert(key) {
            continue;
        }
        let shown = cycle
            .iter()
            .chain(std::iter::once(&cycle[0]))
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(" → ");
        let mut d = LD305
            .diag(format!("`source_profile` loop: {shown}"))
            .profile(cycle[0].clone());
        for (n, member) in cycle.iter().enumerate() {
            if let Some(s) = aws.profile_value(member, "source_profile") {
                d = if n == 0 {
                    d.at(s.line_span.clone(), "the loop starts here")
                } else {
                    d.related(s.line_span.clone(), "part of the loop")
                };
            }
        }
        out.push(
            d.help("no profile in the loop has keys to start from: every tool fails")
                .fix(format!(
                    "point one `source_profile` at a profile with static keys, e.g. `{}-security`",
                    cx.name
                )),
        );
    }
}

fn valid_key_id(v: &str) -> bool {
    v.len() == 20
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn valid_secret(v: &str) -> bool {
    v.len() == 40
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/+=".contains(&b))
}

fn source_credentials_missing(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    let mut checked = std::collections::BTreeSet::new();
    for (used, refs) in &cx.used {
        // Walk to the end of the chain: the profile that must hold credentials.
        let mut current = used.clone();
        let mut seen = vec![current.clone()];
        let mut looped = false;
        loop {
            if aws.profile_value(&current, "credential_source").is_some() {
                break;
            }
            match aws.profile_value(&current, "source_profile") {
                Some(next) if next.value == current => break,
                Some(next) if seen.contains(&next.value) => {
                    looped = true;
                    break;
                }
                Some(next) => {
                    current = next.value.clone();
                    seen.push(current.clone());
                }
                None => break,
            }
        }
        // LD305 reports loops, LD102/LD304 missing profiles.
        if looped || !aws.has_profile(&current) || !checked.insert(current.clone()) {
            continue;
        }
        let has = |k: &str| aws.profile_value(&current, k).is_some();
        if has("credential_source")
            || has("credential_process")
            || has("sso_start_url")
            || has("sso_session")
            || has("web_identity_token_file")
            || (has("role_arn") && !has("source_profile"))
        {
            continue;
        }
        let via = if current == *used {
            String::new()
        } else {
            format!(" (`{used}` gets its credentials from it)")
        };
        let key = aws.profile_value(&current, "aws_access_key_id");
        let secret = aws.profile_value(&current, "aws_secret_access_key");
        let at = anchor(aws, &current).unwrap_or_else(|| refs[0].span.clone());
        let problem = match (key, secret) {
            (None, None) => Some((format!("`{current}` has no credentials{via}"), at.clone())),
            (Some(_), None) => Some((
                format!("`{current}` has `aws_access_key_id` but no `aws_secret_access_key`{via}"),
                at.clone(),
            )),
            (None, Some(_)) => Some((
                format!("`{current}` has `aws_secret_access_key` but no `aws_access_key_id`{via}"),
                at.clone(),
            )),
            (Some(k), Some(s)) => {
                if !valid_key_id(&k.value) {
                    Some((
                        format!(
                            "the access key id of `{current}` is malformed (expected 20 upper-case letters and digits){via}"
                        ),
                        k.value_span.clone(),
                    ))
                } else if !valid_secret(&s.value) {
                    Some((
                        format!(
                            "the secret access key of `{current}` is malformed (expected 40 characters){via}"
                        ),
                        s.value_span.clone(),
                    ))
                } else {
                    None
                }
            }
        };
        if cx.is_sso_derived(&current) && key.is_none() && secret.is_none() {
            continue; // Leverage writes these keys itself at run time.
        }
        if let Some((message, span)) = problem {
            out.push(
                LD306
                    .diag(message)
                    .profile(current.clone())
                    .at(span, "the chain ends here without usable keys")
                    .help("the chain cannot start: \"Unable to locate credentials\" / \"partial credentials found\"")
                    .fix(credentials_fix(&cx.name, &current)),
            );
        }
    }
}

/// `leverage credentials configure --type` takes only BOOTSTRAP, MANAGEMENT or SECURITY, each
/// writing `[<p>-bootstrap]`, `[<p>-management]` or `[<p>-security]`; other profiles' keys are
/// added by hand.
fn credentials_fix(project: &str, profile: &str) -> String {
    match profile
        .strip_prefix(project)
        .and_then(|r| r.strip_prefix('-'))
    {
        Some(kind @ ("bootstrap" | "management" | "security")) => format!(
            "leverage credentials configure --type {}   (writes [{profile}] to credentials)",
            kind.to_uppercase()
        ),
        _ => format!(
            "add [{profile}] with aws_access_key_id and aws_secret_access_key to credentials (`leverage credentials configure` writes only <project>-bootstrap, -management and -security)"
        ),
    }
}

fn sso_profile_incomplete(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    let Some(config) = aws.config.parsed() else {
        return;
    };
    let legacy = [
        "sso_start_url",
        "sso_region",
        "sso_account_id",
        "sso_role_name",
    ];
    let sso_account_prefix = crate::leverage::sso_account_prefix(&cx.name);
    let base = crate::leverage::sso_base_profile(&cx.name);
    for section in &config.sections {
        let Some(name) = section.name.profile_name() else {
            continue;
        };
        // Leverage's base profile holds what the generation's CLI reads (LD105 judges it).
        if !cx.name.is_empty() && name == base {
            continue;
        }
        let has = |k: &str| section.get(k).is_some();
        if !cx.name.is_empty() && name.starts_with(&sso_account_prefix) {
            let missing: Vec<&str> = cx
                .cli
                .sso_account_keys()
                .iter()
                .copied()
                .filter(|k| !has(k))
                .collect();
            if !missing.is_empty() {
                out.push(
                    LD307
                        .diag(format!("Leverage SSO profile `{name}` lacks {}", super::project::list(&missing)))
                        .profile(name.to_string())
                        .at(section.header.clone(), "incomplete")
                        .help("the Leverage CLI reads the account and role of each account from these keys")
                        .fix(cx.regen_fix()),
                );
            }
            continue;
        }
        if let Some(session) = section.get("sso_session") {
            match aws.sso_session(&session.value) {
                None => out.push(
                    LD307
                        .diag(format!("`sso_session = {}` of `{name}` names no `[sso-session {}]`", session.value, session.value))
                        .profile(name.to_string())
                        .at(session.value_span.clone(), "no such sso-session")
                        .fix(format!("[sso-session {}]\nsso_start_url = https://<id>.awsapps.com/start\nsso_region = us-east-1", session.value)),
                ),
                Some(s) => {
                    for key in ["sso_start_url", "sso_region"] {
                        match (section.get(key), s.get(key)) {
                            (Some(p), Some(v)) if p.value != v.value => out.push(
                                LD307
                                    .diag(format!("`{key}` of `{name}` differs from its sso-session `{}`", session.value))
                                    .profile(name.to_string())
                                    .at(p.value_span.clone(), "profile value")
                                    .related(v.value_span.clone(), "session value")
                                    .help("the SDKs refuse a profile that disagrees with its session")
                                    .fix(format!("delete `{key}` from the profile")),
                            ),
                            (_, None) if section.get(key).is_none() => out.push(
                                LD307
                                    .diag(format!("sso-session `{}` has no `{key}`", session.value))
                                    .profile(name.to_string())
                                    .at(s.header.clone(), "incomplete session")
                                    .fix(format!("{key} = …")),
                            ),
                            _ => {}
                        }
                    }
                }
            }
            continue;
        }
        let present: Vec<&str> = legacy.into_iter().filter(|k| has(k)).collect();
        if !present.is_empty() && present.len() < legacy.len() {
            let missing: Vec<&str> = legacy.into_iter().filter(|k| !has(k)).collect();
            out.push(
                LD307
                    .diag(format!(
                        "SSO profile `{name}` lacks {}",
                        super::project::list(&missing)
                    ))
                    .profile(name.to_string())
                    .at(section.header.clone(), "partial sso_* keys")
                    .help("the AWS CLI and SDKs need all four legacy SSO keys (or an sso_session)")
                    .fix(cx.regen_fix()),
            );
        }
    }
}

fn account_id_mismatch(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    let mut names = cx.chain_profiles();
    for used in cx.used.keys() {
        if let Some(account) = cx.account_of(used) {
            names.insert(cx.sso_account_profile(account));
        }
    }
    for name in names {
        let Some(account) = cx.account_of(&name) else {
            continue;
        };
        let Some(expected) = cx.account_id(account) else {
            continue;
        };
        let decl = cx
            .project
            .and_then(|p| p.accounts.get(account))
            .and_then(|a| a.id.as_ref());
        for key in ["role_arn", "sso_account_id", "account_id"] {
            let Some(entry) = aws.profile_value(&name, key) else {
                continue;
            };
            let found = if key == "role_arn" {
                match crate::values::arn_account(&entry.value, "iam", "role") {
                    Some(a) => a,
                    None => continue, // LD302 reports malformed ARNs.
                }
            } else {
                entry.value.as_str()
            };
            if found != expected {
                let mut d = LD308
                    .diag(format!("`{key}` of `{name}` is in account {found}, but common.tfvars says `{account}` is {expected}"))
                    .profile(name.clone())
                    .at(entry.value_span.clone(), format!("account {found}"))
                    .help("Terraform would act on another account than this layer's, or fail with AccessDenied")
                    .fix(if key == "role_arn" {
                        format!("role_arn = {}", entry.value.replacen(found, expected, 1))
                    } else {
                        format!("{key} = {expected}")
                    });
                if let Some(decl) = decl {
                    d = d.related(decl.span.clone(), format!("`{account}` is {expected} here"));
                }
                out.push(d);
            }
        }
    }
}

fn mixed_credential_sources(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    for name in cx.chain_profiles() {
        let has = |k: &str| aws.profile_value(&name, k).is_some();
        let mut sources = Vec::new();
        if has("aws_access_key_id")
            && !(has("source_profile")
                && aws
                    .profile_value(&name, "source_profile")
                    .is_some_and(|s| s.value == name))
        {
            sources.push("static keys");
        }
        if has("role_arn") {
            sources.push("role_arn");
        }
        if has("sso_start_url") || has("sso_session") || has("sso_account_id") {
            sources.push("SSO");
        }
        if has("credential_process") {
            sources.push("credential_process");
        }
        if has("web_identity_token_file") {
            sources.push("web identity");
        }
        if sources.len() < 2 {
            continue;
        }
        let Some(at) = anchor(aws, &name) else {
            continue;
        };
        out.push(
            LD309
                .diag(format!("profile `{name}` has several credential sources: {}", sources.join(", ")))
                .profile(name.clone())
                .at(at, "several sources")
                .help("each SDK picks its own by precedence: the AWS CLI and Terraform may end up as different identities")
                .fix(if sources == ["static keys", "role_arn"] {
                    format!("a role profile gets its keys from `source_profile`: delete aws_access_key_id, aws_secret_access_key (and aws_session_token) of `{name}` in {dir}; if those keys are the ones to use, delete role_arn and source_profile instead", dir = aws.dir_display)
                } else {
                    "keep one source per profile; move the others to profiles of their own".to_string()
                }),
        );
    }
}
