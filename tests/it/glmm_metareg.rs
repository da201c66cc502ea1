//! The GLMM (metafor `rma.glmm(measure = "PLO")`, lme4 backend) and meta-regression (metafor
//! `rma(yi, vi, mods = ...)`) against the fixtures of `tests/fixtures/make_glmm_fixtures.R` and
//! `tests/fixtures/make_metareg_fixtures.R`.
//!
//! GLMM tolerances (two optimisers of one likelihood):
//! - against lme4 run to convergence ("tight"): estimate and τ² 1e-6 relative, SE 2e-5 (lme4's
//!   SE comes from a finite-difference Hessian with step 1e-4); lme4's SE itself and the Q
//!   between subgroups built on it 5e-4 and 2e-4 with nAGQ >= 7, and only reported (not
//!   compared, not counted) with the Laplace approximation, where lme4's SE is up to 54% off;
//! - against metafor's defaults ("default", lme4's Nelder–Mead stopping early): 1e-4 relative on
//!   estimate, SE and τ² (an estimate within 1e-4 of 0 on the logit scale is compared to 1e-4 of
//!   its SE instead);
//! - statistics that do not depend on the optimiser (Wald and LR tests for heterogeneity, ṽ):
//!   1e-6 relative.
//!
//! The OR GLMM (`rma.glmm(measure = "OR")`, fixtures `glmm_or`) uses the same checks and
//! tolerances, except where lme4's optimiser over its k + 2 parameters demonstrably stops short:
//! where lme4's deviance ends above ours by more than its PIRLS noise (1e-10 tight, 1e-5
//! default), estimate and τ² are compared at 1e-5 (tight; bcg: 1.1e-9 above, 4.6e-6 off) and
//! 2e-3 (default; nielweise2007: 1.5e-4 above, lme4 warns that it failed to converge, τ² 8.8e-4
//! off). These fits are listed as "lme4 short" in the summary.
//!
//! Meta-regression: 1e-6 relative (1e-10 absolute near zero), as the rma fixtures.

use std::collections::BTreeMap;
use std::path::Path;

use metarepro::data::{self, LoadOptions, Studies};
use metarepro::effect::Measure;
use metarepro::model::glmm::{glmm_int, glmm_or_int, GlmmDetails, GlmmModel, GlmmOptions};
use metarepro::model::RmaFit;
use metarepro::model::{pool, Control, Method, PoolOptions, Test};
use serde_json::Value;

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().map(String::from).unwrap_or_else(|| x.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn fixtures(dir: &str) -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable");
            let v: Value = serde_json::from_str(&text).expect("JSON");
            (p.file_stem().unwrap().to_string_lossy().to_string(), v)
        })
        .collect()
}

/// Relative difference, with `floor` as the smallest scale.
fn rel(ours: f64, theirs: f64, floor: f64) -> f64 {
    if ours == theirs {
        return 0.0;
    }
    (ours - theirs).abs() / theirs.abs().max(floor)
}

/// Largest differences seen per (control, field), for the summary printed with --nocapture.
#[derive(Default)]
struct Tally {
    max: BTreeMap<String, (f64, String)>,
    failures: Vec<String>,
    compared: usize,
    /// Differences recorded for the summary only: not compared, not counted in `compared`.
    reported: usize,
}

