//! `marqa metrics`: compute every metric once and print it as an aligned table, stable JSON
//! (documented by `schemas/metrics.schema.json`) or CSV.

use super::stdout::out;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::diag::Diagnostic;
use crate::metrics::attribution::Model;
use crate::metrics::registry::{self, Family, Unit, REGISTRY};
use crate::metrics::{By, MetricSet, MetricValue, Options, Store};
use crate::report::csv::{neutralize, to_csv};
use crate::snapshot::{LoadOptions, Snapshot};

use super::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The snapshot folder (holding snapshot.yaml); default: the current directory.
    pub snapshot: Option<PathBuf>,
    /// Break the metrics down by one dimension (groups become columns).
    #[arg(long, value_enum)]
    pub by: Option<By>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Attribution model for per-channel CAC, ROMI and LTV/CAC (overrides the manifest's),
    /// or `all` to print every model side by side.
    #[arg(long, value_name = "MODEL")]
    pub attribution: Option<String>,
    /// Print the metric registry (names, units, breakdowns) instead of computing.
    #[arg(long)]
    pub list: bool,
    /// Print the JSON Schema of `--format json` instead of computing.
    #[arg(long)]
    pub schema: bool,
    /// Load cells that do not parse as empty instead of failing.
    #[arg(long)]
    pub lenient: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
    Markdown,
}

pub fn run(args: Args) -> CmdResult {
    if args.schema {
        out!("{}", crate::metrics::schema::json_schema_text());
        return Ok(ExitCode::SUCCESS);
    }
    if args.list {
        out!("{}", render_registry(args.format));
        return Ok(ExitCode::SUCCESS);
    }
    let (model, all) = match args.attribution.as_deref() {
        None => (None, false),
        Some("all") => (None, true),
        Some(m) => match Model::parse(m) {
            Some(m) => (Some(m), false),
            None => {
                let names: Vec<&str> = Model::ALL.iter().map(|m| m.as_str()).collect();
                let mut d = Diagnostic::new(
                    "E-METRICS-MODEL",
                    format!("unknown attribution model `{m}`"),
                );
                d = match crate::diag::did_you_mean(m, names.iter().copied()) {
                    Some(s) => d.help(format!(
                        "did you mean `{s}`? Models: {}, all",
                        names.join(", ")
                    )),
                    None => d.help(format!("models: {}, all", names.join(", "))),
                };
                return Err(d.into());
            }
        },
    };
    let dir = super::snapshot_dir(args.snapshot);
    let snap = Snapshot::load_with(
        &dir,
        LoadOptions {
            lenient: args.lenient,
        },
        &super::connections(),
    )?;
    let opts = Options {
        model,
        ..Options::default()
    };
    let store = Store::compute(&snap, &opts).map_err(|e| {
        let loc = snap.loaded.document.location(
            &dir.join(crate::snapshot::MANIFEST_FILE),
            "/attribution/model",
        );
        let names: Vec<&str> = Model::ALL.iter().map(|m| m.as_str()).collect();
        Diagnostic::new("E-METRICS-MODEL", e.to_string())
            .at(loc)
            .help(format!("use one of: {}", names.join(", ")))
    })?;
    let out = match args.format {
        Format::Json => {
            let mut s =
                serde_json::to_string_pretty(&json(&snap, &store)).expect("store serializes");
            s.push('\n');
            s
        }
        Format::Csv => render_csv(&store),
        Format::Table | Format::Markdown => {
            let md = args.format == Format::Markdown;
            render_table(&snap, &store, args.by, all, md)
        }
    };
    out!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// The JSON document: a versioned header, then the store.
pub fn json(snap: &Snapshot, store: &Store) -> serde_json::Value {
    let mut v = serde_json::to_value(store).expect("store serializes");
    let obj = v.as_object_mut().expect("store is an object");
    let mut head = serde_json::Map::new();
    head.insert("format".into(), "marqa-metrics/1".into());
    head.insert("company".into(), snap.manifest.company.clone().into());
    head.insert("as_of".into(), snap.manifest.as_of.clone().into());
    head.insert("timezone".into(), snap.manifest.timezone.clone().into());
    for (k, val) in std::mem::take(obj) {
        head.insert(k, val);
    }
    serde_json::Value::Object(head)
}

/// `1234567.891` -> `1,234,567.89`.
pub fn thousands(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = s
        .split_once('.')
        .map_or((s.as_str(), None), |(a, b)| (a, Some(b)));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    if v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.insert(0, '-');
    }
    out
}

