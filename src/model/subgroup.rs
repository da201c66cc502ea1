//! Pooling proportions overall and per subgroup: the analysis `metarepro pool` runs.
//!
//! Each subgroup gets its own fit (its own τ²) and the test for subgroup differences is a
//! Wald-type Q between the subgroup estimates, as `meta` reports it for random-effects models
//! (`tau.common = FALSE`). With `tau2_common`, τ² is estimated once from the mixed-effects model
//! with the subgroup as a factor moderator (metafor `rma(mods = ~ factor(g))`), each subgroup is
//! pooled with that τ², and the test is that model's omnibus QM.

use ndarray::Array2;
use serde::Serialize;

use super::{
    rma, rma_mods, Coefficient, Control, Method, MhOptions, MhTests, PiType, Pooling, RmaFit, RmaOptions, Test,
};
use crate::data::Studies;
use crate::dist;
use crate::effect::comparative::{CcTarget, Vtype};
use crate::effect::{escalc, study_ci, BackTransform, CiMethod, Correction, EffectSizes, Measure, PftMean};
use crate::error::{Error, Result};

/// Every choice of a pooled analysis. `Default` gives metafor's defaults (PLO is not metafor's
/// default measure — escalc has none — but is the customary one for proportions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolOptions {
    pub measure: Measure,
    pub correction: Correction,
    pub method: Method,
    pub test: Test,
    pub level: f64,
    pub pi_type: PiType,
    pub study_ci: CiMethod,
    pub pft_mean: PftMean,
    pub tau2_common: bool,
    pub control: Control,
    /// Two-group measures: give double-zero tables no effect size (metafor's `drop00`).
    pub drop00: bool,
    /// Two-group measures: the sampling-variance formula (metafor's `vtype`).
    pub vtype: Vtype,
    /// 2×2 tables: which cells the continuity correction changes.
    pub cc_target: CcTarget,
    /// 2×2 tables: yi from the corrected cells too (metafor's `addyi`); false: only vi.
    pub addyi: bool,
    /// Inverse variance, Mantel–Haenszel or Peto.
    pub pooling: Pooling,
    /// What shapes an M-H or Peto fit.
    pub mh: MhOptions,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            measure: Measure::PLO,
            correction: Correction::default(),
            method: Method::REML,
            test: Test::Z,
            level: 0.95,
            pi_type: PiType::Metafor,
            study_ci: CiMethod::CP,
            pft_mean: PftMean::Harmonic,
            tau2_common: false,
            control: Control::default(),
            drop00: false,
            vtype: Vtype::LS,
            cc_target: CcTarget::AllCells,
            addyi: true,
            pooling: Pooling::IV,
            mh: MhOptions::default(),
        }
    }
}

impl PoolOptions {
    pub fn rma_options(&self) -> RmaOptions {
        RmaOptions {
            method: self.method,
            test: self.test,
            level: self.level,
            tau2_fixed: None,
            control: self.control,
        }
    }
}

/// Back-transformed (natural-scale) estimate, CI and prediction interval: the proportion for
/// proportion measures, the ratio for OR/RR/PETO/ROM/IRR, the correlation for ZCOR.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EffectSummary {
    pub estimate: f64,
    pub ci_lb: f64,
    pub ci_ub: f64,
    pub pi_lb: f64,
    pub pi_ub: f64,
}

