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

use super::claims::{Claims, MethodSpec};
use super::printed::{Printed, Unit};
use super::rounding::{compare, Verdict};
use crate::data::Studies;
use crate::effect::{escalc, AddTo, BackTransform, Correction, Measure, PftMean};
use crate::error::{Error, Result};
use crate::model::glmm::{glmm_int, GlmmOptions};
use crate::model::subgroup::{factor_design, levels};
use crate::model::{rma, rma_mods, Control, Method, PiType, RmaOptions, Test};

/// How studies with 0 or all events are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum CcChoice {
    /// 0.5 added to studies with 0 or n events (metafor, meta).
    #[serde(rename = "0.5 only0")]
    HalfOnly0,
    /// 0.5 added to every study.
    #[serde(rename = "0.5 all")]
    HalfAll,
    /// No correction.
    #[serde(rename = "none")]
    None,
    /// Studies with 0 or n events left out (Stata `metaprop` without `cc()`).
    #[serde(rename = "drop 0/n")]
    Drop,
}

impl CcChoice {
    pub const ALL: [CcChoice; 4] = [CcChoice::HalfOnly0, CcChoice::HalfAll, CcChoice::None, CcChoice::Drop];

    pub fn label(self) -> &'static str {
        match self {
            CcChoice::HalfOnly0 => "0.5 only0",
            CcChoice::HalfAll => "0.5 all",
            CcChoice::None => "none",
            CcChoice::Drop => "drop 0/n",
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
        s
    }

    /// The setting a stated method describes, with metafor's defaults for what it leaves out.
    pub fn from_spec(spec: &MethodSpec) -> Result<Setting> {
        let measure: Measure = spec.measure.as_deref().unwrap_or("PLO").parse()?;
        let correction = if spec.drop_zero_all == Some(true) {
            CcChoice::Drop
        } else {
            match (spec.add, spec.to.as_deref()) {
                (Some(0.0), _) => CcChoice::None,
                (_, Some("none")) => CcChoice::None,
                (_, Some("all")) => CcChoice::HalfAll,
                (Some(_), _) | (_, Some(_)) => CcChoice::HalfOnly0,
                (None, None) => CcChoice::metafor_default(measure),
            }
        };
        Ok(Setting {
            measure,
            method: spec.method.as_deref().unwrap_or("REML").parse()?,
            test: spec.test.as_deref().unwrap_or("z").parse()?,
            pi: spec.pi.as_deref().unwrap_or("metafor").parse()?,
            correction,
            pft_mean: spec.pft_mean.as_deref().unwrap_or("harmonic").parse()?,
            tau2_common: spec.tau2_common.unwrap_or(false),
        })
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
            && spec
                .drop_zero_all
                .is_none_or(|d| d == (self.correction == CcChoice::Drop))
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
        (self.measures.is_empty() || self.measures.contains(&s.measure))
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
    },
    Preset {
        name: "meta >= 7.0 inverse variance (REML, z, PI t(k-1))",
        measures: &[],
        methods: &[Method::REML],
        test: Test::Z,
        pis: &[PiType::TkMinus1],
        cc: PresetCc::MetaforDefault,
        defaults_otherwise: true,
    },
    Preset {
        name: "meta 5-6 (REML, z, PI t(k-2))",
        measures: &[],
        methods: &[Method::REML],
        test: Test::Z,
        pis: &[PiType::TkMinus2],
        cc: PresetCc::MetaforDefault,
        defaults_otherwise: true,
    },
    Preset {
        name: "meta <= 4 (DL, z, PI t(k-2))",
        measures: &[],
        methods: &[Method::DL],
        test: Test::Z,
        pis: &[PiType::TkMinus2],
        cc: PresetCc::MetaforDefault,
        defaults_otherwise: true,
    },
    Preset {
        name: "Stata metaprop, random",
        measures: &[Measure::PR],
        methods: &[Method::DL],
        test: Test::Z,
        pis: &[PiType::TkMinus2],
        cc: PresetCc::Stata,
        defaults_otherwise: true,
    },
    Preset {
        name: "Stata metaprop, random, ftt",
        measures: &[Measure::PFT],
        methods: &[Method::DL],
        test: Test::Z,
        pis: &[PiType::TkMinus2],
        cc: PresetCc::Stata,
        defaults_otherwise: true,
    },
    Preset {
        name: "Stata metaprop, fixed",
        measures: &[Measure::PR],
        methods: &[Method::EE, Method::FE],
        test: Test::Z,
        pis: &[],
        cc: PresetCc::Stata,
        defaults_otherwise: true,
    },
    Preset {
        name: "Stata metaprop, fixed, ftt",
        measures: &[Measure::PFT],
        methods: &[Method::EE, Method::FE],
        test: Test::Z,
        pis: &[],
        cc: PresetCc::Stata,
        defaults_otherwise: true,
    },
    Preset {
        name: "RevMan 5 (DL, z)",
        measures: &[],
        methods: &[Method::DL],
        test: Test::Z,
        pis: &[],
        cc: PresetCc::Any,
        defaults_otherwise: false,
    },
    Preset {
        name: "metafor rma.glmm defaults (GLMM, nAGQ 7, z)",
        measures: &[],
        methods: &[Method::GLMM],
        test: Test::Z,
        pis: &[PiType::Metafor, PiType::Z],
        cc: PresetCc::Any,
        defaults_otherwise: false,
    },
    Preset {
        name: "meta >= 7.0 metaprop default (GLMM, PI t(k-1))",
        measures: &[],
        methods: &[Method::GLMM],
        test: Test::Z,
        pis: &[PiType::TkMinus1],
        cc: PresetCc::Any,
        defaults_otherwise: false,
    },
    Preset {
        name: "meta 5-6 metaprop default (GLMM, PI t(k-2))",
        measures: &[],
        methods: &[Method::GLMM],
        test: Test::Z,
        pis: &[PiType::TkMinus2],
        cc: PresetCc::Any,
        defaults_otherwise: false,
    },
    Preset {
        name: "RevMan Web 2025 (REML, Hartung-Knapp, PI t(k-1))",
        measures: &[],
        methods: &[Method::REML],
        test: Test::Knha,
        pis: &[PiType::TkMinus1],
        cc: PresetCc::Any,
        defaults_otherwise: false,
    },
];

