//! Comparative (two-group) claims: "RR 0.61 (95% CI 0.41–0.91)", "OR 0.66 [0.53; 0.82]",
//! "MD −3.49 (−5.03 to −1.96)", an SMD, recomputed from two-group study data (metafor's column
//! names, as `pool` reads them: `ai, n1i, ci, n2i` or `ai, bi, ci, di`; `m1i, sd1i, n1i, m2i,
//! sd2i, n2i`; `x1i, t1i, x2i, t2i`; `yi, vi`; `est, ci_lb, ci_ub`; HR from `est, ci_lb, ci_ub` or
//! log HR in `yi` with `sei`/`vi`), and the method search over
//! every switch that changes the printed numbers ([`CompSetting`]): pooling (IV, M-H, Peto; M-H
//! also for incidence rates), τ² estimator and its stopping rule (with `--default-stopping` or
//! `[method] stopping = "defaults"`), where DL's Q comes from, z/t/Hartung–Knapp, the continuity
//! correction (value, the tables and cells it goes to, whether it enters the RD estimate and the
//! M-H sums), the double-zero rule for the effect sizes and for the M-H sums, the M-H RD
//! variance, the SMD variant and the MD variance. Published hazard ratios (HR) are pooled by
//! inverse variance. Settings that give
//! the same numbers are one line; each line names the presets ([`super::presets`]) that produce it.
//!
//! Without data, ratio and difference claims get published-only checks ([`published_checks`]): the
//! p-value a Wald test on the printed CI implies, against the printed p; and a ratio against the
//! event risks printed for the two groups (`rate1`, `rate2`).

use std::collections::BTreeMap;
use std::fmt::Write;

use rayon::prelude::*;
use serde::Serialize;

use super::claims::{Claim, Claims, MethodSpec};
use super::presets::{self, Preset, QSource};
use super::printed::{PNum, Unit};
use super::published::Check;
use super::search::{claim_numbers, ClaimNumber, Prepared, SearchResult, Stopping};
use super::verdict::{ClaimVerdict, NumberVerdict};
use super::{ClaimReport, NumberReport, VerifyOptions, VerifyReport};
use crate::data::{Studies, StudyInput};
use crate::dist;
use crate::effect::comparative::{CcTarget, Vtype};
use crate::effect::{AddTo, Correction, Family, Measure};
use crate::error::{Error, Result};
use crate::model::{Method, MhOptions, PiType, PoolOptions, Pooling, RdVariance, Test};

/// Every choice of a two-group analysis that can change its printed numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CompSetting {
    pub measure: Measure,
    pub pooling: Pooling,
    pub method: Method,
    pub q_source: QSource,
    pub test: Test,
    pub pi: PiType,
    pub cc_add: f64,
    pub cc_to: AddTo,
    pub cc_target: CcTarget,
    pub rd_cc_se_only: bool,
    pub cc_in_mh: bool,
    pub drop00: bool,
    /// M-H: double-zero tables left out of the M-H sums (metafor's second `drop00` element);
    /// matters only where a correction is added inside the sums.
    pub mh_drop00: bool,
    pub rd_variance: RdVariance,
    pub vtype: Vtype,
    /// When the iterative τ² estimators stop (tight, or the software's defaults).
    pub stopping: Stopping,
}

fn usage(m: String) -> Error {
    Error::Usage(m)
}

/// Measures computed from event counts (2×2 tables or events with person-time): the ones with a
/// continuity correction, a double-zero rule and Mantel–Haenszel pooling.
fn from_counts(measure: Measure) -> bool {
    matches!(measure.family(), Family::Binary | Family::Rate)
}

impl CompSetting {
    /// The setting a preset uses for `measure`: its random-effects model, or (`common`) its
    /// common-effect model.
    pub fn from_preset(p: &Preset, measure: Measure, common: bool) -> CompSetting {
        let binary = measure.family() == Family::Binary;
        CompSetting {
            measure,
            // Rates: no preset's M-H pooling of rates is verified here, so the presets pool them
            // by inverse variance (the search still tries M-H).
            pooling: if binary { p.pooling } else { Pooling::IV },
            method: if common { Method::EE } else { p.method },
            q_source: p.q_source,
            test: if common { Test::Z } else { p.test },
            pi: p.pi.unwrap_or(PiType::Metafor),
            cc_add: p.cc_add,
            cc_to: p.cc_to,
            cc_target: if measure == Measure::RR {
                p.cc_target_rr
            } else {
                CcTarget::AllCells
            },
            rd_cc_se_only: p.rd_cc_se_only,
            cc_in_mh: p.cc_in_mh,
            drop00: p.drop00,
            // The tools that leave double-zero tables without an effect size also leave them
            // out of the M-H sums (RevMan 5, meta); metafor keeps them in the sums.
            mh_drop00: p.drop00,
            rd_variance: p.rd_variance,
            vtype: match measure {
                Measure::SMD => p.smd,
                Measure::MD => p.md,
                _ => Vtype::LS,
            },
            stopping: Stopping::Tight,
        }
    }

    /// The same setting with every switch that cannot change the numbers set to one value, so
    /// that equal canonical settings give equal numbers.
    pub fn canonical(self) -> CompSetting {
        let mut s = self;
        let binary = s.measure.family() == Family::Binary;
        if s.method.is_common() {
            s.method = Method::EE;
            s.pi = PiType::Metafor;
        }
        let random = !s.method.is_common();
        if !from_counts(s.measure) {
            s.pooling = Pooling::IV;
            s.cc_add = 0.0;
            s.cc_to = AddTo::None;
            s.drop00 = false;
        }
        if !binary {
            // Rates: the correction goes to both event counts; Peto pools only ORs.
            s.cc_target = CcTarget::AllCells;
            if s.pooling == Pooling::PETO {
                s.pooling = Pooling::IV;
            }
        }
        if s.cc_add == 0.0 || s.cc_to == AddTo::None {
            s.cc_add = 0.0;
            s.cc_to = AddTo::None;
        }
        if s.cc_to == AddTo::None {
            s.cc_target = CcTarget::AllCells;
            s.rd_cc_se_only = false;
            s.cc_in_mh = false;
        }
        if s.measure != Measure::RR && s.cc_target == CcTarget::EventsAndN {
            s.cc_target = CcTarget::AllCells;
        }
        if s.measure != Measure::RD {
            s.rd_cc_se_only = false;
            s.rd_variance = RdVariance::GR;
        } else {
            // Double-zero tables have an RD (0): no tool drops them.
            s.drop00 = false;
        }
        // A random-effects model whose τ² does not come from the M-H (Peto) Q is an IV model.
        if random && s.pooling != Pooling::IV && !(s.method == Method::DL && s.q_source == QSource::MH) {
            s.pooling = Pooling::IV;
        }
        if s.pooling != Pooling::MH {
            s.cc_in_mh = false;
            s.rd_variance = RdVariance::GR;
        }
        // Without a correction inside the sums a double-zero table adds nothing to the M-H OR
        // and RR sums; RD tables are never left out (see above).
        // (A rate study without events in either group enters the M-H IRD sums with a weight.)
        if s.pooling != Pooling::MH || (!s.cc_in_mh && s.measure != Measure::IRD) || s.measure == Measure::RD {
            s.mh_drop00 = false;
        }
        if !Stopping::matters(s.method) {
            s.stopping = Stopping::Tight;
        }
        if !(random && s.method == Method::DL && s.pooling != Pooling::IV) {
            s.q_source = QSource::IV;
        }
        if !random && s.pooling != Pooling::IV {
            s.test = Test::Z;
        }
        s.vtype = match s.measure {
            Measure::SMD => s.vtype,
            Measure::MD | Measure::ROM if s.vtype == Vtype::HO => Vtype::HO,
            Measure::RD if s.vtype == Vtype::UB => Vtype::UB,
            _ => Vtype::LS,
        };
        s
    }

