//! The containment actions: names, what each needs as a target, whether it can be undone and
//! whether a playbook may run it without a person approving.

use serde::{Deserialize, Serialize};

/// One containment action. Every action is idempotent: running it on a target already
/// contained changes nothing and says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    DisableAccessKey,
    DeleteLoginProfile,
    Quarantine,
    RestartLogging,
    EnableGuardduty,
    EnableConfigRecorder,
    BlockPublicS3,
    IsolateInstance,
}

/// Every action, in the order the docs list them.
pub const ACTIONS: [Action; 8] = [
    Action::DisableAccessKey,
    Action::DeleteLoginProfile,
    Action::Quarantine,
    Action::RestartLogging,
    Action::EnableGuardduty,
    Action::EnableConfigRecorder,
    Action::BlockPublicS3,
    Action::IsolateInstance,
];

/// Whether `rampart respond undo` can put things back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reversible {
    Yes,
    /// Not reversible, with the reason shown in plans and refused undos.
    No(&'static str),
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::DisableAccessKey => "disable-access-key",
            Action::DeleteLoginProfile => "delete-login-profile",
            Action::Quarantine => "quarantine",
            Action::RestartLogging => "restart-logging",
            Action::EnableGuardduty => "enable-guardduty",
            Action::EnableConfigRecorder => "enable-config-recorder",
            Action::BlockPublicS3 => "block-public-s3",
            Action::IsolateInstance => "isolate-instance",
        }
    }

    pub fn parse(s: &str) -> Result<Action, String> {
        ACTIONS.into_iter().find(|a| a.name() == s).ok_or_else(|| {
            let names: Vec<&str> = ACTIONS.iter().map(|a| a.name()).collect();
            format!("unknown action `{s}`; actions: {}", names.join(", "))
        })
    }

    /// One line on what it does.
    pub fn summary(self) -> &'static str {
        match self {
            Action::DisableAccessKey => "set an IAM user's access key to Inactive",
            Action::DeleteLoginProfile => "delete an IAM user's console password (login profile)",
            Action::Quarantine => {
                "attach an inline deny-all policy to a user or role and revoke its sessions issued before now"
            }
            Action::RestartLogging => {
                "start a stopped CloudTrail trail and restore weakened management-event selectors"
            }
            Action::EnableGuardduty => "re-enable a disabled GuardDuty detector",
            Action::EnableConfigRecorder => "start a stopped AWS Config configuration recorder",
            Action::BlockPublicS3 => {
                "turn on S3 Block Public Access (bucket, and account with --account-level) and remove public Allow statements from the bucket policy"
            }
            Action::IsolateInstance => {
                "snapshot an EC2 instance's EBS volumes, then replace its security groups with a quarantine group that has no rules"
            }
        }
    }

    /// The `--target` it takes (empty: none needed).
    pub fn target_hint(self) -> &'static str {
        match self {
            Action::DisableAccessKey => "USER/ACCESS_KEY_ID",
            Action::DeleteLoginProfile => "USER",
            Action::Quarantine => "user/NAME | role/NAME | ARN",
            Action::RestartLogging => "TRAIL (name or ARN)",
            Action::EnableGuardduty => "[DETECTOR_ID] (default: the region's detector)",
            Action::EnableConfigRecorder => "[RECORDER] (default: the region's recorder)",
            Action::BlockPublicS3 => "BUCKET",
            Action::IsolateInstance => "INSTANCE_ID",
        }
    }

    pub fn reversible(self) -> Reversible {
        match self {
            Action::DeleteLoginProfile => Reversible::No(
                "AWS cannot restore a deleted console password: the user needs a new one (iam:CreateLoginProfile) from an administrator",
            ),
            _ => Reversible::Yes,
        }
    }

    /// Whether `mode = "auto"` may run it: reversible, and it only turns protection back on or
    /// takes away one credential, so a false positive costs little.
    pub fn safe_for_auto(self) -> bool {
        matches!(
            self,
            Action::DisableAccessKey
                | Action::RestartLogging
                | Action::EnableGuardduty
                | Action::EnableConfigRecorder
        )
    }

    /// IAM actions the AWS implementation calls (policies/rampart-respond.json grants exactly
    /// the union, plus sts:AssumeRole into member accounts).
    pub fn permissions(self) -> &'static [&'static str] {
        match self {
            Action::DisableAccessKey => &["iam:ListAccessKeys", "iam:UpdateAccessKey"],
            Action::DeleteLoginProfile => &["iam:GetLoginProfile", "iam:DeleteLoginProfile"],
            Action::Quarantine => &[
                "iam:GetUserPolicy",
                "iam:PutUserPolicy",
                "iam:DeleteUserPolicy",
                "iam:GetRolePolicy",
                "iam:PutRolePolicy",
                "iam:DeleteRolePolicy",
            ],
            Action::RestartLogging => &[
                "cloudtrail:GetTrailStatus",
                "cloudtrail:StartLogging",
                "cloudtrail:GetEventSelectors",
                "cloudtrail:PutEventSelectors",
            ],
            Action::EnableGuardduty => &[
                "guardduty:ListDetectors",
                "guardduty:GetDetector",
                "guardduty:UpdateDetector",
            ],
            Action::EnableConfigRecorder => &[
                "config:DescribeConfigurationRecorderStatus",
                "config:StartConfigurationRecorder",
                "config:StopConfigurationRecorder",
            ],
            Action::BlockPublicS3 => &[
                "s3:GetBucketPublicAccessBlock",
                "s3:PutBucketPublicAccessBlock",
                "s3:GetBucketPolicy",
                "s3:PutBucketPolicy",
                "s3:DeleteBucketPolicy",
                "s3:GetAccountPublicAccessBlock",
                "s3:PutAccountPublicAccessBlock",
            ],
            Action::IsolateInstance => &[
                "ec2:DescribeInstances",
                "ec2:CreateSnapshot",
                "ec2:CreateTags",
                "ec2:DescribeSecurityGroups",
                "ec2:CreateSecurityGroup",
                "ec2:RevokeSecurityGroupEgress",
                "ec2:ModifyNetworkInterfaceAttribute",
            ],
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_actions() {
        for a in ACTIONS {
            assert_eq!(Action::parse(a.name()), Ok(a));
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(json, format!("\"{}\"", a.name()));
        }
        let e = Action::parse("nuke").unwrap_err();
        assert!(e.contains("isolate-instance"), "{e}");
    }

    #[test]
    fn auto_is_only_for_reversible_actions() {
        for a in ACTIONS.into_iter().filter(|a| a.safe_for_auto()) {
            assert_eq!(a.reversible(), Reversible::Yes, "{a}");
        }
        assert!(!Action::DeleteLoginProfile.safe_for_auto());
        assert!(!Action::IsolateInstance.safe_for_auto());
    }
}

#[cfg(test)]
mod doc_tests {
    use super::*;

    /// docs/respond.md lists every action with its permissions and says which cannot be undone.
    #[test]
    fn the_docs_list_every_action_and_permission() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/respond.md");
        let doc = std::fs::read_to_string(path).unwrap();
        for a in ACTIONS {
            let row = doc
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", a.name())))
                .unwrap_or_else(|| panic!("docs/respond.md has no row for {a}"));
            for p in a.permissions() {
                assert!(
                    row.contains(&format!("`{p}`")),
                    "{a}: {p} missing from its row"
                );
            }
            if let Reversible::No(_) = a.reversible() {
                assert!(row.contains("**not reversible**"), "{a}");
            }
        }
    }
}
