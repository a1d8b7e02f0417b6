//! Values the snapshot format defines as derived: a row's channel, when its `channel` cell
//! is empty, comes from the manifest `channels` map (first match wins, else `(none)`).
//! Done once at load, so every metric and rule sees the same channel for a row.

use std::collections::HashMap;

use foldhash::fast::FixedState;

use super::column::{CatColumn, Column, ColumnData};
use super::manifest::ChannelRule;
use super::spec::{ColType, TableName};
use super::table::Table;
use super::Snapshot;

/// The channel of rows that no rule matches.
pub const NO_CHANNEL: &str = "(none)";

/// The columns the manifest's `channels` map reads, in [`match_channel`]'s order.
const MAP_COLUMNS: [&str; 4] = ["source", "medium", "campaign", "origin"];

pub fn derive_channels(snap: &mut Snapshot) {
    use rayon::prelude::*;
    let rules = &snap.manifest.channels;
    // The tables are independent: leads and touches (the big ones) side by side.
    let mut tables: Vec<&mut Table> = snap
        .tables
        .iter_mut()
        .filter(|(name, _)| {
            matches!(
                name,
                TableName::Leads | TableName::Touches | TableName::Spend | TableName::Traffic
            )
        })
        .map(|(_, t)| t)
        .collect();
    let gaps: Vec<(TableName, Vec<String>)> = tables
        .par_iter_mut()
        .map(|t| (t.name, fill_channel(t, rules)))
        .collect();
    snap.channel_gaps = gaps.into_iter().filter(|(_, g)| !g.is_empty()).collect();
}

/// Whether a rule could place a row: `Ok(true)` when it matches, `Ok(false)` when a value
/// the row has rules it out, `Err(column)` when everything the row has agrees but the rule
/// also reads `column`, which the table does not have (the row's channel is undecidable).
fn rule_fits<'a>(
    r: &ChannelRule,
    values: [Option<&str>; 4],
    absent: [bool; 4],
) -> Result<bool, &'a str> {
    let lists = [&r.source, &r.medium, &r.campaign, &r.origin];
    let mut unknown = None;
    for k in 0..4 {
        let Some(list) = lists[k] else { continue };
        if absent[k] {
            unknown = Some(MAP_COLUMNS[k]);
            continue;
        }
        let hit =
            values[k].is_some_and(|v| list.iter().any(|x| x.trim().eq_ignore_ascii_case(v.trim())));
        if !hit {
            return Ok(false);
        }
    }
    match unknown {
        Some(c) => Err(c),
        None => Ok(true),
    }
}

/// The channel a rule list gives to a row's UTM values (case-insensitive). A rule with no
/// criteria at all matches every row (a catch-all at the end of the list).
pub fn match_channel<'r>(
    rules: &'r [ChannelRule],
    source: Option<&str>,
    medium: Option<&str>,
    campaign: Option<&str>,
    origin: Option<&str>,
) -> Option<&'r str> {
    let hit = |list: &Option<Vec<String>>, v: Option<&str>| match list {
        None => true,
        Some(list) => {
            v.is_some_and(|v| list.iter().any(|x| x.trim().eq_ignore_ascii_case(v.trim())))
        }
    };
    rules
        .iter()
        .find(|r| {
            hit(&r.source, source)
                && hit(&r.medium, medium)
                && hit(&r.campaign, campaign)
                && hit(&r.origin, origin)
        })
        .map(|r| r.channel.as_str())
}

fn cat_value(c: Option<&CatColumn>, code: u32) -> Option<&str> {
    c.and_then(|c| c.value(code))
}

