//! A customer's life after the first won deal: how it pays (by the product's payment
//! schedule), service contracts and repeat orders, NPS answers and, for some, churn.
//! Customers who bought before the CRM existed ("legacy", imported with their acquisition
//! date and no leads) live the same life from the start of the horizon.

use std::io;

use super::company::*;
use super::defects::Defect;
use super::format::TimeStyle;
use super::rng::{self, Purpose, Rng};
use super::run::{id_cell, id_string, Gen, ACCOUNT_ID, PAYMENT_ID};
use super::sink::Cell;
use super::story::{deal_money, DealRow, DealStatus};
use super::world::{day_of, DAY, LOST, STAGES, WON};
use crate::snapshot::column::MONEY_SCALE;
use crate::snapshot::spec::TableName;
use crate::snapshot::time::{date_from_days, days_from_date};

/// Customers already paying when the CRM started, per unit of scale.
const LEGACY_PER_SCALE: f64 = 180.0;
const MONTH: f64 = 30.4375 * DAY as f64;

#[derive(Debug, Clone, Copy)]
pub struct FirstDeal {
    pub deal: u64,
    pub amount: i64,
    pub gp: i64,
    pub product: usize,
    pub closed_at: i64,
}

pub struct NewCustomer {
    pub account: u64,
    pub acquired_at: i64,
    /// Whether `acquired_at` is written (else left empty: the first won deal's close).
    pub explicit_acquired: bool,
    pub company: ClientCompany,
    pub owner: usize,
    pub first: Option<FirstDeal>,
    /// A service contract from before the CRM, paid monthly without a deal id.
    pub legacy_service: bool,
    /// The story's index, for the customer's own stream of future-payment decisions.
    pub story: u64,
}

const NPS_BAD: &[&str] = &[
    "Долгие сроки поставки",
    "Дорогие запчасти",
    "Сложно дозвониться до сервиса",
    "Были проблемы с пусконаладкой",
];
const NPS_GOOD: &[&str] = &[
    "Надёжное оборудование, быстрый сервис",
    "Хорошая техническая поддержка",
    "Помогли с подбором, рекомендуем",
];

fn kopecks(rub: f64) -> i64 {
    (rub * 100.0).round() as i64 * (MONEY_SCALE / 100)
}

