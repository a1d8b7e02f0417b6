//! The marketing side: how many leads arrive each day and from where, what the channels
//! cost (spend), what the site sees (traffic), the events calendar, calls that never
//! became leads, payments the CRM does not know, and the plan.
//!
//! Spend and traffic follow the *expected* lead rate of a channel, not the leads drawn,
//! the way a budget is set in advance: the realized CPL scatters around the channel's
//! target CPL as it does in a real account.

use std::io;

use super::company::*;
use super::defects::Defect;
use super::format::TimeStyle;
use super::rng::{Purpose, Rng};
use super::run::{id_cell, Gen, CALL_ID, EVENT_ID, FOREIGN_ACCOUNT_ID, PAYMENT_ID};
use super::sink::Cell;
use super::world::{day_of, weekday, World};
use crate::snapshot::column::MONEY_SCALE;
use crate::snapshot::spec::TableName;
use crate::snapshot::time::{date_from_days, days_from_date};

/// Leads per unit of scale over the whole horizon (scale 1 ≈ 2 000 leads).
pub const LEADS_PER_SCALE: f64 = 2000.0;
/// Telegram Ads were launched on this day.
const TELEGRAM_LAUNCH: &str = "2026-02-01";
/// VK Ads spend (the `spend_without_leads` defect) starts on this day.
const VK_START: &str = "2026-03-01";
/// Local hour-of-day profile of inbound leads.
const HOURS: [f64; 24] = [
    0.6, 0.4, 0.3, 0.3, 0.3, 0.5, 1.0, 2.0, 5.0, 9.0, 10.0, 10.0, 9.0, 8.0, 9.5, 9.5, 9.0, 7.0,
    4.5, 3.0, 2.5, 2.0, 1.5, 1.0,
];

/// A lead about to be created.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub ts: i64,
    pub channel: usize,
    /// Index into `EVENTS` for event leads.
    pub event: Option<usize>,
    /// The global arrival number: seeds the lead's story and names its person.
    pub index: u64,
}

/// An event at the generated scale.
#[derive(Debug, Clone)]
pub struct EventPlan {
    pub first_day: i32,
    pub registered: i64,
    pub attended: i64,
    pub target: i64,
    pub cost: i64,
    pub expected_leads: f64,
}

pub struct Market {
    /// Expected regular leads per unit of day weight × channel share.
    base: f64,
    pub events: Vec<EventPlan>,
    telegram_launch: i32,
    pub telegram_launch_ts: i64,
    vk_start: i32,
    /// Leads per channel so far this month: a channel that is paid for gets at least one
    /// lead a month, so even tiny scales have no spend without leads unless a defect says so.
    month_leads: [u64; 9],
}

fn money(rub: f64) -> i64 {
    // Whole kopecks.
    ((rub * 100.0).round() as i64) * (MONEY_SCALE / 100)
}

impl Market {
    pub fn new(w: &World) -> Market {
        let s = w.scale;
        let events: Vec<EventPlan> = EVENTS
            .iter()
            .map(|e| {
                let registered = ((e.registered * s).round() as i64).max(1);
                let attended = (registered as f64 * e.attended_share).round() as i64;
                let target = (attended as f64 * e.target_share).round() as i64;
                EventPlan {
                    first_day: day_of(e.date),
                    registered,
                    attended,
                    target,
                    cost: money(e.cost * s * event_cost_factor(e.online, w.healthy())),
                    expected_leads: target as f64
                        * e.lead_rate
                        * if w.healthy() && e.online { 2.0 } else { 1.0 },
                }
            })
            .collect();
        let mut m = Market {
            base: 0.0,
            events,
            telegram_launch: day_of(TELEGRAM_LAUNCH),
            telegram_launch_ts: w.day_start(day_of(TELEGRAM_LAUNCH)),
            vk_start: day_of(VK_START),
            month_leads: [0; 9],
        };
        let event_leads: f64 = m.events.iter().map(|e| e.expected_leads).sum();
        let regular = (LEADS_PER_SCALE * s - event_leads).max(0.5 * LEADS_PER_SCALE * s);
        let weight: f64 = (w.horizon_start..=w.period_to)
            .map(|d| {
                m.day_weight(w, d) * (0..CHANNELS.len()).map(|c| m.share(w, d, c)).sum::<f64>()
            })
            .sum();
        m.base = regular / weight;
        m
    }

