//! The fictional company and its market: a Ural manufacturer of pumps, valves, compressors
//! and automation selling to plants across Russia. Reference data only; the stories in
//! `story.rs` and `customer.rs` draw from it.
//!
//! Prospects are people at client companies. Every lead arrival gets its own person by a
//! bijection from the arrival number, so two leads share an email or a phone only when
//! the `duplicate_leads` defect makes them (a clean snapshot has no duplicates at any scale).

use super::rng::{hash_unit, pick_weighted_by};

pub const COMPANY: &str = "ООО «Уралгидромаш»";

// ---------------------------------------------------------------- sales team

pub struct Owner {
    pub name: &'static str,
    /// How much more often than the team this rep answers late (with `sla_breaches`).
    pub slowness: f64,
}

pub const OWNERS: &[Owner] = &[
    Owner {
        name: "Марина Соколова",
        slowness: 0.6,
    },
    Owner {
        name: "Дмитрий Кузнецов",
        slowness: 0.8,
    },
    Owner {
        name: "Ольга Лебедева",
        slowness: 0.7,
    },
    Owner {
        name: "Алексей Воронов",
        slowness: 0.9,
    },
    Owner {
        name: "Игорь Морозов",
        slowness: 2.2,
    },
    Owner {
        name: "Наталья Волкова",
        slowness: 0.7,
    },
    Owner {
        name: "Сергей Павлов",
        slowness: 1.6,
    },
];

/// The reps covering each region group (centre, Urals, Volga and south, Siberia).
pub const TEAMS: [&[usize]; 4] = [&[0, 1, 2], &[3, 4], &[5, 6], &[4, 6]];

// ---------------------------------------------------------------- market

pub struct Region {
    pub name: &'static str,
    pub weight: f64,
    pub team: usize,
}

pub const REGIONS: &[Region] = &[
    Region {
        name: "Москва",
        weight: 0.20,
        team: 0,
    },
    Region {
        name: "Московская область",
        weight: 0.06,
        team: 0,
    },
    Region {
        name: "Санкт-Петербург",
        weight: 0.10,
        team: 0,
    },
    Region {
        name: "Екатеринбург",
        weight: 0.10,
        team: 1,
    },
    Region {
        name: "Челябинск",
        weight: 0.05,
        team: 1,
    },
    Region {
        name: "Пермь",
        weight: 0.04,
        team: 1,
    },
    Region {
        name: "Уфа",
        weight: 0.04,
        team: 1,
    },
    Region {
        name: "Тюмень",
        weight: 0.04,
        team: 1,
    },
    Region {
        name: "Казань",
        weight: 0.07,
        team: 2,
    },
    Region {
        name: "Нижний Новгород",
        weight: 0.05,
        team: 2,
    },
    Region {
        name: "Самара",
        weight: 0.05,
        team: 2,
    },
    Region {
        name: "Ростов-на-Дону",
        weight: 0.04,
        team: 2,
    },
    Region {
        name: "Волгоград",
        weight: 0.02,
        team: 2,
    },
    Region {
        name: "Новосибирск",
        weight: 0.05,
        team: 3,
    },
    Region {
        name: "Красноярск",
        weight: 0.04,
        team: 3,
    },
    Region {
        name: "Омск",
        weight: 0.02,
        team: 3,
    },
    Region {
        name: "Кемерово",
        weight: 0.03,
        team: 3,
    },
];

pub const INDUSTRIES: &[(&str, f64)] = &[
    ("Нефтегаз", 0.16),
    ("Металлургия", 0.12),
    ("Химия и нефтехимия", 0.11),
    ("Энергетика", 0.12),
    ("Машиностроение", 0.10),
    ("Пищевая промышленность", 0.09),
    ("ЖКХ и водоканалы", 0.12),
    ("Горнодобыча", 0.07),
    ("Целлюлозно-бумажная промышленность", 0.04),
    ("Строительные материалы", 0.07),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    Enterprise,
    Mid,
    Smb,
}

impl Segment {
    pub fn id(self) -> &'static str {
        match self {
            Segment::Enterprise => "enterprise",
            Segment::Mid => "mid",
            Segment::Smb => "smb",
        }
    }
    /// Deal size multiplier.
    pub fn deal_factor(self) -> f64 {
        match self {
            Segment::Enterprise => 2.2,
            Segment::Mid => 1.0,
            Segment::Smb => 0.5,
        }
    }
    /// Monthly churn hazard of a customer.
    pub fn churn_monthly(self) -> f64 {
        match self {
            Segment::Enterprise => 0.008,
            Segment::Mid => 0.016,
            Segment::Smb => 0.03,
        }
    }
    /// Chance of a repeat order (spare parts, small equipment) in a month.
    pub fn repeat_monthly(self) -> f64 {
        match self {
            Segment::Enterprise => 0.30,
            Segment::Mid => 0.18,
            Segment::Smb => 0.09,
        }
    }
}

