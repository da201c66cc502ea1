//! The analysis as a user chooses it ([`ModelSpec`]: the model flags of `metarepro pool`, the keys
//! of an `[[analysis]]` in `analysis.toml`, or a Rust caller's values), checked and turned into
//! [`PoolOptions`] in one place, with the defaults that depend on other choices (the continuity
//! correction by measure and pooling, `drop00` by pooling).

use super::{Control, Method, MhOptions, PiType, PoolOptions, Pooling, RdVariance, Test};
use crate::effect::comparative::{CcTarget, Vtype};
use crate::effect::{AddTo, CiMethod, Correction, Measure, PftMean};
use crate::error::{Error, Result};

/// The user's choices of a pooled analysis, as given (names as text, the level in percent or as
/// a fraction). `Default` is what `pool` uses without flags.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// Effect-size measure (metafor escalc), e.g. `PLO`, `OR`.
    pub measure: String,
    /// `IV`, `MH` or `PETO`.
    pub pooling: String,
    /// Two-group measures: no effect size for double-zero tables; `None`: on with M-H or Peto
    /// pooling, off with inverse variance (as metafor).
    pub drop00: Option<bool>,
    /// Sampling variances (metafor vtype).
    pub vtype: String,
    /// M-H: continuity correction inside the M-H sums for tables with a zero cell (0: none).
    pub mh_add: f64,
    /// M-H: leave double-zero tables out of the M-H sums (metafor's second `drop00` element;
    /// RevMan 5 and R meta leave them out when a correction is added inside the sums).
    pub mh_drop00: bool,
    /// M-H risk difference variance: `SGR` or `GR`.
    pub rd_variance: String,
    /// M-H risk difference: estimate and weights from the raw counts.
    pub rd_raw_estimate: bool,
    /// M-H: continuity correction in the CMH test (metafor `correct`).
    pub cmh_correction: bool,
    /// 2×2 tables: which cells the continuity correction changes.
    pub cc_target: String,
    /// 2×2 tables: yi from the raw counts, only vi from the corrected cells.
    pub cc_variance_only: bool,
    /// τ² estimator, or `GLMM`.
    pub method: String,
    /// `z`, `t` or `knha`.
    pub test: String,
    /// Confidence level, in percent (95) or as a fraction (0.95).
    pub level: f64,
    /// Continuity correction; `None`: the measure's default (0 with Peto pooling and for measures
    /// that take none).
    pub add: Option<f64>,
    /// Which studies get the correction.
    pub to: String,
    /// Per-study CI on the proportion scale.
    pub study_ci: String,
    /// Prediction-interval critical value.
    pub pi: String,
    /// n used to back-transform PFT.
    pub pft_mean: String,
    /// One τ² common to all subgroups.
    pub tau2_common: bool,
    /// GLMM: quadrature points.
    pub nagq: usize,
}

impl Default for ModelSpec {
    fn default() -> Self {
        let s = |x: &str| x.to_string();
        ModelSpec {
            measure: s("PLO"),
            pooling: s("IV"),
            drop00: None,
            vtype: s("LS"),
            mh_add: 0.0,
            mh_drop00: false,
            rd_variance: s("SGR"),
            rd_raw_estimate: false,
            cmh_correction: true,
            cc_target: s("all-cells"),
            cc_variance_only: false,
            method: s("REML"),
            test: s("z"),
            level: 95.0,
            add: None,
            to: s("only0"),
            study_ci: s("CP"),
            pi: s("metafor"),
            pft_mean: s("harmonic"),
            tau2_common: false,
            nagq: super::glmm::DEFAULT_NAGQ,
        }
    }
}

impl ModelSpec {
    /// The checked [`PoolOptions`].
    pub fn resolve(&self) -> Result<PoolOptions> {
        let level = resolve_level(self.level)?;
        let measure = self.measure.parse::<Measure>()?;
        let pooling = self.pooling.parse::<Pooling>()?;
        let add = self.add.unwrap_or(match (measure, pooling) {
            (m, _) if !m.is_proportion() && !m.uses_correction() => 0.0,
            // Peto pooling: no correction (metafor rma.peto, meta, RevMan).
            (_, Pooling::PETO) => 0.0,
            (m, _) => Correction::default_for(m).add,
        });
        if !(self.mh_add >= 0.0) || !self.mh_add.is_finite() {
            return Err(Error::Usage(format!(
                "the continuity correction inside the M-H sums must be a non-negative number, got {}",
                self.mh_add
            )));
        }
        if !(add >= 0.0) || !add.is_finite() {
            return Err(Error::Usage(format!(
                "the continuity correction must be a non-negative number, got {add}"
            )));
        }
        Ok(PoolOptions {
            measure,
            correction: Correction {
                add,
                to: self.to.parse::<AddTo>()?,
            },
            method: self.method.parse::<Method>()?,
            test: self.test.parse::<Test>()?,
            level,
            pi_type: self.pi.parse::<PiType>()?,
            study_ci: self.study_ci.parse::<CiMethod>()?,
            pft_mean: self.pft_mean.parse::<PftMean>()?,
            tau2_common: self.tau2_common,
            control: Control {
                n_agq: self.nagq,
                ..Control::default()
            },
            drop00: self.drop00.unwrap_or(pooling != Pooling::IV),
            vtype: self.vtype.parse::<Vtype>()?,
            cc_target: self.cc_target.parse::<CcTarget>()?,
            addyi: !self.cc_variance_only,
            pooling,
            mh: MhOptions {
                sums: Correction {
                    add: self.mh_add,
                    to: if self.mh_add > 0.0 { AddTo::Only0 } else { AddTo::None },
                },
                drop00_sums: self.mh_drop00,
                rd_variance: self.rd_variance.parse::<RdVariance>()?,
                rd_raw_estimate: self.rd_raw_estimate,
                correct: self.cmh_correction,
            },
        })
    }
}