    /// Seasonality of a day: weekends and holidays are quiet, the year-end too, and
    /// demand grows about 3% a month.
    fn day_weight(&self, w: &World, day: i32) -> f64 {
        let wd = match weekday(day) {
            5 => 0.3,
            6 => 0.22,
            _ => 1.0,
        };
        let holiday = if w.is_holiday(day) { 0.35 } else { 1.0 };
        let d = date_from_days(day);
        let year_end = if d.month() == 12 && d.day() >= 25 {
            0.8
        } else {
            1.0
        };
        let growth = 1.0 + 0.03 * (day - w.horizon_start) as f64 / 30.4375;
        wd * holiday * year_end * growth
    }

    /// A channel's share of regular leads on a day.
    fn share(&self, w: &World, day: i32, c: usize) -> f64 {
        let base = economics(c, w.healthy()).share;
        match c {
            TELEGRAM if day < self.telegram_launch => 0.0,
            // Ramps up over the first two months.
            TELEGRAM => base * (0.4 + 0.6 * ((day - self.telegram_launch) as f64 / 60.0).min(1.0)),
            // Google Ads fades (ads stopped in Russia; old tagged links keep working).
            GOOGLE => {
                base * (1.3
                    - 0.6 * (day - w.horizon_start) as f64 / (w.period_to - w.horizon_start) as f64)
            }
            _ => base,
        }
    }

    /// Expected regular leads of a channel on a day.
    pub fn lambda(&self, w: &World, day: i32, c: usize) -> f64 {
        self.base * self.day_weight(w, day) * self.share(w, day, c)
    }

    /// Expected regular leads of all channels on a day.
    pub fn lambda_all(&self, w: &World, day: i32) -> f64 {
        (0..CHANNELS.len()).map(|c| self.lambda(w, day, c)).sum()
    }

    pub fn vk_active(&self, w: &World, day: i32) -> bool {
        w.on(Defect::SpendWithoutLeads) && day >= self.vk_start
    }

    /// The leads created on `day`, in time order, numbered from `next_index`.
    pub fn arrivals(&mut self, w: &World, day: i32, next_index: &mut u64, out: &mut Vec<Arrival>) {
        out.clear();
        if date_from_days(day).day() == 1 {
            self.month_leads = [0; 9];
        }
        let mut rng = Rng::new(w.seed, Purpose::Arrivals, day as u64);
        let start = w.day_start(day);
        let noise = rng.uniform(0.85, 1.15);
        for c in 0..CHANNELS.len() {
            let lam = self.lambda(w, day, c) * noise;
            let n = (lam + rng.f64()) as u64;
            for _ in 0..n {
                let hour = rng.weighted(&HOURS) as i64;
                let ts = start + hour * 3600 + rng.range(0, 3599);
                out.push(Arrival {
                    ts,
                    channel: c,
                    event: None,
                    index: 0,
                });
            }
        }
        for (i, e) in self.events.iter().enumerate() {
            let spec = &EVENTS[i];
            if day < e.first_day || day >= e.first_day + spec.days as i32 {
                continue;
            }
            let lam = e.expected_leads / spec.days as f64 * rng.uniform(0.8, 1.2);
            // Every event yields at least one contact.
            let n = ((lam + rng.f64()) as u64).max((day == e.first_day) as u64);
            let (channel, from_h, to_h) = if spec.online {
                (WEBINARS, 13, 19)
            } else {
                (EXHIBITIONS, 10, 18)
            };
            for _ in 0..n {
                let ts = start + rng.range(from_h * 3600, to_h * 3600 - 1);
                out.push(Arrival {
                    ts,
                    channel,
                    event: Some(i),
                    index: 0,
                });
            }
        }
        let last_of_month = date_from_days(day + 1).day() == 1;
        for a in out.iter() {
            self.month_leads[a.channel] += 1;
        }
        for c in [YANDEX, GOOGLE, TELEGRAM, ORGANIC, EMAIL, PARTNER] {
            let u = rng.f64();
            if last_of_month && self.month_leads[c] == 0 && self.lambda(w, day, c) > 0.0 {
                let ts = start + 10 * 3600 + (u * 7.0 * 3600.0) as i64;
                out.push(Arrival {
                    ts,
                    channel: c,
                    event: None,
                    index: 0,
                });
            }
        }
        out.sort_by_key(|a| (a.ts, a.channel));
        for a in out.iter_mut() {
            a.index = *next_index;
            *next_index += 1;
        }
    }
}

