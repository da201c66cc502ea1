//! Every pooled number compared with R metafor (fixtures written by `tests/fixtures/make_fixtures.R`,
//! metafor run at tight convergence). Tolerance: 1e-6 relative, or 1e-10 absolute near zero.

use std::path::Path;

use metarepro::data::Studies;
use metarepro::effect::{escalc, study_ci, AddTo, CiMethod, Correction, Measure};
use metarepro::model::{pool, Method, PoolOptions, Pooled, Test};
use serde_json::Value;

const REL: f64 = 1e-6;
const ABS: f64 = 1e-10;

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
                let ok = if t.is_infinite() {
                    ours == t
                } else {
                    (ours - t).abs() <= ABS || (ours - t).abs() <= REL * t.abs()
                };
                if !ok {
                    self.failures.push(format!("{what}: metafor {t:e}, ours {ours:e}"));
                }
            }
        }
    }

    fn opt(&mut self, what: &str, ours: Option<f64>, theirs: &Value) {
        self.num(what, ours.unwrap_or(f64::NAN), theirs);
    }

    fn fit(&mut self, what: &str, f: &Pooled, r: &Value) {
        let n = |c: &mut Checker, key: &str, v: f64| c.num(&format!("{what}.{key}"), v, &r[key]);
        n(self, "k", f.k as f64);
        n(self, "estimate", f.estimate);
        n(self, "se", f.se);
        n(self, "zval", f.zval);
        n(self, "ci_lb", f.ci_lb);
        n(self, "ci_ub", f.ci_ub);
        n(self, "pval", f.pval);
        n(self, "pi_lb", f.pi_lb);
        n(self, "pi_ub", f.pi_ub);
        n(self, "tau2", f.tau2);
        n(self, "I2", f.i2);
        n(self, "H2", f.h2);
        n(self, "Q", f.q);
        n(self, "Q_df", f.q_df as f64);
        n(self, "Q_p", f.q_p);
        let o = |c: &mut Checker, key: &str, v: Option<f64>| c.opt(&format!("{what}.{key}"), v, &r[key]);
        o(self, "tau2_ci_lb", f.tau2_ci_lb);
        o(self, "tau2_ci_ub", f.tau2_ci_ub);
        o(self, "I2_ci_lb", f.i2_ci_lb);
        o(self, "I2_ci_ub", f.i2_ci_ub);
        o(self, "H2_ci_lb", f.h2_ci_lb);
        o(self, "H2_ci_ub", f.h2_ci_ub);
        let p = &r["proportion"];
        let pr = |c: &mut Checker, key: &str, v: f64| c.num(&format!("{what}.proportion.{key}"), v, &p[key]);
        pr(self, "estimate", f.proportion.estimate);
        pr(self, "ci_lb", f.proportion.ci_lb);
        pr(self, "ci_ub", f.proportion.ci_ub);
        pr(self, "pi_lb", f.proportion.pi_lb);
        pr(self, "pi_ub", f.proportion.pi_ub);
    }
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

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default()
}

