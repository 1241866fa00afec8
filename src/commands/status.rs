//! `status`: every credential session of the project with its expiry; `--min-remaining` makes
//! it the gate a pipeline runs before a long apply.

use super::{Exit, print_coloured, use_color};
use crate::cli::{Format, Global, StatusArgs};
use crate::read;
use crate::session_list::{self, Session};

pub fn run(args: &StatusArgs, global: &Global) -> anyhow::Result<Exit> {
    let model = read::load(&super::read_settings(args.path.as_ref(), global))?;
    let (project, aws) = super::project_and_aws(&model)?;
    let analysis = crate::analysis::Analysis::new(&model);
    let mut list = session_list::sessions(&model, &analysis);
    if args.live {
        let plans = crate::rules::token_plan(&crate::rules::Context::new(&model, &analysis));
        let checks = read::token_live::check_all(
            plans,
            std::time::Duration::from_secs(args.timeout),
            model.now,
        );
        list.extend(session_list::provider_tokens(&checks));
    }
    let now = model.now;
    let token_store = session_list::token_store(&model);
    let failing: Vec<&Session> = match args.min_remaining {
        Some(min) => session_list::short_of(&list, min, now),
        None => Vec::new(),
    };
    let text = match global.format {
        Format::Json => crate::report::status::json(
            &list,
            project.name(),
            &aws.dir_display,
            token_store.as_deref(),
            now,
        ),
        _ => crate::report::status::human(
            &list,
            now,
            use_color(global.color),
            args.min_remaining,
            super::terminal_width(),
            token_store.as_deref(),
        ),
    };
    match global.format {
        Format::Json => super::print_json(&text)?,
        _ => print_coloured(&text, use_color(global.color))?,
    }
    if let Some(min) = args.min_remaining {
        for s in &failing {
            crate::say!(
                "{}; --min-remaining asks for {}",
                s.shortfall(now),
                crate::time::human_duration(crate::time::seconds(min))
            );
        }
        return Ok(if failing.is_empty() {
            Exit::Clean
        } else {
            Exit::Findings
        });
    }
    Ok(Exit::Clean)
}