// ---------------------------------------------------------------- products

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// 50% prepayment, 50% on shipment 30–90 days later.
    HalfHalf,
    /// 30% advance, 40% on delivery, 30% after commissioning.
    ThreeStage,
    /// An annual contract paid in 12 monthly instalments.
    Monthly12,
    /// Paid in full within days.
    Full,
}

pub struct Product {
    pub id: &'static str,
    pub median_rub: f64,
    pub sigma: f64,
    pub margin: f64,
    pub schedule: Schedule,
    /// Weight among first deals.
    pub weight: f64,
}

pub const PRODUCTS: &[Product] = &[
    Product {
        id: "pumps",
        median_rub: 850_000.0,
        sigma: 0.55,
        margin: 0.32,
        schedule: Schedule::HalfHalf,
        weight: 0.34,
    },
    Product {
        id: "valves",
        median_rub: 420_000.0,
        sigma: 0.6,
        margin: 0.38,
        schedule: Schedule::HalfHalf,
        weight: 0.25,
    },
    Product {
        id: "compressors",
        median_rub: 3_200_000.0,
        sigma: 0.45,
        margin: 0.26,
        schedule: Schedule::ThreeStage,
        weight: 0.14,
    },
    Product {
        id: "automation",
        median_rub: 2_100_000.0,
        sigma: 0.5,
        margin: 0.42,
        schedule: Schedule::ThreeStage,
        weight: 0.15,
    },
    Product {
        id: "service",
        median_rub: 960_000.0,
        sigma: 0.4,
        margin: 0.55,
        schedule: Schedule::Monthly12,
        weight: 0.12,
    },
    Product {
        id: "spare_parts",
        median_rub: 140_000.0,
        sigma: 0.7,
        margin: 0.48,
        schedule: Schedule::Full,
        weight: 0.0,
    },
];

pub const SERVICE: usize = 4;
pub const SPARE_PARTS: usize = 5;

pub const LEAD_LOST_REASONS: &[&str] = &[
    "Нецелевой запрос",
    "Нет потребности",
    "Не дозвонились",
    "Нет бюджета",
    "Частное лицо",
    "Закупка через тендер, не проходим",
];
pub const DEAL_LOST_REASONS: &[&str] = &[
    "Цена выше, чем у конкурентов",
    "Выбрали конкурента",
    "Проект отложен",
    "Нет бюджета",
    "Не прошли тендер",
    "Сроки поставки не устроили",
    "Дорого, ушли на китайский аналог",
];

// ---------------------------------------------------------------- channels

pub const YANDEX: usize = 0;
pub const GOOGLE: usize = 1;
pub const ORGANIC: usize = 2;
pub const EMAIL: usize = 3;
pub const TELEGRAM: usize = 4;
pub const PARTNER: usize = 5;
pub const DIRECT: usize = 6;
pub const EXHIBITIONS: usize = 7;
pub const WEBINARS: usize = 8;

#[derive(Clone, Copy)]
pub struct Channel {
    pub id: &'static str,
    /// utm_source values with weights (organic traffic comes from two engines).
    pub sources: &'static [(&'static str, f64)],
    pub medium: &'static str,
    pub campaigns: &'static [(&'static str, f64)],
    /// Share of the regular (not event-driven) leads; 0 for event channels.
    pub share: f64,
    /// Chance a lead becomes an MQL, and an MQL an SQL.
    pub mql: f64,
    pub sql: f64,
    /// Multiplier on every forward step of the deal funnel.
    pub win: f64,
    /// Deal size multiplier.
    pub deal: f64,
    /// Daily-spend channels: spend per expected lead (RUB at scale 1).
    pub cpl: f64,
    /// How leads of this channel come in.
    pub origins: &'static [(&'static str, f64)],
    /// Site conversion (leads per visit) for the traffic table; 0 = not a site channel.
    pub site_cr: f64,
}

