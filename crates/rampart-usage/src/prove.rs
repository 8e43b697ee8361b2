//! The proof of a generated policy: every logged call of the principal replayed against it with
//! the policy engine (each must be allowed), the calls it cannot express listed with their
//! reasons, and the policy linted.

use crate::generate::Calls;
use rampart_policy::lint::{Finding, PolicyKind, Severity, lint, minified_len};
use rampart_policy::{CompiledPolicySet, Decision, PolicySet, parse_policy};
use serde::Serialize;

/// Characters AWS allows in a customer managed policy, whitespace excluded.
pub const MANAGED_POLICY_MAX_CHARS: usize = 6_144;

/// A replayed call the policy does not allow (a bug in the generator if it ever happens).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeniedCall {
    pub action: String,
    /// `["*"]` for a call whose resource is not named.
    pub resources: Vec<String>,
    pub calls: u64,
    pub decision: Decision,
}

/// Calls no IAM action expresses, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnexpressedCall {
    /// `eventSource eventName`.
    pub call: String,
    pub reason: String,
    pub calls: u64,
}

/// What the replay and the linter say about a generated policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proof {
    pub principal: String,
    /// Calls of the principal in the window, whatever became of them.
    pub calls: u64,
    /// Calls replayed against the policy (one request per named resource).
    pub replayed: u64,
    /// Replayed calls every request of which the policy allows.
    pub allowed: u64,
    /// Distinct requests replayed (calls with the same action and resources are one request).
    pub distinct_requests: u64,
    pub denied: Vec<DeniedCall>,
    pub unexpressed: Vec<UnexpressedCall>,
    /// Calls that need no permission (`sts:GetCallerIdentity`).
    pub no_permission: u64,
    /// Calls the log shows denied: not granted, by action.
    pub denied_in_log: Vec<(String, u64)>,
    pub lint: Vec<Finding>,
    /// The policy's length without whitespace (AWS allows 6,144 for a managed policy).
    pub policy_chars: usize,
}

impl Proof {
    /// Whether every replayed call was allowed.
    pub fn holds(&self) -> bool {
        self.denied.is_empty() && self.allowed == self.replayed
    }

    /// Lint findings of severity error.
    pub fn lint_errors(&self) -> usize {
        self.lint
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    /// For people: the summary, then each denied and each unexpressed call, then the findings.
    pub fn to_text(&self) -> String {
        let unexpressed: u64 = self.unexpressed.iter().map(|u| u.calls).sum();
        let refused: u64 = self.denied_in_log.iter().map(|(_, n)| n).sum();
        let mut s = format!(
            "proof for {}: {} call(s) in the window; {} replayed ({} distinct request(s)), {} allowed, {} denied; {} unexpressed; {} need no permission; {} denied in the log (not granted)\n",
            self.principal,
            self.calls,
            self.replayed,
            self.distinct_requests,
            self.allowed,
            self.replayed - self.allowed,
            unexpressed,
            self.no_permission,
            refused
        );
        for d in &self.denied {
            s.push_str(&format!(
                "  DENIED {} on {} ({} call(s), {:?})\n",
                d.action,
                d.resources.join(", "),
                d.calls,
                d.decision
            ));
        }
        for u in &self.unexpressed {
            s.push_str(&format!(
                "  unexpressed: {} ×{}: {}\n",
                u.call, u.calls, u.reason
            ));
        }
        for (a, n) in &self.denied_in_log {
            s.push_str(&format!("  denied in the log, not granted: {a} ×{n}\n"));
        }
        s.push_str(&format!(
            "lint: {} finding(s), {} error(s); {} characters without whitespace (a managed policy may hold {})\n",
            self.lint.len(),
            self.lint_errors(),
            self.policy_chars,
            MANAGED_POLICY_MAX_CHARS
        ));
        for f in &self.lint {
            s.push_str(&format!(
                "  {}:{}: {} {:?}: {}\n",
                f.line, f.column, f.code, f.severity, f.message
            ));
        }
        s
    }
}

/// Replays `calls` of `principal` against the policy `text` and lints it.
pub fn prove(principal: &str, calls: &Calls, text: &str) -> Result<Proof, String> {
    let policy =
        parse_policy(text).map_err(|e| format!("the generated policy does not parse: {e}"))?;
    let account = principal.split(':').nth(4).map(str::to_string);
    // KMS keys and role trust policies must allow a caller themselves: replay those calls as if
    // the key policy or trust policy delegated to the caller's account (AWS's default key
    // policy does), so the answer is the identity policy's.
    let partition = principal.split(':').nth(1).unwrap_or("aws");
    let delegation = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:{partition}:iam::{}:root"}},"Action":"*","Resource":"*"}}]}}"#,
        account.as_deref().unwrap_or("")
    );
    let delegation = parse_policy(&delegation).map_err(|e| format!("delegation policy: {e}"))?;
    let identity_only = CompiledPolicySet::new(&PolicySet {
        identity: vec![policy.clone()],
        ..PolicySet::default()
    });
    let delegated = CompiledPolicySet::from_set(PolicySet {
        identity: vec![policy],
        resource: Some(delegation),
        ..PolicySet::default()
    });
    let mut proof = Proof {
        principal: principal.to_string(),
        calls: 0,
        replayed: 0,
        allowed: 0,
        distinct_requests: 0,
        denied: Vec::new(),
        unexpressed: calls
            .unexpressed
            .iter()
            .map(|((call, reason), n)| UnexpressedCall {
                call: call.clone(),
                reason: reason.clone(),
                calls: *n,
            })
            .collect(),
        no_permission: calls.no_permission,
        denied_in_log: calls
            .denied_in_log
            .iter()
            .map(|(a, n)| (a.clone(), *n))
            .collect(),
        lint: lint(text, PolicyKind::Identity),
        policy_chars: minified_len(text),
    };
    let mut requests: Vec<(&(String, Vec<String>), &u64)> = calls.by_request.iter().collect();
    requests.sort();
    let star = ["*".to_string()];
    for ((action, list), &n) in requests {
        proof.replayed += n;
        proof.distinct_requests += 1;
        let resources: &[String] = if list.is_empty() { &star } else { list };
        let needs_resource_policy =
            action.starts_with("kms:") || action.starts_with("sts:AssumeRole");
        let set = if needs_resource_policy {
            &delegated
        } else {
            &identity_only
        };
        let mut worst = Decision::Allowed;
        for r in resources {
            let d = set.decide(&crate::request(action, r, principal));
            if d != Decision::Allowed {
                worst = d;
            }
        }
        if worst == Decision::Allowed {
            proof.allowed += n;
        } else {
            proof.denied.push(DeniedCall {
                action: action.clone(),
                resources: resources.to_vec(),
                calls: n,
                decision: worst,
            });
        }
    }
    proof.calls = proof.replayed
        + proof.unexpressed.iter().map(|u| u.calls).sum::<u64>()
        + proof.no_permission
        + proof.denied_in_log.iter().map(|(_, n)| n).sum::<u64>();
    Ok(proof)
}
