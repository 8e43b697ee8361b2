//! Identity abuse: root use, credentials minted for someone else, privilege grants, weakened MFA,
//! IAM users where people should sign in through SSO, federation-token persistence.

use super::{Builtin, BuiltinConfig, Def, api, ev, str_pred};
use crate::ir::{Condition, FieldPath, Predicate, Severity, StrOp, compile_regex};
use serde_json::json;

fn root() -> Condition {
    Condition::eq("userIdentity.type", "Root")
}

/// `requestParameters.userName` is set and differs from the caller's own user name.
fn for_another_user() -> Condition {
    Condition::All(vec![
        Condition::field("requestParameters.userName", Predicate::Exists(true)),
        Condition::not(Condition::field(
            "requestParameters.userName",
            Predicate::FieldRef {
                other: FieldPath::parse("userIdentity.userName").expect("path"),
                case_insensitive: false,
            },
        )),
    ])
}

pub(super) fn rules(cfg: &BuiltinConfig) -> Vec<Builtin> {
    let iam = "iam.amazonaws.com";
    let root_id = json!({"userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root", "principalId": "111122223333", "userName": null}});
    let admin_doc =
        compile_regex(r#""Action"\s*:\s*(\[\s*)?"(\*|iam:\*)""#, false).expect("static regex");
    let mut v = vec![
        Def {
            id: "RD-IAM-001",
            title: "Root user signed in to the console",
            severity: Severity::High,
            attack: &["T1078.004"],
            description: "The root user signed in. Root should be locked away behind hardware MFA and used only for root-only tasks.",
            false_positives: &["Break-glass procedures and root-only tasks, announced in advance"],
            condition: Condition::All(vec![api("signin.amazonaws.com", &["ConsoleLogin"]), root()]),
            positives: vec![ev("signin.amazonaws.com", "ConsoleLogin", root_id.clone())],
            negatives: vec![ev("signin.amazonaws.com", "ConsoleLogin", json!({}))],
        },
        Def {
            id: "RD-IAM-002",
            title: "Root access key created",
            severity: Severity::Critical,
            attack: &["T1098.001"],
            description: "An access key was created for the root user: long-lived, unrestricted credentials.",
            false_positives: &["None: root access keys should never exist"],
            condition: Condition::All(vec![
                api(iam, &["CreateAccessKey"]),
                root(),
                Condition::field("requestParameters.userName", Predicate::Null),
            ]),
            positives: vec![ev(iam, "CreateAccessKey", root_id.clone())],
            negatives: vec![ev(
                iam,
                "CreateAccessKey",
                json!({"requestParameters": {"userName": "alice"}}),
            )],
        },
        Def {
            id: "RD-IAM-003",
            title: "Access key created for another user",
            severity: Severity::High,
            attack: &["T1098.001"],
            description: "A principal created an access key for a different IAM user: a classic backdoor.",
            false_positives: &["Administrators provisioning keys for service users (prefer roles)"],
            condition: Condition::All(vec![api(iam, &["CreateAccessKey"]), for_another_user()]),
            positives: vec![ev(
                iam,
                "CreateAccessKey",
                json!({"requestParameters": {"userName": "backdoor"}}),
            )],
            negatives: vec![
                ev(
                    iam,
                    "CreateAccessKey",
                    json!({"requestParameters": {"userName": "alice"}}),
                ),
                ev(iam, "CreateAccessKey", json!({})),
            ],
        },
        Def {
            id: "RD-IAM-004",
            title: "Console password set for another user",
            severity: Severity::High,
            attack: &["T1098"],
            description: "A login profile was created or changed for a different IAM user, giving the caller console access as them.",
            false_positives: &["Help-desk password resets"],
            condition: Condition::All(vec![
                api(iam, &["CreateLoginProfile", "UpdateLoginProfile"]),
                for_another_user(),
            ]),
            positives: vec![
                ev(
                    iam,
                    "CreateLoginProfile",
                    json!({"requestParameters": {"userName": "bob"}}),
                ),
                ev(
                    iam,
                    "UpdateLoginProfile",
                    json!({"requestParameters": {"userName": "bob"}}),
                ),
            ],
            negatives: vec![ev(
                iam,
                "UpdateLoginProfile",
                json!({"requestParameters": {"userName": "alice"}}),
            )],
        },
        Def {
            id: "RD-IAM-005",
            title: "Administrator policy granted",
            severity: Severity::High,
            attack: &["T1098.003"],
            description: "AdministratorAccess (or IAMFullAccess) was attached, or an inline policy allowing every action was put, on a user, group or role.",
            false_positives: &["Provisioning a break-glass or platform role"],
            condition: Condition::Any(vec![
                Condition::All(vec![
                    api(
                        iam,
                        &["AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy"],
                    ),
                    Condition::field(
                        "requestParameters.policyArn",
                        Predicate::Any(vec![
                            str_pred(StrOp::EndsWith, ":policy/AdministratorAccess", false),
                            str_pred(StrOp::EndsWith, ":policy/IAMFullAccess", false),
                        ]),
                    ),
                ]),
                Condition::All(vec![
                    api(iam, &["PutUserPolicy", "PutRolePolicy", "PutGroupPolicy"]),
                    Condition::field(
                        "requestParameters.policyDocument",
                        Predicate::Regex(admin_doc),
                    ),
                ]),
            ]),
            positives: vec![
                ev(
                    iam,
                    "AttachUserPolicy",
                    json!({"requestParameters": {"userName": "x", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}}),
                ),
                ev(
                    iam,
                    "PutRolePolicy",
                    json!({"requestParameters": {"roleName": "x", "policyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}}),
                ),
            ],
            negatives: vec![
                ev(
                    iam,
                    "AttachUserPolicy",
                    json!({"requestParameters": {"userName": "x", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}}),
                ),
                ev(
                    iam,
                    "PutRolePolicy",
                    json!({"requestParameters": {"roleName": "x", "policyDocument": "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}"}}),
                ),
            ],
        },
        Def {
            id: "RD-IAM-006",
            title: "MFA device deactivated or deleted",
            severity: Severity::Medium,
            attack: &["T1556.006"],
            description: "An MFA device was deactivated or a virtual MFA device deleted, weakening sign-in.",
            false_positives: &["Users replacing a lost device"],
            condition: api(iam, &["DeactivateMFADevice", "DeleteVirtualMFADevice"]),
            positives: vec![ev(
                iam,
                "DeactivateMFADevice",
                json!({"requestParameters": {"userName": "bob", "serialNumber": "arn:aws:iam::111122223333:mfa/bob"}}),
            )],
            negatives: vec![ev(iam, "EnableMFADevice", json!({}))],
        },
        Def {
            id: "RD-IAM-008",
            title: "Federation token issued",
            severity: Severity::Medium,
            attack: &["T1550.001", "T1098"],
            description: "sts:GetFederationToken issued credentials that survive the deletion of the calling key's user session: a known persistence trick.",
            false_positives: &["Legacy federation brokers"],
            condition: api("sts.amazonaws.com", &["GetFederationToken"]),
            positives: vec![ev(
                "sts.amazonaws.com",
                "GetFederationToken",
                json!({"requestParameters": {"name": "x"}}),
            )],
            negatives: vec![ev("sts.amazonaws.com", "GetCallerIdentity", json!({}))],
        },
        Def {
            id: "RD-IAM-009",
            title: "Role trust policy changed",
            severity: Severity::Medium,
            attack: &["T1098"],
            description: "A role's trust policy was rewritten; a backdoor adds an outside principal to it.",
            false_positives: &["Infrastructure-as-code deployments"],
            condition: api(iam, &["UpdateAssumeRolePolicy"]),
            positives: vec![ev(
                iam,
                "UpdateAssumeRolePolicy",
                json!({"requestParameters": {"roleName": "r"}}),
            )],
            negatives: vec![ev(iam, "GetRole", json!({}))],
        },
    ];
    if cfg.uses_sso {
        v.push(Def {
            id: "RD-IAM-007",
            title: "IAM user created in an organization that uses SSO",
            severity: Severity::Medium,
            attack: &["T1136.003"],
            description: "An IAM user was created although people sign in through IAM Identity Center; IAM users mean long-lived credentials.",
            false_positives: &["Service users for systems that cannot assume roles (set `uses_sso = false` if this is normal)"],
            condition: api(iam, &["CreateUser"]),
            positives: vec![ev(iam, "CreateUser", json!({"requestParameters": {"userName": "x"}}))],
            negatives: vec![ev(iam, "CreateRole", json!({}))],
        });
    }
    v.into_iter().map(Def::build).collect()
}
