//! A loaded table: typed columns of equal length, and where each row came from.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::column::Column;
use super::dialect::Dialect;
use super::spec::{ColType, TableName};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "format")]
pub enum SourceFormat {
    Csv(Dialect),
    Jsonl,
    /// Rows of a PostgreSQL query (`COPY … TO STDOUT`), a ClickHouse query (HTTP,
    /// CSVWithNames) or a Parquet file: see `snapshot/source`.
    Postgres,
    Clickhouse,
    Parquet,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: TableName,
    /// The file the table was read from, or a database source's descriptor
    /// (`postgres $ACME_PG_URL: crm.leads`).
    pub source: PathBuf,
    pub format: SourceFormat,
    pub bytes: u64,
    pub columns: Vec<Column>,
    pub rows: usize,
    /// The source line where each row starts (1-based), for messages and SARIF locations.
    pub lines: Vec<u32>,
    /// With `--lenient`: how many cells of each column did not parse and became null.
    pub nulled_cells: BTreeMap<String, usize>,
}

impl Table {
    /// A table with the spec's required columns and no rows (what an absent table looks
    /// like to code that needs one).
    pub fn empty(name: TableName, source: PathBuf) -> Table {
        Table {
            name,
            source,
            format: SourceFormat::Csv(Dialect {
                encoding: super::dialect::Encoding::Utf8,
                bom: false,
                delimiter: b',',
            }),
            bytes: 0,
            columns: name
                .spec()
                .columns
                .iter()
                .filter(|c| c.required)
                .map(|c| Column::new(c.name, c.ty, true))
                .collect(),
            rows: 0,
            lines: Vec::new(),
            nulled_cells: BTreeMap::new(),
        }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Every column's name, spec columns first, then unknown ones in file order.
    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }

    /// The value of one cell as display text (timestamps as unix seconds are rendered by
    /// the caller, who knows the zone).
    pub fn has_column_of(&self, name: &str, ty: ColType) -> bool {
        self.column(name).is_some_and(|c| c.ty == ty)
    }
}
