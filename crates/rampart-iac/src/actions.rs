//! The API actions creating a resource implies: what the deployment's role will call, so the
//! account's SCPs can be asked before deploy. Only the create call (and the calls the service
//! makes for the same resource that an SCP commonly targets) is listed; a type not listed is
//! not evaluated.

use crate::model::Source;

/// `(CloudFormation type, Terraform type, actions)`.
static TABLE: &[(&str, &str, &[&str])] = &[
    ("AWS::EC2::Instance", "aws_instance", &["ec2:RunInstances"]),
    (
        "AWS::EC2::LaunchTemplate",
        "aws_launch_template",
        &["ec2:CreateLaunchTemplate"],
    ),
    ("AWS::EC2::Volume", "aws_ebs_volume", &["ec2:CreateVolume"]),
    ("AWS::EC2::VPC", "aws_vpc", &["ec2:CreateVpc"]),
    ("AWS::EC2::Subnet", "aws_subnet", &["ec2:CreateSubnet"]),
    (
        "AWS::EC2::SecurityGroup",
        "aws_security_group",
        &["ec2:CreateSecurityGroup"],
    ),
    (
        "AWS::EC2::InternetGateway",
        "aws_internet_gateway",
        &["ec2:CreateInternetGateway"],
    ),
    (
        "AWS::EC2::NatGateway",
        "aws_nat_gateway",
        &["ec2:CreateNatGateway"],
    ),
    ("AWS::EC2::FlowLog", "aws_flow_log", &["ec2:CreateFlowLogs"]),
    ("AWS::S3::Bucket", "aws_s3_bucket", &["s3:CreateBucket"]),
    (
        "AWS::S3::BucketPolicy",
        "aws_s3_bucket_policy",
        &["s3:PutBucketPolicy"],
    ),
    (
        "",
        "aws_s3_bucket_public_access_block",
        &["s3:PutBucketPublicAccessBlock"],
    ),
    (
        "",
        "aws_s3_account_public_access_block",
        &["s3:PutAccountPublicAccessBlock"],
    ),
    ("AWS::IAM::Role", "aws_iam_role", &["iam:CreateRole"]),
    ("AWS::IAM::User", "aws_iam_user", &["iam:CreateUser"]),
    (
        "AWS::IAM::AccessKey",
        "aws_iam_access_key",
        &["iam:CreateAccessKey"],
    ),
    (
        "AWS::IAM::ManagedPolicy",
        "aws_iam_policy",
        &["iam:CreatePolicy"],
    ),
    ("AWS::KMS::Key", "aws_kms_key", &["kms:CreateKey"]),
    (
        "AWS::RDS::DBInstance",
        "aws_db_instance",
        &["rds:CreateDBInstance"],
    ),
    (
        "AWS::RDS::DBCluster",
        "aws_rds_cluster",
        &["rds:CreateDBCluster"],
    ),
    (
        "AWS::EFS::FileSystem",
        "aws_efs_file_system",
        &["elasticfilesystem:CreateFileSystem"],
    ),
    (
        "AWS::Lambda::Function",
        "aws_lambda_function",
        &["lambda:CreateFunction"],
    ),
    (
        "AWS::Lambda::Permission",
        "aws_lambda_permission",
        &["lambda:AddPermission"],
    ),
    ("AWS::SQS::Queue", "aws_sqs_queue", &["sqs:CreateQueue"]),
    ("AWS::SNS::Topic", "aws_sns_topic", &["sns:CreateTopic"]),
    (
        "AWS::DynamoDB::Table",
        "aws_dynamodb_table",
        &["dynamodb:CreateTable"],
    ),
    (
        "AWS::ECR::Repository",
        "aws_ecr_repository",
        &["ecr:CreateRepository"],
    ),
    (
        "AWS::SecretsManager::Secret",
        "aws_secretsmanager_secret",
        &["secretsmanager:CreateSecret"],
    ),
    (
        "AWS::CloudTrail::Trail",
        "aws_cloudtrail",
        &["cloudtrail:CreateTrail", "cloudtrail:StartLogging"],
    ),
    (
        "AWS::Logs::LogGroup",
        "aws_cloudwatch_log_group",
        &["logs:CreateLogGroup"],
    ),
    (
        "AWS::GuardDuty::Detector",
        "aws_guardduty_detector",
        &["guardduty:CreateDetector"],
    ),
    (
        "AWS::Config::ConfigurationRecorder",
        "aws_config_configuration_recorder",
        &["config:PutConfigurationRecorder"],
    ),
    (
        "AWS::EKS::Cluster",
        "aws_eks_cluster",
        &["eks:CreateCluster"],
    ),
    (
        "AWS::ECS::Cluster",
        "aws_ecs_cluster",
        &["ecs:CreateCluster"],
    ),
];

