//! One file per subcommand: each wires read → rules → report.

pub mod check;
pub mod completions;
pub mod credential_process;
pub mod env;
pub mod exec;
pub mod explain;
pub mod refresh;
pub mod regen_config;
pub mod sso_login;
pub mod sso_reset;
pub mod status;

use crate::cli::Global;
use crate::read::ReadSettings;
pub use crate::read::{project_and_aws, sso_settings};
use std::io::Write;

/// How a command ended (ruff's `ExitStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Nothing at or above the failing severity.
    Clean,
    /// Findings that fail the run.
    Findings,
    /// A child's exit code, passed through (`exec`).
    Code(u8),
}

/// Writes to stdout through the output gate (secrets scrubbed, controls escaped, no workflow
/// command); a closed pipe (`| head`) is not an error.
pub fn print(text: &str) -> anyhow::Result<()> {
    print_coloured(text, false)
}

/// `print` for text that may hold our own colour codes (when `colour` is on).
pub fn print_coloured(text: &str, colour: bool) -> anyhow::Result<()> {
    write_gated(text, |block| crate::secrets::for_output(block, colour))
}

/// `--format github`: workflow commands are the point, so the line guard is not applied; the
/// renderer escapes every value inside them.
pub fn print_commands(text: &str) -> anyhow::Result<()> {
    write_gated(text, |block| {
        crate::secrets::escape_controls(&crate::secrets::scrub(block), true)
    })
}

/// JSON and SARIF: see `secrets::for_json_output` (the text stays valid JSON).
pub fn print_json(text: &str) -> anyhow::Result<()> {
    write_gated(text, crate::secrets::for_json_output)
}

/// `print_json` for a document written piece by piece (`write`), never held whole: at ten
/// thousand layers the JSON report is the largest thing the run allocates.
pub fn stream_json(
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let mut out = Gated::new(std::io::stdout().lock(), crate::secrets::for_json_output);
    let result = write(&mut out).and_then(|()| out.finish());
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Writes `text` through `gate` a block of whole lines at a time, so that the report of a
/// project with thousands of layers is not held three times over.
fn write_gated(text: &str, gate: impl Fn(&str) -> String) -> anyhow::Result<()> {
    let mut out = Gated::new(std::io::stdout().lock(), gate);
    let result = out.write_all(text.as_bytes()).and_then(|()| out.finish());
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// A writer that hands what it is given to `gate` a block of whole lines at a time, then to
/// `out`. Every gate works line by line (no secret holds a line break:
/// `secrets::line_bounded`; else everything is held and gated whole by `finish`).
struct Gated<W: Write, G: Fn(&str) -> String> {
    out: W,
    gate: G,
    pending: Vec<u8>,
    block: usize,
}

impl<W: Write, G: Fn(&str) -> String> Gated<W, G> {
    fn new(out: W, gate: G) -> Self {
        let block = if crate::secrets::line_bounded() {
            GATE_BLOCK
        } else {
            usize::MAX
        };
        Self::with_block(out, gate, block)
    }

    fn with_block(out: W, gate: G, block: usize) -> Self {
        Gated {
            out,
            gate,
            pending: Vec::new(),
            block,
        }
    }

    /// Gates and writes the first `len` bytes held (they end a line, or the text).
    fn pass(&mut self, len: usize) -> std::io::Result<()> {
        let gated = (self.gate)(&String::from_utf8_lossy(&self.pending[..len]));
        self.pending.drain(..len);
        self.out.write_all(gated.as_bytes())
    }

    /// The held lines, up to the last line break.
    fn pass_lines(&mut self) -> std::io::Result<()> {
        match self.pending.iter().rposition(|b| *b == b'\n') {
            Some(at) => self.pass(at + 1),
            None => Ok(()),
        }
    }

    /// Everything held, the last line too, and the output flushed.
    fn finish(&mut self) -> std::io::Result<()> {
        self.pass(self.pending.len())?;
        self.out.flush()
    }
}

impl<W: Write, G: Fn(&str) -> String> Write for Gated<W, G> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= self.block {
            self.pass_lines()?;
        }
        Ok(buf.len())
    }

    /// Whole lines only: a line cut in two could split a secret between two gates.
    fn flush(&mut self) -> std::io::Result<()> {
        self.pass_lines()?;
        self.out.flush()
    }
}

const GATE_BLOCK: usize = 256 * 1024;

