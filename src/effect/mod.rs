//! Effect sizes for single proportions, as metafor's `escalc` computes them.
//!
//! `yi` and `vi` for the measures `PR` (raw proportion), `PLN` (log), `PLO` (logit), `PAS`
//! (arcsine square root) and `PFT` (Freeman–Tukey double arcsine), metafor's continuity
//! correction rules (`add`, `to`), the transformations between the proportion scale and each
//! measure's scale (`transf`), and per-study confidence intervals (`study_ci`).

pub mod ci;
pub mod transf;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

pub use ci::{study_ci, CiMethod};
pub use transf::{back_transform, transform, BackTransform, PftMean};

/// The effect-size measure (metafor's `measure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Measure {
    /// Raw proportion: yi = x/n, vi = yi(1 − yi)/n.
    PR,
    /// Log proportion: yi = log(x/n), vi = 1/x − 1/n.
    PLN,
    /// Logit proportion: yi = log(x/(n − x)), vi = 1/x + 1/(n − x).
    PLO,
    /// Arcsine square-root: yi = asin(√(x/n)), vi = 1/(4n).
    PAS,
    /// Freeman–Tukey double arcsine: yi = ½[asin√(x/(n+1)) + asin√((x+1)/(n+1))], vi = 1/(4n+2).
    PFT,
}

impl Measure {
    pub const ALL: [Measure; 5] = [Measure::PR, Measure::PLN, Measure::PLO, Measure::PAS, Measure::PFT];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::PR => "PR",
            Measure::PLN => "PLN",
            Measure::PLO => "PLO",
            Measure::PAS => "PAS",
            Measure::PFT => "PFT",
        }
    }

    /// Whether metafor applies a continuity correction by default (`escalc` uses `add = 0` for
    /// PAS and PFT unless `add` is given explicitly).
    pub fn uses_correction(self) -> bool {
        matches!(self, Measure::PR | Measure::PLN | Measure::PLO)
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Measure {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "PR" | "PRAW" => Ok(Measure::PR),
            "PLN" => Ok(Measure::PLN),
            "PLO" | "PLOGIT" => Ok(Measure::PLO),
            "PAS" => Ok(Measure::PAS),
            "PFT" => Ok(Measure::PFT),
            _ => Err(Error::Usage(format!(
                "unknown measure \"{s}\"; expected one of PR, PLN, PLO, PAS, PFT"
            ))),
        }
    }
}

/// Which studies receive the continuity correction (metafor's `to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddTo {
    /// Only studies with 0 or n events (metafor's default).
    Only0,
    /// Every study.
    All,
    /// Every study, if any study has 0 or n events.
    If0all,
    /// No study.
    None,
}

impl AddTo {
    pub fn as_str(self) -> &'static str {
        match self {
            AddTo::Only0 => "only0",
            AddTo::All => "all",
            AddTo::If0all => "if0all",
            AddTo::None => "none",
        }
    }
}

impl FromStr for AddTo {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "only0" => Ok(AddTo::Only0),
            "all" => Ok(AddTo::All),
            "if0all" => Ok(AddTo::If0all),
            "none" => Ok(AddTo::None),
            _ => Err(Error::Usage(format!(
                "unknown --to \"{s}\"; expected one of only0, all, if0all, none"
            ))),
        }
    }
}

/// Continuity correction: `add` is added to the events and to the non-events of the studies
/// selected by `to` (so the total grows by `2 * add`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    pub add: f64,
    pub to: AddTo,
}

impl Default for Correction {
    /// metafor's default for PR, PLN and PLO: `add = 1/2, to = "only0"`.
    fn default() -> Self {
        Correction {
            add: 0.5,
            to: AddTo::Only0,
        }
    }
}

impl Correction {
    /// metafor's default for `measure`: `add = 1/2, to = "only0"` for PR, PLN and PLO; no correction
    /// for PAS and PFT (metafor's `escalc` sets `add = 0` for them unless `add` is given).
    pub fn default_for(measure: Measure) -> Correction {
        if measure.uses_correction() {
            Correction::default()
        } else {
            Correction {
                add: 0.0,
                to: AddTo::Only0,
            }
        }
    }
}

/// Study-level effect sizes on the measure's scale.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectSizes {
    pub measure: Measure,
    pub yi: Vec<f64>,
    pub vi: Vec<f64>,
    /// Totals of the studies (uncorrected): used by the PFT back-transformation.
    pub ni: Vec<f64>,
    /// Whether the continuity correction was applied to each study.
    pub corrected: Vec<bool>,
}

impl EffectSizes {
    pub fn k(&self) -> usize {
        self.yi.len()
    }

    /// The studies at the given positions, in that order.
    pub fn subset(&self, idx: &[usize]) -> EffectSizes {
        EffectSizes {
            measure: self.measure,
            yi: idx.iter().map(|&i| self.yi[i]).collect(),
            vi: idx.iter().map(|&i| self.vi[i]).collect(),
            ni: idx.iter().map(|&i| self.ni[i]).collect(),
            corrected: idx.iter().map(|&i| self.corrected[i]).collect(),
        }
    }
}

/// metafor `escalc(measure, xi = events, ni = total, add, to)` with `add` given explicitly: the
/// correction is applied for every measure, PAS and PFT included (use
/// [`Correction::default_for`] for metafor's defaults).
///
/// Counts must already be validated (`0 <= events <= total`, `total > 0`). The result may hold
/// non-finite `yi` or zero `vi` when no correction is applied to a study with 0 or n events
/// (e.g. `PLO` with `to = "none"`); the models reject those with a clear error.
pub fn escalc(measure: Measure, events: &[f64], total: &[f64], correction: Correction) -> EffectSizes {
    let k = events.len();
    let boundary = |i: usize| events[i] == 0.0 || events[i] == total[i];
    let any_boundary = (0..k).any(boundary);
    let mut yi = Vec::with_capacity(k);
    let mut vi = Vec::with_capacity(k);
    let mut corrected = Vec::with_capacity(k);
    for i in 0..k {
        let apply = correction.add != 0.0
            && match correction.to {
                AddTo::Only0 => boundary(i),
                AddTo::All => true,
                AddTo::If0all => any_boundary,
                AddTo::None => false,
            };
        let add = if apply { correction.add } else { 0.0 };
        let x = events[i] + add;
        let n = total[i] + 2.0 * add;
        let (y, v) = match measure {
            Measure::PR => {
                let p = x / n;
                (p, p * (1.0 - p) / n)
            }
            Measure::PLN => ((x / n).ln(), 1.0 / x - 1.0 / n),
            Measure::PLO => ((x / (n - x)).ln(), 1.0 / x + 1.0 / (n - x)),
            Measure::PAS => ((x / n).sqrt().asin(), 1.0 / (4.0 * n)),
            Measure::PFT => (
                0.5 * ((x / (n + 1.0)).sqrt().asin() + ((x + 1.0) / (n + 1.0)).sqrt().asin()),
                1.0 / (4.0 * n + 2.0),
            ),
        };
        yi.push(y);
        vi.push(v);
        corrected.push(apply);
    }
    EffectSizes {
        measure,
        yi,
        vi,
        ni: total.to_vec(),
        corrected,
    }
}
