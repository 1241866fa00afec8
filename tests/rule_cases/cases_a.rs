//! Fires/silent pairs (see tests/rule_cases.rs).

#[allow(unused_imports)]
use super::Edit::*;
use super::RuleCase;

pub const CASES: &[RuleCase] = &[];
