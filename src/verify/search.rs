//! Analysis settings, their evaluation on a claims file's data, and the search over the grid of
//! settings for the ones that reproduce every printed number.
//!
//! The grid: measure (PR, PLN, PLO, PAS, PFT) × τ² estimator (all of the engine's and the
//! common-effect model) × test (z, t, Hartung–Knapp) × continuity correction (0.5 to 0/N studies,
//! 0.5 to all, none, drop 0/N studies) × prediction-interval df (metafor, z, k − 1, k − 2) × PFT
//! back-transformation n (harmonic, geometric, arithmetic) × separate or common τ² across subgroups.
//! Fits are shared between settings that differ only in the PI or the PFT n.
//!
//! The GLMM (metafor `rma.glmm`, random-intercept logistic model on the counts) is tried as one
//! more method, for PLO only, with tests z and t, separate τ² only, and one correction choice (no
//! correction enters its likelihood; metafor's default `add = 1/2, to = "only0"` only sets the
//! logits behind I²).

use rayon::prelude::*;
use serde::Serialize;

use super::claims::{Claim, Claims, MethodSpec};
use super::printed::{PNum, PValue, Unit};
use super::rounding::{compare, Verdict};
use crate::data::Studies;
use crate::effect::{escalc, AddTo, BackTransform, Correction, Measure, PftMean};
use crate::error::{Error, Result};
use crate::model::glmm::{glmm_int, GlmmOptions};
use crate::model::subgroup::{factor_design, levels};
use crate::model::{rma, rma_mods, Control, Method, PiType, RmaOptions, Test};

/// A continuity correction as a paper states it, kept exactly (`add = 0.1`, `to = "if0all"`).
#[derive(Debug, Clone, Copy)]
pub struct StatedCc {
    pub add: f64,
    pub to: AddTo,
}

impl PartialEq for StatedCc {
    fn eq(&self, o: &Self) -> bool {
        self.add.to_bits() == o.add.to_bits() && self.to == o.to
    }
}

impl Eq for StatedCc {}

impl std::hash::Hash for StatedCc {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.add.to_bits().hash(h);
        self.to.as_str().hash(h);
    }
}

/// How studies with 0 or all events are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CcChoice {
    /// 0.5 added to studies with 0 or n events (metafor, meta).
    HalfOnly0,
    /// 0.5 added to every study.
    HalfAll,
    /// No correction.
    None,
    /// Studies with 0 or n events left out (Stata `metaprop` without `cc()`).
    Drop,
    /// Another correction, as the paper states it.
    Stated(StatedCc),
}

impl Serialize for CcChoice {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.label())
    }
}

impl CcChoice {
    pub const ALL: [CcChoice; 4] = [CcChoice::HalfOnly0, CcChoice::HalfAll, CcChoice::None, CcChoice::Drop];

    pub fn label(self) -> String {
        match self {
            CcChoice::HalfOnly0 => "0.5 only0".into(),
            CcChoice::HalfAll => "0.5 all".into(),
            CcChoice::None => "none".into(),
            CcChoice::Drop => "drop 0/n".into(),
            CcChoice::Stated(c) => format!("{} {}", c.add, c.to.as_str()),
        }
    }

    /// The choice a stated `add` and `to` make, kept exactly: metafor's names for the usual
    /// ones, [`CcChoice::Stated`] for the others.
    pub fn from_stated(add: f64, to: AddTo) -> CcChoice {
        if add == 0.0 || to == AddTo::None {
            CcChoice::None
        } else if add == 0.5 && to == AddTo::Only0 {
            CcChoice::HalfOnly0
        } else if add == 0.5 && to == AddTo::All {
            CcChoice::HalfAll
        } else {
            CcChoice::Stated(StatedCc { add, to })
        }
    }

    /// The correction the choice applies (none for `Drop`, which leaves the studies out).
    pub fn correction(self) -> Correction {
        match self {
            CcChoice::HalfOnly0 => Correction {
                add: 0.5,
                to: AddTo::Only0,
            },
            CcChoice::HalfAll => Correction {
                add: 0.5,
                to: AddTo::All,
            },
            CcChoice::None | CcChoice::Drop => Correction {
                add: 0.0,
                to: AddTo::None,
            },
            CcChoice::Stated(c) => Correction { add: c.add, to: c.to },
        }
    }

    /// metafor's default for the measure.
    pub fn metafor_default(measure: Measure) -> CcChoice {
        if measure.uses_correction() {
            CcChoice::HalfOnly0
        } else {
            CcChoice::None
        }
    }
}

/// When the iterative τ² estimators stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stopping {
    /// To machine precision (this engine's default; metafor with a tight `control`).
    Tight,
    /// metafor's and meta's defaults: Fisher scoring (ML, REML, EB) stops when the change in τ²
    /// is below 1e-5 (at most 100 iterations), and `uniroot` (PM) at its default tolerance
    /// `.Machine$double.eps^0.25`. A paper run with the defaults can differ from the tight
    /// value in the 4th or 5th decimal.
    Defaults,
}

impl Stopping {
    pub fn as_str(self) -> &'static str {
        match self {
            Stopping::Tight => "tight",
            Stopping::Defaults => "defaults",
        }
    }

    pub fn control(self) -> Control {
        match self {
            Stopping::Tight => Control::default(),
            Stopping::Defaults => Control {
                threshold: 1e-5,
                maxiter: 100,
                absolute_threshold: true,
                root_tol: f64::EPSILON.powf(0.25),
                ..Control::default()
            },
        }
    }

    /// Whether the stopping rule changes an estimator's τ² (the iterative ones).
    pub fn matters(method: Method) -> bool {
        matches!(method, Method::ML | Method::REML | Method::EB | Method::PM)
    }
}

impl std::str::FromStr for Stopping {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "tight" => Ok(Stopping::Tight),
            "defaults" | "default" | "metafor" => Ok(Stopping::Defaults),
            other => Err(Error::Usage(format!(
                "stopping rule \"{other}\": expected \"tight\" or \"defaults\" (metafor's threshold 1e-5 and uniroot tolerance)"
            ))),
        }
    }
}

