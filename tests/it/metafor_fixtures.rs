//! Every pooled number compared with R metafor (fixtures written by `tests/fixtures/make_fixtures.R`,
//! metafor run at tight convergence). Tolerance: 1e-6 relative, or 1e-10 absolute near zero.
//!
//! In the fixtures JSON `null` is metafor's NA (or a non-finite value); a key that is absent is a
//! broken fixture and fails the test, so that a value can never go unchecked by being missing.
//! Cases whose fit is not compared are counted by reason, printed, and the counts asserted
//! ([`EXPECTED_NOT_COMPARED`]), and the counts quoted in README.md ("How the numbers are checked")
//! are the ones this test produces (rewritten with `METAREPRO_UPDATE_COUNTS=1`).

use std::collections::BTreeMap;
use std::path::Path;

use metarepro::data::Studies;
use metarepro::effect::{escalc, study_ci, AddTo, CiMethod, Correction, Measure};
use metarepro::model::{pool, Method, PoolOptions, Pooled, Test};
use serde_json::Value;

const REL: f64 = 1e-6;
const ABS: f64 = 1e-10;

/// Fixture cases whose fit is not compared, by reason (yi and vi are compared for every case).
/// All are in `zeros_to.json` (studies 0/15 and 18/18, no continuity correction: `to = "none"`),
/// for all 10 estimators × 3 tests.
const EXPECTED_NOT_COMPARED: [(&str, usize); 3] = [
    // PR, ML/REML/EB/SJ/HE: metafor fits these models with vi = 0 (README "Deliberate
    // differences"); metarepro refuses the study, and the test checks that it does.
    ("study with vi = 0, refused by design; metafor fits it", 15),
    // PR with the other estimators (metafor: "non-positive sampling variances", "division by
    // zero") and PLN (18/18 has vi = 0; 0/15 has yi = -Inf, which metafor recodes to NA).
    ("study with vi = 0, refused by design; metafor fails too", 45),
    // PLO: yi = -Inf and +Inf for 0/15 and 18/18; the test checks that ours fails too.
    ("metafor fails (non-finite yi or vi), ours fails too", 30),
];

/// README.md counts this test checks: the words around the number (any whitespace between
/// them), `{}` standing for it.
const README_FITS_TOTAL: &str = "estimator × test: {} fits.";
const README_FITS_COMPARED: &str = "value of {} reference fits";
const README_VALUES: &str = "`tests/it/metafor_fixtures.rs` compares {} values";

struct Checker {
    failures: Vec<String>,
    compared: usize,
    /// Fits (cases) whose results were compared.
    fits: usize,
    not_compared: BTreeMap<String, usize>,
}

impl Checker {
    fn new() -> Self {
        Checker {
            failures: vec![],
            compared: 0,
            fits: 0,
            not_compared: BTreeMap::new(),
        }
    }

    fn not_compared(&mut self, reason: &str) {
        *self.not_compared.entry(reason.to_string()).or_default() += 1;
    }

    /// `theirs` is the fixture's value: `None` when the key (or array index) is absent, which
    /// is a failure; JSON `null` is metafor's NA, which ours must be too (non-finite).
    fn num(&mut self, what: &str, ours: f64, theirs: Option<&Value>) {
        self.compared += 1;
        let Some(theirs) = theirs else {
            self.failures
                .push(format!("{what}: absent from the fixture (ours {ours})"));
            return;
        };
        if theirs.is_null() {
            if ours.is_finite() {
                self.failures.push(format!("{what}: metafor NA, ours {ours}"));
            }
            return;
        }
        match theirs.as_f64() {
            None => self
                .failures
                .push(format!("{what}: fixture value {theirs} is not a number")),
            Some(t) => {
                let ok = (ours - t).abs() <= ABS || (ours - t).abs() <= REL * t.abs();
                if !ok {
                    self.failures.push(format!("{what}: metafor {t:e}, ours {ours:e}"));
                }
            }
        }
    }

    fn opt(&mut self, what: &str, ours: Option<f64>, theirs: Option<&Value>) {
        self.num(what, ours.unwrap_or(f64::NAN), theirs);
    }

