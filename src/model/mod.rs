//! Plain data gathered by `read`, checked by `rules`, rendered by `report`.

pub mod aws;
pub mod config;
pub mod credentials;
pub mod endpoints;
pub mod live;
pub mod project;
pub mod sign_in;
pub mod token_live;

use crate::source::Sources;
use chrono::{DateTime, Utc};
use std::path::PathBuf;

/// An environment variable that changes which credentials the tools use.
#[derive(Debug, Clone)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
    /// For variables naming a file (`AWS_CA_BUNDLE`): the file is not there.
    pub file_missing: bool,
}

/// The profiles of the user's own AWS config, or why it could not be read.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// `~/.aws/config`, as shown.
    pub shown: String,
    pub profiles: Result<Vec<String>, String>,
}

/// Everything one run knows.
#[derive(Debug)]
pub struct Model {
    pub sources: Sources,
    /// The folder the user asked about.
    pub start: PathBuf,
    /// The start folder as a place findings can point at.
    pub start_file: crate::source::FileId,
    /// `None` when no Leverage project encloses `start` (LD001).
    pub project: Option<project::Project>,
    /// With no project: the nearest folder at or above `start` that has one of `build.env`
    /// and `config/` but not the other (as shown, and what it lacks), for LD001 to name.
    pub half_root: Option<(String, &'static str)>,
    /// `None` when the project has no name to find its AWS folder by.
    pub aws: Option<aws::AwsFiles>,
    pub env: Vec<EnvVar>,
    pub now: DateTime<Utc>,
    /// The local clock's offset from UTC, in seconds (3.x checks the SSO token in local time).
    pub local_utc_offset_s: i32,
    /// The user's own AWS config (`AWS_CONFIG_FILE`, else `~/.aws/config`), read only when
    /// `AWS_PROFILE` or `AWS_DEFAULT_PROFILE` is set: 3.x builds its SSO client from it.
    pub host_config: Option<HostConfig>,
    /// What the environment and the home folder hold for non-AWS credentials.
    pub credentials: credentials::CredentialEnv,
    /// Whether a run started here could answer a prompt (stdin is a terminal and not in CI):
    /// the MFA step's code prompt aborts the run otherwise.
    pub interactive: bool,
    /// Live probe results; empty with `--offline`.
    pub live: Vec<live::LiveResult>,
    /// Live checks of the other providers' tokens; empty with `--offline`.
    pub token_live: Vec<token_live::TokenCheck>,
    /// The team's `.leverage-doctor.toml` (empty when there is none).
    pub config: config::DoctorConfig,
    /// The Leverage CLI generation the project runs, and why it is assumed.
    pub leverage: crate::leverage::Detected,
    /// This check follows a `regen-config` that just wrote the config: what is still wrong is
    /// what regen cannot write.
    pub after_regen: bool,
}

impl Model {
    /// What the project's Leverage CLI does (ask it; never compare versions).
    pub fn cli(&self) -> crate::leverage::LeverageCli {
        crate::leverage::LeverageCli::new(self.leverage.generation)
    }
}

impl Model {
    pub fn env(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.value.as_str())
    }
}
