//! Condition operators, evaluated as the AWS condition-operator and multi-value pages describe.

use crate::glob::{self, Glob};
use crate::model::{Compiled, Condition, Operator, OperatorFamily, SetQualifier};
use std::borrow::Cow;

pub(crate) use ipnet::IpNet;

/// The values of a context key, without copying lists.
pub(crate) enum Vals<'a> {
    One(Cow<'a, str>),
    Many(&'a [String]),
}

impl Vals<'_> {
    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Vals::Many(l) if l.is_empty())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        let (one, many): (Option<&str>, &[String]) = match self {
            Vals::One(s) => (Some(s.as_ref()), &[]),
            Vals::Many(l) => (None, l),
        };
        one.into_iter().chain(many.iter().map(String::as_str))
    }
}

/// What a condition needs from the request: the values of a key (lower-cased name).
pub(crate) trait Lookup {
    /// `None` when the key is absent from the request context.
    fn values(&self, key_lower: &str) -> Option<Vals<'_>>;
    /// The single value of a key, for policy variables (multi-valued keys do not substitute).
    fn single(&self, key_lower: &str) -> Option<String>;
}

/// True when the condition entry holds for the request.
pub(crate) fn holds(c: &Condition, req: &dyn Lookup) -> bool {
    let vals = req.values(&c.key_lower);
    if c.operator == Operator::Null {
        // "true": the key must be absent; "false": present.
        let absent = vals.as_ref().is_none_or(|v| v.is_empty());
        return c
            .values
            .iter()
            .any(|v| matches!(v.compiled, Compiled::Bool(b) if b == absent));
    }
    // With a set qualifier, an empty string counts as a null data set [D-multi].
    let null_set =
        |v: &Vals<'_>| v.is_empty() || (c.qualifier.is_some() && v.iter().all(str::is_empty));
    let vals = match vals {
        Some(v) if !null_set(&v) => v,
        _ => {
            return match c.qualifier {
                _ if c.if_exists => true,
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => false,
                None => c.operator.is_negated(),
            };
        }
    };
    let negated = c.operator.is_negated();
    let per_value = |v: &str| positive(c, v, req) != negated;
    match c.qualifier {
        Some(SetQualifier::ForAllValues) => vals.iter().all(per_value),
        Some(SetQualifier::ForAnyValue) => vals.iter().any(per_value),
        None if negated => !vals.iter().any(|v| positive(c, v, req)),
        None => vals.iter().any(|v| positive(c, v, req)),
    }
}

/// Does request value `v` match any of the policy values under the operator's positive form?
fn positive(c: &Condition, v: &str, req: &dyn Lookup) -> bool {
    use Operator::*;
    let fam = c.operator.family();
    match fam {
        OperatorFamily::String | OperatorFamily::Arn | OperatorFamily::Binary => {
            let ignore_case = matches!(
                c.operator,
                StringEqualsIgnoreCase | StringNotEqualsIgnoreCase
            );
            let lowered;
            let v = if ignore_case {
                lowered = v.to_lowercase();
                lowered.as_str()
            } else {
                v
            };
            c.values.iter().any(|pv| match &pv.compiled {
                Compiled::Glob(g) => g.is_match(v),
                Compiled::Arn(segs) => arn_match(segs, v),
                Compiled::Template(parts) => {
                    let wild = matches!(c.operator, StringLike | StringNotLike)
                        || fam == OperatorFamily::Arn;
                    let look = |k: &str| req.single(k);
                    match glob::render_glob(parts, wild, &look) {
                        Some(g) if fam == OperatorFamily::Arn => {
                            arn_match(&glob::split_colons(glob::toks_of(&g), 6), v)
                        }
                        Some(Glob::Exact(s)) if ignore_case => s.to_lowercase() == v,
                        Some(g) => g.is_match(v),
                        None => false,
                    }
                }
                _ => false,
            })
        }
        OperatorFamily::Numeric => {
            let Ok(x) = v.trim().parse::<f64>() else {
                return false;
            };
            c.values.iter().any(|pv| match pv.compiled {
                Compiled::Num(p) => match c.operator {
                    NumericEquals | NumericNotEquals => x == p,
                    NumericLessThan => x < p,
                    NumericLessThanEquals => x <= p,
                    NumericGreaterThan => x > p,
                    NumericGreaterThanEquals => x >= p,
                    _ => false,
                },
                _ => false,
            })
        }
        OperatorFamily::Date => {
            let Some(x) = parse_date(v) else { return false };
            c.values.iter().any(|pv| match pv.compiled {
                Compiled::Date(p) => match c.operator {
                    DateEquals | DateNotEquals => x == p,
                    DateLessThan => x < p,
                    DateLessThanEquals => x <= p,
                    DateGreaterThan => x > p,
                    DateGreaterThanEquals => x >= p,
                    _ => false,
                },
                _ => false,
            })
        }
        OperatorFamily::Bool => {
            let x = v.eq_ignore_ascii_case("true");
            let known = x || v.eq_ignore_ascii_case("false");
            known
                && c.values
                    .iter()
                    .any(|pv| matches!(pv.compiled, Compiled::Bool(b) if b == x))
        }
        OperatorFamily::Ip => {
            let Some(addr) = parse_ip(v) else {
                return false;
            };
            c.values.iter().any(|pv| match &pv.compiled {
                Compiled::Ip(net) => net.contains(&addr),
                _ => false,
            })
        }
        OperatorFamily::Null => false,
    }
}

