"""Out-of-band operations on central alerting in moto's Audit account (tests/emulator_alerting.rs).

Usage: alerting_ops.py ENDPOINT census              -> rampart's rules (pattern, state, targets),
                                                       the alert topic's policy, Security Hub members
       alerting_ops.py ENDPOINT delete-rule NAME     -> the rule deleted (its targets first)
       alerting_ops.py ENDPOINT remove-target NAME   -> the rule's targets removed
       alerting_ops.py ENDPOINT open-topic TOPIC     -> the topic's policy replaced by one open to all
"""
import json, sys
from moto_client import make_client

E, CMD = sys.argv[1], sys.argv[2]
client = make_client(E)
org = client("organizations")
audit = next(a["Id"] for a in org.list_accounts()["Accounts"] if a["Name"] == "Audit")
creds = client("sts").assume_role(RoleArn=f"arn:aws:iam::{audit}:role/OrganizationAccountAccessRole",
                                  RoleSessionName="alerting")["Credentials"]
events = client("events", creds=creds)
sns = client("sns", creds=creds)
hub = client("securityhub", creds=creds)

if CMD == "census":
    rules = {}
    for r in events.list_rules(NamePrefix="rampart-alert-")["Rules"]:
        targets = events.list_targets_by_rule(Rule=r["Name"])["Targets"]
        rules[r["Name"]] = {"pattern": json.loads(r["EventPattern"]), "state": r["State"],
                            "targets": [t["Arn"] for t in targets]}
    topics = {}
    for t in sns.list_topics()["Topics"]:
        attrs = sns.get_topic_attributes(TopicArn=t["TopicArn"])["Attributes"]
        topics[t["TopicArn"]] = json.loads(attrs["Policy"])
    members = sorted(m["AccountId"] for m in hub.list_members(OnlyAssociated=True)["Members"])
    print(json.dumps({"audit": audit, "rules": rules, "topics": topics, "members": members}))
elif CMD == "delete-rule":
    name = sys.argv[3]
    ids = [t["Id"] for t in events.list_targets_by_rule(Rule=name)["Targets"]]
    if ids:
        events.remove_targets(Rule=name, Ids=ids)
    events.delete_rule(Name=name)
    print(json.dumps({"deleted": name}))
elif CMD == "remove-target":
    name = sys.argv[3]
    ids = [t["Id"] for t in events.list_targets_by_rule(Rule=name)["Targets"]]
    events.remove_targets(Rule=name, Ids=ids)
    print(json.dumps({"removed": ids}))
elif CMD == "open-topic":
    arn = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":" + sys.argv[3]))
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": arn}]}))
    print(json.dumps({"opened": arn}))
else:
    sys.exit(f"unknown command {CMD}")
