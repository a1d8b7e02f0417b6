//! Applying one part of a mapping to one source grid: find the header row, match the
//! part's aliases to columns, then convert every data row into the target table's
//! columns, rejecting (with row number and reason) the rows that do not convert.

use std::collections::{BTreeMap, HashSet};

use super::convert::{convert, Conv};
use super::mapping::{alias_groups, Alias, Field, Leaf, Part, Source, Unmapped};
use super::report::{ColumnUse, PartReport, Rejected};
use super::rows::RowBuf;
use super::source::{CellRef, Grid};
use super::text::{norm, norm_eq, slug};
use crate::diag::{did_you_mean, Diagnostic, Location};
use crate::import::expr::Expr;
use crate::snapshot::spec::TableName;
use crate::snapshot::time::LocalClock;

/// How many rows from the top are searched for the header.
const HEADER_SEARCH_ROWS: usize = 30;

/// The rows a part produced, in its own column layout.
pub struct PartOutput {
    pub table: TableName,
    /// The source file and the part's place in its mapping: what orders the parts of a
    /// table, so the output does not depend on the order inputs were named in.
    pub origin: (String, String),
    pub columns: Vec<String>,
    pub rows: RowBuf,
    /// Each row's position on the time line (see `sort_field`), `i64::MIN` when none.
    pub times: Vec<i64>,
    /// Normalized value → the raw label it came from, per field (stage ids → stage names).
    pub labels: BTreeMap<(String, String), String>,
    pub report: PartReport,
    pub rejected: Vec<Rejected>,
}

pub enum Outcome {
    Applied(Box<PartOutput>),
    /// The part does not fit this file (an optional part, or `when` did not match).
    Skipped(String),
}

/// The column each table's rows are ordered by in the output.
pub fn sort_field(table: TableName) -> Option<&'static str> {
    Some(match table {
        TableName::Leads | TableName::Deals => "created_at",
        TableName::StageChanges => "changed_at",
        TableName::Touches | TableName::Calls => "at",
        TableName::Spend | TableName::Traffic | TableName::Events => "date",
        TableName::Payments => "paid_at",
        TableName::Nps => "answered_at",
        TableName::Customers | TableName::Plan => return None,
    })
}

fn matches_any(aliases: &[Alias], header: &[String]) -> Option<usize> {
    aliases
        .iter()
        .find_map(|a| header.iter().position(|h| !h.is_empty() && a.matches(h)))
}

/// Find the header row: the one (among the first rows) where the most of the part's
/// alias groups match a cell. Title rows above it, merged header cells and blank rows
/// are handled by this rather than by position.
fn detect_header(grid: &Grid, groups: &[Vec<Alias>]) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    for r in 0..grid.rows().min(HEADER_SEARCH_ROWS) {
        let header = normalized_row(grid, r);
        let score = groups
            .iter()
            .filter(|g| matches_any(g, &header).is_some())
            .count();
        if score > 0 && best.is_none_or(|(_, s)| score > s) {
            best = Some((r, score));
        }
    }
    best
}

/// Whether row `r` is the header again (stops at the first cell that differs, so a data
/// row costs one comparison).
fn repeats_header(grid: &Grid, r: usize, header: &[String]) -> bool {
    grid.width(r).max(header.len()) > 0
        && (0..grid.width(r).max(header.len())).all(|c| {
            let h = header.get(c).map(String::as_str).unwrap_or("");
            let cell = if c < grid.width(r) {
                grid.cell(r, c)
            } else {
                CellRef::Empty
            };
            match cell {
                CellRef::Empty => h.is_empty(),
                CellRef::Text(t) if t.len() == h.len() && t == h => true,
                other => norm(&other.text()) == h,
            }
        })
}

fn normalized_row(grid: &Grid, r: usize) -> Vec<String> {
    (0..grid.width(r))
        .map(|c| norm(&grid.cell(r, c).text()))
        .collect()
}

