//! A lead's story, start to end: who wrote in and how, the marketing touches before,
//! the first response, qualification, the deal and its stages, and (if won) the customer.
//! Every lead draws from its own random stream (and its defect decisions from another,
//! always the same number of them), so switching a defect changes only the leads it hits.

use std::io;

use super::company::*;
use super::customer::{FirstDeal, NewCustomer};
use super::defects::Defect;
use super::format::TimeStyle;
use super::marketing::Arrival;
use super::rng::{Purpose, Rng};
use super::run::{id_cell, id_string, Gen, ACCOUNT_ID, CALL_ID, DEAL_ID, LEAD_ID};
use super::sink::Cell;
use super::world::{StageSpec, DAY, LOST, STAGES, WON};
use crate::snapshot::column::MONEY_SCALE;
use crate::snapshot::spec::TableName;

/// Forward probability from each stage but the last; from the last, the chance to win.
const FORWARD: [f64; 5] = [0.88, 0.74, 0.78, 0.66, 0.62];

/// Defect decisions of one lead: indexes into its block of uniforms.
mod dv {
    pub const NO_SOURCE: usize = 0;
    pub const NO_SOURCE_STYLE: usize = 1;
    pub const UTM: usize = 2;
    pub const UTM_VARIANT: usize = 3;
    pub const MANUAL: usize = 4;
    pub const DUP: usize = 5;
    pub const DUP_DELAY: usize = 6;
    pub const DUP_CONTACT: usize = 7;
    pub const DUP_ORIGIN: usize = 8;
    pub const LATE: usize = 9;
    pub const LATE_MINUTES: usize = 10;
    pub const UNANSWERED: usize = 11;
    pub const DELETED: usize = 12;
    pub const FUTURE: usize = 13;
    pub const CWL: usize = 14;
    pub const CWL_DELAY: usize = 15;
    pub const CWL_DURATION: usize = 16;
    pub const ABANDON: usize = 17;
    pub const ABANDON_STAGE: usize = 18;
    pub const BACK: usize = 19;
    pub const BACK_TARGET: usize = 20;
    pub const NO_AMOUNT: usize = 21;
    pub const N: usize = 24;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DealStatus {
    Open(usize),
    Won,
    Lost,
}

/// The UTM values a lead row carries.
#[derive(Debug, Clone, Copy, Default)]
struct Utm {
    source: &'static str,
    medium: &'static str,
    campaign: &'static str,
    term: &'static str,
    ad: Option<u64>,
}

/// Deal money: amount and gross profit in ten-thousandths (whole kopecks).
pub fn deal_money(rng: &mut Rng, product: usize, factor: f64) -> (i64, i64) {
    let p = &PRODUCTS[product];
    let rub = rng.lognormal(p.median_rub * factor, p.sigma);
    let amount_rub = ((rub / 100.0).round() * 100.0).max(1_000.0);
    let gp_rub = (amount_rub * p.margin * rng.uniform(0.85, 1.15) * 100.0).round() / 100.0;
    let scale = MONEY_SCALE as f64;
    ((amount_rub * scale) as i64, (gp_rub * scale).round() as i64)
}

impl Gen<'_> {
    pub fn lead(&mut self, a: &Arrival) -> io::Result<()> {
        let w = self.w;
        let mut rng = Rng::new(w.seed, Purpose::Lead, a.index);
        let d: [f64; dv::N] = Rng::new(w.seed, Purpose::LeadDefect, a.index).block();
        let person = Person::for_arrival(w.seed, a.index);
        let co = person.company;
        let c = a.channel;
        let ch = &economics(c, self.w.healthy());

        // Who and how (base draws, always in this order).
        let origin = *rng.pick_w(ch.origins);
        let source = *rng.pick_w(ch.sources);
        let campaign = match a.event {
            Some(e) => EVENTS[e].campaign,
            None if ch.campaigns.is_empty() => "",
            None => *rng.pick_w(ch.campaigns),
        };
        let ad = (ch.medium == "cpc" || c == TELEGRAM).then(|| rng.range(10_000, 99_999) as u64);
        let term = if campaign.starts_with("poisk") {
            *rng.pick(TERMS)
        } else {
            ""
        };
        let team = TEAMS[REGIONS[co.region].team];
        let owner = team[rng.below(team.len() as u64) as usize];
        let personal = rng.chance(0.15);
        let personal_domain = rng.below(6) as usize;
        let has_email = rng.chance(match origin {
            "call" => 0.35,
            "event" => 0.9,
            _ => 0.93,
        });
        let has_phone = !has_email
            || rng.chance(match origin {
                "call" => 1.0,
                "chat" => 0.5,
                "email" => 0.6,
                _ => 0.85,
            });
        let phone_style = rng.below(4) as usize;
        let response_s = rng.range(60, 14 * 60 + 59);

        let manual = w.on(Defect::ManualEntry)
            && d[dv::MANUAL]
                < match origin {
                    "event" => 0.85,
                    "call" => 0.15,
                    _ => 0.04,
                };
        // Typed-in leads carry whole minutes.
        let created = if manual {
            a.ts - a.ts.rem_euclid(60)
        } else {
            a.ts
        };
        let lead_no = self.ids.lead();

        let email = has_email.then_some(personal.then_some(personal_domain));
        let phone = has_phone.then_some(phone_style);
        self.fill_person(&person, email, phone);

        if w.on(Defect::FutureTimestamps) && d[dv::FUTURE] < 0.0015 {
            return self.future_lead(lead_no, created + 365 * DAY, &co, c);
        }

        // UTM as recorded.
        let no_source = w.on(Defect::MissingSource) && d[dv::NO_SOURCE] < 0.07;
        let bad_utm = !no_source && w.on(Defect::UtmViolations) && d[dv::UTM] < 0.08;
        let utm = if no_source {
            let s = if d[dv::NO_SOURCE_STYLE] < 0.3 {
                "(not set)"
            } else {
                ""
            };
            Utm {
                source: s,
                medium: s,
                ..Utm::default()
            }
        } else {
            let (source, medium) = if bad_utm {
                let v = utm_variants(c);
                v[(d[dv::UTM_VARIANT] * v.len() as f64) as usize]
            } else {
                (source, ch.medium)
            };
            Utm {
                source,
                medium,
                campaign,
                term,
                ad,
            }
        };

        // First response.
        let unanswered = w.on(Defect::UnansweredLeads) && d[dv::UNANSWERED] < 0.03;
        let mut resp = w.next_business(created, false) + response_s;
        if w.on(Defect::SlaBreaches) {
            // The team rests on public holidays the manifest's business hours do not know.
            let after_holidays = w.next_business(created, true);
            if after_holidays != w.next_business(created, false) {
                resp = after_holidays + response_s;
            }
            if d[dv::LATE] < 0.2 * OWNERS[owner].slowness {
                let minutes = 16 + (d[dv::LATE_MINUTES] * d[dv::LATE_MINUTES] * 1500.0) as i64;
                resp = w.add_business_minutes(created, minutes, true) + response_s % 60;
            }
            resp = resp.min(w.as_of - 60);
        }
        let resp = (!unanswered).then_some(resp);
        let breach = resp.is_some_and(|r| w.breaches_sla(created, r));
        debug_assert!(
            !breach || w.on(Defect::SlaBreaches),
            "an SLA breach without sla_breaches"
        );

        // Qualification.
        let quality = match co.segment {
            Segment::Enterprise => 1.1,
            Segment::Mid => 1.0,
            Segment::Smb => 0.85,
        } * if personal { 0.75 } else { 1.0 };
        let will_mql = rng.f64() < (ch.mql * quality).min(0.95);
        let will_sql = will_mql && rng.f64() < ch.sql;
        let mql_delay = 1200 + rng.exponential(1.2 * DAY as f64) as i64;
        let sql_delay = 3600 + rng.exponential(4.0 * DAY as f64) as i64;
        let disq_delay = 600 + rng.exponential(3.0 * DAY as f64) as i64;
        let lost_reason_i = rng.below(LEAD_LOST_REASONS.len() as u64) as usize;
        let deal_delay = rng.range(300, 7200);
        let in_time = |t: i64| (t <= w.as_of).then_some(t);
        let mql_at = resp
            .filter(|_| will_mql)
            .and_then(|r| in_time(r + mql_delay));
        let sql_at = mql_at
            .filter(|_| will_sql)
            .and_then(|m| in_time(m + sql_delay));
        let (disq_at, lost_reason) = match (resp, mql_at) {
            (Some(r), _) if !will_mql => {
                (in_time(r + disq_delay), LEAD_LOST_REASONS[lost_reason_i])
            }
            (_, Some(m)) if !will_sql => (
                in_time(m + 2 * disq_delay),
                DEAL_LOST_REASONS[lost_reason_i % 4 + 2],
            ),
            _ => (None, ""),
        };
        let deal_created = sql_at.and_then(|s| in_time(s + deal_delay));
        let deleted = deal_created.is_some() && w.on(Defect::OrphanDeals) && d[dv::DELETED] < 0.02;

        // The deal and, when won, the customer.
        let mut account = None;
        let mut status = match (resp, sql_at, disq_at, mql_at) {
            (None, ..) => "Новая заявка",
            (_, Some(_), ..) => "Передан в продажи",
            (_, _, Some(_), Some(_)) => "Закрыто и не реализовано",
            (_, _, Some(_), None) => "Некачественный лид",
            (_, _, None, Some(_)) => "Квалифицирован",
            _ => "В работе",
        };
        if let Some(dc) = deal_created {
            let factor = co.segment.deal_factor() * ch.deal;
            let product = rng.pick_weighted_product();
            let (amount, gp) = deal_money(&mut rng, product, factor);
            let deal_no = self.ids.deal();
            let (end, entered) = self.deal_path(deal_no, dc, ch.win.sqrt(), &mut rng, &d)?;
            let closed_at = match end {
                DealStatus::Open(_) => None,
                _ => Some(entered),
            };
            if end == DealStatus::Won {
                account = Some(self.ids.account());
                status = "Успешно реализовано";
            } else if end == DealStatus::Lost {
                status = "Закрыто и не реализовано";
            }
            let no_amount =
                end == DealStatus::Won && w.on(Defect::WonWithoutAmount) && d[dv::NO_AMOUNT] < 0.04;
            if no_amount {
                self.hit(Defect::WonWithoutAmount, || id_string(DEAL_ID, deal_no));
            }
            if deleted {
                self.hit(Defect::OrphanDeals, || id_string(DEAL_ID, deal_no));
            }
            let lost = if end == DealStatus::Lost {
                *rng.pick(DEAL_LOST_REASONS)
            } else {
                ""
            };
            let closed_style = if rng.chance(0.3) {
                TimeStyle::Naive
            } else {
                TimeStyle::Offset
            };
            self.deal_row(DealRow {
                no: deal_no,
                created: dc,
                lead: Some(lead_no),
                account,
                status: end,
                closed_at,
                closed_style,
                amount: (!no_amount).then_some(amount),
                gp: (!no_amount).then_some(gp),
                product,
                owner,
                lost_reason: lost,
            })?;
            if let (Some(acct), Some(closed)) = (account, closed_at) {
                if let Some(m) = w.period_month(closed) {
                    self.tally.won_deals[m] += 1;
                }
                let explicit = rng.chance(0.9);
                self.customer(
                    &NewCustomer {
                        account: acct,
                        acquired_at: closed,
                        explicit_acquired: explicit,
                        company: co,
                        owner,
                        first: Some(FirstDeal {
                            deal: deal_no,
                            amount,
                            gp,
                            product,
                            closed_at: closed,
                        }),
                        legacy_service: false,
                        story: a.index,
                    },
                    &mut rng,
                )?;
            }
        }
        if deleted {
            return Ok(());
        }

        if let Some(m) = w.period_month(created) {
            self.tally.leads[m] += 1;
            self.tally.channel_leads[c][m] += 1;
            if mql_at.is_some() {
                self.tally.mql[m] += 1;
            }
            if sql_at.is_some() {
                self.tally.sql[m] += 1;
            }
        }
        if breach {
            self.hit(Defect::SlaBreaches, || id_string(LEAD_ID, lead_no));
        }
        if unanswered {
            self.hit(Defect::UnansweredLeads, || id_string(LEAD_ID, lead_no));
        }
        if no_source {
            self.hit(Defect::MissingSource, || id_string(LEAD_ID, lead_no));
        }
        if bad_utm {
            self.hit(Defect::UtmViolations, || id_string(LEAD_ID, lead_no));
        }
        if manual {
            self.hit(Defect::ManualEntry, || id_string(LEAD_ID, lead_no));
        }
        let created_style = if manual {
            TimeStyle::Naive
        } else if origin == "call" {
            TimeStyle::Utc
        } else {
            TimeStyle::Offset
        };
        self.s.content.clear();
        if let Some(ad) = utm.ad {
            self.s.content.push_str("ad_");
            self.s.content.push_str(&ad.to_string());
        }
        let lead = LeadRow {
            no: lead_no,
            created,
            created_style,
            utm,
            account,
            owner: Some(owner),
            status,
            mql_at,
            sql_at,
            resp,
            disq_at,
            lost_reason,
            company: &co,
            origin,
            manual,
        };
        self.lead_row(&lead)?;

        let form_touch = (origin == "form" && !no_source).then_some((source, campaign));
        self.touches(lead_no, created, c, form_touch, &mut rng)?;
        if origin == "call" {
            self.lead_call(
                lead_no,
                created - rng.range(30, 150),
                &utm,
                rng.range(40, 900),
                &co,
            )?;
        }
        if origin == "call" && w.on(Defect::CallsWithoutLead) && d[dv::CWL] < 0.12 {
            let at = created + 3600 + (d[dv::CWL_DELAY] * 20.0 * DAY as f64) as i64;
            if w.period_month(at).is_some() || at < w.day_start(w.period_from) {
                let duration = 35 + (d[dv::CWL_DURATION] * 600.0) as i64;
                let id = self.ids.call();
                self.call_row(
                    id,
                    at,
                    &utm,
                    true,
                    duration,
                    None,
                    "целевой",
                    REGIONS[co.region].name,
                )?;
                self.hit(Defect::CallsWithoutLead, || id_string(CALL_ID, id));
            }
        }
        if w.on(Defect::DuplicateLeads) && d[dv::DUP] < 0.06 {
            let dup_at =
                created + 120 + (d[dv::DUP_DELAY] * d[dv::DUP_DELAY] * 20.0 * DAY as f64) as i64;
            if dup_at < w.day_start(w.period_to + 1) {
                let contact = Contact { email, phone };
                self.duplicate(&person, contact, dup_at, &d, c, campaign, source, owner)?;
            }
        }
        Ok(())
    }

