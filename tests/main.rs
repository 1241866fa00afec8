//! One integration-test binary (like ripgrep's): modules share the harness in `support`.

mod bad_input;
mod ci;
mod cli;
mod fixtures;
mod live;
mod regen;
mod rule_pages;
mod sso;
mod support;