/// One complete set of analysis choices.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Setting {
    pub measure: Measure,
    pub method: Method,
    pub test: Test,
    pub pi: PiType,
    pub correction: CcChoice,
    pub pft_mean: PftMean,
    pub tau2_common: bool,
    /// When the iterative τ² estimators stop.
    pub stopping: Stopping,
}

impl Setting {
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} {} {} PI:{} cc:{}",
            self.measure,
            self.method,
            self.test,
            self.pi.as_str(),
            self.correction.label()
        );
        if self.measure == Measure::PFT {
            s.push_str(&format!(" n:{}", self.pft_mean.as_str()));
        }
        if self.tau2_common {
            s.push_str(" common-tau2");
        }
        if self.stopping == Stopping::Defaults {
            s.push_str(" stop:defaults");
        }
        s
    }

    /// The correction a stated method gives (`None` when it states none).
    fn stated_correction(spec: &MethodSpec) -> Result<Option<CcChoice>> {
        if spec.drop_zero_all == Some(true) {
            return Ok(Some(CcChoice::Drop));
        }
        if spec.add.is_none() && spec.to.is_none() {
            return Ok(None);
        }
        let to: AddTo = match spec.to.as_deref() {
            Some(t) => t.parse()?,
            None => AddTo::Only0,
        };
        Ok(Some(CcChoice::from_stated(spec.add.unwrap_or(0.5), to)))
    }

    /// The setting a stated method describes, with metafor's defaults for what it leaves out.
    pub fn from_spec(spec: &MethodSpec) -> Result<Setting> {
        let measure: Measure = spec.measure.as_deref().unwrap_or("PLO").parse()?;
        let correction = Setting::stated_correction(spec)?.unwrap_or(CcChoice::metafor_default(measure));
        Ok(Setting {
            measure,
            method: spec.method.as_deref().unwrap_or("REML").parse()?,
            test: spec.test.as_deref().unwrap_or("z").parse()?,
            pi: spec.pi.as_deref().unwrap_or("metafor").parse()?,
            correction,
            pft_mean: spec.pft_mean.as_deref().unwrap_or("harmonic").parse()?,
            tau2_common: spec.tau2_common.unwrap_or(false),
            stopping: spec.stopping.as_deref().unwrap_or("tight").parse()?,
        })
    }

    /// The choices a stated method leaves out, filled with metafor's defaults by
    /// [`Setting::from_spec`].
    pub fn unstated(spec: &MethodSpec) -> Vec<&'static str> {
        let mut out = Vec::new();
        for (name, stated) in [
            ("measure", spec.measure.is_some()),
            ("method", spec.method.is_some()),
            ("test", spec.test.is_some()),
            (
                "correction",
                spec.add.is_some() || spec.to.is_some() || spec.drop_zero_all.is_some(),
            ),
            ("tau2_common", spec.tau2_common.is_some()),
        ] {
            if !stated {
                out.push(name);
            }
        }
        out
    }

    /// Whether this setting agrees with every choice the stated method makes.
    pub fn agrees_with(&self, spec: &MethodSpec) -> bool {
        let eq = |s: &Option<String>, v: &str| s.as_deref().is_none_or(|x| x.eq_ignore_ascii_case(v));
        let method_ok = match spec.method.as_deref() {
            None => true,
            Some(m) => m
                .parse::<Method>()
                .map(|pm| pm == self.method || (pm.is_common() && self.method.is_common()))
                .unwrap_or(false),
        };
        let cc_ok = match Setting::stated_correction(spec) {
            Ok(None) => true,
            Ok(Some(c)) => c == self.correction,
            Err(_) => false,
        };
        eq(&spec.measure, self.measure.as_str())
            && method_ok
            && eq(&spec.test, self.test.as_str())
            && spec
                .pi
                .as_deref()
                .is_none_or(|p| p.parse::<PiType>().is_ok_and(|p| p == self.pi))
            && spec
                .pft_mean
                .as_deref()
                .is_none_or(|p| p.parse::<PftMean>().is_ok_and(|p| p == self.pft_mean))
            && spec.tau2_common.is_none_or(|t| t == self.tau2_common)
            && cc_ok
            && spec
                .stopping
                .as_deref()
                .is_none_or(|p| p.parse::<Stopping>().is_ok_and(|p| p == self.stopping))
    }

    /// Named configurations of other software that this setting reproduces.
    pub fn presets(&self) -> Vec<&'static str> {
        PRESETS.iter().filter(|p| p.admits(self)).map(|p| p.name).collect()
    }
}

/// The continuity-correction rule of a preset.
#[derive(Debug, Clone, Copy)]
enum PresetCc {
    /// metafor's and meta's: 0.5 to studies with 0 or n events for PR/PLN/PLO, none for PAS/PFT.
    MetaforDefault,
    /// Stata `metaprop`: 0/n studies dropped, except with `ftt` (no correction needed).
    Stata,
    /// Not part of the preset.
    Any,
}

/// A named configuration of other software, as the grid's choices it fixes.
struct Preset {
    name: &'static str,
    /// Measures the preset uses (empty: any).
    measures: &'static [Measure],
    methods: &'static [Method],
    test: Test,
    /// Prediction-interval types (empty: any).
    pis: &'static [PiType],
    cc: PresetCc,
    /// Requires the harmonic-mean PFT back-transformation and separate τ² per subgroup.
    defaults_otherwise: bool,
    /// The software pools single proportions (RevMan has no single-group data type: no
    /// proportion analysis, hence no Freeman–Tukey either).
    proportions: bool,
}

