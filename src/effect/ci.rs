//! Per-study confidence intervals for a proportion x/n (the rows of a forest plot).

use serde::{Deserialize, Serialize};
use std::str::FromStr;

use crate::dist::{qbeta, qnorm};
use crate::error::{Error, Result};

/// Method for a single study's CI on the proportion scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CiMethod {
    /// Clopper–Pearson exact interval (R `binom.test`; `meta`'s default); see [`CP_EXACT_MAX_N`]
    /// for studies of more than five million patients.
    CP,
    /// Wilson score interval without continuity correction (Stata `metaprop`'s default).
    WS,
    /// Wald interval p ± z√(p(1−p)/n), truncated to [0, 1].
    #[serde(rename = "WALD")]
    Wald,
    /// Agresti–Coull interval, truncated to [0, 1].
    AC,
}

impl CiMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            CiMethod::CP => "CP",
            CiMethod::WS => "WS",
            CiMethod::Wald => "WALD",
            CiMethod::AC => "AC",
        }
    }
}

impl FromStr for CiMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "CP" | "CLOPPER-PEARSON" | "EXACT" => Ok(CiMethod::CP),
            "WS" | "WILSON" => Ok(CiMethod::WS),
            "WALD" | "NASM" => Ok(CiMethod::Wald),
            "AC" | "AGRESTI-COULL" => Ok(CiMethod::AC),
            _ => Err(Error::Usage(format!(
                "unknown study CI method \"{s}\"; expected one of CP, WS, WALD, AC"
            ))),
        }
    }
}

/// Largest total for which the Clopper–Pearson bounds are solved on the beta distribution; beyond
/// it (statrs' beta quantile does not return for such parameters) they come from the Poisson limit
/// when one side has at most 1,000 patients, and from the Wilson interval otherwise: for more than
/// five million patients these differ from the exact bounds by less than 1e-7 (absolute).
pub const CP_EXACT_MAX_N: f64 = 5e6;

/// Clopper–Pearson bounds: exact closed forms at 0 and n events, the beta quantiles otherwise.
fn clopper_pearson(x: f64, n: f64, alpha: f64) -> (f64, f64) {
    let (lo_p, hi_p) = (alpha / 2.0, 1.0 - alpha / 2.0);
    // (α/2)^(1/n): the bound at 0 or n events.
    let edge = (lo_p.ln() / n).exp();
    if x <= 0.0 {
        return (0.0, 1.0 - edge);
    }
    if x >= n {
        return (edge, 1.0);
    }
    if n <= CP_EXACT_MAX_N {
        return (qbeta(lo_p, x, n - x + 1.0), qbeta(hi_p, x + 1.0, n - x));
    }
    let qgamma = |p: f64, shape: f64| -> f64 {
        statrs::distribution::Gamma::new(shape, 1.0)
            .map(|g| statrs::distribution::ContinuousCDF::inverse_cdf(&g, p))
            .unwrap_or(f64::NAN)
    };
    if x <= 1000.0 {
        (qgamma(lo_p, x) / n, qgamma(hi_p, x + 1.0) / n)
    } else if n - x <= 1000.0 {
        (1.0 - qgamma(hi_p, n - x + 1.0) / n, 1.0 - qgamma(lo_p, n - x) / n)
    } else {
        study_ci(x, n, 1.0 - alpha, CiMethod::WS)
    }
}

/// The `level` (e.g. 0.95) CI of the proportion `x / n` by `method`, as (lower, upper).
pub fn study_ci(x: f64, n: f64, level: f64, method: CiMethod) -> (f64, f64) {
    let alpha = 1.0 - level;
    let z = qnorm(1.0 - alpha / 2.0);
    let p = x / n;
    match method {
        CiMethod::CP => clopper_pearson(x, n, alpha),
        CiMethod::WS => {
            let z2 = z * z;
            let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
            let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
            ((centre - half).max(0.0), (centre + half).min(1.0))
        }
        CiMethod::Wald => {
            let half = z * (p * (1.0 - p) / n).sqrt();
            ((p - half).max(0.0), (p + half).min(1.0))
        }
        CiMethod::AC => {
            let nt = n + z * z;
            let pt = (x + z * z / 2.0) / nt;
            let half = z * (pt * (1.0 - pt) / nt).sqrt();
            ((pt - half).max(0.0), (pt + half).min(1.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clopper_pearson_closed_forms_at_the_edges() {
        // R: binom.test(0, 20)$conf.int = 0, 0.1684335; binom.test(20, 20): 0.8315665, 1.
        let (l, u) = study_ci(0.0, 20.0, 0.95, CiMethod::CP);
        assert_eq!(l, 0.0);
        assert!((u - 0.168_433_470_983_085_4).abs() < 1e-12);
        let (l, u) = study_ci(20.0, 20.0, 0.95, CiMethod::CP);
        assert!((l - 0.831_566_529_016_914_6).abs() < 1e-12);
        assert_eq!(u, 1.0);
    }

    #[test]
    fn clopper_pearson_for_very_large_studies_returns_sensible_bounds() {
        // R: binom.test(1, 1e9)$conf.int = 2.531780e-11 5.571643e-09
        let (l, u) = study_ci(1.0, 1e9, 0.95, CiMethod::CP);
        assert!(
            (l - 2.531780e-11).abs() < 1e-16 && (u - 5.571643e-9).abs() < 1e-14,
            "{l:e} {u:e}"
        );
        let (l, u) = study_ci(5e8, 1e9, 0.95, CiMethod::CP);
        assert!(l < 0.5 && u > 0.5 && u - l < 1e-4, "{l} {u}");
        let (l, u) = study_ci(1e9 - 2.0, 1e9, 0.95, CiMethod::CP);
        assert!(l > 0.999_999_99 && u < 1.0, "{l} {u}");
    }
}
