//! Who rampart never contains: break-glass users, the guardrails' exempt roles and the roles
//! rampart itself runs as. Locking any of them out could leave nobody able to repair things.

use crate::target::Target;

/// The protected identities, from rampart.toml (and `--role-name`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guards {
    /// `[audit] break_glass_users`
    pub break_glass_users: Vec<String>,
    /// `[guardrails] exempt_roles`
    pub exempt_roles: Vec<String>,
    /// `[organization] role_name`, `--role-name`: the roles rampart assumes.
    pub own_roles: Vec<String>,
}

impl Guards {
    /// Reads the three lists from rampart.toml's text (sections absent: empty lists).
    pub fn from_toml(text: &str) -> Result<Guards, String> {
        let v: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let list = |section: &str, key: &str| -> Vec<String> {
            v.get(section)
                .and_then(|s| s.get(key))
                .and_then(|l| l.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut own = Vec::new();
        if let Some(r) = v
            .get("organization")
            .and_then(|o| o.get("role_name"))
            .and_then(|r| r.as_str())
        {
            own.push(r.to_string());
        }
        Ok(Guards {
            break_glass_users: list("audit", "break_glass_users"),
            exempt_roles: list("guardrails", "exempt_roles"),
            own_roles: own,
        })
    }

    /// `Err(reason)` when `target` is protected. IAM names are unique case-insensitively,
    /// so they are compared that way.
    pub fn check(&self, target: &Target) -> Result<(), String> {
        let is = |list: &[String], name: &str| list.iter().any(|x| x.eq_ignore_ascii_case(name));
        match target {
            Target::User { name } | Target::AccessKey { user: name, .. }
                if is(&self.break_glass_users, name) =>
            {
                Err(format!(
                    "refused: user `{name}` is a break-glass user ([audit] break_glass_users); rampart never contains it — act by hand if you must"
                ))
            }
            Target::Role { name } if is(&self.own_roles, name) => Err(format!(
                "refused: role `{name}` is the role rampart runs as ([organization] role_name / --role-name); containing it would lock rampart out"
            )),
            Target::Role { name } if is(&self.exempt_roles, name) => Err(format!(
                "refused: role `{name}` is exempt from the guardrails ([guardrails] exempt_roles: break-glass and administration); rampart never contains it — act by hand if you must"
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guards() -> Guards {
        Guards::from_toml(
            r#"
[organization]
role_name = "OrganizationAccountAccessRole"
[guardrails]
exempt_roles = ["BreakGlass", "OrganizationAccountAccessRole"]
[audit]
break_glass_users = ["emergency"]
"#,
        )
        .unwrap()
    }

    #[test]
    fn break_glass_users_are_refused_with_the_reason() {
        let g = guards();
        for t in [
            Target::User {
                name: "emergency".into(),
            },
            Target::User {
                name: "EMERGENCY".into(),
            },
            Target::AccessKey {
                user: "emergency".into(),
                key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            },
        ] {
            let e = g.check(&t).unwrap_err();
            assert!(e.contains("break_glass_users"), "{e}");
        }
    }

    #[test]
    fn exempt_roles_are_refused_with_the_reason() {
        let e = guards()
            .check(&Target::Role {
                name: "BreakGlass".into(),
            })
            .unwrap_err();
        assert!(e.contains("exempt_roles"), "{e}");
    }

    #[test]
    fn rampart_own_role_is_refused_with_the_reason() {
        let e = guards()
            .check(&Target::Role {
                name: "OrganizationAccountAccessRole".into(),
            })
            .unwrap_err();
        assert!(e.contains("lock rampart out"), "{e}");
    }

    #[test]
    fn others_pass() {
        let g = guards();
        assert!(
            g.check(&Target::User {
                name: "alice".into()
            })
            .is_ok()
        );
        assert!(g.check(&Target::Role { name: "Dev".into() }).is_ok());
        assert!(
            g.check(&Target::Bucket {
                name: "emergency".into(),
                account_level: false
            })
            .is_ok()
        );
    }
}
