//! Printed small-study / publication-bias claims ("Egger's test, p = 0.03", "trim and fill: 4
//! missing studies, adjusted OR 0.81 (0.70 to 0.94)", "Begg's test p = 0.21"): their keys in a
//! claims file, their recomputation from the claims file's data with
//! [`crate::diagnostics::bias::assess_studies`], and the verdict on each printed number.
//!
//! A claim states a test with `test = "egger"` (or `begg`, `trimfill`, `peters`, `harbord`,
//! `fsn`) and prints any of: `p` (a value, or a bound such as `"<0.001"`), the statistic `z` or
//! `t`, `bias` (the coefficient tested), `tau` (Begg), `k0` (trim-and-fill), `fsn` (fail-safe N)
//! and `printed` (trim-and-fill's adjusted estimate or Egger's limit estimate, with its CI, on
//! the natural scale). Options the paper states: `predictor`, `model` (Egger), `estimator`,
//! `side` (trim-and-fill), `fsn_type`, `alpha`, `target` (fail-safe N); the defaults are
//! metafor's (predictor sei, model rma, estimator L0, side estimated, Rosenthal, α = 0.05).
//! The data are pooled with the claims file's stated method (measure, τ² estimator, test,
//! continuity correction), as pooled claims are recomputed.

use serde::Serialize;

use super::claims::{AsPrinted, Claim, ClaimSpec};
use super::printed::{PNum, Unit};
pub use super::printed::{PValue, Relation};
use super::published::Check;
use super::rounding::{compare, Verdict};
use super::{NumberReport, NumberVerdict};
use crate::data::{Studies, StudyInput};
use crate::diagnostics::bias::{assess_studies, BiasOptions, EffectCi};
use crate::effect::BackTransform;
use crate::model::PoolOptions;

/// A small-study test a paper reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BiasTest {
    Egger,
    Begg,
    Trimfill,
    Peters,
    Harbord,
    Fsn,
}

impl BiasTest {
    pub const ALL: [BiasTest; 6] = [
        BiasTest::Egger,
        BiasTest::Begg,
        BiasTest::Trimfill,
        BiasTest::Peters,
        BiasTest::Harbord,
        BiasTest::Fsn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BiasTest::Egger => "egger",
            BiasTest::Begg => "begg",
            BiasTest::Trimfill => "trimfill",
            BiasTest::Peters => "peters",
            BiasTest::Harbord => "harbord",
            BiasTest::Fsn => "fsn",
        }
    }

    /// The test's name in a report.
    pub fn name(self) -> &'static str {
        match self {
            BiasTest::Egger => "Egger's regression test",
            BiasTest::Begg => "Begg's rank correlation test",
            BiasTest::Trimfill => "trim-and-fill",
            BiasTest::Peters => "Peters' test",
            BiasTest::Harbord => "Harbord's test",
            BiasTest::Fsn => "fail-safe N",
        }
    }

    fn parse(s: &str) -> std::result::Result<BiasTest, String> {
        let k: String = s
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        Ok(match k.as_str() {
            "egger" | "regtest" => BiasTest::Egger,
            "begg" | "ranktest" => BiasTest::Begg,
            "trimfill" | "trimandfill" => BiasTest::Trimfill,
            "peters" => BiasTest::Peters,
            "harbord" => BiasTest::Harbord,
            "fsn" | "failsafen" => BiasTest::Fsn,
            "z" | "t" | "knha" | "hk" => {
                return Err(format!(
                    "\"{s}\" is a test of the pooled estimate: state it in [method] test; a claim's `test` names a small-study test (egger, begg, trimfill, peters, harbord, fsn)"
                ))
            }
            _ => {
                return Err(format!(
                    "unknown small-study test \"{s}\"; expected one of {}",
                    BiasTest::ALL.map(|t| t.as_str()).join(", ")
                ))
            }
        })
    }

    /// The claim keys this test's claims may carry (beyond label, outcome, subgroup, source,
    /// k, n, where, quote, note).
    fn keys(self) -> &'static [&'static str] {
        match self {
            BiasTest::Egger => &["p", "z", "t", "bias", "printed", "predictor", "model"],
            BiasTest::Begg => &["p", "tau"],
            BiasTest::Trimfill => &["k0", "printed", "p", "estimator", "side"],
            BiasTest::Peters | BiasTest::Harbord => &["p", "t", "z", "bias"],
            BiasTest::Fsn => &["fsn", "p", "fsn_type", "alpha", "target"],
        }
    }
}

