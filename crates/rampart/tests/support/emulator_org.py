"""Builds a known organization in a running moto server, for rampart's end-to-end tests.

Usage: emulator_org.py ENDPOINT  -> prints a JSON map of role -> account id.

Layout (regions us-east-1 and eu-west-1):
- management: org trail (multi-region, validation) to a bucket in Log Archive, CloudWatch Logs
  group with the CIS 4.5 filter + alarm + SNS topic with a subscription; SCP guardrail on the
  Workloads OU; GuardDuty admin = Audit.
- log-archive, audit, prod: compliant password policy, EBS default encryption, GuardDuty.
- test: no password policy, no EBS default encryption (deliberate gaps).
- sandbox: EBS default encryption only in us-east-1; a security group open to 0.0.0.0/0 on 22.
"""
import json, sys
from moto_client import make_client

E = sys.argv[1]
REGIONS = ["us-east-1", "eu-west-1"]
client = make_client(E)


org = client("organizations")
org.create_organization(FeatureSet="ALL")
root = org.list_roots()["Roots"][0]["Id"]
org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
security = org.create_organizational_unit(ParentId=root, Name="Security")["OrganizationalUnit"]["Id"]
workloads = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]["Id"]
sandbox_ou = org.create_organizational_unit(ParentId=root, Name="Sandbox")["OrganizationalUnit"]["Id"]

ids = {"management": client("sts").get_caller_identity()["Account"]}
for role, name, ou in [("log-archive", "Log Archive", security), ("audit", "Audit", security),
                       ("prod", "Workloads Prod", workloads), ("test", "Workloads Test", workloads),
                       ("sandbox", "Sandbox", sandbox_ou)]:
    acct = org.create_account(Email=f"{role}@example.com", AccountName=name)["CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=ou)
    ids[role] = acct


def creds_for(acct):
    if acct == ids["management"]:
        return None
    r = client("sts").assume_role(RoleArn=f"arn:aws:iam::{acct}:role/OrganizationAccountAccessRole",
                                  RoleSessionName="fixture")
    return r["Credentials"]


guard = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Deny", "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail",
                                 "cloudtrail:PutEventSelectors"],
    "Resource": "*", "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/BreakGlass"}}}]}
pid = org.create_policy(Content=json.dumps(guard), Description="protect trail", Name="protect-trail",
                        Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]["Id"]
org.attach_policy(PolicyId=pid, TargetId=workloads)
org.register_delegated_administrator(AccountId=ids["audit"], ServicePrincipal="guardduty.amazonaws.com")

for role, acct in ids.items():
    c = creds_for(acct)
    if role != "test":
        client("iam", creds=c).update_account_password_policy(MinimumPasswordLength=14, PasswordReusePrevention=24)
    for region in REGIONS:
        if role != "test" and not (role == "sandbox" and region == "eu-west-1"):
            client("ec2", region, c).enable_ebs_encryption_by_default()
        client("guardduty", region, c).create_detector(Enable=True)
    if role == "sandbox":
        ec2 = client("ec2", "us-east-1", c)
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        sg = ec2.create_security_group(GroupName="ssh-open", Description="x", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])

# Log Archive bucket, owned by the Log Archive account.
la = creds_for(ids["log-archive"])
s3 = client("s3", creds=la)
s3.create_bucket(Bucket="org-trail-logs")
s3.create_bucket(Bucket="org-trail-logs-access")
s3.put_bucket_policy(Bucket="org-trail-logs-access", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::org-trail-logs-access/*"}]}))
s3.put_bucket_versioning(Bucket="org-trail-logs", VersioningConfiguration={"Status": "Enabled"})
s3.put_bucket_logging(Bucket="org-trail-logs", BucketLoggingStatus={"LoggingEnabled": {
    "TargetBucket": "org-trail-logs-access", "TargetPrefix": "trail/"}})

# Organization trail in the management account, with CIS 4.5 monitoring on its log group.
logs = client("logs")
logs.create_log_group(logGroupName="org-trail")
lg_arn = f"arn:aws:logs:us-east-1:{ids['management']}:log-group:org-trail:*"
ct = client("cloudtrail")
ct.create_trail(Name="org-trail", S3BucketName="org-trail-logs", IsMultiRegionTrail=True, IsOrganizationTrail=True,
                EnableLogFileValidation=True, CloudWatchLogsLogGroupArn=lg_arn,
                CloudWatchLogsRoleArn=f"arn:aws:iam::{ids['management']}:role/trail-to-logs")
ct.start_logging(Name="org-trail")
logs.put_metric_filter(
    logGroupName="org-trail", filterName="cloudtrail-changes",
    filterPattern="{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
                  "($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    metricTransformations=[{"metricName": "CloudTrailChanges", "metricNamespace": "CISBenchmark", "metricValue": "1"}])
topic = client("sns").create_topic(Name="security-alerts")["TopicArn"]
client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:{ids['management']}:q")
client("cloudwatch").put_metric_alarm(
    AlarmName="cloudtrail-changes", MetricName="CloudTrailChanges", Namespace="CISBenchmark", Statistic="Sum",
    Period=300, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
    AlarmActions=[topic], ActionsEnabled=True)
print(json.dumps(ids))
