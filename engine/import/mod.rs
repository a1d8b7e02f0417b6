//! `marqa import`: raw exports (CRM, ad cabinets, call tracking, web analytics) to a
//! normalized snapshot. Mappings (YAML, or a preset shipped in the binary) say which file
//! fills which table and how each column is found and converted; the snapshot's tables are
//! written as UTF-8 CSV in the formats of snapshot.md, sorted, with a scaffolded
//! snapshot.yaml and an import report. Nothing is lost silently: unmapped columns are
//! carried over, every rejected row is listed with file, row number and reason.
//!
//! Flow: mappings → source grids (read once per file and sheet) → parts applied
//! (`transform`) → tables merged and sorted (`output`) → manifest scaffolded
//! (`scaffold`) → staged in a temporary folder, loaded back as a snapshot (the result must
//! pass `marqa validate`) → moved into place.

pub mod convert;
pub mod datefmt;
pub mod expr;
pub mod mapping;
pub mod number;
pub mod output;
pub mod presets;
pub mod report;
pub mod rows;
pub mod scaffold;
pub mod source;
pub mod text;
pub mod transform;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics};
use crate::snapshot::manifest::zone;
use crate::snapshot::spec::TableName;
use crate::snapshot::time::LocalClock;
use crate::snapshot::{LoadOptions, Snapshot, MANIFEST_FILE};

use mapping::{Mapping, ReadOptions};
use report::{ImportReport, InputReport, ManifestReport, PartReport, TableReport};
use transform::{Outcome, PartOutput};

/// What to import and where to. Paths are as the user gave them.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `--preset NAME FILE`, in order.
    pub presets: Vec<(String, PathBuf)>,
    /// `--mapping FILE`, in order.
    pub mappings: Vec<PathBuf>,
    pub out: PathBuf,
    pub force: bool,
    pub keep_manifest: bool,
    pub company: Option<String>,
    pub currency: Option<String>,
    pub timezone: Option<String>,
    pub as_of: Option<String>,
}

/// A finished import: the snapshot is written.
#[derive(Debug)]
pub struct Imported {
    pub report: ImportReport,
}

impl Imported {
    pub fn rows_rejected(&self) -> usize {
        self.report.rows_rejected
    }
}