impl Preset {
    fn admits(&self, s: &Setting) -> bool {
        let cc_ok = match self.cc {
            PresetCc::MetaforDefault => s.correction == CcChoice::metafor_default(s.measure),
            PresetCc::Stata if s.measure == Measure::PFT => s.correction == CcChoice::None,
            PresetCc::Stata => s.correction == CcChoice::Drop,
            PresetCc::Any => true,
        };
        let harmonic = s.measure != Measure::PFT || s.pft_mean == PftMean::Harmonic;
        (self.proportions || !s.measure.is_proportion())
            && (self.measures.is_empty() || self.measures.contains(&s.measure))
            && self.methods.contains(&s.method)
            && s.test == self.test
            && (self.pis.is_empty() || self.pis.contains(&s.pi))
            && cc_ok
            && !s.tau2_common
            && (!self.defaults_otherwise || harmonic)
    }
}

const PRESETS: &[Preset] = &[
    Preset {
        name: "metafor defaults (REML, z, PI z)",
        measures: &[],
        methods: &[Method::REML],
        test: Test::Z,
        pis: &[PiType::Metafor],
        cc: PresetCc::MetaforDefault,
        defaults_otherwise: true,
        proportions: true,
    },
    Preset {
        name: "meta >= 7.0 inverse variance (REML, z, PI t(k-1))",
        measures: &[],
        methods: &[Method::REML],
        test: Test::Z,
        pis: &[PiType::TkMinus1],
        cc: PresetCc::MetaforDefault,
        defaults_otherwise: true,
        proportions: true,
    },
    Preset {
        name: "meta 5-6 (REML, z, PI t(k-2))",
        measures: &[],
        methods: &[Method::REML],
        test: Test::Z,
        pis: &[PiType::TkMinus2],
        cc: PresetCc::MetaforDefault,
        defaults_otherwise: true,
        proportions: true,
    },
    Preset {
        name: "meta <= 4 (DL, z, PI t(k-2))",
        measures: &[],
        methods: &[Method::DL],
        test: Test::Z,
        pis: &[PiType::TkMinus2],
        cc: PresetCc::MetaforDefault,
        defaults_otherwise: true,
        proportions: true,
    },
    Preset {
        name: "Stata metaprop, random",
        measures: &[Measure::PR],
        methods: &[Method::DL],
        test: Test::Z,
        pis: &[PiType::TkMinus2],
        cc: PresetCc::Stata,
        defaults_otherwise: true,
        proportions: true,
    },
    Preset {
        name: "Stata metaprop, random, ftt",
        measures: &[Measure::PFT],
        methods: &[Method::DL],
        test: Test::Z,
        pis: &[PiType::TkMinus2],
        cc: PresetCc::Stata,
        defaults_otherwise: true,
        proportions: true,
    },
    Preset {
        name: "Stata metaprop, fixed",
        measures: &[Measure::PR],
        methods: &[Method::EE, Method::FE],
        test: Test::Z,
        pis: &[],
        cc: PresetCc::Stata,
        defaults_otherwise: true,
        proportions: true,
    },
    Preset {
        name: "Stata metaprop, fixed, ftt",
        measures: &[Measure::PFT],
        methods: &[Method::EE, Method::FE],
        test: Test::Z,
        pis: &[],
        cc: PresetCc::Stata,
        defaults_otherwise: true,
        proportions: true,
    },
    Preset {
        name: "RevMan 5 (DL, z)",
        measures: &[],
        methods: &[Method::DL],
        test: Test::Z,
        pis: &[],
        cc: PresetCc::Any,
        defaults_otherwise: false,
        proportions: false,
    },
    Preset {
        name: "metafor rma.glmm defaults (GLMM, nAGQ 7, z)",
        measures: &[],
        methods: &[Method::GLMM],
        test: Test::Z,
        pis: &[PiType::Metafor, PiType::Z],
        cc: PresetCc::Any,
        defaults_otherwise: false,
        proportions: true,
    },
    Preset {
        name: "meta >= 7.0 metaprop default (GLMM, PI t(k-1))",
        measures: &[],
        methods: &[Method::GLMM],
        test: Test::Z,
        pis: &[PiType::TkMinus1],
        cc: PresetCc::Any,
        defaults_otherwise: false,
        proportions: true,
    },
    Preset {
        name: "meta 5-6 metaprop default (GLMM, PI t(k-2))",
        measures: &[],
        methods: &[Method::GLMM],
        test: Test::Z,
        pis: &[PiType::TkMinus2],
        cc: PresetCc::Any,
        defaults_otherwise: false,
        proportions: true,
    },
    Preset {
        name: "RevMan Web 2025 (REML, Hartung-Knapp, PI t(k-1))",
        measures: &[],
        methods: &[Method::REML],
        test: Test::Knha,
        pis: &[PiType::TkMinus1],
        cc: PresetCc::Any,
        defaults_otherwise: false,
        proportions: false,
    },
];

/// The studies of one claim: the filtered rows and the subset the claim pools.
#[derive(Debug, Clone)]
pub struct Target {
    /// Index into `Prepared::sets`.
    pub set: usize,
    /// Positions of the claim's studies in that set (all of them for an overall claim).
    pub idx: Vec<usize>,
    /// A subgroup's claim (with a common τ², pooled with the subgroup model's τ²; an overall
    /// claim keeps its own τ², as `pool` fits it).
    pub subgroup: bool,
    /// Confidence level of the claim's CI and PI (e.g. 0.95): as printed, else `[method] level`.
    pub level: f64,
}

/// The data of a claims file, split into the row sets its claims use.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub sets: Vec<Studies>,
    /// For each claim: its target, or why it has none.
    pub targets: Vec<std::result::Result<Target, String>>,
    /// Whether a claim prints the test for subgroup differences (`subgroup_p`): only then are
    /// the subgroups fitted for it.
    pub subgroup_test: bool,
}

