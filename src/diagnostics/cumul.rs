//! Cumulative meta-analysis (metafor `cumul.rma.uni`): the studies added one at a time in a
//! given order (e.g. by year), the model refitted after each.

use rayon::prelude::*;

use super::{check_effects, refit_row, FitRow};
use crate::effect::EffectSizes;
use crate::error::{Error, Result};
use crate::model::PoolOptions;

/// The order in which R's `order(keys, decreasing)` puts the studies: by key, ties in data order
/// (a stable sort); missing keys (NaN) last, as R does.
pub fn cumul_order(keys: &[f64], decreasing: bool) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..keys.len()).collect();
    idx.sort_by(|&a, &b| {
        let (x, y) = (keys[a], keys[b]);
        match (x.is_nan(), y.is_nan()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            _ if decreasing => y.total_cmp(&x),
            _ => x.total_cmp(&y),
        }
    });
    idx
}

/// Row `j` is the fit of the first `j + 1` studies of `order` (`FitRow::study` = the study added
/// last). `order` must be a permutation of `0..k`.
pub fn cumul(es: &EffectSizes, options: &PoolOptions, order: &[usize]) -> Result<Vec<FitRow>> {
    check_effects(es)?;
    let k = es.k();
    let mut seen = vec![false; k];
    if order.len() != k || order.iter().any(|&i| i >= k || std::mem::replace(&mut seen[i], true)) {
        return Err(Error::Usage(format!(
            "the cumulative order must list each of the {k} studies once"
        )));
    }
    Ok((0..k)
        .into_par_iter()
        .map(|j| refit_row(es, &order[..=j], order[j], options))
        .collect())
}
