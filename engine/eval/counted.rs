//! Evidence for a `check` whose value is a count metric that records what it counted
//! (`value: future_timestamps`): the finding shows a sample of the counted rows, and its
//! fingerprint follows their keys, as a `rows` check's does. This is how a rule shows a
//! metric that counts cells of every table (`metrics::COUNTED_CELLS`): the sample takes
//! rows from each table and column involved, each with its own file and line.

use super::finding::Evidence;
use super::finding::EvidenceRow;
use super::keys::{Hasher, KeyDigest, RowKeys};
use super::values::cell_text;
use super::RunCtx;
use crate::metrics::{Counted, COUNTED, COUNTED_CELLS};
use crate::rules::model::Rule;
use crate::snapshot::Table;

/// The columns of a cell sample: the row's id, where the cell is, and its value.
pub const CELL_COLUMNS: [&str; 4] = ["id", "table", "column", "value"];

/// The count metric a rule's `value` names alone (`value: future_timestamps`), if it
/// records its rows or cells.
pub fn value_metric(rule: &Rule) -> Option<&str> {
    let v = rule.value.as_ref()?;
    let name = v.source.trim();
    let recorded = COUNTED.iter().any(|(m, _)| *m == name) || COUNTED_CELLS.contains(&name);
    (recorded && v.reads.len() == 1 && v.reads[0] == name).then_some(name)
}

/// The evidence and key digest of the rule's value metric, when it has one and the
/// metric recorded what it counted (it did not when it is n/a).
pub fn evidence(rule: &Rule, ctx: &RunCtx) -> Option<(Evidence, String)> {
    let metric = value_metric(rule)?;
    let counted = ctx.store.counted.get(metric)?;
    if COUNTED_CELLS.contains(&metric) {
        Some(cells(counted, ctx))
    } else {
        let (_, t) = COUNTED.iter().find(|(m, _)| *m == metric)?;
        let table = ctx.snapshot.table(*t)?;
        Some(rows(counted, table, ctx))
    }
}

/// The row's id (its primary key, else its first column) as text.
fn row_id(table: &Table, i: usize, ctx: &RunCtx) -> Option<String> {
    let spec = table.name.spec();
    let col = spec
        .primary_key
        .and_then(|k| table.column(k))
        .or_else(|| table.columns.first())?;
    cell_text(col, i, &ctx.snapshot)
}

fn rows(counted: &Counted, table: &Table, ctx: &RunCtx) -> (Evidence, String) {
    let keys = RowKeys::of(table);
    let mut digest = KeyDigest::default();
    counted
        .rows
        .iter()
        .for_each(|&r| digest.add(keys.hash(r as usize)));
    let id = table
        .name
        .spec()
        .primary_key
        .or_else(|| table.columns.first().map(|c| c.name.as_str()))
        .unwrap_or("row")
        .to_string();
    let evidence = Evidence {
        counts: [("offending".to_string(), counted.rows.len() as i64)].into(),
        table: Some(table.name.as_str().to_string()),
        file: Some(table.source.clone()),
        columns: vec![id],
        rows: counted
            .rows
            .iter()
            .take(ctx.options.sample_rows)
            .map(|&r| EvidenceRow {
                line: table.lines.get(r as usize).copied(),
                file: None,
                values: vec![row_id(table, r as usize, ctx)],
            })
            .collect(),
        missing: Vec::new(),
    };
    (evidence, digest.hex())
}

fn cells(counted: &Counted, ctx: &RunCtx) -> (Evidence, String) {
    let snap = &*ctx.snapshot;
    let mut digest = KeyDigest::default();
    let mut counts = std::collections::BTreeMap::new();
    let mut total = 0i64;
    for g in &counted.cells {
        let Some(t) = snap.table(g.table) else {
            continue;
        };
        let keys = RowKeys::of(t);
        for &r in &g.rows {
            let mut h = Hasher::default();
            h.field(g.table.as_str().as_bytes())
                .field(g.column.as_bytes())
                .bytes(&keys.hash(r as usize).to_le_bytes());
            digest.add(h.finish());
        }
        counts.insert(format!("{}.{}", g.table, g.column), g.rows.len() as i64);
        total += g.rows.len() as i64;
    }
    counts.insert("offending".to_string(), total);
    // A sample from every table and column involved: the k-th cell of each in turn, kept
    // in table, column order.
    let sample = ctx.options.sample_rows;
    let mut picked: Vec<(usize, usize)> = Vec::new();
    let longest = counted
        .cells
        .iter()
        .map(|g| g.rows.len())
        .max()
        .unwrap_or(0);
    'outer: for k in 0..longest {
        for (gi, g) in counted.cells.iter().enumerate() {
            if picked.len() >= sample {
                break 'outer;
            }
            if k < g.rows.len() {
                picked.push((gi, k));
            }
        }
    }
    picked.sort_unstable();
    let rows = picked
        .into_iter()
        .filter_map(|(gi, k)| {
            let g = &counted.cells[gi];
            let t = snap.table(g.table)?;
            let r = g.rows[k] as usize;
            let value = t.column(&g.column).and_then(|c| cell_text(c, r, snap));
            Some(EvidenceRow {
                line: t.lines.get(r).copied(),
                file: Some(t.source.clone()),
                values: vec![
                    row_id(t, r, ctx),
                    Some(g.table.as_str().to_string()),
                    Some(g.column.clone()),
                    value,
                ],
            })
        })
        .collect();
    let evidence = Evidence {
        counts,
        table: None,
        file: None,
        columns: CELL_COLUMNS.iter().map(|c| c.to_string()).collect(),
        rows,
        missing: Vec::new(),
    };
    (evidence, digest.hex())
}
