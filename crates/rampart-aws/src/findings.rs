//! Findings intake on the AWS SDK: [`AwsFindings`] reads GuardDuty, Security Hub, IAM Access
//! Analyzer and AWS Config from the Audit account (the services' delegated administrator) and
//! hands each finding to rampart-findings as the service's JSON. Every call is read-only and is
//! listed in policies/rampart-readonly.json.

use crate::access::{Access, Counters, describe, pages};
use crate::{CollectError, CollectOptions};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rampart_findings::Service;
use rampart_findings::source::FindingSource;
use serde_json::{Value, json};
use std::sync::Arc;

/// A blocking session in the Audit account.
pub struct AwsFindings {
    runtime: tokio::runtime::Runtime,
    access: Access,
}

/// One line for a failed call: the API, the account and region, the error, and what to check.
fn failed<E>(api: &str, account: &str, region: &str, e: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (code, message) = describe(e);
    format!(
        "{api} in account {account} region {region} failed ({code}: {message}); check the service is enabled there and the role may call it"
    )
}

impl AwsFindings {
    /// Credentials as `collect` loads them; when `audit_account` is another account than the
    /// caller's, `role_name` is assumed in it.
    pub fn connect(
        opts: &CollectOptions,
        audit_account: Option<&str>,
    ) -> Result<AwsFindings, CollectError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CollectError::Runtime(e.to_string()))?;
        let access = runtime.block_on(async {
            let mut base = Access::from_env(opts, Arc::new(Counters::default())).await?;
            let me = base.caller_identity().await?;
            base.account_id = me.account_id.clone();
            match audit_account {
                Some(a) if a != me.account_id => base
                    .assume(a, &opts.role_name)
                    .await
                    .map_err(|e| CollectError::Options(e.message)),
                _ => Ok(base),
            }
        })?;
        Ok(AwsFindings { runtime, access })
    }

    /// The account findings are read in.
    pub fn account(&self) -> &str {
        &self.access.account_id
    }

    fn guardduty(&self, region: &str, since: Option<&str>) -> Result<Vec<Value>, String> {
        use aws_sdk_guardduty::types::{Condition, FindingCriteria};
        let acct = self.account();
        let c = self.access.guardduty(region);
        self.runtime.block_on(async {
            let detectors = pages!(c.list_detectors())
                .map_err(|e| failed("guardduty:ListDetectors", acct, region, &e))?;
            let mut out = Vec::new();
            for id in detectors.iter().flat_map(|p| p.detector_ids()) {
                let mut req = c.list_findings().detector_id(id);
                if let Some(ms) = since.and_then(rampart_trail_time).map(|s| s * 1000) {
                    let crit = FindingCriteria::builder()
                        .criterion(
                            "updatedAt",
                            Condition::builder().greater_than_or_equal(ms).build(),
                        )
                        .build();
                    req = req.finding_criteria(crit);
                }
                let ids: Vec<String> = pages!(req)
                    .map_err(|e| failed("guardduty:ListFindings", acct, region, &e))?
                    .iter()
                    .flat_map(|p| p.finding_ids().iter().cloned())
                    .collect();
                for chunk in ids.chunks(50) {
                    let got = c
                        .get_findings()
                        .detector_id(id)
                        .set_finding_ids(Some(chunk.to_vec()))
                        .send()
                        .await
                        .map_err(|e| failed("guardduty:GetFindings", acct, region, &e))?;
                    out.extend(got.findings().iter().map(guardduty_json));
                }
            }
            Ok(out)
        })
    }

    fn securityhub(&self, region: &str, since: Option<&str>) -> Result<Vec<Value>, String> {
        use aws_sdk_securityhub::types::{AwsSecurityFindingFilters, DateFilter};
        let acct = self.account();
        let c = self.access.securityhub(region);
        self.runtime.block_on(async {
            let mut req = c.get_findings().max_results(100);
            if let Some(s) = since {
                req = req.filters(
                    AwsSecurityFindingFilters::builder()
                        .updated_at(
                            DateFilter::builder()
                                .start(s)
                                .end("2999-12-31T23:59:59Z")
                                .build(),
                        )
                        .build(),
                );
            }
            let pages =
                pages!(req).map_err(|e| failed("securityhub:GetFindings", acct, region, &e))?;
            Ok(pages
                .iter()
                .flat_map(|p| p.findings())
                .map(securityhub_json)
                .collect())
        })
    }

    fn access_analyzer(&self, region: &str, since: Option<&str>) -> Result<Vec<Value>, String> {
        use aws_sdk_accessanalyzer::types::Type;
        let acct = self.account();
        let c = self.access.accessanalyzer(region);
        let newer = |t: &str| since.is_none_or(|s| !rampart_findings::intake::is_newer(s, t));
        self.runtime.block_on(async {
            let analyzers = pages!(c.list_analyzers())
                .map_err(|e| failed("access-analyzer:ListAnalyzers", acct, region, &e))?;
            let mut out = Vec::new();
            for a in analyzers.iter().flat_map(|p| p.analyzers()) {
                let arn = a.arn();
                let external = matches!(a.r#type(), Type::Account | Type::Organization);
                if external {
                    let pages = pages!(c.list_findings().analyzer_arn(arn))
                        .map_err(|e| failed("access-analyzer:ListFindings", acct, region, &e))?;
                    for f in pages.iter().flat_map(|p| p.findings()) {
                        let v = json!({
                            "id": f.id(), "resource": f.resource(), "resourceType": f.resource_type().as_str(),
                            "resourceOwnerAccount": f.resource_owner_account(), "status": f.status().as_str(),
                            "isPublic": f.is_public(), "principal": f.principal(),
                            "createdAt": date(f.created_at()), "updatedAt": date(f.updated_at()),
                            "findingType": "ExternalAccess", "region": region,
                        });
                        if newer(&date(f.updated_at())) {
                            out.push(v);
                        }
                    }
                } else {
                    let pages = pages!(c.list_findings_v2().analyzer_arn(arn))
                        .map_err(|e| failed("access-analyzer:ListFindingsV2", acct, region, &e))?;
                    for f in pages.iter().flat_map(|p| p.findings()) {
                        let v = json!({
                            "id": f.id(), "resource": f.resource(), "resourceType": f.resource_type().as_str(),
                            "resourceOwnerAccount": f.resource_owner_account(), "status": f.status().as_str(),
                            "createdAt": date(f.created_at()), "updatedAt": date(f.updated_at()),
                            "findingType": f.finding_type().map(|t| t.as_str()), "region": region,
                        });
                        if newer(&date(f.updated_at())) {
                            out.push(v);
                        }
                    }
                }
            }
            Ok(out)
        })
    }

    fn config(&self, region: &str, since: Option<&str>) -> Result<Vec<Value>, String> {
        use aws_sdk_config::types::ComplianceType;
        let acct = self.account().to_string();
        let c = self.access.config_service(region);
        let newer = |t: &str| since.is_none_or(|s| !rampart_findings::intake::is_newer(s, t));
        self.runtime.block_on(async {
            let rules = pages!(c.describe_compliance_by_config_rule())
                .map_err(|e| failed("config:DescribeComplianceByConfigRule", &acct, region, &e))?;
            let mut out = Vec::new();
            for rule in rules
                .iter()
                .flat_map(|p| p.compliance_by_config_rules())
                .filter_map(|r| r.config_rule_name())
            {
                let details = pages!(
                    c.get_compliance_details_by_config_rule()
                        .config_rule_name(rule)
                        .compliance_types(ComplianceType::NonCompliant)
                        .compliance_types(ComplianceType::Compliant)
                )
                .map_err(|e| {
                    failed("config:GetComplianceDetailsByConfigRule", &acct, region, &e)
                })?;
                for r in details.iter().flat_map(|p| p.evaluation_results()) {
                    let q = r
                        .evaluation_result_identifier()
                        .and_then(|i| i.evaluation_result_qualifier());
                    let recorded = r.result_recorded_time().map(date).unwrap_or_default();
                    if !newer(&recorded) {
                        continue;
                    }
                    out.push(json!({
                        "EvaluationResultIdentifier": {"EvaluationResultQualifier": {
                            "ConfigRuleName": q.and_then(|q| q.config_rule_name()).unwrap_or(rule),
                            "ResourceType": q.and_then(|q| q.resource_type()),
                            "ResourceId": q.and_then(|q| q.resource_id()),
                        }},
                        "ComplianceType": r.compliance_type().map(|t| t.as_str()),
                        "ResultRecordedTime": recorded,
                        "ConfigRuleInvokedTime": r.config_rule_invoked_time().map(date),
                        "Annotation": r.annotation(),
                        "AccountId": acct, "AwsRegion": region,
                    }));
                }
            }
            Ok(out)
        })
    }
}

