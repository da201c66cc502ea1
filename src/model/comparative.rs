//! Pooling two-group and other effect sizes (OR, RR, RD, PETO, AS, MD, SMD, SMDH, ROM, IRR, IRD,
//! COR, ZCOR, GEN) overall and per subgroup, by inverse variance (metafor `rma`), Mantel–Haenszel
//! (`rma.mh`) or Peto (`rma.peto`).
//!
//! With `--pooling MH` or `PETO` the common-effect model is the M-H or Peto fit. A random-effects
//! `--method` then adds an inverse-variance random-effects pool of the study effect sizes:
//!
//! - with DL, τ² is DerSimonian–Laird from the Q computed around the M-H (or Peto) estimate with
//!   inverse-variance weights: RevMan 5's "M-H, random" (meta with `Q.Cochrane = TRUE`). No
//!   Mantel–Haenszel random-effects model exists; the output says so in words;
//! - with any other estimator, τ² is estimated from the study effect sizes as `rma` does (meta's
//!   behaviour for `method.tau = "REML"`).
//!
//! Studies left without an effect size by the double-zero rule (`drop00`) are listed in the
//! conventions and take no part in the inverse-variance fits; in the M-H sums they count as the
//! M-H options say.

use super::mh::{rma_mh, rma_peto, tau2_dl_from_q};
use super::subgroup::{factor_design, levels, q_between, summarize, SubgroupTest};
use super::{rma, rma_mods, Method, PoolOptions, PoolResult, Pooled, Pooling, RmaFit, StudyRow};
use crate::data::{Studies, StudyInput};
use crate::dist;
use crate::effect::comparative::{escalc_inputs, Comparative, EscalcOptions};
use crate::effect::{AddTo, BackTransform, EffectSizes, Measure};
use crate::error::{Error, Result};

/// The column a problem with an input of this kind is reported in.
fn column_of(studies: &Studies, input: &StudyInput) -> String {
    let c = &studies.columns;
    match input {
        StudyInput::Proportion { .. } | StudyInput::Table2x2 { .. } => c.ai.clone(),
        StudyInput::Means { .. } => c.n1i.clone(),
        StudyInput::Rates { .. } => c.x1i.clone(),
        StudyInput::Correlation { .. } => c.ni.clone(),
        StudyInput::Generic { .. } => c.vi.clone(),
        StudyInput::EstimateCi { .. } => c.ci_lb.clone(),
    }
}

fn data_error(studies: &Studies, i: usize, message: String) -> Error {
    let row = studies.rows.get(i).copied();
    Error::Data {
        file: studies.source.clone(),
        row,
        line: row.and_then(|r| studies.line_of(r)),
        column: studies.inputs.get(i).map(|x| column_of(studies, x)).unwrap_or_default(),
        message: format!(
            "study \"{}\": {message}",
            studies.study.get(i).cloned().unwrap_or_default()
        ),
    }
}

/// The effect sizes of the studies, checked: an error for a study whose effect size is not
/// defined (unless the double-zero rule left it out, or M-H/Peto pooling does not need it).
pub fn comparative_effect_sizes(studies: &Studies, options: &PoolOptions) -> Result<Comparative> {
    if studies.inputs.is_empty() {
        return Err(Error::Computation(format!(
            "{}: no studies left to pool",
            studies.source.display()
        )));
    }
    let eo = EscalcOptions {
        correction: options.correction,
        drop00: options.drop00,
        vtype: options.vtype,
        cc_target: options.cc_target,
        addyi: options.addyi,
    };
    let comp = escalc_inputs(options.measure, &studies.inputs, &eo).map_err(|(i, m)| data_error(studies, i, m))?;
    if options.pooling == Pooling::IV {
        for i in 0..comp.es.k() {
            let (y, v) = (comp.es.yi[i], comp.es.vi[i]);
            if !comp.dropped[i] && !crate::effect::is_defined(y, v) {
                return Err(data_error(
                    studies,
                    i,
                    format!(
                        "the {} effect size is not defined (yi = {y}, vi = {v}); with a zero cell use a continuity \
                         correction, leave double-zero tables out, or use Mantel-Haenszel pooling",
                        options.measure
                    ),
                ));
            }
        }
    }
    Ok(comp)
}

fn finite(es: &EffectSizes) -> Vec<usize> {
    es.defined()
}

