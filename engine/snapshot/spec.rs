//! The twelve tables and their columns, declared once. The loader types columns from this,
//! `validate` checks required columns and vocabularies from it, and the docs page
//! (`marqa schema --tables`) is generated from it. Change a column here and all three follow.

use serde::Serialize;

/// The type a column's cells are parsed into at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColType {
    /// Non-empty string compared exactly (an empty cell is null).
    Id,
    /// Free text; an empty cell is null.
    Text,
    /// Text with few distinct values (channel, stage, owner): dictionary-encoded.
    Category,
    /// ISO 8601 instant; naive values read in the table's time zone.
    Timestamp,
    /// `YYYY-MM-DD`.
    Date,
    /// Decimal with `.`, exact to 1/10 000 of the currency unit.
    Money,
    /// Whole number.
    Int,
    /// Decimal number.
    Number,
    /// `true/false`, `1/0`, `yes/no`.
    Bool,
}

impl ColType {
    pub fn name(self) -> &'static str {
        match self {
            ColType::Id => "id",
            ColType::Text => "text",
            ColType::Category => "text",
            ColType::Timestamp => "timestamp",
            ColType::Date => "date",
            ColType::Money => "money",
            ColType::Int => "int",
            ColType::Number => "number",
            ColType::Bool => "bool",
        }
    }

    /// A good value, shown next to a cell that does not parse.
    pub fn example(self) -> &'static str {
        match self {
            ColType::Id | ColType::Text | ColType::Category => "any text",
            ColType::Timestamp => {
                "2026-03-01T09:15:00+03:00, 2026-03-01T06:15:00Z or 2026-03-01 09:15:00"
            }
            ColType::Date => "2026-03-01",
            ColType::Money => "12500.50 (a dot for decimals, no thousands separators)",
            ColType::Int => "42",
            ColType::Number => "0.75",
            ColType::Bool => "true or false (also 1/0, yes/no)",
        }
    }
}

#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct ColumnSpec {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub ty: ColType,
    pub required: bool,
    /// Allowed values, when the column is a closed vocabulary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<&'static [&'static str]>,
    pub doc: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableName {
    Leads,
    Deals,
    StageChanges,
    Touches,
    Spend,
    Customers,
    Payments,
    Nps,
    Events,
    Calls,
    Traffic,
    Plan,
}

impl TableName {
    pub const ALL: [TableName; 12] = [
        TableName::Leads,
        TableName::Deals,
        TableName::StageChanges,
        TableName::Touches,
        TableName::Spend,
        TableName::Customers,
        TableName::Payments,
        TableName::Nps,
        TableName::Events,
        TableName::Calls,
        TableName::Traffic,
        TableName::Plan,
    ];

    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    pub fn parse(name: &str) -> Option<TableName> {
        TableName::ALL.into_iter().find(|t| t.as_str() == name)
    }

    pub fn spec(self) -> &'static TableSpec {
        &TABLES[self as usize]
    }
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Serialize)]
pub struct TableSpec {
    pub name: &'static str,
    pub table: TableName,
    pub required: bool,
    /// The column holding each row's own identity, when the table has one.
    pub primary_key: Option<&'static str>,
    pub doc: &'static str,
    pub columns: &'static [ColumnSpec],
}

impl TableSpec {
    pub fn column(&self, name: &str) -> Option<&'static ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }
}

const fn col(name: &'static str, ty: ColType, doc: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        required: false,
        values: None,
        doc,
    }
}
const fn req(name: &'static str, ty: ColType, doc: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        required: true,
        values: None,
        doc,
    }
}
const fn vocab(
    name: &'static str,
    required: bool,
    values: &'static [&'static str],
    doc: &'static str,
) -> ColumnSpec {
    ColumnSpec {
        name,
        ty: ColType::Category,
        required,
        values: Some(values),
        doc,
    }
}

use ColType::*;

pub const ORIGINS: &[&str] = &[
    "form", "call", "chat", "email", "event", "outbound", "import", "manual", "other",
];
pub const DEAL_STATUSES: &[&str] = &["open", "won", "lost"];
pub const TOUCH_KINDS: &[&str] = &[
    "visit", "click", "call", "form", "chat", "email", "event", "other",
];
pub const EVENT_KINDS: &[&str] = &["webinar", "seminar", "exhibition", "conference", "other"];

const UTM: [ColumnSpec; 5] = [
    col("source", Category, "utm_source as recorded"),
    col("medium", Category, "utm_medium as recorded"),
    col("campaign", Category, "utm_campaign as recorded"),
    col("content", Text, "utm_content as recorded"),
    col("term", Text, "utm_term as recorded"),
];

