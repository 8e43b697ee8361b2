//! The readers: unknown values stay UNKNOWN (never PASS), parameters and conditions resolve
//! where they can, positions point at the offending line and column, a malformed file is one
//! error with its position while the other files are still checked, and suppressions mark
//! findings without hiding them.

use rampart_iac::checks::Env;
use rampart_iac::model::{ReadOptions, STAND_IN_ACCOUNT};
use rampart_iac::{Finding, Status, Suppression, check, check_paths, read, suppress};
use std::collections::HashMap;
use std::path::Path;

fn env() -> Env {
    Env {
        account: STAND_IN_ACCOUNT.into(),
        ..Env::default()
    }
}

fn run(text: &str, opts: &ReadOptions) -> Vec<Finding> {
    let dep = read(text, opts).unwrap_or_else(|e| panic!("{e}"));
    check("t.yaml", &dep, &env())
}

fn one<'a>(f: &'a [Finding], control: &str, resource: &str) -> &'a Finding {
    f.iter()
        .find(|x| x.control.id == control && x.resource == resource)
        .unwrap_or_else(|| panic!("no {control} finding on {resource}: {f:#?}"))
}

/// 1-based line and column of the first occurrence of `needle`.
fn pos(text: &str, needle: &str) -> (u32, u32) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in text"));
    let line = text[..at].matches('\n').count() + 1;
    let col = text[..at].chars().rev().take_while(|c| *c != '\n').count() + 1;
    (line as u32, col as u32)
}

const PARAMS: &str = "AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Encrypt:
    Type: String
    AllowedValues: ['true', 'false']
  Env:
    Type: String
    Default: prod
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  EncryptChosen: !Equals [!Ref Encrypt, 'true']
Mappings:
  Tier:
    prod: {Public: 'false'}
    dev: {Public: 'true'}
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      DBSubnetGroupName: private
      StorageEncrypted: !Ref Encrypt
      PubliclyAccessible: !FindInMap [Tier, !Ref Env, Public]
      AutoMinorVersionUpgrade: !If [IsProd, true, false]
  Files:
    Type: AWS::EFS::FileSystem
    Properties:
      Encrypted: !If [EncryptChosen, true, false]
  Imported:
    Type: AWS::EFS::FileSystem
    Properties:
      Encrypted: !ImportValue shared-efs-encrypted
  DevOnly:
    Type: AWS::EC2::Volume
    Condition: NotProd
    Properties:
      Encrypted: false
";

#[test]
fn unresolvable_values_are_unknown_never_pass() {
    let text = PARAMS.replace("    Condition: NotProd\n", "    Condition: IsProd\n");
    let f = run(&text, &ReadOptions::default());
    let db = one(&f, "cis-2.3.1", "Db");
    assert_eq!(db.status, Status::Unknown);
    assert!(
        db.message.contains("parameter `Encrypt` has no Default"),
        "{}",
        db.message
    );
    // At the tagged value: `Encrypt` after `!Ref `.
    let (line, col) = pos(&text, "StorageEncrypted: !Ref Encrypt");
    assert_eq!((db.line, db.column), (line, col + 23));
    let files = one(&f, "cis-2.4.1", "Files");
    assert_eq!(files.status, Status::Unknown, "{}", files.message);
    assert!(
        files.message.contains("condition `EncryptChosen`"),
        "{}",
        files.message
    );
    let imported = one(&f, "cis-2.4.1", "Imported");
    assert_eq!(imported.status, Status::Unknown);
    assert!(imported.message.contains("Fn::ImportValue"));
    // Defaults, mappings and conditions on known parameters resolve.
    assert_eq!(one(&f, "cis-2.3.3", "Db").status, Status::Pass);
    assert_eq!(one(&f, "cis-2.3.2", "Db").status, Status::Pass);
    // The volume's condition holds (Env defaults to prod): it is checked.
    assert_eq!(
        one(&f, "iac-ebs-volume-encryption", "DevOnly").status,
        Status::Fail
    );
}

#[test]
fn parameters_given_on_the_command_line_resolve() {
    let text = PARAMS.replace("    Condition: NotProd\n", "    Condition: IsProd\n");
    let opts = ReadOptions {
        parameters: HashMap::from([
            ("Encrypt".to_string(), "false".to_string()),
            ("Env".to_string(), "dev".to_string()),
        ]),
        ..ReadOptions::default()
    };
    let f = run(&text, &opts);
    assert_eq!(one(&f, "cis-2.3.1", "Db").status, Status::Fail);
    assert_eq!(one(&f, "cis-2.3.3", "Db").status, Status::Fail);
    assert_eq!(one(&f, "cis-2.3.2", "Db").status, Status::Fail);
    assert_eq!(one(&f, "cis-2.4.1", "Files").status, Status::Fail);
    // IsProd is false for dev: the volume is not created, so not checked.
    assert!(!f.iter().any(|x| x.resource == "DevOnly"));
}

