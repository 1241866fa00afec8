//! The only code that changes user files: a lock per AWS folder, a timestamped backup, then an
//! atomic replace (temp file in the same folder, fsync, rename) with mode 0600. Writes go
//! through a symlink to its target, never over the link; only regular files are replaced, and
//! only inside the folder a command may write in (`Change`).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    /// A path the doctor will not replace (a FIFO, a device, a dangling link, read-only, or
    /// outside the folder the command may write in). Said before anything is written.
    #[error("{path}: {reason}; nothing was written")]
    Refused { path: String, reason: String },
    /// Another process changed the file between the preview and the write, in a way that
    /// changes the edit: the user approved something else.
    #[error(
        "{path} changed while this command ran (another process wrote it); nothing was written: run the command again to see the new changes"
    )]
    Changed { path: String },
}

fn io(path: &Path, e: std::io::Error) -> WriteError {
    WriteError::Io {
        path: crate::read::fs::display_home(path),
        reason: crate::read::fs::io_reason(&e),
    }
}

fn refused(path: &Path, reason: impl Into<String>) -> WriteError {
    WriteError::Refused {
        path: crate::read::fs::display_home(path),
        reason: reason.into(),
    }
}

/// Held while a command writes into an AWS folder; a second writer waits for it.
pub struct FolderLock {
    file: File,
    path: PathBuf,
}

/// The lock file goes when its holder is done (none is left behind in `~/.aws/<p>/`): it is
/// unlinked while still locked, and a waiter that then gets the lock of a file no longer at
/// the path starts again on the path's file, so holders always lock the file the path names.
impl Drop for FolderLock {
    fn drop(&mut self) {
        #[cfg(unix)]
        if same_file(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Whether `path` still names the open `file` (not a link, not a newer file).
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

/// The lock `refresh` holds around the whole renewal (token, then roles): one per project, apart
/// from the writers' lock it takes inside.
pub const REFRESH_LOCK: &str = ".leverage-doctor.refresh.lock";

impl FolderLock {
    pub fn acquire(dir: &Path) -> Result<FolderLock, WriteError> {
        FolderLock::acquire_named(dir, ".leverage-doctor.lock")
    }

    /// The lock file `name` in `dir`, waited for when another process holds it.
    pub fn acquire_named(dir: &Path, name: &str) -> Result<FolderLock, WriteError> {
        private_dir(dir)?;
        let path = dir.join(name);
        if let Ok(meta) = std::fs::symlink_metadata(&path)
            && !meta.file_type().is_file()
        {
            return Err(refused(&path, "the lock file is not a regular file"));
        }
        let mut waited = false;
        loop {
            let mut opts = OpenOptions::new();
            opts.create(true).truncate(false).write(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
            }
            let file = opts.open(&path).map_err(|e| io(&path, e))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    if !waited {
                        crate::say!(
                            "waiting for another leverage-doctor writing in {} …",
                            crate::read::fs::display_home(dir)
                        );
                        waited = true;
                    }
                    file.lock().map_err(|e| io(&path, e))?;
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io(&path, e)),
            }
            // The holder before us unlinked it on its way out: lock the file there now.
            #[cfg(unix)]
            if !same_file(&file, &path) {
                continue;
            }
            return Ok(FolderLock { file, path });
        }
    }
}

/// Creates a folder (and its missing parents) readable by its owner only (0700), whatever the
/// umask. Folders that already exist keep their mode.
pub fn private_dir(dir: &Path) -> Result<(), WriteError> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(d) = at {
        if d.as_os_str().is_empty() || std::fs::symlink_metadata(d).is_ok() {
            break;
        }
        missing.push(d.to_path_buf());
        at = d.parent();
    }
    for d in missing.iter().rev() {
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        match builder.create(d) {
            Ok(()) => set_mode(d, 0o700).map_err(|e| io(d, e))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(d, e)),
        }
    }
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(refused(dir, "is not a folder")),
        Err(e) => Err(io(dir, e)),
    }
}

