//! Property tests: the readers never panic on any text, and a template gives the same verdicts
//! and statuses whether written in YAML (short-form intrinsics) or JSON (long form).

use proptest::prelude::*;
use rampart_iac::checks::Env;
use rampart_iac::model::ReadOptions;
use rampart_iac::{Status, check, read};

fn env() -> Env {
    Env {
        account: "111122223333".into(),
        ..Env::default()
    }
}

fn verdicts(text: &str, opts: &ReadOptions) -> Vec<(String, String, Status)> {
    let dep = read(text, opts).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut v: Vec<_> = check("t", &dep, &env())
        .into_iter()
        .map(|f| (f.control.id.to_string(), f.resource, f.status))
        .collect();
    v.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_reads_or_errors_with_a_position(s in "\\PC{0,200}") {
        if let Err(e) = read(&s, &ReadOptions::default()) {
            prop_assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn yaml_like_text_never_panics(s in "([ -~]|\n|!Ref |!Sub |!If |- |: |&a |\\*a ){0,120}") {
        let _ = read(&s, &ReadOptions::default());
    }

    #[test]
    fn yaml_and_json_forms_agree(
        port in prop_oneof![Just(22u16), Just(3389), Just(443), 0u16..65535],
        cidr in prop_oneof![Just("0.0.0.0/0"), Just("10.0.0.0/8")],
        encrypted in any::<bool>(),
        param in prop_oneof![Just(None), Just(Some("true")), Just(Some("false"))],
    ) {
        let yaml = format!("Parameters:
  Enc:
    Type: String
Resources:
  Web:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Sub '${{AWS::StackName}} web'
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: {port}
          ToPort: {port}
          CidrIp: {cidr}
  Files:
    Type: AWS::EFS::FileSystem
    Properties:
      Encrypted: {encrypted}
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      DBSubnetGroupName: private
      StorageEncrypted: !Ref Enc
");
        let json = format!(r#"{{"Parameters": {{"Enc": {{"Type": "String"}}}},
 "Resources": {{
  "Web": {{"Type": "AWS::EC2::SecurityGroup", "Properties": {{
     "GroupDescription": {{"Fn::Sub": "${{AWS::StackName}} web"}},
     "SecurityGroupIngress": [{{"IpProtocol": "tcp", "FromPort": {port}, "ToPort": {port}, "CidrIp": "{cidr}"}}]}}}},
  "Files": {{"Type": "AWS::EFS::FileSystem", "Properties": {{"Encrypted": {encrypted}}}}},
  "Db": {{"Type": "AWS::RDS::DBInstance", "Properties": {{"DBSubnetGroupName": "private", "StorageEncrypted": {{"Ref": "Enc"}}}}}}}}}}"#);
        let mut opts = ReadOptions::default();
        if let Some(p) = param {
            opts.parameters.insert("Enc".into(), p.into());
        }
        let y = verdicts(&yaml, &opts);
        prop_assert_eq!(&y, &verdicts(&json, &opts));
        let sg = y.iter().find(|v| v.0 == "cis-5.2").unwrap();
        let open = cidr == "0.0.0.0/0" && (port == 22 || port == 3389);
        prop_assert_eq!(sg.2, if open { Status::Fail } else { Status::Pass });
        let db = y.iter().find(|v| v.0 == "cis-2.3.1").unwrap();
        prop_assert_eq!(db.2, match param { None => Status::Unknown, Some("true") => Status::Pass, _ => Status::Fail });
    }
}