    fn fit(&mut self, what: &str, f: &Pooled, r: &Value) {
        let n = |c: &mut Checker, key: &str, v: f64| c.num(&format!("{what}.{key}"), v, r.get(key));
        n(self, "k", f.fit.k as f64);
        n(self, "estimate", f.coef().estimate);
        n(self, "se", f.coef().se);
        n(self, "zval", f.coef().zval);
        n(self, "ci_lb", f.coef().ci_lb);
        n(self, "ci_ub", f.coef().ci_ub);
        n(self, "pval", f.coef().pval);
        n(self, "pi_lb", f.pi_lb);
        n(self, "pi_ub", f.pi_ub);
        n(self, "tau2", f.fit.tau2);
        n(self, "I2", f.fit.i2);
        n(self, "H2", f.fit.h2);
        n(self, "Q", f.fit.q);
        n(self, "Q_df", f.fit.q_df as f64);
        n(self, "Q_p", f.fit.q_p);
        let o = |c: &mut Checker, key: &str, v: Option<f64>| c.opt(&format!("{what}.{key}"), v, r.get(key));
        o(self, "tau2_ci_lb", f.tau2_ci_lb);
        o(self, "tau2_ci_ub", f.tau2_ci_ub);
        o(self, "I2_ci_lb", f.i2_ci_lb);
        o(self, "I2_ci_ub", f.i2_ci_ub);
        o(self, "H2_ci_lb", f.h2_ci_lb);
        o(self, "H2_ci_ub", f.h2_ci_ub);
        let Some(p) = r.get("proportion") else {
            self.failures
                .push(format!("{what}.proportion: absent from the fixture"));
            return;
        };
        let pr = |c: &mut Checker, key: &str, v: f64| c.num(&format!("{what}.proportion.{key}"), v, p.get(key));
        pr(self, "estimate", f.effect.estimate);
        pr(self, "ci_lb", f.effect.ci_lb);
        pr(self, "ci_ub", f.effect.ci_ub);
        pr(self, "pi_lb", f.effect.pi_lb);
        pr(self, "pi_ub", f.effect.pi_ub);
    }
}

/// `v[key]`, which the fixture must have (its value may be `null`).
fn key<'a>(v: &'a Value, key: &str, what: &str) -> &'a Value {
    v.get(key)
        .unwrap_or_else(|| panic!("{what}: the fixture has no key {key:?}"))
}

/// An array the fixture must have, of length `n`.
fn array_of<'a>(v: &'a Value, n: usize, what: &str) -> &'a [Value] {
    let a = v
        .as_array()
        .unwrap_or_else(|| panic!("{what}: not an array in the fixture: {v}"));
    assert_eq!(a.len(), n, "{what}: {} entries in the fixture, {n} expected", a.len());
    a
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("an array of strings")
        .iter()
        .map(|x| x.as_str().map(String::from).unwrap_or_else(|| x.to_string()))
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array of numbers")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