    /// Write the person's contact details into the scratch buffers. `email`: None = no
    /// email, Some(None) = corporate, Some(Some(d)) = personal mailbox; `phone`: style.
    fn fill_person(&mut self, p: &Person, email: Option<Option<usize>>, phone: Option<usize>) {
        let s = &mut self.s;
        s.email.clear();
        s.phone.clear();
        s.contact.clear();
        s.company.clear();
        s.domain.clear();
        if let Some(personal) = email {
            p.write_email(personal, &mut s.email);
        }
        if let Some(style) = phone {
            p.write_phone(style, &mut s.phone);
        }
        p.write_contact(&mut s.contact);
        p.company.write_name(self.w.seed, &mut s.company);
        p.company.write_domain(&mut s.domain);
    }

    /// A lead typed in with the wrong year: created a year in the future, nothing after.
    fn future_lead(
        &mut self,
        no: u64,
        created: i64,
        co: &ClientCompany,
        c: usize,
    ) -> io::Result<()> {
        let manual = self.w.on(Defect::ManualEntry);
        let ch = &economics(c, self.w.healthy());
        self.hit(Defect::FutureTimestamps, || id_string(LEAD_ID, no));
        if manual {
            self.hit(Defect::ManualEntry, || id_string(LEAD_ID, no));
        }
        let lead = LeadRow {
            no,
            created,
            created_style: TimeStyle::Naive,
            utm: Utm {
                source: ch.sources[0].0,
                medium: ch.medium,
                ..Utm::default()
            },
            account: None,
            owner: None,
            status: "Новая заявка",
            mql_at: None,
            sql_at: None,
            resp: None,
            disq_at: None,
            lost_reason: "",
            company: co,
            origin: if manual { "manual" } else { ch.origins[0].0 },
            manual,
        };
        self.s.content.clear();
        self.lead_row(&lead)
    }

