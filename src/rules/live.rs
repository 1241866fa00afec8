//! LD6xx: what the live probes found (filled only without `--offline`).

use super::{Context, rule};
use crate::diagnostic::Diagnostic;
use crate::model::live::{FailureKind, LiveOutcome};

rule!(LD601, "LD601", "sts-call-failed", Error, sts_call_failed);
rule!(
    LD602,
    "LD602",
    "sts-wrong-account",
    Error,
    sts_wrong_account
);
rule!(
    LD603,
    "LD603",
    "sts-unexpected-role",
    Warning,
    sts_unexpected_role
);

fn place(cx: &Context, profile: &str, d: Diagnostic) -> Diagnostic {
    match cx.used.get(profile).and_then(|r| r.first()) {
        Some(r) => d.at(r.span.clone(), "used here"),
        None => d,
    }
}

/// For keys a step of the Leverage CLI wrote (SSO role credentials, 3.x MFA keys): what makes
/// the next run write new ones. While the CLI's own record says they are good for more than its
/// margin, it reuses them and a rerun changes nothing: that record is what to clear.
fn leverage_written_fix(cx: &Context, profile: &str) -> Option<String> {
    use crate::analysis::CredentialSource;
    let aws = cx.aws?;
    let dir = &aws.dir_display;
    let margin = chrono::Duration::minutes(crate::leverage::REFRESH_MARGIN_MINUTES);
    let reused = |step| {
        super::references::cached_until(cx, aws, profile, step)
            .is_some_and(|until| until - cx.model.now > margin)
    };
    match cx.analysis.source(profile)? {
        CredentialSource::LeverageSso { .. } if reused("SSO") => Some(format!(
            "delete the `expiration` line of `[profile {profile}]` in {dir}/config: while it is more than {} minutes away the Leverage CLI reuses these keys and a rerun changes nothing; the next `leverage tf` run then writes new ones (or: leverage-doctor sso-reset --login)",
            crate::leverage::REFRESH_MARGIN_MINUTES
        )),
        CredentialSource::LeverageSso { .. } => Some(
            "sign in (leverage aws sso login, or leverage-doctor sso-login): the next `leverage tf` run writes new keys".to_string(),
        ),
        CredentialSource::LeverageMfa { .. } if reused("MFA") => Some(format!(
            "delete {dir}/{}/{profile}: while the cached MFA session is more than {} minutes from its end the Leverage CLI reuses it and writes nothing; the next `leverage tf` run asks for a code and writes new keys",
            crate::leverage::MFA_CACHE_DIR,
            crate::leverage::REFRESH_MARGIN_MINUTES
        )),
        _ => None,
    }
}