/// Where the user stands relative to the project `root`, for the human report's paths.
pub fn here(root: &std::path::Path) -> crate::report::human::Here {
    use crate::report::human::{Here, Where};
    let here = |at| Here {
        root: root.to_path_buf(),
        at,
    };
    let (Ok(cwd), Ok(real_root)) = (
        std::env::current_dir().and_then(std::fs::canonicalize),
        std::fs::canonicalize(root),
    ) else {
        return here(Where::Root);
    };
    if let Ok(below) = cwd.strip_prefix(&real_root) {
        let parts: Vec<String> = below
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        return here(if parts.is_empty() {
            Where::Root
        } else {
            Where::Inside(parts)
        });
    }
    if let Ok(down) = real_root.strip_prefix(&cwd) {
        return here(Where::Outside(down.to_string_lossy().into_owned()));
    }
    let home = crate::read::home_dir().and_then(|h| std::fs::canonicalize(h).ok());
    here(
        match home.as_ref().and_then(|h| real_root.strip_prefix(h).ok()) {
            Some(rest) => Where::Outside(format!("~/{}", rest.to_string_lossy())),
            None => Where::Outside(real_root.to_string_lossy().into_owned()),
        },
    )
}

/// The columns tables may take: `COLUMNS` when set (as `ls` and `git` honour it), else the
/// terminal's width when stdout is one; None for a pipe or a file (no limit).
pub fn terminal_width() -> Option<u16> {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<u16>().ok())
        .filter(|n| *n >= 20)
    {
        return Some(n);
    }
    terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| w.0)
}

pub fn use_color(choice: crate::cli::ColorChoice) -> bool {
    use std::io::IsTerminal;
    match choice {
        crate::cli::ColorChoice::Always => true,
        crate::cli::ColorChoice::Never => false,
        crate::cli::ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
                && !in_ci()
                && std::io::stdout().is_terminal()
        }
    }
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Asks before writing. `--yes` answers for the user; without a terminal (or in CI) there is
/// no one to ask, so the command stops rather than guess.
pub fn confirm(write: &crate::cli::WriteArgs, question: &str) -> anyhow::Result<bool> {
    use std::io::IsTerminal;
    if write.yes {
        return Ok(true);
    }
    if in_ci() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "stdin is not a terminal: pass --yes to write, or --dry-run to only see the changes"
        );
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// The terminal a live check asks MFA codes on and shows its progress on; neither in CI.
pub struct Terminal {
    interactive: bool,
    bar: Option<indicatif::ProgressBar>,
}

impl Terminal {
    pub fn new(interactive: bool, progress: bool) -> Terminal {
        let bar = progress.then(|| {
            let bar = indicatif::ProgressBar::hidden();
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} checking profiles live {pos}/{len} {wide_bar} {elapsed}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Terminal { interactive, bar }
    }
}

impl crate::read::live::Console for Terminal {
    fn ask(&self, question: &str) -> Option<String> {
        use std::io::Write;
        if !self.interactive {
            return None;
        }
        eprint!("{}", crate::secrets::for_output(question, false));
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).ok()?;
        let code = line.trim().to_string();
        (!code.is_empty()).then_some(code)
    }

    fn progress(&self, done: usize, total: usize) {
        let Some(bar) = &self.bar else { return };
        if done == 0 {
            bar.set_length(total as u64);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.enable_steady_tick(std::time::Duration::from_millis(100));
        }
        bar.set_position(done as u64);
        if done >= total {
            bar.finish_and_clear();
        }
    }
}

/// What every command reads, from the command line once: the path (default `.`), the AWS
/// folder and Leverage version overrides; no program started. `check` adds its own.
pub fn read_settings(path: Option<&std::path::PathBuf>, global: &Global) -> ReadSettings {
    ReadSettings {
        path: path.cloned().unwrap_or_else(|| ".".into()),
        aws_dir: global.aws_dir.clone(),
        all: false,
        config: None,
        leverage_version: global.leverage_version.clone(),
        programs: crate::read::Programs::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The gate taken a block at a time gives what it gives the whole text: secrets that sit
    /// astride every block boundary, key ids, `::` lines and colour codes alike.
    #[test]
    fn the_gate_by_blocks_is_the_gate_whole() {
        crate::secrets::register("s3cr3t-value-astride-blocks");
        let line = "x = s3cr3t-value-astride-blocks AKIAABCDEFGHIJKLMNOP é\n::warning ok\n\x1b[1mb\x1b[0m ##[x\r\n";
        let text = line.repeat(5000) + "last line without a break s3cr3t-value-astride-blocks";
        for size in [1, 7, 64, 1000, GATE_BLOCK, usize::MAX] {
            for gate in [
                |t: &str| crate::secrets::for_output(t, true),
                crate::secrets::for_json_output,
            ] {
                // Written in pieces of every size, as a serializer writes, flushed midway.
                let mut out = Vec::new();
                let mut gated = Gated::with_block(&mut out, gate, size);
                for (i, piece) in text.as_bytes().chunks(13 + size % 5).enumerate() {
                    gated.write_all(piece).unwrap();
                    if i == 100 {
                        gated.flush().unwrap();
                    }
                }
                gated.finish().unwrap();
                let by_blocks = String::from_utf8(out).unwrap();
                assert_eq!(by_blocks, gate(&text), "block size {size}");
                assert!(!by_blocks.contains("s3cr3t"));
            }
        }
    }
}
