"""Drill canaries in a sandbox account of the emulator, through its own API (emulator_drill.rs).

usage: drill_check.py ENDPOINT ACCOUNT list           -> {"users": [...], "buckets": [...], "trails": [...]}
       drill_check.py ENDPOINT ACCOUNT seed-leftover  -> a canary bucket as an interrupted drill leaves it
"""
import json
import sys

from moto_client import make_client

PREFIX = "rampart-drill-"


def main():
    endpoint, account, action = sys.argv[1:4]
    client = make_client(endpoint)
    creds = client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="drill-check"
    )["Credentials"]
    iam, s3, ct = (client(s, creds=creds) for s in ("iam", "s3", "cloudtrail"))
    if action == "seed-leftover":
        s3.create_bucket(Bucket=PREFIX + "pub-interrupted")
        s3.put_object(Bucket=PREFIX + "pub-interrupted", Key="x", Body=b"x")
        iam.create_user(UserName=PREFIX + "ak-interrupted")
        iam.create_access_key(UserName=PREFIX + "ak-interrupted")
        return
    users = [u["UserName"] for u in iam.list_users()["Users"] if u["UserName"].startswith(PREFIX)]
    buckets = [b["Name"] for b in s3.list_buckets().get("Buckets", []) if b["Name"].startswith(PREFIX)]
    trails = [t["Name"] for t in ct.describe_trails()["trailList"] if t["Name"].startswith(PREFIX)]
    print(json.dumps({"users": users, "buckets": buckets, "trails": trails}))


main()
