//! Pure transformations that repair files: what to write, never how (see `write.rs`).

pub mod edits;
pub mod ini_edit;
pub mod layout;
pub mod reset;
