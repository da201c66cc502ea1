//! The random-intercept logistic model for proportions (a GLMM), fitted by maximum likelihood with
//! adaptive Gauss–Hermite quadrature: what metafor's `rma.glmm(measure = "PLO")` fits with
//! `lme4::glmer(cbind(x, n - x) ~ X - 1 + (1 | study), family = binomial, nAGQ = 7)`; and, on the
//! same machinery, the model for 2×2 tables with the odds ratio, metafor's
//! `rma.glmm(measure = "OR", model = "UM.FS")` ([`glmm_or`]).
//!
//! # The odds-ratio model (UM.FS)
//!
//! Study i contributes two binomial observations, aᵢ of n₁ᵢ (group 1) and cᵢ of n₂ᵢ (group 2),
//! logit p₁ᵢ = αᵢ + xᵢ'β + ½θuᵢ and logit p₂ᵢ = αᵢ − ½θuᵢ, uᵢ ~ N(0, 1): fixed study intercepts
//! αᵢ, the log odds ratio xᵢ'β, and a random treatment effect θuᵢ with τ² = θ² (metafor's
//! `glmer(cbind(x, n - x) ~ -1 + X.fit + study + (group12 - 1 | study))`, `X.fit` = group1 · X,
//! `group12` = ±½). Each study's integral is still one-dimensional: the mode, the scale
//! s = (θ² Σⱼ zⱼ² nⱼμ̂ⱼ(1 − μ̂ⱼ) + 1)^(−1/2) (zⱼ = ±½) and the rule are those below with the
//! sums over the study's observations; the optimiser and the SEs run over (β, α, θ), and the
//! SE of β is from the inverse Hessian over all k + p + 1 parameters, as lme4's. Tables with no
//! events or only events in both groups are left out (metafor's `drop00 = TRUE`). The Wald and
//! LR tests are against the saturated model (one log odds ratio per study, `study:group1`),
//! df = k − p; I² and H² from the escalc log odds ratios (`add = 1/2, to = "only0"`,
//! `drop00 = TRUE`).
//!
//! # Model and likelihood
//!
//! Study i has xᵢ events of nᵢ, xᵢ ~ Binomial(nᵢ, logit⁻¹(xᵢ'β + θuᵢ)) with uᵢ ~ N(0, 1)
//! (lme4's spherical random effects); τ² = θ². The deviance is lme4's:
//! D(β, θ) = Σᵢ −2 log ∫ exp(−½[dᵢ(xᵢ'β + θu) + u²]) du / √(2π), where dᵢ(η) is the binomial
//! deviance residual of study i (relative to the saturated fit). Each integral is computed by
//! adaptive Gauss–Hermite quadrature: the integrand's mode ûᵢ is found by safeguarded Newton
//! (the log-integrand is strictly concave), its curvature gives the scale
//! sᵢ = (θ² nᵢ μ̂ᵢ(1 − μ̂ᵢ) + 1)^(−1/2), and the n-point rule for the standard normal is centred at
//! ûᵢ and scaled by sᵢ — the formula of lme4's `glmerAGQ` (n = 1 is the Laplace approximation).
//! With nAGQ = 1 lme4 adds the binomial log-likelihood constant; [`GlmmDetails::deviance`] does the
//! same, so it equals `-2 * logLik()` of the lme4 fit for every nAGQ.
//!
//! # Optimiser
//!
//! D is even in θ, so it is minimised over (β, θ) ∈ ℝᵖ⁺¹ without bounds and τ = |θ|. The start
//! is the best point of a profile scan over θ (β minimised for each θ on a grid), followed by
//! Newton's method on (β, θ) with a backtracking line search and a Levenberg shift when the
//! Hessian is not positive definite. The gradient is analytic (the derivatives of the mode and
//! scale of each study's quadrature follow from the implicit-function theorem), the Hessian is
//! the central difference of the analytic gradient; iterations stop when the Newton step is
//! below 1e-10. The result is the optimum of the same likelihood lme4 maximises, to about 1e-9;
//! lme4's default Nelder–Mead stops earlier (about 1e-5 relative in τ²).
//!
//! # Standard errors
//!
//! As lme4's `vcov(use.hessian = TRUE)`, which metafor reports: the β block of the inverse of
//! half the Hessian of D with respect to (θ, β) — the observed information with θ profiled
//! out. (lme4 takes a finite-difference Hessian with step 1e-4 at its own optimum.)
//!
//! # Heterogeneity
//!
//! As metafor: the Wald and likelihood-ratio tests of the saturated model (one logit per study)
//! against the model without random effects, with `glm`'s iterations reproduced for studies with
//! 0 or n events (whose saturated logit diverges); I² and H² from τ² and the "typical"
//! within-study variance of the escalc logits (`add = 1/2, to = "only0"` by default).

use ndarray::Array2;

use super::linalg::{invert_spd, wls};
use super::subgroup::{levels, q_between, study_rows, summarize, PoolOptions, PoolResult, Pooled, StudyRow};
use super::{tau2, Coefficient, RmaFit, RmaOptions, Test};
use crate::data::{Studies, StudyInput};
use crate::dist;
use crate::effect::comparative::{escalc_inputs, EscalcOptions};
use crate::effect::{escalc, AddTo, Correction, EffectSizes, Measure};
use crate::error::{Error, Result};

/// metafor's and lme4's default number of quadrature points (`rma.glmm(nAGQ = 7)`).
pub const DEFAULT_NAGQ: usize = 7;
/// lme4 accepts 1 to 25 points.
pub const MAX_NAGQ: usize = 25;

/// Options of a GLMM fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlmmOptions {
    /// Number of adaptive Gauss–Hermite points (1 = Laplace).
    pub n_agq: usize,
    /// `z` or `t` (metafor's rma.glmm has no Knapp–Hartung).
    pub test: Test,
    pub level: f64,
    /// Correction of the escalc logits used only for I² and H² (metafor's `add`, `to`).
    pub correction: Correction,
}

impl Default for GlmmOptions {
    fn default() -> Self {
        GlmmOptions {
            n_agq: DEFAULT_NAGQ,
            test: Test::Z,
            level: 0.95,
            correction: Correction::default(),
        }
    }
}

/// Which GLMM was fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlmmModel {
    /// Random-intercept logistic model for single proportions (`rma.glmm(measure = "PLO")`).
    Proportion,
    /// Logistic model with fixed study effects and a random treatment effect for 2×2 tables
    /// (`rma.glmm(measure = "OR", model = "UM.FS")`).
    OddsRatio,
}

/// What a GLMM fit has beyond the [`RmaFit`] every model returns (its `glmm` field): the
/// likelihood, the likelihood-ratio test for heterogeneity and the conditional modes. In the
/// `RmaFit` of a GLMM, `q`/`q_p`/`q_df` are metafor's Wald test QE.Wld (df = k − p), `i2`, `h2`,
/// `vt` come from the escalc effect sizes (`yi`, `vi`), `vb` is lme4's Hessian-based `vcov`,
/// `iterations`/`converged` are those of the joint Newton stage (a relative step ≤ 1e-10, or a
/// Newton decrement below 1e-10 in deviance where the line search can no longer lower it), and
/// `weights` are NaN (metafor gives none for rma.glmm).
#[derive(Debug, Clone, PartialEq)]
pub struct GlmmDetails {
    pub model: GlmmModel,
    /// Adaptive Gauss–Hermite points (1: Laplace).
    pub n_agq: usize,
    /// The correction of the escalc effect sizes (used for I² and the study rows only).
    pub correction: Correction,
    /// θ = τ ≥ 0.
    pub theta: f64,
    /// −2 log-likelihood as lme4's `-2 * logLik()` (relative to the saturated binomial model for
    /// nAGQ > 1, absolute for nAGQ = 1, as lme4).
    pub deviance: f64,
    /// The deviance relative to the saturated model (the objective minimised).
    pub deviance_rel: f64,
    /// metafor's `fit.stats["ll", "ML"]`: the saturated log-likelihood minus half the
    /// conditional deviance at the conditional modes (what metafor 3.8 computes from lme4).
    pub loglik_metafor: f64,
    /// metafor's likelihood-ratio test for heterogeneity (QE.LRT, df = k − p) and its p-value.
    pub qe_lrt: f64,
    pub qe_lrt_p: f64,
    /// Conditional modes ûᵢ (spherical scale) at the optimum; the study effects are θûᵢ.
    pub modes: Vec<f64>,
    /// OR: positions (in the input) of the tables left out of the fit because they have no
    /// events or only events in both groups (metafor's `drop00 = TRUE`); empty for PLO.
    pub dropped: Vec<usize>,
}

