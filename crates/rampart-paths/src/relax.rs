//! Conditions the analysis cannot settle. A snapshot knows who calls and on what, not the
//! request's network, time, MFA, region or tags, so a condition on such a key could go either
//! way. Each policy gets two variants, both evaluated by the engine:
//!
//! * `may`: such a condition is taken to hold in an Allow and to fail in a Deny (the Deny
//!   statement is neutralised) — the most a caller could get;
//! * `must`: an Allow that needs one is neutralised and a Deny applies as if it held — what the
//!   caller gets whatever the context.
//!
//! An edge exists when `may` allows it; it is *conditional* when `must` does not (the report
//! names the keys). Conditions on keys the analysis does supply (the caller's ARN, account,
//! organization, the service a role is passed to, the policy attached) stay as written.

use rampart_policy::{ActionElement, Effect, Policy};

/// Condition keys the analysis knows for every request it asks (lower case): derived by the
/// engine from the ARNs, or set by the method (`iam:PassedToService`, `iam:PolicyARN`).
const KNOWN_KEYS: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "aws:resourceaccount",
    "aws:username",
    "aws:principalisawsservice",
    "aws:principalservicename",
    "aws:sourceowner",
    "aws:principalorgid",
    "kms:calleraccount",
    "iam:passedtoservice",
    "iam:policyarn",
];

pub(crate) fn is_known(key: &str) -> bool {
    KNOWN_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// A policy with its two relaxed variants and, per statement, the unknown keys it tests.
#[derive(Debug, Clone)]
pub struct Relaxed {
    pub original: Policy,
    pub may: Policy,
    pub must: Policy,
    pub unknown: Vec<Vec<String>>,
}

/// A statement that can never apply: no action matches an empty list. Keeps statement indexes
/// stable, so explanations still point at the source.
fn neutralise(action: &mut ActionElement) {
    action.negated = false;
    action.actions.clear();
}

pub fn relax(original: Policy) -> Relaxed {
    let mut may = original.clone();
    let mut must = original.clone();
    let mut unknown = Vec::with_capacity(original.statements.len());
    for (i, st) in original.statements.iter().enumerate() {
        let keys: Vec<String> = st
            .conditions
            .iter()
            .filter(|c| !is_known(&c.key))
            .map(|c| c.key.clone())
            .collect();
        if !keys.is_empty() {
            let keep_known = |s: &mut rampart_policy::Statement| {
                s.conditions.retain(|c| is_known(&c.key));
            };
            match st.effect {
                Effect::Allow => {
                    keep_known(&mut may.statements[i]);
                    neutralise(&mut must.statements[i].action);
                }
                Effect::Deny => {
                    neutralise(&mut may.statements[i].action);
                    keep_known(&mut must.statements[i]);
                }
            }
        }
        unknown.push(keys);
    }
    Relaxed {
        original,
        may,
        must,
        unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_policy::parse_policy;

    #[test]
    fn unknown_conditions_split_into_may_and_must() {
        let p = parse_policy(
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"},"StringEquals":{"aws:PrincipalAccount":"111111111111"}}},
              {"Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#,
        )
        .unwrap();
        let r = relax(p);
        assert_eq!(r.may.statements[0].conditions.len(), 1, "known key kept");
        assert!(r.must.statements[0].action.actions.is_empty());
        assert!(r.may.statements[1].action.actions.is_empty());
        assert!(r.must.statements[1].conditions.is_empty());
        assert_eq!(r.unknown[0], vec!["aws:MultiFactorAuthPresent".to_string()]);
    }
}
