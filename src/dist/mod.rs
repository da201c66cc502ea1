//! Distribution functions, as R computes them.
//!
//! The normal CDF uses `libm::erfc` (statrs' `erf` is only accurate to ~1e-10); quantiles and the
//! t, chi-squared, F and beta distributions come from statrs, which is accurate to ~1e-14.
//! [`roots`] is the root finder (Brent's method) used here and by the models.

pub mod roots;

use statrs::distribution::{Beta, ChiSquared, ContinuousCDF, FisherSnedecor, Normal, StudentsT};

/// `pnorm(x)`.
pub fn pnorm(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// `pnorm(x, lower.tail = FALSE)`.
pub fn pnorm_upper(x: f64) -> f64 {
    0.5 * libm::erfc(x / std::f64::consts::SQRT_2)
}

/// `qnorm(p)`.
pub fn qnorm(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    std_normal().inverse_cdf(p)
}

fn std_normal() -> Normal {
    // Parameters are constants: construction cannot fail.
    Normal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!())
}

/// `qt(p, df)`; NaN when `df <= 0`.
pub fn qt(p: f64, df: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(t) if df > 0.0 => t.inverse_cdf(p),
        _ => f64::NAN,
    }
}

/// `pt(x, df, lower.tail = FALSE)`; NaN when `df <= 0`.
pub fn pt_upper(x: f64, df: f64) -> f64 {
    // statrs panics on NaN (e.g. 0/0 when a Knapp-Hartung SE is 0) and is slow at infinities.
    if x.is_nan() {
        return f64::NAN;
    }
    if x.is_infinite() {
        return if x > 0.0 { 0.0 } else { 1.0 };
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(t) if df > 0.0 => t.sf(x),
        _ => f64::NAN,
    }
}

/// `pchisq(x, df, lower.tail = FALSE)`; NaN when `df <= 0`.
pub fn pchisq_upper(x: f64, df: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return 0.0;
    }
    match ChiSquared::new(df) {
        Ok(c) if df > 0.0 => {
            if x <= 0.0 {
                1.0
            } else {
                c.sf(x)
            }
        }
        _ => f64::NAN,
    }
}

/// `qchisq(p, df)`; NaN when `df <= 0`.
pub fn qchisq(p: f64, df: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    match ChiSquared::new(df) {
        Ok(c) if df > 0.0 => c.inverse_cdf(p),
        _ => f64::NAN,
    }
}

/// `pf(x, df1, df2, lower.tail = FALSE)`; NaN when a df is not positive.
pub fn pf_upper(x: f64, df1: f64, df2: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return 0.0;
    }
    match FisherSnedecor::new(df1, df2) {
        Ok(f) if df1 > 0.0 && df2 > 0.0 => {
            if x <= 0.0 {
                1.0
            } else {
                f.sf(x)
            }
        }
        _ => f64::NAN,
    }
}

/// `qbeta(p, a, b)`: statrs' inverse as a start, then solved to machine precision on the
/// regularised incomplete beta function (statrs' own inverse is only ~1e-6 accurate for very
/// unbalanced parameters such as a = 251, b = 3e6). NaN when the solve fails.
pub fn qbeta(p: f64, a: f64, b: f64) -> f64 {
    let Ok(d) = Beta::new(a, b) else {
        return f64::NAN;
    };
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let start = d.inverse_cdf(p).clamp(0.0, 1.0);
    let f = |x: f64| statrs::function::beta::beta_reg(a, b, x) - p;
    // Bracket around the start value, widening until the sign changes.
    let (mut lo, mut hi) = (start * (1.0 - 1e-3), (start * (1.0 + 1e-3)).min(1.0));
    let mut widen = 0;
    while f(lo) > 0.0 && widen < 60 {
        lo *= 0.5;
        widen += 1;
    }
    widen = 0;
    while f(hi) < 0.0 && widen < 60 {
        hi = 0.5 * (hi + 1.0);
        widen += 1;
    }
    // f is increasing from f(0) = -p < 0 to f(1) = 1 - p > 0, so the widened bracket holds a
    // root; should the solve still fail, the result is NaN (a missing bound), never the start.
    roots::brent(f, lo, hi, 500).unwrap_or(f64::NAN)
}

/// Two-sided p-value and critical value for a Wald-type statistic: normal when `df` is `None`,
/// Student t with `df` degrees of freedom otherwise.
pub fn two_sided(stat: f64, df: Option<f64>) -> f64 {
    match df {
        None => 2.0 * pnorm_upper(stat.abs()),
        Some(d) => 2.0 * pt_upper(stat.abs(), d),
    }
}

/// Critical value for a two-sided `level` (e.g. 0.95) interval.
pub fn critical(level: f64, df: Option<f64>) -> f64 {
    let a = (1.0 - level) / 2.0;
    match df {
        None => qnorm(1.0 - a),
        Some(d) => qt(1.0 - a, d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_r_reference_values() {
        // Values from R 4.2 (qnorm, pnorm, qt, qchisq, pchisq).
        assert!((qnorm(0.975) - 1.959963984540054).abs() < 1e-14);
        assert!((pnorm(-1.96) - 0.024997895148220435).abs() < 1e-16);
        assert!((qt(0.975, 5.0) - 2.570581835636314).abs() < 1e-12);
        assert!((qchisq(0.975, 10.0) - 20.48317735080739).abs() < 1e-11);
        assert!((pchisq_upper(3.841458820694124, 1.0) - 0.05).abs() < 1e-14);
        // Non-finite statistics give NaN or the limits, never a panic.
        assert!(pt_upper(f64::NAN, 3.0).is_nan() && pchisq_upper(f64::NAN, 2.0).is_nan());
        assert!(pf_upper(f64::NAN, 1.0, 3.0).is_nan() && qt(f64::NAN, 3.0).is_nan());
        assert_eq!(pt_upper(f64::INFINITY, 3.0), 0.0);
        assert_eq!(pchisq_upper(f64::INFINITY, 3.0), 0.0);
        // qbeta(0.975, 251, 2999750) from R.
        let q = qbeta(0.975, 251.0, 2_999_750.0);
        assert!((q - 9.432871638792279e-5).abs() < 1e-12 * 9.4e-5 * 1e3, "{q:e}");
    }
}