impl FindingSource for AwsFindings {
    fn findings(
        &self,
        service: Service,
        region: &str,
        since: Option<&str>,
    ) -> Result<Vec<Value>, String> {
        match service {
            Service::GuardDuty => self.guardduty(region, since),
            Service::SecurityHub => self.securityhub(region, since),
            Service::AccessAnalyzer => self.access_analyzer(region, since),
            Service::Config => self.config(region, since),
        }
    }

    /// The aggregation region from the first finding aggregator's ARN
    /// (`arn:aws:securityhub:REGION:ACCOUNT:finding-aggregator/ID`).
    fn securityhub_aggregator(&self, home: &str) -> Result<Option<String>, String> {
        let acct = self.account();
        let c = self.access.securityhub(home);
        self.runtime.block_on(async {
            let out = c
                .list_finding_aggregators()
                .send()
                .await
                .map_err(|e| failed("securityhub:ListFindingAggregators", acct, home, &e))?;
            Ok(out
                .finding_aggregators()
                .iter()
                .filter_map(|a| a.finding_aggregator_arn())
                .find_map(|arn| arn.split(':').nth(3).map(str::to_string))
                .filter(|r| !r.is_empty()))
        })
    }
}

fn rampart_trail_time(s: &str) -> Option<i64> {
    rampart_findings::intake::epoch_seconds(s)
}