/// The n-point Gauss–Hermite rule for the standard normal density (lme4's `GHrule(n)`): nodes
/// (ascending) and weights summing to 1.
pub fn gauss_hermite(n: usize) -> (Vec<f64>, Vec<f64>) {
    // Roots of the probabilists' Hermite polynomial He_n, found by interlacing: each root of
    // He_n lies between consecutive roots of He_{n-1} (and the outer bounds ±√(4n+2) + 1).
    let he = |m: usize, x: f64| -> (f64, f64) {
        // (He_m(x), He_{m-1}(x))
        let (mut p0, mut p1) = (1.0, x);
        if m == 0 {
            return (1.0, 0.0);
        }
        for j in 1..m {
            let p2 = x * p1 - j as f64 * p0;
            p0 = p1;
            p1 = p2;
        }
        (p1, p0)
    };
    let mut roots: Vec<f64> = Vec::new();
    for m in 1..=n.max(1) {
        let bound = (4.0 * m as f64 + 2.0).sqrt() + 1.0;
        let mut edges = vec![-bound];
        edges.extend(roots.iter().copied());
        edges.push(bound);
        let mut next = Vec::with_capacity(m);
        for w in edges.windows(2) {
            let f = |x: f64| he(m, x).0;
            // Interlacing brackets every root; a failed solve gives NaN nodes, and so a likelihood
            // that cannot be evaluated (an error), never a node at a guessed place.
            let r = crate::dist::roots::brent(f, w[0], w[1], 500).unwrap_or(f64::NAN);
            next.push(r);
        }
        roots = next;
    }
    // Symmetrise (the rule is symmetric; the middle node of an odd rule is 0).
    let nn = roots.len();
    for i in 0..nn / 2 {
        let a = 0.5 * (roots[nn - 1 - i] - roots[i]);
        roots[i] = -a;
        roots[nn - 1 - i] = a;
    }
    if nn % 2 == 1 {
        roots[nn / 2] = 0.0;
    }
    let mut log_fact = 0.0;
    for j in 2..=nn {
        log_fact += (j as f64).ln();
    }
    let weights: Vec<f64> = roots
        .iter()
        .map(|&x| {
            let h = he(nn - 1, x).0;
            (log_fact - 2.0 * (nn as f64).ln() - 2.0 * h.abs().ln()).exp()
        })
        .collect();
    let s: f64 = weights.iter().sum();
    (roots, weights.iter().map(|w| w / s).collect())
}

/// ln(1 + eᵗ) without overflow.
fn softplus(t: f64) -> f64 {
    if t > 0.0 {
        t + (-t).exp().ln_1p()
    } else {
        t.exp().ln_1p()
    }
}

/// (μ, 1 − μ) for the logit η, each computed without cancellation.
fn mu_pair(eta: f64) -> (f64, f64) {
    if eta >= 0.0 {
        let e = (-eta).exp();
        (1.0 / (1.0 + e), e / (1.0 + e))
    } else {
        let e = eta.exp();
        (e / (1.0 + e), 1.0 / (1.0 + e))
    }
}

/// One study's counts.
#[derive(Debug, Clone, Copy)]
struct Counts {
    x: f64,
    n: f64,
    /// x ln(x/n) + (n − x) ln((n − x)/n): the saturated log-likelihood without the binomial
    /// coefficient.
    sat: f64,
}

impl Counts {
    fn new(x: f64, n: f64) -> Counts {
        let mut sat = 0.0;
        if x > 0.0 {
            sat += x * (x / n).ln();
        }
        if n - x > 0.0 {
            sat += (n - x) * ((n - x) / n).ln();
        }
        Counts { x, n, sat }
    }

    /// Binomial deviance residual d(η) = 2[ℓ_sat − ℓ(η)] ≥ 0.
    fn dev_resid(&self, eta: f64) -> f64 {
        // ℓ(η) = x ln μ + (n − x) ln(1 − μ), ln μ = −softplus(−η), ln(1 − μ) = −softplus(η).
        let mut l = 0.0;
        if self.x > 0.0 {
            l -= self.x * softplus(-eta);
        }
        if self.n - self.x > 0.0 {
            l -= (self.n - self.x) * softplus(eta);
        }
        (2.0 * (self.sat - l)).max(0.0)
    }

    /// ln of the binomial coefficient C(n, x).
    fn log_choose(&self) -> f64 {
        libm::lgamma(self.n + 1.0) - libm::lgamma(self.x + 1.0) - libm::lgamma(self.n - self.x + 1.0)
    }

    /// log dbinom(x; n, logit⁻¹(η)).
    fn loglik(&self, eta: f64) -> f64 {
        let mut l = self.log_choose();
        if self.x > 0.0 {
            l -= self.x * softplus(-eta);
        }
        if self.n - self.x > 0.0 {
            l -= (self.n - self.x) * softplus(eta);
        }
        l
    }
}

/// The quadrature rule in use.
struct Rule {
    z: Vec<f64>,
    /// ln of the weights plus z²/2 (the normal density is divided out).
    lw: Vec<f64>,
}

impl Rule {
    fn new(n: usize) -> Rule {
        let (z, w) = gauss_hermite(n);
        let lw = z.iter().zip(&w).map(|(z, w)| w.ln() + 0.5 * z * z).collect();
        Rule { z, lw }
    }
}

/// The conditional mode û of one study at linear predictors `e` (one per observation, without
/// the random effect) and θ, the random effect entering observation j as θ zⱼ u: the root of
/// F(u) = θ Σⱼ zⱼ(xⱼ − nⱼμⱼ(eⱼ + θzⱼu)) − u (F is strictly decreasing), by Newton safeguarded
/// with bisection.
fn mode(obs: &[Counts], z: &[f64], e: &[f64], theta: f64) -> f64 {
    if theta == 0.0 {
        return 0.0;
    }
    // Each zⱼ(xⱼ − nⱼμⱼ) lies between zⱼxⱼ and zⱼ(xⱼ − nⱼ).
    let (mut slo, mut shi) = (0.0, 0.0);
    for (c, &zj) in obs.iter().zip(z) {
        let (a, b) = (zj * c.x, zj * (c.x - c.n));
        slo += a.min(b);
        shi += a.max(b);
    }
    let (a, b) = (theta * slo, theta * shi);
    let (mut lo, mut hi) = (a.min(b), a.max(b));
    // score S(u) = Σ zⱼ(xⱼ − nⱼμⱼ) and W(u) = Σ zⱼ² nⱼμⱼ(1 − μⱼ)
    let sw = |u: f64| {
        let (mut s, mut w) = (0.0, 0.0);
        for ((c, &zj), &ej) in obs.iter().zip(z).zip(e) {
            let (mu, q) = mu_pair(ej + theta * zj * u);
            s += zj * (c.x - c.n * mu);
            w += zj * zj * c.n * mu * q;
        }
        (s, w)
    };
    // Start from the normal approximation: u ≈ θS(0)/(θ²W(0) + 1).
    let (s0, w0) = sw(0.0);
    let mut u = theta * s0 / (theta * theta * w0 + 1.0);
    if !(u > lo && u < hi) {
        u = 0.5 * (lo + hi);
    }
    for _ in 0..200 {
        let (s, w) = sw(u);
        let gu = theta * s - u;
        if gu == 0.0 {
            return u;
        }
        if gu > 0.0 {
            lo = lo.max(u);
        } else {
            hi = hi.min(u);
        }
        let d = theta * theta * w + 1.0;
        let mut next = u + gu / d;
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        let step = (next - u).abs();
        u = next;
        if step <= 4.0 * f64::EPSILON * (1.0 + u.abs()) || hi - lo <= 4.0 * f64::EPSILON * (1.0 + u.abs()) {
            break;
        }
    }
    u
}

/// One study's AGQ deviance contribution and its derivatives with respect to the linear
/// predictors eⱼ of its observations and θ.
struct StudyTerm {
    dev: f64,
    d_e: Vec<f64>,
    d_theta: f64,
}

