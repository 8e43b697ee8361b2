//! Sign-in events as CloudTrail records them, for the tests of every rule that reads them (the
//! CIS 4.x sign-in rules, the identity rules and the sign-in failure detector): an IAM user or
//! root with and without MFA, sessions federated through SAML, OIDC and IAM Identity Center,
//! a role session that was itself opened with MFA, failures, and Identity Center's own
//! sign-in steps. The shapes follow AWS's documentation of console sign-in events and the real
//! `ConsoleLogin` records of the corpora.

use super::ev;
use serde_json::{Value, json};

pub(crate) const SIGNIN: &str = "signin.amazonaws.com";

/// A `ConsoleLogin` of `identity` with `outcome` (`Success` / `Failure`) and, when given,
/// `additionalEventData.MFAUsed`.
pub(crate) fn console_login(identity: Value, outcome: &str, mfa: Option<&str>) -> Value {
    let mut extra = json!({
        "eventType": "AwsConsoleSignIn",
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "responseElements": {"ConsoleLogin": outcome},
        "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No"},
    });
    if let Some(m) = mfa {
        extra["additionalEventData"]["MFAUsed"] = json!(m);
    }
    if outcome == "Failure" {
        extra["errorMessage"] = json!("Failed authentication");
    }
    let mut e = ev(SIGNIN, "ConsoleLogin", extra);
    // replaced whole: `ev` merges objects, and a sign-in's identity has no access key
    e["userIdentity"] = identity;
    e
}

/// An IAM user as a sign-in records it (`userName` as typed, in `account`).
pub(crate) fn iam_user(account: &str, name: &str) -> Value {
    json!({"type": "IAMUser", "principalId": "AIDAEXAMPLEUSER", "accountId": account,
        "arn": format!("arn:aws:iam::{account}:user/{name}"), "userName": name})
}

/// The root user of `account`.
pub(crate) fn root(account: &str) -> Value {
    json!({"type": "Root", "principalId": account, "accountId": account,
        "arn": format!("arn:aws:iam::{account}:root")})
}

/// A failed sign-in with a user name that does not exist: AWS hides what was typed.
pub(crate) fn hidden_user(account: &str) -> Value {
    json!({"type": "IAMUser", "principalId": "", "accountId": account,
        "userName": "HIDDEN_DUE_TO_SECURITY_REASONS"})
}

/// A role session (`AssumedRole`) of `role` named `session`, with its `sessionContext`.
fn role_session(role: &str, session: &str, mfa: &str, federation: Value) -> Value {
    json!({"type": "AssumedRole", "principalId": format!("AROAEXAMPLEROLE:{session}"),
        "arn": format!("arn:aws:sts::111122223333:assumed-role/{role}/{session}"),
        "accountId": "111122223333",
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEROLE",
                "arn": format!("arn:aws:iam::111122223333:role/{role}"), "accountId": "111122223333", "userName": role},
            "webIdFederationData": federation,
            "attributes": {"creationDate": "2024-07-31T13:06:20Z", "mfaAuthenticated": mfa}}})
}

/// Console sign-ins of federated sessions (`MFAUsed` is `No`: MFA, if any, happened at the
/// identity provider) and of a role session opened with MFA; none is "without MFA".
pub(crate) fn federated_sign_ins() -> Vec<Value> {
    let saml = {
        let mut e = console_login(
            role_session("Admins", "alice@example.com", "false", json!({})),
            "Success",
            Some("No"),
        );
        e["additionalEventData"]["SamlProviderArn"] =
            json!("arn:aws:iam::111122223333:saml-provider/Okta");
        e
    };
    let oidc = console_login(
        role_session(
            "web-console",
            "alice",
            "false",
            json!({"federatedProvider": "arn:aws:iam::111122223333:oidc-provider/accounts.google.com"}),
        ),
        "Success",
        Some("No"),
    );
    let identity_center = console_login(
        role_session(
            "AWSReservedSSO_AdministratorAccess_0123456789abcdef",
            "alice@example.com",
            "false",
            json!({}),
        ),
        "Success",
        Some("No"),
    );
    let federated_user = console_login(
        json!({"type": "FederatedUser", "principalId": "111122223333:alice",
            "arn": "arn:aws:sts::111122223333:federated-user/alice", "accountId": "111122223333",
            "sessionContext": {"sessionIssuer": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/broker",
                "accountId": "111122223333", "userName": "broker"},
                "attributes": {"creationDate": "2024-07-31T13:06:20Z", "mfaAuthenticated": "false"}}}),
        "Success",
        Some("No"),
    );
    // an IAM user who signed in with MFA switching to a role: the session carries it
    let mfa_session = console_login(
        role_session("ops", "alice", "true", json!({})),
        "Success",
        None,
    );
    vec![saml, oidc, identity_center, federated_user, mfa_session]
}

/// One of IAM Identity Center's sign-in steps (`CredentialChallenge`, `CredentialVerification`,
/// `UserAuthentication`) for `user`, with its result in `serviceEventDetails`.
pub(crate) fn identity_center_step(step: &str, user: &str, result: &str) -> Value {
    let mut e = ev(
        SIGNIN,
        step,
        json!({
            "eventType": "AwsServiceEvent",
            "serviceEventDetails": {step: result},
            "additionalEventData": {"AuthWorkflowID": "9b4ab8cb-0000-4000-8000-000000000001",
                "CredentialType": "PASSWORD", "UserName": user},
            "requestParameters": null,
            "responseElements": null,
        }),
    );
    e["userIdentity"] = json!({"type": "Unknown", "principalId": "111122223333", "accountId": "111122223333", "userName": user});
    e
}
