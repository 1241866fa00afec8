//! The signals of which Leverage CLI a project runs: pins in its files, build.env, the shape of
//! its AWS config, and, only when those tell nothing, `leverage --version` of the one on PATH.
//! `crate::leverage::detect` decides.

use crate::leverage::Signals;
use crate::model::aws::AwsFiles;
use crate::model::project::Project;
use std::path::Path;
use std::time::{Duration, Instant};

/// `leverage --version` may take this long (a Python start-up); after it, it is not asked.
const VERSION_TIMEOUT: Duration = Duration::from_secs(3);

pub fn signals(
    root: &Path,
    project: &Project,
    aws: Option<&AwsFiles>,
    setting: Option<(String, String)>,
    may_run: bool,
) -> Signals {
    let name = project.name().unwrap_or_default();
    let mut s = Signals {
        setting,
        pin: pin(root),
        // Written, even if it expands to nothing: a 3.x setting.
        tf_binary: project
            .build_var("TF_BINARY")
            .is_some_and(|e| e.interpolated || !e.value.is_empty()),
        image_tag: ["TERRAFORM_IMAGE_TAG", "TF_IMAGE_TAG"]
            .iter()
            .any(|k| project.build_var(k).is_some_and(|e| !e.value.is_empty())),
        ..Default::default()
    };
    if let Some(config) = aws.and_then(|a| a.config.parsed()) {
        for section in &config.sections {
            let Some(profile) = section.name.profile_name() else {
                continue;
            };
            if profile.ends_with(crate::leverage::MFA_SECTION_SUFFIX)
                && section.get("mfa_serial").is_some()
            {
                s.mfa_sections = true;
            }
            // `<p>-sso-<acct>-<Role>`: the role keeps its capitals (`DevOps`), which the 1.12 →
            // `<p>-sso-<acct>` names never have.
            if let Some(rest) = profile.strip_prefix(&crate::leverage::sso_account_prefix(&name))
                && rest
                    .rsplit_once('-')
                    .is_some_and(|(_, role)| role.starts_with(|c: char| c.is_ascii_uppercase()))
                && section.get("sso_account_id").is_some()
            {
                s.v1_sso_sections = true;
            }
        }
    }
    // A checkout is untrusted: offline runs start no program, and a `leverage` that the
    // checkout itself provides (a PATH entry inside the project) is never started.
    if may_run && !crate::leverage::files_tell(&s) {
        s.on_path = version_on_path(root);
    }
    s
}

/// Whether `path` resolves to a place inside `root` (canonical).
fn inside(root: &Path, path: &Path) -> bool {
    std::fs::canonicalize(path).is_ok_and(|p| p.starts_with(root))
}

/// `TF_BINARY` resolved as the 3.x CLI does (path.py): `~/…` from HOME, a relative path of
/// more than one part from the project root, a bare name on PATH.
fn tf_binary_path(root: &Path, value: &str) -> Result<std::path::PathBuf, String> {
    let given = Path::new(value);
    if let Some(rest) = value.strip_prefix("~/") {
        return crate::read::home_dir()
            .map(|h| h.join(rest))
            .ok_or_else(|| "starts with ~/ but HOME is not set".into());
    }
    if given.is_absolute() {
        return Ok(given.to_path_buf());
    }
    if given.components().count() > 1 {
        return Ok(root.join(given));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(value))
        .find(|p| p.is_file())
        .ok_or_else(|| "is not found on PATH".into())
}

/// What is wrong with build.env `TF_BINARY` (not found, not a file, not executable).
pub fn tf_binary_problem(root: &Path, value: &str) -> Option<String> {
    let path = match tf_binary_path(root, value) {
        Ok(p) => p,
        Err(why) => return Some(why),
    };
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(_) => {
            return Some(format!(
                "does not exist ({})",
                crate::read::display_home(&path)
            ));
        }
    };
    if !meta.is_file() {
        return Some("is not a file".into());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o111 == 0 {
            return Some("is not executable (chmod +x)".into());
        }
    }
    None
}

/// A `leverage` version pinned in the project's files (the root's pyproject.toml,
/// requirements*.txt, uv.lock, .tool-versions): (file, version).
fn pin(root: &Path) -> Option<(String, String)> {
    let read = |name: &str| {
        crate::read::fs::read_in_project(root, &root.join(name))
            .ok()
            .map(|t| t.text)
    };
    for name in ["pyproject.toml", "requirements.txt", "requirements-dev.txt"] {
        if let Some(text) = read(name)
            && let Some(v) = requirement_pin(&text)
        {
            return Some((name.to_string(), v));
        }
    }
    if let Some(text) = read("uv.lock") {
        // [[package]] name = "leverage" version = "3.1.0"
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.trim() == "name = \"leverage\""
                && let Some(v) = lines
                    .next()
                    .and_then(|l| l.trim().strip_prefix("version = "))
            {
                return Some(("uv.lock".into(), v.trim_matches('"').to_string()));
            }
        }
    }
    if let Some(text) = read(".tool-versions") {
        for line in text.lines() {
            let mut words = line.split_whitespace();
            if words.next() == Some("leverage")
                && let Some(v) = words.next()
            {
                return Some((".tool-versions".into(), v.to_string()));
            }
        }
    }
    None
}

/// `leverage==3.1.0`, `leverage = "3.1.0"`, `"leverage>=2.1,<3"`: the first version named
/// after the word `leverage` (not `leverage-doctor`).
fn requirement_pin(text: &str) -> Option<String> {
    for line in text.lines() {
        let mut rest = line;
        while let Some(at) = rest.find("leverage") {
            let before = rest[..at].chars().next_back();
            let after = &rest[at + "leverage".len()..];
            rest = after;
            let word = before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                && !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !word {
                continue;
            }
            let version: String = after
                .trim_start_matches([' ', '=', '~', '^', '>', '<', '!', '"', '\'', ':'])
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            if crate::leverage::Generation::of_version(&version).is_some() {
                return Some(version);
            }
        }
    }
    None
}