/// Fill the table's `channel` column; returns the columns the map reads that the table's
/// spec has but its file lacks, when a row needed one to be placed (its channel is
/// `(none)` then, and metrics by channel are n/a: `Snapshot::channel_gaps`).
fn fill_channel(t: &mut Table, rules: &[ChannelRule]) -> Vec<String> {
    let spec = t.name.spec();
    let absent = MAP_COLUMNS.map(|c| spec.column(c).is_some() && t.column(c).is_none());
    let mut gaps: Vec<String> = Vec::new();
    let codes = |name: &str| -> Option<&CatColumn> { t.column(name).and_then(Column::cats) };
    let (source, medium, campaign, origin) = (
        codes("source"),
        codes("medium"),
        codes("campaign"),
        codes("origin"),
    );
    let code = |c: Option<&CatColumn>, i: usize| c.map_or(0, |c| c.codes[i]);
    let existing = t.column("channel").and_then(Column::cats).cloned();
    let mut channel = existing.unwrap_or_else(|| CatColumn::nulls(t.rows));
    // Rows share few distinct UTM combinations: match each combination once.
    let mut memo: HashMap<[u32; 4], u32, FixedState> = HashMap::default();
    for i in 0..t.rows {
        if channel.codes[i] != 0 {
            continue;
        }
        let key = [
            code(source, i),
            code(medium, i),
            code(campaign, i),
            code(origin, i),
        ];
        let derived = match memo.get(&key) {
            Some(&c) => c,
            None => {
                let values = [
                    cat_value(source, key[0]),
                    cat_value(medium, key[1]),
                    cat_value(campaign, key[2]),
                    cat_value(origin, key[3]),
                ];
                let mut name = NO_CHANNEL;
                for r in rules {
                    match rule_fits(r, values, absent) {
                        Ok(true) => {
                            name = r.channel.as_str();
                            break;
                        }
                        Ok(false) => {}
                        Err(col) => {
                            if !gaps.iter().any(|g| g == col) {
                                gaps.push(col.to_string());
                            }
                            break;
                        }
                    }
                }
                let c = channel.code_for(name);
                memo.insert(key, c);
                c
            }
        };
        channel.codes[i] = derived;
    }
    let data = ColumnData::Cat(channel);
    match t.column_index("channel") {
        Some(i) => t.columns[i].data = data,
        None => {
            let mut col = Column::new("channel", ColType::Category, true);
            col.data = data;
            t.columns.push(col);
        }
    }
    gaps.sort();
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(channel: &str, source: Option<&[&str]>, medium: Option<&[&str]>) -> ChannelRule {
        let list = |l: Option<&[&str]>| l.map(|l| l.iter().map(|s| s.to_string()).collect());
        ChannelRule {
            channel: channel.into(),
            source: list(source),
            medium: list(medium),
            campaign: None,
            origin: None,
        }
    }

    #[test]
    fn first_matching_rule_wins() {
        let rules = vec![
            rule("yandex_direct", Some(&["yandex"]), Some(&["cpc"])),
            rule("organic", None, Some(&["organic"])),
            rule("email", None, Some(&["email"])),
        ];
        assert_eq!(
            match_channel(&rules, Some("Yandex"), Some("cpc"), None, None),
            Some("yandex_direct")
        );
        assert_eq!(
            match_channel(&rules, Some("yandex"), Some("organic"), None, None),
            Some("organic")
        );
        assert_eq!(
            match_channel(&rules, Some("google"), Some("cpc"), None, None),
            None
        );
        assert_eq!(match_channel(&rules, None, None, None, None), None);
    }

    #[test]
    fn a_rule_on_an_absent_column_leaves_the_row_undecided() {
        let rules = [
            rule("yandex_direct", Some(&["yandex"]), Some(&["cpc"])),
            rule("partner", Some(&["partner"]), None),
        ];
        let no_medium = [false, true, false, false];
        fn row(s: &str) -> [Option<&str>; 4] {
            [Some(s), None, None, None]
        }
        // yandex agrees with the first rule, which also reads the absent medium.
        assert_eq!(
            rule_fits(&rules[0], row("yandex"), no_medium),
            Err("medium")
        );
        // google is ruled out by what the row has; partner needs only the source.
        assert_eq!(rule_fits(&rules[0], row("google"), no_medium), Ok(false));
        assert_eq!(rule_fits(&rules[1], row("partner"), no_medium), Ok(true));
    }
}
