//! An event feed over a local directory: CloudTrail files (`.json`, `.json.gz`, `.jsonl`) that
//! appear in it while the drill waits. On the emulator, which writes no CloudTrail, a test
//! harness puts the records there; the organization trail's bucket is read by the CLI instead.

use crate::run::EventFeed;
use rampart_detect::input::{Parsed, ReadStats, Reader};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Reads each file under a directory once, when it first appears. A writer should create the
/// file complete (write elsewhere, then rename into the directory).
pub struct DirFeed {
    root: PathBuf,
    seen: HashSet<PathBuf>,
    reader: Reader,
}

impl DirFeed {
    pub fn new(root: &Path) -> DirFeed {
        DirFeed {
            root: root.to_path_buf(),
            seen: HashSet::new(),
            reader: Reader::new(),
        }
    }
}

impl EventFeed for DirFeed {
    fn name(&self) -> String {
        format!("directory {}", self.root.display())
    }

    fn poll(&mut self) -> Result<Vec<Vec<u8>>, String> {
        if !self.root.is_dir() {
            return Err(format!(
                "{} is not a directory; create it or pass the directory the CloudTrail records are written to",
                self.root.display()
            ));
        }
        let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&self.root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| e.into_path())
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .filter(|p| !self.seen.contains(p))
            .collect();
        files.sort();
        let mut records = Vec::new();
        for path in files {
            let data =
                std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let mut stats = ReadStats::default();
            let mut issues = Vec::new();
            let name = path.display().to_string();
            self.reader
                .read_bytes_batches(&name, &data, &mut stats, &mut issues, &mut |p| {
                    if let Parsed::Events(events, _) = p {
                        records.extend(events.iter().map(|e| e.raw().to_vec()));
                    }
                });
            self.seen.insert(path);
        }
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_file_is_read_once_and_hidden_files_wait() {
        let dir = tempfile::tempdir().unwrap();
        let mut feed = DirFeed::new(dir.path());
        assert!(feed.poll().unwrap().is_empty());
        let rec = r#"{"Records":[{"eventVersion":"1.09","eventTime":"2026-12-06T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","eventID":"e1","recipientAccountId":"111122223333"}]}"#;
        std::fs::write(dir.path().join(".partial"), rec).unwrap();
        assert!(
            feed.poll().unwrap().is_empty(),
            "hidden files are being written"
        );
        std::fs::rename(dir.path().join(".partial"), dir.path().join("a.json")).unwrap();
        let got = feed.poll().unwrap();
        assert_eq!(got.len(), 1);
        assert!(String::from_utf8_lossy(&got[0]).contains("CreateUser"));
        assert!(feed.poll().unwrap().is_empty(), "read once");
        let missing = DirFeed::new(&dir.path().join("nope")).poll().unwrap_err();
        assert!(missing.contains("nope"), "{missing}");
    }
}
