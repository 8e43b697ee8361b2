//! S3 buckets and account-level Block Public Access: CIS 2.1.1, 2.1.2, 2.1.4.

use super::bucket_arn;
use crate::{Control, Ctx, Outcome, Scope, Severity};

pub static CONTROLS: &[Control] = &[
    Control {
        id: "cis-2.1.1",
        title: "S3 bucket policies deny requests that are not over TLS",
        severity: Severity::Medium,
        scope: Scope::Account,
        rationale: "Without a deny on aws:SecureTransport=false, data can be read or written in clear text.",
        remediation_console: "S3 → the bucket → Permissions → Bucket policy: add a Deny for all principals on s3:* with Condition Bool aws:SecureTransport false.",
        remediation_cli: "aws s3api put-bucket-policy --bucket BUCKET --policy file://tls-only.json",
        frameworks: &["cis-aws-3.0:2.1.1", "cis-aws-5.0:2.1.1", "fsbp:S3.5"],
        apis: &["s3:ListBuckets", "s3:GetBucketPolicy"],
        check: Some(tls_only),
    },
    Control {
        id: "cis-2.1.2",
        title: "MFA Delete is enabled on S3 buckets",
        severity: Severity::Low,
        scope: Scope::Account,
        rationale: "MFA Delete stops a stolen key from deleting object versions or turning versioning off.",
        remediation_console: "MFA Delete can only be enabled by the root user with the CLI.",
        remediation_cli: "aws s3api put-bucket-versioning --bucket BUCKET --versioning-configuration Status=Enabled,MFADelete=Enabled --mfa 'SERIAL CODE'",
        frameworks: &["cis-aws-3.0:2.1.2", "cis-aws-5.0:2.1.2"],
        apis: &["s3:ListBuckets", "s3:GetBucketVersioning"],
        check: Some(mfa_delete),
    },
    Control {
        id: "cis-2.1.4",
        title: "S3 Block Public Access is on (account level, or on every bucket)",
        severity: Severity::High,
        scope: Scope::Account,
        rationale: "Block Public Access overrides ACLs and policies that would expose data to the internet.",
        remediation_console: "S3 → Block Public Access settings for this account → Edit: turn on all four settings.",
        remediation_cli: "aws s3control put-public-access-block --account-id ACCOUNT --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
        frameworks: &[
            "cis-aws-3.0:2.1.4",
            "cis-aws-5.0:2.1.4",
            "fsbp:S3.1",
            "fsbp:S3.8",
        ],
        apis: &[
            "s3control:GetPublicAccessBlock",
            "s3:ListBuckets",
            "s3:GetPublicAccessBlock",
        ],
        check: Some(block_public_access),
    },
];

fn no_buckets(ctx: &Ctx, out: &mut Vec<Outcome>) -> bool {
    if ctx.account.s3.buckets.is_empty() {
        out.push(Outcome::na(
            ctx.account_resource(),
            "the account has no S3 buckets",
        ));
        return true;
    }
    false
}

/// Proves with the IAM evaluator that every request without TLS is explicitly denied: by the
/// bucket policy, or (credited, as AWS enforces it) by an RCP in force for the account.
fn tls_only(ctx: &Ctx, out: &mut Vec<Outcome>) {
    if no_buckets(ctx, out) {
        return;
    }
    let rcps = match ctx.org.rcp_chain(ctx.account_id()) {
        Ok(r) => r,
        Err(e) => {
            out.push(Outcome::error(ctx.account_resource(), e.to_string()));
            return;
        }
    };
    for b in &ctx.account.s3.buckets {
        let arn = bucket_arn(&b.name);
        let policy = match b.policy.as_deref().map(rampart_policy::parse_policy) {
            None => None,
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => {
                out.push(Outcome::error(
                    &arn,
                    format!("bucket {} policy cannot be evaluated: {e}", b.name),
                ));
                continue;
            }
        };
        // The bucket policy on its own first; the RCPs are credited only when it is needed.
        let prove = |rcps: Option<&crate::proof::Chain>| {
            rampart_policy::proofs::insecure_transport_proof(
                policy.as_ref(),
                rcps.map(|c| c.levels.as_slice()),
                &b.name,
                ctx.account_id(),
            )
        };
        let mut proof = prove(None);
        let mut credit = None;
        if !proof.proved()
            && let Some(chain) = &rcps
        {
            let with_rcps = prove(Some(chain));
            if with_rcps.proved() {
                credit = with_rcps
                    .witness
                    .as_ref()
                    .map(|w| crate::proof::explain(None, Some(chain), w));
                proof = with_rcps;
            }
        }
        if proof.proved() {
            let msg = match credit {
                Some(rcp) => format!(
                    "bucket {} denies every request without TLS (credited: {rcp})",
                    b.name
                ),
                None => format!("bucket {} denies every request without TLS", b.name),
            };
            out.push(Outcome::pass(&arn, msg));
        } else if !proof.complete && proof.denied {
            out.push(Outcome::error(
                &arn,
                format!("bucket {} policy tests more combinations of condition values than the evaluator tries: no proof either way", b.name),
            ));
        } else if policy.is_none() {
            out.push(Outcome::fail(
                &arn,
                format!("bucket {} has no policy, so plain HTTP is allowed", b.name),
            ));
        } else {
            let how = proof
                .counterexample
                .map(|c| format!(": {} is not denied", c.describe()))
                .unwrap_or_default();
            out.push(Outcome::fail(
                &arn,
                format!(
                    "bucket {} policy does not deny all principals when aws:SecureTransport is false{how}",
                    b.name
                ),
            ));
        }
    }
}

