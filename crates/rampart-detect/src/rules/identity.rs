//! Identity abuse: root use, credentials minted for someone else, privilege grants, weakened MFA,
//! IAM users where people should sign in through SSO, federation-token persistence.

use super::console::{self, console_login, iam_user};
use super::{
    Builtin, BuiltinConfig, Def, api, ci, ev, failed_twin, some_value, str_pred,
    with_failure_policies,
};
use crate::ir::{Condition, FieldPath, Items, OnFailure, Predicate, Severity, StrOp};
use crate::runbook::{Contact, Runbook, common, note, sh, sql};
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
            runbook: Runbook::new(
                "The root user of {account} signed in to the console from {source_ip}.",
                "Root can do everything, including closing the account and removing MFA, and no SCP restricts it in the management account; a root sign-in that nobody announced is an account takeover until proven otherwise.",
            )
            .triage([
                common::read_event(),
                note("Check the sign-in's MFAUsed (additionalEventData) and source address: a break-glass sign-in comes from a known place, with hardware MFA, announced in advance."),
                sql("List what root did in the session. CloudTrail Lake:", "SELECT eventTime, awsRegion, eventSource, eventName, errorCode, sourceIPAddress FROM {event_data_store} WHERE userIdentity.type = 'Root' AND recipientAccountId = '{account}' AND eventTime >= '{start_sql}' AND eventTime <= '{end_sql}' ORDER BY eventTime"),
                common::root_credentials(),
                common::detect_window(),
            ])
            .contain([
                note("If nobody announced it: reset the root password through the account recovery flow, and replace its MFA device (the attacker may have registered their own)."),
                common::delete_root_credentials(),
                note("Check for persistence created in the session: new IAM users, access keys, roles with outside trust (RD-IAM-003, RD-EXP-012 alerts in the same window)."),
            ])
            .recover([
                note("Member accounts should have no root credentials at all (centralized root access); the management account's root belongs in a safe with hardware MFA."),
                common::audit_again(),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "at once unless the sign-in was announced")
            .escalate(Contact::AccountOwner, "to confirm the break-glass use")
            .escalate(Contact::OrgAdmins, "when the account is the management account"),
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
            runbook: Runbook::new(
                "An access key was created for the root user of {account}.",
                "A root access key is a permanent credential with every permission, usable from anywhere and unaffected by SCPs in the management account; there is no legitimate need for one.",
            )
            .triage([
                common::read_event(),
                common::root_credentials(),
                common::principal_activity(),
                note("How did the caller act as root at all? Look for the root sign-in (RD-IAM-001) or password recovery just before."),
            ])
            .contain([
                common::delete_root_credentials(),
                note("Or, signed in as root: delete the key at once (`aws iam delete-access-key --access-key-id <root_access_key>` with root credentials); a deleted key cannot be used again."),
                note("Reset the root password and MFA: whoever created the key had root."),
            ])
            .recover([
                note("Search CloudTrail for calls made with the new key (`AttributeKey=AccessKeyId`) from its creation until its deletion, and undo what they changed."),
                common::detect_window(),
                common::audit_again(),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "at once: critical")
            .escalate(Contact::OrgAdmins, "to remove root credentials centrally"),
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
            runbook: Runbook::new(
                "{principal} created an access key for another IAM user, {target_user}.",
                "A key made for someone else gives the caller a second identity that survives the loss of their own: the classic persistence backdoor, and it hides the caller's later calls under another name.",
            )
            .triage([
                sh("List the target user's keys and when each was last used.", "aws iam list-access-keys --user-name {target_user}"),
                sh("See where the new key has been used (its id is in the event's responseElements).", "aws iam get-access-key-last-used --access-key-id <new_access_key>"),
                common::read_event(),
                common::principal_activity(),
                common::confirm_with_owner(),
            ])
            .contain([
                sh("Disable the new key (reversible).", "aws iam update-access-key --user-name {target_user} --access-key-id <new_access_key> --status Inactive").respond("disable-access-key"),
                common::disable_key(),
                common::quarantine_principal(),
            ])
            .recover([
                sh("Once confirmed malicious, delete the key.", "aws iam delete-access-key --user-name {target_user} --access-key-id <new_access_key>"),
                note("Service users that need keys are better replaced by roles (IAM Roles Anywhere or OIDC for workloads outside AWS)."),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "at once unless a ticket covers the key")
            .escalate(Contact::IdentityAdmins, "to confirm whether provisioning keys is their process"),
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
            runbook: Runbook::new(
                "{principal} created or changed the console password of another IAM user, {target_user}.",
                "Setting someone else's password lets the caller sign in as them, with their permissions and under their name in the logs.",
            )
            .triage([
                sh("Read the target user's login profile (creation date, password reset required).", "aws iam get-login-profile --user-name {target_user}"),
                sh("Look for console sign-ins as the target user after the change.", "aws cloudtrail lookup-events --region us-east-1 --lookup-attributes AttributeKey=Username,AttributeValue={target_user} --start-time {start} --end-time {end}"),
                common::read_event(),
                common::principal_activity(),
                common::confirm_with_owner(),
            ])
            .contain([
                sh("If not a help-desk reset, remove the console password.", "aws iam delete-login-profile --user-name {target_user}").respond("delete-login-profile"),
                common::quarantine_principal(),
            ])
            .recover([
                note("Have the real user set a new password (with `--password-reset-required`) and check their MFA devices."),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "when no help-desk ticket covers it")
            .escalate(Contact::IdentityAdmins, "to confirm the reset"),
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
            runbook: Runbook::new(
                "{principal} granted administrator-level permissions ({event_name} on {resource}).",
                "Full administrator or IAM-wide rights let the grantee do anything, including granting themselves more and disabling detection: the usual privilege-escalation end state.",
            )
            .triage([
                sh("Read the policies now attached to the grantee (a role; use list-attached-user-policies / list-attached-group-policies for users and groups).", "aws iam list-attached-role-policies --role-name {target_role}"),
                sh("Read the inline policy or the new default version named in the event.", "aws iam get-policy-version --policy-arn <policy_arn> --version-id <version_id>"),
                common::read_event(),
                common::principal_activity(),
                common::confirm_with_owner(),
            ])
            .contain([
                sh("Detach the administrator policy (for a user or group: detach-user-policy / detach-group-policy).", "aws iam detach-role-policy --role-name {target_role} --policy-arn arn:aws:iam::aws:policy/AdministratorAccess"),
                sh("For a policy version made default, return to the previous version.", "aws iam set-default-policy-version --policy-arn <policy_arn> --version-id <previous_version_id>"),
                common::quarantine_principal(),
            ])
            .recover([
                note("Review what the grantee did with the rights (its activity from the event time on) and undo it."),
                common::audit_again(),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "at once unless the grant is a reviewed change")
            .escalate(Contact::IdentityAdmins, "to confirm the grant"),
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
            runbook: Runbook::new(
                "An MFA device was deactivated or deleted ({resource}) by {principal}.",
                "Without MFA a stolen password is enough to sign in; attackers remove MFA right after taking over an account so they can come back.",
            )
            .triage([
                sh("List the user's remaining MFA devices.", "aws iam list-mfa-devices --user-name {target_user}"),
                common::read_event(),
                common::principal_activity(),
                common::confirm_with_owner(),
            ])
            .contain([
                note("If the user did not replace a lost device: reset their console password and require MFA before anything else (an IAM policy denying all without `aws:MultiFactorAuthPresent`)."),
                common::quarantine_principal(),
            ])
            .recover([
                note("Have the user register a new device (hardware or passkey) and confirm it is theirs."),
                common::review_credentials(),
                common::record_outcome(),
            ])
            .escalate(Contact::IdentityAdmins, "to confirm a device replacement")
            .escalate(Contact::SecurityOnCall, "when the user did not do it"),
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
            runbook: Runbook::new(
                "{principal} obtained federation tokens (sts:GetFederationToken).",
                "Federated-user sessions last up to 36 hours and keep working after the calling key is disabled, so attackers mint them to outlive credential rotation.",
            )
            .triage([
                common::read_event(),
                sh("List calls made by federated users of this IAM user (their ARNs are `…:federated-user/<name>`).", "aws cloudtrail lookup-events --region {region} --lookup-attributes AttributeKey=EventName,AttributeValue=GetFederationToken --start-time {start} --end-time {end}"),
                common::key_activity(),
                common::principal_activity(),
                common::confirm_with_owner(),
            ])
            .contain([
                note("Disabling the key does not end federated sessions already issued: deny the IAM user everything, which also denies every federation token it issued."),
                common::quarantine_principal(),
                common::disable_key(),
            ])
            .recover([
                note("Legacy federation brokers should move to IAM Identity Center or roles; then deny sts:GetFederationToken by SCP."),
                common::review_credentials(),
                common::record_outcome(),
            ])
            .escalate(Contact::SecurityOnCall, "when the user is not a known federation broker")
            .escalate(Contact::IdentityAdmins, "to confirm the broker"),
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
            runbook: Runbook::new(
                "The trust policy of role {target_role} was rewritten by {principal}.",
                "The trust policy decides who can become the role: adding an outside account, a wildcard or an unconditioned OIDC provider turns the role into a backdoor that survives every credential rotation.",
            )
            .triage([
                sh("Read the role's trust policy now.", "aws iam get-role --role-name {target_role} --query Role.AssumeRolePolicyDocument"),
                common::read_event(),
                note("Compare the principals in the new policy with the organization's accounts: an outsider also raises RD-EXP-012. Infrastructure as code leaves a matching pipeline run."),
                sh("Who assumed the role since the change.", "aws cloudtrail lookup-events --region {region} --lookup-attributes AttributeKey=ResourceName,AttributeValue={target_role} --start-time {start} --end-time {end}"),
                common::principal_activity(),
            ])
            .contain([
                sh("Restore the previous trust policy (from the repository, or the event history's earlier UpdateAssumeRolePolicy).", "aws iam update-assume-role-policy --role-name {target_role} --policy-document file://trust-policy.json"),
                sh("Revoke sessions opened through the changed trust.", "aws iam attach-role-policy --role-name {target_role} --policy-arn arn:aws:iam::aws:policy/AWSDenyAll").respond("quarantine-principal"),
            ])
            .recover([
                note("Review what sessions of the role did after the change and undo it; then detach AWSDenyAll."),
                common::record_outcome(),
            ])
            .escalate(Contact::AccountOwner, "to confirm the change against its pipeline")
            .escalate(Contact::SecurityOnCall, "when an outside principal was added"),
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
        runbook: Runbook::new(
            "IAM user {target_user} was created in {account}, although people sign in through IAM Identity Center.",
            "IAM users carry long-lived passwords and keys outside the identity provider's lifecycle (no offboarding, no central MFA): attackers create one as a durable foothold.",
        )
        .triage([
            sh("Read the new user and its credentials.", "aws iam get-user --user-name {target_user}"),
            sh("Keys and console password created for it.", "aws iam list-access-keys --user-name {target_user}"),
            sh("Its permissions.", "aws iam list-attached-user-policies --user-name {target_user}"),
            common::read_event(),
            common::principal_activity(),
            common::confirm_with_owner(),
        ])
        .contain([
            sh("Deny the user everything until it is explained.", "aws iam attach-user-policy --user-name {target_user} --policy-arn arn:aws:iam::aws:policy/AWSDenyAll").respond("quarantine-principal"),
            sh("Remove its console password.", "aws iam delete-login-profile --user-name {target_user}").respond("delete-login-profile"),
        ])
        .recover([
            note("If the user is legitimate (a system that cannot assume roles), document it; if IAM users are normal here, set `uses_sso = false` in `[detect]`. Otherwise delete its keys, profile and policies, then the user."),
            common::record_outcome(),
        ])
        .escalate(Contact::IdentityAdmins, "to confirm the user")
        .escalate(Contact::SecurityOnCall, "when nobody owns it"),
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
