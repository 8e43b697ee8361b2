//! `rampart policy …`: simulate requests against policies, lint them, analyse external access.

use crate::cli::{Exit, Global};
use crate::cmd::output;
use anyhow::Context;
use rampart_policy::access::{Outsider, ResourceKind, analyze_text};
use rampart_policy::lint::{Finding, PolicyKind, RULES, Severity, lint_target};
use rampart_policy::simulate::{POLICY_CACHE_SIZE, for_each_simulation};
use rampart_policy::{CompiledPolicySet, Decision, Evaluation};
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Evaluate requests against policies, as AWS does.
    ///
    /// FILE (or `-` for stdin) holds one simulation object or an array of them:
    ///
    ///   {"request": {"action": "s3:GetObject",
    ///                "resource": {"resource": "arn:aws:s3:::b/k", "accountId": "111111111111"},
    ///                "principal": "arn:aws:iam::222222222222:role/r",
    ///                "context": {"aws:SourceIp": "10.0.0.1"}},
    ///    "identityPolicies": [POLICY…], "permissionBoundaries": [POLICY…],
    ///    "sessionPolicy": POLICY, "resourcePolicy": POLICY, "vpcEndpointPolicy": POLICY,
    ///    "serviceControlPolicies": [{"orgIdentifier": "r-root", "policies": [POLICY…]}, …],
    ///    "resourceControlPolicies": [same shape]}
    ///
    /// Absent keys mean no policy of that kind (for SCPs/RCPs: not in an organization;
    /// for vpcEndpointPolicy: the request does not go through a VPC endpoint).
    /// Output: one JSON line per simulation, {"decision": …, "explain": {…}};
    /// `--format text` prints a readable explanation.
    ///
    /// Example: rampart policy simulate request.json --format text
    #[command(verbatim_doc_comment)]
    Simulate {
        /// Simulation file, or `-` for stdin.
        file: PathBuf,
    },
    /// Check policies against the IAM catalogue and the rules of their kind.
    ///
    /// Findings have stable codes (RP001…RP016, see docs/policy.md): unknown services or
    /// actions, wildcards that match nothing, condition keys that do not apply, operator/key
    /// type mismatches, resource ARNs not valid for the actions, Allow with NotPrincipal or
    /// NotAction, trust/resource policies open to "*", redundant or shadowed statements, and for
    /// SCPs/RCPs the size and per-target quotas. Errors (unknown service/action, elements not
    /// allowed in the kind, quotas, unparsable JSON) make the command exit with code 3.
    ///
    /// --format text (default), json or sarif.
    ///
    /// Examples:
    ///   rampart policy lint guardrails/*.json --kind scp
    ///   rampart policy lint bucket-policy.json --kind resource --format sarif -o lint.sarif
    #[command(verbatim_doc_comment)]
    Lint {
        /// Policy files (`-` for stdin). SCP/RCP files are taken as attached to one target.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// identity, resource, trust, scp, rcp, boundary, session or vpc-endpoint. Default:
        /// guessed per file (no Principal: identity; sts:AssumeRole*: trust; else resource).
        #[arg(long)]
        kind: Option<String>,
    },
    /// Report who outside the account can use a resource-based policy, and how.
    ///
    /// Enumerates the principal classes (public, any other account, accounts, ARNs,
    /// organizations and services the policy names, other accounts of --org-id) and the
    /// condition values the policy mentions, evaluates every combination, and lists each
    /// allowed outside request with the context it needed. A policy is called private only
    /// when that enumeration is complete and finds nothing. Exits 3 when outside access exists.
    ///
    /// Examples:
    ///   rampart policy access bucket-policy.json --kind s3 --account 111111111111 --org-id o-abc
    ///   rampart policy access trust.json --kind trust --account 111111111111 --format json
    #[command(verbatim_doc_comment)]
    Access {
        /// Policy file, or `-` for stdin.
        file: PathBuf,
        /// s3, kms, trust, sns, sqs, lambda, secretsmanager, ecr, opensearch, efs, glacier or
        /// eventbridge.
        #[arg(long)]
        kind: String,
        /// The account that owns the resource.
        #[arg(long)]
        account: String,
        /// The owner's organization (accounts in it are reported separately).
        #[arg(long)]
        org_id: Option<String>,
    },
    /// Write the smallest identity policy covering a principal's logged calls, and prove it.
    ///
    /// Reads CloudTrail, keeps the principal's calls (a role: all its sessions), maps each to
    /// its IAM action and to the resources CloudTrail names (`*` only where it names none),
    /// merges actions sharing resources into statements, then replays every call against the
    /// policy with the policy engine and lints it. The policy goes to stdout (or -o FILE); the
    /// proof summary to stderr. Exits 1 if a replayed call is not allowed. Calls no IAM action
    /// expresses (console sign-in…) are listed, never dropped. See docs/policy-generate.md.
    ///
    /// --format policy (default) or json (policy, statements and proof).
    ///
    /// Examples:
    ///   rampart policy generate --principal arn:aws:iam::111122223333:role/app --from trail/ --since 90d -o app.json
    ///   rampart policy generate --principal arn:aws:iam::111122223333:user/ci --from s3://trail-bucket/AWSLogs/ --format json
    #[command(verbatim_doc_comment)]
    Generate(crate::cmd::policy_generate::GenerateArgs),
}

