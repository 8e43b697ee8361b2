//! The state changes the actions make, as pure functions over the JSON AWS returns: the
//! quarantine policies, public bucket-policy statements and weakened trail selectors.

use serde_json::{Value, json};

/// Inline policy denying everything (quarantine).
pub const QUARANTINE_POLICY: &str = "rampart-quarantine";
/// Inline policy denying every session issued before the quarantine.
pub const REVOKE_POLICY: &str = "rampart-revoke-sessions";
/// The security group isolated instances are moved into (no rules).
pub const QUARANTINE_GROUP: &str = "rampart-quarantine";

/// The deny-all policy document.
pub fn deny_all_policy() -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "RampartQuarantine", "Effect": "Deny", "Action": "*", "Resource": "*"}]
    })
    .to_string()
}

/// Denies every request made with credentials issued before `now` (RFC 3339): stolen session
/// tokens stop working, new sessions (after the quarantine is lifted) are unaffected.
pub fn revoke_sessions_policy(now: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "RampartRevokeOlderSessions",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": now}}
        }]
    })
    .to_string()
}

/// Whether a statement lets anyone in: `Allow` to `*` (or `{"AWS": "*"}`) with no condition.
/// A conditioned statement (source VPC, organization id, …) is left alone.
pub fn is_public_allow(st: &Value) -> bool {
    let star = |v: &Value| match v {
        Value::String(s) => s == "*",
        Value::Array(a) => a.iter().any(|x| x.as_str() == Some("*")),
        _ => false,
    };
    st.get("Effect").and_then(Value::as_str) == Some("Allow")
        && st
            .get("Condition")
            .is_none_or(|c| c.as_object().is_some_and(|m| m.is_empty()))
        && match st.get("Principal") {
            Some(p @ Value::String(_)) => star(p),
            Some(Value::Object(m)) => m.get("AWS").is_some_and(star),
            _ => false,
        }
}

fn statements(policy: &Value) -> Vec<Value> {
    match policy.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(st @ Value::Object(_)) => vec![st.clone()],
        _ => Vec::new(),
    }
}

/// The policy without its public Allow statements (`None`: nothing left, delete the policy),
/// and the statements removed (kept for undo). No public statement: `(policy, [])`.
pub fn remove_public_statements(policy: &Value) -> (Option<Value>, Vec<Value>) {
    let (public, kept): (Vec<Value>, Vec<Value>) =
        statements(policy).into_iter().partition(is_public_allow);
    if kept.is_empty() {
        return (None, public);
    }
    let mut out = policy.clone();
    out["Statement"] = Value::Array(kept);
    (Some(out), public)
}

/// `current` (absent: a new policy) with `removed` put back, each only if not already there.
pub fn restore_statements(current: Option<&Value>, removed: &[Value]) -> (Value, bool) {
    let mut out = current
        .cloned()
        .unwrap_or_else(|| json!({"Version": "2012-10-17", "Statement": []}));
    let mut sts = statements(&out);
    let mut changed = false;
    for r in removed {
        if !sts.contains(r) {
            sts.push(r.clone());
            changed = true;
        }
    }
    out["Statement"] = Value::Array(sts);
    (out, changed)
}

/// Whether a basic event selector logs every management event.
fn full_basic(s: &Value) -> bool {
    s.get("IncludeManagementEvents").and_then(Value::as_bool) != Some(false)
        && s.get("ReadWriteType")
            .and_then(Value::as_str)
            .unwrap_or("All")
            == "All"
        && s.get("ExcludeManagementEventSources")
            .and_then(Value::as_array)
            .is_none_or(|a| a.is_empty())
}

fn management_field(f: &Value) -> bool {
    f.get("Field").and_then(Value::as_str) == Some("eventCategory")
        && f.get("Equals")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x.as_str() == Some("Management")))
}

/// Whether an advanced selector logs every management event (only the category is selected).
fn full_advanced(s: &Value) -> bool {
    let fields = s.get("FieldSelectors").and_then(Value::as_array);
    fields.is_some_and(|f| f.len() == 1 && management_field(&f[0]))
}

