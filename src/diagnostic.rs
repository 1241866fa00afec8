//! What a rule reports: a finding with its places, its help and its fix.

use crate::source::Span;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Whether a fix may be applied without asking what the user meant (ruff's terms): `Safe`
/// keeps what every reader does with the file, `Unsafe` changes it on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    Safe,
    Unsafe,
}

/// A fix as data: this text in place of the span, or the file's permission bits.
#[derive(Debug, Clone)]
pub struct Edit {
    pub span: Span,
    pub change: EditChange,
    pub applicability: Applicability,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditChange {
    Replace(String),
    /// `chmod` of the whole file (`span` names it).
    Mode(u32),
}

#[derive(Debug, Clone)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub rule: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// What is wrong: lower-case, no final period.
    pub message: String,
    /// Where: `None` only when there is no file to point at (e.g. an environment variable).
    pub primary: Option<Label>,
    pub related: Vec<Label>,
    pub profile: Option<String>,
    /// Why it matters or what to look at.
    pub help: Option<String>,
    /// The exact fix: a command to run or the lines to add.
    pub fix: Option<String>,
    /// The fix as an edit `check --fix` can apply, when it is one.
    pub edit: Option<Edit>,
    /// Further edits of the same fix (the same misspelt name at its other places): applied
    /// with `edit`, all or none.
    pub more_edits: Vec<Edit>,
}

impl Diagnostic {
    /// The fix as an edit: `replacement` in place of `span`.
    pub fn edit(
        mut self,
        span: Span,
        replacement: impl Into<String>,
        applicability: Applicability,
    ) -> Self {
        self.edit = Some(Edit {
            span,
            change: EditChange::Replace(replacement.into()),
            applicability,
        });
        self
    }

    /// One more place the same fix edits (after `edit`).
    pub fn also_edit(
        mut self,
        span: Span,
        replacement: impl Into<String>,
        applicability: Applicability,
    ) -> Self {
        self.more_edits.push(Edit {
            span,
            change: EditChange::Replace(replacement.into()),
            applicability,
        });
        self
    }

    /// Every edit of the fix, `edit` first.
    pub fn edits(&self) -> impl Iterator<Item = &Edit> {
        self.edit.iter().chain(&self.more_edits)
    }

    /// The fix as a change of the file's permission bits.
    pub fn mode_edit(mut self, file: crate::source::FileId, mode: u32) -> Self {
        self.edit = Some(Edit {
            span: Span::whole(file),
            change: EditChange::Mode(mode),
            applicability: Applicability::Safe,
        });
        self
    }

    pub fn at(mut self, span: Span, message: impl Into<String>) -> Self {
        self.primary = Some(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn related(mut self, span: Span, message: impl Into<String>) -> Self {
        self.related.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    /// How the fix may be applied: `None` when there is no fix, `Manual` when it is advice or a
    /// command for a person, otherwise the least safe of its edits (all or none apply).
    pub fn fix_applicability(&self) -> Option<FixApplicability> {
        if self.edit.is_none() {
            return self.fix.as_ref().map(|_| FixApplicability::Manual);
        }
        Some(
            if self
                .edits()
                .any(|e| e.applicability == Applicability::Unsafe)
            {
                FixApplicability::Unsafe
            } else {
                FixApplicability::Safe
            },
        )
    }

    /// The command the fix runs, when its first line is one (`leverage-doctor …`, `leverage …`),
    /// without the explanation that may follow it after three spaces.
    pub fn fix_command(&self) -> Option<&str> {
        let line = self.fix.as_deref()?.lines().next()?.trim();
        let command = line.split("   ").next()?.trim();
        (command.starts_with("leverage-doctor ") || command.starts_with("leverage "))
            .then_some(command)
    }
}

/// A fix's applicability in the reports: the two of an edit, or advice a person follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FixApplicability {
    Safe,
    Unsafe,
    Manual,
}
