//! Test helper: a snapshot written out in each preset's raw export layout, the way the
//! system itself writes it (column names, date and number formats, encoding, title and
//! totals rows). The round-trip test imports these back and compares every field the
//! layout carries. Written independently of the presets on purpose: from each system's
//! documented layout, not from the mapping that reads it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::civil::DateTime;
use marqa::snapshot::column::format_money;
use marqa::snapshot::time::format_day;
use marqa::snapshot::{Snapshot, Table, TableName};

use super::cell;

pub struct Src<'a> {
    pub snap: &'a Snapshot,
}

impl<'a> Src<'a> {
    pub fn table(&self, t: TableName) -> &'a Table {
        self.snap
            .table(t)
            .unwrap_or_else(|| panic!("the source snapshot has no {t}"))
    }
    pub fn get(&self, t: &Table, col: &str, i: usize) -> String {
        cell(t, col, i)
    }
    fn ts(&self, t: &Table, col: &str, i: usize) -> Option<i64> {
        let c = t.column(col)?;
        (!c.is_null(i)).then(|| c.times().expect("a timestamp column")[i])
    }
    fn money(&self, t: &Table, col: &str, i: usize) -> Option<i64> {
        let c = t.column(col)?;
        (!c.is_null(i)).then(|| c.money().expect("a money column")[i])
    }
    /// Wall-clock time in the snapshot's zone.
    pub fn local(&self, ts: i64) -> DateTime {
        jiff::Timestamp::from_second(ts)
            .unwrap()
            .to_zoned(self.snap.clock.zone().clone())
            .datetime()
    }
    /// The deal of each lead (the raw CRM layouts below have at most one).
    fn deal_of(&self) -> BTreeMap<String, usize> {
        let d = self.table(TableName::Deals);
        (0..d.rows)
            .filter(|&i| !cell(d, "lead_id", i).is_empty())
            .map(|i| (cell(d, "lead_id", i), i))
            .collect()
    }
    fn stage_name(&self, id: &str, won: &str, lost: &str) -> String {
        let f = self.snap.manifest.funnel.as_ref().expect("a funnel");
        if id == f.won_id() {
            return won.into();
        }
        if id == f.lost_id() {
            return lost.into();
        }
        f.stages
            .iter()
            .find(|s| s.id == id)
            .and_then(|s| s.name.clone())
            .unwrap_or_else(|| id.to_string())
    }
}

fn ru_datetime(dt: DateTime) -> String {
    dt.strftime("%d.%m.%Y %H:%M:%S").to_string()
}

/// `1 234 567,89` (a no-break space between thousands, as Russian exports write them).
pub fn ru_money(v: i64, sep: char) -> String {
    let plain = format_money(v);
    let (int, frac) = plain.split_once('.').unwrap_or((&plain, ""));
    let (neg, digits) = int
        .strip_prefix('-')
        .map(|d| (true, d))
        .unwrap_or((false, int));
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(sep);
        }
        grouped.push(ch);
    }
    let frac = format!("{frac:0<2}");
    format!("{}{grouped},{frac}", if neg { "-" } else { "" })
}

/// `1,234,567.89`.
fn en_number(plain: &str, decimals: bool) -> String {
    let (int, frac) = plain.split_once('.').unwrap_or((plain, ""));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if decimals {
        format!("{grouped}.{frac:0<2}")
    } else {
        grouped
    }
}

fn write_csv(path: &Path, delim: u8, rows: &[Vec<String>], cp1251: bool, bom: bool) {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delim)
        .flexible(true)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for r in rows {
        w.write_record(r).unwrap();
    }
    let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
    let mut bytes = if cp1251 {
        let (b, _, bad) = encoding_rs::WINDOWS_1251.encode(&text);
        assert!(!bad, "the data fits Windows-1251");
        b.into_owned()
    } else {
        text.into_bytes()
    };
    if bom {
        bytes.splice(0..0, [0xEF, 0xBB, 0xBF]);
    }
    std::fs::write(path, bytes).unwrap();
}

