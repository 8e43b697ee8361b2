//! The loop: which job is due, run it on its own thread, record its outcome.
//!
//! Guarantees, each tested below:
//! - a job never overlaps itself: a slot that comes while the job still runs is not started;
//!   once the job ends, the job runs once for all the slots it missed;
//! - a run missed while the process was down runs once at start (not once per missed slot);
//! - a run found `running` at start (the process was killed) is marked interrupted and runs
//!   again at once;
//! - every outcome (start, end, status, error, summary figures) is in the store, and a failing
//!   job calls the failure hook (the binary sends an alert).
//!
//! The clock is injected so tests move time without waiting. Jobs are blocking (the store and
//! the AWS calls are); [`Scheduler::run_until`] blocks too: a tokio server runs it with
//! `spawn_blocking` and stops it with [`Shutdown::trigger`].

use crate::spec::{Schedule, Spec};
use chrono::{DateTime, Utc};
use rampart_store::{JobEnd, JobRun, JobRunId, JobStatus, RunId, Store};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

pub type Time = DateTime<Utc>;

/// What a job reports when it succeeds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Figures for the job log and the dashboard (a JSON object).
    pub summary: serde_json::Value,
    /// The history run it recorded, if any.
    pub run_id: Option<RunId>,
}

/// What a job is given.
pub struct JobContext<'a> {
    pub job_run: JobRunId,
    /// The slot it runs for (the newest of the slots it missed).
    pub scheduled_for: Time,
    /// The store the scheduler records into (jobs lock it only to write).
    pub store: &'a Mutex<Store>,
}

/// A scheduled job. `run` blocks until the job is done; an `Err` is a failed run (one line).
pub trait Job: Send + Sync {
    fn name(&self) -> &str;
    fn run(&self, ctx: &JobContext<'_>) -> Result<Outcome, String>;
}

/// Time, injectable.
pub trait Clock: Send + Sync {
    fn now(&self) -> Time;
    /// Waits until `deadline` or until `stop` is triggered, whichever is first.
    fn wait_until(&self, deadline: Time, stop: &Shutdown);
}

/// The wall clock, to the second (stored times are whole seconds).
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Time {
        let t = Utc::now();
        DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
    }

    fn wait_until(&self, deadline: Time, stop: &Shutdown) {
        let wait = (deadline - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        stop.wait(wait);
    }
}

/// Asks a running [`Scheduler::run_until`] to return (at once: running jobs finish on their
/// threads, or, if the process exits first, are marked interrupted at the next start).
#[derive(Clone, Default)]
pub struct Shutdown(Arc<(Mutex<bool>, Condvar)>);

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    pub fn trigger(&self) {
        let (lock, cvar) = &*self.0;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cvar.notify_all();
    }

    pub fn is_triggered(&self) -> bool {
        *self.0.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sleeps up to `d`, returning early when triggered.
    pub fn wait(&self, d: Duration) {
        let (lock, cvar) = &*self.0;
        let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let _ = cvar.wait_timeout_while(guard, d, |stopped| !*stopped);
    }
}

/// Called with every failed run (after it is recorded).
pub type FailureHook = Arc<dyn Fn(&JobRun) + Send + Sync>;
/// One line per job start and end, for the foreground runner's log.
pub type LogHook = Arc<dyn Fn(&str) + Send + Sync>;

/// When a job runs next, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub job: String,
    pub schedule: Schedule,
    pub next: Time,
    /// The slot that run is for (earlier than `next` when it catches up).
    pub slot: Time,
    /// `interrupted`, `missed`, `first run` or `scheduled`.
    pub reason: &'static str,
}

pub struct Scheduler {
    jobs: Vec<(Arc<dyn Job>, Schedule)>,
    store: Arc<Mutex<Store>>,
    clock: Arc<dyn Clock>,
    on_failure: Option<FailureHook>,
    log: Option<LogHook>,
    /// How often the loop looks at finished jobs when nothing is due sooner.
    tick: chrono::Duration,
}

impl Scheduler {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Scheduler {
        Scheduler {
            jobs: Vec::new(),
            store: Arc::new(Mutex::new(store)),
            clock,
            on_failure: None,
            log: None,
            tick: chrono::Duration::seconds(1),
        }
    }

    pub fn add(&mut self, job: Arc<dyn Job>, schedule: Schedule) {
        self.jobs.push((job, schedule));
    }