/// One pooled fit (overall or a subgroup): the [`RmaFit`] and what a report prints beside it —
/// the prediction interval, the CIs of τ², I² and H², the natural-scale summary. Every number
/// of the fit itself (k, estimate, SE, τ², Q, I², test, convergence) is read from `fit`
/// ([`Pooled::coef`] for the estimate and its test). Serialised as the `FIT` object of the JSON
/// contract (`report::json`).
#[derive(Debug, Clone)]
pub struct Pooled {
    /// The subgroup: its value in the subgroup column (the code); `None` for the overall fit.
    pub name: Option<String>,
    /// What tables and figures call the subgroup (from a label map); `None`: the code itself.
    pub label: Option<String>,
    /// Sum of events and of totals of the studies in the fit.
    pub events: f64,
    pub total: f64,
    pub fit: RmaFit,
    /// Prediction interval of the average effect, on the measure's scale.
    pub pi_lb: f64,
    pub pi_ub: f64,
    /// Q-profile CIs of τ², I² and H² (`None` where metafor gives none: k ≤ 1, common-effect
    /// fits, the GLMM).
    pub tau2_ci_lb: Option<f64>,
    pub tau2_ci_ub: Option<f64>,
    pub i2_ci_lb: Option<f64>,
    pub i2_ci_ub: Option<f64>,
    pub h2_ci_lb: Option<f64>,
    pub h2_ci_ub: Option<f64>,
    /// The natural-scale summary (the JSON writes it as `effect`, and as `proportion` too for
    /// proportion measures).
    pub effect: EffectSummary,
    /// How the fit was made, in words, where it is not plain inverse variance (e.g. RevMan's
    /// "M-H, random": inverse-variance random effects with τ² from Q around the M-H estimate).
    pub model_note: Option<String>,
    /// Subgroups: the common-effect fit of the subgroup's studies, shaped as the overall `common`
    /// (inverse variance; the M-H or Peto fit with those poolings; a copy of the subgroup's fit
    /// when the analysis is common-effect). `None` for the overall fit (its common-effect fit is
    /// [`PoolResult::common`]) and for the GLMM, which has no common-effect fit.
    pub common: Option<Box<Pooled>>,
    /// The back-transformation used for `effect`.
    pub back: BackTransform,
}

impl Pooled {
    /// The estimate with its SE, test and CI (the intercept of the fit).
    pub fn coef(&self) -> &Coefficient {
        &self.fit.coefficients[0]
    }

    /// GLMM only: metafor's likelihood-ratio test for heterogeneity (QE.LRT, df = `Q_df`) and its
    /// p-value; `Q` is then the Wald test (QE.Wld).
    pub fn q_lrt(&self) -> Option<f64> {
        self.fit.glmm.as_ref().map(|g| g.qe_lrt)
    }

    pub fn q_lrt_p(&self) -> Option<f64> {
        self.fit.glmm.as_ref().map(|g| g.qe_lrt_p)
    }
}

/// The `FIT` object of the JSON contract: a [`Pooled`] as the JSON writes it.
#[derive(Serialize)]
struct PooledJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: &'a Option<String>,
    k: usize,
    events: f64,
    total: f64,
    estimate: f64,
    se: f64,
    zval: f64,
    ci_lb: f64,
    ci_ub: f64,
    pval: f64,
    pi_lb: f64,
    pi_ub: f64,
    tau2: f64,
    tau: f64,
    tau2_ci_lb: Option<f64>,
    tau2_ci_ub: Option<f64>,
    #[serde(rename = "I2")]
    i2: f64,
    #[serde(rename = "I2_ci_lb")]
    i2_ci_lb: Option<f64>,
    #[serde(rename = "I2_ci_ub")]
    i2_ci_ub: Option<f64>,
    #[serde(rename = "H2")]
    h2: f64,
    #[serde(rename = "H2_ci_lb")]
    h2_ci_lb: Option<f64>,
    #[serde(rename = "H2_ci_ub")]
    h2_ci_ub: Option<f64>,
    #[serde(rename = "Q")]
    q: f64,
    #[serde(rename = "Q_df")]
    q_df: usize,
    #[serde(rename = "Q_p")]
    q_p: f64,
    #[serde(rename = "Q_LRT", skip_serializing_if = "Option::is_none")]
    q_lrt: Option<f64>,
    #[serde(rename = "Q_LRT_p", skip_serializing_if = "Option::is_none")]
    q_lrt_p: Option<f64>,
    /// The test used (`z` when metafor switches to it for k = 1).
    test: Test,
    iterations: usize,
    converged: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    convergence_note: &'a Option<String>,
    proportion: EffectSummary,
    effect: EffectSummary,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    mh: Option<MhTests>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model_note: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    common: &'a Option<Box<Pooled>>,
}