/// The file a path finally points at (a symlink is followed to its target).
pub fn target_of(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether the doctor may replace what is at `path`: nothing yet, or a writable regular file
/// (directly or through a symlink that resolves). Never blocks, never follows into a FIFO.
pub fn check_replaceable(path: &Path) -> Result<(), WriteError> {
    let link = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(path, e)),
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(_) if link.file_type().is_symlink() => {
            return Err(refused(
                path,
                "is a symlink to a file that does not exist (or cannot be reached); fix or remove the link first",
            ));
        }
        Err(e) => return Err(io(path, e)),
    };
    if let Some(what) = crate::read::fs::not_regular(&meta) {
        return Err(refused(
            path,
            format!("is {what}, not a regular file: it is never replaced"),
        ));
    }
    if meta.permissions().readonly() {
        return Err(refused(
            path,
            "is read-only: it is not replaced; make it writable (chmod u+w) if it should be edited",
        ));
    }
    Ok(())
}

/// `config` → `config.bak-20261123T190102Z`, next to the file, mode 0600. None when the file
/// does not exist yet. A backup that cannot be written whole is removed and stops the edit.
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
    while std::fs::symlink_metadata(&backup).is_ok() {
        backup = target.with_file_name(format!("{name}.bak-{stamp}-{n}"));
        n += 1;
    }
    let mut bytes = Vec::new();
    crate::read::fs::open_regular(&target)
        .map_err(|reason| WriteError::Io {
            path: crate::read::fs::display_home(&target),
            reason,
        })?
        .0
        .read_to_end(&mut bytes)
        .map_err(|e| io(&target, e))?;
    if let Err(e) = write_new(&backup, &bytes) {
        let _ = std::fs::remove_file(&backup);
        return Err(WriteError::Io {
            path: crate::read::fs::display_home(&backup),
            reason: format!(
                "the backup could not be written completely ({e}); the file was not edited"
            ),
        });
    }
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
    // 0600 whatever the umask.
    set_mode(path, 0o600).map_err(|e| io(path, e))?;
    file.write_all(bytes).map_err(|e| io(path, e))?;
    file.sync_all().map_err(|e| io(path, e))?;
    Ok(())
}

/// The temp files of writers that were killed before their rename: `.<name>.leverage-doctor-<pid>.tmp`.
/// Called under the folder lock, so no live writer owns one.
fn remove_stale_temps(dir: &Path, name: &str) {
    let prefix = format!(".{name}.leverage-doctor-");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        if file_name.starts_with(&prefix)
            && file_name.ends_with(".tmp")
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Replaces the file's content atomically: readers see the old file or the new one, never a mix.
/// Only a regular file (or nothing) is replaced; a symlink is written through to its target.
pub fn atomic_write(path: &Path, contents: &[u8]) -> Result<(), WriteError> {
    replace(path, contents, 0o600)
}

/// The permission bits of the file itself (not of what a link points at).
fn file_mode(path: &Path) -> std::io::Result<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Ok(std::fs::symlink_metadata(path)?.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        std::fs::symlink_metadata(path).map(|_| 0o644)
    }
}

/// `atomic_write` for a file of the project: the new content gets the mode the file had (a
/// `.tf` file stays as readable as it was), not 0600.
fn replace_keeping_mode(path: &Path, contents: &[u8], mode: u32) -> Result<(), WriteError> {
    replace(path, contents, mode)
}

