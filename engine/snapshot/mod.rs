//! The normalized snapshot: a folder with `snapshot.yaml` and up to twelve tables
//! (`../shared/spec/snapshot.md`, `docs/snapshot.md`). Loading types every cell once;
//! what follows (metrics, rules, reports) only reads.

pub mod blocks;
pub mod chunks;
pub mod column;
pub mod derive;
pub mod dialect;
pub mod facts;
pub mod load;
pub mod manifest;
pub mod normalize;
pub mod records;
pub mod source;
pub mod spec;
pub mod summary;
pub mod table;
pub mod time;
pub mod value;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use column::{Column, ColumnData};
pub use facts::Facts;
pub use load::LoadOptions;
pub use manifest::{LoadedManifest, Manifest};
pub use source::Connections;
pub use spec::{ColType, TableName};
pub use table::Table;
pub use time::LocalClock;

use crate::diag::{Diagnostic, Diagnostics};
use dialect::Encoding;
use load::TableSource;

/// The manifest's file name inside a snapshot folder.
pub const MANIFEST_FILE: &str = "snapshot.yaml";

/// One company's loaded snapshot. Read-only once loaded: metrics and rules share it.
#[derive(Debug)]
pub struct Snapshot {
    pub root: PathBuf,
    pub manifest: Manifest,
    pub loaded: LoadedManifest,
    /// Local dates and period bounds in the snapshot's zone.
    pub clock: LocalClock,
    /// "now" for every age check (unix seconds).
    pub as_of: i64,
    /// The audit period as instants: `[period_start, period_end)`.
    pub period_start: i64,
    pub period_end: i64,
    /// The audit period as local day numbers, inclusive.
    pub period_days: (i32, i32),
    pub tables: BTreeMap<TableName, Table>,
    /// Referential facts (orphans, duplicate ids…) found at load; not errors.
    pub facts: Facts,
    /// Tables with rows the manifest's `channels` map could not place because it reads a
    /// column the table lacks (leads without `medium` under a map on source and medium),
    /// with those columns. Their rows' channel is undecidable: metrics by channel are n/a.
    pub channel_gaps: BTreeMap<TableName, Vec<String>>,
}

impl Snapshot {
    pub fn table(&self, name: TableName) -> Option<&Table> {
        self.tables.get(&name)
    }

    /// Whether an instant's local date falls within the audit period.
    pub fn in_period(&self, ts: i64) -> bool {
        ts >= self.period_start && ts < self.period_end
    }

    /// Whether a local day number falls within the audit period.
    pub fn day_in_period(&self, day: i32) -> bool {
        day >= self.period_days.0 && day <= self.period_days.1
    }

    /// Load a snapshot folder (or the folder of a given `snapshot.yaml`).
    pub fn load(path: &Path, opts: LoadOptions) -> Result<Snapshot, Diagnostics> {
        Self::load_impl(path, opts, &Connections::default(), true)
    }

    /// `load` with the database URLs that the manifest's `url_env` names (the CLI reads
    /// them from the environment; the library does not).
    pub fn load_with(
        path: &Path,
        opts: LoadOptions,
        conns: &Connections,
    ) -> Result<Snapshot, Diagnostics> {
        Self::load_impl(path, opts, conns, true)
    }

    /// Like `load`, but a missing leads table is an empty one instead of an error. For
    /// rule test cases, which hold a manifest plus only the tables their rules need.
    pub fn load_partial(path: &Path, opts: LoadOptions) -> Result<Snapshot, Diagnostics> {
        Self::load_impl(path, opts, &Connections::default(), false)
    }

