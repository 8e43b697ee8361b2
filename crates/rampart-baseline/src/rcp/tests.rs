use super::*;
use rampart_policy::lint::{PolicyKind, Severity, lint, lint_target};

fn settings() -> RcpSettings {
    RcpSettings {
        org_id: "o-abc123def4".into(),
        trusted_accounts: vec!["111122223333".into()],
    }
}

#[test]
fn every_block_builds_lints_clean_and_proves() {
    let s = settings();
    let rcps = build_rcps("Workloads/Prod", &RcpBlock::ALL, &s).unwrap();
    assert_eq!(rcps.len(), 1, "all blocks fit in one RCP: {rcps:#?}");
    let r = &rcps[0];
    assert_eq!(r.name, "rampart-rcp-workloads-prod-1");
    assert!(r.content.len() <= RCP_MAX_CHARS, "{}", r.content.len());
    let mut blocks = r.blocks.clone();
    blocks.sort();
    assert_eq!(blocks, RcpBlock::ALL.to_vec());
    // The RCP syntax rules (Principal "*", Deny only, RCP services only, size) hold.
    let texts: Vec<&str> = rcps.iter().map(|r| r.content.as_str()).collect();
    for findings in lint_target(&texts, PolicyKind::Rcp) {
        let errors: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
    let p = prove_rcps("Workloads/Prod", &rcps, &s);
    assert!(p.holds(), "{:#?}", p.failures());
    // Seven claims per perimeter service (six + one trusted account) plus TLS for each.
    assert_eq!(p.claims.len(), 5 * 8, "{:#?}", p.claims);
}

#[test]
fn each_block_alone_proves() {
    let s = RcpSettings {
        trusted_accounts: vec![],
        ..settings()
    };
    for b in RcpBlock::ALL {
        let rcps = build_rcps("Sandbox", &[b], &s).unwrap();
        assert_eq!(rcps.len(), 1);
        let p = prove_rcps("Sandbox", &rcps, &s);
        assert!(p.holds(), "{b}: {:#?}", p.failures());
        assert!(!p.claims.is_empty(), "{b}");
        for f in lint(&rcps[0].content, PolicyKind::Rcp) {
            assert_ne!(f.severity, Severity::Error, "{b}: {f:?}");
        }
    }
}

#[test]
fn a_broken_perimeter_is_refused_with_a_reason() {
    let s = settings();
    // Someone drops the service exception: CloudTrail could no longer deliver to the bucket.
    let mut rcps = build_rcps("Security", &[RcpBlock::PerimeterS3], &s).unwrap();
    let mut doc: Value = serde_json::from_str(&rcps[0].content).unwrap();
    let removed = doc["Statement"][0]["Condition"]
        .as_object_mut()
        .unwrap()
        .remove("BoolIfExists");
    assert!(removed.is_some(), "{doc}");
    rcps[0].content = doc.to_string();
    let f = prove_rcps("Security", &rcps, &s).failures().join("\n");
    assert!(
        f.contains("allows s3:GetObject to an AWS service acting for the organization"),
        "{f}"
    );
    // Someone "simplifies" away the confused-deputy statement.
    let mut rcps = build_rcps("Security", &[RcpBlock::PerimeterKms], &s).unwrap();
    let mut doc: Value = serde_json::from_str(&rcps[0].content).unwrap();
    doc["Statement"].as_array_mut().unwrap().truncate(1);
    rcps[0].content = doc.to_string();
    let f = prove_rcps("Security", &rcps, &s).failures().join("\n");
    assert!(
        f.contains("denies kms:Decrypt to an AWS service acting for another organization"),
        "{f}"
    );
    // The wrong organization id: our own principals are locked out.
    let mut rcps = build_rcps("Security", &[RcpBlock::PerimeterSts], &s).unwrap();
    rcps[0].content = rcps[0].content.replace("o-abc123def4", "o-zzzzzzzzzz");
    let f = prove_rcps("Security", &rcps, &s).failures().join("\n");
    assert!(
        f.contains("allows sts:AssumeRole to a role of another account of the organization"),
        "{f}"
    );
}

#[test]
fn tls_only_denies_plain_http_even_from_inside() {
    let s = settings();
    let rcps = build_rcps("Workloads", &[RcpBlock::RequireTls], &s).unwrap();
    assert!(!rcps[0].content.contains("PrincipalOrgID"));
    let p = prove_rcps("Workloads", &rcps, &s);
    assert!(p.holds(), "{:#?}", p.failures());
    assert_eq!(p.claims.len(), 10, "{:#?}", p.claims);
    let mut broken = rcps.clone();
    broken[0].content = broken[0].content.replace("\"sqs:*\",", "");
    let f = prove_rcps("Workloads", &broken, &s).failures().join("\n");
    assert!(f.contains("denies sqs:SendMessage without TLS"), "{f}");
}

#[test]
fn misconfiguration_is_an_error() {
    let mut s = settings();
    s.org_id.clear();
    assert_eq!(
        build_rcps("Sandbox", &[RcpBlock::PerimeterS3], &s),
        Err(RcpError::NoOrgId)
    );
    // TLS alone needs no organization id.
    assert!(build_rcps("Sandbox", &[RcpBlock::RequireTls], &s).is_ok());
    let mut s = settings();
    s.trusted_accounts = (0..400)
        .map(|i| format!("{:012}", 100000000000u64 + i))
        .collect();
    assert!(matches!(
        build_rcps("Sandbox", &[RcpBlock::PerimeterS3], &s),
        Err(RcpError::TooLarge { .. })
    ));
    // Before the perimeter alone is too large, TLS moves to a policy of its own.
    let mut s = settings();
    let mut split = None;
    for n in 0..400 {
        s.trusted_accounts = (0..n)
            .map(|i| format!("{:012}", 100000000000u64 + i))
            .collect();
        match build_rcps("Sandbox", &RcpBlock::ALL, &s) {
            Ok(rcps) if rcps.len() == 2 => {
                assert!(rcps.iter().all(|r| r.content.len() <= RCP_MAX_CHARS));
                assert_eq!(rcps[1].blocks, vec![RcpBlock::RequireTls]);
                split = Some(n);
                break;
            }
            Ok(rcps) => assert_eq!(rcps.len(), 1),
            Err(e) => panic!("{n} trusted accounts: {e}"),
        }
    }
    assert!(split.is_some_and(|n| n > 50), "{split:?}");
    assert!(build_rcps("Sandbox", &[], &s).unwrap().is_empty());
}

#[test]
fn names_round_trip() {
    for b in RcpBlock::ALL {
        assert_eq!(RcpBlock::parse(b.name()), Some(b));
        assert!(!b.summary().is_empty());
    }
    assert_eq!(RcpBlock::parse("perimeter-ec2"), None);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Any choice of blocks and trusted accounts builds within the quotas and proves.
    #[test]
    fn any_choice_builds_within_quota_and_proves(
        mask in 1u8..64,
        trusted in proptest::collection::vec(100_000_000_000u64..999_999_999_999, 0..40),
    ) {
        let blocks: Vec<RcpBlock> = RcpBlock::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, b)| b)
            .collect();
        let s = RcpSettings {
            org_id: "o-abc123def4".into(),
            trusted_accounts: trusted.iter().map(|a| a.to_string()).collect(),
        };
        let rcps = build_rcps("Workloads", &blocks, &s).unwrap();
        proptest::prop_assert!(!rcps.is_empty() && rcps.len() <= RCPS_PER_TARGET);
        let mut covered: Vec<RcpBlock> = rcps.iter().flat_map(|r| r.blocks.clone()).collect();
        covered.sort();
        proptest::prop_assert_eq!(&covered, &blocks);
        for r in &rcps {
            proptest::prop_assert!(r.content.len() <= RCP_MAX_CHARS);
        }
        let p = prove_rcps("Workloads", &rcps, &s);
        proptest::prop_assert!(p.holds(), "{:#?}", p.failures());
    }
}