/// `TF_BINARY --version`, resolved as the 3.x CLI does, bounded in time. A binary inside the
/// project is the checkout's own program: it is started only when the user said so
/// (`--trust-tf-binary`), never because the checkout asks.
pub fn terraform_version(
    root: &Path,
    binary: &str,
    trust_project_binary: bool,
) -> Option<(
    crate::model::project::TfBinaryKind,
    Option<crate::model::project::Terraform>,
)> {
    use crate::model::project::{Terraform, TfBinaryKind};
    let path = tf_binary_path(root, binary).ok()?;
    if !trust_project_binary && inside(root, &path) {
        return None;
    }
    let out = run_bounded(&path, "--version")?;
    let kind = if out.contains("OpenTofu") {
        TfBinaryKind::OpenTofu
    } else {
        TfBinaryKind::NotOpenTofu {
            said: crate::secrets::one_line(out.lines().next().unwrap_or(""), 80),
        }
    };
    Some((kind, Terraform::from_version_output(&out, binary)))
}

/// What a binary not run is, by its file name: `terraform` (or `terraform-1.5`…) is Terraform.
pub fn tf_binary_kind_by_name(binary: &str) -> Option<crate::model::project::TfBinaryKind> {
    let name = Path::new(binary).file_name()?.to_str()?;
    name.starts_with("terraform")
        .then_some(crate::model::project::TfBinaryKind::NamedTerraform)
}

/// The Terraform or OpenTofu version the project pins in its files, for runs that start no
/// program: `.terraform-version` (tfenv), `.opentofu-version` (tofuenv), `.tool-versions`
/// (asdf, mise), at the root.
pub fn terraform_from_files(root: &Path) -> Option<crate::model::project::Terraform> {
    use crate::model::project::Terraform;
    let read = |name: &str| {
        crate::read::fs::read_in_project(root, &root.join(name))
            .ok()
            .map(|t| t.text)
    };
    for (name, opentofu) in [(".terraform-version", false), (".opentofu-version", true)] {
        if let Some(text) = read(name)
            && let Some(t) = Terraform::from_pin(text.lines().next().unwrap_or(""), opentofu, name)
        {
            return Some(t);
        }
    }
    let text = read(".tool-versions")?;
    text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        let opentofu = match words.next()? {
            "terraform" => false,
            "opentofu" | "tofu" => true,
            _ => return None,
        };
        Terraform::from_pin(words.next()?, opentofu, ".tool-versions")
    })
}

/// A program's stdout for one argument, or None when it fails or takes longer than the bound.
/// The program runs in a process group of its own, and the whole group is killed at the
/// deadline (and once the program has exited): a grandchild that keeps the pipe open cannot
/// make the doctor wait.
fn run_bounded(program: &Path, arg: &str) -> Option<String> {
    let mut cmd = std::process::Command::new(program);
    // Terraform and OpenTofu ask checkpoint.hashicorp.com for news on `--version`.
    cmd.arg(arg)
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().ok()?;
    let group = child.id();
    let stdout = child.stdout.take()?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut out = Vec::new();
        let _ = stdout.take(4096).read_to_end(&mut out);
        let _ = tx.send(out);
    });
    let deadline = Instant::now() + VERSION_TIMEOUT;
    let exited = loop {
        match child.try_wait() {
            Ok(Some(_)) => break true,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => break false,
        }
    };
    // Whatever the program left running goes with it; that also closes the pipe, so the
    // reader sees its end.
    kill_group(group);
    let out = if exited {
        rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .ok()
    } else {
        None
    };
    let _ = child.kill();
    let _ = child.wait();
    String::from_utf8(out?).ok()
}

/// SIGKILL to a process group we started (nothing left behind, whatever it spawned).
fn kill_group(group: u32) {
    #[cfg(unix)]
    if let Ok(pgid) = libc::pid_t::try_from(group) {
        // SAFETY: kill(2) with a negative pid signals the group we created; no memory involved.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = group;
}

/// `leverage --version` of the first `leverage` on PATH ("leverage, version 3.1.0"), bounded
/// in time; None when there is none, it fails, or it is slow.
fn version_on_path(root: &Path) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    let exe = std::env::split_paths(&path)
        .map(|d| d.join("leverage"))
        .find(|p| p.is_file())?;
    if inside(root, &exe) {
        return None;
    }
    let out = run_bounded(&exe, "--version")?;
    let version = out.rsplit("version").next()?.trim().to_string();
    crate::leverage::Generation::of_version(&version).map(|_| version)
}

#[cfg(test)]
mod tests {
    use super::requirement_pin;

    #[test]
    fn pins() {
        assert_eq!(
            requirement_pin("leverage==3.1.0\n").as_deref(),
            Some("3.1.0")
        );
        assert_eq!(
            requirement_pin("[tool.poetry.dependencies]\nleverage = \"^2.1.1\"\n").as_deref(),
            Some("2.1.1")
        );
        assert_eq!(
            requirement_pin("dependencies = [\n  \"leverage>=3.0,<4\",\n]").as_deref(),
            Some("3.0")
        );
        assert_eq!(requirement_pin("leverage-doctor==0.1\n"), None);
        assert_eq!(
            requirement_pin("dependencies = [\"leverage==3.1.0\"]").as_deref(),
            Some("3.1.0")
        );
    }
}