fn replace(path: &Path, contents: &[u8], mode: u32) -> Result<(), WriteError> {
    check_replaceable(path)?;
    let target = target_of(path);
    let dir = target.parent().unwrap_or(Path::new("."));
    private_dir(dir)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    remove_stale_temps(dir, &name);
    let tmp = dir.join(format!(
        ".{name}.leverage-doctor-{}.tmp",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    if let Err(e) = write_new(&tmp, contents) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if mode != 0o600
        && let Err(e) = set_mode(&tmp, mode)
    {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(&tmp, e));
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

/// Writes a report (`--output`): a new file, or a regular file of ours that may be replaced —
/// never through a symlink (the checkout may hold one pointing at `~/.aws/<p>/credentials`),
/// never a file with other names (hard links), and never anything inside an AWS folder
/// (`~/.aws/` or the project's `aws_dir`), whatever path leads there.
pub fn write_report(path: &Path, text: &str, aws_dirs: &[PathBuf]) -> Result<(), WriteError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let real_parent = std::fs::canonicalize(&parent).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => refused(path, "its folder does not exist"),
        _ => io(&parent, e),
    })?;
    for dir in aws_dirs {
        if let Ok(dir) = std::fs::canonicalize(dir)
            && real_parent.starts_with(&dir)
        {
            return Err(refused(
                path,
                "is inside an AWS folder: a report is never written there",
            ));
        }
    }
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.file_type().is_symlink() {
            return Err(refused(
                path,
                "is a symlink: a report is never written through a link; give the real path",
            ));
        }
        check_replaceable(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if meta.nlink() > 1 {
                return Err(refused(
                    path,
                    "has other names (hard links): it is not replaced",
                ));
            }
        }
    }
    let mut opts = OpenOptions::new();
    opts.write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NOFOLLOW: a link put there since the check is refused by the kernel.
        opts.mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let mut file = opts.open(path).map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) => refused(
            path,
            "is a symlink: a report is never written through a link",
        ),
        _ => io(path, e),
    })?;
    let meta = file.metadata().map_err(|e| io(path, e))?;
    if let Some(what) = crate::read::fs::not_regular(&meta) {
        return Err(refused(path, format!("is {what}, not a regular file")));
    }
    file.set_len(0).map_err(|e| io(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io(path, e))?;
    }
    file.write_all(text.as_bytes()).map_err(|e| io(path, e))
}

/// A folder for generated files (`man --out-dir`), created with its parents when missing.
/// Where `path` really is: its longest existing ancestor with links and `..` resolved by the
/// file system, then the rest as written (a rest that still holds `..` stays so, and is
/// refused by the caller). `--aws-dir ../../home/.aws/bb` and the files under it then compare
/// as the same place, and a folder that is a link to elsewhere counts as where it leads.
fn resolved(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut base = abs.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(base) {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                base = parent;
            }
            _ => return abs,
        }
    }
}

pub fn create_dir_all(dir: &Path) -> Result<(), WriteError> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))
}

/// Deletes a file of ours (a token cache), through nothing but its own path. One that is
/// already gone (another run removed it) is fine.
pub fn remove(path: &Path) -> Result<(), WriteError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(path, e)),
        _ => Ok(()),
    }
}

/// One file a command rewrites: the text its edit was computed from, the result, and how to
/// compute the same edit from another version of the file.
pub struct FileEdit<'a> {
    pub path: PathBuf,
    pub shown: String,
    /// `None` when the file did not exist.
    pub before: Option<String>,
    pub after: String,
    recompute: Box<dyn Fn(&str) -> String + 'a>,
}

/// What a command will do to the files of one folder, shown first and then done as one step:
/// diff → confirm → lock → re-read → backup → atomic write. Under the lock every file is read
/// again; if another process changed it since the preview, the edit is computed again from
/// what is there now, written only when it is the change the user saw (or already done), and
/// otherwise nothing is written.
pub struct Change<'a> {
    /// The only folder this change writes in (the project's AWS folder).
    pub dir: PathBuf,
    pub edits: Vec<FileEdit<'a>>,
    /// Files to delete (token caches); one already gone is fine.
    pub removals: Vec<PathBuf>,
    /// Other folders removals may reach (the AWS CLI caches with `--aws-cli-cache`).
    pub other_roots: Vec<PathBuf>,
    /// `check --fix`: each file is edited where it is, never through a symlink (the link
    /// itself or a linked folder leading out of `dir`).
    pub in_place: bool,
    /// The files keep their permission bits (a project's `.tf` files), instead of 0600.
    pub keep_mode: bool,
    /// Where the folder lock is taken, when not in `dir` (a project checkout gets no lock
    /// file of ours: its edits lock the project's AWS folder).
    pub lock_dir: Option<PathBuf>,
    /// No backup copy: `refresh` writes what the Leverage CLI itself rewrites on every run
    /// (short-lived credentials), which a backup would only leave lying around.
    pub no_backup: bool,
}

/// What `commit` did to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    Written {
        shown: String,
        backup: Option<PathBuf>,
    },
    /// Another process had already made the same change.
    AlreadyDone { shown: String },
}

