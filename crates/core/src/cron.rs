//! The cron schedules a Kubernetes CronJob accepts (robfig/cron's standard parser: five
//! fields, names of months and days, `*`, `?`, ranges, steps, lists, and the `@` macros), and
//! the longest gap between two consecutive fires: what `verify` compares a backup's age with.
//!
//! Pure: the gap is computed over a fixed calendar window, so it is the same on every run.

/// A parsed schedule: the allowed values of each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    minutes: Vec<u32>,
    hours: Vec<u32>,
    days: Vec<u32>,
    months: Vec<u32>,
    weekdays: Vec<u32>,
    /// Both day fields restricted: a day matches when either does (cron's rule).
    either_day: bool,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Parses `text`; the error says what is wrong.
pub fn parse(text: &str) -> Result<Schedule, String> {
    let text = text.trim();
    let expanded = match text {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        t if t.starts_with('@') => {
            return Err(format!(
                "`{t}` is not a schedule macro (@yearly, @monthly, @weekly, @daily, @hourly)"
            ))
        }
        t if t.starts_with("TZ=") || t.starts_with("CRON_TZ=") => {
            return Err("a time zone inside the schedule is not supported".into())
        }
        t => t,
    };
    let fields: Vec<&str> = expanded.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "{} fields, but a schedule has five (minute hour day-of-month month day-of-week)",
            fields.len()
        ));
    }
    let minutes = field(fields[0], "minute", 0, 59, &[])?;
    let hours = field(fields[1], "hour", 0, 23, &[])?;
    let days = field(fields[2], "day-of-month", 1, 31, &[])?;
    let months = field(fields[3], "month", 1, 12, &MONTHS)?;
    let mut weekdays = field(fields[4], "day-of-week", 0, 7, &WEEKDAYS)?;
    // 7 is Sunday too.
    for d in &mut weekdays {
        if *d == 7 {
            *d = 0;
        }
    }
    weekdays.sort_unstable();
    weekdays.dedup();
    let star = |f: &str| f.starts_with('*') || f.starts_with('?');
    Ok(Schedule {
        minutes,
        hours,
        days,
        months,
        weekdays,
        either_day: !star(fields[2]) && !star(fields[4]),
    })
}

fn value(text: &str, what: &str, lo: u32, hi: u32, names: &[&str]) -> Result<u32, String> {
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        // Months are named from 1, weekdays from 0.
        return Ok(i as u32 + lo);
    }
    match text.parse::<u32>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        _ => Err(format!("{what}: `{text}` is not a value from {lo} to {hi}")),
    }
}

fn field(text: &str, what: &str, lo: u32, hi: u32, names: &[&str]) -> Result<Vec<u32>, String> {
    let mut out = vec![];
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => match s.parse::<u32>() {
                Ok(n) if n > 0 => (r, n),
                _ => return Err(format!("{what}: `{s}` is not a step (a number above 0)")),
            },
            None => (part, 1),
        };
        let (from, to) = if range == "*" || range == "?" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                value(a, what, lo, hi, names)?,
                value(b, what, lo, hi, names)?,
            )
        } else {
            let v = value(range, what, lo, hi, names)?;
            // `N/step` runs from N to the end.
            (v, if part.contains('/') { hi } else { v })
        };
        if from > to {
            return Err(format!("{what}: the range `{range}` runs backwards"));
        }
        out.extend((from..=to).step_by(step as usize));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// An RFC 3339 time as the API server writes it (`2026-12-07T03:00:12Z`, a fraction or an
/// offset allowed), in seconds since the epoch.
pub fn rfc3339_seconds(text: &str) -> Option<i64> {
    let (date, time) = text.trim().split_once(['T', 't'])?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    if !(1..=12).contains(&m) || day < 1 || day > days_in_month(y, m as u32) as i64 {
        return None;
    }
    let (clock, offset) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else {
        let at = time.rfind(['+', '-'])?;
        let (c, o) = time.split_at(at);
        let (oh, om) = o[1..].split_once(':')?;
        let minutes = oh.parse::<i64>().ok()? * 60 + om.parse::<i64>().ok()?;
        (
            c,
            if o.starts_with('-') {
                -minutes
            } else {
                minutes
            },
        )
    };
    let clock = clock.split('.').next()?;
    let mut t = clock.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (h, min, sec) = (t.next()??, t.next()??, t.next()??);
    if h > 23 || min > 59 || sec > 60 {
        return None;
    }
    Some(
        days_from_civil(y, m as u32, day as u32) * 86_400 + h * 3600 + min * 60 + sec - offset * 60,
    )
}