    fn load_impl(
        path: &Path,
        opts: LoadOptions,
        conns: &Connections,
        require_leads: bool,
    ) -> Result<Snapshot, Diagnostics> {
        let (root, manifest_path) = if path.is_dir() {
            (path.to_path_buf(), path.join(MANIFEST_FILE))
        } else {
            (
                path.parent().unwrap_or(Path::new(".")).to_path_buf(),
                path.to_path_buf(),
            )
        };
        if !manifest_path.exists() {
            return Err(Diagnostic::new("E-SNAPSHOT-NOT-FOUND", format!("no {MANIFEST_FILE} here"))
                .in_file(&manifest_path)
                .help("pass the snapshot folder (the one holding snapshot.yaml), e.g. `marqa validate examples/demo`")
                .into());
        }
        let loaded = match manifest::load(&manifest_path) {
            Ok(l) => l,
            Err(mut e) => {
                // The tables are still read (as far as the manifest can be understood), so
                // a missing column is reported in the same run as the manifest's mistakes.
                if let Some(settings) = manifest::table_settings(&manifest_path) {
                    let clock = LocalClock::new(settings.tz.clone());
                    // No database is asked: its queries need the manifest's period.
                    let problems = plan_tables(&root, &settings.tables, &settings.document)
                        .and_then(|planned| load_tables(&planned, &clock, opts, None));
                    if let Err(more) = problems {
                        e.0.extend(more.0);
                    }
                }
                return Err(e);
            }
        };
        let clock = LocalClock::new(loaded.resolved.tz.clone());
        let planned = plan_tables(&root, &loaded.manifest.tables, &loaded.document)?;
        let r = &loaded.resolved;
        let (from, to) = (
            time::days_from_date(r.period_from),
            time::days_from_date(r.period_to),
        );
        let databases = Databases {
            conns,
            params: source::Params {
                period_from: r.period_from,
                period_to: r.period_to,
                period_start: clock.day_start(from),
                period_end: clock.day_start(to + 1),
                as_of: r.as_of,
                touches_from: None,
            },
            lookback: (loaded.manifest.attribution.lookback_days * 86_400.0).round() as i64,
        };
        let mut tables = load_tables(&planned, &clock, opts, Some(&databases))?;
        if !tables.contains_key(&TableName::Leads) && !require_leads {
            tables.insert(
                TableName::Leads,
                Table::empty(TableName::Leads, root.join("leads.csv")),
            );
        }
        if !tables.contains_key(&TableName::Leads) {
            return Err(Diagnostic::new("E-TABLE-REQUIRED", "the leads table is missing")
                .in_file(&root.join("leads.csv"))
                .help("a snapshot needs leads.csv (or leads.jsonl, or `tables.leads.path` in snapshot.yaml)")
                .into());
        }
        let r = &loaded.resolved;
        let from = time::days_from_date(r.period_from);
        let to = time::days_from_date(r.period_to);
        let mut snap = Snapshot {
            root,
            manifest: loaded.manifest.clone(),
            period_start: clock.day_start(from),
            period_end: clock.day_start(to + 1),
            period_days: (from, to),
            as_of: r.as_of,
            loaded,
            clock,
            tables,
            facts: Facts::default(),
            channel_gaps: BTreeMap::new(),
        };
        derive::derive_channels(&mut snap);
        snap.facts = facts::collect(&snap);
        Ok(snap)
    }
}

/// A table to read, and the zone for its naive timestamps when it differs from the
/// snapshot's (`tables.NAME.timezone`).
struct PlannedTable {
    name: TableName,
    from: From,
    path: PathBuf,
    jsonl: bool,
    encoding: Option<Encoding>,
    delimiter: Option<u8>,
    clock: Option<LocalClock>,
}

/// What database sources need: the URLs, the query parameters, the attribution look-back.
struct Databases<'a> {
    conns: &'a Connections,
    params: source::Params,
    /// Seconds.
    lookback: i64,
}

/// Read the planned tables, in parallel (each is independent until references are
/// checked); every table's problems together. Database tables are read only with
/// `databases` (a broken manifest gives no period to query with). A touches table from a
/// database is read from the earliest lead's attribution look-back on
/// (`source::sql::window`): at once when the leads' database tells when that lead was
/// created (`source::earliest_lead`), else once the leads are loaded.
fn load_tables(
    planned: &[PlannedTable],
    clock: &LocalClock,
    opts: LoadOptions,
    databases: Option<&Databases>,
) -> Result<BTreeMap<TableName, Table>, Diagnostics> {
    let load_one = |p: &PlannedTable, params: &source::Params| {
        let clock = p.clock.as_ref().unwrap_or(clock);
        let r = match (&p.from, databases) {
            (From::Database(db), Some(d)) => Some(source::load_database(
                p.name, db, d.conns, params, clock, opts,
            )),
            (From::Database(_), None) => None,
            (from, _) => {
                let src = TableSource {
                    table: p.name,
                    path: p.path.clone(),
                    jsonl: p.jsonl,
                    encoding: p.encoding,
                    delimiter: p.delimiter,
                    clock,
                };
                Some(match from {
                    From::Parquet => source::load_parquet(&src, opts),
                    _ => load::load_table(&src, opts),
                })
            }
        };
        r.map(|r| (p.name, r))
    };
    let mut params = databases.map(|d| d.params).unwrap_or(source::Params {
        period_from: jiff::civil::Date::default(),
        period_to: jiff::civil::Date::default(),
        period_start: 0,
        period_end: 0,
        as_of: 0,
        touches_from: None,
    });
    let leads_db = planned
        .iter()
        .find(|p| p.name == TableName::Leads)
        .and_then(|p| match &p.from {
            From::Database(db) => Some(db),
            _ => None,
        });
    let touches_from = |earliest: Option<i64>, d: &Databases| {
        earliest.unwrap_or(d.params.period_start) - d.lookback.max(0)
    };
    // Touches from a database are read with the leads when the leads' database can say
    // when the earliest lead was created; else after the leads, from the loaded column.
    let loaded: Vec<Result<_, &PlannedTable>> = planned
        .par_iter()
        .filter_map(|p| match (&p.from, databases) {
            (From::Database(_), Some(d)) if p.name == TableName::Touches => {
                let clock = p.clock.as_ref().unwrap_or(clock);
                match leads_db.and_then(|db| source::earliest_lead(db, d.conns, &params, clock)) {
                    Some(earliest) => {
                        let params = source::Params {
                            touches_from: Some(touches_from(earliest, d)),
                            ..params
                        };
                        load_one(p, &params).map(Ok)
                    }
                    None => Some(Err(p)),
                }
            }
            _ => load_one(p, &params).map(Ok),
        })
        .collect();
    let mut results = Vec::new();
    let mut waiting = None;
    for r in loaded {
        match r {
            Ok(table) => results.push(table),
            Err(p) => waiting = Some(p),
        }
    }
    if let (Some(p), Some(d)) = (waiting, databases) {
        let earliest = results
            .iter()
            .find(|(n, _)| *n == TableName::Leads)
            .and_then(|(_, t)| t.as_ref().ok())
            .and_then(|t| t.column("created_at"))
            .and_then(Column::times)
            .and_then(|v| v.iter().copied().filter(|&x| x != column::NULL_I64).min());
        params.touches_from = Some(touches_from(earliest, d));
        results.extend(load_one(p, &params));
    }
    let mut tables = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, r) in results {
        match r {
            Ok(t) => {
                tables.insert(name, t);
            }
            Err(e) => errors.extend(e.0),
        }
    }
    if errors.is_empty() {
        Ok(tables)
    } else {
        Err(Diagnostics(errors))
    }
}

