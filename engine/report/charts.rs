//! Charts for the presentation, drawn by the engine as inline SVG (no script, no network):
//! the funnel with stage conversions; spend, CPL, CAC and ROMI by channel; LTV/CAC by channel
//! against its threshold; cohort retention; first-response times against the SLA; plan vs
//! fact per metric. Values come from the metrics store, never recomputed.
//!
//! Every chart is one small function returning `None` when there is nothing to draw. Each
//! SVG has `role="img"`, a `<title>` and a `<desc>` for screen readers. All text is
//! XML-escaped here (channel names and stage names are data), and colours are presentation
//! attributes with classes on top, so a template's CSS can restyle them. Coordinates are
//! rounded to 0.1 px, so the output is byte-stable.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::metrics::registry::Unit;
use crate::metrics::{By, MetricValue, Store};

use super::context::{plan_good, Context};
use super::i18n;
use crate::numbers::{self, NumberStyle};

/// One drawn chart.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub description: String,
    /// The `<svg>` element (already escaped: insert it as is).
    pub svg: String,
}

const WIDTH: f64 = 720.0;
const LABEL_W: f64 = 170.0;
const BLUE: &str = "#4c78a8";
const GOOD: &str = "#54a24b";
const BAD: &str = "#e45756";
const MUTED: &str = "#bab0ac";
const INK: &str = "#333333";

/// Escape text for XML (element content and attribute values).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate rounded to 0.1 px, without a trailing `.0`.
fn n(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// Cut a label to `max` characters.
fn short(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        s.chars().take(max - 1).collect::<String>() + "…"
    } else {
        s.to_string()
    }
}

/// An SVG being written.
struct Svg {
    body: String,
}

impl Svg {
    fn new() -> Svg {
        Svg {
            body: String::new(),
        }
    }
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, class: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect class="{class}" x="{}" y="{}" width="{}" height="{}" fill="{fill}"/>"#,
            n(x),
            n(y),
            n(w.max(0.0)),
            n(h.max(0.0))
        );
    }
    fn rect_alpha(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, alpha: f64) {
        let _ = writeln!(
            self.body,
            r#"<rect class="c-cell" x="{}" y="{}" width="{}" height="{}" fill="{fill}" fill-opacity="{:.2}"/>"#,
            n(x),
            n(y),
            n(w),
            n(h),
            alpha.clamp(0.0, 1.0)
        );
    }
    /// Text; `anchor` is start, middle or end.
    fn text(&mut self, x: f64, y: f64, s: &str, anchor: &str, class: &str) {
        let _ = writeln!(
            self.body,
            r#"<text class="{class}" x="{}" y="{}" text-anchor="{anchor}" fill="{INK}">{}</text>"#,
            n(x),
            n(y),
            esc(s)
        );
    }
    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, class: &str, dashed: bool) {
        let dash = if dashed {
            r#" stroke-dasharray="4 3""#
        } else {
            ""
        };
        let _ = writeln!(
            self.body,
            r#"<line class="{class}" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{INK}" stroke-width="1"{dash}/>"#,
            n(x1),
            n(y1),
            n(x2),
            n(y2)
        );
    }
    fn finish(self, id: &'static str, title: String, description: String, height: f64) -> Chart {
        let svg = format!(
            concat!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-{id}" role="img" "#,
                r#"aria-labelledby="chart-{id}-title chart-{id}-desc" viewBox="0 0 {w} {h}" "#,
                r#"width="{w}" height="{h}" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" font-size="12">"#,
                "\n<title id=\"chart-{id}-title\">{title}</title>\n<desc id=\"chart-{id}-desc\">{desc}</desc>\n{body}</svg>"
            ),
            id = id,
            w = n(WIDTH),
            h = n(height),
            title = esc(&title),
            desc = esc(&description),
            body = self.body
        );
        Chart {
            id,
            title,
            description,
            svg,
        }
    }
}