/// Cost per click and click-through rate of the paid channels.
fn click_economics(c: usize, campaign: &str) -> (f64, f64) {
    match c {
        YANDEX if campaign.starts_with("rsya") => (38.0, 0.006),
        YANDEX => (95.0, 0.05),
        GOOGLE => (110.0, 0.04),
        TELEGRAM => (35.0, 0.012),
        _ => (25.0, 0.004),
    }
}

impl Gen<'_> {
    /// One spend row. `written`: the `channel` cell (None: left to the manifest's
    /// channel map).
    fn spend_row(
        &mut self,
        day: i32,
        written: Option<&str>,
        utm: (&str, &str, &str),
        amount: i64,
        clicks: Option<(i64, i64)>,
    ) -> io::Result<()> {
        if let Some(m) = self.w.period_month_of_day(day) {
            self.tally.spend[m] += amount;
        }
        let ch = Cell::opt_str(written);
        let (imp, clk) = match clicks {
            Some((i, c)) => (Cell::Int(i), Cell::Int(c)),
            None => (Cell::Null, Cell::Null),
        };
        self.row(
            TableName::Spend,
            &[
                Cell::Date(day),
                ch,
                Cell::Str(utm.0),
                Cell::Str(utm.1),
                Cell::Str(utm.2),
                Cell::Money(amount),
                imp,
                clk,
            ],
        )
    }

    /// Daily ad spend, monthly retainers and event costs of one day.
    pub fn spend_day(&mut self, day: i32) -> io::Result<()> {
        let w = self.w;
        let mut rng = Rng::new(w.seed, Purpose::Spend, day as u64);
        for c in [YANDEX, GOOGLE, TELEGRAM] {
            let ch = &economics(c, w.healthy());
            let lam = self.market.lambda(w, day, c);
            for &(campaign, share) in ch.campaigns {
                let noise = rng.uniform(0.85, 1.15);
                let ctr_noise = rng.uniform(0.8, 1.2);
                // Google Ads spend is not exported with `paid_without_spend`.
                if lam <= 0.0 || (c == GOOGLE && w.on(Defect::PaidWithoutSpend)) {
                    continue;
                }
                let rub = lam * ch.cpl * share * noise;
                let (cpc, ctr) = click_economics(c, campaign);
                let clicks = (rub / cpc).round() as i64;
                let impressions = (clicks as f64 / (ctr * ctr_noise)).round() as i64;
                // Yandex and Google rows leave `channel` to the manifest's channel map.
                let written = (c == TELEGRAM).then_some(ch.id);
                self.spend_row(
                    day,
                    written,
                    (ch.sources[0].0, ch.medium, campaign),
                    money(rub),
                    Some((impressions, clicks)),
                )?;
            }
        }
        let vk_noise = [rng.uniform(0.8, 1.2), rng.uniform(0.8, 1.2)];
        if self.market.vk_active(w, day) {
            for (i, campaign) in ["vk_retarget", "vk_lookalike"].into_iter().enumerate() {
                let rub = 1_800.0 * w.scale * vk_noise[i];
                let (cpc, ctr) = click_economics(usize::MAX, campaign);
                let clicks = (rub / cpc).round() as i64;
                self.spend_row(
                    day,
                    Some("vk_ads"),
                    ("vk", "cpc", campaign),
                    money(rub),
                    Some(((clicks as f64 / ctr).round() as i64, clicks)),
                )?;
            }
        }
        if date_from_days(day).day() == 1 {
            let month_leads = |c| 30.4 * self.market.lambda(w, day, c);
            let partner_bonus = 3_000.0 * month_leads(PARTNER);
            for (c, campaign, rub) in [
                (ORGANIC, "seo_retainer", 150_000.0 * w.scale),
                (EMAIL, "esp_and_content", 40_000.0 * w.scale),
                (PARTNER, "dealer_bonus", partner_bonus),
            ] {
                let rub = rub * rng.uniform(0.95, 1.05);
                self.spend_row(
                    day,
                    Some(CHANNELS[c].id),
                    ("", "", campaign),
                    money(rub),
                    None,
                )?;
            }
        }
        let costs: Vec<(usize, i64)> = (self.market.events.iter().enumerate())
            .filter(|(_, e)| e.first_day == day)
            .map(|(i, e)| (i, e.cost))
            .collect();
        for (i, cost) in costs {
            let spec = &EVENTS[i];
            let c = if spec.online { WEBINARS } else { EXHIBITIONS };
            let ch = &CHANNELS[c];
            self.spend_row(
                day,
                Some(ch.id),
                (ch.sources[0].0, ch.medium, spec.campaign),
                cost,
                None,
            )?;
        }
        Ok(())
    }

    /// Site visits of one day by source and medium.
    pub fn traffic_day(&mut self, day: i32) -> io::Result<()> {
        let w = self.w;
        let mut rng = Rng::new(w.seed, Purpose::Traffic, day as u64);
        for (c, ch) in CHANNELS.iter().enumerate() {
            if ch.site_cr <= 0.0 {
                continue;
            }
            let lam = self.market.lambda(w, day, c);
            for &(source, share) in ch.sources {
                let noise = rng.uniform(0.8, 1.2);
                let uniq = rng.uniform(0.78, 0.9);
                let visits = (lam * share / ch.site_cr * noise).round() as i64;
                if visits > 0 {
                    self.traffic_row(day, source, ch.medium, visits, uniq)?;
                }
            }
        }
        let noise = rng.uniform(0.8, 1.2);
        let uniq = rng.uniform(0.78, 0.9);
        if self.market.vk_active(w, day) {
            let visits = (140.0 * w.scale * noise).round() as i64;
            if visits > 0 {
                self.traffic_row(day, "vk", "cpc", visits, uniq)?;
            }
        }
        Ok(())
    }

    fn traffic_row(
        &mut self,
        day: i32,
        source: &str,
        medium: &str,
        visits: i64,
        uniq: f64,
    ) -> io::Result<()> {
        let unique = ((visits as f64 * uniq).round() as i64).max(1);
        self.row(
            TableName::Traffic,
            &[
                Cell::Date(day),
                Cell::Str(source),
                Cell::Str(medium),
                Cell::Int(visits),
                Cell::Int(unique),
            ],
        )
    }

    /// The events calendar.
    pub fn events(&mut self) -> io::Result<()> {
        for (i, spec) in EVENTS.iter().enumerate() {
            let e = self.market.events[i].clone();
            self.row(
                TableName::Events,
                &[
                    id_cell(EVENT_ID, i as u64 + 1),
                    Cell::Str(spec.name),
                    Cell::Str(spec.kind),
                    Cell::Str(if spec.online { "online" } else { "offline" }),
                    Cell::Date(e.first_day),
                    Cell::Money(e.cost),
                    Cell::Int(e.registered),
                    Cell::Int(e.attended),
                    Cell::Int(e.target),
                    Cell::Str(spec.city),
                ],
            )?;
        }
        Ok(())
    }

    /// Calls of one day that are not leads: spam, wrong numbers, missed calls.
    pub fn other_calls(&mut self, day: i32) -> io::Result<()> {
        let w = self.w;
        let mut rng = Rng::new(w.seed, Purpose::Calls, day as u64);
        let lam = 0.12 * self.market.lambda_all(w, day) * rng.uniform(0.7, 1.3);
        let n = (lam + rng.f64()) as u64;
        const SOURCES: [(&str, &str, &str); 3] = [
            ("yandex", "cpc", "poisk_nasosy"),
            ("yandex", "organic", ""),
            ("direct", "none", ""),
        ];
        let start = w.day_start(day);
        for _ in 0..n {
            let at = start + rng.range(8 * 3600, 20 * 3600);
            let answered = rng.chance(0.5);
            let duration = if answered { rng.range(4, 30) } else { 0 };
            let tag = if answered {
                *rng.pick(&["спам", "нецелевой", "ошибся номером"])
            } else {
                "пропущенный"
            };
            let (source, medium, campaign) = *rng.pick(&SOURCES);
            let city = REGIONS[rng.below(REGIONS.len() as u64) as usize].name;
            let id = self.ids.call();
            self.row(
                TableName::Calls,
                &[
                    id_cell(CALL_ID, id),
                    Cell::Time(at, TimeStyle::Naive),
                    Cell::Str(source),
                    Cell::Str(medium),
                    Cell::Str(campaign),
                    Cell::Bool(answered),
                    Cell::Int(duration),
                    Cell::Null,
                    Cell::Str(tag),
                    Cell::Str(city),
                ],
            )?;
        }
        Ok(())
    }

    /// Payments from the accounting system for accounts the CRM does not know.
    pub fn orphan_payments(&mut self) -> io::Result<()> {
        let w = self.w;
        if !w.on(Defect::OrphanPayments) {
            return Ok(());
        }
        let first = date_from_days(w.horizon_start);
        for m in 0..9u64 {
            let mut rng = Rng::new(w.seed, Purpose::Orphans, m);
            let month_start = first
                .checked_add(jiff::Span::new().months(m as i64))
                .expect("in range");
            let d0 = days_from_date(month_start);
            let n = (2.0 * w.scale * rng.uniform(0.5, 1.5) + rng.f64()) as u64;
            for _ in 0..n {
                let day = d0 + rng.range(0, 27) as i32;
                let paid =
                    w.next_business(w.day_start(day) + 10 * 3600, true) + rng.range(0, 6 * 3600);
                if paid > w.as_of {
                    continue;
                }
                let amount = money(rng.uniform(15_000.0, 300_000.0));
                let gp = money(amount as f64 / MONEY_SCALE as f64 * 0.4);
                let account = 10_000 + rng.below(90_000);
                let id = self.ids.payment();
                self.tally_revenue(paid, amount);
                self.row(
                    TableName::Payments,
                    &[
                        id_cell(PAYMENT_ID, id),
                        id_cell(FOREIGN_ACCOUNT_ID, account),
                        Cell::Null,
                        Cell::Time(paid, TimeStyle::Naive),
                        Cell::Money(amount),
                        Cell::Money(gp),
                    ],
                )?;
                self.hit(Defect::OrphanPayments, || {
                    super::run::id_string(PAYMENT_ID, id)
                });
            }
        }
        Ok(())
    }

    pub fn tally_revenue(&mut self, paid: i64, amount: i64) {
        if let Some(m) = self.w.period_month(paid) {
            self.tally.revenue[m] += amount;
        }
    }

    /// Monthly and quarterly targets, set the way a plan is: last numbers times ambition.
    /// Some months beat it, most miss it.
    pub fn plan(&mut self) -> io::Result<()> {
        let w = self.w;
        let mut rng = Rng::new(w.seed, Purpose::Plan, 0);
        let t = &self.tally;
        let round_to = |v: f64, step: f64| ((v / step).round() * step).max(step);
        let rub = |v: i64| v as f64 / MONEY_SCALE as f64;
        let money_step = (10_000.0 * w.scale).max(1_000.0);
        let mut rows: Vec<(String, &'static str, Option<&'static str>, f64)> = Vec::new();
        for m in 0..6 {
            let period = format!("2026-{:02}", m + 1);
            // A healthy company's plan is within a few percent of what it achieves.
            let (lo, hi) = if w.healthy() {
                (0.93, 1.07)
            } else {
                (0.88, 1.3)
            };
            let mut f = || rng.uniform(lo, hi);
            rows.push((
                period.clone(),
                "leads",
                None,
                round_to(t.leads[m] as f64 * f(), 1.0),
            ));
            rows.push((
                period.clone(),
                "mql",
                None,
                round_to(t.mql[m] as f64 * f(), 1.0),
            ));
            rows.push((
                period.clone(),
                "sql",
                None,
                round_to(t.sql[m] as f64 * f(), 1.0),
            ));
            rows.push((
                period.clone(),
                "won_deals",
                None,
                round_to(t.won_deals[m] as f64 * f(), 1.0),
            ));
            rows.push((
                period.clone(),
                "new_customers",
                None,
                round_to(t.new_customers[m] as f64 * f(), 1.0),
            ));
            rows.push((
                period.clone(),
                "revenue",
                None,
                round_to(rub(t.revenue[m]) * f(), money_step),
            ));
            // The budget: spend is planned a little above what is spent.
            rows.push((
                period.clone(),
                "spend",
                None,
                round_to(rub(t.spend[m]) * rng.uniform(0.95, 1.1), money_step),
            ));
            for c in [YANDEX, ORGANIC, TELEGRAM] {
                let leads = t.channel_leads[c][m] as f64;
                if leads > 0.0 {
                    rows.push((
                        period.clone(),
                        "leads",
                        Some(CHANNELS[c].id),
                        round_to(leads * rng.uniform(lo.max(0.9), hi.min(1.25)), 1.0),
                    ));
                }
            }
            rows.push((
                period.clone(),
                "cpl",
                Some("yandex_direct"),
                round_to(CHANNELS[YANDEX].cpl * rng.uniform(0.85, 1.0), 50.0),
            ));
        }
        let (qlo, qhi) = if w.healthy() {
            (0.93, 1.07)
        } else {
            (0.9, 1.25)
        };
        for q in 0..2 {
            let period = format!("2026-Q{}", q + 1);
            let rev: i64 = t.revenue[q * 3..q * 3 + 3].iter().sum();
            let won: u64 = t.won_deals[q * 3..q * 3 + 3].iter().sum();
            rows.push((
                period.clone(),
                "revenue",
                None,
                round_to(rub(rev) * rng.uniform(qlo, qhi), money_step),
            ));
            rows.push((
                period.clone(),
                "won_deals",
                None,
                round_to(won as f64 * rng.uniform(qlo, qhi), 1.0),
            ));
            rows.push((period.clone(), "romi", None, 1.5));
            rows.push((period.clone(), "ltv_cac", None, 3.0));
            if w.healthy() {
                // Every goal's KPIs have a target (goals.kpis-planned).
                for (metric, target) in [
                    ("cost_per_sql", 25_000.0),
                    ("lead_to_won", 0.08),
                    ("sales_cycle_days", 60.0),
                    ("sla_breach_share", 0.05),
                ] {
                    rows.push((period.clone(), metric, None, target));
                }
            }
        }
        for (period, metric, channel, target) in rows {
            self.row(
                TableName::Plan,
                &[
                    Cell::Str(&period),
                    Cell::Str(metric),
                    Cell::opt_str(channel),
                    Cell::Num(target),
                ],
            )?;
        }
        Ok(())
    }
}