/// A value for people: units, % for shares, thousands separators for money and counts.
pub fn format_value(v: &MetricValue, unit: Unit) -> String {
    let Some(x) = v.num() else {
        return "n/a".into();
    };
    match unit {
        Unit::Count => {
            if x.fract() == 0.0 {
                thousands(x, 0)
            } else {
                thousands(x, 2)
            }
        }
        Unit::Share => format!("{:.1}%", x * 100.0),
        Unit::Money => thousands(x, 2),
        Unit::Ratio => format!("{x:.2}"),
        Unit::Days => format!("{x:.1} d"),
        Unit::Minutes => format!("{x:.1} min"),
        Unit::Months => format!("{x:.1} mo"),
        Unit::Score => format!("{x:.1}"),
    }
}

/// Relative change from the previous window, for the overall table.
fn change(cur: &MetricValue, prev: Option<&MetricValue>, unit: Unit) -> String {
    match (cur.num(), prev.and_then(MetricValue::num)) {
        (Some(c), Some(p)) if unit == Unit::Share => format!("{:+.1} pp", (c - p) * 100.0),
        (Some(c), Some(p)) if p != 0.0 => format!("{:+.1}%", (c - p) / p.abs() * 100.0),
        _ => String::new(),
    }
}

struct Grid {
    rows: Vec<Vec<String>>,
    /// Right-aligned columns.
    right: Vec<bool>,
}

impl Grid {
    fn new(header: Vec<String>, right: Vec<bool>) -> Grid {
        Grid {
            rows: vec![header],
            right,
        }
    }
    fn render(&self, md: bool) -> String {
        let ncol = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let width: Vec<usize> = (0..ncol)
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for (i, row) in self.rows.iter().enumerate() {
            let cells: Vec<String> = (0..ncol)
                .map(|c| {
                    let s = row.get(c).map_or("", String::as_str);
                    let pad = width[c] - s.chars().count();
                    if self.right.get(c).copied().unwrap_or(false) {
                        format!("{}{s}", " ".repeat(pad))
                    } else {
                        format!("{s}{}", " ".repeat(pad))
                    }
                })
                .collect();
            if md {
                out.push_str(&format!("| {} |\n", cells.join(" | ")));
                if i == 0 {
                    let seps: Vec<String> = (0..ncol)
                        .map(|c| {
                            let dashes = "-".repeat(width[c].max(3));
                            if self.right.get(c).copied().unwrap_or(false) {
                                format!("{}:", &dashes[1..])
                            } else {
                                dashes
                            }
                        })
                        .collect();
                    out.push_str(&format!("| {} |\n", seps.join(" | ")));
                }
            } else {
                out.push_str(cells.join("  ").trim_end());
                out.push('\n');
                if i == 0 {
                    let total: usize = width.iter().sum::<usize>() + 2 * ncol.saturating_sub(1);
                    out.push_str(&"─".repeat(total));
                    out.push('\n');
                }
            }
        }
        out
    }
}

fn unit_label(unit: Unit, currency: &str) -> String {
    match unit {
        Unit::Money => currency.to_string(),
        Unit::Share => "%".into(),
        u => u.as_str().into(),
    }
}

pub fn render_table(snap: &Snapshot, store: &Store, by: Option<By>, all: bool, md: bool) -> String {
    let mut out = format!(
        "{} — metrics for {} .. {} ({}), as of {}, currency {}; attribution: {}\n",
        snap.manifest.company,
        store.window.from,
        store.window.to,
        snap.manifest.timezone,
        snap.manifest.as_of,
        store.currency,
        store.attribution.model
    );
    match by {
        None => out.push_str(&overall_table(store, md)),
        Some(by) => out.push_str(&by_table(store, by, md)),
    }
    out.push_str(&tables(store, all, md));
    out
}

