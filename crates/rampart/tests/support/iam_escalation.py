"""A standalone moto account with a known privilege escalation, for `rampart iam paths`.

Usage: iam_escalation.py ENDPOINT -> prints {"account": ID} as JSON

User `dev` has only the customer managed policy `dev-tools`, which lets it create new versions of
itself (iam:CreatePolicyVersion, the classic escalation); user `auditor` reads; role `Admin` has
full admin and trusts the account; group `ops` has an inline policy and `auditor` in it.
"""
import json, sys
from moto_client import make_client

client = make_client(sys.argv[1])
iam = client("iam")
account = client("sts").get_caller_identity()["Account"]


def doc(statements):
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


tools = iam.create_policy(PolicyName="dev-tools", PolicyDocument=doc([
    {"Sid": "Versions", "Effect": "Allow", "Action": "iam:CreatePolicyVersion",
     "Resource": f"arn:aws:iam::{account}:policy/dev-tools"},
    {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"},
]))["Policy"]["Arn"]
iam.create_user(UserName="dev")
iam.attach_user_policy(UserName="dev", PolicyArn=tools)

iam.create_user(UserName="auditor")
iam.create_group(GroupName="ops")
iam.put_group_policy(GroupName="ops", PolicyName="read", PolicyDocument=doc([
    {"Sid": "Read", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}]))
iam.add_user_to_group(GroupName="ops", UserName="auditor")

iam.create_role(RoleName="Admin", AssumeRolePolicyDocument=doc([
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole",
     "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]))
# moto loads no AWS managed policies by default: a customer managed equivalent.
admin = iam.create_policy(PolicyName="full-admin", PolicyDocument=doc([
    {"Effect": "Allow", "Action": "*", "Resource": "*"}]))["Policy"]["Arn"]
iam.attach_role_policy(RoleName="Admin", PolicyArn=admin)
print(json.dumps({"account": account}))
