//! Reading a stream (stdin, a pipe, a file that grows) in bounded memory: what has arrived is
//! cut after its last complete document and read (see [`crate::documents`]); the rest waits for
//! more. Gzip is detected by its magic bytes and decompressed as it streams (members one after
//! another, as `cat *.json.gz` gives them). Memory holds one document at a time, at most
//! [`MAX_DOCUMENT`] bytes, whatever the length of the stream.

use crate::documents::{Place, read_documents};
use crate::read::{Issue, Parsed, ReadStats};
use std::io::{ErrorKind, Read};

/// The largest document a stream may hold (a CloudTrail object is a few MB).
pub const MAX_DOCUMENT: usize = 1 << 30;

/// How much is read at a time.
const CHUNK: usize = 256 * 1024;

/// What a stream's reader hands its events to.
pub trait Consumer {
    /// Events as they are read, a run at a time (see [`Parsed`]).
    fn parsed(&mut self, p: Parsed<'_, '_>);
    /// What has arrived is read, or nothing is there yet: a moment to send what is pending.
    /// `issues` holds what the reader found since the last call (the consumer takes them).
    fn idle(&mut self, issues: &mut Vec<Issue>);
}

/// Reads every document of `input` as it arrives, until the stream ends. The consumer's
/// `idle` is called after each part of the stream has been read, and whenever `input`
/// reports that nothing is there yet (`ErrorKind::WouldBlock` or `TimedOut`, as a follow
/// mode's reader does).
pub fn read_stream(
    name: &str,
    input: &mut dyn Read,
    stats: &mut ReadStats,
    issues: &mut Vec<Issue>,
    to: &mut dyn Consumer,
) {
    let mut head = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match input.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if waiting(&e) => to.idle(issues),
            Err(e) => {
                issues.push(Issue {
                    location: name.to_string(),
                    message: format!("cannot read: {e}"),
                });
                stats.skipped += 1;
                return;
            }
        }
    }
    let head = std::io::Cursor::new(head[..got].to_vec());
    if head.get_ref().starts_with(&[0x1f, 0x8b]) {
        let mut gz = flate2::read::MultiGzDecoder::new(head.chain(input));
        documents(name, &mut gz, true, stats, issues, to);
    } else {
        documents(name, &mut head.chain(input), false, stats, issues, to);
    }
}

fn waiting(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
    )
}

