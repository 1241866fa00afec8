//! leverage-doctor: finds and fixes AWS-credential problems in Leverage Terraform projects.
//!
//! read (the only I/O) → model (plain data) → rules (pure checks) → report (rendering),
//! wired by one file per command.

/// `eprintln!` for everything the tool says on stderr: scrubbed of secrets at the sink.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::secrets::say(&format!($($arg)*))
    };
}

pub mod analysis;
pub mod cli;
pub mod commands;
pub mod diagnostic;
pub mod fix;
pub mod ini;
pub mod keep_alive;
pub mod leverage;
pub mod model;
pub mod read;
pub mod report;
pub mod rules;
pub mod secrets;
pub mod session_list;
pub mod source;
pub mod time;
pub mod values;
pub mod write;