impl Serialize for Pooled {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let (f, c) = (&self.fit, self.coef());
        PooledJson {
            name: &self.name,
            label: &self.label,
            k: f.k,
            events: self.events,
            total: self.total,
            estimate: c.estimate,
            se: c.se,
            zval: c.zval,
            ci_lb: c.ci_lb,
            ci_ub: c.ci_ub,
            pval: c.pval,
            pi_lb: self.pi_lb,
            pi_ub: self.pi_ub,
            tau2: f.tau2,
            tau: f.tau(),
            tau2_ci_lb: self.tau2_ci_lb,
            tau2_ci_ub: self.tau2_ci_ub,
            i2: f.i2,
            i2_ci_lb: self.i2_ci_lb,
            i2_ci_ub: self.i2_ci_ub,
            h2: f.h2,
            h2_ci_lb: self.h2_ci_lb,
            h2_ci_ub: self.h2_ci_ub,
            q: f.q,
            q_df: f.q_df,
            q_p: f.q_p,
            q_lrt: self.q_lrt(),
            q_lrt_p: self.q_lrt_p(),
            test: f.test,
            iterations: f.iterations,
            converged: f.converged,
            convergence_note: &f.convergence_note,
            proportion: self.effect,
            effect: self.effect,
            mh: f.mh,
            model_note: &self.model_note,
            common: &self.common,
        }
        .serialize(serializer)
    }
}

/// One study row, as a forest plot shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StudyRow {
    pub study: String,
    /// 1-based data row in the input file.
    pub row: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub events: f64,
    pub total: f64,
    pub yi: f64,
    pub vi: f64,
    /// Observed proportion x/n and its CI by the chosen study-CI method; for two-group and other
    /// measures the study's effect on the natural scale and its Wald CI (the JSON calls them
    /// `effect`, `ci_lb`, `ci_ub`).
    pub proportion: f64,
    pub ci_lb: f64,
    pub ci_ub: f64,
    /// Weight (%) in the fit the study belongs to (its subgroup's when grouped).
    pub weight: f64,
    /// Weight (%) in the overall fit.
    pub weight_overall: f64,
    /// Whether the continuity correction was applied.
    pub corrected: bool,
    /// Two-group and other inputs: the study's data (its columns, as read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<crate::data::StudyInput>,
    /// An estimate given with its CI whose estimate is off the CI's midpoint on the analysis
    /// scale (metafor `conv.wald`'s check).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub midpoint_flag: bool,
    /// Given no effect size by the double-zero rule (`drop00`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dropped: bool,
}

/// Test for subgroup differences.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SubgroupTest {
    #[serde(rename = "Q")]
    pub q: f64,
    pub df: usize,
    /// Denominator df when the test is an F-test (common τ² with t/knha).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub df2: Option<usize>,
    pub p: f64,
    /// `separate` (Q between the separately fitted subgroup estimates) or `common_tau2` (QM).
    pub kind: &'static str,
}

/// The full result of a pooled analysis.
#[derive(Debug, Clone, Serialize)]
pub struct PoolResult {
    pub measure: Measure,
    pub pooling: Pooling,
    pub method: Method,
    pub test: Test,
    pub level: f64,
    pub correction: Correction,
    pub pi_type: PiType,
    pub study_ci: CiMethod,
    pub tau2_common: bool,
    /// τ² of the mixed-effects model with the subgroup as moderator (with `tau2_common`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tau2_common_value: Option<f64>,
    pub overall: Pooled,
    /// The common-effect fit of all studies (the M-H or Peto fit with those poolings); `None`
    /// for the GLMM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub common: Option<Pooled>,
    pub subgroups: Vec<Pooled>,
    pub subgroup_test: Option<SubgroupTest>,
    pub studies: Vec<StudyRow>,
    /// GLMM only: the number of adaptive Gauss–Hermite points.
    #[serde(rename = "nAGQ", skip_serializing_if = "Option::is_none")]
    pub n_agq: Option<usize>,
    /// The conventions that produced the numbers, in words (measure, correction, pooling, τ²).
    pub conventions: Vec<String>,
}

impl Pooled {
    /// The subgroup as tables and figures show it: its label, else its code ("" for the overall
    /// fit).
    pub fn display_name(&self) -> &str {
        self.label.as_deref().or(self.name.as_deref()).unwrap_or("")
    }
}