/// The calendar the gap is measured over: eight years from 2024 (two leap days).
const WINDOW_YEARS: std::ops::Range<i64> = 2024..2032;

impl Schedule {
    /// Every fire in the window, in minutes since the epoch, in order.
    fn fires(&self) -> Vec<i64> {
        let mut out = vec![];
        for y in WINDOW_YEARS {
            for &m in &self.months {
                for d in 1..=days_in_month(y, m) {
                    let day = days_from_civil(y, m, d);
                    // 1970-01-01 was a Thursday (4).
                    let weekday = (day + 4).rem_euclid(7) as u32;
                    let dom = self.days.contains(&d);
                    let dow = self.weekdays.contains(&weekday);
                    let matches = if self.either_day {
                        dom || dow
                    } else {
                        dom && dow
                    };
                    if !matches {
                        continue;
                    }
                    for &h in &self.hours {
                        for &min in &self.minutes {
                            out.push(day * 1440 + h as i64 * 60 + min as i64);
                        }
                    }
                }
            }
        }
        out
    }

    /// The longest time between two consecutive fires, in minutes (over eight years of the
    /// calendar, two leap days among them; a schedule that fires once in them gets the whole
    /// window). `None`
    /// for a schedule that never fires (`0 0 30 2 *`).
    pub fn longest_gap_minutes(&self) -> Option<i64> {
        let fires = self.fires();
        let window = (days_from_civil(WINDOW_YEARS.end, 1, 1)
            - days_from_civil(WINDOW_YEARS.start, 1, 1))
            * 1440;
        match fires.len() {
            0 => None,
            1 => Some(window),
            _ => fires.windows(2).map(|w| w[1] - w[0]).max(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(s: &str) -> i64 {
        parse(s).unwrap().longest_gap_minutes().unwrap()
    }

    #[test]
    fn gaps_of_common_schedules() {
        assert_eq!(gap("@hourly"), 60);
        assert_eq!(gap("@daily"), 1440);
        assert_eq!(gap("0 3 * * *"), 1440);
        assert_eq!(gap("*/15 * * * *"), 15);
        assert_eq!(gap("0 */6 * * *"), 360);
        assert_eq!(gap("@weekly"), 7 * 1440);
        assert_eq!(gap("0 2 * * mon-fri"), 3 * 1440);
        assert_eq!(gap("0 0 1 * *"), 31 * 1440);
        assert_eq!(gap("0 0 1,15 * *"), 17 * 1440);
        assert_eq!(gap("30 1 * * 0,7"), 7 * 1440);
        assert_eq!(gap("0 0 29 2 *"), (365 * 4 + 1) * 1440);
        // Day of month or day of week, when both are restricted.
        assert_eq!(gap("0 0 1 * mon"), 7 * 1440);
    }

    #[test]
    fn api_server_times() {
        assert_eq!(rfc3339_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_seconds("2026-12-07T03:00:12Z"), Some(1_796_612_412));
        assert_eq!(
            rfc3339_seconds("2026-12-07T04:00:12.5+01:00"),
            Some(1_796_612_412)
        );
        assert_eq!(rfc3339_seconds("2026-02-30T00:00:00Z"), None);
        assert_eq!(rfc3339_seconds("yesterday"), None);
    }

    #[test]
    fn bad_schedules_say_why() {
        assert!(parse("0 3 * *").unwrap_err().contains("4 fields"));
        assert!(parse("61 * * * *").unwrap_err().contains("minute"));
        assert!(parse("0 0 * * funday").unwrap_err().contains("day-of-week"));
        assert!(parse("@often").unwrap_err().contains("macro"));
        assert!(parse("*/0 * * * *").unwrap_err().contains("step"));
        assert!(parse("0 5-2 * * *").unwrap_err().contains("backwards"));
        assert_eq!(parse("0 0 30 2 *").unwrap().longest_gap_minutes(), None);
    }
}
