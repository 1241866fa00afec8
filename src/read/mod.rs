//! The only code that touches files, the environment or the network.

pub mod aws;
pub mod browser_login;
pub mod buildenv;
pub mod doctor_config;
pub mod endpoints;
pub mod failure;
pub mod fs;
pub use fs::{display_home, home_dir};
pub mod hcl;
pub mod http;
pub mod kubeconfig;
pub mod leverage;
pub mod live;
pub mod project;
pub mod secret_store;
pub mod sso_oidc;
pub mod sso_portal;
pub mod tf_json;
pub mod token_live;

use crate::model::{EnvVar, Model};
use crate::source::Sources;
use std::path::{Path, PathBuf};

/// Environment variables that change which credentials or endpoints the tools use.
const ENV_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_SSO",
    "AWS_ENDPOINT_URL_SSO_OIDC",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CA_BUNDLE",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "AWS_USE_FIPS_ENDPOINT",
];

/// What a run reads, decided from the command line.
#[derive(Debug, Clone)]
pub struct ReadSettings {
    pub path: PathBuf,
    pub aws_dir: Option<PathBuf>,
    pub all: bool,
    /// `--config FILE` (default: `.leverage-doctor.toml` at the project root, if any).
    pub config: Option<PathBuf>,
    /// `--leverage-version`.
    pub leverage_version: Option<String>,
    /// Which programs the read may start. A checkout is untrusted input: offline runs and
    /// every writing or status command start none.
    pub programs: Programs,
}

/// Programs a read may start to learn a fact the files do not tell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Programs {
    /// None at all (offline, status, regen-config, sso-reset, …).
    #[default]
    None,
    /// `leverage --version` and `TF_BINARY --version`, each only when it lies outside the
    /// project (a program the checkout ships is never started).
    OutsideProject,
    /// Also a `TF_BINARY` inside the project (`--trust-tf-binary`: the user vouches for it).
    TrustProjectBinary,
}

/// Why the doctor could not run at all (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {reason}")]
    Path { path: String, reason: String },
}

pub struct Reader {
    pub sources: Sources,
    pub root: PathBuf,
    home: Option<PathBuf>,
}

impl Reader {
    /// `~/…` for paths in HOME, relative to the root inside the project, else as given.
    pub fn display_path(&self, path: &Path) -> String {
        if let Ok(rel) = path.strip_prefix(&self.root)
            && !self.root.as_os_str().is_empty()
        {
            return rel.to_string_lossy().replace('\\', "/");
        }
        if let Some(home) = &self.home
            && let Ok(rel) = path.strip_prefix(home)
        {
            return format!("~/{}", rel.to_string_lossy().replace('\\', "/"));
        }
        path.display().to_string()
    }
}