/// Apply `part` to `grid`. Errors (exit 2) are problems of the mapping as a whole, such
/// as a required column missing from a file a non-optional part must read.
pub fn apply(
    part: &mut Part,
    grid: &Grid,
    default_clock: &LocalClock,
    target: &LocalClock,
    label: &str,
) -> Result<Outcome, Diagnostic> {
    let file = grid.file.clone();
    // 1. The header.
    let (header_texts, data_start, header_number): (Vec<String>, usize, Option<u64>) = if let Some(
        h,
    ) =
        &grid.fixed_header
    {
        (h.clone(), 0, None)
    } else {
        let r = match part.read.header_row {
                Some(n) => grid.row_at_number(n).ok_or_else(|| {
                    Diagnostic::new(
                        "E-IMPORT-HEADER",
                        format!("`header_row: {n}` is past the end of the file"),
                    )
                    .in_file(&file)
                    .help("header_row is the line (CSV) or sheet row number holding the column names")
                })?,
                None => match detect_header(grid, &alias_groups(part)) {
                    Some((r, _)) => r,
                    None if part.optional || !part.when_has.is_empty() => {
                        return Ok(Outcome::Skipped(format!(
                            "none of the {} columns it looks for is in the first {HEADER_SEARCH_ROWS} rows",
                            part.table
                        )))
                    }
                    None => {
                        return Err(Diagnostic::new(
                            "E-IMPORT-HEADER",
                            format!(
                                "no header row with the columns of {} ({label}) in the first {HEADER_SEARCH_ROWS} rows",
                                part.table
                            ),
                        )
                        .in_file(&file)
                        .help("check that this is the right export for the preset, or set `header_row:` in a mapping"))
                    }
                },
            };
        let texts = (0..grid.width(r))
            .map(|c| grid.cell(r, c).text().trim().to_string())
            .collect();
        (texts, r + 1, Some(grid.row_number(r)))
    };
    let mut width = header_texts.len();
    for r in data_start..grid.rows() {
        width = width.max(grid.width(r));
    }
    let header: Vec<String> = header_texts.iter().map(|h| norm(h)).collect();

    // 2. `when`.
    for g in &part.when_has {
        if matches_any(g, &header).is_none() {
            return Ok(Outcome::Skipped(format!(
                "the file has no column {}",
                alias_list(g)
            )));
        }
    }
    for g in &part.when_lacks {
        if let Some(c) = matches_any(g, &header) {
            return Ok(Outcome::Skipped(format!(
                "the file has column «{}»",
                header_texts[c]
            )));
        }
    }

    // 3. Columns.
    let mut used = vec![false; width];
    for f in &mut part.fields {
        for leaf in &mut f.leaves {
            match &mut leaf.source {
                Source::Column { aliases, index } => {
                    *index = matches_any(aliases, &header);
                    if let Some(i) = *index {
                        used[i] = true;
                    }
                }
                Source::Expr(e) => e.visit_mut(&mut |n| {
                    if let Expr::Col { aliases, index } = n {
                        let parsed: Vec<Alias> = aliases
                            .iter()
                            .filter_map(|a| Alias::parse(a).ok())
                            .collect();
                        *index = matches_any(&parsed, &header);
                        if let Some(i) = *index {
                            used[i] = true;
                        }
                    }
                }),
                Source::Const(_) => {}
            }
        }
    }
    // A field produces values when one of its sources can, or when it has a default.
    let resolved = |f: &Field| {
        f.default.is_some()
            || f.leaves.iter().any(|l| match &l.source {
                Source::Column { index, .. } => index.is_some(),
                _ => true,
            })
    };
    let missing: Vec<&Field> = part
        .fields
        .iter()
        .filter(|f| f.required && !resolved(f))
        .collect();
    if !missing.is_empty() {
        let looked: Vec<String> = missing
            .iter()
            .map(|f| {
                let names: Vec<String> = f
                    .leaves
                    .iter()
                    .filter_map(|l| match &l.source {
                        Source::Column { aliases, .. } => Some(
                            aliases
                                .iter()
                                .map(Alias::display)
                                .collect::<Vec<_>>()
                                .join(" / "),
                        ),
                        _ => None,
                    })
                    .collect();
                format!("`{}` (looked for: {})", f.name, names.join(" / "))
            })
            .collect();
        if part.optional {
            return Ok(Outcome::Skipped(format!(
                "the file lacks required {}",
                looked.join(", ")
            )));
        }
        let first_alias = missing[0].leaves.iter().find_map(|l| match &l.source {
            Source::Column { aliases, .. } => aliases.first().map(Alias::display),
            _ => None,
        });
        let near = first_alias
            .as_deref()
            .and_then(|a| did_you_mean(a, header.iter().map(String::as_str)));
        let help = match near {
            Some(n) => format!(
                "the file has a column «{n}»: add it to the aliases (`marqa import --print-preset` shows a preset to adapt)"
            ),
            None => format!(
                "the file's columns: {}",
                header_texts
                    .iter()
                    .filter(|h| !h.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let mut d = Diagnostic::new(
            "E-IMPORT-COLUMN-MISSING",
            format!("{} ({label}) needs {}", part.table, looked.join(", ")),
        );
        d = match header_number {
            Some(n) => d.at(Location::at(&file, n, 1)),
            None => d.in_file(&file),
        };
        return Err(d.help(help));
    }

    // 4. Output columns: resolved fields (spec order, then extra fields), then carried
    //    source columns.
    let out_fields: Vec<usize> = (0..part.fields.len())
        .filter(|&i| resolved(&part.fields[i]))
        .collect();
    let mut columns: Vec<String> = out_fields
        .iter()
        .map(|&i| part.fields[i].name.clone())
        .collect();
    let spec_names: HashSet<String> = part
        .table
        .spec()
        .columns
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    let mut extras: Vec<usize> = Vec::new();
    if part.keep_extra {
        for (c, &taken) in used.iter().enumerate() {
            if taken {
                continue;
            }
            let name = header_texts
                .get(c)
                .map(|h| h.split_whitespace().collect::<Vec<_>>().join(" "));
            let has_data = (data_start..grid.rows()).any(|r| !grid.cell(r, c).is_blank());
            let name = match name.filter(|n| !n.is_empty()) {
                Some(n) => n,
                None if has_data => format!("column_{}", grid.column_label(c)),
                None => continue,
            };
            let mut unique = if spec_names.contains(&name.to_lowercase()) {
                format!("{name} (raw)")
            } else {
                name
            };
            let base = unique.clone();
            let mut k = 2;
            while columns.iter().any(|x| x.eq_ignore_ascii_case(&unique)) {
                unique = format!("{base} ({k})");
                k += 1;
            }
            columns.push(unique);
            extras.push(c);
        }
    }

    // 5. Clocks: one per leaf with its own zone, else the part's, else the snapshot's.
    let part_clock = part.timezone.clone().map(LocalClock::new);
    let leaf_clocks: Vec<Vec<Option<LocalClock>>> = part
        .fields
        .iter()
        .map(|f| {
            f.leaves
                .iter()
                .map(|l| l.timezone.clone().map(LocalClock::new))
                .collect()
        })
        .collect();
    let source_clock = |fi: usize, li: usize| -> &LocalClock {
        leaf_clocks[fi][li]
            .as_ref()
            .or(part_clock.as_ref())
            .unwrap_or(default_clock)
    };
    let sort_index =
        sort_field(part.table).and_then(|n| part.fields.iter().position(|f| f.name == n));

    // 6. Rows.
    let mut rows = RowBuf::new(columns.len());
    let mut times = Vec::new();
    let mut labels = BTreeMap::new();
    let mut rejected = Vec::new();
    let mut report = PartReport {
        table: part.table.as_str().to_string(),
        applied: true,
        skipped_because: None,
        header_row: header_number,
        columns: Vec::new(),
        not_found: Vec::new(),
        extra_columns: columns[out_fields.len()..].to_vec(),
        rows_read: 0,
        rows_written: 0,
        rows_rejected: 0,
        rows_skipped: 0,
        nulled: BTreeMap::new(),
    };
    for f in &part.fields {
        if resolved(f) {
            report.columns.push(ColumnUse {
                column: f.name.clone(),
                from: describe_source(f, &header_texts),
            });
        } else {
            report.not_found.push(f.name.clone());
        }
    }
    let mut values: Vec<String> = vec![String::new(); part.fields.len()];
    let mut row_time;
    for r in data_start..grid.rows() {
        report.rows_read += 1;
        let first = (0..grid.width(r))
            .map(|c| grid.cell(r, c))
            .find(|c| !c.is_blank());
        let Some(first) = first else {
            report.rows_read -= 1; // blank rows are not rows
            continue;
        };
        let first_text = first.text();
        if part
            .skip_rows
            .iter()
            .any(|re| re.is_match(first_text.trim()))
        {
            report.rows_skipped += 1;
            continue;
        }
        if grid.fixed_header.is_none() && repeats_header(grid, r, &header) {
            report.rows_skipped += 1; // the header repeated (exports glued together)
            continue;
        }
        values.iter_mut().for_each(String::clear);
        row_time = i64::MIN;
        let mut errors: Vec<String> = Vec::new();
        for &fi in &part.order {
            let f = &part.fields[fi];
            let result = eval_field(
                f,
                fi,
                &values,
                grid,
                r,
                &part.nulls,
                &source_clock,
                target,
                &mut labels,
            );
            match result {
                Ok((text, time)) => {
                    if text.is_empty() && f.required {
                        errors.push(format!(
                            "`{}` is empty{}",
                            f.name,
                            source_hint(f, &header_texts)
                        ));
                    }
                    if Some(fi) == sort_index {
                        row_time = time.unwrap_or(i64::MIN);
                    }
                    values[fi] = text;
                }
                Err(why) if f.invalid_null && !f.required => {
                    *report.nulled.entry(f.name.clone()).or_default() += 1;
                    let _ = why;
                }
                Err(why) => errors.push(format!(
                    "`{}`: {why}{}",
                    f.name,
                    source_hint(f, &header_texts)
                )),
            }
        }
        if !errors.is_empty() {
            report.rows_rejected += 1;
            rejected.push(Rejected {
                table: part.table.as_str().to_string(),
                file: grid.file.display().to_string(),
                row: grid.row_number(r),
                reason: errors.join("; "),
            });
            continue;
        }
        for &fi in &out_fields {
            rows.push(&values[fi]);
        }
        for &c in &extras {
            rows.push(grid.cell(r, c).text().trim());
        }
        rows.end_row();
        times.push(row_time);
        report.rows_written += 1;
    }
    Ok(Outcome::Applied(Box::new(PartOutput {
        table: part.table,
        origin: (grid.file.display().to_string(), part.pointer.clone()),
        columns,
        rows,
        times,
        labels,
        report,
        rejected,
    })))
}

/// `«ID» / «Id сделки»`: aliases as written, each once.
fn alias_list(aliases: &[Alias]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for a in aliases {
        let d = a.display();
        if !seen.iter().any(|s| s.eq_ignore_ascii_case(&d)) {
            seen.push(d);
        }
    }
    seen.iter()
        .map(|s| format!("«{s}»"))
        .collect::<Vec<_>>()
        .join(" / ")
}

/// ` (column «Дата создания»)` for messages about a value read from a column.
fn source_hint(f: &Field, header: &[String]) -> String {
    let cols: Vec<String> = f
        .leaves
        .iter()
        .filter_map(|l| match &l.source {
            Source::Column { index: Some(i), .. } => header.get(*i).map(|h| format!("«{h}»")),
            _ => None,
        })
        .collect();
    if cols.is_empty() {
        String::new()
    } else {
        format!(" (column {})", cols.join(" / "))
    }
}

fn describe_source(f: &Field, header: &[String]) -> String {
    let parts: Vec<String> = f
        .leaves
        .iter()
        .filter_map(|l| match &l.source {
            Source::Column { index: Some(i), .. } => header.get(*i).map(|h| format!("«{h}»")),
            Source::Column { index: None, .. } => None,
            Source::Const(v) => Some(format!("= {v:?}")),
            Source::Expr(_) => Some("expression".into()),
        })
        .collect();
    parts.join(" | ")
}

#[allow(clippy::too_many_arguments)]
fn eval_field<'c>(
    f: &Field,
    fi: usize,
    values: &[String],
    grid: &Grid,
    r: usize,
    nulls: &[String],
    clock: &dyn Fn(usize, usize) -> &'c LocalClock,
    target: &LocalClock,
    labels: &mut BTreeMap<(String, String), String>,
) -> Result<(String, Option<i64>), String> {
    for (li, leaf) in f.leaves.iter().enumerate() {
        let owned: String;
        let cell: CellRef<'_> = match &leaf.source {
            Source::Column { index: Some(i), .. } => grid.cell(r, *i),
            Source::Column { index: None, .. } => CellRef::Empty,
            Source::Const(v) => CellRef::Text(v),
            Source::Expr(e) => {
                owned = e.eval(&|i| values[i].clone(), &|c| {
                    grid.cell(r, c).text().into_owned()
                });
                CellRef::Text(&owned)
            }
        };
        if cell.is_blank() {
            continue;
        }
        if let CellRef::Text(t) = cell {
            if nulls.iter().any(|n| norm_eq(t, n)) {
                continue;
            }
        }
        let (cell, raw_label) = map_value(leaf, cell, &f.name)?;
        let mapped: String;
        let cell = match cell {
            Mapped::Same(c) => c,
            Mapped::Text(t) => {
                mapped = t;
                CellRef::Text(&mapped)
            }
        };
        if cell.is_blank() {
            continue;
        }
        let out = convert(
            cell,
            &Conv {
                ty: f.ty,
                vocab: f.vocab(),
                formats: &leaf.formats,
                number: leaf.number,
                duration: leaf.duration,
                source: clock(fi, li),
                target,
            },
        )?;
        if let Some(raw) = raw_label {
            if raw != out.text {
                labels
                    .entry((f.name.clone(), out.text.clone()))
                    .or_insert(raw);
            }
        }
        return Ok((out.text, out.time));
    }
    match &f.default {
        Some(d) => {
            let conv = Conv {
                ty: f.ty,
                vocab: f.vocab(),
                formats: f.leaves.first().map(|l| &l.formats[..]).unwrap_or(&[]),
                number: f.leaves.first().map(|l| l.number).unwrap_or_default(),
                duration: false,
                source: clock(fi, 0),
                target,
            };
            let out = convert(CellRef::Text(d), &conv)?;
            Ok((out.text, out.time))
        }
        None => Ok((String::new(), None)),
    }
}

enum Mapped<'a> {
    Same(CellRef<'a>),
    Text(String),
}

/// Apply a leaf's value map. Returns the (possibly new) value and, when the map or a
/// slug changed it, the raw text it came from.
fn map_value<'a>(
    leaf: &Leaf,
    cell: CellRef<'a>,
    field: &str,
) -> Result<(Mapped<'a>, Option<String>), String> {
    let Some(map) = &leaf.map else {
        if leaf.unmapped == Unmapped::Slug {
            let raw = cell.text().trim().to_string();
            return Ok((Mapped::Text(slug(&raw)), Some(raw)));
        }
        return Ok((Mapped::Same(cell), None));
    };
    let raw = cell.text().trim().to_string();
    match map.get(&raw) {
        Some(v) => Ok((Mapped::Text(v.to_string()), Some(raw))),
        None => match leaf.unmapped {
            Unmapped::Keep => Ok((Mapped::Same(cell), None)),
            Unmapped::Slug => Ok((Mapped::Text(slug(&raw)), Some(raw))),
            Unmapped::Reject => Err(format!(
                "`{raw}` is not listed in the value map of `{field}`"
            )),
        },
    }
}
