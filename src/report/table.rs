//! The readable report of `metarepro pool` (like metafor's `print.rma`): three decimals,
//! proportions in percent.

use std::fmt::Write;

use super::{fmt_num, fmt_p};
use crate::effect::{AddTo, Measure};
use crate::model::{Method, PoolResult, Pooled};

const D: usize = 3;

fn measure_name(m: Measure) -> &'static str {
    m.describe()
}

/// "= 0.0709" or "< 0.0001", for "p-val = ..." lines.
fn p_eq(p: f64) -> String {
    let s = fmt_p(p, 4);
    match s.strip_prefix('<') {
        Some(rest) => format!("< {rest}"),
        None => format!("= {s}"),
    }
}

/// What the readable report lets one choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableOptions {
    /// Decimals of the printed estimates and CIs: proportions in percent (default
    /// [`super::PERCENT_DECIMALS`]) and, for other measures, the natural-scale effects (default
    /// 3). The transformed-scale model results and the heterogeneity statistics keep metafor's
    /// decimals; JSON and CSV are unrounded.
    pub digits: Option<usize>,
}

/// The readable report with the default options.
pub fn render(res: &PoolResult) -> String {
    render_with(res, &TableOptions::default())
}

/// The readable report: convergence warnings, then the model as metafor prints it.
pub fn render_with(res: &PoolResult, opts: &TableOptions) -> String {
    let mut o = String::new();
    for w in res.convergence_warnings() {
        let _ = writeln!(o, "Warning: {w}");
    }
    if !o.is_empty() {
        o.push('\n');
    }
    if !res.measure.is_proportion() {
        o.push_str(&render_comparative(res, opts.digits.unwrap_or(D)));
        return o;
    }
    o.push_str(&render_proportions(res, opts.digits.unwrap_or(super::PERCENT_DECIMALS)));
    o
}