    /// The same person writing in again: another lead sharing the original's email
    /// and/or phone (the phone spelled differently, the email sometimes capitalized).
    #[allow(clippy::too_many_arguments)]
    fn duplicate(
        &mut self,
        person: &Person,
        original: Contact,
        created: i64,
        d: &[f64],
        c: usize,
        campaign: &'static str,
        source: &'static str,
        owner: usize,
    ) -> io::Result<()> {
        let w = self.w;
        let no = self.ids.lead();
        let x = d[dv::DUP_CONTACT];
        let (mut email, mut phone) = match x {
            x if x < 0.4 => (true, true),
            x if x < 0.7 => (false, true),
            _ => (true, false),
        };
        if original.email.is_none() {
            (email, phone) = (false, true);
        }
        if original.phone.is_none() {
            (email, phone) = (true, false);
        }
        let style = original.phone.map(|s| s + 1);
        self.fill_person(
            person,
            original.email.filter(|_| email),
            style.filter(|_| phone),
        );
        if (0.7..0.85).contains(&x) {
            if let Some(first) = self.s.email.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
        }
        let origin = if d[dv::DUP_ORIGIN] < 0.5 {
            "call"
        } else {
            "form"
        };
        let resp = w.next_business(created, false) + 60 + (d[dv::DUP_ORIGIN] * 600.0) as i64;
        let ch = &economics(c, self.w.healthy());
        let utm = Utm {
            source,
            medium: ch.medium,
            campaign,
            ..Utm::default()
        };
        let lead = LeadRow {
            no,
            created,
            created_style: if origin == "call" {
                TimeStyle::Utc
            } else {
                TimeStyle::Offset
            },
            utm,
            account: None,
            owner: Some(owner),
            status: "Дубль",
            mql_at: None,
            sql_at: None,
            resp: Some(resp),
            disq_at: Some(resp + 300),
            lost_reason: "Дубль",
            company: &person.company,
            origin,
            manual: false,
        };
        self.s.content.clear();
        self.lead_row(&lead)?;
        if origin == "call" {
            self.lead_call(no, created - 45, &utm, 95, &person.company)?;
        }
        if let Some(m) = w.period_month(created) {
            self.tally.leads[m] += 1;
            self.tally.channel_leads[c][m] += 1;
        }
        self.hit(Defect::DuplicateLeads, || id_string(LEAD_ID, no));
        Ok(())
    }

