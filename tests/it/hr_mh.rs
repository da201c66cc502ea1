//! Published hazard ratios (measure HR, a generic ratio measure as meta's `metagen(sm = "HR")`)
//! and double-zero tables in the Mantel–Haenszel sums (`--mh-drop00`), compared with R metafor
//! 3.8.1 (fixtures written by `tests/fixtures/hr/make_hr_mh_fixtures.R`), and `verify` of HR claims.

use std::path::{Path, PathBuf};

use metarepro::verify::{self, claims, VerifyOptions, VerifyReport};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("tests/fixtures/hr").join(name)).unwrap()).unwrap()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = assert_cmd::Command::cargo_bin("metarepro")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// 1e-6 relative, 1e-10 absolute near zero.
fn close(what: &str, ours: f64, theirs: f64, fails: &mut Vec<String>) {
    let ok = (ours - theirs).abs() <= 1e-10 || (ours - theirs).abs() <= 1e-6 * theirs.abs();
    if !ok {
        fails.push(format!("{what}: ours {ours}, metafor {theirs}"));
    }
}

fn pool_json(file: &Path, extra: &[&str]) -> Value {
    let f = file.display().to_string();
    let mut args = vec!["pool", f.as_str(), "--format", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap()
}

/// `pool --measure HR` on published HRs with their CIs (and the same HRs given as log HR with
/// sei) reproduces metafor's `rma(yi = log(hr), sei = ...)` for every estimator and test in the
/// fixture, with the results shown as hazard ratios.
#[test]
fn hazard_ratios_match_metafor() {
    let fx = fixture("hr.json");
    let csv = root().join("tests/data/comparative/pni_hr.csv");
    // The same studies on the log scale, yi with sei.
    let dir = tempfile::tempdir().unwrap();
    let log_csv = dir.path().join("log_hr.csv");
    let yi = fx["yi"].as_array().unwrap();
    let vi = fx["vi"].as_array().unwrap();
    let mut text = String::from("study,yi,sei\n");
    for i in 0..yi.len() {
        text.push_str(&format!(
            "s{i},{:.17e},{:.17e}\n",
            yi[i].as_f64().unwrap(),
            vi[i].as_f64().unwrap().sqrt()
        ));
    }
    std::fs::write(&log_csv, text).unwrap();
    let mut fails = Vec::new();
    let mut compared = 0;
    for fit in fx["fits"].as_array().unwrap() {
        let (m, t) = (fit["method"].as_str().unwrap(), fit["test"].as_str().unwrap());
        for file in [&csv, &log_csv] {
            let v = pool_json(file, &["--measure", "HR", "--method", m, "--test", t]);
            assert_eq!(v["measure"], "HR");
            let o = &v["overall"];
            let id = format!("{}/{m}/{t}", file.file_name().unwrap().to_string_lossy());
            for key in ["estimate", "se", "ci_lb", "ci_ub", "tau2", "Q", "Q_p", "I2", "pval"] {
                close(
                    &format!("{id} {key}"),
                    o[key].as_f64().unwrap(),
                    fit[key].as_f64().unwrap(),
                    &mut fails,
                );
                compared += 1;
            }
            for (ours, theirs) in [("estimate", "hr"), ("ci_lb", "hr_ci_lb"), ("ci_ub", "hr_ci_ub")] {
                close(
                    &format!("{id} HR {ours}"),
                    o["effect"][ours].as_f64().unwrap(),
                    fit[theirs].as_f64().unwrap(),
                    &mut fails,
                );
                compared += 1;
            }
            let w = fit["weights"].as_array().unwrap();
            for (i, s) in v["studies"].as_array().unwrap().iter().enumerate() {
                close(
                    &format!("{id} weight {i}"),
                    s["weight"].as_f64().unwrap(),
                    w[i].as_f64().unwrap(),
                    &mut fails,
                );
                close(
                    &format!("{id} yi {i}"),
                    s["yi"].as_f64().unwrap(),
                    yi[i].as_f64().unwrap(),
                    &mut fails,
                );
                compared += 2;
            }
        }
    }
    assert!(fails.is_empty(), "{}", fails.join("\n"));
    assert!(compared > 100, "{compared}");
}

/// The table labels the measure and the forest plot puts hazard ratios on a log axis.
#[test]
fn hazard_ratio_table_and_forest() {
    let csv = root().join("tests/data/comparative/pni_hr.csv").display().to_string();
    let (code, out, err) = run(&["pool", &csv, "--measure", "HR"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Measure: HR (log hazard ratio); shown as hazard ratio"),
        "{out}"
    );
    assert!(
        out.contains("Random effects (REML): HR 1.610 (95% CI 1.299 to 1.996)"),
        "{out}"
    );
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("hr.svg");
    let (code, _, err) = run(&["forest", &csv, "--measure", "HR", "--out", &svg.display().to_string()]);
    assert_eq!(code, 0, "{err}");
    let s = std::fs::read_to_string(&svg).unwrap();
    assert!(s.contains("Hazard") && s.contains("Ratio"), "no hazard-ratio label");
    // A log axis has the ticks 0.5, 1 and 2 on it.
    let texts: Vec<&str> = s
        .split("<text")
        .filter_map(|t| t.split('>').nth(1))
        .map(|t| t.split('<').next().unwrap().trim())
        .collect();
    for tick in ["0.5", "1", "2"] {
        assert!(texts.contains(&tick), "no tick {tick} on the axis: {texts:?}");
    }
}

/// M-H and Peto pooling need event counts: HR is refused with a reason, nothing printed.
#[test]
fn hazard_ratio_refuses_mh_and_peto() {
    let csv = root().join("tests/data/comparative/pni_hr.csv").display().to_string();
    for pooling in ["MH", "PETO"] {
        let (code, out, err) = run(&["pool", &csv, "--measure", "HR", "--pooling", pooling]);
        assert_ne!(code, 0);
        assert!(out.is_empty(), "{out}");
        assert!(
            err.contains("not HR") && err.contains("inverse variance") || err.contains("inverse-variance"),
            "{err}"
        );
    }
}

fn hr_claims(dir: &Path, printed: &str) -> PathBuf {
    std::fs::copy(root().join("tests/data/comparative/pni_hr.csv"), dir.join("hr.csv")).unwrap();
    let path = dir.join("claims.toml");
    std::fs::write(
        &path,
        format!(
            "[paper]\ncitation = \"HR test\"\n[data]\nfile = \"hr.csv\"\n[method]\nmeasure = \"HR\"\nmethod = \"REML\"\n\
             [[claim]]\nlabel = \"pooled HR\"\nprinted = \"{printed}\"\nk = 4\n"
        ),
    )
    .unwrap();
    path
}

/// `verify` recomputes an HR claim from the published HRs (metafor's REML HR 1.61, 1.30 to 2.00,
/// from the fixture): the right numbers match, a wrong estimate is a mismatch, and the search runs
/// over the HR settings.
#[test]
fn verify_recomputes_hazard_ratio_claims() {
    let fx = fixture("hr.json");
    let reml = fx["fits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["method"] == "REML" && f["test"] == "z")
        .unwrap();
    let r2 = |k: &str| format!("{:.2}", reml[k].as_f64().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let good = format!("HR {} (95% CI {} to {})", r2("hr"), r2("hr_ci_lb"), r2("hr_ci_ub"));
    let opts = VerifyOptions {
        search: true,
        progress: false,
        default_stopping: false,
    };
    let c = claims::load(&hr_claims(dir.path(), &good)).unwrap();
    let r = verify::verify(&c, &opts).unwrap();
    assert_eq!(r.claims[0].verdict, "match", "{:?}", r.claims[0]);
    let est = r.claims[0].numbers.iter().find(|n| n.name == "estimate").unwrap();
    assert!((est.recomputed.unwrap() - reml["hr"].as_f64().unwrap()).abs() < 1e-9);
    let j: Value = serde_json::from_str(&verify::report::json(&r)).unwrap();
    let m = j["comparative"]["search"]["matches"].as_array().unwrap();
    assert!(
        !m.is_empty() && m.iter().all(|x| x["measure"] == "HR" && x["pooling"] == "IV"),
        "{m:?}"
    );
    assert_eq!(j["comparative"]["search"]["stated_method_matches"], true);
    // A wrong estimate.
    let dir2 = tempfile::tempdir().unwrap();
    let c = claims::load(&hr_claims(dir2.path(), "HR 1.71 (95% CI 1.30 to 2.00)")).unwrap();
    let r = verify::verify(&c, &opts).unwrap();
    assert_eq!(r.claims[0].verdict, "mismatch", "{:?}", r.claims[0]);
}

/// M-H with 0.5 added inside the sums to tables with a zero cell: with `--mh-drop00` the
/// double-zero tables stay out of the sums (metafor `drop00 = c(TRUE, TRUE)`), without it they
/// come in (metafor's default `drop00 = c(TRUE, FALSE)`). dat.yusuf1985 table 9 has 6.
#[test]
fn mh_sums_leave_double_zero_tables_out_on_request() {
    let fx = fixture("mh_drop00.json");
    let csv = root().join("tests/data/comparative/yusuf1985_table9.csv");
    let mut fails = Vec::new();
    for fit in fx["fits"].as_array().unwrap() {
        let measure = fit["measure"].as_str().unwrap();
        let d00 = fit["drop00_sums"].as_bool().unwrap();
        let mut args = vec![
            "--measure",
            measure,
            "--pooling",
            "MH",
            "--method",
            "EE",
            "--mh-add",
            "0.5",
        ];
        if d00 {
            args.push("--mh-drop00");
        }
        let v = pool_json(&csv, &args);
        let o = &v["overall"];
        let id = format!("{measure} mh-drop00={d00}");
        for key in ["estimate", "se", "ci_lb", "ci_ub", "pval", "Q", "Q_p", "I2"] {
            close(
                &format!("{id} {key}"),
                o[key].as_f64().unwrap(),
                fit[key].as_f64().unwrap(),
                &mut fails,
            );
        }
        let conv = v["conventions"].to_string();
        let said = if d00 {
            "double-zero tables left out of the sums"
        } else {
            "double-zero tables kept in the sums"
        };
        assert!(conv.contains(said), "{id}: {conv}");
    }
    assert!(fails.is_empty(), "{}", fails.join("\n"));
    // The two settings differ on these data, so the test can fail.
    let f = fx["fits"].as_array().unwrap();
    assert!((f[0]["estimate"].as_f64().unwrap() - f[1]["estimate"].as_f64().unwrap()).abs() > 1e-4);
}

fn verify_file(path: &Path, search: bool, default_stopping: bool) -> (VerifyReport, Value) {
    let c = claims::load(path).unwrap();
    let r = verify::verify(
        &c,
        &VerifyOptions {
            search,
            progress: false,
            default_stopping,
        },
    )
    .unwrap();
    let j = serde_json::from_str(&verify::report::json(&r)).unwrap();
    (r, j)
}

/// A two-group claim from a paper that ran metafor with its default stopping rules: Paule–Mandel
/// τ² of dat.normand1999's SMD is 0.79432 with `uniroot`'s default tolerance, 0.79433 at tight
/// convergence (metafor, fixture). `[method] stopping = "defaults"` recomputes it as printed; the
/// search finds it with `--default-stopping` only.
#[test]
fn comparative_claims_honour_default_stopping() {
    let fx = fixture("stopping_pm.json");
    let d = &fx["fits"]["defaults"];
    let t = &fx["fits"]["tight"];
    let f4 = |v: &Value, k: &str| format!("{:.4}", v[k].as_f64().unwrap());
    let tau2 = format!("{:.5}", d["tau2"].as_f64().unwrap());
    assert_ne!(
        tau2,
        format!("{:.5}", t["tau2"].as_f64().unwrap()),
        "the fixture must separate the rules"
    );
    let printed = format!(
        "SMD {} (95% CI {} to {})",
        f4(d, "estimate"),
        f4(d, "ci_lb"),
        f4(d, "ci_ub")
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("datasets/normand1999/studies.csv"),
        dir.path().join("studies.csv"),
    )
    .unwrap();
    let write = |stopping: &str| {
        let path = dir.path().join("claims.toml");
        std::fs::write(
            &path,
            format!(
                "[paper]\ncitation = \"dat.normand1999\"\n[data]\nfile = \"studies.csv\"\n[method]\nmeasure = \"SMD\"\nmethod = \"PM\"\n{stopping}\
                 [[claim]]\nlabel = \"SMD PM\"\nprinted = \"{printed}\"\ntau2 = \"{tau2}\"\nk = 9\n"
            ),
        )
        .unwrap();
        path
    };
    let (r, j) = verify_file(&write("stopping = \"defaults\"\n"), false, false);
    assert_eq!(r.claims[0].verdict, "match", "{:?}", r.claims[0].numbers);
    assert_eq!(j["comparative"]["setting"]["stopping"], "defaults");
    // At tight convergence τ² is one unit of the last digit off: a near miss, not a match.
    let (r, _) = verify_file(&write(""), false, false);
    assert_ne!(r.claims[0].verdict, "match", "{:?}", r.claims[0].numbers);
    let stoppings = |j: &Value| -> Vec<String> {
        j["comparative"]["search"]["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["stopping"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, j) = verify_file(&write(""), true, false);
    assert!(!stoppings(&j).contains(&"defaults".to_string()), "{:?}", stoppings(&j));
    let (_, j) = verify_file(&write(""), true, true);
    let s = stoppings(&j);
    assert!(!s.is_empty() && s.iter().any(|x| x == "defaults"), "{s:?}");
    let pm = j["comparative"]["search"]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["method"] == "PM" && m["stopping"] == "defaults");
    assert!(pm, "{}", j["comparative"]["search"]);
}

/// metafor's `rma.mh(add = c(0.5, 0.5), to = c("only0", "only0"))` with its default
/// `drop00 = c(TRUE, FALSE)`: the double-zero tables have no effect size (Q from 20 tables) but
/// stay in the M-H sums with the correction. `[method] mh_drop00 = false` recomputes it; with
/// `drop00 = true` alone (RevMan's rule, both left out) the estimate misses, and the search finds
/// the setting.
#[test]
fn verify_separates_double_zero_in_the_mh_sums() {
    let fx = fixture("mh_drop00.json");
    let fit = fx["fits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["measure"] == "OR" && f["drop00_sums"] == false)
        .unwrap();
    let e = |k: &str| format!("{:.4}", fit[k].as_f64().unwrap().exp());
    let printed = format!("OR {} (95% CI {} to {})", e("estimate"), e("ci_lb"), e("ci_ub"));
    let q = format!("{:.2}", fit["Q"].as_f64().unwrap());
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/data/comparative/yusuf1985_table9.csv"),
        dir.path().join("d.csv"),
    )
    .unwrap();
    let write = |extra: &str| {
        let path = dir.path().join("claims.toml");
        std::fs::write(
            &path,
            format!(
                "[paper]\ncitation = \"dat.yusuf1985 table 9\"\n[data]\nfile = \"d.csv\"\n[method]\nmeasure = \"OR\"\npooling = \"MH\"\nmethod = \"EE\"\n\
                 cc_in_mh = true\ndrop00 = true\n{extra}[[claim]]\nlabel = \"M-H OR\"\nprinted = \"{printed}\"\nQ = \"{q}\"\n"
            ),
        )
        .unwrap();
        path
    };
    let (r, j) = verify_file(&write("mh_drop00 = false\n"), true, false);
    assert_eq!(r.claims[0].verdict, "match", "{:?}", r.claims[0].numbers);
    assert_eq!(j["comparative"]["search"]["stated_method_matches"], true);
    let m = j["comparative"]["search"]["matches"].as_array().unwrap();
    assert!(
        m.iter()
            .any(|x| x["drop00"] == true && x["mh_drop00"] == false && x["pooling"] == "MH"),
        "{m:?}"
    );
    let (r, _) = verify_file(&write(""), false, false);
    assert_eq!(r.claims[0].verdict, "mismatch", "{:?}", r.claims[0].numbers);
}

/// Incidence rates: the search covers Mantel–Haenszel pooling (metafor `rma.mh` with x1i, t1i,
/// x2i, t2i). dat.nielweise2008's M-H IRR 0.6602 (0.4608 to 0.9459) is not the inverse-variance
/// 0.714: the search finds M-H, and a stated M-H recomputes it; the IRD likewise.
#[test]
fn verify_searches_mantel_haenszel_rates() {
    let fx = fixture("mh_rates.json");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/data/comparative/nielweise2008.csv"),
        dir.path().join("d.csv"),
    )
    .unwrap();
    for (measure, scale) in [("IRR", "exp"), ("IRD", "raw")] {
        let fit = &fx["fits"][measure];
        let t = |k: &str| {
            let x = fit[k].as_f64().unwrap();
            if scale == "exp" {
                format!("{:.4}", x.exp())
            } else {
                format!("{:.5}", x)
            }
        };
        let printed = format!("{measure} {} (95% CI {} to {})", t("estimate"), t("ci_lb"), t("ci_ub"));
        let write = |pooling: &str| {
            let path = dir.path().join(format!("claims_{measure}.toml"));
            std::fs::write(
                &path,
                format!(
                    "[paper]\ncitation = \"dat.nielweise2008\"\n[data]\nfile = \"d.csv\"\n[method]\nmeasure = \"{measure}\"\nmethod = \"EE\"\n{pooling}\
                     [[claim]]\nlabel = \"M-H {measure}\"\nprinted = \"{printed}\"\nk = 9\n"
                ),
            )
            .unwrap();
            path
        };
        let (r, j) = verify_file(&write(""), true, false);
        assert_ne!(
            r.claims[0].verdict, "match",
            "{measure}: IV should miss: {:?}",
            r.claims[0].numbers
        );
        let m = j["comparative"]["search"]["matches"].as_array().unwrap();
        assert!(
            !m.is_empty() && m.iter().all(|x| x["pooling"] == "MH"),
            "{measure}: {m:?}"
        );
        let (r, _) = verify_file(&write("pooling = \"MH\"\n"), false, false);
        assert_eq!(r.claims[0].verdict, "match", "{measure}: {:?}", r.claims[0].numbers);
    }
}