fn check_file(path: &Path, c: &mut Checker) -> usize {
    let text = std::fs::read_to_string(path).expect("fixture readable");
    let fx: Value = serde_json::from_str(&text).expect("fixture is JSON");
    let name = fx["name"].as_str().unwrap_or("?").to_string();
    let study = strings(&fx["study"]);
    let events = floats(&fx["events"]);
    let total = floats(&fx["total"]);
    let group = if fx["group"].is_null() {
        None
    } else {
        Some(strings(&fx["group"]))
    };

    // Per-study CIs.
    for (key, method) in [
        ("CP", CiMethod::CP),
        ("WS", CiMethod::WS),
        ("WALD", CiMethod::Wald),
        ("AC", CiMethod::AC),
    ] {
        let lbs = &fx["study_ci"][key]["lb"];
        let ubs = &fx["study_ci"][key]["ub"];
        for i in 0..events.len() {
            let (lb, ub) = study_ci(events[i], total[i], 0.95, method);
            c.num(&format!("{name} study_ci {key} lb[{i}]"), lb, &lbs[i]);
            c.num(&format!("{name} study_ci {key} ub[{i}]"), ub, &ubs[i]);
        }
    }

    let studies = Studies::from_counts(study, events.clone(), total.clone(), group).expect("valid counts");
    let cases = fx["cases"].as_array().expect("cases");
    for case in cases {
        let measure: Measure = case["measure"].as_str().unwrap().parse().unwrap();
        let method: Method = case["method"].as_str().unwrap().parse().unwrap();
        let test: Test = case["test"].as_str().unwrap().parse().unwrap();
        let add = case["add"].as_f64().unwrap_or(0.5);
        let to: AddTo = case["to"].as_str().unwrap_or("only0").parse().unwrap();
        let label = format!("{name} {measure} {method} {test} add={add} to={}", to.as_str());
        let correction = Correction { add, to };
        let options = PoolOptions {
            measure,
            method,
            test,
            correction,
            ..PoolOptions::default()
        };
        let result = pool(&studies, &options);
        // Deliberate difference: metafor fits some models with a study whose sampling variance is
        // 0 (PR with 0 or n events and no correction); metarepro refuses such a study, naming it.
        let es = escalc(measure, &events, &total, correction);
        if es.vi.iter().any(|v| !(*v > 0.0)) {
            if result.is_ok() {
                c.failures.push(format!("{label}: a study with vi = 0 was accepted"));
            }
            continue;
        }
        if let Some(err) = case.get("error") {
            if result.is_ok() {
                c.failures
                    .push(format!("{label}: metafor failed ({err}), ours succeeded"));
            }
            continue;
        }
        for i in 0..es.k() {
            c.num(&format!("{label} yi[{i}]"), es.yi[i], &case["yi"][i]);
            c.num(&format!("{label} vi[{i}]"), es.vi[i], &case["vi"][i]);
        }
        let res = match result {
            Ok(r) => r,
            Err(e) => {
                c.failures.push(format!("{label}: ours failed: {e}"));
                continue;
            }
        };
        c.fit(&format!("{label} overall"), &res.overall, &case["overall"]);
        let subs = case["subgroups"].as_array().cloned().unwrap_or_default();
        if subs.len() != res.subgroups.len() {
            c.failures.push(format!(
                "{label}: {} subgroups in metafor, {} ours",
                subs.len(),
                res.subgroups.len()
            ));
        }
        for (s, r) in res.subgroups.iter().zip(&subs) {
            let sname = s.name.clone().unwrap_or_default();
            if r["name"].as_str() != Some(sname.as_str()) {
                c.failures
                    .push(format!("{label}: subgroup order {:?} vs {sname}", r["name"]));
            }
            c.fit(&format!("{label} subgroup {sname}"), s, r);
        }
        if !case["subgroup_test"].is_null() {
            match &res.subgroup_test {
                Some(t) => {
                    c.num(&format!("{label} subgroup_test.Q"), t.q, &case["subgroup_test"]["Q"]);
                    c.num(
                        &format!("{label} subgroup_test.df"),
                        t.df as f64,
                        &case["subgroup_test"]["df"],
                    );
                    c.num(&format!("{label} subgroup_test.p"), t.p, &case["subgroup_test"]["p"]);
                }
                None => c.failures.push(format!("{label}: no subgroup test")),
            }
        }
        let tc = &case["tau2_common"];
        if !tc.is_null() {
            let opts = PoolOptions {
                tau2_common: true,
                ..options
            };
            match pool(&studies, &opts) {
                Err(e) => c.failures.push(format!("{label} tau2_common: ours failed: {e}")),
                Ok(r2) => {
                    c.num(
                        &format!("{label} tau2_common.tau2"),
                        r2.tau2_common_value.unwrap_or(f64::NAN),
                        &tc["tau2"],
                    );
                    let t = r2.subgroup_test.expect("QM test");
                    c.num(&format!("{label} tau2_common.QM"), t.q, &tc["QM"]);
                    c.num(&format!("{label} tau2_common.QM_df"), t.df as f64, &tc["QM_df"]);
                    c.opt(
                        &format!("{label} tau2_common.QM_df2"),
                        t.df2.map(|d| d as f64),
                        &tc["QM_df2"],
                    );
                    c.num(&format!("{label} tau2_common.QM_p"), t.p, &tc["QM_p"]);
                    let subs = tc["subgroups"].as_array().cloned().unwrap_or_default();
                    for (s, r) in r2.subgroups.iter().zip(&subs) {
                        c.fit(
                            &format!("{label} tau2_common subgroup {}", s.name.clone().unwrap_or_default()),
                            s,
                            r,
                        );
                    }
                }
            }
        }
    }
    cases.len()
}

#[test]
fn pooled_results_match_metafor() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pool");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/pool exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 6,
        "expected at least 4 metadat datasets and the edge cases, found {}",
        files.len()
    );
    let mut c = Checker {
        failures: vec![],
        compared: 0,
    };
    let mut cases = 0;
    for f in &files {
        cases += check_file(f, &mut c);
    }
    assert!(cases > 1000, "only {cases} cases");
    if !c.failures.is_empty() {
        let shown: Vec<_> = c.failures.iter().take(60).cloned().collect();
        panic!(
            "{} of {} compared values differ from metafor (showing up to 60):\n{}",
            c.failures.len(),
            c.compared,
            shown.join("\n")
        );
    }
    eprintln!(
        "{} values in {} cases from {} fixture files match metafor",
        c.compared,
        cases,
        files.len()
    );
}

