//! Every preset imports its hand-written fixture (written to the system's documented
//! export layout, with Cyrillic data, the system's date and number formats and its usual
//! encoding), and the result passes `marqa validate`. The values checked below were worked
//! out by hand from the fixture files.

#[path = "import_support/mod.rs"]
mod common;

use std::path::Path;

use common::{csv_value, fixture, import, marqa, read_csv, text};

fn f(rel: &str) -> String {
    fixture(rel).to_str().unwrap().to_string()
}

/// Import, expect exit 0, validate the result.
fn import_ok(out: &Path, args: &[&str]) -> String {
    let o = import(out, args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = marqa(&["validate", out.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "validate: {}", text(&v));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn amocrm_csv_export() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("acme");
    let report = import_ok(&out, &["--preset", "amocrm", &f("amocrm/amo_leads.csv")]);
    assert!(
        report.contains("leads         8 read, 8 written, 0 rejected"),
        "{report}"
    );
    let leads = out.join("leads.csv");
    let deals = out.join("deals.csv");
    // «01.03.2026 09:15:00» in Moscow time.
    assert_eq!(
        csv_value(&leads, "lead_id", "1001", "created_at"),
        "2026-03-01T09:15:00+03:00"
    );
    assert_eq!(
        csv_value(&leads, "lead_id", "1001", "term"),
        "насосы купить"
    );
    // A quoted company name with a comma and quotes survives.
    assert_eq!(
        csv_value(&leads, "lead_id", "1006", "company"),
        "ООО \"Водоканал-Сервис\", Тверь"
    );
    // company_domain is derived from the email: E.Volkova@Techno.ru → techno.ru.
    assert_eq!(
        csv_value(&leads, "lead_id", "1004", "company_domain"),
        "techno.ru"
    );
    // Unmapped columns are carried over as they are.
    assert_eq!(
        csv_value(&leads, "lead_id", "1002", "Название сделки"),
        "Компрессор КВ-30"
    );
    // «1 234 567,89» → 1234567.89; «Успешно реализовано» → won; its «Дата закрытия» kept.
    assert_eq!(csv_value(&deals, "deal_id", "1002", "amount"), "1234567.89");
    assert_eq!(csv_value(&deals, "deal_id", "1002", "status"), "won");
    assert_eq!(
        csv_value(&deals, "deal_id", "1002", "closed_at"),
        "2026-04-15T18:30:00+03:00"
    );
    assert_eq!(csv_value(&deals, "deal_id", "1003", "status"), "lost");
    assert_eq!(csv_value(&deals, "deal_id", "1003", "amount"), "45000.5");
    // Open stages become ids made from their names; the manifest names them back.
    assert_eq!(csv_value(&deals, "deal_id", "1004", "stage"), "peregovory");
    let manifest = std::fs::read_to_string(out.join("snapshot.yaml")).unwrap();
    assert!(
        manifest.contains("{id: peregovory, name: Переговоры}"),
        "{manifest}"
    );
    assert!(
        manifest.contains("period: {from: 2026-03-01, to: 2026-05-20}"),
        "{manifest}"
    );
    assert!(
        manifest.contains("{channel: yandex_direct, source: [yandex], medium: [cpc]}"),
        "{manifest}"
    );
    assert!(manifest.contains("{name: amoCRM, kind: crm}"), "{manifest}");
}

#[test]
fn amocrm_api_json() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    import_ok(
        &out,
        &["--preset", "amocrm", &f("amocrm/amo_api_leads.json")],
    );
    let leads = out.join("leads.csv");
    let deals = out.join("deals.csv");
    // created_at 1772345700 (Unix) = 2026-03-01T06:15:00Z = 09:15 in Moscow.
    assert_eq!(
        csv_value(&leads, "lead_id", "2001", "created_at"),
        "2026-03-01T09:15:00+03:00"
    );
    // custom_fields_values flattened by field code.
    assert_eq!(csv_value(&leads, "lead_id", "2001", "campaign"), "станки");
    // status_id 142 = won, 143 = lost (in every amoCRM account).
    assert_eq!(csv_value(&deals, "deal_id", "2001", "status"), "won");
    assert_eq!(csv_value(&deals, "deal_id", "2002", "status"), "lost");
    assert_eq!(
        csv_value(&deals, "deal_id", "2002", "lost_reason"),
        "Нет бюджета"
    );
    assert_eq!(csv_value(&deals, "deal_id", "2003", "amount"), "125000.5");
}

#[test]
fn bitrix24_windows1251_exports() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let report = import_ok(
        &out,
        &[
            "--preset",
            "bitrix24",
            &f("bitrix24/leads.csv"),
            "--preset",
            "bitrix24",
            &f("bitrix24/deals.csv"),
        ],
    );
    assert!(report.contains("csv (windows-1251, ';')"), "{report}");
    let leads = out.join("leads.csv");
    let deals = out.join("deals.csv");
    assert_eq!(csv_value(&leads, "lead_id", "11", "source"), "yandex");
    assert_eq!(
        csv_value(&leads, "lead_id", "11", "campaign"),
        "пром_оборудование"
    );
    assert_eq!(csv_value(&leads, "lead_id", "12", "origin"), "call");
    assert_eq!(csv_value(&leads, "lead_id", "13", "origin"), "event");
    assert_eq!(csv_value(&deals, "deal_id", "101", "amount"), "1850000");
    assert_eq!(csv_value(&deals, "deal_id", "101", "status"), "open");
    // An open deal's planned close date is not a closing date.
    assert_eq!(csv_value(&deals, "deal_id", "101", "closed_at"), "");
    assert_eq!(csv_value(&deals, "deal_id", "102", "status"), "won");
    assert_eq!(
        csv_value(&deals, "deal_id", "102", "closed_at"),
        "2026-03-25T00:00:00+03:00"
    );
    assert_eq!(csv_value(&deals, "deal_id", "103", "stage"), "lost");
    assert_eq!(
        csv_value(&deals, "deal_id", "104", "stage"),
        "schet_na_predoplatu"
    );
}

