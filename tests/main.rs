//! One integration-test binary (like ripgrep's): modules share the harness in `support`.

mod bad_input;
mod ci;
mod cli;
mod corpus;
mod explain;
mod failures;
mod fixes;
mod fixtures;
mod generations;
mod hostile;
mod human_snapshots;
mod layers;
mod live;
mod man;
mod oracle;
mod properties;
mod regen;
mod regen_scale;
mod rule_cases;
mod rule_pages;
mod secrets;
mod sso;
mod sso_browser;
mod status;
mod support;
mod writes;
