//! Inline SVG charts for the HTML report, drawn here so the file needs nothing from elsewhere.
//! Scores are on a fixed 0–100 axis (so charts compare at a glance); a week without an audit is a
//! gap in the line, never a zero. Every label is escaped: week labels and tooltips carry data.

use super::{SEVERITIES, SeverityCount, TrendPoint, count_of, date_of, fmt_score, is_date};
use crate::html::esc;
use std::fmt::Write;

/// A score on the 0–100 axis, or None for a gap (no audit, or a value that is not a number).
fn plotted(v: Option<f64>) -> Option<f64> {
    v.filter(|s| s.is_finite()).map(|s| s.clamp(0.0, 100.0))
}

/// Runs of consecutive plotted points, as (index, value) lists.
fn runs(values: &[Option<f64>]) -> Vec<Vec<(usize, f64)>> {
    let mut out: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut cur = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match plotted(*v) {
            Some(s) => cur.push((i, s)),
            None if !cur.is_empty() => out.push(std::mem::take(&mut cur)),
            None => {}
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The weekly score line chart: y axis 0–100 with grid lines, one labelled x position per week,
/// each audited week a point with its value; weeks without an audit leave a gap and a marker.
pub(crate) fn trend_line(points: &[TrendPoint]) -> String {
    const W: f64 = 760.0;
    const H: f64 = 270.0;
    const LEFT: f64 = 48.0;
    const RIGHT: f64 = 16.0;
    const TOP: f64 = 22.0;
    const BOTTOM: f64 = 52.0;
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let n = points.len().max(1) as f64;
    let x = |i: usize| LEFT + (i as f64 + 0.5) * pw / n;
    let y = |v: f64| TOP + ph * (1.0 - v / 100.0);

    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-labelledby=\"trend-title\"><title id=\"trend-title\">Posture score per week, oldest first</title>"
    );
    for g in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let gy = y(g);
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{gy:.1}\" y2=\"{gy:.1}\"/><text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{g}</text>",
            W - RIGHT,
            LEFT - 6.0,
            gy + 4.0
        );
    }
    let _ = write!(
        s,
        "<text class=\"axis\" transform=\"translate(12 {:.1}) rotate(-90)\" text-anchor=\"middle\">score (%)</text><text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">week starting</text>",
        TOP + ph / 2.0,
        LEFT + pw / 2.0,
        H - 6.0
    );
    for (i, p) in points.iter().enumerate() {
        let gap = plotted(p.score).is_none();
        let _ = write!(
            s,
            "<text class=\"tick{}\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            if gap { " gap" } else { "" },
            x(i),
            TOP + ph + 18.0,
            esc(short_date(&p.week_start))
        );
        if gap {
            let _ = write!(
                s,
                "<g class=\"gap\"><title>week of {}: no audit</title><line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">no audit</text></g>",
                esc(date_of(&p.week_start)),
                TOP + ph - 26.0,
                TOP + ph,
                TOP + ph - 30.0,
                x = x(i)
            );
        }
    }
    let values: Vec<Option<f64>> = points.iter().map(|p| p.score).collect();
    for run in runs(&values) {
        if run.len() > 1 {
            s.push_str("<polyline class=\"line\" points=\"");
            for (i, v) in &run {
                let _ = write!(s, "{:.1},{:.1} ", x(*i), y(*v));
            }
            s.push_str("\"/>");
        }
    }
    for (i, p) in points.iter().enumerate() {
        if let Some(v) = plotted(p.score) {
            let (px, py) = (x(i), y(v));
            // Labels sit above the point, or below it near the top edge.
            let ly = if py - 9.0 < TOP { py + 16.0 } else { py - 9.0 };
            let _ = write!(
                s,
                "<g class=\"pt\"><title>week of {}: score {}, {} pass, {} fail</title><circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"4\"/><text x=\"{px:.1}\" y=\"{ly:.1}\" text-anchor=\"middle\">{}</text></g>",
                esc(date_of(&p.week_start)),
                fmt_score(p.score),
                p.pass,
                p.fail,
                fmt_score(p.score)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// `MM-DD` of an RFC 3339 time, or the text itself when it is not one.
pub(crate) fn short_date(time: &str) -> &str {
    let d = date_of(time);
    if is_date(d) { &d[5..] } else { d }
}

/// A small score line for a table cell. Unlike the trend chart it spans the row's own range
/// (at least [`SPARK_MIN_SPAN`] points tall, within 0–100), so a few points of change show; the
/// numbers sit beside it. Gaps for weeks without an audit.
pub(crate) fn sparkline(values: &[Option<f64>]) -> String {
    const W: f64 = 120.0;
    const H: f64 = 28.0;
    const PAD: f64 = 3.0;
    let n = values.len();
    let x = |i: usize| {
        if n <= 1 {
            W / 2.0
        } else {
            PAD + i as f64 * (W - 2.0 * PAD) / (n - 1) as f64
        }
    };
    let (lo, hi) = spark_range(values);
    let y = |v: f64| PAD + (H - 2.0 * PAD) * (1.0 - (v - lo) / (hi - lo));
    let tip: Vec<String> = values.iter().map(|v| fmt_score(plotted(*v))).collect();
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"spark\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\"><title>weekly scores, oldest first: {} (axis {lo:.0} to {hi:.0})</title>",
        tip.join(", "),
    );
    for run in runs(values) {
        if run.len() > 1 {
            s.push_str("<polyline points=\"");
            for (i, v) in &run {
                let _ = write!(s, "{:.1},{:.1} ", x(*i), y(*v));
            }
            s.push_str("\"/>");
        } else if let Some((i, v)) = run.first() {
            let _ = write!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"1.6\"/>",
                x(*i),
                y(*v)
            );
        }
    }
    if let Some((i, v)) = values
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, v)| plotted(*v).map(|v| (i, v)))
    {
        let _ = write!(
            s,
            "<circle class=\"last\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.6\"/>",
            x(i),
            y(v)
        );
    }
    s.push_str("</svg>");
    s
}

