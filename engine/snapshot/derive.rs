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
    tables.par_iter_mut().for_each(|t| fill_channel(t, rules));
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

fn fill_channel(t: &mut Table, rules: &[ChannelRule]) {
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
                let name = match_channel(
                    rules,
                    cat_value(source, key[0]),
                    cat_value(medium, key[1]),
                    cat_value(campaign, key[2]),
                    cat_value(origin, key[3]),
                )
                .unwrap_or(NO_CHANNEL);
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
}