fn documents(
    name: &str,
    input: &mut dyn Read,
    gzip: bool,
    stats: &mut ReadStats,
    issues: &mut Vec<Issue>,
    to: &mut dyn Consumer,
) {
    let mut buf: Vec<u8> = Vec::new();
    let mut place = Place::default();
    let mut eof = false;
    let mut empty = true;
    // bytes to have before looking for a cut again (doubles while a document is incomplete,
    // so a large document is scanned a bounded number of times)
    let mut want = CHUNK;
    while !eof {
        let before = buf.len();
        while buf.len() < want && !eof {
            let at = buf.len();
            buf.resize(at + CHUNK, 0);
            match input.read(&mut buf[at..]) {
                Ok(0) => {
                    buf.truncate(at);
                    eof = true;
                }
                Ok(n) => {
                    buf.truncate(at + n);
                    // a pipe gives what it has: read that much now rather than wait for more
                    if !gzip || n < CHUNK {
                        break;
                    }
                }
                Err(e) if waiting(&e) => {
                    buf.truncate(at);
                    if buf.len() > before {
                        break;
                    }
                    to.idle(issues);
                }
                Err(e) => {
                    buf.truncate(at);
                    issues.push(Issue {
                        location: name.to_string(),
                        message: if gzip {
                            format!(
                                "gzip data is corrupt or truncated ({e}) after {} decompressed bytes; the records before that are read",
                                place.byte + buf.len()
                            )
                        } else {
                            format!("cannot read after byte {}: {e}", place.byte + buf.len())
                        },
                    });
                    eof = true;
                }
            }
        }
        empty &= crate::scan::is_blank(&buf);
        let read = read_documents(name, &buf, &mut place, !eof, stats, issues, &mut |p| {
            to.parsed(p)
        });
        if read > 0 {
            buf.drain(..read);
            want = CHUNK;
            to.idle(issues);
        } else if buf.len() >= want {
            if buf.len() >= MAX_DOCUMENT {
                stats.skipped += 1;
                issues.push(Issue {
                    location: format!("{name}:byte {}", place.byte),
                    message: format!(
                        "a document over {} MiB; rest of this input skipped",
                        MAX_DOCUMENT >> 20
                    ),
                });
                return;
            }
            want = (buf.len() * 2).min(MAX_DOCUMENT);
        }
    }
    place.finish(issues);
    if empty {
        stats.skipped += 1;
        issues.push(Issue {
            location: name.to_string(),
            message: "empty input".into(),
        });
    }
    to.idle(issues);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gunzip::gz;
    use crate::read::Reader;
    use proptest::prelude::*;

    /// Hands out its bytes in the given sizes (cycling), with "nothing yet" between some.
    struct Trickle<'a> {
        data: &'a [u8],
        sizes: Vec<usize>,
        k: usize,
        pause: bool,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            self.k += 1;
            if self.pause && self.k.is_multiple_of(3) {
                return Err(ErrorKind::WouldBlock.into());
            }
            let n = self.sizes[self.k % self.sizes.len()]
                .min(out.len())
                .min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    type Seen = (Vec<(String, usize)>, ReadStats, Vec<Issue>);

    fn whole(data: &[u8]) -> Seen {
        let (mut st, mut is, mut got) = (ReadStats::default(), Vec::new(), Vec::new());
        Reader::new().read_bytes("s", data, &mut st, &mut is, &mut |raw, n| {
            got.push((String::from_utf8_lossy(raw).into_owned(), n))
        });
        (got, st, is)
    }

    fn streamed(data: &[u8], sizes: Vec<usize>, pause: bool) -> Seen {
        let (mut st, mut is, mut got) = (ReadStats::default(), Vec::new(), Vec::new());
        let mut input = Trickle {
            data,
            sizes,
            k: 0,
            pause,
        };
        struct Collect<'g> {
            got: &'g mut Vec<(String, usize)>,
            idle_calls: usize,
        }
        impl Consumer for Collect<'_> {
            fn parsed(&mut self, p: Parsed<'_, '_>) {
                if let Parsed::Events(evs, ns) = p {
                    for (e, &n) in evs.iter().zip(ns) {
                        self.got
                            .push((String::from_utf8_lossy(e.raw()).into_owned(), n));
                    }
                }
            }
            fn idle(&mut self, _: &mut Vec<Issue>) {
                self.idle_calls += 1;
            }
        }
        let mut to = Collect {
            got: &mut got,
            idle_calls: 0,
        };
        read_stream("s", &mut input, &mut st, &mut is, &mut to);
        let idle_calls = to.idle_calls;
        assert!(idle_calls > 0 || data.is_empty());
        (got, st, is)
    }

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(r#"{"Records":[{"eventName":"A","x":"a\"b"},{"eventName":"B"}]}"#.to_string()),
            Just(r#"{"eventName":"C","n":[1,{"d":"}"}]}"#.to_string()),
            Just(r#"[{"eventName":"D"},7,{"eventName":"E"}]"#.to_string()),
            Just(r#"{"version":"0","detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"F"}}"#.to_string()),
            Just("not json".to_string()),
            Just(r#"{"eventName": tru}"#.to_string()),
            Just(r#"{"Records":[{"eventName":"G"},{"eventName":"H"#.to_string()),
            // deeper than the scanner follows: damage whose message depends on seeing it whole
            Just(format!("[[{}", "{".repeat(140))),
            Just(format!("{{\"Records\":[{{\"a\":{}1{}}}]}}", "[".repeat(130), "]".repeat(130))),
            "[a-z{}\\[\\]\":, ]{0,12}",
        ]
    }

    proptest! {
        /// A stream read in any pieces, with pauses, gives what the whole input read at once
        /// gives: the same records with the same numbers, the same counts, the same issues at
        /// the same positions.
        #[test]
        fn any_pieces_read_as_the_whole(
            docs in prop::collection::vec((piece(), prop_oneof![Just(""), Just("\n"), Just(" \n "), Just("\r\n"), Just("\x0c")]), 0..8),
            sizes in prop::collection::vec(1usize..40, 1..6),
            pause in any::<bool>(),
        ) {
            let text: String = docs.iter().map(|(d, sep)| format!("{d}{sep}")).collect();
            let want = whole(text.as_bytes());
            prop_assert_eq!(&streamed(text.as_bytes(), sizes.clone(), pause), &want);
            // gzip: decompressed while it streams, with the same result
            if !text.trim().is_empty() {
                let got = streamed(&gz(text.as_bytes()), sizes, pause);
                prop_assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn members_stream_one_after_another() {
        let mut data = gz(br#"{"Records":[{"eventName":"A"}]}"#);
        data.extend(gz(b"{\"eventName\":\"B\"}\n{\"eventName\":\"C\"}\n"));
        let (got, st, is) = streamed(&data, vec![7, 100], false);
        assert_eq!(got.len(), 3, "{is:?}");
        assert_eq!(st.records, 3);
        // a damaged stream keeps what came before and names the damage
        let cut = &data[..data.len() - 5];
        let (got, _, is) = streamed(cut, vec![1000], false);
        assert_eq!(got.len(), 3);
        assert!(is[0].message.contains("gzip"), "{is:?}");
        let (got, st, is) = streamed(b"", vec![1], false);
        assert!(got.is_empty());
        assert_eq!((st.skipped, is[0].message.as_str()), (1, "empty input"));
    }
}