fn num(store: &Store, name: &str) -> Option<f64> {
    store
        .get(name)
        .and_then(|m| m.value.num())
        .filter(|x| x.is_finite())
}

fn group_num(store: &Store, by: By, group: &str, name: &str) -> Option<f64> {
    store
        .get_in(by, group, name)
        .and_then(|m| m.value.num())
        .filter(|x| x.is_finite())
}

/// Leads → MQL → SQL → won, with conversions, then deal stages with the share advancing.
pub fn funnel(
    store: &Store,
    stage_names: &BTreeMap<String, String>,
    locale: &str,
) -> Option<Chart> {
    let style = NumberStyle::of(locale);
    let stages = [
        ("leads", None),
        ("mql", Some("lead_to_mql")),
        ("sql", Some("mql_to_sql")),
        ("won_leads", Some("sql_to_won")),
    ];
    let lead_rows: Vec<(String, f64, Option<f64>)> = stages
        .iter()
        .filter_map(|(m, conv)| {
            Some((
                i18n::metric(locale, m),
                num(store, m)?,
                conv.and_then(|c| num(store, c)),
            ))
        })
        .collect();
    let max_lead = lead_rows.iter().map(|r| r.1).fold(0.0, f64::max);
    let deal_rows = &store.stage_conversion;
    let max_deal = deal_rows
        .iter()
        .map(|s| s.reached as f64)
        .fold(0.0, f64::max);
    if max_lead <= 0.0 && max_deal <= 0.0 {
        return None;
    }
    let mut svg = Svg::new();
    let row_h = 30.0;
    let label_w = 230.0;
    let bar_area = WIDTH - label_w - 90.0;
    let center = label_w + bar_area / 2.0;
    // A value inside its bar when it fits, else beside it in ink.
    let value = |svg: &mut Svg, y: f64, w: f64, text: &str| {
        if w >= 8.0 * text.chars().count() as f64 + 8.0 {
            svg.text(center, y, text, "middle", "c-value c-on-bar");
        } else {
            svg.text(center + w / 2.0 + 4.0, y, text, "start", "c-value");
        }
    };
    let mut y = 10.0;
    let section = |svg: &mut Svg, y: &mut f64, heading: &str| {
        svg.text(8.0, *y + 12.0, heading, "start", "c-heading");
        *y += 22.0;
    };
    if max_lead > 0.0 {
        section(&mut svg, &mut y, &i18n::label(locale, "lead_funnel"));
        for (label, v, conv) in &lead_rows {
            let w = (v / max_lead * bar_area).max(2.0);
            svg.text(
                label_w - 8.0,
                y + row_h / 2.0 + 4.0,
                label,
                "end",
                "c-label",
            );
            svg.rect(center - w / 2.0, y + 3.0, w, row_h - 6.0, BLUE, "c-bar");
            value(
                &mut svg,
                y + row_h / 2.0 + 4.0,
                w,
                &numbers::number_auto(*v, 1, style),
            );
            if let Some(c) = conv {
                svg.text(
                    WIDTH - 8.0,
                    y + row_h / 2.0 + 4.0,
                    &format!("→ {}", numbers::percent(*c, 1, style)),
                    "end",
                    "c-value",
                );
            }
            y += row_h;
        }
        y += 10.0;
    }
    if max_deal > 0.0 {
        section(&mut svg, &mut y, &i18n::label(locale, "deal_stages"));
        for s in deal_rows {
            let name = stage_names.get(&s.stage).unwrap_or(&s.stage);
            let w = (s.reached as f64 / max_deal * bar_area).max(2.0);
            svg.text(
                label_w - 8.0,
                y + row_h / 2.0 + 4.0,
                &short(name, 30),
                "end",
                "c-label",
            );
            svg.rect(center - w / 2.0, y + 3.0, w, row_h - 6.0, BLUE, "c-bar");
            value(
                &mut svg,
                y + row_h / 2.0 + 4.0,
                w,
                &numbers::number_auto(s.reached as f64, 0, style),
            );
            if let Some(share) = s.share.num() {
                svg.text(
                    WIDTH - 8.0,
                    y + row_h / 2.0 + 4.0,
                    &format!("→ {}", numbers::percent(share, 1, style)),
                    "end",
                    "c-value",
                );
            }
            y += row_h;
        }
    }
    Some(svg.finish(
        "funnel",
        i18n::label(locale, "chart_funnel"),
        i18n::label(locale, "chart_funnel_desc"),
        y + 8.0,
    ))
}

