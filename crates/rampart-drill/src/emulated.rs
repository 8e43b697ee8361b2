//! FOR TESTS ONLY (feature `testing`): the CloudTrail record AWS would write for a call of the
//! drill's own log. The emulator writes no CloudTrail, so its tests turn the drill's call log
//! into records with this and put them where the drill's `--events` feed reads. Production
//! verification never uses it: a drill that made up its own evidence would prove nothing.

use crate::run::Call;
use serde_json::{Value, json};

/// The record of `call`, made in `account` and `region` by an assumed role (the drill runs as a
/// role in the sandbox account). A failed call carries AWS's `AccessDenied` shape.
pub fn cloudtrail_record(call: &Call, account: &str, region: &str, seq: usize) -> Value {
    let time = chrono::DateTime::from_timestamp_millis(call.at_ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let mut rec = json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROADRILLTEST:rampart-drill",
            "arn": format!("arn:aws:sts::{account}:assumed-role/OrganizationAccountAccessRole/rampart-drill"),
            "accountId": account,
            "accessKeyId": "ASIADRILLTEST",
            "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "OrganizationAccountAccessRole",
                "arn": format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole"), "accountId": account}}
        },
        "eventTime": time,
        "eventSource": call.event_source,
        "eventName": call.event_name,
        "awsRegion": region,
        "sourceIPAddress": "127.0.0.1",
        "userAgent": "rampart-drill-emulator-test",
        "requestParameters": call.params,
        "responseElements": Value::Null,
        "requestID": call.request_id.clone().unwrap_or_default(),
        "eventID": format!("00000000-0000-4000-8000-{:012}", seq),
        "eventType": "AwsApiCall",
        "readOnly": false,
        "managementEvent": true,
        "recipientAccountId": account,
    });
    if call.error.is_some() {
        rec["errorCode"] = json!("AccessDenied");
        rec["errorMessage"] = json!("refused");
    }
    rec
}
