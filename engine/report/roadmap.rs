//! The roadmap: every failed finding becomes an action with an owner role, an expected
//! effect, a priority and a target date counted from the snapshot's `as_of`.
//!
//! - Priority is the rule's (`recommendation.priority`, else from effort and impact:
//!   low effort with real impact is a quick win, high effort is strategic, the rest medium
//!   term). A failed rule without a recommendation is medium term.
//! - Deadlines: quick wins within 2 weeks, medium term in 4–6, strategic up to 12. Inside
//!   each window the more severe failures (error, critical) get the earlier end: 1 / 4 / 8
//!   weeks; warnings and infos the later one: 2 / 6 / 12 weeks.
//! - The owner is the rule's `recommendation.owner`, else the role that usually owns the
//!   audit step (data sources → analytics, funnel → sales operations, …).
//! - The expected effect is the measured gap the action closes: the check's title (which
//!   states the goal) with the value now and the threshold to reach.
//!
//! Actions are grouped by priority (quick wins first) and sorted inside a group by
//! severity, impact, effort, audit step, rule and group, then numbered.

use std::cmp::Reverse;

use serde::Serialize;

use crate::eval::finding::Status;
use crate::rules::model::{Level, Priority, Severity, Step};
use crate::snapshot::time::format_day;

use super::context::FindingCtx;
use super::i18n;
use super::Audit;

#[derive(Debug, Clone, Serialize)]
pub struct Roadmap {
    /// The date deadlines count from (the local date of `as_of`).
    pub start: String,
    pub groups: Vec<Group>,
    /// Every action, in roadmap order (the groups concatenated).
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub priority: Priority,
    pub label: String,
    /// `within 2 weeks`, `in 4–6 weeks`, `in up to 12 weeks`.
    pub horizon: String,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Action {
    /// 1-based number in roadmap order.
    pub id: usize,
    pub rule: String,
    pub group: Option<String>,
    pub step: Step,
    pub step_title: String,
    pub severity: Severity,
    pub severity_label: String,
    /// The check's title (the state to reach).
    pub title: String,
    /// What to do: the rule's recommendation, or the title as a task.
    pub action: String,
    pub owner: String,
    pub owner_label: String,
    pub effect: String,
    pub impact: Option<Level>,
    pub impact_label: Option<String>,
    pub effort: Option<Level>,
    pub effort_label: Option<String>,
    pub priority: Priority,
    pub priority_label: String,
    pub weeks: u32,
    /// Target date, `YYYY-MM-DD`.
    pub due: String,
    /// The HTML id of the finding the action comes from.
    pub finding_anchor: String,
}

/// The role that owns an audit step's fixes when a rule names none.
pub fn default_owner(step: Step) -> &'static str {
    match step {
        Step::Goals | Step::Plan | Step::Actions => "management",
        Step::DataSources | Step::Reporting | Step::TechStack => "analytics",
        Step::Funnel => "sales_ops",
        Step::Processes => "head_of_sales",
        Step::Channels | Step::Customers | Step::UnitEconomics | Step::Kpis => "marketing",
    }
}

/// Weeks to the deadline: the early end of the priority's window for severe failures.
pub fn weeks(priority: Priority, severity: Severity) -> u32 {
    let severe = severity >= Severity::Error;
    match (priority, severe) {
        (Priority::QuickWin, true) => 1,
        (Priority::QuickWin, false) => 2,
        (Priority::MediumTerm, true) => 4,
        (Priority::MediumTerm, false) => 6,
        (Priority::Strategic, true) => 8,
        (Priority::Strategic, false) => 12,
    }
}

/// The expected effect: the title (and group) with the gap to close (`7.3% → ≤ 2%`).
pub fn effect(f: &FindingCtx, locale: &str) -> String {
    let title = match &f.group {
        Some(g) => format!("{} [{g}]", f.title),
        None => f.title.clone(),
    };
    if let Some(e) = &f.evidence {
        if !e.missing.is_empty() {
            return format!(
                "{}: {} {} → {}",
                title,
                i18n::label(locale, "effect_missing"),
                e.missing.join(", "),
                i18n::label(locale, "effect_filled")
            );
        }
    }
    match (f.value, f.threshold, &f.value_text, &f.threshold_text) {
        (Some(v), Some(t), Some(vt), Some(tt)) => {
            let op = if v > t { "≤" } else { "≥" };
            format!("{title}: {vt} → {op} {tt}")
        }
        _ => title,
    }
}

