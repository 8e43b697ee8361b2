//! `[identity]`: IAM Identity Center as code — permission sets, identity-store groups, and
//! assignments of a group and a permission set to OUs (every account in them, recursively, as
//! the organization is at plan time) or single accounts.

use super::Config;
use rampart_snapshot::{PermissionsBoundary, PolicyReference};
use serde::Deserialize;

/// The OU path that stands for the organization's root: every account.
pub const ROOT_PATH: &str = "/";

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    #[serde(default)]
    pub permission_sets: Vec<PermissionSetSpec>,
    #[serde(default)]
    pub groups: Vec<GroupSpec>,
    #[serde(default)]
    pub assignments: Vec<AssignmentSpec>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PermissionSetSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// ISO 8601 duration, one to twelve hours (`PT1H`, `PT8H`, `PT90M`).
    #[serde(default = "default_session")]
    pub session_duration: String,
    /// AWS managed policy ARNs (`arn:aws:iam::aws:policy/SecurityAudit`).
    #[serde(default)]
    pub managed_policies: Vec<String>,
    /// Customer managed policies by `name` or `/path/name`; each must exist in every account the
    /// set is assigned to.
    #[serde(default)]
    pub customer_managed_policies: Vec<String>,
    /// An identity policy (JSON), linted before anything is planned.
    #[serde(default)]
    pub inline_policy: Option<String>,
    /// An AWS managed policy ARN, or a customer managed policy as `name` or `/path/name`.
    #[serde(default)]
    pub permissions_boundary: Option<String>,
}

