//! `iac check` speed: 1,000 generated templates (about 5 MB: CloudFormation YAML and JSON and
//! Terraform plans with buckets and their policies, security groups, databases, keys with key
//! policies, roles with trust and inline policies, trails, VPCs, launch templates, instances,
//! queues and Lambda permissions), read and checked on one thread.
//!
//! `cargo bench -p rampart-iac --bench check_templates [-- --keep DIR]` — `--keep` writes the
//! templates to DIR (for a side-by-side run with another scanner) instead of a temporary
//! directory. The templates are generated, never committed.

use rampart_iac::checks::Env;
use rampart_iac::model::ReadOptions;
use std::path::{Path, PathBuf};
use std::time::Instant;

const TEMPLATES: usize = 1_000;

fn yaml_template(i: usize) -> String {
    let open = i.is_multiple_of(7);
    let port = if open { 22 } else { 443 };
    let enc = if i.is_multiple_of(5) { "false" } else { "true" };
    let principal = if i.is_multiple_of(11) {
        "'*'".to_string()
    } else {
        "!Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root'".to_string()
    };
    let mut t = format!(
        "AWSTemplateFormatVersion: '2010-09-09'
Description: service {i} - storage, network, database and compute for one workload
Parameters:
  Env:
    Type: String
    Default: prod
    AllowedValues: [prod, test, dev]
  DbEncrypted:
    Type: String
    Default: '{enc}'
  VpcCidr:
    Type: String
    Default: 10.{a}.0.0/16
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  Encrypt: !Equals [!Ref DbEncrypted, 'true']
Mappings:
  Sizes:
    prod: {{Db: db.r6g.large, Web: m7g.large}}
    test: {{Db: db.t4g.medium, Web: t4g.medium}}
    dev: {{Db: db.t4g.micro, Web: t4g.micro}}
Resources:
  DataBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub 'svc{i}-data-${{AWS::AccountId}}-${{AWS::Region}}'
      VersioningConfiguration:
        Status: Enabled
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: aws:kms
              KMSMasterKeyID: !GetAtt DataKey.Arn
            BucketKeyEnabled: true
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        IgnorePublicAcls: true
        BlockPublicPolicy: {bpp}
        RestrictPublicBuckets: true
      Tags:
        - {{Key: owner, Value: team-{owner}@example.com}}
  DataBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref DataBucket
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Sid: TlsOnly
            Effect: Deny
            Principal: '*'
            Action: 's3:*'
            Resource: [!GetAtt DataBucket.Arn, !Sub '${{DataBucket.Arn}}/*']
            Condition:
              Bool: {{aws:SecureTransport: 'false'}}
          - Sid: AppRead
            Effect: Allow
            Principal: {{AWS: !GetAtt AppRole.Arn}}
            Action: ['s3:GetObject', 's3:PutObject']
            Resource: !Sub '${{DataBucket.Arn}}/*'
  DataKey:
    Type: AWS::KMS::Key
    Properties:
      Description: data key for svc{i}
      EnableKeyRotation: {rot}
      KeyPolicy:
        Version: '2012-10-17'
        Statement:
          - Sid: Admin
            Effect: Allow
            Principal: {{AWS: !Sub 'arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:root'}}
            Action: 'kms:*'
            Resource: '*'
          - Sid: Use
            Effect: Allow
            Principal: {{AWS: !GetAtt AppRole.Arn}}
            Action: ['kms:Decrypt', 'kms:GenerateDataKey']
            Resource: '*'
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: !Ref VpcCidr
      EnableDnsSupport: true
      EnableDnsHostnames: true
  VpcFlowLog:
    Type: AWS::EC2::FlowLog
    Properties:
      ResourceId: !Ref Vpc
      ResourceType: VPC
      TrafficType: ALL
      LogDestinationType: s3
      LogDestination: arn:aws:s3:::central-flow-logs
  WebSg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Sub 'svc{i} web tier (${{Env}})'
      VpcId: !Ref Vpc
      SecurityGroupIngress:
        - {{IpProtocol: tcp, FromPort: {port}, ToPort: {port}, CidrIp: 0.0.0.0/0, Description: public}}
        - {{IpProtocol: tcp, FromPort: 8080, ToPort: 8080, CidrIp: 10.0.0.0/8}}
        - {{IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIpv6: '::/0'}}
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      DBInstanceClass: !FindInMap [Sizes, !Ref Env, Db]
      AllocatedStorage: '100'
      DBSubnetGroupName: !Sub 'svc{i}-private'
      StorageEncrypted: !If [Encrypt, true, false]
      PubliclyAccessible: false
      AutoMinorVersionUpgrade: true
      MultiAZ: !If [IsProd, true, false]
  Files:
    Type: AWS::EFS::FileSystem
    Properties:
      Encrypted: true
      KmsKeyId: !Ref DataKey
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {{Service: ec2.amazonaws.com}}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: app
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: ['s3:GetObject', 's3:PutObject', 's3:ListBucket']
                Resource: [!GetAtt DataBucket.Arn, !Sub '${{DataBucket.Arn}}/*']
              - Effect: Allow
                Action: ['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage']
                Resource: !GetAtt Jobs.Arn
  WebTemplate:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        InstanceType: !FindInMap [Sizes, !Ref Env, Web]
        MetadataOptions:
          HttpTokens: {tokens}
          HttpEndpoint: enabled
        BlockDeviceMappings:
          - DeviceName: /dev/xvda
            Ebs: {{VolumeSize: 30, VolumeType: gp3, Encrypted: true}}
  Web:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-0abcdef{i:05}
      SubnetId: subnet-{i:08x}
      LaunchTemplate:
        LaunchTemplateId: !Ref WebTemplate
        Version: !GetAtt WebTemplate.LatestVersionNumber
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub 'svc{i}-jobs-${{Env}}'
      KmsMasterKeyId: !Ref DataKey
  JobsPolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Jobs]
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {{AWS: {principal}}}
            Action: sqs:SendMessage
            Resource: !GetAtt Jobs.Arn
",
        a = i % 250,
        bpp = if i.is_multiple_of(13) { "false" } else { "true" },
        owner = i % 17,
        rot = if i.is_multiple_of(3) { "false" } else { "true" },
        tokens = if i.is_multiple_of(4) { "optional" } else { "required" },
    );
    if i.is_multiple_of(2) {
        t.push_str(&format!(
            "  Trail:
    Type: AWS::CloudTrail::Trail
    Properties:
      TrailName: svc{i}-trail
      IsLogging: true
      IsMultiRegionTrail: true
      EnableLogFileValidation: true
      KMSKeyId: !Ref DataKey
      S3BucketName: !Ref DataBucket
"
        ));
    }
    t
}