pub const CHANNELS: &[Channel] = &[
    Channel {
        id: "yandex_direct",
        sources: &[("yandex", 1.0)],
        medium: "cpc",
        campaigns: &[
            ("poisk_nasosy", 0.35),
            ("poisk_armatura", 0.25),
            ("poisk_kompressory", 0.15),
            ("rsya_retarget", 0.15),
            ("brand", 0.10),
        ],
        share: 0.37,
        mql: 0.55,
        sql: 0.42,
        win: 1.0,
        deal: 1.0,
        cpl: 5_200.0,
        origins: &[("form", 0.55), ("call", 0.35), ("chat", 0.10)],
        site_cr: 0.025,
    },
    Channel {
        id: "google_ads",
        sources: &[("google", 1.0)],
        medium: "cpc",
        campaigns: &[("search_export", 1.0)],
        share: 0.03,
        mql: 0.5,
        sql: 0.4,
        win: 0.95,
        deal: 1.1,
        cpl: 7_000.0,
        origins: &[("form", 0.7), ("call", 0.3)],
        site_cr: 0.02,
    },
    Channel {
        id: "organic",
        sources: &[("yandex", 0.7), ("google", 0.3)],
        medium: "organic",
        campaigns: &[],
        share: 0.19,
        mql: 0.62,
        sql: 0.47,
        win: 1.08,
        deal: 1.0,
        cpl: 0.0,
        origins: &[("form", 0.55), ("call", 0.35), ("chat", 0.10)],
        site_cr: 0.016,
    },
    Channel {
        id: "email",
        sources: &[("newsletter", 1.0)],
        medium: "email",
        campaigns: &[("digest", 0.7), ("promo_service", 0.3)],
        share: 0.07,
        mql: 0.6,
        sql: 0.45,
        win: 1.05,
        deal: 0.9,
        cpl: 0.0,
        origins: &[("email", 0.6), ("form", 0.4)],
        site_cr: 0.03,
    },
    Channel {
        id: "telegram",
        sources: &[("telegram", 1.0)],
        medium: "social",
        campaigns: &[("tg_ads_promyshlennost", 0.6), ("posev_kanaly", 0.4)],
        share: 0.07,
        mql: 0.35,
        sql: 0.28,
        win: 0.75,
        deal: 0.6,
        cpl: 2_300.0,
        origins: &[("chat", 0.6), ("form", 0.4)],
        site_cr: 0.01,
    },
    Channel {
        id: "partner",
        sources: &[("partner", 1.0)],
        medium: "referral",
        campaigns: &[
            ("dealer_ural", 0.4),
            ("dealer_sibir", 0.3),
            ("dealer_volga", 0.3),
        ],
        share: 0.08,
        mql: 0.75,
        sql: 0.6,
        win: 1.2,
        deal: 1.2,
        cpl: 0.0,
        origins: &[("email", 0.5), ("call", 0.3), ("outbound", 0.2)],
        site_cr: 0.04,
    },
    Channel {
        id: "direct",
        sources: &[("direct", 1.0)],
        medium: "none",
        campaigns: &[],
        share: 0.19,
        mql: 0.58,
        sql: 0.45,
        win: 1.05,
        deal: 1.0,
        cpl: 0.0,
        origins: &[("call", 0.6), ("email", 0.3), ("form", 0.1)],
        site_cr: 0.022,
    },
    Channel {
        id: "exhibitions",
        sources: &[("exhibition", 1.0)],
        medium: "event",
        campaigns: &[],
        share: 0.0,
        mql: 0.7,
        sql: 0.5,
        win: 1.1,
        deal: 1.4,
        cpl: 0.0,
        origins: &[("event", 1.0)],
        site_cr: 0.0,
    },
    Channel {
        id: "webinars",
        sources: &[("webinar", 1.0)],
        medium: "event",
        campaigns: &[],
        share: 0.0,
        mql: 0.45,
        sql: 0.3,
        win: 0.85,
        deal: 0.8,
        cpl: 0.0,
        origins: &[("form", 1.0)],
        site_cr: 0.0,
    },
];