/// The user's own AWS config, when a profile variable makes it matter (see `Model`).
fn host_config() -> Option<crate::model::HostConfig> {
    let set = |v: &str| std::env::var(v).is_ok_and(|x| !x.is_empty());
    if !set("AWS_PROFILE") && !set("AWS_DEFAULT_PROFILE") {
        return None;
    }
    let path = std::env::var_os("AWS_CONFIG_FILE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| home_dir().map(|h| h.join(".aws").join("config")))?;
    let profiles = match fs::read_text(&path) {
        Ok(t) => {
            let (ini, _) = crate::ini::parse(
                &t.text,
                crate::source::FileId::DETACHED,
                crate::model::aws::IniKind::Config,
            );
            Ok(ini
                .sections
                .iter()
                .filter_map(|s| match &s.name {
                    crate::model::aws::SectionName::Default => Some("default".to_string()),
                    other => other.profile_name().map(str::to_string),
                })
                .collect())
        }
        Err(why) => Err(why),
    };
    Some(crate::model::HostConfig {
        shown: display_home(&path),
        profiles,
    })
}

/// One known_hosts line's host patterns (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): `@revoked`
/// lines, comments and lines that do not parse give none.
fn known_host_line(line: &str) -> Option<crate::model::credentials::KnownHost> {
    use crate::model::credentials::KnownHost;
    use base64::Engine;
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = line.split_whitespace();
    let mut hosts = fields.next()?;
    if hosts.starts_with('@') {
        if hosts == "@revoked" {
            return None;
        }
        hosts = fields.next()?;
    }
    if let Some(rest) = hosts.strip_prefix("|1|") {
        let (salt, hash) = rest.split_once('|')?;
        let b64 = base64::engine::general_purpose::STANDARD;
        return Some(KnownHost::Hashed {
            salt: b64.decode(salt).ok()?,
            hash: b64.decode(hash).ok()?,
        });
    }
    Some(KnownHost::Plain(
        hosts.split(',').map(str::to_string).collect(),
    ))
}

/// The URL prefixes a git config sets a `credential.helper` for (`""`: every URL), from
/// `[credential]` and `[credential "<url>"]` sections (git-config(1), gitcredentials(7)).
fn git_credential_helpers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut section: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            let header = header.split(']').next().unwrap_or("").trim();
            let (name, sub) = match header.split_once(char::is_whitespace) {
                Some((n, rest)) => (n, Some(rest.trim().trim_matches('"').to_string())),
                None => (header, None),
            };
            section = name
                .eq_ignore_ascii_case("credential")
                .then(|| sub.unwrap_or_default());
            continue;
        }
        let Some(url) = &section else { continue };
        if let Some((key, value)) = line.split_once('=')
            && key.trim().eq_ignore_ascii_case("helper")
            && !value.trim().is_empty()
        {
            out.push(url.clone());
        }
    }
    out
}