/// Weights (%) of `fit` (fitted to the studies `idx` of `n`) spread back to all `n` studies.
fn spread(fit: &RmaFit, idx: &[usize], n: usize) -> Vec<f64> {
    let mut w = vec![0.0; n];
    let wp = fit.weights_percent();
    for (j, &i) in idx.iter().enumerate() {
        w[i] = wp[j];
    }
    w
}

/// The common-effect and the reported fit of one set of studies (positions `idx`), with each
/// study's weight (%) in the reported fit.
pub(crate) struct SetFit {
    pub(crate) common: RmaFit,
    pub(crate) main: RmaFit,
    pub(crate) note: Option<String>,
    pub(crate) weights: Vec<f64>,
}

fn fit_set(
    studies: &Studies,
    es: &EffectSizes,
    idx: &[usize],
    options: &PoolOptions,
    tau2_fixed: Option<f64>,
) -> Result<SetFit> {
    let inputs: Vec<StudyInput> = idx.iter().map(|&i| studies.inputs[i]).collect();
    fit_inputs(&inputs, &es.subset(idx), options, tau2_fixed)
}

/// [`fit_set`] on the inputs of one set of studies and their effect sizes `sub` (one per input;
/// NaN where a study has none): the rule of the module documentation, also used by `batch`.
/// `options.measure` must already be PETO with Peto pooling (as [`pool_comparative`] sets it).
pub(crate) fn fit_inputs(
    inputs: &[StudyInput],
    sub: &EffectSizes,
    options: &PoolOptions,
    tau2_fixed: Option<f64>,
) -> Result<SetFit> {
    let fin = finite(sub);
    let fin_es = sub.subset(&fin);
    let n = sub.k();
    let mut rma_opts = options.rma_options();
    rma_opts.tau2_fixed = tau2_fixed;
    let mut ee = rma_opts;
    ee.method = Method::EE;
    ee.tau2_fixed = None;
    let common = match options.pooling {
        Pooling::IV => rma(&fin_es.yi, &fin_es.vi, &ee)?,
        Pooling::MH => rma_mh(inputs, &sub.yi, &sub.vi, options.measure, options.level, &options.mh)?,
        Pooling::PETO => rma_peto(inputs, &sub.yi, &sub.vi, options.level, &options.mh)?,
    };
    let common_weights = |f: &RmaFit| {
        if options.pooling == Pooling::IV {
            spread(f, &fin, n)
        } else {
            f.weights.clone()
        }
    };
    if options.method.is_common() {
        let weights = common_weights(&common);
        return Ok(SetFit {
            main: common.clone(),
            common,
            note: None,
            weights,
        });
    }
    if fin_es.k() == 0 {
        return Err(Error::Computation(
            "no study has an effect size for the random-effects model".into(),
        ));
    }
    let (main, note) = match options.pooling {
        Pooling::IV => (rma(&fin_es.yi, &fin_es.vi, &rma_opts)?, None),
        Pooling::MH | Pooling::PETO if options.method == Method::DL && tau2_fixed.is_none() => {
            let what = if options.pooling == Pooling::MH { "M-H" } else { "Peto" };
            let tau2 = if fin_es.k() > 1 {
                tau2_dl_from_q(common.q, common.q_df, &fin_es.vi, &fin_es.yi)
            } else {
                0.0
            };
            let mut o = rma_opts;
            o.tau2_fixed = Some(tau2);
            let mut f = rma(&fin_es.yi, &fin_es.vi, &o)?;
            // Heterogeneity as RevMan reports it: Q around the M-H estimate, I² from Q.
            f.q = common.q;
            f.q_df = common.q_df;
            f.q_p = common.q_p;
            f.i2 = common.i2;
            f.h2 = common.h2;
            (
                f,
                Some(format!(
                    "inverse-variance random-effects pool of the study effect sizes; tau^2 by DerSimonian-Laird from Q \
                     around the {what} estimate (RevMan's \"{what}, random\": there is no {what} random-effects model)"
                )),
            )
        }
        _ => {
            let what = options.pooling.describe();
            (
                rma(&fin_es.yi, &fin_es.vi, &rma_opts)?,
                Some(format!(
                    "inverse-variance random-effects pool of the study effect sizes (tau^2 by {}); the {what} estimate is the common-effect model",
                    if tau2_fixed.is_some() { "the common-tau^2 model".to_string() } else { options.method.to_string() }
                )),
            )
        }
    };
    let weights = spread(&main, &fin, n);
    Ok(SetFit {
        common,
        main,
        note,
        weights,
    })
}

