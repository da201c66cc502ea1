//! Effect sizes, as metafor's `escalc` computes them.
//!
//! Single proportions (this file): `yi` and `vi` for the measures `PR` (raw proportion), `PLN`
//! (log), `PLO` (logit), `PAS` (arcsine square root) and `PFT` (Freeman–Tukey double arcsine),
//! metafor's continuity correction rules (`add`, `to`), the transformations between the
//! proportion scale and each measure's scale (`transf`), and per-study confidence intervals
//! (`study_ci`).
//!
//! Two-group and other measures, by family ([`Family`]), are in [`comparative`]: binary (OR, RR,
//! RD, PETO, AS), continuous (MD, SMD, SMDH, ROM), incidence rates (IRR, IRD), correlations
//! (COR, ZCOR), generic (GEN) and hazard ratios (HR, a generic ratio measure), each from any [`crate::data::StudyInput`] of its family,
//! including a published estimate with its CI (metafor `conv.wald`).

pub mod ci;
pub mod comparative;
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
    /// Log odds ratio of a 2×2 table.
    OR,
    /// Log risk ratio.
    RR,
    /// Risk difference.
    RD,
    /// Peto's log odds ratio: (O − E)/V, vi = 1/V.
    PETO,
    /// Arcsine square-root risk difference.
    AS,
    /// Mean difference.
    MD,
    /// Standardised mean difference (Hedges' g, exact small-sample correction).
    SMD,
    /// Standardised mean difference with heteroscedastic SDs (Bonett).
    SMDH,
    /// Log ratio of means.
    ROM,
    /// Log incidence rate ratio.
    IRR,
    /// Incidence rate difference.
    IRD,
    /// Raw correlation coefficient.
    COR,
    /// Fisher's r-to-z transformed correlation.
    ZCOR,
    /// Generic effect size given as yi with vi or sei (no back-transformation).
    GEN,
    /// Log hazard ratio, from a published HR with its CI or from yi = log(HR) with vi or sei
    /// (R meta's `metagen(sm = "HR")`): pooled by inverse variance, shown as exp.
    HR,
}

/// The family of a measure: which inputs it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Proportion,
    Binary,
    Continuous,
    Rate,
    Correlation,
    Generic,
}

impl Measure {
    /// The single-proportion measures.
    pub const ALL: [Measure; 5] = [Measure::PR, Measure::PLN, Measure::PLO, Measure::PAS, Measure::PFT];

