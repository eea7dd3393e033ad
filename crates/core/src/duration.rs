//! One duration type for the three grammars the tool writes or reads: Flux's (Go's), the
//! Vault Secrets Operator's and Vault's. Each rule is written here once; validation, the
//! model, verify, the Vault planner and the CLI's `--timeout` all parse through it.

/// Which system's rule a duration must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grammar {
    /// Flux intervals (Go's `time.ParseDuration` as the CRDs restrict it):
    /// `^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`, e.g. `10m`, `1h30m`.
    Flux,
    /// VSO's `^([0-9]+(\.[0-9]+)?(s|m|h))$`: one number, one unit.
    Vso,
    /// VSO's PKI `ttl`, which also allows days: one number, one unit of s, m, h or d.
    VsoTtl,
    /// Vault's: a whole number of seconds, or one number with a unit of s, m, h or d.
    Vault,
}

/// A length of time in (possibly fractional) seconds, parsed by one [`Grammar`].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Duration {
    seconds: f64,
}

impl Duration {
    /// The duration `text` means under `grammar`, or `None` when that system would refuse it.
    pub fn parse(text: &str, grammar: Grammar) -> Option<Duration> {
        let seconds = match grammar {
            Grammar::Flux => flux_seconds(text)?,
            Grammar::Vso => single_unit_seconds(text, false)?,
            Grammar::VsoTtl => single_unit_seconds(text, true)?,
            Grammar::Vault => match text.parse::<u64>() {
                Ok(n) => n as f64,
                Err(_) => single_unit_seconds(text, true)?,
            },
        };
        Some(Duration { seconds })
    }

    pub fn as_secs_f64(self) -> f64 {
        self.seconds
    }

    /// Whole seconds, rounded down (how Vault reports lifetimes).
    pub fn whole_seconds(self) -> i64 {
        self.seconds as i64
    }

    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.seconds)
    }
}

/// `12`, `1.5`: digits with at most one inner dot.
fn is_number(num: &str) -> bool {
    !num.is_empty()
        && num.split('.').count() <= 2
        && num
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Seconds in a single-unit duration such as `10s`, `1.5h`, `3d` (days only if `allow_days`).
fn single_unit_seconds(s: &str, allow_days: bool) -> Option<f64> {
    let unit_at = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = s.split_at(unit_at);
    if !is_number(num) {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    let factor = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" if allow_days => 86400.0,
        _ => return None,
    };
    Some(n * factor)
}

/// Seconds in a Flux duration: one or more number-unit segments.
fn flux_seconds(s: &str) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    let mut rest = s;
    let mut total = 0.0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..digits];
        if !is_number(num) {
            return None;
        }
        let n: f64 = num.parse().ok()?;
        rest = &rest[digits..];
        let (len, factor) = if rest.starts_with("ms") {
            (2, 0.001)
        } else if rest.starts_with('s') {
            (1, 1.0)
        } else if rest.starts_with('m') {
            (1, 60.0)
        } else if rest.starts_with('h') {
            (1, 3600.0)
        } else {
            return None;
        };
        total += n * factor;
        rest = &rest[len..];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str, grammar: Grammar) -> Option<f64> {
        Duration::parse(text, grammar).map(Duration::as_secs_f64)
    }

    #[test]
    fn vso() {
        assert_eq!(secs("10s", Grammar::Vso), Some(10.0));
        assert_eq!(secs("1.5h", Grammar::Vso), Some(5400.0));
        assert_eq!(secs("3d", Grammar::Vso), None);
        assert_eq!(secs("3d", Grammar::VsoTtl), Some(259200.0));
        assert_eq!(secs("1m30s", Grammar::Vso), None);
        assert_eq!(secs("90", Grammar::Vso), None);
        assert_eq!(secs("1.", Grammar::Vso), None);
    }

    #[test]
    fn vault() {
        assert_eq!(secs("90", Grammar::Vault), Some(90.0));
        assert_eq!(secs("72h", Grammar::Vault), Some(259200.0));
        assert_eq!(secs("3d", Grammar::Vault), Some(259200.0));
        assert_eq!(secs("-5", Grammar::Vault), None);
        assert_eq!(secs("1h30m", Grammar::Vault), None);
    }

    #[test]
    fn flux() {
        assert_eq!(secs("1h30m", Grammar::Flux), Some(5400.0));
        assert_eq!(secs("500ms", Grammar::Flux), Some(0.5));
        assert_eq!(secs("10m", Grammar::Flux), Some(600.0));
        assert_eq!(secs("", Grammar::Flux), None);
        assert_eq!(secs("3d", Grammar::Flux), None);
        assert_eq!(secs("10", Grammar::Flux), None);
    }
}