/// `ArnLike`/`ArnEquals`: each of the six colon-separated parts is matched on its own, so `*`
/// in one part never runs into the next; the last part (resource) may contain colons.
fn arn_match(segs: &[Glob], v: &str) -> bool {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    parts.len() == segs.len() && segs.iter().zip(parts).all(|(g, p)| g.is_match(p))
}

/// An address or CIDR block, v4 or v6. A bare address is a /32 or /128 block.
pub(crate) fn parse_ip(s: &str) -> Option<IpNet> {
    let s = s.trim();
    if let Ok(n) = s.parse::<IpNet>() {
        return Some(n.trunc());
    }
    s.parse::<std::net::IpAddr>().ok().map(IpNet::from)
}

/// Dates as AWS accepts them: ISO 8601 (`2024-01-31`, `2024-01-31T12:00:00Z`, fractional
/// seconds, `±hh:mm` offsets) or epoch seconds. Returns epoch milliseconds.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok()?.checked_mul(1000);
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || !(1..=days_in_month(y, m)).contains(&d) {
        return None;
    }
    let mut ms = days_from_civil(y, m, d) * 86_400_000;
    if b.len() == 10 {
        return Some(ms);
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let (hh, mi) = (num(11..13)?, num(14..16)?);
    let mut i = 16;
    let mut ss = 0;
    let mut frac_ms = 0;
    if b.get(i) == Some(&b':') {
        ss = num(17..19)?;
        i = 19;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            let mut j = start;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            if j == start {
                return None;
            }
            let digits = &s[start..j.min(start + 3)];
            frac_ms = digits.parse::<i64>().ok()? * 10i64.pow(3 - digits.len() as u32);
            i = j;
        }
    }
    if hh > 23 || mi > 59 || ss > 60 {
        return None;
    }
    ms += (hh * 3600 + mi * 60 + ss) * 1000 + frac_ms;
    match b.get(i) {
        None | Some(b'Z' | b'z') if b.len() <= i + 1 => Some(ms),
        Some(&sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let off = (num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?) * 60_000;
            Some(if sign == b'+' { ms - off } else { ms + off })
        }
        _ => None,
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's civil-from-days inverse).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("1970-01-02T00:00:00Z"), Some(86_400_000));
        assert_eq!(parse_date("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_date("1970-01-01T00:00:00.5Z"), Some(500));
        assert_eq!(parse_date("86400"), Some(86_400_000));
        assert_eq!(parse_date("2024-02-30"), None);
        assert_eq!(
            parse_date("2024-02-29T10:00"),
            Some(parse_date("2024-02-29").unwrap() + 36_000_000)
        );
        assert_eq!(parse_date("nonsense"), None);
        assert_eq!(parse_date("2024-01-01T00:00:00Zjunk"), None);
    }

    #[test]
    fn ips() {
        let n = parse_ip("10.0.0.0/8").unwrap();
        assert!(n.contains(&parse_ip("10.1.2.3").unwrap()));
        let n6 = parse_ip("2001:db8::/32").unwrap();
        assert!(n6.contains(&parse_ip("2001:db8::1").unwrap()));
        assert!(!n6.contains(&parse_ip("10.1.2.3").unwrap()));
        assert!(parse_ip("10.0.0.300").is_none());
    }
}
