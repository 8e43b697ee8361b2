//! The CloudTrail input of `policy generate` and `iam unused`: a file, a directory in the S3
//! delivery layout, `-` for stdin, or `s3://bucket/prefix`, read as `rampart detect` reads them
//! (key-date pruning by the window included), each event handed over parsed.

use crate::cli::Global;
use crate::cmd::{output, s3};
use rampart_detect::Event;
use rampart_detect::input::{self, Issue, Parsed, ReadStats, Reader};
use std::path::Path;

/// Hands every event of `from` to `each`; unreadable files and records are reported on stderr
/// and counted, never fatal. Returns the read's counters.
pub fn for_each_event(
    g: &Global,
    from: &str,
    since: Option<i64>,
    until: Option<i64>,
    each: &mut dyn FnMut(&Event<'_>),
) -> anyhow::Result<ReadStats> {
    let mut stats = ReadStats::default();
    let mut reader = Reader::new();
    let mut issues: Vec<Issue> = Vec::new();
    let mut bad = 0u64;
    let mut parsed = |p: Parsed<'_, '_>| match p {
        Parsed::Events(events, _) => events.iter().for_each(&mut *each),
        Parsed::NotAnEvent(..) => bad += 1,
    };
    if from == "-" {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut text)
            .map_err(|e| anyhow::anyhow!("cannot read CloudTrail from stdin: {e}"))?;
        reader.read_bytes_batches("stdin", &text, &mut stats, &mut issues, &mut parsed);
    } else if from.starts_with("s3://") {
        s3::for_each_object(g, from, since, until, &mut |name, data| {
            stats.files += 1;
            match data {
                Ok(d) => reader.read_bytes_batches(name, &d, &mut stats, &mut issues, &mut parsed),
                Err(message) => {
                    stats.skipped += 1;
                    issues.push(Issue {
                        location: name.to_string(),
                        message,
                    });
                }
            }
        })?;
    } else {
        let files = input::discover(Path::new(from), since, until).map_err(anyhow::Error::msg)?;
        if files.is_empty() {
            output::note(
                g,
                format!(
                    "rampart: warning: {from}: no CloudTrail files found (.json.gz, .json, .jsonl)"
                ),
            );
        }
        for f in &files {
            reader.read_file_batches(f, &mut stats, &mut issues, &mut parsed);
        }
    }
    for i in &issues {
        output::note(g, format!("rampart: warning: {i}"));
    }
    stats.skipped += bad;
    Ok(stats)
}