/// The studies of one claim: the filtered rows and the subset the claim pools.
#[derive(Debug, Clone)]
pub struct Target {
    /// Index into `Prepared::sets`.
    pub set: usize,
    /// Positions of the claim's studies in that set (all of them for an overall claim).
    pub idx: Vec<usize>,
}

/// The data of a claims file, split into the row sets its claims use.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub sets: Vec<Studies>,
    /// For each claim: its target, or why it has none.
    pub targets: Vec<std::result::Result<Target, String>>,
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
    #[serde(rename = "I2")]
    pub i2: f64,
    #[serde(rename = "Q")]
    pub q: f64,
}

/// One claim's fit and the totals of its studies (for the PFT back-transformation and `n`).
struct Fitted {
    fit: crate::model::RmaFit,
    ni: Vec<f64>,
}

/// Keep the studies a correction choice keeps.
fn kept(studies: &Studies, idx: &[usize], cc: CcChoice) -> Vec<usize> {
    idx.iter()
        .copied()
        .filter(|&i| cc != CcChoice::Drop || (studies.events[i] > 0.0 && studies.events[i] < studies.total[i]))
        .collect()
}

/// Fit every claim under the fit-relevant part of a setting (measure, correction, method, test,
/// τ² mode). `None` where the claim cannot be fitted that way.
fn fit_all(
    p: &Prepared,
    measure: Measure,
    cc: CcChoice,
    method: Method,
    test: Test,
    tau2_common: bool,
) -> Vec<Option<Fitted>> {
    let control = Control::default();
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
    // Common τ² per set (from the factor model over that set's subgroups).
    let common: Vec<Option<f64>> = p
        .sets
        .iter()
        .map(|s| {
            if !tau2_common || method.is_common() {
                return None;
            }
            let g = s.group.as_ref()?;
            let all: Vec<usize> = (0..s.k()).collect();
            let keep = kept(s, &all, cc);
            let groups: Vec<String> = keep.iter().map(|&i| g[i].clone()).collect();
            let lv = levels(&groups);
            if lv.len() < 2 {
                return None;
            }
            let ev: Vec<f64> = keep.iter().map(|&i| s.events[i]).collect();
            let tot: Vec<f64> = keep.iter().map(|&i| s.total[i]).collect();
            let es = escalc(measure, &ev, &tot, cc.correction());
            let (x, names) = factor_design(&groups, &lv);
            rma_mods(&es.yi, &es.vi, x, names, &base).ok().map(|f| f.tau2)
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
            let ev: Vec<f64> = keep.iter().map(|&i| s.events[i]).collect();
            let tot: Vec<f64> = keep.iter().map(|&i| s.total[i]).collect();
            let es = escalc(measure, &ev, &tot, cc.correction());
            if es.defined().len() != es.k() {
                return None;
            }
            if tau2_common && common[t.set].is_none() && !method.is_common() {
                return None;
            }
            let mut o = base;
            o.tau2_fixed = common[t.set];
            let fit = rma(&es.yi, &es.vi, &o).ok()?;
            Some(Fitted { fit, ni: tot })
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
    let opts = GlmmOptions {
        n_agq: control.n_agq,
        test,
        level: 0.95,
        correction: Correction::default(),
    };
    p.targets
        .iter()
        .map(|t| {
            if !ok {
                return None;
            }
            let t = t.as_ref().ok()?;
            let s = &p.sets[t.set];
            let keep = kept(s, &t.idx, cc);
            if keep.is_empty() {
                return None;
            }
            let ev: Vec<f64> = keep.iter().map(|&i| s.events[i]).collect();
            let tot: Vec<f64> = keep.iter().map(|&i| s.total[i]).collect();
            let g = glmm_int(&ev, &tot, &opts).ok()?;
            Some(Fitted { fit: g, ni: tot })
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
        q: fit.q,
    }
}

/// Recompute every claim under one setting.
pub fn evaluate(p: &Prepared, s: &Setting) -> Vec<Option<Values>> {
    fit_all(p, s.measure, s.correction, s.method, s.test, s.tau2_common)
        .iter()
        .map(|f| f.as_ref().map(|f| values(f, s.measure, s.pi, s.pft_mean)))
        .collect()
}

/// A printed number's name and value in the claim's unit.
pub fn claim_numbers(pr: &Printed, pi: Option<&Printed>) -> Vec<(&'static str, super::printed::PNum)> {
    let mut out = Vec::new();
    if let Some(e) = &pr.estimate {
        out.push(("estimate", e.clone()));
    }
    if let Some(l) = &pr.ci_lb {
        out.push(("ci_lb", l.clone()));
    }
    if let Some(u) = &pr.ci_ub {
        out.push(("ci_ub", u.clone()));
    }
    if let Some(pi) = pi {
        if let Some(l) = &pi.ci_lb {
            out.push(("pi_lb", l.clone()));
        }
        if let Some(u) = &pi.ci_ub {
            out.push(("pi_ub", u.clone()));
        }
    }
    out
}

/// The recomputed value of a named number, in the printed unit.
pub fn pick(v: &Values, name: &str, unit: Unit) -> f64 {
    let x = match name {
        "estimate" => v.estimate,
        "ci_lb" => v.ci_lb,
        "ci_ub" => v.ci_ub,
        "pi_lb" => v.pi_lb,
        "pi_ub" => v.pi_ub,
        _ => f64::NAN,
    };
    if unit == Unit::Percent {
        100.0 * x
    } else {
        x
    }
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
    /// Whether a setting agreeing with the paper's stated method is among the matches
    /// (`None` when the paper states no method).
    pub stated_method_matches: Option<bool>,
    /// For each claim, how many settings reproduce it on its own.
    pub per_claim: Vec<(String, usize)>,
    /// For each grid dimension, the values found among the matches ("any" when every value of the
    /// grid appears): what the printed numbers pin down and what they leave open.
    pub constrained: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchMatch {
    #[serde(flatten)]
    pub setting: Setting,
    pub presets: Vec<&'static str>,
    pub agrees_with_stated: Option<bool>,
    /// Total units of the last printed digit by which the numbers miss (0 for a match).
    pub units_off: i64,
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
        }
    }

    pub fn size(&self) -> usize {
        let per_measure: usize = self
            .measures
            .iter()
            .map(|m| if *m == Measure::PFT { self.pft_means.len() } else { 1 })
            .sum();
        let rma_methods = self.methods.iter().filter(|m| **m != Method::GLMM).count();
        let mut n =
            per_measure * rma_methods * self.tests.len() * self.pis.len() * self.ccs.len() * self.tau2_modes.len();
        if self.methods.contains(&Method::GLMM) && self.measures.contains(&Measure::PLO) && !self.ccs.is_empty() {
            let tests = self.tests.iter().filter(|t| **t != Test::Knha).count();
            n += tests * self.pis.len() * usize::from(self.tau2_modes.contains(&false));
        }
        n
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

/// Search the grid for settings that reproduce every printed number of the claims that have data.
pub fn search(
    claims: &Claims,
    p: &Prepared,
    grid: &Grid,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<SearchResult> {
    let used: Vec<usize> = (0..claims.claims.len())
        .filter(|&i| {
            p.targets[i].is_ok()
                && claims.claims[i].bias.is_none()
                && matches!(claims.claims[i].printed.unit, Unit::Percent | Unit::Proportion)
                && !claim_numbers(&claims.claims[i].printed, claims.claims[i].pi.as_ref()).is_empty()
        })
        .collect();
    if used.is_empty() {
        return Err(Error::Usage(
            "method search: no proportion claim can be recomputed from the data".into(),
        ));
    }
    let mut keys = Vec::new();
    for &m in &grid.measures {
        for &cc in &grid.ccs {
            for &me in &grid.methods {
                for &t in &grid.tests {
                    for &tc in &grid.tau2_modes {
                        if tc && me.is_common() {
                            continue;
                        }
                        if me == Method::GLMM
                            && (m != Measure::PLO || tc || t == Test::Knha || Some(cc) != grid.glmm_correction())
                        {
                            continue;
                        }
                        keys.push((m, cc, me, t, tc));
                    }
                }
            }
        }
    }
    if let Some(pb) = progress {
        pb.set_length(keys.len() as u64);
    }
    let stated = claims.file.method.clone();
    // Each fit key yields its settings with their total miss (units) and per-claim matches.
    let rows: Vec<(Setting, i64, bool, Vec<bool>)> = keys
        .par_iter()
        .flat_map_iter(|&(m, cc, me, t, tc)| {
            let fits = fit_all(p, m, cc, me, t, tc);
            let means: Vec<PftMean> = if m == Measure::PFT {
                grid.pft_means.clone()
            } else {
                vec![PftMean::Harmonic]
            };
            let mut out = Vec::new();
            for &pi in &grid.pis {
                for &pm in &means {
                    let setting = Setting {
                        measure: m,
                        method: me,
                        test: t,
                        pi,
                        correction: cc,
                        pft_mean: pm,
                        tau2_common: tc,
                    };
                    let mut total = 0i64;
                    let mut all = true;
                    let mut per = Vec::with_capacity(used.len());
                    for &ci in &used {
                        let c = &claims.claims[ci];
                        let mut ok = true;
                        match &fits[ci] {
                            None => {
                                ok = false;
                                total += 1000;
                            }
                            Some(f) => {
                                let v = values(f, m, pi, pm);
                                for (name, pn) in claim_numbers(&c.printed, c.pi.as_ref()) {
                                    let verdict = compare(pick(&v, name, c.printed.unit), &pn);
                                    if !verdict.is_match() {
                                        ok = false;
                                    }
                                    total += match verdict {
                                        Verdict::Match => 0,
                                        Verdict::OffBy(n) => n.abs(),
                                        _ => {
                                            let unit = 10f64.powi(-(pn.decimals as i32));
                                            let x = pick(&v, name, c.printed.unit);
                                            if x.is_finite() {
                                                (((x - pn.value) / unit).abs().round() as i64).min(1000)
                                            } else {
                                                1000
                                            }
                                        }
                                    };
                                }
                            }
                        }
                        all &= ok;
                        per.push(ok);
                    }
                    out.push((setting, total, all, per));
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
    };
    let rank = |a: &SearchMatch| {
        (
            if a.agrees_with_stated == Some(true) { 0 } else { 1 },
            if a.presets.is_empty() { 1 } else { 0 },
            a.units_off,
            unusual(&a.setting),
        )
    };
    let mut matches: Vec<SearchMatch> = rows.iter().filter(|r| r.2).map(|r| to_match(&r.0, 0)).collect();
    matches.sort_by_key(|a| rank(a));
    let mut closest = Vec::new();
    if matches.is_empty() {
        let mut all: Vec<SearchMatch> = rows.iter().map(|r| to_match(&r.0, r.1)).collect();
        all.sort_by_key(|a| (a.units_off, rank(a)));
        closest = all.into_iter().take(10).collect();
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
    Ok(SearchResult {
        skipped: None,
        ran: true,
        tried,
        claims_used: used.iter().map(|&i| claims.claims[i].spec.label.clone()).collect(),
        matches,
        closest,
        stated_method_matches,
        per_claim,
        constrained,
    })
}

/// Values of each dimension among the matches, in grid order.
fn constrained_dims(matches: &[SearchMatch], grid: &Grid) -> Vec<(String, Vec<String>)> {
    fn dim<T: PartialEq + Copy>(
        matches: &[SearchMatch],
        all: &[T],
        get: impl Fn(&Setting) -> T,
        name: impl Fn(T) -> String,
    ) -> Vec<String> {
        let seen: Vec<T> = all
            .iter()
            .copied()
            .filter(|v| matches.iter().any(|m| get(&m.setting) == *v))
            .collect();
        if seen.len() == all.len() && all.len() > 1 {
            vec!["any".to_string()]
        } else {
            seen.into_iter().map(name).collect()
        }
    }
    if matches.is_empty() {
        return Vec::new();
    }
    let mut out = vec![
        (
            "measure".to_string(),
            dim(matches, &grid.measures, |s| s.measure, |v| v.to_string()),
        ),
        (
            "method".to_string(),
            dim(matches, &grid.methods, |s| s.method, |v| v.to_string()),
        ),
        (
            "test".to_string(),
            dim(matches, &grid.tests, |s| s.test, |v| v.to_string()),
        ),
        (
            "correction".to_string(),
            dim(matches, &grid.ccs, |s| s.correction, |v| v.label().to_string()),
        ),
    ];
    if grid.pis.len() > 1 {
        out.push((
            "pi".to_string(),
            dim(matches, &grid.pis, |s| s.pi, |v| v.as_str().to_string()),
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
            dim(&pft, &grid.pft_means, |s| s.pft_mean, |v| v.as_str().to_string()),
        ));
    }
    if grid.tau2_modes.len() > 1 {
        out.push((
            "tau2_common".to_string(),
            dim(matches, &grid.tau2_modes, |s| s.tau2_common, |v| v.to_string()),
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
    n
}