fn check_file(path: &Path, c: &mut Checker) -> usize {
    let text = std::fs::read_to_string(path).expect("fixture readable");
    let fx: Value = serde_json::from_str(&text).expect("fixture is JSON");
    let name = key(&fx, "name", &path.display().to_string())
        .as_str()
        .expect("name is a string")
        .to_string();
    let study = strings(key(&fx, "study", &name));
    let events = floats(key(&fx, "events", &name));
    let total = floats(key(&fx, "total", &name));
    let k = events.len();
    assert_eq!(study.len(), k, "{name}: study and events differ in length");
    assert_eq!(total.len(), k, "{name}: total and events differ in length");
    let group = match key(&fx, "group", &name) {
        Value::Null => None,
        g => Some(strings(g)),
    };
    if let Some(g) = &group {
        assert_eq!(g.len(), k, "{name}: group and events differ in length");
    }

    // Per-study CIs.
    for (m, method) in [
        ("CP", CiMethod::CP),
        ("WS", CiMethod::WS),
        ("WALD", CiMethod::Wald),
        ("AC", CiMethod::AC),
    ] {
        let ci = key(key(&fx, "study_ci", &name), m, &name);
        let lbs = array_of(key(ci, "lb", &name), k, &format!("{name} study_ci {m} lb"));
        let ubs = array_of(key(ci, "ub", &name), k, &format!("{name} study_ci {m} ub"));
        for i in 0..k {
            let (lb, ub) = study_ci(events[i], total[i], 0.95, method);
            c.num(&format!("{name} study_ci {m} lb[{i}]"), lb, Some(&lbs[i]));
            c.num(&format!("{name} study_ci {m} ub[{i}]"), ub, Some(&ubs[i]));
        }
    }

    let studies = Studies::from_counts(study, events.clone(), total.clone(), group.clone()).expect("valid counts");
    let cases = key(&fx, "cases", &name).as_array().expect("cases");
    for case in cases {
        let s = |k: &str| key(case, k, &name).as_str().expect("a string");
        let measure: Measure = s("measure").parse().unwrap();
        let method: Method = s("method").parse().unwrap();
        let test: Test = s("test").parse().unwrap();
        let add = key(case, "add", &name).as_f64().expect("add is a number");
        let to: AddTo = s("to").parse().unwrap();
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
        // yi and vi, for every case (metafor's NA where yi or vi is not finite).
        let es = escalc(measure, &events, &total, correction);
        assert_eq!(es.k(), k, "{label}: escalc");
        let yi = array_of(key(case, "yi", &label), k, &format!("{label} yi"));
        let vi = array_of(key(case, "vi", &label), k, &format!("{label} vi"));
        for i in 0..k {
            c.num(&format!("{label} yi[{i}]"), es.yi[i], Some(&yi[i]));
            c.num(&format!("{label} vi[{i}]"), es.vi[i], Some(&vi[i]));
        }
        // Deliberate difference: metafor fits some models with a study whose sampling variance is
        // 0 (PR with 0 or n events and no correction); metarepro refuses such a study, naming it.
        let metafor_error = case.get("error");
        if es.vi.iter().any(|v| !(*v > 0.0)) {
            if result.is_ok() {
                c.failures.push(format!("{label}: a study with vi = 0 was accepted"));
            }
            c.not_compared(if metafor_error.is_some() {
                "study with vi = 0, refused by design; metafor fails too"
            } else {
                "study with vi = 0, refused by design; metafor fits it"
            });
            continue;
        }
        if let Some(err) = metafor_error {
            if result.is_ok() {
                c.failures
                    .push(format!("{label}: metafor failed ({err}), ours succeeded"));
            }
            c.not_compared(if key(case, "error_in", &label).as_str() == Some("escalc") {
                "metafor fails (non-finite yi or vi), ours fails too"
            } else {
                "metafor fails in the model, ours fails too"
            });
            continue;
        }
        let res = match result {
            Ok(r) => r,
            Err(e) => {
                c.failures.push(format!("{label}: ours failed: {e}"));
                continue;
            }
        };
        c.fits += 1;
        c.fit(&format!("{label} overall"), &res.overall, key(case, "overall", &label));
        let subs = key(case, "subgroups", &label)
            .as_array()
            .unwrap_or_else(|| panic!("{label}: subgroups is not an array"));
        if subs.len() != res.subgroups.len() {
            c.failures.push(format!(
                "{label}: {} subgroups in metafor, {} ours",
                subs.len(),
                res.subgroups.len()
            ));
        }
        for (s, r) in res.subgroups.iter().zip(subs) {
            let sname = s.name.clone().unwrap_or_default();
            if r.get("name").and_then(Value::as_str) != Some(sname.as_str()) {
                c.failures
                    .push(format!("{label}: subgroup order {:?} vs {sname}", r.get("name")));
            }
            c.fit(&format!("{label} subgroup {sname}"), s, r);
        }
        let st = key(case, "subgroup_test", &label);
        match (st.is_null(), &res.subgroup_test) {
            (true, None) => {}
            (true, Some(_)) => c
                .failures
                .push(format!("{label}: a subgroup test where metafor has none")),
            (false, None) => c.failures.push(format!("{label}: no subgroup test")),
            (false, Some(t)) => {
                c.num(&format!("{label} subgroup_test.Q"), t.q, st.get("Q"));
                c.num(&format!("{label} subgroup_test.df"), t.df as f64, st.get("df"));
                c.num(&format!("{label} subgroup_test.p"), t.p, st.get("p"));
            }
        }
        if case.get("tau2_common_error").is_some() {
            c.not_compared("metafor's common-τ² model fails (the separate fits are compared)");
        }
        let tc = key(case, "tau2_common", &label);
        if tc.is_null() {
            // metafor fits the common-τ² model whenever there are 2 or more subgroups.
            if subs.len() >= 2 && case.get("tau2_common_error").is_none() {
                c.failures.push(format!(
                    "{label}: {} subgroups but no tau2_common in the fixture",
                    subs.len()
                ));
            }
        } else {
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
                        tc.get("tau2"),
                    );
                    let t = r2.subgroup_test.expect("QM test");
                    c.num(&format!("{label} tau2_common.QM"), t.q, tc.get("QM"));
                    c.num(&format!("{label} tau2_common.QM_df"), t.df as f64, tc.get("QM_df"));
                    c.opt(
                        &format!("{label} tau2_common.QM_df2"),
                        t.df2.map(|d| d as f64),
                        tc.get("QM_df2"),
                    );
                    c.num(&format!("{label} tau2_common.QM_p"), t.p, tc.get("QM_p"));
                    let tsubs = key(tc, "subgroups", &label)
                        .as_array()
                        .unwrap_or_else(|| panic!("{label}: tau2_common.subgroups is not an array"));
                    assert_eq!(
                        tsubs.len(),
                        r2.subgroups.len(),
                        "{label} tau2_common: {} subgroups in metafor, {} ours",
                        tsubs.len(),
                        r2.subgroups.len()
                    );
                    for (s, r) in r2.subgroups.iter().zip(tsubs) {
                        let sname = s.name.clone().unwrap_or_default();
                        if r.get("name").and_then(Value::as_str) != Some(sname.as_str()) {
                            c.failures.push(format!(
                                "{label} tau2_common: subgroup order {:?} vs {sname}",
                                r.get("name")
                            ));
                        }
                        c.fit(&format!("{label} tau2_common subgroup {sname}"), s, r);
                    }
                }
            }
        }
    }
    cases.len()
}