/// Proportion-scale values recomputed for one claim under one setting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Values {
    pub estimate: f64,
    pub ci_lb: f64,
    pub ci_ub: f64,
    pub pi_lb: f64,
    pub pi_ub: f64,
    pub k: usize,
    pub n: f64,
    pub tau2: f64,
    /// metafor's I² (τ²-based; the Q-based one for DL).
    #[serde(rename = "I2")]
    pub i2: f64,
    /// The Q-based I², max(0, (Q − df) / Q), as meta, Stata and RevMan print it.
    #[serde(rename = "I2_Q")]
    pub i2_q: f64,
    #[serde(rename = "Q")]
    pub q: f64,
    /// The heterogeneity test's p-value.
    #[serde(rename = "Q_p")]
    pub q_p: f64,
    /// The estimate's p-value (its z or t test against 0 on the analysis scale).
    pub p: f64,
    /// An overall claim's test for subgroup differences (NaN without subgroups): as `pool`, a
    /// Wald-type Q between the subgroup estimates, or with a common τ² the subgroup model's QM.
    pub subgroup_p: f64,
}

/// One claim's fit and the totals of its studies (for the PFT back-transformation and `n`).
struct Fitted {
    fit: crate::model::RmaFit,
    ni: Vec<f64>,
    subgroup_p: f64,
}

/// Keep the studies a correction choice keeps.
fn kept(studies: &Studies, idx: &[usize], cc: CcChoice) -> Vec<usize> {
    idx.iter()
        .copied()
        .filter(|&i| cc != CcChoice::Drop || (studies.events[i] > 0.0 && studies.events[i] < studies.total[i]))
        .collect()
}

/// The test for subgroup differences of `pool`: a Wald-type Q between the subgroups' own fits.
fn q_between(fits: &[crate::model::RmaFit]) -> f64 {
    if fits.len() < 2 {
        return f64::NAN;
    }
    let w: Vec<f64> = fits.iter().map(|f| 1.0 / f.coefficients[0].se.powi(2)).collect();
    let sw: f64 = w.iter().sum();
    let mean = fits
        .iter()
        .zip(&w)
        .map(|(f, w)| w * f.coefficients[0].estimate)
        .sum::<f64>()
        / sw;
    let q: f64 = fits
        .iter()
        .zip(&w)
        .map(|(f, w)| w * (f.coefficients[0].estimate - mean).powi(2))
        .sum();
    crate::dist::pchisq_upper(q, (fits.len() - 1) as f64)
}

/// Fit every claim under the fit-relevant part of a setting (measure, correction, method, test,
/// τ² mode, stopping rule). `None` where the claim cannot be fitted that way.
fn fit_all(p: &Prepared, key: FitKey) -> Vec<Option<Fitted>> {
    let FitKey {
        measure,
        cc,
        method,
        test,
        tau2_common,
        stopping,
    } = key;
    let control = stopping.control();
    if method == Method::GLMM {
        return fit_all_glmm(p, measure, cc, test, tau2_common, control);
    }
    let base = RmaOptions {
        method,
        test,
        level: 0.95,
        tau2_fixed: None,
        control,
    };
    let es_of = |s: &Studies, keep: &[usize]| {
        let ev: Vec<f64> = keep.iter().map(|&i| s.events[i]).collect();
        let tot: Vec<f64> = keep.iter().map(|&i| s.total[i]).collect();
        (escalc(measure, &ev, &tot, cc.correction()), tot)
    };
    // Per set: the common τ² and the subgroup model's QM p (from the factor model over that
    // set's subgroups), or the p of the Q between the subgroups' own fits.
    let per_set: Vec<(Option<f64>, f64)> = p
        .sets
        .iter()
        .map(|s| {
            let Some(g) = s.group.as_ref() else {
                return (None, f64::NAN);
            };
            let all: Vec<usize> = (0..s.k()).collect();
            let keep = kept(s, &all, cc);
            let groups: Vec<String> = keep.iter().map(|&i| g[i].clone()).collect();
            let lv = levels(&groups);
            if lv.len() < 2 {
                return (None, f64::NAN);
            }
            let (es, _) = es_of(s, &keep);
            if tau2_common {
                let (x, names) = factor_design(&groups, &lv);
                return match rma_mods(&es.yi, &es.vi, x, names, &base) {
                    Ok(f) => (
                        (!method.is_common()).then_some(f.tau2),
                        f.qm.map(|q| q.p).unwrap_or(f64::NAN),
                    ),
                    Err(_) => (None, f64::NAN),
                };
            }
            if !p.subgroup_test {
                return (None, f64::NAN);
            }
            let fits: Option<Vec<crate::model::RmaFit>> = lv
                .iter()
                .map(|(_, idx)| {
                    let sub = es.subset(idx);
                    rma(&sub.yi, &sub.vi, &base).ok()
                })
                .collect();
            (None, fits.map(|f| q_between(&f)).unwrap_or(f64::NAN))
        })
        .collect();
    p.targets
        .iter()
        .map(|t| {
            let t = t.as_ref().ok()?;
            let s = &p.sets[t.set];
            let keep = kept(s, &t.idx, cc);
            if keep.is_empty() {
                return None;
            }
            let (es, tot) = es_of(s, &keep);
            if es.defined().len() != es.k() {
                return None;
            }
            let common = per_set[t.set].0;
            if t.subgroup && tau2_common && common.is_none() && !method.is_common() {
                return None;
            }
            let mut o = base;
            o.level = t.level;
            o.tau2_fixed = if t.subgroup { common } else { None };
            let fit = rma(&es.yi, &es.vi, &o).ok()?;
            Some(Fitted {
                fit,
                ni: tot,
                subgroup_p: if t.subgroup { f64::NAN } else { per_set[t.set].1 },
            })
        })
        .collect()
}

/// [`fit_all`] for the GLMM: one GLMM per claim on its (kept) counts; PLO and separate τ² only.
fn fit_all_glmm(
    p: &Prepared,
    measure: Measure,
    cc: CcChoice,
    test: Test,
    tau2_common: bool,
    control: Control,
) -> Vec<Option<Fitted>> {
    let ok = measure == Measure::PLO && !tau2_common && test != Test::Knha;
    p.targets
        .iter()
        .map(|t| {
            if !ok {
                return None;
            }
            let t = t.as_ref().ok()?;
            let opts = GlmmOptions {
                n_agq: control.n_agq,
                test,
                level: t.level,
                correction: Correction::default(),
            };
            let s = &p.sets[t.set];
            let keep = kept(s, &t.idx, cc);
            if keep.is_empty() {
                return None;
            }
            let ev: Vec<f64> = keep.iter().map(|&i| s.events[i]).collect();
            let tot: Vec<f64> = keep.iter().map(|&i| s.total[i]).collect();
            let g = glmm_int(&ev, &tot, &opts).ok()?;
            Some(Fitted {
                fit: g,
                ni: tot,
                subgroup_p: f64::NAN,
            })
        })
        .collect()
}

