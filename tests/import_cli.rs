//! `marqa import` as a user meets it: spreadsheets with title rows and merged header
//! cells, rejected rows and the exit code, the output folder rules, determinism, mapping
//! files and their errors, presets printed and adapted.

#[path = "import_support/mod.rs"]
mod common;

use std::path::{Path, PathBuf};

use common::{csv_value, fixture, import, marqa, read_csv, text};

fn f(rel: &str) -> String {
    fixture(rel).to_str().unwrap().to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The amoCRM fixture as an .xlsx the way people receive it: a title row, a row of merged
/// group headers («Сделка», «Контакт», «UTM») above the real header, «ID» merged down over
/// both header rows, dates as date cells and the budget as numbers.
fn amo_xlsx(path: &Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let (header, rows) = read_semicolon(&fixture("amocrm/amo_leads.csv"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let plain = Format::new();
    let date = Format::new().set_num_format("dd.mm.yyyy hh:mm");
    ws.merge_range(0, 0, 0, 19, "Сделки: экспорт от 01.07.2026", &plain)
        .unwrap();
    ws.merge_range(1, 0, 2, 0, "ID", &plain).unwrap();
    ws.merge_range(1, 1, 1, 10, "Сделка", &plain).unwrap();
    ws.merge_range(1, 11, 1, 14, "Контакт", &plain).unwrap();
    ws.merge_range(1, 15, 1, 19, "UTM", &plain).unwrap();
    for (c, h) in header.iter().enumerate().skip(1) {
        ws.write_string(2, c as u16, h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 3;
        for (c, v) in row.iter().enumerate() {
            let c16 = c as u16;
            if v.is_empty() {
                continue;
            }
            match header[c].as_str() {
                "ID" => ws
                    .write_number(r, c16, v.parse::<f64>().unwrap())
                    .map(|_| ()),
                "Бюджет ₽" => {
                    let n: f64 = v
                        .replace([' ', '\u{a0}'], "")
                        .replace(',', ".")
                        .parse()
                        .unwrap();
                    ws.write_number(r, c16, n).map(|_| ())
                }
                "Дата создания" | "Дата закрытия" => {
                    // 01.03.2026 09:15:00
                    let p = |a: usize, b: usize| v[a..b].parse::<u16>().unwrap();
                    let dt = ExcelDateTime::from_ymd(p(6, 10), p(3, 5) as u8, p(0, 2) as u8)
                        .unwrap()
                        .and_hms(p(11, 13), p(14, 16) as u8, p(17, 19))
                        .unwrap();
                    ws.write_datetime_with_format(r, c16, dt, &date).map(|_| ())
                }
                _ => ws.write_string(r, c16, v).map(|_| ()),
            }
            .unwrap();
        }
    }
    wb.save(path).unwrap();
}

fn read_semicolon(p: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(p).unwrap();
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let h = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    (h, rows)
}

#[test]
fn xlsx_with_a_title_row_and_merged_header_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let xlsx = tmp.path().join("amo.xlsx");
    amo_xlsx(&xlsx);
    let out = tmp.path().join("s");
    let o = import(&out, &["--preset", "amocrm", s(&xlsx)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report = String::from_utf8_lossy(&o.stdout);
    // The header is found on sheet row 3, under the title and the merged group row.
    assert!(
        report.contains("leads         8 read, 8 written, 0 rejected, 0 skipped, header on row 3"),
        "{report}"
    );
    let leads = out.join("leads.csv");
    // «ID» comes from the cell merged down over rows 2–3; ids were numbers: no ".0".
    assert_eq!(csv_value(&leads, "lead_id", "1001", "source"), "yandex");
    // Date cells (Excel serials) in the snapshot's zone.
    assert_eq!(
        csv_value(&leads, "lead_id", "1001", "created_at"),
        "2026-03-01T09:15:00+03:00"
    );
    assert_eq!(
        csv_value(&out.join("deals.csv"), "deal_id", "1002", "amount"),
        "1234567.89"
    );
    assert_eq!(
        csv_value(&out.join("deals.csv"), "deal_id", "1002", "closed_at"),
        "2026-04-15T18:30:00+03:00"
    );
    assert_eq!(marqa(&["validate", s(&out)]).status.code(), Some(0));
}

#[test]
fn header_row_in_a_mapping_file() {
    let tmp = tempfile::tempdir().unwrap();
    let xlsx = tmp.path().join("amo.xlsx");
    amo_xlsx(&xlsx);
    // The group row 2 holds «ID» too; pointing at it must be honoured (and then fail to
    // find «Дата создания»), pointing at row 3 works.
    let mapping = |row: u32| {
        format!(
            "version: 1\ntables:\n  - table: leads\n    file: amo.xlsx\n    header_row: {row}\n    columns:\n      lead_id: ID\n      created_at: Дата создания\n"
        )
    };
    let m = tmp.path().join("import.yaml");
    std::fs::write(&m, mapping(2)).unwrap();
    let o = import(&tmp.path().join("a"), &["--mapping", s(&m)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("E-IMPORT-COLUMN-MISSING") && err.contains("amo.xlsx:2:1"),
        "{err}"
    );
    std::fs::write(&m, mapping(3)).unwrap();
    let o = import(&tmp.path().join("b"), &["--mapping", s(&m)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("header on row 3"));
}

#[test]
fn a_row_with_an_unparseable_date_is_rejected_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("amo.csv");
    let text_in = std::fs::read_to_string(fixture("amocrm/amo_leads.csv"))
        .unwrap()
        .replace("05.03.2026 14:40:00", "31.02.2026 14:40:00");
    std::fs::write(&csv, text_in).unwrap();
    let out = tmp.path().join("s");
    let o = import(&out, &["--preset", "amocrm", s(&csv)]);
    // Exit 1: some rows were rejected; the snapshot is still written.
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("leads         8 read, 7 written, 1 rejected"),
        "{stdout}"
    );
    // Row 1003 is on line 4 (line 1 is the header).
    let line = format!("{}:4 (leads): `created_at`: `31.02.2026 14:40:00` is not a real date or time (column «Дата создания»)", csv.display());
    assert!(stdout.contains(&line), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("import-report.json")).unwrap()).unwrap();
    assert_eq!(
        report["rows_rejected"], 2,
        "one leads row and one deals row"
    );
    assert_eq!(report["rejected"][0]["row"], 4);
    assert_eq!(report["rejected"][0]["file"], csv.to_str().unwrap());
    assert!(report["rejected"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("not a real date"));
    let (_, rows) = read_csv(&out.join("leads.csv"));
    assert_eq!(rows.len(), 7);
    assert!(!rows.iter().any(|r| r[0] == "1003"));
    assert_eq!(marqa(&["validate", s(&out)]).status.code(), Some(0));
}

#[test]
fn the_output_folder_is_protected() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let args = ["--preset", "generic", &f("generic/leads.csv")];
    assert_eq!(import(&out, &args).status.code(), Some(0));
    // Not empty: refused without --force.
    let o = import(&out, &args);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("E-IMPORT-OUT-NOT-EMPTY"));
    // --keep-manifest keeps an edited manifest.
    let manifest = out.join("snapshot.yaml");
    let edited = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("company: s  #", "company: Kappa  #");
    std::fs::write(&manifest, &edited).unwrap();
    let mut forced = args.to_vec();
    forced.extend(["--force", "--keep-manifest"]);
    let o = import(&out, &forced);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), edited);
    // A file the import did not write is never deleted, even with --force.
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let o = import(&out, &forced);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("notes.txt"));
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn inputs_are_never_modified_and_output_is_deterministic() {
    let inputs = [
        fixture("amocrm/amo_leads.csv"),
        fixture("yandex-direct/direct_api.tsv"),
        fixture("google-ads/campaigns.csv"),
        fixture("calltouch/calls.csv"),
    ];
    let before: Vec<Vec<u8>> = inputs.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let run = |dir: &Path, order: &[usize]| -> PathBuf {
        let presets = ["amocrm", "yandex-direct", "google-ads", "calltouch"];
        let mut args: Vec<String> = Vec::new();
        for &i in order {
            args.extend([
                "--preset".into(),
                presets[i].into(),
                inputs[i].to_str().unwrap().into(),
            ]);
        }
        let out = dir.join("acme");
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = import(&out, &a);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        out
    };
    let (t1, t2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = run(t1.path(), &[0, 1, 2, 3]);
    // Ad cabinets in the other order: the same spend table.
    let b = run(t2.path(), &[0, 2, 1, 3]);
    for file in ["leads.csv", "deals.csv", "spend.csv", "calls.csv"] {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{file} differs between runs"
        );
    }
    let t3 = tempfile::tempdir().unwrap();
    let c = run(t3.path(), &[0, 1, 2, 3]);
    for file in ["snapshot.yaml", "spend.csv"] {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(c.join(file)).unwrap()
        );
    }
    let after: Vec<Vec<u8>> = inputs.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert_eq!(before, after, "inputs changed");
}