impl PoolResult {
    /// How the studies were combined, in words: the pooling, or for the GLMM that nothing is
    /// pooled (the model is fitted to the counts).
    pub fn pooling_text(&self) -> &'static str {
        if self.method == Method::GLMM {
            "none (the GLMM is fitted to the counts by maximum likelihood)"
        } else {
            self.pooling.describe()
        }
    }

    /// One line for each fit (overall, common effect, each subgroup) whose iterative estimator
    /// stopped before its convergence criterion held; empty when all converged. Every output
    /// (table, Markdown, figures) shows these lines; the JSON has `converged` per fit.
    pub fn convergence_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut add = |what: String, f: &Pooled| {
            if !f.fit.converged {
                let why = f
                    .fit
                    .convergence_note
                    .as_deref()
                    .unwrap_or("the estimator stopped early");
                out.push(format!("Not converged ({what}): {why}."));
            }
        };
        add("all studies".into(), &self.overall);
        if let Some(c) = &self.common {
            add("common-effect model".into(), c);
        }
        for g in &self.subgroups {
            add(format!("subgroup {}", g.display_name()), g);
            if let Some(c) = &g.common {
                add(format!("subgroup {}, common-effect model", g.display_name()), c);
            }
        }
        out
    }

    /// Give the subgroups the labels of `labels` (code → label); codes without a label keep
    /// showing the code. Returns the codes of `labels` that name no subgroup (a misspelt code).
    pub fn set_labels(&mut self, labels: &crate::data::Labels) -> Vec<String> {
        for g in &mut self.subgroups {
            g.label = g.name.as_ref().and_then(|n| labels.get(n)).cloned();
        }
        labels
            .keys()
            .filter(|code| !self.subgroups.iter().any(|g| g.name.as_deref() == Some(code.as_str())))
            .cloned()
            .collect()
    }
}

/// Summarise a fit: CI of τ², prediction, back-transformation.
pub fn summarize(name: Option<String>, fit: RmaFit, es: &EffectSizes, events: f64, options: &PoolOptions) -> Pooled {
    let ci = fit.confint();
    let pred = fit.predict(options.pi_type);
    let back = BackTransform::with_mean(es.measure, &es.ni, options.pft_mean);
    let (ci_lb, ci_ub) = sorted(back.apply(pred.ci_lb), back.apply(pred.ci_ub));
    let (pi_lb, pi_ub) = sorted(back.apply(pred.pi_lb), back.apply(pred.pi_ub));
    let effect = EffectSummary {
        estimate: back.apply(pred.pred),
        ci_lb,
        ci_ub,
        pi_lb,
        pi_ub,
    };
    Pooled {
        name,
        label: None,
        events,
        total: es.ni.iter().sum(),
        pi_lb: pred.pi_lb,
        pi_ub: pred.pi_ub,
        tau2_ci_lb: ci.map(|c| c.tau2_lb),
        tau2_ci_ub: ci.map(|c| c.tau2_ub),
        i2_ci_lb: ci.map(|c| c.i2_lb),
        i2_ci_ub: ci.map(|c| c.i2_ub),
        h2_ci_lb: ci.map(|c| c.h2_lb),
        h2_ci_ub: ci.map(|c| c.h2_ub),
        effect,
        model_note: None,
        common: None,
        back,
        fit,
    }
}

fn sorted(a: f64, b: f64) -> (f64, f64) {
    if a > b {
        (b, a)
    } else {
        (a, b)
    }
}

/// The subgroup levels in sorted order, and for each level the positions of its studies.
pub fn levels(groups: &[String]) -> Vec<(String, Vec<usize>)> {
    let mut names: Vec<String> = groups.to_vec();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|g| {
            let idx = groups
                .iter()
                .enumerate()
                .filter(|(_, v)| **v == g)
                .map(|(i, _)| i)
                .collect();
            (g, idx)
        })
        .collect()
}

