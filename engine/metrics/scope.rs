//! Scopes: the whole window and every group of every breakdown, numbered, so one pass over
//! a table adds each row to all the scopes it belongs to (group-bys in a single pass).
//!
//! A scope is a time window plus at most one static filter (a channel, a segment, an owner
//! or a product). Month and quarter groups are pure windows (the month ∩ the period); plan
//! rows that name a channel get month × channel scopes, used for plan attainment only.
//! A row belongs to the scopes whose filter it matches; an event of that row (a lead's
//! `created_at`, a payment's `paid_at`) counts in those of them whose window holds it.

use crate::snapshot::time::{self, date_from_days, days_from_date};
use crate::snapshot::Snapshot;

use super::By;

/// Sentinel for "no scope" / "no dimension value".
pub const NONE: u32 = u32::MAX;

/// A half-open span of instants and the inclusive local days it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: i64,
    pub end: i64,
    pub days: (i32, i32),
}

impl Window {
    /// The snapshot's audit period.
    pub fn period(snap: &Snapshot) -> Window {
        Window {
            start: snap.period_start,
            end: snap.period_end,
            days: snap.period_days,
        }
    }
    /// The window of local days `from..=to`.
    pub fn of_days(snap: &Snapshot, from: i32, to: i32) -> Window {
        Window {
            start: snap.clock.day_start(from),
            end: snap.clock.day_start(to + 1),
            days: (from, to),
        }
    }
    /// The window of equal length (in days) that ends where this one starts.
    pub fn previous(&self, snap: &Snapshot) -> Window {
        let len = self.days.1 - self.days.0 + 1;
        Window::of_days(snap, self.days.0 - len, self.days.0 - 1)
    }
    #[inline]
    pub fn contains(&self, ts: i64) -> bool {
        ts >= self.start && ts < self.end
    }
    #[inline]
    pub fn contains_day(&self, day: i32) -> bool {
        day >= self.days.0 && day <= self.days.1
    }
    /// Seconds of `[a, b)` inside the window.
    pub fn overlap(&self, a: i64, b: i64) -> i64 {
        (b.min(self.end) - a.max(self.start)).max(0)
    }
    fn intersect(&self, other: &Window) -> Option<Window> {
        let days = (self.days.0.max(other.days.0), self.days.1.min(other.days.1));
        (days.0 <= days.1).then(|| Window {
            start: self.start.max(other.start),
            end: self.end.min(other.end),
            days,
        })
    }
    pub fn label(&self) -> (String, String) {
        (time::format_day(self.days.0), time::format_day(self.days.1))
    }
}

/// The static filter of a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    All,
    Channel(u32),
    Segment(u32),
    Owner(u32),
    Product(u32),
}

#[derive(Debug, Clone)]
pub struct Scope {
    pub window: Window,
    pub filter: Filter,
    /// The breakdown and group key this scope reports as (`None` for the whole window and
    /// for internal month × channel scopes).
    pub by: Option<(By, String)>,
    /// For month × channel scopes: (period key, channel id).
    pub cross: Option<(String, u32)>,
}

/// Dimension values shared by all tables (channel names from leads, spend and traffic map
/// to one id). Id 0 is `(none)`.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    pub names: Vec<String>,
    map: std::collections::HashMap<String, u32>,
}

impl Interner {
    pub fn new() -> Self {
        let mut i = Interner::default();
        i.id(crate::snapshot::derive::NO_CHANNEL);
        i
    }
    pub fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.map.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.map.insert(name.to_string(), id);
        id
    }
    pub fn get(&self, name: &str) -> Option<u32> {
        self.map.get(name).copied()
    }
    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
    pub fn len(&self) -> usize {
        self.names.len()
    }
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// A row's static attributes. `channels` carries attribution credits for customer-level
/// rows (weights summing to 1); every other row has one channel of weight 1.
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    pub channels: &'a [(u32, f64)],
    pub segment: u32,
    pub owner: u32,
    pub product: u32,
}

impl Key<'_> {
    pub const EMPTY: Key<'static> = Key {
        channels: &[],
        segment: NONE,
        owner: NONE,
        product: NONE,
    };
}