/// `n` with a comma every three digits, as README.md prints counts.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Where the number of `pattern` (words, `{}` for the number; any whitespace between words)
/// is in `text`: the byte range of the one number that matches.
fn find_count(text: &str, pattern: &str) -> std::ops::Range<usize> {
    let words: Vec<(usize, &str)> = text
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
        .collect();
    let pat: Vec<&str> = pattern.split_whitespace().collect();
    let slot = pat.iter().position(|w| *w == "{}").expect("pattern has {}");
    let is_count =
        |w: &str| w.starts_with(|c: char| c.is_ascii_digit()) && w.chars().all(|c| c.is_ascii_digit() || c == ',');
    let found: Vec<std::ops::Range<usize>> = words
        .windows(pat.len())
        .filter(|win| {
            win.iter()
                .zip(&pat)
                .all(|((_, w), p)| if *p == "{}" { is_count(w) } else { w == p })
        })
        .map(|win| {
            let (at, w) = win[slot];
            at..at + w.len()
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "README.md: {} places read {pattern:?} (with a number for {{}}), expected exactly one",
        found.len()
    );
    found[0].clone()
}

/// Whether README.md quotes `counts`: a message per number it quotes differently. With
/// `METAREPRO_UPDATE_COUNTS=1`, README.md is rewritten with these counts instead.
fn check_readme_counts(counts: &[(&str, usize)]) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let mut text = std::fs::read_to_string(&path).expect("README.md readable");
    let update = std::env::var("METAREPRO_UPDATE_COUNTS").is_ok_and(|v| v == "1");
    let mut wrong = vec![];
    for (pattern, n) in counts {
        let at = find_count(&text, pattern);
        let quoted = text[at.clone()].to_string();
        let actual = thousands(*n);
        if quoted != actual {
            if update {
                text.replace_range(at, &actual);
                eprintln!("README.md: {pattern:?}: {quoted} -> {actual}");
            } else {
                wrong.push(format!(
                    "README.md quotes {quoted} where this test counts {actual} ({pattern:?}); if the \
                     change is intended, run METAREPRO_UPDATE_COUNTS=1 cargo test --test \
                     it metafor_fixtures::pooled_results_match_metafor"
                ));
            }
        }
    }
    if update {
        metarepro::report::write_atomic(&path, text.as_bytes()).expect("write README.md");
    }
    wrong
}