pub fn run(g: &Global, a: &PolicyCommand) -> anyhow::Result<Exit> {
    match a {
        PolicyCommand::Simulate { file } => simulate(g, file),
        PolicyCommand::Lint { files, kind } => lint(g, files, kind.as_deref()),
        PolicyCommand::Access {
            file,
            kind,
            account,
            org_id,
        } => access(g, file, kind, account, org_id.as_deref()),
        PolicyCommand::Generate(a) => crate::cmd::policy_generate::run(g, a),
    }
}

fn read_input(file: &Path) -> anyhow::Result<(String, String)> {
    if file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the simulation from stdin")?;
        Ok((s, "<stdin>".to_string()))
    } else {
        let s = std::fs::read_to_string(file).with_context(|| {
            format!(
                "cannot read {}: check the path and that it is UTF-8 text",
                file.display()
            )
        })?;
        Ok((s, file.display().to_string()))
    }
}

fn simulate(g: &Global, file: &Path) -> anyhow::Result<Exit> {
    let (text, name) = read_input(file)?;
    let text_format = match g.format.as_deref() {
        None | Some("json") => false,
        Some("text") => true,
        Some(other) => {
            anyhow::bail!("`rampart policy simulate` supports --format json or text, not `{other}`")
        }
    };
    let mut out = String::new();
    let mut count = 0;
    let mut failed = None;
    // Each simulation is evaluated as it is read (the file is never held as a whole); output is
    // written only once the whole file has parsed.
    for_each_simulation(&text, POLICY_CACHE_SIZE, |s| {
        count += 1;
        // Each request's policies are used once: compile them without copying.
        let e = CompiledPolicySet::from_set(s.policies).evaluate(&s.request);
        if text_format {
            if count == 2 {
                // Several simulations: number them, the first one included.
                out.insert_str(0, "# simulation 1\n");
            }
            if count > 1 {
                out.push_str(&format!("# simulation {count}\n"));
            }
            out.push_str(&render_text(&s.request, &e));
        } else {
            match serde_json::to_string(&e) {
                Ok(line) => out.push_str(&line),
                Err(err) => {
                    failed.get_or_insert(err);
                }
            }
            out.push('\n');
        }
    })
    .map_err(|e| anyhow::anyhow!("{name}:{e}"))?;
    if let Some(err) = failed {
        return Err(err.into());
    }
    output::emit(g, &out)?;
    Ok(Exit::Ok)
}

fn render_text(req: &rampart_policy::Request, e: &Evaluation) -> String {
    let who = req.principal.as_deref().unwrap_or("anonymous");
    let verdict = match e.decision {
        Decision::Allowed => "ALLOWED",
        Decision::ImplicitlyDenied => "IMPLICITLY DENIED",
        Decision::ExplicitlyDenied => "EXPLICITLY DENIED",
    };
    let mut s = format!(
        "{verdict}: {who} → {} on {}\n  because {}\n",
        req.action, req.resource, e.explain.reason
    );
    s.push_str(&format!(
        "  {} request\n",
        if e.explain.same_account {
            "same-account"
        } else {
            "cross-account"
        }
    ));
    for n in &e.explain.notes {
        s.push_str(&format!("  note: {n}\n"));
    }
    for l in &e.explain.layers {
        let lvl = l
            .org_level
            .as_deref()
            .map(|o| format!(" [{o}]"))
            .unwrap_or_default();
        s.push_str(&format!("  {:?}{lvl}: {:?}\n", l.layer, l.result));
        for st in &l.statements {
            let sid = st
                .sid
                .as_deref()
                .map(|x| format!(" \"{x}\""))
                .unwrap_or_default();
            s.push_str(&format!(
                "    {:?} policy #{} statement #{}{sid} (line {}, column {})\n",
                st.effect,
                st.policy + 1,
                st.statement + 1,
                st.line,
                st.column
            ));
        }
    }
    s
}

