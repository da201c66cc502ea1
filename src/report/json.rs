//! The JSON contract of `metarepro pool --format json`:
//!
//! `{"measure", "method", "test", "overall": FIT, "subgroups": [FIT + "name"], "subgroup_test":
//! {"Q", "df", "p"} | null, ...}` with FIT holding `k, estimate, se, ci_lb, ci_ub, pval, pi_lb,
//! pi_ub, tau2, tau2_ci_lb, tau2_ci_ub, I2, I2_ci_lb, I2_ci_ub, H2, Q, Q_df, Q_p` on the measure's
//! scale and `proportion: {estimate, ci_lb, ci_ub, pi_lb, pi_ub}`. Values are unrounded; a
//! missing value is `null`. Further keys (studies, settings) may be added, never removed.

use crate::model::PoolResult;

pub fn to_json(res: &PoolResult) -> String {
    // serde_json writes non-finite floats as null.
    let mut s = serde_json::to_string_pretty(res).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
