//! Table-driven correctness suite. Every case names the rule of the AWS IAM documentation it
//! exercises (files under ../shared/reference/aws-iam-docs and iam_eval_logic.md sections).

use rampart_policy::simulate::parse_simulations;
use rampart_policy::{Decision, evaluate, parse_policy};

fn pol(stmts: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{stmts}]}}"#)
}

use Decision::{Allowed as A, ExplicitlyDenied as X, ImplicitlyDenied as I};

/// Runs one simulate-format case.
fn check(rule: &str, sim: &str, want: Decision) {
    let sims = parse_simulations(sim).unwrap_or_else(|e| panic!("[{rule}] bad case: {e}\n{sim}"));
    for s in sims {
        let e = evaluate(&s.request, &s.policies);
        assert_eq!(e.decision, want, "[{rule}]\n{sim}\n{e:#?}");
    }
}

const ROLE: &str = "arn:aws:iam::111111111111:role/app";

/// A condition case: an identity policy allowing s3:GetObject under `cond`, request `ctx`.
fn cond(rule: &str, cond: &str, ctx: &str, holds: bool) {
    let sim = format!(
        r#"{{"request":{{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k","principal":"{ROLE}","context":{ctx}}},
            "identityPolicies":[{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{cond}}}}}]}}"#
    );
    check(rule, &sim, if holds { A } else { I });
    // The same condition on a Deny turns a holding condition into an explicit deny.
    let deny = format!(
        r#"{{"request":{{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k","principal":"{ROLE}","context":{ctx}}},
            "identityPolicies":[{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*"}},{{"Effect":"Deny","Action":"s3:GetObject","Resource":"*","Condition":{cond}}}]}}]}}"#
    );
    check(rule, &deny, if holds { X } else { A });
}

#[test]
fn condition_operators() {
    let rows: &[(&str, &str, &str, bool)] = &[
        // String operators [D-condop §String condition operators]
        (
            "D-condop String: StringEquals exact match",
            r#"{"StringEquals":{"aws:username":"bob"}}"#,
            r#"{"aws:username":"bob"}"#,
            true,
        ),
        (
            "D-condop String: StringEquals is case-sensitive",
            r#"{"StringEquals":{"aws:username":"bob"}}"#,
            r#"{"aws:username":"Bob"}"#,
            false,
        ),
        (
            "D-condop String: StringEquals has no wildcards",
            r#"{"StringEquals":{"aws:username":"b*"}}"#,
            r#"{"aws:username":"bob"}"#,
            false,
        ),
        (
            "D-condop String: StringEquals OR across values",
            r#"{"StringEquals":{"aws:username":["x","bob"]}}"#,
            r#"{"aws:username":"bob"}"#,
            true,
        ),
        (
            "D-condop line 10: missing key makes StringEquals false",
            r#"{"StringEquals":{"aws:username":"bob"}}"#,
            r#"{}"#,
            false,
        ),
        (
            "D-condop String: StringNotEquals different value",
            r#"{"StringNotEquals":{"aws:username":"bob"}}"#,
            r#"{"aws:username":"eve"}"#,
            true,
        ),
        (
            "D-condop String: StringNotEquals same value",
            r#"{"StringNotEquals":{"aws:username":"bob"}}"#,
            r#"{"aws:username":"bob"}"#,
            false,
        ),
        (
            "D-condop line 10: missing key makes negated operators true",
            r#"{"StringNotEquals":{"aws:username":"bob"}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-condop String: StringNotEquals NOR across values",
            r#"{"StringNotEquals":{"aws:username":["bob","eve"]}}"#,
            r#"{"aws:username":"eve"}"#,
            false,
        ),
        (
            "D-condop String: StringEqualsIgnoreCase",
            r#"{"StringEqualsIgnoreCase":{"aws:username":"BOB"}}"#,
            r#"{"aws:username":"bob"}"#,
            true,
        ),
        (
            "D-condop String: StringEqualsIgnoreCase mismatch",
            r#"{"StringEqualsIgnoreCase":{"aws:username":"BOB"}}"#,
            r#"{"aws:username":"bobby"}"#,
            false,
        ),
        (
            "D-condop String: StringNotEqualsIgnoreCase",
            r#"{"StringNotEqualsIgnoreCase":{"aws:username":"BOB"}}"#,
            r#"{"aws:username":"bob"}"#,
            false,
        ),
        (
            "D-condop String: StringNotEqualsIgnoreCase other",
            r#"{"StringNotEqualsIgnoreCase":{"aws:username":"BOB"}}"#,
            r#"{"aws:username":"eve"}"#,
            true,
        ),
        (
            "D-condop String: StringLike multi-char wildcard",
            r#"{"StringLike":{"s3:prefix":"home/*"}}"#,
            r#"{"s3:prefix":"home/bob/x"}"#,
            true,
        ),
        (
            "D-condop String: StringLike single-char wildcard",
            r#"{"StringLike":{"s3:prefix":"h?me"}}"#,
            r#"{"s3:prefix":"home"}"#,
            true,
        ),
        (
            "D-condop String: StringLike ? needs exactly one char",
            r#"{"StringLike":{"s3:prefix":"h?me"}}"#,
            r#"{"s3:prefix":"hme"}"#,
            false,
        ),
        (
            "D-condop String: StringLike is case-sensitive",
            r#"{"StringLike":{"s3:prefix":"Home/*"}}"#,
            r#"{"s3:prefix":"home/x"}"#,
            false,
        ),
        (
            "D-condop String: StringLike * matches empty",
            r#"{"StringLike":{"s3:prefix":"home/*"}}"#,
            r#"{"s3:prefix":"home/"}"#,
            true,
        ),
        (
            "D-condop String: StringNotLike",
            r#"{"StringNotLike":{"s3:prefix":"home/*"}}"#,
            r#"{"s3:prefix":"tmp/x"}"#,
            true,
        ),
        (
            "D-condop String: StringNotLike matching value",
            r#"{"StringNotLike":{"s3:prefix":"home/*"}}"#,
            r#"{"s3:prefix":"home/x"}"#,
            false,
        ),
        (
            "D-condop line 10: StringNotLike missing key true",
            r#"{"StringNotLike":{"s3:prefix":"home/*"}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-condition: condition key names are case-insensitive",
            r#"{"StringEquals":{"AWS:UserName":"bob"}}"#,
            r#"{"aws:username":"bob"}"#,
            true,
        ),
        (
            "D-condition: tag keys case-insensitive",
            r#"{"StringEquals":{"aws:ResourceTag/Team":"red"}}"#,
            r#"{"aws:resourcetag/team":"red"}"#,
            true,
        ),
        // Numeric [D-condop §Numeric]
        (
            "D-condop Numeric: NumericEquals",
            r#"{"NumericEquals":{"s3:max-keys":"10"}}"#,
            r#"{"s3:max-keys":"10"}"#,
            true,
        ),
        (
            "D-condop Numeric: NumericEquals compares numbers not text",
            r#"{"NumericEquals":{"s3:max-keys":"10"}}"#,
            r#"{"s3:max-keys":"10.0"}"#,
            true,
        ),
        (
            "D-condop Numeric: NumericEquals differs",
            r#"{"NumericEquals":{"s3:max-keys":"10"}}"#,
            r#"{"s3:max-keys":"11"}"#,
            false,
        ),
        (
            "D-condop Numeric: NumericNotEquals",
            r#"{"NumericNotEquals":{"s3:max-keys":"10"}}"#,
            r#"{"s3:max-keys":"11"}"#,
            true,
        ),
        (
            "D-condop Numeric: NumericNotEquals equal",
            r#"{"NumericNotEquals":{"s3:max-keys":"10"}}"#,
            r#"{"s3:max-keys":10}"#,
            false,
        ),
        (
            "D-condop Numeric: NumericLessThan",
            r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#,
            r#"{"s3:max-keys":9}"#,
            true,
        ),
        (
            "D-condop Numeric: NumericLessThan boundary",
            r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#,
            r#"{"s3:max-keys":10}"#,
            false,
        ),
        (
            "D-condop Numeric: NumericLessThanEquals boundary",
            r#"{"NumericLessThanEquals":{"s3:max-keys":"10"}}"#,
            r#"{"s3:max-keys":10}"#,
            true,
        ),
        (
            "D-condop Numeric: NumericLessThanEquals above",
            r#"{"NumericLessThanEquals":{"s3:max-keys":"10"}}"#,
            r#"{"s3:max-keys":11}"#,
            false,
        ),
        (
            "D-condop Numeric: NumericGreaterThan",
            r#"{"NumericGreaterThan":{"aws:MultiFactorAuthAge":"3600"}}"#,
            r#"{"aws:MultiFactorAuthAge":4000}"#,
            true,
        ),
        (
            "D-condop Numeric: NumericGreaterThan boundary",
            r#"{"NumericGreaterThan":{"aws:MultiFactorAuthAge":"3600"}}"#,
            r#"{"aws:MultiFactorAuthAge":3600}"#,
            false,
        ),
        (
            "D-condop Numeric: NumericGreaterThanEquals",
            r#"{"NumericGreaterThanEquals":{"aws:MultiFactorAuthAge":"3600"}}"#,
            r#"{"aws:MultiFactorAuthAge":"3600"}"#,
            true,
        ),
        (
            "D-condop Numeric: NumericGreaterThanEquals below",
            r#"{"NumericGreaterThanEquals":{"aws:MultiFactorAuthAge":"3600"}}"#,
            r#"{"aws:MultiFactorAuthAge":"1"}"#,
            false,
        ),
        (
            "D-condop Numeric: non-numeric request value does not match",
            r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#,
            r#"{"s3:max-keys":"ten"}"#,
            false,
        ),
        (
            "D-condop line 10: missing key makes Numeric false",
            r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#,
            r#"{}"#,
            false,
        ),
        (
            "D-condop line 10: NumericNotEquals missing key true",
            r#"{"NumericNotEquals":{"s3:max-keys":"10"}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-condop Numeric: decimals",
            r#"{"NumericLessThan":{"s3:TlsVersion":"1.2"}}"#,
            r#"{"s3:TlsVersion":"1.1"}"#,
            true,
        ),
        // Date [D-condop §Date]
        (
            "D-condop Date: DateEquals same instant different format",
            r#"{"DateEquals":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}"#,
            r#"{"aws:CurrentTime":"2024-01-01"}"#,
            true,
        ),
        (
            "D-condop Date: DateEquals differs",
            r#"{"DateEquals":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}"#,
            r#"{"aws:CurrentTime":"2024-01-02T00:00:00Z"}"#,
            false,
        ),
        (
            "D-condop Date: DateNotEquals",
            r#"{"DateNotEquals":{"aws:CurrentTime":"2024-01-01"}}"#,
            r#"{"aws:CurrentTime":"2024-01-02"}"#,
            true,
        ),
        (
            "D-condop Date: DateNotEquals equal",
            r#"{"DateNotEquals":{"aws:CurrentTime":"2024-01-01"}}"#,
            r#"{"aws:CurrentTime":"2024-01-01T00:00:00Z"}"#,
            false,
        ),
        (
            "D-condop Date: DateLessThan",
            r#"{"DateLessThan":{"aws:CurrentTime":"2024-06-30T00:00:00Z"}}"#,
            r#"{"aws:CurrentTime":"2024-01-01T00:00:00Z"}"#,
            true,
        ),
        (
            "D-condop Date: DateLessThan after",
            r#"{"DateLessThan":{"aws:CurrentTime":"2024-06-30T00:00:00Z"}}"#,
            r#"{"aws:CurrentTime":"2024-07-01T00:00:00Z"}"#,
            false,
        ),
        (
            "D-condop Date: DateLessThanEquals boundary",
            r#"{"DateLessThanEquals":{"aws:CurrentTime":"2024-06-30T00:00:00Z"}}"#,
            r#"{"aws:CurrentTime":"2024-06-30T00:00:00Z"}"#,
            true,
        ),
        (
            "D-condop Date: DateGreaterThan",
            r#"{"DateGreaterThan":{"aws:CurrentTime":"2024-06-30T00:00:00Z"}}"#,
            r#"{"aws:CurrentTime":"2024-07-01T10:00:00Z"}"#,
            true,
        ),
        (
            "D-condop Date: DateGreaterThan boundary",
            r#"{"DateGreaterThan":{"aws:CurrentTime":"2024-06-30T00:00:00Z"}}"#,
            r#"{"aws:CurrentTime":"2024-06-30T00:00:00Z"}"#,
            false,
        ),
        (
            "D-condop Date: DateGreaterThanEquals",
            r#"{"DateGreaterThanEquals":{"aws:CurrentTime":"2024-06-30T00:00:00Z"}}"#,
            r#"{"aws:CurrentTime":"2024-06-30T00:00:00Z"}"#,
            true,
        ),
        (
            "D-condop Date: time-zone offsets compare as instants",
            r#"{"DateEquals":{"aws:CurrentTime":"2024-06-30T02:00:00+02:00"}}"#,
            r#"{"aws:CurrentTime":"2024-06-30T00:00:00Z"}"#,
            true,
        ),
        (
            "D-condop Date: epoch seconds accepted",
            r#"{"DateGreaterThan":{"aws:EpochTime":"1700000000"}}"#,
            r#"{"aws:EpochTime":"1700000001"}"#,
            true,
        ),
        (
            "D-condop Date: no wildcards in dates",
            r#"{"DateEquals":{"aws:CurrentTime":"2024-*"}}"#,
            r#"{"aws:CurrentTime":"2024-01-01"}"#,
            false,
        ),
        (
            "D-condop line 10: missing key makes Date false",
            r#"{"DateLessThan":{"aws:CurrentTime":"2024-06-30"}}"#,
            r#"{}"#,
            false,
        ),
        (
            "D-condop line 10: DateNotEquals missing key true",
            r#"{"DateNotEquals":{"aws:CurrentTime":"2024-06-30"}}"#,
            r#"{}"#,
            true,
        ),
        // Bool [D-condop §Boolean]
        (
            "D-condop Bool: true matches true",
            r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
            r#"{"aws:SecureTransport":true}"#,
            true,
        ),
        (
            "D-condop Bool: false vs true",
            r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
            r#"{"aws:SecureTransport":false}"#,
            false,
        ),
        (
            "D-condop Bool: string request value",
            r#"{"Bool":{"aws:SecureTransport":"false"}}"#,
            r#"{"aws:SecureTransport":"false"}"#,
            true,
        ),
        (
            "D-condop Bool: policy boolean literal",
            r#"{"Bool":{"aws:SecureTransport":false}}"#,
            r#"{"aws:SecureTransport":false}"#,
            true,
        ),
        (
            "D-condop Bool: case-insensitive TRUE",
            r#"{"Bool":{"aws:MultiFactorAuthPresent":"TRUE"}}"#,
            r#"{"aws:MultiFactorAuthPresent":"true"}"#,
            true,
        ),
        (
            "D-condop line 10: missing key makes Bool false",
            r#"{"Bool":{"aws:MultiFactorAuthPresent":"false"}}"#,
            r#"{}"#,
            false,
        ),
        (
            "D-condop IfExists: BoolIfExists missing key true",
            r#"{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-condop IfExists: BoolIfExists present and false",
            r#"{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}"#,
            r#"{"aws:MultiFactorAuthPresent":true}"#,
            false,
        ),
        // Binary [D-condop §Binary]
        (
            "D-condop Binary: BinaryEquals base64 equal",
            r#"{"BinaryEquals":{"key":"QmluYXJ5VmFsdWU="}}"#,
            r#"{"key":"QmluYXJ5VmFsdWU="}"#,
            true,
        ),
        (
            "D-condop Binary: BinaryEquals different",
            r#"{"BinaryEquals":{"key":"QmluYXJ5VmFsdWU="}}"#,
            r#"{"key":"QQ=="}"#,
            false,
        ),
        (
            "D-condop line 10: missing key makes BinaryEquals false",
            r#"{"BinaryEquals":{"key":"QQ=="}}"#,
            r#"{}"#,
            false,
        ),
        // IP [D-condop §IP address]
        (
            "D-condop IP: IpAddress in v4 CIDR",
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            r#"{"aws:SourceIp":"203.0.113.7"}"#,
            true,
        ),
        (
            "D-condop IP: IpAddress outside v4 CIDR",
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            r#"{"aws:SourceIp":"203.0.114.7"}"#,
            false,
        ),
        (
            "D-condop IP: IpAddress single address",
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}"#,
            r#"{"aws:SourceIp":"203.0.113.7"}"#,
            true,
        ),
        (
            "D-condop IP: IpAddress v6 CIDR",
            r#"{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}"#,
            r#"{"aws:SourceIp":"2001:db8:1234:5678::1"}"#,
            true,
        ),
        (
            "D-condop IP: IpAddress v6 outside",
            r#"{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}"#,
            r#"{"aws:SourceIp":"2001:db8:1234:5679::1"}"#,
            false,
        ),
        (
            "D-condop IP: v4 request never in v6 block",
            r#"{"IpAddress":{"aws:SourceIp":"::/0"}}"#,
            r#"{"aws:SourceIp":"10.0.0.1"}"#,
            false,
        ),
        (
            "D-condop IP: IpAddress list of blocks (OR)",
            r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}"#,
            r#"{"aws:SourceIp":"2001:db8::5"}"#,
            true,
        ),
        (
            "D-condop IP: NotIpAddress outside",
            r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            r#"{"aws:SourceIp":"192.0.2.1"}"#,
            true,
        ),
        (
            "D-condop IP: NotIpAddress inside",
            r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            r#"{"aws:SourceIp":"10.2.3.4"}"#,
            false,
        ),
        (
            "D-condop line 10: NotIpAddress missing key true",
            r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-condop line 10: IpAddress missing key false",
            r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            r#"{}"#,
            false,
        ),
        (
            "D-condop IP: invalid request address does not match",
            r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            r#"{"aws:SourceIp":"vpce-123"}"#,
            false,
        ),
        // ARN [D-condop §ARN, l.290, l.307]
        (
            "D-condop ARN: ArnEquals exact",
            r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111111111111:t"}}"#,
            r#"{"aws:SourceArn":"arn:aws:sns:us-east-1:111111111111:t"}"#,
            true,
        ),
        (
            "D-condop ARN: ArnLike wildcard region",
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111111111111:t"}}"#,
            r#"{"aws:SourceArn":"arn:aws:sns:eu-west-1:111111111111:t"}"#,
            true,
        ),
        (
            "D-condop ARN l.290: ArnLike * does not cross segments",
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:t"}}"#,
            r#"{"aws:SourceArn":"arn:aws:sns:eu-west-1:111111111111:t"}"#,
            false,
        ),
        (
            "D-condop ARN l.307: StringLike * crosses segments",
            r#"{"StringLike":{"aws:SourceArn":"arn:aws:sns:*:t"}}"#,
            r#"{"aws:SourceArn":"arn:aws:sns:eu-west-1:111111111111:t"}"#,
            true,
        ),
        (
            "D-condop ARN: ArnLike is case-sensitive",
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin"}}"#,
            r#"{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/admin"}"#,
            false,
        ),
        (
            "D-condop ARN: ArnLike resource part may contain colons",
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:logs:*:*:log-group:x:*"}}"#,
            r#"{"aws:SourceArn":"arn:aws:logs:us-east-1:111111111111:log-group:x:log-stream:y"}"#,
            true,
        ),
        (
            "D-condop ARN: ArnEquals accepts wildcards like ArnLike",
            r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:*:111111111111:t"}}"#,
            r#"{"aws:SourceArn":"arn:aws:sns:eu-west-1:111111111111:t"}"#,
            true,
        ),
        (
            "D-condop ARN: ArnNotLike",
            r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin"}}"#,
            r#"{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/dev"}"#,
            true,
        ),
        (
            "D-condop ARN: ArnNotLike matching",
            r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin"}}"#,
            r#"{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/Admin"}"#,
            false,
        ),
        (
            "D-condop ARN: ArnNotEquals",
            r#"{"ArnNotEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111111111111:t"}}"#,
            r#"{"aws:SourceArn":"arn:aws:sns:us-east-1:111111111111:u"}"#,
            true,
        ),
        (
            "D-condop line 10: ArnNotLike missing key true",
            r#"{"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:*:t"}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-condop line 10: ArnLike missing key false",
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:t"}}"#,
            r#"{}"#,
            false,
        ),
        (
            "D-condop ARN: non-ARN request value does not match",
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:t"}}"#,
            r#"{"aws:SourceArn":"t"}"#,
            false,
        ),
        // Null [D-condop §Null]
        (
            "D-condop Null: true means key absent",
            r#"{"Null":{"aws:TokenIssueTime":"true"}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-condop Null: true fails when key present",
            r#"{"Null":{"aws:TokenIssueTime":"true"}}"#,
            r#"{"aws:TokenIssueTime":"2024-01-01"}"#,
            false,
        ),
        (
            "D-condop Null: false means key present",
            r#"{"Null":{"aws:TokenIssueTime":"false"}}"#,
            r#"{"aws:TokenIssueTime":"2024-01-01"}"#,
            true,
        ),
        (
            "D-condop Null: false fails when absent",
            r#"{"Null":{"aws:TokenIssueTime":"false"}}"#,
            r#"{}"#,
            false,
        ),
        (
            "D-condop Null: boolean literal accepted",
            r#"{"Null":{"aws:TokenIssueTime":true}}"#,
            r#"{}"#,
            true,
        ),
        // IfExists [D-condop §IfExists]
        (
            "D-condop IfExists: StringEqualsIfExists missing key true",
            r#"{"StringEqualsIfExists":{"ec2:InstanceType":"t2.micro"}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-condop IfExists: StringEqualsIfExists present match",
            r#"{"StringEqualsIfExists":{"ec2:InstanceType":"t2.micro"}}"#,
            r#"{"ec2:InstanceType":"t2.micro"}"#,
            true,
        ),
        (
            "D-condop IfExists: StringEqualsIfExists present mismatch",
            r#"{"StringEqualsIfExists":{"ec2:InstanceType":"t2.micro"}}"#,
            r#"{"ec2:InstanceType":"m5.large"}"#,
            false,
        ),
        (
            "D-condop IfExists: StringNotEqualsIfExists missing still true (Deny still denies)",
            r#"{"StringNotEqualsIfExists":{"aws:RequestedRegion":"eu-west-1"}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-condop IfExists: StringNotEqualsIfExists present equal",
            r#"{"StringNotEqualsIfExists":{"aws:RequestedRegion":"eu-west-1"}}"#,
            r#"{"aws:RequestedRegion":"eu-west-1"}"#,
            false,
        ),
        (
            "D-condop IfExists: NumericLessThanIfExists missing",
            r#"{"NumericLessThanIfExists":{"s3:max-keys":"10"}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-condop IfExists: DateLessThanIfExists missing",
            r#"{"DateLessThanIfExists":{"aws:CurrentTime":"2024-01-01"}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-condop IfExists: IpAddressIfExists missing",
            r#"{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-condop IfExists: IpAddressIfExists present outside",
            r#"{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            r#"{"aws:SourceIp":"192.0.2.1"}"#,
            false,
        ),
        (
            "D-condop IfExists: ArnLikeIfExists missing",
            r#"{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:sns:*:*:t"}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-condop IfExists: BinaryEqualsIfExists missing",
            r#"{"BinaryEqualsIfExists":{"k":"QQ=="}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-condop IfExists: operator names are case-insensitive",
            r#"{"stringequalsifexists":{"ec2:InstanceType":"t2.micro"}}"#,
            r#"{}"#,
            true,
        ),
        // Multi-value [D-multi]
        (
            "D-multi: ForAllValues every request value in the set",
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
            r#"{"aws:TagKeys":["a","b"]}"#,
            true,
        ),
        (
            "D-multi: ForAllValues subset",
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
            r#"{"aws:TagKeys":["a"]}"#,
            true,
        ),
        (
            "D-multi: ForAllValues one value outside",
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
            r#"{"aws:TagKeys":["a","c"]}"#,
            false,
        ),
        (
            "D-multi: ForAllValues true when key absent",
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-multi: ForAllValues true for empty set",
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}"#,
            r#"{"aws:TagKeys":[]}"#,
            true,
        ),
        (
            "D-multi: ForAnyValue one request value in the set",
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
            r#"{"aws:TagKeys":["x","b"]}"#,
            true,
        ),
        (
            "D-multi: ForAnyValue none in the set",
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
            r#"{"aws:TagKeys":["x","y"]}"#,
            false,
        ),
        (
            "D-multi: ForAnyValue false when key absent",
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["a"]}}"#,
            r#"{}"#,
            false,
        ),
        (
            "D-multi: ForAllValues true when the value is an empty string (null data set)",
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}"#,
            r#"{"aws:TagKeys":""}"#,
            true,
        ),
        (
            "D-multi: ForAnyValue false when the values are empty strings (null data set)",
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":[""]}}"#,
            r#"{"aws:TagKeys":[""]}"#,
            false,
        ),
        (
            "D-multi: without a qualifier an empty string is an ordinary value",
            r#"{"StringEquals":{"s3:prefix":""}}"#,
            r#"{"s3:prefix":""}"#,
            true,
        ),
        (
            "D-multi: ForAnyValue false for empty set",
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["a"]}}"#,
            r#"{"aws:TagKeys":[]}"#,
            false,
        ),
        (
            "D-multi: ForAnyValue:StringLike",
            r#"{"ForAnyValue:StringLike":{"aws:TagKeys":["env*"]}}"#,
            r#"{"aws:TagKeys":["x","environment"]}"#,
            true,
        ),
        (
            "D-multi: ForAllValues:StringLike",
            r#"{"ForAllValues:StringLike":{"aws:TagKeys":["env*","team"]}}"#,
            r#"{"aws:TagKeys":["env1","team"]}"#,
            true,
        ),
        (
            "D-multi: ForAllValues:StringNotEquals each value outside the set",
            r#"{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}"#,
            r#"{"aws:TagKeys":["a","b"]}"#,
            true,
        ),
        (
            "D-multi: ForAllValues:StringNotEquals fails if one value is in the set",
            r#"{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}"#,
            r#"{"aws:TagKeys":["a","secret"]}"#,
            false,
        ),
        (
            "D-multi: ForAnyValue:StringNotEquals some value outside",
            r#"{"ForAnyValue:StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}"#,
            r#"{"aws:RequestedRegion":"us-east-1"}"#,
            true,
        ),
        (
            "D-multi: ForAnyValue:StringNotEquals all inside",
            r#"{"ForAnyValue:StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}"#,
            r#"{"aws:RequestedRegion":"eu-west-1"}"#,
            false,
        ),
        (
            "D-multi: ForAnyValue with IfExists absent key",
            r#"{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["a"]}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-multi: ForAllValues:StringEqualsIgnoreCase",
            r#"{"ForAllValues:StringEqualsIgnoreCase":{"aws:TagKeys":["A"]}}"#,
            r#"{"aws:TagKeys":["a"]}"#,
            true,
        ),
        (
            "D-multi: ForAnyValue:NumericEquals",
            r#"{"ForAnyValue:NumericEquals":{"k":["1","2"]}}"#,
            r#"{"k":["3","2"]}"#,
            true,
        ),
        (
            "D-multi: ForAnyValue:IpAddress",
            r#"{"ForAnyValue:IpAddress":{"k":["10.0.0.0/8"]}}"#,
            r#"{"k":["192.0.2.1","10.9.9.9"]}"#,
            true,
        ),
        (
            "D-multi: ForAllValues:ArnLike",
            r#"{"ForAllValues:ArnLike":{"k":["arn:aws:s3:::b*"]}}"#,
            r#"{"k":["arn:aws:s3:::b1","arn:aws:s3:::b2"]}"#,
            true,
        ),
        (
            "D-multi: set qualifier names are case-insensitive",
            r#"{"forallvalues:StringEquals":{"aws:TagKeys":["a"]}}"#,
            r#"{"aws:TagKeys":["a"]}"#,
            true,
        ),
        (
            "D-multi: single-valued operator on a list: any value",
            r#"{"StringEquals":{"aws:TagKeys":"a"}}"#,
            r#"{"aws:TagKeys":["x","a"]}"#,
            true,
        ),
        (
            "D-multi: negated single-valued operator on a list: no value",
            r#"{"StringNotEquals":{"aws:TagKeys":"a"}}"#,
            r#"{"aws:TagKeys":["x","a"]}"#,
            false,
        ),
        // Block logic [D-condition §evaluation logic]
        (
            "D-condition: AND across operators",
            r#"{"StringEquals":{"aws:username":"bob"},"Bool":{"aws:SecureTransport":"true"}}"#,
            r#"{"aws:username":"bob","aws:SecureTransport":true}"#,
            true,
        ),
        (
            "D-condition: AND across operators, one fails",
            r#"{"StringEquals":{"aws:username":"bob"},"Bool":{"aws:SecureTransport":"true"}}"#,
            r#"{"aws:username":"bob","aws:SecureTransport":false}"#,
            false,
        ),
        (
            "D-condition: AND across keys in one operator",
            r#"{"StringEquals":{"aws:username":"bob","aws:RequestedRegion":"eu-west-1"}}"#,
            r#"{"aws:username":"bob","aws:RequestedRegion":"eu-west-1"}"#,
            true,
        ),
        (
            "D-condition: AND across keys, one fails",
            r#"{"StringEquals":{"aws:username":"bob","aws:RequestedRegion":"eu-west-1"}}"#,
            r#"{"aws:username":"bob","aws:RequestedRegion":"us-east-1"}"#,
            false,
        ),
        (
            "D-condition: OR across values of one key",
            r#"{"StringEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}"#,
            r#"{"aws:RequestedRegion":"eu-west-1"}"#,
            true,
        ),
        (
            "D-condition: empty Condition block holds",
            r#"{}"#,
            r#"{}"#,
            true,
        ),
        // Variables [D-vars]
        (
            "D-vars: ${aws:username} derived from the caller",
            r#"{"StringEquals":{"s3:prefix":"home/${aws:username}"}}"#,
            r#"{"aws:username":"bob","s3:prefix":"home/bob"}"#,
            true,
        ),
        (
            "D-vars: variable value differs",
            r#"{"StringEquals":{"s3:prefix":"home/${aws:username}"}}"#,
            r#"{"aws:username":"bob","s3:prefix":"home/eve"}"#,
            false,
        ),
        (
            "D-vars: variable names are case-insensitive",
            r#"{"StringEquals":{"s3:prefix":"home/${AWS:UserName}"}}"#,
            r#"{"aws:username":"bob","s3:prefix":"home/bob"}"#,
            true,
        ),
        (
            "D-vars: missing variable makes the value not match",
            r#"{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}"#,
            r#"{"s3:prefix":"home//x"}"#,
            false,
        ),
        (
            "D-vars: default value used when key missing",
            r#"{"StringEquals":{"s3:prefix":"${aws:PrincipalTag/team, 'company-wide'}"}}"#,
            r#"{"s3:prefix":"company-wide"}"#,
            true,
        ),
        (
            "D-vars: default ignored when key present",
            r#"{"StringEquals":{"s3:prefix":"${aws:PrincipalTag/team, 'company-wide'}"}}"#,
            r#"{"aws:PrincipalTag/team":"red","s3:prefix":"red"}"#,
            true,
        ),
        (
            "D-vars: ${*} is a literal asterisk",
            r#"{"StringLike":{"s3:prefix":"a${*}"}}"#,
            r#"{"s3:prefix":"a*"}"#,
            true,
        ),
        (
            "D-vars: ${*} does not act as a wildcard",
            r#"{"StringLike":{"s3:prefix":"a${*}"}}"#,
            r#"{"s3:prefix":"abc"}"#,
            false,
        ),
        (
            "D-vars: ${?} is a literal question mark",
            r#"{"StringLike":{"s3:prefix":"a${?}"}}"#,
            r#"{"s3:prefix":"a?"}"#,
            true,
        ),
        (
            "D-vars: ${$} is a literal dollar",
            r#"{"StringEquals":{"s3:prefix":"${$}x"}}"#,
            r#"{"s3:prefix":"$x"}"#,
            true,
        ),
        (
            "D-vars: variable with StringLike wildcard around it",
            r#"{"StringLike":{"s3:prefix":"${aws:username}/*"}}"#,
            r#"{"aws:username":"bob","s3:prefix":"bob/docs"}"#,
            true,
        ),
        (
            "D-vars: substituted value is literal, not a wildcard",
            r#"{"StringLike":{"s3:prefix":"${aws:username}"}}"#,
            r#"{"aws:username":"*","s3:prefix":"anything"}"#,
            false,
        ),
        (
            "D-vars: principal tag variable",
            r#"{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}"#,
            r#"{"aws:PrincipalTag/team":"red","aws:ResourceTag/team":"red"}"#,
            true,
        ),
        (
            "D-vars: principal tag variable mismatch",
            r#"{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}"#,
            r#"{"aws:PrincipalTag/team":"red","aws:ResourceTag/team":"blue"}"#,
            false,
        ),
        (
            "D-vars: multi-valued keys cannot be variables",
            r#"{"StringEquals":{"s3:prefix":"${aws:TagKeys}"}}"#,
            r#"{"aws:TagKeys":["a"],"s3:prefix":"a"}"#,
            false,
        ),
        (
            "D-vars: variable in ArnLike",
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:${aws:PrincipalAccount}:*"}}"#,
            r#"{"aws:SourceArn":"arn:aws:sns:us-east-1:111111111111:t"}"#,
            true,
        ),
        (
            "D-vars: aws:PrincipalAccount derived from the caller ARN",
            r#"{"StringEquals":{"aws:PrincipalAccount":"111111111111"}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-vars: aws:PrincipalArn derived from the caller ARN",
            r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/app"}}"#,
            r#"{}"#,
            true,
        ),
        (
            "D-vars: variables not substituted in Numeric values",
            r#"{"NumericEquals":{"s3:max-keys":"${n}"}}"#,
            r#"{"n":"5","s3:max-keys":"5"}"#,
            false,
        ),
    ];
    for (rule, c, ctx, holds) in rows {
        cond(rule, c, ctx, *holds);
    }
    assert!(rows.len() >= 140, "{}", rows.len());
}

