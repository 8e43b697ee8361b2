//! Who can become admin: per account, a graph whose edges are "principal A can gain the
//! permissions of B" (or full control), found by the escalation [`methods`] and each decided by
//! the policy engine (`rampart-policy`) with A's identity policies, its permissions boundary,
//! the SCPs in force, the target's trust policy and the conditions (see [`relax`] for
//! conditions on request context a snapshot cannot know). Shortest paths by breadth-first
//! search, each step with the statements that allow it.
//!
//! Data flow: [`AccountIam::from_snapshot`] (parse once) → [`analyze`] (admins, then every
//! non-admin's edges) → [`Analysis::paths_to_admin`] / [`Analysis::path`].

pub mod account;
mod decide;
pub mod methods;
pub mod relax;

pub use account::{AccountError, AccountIam, Node, NodeKind};
pub use decide::{ADMIN_ACTIONS, ADMIN_POLICY, Check, Cite};
pub use methods::{Edge, METHODS, Method, To, method};

use decide::{Actor, Decider};
use methods::{Finder, Trusts};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};

/// The graph of one account.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub account: AccountIam,
    /// Per node: `None` not admin, `Some(conditional)` admin.
    pub admin: Vec<Option<bool>>,
    /// Edges out of every non-admin node (an admin can already do anything).
    pub edges: Vec<Edge>,
}

/// Builds the graph: every method for every non-admin principal, in parallel.
pub fn analyze(account: AccountIam) -> Analysis {
    let (admin, edges) = graph(&account);
    Analysis {
        account,
        admin,
        edges,
    }
}

