//! LD5xx: the SSO token and the cached sessions.

use super::{Context, rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::leverage::REFRESH_MARGIN_MINUTES;
use crate::model::aws::AwsFile;
use crate::model::project::Mode;
use crate::source::Span;
use chrono::{DateTime, Duration, Utc};

rule!(
    LD501,
    "LD501",
    "sso-token-missing",
    Error,
    sso_token_missing
);
rule!(
    LD502,
    "LD502",
    "sso-token-expired",
    Error,
    sso_token_expired
);
rule!(
    LD503,
    "LD503",
    "sso-token-invalid",
    Error,
    sso_token_invalid
);
rule!(
    LD504,
    "LD504",
    "role-credentials-stale",
    Warning,
    role_credentials_stale
);
rule!(
    LD506,
    "LD506",
    "sso-token-foreign",
    Error,
    sso_token_foreign
);
rule!(
    LD505,
    "LD505",
    "mfa-session-expired",
    Info,
    mfa_session_expired
);

const LOGIN_FIX: &str = "leverage aws sso login   (or: leverage-doctor sso-login)";

fn sso_token_missing(cx: &Context, out: &mut Vec<Diagnostic>) {
    if cx.mode != Mode::Sso {
        return;
    }
    let Some(aws) = cx.aws else { return };
    if !aws.sso_tokens.is_empty() {
        return; // LD502/LD503 judge the files that are there.
    }
    let span = match &aws.config {
        AwsFile::Parsed(c) => Span::whole(c.file),
        AwsFile::Missing { file } | AwsFile::Unreadable { file, .. } => Span::whole(*file),
    };
    out.push(
        LD501
            .diag(format!(
                "no SSO token in {}/sso/cache/: you are not logged in",
                aws.dir_display
            ))
            .at(span, "SSO profiles here need a token")
            .help("the Leverage CLI refuses to run Terraform with an empty SSO cache")
            .fix(LOGIN_FIX),
    );
}

fn token_expiry<'a>(
    cx: &Context<'a>,
) -> impl Iterator<Item = (&'a crate::model::aws::SsoTokenFile, DateTime<Utc>)> + use<'a> {
    cx.aws
        .into_iter()
        .flat_map(|a| a.sso_tokens.iter())
        .filter_map(|t| match &t.content {
            Ok(tok) if tok.access_token.is_some() => match &tok.expires_at {
                Some(Ok(at)) => Some((t, *at)),
                _ => None,
            },
            _ => None,
        })
}

/// `+14:00`, `-03:00`.
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    format!("{sign}{:02}:{:02}", s / 3600, s % 3600 / 60)
}

fn sso_token_expired(cx: &Context, out: &mut Vec<Diagnostic>) {
    if cx.mode != Mode::Sso {
        return;
    }
    for (token, at) in token_expiry(cx) {
        let left = at - cx.model.now;
        // 3.x compares `expiresAt` (UTC) with the local clock: east of UTC it refuses a token
        // that is still valid for as long as the offset.
        let offset = Duration::seconds(i64::from(cx.model.local_utc_offset_s));
        if cx.cli.token_check_in_local_time()
            && left > Duration::zero()
            && offset > Duration::zero()
            && left <= offset
        {
            out.push(
                LD502
                    .diag(format!(
                        "Leverage CLI {} refuses the SSO token `{}`: it compares `expiresAt` ({}) with the local time (UTC{}), so it takes a token valid for another {} as expired",
                        cx.cli.generation.label(),
                        token.name,
                        at.format("%Y-%m-%d %H:%M UTC"),
                        utc_offset(cx.model.local_utc_offset_s),
                        crate::time::human_duration(left)
                    ))
                    .at(Span::whole(token.file), "refused east of UTC")
                    .help("the CLI's check uses datetime.now() (local) against a UTC time: every layer stops with \"AWS SSO token has expired\"")
                    .fix(format!("{LOGIN_FIX}   (a new token lasts longer than the offset), or run with TZ=UTC")),
            );
            continue;
        }
        if left <= Duration::zero() {
            out.push(
                LD502
                    .diag(format!("the SSO token `{}` expired {} ago ({})", token.name, crate::time::human_duration(left), at.format("%Y-%m-%d %H:%M UTC")))
                    .at(Span::whole(token.file), "expired")
                    .help("every SSO profile fails until you log in again; if login seems to work but this stays, reset the session")
                    .fix(format!("{LOGIN_FIX}\nif that does not help: leverage-doctor sso-reset --login")),
            );
        } else if left < Duration::minutes(REFRESH_MARGIN_MINUTES) {
            out.push(
                LD502
                    .diag(format!(
                        "the SSO token `{}` expires in {}",
                        token.name,
                        crate::time::human_duration(left)
                    ))
                    .severity(Severity::Warning)
                    .at(Span::whole(token.file), "about to expire")
                    .help("a long `terraform apply` started now may lose its credentials halfway")
                    .fix(LOGIN_FIX),
            );
        }
    }
}