impl<'a> Change<'a> {
    pub fn new(dir: &Path) -> Change<'a> {
        Change {
            dir: std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()),
            edits: Vec::new(),
            removals: Vec::new(),
            other_roots: Vec::new(),
            in_place: false,
            keep_mode: false,
            lock_dir: None,
            no_backup: false,
        }
    }

    /// A change of files edited where they are (`check --fix`): only regular files inside
    /// `dir`, never through a link; the lock is taken in `lock_dir`. The AWS files are
    /// written 0600 as always.
    pub fn in_place(dir: &Path, lock_dir: &Path) -> Change<'a> {
        Change {
            in_place: true,
            lock_dir: Some(lock_dir.to_path_buf()),
            ..Change::new(dir)
        }
    }

    /// `in_place` for the project's own files: each keeps its mode (a `.tf` file stays as
    /// readable as it was).
    pub fn in_place_keeping_modes(dir: &Path, lock_dir: &Path) -> Change<'a> {
        Change {
            keep_mode: true,
            ..Change::in_place(dir, lock_dir)
        }
    }

    /// Adds the edit of one file, computed from `before` (`None`: the file does not exist).
    /// An edit that changes nothing is not added.
    pub fn edit(
        &mut self,
        path: PathBuf,
        shown: String,
        before: Option<String>,
        recompute: impl Fn(&str) -> String + 'a,
    ) {
        let after = recompute(before.as_deref().unwrap_or(""));
        if before.as_deref() == Some(after.as_str()) || (before.is_none() && after.is_empty()) {
            return;
        }
        self.edits.push(FileEdit {
            path,
            shown,
            before,
            after,
            recompute: Box::new(recompute),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty() && self.removals.is_empty()
    }

    /// The diffs the user approves.
    pub fn preview(&self, color: bool) -> String {
        self.edits
            .iter()
            .map(|e| {
                crate::report::diff::unified(
                    e.before.as_deref().unwrap_or(""),
                    &e.after,
                    &e.shown,
                    color,
                )
            })
            .collect()
    }

    /// Everything that would make the write unsafe, said before anything is written.
    pub fn check(&self) -> Result<(), WriteError> {
        for e in &self.edits {
            self.inside(&e.path, &[])?;
            if self.in_place {
                self.not_linked(&e.path)?;
            }
            check_replaceable(&e.path)?;
        }
        for r in &self.removals {
            self.inside(r, &self.other_roots)?;
            if let Ok(meta) = std::fs::symlink_metadata(r)
                && !(meta.file_type().is_file() || meta.file_type().is_symlink())
            {
                return Err(refused(r, "is not a regular file: not removed"));
            }
        }
        Ok(())
    }

    fn inside(&self, path: &Path, others: &[PathBuf]) -> Result<(), WriteError> {
        // The folders resolved, the file's own name kept: a file that is itself a link is
        // `not_linked`'s to refuse, with its own message.
        let abs = match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => {
                resolved(parent).join(name)
            }
            (_, Some(name)) => resolved(Path::new(".")).join(name),
            _ => resolved(path),
        };
        let clean = !abs
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir));
        if clean
            && (abs.starts_with(resolved(&self.dir))
                || others.iter().any(|o| abs.starts_with(resolved(o))))
        {
            Ok(())
        } else {
            Err(refused(
                path,
                format!(
                    "is outside {}, the only folder this command writes in",
                    crate::read::fs::display_home(&self.dir)
                ),
            ))
        }
    }

    /// An in-place edit refuses a symlink (whatever it points at) and a path whose folders
    /// lead out of `dir` through a link: the file edited is the one the diff named.
    fn not_linked(&self, path: &Path) -> Result<(), WriteError> {
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(refused(
                    path,
                    "is a symlink: --fix edits files where they are, never through a link; edit the file it points at yourself",
                ));
            }
            Ok(m) if !m.file_type().is_file() => {
                return Err(refused(path, "is not a regular file: it is never edited"));
            }
            Ok(_) => {}
            Err(e) => return Err(io(path, e)),
        }
        let real = std::fs::canonicalize(path).map_err(|e| io(path, e))?;
        let dir = std::fs::canonicalize(&self.dir).map_err(|e| io(&self.dir, e))?;
        if !real.starts_with(&dir) {
            return Err(refused(
                path,
                format!(
                    "leads out of {} through a linked folder: it is never edited",
                    crate::read::fs::display_home(&self.dir)
                ),
            ));
        }
        Ok(())
    }

    /// Does the change: `under_lock` runs first, holding the folder lock (sso-reset logs out
    /// there), then each file is re-read and written. Nothing is written unless every file can be.
    pub fn commit(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        under_lock: impl FnOnce(),
    ) -> Result<Vec<Done>, WriteError> {
        self.check()?;
        let _lock = FolderLock::acquire(self.lock_dir.as_deref().unwrap_or(&self.dir))?;
        under_lock();
        // Decide every file before writing any.
        let mut writes: Vec<(&FileEdit, String)> = Vec::new();
        let mut done = Vec::new();
        for e in &self.edits {
            if self.in_place {
                self.not_linked(&e.path)?;
            }
            check_replaceable(&e.path)?;
            let current = read_current(&e.path)?;
            if current == e.before {
                writes.push((e, e.after.clone()));
                continue;
            }
            let now_text = current.unwrap_or_default();
            let again = (e.recompute)(&now_text);
            if again == now_text {
                done.push(Done::AlreadyDone {
                    shown: e.shown.clone(),
                });
            } else if changed_lines(&now_text, &again)
                == changed_lines(e.before.as_deref().unwrap_or(""), &e.after)
            {
                writes.push((e, again));
            } else {
                return Err(WriteError::Changed {
                    path: e.shown.clone(),
                });
            }
        }
        let mut backups = Vec::new();
        for (e, _) in &writes {
            backups.push(if self.no_backup {
                None
            } else {
                backup(&e.path, now)?
            });
        }
        for ((e, text), backup) in writes.into_iter().zip(backups) {
            if self.keep_mode {
                let mode = file_mode(&e.path).map_err(|err| io(&e.path, err))?;
                replace_keeping_mode(&e.path, text.as_bytes(), mode)?;
            } else {
                atomic_write(&e.path, text.as_bytes())?;
            }
            done.push(Done::Written {
                shown: e.shown.clone(),
                backup,
            });
        }
        for r in &self.removals {
            remove(r)?;
        }
        Ok(done)
    }
}