#[test]
fn one_mapping_file_for_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let exports = tmp.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    std::fs::copy(fixture("generic/leads.csv"), exports.join("crm.csv")).unwrap();
    std::fs::copy(
        fixture("yandex-direct/direct_api.tsv"),
        exports.join("direct.tsv"),
    )
    .unwrap();
    let m = tmp.path().join("import.yaml");
    std::fs::write(
        &m,
        r#"version: 1
snapshot: {company: "ООО Каппа", currency: RUB, timezone: Europe/Moscow, as_of: "2026-07-01T00:00:00+03:00"}
tables:
  - table: leads
    file: exports/crm.csv
    encoding: windows-1251
    columns:
      lead_id: Номер заявки
      created_at: {from: Дата заявки, format: ["DD.MM.YYYY HH:MM", "DD.MM.YYYY"]}
      source: {from: Источник, map: {vk: vk_ads}}
      medium: Канал
      email: Почта
      company_domain: {expr: "coalesce(domain(email), 'нет')"}
      origin: {value: form}
      status: {from: Статус, map: {Новая: new, "В работе": working}, unmapped: slug}
    extra:
      manager: Менеджер
  - table: spend
    file: exports/direct.tsv
    skip_rows: ["^Total rows"]
    columns:
      date: Date
      source: {value: yandex}
      medium: {value: cpc}
      campaign: CampaignName
      amount: {from: Cost, number: {scale: micros}}
"#,
    )
    .unwrap();
    let out = tmp.path().join("s");
    let o = marqa(&["import", "--mapping", s(&m), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let leads = out.join("leads.csv");
    assert_eq!(csv_value(&leads, "lead_id", "Z-2", "source"), "vk_ads");
    assert_eq!(csv_value(&leads, "lead_id", "Z-2", "company_domain"), "нет");
    assert_eq!(csv_value(&leads, "lead_id", "Z-1", "origin"), "form");
    assert_eq!(csv_value(&leads, "lead_id", "Z-1", "status"), "new");
    assert_eq!(csv_value(&leads, "lead_id", "Z-3", "status"), "otkaz");
    assert_eq!(csv_value(&leads, "lead_id", "Z-3", "manager"), "Иванова");
    // Unmapped columns are carried; a mapped one (Менеджер) is not repeated.
    let (h, _) = read_csv(&leads);
    assert!(
        h.contains(&"Телефон".to_string()) && !h.contains(&"Менеджер".to_string()),
        "{h:?}"
    );
    let manifest = std::fs::read_to_string(out.join("snapshot.yaml")).unwrap();
    assert!(manifest.contains("company: \"ООО Каппа\"\n"), "{manifest}");
    assert!(
        manifest.contains("as_of: \"2026-07-01T00:00:00+03:00\"\n"),
        "{manifest}"
    );
    assert_eq!(marqa(&["validate", s(&out)]).status.code(), Some(0));
}

#[test]
fn mapping_errors_point_into_the_file_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("import.yaml");
    std::fs::write(
        &m,
        "version: 1\ntables:\n  - table: leads\n    file: x.csv\n    columns:\n      lead_id: ID\n      created_at: {from: Дата, format: DD.MMM.YYYY}\n      company_domain: {expr: domian(email)}\n",
    )
    .unwrap();
    let o = marqa(&[
        "import",
        "--mapping",
        s(&m),
        "--out",
        s(&tmp.path().join("s")),
        "--currency",
        "RUB",
        "--timezone",
        "UTC",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{}:7:", m.display())) && err.contains("E-MAPPING-DATE-FORMAT"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}:8:", m.display())) && err.contains("did you mean `domain`?"),
        "{err}"
    );
    assert!(
        !tmp.path().join("s").exists(),
        "nothing is written on errors"
    );
}

