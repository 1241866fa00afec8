//! Which generation a project runs, from the signals `read/` gathers.

use super::Generation;

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
        "assumed: the project names no TF_BINARY, image tag or pinned version",
    )
}
