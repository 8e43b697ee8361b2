//! Test helpers: the compliant sample organization and a way to run one control on it.

use crate::{AuditSettings, Finding, OrgView, Status, evaluate_control};
use rampart_snapshot::{CollectionError, Snapshot};

pub use crate::sample::{AUDIT, LOG_ARCHIVE, MANAGEMENT};

/// The first workload account (index 3 in `accounts`).
pub const WORKLOAD: &str = "400000000000";
/// The second workload account (index 4).
pub const WORKLOAD2: &str = "400000000001";

/// A compliant organization with two workload accounts in us-east-1 and eu-west-1.
pub fn org() -> Snapshot {
    crate::sample::compliant_org(2, &["us-east-1", "eu-west-1"])
}

pub fn settings() -> AuditSettings {
    AuditSettings {
        allowed_regions: vec!["us-east-1".into(), "eu-west-1".into()],
        ..AuditSettings::default()
    }
}

pub fn findings(s: &Snapshot, control: &str, account: &str) -> Vec<Finding> {
    findings_with(s, control, account, &settings())
}

/// [`findings`] with other settings (thresholds, break-glass users).
pub fn findings_with(
    s: &Snapshot,
    control: &str,
    account: &str,
    settings: &AuditSettings,
) -> Vec<Finding> {
    let c = crate::catalogue()
        .into_iter()
        .find(|c| c.id == control)
        .unwrap_or_else(|| panic!("no control {control}"));
    let org = OrgView::new(s, settings);
    let mut out = Vec::new();
    evaluate_control(c, s, &org, &mut out);
    out.retain(|f| f.account_id == account);
    out
}

pub fn statuses(s: &Snapshot, control: &str, account: &str) -> Vec<Status> {
    findings(s, control, account)
        .iter()
        .map(|f| f.status)
        .collect()
}

pub fn acct<'a>(s: &'a mut Snapshot, id: &str) -> &'a mut rampart_snapshot::AccountSnapshot {
    s.accounts
        .iter_mut()
        .find(|a| a.account_id == id)
        .expect("account in fixture")
}

/// Records an AccessDenied for `api` in `account` (and `region`, or account-wide).
pub fn deny_api(s: &mut Snapshot, account: &str, region: Option<&str>, api: &str) {
    let e = CollectionError {
        account_id: account.into(),
        region: region.map(str::to_string),
        api: api.into(),
        code: "AccessDenied".into(),
        message: "User is not authorized".into(),
        resource: None,
    };
    let a = acct(s, account);
    match region {
        Some(r) => a
            .regions
            .iter_mut()
            .find(|x| x.region == r)
            .expect("region")
            .errors
            .push(e),
        None => a.errors.push(e),
    }
}

/// Attaches RCP `name` (document `content`) to `target`, with `RCPFullAWSAccess` on the root,
/// every OU and every account as AWS attaches it when RCPs are enabled.
pub fn attach_rcp(s: &mut Snapshot, name: &str, content: &str, target: &str) {
    let o = s.organization.as_mut().expect("organization in fixture");
    if !o.policies.iter().any(|p| p.name == "RCPFullAWSAccess") {
        let everywhere = o
            .roots
            .iter()
            .map(|r| r.id.clone())
            .chain(o.organizational_units.iter().map(|u| u.id.clone()))
            .chain(o.accounts.iter().map(|a| a.id.clone()))
            .collect();
        o.policies.push(rampart_snapshot::OrgPolicy {
            id: "p-RCPFullAWSAccess".into(),
            name: "RCPFullAWSAccess".into(),
            policy_type: "RESOURCE_CONTROL_POLICY".into(),
            aws_managed: true,
            content: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#.into(),
            targets: everywhere,
            ..Default::default()
        });
    }
    o.policies.push(rampart_snapshot::OrgPolicy {
        id: format!("p-{name}"),
        name: name.into(),
        policy_type: "RESOURCE_CONTROL_POLICY".into(),
        content: content.into(),
        targets: vec![target.into()],
        ..Default::default()
    });
}