fn default_session() -> String {
    "PT1H".into()
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// The group's display name in the identity store.
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AssignmentSpec {
    pub group: String,
    pub permission_set: String,
    /// OU paths (`Workloads`, `Workloads/Prod`) or `/` for the whole organization.
    #[serde(default)]
    pub ous: Vec<String>,
    /// Account ids, or names of `[[accounts]]`.
    #[serde(default)]
    pub accounts: Vec<String>,
}

/// `name` or `/path/name` → a policy reference (path `/` by default).
pub fn policy_reference(text: &str) -> PolicyReference {
    match text.rfind('/') {
        Some(i) => PolicyReference {
            name: text[i + 1..].to_string(),
            path: text[..=i].to_string(),
        },
        None => PolicyReference {
            name: text.to_string(),
            path: "/".into(),
        },
    }
}

/// The boundary a `permissions_boundary` value names.
pub fn boundary(text: &str) -> PermissionsBoundary {
    if text.starts_with("arn:") {
        PermissionsBoundary {
            managed_policy_arn: Some(text.to_string()),
            customer_managed: None,
        }
    } else {
        PermissionsBoundary {
            managed_policy_arn: None,
            customer_managed: Some(policy_reference(text)),
        }
    }
}

/// Minutes in an ISO 8601 duration of hours and minutes (`PT1H30M`), if it is one.
pub fn duration_minutes(text: &str) -> Option<u32> {
    let rest = text.strip_prefix("PT")?;
    let (mut total, mut num, mut any) = (0u32, String::new(), false);
    for c in rest.chars() {
        match c {
            '0'..='9' => num.push(c),
            'H' | 'M' if !num.is_empty() => {
                let n: u32 = num.parse().ok()?;
                total = total.checked_add(if c == 'H' { n.checked_mul(60)? } else { n })?;
                num.clear();
                any = true;
            }
            _ => return None,
        }
    }
    (any && num.is_empty()).then_some(total)
}

fn valid_name(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

impl Identity {
    /// Checks names and references; `Err((text to point at, message))`.
    pub(crate) fn check(&self, cfg: &Config) -> Result<(), (String, String)> {
        let err = |needle: &str, m: String| Err((needle.to_string(), m));
        for (i, p) in self.permission_sets.iter().enumerate() {
            if !valid_name(&p.name, 32) {
                return err(
                    &p.name,
                    format!(
                        "permission set name `{}` must be 1–32 letters, digits or _+=,.@-",
                        p.name
                    ),
                );
            }
            if self.permission_sets[..i].iter().any(|q| q.name == p.name) {
                return err(
                    &p.name,
                    format!("permission set `{}` is defined twice", p.name),
                );
            }
            match duration_minutes(&p.session_duration) {
                Some(m) if (60..=720).contains(&m) => {}
                _ => {
                    return err(
                        &p.session_duration,
                        format!(
                            "permission set `{}`: session_duration `{}` must be an ISO 8601 duration from PT1H to PT12H",
                            p.name, p.session_duration
                        ),
                    );
                }
            }
            for m in &p.managed_policies {
                if !m.starts_with("arn:aws:iam::aws:policy/") {
                    return err(
                        m,
                        format!(
                            "permission set `{}`: managed_policies takes AWS managed policy ARNs (arn:aws:iam::aws:policy/…), got `{m}`; customer managed policies go in customer_managed_policies",
                            p.name
                        ),
                    );
                }
            }
            if p.managed_policies.len() + p.customer_managed_policies.len() > 20 {
                return err(
                    &p.name,
                    format!(
                        "permission set `{}` attaches more than 20 policies (the Identity Center quota)",
                        p.name
                    ),
                );
            }
            for c in &p.customer_managed_policies {
                let r = policy_reference(c);
                if !valid_name(&r.name, 128) || !r.path.starts_with('/') && r.path != "/" {
                    return err(
                        c,
                        format!(
                            "permission set `{}`: `{c}` is not a policy `name` or `/path/name`",
                            p.name
                        ),
                    );
                }
            }
            if let Some(b) = &p.permissions_boundary
                && !b.starts_with("arn:aws:iam::aws:policy/")
                && !valid_name(&policy_reference(b).name, 128)
            {
                return err(
                    b,
                    format!(
                        "permission set `{}`: permissions_boundary `{b}` is neither an AWS managed policy ARN nor a policy `name` or `/path/name`",
                        p.name
                    ),
                );
            }
        }
        for (i, g) in self.groups.iter().enumerate() {
            if g.name.trim().is_empty() || g.name.len() > 1024 {
                return err("[[identity.groups]]", "a group needs a name".to_string());
            }
            if self.groups[..i].iter().any(|h| h.name == g.name) {
                return err(&g.name, format!("group `{}` is defined twice", g.name));
            }
        }
        for a in &self.assignments {
            if !self.groups.iter().any(|g| g.name == a.group) {
                return err(
                    &a.group,
                    format!(
                        "assignment names group `{}`, which is not in [[identity.groups]]",
                        a.group
                    ),
                );
            }
            if !self
                .permission_sets
                .iter()
                .any(|p| p.name == a.permission_set)
            {
                return err(
                    &a.permission_set,
                    format!(
                        "assignment names permission set `{}`, which is not in [[identity.permission_sets]]",
                        a.permission_set
                    ),
                );
            }
            if a.ous.is_empty() && a.accounts.is_empty() {
                return err(
                    &a.group,
                    format!(
                        "assignment of `{}` to group `{}` has no ous and no accounts",
                        a.permission_set, a.group
                    ),
                );
            }
            for ou in &a.ous {
                if ou != ROOT_PATH && !cfg.organization.ous.contains(ou) {
                    return err(
                        ou,
                        format!(
                            "assignment names OU `{ou}`, which is not in organization.ous (use \"/\" for every account)"
                        ),
                    );
                }
            }
            for acct in &a.accounts {
                let id = acct.len() == 12 && acct.chars().all(|c| c.is_ascii_digit());
                if !id && !cfg.accounts.iter().any(|x| x.name == *acct) {
                    return err(
                        acct,
                        format!(
                            "assignment names account `{acct}`, which is neither a 12-digit id nor one of [[accounts]]"
                        ),
                    );
                }
            }
        }
        Ok(())
    }

    /// The permission set named `name`.
    pub fn permission_set(&self, name: &str) -> Option<&PermissionSetSpec> {
        self.permission_sets.iter().find(|p| p.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_references() {
        assert_eq!(duration_minutes("PT1H"), Some(60));
        assert_eq!(duration_minutes("PT1H30M"), Some(90));
        assert_eq!(duration_minutes("PT90M"), Some(90));
        for bad in ["1H", "PT", "PTH", "PT1D", "PT1H3", "P1D"] {
            assert_eq!(duration_minutes(bad), None, "{bad}");
        }
        assert_eq!(
            policy_reference("/team/ReadBuckets"),
            PolicyReference {
                name: "ReadBuckets".into(),
                path: "/team/".into()
            }
        );
        assert_eq!(policy_reference("Plain").path, "/");
        assert_eq!(
            boundary("arn:aws:iam::aws:policy/PowerUserAccess").managed_policy_arn,
            Some("arn:aws:iam::aws:policy/PowerUserAccess".into())
        );
        assert_eq!(boundary("Limits").customer_managed.unwrap().name, "Limits");
    }
}