/// The CLI's `--format json` carries the same numbers: `metarepro pool` on each metadat dataset,
/// for every measure with REML/z, DL/knha and EE/t (with subgroups where the dataset has a group).
#[test]
fn pool_cli_json_matches_metafor() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pool");
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut c = Checker {
        failures: vec![],
        compared: 0,
    };
    let mut runs = 0;
    for name in ["pritz1997", "debruin2009", "hannum2020", "kearon1998", "hasselblad1998"] {
        let fx: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("fixture"))
                .expect("JSON");
        let study = strings(&fx["study"]);
        let events = floats(&fx["events"]);
        let total = floats(&fx["total"]);
        let group = if fx["group"].is_null() {
            None
        } else {
            Some(strings(&fx["group"]))
        };
        let csv = tmp.path().join(format!("{name}.csv"));
        let mut text = String::from("study,events,total,group\n");
        for i in 0..events.len() {
            let g = group.as_ref().map(|g| g[i].clone()).unwrap_or_default();
            text.push_str(&format!(
                "\"{}\",{},{},\"{}\"\n",
                study[i].replace('"', "\"\""),
                events[i],
                total[i],
                g
            ));
        }
        std::fs::write(&csv, text).expect("write CSV");
        for case in fx["cases"].as_array().expect("cases") {
            let (m, me, t) = (
                case["measure"].as_str().unwrap(),
                case["method"].as_str().unwrap(),
                case["test"].as_str().unwrap(),
            );
            if !matches!((me, t), ("REML", "z") | ("DL", "knha") | ("EE", "t")) || case.get("error").is_some() {
                continue;
            }
            let mut cmd = assert_cmd::Command::cargo_bin("metarepro").expect("binary");
            cmd.args([
                "pool",
                csv.to_str().unwrap(),
                "--format",
                "json",
                "--measure",
                m,
                "--method",
                me,
                "--test",
                t,
            ]);
            cmd.args([
                "--add",
                &case["add"].as_f64().unwrap_or(0.5).to_string(),
                "--to",
                case["to"].as_str().unwrap_or("only0"),
            ]);
            if group.is_some() {
                cmd.args(["--by", "group"]);
            }
            let out = cmd.output().expect("run");
            assert!(
                out.status.success(),
                "{name} {m} {me} {t}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let json: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
            runs += 1;
            let label = format!("CLI {name} {m} {me} {t}");
            for key in [
                "estimate",
                "se",
                "ci_lb",
                "ci_ub",
                "pval",
                "pi_lb",
                "pi_ub",
                "tau2",
                "tau2_ci_lb",
                "tau2_ci_ub",
                "I2",
                "I2_ci_lb",
                "I2_ci_ub",
                "H2",
                "Q",
                "Q_df",
                "Q_p",
                "k",
            ] {
                let ours = json["overall"][key].as_f64().unwrap_or(f64::NAN);
                c.num(&format!("{label} overall.{key}"), ours, &case["overall"][key]);
            }
            for key in ["estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub"] {
                let ours = json["overall"]["proportion"][key].as_f64().unwrap_or(f64::NAN);
                c.num(
                    &format!("{label} overall.proportion.{key}"),
                    ours,
                    &case["overall"]["proportion"][key],
                );
            }
            let subs = case["subgroups"].as_array().cloned().unwrap_or_default();
            for (j, r) in subs.iter().enumerate() {
                let s = &json["subgroups"][j];
                assert_eq!(s["name"], r["name"], "{label}: subgroup order");
                for key in ["estimate", "se", "ci_lb", "ci_ub", "tau2", "I2", "Q_p"] {
                    c.num(
                        &format!("{label} subgroup {j} {key}"),
                        s[key].as_f64().unwrap_or(f64::NAN),
                        &r[key],
                    );
                }
            }
            if !case["subgroup_test"].is_null() {
                c.num(
                    &format!("{label} subgroup_test.Q"),
                    json["subgroup_test"]["Q"].as_f64().unwrap_or(f64::NAN),
                    &case["subgroup_test"]["Q"],
                );
                c.num(
                    &format!("{label} subgroup_test.p"),
                    json["subgroup_test"]["p"].as_f64().unwrap_or(f64::NAN),
                    &case["subgroup_test"]["p"],
                );
            }
        }
    }
    assert!(runs >= 60, "only {runs} CLI runs");
    assert!(
        c.failures.is_empty(),
        "{} of {} values differ:\n{}",
        c.failures.len(),
        c.compared,
        c.failures.join("\n")
    );
}
