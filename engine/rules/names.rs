//! The names a rule may refer to, looked up in one place so the loader's "unknown name,
//! did you mean …" checks follow the registries they come from.
//!
//! Metric names: `known_metric` / `metric_names` are the only entry points. Until the
//! metrics registry lands (engine/metrics), they read the list below, transcribed from
//! metrics.md; point them at the registry then and delete the list.

use crate::diag::did_you_mean;

/// Scalar metric names of metrics.md (the store holds each overall and per breakdown group).
const METRICS: &[&str] = &[
    // Funnel (cohort view)
    "leads",
    "mql",
    "sql",
    "won_leads",
    "lead_to_mql",
    "mql_to_sql",
    "sql_to_won",
    "lead_to_won",
    // Sales (period view)
    "won_deals",
    "lost_deals",
    "win_rate",
    "avg_deal_size",
    "sales_cycle_days",
    "sales_cycle_days_p90",
    "stuck_deals",
    "backward_moves",
    // Speed to lead
    "response_minutes_median",
    "response_minutes_p90",
    "unanswered_leads",
    "sla_breach_share",
    // Money in
    "spend",
    "cpl",
    "cost_per_mql",
    "cost_per_sql",
    "new_customers",
    "cac",
    // Money out
    "revenue",
    "gross_profit",
    "attributed_gross_profit",
    "attributed_revenue",
    "romi",
    "romi_revenue",
    // Customer value
    "active_customer_months",
    "churn_rate_monthly",
    "arpa_gp_monthly",
    "lifetime_months",
    "ltv",
    "ltv_cac",
    "cac_payback_months",
    "repeat_purchase_rate",
    "nps",
    // Data quality
    "leads_without_source",
    "leads_without_source_share",
    "utm_violations",
    "duplicate_leads",
    "orphan_deals",
    "orphan_payments",
    "won_without_amount",
    "future_timestamps",
    "manual_entry_share",
    "unmatched_spend_channels",
    "paid_channels_without_spend",
    "timezone_mismatch",
    "calls_without_lead",
    // Other seed KPIs
    "unique_visitors",
    "visit_to_lead",
    "event_target_attendance",
    "cost_per_target_attendee",
];

/// Whether `name` is a metric a `check` expression may read.
pub fn known_metric(name: &str) -> bool {
    METRICS.contains(&name)
}

/// Every metric name, for suggestions and docs.
pub fn metric_names() -> impl Iterator<Item = &'static str> {
    METRICS.iter().copied()
}

/// The nearest metric name to a typo.
pub fn suggest_metric(name: &str) -> Option<&'static str> {
    did_you_mean(name, metric_names())
}

/// The top-level keys of the manifest (from its schema), for `require` paths.
pub fn manifest_keys() -> Vec<String> {
    crate::schema::MANIFEST
        .json()
        .get("properties")
        .and_then(|p| p.as_object())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_unique_identifiers() {
        let mut names: Vec<_> = metric_names().collect();
        for n in &names {
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{n} must be a Rhai identifier"
            );
        }
        let len = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), len);
        assert_eq!(suggest_metric("ltv_cak"), Some("ltv_cac"));
    }

    #[test]
    fn manifest_keys_come_from_the_schema() {
        let keys = manifest_keys();
        assert!(keys.iter().any(|k| k == "definitions"));
        assert!(keys.iter().any(|k| k == "systems"));
    }
}
