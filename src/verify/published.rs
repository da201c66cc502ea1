//! What published numbers imply on their own, without study data.
//!
//! Every check works on the rounding intervals of the printed numbers (interval arithmetic on
//! monotone functions, evaluated at the interval end points), so a check fails only when no
//! combination of values that round to the printed ones passes it. Each check says what it assumed.

use serde::Serialize;

use super::claims::Claim;
use super::printed::{PNum, Printed, Unit};
use crate::dist;
use crate::effect::transf;
use crate::effect::{study_ci, CiMethod};

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// The check ran and the printed numbers pass it.
    Pass,
    /// The check ran and the printed numbers fail it: the claim is inconsistent.
    Flag,
    /// Something worth knowing that is not an inconsistency by itself (e.g. a CI symmetric on
    /// none of the scales tried: it may come from a scale not tried).
    Finding,
    /// The check could not run (what it needs is not printed).
    NotApplicable,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Flag => "flag",
            CheckStatus::Finding => "finding",
            CheckStatus::NotApplicable => "not_applicable",
        }
    }

    /// The check ran and passed or flagged (a finding or a check that could not run is neither).
    pub fn ran(self) -> bool {
        matches!(self, CheckStatus::Pass | CheckStatus::Flag)
    }
}

impl std::fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for CheckStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Result of one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub name: String,
    pub status: CheckStatus,
    pub detail: String,
    /// The printed numbers the check is about (`estimate`, `ci_lb`, `n`, ...); empty: the claim
    /// as a whole.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub numbers: Vec<&'static str>,
}

impl Check {
    fn new(name: &str, status: CheckStatus, detail: String) -> Check {
        Check {
            name: name.into(),
            status,
            detail,
            numbers: Vec::new(),
        }
    }
    pub fn pass(name: &str, detail: String) -> Check {
        Check::new(name, CheckStatus::Pass, detail)
    }
    pub fn flag(name: &str, detail: String) -> Check {
        Check::new(name, CheckStatus::Flag, detail)
    }
    pub fn finding(name: &str, detail: String) -> Check {
        Check::new(name, CheckStatus::Finding, detail)
    }
    pub fn na(name: &str, detail: String) -> Check {
        Check::new(name, CheckStatus::NotApplicable, detail)
    }
    /// The printed numbers the check is about.
    pub fn on(mut self, numbers: &[&'static str]) -> Check {
        self.numbers = numbers.to_vec();
        self
    }
    /// Whether the check is about the printed number `name` (a check about the whole claim is
    /// about every number).
    pub fn concerns(&self, name: &str) -> bool {
        self.numbers.is_empty() || self.numbers.contains(&name)
    }
}

/// A scale on which a CI may have been computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    Raw,
    Log,
    Logit,
    Arcsine,
    /// Freeman–Tukey double arcsine, back-transformed with Miller's formula at the harmonic mean
    /// of the study sizes (metafor `transf.ipft.hm`, meta's PFT): symmetric on the double-arcsine
    /// scale for some n.
    FreemanTukey,
    /// Clopper–Pearson exact CI of one count x of n.
    ClopperPearson,
    /// Wilson score CI of one count x of n.
    Wilson,
}

impl Scale {
    pub fn name(self) -> &'static str {
        match self {
            Scale::Raw => "raw",
            Scale::Log => "log",
            Scale::Logit => "logit",
            Scale::Arcsine => "arcsine",
            Scale::FreemanTukey => "Freeman-Tukey",
            Scale::ClopperPearson => "Clopper-Pearson",
            Scale::Wilson => "Wilson",
        }
    }

    /// The transformation of a value on the proportion (or ratio) scale (the Wald scales; the
    /// others are tried in [`scales`] by their own rule).
    pub fn g(self, x: f64) -> f64 {
        match self {
            Scale::Raw => x,
            Scale::Log => x.ln(),
            Scale::Logit => (x / (1.0 - x)).ln(),
            Scale::Arcsine => x.clamp(0.0, 1.0).sqrt().asin(),
            Scale::FreemanTukey | Scale::ClopperPearson | Scale::Wilson => f64::NAN,
        }
    }

    /// The Wald-type scales (estimate ± z·SE on g) that make sense for a unit.
    pub fn for_unit(unit: Unit) -> Vec<Scale> {
        match unit {
            Unit::Percent | Unit::Proportion => vec![Scale::Raw, Scale::Log, Scale::Logit, Scale::Arcsine],
            Unit::Ratio => vec![Scale::Raw, Scale::Log],
            Unit::Difference => vec![Scale::Raw],
            Unit::Unknown => Vec::new(),
        }
    }
}