    fn key(&self) -> String {
        format!("{:?}", self.canonical())
    }

    /// The options `pool` fits this setting with.
    pub fn pool_options(&self, level: f64) -> PoolOptions {
        let s = self.canonical();
        let correction = Correction {
            add: s.cc_add,
            to: s.cc_to,
        };
        PoolOptions {
            measure: s.measure,
            correction,
            method: s.method,
            test: s.test,
            level,
            pi_type: s.pi,
            drop00: s.drop00,
            vtype: s.vtype,
            cc_target: s.cc_target,
            addyi: !s.rd_cc_se_only,
            pooling: s.pooling,
            mh: MhOptions {
                sums: if s.cc_in_mh {
                    correction
                } else {
                    Correction {
                        add: 0.0,
                        to: AddTo::None,
                    }
                },
                drop00_sums: s.mh_drop00,
                rd_variance: s.rd_variance,
                rd_raw_estimate: s.rd_cc_se_only,
                correct: true,
            },
            control: s.stopping.control(),
            ..Default::default()
        }
    }

    /// In words, the switches that matter for this measure.
    pub fn describe(&self) -> String {
        let s = self.canonical();
        let mut o = format!("{} {}", s.measure, s.pooling.as_str());
        if s.method.is_common() {
            o.push_str(" common-effect");
        } else {
            let _ = write!(o, " {}", s.method);
            if s.pooling != Pooling::IV {
                let _ = write!(o, " (tau^2 from Q around the {} estimate)", s.pooling.describe());
            }
        }
        if !(s.pooling != Pooling::IV && s.method.is_common()) {
            let _ = write!(o, " {}", s.test);
        }
        if from_counts(s.measure) {
            if s.cc_to == AddTo::None {
                o.push_str(" cc:none");
            } else {
                let _ = write!(o, " cc:{} {}", s.cc_add, s.cc_to.as_str());
                match s.cc_target {
                    CcTarget::AllCells => {}
                    CcTarget::EventsAndN => o.push_str(" events+n"),
                    CcTarget::TreatmentArm => o.push_str(" TACC"),
                }
                if s.rd_cc_se_only {
                    o.push_str(" SE-only");
                }
                if s.cc_in_mh {
                    o.push_str(" in-MH");
                }
            }
            if s.drop00 {
                o.push_str(" drop00");
            }
            if s.mh_drop00 {
                o.push_str(" drop00-in-MH");
            }
            if s.measure == Measure::RD && s.pooling == Pooling::MH {
                let _ = write!(
                    o,
                    " RD-var:{}",
                    if s.rd_variance == RdVariance::GR { "GR" } else { "SGR" }
                );
            }
        }
        if matches!(s.measure, Measure::SMD | Measure::MD | Measure::ROM) || s.vtype != Vtype::LS {
            let _ = write!(o, " vtype:{}", s.vtype.as_str());
        }
        if !s.method.is_common() && s.pi != PiType::Metafor {
            let _ = write!(o, " PI:{}", s.pi.as_str());
        }
        if s.stopping != Stopping::Tight {
            let _ = write!(o, " stopping:{}", s.stopping.as_str());
        }
        o
    }

    /// The setting a stated method describes: its preset (metafor's when it names none), then
    /// every key it states.
    pub fn from_spec(spec: &MethodSpec) -> Result<CompSetting> {
        let measure: Measure = spec
            .measure
            .as_deref()
            .ok_or_else(|| usage("[method] measure is needed for two-group claims".into()))?
            .parse()?;
        let preset = match &spec.preset {
            Some(id) => find_preset(id)?,
            None => find_preset("metafor")?,
        };
        let common = match &spec.method {
            Some(m) => m.parse::<Method>()?.is_common(),
            None => false,
        };
        apply_spec(CompSetting::from_preset(preset, measure, common), spec)
    }

    /// Whether this setting agrees with every switch the stated method states: changing the
    /// stated switches to the stated values leaves its numbers as they are.
    pub fn agrees_with(&self, spec: &MethodSpec) -> bool {
        match apply_spec(*self, spec) {
            Ok(s) => s.key() == self.key(),
            Err(_) => false,
        }
    }

    /// The presets whose setting (random-effects or common-effect, as this one) this is.
    pub fn presets(&self) -> Vec<&'static str> {
        self.presets_on(&DataShape::ANY)
    }

    /// The same setting with what cannot matter on data of this shape also set to one value: a
    /// correction of tables with a zero cell where no table has one, the double-zero rule where
    /// no table is double-zero.
    pub fn on_data(self, d: &DataShape) -> CompSetting {
        let mut s = self;
        if !d.any_zero && matches!(s.cc_to, AddTo::Only0 | AddTo::If0all) {
            s.cc_to = AddTo::None;
        }
        if !d.any_double_zero {
            s.drop00 = false;
            s.mh_drop00 = false;
        }
        s.canonical()
    }

    /// [`CompSetting::presets`] on data of a shape: the presets that give the same numbers here.
    pub fn presets_on(&self, d: &DataShape) -> Vec<&'static str> {
        let me = format!("{:?}", self.on_data(d));
        presets::PRESETS
            .iter()
            .filter(|p| {
                let mut s = CompSetting::from_preset(p, self.measure, self.method.is_common());
                // A preset's kind of PI only matters where a PI is compared.
                s.pi = self.pi;
                format!("{:?}", s.on_data(d)) == me
            })
            .map(|p| p.id)
            .collect()
    }
}

/// What of the data decides whether the continuity-correction switches matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataShape {
    /// Some 2×2 table has a zero cell.
    pub any_zero: bool,
    /// Some 2×2 table has no events (or only events) in both groups.
    pub any_double_zero: bool,
}