fn overall_table(store: &Store, md: bool) -> String {
    let prev = store.previous.as_deref();
    let prev_label = prev.map_or("previous".to_string(), |p| {
        format!("previous ({} .. {})", p.window.from, p.window.to)
    });
    let mut out = String::new();
    for fam in Family::ALL {
        out.push_str(&format!("\n{}\n", fam.title()));
        let mut g = Grid::new(
            vec![
                "metric".into(),
                "unit".into(),
                "value".into(),
                prev_label.clone(),
                "change".into(),
                "note".into(),
            ],
            vec![false, false, true, true, true, false],
        );
        for d in REGISTRY.iter().filter(|d| d.family == fam) {
            let Some(m) = store.get(d.name) else { continue };
            // The store keeps previous values only for the metrics that have one
            // (`MetricDef::has_previous`).
            let p = prev.and_then(|p| p.get(d.name)).map(|m| &m.value);
            g.rows.push(vec![
                d.name.into(),
                unit_label(d.unit, &store.currency),
                format_value(&m.value, d.unit),
                p.map_or(String::new(), |p| format_value(p, d.unit)),
                change(&m.value, p, d.unit),
                m.value.na_reason().unwrap_or("").into(),
            ]);
        }
        out.push_str(&g.render(md));
    }
    out
}

fn by_table(store: &Store, by: By, md: bool) -> String {
    let groups = store.groups(by);
    let mut out = format!("\nby {}\n", by.as_str());
    if groups.is_empty() {
        out.push_str(&format!("no {} groups have data\n", by.as_str()));
        return out;
    }
    let mut header: Vec<String> = vec!["metric".into(), "unit".into(), "total".into()];
    header.extend(groups.iter().map(|g| g.to_string()));
    let mut right = vec![false, false];
    right.extend(std::iter::repeat_n(true, groups.len() + 1));
    let mut g = Grid::new(header, right);
    for d in REGISTRY.iter().filter(|d| registry::applies(d, by)) {
        let Some(total) = store.get(d.name) else {
            continue;
        };
        let mut row = vec![
            d.name.to_string(),
            unit_label(d.unit, &store.currency),
            format_value(&total.value, d.unit),
        ];
        for grp in &groups {
            row.push(
                store
                    .get_in(by, grp, d.name)
                    .map_or("n/a".into(), |m| format_value(&m.value, d.unit)),
            );
        }
        g.rows.push(row);
    }
    out.push_str(&g.render(md));
    out
}

fn fmt_na(v: &MetricValue, unit: Unit) -> String {
    format_value(v, unit)
}

