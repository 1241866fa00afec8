//! `--format github`: one GitHub Actions workflow command per diagnostic
//! (`::error file=…,line=…,col=…,title=LD102 profile-missing::message`).

use super::{Report, place};
use crate::diagnostic::Severity;

/// Escapes the message part (`%`, CR, LF), as the Actions toolkit does; other control
/// characters become visible escapes and the older `##[` command form is broken up.
fn data(s: &str) -> String {
    let s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    crate::secrets::escape_controls(&s, false).replace("##[", "#\\#[")
}

/// Escapes a property value (also `:` and `,`).
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = Vec::new();
        if let Some(label) = &d.primary {
            let p = place(&report.model.sources, &label.span);
            props.push(format!("file={}", property(&p.file)));
            if let Some(line) = p.line {
                props.push(format!("line={line}"));
            }
            if let Some(col) = p.column {
                props.push(format!("col={col}"));
            }
        }
        props.push(format!(
            "title={}",
            property(&format!("{} {}", d.rule, d.name))
        ));
        let mut message = d.message.clone();
        if let Some(fix) = &d.fix {
            message.push_str(&format!("\nfix: {fix}"));
        }
        out.push_str(&format!(
            "::{command} {}::{}\n",
            props.join(","),
            data(&message)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(property("x:y,z"), "x%3Ay%2Cz");
        assert_eq!(data("a\x1b[2Jb ##[error]"), "a\\u{1b}[2Jb #\\#[error]");
    }
}