    /// Walk a deal through the funnel until it closes or `as_of` comes. Writes its stage
    /// changes; returns how it ended and when it entered its last stage (= closed_at for
    /// closed deals).
    fn deal_path(
        &mut self,
        no: u64,
        created: i64,
        step: f64,
        rng: &mut Rng,
        d: &[f64],
    ) -> io::Result<(DealStatus, i64)> {
        let w = self.w;
        let stuck_on = w.on(Defect::StuckDeals);
        let abandon =
            (stuck_on && d[dv::ABANDON] < 0.06).then(|| 1 + (d[dv::ABANDON_STAGE] * 4.0) as usize);
        let go_back = w.on(Defect::BackwardMoves) && d[dv::BACK] < 0.08;
        let back_to = if d[dv::BACK_TARGET] < 0.5 { 1 } else { 2 };
        let mut went_back = false;
        let mut stage = 0usize;
        let mut t = created;
        self.stage_change(no, None, STAGES[0].id, t, rng)?;
        let end = loop {
            if abandon == Some(stage) {
                break DealStatus::Open(stage);
            }
            let spec: &StageSpec = &STAGES[stage];
            // A healthy team moves deals along twice as fast, so leads of the period close in it.
            let pace = if w.healthy() { 0.5 } else { 1.0 };
            let typical = pace * spec.max_days * (0.1 + 0.8 * (rng.f64() + rng.f64()) / 2.0);
            let (tail, tail_len) = (rng.f64(), rng.f64());
            let days = if stuck_on && tail < 0.12 {
                spec.max_days * (1.0 + 2.0 * tail_len)
            } else {
                typical
            };
            let raw = t + (days * DAY as f64) as i64;
            // Stage changes happen in working time, unless that would overrun the stage.
            let limit = if stuck_on {
                f64::INFINITY
            } else {
                spec.max_days * 0.98
            };
            let next = w.in_working_time(raw, t, limit);
            if next > w.as_of {
                break DealStatus::Open(stage);
            }
            let last = stage == STAGES.len() - 1;
            let forward = rng.f64() < (FORWARD[stage] * step).min(if last { 0.95 } else { 0.97 });
            if forward && go_back && !went_back && stage >= 3 {
                went_back = true;
                self.stage_change(no, Some(STAGES[stage].id), STAGES[back_to].id, next, rng)?;
                self.hit(Defect::BackwardMoves, || id_string(DEAL_ID, no));
                stage = back_to;
                t = next;
                continue;
            }
            t = next;
            if !forward {
                self.stage_change(no, Some(STAGES[stage].id), LOST, t, rng)?;
                break DealStatus::Lost;
            }
            if last {
                self.stage_change(no, Some(STAGES[stage].id), WON, t, rng)?;
                break DealStatus::Won;
            }
            self.stage_change(no, Some(STAGES[stage].id), STAGES[stage + 1].id, t, rng)?;
            stage += 1;
        };
        if let DealStatus::Open(s) = end {
            if (w.as_of - t) as f64 > STAGES[s].max_days * DAY as f64 {
                debug_assert!(stuck_on, "a stuck deal without the stuck_deals defect");
                self.hit(Defect::StuckDeals, || id_string(DEAL_ID, no));
            }
        }
        Ok((end, t))
    }