/// A channel's economics as the stories use them. With every defect on (the demo) the
/// channels differ the way the docs describe (telegram's cheap leads rarely close,
/// exhibitions cost millions); a clean snapshot (`--clean`) is a healthy business, so that
/// every rule of the built-in pack passes on it: every channel qualifies, closes and pays
/// back, whatever the seed, down to small scales.
pub fn economics(c: usize, healthy: bool) -> Channel {
    let mut ch = CHANNELS[c];
    if healthy {
        ch.win *= 1.2;
        match c {
            GOOGLE => {
                ch.share = 0.06;
                (ch.mql, ch.sql, ch.win) = (0.62, 0.5, 1.25);
            }
            TELEGRAM => {
                ch.share = 0.1;
                (ch.mql, ch.sql, ch.win, ch.deal) = (0.58, 0.45, 1.15, 0.9);
                ch.cpl = 1_600.0;
            }
            WEBINARS => (ch.mql, ch.sql, ch.win, ch.deal) = (0.65, 0.5, 1.5, 1.0),
            EXHIBITIONS => ch.win = 1.5,
            _ => {}
        }
    }
    ch
}

/// What a healthy company pays for an event, as a share of the listed cost: the clean
/// snapshot books exhibition stands and webinar platforms at partner rates so the event
/// channels pay back.
pub fn event_cost_factor(online: bool, healthy: bool) -> f64 {
    match (healthy, online) {
        (false, _) => 1.0,
        (true, true) => 0.5,
        (true, false) => 0.15,
    }
}

/// UTM variants a `utm_violations` lead of a channel may carry instead: (source, medium).
/// Each still maps to its channel through the manifest's channel map (which knows the
/// aliases), but breaks the agreed UTM standard.
pub fn utm_variants(channel: usize) -> &'static [(&'static str, &'static str)] {
    match channel {
        YANDEX => &[
            ("Yandex", "cpc"),
            ("ya", "cpc"),
            ("yandex.direct", "cpc"),
            ("yandex", "CPC"),
        ],
        GOOGLE => &[("Google", "cpc"), ("google", "CPC")],
        ORGANIC => &[("Yandex", "organic"), ("google", "Organic")],
        EMAIL => &[
            ("newsletter", "Email"),
            ("newsletter", "e-mail"),
            ("Newsletter", "email"),
        ],
        TELEGRAM => &[("Telegram", "social"), ("tg", "social")],
        PARTNER => &[("Partner", "referral"), ("partner", "Referral")],
        DIRECT => &[("Direct", "none")],
        EXHIBITIONS => &[("Exhibition", "event")],
        _ => &[("Webinar", "event")],
    }
}

/// Search terms of paid search campaigns (utm_term).
pub const TERMS: &[&str] = &[
    "насос консольный купить",
    "насосы для водоканала цена",
    "задвижка клиновая ду 300",
    "шаровой кран фланцевый",
    "компрессорная станция винтовая",
    "насосная станция под ключ",
    "частотный преобразователь для насоса",
    "ремонт центробежных насосов",
];

// ---------------------------------------------------------------- events

pub struct EventSpec {
    pub name: &'static str,
    pub kind: &'static str,
    pub online: bool,
    /// First day, `YYYY-MM-DD`.
    pub date: &'static str,
    pub days: u32,
    pub city: &'static str,
    /// Cost at scale 1, RUB.
    pub cost: f64,
    pub registered: f64,
    pub attended_share: f64,
    pub target_share: f64,
    /// Leads per target attendee.
    pub lead_rate: f64,
    pub campaign: &'static str,
}