#[test]
fn an_undecidable_resource_condition_is_checked_and_said() {
    let text = PARAMS.replace("    Condition: NotProd\n", "    Condition: EncryptChosen\n");
    let f = run(&text, &ReadOptions::default());
    let v = one(&f, "iac-ebs-volume-encryption", "DevOnly");
    assert_eq!(v.status, Status::Fail);
    assert!(
        v.message.contains("condition `EncryptChosen`"),
        "{}",
        v.message
    );
}

#[test]
fn terraform_known_after_apply_is_unknown() {
    let plan = r#"{"format_version":"1.2","planned_values":{"root_module":{"resources":[
      {"address":"aws_db_instance.db","mode":"managed","type":"aws_db_instance","name":"db",
       "values":{"storage_encrypted":null,"publicly_accessible":false,"auto_minor_version_upgrade":true}}],
      "child_modules":[{"address":"module.net","resources":[
      {"address":"module.net.aws_efs_file_system.fs","mode":"managed","type":"aws_efs_file_system","name":"fs",
       "values":{"creation_token":"x"}}]}]}},
     "resource_changes":[
      {"address":"aws_db_instance.db","change":{"actions":["create"],"after_unknown":{"storage_encrypted":true}}},
      {"address":"module.net.aws_efs_file_system.fs","change":{"actions":["create"],"after_unknown":{"encrypted":true}}}],
     "configuration":{"root_module":{"resources":[
      {"address":"aws_db_instance.db","expressions":{"storage_encrypted":{"references":["var.encrypt"]}}}],
      "module_calls":{"net":{"module":{"resources":[
      {"address":"aws_efs_file_system.fs","expressions":{"encrypted":{"references":["var.enc"]}}}]}}}}}}"#;
    let f = run(plan, &ReadOptions::default());
    let db = one(&f, "cis-2.3.1", "aws_db_instance.db");
    assert_eq!(db.status, Status::Unknown);
    assert!(db.message.contains("known after apply"));
    assert_eq!((db.line, db.column), pos(plan, "null"));
    let fs = one(&f, "cis-2.4.1", "module.net.aws_efs_file_system.fs");
    assert_eq!(
        fs.status,
        Status::Unknown,
        "child modules are read: {}",
        fs.message
    );
}

#[test]
fn positions_point_at_the_offending_property() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let cases = [
        ("cis-5.2/fail.yaml", "cis-5.2", "IpProtocol: tcp"),
        (
            "cis-5.2/fail.json",
            "cis-5.2",
            "{\n            \"IpProtocol\"",
        ),
        ("cis-2.1.4/fail.yaml", "cis-2.1.4", "false"),
        ("cis-2.1.4/fail.json", "cis-2.1.4", "false"),
        ("cis-2.1.4/fail.tfplan.json", "cis-2.1.4", "false"),
        ("cis-2.3.3/fail.yaml", "cis-2.3.3", "true"),
        (
            "cis-2.3.3/fail.tfplan.json",
            "cis-2.3.3",
            "\"publicly_accessible\": true",
        ),
        (
            "cis-1.16/fail.yaml",
            "cis-1.16",
            "PolicyDocument:\n        Version",
        ),
        ("cis-3.7/fail.yaml", "cis-3.7", "Net:"),
        ("cis-3.7/fail.tfplan.json", "cis-3.7", "\"aws_vpc.net\""),
    ];
    for (file, control, needle) in cases {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let f = run(&text, &ReadOptions::default());
        let hit = f
            .iter()
            .find(|x| x.control.id == control && x.status == Status::Fail)
            .unwrap_or_else(|| panic!("{file}: no FAIL"));
        let (mut line, mut col) = pos(&text, needle);
        // A needle naming a key ends where its value starts; values are what positions name.
        if let Some(rest) = needle.strip_prefix("\"publicly_accessible\": ") {
            col += (needle.len() - rest.len()) as u32;
        }
        if needle.starts_with("PolicyDocument:") {
            line += 1;
            col += 2;
        }
        assert_eq!(
            (hit.line, hit.column),
            (line, col),
            "{file}: {}",
            hit.message
        );
    }
}

#[test]
fn a_malformed_file_is_one_error_with_its_position_and_the_rest_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("a-bad.yaml"),
        "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties: [1, 2\n",
    )
    .unwrap();
    std::fs::write(
        d.join("b-bad.json"),
        "{\"Resources\": {\"B\": {\"Type\": \"AWS::S3::Bucket\",}}}",
    )
    .unwrap();
    std::fs::write(
        d.join("c-dup.yaml"),
        "Resources:\n  B:\n    Type: AWS::S3::Bucket\n  B:\n    Type: AWS::S3::Bucket\n",
    )
    .unwrap();
    std::fs::write(d.join("d-good.yaml"), "Resources:\n  Files:\n    Type: AWS::EFS::FileSystem\n    Properties:\n      Encrypted: false\n").unwrap();
    std::fs::write(d.join("e-package.json"), "{\"name\": \"not-a-template\"}").unwrap();
    let r = check_paths(&[d.to_path_buf()], &ReadOptions::default(), &env());
    assert_eq!(r.errors.len(), 3, "{:#?}", r.errors);
    let shown: Vec<String> = r.errors.iter().map(|e| e.to_string()).collect();
    assert!(
        shown[0].contains("a-bad.yaml:") && r.errors[0].line >= 4,
        "{}",
        shown[0]
    );
    assert!(shown[1].contains("b-bad.json:1:"), "{}", shown[1]);
    assert!(
        shown[2].contains("c-dup.yaml:4:3: duplicate key `B`"),
        "{}",
        shown[2]
    );
    assert_eq!(r.files, 1);
    assert_eq!(r.count(Status::Fail), 1);
    assert_eq!(
        r.skipped.len(),
        1,
        "a JSON file that is not a template is skipped in a directory"
    );
    // Named explicitly, it is an error.
    let r = check_paths(&[d.join("e-package.json")], &ReadOptions::default(), &env());
    assert!(
        r.errors[0]
            .message
            .contains("neither a CloudFormation template")
    );
}