/// The smallest score span a sparkline shows, so noise of a point or two stays flat.
const SPARK_MIN_SPAN: f64 = 20.0;

/// The y range of a sparkline: the values' own, widened to [`SPARK_MIN_SPAN`] around their
/// middle and moved inside 0–100.
pub(crate) fn spark_range(values: &[Option<f64>]) -> (f64, f64) {
    let plotted: Vec<f64> = values.iter().filter_map(|v| plotted(*v)).collect();
    let lo = plotted.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = plotted.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if plotted.is_empty() {
        return (0.0, 100.0);
    }
    let span = (hi - lo).max(SPARK_MIN_SPAN);
    let mid = (lo + hi) / 2.0;
    let (mut lo, mut hi) = (mid - span / 2.0, mid + span / 2.0);
    if lo < 0.0 {
        hi -= lo;
        lo = 0.0;
    }
    if hi > 100.0 {
        lo -= hi - 100.0;
        hi = 100.0;
    }
    (lo.max(0.0), hi)
}

/// A horizontal 0–100 bar for a score; an empty frame when there is none.
pub(crate) fn score_bar(score: Option<f64>) -> String {
    let w = plotted(score).unwrap_or(0.0);
    format!(
        "<svg class=\"bar\" viewBox=\"0 0 100 10\" width=\"100\" height=\"10\" aria-hidden=\"true\"><rect class=\"track\" x=\"0\" y=\"0\" width=\"100\" height=\"10\"/><rect class=\"fill\" x=\"0\" y=\"0\" width=\"{w:.1}\" height=\"10\"/></svg>"
    )
}