/// What the environment and the home folder hold for non-AWS credentials: the variables each
/// provider documents (token values registered as secrets), `TF_VAR_*` names, the documented
/// credential files, and whether git over SSH has an agent or a key. The files git and ssh
/// read (keys, known_hosts, gitconfig, netrc) only when a layer fetches a module with git.
fn credential_env(
    home: Option<&Path>,
    git_sources: bool,
) -> crate::model::credentials::CredentialEnv {
    use crate::model::credentials::{
        CREDENTIAL_ENV_VARS, CredEnvVar, CredentialEnv, HOME_FILES, HomeFile, SECRET_ENV_VARS,
        VAULT_TOKEN_FILE,
    };
    let mut out = CredentialEnv::default();
    for name in CREDENTIAL_ENV_VARS {
        let Some(value) = std::env::var_os(name) else {
            continue;
        };
        let value = value.to_string_lossy().into_owned();
        if value.is_empty() {
            continue;
        }
        if SECRET_ENV_VARS.contains(name) {
            crate::secrets::register(&value);
        }
        out.vars.push(CredEnvVar {
            name: name.to_string(),
            value,
        });
    }
    for (name, value) in std::env::vars_os() {
        let (Some(name), false) = (name.to_str(), value.is_empty()) else {
            continue;
        };
        if let Some(var) = name.strip_prefix("TF_VAR_") {
            // Terraform gives these to the variable of that name; the ones a provider takes
            // a credential from are registered as secrets once the layers are read
            // (`register_credential_tf_vars`): the others (regions, names) stay shown.
            out.tf_vars
                .insert(var.to_string(), value.to_string_lossy().into_owned());
        }
    }
    if let Some(home) = home {
        for shown in HOME_FILES {
            let path = home.join(shown.trim_start_matches("~/"));
            if !path.is_file() {
                continue;
            }
            // `~/.vault-token` holds the token alone (the Vault CLI's token helper writes it).
            let token = (*shown == VAULT_TOKEN_FILE)
                .then(|| fs::read_text(&path).ok())
                .flatten()
                .map(|t| {
                    crate::secrets::register(&t.text);
                    t.text
                });
            out.home_files.push(HomeFile { shown, token });
        }
    }
    if let Some(home) = home.filter(|_| git_sources) {
        // OpenSSH's default identities (ssh(1) `-i`).
        for key in [
            "id_rsa",
            "id_ecdsa",
            "id_ecdsa_sk",
            "id_ed25519",
            "id_ed25519_sk",
            "id_dsa",
        ] {
            if home.join(".ssh").join(key).is_file() {
                out.ssh_keys.push(format!("~/.ssh/{key}"));
            }
        }
        let ssh_config = fs::read_text(&home.join(".ssh").join("config"))
            .map(|t| t.text)
            .unwrap_or_default();
        out.ssh_config_identity = ssh_config.lines().any(|l| {
            l.trim_start()
                .to_ascii_lowercase()
                .starts_with("identityfile")
        });
        // Anywhere in the file (a `Host` block's too): then ssh may not stop on a new host.
        out.host_key_checking_off = ssh_config.lines().any(|l| {
            let l = l.trim().to_ascii_lowercase();
            l.strip_prefix("stricthostkeychecking")
                .map(|v| v.trim_start_matches([' ', '\t', '=']).trim())
                .is_some_and(|v| matches!(v, "no" | "off" | "accept-new"))
        });
        // ssh(1) reads the user's file and the system one; both are the user's machine's own
        // (fixed paths, never one a checkout names), read bounded.
        let mut known = None;
        for path in [
            home.join(".ssh").join("known_hosts"),
            PathBuf::from("/etc/ssh/ssh_known_hosts"),
        ] {
            if let Ok(t) = fs::read_text(&path) {
                known
                    .get_or_insert_with(Vec::new)
                    .extend(t.text.lines().filter_map(known_host_line));
            }
        }
        out.known_hosts = known;
        for path in [
            home.join(".gitconfig"),
            home.join(".config").join("git").join("config"),
        ] {
            if let Ok(t) = fs::read_text(&path) {
                out.git_credential_helpers
                    .extend(git_credential_helpers(&t.text));
            }
        }
        if let Ok(t) = fs::read_text(&home.join(".netrc")) {
            // Machine names only: logins and passwords are never kept.
            let mut words = t.text.split_whitespace();
            while let Some(w) = words.next() {
                match w {
                    "machine" => out.netrc_machines.extend(words.next().map(str::to_string)),
                    "default" => out.netrc_machines.push("default".into()),
                    _ => {}
                }
            }
        }
    }
    if std::env::var("GIT_SSH_COMMAND").is_ok_and(|c| {
        let c = c.to_ascii_lowercase();
        c.contains("stricthostkeychecking=no") || c.contains("stricthostkeychecking=accept-new")
    }) {
        out.host_key_checking_off = true;
    }
    out.ssh_agent = std::env::var_os("SSH_AUTH_SOCK")
        .filter(|s| !s.is_empty())
        .is_some_and(|s| {
            #[cfg(unix)]
            {
                use std::os::unix::fs::FileTypeExt;
                std::fs::metadata(&s).is_ok_and(|m| m.file_type().is_socket())
            }
            #[cfg(not(unix))]
            {
                std::path::Path::new(&s).exists()
            }
        });
    out
}

/// Registers as secrets the `TF_VAR_<name>` values of the variables a provider block of the
/// project takes a credential (not a file path) from.
fn register_credential_tf_vars(
    project: &crate::model::project::Project,
    env: &crate::model::credentials::CredentialEnv,
) {
    use crate::model::credentials::{AttrValue, PATH_ATTRS};
    for need in project.layers.iter().flat_map(|l| &l.credentials) {
        if let Some(attr) = &need.attr
            && !PATH_ATTRS.contains(&attr.name.as_str())
            && let AttrValue::Var(v) = &attr.value
            && let Some(value) = env.tf_vars.get(&v.name)
        {
            crate::secrets::register(value);
        }
    }
}

/// Whether a prompt could be answered here: stdin is a terminal and `CI` is not set.
pub fn interactive() -> bool {
    use std::io::IsTerminal;
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    !ci && std::io::stdin().is_terminal()
}