pub const EVENTS: &[EventSpec] = &[
    EventSpec {
        name: "Вебинар «Подбор насосов для систем водоснабжения»",
        kind: "webinar",
        online: true,
        date: "2025-10-16",
        days: 1,
        city: "онлайн",
        cost: 45_000.0,
        registered: 260.0,
        attended_share: 0.45,
        target_share: 0.35,
        lead_rate: 0.15,
        campaign: "webinar_2025_10",
    },
    EventSpec {
        name: "PCVExpo 2025: насосы, компрессоры, арматура",
        kind: "exhibition",
        online: false,
        date: "2025-10-28",
        days: 3,
        city: "Москва",
        cost: 2_600_000.0,
        registered: 1400.0,
        attended_share: 0.58,
        target_share: 0.45,
        lead_rate: 0.15,
        campaign: "pcvexpo_2025",
    },
    EventSpec {
        name: "Вебинар «Частотное регулирование насосов: экономия энергии»",
        kind: "webinar",
        online: true,
        date: "2025-11-13",
        days: 1,
        city: "онлайн",
        cost: 45_000.0,
        registered: 240.0,
        attended_share: 0.42,
        target_share: 0.33,
        lead_rate: 0.15,
        campaign: "webinar_2025_11",
    },
    EventSpec {
        name: "Технический семинар для главных механиков",
        kind: "seminar",
        online: false,
        date: "2025-12-04",
        days: 1,
        city: "Екатеринбург",
        cost: 280_000.0,
        registered: 60.0,
        attended_share: 0.73,
        target_share: 0.8,
        lead_rate: 0.35,
        campaign: "seminar_ekb_2025_12",
    },
    EventSpec {
        name: "Вебинар «Запорная арматура для нефтегаза»",
        kind: "webinar",
        online: true,
        date: "2025-12-11",
        days: 1,
        city: "онлайн",
        cost: 45_000.0,
        registered: 300.0,
        attended_share: 0.4,
        target_share: 0.3,
        lead_rate: 0.15,
        campaign: "webinar_2025_12",
    },
    EventSpec {
        name: "Вебинар «Компрессорные станции: стоимость владения за 10 лет»",
        kind: "webinar",
        online: true,
        date: "2026-01-22",
        days: 1,
        city: "онлайн",
        cost: 45_000.0,
        registered: 210.0,
        attended_share: 0.44,
        target_share: 0.36,
        lead_rate: 0.15,
        campaign: "webinar_2026_01",
    },
    EventSpec {
        name: "Вебинар «Автоматизация насосных станций»",
        kind: "webinar",
        online: true,
        date: "2026-02-12",
        days: 1,
        city: "онлайн",
        cost: 45_000.0,
        registered: 280.0,
        attended_share: 0.43,
        target_share: 0.32,
        lead_rate: 0.15,
        campaign: "webinar_2026_02",
    },
    EventSpec {
        name: "Семинар «Насосные станции водоканалов»",
        kind: "seminar",
        online: false,
        date: "2026-02-18",
        days: 1,
        city: "Казань",
        cost: 240_000.0,
        registered: 55.0,
        attended_share: 0.7,
        target_share: 0.75,
        lead_rate: 0.35,
        campaign: "seminar_kzn_2026_02",
    },
    EventSpec {
        name: "Вебинар «Импортозамещение арматуры: опыт заводов»",
        kind: "webinar",
        online: true,
        date: "2026-03-12",
        days: 1,
        city: "онлайн",
        cost: 45_000.0,
        registered: 320.0,
        attended_share: 0.41,
        target_share: 0.3,
        lead_rate: 0.15,
        campaign: "webinar_2026_03",
    },
    EventSpec {
        name: "Энергетика Урала 2026",
        kind: "exhibition",
        online: false,
        date: "2026-03-17",
        days: 3,
        city: "Екатеринбург",
        cost: 1_600_000.0,
        registered: 900.0,
        attended_share: 0.58,
        target_share: 0.35,
        lead_rate: 0.15,
        campaign: "energetika_urala_2026",
    },
    EventSpec {
        name: "Вебинар «Сервисный контракт: как снизить простои»",
        kind: "webinar",
        online: true,
        date: "2026-04-09",
        days: 1,
        city: "онлайн",
        cost: 45_000.0,
        registered: 230.0,
        attended_share: 0.46,
        target_share: 0.38,
        lead_rate: 0.15,
        campaign: "webinar_2026_04",
    },
    EventSpec {
        name: "Нефтегаз 2026",
        kind: "exhibition",
        online: false,
        date: "2026-04-13",
        days: 4,
        city: "Москва",
        cost: 4_200_000.0,
        registered: 2100.0,
        attended_share: 0.62,
        target_share: 0.4,
        lead_rate: 0.15,
        campaign: "neftegaz_2026",
    },
    EventSpec {
        name: "Вебинар «Диагностика насосов без остановки»",
        kind: "webinar",
        online: true,
        date: "2026-05-14",
        days: 1,
        city: "онлайн",
        cost: 45_000.0,
        registered: 250.0,
        attended_share: 0.44,
        target_share: 0.34,
        lead_rate: 0.15,
        campaign: "webinar_2026_05",
    },
    EventSpec {
        name: "Металлообработка 2026",
        kind: "exhibition",
        online: false,
        date: "2026-05-25",
        days: 4,
        city: "Москва",
        cost: 2_200_000.0,
        registered: 1200.0,
        attended_share: 0.58,
        target_share: 0.22,
        lead_rate: 0.15,
        campaign: "metalloobrabotka_2026",
    },
    EventSpec {
        name: "Конференция «Водоканалы России»",
        kind: "conference",
        online: false,
        date: "2026-06-03",
        days: 2,
        city: "Санкт-Петербург",
        cost: 650_000.0,
        registered: 300.0,
        attended_share: 0.7,
        target_share: 0.6,
        lead_rate: 0.2,
        campaign: "vodokanaly_2026",
    },
    EventSpec {
        name: "Вебинар «Модернизация компрессорного парка»",
        kind: "webinar",
        online: true,
        date: "2026-06-11",
        days: 1,
        city: "онлайн",
        cost: 45_000.0,
        registered: 270.0,
        attended_share: 0.43,
        target_share: 0.33,
        lead_rate: 0.15,
        campaign: "webinar_2026_06",
    },
];

