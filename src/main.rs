use clap::Parser;
use leverage_doctor::cli::{Cli, Command};
use leverage_doctor::commands::{self, Exit};
use std::process::ExitCode;

fn main() -> ExitCode {
    // A bug must still end as "could not run" (exit 2) with one line, not a Rust panic (101).
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        leverage_doctor::say!("leverage-doctor: internal error{at}: {info}; please report it");
        std::process::exit(2);
    }));
    // A proxy's or endpoint's password is masked in whatever text may carry it.
    leverage_doctor::read::endpoints::register_url_secrets();
    let cli = Cli::parse();
    let global = cli.command.global();
    let result = match &cli.command {
        Command::Check(args) => commands::check::run(args, &global),
        Command::RegenConfig(args) => commands::regen_config::run(args, &global),
        Command::SsoReset(args) => commands::sso_reset::run(args, &global),
        Command::SsoLogin(args) => commands::sso_login::run(args, &global),
        Command::Status(args) => commands::status::run(args, &global),
        Command::Refresh(args) => commands::refresh::run(args, &global),
        Command::Exec(args) => commands::exec::run(args, &global),
        Command::Env(args) => commands::env::run(args, &global),
        Command::CredentialProcess(args) => commands::credential_process::run(args, &global),
        Command::Completions { shell } => commands::completions::completions(*shell),
        Command::Man { command, out_dir } => {
            commands::completions::man(command.as_deref(), out_dir.as_deref())
        }
        Command::Explain { id, .. } => commands::explain::run(id.as_deref(), &global),
    };
    match result {
        Ok(Exit::Clean) => ExitCode::SUCCESS,
        Ok(Exit::Findings) => ExitCode::from(1),
        Ok(Exit::Code(c)) => ExitCode::from(c),
        Err(e) => {
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            leverage_doctor::say!("leverage-doctor: error: {}", chain.join(": "));
            ExitCode::from(2)
        }
    }
}