/// Who is admin, and every non-admin's edges.
fn graph(account: &AccountIam) -> (Vec<Option<bool>>, Vec<Edge>) {
    let d = Decider::new(account);
    let admin: Vec<Option<bool>> = (0..account.nodes.len()).map(|i| d.is_admin(i)).collect();
    let trusts = Trusts::new(&d);
    let finder = Finder {
        d: &d,
        trusts: &trusts,
    };
    let todo: Vec<usize> = (0..account.nodes.len())
        .filter(|&i| admin[i].is_none())
        .collect();
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(todo.len().max(1));
    let chunk = todo.len().div_ceil(workers).max(1);
    let mut edges: Vec<Edge> = std::thread::scope(|s| {
        let handles: Vec<_> = todo
            .chunks(chunk)
            .map(|nodes| {
                let finder = &finder;
                s.spawn(move || {
                    let mut out = Vec::new();
                    for &n in nodes {
                        let actor = finder.d.actor(n);
                        for m in METHODS {
                            finder.edges(&actor, m, &mut out);
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    edges.sort_by_key(|e| (e.from, method_rank(e.method)));
    (admin, edges)
}

fn method_rank(id: &str) -> usize {
    METHODS
        .iter()
        .position(|m| m.id == id)
        .unwrap_or(usize::MAX)
}

/// Where a path should end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// Full control: an admin principal or an edge to admin.
    Admin,
    Node(usize),
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub from: String,
    /// The ARN gained, or `admin`.
    pub to: String,
    pub method: &'static str,
    pub title: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    pub checks: Vec<Check>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A shortest path from one principal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Path {
    pub account: String,
    pub from: String,
    /// `admin` or the target ARN.
    pub to: String,
    pub steps: Vec<Step>,
    /// Some step holds only under conditions a snapshot cannot settle.
    pub conditional: bool,
}

impl Path {
    /// `user/dev -[iam-create-policy-version]-> admin` on one line.
    pub fn summary(&self) -> String {
        let mut s = short(&self.from).to_string();
        for st in &self.steps {
            s.push_str(&format!(" -[{}]-> {}", st.method, short(&st.to)));
        }
        s
    }
}

/// `user/alice` from `arn:aws:iam::1:user/alice`.
pub fn short(arn: &str) -> &str {
    arn.rsplit_once(':').map_or(arn, |(_, r)| r)
}

impl Analysis {
    /// Nodes `goal` is reachable from, with the first edge of a shortest path (reverse BFS).
    fn next_hops(&self, goal: Goal) -> Vec<Option<Option<usize>>> {
        let n = self.account.nodes.len();
        // `Some(None)`: the node is the goal; `Some(Some(e))`: take edge `e`.
        let mut hop: Vec<Option<Option<usize>>> = vec![None; n];
        let mut into: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut queue = VecDeque::new();
        for (ei, e) in self.edges.iter().enumerate() {
            match e.to {
                To::Node(t) => into[t].push(ei),
                To::Admin if goal == Goal::Admin && hop[e.from].is_none() => {
                    hop[e.from] = Some(Some(ei));
                }
                To::Admin => {}
            }
        }
        match goal {
            Goal::Admin => {
                for (i, a) in self.admin.iter().enumerate() {
                    if a.is_some() {
                        hop[i] = Some(None);
                    }
                }
                // Admin nodes first (zero steps), then one-step edges to admin.
                queue.extend((0..n).filter(|&i| hop[i] == Some(None)));
                queue.extend((0..n).filter(|&i| matches!(hop[i], Some(Some(_)))));
            }
            Goal::Node(t) => {
                hop[t] = Some(None);
                queue.push_back(t);
            }
        }
        while let Some(v) = queue.pop_front() {
            for &ei in &into[v] {
                let f = self.edges[ei].from;
                if hop[f].is_none() {
                    hop[f] = Some(Some(ei));
                    queue.push_back(f);
                }
            }
        }
        hop
    }

    fn walk(
        &self,
        from: usize,
        hop: &[Option<Option<usize>>],
        goal: Goal,
        explainer: &mut Explainer<'_>,
    ) -> Option<Path> {
        let nodes = &self.account.nodes;
        let mut steps = Vec::new();
        let mut cur = from;
        let mut to_admin = false;
        while let Some(Some(ei)) = hop[cur] {
            let e = &self.edges[ei];
            let m = method(e.method)?;
            let to = match e.to {
                To::Node(t) => nodes[t].arn.clone(),
                To::Admin => "admin".to_string(),
            };
            let mut checks = e.checks.clone();
            explainer.explain(cur, &mut checks);
            steps.push(Step {
                from: nodes[cur].arn.clone(),
                to,
                method: e.method,
                title: m.title,
                via: e.via.clone(),
                checks,
                note: e.note.clone(),
            });
            match e.to {
                To::Node(t) => cur = t,
                To::Admin => {
                    to_admin = true;
                    break;
                }
            }
            if steps.len() > nodes.len() {
                return None;
            }
        }
        hop[cur]?;
        let conditional = steps
            .iter()
            .any(|s| s.note.is_some() || s.checks.iter().any(|c| c.conditional.is_some()))
            || (goal == Goal::Admin && !to_admin && self.admin[cur] == Some(true));
        Some(Path {
            account: self.account.account_id.clone(),
            from: nodes[from].arn.clone(),
            to: match goal {
                Goal::Admin => "admin".to_string(),
                Goal::Node(t) => nodes[t].arn.clone(),
            },
            steps,
            conditional,
        })
    }

    /// The shortest path from `from` to `goal`; `None` when there is none. Empty steps when
    /// `from` already is the goal.
    pub fn path(&self, from: usize, goal: Goal) -> Option<Path> {
        let hop = self.next_hops(goal);
        self.walk(from, &hop, goal, &mut Explainer::new(&self.account))
    }

    /// For every non-admin user and role (groups are reached through their members) that can
    /// reach `goal`, its shortest path, in node order.
    pub fn paths(&self, goal: Goal) -> Vec<Path> {
        let hop = self.next_hops(goal);
        let mut explainer = Explainer::new(&self.account);
        (0..self.account.nodes.len())
            .filter(|&i| {
                self.admin[i].is_none()
                    && self.account.nodes[i].kind != NodeKind::Group
                    && goal != Goal::Node(i)
            })
            .filter_map(|i| self.walk(i, &hop, goal, &mut explainer))
            .collect()
    }

    pub fn paths_to_admin(&self) -> Vec<Path> {
        self.paths(Goal::Admin)
    }

    pub fn is_admin(&self, node: usize) -> bool {
        self.admin[node].is_some()
    }
}

/// Names the allowing statements of the steps on reported paths: the graph decides every edge
/// but leaves that to the few edges a path uses.
struct Explainer<'a> {
    d: Decider<'a>,
    actors: HashMap<usize, Actor>,
}

impl<'a> Explainer<'a> {
    fn new(account: &'a AccountIam) -> Self {
        Explainer {
            d: Decider::new(account),
            actors: HashMap::new(),
        }
    }

    fn explain(&mut self, node: usize, checks: &mut [Check]) {
        if checks.iter().all(|c| c.explain_later.is_none()) {
            return;
        }
        let d = &self.d;
        let actor = self.actors.entry(node).or_insert_with(|| d.actor(node));
        for c in checks {
            d.explain(actor, c);
        }
    }
}

/// Renders paths for a terminal: one block per path, one line per step and per allowing
/// statement.
pub fn render_text(paths: &[Path]) -> String {
    let mut out = String::new();
    for p in paths {
        let cond = if p.conditional { " (conditional)" } else { "" };
        out.push_str(&format!(
            "{} → {} in {} step{}{cond}\n",
            p.from,
            p.to,
            p.steps.len(),
            if p.steps.len() == 1 { "" } else { "s" }
        ));
        for (i, s) in p.steps.iter().enumerate() {
            let via = s
                .via
                .as_deref()
                .map(|v| format!(" via {v}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {}. {} → {}: {} [{}]{via}\n",
                i + 1,
                short(&s.from),
                short(&s.to),
                s.title,
                s.method
            ));
            for c in &s.checks {
                let by: Vec<String> = c.allowed_by.iter().map(|c| c.to_string()).collect();
                let by = if by.is_empty() {
                    "no Allow statement named (resource policy grant)".to_string()
                } else {
                    by.join("; ")
                };
                out.push_str(&format!(
                    "     {} on {}: allowed by {by}\n",
                    c.action, c.resource
                ));
                if let Some(why) = &c.conditional {
                    out.push_str(&format!("       conditional: {why}\n"));
                }
            }
            if let Some(n) = &s.note {
                out.push_str(&format!("     note: {n}\n"));
            }
        }
    }
    out
}

/// The methods as a Markdown table: `rampart iam methods` prints it and docs/iam-paths.md
/// carries it (a test keeps the two equal).
pub fn methods_markdown() -> String {
    let mut s = String::from("| # | Method | Requests | Why it escalates |\n|---|---|---|---|\n");
    for (i, m) in METHODS.iter().enumerate() {
        s.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            i + 1,
            m.id,
            m.title,
            m.doc
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_docs_list_every_method_as_the_code_does() {
        let doc = include_str!("../../../docs/iam-paths.md");
        assert!(
            doc.contains(&super::methods_markdown()),
            "docs/iam-paths.md: paste the output of `rampart iam methods` under ## Methods"
        );
    }
}