/// The project's AWS `config` and `credentials` files and nothing else (no layer, no account
/// folder, no token): what `credential-process` needs when the role's cached credentials are
/// fresh. `None` when there is no project or no valid project name to find the folder by.
pub fn load_aws_ini_files(
    settings: &ReadSettings,
) -> Result<Option<crate::model::aws::AwsFiles>, ReadError> {
    let start = start_folder(&settings.path)?;
    endpoints::register_url_secrets();
    let Some(root) = project::find_root(&start) else {
        return Ok(None);
    };
    let home = home_dir();
    let mut reader = Reader {
        sources: Sources::default(),
        root: root.clone(),
        home: home.clone(),
    };
    let dir = match (&settings.aws_dir, home) {
        (Some(dir), _) => dir.clone(),
        (None, Some(home)) => {
            let Some(name) = reader
                .project_name_only(&root, &start)
                .filter(|n| crate::values::project_name(n).is_ok())
            else {
                return Ok(None);
            };
            home.join(".aws").join(name)
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(reader.aws_ini_files(&dir)))
}

/// Reads everything `check` needs.
/// The folder a command starts from: the path given, resolved, or the folder of the file given.
fn start_folder(given: &Path) -> Result<PathBuf, ReadError> {
    let start = std::fs::canonicalize(given).map_err(|e| ReadError::Path {
        path: given.display().to_string(),
        reason: fs::io_reason(&e),
    })?;
    Ok(if start.is_dir() {
        start
    } else {
        start.parent().map(Path::to_path_buf).unwrap_or(start)
    })
}

pub fn load(settings: &ReadSettings) -> Result<Model, ReadError> {
    let given = &settings.path;
    let start = start_folder(given)?;
    let home = home_dir();
    endpoints::register_url_secrets();
    let mut reader = Reader {
        sources: Sources::default(),
        root: PathBuf::new(),
        home: home.clone(),
    };
    let env = ENV_VARS
        .iter()
        .filter_map(|name| {
            std::env::var(name).ok().map(|value| EnvVar {
                file_missing: *name == "AWS_CA_BUNDLE" && !Path::new(&value).is_file(),
                name: name.to_string(),
                value,
            })
        })
        .collect();
    let now = chrono::Utc::now();
    let Some(root) = project::find_root(&start) else {
        let start_file = reader
            .sources
            .add_opaque(start.clone(), given.display().to_string());
        // Shown from the start folder: `.`, `..`, `../..`.
        let half_root = project::half_root(&start).map(|(dir, missing)| {
            let up = start.ancestors().position(|a| a == dir).unwrap_or(0);
            let shown = match up {
                0 => ".".to_string(),
                n => vec![".."; n].join("/"),
            };
            (shown, missing)
        });
        return Ok(Model {
            sources: reader.sources,
            start,
            start_file,
            project: None,
            half_root,
            aws: None,
            env,
            now,
            local_utc_offset_s: chrono::Local::now().offset().local_minus_utc(),
            interactive: interactive(),
            host_config: None,
            credentials: Default::default(),
            live: Vec::new(),
            token_live: Vec::new(),
            after_regen: false,
            config: Default::default(),
            leverage: crate::leverage::detect(&Default::default()),
        });
    };
    reader.root = root.clone();
    let start_display = reader.display_path(&start);
    let start_file = reader.sources.add_opaque(
        start.clone(),
        if start_display.is_empty() {
            ".".into()
        } else {
            start_display
        },
    );
    let project = reader.project(&root, &start, settings.all);
    let aws_dir = match (&settings.aws_dir, project.name(), &home) {
        (Some(dir), _, _) => Some(dir.clone()),
        // A name that is not a name (`../x`, `a/b`) would point outside ~/.aws/: LD009 says so
        // and nothing is read or written for it.
        (None, Some(name), _) if crate::values::project_name(&name).is_err() => None,
        (None, Some(name), Some(home)) => Some(home.join(".aws").join(name)),
        (None, Some(name), None) => {
            return Err(ReadError::Path {
                path: format!("~/.aws/{name}"),
                reason: "HOME is not set, so the project's AWS folder cannot be found: set HOME or pass --aws-dir".into(),
            });
        }
        (None, None, _) => None,
    };
    let mut aws = aws_dir.map(|dir| reader.aws_files(&dir));
    if let (Some(aws), Some(url)) = (aws.as_mut(), project.common_str("sso_start_url")) {
        aws.aws_cli_token = reader.aws_cli_token(&url.value);
    }
    let config = reader.doctor_config(&root, settings.config.as_deref())?;
    let setting = settings
        .leverage_version
        .clone()
        .map(|v| (v, "--leverage-version".to_string()))
        .or_else(|| {
            config
                .leverage_version
                .clone()
                .map(|v| (v, format!("{} leverage-version", doctor_config::FILE_NAME)))
        });
    let may_run = settings.programs != Programs::None;
    let leverage = crate::leverage::detect(&leverage::signals(
        &root,
        &project,
        aws.as_ref(),
        setting,
        may_run,
    ));
    // Which Terraform reads the profiles (older ones cannot read `sso_session`): pinned in a
    // file, else what the 3.x binary says.
    let mut project = project;
    if project.terraform.is_none() {
        project.terraform = leverage::terraform_from_files(&root);
    }
    // 3.x runs only a binary whose `--version` says OpenTofu: asked where a program may run,
    // otherwise told by its name. Its version also says what it can read (`sso_session`).
    if crate::leverage::LeverageCli::new(leverage.generation).runs_terraform_on_host()
        && project.tf_binary_problem.is_none()
    {
        let binary = project
            .build_var("TF_BINARY")
            .map(|e| e.value.clone())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| crate::leverage::DEFAULT_TF_BINARY.to_string());
        let answer = may_run
            .then(|| {
                leverage::terraform_version(
                    &root,
                    &binary,
                    settings.programs == Programs::TrustProjectBinary,
                )
            })
            .flatten();
        match answer {
            Some((kind, version)) => {
                project.tf_binary_kind = Some(kind);
                if project.terraform.is_none() {
                    project.terraform = version;
                }
            }
            None => project.tf_binary_kind = leverage::tf_binary_kind_by_name(&binary),
        }
    }
    let git_sources = project.layers.iter().any(|l| !l.module_sources.is_empty());
    let credentials = credential_env(home.as_deref(), git_sources);
    register_credential_tf_vars(&project, &credentials);
    Ok(Model {
        sources: reader.sources,
        start,
        start_file,
        project: Some(project),
        half_root: None,
        aws,
        env,
        now,
        local_utc_offset_s: chrono::Local::now().offset().local_minus_utc(),
        interactive: interactive(),
        host_config: host_config(),
        credentials,
        live: Vec::new(),
        token_live: Vec::new(),
        after_regen: false,
        config,
        leverage,
    })
}

