//! Rendering results: the readable table, the JSON contract, CSV, and atomic file output.
//!
//! Every number a person reads (table, forest plot labels) goes through [`fmt_num`], so two
//! renderings of one result can never disagree.

pub mod bias;
mod gosh;
pub mod json;
pub mod stream;
pub mod table;

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::model::{PoolResult, Pooled};

/// Format `x` with `decimals` decimals (Rust's correctly rounded decimal formatting, ties to even
/// on exact binary ties); `NA` for a missing value.
pub fn fmt_num(x: f64, decimals: usize) -> String {
    if x.is_nan() {
        return "NA".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Inf".into() } else { "-Inf".into() };
    }
    let s = format!("{x:.decimals$}");
    // Avoid "-0.000".
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// The two arm cells of a study row in a text table or a report: `4/20` (2×2 tables),
/// `12.30 (4.10), n = 25` (means), `3/120.5` (events/person-time), `r = 0.450` and `n = 50`
/// (correlations), `yi = 0.1234, SE = 0.0456` (generic), `printed: 0.61 [0.41; 0.91]` (a
/// published estimate with its CI); blank for single-arm rows.
pub fn arm_text(input: Option<&crate::data::StudyInput>) -> (String, String) {
    use crate::data::StudyInput;
    let Some(input) = input else {
        return (String::new(), String::new());
    };
    let v = input.arm_values();
    let f = fmt_num;
    match *input {
        StudyInput::Table2x2 { .. } => (
            format!("{}/{}", f(v[0], 0), f(v[1], 0)),
            format!("{}/{}", f(v[2], 0), f(v[3], 0)),
        ),
        StudyInput::Means { .. } => (
            format!("{} ({}), n = {}", f(v[0], 2), f(v[1], 2), f(v[2], 0)),
            format!("{} ({}), n = {}", f(v[3], 2), f(v[4], 2), f(v[5], 0)),
        ),
        StudyInput::Rates { .. } => (
            format!("{}/{}", f(v[0], 0), f(v[1], 1)),
            format!("{}/{}", f(v[2], 0), f(v[3], 1)),
        ),
        StudyInput::Correlation { ri, .. } => (format!("r = {}", f(ri, 3)), format!("n = {}", f(v[0], 0))),
        StudyInput::Generic { .. } => (format!("yi = {}, SE = {}", f(v[0], 4), f(v[1], 4)), String::new()),
        StudyInput::EstimateCi { est, ci_lb, ci_ub, .. } => (
            format!("printed: {} [{}; {}]", f(est, 2), f(ci_lb, 2), f(ci_ub, 2)),
            String::new(),
        ),
        StudyInput::Proportion { .. } => (String::new(), String::new()),
    }
}

/// A proportion as percent (`scale_percent`) or as a proportion, with `decimals` decimals.
pub fn fmt_prop(p: f64, decimals: usize, percent: bool) -> String {
    if percent {
        fmt_num(100.0 * p, decimals)
    } else {
        fmt_num(p, decimals)
    }
}

/// Decimals of printed proportions in percent when the user sets none (as the forest plots).
pub const PERCENT_DECIMALS: usize = 1;

/// What every output says of a subgroup of one study, which is shown as that study's own result.
pub const ONE_STUDY_NOTE: &str = "one study: no pooling; heterogeneity not defined";

/// The confidence level as a label: `95%`, `90%`, `97.5%` (as many decimals as it needs).
pub fn level_label(level: f64) -> String {
    let v = 100.0 * level;
    let d = (0..=3)
        .find(|&d| (v * 10f64.powi(d as i32) - (v * 10f64.powi(d as i32)).round()).abs() < 1e-6)
        .unwrap_or(3);
    format!("{}%", fmt_num(v, d))
}

/// A pooled proportion as the readable outputs show it: within [0, 1]. Limits of an interval
/// outside (the PR measure's CI or PI can reach past 0 or 1) are truncated there, with a note
/// from [`truncation_notes`]; the JSON and CSV keep the model's values.
pub fn in_unit(p: f64) -> f64 {
    if p.is_finite() {
        p.clamp(0.0, 1.0)
    } else {
        p
    }
}

/// The study of a subgroup of one study (shown as the study's own result, [`ONE_STUDY_NOTE`]);
/// `None` for other fits.
pub fn single_study<'a>(res: &'a PoolResult, g: &Pooled) -> Option<&'a crate::model::StudyRow> {
    if g.fit.k != 1 || g.name.is_none() {
        return None;
    }
    res.studies
        .iter()
        .find(|s| !s.dropped && s.group.as_deref() == g.name.as_deref())
}

/// Whether the test for subgroup differences compares the subgroups' random-effects estimates
/// while the outputs show each subgroup's common-effect model too (a random-effects analysis,
/// separate fits): the outputs then name the model the test is of.
pub fn subgroup_test_of_random(res: &PoolResult) -> bool {
    !res.method.is_common()
        && res.subgroup_test.is_some_and(|t| t.kind == "separate")
        && res
            .subgroups
            .iter()
            .any(|g| g.common.is_some() && single_study(res, g).is_none())
}

