//! CloudTrail objects from `s3://bucket/prefix` (`rampart detect`, `rampart plan --replay`):
//! listed a page at a time (memory holds one page, whatever the bucket), pruned by the
//! `YYYY/MM/DD` key date without listing the days outside `--since/--until`, and fetched several
//! at a time, handed over in key order.

use crate::cli::Global;
#[cfg(not(feature = "aws"))]
use anyhow::bail;
#[cfg(feature = "aws")]
use {crate::cmd::output, rampart_detect::input, std::path::Path};

/// What receives each S3 object: its `s3://bucket/key` name and its bytes or the error.
pub type ObjectSink<'a> = dyn FnMut(&str, Result<Vec<u8>, String>) + 'a;

/// GETs in flight at once: enough to hide S3's latency behind the reader.
#[cfg(feature = "aws")]
pub const IN_FLIGHT: usize = 16;

/// Calls `each` with the name (`s3://bucket/key`) and bytes (or the error) of every CloudTrail
/// object under `s3://bucket/prefix` whose key date may hold events of `since..until` (epoch
/// seconds), in key order.
#[cfg(feature = "aws")]
pub fn for_each_object(
    g: &Global,
    url: &str,
    since: Option<i64>,
    until: Option<i64>,
    each: &mut ObjectSink<'_>,
) -> anyhow::Result<()> {
    let (bucket, prefix) = rampart_aws::parse_s3_url(url)
        .ok_or_else(|| anyhow::anyhow!("{url}: expected s3://bucket/prefix"))?;
    let aws = rampart_aws::BlockingAws::connect(&crate::cmd::collect::options(g))
        .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    let mut found = 0usize;
    let mut fetch = |keys: Vec<String>| -> Result<(), String> {
        found += keys.len();
        aws.get_objects(&bucket, keys, IN_FLIGHT, &mut |key, data| {
            each(&format!("s3://{bucket}/{key}"), data)
        })
    };
    let listing = Listing {
        aws: &aws,
        bucket: &bucket,
        root: &prefix,
        since,
        until,
    };
    listing
        .walk(&prefix, 0, &mut fetch)
        .map_err(anyhow::Error::msg)?;
    if found == 0 {
        output::note(
            g,
            format!("rampart: warning: {url}: no CloudTrail objects found in the time window"),
        );
    }
    Ok(())
}

#[cfg(not(feature = "aws"))]
pub fn for_each_object(
    _g: &Global,
    url: &str,
    _since: Option<i64>,
    _until: Option<i64>,
    _each: &mut ObjectSink<'_>,
) -> anyhow::Result<()> {
    bail!(
        "{url}: this rampart was built without AWS access (--no-default-features); build with the default `aws` feature, or download the objects and pass a local directory"
    )
}

/// How deep the walk goes looking for the date level (`AWSLogs/o-org/ACCOUNT/CloudTrail/REGION/`
/// is five levels below the bucket).
#[cfg(feature = "aws")]
const MAX_DEPTH: usize = 8;

#[cfg(feature = "aws")]
struct Listing<'a> {
    aws: &'a rampart_aws::BlockingAws,
    bucket: &'a str,
    /// The prefix the user gave: key dates are read below it.
    root: &'a str,
    since: Option<i64>,
    until: Option<i64>,
}

#[cfg(feature = "aws")]
impl Listing<'_> {
    /// Whether `key` is a CloudTrail object whose key date may hold events of the window.
    fn wanted(&self, key: &str) -> bool {
        let key = Path::new(key);
        // the date below the given prefix (a prefix may hold a date of its own, say a
        // backup's), else the key's own when the prefix goes down to the day
        let rel = key.strip_prefix(self.root).unwrap_or(key);
        let dated = if input::key_day(rel).is_some() {
            rel
        } else {
            key
        };
        input::is_trail_file(key) && input::key_in_window(dated, self.since, self.until)
    }

    /// Hands `fetch` the wanted keys under `prefix`, a page at a time. Without a time window
    /// that is one flat listing; with one, the walk goes down one level at a time until the
    /// level of years (`…/eu-west-1/2024/`), and there lists only from the first day that can
    /// matter and stops after the last.
    fn walk(
        &self,
        prefix: &str,
        depth: usize,
        fetch: &mut dyn FnMut(Vec<String>) -> Result<(), String>,
    ) -> Result<(), String> {
        if (self.since.is_none() && self.until.is_none()) || depth >= MAX_DEPTH {
            return self.flat(prefix, None, false, fetch);
        }
        let (mut here, mut below) = (Vec::new(), Vec::new());
        self.aws
            .list_pages(self.bucket, prefix, None, Some("/"), &mut |page| {
                here.extend(page.objects.into_iter().map(|o| o.key));
                below.extend(page.prefixes);
                true
            })?;
        here.retain(|k| self.wanted(k));
        if !here.is_empty() {
            fetch(here)?;
        }
        let is_year = |p: &str| {
            let last = p.strip_prefix(prefix).unwrap_or(p).trim_end_matches('/');
            last.len() == 4 && last.bytes().all(|b| b.is_ascii_digit())
        };
        if below.iter().any(|p| is_year(p)) {
            // the date level: `prefix` + YYYY/MM/DD/…
            let start = self.since.map(|s| {
                format!(
                    "{prefix}{}",
                    rampart_detect::time::day_path(s.div_euclid(86400))
                )
            });
            self.flat(prefix, start.as_deref(), true, fetch)?;
            below.retain(|p| !is_year(p));
        }
        for p in below {
            if p.ends_with("CloudTrail-Digest/") {
                continue;
            }
            self.walk(&p, depth + 1, fetch)?;
        }
        Ok(())
    }

    /// Every wanted key under `prefix` from `start_after` on, in key order. At the date level
    /// (`dated`: keys below `prefix` begin `YYYY/MM/DD/`, so they sort by date) the listing
    /// stops at the first key dated after the window.
    fn flat(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        dated: bool,
        fetch: &mut dyn FnMut(Vec<String>) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut failed = None;
        let last_day = self.until.map(|u| u.div_euclid(86400) + 1);
        self.aws
            .list_pages(self.bucket, prefix, start_after, None, &mut |page| {
                let mut past = false;
                let keys: Vec<String> = page
                    .objects
                    .into_iter()
                    .map(|o| o.key)
                    .filter(|k| {
                        let day = input::key_day(Path::new(k.strip_prefix(prefix).unwrap_or(k)));
                        past |= dated && last_day.zip(day).is_some_and(|(l, d)| d > l);
                        !past && self.wanted(k)
                    })
                    .collect();
                if !keys.is_empty()
                    && let Err(e) = fetch(keys)
                {
                    failed = Some(e);
                    return false;
                }
                !past
            })?;
        failed.map_or(Ok(()), Err)
    }
}
