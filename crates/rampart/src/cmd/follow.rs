//! Inputs for `rampart detect --follow`: a file followed as it grows and stdin read as it
//! arrives, both saying "nothing yet" every poll (so aggregated alerts whose window has passed
//! are sent while the input is quiet) and both ending when SIGINT or SIGTERM arrives, so that
//! the last alerts are sent and baselines saved before rampart exits.

use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// How often a quiet input is looked at again.
const POLL: Duration = Duration::from_millis(250);

/// A flag set by the first SIGINT or SIGTERM; a second one ends the process at once (exit 130)
/// in case the first cannot be honoured.
pub fn stop_on_signals() -> std::io::Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        // registered first, so it sees the flag as the previous signal left it
        signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&stop))?;
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    Ok(stop)
}

/// A file read from its start and then followed as it grows (`tail -f`). A file that shrinks
/// or is replaced (rotation) is read again from its start.
pub struct Tail {
    path: PathBuf,
    file: std::fs::File,
    pos: u64,
    stop: Arc<AtomicBool>,
}

impl Tail {
    pub fn open(path: &Path, stop: Arc<AtomicBool>) -> std::io::Result<Tail> {
        Ok(Tail {
            path: path.to_path_buf(),
            file: std::fs::File::open(path)?,
            pos: 0,
            stop,
        })
    }

    /// Whether the path now names another file, or the file got shorter than what was read.
    fn replaced(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(&self.path), self.file.metadata()) {
            (Ok(now), Ok(open)) => now.ino() != open.ino() || now.len() < self.pos,
            _ => false,
        }
    }
}

impl Read for Tail {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return Ok(0);
        }
        let n = self.file.read(buf)?;
        if n > 0 {
            self.pos += n as u64;
            return Ok(n);
        }
        if self.replaced() {
            self.file = std::fs::File::open(&self.path)?;
            self.pos = 0;
        }
        std::thread::sleep(POLL);
        Err(ErrorKind::WouldBlock.into())
    }
}

/// Stdin read by a thread of its own, so that a quiet pipe still lets the reader poll (and a
/// signal end the run) instead of blocking in `read`.
pub struct Piped {
    from: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    held: Vec<u8>,
    at: usize,
    stop: Arc<AtomicBool>,
    ended: bool,
}

impl Piped {
    pub fn stdin(stop: Arc<AtomicBool>) -> Piped {
        Piped::new(Box::new(std::io::stdin()), stop)
    }

    pub fn new(mut input: Box<dyn Read + Send>, stop: Arc<AtomicBool>) -> Piped {
        let (to, from) = mpsc::sync_channel(4);
        std::thread::spawn(move || {
            loop {
                let mut buf = vec![0u8; 64 * 1024];
                let r = match input.read(&mut buf) {
                    Ok(n) => {
                        buf.truncate(n);
                        Ok(buf)
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => Err(e),
                };
                let last = !matches!(&r, Ok(b) if !b.is_empty());
                if to.send(r).is_err() || last {
                    break;
                }
            }
        });
        Piped {
            from,
            held: Vec::new(),
            at: 0,
            stop,
            ended: false,
        }
    }
}

impl Read for Piped {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at < self.held.len() {
            let n = buf.len().min(self.held.len() - self.at);
            buf[..n].copy_from_slice(&self.held[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        if self.ended || self.stop.load(Ordering::Relaxed) {
            return Ok(0);
        }
        match self.from.recv_timeout(POLL) {
            Ok(Ok(data)) if data.is_empty() => {
                self.ended = true;
                Ok(0)
            }
            Ok(Ok(data)) => {
                self.held = data;
                self.at = 0;
                self.read(buf)
            }
            Ok(Err(e)) => {
                self.ended = true;
                Err(e)
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Err(ErrorKind::WouldBlock.into()),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                self.ended = true;
                Ok(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Reads until `want` bytes came or the input ended, counting the "nothing yet" answers.
    fn read_some(r: &mut dyn Read, want: usize) -> (Vec<u8>, usize) {
        let (mut got, mut waits) = (Vec::new(), 0);
        let mut buf = [0u8; 16];
        while got.len() < want {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => waits += 1,
                Err(e) => panic!("{e}"),
            }
        }
        (got, waits)
    }

    #[test]
    fn a_followed_file_is_read_as_it_grows_and_after_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("events.jsonl");
        std::fs::write(&p, "first\n").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let mut t = Tail::open(&p, Arc::clone(&stop)).unwrap();
        assert_eq!(read_some(&mut t, 6).0, b"first\n");
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"second\n").unwrap();
        assert_eq!(read_some(&mut t, 7).0, b"second\n");
        // quiet: "nothing yet", not the end
        let mut buf = [0u8; 8];
        assert_eq!(t.read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
        // replaced by a new file (log rotation): read from its start
        let q = dir.path().join("new.jsonl");
        std::fs::write(&q, "third\n").unwrap();
        std::fs::rename(&q, &p).unwrap();
        let (got, _) = read_some(&mut t, 6);
        assert_eq!(got, b"third\n");
        stop.store(true, Ordering::Relaxed);
        assert_eq!(t.read(&mut buf).unwrap(), 0, "a stop ends the input");
    }

    #[test]
    fn piped_input_polls_while_quiet_and_ends_with_its_writer() {
        let (r, mut w) = std::io::pipe().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let mut p = Piped::new(Box::new(r), Arc::clone(&stop));
        w.write_all(b"one\n").unwrap();
        assert_eq!(read_some(&mut p, 4).0, b"one\n");
        let mut buf = [0u8; 8];
        assert_eq!(p.read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
        w.write_all(b"two\n").unwrap();
        drop(w);
        let (got, _) = read_some(&mut p, 100);
        assert_eq!(got, b"two\n", "read to the end of the pipe");
        // a stop ends a quiet pipe too
        let (r2, _w2) = std::io::pipe().unwrap();
        let mut p2 = Piped::new(Box::new(r2), Arc::clone(&stop));
        stop.store(true, Ordering::Relaxed);
        assert_eq!(p2.read(&mut buf).unwrap(), 0);
    }
}