#[test]
fn readme_count_helpers() {
    assert_eq!(thousands(0), "0");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(2250), "2,250");
    assert_eq!(thousands(304188), "304,188");
    assert_eq!(thousands(1234567), "1,234,567");
    let text = "it compares all 1,234\n  values (yi, vi) and 12 fits.";
    assert_eq!(&text[find_count(text, "compares all {} values")], "1,234");
    assert_eq!(&text[find_count(text, "and {} fits.")], "12");
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
    assert_eq!(
        files.len(),
        12,
        "expected the 5 metadat datasets and 7 edge-case files, found {}",
        files.len()
    );
    let mut c = Checker::new();
    let mut cases = 0;
    for f in &files {
        cases += check_file(f, &mut c);
    }
    eprintln!(
        "{} values in {} of {} cases from {} fixture files compared with metafor",
        c.compared,
        c.fits,
        cases,
        files.len()
    );
    eprintln!("fits not compared, by reason:");
    for (reason, n) in &c.not_compared {
        eprintln!("  {n:>5}  {reason}");
    }
    // The counts first (they do not depend on whether the values agree): what is not compared,
    // and what README.md quotes.
    let expected: BTreeMap<String, usize> = EXPECTED_NOT_COMPARED.iter().map(|(r, n)| (r.to_string(), *n)).collect();
    let mut problems = vec![];
    if c.not_compared != expected {
        problems.push(format!(
            "the fits not compared changed (update EXPECTED_NOT_COMPARED if intended): {:?}, expected {:?}",
            c.not_compared, expected
        ));
    }
    let skipped: usize = c.not_compared.values().sum();
    if c.fits + skipped != cases {
        problems.push(format!(
            "{} cases compared and {skipped} not compared, of {cases}",
            c.fits
        ));
    }
    problems.extend(check_readme_counts(&[
        (README_FITS_TOTAL, cases),
        (README_FITS_COMPARED, c.fits),
        (README_VALUES, c.compared),
    ]));
    if !c.failures.is_empty() {
        let shown: Vec<_> = c.failures.iter().take(60).cloned().collect();
        problems.push(format!(
            "{} of {} compared values differ from metafor (showing up to 60):\n{}",
            c.failures.len(),
            c.compared,
            shown.join("\n")
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Our JSON's `v[key]` as a number (`null`: NA); a missing key fails.
fn ours(v: &Value, key: &str, what: &str) -> f64 {
    match v.get(key) {
        None => panic!("{what}: no key {key:?} in metarepro's JSON"),
        Some(x) => x.as_f64().unwrap_or(f64::NAN),
    }
}

/// The CLI's `--format json` carries the same numbers: `metarepro pool` on each metadat dataset,
/// for every measure with REML/z, DL/knha and EE/t (with subgroups where the dataset has a group).
#[test]
fn pool_cli_json_matches_metafor() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pool");
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut c = Checker::new();
    let mut runs = 0;
    for name in ["pritz1997", "debruin2009", "hannum2020", "kearon1998", "hasselblad1998"] {
        let fx: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("fixture"))
                .expect("JSON");
        let study = strings(&fx["study"]);
        let events = floats(&fx["events"]);
        let total = floats(&fx["total"]);
        let group = match key(&fx, "group", name) {
            Value::Null => None,
            g => Some(strings(g)),
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
            if !matches!((me, t), ("REML", "z") | ("DL", "knha") | ("EE", "t")) {
                continue;
            }
            // The metadat datasets fit with every measure, estimator and test.
            assert!(case.get("error").is_none(), "{name} {m} {me} {t}: metafor failed");
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
                &key(case, "add", name).as_f64().expect("add").to_string(),
                "--to",
                key(case, "to", name).as_str().expect("to"),
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
            let overall = key(case, "overall", &label);
            for k in [
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
                let what = format!("{label} overall.{k}");
                c.num(&what, ours(&json["overall"], k, &what), overall.get(k));
            }
            let prop = key(overall, "proportion", &label);
            for k in ["estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub"] {
                let what = format!("{label} overall.proportion.{k}");
                c.num(&what, ours(&json["overall"]["proportion"], k, &what), prop.get(k));
            }
            let subs = key(case, "subgroups", &label).as_array().expect("subgroups");
            let our_subs = json["subgroups"].as_array().map(Vec::len).unwrap_or(0);
            assert_eq!(our_subs, subs.len(), "{label}: number of subgroups");
            for (j, r) in subs.iter().enumerate() {
                let s = &json["subgroups"][j];
                assert_eq!(s["name"], r["name"], "{label}: subgroup order");
                for k in ["estimate", "se", "ci_lb", "ci_ub", "tau2", "I2", "Q_p"] {
                    let what = format!("{label} subgroup {j} {k}");
                    c.num(&what, ours(s, k, &what), r.get(k));
                }
            }
            let st = key(case, "subgroup_test", &label);
            assert_eq!(json["subgroup_test"].is_null(), st.is_null(), "{label}: subgroup test");
            if !st.is_null() {
                for k in ["Q", "p"] {
                    let what = format!("{label} subgroup_test.{k}");
                    c.num(&what, ours(&json["subgroup_test"], k, &what), st.get(k));
                }
            }
        }
    }
    // 5 datasets × 5 measures × 3 (estimator, test) pairs.
    assert_eq!(runs, 75, "CLI runs");
    assert!(
        c.failures.is_empty(),
        "{} of {} values differ:\n{}",
        c.failures.len(),
        c.compared,
        c.failures.join("\n")
    );
    eprintln!("{} values of {runs} CLI runs match metafor", c.compared);
}
