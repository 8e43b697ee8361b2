//! Sigma lowering: each feature with events that must and must not match, and the SigmaHQ corpus.

use super::*;
use crate::engine::eval;
use crate::event::Event;

fn rule(detection: &str) -> Rule {
    let text = format!(
        "title: t\nid: 11111111-2222-3333-4444-555555555555\nauthor: A. Author\nlevel: high\ntags: [attack.defense-evasion, attack.t1562.008]\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n{detection}"
    );
    load_str(&text, "test.yml").unwrap_or_else(|u| panic!("{}", u.reason))
}

fn hits(r: &Rule, event: &str) -> bool {
    let ev = Event::parse(event.as_bytes()).expect("test event");
    eval(&r.condition, &ev)
}

fn reason(detection: &str) -> String {
    let text = format!(
        "title: t\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n{detection}"
    );
    load_str(&text, "x.yml")
        .expect_err("must be unsupported")
        .reason
}

#[test]
fn metadata_credits_the_author_and_maps_attack() {
    let r = rule("  sel:\n    eventName: StopLogging\n  condition: sel\n");
    assert_eq!(r.meta.author.as_deref(), Some("A. Author"));
    assert_eq!(r.meta.license.as_deref(), Some("DRL-1.1"));
    assert_eq!(r.meta.attack, vec!["T1562.008".to_string()]);
    assert_eq!(r.meta.severity, Severity::High);
    assert_eq!(r.meta.source, RuleSource::Sigma);
    assert_eq!(r.meta.id, "11111111-2222-3333-4444-555555555555");
}

#[test]
fn equality_is_case_insensitive_and_lists_are_any() {
    let r = rule(
        "  sel:\n    eventSource: cloudtrail.amazonaws.com\n    eventName:\n      - StopLogging\n      - DeleteTrail\n  condition: sel\n",
    );
    assert!(hits(
        &r,
        r#"{"eventSource":"cloudtrail.amazonaws.com","eventName":"deletetrail"}"#
    ));
    assert!(!hits(
        &r,
        r#"{"eventSource":"cloudtrail.amazonaws.com","eventName":"StartLogging"}"#
    ));
    assert!(!hits(
        &r,
        r#"{"eventSource":"s3.amazonaws.com","eventName":"DeleteTrail"}"#
    ));
    // Indexed by the event name, so other events never meet it.
    assert!(r.index.event_names.is_some());
}