/// The AGQ deviance of one study: observations `obs` with linear predictors `e` and
/// random-effect coefficients `z` (1 for a proportion; +½, −½ for the two arms of a 2×2 table),
/// one random effect u ~ N(0, 1) entering observation j as θzⱼu. The scale of the rule is
/// s = (θ² Σⱼ zⱼ² nⱼμ̂ⱼ(1 − μ̂ⱼ) + 1)^(−1/2) at the mode (lme4's diagonal Cholesky factor).
fn study_term(obs: &[Counts], z: &[f64], e: &[f64], theta: f64, rule: &Rule, grad: bool) -> StudyTerm {
    let m = obs.len();
    let u0 = mode(obs, z, e, theta);
    let mut w0 = vec![0.0; m];
    let mut w0p = vec![0.0; m];
    let mut s0 = 0.0;
    let mut wsum = 0.0;
    for j in 0..m {
        let (mu, q) = mu_pair(e[j] + theta * z[j] * u0);
        w0[j] = obs[j].n * mu * q;
        w0p[j] = w0[j] * (q - mu); // d(nμ(1−μ))/dη
        s0 += z[j] * (obs[j].x - obs[j].n * mu);
        wsum += z[j] * z[j] * w0[j];
    }
    let s2 = 1.0 / (theta * theta * wsum + 1.0);
    let sd = s2.sqrt();
    let nz = rule.z.len();
    let mut lo = vec![0.0; nz];
    let mut a = vec![0.0; nz];
    for k in 0..nz {
        a[k] = u0 + sd * rule.z[k];
        let mut dsum = 0.0;
        for j in 0..m {
            dsum += obs[j].dev_resid(e[j] + theta * z[j] * a[k]);
        }
        let h = -0.5 * (dsum + a[k] * a[k]);
        lo[k] = rule.lw[k] + sd.ln() + h;
    }
    let mx = lo.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = lo.iter().map(|l| (l - mx).exp()).sum();
    let dev = -2.0 * (mx + sum.ln());
    if !grad {
        return StudyTerm {
            dev,
            d_e: Vec::new(),
            d_theta: 0.0,
        };
    }
    // Derivatives of the mode and scale (implicit function theorem on F(u) = 0).
    let z3w: f64 = (0..m).map(|j| z[j] * z[j] * z[j] * w0p[j]).sum();
    let du_de: Vec<f64> = (0..m).map(|j| s2 * (-theta * z[j] * w0[j])).collect();
    let du_dt = s2 * (s0 - theta * wsum * u0);
    let t2 = theta * theta;
    let dq_de: Vec<f64> = (0..m)
        .map(|l| t2 * (z[l] * z[l] * w0p[l] + theta * du_de[l] * z3w))
        .collect();
    let dq_dt = 2.0 * theta * wsum + t2 * (u0 + theta * du_dt) * z3w;
    let dlsd_de: Vec<f64> = dq_de.iter().map(|d| -0.5 * s2 * d).collect();
    let dlsd_dt = -0.5 * s2 * dq_dt;
    let mut g_e = vec![0.0; m];
    let mut g_t = 0.0;
    let mut sjk = vec![0.0; m];
    for k in 0..nz {
        let pk = (lo[k] - mx).exp() / sum;
        let mut szk = 0.0;
        for j in 0..m {
            let (mu, _) = mu_pair(e[j] + theta * z[j] * a[k]);
            sjk[j] = obs[j].x - obs[j].n * mu;
            szk += z[j] * sjk[j];
        }
        for l in 0..m {
            let da = du_de[l] + rule.z[k] * sd * dlsd_de[l];
            let dh = sjk[l] + da * (theta * szk - a[k]);
            g_e[l] += pk * (dlsd_de[l] + dh);
        }
        let da_dt = du_dt + rule.z[k] * sd * dlsd_dt;
        let dh_dt = (a[k] + theta * da_dt) * szk - a[k] * da_dt;
        g_t += pk * (dlsd_dt + dh_dt);
    }
    StudyTerm {
        dev,
        d_e: g_e.iter().map(|g| -2.0 * g).collect(),
        d_theta: -2.0 * g_t,
    }
}

/// The data and rule of one fit; evaluates D, its gradient and Hessian in (β, θ). Observations
/// (binomial counts) are grouped by study (`studies`: contiguous ranges), each study sharing one
/// random effect; `x` has one row per observation.
struct Problem<'a> {
    obs: Vec<Counts>,
    /// Coefficient of the study's random effect in each observation's linear predictor.
    zr: Vec<f64>,
    x: &'a Array2<f64>,
    /// The non-zero entries of each row of `x`: (column, value).
    nz: Vec<Vec<(usize, f64)>>,
    studies: Vec<std::ops::Range<usize>>,
    rule: Rule,
}

impl<'a> Problem<'a> {
    fn new(
        obs: Vec<Counts>,
        zr: Vec<f64>,
        x: &'a Array2<f64>,
        studies: Vec<std::ops::Range<usize>>,
        n_agq: usize,
    ) -> Problem<'a> {
        let nz = (0..x.nrows())
            .map(|i| {
                (0..x.ncols())
                    .filter(|&j| x[[i, j]] != 0.0)
                    .map(|j| (j, x[[i, j]]))
                    .collect()
            })
            .collect();
        Problem {
            obs,
            zr,
            x,
            nz,
            studies,
            rule: Rule::new(n_agq),
        }
    }

    /// One observation per study with random-effect coefficient 1 (the model for proportions).
    fn single(counts: Vec<Counts>, x: &'a Array2<f64>, n_agq: usize) -> Problem<'a> {
        let k = counts.len();
        Problem::new(counts, vec![1.0; k], x, (0..k).map(|i| i..i + 1).collect(), n_agq)
    }

    fn p(&self) -> usize {
        self.x.ncols()
    }

    fn lin(&self, beta: &[f64]) -> Vec<f64> {
        self.nz
            .iter()
            .map(|row| row.iter().map(|&(j, v)| v * beta[j]).sum())
            .collect()
    }

    fn term(&self, s: usize, e: &[f64], theta: f64, grad: bool) -> StudyTerm {
        let r = self.studies[s].clone();
        study_term(
            &self.obs[r.clone()],
            &self.zr[r.clone()],
            &e[r],
            theta,
            &self.rule,
            grad,
        )
    }

    /// D at (β, θ).
    fn dev(&self, beta: &[f64], theta: f64) -> f64 {
        let e = self.lin(beta);
        (0..self.studies.len())
            .map(|s| self.term(s, &e, theta, false).dev)
            .sum()
    }

    /// D and its gradient in (β₁ … β_p, θ).
    fn dev_grad(&self, beta: &[f64], theta: f64) -> (f64, Vec<f64>) {
        let p = self.p();
        let e = self.lin(beta);
        let mut g = vec![0.0; p + 1];
        let mut d = 0.0;
        for s in 0..self.studies.len() {
            let t = self.term(s, &e, theta, true);
            d += t.dev;
            for (l, i) in self.studies[s].clone().enumerate() {
                for &(j, v) in &self.nz[i] {
                    g[j] += t.d_e[l] * v;
                }
            }
            g[p] += t.d_theta;
        }
        (d, g)
    }

    /// Hessian of D in (β, θ): per study, central differences of the analytic derivatives in
    /// (e, θ), assembled through the design matrix.
    fn hessian(&self, beta: &[f64], theta: f64, with_theta: bool) -> Vec<Vec<f64>> {
        let p = self.p();
        let mut e = self.lin(beta);
        let dim = p + 1;
        let mut h = vec![vec![0.0; dim]; dim];
        let ht = 1e-4 * (1.0 + theta.abs());
        for s in 0..self.studies.len() {
            let r = self.studies[s].clone();
            let m = r.len();
            // dee[l][j] = ∂²D/∂e_l∂e_j, dte[l] = ∂²D/∂e_l∂θ (two estimates averaged).
            let mut dee = vec![vec![0.0; m]; m];
            let mut dte_a = vec![0.0; m];
            for (j, i) in r.clone().enumerate() {
                let e0 = e[i];
                let he = 1e-4 * (1.0 + e0.abs());
                e[i] = e0 + he;
                let tp = self.term(s, &e, theta, true);
                e[i] = e0 - he;
                let tm = self.term(s, &e, theta, true);
                e[i] = e0;
                for l in 0..m {
                    dee[l][j] = (tp.d_e[l] - tm.d_e[l]) / (2.0 * he);
                }
                dte_a[j] = (tp.d_theta - tm.d_theta) / (2.0 * he);
            }
            let (dtt, det_b) = if with_theta {
                let sp = self.term(s, &e, theta + ht, true);
                let sm = self.term(s, &e, theta - ht, true);
                let b: Vec<f64> = (0..m).map(|l| (sp.d_e[l] - sm.d_e[l]) / (2.0 * ht)).collect();
                ((sp.d_theta - sm.d_theta) / (2.0 * ht), b)
            } else {
                (0.0, dte_a.clone())
            };
            for (l, il) in r.clone().enumerate() {
                let det = 0.5 * (dte_a[l] + det_b[l]);
                for &(a, xa) in &self.nz[il] {
                    for (j, ij) in r.clone().enumerate() {
                        let hlj = 0.5 * (dee[l][j] + dee[j][l]);
                        for &(b, xb) in &self.nz[ij] {
                            h[a][b] += hlj * xa * xb;
                        }
                    }
                    h[a][p] += det * xa;
                    h[p][a] += det * xa;
                }
            }
            h[p][p] += dtt;
        }
        h
    }

    /// β minimising D for fixed θ (Newton with line search), from `start`.
    fn fit_beta(&self, start: &[f64], theta: f64) -> Result<(Vec<f64>, f64)> {
        let p = self.p();
        let mut beta = start.to_vec();
        let (mut d, mut g) = self.dev_grad(&beta, theta);
        for _ in 0..200 {
            let h = self.hessian(&beta, theta, false);
            let hb: Vec<Vec<f64>> = (0..p).map(|a| h[a][..p].to_vec()).collect();
            let step = newton_step(&hb, &g[..p]);
            let (nb, nd, ok) = line_search(|b: &[f64]| self.dev(b, theta), &beta, &step, d);
            if !ok {
                break;
            }
            let moved = step_size(&beta, &nb);
            beta = nb;
            d = nd;
            g = self.dev_grad(&beta, theta).1;
            if moved <= 1e-12 {
                break;
            }
        }
        if !d.is_finite() || beta.iter().any(|b| !b.is_finite()) {
            return Err(Error::Computation(
                "GLMM: the fixed effects could not be estimated (the logits diverge: do all studies, or all studies of a moderator level, have 0 events or only events?)".into(),
            ));
        }
        Ok((beta, d))
    }
}

