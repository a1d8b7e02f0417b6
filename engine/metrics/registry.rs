//! Every metric, declared once: name, unit, family, what it means, and which breakdowns it
//! has. The registry drives `marqa metrics` (order and formatting), the JSON Schema of its
//! output, `docs/metrics.md` (generated, checked by a test), and the rule engine's check of
//! metric names in expressions ("unknown metric `ltv_cak`, did you mean `ltv_cac`?").
//!
//! A metric computed for a breakdown it does not declare is reported as n/a with the reason
//! ("spend is not recorded per segment"), never as a misleading 0.

use serde::Serialize;

use super::By;

/// What a value measures; reports format by it (shares as %, money with separators).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Count,
    /// A fraction 0..1 (reports show %).
    Share,
    /// Currency units of the snapshot.
    Money,
    Ratio,
    Days,
    Minutes,
    Months,
    /// A score such as NPS (−100..100).
    Score,
}

impl Unit {
    pub const ALL: [Unit; 8] = [
        Unit::Count,
        Unit::Share,
        Unit::Money,
        Unit::Ratio,
        Unit::Days,
        Unit::Minutes,
        Unit::Months,
        Unit::Score,
    ];

    /// The unit of a name as rules and templates write it (`days`).
    pub fn parse(name: &str) -> Option<Unit> {
        Unit::ALL.into_iter().find(|u| u.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "count",
            Unit::Share => "share",
            Unit::Money => "money",
            Unit::Ratio => "ratio",
            Unit::Days => "days",
            Unit::Minutes => "minutes",
            Unit::Months => "months",
            Unit::Score => "score",
        }
    }
}

/// The section of metrics.md a metric belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Funnel,
    Sales,
    Speed,
    MoneyIn,
    MoneyOut,
    CustomerValue,
    DataQuality,
    Kpis,
}

