//! `completions SHELL` and `man`: generated from the clap definitions, never kept by hand.

use super::{Exit, print};
use crate::cli::Cli;
use clap::CommandFactory;

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<Exit> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "leverage-doctor", &mut out);
    print(&String::from_utf8_lossy(&out))?;
    Ok(Exit::Clean)
}

pub fn man() -> anyhow::Result<Exit> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    print(&String::from_utf8_lossy(&out))?;
    Ok(Exit::Clean)
}
