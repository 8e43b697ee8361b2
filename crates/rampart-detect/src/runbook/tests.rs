use super::*;
use crate::rules::{BuiltinConfig, builtin};
use serde_json::json;

/// Every rule rampart can raise has a runbook with every section filled and only known
/// placeholders: a new rule without one fails here.
#[test]
fn every_builtin_rule_has_a_complete_runbook() {
    let mut ids: Vec<String> = builtin(&BuiltinConfig::default())
        .iter()
        .map(|b| b.rule.meta.id.clone())
        .collect();
    ids.extend(
        crate::signin::SigninTracker::catalogue()
            .iter()
            .map(|r| r.meta.id.clone()),
    );
    ids.extend(
        crate::baseline::Baseline::catalogue()
            .iter()
            .map(|r| r.meta.id.clone()),
    );
    assert!(ids.len() >= 59, "{}", ids.len());
    let mut problems = Vec::new();
    for id in &ids {
        match find(id) {
            None => problems.push(format!("{id}: no runbook")),
            Some(e) => problems.extend(
                e.runbook
                    .problems()
                    .into_iter()
                    .map(|p| format!("{id}: {p}")),
            ),
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(
        catalogue().len(),
        ids.len(),
        "a runbook for a rule that does not exist"
    );
}

/// Runbooks are specific: no two share their summary or their first triage step.
#[test]
fn runbooks_are_specific_to_their_rule() {
    let mut seen = std::collections::HashMap::new();
    for e in catalogue() {
        if let Some(other) = seen.insert(e.runbook.summary.clone(), e.rule.id.clone()) {
            panic!("{} and {other} share a summary", e.rule.id);
        }
    }
    let distinct: std::collections::HashSet<_> = catalogue()
        .iter()
        .map(|e| (&e.runbook.why, &e.runbook.triage, &e.runbook.containment))
        .collect();
    assert_eq!(distinct.len(), catalogue().len());
}

/// Containment names the respond actions issue 18 lists, and nothing else.
#[test]
fn respond_actions_are_the_known_ones() {
    const ACTIONS: &[&str] = &[
        "disable-access-key",
        "delete-login-profile",
        "quarantine-principal",
        "restart-logging",
        "re-enable-guardduty",
        "re-enable-config",
        "reapply-bpa",
        "remove-public-statement",
        "isolate-instance",
    ];
    let mut used = std::collections::BTreeSet::new();
    for e in catalogue() {
        for s in e.runbook.steps() {
            if let Some(a) = s.respond {
                assert!(ACTIONS.contains(&a), "{}: unknown action {a}", e.rule.id);
                used.insert(a);
            }
        }
    }
    assert_eq!(used.len(), ACTIONS.len(), "unused: {used:?}");
}

fn stop_logging_alert() -> Alert {
    let rule = find("RD-TAMPER-001").expect("listed");
    let b = builtin(&BuiltinConfig::default())
        .into_iter()
        .find(|b| b.rule.meta.id == rule.rule.id)
        .unwrap();
    crate::rules::alert_on(&b.rule, &b.positives[0]).expect("fires")
}

#[test]
fn placeholders_are_filled_from_an_alert() {
    let a = stop_logging_alert();
    let v = Values::of(&a);
    assert_eq!(
        v.fill("--name {trail} in {account}/{region} by {user_name}"),
        "--name org-trail in 111122223333/eu-west-1 by alice"
    );
    // an hour either side of 2024-07-31T13:06:24Z, in both forms
    assert_eq!(
        v.fill("{start} {end}"),
        "2024-07-31T12:06:24Z 2024-07-31T14:06:24Z"
    );
    assert_eq!(v.fill("{start_sql}"), "2024-07-31 12:06:24");
    // what the alert does not carry stays a visible placeholder; JSON braces stay as they are
    assert_eq!(
        v.fill(r#"{access_key} {role_name} {event_data_store} {"Effect":"Deny"} {unknown}"#),
        r#"<access_key> <role_name> <event_data_store> {"Effect":"Deny"} {unknown}"#
    );
    assert_eq!(Values::default().fill("{account}{"), "<account>{");
}

#[test]
fn names_come_from_arns() {
    assert_eq!(user_of_arn("arn:aws:iam::1:user/ops/alice"), Some("alice"));
    assert_eq!(
        role_of_arn("arn:aws:sts::1:assumed-role/web/i-0abc"),
        Some("web")
    );
    assert_eq!(role_of_arn("arn:aws:iam::1:role/path/web"), Some("web"));
    assert_eq!(user_of_arn("arn:aws:sts::1:assumed-role/web/i-0abc"), None);
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
}

#[test]
fn access_key_filled_when_matched() {
    let mut a = stop_logging_alert();
    a.set_matched("userIdentity.accessKeyId", json!("AKIAEXAMPLE"));
    assert_eq!(Values::of(&a).fill("{access_key}"), "AKIAEXAMPLE");
}

#[test]
fn renders_markdown_and_text_with_and_without_an_alert() {
    let e = find("rd-tamper-001").expect("ids match in any case");
    let md = render(e, None, &Contacts::default(), Format::Markdown);
    for want in [
        "# RD-TAMPER-001: CloudTrail trail stopped or deleted",
        "## Triage",
        "## Containment",
        "## Recovery",
        "## Escalation",
        "```sh",
        "aws cloudtrail get-trail-status --region <region> --name <trail>",
        "`rampart respond` action: `restart-logging`",
        "- **Security on-call**:",
    ] {
        assert!(md.contains(want), "missing {want:?} in\n{md}");
    }
    assert!(!md.contains("## This alert"));
    let a = stop_logging_alert();
    let contacts =
        Contacts::from_pairs([("security_oncall", "#sec-oncall (PagerDuty: Security)")]).unwrap();
    let text = render(e, Some(&a), &contacts, Format::Text);
    for want in [
        "RD-TAMPER-001: CloudTrail trail stopped or deleted\n=====",
        "THIS ALERT",
        "- Principal: arn:aws:iam::111122223333:user/alice",
        "aws cloudtrail start-logging --region eu-west-1 --name org-trail",
        "- #sec-oncall (PagerDuty: Security):",
        "by arn:aws:iam::111122223333:user/alice",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    assert!(!text.contains("```") && !text.contains("## "));
}

#[test]
fn contacts_reject_unknown_roles() {
    let err = Contacts::from_pairs([("secops", "x")]).unwrap_err();
    assert!(
        err.contains("secops") && err.contains("security_oncall"),
        "{err}"
    );
    assert_eq!(
        Contacts::default().name(Contact::AccountOwner),
        "Account owner"
    );
}

#[test]
fn closest_ids_suggest_the_misspelt_rule() {
    assert_eq!(closest("RD-TAMPR-001", 1), ["RD-TAMPER-001"]);
    assert_eq!(closest("rd-iam-0005", 1), ["RD-IAM-005"]);
    assert!(
        closest("RD-EXP", 3)
            .iter()
            .all(|id| id.starts_with("RD-EXP-"))
    );
    assert!(find("RD-NOPE-1").is_none());
}

#[test]
fn message_lines_quote_the_summary_first_command_and_pointer() {
    let a = stop_logging_alert();
    let m = message_lines(&a).expect("built-in");
    let lines: Vec<&str> = m.lines().collect();
    assert_eq!(lines.len(), 3, "{m}");
    assert!(
        lines[0].starts_with("CloudTrail logging was stopped"),
        "{m}"
    );
    assert_eq!(
        lines[1],
        "First step: `aws cloudtrail get-trail-status --region eu-west-1 --name org-trail`"
    );
    assert_eq!(lines[2], "Runbook: `rampart runbook RD-TAMPER-001`");
}

#[test]
fn docs_have_an_index_and_a_page_per_runbook() {
    let d = docs();
    assert_eq!(d.len(), catalogue().len() + 1);
    assert_eq!(d[0].0, "README.md");
    for e in catalogue() {
        assert!(
            d[0].1
                .contains(&format!("[{}]({}.md)", e.rule.id, e.rule.id))
        );
    }
}

#[test]
fn placeholder_scan_finds_names_only() {
    assert_eq!(
        placeholders_in(r#"a {x_y} {"k":1} {Group=all} {} {z"#),
        ["x_y"]
    );
}

/// Ids whose shape says what they are fill their own placeholders, and only then.
#[test]
fn typed_ids_fill_only_when_their_shape_matches() {
    let record = |resource: &str, principal: &str, source: &str| {
        Alert::from_record(
            &json!({"schema": crate::alert::SCHEMA, "rule_id": "RD-CIS-4.10",
            "rule_source": "builtin", "title": "t", "severity": "medium", "resource": resource,
            "principal": principal, "event_source": source}),
        )
        .unwrap()
    };
    let role = "arn:aws:sts::111122223333:assumed-role/web/i-0abc123def4567890";
    let v = Values::of(&record("sg-0123", role, "ec2.amazonaws.com"));
    assert_eq!(
        v.fill("{security_group} {vpc} {instance_id} {role_name} {detector_id}"),
        "sg-0123 <vpc> i-0abc123def4567890 web <detector_id>"
    );
    let v = Values::of(&record(
        "vpc-9",
        "arn:aws:iam::1:user/alice",
        "ec2.amazonaws.com",
    ));
    assert_eq!(
        v.fill("{security_group} {vpc} {instance_id}"),
        "<security_group> vpc-9 <instance_id>"
    );
    let v = Values::of(&record(
        "12abc",
        "arn:aws:iam::1:user/alice",
        "guardduty.amazonaws.com",
    ));
    assert_eq!(v.fill("{detector_id}"), "12abc");
}