/// Largest relative change between two parameter vectors.
fn step_size(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / (1.0 + x.abs()))
        .fold(0.0, f64::max)
}

/// Solve H s = −g, shifting H by λI until it is positive definite (Levenberg).
fn newton_step(h: &[Vec<f64>], g: &[f64]) -> Vec<f64> {
    let n = g.len();
    let scale = (0..n).map(|i| h[i][i].abs()).fold(1e-8, f64::max);
    let mut lambda = 0.0;
    for _ in 0..60 {
        let mut m = h.to_vec();
        for i in 0..n {
            m[i][i] += lambda;
        }
        if let Ok(inv) = invert_spd(&m) {
            return (0..n).map(|i| -(0..n).map(|j| inv[i][j] * g[j]).sum::<f64>()).collect();
        }
        lambda = if lambda == 0.0 { 1e-6 * scale } else { lambda * 10.0 };
    }
    // Steepest descent as a last resort.
    g.iter().map(|v| -v / scale).collect()
}

/// Backtracking line search along `step`: the first of 1, ½, ¼, … that does not increase `f`.
fn line_search(f: impl Fn(&[f64]) -> f64, x: &[f64], step: &[f64], fx: f64) -> (Vec<f64>, f64, bool) {
    let mut t = 1.0;
    for _ in 0..60 {
        let cand: Vec<f64> = x.iter().zip(step).map(|(a, s)| a + t * s).collect();
        let fc = f(&cand);
        if fc.is_finite() && fc <= fx {
            return (cand, fc, true);
        }
        t *= 0.5;
    }
    (x.to_vec(), fx, false)
}

/// The saturated model as R's `glm` fits it, one logit per study: returns the final logits, the
/// IRLS weights of the last iteration (those of the reported covariance matrix) and the
/// log-likelihood. Studies with 0 or n events never converge; their logits are where glm stops.
fn saturated_glm(counts: &[Counts]) -> (Vec<f64>, Vec<f64>, f64) {
    const EPS: f64 = 1e-8; // glm.control(epsilon)
    const MAXIT: usize = 25;
    let thresh = 30.0;
    let linkinv = |eta: f64| {
        let m = mu_pair(eta).0;
        m.clamp(f64::EPSILON, 1.0 - f64::EPSILON)
    };
    let mu_eta = |eta: f64| {
        if !(-thresh..=thresh).contains(&eta) {
            f64::EPSILON
        } else {
            let (m, q) = mu_pair(eta);
            m * q
        }
    };
    let dev_of = |mu: &[f64]| -> f64 {
        counts
            .iter()
            .zip(mu)
            .map(|(c, &m)| {
                let y = c.x / c.n;
                let a = if y > 0.0 { y * (y / m).ln() } else { 0.0 };
                let b = if y < 1.0 {
                    (1.0 - y) * ((1.0 - y) / (1.0 - m)).ln()
                } else {
                    0.0
                };
                2.0 * c.n * (a + b)
            })
            .sum()
    };
    let mut mu: Vec<f64> = counts.iter().map(|c| (c.x + 0.5) / (c.n + 1.0)).collect();
    let mut eta: Vec<f64> = mu.iter().map(|m| (m / (1.0 - m)).ln()).collect();
    let mut devold = dev_of(&mu);
    let mut w = vec![0.0; counts.len()];
    for _ in 0..MAXIT {
        for (i, c) in counts.iter().enumerate() {
            let me = mu_eta(eta[i]);
            let y = c.x / c.n;
            let var = mu[i] * (1.0 - mu[i]);
            w[i] = c.n * me * me / var;
            // The saturated fit reproduces the working response exactly.
            eta[i] += (y - mu[i]) / me;
            mu[i] = linkinv(eta[i]);
        }
        let dev = dev_of(&mu);
        if (dev - devold).abs() / (dev.abs() + 0.1) < EPS {
            break;
        }
        devold = dev;
    }
    let ll = counts
        .iter()
        .zip(&mu)
        .map(|(c, &m)| {
            let mut l = c.log_choose();
            if c.x > 0.0 {
                l += c.x * m.ln();
            }
            if c.n - c.x > 0.0 {
                l += (c.n - c.x) * (1.0 - m).ln();
            }
            l
        })
        .sum();
    (eta, w, ll)
}

/// What the optimiser of [`Problem`] finds, with the parts of the heterogeneity tests and the
/// log-likelihoods that come from the counts.
struct Core {
    /// All fixed effects (the reported ones first).
    beta: Vec<f64>,
    theta: f64,
    /// The AGQ deviance relative to the saturated model at the optimum.
    d: f64,
    iterations: usize,
    converged: bool,
    /// Covariance of the first `p_report` fixed effects.
    vb: Vec<Vec<f64>>,
    /// Log-likelihood of the model without random effects (θ = 0).
    ll_fe: f64,
    /// The saturated model as `glm` fits it: logits, IRLS weights, log-likelihood.
    eta_sat: Vec<f64>,
    w_sat: Vec<f64>,
    ll_sat: f64,
    /// Conditional deviance at the conditional modes, and the modes (one per study).
    cond_dev: f64,
    modes: Vec<f64>,
    /// −2 Σ (log C(n, x) + saturated log-likelihood): lme4's constant of the Laplace deviance.
    sat_const: f64,
}