fn render_proportions(res: &PoolResult, dp: usize) -> String {
    let mut o = String::new();
    let lv = super::level_label(res.level);
    // Percent, truncated to [0, 100] (notes at the end say where).
    let pct = |p: f64| fmt_num(100.0 * super::in_unit(p), dp);
    let common_only = res.method.is_common();
    let model = if common_only {
        "Common-effect model"
    } else {
        "Random-effects model"
    };
    let est = if common_only {
        String::new()
    } else {
        format!("; tau^2 estimator: {}", res.method)
    };
    let _ = writeln!(o, "{model} (k = {}{est}; test: {})", res.overall.fit.k, res.test);
    let _ = writeln!(o, "Measure: {} ({})", res.measure, measure_name(res.measure));
    let corrected = res.studies.iter().filter(|s| s.corrected).count();
    if corrected > 0 {
        let _ = writeln!(
            o,
            "Continuity correction: {} added to events and non-events of {} of {} studies ({})",
            fmt_num(res.correction.add, 2),
            corrected,
            res.studies.len(),
            match res.correction.to {
                AddTo::Only0 => "those with 0 or all events",
                AddTo::All => "all studies",
                AddTo::If0all => "all studies, as some have 0 or all events",
                AddTo::None => "none",
            }
        );
    }
    if res.measure == Measure::PFT {
        let _ = writeln!(
            o,
            "Back-transformation: inverse Freeman-Tukey at the harmonic mean of the totals"
        );
    }
    let _ = writeln!(o);
    // Both models of all studies, as meta prints them; just the common one for a common-effect
    // method.
    let common = if common_only { None } else { res.common.as_ref() };
    fit_block(&mut o, &res.overall, res.method, &lv, common);
    let _ = writeln!(o);
    if let Some(c) = common {
        let _ = writeln!(
            o,
            "Common effect model:  pooled proportion {}% ({lv} CI {}% to {}%)",
            pct(c.effect.estimate),
            pct(c.effect.ci_lb),
            pct(c.effect.ci_ub),
        );
    }
    let p = &res.overall.effect;
    if common_only {
        let _ = writeln!(
            o,
            "Common effect model: pooled proportion {}% ({lv} CI {}% to {}%)",
            pct(p.estimate),
            pct(p.ci_lb),
            pct(p.ci_ub),
        );
    } else {
        let pi = if res.overall.fit.k > 1 {
            format!("; {lv} PI {}% to {}%", pct(p.pi_lb), pct(p.pi_ub))
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "Random effects model: pooled proportion {}% ({lv} CI {}% to {}%{pi})",
            pct(p.estimate),
            pct(p.ci_lb),
            pct(p.ci_ub),
        );
    }
    if !res.subgroups.is_empty() {
        let _ = writeln!(o);
        // Random-effects analyses show each subgroup's common-effect model too (as meta prints
        // "Common effect model" and "Random effects model" per subgroup), on its own line.
        let both = !common_only
            && res
                .subgroups
                .iter()
                .any(|g| g.common.is_some() && super::single_study(res, g).is_none());
        let heading = match (common_only, res.tau2_common, both) {
            (true, _, _) => "common-effect model in each subgroup",
            (false, true, true) => {
                "common-effect and random-effects models in each subgroup, one tau^2 common to all subgroups"
            }
            (false, false, true) => {
                "common-effect and random-effects models in each subgroup, a separate tau^2 per subgroup"
            }
            (false, true, false) => "random-effects model in each subgroup, one tau^2 common to all subgroups",
            (false, false, false) => "random-effects model in each subgroup, a separate tau^2 per subgroup",
        };
        let _ = writeln!(o, "Subgroups ({heading}):");
        let name_w = res
            .subgroups
            .iter()
            .map(|s| s.display_name().chars().count())
            .max()
            .unwrap_or(0)
            .max(8);
        let ci_w = (2 * (dp + 5) + 2).max(12);
        // A common-effect model has no tau^2 and no prediction interval: no such columns.
        let line = |cells: [&str; 11]| -> String {
            let [name, model, k, et, est, ci, pi, tau2, i2, q, qp] = cells;
            let mut l = format!("  {name:<name_w$}");
            if both {
                l.push_str(&format!("  {model:<6}"));
            }
            l.push_str(&format!("  {k:>3}  {et:>13}  {est:>8}  {ci:>ci_w$}"));
            if !common_only {
                l.push_str(&format!("  {pi:>ci_w$}  {tau2:>7}"));
            }
            l.push_str(&format!("  {i2:>7}  {q:>8}  {qp:>7}"));
            l
        };
        let (ci_head, pi_head) = (format!("{lv} CI"), format!("{lv} PI"));
        let _ = writeln!(
            o,
            "{}",
            line([
                "subgroup",
                "model",
                "k",
                "events/total",
                "prop.%",
                &ci_head,
                &pi_head,
                "tau^2",
                "I^2 %",
                "Q",
                "p(Q)"
            ])
        );
        let dash = || "\u{2014}".to_string();
        let mut one_study = false;
        // The cells of one pooled fit: estimate, CI, PI, tau^2, I^2, Q, p(Q).
        let fit_cells = |f: &Pooled, random: bool| -> [String; 7] {
            [
                pct(f.effect.estimate),
                format!("[{}; {}]", pct(f.effect.ci_lb), pct(f.effect.ci_ub)),
                if random {
                    format!("[{}; {}]", pct(f.effect.pi_lb), pct(f.effect.pi_ub))
                } else {
                    dash()
                },
                if random { fmt_num(f.fit.tau2, D) } else { dash() },
                fmt_num(f.fit.i2, 1),
                fmt_num(f.fit.q, D),
                fmt_p(f.fit.q_p, 4),
            ]
        };
        for s in &res.subgroups {
            let k = s.fit.k.to_string();
            let et = format!("{}/{}", fmt_num(s.events, 0), fmt_num(s.total, 0));
            let mut print = |name: &str, model: &str, cells: &[String; 7], flag: &str| {
                let [est, ci, pi, tau2, i2, q, qp] = cells;
                let _ = writeln!(
                    o,
                    "{}{flag}",
                    line([name, model, &k, &et, est, ci, pi, tau2, i2, q, qp])
                );
            };
            match (super::single_study(res, s), s.common.as_deref()) {
                // One study: its own proportion and CI, nothing pooled.
                (Some(st), _) => {
                    one_study = true;
                    let cells = [
                        pct(st.proportion),
                        format!("[{}; {}]", pct(st.ci_lb), pct(st.ci_ub)),
                        dash(),
                        dash(),
                        dash(),
                        dash(),
                        dash(),
                    ];
                    print(s.display_name(), "\u{2014}", &cells, " (1)");
                }
                (None, Some(c)) if both => {
                    print(s.display_name(), "common", &fit_cells(c, false), "");
                    print("", "random", &fit_cells(s, true), "");
                }
                (None, _) => print(s.display_name(), "", &fit_cells(s, !common_only), ""),
            }
        }
        if one_study {
            let _ = writeln!(
                o,
                "  (1) {}: the study's own proportion and {} CI",
                super::ONE_STUDY_NOTE,
                res.study_ci.as_str()
            );
        }
        if let Some(t) = &res.subgroup_test {
            let _ = writeln!(o);
            match t.df2 {
                Some(df2) => {
                    let _ = writeln!(
                        o,
                        "Test for subgroup differences (common tau^2, F-test): F(df1 = {}, df2 = {df2}) = {}, p-val {}",
                        t.df,
                        fmt_num(t.q, D),
                        p_eq(t.p)
                    );
                }
                None => {
                    let _ = writeln!(
                        o,
                        "Test for subgroup differences ({}): Q(df = {}) = {}, p-val {}",
                        if t.kind == "common_tau2" {
                            "common tau^2, QM"
                        } else if super::subgroup_test_of_random(res) {
                            "between groups, random-effects estimates"
                        } else {
                            "between groups"
                        },
                        t.df,
                        fmt_num(t.q, D),
                        p_eq(t.p)
                    );
                }
            }
        }
    }
    let notes = super::truncation_notes(res, dp, true);
    if !notes.is_empty() {
        let _ = writeln!(o);
        for n in notes {
            let _ = writeln!(o, "Note: {n}.");
        }
    }
    o
}

