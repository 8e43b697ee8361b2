//! `rampart policy generate`: the smallest identity policy covering a principal's logged
//! calls, proved by replaying every call against it and linted (see `rampart-usage`).

use crate::cli::{Exit, Global};
use crate::cmd::{activity, detect::parse_when, output};
use rampart_usage::Window;
use rampart_usage::generate::{Generator, Options};

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// The role or user (ARN) whose calls the policy must cover; a role covers all its
    /// sessions (`arn:aws:sts::ACCOUNT:assumed-role/NAME/*`).
    #[arg(long, value_name = "ARN")]
    pub principal: String,
    /// CloudTrail input: a file (.json.gz, .json, .jsonl), a directory in the S3 delivery
    /// layout, `-` for stdin, or s3://bucket/prefix (needs the `aws` build).
    #[arg(long, value_name = "PATH")]
    pub from: String,
    /// Only calls at or after this time (RFC 3339, YYYY-MM-DD, or an age such as 90d).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only calls at or before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Distinct resources one action may list before they are folded under their parent
    /// (`bucket/logs/*`); past that again the action gets `*`.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_resources: usize,
}

pub fn run(g: &Global, a: &GenerateArgs) -> anyhow::Result<Exit> {
    let json = match g.format.as_deref() {
        None | Some("policy") => false,
        Some("json") => true,
        Some(f) => anyhow::bail!(
            "`rampart policy generate` formats are policy (the document) and json (policy, statements and proof), not `{f}`"
        ),
    };
    let window = Window {
        since: a.since.as_deref().map(parse_when).transpose()?,
        until: a.until.as_deref().map(parse_when).transpose()?,
    };
    let mut generator = Generator::new(&a.principal, window).map_err(anyhow::Error::msg)?;
    let stats = activity::for_each_event(g, &a.from, window.since, window.until, &mut |e| {
        generator.observe(e)
    })?;
    let counts = generator.counts;
    output::note(
        g,
        format!(
            "rampart: {} file(s), {} event(s) read; {} call(s) of {} in the window ({} outside it)",
            stats.files,
            counts.events,
            counts.matched,
            generator.principal(),
            counts.out_of_window
        ),
    );
    if generator.calls.by_request.is_empty() {
        let c = &generator.calls;
        anyhow::bail!(
            "{}: no call of {} in the window needs a permission ({} unexpressible, {} needing none, {} denied in the log): nothing to generate; check --principal, --from and --since",
            a.from,
            generator.principal(),
            c.unexpressed.values().sum::<u64>(),
            c.no_permission,
            c.denied_in_log.values().sum::<u64>()
        );
    }
    let opts = Options {
        max_resources: a.max_resources.max(1),
    };
    let out = rampart_usage::generate(&generator, &opts).map_err(anyhow::Error::msg)?;
    if json {
        let mut doc = serde_json::to_value(&out)?;
        doc["policy"] = serde_json::from_str(&out.policy)?;
        output::emit(g, &(serde_json::to_string_pretty(&doc)? + "\n"))?;
    } else {
        output::emit(g, &out.policy)?;
    }
    for s in out
        .statements
        .iter()
        .filter(|s| s.wildcard_reason.is_some())
    {
        output::note(
            g,
            format!(
                "rampart: {}: Resource \"*\" for {} action(s) ({}{}): {}",
                s.sid,
                s.actions.len(),
                s.actions[..s.actions.len().min(3)].join(", "),
                if s.actions.len() > 3 { ", …" } else { "" },
                s.wildcard_reason.as_deref().unwrap_or_default()
            ),
        );
    }
    let proof = &out.proof;
    if proof.holds() {
        output::note(g, proof.to_text().trim_end());
        Ok(Exit::Ok)
    } else {
        eprint!("{}", proof.to_text());
        eprintln!(
            "rampart: error: the generated policy does not allow {} replayed call(s); please report this with the calls above",
            proof.replayed - proof.allowed
        );
        Ok(Exit::Error)
    }
}
