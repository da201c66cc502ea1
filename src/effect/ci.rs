//! Per-study confidence intervals for a proportion x/n (the rows of a forest plot).

use serde::{Deserialize, Serialize};
use std::str::FromStr;

use crate::dist::{qbeta, qnorm};
use crate::error::{Error, Result};

/// Method for a single study's CI on the proportion scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CiMethod {
    /// Clopper–Pearson exact interval (R `binom.test`; `meta`'s default).
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

/// The `level` (e.g. 0.95) CI of the proportion `x / n` by `method`, as (lower, upper).
pub fn study_ci(x: f64, n: f64, level: f64, method: CiMethod) -> (f64, f64) {
    let alpha = 1.0 - level;
    let z = qnorm(1.0 - alpha / 2.0);
    let p = x / n;
    match method {
        CiMethod::CP => {
            let lb = if x <= 0.0 {
                0.0
            } else {
                qbeta(alpha / 2.0, x, n - x + 1.0)
            };
            let ub = if x >= n {
                1.0
            } else {
                qbeta(1.0 - alpha / 2.0, x + 1.0, n - x)
            };
            (lb, ub)
        }
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