#[test]
fn wildcards_and_escapes() {
    let r = rule("  sel:\n    eventName: 'Delete*Policy'\n  condition: sel\n");
    assert!(hits(&r, r#"{"eventName":"DeleteBucketPolicy"}"#));
    assert!(!hits(&r, r#"{"eventName":"PutBucketPolicy"}"#));
    let r = rule("  sel:\n    userAgent|contains: 'a\\*b'\n  condition: sel\n");
    assert!(hits(&r, r#"{"userAgent":"xa*bx"}"#));
    assert!(!hits(&r, r#"{"userAgent":"xaZbx"}"#));
    let r = rule("  sel:\n    eventName: 'Get?'\n  condition: sel\n");
    assert!(hits(&r, r#"{"eventName":"GetX"}"#));
    assert!(!hits(&r, r#"{"eventName":"GetXY"}"#));
}

#[test]
fn contains_startswith_endswith_all() {
    let r =
        rule("  sel:\n    userAgent|contains|all:\n      - kali\n      - boto\n  condition: sel\n");
    assert!(hits(&r, r#"{"userAgent":"Boto3/1.0 linux kali"}"#));
    assert!(!hits(&r, r#"{"userAgent":"Boto3/1.0 linux"}"#));
    let r = rule(
        "  sel:\n    eventName|startswith: Delete\n    eventSource|endswith: '.amazonaws.com'\n  condition: sel\n",
    );
    assert!(hits(
        &r,
        r#"{"eventName":"DeleteX","eventSource":"s3.amazonaws.com"}"#
    ));
    assert!(!hits(
        &r,
        r#"{"eventName":"PutX","eventSource":"s3.amazonaws.com"}"#
    ));
    assert!(!hits(
        &r,
        r#"{"eventName":"DeleteX","eventSource":"s3.example.com"}"#
    ));
}

#[test]
fn regex_is_case_sensitive_unless_i() {
    let r = rule("  sel:\n    eventName|re: '^Put.*Policy$'\n  condition: sel\n");
    assert!(hits(&r, r#"{"eventName":"PutBucketPolicy"}"#));
    assert!(!hits(&r, r#"{"eventName":"putbucketpolicy"}"#));
    let r = rule("  sel:\n    eventName|re|i: '^Put.*Policy$'\n  condition: sel\n");
    assert!(hits(&r, r#"{"eventName":"putbucketpolicy"}"#));
}

#[test]
fn dotted_and_array_paths() {
    let r = rule(
        "  sel:\n    userIdentity.type: Root\n    resources.ARN|endswith: ':trail/org'\n  condition: sel\n",
    );
    let yes = r#"{"userIdentity":{"type":"Root"},"resources":[{"ARN":"x"},{"ARN":"arn:aws:cloudtrail:us-east-1:1:trail/org"}]}"#;
    assert!(hits(&r, yes));
    assert!(!hits(
        &r,
        r#"{"userIdentity":{"type":"IAMUser"},"resources":[{"ARN":"a:trail/org"}]}"#
    ));
}

#[test]
fn null_exists_fieldref_cidr_numbers() {
    let r = rule("  sel:\n    errorCode: null\n  condition: sel\n");
    assert!(hits(&r, r#"{"eventName":"X"}"#));
    assert!(hits(&r, r#"{"errorCode":null}"#));
    assert!(!hits(&r, r#"{"errorCode":"AccessDenied"}"#));
    let r = rule("  sel:\n    errorCode|exists: true\n  condition: sel\n");
    assert!(hits(&r, r#"{"errorCode":"AccessDenied"}"#));
    assert!(!hits(&r, r#"{"eventName":"X"}"#));
    let r = rule(
        "  sel:\n    userIdentity.principalId|fieldref: userIdentity.accessKeyId\n  condition: sel\n",
    );
    assert!(hits(
        &r,
        r#"{"userIdentity":{"principalId":"AKIA1","accessKeyId":"akia1"}}"#
    ));
    assert!(!hits(
        &r,
        r#"{"userIdentity":{"principalId":"AKIA1","accessKeyId":"AKIA2"}}"#
    ));
    let r = rule("  sel:\n    sourceIPAddress|cidr: 10.0.0.0/8\n  condition: sel\n");
    assert!(hits(&r, r#"{"sourceIPAddress":"10.1.2.3"}"#));
    assert!(!hits(&r, r#"{"sourceIPAddress":"11.1.2.3"}"#));
    let r = rule("  sel:\n    requestParameters.durationSeconds|gt: 3600\n  condition: sel\n");
    assert!(hits(
        &r,
        r#"{"requestParameters":{"durationSeconds":43200}}"#
    ));
    assert!(!hits(
        &r,
        r#"{"requestParameters":{"durationSeconds":900}}"#
    ));
}

/// The table "Values of every type" of docs/detect.md, cell by cell: each value (as the
/// field's JSON) against each modifier, on a typed-header field, an indexed `userIdentity`
/// member and a nested field, each read from bytes and from a document.
#[test]
fn values_of_every_type_against_every_modifier() {
    // (column, the selection's field suffix and value)
    let columns: &[(&str, &str)] = &[
        ("equals", ": 10.1.2.3"),
        ("startswith", "|startswith: '10.1'"),
        ("endswith", "|endswith: '2.3'"),
        ("contains", "|contains: '1.2'"),
        ("re", "|re: '^10\\.'"),
        ("cidr", "|cidr: 10.0.0.0/8"),
        ("all", "|contains|all: ['10.', '.3']"),
        ("null", ": null"),
        ("exists", "|exists: true"),
    ];
    // (the field's JSON, or None for absent; the expected answer per column, `Y` or `-`)
    let rows: &[(Option<&str>, &str)] = &[
        (None, "-------Y-"),
        (Some("null"), "-------YY"),
        (Some(r#""10.1.2.3""#), "YYYYYYY-Y"),
        (Some(r#""192.168.0.1""#), "--------Y"),
        (Some(r#""""#), "--------Y"),
        (Some("10.1"), "-Y--Y---Y"),
        (Some("true"), "--------Y"),
        (Some(r#"{"ip":"10.1.2.3"}"#), "--------Y"),
        (Some("{}"), "--------Y"),
        (Some("[]"), "-------YY"),
        (Some("[null]"), "-------YY"),
        (Some(r#"["192.168.0.1","10.1.2.3"]"#), "YYYYYYY-Y"),
        (Some(r#"[null,"10.1.2.3"]"#), "YYYYYYY-Y"),
        (Some(r#"["10.9.9.9","1.2.3"]"#), "--YYYYY-Y"),
        (Some(r#"[["10.1.2.3"]]"#), "YYYYYYY-Y"),
        (Some(r#"[{"ip":"10.1.2.3"}]"#), "--------Y"),
    ];
    for field in [
        "sourceIPAddress",
        "userIdentity.arn",
        "additionalEventData.ip",
    ] {
        for (col, (name, sel)) in columns.iter().enumerate() {
            let r = rule(&format!("  sel:\n    {field}{sel}\n  condition: sel\n"));
            for (value, want) in rows {
                let event = match (value, field.split_once('.')) {
                    (None, _) => r#"{"eventName":"X","userIdentity":{"type":"Root"}}"#.to_string(),
                    (Some(v), None) => format!(r#"{{"eventName":"X","{field}":{v}}}"#),
                    (Some(v), Some((outer, inner))) => {
                        format!(r#"{{"eventName":"X","{outer}":{{"type":"Root","{inner}":{v}}}}}"#)
                    }
                };
                let want = want.as_bytes()[col] == b'Y';
                assert_eq!(hits(&r, &event), want, "{field} {name} on {event}");
                let doc: serde_json::Value = serde_json::from_str(&event).unwrap();
                let from_doc = eval(&r.condition, &Event::from_value(event.as_bytes(), doc));
                assert_eq!(from_doc, want, "{field} {name} on {event} (document)");
            }
        }
    }
}

#[test]
fn contains_on_a_whole_sub_object() {
    let r = rule("  sel:\n    requestParameters|contains: '0.0.0.0/0'\n  condition: sel\n");
    let yes = r#"{"requestParameters":{"ipPermissions":{"items":[{"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]}}}"#;
    assert!(hits(&r, yes));
    assert!(!hits(
        &r,
        r#"{"requestParameters":{"ipPermissions":{"items":[{"ipRanges":{"items":[{"cidrIp":"10.0.0.0/8"}]}}]}}}"#
    ));
}

#[test]
fn conditions_not_one_of_all_of_them_parentheses() {
    let det = "  selection:\n    eventName: ConsoleLogin\n  filter_main_a:\n    sourceIPAddress: 1.1.1.1\n  filter_main_b:\n    userAgent: trusted\n";
    let r = rule(&format!(
        "{det}  condition: selection and not 1 of filter_main_*\n"
    ));
    assert!(hits(
        &r,
        r#"{"eventName":"ConsoleLogin","sourceIPAddress":"2.2.2.2","userAgent":"x"}"#
    ));
    assert!(!hits(
        &r,
        r#"{"eventName":"ConsoleLogin","sourceIPAddress":"1.1.1.1","userAgent":"x"}"#
    ));
    assert!(!hits(
        &r,
        r#"{"eventName":"ConsoleLogin","sourceIPAddress":"2.2.2.2","userAgent":"trusted"}"#
    ));
    let r = rule(&format!("{det}  condition: all of filter_main_*\n"));
    assert!(hits(
        &r,
        r#"{"sourceIPAddress":"1.1.1.1","userAgent":"trusted"}"#
    ));
    assert!(!hits(
        &r,
        r#"{"sourceIPAddress":"1.1.1.1","userAgent":"x"}"#
    ));
    let r = rule(&format!("{det}  condition: 1 of them\n"));
    assert!(hits(&r, r#"{"userAgent":"trusted"}"#));
    let r = rule(&format!(
        "{det}  condition: selection and (filter_main_a or filter_main_b)\n"
    ));
    assert!(hits(
        &r,
        r#"{"eventName":"ConsoleLogin","userAgent":"trusted"}"#
    ));
    assert!(!hits(&r, r#"{"eventName":"ConsoleLogin"}"#));
    // `not` binds tighter than `and`, `and` tighter than `or`.
    let r = rule(&format!(
        "{det}  condition: not filter_main_a and selection or filter_main_b\n"
    ));
    assert!(hits(
        &r,
        r#"{"userAgent":"trusted","sourceIPAddress":"1.1.1.1"}"#
    ));
    assert!(hits(&r, r#"{"eventName":"ConsoleLogin"}"#));
    assert!(!hits(
        &r,
        r#"{"eventName":"ConsoleLogin","sourceIPAddress":"1.1.1.1"}"#
    ));
}

#[test]
fn list_of_maps_is_or() {
    let r = rule(
        "  sel:\n    - eventName: A\n      eventSource: x\n    - eventName: B\n  condition: sel\n",
    );
    assert!(hits(&r, r#"{"eventName":"A","eventSource":"x"}"#));
    assert!(!hits(&r, r#"{"eventName":"A","eventSource":"y"}"#));
    assert!(hits(&r, r#"{"eventName":"B"}"#));
}

#[test]
fn unsupported_features_say_why() {
    assert!(
        reason("  selection:\n    eventName: X\n  condition: selection | count() > 5\n")
            .contains("aggregation")
    );
    assert!(
        reason("  s1:\n    eventName: X\n  s2:\n    eventName: Y\n  condition: s1 | near s2\n")
            .contains("near")
    );
    assert!(reason("  sel:\n    x|expand: '%A%'\n  condition: sel\n").contains("expand"));
    assert!(reason("  sel:\n    x|base64: a\n  condition: sel\n").contains("base64"));
    assert!(reason("  sel:\n    - foo\n  condition: sel\n").contains("keyword"));
    assert!(reason("  sel:\n    eventName: X\n  condition: nope\n").contains("unknown selection"));
    assert!(
        reason("  sel:\n    eventName: X\n  timeframe: 5m\n  condition: sel\n")
            .contains("timeframe")
    );
    let other = load_str(
        "title: t\nlogsource:\n  product: windows\n  service: security\ndetection:\n  sel:\n    a: b\n  condition: sel\n",
        "w.yml",
    )
    .unwrap_err();
    assert!(other.reason.contains("windows"), "{}", other.reason);
    let bad = load_str("title: [unclosed", "b.yml").unwrap_err();
    assert!(bad.reason.starts_with("invalid YAML"), "{}", bad.reason);
}

#[test]
fn never_panics_on_odd_documents() {
    for text in [
        "",
        "42",
        "[]",
        "title: x",
        "detection: 5",
        "logsource: {product: aws, service: cloudtrail}\ndetection: {condition: 'a and'}",
        "logsource: {product: aws, service: cloudtrail}\ndetection: {a: {x: [[1]]}, condition: a}",
        "logsource: {product: aws, service: cloudtrail}\ndetection: {a: {x: 1}, condition: '((a'}",
        "logsource: {product: aws, service: cloudtrail}\ndetection: {a: {'x|re': '('}, condition: a}",
        "logsource: {product: aws, service: cloudtrail}\ndetection: {a: {'x|cidr': 'nope'}, condition: a}",
    ] {
        let _ = load_str(text, "odd.yml");
    }
}

fn corpus() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/sigma-aws")
}

/// Every SigmaHQ AWS rule in the corpus loads or is reported with a reason.
#[test]
fn sigmahq_corpus_loads_or_says_why() {
    let report = load_dir(&corpus()).expect("corpus readable");
    let total = report.rules.len() + report.unsupported.len();
    assert_eq!(total, 66, "every file accounted for");
    assert_eq!(report.rules.len(), 57, "supported rules");
    for u in &report.unsupported {
        assert!(!u.reason.is_empty() && !u.path.is_empty(), "{u:?}");
    }
    // the reasons are the features rampart does not have, one per rule
    let why = |needle: &str| {
        report
            .unsupported
            .iter()
            .filter(|u| u.reason.contains(needle))
            .count()
    };
    assert_eq!(
        (why("`timeframe`"), why("`near`"), why("`expand`")),
        (7, 1, 1),
        "{:?}",
        report.unsupported
    );
    // Everything under rules/ loads; placeholders and correlations do not.
    assert!(report.rules.iter().all(|r| {
        r.meta
            .origin
            .as_deref()
            .is_some_and(|o| o.contains("/rules/cloud/"))
    }));
    for r in &report.rules {
        assert!(
            r.meta.author.as_deref().is_some_and(|a| !a.is_empty()),
            "{}",
            r.meta.id
        );
        assert_eq!(r.meta.license.as_deref(), Some(SIGMA_LICENSE));
    }
}

/// A directory of rules that cannot be read is reported with the reason, not skipped.
#[test]
fn unreadable_directories_are_reported() {
    let mut files = Vec::new();
    let mut report = LoadReport::default();
    super::collect_files(
        Path::new("/nonexistent/sigma/rules"),
        &mut files,
        &mut report,
    );
    assert!(files.is_empty());
    assert_eq!(report.unsupported.len(), 1);
    assert!(
        report.unsupported[0]
            .reason
            .starts_with("cannot read the directory"),
        "{:?}",
        report.unsupported
    );
}
