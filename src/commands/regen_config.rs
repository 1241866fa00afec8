//! `regen-config --sso|--iam`: rebuild the project's AWS config from the source of truth,
//! show the diff, ask, back up, write atomically, then run the offline checks on the result.

use super::{Exit, confirm, print, print_coloured, use_color};
use crate::cli::{CheckArgs, Global, RegenArgs};
use crate::fix::ini_edit::{self, EditPlan};
use crate::fix::layout::{self, Note, SsoSource};
use crate::model::aws::IniKind;
use crate::read;
use crate::read::sso_portal::{Portal, PortalAccount, RateLimit, leverage_token};
use crate::values;
use crate::write::{Change, Done};
use anyhow::{Context as _, anyhow, bail};
use futures::StreamExt;
use std::io::IsTerminal;
use std::time::Duration;

/// The generated layout for a file holding these section headers.
type Layout<'a> = dyn Fn(&[String]) -> (EditPlan, Vec<Note>) + 'a;

pub fn run(args: &RegenArgs, global: &Global) -> anyhow::Result<Exit> {
    let settings = super::read_settings(args.path.as_ref(), global);
    let path = settings.path.clone();
    let model = read::load(&settings)?;
    let (project, aws) = super::project_and_aws(&model)?;
    let config_path = aws.dir.join("config");
    let shown = format!("{}/config", aws.dir_display);
    let old = read_config(&config_path, &shown)?;
    let (parsed, _) = crate::ini::parse(&old, crate::source::FileId::DETACHED, IniKind::Config);
    let facts = layout::ProjectFacts::of(project).map_err(|why| anyhow!(why))?;
    let prune = args.prune;

    // The layout as a function of the file's current sections: computed now for the preview,
    // and again under the lock if another process changed the file in between.
    let plan_for: Box<Layout> = if args.sso {
        let (start_url, sso_region) = super::sso_settings(project)?;
        read::endpoints::require_valid_env()?;
        let token = leverage_token(aws, model.now).map_err(|e| {
            anyhow!(
                "{e}: sign in first with `leverage-doctor sso-login` (or `leverage aws sso login`)"
            )
        })?;
        layout::token_is_the_projects(
            token.start_url.as_deref(),
            token.region.as_deref(),
            &start_url,
            &sso_region,
            &aws.dir_display,
        )
        .map_err(|why| anyhow!(why))?;
        let portal = list_portal(
            &token,
            &sso_region,
            &Listing {
                timeout: Duration::from_secs(args.timeout),
                quiet: global.quiet,
                jobs: usize::from(args.jobs),
                rate: args.rate,
                roles_for: (!args.all_accounts).then(|| facts.declared_ids()),
            },
        )?;
        let sso = SsoSource {
            start_url,
            sso_region,
            portal,
            all_accounts: args.all_accounts,
            role: args.role.clone(),
        };
        Box::new(move |existing: &[String]| facts.sso_layout(&sso, existing, prune))
    } else {
        let cli = model.cli();
        let mfa_on = project.mode(cli) == crate::model::project::Mode::IamMfa;
        let mfa_serial = layout::iam_mfa_serial(mfa_on, &parsed, args.mfa_serial.as_deref())
            .map_err(|why| anyhow!(why))?;
        Box::new(move |existing: &[String]| {
            facts.iam_layout(aws, cli, mfa_serial.as_deref(), existing, prune)
        })
    };
    let (plan, notes) = plan_for(&layout::headers(&old));
    crate::fix::ini_edit::check_plan(&plan).map_err(|why| anyhow!("{why}: nothing was written"))?;

    for note in &notes {
        crate::say!("{}", note.line());
    }
    if plan.upsert.is_empty() && plan.remove.is_empty() {
        bail!("nothing to generate: see the warnings above");
    }
    let mut change = Change::new(&aws.dir);
    change.edit(
        config_path.clone(),
        shown.clone(),
        config_path.exists().then(|| old.clone()),
        |text| ini_edit::apply(text, IniKind::Config, &plan_for(&layout::headers(text)).0),
    );
    if args.check {
        return drift(&change, &shown, global);
    }
    if change.is_empty() {
        print(&format!("{shown} is up to date: nothing to change\n"))?;
        return Ok(Exit::Clean);
    }
    print_coloured(
        &change.preview(use_color(global.color)),
        use_color(global.color),
    )?;
    if args.write.dry_run {
        crate::say!("dry run: nothing written");
        return Ok(Exit::Clean);
    }
    change.check()?;
    if !confirm(&args.write, &format!("Write these changes to {shown}?"))? {
        crate::say!("nothing written");
        return Ok(Exit::Clean);
    }
    for done in change.commit(model.now, || {})? {
        match done {
            Done::Written {
                backup: Some(b), ..
            } => crate::say!("wrote {shown} (backup: {})", read::display_home(&b)),
            Done::Written { backup: None, .. } => crate::say!("wrote {shown}"),
            Done::AlreadyDone { .. } => {
                crate::say!("{shown}: another run already wrote the same changes")
            }
        }
    }
    crate::say!("checking the result (offline):");
    let check = recheck_args(path, args, global);
    super::check::run(&check, global).context("checking the regenerated config")
}

