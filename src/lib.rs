//! leverage-doctor: finds and fixes AWS-credential problems in Leverage Terraform projects.
//!
//! read (the only I/O) → model (plain data) → rules (pure checks) → report (rendering),
//! wired by one file per command.

pub mod cli;
pub mod commands;
pub mod diagnostic;
pub mod fix;
pub mod model;
pub mod read;
pub mod report;
pub mod rules;
pub mod source;
pub mod write;
