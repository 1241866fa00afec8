//! The files the Leverage CLI reads and writes, and how it reads them: the layer files it scans
//! for profiles, the keys of its SSO sections, its MFA cache format, its build.env parser, its
//! config reader, and the margin within which cached credentials are renewed.

use super::{Generation, LeverageCli};
use std::path::{Path, PathBuf};

/// Cached role credentials (config `expiration`) and MFA sessions are reused while more than
/// this many minutes remain (3.1.0 and 2.1.1 `modules/auth.py`: `time.time() + 1800`).
pub const REFRESH_MARGIN_MINUTES: i64 = 30;

/// The binary `leverage tf` runs when build.env has no `TF_BINARY` (3.x: OpenTofu from PATH).
pub const DEFAULT_TF_BINARY: &str = "tofu";

/// The SSO token the CLI reads, in the project's AWS folder.
pub const TOKEN_FILE: &str = "sso/cache/token";

/// The token's file name in [`sso_cache_dir`].
pub const TOKEN_FILE_NAME: &str = "token";

/// The MFA session cache folder, in the project's AWS folder (`cache/<profile>`).
pub const MFA_CACHE_DIR: &str = "cache";

/// The folder of the SSO token (and the client registrations) in the project's AWS folder.
pub fn sso_cache_dir(aws_dir: &Path) -> PathBuf {
    aws_dir.join("sso").join("cache")
}

/// The SSO token the CLI reads.
pub fn token_path(aws_dir: &Path) -> PathBuf {
    sso_cache_dir(aws_dir).join(TOKEN_FILE_NAME)
}

/// The MFA folder of the project's AWS folder.
pub fn mfa_cache_dir(aws_dir: &Path) -> PathBuf {
    aws_dir.join(MFA_CACHE_DIR)
}

/// The cached MFA session of `profile`.
pub fn mfa_cache_path(aws_dir: &Path, profile: &str) -> PathBuf {
    mfa_cache_dir(aws_dir).join(profile)
}

impl LeverageCli {
    /// Layer files the CLI reads `profile` keys from.
    pub fn layer_files(self) -> &'static [&'static str] {
        match self.generation {
            Generation::V3 => &["config.tf", "locals.tf", "runtime.tf"],
            Generation::V1 | Generation::V2 => &["config.tf", "locals.tf"],
        }
    }

    /// Whether the CLI looks for `profile` in a layer file of this name.
    pub fn scans(self, file_name: &str) -> bool {
        self.layer_files().contains(&file_name)
    }

    /// The keys of `[profile <p>-sso]` the CLI reads: 3.x only `sso_region` (for
    /// GetRoleCredentials); before, login and configure also need the start URL, account and role.
    pub fn sso_base_keys(self) -> &'static [&'static str] {
        match self.generation {
            Generation::V3 => &["sso_region"],
            Generation::V1 | Generation::V2 => &[
                "sso_start_url",
                "sso_region",
                "sso_account_id",
                "sso_role_name",
            ],
        }
    }

    /// The keys of an SSO account profile (`<p>-sso-<account>`) the CLI reads: 1.12 → only
    /// `account_id` and `role_name` (`get_layer_profile`; the region comes from `[profile
    /// <p>-sso]`); the 1.6–1.11 toolbox hands `<p>-sso-<account>-<Role>` to the AWS CLI, which
    /// needs the four standard keys.
    pub fn sso_account_keys(self) -> &'static [&'static str] {
        match self.generation {
            Generation::V1 => &[
                "sso_start_url",
                "sso_region",
                "sso_account_id",
                "sso_role_name",
            ],
            Generation::V2 | Generation::V3 => &["account_id", "role_name"],
        }
    }

    /// 3.x caches MFA sessions as flat JSON (`{AccessKeyId, …, Expiration}`); before, the
    /// AssumeRole output (`{"Credentials": {…}}`).
    pub fn mfa_cache_is_flat(self) -> bool {
        match self.generation {
            Generation::V1 => false,
            Generation::V2 => false,
            Generation::V3 => true,
        }
    }

    /// The build.env parser (`yaenv`, 1.12 →) refuses the whole file on a line it cannot read.
    pub fn strict_build_env(self) -> bool {
        match self.generation {
            Generation::V1 => false,
            Generation::V2 | Generation::V3 => true,
        }
    }

    /// 1.12 → reads the AWS config with ConfigUpdater, which finds a section only by its exact
    /// header text (`[profile  x]`, two blanks, is not `[profile x]`); the 1.x toolbox hands
    /// profiles to the AWS CLI, which forgives blanks.
    pub fn looks_up_sections_exactly(self) -> bool {
        match self.generation {
            Generation::V1 => false,
            Generation::V2 | Generation::V3 => true,
        }
    }
}