/// One bar per severity (all five, most severe first, zeros included so charts compare), each
/// labelled with its count so the chart reads without colour.
pub(crate) fn severity_bars(counts: &[SeverityCount], what: &str) -> String {
    const LABEL: f64 = 120.0;
    const BAR: f64 = 300.0;
    const ROW: f64 = 22.0;
    let h = ROW * SEVERITIES.len() as f64 + 4.0;
    let w = LABEL + BAR + 70.0;
    let max = SEVERITIES
        .iter()
        .map(|s| count_of(counts, *s))
        .max()
        .unwrap_or(0)
        .max(1);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"sevbars\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\"><title>{} by severity</title>",
        esc(what)
    );
    for (i, sev) in SEVERITIES.iter().enumerate() {
        let n = count_of(counts, *sev);
        let top = 2.0 + i as f64 * ROW;
        let bw = if n == 0 {
            0.0
        } else {
            (BAR * n as f64 / max as f64).max(2.0)
        };
        let name = sev.as_str();
        let _ = write!(
            s,
            "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{name}</text><rect class=\"sev-{name}\" x=\"{LABEL}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\"/><text class=\"val\" x=\"{:.1}\" y=\"{:.1}\">{n}</text>",
            LABEL - 8.0,
            top + 15.0,
            top + 3.0,
            ROW - 6.0,
            LABEL + bw + 6.0,
            top + 15.0
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_split_the_line() {
        let v = [
            Some(50.0),
            Some(60.0),
            None,
            Some(70.0),
            Some(f64::NAN),
            Some(80.0),
        ];
        let r = runs(&v);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0], vec![(0, 50.0), (1, 60.0)]);
        assert_eq!(r[1], vec![(3, 70.0)]);
        assert_eq!(r[2], vec![(5, 80.0)]);
        let svg = sparkline(&v);
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert_eq!(
            svg.matches("<circle").count(),
            3,
            "two lone points and the last"
        );
    }

    #[test]
    fn sparkline_range_fits_the_values() {
        assert_eq!(spark_range(&[Some(70.0), Some(75.0)]), (62.5, 82.5));
        assert_eq!(spark_range(&[Some(0.0), Some(3.0)]), (0.0, 20.0));
        assert_eq!(spark_range(&[Some(99.0), None]), (80.0, 100.0));
        assert_eq!(spark_range(&[Some(10.0), Some(90.0)]), (10.0, 90.0));
        assert_eq!(spark_range(&[None, Some(f64::NAN)]), (0.0, 100.0));
        // Points stay inside the drawing.
        let svg = sparkline(&[Some(0.0), Some(100.0), Some(50.0)]);
        assert!(
            svg.contains("3.0,25.0") && svg.contains("60.0,3.0"),
            "{svg}"
        );
    }

    #[test]
    fn trend_marks_weeks_without_audit() {
        let pts: Vec<TrendPoint> = (0..12)
            .map(|i| TrendPoint {
                week_start: format!("2026-09-{:02}T00:00:00Z", i + 1),
                score: if i == 4 { None } else { Some(60.0 + i as f64) },
                pass: 10,
                fail: 2,
            })
            .collect();
        let svg = trend_line(&pts);
        assert_eq!(svg.matches("no audit</text>").count(), 1);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 11);
        assert!(svg.contains(">09-01</text>") && svg.contains(">71.0</text>"));
        // Out-of-range scores stay inside the plot.
        let wild = [TrendPoint {
            week_start: "x".into(),
            score: Some(250.0),
            pass: 0,
            fail: 0,
        }];
        assert!(trend_line(&wild).contains("cy=\"22.0\""));
    }

    #[test]
    fn severity_bars_show_every_count() {
        let counts = [
            SeverityCount {
                severity: rampart_core::Severity::High,
                count: 7,
            },
            SeverityCount {
                severity: rampart_core::Severity::Low,
                count: 3,
            },
        ];
        let svg = severity_bars(&counts, "open <findings>");
        for label in ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"] {
            assert!(svg.contains(&format!(">{label}</text>")));
        }
        assert!(
            svg.contains(">7</text>") && svg.contains(">3</text>") && svg.contains(">0</text>")
        );
        assert!(svg.contains("open &lt;findings&gt;"));
    }
}
