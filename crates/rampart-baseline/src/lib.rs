//! The baseline as code, without I/O: the `rampart.toml` schema and its commented default
//! ([`config`]), guardrail SCPs generated from named building blocks and packed within the
//! Organizations quotas ([`guardrails`]), and proofs with the policy engine that each guardrail
//! denies what it promises and never locks out the exempt roles or the global services
//! ([`proof`]); resource control policies for the data perimeter, built and proved the same way
//! ([`rcp`]); the planner that compares the config with a snapshot ([`plan`]) and the impact
//! replay of CloudTrail events against the proposed guardrails ([`replay`]).
//!
//! ([`apply`]) runs a plan's changes through an [`apply::Effects`] implementation.
//!
//! Data flow: config → guardrails → proof → plan (+ replay) → apply.

pub mod apply;
pub mod config;
pub mod guardrails;
pub mod plan;
pub mod proof;
pub mod rcp;
pub mod replay;

pub use config::{Config, ConfigError, init_template};
pub use guardrails::{Block, GuardrailError, Scp, build_guardrails};
pub use plan::{Action, Change, Plan, PlanError, plan};
pub use proof::{Proof, prove};
pub use rcp::{Rcp, RcpBlock, build_rcps, prove_rcps};
pub use replay::{DeniedPrincipal, ReplayReport, Replayer};