#[test]
fn bitrix24_html_excel_export() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let report = import_ok(
        &out,
        &[
            "--preset",
            "bitrix24",
            &f("bitrix24/leads.csv"),
            "--preset",
            "bitrix24",
            &f("bitrix24/deals_excel.xls"),
        ],
    );
    assert!(report.contains("html table (utf-8)"), "{report}");
    let deals = out.join("deals.csv");
    assert_eq!(csv_value(&deals, "deal_id", "101", "amount"), "1850000");
    assert_eq!(csv_value(&deals, "deal_id", "102", "Компания"), "АО «Бета»");
}

#[test]
fn hubspot_contacts_and_deals() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    import_ok(
        &out,
        &[
            "--preset",
            "hubspot",
            &f("hubspot/contacts.csv"),
            "--preset",
            "hubspot",
            &f("hubspot/deals.csv"),
        ],
    );
    let leads = out.join("leads.csv");
    let deals = out.join("deals.csv");
    // Paid search / Google → google, cpc.
    assert_eq!(csv_value(&leads, "lead_id", "51", "source"), "google");
    assert_eq!(csv_value(&leads, "lead_id", "51", "medium"), "cpc");
    assert_eq!(
        csv_value(&leads, "lead_id", "51", "sql_at"),
        "2026-03-05T16:45:00+03:00"
    );
    // «1,200» employees (English thousands separator).
    assert_eq!(csv_value(&leads, "lead_id", "52", "company_size"), "1200");
    // «около 50» is not a number: left empty and counted (`invalid: null`), not rejected.
    assert_eq!(csv_value(&leads, "lead_id", "54", "company_size"), "");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("import-report.json")).unwrap()).unwrap();
    assert_eq!(report["inputs"][0]["parts"][0]["nulled"]["company_size"], 1);
    // The first associated contact is the deal's lead; «53;55» → 53.
    assert_eq!(csv_value(&deals, "deal_id", "9003", "lead_id"), "53");
    assert_eq!(csv_value(&deals, "deal_id", "9003", "status"), "lost");
    // Open deal: HubSpot's expected close date is not a closing date.
    assert_eq!(csv_value(&deals, "deal_id", "9002", "closed_at"), "");
    assert_eq!(
        csv_value(&deals, "deal_id", "9002", "stage"),
        "presentation_scheduled"
    );
}

