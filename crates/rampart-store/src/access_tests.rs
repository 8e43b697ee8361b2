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