/// Which tables exist and how to read them: `NAME.csv`, `NAME.tsv` or `NAME.jsonl` in the
/// folder, or `tables.NAME.path` of the manifest's `tables` (whose `document` places errors).
/// Paths must stay inside the snapshot folder.
fn plan_tables(
    root: &Path,
    overrides: &BTreeMap<String, manifest::TableOverride>,
    document: &crate::yaml::Document,
) -> Result<Vec<PlannedTable>, Diagnostics> {
    let manifest_path = root.join(MANIFEST_FILE);
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for name in TableName::ALL {
        let o = overrides.get(name.as_str()).cloned().unwrap_or_default();
        let clock = o
            .timezone
            .as_deref()
            .and_then(|z| manifest::zone(z).ok())
            .map(LocalClock::new);
        if let Some(db) = source::Database::from_override(&o) {
            out.push(PlannedTable {
                name,
                path: db.descriptor(name),
                from: From::Database(db),
                jsonl: false,
                encoding: None,
                delimiter: None,
                clock,
            });
            continue;
        }
        let path = match &o.path {
            Some(p) => {
                let full = root.join(p);
                if !inside(root, &full) {
                    errors.push(
                        Diagnostic::new(
                            "E-TABLE-PATH",
                            format!("`tables.{name}.path` leaves the snapshot folder: {p}"),
                        )
                        .at(document.location(&manifest_path, &format!("/tables/{name}/path")))
                        .help(
                            "copy the file into the snapshot folder and give a path relative to it",
                        ),
                    );
                    continue;
                }
                if !full.exists() {
                    errors.push(
                        Diagnostic::new(
                            "E-TABLE-PATH",
                            format!("`tables.{name}.path` names a file that does not exist: {p}"),
                        )
                        .at(document.location(&manifest_path, &format!("/tables/{name}/path")))
                        .help("fix the path (it is relative to the snapshot folder)"),
                    );
                    continue;
                }
                full
            }
            None => {
                let candidates: Vec<PathBuf> = ["csv", "tsv", "jsonl", "parquet"]
                    .iter()
                    .map(|ext| root.join(format!("{name}.{ext}")))
                    .filter(|p| p.is_file())
                    .collect();
                match candidates.len() {
                    0 => continue,
                    1 => candidates[0].clone(),
                    _ => {
                        errors.push(
                            Diagnostic::new(
                                "E-TABLE-AMBIGUOUS",
                                format!("table {name} exists in more than one file"),
                            )
                            .in_file(&candidates[0])
                            .help(
                                "keep one of them, or point `tables.NAME.path` at the one to use",
                            ),
                        );
                        continue;
                    }
                }
            }
        };
        let jsonl = path
            .extension()
            .is_some_and(|e| e == "jsonl" || e == "ndjson");
        let encoding = o.encoding.as_deref().and_then(Encoding::parse);
        let delimiter = o.delimiter.as_deref().and_then(dialect::parse_delimiter);
        let parquet = o.source.as_deref() == Some("parquet")
            || path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
        out.push(PlannedTable {
            name,
            from: if parquet { From::Parquet } else { From::File },
            path,
            jsonl,
            encoding,
            delimiter,
            clock,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Diagnostics(errors))
    }
}

/// Where a planned table's rows come from.
enum From {
    File,
    Parquet,
    Database(source::Database),
}

fn inside(root: &Path, path: &Path) -> bool {
    match (root.canonicalize(), path.canonicalize()) {
        (Ok(r), Ok(p)) => p.starts_with(r),
        // A path that does not exist yet is judged by its components.
        _ => !path
            .strip_prefix(root)
            .map(|rel| {
                rel.components()
                    .any(|c| c == std::path::Component::ParentDir)
            })
            .unwrap_or(true),
    }
}
