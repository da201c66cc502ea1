//! What published numbers imply on their own, without study data.
//!
//! Every check works on the rounding intervals of the printed numbers (interval arithmetic on
//! monotone functions, evaluated at the interval end points), so a check fails only when no
//! combination of values that round to the printed ones passes it. Each check says what it assumed.

use serde::Serialize;

use super::claims::Claim;
use super::printed::{PNum, Printed, Unit};
use crate::dist;

/// Result of one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub name: String,
    /// `pass`, `flag` or `not_applicable`.
    pub status: &'static str,
    pub detail: String,
}

impl Check {
    pub fn pass(name: &str, detail: String) -> Check {
        Check {
            name: name.into(),
            status: "pass",
            detail,
        }
    }
    pub fn flag(name: &str, detail: String) -> Check {
        Check {
            name: name.into(),
            status: "flag",
            detail,
        }
    }
    pub fn na(name: &str, detail: String) -> Check {
        Check {
            name: name.into(),
            status: "not_applicable",
            detail,
        }
    }
}

/// A scale on which a CI may have been computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    Raw,
    Log,
    Logit,
    Arcsine,
}

impl Scale {
    pub fn name(self) -> &'static str {
        match self {
            Scale::Raw => "raw",
            Scale::Log => "log",
            Scale::Logit => "logit",
            Scale::Arcsine => "arcsine",
        }
    }

    /// The transformation of a value on the proportion (or ratio) scale.
    pub fn g(self, x: f64) -> f64 {
        match self {
            Scale::Raw => x,
            Scale::Log => x.ln(),
            Scale::Logit => (x / (1.0 - x)).ln(),
            Scale::Arcsine => x.clamp(0.0, 1.0).sqrt().asin(),
        }
    }

    /// The scales that make sense for a unit.
    pub fn for_unit(unit: Unit) -> Vec<Scale> {
        match unit {
            Unit::Percent | Unit::Proportion => vec![Scale::Raw, Scale::Log, Scale::Logit, Scale::Arcsine],
            Unit::Ratio => vec![Scale::Raw, Scale::Log],
            Unit::Difference => vec![Scale::Raw],
        }
    }
}

/// The implied SE of an estimate on one scale, and whether its CI is symmetric there.
#[derive(Debug, Clone, Serialize)]
pub struct ScaleImplication {
    pub scale: Scale,
    /// (g(ub) − g(lb)) / (2 z) at the printed values.
    pub se: f64,
    /// Some value of each rounding interval makes the CI symmetric on this scale.
    pub symmetric: bool,
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

/// SE and symmetry on every scale that suits the unit (needs an estimate and both bounds).
pub fn scales(pr: &Printed) -> Vec<ScaleImplication> {
    let (Some(e), Some(l), Some(u)) = (&pr.estimate, &pr.ci_lb, &pr.ci_ub) else {
        return Vec::new();
    };
    let z = z_of(pr.level);
    Scale::for_unit(pr.unit)
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
                se,
                symmetric: dmin <= 0.0 && 0.0 <= dmax,
            })
        })
        .collect()
}

/// The checks that need only one claim's printed numbers.
pub fn claim_checks(c: &Claim) -> Vec<Check> {
    let pr = &c.printed;
    let mut out = Vec::new();
    // Estimate inside its CI.
    match (&pr.estimate, &pr.ci_lb, &pr.ci_ub) {
        (Some(e), Some(l), Some(u)) => {
            let (el, eh) = e.interval();
            let ok = eh >= l.interval().0 && el <= u.interval().1 && l.interval().0 <= u.interval().1;
            out.push(if ok {
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
            });
        }
        _ => out.push(Check::na(
            "estimate inside CI",
            "needs an estimate and both CI bounds".into(),
        )),
    }
    // Which scales make the CI symmetric.
    let sc = scales(pr);
    if sc.is_empty() {
        out.push(Check::na(
            "CI symmetric on some scale",
            "needs an estimate and both CI bounds".into(),
        ));
    } else {
        let sym: Vec<&str> = sc.iter().filter(|s| s.symmetric).map(|s| s.scale.name()).collect();
        if sym.is_empty() {
            out.push(Check::flag(
                "CI symmetric on some scale",
                format!(
                    "the CI is symmetric on none of {} within rounding: computed on another scale (e.g. Freeman-Tukey, exact, GLMM), truncated, or misprinted",
                    sc.iter().map(|s| s.scale.name()).collect::<Vec<_>>().join(", ")
                ),
            ));
        } else {
            out.push(Check::pass(
                "CI symmetric on some scale",
                format!(
                    "symmetric within rounding on: {} (assumes a Wald-type CI, estimate ± z·SE on that scale)",
                    sym.join(", ")
                ),
            ));
        }
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
        let f = |q: f64| if q > 0.0 { (100.0 * (q - df) / q).max(0.0) } else { 0.0 };
        let (il, ih) = (f(ql.max(0.0)), f(qh));
        let (pl, ph) = i2.interval();
        if ph >= il && pl <= ih {
            out.push(Check::pass("I2 consistent with Q and k", format!("(Q − df)/Q with Q = {}, df = {} gives {:.1}–{:.1}%, printed {}% (assumes the Q-based I², as meta, Stata and RevMan 5; metafor's I² equals it for DL only)", q.text, k - 1, il, ih, i2.text)));
        } else {
            out.push(Check::flag("I2 consistent with Q and k", format!("(Q − df)/Q with Q = {}, df = {} gives {:.1}–{:.1}%, printed {}% (assumes the Q-based I²; a τ²-based I² from REML differs)", q.text, k - 1, il, ih, i2.text)));
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
    let sc = scales(pr);
    let scale = [Scale::Logit, Scale::Arcsine, Scale::Raw, Scale::Log]
        .into_iter()
        .find(|s| sc.iter().any(|x| x.scale == *s && x.symmetric))
        .unwrap_or(Scale::Raw);
    let var_unit = |p: f64| match scale {
        Scale::Raw => p * (1.0 - p),
        Scale::Logit => 1.0 / (p * (1.0 - p)),
        Scale::Arcsine => 0.25,
        Scale::Log => (1.0 - p) / p,
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
    let sc = scales(pr);
    let scale = match pr.unit {
        Unit::Ratio => Scale::Log,
        Unit::Difference => Scale::Raw,
        _ => [Scale::Logit, Scale::Raw, Scale::Arcsine, Scale::Log]
            .into_iter()
            .find(|s| sc.iter().any(|x| x.scale == *s && x.symmetric))?,
    };
    let (pl, ph) = p.interval();
    let (pl, ph) = (pl.max(1e-300), ph.min(1.0));
    if pl >= ph || ph <= 0.0 {
        return Some(Check::na(name, format!("p = {} gives no usable interval", p.text)));
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
        p.text,
        clo,
        chi
    );
    Some(if consistent.is_empty() {
        Check::flag(
            name,
            format!("{detail}: neither z nor t(k - 1); the p-value and the CI come from different tests"),
        )
    } else {
        Check::pass(name, format!("{detail}: consistent with {}", consistent.join(" or ")))
    })
}