fn summarise(
    name: Option<String>,
    fit: RmaFit,
    es: &EffectSizes,
    events: f64,
    options: &PoolOptions,
    note: Option<String>,
) -> Pooled {
    let fin = finite(es);
    let mut p = summarize(name, fit, &es.subset(&fin), events, options);
    p.model_note = note;
    p
}

/// `pool` for two-group and other measures: see the module documentation.
pub fn pool_comparative(studies: &Studies, options: &PoolOptions) -> Result<PoolResult> {
    if options.pooling == Pooling::PETO && options.measure != Measure::PETO && options.measure != Measure::OR {
        return Err(Error::Usage(format!(
            "Peto pooling pools odds ratios (Peto's one-step OR): the measure must be OR or PETO, not {}{}",
            options.measure,
            if options.measure == Measure::HR {
                "; a hazard ratio is pooled by inverse variance"
            } else {
                ""
            }
        )));
    }
    let mut options = *options;
    if options.pooling == Pooling::PETO {
        options.measure = Measure::PETO;
    }
    let options = &options;
    let comp = comparative_effect_sizes(studies, options)?;
    let es = &comp.es;
    let k = es.k();
    let all: Vec<usize> = (0..k).collect();
    let context = |what: &str, e: Error| match e {
        Error::Computation(m) => Error::Computation(format!("{what}: {m}")),
        other => other,
    };
    let sum_events = |idx: &[usize]| idx.iter().map(|&i| studies.events[i]).sum::<f64>();
    let set = fit_set(studies, es, &all, options, None).map_err(|e| context("overall", e))?;
    let weight_overall = set.weights.clone();
    let sub_all = es.subset(&all);
    let overall = summarise(None, set.main, &sub_all, sum_events(&all), options, set.note);
    let common = summarise(None, set.common, &sub_all, sum_events(&all), options, None);

    let mut subgroups = Vec::new();
    let mut subgroup_test: Option<SubgroupTest> = None;
    let mut tau2_common_value = None;
    let mut weight = weight_overall.clone();
    if let Some(groups) = &studies.group {
        let lv = levels(groups);
        let mut fixed = None;
        if options.tau2_common && lv.len() > 1 {
            let fin = finite(es);
            let g: Vec<String> = fin.iter().map(|&i| groups[i].clone()).collect();
            let glv = levels(&g);
            let (x, names) = factor_design(&g, &glv);
            let f = es.subset(&fin);
            let mfit = rma_mods(&f.yi, &f.vi, x, names, &options.rma_options())
                .map_err(|e| context("common tau^2 model", e))?;
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
                fixed = Some(mfit.tau2);
            }
        }
        for (name, idx) in &lv {
            let s =
                fit_set(studies, es, idx, options, fixed).map_err(|e| context(&format!("subgroup \"{name}\""), e))?;
            for (j, &i) in idx.iter().enumerate() {
                weight[i] = s.weights[j];
            }
            let sub = es.subset(idx);
            let common = summarise(None, s.common, &sub, sum_events(idx), options, None);
            let mut g = summarise(Some(name.clone()), s.main, &sub, sum_events(idx), options, s.note);
            // The subgroup's common-effect model (the M-H or Peto fit with those poolings).
            g.common = Some(Box::new(common));
            subgroups.push(g);
        }
        if subgroup_test.is_none() && subgroups.len() > 1 {
            subgroup_test = Some(q_between(&subgroups));
        }
    }
    let back = BackTransform::for_measure(options.measure, &[]);
    let z = dist::critical(options.level, None);
    let rows = (0..k)
        .map(|i| {
            let (y, v) = (es.yi[i], es.vi[i]);
            let (lb, ub) = (back.apply(y - z * v.sqrt()), back.apply(y + z * v.sqrt()));
            StudyRow {
                study: studies.study[i].clone(),
                row: studies.rows[i],
                group: studies.group.as_ref().map(|g| g[i].clone()),
                events: studies.events[i],
                total: studies.total[i],
                yi: y,
                vi: v,
                proportion: back.apply(y),
                ci_lb: lb.min(ub),
                ci_ub: ub.max(lb),
                weight: weight[i],
                weight_overall: weight_overall[i],
                corrected: es.corrected[i],
                input: Some(studies.inputs[i]),
                midpoint_flag: comp.midpoint_flag[i],
                dropped: comp.dropped[i],
            }
        })
        .collect();
    Ok(PoolResult {
        measure: options.measure,
        pooling: options.pooling,
        method: options.method,
        test: options.test,
        level: options.level,
        correction: options.correction,
        pi_type: options.pi_type,
        study_ci: options.study_ci,
        tau2_common: options.tau2_common,
        tau2_common_value,
        conventions: conventions(options, &comp, studies),
        overall,
        common: Some(common),
        subgroups,
        subgroup_test,
        studies: rows,
        n_agq: None,
    })
}

