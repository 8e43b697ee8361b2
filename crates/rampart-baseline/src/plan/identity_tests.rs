//! The identity planner over fixtures: the default `[identity]` converges through the
//! in-process model; each out-of-band change plans exactly its repair; assignments by OU follow
//! an account that moves; inline policies are linted and checked against the guardrails.

use super::*;
use crate::apply::fake::SnapshotEffects;
use crate::apply::{ApplyOptions, AuditLog, execute};
use crate::config::init_template;
use crate::plan::tests::{MGMT, converged};
use crate::plan::{Change, plan};
use rampart_snapshot::SsoInstance;

/// The default rampart.toml with a workload account (Workloads/Test) and a sandbox account.
fn config_text() -> String {
    let mut t = init_template("ops@example.com", &["eu-west-1".into()]);
    let extra = "[[accounts]]\nname = \"Dev\"\nemail = \"ops+dev@example.com\"\nou = \"Workloads/Test\"\n\n[[accounts]]\nname = \"Play\"\nemail = \"ops+play@example.com\"\nou = \"Sandbox\"\n\n[guardrails]";
    t = t.replacen("[guardrails]", extra, 1);
    t
}

fn cfg_of(text: &str) -> Config {
    Config::parse(text, "rampart.toml").unwrap()
}

/// The converged baseline with an empty, enabled Identity Center, and FullAWSAccess attached
/// everywhere as AWS does.
fn org_with_identity_center(cfg: &Config) -> Snapshot {
    let mut s = converged(cfg);
    let org = s.organization.as_mut().unwrap();
    let everywhere = std::iter::once("r-root".to_string())
        .chain(org.organizational_units.iter().map(|o| o.id.clone()))
        .chain(org.accounts.iter().map(|a| a.id.clone()))
        .collect();
    org.policies.push(rampart_snapshot::OrgPolicy {
        id: "p-FullAWSAccess".into(),
        name: "FullAWSAccess".into(),
        policy_type: "SERVICE_CONTROL_POLICY".into(),
        aws_managed: true,
        content: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#.into(),
        targets: everywhere,
        ..Default::default()
    });
    s.identity_center = Some(IdentityCenter {
        region: "eu-west-1".into(),
        instance: Some(SsoInstance {
            instance_arn: "arn:aws:sso:::instance/ssoins-test".into(),
            identity_store_id: "d-test".into(),
            owner_account_id: MGMT.into(),
            status: "ACTIVE".into(),
        }),
        ..Default::default()
    });
    s
}

fn ids(p: &super::super::Plan) -> Vec<String> {
    let mut v: Vec<String> = p.changes.iter().map(|c| c.id.clone()).collect();
    v.sort();
    v
}

fn account(snap: &Snapshot, name: &str) -> String {
    snap.organization
        .as_ref()
        .unwrap()
        .accounts
        .iter()
        .find(|a| a.name == name)
        .unwrap()
        .id
        .clone()
}

/// Plans and applies through the model until nothing is left; the final snapshot.
fn converge(cfg: &Config, snap: Snapshot) -> Snapshot {
    let fx = SnapshotEffects::new(snap, cfg);
    for _ in 0..3 {
        let p = plan(cfg, &fx.snapshot()).unwrap();
        if p.changes.is_empty() {
            return fx.snapshot();
        }
        let r = execute(&p, &fx, &AuditLog::counting(), &ApplyOptions::default());
        assert!(r.is_complete(), "{}", r.to_text());
    }
    panic!(
        "no convergence: {}",
        plan(cfg, &fx.snapshot()).unwrap().to_text()
    );
}