#[test]
fn suppressions_in_the_template_and_in_the_config() {
    let text = "Resources:
  Site:
    Type: AWS::S3::Bucket
    Metadata:
      rampart:
        suppress:
          - control: cis-2.1.*
            reason: public website, reviewed 2026-11
    Properties:
      PublicAccessBlockConfiguration:
        BlockPublicPolicy: false
  Files:
    Type: AWS::EFS::FileSystem
";
    let mut f = run(text, &ReadOptions::default());
    let bpa = one(&f, "cis-2.1.4", "Site");
    assert_eq!(bpa.status, Status::Fail);
    assert_eq!(bpa.suppressed.as_ref().unwrap().source, "template");
    assert!(
        one(&f, "iac-s3-kms-encryption", "Site")
            .suppressed
            .is_none()
    );
    let rules = [
        Suppression {
            control: Some("cis-2.4.1".into()),
            file: Some("*.yaml".into()),
            resource: Some("Files".into()),
            reason: "scratch space".into(),
            expires: None,
        },
        Suppression {
            control: Some("iac-s3-kms-encryption".into()),
            reason: "old".into(),
            expires: Some("2020-01-01".into()),
            ..Suppression::default()
        },
    ];
    let warnings = suppress(&mut f, &rules, "2026-12-06");
    assert_eq!(
        one(&f, "cis-2.4.1", "Files")
            .suppressed
            .as_ref()
            .unwrap()
            .source,
        "rampart.toml"
    );
    assert!(
        one(&f, "iac-s3-kms-encryption", "Site")
            .suppressed
            .is_none()
    );
    assert!(
        warnings[0].contains("expired on 2020-01-01"),
        "{warnings:?}"
    );
    // A suppression without a reason is refused where it is written.
    let bad = text.replace("            reason: public website, reviewed 2026-11\n", "");
    let e = read(&bad, &ReadOptions::default()).unwrap_err();
    assert_eq!((e.pos.line, e.pos.column), (7, 13));
    assert!(e.message.contains("non-empty `reason`"));
}

#[test]
fn references_resolve_to_the_resources_they_name() {
    let text = "Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
      KeyPolicy:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root'}
            Action: 'kms:*'
            Resource: '*'
          - Effect: Allow
            Principal: {AWS: !Join ['', ['arn:aws:iam::', '444455556666', ':root']]}
            Action: kms:Decrypt
            Resource: '*'
";
    let f = run(text, &ReadOptions::default());
    let k = one(&f, "iac-resource-policy-exposure", "Key");
    assert_eq!(k.status, Status::Fail, "{}", k.message);
    assert!(
        k.message.contains("account 444455556666") && !k.message.contains(STAND_IN_ACCOUNT),
        "{}",
        k.message
    );
    // The same account, given as --account, is the owner: nothing external.
    let opts = ReadOptions {
        account: Some("444455556666".into()),
        ..ReadOptions::default()
    };
    let dep = read(text, &opts).unwrap();
    let e = Env {
        account: "444455556666".into(),
        ..Env::default()
    };
    let f = check("t.yaml", &dep, &e);
    assert_eq!(
        one(&f, "iac-resource-policy-exposure", "Key").status,
        Status::Pass
    );
}

/// A bucket named with `!Sub` (the account and region as stand-ins) is the bucket its policy's
/// `!GetAtt Bucket.Arn` names: the TLS-only proof sees the same name on both sides.
#[test]
fn a_computed_bucket_name_is_the_same_on_both_sides_of_the_policy() {
    let text = "Resources:
  Data:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub 'data-${AWS::AccountId}-${AWS::Region}'
  Loop:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub '${Loop}-x'
  DataPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Data
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: '*'
            Action: 's3:*'
            Resource: [!GetAtt Data.Arn, !Sub '${Data.Arn}/*']
            Condition: {Bool: {aws:SecureTransport: 'false'}}
";
    let f = run(text, &ReadOptions::default());
    let tls = one(&f, "cis-2.1.1", "Data");
    assert_eq!(tls.status, Status::Pass, "{}", tls.message);
    // A name that refers to itself resolves to a stand-in, without looping.
    assert_eq!(one(&f, "cis-2.1.1", "Loop").status, Status::Fail);
}
