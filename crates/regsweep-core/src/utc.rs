//! The one timestamp form GitHub sends and reports print, `YYYY-MM-DDTHH:MM:SSZ`,
//! read and written without jiff's general RFC 3339 machinery (a listing of 100,000
//! versions has 200,000 of them, a report as many again).
//!
//! Both directions handle only that form, on a whole second, from 1970 to 9999, and
//! answer `None` for anything else: the caller then asks jiff, so results never
//! differ from jiff's. The date arithmetic is Howard Hinnant's `days_from_civil` and
//! `civil_from_days`, counted from 0000-03-01 so that a leap day ends its year.

use jiff::Timestamp;

const SECS_PER_DAY: u64 = 86_400;
/// Days from 0000-03-01 to 1970-01-01.
const EPOCH_DAYS: u64 = 719_468;
/// Days in 400 years.
const ERA_DAYS: u64 = 146_097;

/// The timestamp `s` names when it is exactly `YYYY-MM-DDTHH:MM:SSZ` with a valid
/// date and time from 1970 on (no leap second); `None` otherwise, jiff or not.
pub fn parse(s: &str) -> Option<Timestamp> {
    let b: &[u8; 20] = s.as_bytes().try_into().ok()?;
    let punctuation = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'Z'),
    ];
    if punctuation.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let digits = |from: usize, to: usize| -> Option<u64> {
        b[from..to].iter().try_fold(0u64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u64::from(c - b'0'))
        })
    };
    let (year, month, day) = (digits(0, 4)?, digits(5, 7)?, digits(8, 10)?);
    let (hour, minute, second) = (digits(11, 13)?, digits(14, 16)?, digits(17, 19)?);
    if year < 1970 || !(1..=12).contains(&month) || day == 0 || day > month_days(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * SECS_PER_DAY + hour * 3_600 + minute * 60 + second;
    Timestamp::from_second(i64::try_from(secs).ok()?).ok()
}

/// `t` as `YYYY-MM-DDTHH:MM:SSZ` when it is on a whole second from 1970 on: what
/// jiff's `Display` prints for it. `None` otherwise.
pub fn format(t: Timestamp) -> Option<[u8; 20]> {
    let secs = u64::try_from(t.as_second()).ok()?;
    if t.subsec_nanosecond() != 0 {
        return None;
    }
    let (days, in_day) = (secs / SECS_PER_DAY, secs % SECS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    if year > 9_999 {
        return None;
    }
    let mut out = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, width: usize, mut n: u64| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, in_day / 3_600);
    put(14, 2, in_day / 60 % 60);
    put(17, 2, in_day % 60);
    Some(out)
}

fn is_leap(year: u64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn month_days(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date from 1970 on.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y % 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * ERA_DAYS + doe - EPOCH_DAYS
}

/// The date `days` after 1970-01-01.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + EPOCH_DAYS;
    let era = z / ERA_DAYS;
    let doe = z % ERA_DAYS;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + u64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What jiff reads, for a string `parse` reads.
    fn jiff_reads(s: &str) -> Option<Timestamp> {
        s.parse().ok()
    }

    #[test]
    fn edges_read_and_print_as_jiff_does() {
        for s in [
            "1970-01-01T00:00:00Z",
            "1999-12-31T23:59:59Z",
            "2000-02-29T12:00:00Z",
            "2024-02-29T00:00:00Z",
            "2100-03-01T00:00:00Z",
            "2026-12-02T09:53:27Z",
            "9999-12-30T22:00:00Z",
        ] {
            let t = parse(s).unwrap_or_else(|| panic!("{s} is read"));
            assert_eq!(Some(t), jiff_reads(s), "{s}");
            assert_eq!(
                format(t).map(|b| String::from_utf8(b.to_vec()).unwrap()),
                Some(t.to_string())
            );
        }
        for s in [
            "1969-12-31T23:59:59Z",
            "2023-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2016-12-31T23:59:60Z",
            "2026-01-01T00:00:00.5Z",
            "2026-01-01T00:00:00+00:00",
            "2026-01-01t00:00:00Z",
            "2026-01-01 00:00:00Z",
            "+2026-01-01T00:00:0Z",
            "2026-01-01T00:00:0١Z",
        ] {
            assert_eq!(parse(s), None, "{s} is left to jiff");
        }
        let early: Timestamp = "1969-12-31T23:59:59Z".parse().unwrap();
        let fraction: Timestamp = "2026-01-01T00:00:00.5Z".parse().unwrap();
        assert_eq!(format(early), None);
        assert_eq!(format(fraction), None);
    }

    proptest! {
        /// Every timestamp jiff can hold: printed as jiff prints it, or left to jiff;
        /// and read back as jiff reads it.
        #[test]
        fn round_trips_agree_with_jiff(
            secs in Timestamp::MIN.as_second()..=Timestamp::MAX.as_second(),
            nanos in prop_oneof![Just(0i32), 0i32..1_000_000_000],
        ) {
            let t = Timestamp::new(secs, 0).unwrap();
            let t = t.checked_add(jiff::SignedDuration::new(0, nanos)).unwrap_or(t);
            if let Some(b) = format(t) {
                let s = String::from_utf8(b.to_vec()).unwrap();
                prop_assert_eq!(&s, &t.to_string());
                prop_assert_eq!(parse(&s), Some(t));
            } else {
                prop_assert!(secs < 0 || nanos != 0 || t.to_string().len() != 20);
            }
        }

        /// Strings of the form, valid or not: read as jiff reads them, or left to it.
        #[test]
        fn reading_agrees_with_jiff(
            y in 1900u32..10_000, mo in 0u32..14, d in 0u32..33,
            h in 0u32..26, mi in 0u32..62, s in 0u32..62,
        ) {
            let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z");
            if let Some(t) = parse(&text) {
                prop_assert_eq!(Some(t), jiff_reads(&text));
            } else {
                // Left to jiff: an invalid date, a leap second, or before 1970.
                prop_assert!(y < 1970 || s >= 60 || jiff_reads(&text).is_none(), "{}", text);
            }
        }

        /// Any string at all: read only when jiff reads it the same.
        #[test]
        fn any_string_is_read_only_as_jiff_reads_it(text in "[0-9:TZ-]{18,22}|\\PC{0,24}") {
            if let Some(t) = parse(&text) {
                prop_assert_eq!(Some(t), jiff_reads(&text));
            }
        }
    }
}
