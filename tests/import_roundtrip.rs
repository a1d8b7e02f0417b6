//! Round trip: a generated snapshot (`marqa generate --clean`) is written out in each
//! preset's raw export layout (the test helper in import_support/raw_layouts.rs),
//! imported back with the preset, and every field the layout carries must come back equal.

#[path = "import_support/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::raw_layouts::{self as raw, Src};
use common::{cell, import_in, load, text};
use marqa::snapshot::{Snapshot, Table, TableName};

/// The snapshot every layout is written from: a small generated one (≈ 130 leads, 2 000
/// spend rows, 1 700 traffic rows), without injected defects so that ids are unique.
/// `MARQA_ROUNDTRIP_SOURCE=hand` uses the hand-written tests/fixtures/import/roundtrip.
fn source_snapshot(tmp: &Path) -> Snapshot {
    if std::env::var("MARQA_ROUNDTRIP_SOURCE").as_deref() == Ok("hand") {
        return load(&common::fixture("roundtrip"));
    }
    let dir = tmp.join("generated");
    let o = common::marqa(&[
        "generate",
        "--clean",
        "--seed",
        "7",
        "--scale",
        "0.05",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    load(&dir)
}

fn by_key(t: &Table, key: &[&str]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for i in 0..t.rows {
        let k: Vec<String> = key.iter().map(|c| cell(t, c, i)).collect();
        assert!(
            m.insert(k.join("|"), i).is_none(),
            "duplicate key {k:?} in {}",
            t.name
        );
    }
    m
}

/// Compare `fields` of every source row (keyed by `key`) with the imported row. `adjust`
/// maps (field, source value) to what the layout can carry (e.g. minutes only).
fn same(
    what: &str,
    src: &Table,
    rows: &[usize],
    got: &Table,
    key: &[&str],
    fields: &[&str],
    adjust: &dyn Fn(&str, String) -> String,
) {
    let index = by_key(got, key);
    assert_eq!(index.len(), rows.len(), "{what}: row count");
    let mut checked = 0;
    for &i in rows {
        let k: Vec<String> = key.iter().map(|c| cell(src, c, i)).collect();
        let j = *index
            .get(&k.join("|"))
            .unwrap_or_else(|| panic!("{what}: row {k:?} did not come back"));
        for f in fields {
            let want = adjust(f, cell(src, f, i));
            let have = adjust(f, cell(got, f, j));
            assert_eq!(have, want, "{what}: `{f}` of row {k:?}");
            checked += 1;
        }
    }
    assert!(checked > 0, "{what}: nothing compared");
}

fn all(t: &Table) -> Vec<usize> {
    (0..t.rows).collect()
}

fn exact(_: &str, v: String) -> String {
    v
}

fn run(src: &Snapshot, dir: &Path, presets: &[(&str, &PathBuf)]) -> Snapshot {
    let out = dir.join("out");
    let mut args: Vec<&str> = Vec::new();
    for (p, f) in presets {
        args.extend(["--preset", p, f.to_str().unwrap()]);
    }
    args.extend(["--timezone", &src.manifest.timezone]);
    let o = import_in(&out, &args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    load(&out)
}

const LEAD_FIELDS: &[&str] = &[
    "lead_id",
    "created_at",
    "source",
    "medium",
    "campaign",
    "content",
    "term",
    "email",
    "phone",
    "company",
    "owner",
];

#[test]
fn amocrm_xlsx_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = source_snapshot(tmp.path());
    let s = Src { snap: &snap };
    let file = raw::amocrm_xlsx(&s, tmp.path());
    let got = run(&snap, tmp.path(), &[("amocrm", &file)]);
    let (sl, gl) = (
        s.table(TableName::Leads),
        got.table(TableName::Leads).unwrap(),
    );
    same(
        "amocrm leads",
        sl,
        &all(sl),
        gl,
        &["lead_id"],
        LEAD_FIELDS,
        &exact,
    );
    // An amoCRM lead is our lead and its deal: compare the deal fields by lead.
    let (sd, gd) = (
        s.table(TableName::Deals),
        got.table(TableName::Deals).unwrap(),
    );
    let gd_by_lead = by_key(gd, &["lead_id"]);
    let imported_funnel = got.manifest.funnel.as_ref().unwrap();
    let source_funnel = snap.manifest.funnel.as_ref().unwrap();
    let mut compared = 0;
    // Deals without a lead have no row of their own in amoCRM's layout.
    for i in (0..sd.rows).filter(|&i| !cell(sd, "lead_id", i).is_empty()) {
        compared += 1;
        let lead = cell(sd, "lead_id", i);
        let j = gd_by_lead[&lead];
        for f in ["status", "closed_at", "amount", "lost_reason"] {
            assert_eq!(
                cell(gd, f, j),
                cell(sd, f, i),
                "amocrm deal of lead {lead}: `{f}`"
            );
        }
        // Stage ids are made from stage names; the scaffolded funnel names them back.
        let (want, have) = (cell(sd, "stage", i), cell(gd, "stage", j));
        match want.as_str() {
            "won" | "lost" => assert_eq!(have, want),
            id => {
                let name = |f: &marqa::snapshot::manifest::Funnel, id: &str| {
                    f.stages
                        .iter()
                        .find(|x| x.id == id)
                        .and_then(|x| x.name.clone())
                };
                assert_eq!(
                    name(imported_funnel, &have),
                    name(source_funnel, id),
                    "stage of lead {lead}"
                );
            }
        }
    }
    assert!(compared > 0, "no deal compared");
}

#[test]
fn bitrix24_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = source_snapshot(tmp.path());
    let s = Src { snap: &snap };
    let (leads, deals) = raw::bitrix24_csv(&s, tmp.path());
    let got = run(
        &snap,
        tmp.path(),
        &[("bitrix24", &leads), ("bitrix24", &deals)],
    );
    let (sl, gl) = (
        s.table(TableName::Leads),
        got.table(TableName::Leads).unwrap(),
    );
    let mut fields = LEAD_FIELDS.to_vec();
    fields.push("status");
    same(
        "bitrix24 leads",
        sl,
        &all(sl),
        gl,
        &["lead_id"],
        &fields,
        &exact,
    );
    let (sd, gd) = (
        s.table(TableName::Deals),
        got.table(TableName::Deals).unwrap(),
    );
    // The list export has close dates without times.
    let day = |f: &str, v: String| {
        if f == "closed_at" && !v.is_empty() {
            raw::day_of(&s, v.parse().unwrap())
        } else {
            v
        }
    };
    same(
        "bitrix24 deals",
        sd,
        &all(sd),
        gd,
        &["deal_id"],
        &[
            "deal_id",
            "created_at",
            "lead_id",
            "status",
            "closed_at",
            "amount",
            "owner",
        ],
        &day,
    );
}

#[test]
fn hubspot_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = source_snapshot(tmp.path());
    let s = Src { snap: &snap };
    let (contacts, deals) = raw::hubspot_csv(&s, tmp.path());
    let got = run(
        &snap,
        tmp.path(),
        &[("hubspot", &contacts), ("hubspot", &deals)],
    );
    // HubSpot exports dates to the minute, and knows traffic source types, not mediums:
    // a medium it has no type for comes back as its "Other campaigns".
    let minute = |f: &str, v: String| {
        if ["created_at", "closed_at"].contains(&f) && !v.is_empty() {
            (v.parse::<i64>().unwrap().div_euclid(60)).to_string()
        } else if f == "medium" && !raw::HUBSPOT_MEDIUMS.contains(&v.as_str()) {
            "other".into()
        } else {
            v
        }
    };
    let (sl, gl) = (
        s.table(TableName::Leads),
        got.table(TableName::Leads).unwrap(),
    );
    same(
        "hubspot contacts",
        sl,
        &all(sl),
        gl,
        &["lead_id"],
        &[
            "lead_id",
            "created_at",
            "source",
            "medium",
            "campaign",
            "email",
            "phone",
            "company",
            "owner",
            "status",
            "industry",
            "company_size",
            "region",
        ],
        &minute,
    );
    let (sd, gd) = (
        s.table(TableName::Deals),
        got.table(TableName::Deals).unwrap(),
    );
    same(
        "hubspot deals",
        sd,
        &all(sd),
        gd,
        &["deal_id"],
        &[
            "deal_id",
            "created_at",
            "lead_id",
            "status",
            "closed_at",
            "amount",
            "owner",
            "lost_reason",
        ],
        &minute,
    );
}