/// The selectors restored to log every management event, or `None` when they already do.
/// Basic selectors keep their data resources; weakened advanced management selectors are
/// replaced by one that selects every management event.
pub fn restore_selectors(basic: &[Value], advanced: &[Value]) -> Option<(Vec<Value>, Vec<Value>)> {
    if !advanced.is_empty() {
        if advanced.iter().any(full_advanced) {
            return None;
        }
        let mut out: Vec<Value> = advanced
            .iter()
            .filter(|s| {
                !s.get("FieldSelectors")
                    .and_then(Value::as_array)
                    .is_some_and(|f| f.iter().any(management_field))
            })
            .cloned()
            .collect();
        out.push(json!({
            "Name": "Management events (restored by rampart)",
            "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]
        }));
        return Some((Vec::new(), out));
    }
    if basic.iter().any(full_basic) {
        return None;
    }
    let mut out = basic.to_vec();
    match out.first_mut() {
        Some(first) => {
            first["ReadWriteType"] = json!("All");
            first["IncludeManagementEvents"] = json!(true);
            if let Some(m) = first.as_object_mut() {
                m.remove("ExcludeManagementEventSources");
            }
        }
        None => out.push(json!({"ReadWriteType": "All", "IncludeManagementEvents": true})),
    }
    Some((out, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn public_statements_are_removed_and_put_back() {
        let policy = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
            {"Sid": "Org", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}},
            {"Sid": "TLS", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*",
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:root", "*"]}, "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b"},
        ]});
        let (kept, removed) = remove_public_statements(&policy);
        let kept = kept.unwrap();
        let sids: Vec<&str> = kept["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert_eq!(sids, ["Org", "TLS"]);
        assert_eq!(removed.len(), 2);
        let (again, none) = remove_public_statements(&kept);
        assert_eq!((again.as_ref(), none.len()), (Some(&kept), 0));
        let (back, changed) = restore_statements(Some(&kept), &removed);
        assert!(changed);
        assert_eq!(back["Statement"].as_array().unwrap().len(), 4);
        let (_, changed) = restore_statements(Some(&back), &removed);
        assert!(!changed, "restoring twice adds nothing");
        let only_public = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}});
        assert_eq!(remove_public_statements(&only_public).0, None);
    }

    #[test]
    fn weakened_selectors_are_restored() {
        let full = [json!({"ReadWriteType": "All", "IncludeManagementEvents": true})];
        assert_eq!(restore_selectors(&full, &[]), None);
        let weak = [
            json!({"ReadWriteType": "WriteOnly", "IncludeManagementEvents": false,
                          "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}),
        ];
        let (basic, adv) = restore_selectors(&weak, &[]).unwrap();
        assert!(adv.is_empty());
        assert_eq!(basic[0]["ReadWriteType"], "All");
        assert_eq!(basic[0]["IncludeManagementEvents"], true);
        assert_eq!(basic[0]["DataResources"], weak[0]["DataResources"]);
        assert_eq!(restore_selectors(&basic, &[]), None);
        let write_only = [
            json!({"Name": "m", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["false"]}]}),
            json!({"Name": "d", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}),
        ];
        let (_, adv) = restore_selectors(&[], &write_only).unwrap();
        assert_eq!(adv.len(), 2);
        assert_eq!(adv[0]["Name"], "d");
        assert_eq!(restore_selectors(&[], &adv), None);
        assert!(
            restore_selectors(&[], &[]).is_some(),
            "no selectors at all log nothing"
        );
    }

    proptest! {
        #[test]
        fn removing_public_statements_leaves_none_and_restoring_gives_them_back(
            shape in proptest::collection::vec((any::<bool>(), any::<bool>(), any::<bool>(), 0u8..3), 0..8)
        ) {
            let sts: Vec<Value> = shape.iter().enumerate().map(|(i, (allow, star, cond, _))| {
                let mut s = json!({"Sid": format!("s{i}"), "Effect": if *allow {"Allow"} else {"Deny"},
                    "Principal": if *star {json!("*")} else {json!({"AWS": "arn:aws:iam::1:root"})},
                    "Action": "s3:GetObject", "Resource": "*"});
                if *cond { s["Condition"] = json!({"Bool": {"aws:SecureTransport": "true"}}); }
                s
            }).collect();
            let policy = json!({"Version": "2012-10-17", "Statement": sts.clone()});
            let (kept, removed) = remove_public_statements(&policy);
            let kept_sts = kept.as_ref().map(statements).unwrap_or_default();
            prop_assert!(kept_sts.iter().all(|s| !is_public_allow(s)));
            prop_assert_eq!(kept_sts.len() + removed.len(), sts.len());
            let (back, _) = restore_statements(kept.as_ref(), &removed);
            let mut a = statements(&back); a.sort_by_key(|s| s["Sid"].to_string());
            let mut b = sts; b.sort_by_key(|s| s["Sid"].to_string());
            prop_assert_eq!(a, b);
        }
    }
}