    pub fn on_failure(&mut self, hook: FailureHook) {
        self.on_failure = Some(hook);
    }

    pub fn with_log(&mut self, hook: LogHook) {
        self.log = Some(hook);
    }

    /// The store (shared with the jobs), e.g. for a server's pages.
    pub fn store(&self) -> Arc<Mutex<Store>> {
        self.store.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// When each job runs next from the store's log and `now`, without changing anything.
    pub fn plan(&self) -> Result<Vec<Planned>, String> {
        let now = self.clock.now();
        let store = self.lock();
        let slots: HashMap<String, Time> = store
            .last_completed_slots()
            .map_err(|e| e.to_string())?
            .into_iter()
            .collect();
        let pending: Vec<(String, Time)> = store
            .job_runs(None, Some(1000))
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|r| r.status == JobStatus::Running)
            .map(|r| (r.job, r.scheduled_for))
            .collect();
        Ok(self
            .jobs
            .iter()
            .map(|(job, schedule)| {
                let name = job.name();
                let killed = pending.iter().find(|(j, _)| j == name).map(|(_, s)| *s);
                let (next, slot, reason) =
                    first_due(schedule, slots.get(name).copied(), killed, now);
                Planned {
                    job: name.to_string(),
                    schedule: *schedule,
                    next,
                    slot,
                    reason,
                }
            })
            .collect())
    }

    /// Runs one job now on this thread and records it (`rampart schedule run --once JOB`).
    pub fn run_once(&self, name: &str) -> Result<JobRun, String> {
        let (job, _) = self
            .jobs
            .iter()
            .find(|(j, _)| j.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = self.jobs.iter().map(|(j, _)| j.name()).collect();
                format!("no job `{name}`; the jobs are: {}", known.join(", "))
            })?;
        let now = self.clock.now();
        execute(self.shared(), job.clone(), now)
    }

    fn shared(&self) -> Shared {
        Shared {
            store: self.store.clone(),
            clock: self.clock.clone(),
            on_failure: self.on_failure.clone(),
            log: self.log.clone(),
        }
    }

    /// Runs the schedule until `stop` is triggered. First marks the runs a killed process
    /// left `running` as interrupted (they run again at once).
    pub fn run_until(&self, stop: &Shutdown) -> Result<(), String> {
        let interrupted = self
            .lock()
            .mark_interrupted(self.clock.now())
            .map_err(|e| e.to_string())?;
        for r in &interrupted {
            self.note(&format!(
                "job {} (run #{}, started {}) was interrupted; it runs again now",
                r.job, r.id, r.started_at
            ));
        }
        let plan = self.plan()?;
        let mut due: Vec<Time> = plan.iter().map(|p| p.next).collect();
        let mut slot_from: Vec<Time> = plan.iter().map(|p| p.slot).collect();
        // Interrupted runs are no longer `running`, so plan() does not see them.
        for (i, (job, _)) in self.jobs.iter().enumerate() {
            if let Some(r) = interrupted.iter().find(|r| r.job == job.name()) {
                due[i] = self.clock.now();
                slot_from[i] = r.scheduled_for.min(due[i]);
            }
        }
        let busy: Vec<Arc<AtomicBool>> = self
            .jobs
            .iter()
            .map(|_| Arc::new(AtomicBool::new(false)))
            .collect();
        while !stop.is_triggered() {
            let now = self.clock.now();
            for (i, (job, schedule)) in self.jobs.iter().enumerate() {
                if due[i] > now || busy[i].load(Ordering::SeqCst) {
                    continue;
                }
                // Every slot up to now is covered by this one run.
                let slot = schedule.latest_slot(slot_from[i], now);
                due[i] = schedule.next_after(now);
                slot_from[i] = due[i];
                busy[i].store(true, Ordering::SeqCst);
                let (shared, job, flag) = (self.shared(), job.clone(), busy[i].clone());
                std::thread::Builder::new()
                    .name(format!("rampart-job-{}", job.name()))
                    .spawn(move || {
                        if let Err(e) = execute(shared.clone(), job.clone(), slot) {
                            shared.note(&format!("job {}: {e}", job.name()));
                        }
                        flag.store(false, Ordering::SeqCst);
                    })
                    .map_err(|e| format!("cannot start a job thread: {e}"))?;
            }
            let next = due
                .iter()
                .zip(&busy)
                .filter(|(_, b)| !b.load(Ordering::SeqCst))
                .map(|(d, _)| *d)
                .min()
                .unwrap_or(now + self.tick)
                .min(now + self.tick);
            self.clock.wait_until(next, stop);
        }
        Ok(())
    }

    fn note(&self, line: &str) {
        self.shared().note(line);
    }
}

