//! Snapshot fixtures for the escalation tests: one account (optionally in an organization with
//! SCPs), built up user by user and role by role.
#![allow(dead_code)]

use rampart_snapshot::*;

pub const ACCT: &str = "111111111111";
pub const ADMIN_POLICY: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
pub const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

pub fn arn(kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCT}:{kind}/{name}")
}

/// A policy document with one statement.
pub fn doc(effect: &str, actions: &[&str], condition: Option<&str>) -> String {
    let acts = serde_json::to_string(actions).unwrap();
    let cond = condition
        .map(|c| format!(r#","Condition":{c}"#))
        .unwrap_or_default();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Grant","Effect":"{effect}","Action":{acts},"Resource":"*"{cond}}}]}}"#
    )
}

pub fn trust(principal: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"}}]}}"#
    )
}

pub struct Fx {
    pub snap: Snapshot,
}

impl Default for Fx {
    fn default() -> Self {
        Self::new()
    }
}

impl Fx {
    pub fn new() -> Fx {
        let mut snap = Snapshot {
            schema_version: SCHEMA_VERSION,
            partition: "aws".into(),
            ..Snapshot::default()
        };
        snap.accounts.push(AccountSnapshot {
            account_id: ACCT.into(),
            ..AccountSnapshot::default()
        });
        let mut fx = Fx { snap };
        fx.iam().authorization_details = true;
        fx.iam().policies.push(ManagedPolicy {
            arn: ADMIN_POLICY.into(),
            name: "AdministratorAccess".into(),
            aws_managed: true,
            document: ALLOW_ALL.into(),
            ..ManagedPolicy::default()
        });
        fx
    }

    pub fn iam(&mut self) -> &mut Iam {
        &mut self.snap.accounts[0].iam
    }

    /// A customer managed policy; returns its ARN.
    pub fn policy(&mut self, name: &str, document: &str) -> String {
        let arn = arn("policy", name);
        self.iam().policies.push(ManagedPolicy {
            arn: arn.clone(),
            name: name.into(),
            document: document.into(),
            ..ManagedPolicy::default()
        });
        arn
    }

    pub fn user(&mut self, name: &str) -> &mut IamUser {
        let iam = self.iam();
        if let Some(i) = iam.users.iter().position(|u| u.name == name) {
            return &mut iam.users[i];
        }
        iam.users.push(IamUser {
            name: name.into(),
            arn: arn("user", name),
            ..IamUser::default()
        });
        iam.users.last_mut().unwrap()
    }

    pub fn role(&mut self, name: &str, trust_policy: &str) -> &mut IamRole {
        let iam = self.iam();
        if let Some(i) = iam.roles.iter().position(|r| r.name == name) {
            return &mut iam.roles[i];
        }
        iam.roles.push(IamRole {
            name: name.into(),
            arn: arn("role", name),
            path: "/".into(),
            trust_policy: trust_policy.into(),
            ..IamRole::default()
        });
        iam.roles.last_mut().unwrap()
    }

    pub fn group(&mut self, name: &str) -> &mut IamGroup {
        let iam = self.iam();
        if let Some(i) = iam.groups.iter().position(|g| g.name == name) {
            return &mut iam.groups[i];
        }
        iam.groups.push(IamGroup {
            name: name.into(),
            arn: arn("group", name),
            ..IamGroup::default()
        });
        iam.groups.last_mut().unwrap()
    }

    /// Puts the account in an organization whose root allows everything and attaches `doc` to
    /// the account.
    pub fn scp(&mut self, document: &str) {
        let org = self.snap.organization.get_or_insert_with(|| Organization {
            id: "o-example".into(),
            management_account_id: "999999999999".into(),
            roots: vec![OrgRoot {
                id: "r-root".into(),
                enabled_policy_types: vec!["SERVICE_CONTROL_POLICY".into()],
                ..OrgRoot::default()
            }],
            accounts: vec![OrgAccount {
                id: ACCT.into(),
                parent_id: "r-root".into(),
                ..OrgAccount::default()
            }],
            policies: vec![OrgPolicy {
                id: "p-FullAWSAccess".into(),
                name: "FullAWSAccess".into(),
                policy_type: "SERVICE_CONTROL_POLICY".into(),
                content: ALLOW_ALL.into(),
                targets: vec!["r-root".into(), ACCT.into()],
                ..OrgPolicy::default()
            }],
            ..Organization::default()
        });
        let n = org.policies.len();
        org.policies.push(OrgPolicy {
            id: format!("p-guard{n}"),
            name: format!("guard{n}"),
            policy_type: "SERVICE_CONTROL_POLICY".into(),
            content: document.into(),
            targets: vec![ACCT.into()],
            ..OrgPolicy::default()
        });
    }

    pub fn inline(doc: &str) -> InlinePolicy {
        InlinePolicy {
            name: "grant".into(),
            document: doc.into(),
        }
    }

    pub fn analyze(&self) -> rampart_paths::Analysis {
        let acct = rampart_paths::AccountIam::from_snapshot(&self.snap, ACCT).unwrap();
        rampart_paths::analyze(acct)
    }
}