/// The effect sizes of `studies` for an inverse-variance model: an error when there are none, or
/// when a study's effect size or variance is not defined (0 or all events without a continuity
/// correction), naming the file, row and study.
pub(crate) fn checked_effect_sizes(studies: &Studies, options: &PoolOptions) -> Result<EffectSizes> {
    if studies.events.is_empty() {
        return Err(Error::Computation(format!(
            "{}: no studies left to pool",
            studies.source.display()
        )));
    }
    if !options.measure.is_proportion() {
        // Inverse-variance analyses of two-group data: every study needs an effect size.
        let mut o = *options;
        o.pooling = Pooling::IV;
        let comp = super::comparative::comparative_effect_sizes(studies, &o)?;
        if let Some(i) = comp.dropped.iter().position(|&d| d) {
            return Err(Error::Computation(format!(
                "{}: row {}, study \"{}\": a double-zero table has no effect size when double-zero tables are dropped; leave the row out",
                studies.source.display(),
                studies.rows[i],
                studies.study[i]
            )));
        }
        return Ok(comp.es);
    }
    let es = escalc(options.measure, &studies.events, &studies.total, options.correction);
    for i in 0..es.k() {
        if !es.is_defined(i) {
            return Err(Error::Computation(format!(
                "{}: row {}, study \"{}\" ({} of {}): the {} effect size is not defined without a continuity correction \
                 (yi = {}, vi = {}); use a continuity correction (e.g. for studies with 0 or all events) or another measure",
                studies.source.display(),
                studies.rows[i],
                studies.study[i],
                studies.events[i],
                studies.total[i],
                options.measure,
                es.yi[i],
                es.vi[i]
            )));
        }
    }
    Ok(es)
}

/// Pool proportions by inverse variance overall and (when `studies.group` is set) per subgroup
/// (see [`super::pool`] for the other measures and the GLMM).
pub fn pool_proportions(studies: &Studies, options: &PoolOptions) -> Result<PoolResult> {
    if options.pooling != Pooling::IV {
        return Err(Error::Usage(format!(
            "{} pooling is for two-group measures (OR, RR, RD, IRR, IRD; PETO); single proportions are pooled by inverse variance or the GLMM",
            options.pooling.as_str()
        )));
    }
    let es = checked_effect_sizes(studies, options)?;
    let rma_opts = options.rma_options();
    let context = |what: &str, e: Error| match e {
        Error::Computation(m) => Error::Computation(format!("{what}: {m}")),
        other => other,
    };
    let overall_fit = rma(&es.yi, &es.vi, &rma_opts).map_err(|e| context("overall", e))?;
    let events_all: f64 = studies.events.iter().sum();
    let overall = summarize(None, overall_fit, &es, events_all, options);
    let weight_overall = overall.fit.weights_percent();

    let mut subgroups = Vec::new();
    let mut subgroup_test = None;
    let mut tau2_common_value = None;
    let mut weight = weight_overall.clone();
    if let Some(groups) = &studies.group {
        let lv = levels(groups);
        let mut fixed_tau2 = None;
        if options.tau2_common && lv.len() > 1 {
            let (x, names) = factor_design(groups, &lv);
            let mfit = rma_mods(&es.yi, &es.vi, x, names, &rma_opts).map_err(|e| context("common tau^2 model", e))?;
            if let Some(qm) = mfit.qm {
                subgroup_test = Some(SubgroupTest {
                    q: qm.qm,
                    df: qm.df,
                    df2: qm.df2,
                    p: qm.p,
                    kind: "common_tau2",
                });
            }
            tau2_common_value = Some(mfit.tau2);
            if !options.method.is_common() {
                fixed_tau2 = Some(mfit.tau2);
            }
        }
        for (name, idx) in &lv {
            let sub = es.subset(idx);
            let mut o = rma_opts;
            o.tau2_fixed = fixed_tau2;
            let fit = rma(&sub.yi, &sub.vi, &o).map_err(|e| context(&format!("subgroup \"{name}\""), e))?;
            let w = fit.weights_percent();
            for (j, &i) in idx.iter().enumerate() {
                weight[i] = w[j];
            }
            let ev: f64 = idx.iter().map(|&i| studies.events[i]).sum();
            let mut g = summarize(Some(name.clone()), fit, &sub, ev, options);
            // The subgroup's common-effect model (meta prints both per subgroup).
            let common = if options.method.is_common() {
                g.clone()
            } else {
                let mut ee = rma_opts;
                ee.method = Method::EE;
                let cfit = rma(&sub.yi, &sub.vi, &ee)
                    .map_err(|e| context(&format!("subgroup \"{name}\", common-effect model"), e))?;
                summarize(None, cfit, &sub, ev, options)
            };
            g.common = Some(Box::new(Pooled { name: None, ..common }));
            subgroups.push(g);
        }
        if subgroup_test.is_none() && subgroups.len() > 1 {
            subgroup_test = Some(q_between(&subgroups));
        }
    }

    let studies_rows = study_rows(studies, &es, options, &weight, &weight_overall);
    let common = if options.method.is_common() {
        Some(overall.clone())
    } else {
        let mut o = rma_opts;
        o.method = Method::EE;
        let fit = rma(&es.yi, &es.vi, &o).map_err(|e| context("common-effect model", e))?;
        Some(summarize(None, fit, &es, events_all, options))
    };
    let conventions = proportion_conventions(options, &es);

    Ok(PoolResult {
        measure: options.measure,
        pooling: Pooling::IV,
        method: options.method,
        test: options.test,
        level: options.level,
        correction: options.correction,
        pi_type: options.pi_type,
        study_ci: options.study_ci,
        tau2_common: options.tau2_common,
        tau2_common_value,
        overall,
        common,
        subgroups,
        subgroup_test,
        studies: studies_rows,
        n_agq: None,
        conventions,
    })
}