// ---------------------------------------------------------------- people and companies

const MALE: &[&str] = &[
    "Александр",
    "Алексей",
    "Андрей",
    "Антон",
    "Артем",
    "Владимир",
    "Дмитрий",
    "Евгений",
    "Иван",
    "Игорь",
    "Илья",
    "Кирилл",
    "Максим",
    "Михаил",
    "Николай",
    "Олег",
    "Павел",
    "Роман",
    "Сергей",
    "Юрий",
];
const FEMALE: &[&str] = &[
    "Анна",
    "Алена",
    "Валентина",
    "Виктория",
    "Галина",
    "Дарья",
    "Екатерина",
    "Елена",
    "Ирина",
    "Ксения",
    "Людмила",
    "Марина",
    "Мария",
    "Наталья",
    "Ольга",
    "Светлана",
    "Татьяна",
    "Юлия",
    "Яна",
    "Оксана",
];
/// Male forms; every one ends in -ов, -ев or -ин, so the female form adds «а».
const SURNAMES: &[&str] = &[
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Федоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семенов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьев",
    "Борисов",
    "Яковлев",
    "Григорьев",
    "Романов",
    "Воробьев",
    "Сергеев",
    "Кузьмин",
    "Фролов",
    "Александров",
    "Дмитриев",
    "Королев",
    "Гусев",
    "Киселев",
    "Ильин",
    "Максимов",
    "Поляков",
    "Сорокин",
    "Виноградов",
    "Ковалев",
    "Белов",
    "Медведев",
    "Антонов",
    "Тарасов",
    "Жуков",
    "Баранов",
    "Филиппов",
    "Комаров",
    "Давыдов",
    "Беляев",
    "Герасимов",
    "Богданов",
    "Осипов",
    "Сидоров",
];
const NAME_PREFIXES: &[&str] = &[
    "Урал",
    "Сиб",
    "Волга",
    "Кама",
    "Север",
    "Нева",
    "Дон",
    "Байкал",
    "Алтай",
    "Вятка",
    "Енисей",
    "Ока",
    "Амур",
    "Кузбасс",
    "Ямал",
    "Тагил",
    "Печора",
    "Балт",
    "Лена",
    "Тобол",
    "Иртыш",
    "Кубань",
    "Норд",
    "Восток",
];
const NAME_ROOTS: &[&str] = &[
    "нефтемаш",
    "химпром",
    "энерго",
    "металл",
    "сталь",
    "прокат",
    "гидро",
    "тепло",
    "водоканал",
    "маш",
    "трубпром",
    "азот",
    "цемент",
    "бумпром",
    "агро",
    "продукт",
    "никель",
    "цветмет",
    "полимер",
    "стром",
    "молпром",
    "карбон",
    "спецсталь",
    "электро",
];
/// Name suffix and its form in the domain.
const NAME_SUFFIXES: &[(&str, &str)] = &[
    ("", ""),
    ("Групп", "group"),
    ("Сервис", "service"),
    ("Холдинг", "holding"),
    ("Инжиниринг", "engineering"),
    ("Ресурс", "resurs"),
    ("Комплект", "komplekt"),
    ("Техно", "tehno"),
    ("Снаб", "snab"),
    ("Трейд", "trade"),
];
const PERSONAL_DOMAINS: &[&str] = &[
    "mail.ru",
    "yandex.ru",
    "gmail.com",
    "bk.ru",
    "list.ru",
    "inbox.ru",
];

const PEOPLE_PER_COMPANY: u64 = 40 * 60;
pub const COMPANIES: u64 = 24 * 24 * 10;
/// Distinct people the generator can name; lead arrivals beyond it would repeat people.
pub const PEOPLE: u64 = COMPANIES * PEOPLE_PER_COMPANY;
/// A multiplier coprime to PEOPLE (= 2^a 3^b 5^c): arrival -> person is a bijection.
const PERSON_MULT: u64 = 7_777_777;
const PHONE_SPACE: u64 = 1_000_000_000;
/// Coprime to 10^9.
const PHONE_MULT: u64 = 387_420_489;