fn guess_kind(text: &str) -> PolicyKind {
    match rampart_policy::parse_policy(text) {
        Ok(p) => {
            let principal = p.statements.iter().any(|s| s.principal.is_some());
            let assume = p.statements.iter().any(|s| {
                s.action
                    .actions
                    .iter()
                    .any(|a| a.text.to_ascii_lowercase().starts_with("sts:assumerole"))
            });
            match (principal, assume) {
                (false, _) => PolicyKind::Identity,
                (true, true) => PolicyKind::Trust,
                (true, false) => PolicyKind::Resource,
            }
        }
        Err(_) => PolicyKind::Identity,
    }
}

fn lint(g: &Global, files: &[PathBuf], kind: Option<&str>) -> anyhow::Result<Exit> {
    let kind = match kind {
        Some(k) => Some(PolicyKind::from_name(k).ok_or_else(|| {
            anyhow::anyhow!("unknown --kind `{k}`: use identity, resource, trust, scp, rcp, boundary, session or vpc-endpoint")
        })?),
        None => None,
    };
    let mut inputs = Vec::new();
    for f in files {
        inputs.push(read_input(f)?);
    }
    // SCPs/RCPs named together are taken as attached to one target (per-target quota).
    let mut results: Vec<(String, PolicyKind, Vec<Finding>)> = Vec::new();
    match kind {
        Some(k @ (PolicyKind::Scp | PolicyKind::Rcp)) => {
            let texts: Vec<&str> = inputs.iter().map(|(t, _)| t.as_str()).collect();
            for ((_, name), f) in inputs.iter().zip(lint_target(&texts, k)) {
                results.push((name.clone(), k, f));
            }
        }
        _ => {
            for (text, name) in &inputs {
                let k = kind.unwrap_or_else(|| guess_kind(text));
                results.push((name.clone(), k, rampart_policy::lint::lint(text, k)));
            }
        }
    }
    let errors = results
        .iter()
        .flat_map(|r| &r.2)
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = results
        .iter()
        .flat_map(|r| &r.2)
        .filter(|f| f.severity == Severity::Warning)
        .count();
    let out = match g.format.as_deref() {
        None | Some("text") => {
            let mut s = String::new();
            for (name, _, fs) in &results {
                for f in fs {
                    let sev = if f.severity == Severity::Error {
                        "error"
                    } else {
                        "warning"
                    };
                    s.push_str(&format!(
                        "{name}:{}:{}: {sev}[{}] {}\n",
                        f.line, f.column, f.code, f.message
                    ));
                }
            }
            s.push_str(&format!(
                "{} file(s): {errors} error(s), {warnings} warning(s)\n",
                results.len()
            ));
            s
        }
        Some("json") => {
            let v: Vec<_> = results
                .iter()
                .map(|(name, k, fs)| serde_json::json!({"file": name, "kind": k, "findings": fs}))
                .collect();
            serde_json::to_string_pretty(&v)? + "\n"
        }
        Some("sarif") => serde_json::to_string_pretty(&sarif(&results))? + "\n",
        Some(other) => anyhow::bail!(
            "`rampart policy lint` supports --format text, json or sarif, not `{other}`"
        ),
    };
    output::emit(g, &out)?;
    Ok(if errors > 0 { Exit::Findings } else { Exit::Ok })
}

/// SARIF 2.1.0, as GitHub code scanning and other CI tools read it.
fn sarif(results: &[(String, PolicyKind, Vec<Finding>)]) -> serde_json::Value {
    let level = |s: Severity| {
        if s == Severity::Error {
            "error"
        } else {
            "warning"
        }
    };
    let rules: Vec<_> = RULES
        .iter()
        .map(|(id, sev, title)| {
            serde_json::json!({"id": id, "name": title.replace(' ', ""), "shortDescription": {"text": title},
                "defaultConfiguration": {"level": level(*sev)}, "helpUri": "https://example.invalid/rampart/docs/policy.md#lint-rules"})
        })
        .collect();
    let res: Vec<_> = results
        .iter()
        .flat_map(|(name, _, fs)| {
            fs.iter().map(move |f| {
                serde_json::json!({"ruleId": f.code, "level": level(f.severity), "message": {"text": f.message},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": name},
                        "region": {"startLine": f.line, "startColumn": f.column}}}]})
            })
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "rampart-policy-lint", "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://example.invalid/rampart", "rules": rules}}, "results": res}]
    })
}

