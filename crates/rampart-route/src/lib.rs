//! Alert routing (`[[alerts.route]]`): which people and systems an alert goes to, in what
//! form, how often, and who is told when nobody acknowledges it. Pure logic with the clock
//! passed in, so the same code serves `detect`, `alerts tick` and a scheduler, and tests can
//! replay hours of outage in milliseconds. No AWS SDK: SNS goes through
//! [`rampart_detect::sink::SnsPublisher`], implemented by the binary.
//!
//! Data flow: [`config`] (rampart.toml → validated routes with secrets) → [`matcher`] (alert →
//! routes) → [`router`] (outbox, digests, rate limits, escalations, acks; [`state`] persists
//! it) → [`format`] (Slack, Teams, PagerDuty, SNS, signed webhook) → [`transport`] (HTTP/SNS).

pub mod config;
pub mod format;
pub mod matcher;
pub mod router;
pub mod state;
pub mod transport;

pub use config::{Destination, Route, Routes};
pub use matcher::OrgTree;
pub use router::{Refusal, Router, TickReport, Transport};
pub use state::{State, StateFile};

/// `YYYY-MM-DDTHH:MM:SSZ` of Unix seconds (acks and due times, for people).
pub fn rfc3339(t: i64) -> String {
    let day = rampart_detect::time::day_path(t.div_euclid(86400)).replace('/', "-");
    let s = t.rem_euclid(86400);
    format!("{day}T{:02}:{:02}:{:02}Z", s / 3600, s % 3600 / 60, s % 60)
}

#[cfg(test)]
pub(crate) mod testing;