#[test]
fn ads_calls_and_traffic_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = source_snapshot(tmp.path());
    let s = Src { snap: &snap };
    let leads = raw::generic_leads_csv(&s, tmp.path());
    let direct = raw::direct_tsv(&s, tmp.path());
    let gads = raw::google_ads_csv(&s, tmp.path());
    let calls = raw::calltouch_csv(&s, tmp.path());
    let traffic = raw::metrica_csv(&s, tmp.path());
    let got = run(
        &snap,
        tmp.path(),
        &[
            ("generic", &leads),
            ("yandex-direct", &direct),
            ("google-ads", &gads),
            ("calltouch", &calls),
            ("yandex-metrica", &traffic),
        ],
    );
    let (sl, gl) = (
        s.table(TableName::Leads),
        got.table(TableName::Leads).unwrap(),
    );
    let mut fields = LEAD_FIELDS.to_vec();
    fields.extend(["status", "segment", "industry", "company_size", "region"]);
    same(
        "generic leads",
        sl,
        &all(sl),
        gl,
        &["lead_id"],
        &fields,
        &exact,
    );

    let (ss, gs) = (
        s.table(TableName::Spend),
        got.table(TableName::Spend).unwrap(),
    );
    let spend_fields = [
        "date",
        "source",
        "medium",
        "campaign",
        "amount",
        "impressions",
        "clicks",
    ];
    // The cabinets' reports carry their own rows only.
    let ads: Vec<usize> = (0..ss.rows)
        .filter(|&i| ["yandex", "google"].contains(&cell(ss, "source", i).as_str()))
        .collect();
    same(
        "spend (yandex-direct and google-ads)",
        ss,
        &ads,
        gs,
        &["date", "source", "campaign"],
        &spend_fields,
        &exact,
    );

    let (sc, gc) = (
        s.table(TableName::Calls),
        got.table(TableName::Calls).unwrap(),
    );
    same(
        "calltouch calls",
        sc,
        &all(sc),
        gc,
        &["call_id"],
        &[
            "call_id",
            "at",
            "source",
            "medium",
            "campaign",
            "answered",
            "duration_s",
        ],
        &exact,
    );

    let (st, gt) = (
        s.table(TableName::Traffic),
        got.table(TableName::Traffic).unwrap(),
    );
    same(
        "metrica traffic",
        st,
        &all(st),
        gt,
        &["date", "source", "medium"],
        &["date", "source", "medium", "visits", "unique_visitors"],
        &exact,
    );
}