#[derive(Debug, Clone)]
pub struct Scopes {
    pub list: Vec<Scope>,
    /// Scopes with no static filter: the whole window, months, quarters.
    common: Vec<u32>,
    by_channel: Vec<Vec<u32>>,
    by_segment: Vec<u32>,
    by_owner: Vec<u32>,
    by_product: Vec<u32>,
}

/// What the scopes are built from.
pub struct ScopeSpec<'a> {
    pub window: Window,
    pub dims: &'a [By],
    pub channels: &'a Interner,
    pub segments: &'a Interner,
    pub owners: &'a Interner,
    pub products: &'a Interner,
    /// Plan periods (`2026-03`, `2026-Q1`) with the channels planned for them.
    pub plan_cross: &'a [(String, u32)],
}

impl Scopes {
    pub fn build(snap: &Snapshot, spec: &ScopeSpec) -> Scopes {
        let w = spec.window;
        let mut list = vec![Scope {
            window: w,
            filter: Filter::All,
            by: None,
            cross: None,
        }];
        let mut common = vec![0u32];
        let push = |list: &mut Vec<Scope>, s: Scope| {
            list.push(s);
            (list.len() - 1) as u32
        };
        let has = |b: By| spec.dims.contains(&b);
        for (by, spans) in [(By::Month, months(w)), (By::Quarter, quarters(w))] {
            if !has(by) {
                continue;
            }
            for (key, from, to) in spans {
                let sub = Window::of_days(snap, from, to);
                if let Some(win) = sub.intersect(&w) {
                    let id = push(
                        &mut list,
                        Scope {
                            window: win,
                            filter: Filter::All,
                            by: Some((by, key)),
                            cross: None,
                        },
                    );
                    common.push(id);
                }
            }
        }
        let mut by_channel = vec![Vec::new(); spec.channels.len()];
        if has(By::Channel) {
            for (c, list_c) in by_channel.iter_mut().enumerate() {
                let id = push(
                    &mut list,
                    Scope {
                        window: w,
                        filter: Filter::Channel(c as u32),
                        by: Some((By::Channel, spec.channels.name(c as u32).to_string())),
                        cross: None,
                    },
                );
                list_c.push(id);
            }
        }
        for (period, channel) in spec.plan_cross {
            let Some(pw) = plan_window(snap, period).and_then(|p| p.intersect(&w)) else {
                continue;
            };
            let id = push(
                &mut list,
                Scope {
                    window: pw,
                    filter: Filter::Channel(*channel),
                    by: None,
                    cross: Some((period.clone(), *channel)),
                },
            );
            by_channel[*channel as usize].push(id);
        }
        let mut dim = |by: By, names: &Interner, f: fn(u32) -> Filter| -> Vec<u32> {
            if !has(by) {
                return vec![NONE; names.len()];
            }
            (0..names.len() as u32)
                .map(|v| {
                    push(
                        &mut list,
                        Scope {
                            window: w,
                            filter: f(v),
                            by: Some((by, names.name(v).to_string())),
                            cross: None,
                        },
                    )
                })
                .collect()
        };
        let by_segment = dim(By::Segment, spec.segments, Filter::Segment);
        let by_owner = dim(By::Owner, spec.owners, Filter::Owner);
        let by_product = dim(By::Product, spec.products, Filter::Product);
        Scopes {
            list,
            common,
            by_channel,
            by_segment,
            by_owner,
            by_product,
        }
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    pub fn window(&self) -> &Window {
        &self.list[0].window
    }

    /// Every scope a row belongs to, with its weight, whatever the time.
    pub fn members(&self, key: &Key, mut f: impl FnMut(usize, f64)) {
        for &s in &self.common {
            f(s as usize, 1.0);
        }
        for &(c, w) in key.channels {
            if let Some(ids) = self.by_channel.get(c as usize) {
                for &s in ids {
                    f(s as usize, w);
                }
            }
        }
        for (v, ids) in [
            (key.segment, &self.by_segment),
            (key.owner, &self.by_owner),
            (key.product, &self.by_product),
        ] {
            if let Some(&s) = ids.get(v as usize) {
                if s != NONE {
                    f(s as usize, 1.0);
                }
            }
        }
    }

    /// The scopes in which an event of a row at instant `ts` counts.
    #[inline]
    pub fn at(&self, key: &Key, ts: i64, mut f: impl FnMut(usize, f64)) {
        if !self.list[0].window.contains(ts) {
            return;
        }
        self.members(key, |s, w| {
            if self.list[s].window.contains(ts) {
                f(s, w)
            }
        });
    }

    /// The scopes in which an event on local day `day` counts.
    #[inline]
    pub fn on_day(&self, key: &Key, day: i32, mut f: impl FnMut(usize, f64)) {
        if !self.list[0].window.contains_day(day) {
            return;
        }
        self.members(key, |s, w| {
            if self.list[s].window.contains_day(day) {
                f(s, w)
            }
        });
    }

    /// The scope of a month × channel plan cell, if built.
    pub fn cross(&self, period: &str, channel: u32) -> Option<usize> {
        self.by_channel
            .get(channel as usize)?
            .iter()
            .map(|&s| s as usize)
            .find(|&s| {
                self.list[s]
                    .cross
                    .as_ref()
                    .is_some_and(|(p, _)| p == period)
            })
    }

    /// The month or quarter scope with this key, if built.
    pub fn time_group(&self, period: &str) -> Option<usize> {
        self.common
            .iter()
            .map(|&s| s as usize)
            .find(|&s| self.list[s].by.as_ref().is_some_and(|(_, k)| k == period))
    }
}

/// Months overlapping a window: (key, first day, last day).
pub fn months(w: Window) -> Vec<(String, i32, i32)> {
    spans(w, 1)
}

pub fn quarters(w: Window) -> Vec<(String, i32, i32)> {
    spans(w, 3)
}

fn spans(w: Window, step: i8) -> Vec<(String, i32, i32)> {
    let mut out = Vec::new();
    let d = date_from_days(w.days.0);
    let first_month = (d.month() - 1) / step * step + 1;
    let (mut y, mut m) = (d.year(), first_month);
    loop {
        let start = days_from_date(jiff::civil::Date::new(y, m, 1).expect("valid month"));
        if start > w.days.1 {
            break;
        }
        let (ny, nm) = if m + step > 12 {
            (y + 1, m + step - 12)
        } else {
            (y, m + step)
        };
        let next = days_from_date(jiff::civil::Date::new(ny, nm, 1).expect("valid month"));
        let key = if step == 1 {
            time::month_key(start)
        } else {
            time::quarter_key(start)
        };
        out.push((key, start, next - 1));
        (y, m) = (ny, nm);
    }
    out
}

/// The window of a plan period key: `2026-03` or `2026-Q1`.
pub fn plan_window(snap: &Snapshot, key: &str) -> Option<Window> {
    let (y, rest) = key.split_once('-')?;
    let y: i16 = y.parse().ok()?;
    let (m0, len) = if let Some(q) = rest.strip_prefix('Q') {
        let q: i8 = q.parse().ok()?;
        if !(1..=4).contains(&q) {
            return None;
        }
        ((q - 1) * 3 + 1, 3)
    } else {
        let m: i8 = rest.parse().ok()?;
        if !(1..=12).contains(&m) {
            return None;
        }
        (m, 1)
    };
    let start = days_from_date(jiff::civil::Date::new(y, m0, 1).ok()?);
    let (ny, nm) = if m0 + len > 12 {
        (y + 1, m0 + len - 12)
    } else {
        (y, m0 + len)
    };
    let next = days_from_date(jiff::civil::Date::new(ny, nm, 1).ok()?);
    Some(Window::of_days(snap, start, next - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(from: &str, to: &str) -> Window {
        let d = |s: &str| days_from_date(s.parse().unwrap());
        Window {
            start: 0,
            end: 0,
            days: (d(from), d(to)),
        }
    }

    #[test]
    fn months_and_quarters_cover_the_window() {
        let m = months(w("2026-01-15", "2026-03-02"));
        let keys: Vec<_> = m.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(keys, ["2026-01", "2026-02", "2026-03"]);
        // February 2026: 28 days, 2026-02-01 is day 20485.
        assert_eq!(m[1].2 - m[1].1 + 1, 28);
        let q = quarters(w("2025-11-01", "2026-06-30"));
        let keys: Vec<_> = q.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(keys, ["2025-Q4", "2026-Q1", "2026-Q2"]);
    }
}
