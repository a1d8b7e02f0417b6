//! Property tests for the cell parsers: whatever marqa writes, it reads back exactly.

use jiff::tz::TimeZone;
use marqa::snapshot::column::format_money;
use marqa::snapshot::time::{
    date_from_days, days_from_date, format_day, format_instant, LocalClock,
};
use marqa::snapshot::value::{parse_date, parse_money, parse_timestamp};
use proptest::prelude::*;

proptest! {
    #[test]
    fn money_round_trips(v in -9_000_000_000_000_000i64..9_000_000_000_000_000i64) {
        prop_assert_eq!(parse_money(&format_money(v)), Ok(v));
    }

    #[test]
    fn dates_round_trip(day in -700_000i32..2_900_000i32) {
        prop_assert_eq!(days_from_date(date_from_days(day)), day);
        prop_assert_eq!(parse_date(&format_day(day)), Ok(day));
    }

    #[test]
    fn instants_round_trip_in_any_zone(ts in -2_000_000_000i64..4_000_000_000i64, zone in prop::sample::select(vec!["Europe/Moscow", "UTC", "America/New_York", "Asia/Kolkata", "Europe/Berlin"])) {
        let clock = LocalClock::new(TimeZone::get(zone).unwrap());
        let text = format_instant(ts, clock.zone());
        prop_assert_eq!(parse_timestamp(&text, &clock), Ok(ts));
    }

    #[test]
    fn local_day_matches_jiff(ts in -2_000_000_000i64..4_000_000_000i64, zone in prop::sample::select(vec!["Europe/Moscow", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"])) {
        let tz = TimeZone::get(zone).unwrap();
        let clock = LocalClock::new(tz.clone());
        let expected = jiff::Timestamp::from_second(ts).unwrap().to_zoned(tz).date();
        prop_assert_eq!(clock.local_day(ts), days_from_date(expected));
    }

    #[test]
    fn parsers_never_panic(s in "\\PC{0,40}") {
        let clock = LocalClock::new(TimeZone::UTC);
        let _ = parse_money(&s);
        let _ = parse_date(&s);
        let _ = parse_timestamp(&s, &clock);
    }
}