    pub fn stage_change(
        &mut self,
        deal: u64,
        from: Option<&str>,
        to: &str,
        at: i64,
        rng: &mut Rng,
    ) -> io::Result<()> {
        let style = if rng.chance(0.8) {
            TimeStyle::Naive
        } else {
            TimeStyle::Offset
        };
        self.row(
            TableName::StageChanges,
            &[
                id_cell(DEAL_ID, deal),
                Cell::opt_str(from),
                Cell::Str(to),
                Cell::Time(at, style),
            ],
        )
    }

    pub fn deal_row(&mut self, r: DealRow) -> io::Result<()> {
        let (stage, status) = match r.status {
            DealStatus::Open(s) => (STAGES[s].id, "open"),
            DealStatus::Won => (WON, "won"),
            DealStatus::Lost => (LOST, "lost"),
        };
        let lost = if r.lost_reason.is_empty() {
            Cell::Null
        } else {
            Cell::Str(r.lost_reason)
        };
        self.row(
            TableName::Deals,
            &[
                id_cell(DEAL_ID, r.no),
                Cell::Time(r.created, TimeStyle::Offset),
                r.lead.map_or(Cell::Null, |l| id_cell(LEAD_ID, l)),
                r.account.map_or(Cell::Null, |a| id_cell(ACCOUNT_ID, a)),
                Cell::Str(stage),
                Cell::Str(status),
                Cell::time(r.closed_at, r.closed_style),
                r.amount.map_or(Cell::Null, Cell::Money),
                r.gp.map_or(Cell::Null, Cell::Money),
                Cell::Str(PRODUCTS[r.product].id),
                Cell::Str(OWNERS[r.owner].name),
                lost,
            ],
        )
    }