impl Reader {
    fn doctor_config(
        &mut self,
        root: &Path,
        explicit: Option<&Path>,
    ) -> Result<crate::model::config::DoctorConfig, ReadError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let p = root.join(doctor_config::FILE_NAME);
                if p.symlink_metadata().is_err() {
                    return Ok(Default::default());
                }
                p
            }
        };
        // `--config` names a file the user chose; the default one is the checkout's.
        let read = match explicit {
            Some(_) => fs::read_text(&path),
            None => fs::read_in_project(root, &path),
        };
        let text = read.map_err(|reason| ReadError::Path {
            path: path.display().to_string(),
            reason,
        })?;
        let display = self.display_path(&path);
        let file = self.sources.add(path, display, text.text.clone());
        Ok(doctor_config::parse(&text.text, file))
    }
}

/// The project and its AWS folder, or why a command that needs them cannot run.
pub fn project_and_aws(
    model: &crate::model::Model,
) -> anyhow::Result<(
    &crate::model::project::Project,
    &crate::model::aws::AwsFiles,
)> {
    let project = model.project.as_ref().ok_or_else(|| {
        anyhow::anyhow!(
            "no Leverage project (build.env and config/) at or above {}",
            model.start.display()
        )
    })?;
    if let Some(name) = project.name()
        && let Err(why) = crate::values::project_name(&name)
    {
        anyhow::bail!(
            "the project name `{}` {why}: fix it first (see `leverage-doctor explain LD009`)",
            crate::secrets::escape_controls(&name, false)
        );
    }
    let aws = model.aws.as_ref().ok_or_else(|| {
        anyhow::anyhow!(
            "the project has no name: set `project` in config/common.tfvars (or PROJECT in build.env)"
        )
    })?;
    Ok((project, aws))
}