/// amoCRM leads export as .xlsx: a title row above the header, dates as Excel date
/// cells, the budget as a number; one row per amoCRM lead (our lead with its deal).
pub fn amocrm_xlsx(s: &Src, dir: &Path) -> PathBuf {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let leads = s.table(TableName::Leads);
    let deals = s.table(TableName::Deals);
    let deal_of = s.deal_of();
    let header = [
        "ID",
        "Название сделки",
        "Бюджет ₽",
        "Ответственный",
        "Дата создания",
        "Дата закрытия",
        "Этап сделки",
        "Воронка",
        "Причина отказа",
        "Компания контакта",
        "Рабочий телефон (контакт)",
        "Рабочий email (контакт)",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_content",
        "utm_term",
    ];
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Сделки").unwrap();
    let bold = Format::new().set_bold();
    let date_fmt = Format::new().set_num_format("dd.mm.yyyy hh:mm:ss");
    ws.merge_range(
        0,
        0,
        0,
        header.len() as u16 - 1,
        "Сделки — экспорт amoCRM",
        &bold,
    )
    .unwrap();
    for (c, h) in header.iter().enumerate() {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    let excel = |ts: i64| {
        let dt = s.local(ts);
        ExcelDateTime::from_ymd(dt.year() as u16, dt.month() as u8, dt.day() as u8)
            .unwrap()
            .and_hms(dt.hour() as u16, dt.minute() as u8, dt.second() as u8)
            .unwrap()
    };
    for i in 0..leads.rows {
        let r = i as u32 + 2;
        let id = cell(leads, "lead_id", i);
        let deal = deal_of.get(&id).copied();
        ws.write_string(r, 0, &id).unwrap();
        ws.write_string(r, 1, format!("Сделка {id}")).unwrap();
        if let Some(d) = deal {
            if let Some(m) = s.money(deals, "amount", d) {
                ws.write_number(r, 2, m as f64 / 10_000.0).unwrap();
            }
            if let Some(t) = s.ts(deals, "closed_at", d) {
                ws.write_datetime_with_format(r, 5, excel(t), &date_fmt)
                    .unwrap();
            }
            let stage = s.stage_name(
                &cell(deals, "stage", d),
                "Успешно реализовано",
                "Закрыто и не реализовано",
            );
            ws.write_string(r, 6, stage).unwrap();
            ws.write_string(r, 8, cell(deals, "lost_reason", d))
                .unwrap();
        } else {
            // An amoCRM lead always sits in some stage: the lead's own status.
            ws.write_string(r, 6, cell(leads, "status", i)).unwrap();
        }
        ws.write_string(r, 3, cell(leads, "owner", i)).unwrap();
        let created = s.ts(leads, "created_at", i).unwrap();
        ws.write_datetime_with_format(r, 4, excel(created), &date_fmt)
            .unwrap();
        ws.write_string(r, 7, "Продажи").unwrap();
        for (c, col) in [
            (9, "company"),
            (10, "phone"),
            (11, "email"),
            (12, "source"),
            (13, "medium"),
            (14, "campaign"),
            (15, "content"),
            (16, "term"),
        ] {
            let v = cell(leads, col, i);
            if !v.is_empty() {
                ws.write_string(r, c, v).unwrap();
            }
        }
    }
    let path = dir.join("amo_export.xlsx");
    wb.save(&path).unwrap();
    path
}

/// Bitrix24 list exports (CSV, Windows-1251, `;`): leads.csv and deals.csv.
pub fn bitrix24_csv(s: &Src, dir: &Path) -> (PathBuf, PathBuf) {
    let leads = s.table(TableName::Leads);
    let mut rows = vec![[
        "ID",
        "Название лида",
        "Статус",
        "Источник",
        "Дата создания",
        "Ответственный",
        "Название компании",
        "Рабочий телефон",
        "Рабочий e-mail",
        "Рекламная система (utm_source)",
        "Тип трафика (utm_medium)",
        "Обозначение рекламной кампании (utm_campaign)",
        "Содержание кампании (utm_content)",
        "Условие поиска кампании (utm_term)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect::<Vec<_>>()];
    for i in 0..leads.rows {
        let g = |c: &str| cell(leads, c, i);
        rows.push(vec![
            g("lead_id"),
            format!("Лид {}", g("lead_id")),
            g("status"),
            "Веб-сайт".into(),
            ru_datetime(s.local(s.ts(leads, "created_at", i).unwrap())),
            g("owner"),
            g("company"),
            g("phone"),
            g("email"),
            g("source"),
            g("medium"),
            g("campaign"),
            g("content"),
            g("term"),
        ]);
    }
    let lp = dir.join("bitrix_leads.csv");
    write_csv(&lp, b';', &rows, true, false);

    let deals = s.table(TableName::Deals);
    let mut rows = vec![[
        "ID",
        "Название сделки",
        "Стадия сделки",
        "Сумма",
        "Валюта",
        "Ответственный",
        "Дата создания",
        "Предполагаемая дата закрытия",
        "ID лида",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect::<Vec<_>>()];
    for i in 0..deals.rows {
        let g = |c: &str| cell(deals, c, i);
        let created = s.ts(deals, "created_at", i).unwrap();
        // Open deals carry a planned date there; the import must not take it as closed_at.
        let close = s.ts(deals, "closed_at", i).unwrap_or(created + 30 * 86_400);
        rows.push(vec![
            g("deal_id"),
            format!("Сделка {}", g("deal_id")),
            s.stage_name(&g("stage"), "Сделка успешна", "Сделка провалена"),
            s.money(deals, "amount", i)
                .map(|m| ru_money(m, ' '))
                .unwrap_or_default(),
            "RUB".into(),
            g("owner"),
            ru_datetime(s.local(created)),
            s.local(close).strftime("%d.%m.%Y").to_string(),
            g("lead_id"),
        ]);
    }
    let dp = dir.join("bitrix_deals.csv");
    write_csv(&dp, b';', &rows, true, false);
    (lp, dp)
}

/// The mediums HubSpot has a traffic source type for (the rest export as "Other campaigns").
pub const HUBSPOT_MEDIUMS: &[&str] = &["cpc", "organic", "email", "referral", ""];

/// HubSpot contacts and deals exports (CSV, UTF-8, property labels, YYYY-MM-DD HH:MM).
pub fn hubspot_csv(s: &Src, dir: &Path) -> (PathBuf, PathBuf) {
    let minute = |ts: i64| s.local(ts).strftime("%Y-%m-%d %H:%M").to_string();
    let leads = s.table(TableName::Leads);
    let mut rows = vec![[
        "Record ID",
        "First Name",
        "Email",
        "Phone Number",
        "Company Name",
        "Create Date",
        "Lifecycle Stage",
        "Lead Status",
        "Contact owner",
        "Original Traffic Source",
        "Original Traffic Source Drill-Down 1",
        "Original Traffic Source Drill-Down 2",
        "Industry",
        "Number of Employees",
        "State/Region",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect::<Vec<_>>()];
    for i in 0..leads.rows {
        let g = |c: &str| cell(leads, c, i);
        let source_type = match g("medium").as_str() {
            "cpc" => "Paid search",
            "organic" => "Organic search",
            "email" => "Email marketing",
            "referral" => "Referrals",
            "" => "",
            _ => "Other campaigns",
        };
        rows.push(vec![
            g("lead_id"),
            "Имя".into(),
            g("email"),
            g("phone"),
            g("company"),
            minute(s.ts(leads, "created_at", i).unwrap()),
            "Lead".into(),
            g("status"),
            g("owner"),
            source_type.into(),
            g("source"),
            g("campaign"),
            g("industry"),
            g("company_size"),
            g("region"),
        ]);
    }
    let cp = dir.join("hubspot_contacts.csv");
    write_csv(&cp, b',', &rows, false, false);

    let deals = s.table(TableName::Deals);
    let mut rows = vec![[
        "Record ID",
        "Deal Name",
        "Deal Stage",
        "Pipeline",
        "Amount",
        "Create Date",
        "Close Date",
        "Deal owner",
        "Associated Contact IDs",
        "Closed Lost Reason",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect::<Vec<_>>()];
    for i in 0..deals.rows {
        let g = |c: &str| cell(deals, c, i);
        let created = s.ts(deals, "created_at", i).unwrap();
        let close = s.ts(deals, "closed_at", i).unwrap_or(created + 45 * 86_400);
        rows.push(vec![
            g("deal_id"),
            format!("Deal {}", g("deal_id")),
            s.stage_name(&g("stage"), "Closed won", "Closed lost"),
            "Sales Pipeline".into(),
            g("amount"),
            minute(created),
            minute(close),
            g("owner"),
            format!("{};999", g("lead_id")),
            g("lost_reason"),
        ]);
    }
    let dp = dir.join("hubspot_deals.csv");
    write_csv(&dp, b',', &rows, false, false);
    (cp, dp)
}

fn spend_rows(s: &Src, source: &str) -> Vec<usize> {
    let t = s.table(TableName::Spend);
    (0..t.rows)
        .filter(|&i| cell(t, "source", i) == source)
        .collect()
}

/// Yandex Direct Reports API report: TSV, a title line, money in micros, "Total rows".
pub fn direct_tsv(s: &Src, dir: &Path) -> PathBuf {
    let t = s.table(TableName::Spend);
    let mut out = String::from("\"Кампании (2026-01-01 - 2026-06-30)\"\n");
    out.push_str("Date\tCampaignName\tImpressions\tClicks\tCost\n");
    let idx = spend_rows(s, "yandex");
    for &i in &idx {
        let micros = s.money(t, "amount", i).unwrap() as i128 * 100;
        let opt = |c: &str| {
            let v = cell(t, c, i);
            if v.is_empty() {
                "--".to_string()
            } else {
                v
            }
        };
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{micros}\n",
            cell(t, "date", i),
            cell(t, "campaign", i),
            opt("impressions"),
            opt("clicks")
        ));
    }
    out.push_str(&format!("Total rows: {}\n", idx.len()));
    let p = dir.join("direct.tsv");
    std::fs::write(&p, out).unwrap();
    p
}

/// Google Ads interface download: two title lines, `1,234.56` numbers, Total rows.
pub fn google_ads_csv(s: &Src, dir: &Path) -> PathBuf {
    let t = s.table(TableName::Spend);
    let mut rows: Vec<Vec<String>> = vec![
        vec!["Campaign report".into()],
        vec!["January 1, 2026 - June 30, 2026".into()],
        [
            "Day",
            "Campaign",
            "Impr.",
            "Clicks",
            "Cost",
            "Currency code",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    ];
    for i in spend_rows(s, "google") {
        rows.push(vec![
            cell(t, "date", i),
            cell(t, "campaign", i),
            en_number(&cell(t, "impressions", i), false),
            en_number(&cell(t, "clicks", i), false),
            en_number(&cell(t, "amount", i), true),
            "RUB".into(),
        ]);
    }
    rows.push(vec![
        "Total: Account".into(),
        "".into(),
        "".into(),
        "".into(),
        "0.00".into(),
        "".into(),
    ]);
    let p = dir.join("google_ads.csv");
    write_csv(&p, b',', &rows, false, false);
    p
}

/// Calltouch call log export: Windows-1251, `;`, H:MM:SS durations, status words.
pub fn calltouch_csv(s: &Src, dir: &Path) -> PathBuf {
    let t = s.table(TableName::Calls);
    let mut rows = vec![[
        "ID звонка",
        "Дата и время",
        "Номер абонента",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "Длительность",
        "Статус",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect::<Vec<_>>()];
    for i in 0..t.rows {
        let d: i64 = cell(t, "duration_s", i).parse().unwrap();
        rows.push(vec![
            cell(t, "call_id", i),
            ru_datetime(s.local(s.ts(t, "at", i).unwrap())),
            "+7 900 000-00-00".into(),
            cell(t, "source", i),
            cell(t, "medium", i),
            cell(t, "campaign", i),
            format!("{}:{:02}:{:02}", d / 3600, d / 60 % 60, d % 60),
            if cell(t, "answered", i) == "true" {
                "Успешный"
            } else {
                "Пропущенный"
            }
            .into(),
        ]);
    }
    let p = dir.join("calltouch.csv");
    write_csv(&p, b';', &rows, true, false);
    p
}

/// Yandex Metrica report CSV: UTF-8 with BOM, a totals row under the header, `1 120`.
pub fn metrica_csv(s: &Src, dir: &Path) -> PathBuf {
    let t = s.table(TableName::Traffic);
    let spaced = |v: String| {
        let n: i64 = v.parse().unwrap();
        ru_money(n * 10_000, ' ')
            .split(',')
            .next()
            .unwrap()
            .to_string()
    };
    let mut rows = vec![
        [
            "Дата визита",
            "UTM Source",
            "UTM Medium",
            "Визиты",
            "Посетители",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>(),
        vec![
            "Итого и средние".into(),
            "".into(),
            "".into(),
            "0".into(),
            "0".into(),
        ],
    ];
    for i in 0..t.rows {
        rows.push(vec![
            cell(t, "date", i),
            cell(t, "source", i),
            cell(t, "medium", i),
            spaced(cell(t, "visits", i)),
            spaced(cell(t, "unique_visitors", i)),
        ]);
    }
    let p = dir.join("metrica.csv");
    write_csv(&p, b',', &rows, false, true);
    p
}

/// Leads with Russian headers, Windows-1251, `;`, DD.MM.YYYY HH:MM:SS (the `generic` preset).
pub fn generic_leads_csv(s: &Src, dir: &Path) -> PathBuf {
    let t = s.table(TableName::Leads);
    let cols = [
        ("Номер заявки", "lead_id"),
        ("Дата заявки", "created_at"),
        ("Источник", "source"),
        ("Канал", "medium"),
        ("Кампания", "campaign"),
        ("UTM Content", "content"),
        ("UTM Term", "term"),
        ("Почта", "email"),
        ("Телефон", "phone"),
        ("Компания", "company"),
        ("Менеджер", "owner"),
        ("Статус", "status"),
        ("Сегмент", "segment"),
        ("Отрасль", "industry"),
        ("Сотрудников", "company_size"),
        ("Регион", "region"),
    ];
    let mut rows = vec![cols.iter().map(|c| c.0.to_string()).collect::<Vec<_>>()];
    for i in 0..t.rows {
        rows.push(
            cols.iter()
                .map(|&(_, c)| match c {
                    "created_at" => ru_datetime(s.local(s.ts(t, c, i).unwrap())),
                    "company_size" => {
                        let v = cell(t, c, i);
                        if v.is_empty() {
                            v
                        } else {
                            ru_money(v.parse::<i64>().unwrap() * 10_000, '\u{a0}')
                                .split(',')
                                .next()
                                .unwrap()
                                .to_string()
                        }
                    }
                    _ => cell(t, c, i),
                })
                .collect(),
        );
    }
    let p = dir.join("leads_ru.csv");
    write_csv(&p, b';', &rows, true, false);
    p
}

/// Days in ISO form, for comparisons of date-only layouts.
pub fn day_of(s: &Src, ts: i64) -> String {
    format_day(s.snap.clock.local_day(ts))
}