    fn lead_row(&mut self, l: &LeadRow<'_>) -> io::Result<()> {
        let co = l.company;
        let s = &self.s;
        let cells = [
            id_cell(LEAD_ID, l.no),
            Cell::Time(l.created, l.created_style),
            Cell::Str(l.utm.source),
            Cell::Str(l.utm.medium),
            Cell::Str(l.utm.campaign),
            str_or_null(&s.content),
            Cell::Str(l.utm.term),
            str_or_null(&s.email),
            str_or_null(&s.phone),
            Cell::Str(&s.contact),
            Cell::Str(&s.company),
            Cell::Str(&s.domain),
            l.account.map_or(Cell::Null, |a| id_cell(ACCOUNT_ID, a)),
            l.owner.map_or(Cell::Null, |o| Cell::Str(OWNERS[o].name)),
            Cell::Str(l.status),
            Cell::time(l.mql_at, TimeStyle::Naive),
            Cell::time(l.sql_at, TimeStyle::Naive),
            Cell::time(l.resp, TimeStyle::Offset),
            Cell::time(l.disq_at, TimeStyle::Naive),
            str_or_null(l.lost_reason),
            Cell::Str(co.segment.id()),
            Cell::Str(INDUSTRIES[co.industry].0),
            Cell::Int(co.size),
            Cell::Str(REGIONS[co.region].name),
            Cell::Str(l.origin),
            Cell::Str(if l.manual { "manual" } else { "integration" }),
        ];
        self.out.row(TableName::Leads, &cells)
    }

