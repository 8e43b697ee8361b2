//! The schedule syntax: a small language rather than cron, because the four jobs need only
//! three shapes and a reader should see at a glance when a job runs.
//!
//! - `every 5m`, `every 6h`, `every 1d`: slots aligned on midnight of the schedule's time
//!   zone (every 6h runs at 00:00, 06:00, 12:00, 18:00), so they do not drift with restarts.
//! - `daily at 03:00`: once a day.
//! - `mon 08:00` or `mon at 08:00` (also `weekly on mon at 08:00`): once a week.
//! - `off`: never (the job is not scheduled).
//!
//! Times are in the schedule's time zone: UTC, or a fixed offset such as `+02:00` (zone names
//! with daylight saving are not supported: a slot must never happen twice or not at all).

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveTime, TimeZone, Utc, Weekday};

/// When a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    /// Every `secs` seconds, aligned on midnight of the zone.
    Every { secs: i64 },
    /// Every day at this time.
    Daily { at: NaiveTime },
    /// Every week on this day at this time.
    Weekly { day: Weekday, at: NaiveTime },
}

/// A schedule in its time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub spec: Spec,
    pub zone: FixedOffset,
}

impl Spec {
    /// Parses one schedule; the error says what is accepted.
    pub fn parse(text: &str) -> Result<Option<Spec>, String> {
        let lower = text.trim().to_ascii_lowercase();
        let words: Vec<&str> = lower.split_whitespace().collect();
        let usage =
            "use `every 5m` / `every 6h` / `every 1d`, `daily at 03:00`, `mon 08:00` or `off`";
        let bad = |why: &str| format!("bad schedule `{}`: {why}; {usage}", text.trim());
        match words.as_slice() {
            ["off"] | ["never"] => Ok(None),
            ["every", amount] => parse_every(amount).map(Some).map_err(|w| bad(&w)),
            ["daily", "at", at] | ["daily", at] => Ok(Some(Spec::Daily {
                at: parse_time(at).map_err(|w| bad(&w))?,
            })),
            [day, "at", at] | ["weekly", "on", day, "at", at] | [day, at] => {
                let day = parse_day(day).ok_or_else(|| bad(&format!("`{day}` is not a day")))?;
                Ok(Some(Spec::Weekly {
                    day,
                    at: parse_time(at).map_err(|w| bad(&w))?,
                }))
            }
            [] => Err(bad("it is empty")),
            _ => Err(bad("not understood")),
        }
    }
}

fn parse_every(amount: &str) -> Result<Spec, String> {
    let (num, unit) = amount.split_at(amount.len().saturating_sub(1));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("`{amount}` is not a number and a unit (m, h, d)"))?;
    let secs = match unit {
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => return Err(format!("`{amount}`: the unit is m, h or d")),
    }
    .filter(|s| (60..=7 * 86_400).contains(s))
    .ok_or_else(|| format!("`{amount}`: the interval must be between 1m and 7d"))?;
    Ok(Spec::Every { secs })
}

fn parse_time(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| format!("`{s}` is not a time HH:MM"))
}

fn parse_day(s: &str) -> Option<Weekday> {
    Some(match s {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tuesday" => Weekday::Tue,
        "wed" | "wednesday" => Weekday::Wed,
        "thu" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

/// `UTC`, `Z` or a fixed offset `+02:00` / `-05:30`.
pub fn parse_zone(s: &str) -> Result<FixedOffset, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("utc") || t == "Z" {
        return Ok(FixedOffset::east_opt(0).expect("zero offset"));
    }
    let bad = || {
        format!(
            "bad timezone `{t}`: use UTC or a fixed offset such as +02:00 (zone names are not supported)"
        )
    };
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').ok_or_else(bad)?;
    let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return Err(bad());
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60)).ok_or_else(bad)
}