fn date(d: &aws_smithy_types::DateTime) -> String {
    d.fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

/// A GuardDuty finding in the CLI's shape (the members normalization reads).
fn guardduty_json(f: &aws_sdk_guardduty::types::Finding) -> Value {
    let r = f.resource();
    let key = r.and_then(|r| r.access_key_details());
    let action = f.service().and_then(|s| s.action());
    let ip = action.and_then(|a| {
        a.aws_api_call_action()
            .and_then(|x| x.remote_ip_details())
            .or_else(|| {
                a.network_connection_action()
                    .and_then(|x| x.remote_ip_details())
            })
            .and_then(|d| d.ip_address_v4())
    });
    json!({
        "Id": f.id(), "Type": f.r#type(), "Severity": f.severity(), "AccountId": f.account_id(),
        "Region": f.region(), "CreatedAt": f.created_at(), "UpdatedAt": f.updated_at(),
        "Title": f.title(), "Description": f.description(),
        "Resource": {
            "ResourceType": r.and_then(|r| r.resource_type()),
            "AccessKeyDetails": key.map(|k| json!({"AccessKeyId": k.access_key_id(), "UserName": k.user_name(), "PrincipalId": k.principal_id()})),
            "InstanceDetails": r.and_then(|r| r.instance_details()).map(|i| json!({"InstanceId": i.instance_id()})),
            "S3BucketDetails": r.map(|r| r.s3_bucket_details().iter().map(|b| json!({"Arn": b.arn(), "Name": b.name()})).collect::<Vec<_>>()),
        },
        "Service": {
            "Count": f.service().and_then(|s| s.count()),
            "Archived": f.service().and_then(|s| s.archived()),
            "Action": {"AwsApiCallAction": {"RemoteIpDetails": {"IpAddressV4": ip}}},
        },
    })
}

/// A Security Hub finding (ASFF), the members normalization reads.
fn securityhub_json(f: &aws_sdk_securityhub::types::AwsSecurityFinding) -> Value {
    json!({
        "Id": f.id(), "ProductArn": f.product_arn(), "ProductName": f.product_name(),
        "GeneratorId": f.generator_id(), "AwsAccountId": f.aws_account_id(), "Types": f.types(),
        "CreatedAt": f.created_at(), "UpdatedAt": f.updated_at(), "Region": f.region(),
        "Severity": f.severity().map(|s| json!({"Label": s.label().map(|l| l.as_str()), "Normalized": s.normalized()})),
        "Title": f.title(), "Description": f.description(),
        "Resources": f.resources().iter().map(|r| json!({"Type": r.r#type(), "Id": r.id(), "Region": r.region()})).collect::<Vec<_>>(),
        "Workflow": f.workflow().map(|w| json!({"Status": w.status().map(|s| s.as_str())})),
        "RecordState": f.record_state().map(|s| s.as_str()),
    })
}
