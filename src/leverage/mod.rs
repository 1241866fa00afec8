//! What each Leverage CLI generation does with credentials: the one place that knows it.
//!
//! Rules, live probes and the repair commands ask a `LeverageCli` about capabilities (`writes_credentials_for`,
//! `mfa_section`, `mfa_runs` …), never compare versions themselves (as clippy's msrv helpers).
//! Pure: `read/` gathers the signals, `detect` decides the generation. Facts from
//! shared/spec/LEVERAGE.md and the released packages (leverage 3.1.0 `modules/auth.py`,
//! `path.py`; 2.1.1 `modules/auth.py`; the 1.x toolbox scripts).

mod detect;
mod files;
mod names;
mod run;

pub use detect::{Detected, Signals, detect, files_tell};
pub use files::{
    DEFAULT_TF_BINARY, MFA_CACHE_DIR, REFRESH_MARGIN_MINUTES, TOKEN_FILE, TOKEN_FILE_NAME,
    mfa_cache_dir, mfa_cache_path, sso_cache_dir, token_path,
};
pub use names::{
    MFA_SECTION_SUFFIX, RefKind, accepts_yaml_short_name, account_of_profile, cli_account_of,
    is_role_credentials_name, is_sso_profile_name, sso_account_prefix, sso_account_section_keys,
    sso_base_profile,
};

/// A generation of the Leverage CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Generation {
    /// 1.6–1.11 (2022–2023): the Docker toolbox's shell scripts do SSO and MFA.
    V1,
    /// 1.12–2.1.x (2024–2025): the toolbox runs Terraform; the CLI's Python refreshes credentials.
    V2,
    /// 3.0 → (2025-10 →): Terraform on the host (`TF_BINARY`), no Docker.
    V3,
}

impl Generation {
    pub fn as_str(self) -> &'static str {
        match self {
            Generation::V1 => "1",
            Generation::V2 => "2",
            Generation::V3 => "3",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Generation::V1 => "1.6–1.11 (toolbox scripts)",
            Generation::V2 => "1.12–2.x (Docker toolbox)",
            Generation::V3 => "3.x (host-native)",
        }
    }

    /// The generation of a version string (`3.1.0`, `2.1.1`, `1.9`); None when unreadable.
    pub fn of_version(version: &str) -> Option<Generation> {
        let v = version
            .trim()
            .trim_start_matches(['v', '=', '~', '^', '>', '<', ' ']);
        let mut parts = v.split(['.', '-', ' ']);
        let major: u32 = parts.next()?.parse().ok()?;
        let minor: u32 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
        match (major, minor) {
            (0, _) => None,
            (1, m) if m < 12 => Some(Generation::V1),
            (1, _) | (2, _) => Some(Generation::V2),
            _ => Some(Generation::V3),
        }
    }
}

/// The capabilities of one generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeverageCli {
    pub generation: Generation,
}

impl LeverageCli {
    pub fn new(generation: Generation) -> LeverageCli {
        LeverageCli { generation }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_map_to_generations() {
        assert_eq!(Generation::of_version("3.1.0"), Some(Generation::V3));
        assert_eq!(Generation::of_version("2.1.1"), Some(Generation::V2));
        assert_eq!(Generation::of_version("1.12.0"), Some(Generation::V2));
        assert_eq!(Generation::of_version("1.9.2"), Some(Generation::V1));
        assert_eq!(Generation::of_version("==3.0"), Some(Generation::V3));
        assert_eq!(Generation::of_version("x"), None);
    }

    #[test]
    fn detection_order() {
        let mut s = Signals {
            image_tag: true,
            ..Default::default()
        };
        assert_eq!(detect(&s).generation, Generation::V2);
        s.tf_binary = true;
        assert_eq!(detect(&s).generation, Generation::V3);
        s.pin = Some(("pyproject.toml".into(), "2.1.1".into()));
        assert_eq!(detect(&s).source, "pyproject.toml");
        s.on_path = Some("1.9.0".into());
        assert_eq!(detect(&s).generation, Generation::V1);
        s.setting = Some(("3.1".into(), "--leverage-version".into()));
        assert_eq!(detect(&s).generation, Generation::V3);
        assert_eq!(detect(&Signals::default()).generation, Generation::V2);
    }

    #[test]
    fn capabilities() {
        let v2 = LeverageCli::new(Generation::V2);
        let v3 = LeverageCli::new(Generation::V3);
        assert_eq!(
            v2.sso_credentials_name(
                RefKind::VarProfile,
                "bb-apps-prd-devops",
                "bb",
                "apps-prd",
                "DevOpsPrd"
            ),
            "bb-apps-prd-devops"
        );
        assert_eq!(
            v3.sso_credentials_name(
                RefKind::VarProfile,
                "bb-apps-prd-devops",
                "bb",
                "apps-prd",
                "DevOpsPrd"
            ),
            "bb-apps-prd-devopsprd"
        );
        assert!(v3.mfa_runs(false, Some("false")) && v3.mfa_runs(false, None));
        assert!(!v3.mfa_runs(false, Some("")) && !v3.mfa_runs(true, Some("true")));
        assert!(!v2.mfa_runs(false, Some("false")) && v2.mfa_runs(false, Some("true")));
        assert_eq!(v3.mfa_section("bb-shared-devops"), "bb-shared-devops-mfa");
        assert_eq!(cli_account_of("bb-apps-devstg-devops"), "apps-devstg");
        assert_eq!(cli_account_of("other-shared-devops"), "shared");
        assert_eq!(cli_account_of("bb-bootstrap"), "");
        assert_eq!(
            LeverageCli::new(Generation::V1).sso_account_section("bb", "shared", Some("DevOps")),
            "bb-sso-shared-DevOps"
        );
    }
}