fn values(f: &Fitted, measure: Measure, pi: PiType, pft_mean: PftMean) -> Values {
    let fit = &f.fit;
    let pred = fit.predict(pi);
    let back = BackTransform::with_mean(measure, &f.ni, pft_mean);
    let c = &fit.coefficients[0];
    let (a, b) = (back.apply(c.ci_lb), back.apply(c.ci_ub));
    let (lo, hi) = (back.apply(pred.pi_lb), back.apply(pred.pi_ub));
    let df = fit.q_df as f64;
    Values {
        estimate: back.apply(c.estimate),
        ci_lb: a.min(b),
        ci_ub: a.max(b),
        pi_lb: lo.min(hi),
        pi_ub: lo.max(hi),
        k: fit.k,
        n: f.ni.iter().sum(),
        tau2: fit.tau2,
        i2: fit.i2,
        i2_q: if fit.q > 0.0 {
            (100.0 * (fit.q - df) / fit.q).max(0.0)
        } else {
            0.0
        },
        q: fit.q,
        q_p: fit.q_p,
        p: c.pval,
        subgroup_p: f.subgroup_p,
    }
}

/// The fit-relevant part of a setting.
#[derive(Debug, Clone, Copy, PartialEq)]
struct FitKey {
    measure: Measure,
    cc: CcChoice,
    method: Method,
    test: Test,
    tau2_common: bool,
    stopping: Stopping,
}

/// Recompute every claim under one setting.
pub fn evaluate(p: &Prepared, s: &Setting) -> Vec<Option<Values>> {
    let key = FitKey {
        measure: s.measure,
        cc: s.correction,
        method: s.method,
        test: s.test,
        tau2_common: s.tau2_common,
        stopping: s.stopping,
    };
    fit_all(p, key)
        .iter()
        .map(|f| f.as_ref().map(|f| values(f, s.measure, s.pi, s.pft_mean)))
        .collect()
}

/// What a printed number says: a rounded value, an exact count, or a bound.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// A value printed at a precision: every value that rounds to it.
    Rounded(PNum),
    /// A count (k, n): exactly this integer; off by one is a mismatch.
    Count(u64),
    /// A bound or a rounded p-value ("<0.001", "0.03").
    Bound(PValue),
}

/// One printed number of a claim, with its name in the report (`estimate`, `ci_lb`, `ci_ub`,
/// `pi_lb`, `pi_ub`, `k`, `n`, `I2`, `tau2`, `Q`, `Q_p`, `p`, `subgroup_p`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimNumber {
    pub name: &'static str,
    pub expect: Expect,
}

impl ClaimNumber {
    pub fn text(&self) -> String {
        match &self.expect {
            Expect::Rounded(p) => p.text.clone(),
            Expect::Count(k) => k.to_string(),
            Expect::Bound(b) => b.text(),
        }
    }

    pub fn decimals(&self) -> u32 {
        match &self.expect {
            Expect::Rounded(p) => p.decimals,
            Expect::Count(_) => 0,
            Expect::Bound(b) => b.num.decimals,
        }
    }

    /// The verdict on a recomputed value (in the printed unit).
    pub fn judge(&self, x: f64) -> Verdict {
        match &self.expect {
            Expect::Rounded(p) => compare(x, p),
            Expect::Count(k) => {
                if !x.is_finite() {
                    Verdict::NotComputed
                } else if x == *k as f64 {
                    Verdict::Match
                } else {
                    Verdict::Mismatch
                }
            }
            Expect::Bound(b) => b.judge(x),
        }
    }

    /// How far off a verdict is, in units of the last printed digit (for ranking near misses).
    pub fn units_off(&self, x: f64, v: Verdict) -> i64 {
        match v {
            Verdict::Match => 0,
            Verdict::OffBy(n) => n.abs(),
            Verdict::NotComputed => 1000,
            Verdict::Mismatch => {
                if !x.is_finite() {
                    return 1000;
                }
                match &self.expect {
                    Expect::Rounded(p) => {
                        let unit = 10f64.powi(-(p.decimals as i32));
                        (((x - p.value) / unit).abs().round() as i64).min(1000)
                    }
                    Expect::Count(k) => ((10.0 * (x - *k as f64).abs()).round() as i64).min(1000),
                    Expect::Bound(_) => 10,
                }
            }
        }
    }
}

/// Every printed number of a pooled-estimate claim, in report order.
pub fn claim_numbers(c: &Claim) -> Vec<ClaimNumber> {
    let mut out = Vec::new();
    let mut r = |name: &'static str, p: &Option<PNum>| {
        if let Some(p) = p {
            out.push(ClaimNumber {
                name,
                expect: Expect::Rounded(p.clone()),
            });
        }
    };
    r("estimate", &c.printed.estimate);
    r("ci_lb", &c.printed.ci_lb);
    r("ci_ub", &c.printed.ci_ub);
    if let Some(pi) = &c.pi {
        r("pi_lb", &pi.ci_lb);
        r("pi_ub", &pi.ci_ub);
    }
    for (name, k) in [("k", c.k()), ("n", c.n())] {
        if let Some(k) = k {
            out.push(ClaimNumber {
                name,
                expect: Expect::Count(k),
            });
        }
    }
    for (name, b) in [
        ("I2", c.i2()),
        ("tau2", c.tau2.clone()),
        ("Q", c.q.clone()),
        ("Q_p", c.q_p.clone()),
        ("p", c.p.clone()),
        ("subgroup_p", c.subgroup_p.clone()),
    ] {
        if let Some(b) = b {
            out.push(ClaimNumber {
                name,
                expect: if b.is_bound() || matches!(name, "Q_p" | "p" | "subgroup_p") {
                    Expect::Bound(b)
                } else {
                    Expect::Rounded(b.num)
                },
            });
        }
    }
    out
}