fn sso_token_invalid(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    for token in &aws.sso_tokens {
        let problem = match &token.content {
            Err(e) => format!("cannot be read: {e}"),
            Ok(t) if t.access_token.is_none() => "has no `accessToken`".to_string(),
            Ok(t) => match &t.expires_at {
                None => "has no `expiresAt`".to_string(),
                Some(Err(raw)) => format!(
                    "has `expiresAt` = `{}`, not the exact form the Leverage CLI parses (YYYY-MM-DDTHH:MM:SSZ)",
                    crate::secrets::one_line(raw, 60)
                ),
                Some(Ok(_)) => continue,
            },
        };
        out.push(
            LD503
                .diag(format!("the SSO token file `{}` {problem}", token.name))
                .at(Span::whole(token.file), "invalid token file")
                .help("the Leverage CLI stops reading it (a traceback) before Terraform runs; signing in again writes a new one")
                .fix(format!("rm {}/sso/cache/{} && {LOGIN_FIX}", aws.dir_display, token.name)),
        );
    }
}

fn role_credentials_stale(cx: &Context, out: &mut Vec<Diagnostic>) {
    mfa_session_without_keys(cx, out);
    if cx.mode != Mode::Sso {
        return;
    }
    let Some(aws) = cx.aws else { return };
    let Some(config) = aws.config.parsed() else {
        return;
    };
    for name in cx.used.keys() {
        let Some(exp) = config
            .profile_sections(name)
            .filter_map(|s| s.get("expiration"))
            .last()
        else {
            continue;
        };
        let Some(at) = exp
            .value
            .parse::<i64>()
            .ok()
            .and_then(DateTime::<Utc>::from_timestamp_millis)
        else {
            out.push(
                LD504
                    .diag(format!("`expiration` of `{name}` is not milliseconds since the epoch: `{}`", exp.value))
                    .severity(Severity::Error)
                    .profile(name.clone())
                    .at(exp.value_span.clone(), "unreadable")
                    .help("the Leverage CLI reads it as a number before refreshing (`int(...)`) and stops with a ValueError: no `leverage tf` command runs in a layer that uses this profile")
                    .fix("delete the `expiration` line; the Leverage CLI writes a new one on its next run")
                    // No reader but the Leverage CLI reads it, and it rewrites it: safe.
                    .edit(cx.whole_line(&exp.line_span), "", crate::diagnostic::Applicability::Safe),
            );
            continue;
        };
        let has_keys = aws.credentials.parsed().is_some_and(|c| {
            c.profile_sections(name)
                .any(|s| s.get("aws_access_key_id").is_some())
        });
        let left = at - cx.model.now;
        if left > Duration::minutes(REFRESH_MARGIN_MINUTES) && !has_keys {
            out.push(
                LD504
                    .diag(format!("`{name}` is marked fresh for {} but the credentials file has no keys for it", crate::time::human_duration(left)))
                    .severity(Severity::Error)
                    .profile(name.clone())
                    .at(exp.line_span.clone(), "says the credentials are fresh")
                    .help("the Leverage CLI trusts `expiration` (more than 30 minutes away), fetches nothing and writes nothing, and Terraform finds no credentials: the run fails")
                    .fix("delete this `expiration` line: the next `leverage tf` run fetches and writes the credentials")
                    .edit(cx.whole_line(&exp.line_span), "", crate::diagnostic::Applicability::Safe),
            );
        } else if left <= Duration::zero() && has_keys {
            out.push(
                LD504
                    .diag(format!("the cached role credentials of `{name}` expired {} ago", crate::time::human_duration(left)))
                    .profile(name.clone())
                    .at(exp.line_span.clone(), "expired")
                    .help("leverage commands refresh them, but plain `terraform` or `aws --profile` calls fail with ExpiredToken")
                    .fix("run the layer through the Leverage CLI (`leverage tf plan`) to refresh them"),
            );
        }
    }
}

