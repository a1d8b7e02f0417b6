//! The generated `snapshot.yaml`: written as text (not serialized) so that it reads like
//! a file a person maintains, with comments, and so its bytes never depend on a
//! serializer's choices. Manifest-level defects (a stale report, a missing definition, a
//! time-zone mismatch) are switched here.

use std::fmt::Write;

use super::company::{CHANNELS, COMPANY};
use super::defects::{Defect, DefectReport};
use super::layout::{FileFormat, Layout};
use super::world::{World, AS_OF, PERIOD_FROM, PERIOD_TO, SLA_MINUTES, STAGES, TIMEZONE};
use crate::snapshot::dialect::Encoding;

/// The report that goes stale with the `stale_report` defect.
pub const STALE_REPORT: &str = "CAC и ROMI по каналам";

struct ReportSpec {
    name: &'static str,
    covers: &'static str,
    refresh: &'static str,
    last: &'static str,
    audience: &'static str,
}

fn reports(w: &World) -> [ReportSpec; 5] {
    [
        ReportSpec {
            name: "Сквозная воронка: источники → лиды → SQL → сделки → выручка",
            covers: "[source_to_revenue, funnel_conversion]",
            refresh: "weekly",
            last: "2026-06-29",
            audience: "[marketing, sales, management]",
        },
        ReportSpec {
            name: STALE_REPORT,
            covers: "[cac_romi_trend]",
            refresh: "monthly",
            last: if w.on(Defect::StaleReport) {
                "2026-03-31"
            } else {
                "2026-06-30"
            },
            audience: "[marketing, management]",
        },
        ReportSpec {
            name: "Когорты удержания клиентов",
            covers: "[retention_cohorts]",
            refresh: "monthly",
            last: "2026-06-05",
            audience: "[sales, management]",
        },
        ReportSpec {
            name: "План-факт продаж и маркетинга",
            covers: "[plan_vs_fact]",
            refresh: "monthly",
            last: "2026-06-30",
            audience: "[management, sales, marketing]",
        },
        ReportSpec {
            name: "Скорость обработки заявок",
            covers: "[speed_to_lead]",
            refresh: "daily",
            last: "2026-06-30",
            audience: "[sales]",
        },
    ]
}

