"""Targets for `rampart respond` in a running moto server, and their state read back through
moto's own API (boto3), for tests/emulator_respond.rs.

Usage:
  respond_fixture.py ENDPOINT setup   -> JSON: account ids, access key, instance, ...
  respond_fixture.py ENDPOINT state ACCOUNT MEMBER INSTANCE  -> JSON: the state each action changes
"""
import json, sys
from moto_client import make_client

E, CMD = sys.argv[1], sys.argv[2]
R = "us-east-1"
client = make_client(E)


def creds_for(acct):
    r = client("sts").assume_role(RoleArn=f"arn:aws:iam::{acct}:role/OrganizationAccountAccessRole",
                                  RoleSessionName="fixture")
    return r["Credentials"]


TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]})
PUBLIC = {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
          "Resource": "arn:aws:s3:::public-data/*"}
PRIVATE = {"Sid": "Private", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
           "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::public-data"}


def setup():
    out = {"account": client("sts").get_caller_identity()["Account"]}
    org = client("organizations")
    org.create_organization(FeatureSet="ALL")
    out["member"] = org.create_account(Email="member@example.com", AccountName="Member")[
        "CreateAccountStatus"]["AccountId"]
    iam = client("iam")
    for u in ["alice", "emergency"]:
        iam.create_user(UserName=u)
        iam.create_login_profile(UserName=u, Password="Correct-horse-1!")
    out["key"] = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    for r in ["Dev", "BreakGlass"]:
        iam.create_role(RoleName=r, AssumeRolePolicyDocument=TRUST)
    client("iam", creds=creds_for(out["member"])).create_role(RoleName="Dev", AssumeRolePolicyDocument=TRUST)

    s3 = client("s3")
    s3.create_bucket(Bucket="trail-logs")
    ct = client("cloudtrail")
    ct.create_trail(Name="org-trail", S3BucketName="trail-logs")
    ct.put_event_selectors(TrailName="org-trail", EventSelectors=[
        {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": False}])
    # created, never started: logging is off

    gd = client("guardduty")
    out["detector"] = gd.create_detector(Enable=False)["DetectorId"]

    cfg = client("config")
    cfg.put_configuration_recorder(ConfigurationRecorder={
        "name": "default", "roleARN": "arn:aws:iam::123456789012:role/config",
        "recordingGroup": {"allSupported": True}})
    cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "trail-logs"})

    s3.create_bucket(Bucket="public-data")
    s3.put_bucket_policy(Bucket="public-data", Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": [PUBLIC, PRIVATE]}))

    ec2 = client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    web = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    # groups on the interface: moto adds launch-time SecurityGroupIds to every interface's groups
    # for good, so ModifyNetworkInterfaceAttribute could never replace them there (README gaps)
    inst = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                             NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "Groups": [web]}])["Instances"][0]
    out["instance"] = inst["InstanceId"]
    out["web_group"] = web
    print(json.dumps(out))


def policies(iam, kind, name):
    if kind == "user":
        return sorted(iam.list_user_policies(UserName=name)["PolicyNames"])
    return sorted(iam.list_role_policies(RoleName=name)["PolicyNames"])


def state():
    account, member, instance = sys.argv[3:6]
    iam = client("iam")
    out = {}
    out["key_status"] = iam.list_access_keys(UserName="alice")["AccessKeyMetadata"][0]["Status"]
    try:
        iam.get_login_profile(UserName="alice")
        out["alice_login_profile"] = True
    except iam.exceptions.NoSuchEntityException:
        out["alice_login_profile"] = False
    out["alice_policies"] = policies(iam, "user", "alice")
    out["emergency_policies"] = policies(iam, "user", "emergency")
    out["dev_policies"] = policies(iam, "role", "Dev")
    out["breakglass_policies"] = policies(iam, "role", "BreakGlass")
    out["member_dev_policies"] = policies(client("iam", creds=creds_for(member)), "role", "Dev")
    ct = client("cloudtrail")
    out["trail_logging"] = ct.get_trail_status(Name="org-trail")["IsLogging"]
    out["selectors"] = ct.get_event_selectors(TrailName="org-trail").get("EventSelectors", [])
    gd = client("guardduty")
    out["detector_status"] = gd.get_detector(DetectorId=gd.list_detectors()["DetectorIds"][0])["Status"]
    out["recording"] = client("config").describe_configuration_recorder_status()[
        "ConfigurationRecordersStatus"][0]["recording"]
    s3 = client("s3")
    try:
        out["bucket_pab"] = s3.get_public_access_block(Bucket="public-data")["PublicAccessBlockConfiguration"]
    except s3.exceptions.ClientError:
        out["bucket_pab"] = None
    # the account id goes in the host name on AWS; moto is reached path-style
    s3c = client("s3control")

    def path_style(request, **_):
        request.url = request.url.replace(f"//{account}.", "//")
    s3c.meta.events.register("before-send.s3-control.*", path_style)
    try:
        out["account_pab"] = s3c.get_public_access_block(AccountId=account)["PublicAccessBlockConfiguration"]
    except s3c.exceptions.ClientError:
        out["account_pab"] = None
    try:
        out["policy_sids"] = sorted(s["Sid"] for s in json.loads(
            s3.get_bucket_policy(Bucket="public-data")["Policy"])["Statement"])
    except s3.exceptions.ClientError:
        out["policy_sids"] = []
    ec2 = client("ec2")
    i = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]
    out["instance_groups"] = sorted(g["GroupId"] for n in i["NetworkInterfaces"] for g in n["Groups"])
    q = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["rampart-quarantine"]}])["SecurityGroups"]
    out["quarantine_group"] = [{"id": g["GroupId"], "ingress": len(g["IpPermissions"]),
                                "egress": len(g["IpPermissionsEgress"])} for g in q]
    vols = [b["Ebs"]["VolumeId"] for b in i.get("BlockDeviceMappings", [])]
    out["volumes"] = len(vols)
    out["snapshots"] = len(ec2.describe_snapshots(Filters=[{"Name": "volume-id", "Values": vols}])["Snapshots"]) if vols else 0
    print(json.dumps(out))


{"setup": setup, "state": state}[CMD]()