/// The conventions that produced a two-group result, in words.
fn conventions(options: &PoolOptions, comp: &Comparative, studies: &Studies) -> Vec<String> {
    let m = options.measure;
    let mut c = vec![format!("{m} ({})", m.describe())];
    if matches!(m, Measure::SMD | Measure::RD | Measure::MD | Measure::ROM) {
        c.push(format!("sampling variances: vtype {}", options.vtype.as_str()));
    }
    let n_corr = comp.es.corrected.iter().filter(|&&x| x).count();
    if n_corr > 0 {
        let cells = if matches!(m, Measure::IRR | Measure::IRD) {
            "both event counts"
        } else {
            "all cells"
        };
        c.push(format!(
            "{} added to {cells} of {n_corr} of {} studies ({}) for the study effect sizes",
            options.correction.add,
            comp.es.k(),
            match options.correction.to {
                AddTo::Only0 => "those with a zero cell",
                AddTo::All => "all studies",
                AddTo::If0all => "all studies, as some have a zero cell",
                AddTo::None => "none",
            }
        ));
    }
    let dropped: Vec<String> = (0..comp.dropped.len())
        .filter(|&i| comp.dropped[i])
        .map(|i| format!("\"{}\" (row {})", studies.study[i], studies.rows[i]))
        .collect();
    if !dropped.is_empty() {
        c.push(format!(
            "double-zero studies given no effect size (drop00): {}",
            dropped.join(", ")
        ));
    }
    let n_ci = studies
        .inputs
        .iter()
        .filter(|x| matches!(x, StudyInput::EstimateCi { .. }))
        .count();
    if n_ci > 0 {
        c.push(format!(
            "{n_ci} studies given as an estimate with its CI: yi and vi from the CI on the {} scale (metafor conv.wald)",
            if m.is_ratio() { "log" } else if m == Measure::ZCOR { "Fisher z" } else { "natural" }
        ));
    }
    match options.pooling {
        Pooling::IV => c.push("pooling: inverse variance".into()),
        Pooling::MH => {
            let sums = if options.mh.sums.add != 0.0 && options.mh.sums.to != AddTo::None {
                format!(
                    "{} added to the cells of tables with a zero inside the M-H sums{}",
                    options.mh.sums.add,
                    if options.mh.rd_raw_estimate && m == Measure::RD {
                        " (RD: variance only)"
                    } else {
                        ""
                    }
                )
            } else {
                "no correction inside the M-H sums".into()
            };
            let rdv = if m == Measure::RD {
                format!(
                    "; RD variance: {}",
                    match options.mh.rd_variance {
                        super::RdVariance::SGR => "Sato-Greenland-Robins 1989 (metafor)",
                        super::RdVariance::GR => "Greenland-Robins 1985 (RevMan, meta, Stata)",
                    }
                )
            } else {
                String::new()
            };
            c.push(format!(
                "pooling: Mantel-Haenszel (common effect); {sums}; double-zero tables {} the sums{rdv}",
                if options.mh.drop00_sums {
                    "left out of"
                } else {
                    "kept in"
                }
            ));
        }
        Pooling::PETO => c.push("pooling: Peto's one-step odds ratio (no continuity correction)".into()),
    }
    if !options.method.is_common() {
        c.push(match (options.pooling, options.method) {
            (Pooling::IV, m) => format!("random effects: tau^2 by {m}"),
            (p, Method::DL) => format!(
                "random effects: inverse-variance pool with tau^2 by DerSimonian-Laird from Q around the {} estimate (RevMan)",
                if p == Pooling::MH { "M-H" } else { "Peto" }
            ),
            (_, m) => format!("random effects: inverse-variance pool with tau^2 by {m} from the study effect sizes"),
        });
    }
    c.push(format!("test: {}", options.test));
    c
}