pub fn run(req: &Request) -> Result<Imported, Diagnostics> {
    // 1. Mappings.
    let mut mappings: Vec<Mapping> = Vec::new();
    let mut errors = Vec::new();
    for (name, file) in &req.presets {
        match presets::load(name, file) {
            Ok(m) => mappings.push(m),
            Err(e) => errors.extend(e.0),
        }
    }
    for path in &req.mappings {
        match mapping::load_file(path) {
            Ok(m) => {
                for p in &m.parts {
                    if p.file.is_none() {
                        errors.push(
                            Diagnostic::new("E-MAPPING-FILE", format!("the {} part names no `file:`", p.table))
                                .at(m.doc.location(&m.path, &p.pointer))
                                .help("add `file: exports/…` (relative to the mapping file), or use this mapping with --preset MAPPING FILE"),
                        );
                    }
                }
                mappings.push(m);
            }
            Err(e) => errors.extend(e.0),
        }
    }
    if mappings.is_empty() && errors.is_empty() {
        errors.push(
            Diagnostic::new("E-IMPORT-NOTHING", "nothing to import").help(
                "name the exports: --preset amocrm exports/amo.xlsx --preset yandex-direct exports/direct.tsv, or --mapping import.yaml",
            ),
        );
    }
    if !errors.is_empty() {
        return Err(Diagnostics(errors));
    }

    // 2. Snapshot settings: flags, else the first mapping that has them.
    let pick = |flag: &Option<String>, f: &dyn Fn(&Mapping) -> Option<String>| {
        flag.clone().or_else(|| mappings.iter().find_map(f))
    };
    let timezone = pick(&req.timezone, &|m| m.snapshot.timezone.clone());
    let currency = pick(&req.currency, &|m| m.snapshot.currency.clone());
    let company = pick(&req.company, &|m| m.snapshot.company.clone());
    let as_of = pick(&req.as_of, &|m| m.snapshot.as_of.clone());
    let Some(timezone) = timezone else {
        errors.push(Diagnostic::new("E-IMPORT-TIMEZONE", "the snapshot's time zone is not given")
            .help("pass --timezone Europe/Moscow (the zone the exports' dates are in), or `snapshot: {timezone: …}` in the mapping"));
        return Err(Diagnostics(errors));
    };
    let tz = zone(&timezone).map_err(|help| {
        Diagnostics::from(
            Diagnostic::new(
                "E-IMPORT-TIMEZONE",
                format!("unknown time zone `{timezone}`"),
            )
            .help(help),
        )
    })?;
    let Some(currency) = currency else {
        return Err(
            Diagnostic::new("E-IMPORT-CURRENCY", "the snapshot's currency is not given")
                .help("pass --currency RUB (ISO 4217), or `snapshot: {currency: …}` in the mapping")
                .into(),
        );
    };
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Diagnostic::new(
            "E-IMPORT-CURRENCY",
            format!("`{currency}` is not an ISO 4217 code"),
        )
        .help("write three capital letters: RUB, USD, EUR, KZT")
        .into());
    }
    let clock = LocalClock::new(tz);

    // 3. The output folder.
    let inputs: Vec<PathBuf> = mappings
        .iter()
        .flat_map(|m| m.parts.iter().filter_map(|p| p.file.clone()))
        .collect();
    output::check_out(&req.out, &inputs, req.force)?;

    // 4. Sources, each file (and sheet) read once; parts applied in order.
    let mut grids: BTreeMap<(PathBuf, String), source::Grid> = BTreeMap::new();
    let mut outputs: Vec<PartOutput> = Vec::new();
    let mut input_reports: Vec<InputReport> = Vec::new();
    for m in &mut mappings {
        let label = match &m.preset {
            Some(p) => format!("preset {p}"),
            None => m.path.display().to_string(),
        };
        // Parts grouped by file, in first-appearance order, for the report.
        let mut by_file: Vec<(PathBuf, Vec<usize>)> = Vec::new();
        for (i, p) in m.parts.iter().enumerate() {
            let f = p.file.clone().expect("checked above");
            match by_file.iter_mut().find(|(x, _)| *x == f) {
                Some((_, v)) => v.push(i),
                None => by_file.push((f, vec![i])),
            }
        }
        for (file, idxs) in by_file {
            let mut rep = InputReport {
                file: file.display().to_string(),
                mapping: label.clone(),
                format: String::new(),
                parts: Vec::new(),
            };
            let mut applied = 0;
            let mut skipped = Vec::new();
            for i in idxs {
                let part = &mut m.parts[i];
                let key = (file.clone(), read_key(&part.read));
                if !grids.contains_key(&key) {
                    match source::open(&file, &part.read) {
                        Ok(g) => {
                            grids.insert(key.clone(), g);
                        }
                        Err(d) => {
                            errors.push(d);
                            break;
                        }
                    }
                }
                let grid = &grids[&key];
                rep.format = grid.described.clone();
                match transform::apply(part, grid, &clock, &clock, &label) {
                    Ok(Outcome::Applied(out)) => {
                        applied += 1;
                        rep.parts.push(out.report.clone());
                        outputs.push(*out);
                    }
                    Ok(Outcome::Skipped(why)) => {
                        skipped.push(format!("{}: {why}", part.table));
                        rep.parts.push(PartReport {
                            table: part.table.as_str().into(),
                            applied: false,
                            skipped_because: Some(why),
                            header_row: None,
                            columns: Vec::new(),
                            not_found: Vec::new(),
                            extra_columns: Vec::new(),
                            rows_read: 0,
                            rows_written: 0,
                            rows_rejected: 0,
                            rows_skipped: 0,
                            nulled: BTreeMap::new(),
                        });
                    }
                    Err(d) => errors.push(d),
                }
            }
            if applied == 0 && errors.is_empty() {
                errors.push(
                    Diagnostic::new(
                        "E-IMPORT-NO-MATCH",
                        format!("no table of {label} fits this file: {}", skipped.join("; ")),
                    )
                    .in_file(&file)
                    .help("check that the file is the export this preset reads (docs/import.md lists each preset's columns), or adapt the preset: marqa import --print-preset NAME"),
                );
            }
            input_reports.push(rep);
        }
    }
    if !errors.is_empty() {
        return Err(Diagnostics(errors));
    }

    // 5. Tables. The sources and the per-part rows are freed as soon as they are merged:
    //    an import holds its data about twice, not four times.
    drop(grids);
    let rejected: Vec<report::Rejected> = outputs
        .iter_mut()
        .flat_map(|o| std::mem::take(&mut o.rejected))
        .collect();
    let mut tables: BTreeMap<TableName, output::TableOut> = BTreeMap::new();
    for t in TableName::ALL {
        let parts: Vec<&PartOutput> = outputs.iter().filter(|o| o.table == t).collect();
        if !parts.is_empty() {
            tables.insert(t, output::assemble(t, &parts));
        }
    }
    drop(outputs);
    if !tables.contains_key(&TableName::Leads) {
        return Err(Diagnostic::new("E-IMPORT-NO-LEADS", "nothing filled the leads table, and a snapshot needs it")
            .help("add a CRM export: --preset amocrm FILE, --preset bitrix24 FILE, --preset hubspot FILE, or --preset generic FILE")
            .into());
    }

    // 6. The manifest.
    let out_name = req
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "company".into());
    let existing = req.out.join(MANIFEST_FILE);
    let kept = req.keep_manifest && existing.is_file();
    let (manifest, review_marks) = if kept {
        let text = std::fs::read_to_string(&existing).map_err(|e| {
            Diagnostics::from(
                Diagnostic::new(
                    "E-IMPORT-READ",
                    format!("cannot read the manifest to keep: {e}"),
                )
                .in_file(&existing),
            )
        })?;
        (text, 0)
    } else {
        let mut systems = Vec::new();
        let mut stage_order = Vec::new();
        let mut sources = Vec::new();
        for m in &mappings {
            if let Some(s) = &m.system {
                systems.push(s.clone());
            }
            stage_order.extend(m.stage_order.iter().cloned());
            let via = m
                .preset
                .clone()
                .unwrap_or_else(|| m.path.display().to_string());
            let mut files: Vec<String> = m
                .parts
                .iter()
                .filter_map(|p| p.file.as_ref().map(|f| f.display().to_string()))
                .collect();
            files.dedup();
            for f in files {
                sources.push(format!("{f} ({via})"));
            }
        }
        scaffold::scaffold(&scaffold::Input {
            tables: &tables,
            company,
            company_guess: out_name,
            currency,
            timezone,
            clock: &clock,
            as_of,
            systems,
            stage_order,
            sources,
        })
    };

    // 7. The report.
    let mut table_reports = Vec::new();
    for (t, out) in &tables {
        let parts: Vec<&PartReport> = input_reports
            .iter()
            .flat_map(|i| i.parts.iter())
            .filter(|p| p.applied && p.table == t.as_str())
            .collect();
        table_reports.push(TableReport {
            table: t.as_str().into(),
            file: out.file_name(),
            rows_read: parts.iter().map(|p| p.rows_read).sum(),
            rows_written: out.rows.rows(),
            rows_rejected: parts.iter().map(|p| p.rows_rejected).sum(),
            rows_skipped: parts.iter().map(|p| p.rows_skipped).sum(),
            columns: out.columns.clone(),
        });
    }
    let report = ImportReport {
        out: req.out.display().to_string(),
        inputs: input_reports,
        tables: table_reports,
        rows_rejected: rejected.len(),
        rejected,
        manifest: ManifestReport {
            file: MANIFEST_FILE.into(),
            kept,
            review_marks,
        },
    };

    // 8. Stage, check by loading it as a snapshot, move into place.
    let tmp = output::stage_dir(&req.out)?;
    let mut json = serde_json::to_vec_pretty(&report).expect("the report serializes");
    json.push(b'\n');
    let written = (|| {
        for t in tables.values() {
            output::write_table(&tmp, t)?;
        }
        output::write_file(&tmp, MANIFEST_FILE, manifest.as_bytes())?;
        output::write_file(&tmp, output::REPORT_FILE, &json)
    })();
    drop(tables);
    if let Err(d) = written {
        output::discard(&tmp);
        return Err(d.into());
    }
    if let Err(e) = Snapshot::load(&tmp, LoadOptions::default()) {
        output::discard(&tmp);
        let mut diags = vec![Diagnostic::new(
            "E-IMPORT-CHECK",
            "the imported snapshot does not load; nothing was written",
        )
        .help(if kept {
            "the kept snapshot.yaml does not fit the new data: fix it, or import without --keep-manifest"
        } else {
            "this is a bug in marqa import or a preset; please report it with the diagnostics below"
        })];
        diags.extend(e.0.into_iter().map(|mut d| {
            if let Some(l) = &mut d.location {
                if let Ok(rel) = l.file.strip_prefix(&tmp) {
                    l.file = req.out.join(rel);
                }
            }
            d
        }));
        return Err(Diagnostics(diags));
    }
    if let Err(d) = output::commit(&tmp, &req.out) {
        output::discard(&tmp);
        return Err(d.into());
    }
    Ok(Imported { report })
}

fn read_key(r: &ReadOptions) -> String {
    format!(
        "{:?}|{:?}|{:?}|{:?}",
        r.sheet, r.encoding, r.delimiter, r.json_pointer
    )
}

/// The text of a preset, for `--print-preset`.
pub fn preset_text(name: &str) -> Result<&'static str, Diagnostic> {
    presets::get(name)
        .map(|p| p.text)
        .ok_or_else(|| presets::unknown(name))
}

/// Names and titles of the presets, for `--list-presets`.
pub fn preset_list() -> Vec<(&'static str, String)> {
    presets::PRESETS
        .iter()
        .map(|p| {
            let title = crate::yaml::parse_single(p.text, Path::new(p.name))
                .ok()
                .and_then(|d| {
                    d.value
                        .get("title")
                        .and_then(|t| t.as_str())
                        .map(str::to_string)
                })
                .unwrap_or_default();
            (p.name, title)
        })
        .collect()
}
