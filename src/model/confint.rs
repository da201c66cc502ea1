//! Q-profile confidence interval for τ² (Viechtbauer 2007), and the I² and H² intervals derived
//! from it, as metafor's `confint.rma.uni` computes them.
//!
//! The generalised Q statistic Q(τ²) = Σ wᵢ(τ²)(yᵢ − μ̂(τ²))² decreases in τ². The bounds solve
//! Q(τ²) = χ²_{k−p; 0.975} (lower) and Q(τ²) = χ²_{k−p; 0.025} (upper); a bound whose equation has
//! no root above 0 is 0. As in metafor, the search is limited to [0, max(100, 10 τ̂²)]; a bound
//! beyond it is reported as that limit with `ub_at_limit` set.

use serde::Serialize;

use super::tau2::q_gen;
use super::RmaFit;
use crate::dist;
use crate::dist::roots::brent;

/// CI of τ², I² (%) and H² at the fit's level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tau2Ci {
    pub tau2_lb: f64,
    pub tau2_ub: f64,
    pub i2_lb: f64,
    pub i2_ub: f64,
    pub h2_lb: f64,
    pub h2_ub: f64,
    /// The upper bound lies beyond the search limit max(100, 10 τ̂²) and is reported as the limit.
    pub ub_at_limit: bool,
}

pub fn q_profile(fit: &RmaFit) -> Option<Tau2Ci> {
    if fit.k <= fit.p
        || fit.options.method.is_common()
        || fit.options.method == super::Method::GLMM
        || fit.options.tau2_fixed.is_some()
    {
        return None;
    }
    let df = (fit.k - fit.p) as f64;
    let alpha = 1.0 - fit.options.level;
    let crit_u = dist::qchisq(1.0 - alpha / 2.0, df);
    let crit_l = dist::qchisq(alpha / 2.0, df);
    let tau2_min = 0.0_f64.min(fit.tau2);
    let tau2_max = 100.0_f64.max(10.0 * fit.tau2);
    let q = |t: f64| q_gen(&fit.x, &fit.yi, &fit.vi, t).unwrap_or(f64::NAN);
    let q_min = q(tau2_min);
    let q_max = q(tau2_max);
    // A bound whose root is not bracketed, or not found to machine precision, leaves the CI
    // missing (NA), as metafor reports a bound it cannot find.
    let solve = |target: f64| brent(|t| q(t) - target, tau2_min, tau2_max, 10_000).ok();
    let mut ub_at_limit = false;
    let tau2_ub = if q_min < crit_l {
        tau2_min
    } else if q_max > crit_l {
        ub_at_limit = true;
        tau2_max
    } else {
        solve(crit_l)?
    };
    let tau2_lb = if q_max > crit_u {
        tau2_max
    } else if q_min < crit_u {
        tau2_min
    } else {
        solve(crit_u)?
    };
    let vt = fit.vt;
    Some(Tau2Ci {
        tau2_lb,
        tau2_ub,
        i2_lb: 100.0 * tau2_lb / (vt + tau2_lb),
        i2_ub: 100.0 * tau2_ub / (vt + tau2_ub),
        h2_lb: tau2_lb / vt + 1.0,
        h2_ub: tau2_ub / vt + 1.0,
        ub_at_limit,
    })
}