/// The file as it is now (`None`: absent), read without blocking.
fn read_current(path: &Path) -> Result<Option<String>, WriteError> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(None);
    }
    match crate::read::fs::read_text(path) {
        Ok(t) if t.invalid_utf8_at.is_some() => Err(refused(
            path,
            "is not valid UTF-8 (another process wrote it?): fix it first (see `leverage-doctor check`, LD205)",
        )),
        Ok(t) => Ok(Some(t.text)),
        Err(reason) => Err(WriteError::Io {
            path: crate::read::fs::display_home(path),
            reason,
        }),
    }
}

/// The lines an edit removes and adds (sorted), whatever surrounds them: two edits that
/// remove and add the same lines are the same change.
fn changed_lines(old: &str, new: &str) -> (Vec<String>, Vec<String>) {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut removed = Vec::new();
    let mut added = Vec::new();
    for change in diff.iter_all_changes() {
        let line = change.value().trim_end_matches(['\n', '\r']).to_string();
        match change.tag() {
            similar::ChangeTag::Delete => removed.push(line),
            similar::ChangeTag::Insert => added.push(line),
            similar::ChangeTag::Equal => {}
        }
    }
    removed.sort();
    added.sort();
    (removed, added)
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

/// Sets a file's permission bits, on the file itself: opened without following a link and
/// checked to be a regular file, then `fchmod`.
pub fn set_file_mode(path: &Path, mode: u32) -> Result<(), WriteError> {
    let shown = || crate::read::fs::display_home(path);
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    let file = opts.open(path).map_err(|e| WriteError::Io {
        path: shown(),
        reason: crate::read::fs::io_reason(&e),
    })?;
    let meta = file.metadata().map_err(|e| WriteError::Io {
        path: shown(),
        reason: crate::read::fs::io_reason(&e),
    })?;
    if let Some(what) = crate::read::fs::not_regular(&meta) {
        return Err(refused(path, format!("is {what}: its mode is left alone")));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| WriteError::Io {
                path: shown(),
                reason: crate::read::fs::io_reason(&e),
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asked only: nothing is written to the device.
    #[test]
    fn a_device_is_never_replaceable() {
        let err = check_replaceable(Path::new("/dev/null")).unwrap_err();
        assert!(err.to_string().contains("a device"), "{err}");
    }

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