fn access(
    g: &Global,
    file: &Path,
    kind: &str,
    account: &str,
    org_id: Option<&str>,
) -> anyhow::Result<Exit> {
    let kind = ResourceKind::from_name(kind).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown --kind `{kind}`: use s3, kms, trust, sns, sqs, lambda, secretsmanager, ecr, opensearch, efs, glacier or eventbridge"
        )
    })?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        anyhow::bail!("--account must be a 12-digit AWS account id, not `{account}`");
    }
    let (text, name) = read_input(file)?;
    let report =
        analyze_text(&text, kind, account, org_id).map_err(|e| anyhow::anyhow!("{name}:{e}"))?;
    let out = match g.format.as_deref() {
        Some("json") => serde_json::to_string_pretty(&report)? + "\n",
        None | Some("text") => {
            let mut s = String::new();
            if report.private {
                s.push_str(&format!("{name}: private: no request from outside account {account} is allowed ({} requests evaluated)\n", report.requests_evaluated));
            } else {
                if !report.complete {
                    s.push_str("note: too many condition combinations; keys were varied one at a time, so this list may be incomplete\n");
                }
                for f in &report.findings {
                    let who = match &f.who {
                        Outsider::Public => "PUBLIC (anyone, unauthenticated)".to_string(),
                        Outsider::AnyAccount => "ANY AWS ACCOUNT".to_string(),
                        Outsider::Account(a) => format!("account {a}"),
                        Outsider::SameOrganization(o) => {
                            format!("other accounts of organization {o}")
                        }
                        Outsider::Organization(o) => format!("organization {o}"),
                        Outsider::Service(sv) => format!("service {sv} acting for another account"),
                        Outsider::Federated(p) => format!("holders of tokens from {p}"),
                    };
                    let ctx = if f.context.is_empty() {
                        "no conditions".to_string()
                    } else {
                        f.context
                            .iter()
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    s.push_str(&format!(
                        "{who}: {} on {} (needs {ctx})\n",
                        f.actions.join(", "),
                        f.resources.join(", ")
                    ));
                }
                if report.findings.is_empty() {
                    s.push_str(&format!(
                        "{name}: no outside access found, but the enumeration was incomplete\n"
                    ));
                }
            }
            for n in &report.notes {
                s.push_str(&format!("note: {n}\n"));
            }
            s
        }
        Some(other) => {
            anyhow::bail!("`rampart policy access` supports --format text or json, not `{other}`")
        }
    };
    output::emit(g, &out)?;
    Ok(if report.findings.is_empty() {
        Exit::Ok
    } else {
        Exit::Findings
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_the_policy_kind() {
        let id = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
        let trust = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#;
        let bucket = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}"#;
        assert_eq!(guess_kind(id), PolicyKind::Identity);
        assert_eq!(guess_kind(trust), PolicyKind::Trust);
        assert_eq!(guess_kind(bucket), PolicyKind::Resource);
    }

    #[test]
    fn sarif_has_rules_and_located_results() {
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObjekt","Resource":"*"}}"#;
        let findings = rampart_policy::lint::lint(text, PolicyKind::Identity);
        let v = sarif(&[("p.json".into(), PolicyKind::Identity, findings)]);
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        assert_eq!(
            run["tool"]["driver"]["rules"].as_array().unwrap().len(),
            RULES.len()
        );
        let r = &run["results"][0];
        assert_eq!(r["ruleId"], "RP003");
        assert_eq!(r["level"], "error");
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "p.json"
        );
        assert_eq!(
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            1
        );
    }

    #[test]
    fn text_explanation_names_the_deciding_statement() {
        let sims = rampart_policy::simulate::parse_simulations(
            r#"{"request":{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k","principal":"arn:aws:iam::111111111111:user/u"},
                "identityPolicies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"NoGet","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}]}"#,
        )
        .unwrap();
        let e = CompiledPolicySet::new(&sims[0].policies).evaluate(&sims[0].request);
        let text = render_text(&sims[0].request, &e);
        assert!(text.starts_with("EXPLICITLY DENIED"), "{text}");
        assert!(text.contains("\"NoGet\" (line 2"), "{text}");
    }
}