/// The same template in JSON (long-form intrinsics), via the crate's own reader: the tree is
/// written back out with `Ref`/`Fn::*` keys.
fn to_json(yaml: &str) -> String {
    fn write(n: &rampart_iac::node::Node, out: &mut String, indent: usize) {
        use rampart_iac::node::Kind;
        let pad = " ".repeat(indent / 2);
        match &n.kind {
            Kind::Null => out.push_str("null"),
            Kind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Kind::Number(s) => out.push_str(s),
            Kind::String(s) => out.push_str(&serde_json::to_string(s).unwrap_or_default()),
            Kind::Seq(v) => {
                out.push('[');
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write(x, out, indent);
                }
                out.push(']');
            }
            Kind::Map(m) => {
                out.push_str("{\n");
                for (i, (k, v)) in m.iter().enumerate() {
                    out.push_str(&format!(
                        "{pad} {}: ",
                        serde_json::to_string(&k.name).unwrap_or_default()
                    ));
                    write(v, out, indent + 2);
                    out.push_str(if i + 1 < m.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad);
                out.push('}');
            }
        }
    }
    let doc = rampart_iac::yaml::parse(yaml).expect("generated YAML parses");
    let mut out = String::new();
    write(&doc, &mut out, 0);
    out.push('\n');
    out
}