/// 3.x IAM: the MFA step reuses a cached session while more than 30 minutes remain and then
/// writes nothing, so the keys must already be in credentials from the run that cached it.
fn mfa_session_without_keys(cx: &Context, out: &mut Vec<Diagnostic>) {
    if cx.mode != Mode::IamMfa || !cx.cli.mfa_cache_is_flat() {
        return;
    }
    let Some(aws) = cx.aws else { return };
    let mut seen = std::collections::BTreeSet::new();
    for (name, r) in cx.analysis.runs.iter().flat_map(|run| &run.refreshed) {
        if !cx.is_mfa_derived(name) || !seen.insert(name) {
            continue;
        }
        let Some(cache) = aws.mfa_cache.iter().find(|c| c.profile == *name) else {
            continue;
        };
        let Ok(until) = cache.expiration else {
            continue;
        };
        let has_keys = aws.credentials.parsed().is_some_and(|c| {
            c.profile_sections(name)
                .any(|s| s.get("aws_access_key_id").is_some())
        });
        if has_keys || until <= cx.model.now + Duration::minutes(REFRESH_MARGIN_MINUTES) {
            continue;
        }
        out.push(
            LD504
                .diag(format!(
                    "the cached MFA session of `{name}` is fresh for {} but the credentials file has no keys for it",
                    crate::time::human_duration(until - cx.model.now)
                ))
                .severity(Severity::Error)
                .profile(name.clone())
                .at(Span::whole(cache.file), "reused: the MFA step writes nothing")
                .related(r.span.clone(), "Terraform reads this profile")
                .help("Leverage CLI 3.x reuses a cached session while more than 30 minutes remain and writes no keys; Terraform then finds no credentials for the profile")
                .fix(format!("rm {}/cache/{name}   (the next run asks for an MFA code and writes the keys)", aws.dir_display)),
        );
    }
}