#[test]
fn ad_cabinets_call_tracking_and_metrica() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let report = import_ok(
        &out,
        &[
            "--preset",
            "amocrm",
            &f("amocrm/amo_leads.csv"),
            "--preset",
            "yandex-direct",
            &f("yandex-direct/direct_api.tsv"),
            "--preset",
            "google-ads",
            &f("google-ads/campaigns.csv"),
            "--preset",
            "calltouch",
            &f("calltouch/calls.csv"),
            "--preset",
            "yandex-metrica",
            &f("yandex-metrica/sources.csv"),
        ],
    );
    // Direct: title line above the header (row 2), "Total rows" skipped.
    assert!(
        report.contains("spend         5 read, 4 written, 0 rejected, 1 skipped, header on row 2"),
        "{report}"
    );
    // Google Ads: two title lines, two Total rows.
    assert!(
        report.contains("spend         5 read, 3 written, 0 rejected, 2 skipped, header on row 3"),
        "{report}"
    );
    let (h, rows) = read_csv(&out.join("spend.csv"));
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let find = |source: &str, campaign: &str, date: &str| {
        rows.iter()
            .find(|r| {
                r[col("source")] == source
                    && r[col("campaign")] == campaign
                    && r[col("date")] == date
            })
            .unwrap_or_else(|| panic!("no spend row {source} {campaign} {date}"))
    };
    // 5 420 300 000 micros = 5420.30; "--" impressions are empty.
    let r = find("yandex", "Бренд | Москва", "2026-03-01");
    assert_eq!(
        (r[col("amount")].as_str(), r[col("clicks")].as_str()),
        ("5420.3", "45")
    );
    let r = find("yandex", "Насосы — РСЯ", "2026-03-02");
    assert_eq!(
        (r[col("amount")].as_str(), r[col("impressions")].as_str()),
        ("0", "")
    );
    // "4,120.50" and "1,250" (English separators).
    let r = find("google", "Компрессоры — поиск", "2026-03-01");
    assert_eq!(
        (r[col("amount")].as_str(), r[col("impressions")].as_str()),
        ("4120.5", "1250")
    );
    let calls = out.join("calls.csv");
    // Windows-1251, DD.MM.YYYY HH:MM:SS, H:MM:SS durations, status words.
    assert_eq!(
        csv_value(&calls, "call_id", "5001", "at"),
        "2026-03-01T09:12:44+03:00"
    );
    assert_eq!(csv_value(&calls, "call_id", "5001", "duration_s"), "135");
    assert_eq!(csv_value(&calls, "call_id", "5004", "duration_s"), "3907");
    assert_eq!(csv_value(&calls, "call_id", "5002", "answered"), "false");
    // No UTM: Calltouch's own source and channel.
    assert_eq!(csv_value(&calls, "call_id", "5002", "medium"), "organic");
    assert_eq!(csv_value(&calls, "call_id", "5001", "Город"), "Москва");
    let (h, rows) = read_csv(&out.join("traffic.csv"));
    // The «Итого и средние» row is skipped; «1 120» visits.
    assert_eq!(rows.len(), 4);
    let v = h.iter().position(|x| x == "visits").unwrap();
    assert!(rows.iter().any(|r| r[v] == "1120"), "{rows:?}");
}

#[test]
fn google_ads_api_json() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let report = import_ok(
        &out,
        &[
            "--preset",
            "amocrm",
            &f("amocrm/amo_leads.csv"),
            "--preset",
            "google-ads",
            &f("google-ads/search_stream.json"),
        ],
    );
    assert!(report.contains("json array at /*/results"), "{report}");
    let (h, rows) = read_csv(&out.join("spend.csv"));
    let a = h.iter().position(|x| x == "amount").unwrap();
    let mut amounts: Vec<&str> = rows.iter().map(|r| r[a].as_str()).collect();
    amounts.sort();
    // costMicros 4120500000 and 980000000.
    assert_eq!(amounts, ["4120.5", "980"]);
}

#[test]
fn generic_russian_headers() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    import_ok(&out, &["--preset", "generic", &f("generic/leads.csv")]);
    let leads = out.join("leads.csv");
    // A date without a time is local midnight; «1 500» employees.
    assert_eq!(
        csv_value(&leads, "lead_id", "Z-3", "created_at"),
        "2026-03-03T00:00:00+03:00"
    );
    assert_eq!(csv_value(&leads, "lead_id", "Z-3", "company_size"), "1500");
    assert_eq!(csv_value(&leads, "lead_id", "Z-2", "source"), "vk");
    let manifest = std::fs::read_to_string(out.join("snapshot.yaml")).unwrap();
    assert!(
        manifest.contains("{channel: vk_ads, source: [vk], medium: [cpm]}"),
        "{manifest}"
    );
}