/// Minimise the deviance of `prob` from the fixed effects `start` (see the module
/// documentation), and evaluate what the fit reports.
fn optimise(prob: &Problem, start: Vec<f64>, p_report: usize) -> Result<Core> {
    let p = prob.p();
    // Common-effect logistic regression (θ = 0): the start, and the log-likelihood of the LRT.
    let (beta_fe, _) = prob.fit_beta(&start, 0.0)?;
    let e_fe = prob.lin(&beta_fe);
    let ll_fe: f64 = prob.obs.iter().zip(&e_fe).map(|(c, &e)| c.loglik(e)).sum();

    // Profile scan over θ for the start. θ = 0 is left out: the deviance is even in θ, so its
    // θ-gradient is exactly 0 there and Newton could not leave it, returning τ² = 0 where the
    // optimum is small and positive. The boundary is tested explicitly after the Newton stage.
    let grid = [0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0];
    let mut best = (f64::INFINITY, beta_fe.clone(), 0.0);
    let mut warm = beta_fe.clone();
    for &t in &grid {
        if let Ok((b, d)) = prob.fit_beta(&warm, t) {
            if d < best.0 {
                best = (d, b.clone(), t);
            }
            warm = b;
        }
    }
    let (mut d, mut beta, mut theta) = best;
    if !d.is_finite() {
        return Err(Error::Computation("GLMM: the likelihood could not be evaluated".into()));
    }
    // Joint Newton on (β, θ).
    let mut iterations = 0;
    let mut converged = false;
    let mut params: Vec<f64> = beta.iter().copied().chain(std::iter::once(theta)).collect();
    for it in 0..500 {
        iterations = it + 1;
        let (_, g) = prob.dev_grad(&params[..p], params[p]);
        let h = prob.hessian(&params[..p], params[p], true);
        let step = newton_step(&h, &g);
        // The Newton decrement g'H⁻¹g: the predicted fall of the deviance, ~0 at the optimum.
        let decrement: f64 = -g.iter().zip(&step).map(|(a, b)| a * b).sum::<f64>();
        let f = |v: &[f64]| prob.dev(&v[..p], v[p]);
        let (np, nd, ok) = line_search(f, &params, &step, d);
        if !ok {
            // No step lowers the deviance: the optimum to rounding, if the decrement says so.
            converged = decrement.abs() <= 1e-10;
            break;
        }
        let moved = step_size(&params, &np);
        params = np;
        d = nd;
        if moved <= 1e-10 {
            converged = true;
            break;
        }
    }
    beta = params[..p].to_vec();
    theta = params[p].abs();
    // The boundary: compare with τ = 0 (β re-estimated) when τ ends up tiny.
    if theta < 1e-4 {
        let (b0, d0) = prob.fit_beta(&beta, 0.0)?;
        if d0 <= d {
            beta = b0;
            theta = 0.0;
            d = d0;
            // The boundary optimum, established by the comparison (β re-fitted at θ = 0).
            converged = true;
        }
    }
    if !d.is_finite() || !theta.is_finite() || beta.iter().any(|b| !b.is_finite()) {
        return Err(Error::Computation("GLMM: the optimiser did not converge".into()));
    }

    // Covariance of β: the β block of (½ H)⁻¹, H the Hessian of D in (β, θ).
    let h = prob.hessian(&beta, theta, true);
    let half: Vec<Vec<f64>> = h.iter().map(|r| r.iter().map(|v| 0.5 * v).collect()).collect();
    let vb: Vec<Vec<f64>> = match invert_spd(&half) {
        Ok(inv) => (0..p_report).map(|a| inv[a][..p_report].to_vec()).collect(),
        Err(_) => {
            let hb: Vec<Vec<f64>> = (0..p).map(|a| half[a][..p].to_vec()).collect();
            let inv = invert_spd(&hb).map_err(|_| {
                Error::Computation("GLMM: the Hessian of the likelihood is not positive definite".into())
            })?;
            (0..p_report).map(|a| inv[a][..p_report].to_vec()).collect()
        }
    };

    let (eta_sat, w_sat, ll_sat) = saturated_glm(&prob.obs);
    let e_hat = prob.lin(&beta);
    let mut cond_dev = 0.0;
    let mut modes = Vec::with_capacity(prob.studies.len());
    for r in &prob.studies {
        let u = mode(&prob.obs[r.clone()], &prob.zr[r.clone()], &e_hat[r.clone()], theta);
        for i in r.clone() {
            cond_dev += prob.obs[i].dev_resid(e_hat[i] + theta * prob.zr[i] * u);
        }
        modes.push(u);
    }
    let sat_const: f64 = prob.obs.iter().map(|c| -2.0 * (c.log_choose() + c.sat)).sum();
    Ok(Core {
        beta,
        theta,
        d,
        iterations,
        converged,
        vb,
        ll_fe,
        eta_sat,
        w_sat,
        ll_sat,
        cond_dev,
        modes,
        sat_const,
    })
}

/// Checks shared by both models: the size of the model, nAGQ and the test.
fn check_fit_args(k: usize, p: usize, options: &GlmmOptions) -> Result<()> {
    if k == 0 {
        return Err(Error::Computation("no studies to pool".into()));
    }
    if p + 1 > k {
        return Err(Error::Computation(format!(
            "the GLMM has {} parameters (tau and {p} coefficient{}) and cannot be fitted to {k} stud{} (metafor: \"Number of parameters to be estimated is larger than the number of observations\")",
            p + 1,
            if p == 1 { "" } else { "s" },
            if k == 1 { "y" } else { "ies" }
        )));
    }
    if !(1..=MAX_NAGQ).contains(&options.n_agq) {
        return Err(Error::Usage(format!(
            "the number of quadrature points must be between 1 and {MAX_NAGQ} (lme4), got {}",
            options.n_agq
        )));
    }
    if options.test == Test::Knha {
        return Err(Error::Usage(
            "the GLMM supports the z and t tests (metafor rma.glmm has no Knapp-Hartung adjustment)".into(),
        ));
    }
    Ok(())
}

/// The reported fit from the optimum: coefficients, tests, I² (from the escalc effect sizes `es`
/// of the k fitted studies and their design `x`, k × p), the Wald heterogeneity statistic `qe_wald`.
#[allow(clippy::too_many_arguments)]
fn assemble(
    core: Core,
    model: GlmmModel,
    x: Array2<f64>,
    names: Vec<String>,
    qe_wald: f64,
    es: EffectSizes,
    dropped: Vec<usize>,
    options: &GlmmOptions,
) -> Result<RmaFit> {
    let k = x.nrows();
    let p = x.ncols();
    let ddf = match options.test {
        Test::Z | Test::Knha => None,
        Test::T => Some((k - p) as f64),
    };
    let crit = dist::critical(options.level, ddf);
    let coefficients: Vec<Coefficient> = (0..p)
        .map(|j| {
            let se = core.vb[j][j].sqrt();
            let b = core.beta[j];
            let zval = b / se;
            Coefficient {
                name: names[j].clone(),
                estimate: b,
                se,
                zval,
                pval: dist::two_sided(zval, ddf),
                ci_lb: b - crit * se,
                ci_ub: b + crit * se,
            }
        })
        .collect();
    let beta_rep = core.beta[..p].to_vec();
    let qm = if p > 1 {
        Some(super::omnibus(&beta_rep, &core.vb, ddf, k, p)?)
    } else {
        None
    };
    let qe_df = k - p;
    let qe_lrt = (-2.0 * (core.ll_fe - core.ll_sat)).max(0.0);
    let chi_p = |q: f64| {
        if qe_df > 0 {
            dist::pchisq_upper(q, qe_df as f64)
        } else {
            1.0
        }
    };
    let loglik_metafor = core.ll_sat - 0.5 * core.cond_dev;
    let deviance = if options.n_agq == 1 {
        core.d + core.sat_const
    } else {
        core.d
    };
    // I² and H² from the escalc effect sizes.
    let keep: Vec<usize> = (0..k).filter(|&i| es.is_defined(i)).collect();
    let vt = if keep.len() > p {
        let xk = Array2::from_shape_fn((keep.len(), p), |(r, c)| x[[keep[r], c]]);
        let w: Vec<f64> = keep.iter().map(|&i| 1.0 / es.vi[i]).collect();
        let yk: Vec<f64> = keep.iter().map(|&i| es.yi[i]).collect();
        match wls(&xk, &yk, &w) {
            Ok(f) => (keep.len() - p) as f64 / tau2::tr_p(&xk, &w, &f.a),
            Err(_) => f64::NAN,
        }
    } else {
        f64::NAN
    };
    let tau2 = core.theta * core.theta;
    let converged = core.converged;
    let iterations = core.iterations;
    Ok(RmaFit {
        options: RmaOptions {
            method: super::Method::GLMM,
            test: options.test,
            level: options.level,
            tau2_fixed: None,
            control: super::Control {
                n_agq: options.n_agq,
                ..super::Control::default()
            },
        },
        test: options.test,
        k,
        p,
        coefficients,
        vb: core.vb,
        tau2,
        iterations,
        converged,
        convergence_note: (!converged).then(|| {
            format!("GLMM: Newton's method stopped after {iterations} iterations without meeting its criterion")
        }),
        q: qe_wald,
        q_df: qe_df,
        q_p: chi_p(qe_wald),
        i2: 100.0 * tau2 / (vt + tau2),
        h2: tau2 / vt + 1.0,
        vt,
        qm,
        ddf,
        crit,
        s2w: 1.0,
        weights: vec![f64::NAN; k],
        yi: es.yi,
        vi: es.vi,
        x,
        pooling: super::Pooling::IV,
        mh: None,
        glmm: Some(Box::new(GlmmDetails {
            model,
            n_agq: options.n_agq,
            correction: options.correction,
            theta: core.theta,
            deviance,
            deviance_rel: core.d,
            loglik_metafor,
            qe_lrt,
            qe_lrt_p: chi_p(qe_lrt),
            modes: core.modes,
            dropped,
        })),
    })
}

