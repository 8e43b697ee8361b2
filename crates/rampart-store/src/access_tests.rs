//! Tests of `rampart serve`'s tables, on SQLite and PostgreSQL.

use crate::testing::on_both;
use crate::tests::{account, audit, day, finding};
use crate::*;
use rampart_core::{Severity, Status};

fn user(name: &str, role: &str) -> UserRecord {
    UserRecord {
        name: name.into(),
        role: role.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: day(0),
    }
}

#[test]
fn users_roles_and_removal() {
    on_both(|db| {
        let mut s = db.open();
        assert!(s.add_user(&user("ana", "admin")).unwrap());
        assert!(
            !s.add_user(&user("ana", "viewer")).unwrap(),
            "names are unique"
        );
        assert!(s.add_user(&user("bo", "viewer")).unwrap());
        assert_eq!(s.user("ana").unwrap().unwrap().role, "admin");
        assert!(s.set_user_role("bo", "operator").unwrap());
        assert!(!s.set_user_role("nobody", "admin").unwrap());
        let names: Vec<_> = s
            .users()
            .unwrap()
            .into_iter()
            .map(|u| (u.name, u.role))
            .collect();
        assert_eq!(
            names,
            vec![
                ("ana".into(), "admin".into()),
                ("bo".into(), "operator".into())
            ]
        );
        s.create_session(&SessionRecord {
            id_hash: "h-bo".into(),
            user: "bo".into(),
            csrf: "c".into(),
            created_at: day(1),
            expires_at: day(2),
        })
        .unwrap();
        assert!(s.remove_user("bo").unwrap());
        assert!(s.user("bo").unwrap().is_none());
        assert!(
            s.session("h-bo", day(1)).unwrap().is_none(),
            "sessions end with the user"
        );
    });
}

#[test]
fn sessions_expire_and_end() {
    on_both(|db| {
        let mut s = db.open();
        s.add_user(&user("ana", "admin")).unwrap();
        let sess = SessionRecord {
            id_hash: "h1".into(),
            user: "ana".into(),
            csrf: "tok".into(),
            created_at: day(1),
            expires_at: day(2),
        };
        s.create_session(&sess).unwrap();
        assert_eq!(s.session("h1", day(1)).unwrap(), Some(sess.clone()));
        assert!(
            s.session("h1", day(2)).unwrap().is_none(),
            "expired at its expiry"
        );
        assert!(s.delete_session("h1").unwrap());
        assert!(s.session("h1", day(1)).unwrap().is_none());
        // A new password ends the open sessions.
        s.create_session(&sess).unwrap();
        assert!(s.set_user_password("ana", "$argon2id$other").unwrap());
        assert!(s.session("h1", day(1)).unwrap().is_none());
    });
}

#[test]
fn api_tokens_expire_and_revoke() {
    on_both(|db| {
        let mut s = db.open();
        let t = ApiTokenRecord {
            name: "ci".into(),
            token_hash: "th".into(),
            role: "viewer".into(),
            created_by: "ana".into(),
            created_at: day(0),
            expires_at: day(30),
            revoked_at: None,
        };
        assert!(s.create_api_token(&t).unwrap());
        assert!(!s.create_api_token(&t).unwrap(), "names are unique");
        assert_eq!(s.live_api_token("th", day(1)).unwrap(), Some(t.clone()));
        assert!(
            s.live_api_token("th", day(30)).unwrap().is_none(),
            "expired"
        );
        assert!(s.live_api_token("other", day(1)).unwrap().is_none());
        assert!(s.revoke_api_token("ci", day(2)).unwrap());
        assert!(!s.revoke_api_token("ci", day(3)).unwrap(), "revoked once");
        assert!(s.live_api_token("th", day(1)).unwrap().is_none(), "revoked");
        assert_eq!(s.api_tokens().unwrap()[0].revoked_at, Some(day(2)));
    });
}

