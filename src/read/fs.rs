//! Reading a file the way every reader here does: capped, lossless about what went wrong.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Files larger than this are not read: no real project or AWS file comes near it.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

pub struct Text {
    pub text: String,
    /// Byte offset of the first invalid UTF-8 sequence, if any (the text is then lossy).
    pub invalid_utf8_at: Option<usize>,
}

/// What a path is when it is not a regular file ("a FIFO (named pipe)"), following symlinks.
pub fn not_regular(meta: &std::fs::Metadata) -> Option<&'static str> {
    let kind = meta.file_type();
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
        if kind.is_char_device() || kind.is_block_device() {
            return Some("a device");
        }
    }
    Some("not a regular file")
}

/// Opens a regular file for reading without ever blocking: a FIFO or device is refused before
/// it is opened, and the open itself is non-blocking in case the path changes in between.
pub fn open_regular(path: &Path) -> Result<(std::fs::File, u64), String> {
    let meta = std::fs::metadata(path).map_err(|e| io_reason(&e))?;
    if let Some(what) = not_regular(&meta) {
        return Err(format!("is {what}, not a regular file: not read"));
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let file = opts.open(path).map_err(|e| io_reason(&e))?;
    let meta = file.metadata().map_err(|e| io_reason(&e))?;
    if let Some(what) = not_regular(&meta) {
        return Err(format!("is {what}, not a regular file: not read"));
    }
    Ok((file, meta.len()))
}

/// Reads a file whole: a regular file only (never a FIFO or device: no wait), at most
/// `MAX_FILE_BYTES`. Every file the doctor reads comes through here.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, String> {
    let (file, size) = open_regular(path)?;
    read_open(file, size)
}

/// Reads an entry a directory listing showed as a regular file of a real folder: opened
/// without following a link (one that replaced it since is refused), checked to be a regular
/// file once open.
pub fn read_entry(path: &Path) -> Result<Text, String> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    let file = opts.open(path).map_err(|e| match e.raw_os_error() {
        #[cfg(unix)]
        Some(libc::ELOOP) => "is a link that appeared while reading: not read".to_string(),
        _ => io_reason(&e),
    })?;
    let meta = file.metadata().map_err(|e| io_reason(&e))?;
    if let Some(what) = not_regular(&meta) {
        return Err(format!("is {what}, not a regular file: not read"));
    }
    text_of(read_open(file, meta.len())?)
}

/// The bytes of an open regular file of `size` bytes (its fstat), at most `MAX_FILE_BYTES`,
/// in a buffer of that size.
fn read_open(file: std::fs::File, size: u64) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::with_capacity(usize::try_from(size.min(MAX_FILE_BYTES) + 1).unwrap_or(0));
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_reason(&e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "larger than {} MiB; not read",
            MAX_FILE_BYTES / 1024 / 1024
        ));
    }
    Ok(bytes)
}

/// Reads a text file. `Err` carries a one-line reason (permission denied, a folder, a FIFO,
/// too large).
pub fn read_text(path: &Path) -> Result<Text, String> {
    text_of(read_bytes(path)?)
}

fn text_of(bytes: Vec<u8>) -> Result<Text, String> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Text {
            text,
            invalid_utf8_at: None,
        }),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            Ok(Text {
                text: String::from_utf8_lossy(e.as_bytes()).into_owned(),
                invalid_utf8_at: Some(at),
            })
        }
    }
}

/// Reads a file of the project (a checkout: untrusted). It must resolve to a regular file
/// inside `root` (canonical): a link that leaves the project — to `~/.netrc`, `~/.aws/…` —
/// is refused with where it points, never followed and printed.
pub fn read_in_project(root: &Path, path: &Path) -> Result<Text, String> {
    let real = std::fs::canonicalize(path).map_err(|e| io_reason(&e))?;
    read_resolved_in_project(root, &real)
}