/// Fit the GLMM to `events` of `total` with design matrix `x` (first column the intercept)
/// and coefficient names `names`.
pub fn glmm(
    events: &[f64],
    total: &[f64],
    x: Array2<f64>,
    names: Vec<String>,
    options: &GlmmOptions,
) -> Result<RmaFit> {
    let k = events.len();
    let p = x.ncols();
    if total.len() != k || x.nrows() != k || names.len() != p {
        return Err(Error::Computation(
            "events, totals and the model matrix have different lengths".into(),
        ));
    }
    check_fit_args(k, p, options)?;
    for i in 0..k {
        let (e, n) = (events[i], total[i]);
        if !(n > 0.0) || !(e >= 0.0) || e > n || !e.is_finite() || !n.is_finite() {
            return Err(Error::Computation(format!(
                "study {}: {e} events of {n} cannot enter the GLMM",
                i + 1
            )));
        }
    }
    let sum_x: f64 = events.iter().sum();
    let sum_n: f64 = total.iter().sum();
    if sum_x == 0.0 || sum_x == sum_n {
        return Err(Error::Computation(format!(
            "the GLMM cannot be fitted: {} studies have {} (the pooled logit is {}infinite)",
            if k == 1 { "the" } else { "all" },
            if sum_x == 0.0 { "0 events" } else { "only events" },
            if sum_x == 0.0 { "minus " } else { "" }
        )));
    }
    let counts: Vec<Counts> = events.iter().zip(total).map(|(&e, &n)| Counts::new(e, n)).collect();
    let prob = Problem::single(counts, &x, options.n_agq);
    let mut beta0 = vec![0.0; p];
    beta0[0] = (sum_x / (sum_n - sum_x)).ln();
    let core = optimise(&prob, beta0, p)?;
    // Wald test of the saturated model (one logit per study).
    let qe_wald = wls(&x, &core.eta_sat, &core.w_sat)
        .map(|f| f.rss.max(0.0))
        .unwrap_or(f64::NAN);
    let es = escalc(Measure::PLO, events, total, options.correction);
    assemble(core, GlmmModel::Proportion, x, names, qe_wald, es, Vec::new(), options)
}

/// Whether a 2×2 table has no events or only events in both groups (metafor's `drop00`).
pub fn is_double_zero(t: &[f64; 4]) -> bool {
    let [ai, bi, ci, di] = *t;
    (ai == 0.0 && ci == 0.0) || (bi == 0.0 && di == 0.0)
}

/// Fit the GLMM for 2×2 tables with the odds ratio (metafor `rma.glmm(measure = "OR",
/// model = "UM.FS")`): `tables` are (ai, bi, ci, di), events and non-events in group 1 then
/// group 2; `x` (one row per table, first column the intercept) models the log odds ratio.
/// Tables with no events or only events in both groups are left out of the fit, as metafor does
/// (`drop00 = TRUE`); their positions are in [`GlmmDetails::dropped`].
pub fn glmm_or(tables: &[[f64; 4]], x: Array2<f64>, names: Vec<String>, options: &GlmmOptions) -> Result<RmaFit> {
    let k_all = tables.len();
    let p = x.ncols();
    if x.nrows() != k_all || names.len() != p {
        return Err(Error::Computation(
            "tables and the model matrix have different lengths".into(),
        ));
    }
    for (i, t) in tables.iter().enumerate() {
        if t.iter().any(|v| !(v.is_finite() && *v >= 0.0)) || !(t[0] + t[1] > 0.0) || !(t[2] + t[3] > 0.0) {
            return Err(Error::Computation(format!(
                "study {}: the table ({}, {}, {}, {}) cannot enter the GLMM (counts must be non-negative, each group non-empty)",
                i + 1,
                t[0],
                t[1],
                t[2],
                t[3]
            )));
        }
    }
    let dropped: Vec<usize> = (0..k_all).filter(|&i| is_double_zero(&tables[i])).collect();
    let kept: Vec<usize> = (0..k_all).filter(|&i| !is_double_zero(&tables[i])).collect();
    let k = kept.len();
    if k == 0 {
        return Err(Error::Computation(
            "the GLMM cannot be fitted: every table has no events or only events in both groups (drop00)".into(),
        ));
    }
    check_fit_args(k, p, options)?;
    let xk = Array2::from_shape_fn((k, p), |(r, c)| x[[kept[r], c]]);
    let tk: Vec<[f64; 4]> = kept.iter().map(|&i| tables[i]).collect();
    let sum = |j: usize| tk.iter().map(|t| t[j]).sum::<f64>();
    if sum(0) == 0.0 || sum(1) == 0.0 || sum(2) == 0.0 || sum(3) == 0.0 {
        return Err(Error::Computation(
            "the GLMM cannot be fitted: one cell is 0 in every table (the pooled log odds ratio is infinite)".into(),
        ));
    }
    // Observations: arm 1 (ai of n1i) then arm 2 (ci of n2i) of each table; fixed effects: the
    // p coefficients of the log odds ratio (group1 · x), then one intercept per study; the random
    // effect enters arm 1 with +½ and arm 2 with −½ (metafor's coding = 1/2).
    let dim = p + k;
    let mut xo = Array2::<f64>::zeros((2 * k, dim));
    let mut obs = Vec::with_capacity(2 * k);
    let mut zr = Vec::with_capacity(2 * k);
    for (i, t) in tk.iter().enumerate() {
        for c in 0..p {
            xo[[2 * i, c]] = xk[[i, c]];
        }
        xo[[2 * i, p + i]] = 1.0;
        xo[[2 * i + 1, p + i]] = 1.0;
        obs.push(Counts::new(t[0], t[0] + t[1]));
        obs.push(Counts::new(t[2], t[2] + t[3]));
        zr.push(0.5);
        zr.push(-0.5);
    }
    let studies: Vec<std::ops::Range<usize>> = (0..k).map(|i| 2 * i..2 * i + 2).collect();
    let prob = Problem::new(obs, zr, &xo, studies, options.n_agq);
    // Start: log OR 0, the study intercepts the (corrected) logits of group 2.
    let mut start = vec![0.0; dim];
    for (i, t) in tk.iter().enumerate() {
        start[p + i] = ((t[2] + 0.5) / (t[3] + 0.5)).ln();
    }
    let core = optimise(&prob, start, p)?;
    // Wald test of the saturated model (study × group): the saturated log odds ratios
    // dᵢ = η̂ᵢ₁ − η̂ᵢ₂ with variances 1/wᵢ₁ + 1/wᵢ₂ against the model dᵢ = xᵢ'β.
    let d_sat: Vec<f64> = (0..k).map(|i| core.eta_sat[2 * i] - core.eta_sat[2 * i + 1]).collect();
    let w_d: Vec<f64> = (0..k)
        .map(|i| 1.0 / (1.0 / core.w_sat[2 * i] + 1.0 / core.w_sat[2 * i + 1]))
        .collect();
    let qe_wald = wls(&xk, &d_sat, &w_d).map(|f| f.rss.max(0.0)).unwrap_or(f64::NAN);
    // The escalc log odds ratios of the fitted tables (for I²).
    let inputs: Vec<StudyInput> = tk
        .iter()
        .map(|t| StudyInput::Table2x2 {
            ai: t[0],
            bi: t[1],
            ci: t[2],
            di: t[3],
        })
        .collect();
    let es = escalc_inputs(Measure::OR, &inputs, &or_escalc_options(options.correction))
        .map_err(|(i, m)| Error::Computation(format!("study {}: {m}", kept[i] + 1)))?
        .es;
    assemble(core, GlmmModel::OddsRatio, xk, names, qe_wald, es, dropped, options)
}

/// The escalc options of rma.glmm(measure = "OR"): the given correction, double zeros dropped.
pub fn or_escalc_options(correction: Correction) -> EscalcOptions {
    EscalcOptions {
        correction,
        drop00: true,
        ..EscalcOptions::default_for(Measure::OR)
    }
}

/// Fit the intercept-only GLMM for odds ratios (metafor `rma.glmm(measure = "OR", ai, bi, ci, di)`).
pub fn glmm_or_int(tables: &[[f64; 4]], options: &GlmmOptions) -> Result<RmaFit> {
    glmm_or(
        tables,
        super::linalg::intercept(tables.len()),
        vec!["intrcpt".to_string()],
        options,
    )
}

/// Fit the intercept-only GLMM (metafor `rma.glmm(measure = "PLO", xi, ni)`).
pub fn glmm_int(events: &[f64], total: &[f64], options: &GlmmOptions) -> Result<RmaFit> {
    glmm(
        events,
        total,
        super::linalg::intercept(events.len()),
        vec!["intrcpt".to_string()],
        options,
    )
}

/// The GLMM options of a pooled analysis.
pub fn options_from_pool(options: &PoolOptions) -> GlmmOptions {
    GlmmOptions {
        n_agq: options.control.n_agq,
        test: options.test,
        level: options.level,
        correction: options.correction,
    }
}

