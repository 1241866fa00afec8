//! One integration-test binary (like ripgrep's): modules share the harness in `support`.

mod bad_input;
mod ci;
mod cli;
mod corpus;
mod failures;
mod fixes;
mod fixtures;
mod generations;
mod hostile;
mod layers;
mod live;
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