/// Cyrillic to Latin for emails and domains (the common passport-style scheme).
pub fn translit(s: &str, out: &mut String) {
    for ch in s.chars() {
        let lower = ch.to_lowercase().next().unwrap_or(ch);
        let t = match lower {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' | 'й' => "i",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "h",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "sch",
            'ъ' | 'ь' => "",
            'ы' => "y",
            'ю' => "yu",
            'я' => "ya",
            ' ' | '-' => "-",
            c if c.is_ascii_alphanumeric() => {
                out.push(c);
                continue;
            }
            _ => "",
        };
        out.push_str(t);
    }
}

/// A client company, derived from its index (and the seed, for its attributes).
#[derive(Debug, Clone, Copy)]
pub struct ClientCompany {
    pub index: u64,
    pub segment: Segment,
    pub size: i64,
    pub industry: usize,
    pub region: usize,
}

impl ClientCompany {
    pub fn new(seed: u64, index: u64) -> ClientCompany {
        let u = |tag| hash_unit(seed, tag, index);
        let s = u(1);
        let (segment, size) = if s < 0.15 {
            (Segment::Enterprise, 1000 + (u(2) * u(2) * 19_000.0) as i64)
        } else if s < 0.5 {
            (Segment::Mid, 200 + (u(2) * 800.0) as i64)
        } else {
            (Segment::Smb, 20 + (u(2) * 180.0) as i64)
        };
        ClientCompany {
            index,
            segment,
            size,
            industry: pick_weighted_by(INDUSTRIES.len(), |i| INDUSTRIES[i].1, u(3)),
            region: pick_weighted_by(REGIONS.len(), |i| REGIONS[i].weight, u(4)),
        }
    }

    fn parts(&self) -> (usize, usize, usize) {
        let i = self.index as usize;
        (i % 24, i / 24 % 24, i / 576)
    }

    /// `АО «Уралнефтемаш-Сервис»`.
    pub fn write_name(&self, seed: u64, out: &mut String) {
        let (p, r, s) = self.parts();
        let legal = match self.segment {
            Segment::Enterprise if hash_unit(seed, 5, self.index) < 0.4 => "ПАО",
            Segment::Enterprise => "АО",
            Segment::Mid if hash_unit(seed, 5, self.index) < 0.5 => "АО",
            _ => "ООО",
        };
        out.push_str(legal);
        out.push_str(" «");
        out.push_str(NAME_PREFIXES[p]);
        out.push_str(NAME_ROOTS[r]);
        if !NAME_SUFFIXES[s].0.is_empty() {
            out.push('-');
            out.push_str(NAME_SUFFIXES[s].0);
        }
        out.push('»');
    }

    /// `uralneftemash-service.ru`.
    pub fn write_domain(&self, out: &mut String) {
        let (p, r, s) = self.parts();
        translit(NAME_PREFIXES[p], out);
        translit(NAME_ROOTS[r], out);
        if !NAME_SUFFIXES[s].1.is_empty() {
            out.push('-');
            out.push_str(NAME_SUFFIXES[s].1);
        }
        out.push_str(".ru");
    }
}

/// A contact person at a client company.
#[derive(Debug, Clone, Copy)]
pub struct Person {
    pub company: ClientCompany,
    first: usize,
    last: usize,
    female: bool,
    /// Ten digits starting with 9: the mobile number without the country code.
    pub phone: u64,
}

impl Person {
    /// The person behind lead arrival number `arrival` (distinct for distinct arrivals
    /// below [`PEOPLE`]).
    pub fn for_arrival(seed: u64, arrival: u64) -> Person {
        let offset = crate::generate::rng::splitmix64(seed) % PEOPLE;
        let x =
            ((arrival % PEOPLE) as u128 * PERSON_MULT as u128 + offset as u128) % PEOPLE as u128;
        let x = x as u64;
        let company = x / PEOPLE_PER_COMPANY;
        let p = (x % PEOPLE_PER_COMPANY) as usize;
        let (first, last) = (p % 40, p / 40);
        let phone_offset = crate::generate::rng::splitmix64(seed ^ 0x5151) % PHONE_SPACE;
        let phone = 9_000_000_000
            + ((arrival % PHONE_SPACE) as u128 * PHONE_MULT as u128 + phone_offset as u128) as u64
                % PHONE_SPACE;
        Person {
            company: ClientCompany::new(seed, company),
            first: first % 20,
            last,
            female: first >= 20,
            phone,
        }
    }