/// The heterogeneity and model-results block of the overall fit (metafor's `print.rma`), with
/// the common-effect fit's row above the random-effects one when `common` is given.
fn fit_block(o: &mut String, f: &Pooled, method: Method, lv: &str, common: Option<&Pooled>) {
    let ci = |lb: Option<f64>, ub: Option<f64>, d: usize| match (lb, ub) {
        (Some(l), Some(u)) => format!(" ({lv} CI {}, {})", fmt_num(l, d), fmt_num(u, d)),
        _ => String::new(),
    };
    if f.fit.k == 1 {
        let _ = writeln!(
            o,
            "One study: no heterogeneity statistics (tau^2 = 0, Q, I^2 and H^2 undefined)."
        );
    } else {
        if !method.is_common() {
            let _ = writeln!(
                o,
                "tau^2 (estimated amount of total heterogeneity): {}{}",
                fmt_num(f.fit.tau2, 4),
                ci(f.tau2_ci_lb, f.tau2_ci_ub, 4)
            );
            let _ = writeln!(
                o,
                "tau (square root of estimated tau^2 value):      {}",
                fmt_num(f.fit.tau(), 4)
            );
        }
        let _ = writeln!(
            o,
            "I^2 (total heterogeneity / total variability):   {}%{}",
            fmt_num(f.fit.i2, 2),
            ci(f.i2_ci_lb, f.i2_ci_ub, 2)
        );
        let _ = writeln!(
            o,
            "H^2 (total variability / sampling variability):  {}{}",
            fmt_num(f.fit.h2, 2),
            ci(f.h2_ci_lb, f.h2_ci_ub, 2)
        );
        let _ = writeln!(o);
        let _ = writeln!(o, "Test for Heterogeneity:");
        match (f.q_lrt(), f.q_lrt_p()) {
            // GLMM (metafor rma.glmm): the Wald and the likelihood-ratio test.
            (Some(lrt), Some(lrt_p)) => {
                let _ = writeln!(
                    o,
                    "Wld(df = {}) = {}, p-val {}",
                    f.fit.q_df,
                    fmt_num(f.fit.q, 4),
                    fmt_p(f.fit.q_p, 4)
                );
                let _ = writeln!(
                    o,
                    "LRT(df = {}) = {}, p-val {}",
                    f.fit.q_df,
                    fmt_num(lrt, 4),
                    fmt_p(lrt_p, 4)
                );
            }
            _ => {
                let _ = writeln!(
                    o,
                    "Q(df = {}) = {}, p-val {}",
                    f.fit.q_df,
                    fmt_num(f.fit.q, 4),
                    fmt_p(f.fit.q_p, 4)
                );
            }
        }
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "Model Results (transformed scale):");
    let stat = if f.fit.test == crate::model::Test::Z {
        "zval"
    } else {
        "tval"
    };
    let label_w = if common.is_some() { 21 } else { 0 };
    let _ = writeln!(
        o,
        "{:<label_w$}{:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "", "estimate", "se", stat, "pval", "ci.lb", "ci.ub", "pi.lb", "pi.ub"
    );
    let row = |o: &mut String, label: &str, f: &Pooled, pi: bool| {
        let (pl, pu) = if pi {
            (fmt_num(f.pi_lb, D), fmt_num(f.pi_ub, D))
        } else {
            (String::new(), String::new())
        };
        let line = format!(
            "{:<label_w$}{:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            label,
            fmt_num(f.coef().estimate, D),
            fmt_num(f.coef().se, D),
            fmt_num(f.coef().zval, D),
            fmt_p(f.coef().pval, 4),
            fmt_num(f.coef().ci_lb, D),
            fmt_num(f.coef().ci_ub, D),
            pl,
            pu
        );
        let _ = writeln!(o, "{}", line.trim_end());
    };
    match common {
        // The common-effect model has no prediction interval beyond its CI.
        Some(c) => {
            row(o, "Common effect model", c, false);
            row(o, "Random effects model", f, true);
        }
        None => row(o, "", f, true),
    }
}