fn plan(i: usize) -> String {
    let v = |open: bool| if open { "true" } else { "false" };
    let resources = [
        ("aws_s3_bucket.data", "aws_s3_bucket", format!(r#"{{"bucket":"svc{i}-data","force_destroy":false,"object_lock_enabled":false,"tags":{{"service":"svc{i}"}}}}"#)),
        ("aws_s3_bucket_public_access_block.data", "aws_s3_bucket_public_access_block", format!(r#"{{"bucket":"svc{i}-data","block_public_acls":true,"ignore_public_acls":true,"block_public_policy":{},"restrict_public_buckets":true}}"#, v(!i.is_multiple_of(13)))),
        ("aws_s3_bucket_policy.data", "aws_s3_bucket_policy", format!(r#"{{"bucket":"svc{i}-data","policy":{}}}"#, serde_json::to_string(&format!(r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"TlsOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::svc{i}-data","arn:aws:s3:::svc{i}-data/*"],"Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}]}}"#)).unwrap_or_default())),
        ("aws_security_group.web", "aws_security_group", format!(r#"{{"name":"svc{i}-web","description":"web","ingress":[{{"protocol":"tcp","from_port":{p},"to_port":{p},"cidr_blocks":["0.0.0.0/0"],"ipv6_cidr_blocks":[],"prefix_list_ids":[],"security_groups":[],"self":false,"description":""}}]}}"#, p = if i.is_multiple_of(7) { 22 } else { 443 })),
        ("aws_db_instance.db", "aws_db_instance", format!(r#"{{"engine":"postgres","instance_class":"db.t4g.micro","allocated_storage":20,"storage_encrypted":{},"publicly_accessible":false,"auto_minor_version_upgrade":true}}"#, v(!i.is_multiple_of(5)))),
        ("aws_kms_key.data", "aws_kms_key", format!(r#"{{"description":"svc{i}","enable_key_rotation":{},"customer_master_key_spec":"SYMMETRIC_DEFAULT","key_usage":"ENCRYPT_DECRYPT"}}"#, v(!i.is_multiple_of(3)))),
        ("aws_instance.web", "aws_instance", format!(r#"{{"ami":"ami-{i:08x}","instance_type":"t4g.micro","metadata_options":[{{"http_tokens":"{}","http_endpoint":"enabled"}}],"root_block_device":[{{"encrypted":true,"volume_size":30}}]}}"#, if i.is_multiple_of(4) { "optional" } else { "required" })),
        ("aws_vpc.main", "aws_vpc", r#"{"cidr_block":"10.0.0.0/16","enable_dns_support":true}"#.to_string()),
        ("aws_flow_log.main", "aws_flow_log", r#"{"traffic_type":"ALL","log_destination_type":"s3","log_destination":"arn:aws:s3:::central-flow-logs"}"#.to_string()),
    ];
    let planned: Vec<String> = resources
        .iter()
        .map(|(a, t, vals)| format!(r#"{{"address":"{a}","mode":"managed","type":"{t}","name":"{}","provider_name":"registry.terraform.io/hashicorp/aws","schema_version":0,"values":{vals},"sensitive_values":{{}}}}"#, a.rsplit('.').next().unwrap_or(a)))
        .collect();
    let changes: Vec<String> = resources
        .iter()
        .map(|(a, t, vals)| format!(r#"{{"address":"{a}","mode":"managed","type":"{t}","name":"{}","change":{{"actions":["create"],"before":null,"after":{vals},"after_unknown":{{"id":true,"arn":true{}}}}}}}"#, a.rsplit('.').next().unwrap_or(a), if *t == "aws_flow_log" { r#","vpc_id":true"# } else { "" }))
        .collect();
    format!(
        r#"{{"format_version":"1.2","terraform_version":"1.9.5","planned_values":{{"root_module":{{"resources":[{}]}}}},"resource_changes":[{}],"configuration":{{"provider_config":{{"aws":{{"name":"aws","full_name":"registry.terraform.io/hashicorp/aws","expressions":{{"region":{{"constant_value":"eu-west-1"}}}}}}}},"root_module":{{"resources":[{{"address":"aws_flow_log.main","mode":"managed","type":"aws_flow_log","name":"main","expressions":{{"vpc_id":{{"references":["aws_vpc.main.id","aws_vpc.main"]}}}}}}]}}}}}}"#,
        planned.join(","),
        changes.join(",")
    ) + "\n"
}

/// Writes the templates: 70% YAML, 20% JSON, 10% Terraform plans. Returns the total size.
fn generate(dir: &Path) -> u64 {
    let mut bytes = 0u64;
    for i in 0..TEMPLATES {
        let (name, text) = match i % 10 {
            0 => (format!("plan-{i:04}.tfplan.json"), plan(i)),
            1..=2 => (format!("stack-{i:04}.json"), to_json(&yaml_template(i))),
            _ => (format!("stack-{i:04}.yaml"), yaml_template(i)),
        };
        bytes += text.len() as u64;
        std::fs::write(dir.join(name), text).expect("write template");
    }
    bytes
}

/// CPU time of this thread (user + system) from `/proc/thread-self/stat`, in seconds: on the
/// shared machine the wall clock counts other jobs' time too. `None` off Linux.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15 (clock ticks, 100 Hz).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let keep = args
        .iter()
        .position(|a| a == "--keep")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let tmp = tempfile::tempdir().expect("temporary directory");
    let dir = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("create the template directory");
    let bytes = generate(&dir);
    let env = Env {
        account: rampart_iac::model::STAND_IN_ACCOUNT.into(),
        ..Env::default()
    };
    let opts = ReadOptions::default();
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    let mut report = None;
    for _ in 0..5 {
        let cpu = thread_cpu_seconds();
        let t = Instant::now();
        let r = rampart_iac::check_paths(std::slice::from_ref(&dir), &opts, &env);
        best = best.min(t.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (cpu, thread_cpu_seconds()) {
            best_cpu = best_cpu.min(b - a);
        }
        report = Some(r);
    }
    let r = report.expect("ran");
    assert!(r.errors.is_empty(), "{:?}", r.errors.first());
    println!(
        "iac check: {} templates, {:.2} MB, {} resources, {} findings ({} FAIL, {} UNKNOWN): best of 5 {:.3} s wall, {:.2} s CPU, on one thread ({:.1} MB/s of CPU time){}",
        r.files,
        bytes as f64 / 1e6,
        r.resources,
        r.findings.len(),
        r.count(rampart_iac::Status::Fail),
        r.count(rampart_iac::Status::Unknown),
        best,
        best_cpu,
        bytes as f64 / 1e6 / best_cpu.min(best),
        keep.map(|d| format!("; templates kept in {}", d.display()))
            .unwrap_or_default()
    );
}