impl Gen<'_> {
    pub fn customer(&mut self, c: &NewCustomer, rng: &mut Rng) -> io::Result<()> {
        let w = self.w;
        let seg = c.company.segment;
        let horizon = w.day_start(w.horizon_start);
        // Churn: a constant monthly hazard, i.e. a geometric lifetime in months.
        // A healthy company keeps its customers longer (churn under the pack's 3% a month).
        let p = seg.churn_monthly() * if self.w.healthy() { 0.6 } else { 1.0 };
        let months = rng::ln(1.0 - rng.f64()) / rng::ln(1.0 - p);
        let churn_at = c.acquired_at + (months * MONTH) as i64;
        let churned = (churn_at <= w.as_of).then_some(churn_at);
        let end = churned.unwrap_or(w.as_of).min(w.as_of);
        // Defect decisions of the customer's life, on their own stream (see story.rs).
        let mut fut = Rng::new(w.seed, Purpose::CustomerDefect, c.story);

        self.s.customer.clear();
        c.company.write_name(w.seed, &mut self.s.customer);
        let acquired = if c.explicit_acquired {
            Cell::Time(c.acquired_at, TimeStyle::Offset)
        } else {
            Cell::Null
        };
        self.out.row(
            TableName::Customers,
            &[
                id_cell(ACCOUNT_ID, c.account),
                Cell::Str(&self.s.customer),
                Cell::Str(seg.id()),
                Cell::Str(INDUSTRIES[c.company.industry].0),
                Cell::Int(c.company.size),
                Cell::Str(REGIONS[c.company.region].name),
                acquired,
                Cell::time(churned, TimeStyle::Naive),
            ],
        )?;
        if let Some(m) = w.period_month(c.acquired_at) {
            self.tally.new_customers[m] += 1;
        }

        if let Some(f) = c.first {
            self.pay_schedule(
                c.account,
                Some(f.deal),
                f.product,
                f.amount,
                f.gp,
                f.closed_at,
                end,
                rng,
                &mut fut,
            )?;
            // Equipment buyers often sign a service contract within weeks.
            if f.product != SERVICE && rng.chance(0.3) {
                let created = w.next_business(c.acquired_at + rng.range(10, 45) * DAY, true);
                let (amount, gp) = deal_money(rng, SERVICE, seg.deal_factor() * 0.6);
                if created > end {
                    // Not signed (yet, or the customer left first).
                } else if let Some((deal, closed)) = self.quick_deal(
                    c.account, c.owner, SERVICE, amount, gp, created, rng, &mut fut,
                )? {
                    self.pay_schedule(
                        c.account,
                        Some(deal),
                        SERVICE,
                        amount,
                        gp,
                        closed,
                        end,
                        rng,
                        &mut fut,
                    )?;
                }
            }
        }
        if c.legacy_service {
            let fee = kopecks(
                (rng.lognormal(70_000.0 * seg.deal_factor(), 0.3) / 1000.0).round() * 1000.0,
            );
            let gp = kopecks(fee as f64 / MONEY_SCALE as f64 * 0.55);
            let mut t = horizon + rng.range(3, 10) * DAY;
            while t <= end {
                let paid = w.next_business(t, true) + rng.range(0, 5 * 3600);
                self.payment(c.account, None, paid, fee, gp, &mut fut)?;
                t += MONTH as i64;
            }
        }

        // Repeat orders: spare parts and smaller equipment, month by month.
        let start = (c.acquired_at + 30 * DAY).max(horizon);
        let mut month = first_of_month(w.day_of_ts(start));
        while w.day_start(month) <= end {
            let hit = rng.f64() < seg.repeat_monthly();
            let offset = rng.range(0, 27) as i32;
            let secs = rng.range(0, 8 * 3600);
            let product = *rng.pick_w(&[(SPARE_PARTS, 0.7), (1, 0.2), (0, 0.1)]);
            let factor = seg.deal_factor() * if product == SPARE_PARTS { 1.0 } else { 0.35 };
            let (amount, gp) = deal_money(rng, product, factor);
            let created = w.next_business(w.day_start(month + offset) + 9 * 3600 + secs, true);
            if hit && created >= start && created <= end {
                if let Some((deal, closed)) = self.quick_deal(
                    c.account, c.owner, product, amount, gp, created, rng, &mut fut,
                )? {
                    self.pay_schedule(
                        c.account,
                        Some(deal),
                        SPARE_PARTS,
                        amount,
                        gp,
                        closed,
                        end,
                        rng,
                        &mut fut,
                    )?;
                }
            }
            month = next_month(month);
        }

        // NPS: a survey about every quarter; about a third answer.
        let mood = match seg {
            Segment::Enterprise => 0.84,
            Segment::Mid => 0.81,
            Segment::Smb => 0.75,
        } + if self.w.healthy() { 0.1 } else { 0.0 }
            + 0.13 * rng.normal();
        let mut t = c.acquired_at + rng.range(45, 75) * DAY;
        while t <= end {
            let answers = rng.chance(0.35);
            let noise = rng.normal();
            let comment_i = rng.below(4) as usize;
            if answers && t >= horizon {
                let score = (mood * 10.0 + 1.3 * noise).round().clamp(0.0, 10.0) as i64;
                let comment = match score {
                    0..=6 => Cell::Str(NPS_BAD[comment_i % NPS_BAD.len()]),
                    9..=10 if comment_i < 2 => Cell::Str(NPS_GOOD[comment_i]),
                    _ => Cell::Null,
                };
                self.row(
                    TableName::Nps,
                    &[
                        id_cell(ACCOUNT_ID, c.account),
                        Cell::Time(t, TimeStyle::Utc),
                        Cell::Int(score),
                        comment,
                    ],
                )?;
            }
            t += rng.range(85, 100) * DAY + rng.range(0, DAY - 1);
        }
        Ok(())
    }

    /// A deal with an existing customer: new, then a proposal, then won or lost within
    /// weeks (never longer than the stages allow). Returns the deal and its close if won.
    #[allow(clippy::too_many_arguments)]
    fn quick_deal(
        &mut self,
        account: u64,
        owner: usize,
        product: usize,
        amount: i64,
        gp: i64,
        created: i64,
        rng: &mut Rng,
        drng: &mut Rng,
    ) -> io::Result<Option<(u64, i64)>> {
        let w = self.w;
        let no = self.ids.deal();
        let t1 = w.in_working_time(created + rng.range(DAY / 3, 2 * DAY), created, 2.9);
        let t2 = w.in_working_time(t1 + rng.range(2 * DAY, 25 * DAY), t1, 29.0);
        let won = rng.chance(0.85);
        let lost_reason = *rng.pick(DEAL_LOST_REASONS);
        self.stage_change(no, None, STAGES[0].id, created, rng)?;
        let (status, closed_at) = if t1 > w.as_of {
            (DealStatus::Open(0), None)
        } else {
            self.stage_change(no, Some(STAGES[0].id), STAGES[3].id, t1, rng)?;
            if t2 > w.as_of {
                (DealStatus::Open(3), None)
            } else {
                self.stage_change(
                    no,
                    Some(STAGES[3].id),
                    if won { WON } else { LOST },
                    t2,
                    rng,
                )?;
                (
                    if won {
                        DealStatus::Won
                    } else {
                        DealStatus::Lost
                    },
                    Some(t2),
                )
            }
        };
        // Small repeat orders are where amounts get forgotten.
        let no_amount =
            status == DealStatus::Won && drng.f64() < 0.05 && w.on(Defect::WonWithoutAmount);
        if no_amount {
            self.hit(Defect::WonWithoutAmount, || {
                id_string(super::run::DEAL_ID, no)
            });
        }
        self.deal_row(DealRow {
            no,
            created,
            lead: None,
            account: Some(account),
            status,
            closed_at,
            closed_style: TimeStyle::Offset,
            amount: (!no_amount).then_some(amount),
            gp: (!no_amount).then_some(gp),
            product,
            owner,
            lost_reason: if status == DealStatus::Lost {
                lost_reason
            } else {
                ""
            },
        })?;
        if status == DealStatus::Won {
            if let Some(m) = w.period_month(t2) {
                self.tally.won_deals[m] += 1;
            }
            return Ok(Some((no, t2)));
        }
        Ok(None)
    }

    /// The payments of a won deal by its product's schedule; a service contract stops at
    /// `end` (churn or as_of). Amounts are split exactly: the parts sum to the deal.
    #[allow(clippy::too_many_arguments)]
    fn pay_schedule(
        &mut self,
        account: u64,
        deal: Option<u64>,
        product: usize,
        amount: i64,
        gp: i64,
        from: i64,
        end: i64,
        rng: &mut Rng,
        fut: &mut Rng,
    ) -> io::Result<()> {
        let mut parts: [(f64, i64); 12] = [(0.0, 0); 12];
        let n = match PRODUCTS[product].schedule {
            Schedule::HalfHalf => {
                parts[0] = (0.5, rng.range(DAY, 7 * DAY));
                parts[1] = (0.5, rng.range(30 * DAY, 90 * DAY));
                2
            }
            Schedule::ThreeStage => {
                parts[0] = (0.3, rng.range(DAY, 7 * DAY));
                parts[1] = (0.4, rng.range(45 * DAY, 100 * DAY));
                parts[2] = (0.3, rng.range(100 * DAY, 160 * DAY));
                3
            }
            Schedule::Monthly12 => {
                for (i, p) in parts.iter_mut().enumerate() {
                    *p = (1.0 / 12.0, 5 * DAY + (i as f64 * MONTH) as i64);
                }
                12
            }
            Schedule::Full => {
                parts[0] = (1.0, rng.range(3 * DAY, 20 * DAY));
                1
            }
        };
        let monthly = PRODUCTS[product].schedule == Schedule::Monthly12;
        let (mut paid_amount, mut paid_gp) = (0i64, 0i64);
        for (i, &(share, offset)) in parts[..n].iter().enumerate() {
            let (a, g) = if i + 1 == n {
                (amount - paid_amount, gp - paid_gp)
            } else {
                (kopeck_share(amount, share), kopeck_share(gp, share))
            };
            paid_amount += a;
            paid_gp += g;
            let t = self.w.next_business(from + offset, true) + rng.range(0, 5 * 3600);
            if monthly && t > end && end < self.w.as_of {
                break;
            }
            self.payment(account, deal, t, a, g, fut)?;
        }
        Ok(())
    }

    /// One payment. Payments after as_of have not happened yet and are left out, except
    /// that with `future_timestamps` about one in ten scheduled ones is exported as paid.
    fn payment(
        &mut self,
        account: u64,
        deal: Option<u64>,
        t: i64,
        amount: i64,
        gp: i64,
        fut: &mut Rng,
    ) -> io::Result<()> {
        let w = self.w;
        if t > w.as_of {
            let leak = fut.f64() < 0.1;
            if !(leak && w.on(Defect::FutureTimestamps) && t <= w.as_of + 60 * DAY) {
                return Ok(());
            }
        }
        let id = self.ids.payment();
        if t > w.as_of {
            self.hit(Defect::FutureTimestamps, || id_string(PAYMENT_ID, id));
        }
        self.tally_revenue(t, amount);
        // The accounting export writes naive local times; a fifth come through the bank API.
        let style = if id.is_multiple_of(5) {
            TimeStyle::Offset
        } else {
            TimeStyle::Naive
        };
        self.row(
            TableName::Payments,
            &[
                id_cell(PAYMENT_ID, id),
                id_cell(ACCOUNT_ID, account),
                deal.map_or(Cell::Null, |d| id_cell(super::run::DEAL_ID, d)),
                Cell::Time(t, style),
                Cell::Money(amount),
                Cell::Money(gp),
            ],
        )
    }

    /// Customers from before the CRM: acquired 2021–2025, imported without leads.
    pub fn legacy_customers(&mut self) -> io::Result<()> {
        let w = self.w;
        let n = (LEGACY_PER_SCALE * w.scale).round().max(1.0) as u64;
        let (from, to) = (day_of("2021-01-11"), day_of("2025-09-30"));
        for i in 0..n {
            let mut rng = Rng::new(w.seed, Purpose::Legacy, i);
            let company = ClientCompany::new(w.seed, rng.below(COMPANIES));
            let day = from + rng.below((to - from + 1) as u64) as i32;
            let acquired =
                w.next_business(w.day_start(day) + 10 * 3600, false) + rng.range(0, 6 * 3600);
            let team = TEAMS[REGIONS[company.region].team];
            let owner = team[rng.below(team.len() as u64) as usize];
            let legacy_service = rng.chance(0.4);
            let account = self.ids.account();
            self.customer(
                &NewCustomer {
                    account,
                    acquired_at: acquired,
                    explicit_acquired: true,
                    company,
                    owner,
                    first: None,
                    legacy_service,
                    story: 1 << 40 | i,
                },
                &mut rng,
            )?;
        }
        Ok(())
    }
}

/// `share` of a money amount, in whole kopecks.
fn kopeck_share(v: i64, share: f64) -> i64 {
    let k = MONEY_SCALE / 100;
    ((v / k) as f64 * share).round() as i64 * k
}

fn first_of_month(day: i32) -> i32 {
    let d = date_from_days(day);
    days_from_date(d.first_of_month())
}

fn next_month(first: i32) -> i32 {
    let d = date_from_days(first);
    days_from_date(d.last_of_month()) + 1
}
