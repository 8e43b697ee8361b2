//! Reading CloudTrail: objects as delivered to S3 (`.json.gz`, `.json` with `{"Records": [...]}`),
//! JSON Lines, single events (EventBridge, CloudTrail Lake exports), directories in the S3
//! delivery layout with key-date pruning, and the borrowed per-event view the detection engine
//! evaluates. No AWS SDK here: `rampart detect s3://…` fetches objects through `rampart-aws` and
//! hands their bytes to [`read::Reader::read_bytes`].
//!
//! Data flow: [`read`] (files → records) → [`event`] (record → typed header + lazy document).

pub mod documents;
pub mod event;
pub mod gunzip;
pub mod read;
pub mod scan;
pub mod stream;
pub mod time;

pub use event::{Event, EventError, Header, HeaderValue, principal_of};
pub use read::{Issue, Parsed, ReadStats, Reader};
