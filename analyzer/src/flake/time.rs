//! Dates for `lastModified`: UTC calendar dates and ages ("3 weeks ago") from Unix time.
//! The current time is always passed in, so everything stays pure and testable.

/// `YYYY-MM-DD HH:MM:SS` in UTC, as `nix flake metadata` prints "Last modified".
pub fn utc_datetime(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `YYYY-MM-DD` in UTC.
pub fn utc_date(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// How long before `now` the instant `unix` was, in the largest whole unit: "just now",
/// "5 minutes ago", "3 weeks ago", "2 years ago"; "in the future" when it is after `now`.
pub fn age(unix: i64, now: i64) -> String {
    let delta = now - unix;
    if delta < 0 {
        return "in the future".to_owned();
    }
    const UNITS: [(i64, &str); 7] = [
        (365 * 86_400, "year"),
        (30 * 86_400, "month"),
        (7 * 86_400, "week"),
        (86_400, "day"),
        (3600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    if delta < 60 {
        return "just now".to_owned();
    }
    for (size, name) in UNITS {
        let n = delta / size;
        if n >= 1 {
            let plural = if n == 1 { "" } else { "s" };
            return format!("{n} {name}{plural} ago");
        }
    }
    "just now".to_owned()
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day), by Howard Hinnant's
/// well-known `civil_from_days` algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc_datetime(0), "1970-01-01 00:00:00");
        assert_eq!(utc_datetime(1704067200), "2024-01-01 00:00:00");
        // The nixd-example nixpkgs lock; `date -u -d @1714253743`.
        assert_eq!(utc_datetime(1714253743), "2024-04-27 21:35:43");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(-86_400), "1969-12-31");
    }

    #[test]
    fn ages() {
        let now = 1_704_067_200;
        assert_eq!(age(now - 30, now), "just now");
        assert_eq!(age(now - 60, now), "1 minute ago");
        assert_eq!(age(now - 3 * 3600, now), "3 hours ago");
        assert_eq!(age(now - 21 * 86_400, now), "3 weeks ago");
        assert_eq!(age(now - 45 * 86_400, now), "1 month ago");
        assert_eq!(age(now - 800 * 86_400, now), "2 years ago");
        assert_eq!(age(now + 10, now), "in the future");
    }
}
