//! Identity abuse: root use, credentials minted for someone else, privilege grants, weakened MFA,
//! IAM users where people should sign in through SSO, federation-token persistence.

use super::console::{self, console_login, iam_user};
use super::{
    Builtin, BuiltinConfig, Def, api, ci, ev, failed_twin, some_value, str_pred,
    with_failure_policies,
};
use crate::ir::{Condition, FieldPath, Items, OnFailure, Predicate, Severity, StrOp};
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

/// A policy document (logged as a JSON string, or an object) with a statement that grants
/// administrator rights: `Effect: Allow` of every action (`*`, `*:*`, or all of IAM, `iam:*`,
/// anywhere in `Action`) or of everything but a list (`NotAction`), on every resource
/// (`Resource: "*"` or `NotResource`).
fn grants_administrator(document: &str) -> Condition {
    let statement = Condition::All(vec![
        ci("Effect", "Allow"),
        Condition::Any(vec![
            some_value(
                "Action",
                Predicate::OneOf {
                    values: vec!["*".into(), "*:*".into(), "iam:*".into()],
                    case_insensitive: true,
                },
            ),
            Condition::field("NotAction", Predicate::Exists(true)),
        ]),
        Condition::Any(vec![
            some_value("Resource", str_pred(StrOp::Equals, "*", false)),
            Condition::field("NotResource", Predicate::Exists(true)),
        ]),
    ]);
    Condition::any_item_of_json(
        document,
        Condition::any_item("Statement", Items::Elements, statement),
    )
}