/// A scale from a value range to pixels; zero is on the axis when the range spans it.
struct Linear {
    lo: f64,
    hi: f64,
    x0: f64,
    width: f64,
}

impl Linear {
    fn new(values: &[f64], x0: f64, width: f64) -> Linear {
        let lo = values.iter().copied().fold(0.0, f64::min);
        let mut hi = values.iter().copied().fold(0.0, f64::max);
        if hi - lo <= 0.0 {
            hi = lo + 1.0;
        }
        Linear { lo, hi, x0, width }
    }
    fn x(&self, v: f64) -> f64 {
        self.x0 + (v - self.lo) / (self.hi - self.lo) * self.width
    }
}

/// Money in a narrow panel: `8.89M RUB`, `53.9K RUB` (`8,89 млн RUB`, `53,9 тыс. RUB`).
fn compact_money(v: f64, currency: &str, locale: &str) -> String {
    let style = NumberStyle::of(locale);
    let ru = locale == "ru";
    let (x, suffix) = if v.abs() >= 1e6 {
        (v / 1e6, if ru { "\u{00A0}млн" } else { "M" })
    } else if v.abs() >= 1e4 {
        (v / 1e3, if ru { "\u{00A0}тыс." } else { "K" })
    } else {
        (v, "")
    };
    let digits = if x.abs() >= 100.0 || suffix.is_empty() {
        0
    } else if x.abs() >= 10.0 {
        1
    } else {
        2
    };
    let n = numbers::number_auto(x, digits, style);
    if currency.is_empty() {
        format!("{n}{suffix}")
    } else {
        format!("{n}{suffix}\u{00A0}{currency}")
    }
}

fn format_unit(v: f64, unit: Unit, currency: &str, locale: &str) -> String {
    match unit {
        Unit::Money => compact_money(v, currency, locale),
        Unit::Ratio => numbers::percent(v, 0, NumberStyle::of(locale)),
        other => numbers::by_unit(v, other, currency, locale),
    }
}

