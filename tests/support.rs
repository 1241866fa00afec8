//! Runs the real binary over a temp copy of a fixture with a clean environment.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A fixture copied to a temp folder: `project/` and `home/` (HOME for the run).
pub struct Case {
    pub dir: tempfile::TempDir,
}

impl Case {
    pub fn new(name: &str) -> Case {
        let dir = tempfile::tempdir().expect("temp dir");
        copy_dir(&fixtures_dir().join(name), dir.path());
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        Case { dir }
    }

    pub fn project(&self) -> PathBuf {
        self.dir.path().join("project")
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn aws(&self) -> PathBuf {
        self.home().join(".aws").join("bb")
    }

    /// `leverage-doctor ARGS` run in `project/<rel>` with HOME set and nothing else inherited.
    pub fn cmd(&self, rel: &str) -> Command {
        let mut cmd = doctor();
        cmd.current_dir(self.project().join(rel))
            .env("HOME", self.home());
        cmd
    }
}

/// The binary with an empty environment (tests must not see the developer's AWS settings).
pub fn doctor() -> Command {
    let mut cmd = Command::cargo_bin("leverage-doctor").expect("binary");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("type");
        if kind.is_symlink() {
            let link = std::fs::read_link(entry.path()).expect("link");
            std::os::unix::fs::symlink(link, &target).expect("symlink");
        } else if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Runs `check --format json` and returns (exit code, report).
pub fn check_json(cmd: &mut Command) -> (i32, serde_json::Value) {
    let out = cmd.arg("--format").arg("json").output().expect("run");
    let code = out.status.code().expect("exit code");
    let text = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, json)
}

/// `RULE severity file:line` per diagnostic, sorted.
pub fn findings(report: &serde_json::Value) -> Vec<String> {
    let mut lines: Vec<String> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            let place = match (d["file"].as_str(), d["line"].as_u64()) {
                (Some(f), Some(l)) => format!("{f}:{l}"),
                (Some(f), None) => f.to_string(),
                _ => "-".to_string(),
            };
            format!(
                "{} {} {place}",
                d["rule"].as_str().unwrap_or("?"),
                d["severity"].as_str().unwrap_or("?")
            )
        })
        .collect();
    lines.sort();
    lines
}

pub fn rules_of(report: &serde_json::Value) -> Vec<String> {
    let mut rules: Vec<String> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["rule"].as_str().unwrap_or("?").to_string())
        .collect();
    rules.sort();
    rules.dedup();
    rules
}
