//! The data problems the generator can inject, one switch each, and the record of which
//! rows it made defective. `docs/generator.md` is the long form of [`Defect::what`] and
//! [`Defect::caught_by`]; both come from the same table below.

use std::collections::BTreeMap;

use serde::Serialize;

macro_rules! defects {
    ($($variant:ident = $name:literal : $what:literal => $caught:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Defect { $($variant),* }

        impl Defect {
            pub const ALL: &'static [Defect] = &[$(Defect::$variant),*];
            /// The name used by `--defect` and in reports.
            pub fn name(self) -> &'static str {
                match self { $(Defect::$variant => $name),* }
            }
            /// What the defect injects.
            pub fn what(self) -> &'static str {
                match self { $(Defect::$variant => $what),* }
            }
            /// The metric or rule that should catch it.
            pub fn caught_by(self) -> &'static str {
                match self { $(Defect::$variant => $caught),* }
            }
        }
    };
}

defects! {
    MissingSource = "missing_source":
        "about 7% of leads lose their UTM tags (source, medium, campaign empty, or `(not set)`): forms without UTM, calls whose dynamic number was not matched"
        => "leads_without_source (data_sources step; threshold 2%)";
    DuplicateLeads = "duplicate_leads":
        "about 6% of leads are followed by a second lead from the same person (same email and/or phone, written in another format) minutes to 20 days later, marked `Дубль`"
        => "duplicate_leads (dedupe window 30 days; threshold 3%)";
    UtmViolations = "utm_violations":
        "about 8% of tagged leads carry non-standard UTM values: capitals (`Yandex`, `CPC`), aliases outside the agreed list (`ya`, `yandex.direct`, `tg`, `e-mail`)"
        => "utm_violations (data_sources step)";
    SlaBreaches = "sla_breaches":
        "about 20% of leads (more for two slow reps) are answered after 16 minutes to 3 business days instead of within 15 business minutes; leads that arrive on public holidays wait for the next working day"
        => "sla_breach_share, response_minutes_median/p90 (funnel and processes steps; 90% within SLA)";
    UnansweredLeads = "unanswered_leads":
        "about 3% of leads never get a first response"
        => "unanswered_leads, sla_breach_share";
    StuckDeals = "stuck_deals":
        "about 6% of deals are abandoned in a stage and stay open; stage durations get a long tail beyond the stage's max_days"
        => "stuck_deals (funnel step; open deals longer than the stage's max_days)";
    BackwardMoves = "backward_moves":
        "about 8% of deals that reach a proposal go back to qualification or meeting before moving on"
        => "backward_moves (funnel step)";
    WonWithoutAmount = "won_without_amount":
        "about 4% of won first deals and 5% of won repeat orders have no amount and no gross profit (their payments still exist)"
        => "won_without_amount (funnel step; max 0)";
    OrphanDeals = "orphan_deals":
        "about 2% of deals point to a lead that was deleted from the CRM (the lead, its touches and calls are not exported)"
        => "orphan_deals; referential fact orphan_reference on deals.lead_id";
    OrphanPayments = "orphan_payments":
        "a few payments a month come from the accounting system for accounts the CRM does not know (`1C-…` account ids)"
        => "orphan_payments; referential fact orphan_reference on payments.account_id";
    FutureTimestamps = "future_timestamps":
        "about 10% of payments scheduled after as_of are exported as if paid, and about 0.1% of leads carry a mistyped year (2027)"
        => "future_timestamps; referential fact future_timestamp";
    StaleReport = "stale_report":
        "the monthly `CAC и ROMI по каналам` report was last refreshed on 2026-03-31, more than twice its interval before as_of"
        => "reporting step: no report older than twice its refresh interval";
    MissingSqlDefinition = "missing_sql_definition":
        "the manifest has no written `definitions.sql`"
        => "funnel and processes steps: MQL and SQL defined in writing";
    PaidWithoutSpend = "paid_without_spend":
        "Google Ads leads (google / cpc, from old tagged links) arrive but no Google Ads spend is exported"
        => "paid_channels_without_spend (channels step); google_ads CPL/CAC are n/a";
    SpendWithoutLeads = "spend_without_leads":
        "VK Ads spend is exported from March on, but no lead is tagged with it"
        => "unmatched_spend_channels (channels step)";
    ManualEntry = "manual_entry":
        "leads typed in by hand: most exhibition leads (business cards), some calls and a few others get entry_method=manual and naive timestamps"
        => "manual_entry_share (data_sources and tech_stack steps)";
    CallsWithoutLead = "calls_without_lead":
        "about 12% of call-lead stories also produce an answered call over 30 s that never became a lead"
        => "calls_without_lead (data_sources step)";
    TimezoneMismatch = "timezone_mismatch":
        "Calltouch is declared in UTC while the CRM and the manifest use Europe/Moscow; calls are exported as naive UTC times (declared as tables.calls.timezone: UTC)"
        => "timezone_mismatch (data_sources step: one time zone)";
}

