//! Durations as the tool reads and writes them: `90m` on the command line, `1h 30m` in reports,
//! and seconds that never overflow.

use chrono::Duration;

/// `1h 30m`, `2d 4h`, `5m`: how long, for a person.
pub fn human_duration(d: Duration) -> String {
    let mins = d.num_minutes().abs();
    match (mins / (60 * 24), (mins / 60) % 24, mins % 60) {
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (days, h, _) => format!("{days}d {h}h"),
    }
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