/// Version 2008-10-17: variables are literal text [D-vars, D-version].
#[test]
fn version_2008_variables_are_literal() {
    for (rule, version, want) in [
        (
            "D-version: 2012-10-17 substitutes variables",
            r#""Version":"2012-10-17","#,
            A,
        ),
        (
            "D-version: 2008-10-17 treats ${…} as literal text",
            r#""Version":"2008-10-17","#,
            I,
        ),
        ("D-version: absent Version means 2008-10-17", "", I),
    ] {
        let sim = format!(
            r#"{{"request":{{"action":"s3:GetObject","resource":"arn:aws:s3:::b/home/bob/x","principal":"arn:aws:iam::111111111111:user/bob"}},
                "identityPolicies":[{{{version}"Statement":{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/home/${{aws:username}}/*"}}}}]}}"#
        );
        check(rule, &sim, want);
        let literal = format!(
            r#"{{"request":{{"action":"s3:GetObject","resource":"arn:aws:s3:::b/home/${{aws:username}}/x","principal":"arn:aws:iam::111111111111:user/bob"}},
                "identityPolicies":[{{{version}"Statement":{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/home/${{aws:username}}/*"}}}}]}}"#
        );
        check(rule, &literal, if want == A { I } else { A });
    }
}

/// Action and resource matching [D-action, D-notaction, D-resource, D-notresource].
#[test]
fn action_and_resource_matching() {
    let rows: &[(&str, &str, &str, &str, &str, bool)] = &[
        // (rule, Action element JSON, Resource element JSON, request action, request resource, applies)
        (
            "D-action: exact action",
            r#""Action":"s3:GetObject""#,
            r#""Resource":"*""#,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            true,
        ),
        (
            "D-action: action names are case-insensitive",
            r#""Action":"S3:getobject""#,
            r#""Resource":"*""#,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            true,
        ),
        (
            "D-action: request case does not matter",
            r#""Action":"iam:ListAccessKeys""#,
            r#""Resource":"*""#,
            "IAM:listaccesskeys",
            "*",
            true,
        ),
        (
            "D-action: different action",
            r#""Action":"s3:GetObject""#,
            r#""Resource":"*""#,
            "s3:PutObject",
            "arn:aws:s3:::b/k",
            false,
        ),
        (
            "D-action: * matches every action",
            r#""Action":"*""#,
            r#""Resource":"*""#,
            "ec2:RunInstances",
            "*",
            true,
        ),
        (
            "D-action: service:* matches the service",
            r#""Action":"s3:*""#,
            r#""Resource":"*""#,
            "s3:PutObject",
            "*",
            true,
        ),
        (
            "D-action: service:* does not match another service",
            r#""Action":"s3:*""#,
            r#""Resource":"*""#,
            "s3-object-lambda:GetObject",
            "*",
            false,
        ),
        (
            "D-action: prefix wildcard",
            r#""Action":"s3:Get*""#,
            r#""Resource":"*""#,
            "s3:GetObjectAcl",
            "*",
            true,
        ),
        (
            "D-action: prefix wildcard miss",
            r#""Action":"s3:Get*""#,
            r#""Resource":"*""#,
            "s3:PutObject",
            "*",
            false,
        ),
        (
            "D-action: infix wildcard",
            r#""Action":"iam:*AccessKey*""#,
            r#""Resource":"*""#,
            "iam:CreateAccessKey",
            "*",
            true,
        ),
        (
            "D-action: ? wildcard",
            r#""Action":"s3:GetObjec?""#,
            r#""Resource":"*""#,
            "s3:GetObject",
            "*",
            true,
        ),
        (
            "D-action: ? needs one character",
            r#""Action":"s3:GetObject?""#,
            r#""Resource":"*""#,
            "s3:GetObject",
            "*",
            false,
        ),
        (
            "D-action: list of actions (OR)",
            r#""Action":["ec2:StartInstances","s3:GetObject"]"#,
            r#""Resource":"*""#,
            "s3:GetObject",
            "*",
            true,
        ),
        (
            "D-action: wildcard in service prefix",
            r#""Action":"*:Describe*""#,
            r#""Resource":"*""#,
            "ec2:DescribeInstances",
            "*",
            true,
        ),
        (
            "D-notaction: NotAction applies to other actions",
            r#""NotAction":"iam:*""#,
            r#""Resource":"*""#,
            "s3:GetObject",
            "*",
            true,
        ),
        (
            "D-notaction: NotAction excludes listed actions",
            r#""NotAction":"iam:*""#,
            r#""Resource":"*""#,
            "iam:CreateUser",
            "*",
            false,
        ),
        (
            "D-notaction: NotAction is case-insensitive",
            r#""NotAction":"IAM:*""#,
            r#""Resource":"*""#,
            "iam:CreateUser",
            "*",
            false,
        ),
        (
            "D-notaction: NotAction list",
            r#""NotAction":["iam:*","sts:*"]"#,
            r#""Resource":"*""#,
            "sts:AssumeRole",
            "*",
            false,
        ),
        (
            "D-resource: * matches every resource",
            r#""Action":"*""#,
            r#""Resource":"*""#,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            true,
        ),
        (
            "D-resource: exact ARN",
            r#""Action":"*""#,
            r#""Resource":"arn:aws:s3:::b/k""#,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            true,
        ),
        (
            "D-resource: ARNs are case-sensitive",
            r#""Action":"*""#,
            r#""Resource":"arn:aws:s3:::B/k""#,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            false,
        ),
        (
            "D-resource: IAM user names in Resource are case-sensitive",
            r#""Action":"*""#,
            r#""Resource":"arn:aws:iam::111111111111:user/Bob""#,
            "iam:GetUser",
            "arn:aws:iam::111111111111:user/bob",
            false,
        ),
        (
            "D-resource: * spans / in the resource part",
            r#""Action":"*""#,
            r#""Resource":"arn:aws:s3:::b/*""#,
            "s3:GetObject",
            "arn:aws:s3:::b/a/b/c",
            true,
        ),
        (
            "D-resource: bucket ARN is not covered by bucket/*",
            r#""Action":"*""#,
            r#""Resource":"arn:aws:s3:::b/*""#,
            "s3:ListBucket",
            "arn:aws:s3:::b",
            false,
        ),
        (
            "D-resource: wildcard account segment",
            r#""Action":"*""#,
            r#""Resource":"arn:aws:iam::*:role/x""#,
            "iam:GetRole",
            "arn:aws:iam::111111111111:role/x",
            true,
        ),
        (
            "D-resource: ? in resource",
            r#""Action":"*""#,
            r#""Resource":"arn:aws:s3:::b?""#,
            "s3:ListBucket",
            "arn:aws:s3:::b1",
            true,
        ),
        (
            "D-resource: trailing * of a segment expands across colons (current doc)",
            r#""Action":"*""#,
            r#""Resource":"arn:aws:logs:us-east-1:111111111111:log-group:x*""#,
            "logs:PutLogEvents",
            "arn:aws:logs:us-east-1:111111111111:log-group:x:log-stream:s",
            true,
        ),
        (
            "D-resource: list of resources (OR)",
            r#""Action":"*""#,
            r#""Resource":["arn:aws:s3:::a","arn:aws:s3:::b"]"#,
            "s3:ListBucket",
            "arn:aws:s3:::b",
            true,
        ),
        (
            "D-resource: prefix mismatch",
            r#""Action":"*""#,
            r#""Resource":"arn:aws:s3:::b1*""#,
            "s3:ListBucket",
            "arn:aws:s3:::b2",
            false,
        ),
        (
            "D-resource: wrong region",
            r#""Action":"*""#,
            r#""Resource":"arn:aws:sqs:eu-west-1:111111111111:q""#,
            "sqs:SendMessage",
            "arn:aws:sqs:us-east-1:111111111111:q",
            false,
        ),
        (
            "D-notresource: NotResource applies to other resources",
            r#""Action":"*""#,
            r#""NotResource":"arn:aws:s3:::secret/*""#,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            true,
        ),
        (
            "D-notresource: NotResource excludes listed resources",
            r#""Action":"*""#,
            r#""NotResource":"arn:aws:s3:::secret/*""#,
            "s3:GetObject",
            "arn:aws:s3:::secret/k",
            false,
        ),
        (
            "D-notresource: NotResource list",
            r#""Action":"*""#,
            r#""NotResource":["arn:aws:s3:::a","arn:aws:s3:::b"]"#,
            "s3:ListBucket",
            "arn:aws:s3:::b",
            false,
        ),
        (
            "D-notresource: NotResource with NotAction",
            r#""NotAction":"s3:*""#,
            r#""NotResource":"arn:aws:s3:::a""#,
            "ec2:RunInstances",
            "*",
            true,
        ),
        (
            "D-vars: variable in Resource",
            r#""Action":"*""#,
            r#""Resource":"arn:aws:s3:::b/home/${aws:username}/*""#,
            "s3:GetObject",
            "arn:aws:s3:::b/home/bob/x",
            true,
        ),
        (
            "D-vars: variable in Resource, other user's folder",
            r#""Action":"*""#,
            r#""Resource":"arn:aws:s3:::b/home/${aws:username}/*""#,
            "s3:GetObject",
            "arn:aws:s3:::b/home/eve/x",
            false,
        ),
        (
            "D-vars: ${*} in Resource is a literal asterisk (the request names the object `*` with the same escape)",
            r#""Action":"*""#,
            r#""Resource":"arn:aws:s3:::b/${*}""#,
            "s3:GetObject",
            "arn:aws:s3:::b/${*}",
            true,
        ),
        (
            "D-vars: ${*} in Resource is not a wildcard",
            r#""Action":"*""#,
            r#""Resource":"arn:aws:s3:::b/${*}""#,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            false,
        ),
        (
            "D-vars: unresolved variable in Resource matches nothing",
            r#""Action":"*""#,
            r#""Resource":"arn:aws:s3:::b/${aws:PrincipalTag/x}/*""#,
            "s3:GetObject",
            "arn:aws:s3:::b//k",
            false,
        ),
        (
            "D-vars: unresolved variable in NotResource excludes nothing",
            r#""Action":"*""#,
            r#""NotResource":"arn:aws:s3:::b/${aws:PrincipalTag/x}""#,
            "s3:GetObject",
            "arn:aws:s3:::b/",
            true,
        ),
    ];
    for (rule, action, resource, ra, rr, applies) in rows {
        let sim = format!(
            r#"{{"request":{{"action":"{ra}","resource":"{rr}","principal":"arn:aws:iam::111111111111:user/bob"}},
                "identityPolicies":[{{"Version":"2012-10-17","Statement":{{"Effect":"Allow",{action},{resource}}}}}]}}"#
        );
        check(rule, &sim, if *applies { A } else { I });
        let deny = format!(
            r#"{{"request":{{"action":"{ra}","resource":"{rr}","principal":"arn:aws:iam::111111111111:user/bob"}},
                "identityPolicies":[{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*"}},{{"Effect":"Deny",{action},{resource}}}]}}]}}"#
        );
        check(rule, &deny, if *applies { X } else { A });
    }
}

/// Requests whose resource names many resources (docs/policy.md, "Wildcard and incomplete
/// resources in requests"): Allowed and ExplicitlyDenied only when they hold for every resource
/// named; a Deny that covers some of them gives ImplicitlyDenied.
#[test]
fn wildcard_and_incomplete_request_resources() {
    let case = |rule: &str, stmts: &str, resource: &str, want: Decision| {
        check(rule, &identity_sim("s3:GetObject", resource, stmts), want);
    };
    let allow = |r: &str| format!(r#"{{"Effect":"Allow","Action":"*","Resource":"{r}"}}"#);
    let deny = |r: &str| format!(r#"{{"Effect":"Deny","Action":"*","Resource":"{r}"}}"#);
    let both = |a: &str, d: &str| format!("{},{}", allow(a), deny(d));
    let not_resource = r#"{"Effect":"Allow","Action":"*","NotResource":"arn:aws:s3:::b/secret/*"}"#;
    let rows: Vec<(&str, String, &str, Decision)> = vec![
        // Wildcards in the request's resource.
        (
            "grant covering every object",
            allow("arn:aws:s3:::b/*"),
            "arn:aws:s3:::b/*",
            A,
        ),
        (
            "grant covering a sub-prefix",
            allow("arn:aws:s3:::b/x/*"),
            "arn:aws:s3:::b/x/y/*",
            A,
        ),
        (
            "grant on some objects only",
            allow("arn:aws:s3:::b/public/*"),
            "arn:aws:s3:::b/*",
            I,
        ),
        (
            "grant on a single object only",
            allow("arn:aws:s3:::b/k"),
            "arn:aws:s3:::b/*",
            I,
        ),
        (
            "? names one character",
            allow("arn:aws:s3:::b/?"),
            "arn:aws:s3:::b/?",
            A,
        ),
        (
            "? does not cover *",
            allow("arn:aws:s3:::b/?"),
            "arn:aws:s3:::b/*",
            I,
        ),
        (
            "deny covering every object",
            both("*", "arn:aws:s3:::b/*"),
            "arn:aws:s3:::b/*",
            X,
        ),
        (
            "deny on some objects: not allowed for all",
            both("*", "arn:aws:s3:::b/secret/*"),
            "arn:aws:s3:::b/*",
            I,
        ),
        (
            "deny elsewhere",
            both("*", "arn:aws:s3:::c/*"),
            "arn:aws:s3:::b/*",
            A,
        ),
        (
            "grant on the object `*` alone",
            allow("arn:aws:s3:::b/${*}"),
            "arn:aws:s3:::b/*",
            I,
        ),
        (
            "deny on the object `*` alone",
            both("*", "arn:aws:s3:::b/${*}"),
            "arn:aws:s3:::b/*",
            I,
        ),
        (
            "the object `*` itself",
            both("*", "arn:aws:s3:::b/${*}"),
            "arn:aws:s3:::b/${*}",
            X,
        ),
        (
            "NotResource meeting some objects",
            not_resource.to_string(),
            "arn:aws:s3:::b/*",
            I,
        ),
        (
            "NotResource meeting none",
            not_resource.to_string(),
            "arn:aws:s3:::b/public/*",
            A,
        ),
        // Incomplete ARNs name every resource whose ARN starts with them.
        (
            "service-only ARN, service-wide grant",
            allow("arn:aws:s3:*"),
            "arn:aws:s3",
            A,
        ),
        (
            "service-only ARN, grant on one bucket",
            allow("arn:aws:s3:::b/*"),
            "arn:aws:s3",
            I,
        ),
        (
            "service-only ARN, grant on everything",
            allow("*"),
            "arn:aws:s3",
            A,
        ),
        (
            "service-only ARN, deny on one bucket",
            both("*", "arn:aws:s3:::b/*"),
            "arn:aws:s3",
            I,
        ),
        (
            "service-only ARN, deny service-wide",
            both("*", "arn:aws:s3:::*"),
            "arn:aws:s3:",
            I,
        ),
        (
            "service-only ARN, deny everything",
            both("*", "arn:aws:*"),
            "arn:aws:s3",
            X,
        ),
        (
            "empty resource segment, grant on all buckets",
            allow("arn:aws:s3:::*"),
            "arn:aws:s3:::",
            A,
        ),
        (
            "empty resource segment, grant on one bucket",
            allow("arn:aws:s3:::b"),
            "arn:aws:s3:::",
            I,
        ),
        ("bare partition", allow("arn:aws:sqs:*"), "arn:aws", I),
        // `*` alone is AWS's resource for actions without a resource type: matched as written.
        ("`*` request, ARN grant", allow("arn:aws:s3:::*"), "*", I),
        ("`*` request, `*` grant", allow("*"), "*", A),
        (
            "`*` request, ARN deny does not apply",
            both("*", "arn:aws:s3:::*"),
            "*",
            A,
        ),
    ];
    for (rule, stmts, resource, want) in &rows {
        case(rule, stmts, resource, *want);
    }

    // The explanation says how the resource was read, and which layer's Deny covered only some.
    let explained = |action: &str, resource: &str, stmts: &str| {
        let s = &parse_simulations(&identity_sim(action, resource, stmts)).unwrap()[0];
        evaluate(&s.request, &s.policies)
    };
    let noted = |e: &rampart_policy::Evaluation, what: &str| {
        assert!(e.explain.notes.iter().any(|n| n.contains(what)), "{e:#?}");
    };
    let e = explained(
        "s3:GetObject",
        "arn:aws:s3:::b/*",
        &both("*", "arn:aws:s3:::b/secret/*"),
    );
    assert_eq!(
        e.explain.deciding_layer,
        Some(rampart_policy::Layer::IdentityPolicy)
    );
    assert!(e.explain.reason.contains("some of the resources"), "{e:#?}");
    noted(&e, "contains wildcards");
    let e = explained("sqs:SendMessage", "arn:aws:sqs", &allow("*"));
    noted(&e, "not a complete ARN");
    let json = serde_json::to_string(&e).unwrap();
    assert!(json.contains("\"notes\""), "{json}");
}

/// One request by `USER` against one identity policy of `stmts`.
fn identity_sim(action: &str, resource: &str, stmts: &str) -> String {
    format!(
        r#"{{"request":{{"action":"{action}","resource":"{resource}","principal":"{USER}"}},
            "identityPolicies":[{{"Version":"2012-10-17","Statement":[{stmts}]}}]}}"#
    )
}

const ALL: &str = r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#;
const GET: &str = r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#;
const DENY_GET: &str = r#"{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}"#;
const OBJ: &str = "arn:aws:s3:::b/k";
const USER: &str = "arn:aws:iam::111111111111:user/bob";
const SESSION: &str = "arn:aws:sts::111111111111:assumed-role/app/s1";
const OTHER_ROLE: &str = "arn:aws:iam::222222222222:role/ext";
const FED: &str = "arn:aws:sts::111111111111:federated-user/carol";

fn req(principal: &str, acct: &str) -> String {
    let p = if principal.is_empty() {
        "null".to_string()
    } else {
        format!("\"{principal}\"")
    };
    format!(
        r#""request":{{"action":"s3:GetObject","resource":{{"resource":"{OBJ}","accountId":"{acct}"}},"principal":{p}}}"#
    )
}

fn rbp(principal: &str, effect: &str) -> String {
    pol(&format!(
        r#"{{"Effect":"{effect}","Principal":{principal},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#
    ))
}

/// Layers of the evaluation logic [D1, D2, D3, D4, D5, D6, D7, D-principal, D-notprincipal].
#[test]
fn evaluation_layers() {
    let p_all = pol(ALL);
    let p_get = pol(GET);
    let p_deny = pol(&format!("{ALL},{DENY_GET}"));
    let p_none = pol(r#"{"Effect":"Allow","Action":"ec2:*","Resource":"*"}"#);
    let level = |id: &str, pols: &[&str]| {
        format!(
            r#"{{"orgIdentifier":"{id}","policies":[{}]}}"#,
            pols.join(",")
        )
    };
    let scp_ok = format!(
        "[{},{},{}]",
        level("r-root", &[&p_all]),
        level("ou-a", &[&p_all]),
        level("111111111111", &[&p_all])
    );
    let scp_deny_ou = format!(
        "[{},{},{}]",
        level("r-root", &[&p_all]),
        level("ou-a", &[&p_all, &pol(DENY_GET)]),
        level("111111111111", &[&p_all])
    );
    let scp_gap_acct = format!(
        "[{},{},{}]",
        level("r-root", &[&p_all]),
        level("ou-a", &[&p_all]),
        level("111111111111", &[&p_none])
    );
    let scp_union = format!(
        "[{},{}]",
        level("r-root", &[&p_all]),
        level("ou-a", &[&p_none, &p_get])
    );
    let rcp_deny = format!(
        "[{},{}]",
        level("r-root", &[&p_all]),
        level("111111111111", &[&p_all, &rbp("\"*\"", "Deny")])
    );
    let rcp_gap = format!(
        "[{},{}]",
        level("r-root", &[&p_all]),
        level("111111111111", &[&p_none])
    );
    let rows: Vec<(&str, String, Decision)> = vec![
        ("D1 §implicit deny: no policy at all", format!("{{{}}}", req(ROLE, "111111111111")), I),
        ("D1 step 5: identity policy allows", format!(r#"{{{},"identityPolicies":[{p_all}]}}"#, req(ROLE, "111111111111")), A),
        ("D1 step 5: identity policy for another action", format!(r#"{{{},"identityPolicies":[{p_none}]}}"#, req(ROLE, "111111111111")), I),
        ("D1 step 5: any one identity policy suffices (union)", format!(r#"{{{},"identityPolicies":[{p_none},{p_get}]}}"#, req(ROLE, "111111111111")), A),
        ("D1 step 1: explicit deny in identity policy wins", format!(r#"{{{},"identityPolicies":[{p_deny}]}}"#, req(ROLE, "111111111111")), X),
        ("D1 step 1: a deny in one policy overrides an allow in another", format!(r#"{{{},"identityPolicies":[{p_all},{}]}}"#, req(ROLE, "111111111111"), pol(DENY_GET)), X),
        ("D1 step 1: explicit deny in the boundary", format!(r#"{{{},"identityPolicies":[{p_all}],"permissionBoundaries":[{p_deny}]}}"#, req(ROLE, "111111111111")), X),
        ("D1 step 1: explicit deny in the session policy", format!(r#"{{{},"identityPolicies":[{p_all}],"sessionPolicy":{p_deny}}}"#, req(SESSION, "111111111111")), X),
        ("D1 step 1: explicit deny in the resource policy", format!(r#"{{{},"identityPolicies":[{p_all}],"resourcePolicy":{}}}"#, req(ROLE, "111111111111"), rbp("\"*\"", "Deny")), X),
        ("D1 step 1: resource-policy deny for another principal does not apply", format!(r#"{{{},"identityPolicies":[{p_all}],"resourcePolicy":{}}}"#, req(ROLE, "111111111111"), rbp(&format!(r#"{{"AWS":"{USER}"}}"#), "Deny")), A),
        // Boundaries [D6]
        ("D6: boundary allows and identity allows", format!(r#"{{{},"identityPolicies":[{p_all}],"permissionBoundaries":[{p_get}]}}"#, req(ROLE, "111111111111")), A),
        ("D6: boundary does not allow", format!(r#"{{{},"identityPolicies":[{p_all}],"permissionBoundaries":[{p_none}]}}"#, req(ROLE, "111111111111")), I),
        ("D6: boundary alone grants nothing", format!(r#"{{{},"permissionBoundaries":[{p_all}]}}"#, req(ROLE, "111111111111")), I),
        ("D6: same-account RBP naming the user bypasses the boundary", format!(r#"{{{},"permissionBoundaries":[{p_none}],"resourcePolicy":{}}}"#, req(USER, "111111111111"), rbp(&format!(r#"{{"AWS":"{USER}"}}"#), "Allow")), A),
        ("D6: same-account RBP naming the role is limited by the boundary", format!(r#"{{{},"permissionBoundaries":[{p_none}],"resourcePolicy":{}}}"#, req(SESSION, "111111111111"), rbp(&format!(r#"{{"AWS":"{ROLE}"}}"#), "Allow")), I),
        ("D6: same-account RBP naming the role with boundary allowing", format!(r#"{{{},"permissionBoundaries":[{p_get}],"resourcePolicy":{}}}"#, req(SESSION, "111111111111"), rbp(&format!(r#"{{"AWS":"{ROLE}"}}"#), "Allow")), A),
        ("D6: same-account RBP naming the session bypasses the boundary", format!(r#"{{{},"permissionBoundaries":[{p_none}],"resourcePolicy":{}}}"#, req(SESSION, "111111111111"), rbp(&format!(r#"{{"AWS":"{SESSION}"}}"#), "Allow")), A),
        // Resource-based policies, same account [D1 step 4, D-principal]
        ("D1 step 4: same-account RBP grant to the user suffices without identity policy", format!(r#"{{{},"resourcePolicy":{}}}"#, req(USER, "111111111111"), rbp(&format!(r#"{{"AWS":"{USER}"}}"#), "Allow")), A),
        ("D1 step 4: same-account RBP grant to the role ARN needs no identity policy", format!(r#"{{{},"resourcePolicy":{}}}"#, req(SESSION, "111111111111"), rbp(&format!(r#"{{"AWS":"{ROLE}"}}"#), "Allow")), A),
        ("D-principal: role ARN with a path matches sessions of the role", format!(r#"{{{},"resourcePolicy":{}}}"#, req(SESSION, "111111111111"), rbp(r#"{"AWS":"arn:aws:iam::111111111111:role/team/app"}"#, "Allow")), A),
        ("D-principal: account principal is a delegation, identity policy still needed", format!(r#"{{{},"resourcePolicy":{}}}"#, req(ROLE, "111111111111"), rbp(r#"{"AWS":"111111111111"}"#, "Allow")), I),
        ("D-principal: account principal plus identity allow", format!(r#"{{{},"identityPolicies":[{p_get}],"resourcePolicy":{}}}"#, req(ROLE, "111111111111"), rbp(r#"{"AWS":"arn:aws:iam::111111111111:root"}"#, "Allow")), A),
        ("D-principal: \"*\" grants everyone in the account", format!(r#"{{{},"resourcePolicy":{}}}"#, req(ROLE, "111111111111"), rbp("\"*\"", "Allow")), A),
        ("D-principal: {\"AWS\":\"*\"} grants everyone", format!(r#"{{{},"resourcePolicy":{}}}"#, req(USER, "111111111111"), rbp(r#"{"AWS":"*"}"#, "Allow")), A),
        ("D-principal: grant to another user does not apply", format!(r#"{{{},"resourcePolicy":{}}}"#, req(USER, "111111111111"), rbp(r#"{"AWS":"arn:aws:iam::111111111111:user/eve"}"#, "Allow")), I),
        ("D-principal: principal ARNs are case-sensitive", format!(r#"{{{},"resourcePolicy":{}}}"#, req(USER, "111111111111"), rbp(r#"{"AWS":"arn:aws:iam::111111111111:user/Bob"}"#, "Allow")), I),
        ("D-principal: list of principals (OR)", format!(r#"{{{},"resourcePolicy":{}}}"#, req(USER, "111111111111"), rbp(&format!(r#"{{"AWS":["arn:aws:iam::111111111111:user/eve","{USER}"]}}"#), "Allow")), A),
        ("D-principal: role in another account with same name does not match", format!(r#"{{{},"resourcePolicy":{}}}"#, req(SESSION, "111111111111"), rbp(r#"{"AWS":"arn:aws:iam::333333333333:role/app"}"#, "Allow")), I),
        ("D1 step 4: RBP statement for another action does not grant", format!(r#"{{{},"resourcePolicy":{}}}"#, req(USER, "111111111111"), pol(&format!(r#"{{"Effect":"Allow","Principal":{{"AWS":"{USER}"}},"Action":"s3:PutObject","Resource":"*"}}"#))), I),
        // Session policies [D7, D1 step 6]
        ("D7: session policy limits identity permissions", format!(r#"{{{},"identityPolicies":[{p_all}],"sessionPolicy":{p_none}}}"#, req(SESSION, "111111111111")), I),
        ("D7: session policy allowing", format!(r#"{{{},"identityPolicies":[{p_all}],"sessionPolicy":{p_get}}}"#, req(SESSION, "111111111111")), A),
        ("D7: session policy alone grants nothing", format!(r#"{{{},"sessionPolicy":{p_all}}}"#, req(SESSION, "111111111111")), I),
        ("D7: RBP naming the session is not limited by the session policy", format!(r#"{{{},"sessionPolicy":{p_none},"resourcePolicy":{}}}"#, req(SESSION, "111111111111"), rbp(&format!(r#"{{"AWS":"{SESSION}"}}"#), "Allow")), A),
        ("D7: RBP naming the role is limited by the session policy", format!(r#"{{{},"sessionPolicy":{p_none},"resourcePolicy":{}}}"#, req(SESSION, "111111111111"), rbp(&format!(r#"{{"AWS":"{ROLE}"}}"#), "Allow")), I),
        ("D1 step 6: role session without session policy", format!(r#"{{{},"identityPolicies":[{p_all}]}}"#, req(SESSION, "111111111111")), A),
        ("D1 step 6: federated-user session needs a session policy", format!(r#"{{{},"identityPolicies":[{p_all}]}}"#, req(FED, "111111111111")), I),
        ("D1 step 6: federated-user session with session policy", format!(r#"{{{},"identityPolicies":[{p_all}],"sessionPolicy":{p_get}}}"#, req(FED, "111111111111")), A),
        // SCPs [D3]
        ("D3: FullAWSAccess at every level allows", format!(r#"{{{},"identityPolicies":[{p_all}],"serviceControlPolicies":{scp_ok}}}"#, req(ROLE, "111111111111")), A),
        ("D3: SCPs grant nothing by themselves", format!(r#"{{{},"serviceControlPolicies":{scp_ok}}}"#, req(ROLE, "111111111111")), I),
        ("D3: deny at an OU applies to accounts beneath", format!(r#"{{{},"identityPolicies":[{p_all}],"serviceControlPolicies":{scp_deny_ou}}}"#, req(ROLE, "111111111111")), X),
        ("D3: a level without an Allow blocks (account level)", format!(r#"{{{},"identityPolicies":[{p_all}],"serviceControlPolicies":{scp_gap_acct}}}"#, req(ROLE, "111111111111")), I),
        ("D3: policies at one level are a union", format!(r#"{{{},"identityPolicies":[{p_all}],"serviceControlPolicies":{scp_union}}}"#, req(ROLE, "111111111111")), A),
        ("D3: empty level blocks everything", format!(r#"{{{},"identityPolicies":[{p_all}],"serviceControlPolicies":[{}]}}"#, req(ROLE, "111111111111"), level("r-root", &[])), I),
        ("D1: SCPs restrict the member account's root user", format!(r#"{{{},"serviceControlPolicies":{scp_deny_ou}}}"#, req("arn:aws:iam::111111111111:root", "111111111111")), X),
        ("D1: the root user has full access without identity policies", format!(r#"{{{},"serviceControlPolicies":{scp_ok}}}"#, req("arn:aws:iam::111111111111:root", "111111111111")), A),
        ("P-pmapper: service-linked roles are not restricted by SCPs", format!(r#"{{{},"identityPolicies":[{p_all}],"serviceControlPolicies":{scp_deny_ou}}}"#, req("arn:aws:iam::111111111111:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty", "111111111111")), A),
        ("D3: SCPs deny a resource-policy grant to a member principal", format!(r#"{{{},"resourcePolicy":{},"serviceControlPolicies":{scp_deny_ou}}}"#, req(USER, "111111111111"), rbp("\"*\"", "Allow")), X),
        ("D3: SCP absent (management account / no org) does not restrict", format!(r#"{{{},"identityPolicies":[{p_all}]}}"#, req(ROLE, "111111111111")), A),
        // RCPs [D4]
        ("D4: RCP deny at the account level", format!(r#"{{{},"identityPolicies":[{p_all}],"resourceControlPolicies":{rcp_deny}}}"#, req(ROLE, "111111111111")), X),
        ("D4: RCP deny applies to callers outside the org", format!(r#"{{{},"identityPolicies":[{p_all}],"resourcePolicy":{},"resourceControlPolicies":{rcp_deny}}}"#, req(OTHER_ROLE, "111111111111"), rbp(r#"{"AWS":"222222222222"}"#, "Allow")), X),
        ("D4: an RCP level without an Allow blocks", format!(r#"{{{},"identityPolicies":[{p_all}],"resourceControlPolicies":{rcp_gap}}}"#, req(ROLE, "111111111111")), I),
        ("D4: RCPs apply only to services that support them (ec2 does not)", format!(r#"{{"request":{{"action":"ec2:RunInstances","resource":"*","principal":"{ROLE}"}},"identityPolicies":[{p_all}],"resourceControlPolicies":[{}]}}"#, level("r-root", &[&pol(r#"{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}"#)])), A),
        ("D4: an RCP Deny of * applies to supported services (s3)", format!(r#"{{"request":{{"action":"s3:GetObject","resource":"*","principal":"{ROLE}"}},"identityPolicies":[{p_all}],"resourceControlPolicies":[{}]}}"#, level("r-root", &[&p_all, &pol(r#"{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}"#)])), X),
        ("D4: RCPs grant nothing by themselves", format!(r#"{{{},"resourceControlPolicies":[{}]}}"#, req(ROLE, "111111111111"), level("r-root", &[&p_all])), I),
        ("D4: RCPs do not restrict service-linked roles", format!(r#"{{{},"identityPolicies":[{p_all}],"resourceControlPolicies":{rcp_deny}}}"#, req("arn:aws:iam::111111111111:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX", "111111111111")), A),
        ("D4: RCPs apply to anonymous requests", format!(r#"{{{},"resourcePolicy":{},"resourceControlPolicies":{rcp_deny}}}"#, req("", "111111111111"), rbp("\"*\"", "Allow")), X),
        // Cross-account [D5]
        ("D5: cross-account needs the resource policy", format!(r#"{{{},"identityPolicies":[{p_all}]}}"#, req(OTHER_ROLE, "111111111111")), I),
        ("D5: cross-account needs the identity policy", format!(r#"{{{},"resourcePolicy":{}}}"#, req(OTHER_ROLE, "111111111111"), rbp(&format!(r#"{{"AWS":"{OTHER_ROLE}"}}"#), "Allow")), I),
        ("D5: cross-account with both sides", format!(r#"{{{},"identityPolicies":[{p_get}],"resourcePolicy":{}}}"#, req(OTHER_ROLE, "111111111111"), rbp(&format!(r#"{{"AWS":"{OTHER_ROLE}"}}"#), "Allow")), A),
        ("D5: cross-account via account principal", format!(r#"{{{},"identityPolicies":[{p_get}],"resourcePolicy":{}}}"#, req(OTHER_ROLE, "111111111111"), rbp(r#"{"AWS":"222222222222"}"#, "Allow")), A),
        ("D5: cross-account boundary implicit deny is not bypassed", format!(r#"{{{},"identityPolicies":[{p_get}],"permissionBoundaries":[{p_none}],"resourcePolicy":{}}}"#, req(OTHER_ROLE, "111111111111"), rbp(&format!(r#"{{"AWS":"{OTHER_ROLE}"}}"#), "Allow")), I),
        ("D5: cross-account grant to a different account", format!(r#"{{{},"identityPolicies":[{p_get}],"resourcePolicy":{}}}"#, req(OTHER_ROLE, "111111111111"), rbp(r#"{"AWS":"333333333333"}"#, "Allow")), I),
        ("D5: cross-account explicit deny in the resource policy", format!(r#"{{{},"identityPolicies":[{p_get}],"resourcePolicy":{}}}"#, req(OTHER_ROLE, "111111111111"), pol(&format!(r#"{{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}},{{"Effect":"Deny","Principal":{{"AWS":"{OTHER_ROLE}"}},"Action":"s3:*","Resource":"*"}}"#))), X),
        ("D5: cross-account caller's SCP applies", format!(r#"{{{},"identityPolicies":[{p_get}],"resourcePolicy":{},"serviceControlPolicies":[{}]}}"#, req(OTHER_ROLE, "111111111111"), rbp("\"*\"", "Allow"), level("r-root", &[&p_none])), I),
        // Anonymous [D1 step 1, D-principal]
        ("D-principal: anonymous allowed by Principal \"*\"", format!(r#"{{{},"resourcePolicy":{}}}"#, req("", "111111111111"), rbp("\"*\"", "Allow")), A),
        ("D-principal: anonymous allowed by {\"AWS\":\"*\"}", format!(r#"{{{},"resourcePolicy":{}}}"#, req("", "111111111111"), rbp(r#"{"AWS":"*"}"#, "Allow")), A),
        ("D-principal: anonymous not allowed by an account grant", format!(r#"{{{},"resourcePolicy":{}}}"#, req("", "111111111111"), rbp(r#"{"AWS":"111111111111"}"#, "Allow")), I),
        ("D-principal: anonymous without resource policy", format!(r#"{{{},"identityPolicies":[{p_all}]}}"#, req("", "111111111111")), I),
        ("D-principal: SCPs do not apply to anonymous callers", format!(r#"{{{},"resourcePolicy":{},"serviceControlPolicies":{scp_deny_ou}}}"#, req("", "111111111111"), rbp("\"*\"", "Allow")), A),
        // Service principals
        ("D-principal: service principal allowed by Service element", format!(r#"{{{},"resourcePolicy":{}}}"#, req("cloudtrail.amazonaws.com", "111111111111"), rbp(r#"{"Service":"cloudtrail.amazonaws.com"}"#, "Allow")), A),
        ("D-principal: service principal not matched by another service", format!(r#"{{{},"resourcePolicy":{}}}"#, req("cloudtrail.amazonaws.com", "111111111111"), rbp(r#"{"Service":"config.amazonaws.com"}"#, "Allow")), I),
        ("D-principal: service principal not matched by AWS \"*\"", format!(r#"{{{},"resourcePolicy":{}}}"#, req("cloudtrail.amazonaws.com", "111111111111"), rbp(r#"{"AWS":"*"}"#, "Allow")), I),
        ("D-principal: Principal \"*\" includes service principals", format!(r#"{{{},"resourcePolicy":{}}}"#, req("cloudtrail.amazonaws.com", "111111111111"), rbp("\"*\"", "Allow")), A),
        ("D-principal: Federated principal", format!(r#"{{{},"resourcePolicy":{}}}"#, req("cognito-identity.amazonaws.com", "111111111111"), rbp(r#"{"Federated":"cognito-identity.amazonaws.com"}"#, "Allow")), A),
        // NotPrincipal [D-notprincipal]
        ("D-notprincipal: Deny with NotPrincipal denies others", format!(r#"{{{},"identityPolicies":[{p_all}],"resourcePolicy":{}}}"#, req(ROLE, "111111111111"), pol(&format!(r#"{{"Effect":"Deny","NotPrincipal":{{"AWS":"{USER}"}},"Action":"s3:*","Resource":"*"}}"#))), X),
        ("D-notprincipal: user and account listed: user exempt", format!(r#"{{{},"identityPolicies":[{p_all}],"resourcePolicy":{}}}"#, req(USER, "111111111111"), pol(&format!(r#"{{"Effect":"Deny","NotPrincipal":{{"AWS":["{USER}","arn:aws:iam::111111111111:root"]}},"Action":"s3:*","Resource":"*"}}"#))), A),
        ("D-notprincipal: account ARN missing: user may still be denied", format!(r#"{{{},"identityPolicies":[{p_all}],"resourcePolicy":{}}}"#, req(USER, "111111111111"), pol(&format!(r#"{{"Effect":"Deny","NotPrincipal":{{"AWS":"{USER}"}},"Action":"s3:*","Resource":"*"}}"#))), X),
        ("D-notprincipal: session exempt only with session, role and account ARNs", format!(r#"{{{},"identityPolicies":[{p_all}],"resourcePolicy":{}}}"#, req(SESSION, "111111111111"), pol(&format!(r#"{{"Effect":"Deny","NotPrincipal":{{"AWS":["{SESSION}","{ROLE}","111111111111"]}},"Action":"s3:*","Resource":"*"}}"#))), A),
        ("D-notprincipal: role ARN missing: session denied", format!(r#"{{{},"identityPolicies":[{p_all}],"resourcePolicy":{}}}"#, req(SESSION, "111111111111"), pol(&format!(r#"{{"Effect":"Deny","NotPrincipal":{{"AWS":["{SESSION}","111111111111"]}},"Action":"s3:*","Resource":"*"}}"#))), X),
        ("D-notprincipal: Allow with NotPrincipal grants everyone else, even anonymous", format!(r#"{{{},"resourcePolicy":{}}}"#, req("", "111111111111"), pol(&format!(r#"{{"Effect":"Allow","NotPrincipal":{{"AWS":"{USER}"}},"Action":"s3:*","Resource":"*"}}"#))), A),
        // Trust policies and KMS key policies [D1 step 3 exceptions]
        ("D1 step 3: AssumeRole needs the trust policy, identity allow is not enough", r#"{"request":{"action":"sts:AssumeRole","resource":"arn:aws:iam::111111111111:role/target","principal":"arn:aws:iam::111111111111:user/bob"},"identityPolicies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}]}"#.to_string(), I),
        ("D1 step 3: trust policy naming the account plus identity allow", r#"{"request":{"action":"sts:AssumeRole","resource":"arn:aws:iam::111111111111:role/target","principal":"arn:aws:iam::111111111111:user/bob"},"identityPolicies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}],"resourcePolicy":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}}}"#.to_string(), A),
        ("D1 step 3: trust policy naming the account without identity allow", r#"{"request":{"action":"sts:AssumeRole","resource":"arn:aws:iam::111111111111:role/target","principal":"arn:aws:iam::111111111111:user/bob"},"resourcePolicy":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole"}}}"#.to_string(), I),
        ("D5: cross-account AssumeRole needs trust and identity", r#"{"request":{"action":"sts:AssumeRole","resource":"arn:aws:iam::111111111111:role/target","principal":"arn:aws:iam::222222222222:role/ext"},"identityPolicies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111111111111:role/target"}}],"resourcePolicy":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/ext"},"Action":"sts:AssumeRole"}}}"#.to_string(), A),
        ("D1 step 3: KMS key policy must allow; identity alone fails", r#"{"request":{"action":"kms:Decrypt","resource":"arn:aws:kms:us-east-1:111111111111:key/1234","principal":"arn:aws:iam::111111111111:role/app"},"identityPolicies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}]}"#.to_string(), I),
        ("D1 step 3: KMS key policy enabling IAM policies (account root)", r#"{"request":{"action":"kms:Decrypt","resource":"arn:aws:kms:us-east-1:111111111111:key/1234","principal":"arn:aws:iam::111111111111:role/app"},"identityPolicies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}],"resourcePolicy":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kms:*","Resource":"*"}}}"#.to_string(), A),
        // Conditions inside layers
        ("D-condition: resource policy condition on aws:PrincipalOrgID", r#"{"request":{"action":"s3:GetObject","resource":{"resource":"arn:aws:s3:::b/k","accountId":"111111111111"},"principal":"arn:aws:iam::222222222222:role/ext","context":{"aws:PrincipalOrgID":"o-abc"}},"identityPolicies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}],"resourcePolicy":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}}}"#.to_string(), A),
        ("D-condition: resource policy condition on aws:PrincipalOrgID, other org", r#"{"request":{"action":"s3:GetObject","resource":{"resource":"arn:aws:s3:::b/k","accountId":"111111111111"},"principal":"arn:aws:iam::222222222222:role/ext","context":{"aws:PrincipalOrgID":"o-zzz"}},"identityPolicies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}],"resourcePolicy":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}}}"#.to_string(), I),
        ("D-condop IfExists: SCP Deny with ArnNotLike exemption spares the exempt role", r#"{"request":{"action":"cloudtrail:StopLogging","resource":"*","principal":"arn:aws:sts::111111111111:assumed-role/BreakGlass/s"},"identityPolicies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}],"serviceControlPolicies":[{"orgIdentifier":"r","policies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"cloudtrail:StopLogging","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/BreakGlass"}}}]}]}]}"#.to_string(), A),
        ("D-condop: SCP Deny with ArnNotLike exemption denies other roles", r#"{"request":{"action":"cloudtrail:StopLogging","resource":"*","principal":"arn:aws:sts::111111111111:assumed-role/Dev/s"},"identityPolicies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}],"serviceControlPolicies":[{"orgIdentifier":"r","policies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"cloudtrail:StopLogging","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/BreakGlass"}}}]}]}]}"#.to_string(), X),
    ];
    for (rule, sim, want) in &rows {
        check(rule, sim, *want);
    }
    assert!(rows.len() >= 80, "{}", rows.len());
}

/// The grammar: every malformed policy is rejected with a position [D-grammar].
#[test]
fn grammar_errors() {
    let rows: &[(&str, &str, &str)] = &[
        (
            "D-grammar: policy must be an object",
            "[]",
            "must be a JSON object",
        ),
        (
            "D-grammar: Statement required",
            r#"{"Version":"2012-10-17"}"#,
            "missing \"Statement\"",
        ),
        (
            "D-grammar: Statement not empty",
            r#"{"Version":"2012-10-17","Statement":[]}"#,
            "is empty",
        ),
        (
            "D-version: only two versions",
            r#"{"Version":"2012-10-18","Statement":[]}"#,
            "\"Version\" must be",
        ),
        (
            "D-grammar: top-level names are case-sensitive",
            r#"{"version":"2012-10-17","Statement":[]}"#,
            "unknown top-level element",
        ),
        (
            "D-grammar: Effect required",
            r#"{"Statement":{"Action":"*"}}"#,
            "no \"Effect\"",
        ),
        (
            "D-grammar: Effect is Allow or Deny",
            r#"{"Statement":{"Effect":"allow","Action":"*"}}"#,
            "\"Allow\" or \"Deny\"",
        ),
        (
            "D-grammar: Action or NotAction required",
            r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
            "no \"Action\" or \"NotAction\"",
        ),
        (
            "D-grammar: not both Action and NotAction",
            r#"{"Statement":{"Effect":"Allow","Action":"*","NotAction":"s3:*"}}"#,
            "not both",
        ),
        (
            "D-grammar: not both Resource and NotResource",
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}}"#,
            "not both",
        ),
        (
            "D-grammar: not both Principal and NotPrincipal",
            r#"{"Statement":{"Effect":"Allow","Action":"*","Principal":"*","NotPrincipal":"*"}}"#,
            "not both",
        ),
        (
            "D-action: action needs a service prefix",
            r#"{"Statement":{"Effect":"Allow","Action":"GetObject"}}"#,
            "service:ActionName",
        ),
        (
            "D-action: empty action name",
            r#"{"Statement":{"Effect":"Allow","Action":"s3:"}}"#,
            "service:ActionName",
        ),
        (
            "D-grammar: action list must hold strings",
            r#"{"Statement":{"Effect":"Allow","Action":[1]}}"#,
            "must be a string",
        ),
        (
            "D-grammar: empty action list",
            r#"{"Statement":{"Effect":"Allow","Action":[]}}"#,
            "empty array",
        ),
        (
            "D-grammar: unknown statement element",
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resources":"*"}}"#,
            "unknown statement element",
        ),
        (
            "D-principal: principal string must be *",
            r#"{"Statement":{"Effect":"Allow","Action":"*","Principal":"arn:aws:iam::1:root"}}"#,
            "must be \"*\"",
        ),
        (
            "D-principal: unknown principal type",
            r#"{"Statement":{"Effect":"Allow","Action":"*","Principal":{"User":"x"}}}"#,
            "unknown principal type",
        ),
        (
            "D-principal: no partial wildcards in principals",
            r#"{"Statement":{"Effect":"Allow","Action":"*","Principal":{"AWS":"arn:aws:iam::*:root"}}}"#,
            "wildcards",
        ),
        (
            "D-condop: unknown operator",
            r#"{"Statement":{"Effect":"Allow","Action":"*","Condition":{"StringEqual":{"k":"v"}}}}"#,
            "unknown condition operator",
        ),
        (
            "D-multi: unknown set qualifier",
            r#"{"Statement":{"Effect":"Allow","Action":"*","Condition":{"ForEach:StringEquals":{"k":"v"}}}}"#,
            "unknown condition operator",
        ),
        (
            "D-condop: Null takes true/false",
            r#"{"Statement":{"Effect":"Allow","Action":"*","Condition":{"Null":{"k":"yes"}}}}"#,
            "Null operator",
        ),
        (
            "D-condop: NullIfExists invalid",
            r#"{"Statement":{"Effect":"Allow","Action":"*","Condition":{"NullIfExists":{"k":"true"}}}}"#,
            "NullIfExists",
        ),
        (
            "D-condop: invalid IP",
            r#"{"Statement":{"Effect":"Allow","Action":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.300/8"}}}}"#,
            "not an IPv4/IPv6",
        ),
        (
            "D-condition: operator block must be an object",
            r#"{"Statement":{"Effect":"Allow","Action":"*","Condition":{"StringEquals":"x"}}}"#,
            "must map to an object",
        ),
        (
            "D-condition: values must be scalars",
            r#"{"Statement":{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"k":{"a":1}}}}}"#,
            "values must be strings",
        ),
        (
            "D-grammar: duplicate element",
            r#"{"Statement":{"Effect":"Allow","Effect":"Deny","Action":"*"}}"#,
            "duplicate",
        ),
        (
            "JSON: trailing comma",
            r#"{"Statement":{"Effect":"Allow","Action":"*",}}"#,
            "quoted member name",
        ),
        (
            "JSON: unterminated string",
            r#"{"Statement":{"Effect":"Allow"#,
            "unterminated string",
        ),
        (
            "JSON: trailing garbage",
            r#"{"Statement":{"Effect":"Allow","Action":"*"}} x"#,
            "after the end",
        ),
    ];
    for (rule, text, needle) in rows {
        let e = parse_policy(text).expect_err(rule);
        assert!(e.message.contains(needle), "[{rule}] {e}");
        assert!(e.line >= 1 && e.column >= 1);
    }
    // Positions: the bad Effect value on line 3, column 15.
    let e = parse_policy("{\n \"Statement\": {\n   \"Effect\": \"Alow\", \"Action\": \"*\"}}")
        .unwrap_err();
    assert_eq!((e.line, e.column), (3, 14), "{e}");
    assert_eq!(e.to_string(), format!("3:14: {}", e.message));
}

/// Forms AWS accepts must parse [D-grammar].
#[test]
fn grammar_accepts_every_form() {
    for (rule, text) in [
        (
            "D-grammar: single statement object",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
        ),
        (
            "D-grammar: string or list values",
            r#"{"Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"]}]}"#,
        ),
        (
            "D-principal: all principal types",
            r#"{"Statement":{"Effect":"Allow","Action":"*","Principal":{"AWS":["111111111111","arn:aws:iam::111111111111:role/r"],"Service":"s3.amazonaws.com","Federated":"accounts.google.com","CanonicalUser":"79a59df900b949e55d96a1e698fbaced"}}}"#,
        ),
        (
            "D-grammar: Id and Sid",
            r#"{"Id":"x","Statement":{"Sid":"A1","Effect":"Deny","NotAction":"iam:*","NotResource":"*"}}"#,
        ),
        (
            "D-condop: numbers and booleans as values",
            r#"{"Statement":{"Effect":"Allow","Action":"*","Condition":{"NumericLessThan":{"k":5},"Bool":{"b":true}}}}"#,
        ),
        (
            "JSON: byte-order mark",
            "\u{feff}{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\"}}",
        ),
    ] {
        parse_policy(text).unwrap_or_else(|e| panic!("[{rule}] {e}"));
    }
}

/// The example guardrails in ../shared/reference/scps parse and behave as their notes say.
#[test]
fn reference_guardrails() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/reference/scps"))
        .find(|d| d.is_dir())
        .expect("shared/reference/scps beside a parent of the crate (e.g. /work/shared)");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("reference SCPs present") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            parse_policy(&text).unwrap_or_else(|e| panic!("{}:{e}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 10);
}

/// A simulation of `action` on `resource` by `principal` with the given extra simulate keys.
fn sim(action: &str, resource: &str, principal: &str, extra: &str) -> String {
    let principal = if principal.is_empty() {
        "null".to_string()
    } else {
        format!("\"{principal}\"")
    };
    format!(
        r#"{{"request":{{"action":"{action}","resource":{{"resource":"{resource}","accountId":"111111111111"}},"principal":{principal},
            "context":{{"aws:SourceVpce":"vpce-1a2b3c4d"}}}}{extra}}}"#
    )
}

/// VPC endpoint policies are a layer of their own [PrivateLink guide, "Control access to VPC
/// endpoints using endpoint policies"]: every request through the endpoint must be allowed by
/// it, an explicit Deny in it denies, it grants nothing, and an account principal in it names
/// the account's root user only.
#[test]
fn vpc_endpoint_policy_layer() {
    let ident = format!(r#","identityPolicies":[{}]"#, pol(GET));
    let ep = |stmts: &str| format!(r#","vpcEndpointPolicy":{}"#, pol(stmts));
    let with_ident = |stmts: &str| format!("{ident}{}", ep(stmts));
    let open_ep = r#"{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}"#;
    let s3_only =
        r#"{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}"#;
    let explicit_deny = format!(
        r#"{open_ep},{{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}}"#
    );
    let other_account = r#"{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"222222222222"}}}"#;
    let acct =
        r#"{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"*","Resource":"*"}"#;
    let role = r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/app"},"Action":"*","Resource":"*"}"#;
    // Anonymous callers through the endpoint: the bucket policy grants, the endpoint filters.
    let public = format!(
        r#","resourcePolicy":{}"#,
        pol(
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#
        )
    );
    let signed_only = r#"{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"Null":{"aws:PrincipalArn":"false"}}}"#;
    let no_principal = r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#;
    let rows: Vec<(&str, &str, &str, &str, String, Decision)> = vec![
        (
            "default endpoint policy (full access)",
            "s3:GetObject",
            OBJ,
            USER,
            with_ident(open_ep),
            A,
        ),
        (
            "endpoint policy allows",
            "s3:GetObject",
            OBJ,
            USER,
            with_ident(s3_only),
            A,
        ),
        (
            "endpoint policy does not allow: denied",
            "s3:GetObject",
            "arn:aws:s3:::other/k",
            USER,
            with_ident(s3_only),
            I,
        ),
        (
            "explicit deny in the endpoint policy",
            "s3:GetObject",
            OBJ,
            USER,
            with_ident(&explicit_deny),
            X,
        ),
        (
            "the endpoint policy grants nothing",
            "s3:PutObject",
            OBJ,
            USER,
            with_ident(open_ep),
            I,
        ),
        (
            "endpoint conditions on the caller",
            "s3:GetObject",
            OBJ,
            USER,
            with_ident(other_account),
            I,
        ),
        (
            "an account principal names its root user only",
            "s3:GetObject",
            OBJ,
            USER,
            with_ident(acct),
            I,
        ),
        (
            "… and the root user passes",
            "s3:GetObject",
            OBJ,
            "arn:aws:iam::111111111111:root",
            ep(acct),
            A,
        ),
        (
            "a role named in the endpoint policy covers its sessions",
            "s3:GetObject",
            OBJ,
            SESSION,
            with_ident(role),
            A,
        ),
        (
            "anonymous through an open endpoint",
            "s3:GetObject",
            OBJ,
            "",
            format!("{public}{}", ep(open_ep)),
            A,
        ),
        (
            "anonymous through a restricted endpoint",
            "s3:GetObject",
            OBJ,
            "",
            format!("{public}{}", ep(signed_only)),
            I,
        ),
        // A statement without Principal names nobody in an endpoint policy too.
        (
            "endpoint statement without Principal allows nobody",
            "s3:GetObject",
            OBJ,
            USER,
            with_ident(no_principal),
            I,
        ),
        // Not a resource policy: it does not make a cross-account request pass.
        (
            "cross-account needs the resource policy, not the endpoint policy",
            "s3:GetObject",
            OBJ,
            OTHER_ROLE,
            with_ident(open_ep),
            I,
        ),
    ];
    for (rule, action, resource, who, extra, want) in &rows {
        check(rule, &sim(action, resource, who, extra), *want);
    }

    // The trace names the layer and its statements.
    let text = sim(
        "s3:GetObject",
        "arn:aws:s3:::other/k",
        USER,
        &format!("{ident}{}", ep(s3_only)),
    );
    let s = &parse_simulations(&text).unwrap()[0];
    let e = evaluate(&s.request, &s.policies);
    assert_eq!(
        e.explain.deciding_layer,
        Some(rampart_policy::Layer::VpcEndpointPolicy)
    );
    assert!(e.explain.reason.contains("VPC endpoint"), "{e:#?}");
    let json = serde_json::to_string(&e).unwrap();
    assert!(json.contains("\"vpcEndpointPolicy\""), "{json}");
}

/// `sts:GetCallerIdentity` needs no permission and works even against an explicit deny (STS
/// API reference, GetCallerIdentity). No authorization check is made, so no policy type takes
/// part: not SCPs, RCPs or endpoint policies either.
#[test]
fn get_caller_identity_needs_no_permission() {
    let deny_all = r#"{"Effect":"Deny","Action":"*","Resource":"*"}"#;
    let everything_denies = format!(
        r#","identityPolicies":[{d}],"permissionBoundaries":[{d}],"sessionPolicy":{d},
           "serviceControlPolicies":[{{"orgIdentifier":"r-root","policies":[{d}]}}],
           "resourceControlPolicies":[{{"orgIdentifier":"r-root","policies":[{d}]}}],
           "vpcEndpointPolicy":{ep}"#,
        d = pol(deny_all),
        ep = pol(r#"{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}"#)
    );
    for who in [
        USER,
        SESSION,
        OTHER_ROLE,
        FED,
        "arn:aws:iam::111111111111:root",
    ] {
        check(
            "GetCallerIdentity against every deny",
            &sim("sts:GetCallerIdentity", "*", who, &everything_denies),
            A,
        );
        check(
            "GetCallerIdentity with no policy at all",
            &sim("sts:getcalleridentity", "*", who, ""),
            A,
        );
    }
    // An unsigned request has no caller to describe.
    check(
        "anonymous GetCallerIdentity",
        &sim("sts:GetCallerIdentity", "*", "", ""),
        I,
    );
    // Other STS actions are evaluated as usual.
    check(
        "GetSessionToken is not exempt",
        &sim("sts:GetSessionToken", "*", USER, &everything_denies),
        X,
    );

    let s = &parse_simulations(&sim("sts:GetCallerIdentity", "*", USER, &everything_denies))
        .unwrap()[0];
    let e = evaluate(&s.request, &s.policies);
    assert_eq!(e.decision, A);
    assert_eq!(e.explain.deciding_layer, None);
    assert!(e.explain.reason.contains("needs no permission"), "{e:#?}");
    assert!(
        e.explain.reason.contains("ExplicitlyDenied"),
        "the trace says what the policies alone would do: {e:#?}"
    );
    assert!(!e.explain.layers.is_empty(), "the layers are still shown");
}

/// A resource-based policy statement without `Principal`/`NotPrincipal` is rejected by AWS;
/// rampart reads it as naming nobody (never everyone): it neither grants nor denies.
#[test]
fn resource_policy_statement_without_principal_names_nobody() {
    let rp = |stmts: &str| format!(r#","resourcePolicy":{}"#, pol(stmts));
    let no_principal_allow = r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#;
    check(
        "anonymous: no grant",
        &sim("s3:GetObject", OBJ, "", &rp(no_principal_allow)),
        I,
    );
    check(
        "cross-account: no grant",
        &sim(
            "s3:GetObject",
            OBJ,
            OTHER_ROLE,
            &format!(
                r#"{}{}"#,
                rp(no_principal_allow),
                format_args!(r#","identityPolicies":[{}]"#, pol(GET))
            ),
        ),
        I,
    );
    check(
        "same account without identity grant: no grant",
        &sim("s3:GetObject", OBJ, USER, &rp(no_principal_allow)),
        I,
    );
    check(
        "a Deny without Principal denies nobody either",
        &sim(
            "s3:GetObject",
            OBJ,
            USER,
            &format!(
                r#"{}{}"#,
                rp(r#"{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}"#),
                format_args!(r#","identityPolicies":[{}]"#, pol(GET))
            ),
        ),
        A,
    );
}

/// Statement positions stay right deep into a large simulate file (one line index per input).
#[test]
fn positions_deep_into_a_large_simulate_file() {
    let one = |i: usize| {
        format!(
            "{{\"request\": {{\"action\": \"s3:GetObject\", \"resource\": \"arn:aws:s3:::b/k{i}\", \"principal\": \"{USER}\"}},\n \"identityPolicies\": [{{\"Version\": \"2012-10-17\", \"Statement\": [\n   {{\"Sid\": \"é{i}\", \"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}}]}}]}}"
        )
    };
    let n = 3000;
    let text = format!("[\n{}\n]", (0..n).map(one).collect::<Vec<_>>().join(",\n"));
    let sims = parse_simulations(&text).unwrap();
    for (i, s) in sims.iter().enumerate() {
        let st = &s.policies.identity[0].statements[0];
        // Each simulation takes 3 lines after the opening "[" line; its statement is on the third,
        // after three spaces.
        assert_eq!((st.line, st.column), (2 + 3 * i + 2, 4), "simulation {i}");
    }
    let bad = text.replace(
        &format!("\"Sid\": \"é{}\", \"Effect\": \"Allow\"", n - 1),
        &format!("\"Sid\": \"é{}\", \"Effect\": \"Allw\"", n - 1),
    );
    let e = parse_simulations(&bad).unwrap_err();
    assert_eq!(
        (e.line, e.column),
        (2 + 3 * (n - 1) + 2, 4 + 23 + (n - 1).to_string().len()),
        "{e}"
    );
}