pub static CFN_TYPES: &[&str] = &[
    "AWS::EC2::Instance",
    "AWS::EC2::LaunchTemplate",
    "AWS::EC2::Volume",
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::NatGateway",
    "AWS::EC2::FlowLog",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::AccessKey",
    "AWS::IAM::ManagedPolicy",
    "AWS::KMS::Key",
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::EFS::FileSystem",
    "AWS::Lambda::Function",
    "AWS::Lambda::Permission",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::DynamoDB::Table",
    "AWS::ECR::Repository",
    "AWS::SecretsManager::Secret",
    "AWS::CloudTrail::Trail",
    "AWS::Logs::LogGroup",
    "AWS::GuardDuty::Detector",
    "AWS::Config::ConfigurationRecorder",
    "AWS::EKS::Cluster",
    "AWS::ECS::Cluster",
];

pub static TF_TYPES: &[&str] = &[
    "aws_instance",
    "aws_launch_template",
    "aws_ebs_volume",
    "aws_vpc",
    "aws_subnet",
    "aws_security_group",
    "aws_internet_gateway",
    "aws_nat_gateway",
    "aws_flow_log",
    "aws_s3_bucket",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_public_access_block",
    "aws_s3_account_public_access_block",
    "aws_iam_role",
    "aws_iam_user",
    "aws_iam_access_key",
    "aws_iam_policy",
    "aws_kms_key",
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_efs_file_system",
    "aws_lambda_function",
    "aws_lambda_permission",
    "aws_sqs_queue",
    "aws_sns_topic",
    "aws_dynamodb_table",
    "aws_ecr_repository",
    "aws_secretsmanager_secret",
    "aws_cloudtrail",
    "aws_cloudwatch_log_group",
    "aws_guardduty_detector",
    "aws_config_configuration_recorder",
    "aws_eks_cluster",
    "aws_ecs_cluster",
];

/// The actions creating a resource of `type_name` implies (empty when not known).
pub fn implied(source: Source, type_name: &str) -> &'static [&'static str] {
    TABLE
        .iter()
        .find(|(cfn, tf, _)| match source {
            Source::CloudFormation => *cfn == type_name && !cfn.is_empty(),
            Source::TerraformPlan => *tf == type_name,
        })
        .map(|(_, _, a)| *a)
        .unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The type lists the check reads are exactly the table's, and every action is in the IAM
    /// catalogue the policy engine knows.
    #[test]
    fn lists_match_the_table_and_actions_exist() {
        let cfn: Vec<&str> = TABLE
            .iter()
            .map(|t| t.0)
            .filter(|t| !t.is_empty())
            .collect();
        let tf: Vec<&str> = TABLE.iter().map(|t| t.1).collect();
        assert_eq!(cfn, CFN_TYPES);
        assert_eq!(tf, TF_TYPES);
        for (_, _, actions) in TABLE {
            for a in *actions {
                let (svc, name) = a.split_once(':').unwrap();
                let known = rampart_policy::catalog::catalog()
                    .services
                    .get(svc)
                    .and_then(|s| s.action(&name.to_ascii_lowercase()));
                assert!(known.is_some(), "{a} is not in the IAM catalogue");
            }
        }
    }
}