fn level_rank(l: Option<Level>) -> u8 {
    match l {
        Some(Level::High) => 3,
        Some(Level::Medium) => 2,
        Some(Level::Low) => 1,
        None => 0,
    }
}

pub fn build(a: &Audit, findings: &[FindingCtx]) -> Roadmap {
    let locale = a.locale;
    let start_day = a.snapshot.clock.local_day(a.snapshot.as_of);
    let mut actions: Vec<Action> = findings
        .iter()
        // An accepted (suppressed) failure is not an action to plan.
        .filter(|f| f.status == Status::Fail && f.suppressed.is_none())
        .map(|f| {
            let rec = f.recommendation.as_ref();
            let priority = rec.map_or(Priority::MediumTerm, |r| r.priority);
            let owner = rec
                .and_then(|r| r.owner.clone())
                .unwrap_or_else(|| default_owner(f.step).to_string());
            let w = weeks(priority, f.severity);
            let (impact, effort) = (rec.and_then(|r| r.impact), rec.and_then(|r| r.effort));
            Action {
                id: 0,
                rule: f.rule.clone(),
                group: f.group.clone(),
                step: f.step,
                step_title: f.step_title.clone(),
                severity: f.severity,
                severity_label: f.severity_label.clone(),
                title: f.title.clone(),
                action: rec.and_then(|r| r.text.clone()).unwrap_or_else(|| {
                    let fix = if locale == "ru" {
                        "Исправить"
                    } else {
                        "Fix"
                    };
                    format!("{fix}: {}", f.title)
                }),
                owner_label: i18n::owner(locale, &owner),
                owner,
                effect: effect(f, locale),
                impact,
                impact_label: impact.map(|l| i18n::level(locale, l)),
                effort,
                effort_label: effort.map(|l| i18n::level(locale, l)),
                priority,
                priority_label: i18n::priority(locale, priority),
                weeks: w,
                due: format_day(start_day + 7 * w as i32),
                finding_anchor: f.anchor.clone(),
            }
        })
        .collect();
    actions.sort_by(|x, y| {
        let key = |a: &Action| {
            (
                a.priority,
                Reverse(a.severity),
                Reverse(level_rank(a.impact)),
                // Unknown effort sorts after known: a known low effort is the surer win.
                match a.effort {
                    Some(l) => level_rank(Some(l)),
                    None => 4,
                },
                a.step,
            )
        };
        key(x)
            .cmp(&key(y))
            .then_with(|| x.rule.cmp(&y.rule))
            .then_with(|| x.group.cmp(&y.group))
    });
    for (i, a) in actions.iter_mut().enumerate() {
        a.id = i + 1;
    }
    let groups = [
        Priority::QuickWin,
        Priority::MediumTerm,
        Priority::Strategic,
    ]
    .into_iter()
    .map(|p| Group {
        priority: p,
        label: i18n::priority(locale, p),
        horizon: i18n::horizon(locale, p),
        actions: actions
            .iter()
            .filter(|a| a.priority == p)
            .cloned()
            .collect(),
    })
    .filter(|g| !g.actions.is_empty())
    .collect();
    Roadmap {
        start: format_day(start_day),
        groups,
        actions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_follow_priority_and_severity() {
        assert_eq!(weeks(Priority::QuickWin, Severity::Critical), 1);
        assert_eq!(weeks(Priority::QuickWin, Severity::Warning), 2);
        assert_eq!(weeks(Priority::MediumTerm, Severity::Error), 4);
        assert_eq!(weeks(Priority::MediumTerm, Severity::Info), 6);
        assert_eq!(weeks(Priority::Strategic, Severity::Error), 8);
        assert_eq!(weeks(Priority::Strategic, Severity::Warning), 12);
    }

    #[test]
    fn every_step_has_an_owner() {
        for s in Step::ALL {
            assert!(!default_owner(s).is_empty());
            assert_ne!(i18n::owner("ru", default_owner(s)), default_owner(s));
        }
    }
}
