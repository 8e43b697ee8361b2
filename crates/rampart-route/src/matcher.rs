//! Which routes an alert goes to: globs over rule ids, finding types and accounts, severities,
//! sources, and OUs resolved from the organization tree of a `rampart collect` snapshot.

use crate::config::{DEFAULT_ROUTE, Route};
use rampart_detect::Alert;
use rampart_detect::ir::Severity;
use std::collections::HashMap;

/// A shell-style pattern: `*` any run of characters, `?` one character; case-sensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob(Vec<char>);

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        Glob(pattern.chars().collect())
    }

    pub fn matches(&self, text: &str) -> bool {
        let t: Vec<char> = text.chars().collect();
        let p = &self.0;
        // the classic linear backtracking matcher: remember the last `*` and retry from it
        let (mut i, mut j) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while i < t.len() {
            if j < p.len() && (p[j] == '?' || p[j] == t[i]) {
                i += 1;
                j += 1;
            } else if j < p.len() && p[j] == '*' {
                star = Some((j, i));
                j += 1;
            } else if let Some((sj, si)) = star {
                j = sj + 1;
                i = si + 1;
                star = Some((sj, si + 1));
            } else {
                return false;
            }
        }
        p[j..].iter().all(|c| *c == '*')
    }
}

/// A route's conditions; every key given must hold, a list holds when any of its items does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Match {
    pub min_severity: Option<Severity>,
    pub severity: Vec<Severity>,
    pub rule: Vec<Glob>,
    pub finding_type: Vec<Glob>,
    pub account: Vec<Glob>,
    /// OU ids (`ou-…`) or names; an account matches when any OU above it does.
    pub ou: Vec<String>,
    pub source: Vec<String>,
}

impl Match {
    pub fn is_empty(&self) -> bool {
        *self == Match::default()
    }
}

/// What routing looks at in an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub severity: Severity,
    pub rule_id: String,
    pub source: String,
    pub account: Option<String>,
    /// The service's finding type (intake findings): the matched field `finding_type` when the
    /// alert carries one, else the rule id of a service source; none for rampart's own rules.
    pub finding_type: Option<String>,
}

/// rampart's own rule sources (the others are services whose findings are taken in).
const OWN_SOURCES: [&str; 4] = ["builtin", "sigma", "pattern", "baseline"];

impl Subject {
    pub fn of(a: &Alert) -> Subject {
        let source = a.rule_source().to_string();
        let finding_type = match a.matched().get("finding_type") {
            Some(serde_json::Value::String(t)) => Some(t),
            _ if !OWN_SOURCES.contains(&source.as_str()) => Some(a.rule_id().to_string()),
            _ => None,
        };
        Subject {
            severity: a.severity(),
            rule_id: a.rule_id().to_string(),
            source,
            account: a.account().map(str::to_string),
            finding_type,
        }
    }
}

/// Account id → the ids and names of every OU above it (from the organization's tree).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgTree {
    ous_of: HashMap<String, Vec<String>>,
}

impl OrgTree {
    /// The tree of a `rampart collect` snapshot's organization.
    pub fn from_organization(org: &rampart_snapshot::Organization) -> OrgTree {
        let names: HashMap<&str, &str> = org
            .organizational_units
            .iter()
            .map(|o| (o.id.as_str(), o.name.as_str()))
            .collect();
        let ous_of = org
            .accounts
            .iter()
            .map(|a| {
                let ous = org
                    .path_to(&a.id)
                    .iter()
                    .filter_map(|id| names.get_key_value(id.as_str()))
                    .flat_map(|(id, name)| [id.to_string(), name.to_string()])
                    .collect();
                (a.id.clone(), ous)
            })
            .collect();
        OrgTree { ous_of }
    }

    /// A tree given directly (tests, other sources): account → OU ids and names above it.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, Vec<String>)>) -> OrgTree {
        OrgTree {
            ous_of: pairs.into_iter().collect(),
        }
    }

    fn in_ou(&self, account: Option<&str>, ou: &str) -> bool {
        account
            .and_then(|a| self.ous_of.get(a))
            .is_some_and(|ous| ous.iter().any(|o| o == ou))
    }
}