    pub fn first_name(&self) -> &'static str {
        if self.female {
            FEMALE[self.first]
        } else {
            MALE[self.first]
        }
    }

    /// `Петрова Анна`.
    pub fn write_contact(&self, out: &mut String) {
        out.push_str(SURNAMES[self.last]);
        if self.female {
            out.push('а');
        }
        out.push(' ');
        out.push_str(self.first_name());
    }

    /// `anna.petrova@uralneftemash.ru`, or a personal mailbox with the company number
    /// in it (`anna.petrova2731@mail.ru`) when `personal`.
    pub fn write_email(&self, personal: Option<usize>, out: &mut String) {
        translit(self.first_name(), out);
        out.push('.');
        translit(SURNAMES[self.last], out);
        if self.female {
            out.push('a');
        }
        match personal {
            Some(d) => {
                out.push_str(&self.company.index.to_string());
                out.push('@');
                out.push_str(PERSONAL_DOMAINS[d % PERSONAL_DOMAINS.len()]);
            }
            None => {
                out.push('@');
                self.company.write_domain(out);
            }
        }
    }

    /// The phone in one of the spellings CRMs hold (all normalize to the same 7XXXXXXXXXX).
    pub fn write_phone(&self, style: usize, out: &mut String) {
        let d = self.phone.to_string();
        match style % 4 {
            0 => {
                out.push_str("+7 (");
                out.push_str(&d[0..3]);
                out.push_str(") ");
                out.push_str(&d[3..6]);
                out.push('-');
                out.push_str(&d[6..8]);
                out.push('-');
                out.push_str(&d[8..10]);
            }
            1 => {
                out.push_str("8 ");
                out.push_str(&d[0..3]);
                out.push(' ');
                out.push_str(&d[3..6]);
                out.push('-');
                out.push_str(&d[6..8]);
                out.push('-');
                out.push_str(&d[8..10]);
            }
            2 => {
                out.push_str("+7");
                out.push_str(&d);
            }
            _ => {
                out.push('8');
                out.push_str(&d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn company_domains_and_names_are_unique() {
        let mut domains = BTreeSet::new();
        let mut names = BTreeSet::new();
        for i in 0..COMPANIES {
            let c = ClientCompany::new(1, i);
            let mut d = String::new();
            c.write_domain(&mut d);
            assert!(d.is_ascii(), "{d}");
            assert!(domains.insert(d.clone()), "duplicate domain {d}");
            let mut n = String::new();
            // Names without the legal form are unique too.
            c.write_name(1, &mut n);
            let bare = n.split_once(' ').unwrap().1.to_string();
            assert!(names.insert(bare), "duplicate name {n}");
        }
    }

    #[test]
    fn people_have_unique_emails_and_phones() {
        let mut locals = BTreeSet::new();
        for p in 0..PEOPLE_PER_COMPANY as usize {
            let person = Person {
                company: ClientCompany::new(1, 0),
                first: p % 20,
                last: p / 40,
                female: p % 40 >= 20,
                phone: 9_000_000_000,
            };
            let mut e = String::new();
            person.write_email(None, &mut e);
            assert!(locals.insert(e.clone()), "duplicate email {e}");
        }
        let mut phones = BTreeSet::new();
        let mut emails = BTreeSet::new();
        for a in 0..20_000 {
            let p = Person::for_arrival(42, a);
            assert!(phones.insert(p.phone));
            assert!((9_000_000_000..10_000_000_000).contains(&p.phone));
            let mut e = String::new();
            p.write_email(None, &mut e);
            assert!(emails.insert(e));
        }
    }

    #[test]
    fn phone_spellings_normalize_alike() {
        let p = Person::for_arrival(3, 17);
        let norm = |s: &str| {
            let d: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
            if d.len() == 11 && d.starts_with('8') {
                format!("7{}", &d[1..])
            } else {
                d
            }
        };
        let spelled: Vec<String> = (0..4)
            .map(|st| {
                let mut s = String::new();
                p.write_phone(st, &mut s);
                norm(&s)
            })
            .collect();
        assert!(
            spelled.iter().all(|s| s == &spelled[0] && s.len() == 11),
            "{spelled:?}"
        );
    }

    #[test]
    fn translit_is_plain_ascii() {
        let mut s = String::new();
        translit("Соловьев Юлия-Щука", &mut s);
        assert_eq!(s, "solovev-yuliya-schuka");
    }
}