/// Reads `real` (a canonical path) when it lies inside `root`; refuses it with where it is
/// otherwise.
fn read_resolved_in_project(root: &Path, real: &Path) -> Result<Text, String> {
    if !real.starts_with(root) {
        return Err(format!(
            "is a link to {}, outside the project: not read",
            crate::secrets::escape_controls(&display_home(real), false)
        ));
    }
    read_text(real)
}

/// `read_in_project` for a link listed in `dir`, a real folder of the project (canonical: walked
/// from the canonical root without following links). Its target's leading `..` are taken off
/// `dir` by hand (no link can sit in between), so the links of many layers that point at one
/// shared file (`../../config/common-variables.tf`) resolve to one path, canonicalized once:
/// `resolved` keeps what each such path resolved to.
pub fn read_link_in_project(
    root: &Path,
    dir: &Path,
    path: &Path,
    resolved: &mut std::collections::HashMap<PathBuf, Result<PathBuf, String>>,
) -> Result<Text, String> {
    let target = std::fs::read_link(path).map_err(|e| io_reason(&e))?;
    let mut joined = dir.to_path_buf();
    let mut components = target.components().peekable();
    while let Some(std::path::Component::ParentDir) = components.peek() {
        joined.pop();
        components.next();
    }
    joined.extend(components);
    let real = resolved
        .entry(joined)
        .or_insert_with_key(|joined| std::fs::canonicalize(joined).map_err(|e| io_reason(&e)))
        .clone()?;
    read_resolved_in_project(root, &real)
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::NotFound => "not found".into(),
        _ => {
            let s = e.to_string();
            // "Too many levels of symbolic links (os error 40)" → keep the words only.
            s.split(" (os error").next().unwrap_or(&s).to_lowercase()
        }
    }
}

/// `~/…` for paths in HOME, else the path as it is.
pub fn display_home(path: &Path) -> String {
    match home_dir().and_then(|h| path.strip_prefix(h).ok().map(Path::to_path_buf)) {
        Some(rel) => format!("~/{}", rel.display()),
        None => path.display().to_string(),
    }
}

/// The user's home folder (HOME), if set.
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A link read by `read_link_in_project` (leading `..` taken off its canonical folder,
    /// the rest canonicalized once) reads what `read_in_project` reads, and refuses what it
    /// refuses: links inside, out past the root, through a linked folder, absolute, dangling.
    #[test]
    fn a_layer_link_resolves_as_canonicalize_does() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let root = base.join("project");
        let outside = base.join("outside/deep/er");
        let layer = root.join("acct/us-east-1/layer");
        std::fs::create_dir_all(&layer).unwrap();
        std::fs::create_dir_all(root.join("config")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(root.join("config/common.tf"), "inside").unwrap();
        std::fs::write(base.join("outside/secret.tf"), "outside").unwrap();
        symlink(&outside, root.join("acct/linked")).unwrap();
        let links = [
            ("in.tf", "../../../config/common.tf".to_string()),
            ("up.tf", "../../../../outside/secret.tf".to_string()),
            // `linked` leads out; the `..` after it are the real parents of where it leads.
            ("via.tf", "../../linked/../../secret.tf".to_string()),
            (
                "abs.tf",
                base.join("outside/secret.tf").display().to_string(),
            ),
            ("gone.tf", "../nothing.tf".to_string()),
            ("self.tf", "self.tf".to_string()),
        ];
        let mut resolved = std::collections::HashMap::new();
        for (name, target) in links {
            let path = layer.join(name);
            symlink(&target, &path).unwrap();
            let fast = read_link_in_project(&root, &layer, &path, &mut resolved).map(|t| t.text);
            let slow = read_in_project(&root, &path).map(|t| t.text);
            assert_eq!(fast, slow, "{name} -> {target}");
        }
        assert_eq!(
            read_link_in_project(&root, &layer, &layer.join("in.tf"), &mut resolved)
                .unwrap()
                .text,
            "inside"
        );
        assert!(read_link_in_project(&root, &layer, &layer.join("via.tf"), &mut resolved).is_err());
    }
}