/// Spend, CPL, CAC and ROMI by channel: four panels, channels ordered by spend.
pub fn channels(store: &Store, locale: &str) -> Option<Chart> {
    let metrics = [
        ("spend", Unit::Money),
        ("cpl", Unit::Money),
        ("cac", Unit::Money),
        ("romi", Unit::Ratio),
    ];
    let mut rows: Vec<(&str, [Option<f64>; 4])> = store
        .groups(By::Channel)
        .into_iter()
        .map(|g| {
            let vals = metrics.map(|(m, _)| group_num(store, By::Channel, g, m));
            (g, vals)
        })
        .filter(|(_, v)| v.iter().any(Option::is_some))
        .collect();
    if rows.is_empty() {
        return None;
    }
    rows.sort_by(|a, b| {
        b.1[0]
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.1[0].unwrap_or(f64::NEG_INFINITY))
            .then_with(|| a.0.cmp(b.0))
    });
    let mut svg = Svg::new();
    let row_h = 18.0;
    let panel_w = WIDTH / 2.0;
    let label_w = 104.0;
    let panel_h = 26.0 + row_h * rows.len() as f64 + 10.0;
    for (k, (metric, unit)) in metrics.iter().enumerate() {
        let px = (k % 2) as f64 * panel_w;
        let py = (k / 2) as f64 * panel_h;
        svg.text(
            px + 8.0,
            py + 16.0,
            &i18n::metric(locale, metric),
            "start",
            "c-heading",
        );
        let values: Vec<f64> = rows.iter().filter_map(|r| r.1[k]).collect();
        let scale = Linear::new(&values, px + label_w, panel_w - label_w - 100.0);
        let zero = scale.x(0.0);
        let top = py + 26.0;
        svg.line(
            zero,
            top,
            zero,
            top + row_h * rows.len() as f64,
            "c-axis",
            false,
        );
        for (i, (group, vals)) in rows.iter().enumerate() {
            let y = top + i as f64 * row_h;
            svg.text(
                px + label_w - 6.0,
                y + 13.0,
                &short(group, 16),
                "end",
                "c-label",
            );
            match vals[k] {
                Some(v) => {
                    let x = scale.x(v);
                    let (left, w) = if v >= 0.0 {
                        (zero, x - zero)
                    } else {
                        (x, zero - x)
                    };
                    let fill = if *metric == "romi" && v < 0.0 {
                        BAD
                    } else {
                        BLUE
                    };
                    let class = if fill == BAD { "c-bar c-bad" } else { "c-bar" };
                    svg.rect(left, y + 3.0, w.max(1.0), row_h - 6.0, fill, class);
                    svg.text(
                        left + w.max(1.0) + 4.0,
                        y + 13.0,
                        &format_unit(v, *unit, &store.currency, locale),
                        "start",
                        "c-value",
                    );
                }
                None => svg.text(
                    zero + 4.0,
                    y + 13.0,
                    &i18n::label(locale, "na"),
                    "start",
                    "c-na",
                ),
            }
        }
    }
    Some(svg.finish(
        "channels",
        i18n::label(locale, "chart_channels"),
        i18n::label(locale, "chart_channels_desc"),
        panel_h * 2.0,
    ))
}

/// LTV/CAC by channel against the threshold (a log scale when values span decades).
pub fn ltv_cac(store: &Store, threshold: f64, locale: &str) -> Option<Chart> {
    let style = NumberStyle::of(locale);
    let rows: Vec<(&str, f64)> = store
        .groups(By::Channel)
        .into_iter()
        .filter_map(|g| Some((g, group_num(store, By::Channel, g, "ltv_cac")?)))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let positive: Vec<f64> = rows.iter().map(|r| r.1).filter(|v| *v > 0.0).collect();
    let max = rows.iter().map(|r| r.1).fold(threshold, f64::max);
    let min_pos = positive.iter().copied().fold(threshold, f64::min);
    let log = positive.len() == rows.len() && max / min_pos > 20.0;
    let (x0, width) = (LABEL_W, WIDTH - LABEL_W - 80.0);
    let (lo, hi) = if log {
        (
            10f64.powf((min_pos / 2.0).log10().floor()),
            10f64.powf(max.log10().ceil()),
        )
    } else {
        (0.0, (max * 1.1).max(threshold * 1.5))
    };
    let x = |v: f64| -> f64 {
        if log {
            x0 + ((v.max(lo)).log10() - lo.log10()) / (hi.log10() - lo.log10()) * width
        } else {
            x0 + (v.max(0.0) - lo) / (hi - lo) * width
        }
    };
    let row_h = 22.0;
    let top = 28.0;
    let mut svg = Svg::new();
    let scale_note = if log {
        format!("LTV/CAC ({})", i18n::label(locale, "log_scale"))
    } else {
        "LTV/CAC".to_string()
    };
    svg.text(8.0, 16.0, &scale_note, "start", "c-heading");
    for (i, (group, v)) in rows.iter().enumerate() {
        let y = top + i as f64 * row_h;
        let below = *v < threshold;
        svg.text(LABEL_W - 8.0, y + 15.0, &short(group, 24), "end", "c-label");
        let (fill, class) = if below {
            (BAD, "c-bar c-bad")
        } else {
            (GOOD, "c-bar c-good")
        };
        let w = (x(*v) - x0).max(1.0);
        svg.rect(x0, y + 4.0, w, row_h - 8.0, fill, class);
        svg.text(
            x0 + w + 4.0,
            y + 15.0,
            &numbers::number_auto(*v, 2, style),
            "start",
            "c-value",
        );
    }
    let bottom = top + rows.len() as f64 * row_h;
    if log {
        // Decade ticks: 0.1, 1, 10, 100 …
        let mut t = lo;
        while t <= hi * 1.0001 {
            let px = x(t);
            svg.line(px, bottom, px, bottom + 4.0, "c-axis", false);
            if (t - threshold).abs() > threshold * 0.5 {
                svg.text(
                    px,
                    bottom + 16.0,
                    &numbers::number_auto(t, 1, style),
                    "middle",
                    "c-label c-small",
                );
            }
            t *= 10.0;
        }
    }
    let tx = x(threshold);
    svg.line(tx, top - 6.0, tx, bottom + 4.0, "c-threshold", true);
    svg.text(
        tx,
        bottom + 18.0,
        &numbers::number_auto(threshold, 2, style),
        "middle",
        "c-value",
    );
    Some(svg.finish(
        "ltv_cac",
        i18n::label(locale, "chart_ltv_cac").replace(
            " 3 ",
            &format!(" {} ", numbers::number_auto(threshold, 2, style)),
        ),
        i18n::label(locale, "chart_ltv_cac_desc"),
        bottom + 28.0,
    ))
}