/// The manifest text for a run (`seed`, `scale` and the defects only go into the
/// comment at the top; everything else follows from the world and the layouts).
pub fn render(w: &World, layouts: &[Layout]) -> String {
    let mut y = String::with_capacity(8 * 1024);
    let defects: Vec<&str> = w.defects.iter().map(|d| d.name()).collect();
    let _ = writeln!(
        y,
        "# Synthetic snapshot made by `marqa generate --seed {} --scale {}`.",
        w.seed, w.scale
    );
    let _ = writeln!(
        y,
        "# Injected defects: {}. See docs/generator.md.",
        if defects.is_empty() {
            "none (--clean)".to_string()
        } else {
            defects.join(", ")
        }
    );
    let _ = writeln!(y, "version: 1");
    let _ = writeln!(y, "company: \"{COMPANY}\"");
    let _ = writeln!(y, "as_of: {AS_OF}");
    let _ = writeln!(y, "period: {{from: {PERIOD_FROM}, to: {PERIOD_TO}}}");
    y.push_str("currency: RUB\n");
    let _ = writeln!(y, "timezone: {TIMEZONE}");
    y.push_str(
        "\ngoals:
  - {goal: revenue_growth, kpis: [revenue, romi, ltv_cac]}
  - {goal: lead_quality, kpis: [sql, cost_per_sql, lead_to_won]}
  - {goal: faster_sales, kpis: [sales_cycle_days, sla_breach_share]}

definitions:
  mql: \"Промышленное предприятие 50+ сотрудников из целевой отрасли, запросило цену или подбор оборудования\"\n",
    );
    if !w.on(Defect::MissingSqlDefinition) {
        y.push_str(
            "  sql: \"Подтверждены бюджет и потребность на 6 месяцев, есть контакт с ЛПР или главным механиком\"\n",
        );
    }
    y.push_str("  customer: \"Первый оплаченный счёт\"\n\nfunnel:\n  stages:\n");
    for s in STAGES {
        let _ = writeln!(
            y,
            "    - {{id: {}, name: \"{}\", max_days: {}}}",
            s.id, s.name, s.max_days
        );
    }
    let _ = writeln!(
        y,
        "  won: {}\n  lost: {}",
        super::world::WON,
        super::world::LOST
    );
    let _ = writeln!(
        y,
        "\nsla:\n  first_response_minutes: {SLA_MINUTES}\n  owner: head_of_sales\n  business_hours: {{days: [mon, tue, wed, thu, fri], from: \"09:00\", to: \"18:00\"}}"
    );
    y.push_str(
        "
# First match wins. The aliases (ya, yandex.direct, tg, e-mail) are known variants of the
# agreed tags below; they map to their channel but break the UTM standard.
channels:
  - {channel: yandex_direct, source: [yandex, yandex.direct, ya], medium: [cpc]}
  - {channel: google_ads, source: [google], medium: [cpc]}
  - {channel: vk_ads, source: [vk], medium: [cpc, cpm]}
  - {channel: telegram, source: [telegram, tg]}
  - {channel: organic, medium: [organic]}
  - {channel: email, medium: [email, e-mail]}
  - {channel: partner, medium: [referral]}
  - {channel: exhibitions, source: [exhibition]}
  - {channel: webinars, source: [webinar]}
  - {channel: exhibitions, origin: [event]}
  - {channel: direct, source: [direct]}

utm:
  lowercase: true
  sources: [yandex, google, vk, telegram, newsletter, partner, exhibition, webinar, direct]
  mediums: [cpc, cpm, organic, email, referral, social, event, none]

attribution: {model: position_based, lookback_days: 90}
ltv: {max_lifetime_months: 60}
dedupe: {window_days: 30}
",
    );
    let calltouch_tz = if w.on(Defect::TimezoneMismatch) {
        "UTC"
    } else {
        TIMEZONE
    };
    let _ = write!(
        y,
        "
systems:
  - {{name: amoCRM, kind: crm, timezone: {TIMEZONE}}}
  - {{name: Яндекс Метрика, kind: web_analytics, timezone: {TIMEZONE}}}
  - {{name: Calltouch, kind: call_tracking, timezone: {calltouch_tz}}}
  - {{name: Яндекс Директ, kind: ads}}
  - {{name: Telegram Ads, kind: ads}}
  - {{name: Tilda, kind: forms}}
  - {{name: Unisender, kind: email}}
  - {{name: \"1С:Бухгалтерия\", kind: other}}
  - {{name: Yandex DataLens, kind: bi}}
"
    );
    y.push_str(
        "
integrations:
  - {from: Tilda, to: amoCRM, direction: one_way, carries: [leads]}
  - {from: Calltouch, to: amoCRM, direction: one_way, carries: [leads, calls]}
  - {from: amoCRM, to: Яндекс Метрика, direction: one_way, carries: [statuses, revenue]}
  - {from: \"1С:Бухгалтерия\", to: amoCRM, direction: one_way, carries: [payments]}
  - {from: amoCRM, to: Yandex DataLens, direction: one_way, carries: [leads, deals, payments]}

reports:
",
    );
    for r in reports(w) {
        let _ = writeln!(
            y,
            "  - {{name: \"{}\", covers: {}, refresh: {}, last_refreshed: {}, audience: {}}}",
            r.name, r.covers, r.refresh, r.last, r.audience
        );
    }
    y.push_str(
        "\nprocesses:\n  lead_handoff: automatic\n  shared_kpis: true\n  sla_agreed: true\n",
    );

    let overrides: Vec<&Layout> = layouts.iter().filter(|l| l.needs_override()).collect();
    if !overrides.is_empty() {
        y.push_str("\ntables:\n");
        for l in overrides {
            let mut parts = Vec::new();
            if !l.file.starts_with(l.table.as_str()) {
                parts.push(format!("path: {}", l.file));
            }
            if let FileFormat::Csv {
                delimiter,
                encoding,
                ..
            } = l.format
            {
                if encoding == Encoding::Windows1251 {
                    parts.push("encoding: windows-1251".to_string());
                }
                if delimiter != b',' {
                    let d = if delimiter == b'\t' {
                        "tab".to_string()
                    } else {
                        format!("\"{}\"", delimiter as char)
                    };
                    parts.push(format!("delimiter: {d}"));
                }
            }
            if l.naive_utc {
                parts.push("timezone: UTC".to_string());
            }
            let _ = writeln!(y, "  {}: {{{}}}", l.table, parts.join(", "));
        }
    }
    y
}

/// Record the manifest-level and channel-level defects in the report.
pub fn record_defects(w: &World, report: &mut DefectReport) {
    if w.on(Defect::StaleReport) {
        report.hit(Defect::StaleReport, || STALE_REPORT.to_string());
    }
    if w.on(Defect::MissingSqlDefinition) {
        report.hit(Defect::MissingSqlDefinition, || {
            "definitions.sql".to_string()
        });
    }
    if w.on(Defect::PaidWithoutSpend) {
        report.hit(Defect::PaidWithoutSpend, || {
            CHANNELS[super::company::GOOGLE].id.to_string()
        });
    }
    if w.on(Defect::SpendWithoutLeads) {
        report.hit(Defect::SpendWithoutLeads, || "vk_ads".to_string());
    }
    if w.on(Defect::TimezoneMismatch) {
        report.hit(Defect::TimezoneMismatch, || "Calltouch".to_string());
    }
}
