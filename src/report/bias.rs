//! The JSON and table renderings of a small-study / publication-bias assessment
//! ([`crate::diagnostics::bias::BiasAssessment`]).
//!
//! JSON (unrounded, analysis scale, `null` for a missing value):
//! `{"egger": {"zval" | "tval", "pval", "df", "model", "predictor", "slope", "slope_se", "est",
//! "ci_lb", "ci_ub", "tau2"}, "begg": {"tau", "pval", "exact"}, "trimfill": {"k0", "se_k0",
//! "p_k0", "side", "side_given", "estimator", "k", "estimate", "se", "zval" | "tval", "pval",
//! "ci_lb", "ci_ub", "tau2", "I2", "filled": [{"yi", "vi"}], "effect": {"estimate", "ci_lb",
//! "ci_ub"}}, "fsn": {"alpha", "rosenthal", "orwin", "rosenberg"}, "peters", "harbord" (each with
//! "k", the studies in the regression), "limitmeta": {"method_adjust", "k", "tau2", "estimate",
//! "se", "zval", "pval", "ci_lb", "ci_ub", "alpha_r", "beta_r", "q", "q_df", "small_study_test":
//! {"q", "df", "pval"}, "residual_heterogeneity": {"q", "df", "pval"}, "G2", "shrunken", "betalim",
//! "mulim", "effect": {"estimate", "ci_lb", "ci_ub"}}}`; a test that could not be computed is
//! `{"error": "..."}`.

use serde_json::{json, Map, Value};

use super::{fmt_num, fmt_p};
use crate::diagnostics::bias::{BiasAssessment, EffectCi, LimitAdjust, TableTest};
use crate::effect::{BackTransform, Measure};
use crate::model::{Method, Test};

/// What the assessment was computed on, for the header of the report.
#[derive(Debug, Clone)]
pub struct BiasContext {
    pub source: String,
    pub measure: Measure,
    pub method: Method,
    pub test: Test,
    pub level: f64,
    /// The back-transformation of `pool` (the natural scale of the effect).
    pub back: BackTransform,
}

