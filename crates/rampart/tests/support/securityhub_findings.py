"""Imports Security Hub findings into moto (BatchImportFindings) for the findings intake test.

usage: securityhub_findings.py ENDPOINT ACTION
  import  - enables Security Hub in us-east-1 and imports two findings (NEW)
  resolve - re-imports the first with Workflow.Status RESOLVED and a later UpdatedAt
Prints the caller's account id.
"""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from moto_client import make_client  # noqa: E402

endpoint, action = sys.argv[1], sys.argv[2]
client = make_client(endpoint)
account = client("sts").get_caller_identity()["Account"]
hub = client("securityhub", "us-east-1")


def finding(n, updated, workflow):
    return {
        "SchemaVersion": "2018-10-08",
        "Id": f"arn:aws:securityhub:us-east-1:{account}:finding/intake-{n}",
        "ProductArn": f"arn:aws:securityhub:us-east-1:{account}:product/{account}/default",
        "ProductName": "Default",
        "GeneratorId": f"intake-test-{n}",
        "AwsAccountId": account,
        "Region": "us-east-1",
        "Types": ["Software and Configuration Checks/Vulnerabilities/CVE"] if n == 1 else ["TTPs/Initial Access"],
        "CreatedAt": "2026-12-01T10:00:00.000Z",
        "UpdatedAt": updated,
        "Severity": {"Label": "HIGH"},
        "Title": f"intake test finding {n}",
        "Description": "imported by the findings intake emulator test",
        "Resources": [{"Type": "AwsEc2Instance", "Id": f"i-0000000000000000{n}", "Region": "us-east-1"}],
        "Workflow": {"Status": workflow},
        "RecordState": "ACTIVE",
    }


if action == "import":
    try:
        hub.enable_security_hub()
    except hub.exceptions.ResourceConflictException:
        pass
    out = hub.batch_import_findings(Findings=[
        finding(1, "2026-12-01T10:00:00.000Z", "NEW"),
        finding(2, "2026-12-01T10:05:00.000Z", "NEW"),
    ])
elif action == "resolve":
    out = hub.batch_import_findings(Findings=[finding(1, "2026-12-01T11:00:00.000Z", "RESOLVED")])
else:
    sys.exit(f"unknown action {action}")
if out["FailedCount"]:
    sys.exit(f"import failed: {out['FailedFindings']}")
print(account)
