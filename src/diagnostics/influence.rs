//! Case-deletion diagnostics of the intercept-only model (metafor `influence.rma.uni`) and the
//! data of a Baujat plot (metafor `baujat.rma`).
//!
//! With b, var(b) the full fit and b₍ᵢ₎, τ²₍ᵢ₎, var(b₍ᵢ₎), s²₍ᵢ₎ (Knapp–Hartung factor, 1 for
//! z and t) the fit without study i, and wᵢ = 1/(vᵢ + τ²), hᵢ = wᵢ/Σw:
//!
//! - rstudent = (yᵢ − b₍ᵢ₎) / √(vᵢ s²₍ᵢ₎ + var(b₍ᵢ₎) + τ²₍ᵢ₎ s²₍ᵢ₎);
//! - DFFITS = (b − b₍ᵢ₎) / √(s²₍ᵢ₎ hᵢ (τ²₍ᵢ₎ + vᵢ));
//! - Cook's distance = (b − b₍ᵢ₎)² / var(b); cov.r = var(b₍ᵢ₎) / var(b);
//! - DFBETAS = (b − b₍ᵢ₎) / √(s²₍ᵢ₎ / Σⱼ 1/(vⱼ + τ²₍ᵢ₎)) (sum over all k studies, as metafor);
//! - τ² and Q of the fit without study i; hat hᵢ; weight 100 hᵢ (%);
//! - influential when |DFFITS| > 3√(p/(k − p)), or P(χ²₁ ≤ Cook's D) > 0.5, or hᵢ > 3p/k, or
//!   |DFBETAS| > 1 (p = 1).
//!
//! Baujat: x = (yᵢ − b)² / (τ² + vᵢ) (the study's contribution to the heterogeneity), y =
//! (b₍ᵢ₎ − b)² / var(b₍ᵢ₎) (its influence on the pooled estimate).

use rayon::prelude::*;
use serde::Serialize;

use super::check_effects;
use crate::dist;
use crate::effect::EffectSizes;
use crate::error::{Error, Result};
use crate::model::{rma, PoolOptions, RmaFit};

/// Influence diagnostics, one entry per study (NaN where the fit without the study failed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Influence {
    pub rstudent: Vec<f64>,
    pub dffits: Vec<f64>,
    pub cook_d: Vec<f64>,
    pub cov_r: Vec<f64>,
    pub tau2_del: Vec<f64>,
    #[serde(rename = "QE_del")]
    pub qe_del: Vec<f64>,
    pub hat: Vec<f64>,
    /// Weight in the full fit (%).
    pub weight: Vec<f64>,
    /// DFBETAS of the intercept.
    pub dfbs: Vec<f64>,
    /// Flagged as influential (metafor's `*`).
    pub inf: Vec<bool>,
    /// Message of a failed refit, per study.
    pub errors: Vec<Option<String>>,
    /// τ² and Q of the full fit.
    pub tau2: f64,
    #[serde(rename = "QE")]
    pub qe: f64,
}

/// Baujat plot data: per study, its contribution to the overall heterogeneity (`x`) and its
/// influence on the pooled estimate (`y`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baujat {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

struct Deleted {
    beta: f64,
    vb: f64,
    tau2: f64,
    q: f64,
    s2w: f64,
}

fn fits(es: &EffectSizes, options: &PoolOptions) -> Result<(RmaFit, Vec<std::result::Result<Deleted, String>>)> {
    check_effects(es)?;
    let k = es.k();
    if k == 1 {
        return Err(Error::Computation(
            "influence diagnostics need at least 2 studies (k = 1)".into(),
        ));
    }
    let o = options.rma_options();
    let full = rma(&es.yi, &es.vi, &o)?;
    let del = (0..k)
        .into_par_iter()
        .map(|i| {
            let idx: Vec<usize> = (0..k).filter(|&j| j != i).collect();
            let sub = es.subset(&idx);
            rma(&sub.yi, &sub.vi, &o)
                .map(|f| Deleted {
                    beta: f.estimate(),
                    vb: f.vb[0][0],
                    tau2: f.tau2,
                    q: f.q,
                    s2w: f.s2w,
                })
                .map_err(|e| e.to_string())
        })
        .collect();
    Ok((full, del))
}

/// Influence diagnostics (metafor `influence(rma(yi, vi, ...))`, `$inf` and `$dfbs`).
pub fn influence(es: &EffectSizes, options: &PoolOptions) -> Result<Influence> {
    let (full, del) = fits(es, options)?;
    let k = es.k();
    let b = full.estimate();
    let vb = full.vb[0][0];
    let sw: f64 = full.weights.iter().sum();
    let hat: Vec<f64> = full.weights.iter().map(|w| w / sw).collect();
    let weight: Vec<f64> = hat.iter().map(|h| 100.0 * h).collect();
    let nan = vec![f64::NAN; k];
    let mut out = Influence {
        rstudent: nan.clone(),
        dffits: nan.clone(),
        cook_d: nan.clone(),
        cov_r: nan.clone(),
        tau2_del: nan.clone(),
        qe_del: nan.clone(),
        hat: hat.clone(),
        weight,
        dfbs: nan,
        inf: vec![false; k],
        errors: vec![None; k],
        tau2: full.tau2,
        qe: full.q,
    };
    let p = 1.0;
    let kf = k as f64;
    for (i, d) in del.iter().enumerate() {
        let d = match d {
            Ok(d) => d,
            Err(m) => {
                out.errors[i] = Some(m.clone());
                // metafor: TRUE | NA is TRUE; only the hat value is known here.
                out.inf[i] = hat[i] > 3.0 * p / kf;
                continue;
            }
        };
        let (yi, vi) = (es.yi[i], es.vi[i]);
        out.tau2_del[i] = d.tau2;
        out.qe_del[i] = d.q;
        let dfb = b - d.beta;
        out.dffits[i] = dfb / (d.s2w * hat[i] * (d.tau2 + vi)).sqrt();
        let vb_del: f64 = 1.0 / es.vi.iter().map(|v| 1.0 / (v + d.tau2)).sum::<f64>();
        out.dfbs[i] = dfb / (d.s2w * vb_del).sqrt();
        out.cook_d[i] = dfb * dfb / vb;
        out.cov_r[i] = d.vb / vb;
        let mut resid = yi - d.beta;
        if resid.abs() < 100.0 * f64::EPSILON {
            resid = 0.0;
        }
        let se = (vi * d.s2w + d.vb + d.tau2 * d.s2w).sqrt();
        out.rstudent[i] = resid / se;
        out.inf[i] = out.dffits[i].abs() > 3.0 * (p / (kf - p)).sqrt()
            || 1.0 - dist::pchisq_upper(out.cook_d[i], 1.0) > 0.5
            || hat[i] > 3.0 * p / kf
            || out.dfbs[i].abs() > 1.0;
    }
    Ok(out)
}

/// Baujat plot data (metafor `baujat(rma(yi, vi, ...))`, the data frame it returns).
pub fn baujat(es: &EffectSizes, options: &PoolOptions) -> Result<Baujat> {
    let (full, del) = fits(es, options)?;
    let b = full.estimate();
    let x = (0..es.k())
        .map(|i| (es.yi[i] - b).powi(2) / (full.tau2 + es.vi[i]))
        .collect();
    let y = del
        .iter()
        .map(|d| match d {
            Ok(d) => (d.beta - b).powi(2) / d.vb,
            Err(_) => f64::NAN,
        })
        .collect();
    Ok(Baujat { x, y })
}