/// Check that a pooled analysis can use the GLMM: measure PLO or OR, inverse-variance pooling
/// (no M-H or Peto), test z or t, separate τ².
pub fn check_pool_options(options: &PoolOptions) -> Result<()> {
    if options.measure != Measure::PLO && options.measure != Measure::OR {
        return Err(Error::Usage(format!(
            "the GLMM fits the logit of a proportion (measure PLO, events/total data) or the log odds ratio of \
             2x2 tables (measure OR, metafor model UM.FS); it does not support measure {}",
            options.measure
        )));
    }
    if options.pooling != super::Pooling::IV {
        return Err(Error::Usage(format!(
            "the GLMM fits the model to the counts by maximum likelihood: it cannot be combined with {} pooling \
             (use inverse-variance pooling, IV)",
            options.pooling.as_str()
        )));
    }
    if options.test == Test::Knha {
        return Err(Error::Usage(
            "the GLMM supports the z and t tests (metafor rma.glmm has no Knapp-Hartung adjustment)".into(),
        ));
    }
    if options.tau2_common {
        return Err(Error::Usage(
            "a tau^2 common to the subgroups is not available with the GLMM (each subgroup gets its own GLMM)".into(),
        ));
    }
    if !(1..=MAX_NAGQ).contains(&options.control.n_agq) {
        return Err(Error::Usage(format!(
            "the number of GLMM quadrature points must be between 1 and {MAX_NAGQ} (lme4), got {}",
            options.control.n_agq
        )));
    }
    Ok(())
}

/// A GLMM fit summarised as a [`Pooled`] (the `FIT` object of `pool --format json`): Q is the
/// Wald test, `Q_LRT` the likelihood-ratio test; no τ² CI and no study weights (metafor gives
/// neither for rma.glmm).
pub fn summarize_glmm(
    name: Option<String>,
    fit: &RmaFit,
    es: &EffectSizes,
    events: f64,
    options: &PoolOptions,
) -> Pooled {
    summarize(name, fit.clone(), es, events, options)
}

/// `pool` with `method = GLMM`: the GLMM overall and per subgroup (separate τ² per subgroup), the
/// Q test between subgroups, and the study rows (escalc effect sizes for display; no weights).
pub fn pool_glmm(studies: &Studies, options: &PoolOptions) -> Result<PoolResult> {
    check_pool_options(options)?;
    if studies.events.is_empty() {
        return Err(Error::Computation(format!(
            "{}: no studies left to pool",
            studies.source.display()
        )));
    }
    if options.measure == Measure::OR {
        return pool_glmm_or(studies, options);
    }
    let gopts = options_from_pool(options);
    let es = escalc(Measure::PLO, &studies.events, &studies.total, options.correction);
    let fit = glmm_int(&studies.events, &studies.total, &gopts).map_err(|e| context("overall", e))?;
    let events_all: f64 = studies.events.iter().sum();
    let overall = summarize_glmm(None, &fit, &es, events_all, options);
    let mut subgroups = Vec::new();
    if let Some(groups) = &studies.group {
        for (name, idx) in levels(groups) {
            let ev: Vec<f64> = idx.iter().map(|&i| studies.events[i]).collect();
            let tot: Vec<f64> = idx.iter().map(|&i| studies.total[i]).collect();
            let fit = glmm_int(&ev, &tot, &gopts).map_err(|e| context(&format!("subgroup \"{name}\""), e))?;
            subgroups.push(summarize_glmm(
                Some(name),
                &fit,
                &es.subset(&idx),
                ev.iter().sum(),
                options,
            ));
        }
    }
    let subgroup_test = if subgroups.len() > 1 {
        Some(q_between(&subgroups))
    } else {
        None
    };
    let no_weights = vec![f64::NAN; studies.events.len()];
    let rows = study_rows(studies, &es, options, &no_weights, &no_weights);
    let conventions = vec![
        "PLO (logit transformed proportion)".into(),
        format!(
            "random-intercept logistic model (GLMM) fitted to the counts by maximum likelihood, {} adaptive Gauss-Hermite points; no continuity correction",
            options.control.n_agq
        ),
        format!("test: {}", options.test),
    ];
    Ok(glmm_result(
        Measure::PLO,
        options,
        overall,
        subgroups,
        subgroup_test,
        rows,
        conventions,
    ))
}

/// The [`PoolResult`] of a GLMM pool (no common-effect fit, overall or per subgroup; no τ² common
/// to subgroups).
fn glmm_result(
    measure: Measure,
    options: &PoolOptions,
    overall: Pooled,
    subgroups: Vec<Pooled>,
    subgroup_test: Option<super::subgroup::SubgroupTest>,
    studies: Vec<super::subgroup::StudyRow>,
    conventions: Vec<String>,
) -> PoolResult {
    PoolResult {
        measure,
        pooling: super::Pooling::IV,
        method: super::Method::GLMM,
        test: options.test,
        level: options.level,
        correction: options.correction,
        pi_type: options.pi_type,
        study_ci: options.study_ci,
        tau2_common: false,
        tau2_common_value: None,
        overall,
        common: None,
        subgroups,
        subgroup_test,
        studies,
        n_agq: Some(options.control.n_agq),
        conventions,
    }
}

/// Prefix a computation error with where it happened (overall, a subgroup).
fn context(what: &str, e: Error) -> Error {
    match e {
        Error::Computation(m) => Error::Computation(format!("{what}: {m}")),
        other => other,
    }
}

/// The 2×2 tables of the studies, (ai, bi, ci, di); an error naming the study for other inputs.
fn tables_of(studies: &Studies) -> Result<Vec<[f64; 4]>> {
    studies
        .inputs
        .iter()
        .enumerate()
        .map(|(i, input)| match *input {
            StudyInput::Table2x2 { ai, bi, ci, di } => Ok([ai, bi, ci, di]),
            ref other => Err(Error::Usage(format!(
                "the GLMM of odds ratios (method GLMM, measure OR) needs 2x2 tables (ai, bi, ci, di or ai, n1i, ci, n2i); study \"{}\" is given as {}",
                studies.study.get(i).cloned().unwrap_or_default(),
                other.kind()
            ))),
        })
        .collect()
}