/// The recomputed value of a named number, in the printed unit, and its verdict. I² is judged
/// against both definitions (metafor's τ²-based one and the Q-based one); the better is kept.
pub fn judge(v: &Values, cn: &ClaimNumber, unit: Unit) -> (f64, Verdict) {
    let scale = |x: f64| if unit == Unit::Percent { 100.0 * x } else { x };
    let candidates: Vec<f64> = match cn.name {
        "estimate" => vec![scale(v.estimate)],
        "ci_lb" => vec![scale(v.ci_lb)],
        "ci_ub" => vec![scale(v.ci_ub)],
        "pi_lb" => vec![scale(v.pi_lb)],
        "pi_ub" => vec![scale(v.pi_ub)],
        "k" => vec![v.k as f64],
        "n" => vec![v.n],
        "I2" => vec![v.i2, v.i2_q],
        "tau2" => vec![v.tau2],
        "Q" => vec![v.q],
        "Q_p" => vec![v.q_p],
        "p" => vec![v.p],
        "subgroup_p" => vec![v.subgroup_p],
        _ => vec![f64::NAN],
    };
    candidates
        .into_iter()
        .map(|x| (x, cn.judge(x)))
        .min_by_key(|(_, v)| v.severity())
        .unwrap_or((f64::NAN, Verdict::NotComputed))
}

/// Result of the method search.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SearchResult {
    /// Whether the search ran (it needs `--search` and study data).
    pub ran: bool,
    /// Why the search was asked for but not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Settings tried.
    pub tried: usize,
    /// Claims whose numbers the search used (proportion claims with study data).
    pub claims_used: Vec<String>,
    /// Settings that reproduce every printed number of those claims, best first.
    pub matches: Vec<SearchMatch>,
    /// When nothing matches: the closest settings (fewest units off in total).
    pub closest: Vec<SearchMatch>,
    /// Whether a setting agreeing with the paper's stated choices is among the matches
    /// (`None` when the paper states no method).
    pub stated_method_matches: Option<bool>,
    /// The stated method as recomputed (metafor's defaults for what it leaves out): how many
    /// printed numbers it reproduces and which it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stated: Option<StatedRecompute>,
    /// For each claim, how many settings reproduce it on its own.
    pub per_claim: Vec<(String, usize)>,
    /// For each grid dimension, the values found among the matches ("any" when every value of the
    /// grid appears).
    pub constrained: Vec<(String, Vec<String>)>,
    /// The dimensions the matches fix to one value.
    pub pinned: Vec<(String, String)>,
    /// The dimensions the matches leave open (not determined), with the values among them.
    pub not_determined: Vec<(String, Vec<String>)>,
}

/// The stated method as recomputed, against the printed numbers the search used.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StatedRecompute {
    /// The setting (the stated choices, metafor's defaults for the rest).
    pub setting: String,
    /// The choices the paper leaves out, filled with metafor's defaults.
    pub filled_in: Vec<String>,
    /// Printed numbers compared, and how many the setting reproduces.
    pub numbers: usize,
    pub reproduced: usize,
    /// The numbers it does not reproduce: claim, number, printed, recomputed, verdict.
    pub misses: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchMatch {
    #[serde(flatten)]
    pub setting: Setting,
    pub presets: Vec<&'static str>,
    pub agrees_with_stated: Option<bool>,
    /// Total units of the last printed digit by which the numbers miss (0 for a match).
    pub units_off: i64,
    /// Settings that give the same numbers (estimate, CI, PI, k, n, τ², I², Q, p; to 9
    /// significant digits), printed or not, share a group: the reports list them on one line.
    pub group: usize,
}

/// Which grid dimensions to search.
#[derive(Debug, Clone)]
pub struct Grid {
    pub measures: Vec<Measure>,
    pub methods: Vec<Method>,
    pub tests: Vec<Test>,
    pub pis: Vec<PiType>,
    pub ccs: Vec<CcChoice>,
    pub pft_means: Vec<PftMean>,
    pub tau2_modes: Vec<bool>,
    /// Stopping rules of the iterative estimators (tight only, or also the software defaults).
    pub stoppings: Vec<Stopping>,
}

impl Grid {
    /// The full grid; the PI and common-τ² dimensions only when they can matter.
    pub fn full(any_pi: bool, any_subgroups: bool) -> Grid {
        Grid {
            measures: Measure::ALL.to_vec(),
            methods: Method::ALL.iter().copied().chain([Method::GLMM]).collect(),
            tests: Test::ALL.to_vec(),
            pis: if any_pi {
                vec![PiType::Metafor, PiType::Z, PiType::TkMinus1, PiType::TkMinus2]
            } else {
                vec![PiType::Metafor]
            },
            ccs: CcChoice::ALL.to_vec(),
            pft_means: vec![PftMean::Harmonic, PftMean::Geometric, PftMean::Arithmetic],
            tau2_modes: if any_subgroups { vec![false, true] } else { vec![false] },
            stoppings: vec![Stopping::Tight],
        }
    }

    /// The grid for a claims file: [`Grid::full`], with the stated continuity correction when it
    /// is none of the grid's, and with the software's default stopping rules when asked.
    pub fn for_claims(claims: &Claims, default_stopping: bool) -> Result<Grid> {
        let any_pi = claims.claims.iter().any(|c| c.pi.is_some());
        let any_sub = claims.claims.iter().any(|c| c.spec.subgroup.is_some());
        let mut g = Grid::full(any_pi, any_sub);
        if let Some(m) = &claims.file.method {
            if let Some(cc) = Setting::stated_correction(m)? {
                if !g.ccs.contains(&cc) {
                    g.ccs.push(cc);
                }
            }
            if m.stopping
                .as_deref()
                .is_some_and(|s| s.parse::<Stopping>().is_ok_and(|s| s == Stopping::Defaults))
            {
                g.stoppings = vec![Stopping::Tight, Stopping::Defaults];
            }
        }
        if default_stopping {
            g.stoppings = vec![Stopping::Tight, Stopping::Defaults];
        }
        Ok(g)
    }

