//! Small-study effects and publication bias (`diagnostics::bias`) against R metafor 3.8.1
//! (fixtures written by `tests/fixtures/make_bias_fixtures.R`): regtest for every predictor ×
//! model, ranktest (exact and with ties), trimfill L0/R0/Q0 × side (estimated, left, right) for
//! a random- and a common-effect model, fsn Rosenthal/Orwin/Rosenberg, and for the 2×2 tables of
//! dat.bcg Peters' and Harbord's tests as the base-R script computes them from the published
//! formulas; and against R meta 8.3-0 / metasens 1.5-2 (`tests/fixtures/make_bias_meta_fixtures.R`)
//! Peters' and Harbord's tests as `metabias` computes them and the limit meta-analysis
//! (`limitmeta`). Every value to 1e-6 relative or 1e-10 absolute; the number compared is printed.

use std::path::{Path, PathBuf};

use metarepro::diagnostics::bias::{
    fsn, harbord, harbord_rr, limitmeta, peters, ranktest, regtest, trimfill, Estimator, LimitAdjust, Predictor,
    RegModel, Side, Table,
};
use metarepro::effect::{EffectSizes, Measure};
use metarepro::model::{Method, RmaOptions, Test};
use serde_json::Value;

const REL: f64 = 1e-6;
const ABS: f64 = 1e-10;

#[derive(Default)]
struct Checker {
    failures: Vec<String>,
    compared: usize,
}

impl Checker {
    fn num(&mut self, what: &str, ours: f64, theirs: &Value) {
        self.compared += 1;
        match theirs.as_f64() {
            None => {
                if ours.is_finite() {
                    self.failures.push(format!("{what}: metafor NA, ours {ours}"));
                }
            }
            Some(t) => {
                let d = (ours - t).abs();
                if !(d <= ABS || d <= REL * t.abs()) {
                    self.failures.push(format!("{what}: metafor {t:e}, ours {ours:e}"));
                }
            }
        }
    }

    fn opt(&mut self, what: &str, ours: Option<f64>, theirs: &Value) {
        self.num(what, ours.unwrap_or(f64::NAN), theirs);
    }

    fn vec(&mut self, what: &str, ours: &[f64], theirs: &Value) {
        let t = theirs.as_array().cloned().unwrap_or_default();
        if t.len() != ours.len() {
            self.failures
                .push(format!("{what}: metafor has {} values, ours {}", t.len(), ours.len()));
            return;
        }
        for (i, (o, t)) in ours.iter().zip(&t).enumerate() {
            self.num(&format!("{what}[{i}]"), *o, t);
        }
    }

    fn same<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, ours: T, theirs: T) {
        self.compared += 1;
        if ours != theirs {
            self.failures.push(format!("{what}: metafor {theirs:?}, ours {ours:?}"));
        }
    }
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default()
}

fn fixture_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bias");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    files
}