#[test]
fn login_links_work_once() {
    on_both(|db| {
        let mut s = db.open();
        s.create_login_link("lh", "ana", day(1)).unwrap();
        assert!(s.use_login_link("lh", day(2)).unwrap().is_none(), "expired");
        s.create_login_link("lh2", "ana", day(3)).unwrap();
        assert_eq!(
            s.use_login_link("lh2", day(2)).unwrap().as_deref(),
            Some("ana")
        );
        assert!(
            s.use_login_link("lh2", day(2)).unwrap().is_none(),
            "single use"
        );
    });
}

#[test]
fn audit_log_and_alert_state() {
    on_both(|db| {
        let mut s = db.open();
        for (i, action) in ["user.add", "finding.accept"].iter().enumerate() {
            s.append_audit(&AuditLogEntry {
                at: day(i as i64),
                actor: "ana".into(),
                via: "ui".into(),
                action: action.to_string(),
                target: "t".into(),
                detail: "d".into(),
            })
            .unwrap();
        }
        let log = s.audit_log(10).unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].action, "finding.accept", "newest first");
        assert_eq!(s.audit_log(1).unwrap().len(), 1);
        let mut st = AlertStateRecord {
            alert_id: "ra-1".into(),
            state: "acknowledged".into(),
            assignee: Some("bo".into()),
            comment: "looking".into(),
            updated_by: "ana".into(),
            updated_at: day(1),
            acknowledged_by: String::new(),
            acknowledged_at: day(0),
            ack_comment: None,
        };
        s.set_alert_state(&st).unwrap();
        st.state = "resolved".into();
        st.assignee = None;
        st.updated_at = day(2);
        s.set_alert_state(&st).unwrap();
        // the first change is the acknowledgement (filled in by the store)
        st.acknowledged_by = "ana".into();
        st.acknowledged_at = day(1);
        st.ack_comment = Some("looking".into());
        assert_eq!(s.alert_states().unwrap(), vec![st]);
    });
}

#[test]
fn findings_page_filters_and_keyset() {
    on_both(|db| {
        let mut s = db.open();
        let mut fs = Vec::new();
        for i in 0..7 {
            let status = if i % 2 == 0 {
                Status::Fail
            } else {
                Status::Pass
            };
            let acct = if i < 4 { "111" } else { "222" };
            fs.push(finding("c1", acct, "r1", &format!("res{i}"), status, "m"));
        }
        let mut low = finding("c2", "111", "r2", "lowres", Status::Fail, "odd message");
        low.severity = Severity::Low;
        fs.push(low);
        s.record_audit(
            &audit(
                day(0),
                vec![
                    account("111", &["r1", "r2"], false),
                    account("222", &["r1"], false),
                ],
                &["c1", "c2"],
            ),
            &fs,
        )
        .unwrap();
        let all = |f: &FindingFilter| s.findings_page(f, 100).unwrap();
        assert_eq!(all(&FindingFilter::default()).len(), 8);
        let open = FindingFilter {
            status: Some("open".into()),
            ..Default::default()
        };
        assert_eq!(all(&open).len(), 5);
        let fail_222 = FindingFilter {
            status: Some("FAIL".into()),
            accounts: Some(vec!["222".into()]),
            ..Default::default()
        };
        assert_eq!(all(&fail_222).len(), 2);
        let low = FindingFilter {
            severity: Some(Severity::Low),
            ..Default::default()
        };
        assert_eq!(all(&low).len(), 1);
        let search = FindingFilter {
            search: Some("odd".into()),
            region: Some("r2".into()),
            ..Default::default()
        };
        assert_eq!(all(&search)[0].resource, "lowres");
        let none = FindingFilter {
            controls: Some(vec![]),
            ..Default::default()
        };
        assert!(all(&none).is_empty());
        // Keyset pages of 3 cover every finding exactly once, in id order.
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = s
                .findings_page(
                    &FindingFilter {
                        after: after.clone(),
                        ..Default::default()
                    },
                    3,
                )
                .unwrap();
            if page.is_empty() {
                break;
            }
            after = page.last().map(|f| f.id.clone());
            seen.extend(page.into_iter().map(|f| f.id));
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(seen, sorted);
        assert_eq!(seen.len(), 8);
        let by_sev = s.open_by_severity(None).unwrap();
        assert_eq!(by_sev, vec![(Severity::High, 4), (Severity::Low, 1)]);
        assert_eq!(s.last_runs().unwrap(), vec![(RunKind::Audit, 1)]);
    });
}