/// When a job is first due at start, and for which slot: a killed run at once for its slot;
/// after its last completed slot the next one (in the past: a missed run, at once); never run:
/// interval jobs at once for the current slot, calendar jobs at their next slot.
fn first_due(
    schedule: &Schedule,
    last_slot: Option<Time>,
    killed: Option<Time>,
    now: Time,
) -> (Time, Time, &'static str) {
    if let Some(slot) = killed {
        return (now, slot.min(now), "interrupted");
    }
    match last_slot {
        Some(last) => {
            let next = schedule.next_after(last);
            if next <= now {
                (now, next, "missed")
            } else {
                (next, next, "scheduled")
            }
        }
        None => match schedule.spec {
            Spec::Every { secs } => (
                now,
                schedule.next_after(now - chrono::Duration::seconds(secs)),
                "first run",
            ),
            _ => {
                let next = schedule.next_after(now);
                (next, next, "scheduled")
            }
        },
    }
}

/// What a job thread needs.
#[derive(Clone)]
struct Shared {
    store: Arc<Mutex<Store>>,
    clock: Arc<dyn Clock>,
    on_failure: Option<FailureHook>,
    log: Option<LogHook>,
}

impl Shared {
    fn note(&self, line: &str) {
        if let Some(log) = &self.log {
            log(line);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Records the start, runs the job (a panic is a failure), records the end.
fn execute(shared: Shared, job: Arc<dyn Job>, slot: Time) -> Result<JobRun, String> {
    let name = job.name().to_string();
    let started = shared.clock.now();
    let id = shared
        .lock()
        .job_started(&name, slot, started)
        .map_err(|e| e.to_string())?;
    shared.note(&format!("job {name} (run #{id}) started"));
    let ctx = JobContext {
        job_run: id,
        scheduled_for: slot,
        store: &shared.store,
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(&ctx)))
        .unwrap_or_else(|p| {
            let what = p
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| p.downcast_ref::<&str>().copied())
                .unwrap_or("a panic");
            Err(format!("the job panicked: {what}"))
        });
    let end = match result {
        Ok(o) => JobEnd {
            finished_at: shared.clock.now(),
            status: JobStatus::Ok,
            error: None,
            summary: o.summary,
            run_id: o.run_id,
        },
        Err(e) => JobEnd {
            finished_at: shared.clock.now(),
            status: JobStatus::Failed,
            error: Some(e),
            summary: serde_json::json!({}),
            run_id: None,
        },
    };
    shared
        .lock()
        .job_finished(id, &end)
        .map_err(|e| e.to_string())?;
    let run = JobRun {
        id,
        job: name.clone(),
        scheduled_for: slot,
        started_at: started,
        finished_at: Some(end.finished_at),
        status: end.status,
        error: end.error,
        summary: end.summary,
        run_id: end.run_id,
    };
    match &run.error {
        None => shared.note(&format!("job {name} (run #{id}) ok {}", run.summary)),
        Some(e) => {
            shared.note(&format!("job {name} (run #{id}) failed: {e}"));
            if let Some(hook) = &shared.on_failure {
                hook(&run);
            }
        }
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_zone;
    use rampart_store::testing::{TestDb, on_both};
    use std::sync::atomic::AtomicUsize;

    fn at(s: &str) -> Time {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn every(text: &str) -> Schedule {
        Schedule {
            spec: Spec::parse(text).unwrap().unwrap(),
            zone: parse_zone("UTC").unwrap(),
        }
    }

    /// Jumps to each deadline at once (a few real milliseconds later, so job threads
    /// progress) and triggers `stop` once time passes `stop_at`.
    struct FakeClock {
        now: Mutex<Time>,
        stop_at: Time,
    }

    impl Clock for FakeClock {
        fn now(&self) -> Time {
            *self.now.lock().unwrap()
        }
        fn wait_until(&self, deadline: Time, stop: &Shutdown) {
            std::thread::sleep(Duration::from_millis(2));
            let mut now = self.now.lock().unwrap();
            if deadline > *now {
                *now = deadline;
            }
            if *now >= self.stop_at {
                stop.trigger();
            }
        }
    }

    /// Counts runs and the most runs at once; sleeps `work` (real time) per run; fails when
    /// `fail` is set.
    struct CountingJob {
        name: &'static str,
        work: Duration,
        running: AtomicUsize,
        most: AtomicUsize,
        runs: AtomicUsize,
        fail: bool,
    }

    impl CountingJob {
        fn new(name: &'static str, work: Duration, fail: bool) -> Arc<CountingJob> {
            Arc::new(CountingJob {
                name,
                work,
                running: AtomicUsize::new(0),
                most: AtomicUsize::new(0),
                runs: AtomicUsize::new(0),
                fail,
            })
        }
    }

    impl Job for CountingJob {
        fn name(&self) -> &str {
            self.name
        }
        fn run(&self, ctx: &JobContext<'_>) -> Result<Outcome, String> {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(self.work);
            self.running.fetch_sub(1, Ordering::SeqCst);
            let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
            if self.fail {
                return Err(format!("cannot reach the store of run {}", ctx.job_run));
            }
            Ok(Outcome {
                summary: serde_json::json!({ "run": n }),
                run_id: None,
            })
        }
    }

    fn scheduler(db: &TestDb, now: Time, stop_at: Time) -> Scheduler {
        let mut s = Scheduler::new(
            db.open(),
            Arc::new(FakeClock {
                now: Mutex::new(now),
                stop_at,
            }),
        );
        s.tick = chrono::Duration::minutes(10);
        s
    }

    /// Waits (real time) until no job run is `running` any more.
    fn settle(db: &TestDb) -> Vec<JobRun> {
        let store = db.open();
        for _ in 0..500 {
            let runs = store.job_runs(None, None).unwrap();
            if runs.iter().all(|r| r.status != JobStatus::Running) {
                return runs;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("a job is still running after 5 s");
    }

    #[test]
    fn a_job_never_overlaps_itself_and_catches_up_once() {
        on_both(|db| {
            let t0 = at("2026-12-06T00:30:00Z");
            let mut s = scheduler(db, t0, t0 + chrono::Duration::hours(30));
            // Each run takes ~100 ms real time, during which the fake clock moves hours.
            let job = CountingJob::new("audit", Duration::from_millis(100), false);
            s.add(job.clone(), every("every 1h"));
            s.run_until(&Shutdown::new()).unwrap();
            let mut runs = settle(db);
            runs.reverse();
            assert_eq!(job.most.load(Ordering::SeqCst), 1, "never two at once");
            assert!(runs.len() >= 2, "{runs:?}");
            // 30 slots passed, but each run covered every slot missed while the last ran.
            assert!(runs.len() < 30, "{} runs", runs.len());
            for pair in runs.windows(2) {
                assert!(pair[0].scheduled_for < pair[1].scheduled_for);
                assert!(pair[0].finished_at.unwrap() <= pair[1].started_at);
            }
            assert!(runs.iter().all(|r| r.status == JobStatus::Ok));
        });
    }

    #[test]
    fn a_run_missed_while_down_runs_once_at_start() {
        on_both(|db| {
            let mut store = db.open();
            let last = at("2026-12-01T06:00:00Z");
            let id = store.job_started("audit", last, last).unwrap();
            let end = JobEnd {
                finished_at: last,
                status: JobStatus::Ok,
                error: None,
                summary: serde_json::json!({}),
                run_id: None,
            };
            store.job_finished(id, &end).unwrap();
            drop(store);
            // Down for five days: 20 slots of `every 6h` missed.
            let now = at("2026-12-06T13:00:00Z");
            let mut s = scheduler(db, now, now + chrono::Duration::hours(4));
            let job = CountingJob::new("audit", Duration::ZERO, false);
            let weekly = CountingJob::new("weekly_report", Duration::ZERO, false);
            s.add(job.clone(), every("every 6h"));
            s.add(weekly.clone(), every("mon 08:00"));
            let plan = s.plan().unwrap();
            assert_eq!((plan[0].next, plan[0].reason), (now, "missed"));
            assert_eq!(
                (plan[1].next, plan[1].reason),
                (at("2026-12-07T08:00:00Z"), "scheduled"),
                "a calendar job never run waits for its slot"
            );
            s.run_until(&Shutdown::new()).unwrap();
            let runs = settle(db);
            assert_eq!(job.runs.load(Ordering::SeqCst), 1, "once, not 20 times");
            assert_eq!(weekly.runs.load(Ordering::SeqCst), 0);
            assert_eq!(runs.len(), 2);
            assert_eq!(runs[0].scheduled_for, at("2026-12-06T12:00:00Z"));
            assert_eq!(runs[0].summary["run"], 1);
        });
    }

    #[test]
    fn a_killed_run_is_marked_interrupted_and_runs_again() {
        on_both(|db| {
            let slot = at("2026-12-06T12:00:00Z");
            db.open().job_started("audit", slot, slot).unwrap();
            let now = slot + chrono::Duration::minutes(20);
            let mut s = scheduler(db, now, now + chrono::Duration::minutes(30));
            let job = CountingJob::new("audit", Duration::ZERO, false);
            s.add(job.clone(), every("every 6h"));
            assert_eq!(s.plan().unwrap()[0].reason, "interrupted");
            s.run_until(&Shutdown::new()).unwrap();
            let runs = settle(db);
            assert_eq!(runs.len(), 2);
            assert_eq!(runs[1].status, JobStatus::Interrupted);
            assert_eq!(runs[0].status, JobStatus::Ok);
            assert_eq!(runs[0].scheduled_for, slot, "the interrupted slot, again");
            assert_eq!(job.runs.load(Ordering::SeqCst), 1);
        });
    }

    #[test]
    fn a_failing_job_is_recorded_and_raises_an_alert_through_the_webhook() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut conn, _) = listener.accept().unwrap();
            conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            // headers, then the body of Content-Length bytes
            loop {
                let n = conn.read(&mut buf).unwrap_or(0);
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len: usize = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if got.len() >= end + 4 + len || n == 0 {
                        break;
                    }
                } else if n == 0 {
                    break;
                }
            }
            conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
            String::from_utf8_lossy(&got).to_string()
        });
        let db = rampart_store::testing::sqlite_db();
        let now = at("2026-12-06T12:00:00Z");
        let mut s = scheduler(&db, now, now);
        let spool = tempfile::tempdir().unwrap();
        let spool_file = spool.path().join("spool.jsonl");
        let logged = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink_log = logged.clone();
        s.on_failure(crate::alert::alert_hook(
            move || {
                let mut d = rampart_detect::sink::Dispatcher::new(spool_file.clone())
                    .with_retries(0, Duration::ZERO);
                d.add(Box::new(rampart_detect::sink::WebhookSink::new(&url)?));
                Ok(d)
            },
            Arc::new(move |l: &str| sink_log.lock().unwrap().push(l.to_string())),
        ));
        s.add(
            CountingJob::new("drift", Duration::ZERO, true),
            every("daily at 03:00"),
        );
        let run = s.run_once("drift").unwrap();
        assert_eq!(run.status, JobStatus::Failed);
        let stored = &db.open().job_runs(Some("drift"), None).unwrap()[0];
        assert_eq!(stored.status, JobStatus::Failed);
        assert_eq!(
            stored.error.as_deref(),
            Some(format!("cannot reach the store of run {}", run.id).as_str())
        );
        let request = server.join().unwrap();
        assert!(request.starts_with("POST /hook "), "{request}");
        assert!(request.contains("RAMPART-JOB-FAILED"), "{request}");
        assert!(request.contains("drift"), "{request}");
        assert!(logged.lock().unwrap().is_empty(), "{:?}", logged.lock());
        let e = s.run_once("audti").unwrap_err();
        assert_eq!(e, "no job `audti`; the jobs are: drift");
    }

    #[test]
    fn the_failure_alert_is_a_builtin_alert_record() {
        let run = JobRun {
            id: 7,
            job: "audit".into(),
            scheduled_for: at("2026-12-06T12:00:00Z"),
            started_at: at("2026-12-06T12:00:00Z"),
            finished_at: Some(at("2026-12-06T12:03:00Z")),
            status: JobStatus::Failed,
            error: Some("AccessDenied".into()),
            summary: serde_json::json!({}),
            run_id: None,
        };
        let a = crate::alert::failure_alert(&run);
        let line: serde_json::Value = serde_json::from_str(&a.to_json_line()).unwrap();
        assert_eq!(line["schema"], "rampart.alert/v1");
        assert_eq!(line["rule_id"], "RAMPART-JOB-FAILED");
        assert_eq!(line["rule_source"], "builtin");
        assert_eq!(line["severity"], "high");
        assert_eq!(line["matched"]["error"], "AccessDenied");
        assert_eq!(line["event_time"], "2026-12-06T12:03:00Z");
    }
}