impl Match {
    pub fn matches(&self, s: &Subject, org: &OrgTree) -> bool {
        let any_glob = |globs: &[Glob], v: Option<&str>| {
            globs.is_empty() || v.is_some_and(|v| globs.iter().any(|g| g.matches(v)))
        };
        self.min_severity.is_none_or(|m| s.severity >= m)
            && (self.severity.is_empty() || self.severity.contains(&s.severity))
            && any_glob(&self.rule, Some(&s.rule_id))
            && any_glob(&self.finding_type, s.finding_type.as_deref())
            && any_glob(&self.account, s.account.as_deref())
            && (self.ou.is_empty() || self.ou.iter().any(|o| org.in_ou(s.account.as_deref(), o)))
            && (self.source.is_empty() || self.source.contains(&s.source))
    }
}

/// The routes an alert goes to, in file order: the first match, and after it further matches
/// while the matched route says `continue = true`; the `default` route when none matched;
/// empty when none matched and there is no default (the CLI's own sinks take it then).
pub fn select<'r>(routes: &'r [Route], s: &Subject, org: &OrgTree) -> Vec<&'r Route> {
    let mut out = Vec::new();
    for r in routes.iter().filter(|r| r.name != DEFAULT_ROUTE) {
        if r.matcher.matches(s, org) {
            out.push(r);
            if !r.continue_matching {
                break;
            }
        }
    }
    if out.is_empty()
        && let Some(d) = routes.iter().find(|r| r.name == DEFAULT_ROUTE)
    {
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Destination;
    use proptest::prelude::*;

    fn subject(sev: Severity, rule: &str, account: &str) -> Subject {
        Subject {
            severity: sev,
            rule_id: rule.into(),
            source: "builtin".into(),
            account: Some(account.into()),
            finding_type: None,
        }
    }

    fn route(name: &str, m: Match, cont: bool) -> Route {
        Route {
            name: name.into(),
            matcher: m,
            continue_matching: cont,
            destination: Destination::Sns {
                topic_arn: "arn:aws:sns:eu-west-1:1:t".into(),
            },
            rate_limit: None,
            digest: None,
            escalation: None,
        }
    }

    #[test]
    fn globs() {
        let g = Glob::new("RD-IAM-*");
        assert!(g.matches("RD-IAM-003") && g.matches("RD-IAM-"));
        assert!(!g.matches("RD-TAMPER-001") && !g.matches("rd-iam-003"));
        assert!(Glob::new("*Recon*").matches("Recon:IAMUser/MaliciousIPCaller"));
        assert!(Glob::new("1111????3333").matches("111122223333"));
        assert!(!Glob::new("a*b").matches("acbc"));
        assert!(Glob::new("*").matches(""));
    }

    #[test]
    fn first_match_wins_unless_continue_and_default_takes_the_rest() {
        let high = Match {
            min_severity: Some(Severity::High),
            ..Default::default()
        };
        let iam = Match {
            rule: vec![Glob::new("RD-IAM-*")],
            ..Default::default()
        };
        let org = OrgTree::default();
        let routes = vec![
            route("page", high.clone(), false),
            route("iam", iam.clone(), false),
            route("default", Match::default(), false),
        ];
        let names = |s: &Subject, rs: &[Route]| -> Vec<String> {
            select(rs, s, &org).iter().map(|r| r.name.clone()).collect()
        };
        let s = subject(Severity::Critical, "RD-IAM-003", "1");
        assert_eq!(names(&s, &routes), ["page"]);
        let with_continue = vec![
            route("page", high, true),
            route("iam", iam, false),
            route("default", Match::default(), false),
        ];
        assert_eq!(names(&s, &with_continue), ["page", "iam"]);
        assert_eq!(
            names(&subject(Severity::Low, "RD-X", "1"), &routes),
            ["default"]
        );
        assert!(names(&subject(Severity::Low, "RD-X", "1"), &routes[..2]).is_empty());
    }

    #[test]
    fn ou_resolved_from_the_snapshot_tree() {
        let org = rampart_snapshot::Organization {
            roots: vec![rampart_snapshot::OrgRoot {
                id: "r-1".into(),
                ..Default::default()
            }],
            organizational_units: vec![
                rampart_snapshot::OrganizationalUnit {
                    id: "ou-w".into(),
                    name: "Workloads".into(),
                    parent_id: "r-1".into(),
                    ..Default::default()
                },
                rampart_snapshot::OrganizationalUnit {
                    id: "ou-p".into(),
                    name: "Prod".into(),
                    parent_id: "ou-w".into(),
                    ..Default::default()
                },
            ],
            accounts: vec![
                rampart_snapshot::OrgAccount {
                    id: "111".into(),
                    parent_id: "ou-p".into(),
                    ..Default::default()
                },
                rampart_snapshot::OrgAccount {
                    id: "222".into(),
                    parent_id: "r-1".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let tree = OrgTree::from_organization(&org);
        for ou in ["Workloads", "ou-w", "Prod", "ou-p"] {
            let m = Match {
                ou: vec![ou.into()],
                ..Default::default()
            };
            assert!(
                m.matches(&subject(Severity::Low, "R", "111"), &tree),
                "{ou}"
            );
            assert!(
                !m.matches(&subject(Severity::Low, "R", "222"), &tree),
                "{ou}"
            );
            assert!(
                !m.matches(&subject(Severity::Low, "R", "999"), &tree),
                "{ou}"
            );
        }
    }

    fn severity() -> impl Strategy<Value = Severity> {
        prop_oneof![
            Just(Severity::Info),
            Just(Severity::Low),
            Just(Severity::Medium),
            Just(Severity::High),
            Just(Severity::Critical)
        ]
    }

    /// Reference glob semantics: a regular expression built from the pattern (`(?s)`: `*`
    /// spans every character).
    fn glob_regex(p: &str) -> String {
        let mut re = String::from("(?s)^");
        for c in p.chars() {
            match c {
                '*' => re.push_str(".*"),
                '?' => re.push('.'),
                c => re.push_str(&regex_escape(c)),
            }
        }
        re.push('$');
        re
    }

    fn regex_escape(c: char) -> String {
        regex::escape(&c.to_string())
    }

    proptest! {
        #[test]
        fn glob_agrees_with_a_regex(p in "[ab*?-]{0,8}", t in "[ab-]{0,10}") {
            let re = regex::Regex::new(&glob_regex(&p)).unwrap();
            prop_assert_eq!(Glob::new(&p).matches(&t), re.is_match(&t), "{} vs {}", p, t);
        }

        /// Severity conditions agree with their definition; an empty match takes everything;
        /// the selection is never empty with a default route and never repeats a route.
        #[test]
        fn selection_is_consistent(
            sev in severity(), min in proptest::option::of(severity()),
            conts in proptest::collection::vec(any::<bool>(), 1..5),
        ) {
            let s = subject(sev, "RD-IAM-1", "1");
            let m = Match { min_severity: min, ..Default::default() };
            prop_assert_eq!(m.matches(&s, &OrgTree::default()), min.is_none_or(|m| sev >= m));
            prop_assert!(Match::default().matches(&s, &OrgTree::default()));
            let mut routes: Vec<Route> = conts.iter().enumerate()
                .map(|(i, c)| route(&format!("r{i}"), m.clone(), *c)).collect();
            routes.push(route("default", Match::default(), false));
            let picked = select(&routes, &s, &OrgTree::default());
            prop_assert!(!picked.is_empty());
            let mut names: Vec<&str> = picked.iter().map(|r| r.name.as_str()).collect();
            let n = names.len();
            names.dedup();
            prop_assert_eq!(names.len(), n);
            if m.matches(&s, &OrgTree::default()) {
                // the chain of `continue` routes, up to and including the first that stops
                let stop = conts.iter().position(|c| !c).map_or(conts.len(), |i| i + 1);
                prop_assert_eq!(n, stop);
            } else {
                prop_assert_eq!(names, vec!["default"]);
            }
        }
    }
}