impl DataShape {
    /// Data of any shape (nothing can be left out).
    pub const ANY: DataShape = DataShape {
        any_zero: true,
        any_double_zero: true,
    };

    /// The shape of these studies.
    pub fn of<'a>(studies: impl IntoIterator<Item = &'a Studies>) -> DataShape {
        let mut d = DataShape {
            any_zero: false,
            any_double_zero: false,
        };
        for s in studies {
            for x in &s.inputs {
                match *x {
                    StudyInput::Table2x2 { ai, bi, ci, di } => {
                        d.any_zero |= ai == 0.0 || bi == 0.0 || ci == 0.0 || di == 0.0;
                        d.any_double_zero |= (ai == 0.0 && ci == 0.0) || (bi == 0.0 && di == 0.0);
                    }
                    StudyInput::Rates { x1i, x2i, .. } => {
                        d.any_zero |= x1i == 0.0 || x2i == 0.0;
                        d.any_double_zero |= x1i == 0.0 && x2i == 0.0;
                    }
                    _ => {}
                }
            }
        }
        d
    }
}

fn find_preset(id: &str) -> Result<&'static Preset> {
    presets::find(id).ok_or_else(|| {
        usage(format!(
            "unknown preset \"{id}\"; the presets are: {}",
            presets::PRESETS.iter().map(|p| p.id).collect::<Vec<_>>().join(", ")
        ))
    })
}

/// `base` with the switches `spec` states (a stated preset first replaces all of them).
fn apply_spec(base: CompSetting, spec: &MethodSpec) -> Result<CompSetting> {
    let mut s = base;
    if let Some(m) = &spec.measure {
        s.measure = m.parse()?;
    }
    if let Some(id) = &spec.preset {
        let p = find_preset(id)?;
        let pi = s.pi;
        s = CompSetting::from_preset(p, s.measure, s.method.is_common());
        s.pi = pi;
    }
    if let Some(m) = &spec.method {
        s.method = m.parse()?;
    }
    if let Some(t) = &spec.test {
        s.test = t.parse()?;
    }
    if let Some(p) = &spec.pi {
        s.pi = p.parse()?;
    }
    if let Some(p) = &spec.pooling {
        s.pooling = p.parse()?;
    }
    if let Some(q) = &spec.q_source {
        s.q_source = q.parse()?;
    }
    if let Some(a) = spec.add {
        s.cc_add = a;
    }
    if let Some(t) = &spec.to {
        s.cc_to = t.parse()?;
    }
    if let Some(t) = &spec.cc_target {
        s.cc_target = t.parse()?;
    }
    if let Some(b) = spec.rd_cc_se_only {
        s.rd_cc_se_only = b;
    }
    if let Some(b) = spec.cc_in_mh {
        s.cc_in_mh = b;
    }
    if let Some(b) = spec.drop00 {
        s.drop00 = b;
        s.mh_drop00 = b;
    }
    if let Some(b) = spec.mh_drop00 {
        s.mh_drop00 = b;
    }
    if let Some(t) = &spec.stopping {
        s.stopping = t.parse()?;
    }
    if let Some(v) = &spec.rd_variance {
        s.rd_variance = v.parse()?;
    }
    if let Some(v) = &spec.vtype {
        s.vtype = v.parse()?;
    }
    if s.pooling == Pooling::PETO && !matches!(s.measure, Measure::OR | Measure::PETO) {
        return Err(usage(format!(
            "Peto pooling pools odds ratios: the measure must be OR or PETO, not {}",
            s.measure
        )));
    }
    Ok(s)
}

/// Whether a claims file is about a two-group (or other non-proportion) measure with data: its
/// stated measure is neither a single proportion nor GEN (whose estimates stay on the yi scale;
/// HR, the generic ratio measure, is recomputed here).
pub fn applies(claims: &Claims) -> bool {
    claims.file.data.is_some()
        && claims
            .file
            .method
            .as_ref()
            .and_then(|m| m.measure.as_deref())
            .and_then(|m| m.parse::<Measure>().ok())
            .is_some_and(|m| !m.is_proportion() && m != Measure::GEN)
}

/// The measure a printed label names ("RR 0.61 …", "the pooled OR was …"), among the first six
/// words.
pub fn printed_measure(text: &str) -> Option<&'static str> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(6)
        .find_map(|w| match w.to_ascii_uppercase().as_str() {
            "RR" => Some("RR"),
            "OR" => Some("OR"),
            "HR" => Some("HR"),
            "IRR" => Some("IRR"),
            "SMD" => Some("SMD"),
            "MD" | "WMD" => Some("MD"),
            "RD" => Some("RD"),
            _ => None,
        })
}

/// Values recomputed for one claim under one setting (natural scale).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CompValues {
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
    #[serde(rename = "Q_p")]
    pub q_p: f64,
    pub p: f64,
}

/// The studies `idx` of `s`, without subgroups.
fn subset(s: &Studies, idx: &[usize]) -> Studies {
    let mut t = s.clone();
    t.study = idx.iter().map(|&i| s.study[i].clone()).collect();
    t.events = idx.iter().map(|&i| s.events[i]).collect();
    t.total = idx.iter().map(|&i| s.total[i]).collect();
    t.rows = idx.iter().map(|&i| s.rows[i]).collect();
    t.inputs = idx.iter().map(|&i| s.inputs[i]).collect();
    t.group = None;
    t
}

fn patients(input: &StudyInput) -> f64 {
    match *input {
        StudyInput::Table2x2 { ai, bi, ci, di } => ai + bi + ci + di,
        StudyInput::Means { n1i, n2i, .. } => n1i + n2i,
        StudyInput::Correlation { ni, .. } => ni,
        _ => f64::NAN,
    }
}

/// Recompute a set of studies under a setting at a CI level.
pub fn evaluate(studies: &Studies, s: &CompSetting, level: f64) -> Result<CompValues> {
    let r = crate::model::comparative::pool_comparative(studies, &s.pool_options(level))?;
    let o = &r.overall;
    let e = &o.effect;
    Ok(CompValues {
        estimate: e.estimate,
        ci_lb: e.ci_lb.min(e.ci_ub),
        ci_ub: e.ci_ub.max(e.ci_lb),
        pi_lb: e.pi_lb.min(e.pi_ub),
        pi_ub: e.pi_ub.max(e.pi_lb),
        k: o.fit.k,
        n: studies.inputs.iter().map(patients).sum(),
        tau2: o.fit.tau2,
        i2: o.fit.i2,
        q: o.fit.q,
        q_p: o.fit.q_p,
        p: o.coef().pval,
    })
}

