//! The common-effect model of each subgroup (issue 18 item 2: meta prints a common- and a
//! random-effects model per subgroup) against R metafor: `rma(method = "EE")`, `rma.mh` or
//! `rma.peto` of the subgroup's studies alone, from `tests/fixtures/subgroup_common/cases.json`
//! (written by `tests/fixtures/make_subgroup_common_fixtures.R`). Tolerance: 1e-6 relative, or
//! 1e-10 absolute near zero. Then the JSON contract: every subgroup holds `common`, shaped as the
//! overall `common`, without breaking the keys it had.

use std::path::Path;

use metarepro::data::{Studies, StudyInput};
use metarepro::model::{pool, Method, PoolOptions, Pooled, Pooling, Test};
use serde_json::Value;

const REL: f64 = 1e-6;
const ABS: f64 = 1e-10;

fn fixtures() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/subgroup_common/cases.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture readable")).expect("fixture is JSON")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

#[derive(Default)]
struct Check {
    failures: Vec<String>,
    compared: usize,
}

impl Check {
    fn num(&mut self, what: &str, ours: f64, theirs: Option<&Value>) {
        self.compared += 1;
        match theirs.and_then(Value::as_f64) {
            None => self
                .failures
                .push(format!("{what}: not a number in the fixture: {theirs:?}")),
            Some(t) => {
                let d = (ours - t).abs();
                if !(d <= ABS || d <= REL * t.abs()) {
                    self.failures.push(format!("{what}: metafor {t:e}, ours {ours:e}"));
                }
            }
        }
    }

    fn fit(&mut self, what: &str, f: &Pooled, r: &Value) {
        let mut n = |key: &str, v: f64| self.num(&format!("{what}.{key}"), v, r.get(key));
        n("k", f.fit.k as f64);
        n("estimate", f.coef().estimate);
        n("se", f.coef().se);
        n("zval", f.coef().zval);
        n("pval", f.coef().pval);
        n("ci_lb", f.coef().ci_lb);
        n("ci_ub", f.coef().ci_ub);
        if r.get("pi_lb").is_some() {
            n("pi_lb", f.pi_lb);
            n("pi_ub", f.pi_ub);
        }
        if f.fit.k > 1 {
            n("I2", f.fit.i2);
            n("H2", f.fit.h2);
            n("Q", f.fit.q);
            n("Q_p", f.fit.q_p);
        }
        n("Q_df", f.fit.q_df as f64);
        let e = &r["effect"];
        let mut m = |key: &str, v: f64| self.num(&format!("{what}.effect.{key}"), v, e.get(key));
        m("estimate", f.effect.estimate);
        m("ci_lb", f.effect.ci_lb);
        m("ci_ub", f.effect.ci_ub);
    }
}

fn studies_of(case: &Value) -> Studies {
    let study = strings(&case["study"]);
    let group = Some(strings(&case["group"]));
    if case["data"] == "proportions" {
        Studies::from_counts(study, floats(&case["events"]), floats(&case["total"]), group).expect("counts")
    } else {
        let [a, b, c, d] = ["ai", "bi", "ci", "di"].map(|k| floats(&case[k]));
        let inputs = (0..a.len())
            .map(|i| StudyInput::Table2x2 {
                ai: a[i],
                bi: b[i],
                ci: c[i],
                di: d[i],
            })
            .collect();
        Studies::from_inputs(study, inputs, group).expect("tables")
    }
}

fn options_of(case: &Value) -> PoolOptions {
    let s = |k: &str| case[k].as_str().expect("string");
    PoolOptions {
        measure: s("measure").parse().unwrap(),
        method: s("method").parse::<Method>().unwrap(),
        test: s("test").parse::<Test>().unwrap(),
        pooling: match s("pooling") {
            "MH" => Pooling::MH,
            "PETO" => Pooling::PETO,
            _ => Pooling::IV,
        },
        tau2_common: case["tau2_common"].as_bool().unwrap(),
        ..PoolOptions::default()
    }
}