fn tables(store: &Store, all: bool, md: bool) -> String {
    let mut out = String::new();
    let money = |x: f64| thousands(x, 2);
    if !store.stage_conversion.is_empty() {
        out.push_str("\nStage conversion (deals created in the period)\n");
        let mut g = Grid::new(
            vec![
                "stage".into(),
                "reached".into(),
                "advanced".into(),
                "share".into(),
            ],
            vec![false, true, true, true],
        );
        for s in &store.stage_conversion {
            g.rows.push(vec![
                s.stage.clone(),
                thousands(s.reached as f64, 0),
                thousands(s.advanced as f64, 0),
                fmt_na(&s.share, Unit::Share),
            ]);
        }
        out.push_str(&g.render(md));
    }
    if !store.retention.is_empty() {
        out.push_str("\nRetention (share of the cohort paying in month k after acquisition)\n");
        let k = store
            .retention
            .iter()
            .map(|r| r.shares.len())
            .max()
            .unwrap_or(0);
        let mut header = vec!["cohort".to_string(), "customers".to_string()];
        header.extend((0..k).map(|i| format!("m{i}")));
        let mut g = Grid::new(
            header,
            std::iter::once(false)
                .chain(std::iter::repeat_n(true, k + 1))
                .collect(),
        );
        for r in &store.retention {
            let mut row = vec![r.cohort.clone(), thousands(r.customers as f64, 0)];
            row.extend(r.shares.iter().map(|s| fmt_na(s, Unit::Share)));
            g.rows.push(row);
        }
        out.push_str(&g.render(md));
    }
    if !store.plan.is_empty() {
        out.push_str("\nPlan vs fact\n");
        let mut g = Grid::new(
            [
                "period",
                "metric",
                "channel",
                "target",
                "fact",
                "attainment",
                "note",
            ]
            .map(String::from)
            .to_vec(),
            vec![false, false, false, true, true, true, false],
        );
        for p in &store.plan {
            let unit = registry::def(&p.metric).map_or(Unit::Ratio, |d| d.unit);
            let target = MetricValue::Num(p.target);
            g.rows.push(vec![
                p.period.clone(),
                p.metric.clone(),
                p.channel.clone().unwrap_or_default(),
                format_value(&target, unit),
                format_value(&p.fact, unit),
                format_value(&p.attainment, Unit::Share),
                p.attainment.na_reason().unwrap_or("").into(),
            ]);
        }
        out.push_str(&g.render(md));
    }
    if !store.events.is_empty() {
        out.push_str("\nEvents\n");
        let mut g = Grid::new(
            [
                "event",
                "date",
                "format",
                "cost",
                "attended",
                "target",
                "cost/target",
            ]
            .map(String::from)
            .to_vec(),
            vec![false, false, false, true, true, true, true],
        );
        for e in &store.events {
            g.rows.push(vec![
                e.event.clone(),
                e.date.clone(),
                e.format.clone(),
                fmt_na(&e.cost, Unit::Money),
                fmt_na(&e.attended, Unit::Count),
                fmt_na(&e.target_attended, Unit::Count),
                fmt_na(&e.cost_per_target_attendee, Unit::Money),
            ]);
        }
        out.push_str(&g.render(md));
    }
    let a = &store.attribution;
    if all {
        out.push_str(&format!(
            "\nAttribution, every model: new customers credited per channel ({} customers acquired in the period)\n",
            a.customers
        ));
        let mut header = vec!["channel".to_string()];
        header.extend(a.models.iter().map(|m| m.model.clone()));
        let right = std::iter::once(false)
            .chain(std::iter::repeat_n(true, a.models.len()))
            .collect();
        let mut g = Grid::new(header.clone(), right);
        let channels: Vec<&str> = a.models.first().map_or(Vec::new(), |m| {
            m.channels.iter().map(|c| c.channel.as_str()).collect()
        });
        for (i, ch) in channels.iter().enumerate() {
            let mut row = vec![ch.to_string()];
            row.extend(
                a.models
                    .iter()
                    .map(|m| format!("{:.2}", m.channels[i].customers)),
            );
            g.rows.push(row);
        }
        out.push_str(&g.render(md));
        out.push_str("\nAttribution, every model: gross profit credited per channel\n");
        let right = std::iter::once(false)
            .chain(std::iter::repeat_n(true, a.models.len()))
            .collect();
        let mut g = Grid::new(header.clone(), right);
        for (i, ch) in channels.iter().enumerate() {
            let mut row = vec![ch.to_string()];
            row.extend(a.models.iter().map(|m| money(m.channels[i].gross_profit)));
            g.rows.push(row);
        }
        out.push_str(&g.render(md));
        out.push_str("\nAttribution, every model: ROMI per channel\n");
        let right = std::iter::once(false)
            .chain(std::iter::repeat_n(true, a.models.len()))
            .collect();
        let mut g = Grid::new(header, right);
        for (i, ch) in channels.iter().enumerate() {
            let mut row = vec![ch.to_string()];
            row.extend(
                a.models
                    .iter()
                    .map(|m| fmt_na(&m.channels[i].romi, Unit::Ratio)),
            );
            g.rows.push(row);
        }
        out.push_str(&g.render(md));
    } else if let Some(m) = a.models.iter().find(|m| m.model == a.model) {
        out.push_str(&format!(
            "\nAttribution ({}): {} customers acquired in the period\n",
            a.model, a.customers
        ));
        let mut g = Grid::new(
            [
                "channel",
                "customers",
                "revenue",
                "gross profit",
                "spend",
                "cac",
                "romi",
            ]
            .map(String::from)
            .to_vec(),
            vec![false, true, true, true, true, true, true],
        );
        for c in &m.channels {
            g.rows.push(vec![
                c.channel.clone(),
                format!("{:.2}", c.customers),
                money(c.revenue),
                money(c.gross_profit),
                fmt_na(&c.spend, Unit::Money),
                fmt_na(&c.cac, Unit::Money),
                fmt_na(&c.romi, Unit::Ratio),
            ]);
        }
        out.push_str(&g.render(md));
    }
    if !a.markov.channels.is_empty() && (all || a.model == "markov") {
        out.push_str(&format!(
            "\nMarkov removal effects ({} journeys, {} conversions)\n",
            thousands(a.markov.journeys, 0),
            thousands(a.markov.conversions, 0)
        ));
        let mut g = Grid::new(
            ["channel", "removal effect", "allocated conversions"]
                .map(String::from)
                .to_vec(),
            vec![false, true, true],
        );
        for c in &a.markov.channels {
            g.rows.push(vec![
                c.channel.clone(),
                format!("{:.4}", c.removal_effect),
                format!("{:.2}", c.allocated_conversions),
            ]);
        }
        out.push_str(&g.render(md));
    }
    out
}