#[test]
fn the_default_identity_converges_and_assigns_by_ou() {
    let cfg = cfg_of(&config_text());
    let snap = org_with_identity_center(&cfg);
    let first = plan(&cfg, &snap).unwrap();
    let dev = account(&snap, "Dev");
    let play = account(&snap, "Play");
    let planned = ids(&first);
    for id in [
        "permission-set:SecurityAudit".to_string(),
        "ps-policy:SecurityAudit:arn:aws:iam::aws:policy/job-function/ViewOnlyAccess".into(),
        "group:developers".into(),
        format!("assignment:{dev}:DeveloperReadOnly:developers"),
        format!("assignment:{play}:PlatformAdmin:platform"),
    ] {
        assert!(planned.contains(&id), "{id} not in {planned:#?}");
    }
    // The security team is on every account (management included); admin only in Sandbox.
    let n_accounts = snap.organization.as_ref().unwrap().accounts.len();
    let count = |ps: &str| {
        planned
            .iter()
            .filter(|i| i.starts_with("assignment:") && i.contains(ps))
            .count()
    };
    assert_eq!(count(":SecurityAudit:"), n_accounts);
    assert_eq!(count(":PlatformAdmin:"), 1);
    assert_eq!(count(":DeveloperReadOnly:"), 1);
    assert!(first.changes.iter().all(|c| !c.destructive));
    // An assignment waits for its permission set, policies and group.
    let a = first
        .changes
        .iter()
        .find(|c| c.id == format!("assignment:{dev}:DeveloperReadOnly:developers"))
        .unwrap();
    assert!(
        a.depends_on
            .contains(&"permission-set:DeveloperReadOnly".to_string())
    );
    assert!(a.depends_on.contains(&"group:developers".to_string()));

    let done = converge(&cfg, snap);
    assert!(plan(&cfg, &done).unwrap().changes.is_empty());
    let ic = done.identity_center.as_ref().unwrap();
    assert!(
        ic.permission_sets
            .iter()
            .all(|p| p.tags[MANAGED_TAG] == "true")
    );
    assert!(
        ic.groups
            .iter()
            .all(|g| g.description.as_deref().unwrap().ends_with(GROUP_MARK))
    );

    // The Dev account moves to Sandbox: developers lose it, the platform team gains it.
    let mut moved = done.clone();
    let sandbox = moved
        .organization
        .as_ref()
        .unwrap()
        .organizational_units
        .iter()
        .find(|o| o.name == "Sandbox")
        .unwrap()
        .id
        .clone();
    for a in moved.organization.as_mut().unwrap().accounts.iter_mut() {
        if a.id == dev {
            a.parent_id = sandbox.clone();
        }
    }
    let p = plan(&cfg, &moved).unwrap();
    // The config still says Dev is in Workloads/Test: the account move back is planned too;
    // identity follows where the account is now.
    let identity: Vec<&Change> = p
        .changes
        .iter()
        .filter(|c| c.id.starts_with("assignment"))
        .collect();
    assert_eq!(identity.len(), 2, "{}", p.to_text());
    assert!(
        identity
            .iter()
            .any(|c| c.id == format!("assignment:{dev}:PlatformAdmin:platform"))
    );
    let removal = identity
        .iter()
        .find(|c| c.id.starts_with("assignment-delete:"))
        .unwrap();
    assert!(removal.destructive, "{removal:?}");
    assert!(matches!(
        &removal.action,
        Action::DeleteAccountAssignment { permission_set, account_id, .. }
            if permission_set == "DeveloperReadOnly" && *account_id == dev
    ));
}

#[test]
fn out_of_band_changes_plan_exactly_their_repairs() {
    let cfg = cfg_of(&config_text());
    let done = converge(&cfg, org_with_identity_center(&cfg));
    let dev = account(&done, "Dev");
    let mut drifted = done.clone();
    let ic = drifted.identity_center.as_mut().unwrap();
    let ro = ic
        .permission_sets
        .iter()
        .find(|p| p.name == "DeveloperReadOnly")
        .unwrap()
        .arn
        .clone();
    ic.assignments
        .retain(|a| !(a.account_id == dev && a.permission_set_arn == ro));
    let audit = ic
        .permission_sets
        .iter_mut()
        .find(|p| p.name == "SecurityAudit")
        .unwrap();
    audit
        .managed_policies
        .push("arn:aws:iam::aws:policy/AdministratorAccess".into());
    audit.session_duration = Some("PT12H".into());
    // A permission set and a group made by hand are not rampart's: left alone.
    ic.permission_sets.push(PermissionSet {
        arn: "arn:aws:sso:::permissionSet/ssoins-test/ps-hand".into(),
        name: "HandMade".into(),
        ..Default::default()
    });
    ic.groups.push(rampart_snapshot::IdentityGroup {
        group_id: "g-hand".into(),
        display_name: "contractors".into(),
        description: None,
    });
    let p = plan(&cfg, &drifted).unwrap();
    assert_eq!(
        ids(&p),
        vec![
            format!("assignment:{dev}:DeveloperReadOnly:developers"),
            "permission-set:SecurityAudit".to_string(),
            "ps-policy:SecurityAudit:arn:aws:iam::aws:policy/AdministratorAccess".into(),
            "ps-provision:SecurityAudit".into(),
        ]
    );
    let detach = p
        .changes
        .iter()
        .find(|c| c.id.starts_with("ps-policy:"))
        .unwrap();
    assert!(detach.destructive);
    let provision = p
        .changes
        .iter()
        .find(|c| c.id == "ps-provision:SecurityAudit")
        .unwrap();
    assert_eq!(provision.depends_on.len(), 2, "{provision:?}");
    assert!(
        converge(&cfg, drifted)
            .identity_center
            .unwrap()
            .permission_sets
            .iter()
            .any(|p| p.name == "HandMade")
    );
}