    /// The two-group and other measures ([`comparative`]).
    pub const COMPARATIVE: [Measure; 15] = [
        Measure::OR,
        Measure::RR,
        Measure::RD,
        Measure::PETO,
        Measure::AS,
        Measure::MD,
        Measure::SMD,
        Measure::SMDH,
        Measure::ROM,
        Measure::IRR,
        Measure::IRD,
        Measure::COR,
        Measure::ZCOR,
        Measure::GEN,
        Measure::HR,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::PR => "PR",
            Measure::PLN => "PLN",
            Measure::PLO => "PLO",
            Measure::PAS => "PAS",
            Measure::PFT => "PFT",
            Measure::OR => "OR",
            Measure::RR => "RR",
            Measure::RD => "RD",
            Measure::PETO => "PETO",
            Measure::AS => "AS",
            Measure::MD => "MD",
            Measure::SMD => "SMD",
            Measure::SMDH => "SMDH",
            Measure::ROM => "ROM",
            Measure::IRR => "IRR",
            Measure::IRD => "IRD",
            Measure::COR => "COR",
            Measure::ZCOR => "ZCOR",
            Measure::GEN => "GEN",
            Measure::HR => "HR",
        }
    }

    /// What the measure is, in words (as the reports print it).
    pub fn describe(self) -> &'static str {
        match self {
            Measure::PR => "raw proportion",
            Measure::PLN => "log transformed proportion",
            Measure::PLO => "logit transformed proportion",
            Measure::PAS => "arcsine square root transformed proportion",
            Measure::PFT => "Freeman-Tukey double arcsine transformed proportion",
            Measure::OR => "log odds ratio",
            Measure::RR => "log risk ratio",
            Measure::RD => "risk difference",
            Measure::PETO => "log odds ratio (Peto)",
            Measure::AS => "arcsine square root transformed risk difference",
            Measure::MD => "mean difference",
            Measure::SMD => "standardized mean difference (Hedges' g)",
            Measure::SMDH => "standardized mean difference with heteroscedastic population variances",
            Measure::ROM => "log transformed ratio of means",
            Measure::IRR => "log incidence rate ratio",
            Measure::IRD => "incidence rate difference",
            Measure::COR => "raw correlation coefficient",
            Measure::ZCOR => "Fisher's r-to-z transformed correlation coefficient",
            Measure::GEN => "generic effect size",
            Measure::HR => "log hazard ratio",
        }
    }

    /// The family of the measure.
    pub fn family(self) -> Family {
        match self {
            Measure::PR | Measure::PLN | Measure::PLO | Measure::PAS | Measure::PFT => Family::Proportion,
            Measure::OR | Measure::RR | Measure::RD | Measure::PETO | Measure::AS => Family::Binary,
            Measure::MD | Measure::SMD | Measure::SMDH | Measure::ROM => Family::Continuous,
            Measure::IRR | Measure::IRD => Family::Rate,
            Measure::COR | Measure::ZCOR => Family::Correlation,
            Measure::GEN | Measure::HR => Family::Generic,
        }
    }

    /// Single-proportion measure.
    pub fn is_proportion(self) -> bool {
        self.family() == Family::Proportion
    }

    /// Measures pooled on the log scale and shown as ratios (exp).
    pub fn is_ratio(self) -> bool {
        matches!(
            self,
            Measure::OR | Measure::RR | Measure::PETO | Measure::ROM | Measure::IRR | Measure::HR
        )
    }

    /// The inputs the measure reads.
    pub fn input_kind(self) -> crate::data::InputKind {
        use crate::data::InputKind;
        match self.family() {
            Family::Proportion => InputKind::Proportion,
            Family::Binary => InputKind::Binary,
            Family::Continuous => InputKind::Continuous,
            Family::Rate => InputKind::Rate,
            Family::Correlation => InputKind::Correlation,
            Family::Generic => InputKind::Generic,
        }
    }

    /// The effect's name on the natural scale, as a forest plot's column header prints it.
    pub fn natural_name(self) -> &'static str {
        match self {
            Measure::OR | Measure::PETO => "Odds ratio",
            Measure::RR => "Risk ratio",
            Measure::RD => "Risk difference",
            Measure::AS => "Arcsine risk difference",
            Measure::MD => "Mean difference",
            Measure::SMD | Measure::SMDH => "Std. mean difference",
            Measure::ROM => "Ratio of means",
            Measure::IRR => "Rate ratio",
            Measure::IRD => "Rate difference",
            Measure::COR | Measure::ZCOR => "Correlation",
            Measure::GEN => "Effect size",
            Measure::HR => "Hazard ratio",
            _ => "Proportion",
        }
    }

    /// Whether metafor applies a continuity correction by default (`escalc` uses `add = 0` for
    /// PAS and PFT unless `add` is given explicitly).
    pub fn uses_correction(self) -> bool {
        matches!(
            self,
            Measure::PR
                | Measure::PLN
                | Measure::PLO
                | Measure::OR
                | Measure::RR
                | Measure::RD
                | Measure::PETO
                | Measure::IRR
                | Measure::IRD
        )
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
            "OR" => Ok(Measure::OR),
            "RR" => Ok(Measure::RR),
            "RD" => Ok(Measure::RD),
            "PETO" => Ok(Measure::PETO),
            "AS" => Ok(Measure::AS),
            "MD" => Ok(Measure::MD),
            "SMD" => Ok(Measure::SMD),
            "SMDH" => Ok(Measure::SMDH),
            "ROM" => Ok(Measure::ROM),
            "IRR" => Ok(Measure::IRR),
            "IRD" => Ok(Measure::IRD),
            "COR" => Ok(Measure::COR),
            "ZCOR" => Ok(Measure::ZCOR),
            "GEN" => Ok(Measure::GEN),
            "HR" => Ok(Measure::HR),
            _ => Err(Error::Usage(format!(
                "unknown measure \"{s}\"; expected one of PR, PLN, PLO, PAS, PFT (proportions), OR, RR, RD, PETO, AS \
                 (2x2 tables), MD, SMD, SMDH, ROM (means), IRR, IRD (rates), COR, ZCOR (correlations), GEN (yi with vi or sei), HR (hazard ratios: est, ci_lb, ci_ub or log HR with vi or sei)"
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
                "unknown rule for which studies get the continuity correction \"{s}\"; expected one of only0, all, if0all, none"
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

/// Whether a study has an effect size a model can use: a finite `yi` with a finite, positive
/// `vi`. The one definition every model, diagnostic and output uses (metafor omits the other
/// studies with a warning; metarepro names them or lists them as not estimable).
pub fn is_defined(yi: f64, vi: f64) -> bool {
    yi.is_finite() && vi.is_finite() && vi > 0.0
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

    /// Whether study `i` has an effect size ([`is_defined`]).
    pub fn is_defined(&self, i: usize) -> bool {
        is_defined(self.yi[i], self.vi[i])
    }

    /// The positions of the studies with an effect size.
    pub fn defined(&self) -> Vec<usize> {
        (0..self.k()).filter(|&i| self.is_defined(i)).collect()
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
            // Not a single-proportion measure: see `comparative::escalc_inputs`.
            _ => (f64::NAN, f64::NAN),
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