impl Schedule {
    /// The first slot strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let local = t.with_timezone(&self.zone);
        match self.spec {
            Spec::Every { secs } => {
                // Align on local midnights: shift into local seconds, round up, shift back.
                let off = i64::from(self.zone.local_minus_utc());
                let l = t.timestamp() + off;
                let next = (l.div_euclid(secs) + 1) * secs - off;
                DateTime::from_timestamp(next, 0).unwrap_or(t + Duration::seconds(secs))
            }
            Spec::Daily { at } => {
                let mut day = local.date_naive();
                loop {
                    let slot = self.at(day, at);
                    if slot > t {
                        return slot;
                    }
                    day = day.succ_opt().unwrap_or(day);
                }
            }
            Spec::Weekly { day: wd, at } => {
                let mut day = local.date_naive();
                loop {
                    if day.weekday() == wd {
                        let slot = self.at(day, at);
                        if slot > t {
                            return slot;
                        }
                    }
                    day = day.succ_opt().unwrap_or(day);
                }
            }
        }
    }

    fn at(&self, day: chrono::NaiveDate, at: NaiveTime) -> DateTime<Utc> {
        // A fixed offset has exactly one instant per local time.
        self.zone
            .from_local_datetime(&day.and_time(at))
            .single()
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&day.and_time(at)))
    }

    /// The newest slot at or before `now`, starting the search at the slot `from` (≤ now).
    pub fn latest_slot(&self, from: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        let mut slot = from;
        loop {
            let next = self.next_after(slot);
            if next > now {
                return slot;
            }
            slot = next;
        }
    }
}