pub static TABLES: [TableSpec; 12] = [
    TableSpec {
        name: "leads",
        table: TableName::Leads,
        required: true,
        primary_key: Some("lead_id"),
        doc: "One row per inbound or outbound lead (заявка).",
        columns: &[
            req("lead_id", Id, "the lead's id in the CRM"),
            req("created_at", Timestamp, "when the lead was created"),
            UTM[0],
            UTM[1],
            UTM[2],
            UTM[3],
            UTM[4],
            col(
                "channel",
                Category,
                "marketing channel; if empty, derived from the manifest `channels` map",
            ),
            col(
                "email",
                Text,
                "contact email (personal data: masked in reports)",
            ),
            col(
                "phone",
                Text,
                "contact phone (personal data: masked in reports)",
            ),
            col("company", Text, "company name"),
            col("company_domain", Text, "company web domain"),
            col(
                "account_id",
                Id,
                "the customer account, once the lead became or belongs to a customer",
            ),
            col("owner", Category, "sales rep"),
            col("status", Category, "raw CRM status"),
            col(
                "mql_at",
                Timestamp,
                "when the lead became a marketing-qualified lead",
            ),
            col(
                "sql_at",
                Timestamp,
                "when the lead became a sales-qualified lead",
            ),
            col(
                "first_response_at",
                Timestamp,
                "sales' first response to the lead",
            ),
            col(
                "disqualified_at",
                Timestamp,
                "when the lead was disqualified",
            ),
            col("lost_reason", Category, "why the lead was lost"),
            col("segment", Category, "customer segment"),
            col("industry", Category, "industry"),
            col("company_size", Int, "employees"),
            col("region", Category, "region"),
            vocab("origin", false, ORIGINS, "how the lead came in"),
            vocab(
                "entry_method",
                false,
                &["integration", "manual"],
                "how the lead got into the CRM",
            ),
        ],
    },
    TableSpec {
        name: "deals",
        table: TableName::Deals,
        required: false,
        primary_key: Some("deal_id"),
        doc: "Opportunities (сделки).",
        columns: &[
            req("deal_id", Id, "the deal's id in the CRM"),
            req("created_at", Timestamp, "when the deal was created"),
            col("lead_id", Id, "the lead the deal came from"),
            col("account_id", Id, "the customer account"),
            req(
                "stage",
                Category,
                "a stage id from the manifest funnel, or its won / lost id",
            ),
            ColumnSpec {
                name: "status",
                ty: Category,
                required: true,
                values: Some(DEAL_STATUSES),
                doc: "open, won or lost",
            },
            col(
                "closed_at",
                Timestamp,
                "when the deal was won or lost (required for closed deals)",
            ),
            col("amount", Money, "deal amount"),
            col("gross_profit", Money, "deal gross profit"),
            col("product", Category, "product line"),
            col("owner", Category, "sales rep"),
            col("lost_reason", Category, "why the deal was lost"),
        ],
    },
    TableSpec {
        name: "stage_changes",
        table: TableName::StageChanges,
        required: false,
        primary_key: None,
        doc: "Deal stage history.",
        columns: &[
            req("deal_id", Id, "the deal"),
            col("from_stage", Category, "stage before the change"),
            req("to_stage", Category, "stage after the change"),
            req("changed_at", Timestamp, "when the stage changed"),
        ],
    },
    TableSpec {
        name: "touches",
        table: TableName::Touches,
        required: false,
        primary_key: None,
        doc: "Marketing touchpoints before conversion.",
        columns: &[
            req("lead_id", Id, "the lead the touch led to"),
            req("at", Timestamp, "when the touch happened"),
            UTM[0],
            UTM[1],
            UTM[2],
            col(
                "channel",
                Category,
                "channel; if empty, derived from the manifest `channels` map",
            ),
            vocab("kind", false, TOUCH_KINDS, "kind of touch"),
        ],
    },
    TableSpec {
        name: "spend",
        table: TableName::Spend,
        required: false,
        primary_key: None,
        doc: "Marketing spend by day.",
        columns: &[
            req("date", Date, "day of the spend"),
            col(
                "channel",
                Category,
                "channel; if empty, derived from source/medium",
            ),
            UTM[0],
            UTM[1],
            UTM[2],
            req("amount", Money, "amount spent"),
            col("impressions", Int, "ad impressions"),
            col("clicks", Int, "ad clicks"),
        ],
    },
    TableSpec {
        name: "customers",
        table: TableName::Customers,
        required: false,
        primary_key: Some("account_id"),
        doc: "Customer accounts.",
        columns: &[
            req("account_id", Id, "the account"),
            col("name", Text, "company name"),
            col("segment", Category, "customer segment"),
            col("industry", Category, "industry"),
            col("company_size", Int, "employees"),
            col("region", Category, "region"),
            col(
                "acquired_at",
                Timestamp,
                "when the account became a customer (if empty: first won deal's closed_at)",
            ),
            col(
                "churned_at",
                Timestamp,
                "when the account stopped being a customer",
            ),
        ],
    },
    TableSpec {
        name: "payments",
        table: TableName::Payments,
        required: false,
        primary_key: Some("payment_id"),
        doc: "Payments received.",
        columns: &[
            req("payment_id", Id, "the payment"),
            req("account_id", Id, "the paying account"),
            col("deal_id", Id, "the deal paid for"),
            req("paid_at", Timestamp, "when the money arrived"),
            req("amount", Money, "amount paid"),
            col("gross_profit", Money, "gross profit of the payment"),
        ],
    },
    TableSpec {
        name: "nps",
        table: TableName::Nps,
        required: false,
        primary_key: None,
        doc: "Net Promoter Score answers.",
        columns: &[
            req("account_id", Id, "the answering account"),
            req("answered_at", Timestamp, "when the answer was given"),
            req("score", Int, "0..10"),
        ],
    },
    TableSpec {
        name: "events",
        table: TableName::Events,
        required: false,
        primary_key: Some("event_id"),
        doc: "Webinars, seminars, exhibitions and conferences.",
        columns: &[
            req("event_id", Id, "the event"),
            col("name", Text, "event name"),
            vocab("kind", false, EVENT_KINDS, "kind of event"),
            vocab("format", false, &["online", "offline"], "online or offline"),
            req("date", Date, "day of the event"),
            col("cost", Money, "what the event cost"),
            col("registered", Int, "people registered"),
            col("attended", Int, "people who attended"),
            col("target_attended", Int, "attendees from the target audience"),
        ],
    },
    TableSpec {
        name: "calls",
        table: TableName::Calls,
        required: false,
        primary_key: Some("call_id"),
        doc: "Call-tracking log.",
        columns: &[
            req("call_id", Id, "the call"),
            req("at", Timestamp, "when the call started"),
            UTM[0],
            UTM[1],
            UTM[2],
            col("answered", Bool, "whether the call was answered"),
            col("duration_s", Int, "call length in seconds"),
            col("lead_id", Id, "the lead the call created or belongs to"),
        ],
    },
    TableSpec {
        name: "traffic",
        table: TableName::Traffic,
        required: false,
        primary_key: None,
        doc: "Site visits by day and source.",
        columns: &[
            req("date", Date, "day"),
            UTM[0],
            UTM[1],
            col(
                "channel",
                Category,
                "channel; if empty, derived from source/medium",
            ),
            col("visits", Int, "visits"),
            col("unique_visitors", Int, "unique visitors"),
        ],
    },
    TableSpec {
        name: "plan",
        table: TableName::Plan,
        required: false,
        primary_key: None,
        doc: "Plan targets per period and metric.",
        columns: &[
            req("period", Id, "`2026-03` (month) or `2026-Q1` (quarter)"),
            req("metric", Id, "a metric name from metrics.md"),
            col("channel", Category, "plan for one channel (optional)"),
            req("target", Number, "the target value"),
        ],
    },
];

