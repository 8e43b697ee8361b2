//! Partition pruning from the CloudTrail S3 layout:
//! `AWSLogs/[o-…/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/file.json.gz`.
//!
//! With `--since/--until`, the job lists only the day folders of the window (one Hadoop glob per
//! month of it, per layout shape), instead of every object of years of trail; the runner then
//! keeps a file exactly when the local reader would (`rampart_trail::read::key_in_window`: a file
//! delivered the day after `--until` may hold events of that day).

use serde::Serialize;

/// The root and the globs under it that the Spark job lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Input {
    pub root: String,
    pub globs: Vec<String>,
}

/// More days than this in a window are not enumerated (the globs would outgrow the listing
/// they save): the job lists the whole root and filters by key date.
const MAX_DAYS: i64 = 20 * 366;

/// Where the `YYYY/MM/DD` folders sit below `root`, by what the root's last folders are.
fn day_prefixes(root: &str) -> Option<Vec<&'static str>> {
    let path = match root.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map(|(_, p)| p).unwrap_or(""),
        None => root,
    };
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let is_account = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    let is_region = |s: &str| {
        let p: Vec<&str> = s.split('-').collect();
        p.len() >= 3
            && p.last()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
    };
    Some(match parts.as_slice() {
        // an S3 bucket (or a folder) holding the AWSLogs folder
        [] => vec!["AWSLogs/*/CloudTrail*/*", "AWSLogs/o-*/*/CloudTrail*/*"],
        [.., last] if last.starts_with("CloudTrail") => vec!["*"],
        [.., ct, region] if ct.starts_with("CloudTrail") && is_region(region) => vec![""],
        [.., last] if is_account(last) => vec!["CloudTrail*/*"],
        [.., last] if last.starts_with("o-") => vec!["*/CloudTrail*/*"],
        [.., "AWSLogs"] => vec!["*/CloudTrail*/*", "o-*/*/CloudTrail*/*"],
        _ => return None,
    })
}

/// The input for `root` and the window (epoch seconds). Without `since` every day may hold
/// events, so the whole root is listed.
pub fn input(root: &str, since: Option<i64>, until: Option<i64>, now: i64) -> Input {
    let base = root.trim_end_matches('/').to_string();
    let whole = Input {
        root: base.clone(),
        globs: vec![base.clone()],
    };
    let (Some(since), Some(prefixes)) = (since, day_prefixes(&base)) else {
        return whole;
    };
    let first = since.div_euclid(86400);
    // a file delivered the day after `until` may hold events of `until`'s day
    let last = until.unwrap_or(now).div_euclid(86400) + 1;
    if last < first || last - first > MAX_DAYS {
        return whole;
    }
    // days grouped by month: `YYYY/MM/{DD,DD,…}`
    let mut months: Vec<(String, Vec<String>)> = Vec::new();
    for day in first..=last {
        let ymd = rampart_detect::time::day_path(day);
        let (month, dd) = ymd.rsplit_once('/').unwrap_or((&ymd, ""));
        match months.last_mut() {
            Some((m, days)) if m == month => days.push(dd.to_string()),
            _ => months.push((month.to_string(), vec![dd.to_string()])),
        }
    }
    let mut globs = Vec::new();
    for prefix in prefixes {
        for (month, days) in &months {
            let days = if days.len() == 1 {
                days[0].clone()
            } else {
                format!("{{{}}}", days.join(","))
            };
            let sep = if prefix.is_empty() { "" } else { "/" };
            globs.push(format!("{base}/{prefix}{sep}{month}/{days}"));
        }
    }
    Input { root: base, globs }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> i64 {
        rampart_detect::time::parse_time(s).unwrap()
    }

    #[test]
    fn an_organization_trail_is_pruned_to_the_days_of_the_window() {
        let i = input(
            "s3://logs/AWSLogs/o-abc123/",
            Some(t("2024-01-30T10:00:00Z")),
            Some(t("2024-02-01T10:00:00Z")),
            0,
        );
        assert_eq!(i.root, "s3://logs/AWSLogs/o-abc123");
        assert_eq!(
            i.globs,
            vec![
                "s3://logs/AWSLogs/o-abc123/*/CloudTrail*/*/2024/01/{30,31}",
                "s3://logs/AWSLogs/o-abc123/*/CloudTrail*/*/2024/02/{01,02}",
            ]
        );
    }

    #[test]
    fn every_shape_of_root_has_its_day_folders() {
        let since = Some(t("2024-03-05T00:00:00Z"));
        let until = Some(t("2024-03-05T12:00:00Z"));
        let g = |root: &str| input(root, since, until, 0).globs;
        assert_eq!(
            g("s3://b"),
            vec![
                "s3://b/AWSLogs/*/CloudTrail*/*/2024/03/{05,06}",
                "s3://b/AWSLogs/o-*/*/CloudTrail*/*/2024/03/{05,06}"
            ]
        );
        assert_eq!(
            g("s3://b/AWSLogs"),
            vec![
                "s3://b/AWSLogs/*/CloudTrail*/*/2024/03/{05,06}",
                "s3://b/AWSLogs/o-*/*/CloudTrail*/*/2024/03/{05,06}"
            ]
        );
        assert_eq!(
            g("/d/AWSLogs/123456789012"),
            vec!["/d/AWSLogs/123456789012/CloudTrail*/*/2024/03/{05,06}"]
        );
        assert_eq!(
            g("/d/AWSLogs/123456789012/CloudTrail"),
            vec!["/d/AWSLogs/123456789012/CloudTrail/*/2024/03/{05,06}"]
        );
        assert_eq!(
            g("/d/AWSLogs/123456789012/CloudTrail/eu-west-1"),
            vec!["/d/AWSLogs/123456789012/CloudTrail/eu-west-1/2024/03/{05,06}"]
        );
        // an unknown layout, or no --since: the whole root, filtered by key date in the job
        assert_eq!(g("/some/dir"), vec!["/some/dir"]);
        assert_eq!(input("s3://b", None, until, 0).globs, vec!["s3://b"]);
    }
}