#[test]
fn retired_sets_and_groups_are_deleted_only_when_rampart_made_them() {
    let cfg = cfg_of(&config_text());
    let done = converge(&cfg, org_with_identity_center(&cfg));
    // PlatformAdmin and the platform group leave rampart.toml.
    let text = config_text()
        .replace(
            "[[identity.assignments]]\ngroup = \"platform\"\npermission_set = \"PlatformAdmin\"\nous = [\"Sandbox\"]\n",
            "",
        )
        .replace("[[identity.groups]]\nname = \"platform\"\ndescription = \"Platform team\"\n", "")
        .replace(
            "[[identity.permission_sets]]\nname = \"PlatformAdmin\"\ndescription = \"Administrator, for the platform team, in Sandbox accounts only\"\nsession_duration = \"PT1H\"\nmanaged_policies = [\"arn:aws:iam::aws:policy/AdministratorAccess\"]\n",
            "",
        );
    let smaller = cfg_of(&text);
    assert!(
        smaller
            .identity
            .as_ref()
            .unwrap()
            .permission_set("PlatformAdmin")
            .is_none()
    );
    let p = plan(&smaller, &done).unwrap();
    let play = account(&done, "Play");
    let deletes: Vec<&Change> = p.changes.iter().filter(|c| c.destructive).collect();
    assert_eq!(deletes.len(), 3, "{}", p.to_text());
    let set = deletes
        .iter()
        .find(|c| c.id == "permission-set-delete:PlatformAdmin")
        .unwrap();
    // Its assignments go first.
    assert!(
        set.depends_on
            .iter()
            .any(|d| d.starts_with(&format!("assignment-delete:{play}:PlatformAdmin")))
    );
    assert!(deletes.iter().any(|c| c.id == "group-delete:platform"));
    let after = converge(&smaller, done.clone());
    let ic = after.identity_center.unwrap();
    assert!(!ic.permission_sets.iter().any(|p| p.name == "PlatformAdmin"));
    assert!(!ic.groups.iter().any(|g| g.display_name == "platform"));
    // Without the tag (made by hand with the same name), nothing is deleted.
    let mut untagged = done;
    for p in untagged
        .identity_center
        .as_mut()
        .unwrap()
        .permission_sets
        .iter_mut()
    {
        p.tags.clear();
    }
    for g in untagged.identity_center.as_mut().unwrap().groups.iter_mut() {
        g.description = None;
    }
    assert!(plan(&smaller, &untagged).unwrap().changes.is_empty());
}

#[test]
fn unobserved_identity_center_plans_nothing() {
    let cfg = cfg_of(&config_text());
    let mut snap = converged(&cfg);
    let p = plan(&cfg, &snap).unwrap();
    assert!(p.changes.is_empty());
    assert!(
        p.unobserved
            .iter()
            .any(|u| u.contains("not in the snapshot")),
        "{:?}",
        p.unobserved
    );
    snap.identity_center = Some(IdentityCenter::default());
    let p = plan(&cfg, &snap).unwrap();
    assert!(p.changes.is_empty());
    assert!(
        p.unobserved.iter().any(|u| u.contains("not enabled")),
        "{:?}",
        p.unobserved
    );
    // A boundary that could not be read is not re-applied blind.
    let text = config_text().replace(
        "managed_policies = [\"arn:aws:iam::aws:policy/ReadOnlyAccess\"]",
        "managed_policies = [\"arn:aws:iam::aws:policy/ReadOnlyAccess\"]\npermissions_boundary = \"/limits/DeveloperBoundary\"",
    );
    let cfg = cfg_of(&text);
    let mut done = converge(&cfg, org_with_identity_center(&cfg));
    let ic = done.identity_center.as_mut().unwrap();
    let ps = ic
        .permission_sets
        .iter_mut()
        .find(|p| p.name == "DeveloperReadOnly")
        .unwrap();
    assert_eq!(
        ps.permissions_boundary
            .as_ref()
            .unwrap()
            .customer_managed
            .as_ref()
            .unwrap()
            .path,
        "/limits/"
    );
    ps.permissions_boundary = None;
    let arn = ps.arn.clone();
    ic.errors.push(rampart_snapshot::CollectionError {
        api: "sso:GetPermissionsBoundaryForPermissionSet".into(),
        code: "InternalFailure".into(),
        resource: Some(arn),
        ..Default::default()
    });
    let p = plan(&cfg, &done).unwrap();
    assert!(p.changes.is_empty(), "{}", p.to_text());
    assert!(
        p.unobserved
            .iter()
            .any(|u| u.contains("permissions boundary of permission set DeveloperReadOnly"))
    );
}