pub(super) fn rules(cfg: &BuiltinConfig) -> Vec<Builtin> {
    let iam = "iam.amazonaws.com";
    let root_id = json!({"userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root", "principalId": "111122223333", "userName": null}});
    // an IAM call with these request parameters
    let call =
        |name: &str, params: serde_json::Value| ev(iam, name, json!({"requestParameters": params}));
    let v = vec![
        Def {
            id: "RD-IAM-001",
            title: "Root user signed in to the console",
            severity: Severity::High,
            attack: &["T1078.004"],
            description: "The root user signed in (`responseElements.ConsoleLogin` is `Success`). Root should be locked away behind hardware MFA and used only for root-only tasks. A failed attempt signed nobody in: RD-CIS-4.6 and RD-IAM-011 report those.",
            false_positives: &["Break-glass procedures and root-only tasks, announced in advance"],
            // A failed root sign-in is raised as an attempt (the failure policy), never as this.
            condition: Condition::All(vec![api("signin.amazonaws.com", &["ConsoleLogin"]), root()]),
            positives: vec![
                console_login(console::root("111122223333"), "Success", Some("Yes")),
                console_login(console::root("111122223333"), "Success", Some("No")),
            ],
            negatives: {
                let mut v = console::federated_sign_ins();
                v.push(console_login(
                    iam_user("111122223333", "bob"),
                    "Success",
                    Some("No"),
                ));
                v
            },
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
            description: "AdministratorAccess (or IAMFullAccess) was attached to a user, group or role; or an inline policy was put, or a managed policy version made the default (`CreatePolicyVersion` with `setAsDefault`), whose statement allows every action (`*`, `*:*` or `iam:*` anywhere in `Action`) or everything but a list (`NotAction`) on every resource (`Resource: \"*\"` or `NotResource`).",
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
                    grants_administrator("requestParameters.policyDocument"),
                ]),
                Condition::All(vec![
                    api(iam, &["CreatePolicyVersion"]),
                    ci("requestParameters.setAsDefault", "true"),
                    grants_administrator("requestParameters.policyDocument"),
                ]),
            ]),
            positives: vec![
                call(
                    "AttachUserPolicy",
                    json!({"userName": "x", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
                ),
                call(
                    "AttachRolePolicy",
                    json!({"roleName": "x", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
                ),
                call(
                    "AttachGroupPolicy",
                    json!({"groupName": "x", "policyArn": "arn:aws:iam::aws:policy/IAMFullAccess"}),
                ),
                call(
                    "PutRolePolicy",
                    json!({"roleName": "x", "policyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}),
                ),
                // `*` after another action, in an array
                call(
                    "PutUserPolicy",
                    json!({"userName": "x", "policyName": "p", "policyDocument": "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\", \"*\"], \"Resource\": [\"*\"]}\n  ]\n}\n"}),
                ),
                // everything but a list
                call(
                    "PutGroupPolicy",
                    json!({"groupName": "x", "policyName": "p", "policyDocument": "{\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"s3:*\",\"Resource\":\"*\"},{\"Effect\":\"Allow\",\"NotAction\":[\"iam:CreateUser\"],\"Resource\":\"*\"}]}"}),
                ),
                // one statement object, `*:*`
                call(
                    "PutRolePolicy",
                    json!({"roleName": "x", "policyName": "p", "policyDocument": "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*:*\",\"Resource\":\"*\"}}"}),
                ),
                call(
                    "CreatePolicyVersion",
                    json!({"policyArn": "arn:aws:iam::111122223333:policy/p", "setAsDefault": true, "policyDocument": "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}),
                ),
            ],
            negatives: vec![
                call(
                    "AttachUserPolicy",
                    json!({"userName": "x", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
                ),
                call(
                    "PutRolePolicy",
                    json!({"roleName": "x", "policyDocument": "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}"}),
                ),
                // a deny of everything, and `*` on one bucket only
                call(
                    "PutRolePolicy",
                    json!({"roleName": "x", "policyDocument": "{\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}),
                ),
                call(
                    "PutUserPolicy",
                    json!({"userName": "x", "policyDocument": "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"arn:aws:s3:::b/*\"},{\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\",\"Resource\":\"*\"}]}"}),
                ),
                call(
                    "PutGroupPolicy",
                    json!({"groupName": "x", "policyDocument": "{\"Statement\":[{\"Effect\":\"Deny\",\"NotAction\":\"iam:Get*\",\"Resource\":\"*\"}]}"}),
                ),
                call(
                    "CreatePolicyVersion",
                    json!({"policyArn": "arn:aws:iam::111122223333:policy/p", "setAsDefault": false, "policyDocument": "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}),
                ),
                call(
                    "PutRolePolicy",
                    json!({"roleName": "x", "policyDocument": "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\""}),
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
            positives: vec![
                ev(
                    iam,
                    "DeactivateMFADevice",
                    json!({"requestParameters": {"userName": "bob", "serialNumber": "arn:aws:iam::111122223333:mfa/bob"}}),
                ),
                ev(
                    iam,
                    "DeleteVirtualMFADevice",
                    json!({"requestParameters": {"serialNumber": "arn:aws:iam::111122223333:mfa/bob"}}),
                ),
            ],
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
            negatives: vec![
                ev("sts.amazonaws.com", "GetCallerIdentity", json!({})),
                failed_twin(&ev(
                    "sts.amazonaws.com",
                    "GetFederationToken",
                    json!({"requestParameters": {"name": "x"}}),
                )),
            ],
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
    // A refused federation token gives no credentials to persist with, and a refused user is
    // the guardrail working: both are routine and CIS 4.1 reports the refusal. Every other
    // identity rule raises a failed call as an attempt one severity lower (the family default).
    let mut out = with_failure_policies(
        v.into_iter().map(Def::build).collect(),
        &[("RD-IAM-008", OnFailure::Silent)],
    );
    let mut sso = Def {
        id: "RD-IAM-007",
        title: "IAM user created in an organization that uses SSO",
        severity: Severity::Medium,
        attack: &["T1136.003"],
        description: "An IAM user was created although people sign in through IAM Identity Center (`[detect] uses_sso`, default true); IAM users mean long-lived credentials.",
        false_positives: &["Service users for systems that cannot assume roles (set `uses_sso = false` in `[detect]` if IAM users are normal here)"],
        condition: api(iam, &["CreateUser"]),
        positives: vec![ev(iam, "CreateUser", json!({"requestParameters": {"userName": "x"}}))],
        negatives: vec![
            ev(iam, "CreateRole", json!({})),
            failed_twin(&ev(iam, "CreateUser", json!({"requestParameters": {"userName": "x"}}))),
        ],
    }
    .build()
    .on_failure(OnFailure::Silent);
    if !cfg.uses_sso {
        sso.disabled = Some(
            "`uses_sso = false` in the [detect] section of rampart.toml: IAM users are expected here"
                .into(),
        );
    }
    out.push(sso);
    out
}
