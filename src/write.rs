//! The only code that changes user files: a lock per AWS folder, a timestamped backup, then an
//! atomic replace (temp file in the same folder, fsync, rename) with mode 0600. Writes go
//! through a symlink to its target, never over the link.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
}

fn io(path: &Path, e: std::io::Error) -> WriteError {
    WriteError::Io {
        path: path.display().to_string(),
        reason: crate::read::fs::io_reason(&e),
    }
}

/// Held while a command writes into an AWS folder; a second writer waits for it.
pub struct FolderLock {
    _file: File,
}

impl FolderLock {
    pub fn acquire(dir: &Path) -> Result<FolderLock, WriteError> {
        if !dir.exists() {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
            set_mode(dir, 0o700).ok();
        }
        let path = dir.join(".leverage-doctor.lock");
        let mut opts = OpenOptions::new();
        opts.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(&path).map_err(|e| io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                eprintln!(
                    "waiting for another leverage-doctor writing in {} …",
                    dir.display()
                );
                file.lock().map_err(|e| io(&path, e))?;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&path, e)),
        }
        Ok(FolderLock { _file: file })
    }
}

/// The file a path finally points at (a symlink is followed to its target).
pub fn target_of(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `config` → `config.bak-20261123T190102Z`, next to the file, mode 0600. None when the file
/// does not exist yet.
pub fn backup(
    path: &Path,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<PathBuf>, WriteError> {
    let target = target_of(path);
    if !target.exists() {
        return Ok(None);
    }
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stamp = now.format("%Y%m%dT%H%M%SZ");
    let mut backup = target.with_file_name(format!("{name}.bak-{stamp}"));
    let mut n = 1;
    while backup.exists() {
        backup = target.with_file_name(format!("{name}.bak-{stamp}-{n}"));
        n += 1;
    }
    let bytes = std::fs::read(&target).map_err(|e| io(&target, e))?;
    write_new(&backup, &bytes)?;
    Ok(Some(backup))
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(|e| io(path, e))?;
    file.write_all(bytes).map_err(|e| io(path, e))?;
    file.sync_all().map_err(|e| io(path, e))?;
    Ok(())
}

/// Replaces the file's content atomically: readers see the old file or the new one, never a mix.
pub fn atomic_write(path: &Path, contents: &[u8]) -> Result<(), WriteError> {
    let target = target_of(path);
    let dir = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.leverage-doctor-{}.tmp",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    if let Err(e) = write_new(&tmp, contents) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    test_pause_before_rename();
    std::fs::rename(&tmp, &target).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(&target, e)
    })?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Deletes a file of ours (a token cache), through nothing but its own path.
pub fn remove(path: &Path) -> Result<(), WriteError> {
    std::fs::remove_file(path).map_err(|e| io(path, e))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

/// Crash tests set `LEVERAGE_DOCTOR_TEST_PAUSE_BEFORE_RENAME=<ms>` to kill the writer at the
/// worst moment; nothing else reads it.
fn test_pause_before_rename() {
    if let Some(ms) = std::env::var("LEVERAGE_DOCTOR_TEST_PAUSE_BEFORE_RENAME")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_then_atomic_write_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real-config");
        std::fs::write(&real, "old").unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let now = chrono::Utc::now();
        let backup = backup(&link, now).unwrap().unwrap();
        atomic_write(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert_eq!(std::fs::read_to_string(&backup).unwrap(), "old");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
