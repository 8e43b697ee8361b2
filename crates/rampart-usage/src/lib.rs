//! Least privilege from activity, with no AWS SDK and no paid analyzer.
//!
//! * `rampart policy generate`: [`generate::Generator`] gathers one principal's CloudTrail
//!   calls ([`identity`] decides whose they are, [`mapping`] which IAM action each is,
//!   [`resources`] which ARNs it named), [`generate::statements`] turns them into the smallest
//!   identity policy, and [`prove::prove`] replays every call against it with the policy
//!   engine and lints it.
//! * `rampart iam unused`: [`unused::Usage`] records which actions each principal used,
//!   [`unused::report`] compares that with what the snapshot's policies grant (decided by the
//!   engine, wildcards expanded through the IAM action catalogue).
//!
//! Data flow: events → identity → action (+ resources) → policy → proof; events → identity →
//! actions used → against grants → unused.

pub mod generate;
pub mod identity;
pub mod mapping;
pub mod prove;
pub mod resources;
pub mod unused;

use rampart_trail::Event;

/// The time window of `--since/--until` (epoch seconds, both inclusive). An event without a
/// readable `eventTime` is in every window: dropping it would hide a call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl Window {
    pub fn contains(&self, ev: &Event<'_>) -> bool {
        if self.since.is_none() && self.until.is_none() {
            return true;
        }
        match ev
            .header()
            .event_time
            .as_deref()
            .and_then(rampart_trail::time::parse_time)
        {
            Some(t) => self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u),
            None => true,
        }
    }
}

/// Whether an `errorCode` says the call was refused by authorization: such a call used no
/// permission, and granting it would grant more than the principal had.
pub fn denied_in_log(error_code: Option<&str>) -> bool {
    error_code.is_some_and(|c| {
        c.contains("AccessDenied") || c.contains("Unauthorized") || c == "Forbidden"
    })
}

/// The request a call of `principal` makes: `action` on `resource`, with the principal's
/// account (from its ARN) as the caller's account.
pub fn request(action: &str, resource: &str, principal: &str) -> rampart_policy::Request {
    rampart_policy::Request {
        action: action.to_string(),
        resource: resource.to_string(),
        principal: Some(principal.to_string()),
        principal_account: principal.split(':').nth(4).map(str::to_string),
        ..rampart_policy::Request::default()
    }
}

/// A generated policy with its proof.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Generated {
    pub statements: Vec<generate::GeneratedStatement>,
    /// The policy document, pretty-printed JSON.
    pub policy: String,
    pub proof: prove::Proof,
    pub read: generate::ReadCounts,
}

/// Builds the policy from what `generator` gathered and proves it.
pub fn generate(
    generator: &generate::Generator,
    opts: &generate::Options,
) -> Result<Generated, String> {
    let statements = generate::statements(&generator.calls, opts);
    let policy = generate::policy_json(&statements);
    let proof = prove::prove(&generator.principal(), &generator.calls, &policy)?;
    Ok(Generated {
        statements,
        policy,
        proof,
        read: generator.counts,
    })
}
