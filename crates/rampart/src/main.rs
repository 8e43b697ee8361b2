//! `rampart`: the command-line front of the rampart crates. Each verb lives in `cmd/<verb>.rs`;
//! this file only parses arguments, dispatches, and turns errors into exit codes.

mod allocator;
mod cli;
mod cmd;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc: detection builds and drops an alert's strings by the thousand, and the audit a
/// snapshot's; glibc's allocator made that a measurable share of `rampart detect`'s time
/// (BENCHMARKS.md, detection).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    allocator::keep_freed_memory();
    let cli = cli::Cli::parse();
    match cmd::run(&cli) {
        Ok(code) => code.into(),
        Err(err) => {
            // One line per cause: the first names what failed, the rest say why.
            let mut msg = format!("rampart: error: {err}");
            for cause in err.chain().skip(1) {
                msg.push_str(&format!(": {cause}"));
            }
            eprintln!("{msg}");
            cli::Exit::Error.into()
        }
    }
}