    fn keys(&self) -> Vec<FitKey> {
        let mut keys = Vec::new();
        for &measure in &self.measures {
            for &cc in &self.ccs {
                for &method in &self.methods {
                    for &test in &self.tests {
                        for &tau2_common in &self.tau2_modes {
                            for &stopping in &self.stoppings {
                                if tau2_common && method.is_common() {
                                    continue;
                                }
                                if stopping != Stopping::Tight && !Stopping::matters(method) {
                                    continue;
                                }
                                if method == Method::GLMM
                                    && (measure != Measure::PLO
                                        || tau2_common
                                        || test == Test::Knha
                                        || Some(cc) != self.glmm_correction())
                                {
                                    continue;
                                }
                                keys.push(FitKey {
                                    measure,
                                    cc,
                                    method,
                                    test,
                                    tau2_common,
                                    stopping,
                                });
                            }
                        }
                    }
                }
            }
        }
        keys
    }

    pub fn size(&self) -> usize {
        self.keys()
            .iter()
            .map(|k| {
                let means = if k.measure == Measure::PFT {
                    self.pft_means.len()
                } else {
                    1
                };
                means * self.pis.len()
            })
            .sum()
    }

    /// The one correction choice the GLMM is run with (it does not enter the likelihood):
    /// metafor's default for PLO when the grid has it.
    pub fn glmm_correction(&self) -> Option<CcChoice> {
        if self.ccs.contains(&CcChoice::HalfOnly0) {
            Some(CcChoice::HalfOnly0)
        } else {
            self.ccs.first().copied()
        }
    }
}

/// The claims the method search uses: pooled proportion claims with data and a number.
pub fn used_claims(claims: &Claims, p: &Prepared) -> Vec<usize> {
    (0..claims.claims.len())
        .filter(|&i| {
            p.targets[i].is_ok()
                && claims.claims[i].bias.is_none()
                && matches!(claims.claims[i].printed.unit, Unit::Percent | Unit::Proportion)
                && !claim_numbers(&claims.claims[i]).is_empty()
        })
        .collect()
}