/// The printed numbers of a claim (as the proportion path reads them: rounded values, exact
/// counts, bounds) with the recomputed value of each, in the printed unit; `None` where the
/// number is not recomputed (the subgroup test).
fn numbers(c: &Claim, v: Option<&CompValues>) -> Vec<(ClaimNumber, Option<f64>)> {
    let scale = if c.printed.unit == Unit::Percent { 100.0 } else { 1.0 };
    claim_numbers(c)
        .into_iter()
        .map(|cn| {
            let x = v.and_then(|v| match cn.name {
                "estimate" => Some(scale * v.estimate),
                "ci_lb" => Some(scale * v.ci_lb),
                "ci_ub" => Some(scale * v.ci_ub),
                "pi_lb" => Some(scale * v.pi_lb),
                "pi_ub" => Some(scale * v.pi_ub),
                "k" => Some(v.k as f64),
                "n" => Some(v.n),
                "I2" => Some(v.i2),
                "tau2" => Some(v.tau2),
                "Q" => Some(v.q),
                "Q_p" => Some(v.q_p),
                "p" => Some(v.p),
                _ => None,
            });
            (cn, x)
        })
        .collect()
}

/// The claim's CI level as a fraction: the printed one, or `[method] level`.
fn level_of(c: &Claim, spec: Option<&MethodSpec>) -> f64 {
    let printed = c.printed.level;
    let stated = spec.and_then(|m| m.level);
    let pct = if (printed - 95.0).abs() > 1e-9 {
        printed
    } else {
        stated.map(|l| if l < 1.0 { 100.0 * l } else { l }).unwrap_or(printed)
    };
    pct / 100.0
}

/// The comparative part of a verification: the stated setting and the method search.
#[derive(Debug, Clone, Serialize)]
pub struct ComparativeReport {
    /// The setting the claims were recomputed with (the stated method, its preset's or
    /// metafor's defaults for the rest).
    pub setting: CompSetting,
    pub setting_described: String,
    /// The presets that stated setting is.
    pub presets: Vec<&'static str>,
    /// The method search, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<CompSearch>,
}

/// One line of the search: a setting and the others that give the same numbers.
#[derive(Debug, Clone, Serialize)]
pub struct CompMatch {
    #[serde(flatten)]
    pub setting: CompSetting,
    pub described: String,
    pub presets: Vec<&'static str>,
    pub agrees_with_stated: Option<bool>,
    /// Total units of the last printed digit by which the numbers miss (0 for a match).
    pub units_off: i64,
    /// Other settings that give the same numbers to 10 significant digits.
    pub same_numbers: Vec<String>,
}

/// The comparative method search.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CompSearch {
    /// Distinct settings tried (after removing switches that cannot matter).
    pub tried: usize,
    pub claims_used: Vec<String>,
    /// Settings that reproduce every printed number of those claims, best first.
    pub matches: Vec<CompMatch>,
    /// When nothing matches: the closest settings.
    pub closest: Vec<CompMatch>,
    /// Whether a setting agreeing with the stated method is among the matches.
    pub stated_method_matches: Option<bool>,
    /// For each claim, how many settings reproduce it on its own.
    pub per_claim: Vec<(String, usize)>,
    /// For each switch: the values among the matches, or "not determined" when the matches
    /// leave it open.
    pub constrained: Vec<(String, Vec<String>)>,
}