    /// Marketing touches before a lead: clicks and visits over the previous weeks, the
    /// lead's own channel among them, and for site forms the form submit itself.
    /// Marketing touches before a lead: clicks and visits over the previous weeks, the
    /// lead's own channel among them, and for site forms the form submit itself
    /// (`form`: the lead's clean source and campaign).
    fn touches(
        &mut self,
        lead: u64,
        created: i64,
        c: usize,
        form: Option<(&str, &str)>,
        rng: &mut Rng,
    ) -> io::Result<()> {
        const COUNTS: [f64; 7] = [0.15, 0.25, 0.25, 0.17, 0.10, 0.05, 0.03];
        // Channels that open journeys (and appear along them).
        const OPENERS: [(usize, f64); 7] = [
            (YANDEX, 0.30),
            (GOOGLE, 0.03),
            (ORGANIC, 0.25),
            (EMAIL, 0.08),
            (TELEGRAM, 0.12),
            (PARTNER, 0.04),
            (DIRECT, 0.18),
        ];
        let k = rng.weighted(&COUNTS);
        let mut times = [0i64; 6];
        for t in times.iter_mut().take(k) {
            *t = created - 300 - rng.exponential(12.0 * DAY as f64) as i64;
        }
        times[..k].sort_unstable();
        let site_channel = CHANNELS[c].site_cr > 0.0;
        for &at in &times[..k] {
            let mut tc = if site_channel && rng.chance(0.45) {
                c
            } else {
                *rng.pick_w(&OPENERS)
            };
            if tc == TELEGRAM && at < self.market.telegram_launch_ts {
                tc = ORGANIC;
            }
            let tch = &CHANNELS[tc];
            let source = *rng.pick_w(tch.sources);
            let campaign = if tch.campaigns.is_empty() {
                ""
            } else {
                *rng.pick_w(tch.campaigns)
            };
            let kind = match tc {
                YANDEX | GOOGLE | TELEGRAM => "click",
                EMAIL => "email",
                _ => "visit",
            };
            self.touch_row(lead, at, source, tch.medium, campaign, kind)?;
        }
        if let Some((source, campaign)) = form {
            let at = created - rng.range(5, 120);
            self.touch_row(lead, at, source, CHANNELS[c].medium, campaign, "form")?;
        }
        Ok(())
    }