/// The project's SSO start URL and region (common.tfvars), validated: both are sent to AWS and
/// written into AWS files, so a value that is not a URL or a region stops the command.
pub fn sso_settings(project: &crate::model::project::Project) -> anyhow::Result<(String, String)> {
    // Say what the project is before what it lacks: an IAM project has no SSO settings to fix.
    if project.common.is_none() {
        anyhow::bail!(
            "config/common.tfvars is missing{}: it says whether the project uses SSO and holds sso_start_url and sso_region; create it first",
            if project.common_example_exists {
                " (only common.tfvars.example is there: copy it and fill it in)"
            } else {
                ""
            }
        );
    }
    if !project.sso_enabled() {
        anyhow::bail!(
            "this project does not use SSO (config/common.tfvars has no `sso_enabled = true`): its profiles come from IAM keys; use `leverage-doctor regen-config --iam` (or turn SSO on in common.tfvars first)"
        );
    }
    let get = |key: &str, check: fn(&str) -> Result<(), String>| -> anyhow::Result<String> {
        let value = project
            .common_str(key)
            .ok_or_else(|| anyhow::anyhow!("config/common.tfvars has no `{key}`"))?
            .value;
        check(&value).map_err(|why| {
            anyhow::anyhow!(
                "config/common.tfvars `{key}` `{}` {why}: fix it first",
                crate::secrets::escape_controls(&value, false)
            )
        })?;
        Ok(value)
    };
    Ok((
        get("sso_start_url", crate::values::start_url)?,
        get("sso_region", crate::values::region)?,
    ))
}

#[cfg(test)]
mod git_ssh_tests {
    use super::*;
    use crate::model::credentials::KnownHost;

    #[test]
    fn known_hosts_lines() {
        assert_eq!(
            known_host_line("github.com,140.82.112.3 ssh-ed25519 AAAAC3Nza"),
            Some(KnownHost::Plain(vec![
                "github.com".into(),
                "140.82.112.3".into()
            ]))
        );
        assert_eq!(known_host_line("@revoked * ssh-rsa AAAA"), None);
        assert!(matches!(
            known_host_line("@cert-authority *.example.com ssh-rsa AAAA"),
            Some(KnownHost::Plain(_))
        ));
        // `ssh-keygen -H` form of github.com (HMAC-SHA1 with this salt).
        let hashed = known_host_line(
            "|1|c2FsdHNhbHRzYWx0c2FsdHNhbHQ=|IVmqmke3zzL99Q8ip0+xNYpJt4s= ssh-ed25519 AAAA",
        )
        .unwrap();
        assert!(hashed.matches("github.com"));
        assert!(!hashed.matches("gitlab.com"));
        assert_eq!(known_host_line("# comment"), None);
        assert_eq!(known_host_line("|1|!!|?? ssh-rsa A"), None);
    }

    #[test]
    fn credential_helpers() {
        let text = "[user]\n\tname = x\n[credential]\n\thelper = osxkeychain\n[credential \"https://gitlab.example.com\"]\n\thelper = store\n[credential \"https://x\"]\n\tusername = me\n";
        assert_eq!(
            git_credential_helpers(text),
            ["", "https://gitlab.example.com"]
        );
        assert!(git_credential_helpers("[core]\n\thelper = x\n").is_empty());
    }
}
