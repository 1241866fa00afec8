//! Durations and counts as the tool reads and writes them: `90m` on the command line, `1h 30m`
//! or `3 months` in reports, `1 key`/`3 keys`, and seconds that never overflow.

use chrono::Duration;

/// How long, for a person: exact while it matters (`5m`, `1h 30m`, `2h`, `2d 4h`), then in
/// the unit a person would say (`12 days`, `3 months`, `72 years`; rounded down).
pub fn human_duration(d: Duration) -> String {
    let mins = d.num_minutes().abs();
    let days = mins / (60 * 24);
    match (days, (mins / 60) % 24, mins % 60) {
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (1..7, 0, _) => format!("{days}d"),
        (1..7, h, _) => format!("{days}d {h}h"),
        (7..60, _, _) => count(days, "day", "days"),
        (60..365, _, _) => count(days / 30, "month", "months"),
        _ => count(days / 365, "year", "years"),
    }
}

/// `1 key`, `3 keys`, `0 keys`: a count with its noun in the right number.
pub fn count(n: impl Into<i64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `count` for the lengths of lists.
pub fn count_of(n: usize, one: &str, many: &str) -> String {
    count(i64::try_from(n).unwrap_or(i64::MAX), one, many)
}

/// `90m`, `2h`, `1h30m`, `45s`, `1d`: a duration, or why not.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let usage = || format!("`{text}`: use a number with d, h, m or s, e.g. 90m, 2h, 1h30m");
    let too_long = || format!("`{text}` is longer than {MAX_DURATION_DAYS} days");
    let mut total = 0i64;
    let mut number = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit: i64 = match c {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(usage()),
        };
        if number.is_empty() {
            return Err(format!("`{text}`: a number must come before `{c}`"));
        }
        // Every step checked: a number of any length is an error, never an overflow.
        total = number
            .parse::<i64>()
            .ok()
            .and_then(|n| n.checked_mul(unit))
            .and_then(|s| total.checked_add(s))
            .ok_or_else(too_long)?;
        number.clear();
        any = true;
    }
    if !number.is_empty() || !any {
        return Err(usage());
    }
    if total > MAX_DURATION_DAYS * 86_400 {
        return Err(too_long());
    }
    Duration::try_seconds(total).ok_or_else(too_long)
}

/// The longest duration accepted on the command line (a century: anything longer is a typo).
pub const MAX_DURATION_DAYS: i64 = 36_525;

/// Seconds as a duration, saturating at chrono's range instead of panicking.
pub fn seconds(s: i64) -> Duration {
    Duration::try_seconds(s).unwrap_or(if s < 0 { Duration::MIN } else { Duration::MAX })
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_for_people() {
        let h = |s: i64| super::human_duration(super::seconds(s));
        assert_eq!(h(0), "0m");
        assert_eq!(h(5 * 60), "5m");
        assert_eq!(h(90 * 60), "1h 30m");
        assert_eq!(h(2 * 3600), "2h");
        assert_eq!(h(-2 * 3600), "2h");
        assert_eq!(h(86_400), "1d");
        assert_eq!(h(2 * 86_400 + 4 * 3600), "2d 4h");
        assert_eq!(h(7 * 86_400), "7 days");
        assert_eq!(h(59 * 86_400), "59 days");
        assert_eq!(h(95 * 86_400), "3 months");
        assert_eq!(h(365 * 86_400), "1 year");
        assert_eq!(h(26_332 * 86_400 + 4 * 3600), "72 years");
        assert_eq!(super::count(1, "key", "keys"), "1 key");
        assert_eq!(super::count_of(0, "key", "keys"), "0 keys");
        assert_eq!(super::count_of(3, "fix", "fixes"), "3 fixes");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90m").unwrap().num_seconds(), 5400);
        assert_eq!(parse_duration("1h30m").unwrap().num_seconds(), 5400);
        assert_eq!(parse_duration("2h").unwrap().num_seconds(), 7200);
        assert_eq!(parse_duration("1d").unwrap().num_seconds(), 86400);
        for long in [
            "99999999999999999999d",
            "9223372036854775807s",
            "106751991167301d",
            "36526d",
        ] {
            assert!(
                parse_duration(long).unwrap_err().contains("longer than"),
                "{long}"
            );
        }
        assert!(parse_duration("h").is_err());
        assert_eq!(super::seconds(i64::MAX), chrono::Duration::MAX);
        assert_eq!(super::seconds(i64::MIN), chrono::Duration::MIN);
        assert!(parse_duration("90").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("1x").is_err());
    }
}
