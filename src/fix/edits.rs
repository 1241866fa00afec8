//! The edits of `check --fix`: the findings' fixes that are edits, per file, applied to a
//! text without touching any other byte.

use crate::diagnostic::{Applicability, Diagnostic, EditChange};
use crate::source::FileId;
use std::collections::BTreeMap;
use std::ops::Range;

/// The edits to make, per file: the safe ones, and the unsafe ones too when asked. A fix
/// that overlaps one already taken is left for the next run.
pub fn plan(
    diagnostics: &[Diagnostic],
    unsafe_too: bool,
) -> BTreeMap<FileId, Vec<(Range<usize>, String)>> {
    let mut out: BTreeMap<FileId, Vec<(Range<usize>, String)>> = BTreeMap::new();
    for d in diagnostics {
        // A fix's edits go in together or not at all.
        let mut taken: Vec<(FileId, Range<usize>, String)> = Vec::new();
        let mut whole = true;
        for edit in d.edits() {
            if edit.applicability == Applicability::Unsafe && !unsafe_too {
                whole = false;
                break;
            }
            let (Some(range), EditChange::Replace(replacement)) =
                (edit.span.range.clone(), &edit.change)
            else {
                continue;
            };
            let overlaps = |r: &Range<usize>| r.start < range.end && range.start < r.end;
            let clash = out
                .get(&edit.span.file)
                .is_some_and(|edits| edits.iter().any(|(r, _)| overlaps(r)))
                || taken
                    .iter()
                    .any(|(f, r, _)| *f == edit.span.file && overlaps(r));
            if clash {
                whole = false;
                break;
            }
            taken.push((edit.span.file, range, replacement.clone()));
        }
        if !whole {
            continue;
        }
        for (file, range, replacement) in taken {
            out.entry(file).or_default().push((range, replacement));
        }
    }
    out
}

/// The files whose permission bits to set, and to what.
pub fn modes(diagnostics: &[Diagnostic]) -> BTreeMap<FileId, u32> {
    diagnostics
        .iter()
        .filter_map(|d| d.edit.as_ref())
        .filter_map(|e| match e.change {
            EditChange::Mode(mode) => Some((e.span.file, mode)),
            EditChange::Replace(_) => None,
        })
        .collect()
}

/// `text` with every edit made, or `None` when a range does not fit it (the file changed).
pub fn apply(text: &str, edits: &[(Range<usize>, String)]) -> Option<String> {
    let mut sorted: Vec<&(Range<usize>, String)> = edits.iter().collect();
    sorted.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = text.to_string();
    for (range, replacement) in sorted {
        out.get(range.clone())?;
        out.replace_range(range.clone(), replacement);
    }
    Some(out)
}

/// How many edits of each kind the findings hold: (safe, unsafe).
pub fn counts(diagnostics: &[Diagnostic]) -> (usize, usize) {
    diagnostics
        .iter()
        .filter_map(|d| d.edit.as_ref())
        .fold((0, 0), |(s, u), e| match e.applicability {
            Applicability::Safe => (s + 1, u),
            Applicability::Unsafe => (s, u + 1),
        })
}

#[cfg(test)]
mod tests {
    use super::apply;

    #[test]
    fn edits_keep_every_other_byte() {
        let text = "[profile a]\nx = 1\n[profile b]\n";
        let out = apply(text, &[(0..11, "[a]".into()), (18..29, "[b]".into())]).unwrap();
        assert_eq!(out, "[a]\nx = 1\n[b]\n");
        assert_eq!(apply("short", &[(3..40, "x".into())]), None);
    }
}
