//! Detection over many files on several threads, with exactly the result of one [`Detector`]
//! reading them in turn: the same alerts in the same order, the same counts, the same issues.
//!
//! Reading, decompressing and evaluating a file depend on nothing but the file, so workers do
//! that in parallel, each with its own [`Reader`] and an unaggregated [`Detector`] (its alerts
//! are every match, in event order). Aggregation depends on the order of alerts (a group opens
//! at its first alert, the oldest groups are emitted when too many are open), so the calling
//! thread feeds each file's alerts, in file order, into its own aggregating [`Detector`]
//! ([`Detector::absorb`]). Workers run at most [`AHEAD_PER_THREAD`] files per thread ahead of
//! the file being absorbed, so memory stays bounded whatever the input.
//!
//! Baselines learn from every event in order and are not split this way: a detector with a
//! baseline reads on one thread. The sign-in tracker also learns in order, but from rare
//! events: workers record each sign-in attempt with its place among the file's alerts and the
//! calling thread counts them there.

use crate::alert::Alert;
use crate::detector::{DetectStats, Detector};
use crate::engine::Engine;
use crate::input::{Issue, ReadStats, Reader};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, mpsc};

/// How many files each worker may finish ahead of the one the calling thread is absorbing.
pub const AHEAD_PER_THREAD: usize = 4;

/// What evaluating one file produced, before aggregation.
#[derive(Debug, Default)]
pub struct FileDone {
    /// The file's position in the list given to [`detect_files`].
    pub index: usize,
    /// The reader's counts for this file.
    pub read: ReadStats,
    /// Problems, in the order the one-thread loop of `rampart detect` reports them: records the
    /// detector could not evaluate, then what the reader found.
    pub issues: Vec<Issue>,
    /// Every alert raised, in event order (rules in index order), not yet aggregated.
    pub alerts: Vec<Alert>,
    /// The detection counts of this file (`events`, `skipped`, `alerts`, …).
    pub stats: DetectStats,
    /// The file's sign-in attempts, each with the number of `alerts` raised before it, for
    /// the calling thread's sign-in tracker ([`crate::signin`]).
    pub attempts: Vec<(usize, crate::signin::Attempt)>,
}

/// Which events to evaluate and how records are named in alerts and issues.
pub struct Settings<'a> {
    /// Worker threads (at least one).
    pub threads: usize,
    /// `--since/--until`, as for [`Detector::window`].
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// An alert's and an issue's location: the file and the record number.
    pub origin: &'a (dyn Fn(&Path, usize) -> String + Sync),
}

/// Evaluates `files` on `settings.threads` workers and hands each file's [`FileDone`] to
/// `each`, in file order, on the calling thread (typically to [`Detector::absorb`]).
pub fn detect_files(
    engine: &Engine,
    files: &[PathBuf],
    settings: &Settings<'_>,
    each: &mut dyn FnMut(FileDone),
) {
    let threads = settings.threads.max(1);
    let ahead = threads * AHEAD_PER_THREAD;
    // (next file to hand out, files absorbed so far, stop): workers wait while the next file
    // is `ahead` beyond the absorbed ones
    let state = Mutex::new(Queue {
        next: 0,
        absorbed: 0,
        stop: false,
    });
    let turn = Condvar::new();
    let (tx, rx) = mpsc::channel::<FileDone>();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (state, turn) = (&state, &turn);
            s.spawn(move || {
                // a worker that panics stops the others (the file it held would never come)
                let _stop = StopOnDrop {
                    state,
                    turn,
                    only_when_panicking: true,
                };
                let mut worker = Worker::new(engine, settings);
                while let Some(index) = Queue::take(state, turn, ahead, files.len()) {
                    let done = worker.file(index, &files[index]);
                    if tx.send(done).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // stop the workers if `each` panics, so the scope can end and re-raise it
        let stop = StopOnDrop {
            state: &state,
            turn: &turn,
            only_when_panicking: false,
        };
        let mut waiting: BTreeMap<usize, FileDone> = BTreeMap::new();
        let mut next = 0;
        for done in rx {
            waiting.insert(done.index, done);
            while let Some(done) = waiting.remove(&next) {
                each(done);
                next += 1;
                state.lock().expect("queue lock").absorbed = next;
                turn.notify_all();
            }
        }
        drop(stop);
    });
}

struct Queue {
    next: usize,
    absorbed: usize,
    stop: bool,
}

impl Queue {
    /// The next file for a worker, once it is within `ahead` of the absorbed ones; `None` when
    /// every file has been handed out.
    fn take(state: &Mutex<Queue>, turn: &Condvar, ahead: usize, files: usize) -> Option<usize> {
        let mut q = state.lock().expect("queue lock");
        loop {
            if q.stop || q.next >= files {
                return None;
            }
            if q.next < q.absorbed + ahead {
                q.next += 1;
                return Some(q.next - 1);
            }
            q = turn.wait(q).expect("queue lock");
        }
    }
}

/// Tells every worker to stop when dropped (or only when dropped by a panic).
struct StopOnDrop<'a> {
    state: &'a Mutex<Queue>,
    turn: &'a Condvar,
    only_when_panicking: bool,
}

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        if self.only_when_panicking && !std::thread::panicking() {
            return;
        }
        // a poisoned lock still holds the queue
        let mut q = self.state.lock().unwrap_or_else(|e| e.into_inner());
        q.stop = true;
        drop(q);
        self.turn.notify_all();
    }
}

/// One worker: a reader and an unaggregated detector, reused file after file.
struct Worker<'e, 's> {
    reader: Reader,
    det: Detector<'e>,
    settings: &'s Settings<'s>,
}

impl<'e, 's> Worker<'e, 's> {
    fn new(engine: &'e Engine, settings: &'s Settings<'s>) -> Worker<'e, 's> {
        Worker {
            reader: Reader::new(),
            det: Detector::new(engine, 0)
                .window(settings.since, settings.until)
                .collect_signin(),
            settings,
        }
    }

    fn file(&mut self, index: usize, path: &Path) -> FileDone {
        let mut done = FileDone {
            index,
            ..FileDone::default()
        };
        let mut read_issues = Vec::new();
        let (det, origin) = (&mut self.det, self.settings.origin);
        let (alerts, issues) = (&mut done.alerts, &mut done.issues);
        self.reader
            .read_file_batches(path, &mut done.read, &mut read_issues, &mut |p| {
                if let Err(i) = det.process_parsed(p, &|n| origin(path, n), alerts) {
                    issues.push(i);
                }
            });
        done.issues.append(&mut read_issues);
        done.stats = std::mem::take(&mut self.det.stats);
        done.attempts = self.det.take_attempts();
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_stay_within_their_lead() {
        let state = Mutex::new(Queue {
            next: 0,
            absorbed: 0,
            stop: false,
        });
        let turn = Condvar::new();
        assert_eq!(Queue::take(&state, &turn, 2, 10), Some(0));
        assert_eq!(Queue::take(&state, &turn, 2, 10), Some(1));
        // a third would wait until file 0 is absorbed
        std::thread::scope(|s| {
            let h = s.spawn(|| Queue::take(&state, &turn, 2, 10));
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!h.is_finished(), "took a file beyond its lead");
            state.lock().unwrap().absorbed = 1;
            turn.notify_all();
            assert_eq!(h.join().unwrap(), Some(2));
        });
        state.lock().unwrap().stop = true;
        assert_eq!(Queue::take(&state, &turn, 2, 10), None);
    }
}
