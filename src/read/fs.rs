//! Reading a file the way every reader here does: capped, lossless about what went wrong.

use std::io::Read;
use std::path::Path;

/// Files larger than this are not read: no real project or AWS file comes near it.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

pub struct Text {
    pub text: String,
    /// Byte offset of the first invalid UTF-8 sequence, if any (the text is then lossy).
    pub invalid_utf8_at: Option<usize>,
}

/// Reads a text file. `Err` carries a one-line reason (permission denied, a folder, too large).
pub fn read_text(path: &Path) -> Result<Text, String> {
    let file = std::fs::File::open(path).map_err(|e| io_reason(&e))?;
    let meta = file.metadata().map_err(|e| io_reason(&e))?;
    if meta.is_dir() {
        return Err("is a folder, not a file".into());
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_reason(&e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "larger than {} MiB; not read",
            MAX_FILE_BYTES / 1024 / 1024
        ));
    }
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
