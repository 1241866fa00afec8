//! What each Leverage CLI generation does with credentials: the one place that knows it.
//!
//! Rules, live probes and the repair commands ask a `Cli` about capabilities (`writes_credentials_for`,
//! `mfa_section`, `mfa_runs` …), never compare versions themselves (as clippy's msrv helpers).
//! Pure: `read/` gathers the signals, `detect` decides the generation. Facts from
//! shared/spec/LEVERAGE.md and the released packages (leverage 3.1.0 `modules/auth.py`,
//! `path.py`; 2.1.1 `modules/auth.py`; the 1.x toolbox scripts).

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

/// What the project says about the CLI it runs, gathered by `read/`.
#[derive(Debug, Clone, Default)]
pub struct Signals {
    /// `--leverage-version` or the settings file's `leverage-version`.
    pub setting: Option<(String, String)>,
    /// `leverage --version` of the `leverage` on PATH (asked only when the files tell nothing).
    pub on_path: Option<String>,
    /// A pin in pyproject.toml, requirements*.txt, uv.lock or .tool-versions: (file, version).
    pub pin: Option<(String, String)>,
    /// build.env `TF_BINARY` is set (3.x runs Terraform on the host).
    pub tf_binary: bool,
    /// build.env `TERRAFORM_IMAGE_TAG`/`TF_IMAGE_TAG` is set (≤ 2.x runs the Docker toolbox).
    pub image_tag: bool,
    /// The AWS config has `[profile X-mfa]` sections (3.x IAM layout).
    pub mfa_sections: bool,
    /// The AWS config has `[profile <p>-sso-<acct>-<Role>]` sections (1.6–1.11 layout).
    pub v1_sso_sections: bool,
}

/// The generation assumed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub version: Option<String>,
    pub generation: Generation,
    /// Where it came from: `--leverage-version`, `leverage --version`, `pyproject.toml`, …
    pub source: String,
}

/// Whether the project's own files tell the generation (then `leverage --version` is not run).
pub fn files_tell(s: &Signals) -> bool {
    s.setting.is_some()
        || s.pin.is_some()
        || s.tf_binary
        || s.image_tag
        || s.mfa_sections
        || s.v1_sso_sections
}

/// The generation, in order: the setting, the `leverage` on PATH, the project's pins,
/// build.env, the shape of the AWS config; else 2.x (a build.env with neither `TF_BINARY` nor
/// an image tag runs under no generation; 2.x keeps the checks every generation shares).
pub fn detect(s: &Signals) -> Detected {
    let from_version = |version: &str, source: &str| {
        Generation::of_version(version).map(|generation| Detected {
            version: Some(version.trim().to_string()),
            generation,
            source: source.to_string(),
        })
    };
    if let Some((version, source)) = &s.setting
        && let Some(d) = from_version(version, source)
    {
        return d;
    }
    if let Some(version) = &s.on_path
        && let Some(d) = from_version(version, "leverage --version")
    {
        return d;
    }
    if let Some((file, version)) = &s.pin
        && let Some(d) = from_version(version, file)
    {
        return d;
    }
    let by = |generation, source: &str| Detected {
        version: None,
        generation,
        source: source.to_string(),
    };
    if s.tf_binary {
        return by(Generation::V3, "build.env TF_BINARY");
    }
    if s.mfa_sections {
        return by(Generation::V3, "`-mfa` sections in the AWS config");
    }
    if s.v1_sso_sections {
        return by(
            Generation::V1,
            "`<p>-sso-<account>-<Role>` sections in the AWS config",
        );
    }
    if s.image_tag {
        return by(Generation::V2, "build.env TERRAFORM_IMAGE_TAG");
    }
    by(
        Generation::V2,
        "nothing tells (no TF_BINARY, no image tag, no pin)",
    )
}

/// How a profile is referenced in a layer (what the CLI substitutes and how it names the result).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// `profile = var.profile` (or the backend's `profile`).
    VarProfile,
    /// Anything else: a literal or `"${var.project}-…"`.
    Named,
}

/// The capabilities of one generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cli {
    pub generation: Generation,
}

