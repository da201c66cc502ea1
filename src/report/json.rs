//! The JSON contract of `metarepro pool --format json`:
//!
//! `{"measure", "method", "test", "overall": FIT, "subgroups": [FIT + "name"], "subgroup_test":
//! {"Q", "df", "p"} | null, ...}` with FIT holding `k, estimate, se, ci_lb, ci_ub, pval, pi_lb,
//! pi_ub, tau2, tau2_ci_lb, tau2_ci_ub, I2, I2_ci_lb, I2_ci_ub, H2, Q, Q_df, Q_p` on the measure's
//! scale (the log scale for ratios) and `effect: {estimate, ci_lb, ci_ub, pi_lb, pi_ub}` on the
//! natural scale (exp for OR/RR/PETO/ROM/IRR, tanh for ZCOR, identity otherwise). For proportion
//! measures FIT also holds `proportion`, equal to `effect`. `common` is the common-effect fit
//! beside `overall` (the M-H or Peto fit with those poolings), and each subgroup FIT holds its own
//! `common`, shaped the same (both absent for the GLMM; a copy of the fit itself when the
//! analysis is common-effect); M-H fits carry `MH`, `MH_p`, `TA`,
//! `TA_p` (and `CO`, `BD`). Study rows of two-group data hold `effect`, `ci_lb`, `ci_ub` on the
//! natural scale and `input`, the row's data. Values are unrounded; a missing value is `null`.
//! Further keys (studies, settings) may be added, never removed.

use serde_json::Value;

use crate::model::PoolResult;

pub fn to_json(res: &PoolResult) -> String {
    // serde_json writes non-finite floats as null.
    let text = if res.measure.is_proportion() {
        serde_json::to_string_pretty(res)
    } else {
        // (through a Value, whose keys are in alphabetical order)
        serde_json::to_value(res).and_then(|mut v| {
            comparative_keys(&mut v);
            serde_json::to_string_pretty(&v)
        })
    };
    let mut s = text.unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// Two-group results: no `proportion` in the fits, and the study rows' natural-scale effect is
/// called `effect`.
fn comparative_keys(v: &mut Value) {
    let Some(obj) = v.as_object_mut() else { return };
    for key in ["overall", "common"] {
        if let Some(Value::Object(f)) = obj.get_mut(key) {
            f.remove("proportion");
        }
    }
    if let Some(Value::Array(subs)) = obj.get_mut("subgroups") {
        for s in subs.iter_mut().filter_map(Value::as_object_mut) {
            s.remove("proportion");
            if let Some(Value::Object(c)) = s.get_mut("common") {
                c.remove("proportion");
            }
        }
    }
    if let Some(Value::Array(rows)) = obj.get_mut("studies") {
        for r in rows.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(p) = r.remove("proportion") {
                r.insert("effect".into(), p);
            }
        }
    }
}