/// Cohort retention as a heatmap: a row per acquisition month, a column per month after.
pub fn retention(store: &Store, locale: &str) -> Option<Chart> {
    let style = NumberStyle::of(locale);
    let rows = &store.retention;
    let months = rows.iter().map(|r| r.shares.len()).max().unwrap_or(0);
    if rows.is_empty() || months == 0 {
        return None;
    }
    let cell_w = ((WIDTH - LABEL_W - 10.0) / months as f64).min(60.0);
    let cell_h = 22.0;
    let top = 40.0;
    let mut svg = Svg::new();
    svg.text(
        LABEL_W,
        14.0,
        &i18n::label(locale, "month_k"),
        "start",
        "c-heading",
    );
    for k in 0..months {
        svg.text(
            LABEL_W + (k as f64 + 0.5) * cell_w,
            top - 6.0,
            &k.to_string(),
            "middle",
            "c-label",
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + i as f64 * cell_h;
        svg.text(
            LABEL_W - 8.0,
            y + 15.0,
            &format!("{} ({})", r.cohort, r.customers),
            "end",
            "c-label",
        );
        for k in 0..months {
            let x = LABEL_W + k as f64 * cell_w;
            match r.shares.get(k).and_then(MetricValue::num) {
                Some(s) => {
                    svg.rect_alpha(
                        x + 1.0,
                        y + 1.0,
                        cell_w - 2.0,
                        cell_h - 2.0,
                        BLUE,
                        0.1 + 0.9 * s,
                    );
                    svg.text(
                        x + cell_w / 2.0,
                        y + 15.0,
                        &numbers::percent(s, 0, style),
                        "middle",
                        if s > 0.55 {
                            "c-value c-on-bar"
                        } else {
                            "c-value"
                        },
                    );
                }
                None => svg.rect_alpha(x + 1.0, y + 1.0, cell_w - 2.0, cell_h - 2.0, MUTED, 0.15),
            }
        }
    }
    Some(svg.finish(
        "retention",
        i18n::label(locale, "chart_retention"),
        i18n::label(locale, "chart_retention_desc"),
        top + rows.len() as f64 * cell_h + 10.0,
    ))
}

/// The largest unit in which all `bounds` (minutes) are whole: days, hours or minutes.
fn unit_for(bounds: &[f64], locale: &str) -> (f64, String) {
    let whole = |d: f64| bounds.iter().all(|b| (b / d).fract() == 0.0);
    if bounds.iter().all(|b| *b >= 1440.0) && whole(1440.0) {
        (1440.0, i18n::label(locale, "unit_days"))
    } else if bounds.iter().all(|b| *b >= 60.0) && whole(60.0) {
        (60.0, i18n::label(locale, "unit_hours"))
    } else {
        (1.0, i18n::label(locale, "unit_minutes"))
    }
}

/// `≤ 5 min`, `5–15 min`, `8–24 h`, `> 2 d`: a bucket's bounds in the largest whole unit.
fn bucket_label(from: f64, to: Option<f64>, locale: &str) -> String {
    let style = NumberStyle::of(locale);
    let f = |x: f64| numbers::number_auto(x, 1, style);
    match to {
        None => {
            let (d, u) = unit_for(&[from], locale);
            format!("> {} {u}", f(from / d))
        }
        Some(t) if from <= 0.0 => {
            let (d, u) = unit_for(&[t], locale);
            format!("≤ {} {u}", f(t / d))
        }
        Some(t) => {
            let (d, u) = unit_for(&[from, t], locale);
            format!("{}–{} {u}", f(from / d), f(t / d))
        }
    }
}

/// Answered leads by first-response time, the SLA as a dashed line, unanswered apart.
pub fn response_times(store: &Store, locale: &str) -> Option<Chart> {
    let style = NumberStyle::of(locale);
    let r = store.response_times.as_ref()?;
    if r.answered == 0 && r.unanswered == 0 {
        return None;
    }
    let n_bars = r.buckets.len() + 1;
    let left = 50.0;
    let bar_slot = (WIDTH - left - 10.0) / n_bars as f64;
    let (top, plot_h) = (48.0, 180.0);
    let max = r
        .buckets
        .iter()
        .map(|b| b.leads)
        .chain([r.unanswered])
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut svg = Svg::new();
    let axis = if r.business_hours {
        i18n::label(locale, "business_minutes")
    } else {
        i18n::label(locale, "minutes_axis")
    };
    svg.text(
        8.0,
        16.0,
        &format!("{} · {axis}", i18n::label(locale, "leads_axis")),
        "start",
        "c-heading",
    );
    let base = top + plot_h;
    svg.line(left, base, WIDTH - 10.0, base, "c-axis", false);
    let mut sla_x = None;
    for (i, b) in r.buckets.iter().enumerate() {
        let x = left + i as f64 * bar_slot;
        let h = b.leads as f64 / max * plot_h;
        let within = match (r.sla_minutes, b.to_minutes) {
            (Some(s), Some(t)) => t <= s,
            (Some(_), None) => false,
            (None, _) => true,
        };
        let (fill, class) = match (r.sla_minutes.is_some(), within) {
            (false, _) => (BLUE, "c-bar"),
            (true, true) => (GOOD, "c-bar c-good"),
            (true, false) => (BAD, "c-bar c-bad"),
        };
        svg.rect(x + 4.0, base - h, bar_slot - 8.0, h, fill, class);
        svg.text(
            x + bar_slot / 2.0,
            base - h - 4.0,
            &numbers::number_auto(b.leads as f64, 0, style),
            "middle",
            "c-value",
        );
        svg.text(
            x + bar_slot / 2.0,
            base + 14.0,
            &bucket_label(b.from_minutes, b.to_minutes, locale),
            "middle",
            "c-label c-small",
        );
        if let (Some(s), Some(t)) = (r.sla_minutes, b.to_minutes) {
            if (t - s).abs() < 1e-9 {
                sla_x = Some(x + bar_slot);
            }
        }
    }
    // Unanswered leads past the SLA: a bar apart, hatched by opacity.
    let x = left + r.buckets.len() as f64 * bar_slot;
    let h = r.unanswered as f64 / max * plot_h;
    svg.rect_alpha(x + 4.0, base - h, bar_slot - 8.0, h, BAD, 0.45);
    svg.text(
        x + bar_slot / 2.0,
        base - h - 4.0,
        &numbers::number_auto(r.unanswered as f64, 0, style),
        "middle",
        "c-value",
    );
    svg.text(
        x + bar_slot / 2.0,
        base + 14.0,
        &i18n::label(locale, "unanswered"),
        "middle",
        "c-label c-small",
    );
    if let (Some(sx), Some(s)) = (sla_x, r.sla_minutes) {
        svg.line(sx, top - 20.0, sx, base + 2.0, "c-threshold", true);
        let (d, u) = unit_for(&[s], locale);
        svg.text(
            sx + 4.0,
            top - 10.0,
            &format!(
                "{} {} {u}",
                i18n::label(locale, "sla"),
                numbers::number_auto(s / d, 1, style)
            ),
            "start",
            "c-value",
        );
    }
    Some(svg.finish(
        "response_times",
        i18n::label(locale, "chart_response"),
        i18n::label(locale, "chart_response_desc"),
        base + 26.0,
    ))
}

/// Plan vs fact: a row per planned metric (and channel), a cell per period with the
/// attainment bar, a tick at 100 %, green on the good side of the plan.
pub fn plan(ctx: &Context) -> Option<Chart> {
    let rows = &ctx.metrics.plan;
    if rows.is_empty() {
        return None;
    }
    let locale = ctx.locale.as_str();
    let mut series: Vec<(String, Option<String>, String)> = Vec::new();
    for p in rows {
        if !series
            .iter()
            .any(|(m, c, _)| *m == p.metric && *c == p.channel)
        {
            let label = match &p.channel {
                Some(c) => format!("{} · {c}", p.metric_label),
                None => p.metric_label.clone(),
            };
            series.push((p.metric.clone(), p.channel.clone(), label));
        }
    }
    let mut periods: Vec<&str> = rows.iter().map(|p| p.period.as_str()).collect();
    periods.sort_unstable();
    periods.dedup();
    let cell_w = ((WIDTH - LABEL_W - 10.0) / periods.len() as f64).min(110.0);
    let row_h = 22.0;
    let top = 24.0;
    let full = 1.5; // attainment drawn up to 150 %
    let mut svg = Svg::new();
    for (k, p) in periods.iter().enumerate() {
        svg.text(
            LABEL_W + (k as f64 + 0.5) * cell_w,
            16.0,
            p,
            "middle",
            "c-label",
        );
    }
    for (i, (metric, channel, label)) in series.iter().enumerate() {
        let y = top + i as f64 * row_h;
        svg.text(LABEL_W - 8.0, y + 15.0, &short(label, 28), "end", "c-label");
        for (k, period) in periods.iter().enumerate() {
            let Some(p) = rows
                .iter()
                .find(|p| p.metric == *metric && p.channel == *channel && p.period == *period)
            else {
                continue;
            };
            let x = LABEL_W + k as f64 * cell_w + 2.0;
            let inner = cell_w - 4.0;
            svg.rect_alpha(x, y + 3.0, inner, row_h - 6.0, MUTED, 0.15);
            match p.attainment {
                Some(a) => {
                    let w = (a.clamp(0.0, full) / full) * inner;
                    let good = plan_good(metric, a);
                    let (fill, class) = if good {
                        (GOOD, "c-bar c-good")
                    } else {
                        (BAD, "c-bar c-bad")
                    };
                    svg.rect(x, y + 3.0, w, row_h - 6.0, fill, class);
                    svg.text(x + 4.0, y + 15.0, &p.attainment_text, "start", "c-value");
                }
                None => svg.text(x + 4.0, y + 15.0, &p.attainment_text, "start", "c-na"),
            }
            let tick = x + inner / full;
            svg.line(tick, y + 1.0, tick, y + row_h - 1.0, "c-threshold", false);
        }
    }
    Some(svg.finish(
        "plan",
        i18n::label(locale, "chart_plan"),
        i18n::label(locale, "chart_plan_desc"),
        top + series.len() as f64 * row_h + 8.0,
    ))
}

/// Every chart the data allows, keyed by id (`funnel`, `channels`, `ltv_cac`, `retention`,
/// `response_times`, `plan`); a chart without data is None. Reads the context's metric
/// tables (plan rows, stage names), so it runs once the rest of the context is built.
pub fn all(
    ctx: &Context,
    store: &Store,
    ltv_cac_min: f64,
) -> BTreeMap<&'static str, Option<Chart>> {
    let locale = ctx.locale.as_str();
    let stage_names: BTreeMap<String, String> = ctx
        .metrics
        .stage_conversion
        .iter()
        .map(|s| (s.stage.clone(), s.name.clone()))
        .collect();
    let mut out = BTreeMap::new();
    out.insert("funnel", funnel(store, &stage_names, locale));
    out.insert("channels", channels(store, locale));
    out.insert("ltv_cac", ltv_cac(store, ltv_cac_min, locale));
    out.insert("retention", retention(store, locale));
    out.insert("response_times", response_times(store, locale));
    out.insert("plan", plan(ctx));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::speed::{ResponseBucket, ResponseTimes};
    use crate::metrics::{Metric, MetricSet};

    fn set(pairs: &[(&str, f64)]) -> MetricSet {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    Metric {
                        value: MetricValue::Num(*v),
                        explain: None,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn text_is_escaped_and_numbers_are_stable() {
        assert_eq!(esc("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;");
        assert_eq!(esc("a\u{1}b"), "a b");
        assert_eq!(n(1.04), "1");
        assert_eq!(n(1.05), "1.1");
        assert_eq!(n(-0.04), "0");
    }

    #[test]
    fn hostile_channel_names_stay_text() {
        let mut store = Store::default();
        let mut by = BTreeMap::new();
        by.insert(
            "<script>alert(1)</script>".to_string(),
            set(&[("spend", 100.0), ("cpl", 10.0), ("ltv_cac", 1.5)]),
        );
        store.by.insert(By::Channel, by);
        let c = channels(&store, "en").unwrap();
        assert!(!c.svg.contains("<script>"), "{}", c.svg);
        assert!(c.svg.contains("&lt;script&gt;alert(1"), "{}", c.svg);
        let l = ltv_cac(&store, 3.0, "en").unwrap();
        assert!(l.svg.contains("c-bad"), "1.5 is below the 3 line");
        assert!(
            l.svg.contains(r#"role="img""#) && l.svg.contains("<title id=\"chart-ltv_cac-title\">")
        );
    }

    #[test]
    fn no_data_no_chart() {
        let store = Store::default();
        assert!(funnel(&store, &BTreeMap::new(), "en").is_none());
        assert!(channels(&store, "en").is_none());
        assert!(ltv_cac(&store, 3.0, "en").is_none());
        assert!(retention(&store, "en").is_none());
        assert!(response_times(&store, "en").is_none());
    }

    #[test]
    fn response_chart_marks_the_sla_and_labels_buckets() {
        let store = Store {
            response_times: Some(ResponseTimes {
                business_hours: false,
                sla_minutes: Some(15.0),
                answered: 3,
                unanswered: 1,
                buckets: vec![
                    ResponseBucket {
                        from_minutes: 0.0,
                        to_minutes: Some(15.0),
                        leads: 2,
                    },
                    ResponseBucket {
                        from_minutes: 15.0,
                        to_minutes: Some(60.0),
                        leads: 1,
                    },
                    ResponseBucket {
                        from_minutes: 60.0,
                        to_minutes: None,
                        leads: 0,
                    },
                ],
            }),
            ..Store::default()
        };
        let c = response_times(&store, "en").unwrap();
        assert!(c.svg.contains("SLA 15 min"), "{}", c.svg);
        assert!(
            c.svg.contains("≤ 15 min") && c.svg.contains("15–60 min") && c.svg.contains("&gt; 1 h")
        );
        assert_eq!(bucket_label(30.0, Some(60.0), "en"), "30–60 min");
        assert_eq!(bucket_label(480.0, Some(1440.0), "ru"), "8–24 ч");
        assert_eq!(bucket_label(1440.0, Some(2880.0), "en"), "1–2 d");
        assert_eq!(bucket_label(2880.0, None, "en"), "> 2 d");
    }
}
