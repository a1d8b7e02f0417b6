//! The manifest `snapshot.yaml`: typed, validated against `schemas/manifest.schema.json`,
//! with every error pointing at its line and column.

use std::collections::BTreeMap;
use std::path::Path;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::diag::{did_you_mean, Diagnostic, Diagnostics};
use crate::schema;
use crate::yaml::{self, Document};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub version: u32,
    pub company: String,
    pub as_of: String,
    pub period: Period,
    pub currency: String,
    pub timezone: String,
    #[serde(default)]
    pub goals: Vec<Goal>,
    #[serde(default)]
    pub definitions: BTreeMap<String, Option<String>>,
    #[serde(default)]
    pub funnel: Option<Funnel>,
    #[serde(default)]
    pub sla: Option<Sla>,
    #[serde(default)]
    pub channels: Vec<ChannelRule>,
    #[serde(default)]
    pub utm: Option<UtmStandard>,
    #[serde(default)]
    pub attribution: Attribution,
    #[serde(default)]
    pub ltv: Ltv,
    #[serde(default)]
    pub dedupe: Dedupe,
    #[serde(default)]
    pub systems: Vec<System>,
    #[serde(default)]
    pub integrations: Vec<Integration>,
    #[serde(default)]
    pub reports: Vec<Report>,
    #[serde(default)]
    pub processes: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub tables: BTreeMap<String, TableOverride>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Period {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Goal {
    pub goal: String,
    #[serde(default)]
    pub kpis: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Funnel {
    #[serde(default)]
    pub stages: Vec<Stage>,
    #[serde(default)]
    pub won: Option<String>,
    #[serde(default)]
    pub lost: Option<String>,
}

impl Funnel {
    pub fn won_id(&self) -> &str {
        self.won.as_deref().unwrap_or("won")
    }
    pub fn lost_id(&self) -> &str {
        self.lost.as_deref().unwrap_or("lost")
    }
    /// Position of a stage id in the ordered stages.
    pub fn stage_index(&self, id: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.id == id)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Stage {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub max_days: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sla {
    #[serde(default)]
    pub first_response_minutes: Option<f64>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub business_hours: Option<BusinessHours>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BusinessHours {
    pub days: Vec<String>,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChannelRule {
    pub channel: String,
    #[serde(default)]
    pub source: Option<Vec<String>>,
    #[serde(default)]
    pub medium: Option<Vec<String>>,
    #[serde(default)]
    pub campaign: Option<Vec<String>>,
    #[serde(default)]
    pub origin: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UtmStandard {
    #[serde(default)]
    pub lowercase: bool,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub mediums: Vec<String>,
    /// This export's own spellings of "no source" (`Прочее`, `manual`), added to the
    /// built-in list (`snapshot::normalize::NO_SOURCE_VALUES`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub no_source_values: Vec<String>,
}

impl UtmStandard {
    /// Whether an agreed standard is declared (lists or the lowercase rule): a `utm`
    /// section with only `no_source_values` declares none, so `utm_violations` stays n/a.
    pub fn declares_standard(&self) -> bool {
        self.lowercase || !self.sources.is_empty() || !self.mediums.is_empty()
    }
}

impl Manifest {
    /// The values that mean "no source" in this snapshot: the built-in list plus
    /// `utm.no_source_values`.
    pub fn no_source(&self) -> crate::snapshot::normalize::NoSource {
        crate::snapshot::normalize::NoSource::with(
            self.utm
                .as_ref()
                .map_or(&[][..], |u| u.no_source_values.as_slice()),
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Attribution {
    #[serde(default = "default_model")]
    pub model: String,
    #[serde(default = "default_lookback")]
    pub lookback_days: f64,
    #[serde(default = "default_half_life")]
    pub half_life_days: f64,
}

fn default_model() -> String {
    "lead".into()
}
fn default_lookback() -> f64 {
    90.0
}
fn default_half_life() -> f64 {
    7.0
}

impl Default for Attribution {
    fn default() -> Self {
        Attribution {
            model: default_model(),
            lookback_days: default_lookback(),
            half_life_days: default_half_life(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Ltv {
    #[serde(default = "default_max_lifetime")]
    pub max_lifetime_months: f64,
}
fn default_max_lifetime() -> f64 {
    60.0
}
impl Default for Ltv {
    fn default() -> Self {
        Ltv {
            max_lifetime_months: default_max_lifetime(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Dedupe {
    #[serde(default = "default_window")]
    pub window_days: f64,
}
fn default_window() -> f64 {
    30.0
}
impl Default for Dedupe {
    fn default() -> Self {
        Dedupe {
            window_days: default_window(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct System {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Integration {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub carries: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub name: String,
    #[serde(default)]
    pub covers: Vec<String>,
    #[serde(default)]
    pub refresh: Option<String>,
    #[serde(default)]
    pub last_refreshed: Option<String>,
    #[serde(default)]
    pub audience: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TableOverride {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub delimiter: Option<String>,
    #[serde(default)]
    pub encoding: Option<String>,
    /// Where the table comes from (docs/sources.md): `file` (the default; a `.parquet` path
    /// is read as Parquet), `parquet`, `postgres` or `clickhouse`.
    #[serde(default)]
    pub source: Option<String>,
    /// A database source's connection: the *name* of the environment variable holding its
    /// URL (never the URL itself, which carries the password).
    #[serde(default)]
    pub url_env: Option<String>,
    /// A database table (`schema.table` or `table`): marqa writes the SELECT.
    #[serde(default)]
    pub table: Option<String>,
    /// The user's own SELECT, with `{period_from}`-style parameters.
    #[serde(default)]
    pub query: Option<String>,
    /// With `table`: marqa column name -> the database column holding it.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

/// The manifest's values that need parsing, parsed once.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub tz: TimeZone,
    pub as_of: i64,
    pub period_from: Date,
    pub period_to: Date,
}

/// A loaded manifest: the typed form, the raw document (for `manifest.*` paths in rules and
/// for positions) and the parsed values.
#[derive(Debug, Clone)]
pub struct LoadedManifest {
    pub manifest: Manifest,
    pub document: Document,
    pub resolved: Resolved,
}

/// Read and check `snapshot.yaml`. All problems found are returned together.
pub fn load(path: &Path) -> Result<LoadedManifest, Diagnostics> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::new("E-MANIFEST-READ", format!("cannot read the manifest: {e}"))
            .in_file(path)
            .help("a snapshot is a folder with snapshot.yaml; run `marqa validate DIR` on that folder")
    })?;
    parse(&text, path)
}

pub fn parse(text: &str, path: &Path) -> Result<LoadedManifest, Diagnostics> {
    let document = yaml::parse_single(text, path)?;
    // Before the schema: a written password gets its own error naming the variable to use,
    // not "unknown key `url`".
    if let Some(d) = crate::secrets::find(&document, path, "snapshot.yaml") {
        return Err(d.into());
    }
    let mut errors = schema::MANIFEST.check(&document, path);
    if !errors.is_empty() {
        // The checks beyond the schema (time zones, dates, the period) in the same run,
        // when the values are of the right types; not twice at the same place.
        if let Ok(m) = serde_json::from_value::<Manifest>(document.value.clone()) {
            if let Err(more) = resolve(&m, &document, path) {
                let taken: Vec<_> = errors.iter().map(|d| d.location.clone()).collect();
                errors.extend(more.0.into_iter().filter(|d| !taken.contains(&d.location)));
                errors.sort_by_key(|d| d.location.as_ref().map(|l| (l.line, l.column)));
            }
        }
        return Err(Diagnostics(errors));
    }
    let manifest: Manifest = serde_json::from_value(document.value.clone()).map_err(|e| {
        Diagnostic::new(
            "E-MANIFEST-TYPE",
            format!("manifest does not match its schema: {e}"),
        )
        .in_file(path)
    })?;
    let resolved = resolve(&manifest, &document, path)?;
    Ok(LoadedManifest {
        manifest,
        document,
        resolved,
    })
}

/// What reading the tables needs from a manifest.
pub struct TableSettings {
    pub document: Document,
    pub tables: BTreeMap<String, TableOverride>,
    /// The snapshot's zone, or UTC when it is not known (only naive timestamps use it, and
    /// cell errors do not depend on it).
    pub tz: TimeZone,
}

/// The table settings of a manifest that did not load, as far as they can be read: so the
/// tables' own problems (a missing column, a bad cell) are reported in the same run as the
/// manifest's. None when the YAML does not parse or its `tables` cannot be read (reading
/// files with the wrong path, encoding or delimiter would report problems that are not).
pub fn table_settings(path: &Path) -> Option<TableSettings> {
    let text = std::fs::read_to_string(path).ok()?;
    let document = yaml::parse_single(&text, path).ok()?;
    let tables = match document.value.get("tables") {
        None => BTreeMap::new(),
        Some(t) => serde_json::from_value(t.clone()).ok()?,
    };
    let tz = document
        .value
        .get("timezone")
        .and_then(serde_json::Value::as_str)
        .and_then(|z| zone(z).ok())
        .unwrap_or(TimeZone::UTC);
    Some(TableSettings {
        document,
        tables,
        tz,
    })
}

fn resolve(m: &Manifest, doc: &Document, path: &Path) -> Result<Resolved, Diagnostics> {
    let mut errors = Vec::new();
    let tz = match zone(&m.timezone) {
        Ok(tz) => Some(tz),
        Err(help) => {
            errors.push(
                Diagnostic::new(
                    "E-MANIFEST-TIMEZONE",
                    format!("unknown time zone `{}`", m.timezone),
                )
                .at(doc.location(path, "/timezone"))
                .help(help),
            );
            None
        }
    };
    let as_of = match m.as_of.replace(' ', "T").parse::<Timestamp>() {
        Ok(t) => Some(t.as_second()),
        Err(e) => {
            errors.push(
                Diagnostic::new(
                    "E-MANIFEST-AS-OF",
                    format!("`as_of` is not an instant: {e}"),
                )
                .at(doc.location(path, "/as_of"))
                .help("write the export moment with its offset, e.g. 2026-07-01T00:00:00+03:00"),
            );
            None
        }
    };
    let mut date = |s: &str, ptr: &str| match s.parse::<Date>() {
        Ok(d) => Some(d),
        Err(e) => {
            errors.push(
                Diagnostic::new("E-MANIFEST-DATE", format!("`{s}` is not a date: {e}"))
                    .at(doc.location(path, ptr))
                    .help("write dates as YYYY-MM-DD"),
            );
            None
        }
    };
    let from = date(&m.period.from, "/period/from");
    let to = date(&m.period.to, "/period/to");
    for (i, r) in m.reports.iter().enumerate() {
        if let Some(d) = &r.last_refreshed {
            date(d, &format!("/reports/{i}/last_refreshed"));
        }
    }
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            errors.push(
                Diagnostic::new(
                    "E-MANIFEST-PERIOD",
                    format!("the period starts ({f}) after it ends ({t})"),
                )
                .at(doc.location(path, "/period"))
                .help("swap `from` and `to`"),
            );
        }
    }
    for (name, o) in &m.tables {
        if let Some(z) = &o.timezone {
            if let Err(help) = zone(z) {
                errors.push(
                    Diagnostic::new(
                        "E-MANIFEST-TIMEZONE",
                        format!("unknown time zone `{z}` for table {name}"),
                    )
                    .at(doc.location(path, &format!("/tables/{name}/timezone")))
                    .help(help),
                );
            }
        }
    }
    for (name, o) in &m.tables {
        errors.extend(super::source::check_override(name, o, doc, path));
    }
    match (tz, as_of, from, to) {
        (Some(tz), Some(as_of), Some(period_from), Some(period_to)) if errors.is_empty() => {
            Ok(Resolved {
                tz,
                as_of,
                period_from,
                period_to,
            })
        }
        _ => Err(Diagnostics(errors)),
    }
}

/// An IANA zone from the bundled database; the error is a hint with the nearest names.
pub fn zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|_| {
        let names: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
        match did_you_mean(name, names.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`? Zones are IANA names like Europe/Moscow"),
            None => "use an IANA name like Europe/Moscow or UTC".to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "version: 1\ncompany: Acme\nas_of: 2026-07-01T00:00:00+03:00\nperiod: {from: 2026-01-01, to: 2026-06-30}\ncurrency: RUB\ntimezone: Europe/Moscow\n";

    #[test]
    fn minimal_manifest_gets_defaults() {
        let m = parse(MINIMAL, Path::new("snapshot.yaml")).unwrap();
        assert_eq!(m.manifest.attribution.model, "lead");
        assert_eq!(m.manifest.ltv.max_lifetime_months, 60.0);
        assert_eq!(m.manifest.dedupe.window_days, 30.0);
        // 2026-07-01T00:00:00+03:00 = 2026-06-30T21:00:00Z
        assert_eq!(
            m.resolved.as_of,
            "2026-06-30T21:00:00Z"
                .parse::<Timestamp>()
                .unwrap()
                .as_second()
        );
    }

    #[test]
    fn bad_zone_points_at_its_line() {
        let text = MINIMAL.replace("Europe/Moscow", "Europe/Moskow");
        let err = parse(&text, Path::new("snapshot.yaml")).unwrap_err();
        let d = &err.0[0];
        assert_eq!(d.code, "E-MANIFEST-TIMEZONE");
        assert_eq!(d.location.as_ref().unwrap().line, Some(6));
        assert!(d.help.as_ref().unwrap().contains("Europe/Moscow"), "{d}");
    }

    #[test]
    fn missing_required_key_is_named() {
        let text = MINIMAL.replace("currency: RUB\n", "");
        let err = parse(&text, Path::new("snapshot.yaml")).unwrap_err();
        assert!(
            err.to_string().contains("missing required key `currency`"),
            "{err}"
        );
    }

    #[test]
    fn reversed_period_is_an_error() {
        let text = MINIMAL.replace(
            "from: 2026-01-01, to: 2026-06-30",
            "from: 2026-07-01, to: 2026-06-30",
        );
        let err = parse(&text, Path::new("snapshot.yaml")).unwrap_err();
        assert_eq!(err.0[0].code, "E-MANIFEST-PERIOD");
    }
}