fn mfa_session_expired(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(aws) = cx.aws else { return };
    for cache in &aws.mfa_cache {
        if cx.cli.mfa_cache_is_flat()
            && cache.flat == Some(false)
            && cx.mode == crate::model::project::Mode::IamMfa
        {
            out.push(
                LD505
                    .diag(format!(
                        "the cached MFA session of `{}` is in the 2.x format (AssumeRole output), which Leverage CLI {} cannot read: it crashes",
                        cache.profile,
                        cx.cli.generation.label()
                    ))
                    .severity(Severity::Error)
                    .profile(cache.profile.clone())
                    .at(Span::whole(cache.file), "2.x cache file")
                    .help("3.x reads `Expiration` at the top level of the file; in a 2.x file it is missing and the CLI's strptime fails before Terraform runs")
                    .fix(format!("rm {}/cache/{}   (the next run asks for an MFA code and writes the 3.x format)", aws.dir_display, cache.profile)),
            );
            continue;
        }
        // The step runs for this profile only when the CLI reads it; then, without a
        // terminal, its code prompt aborts the run.
        let prompts_here = cx.cli.mfa_cache_is_flat()
            && cx.is_mfa_derived(&cache.profile)
            && cx
                .analysis
                .runs
                .iter()
                .any(|run| run.refreshed.iter().any(|(n, _)| *n == cache.profile));
        let message = match &cache.expiration {
            Ok(at) if *at <= cx.model.now => format!(
                "the cached MFA session of `{}` expired {} ago: the next run asks for a code",
                cache.profile,
                crate::time::human_duration(*at - cx.model.now)
            ),
            // The Leverage CLI reuses a session only while more than 30 minutes remain.
            Ok(at) if *at <= cx.model.now + Duration::minutes(REFRESH_MARGIN_MINUTES) => format!(
                "the cached MFA session of `{}` has only {} left: the next run asks for a code",
                cache.profile,
                crate::time::human_duration(*at - cx.model.now)
            ),
            Ok(_) => continue,
            Err(e) => format!(
                "the cached MFA session of `{}` is unreadable ({e}): the next run asks for a code",
                cache.profile
            ),
        };
        let d = LD505
            .diag(message)
            .profile(cache.profile.clone())
            .at(Span::whole(cache.file), "cached session");
        out.push(if prompts_here && !cx.model.interactive {
            no_terminal_for_the_code(d)
        } else {
            d.fix("nothing to do: enter your MFA code on the next leverage run")
        });
    }
    // No cached session at all: the step asks for a code on every profile it reads.
    if cx.cli.mfa_cache_is_flat() && !cx.model.interactive {
        let mut seen = std::collections::BTreeSet::new();
        for (name, r) in cx.analysis.runs.iter().flat_map(|run| &run.refreshed) {
            if !cx.is_mfa_derived(name)
                || aws.mfa_cache.iter().any(|c| c.profile == *name)
                || !seen.insert(name)
            {
                continue;
            }
            out.push(no_terminal_for_the_code(
                LD505
                    .diag(format!(
                        "no cached MFA session for `{name}`: the next run asks for a code"
                    ))
                    .profile(name.clone())
                    .at(r.span.clone(), "the MFA step runs for this profile"),
            ));
        }
    }
}

/// The MFA step's prompt where nobody can answer it (CI, no terminal): the run aborts.
fn no_terminal_for_the_code(d: Diagnostic) -> Diagnostic {
    d.severity(Severity::Error)
        .help("with no terminal (CI, a pipe) the Leverage CLI's code prompt gets nothing and the run stops (exit 1, \"Aborted by user.\") before Terraform starts")
        .fix("run `leverage tf plan` once in a terminal and enter the code (the session is cached for about an hour), or run this step where a person can answer")
}

/// The token must belong to this project's SSO instance: the start URL and region of
/// common.tfvars. One issued for another organisation's portal lists its accounts.
fn sso_token_foreign(cx: &Context, out: &mut Vec<Diagnostic>) {
    if cx.mode != Mode::Sso {
        return;
    }
    let (Some(aws), Some(project)) = (cx.aws, cx.project) else {
        return;
    };
    let want_url = project.common_str("sso_start_url");
    let want_region = project.common_str("sso_region");
    for token in &aws.sso_tokens {
        let Ok(t) = &token.content else { continue };
        let mut wrong = Vec::new();
        if let (Some(have), Some(want)) = (&t.start_url, &want_url)
            && !crate::values::same_start_url(have, &want.value)
        {
            wrong.push(format!(
                "start URL `{}` (the project's is `{}`)",
                crate::secrets::one_line(have, 200),
                want.value
            ));
        }
        if let (Some(have), Some(want)) = (&t.region, &want_region)
            && have.trim() != want.value.trim()
        {
            wrong.push(format!(
                "region `{}` (the project's is `{}`)",
                crate::secrets::one_line(have, 40),
                want.value
            ));
        }
        if wrong.is_empty() {
            continue;
        }
        let mut d = LD506
            .diag(format!(
                "the SSO token `{}` was issued for another SSO instance: {}",
                token.name,
                wrong.join(", ")
            ))
            .at(Span::whole(token.file), "another organisation's token");
        if let Some(want) = &want_url {
            d = d.related(want.span.clone(), "the project's start URL");
        }
        out.push(
            d.help("GetRoleCredentials fails for this project's accounts, and `regen-config --sso` would list the other organisation's accounts (it refuses to)")
                .fix("leverage-doctor sso-reset --login   (signs in to the project's start URL)"),
        );
    }
}