/// The account a profile designates, as every generation's CLI works it out: the text between
/// the first and the last `-`, whatever the prefix (`bb-apps-devstg-devops` → `apps-devstg`,
/// `other-shared-devops` → `shared`, `bb-bootstrap` → ``).
pub fn cli_account_of(profile: &str) -> &str {
    match (profile.find('-'), profile.rfind('-')) {
        (Some(first), Some(last)) if first < last => &profile[first + 1..last],
        _ => "",
    }
}

/// The account a profile name designates, as the Leverage CLI works it out: the text between
/// `<project>-` and the last `-` (`bb-apps-devstg-devops` → `apps-devstg`), or what follows
/// `<project>-sso-` for Leverage's SSO account profiles.
pub fn account_of_profile<'a>(project: &str, profile: &'a str) -> Option<&'a str> {
    let rest = profile.strip_prefix(project)?.strip_prefix('-')?;
    if let Some(account) = rest.strip_prefix("sso-") {
        return Some(account);
    }
    let (account, _role) = rest.rsplit_once('-')?;
    (!account.is_empty()).then_some(account)
}

/// `[profile <p>-sso]`: the base SSO profile Leverage logs in with.
pub fn sso_base_profile(project: &str) -> String {
    format!("{project}-sso")
}

/// `<p>-sso…`: Leverage's own SSO profiles (the base and the account profiles).
pub fn is_sso_profile_name(project: &str, profile: &str) -> bool {
    profile.starts_with(&sso_base_profile(project))
}

/// `<p>-<account>-<role>`: a name Leverage writes role credentials under (SSO, or 3.x MFA),
/// not one of its SSO profiles.
pub fn is_role_credentials_name(project: &str, profile: &str) -> bool {
    account_of_profile(project, profile).is_some() && !is_sso_profile_name(project, profile)
}

impl Cli {
    pub fn new(generation: Generation) -> Cli {
        Cli { generation }
    }