impl Family {
    pub const ALL: [Family; 8] = [
        Family::Funnel,
        Family::Sales,
        Family::Speed,
        Family::MoneyIn,
        Family::MoneyOut,
        Family::CustomerValue,
        Family::DataQuality,
        Family::Kpis,
    ];
    pub fn title(self) -> &'static str {
        match self {
            Family::Funnel => "Funnel (cohort: leads created in the period, followed to as_of)",
            Family::Sales => "Sales (deals closed in the period)",
            Family::Speed => "Speed to lead",
            Family::MoneyIn => "Money in",
            Family::MoneyOut => "Money out",
            Family::CustomerValue => "Customer value",
            Family::DataQuality => "Data quality",
            Family::Kpis => "Other KPIs",
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct MetricDef {
    pub name: &'static str,
    pub unit: Unit,
    pub family: Family,
    pub description: &'static str,
    /// Breakdowns the metric is defined for (besides the whole period).
    pub by: &'static [By],
}

use By::*;
use Family::*;
use Unit::*;

const LEADS_BY: &[By] = &[Channel, Segment, Owner, Month, Quarter];
const DEALS_BY: &[By] = &[Channel, Segment, Owner, Month, Quarter, Product];
const STATE_BY: &[By] = &[Channel, Segment, Owner, Product];
const SPEND_BY: &[By] = &[Channel, Month, Quarter];
const CUST_BY: &[By] = &[Channel, Segment, Owner, Month, Quarter];
const CUST_STATE_BY: &[By] = &[Channel, Segment, Owner];
const TIME_BY: &[By] = &[Month, Quarter];
const NONE: &[By] = &[];

const fn m(
    name: &'static str,
    unit: Unit,
    family: Family,
    by: &'static [By],
    description: &'static str,
) -> MetricDef {
    MetricDef {
        name,
        unit,
        family,
        description,
        by,
    }
}

/// Every scalar metric, in report order.
pub static REGISTRY: &[MetricDef] = &[
    // Funnel
    m("leads", Count, Funnel, LEADS_BY, "Leads with `created_at` in the period."),
    m("mql", Count, Funnel, LEADS_BY, "Of those leads, the ones with `mql_at` set."),
    m("sql", Count, Funnel, LEADS_BY, "Of those leads, the ones with `sql_at` set."),
    m("won_leads", Count, Funnel, LEADS_BY, "Of those leads, the ones linked (by `lead_id`) to at least one won deal (n/a when deals have no `lead_id` column)."),
    m("lead_to_mql", Share, Funnel, LEADS_BY, "mql / leads."),
    m("mql_to_sql", Share, Funnel, LEADS_BY, "sql / mql."),
    m("sql_to_won", Share, Funnel, LEADS_BY, "won_leads / sql."),
    m("lead_to_won", Share, Funnel, LEADS_BY, "won_leads / leads."),
    // Sales
    m("won_deals", Count, Sales, DEALS_BY, "Deals with status `won` and `closed_at` in the period."),
    m("lost_deals", Count, Sales, DEALS_BY, "Deals with status `lost` and `closed_at` in the period."),
    m("win_rate", Share, Sales, DEALS_BY, "won_deals / (won_deals + lost_deals)."),
    m("avg_deal_size", Money, Sales, DEALS_BY, "Mean `amount` of won deals closed in the period that have an amount."),
    m("sales_cycle_days", Days, Sales, DEALS_BY, "Median days from the lead's `created_at` (the deal's own when no lead is linked) to `closed_at`, over won deals closed in the period."),
    m("sales_cycle_days_p90", Days, Sales, DEALS_BY, "90th percentile of the same (linear interpolation, as numpy)."),
    m("stuck_deals", Count, Sales, STATE_BY, "Open deals whose days in the current stage (at as_of) exceed that stage's `max_days`."),
    m("backward_moves", Count, Sales, STATE_BY, "Stage changes whose `to_stage` comes earlier in `funnel.stages` than `from_stage` (whole history)."),
    // Speed
    m("answered_leads", Count, Speed, LEADS_BY, "Leads in the period with a `first_response_at`."),
    m("response_minutes_median", Minutes, Speed, LEADS_BY, "Median minutes from `created_at` to `first_response_at` (inside business hours only when `sla.business_hours` is set)."),
    m("response_minutes_p90", Minutes, Speed, LEADS_BY, "90th percentile of the same."),
    m("unanswered_leads", Count, Speed, LEADS_BY, "Leads in the period with no response whose age at as_of exceeds `sla.first_response_minutes`."),
    m("sla_breaches", Count, Speed, LEADS_BY, "Leads answered later than the SLA, plus unanswered_leads."),
    m("sla_breach_share", Share, Speed, LEADS_BY, "sla_breaches / (leads − unanswered leads still younger than the SLA at as_of)."),
    // Money in
    m("spend", Money, MoneyIn, SPEND_BY, "Sum of `spend.amount` with `date` in the period."),
    m("cpl", Money, MoneyIn, SPEND_BY, "spend / leads (n/a for `(none)`: spend no channel claims is no channel's)."),
    m("cost_per_mql", Money, MoneyIn, SPEND_BY, "spend / mql."),
    m("cost_per_sql", Money, MoneyIn, SPEND_BY, "spend / sql."),
    m("new_customers", Count, MoneyIn, CUST_BY, "Customers whose `acquired_at` (or first won deal's `closed_at`) is in the period; per channel, weighted by attribution credit."),
    m("cac", Money, MoneyIn, SPEND_BY, "spend / new_customers."),
    // Money out
    m("revenue", Money, MoneyOut, DEALS_BY, "Sum of `payments.amount` with `paid_at` in the period (payments of unknown accounts included)."),
    m("gross_profit", Money, MoneyOut, DEALS_BY, "Sum of `payments.gross_profit` with `paid_at` in the period (payments without it are counted in the explanation)."),
    m("attributed_revenue", Money, MoneyOut, CUST_BY, "Revenue (payments up to as_of) of the customers acquired in the period, credited by the attribution model."),
    m("attributed_gross_profit", Money, MoneyOut, CUST_BY, "Gross profit (payments up to as_of) of the customers acquired in the period, credited by the attribution model."),
    m("romi", Ratio, MoneyOut, SPEND_BY, "(attributed_gross_profit − spend) / spend."),
    m("romi_revenue", Ratio, MoneyOut, SPEND_BY, "(attributed_revenue − spend) / spend."),
    // Customer value
    m("active_customer_months", Months, CustomerValue, CUST_BY, "Sum over customers of months (days / 30.4375) between max(acquired_at, period start) and min(churned_at, period end, as_of)."),
    m("churned_customers", Count, CustomerValue, CUST_BY, "Customers with `churned_at` in the period."),
    m("churn_rate_monthly", Share, CustomerValue, CUST_BY, "churned_customers / active_customer_months."),
    m("arpa_gp_monthly", Money, CustomerValue, CUST_BY, "gross_profit / active_customer_months."),
    m("lifetime_months", Months, CustomerValue, CUST_BY, "1 / churn_rate_monthly, capped at `ltv.max_lifetime_months` (also the value when nobody churned)."),
    m("ltv", Money, CustomerValue, CUST_BY, "arpa_gp_monthly × lifetime_months (gross-profit LTV)."),
    m("ltv_cac", Ratio, CustomerValue, SPEND_BY, "ltv / cac; the sustainability mark is ≥ 3."),
    m("cac_payback_months", Months, CustomerValue, SPEND_BY, "cac / arpa_gp_monthly."),
    m("repeat_purchase_rate", Share, CustomerValue, CUST_STATE_BY, "Share of customers acquired up to the period end with payments on two or more distinct deals (with no deal ids: in two or more distinct months)."),
    m("nps", Score, CustomerValue, CUST_BY, "100 × (promoters − detractors) / responses, over each account's latest answer in the period."),
    m("nps_responses", Count, CustomerValue, CUST_BY, "Accounts with an NPS answer in the period."),
    // Data quality
    m("leads_without_source", Count, DataQuality, LEADS_BY, "Leads in the period whose `source` is empty or spells \"no source\": (not set), (none), (direct), none, null, undefined, -, unknown, (unknown), n/a, не указан, неизвестно, нет… (case-insensitive; the full list in docs/snapshot.md) or one of the manifest's `utm.no_source_values`. n/a without a `source` column."),
    m("leads_without_source_share", Share, DataQuality, LEADS_BY, "leads_without_source / leads."),
    m("utm_violations", Count, DataQuality, LEADS_BY, "Leads in the period with a source whose source or medium is outside the manifest's `utm` lists, or has capitals when `utm.lowercase` (mediums are judged when leads have a `medium` column)."),
    m("utm_violations_share", Share, DataQuality, LEADS_BY, "utm_violations / leads."),
    m("duplicate_leads", Count, DataQuality, LEADS_BY, "Leads in the period sharing a normalized email or phone with an earlier lead created at most `dedupe.window_days` before (n/a with neither an `email` nor a `phone` column)."),
    m("duplicate_leads_share", Share, DataQuality, LEADS_BY, "duplicate_leads / leads."),
    m("orphan_deals", Count, DataQuality, NONE, "Deals whose `lead_id` or `account_id` is set but names no row."),
    m("orphan_payments", Count, DataQuality, NONE, "Payments whose `account_id` or `deal_id` is set but names no row."),
    m("won_without_amount", Count, DataQuality, DEALS_BY, "Won deals closed in the period with no `amount` (n/a when deals have no `amount` column)."),
    m("future_timestamps", Count, DataQuality, NONE, "Timestamp cells later than as_of, in every table."),
    m("manual_entry_share", Share, DataQuality, LEADS_BY, "Leads in the period with `entry_method` = manual / leads."),
    m("unmatched_spend_channels", Count, DataQuality, NONE, "Channels with spend in the period but no leads in it (`(none)`, spend no channel claims, is not a channel)."),
    m("paid_channels_without_spend", Count, DataQuality, NONE, "Channels of leads in the period whose medium is paid (cpc, cpm) with no spend rows in the period (`(none)` is not a channel)."),
    m("timezone_mismatch", Count, DataQuality, NONE, "Systems whose declared time zone differs from the manifest `timezone`."),
    m("calls_without_lead", Count, DataQuality, TIME_BY, "Answered calls in the period longer than 30 s with no `lead_id` (n/a when calls have no `lead_id` column)."),
    // Other KPIs
    m("visits", Count, Kpis, SPEND_BY, "Sum of `traffic.visits` with `date` in the period."),
    m("unique_visitors", Count, Kpis, SPEND_BY, "Sum of `traffic.unique_visitors` with `date` in the period."),
    m("visit_to_lead", Share, Kpis, SPEND_BY, "leads / visits."),
    m("event_target_attendance", Count, Kpis, TIME_BY, "Target-audience attendees of events dated in the period."),
    m("event_target_attendance_online", Count, Kpis, TIME_BY, "The same, online events only."),
    m("event_target_attendance_offline", Count, Kpis, TIME_BY, "The same, offline events only."),
    m("cost_per_target_attendee", Money, Kpis, TIME_BY, "Cost of events in the period / their target attendees."),
    m("cost_per_target_attendee_online", Money, Kpis, TIME_BY, "The same, online events only."),
    m("cost_per_target_attendee_offline", Money, Kpis, TIME_BY, "The same, offline events only."),
];

impl MetricDef {
    /// Whether the metric has a value for the previous window of equal length: the one
    /// place that says so, for `marqa metrics` and the reports' trend columns. A metric of
    /// a time window (one defined per month) has; a count over the whole snapshot
    /// (`orphan_deals`) or a state at `as_of` (`stuck_deals`) has not, since its "previous"
    /// value would only repeat the current one. The store keeps only these in `previous`.
    pub fn has_previous(&self) -> bool {
        self.by.contains(&By::Month)
    }
}

/// The declaration of a metric.
pub fn def(name: &str) -> Option<&'static MetricDef> {
    REGISTRY.iter().find(|d| d.name == name)
}

/// Whether `name` is a metric the store computes (for rule-expression validation).
pub fn is_metric(name: &str) -> bool {
    def(name).is_some()
}

/// Every metric name, in report order.
pub fn names() -> impl Iterator<Item = &'static str> {
    REGISTRY.iter().map(|d| d.name)
}

