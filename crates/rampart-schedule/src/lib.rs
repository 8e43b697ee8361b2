//! rampart's scheduler: the `[schedule]` section, its small schedule language, and a loop that
//! runs jobs (audit, drift, detect, weekly report) on time, never overlapping themselves,
//! catching up a missed run once, and recording every outcome in the history store. The jobs
//! themselves live in the binary (they call AWS); this crate has no AWS dependency so a server
//! can embed the loop and tests can drive it with a fake clock.

pub mod alert;
pub mod config;
pub mod notify;
pub mod scheduler;
pub mod spec;

pub use config::{ScheduleConfig, ScheduleSection};
pub use scheduler::{
    Clock, FailureHook, Job, JobContext, LogHook, Outcome, Planned, Scheduler, Shutdown,
    SystemClock, Time,
};
pub use spec::{Schedule, Spec};

/// Test-only: a job that reaches the named point while `RAMPART_TEST_PAUSE_AT` equals
/// `JOB:POINT` writes `RAMPART_TEST_PAUSE_FILE` (when set) and sleeps for an hour, so a test
/// can kill the process at a known moment. Unset in production, it costs one env lookup.
pub fn test_pause_point(job: &str, point: &str) {
    let Ok(want) = std::env::var("RAMPART_TEST_PAUSE_AT") else {
        return;
    };
    if want != format!("{job}:{point}") {
        return;
    }
    if let Ok(file) = std::env::var("RAMPART_TEST_PAUSE_FILE") {
        let _ = std::fs::write(file, format!("{job}:{point}\n"));
    }
    std::thread::sleep(std::time::Duration::from_secs(3600));
}