/// The confidence level as a fraction: `level` in percent (50 to 99.9) or as a fraction (0.5 to
/// 0.999). Anything else is refused with the reason: a number above 1 is read as percent, so 9
/// would be a 9% interval, which no analysis means.
pub fn resolve_level(level: f64) -> Result<f64> {
    let refuse = |why: &str| {
        Err(Error::Usage(format!(
            "the confidence level must be 50 to 99.9 (percent) or 0.5 to 0.999 (a fraction), got {level}: {why}"
        )))
    };
    if !level.is_finite() || level <= 0.0 {
        return refuse("not a positive number");
    }
    let (fraction, percent) = if level > 1.0 {
        (level / 100.0, true)
    } else {
        (level, false)
    };
    // A little slack for levels written with rounding (99.9 / 100 is not exactly 0.999).
    let eps = 1e-12;
    if fraction < 0.5 - eps {
        let shown = if percent {
            level
        } else {
            (100.0 * level * 1e9).round() / 1e9
        };
        return refuse(&format!(
            "that is a {shown}% interval, which misses more often than it covers (a number above 1 is read as percent, one up to 1 as a fraction)"
        ));
    }
    if fraction > 1.0 {
        return refuse("a percentage above 100");
    }
    if fraction > 0.999 + eps {
        return refuse("a 100% interval is unbounded, and levels above 99.9% give intervals too wide to use");
    }
    Ok(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_resolve_to_the_default_pool_options() {
        assert_eq!(ModelSpec::default().resolve().unwrap(), PoolOptions::default());
    }

    #[test]
    fn defaults_that_depend_on_other_choices() {
        let spec = |measure: &str, pooling: &str| ModelSpec {
            measure: measure.into(),
            pooling: pooling.into(),
            ..ModelSpec::default()
        };
        let o = spec("PFT", "IV").resolve().unwrap();
        assert_eq!(o.correction.add, 0.0);
        let o = spec("OR", "IV").resolve().unwrap();
        assert_eq!((o.correction.add, o.drop00), (0.5, false));
        let o = spec("OR", "MH").resolve().unwrap();
        assert!(o.drop00 && o.mh.sums.to == AddTo::None);
        let o = spec("OR", "PETO").resolve().unwrap();
        assert_eq!((o.correction.add, o.drop00), (0.0, true));
        let o = ModelSpec {
            mh_add: 0.5,
            ..spec("RR", "MH")
        }
        .resolve()
        .unwrap();
        assert_eq!((o.mh.sums.add, o.mh.sums.to), (0.5, AddTo::Only0));
        assert!(
            (ModelSpec {
                level: 0.9,
                ..ModelSpec::default()
            }
            .resolve()
            .unwrap()
            .level
                - 0.9)
                .abs()
                < 1e-15
        );
    }

    /// Sensible levels pass (in percent or as a fraction); a 9 is not read as 9% silently, and
    /// every refusal says why.
    #[test]
    fn only_sensible_levels_are_accepted() {
        for (given, want) in [
            (95.0, 0.95),
            (0.95, 0.95),
            (90.0, 0.9),
            (50.0, 0.5),
            (0.5, 0.5),
            (99.9, 0.999),
            (0.999, 0.999),
            (80.0, 0.8),
        ] {
            let got = resolve_level(given).unwrap();
            assert!((got - want).abs() < 1e-12, "{given}: {got}");
        }
        for (given, why) in [
            (9.0, "that is a 9% interval"),
            (0.09, "that is a 9% interval"),
            (49.0, "that is a 49% interval"),
            (1.0, "a 100% interval is unbounded"),
            (100.0, "a 100% interval is unbounded"),
            (99.95, "a 100% interval is unbounded"),
            (150.0, "a percentage above 100"),
            (0.0, "not a positive number"),
            (-95.0, "not a positive number"),
            (f64::NAN, "not a positive number"),
        ] {
            let e = ModelSpec {
                level: given,
                ..ModelSpec::default()
            }
            .resolve()
            .unwrap_err()
            .to_string();
            assert!(e.starts_with("the confidence level must be 50 to 99.9"), "{e}");
            assert!(e.contains(why) && !e.contains("--"), "{given}: {e}");
        }
    }

    /// The messages name the choice in words, not a command-line flag.
    #[test]
    fn errors_name_the_choice_not_a_flag() {
        let e = ModelSpec {
            level: 150.0,
            ..ModelSpec::default()
        }
        .resolve()
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "the confidence level must be 50 to 99.9 (percent) or 0.5 to 0.999 (a fraction), got 150: a percentage above 100"
        );
        let e = ModelSpec {
            mh_add: -1.0,
            ..ModelSpec::default()
        }
        .resolve()
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("the continuity correction inside the M-H sums must be"),
            "{e}"
        );
        let e = ModelSpec {
            add: Some(f64::INFINITY),
            ..ModelSpec::default()
        }
        .resolve()
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("the continuity correction must be"), "{e}");
        for spec in [
            ModelSpec {
                pooling: "XX".into(),
                ..ModelSpec::default()
            },
            ModelSpec {
                rd_variance: "XX".into(),
                ..ModelSpec::default()
            },
            ModelSpec {
                vtype: "XX".into(),
                ..ModelSpec::default()
            },
            ModelSpec {
                cc_target: "XX".into(),
                ..ModelSpec::default()
            },
            ModelSpec {
                to: "XX".into(),
                ..ModelSpec::default()
            },
        ] {
            let e = spec.resolve().unwrap_err().to_string();
            assert!(e.starts_with("unknown ") && !e.contains("--"), "{e}");
        }
    }
}
