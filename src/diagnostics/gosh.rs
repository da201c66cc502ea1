//! GOSH: the model fitted to every subset of the studies (Olkin, Dahabreh & Trikalinos 2012;
//! metafor `gosh.rma`), or to random subsets when there are too many, the results streamed out
//! in chunks so that memory stays flat whatever the number of subsets.
//!
//! A subset is a bit mask (bit j set: study j is in it), so k ≤ 64. Subsets are enumerated in
//! mask order 1, 2, …, 2^k − 1 (metafor lists them sorted by size; every subset appears once in
//! both); random subsets include each study with probability ½ and are redrawn when empty
//! (metafor's scheme: subset sizes Binomial(k, ½) truncated at 1, then a random subset of that
//! size). Per subset, as metafor: for EE/FE and DL the closed forms of `.profile.rma.uni`
//! (I² = max(0, 100 (Q − df)/Q), H² = Q/df from the common-effect Q); otherwise the full fit
//! ([`rma_int_core`]) with its τ²-based I² and H².
//!
//! The fits run in parallel (rayon) on chunks of `chunk` subsets, each chunk handed to the
//! caller's sink in order (e.g. one Parquet row group) and then dropped. A 2-D histogram of
//! (estimate, I²) is accumulated on the way for the GOSH plot.

use rayon::prelude::*;
use serde::Serialize;

use super::check_effects;
use super::rng::Rng;
use crate::effect::EffectSizes;
use crate::error::{Error, Result};
use crate::model::fast::rma_int_core;
use crate::model::{Method, RmaOptions};

/// Most studies GOSH handles (subsets are 64-bit masks).
pub const MAX_K: usize = 64;

/// What to fit and how to stream it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GoshOptions {
    /// Fit every subset when there are at most this many (2^k − 1); otherwise this many random
    /// subsets. Default 2^20 (every subset up to k = 20; metafor's default is 10^6).
    pub subsets: u64,
    /// Seed of the random subsets.
    pub seed: u64,
    /// Subsets per chunk handed to the sink.
    pub chunk: usize,
    /// Bins of the (estimate, I²) histogram.
    pub bins_x: usize,
    pub bins_y: usize,
}

impl Default for GoshOptions {
    fn default() -> Self {
        GoshOptions {
            subsets: 1 << 20,
            seed: 1,
            chunk: 1 << 16,
            bins_x: 240,
            bins_y: 160,
        }
    }
}

/// One subset's fit. A failed fit has NaN numbers and `converged = false`. Its columns as a
/// streamed table (Parquet or CSV, `report::stream::TableWriter`) are defined in `report`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GoshRow {
    pub mask: u64,
    pub k: u32,
    pub estimate: f64,
    #[serde(rename = "QE")]
    pub qe: f64,
    #[serde(rename = "I2")]
    pub i2: f64,
    #[serde(rename = "H2")]
    pub h2: f64,
    pub tau2: f64,
    pub converged: bool,
}

/// Counts of (estimate, I²) on a regular grid: `counts[iy * bins_x + ix]`, x over
/// [`x_lo`, `x_hi`] (a subset's estimate is a weighted mean, so it lies between the smallest and
/// the largest effect), y over [0, 100].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram2d {
    pub x_lo: f64,
    pub x_hi: f64,
    pub bins_x: usize,
    pub bins_y: usize,
    pub counts: Vec<u64>,
}

impl Histogram2d {
    fn new(x_lo: f64, x_hi: f64, bins_x: usize, bins_y: usize) -> Histogram2d {
        let (x_lo, x_hi) = if x_hi > x_lo {
            (x_lo, x_hi)
        } else {
            (x_lo - 0.5, x_lo + 0.5)
        };
        Histogram2d {
            x_lo,
            x_hi,
            bins_x: bins_x.max(1),
            bins_y: bins_y.max(1),
            counts: vec![0; bins_x.max(1) * bins_y.max(1)],
        }
    }

    fn add(&mut self, x: f64, i2: f64) {
        if !x.is_finite() || !i2.is_finite() {
            return;
        }
        let fx = ((x - self.x_lo) / (self.x_hi - self.x_lo) * self.bins_x as f64).floor();
        let fy = (i2 / 100.0 * self.bins_y as f64).floor();
        let ix = (fx.max(0.0) as usize).min(self.bins_x - 1);
        let iy = (fy.max(0.0) as usize).min(self.bins_y - 1);
        self.counts[iy * self.bins_x + ix] += 1;
    }
}

/// What a GOSH run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoshSummary {
    pub k: usize,
    pub method: Method,
    /// Every subset (true) or random subsets (false).
    pub exact: bool,
    pub subsets: u64,
    pub failed: u64,
    pub seed: Option<u64>,
    pub estimate_min: f64,
    pub estimate_max: f64,
    #[serde(rename = "I2_min")]
    pub i2_min: f64,
    #[serde(rename = "I2_max")]
    pub i2_max: f64,
    pub histogram: Histogram2d,
}