impl std::fmt::Display for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Spec::Every { secs } if secs % 86_400 == 0 => write!(f, "every {}d", secs / 86_400),
            Spec::Every { secs } if secs % 3600 == 0 => write!(f, "every {}h", secs / 3600),
            Spec::Every { secs } => write!(f, "every {}m", secs / 60),
            Spec::Daily { at } => write!(f, "daily at {}", at.format("%H:%M")),
            Spec::Weekly { day, at } => {
                write!(
                    f,
                    "{} {}",
                    day.to_string().to_ascii_lowercase(),
                    at.format("%H:%M")
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn sched(text: &str, zone: &str) -> Schedule {
        Schedule {
            spec: Spec::parse(text).unwrap().unwrap(),
            zone: parse_zone(zone).unwrap(),
        }
    }

    #[test]
    fn parses_the_documented_forms_and_says_what_is_wrong() {
        assert_eq!(
            Spec::parse("every 6h").unwrap(),
            Some(Spec::Every { secs: 6 * 3600 })
        );
        assert_eq!(
            Spec::parse(" Every 5m ").unwrap(),
            Some(Spec::Every { secs: 300 })
        );
        assert_eq!(Spec::parse("off").unwrap(), None);
        let daily = Spec::parse("daily at 03:00").unwrap().unwrap();
        assert_eq!(daily.to_string(), "daily at 03:00");
        for weekly in ["mon 08:00", "mon at 08:00", "weekly on monday at 08:00"] {
            assert_eq!(
                Spec::parse(weekly).unwrap().unwrap().to_string(),
                "mon 08:00",
                "{weekly}"
            );
        }
        for (text, why) in [
            ("every 6x", "the unit is m, h or d"),
            ("every 0m", "between 1m and 7d"),
            ("every 30s", "the unit is m, h or d"),
            ("daily at 25:00", "is not a time HH:MM"),
            ("funday 08:00", "`funday` is not a day"),
            ("", "it is empty"),
            ("hourly please", "`hourly` is not a day"),
        ] {
            let e = Spec::parse(text).unwrap_err();
            assert!(e.contains(why), "{text}: {e}");
            assert!(e.contains("every 5m"), "{e}");
            assert!(!e.contains('\n'));
        }
        assert!(
            parse_zone("Europe/Paris")
                .unwrap_err()
                .contains("fixed offset")
        );
        assert_eq!(parse_zone("+02:00").unwrap().local_minus_utc(), 7200);
        assert_eq!(parse_zone("-05:30").unwrap().local_minus_utc(), -19800);
    }

    #[test]
    fn slots_of_each_shape() {
        let s = sched("every 6h", "UTC");
        assert_eq!(
            s.next_after(utc("2026-12-06T05:59:59Z")),
            utc("2026-12-06T06:00:00Z")
        );
        assert_eq!(
            s.next_after(utc("2026-12-06T06:00:00Z")),
            utc("2026-12-06T12:00:00Z")
        );
        let s = sched("every 6h", "+02:00");
        assert_eq!(
            s.next_after(utc("2026-12-06T05:00:00Z")),
            utc("2026-12-06T10:00:00Z"),
            "12:00 local"
        );
        let s = sched("daily at 03:00", "UTC");
        assert_eq!(
            s.next_after(utc("2026-12-06T03:00:00Z")),
            utc("2026-12-07T03:00:00Z")
        );
        assert_eq!(
            s.next_after(utc("2026-12-06T02:59:00Z")),
            utc("2026-12-06T03:00:00Z")
        );
        // 2026-12-06 is a Sunday
        let s = sched("mon 08:00", "+01:00");
        assert_eq!(
            s.next_after(utc("2026-12-06T12:00:00Z")),
            utc("2026-12-07T07:00:00Z")
        );
        assert_eq!(
            s.next_after(utc("2026-12-07T07:00:00Z")),
            utc("2026-12-14T07:00:00Z")
        );
        assert_eq!(
            s.latest_slot(utc("2026-12-07T07:00:00Z"), utc("2026-12-30T00:00:00Z")),
            utc("2026-12-28T07:00:00Z")
        );
    }

    fn any_spec() -> impl Strategy<Value = String> {
        prop_oneof![
            (1i64..=600).prop_map(|m| format!("every {m}m")),
            (1i64..=48).prop_map(|h| format!("every {h}h")),
            (0u32..24, 0u32..60).prop_map(|(h, m)| format!("daily at {h:02}:{m:02}")),
            (0usize..7, 0u32..24, 0u32..60).prop_map(|(d, h, m)| {
                let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
                format!("{} {h:02}:{m:02}", days[d])
            }),
        ]
    }

    proptest! {
        /// next_after is strictly increasing, never skips a slot (nothing matches the spec in
        /// between) and every slot matches the spec in the zone.
        #[test]
        fn next_after_is_strictly_increasing_and_matches_the_spec(
            text in any_spec(),
            offset_min in -12i32 * 60..=14 * 60,
            start in 1_700_000_000i64..1_900_000_000,
        ) {
            let zone = FixedOffset::east_opt(offset_min * 60).unwrap();
            let s = Schedule { spec: Spec::parse(&text).unwrap().unwrap(), zone };
            let mut t = DateTime::from_timestamp(start, 0).unwrap();
            for _ in 0..5 {
                let n = s.next_after(t);
                prop_assert!(n > t);
                let local = n.with_timezone(&zone);
                match s.spec {
                    Spec::Every { secs } => {
                        let l = n.timestamp() + i64::from(zone.local_minus_utc());
                        prop_assert_eq!(l.rem_euclid(secs), 0);
                        prop_assert!(n - t <= Duration::seconds(secs));
                    }
                    Spec::Daily { at } => {
                        prop_assert_eq!(local.time(), at);
                        prop_assert!(n - t <= Duration::days(1));
                    }
                    Spec::Weekly { day, at } => {
                        prop_assert_eq!(local.time(), at);
                        prop_assert_eq!(local.weekday(), day);
                        prop_assert!(n - t <= Duration::days(7));
                    }
                }
                // no slot in between: one second before n, the next slot is still n
                if n - t > Duration::seconds(1) {
                    prop_assert_eq!(s.next_after(n - Duration::seconds(1)), n);
                }
                t = n;
            }
        }
    }
}
