//! `rampart respond`: contain what an alert found. The pure part — actions, targets, the
//! playbook, guards, plans, records and the state transformations (public bucket-policy
//! statements, weakened trail selectors, quarantine policies) — lives here without the AWS
//! SDK, so it is tested in seconds; `rampart_aws::respond` carries the actions out.

pub mod action;
pub mod guard;
pub mod plan;
pub mod playbook;
pub mod record;
pub mod run;
pub mod state;
pub mod target;

pub use action::{ACTIONS, Action, Reversible};
pub use guard::Guards;
pub use plan::Plan;
pub use playbook::{Mode, RespondConfig};
pub use record::{ActionRecord, AuditLog, Outcome};
pub use run::{Effect, Request, Responder, execute, run_auto, undo};
pub use target::Target;
