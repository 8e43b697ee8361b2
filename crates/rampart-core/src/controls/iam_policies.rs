//! IAM policies, support access and certificates: CIS 1.16, 1.17, 1.19.

use crate::{Control, Ctx, Outcome, Scope, Severity};
use serde_json::Value;

pub static CONTROLS: &[Control] = &[
    Control {
        id: "cis-1.16",
        title: "No attached IAM policy allows full \"*:*\" administrative privileges",
        severity: Severity::High,
        scope: Scope::Account,
        rationale: "A policy granting every action on every resource defeats least privilege and separation of duties.",
        remediation_console: "IAM → Policies → the policy → Policy usage: detach it and grant scoped permissions instead.",
        remediation_cli: "aws iam list-entities-for-policy --policy-arn ARN; aws iam detach-role-policy --role-name ROLE --policy-arn ARN",
        frameworks: &["cis-aws-3.0:1.16", "cis-aws-5.0:1.15", "fsbp:IAM.1"],
        apis: &["iam:ListPolicies", "iam:GetPolicyVersion"],
        check: Some(no_admin_policies),
    },
    Control {
        id: "cis-1.17",
        title: "A support role exists to manage incidents with AWS Support",
        severity: Severity::Low,
        scope: Scope::Account,
        rationale: "Without a role allowed to open support cases, incident response waits on root or an administrator.",
        remediation_console: "IAM → Roles → Create role trusted by your account, attach AWSSupportAccess.",
        remediation_cli: "aws iam create-role --role-name SupportTeam --assume-role-policy-document file://trust.json && aws iam attach-role-policy --role-name SupportTeam --policy-arn arn:aws:iam::aws:policy/AWSSupportAccess",
        frameworks: &["cis-aws-3.0:1.17", "cis-aws-5.0:1.16", "fsbp:IAM.18"],
        apis: &["iam:ListPolicies", "iam:ListEntitiesForPolicy"],
        check: Some(support_role),
    },
    Control {
        id: "cis-1.19",
        title: "No expired SSL/TLS certificates are stored in IAM",
        severity: Severity::Medium,
        scope: Scope::Account,
        rationale: "An expired certificate deployed by mistake breaks clients or trains users to ignore warnings.",
        remediation_console: "Expired IAM server certificates cannot be deleted in the console; use the CLI.",
        remediation_cli: "aws iam delete-server-certificate --server-certificate-name NAME",
        frameworks: &["cis-aws-3.0:1.19", "cis-aws-5.0:1.18"],
        apis: &["iam:ListServerCertificates"],
        check: Some(expired_certificates),
    },
];

fn as_list(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// True when a statement allows `*` on `*` without conditions (CIS 1.16; also judges the
/// policies of a template in rampart-iac).
pub fn grants_full_admin(document: &str) -> Result<bool, String> {
    let doc: Value = serde_json::from_str(document).map_err(|e| e.to_string())?;
    let stmts: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    };
    Ok(stmts.iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Allow")
            && as_list(s.get("Action")).contains(&"*")
            && as_list(s.get("Resource")).contains(&"*")
            && s.get("Condition").is_none()
    }))
}

fn no_admin_policies(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let before = out.len();
    for p in ctx
        .account
        .iam
        .policies
        .iter()
        .filter(|p| p.attachment_count > 0)
    {
        match grants_full_admin(&p.document) {
            Ok(true) => out.push(Outcome::fail(
                &p.arn,
                format!("policy {} allows \"*\" on \"*\" and is attached {} time(s)", p.name, p.attachment_count),
            )),
            Ok(false) => {}
            Err(e) if p.document.is_empty() => out.push(Outcome::error(
                &p.arn,
                format!("policy {} has no document in the snapshot ({e}); collect with iam:GetPolicyVersion", p.name),
            )),
            Err(e) => out.push(Outcome::error(&p.arn, format!("policy {} is not valid JSON: {e}", p.name))),
        }
    }
    if out.len() == before {
        out.push(Outcome::pass(
            ctx.account_resource(),
            "no attached policy grants full administrative access",
        ));
    }
}

fn support_role(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let attached = ctx
        .account
        .iam
        .policies
        .iter()
        .find(|p| p.arn.ends_with(":policy/AWSSupportAccess") && p.attachment_count > 0);
    match attached {
        Some(p) => out.push(Outcome::pass(
            &p.arn,
            "AWSSupportAccess is attached to a principal",
        )),
        None => out.push(Outcome::fail(
            ctx.account_resource(),
            "no principal has the AWSSupportAccess policy attached",
        )),
    }
}

fn expired_certificates(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let before = out.len();
    for c in &ctx.account.iam.server_certificates {
        match ctx.days_since(c.expiration.as_deref()) {
            Some(d) if d > 0 => out.push(Outcome::fail(
                &c.arn,
                format!("certificate {} expired {d} day(s) ago", c.name),
            )),
            _ => out.push(Outcome::pass(
                &c.arn,
                format!("certificate {} has not expired", c.name),
            )),
        }
    }
    if out.len() == before {
        out.push(Outcome::pass(
            ctx.account_resource(),
            "no server certificates stored in IAM",
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::Status;
    use crate::fixtures::*;
    use rampart_snapshot::{ManagedPolicy, ServerCertificate};

    #[test]
    fn admin_policy_detected_semantically() {
        let mut s = org();
        assert_eq!(statuses(&s, "cis-1.16", WORKLOAD), vec![Status::Pass]);
        acct(&mut s, WORKLOAD).iam.policies.push(ManagedPolicy {
            arn: "arn:aws:iam::4:policy/god".into(),
            name: "god".into(),
            attachment_count: 2,
            document: r#"{"Statement":{"Effect":"Allow","Action":["s3:*","*"],"Resource":"*"}}"#
                .into(),
            ..ManagedPolicy::default()
        });
        assert_eq!(statuses(&s, "cis-1.16", WORKLOAD), vec![Status::Fail]);
        // Scoped by a condition: not unconditional admin.
        acct(&mut s, WORKLOAD).iam.policies.last_mut().unwrap().document =
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}"#.into();
        assert_eq!(statuses(&s, "cis-1.16", WORKLOAD), vec![Status::Pass]);
    }

    #[test]
    fn support_role_and_certs() {
        let mut s = org();
        assert_eq!(statuses(&s, "cis-1.17", WORKLOAD), vec![Status::Pass]);
        assert_eq!(statuses(&s, "cis-1.19", WORKLOAD), vec![Status::Pass]);
        let a = acct(&mut s, WORKLOAD);
        a.iam.policies.clear();
        a.iam.server_certificates.push(ServerCertificate {
            name: "old".into(),
            arn: "arn:aws:iam::4:server-certificate/old".into(),
            expiration: Some("2025-01-01T00:00:00Z".into()),
        });
        assert_eq!(statuses(&s, "cis-1.17", WORKLOAD), vec![Status::Fail]);
        assert_eq!(statuses(&s, "cis-1.19", WORKLOAD), vec![Status::Fail]);
    }
}