fn n(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

fn on(x: Option<f64>) -> Value {
    x.map(n).unwrap_or(Value::Null)
}

fn err(e: &str) -> Value {
    json!({ "error": e })
}

fn table_test(t: &TableTest, estimate: &str, other: &str) -> Value {
    json!({
        estimate: n(t.estimate), "se": n(t.se), "tval": n(t.tval), "pval": n(t.pval),
        "df": n(t.df), other: n(t.other), "k": t.k,
    })
}

fn limit_adjust(a: &LimitAdjust) -> Value {
    json!({
        "estimate": n(a.estimate), "se": n(a.se), "zval": n(a.zval), "pval": n(a.pval),
        "ci_lb": n(a.ci_lb), "ci_ub": n(a.ci_ub),
    })
}

/// The JSON object of the assessment (see the module documentation).
pub fn to_value(a: &BiasAssessment, ctx: &BiasContext) -> Value {
    let mut m = Map::new();
    m.insert("analysis".into(), json!("bias"));
    m.insert("source".into(), json!(ctx.source));
    m.insert("measure".into(), json!(ctx.measure));
    m.insert("method".into(), json!(ctx.method));
    m.insert("test".into(), json!(ctx.test));
    m.insert("level".into(), json!(ctx.level));
    m.insert("k".into(), json!(a.k));
    let egger = match &a.egger {
        Ok(r) => {
            let stat = if r.statistic == "t" { "tval" } else { "zval" };
            json!({
                "model": r.model, "predictor": r.predictor, stat: n(r.stat), "pval": n(r.pval),
                "df": on(r.df), "slope": n(r.slope), "slope_se": n(r.slope_se), "est": on(r.est),
                "ci_lb": on(r.ci_lb), "ci_ub": on(r.ci_ub), "tau2": on(r.tau2),
            })
        }
        Err(e) => err(e),
    };
    m.insert("egger".into(), egger);
    let begg = match &a.begg {
        Ok(r) => json!({"tau": n(r.tau), "pval": n(r.pval), "exact": r.exact}),
        Err(e) => err(e),
    };
    m.insert("begg".into(), begg);
    let tf = match &a.trimfill {
        Ok(t) => {
            let c = &t.fit.coefficients[0];
            let stat = if t.fit.ddf.is_some() { "tval" } else { "zval" };
            let e = EffectCi::of(&t.fit, ctx.back);
            json!({
                "k0": t.k0, "se_k0": n(t.se_k0), "p_k0": on(t.p_k0), "side": t.side.as_str(),
                "side_given": t.side_given, "estimator": t.estimator.as_str(), "k": t.fit.k,
                "estimate": n(c.estimate), "se": n(c.se), stat: n(c.zval), "pval": n(c.pval),
                "ci_lb": n(c.ci_lb), "ci_ub": n(c.ci_ub), "tau2": n(t.fit.tau2), "I2": n(t.fit.i2),
                "filled": t.filled.iter().map(|f| json!({"yi": n(f.yi), "vi": n(f.vi)})).collect::<Vec<_>>(),
                "effect": {"estimate": n(e.estimate), "ci_lb": n(e.ci_lb), "ci_ub": n(e.ci_ub)},
            })
        }
        Err(e) => err(e),
    };
    m.insert("trimfill".into(), tf);
    let fsn = match &a.fsn {
        Ok(f) => json!({
            "alpha": f.alpha,
            "rosenthal": {"fsnum": n(f.rosenthal.fsnum), "pval": n(f.rosenthal.pval)},
            "orwin": {"fsnum": n(f.orwin.fsnum), "meanes": n(f.orwin.meanes), "target": n(f.orwin.target)},
            "rosenberg": {"fsnum": n(f.rosenberg.fsnum), "pval": n(f.rosenberg.pval), "meanes": n(f.rosenberg.meanes)},
        }),
        Err(e) => err(e),
    };
    m.insert("fsn".into(), fsn);
    if let Some(p) = &a.peters {
        let v = match p {
            Ok(t) => table_test(t, "slope", "intercept"),
            Err(e) => err(e),
        };
        m.insert("peters".into(), v);
    }
    if let Some(h) = &a.harbord {
        let v = match h {
            Ok(t) => table_test(t, "bias", "slope"),
            Err(e) => err(e),
        };
        m.insert("harbord".into(), v);
    }
    let lm = match &a.limitmeta {
        Ok(l) => {
            let mut v = limit_adjust(&l.beta0);
            let (x, y) = (ctx.back.apply(l.beta0.ci_lb), ctx.back.apply(l.beta0.ci_ub));
            if let Value::Object(o) = &mut v {
                let extra = json!({
                    "method_adjust": "beta0", "k": l.k, "tau2": n(l.tau2),
                    "alpha_r": n(l.alpha_r), "beta_r": n(l.beta_r), "q": n(l.q), "q_df": l.k - 1,
                    "small_study_test": {"q": n(l.q_small), "df": 1, "pval": n(l.q_small_pval)},
                    "residual_heterogeneity": {"q": n(l.q_resid), "df": n(l.q_resid_df), "pval": n(l.q_resid_pval)},
                    "G2": n(l.g2),
                    "shrunken": l.shrunken.iter().map(|&x| n(x)).collect::<Vec<_>>(),
                    "betalim": limit_adjust(&l.betalim), "mulim": limit_adjust(&l.mulim),
                    "effect": {"estimate": n(ctx.back.apply(l.beta0.estimate)), "ci_lb": n(x.min(y)), "ci_ub": n(x.max(y))},
                });
                if let Value::Object(e) = extra {
                    o.extend(e);
                }
            }
            v
        }
        Err(e) => err(e),
    };
    m.insert("limitmeta".into(), lm);
    Value::Object(m)
}

/// The JSON text (pretty, with a final newline).
pub fn to_json(a: &BiasAssessment, ctx: &BiasContext) -> String {
    let mut s = serde_json::to_string_pretty(&to_value(a, ctx)).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

fn p_text(p: f64) -> String {
    let t = fmt_p(p, 4);
    match t.strip_prefix('<') {
        Some(rest) => format!("p < {rest}"),
        None => format!("p = {t}"),
    }
}

fn df_text(df: Option<f64>) -> String {
    df.map(|d| format!("(df = {})", fmt_num(d, 0))).unwrap_or_default()
}

/// The readable report: each test with the conventions it used.
pub fn render_table(a: &BiasAssessment, ctx: &BiasContext) -> String {
    let mut s = format!(
        "Small-study effects and publication bias: {} ({}), k = {}\nModel: {} (test {}), as metafor 3.8.1; values on the analysis scale ({})\n",
        ctx.measure,
        ctx.measure.describe(),
        a.k,
        if ctx.method.is_common() {
            "common-effect".to_string()
        } else {
            format!("random-effects, tau^2 estimator {}", ctx.method)
        },
        ctx.test,
        ctx.measure.describe()
    );
    if a.k < 10 {
        s.push_str(&format!(
            "Note: with fewer than 10 studies ({}) these tests have low power to detect small-study effects \
             (Cochrane Handbook, section 13.3.5.4); read them with caution.\n",
            a.k
        ));
    }
    s.push('\n');
    s.push_str("Egger's regression test for funnel plot asymmetry (metafor regtest)\n");
    match &a.egger {
        Ok(r) => {
            s.push_str(&format!(
                "  model: {}; predictor: {}\n  {}{} = {}, {}\n",
                match r.model {
                    crate::diagnostics::bias::RegModel::Rma =>
                        "the pooling model with the predictor as moderator (rma)",
                    crate::diagnostics::bias::RegModel::Lm => "weighted least squares, weights 1/vi (lm)",
                },
                r.predictor,
                r.statistic,
                df_text(r.df),
                fmt_num(r.stat, 4),
                p_text(r.pval)
            ));
            if let (Some(e), Some(lb), Some(ub)) = (r.est, r.ci_lb, r.ci_ub) {
                s.push_str(&format!(
                    "  limit estimate (as {} -> 0): {} ({}% CI {} to {})\n",
                    r.predictor,
                    fmt_num(e, 4),
                    fmt_num(100.0 * ctx.level, 0),
                    fmt_num(lb, 4),
                    fmt_num(ub, 4)
                ));
            }
        }
        Err(e) => s.push_str(&format!("  not computed: {e}\n")),
    }
    s.push_str("\nBegg and Mazumdar's rank correlation test (metafor ranktest)\n");
    match &a.begg {
        Ok(r) => s.push_str(&format!(
            "  Kendall's tau = {}, {} ({})\n",
            fmt_num(r.tau, 4),
            p_text(r.pval),
            if r.exact {
                "exact"
            } else {
                "normal approximation with tie correction"
            }
        )),
        Err(e) => s.push_str(&format!("  not computed: {e}\n")),
    }
    let left_out = |t: &TableTest| {
        if t.k < a.k {
            format!(
                "  {} of {} studies (without events or without non-events in both groups left out, as R meta)\n",
                t.k, a.k
            )
        } else {
            String::new()
        }
    };
    if let Some(p) = &a.peters {
        s.push_str("\nPeters' test (regression of the effect on 1/N; Peters et al., JAMA 2006)\n");
        match p {
            Ok(t) => s.push_str(&format!(
                "{}  slope = {} (SE {}), t(df = {}) = {}, {}\n",
                left_out(t),
                fmt_num(t.estimate, 4),
                fmt_num(t.se, 4),
                fmt_num(t.df, 0),
                fmt_num(t.tval, 4),
                p_text(t.pval)
            )),
            Err(e) => s.push_str(&format!("  not computed: {e}\n")),
        }
    }
    if let Some(h) = &a.harbord {
        s.push_str(if ctx.measure == Measure::RR {
            "\nHarbord's score-based test (Harbord et al., Stat Med 2006; score of the log RR, as R meta)\n"
        } else {
            "\nHarbord's score-based test (Harbord et al., Stat Med 2006)\n"
        });
        match h {
            Ok(t) => s.push_str(&format!(
                "{}  bias (intercept) = {} (SE {}), t(df = {}) = {}, {}\n",
                left_out(t),
                fmt_num(t.estimate, 4),
                fmt_num(t.se, 4),
                fmt_num(t.df, 0),
                fmt_num(t.tval, 4),
                p_text(t.pval)
            )),
            Err(e) => s.push_str(&format!("  not computed: {e}\n")),
        }
    }
    s.push_str("\nTrim-and-fill (metafor trimfill)\n");
    match &a.trimfill {
        Ok(t) => {
            let c = &t.fit.coefficients[0];
            s.push_str(&format!(
                "  estimator: {}; side: {} ({})\n  estimated missing studies: {} (SE {}{})\n",
                t.estimator.as_str(),
                t.side.as_str(),
                if t.side_given {
                    "given"
                } else {
                    "from the sign of the slope on sqrt(vi)"
                },
                t.k0,
                fmt_num(t.se_k0, 4),
                t.p_k0
                    .map(|p| format!("; test of k0 = 0: {}", p_text(p)))
                    .unwrap_or_default()
            ));
            let e = EffectCi::of(&t.fit, ctx.back);
            s.push_str(&format!(
                "  adjusted estimate (k = {}): {} (SE {}; {}% CI {} to {}), tau^2 = {}\n",
                t.fit.k,
                fmt_num(c.estimate, 4),
                fmt_num(c.se, 4),
                fmt_num(100.0 * ctx.level, 0),
                fmt_num(c.ci_lb, 4),
                fmt_num(c.ci_ub, 4),
                fmt_num(t.fit.tau2, 4)
            ));
            if ctx.back != BackTransform::Identity {
                s.push_str(&format!(
                    "  {}: {} ({}% CI {} to {})\n",
                    ctx.measure.natural_name(),
                    fmt_num(e.estimate, 4),
                    fmt_num(100.0 * ctx.level, 0),
                    fmt_num(e.ci_lb, 4),
                    fmt_num(e.ci_ub, 4)
                ));
            }
            if !t.filled.is_empty() {
                s.push_str("  filled studies (yi, vi):");
                for f in &t.filled {
                    s.push_str(&format!(" ({}, {})", fmt_num(f.yi, 4), fmt_num(f.vi, 4)));
                }
                s.push('\n');
            }
        }
        Err(e) => s.push_str(&format!("  not computed: {e}\n")),
    }
    s.push_str("\nLimit meta-analysis (R metasens limitmeta; Rucker et al., Biostatistics 2011)\n");
    match &a.limitmeta {
        Ok(l) => {
            let b = &l.beta0;
            s.push_str(&format!(
                "  {}; adjustment beta0: the expected effect as the standard error goes to 0\n  adjusted estimate: {} (SE {}; {}% CI {} to {}), z = {}, {}\n",
                if ctx.method.is_common() {
                    "common-effect model (tau^2 = 0)".to_string()
                } else {
                    format!("random-effects model, tau^2 = {} ({})", fmt_num(l.tau2, 4), ctx.method)
                },
                fmt_num(b.estimate, 4),
                fmt_num(b.se, 4),
                fmt_num(100.0 * ctx.level, 0),
                fmt_num(b.ci_lb, 4),
                fmt_num(b.ci_ub, 4),
                fmt_num(b.zval, 4),
                p_text(b.pval)
            ));
            if ctx.back != BackTransform::Identity {
                let (x, y) = (ctx.back.apply(b.ci_lb), ctx.back.apply(b.ci_ub));
                s.push_str(&format!(
                    "  {}: {} ({}% CI {} to {})\n",
                    ctx.measure.natural_name(),
                    fmt_num(ctx.back.apply(b.estimate), 4),
                    fmt_num(100.0 * ctx.level, 0),
                    fmt_num(x.min(y), 4),
                    fmt_num(x.max(y), 4)
                ));
            }
            s.push_str(&format!(
                "  test of small-study effects: Q - Q' = {} (df = 1), {}\n  residual heterogeneity beyond small-study effects: Q' = {} (df = {}), {}; G^2 = {}%\n",
                fmt_num(l.q_small, 2),
                p_text(l.q_small_pval),
                fmt_num(l.q_resid, 2),
                fmt_num(l.q_resid_df, 0),
                p_text(l.q_resid_pval),
                fmt_num(100.0 * l.g2, 1)
            ));
        }
        Err(e) => s.push_str(&format!("  not computed: {e}\n")),
    }
    s.push_str("\nFail-safe N (metafor fsn)\n");
    match &a.fsn {
        Ok(f) => s.push_str(&format!(
            "  Rosenthal (Stouffer, alpha = {}): {} (observed one-sided {})\n  Orwin (unweighted, target {}): {}\n  Rosenberg (common-effect, alpha = {}): {} (observed {})\n",
            f.alpha,
            fmt_num(f.rosenthal.fsnum, 0),
            p_text(f.rosenthal.pval),
            fmt_num(f.orwin.target, 4),
            fmt_num(f.orwin.fsnum, 0),
            f.alpha,
            fmt_num(f.rosenberg.fsnum, 0),
            p_text(f.rosenberg.pval)
        )),
        Err(e) => s.push_str(&format!("  not computed: {e}\n")),
    }
    s
}
