//! Rounding-aware comparison of a recomputed value with a printed one.
//!
//! A value printed with d decimals stands for the closed interval value ± ½·10^−d: both half-up and
//! half-even rounding (R, Python and Stata round half to even; SPSS and Excel half away from zero)
//! produce every point of it, the end points included.

use serde::Serialize;

use super::printed::PNum;

/// How a recomputed number compares with the printed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "by", rename_all = "snake_case")]
pub enum Verdict {
    /// The recomputed value rounds to the printed one.
    Match,
    /// Off by this many units of the last printed digit (1 to `NEAR_MISS_UNITS`).
    OffBy(i64),
    /// Further off than that.
    Mismatch,
    /// Nothing to compare with (the value could not be recomputed).
    NotComputed,
}

/// Differences up to this many units of the last printed digit are "off by N"; beyond, "mismatch".
pub const NEAR_MISS_UNITS: i64 = 5;

/// Relative slack for floating-point noise when a recomputed value sits exactly on a rounding
/// boundary (e.g. 0.4125 stored as 0.41249999999999998).
const FP_SLACK: f64 = 1e-9;

impl Verdict {
    pub fn label(&self) -> String {
        match self {
            Verdict::Match => "match".into(),
            Verdict::OffBy(n) => format!("off by {}{}", if *n > 0 { "+" } else { "" }, n),
            Verdict::Mismatch => "mismatch".into(),
            Verdict::NotComputed => "not computed".into(),
        }
    }

    pub fn is_match(&self) -> bool {
        matches!(self, Verdict::Match)
    }

    /// Severity for ranking: 0 match, then near misses by size, then mismatch.
    pub fn severity(&self) -> i64 {
        match self {
            Verdict::Match => 0,
            Verdict::OffBy(n) => n.abs(),
            Verdict::Mismatch => NEAR_MISS_UNITS + 1,
            Verdict::NotComputed => NEAR_MISS_UNITS + 2,
        }
    }
}

/// Does `x` round to `printed` at its precision (either rounding rule)?
pub fn rounds_to(x: f64, printed: &PNum) -> bool {
    let (lo, hi) = printed.interval();
    let slack = FP_SLACK * (1.0 + printed.value.abs()) * 10f64.powi(-(printed.decimals as i32));
    x >= lo - slack && x <= hi + slack
}

/// Compare a recomputed value (already in the printed unit) with the printed number.
pub fn compare(x: f64, printed: &PNum) -> Verdict {
    if !x.is_finite() {
        return Verdict::NotComputed;
    }
    if rounds_to(x, printed) {
        return Verdict::Match;
    }
    let unit = 10f64.powi(-(printed.decimals as i32));
    let units = ((x - printed.value) / unit).round() as i64;
    let units = if units == 0 {
        (x - printed.value).signum() as i64
    } else {
        units
    };
    if units.abs() <= NEAR_MISS_UNITS {
        Verdict::OffBy(units)
    } else {
        Verdict::Mismatch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pn(text: &str) -> PNum {
        let decimals = text.split('.').nth(1).map(|d| d.len() as u32).unwrap_or(0);
        PNum {
            value: text.parse().unwrap(),
            decimals,
            text: text.into(),
        }
    }

    #[test]
    fn trailing_zero_counts_as_a_decimal() {
        assert!(rounds_to(68.04, &pn("68.0")));
        assert!(!rounds_to(68.06, &pn("68.0")));
        assert!(rounds_to(68.4, &pn("68")));
    }

    #[test]
    fn both_rounding_rules_accepted_at_the_boundary() {
        // 0.125 rounds to 0.12 (half-even) or 0.13 (half-up): both printed values match.
        assert!(rounds_to(0.125, &pn("0.12")));
        assert!(rounds_to(0.125, &pn("0.13")));
    }

    #[test]
    fn verdicts() {
        assert_eq!(compare(58.44, &pn("58.4")), Verdict::Match);
        assert_eq!(compare(58.56, &pn("58.4")), Verdict::OffBy(2));
        assert_eq!(compare(58.2, &pn("58.4")), Verdict::OffBy(-2));
        assert_eq!(compare(60.0, &pn("58.4")), Verdict::Mismatch);
        assert_eq!(compare(f64::NAN, &pn("58.4")), Verdict::NotComputed);
    }
}