#[test]
fn bias_tests_match_metafor() {
    let files = fixture_files();
    assert!(
        files.len() >= 6,
        "expected the six bias fixtures, found {}",
        files.len()
    );
    let mut c = Checker::default();
    let (mut n_reg, mut n_tf, mut n_tf_err) = (0, 0, 0);
    for path in &files {
        let fx: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let name = fx["name"].as_str().unwrap().to_string();
        let measure: Measure = fx["measure"].as_str().unwrap().parse().unwrap();
        let yi = floats(&fx["yi"]);
        let vi = floats(&fx["vi"]);
        let k = yi.len();
        assert!(k >= 9 && vi.len() == k, "{name}: empty or inconsistent fixture");
        let ni = if fx["ni"].is_null() {
            vec![f64::NAN; k]
        } else {
            floats(&fx["ni"])
        };
        let es = EffectSizes {
            measure,
            yi: yi.clone(),
            vi: vi.clone(),
            ni,
            corrected: vec![false; k],
        };

        let rt = ranktest(&yi, &vi).unwrap();
        c.num(&format!("{name} ranktest.tau"), rt.tau, &fx["ranktest"]["tau"]);
        c.num(&format!("{name} ranktest.pval"), rt.pval, &fx["ranktest"]["pval"]);

        let f = fsn(&yi, &vi, 0.05, None).unwrap();
        let r = &fx["fsn"];
        c.num(
            &format!("{name} fsn.rosenthal"),
            f.rosenthal.fsnum,
            &r["rosenthal"]["fsnum"],
        );
        c.num(
            &format!("{name} fsn.rosenthal.p"),
            f.rosenthal.pval,
            &r["rosenthal"]["pval"],
        );
        c.num(&format!("{name} fsn.orwin"), f.orwin.fsnum, &r["orwin"]["fsnum"]);
        c.num(
            &format!("{name} fsn.orwin.meanes"),
            f.orwin.meanes,
            &r["orwin"]["meanes"],
        );
        c.num(
            &format!("{name} fsn.orwin.target"),
            f.orwin.target,
            &r["orwin"]["target"],
        );
        c.num(
            &format!("{name} fsn.rosenberg"),
            f.rosenberg.fsnum,
            &r["rosenberg"]["fsnum"],
        );
        c.num(
            &format!("{name} fsn.rosenberg.p"),
            f.rosenberg.pval,
            &r["rosenberg"]["pval"],
        );
        c.num(
            &format!("{name} fsn.rosenberg.meanes"),
            f.rosenberg.meanes,
            &r["rosenberg"]["meanes"],
        );
        let t = r["orwin_target"]["target"].as_f64().unwrap();
        let f2 = fsn(&yi, &vi, 0.05, Some(t)).unwrap();
        c.num(
            &format!("{name} fsn.orwin(target)"),
            f2.orwin.fsnum,
            &r["orwin_target"]["fsnum"],
        );

        for case in fx["cases"].as_array().unwrap() {
            let method: Method = case["method"].as_str().unwrap().parse().unwrap();
            let test: Test = case["test"].as_str().unwrap().parse().unwrap();
            let label = format!("{name} {method} {test}");
            let opts = RmaOptions {
                method,
                test,
                ..RmaOptions::default()
            };
            for rt in case["regtest"].as_array().unwrap() {
                n_reg += 1;
                let model: RegModel = rt["model"].as_str().unwrap().parse().unwrap();
                let pred: Predictor = rt["predictor"].as_str().unwrap().parse().unwrap();
                let l = format!("{label} regtest({model:?}, {pred})");
                let ours = regtest(&es, &opts, model, pred).unwrap();
                c.num(&format!("{l}.zval"), ours.stat, &rt["zval"]);
                c.num(&format!("{l}.pval"), ours.pval, &rt["pval"]);
                c.opt(&format!("{l}.ddf"), ours.df, &rt["ddf"]);
                c.opt(&format!("{l}.est"), ours.est, &rt["est"]);
                c.opt(&format!("{l}.ci_lb"), ours.ci_lb, &rt["ci_lb"]);
                c.opt(&format!("{l}.ci_ub"), ours.ci_ub, &rt["ci_ub"]);
                c.same(
                    &format!("{l}.statistic"),
                    ours.statistic,
                    if rt["ddf"].is_null() { "z" } else { "t" },
                );
            }
            if method == Method::REML {
                // Without sample sizes the ni predictors are an error, as in metafor.
                if fx["ni"].is_null() {
                    assert!(regtest(&es, &opts, RegModel::Rma, Predictor::Ninv).is_err());
                }
            }
            for tf in case["trimfill"].as_array().cloned().unwrap_or_default() {
                n_tf += 1;
                let est: Estimator = tf["estimator"].as_str().unwrap().parse().unwrap();
                let side: Option<Side> = tf["side_given"].as_str().map(|s| s.parse().unwrap());
                let l = format!("{label} trimfill({est:?}, {side:?})");
                let ours = trimfill(&es, &opts, side, est);
                if tf["error"].is_string() {
                    n_tf_err += 1;
                    assert!(ours.is_err(), "{l}: metafor stops ({}), ours fits", tf["error"]);
                    continue;
                }
                let ours = ours.unwrap_or_else(|e| panic!("{l}: {e}"));
                c.same(&format!("{l}.side"), ours.side.as_str(), tf["side"].as_str().unwrap());
                c.num(&format!("{l}.k0"), ours.k0 as f64, &tf["k0"]);
                c.num(&format!("{l}.se_k0"), ours.se_k0, &tf["se_k0"]);
                c.opt(&format!("{l}.p_k0"), ours.p_k0, &tf["p_k0"]);
                let fit = &ours.fit;
                c.num(&format!("{l}.estimate"), fit.estimate(), &tf["estimate"]);
                c.num(&format!("{l}.se"), fit.se(), &tf["se"]);
                c.num(&format!("{l}.zval"), fit.coefficients[0].zval, &tf["zval"]);
                c.num(&format!("{l}.pval"), fit.coefficients[0].pval, &tf["pval"]);
                c.num(&format!("{l}.ci_lb"), fit.coefficients[0].ci_lb, &tf["ci_lb"]);
                c.num(&format!("{l}.ci_ub"), fit.coefficients[0].ci_ub, &tf["ci_ub"]);
                c.num(&format!("{l}.tau2"), fit.tau2, &tf["tau2"]);
                let fy: Vec<f64> = ours.filled.iter().map(|f| f.yi).collect();
                let fv: Vec<f64> = ours.filled.iter().map(|f| f.vi).collect();
                c.vec(&format!("{l}.filled_yi"), &fy, &tf["filled_yi"]);
                c.vec(&format!("{l}.filled_vi"), &fv, &tf["filled_vi"]);
            }
        }

        if !fx["tables"].is_null() {
            let t = &fx["tables"];
            let (a, b, cc, d) = (floats(&t["ai"]), floats(&t["bi"]), floats(&t["ci"]), floats(&t["di"]));
            let tables: Vec<Table> = (0..k).map(|i| [a[i], b[i], cc[i], d[i]]).collect();
            let p = peters(&tables, &yi).unwrap();
            let r = &fx["peters"];
            c.num(&format!("{name} peters.slope"), p.estimate, &r["slope"]);
            c.num(&format!("{name} peters.se"), p.se, &r["se"]);
            c.num(&format!("{name} peters.tval"), p.tval, &r["tval"]);
            c.num(&format!("{name} peters.pval"), p.pval, &r["pval"]);
            c.num(&format!("{name} peters.df"), p.df, &r["df"]);
            c.num(&format!("{name} peters.intercept"), p.other, &r["intercept"]);
            let h = harbord(&tables).unwrap();
            let r = &fx["harbord"];
            c.num(&format!("{name} harbord.bias"), h.estimate, &r["bias"]);
            c.num(&format!("{name} harbord.se"), h.se, &r["se"]);
            c.num(&format!("{name} harbord.tval"), h.tval, &r["tval"]);
            c.num(&format!("{name} harbord.pval"), h.pval, &r["pval"]);
            c.num(&format!("{name} harbord.slope"), h.other, &r["slope"]);
        }
    }
    println!(
        "bias: {} values compared ({} regtests, {} trimfills of which {} metafor errors)",
        c.compared, n_reg, n_tf, n_tf_err
    );
    assert!(
        n_reg >= 200 && n_tf >= 150 && c.compared > 2000,
        "fixtures too small: {}",
        c.compared
    );
    assert!(
        c.failures.is_empty(),
        "{} of {} values differ:\n{}",
        c.failures.len(),
        c.compared,
        c.failures.join("\n")
    );
}