/// The grid of the search: every combination, then the canonical ones.
fn grid(
    measure: Measure,
    any_zero: bool,
    any_double_zero: bool,
    any_pi: bool,
    stoppings: &[Stopping],
) -> Vec<CompSetting> {
    let binary = measure.family() == Family::Binary;
    let counts = from_counts(measure);
    let poolings: Vec<Pooling> = if !counts {
        vec![Pooling::IV]
    } else if measure == Measure::OR {
        vec![Pooling::IV, Pooling::MH, Pooling::PETO]
    } else {
        vec![Pooling::IV, Pooling::MH]
    };
    let methods: Vec<Method> = std::iter::once(Method::EE)
        .chain(Method::ALL.iter().copied().filter(|m| !m.is_common()))
        .collect();
    let pis = if any_pi {
        vec![PiType::Metafor, PiType::TkMinus1, PiType::TkMinus2]
    } else {
        vec![PiType::Metafor]
    };
    // (add, to, target)
    let mut ccs = vec![(0.0, AddTo::None, CcTarget::AllCells)];
    if counts {
        let scopes: Vec<AddTo> = if any_zero {
            vec![AddTo::Only0, AddTo::If0all, AddTo::All]
        } else {
            vec![AddTo::All]
        };
        let targets = if binary {
            vec![CcTarget::AllCells, CcTarget::EventsAndN, CcTarget::TreatmentArm]
        } else {
            vec![CcTarget::AllCells]
        };
        for add in [0.5, 0.1, 1.0] {
            for &to in &scopes {
                for &target in &targets {
                    ccs.push((add, to, target));
                }
            }
        }
    }
    let vtypes: Vec<Vtype> = match measure {
        Measure::SMD => vec![Vtype::LS, Vtype::UB, Vtype::LS2, Vtype::REVMAN, Vtype::COHEN],
        Measure::MD | Measure::ROM => vec![Vtype::LS, Vtype::HO],
        Measure::RD => vec![Vtype::LS, Vtype::UB],
        _ => vec![Vtype::LS],
    };
    let bools = |on: bool| if on { vec![false, true] } else { vec![false] };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for &pooling in &poolings {
        for &method in &methods {
            for q_source in [QSource::IV, QSource::MH] {
                for test in Test::ALL {
                    for &pi in &pis {
                        for &(cc_add, cc_to, cc_target) in &ccs {
                            for rd_cc_se_only in bools(measure == Measure::RD) {
                                for cc_in_mh in bools(counts) {
                                    for (drop00, mh_drop00) in bools(counts && any_double_zero)
                                        .into_iter()
                                        .flat_map(|d| bools(counts && any_double_zero).into_iter().map(move |m| (d, m)))
                                    {
                                        for rd_variance in [RdVariance::GR, RdVariance::SGR] {
                                            for (&vtype, &stopping) in
                                                vtypes.iter().flat_map(|v| stoppings.iter().map(move |s| (v, s)))
                                            {
                                                let s = CompSetting {
                                                    measure,
                                                    pooling,
                                                    method,
                                                    q_source,
                                                    test,
                                                    pi,
                                                    cc_add,
                                                    cc_to,
                                                    cc_target,
                                                    rd_cc_se_only,
                                                    cc_in_mh,
                                                    drop00,
                                                    mh_drop00,
                                                    rd_variance,
                                                    vtype,
                                                    stopping,
                                                }
                                                .canonical();
                                                if seen.insert(s.key()) {
                                                    out.push(s);
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// How far a setting departs from the common choices (ranks equally good matches).
fn unusual(s: &CompSetting) -> u32 {
    let mut n = 0;
    if !matches!(s.method, Method::REML | Method::DL | Method::EE) {
        n += 1;
    }
    if s.test == Test::T {
        n += 1;
    }
    if s.cc_add != 0.5 && s.cc_to != AddTo::None {
        n += 1;
    }
    if s.cc_target == CcTarget::TreatmentArm {
        n += 1;
    }
    if s.cc_to == AddTo::If0all {
        n += 1;
    }
    if s.stopping != Stopping::Tight {
        n += 1;
    }
    n
}

/// The values of each switch among the matches.
fn constrained(matches: &[CompSetting], grid: &[CompSetting]) -> Vec<(String, Vec<String>)> {
    fn dim(m: &[CompSetting], g: &[CompSetting], f: impl Fn(&CompSetting) -> String) -> Vec<String> {
        let mut all: Vec<String> = g.iter().map(&f).collect();
        all.sort();
        all.dedup();
        let mut seen: Vec<String> = m.iter().map(&f).collect();
        seen.sort();
        seen.dedup();
        if seen.len() == all.len() && all.len() > 1 {
            vec!["not determined".into()]
        } else {
            seen
        }
    }
    if matches.is_empty() {
        return Vec::new();
    }
    let mut out = vec![
        ("pooling".to_string(), dim(matches, grid, |s| s.pooling.as_str().into())),
        ("method".to_string(), dim(matches, grid, |s| s.method.to_string())),
        ("test".to_string(), dim(matches, grid, |s| s.test.to_string())),
    ];
    if grid.iter().any(|s| s.q_source == QSource::MH) {
        out.push(("q_source".into(), dim(matches, grid, |s| s.q_source.as_str().into())));
    }
    if grid.iter().any(|s| s.cc_to != AddTo::None) {
        out.push((
            "continuity correction".into(),
            dim(matches, grid, |s| {
                if s.cc_to == AddTo::None {
                    "none".into()
                } else {
                    format!("{} {}", s.cc_add, s.cc_to.as_str())
                }
            }),
        ));
        out.push(("cc_in_mh".into(), dim(matches, grid, |s| s.cc_in_mh.to_string())));
    }
    if grid.iter().any(|s| s.drop00) {
        out.push(("drop00".into(), dim(matches, grid, |s| s.drop00.to_string())));
    }
    if grid.iter().any(|s| s.mh_drop00) {
        out.push(("mh_drop00".into(), dim(matches, grid, |s| s.mh_drop00.to_string())));
    }
    if grid.iter().any(|s| s.stopping != Stopping::Tight) {
        out.push(("stopping".into(), dim(matches, grid, |s| s.stopping.as_str().into())));
    }
    if grid.iter().any(|s| s.vtype != Vtype::LS) {
        out.push(("vtype".into(), dim(matches, grid, |s| s.vtype.as_str().into())));
    }
    if grid.iter().any(|s| s.rd_variance == RdVariance::SGR) {
        out.push((
            "rd_variance".into(),
            dim(matches, grid, |s| format!("{:?}", s.rd_variance)),
        ));
    }
    out
}

/// One evaluated setting: total units off, whether every claim matched, each claim's match, and
/// the recomputed numbers (the key that groups settings with the same numbers).
type Row = (CompSetting, i64, bool, Vec<bool>, String);

/// Search the settings for those that reproduce every printed number of the claims with data.
/// With `default_stopping` (or `[method] stopping = "defaults"`), the iterative τ² estimators are
/// also run with the software's default stopping rules.
pub fn search(claims: &Claims, p: &Prepared, measure: Measure, used: &[usize], default_stopping: bool) -> CompSearch {
    let spec = claims.file.method.as_ref();
    let subs: Vec<Option<Studies>> = (0..claims.claims.len())
        .map(|i| match &p.targets[i] {
            Ok(t) if used.contains(&i) => Some(subset(&p.sets[t.set], &t.idx)),
            _ => None,
        })
        .collect();
    let shape = DataShape::of(subs.iter().flatten());
    let (any_zero, any_dz) = (shape.any_zero, shape.any_double_zero);
    let any_pi = used.iter().any(|&i| claims.claims[i].pi.is_some());
    let stated_defaults = spec
        .and_then(|m| m.stopping.as_deref())
        .is_some_and(|s| s.parse::<Stopping>().is_ok_and(|s| s == Stopping::Defaults));
    let stoppings: &[Stopping] = if default_stopping || stated_defaults {
        &[Stopping::Tight, Stopping::Defaults]
    } else {
        &[Stopping::Tight]
    };
    let settings = grid(measure, any_zero, any_dz, any_pi, stoppings);
    // Each setting: total units off, all matched, per-claim match, the values (for grouping).
    let rows: Vec<Row> = settings
        .par_iter()
        .map(|s| {
            let mut total = 0i64;
            let mut per = Vec::with_capacity(used.len());
            let mut key = String::new();
            for &ci in used {
                let c = &claims.claims[ci];
                let Some(sub) = subs[ci].as_ref() else {
                    per.push(false);
                    total += 1000;
                    continue;
                };
                let v = evaluate(sub, s, level_of(c, spec)).ok();
                let mut ok = v.is_some();
                if v.is_none() {
                    total += 1000;
                }
                for (cn, x) in numbers(c, v.as_ref()) {
                    if let Some(x) = x {
                        let u = cn.units_off(x, cn.judge(x));
                        total += u;
                        ok &= u == 0;
                        let _ = write!(key, "{x:.10e};");
                    }
                }
                per.push(ok);
            }
            let all = per.iter().all(|&b| b);
            (*s, total, all, per, key)
        })
        .collect();
    let stated = spec.filter(|_| true);
    let rank = |s: &CompSetting, units: i64| {
        let agrees = stated.map(|m| s.agrees_with(m));
        (
            if agrees == Some(true) { 0 } else { 1 },
            if s.presets_on(&shape).is_empty() { 1 } else { 0 },
            units,
            unusual(s),
        )
    };
    // Group settings with the same numbers; the best-ranked one stands for the group.
    let group = |rows: Vec<&Row>| -> Vec<CompMatch> {
        let mut groups: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
        for r in rows {
            groups.entry(r.4.clone()).or_default().push(r);
        }
        let mut out: Vec<CompMatch> = groups
            .into_values()
            .map(|mut g| {
                g.sort_by_key(|r| rank(&r.0, r.1));
                let best = g[0];
                let mut presets: Vec<&'static str> = g.iter().flat_map(|r| r.0.presets_on(&shape)).collect();
                presets.sort();
                presets.dedup();
                CompMatch {
                    setting: best.0,
                    described: best.0.describe(),
                    presets,
                    agrees_with_stated: stated.map(|m| g.iter().any(|r| r.0.agrees_with(m))),
                    units_off: best.1,
                    same_numbers: g[1..].iter().map(|r| r.0.describe()).collect(),
                }
            })
            .collect();
        out.sort_by_key(|m| {
            (
                if m.agrees_with_stated == Some(true) { 0 } else { 1 },
                if m.presets.is_empty() { 1 } else { 0 },
                m.units_off,
                unusual(&m.setting),
            )
        });
        out
    };
    let matching: Vec<&Row> = rows.iter().filter(|r| r.2).collect();
    let matched_settings: Vec<CompSetting> = matching.iter().map(|r| r.0).collect();
    let matches = group(matching);
    let closest = if matches.is_empty() {
        let mut all: Vec<&Row> = rows.iter().collect();
        all.sort_by_key(|r| r.1);
        let mut g = group(all.into_iter().take(40).collect());
        g.sort_by_key(|m| m.units_off);
        g.truncate(10);
        g
    } else {
        Vec::new()
    };
    CompSearch {
        tried: settings.len(),
        claims_used: used.iter().map(|&i| claims.claims[i].spec.label.clone()).collect(),
        stated_method_matches: stated.map(|_| matches.iter().any(|m| m.agrees_with_stated == Some(true))),
        per_claim: used
            .iter()
            .enumerate()
            .map(|(j, &i)| {
                (
                    claims.claims[i].spec.label.clone(),
                    rows.iter().filter(|r| r.3[j]).count(),
                )
            })
            .collect(),
        constrained: constrained(&matched_settings, &settings),
        matches,
        closest,
    }
}

/// Verify a claims file about a two-group measure with data (see [`applies`]).
pub fn verify(claims: &Claims, options: &VerifyOptions) -> Result<VerifyReport> {
    let prepared = super::prepare(claims)?.ok_or_else(|| usage("two-group claims need [data]".into()))?;
    let spec = claims.file.method.clone().unwrap_or_default();
    let stated = CompSetting::from_spec(&spec)?;
    // Small-study test claims use the proportion machinery's setting (measure, method, test).
    let prop_setting = super::search::Setting::from_spec(&spec).ok();
    let cross = super::cross_checks(&claims.claims);
    let sources = super::sources::checks(&claims.claims);
    let mut reports = Vec::new();
    let mut used = Vec::new();
    for (i, c) in claims.claims.iter().enumerate() {
        if let Some(b) = &c.bias {
            reports.push(super::bias_report(c, b, i, Some(&prepared), prop_setting.as_ref()));
            continue;
        }
        let (values, data_note) = match &prepared.targets[i] {
            Err(e) => (None, Some(e.clone())),
            Ok(t) => {
                let sub = subset(&prepared.sets[t.set], &t.idx);
                match evaluate(&sub, &stated, level_of(c, Some(&spec))) {
                    Ok(v) => (Some(v), None),
                    Err(e) => (None, Some(format!("the stated setting could not be fitted: {e}"))),
                }
            }
        };
        let label_note = match (printed_measure(&c.spec.printed), stated.measure) {
            (Some(l), m) if l != m.as_str() && !(l == "OR" && m == Measure::PETO) => {
                Some(format!("the printed label says {l}, the stated measure is {m}"))
            }
            _ => None,
        };
        let nums: Vec<NumberReport> = numbers(c, values.as_ref())
            .into_iter()
            .map(|(cn, x)| NumberReport {
                verdict: match x {
                    Some(x) => NumberVerdict::from(cn.judge(x)),
                    None => NumberVerdict::NotComputed,
                },
                name: cn.name.into(),
                printed: cn.text(),
                decimals: cn.decimals(),
                recomputed: x.filter(|x| x.is_finite()),
            })
            .collect();
        if values.is_some() && !nums.is_empty() {
            used.push(i);
        }
        let mut checks = super::published::claim_checks(c);
        checks.extend(published_checks(c));
        checks.extend(cross[i].iter().cloned());
        checks.extend(sources[i].iter().cloned());
        let implied = super::published::scales(&c.printed, c.k(), c.n());
        let verdicts: Vec<NumberVerdict> = nums.iter().map(|n| n.verdict).collect();
        // Without a recomputation (the data could not be fitted), the checks decide.
        let verdict = ClaimVerdict::of(&verdicts, &checks);
        let checked = super::verdict::basis(
            &nums.iter().map(|n| (n.name.clone(), n.verdict)).collect::<Vec<_>>(),
            &checks,
        );
        reports.push(ClaimReport {
            label: c.spec.label.clone(),
            printed: c.spec.printed.clone(),
            source: c.spec.source.clone(),
            outcome: c.spec.outcome.clone(),
            subgroup: c.spec.subgroup.clone(),
            unit: c.printed.unit,
            unit_note: c.unit_note.clone(),
            numbers: nums,
            verdict,
            checked,
            scales_consistent: implied
                .iter()
                .filter(|s| s.symmetric)
                .map(|s| s.scale.name().to_string())
                .collect(),
            implied,
            checks,
            data_note: match (data_note, label_note) {
                (Some(a), Some(b)) => Some(format!("{a}; {b}")),
                (a, b) => a.or(b),
            },
            test: None,
        });
    }
    let search = if options.search && !used.is_empty() {
        Some(search(
            claims,
            &prepared,
            stated.measure,
            &used,
            options.default_stopping,
        ))
    } else {
        None
    };
    let skipped = match (options.search, used.is_empty()) {
        (true, true) => Some("no two-group claim could be recomputed from the data".to_string()),
        (true, false) => Some(
            "two-group claims: the method search over the two-group switches is reported under `comparative.search`"
                .to_string(),
        ),
        _ => None,
    };
    Ok(VerifyReport {
        claims_file: claims.path.display().to_string(),
        paper: claims.file.paper.clone(),
        data: claims.data_path().map(|p| p.display().to_string()),
        stated_method: claims.file.method.clone(),
        setting: None,
        claims: reports,
        method_search: SearchResult {
            skipped,
            ..Default::default()
        },
        comparative: Some(ComparativeReport {
            setting: stated.canonical(),
            setting_described: stated.describe(),
            presets: stated.presets_on(&DataShape::of(prepared.sets.iter())),
            search,
        }),
    })
}

fn rate_value(p: &PNum) -> (f64, f64) {
    let (l, h) = p.interval();
    if p.text.contains('%') || p.value > 1.0 {
        (l / 100.0, h / 100.0)
    } else {
        (l, h)
    }
}

/// Checks of a ratio or difference claim that need only its printed numbers: the p-value a Wald
/// test on the printed CI implies, against the printed p; the ratio against the printed risks of
/// the two groups.
pub fn published_checks(c: &Claim) -> Vec<Check> {
    let pr = &c.printed;
    let mut out = Vec::new();
    if !matches!(pr.unit, Unit::Ratio | Unit::Difference) {
        return out;
    }
    let ratio = pr.unit == Unit::Ratio;
    let g = |x: f64| if ratio { x.ln() } else { x };
    // Implied p from z = g(estimate) / SE, SE = (g(ub) − g(lb)) / (2 z_level), over the
    // rounding intervals.
    if let (Some(p), Some(e), Some(l), Some(u)) = (&c.p, &pr.estimate, &pr.ci_lb, &pr.ci_ub) {
        let name = "p implied by the CI (Wald z)";
        let zc = dist::critical(pr.level / 100.0, None);
        let (el, eh) = e.interval();
        let (ll, lh) = l.interval();
        let (ul, uh) = u.interval();
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        let mut ok = true;
        for ev in [el, eh] {
            for lv in [ll, lh] {
                for uv in [ul, uh] {
                    let se = (g(uv) - g(lv)) / (2.0 * zc);
                    let z = g(ev) / se;
                    if !(se > 0.0) || !z.is_finite() {
                        ok = false;
                        continue;
                    }
                    let pv = 2.0 * dist::pnorm_upper(z.abs());
                    lo = lo.min(pv);
                    hi = hi.max(pv);
                }
            }
        }
        // The estimate's interval may straddle the null: then p reaches 1.
        if el * eh <= 0.0 || (ratio && el <= 1.0 && eh >= 1.0) {
            hi = 1.0;
        }
        if !ok || !lo.is_finite() {
            out.push(Check::na(name, "the printed CI gives no positive SE".into()));
        } else {
            let (pl, ph) = p.interval();
            let scale = if ratio { "log" } else { "raw" };
            let se_mid = (g(u.value) - g(l.value)) / (2.0 * zc);
            let detail = format!(
                "on the {scale} scale the CI implies SE = {se_mid:.4} and, with a z-test against {}, p = {lo:.4} to {hi:.4} allowing for rounding; printed p = {}",
                if ratio { "1" } else { "0" },
                p.text()
            );
            out.push(if hi >= pl && lo <= ph {
                Check::pass(name, format!("{detail}: consistent"))
            } else {
                Check::flag(
                    name,
                    format!("{detail}: the p-value and the CI do not come from the same Wald test (a t-based or exact test, another scale, or a misprint)"),
                )
            });
        }
    }
    // A ratio against the risks printed for the two groups.
    if let (true, Some(r1), Some(r2), Some(e)) = (ratio, &c.spec.rate1, &c.spec.rate2, &pr.estimate) {
        let name = "ratio vs printed group risks";
        match (r1.to_pnum(), r2.to_pnum()) {
            (Ok(a), Ok(b)) => {
                let (al, ah) = rate_value(&a);
                let (bl, bh) = rate_value(&b);
                let label = printed_measure(&pr.text).unwrap_or("RR");
                let f = |x: f64, y: f64| {
                    if label == "OR" {
                        (x / (1.0 - x)) / (y / (1.0 - y))
                    } else {
                        x / y
                    }
                };
                let (rl, rh) = (f(al, bh), f(ah, bl));
                let (el, eh) = e.interval();
                let what = if label == "OR" { "odds ratio" } else { "risk ratio" };
                let pooled = c.k().is_none_or(|k| k > 1);
                let detail = format!(
                    "the crude {what} of {} vs {} is {rl:.3} to {rh:.3} allowing for rounding; printed {}",
                    a.text, b.text, e.text
                );
                let inside_ci = match (&pr.ci_lb, &pr.ci_ub) {
                    (Some(l), Some(u)) => rh >= l.interval().0 && rl <= u.interval().1,
                    _ => true,
                };
                out.push(if rh >= el && rl <= eh {
                    Check::pass(name, format!("{detail}: consistent"))
                } else if pooled && inside_ci {
                    Check::pass(
                        name,
                        format!("{detail}: not equal, but inside the printed CI; a pooled ratio weights the studies and need not equal the ratio of pooled risks"),
                    )
                } else {
                    Check::flag(
                        name,
                        format!(
                            "{detail}: {}",
                            if pooled {
                                "outside the printed CI: the risks and the ratio cannot describe the same comparison"
                            } else {
                                "one study's ratio must equal the ratio of its risks"
                            }
                        ),
                    )
                });
            }
            (Err(m), _) | (_, Err(m)) => out.push(Check::na(name, format!("a group risk cannot be read: {m}"))),
        }
    }
    out
}

/// The terminal (and Markdown) lines of the comparative part of a report.
pub fn render(r: &ComparativeReport, markdown: bool) -> String {
    let mut o = String::new();
    let Some(s) = &r.search else {
        return o;
    };
    let list = if s.matches.is_empty() { &s.closest } else { &s.matches };
    if markdown {
        let _ = writeln!(
            o,
            "\n## Method search (two-group switches)\n\n{} distinct settings tried on {} claims.\n",
            s.tried,
            s.claims_used.len()
        );
    } else {
        let _ = writeln!(
            o,
            "\nMethod search (two-group switches): {} distinct settings tried on {} claims",
            s.tried,
            s.claims_used.len()
        );
    }
    if s.matches.is_empty() {
        let _ = writeln!(
            o,
            "{}no setting reproduces every printed number; closest:",
            if markdown { "" } else { "  " }
        );
    } else {
        let _ = writeln!(
            o,
            "{}{} {} every printed number (settings giving the same numbers are one line); best first:",
            if markdown { "" } else { "  " },
            s.matches.len(),
            if s.matches.len() == 1 {
                "group of settings reproduces"
            } else {
                "groups of settings reproduce"
            }
        );
    }
    if markdown {
        let _ = writeln!(
            o,
            "\n| setting | units off | presets | same numbers |\n|---|---|---|---|"
        );
    }
    for m in list.iter().take(10) {
        let same = if m.same_numbers.is_empty() {
            String::new()
        } else {
            format!("{} more", m.same_numbers.len())
        };
        if markdown {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                m.described,
                m.units_off,
                m.presets.join(", "),
                same
            );
        } else {
            let _ = writeln!(
                o,
                "    {}{}{}{}",
                m.described,
                if m.units_off > 0 {
                    format!(" ({} units off)", m.units_off)
                } else {
                    String::new()
                },
                if m.presets.is_empty() {
                    String::new()
                } else {
                    format!("  = {}", m.presets.join(", "))
                },
                if same.is_empty() {
                    String::new()
                } else {
                    format!("  (+{same} with the same numbers)")
                }
            );
        }
    }
    if !s.constrained.is_empty() {
        let d: Vec<String> = s
            .constrained
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.join(", ")))
            .collect();
        let _ = writeln!(
            o,
            "{}the matches pin down: {}",
            if markdown { "\n" } else { "  " },
            d.join("; ")
        );
    }
    if let Some(b) = s.stated_method_matches {
        let _ = writeln!(
            o,
            "{}the paper's stated method {} among the matches",
            if markdown { "\n" } else { "  " },
            if b { "is" } else { "is NOT" }
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(toml_text: &str) -> MethodSpec {
        toml::from_str(toml_text).unwrap()
    }

    /// Switches that cannot matter collapse: a continuous measure has no pooling or correction,
    /// an IV fit no M-H switches, a non-DL random-effects M-H fit is the IV fit.
    #[test]
    fn canonical_forms() {
        let rev = presets::find("revman5").unwrap();
        let md = CompSetting::from_preset(rev, Measure::MD, false).canonical();
        assert_eq!(
            (md.pooling, md.cc_to, md.cc_in_mh, md.drop00),
            (Pooling::IV, AddTo::None, false, false)
        );
        let rr = CompSetting::from_preset(rev, Measure::RR, false);
        assert_eq!(
            rr.canonical().pooling,
            Pooling::MH,
            "RevMan's M-H random keeps the M-H Q"
        );
        let mut reml = rr;
        reml.method = Method::REML;
        assert_eq!(reml.canonical().pooling, Pooling::IV);
        assert!(!reml.canonical().cc_in_mh);
        // metan 4's random effects = IV DL: the same canonical setting as IV pooling with DL.
        let m4 = CompSetting::from_preset(presets::find("stata-metan4").unwrap(), Measure::RR, false);
        let mut iv = m4;
        iv.pooling = Pooling::IV;
        assert_eq!(m4.key(), iv.key());
        assert_ne!(m4.key(), rr.key());
    }

    /// The presets a setting reproduces, and a stated method's agreement.
    #[test]
    fn presets_and_stated_agreement() {
        let rev = CompSetting::from_preset(presets::find("revman5").unwrap(), Measure::OR, false);
        let p = rev.presets();
        assert!(p.contains(&"revman5") && p.contains(&"meta4"), "{p:?}");
        assert!(!p.contains(&"metafor"), "{p:?}");
        // meta 4 differs from RevMan 5 for RR (events-and-n correction) when a zero cell exists.
        let rr = CompSetting::from_preset(presets::find("revman5").unwrap(), Measure::RR, false);
        assert!(!rr.presets().contains(&"meta4"));
        let s = spec("measure = \"OR\"\npooling = \"MH\"\nmethod = \"DL\"");
        assert!(rev.agrees_with(&s));
        let s2 = spec("measure = \"OR\"\npooling = \"IV\"");
        assert!(!rev.agrees_with(&s2));
        let st = CompSetting::from_spec(&spec("measure = \"OR\"\npreset = \"revman5\"")).unwrap();
        assert_eq!(st.key(), rev.key());
        let e = CompSetting::from_spec(&spec("measure = \"OR\"\npreset = \"revman6\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown preset \"revman6\"") && e.contains("revman5"), "{e}");
    }

    fn claim(text: &str, extra: &str) -> Claim {
        let t = format!("[paper]\ncitation = \"x\"\n[[claim]]\nlabel = \"a\"\nprinted = \"{text}\"\n{extra}\n");
        super::super::claims::parse(&t, std::path::Path::new("c.toml"))
            .unwrap()
            .claims
            .remove(0)
    }

    fn status<'a>(checks: &'a [Check], name: &str) -> &'a str {
        checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.status.as_str())
            .unwrap_or("absent")
    }

    /// The p-value a Wald test on the printed CI implies: RR 0.61 (0.41–0.91) gives p ≈ 0.015,
    /// which prints as 0.02 (the tofacitinib meta-analysis, Ther Adv Respir Dis 2024); p = 0.20
    /// cannot come from that CI.
    #[test]
    fn implied_p_from_the_ci() {
        let c = claim("RR 0.61 (95% CI, 0.41-0.91)", "p = \"0.02\"");
        assert_eq!(status(&published_checks(&c), "p implied by the CI (Wald z)"), "pass");
        let c = claim("RR 0.61 (95% CI, 0.41-0.91)", "p = \"0.20\"");
        assert_eq!(status(&published_checks(&c), "p implied by the CI (Wald z)"), "flag");
        // A difference: MD -3.49 (-5.03 to -1.96) implies z ≈ -4.47, p < 0.0001.
        let c = claim("MD -3.49 (95% CI -5.03 to -1.96)", "p = \"0.04\"");
        assert_eq!(status(&published_checks(&c), "p implied by the CI (Wald z)"), "flag");
        let c = claim("MD -3.49 (95% CI -5.03 to -1.96)", "p = \"0.00001\"");
        assert_eq!(status(&published_checks(&c), "p implied by the CI (Wald z)"), "pass");
    }

    /// A single study's RR must be the ratio of its risks: Fan 2022's 6-month mortality 38.5% vs
    /// 62.9% (10/26 vs 22/35) gives RR 0.61; RR 0.81 cannot come from those risks.
    #[test]
    fn ratio_against_printed_risks() {
        let c = claim(
            "RR 0.61 (95% CI 0.35-1.06)",
            "k = 1\nrate1 = \"38.5%\"\nrate2 = \"62.9%\"",
        );
        assert_eq!(status(&published_checks(&c), "ratio vs printed group risks"), "pass");
        let c = claim(
            "RR 0.81 (95% CI 0.59-1.10)",
            "k = 1\nrate1 = \"38.5%\"\nrate2 = \"62.9%\"",
        );
        assert_eq!(status(&published_checks(&c), "ratio vs printed group risks"), "flag");
        // Pooled (k = 4): a ratio off the crude one but inside the CI is not flagged; outside is.
        let c = claim(
            "RR 0.70 (95% CI 0.50-0.98)",
            "k = 4\nrate1 = \"38.5%\"\nrate2 = \"62.9%\"",
        );
        assert_eq!(status(&published_checks(&c), "ratio vs printed group risks"), "pass");
        let c = claim(
            "RR 0.90 (95% CI 0.80-0.99)",
            "k = 4\nrate1 = \"38.5%\"\nrate2 = \"62.9%\"",
        );
        assert_eq!(status(&published_checks(&c), "ratio vs printed group risks"), "flag");
    }

    #[test]
    fn labels_are_read() {
        assert_eq!(
            printed_measure("The pooled risk ratio (RR) for all-cause mortality was 0.61"),
            Some("RR")
        );
        assert_eq!(printed_measure("OR 0.66 [0.53; 0.82]"), Some("OR"));
        assert_eq!(printed_measure("WMD -3.5"), Some("MD"));
        assert_eq!(printed_measure("58.4% (47.3 to 69.4)"), None);
    }
}