/// The fit of one subset, as metafor's `gosh` computes it.
pub fn fit_subset(
    mask: u64,
    yi: &[f64],
    vi: &[f64],
    options: &RmaOptions,
    y: &mut Vec<f64>,
    v: &mut Vec<f64>,
) -> GoshRow {
    y.clear();
    v.clear();
    let mut m = mask;
    while m != 0 {
        let j = m.trailing_zeros() as usize;
        y.push(yi[j]);
        v.push(vi[j]);
        m &= m - 1;
    }
    let k = y.len();
    let failed = GoshRow {
        mask,
        k: k as u32,
        estimate: f64::NAN,
        qe: f64::NAN,
        i2: f64::NAN,
        h2: f64::NAN,
        tau2: f64::NAN,
        converged: false,
    };
    if k == 0 {
        return failed;
    }
    let method = options.method;
    if (method.is_common() || method == Method::DL) && options.tau2_fixed.is_none() {
        // metafor's closed forms (`.profile.rma.uni`, model 1 and 2).
        let (mut sw, mut swy) = (0.0, 0.0);
        for (a, b) in y.iter().zip(v.iter()) {
            let w = 1.0 / b;
            sw += w;
            swy += w * a;
        }
        let mut est = swy / sw;
        let (mut q, mut i2, mut h2, mut tau2) = (0.0, 0.0, 1.0, 0.0);
        if k > 1 {
            let df = (k - 1) as f64;
            let (mut qs, mut sw2) = (0.0, 0.0);
            for (a, b) in y.iter().zip(v.iter()) {
                let w = 1.0 / b;
                qs += w * (a - est) * (a - est);
                sw2 += w * w;
            }
            q = qs;
            i2 = (100.0 * (q - df) / q).max(0.0);
            h2 = q / df;
            if method == Method::DL {
                tau2 = ((q - df) / (sw - sw2 / sw)).max(0.0);
                let (mut s, mut sy) = (0.0, 0.0);
                for (a, b) in y.iter().zip(v.iter()) {
                    let w = 1.0 / (b + tau2);
                    s += w;
                    sy += w * a;
                }
                est = sy / s;
            }
        }
        return GoshRow {
            mask,
            k: k as u32,
            estimate: est,
            qe: q,
            i2,
            h2,
            tau2,
            converged: true,
        };
    }
    match rma_int_core(y, v, options) {
        Ok(c) => GoshRow {
            mask,
            k: k as u32,
            estimate: c.estimate,
            qe: c.q,
            i2: c.i2,
            h2: c.h2,
            tau2: c.tau2,
            converged: c.converged,
        },
        Err(_) => failed,
    }
}

/// Run GOSH: fit every subset (or `options.subsets` random ones), handing the rows to `sink` in
/// chunks, in order. Returns the summary (with the histogram for the plot).
pub fn gosh<S>(es: &EffectSizes, rma_options: &RmaOptions, options: &GoshOptions, mut sink: S) -> Result<GoshSummary>
where
    S: FnMut(&[GoshRow]) -> Result<()> + Send,
{
    check_effects(es)?;
    let k = es.k();
    if k < 2 {
        return Err(Error::Computation("GOSH needs at least 2 studies (k = 1)".into()));
    }
    if k > MAX_K {
        return Err(Error::Usage(format!(
            "GOSH handles at most {MAX_K} studies (subsets are 64-bit masks); this analysis has {k}"
        )));
    }
    if options.subsets < 2 {
        return Err(Error::Usage("the number of GOSH subsets must be at least 2".into()));
    }
    let total: u64 = if k == 64 { u64::MAX } else { (1u64 << k) - 1 };
    let exact = total <= options.subsets;
    let n = if exact { total } else { options.subsets };
    let full_mask = if k == 64 { u64::MAX } else { (1u64 << k) - 1 };
    let yi = &es.yi;
    let vi = &es.vi;
    let x_lo = yi.iter().copied().fold(f64::INFINITY, f64::min);
    let x_hi = yi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut hist = Histogram2d::new(x_lo, x_hi, options.bins_x, options.bins_y);
    let (mut est_min, mut est_max, mut i2_min, mut i2_max) =
        (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    let mut failed = 0u64;
    let chunk = options.chunk.max(1) as u64;
    let seed = options.seed;
    // Fit the subsets of rows start..end into `out`, in parallel.
    let compute = |start: u64, end: u64, out: &mut Vec<GoshRow>| {
        (start as usize..end as usize)
            .into_par_iter()
            .map_init(
                || (Vec::with_capacity(k), Vec::with_capacity(k)),
                |(y, v), r| {
                    let r = r as u64;
                    let mask = if exact {
                        r + 1
                    } else {
                        let mut rng = Rng::stream(seed, r);
                        loop {
                            let m = rng.next_u64() & full_mask;
                            if m != 0 {
                                break m;
                            }
                        }
                    };
                    fit_subset(mask, yi, vi, rma_options, y, v)
                },
            )
            .collect_into_vec(out);
    };
    // A chunk is handed to `sink` (usually encoding and writing it) while the next one is
    // fitted: the two overlap, and a thread that is done with its part helps with the other.
    let mut rows: Vec<GoshRow> = Vec::with_capacity(chunk.min(n) as usize);
    let mut next: Vec<GoshRow> = Vec::with_capacity(chunk.min(n) as usize);
    let mut start = 0u64;
    let mut end = chunk.min(n);
    compute(start, end, &mut rows);
    while start < n {
        let (next_start, next_end) = (end, (end + chunk).min(n));
        let (done, ()) = rayon::join(
            || -> Result<()> {
                for r in &rows {
                    if r.converged {
                        est_min = est_min.min(r.estimate);
                        est_max = est_max.max(r.estimate);
                        i2_min = i2_min.min(r.i2);
                        i2_max = i2_max.max(r.i2);
                        hist.add(r.estimate, r.i2);
                    } else {
                        failed += 1;
                    }
                }
                sink(&rows)
            },
            || compute(next_start, next_end, &mut next),
        );
        done?;
        std::mem::swap(&mut rows, &mut next);
        (start, end) = (next_start, next_end);
    }
    if failed == n {
        return Err(Error::Computation("GOSH: all model fits failed".into()));
    }
    Ok(GoshSummary {
        k,
        method: rma_options.method,
        exact,
        subsets: n,
        failed,
        seed: if exact { None } else { Some(seed) },
        estimate_min: est_min,
        estimate_max: est_max,
        i2_min,
        i2_max,
        histogram: hist,
    })
}