/// `pool --measure OR --method GLMM` (metafor `rma.glmm(measure = "OR", model = "UM.FS")`).
fn pool_glmm_or(studies: &Studies, options: &PoolOptions) -> Result<PoolResult> {
    let tables = tables_of(studies)?;
    let gopts = options_from_pool(options);
    let comp = escalc_inputs(Measure::OR, &studies.inputs, &or_escalc_options(options.correction))
        .map_err(|(i, m)| Error::Computation(format!("study \"{}\": {m}", studies.study[i])))?;
    let es = &comp.es;
    let k_all = tables.len();
    // The fitted studies of a set (double zeros left out) and their total events.
    let fitted = |idx: &[usize]| -> Vec<usize> { idx.iter().copied().filter(|&i| !comp.dropped[i]).collect() };
    let events = |idx: &[usize]| idx.iter().map(|&i| tables[i][0] + tables[i][2]).sum::<f64>();
    let fit_set = |idx: &[usize], what: &str, name: Option<String>| -> Result<Pooled> {
        let t: Vec<[f64; 4]> = idx.iter().map(|&i| tables[i]).collect();
        let fit = glmm_or_int(&t, &gopts).map_err(|e| context(what, e))?;
        let f = fitted(idx);
        Ok(summarize_glmm(name, &fit, &es.subset(&f), events(&f), options))
    };
    let all: Vec<usize> = (0..k_all).collect();
    let overall = fit_set(&all, "overall", None)?;
    let mut subgroups = Vec::new();
    if let Some(groups) = &studies.group {
        for (name, idx) in levels(groups) {
            subgroups.push(fit_set(&idx, &format!("subgroup \"{name}\""), Some(name.clone()))?);
        }
    }
    let subgroup_test = if subgroups.len() > 1 {
        Some(q_between(&subgroups))
    } else {
        None
    };
    // Study rows: the escalc log odds ratios with their Wald CIs (exp scale); no weights.
    let z = dist::critical(options.level, None);
    let rows = (0..k_all)
        .map(|i| {
            let (y, v) = (es.yi[i], es.vi[i]);
            let (lb, ub) = ((y - z * v.sqrt()).exp(), (y + z * v.sqrt()).exp());
            StudyRow {
                study: studies.study[i].clone(),
                row: studies.rows[i],
                group: studies.group.as_ref().map(|g| g[i].clone()),
                events: studies.events[i],
                total: studies.total[i],
                yi: y,
                vi: v,
                proportion: y.exp(),
                ci_lb: lb.min(ub),
                ci_ub: ub.max(lb),
                weight: f64::NAN,
                weight_overall: f64::NAN,
                corrected: es.corrected[i],
                input: Some(studies.inputs[i]),
                midpoint_flag: false,
                dropped: comp.dropped[i],
            }
        })
        .collect();
    let mut conventions = vec![
        format!("OR ({})", Measure::OR.describe()),
        format!(
            "GLMM: logistic regression with fixed study effects and a random treatment effect (metafor rma.glmm, model UM.FS), \
             fitted to the 2x2 counts by maximum likelihood, nAGQ = {} adaptive Gauss-Hermite points; no continuity correction \
             in the likelihood",
            options.control.n_agq
        ),
    ];
    let n_corr = es.corrected.iter().filter(|&&c| c).count();
    if n_corr > 0 {
        conventions.push(format!(
            "study log odds ratios (shown, and used for I^2 and H^2 only): {} added to all cells of {n_corr} of {} tables{}",
            options.correction.add,
            k_all,
            match options.correction.to {
                AddTo::Only0 => " with a zero cell",
                _ => "",
            }
        ));
    }
    let dropped: Vec<String> = (0..k_all)
        .filter(|&i| comp.dropped[i])
        .map(|i| format!("\"{}\" (row {})", studies.study[i], studies.rows[i]))
        .collect();
    if !dropped.is_empty() {
        conventions.push(format!(
            "{} double-zero stud{} (no events or only events in both groups) left out of the GLMM, as metafor's drop00 = TRUE: {}",
            dropped.len(),
            if dropped.len() == 1 { "y" } else { "ies" },
            dropped.join(", ")
        ));
    }
    conventions.push(format!("test: {}", options.test));
    Ok(glmm_result(
        Measure::OR,
        options,
        overall,
        subgroups,
        subgroup_test,
        rows,
        conventions,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_hermite_matches_lme4_ghrule() {
        // lme4::GHrule(7)
        let (z, w) = gauss_hermite(7);
        let zr = [-3.750439717725744, -2.3667594107345415, -1.1544053947399682, 0.0];
        let wr = [
            0.0005482688559722172,
            0.030757123967586515,
            0.24012317860501278,
            0.45714285714285713,
        ];
        for i in 0..4 {
            assert!((z[i] - zr[i]).abs() < 1e-14, "{} {}", z[i], zr[i]);
            assert!((w[i] - wr[i]).abs() < 1e-15, "{} {}", w[i], wr[i]);
        }
        // Moments of N(0, 1) are exact up to degree 2n - 1.
        for n in [1, 2, 5, 7, 15, 25] {
            let (z, w) = gauss_hermite(n);
            let m2: f64 = z.iter().zip(&w).map(|(z, w)| w * z * z).sum();
            let m4: f64 = z.iter().zip(&w).map(|(z, w)| w * z.powi(4)).sum();
            assert!((m2 - 1.0).abs() < 1e-12 || n == 1, "n = {n}: {m2}");
            if n >= 3 {
                assert!((m4 - 3.0).abs() < 1e-11, "n = {n}: {m4}");
            }
        }
    }

    /// One-observation study term (the model for proportions).
    fn term1(c: &Counts, e: f64, t: f64, rule: &Rule, grad: bool) -> (f64, f64, f64) {
        let st = study_term(std::slice::from_ref(c), &[1.0], &[e], t, rule, grad);
        (st.dev, st.d_e.first().copied().unwrap_or(0.0), st.d_theta)
    }

    #[test]
    fn analytic_gradient_matches_finite_differences() {
        let c = Counts::new(7.0, 40.0);
        let rule = Rule::new(7);
        for &(e, t) in &[(-1.0, 0.8), (0.3, 1.7), (-2.5, 0.05), (1.0, -0.6)] {
            let g = term1(&c, e, t, &rule, true);
            let h = 1e-6;
            let de = (term1(&c, e + h, t, &rule, false).0 - term1(&c, e - h, t, &rule, false).0) / (2.0 * h);
            let dt = (term1(&c, e, t + h, &rule, false).0 - term1(&c, e, t - h, &rule, false).0) / (2.0 * h);
            assert!((g.1 - de).abs() < 1e-7, "{} {}", g.1, de);
            assert!((g.2 - dt).abs() < 1e-7, "{} {}", g.2, dt);
        }
        // Zero events.
        let c = Counts::new(0.0, 33.0);
        let g = term1(&c, -3.0, 1.2, &rule, true);
        let h = 1e-6;
        let dt = (term1(&c, -3.0, 1.2 + h, &rule, false).0 - term1(&c, -3.0, 1.2 - h, &rule, false).0) / (2.0 * h);
        assert!((g.2 - dt).abs() < 1e-7);
    }

    /// The two-arm study term (random effect +½, −½) against finite differences, also with a
    /// zero arm.
    #[test]
    fn two_arm_gradient_matches_finite_differences() {
        let rule = Rule::new(7);
        let z = [0.5, -0.5];
        for obs in [
            [Counts::new(7.0, 40.0), Counts::new(15.0, 42.0)],
            [Counts::new(0.0, 66.0), Counts::new(7.0, 64.0)],
        ] {
            for &(e1, e2, t) in &[
                (-1.0, -0.5, 0.8),
                (-2.5, -2.0, 1.9),
                (-3.0, -2.2, 0.05),
                (0.4, -0.3, -0.7),
            ] {
                let f = |a: f64, b: f64, t: f64| study_term(&obs, &z, &[a, b], t, &rule, false).dev;
                let g = study_term(&obs, &z, &[e1, e2], t, &rule, true);
                let h = 1e-6;
                let d1 = (f(e1 + h, e2, t) - f(e1 - h, e2, t)) / (2.0 * h);
                let d2 = (f(e1, e2 + h, t) - f(e1, e2 - h, t)) / (2.0 * h);
                let dt = (f(e1, e2, t + h) - f(e1, e2, t - h)) / (2.0 * h);
                assert!((g.d_e[0] - d1).abs() < 1e-6, "{} {}", g.d_e[0], d1);
                assert!((g.d_e[1] - d2).abs() < 1e-6, "{} {}", g.d_e[1], d2);
                assert!((g.d_theta - dt).abs() < 1e-6, "{} {}", g.d_theta, dt);
            }
        }
    }

    /// The profile deviance at θ (β re-fitted), intercept-only, nAGQ = 7.
    fn profile_deviance(x: &[f64], n: &[f64], theta: f64) -> f64 {
        let xm = super::super::linalg::intercept(x.len());
        let prob = Problem::single(x.iter().zip(n).map(|(&a, &b)| Counts::new(a, b)).collect(), &xm, 7);
        let (sx, sn): (f64, f64) = (x.iter().sum(), n.iter().sum());
        prob.fit_beta(&[(sx / (sn - sx)).ln()], theta).unwrap().1
    }

    /// The fit is the optimum of the profile deviance, also where it is small or at the boundary
    /// (the start is off θ = 0, where the θ-gradient vanishes): no nearby θ, and not θ = 0, has a
    /// lower deviance, and the fit says it converged.
    #[test]
    fn fit_is_the_profile_optimum_near_the_boundary() {
        let cases: [(&[f64], &[f64]); 4] = [
            (&[4.0, 10.0, 7.0], &[20.0, 31.0, 15.0]),
            (&[10.0, 12.0, 9.0, 14.0], &[50.0, 52.0, 48.0, 55.0]),
            (&[5.0, 9.0, 6.0, 13.0, 8.0], &[40.0, 45.0, 38.0, 50.0, 41.0]),
            (&[2.0, 15.0, 30.0, 4.0], &[40.0, 45.0, 50.0, 38.0]),
        ];
        for (x, n) in cases {
            let fit = glmm_int(x, n, &GlmmOptions::default()).unwrap();
            assert!(fit.converged, "{x:?}");
            let theta = fit.glmm.as_ref().unwrap().theta;
            let d = profile_deviance(x, n, theta);
            let mut others = vec![0.0, 1e-3, 0.02];
            if theta > 0.0 {
                others.extend([0.9 * theta, 0.99 * theta, 1.01 * theta, 1.1 * theta]);
            }
            for t in others {
                let dt = profile_deviance(x, n, t);
                assert!(d <= dt + 1e-9, "{x:?}: D({theta}) = {d} > D({t}) = {dt}");
            }
        }
    }

    #[test]
    fn theta_zero_is_the_logistic_regression() {
        // With θ = 0 the AGQ deviance is the binomial deviance of the common logit.
        let x = [4.0, 10.0, 7.0];
        let n = [20.0, 31.0, 15.0];
        let fit = glmm_int(&x, &n, &GlmmOptions::default()).unwrap();
        assert!(fit.converged);
        let c: Vec<Counts> = x.iter().zip(&n).map(|(&a, &b)| Counts::new(a, b)).collect();
        let rule = Rule::new(7);
        let e = (21.0f64 / 45.0).ln();
        let d0: f64 = c.iter().map(|c| term1(c, e, 0.0, &rule, false).0).sum();
        let dr: f64 = c.iter().map(|c| c.dev_resid(e)).sum();
        assert!((d0 - dr).abs() < 1e-12);
    }
}