fn meta_fixture_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bias_meta");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    files
}

fn adjust(c: &mut Checker, what: &str, a: &LimitAdjust, r: &Value) {
    c.num(&format!("{what}.estimate"), a.estimate, &r["estimate"]);
    c.num(&format!("{what}.se"), a.se, &r["se"]);
    c.num(&format!("{what}.ci_lb"), a.ci_lb, &r["ci_lb"]);
    c.num(&format!("{what}.ci_ub"), a.ci_ub, &r["ci_ub"]);
    c.num(&format!("{what}.zval"), a.zval, &r["zval"]);
    c.num(&format!("{what}.pval"), a.pval, &r["pval"]);
}

/// Peters' and Harbord's tests against R meta 8.3-0 `metabias` (OR and RR of dat.bcg; the OR of
/// dat.nielweise2007, whose study without events in either group meta leaves out), and the limit
/// meta-analysis against R metasens 1.5-2 `limitmeta` (DL, REML and common effect; beta0,
/// betalim, mulim, the Q split, G² and the shrunken estimates), fixtures written by
/// `tests/fixtures/make_bias_meta_fixtures.R`.
#[test]
fn bias_tests_match_r_meta() {
    let files = meta_fixture_files();
    assert!(files.len() >= 6, "expected six meta fixtures, found {}", files.len());
    let mut c = Checker::default();
    let (mut n_tables, mut n_limit) = (0, 0);
    for path in &files {
        let fx: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let name = fx["name"].as_str().unwrap().to_string();
        let measure: Measure = fx["measure"].as_str().unwrap().parse().unwrap();
        let yi = floats(&fx["yi"]);
        let vi = floats(&fx["vi"]);
        let k = yi.len();
        assert!(k >= 9 && vi.len() == k, "{name}: empty or inconsistent fixture");
        if !fx["tables"].is_null() {
            n_tables += 1;
            let t = &fx["tables"];
            let (a, b, cc, d) = (floats(&t["ai"]), floats(&t["bi"]), floats(&t["ci"]), floats(&t["di"]));
            let tables: Vec<Table> = (0..k).map(|i| [a[i], b[i], cc[i], d[i]]).collect();
            let mb = &fx["metabias"];
            // meta's TE of the studies it keeps are escalc's yi (incr 1/2 where a cell is 0).
            let used: Vec<bool> = mb["used"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u.as_bool().unwrap())
                .collect();
            let te = floats(&mb["TE"]);
            for i in (0..k).filter(|&i| used[i]) {
                c.num(&format!("{name} TE[{i}]"), yi[i], &Value::from(te[i]));
            }
            let p = peters(&tables, &yi).unwrap();
            let r = &mb["peters"];
            c.same(&format!("{name} peters.k"), p.k as u64, mb["k_used"].as_u64().unwrap());
            c.num(&format!("{name} peters.bias"), p.estimate, &r["bias"]);
            c.num(&format!("{name} peters.se"), p.se, &r["se_bias"]);
            c.num(&format!("{name} peters.t"), p.tval, &r["statistic"]);
            c.num(&format!("{name} peters.pval"), p.pval, &r["pval"]);
            c.num(&format!("{name} peters.df"), p.df, &r["df"]);
            c.num(&format!("{name} peters.intercept"), p.other, &r["intercept"]);
            let h = if measure == Measure::RR {
                harbord_rr(&tables).unwrap()
            } else {
                harbord(&tables).unwrap()
            };
            let r = &mb["harbord"];
            c.same(&format!("{name} harbord.k"), h.k as u64, mb["k_used"].as_u64().unwrap());
            // meta regresses Z/V on 1/sqrt(V) with weights V: its slope ("bias") is the
            // intercept of Z/sqrt(V) on sqrt(V), and the other way round.
            c.num(&format!("{name} harbord.bias"), h.estimate, &r["bias"]);
            c.num(&format!("{name} harbord.se"), h.se, &r["se_bias"]);
            c.num(&format!("{name} harbord.t"), h.tval, &r["statistic"]);
            c.num(&format!("{name} harbord.pval"), h.pval, &r["pval"]);
            c.num(&format!("{name} harbord.df"), h.df, &r["df"]);
            c.num(&format!("{name} harbord.slope"), h.other, &r["intercept"]);
        }
        let es = EffectSizes {
            measure,
            yi: yi.clone(),
            vi: vi.clone(),
            ni: vec![f64::NAN; k],
            corrected: vec![false; k],
        };
        for case in fx["limitmeta"].as_array().unwrap() {
            n_limit += 1;
            let method: Method = case["method"].as_str().unwrap().parse().unwrap();
            let label = format!("{name} limitmeta {method}");
            let opts = RmaOptions {
                method,
                ..RmaOptions::default()
            };
            let l = limitmeta(&es, &opts).unwrap();
            c.same(&format!("{label} k"), l.k as u64, case["k"].as_u64().unwrap());
            c.num(&format!("{label} tau2"), l.tau2, &case["tau2"]);
            adjust(&mut c, &format!("{label} beta0"), &l.beta0, case);
            adjust(&mut c, &format!("{label} betalim"), &l.betalim, &case["betalim"]);
            adjust(&mut c, &format!("{label} mulim"), &l.mulim, &case["mulim"]);
            c.num(&format!("{label} alpha_r"), l.alpha_r, &case["alpha_r"]);
            c.num(&format!("{label} beta_r"), l.beta_r, &case["beta_r"]);
            c.num(&format!("{label} Q"), l.q, &case["Q"]);
            c.num(&format!("{label} Q_small"), l.q_small, &case["Q_small"]);
            c.num(&format!("{label} Q_resid"), l.q_resid, &case["Q_resid"]);
            c.num(&format!("{label} p_small"), l.q_small_pval, &case["pval_small"]);
            c.num(&format!("{label} p_resid"), l.q_resid_pval, &case["pval_resid"]);
            c.num(&format!("{label} G2"), l.g2, &case["G2"]);
            c.vec(&format!("{label} TE.limit"), &l.shrunken, &case["TE_limit"]);
        }
    }
    println!(
        "bias vs R meta/metasens: {} values compared ({} 2x2 datasets, {} limitmeta cases)",
        c.compared, n_tables, n_limit
    );
    assert!(
        n_tables >= 3 && n_limit >= 15 && c.compared > 500,
        "meta fixtures too small: {} values, {} 2x2 datasets, {} limitmeta cases",
        c.compared,
        n_tables,
        n_limit
    );
    assert!(
        c.failures.is_empty(),
        "{} of {} values differ:\n{}",
        c.failures.len(),
        c.compared,
        c.failures.join("\n")
    );
}