/// The fits of a pool of proportions a readable output shows, each with its name and whether it
/// is a random-effects fit: the common effect model (when the model is random, shown beside it),
/// the overall model, then each subgroup of more than one study (its common effect model first,
/// likewise).
fn shown_fits(res: &PoolResult) -> Vec<(String, &Pooled, bool)> {
    let random = !res.method.is_common();
    let mut v = Vec::new();
    if random {
        if let Some(c) = &res.common {
            v.push(("Common effect model".to_string(), c, false));
        }
    }
    let main = if random {
        "Random effects model"
    } else {
        "Common effect model"
    };
    v.push((main.to_string(), &res.overall, random));
    for g in &res.subgroups {
        if single_study(res, g).is_none() {
            let name = format!("Subgroup {}", g.display_name());
            match (random, g.common.as_deref()) {
                (true, Some(c)) => {
                    v.push((format!("{name}, common effect model"), c, false));
                    v.push((format!("{name}, random effects model"), g, true));
                }
                _ => v.push((name, g, random)),
            }
        }
    }
    v
}

/// One note per pooled proportion interval (CI, or PI of a random-effects model) that reaches
/// outside [0, 1] and is shown truncated there: `Random effects model: PI truncated to [0%,
/// 100%]; the model's 95% PI is [53.1; 106.3]`. Empty for other measures.
pub fn truncation_notes(res: &PoolResult, decimals: usize, percent: bool) -> Vec<String> {
    if !res.measure.is_proportion() {
        return Vec::new();
    }
    let lv = level_label(res.level);
    let (lo, hi) = if percent { ("0%", "100%") } else { ("0", "1") };
    let mut out = Vec::new();
    for (what, f, random) in shown_fits(res) {
        let p = &f.effect;
        let mut intervals = vec![("CI", p.ci_lb, p.ci_ub)];
        if random && f.fit.k > 1 {
            intervals.push(("PI", p.pi_lb, p.pi_ub));
        }
        for (name, lb, ub) in intervals {
            let outside = |x: f64| !x.is_nan() && !(0.0..=1.0).contains(&x);
            if outside(lb) || outside(ub) {
                out.push(format!(
                    "{what}: {name} truncated to [{lo}, {hi}]; the model's {lv} {name} is [{}; {}]",
                    fmt_prop(lb, decimals, percent),
                    fmt_prop(ub, decimals, percent)
                ));
            }
        }
    }
    out
}

/// A p-value: `<0.001`-style below the printable range, otherwise `decimals` decimals.
pub fn fmt_p(p: f64, decimals: usize) -> String {
    if p.is_nan() {
        return "NA".into();
    }
    let floor = 10f64.powi(-(decimals as i32));
    if p < floor {
        format!("<{}", fmt_num(floor, decimals))
    } else {
        fmt_num(p, decimals)
    }
}

/// Write `bytes` to `path` atomically: a temporary file in the same folder, renamed over the
/// target only when complete. On error no file appears at `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let out_err = |m: String| Error::Output {
        path: path.to_path_buf(),
        message: m,
    };
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes).map_err(|e| out_err(e.to_string()))?;
    publish(tmp, path)
}

/// A temporary file (`.metarepro-*.tmp`) in the folder of `path`, for [`publish`]. Dropped
/// without being published, it is removed.
pub fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    let out_err = |m: String| Error::Output {
        path: path.to_path_buf(),
        message: m,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(out_err(format!("folder {} does not exist", dir.display())));
    }
    tempfile::Builder::new()
        .prefix(".metarepro-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| out_err(e.to_string()))
}

/// Move a complete temporary file over `path`: its data are flushed to disk (`fsync`), then one
/// `rename` replaces the target, so readers (and the file after a crash) see the old file or the
/// new one, never a part. The file gets ordinary permissions (0644; temporary files are created
/// 0600).
pub fn publish(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    let out_err = |m: String| Error::Output {
        path: path.to_path_buf(),
        message: m,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| out_err(e.to_string()))?;
    }
    tmp.as_file().sync_all().map_err(|e| out_err(e.to_string()))?;
    tmp.persist(path).map_err(|e| out_err(e.error.to_string()))?;
    Ok(())
}

/// CSV with one line per fit (overall first, then subgroups), unrounded.
pub fn to_csv(res: &PoolResult) -> String {
    let mut out = String::from(
        "analysis,k,events,total,estimate,se,ci_lb,ci_ub,pval,pi_lb,pi_ub,tau2,tau2_ci_lb,tau2_ci_ub,I2,I2_ci_lb,I2_ci_ub,H2,Q,Q_df,Q_p,proportion,proportion_ci_lb,proportion_ci_ub,proportion_pi_lb,proportion_pi_ub\n",
    );
    let mut line = |name: &str, f: &Pooled| {
        let o = |v: Option<f64>| v.map(csv_num).unwrap_or_default();
        let fields = [
            csv_field(name),
            f.fit.k.to_string(),
            csv_num(f.events),
            csv_num(f.total),
            csv_num(f.coef().estimate),
            csv_num(f.coef().se),
            csv_num(f.coef().ci_lb),
            csv_num(f.coef().ci_ub),
            csv_num(f.coef().pval),
            csv_num(f.pi_lb),
            csv_num(f.pi_ub),
            csv_num(f.fit.tau2),
            o(f.tau2_ci_lb),
            o(f.tau2_ci_ub),
            csv_num(f.fit.i2),
            o(f.i2_ci_lb),
            o(f.i2_ci_ub),
            csv_num(f.fit.h2),
            csv_num(f.fit.q),
            f.fit.q_df.to_string(),
            csv_num(f.fit.q_p),
            csv_num(f.effect.estimate),
            csv_num(f.effect.ci_lb),
            csv_num(f.effect.ci_ub),
            csv_num(f.effect.pi_lb),
            csv_num(f.effect.pi_ub),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    };
    line("overall", &res.overall);
    for s in &res.subgroups {
        line(s.name.as_deref().unwrap_or(""), s);
    }
    out
}

fn csv_num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:?}")
    } else {
        String::new()
    }
}

/// Quote a CSV field when needed (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