/// Every finding `f` selects, read in keyset pages of `page` ids.
fn all_pages(s: &mut Store, f: &FindingFilter, page: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let filter = FindingFilter {
            after: after.clone(),
            ..f.clone()
        };
        let rows = s.findings_page(&filter, page).unwrap();
        if rows.is_empty() {
            return seen;
        }
        after = rows.last().map(|r| r.id.clone());
        seen.extend(rows.into_iter().map(|r| r.id));
    }
}

/// The filters that migration 11's indexes and the long account list's query shape serve give
/// the same findings, in id order, as filtering every finding in memory.
#[test]
fn findings_page_indexed_filters_match_a_full_scan() {
    on_both(|db| {
        let mut s = db.open();
        let accounts: Vec<String> = (0..40).map(|i| format!("{:012}", 100 + i)).collect();
        let controls = ["c1", "c2", "c3"];
        let regions = ["r1", "r2"];
        let mut week1 = Vec::new();
        let mut week2 = Vec::new();
        for (a, acct) in accounts.iter().enumerate() {
            for (c, control) in controls.iter().enumerate() {
                for (r, region) in regions.iter().enumerate() {
                    let k = a + c * 7 + r * 3;
                    let status = |w: usize| {
                        if (k + w).is_multiple_of(3) {
                            Status::Fail
                        } else {
                            Status::Pass
                        }
                    };
                    let mut one =
                        finding(control, acct, region, &format!("res{k}"), status(0), "m");
                    one.severity = if k.is_multiple_of(2) {
                        Severity::High
                    } else {
                        Severity::Medium
                    };
                    let mut two = one.clone();
                    two.status = status(k % 2);
                    week1.push(one);
                    week2.push(two);
                }
            }
        }
        let observed: Vec<_> = accounts
            .iter()
            .map(|a| account(a, &["r1", "r2"], false))
            .collect();
        s.record_audit(&audit(day(0), observed.clone(), &controls), &week1)
            .unwrap();
        s.record_audit(&audit(day(7), observed, &controls), &week2)
            .unwrap();
        let every = s.findings().unwrap();
        let expect = |keep: &dyn Fn(&FindingLife) -> bool| -> Vec<String> {
            let mut ids: Vec<String> = every
                .iter()
                .filter(|f| keep(f))
                .map(|f| f.id.clone())
                .collect();
            ids.sort();
            ids
        };
        // More accounts than SQLite may drive by the account index.
        let some: Vec<String> = accounts.iter().step_by(2).take(20).cloned().collect();
        let ou_open = FindingFilter {
            accounts: Some(some.clone()),
            status: Some("open".into()),
            ..Default::default()
        };
        let want = expect(&|f| some.contains(&f.account_id) && f.open && f.suppressed.is_none());
        assert!(!want.is_empty());
        assert_eq!(all_pages(&mut s, &ou_open, 4), want);
        let ou_all = FindingFilter {
            accounts: Some(some.clone()),
            ..Default::default()
        };
        assert_eq!(
            all_pages(&mut s, &ou_all, 7),
            expect(&|f| some.contains(&f.account_id))
        );
        let open_high = FindingFilter {
            severity: Some(Severity::High),
            status: Some("open".into()),
            ..Default::default()
        };
        let want = expect(&|f| f.severity == Severity::High && f.open && f.suppressed.is_none());
        assert!(!want.is_empty());
        assert_eq!(all_pages(&mut s, &open_high, 5), want);
        let control_fail = FindingFilter {
            controls: Some(vec!["c2".into()]),
            status: Some("FAIL".into()),
            ..Default::default()
        };
        let want = expect(&|f| f.control == "c2" && f.status == LifeStatus::Fail);
        assert!(!want.is_empty());
        assert_eq!(all_pages(&mut s, &control_fail, 3), want);
        // More controls than SQLite may drive by the control index (a framework).
        let many: Vec<String> = ["c1", "c3"]
            .into_iter()
            .map(String::from)
            .chain((0..16).map(|i| format!("absent-{i}")))
            .collect();
        let framework = FindingFilter {
            controls: Some(many.clone()),
            ..Default::default()
        };
        let want = expect(&|f| many.contains(&f.control));
        assert!(!want.is_empty() && want.len() < every.len());
        assert_eq!(all_pages(&mut s, &framework, 5), want);
        // Region and age: opened in the first audit and still open.
        let aged = FindingFilter {
            region: Some("r2".into()),
            opened_before: Some(day(3)),
            ..Default::default()
        };
        let want =
            expect(&|f| f.region == "r2" && f.open && f.opened_at.is_some_and(|at| at <= day(3)));
        assert!(!want.is_empty());
        assert!(want.len() < expect(&|f| f.region == "r2" && f.open).len());
        assert_eq!(all_pages(&mut s, &aged, 6), want);
    });
}