/// The config as it is now: empty when there is none; an unreadable or non-UTF-8 file stops
/// the run before anything is planned.
fn read_config(config_path: &std::path::Path, shown: &str) -> anyhow::Result<String> {
    Ok(match read::fs::read_text(config_path) {
        Ok(t) if t.invalid_utf8_at.is_some() => {
            bail!("{shown} is not valid UTF-8: fix it first (see `leverage-doctor check`, LD205)")
        }
        Ok(t) => t.text,
        Err(reason) if config_path.exists() => bail!("{shown}: {reason}"),
        Err(_) => String::new(),
    })
}

/// The offline check run on the written result.
fn recheck_args(path: std::path::PathBuf, args: &RegenArgs, global: &Global) -> CheckArgs {
    CheckArgs {
        path: Some(path),
        all: false,
        offline: true,
        trust_tf_binary: false,
        fail_on: None,
        ignore: Vec::new(),
        select: Vec::new(),
        config: None,
        output: None,
        jobs: 1,
        timeout: args.timeout,
        mfa_code: None,
        fix: false,
        unsafe_fixes: false,
        diff: false,
        yes: false,
        after_regen: true,
        project: args.project.clone(),
        format: global.format,
        color: global.color,
        verbose: false,
        quiet: global.quiet,
    }
}

/// `--check`: the drift between the file and what regen would write; nothing is written.
/// Exit 1 when they differ (CI fails), 0 when not.
fn drift(change: &Change, shown: &str, global: &Global) -> anyhow::Result<Exit> {
    let Some(edit) = change.edits.first() else {
        match global.format {
            crate::cli::Format::Json => super::print_json(&format!(
                "{}\n",
                crate::report::drift::json(shown, false, &[], &[], &[])
            ))?,
            _ => print(&format!("{shown} is up to date: nothing to change\n"))?,
        }
        return Ok(Exit::Clean);
    };
    let before = edit.before.as_deref().unwrap_or("");
    let (added, changed, removed) = ini_edit::section_changes(before, &edit.after);
    match global.format {
        crate::cli::Format::Json => super::print_json(&format!(
            "{}\n",
            crate::report::drift::json(shown, true, &added, &changed, &removed)
        ))?,
        _ => {
            print_coloured(
                &change.preview(use_color(global.color)),
                use_color(global.color),
            )?;
            crate::say!(
                "{shown} differs from what regen-config would write: {} added, {} changed, {} removed (--check: nothing written)",
                crate::time::count_of(added.len(), "section", "sections"),
                changed.len(),
                removed.len()
            );
        }
    }
    Ok(Exit::Findings)
}

/// How the portal is listed.
struct Listing {
    timeout: Duration,
    quiet: bool,
    /// Portal calls at once.
    jobs: usize,
    /// Portal calls per second, shared by all jobs.
    rate: u32,
    /// List roles only for these account ids (the project's); `None`: every account.
    roles_for: Option<Vec<String>>,
}

/// Every account and, for each in scope, every role (all pages), within a client-side rate
/// limit shared by all workers, retrying throttled and failing calls with jittered back-off;
/// a progress bar with an ETA on a terminal.
fn list_portal(
    token: &crate::read::sso_portal::LeverageToken,
    region: &str,
    how: &Listing,
) -> anyhow::Result<Vec<PortalAccount>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let limit = std::sync::Arc::new(RateLimit::new(how.rate));
        let portal = Portal::new(token, region, how.timeout, limit.clone()).await;
        let accounts = portal.accounts().await.context("SSO ListAccounts")?;
        let in_scope = |a: &PortalAccount| {
            values::account_id(&a.id).is_ok()
                && how.roles_for.as_ref().is_none_or(|ids| ids.contains(&a.id))
        };
        let to_list = accounts.iter().filter(|a| in_scope(a)).count();
        if !how.quiet && to_list > 40 {
            crate::say!(
                "listing the roles of {to_list} accounts (at most {} calls a second) …",
                how.rate
            );
        }
        let bar = (!how.quiet && !super::in_ci() && std::io::stderr().is_terminal() && to_list > 5)
            .then(|| {
                let bar = indicatif::ProgressBar::new(to_list as u64);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} accounts, {per_sec}, ETA {eta}",
                ) {
                    bar.set_style(style);
                }
                bar
            });
        let portal = &portal;
        let bar_ref = &bar;
        let results: Vec<Result<PortalAccount, anyhow::Error>> = futures::stream::iter(accounts)
            .map(|mut account| async move {
                // An id that is not an id is never sent back to the server (the layout skips
                // the account and says so); accounts out of scope are not listed at all.
                if !in_scope(&account) {
                    return Ok(account);
                }
                account.roles = portal
                    .roles(&account.id)
                    .await
                    .with_context(|| format!("SSO ListAccountRoles for {}", account.id))?;
                if let Some(b) = bar_ref {
                    b.inc(1);
                }
                Ok(account)
            })
            .buffered(how.jobs.max(1))
            .collect()
            .await;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        if limit.retried() > 0 && !how.quiet {
            crate::say!(
                "note: {}",
                crate::time::count_of(
                    limit.retried(),
                    "portal call was throttled or failed and was retried",
                    "portal calls were throttled or failed and were retried"
                )
            );
        }
        results.into_iter().collect()
    })
}