/// Search the grid for settings that reproduce every printed number of the claims that have data.
pub fn search(
    claims: &Claims,
    p: &Prepared,
    grid: &Grid,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<SearchResult> {
    let used = used_claims(claims, p);
    if used.is_empty() {
        return Err(Error::Usage(
            "method search: no proportion claim can be recomputed from the data".into(),
        ));
    }
    let numbers: Vec<Vec<ClaimNumber>> = used.iter().map(|&ci| claim_numbers(&claims.claims[ci])).collect();
    let keys = grid.keys();
    if let Some(pb) = progress {
        pb.set_length(keys.len() as u64);
    }
    let stated = claims.file.method.clone();
    // Each fit key yields its settings with their total miss (units), per-claim matches and the
    // recomputed numbers (to group settings that give the same ones).
    type Row = (Setting, i64, bool, Vec<bool>, Vec<String>);
    let rows: Vec<Row> = keys
        .par_iter()
        .flat_map_iter(|&key| {
            let fits = fit_all(p, key);
            let means: Vec<PftMean> = if key.measure == Measure::PFT {
                grid.pft_means.clone()
            } else {
                vec![PftMean::Harmonic]
            };
            let mut out = Vec::new();
            for &pi in &grid.pis {
                for &pm in &means {
                    let setting = Setting {
                        measure: key.measure,
                        method: key.method,
                        test: key.test,
                        pi,
                        correction: key.cc,
                        pft_mean: pm,
                        tau2_common: key.tau2_common,
                        stopping: key.stopping,
                    };
                    let mut total = 0i64;
                    let mut all = true;
                    let mut per = Vec::with_capacity(used.len());
                    let mut sig = Vec::new();
                    for (j, &ci) in used.iter().enumerate() {
                        let c = &claims.claims[ci];
                        let mut ok = true;
                        match &fits[ci] {
                            None => {
                                ok = false;
                                total += 1000;
                                sig.push("-".to_string());
                            }
                            Some(f) => {
                                let v = values(f, key.measure, pi, pm);
                                for cn in &numbers[j] {
                                    let (x, verdict) = judge(&v, cn, c.printed.unit);
                                    if !verdict.is_match() {
                                        ok = false;
                                    }
                                    total += cn.units_off(x, verdict);
                                }
                                // Every number the setting gives, printed or not.
                                for x in [
                                    v.estimate,
                                    v.ci_lb,
                                    v.ci_ub,
                                    v.pi_lb,
                                    v.pi_ub,
                                    v.n,
                                    v.tau2,
                                    v.i2,
                                    v.q,
                                    v.p,
                                    v.subgroup_p,
                                ] {
                                    sig.push(format!("{x:.8e}"));
                                }
                                sig.push(v.k.to_string());
                            }
                        }
                        all &= ok;
                        per.push(ok);
                    }
                    out.push((setting, total, all, per, sig));
                }
            }
            if let Some(pb) = progress {
                pb.inc(1);
            }
            out
        })
        .collect();
    let tried = rows.len();
    let to_match = |s: &Setting, units: i64| SearchMatch {
        setting: *s,
        presets: s.presets(),
        agrees_with_stated: stated.as_ref().map(|m| s.agrees_with(m)),
        units_off: units,
        group: 0,
    };
    let rank = |a: &SearchMatch| {
        (
            if a.agrees_with_stated == Some(true) { 0 } else { 1 },
            if a.presets.is_empty() { 1 } else { 0 },
            a.units_off,
            unusual(&a.setting),
        )
    };
    let group_of = |list: &mut Vec<(SearchMatch, &Vec<String>)>| {
        let mut sigs: Vec<&Vec<String>> = Vec::new();
        for (m, sig) in list.iter_mut() {
            m.group = match sigs.iter().position(|s| *s == *sig) {
                Some(g) => g,
                None => {
                    sigs.push(sig);
                    sigs.len() - 1
                }
            };
        }
    };
    let mut matches: Vec<(SearchMatch, &Vec<String>)> =
        rows.iter().filter(|r| r.2).map(|r| (to_match(&r.0, 0), &r.4)).collect();
    matches.sort_by_key(|a| rank(&a.0));
    group_of(&mut matches);
    let matches: Vec<SearchMatch> = matches.into_iter().map(|m| m.0).collect();
    let mut closest = Vec::new();
    if matches.is_empty() {
        let mut all: Vec<(SearchMatch, &Vec<String>)> = rows.iter().map(|r| (to_match(&r.0, r.1), &r.4)).collect();
        all.sort_by_key(|a| (a.0.units_off, rank(&a.0)));
        all.truncate(10);
        group_of(&mut all);
        closest = all.into_iter().map(|m| m.0).collect();
    }
    let per_claim = used
        .iter()
        .enumerate()
        .map(|(j, &ci)| {
            (
                claims.claims[ci].spec.label.clone(),
                rows.iter().filter(|r| r.3[j]).count(),
            )
        })
        .collect();
    let stated_method_matches = stated
        .as_ref()
        .map(|_| matches.iter().any(|m| m.agrees_with_stated == Some(true)));
    let constrained = constrained_dims(&matches, grid);
    let mut pinned = Vec::new();
    let mut not_determined = Vec::new();
    for (dim, vals) in constrained_values(&matches, grid) {
        if vals.len() == 1 {
            pinned.push((dim, vals[0].clone()));
        } else {
            not_determined.push((dim, vals));
        }
    }
    Ok(SearchResult {
        skipped: None,
        ran: true,
        tried,
        claims_used: used.iter().map(|&i| claims.claims[i].spec.label.clone()).collect(),
        matches,
        closest,
        stated_method_matches,
        stated: None,
        per_claim,
        constrained,
        pinned,
        not_determined,
    })
}

/// For each dimension, the values among the matches, listed (not collapsed to "any").
fn constrained_values(matches: &[SearchMatch], grid: &Grid) -> Vec<(String, Vec<String>)> {
    constrained_dims_with(matches, grid, false)
}

/// Values of each dimension among the matches, in grid order ("any" when all of them appear).
fn constrained_dims(matches: &[SearchMatch], grid: &Grid) -> Vec<(String, Vec<String>)> {
    constrained_dims_with(matches, grid, true)
}

/// Values of each searched dimension among the matches, in grid order; with `collapse`, "any"
/// when every value of the grid appears.
fn constrained_dims_with(matches: &[SearchMatch], grid: &Grid, collapse: bool) -> Vec<(String, Vec<String>)> {
    fn dim<T: PartialEq + Copy>(
        matches: &[SearchMatch],
        all: &[T],
        get: impl Fn(&Setting) -> T,
        name: impl Fn(T) -> String,
        collapse: bool,
    ) -> Vec<String> {
        let seen: Vec<T> = all
            .iter()
            .copied()
            .filter(|v| matches.iter().any(|m| get(&m.setting) == *v))
            .collect();
        if collapse && seen.len() == all.len() && all.len() > 1 {
            vec!["any".to_string()]
        } else {
            seen.into_iter().map(name).collect()
        }
    }
    if matches.is_empty() {
        return Vec::new();
    }
    let c = collapse;
    let mut out = vec![
        (
            "measure".to_string(),
            dim(matches, &grid.measures, |s| s.measure, |v| v.to_string(), c),
        ),
        (
            "method".to_string(),
            dim(matches, &grid.methods, |s| s.method, |v| v.to_string(), c),
        ),
        (
            "test".to_string(),
            dim(matches, &grid.tests, |s| s.test, |v| v.to_string(), c),
        ),
        (
            "correction".to_string(),
            dim(matches, &grid.ccs, |s| s.correction, |v| v.label(), c),
        ),
    ];
    if grid.pis.len() > 1 {
        out.push((
            "pi".to_string(),
            dim(matches, &grid.pis, |s| s.pi, |v| v.as_str().to_string(), c),
        ));
    }
    if matches.iter().any(|m| m.setting.measure == Measure::PFT) {
        let pft: Vec<SearchMatch> = matches
            .iter()
            .filter(|m| m.setting.measure == Measure::PFT)
            .cloned()
            .collect();
        out.push((
            "pft_mean".to_string(),
            dim(&pft, &grid.pft_means, |s| s.pft_mean, |v| v.as_str().to_string(), c),
        ));
    }
    if grid.tau2_modes.len() > 1 {
        out.push((
            "tau2_common".to_string(),
            dim(matches, &grid.tau2_modes, |s| s.tau2_common, |v| v.to_string(), c),
        ));
    }
    if grid.stoppings.len() > 1 {
        out.push((
            "stopping".to_string(),
            dim(matches, &grid.stoppings, |s| s.stopping, |v| v.as_str().to_string(), c),
        ));
    }
    out
}

/// How many choices depart from the common ones (for ranking equally good matches).
fn unusual(s: &Setting) -> u32 {
    let mut n = 0;
    if !matches!(s.method, Method::REML | Method::DL | Method::EE) {
        n += 1;
    }
    if s.test != Test::Z {
        n += 1;
    }
    if s.correction != CcChoice::metafor_default(s.measure) {
        n += 1;
    }
    if s.pft_mean != PftMean::Harmonic {
        n += 1;
    }
    if s.tau2_common {
        n += 1;
    }
    if s.pi != PiType::Metafor {
        n += 1;
    }
    if s.stopping != Stopping::Tight {
        n += 1;
    }
    n
}