/// The implied SE of an estimate on one scale, and whether its CI is symmetric there.
#[derive(Debug, Clone, Serialize)]
pub struct ScaleImplication {
    pub scale: Scale,
    /// (g(ub) − g(lb)) / (2 z) at the printed values (`null` where the scale has no SE: an
    /// exact or score CI, or the Freeman–Tukey scale whose g depends on n).
    pub se: Option<f64>,
    /// Some value of each rounding interval makes the CI symmetric on this scale (for the
    /// Freeman–Tukey, Clopper–Pearson and Wilson CIs: some n, or some x of n, reproduces it).
    pub symmetric: bool,
    /// The n (or x of n) that do, or the range tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Interval of a printed number on the analysis scale (percent → proportion), clamped to the
/// scale's domain.
fn interval(p: &PNum, unit: Unit, scale: Scale) -> (f64, f64) {
    let (mut lo, mut hi) = p.interval();
    if unit == Unit::Percent {
        lo /= 100.0;
        hi /= 100.0;
    }
    let tiny = 1e-12;
    match (unit, scale) {
        (Unit::Percent | Unit::Proportion, Scale::Log) => (lo.max(tiny), hi.clamp(tiny, 1.0)),
        (Unit::Percent | Unit::Proportion, Scale::Logit) => (lo.clamp(tiny, 1.0 - tiny), hi.clamp(tiny, 1.0 - tiny)),
        (Unit::Percent | Unit::Proportion, _) => (lo.max(0.0), hi.min(1.0)),
        (Unit::Ratio, Scale::Log) => (lo.max(tiny), hi.max(tiny)),
        _ => (lo, hi),
    }
}

fn value(p: &PNum, unit: Unit) -> f64 {
    if unit == Unit::Percent {
        p.value / 100.0
    } else {
        p.value
    }
}

fn z_of(level: f64) -> f64 {
    dist::critical(level / 100.0, None)
}

/// Whether the printed bounds are reversed (the lower above the upper, even allowing for
/// rounding).
pub fn reversed(pr: &Printed) -> bool {
    match (&pr.ci_lb, &pr.ci_ub) {
        (Some(l), Some(u)) => l.interval().0 > u.interval().1,
        _ => false,
    }
}

/// The inverse of Miller's back-transform at n: the double-arcsine value (metafor's scale, half
/// the sum of the two arcsines) whose back-transform is p, by bisection (monotone on the range).
fn ipft_inverse(p: f64, n: f64) -> f64 {
    let (mut lo, mut hi) = (transf::pft(0.0, n), transf::pft(1.0, n));
    if p <= 0.0 {
        return lo;
    }
    if p >= 1.0 {
        return hi;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if transf::ipft(mid, n) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The sample sizes tried for the Freeman–Tukey back-transform: every n up to 200, then steps of
/// 2%, up to `max`.
fn n_grid(max: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut n = 2.0;
    while n <= max {
        out.push(n);
        n = if n < 200.0 { n + 1.0 } else { (n * 1.02).round() };
    }
    out
}

/// Ranges of consecutive values, as "2-17, 40-52".
fn ranges(ns: &[f64]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut start: Option<f64> = None;
    let mut prev: f64 = 0.0;
    for &n in ns {
        match start {
            None => start = Some(n),
            Some(_) if n <= (prev + 1.0).max(prev * 1.021) => {}
            Some(s) => {
                out.push(if s == prev {
                    format!("{s}")
                } else {
                    format!("{s}-{prev}")
                });
                start = Some(n);
            }
        }
        prev = n;
    }
    if let Some(s) = start {
        out.push(if s == prev {
            format!("{s}")
        } else {
            format!("{s}-{prev}")
        });
    }
    out.join(", ")
}

/// The harmonic-mean n at which the CI is symmetric on the Freeman–Tukey scale, among the n a
/// claim allows: up to n / k when both are printed (the harmonic mean is at most the
/// arithmetic mean), up to n, or up to 10,000.
fn freeman_tukey(pr: &Printed, e: &PNum, l: &PNum, u: &PNum, n_max: f64) -> ScaleImplication {
    let iv = |p: &PNum| interval(p, pr.unit, Scale::Raw);
    let ((el, eh), (ll, lh), (ul, uh)) = (iv(e), iv(l), iv(u));
    let ok: Vec<f64> = n_grid(n_max)
        .into_iter()
        .filter(|&n| {
            let g = |x: f64| ipft_inverse(x, n);
            let dmin = g(ul) + g(ll) - 2.0 * g(eh);
            let dmax = g(uh) + g(lh) - 2.0 * g(el);
            dmin <= 1e-12 && -1e-12 <= dmax
        })
        .collect();
    ScaleImplication {
        scale: Scale::FreemanTukey,
        se: None,
        symmetric: !ok.is_empty(),
        detail: Some(if ok.is_empty() {
            format!("no harmonic-mean n from 2 to {n_max:.0} in the back-transform")
        } else {
            format!("back-transformed at harmonic-mean n = {}", ranges(&ok))
        }),
    }
}

/// The counts x of n whose exact (Clopper–Pearson) or Wilson CI rounds to the printed bounds, with
/// x / n rounding to the printed estimate; n up to `n_max` (the printed n, or 2,000).
fn count_ci(
    pr: &Printed,
    e: &PNum,
    l: &PNum,
    u: &PNum,
    (n_min, n_max): (u64, u64),
    method: CiMethod,
) -> ScaleImplication {
    let scale = if method == CiMethod::CP {
        Scale::ClopperPearson
    } else {
        Scale::Wilson
    };
    let level = pr.level / 100.0;
    let (pl, ph) = interval(e, pr.unit, Scale::Raw);
    let rounds = |x: f64, p: &PNum| {
        let (a, b) = interval(p, pr.unit, Scale::Raw);
        x >= a - 1e-12 && x <= b + 1e-12
    };
    let mut hits = Vec::new();
    for n in n_min..=n_max {
        let nf = n as f64;
        let x0 = (pl * nf).floor().max(0.0) as u64;
        let x1 = ((ph * nf).ceil() as u64).min(n);
        for x in x0..=x1 {
            let xf = x as f64;
            if !rounds(xf / nf, e) {
                continue;
            }
            let (a, b) = study_ci(xf, nf, level, method);
            if rounds(a, l) && rounds(b, u) {
                hits.push(format!("{x} of {n}"));
            }
        }
        if hits.len() > 5 {
            break;
        }
    }
    ScaleImplication {
        scale,
        se: None,
        symmetric: !hits.is_empty(),
        detail: Some(if hits.is_empty() {
            if n_min == n_max {
                format!("no count x of n = {n_max} (one study's CI)")
            } else {
                format!("no count x of n with n up to {n_max} (one study's CI)")
            }
        } else {
            let more = if hits.len() > 5 { ", ..." } else { "" };
            format!(
                "one study's CI at {}{more}",
                hits.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            )
        }),
    }
}

/// SE and symmetry on every scale that suits the unit (needs an estimate and both bounds in
/// order). `k` and `n` as printed bound the sample sizes tried for the Freeman–Tukey,
/// Clopper–Pearson and Wilson CIs.
pub fn scales(pr: &Printed, k: Option<u64>, n: Option<u64>) -> Vec<ScaleImplication> {
    let (Some(e), Some(l), Some(u)) = (&pr.estimate, &pr.ci_lb, &pr.ci_ub) else {
        return Vec::new();
    };
    if reversed(pr) {
        return Vec::new();
    }
    let z = z_of(pr.level);
    let mut out: Vec<ScaleImplication> = Scale::for_unit(pr.unit)
        .into_iter()
        .filter_map(|s| {
            let (el, eh) = interval(e, pr.unit, s);
            let (ll, lh) = interval(l, pr.unit, s);
            let (ul, uh) = interval(u, pr.unit, s);
            // D = g(u) + g(l) − 2 g(e), monotone in each argument.
            let dmin = s.g(ul) + s.g(ll) - 2.0 * s.g(eh);
            let dmax = s.g(uh) + s.g(lh) - 2.0 * s.g(el);
            if dmin.is_nan() || dmax.is_nan() {
                return None;
            }
            let se = (s.g(value(u, pr.unit)) - s.g(value(l, pr.unit))) / (2.0 * z);
            Some(ScaleImplication {
                scale: s,
                se: Some(se),
                symmetric: dmin <= 0.0 && 0.0 <= dmax,
                detail: None,
            })
        })
        .collect();
    if matches!(pr.unit, Unit::Percent | Unit::Proportion) {
        let n_ft = match (n, k) {
            (Some(n), Some(k)) if k > 0 => (n as f64 / k as f64).max(2.0),
            (Some(n), _) => n as f64,
            _ => 10_000.0,
        };
        out.push(freeman_tukey(pr, e, l, u, n_ft));
        // An exact or score CI is that of one count: n as printed for one study, else up to 2,000.
        let n_count = match (pr.x_of_n, n, k) {
            (Some((_, n)), _, _) => (n, n),
            (_, Some(n), Some(1)) => (n, n),
            _ => (1, 2_000),
        };
        out.push(count_ci(pr, e, l, u, n_count, CiMethod::CP));
        out.push(count_ci(pr, e, l, u, n_count, CiMethod::WS));
    }
    out
}

/// The checks that need only one claim's printed numbers.
pub fn claim_checks(c: &Claim) -> Vec<Check> {
    let pr = &c.printed;
    let mut out = Vec::new();
    const CI: &[&str] = &["estimate", "ci_lb", "ci_ub"];
    // CI bounds in order.
    if reversed(pr) {
        if let (Some(l), Some(u)) = (&pr.ci_lb, &pr.ci_ub) {
            out.push(
                Check::flag(
                    "CI bounds in order",
                    format!(
                        "the lower bound {} is above the upper bound {}: reversed or misprinted",
                        l.text, u.text
                    ),
                )
                .on(&["ci_lb", "ci_ub"]),
            );
        }
    }
    // Estimate inside its CI.
    match (&pr.estimate, &pr.ci_lb, &pr.ci_ub) {
        (Some(e), Some(l), Some(u)) => {
            let (el, eh) = e.interval();
            let ok = eh >= l.interval().0 && el <= u.interval().1 && l.interval().0 <= u.interval().1;
            out.push(
                if ok {
                    Check::pass(
                        "estimate inside CI",
                        format!("{} lies within [{}, {}]", e.text, l.text, u.text),
                    )
                } else {
                    Check::flag(
                        "estimate inside CI",
                        format!(
                            "{} lies outside [{}, {}] even allowing for rounding",
                            e.text, l.text, u.text
                        ),
                    )
                }
                .on(CI),
            );
        }
        _ => out.push(Check::na(
            "estimate inside CI",
            "needs an estimate and both CI bounds".into(),
        )),
    }
    // Which scales make the CI symmetric: a finding either way, not a pass or a flag (a CI from a
    // scale not tried is symmetric on none of those tried).
    let sc = scales(pr, c.k(), c.n());
    let name = "CI symmetric on some scale";
    if pr.unit == Unit::Unknown {
        out.push(Check::na(
            name,
            "the unit is ambiguous (no \"%\" printed): the scales depend on it".into(),
        ));
    } else if reversed(pr) {
        out.push(Check::na(name, "the CI bounds are reversed".into()));
    } else if sc.is_empty() {
        out.push(Check::na(name, "needs an estimate and both CI bounds".into()));
    } else {
        let sym: Vec<String> = sc
            .iter()
            .filter(|s| s.symmetric)
            .map(|s| match &s.detail {
                Some(d) => format!("{} ({d})", s.scale.name()),
                None => s.scale.name().to_string(),
            })
            .collect();
        let tried = sc.iter().map(|s| s.scale.name()).collect::<Vec<_>>().join(", ");
        out.push(
            if sym.is_empty() {
                Check::finding(
                    name,
                    format!(
                        "the CI is symmetric on none of the scales tried ({tried}) within rounding: computed another way (e.g. a GLMM's profile CI, a bootstrap), truncated, or misprinted; not an inconsistency by itself"
                    ),
                )
            } else {
                Check::finding(
                    name,
                    format!(
                        "reproduced within rounding by: {} (of {tried}; the Wald scales assume estimate ± z·SE on that scale)",
                        sym.join("; ")
                    ),
                )
            }
            .on(CI),
        );
    }
    // GRIM: "x of n (p%)".
    match (pr.x_of_n, &pr.estimate) {
        (Some((x, n)), Some(e)) if n > 0 => {
            let pct = 100.0 * x as f64 / n as f64;
            let v = if pr.unit == Unit::Percent { pct } else { pct / 100.0 };
            if super::rounding::rounds_to(v, e) {
                out.push(Check::pass(
                    "GRIM: x of n",
                    format!("{x}/{n} = {pct:.4}% rounds to the printed {}", e.text),
                ));
            } else {
                out.push(Check::flag(
                    "GRIM: x of n",
                    format!("{x}/{n} = {pct:.4}% does not round to the printed {}", e.text),
                ));
            }
        }
        (Some((x, n)), None) if x > n => {
            out.push(Check::flag(
                "GRIM: x of n",
                format!("{x} of {n}: more events than patients"),
            ));
        }
        _ => {}
    }
    // GRIM for a single study's percentage against its n (k printed as 1).
    if let (None, Some(e), Some(n), Some(1)) = (pr.x_of_n, &pr.estimate, c.n(), c.k()) {
        if matches!(pr.unit, Unit::Percent | Unit::Proportion) && n > 0 && n <= 100_000 {
            let scale = if pr.unit == Unit::Percent { 100.0 } else { 1.0 };
            let hits: Vec<u64> = (0..=n)
                .filter(|x| super::rounding::rounds_to(scale * *x as f64 / n as f64, e))
                .collect();
            out.push(if hits.is_empty() {
                Check::flag(
                    "GRIM: percentage against n",
                    format!(
                        "no count out of n = {n} gives {} (assumes the percentage is x/n of one study)",
                        e.text
                    ),
                )
            } else {
                Check::pass(
                    "GRIM: percentage against n",
                    format!(
                        "{} of {n} gives {} (assumes the percentage is x/n of one study)",
                        hits.iter().map(|h| h.to_string()).collect::<Vec<_>>().join(" or "),
                        e.text
                    ),
                )
            });
        }
    }
    // The critical value implied by a printed p-value and the CI.
    if let Some(ch) = implied_critical_value(c) {
        out.push(ch);
    }
    // Common-effect sample size implied by the CI width.
    if let Some(ch) = common_effect_n(c) {
        out.push(ch);
    }
    // I² against Q and k.
    if let (Some(i2), Some(q), Some(k)) = (c.i2(), c.q.as_ref(), c.k()) {
        let df = k as f64 - 1.0;
        let (ql, qh) = q.interval();
        let f = |q: f64| {
            if q.is_infinite() {
                100.0
            } else if q > 0.0 {
                (100.0 * (q - df) / q).max(0.0)
            } else {
                0.0
            }
        };
        let (il, ih) = (f(ql.max(0.0)), f(qh));
        let (pl, ph) = i2.interval();
        if ph >= il && pl <= ih {
            out.push(Check::pass("I2 consistent with Q and k", format!("(Q − df)/Q with Q = {}, df = {} gives {:.1}–{:.1}%, printed {}% (assumes the Q-based I², as meta, Stata and RevMan 5; metafor's I² equals it for DL only)", q.text(), k - 1, il, ih, i2.text())));
        } else {
            out.push(Check::flag("I2 consistent with Q and k", format!("(Q − df)/Q with Q = {}, df = {} gives {:.1}–{:.1}%, printed {}% (assumes the Q-based I²; a τ²-based I² from REML differs)", q.text(), k - 1, il, ih, i2.text())));
        }
    }
    // PI wider than the CI.
    if let Some(pi) = &c.pi {
        match (&pr.ci_lb, &pr.ci_ub, &pi.ci_lb, &pi.ci_ub) {
            (Some(l), Some(u), Some(pl), Some(pu)) => {
                let ok = pl.interval().0 <= l.interval().1 && pu.interval().1 >= u.interval().0;
                out.push(if ok {
                    Check::pass(
                        "PI at least as wide as CI",
                        format!("PI [{}, {}] contains CI [{}, {}]", pl.text, pu.text, l.text, u.text),
                    )
                } else {
                    Check::flag(
                        "PI at least as wide as CI",
                        format!(
                            "PI [{}, {}] does not contain CI [{}, {}]",
                            pl.text, pu.text, l.text, u.text
                        ),
                    )
                });
            }
            _ => out.push(Check::na(
                "PI at least as wide as CI",
                "needs both CI and both PI bounds".into(),
            )),
        }
    }
    // The printed numbers each check is about.
    for k in out.iter_mut().filter(|k| k.numbers.is_empty()) {
        k.numbers = match k.name.as_str() {
            "GRIM: x of n" => vec!["estimate"],
            "GRIM: percentage against n" => vec!["estimate", "n"],
            "implied critical value" => vec!["estimate", "ci_lb", "ci_ub", "p"],
            "CI width vs common-effect n" => vec!["ci_lb", "ci_ub", "n"],
            "I2 consistent with Q and k" => vec!["I2", "Q", "k"],
            "PI at least as wide as CI" => vec!["pi_lb", "pi_ub", "ci_lb", "ci_ub"],
            _ => vec![],
        };
    }
    out
}

/// The number of patients a common-effect inverse-variance pool would need for the printed CI
/// width, against the printed n.
fn common_effect_n(c: &Claim) -> Option<Check> {
    let pr = &c.printed;
    if !matches!(pr.unit, Unit::Percent | Unit::Proportion) {
        return None;
    }
    let name = "CI width vs common-effect n";
    let (Some(e), Some(l), Some(u)) = (&pr.estimate, &pr.ci_lb, &pr.ci_ub) else {
        return Some(Check::na(name, "needs an estimate and both CI bounds".into()));
    };
    let Some(n) = c.n() else {
        return Some(Check::na(name, "needs the number of patients n as printed".into()));
    };
    let z = z_of(pr.level);
    // On the symmetric scale that best fits (logit if symmetric there, else raw), the variance of a
    // common-effect pool of n patients with proportion p is approximately v(p)/n.
    if reversed(pr) {
        return Some(Check::na(name, "the CI bounds are reversed".into()));
    }
    let sc = scales(pr, c.k(), c.n());
    let scale = [Scale::Logit, Scale::Arcsine, Scale::Raw, Scale::Log]
        .into_iter()
        .find(|s| sc.iter().any(|x| x.scale == *s && x.symmetric))
        .unwrap_or(Scale::Raw);
    let var_unit = |p: f64| match scale {
        Scale::Raw => p * (1.0 - p),
        Scale::Logit => 1.0 / (p * (1.0 - p)),
        Scale::Arcsine => 0.25,
        Scale::Log => (1.0 - p) / p,
        _ => f64::NAN,
    };
    let corners = |f: &dyn Fn(f64, f64, f64) -> f64| {
        let (el, eh) = interval(e, pr.unit, scale);
        let (ll, lh) = interval(l, pr.unit, scale);
        let (ul, uh) = interval(u, pr.unit, scale);
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for ev in [el, eh] {
            for lv in [ll, lh] {
                for uv in [ul, uh] {
                    let v = f(ev, lv, uv);
                    if v.is_finite() {
                        lo = lo.min(v);
                        hi = hi.max(v);
                    }
                }
            }
        }
        (lo, hi)
    };
    let n_req = |ev: f64, lv: f64, uv: f64| {
        let se = (scale.g(uv) - scale.g(lv)) / (2.0 * z);
        var_unit(ev) / (se * se)
    };
    let (lo, hi) = corners(&n_req);
    if !lo.is_finite() {
        return Some(Check::na(name, "the CI width gives no finite n".into()));
    }
    let nf = n as f64;
    let detail = format!(
        "a common-effect (inverse-variance, z) pool on the {} scale would give this CI with n = {:.0} to {:.0} patients; printed n = {n}",
        scale.name(),
        lo,
        hi
    );
    Some(if nf >= lo * 0.9 && nf <= hi * 1.1 {
        Check::pass(
            name,
            format!("{detail}: consistent with a common-effect model (±10% for the approximation)"),
        )
    } else if nf > hi {
        Check::pass(
            name,
            format!("{detail}: the CI is {:.1}× wider than a common-effect pool of n gives: a random-effects model (or a t-based CI), not a common-effect one", (nf / hi).sqrt()),
        )
    } else {
        Check::flag(
            name,
            format!("{detail}: the CI is narrower than n patients allow: n or the CI may be misprinted"),
        )
    })
}

/// With a printed p-value: z = Φ⁻¹(1 − p/2) gives SE = |g(estimate) − g(null)| / z on the scale
/// where the CI is symmetric, and the CI half-width / SE is the critical value the CI used
/// (1.96 for z, larger for t). The null is 0 on the transformed scale (1 for ratios), as the
/// software tests it.
fn implied_critical_value(c: &Claim) -> Option<Check> {
    let pr = &c.printed;
    let p = c.p.as_ref()?;
    let name = "implied critical value";
    let (Some(e), Some(l), Some(u)) = (&pr.estimate, &pr.ci_lb, &pr.ci_ub) else {
        return Some(Check::na(
            name,
            "needs an estimate, both CI bounds and a p-value".into(),
        ));
    };
    if reversed(pr) {
        return Some(Check::na(name, "the CI bounds are reversed".into()));
    }
    let sc = scales(pr, c.k(), c.n());
    let scale = match pr.unit {
        Unit::Ratio => Scale::Log,
        Unit::Difference => Scale::Raw,
        Unit::Unknown => return Some(Check::na(name, "the unit is ambiguous (no \"%\" printed)".into())),
        _ => [Scale::Logit, Scale::Raw, Scale::Arcsine, Scale::Log]
            .into_iter()
            .find(|s| sc.iter().any(|x| x.scale == *s && x.symmetric))?,
    };
    let (pl, ph) = p.interval();
    let (pl, ph) = (pl.max(1e-300), ph.min(1.0));
    if pl >= ph || ph <= 0.0 {
        return Some(Check::na(name, format!("p = {} gives no usable interval", p.text())));
    }
    let z_hi = dist::qnorm(1.0 - pl / 2.0);
    let z_lo = dist::qnorm(1.0 - ph / 2.0);
    let g = |x: f64| scale.g(x);
    let ev = g(value(e, pr.unit)).abs();
    let half = (g(value(u, pr.unit)) - g(value(l, pr.unit))) / 2.0;
    if ev == 0.0 || !half.is_finite() {
        return Some(Check::na(name, "the estimate equals the null value".into()));
    }
    // crit = half / SE = half · z / |g(e)|.
    let (clo, chi) = (half * z_lo / ev, half * z_hi / ev);
    let z = z_of(pr.level);
    let mut consistent = Vec::new();
    if clo <= z * 1.02 && z * 0.98 <= chi {
        consistent.push(format!("z ({z:.3})"));
    }
    if let Some(k) = c.k() {
        if k > 1 {
            let t = dist::critical(pr.level / 100.0, Some(k as f64 - 1.0));
            if clo <= t * 1.02 && t * 0.98 <= chi {
                consistent.push(format!("t with k - 1 = {} df ({t:.3})", k - 1));
            }
        }
    }
    let detail = format!(
        "on the {} scale, p = {} and the CI imply a critical value of {:.2} to {:.2} (±2% for rounding of the CI; assumes a test against 0 on that scale)",
        scale.name(),
        p.text(),
        clo,
        chi
    );
    // A p-value that is the heterogeneity test's (a common slip: `p` next to `Q`).
    let q_hint = match (c.q.as_ref(), c.k()) {
        (Some(q), Some(k)) if k > 1 => {
            let (ql, qh) = q.interval();
            let df = (k - 1) as f64;
            let (a, b) = (dist::pchisq_upper(qh, df), dist::pchisq_upper(ql.max(0.0), df));
            let (pl, ph) = p.interval();
            (pl <= b && a <= ph).then(|| {
                format!(
                    "; p = {} is the heterogeneity test's p of Q = {} with {} df ({:.3} to {:.3}): if that is what it is, give it as `Q_p`",
                    p.text(),
                    q.text(),
                    k - 1,
                    a,
                    b
                )
            })
        }
        _ => None,
    };
    Some(if consistent.is_empty() {
        Check::flag(
            name,
            format!(
                "{detail}: neither z nor t(k - 1); the p-value and the CI come from different tests{}",
                q_hint.unwrap_or_default()
            ),
        )
    } else {
        Check::pass(name, format!("{detail}: consistent with {}", consistent.join(" or ")))
    })
}
