//! Any bytes: parsing never panics, and whatever parses can be evaluated without panicking in
//! every layer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_policy::{ContextValue, OrgLevel, PolicySet, Request, evaluate, parse_policy};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = parse_policy(text) else {
        return;
    };
    let mut context = std::collections::BTreeMap::new();
    context.insert(
        "aws:SourceIp".to_string(),
        ContextValue::String("10.1.2.3".into()),
    );
    context.insert(
        "aws:TagKeys".to_string(),
        ContextValue::List(vec!["a".into(), "b".into()]),
    );
    context.insert("aws:SecureTransport".to_string(), ContextValue::Bool(false));
    context.insert(
        "aws:CurrentTime".to_string(),
        ContextValue::String("2024-01-01T00:00:00Z".into()),
    );
    context.insert("s3:max-keys".to_string(), ContextValue::Number(10.0));
    let set = PolicySet {
        identity: vec![policy.clone()],
        boundaries: vec![policy.clone()],
        session: Some(policy.clone()),
        resource: Some(policy.clone()),
        scps: Some(vec![OrgLevel {
            id: "r".into(),
            policies: vec![policy.clone()],
        }]),
        rcps: Some(vec![OrgLevel {
            id: "r".into(),
            policies: vec![policy],
        }]),
    };
    for principal in [
        Some("arn:aws:sts::111111111111:assumed-role/r/s"),
        Some("arn:aws:iam::111111111111:user/u"),
        None,
        Some("s3.amazonaws.com"),
    ] {
        let req = Request {
            action: "s3:GetObject".into(),
            resource: "arn:aws:s3:::b/k".into(),
            resource_account: Some("222222222222".into()),
            principal: principal.map(str::to_string),
            principal_account: None,
            context: context.clone(),
        };
        let e = evaluate(&req, &set);
        let _ = debug_len(&e);
    }
});

/// Formats the whole evaluation, so every explanation field is built and read.
fn debug_len(e: &rampart_policy::Evaluation) -> usize {
    format!("{e:?}").len()
}