fn sts_call_failed(cx: &Context, out: &mut Vec<Diagnostic>) {
    for result in &cx.model.live {
        let LiveOutcome::Failed { kind, error } = &result.outcome else {
            continue;
        };
        let written_by_leverage = matches!(
            kind,
            FailureKind::ExpiredToken | FailureKind::UnknownKey | FailureKind::BadSignature
        )
        .then(|| leverage_written_fix(cx, &result.profile))
        .flatten();
        let (what, fix) = match kind {
            FailureKind::ExpiredToken => ("the credentials have expired", "leverage aws sso login   (SSO) — or rerun through the Leverage CLI to refresh role credentials".to_string()),
            FailureKind::UnknownKey => ("AWS does not know the access key id", "rotate the keys in IAM and run: leverage credentials configure".to_string()),
            FailureKind::BadSignature => ("the request signature does not match: the secret key is wrong", "check aws_secret_access_key (rotate the keys if unsure)".to_string()),
            FailureKind::ClockSkew => ("AWS refused the request because this machine's clock is off", "sync the clock (timedatectl set-ntp true, or ntpdate)".to_string()),
            FailureKind::AssumeRoleDenied => ("AssumeRole was denied", "check the role's trust policy and the caller's sts:AssumeRole permission".to_string()),
            FailureKind::SsoSessionInvalid => ("the SSO session is revoked or expired", "leverage-doctor sso-reset --login".to_string()),
            FailureKind::RoleNotAssigned => ("the SSO user has no access to this role in this account (ForbiddenException); a permission set assigned minutes ago may still be propagating", "wait a few minutes and retry; otherwise ask for the permission set, or use one of your roles (role_name of the account profile)".to_string()),
            FailureKind::InvalidGrant => ("SSO-OIDC refused the grant: usually a wrong `sso_region` for the start URL", "set sso_region in common.tfvars to the region of your IAM Identity Center, then leverage-doctor sso-login".to_string()),
            FailureKind::Throttled => ("AWS throttled the calls (retries exhausted)", "retry later, or with --jobs 1".to_string()),
            FailureKind::MfaNeeded => ("an MFA code is needed and there is no terminal to ask on", "run on a terminal, or pass --mfa-code CODE".to_string()),
            FailureKind::Network => ("the endpoint could not be reached", "check the network, proxy (HTTPS_PROXY) and AWS_ENDPOINT_URL* settings".to_string()),
            FailureKind::Timeout => ("the call timed out", "check the network and proxy; raise --timeout if the link is slow".to_string()),
            FailureKind::NoCredentials => ("no credentials could be obtained", cx.regen_fix()),
            FailureKind::UnsupportedCredentials => ("these credentials cannot be used by Terraform and its AWS SDK", "use a credential_process: credential_process = aws configure export-credentials --profile <profile> --format process".to_string()),
            FailureKind::Other => ("the call failed", "see the error".to_string()),
        };
        // Keys a step of the Leverage CLI wrote: what makes its next run write new ones.
        let fix = written_by_leverage.unwrap_or(fix);
        out.push(place(
            cx,
            &result.profile,
            LD601
                .diag(format!("`{}`: {what}", result.profile))
                .profile(result.profile.clone())
                .help(error.clone())
                .fix(fix),
        ));
    }
}

fn sts_wrong_account(cx: &Context, out: &mut Vec<Diagnostic>) {
    for result in &cx.model.live {
        let LiveOutcome::Ok { account, arn } = &result.outcome else {
            continue;
        };
        let Some(name) = cx.account_of(&result.profile) else {
            continue;
        };
        let Some(expected) = cx.account_id(name) else {
            continue;
        };
        if account != expected {
            out.push(place(cx, &result.profile, LD602
                .diag(format!("`{}` lands in account {account}, but common.tfvars says `{name}` is {expected}", result.profile))
                .profile(result.profile.clone())
                .help(format!("the caller is {arn}"))
                .fix("fix the profile's role_arn / account_id (see LD308), or common.tfvars `accounts`")));
        }
    }
}

fn sts_unexpected_role(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    for result in &cx.model.live {
        let LiveOutcome::Ok { arn, .. } = &result.outcome else {
            continue;
        };
        let Some(role) = assumed_role(arn) else {
            continue;
        };
        let expected = aws
            .profile_value(&result.profile, "role_arn")
            .and_then(|e| e.value.rsplit('/').next().map(str::to_string))
            .or_else(|| {
                aws.profile_value(&result.profile, "sso_role_name")
                    .map(|e| e.value.clone())
            })
            .or_else(|| {
                aws.profile_value(&result.profile, "role_name")
                    .map(|e| e.value.clone())
            });
        let Some(expected) = expected else { continue };
        // SSO roles arrive as AWSReservedSSO_<PermissionSet>_<hash>.
        let matches = role == expected
            || role
                .strip_prefix("AWSReservedSSO_")
                .is_some_and(|r| r.starts_with(&format!("{expected}_")));
        if !matches {
            out.push(place(
                cx,
                &result.profile,
                LD603
                    .diag(format!(
                        "`{}` acts as role `{role}`, not `{expected}`",
                        result.profile
                    ))
                    .profile(result.profile.clone())
                    .help(format!("the caller is {arn}"))
                    .fix("check role_arn / role_name of the profile"),
            ));
        }
    }
}

/// `arn:aws:sts::<acct>:assumed-role/<Role>/<session>` → `Role`.
fn assumed_role(arn: &str) -> Option<&str> {
    let rest = arn.split(":assumed-role/").nth(1)?;
    rest.split('/').next()
}