#[test]
fn flags_and_files_that_do_not_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    // A preset name with a typo.
    let o = import(&out, &["--preset", "amocmr", &f("amocrm/amo_leads.csv")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean `amocrm`?"));
    // An export that is not what the preset reads.
    let o = import(
        &out,
        &["--preset", "calltouch", &f("yandex-direct/direct_api.tsv")],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("E-IMPORT-"),
        "{}",
        text(&o)
    );
    // No time zone.
    let o = marqa(&[
        "import",
        "--preset",
        "generic",
        &f("generic/leads.csv"),
        "--currency",
        "RUB",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--timezone"));
    // Costs alone make no snapshot: it needs leads.
    let o = import(
        &out,
        &[
            "--preset",
            "yandex-direct",
            &f("yandex-direct/direct_api.tsv"),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("E-IMPORT-NO-LEADS"));
    assert!(!out.exists());
}

#[test]
fn presets_print_and_adapt() {
    let o = marqa(&["import", "--list-presets"]);
    let list = String::from_utf8_lossy(&o.stdout);
    for p in [
        "amocrm",
        "bitrix24",
        "hubspot",
        "yandex-direct",
        "google-ads",
        "calltouch",
        "yandex-metrica",
        "generic",
    ] {
        assert!(list.contains(p), "{list}");
    }
    let o = marqa(&["import", "--print-preset", "amocrm"]);
    assert_eq!(o.status.code(), Some(0));
    let text_out = String::from_utf8(o.stdout).unwrap();
    assert!(text_out.starts_with("# amoCRM"), "{text_out}");
    // The printed preset, adapted (a renamed column), used with --preset PATH FILE.
    let tmp = tempfile::tempdir().unwrap();
    assert!(text_out.contains("[ID, id,"), "{text_out}");
    let adapted = text_out.replace("[ID, id,", "[Номер, id,");
    let p = tmp.path().join("my-amocrm.yaml");
    std::fs::write(&p, adapted).unwrap();
    let csv = tmp.path().join("amo.csv");
    let data = std::fs::read_to_string(fixture("amocrm/amo_leads.csv"))
        .unwrap()
        .replacen("ID;", "Номер;", 1);
    std::fs::write(&csv, data).unwrap();
    let out = tmp.path().join("s");
    let o = import(&out, &["--preset", s(&p), s(&csv)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        csv_value(&out.join("leads.csv"), "lead_id", "1001", "source"),
        "yandex"
    );
}

/// A minimal OpenDocument spreadsheet: a title row, then a header and typed cells (a date
/// cell, a float), as LibreOffice writes them.
fn write_ods(path: &Path) {
    use std::io::Write;
    let cell = |v: &str| {
        format!("<table:table-cell office:value-type=\"string\"><text:p>{v}</text:p></table:table-cell>")
    };
    let row = |cells: Vec<String>| format!("<table:table-row>{}</table:table-row>", cells.concat());
    let rows = [
        row(vec![cell("Заявки за март 2026")]),
        row(["Номер заявки", "Дата заявки", "Источник", "Канал", "Сотрудников"].map(cell).to_vec()),
        row(vec![
            cell("O-1"),
            "<table:table-cell office:value-type=\"date\" office:date-value=\"2026-03-01T09:15:00\"><text:p>01.03.2026 09:15</text:p></table:table-cell>".into(),
            cell("yandex"),
            cell("cpc"),
            "<table:table-cell office:value-type=\"float\" office:value=\"1500\"><text:p>1 500</text:p></table:table-cell>".into(),
        ]),
    ];
    let content = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" office:version=\"1.2\"><office:body><office:spreadsheet><table:table table:name=\"Лиды\">{}</table:table></office:spreadsheet></office:body></office:document-content>",
        rows.concat()
    );
    let manifest = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" manifest:version=\"1.2\"><manifest:file-entry manifest:full-path=\"/\" manifest:media-type=\"application/vnd.oasis.opendocument.spreadsheet\"/><manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/></manifest:manifest>";
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default();
    z.start_file("mimetype", stored).unwrap();
    z.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    z.start_file("META-INF/manifest.xml", deflated).unwrap();
    z.write_all(manifest.as_bytes()).unwrap();
    z.start_file("content.xml", deflated).unwrap();
    z.write_all(content.as_bytes()).unwrap();
    z.finish().unwrap();
}

#[test]
fn ods_spreadsheets() {
    let tmp = tempfile::tempdir().unwrap();
    let ods = tmp.path().join("leads.ods");
    write_ods(&ods);
    let out = tmp.path().join("s");
    let o = import(&out, &["--preset", "generic", s(&ods)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(
        report.contains("ods, sheet «Лиды»") && report.contains("header on row 2"),
        "{report}"
    );
    let leads = out.join("leads.csv");
    assert_eq!(
        csv_value(&leads, "lead_id", "O-1", "created_at"),
        "2026-03-01T09:15:00+03:00"
    );
    assert_eq!(csv_value(&leads, "lead_id", "O-1", "company_size"), "1500");
}

#[test]
fn force_replaces_every_table_of_the_earlier_import() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let o = import(&out, &["--preset", "amocrm", &f("amocrm/amo_leads.csv")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(out.join("deals.csv").exists());
    // The new import has no deals: the earlier deals.csv must not linger beside it.
    let o = import(
        &out,
        &["--preset", "generic", &f("generic/leads.csv"), "--force"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!out.join("deals.csv").exists());
    let (_, rows) = read_csv(&out.join("leads.csv"));
    assert_eq!(rows.len(), 3);
    assert_eq!(marqa(&["validate", s(&out)]).status.code(), Some(0));
}