/// The conventions of a pool of proportions, in words.
fn proportion_conventions(options: &PoolOptions, es: &EffectSizes) -> Vec<String> {
    let mut c = vec![format!("{} ({})", options.measure, options.measure.describe())];
    let n = es.corrected.iter().filter(|&&x| x).count();
    if n > 0 {
        c.push(format!(
            "{} added to events and non-events of {n} of {} studies (to = \"{}\")",
            options.correction.add,
            es.k(),
            options.correction.to.as_str()
        ));
    }
    c.push(if options.method.is_common() {
        "common-effect model, inverse variance".to_string()
    } else {
        format!("random-effects model, inverse variance, tau^2 by {}", options.method)
    });
    c.push(format!("test: {}", options.test));
    c
}

/// Q between subgroup estimates: Σ w_g (θ_g − θ̄)², w_g = 1/SE_g², df = G − 1.
pub fn q_between(subgroups: &[Pooled]) -> SubgroupTest {
    let w: Vec<f64> = subgroups.iter().map(|s| 1.0 / (s.coef().se * s.coef().se)).collect();
    let sw: f64 = w.iter().sum();
    let mean = subgroups
        .iter()
        .zip(&w)
        .map(|(s, w)| w * s.coef().estimate)
        .sum::<f64>()
        / sw;
    let q: f64 = subgroups
        .iter()
        .zip(&w)
        .map(|(s, w)| w * (s.coef().estimate - mean).powi(2))
        .sum();
    let df = subgroups.len() - 1;
    SubgroupTest {
        q,
        df,
        df2: None,
        p: dist::pchisq_upper(q, df as f64),
        kind: "separate",
    }
}

/// Design matrix of `~ factor(group)` (treatment coding, first level the reference).
pub fn factor_design(groups: &[String], lv: &[(String, Vec<usize>)]) -> (Array2<f64>, Vec<String>) {
    let k = groups.len();
    let p = lv.len();
    let mut x = Array2::zeros((k, p));
    let mut names = vec!["intrcpt".to_string()];
    for i in 0..k {
        x[[i, 0]] = 1.0;
    }
    for (j, (name, idx)) in lv.iter().enumerate().skip(1) {
        names.push(name.clone());
        for &i in idx {
            x[[i, j]] = 1.0;
        }
    }
    (x, names)
}

/// The study rows of a pooled analysis, with each study's weight (%) in its own fit and in the
/// overall fit (NaN where the model gives no weights, as the GLMM).
pub fn study_rows(
    studies: &Studies,
    es: &EffectSizes,
    options: &PoolOptions,
    weight: &[f64],
    weight_overall: &[f64],
) -> Vec<StudyRow> {
    (0..studies.events.len())
        .map(|i| {
            let (x, n) = (studies.events[i], studies.total[i]);
            let (lb, ub) = study_ci(x, n, options.level, options.study_ci);
            StudyRow {
                study: studies.study[i].clone(),
                row: studies.rows[i],
                group: studies.group.as_ref().map(|g| g[i].clone()),
                events: x,
                total: n,
                yi: es.yi[i],
                vi: es.vi[i],
                proportion: x / n,
                ci_lb: lb,
                ci_ub: ub,
                weight: weight[i],
                weight_overall: weight_overall[i],
                corrected: es.corrected[i],
                input: None,
                midpoint_flag: false,
                dropped: false,
            }
        })
        .collect()
}
