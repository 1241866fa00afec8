//! LD4xx: the project's mode (SSO, IAM, MFA) and the environment.

use super::{Context, rule};
use crate::diagnostic::Diagnostic;
use crate::model::project::Mode;
use crate::source::Span;

rule!(LD401, "LD401", "mfa-with-sso", Warning, mfa_with_sso);
rule!(
    LD402,
    "LD402",
    "wrong-mode-profile",
    Warning,
    wrong_mode_profile
);
rule!(
    LD403,
    "LD403",
    "environment-override",
    Warning,
    environment_override
);

fn mfa_with_sso(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(project) = cx.project else { return };
    if cx.mode != Mode::Sso || !project.mfa_enabled() {
        return;
    }
    let Some(mfa) = project.build_var("MFA_ENABLED") else {
        return;
    };
    let mut d = LD401
        .diag("MFA_ENABLED=true while SSO is on: MFA is only for the IAM method")
        .at(mfa.line_span.clone(), "MFA on")
        .help("with SSO on, the Leverage CLI ignores MFA_ENABLED (MFA is only for the IAM method): the setting misleads whoever reads build.env, and turns MFA on if SSO is ever switched off")
        .fix("MFA_ENABLED=false");
    if let Some(sso) = project.common_var("sso_enabled") {
        d = d.related(sso.span.clone(), "SSO on");
    }
    out.push(d);
}

fn wrong_mode_profile(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    for (name, refs) in &cx.used {
        let Some(section) = aws.profile_anchor(name) else {
            continue;
        };
        let has = |k: &str| aws.profile_value(name, k).is_some();
        let (message, fix) = match cx.mode {
            // The name is the one Leverage writes in SSO mode: the section is a leftover of
            // the IAM set-up, and its role_arn wins over the keys Leverage writes.
            Mode::Sso
                if (has("role_arn") || has("source_profile"))
                    && crate::leverage::is_role_credentials_name(&cx.name, name) =>
            {
                (
                    format!("SSO is on, but `{name}` is still an IAM role profile (role_arn/source_profile): a leftover of the IAM set-up"),
                    format!("delete the `role_arn`, `source_profile` and `mfa_serial` lines of [profile {name}] in {}/config: in SSO mode the Leverage CLI writes this profile's keys itself, and a role_arn would make the SDKs assume the role instead", aws.dir_display),
                )
            }
            Mode::Sso if has("role_arn") || has("source_profile") => (
                format!("SSO is on, but `{name}` is an IAM role profile (role_arn/source_profile)"),
                "name the profile the Leverage CLI writes for the account in SSO mode (\"${var.project}-<account>-<role>\", as the other layers do), or, if the project uses IAM keys, set `sso_enabled = false` in config/common.tfvars".to_string(),
            ),
            Mode::Iam | Mode::IamMfa
                if has("sso_start_url")
                    || has("sso_session")
                    || has("sso_account_id")
                    || crate::leverage::is_sso_profile_name(&cx.name, name) =>
            {
                (
                    format!("SSO is off, but `{name}` is an SSO profile"),
                    "name this project's IAM profile for the account (\"${var.project}-<account>-devops\"), or, if the project signs in with SSO, set `sso_enabled = true` in config/common.tfvars".to_string(),
                )
            }
            _ => continue,
        };
        out.push(
            LD402
                .diag(message)
                .profile(name.clone())
                .at(refs[0].span.clone(), "used here")
                .related(section.header.clone(), "defined here")
                .help("the Leverage CLI gets credentials one way per project (common.tfvars `sso_enabled`); this profile was made for the other, and regen-config does not change references")
                .fix(fix),
        );
    }
}