/// The three fail-safe numbers metafor's `fsn` computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FsnType {
    Rosenthal,
    Orwin,
    Rosenberg,
}

impl FsnType {
    fn parse(s: &str) -> std::result::Result<FsnType, String> {
        match s.to_ascii_lowercase().as_str() {
            "rosenthal" => Ok(FsnType::Rosenthal),
            "orwin" => Ok(FsnType::Orwin),
            "rosenberg" => Ok(FsnType::Rosenberg),
            _ => Err(format!(
                "unknown fail-safe N type \"{s}\"; expected Rosenthal, Orwin or Rosenberg"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FsnType::Rosenthal => "Rosenthal",
            FsnType::Orwin => "Orwin",
            FsnType::Rosenberg => "Rosenberg",
        }
    }
}

/// A claim's small-study test and its printed numbers.
#[derive(Debug, Clone)]
pub struct BiasClaim {
    pub test: BiasTest,
    /// The test's options (metafor's defaults for what the claim leaves out).
    pub options: BiasOptions,
    pub fsn_type: FsnType,
    pub p: Option<PValue>,
    /// The printed statistic: its name ("z" or "t") and value.
    pub stat: Option<(&'static str, PNum)>,
    pub tau: Option<PNum>,
    pub bias: Option<PNum>,
    pub k0: Option<PNum>,
    pub fsn: Option<PNum>,
}

impl BiasClaim {
    /// The test and its options, as a report names them.
    pub fn describe(&self) -> String {
        let o = &self.options;
        match self.test {
            BiasTest::Egger => format!(
                "{} (metafor regtest: model {}, predictor {})",
                self.test.name(),
                o.model.as_str(),
                o.predictor.as_str()
            ),
            BiasTest::Begg => format!("{} (metafor ranktest)", self.test.name()),
            BiasTest::Trimfill => format!(
                "{} (metafor trimfill: estimator {}, side {})",
                self.test.name(),
                o.estimator.as_str(),
                o.side.map(|s| s.as_str()).unwrap_or("estimated")
            ),
            BiasTest::Peters => format!(
                "{} (weighted regression of the log OR on 1/N, t-test of the slope)",
                self.test.name()
            ),
            BiasTest::Harbord => format!(
                "{} (regression of Z/sqrt(V) on sqrt(V), t-test of the intercept)",
                self.test.name()
            ),
            BiasTest::Fsn => {
                let mut s = format!("{} (metafor fsn: type {}", self.test.name(), self.fsn_type.as_str());
                if self.fsn_type != FsnType::Orwin {
                    s.push_str(&format!(", alpha {}", o.fsn_alpha));
                }
                if let (FsnType::Orwin, Some(t)) = (self.fsn_type, o.fsn_target) {
                    s.push_str(&format!(", target {t}"));
                }
                s.push(')');
                s
            }
        }
    }

    /// The claim in words when it prints no estimate: "Egger's regression test: p = 0.03".
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(k0) = &self.k0 {
            parts.push(format!("k0 = {}", k0.text));
        }
        if let Some(f) = &self.fsn {
            parts.push(f.text.clone());
        }
        if let Some(b) = &self.bias {
            parts.push(format!("bias = {}", b.text));
        }
        if let Some(t) = &self.tau {
            parts.push(format!("tau = {}", t.text));
        }
        if let Some((n, s)) = &self.stat {
            parts.push(format!("{n} = {}", s.text));
        }
        if let Some(p) = &self.p {
            parts.push(match p.relation {
                Relation::Eq => format!("p = {}", p.num.text),
                r => format!("p {} {}", r.symbol(), p.num.text),
            });
        }
        format!("{}: {}", self.test.name(), parts.join(", "))
    }
}

type KeyError = (&'static str, String);

fn pnum(key: &'static str, v: &Option<AsPrinted>) -> std::result::Result<Option<PNum>, KeyError> {
    v.as_ref().map(|a| a.to_pnum().map_err(|m| (key, m))).transpose()
}

/// A printed count (k0, fail-safe N): a non-negative integer.
fn count(key: &'static str, v: &Option<AsPrinted>) -> std::result::Result<Option<PNum>, KeyError> {
    let n = pnum(key, v)?;
    if let Some(n) = &n {
        if n.decimals != 0 || n.value < 0.0 {
            return Err((key, format!("\"{}\" is not a count (a whole number ≥ 0)", n.text)));
        }
    }
    Ok(n)
}

/// Read a claim's small-study keys: `None` for a claim without `test` (a pooled estimate, which
/// may carry none of them). Errors name the key.
pub fn parse_claim(spec: &ClaimSpec) -> std::result::Result<Option<BiasClaim>, KeyError> {
    let given: Vec<&'static str> = [
        ("k0", spec.k0.is_some()),
        ("z", spec.z.is_some()),
        ("t", spec.t.is_some()),
        ("tau", spec.tau.is_some()),
        ("bias", spec.bias.is_some()),
        ("fsn", spec.fsn.is_some()),
        ("predictor", spec.predictor.is_some()),
        ("model", spec.model.is_some()),
        ("estimator", spec.estimator.is_some()),
        ("side", spec.side.is_some()),
        ("fsn_type", spec.fsn_type.is_some()),
        ("alpha", spec.alpha.is_some()),
        ("target", spec.target.is_some()),
    ]
    .into_iter()
    .filter(|(_, g)| *g)
    .map(|(k, _)| k)
    .collect();
    let Some(name) = &spec.test else {
        if let Some(k) = given.first() {
            return Err((
                k,
                "belongs to a small-study test claim: add `test` (egger, begg, trimfill, peters, harbord, fsn)".into(),
            ));
        }
        return Ok(None);
    };
    let test = BiasTest::parse(name).map_err(|m| ("test", m))?;
    let allowed = test.keys();
    let mut all = given.clone();
    if spec.p.is_some() {
        all.push("p");
    }
    if !spec.printed.trim().is_empty() {
        all.push("printed");
    }
    for k in &all {
        if !allowed.contains(k) {
            return Err((
                k,
                format!(
                    "not a key of a {} claim (test = \"{}\"), which takes {}",
                    test.name(),
                    test.as_str(),
                    allowed.join(", ")
                ),
            ));
        }
    }
    for (k, g) in [
        ("n", spec.n.is_some()),
        ("I2", spec.i2.is_some()),
        ("tau2", spec.tau2.is_some()),
        ("Q", spec.q.is_some()),
        ("pi", spec.pi.is_some()),
    ] {
        if g {
            return Err((
                k,
                "belongs to a pooled estimate, not to a small-study test claim: give it its own claim".into(),
            ));
        }
    }
    let mut options = BiasOptions::default();
    let usage = |k: &'static str| move |e: crate::error::Error| (k, e.to_string());
    if let Some(p) = &spec.predictor {
        options.predictor = p.parse().map_err(usage("predictor"))?;
    }
    if let Some(m) = &spec.model {
        options.model = m.parse().map_err(usage("model"))?;
    }
    if let Some(e) = &spec.estimator {
        options.estimator = e.parse().map_err(usage("estimator"))?;
    }
    if let Some(s) = &spec.side {
        options.side = Some(s.parse().map_err(usage("side"))?);
    }
    let fsn_type = match &spec.fsn_type {
        Some(t) => FsnType::parse(t).map_err(|m| ("fsn_type", m))?,
        None => FsnType::Rosenthal,
    };
    if let Some(a) = spec.alpha {
        if !(a > 0.0 && a < 1.0) {
            return Err(("alpha", format!("{a} is not a significance level in (0, 1)")));
        }
        if fsn_type == FsnType::Orwin {
            return Err((
                "alpha",
                "Orwin's fail-safe N has no significance level; it takes target".into(),
            ));
        }
        options.fsn_alpha = a;
    }
    if let Some(t) = spec.target {
        if fsn_type != FsnType::Orwin {
            return Err((
                "target",
                "only Orwin's fail-safe N (fsn_type = \"Orwin\") has a target".into(),
            ));
        }
        options.fsn_target = Some(t);
    }
    let p = match &spec.p {
        None => None,
        Some(a) => {
            let text = match a {
                AsPrinted::Text(s) => s.clone(),
                AsPrinted::Int(i) => i.to_string(),
                AsPrinted::Float(f) => format!("{f}"),
            };
            Some(PValue::parse(&text).map_err(|m| ("p", m))?)
        }
    };
    if p.is_some() && test == BiasTest::Fsn && fsn_type == FsnType::Orwin {
        return Err(("p", "Orwin's fail-safe N has no p-value".into()));
    }
    let stat = match (pnum("z", &spec.z)?, pnum("t", &spec.t)?) {
        (Some(_), Some(_)) => return Err(("t", "give the statistic once, as z or as t".into())),
        (Some(z), None) => Some(("z", z)),
        (None, Some(t)) => Some(("t", t)),
        (None, None) => None,
    };
    let claim = BiasClaim {
        test,
        options,
        fsn_type,
        p,
        stat,
        tau: pnum("tau", &spec.tau)?,
        bias: pnum("bias", &spec.bias)?,
        k0: count("k0", &spec.k0)?,
        fsn: count("fsn", &spec.fsn)?,
    };
    let any = claim.p.is_some()
        || claim.stat.is_some()
        || claim.tau.is_some()
        || claim.bias.is_some()
        || claim.k0.is_some()
        || claim.fsn.is_some()
        || !spec.printed.trim().is_empty();
    if !any {
        return Err((
            "test",
            format!(
                "a {} claim needs a printed number: one of {}",
                test.name(),
                allowed
                    .iter()
                    .filter(|k| !is_option(k))
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(Some(claim))
}

fn is_option(k: &str) -> bool {
    matches!(
        k,
        "predictor" | "model" | "estimator" | "side" | "fsn_type" | "alpha" | "target"
    )
}

/// What the test gives for the numbers a claim can print (`None` where it gives no such number).
#[derive(Debug, Clone, Default)]
pub struct Recomputed {
    pub k: usize,
    pub p: Option<f64>,
    /// The statistic's name ("z" or "t") and value.
    pub stat: Option<(&'static str, f64)>,
    pub tau: Option<f64>,
    pub bias: Option<f64>,
    pub k0: Option<f64>,
    pub fsn: Option<f64>,
    /// The estimate with its CI on the natural scale.
    pub estimate: Option<EffectCi>,
    /// What the computation chose (trim-and-fill's side), for the report.
    pub detail: Option<String>,
}

/// The studies at `idx` of `s`.
fn subset(s: &Studies, idx: &[usize]) -> Studies {
    let mut out = s.clone();
    let pick = |v: &Vec<f64>| idx.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    out.events = pick(&s.events);
    out.total = pick(&s.total);
    out.study = idx.iter().map(|&i| s.study[i].clone()).collect();
    out.group = s.group.as_ref().map(|g| idx.iter().map(|&i| g[i].clone()).collect());
    out.rows = idx.iter().map(|&i| s.rows[i]).collect();
    out.inputs = idx.iter().map(|&i| s.inputs[i]).collect();
    out
}

/// Recompute a claim's test on the studies `idx` of `studies`, pooled with `options`;
/// `drop_zero_all` leaves out single-group studies with 0 or all events first. An error says
/// why the test cannot be computed.
pub fn recompute(
    studies: &Studies,
    idx: &[usize],
    options: &PoolOptions,
    drop_zero_all: bool,
    claim: &BiasClaim,
) -> std::result::Result<Recomputed, String> {
    let idx: Vec<usize> = idx
        .iter()
        .copied()
        .filter(|&i| {
            !drop_zero_all || !matches!(studies.inputs[i], StudyInput::Proportion { xi, ni } if xi <= 0.0 || xi >= ni)
        })
        .collect();
    if idx.is_empty() {
        return Err("no studies left".into());
    }
    let s = subset(studies, &idx);
    let (a, es) = assess_studies(&s, options, &claim.options).map_err(|e| e.to_string())?;
    let back = BackTransform::with_mean(es.measure, &es.ni, options.pft_mean);
    let mut r = Recomputed {
        k: a.k,
        ..Default::default()
    };
    match claim.test {
        BiasTest::Egger => {
            let t = a.egger?;
            r.p = Some(t.pval);
            r.stat = Some((t.statistic, t.stat));
            r.bias = Some(t.slope);
            if let (Some(e), Some(l), Some(u)) = (t.est, t.ci_lb, t.ci_ub) {
                let (l, u) = (back.apply(l), back.apply(u));
                r.estimate = Some(EffectCi {
                    estimate: back.apply(e),
                    ci_lb: l.min(u),
                    ci_ub: l.max(u),
                });
            }
        }
        BiasTest::Begg => {
            let t = a.begg?;
            r.p = Some(t.pval);
            r.tau = Some(t.tau);
        }
        BiasTest::Trimfill => {
            let t = a.trimfill?;
            r.k0 = Some(t.k0 as f64);
            r.p = Some(t.fit.coefficients[0].pval);
            r.estimate = Some(EffectCi::of(&t.fit, back));
            r.detail = Some(format!(
                "missing studies imputed on the {} side ({})",
                t.side.as_str(),
                if t.side_given {
                    "as stated"
                } else {
                    "estimated, as metafor"
                }
            ));
        }
        BiasTest::Peters | BiasTest::Harbord => {
            let t = if claim.test == BiasTest::Peters {
                a.peters
            } else {
                a.harbord
            };
            let t = t.ok_or_else(|| {
                "it needs 2x2 tables (columns ai, bi, ci, di) and a two-group binary measure (OR, RR, RD)".to_string()
            })??;
            r.p = Some(t.pval);
            r.stat = Some(("t", t.tval));
            r.bias = Some(t.estimate);
        }
        BiasTest::Fsn => {
            let f = a.fsn?;
            match claim.fsn_type {
                FsnType::Rosenthal => {
                    r.fsn = Some(f.rosenthal.fsnum);
                    r.p = Some(f.rosenthal.pval);
                }
                FsnType::Orwin => r.fsn = Some(f.orwin.fsnum),
                FsnType::Rosenberg => {
                    r.fsn = Some(f.rosenberg.fsnum);
                    r.p = Some(f.rosenberg.pval);
                }
            }
        }
    }
    Ok(r)
}

/// An integer printed as a count: exactly equal or a mismatch (off by one is a mismatch).
fn exact(x: f64, printed: &PNum) -> Verdict {
    if !x.is_finite() {
        Verdict::NotComputed
    } else if x == printed.value {
        Verdict::Match
    } else {
        Verdict::Mismatch
    }
}

/// The printed numbers of a small-study claim with their verdicts against `rec` (`None`: not
/// recomputed), and the checks of what the paper printed against what the analysis gives.
pub fn numbers(c: &Claim, b: &BiasClaim, rec: Option<&Recomputed>) -> (Vec<NumberReport>, Vec<Check>) {
    let mut out = Vec::new();
    let mut checks = Vec::new();
    let mut push = |name: &str, printed: String, decimals: u32, x: Option<f64>, judge: &dyn Fn(f64) -> Verdict| {
        let verdict = match (rec, x) {
            (Some(_), Some(x)) => NumberVerdict::from(judge(x)),
            _ => NumberVerdict::NotComputed,
        };
        out.push(NumberReport {
            name: name.into(),
            printed,
            decimals,
            recomputed: x,
            verdict,
        });
    };
    let scale = |x: f64| if c.printed.unit == Unit::Percent { 100.0 * x } else { x };
    let est = rec.and_then(|r| r.estimate);
    for (name, pn, x) in [
        ("estimate", &c.printed.estimate, est.map(|e| scale(e.estimate))),
        ("ci_lb", &c.printed.ci_lb, est.map(|e| scale(e.ci_lb))),
        ("ci_ub", &c.printed.ci_ub, est.map(|e| scale(e.ci_ub))),
    ] {
        if let Some(pn) = pn {
            push(name, pn.text.clone(), pn.decimals, x, &|x| compare(x, pn));
        }
    }
    if let Some(k0) = &b.k0 {
        push("k0", k0.text.clone(), 0, rec.and_then(|r| r.k0), &|x| exact(x, k0));
    }
    if let Some(f) = &b.fsn {
        push("fsn", f.text.clone(), 0, rec.and_then(|r| r.fsn), &|x| exact(x, f));
    }
    if let Some(v) = &b.bias {
        push("bias", v.text.clone(), v.decimals, rec.and_then(|r| r.bias), &|x| {
            compare(x, v)
        });
    }
    if let Some(v) = &b.tau {
        push("tau", v.text.clone(), v.decimals, rec.and_then(|r| r.tau), &|x| {
            compare(x, v)
        });
    }
    if let Some((name, v)) = &b.stat {
        let got = rec.and_then(|r| r.stat);
        push(name, v.text.clone(), v.decimals, got.map(|s| s.1), &|x| compare(x, v));
        if let Some((gn, gx)) = got {
            let check = "test statistic";
            checks.push(if gn == *name {
                Check::pass(check, format!("the paper prints {name}, as the stated analysis gives"))
            } else {
                Check::flag(
                    check,
                    format!(
                        "the paper prints {name} = {}, the stated analysis gives a {gn} statistic ({gn} = {gx:.3}): the test or its model may differ",
                        v.text
                    ),
                )
            });
        }
    }
    if let Some(p) = &b.p {
        push("p", p.text(), p.num.decimals, rec.and_then(|r| r.p), &|x| p.judge(x));
    }
    (out, checks)
}
