"""Out-of-band operations on a moto organization, for the baseline (plan/apply) end-to-end test.

Usage: baseline_ops.py ENDPOINT bare   -> a fresh organization (all features) with one member account
       baseline_ops.py ENDPOINT drift  -> four out-of-band changes; prints what it changed as JSON
       baseline_ops.py ENDPOINT census -> OU, SCP and account names with their counts (duplicates show)
       baseline_ops.py ENDPOINT fix-ebs ACCOUNT REGION -> EBS default encryption enabled out of band
       baseline_ops.py ENDPOINT report-targets -> an SNS topic and a bucket for the weekly report
       baseline_ops.py ENDPOINT list-reports -> the keys under s3://rampart-reports/weekly/
       baseline_ops.py ENDPOINT drop-assignment ACCOUNT_NAME PERMISSION_SET GROUP
           -> that Identity Center assignment deleted out of band (sso-admin, identity store)
       baseline_ops.py ENDPOINT identity-census -> permission sets, groups, assignments
       baseline_ops.py ENDPOINT rcp-census      -> rampart's RCPs, their targets, the policy types
       baseline_ops.py ENDPOINT detach-rcp NAME -> detach an RCP from its OUs out of band
"""
import json, sys
from moto_client import make_client

E, CMD = sys.argv[1], sys.argv[2]
client = make_client(E)


org = client("organizations")


def member(name):
    acct = next(a["Id"] for a in org.list_accounts()["Accounts"] if a["Name"] == name)
    creds = client("sts").assume_role(RoleArn=f"arn:aws:iam::{acct}:role/OrganizationAccountAccessRole",
                                      RoleSessionName="drift")["Credentials"]
    return acct, creds


if CMD == "bare":
    org.create_organization(FeatureSet="ALL")
    org.create_account(Email="legacy@example.com", AccountName="Legacy")
    print(json.dumps({"ok": True}))
elif CMD == "drift":
    pol = next(p for p in org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
               if p["Name"] == "rampart-workloads-1")
    target = org.list_targets_for_policy(PolicyId=pol["Id"])["Targets"][0]["TargetId"]
    org.detach_policy(PolicyId=pol["Id"], TargetId=target)
    audit, creds = member("Audit")
    client("ec2", "eu-west-1", creds).disable_ebs_encryption_by_default()
    la, la_creds = member("Log Archive")
    gd = client("guardduty", "us-east-1", la_creds)
    gd.delete_detector(DetectorId=gd.list_detectors()["DetectorIds"][0])
    client("cloudtrail").stop_logging(Name="rampart-org-trail")
    print(json.dumps({"audit": audit, "log_archive": la}))
elif CMD == "fix-ebs":
    acct, region = sys.argv[3], sys.argv[4]
    creds = client("sts").assume_role(RoleArn=f"arn:aws:iam::{acct}:role/OrganizationAccountAccessRole",
                                      RoleSessionName="fix")["Credentials"]
    client("ec2", region, creds).enable_ebs_encryption_by_default()
    print(json.dumps({"account": acct, "region": region}))
elif CMD == "report-targets":
    topic = client("sns").create_topic(Name="rampart-weekly")["TopicArn"]
    client("s3").create_bucket(Bucket="rampart-reports")
    print(json.dumps({"topic": topic}))
elif CMD == "list-reports":
    objs = client("s3").list_objects_v2(Bucket="rampart-reports", Prefix="weekly/").get("Contents", [])
    print(json.dumps({"keys": [o["Key"] for o in objs]}))
elif CMD == "rcp-census":
    root = org.list_roots()["Roots"][0]
    out = {"types": sorted(t["Type"] for t in root["PolicyTypes"] if t["Status"] == "ENABLED"),
           "rcps": {}}
    ous = {}
    def walk(parent):
        for ou in org.list_organizational_units_for_parent(ParentId=parent)["OrganizationalUnits"]:
            ous[ou["Id"]] = ou["Name"]
            walk(ou["Id"])
    walk(root["Id"])
    for p in org.list_policies(Filter="RESOURCE_CONTROL_POLICY")["Policies"]:
        if not p["Name"].startswith("rampart-"):
            continue
        content = json.loads(org.describe_policy(PolicyId=p["Id"])["Policy"]["Content"])
        targets = sorted(ous.get(t["TargetId"], t["TargetId"])
                         for t in org.list_targets_for_policy(PolicyId=p["Id"])["Targets"])
        out["rcps"][p["Name"]] = {"targets": targets, "statements": len(content["Statement"])}
    print(json.dumps(out))
elif CMD == "detach-rcp":
    pol = next(p for p in org.list_policies(Filter="RESOURCE_CONTROL_POLICY")["Policies"]
               if p["Name"] == sys.argv[3])
    for t in org.list_targets_for_policy(PolicyId=pol["Id"])["Targets"]:
        org.detach_policy(PolicyId=pol["Id"], TargetId=t["TargetId"])
    print(json.dumps({"ok": True}))
elif CMD in ("drop-assignment", "identity-census"):
    sso = client("sso-admin")
    inst = sso.list_instances()["Instances"][0]
    arn, store = inst["InstanceArn"], inst["IdentityStoreId"]
    sets = {sso.describe_permission_set(InstanceArn=arn, PermissionSetArn=p)["PermissionSet"]["Name"]: p
            for p in sso.list_permission_sets(InstanceArn=arn)["PermissionSets"]}
    groups = {g["DisplayName"]: g["GroupId"]
              for g in client("identitystore").list_groups(IdentityStoreId=store)["Groups"]}
    assignments = []
    for name, gid in groups.items():
        for a in sso.list_account_assignments_for_principal(
                InstanceArn=arn, PrincipalId=gid, PrincipalType="GROUP")["AccountAssignments"]:
            assignments.append(a)
    if CMD == "identity-census":
        print(json.dumps({"permission_sets": sorted(sets), "groups": sorted(groups),
                          "assignments": len(assignments)}))
    else:
        name, ps, group = sys.argv[3], sys.argv[4], sys.argv[5]
        acct = next(a["Id"] for a in org.list_accounts()["Accounts"] if a["Name"] == name)
        sso.delete_account_assignment(InstanceArn=arn, TargetId=acct, TargetType="AWS_ACCOUNT",
                                      PermissionSetArn=sets[ps], PrincipalType="GROUP",
                                      PrincipalId=groups[group])
        print(json.dumps({"account": acct}))
elif CMD == "census":
    roots = org.list_roots()["Roots"]
    ous, queue = [], [roots[0]["Id"]]
    while queue:
        parent = queue.pop()
        for ou in org.list_organizational_units_for_parent(ParentId=parent)["OrganizationalUnits"]:
            ous.append(ou["Name"])
            queue.append(ou["Id"])
    policies = [p["Name"] for p in org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]]
    accounts = [a["Name"] for a in org.list_accounts()["Accounts"]]
    print(json.dumps({"ous": ous, "policies": policies, "accounts": accounts}))