impl Tally {
    /// Record the relative difference of a value that is not compared (no tolerance can be
    /// justified for it) for the summary, without counting it as compared.
    fn report(&mut self, group: &str, field: &str, what: &str, ours: f64, theirs: &Value, floor: f64) {
        self.reported += 1;
        let d = theirs.as_f64().map_or(f64::NAN, |t| rel(ours, t, floor));
        let e = self
            .max
            .entry(format!("{group} {field} (reported only)"))
            .or_insert((0.0, String::new()));
        if d > e.0 || d.is_nan() {
            *e = (d, what.to_string());
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check(&mut self, group: &str, field: &str, what: &str, ours: f64, theirs: &Value, floor: f64, tol: f64) {
        self.compared += 1;
        let Some(t) = theirs.as_f64() else {
            if ours.is_finite() {
                self.failures.push(format!("{what}.{field}: fixture null, ours {ours}"));
            }
            return;
        };
        let d = rel(ours, t, floor);
        let key = format!("{group} {field}");
        let e = self.max.entry(key).or_insert((0.0, String::new()));
        if d > e.0 || d.is_nan() {
            *e = (d, what.to_string());
        }
        if !(d <= tol) {
            self.failures.push(format!(
                "{what}.{field}: fixture {t:e}, ours {ours:e} (rel {d:.2e} > {tol:e})"
            ));
        }
    }

    fn finish(self, name: &str) {
        println!(
            "{name}: {} values compared ({} more reported only, not compared); largest relative \
             differences:",
            self.compared, self.reported
        );
        for (k, (d, w)) in &self.max {
            println!("  {k:<28} {d:.2e}  ({w})");
        }
        if !self.failures.is_empty() {
            panic!(
                "{} mismatches, first ones:\n{}",
                self.failures.len(),
                self.failures.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
            );
        }
    }
}

fn glmm_options(case: &Value) -> GlmmOptions {
    GlmmOptions {
        n_agq: case["nAGQ"].as_u64().unwrap() as usize,
        test: case["test"].as_str().unwrap().parse().unwrap(),
        ..GlmmOptions::default()
    }
}

/// Which fixture fits are compared how (see the module documentation).
fn check_glmm_fit(t: &mut Tally, what: &str, control: &str, fit: &RmaFit, r: &Value) {
    let gd: &GlmmDetails = fit.glmm.as_deref().expect("a GLMM fit");
    let tight = control == "tight";
    let synthetic = what.starts_with("homog") || what.starts_with("zeros") || what.starts_with("OR homog");
    let laplace = gd.n_agq == 1;
    // OR (k + 2 parameters for lme4's optimiser): where lme4's deviance ends measurably above
    // ours -- beyond its PIRLS noise: 1e-10 with the tight control, 1e-5 with the defaults --
    // lme4 stopped short of the optimum along a flat direction. Measured: bcg tight 1.1e-9 above,
    // estimate 4.6e-6 off (hence 1e-5 for estimate and tau2); nielweise2007 default 1.5e-4
    // above (lme4 warns "failed to converge, max|grad| = 0.0089"), tau2 8.8e-4 off (hence 2e-3).
    let lme4_above = r["deviance"].as_f64().map_or(0.0, |d| d - gd.deviance);
    let short = gd.model == GlmmModel::OddsRatio && lme4_above > if tight { 1e-10 } else { 1e-5 };
    let group = format!(
        "{control} nAGQ={}{}{}",
        gd.n_agq,
        if synthetic { " synthetic" } else { "" },
        if short { " lme4 short" } else { "" }
    );
    let g = group.as_str();
    let c = &fit.coefficients[0];
    // An estimate within 1e-4 of 0 is compared relative to its SE.
    let est_floor = c.se.max(1e-4);
    if tight {
        // The same likelihood optimised to convergence by both. lme4's deviance carries the
        // PIRLS tolerance (1e-13 relative, ~1e-11 in D), which locates its optimum to ~1e-6;
        // its Laplace deviance (nAGQ = 1) keeps a first-order error from the PIRLS modes
        // (~3e-7 in D), hence 1e-5.
        let tol = if laplace || short { 1e-5 } else { 2e-6 };
        t.check(g, "estimate", what, c.estimate, &r["estimate"], est_floor, tol);
        t.check(g, "tau2", what, fit.tau2, &r["tau2"], 1e-4, tol);
        // lme4's reported SE is a step-1e-4 finite-difference Hessian at the optimiser's last
        // function value, so noisy; se_hessian is the same quantity without that noise, at
        // lme4's optimum (~1e-6 from ours, hence 5e-6). For nAGQ = 1 the Laplace deviance's own
        // error limits it to ~1e-2.
        // lme4's SE itself: with nAGQ >= 7 at most 1.44e-4 from ours (hannum2020 [Subjective],
        // nAGQ = 7; 1.5e-6 with nAGQ = 15, 3e-6 on the synthetic data), hence 5e-4. With the
        // Laplace approximation (nAGQ = 1) its finite differences are up to 0.54 off (hannum2020
        // [Subjective]): no tolerance means anything there, so it is reported, not compared.
        if laplace {
            t.report(g, "se (lme4 vcov)", what, c.se, &r["se"], 0.0);
        } else {
            t.check(g, "se (lme4 vcov)", what, c.se, &r["se"], 0.0, 5e-4);
        }
        t.check(
            g,
            "se_hessian",
            what,
            c.se,
            &r["se_hessian"],
            0.0,
            if laplace { 1e-2 } else { 5e-6 },
        );
        t.check(g, "I2", what, fit.i2, &r["I2"], 1e-2, tol);
        t.check(g, "H2", what, fit.h2, &r["H2"], 1.0, tol);
        t.check(g, "ll (metafor)", what, gd.loglik_metafor, &r["ll"], 1.0, tol);
    } else {
        // metafor's defaults: lme4 stops early (Nelder-Mead, PIRLS tolerance 1e-7). The synthetic
        // extremes (k = 2 with x = n, 0/15 with tau ~ 2.6) move lme4's optimum by up to 4.5e-4.
        let tol = if short {
            2e-3
        } else if synthetic {
            5e-4
        } else {
            1e-4
        };
        t.check(g, "estimate", what, c.estimate, &r["estimate"], est_floor, tol);
        // Relative to the estimate itself (README: hannum2020's pooled logit -0.0601 is 1.04e-4
        // of itself off): at most 1.04e-4 (hannum2020 overall), 9.9e-5 on the synthetic data,
        // hence 3e-4. No estimate of these fixtures is near 0, where this would not hold (the
        // check above is relative to the SE there).
        t.check(
            g,
            "estimate (plain relative)",
            what,
            c.estimate,
            &r["estimate"],
            0.0,
            if short { 2e-3 } else { 3e-4 },
        );
        t.check(g, "se", what, c.se, &r["se"], 0.0, tol);
        t.check(g, "tau2", what, fit.tau2, &r["tau2"], 1e-4, tol);
        let td = 5.0 * tol;
        let pred = fit.predict(metarepro::model::PiType::Metafor);
        t.check(g, "zval", what, c.zval, &r["zval"], 1.0, td);
        t.check(g, "pval", what, c.pval, &r["pval"], 1e-300, 1e2 * td);
        t.check(g, "ci_lb", what, c.ci_lb, &r["ci_lb"], c.se, td);
        t.check(g, "ci_ub", what, c.ci_ub, &r["ci_ub"], c.se, td);
        t.check(g, "pi_lb", what, pred.pi_lb, &r["pi_lb"], c.se, td);
        t.check(g, "pi_ub", what, pred.pi_ub, &r["pi_ub"], c.se, td);
        t.check(g, "I2", what, fit.i2, &r["I2"], 1e-2, td);
        t.check(g, "H2", what, fit.h2, &r["H2"], 1.0, td);
        // The natural scale: the proportion (PLO) or the odds ratio (OR).
        let (key, back): (&str, fn(f64) -> f64) = match gd.model {
            GlmmModel::Proportion => ("proportion", |x| 1.0 / (1.0 + (-x).exp())),
            GlmmModel::OddsRatio => ("effect", f64::exp),
        };
        let p = &r[key];
        let f = |n: &str| format!("{key}.{n}");
        t.check(g, &f("estimate"), what, back(c.estimate), &p["estimate"], 1e-3, td);
        t.check(g, &f("ci_lb"), what, back(c.ci_lb), &p["ci_lb"], 1e-3, 10.0 * td);
        t.check(g, &f("ci_ub"), what, back(c.ci_ub), &p["ci_ub"], 1e-3, td);
        t.check(g, &f("pi_lb"), what, back(pred.pi_lb), &p["pi_lb"], 1e-3, 10.0 * td);
        t.check(g, &f("pi_ub"), what, back(pred.pi_ub), &p["pi_ub"], 1e-3, td);
        t.check(g, "ll (metafor)", what, gd.loglik_metafor, &r["ll"], 1.0, td);
    }
    // Independent of the optimiser.
    // (Wald ~ 2e-7 for 12/25 with 18/18: compared to 1e-9 absolute.)
    t.check("any", "QE_Wld", what, fit.q, &r["QE_Wld"], 1e-3, 1e-6);
    t.check("any", "QEp_Wld", what, fit.q_p, &r["QEp_Wld"], 1e-300, 1e-6);
    t.check("any", "QE_LRT", what, gd.qe_lrt, &r["QE_LRT"], 1e-3, 1e-6);
    t.check("any", "QEp_LRT", what, gd.qe_lrt_p, &r["QEp_LRT"], 1e-300, 1e-6);
    t.check("any", "vt", what, fit.vt, &r["vt"], 0.0, 1e-9);
    t.check("any", "k", what, fit.k as f64, &r["k"], 0.0, 0.0);
    // The deviance (-2 logLik): ours is the minimum of the function lme4 evaluates with
    // tolPwrss = 1e-13, so never above lme4's at its optimum (beyond 1e-7).
    if let Some(dev) = r["deviance"].as_f64() {
        t.compared += 1;
        let d = gd.deviance - dev;
        let key = format!("{g} deviance ours - lme4 (abs)");
        let e = t.max.entry(key).or_insert((f64::NEG_INFINITY, String::new()));
        if d > e.0 {
            *e = (d, what.to_string());
        }
        if tight && d > 1e-7 * dev.abs().max(1.0) {
            t.failures
                .push(format!("{what}.deviance: lme4 {dev}, ours {} (higher)", gd.deviance));
        }
    }
}

/// Q between subgroups against lme4 run to convergence with nAGQ >= 7: it carries lme4's
/// finite-difference SEs (up to 1.44e-4 off, see "se (lme4 vcov)"); measured at most 4.5e-5
/// (hannum2020, nAGQ = 7; 1.0e-6 with nAGQ = 15), hence 2e-4.
const TIGHT_SUBGROUP_Q_TOL: f64 = 2e-4;

#[test]
fn glmm_matches_metafor_rma_glmm() {
    let mut t = Tally::default();
    for (name, fx) in fixtures("glmm") {
        let events = floats(&fx["events"]);
        let total = floats(&fx["total"]);
        let group = if fx["group"].is_null() {
            None
        } else {
            Some(strings(&fx["group"]))
        };
        for case in fx["cases"].as_array().unwrap() {
            let opts = glmm_options(case);
            let control = case["control"].as_str().unwrap();
            let label = format!(
                "{name} {} nAGQ={} {control}",
                case["test"].as_str().unwrap(),
                opts.n_agq
            );
            let fit = glmm_int(&events, &total, &opts).unwrap_or_else(|e| panic!("{label}: {e}"));
            check_glmm_fit(&mut t, &format!("{label} overall"), control, &fit, &case["overall"]);
            let mut any_error = false;
            if let Some(g) = &group {
                for sub in case["subgroups"].as_array().unwrap() {
                    let lv = sub["name"].as_str().unwrap();
                    let idx: Vec<usize> = (0..g.len()).filter(|&i| g[i] == lv).collect();
                    let ev: Vec<f64> = idx.iter().map(|&i| events[i]).collect();
                    let tot: Vec<f64> = idx.iter().map(|&i| total[i]).collect();
                    let what = format!("{label} [{lv}]");
                    let ours = glmm_int(&ev, &tot, &opts);
                    if sub.get("error").is_some() {
                        any_error = true;
                        assert!(ours.is_err(), "{what}: metafor fails ({}), we fit", sub["error"]);
                        continue;
                    }
                    let fit = ours.unwrap_or_else(|e| panic!("{what}: {e}"));
                    check_glmm_fit(&mut t, &what, control, &fit, sub);
                }
            }
            // The whole analysis through `pool`, as `metarepro pool --method GLMM` runs it.
            let studies =
                Studies::from_counts(strings(&fx["study"]), events.clone(), total.clone(), group.clone()).unwrap();
            let control_opts = Control {
                n_agq: opts.n_agq,
                ..Control::default()
            };
            let po = PoolOptions {
                measure: Measure::PLO,
                method: Method::GLMM,
                test: opts.test,
                control: control_opts,
                ..PoolOptions::default()
            };
            match pool(&studies, &po) {
                Err(e) => assert!(any_error, "{label}: pool failed: {e}"),
                Ok(res) => {
                    assert!(!any_error, "{label}: pool should fail like metafor");
                    assert_eq!(res.method, Method::GLMM);
                    assert!(res.overall.tau2_ci_lb.is_none());
                    assert!(res.overall.q_lrt().is_some());
                    let o = &case["overall"];
                    let tol = if control == "tight" { 1e-5 } else { 5e-4 };
                    let floor = res.overall.coef().se;
                    t.check(
                        control,
                        "pool estimate",
                        &label,
                        res.overall.coef().estimate,
                        &o["estimate"],
                        floor,
                        tol,
                    );
                    t.check(
                        "any",
                        "pool Q (Wald)",
                        &label,
                        res.overall.fit.q,
                        &o["QE_Wld"],
                        1e-8,
                        1e-6,
                    );
                    if let Some(st) = case["subgroup_test"].as_object() {
                        let ours = res.subgroup_test.expect("subgroup test");
                        // Q between subgroups uses lme4's SEs (see "se (lme4 vcov)" above).
                        // metafor's defaults: at most 1.7e-5 (kearon1998), hence 1e-3 (as the
                        // GLMM's estimate and SE there). Tight fits: with the Laplace
                        // approximation up to 9e-2 (hannum2020), lme4's SE being up to 0.54
                        // off: reported, not compared; with nAGQ >= 7 see the tolerance below.
                        let g = format!("{control} nAGQ={}", opts.n_agq);
                        if control == "tight" && opts.n_agq == 1 {
                            t.report(&g, "subgroup Q", &label, ours.q, &st["Q"], 1e-2);
                        } else {
                            let tol = if control == "tight" { TIGHT_SUBGROUP_Q_TOL } else { 1e-3 };
                            t.check(&g, "subgroup Q", &label, ours.q, &st["Q"], 1e-2, tol);
                        }
                    }
                    let json = metarepro::report::json::to_json(&res);
                    let v: Value = serde_json::from_str(&json).unwrap();
                    assert_eq!(v["method"], "GLMM");
                    assert!(v["overall"]["tau2_ci_lb"].is_null());
                    assert!(v["studies"][0]["weight"].is_null());
                }
            }
        }
    }
    t.finish("GLMM vs metafor rma.glmm");
}

#[test]
fn glmm_usage_errors() {
    let studies = Studies::from_counts(
        vec!["a".into(), "b".into(), "c".into()],
        vec![3.0, 0.0, 7.0],
        vec![20.0, 15.0, 30.0],
        None,
    )
    .unwrap();
    let base = PoolOptions {
        method: Method::GLMM,
        ..PoolOptions::default()
    };
    // A zero-event study needs no correction.
    assert!(pool(&studies, &base).is_ok());
    for bad in [
        PoolOptions {
            measure: Measure::PR,
            ..base
        },
        PoolOptions {
            test: Test::Knha,
            ..base
        },
        PoolOptions {
            tau2_common: true,
            ..base
        },
    ] {
        match pool(&studies, &bad) {
            Err(metarepro::Error::Usage(_)) => {}
            other => panic!("expected a usage error, got {other:?}"),
        }
    }
    let opts = metarepro::model::RmaOptions {
        method: Method::GLMM,
        ..Default::default()
    };
    match metarepro::model::rma(&[0.1, 0.2], &[0.01, 0.02], &opts) {
        Err(metarepro::Error::Usage(m)) => assert!(m.contains("GLMM needs counts: use pool")),
        other => panic!("{other:?}"),
    }
    assert!(!Method::ALL.contains(&Method::GLMM));
    assert_eq!("glmm".parse::<Method>().unwrap(), Method::GLMM);
}

fn load(path: &Path) -> Studies {
    data::load(
        path,
        &LoadOptions {
            events: "events".into(),
            total: "total".into(),
            study: "study".into(),
            by: None,
            filters: vec![],
            exclude: vec![],
            delimiter: None,
            na_drop: false,
            columns: Default::default(),
            labels: Default::default(),
        },
    )
    .unwrap()
}

/// Write the fixture's columns as a CSV and load it as `metarepro metareg` does.
fn write_csv(dir: &Path, name: &str, columns: &serde_json::Map<String, Value>) -> std::path::PathBuf {
    let names: Vec<&String> = columns.keys().collect();
    let n = columns
        .values()
        .next()
        .and_then(|v| v.as_array())
        .map(|a| a.len())
        .unwrap_or(0);
    let mut text = names.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(",");
    text.push('\n');
    for i in 0..n {
        let row: Vec<String> = names
            .iter()
            .map(|c| match &columns[c.as_str()][i] {
                Value::String(s) => format!("\"{}\"", s.replace('"', "\"\"")),
                v => v.to_string(),
            })
            .collect();
        text.push_str(&row.join(","));
        text.push('\n');
    }
    let path = dir.join(format!("{name}.csv"));
    std::fs::write(&path, text).unwrap();
    path
}

fn num_or_null(c: &mut Tally, group: &str, field: &str, what: &str, ours: Option<f64>, theirs: &Value) {
    match (ours, theirs.as_f64()) {
        (None, None) => c.compared += 1,
        (Some(o), _) => c.check(group, field, what, o, theirs, 1e-4, 1e-6),
        (None, Some(t)) => c.failures.push(format!("{what}.{field}: fixture {t}, ours null")),
    }
}

#[test]
fn metareg_matches_metafor_rma_mods() {
    use metarepro::model::metareg::metareg;
    let dir = tempfile::tempdir().unwrap();
    let mut t = Tally::default();
    for (name, fx) in fixtures("metareg") {
        let path = write_csv(dir.path(), &name, fx["columns"].as_object().unwrap());
        let studies = load(&path);
        for case in fx["cases"].as_array().unwrap() {
            let mods = case["mods"].as_str().unwrap();
            let terms: Vec<String> = mods
                .trim_start_matches('~')
                .split('+')
                .map(|s| s.trim().to_string())
                .collect();
            let measure: Measure = case["measure"].as_str().unwrap().parse().unwrap();
            let method: Method = case["method"].as_str().unwrap().parse().unwrap();
            let test: Test = case["test"].as_str().unwrap().parse().unwrap();
            let what = format!("{name} {mods} {measure} {method} {test}");
            let opts = PoolOptions {
                measure,
                method,
                test,
                correction: metarepro::effect::Correction::default_for(measure),
                ..PoolOptions::default()
            };
            let res = metareg(&studies, &terms, &opts);
            if case.get("error").is_some() {
                assert!(res.is_err(), "{what}: metafor fails, we fit");
                continue;
            }
            let res = res.unwrap_or_else(|e| panic!("{what}: {e}"));
            let coefs = case["coefficients"].as_array().unwrap();
            assert_eq!(res.coefficients.len(), coefs.len(), "{what}");
            for (ours, theirs) in res.coefficients.iter().zip(coefs) {
                assert_eq!(ours.name, theirs["name"].as_str().unwrap(), "{what}: coefficient names");
                let w = format!("{what} {}", ours.name);
                let n =
                    |c: &mut Tally, f: &str, v: f64, floor: f64| c.check("metareg", f, &w, v, &theirs[f], floor, 1e-6);
                n(&mut t, "estimate", ours.estimate, 1e-10);
                n(&mut t, "se", ours.se, 1e-10);
                n(&mut t, "zval", ours.zval, 1e-10);
                n(&mut t, "pval", ours.pval, 1e-300);
                n(&mut t, "ci_lb", ours.ci_lb, 1e-10);
                n(&mut t, "ci_ub", ours.ci_ub, 1e-10);
            }
            let n = |c: &mut Tally, f: &str, v: f64, floor: f64| c.check("metareg", f, &what, v, &case[f], floor, 1e-6);
            n(&mut t, "tau2", res.tau2, 1e-10);
            n(&mut t, "QM", res.qm, 1e-10);
            n(&mut t, "QM_df", res.qm_df as f64, 0.0);
            n(&mut t, "QM_p", res.qm_p, 1e-300);
            n(&mut t, "QE", res.qe, 1e-10);
            n(&mut t, "QE_df", res.qe_df as f64, 0.0);
            n(&mut t, "QE_p", res.qe_p, 1e-300);
            n(&mut t, "I2", res.i2, 1e-8);
            n(&mut t, "H2", res.h2, 1e-10);
            n(&mut t, "k", res.k as f64, 0.0);
            num_or_null(&mut t, "metareg", "R2", &what, res.r2, &case["R2"]);
            num_or_null(
                &mut t,
                "metareg",
                "QM_df2",
                &what,
                res.qm_df2.map(|d| d as f64),
                &case["QM_df2"],
            );
        }
    }
    t.finish("meta-regression vs metafor rma(mods)");
}

fn metarepro() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("metarepro").unwrap()
}

/// The debruin2009 fixture's table written as a CSV, and its fixture.
fn debruin_csv(dir: &Path) -> (std::path::PathBuf, Value) {
    let (_, fx) = fixtures("metareg")
        .into_iter()
        .find(|(n, _)| n == "debruin2009")
        .unwrap();
    let path = write_csv(dir, "debruin2009", fx["columns"].as_object().unwrap());
    (path, fx)
}

#[test]
fn metareg_cli_json_contract() {
    let dir = tempfile::tempdir().unwrap();
    let (path, fx) = debruin_csv(dir.path());
    let case = fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["mods"] == "~scq + ethnicity" && c["measure"] == "PLO" && c["method"] == "REML" && c["test"] == "z")
        .unwrap();
    let out = metarepro()
        .args([
            "metareg",
            path.to_str().unwrap(),
            "--mods",
            "scq,ethnicity",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let raw = String::from_utf8(out.stdout.clone()).unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The contract's keys come first, in order (top-level keys are indented by two spaces).
    let at: Vec<usize> = ["coefficients", "tau2", "QM", "QM_p", "QE", "QE_p", "R2", "I2"]
        .iter()
        .map(|k| {
            raw.find(&format!("\n  \"{k}\":"))
                .unwrap_or_else(|| panic!("no key {k}"))
        })
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
    assert!(raw.starts_with("{\n  \"coefficients\":"));
    let mut t = Tally::default();
    for (ours, theirs) in v["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .zip(case["coefficients"].as_array().unwrap())
    {
        assert_eq!(ours["name"], theirs["name"]);
        let mut c: Vec<&str> = ours.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        c.sort();
        assert_eq!(c, ["ci_lb", "ci_ub", "estimate", "name", "pval", "se", "zval"]);
        for f in ["estimate", "se", "zval", "pval", "ci_lb", "ci_ub"] {
            t.check(
                "cli",
                f,
                "debruin2009 cli",
                ours[f].as_f64().unwrap(),
                &theirs[f],
                1e-10,
                1e-6,
            );
        }
    }
    for f in ["tau2", "QM", "QM_p", "QE", "QE_p", "R2", "I2"] {
        t.check(
            "cli",
            f,
            "debruin2009 cli",
            v[f].as_f64().unwrap(),
            &case[f],
            1e-10,
            1e-6,
        );
    }
    t.finish("metareg --format json");

    // Table and CSV render; usage errors.
    let out = metarepro()
        .args([
            "metareg",
            path.to_str().unwrap(),
            "--mods",
            "scq",
            "--method",
            "DL",
            "--test",
            "knha",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Mixed-Effects Model (k = 13; tau^2 estimator: DL"),
        "{text}"
    );
    assert!(text.contains("F(df1 = 1, df2 = 11)"), "{text}");
    let out = metarepro()
        .args([
            "metareg",
            path.to_str().unwrap(),
            "--mods",
            "ethnicity",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(
        csv.starts_with("name,estimate,se,zval,pval,ci_lb,ci_ub\nintrcpt,"),
        "{csv}"
    );
    assert!(csv.contains("\nethnicityother,"), "{csv}");
    for bad in [
        vec!["--mods", "nosuchcolumn"],
        vec!["--mods", "scq", "--method", "GLMM"],
        vec!["--mods", "scq", "--by", "ethnicity"],
    ] {
        let mut args = vec!["metareg", path.to_str().unwrap()];
        args.extend(bad.iter().copied());
        let out = metarepro().args(&args).output().unwrap();
        assert!(!out.status.success(), "{bad:?} should fail");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    }
}

#[test]
fn bubble_plot_renders() {
    use metarepro::model::metareg::metareg;
    use metarepro::plot::bubble::{self, BubbleOptions};
    use metarepro::plot::figure::Shape;
    use metarepro::plot::Role;
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = debruin_csv(dir.path());
    let studies = load(&path);
    let res = metareg(&studies, &["scq".into(), "ethnicity".into()], &PoolOptions::default()).unwrap();
    let fig = bubble::figure(&res, &BubbleOptions::default()).unwrap();
    // One bubble per study, areas ordered as the weights.
    let circles: Vec<f64> = fig
        .with_role(Role::Point)
        .filter_map(|s| match s {
            Shape::Circle { r, .. } => Some(*r),
            _ => None,
        })
        .collect();
    assert_eq!(circles.len(), 13);
    let (rmin, rmax) = circles
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &r| (a.min(r), b.max(r)));
    assert!((rmax - 12.0).abs() < 1e-9 && rmin >= 2.0 && rmin < rmax);
    // The fitted line and the CI band.
    assert_eq!(fig.with_role(Role::PooledLine).count(), 1);
    assert!(fig.with_role(Role::Region).count() >= 100);
    assert!(fig.texts().any(|(r, t)| r == Role::AxisTitle && t.text == "scq"));
    assert!(fig
        .texts()
        .any(|(r, t)| r == Role::AxisTitle && t.text.contains("logit scale")));
    // The line at the mean of the other moderator passes through the model's prediction.
    let m = &res.moderators[0];
    let (pred, lb, ub) = res.line(m, &[10.0])[0];
    let share_other = res.fit.x.column(2).sum() / 13.0;
    let b: Vec<f64> = res.coefficients.iter().map(|c| c.estimate).collect();
    assert!((pred - (b[0] + 10.0 * b[1] + share_other * b[2])).abs() < 1e-9);
    assert!(lb < pred && pred < ub);
    // SVG and PNG.
    let svg = bubble::render_svg(&res, &BubbleOptions::default()).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("</svg>"));
    let png = bubble::render_png(
        &res,
        &BubbleOptions {
            dpi: 96.0,
            ..BubbleOptions::default()
        },
    )
    .unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // Through the CLI.
    let out_svg = dir.path().join("bubble.svg");
    let out = metarepro()
        .args([
            "metareg",
            path.to_str().unwrap(),
            "--mods",
            "year",
            "--plot",
            out_svg.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read_to_string(&out_svg).unwrap().contains("</svg>"));
    // A factor-only model has no numeric axis.
    let res = metareg(&studies, &["ethnicity".into()], &PoolOptions::default()).unwrap();
    assert!(matches!(
        bubble::figure(&res, &BubbleOptions::default()),
        Err(metarepro::Error::Usage(_))
    ));
}

#[test]
fn pool_cli_glmm() {
    let dir = tempfile::tempdir().unwrap();
    let (_, fx) = fixtures("glmm")
        .into_iter()
        .find(|(n, _)| n == "hasselblad1998")
        .unwrap();
    let mut cols = serde_json::Map::new();
    cols.insert("study".into(), fx["study"].clone());
    cols.insert("events".into(), fx["events"].clone());
    cols.insert("total".into(), fx["total"].clone());
    cols.insert("trt".into(), fx["group"].clone());
    let path = write_csv(dir.path(), "hasselblad", &cols);
    let out = metarepro()
        .args([
            "pool",
            path.to_str().unwrap(),
            "--method",
            "GLMM",
            "--by",
            "trt",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let case = &fx["cases"][0];
    assert_eq!(case["control"], "default");
    let mut t = Tally::default();
    let o = &v["overall"];
    let r = &case["overall"];
    t.check(
        "cli",
        "estimate",
        "hasselblad cli",
        o["estimate"].as_f64().unwrap(),
        &r["estimate"],
        1e-2,
        1e-4,
    );
    t.check(
        "cli",
        "se",
        "hasselblad cli",
        o["se"].as_f64().unwrap(),
        &r["se"],
        0.0,
        1e-4,
    );
    t.check(
        "cli",
        "tau2",
        "hasselblad cli",
        o["tau2"].as_f64().unwrap(),
        &r["tau2"],
        0.0,
        1e-4,
    );
    t.check(
        "cli",
        "Q",
        "hasselblad cli",
        o["Q"].as_f64().unwrap(),
        &r["QE_Wld"],
        0.0,
        1e-6,
    );
    t.check(
        "cli",
        "Q_LRT",
        "hasselblad cli",
        o["Q_LRT"].as_f64().unwrap(),
        &r["QE_LRT"],
        0.0,
        1e-6,
    );
    t.check(
        "cli",
        "proportion",
        "hasselblad cli",
        o["proportion"]["estimate"].as_f64().unwrap(),
        &r["proportion"]["estimate"],
        0.0,
        1e-4,
    );
    assert_eq!(v["subgroups"].as_array().unwrap().len(), 4);
    assert_eq!(v["method"], "GLMM");
    assert_eq!(v["nAGQ"], 7);
    assert!(o["tau2_ci_lb"].is_null() && o["I2_ci_lb"].is_null());
    t.finish("pool --method GLMM");
    // The table renders; a measure other than PLO is a usage error (exit 2).
    let out = metarepro()
        .args(["pool", path.to_str().unwrap(), "--method", "GLMM", "--nagq", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = metarepro()
        .args(["pool", path.to_str().unwrap(), "--method", "GLMM", "--measure", "PR"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The settings that reproduce the GLMM paper of [`method_search_tries_the_glmm`]
/// (`Setting::describe`): the GLMM with the z-test only (the grid has one GLMM per test and PI,
/// the correction not applying to it; the t-test's CIs are wider), and no inverse-variance model.
const GLMM_PAPER_MATCHES: &[&str] = &["PLO GLMM z PI:metafor cc:0.5 only0"];

/// A paper printing metafor's `rma.glmm` results (the committed fixture
/// `tests/fixtures/glmm/hasselblad1998.json`: metafor 3.8.1 with lme4, its defaults: nAGQ = 7,
/// z) at one decimal in %, with its stated method: the method search finds the GLMM, ranks it
/// first and finds only the settings listed in [`GLMM_PAPER_MATCHES`].
#[test]
fn method_search_tries_the_glmm() {
    use metarepro::verify::{claims, search::Grid, verify, VerifyOptions};
    let (_, fx) = fixtures("glmm")
        .into_iter()
        .find(|(n, _)| n == "hasselblad1998")
        .unwrap();
    let case = fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["control"] == "default" && c["test"] == "z" && c["nAGQ"] == 7)
        .expect("metafor's default rma.glmm fit");
    // 50 studies in 4 subgroups, two with 0 events.
    let study = strings(&fx["study"]);
    let events = floats(&fx["events"]);
    let total = floats(&fx["total"]);
    let group = strings(&fx["group"]);
    assert!(events.contains(&0.0));
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("study,events,total,class\n");
    for i in 0..study.len() {
        csv.push_str(&format!(
            "\"{}\",{},{},{}\n",
            study[i].replace('"', "\"\""),
            events[i],
            total[i],
            group[i]
        ));
    }
    std::fs::write(dir.path().join("studies.csv"), &csv).unwrap();
    // metafor's back-transformed estimates and CIs at one decimal (in %). metafor's defaults
    // stop lme4 early: its estimates are within 1e-4 (relative) of ours, far below 0.05 points.
    let pct = |v: &Value| format!("{:.1}", 100.0 * v.as_f64().expect("metafor value"));
    let mut text = String::from(
        "[paper]\ncitation = \"synthetic GLMM paper\"\n[data]\nfile = \"studies.csv\"\nby = \"class\"\n[method]\nmeasure = \"PLO\"\nmethod = \"GLMM\"\n",
    );
    let fits = std::iter::once((None, &case["overall"])).chain(
        case["subgroups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["name"].as_str(), s)),
    );
    let mut n_claims = 0;
    for (name, f) in fits {
        let p = &f["proportion"];
        text.push_str(&format!(
            "[[claim]]\nlabel = \"{}\"\n{}printed = \"{}% (95% CI, {}% to {}%)\"\n",
            name.unwrap_or("overall"),
            name.map(|g| format!("subgroup = \"{g}\"\n")).unwrap_or_default(),
            pct(&p["estimate"]),
            pct(&p["ci_lb"]),
            pct(&p["ci_ub"])
        ));
        n_claims += 1;
    }
    assert_eq!(n_claims, 5);
    let path = dir.path().join("claims.toml");
    std::fs::write(&path, &text).unwrap();
    let c = claims::load(&path).unwrap();
    let r = verify(
        &c,
        &VerifyOptions {
            search: true,
            progress: false,
            ..Default::default()
        },
    )
    .unwrap();
    let s = r.method_search;
    assert!(s.ran);
    assert!(
        r.claims.iter().all(|c| c.verdict == "match"),
        "the stated GLMM recomputes metafor's printed numbers: {:?}",
        r.claims.iter().map(|c| &c.verdict).collect::<Vec<_>>()
    );
    let found: Vec<String> = s.matches.iter().map(|m| m.setting.describe()).collect();
    assert_eq!(found, GLMM_PAPER_MATCHES, "the settings that match");
    let glmm: Vec<_> = s.matches.iter().filter(|m| m.setting.method == Method::GLMM).collect();
    assert!(!glmm.is_empty(), "no GLMM setting among {} matches", s.matches.len());
    assert!(glmm
        .iter()
        .all(|m| m.setting.measure == Measure::PLO && m.setting.test != Test::Knha));
    assert_eq!(s.stated_method_matches, Some(true));
    assert!(
        s.matches[0].setting.method == Method::GLMM,
        "the stated method ranks first"
    );
    assert!(glmm.iter().any(|m| m.presets.iter().any(|p| p.contains("rma.glmm"))));
    // The grid counts the GLMM once per test (z, t) and PI choice.
    let g = Grid::full(false, true);
    assert!(g.methods.contains(&Method::GLMM));
    let without = Grid {
        methods: Method::ALL.to_vec(),
        ..g.clone()
    };
    assert_eq!(g.size() - without.size(), 2);
}

// ---------------------------------------------------------------------------------------------
// The GLMM for 2×2 tables with the odds ratio: metafor rma.glmm(measure = "OR", model = "UM.FS")
// against tests/fixtures/glmm_or (tests/fixtures/make_glmm_or_fixtures.R), at the tolerances of
// the module documentation (check_glmm_fit).
// ---------------------------------------------------------------------------------------------

/// The fixture's tables as (ai, bi, ci, di).
fn or_tables(fx: &Value) -> Vec<[f64; 4]> {
    let (ai, n1i, ci, n2i) = (
        floats(&fx["ai"]),
        floats(&fx["n1i"]),
        floats(&fx["ci"]),
        floats(&fx["n2i"]),
    );
    (0..ai.len())
        .map(|i| [ai[i], n1i[i] - ai[i], ci[i], n2i[i] - ci[i]])
        .collect()
}

fn or_studies(fx: &Value, group: Option<Vec<String>>) -> Studies {
    let inputs = or_tables(fx)
        .iter()
        .map(|t| metarepro::data::StudyInput::Table2x2 {
            ai: t[0],
            bi: t[1],
            ci: t[2],
            di: t[3],
        })
        .collect();
    Studies::from_inputs(strings(&fx["study"]), inputs, group).unwrap()
}

fn or_pool_options(opts: &GlmmOptions) -> PoolOptions {
    PoolOptions {
        measure: Measure::OR,
        method: Method::GLMM,
        test: opts.test,
        control: Control {
            n_agq: opts.n_agq,
            ..Control::default()
        },
        ..PoolOptions::default()
    }
}

#[test]
fn glmm_or_matches_metafor_rma_glmm() {
    let mut t = Tally::default();
    let mut n_cases = 0;
    for (name, fx) in fixtures("glmm_or") {
        let tables = or_tables(&fx);
        let group = if fx["group"].is_null() {
            None
        } else {
            Some(strings(&fx["group"]))
        };
        let cases = fx["cases"].as_array().unwrap();
        assert!(!cases.is_empty(), "{name}: no cases");
        for case in cases {
            n_cases += 1;
            let opts = glmm_options(case);
            let control = case["control"].as_str().unwrap();
            let label = format!(
                "OR {name} {} nAGQ={} {control}",
                case["test"].as_str().unwrap(),
                opts.n_agq
            );
            let o = &case["overall"];
            assert!(
                o.get("error").is_none(),
                "{label}: the fixture has no fit ({})",
                o["error"]
            );
            let fit = glmm_or_int(&tables, &opts).unwrap_or_else(|e| panic!("{label}: {e}"));
            assert_eq!(fit.glmm.as_ref().unwrap().model, GlmmModel::OddsRatio);
            assert!(fit.converged, "{label}: not converged");
            check_glmm_fit(&mut t, &format!("{label} overall"), control, &fit, o);
            let k_all = o["k_all"].as_u64().unwrap() as usize;
            t.check(
                "any",
                "k dropped",
                &label,
                fit.glmm.as_ref().unwrap().dropped.len() as f64,
                &Value::from((k_all - fit.k) as f64),
                0.0,
                0.0,
            );
            if let Some(g) = &group {
                for sub in case["subgroups"].as_array().unwrap() {
                    let lv = sub["name"].as_str().unwrap();
                    let idx: Vec<usize> = (0..g.len()).filter(|&i| g[i] == lv).collect();
                    let tb: Vec<[f64; 4]> = idx.iter().map(|&i| tables[i]).collect();
                    let what = format!("{label} [{lv}]");
                    assert!(sub.get("error").is_none(), "{what}: {}", sub["error"]);
                    let fit = glmm_or_int(&tb, &opts).unwrap_or_else(|e| panic!("{what}: {e}"));
                    check_glmm_fit(&mut t, &what, control, &fit, sub);
                }
            }
            // The whole analysis through `pool`.
            let studies = or_studies(&fx, group.clone());
            let res = pool(&studies, &or_pool_options(&opts)).unwrap_or_else(|e| panic!("{label}: pool: {e}"));
            assert_eq!(res.method, Method::GLMM);
            assert_eq!(res.measure, Measure::OR);
            assert!(res.overall.tau2_ci_lb.is_none());
            let tol = if control == "tight" { 1e-5 } else { 5e-4 };
            t.check(
                control,
                "pool estimate",
                &label,
                res.overall.coef().estimate,
                &o["estimate"],
                res.overall.coef().se,
                tol,
            );
            t.check(
                "any",
                "pool Q (Wald)",
                &label,
                res.overall.fit.q,
                &o["QE_Wld"],
                1e-8,
                1e-6,
            );
            t.check(
                "any",
                "pool Q_LRT",
                &label,
                res.overall.q_lrt().unwrap(),
                &o["QE_LRT"],
                1e-8,
                1e-6,
            );
            t.check("any", "pool k", &label, res.overall.fit.k as f64, &o["k"], 0.0, 0.0);
            if let Some(st) = case["subgroup_test"].as_object() {
                let ours = res.subgroup_test.expect("subgroup test");
                let g = format!("{control} nAGQ={}", opts.n_agq);
                if control == "tight" && opts.n_agq == 1 {
                    t.report(&g, "subgroup Q", &label, ours.q, &st["Q"], 1e-2);
                } else {
                    let tol = if control == "tight" { TIGHT_SUBGROUP_Q_TOL } else { 1e-3 };
                    t.check(&g, "subgroup Q", &label, ours.q, &st["Q"], 1e-2, tol);
                }
            }
            // Study rows: the escalc log odds ratios (add 1/2 to zero-cell tables, drop00).
            let (yi, vi) = (&fx["yi"], &fx["vi"]);
            for (i, row) in res.studies.iter().enumerate() {
                if yi[i].is_null() {
                    assert!(row.dropped && row.yi.is_nan(), "{label}: row {i} should be dropped");
                    continue;
                }
                t.check("any", "study yi", &label, row.yi, &yi[i], 1e-8, 1e-12);
                t.check("any", "study vi", &label, row.vi, &vi[i], 0.0, 1e-12);
            }
            let json = metarepro::report::json::to_json(&res);
            let v: Value = serde_json::from_str(&json).unwrap();
            assert_eq!(v["method"], "GLMM");
            assert_eq!(v["measure"], "OR");
            assert!(v["overall"]["converged"].as_bool().unwrap());
            assert!(v["overall"]["Q_LRT"].is_number());
            let e = v["overall"]["effect"]["estimate"].as_f64().unwrap();
            assert!((e - res.overall.coef().estimate.exp()).abs() < 1e-12 * e);
        }
    }
    assert!(n_cases > 0, "no OR GLMM cases");
    t.finish("OR GLMM vs metafor rma.glmm");
}

/// Refusals of `pool --measure OR --method GLMM`.
#[test]
fn glmm_or_usage_errors() {
    let (_, fx) = fixtures("glmm_or").into_iter().find(|(n, _)| n == "bcg").unwrap();
    let studies = or_studies(&fx, None);
    let base = or_pool_options(&GlmmOptions::default());
    assert!(pool(&studies, &base).is_ok());
    let cases: [(PoolOptions, &str); 5] = [
        (
            PoolOptions {
                test: Test::Knha,
                ..base
            },
            "Knapp-Hartung",
        ),
        (
            PoolOptions {
                tau2_common: true,
                ..base
            },
            "common to the subgroups",
        ),
        (
            PoolOptions {
                pooling: metarepro::model::Pooling::MH,
                ..base
            },
            "with MH pooling",
        ),
        (
            PoolOptions {
                pooling: metarepro::model::Pooling::PETO,
                ..base
            },
            "with PETO pooling",
        ),
        (
            PoolOptions {
                measure: Measure::RR,
                ..base
            },
            "measure PLO",
        ),
    ];
    for (bad, needle) in cases {
        match pool(&studies, &bad) {
            // Library messages name the choice, not a command-line flag.
            Err(metarepro::Error::Usage(m)) => assert!(m.contains(needle) && !m.contains("--"), "{needle}: {m}"),
            other => panic!("expected a usage error with {needle}, got {other:?}"),
        }
    }
    let mut nagq = base;
    nagq.control.n_agq = 30;
    assert!(matches!(pool(&studies, &nagq), Err(metarepro::Error::Usage(_))));
    // Events/total data cannot give the OR GLMM.
    let props = Studies::from_counts(
        vec!["a".into(), "b".into(), "c".into()],
        vec![3.0, 1.0, 7.0],
        vec![20.0, 15.0, 30.0],
        None,
    )
    .unwrap();
    assert!(pool(&props, &base).is_err());
    // One table is too few (tau and the log OR), as metafor says.
    let one: Vec<[f64; 4]> = vec![[4.0, 119.0, 11.0, 128.0]];
    assert!(glmm_or_int(&one, &GlmmOptions::default()).is_err());
}

/// `metarepro pool --measure OR --method GLMM` on a CSV: JSON and table output.
#[test]
fn pool_cli_glmm_or() {
    let dir = tempfile::tempdir().unwrap();
    let (_, fx) = fixtures("glmm_or").into_iter().find(|(n, _)| n == "bcg").unwrap();
    let mut cols = serde_json::Map::new();
    cols.insert("study".into(), fx["study"].clone());
    for c in ["ai", "n1i", "ci", "n2i"] {
        cols.insert(c.into(), fx[c].clone());
    }
    cols.insert("alloc".into(), fx["group"].clone());
    let path = write_csv(dir.path(), "bcg", &cols);
    let case = &fx["cases"][0];
    assert_eq!(case["control"], "default");
    let out = metarepro()
        .args([
            "pool",
            path.to_str().unwrap(),
            "--measure",
            "OR",
            "--method",
            "GLMM",
            "--by",
            "alloc",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let o = &v["overall"];
    let r = &case["overall"];
    let mut t = Tally::default();
    t.check(
        "cli",
        "estimate",
        "bcg cli",
        o["estimate"].as_f64().unwrap(),
        &r["estimate"],
        0.0,
        1e-4,
    );
    t.check("cli", "se", "bcg cli", o["se"].as_f64().unwrap(), &r["se"], 0.0, 1e-4);
    t.check(
        "cli",
        "tau2",
        "bcg cli",
        o["tau2"].as_f64().unwrap(),
        &r["tau2"],
        0.0,
        1e-4,
    );
    t.check("cli", "Q", "bcg cli", o["Q"].as_f64().unwrap(), &r["QE_Wld"], 0.0, 1e-6);
    t.check(
        "cli",
        "Q_LRT",
        "bcg cli",
        o["Q_LRT"].as_f64().unwrap(),
        &r["QE_LRT"],
        0.0,
        1e-6,
    );
    t.check(
        "cli",
        "effect",
        "bcg cli",
        o["effect"]["estimate"].as_f64().unwrap(),
        &r["effect"]["estimate"],
        0.0,
        1e-4,
    );
    assert_eq!(v["subgroups"].as_array().unwrap().len(), 3);
    assert_eq!(v["method"], "GLMM");
    assert_eq!(v["measure"], "OR");
    assert_eq!(v["nAGQ"], 7);
    t.finish("pool --measure OR --method GLMM");
    // The table names the model; t-test and Laplace run.
    let out = metarepro()
        .args([
            "pool",
            path.to_str().unwrap(),
            "--measure",
            "OR",
            "--method",
            "GLMM",
            "--test",
            "t",
            "--nagq",
            "1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("fixed study effects and a random treatment effect"),
        "{text}"
    );
    assert!(text.contains("UM.FS"), "{text}");
    // Nothing is pooled by inverse variance: the table says so (it said "inverse variance").
    assert!(
        text.contains("Pooling: none (the GLMM") && !text.contains("inverse variance"),
        "{text}"
    );
    for bad in [
        &["--test", "knha"][..],
        &["--pooling", "MH"][..],
        &["--measure", "RR"][..],
        &["--tau2-common", "--by", "alloc"][..],
    ] {
        let mut args = vec!["pool", path.to_str().unwrap(), "--measure", "OR", "--method", "GLMM"];
        args.extend_from_slice(bad);
        let out = metarepro().args(&args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{bad:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
