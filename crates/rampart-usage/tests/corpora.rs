//! Generated policies proven on every principal of the shared CloudTrail corpora
//! (`/work/shared/corpora/cloudtrail`, or `RAMPART_CORPORA`): each principal's calls are all
//! allowed by its generated policy, or listed as unexpressible with a reason.

use rampart_trail::Event;
use rampart_trail::read::{Parsed, ReadStats, Reader, discover};
use rampart_usage::Window;
use rampart_usage::generate::{Generator, Options};
use rampart_usage::identity::{Identity, caller_arn};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn corpora() -> Option<PathBuf> {
    let root = std::env::var_os("RAMPART_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/corpora/cloudtrail"));
    root.is_dir().then_some(root)
}

/// Every record of the corpora, read once.
fn records(root: &std::path::Path) -> (Vec<Vec<u8>>, ReadStats) {
    let mut reader = Reader::new();
    let mut stats = ReadStats::default();
    let mut issues = Vec::new();
    let mut out = Vec::new();
    for f in discover(root, None, None).unwrap() {
        reader.read_file_batches(&f, &mut stats, &mut issues, &mut |p| {
            if let Parsed::Events(events, _) = p {
                out.extend(events.iter().map(|e| e.raw().to_vec()));
            }
        });
    }
    (out, stats)
}

/// The records parsed once (each event keeps its document once built, so the principals after
/// the first do not parse it again).
fn parsed(records: &[Vec<u8>]) -> Vec<Event<'_>> {
    records.iter().map(|r| Event::parse(r).unwrap()).collect()
}

#[test]
fn every_principal_of_the_corpora_gets_a_proven_policy() {
    let Some(root) = corpora() else {
        eprintln!("skipped: no corpora (set RAMPART_CORPORA)");
        return;
    };
    let mut principals = BTreeSet::new();
    let (all, stats) = records(&root);
    let events = parsed(&all);
    events.iter().for_each(|e| {
        if let Some(id) = caller_arn(e).and_then(Identity::of_arn) {
            principals.insert(id.arn());
        }
    });
    assert!(stats.records > 5_000, "{stats:?}");
    assert!(principals.len() >= 30, "{}", principals.len());
    let (mut proven, mut replayed, mut unexpressed, mut named, mut wildcard) =
        (0, 0u64, 0u64, 0, 0);
    for p in &principals {
        let mut g = Generator::new(p, Window::default()).unwrap();
        events.iter().for_each(|e| g.observe(e));
        assert!(g.counts.matched > 0, "{p}: no calls matched");
        if g.calls.by_request.is_empty() {
            // nothing to grant: every call is listed, each with its reason
            assert!(
                !g.calls.unexpressed.is_empty()
                    || g.calls.no_permission > 0
                    || !g.calls.denied_in_log.is_empty(),
                "{p}"
            );
            continue;
        }
        let out = rampart_usage::generate(&g, &Options::default()).unwrap();
        let proof = &out.proof;
        assert!(proof.holds(), "{p}:\n{}\n{}", out.policy, proof.to_text());
        assert_eq!(
            proof.calls, g.counts.matched,
            "{p}: every matched call is accounted for"
        );
        assert_eq!(proof.lint_errors(), 0, "{p}:\n{}", proof.to_text());
        for u in &proof.unexpressed {
            assert!(!u.reason.is_empty(), "{p}: {}", u.call);
        }
        proven += 1;
        replayed += proof.replayed;
        unexpressed += proof.unexpressed.iter().map(|u| u.calls).sum::<u64>();
        for s in &out.statements {
            if s.resources == ["*"] {
                wildcard += 1;
                assert!(s.wildcard_reason.is_some(), "{p}: {}", s.sid);
            } else {
                named += 1;
            }
        }
    }
    eprintln!(
        "{} principal(s), {proven} policies proven, {replayed} call(s) replayed, {unexpressed} unexpressible; statements: {named} with named resources, {wildcard} with *",
        principals.len()
    );
    assert!(proven >= 25, "{proven}");
    assert!(replayed > 5_000, "{replayed}");
    assert!(
        named > 10,
        "CloudTrail names resources of many calls: {named}"
    );
    // the corpora's unexpressible calls are a small part (console sign-ins and the like)
    assert!(unexpressed * 20 < replayed, "{unexpressed} of {replayed}");
}

/// The heaviest principal of the corpora: its policy names S3 objects, secrets and parameters
/// by ARN, and does not grant what it was refused.
#[test]
fn the_busiest_principal_gets_named_resources() {
    let Some(root) = corpora() else {
        return;
    };
    let p = "arn:aws:iam::123837392027:user/bert-jan";
    let (all, _) = records(&root);
    let events = parsed(&all);
    let mut g = Generator::new(p, Window::default()).unwrap();
    events.iter().for_each(|e| g.observe(e));
    let out = rampart_usage::generate(&g, &Options::default()).unwrap();
    assert!(out.proof.holds(), "{}\n{}", out.policy, out.proof.to_text());
    assert!(
        out.policy.contains("arn:aws:secretsmanager:"),
        "{}",
        out.policy
    );
    for a in out.proof.denied_in_log.iter().map(|(a, _)| a) {
        let granted = out.statements.iter().any(|s| s.actions.contains(a));
        let elsewhere = g.calls.by_request.keys().any(|(x, _)| x == a);
        assert!(
            !granted || elsewhere,
            "{a} was only ever refused, yet granted"
        );
    }
}