/// `metarepro bias --format json` gives R meta's Peters and Harbord tests and metasens'
/// limitmeta (REML, beta0) under the documented keys: on dat.nielweise2007 (OR; the study with no
/// events in either group left out of the two tests, k = 17 of 18) and on dat.bcg's RR (Harbord
/// with the log-RR score); the table says which studies were left out and names the limit
/// meta-analysis' model.
#[test]
fn bias_command_meta_conventions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut c = Checker::default();
    for (csv, measure, fixture) in [
        ("tests/fixtures/bias_meta/nielweise2007.csv", "OR", "nielweise2007"),
        ("tests/fixtures/bias/bcg.csv", "RR", "bcg_rr"),
    ] {
        let fx: Value = serde_json::from_str(
            &std::fs::read_to_string(root.join(format!("tests/fixtures/bias_meta/{fixture}.json"))).unwrap(),
        )
        .unwrap();
        let out = metarepro(&["bias", csv, "--measure", measure, "--format", "json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mb = &fx["metabias"];
        for (test, ours_key, meta_key) in [
            ("peters", "slope", "bias"),
            ("peters", "tval", "statistic"),
            ("peters", "pval", "pval"),
            ("harbord", "bias", "bias"),
            ("harbord", "tval", "statistic"),
            ("harbord", "pval", "pval"),
        ] {
            c.num(
                &format!("{fixture} {test}.{ours_key}"),
                v[test][ours_key].as_f64().unwrap_or(f64::NAN),
                &mb[test][meta_key],
            );
        }
        c.same(
            &format!("{fixture} peters.k"),
            v["peters"]["k"].as_u64(),
            mb["k_used"].as_u64(),
        );
        let case = fx["limitmeta"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["method"] == "REML")
            .unwrap();
        let l = &v["limitmeta"];
        assert_eq!(l["method_adjust"], "beta0");
        for (ours, theirs) in [
            ("estimate", "estimate"),
            ("ci_lb", "ci_lb"),
            ("ci_ub", "ci_ub"),
            ("pval", "pval"),
            ("tau2", "tau2"),
            ("G2", "G2"),
        ] {
            c.num(
                &format!("{fixture} limitmeta.{ours}"),
                l[ours].as_f64().unwrap_or(f64::NAN),
                &case[theirs],
            );
        }
        c.num(
            &format!("{fixture} limitmeta.small_study_test.q"),
            l["small_study_test"]["q"].as_f64().unwrap_or(f64::NAN),
            &case["Q_small"],
        );
        let e = l["effect"]["estimate"].as_f64().unwrap();
        let want = case["estimate"].as_f64().unwrap().exp();
        assert!(
            (e - want).abs() < 1e-9 * want,
            "limitmeta effect {e} vs exp(estimate) {want}"
        );
        assert_eq!(l["shrunken"].as_array().map(|a| a.len()), Some(floats(&fx["yi"]).len()));
    }
    assert!(c.compared >= 20, "only {} values compared", c.compared);
    assert!(c.failures.is_empty(), "{}", c.failures.join("\n"));
    let t = metarepro(&["bias", "tests/fixtures/bias_meta/nielweise2007.csv", "--measure", "OR"]);
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    let text = String::from_utf8_lossy(&t.stdout);
    for want in [
        "17 of 18 studies (without events or without non-events in both groups left out, as R meta)",
        "Limit meta-analysis (R metasens limitmeta",
        "random-effects model, tau^2 = 0.0139 (REML); adjustment beta0",
        "test of small-study effects: Q - Q' = 1.87 (df = 1)",
    ] {
        assert!(text.contains(want), "table lacks {want:?}:\n{text}");
    }
    let rr = metarepro(&["bias", "tests/fixtures/bias/bcg.csv", "--measure", "RR"]);
    assert!(String::from_utf8_lossy(&rr.stdout).contains("score of the log RR, as R meta"));
}

/// The exact p of ranktest for small k without ties differs from the normal approximation; with
/// ties the approximation is used (as R's cor.test), and the result says which.
#[test]
fn ranktest_says_whether_exact() {
    let yi = [0.1, 0.5, 0.3, 0.9, 0.2, 0.7];
    let vi = [0.01, 0.04, 0.02, 0.09, 0.03, 0.05];
    assert!(ranktest(&yi, &vi).unwrap().exact);
    let vi_tied = [0.01, 0.04, 0.04, 0.09, 0.03, 0.05];
    assert!(!ranktest(&yi, &vi_tied).unwrap().exact);
    assert!(ranktest(&yi[..2], &vi[..2]).is_err());
}

fn metarepro(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_metarepro"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// `metarepro bias --format json` on dat.bcg's 2x2 tables (OR, REML, z) gives metafor's numbers
/// under the documented keys, and the back-transformed trim-and-fill estimate; the table names
/// the conventions.
#[test]
fn bias_command_json_contract() {
    let fx: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bias/bcg_or.json"))
            .unwrap(),
    )
    .unwrap();
    let out = metarepro(&[
        "bias",
        "tests/fixtures/bias/bcg.csv",
        "--measure",
        "OR",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let case = fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["method"] == "REML" && c["test"] == "z")
        .unwrap();
    let reg = case["regtest"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == "rma" && r["predictor"] == "sei")
        .unwrap();
    let tf = case["trimfill"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["estimator"] == "L0" && t["side_given"].is_null())
        .unwrap();
    let mut c = Checker::default();
    c.num("egger.zval", v["egger"]["zval"].as_f64().unwrap(), &reg["zval"]);
    c.num("egger.pval", v["egger"]["pval"].as_f64().unwrap(), &reg["pval"]);
    c.num("egger.est", v["egger"]["est"].as_f64().unwrap(), &reg["est"]);
    assert!(v["egger"]["df"].is_null() && v["egger"].get("tval").is_none());
    c.num("begg.tau", v["begg"]["tau"].as_f64().unwrap(), &fx["ranktest"]["tau"]);
    c.num(
        "begg.pval",
        v["begg"]["pval"].as_f64().unwrap(),
        &fx["ranktest"]["pval"],
    );
    c.num("trimfill.k0", v["trimfill"]["k0"].as_f64().unwrap(), &tf["k0"]);
    c.num(
        "trimfill.estimate",
        v["trimfill"]["estimate"].as_f64().unwrap(),
        &tf["estimate"],
    );
    c.num("trimfill.ci_lb", v["trimfill"]["ci_lb"].as_f64().unwrap(), &tf["ci_lb"]);
    c.num("trimfill.tau2", v["trimfill"]["tau2"].as_f64().unwrap(), &tf["tau2"]);
    assert_eq!(v["trimfill"]["side"], tf["side"]);
    assert_eq!(v["trimfill"]["estimator"], "L0");
    let e = v["trimfill"]["effect"]["estimate"].as_f64().unwrap();
    let want = tf["estimate"].as_f64().unwrap().exp();
    assert!((e - want).abs() < 1e-9 * want, "effect {e} vs exp(estimate) {want}");
    assert_eq!(
        v["trimfill"]["filled"].as_array().unwrap().len(),
        tf["filled_yi"].as_array().unwrap().len()
    );
    c.num(
        "fsn.rosenthal",
        v["fsn"]["rosenthal"]["fsnum"].as_f64().unwrap(),
        &fx["fsn"]["rosenthal"]["fsnum"],
    );
    c.num(
        "fsn.orwin",
        v["fsn"]["orwin"]["fsnum"].as_f64().unwrap(),
        &fx["fsn"]["orwin"]["fsnum"],
    );
    c.num(
        "fsn.rosenberg",
        v["fsn"]["rosenberg"]["fsnum"].as_f64().unwrap(),
        &fx["fsn"]["rosenberg"]["fsnum"],
    );
    c.num(
        "peters.tval",
        v["peters"]["tval"].as_f64().unwrap(),
        &fx["peters"]["tval"],
    );
    c.num(
        "harbord.tval",
        v["harbord"]["tval"].as_f64().unwrap(),
        &fx["harbord"]["tval"],
    );
    assert!(c.failures.is_empty(), "{}", c.failures.join("\n"));

    let t = metarepro(&[
        "bias",
        "tests/fixtures/bias/bcg.csv",
        "--measure",
        "OR",
        "--egger-model",
        "lm",
        "--estimator",
        "R0",
        "--side",
        "left",
    ]);
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    let text = String::from_utf8_lossy(&t.stdout);
    for want in [
        "predictor: sei",
        "(lm)",
        "estimator: R0; side: left (given)",
        "Peters' test",
        "Harbord",
        "Kendall's tau",
        "Rosenthal",
    ] {
        assert!(text.contains(want), "table lacks {want:?}:\n{text}");
    }
}

/// Bad choices are usage errors (exit 2) naming the choice; GLMM and --by are refused.
#[test]
fn bias_command_errors() {
    for (args, want) in [
        (vec!["--predictor", "foo"], "predictor"),
        (vec!["--estimator", "L1"], "estimator"),
        (vec!["--side", "up"], "side"),
        (vec!["--method", "GLMM"], "GLMM"),
        (vec!["--by", "study"], "--by"),
    ] {
        let mut a = vec!["bias", "tests/fixtures/bias/bcg.csv", "--measure", "OR"];
        a.extend(args.iter());
        let out = metarepro(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

/// `funnel --contours --trimfill --egger` draws the bands with their legend, the imputed
/// studies hollow (one hollow circle per filled study) and Egger's line.
#[test]
fn funnel_contours_trimfill_egger() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.svg");
    let full = dir.path().join("full.svg");
    let p = plain.to_str().unwrap();
    let f = full.to_str().unwrap();
    assert!(metarepro(&["funnel", "datasets/pritz1997/studies.csv", "--out", p])
        .status
        .success());
    let out = metarepro(&[
        "funnel",
        "datasets/pritz1997/studies.csv",
        "--contours",
        "--trimfill",
        "--egger",
        "--out",
        f,
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (plain, full) = (
        std::fs::read_to_string(&plain).unwrap(),
        std::fs::read_to_string(&full).unwrap(),
    );
    for want in [
        "p \u{2264} 0.01",
        "0.01 &lt; p \u{2264} 0.05",
        "0.05 &lt; p \u{2264} 0.10",
        "filled (trim-and-fill)",
        "Egger",
    ] {
        assert!(full.contains(want), "legend lacks {want:?}");
        assert!(!plain.contains(want));
    }
    // pritz1997 (PLO, REML): trim-and-fill imputes 4 studies on the left; hollow = white fill.
    let hollow = |s: &str| {
        s.split("<circle")
            .skip(1)
            .filter(|c| c.split('>').next().unwrap_or("").contains("fill=\"#FFFFFF\""))
            .count()
    };
    assert_eq!(hollow(&full), 4 + 1, "4 filled studies and the legend's marker");
    assert_eq!(hollow(&plain), 0);
}