fn mfa_delete(ctx: &Ctx, out: &mut Vec<Outcome>) {
    if no_buckets(ctx, out) {
        return;
    }
    for b in &ctx.account.s3.buckets {
        let arn = bucket_arn(&b.name);
        if b.mfa_delete.as_deref() == Some("Enabled") {
            out.push(Outcome::pass(
                arn,
                format!("bucket {} has MFA Delete", b.name),
            ));
        } else {
            out.push(Outcome::fail(
                arn,
                format!("bucket {} does not have MFA Delete enabled", b.name),
            ));
        }
    }
}

fn block_public_access(ctx: &Ctx, out: &mut Vec<Outcome>) {
    if ctx
        .account
        .s3
        .account_public_access_block
        .is_some_and(|p| p.all_on())
    {
        out.push(Outcome::pass(
            ctx.account_resource(),
            "account-level Block Public Access is fully on, covering every bucket",
        ));
        return;
    }
    if no_buckets(ctx, out) {
        out.pop();
        out.push(Outcome::fail(
            ctx.account_resource(),
            "account-level Block Public Access is not fully on (no buckets today, but new ones are unprotected)",
        ));
        return;
    }
    for b in &ctx.account.s3.buckets {
        let arn = bucket_arn(&b.name);
        if b.public_access_block.is_some_and(|p| p.all_on()) {
            out.push(Outcome::pass(
                arn,
                format!("bucket {} has Block Public Access fully on", b.name),
            ));
        } else {
            out.push(Outcome::fail(
                arn,
                format!(
                    "bucket {} is not covered by Block Public Access (account or bucket level)",
                    b.name
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Status;
    use crate::fixtures::*;
    use crate::sample::good_bucket;

    #[test]
    fn tls_policy_is_proved_not_pattern_matched() {
        let mut s = org();
        assert_eq!(statuses(&s, "cis-2.1.1", LOG_ARCHIVE), vec![Status::Pass]);
        assert_eq!(
            statuses(&s, "cis-2.1.1", WORKLOAD),
            vec![Status::NotApplicable]
        );
        let mut b = good_bucket("data-b", "us-east-1");
        // Mentions SecureTransport but as an Allow: proves nothing.
        b.policy = Some(r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::data-b/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#.into());
        acct(&mut s, WORKLOAD).s3.buckets.push(b.clone());
        assert_eq!(statuses(&s, "cis-2.1.1", WORKLOAD), vec![Status::Fail]);
        // Denies only object requests: bucket-level requests stay open.
        b.policy = Some(r#"{"Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:*","Resource":"arn:aws:s3:::data-b/*","Condition":{"Bool":{"aws:SecureTransport":false}}}]}"#.into());
        acct(&mut s, WORKLOAD).s3.buckets[0] = b.clone();
        assert_eq!(statuses(&s, "cis-2.1.1", WORKLOAD), vec![Status::Fail]);
        b.policy = Some("{ not json".into());
        acct(&mut s, WORKLOAD).s3.buckets[0] = b;
        assert_eq!(statuses(&s, "cis-2.1.1", WORKLOAD), vec![Status::Error]);
    }

    fn workload_bucket(s: &mut rampart_snapshot::Snapshot, account: &str, policy: Option<&str>) {
        let mut b = good_bucket("data-b", "us-east-1");
        b.policy = policy.map(str::to_string);
        acct(s, account).s3.buckets = vec![b];
    }

    #[test]
    fn every_kind_of_request_must_be_denied() {
        // Reads and listing are refused over HTTP, writes are not: plain-text uploads remain
        // possible, so it is a FAIL. (The old conservative evaluator probed only GetObject and
        // ListBucket and passed this policy.)
        let mut s = org();
        workload_bucket(
            &mut s,
            WORKLOAD,
            Some(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::data-b","arn:aws:s3:::data-b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#,
            ),
        );
        let f = findings(&s, "cis-2.1.1", WORKLOAD);
        assert_eq!(f[0].status, Status::Fail);
        assert!(f[0].message.contains("s3:PutObject"), "{}", f[0].message);
    }

    #[test]
    fn a_deny_that_spares_a_vpc_endpoint_is_not_tls_only() {
        // Plain HTTP through the named VPC endpoint is allowed. The old evaluator read the absent
        // aws:SourceVpce as "not that endpoint" and passed; the proof finds the request.
        let mut s = org();
        workload_bucket(
            &mut s,
            WORKLOAD,
            Some(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::data-b","arn:aws:s3:::data-b/*"],
                    "Condition":{"Bool":{"aws:SecureTransport":"false"},"StringNotEquals":{"aws:SourceVpce":"vpce-0a1b2c"}}}]}"#,
            ),
        );
        let f = findings(&s, "cis-2.1.1", WORKLOAD);
        assert_eq!(f[0].status, Status::Fail);
        assert!(
            f[0].message.contains("aws:SourceVpce = vpce-0a1b2c"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn an_rcp_denying_insecure_transport_is_credited() {
        let mut s = org();
        workload_bucket(&mut s, WORKLOAD, None);
        workload_bucket(&mut s, MANAGEMENT, None);
        assert_eq!(statuses(&s, "cis-2.1.1", WORKLOAD), vec![Status::Fail]);
        let rcp = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*",
            "Condition":{"BoolIfExists":{"aws:SecureTransport":"false"}}}]}"#;
        attach_rcp(&mut s, "tls-only", rcp, "r-root");
        let f = findings(&s, "cis-2.1.1", WORKLOAD);
        assert_eq!(f[0].status, Status::Pass, "{}", f[0].message);
        assert!(
            f[0].message
                .contains("credited: explicitly denied by RCP `tls-only` on r-root"),
            "{}",
            f[0].message
        );
        // RCPs never restrict the management account's resources.
        assert_eq!(statuses(&s, "cis-2.1.1", MANAGEMENT), vec![Status::Fail]);
        // A bucket policy that proves it on its own is not credited to the RCP.
        let f = findings(&s, "cis-2.1.1", LOG_ARCHIVE);
        assert_eq!(f[0].status, Status::Pass);
        assert!(!f[0].message.contains("credited"), "{}", f[0].message);
    }

    #[test]
    fn unreadable_bucket_policy_is_error_for_that_bucket_only() {
        let mut s = org();
        acct(&mut s, WORKLOAD)
            .s3
            .buckets
            .push(good_bucket("readable", "us-east-1"));
        acct(&mut s, WORKLOAD)
            .s3
            .buckets
            .push(good_bucket("locked-down", "us-east-1"));
        acct(&mut s, WORKLOAD)
            .errors
            .push(rampart_snapshot::CollectionError {
                account_id: WORKLOAD.into(),
                api: "s3:GetBucketPolicy".into(),
                code: "AccessDenied".into(),
                message: "bucket policy denies the audit role".into(),
                resource: Some("locked-down".into()),
                region: None,
            });
        let f = findings(&s, "cis-2.1.1", WORKLOAD);
        let by: Vec<(&str, Status)> = f.iter().map(|x| (x.resource.as_str(), x.status)).collect();
        assert_eq!(
            by,
            vec![
                ("locked-down", Status::Error),
                ("arn:aws:s3:::readable", Status::Pass)
            ]
        );
    }

    #[test]
    fn mfa_delete_and_bpa() {
        let mut s = org();
        assert_eq!(statuses(&s, "cis-2.1.2", LOG_ARCHIVE), vec![Status::Pass]);
        assert_eq!(statuses(&s, "cis-2.1.4", LOG_ARCHIVE), vec![Status::Pass]);
        let a = acct(&mut s, LOG_ARCHIVE);
        a.s3.buckets[0].mfa_delete = None;
        a.s3.account_public_access_block = None;
        assert_eq!(statuses(&s, "cis-2.1.2", LOG_ARCHIVE), vec![Status::Fail]);
        // Bucket-level BPA still covers the only bucket.
        assert_eq!(statuses(&s, "cis-2.1.4", LOG_ARCHIVE), vec![Status::Pass]);
        acct(&mut s, LOG_ARCHIVE).s3.buckets[0].public_access_block = None;
        assert_eq!(statuses(&s, "cis-2.1.4", LOG_ARCHIVE), vec![Status::Fail]);
        acct(&mut s, WORKLOAD).s3.account_public_access_block = None;
        assert_eq!(statuses(&s, "cis-2.1.4", WORKLOAD), vec![Status::Fail]);
    }
}