#[test]
fn each_subgroups_common_effect_fit_matches_metafor() {
    let fx = fixtures();
    let cases = fx["cases"].as_array().expect("cases");
    assert!(cases.len() >= 12, "{} cases", cases.len());
    let mut c = Check::default();
    let mut subgroup_fits = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let res = pool(&studies_of(case), &options_of(case)).unwrap_or_else(|e| panic!("{id}: {e}"));
        let common = res
            .common
            .as_ref()
            .unwrap_or_else(|| panic!("{id}: no overall common fit"));
        c.fit(&format!("{id} overall common"), common, &case["overall_common"]);
        let subs = case["subgroups"].as_array().unwrap();
        assert_eq!(subs.len(), res.subgroups.len(), "{id}: number of subgroups");
        for (g, r) in res.subgroups.iter().zip(subs) {
            let name = r["name"].as_str().unwrap();
            assert_eq!(g.name.as_deref(), Some(name), "{id}: subgroup order");
            let Some(gc) = g.common.as_deref() else {
                c.failures.push(format!("{id} {name}: no common-effect fit"));
                continue;
            };
            c.fit(&format!("{id} subgroup {name} common"), gc, &r["common"]);
            subgroup_fits += 1;
            // The random-effects fit is another model (tau^2 > 0 in most of these subgroups):
            // the common fit must not be a copy of it.
            if g.fit.tau2 > 1e-8 && (g.coef().estimate - gc.coef().estimate).abs() < 1e-12 {
                c.failures
                    .push(format!("{id} {name}: the common fit equals the random one"));
            }
        }
    }
    assert!(
        c.failures.is_empty(),
        "{} of {} values differ:\n{}",
        c.failures.len(),
        c.compared,
        c.failures.join("\n")
    );
    assert!(subgroup_fits >= 30, "{subgroup_fits} subgroup fits compared");
    assert!(c.compared > 500, "{} values compared", c.compared);
}

/// With a common-effect analysis the subgroup's `common` is its fit (one model, shown once); the
/// GLMM has no common-effect fit, overall or per subgroup.
#[test]
fn common_effect_analyses_and_the_glmm() {
    let fx = fixtures();
    let case = &fx["cases"][0];
    let studies = studies_of(case);
    let mut o = options_of(case);
    o.method = Method::EE;
    let res = pool(&studies, &o).unwrap();
    for g in &res.subgroups {
        let c = g.common.as_deref().expect("common");
        assert_eq!(
            (c.coef().estimate, c.coef().se, c.fit.k),
            (g.coef().estimate, g.coef().se, g.fit.k)
        );
    }
    o.method = Method::GLMM;
    let res = pool(&studies, &o).unwrap();
    assert!(res.common.is_none());
    assert!(res.subgroups.iter().all(|g| g.common.is_none()));
}

/// The JSON: `subgroups[i].common` has the keys of the overall `common` (on the same scale and
/// with `proportion` for proportions, `effect` only for two-group data), and the keys a subgroup
/// had before stay.
#[test]
fn json_gives_each_subgroup_a_common_object() {
    let fx = fixtures();
    for idx in [0usize, 9] {
        let case = &fx["cases"][idx];
        let id = case["id"].as_str().unwrap();
        let res = pool(&studies_of(case), &options_of(case)).unwrap();
        let v: Value = serde_json::from_str(&metarepro::report::json::to_json(&res)).unwrap();
        let overall_keys: Vec<&String> = v["common"].as_object().expect("overall common").keys().collect();
        for (g, s) in res.subgroups.iter().zip(v["subgroups"].as_array().unwrap()) {
            let s = s.as_object().unwrap();
            for key in [
                "name", "k", "estimate", "se", "ci_lb", "ci_ub", "tau2", "I2", "Q", "effect",
            ] {
                assert!(s.contains_key(key), "{id}: subgroup lost {key}");
            }
            let c = s["common"]
                .as_object()
                .unwrap_or_else(|| panic!("{id}: subgroup without common"));
            let mut keys: Vec<&String> = c.keys().collect();
            keys.sort();
            let mut want = overall_keys.clone();
            want.sort();
            assert_eq!(keys, want, "{id}: subgroup common keys");
            let gc = g.common.as_deref().unwrap();
            // (serde_json reads the last digit of a float back only to within an ulp or two)
            let close = |v: &Value, x: f64| v.as_f64().is_some_and(|j| (j - x).abs() <= 1e-14 * x.abs());
            assert!(
                close(&c["estimate"], gc.coef().estimate),
                "{id}: {} vs {}",
                c["estimate"],
                gc.coef().estimate
            );
            assert!(close(&c["effect"]["ci_lb"], gc.effect.ci_lb), "{id}");
            assert_ne!(
                c["estimate"], s["estimate"],
                "{id}: common and random estimates are one number"
            );
            assert_eq!(c.contains_key("proportion"), res.measure.is_proportion(), "{id}");
        }
    }
}