impl Defect {
    pub fn parse(name: &str) -> Option<Defect> {
        Defect::ALL.iter().copied().find(|d| d.name() == name)
    }
}

impl std::fmt::Display for Defect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which defects are switched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefectSet(u32);

impl DefectSet {
    pub fn all() -> DefectSet {
        DefectSet(Defect::ALL.iter().fold(0, |m, d| m | 1 << *d as u32))
    }
    pub fn none() -> DefectSet {
        DefectSet(0)
    }
    pub fn only(defects: &[Defect]) -> DefectSet {
        DefectSet(defects.iter().fold(0, |m, d| m | 1 << *d as u32))
    }
    pub fn has(self, d: Defect) -> bool {
        self.0 & (1 << d as u32) != 0
    }
    pub fn with(self, d: Defect) -> DefectSet {
        DefectSet(self.0 | 1 << d as u32)
    }
    pub fn without(self, d: Defect) -> DefectSet {
        DefectSet(self.0 & !(1 << d as u32))
    }
    pub fn iter(self) -> impl Iterator<Item = Defect> {
        Defect::ALL.iter().copied().filter(move |d| self.has(*d))
    }
}

/// How many ids per defect a report keeps (counts stay exact beyond it), so the report
/// stays small at the largest scales.
pub const MAX_IDS_PER_DEFECT: usize = 200_000;

/// Rows (or manifest entries) a defect made defective.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Hits {
    pub count: u64,
    /// The ids of the affected rows (lead, deal, payment or call ids; report names for
    /// manifest defects), in generation order, at most [`MAX_IDS_PER_DEFECT`].
    pub ids: Vec<String>,
}

/// Which ids each switched-on defect made defective. Only defects that are on appear.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DefectReport {
    pub defects: BTreeMap<Defect, Hits>,
}

impl DefectReport {
    pub fn new(set: DefectSet) -> DefectReport {
        DefectReport {
            defects: set.iter().map(|d| (d, Hits::default())).collect(),
        }
    }

    /// Record an affected id (only for defects that are on).
    pub fn hit(&mut self, d: Defect, id: impl FnOnce() -> String) {
        if let Some(h) = self.defects.get_mut(&d) {
            h.count += 1;
            if h.ids.len() < MAX_IDS_PER_DEFECT {
                h.ids.push(id());
            }
        }
    }

    pub fn ids(&self, d: Defect) -> &[String] {
        self.defects.get(&d).map_or(&[], |h| &h.ids)
    }

    pub fn count(&self, d: Defect) -> u64 {
        self.defects.get(&d).map_or(0, |h| h.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sets_work() {
        for d in Defect::ALL {
            assert_eq!(Defect::parse(d.name()), Some(*d));
            assert!(!d.what().is_empty() && !d.caught_by().is_empty());
        }
        let all = DefectSet::all();
        assert_eq!(all.iter().count(), Defect::ALL.len());
        let one = DefectSet::only(&[Defect::OrphanDeals]);
        assert!(one.has(Defect::OrphanDeals) && !one.has(Defect::StaleReport));
        assert_eq!(
            all.without(Defect::OrphanDeals).iter().count(),
            Defect::ALL.len() - 1
        );
        assert_eq!(DefectSet::none().with(Defect::OrphanDeals), one);
        let mut r = DefectReport::new(one);
        r.hit(Defect::OrphanDeals, || "D1".into());
        r.hit(Defect::StaleReport, || "ignored".into());
        assert_eq!(r.ids(Defect::OrphanDeals), ["D1"]);
        assert_eq!(r.count(Defect::StaleReport), 0);
    }
}
