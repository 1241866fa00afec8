//! `exec`: `refresh`, then COMMAND with the project's AWS files in its environment (what the
//! Leverage CLI 3.x sets for Terraform); COMMAND's exit code is the doctor's.

use super::Exit;
use crate::cli::{ExecArgs, Global};
use crate::read;
use std::path::PathBuf;
use std::time::Duration;

pub fn run(args: &ExecArgs, global: &Global) -> anyhow::Result<Exit> {
    let settings = super::read_settings(args.dir.as_ref(), global);
    let ready = crate::keep_alive::renew::ensure(
        &settings,
        args.min_remaining,
        Duration::from_secs(args.timeout),
        None,
        &crate::read::live::Unattended,
    )?;
    if !ready.short.is_empty() {
        ready.say_short();
        crate::say!("leverage-doctor: not starting the command: the sessions above are short");
        return Ok(Exit::Findings);
    }
    let (config, credentials) = aws_files(&ready.model)?;
    let Some((program, rest)) = args.command.split_first() else {
        anyhow::bail!("no COMMAND given (after `--`)");
    };
    let mut cmd = std::process::Command::new(program);
    cmd.args(rest)
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let shown = crate::secrets::escape_controls(&program.to_string_lossy(), false);
            crate::say!(
                "leverage-doctor: cannot start `{shown}`: {}",
                read::fs::io_reason(&e)
            );
            // As env(1) and the shells: 127 not found, 126 found but not startable.
            return Ok(Exit::Code(if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            }));
        }
    };
    #[cfg(unix)]
    pass_signals(&child);
    let status = child.wait()?;
    Ok(Exit::Code(exit_code(status)))
}

/// The child `pass_signals` sends to (0: none yet).
#[cfg(unix)]
static CHILD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

#[cfg(unix)]
extern "C" fn forward(signal: libc::c_int) {
    let pid = CHILD.load(std::sync::atomic::Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe; the pid is our own child's.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// SIGTERM and SIGHUP sent to the doctor go on to the command; the terminal's Ctrl-C and
/// Ctrl-\ reach it by themselves (same process group). The doctor waits for it to end
/// instead of dying first.
#[cfg(unix)]
fn pass_signals(child: &std::process::Child) {
    CHILD.store(
        i32::try_from(child.id()).unwrap_or(0),
        std::sync::atomic::Ordering::SeqCst,
    );
    let handler = forward as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only reads an atomic and calls kill(2), both async-signal-safe;
    // ignoring a signal has no handler at all.
    unsafe {
        libc::signal(libc::SIGTERM, handler);
        libc::signal(libc::SIGHUP, handler);
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
    }
}

/// The command's exit code; on unix 128 + the signal that killed it.
fn exit_code(status: std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return u8::try_from(code & 0xff).unwrap_or(1);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return u8::try_from((128 + signal) & 0xff).unwrap_or(1);
        }
    }
    1
}

/// The project's AWS config and credentials files (where the Leverage CLI points
/// AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE).
pub fn aws_files(model: &crate::model::Model) -> anyhow::Result<(PathBuf, PathBuf)> {
    let (_, aws) = super::project_and_aws(model)?;
    let path = |file: &crate::model::aws::AwsFile, name: &str| {
        let id = match file {
            crate::model::aws::AwsFile::Parsed(ini) => Some(ini.file),
            crate::model::aws::AwsFile::Missing { file }
            | crate::model::aws::AwsFile::Unreadable { file, .. } => Some(*file),
        };
        id.map(|id| model.sources.get(id).path.clone())
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| aws.dir.join(name))
    };
    let abs = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
    Ok((
        abs(path(&aws.config, "config")),
        abs(path(&aws.credentials, "credentials")),
    ))
}