/// The readable report of a two-group (or other non-proportion) pool: the arms, the measure and
/// the pooling in words, as meta's print does, then the study table and both models.
fn render_comparative(res: &PoolResult, dn: usize) -> String {
    let mut o = String::new();
    let nat = |x: f64| fmt_num(x, dn);
    let lv = fmt_num(
        100.0 * res.level,
        if (100.0 * res.level).fract() == 0.0 { 0 } else { 1 },
    );
    let m = res.measure;
    let _ = writeln!(
        o,
        "Measure: {m} ({}); shown as {}",
        measure_name(m),
        m.natural_name().to_lowercase()
    );
    let _ = writeln!(o, "Pooling: {}", res.pooling_text());
    let _ = writeln!(o, "Conventions:");
    for c in &res.conventions {
        let _ = writeln!(o, "  - {c}");
    }
    let _ = writeln!(o);
    let name_w = res
        .studies
        .iter()
        .map(|s| s.study.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let cols: Vec<(String, String)> = res.studies.iter().map(|s| super::arm_text(s.input.as_ref())).collect();
    let w1 = cols.iter().map(|c| c.0.chars().count()).max().unwrap_or(0).max(7);
    let w2 = cols.iter().map(|c| c.1.chars().count()).max().unwrap_or(0).max(7);
    let _ = writeln!(
        o,
        "  {:<name_w$}  {:>w1$}  {:>w2$}  {:>9}  {:>21}  {:>7}",
        "study",
        "group 1",
        "group 2",
        m.as_str(),
        format!("{lv}% CI"),
        "weight%"
    );
    for (s, (a, b)) in res.studies.iter().zip(&cols) {
        let flag = if s.dropped {
            "  (no effect size: double zero)"
        } else if s.midpoint_flag {
            "  (estimate off the CI midpoint)"
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "  {:<name_w$}  {:>w1$}  {:>w2$}  {:>9}  {:>21}  {:>7}{flag}",
            s.study,
            a,
            b,
            nat(s.proportion),
            format!("[{}; {}]", nat(s.ci_lb), nat(s.ci_ub)),
            fmt_num(s.weight_overall, 1),
        );
    }
    let _ = writeln!(o);
    let fit_line = |o: &mut String, label: &str, f: &Pooled| {
        let e = &f.effect;
        let stat = if f.fit.test == crate::model::Test::Z { "z" } else { "t" };
        let _ = writeln!(
            o,
            "{label}: {m} {} ({lv}% CI {} to {}); {stat} = {}, p-val {}",
            nat(e.estimate),
            nat(e.ci_lb),
            nat(e.ci_ub),
            fmt_num(f.coef().zval, 2),
            p_eq(f.coef().pval)
        );
    };
    let common_label = match res.pooling {
        crate::model::Pooling::MH => "Common effect (Mantel-Haenszel)",
        crate::model::Pooling::PETO => "Common effect (Peto)",
        crate::model::Pooling::IV => "Common effect (inverse variance)",
    };
    let show = |o: &mut String, name: Option<&str>, overall: &Pooled, common: Option<&Pooled>| {
        if let Some(n) = name {
            let _ = writeln!(o, "Subgroup {n} (k = {}):", overall.fit.k);
            if overall.fit.k == 1 {
                // One study: its own effect (the one-study fit); nothing pooled.
                fit_line(o, "  The study", overall);
                let _ = writeln!(o, "  ({})", super::ONE_STUDY_NOTE);
                return;
            }
        } else {
            let _ = writeln!(o, "All studies (k = {}):", overall.fit.k);
        }
        if let Some(c) = common {
            fit_line(o, &format!("  {common_label}"), c);
        }
        if !res.method.is_common() {
            fit_line(o, &format!("  Random effects ({})", res.method), overall);
            let e = &overall.effect;
            let _ = writeln!(o, "    {lv}% prediction interval: {} to {}", nat(e.pi_lb), nat(e.pi_ub));
            if let Some(n) = &overall.model_note {
                let _ = writeln!(o, "    ({n})");
            }
        } else if common.is_none() {
            fit_line(o, &format!("  {common_label}"), overall);
        }
        if overall.fit.k > 1 {
            let _ = writeln!(
                o,
                "  Heterogeneity: Tau^2 = {}; Chi^2 = {}, df = {} (P {}); I^2 = {}%",
                fmt_num(overall.fit.tau2, 4),
                fmt_num(overall.fit.q, 2),
                overall.fit.q_df,
                p_eq(overall.fit.q_p),
                fmt_num(overall.fit.i2, 1)
            );
        } else {
            let _ = writeln!(o, "  One study: no heterogeneity statistics.");
        }
        if let Some(t) = overall.fit.mh.or(common.and_then(|c| c.fit.mh)) {
            if let (Some(x), Some(p)) = (t.mh, t.mh_p) {
                let _ = writeln!(
                    o,
                    "  Cochran-Mantel-Haenszel test: {} (df = 1), p-val {}",
                    fmt_num(x, 4),
                    p_eq(p)
                );
            }
            if let (Some(x), Some(p), Some(k)) = (t.ta, t.ta_p, t.k_pos) {
                let _ = writeln!(
                    o,
                    "  Tarone's test for heterogeneity: {} (df = {}), p-val {}",
                    fmt_num(x, 4),
                    k.saturating_sub(1),
                    p_eq(p)
                );
            }
        }
    };
    let common_all = if res.method.is_common() {
        None
    } else {
        res.common.as_ref()
    };
    show(&mut o, None, &res.overall, common_all);
    for s in &res.subgroups {
        let _ = writeln!(o);
        // Both models per subgroup, as for all studies (one for a common-effect analysis).
        let common_sub = if res.method.is_common() {
            None
        } else {
            s.common.as_deref()
        };
        show(&mut o, Some(s.display_name()), s, common_sub);
    }
    if let Some(t) = &res.subgroup_test {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "Test for subgroup differences{}: Chi^2 = {}, df = {} (P {})",
            if super::subgroup_test_of_random(res) {
                " (random-effects estimates)"
            } else {
                ""
            },
            fmt_num(t.q, 2),
            t.df,
            p_eq(t.p)
        );
    }
    o
}