/// The reference page of every table and column (`docs/tables.md`), generated from `TABLES`
/// so the docs cannot drift from what the loader accepts (a test compares them).
pub fn tables_markdown() -> String {
    let mut out = String::from(
        "# Snapshot tables and columns\n\n\
         Generated from `engine/snapshot/spec.rs` (regenerate with `MARQA_BLESS=1 cargo test --test docs`); do not edit by hand.\n\
         Types: id and text (empty cell = null), timestamp (ISO 8601 with offset or naive local), date \
         (`YYYY-MM-DD`), money (decimal with `.`), int, number, bool (`true/false`, `1/0`, `yes/no`).\n",
    );
    for t in &TABLES {
        let required = if t.required { "required" } else { "optional" };
        out.push_str(&format!("\n## {} ({required})\n\n{}\n\n", t.name, t.doc));
        out.push_str("| column | type | required | description |\n|---|---|---|---|\n");
        for c in t.columns {
            let mut doc = c.doc.to_string();
            if let Some(values) = c.values {
                doc.push_str(&format!("; one of `{}`", values.join("`, `")));
            }
            let req = if c.required { "yes" } else { "" };
            out.push_str(&format!(
                "| `{}` | {} | {req} | {doc} |\n",
                c.name,
                c.ty.name()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_order_matches_enum() {
        for t in TableName::ALL {
            assert_eq!(t.spec().table, t, "TABLES must be in TableName order");
        }
        assert_eq!(
            TableName::parse("stage_changes"),
            Some(TableName::StageChanges)
        );
        assert_eq!(TableName::parse("nope"), None);
    }

    #[test]
    fn column_names_are_unique_per_table() {
        for t in &TABLES {
            let mut names: Vec<_> = t.columns.iter().map(|c| c.name).collect();
            names.sort();
            names.dedup();
            assert_eq!(
                names.len(),
                t.columns.len(),
                "duplicate column in {}",
                t.name
            );
        }
    }
}
