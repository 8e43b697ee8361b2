//! From each service's JSON to a [`Finding`]. The shapes are the services' API responses as
//! the AWS CLI prints them (PascalCase for GuardDuty, Security Hub and Config; camelCase for
//! Access Analyzer); GuardDuty's EventBridge `detail` (camelCase) is read too. The mapping
//! tables are in docs/findings.md. A finding without an id or an update time is an error
//! naming what is missing; every other field is optional.

use crate::{Finding, Service, Status};
use rampart_detect::ir::Severity;
use serde_json::Value;

/// Reads a member by its PascalCase name, or the same name in camelCase.
fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let obj = v.as_object()?;
    if let Some(x) = obj.get(key) {
        return Some(x);
    }
    let mut camel = String::with_capacity(key.len());
    let mut chars = key.chars();
    if let Some(c) = chars.next() {
        camel.extend(c.to_lowercase());
    }
    camel.extend(chars);
    obj.get(&camel)
}

fn path<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(v, |v, k| get(v, k))
}

fn text(v: &Value, keys: &[&str]) -> Option<String> {
    match path(v, keys)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn need(v: &Value, keys: &[&str], service: Service) -> Result<String, String> {
    text(v, keys).ok_or_else(|| {
        format!(
            "{} finding without `{}` (id {})",
            service.as_str(),
            keys.join("."),
            text(v, &["Id"]).unwrap_or_else(|| "unknown".into())
        )
    })
}

/// GuardDuty's 0.1–10 severity: low below 4, medium below 7, high below 9, critical above;
/// below 1 is informational.
pub fn guardduty_severity(score: f64) -> Severity {
    match score {
        s if s >= 9.0 => Severity::Critical,
        s if s >= 7.0 => Severity::High,
        s if s >= 4.0 => Severity::Medium,
        s if s >= 1.0 => Severity::Low,
        _ => Severity::Info,
    }
}

/// One GuardDuty finding (`GetFindings` `Findings[]`, or an EventBridge event's `detail`).
pub fn guardduty(v: &Value) -> Result<Finding, String> {
    let s = Service::GuardDuty;
    let id = need(v, &["Id"], s)?;
    let finding_type = need(v, &["Type"], s)?;
    let updated_at = need(v, &["UpdatedAt"], s)?;
    let score = get(v, "Severity").and_then(Value::as_f64).unwrap_or(0.0);
    let archived = path(v, &["Service", "Archived"])
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let res = get(v, "Resource").cloned().unwrap_or(Value::Null);
    let resource = text(&res, &["AccessKeyDetails", "AccessKeyId"])
        .or_else(|| text(&res, &["InstanceDetails", "InstanceId"]))
        .or_else(|| {
            path(&res, &["S3BucketDetails"])
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(|b| text(b, &["Arn"]).or_else(|| text(b, &["Name"])))
        })
        .or_else(|| text(&res, &["EksClusterDetails", "Arn"]))
        .or_else(|| text(&res, &["RdsDbInstanceDetails", "DbInstanceArn"]))
        .or_else(|| text(&res, &["LambdaDetails", "FunctionArn"]))
        .or_else(|| text(&res, &["AccessKeyDetails", "UserName"]));
    let action = path(v, &["Service", "Action"])
        .cloned()
        .unwrap_or(Value::Null);
    let source_ip = [
        "AwsApiCallAction",
        "NetworkConnectionAction",
        "PortProbeAction",
    ]
    .iter()
    .find_map(|a| text(&action, &[a, "RemoteIpDetails", "IpAddressV4"]));
    Ok(Finding {
        service: s,
        title: text(v, &["Title"]).unwrap_or_else(|| finding_type.clone()),
        description: text(v, &["Description"]).unwrap_or_default(),
        severity: guardduty_severity(score),
        account: text(v, &["AccountId"]),
        region: text(v, &["Region"]),
        resource,
        resource_type: text(&res, &["ResourceType"]),
        principal: text(&res, &["AccessKeyDetails", "PrincipalId"]),
        source_ip,
        created_at: text(v, &["CreatedAt"]),
        count: path(v, &["Service", "Count"])
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .max(1),
        status: if archived {
            Status::Closed
        } else {
            Status::Open
        },
        state: if archived { "ARCHIVED" } else { "ACTIVE" }.to_string(),
        product: Some("GuardDuty".into()),
        id,
        finding_type,
        updated_at,
    })
}

/// Security Hub's severity: its label, else its normalized 0–100 score.
fn securityhub_severity(v: &Value) -> Severity {
    if let Some(label) = text(v, &["Severity", "Label"])
        && let Some(s) = Severity::parse(&label)
    {
        return s;
    }
    match path(v, &["Severity", "Normalized"]).and_then(Value::as_f64) {
        Some(n) if n >= 90.0 => Severity::Critical,
        Some(n) if n >= 70.0 => Severity::High,
        Some(n) if n >= 40.0 => Severity::Medium,
        Some(n) if n >= 1.0 => Severity::Low,
        _ => Severity::Info,
    }
}

/// One Security Hub finding (ASFF, `GetFindings` `Findings[]`). Its type is `Types[0]`, else
/// its `GeneratorId`; archived records and resolved or suppressed workflows are closed.
pub fn securityhub(v: &Value) -> Result<Finding, String> {
    let s = Service::SecurityHub;
    let id = need(v, &["Id"], s)?;
    let updated_at = need(v, &["UpdatedAt"], s)?;
    let finding_type = get(v, "Types")
        .and_then(Value::as_array)
        .and_then(|t| t.first())
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .or_else(|| text(v, &["GeneratorId"]))
        .ok_or_else(|| format!("securityhub finding {id} without `Types` or `GeneratorId`"))?;
    let record = text(v, &["RecordState"]).unwrap_or_else(|| "ACTIVE".into());
    let workflow = text(v, &["Workflow", "Status"])
        .or_else(|| text(v, &["WorkflowState"]))
        .unwrap_or_else(|| "NEW".into());
    let closed = record == "ARCHIVED" || workflow == "RESOLVED" || workflow == "SUPPRESSED";
    let first_resource = get(v, "Resources")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .cloned()
        .unwrap_or(Value::Null);
    let product = text(v, &["ProductName"])
        .or_else(|| text(v, &["ProductFields", "aws/securityhub/ProductName"]))
        .or_else(|| {
            text(v, &["ProductArn"]).and_then(|a| a.rsplit('/').next().map(str::to_string))
        });
    Ok(Finding {
        service: s,
        title: text(v, &["Title"]).unwrap_or_else(|| finding_type.clone()),
        description: text(v, &["Description"]).unwrap_or_default(),
        severity: securityhub_severity(v),
        account: text(v, &["AwsAccountId"]),
        region: text(v, &["Region"]).or_else(|| text(&first_resource, &["Region"])),
        resource: text(&first_resource, &["Id"]),
        resource_type: text(&first_resource, &["Type"]),
        principal: None,
        source_ip: text(v, &["Network", "SourceIpV4"]),
        created_at: text(v, &["CreatedAt"]),
        count: 1,
        status: if closed { Status::Closed } else { Status::Open },
        state: format!("{workflow}/{record}"),
        product,
        id,
        finding_type,
        updated_at,
    })
}

/// One IAM Access Analyzer finding (`ListFindingsV2`/`GetFindingV2`, or `ListFindings`),
/// with the `region` the caller read it in. External access is `external-access`; unused
/// access is `unused-access:<findingType>`.
pub fn access_analyzer(v: &Value) -> Result<Finding, String> {
    let s = Service::AccessAnalyzer;
    let id = need(v, &["id"], s)?;
    let updated_at = need(v, &["updatedAt"], s)?;
    let kind = text(v, &["findingType"]).unwrap_or_else(|| "ExternalAccess".into());
    let finding_type = match kind.as_str() {
        "ExternalAccess" => "external-access".to_string(),
        "InternalAccess" => "internal-access".to_string(),
        other => format!("unused-access:{other}"),
    };
    let public = get(v, "isPublic").and_then(Value::as_bool).unwrap_or(false);
    let severity = match finding_type.as_str() {
        "external-access" if public => Severity::Critical,
        "external-access" => Severity::High,
        "internal-access" => Severity::Medium,
        _ => Severity::Low,
    };
    let status = text(v, &["status"]).unwrap_or_else(|| "ACTIVE".into());
    let resource_type = text(v, &["resourceType"]);
    let title = match finding_type.as_str() {
        "external-access" if public => "Resource shared publicly".to_string(),
        "external-access" => "Resource shared outside the zone of trust".to_string(),
        "internal-access" => "Resource reachable inside the organization".to_string(),
        _ => format!("Unused access ({kind})"),
    };
    let principal = get(v, "principal")
        .and_then(Value::as_object)
        .and_then(|p| p.values().find_map(Value::as_str).map(str::to_string));
    Ok(Finding {
        service: s,
        description: format!(
            "{title}: {} {}",
            resource_type.as_deref().unwrap_or("resource"),
            text(v, &["resource"]).unwrap_or_default()
        ),
        title,
        severity,
        account: text(v, &["resourceOwnerAccount"]),
        region: text(v, &["region"]),
        resource: text(v, &["resource"]),
        resource_type,
        principal,
        source_ip: None,
        created_at: text(v, &["createdAt"]),
        count: 1,
        status: if status == "ACTIVE" {
            Status::Open
        } else {
            Status::Closed
        },
        state: status,
        product: Some("IAM Access Analyzer".into()),
        id,
        finding_type,
        updated_at,
    })
}

/// One AWS Config evaluation (`GetComplianceDetailsByConfigRule` `EvaluationResults[]`, or
/// an aggregator's `AggregateEvaluationResults[]`), with the `AccountId`/`AwsRegion` the caller
/// read it in when the result does not carry them. Its id is rule/resource type/resource
/// id/account/region; non-compliant is open, anything else closes it.
pub fn config(v: &Value) -> Result<Finding, String> {
    let s = Service::Config;
    let q = ["EvaluationResultIdentifier", "EvaluationResultQualifier"];
    let rule = need(v, &[q[0], q[1], "ConfigRuleName"], s)?;
    let resource_type = text(v, &[q[0], q[1], "ResourceType"]);
    let resource = text(v, &[q[0], q[1], "ResourceId"]);
    let updated_at = text(v, &["ResultRecordedTime"])
        .or_else(|| text(v, &[q[0], "OrderingTimestamp"]))
        .ok_or_else(|| format!("config evaluation of rule {rule} without `ResultRecordedTime`"))?;
    let account = text(v, &["AccountId"]);
    let region = text(v, &["AwsRegion"]);
    let compliance = text(v, &["ComplianceType"]).unwrap_or_else(|| "NON_COMPLIANT".into());
    Ok(Finding {
        service: s,
        id: format!(
            "{rule}/{}/{}/{}/{}",
            resource_type.as_deref().unwrap_or(""),
            resource.as_deref().unwrap_or(""),
            account.as_deref().unwrap_or(""),
            region.as_deref().unwrap_or("")
        ),
        title: format!("Config rule {rule} non-compliant"),
        description: text(v, &["Annotation"]).unwrap_or_else(|| {
            format!(
                "{} {} does not comply with Config rule {rule}",
                resource_type.as_deref().unwrap_or("resource"),
                resource.as_deref().unwrap_or("")
            )
        }),
        severity: Severity::Medium,
        account,
        region,
        resource,
        resource_type,
        principal: None,
        source_ip: None,
        created_at: text(v, &["ConfigRuleInvokedTime"]),
        count: 1,
        status: if compliance == "NON_COMPLIANT" {
            Status::Open
        } else {
            Status::Closed
        },
        state: compliance,
        product: Some("AWS Config".into()),
        finding_type: rule,
        updated_at,
    })
}

/// One finding of `service`.
pub fn finding(service: Service, v: &Value) -> Result<Finding, String> {
    match service {
        Service::GuardDuty => guardduty(v),
        Service::SecurityHub => securityhub(v),
        Service::AccessAnalyzer => access_analyzer(v),
        Service::Config => config(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn guardduty_maps_type_severity_resource_and_archive() {
        let v = json!({
            "Id": "f1", "Type": "Recon:IAMUser/MaliciousIPCaller", "Severity": 5.0,
            "AccountId": "111122223333", "Region": "eu-west-1", "UpdatedAt": "2026-12-01T10:00:00.000Z",
            "CreatedAt": "2026-12-01T09:00:00.000Z", "Title": "API called from a known malicious IP",
            "Resource": {"ResourceType": "AccessKey", "AccessKeyDetails": {"AccessKeyId": "AKIAEXAMPLE", "UserName": "alice", "PrincipalId": "AIDAEXAMPLE"}},
            "Service": {"Count": 3, "Archived": false, "Action": {"AwsApiCallAction": {"RemoteIpDetails": {"IpAddressV4": "198.51.100.7"}}}}
        });
        let f = guardduty(&v).unwrap();
        assert_eq!(f.finding_type, "Recon:IAMUser/MaliciousIPCaller");
        assert_eq!(f.severity, Severity::Medium);
        assert_eq!(f.resource.as_deref(), Some("AKIAEXAMPLE"));
        assert_eq!(f.source_ip.as_deref(), Some("198.51.100.7"));
        assert_eq!((f.count, f.status), (3, Status::Open));
        let mut archived = v.clone();
        archived["Service"]["Archived"] = json!(true);
        assert_eq!(guardduty(&archived).unwrap().status, Status::Closed);
        // EventBridge detail: camelCase
        let detail = json!({"id": "f2", "type": "CryptoCurrency:EC2/BitcoinTool.B!DNS", "severity": 8.0, "updatedAt": "2026-12-01T10:00:00Z", "service": {"count": 2}});
        let f = guardduty(&detail).unwrap();
        assert_eq!((f.severity, f.count), (Severity::High, 2));
        assert!(
            guardduty(&json!({"Id": "x"}))
                .unwrap_err()
                .contains("`Type`")
        );
    }

    #[test]
    fn guardduty_severity_bands() {
        for (s, want) in [
            (0.5, Severity::Info),
            (1.0, Severity::Low),
            (3.9, Severity::Low),
            (4.0, Severity::Medium),
            (7.0, Severity::High),
            (8.9, Severity::High),
            (9.0, Severity::Critical),
        ] {
            assert_eq!(guardduty_severity(s), want, "{s}");
        }
    }

    #[test]
    fn securityhub_maps_type_product_and_workflow() {
        let v = json!({
            "Id": "arn:aws:securityhub:eu-west-1:111122223333:subscription/x/1", "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/inspector",
            "GeneratorId": "gen", "AwsAccountId": "111122223333", "Types": ["Software and Configuration Checks/Vulnerabilities/CVE"],
            "UpdatedAt": "2026-12-01T10:00:00Z", "Severity": {"Label": "HIGH"}, "Title": "CVE",
            "Resources": [{"Type": "AwsEc2Instance", "Id": "i-0abc", "Region": "eu-west-1"}],
            "Workflow": {"Status": "NEW"}, "RecordState": "ACTIVE"
        });
        let f = securityhub(&v).unwrap();
        assert_eq!(
            f.finding_type,
            "Software and Configuration Checks/Vulnerabilities/CVE"
        );
        assert_eq!(f.product.as_deref(), Some("inspector"));
        assert_eq!(
            (f.severity, f.status, f.region.as_deref()),
            (Severity::High, Status::Open, Some("eu-west-1"))
        );
        let mut resolved = v.clone();
        resolved["Workflow"]["Status"] = json!("RESOLVED");
        assert_eq!(securityhub(&resolved).unwrap().status, Status::Closed);
        let mut no_types = v.clone();
        no_types["Types"] = json!([]);
        no_types["Severity"] = json!({"Normalized": 95});
        let f = securityhub(&no_types).unwrap();
        assert_eq!(
            (f.finding_type.as_str(), f.severity),
            ("gen", Severity::Critical)
        );
    }

    #[test]
    fn access_analyzer_external_and_unused() {
        let ext = json!({"id": "a1", "resource": "arn:aws:s3:::b", "resourceType": "AWS::S3::Bucket", "isPublic": true,
            "status": "ACTIVE", "updatedAt": "2026-12-01T10:00:00Z", "resourceOwnerAccount": "111122223333", "region": "us-east-1",
            "principal": {"AWS": "*"}});
        let f = access_analyzer(&ext).unwrap();
        assert_eq!(
            (f.finding_type.as_str(), f.severity),
            ("external-access", Severity::Critical)
        );
        assert_eq!(f.principal.as_deref(), Some("*"));
        let unused = json!({"id": "a2", "resource": "arn:aws:iam::111122223333:role/old", "findingType": "UnusedIAMRole",
            "status": "ARCHIVED", "updatedAt": "2026-12-01T10:00:00Z"});
        let f = access_analyzer(&unused).unwrap();
        assert_eq!(f.finding_type, "unused-access:UnusedIAMRole");
        assert_eq!((f.severity, f.status), (Severity::Low, Status::Closed));
    }

    #[test]
    fn config_noncompliance() {
        let v = json!({"EvaluationResultIdentifier": {"EvaluationResultQualifier": {"ConfigRuleName": "s3-bucket-public-read-prohibited",
            "ResourceType": "AWS::S3::Bucket", "ResourceId": "b"}, "OrderingTimestamp": "2026-12-01T09:00:00Z"},
            "ComplianceType": "NON_COMPLIANT", "ResultRecordedTime": "2026-12-01T10:00:00Z", "AccountId": "111122223333", "AwsRegion": "us-east-1"});
        let f = config(&v).unwrap();
        assert_eq!(f.finding_type, "s3-bucket-public-read-prohibited");
        assert_eq!(
            f.id,
            "s3-bucket-public-read-prohibited/AWS::S3::Bucket/b/111122223333/us-east-1"
        );
        assert_eq!(f.status, Status::Open);
        let mut ok = v.clone();
        ok["ComplianceType"] = json!("COMPLIANT");
        assert_eq!(config(&ok).unwrap().status, Status::Closed);
    }

    #[test]
    fn alerts_and_ocsf_carry_the_finding() {
        let f = guardduty(&json!({"Id": "f1", "Type": "Recon:IAMUser/MaliciousIPCaller", "Severity": 8.0,
            "AccountId": "111122223333", "Region": "eu-west-1", "UpdatedAt": "2026-12-01T10:00:00Z"}))
        .unwrap();
        let a = f.to_alert();
        assert_eq!(a.rule_source().to_string(), "guardduty");
        assert_eq!(a.rule_id(), "Recon:IAMUser/MaliciousIPCaller");
        assert_eq!(a.event_id(), Some("f1"));
        assert_eq!(
            a.id(),
            rampart_detect::alert::alert_id(
                "guardduty",
                "Recon:IAMUser/MaliciousIPCaller",
                Some("f1"),
                Some("111122223333")
            )
        );
        let line: Value = serde_json::from_str(&a.to_json_line()).unwrap();
        assert_eq!(line["rule_source"], "guardduty");
        assert_eq!(line["severity"], "high");
        let o = f.to_ocsf(crate::Activity::Update);
        assert_eq!(o["class_uid"], 2004);
        assert_eq!(o["type_uid"], 200402);
        assert_eq!(
            o["finding_info"]["types"][0],
            "Recon:IAMUser/MaliciousIPCaller"
        );
        assert_eq!(o["time"], 1_796_119_200_000_i64);
    }
}