    fn touch_row(
        &mut self,
        lead: u64,
        at: i64,
        source: &str,
        medium: &str,
        campaign: &str,
        kind: &str,
    ) -> io::Result<()> {
        self.row(
            TableName::Touches,
            &[
                id_cell(LEAD_ID, lead),
                Cell::Time(at, TimeStyle::Utc),
                Cell::Str(source),
                Cell::Str(medium),
                Cell::Str(campaign),
                Cell::Str(kind),
            ],
        )
    }

    fn lead_call(
        &mut self,
        lead: u64,
        at: i64,
        utm: &Utm,
        duration: i64,
        co: &ClientCompany,
    ) -> io::Result<()> {
        let id = self.ids.call();
        self.call_row(
            id,
            at,
            utm,
            true,
            duration,
            Some(lead),
            "целевой",
            REGIONS[co.region].name,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn call_row(
        &mut self,
        id: u64,
        at: i64,
        utm: &Utm,
        answered: bool,
        duration: i64,
        lead: Option<u64>,
        tag: &str,
        city: &str,
    ) -> io::Result<()> {
        self.row(
            TableName::Calls,
            &[
                id_cell(CALL_ID, id),
                Cell::Time(at, TimeStyle::Naive),
                Cell::Str(utm.source),
                Cell::Str(utm.medium),
                Cell::Str(utm.campaign),
                Cell::Bool(answered),
                Cell::Int(duration),
                lead.map_or(Cell::Null, |l| id_cell(LEAD_ID, l)),
                Cell::Str(tag),
                Cell::Str(city),
            ],
        )
    }
}

/// How the original lead of a duplicate could be reached: its email choice (corporate or
/// a personal mailbox) and phone spelling, when it had them.
#[derive(Debug, Clone, Copy)]
struct Contact {
    email: Option<Option<usize>>,
    phone: Option<usize>,
}

fn str_or_null(x: &str) -> Cell<'_> {
    if x.is_empty() {
        Cell::Null
    } else {
        Cell::Str(x)
    }
}

struct LeadRow<'a> {
    no: u64,
    created: i64,
    created_style: TimeStyle,
    utm: Utm,
    account: Option<u64>,
    owner: Option<usize>,
    status: &'static str,
    mql_at: Option<i64>,
    sql_at: Option<i64>,
    resp: Option<i64>,
    disq_at: Option<i64>,
    lost_reason: &'static str,
    company: &'a ClientCompany,
    origin: &'static str,
    manual: bool,
}

pub struct DealRow {
    pub no: u64,
    pub created: i64,
    pub lead: Option<u64>,
    pub account: Option<u64>,
    pub status: DealStatus,
    pub closed_at: Option<i64>,
    pub closed_style: TimeStyle,
    pub amount: Option<i64>,
    pub gp: Option<i64>,
    pub product: usize,
    pub owner: usize,
    pub lost_reason: &'static str,
}

impl Rng {
    /// A product for a first deal.
    pub fn pick_weighted_product(&mut self) -> usize {
        let u = self.f64();
        super::rng::pick_weighted_by(PRODUCTS.len(), |i| PRODUCTS[i].weight, u)
    }
}
