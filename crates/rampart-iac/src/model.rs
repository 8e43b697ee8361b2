//! What the readers produce and the checks read: a deployment (one template or plan) as a list
//! of resources with resolved properties and positions, whatever the input syntax.

use crate::node::Pos;
use crate::value::V;
use std::collections::HashMap;

/// Which reader a file went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    CloudFormation,
    TerraformPlan,
}

/// A suppression written in the template, on the resource (`Metadata.rampart.suppress`).
#[derive(Debug, Clone, PartialEq)]
pub struct InlineSuppression {
    pub control: String,
    pub reason: String,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// CloudFormation logical id, or Terraform address (`module.net.aws_vpc.main`).
    pub id: String,
    /// `AWS::S3::Bucket` or `aws_s3_bucket`.
    pub type_name: String,
    /// Where the resource is declared (its logical id key; a plan's `address`).
    pub pos: Pos,
    /// The resolved properties (a map; empty when the template gives none).
    pub props: V,
    pub suppressions: Vec<InlineSuppression>,
    /// Top-level property → the resource of this deployment it refers to.
    pub links: HashMap<String, String>,
    /// Why the resource may not be created (a condition that cannot be decided), if so.
    pub conditional: Option<String>,
}

impl Resource {
    pub fn prop(&self, path: &[&str]) -> Option<&V> {
        self.props.at(path)
    }

    /// The resource a top-level property refers to.
    pub fn link(&self, prop: &str) -> Option<&str> {
        self.links
            .get(prop)
            .map(String::as_str)
            .or_else(|| self.props.get(prop)?.target())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub source: Source,
    /// The region the resources are created in, when the template or plan says (a Terraform
    /// provider's `region`) or `--region` gives it.
    pub region: Option<String>,
    pub resources: Vec<Resource>,
    /// Resources left out because their condition is false for the given parameters.
    pub skipped: usize,
}

impl Deployment {
    pub fn resource(&self, id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.id == id)
    }

    pub fn of_type<'a>(&'a self, types: &'a [&'a str]) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources
            .iter()
            .filter(move |r| types.contains(&r.type_name.as_str()))
    }
}

/// Reader options: what the user knows about the deployment.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Template parameter values (`--parameter Key=Value`), overriding defaults.
    pub parameters: HashMap<String, String>,
    pub region: Option<String>,
    /// The account deployed to (`--account`); otherwise `${AWS::AccountId}` is a stand-in.
    pub account: Option<String>,
}

/// The account id `${AWS::AccountId}` stands for when `--account` is not given (the AWS
/// documentation's example account): policies naming "this account" are judged relative to it.
pub const STAND_IN_ACCOUNT: &str = "111122223333";