/// Long CSV: one line per scope and metric. Group names come from the data (channels,
/// owners, products): a cell that would start a spreadsheet formula is made text.
pub fn render_csv(store: &Store) -> String {
    let window = format!("{}..{}", store.window.from, store.window.to);
    let header = ["window", "by", "group", "metric", "unit", "value", "na"].map(String::from);
    let mut rows = vec![header];
    let mut add = |by: &str, group: &str, set: &MetricSet| {
        for d in REGISTRY {
            let Some(m) = set.get(d.name) else { continue };
            let (v, na) = match &m.value {
                MetricValue::Num(x) => (format!("{x}"), String::new()),
                MetricValue::Na { na } => (String::new(), na.clone()),
            };
            rows.push([
                text(&window),
                text(by),
                text(group),
                d.name.to_string(),
                d.unit.as_str().to_string(),
                v,
                text(&na),
            ]);
        }
    };
    add("", "", &store.overall);
    for (by, groups) in &store.by {
        for (g, set) in groups {
            add(by.as_str(), g, set);
        }
    }
    to_csv(rows)
}

fn text(s: &str) -> String {
    neutralize(s).into_owned()
}

fn render_registry(format: Format) -> String {
    match format {
        Format::Markdown => registry::docs_markdown(),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(REGISTRY).expect("registry serializes");
            s.push('\n');
            s
        }
        Format::Csv => {
            let header = ["metric", "unit", "family", "breakdowns", "description"];
            let rows = REGISTRY.iter().map(|d| {
                let by: Vec<&str> = d.by.iter().map(|b| b.as_str()).collect();
                [
                    d.name.to_string(),
                    d.unit.as_str().to_string(),
                    format!("{:?}", d.family),
                    text(&by.join(" ")),
                    text(d.description),
                ]
            });
            to_csv(std::iter::once(header.map(String::from)).chain(rows))
        }
        Format::Table => {
            let mut g = Grid::new(
                ["metric", "unit", "breakdowns", "description"]
                    .map(String::from)
                    .to_vec(),
                vec![false; 4],
            );
            for d in REGISTRY {
                let by: Vec<&str> = d.by.iter().map(|b| b.as_str()).collect();
                g.rows.push(vec![
                    d.name.into(),
                    d.unit.as_str().into(),
                    by.join(","),
                    d.description.into(),
                ]);
            }
            g.render(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(1234567.891, 2), "1,234,567.89");
        assert_eq!(thousands(-1000.0, 0), "-1,000");
        assert_eq!(thousands(999.0, 0), "999");
        assert_eq!(thousands(-0.001, 2), "0.00");
    }

    #[test]
    fn units_format_for_people() {
        assert_eq!(
            format_value(&MetricValue::Num(0.1234), Unit::Share),
            "12.3%"
        );
        assert_eq!(format_value(&MetricValue::Num(2.5), Unit::Days), "2.5 d");
        assert_eq!(format_value(&MetricValue::na("x"), Unit::Money), "n/a");
    }
}