/// A risk accepted since the last audit is SUPPRESSED on the page at once, so the `suppressed`
/// and `open` filters count it so too (while the acceptance is in force), not only after the
/// next audit records it.
#[test]
fn accepted_risks_filter_as_suppressed_before_the_next_audit() {
    on_both(|db| {
        let mut s = db.open();
        let fs: Vec<_> = ["a", "b", "c"]
            .iter()
            .map(|r| finding("c1", "111", "r1", r, Status::Fail, "m"))
            .collect();
        s.record_audit(
            &audit(day(0), vec![account("111", &["r1"], false)], &["c1"]),
            &fs,
        )
        .unwrap();
        let ids: Vec<String> = s
            .findings_page(&FindingFilter::default(), 10)
            .unwrap()
            .into_iter()
            .map(|f| f.id)
            .collect();
        let today = day(1).date_naive();
        for (id, expires) in [(&ids[0], None), (&ids[1], Some(day(0).date_naive()))] {
            s.accept(&Acceptance {
                finding_id: id.clone(),
                reason: "compensating control".into(),
                who: "ana".into(),
                expires,
                created_at: day(1),
            })
            .unwrap();
        }
        let with = |status: &str, accepted_on| {
            s.findings_page(
                &FindingFilter {
                    status: Some(status.into()),
                    accepted_on,
                    ..Default::default()
                },
                10,
            )
            .unwrap()
            .into_iter()
            .map(|f| f.id)
            .collect::<Vec<_>>()
        };
        // the second acceptance expired yesterday: that finding is open again
        assert_eq!(with("suppressed", Some(today)), vec![ids[0].clone()]);
        assert_eq!(
            with("open", Some(today)),
            vec![ids[1].clone(), ids[2].clone()]
        );
        // without a day, only what the last audit recorded
        assert!(with("suppressed", None).is_empty());
        assert_eq!(with("open", None).len(), 3);
        // the observed status is not a triage state: FAIL still lists all three
        assert_eq!(with("FAIL", Some(today)).len(), 3);
        // the overview's counts agree with the open filter
        assert_eq!(
            s.open_by_severity(Some(today)).unwrap(),
            vec![(Severity::High, 2)]
        );
        assert_eq!(s.open_by_severity(None).unwrap(), vec![(Severity::High, 3)]);
    });
}