/// The closest metric name to a misspelt one ("ltv_cak" -> "ltv_cac").
pub fn suggest(name: &str) -> Option<&'static str> {
    crate::diag::did_you_mean(name, names())
}

/// Whether a metric is defined for a breakdown.
pub fn applies(def: &MetricDef, by: By) -> bool {
    def.by.contains(&by)
}

/// Why a metric has no value in a breakdown it is not defined for.
pub fn not_applicable_reason(def: &MetricDef, by: By) -> String {
    let what = match def.family {
        Family::MoneyIn | Family::MoneyOut | Family::CustomerValue
            if def.by == SPEND_BY || def.name == "spend" =>
        {
            format!("spend is not recorded per {}", by.as_str())
        }
        _ if def.by.is_empty() => format!("{} is counted for the whole snapshot only", def.name),
        _ => format!("{} is not defined per {}", def.name, by.as_str()),
    };
    what
}

/// The generated docs page (`docs/metrics.md`), from the registry.
pub fn docs_markdown() -> String {
    let mut out = String::from(
        "# Metrics\n\n\
         <!-- Generated from engine/metrics/registry.rs by `marqa metrics --list --format markdown`; \
         a test checks it is current. Edit the registry, not this file. -->\n\n\
         Every metric's exact definition is in the contract (metrics.md). A value is a number or \
         `n/a` with the reason (missing is not zero). Shares are fractions 0..1 (shown as %), \
         money is in the snapshot currency, durations are exact (seconds / 86 400).\n\n\
         Breakdowns: `channel`, `segment`, `owner`, `month`, `quarter`, `product`. A metric asked \
         for a breakdown it does not list is n/a with the reason.\n\n\
         An absent column is unknown, not empty: a metric that reads a column the snapshot's table \
         does not have is n/a (`no first_response_at column in leads`), and the deals' closed-deal \
         metrics are n/a without `closed_at`. When the manifest's `channels` map reads a column the \
         leads or spend lack (a map on source and medium, leads without `medium`), rows it cannot \
         place have no channel and every metric by channel is n/a with the reason (so are the \
         per-channel plan facts and `unmatched_spend_channels`, `paid_channels_without_spend`). \
         Spend of `(none)` (rows no channel claims) counts in every total but has no CPL, cost per \
         MQL/SQL, CAC, ROMI or LTV/CAC: it is no channel's spend.\n",
    );
    for fam in Family::ALL {
        out.push_str(&format!("\n## {}\n\n", fam.title()));
        out.push_str("| metric | unit | breakdowns | definition |\n|---|---|---|---|\n");
        for d in REGISTRY.iter().filter(|d| d.family == fam) {
            let by: Vec<&str> = d.by.iter().map(|b| b.as_str()).collect();
            let by = if by.is_empty() {
                "—".to_string()
            } else {
                by.join(", ")
            };
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                d.name,
                d.unit.as_str(),
                by,
                d.description
            ));
        }
    }
    out.push_str(
        "\n## Tables\n\n\
         Besides the scalars, `marqa metrics --format json` carries table-shaped results:\n\n\
         - `stage_conversion`: per funnel stage, deals (created in the period) that reached it, \
         how many went on to a later stage or won, and the share.\n\
         - `retention`: per acquisition month, customers and the share with a payment in month k \
         after acquisition (k = 0 is the acquisition month); months not yet over at as_of are n/a.\n\
         - `plan`: every `plan.csv` row with the fact of its metric in its month or quarter \
         (for its channel if set) and attainment = fact / target.\n\
         - `events`: per event and per format (online/offline), target attendees and cost per \
         target attendee.\n\
         - `attribution`: customers, revenue, gross profit, spend, CAC and ROMI per channel for \
         every model (`lead`, `first_touch`, `last_touch`, `last_non_direct`, `linear`, \
         `position_based`, `time_decay`, `markov`) and the Markov removal effects.\n\
         - `previous`: the metrics of a time window (those with a `month` breakdown) for the \
         previous window of equal length (period-over-period); whole-snapshot counts and \
         states at as_of (`orphan_deals`, `stuck_deals`) have none, as their previous value \
         would repeat the current one.\n\
         \n## Attribution\n\n\
         A customer's journey is its earliest lead (leads linked by `account_id`, directly or \
         through a deal) with the touches of that lead within `attribution.lookback_days` before \
         its `created_at`, the lead itself being the last touch. `time_decay` measures days before \
         the lead's `created_at`. `markov` builds a first-order absorbing Markov chain from the \
         journeys of customers acquired in the period (conversions) and of leads in the period \
         that belong to no customer (non-conversions), computes each channel's removal effect \
         exactly (linear algebra, no simulation) and gives each customer credit in proportion to \
         the removal effects of the channels on its own path, so a customer's credits sum to 1. \
         The `attribution` table also reports the chain-wide allocation (total conversions × \
         removal effect share), the quantity ChannelAttribution's `markov_model` estimates.\n\
         \n## How the numbers are checked\n\n\
         - Unit tests (`engine/metrics/tests.rs`) compute every metric on a hand-made snapshot \
         (`tests/fixtures/metrics/basic`) and state the expected value with its arithmetic, \
         including the n/a cases and the time-zone edges of the period.\n\
         - `tests/crosscheck.rs` runs the same definitions written independently as DuckDB SQL \
         (`tests/crosscheck/metrics.sql`, loaded by `duckdb_metrics.py`) on that fixture and on \
         `examples/demo`, and requires agreement to the cent on money and to 1e-9 on everything \
         else (needs Python with `duckdb` and `pyyaml`; skipped with a message otherwise).\n\
         - `tests/markov_crosscheck.rs` checks the exact Markov attribution against \
         ChannelAttribution's simulated `markov_model` on 2 000 and 60 000 journeys (within its \
         simulation noise) and the heuristic models exactly; `tests/crosscheck/markov/compare.py` \
         regenerates the comparison (`comparison.md`).\n\
         \n## How it is computed\n\n\
         The store is computed once per run (`Store::compute`) and read by every rule and \
         report. Each breakdown group is a scope (a time window plus at most one filter); one \
         pass over a table adds every row to all the scopes it belongs to, so group-bys cost one \
         pass per table. Money is summed exactly in 1/10 000 units; attribution-weighted sums in \
         floating point. `examples/metrics_bench.rs` measures time and memory apart from loading.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_snake_case() {
        let mut names: Vec<_> = names().collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "duplicate metric names");
        for name in names {
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}"
            );
        }
    }

    #[test]
    fn misspelt_names_get_a_suggestion() {
        assert!(is_metric("ltv_cac"));
        assert!(!is_metric("ltv_cak"));
        assert_eq!(suggest("ltv_cak"), Some("ltv_cac"));
        assert_eq!(suggest("zzzz"), None);
    }

    #[test]
    fn docs_page_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/metrics.md");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == docs_markdown(),
            "docs/metrics.md is stale: run `cargo run -q -- metrics --list --format markdown > docs/metrics.md`"
        );
    }
}
