//! The files a generated snapshot consists of: each table's path, dialect and column order.
//! The dialects differ on purpose, the way real exports from different systems do: the
//! CRM's deals come with a UTF-8 BOM, call tracking exports Windows-1251 with `;` and CRLF,
//! web analytics gives tab-separated traffic, the NPS tool gives JSON lines.

use crate::snapshot::dialect::Encoding;
use crate::snapshot::spec::TableName;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv {
        delimiter: u8,
        encoding: Encoding,
        bom: bool,
        crlf: bool,
    },
    Jsonl,
}

const CSV: FileFormat = FileFormat::Csv {
    delimiter: b',',
    encoding: Encoding::Utf8,
    bom: false,
    crlf: false,
};

#[derive(Debug, Clone)]
pub struct Layout {
    pub table: TableName,
    /// Path relative to the snapshot folder.
    pub file: &'static str,
    pub columns: &'static [&'static str],
    pub format: FileFormat,
    /// Naive timestamps of this table are UTC (declared as `tables.NAME.timezone: UTC`),
    /// not the manifest zone.
    pub naive_utc: bool,
}

impl Layout {
    /// Whether the manifest must say how to read the file (it is not `NAME.csv|tsv|jsonl`
    /// in the root, or its dialect should not be left to detection).
    pub fn needs_override(&self) -> bool {
        self.naive_utc
            || !self.file.starts_with(self.table.as_str())
            || matches!(
                self.format,
                FileFormat::Csv {
                    encoding: Encoding::Windows1251,
                    ..
                }
            )
    }
}

pub const LEADS: &[&str] = &[
    "lead_id",
    "created_at",
    "source",
    "medium",
    "campaign",
    "content",
    "term",
    "email",
    "phone",
    "contact",
    "company",
    "company_domain",
    "account_id",
    "owner",
    "status",
    "mql_at",
    "sql_at",
    "first_response_at",
    "disqualified_at",
    "lost_reason",
    "segment",
    "industry",
    "company_size",
    "region",
    "origin",
    "entry_method",
];
pub const DEALS: &[&str] = &[
    "deal_id",
    "created_at",
    "lead_id",
    "account_id",
    "stage",
    "status",
    "closed_at",
    "amount",
    "gross_profit",
    "product",
    "owner",
    "lost_reason",
];
pub const STAGE_CHANGES: &[&str] = &["deal_id", "from_stage", "to_stage", "changed_at"];
pub const TOUCHES: &[&str] = &["lead_id", "at", "source", "medium", "campaign", "kind"];
pub const SPEND: &[&str] = &[
    "date",
    "channel",
    "source",
    "medium",
    "campaign",
    "amount",
    "impressions",
    "clicks",
];
pub const CUSTOMERS: &[&str] = &[
    "account_id",
    "name",
    "segment",
    "industry",
    "company_size",
    "region",
    "acquired_at",
    "churned_at",
];
pub const PAYMENTS: &[&str] = &[
    "payment_id",
    "account_id",
    "deal_id",
    "paid_at",
    "amount",
    "gross_profit",
];
pub const NPS: &[&str] = &["account_id", "answered_at", "score", "comment"];
pub const EVENTS: &[&str] = &[
    "event_id",
    "name",
    "kind",
    "format",
    "date",
    "cost",
    "registered",
    "attended",
    "target_attended",
    "city",
];
pub const CALLS: &[&str] = &[
    "call_id",
    "at",
    "source",
    "medium",
    "campaign",
    "answered",
    "duration_s",
    "lead_id",
    "call_tag",
    "city",
];
pub const TRAFFIC: &[&str] = &["date", "source", "medium", "visits", "unique_visitors"];
pub const PLAN: &[&str] = &["period", "metric", "channel", "target"];

/// The call-tracking export's file, beside the others in an `exports/` folder.
pub const CALLS_FILE: &str = "exports/calltouch_calls.csv";

/// Every table's layout. `calls_in_utc`: whether call tracking exports naive UTC times.
pub fn layouts(calls_in_utc: bool) -> Vec<Layout> {
    let plain = |table, file, columns| Layout {
        table,
        file,
        columns,
        format: CSV,
        naive_utc: false,
    };
    vec![
        plain(TableName::Leads, "leads.csv", LEADS),
        Layout {
            format: FileFormat::Csv {
                delimiter: b',',
                encoding: Encoding::Utf8,
                bom: true,
                crlf: false,
            },
            ..plain(TableName::Deals, "deals.csv", DEALS)
        },
        plain(TableName::StageChanges, "stage_changes.csv", STAGE_CHANGES),
        plain(TableName::Touches, "touches.csv", TOUCHES),
        plain(TableName::Spend, "spend.csv", SPEND),
        plain(TableName::Customers, "customers.csv", CUSTOMERS),
        plain(TableName::Payments, "payments.csv", PAYMENTS),
        Layout {
            format: FileFormat::Jsonl,
            ..plain(TableName::Nps, "nps.jsonl", NPS)
        },
        plain(TableName::Events, "events.csv", EVENTS),
        Layout {
            format: FileFormat::Csv {
                delimiter: b';',
                encoding: Encoding::Windows1251,
                bom: false,
                crlf: true,
            },
            naive_utc: calls_in_utc,
            ..plain(TableName::Calls, CALLS_FILE, CALLS)
        },
        Layout {
            format: FileFormat::Csv {
                delimiter: b'\t',
                encoding: Encoding::Utf8,
                bom: false,
                crlf: false,
            },
            ..plain(TableName::Traffic, "traffic.tsv", TRAFFIC)
        },
        plain(TableName::Plan, "plan.csv", PLAN),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_once_with_known_required_columns() {
        let ls = layouts(true);
        assert_eq!(ls.len(), TableName::ALL.len());
        for (l, t) in ls.iter().zip(TableName::ALL) {
            assert_eq!(l.table, t);
            for c in t.spec().columns.iter().filter(|c| c.required) {
                assert!(l.columns.contains(&c.name), "{t} lacks {}", c.name);
            }
        }
        let calls = &ls[TableName::Calls as usize];
        assert!(calls.needs_override());
        assert!(!ls[TableName::Leads as usize].needs_override());
        assert!(!ls[TableName::Traffic as usize].needs_override());
    }
}
