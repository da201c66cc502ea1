//! Leave-one-out analysis (metafor `leave1out.rma.uni`): the model refitted k times, each time
//! without one study.

use rayon::prelude::*;

use super::{check_effects, refit_row, FitRow};
use crate::effect::EffectSizes;
use crate::error::{Error, Result};
use crate::model::PoolOptions;

/// Row `i` is the fit without study `i` (`FitRow::study = i`). Needs k ≥ 2 (metafor stops at
/// k = 1); a refit that fails gives a row with its message.
pub fn leave1out(es: &EffectSizes, options: &PoolOptions) -> Result<Vec<FitRow>> {
    check_effects(es)?;
    let k = es.k();
    if k == 1 {
        return Err(Error::Computation(
            "leave-one-out needs at least 2 studies (k = 1)".into(),
        ));
    }
    Ok((0..k)
        .into_par_iter()
        .map(|i| {
            let idx: Vec<usize> = (0..k).filter(|&j| j != i).collect();
            refit_row(es, &idx, i, options)
        })
        .collect())
}