#[test]
fn inline_policies_are_linted_and_checked_against_the_guardrails() {
    let inline = r#"inline_policy = '''
{"Version": "2012-10-17", "Statement": [
  {"Sid": "StopTrails", "Effect": "Allow", "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"], "Resource": "*"},
  {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
]}
'''"#;
    let text = config_text().replace(
        "managed_policies = [\"arn:aws:iam::aws:policy/ReadOnlyAccess\"]",
        &format!("managed_policies = [\"arn:aws:iam::aws:policy/ReadOnlyAccess\"]\n{inline}"),
    );
    let cfg = cfg_of(&text);
    let snap = org_with_identity_center(&cfg);
    let p = plan(&cfg, &snap).unwrap();
    let dev = account(&snap, "Dev");
    assert_eq!(p.dead_grants.len(), 1, "{:#?}", p.dead_grants);
    let d = &p.dead_grants[0];
    assert_eq!(
        (d.permission_set.as_str(), d.statement, d.sid.as_deref()),
        ("DeveloperReadOnly", 0, Some("StopTrails"))
    );
    assert_eq!(d.accounts, vec![dev.clone()]);
    assert!(d.everywhere);
    assert!(
        p.to_text().contains(
            "dead grant: permission set DeveloperReadOnly inline statement 1 `StopTrails`"
        ),
        "{}",
        p.to_text()
    );
    assert!(
        p.changes
            .iter()
            .any(|c| c.id == "ps-inline:DeveloperReadOnly:policy")
    );
    // Without the guardrail on Workloads the grant is alive.
    let mut open = snap.clone();
    for pol in open.organization.as_mut().unwrap().policies.iter_mut() {
        if !pol.aws_managed {
            pol.targets.clear();
        }
    }
    assert!(plan(&cfg, &open).unwrap().dead_grants.is_empty());

    // A lint error (unknown action) stops the plan, naming the set and the position.
    let bad = text.replace("s3:GetObject", "s3:GetObjekt");
    let e = plan(&cfg_of(&bad), &snap).unwrap_err().to_string();
    assert!(
        e.contains("permission set DeveloperReadOnly inline_policy") && e.contains("RP003"),
        "{e}"
    );
    // Wildcards are expanded over the IAM catalogue: `cloudtrail:StopLog*` is only StopLogging
    // (denied), `cloudtrail:Stop*` also StopQuery, StopImport… (allowed): alive.
    let wild = text.replace(
        "\"cloudtrail:StopLogging\", \"cloudtrail:DeleteTrail\"",
        "\"cloudtrail:StopLog*\"",
    );
    let p = plan(&cfg_of(&wild), &snap).unwrap();
    assert_eq!(p.dead_grants.len(), 1, "{:#?}", p.dead_grants);
    let wider = text.replace(
        "\"cloudtrail:StopLogging\", \"cloudtrail:DeleteTrail\"",
        "\"cloudtrail:Stop*\"",
    );
    assert!(plan(&cfg_of(&wider), &snap).unwrap().dead_grants.is_empty());
    let alive = text.replace(
        "\"cloudtrail:StopLogging\", \"cloudtrail:DeleteTrail\"",
        "\"cloudtrail:*\"",
    );
    assert!(plan(&cfg_of(&alive), &snap).unwrap().dead_grants.is_empty());
}

#[test]
fn config_errors_name_the_value() {
    let bad = config_text().replace("ous = [\"Workloads\"]", "ous = [\"Nowhere\"]");
    let e = Config::parse(&bad, "rampart.toml").unwrap_err();
    assert!(e.message.contains("OU `Nowhere`"), "{e}");
    let bad = config_text().replace(
        "session_duration = \"PT8H\"",
        "session_duration = \"PT13H\"",
    );
    let e = Config::parse(&bad, "rampart.toml").unwrap_err();
    assert!(e.message.contains("PT13H"), "{e}");
    let bad = config_text().replace("group = \"developers\"", "group = \"devs\"");
    let e = Config::parse(&bad, "rampart.toml").unwrap_err();
    assert!(e.message.contains("group `devs`"), "{e}");
    let bad = config_text().replace(
        "\"arn:aws:iam::aws:policy/ReadOnlyAccess\"",
        "\"ReadOnlyAccess\"",
    );
    let e = Config::parse(&bad, "rampart.toml").unwrap_err();
    assert!(e.message.contains("AWS managed policy ARNs"), "{e}");
    assert!(e.line > 1);
}