    /// Layer files the CLI reads `profile` keys from.
    pub fn layer_files(self) -> &'static [&'static str] {
        match self.generation {
            Generation::V3 => &["config.tf", "locals.tf", "runtime.tf"],
            _ => &["config.tf", "locals.tf"],
        }
    }

    /// The header text the CLI looks a config profile up by (`profile <name>`).
    pub fn section_header(self, profile: &str) -> String {
        format!("profile {profile}")
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

    /// Whether the CLI looks for `profile` in a layer file of this name.
    pub fn scans(self, file_name: &str) -> bool {
        self.layer_files().contains(&file_name)
    }

    /// Only `${var.profile}` and `${var.project}` are substituted (1.12 →): any other variable in
    /// a profile makes the CLI stop (exit 40), although Terraform alone would resolve it.
    pub fn substitutes_only_profile_and_project(self) -> bool {
        self.generation >= Generation::V2
    }

    /// `[profile <p>-sso-<account>]` (1.12 →) or `[profile <p>-sso-<account>-<Role>]` (1.6–1.11).
    pub fn sso_account_section(self, project: &str, account: &str, role: Option<&str>) -> String {
        match (self.generation, role) {
            (Generation::V1, Some(role)) => format!("{project}-sso-{account}-{role}"),
            _ => format!("{project}-sso-{account}"),
        }
    }

    /// Whether a config profile is the SSO account profile the CLI reads for `account`:
    /// `<p>-sso-<account>` (1.12 →), `<p>-sso-<account>-<Role>` (1.6–1.11).
    pub fn is_sso_account_section(self, project: &str, account: &str, profile: &str) -> bool {
        let base = format!("{project}-sso-{account}");
        match self.generation {
            Generation::V1 => profile
                .strip_prefix(&base)
                .and_then(|r| r.strip_prefix('-'))
                .is_some_and(|role| !role.is_empty() && !role.contains('-')),
            _ => profile == base,
        }
    }

    /// The name SSO credentials are written under for a reference: 3.x writes every reference,
    /// `var.profile` and the backend included, as `<p>-<account>-<role lower-cased>` (its
    /// `var.profile` test never matches: leverage#326); 2.x keeps the backend's name for
    /// `var.profile`; 1.x writes the name the .tf uses.
    pub fn sso_credentials_name(
        self,
        kind: RefKind,
        resolved: &str,
        project: &str,
        account: &str,
        role: &str,
    ) -> String {
        match (self.generation, kind) {
            (Generation::V1, _) | (Generation::V2, RefKind::VarProfile) => resolved.to_string(),
            _ => format!("{project}-{account}-{}", role.to_lowercase()),
        }
    }

    /// Whether the CLI runs its MFA step: 3.x whenever SSO is off (`MFA_ENABLED` is read as a
    /// string and `"false"` is truthy; only an empty value is false); before, only `true`.
    pub fn mfa_runs(self, sso_enabled: bool, mfa_enabled: Option<&str>) -> bool {
        if sso_enabled {
            return false;
        }
        match self.generation {
            Generation::V3 => mfa_enabled != Some(""),
            _ => mfa_enabled == Some("true"),
        }
    }

    /// The config section the MFA step reads for a profile: `X-mfa` on 3.x, `X` before.
    pub fn mfa_section(self, profile: &str) -> String {
        match self.generation {
            Generation::V3 => format!("{profile}-mfa"),
            _ => profile.to_string(),
        }
    }

    /// The 1.x toolbox finds a layer's profiles with grep: `profile = …` lines inside comments
    /// count too.
    pub fn mfa_reads_commented_profiles(self) -> bool {
        self.generation == Generation::V1
    }

    /// 3.x caches MFA sessions as flat JSON (`{AccessKeyId, …, Expiration}`); before, the
    /// AssumeRole output (`{"Credentials": {…}}`).
    pub fn mfa_cache_is_flat(self) -> bool {
        self.generation == Generation::V3
    }

    /// 3.x runs Terraform on the host (`TF_BINARY`); before, the toolbox image
    /// (`TERRAFORM_IMAGE_TAG`).
    pub fn runs_terraform_on_host(self) -> bool {
        self.generation == Generation::V3
    }

    /// 3.x compares the token's `expiresAt` (UTC) with the local time.
    pub fn token_check_in_local_time(self) -> bool {
        self.generation == Generation::V3
    }

    /// The CLI's own authentication (1.12 →, Python) reads account.tfvars `sso_role` (its token
    /// check builds a path from it: TypeError when absent) and backend.tfvars `profile`
    /// (`get_profiles`: FileNotFoundError / KeyError when absent) without checking them: a run
    /// that authenticates crashes before Terraform (2.1.1 `container.py`, 3.1.0 `modules/auth.py`).
    /// `sso`: the run authenticates with SSO (else with the MFA step, which 2.x leaves to the
    /// toolbox's shell script).
    pub fn crashes_without_account_files(self, sso: bool) -> bool {
        match self.generation {
            Generation::V1 => false,
            Generation::V2 => sso,
            Generation::V3 => true,
        }
    }

    /// The build.env parser (`yaenv`, 1.12 →) refuses the whole file on a line it cannot read.
    pub fn strict_build_env(self) -> bool {
        self.generation >= Generation::V2
    }

    /// The IAM profile `regen-config --iam` writes for an account and role suffix: the section
    /// name Terraform reads and the section the CLI's MFA step reads (equal before 3.x).
    pub fn iam_section(self, profile: &str, mfa: bool) -> String {
        if mfa {
            self.mfa_section(profile)
        } else {
            profile.to_string()
        }
    }

    /// The keys of `[profile <p>-sso]` the CLI reads: 3.x only `sso_region` (for
    /// GetRoleCredentials); before, login and configure also need the start URL, account and role.
    pub fn sso_base_keys(self) -> &'static [&'static str] {
        match self.generation {
            Generation::V3 => &["sso_region"],
            _ => &[
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

    /// The lowest toolbox version the CLI accepts (2.1.1 `MINIMUM_VERSIONS`: toolbox 0.2.4,
    /// Terraform 1.3.5) and a tag that meets both, to suggest.
    pub fn toolbox_tags(self) -> Option<(&'static str, &'static str)> {
        match self.generation {
            Generation::V3 => None,
            Generation::V2 => Some(("0.2.4", "1.3.5-0.2.4")),
            Generation::V1 => Some(("0.0.0", "1.2.7-0.1.4")),
        }
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
        let v2 = Cli::new(Generation::V2);
        let v3 = Cli::new(Generation::V3);
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
            Cli::new(Generation::V1).sso_account_section("bb", "shared", Some("DevOps")),
            "bb-sso-shared-DevOps"
        );
    }
}