fn environment_override(cx: &Context, out: &mut Vec<Diagnostic>) {
    let model = cx.model;
    let env_label = |d: Diagnostic| -> Diagnostic {
        match cx.project {
            Some(_) => d,
            None => d.at(Span::whole(model.start_file), "environment"),
        }
    };
    if let Some(key) = model.env("AWS_ACCESS_KEY_ID") {
        let shown: String = key.chars().take(4).collect();
        out.push(env_label(
            LD403
                .diag(format!("AWS_ACCESS_KEY_ID is set ({shown}…): the AWS CLI and every SDK call that names no profile use these keys"))
                .help("Terraform's provider and backend use the `profile` they name; `aws` commands, hooks and scripts run without --profile get these keys instead")
                .fix("unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN"),
        ));
    } else if model.env("AWS_SESSION_TOKEN").is_some() {
        out.push(env_label(
            LD403
                .diag("AWS_SESSION_TOKEN is set: a stale session token spoils credentials from profiles")
                .fix("unset AWS_SESSION_TOKEN"),
        ));
    }
    if cx.mode == crate::model::project::Mode::Sso
        && cx.cli.sso_client_reads_host_config()
        && let Some(host) = &model.host_config
        && let Some((var, name)) = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"]
            .iter()
            .find_map(|v| model.env(v).filter(|x| !x.is_empty()).map(|x| (*v, x)))
        && !host
            .profiles
            .as_ref()
            .is_ok_and(|p| p.iter().any(|p| p == name))
    {
        let shown = crate::secrets::escape_controls(name, false);
        out.push(env_label(
            LD403
                .diag(format!(
                    "{var}=`{shown}` is not a profile of {}: Leverage CLI {} crashes before refreshing anything",
                    host.shown,
                    cx.cli.generation.label()
                ))
                .severity(crate::diagnostic::Severity::Error)
                .help("3.x builds its SSO client from your own AWS settings, not the project's, and boto3 stops with ProfileNotFound; Terraform would also take this variable over [default]")
                .fix(format!("unset {var}   (before `leverage tf …`; the project's files name their profiles)")),
        ));
    }
    if let (Some(r), Some(d)) = (model.env("AWS_REGION"), model.env("AWS_DEFAULT_REGION"))
        && r != d
    {
        out.push(env_label(
            LD403
                .diag(format!("AWS_REGION is `{}` but AWS_DEFAULT_REGION is `{}`: the SDKs (Terraform) take AWS_REGION, the AWS CLI v1 and older scripts the other", crate::secrets::one_line(r, 40), crate::secrets::one_line(d, 40)))
                .help("the backend and the AWS CLI then talk to different regions than the provider")
                .fix("set both to the same region, or unset AWS_DEFAULT_REGION"),
        ));
    }
    if let Some(var) = model
        .env
        .iter()
        .find(|v| v.name == "AWS_CA_BUNDLE" && v.file_missing)
    {
        out.push(env_label(
            LD403
                .diag(format!(
                    "AWS_CA_BUNDLE points to `{}`, which is not a file",
                    crate::secrets::one_line(&var.value, 200)
                ))
                .help("every AWS call from the CLI and the SDKs fails to set up TLS")
                .fix("export AWS_CA_BUNDLE=<path of your CA bundle (PEM)>, or unset it"),
        ));
    }
    for name in ["HTTPS_PROXY", "https_proxy"] {
        // A proxy URL may carry user info; the rest must be a URL.
        if let Some(value) = model.env(name)
            && crate::model::endpoints::check_url(&crate::model::endpoints::without_user_info(
                value,
            ))
            .is_err()
        {
            out.push(env_label(
                LD403
                    .diag(format!(
                        "{name} is `{}`, which is not a proxy URL",
                        crate::model::endpoints::display_url(value)
                    ))
                    .help(
                        "HTTPS calls through the proxy fail (Terraform and the AWS CLI honour it)",
                    )
                    .fix(format!(
                        "export {name}=http://<proxy host>:<port>, or unset it"
                    )),
            ));
        }
    }
    if let Some(fips) = model.env("AWS_USE_FIPS_ENDPOINT")
        && fips.eq_ignore_ascii_case("true")
    {
        out.push(env_label(
            LD403
                .diag("AWS_USE_FIPS_ENDPOINT=true: every call goes to the FIPS endpoints")
                .severity(crate::diagnostic::Severity::Info)
                .help("regions and services without a FIPS endpoint fail (SSO in most regions has none)")
                .fix("unset AWS_USE_FIPS_ENDPOINT unless your organisation requires FIPS"),
        ));
    }
    if let (Some(p), Some(d)) = (model.env("AWS_PROFILE"), model.env("AWS_DEFAULT_PROFILE"))
        && p != d
    {
        out.push(env_label(
            LD403
                .diag(format!("AWS_PROFILE is `{p}` but AWS_DEFAULT_PROFILE is `{d}`: tools disagree on the default profile"))
                .fix("unset AWS_DEFAULT_PROFILE"),
        ));
    }
    if let Some(aws) = cx.aws {
        for (var, file) in [
            ("AWS_CONFIG_FILE", "config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        ] {
            let Some(value) = model.env(var) else {
                continue;
            };
            let expected = aws.dir.join(file);
            let same = std::path::Path::new(value) == expected;
            if !same {
                out.push(env_label(
                    LD403
                        .diag(format!(
                            "{var} points to `{value}`, not this project's {}/{file}",
                            aws.dir_display
                        ))
                        .help(
                            "the AWS CLI and scripts read another file than the Leverage CLI does",
                        )
                        .fix(format!("export {var}={}", expected.display())),
                ));
            }
        }
    }
    for var in crate::model::endpoints::VARS {
        if let Some(value) = model.env(var) {
            let shown = crate::model::endpoints::display_url(value);
            let invalid = crate::model::endpoints::check_url(value)
                .err()
                .map(|why| format!(" — it {why}, so every live check stops"))
                .unwrap_or_default();
            out.push(env_label(
                LD403
                    .diag(format!(
                        "{var} is set to `{shown}`: AWS calls go there instead of AWS{invalid}"
                    ))
                    .help("right for tests and private endpoints; wrong if left over")
                    .fix(format!("unset {var}")),
            ));
        }
    }
}
