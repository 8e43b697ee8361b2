//! Detection drills (`rampart drill`): a harmless, reversible attack in a sandbox account, then
//! proof that rampart's detection raised the expected alert and that the sinks delivered it,
//! with the time each took. Pure: the AWS calls are behind [`run::Sandbox`] (implemented in
//! `rampart-aws`), the CloudTrail records behind [`run::EventFeed`].

#[cfg(any(test, feature = "testing"))]
pub mod emulated;
pub mod feed;
pub mod run;
pub mod scenario;
#[cfg(test)]
mod tests;

pub use run::{Call, Check, Drill, DrillResult, Sandbox, Timing};
pub use scenario::{CANARY_PREFIX, Canary, Scenario};

/// The compiled built-in rule a scenario expects, from the default built-in catalogue.
pub fn expected_rule(scenario: Scenario) -> Option<rampart_detect::Rule> {
    rampart_detect::builtin(&rampart_detect::BuiltinConfig::default())
        .into_iter()
        .find(|b| b.rule.meta.id == scenario.expected_rule())
        .map(|b| b.rule)
}
