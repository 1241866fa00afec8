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
        // Git keeps no modes but +x: the AWS files get the 0600 the AWS CLI gives them (LD208
        // is tested on purpose where it matters).
        private_files(&dir.path().join("home/.aws"));
        // A fixture may ask for other modes (`modes.txt`: `<path> <octal mode>` a line).
        if let Ok(modes) = std::fs::read_to_string(dir.path().join("modes.txt")) {
            use std::os::unix::fs::PermissionsExt;
            for line in modes.lines().filter(|l| !l.trim().is_empty()) {
                let (path, mode) = line.rsplit_once(' ').expect("`<path> <mode>`");
                let mode = u32::from_str_radix(mode, 8).expect("octal mode");
                std::fs::set_permissions(
                    dir.path().join(path),
                    std::fs::Permissions::from_mode(mode),
                )
                .expect("chmod");
            }
        }
        Case { dir }
    }

    /// The fixture with the modes a fresh `git clone` gives its files (0644 under umask 022),
    /// as a new user meets it.
    pub fn as_cloned(name: &str) -> Case {
        use std::os::unix::fs::PermissionsExt;
        let case = Case::new(name);
        fn walk(dir: &Path) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let kind = entry.file_type().expect("type");
                if kind.is_dir() {
                    walk(&entry.path());
                } else if kind.is_file() {
                    std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o644))
                        .expect("chmod");
                }
            }
        }
        walk(&case.home().join(".aws"));
        case
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

/// Rewrites a fixture's AWS config in the 1.6–1.11 SSO layout: one `[profile
/// <p>-sso-<acct>-<Role>]` per account and role, with the standard `sso_account_id` and
/// `sso_role_name` keys.
pub fn v1_sso_layout(case: &Case) {
    let config = case.aws().join("config");
    let text = std::fs::read_to_string(&config).expect("config");
    let v1 = text
        .replace(
            "[profile bb-sso-management]",
            "[profile bb-sso-management-DevOps]",
        )
        .replace("[profile bb-sso-shared]", "[profile bb-sso-shared-DevOps]")
        .replace(
            "[profile bb-sso-apps-devstg]",
            "[profile bb-sso-apps-devstg-DevOps]",
        )
        .replace("account_id =", "sso_account_id =")
        .replace("role_name =", "sso_role_name =");
    std::fs::write(&config, v1).expect("write config");
}

/// The binary with an empty environment (tests must not see the developer's AWS settings).
pub fn doctor() -> Command {
    let mut cmd = Command::cargo_bin("leverage-doctor").expect("binary");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd
}

fn private_files(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let kind = entry.file_type().expect("type");
        if kind.is_dir() {
            private_files(&entry.path());
        } else if kind.is_file() {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))
                .expect("chmod");
        }
    }
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

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// moto's AWS emulator on a free port of 127.0.0.1, stopped (by its pid) when dropped.
pub struct Moto {
    child: std::process::Child,
    pub port: u16,
}

impl Moto {
    pub fn start() -> Moto {
        Moto::start_with(&[])
    }

    /// moto with extra arguments (`--ssl-cert`, `--ssl-key`: HTTPS).
    pub fn start_with(extra: &[&str]) -> Moto {
        let bin = std::env::var_os("LEVERAGE_DOCTOR_MOTO")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-moto/bin/moto_server")
            });
        assert!(
            bin.exists(),
            "moto_server not found at {}: run ./scripts/test.sh, which installs it",
            bin.display()
        );
        // Port 0: moto binds a free port itself and says which (a port picked here and
        // released could be taken by another test's server before moto binds it).
        let mut child = std::process::Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .args(extra)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start moto_server");
        let stderr = child.stderr.take().expect("moto stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut sent = false;
            // Keep reading (and dropping) after the port line, so moto never blocks on a full pipe.
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if !sent
                    && let Some(port) = line
                        .split("127.0.0.1:")
                        .nth(1)
                        .and_then(|p| p.trim().trim_end_matches('/').parse::<u16>().ok())
                {
                    let _ = tx.send(port);
                    sent = true;
                }
            }
        });
        let port = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("moto_server did not say its port");
        let moto = Moto { child, port };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "moto_server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        moto
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Turns request authentication on: unknown keys now fail with InvalidClientTokenId.
    pub fn enable_auth(&self) {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        let request = "POST /moto-api/reset-auth HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1\r\nConnection: close\r\n\r\n0";
        stream.write_all(request.as_bytes()).expect("write");
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        assert!(
            response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
            "{response}"
        );
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The live diagnostics and per-profile live results of a report.
pub fn live_of<'a>(report: &'a serde_json::Value, profile: &str) -> &'a serde_json::Value {
    &report["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .find(|p| p["name"] == profile)
        .unwrap_or_else(|| panic!("no profile {profile} in {report:#}"))["live"]
}

pub fn diags<'a>(report: &'a serde_json::Value, rule: &str) -> Vec<&'a serde_json::Value> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == rule)
        .collect()
}

/// What a run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the doctor in the project root with the SSO and SSO-OIDC endpoints pointed at a test
/// server, as CI would (no terminal), off the async runtime the server lives on.
pub async fn run_with_sso_server(case: &Case, server_uri: String, args: &[&str]) -> Run {
    let mut cmd = case.cmd("");
    cmd.env("AWS_ENDPOINT_URL_SSO", &server_uri)
        .env("AWS_ENDPOINT_URL_SSO_OIDC", &server_uri)
        .env("CI", "true")
        .args(args)
        .timeout(std::time::Duration::from_secs(60));
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run"))
        .await
        .expect("join");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}
