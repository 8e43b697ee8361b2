//! Where a verb's main output goes: `--output FILE` or stdout. Logs and progress go to stderr.

use crate::cli::Global;
use anyhow::Context;
use std::io::{IsTerminal, Write};

/// Writes the verb's main output to `--output` (if given) or stdout.
pub fn emit(g: &Global, text: &str) -> anyhow::Result<()> {
    match &g.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write output file {}", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .or_else(|e| {
                    // A closed pipe (`rampart … | head`) is not an error.
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })
                .context("cannot write to stdout")
        }
    }
}

/// True when the main output goes to a terminal (tables by default, colour allowed).
pub fn to_terminal(g: &Global) -> bool {
    g.output.is_none() && std::io::stdout().is_terminal()
}

/// Progress and summaries for humans, on stderr, unless `--quiet`.
pub fn note(g: &Global, msg: impl AsRef<str>) {
    if !g.quiet {
        eprintln!("{}", msg.as_ref());
    }
}
