//! `verify` on printed small-study test claims (Egger, Begg, trim-and-fill, Peters, Harbord,
//! fail-safe N). The printed numbers are metafor 3.8.1's (`tests/fixtures/bias/*.json`, written
//! by `tests/fixtures/make_bias_fixtures.R`) rounded to 2–3 decimals, as a paper prints them: each
//! must match when recomputed from the claims file's data and stated method. The same numbers
//! perturbed (last digit +1 or +2, k0 and fail-safe N ± 1, a p bound on the wrong side) must not.

use std::path::{Path, PathBuf};

use metarepro::verify::{self, claims, ClaimReport, VerifyOptions, VerifyReport};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/bias/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// metafor's regtest result of one case.
fn regtest<'a>(fx: &'a Value, method: &str, test: &str, model: &str, predictor: &str) -> &'a Value {
    case(fx, method, test)["regtest"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == model && r["predictor"] == predictor)
        .unwrap()
}

fn case<'a>(fx: &'a Value, method: &str, test: &str) -> &'a Value {
    fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["method"] == method && c["test"] == test)
        .unwrap_or_else(|| panic!("no case {method} {test}"))
}

fn trimfill<'a>(fx: &'a Value, method: &str, test: &str, estimator: &str, side: Option<&str>) -> &'a Value {
    case(fx, method, test)["trimfill"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["estimator"] == estimator && t["side_given"].as_str() == side)
        .unwrap()
}

/// `x` rounded to `d` decimals, as printed.
fn r(x: f64, d: usize) -> String {
    format!("{x:.d$}")
}

/// A p-value as papers print it: rounded to `d` decimals, or "<0.001" below 10^-d.
fn pr(x: f64, d: usize) -> String {
    if x < 10f64.powi(-(d as i32)) {
        format!("<{}", r(10f64.powi(-(d as i32)), d))
    } else {
        r(x, d)
    }
}

fn ilogit(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A printed estimate with its CI.
#[derive(Clone)]
struct Est {
    values: [f64; 3],
    d: usize,
    percent: bool,
}

impl Est {
    fn text(&self, bump: Option<(usize, i32)>) -> String {
        let s = |i: usize| {
            let mut x = if self.percent {
                100.0 * self.values[i]
            } else {
                self.values[i]
            };
            let unit = 10f64.powi(-(self.d as i32));
            // Round first, then move the last printed digit.
            x = (x / unit).round() * unit;
            if let Some((j, by)) = bump {
                if j == i {
                    x += by as f64 * unit;
                }
            }
            format!("{}{}", r(x, self.d), if self.percent { "%" } else { "" })
        };
        format!("{} (95% CI {} to {})", s(0), s(1), s(2))
    }
}

/// One claim of a test: its keys as printed, its options, and the report name of each key.
#[derive(Clone)]
struct Def {
    label: String,
    test: &'static str,
    options: Vec<(&'static str, String)>,
    /// (claim key, printed text)
    nums: Vec<(&'static str, String)>,
    est: Option<Est>,
    /// metafor's p-value, for a bound below it.
    p_true: Option<f64>,
}

impl Def {
    fn new(label: &str, test: &'static str) -> Def {
        Def {
            label: label.into(),
            test,
            options: vec![],
            nums: vec![],
            est: None,
            p_true: None,
        }
    }
    fn opt(mut self, k: &'static str, v: &str) -> Def {
        self.options.push((k, v.into()));
        self
    }
    fn num(mut self, k: &'static str, v: String) -> Def {
        self.nums.push((k, v));
        self
    }
    /// metafor's p printed with `d` decimals (or as "<0.001" below 10^-d).
    fn p(mut self, x: f64, d: usize) -> Def {
        self.p_true = Some(x);
        self.num("p", pr(x, d))
    }
    fn est(mut self, e: Est) -> Def {
        self.est = Some(e);
        self
    }

    fn toml(&self, printed: Option<String>) -> String {
        let mut s = format!("[[claim]]\nlabel = \"{}\"\ntest = \"{}\"\n", self.label, self.test);
        for (k, v) in self.options.iter().chain(&self.nums) {
            s.push_str(&format!("{k} = \"{v}\"\n"));
        }
        if let Some(p) = printed.or_else(|| self.est.as_ref().map(|e| e.text(None))) {
            s.push_str(&format!("printed = \"{p}\"\n"));
        }
        s
    }

    /// The report names of the printed numbers.
    fn names(&self) -> Vec<&'static str> {
        let mut n: Vec<&'static str> = self.nums.iter().map(|(k, _)| *k).collect();
        if self.est.is_some() {
            n.extend(["estimate", "ci_lb", "ci_ub"]);
        }
        n
    }
}

/// Perturbations of one claim: (claim TOML, the number that must not match, expected verdict if
/// it must be exactly that).
fn perturbed(d: &Def) -> Vec<(String, &'static str, Option<&'static str>)> {
    let mut out = Vec::new();
    for (i, (key, text)) in d.nums.iter().enumerate() {
        let variants: Vec<(String, Option<&'static str>)> = match *key {
            "k0" | "fsn" => {
                let v: i64 = text.parse().unwrap();
                let mut w = vec![(format!("{}", v + 1), Some("mismatch"))];
                if v > 0 {
                    w.push((format!("{}", v - 1), Some("mismatch")));
                }
                w
            }
            "p" if text.starts_with('<') => {
                // A bound below metafor's p (the recomputed p is above it); and the bound
                // reversed.
                let x = d.p_true.expect("p bound without metafor's value");
                let e = x.log10().floor();
                let below = format!("<{}", r(10f64.powf(e), (-e) as usize));
                vec![
                    (below, Some("mismatch")),
                    (format!(">{}", &text[1..]), Some("mismatch")),
                ]
            }
            _ => {
                let dec = text.split_once('.').map(|(_, x)| x.len()).unwrap_or(0);
                let v: f64 = text.parse().unwrap();
                let unit = 10f64.powi(-(dec as i32));
                [1.0, 2.0, -1.0]
                    .iter()
                    .filter(|b| *key != "p" || v + *b * unit >= 0.0)
                    .map(|b| (r(v + b * unit, dec), None))
                    .collect()
            }
        };
        for (n, (v, expect)) in variants.into_iter().enumerate() {
            let mut p = d.clone();
            p.label = format!("{} / {key} perturbed {n}", d.label);
            p.nums[i].1 = v;
            out.push((p.toml(None), *key, expect));
        }
    }
    if let Some(e) = &d.est {
        for (j, name) in ["estimate", "ci_lb", "ci_ub"].into_iter().enumerate() {
            for by in [1, 2] {
                let mut p = d.clone();
                p.label = format!("{} / {name} +{by}", d.label);
                out.push((p.toml(Some(e.text(Some((j, by))))), name, None));
            }
        }
    }
    out
}

struct Data {
    dir: tempfile::TempDir,
    file: &'static str,
    method: String,
}

/// The study data of a fixture in a temporary directory.
fn data(csv: String, file: &'static str, method: &str) -> Data {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(file), csv).unwrap();
    Data {
        dir,
        file,
        method: method.into(),
    }
}

fn run(d: &Data, claims_toml: &str) -> VerifyReport {
    let text = format!(
        "[paper]\ncitation = \"metafor 3.8.1 fixture\"\n[data]\nfile = \"{}\"\n[method]\n{}\n{}",
        d.file, d.method, claims_toml
    );
    let path: PathBuf = d.dir.path().join("claims.toml");
    std::fs::write(&path, &text).unwrap();
    let c = claims::load(&path).unwrap_or_else(|e| panic!("{e}\n{text}"));
    verify::verify(&c, &VerifyOptions::default()).unwrap()
}

fn claim<'a>(r: &'a VerifyReport, label: &str) -> &'a ClaimReport {
    r.claims.iter().find(|c| c.label == label).unwrap()
}

/// Every claim matches, number by number; every perturbation of it does not.
fn check(d: &Data, defs: &[Def]) {
    let all: String = defs.iter().map(|x| x.toml(None)).collect();
    let rep = run(d, &all);
    for def in defs {
        let c = claim(&rep, &def.label);
        let names = def.names();
        assert_eq!(c.numbers.len(), names.len(), "{}: {:?}", def.label, c.numbers);
        for n in &c.numbers {
            assert!(names.contains(&n.name.as_str()), "{}: unexpected {}", def.label, n.name);
            assert_eq!(
                n.verdict, "match",
                "{}: {} printed {} recomputed {:?}",
                def.label, n.name, n.printed, n.recomputed
            );
        }
        assert_eq!(c.verdict, "match", "{}: {:?}", def.label, c.data_note);
        assert!(c.test.is_some());
        let pert = perturbed(def);
        assert!(!pert.is_empty());
        let text: String = pert.iter().map(|p| p.0.clone()).collect();
        let rep = run(d, &text);
        assert_eq!(rep.claims.len(), pert.len());
        for (pc, (toml, name, expect)) in rep.claims.iter().zip(&pert) {
            let n = pc.numbers.iter().find(|n| n.name == *name).unwrap();
            assert_ne!(
                n.verdict, "match",
                "{toml}: {} recomputed {:?}",
                n.printed, n.recomputed
            );
            if let Some(e) = expect {
                assert_eq!(n.verdict, *e, "{toml}");
            }
            assert_ne!(pc.verdict, "match", "{toml}");
            // The other numbers still match.
            for o in pc.numbers.iter().filter(|o| o.name != *name) {
                assert_eq!(o.verdict, "match", "{toml}: {}", o.name);
            }
        }
    }
}

fn pritz_data(method: &str) -> Data {
    let csv =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/pritz1997/studies.csv")).unwrap();
    data(csv, "studies.csv", method)
}

#[test]
fn pritz1997_plo_egger_begg_trimfill_fsn_match_metafor() {
    let fx = fixture("pritz1997");
    let d = pritz_data("measure = \"PLO\"\nmethod = \"REML\"");
    let eg = regtest(&fx, "REML", "z", "rma", "sei");
    let lm = regtest(&fx, "REML", "z", "lm", "ni");
    let tf = trimfill(&fx, "REML", "z", "L0", None);
    let r0 = trimfill(&fx, "REML", "z", "R0", Some("left"));
    assert_eq!(tf["k0"], 4);
    assert!(f(&tf["pval"]) < 0.001);
    let defs = vec![
        Def::new("Egger", "egger")
            .p(f(&eg["pval"]), 3)
            .num("z", r(f(&eg["zval"]), 2))
            .est(Est {
                values: [ilogit(f(&eg["est"])), ilogit(f(&eg["ci_lb"])), ilogit(f(&eg["ci_ub"]))],
                d: 2,
                percent: false,
            }),
        Def::new("Egger lm ni", "egger")
            .opt("model", "lm")
            .opt("predictor", "ni")
            .p(f(&lm["pval"]), 3)
            .num("t", r(f(&lm["zval"]), 2)),
        Def::new("Begg", "begg")
            .p(f(&fx["ranktest"]["pval"]), 2)
            .num("tau", r(f(&fx["ranktest"]["tau"]), 3)),
        Def::new("trim and fill", "trimfill")
            .num("k0", tf["k0"].to_string())
            .p(f(&tf["pval"]), 3)
            .est(Est {
                values: [
                    ilogit(f(&tf["estimate"])),
                    ilogit(f(&tf["ci_lb"])),
                    ilogit(f(&tf["ci_ub"])),
                ],
                d: 1,
                percent: true,
            }),
        Def::new("trim and fill R0 left", "trimfill")
            .opt("estimator", "R0")
            .opt("side", "left")
            .num("k0", r0["k0"].to_string())
            .est(Est {
                values: [
                    ilogit(f(&r0["estimate"])),
                    ilogit(f(&r0["ci_lb"])),
                    ilogit(f(&r0["ci_ub"])),
                ],
                d: 3,
                percent: false,
            }),
        Def::new("fsn Rosenthal", "fsn").num("fsn", fx["fsn"]["rosenthal"]["fsnum"].to_string()),
        Def::new("fsn Orwin", "fsn")
            .opt("fsn_type", "Orwin")
            .num("fsn", fx["fsn"]["orwin"]["fsnum"].to_string()),
        Def::new("fsn Rosenberg", "fsn")
            .opt("fsn_type", "Rosenberg")
            .num("fsn", fx["fsn"]["rosenberg"]["fsnum"].to_string()),
    ];
    check(&d, &defs);
}

/// The Knapp-Hartung model gives Egger's test a t statistic: printed as t it matches; printed as
/// z the number is compared but the report flags the statistic.
#[test]
fn pritz1997_knha_egger_t_and_a_misnamed_z() {
    let fx = fixture("pritz1997");
    let d = pritz_data("measure = \"PLO\"\nmethod = \"REML\"\ntest = \"knha\"");
    let eg = regtest(&fx, "REML", "knha", "rma", "sei");
    assert!(eg["ddf"].is_number());
    let defs = vec![Def::new("Egger knha", "egger")
        .p(f(&eg["pval"]), 3)
        .num("t", r(f(&eg["zval"]), 2))];
    check(&d, &defs);
    let rep = run(
        &d,
        &format!(
            "[[claim]]\nlabel = \"as z\"\ntest = \"egger\"\nz = \"{}\"\n",
            r(f(&eg["zval"]), 2)
        ),
    );
    let c = claim(&rep, "as z");
    let k = c.checks.iter().find(|k| k.name == "test statistic").unwrap();
    assert_eq!(k.status, "flag", "{}", k.detail);
    assert!(k.detail.contains("t statistic"), "{}", k.detail);
}

#[test]
fn hackshaw1998_yi_vi_common_effect_trimfill_and_egger_match_metafor() {
    let fx = fixture("hackshaw1998");
    let yi = fx["yi"].as_array().unwrap();
    let vi = fx["vi"].as_array().unwrap();
    let mut csv = String::from("study,yi,vi\n");
    for (i, (y, v)) in yi.iter().zip(vi).enumerate() {
        csv.push_str(&format!("s{},{:?},{:?}\n", i + 1, f(y), f(v)));
    }
    let d = data(csv, "studies.csv", "measure = \"GEN\"\nmethod = \"EE\"");
    let tf = trimfill(&fx, "EE", "z", "L0", None);
    let q0 = trimfill(&fx, "EE", "z", "Q0", None);
    let eg = regtest(&fx, "EE", "z", "rma", "sei");
    assert_eq!(tf["k0"], 7);
    assert_eq!(q0["k0"], 10);
    let gen = |t: &Value, d: usize| Est {
        values: [f(&t["estimate"]), f(&t["ci_lb"]), f(&t["ci_ub"])],
        d,
        percent: false,
    };
    let defs = vec![
        Def::new("trim and fill", "trimfill")
            .num("k0", "7".into())
            .p(f(&tf["pval"]), 3)
            .est(gen(tf, 3)),
        Def::new("trim and fill Q0", "trimfill")
            .opt("estimator", "Q0")
            .num("k0", "10".into())
            .est(gen(q0, 3)),
        Def::new("Egger", "egger")
            .p(f(&eg["pval"]), 3)
            .num("z", r(f(&eg["zval"]), 2)),
    ];
    check(&d, &defs);
}

#[test]
fn bcg_or_tables_peters_harbord_and_trimfill_on_the_odds_ratio_scale() {
    let fx = fixture("bcg_or");
    let csv =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bias/bcg.csv")).unwrap();
    let d = data(csv, "bcg.csv", "measure = \"OR\"\nmethod = \"EE\"");
    let pe = &fx["peters"];
    let ha = &fx["harbord"];
    let tf = trimfill(&fx, "EE", "z", "L0", None);
    assert_eq!(tf["k0"], 4);
    let eg = regtest(&fx, "EE", "z", "rma", "sei");
    let defs = vec![
        Def::new("Peters", "peters")
            .p(f(&pe["pval"]), 2)
            .num("t", r(f(&pe["tval"]), 2))
            .num("bias", r(f(&pe["slope"]), 1)),
        Def::new("Harbord", "harbord")
            .p(f(&ha["pval"]), 3)
            .num("t", r(f(&ha["tval"]), 2))
            .num("bias", r(f(&ha["bias"]), 2)),
        Def::new("trim and fill", "trimfill").num("k0", "4".into()).est(Est {
            values: [f(&tf["estimate"]).exp(), f(&tf["ci_lb"]).exp(), f(&tf["ci_ub"]).exp()],
            d: 2,
            percent: false,
        }),
        Def::new("Egger", "egger").p(f(&eg["pval"]), 2).est(Est {
            values: [f(&eg["est"]).exp(), f(&eg["ci_lb"]).exp(), f(&eg["ci_ub"]).exp()],
            d: 2,
            percent: false,
        }),
    ];
    check(&d, &defs);
    // A pooled OR claim beside the test claims is recomputed from the 2x2 tables (two-group
    // claims, src/verify/comparative.rs).
    let rep = run(
        &d,
        "[[claim]]\nlabel = \"pooled\"\nprinted = \"OR 0.62 (0.58 to 0.67)\"\n",
    );
    let c = claim(&rep, "pooled");
    assert!(c.data_note.is_none(), "{:?}", c.data_note);
    assert!(
        c.numbers.iter().filter(|n| n.recomputed.is_some()).count() == 3,
        "{:?}",
        c.numbers
    );
}

/// A p printed as a bound: "<0.001" holds for a recomputed 0.00024, "<0.05" for 0.0159; the
/// same bound does not hold for a p above it.
#[test]
fn p_bounds_are_judged_as_bounds() {
    let d = pritz_data("measure = \"PLO\"");
    let rep = run(
        &d,
        "[[claim]]\nlabel = \"tf\"\ntest = \"trimfill\"\np = \"p < 0.001\"\n\
         [[claim]]\nlabel = \"egger lt 0.05\"\ntest = \"egger\"\np = \"<.05\"\n\
         [[claim]]\nlabel = \"egger lt 0.01\"\ntest = \"egger\"\np = \"<0.01\"\n\
         [[claim]]\nlabel = \"begg gt 0.05\"\ntest = \"begg\"\np = \"P > 0.05\"\n\
         [[claim]]\nlabel = \"egger gt 0.05\"\ntest = \"egger\"\np = \">0.05\"\n",
    );
    let v = |l: &str| claim(&rep, l).numbers[0].verdict;
    assert_eq!(v("tf"), "match");
    assert_eq!(v("egger lt 0.05"), "match");
    assert_eq!(v("egger lt 0.01"), "mismatch");
    assert_eq!(v("begg gt 0.05"), "match");
    assert_eq!(v("egger gt 0.05"), "mismatch");
    assert_eq!(claim(&rep, "tf").numbers[0].printed, "<0.001");
}

/// The Markdown and JSON reports list a test claim with its test, its numbers and verdicts.
#[test]
fn reports_show_the_test_numbers_and_verdicts() {
    let d = pritz_data("measure = \"PLO\"");
    let rep = run(
        &d,
        "[[claim]]\nlabel = \"trim and fill\"\ntest = \"trimfill\"\nk0 = 5\nprinted = \"70.9% (60.2% to 79.6%)\"\n",
    );
    let md = verify::report::markdown(&rep, None);
    assert!(
        md.contains("| trim and fill | 70.9% (60.2% to 79.6%) |  | **mismatch** |"),
        "{md}"
    );
    assert!(
        md.contains("Test: trim-and-fill (metafor trimfill: estimator L0, side estimated)"),
        "{md}"
    );
    assert!(md.contains("| k0 | 5 | 4 | mismatch |"), "{md}");
    let js: Value = serde_json::from_str(&verify::report::json(&rep)).unwrap();
    let c = &js["claims"][0];
    assert_eq!(c["verdict"], "mismatch");
    assert!(c["test"].as_str().unwrap().contains("left side"));
    let k0 = c["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "k0")
        .unwrap();
    assert_eq!(k0["recomputed"], 4.0);
    let est = c["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "estimate")
        .unwrap();
    assert_eq!(est["verdict"], "match");
}

fn parse_err(claim: &str) -> String {
    let text = format!("[paper]\ncitation = \"x\"\n{claim}");
    claims::parse(&text, Path::new("c.toml")).unwrap_err().to_string()
}

#[test]
fn the_new_keys_parse() {
    let text = "[paper]\ncitation = \"x\"\n\
        [[claim]]\nlabel = \"e\"\ntest = \"Egger\"\np = \"P = .03\"\nt = \"2.10\"\nmodel = \"lm\"\npredictor = \"ninv\"\n\
        [[claim]]\nlabel = \"tf\"\ntest = \"trim-and-fill\"\nk0 = 4\nestimator = \"R0\"\nside = \"right\"\nprinted = \"OR 0.81 (0.70 to 0.94)\"\n\
        [[claim]]\nlabel = \"f\"\ntest = \"fsn\"\nfsn = \"120\"\nfsn_type = \"orwin\"\ntarget = 0.1\n";
    let c = claims::parse(text, Path::new("c.toml")).unwrap();
    let e = c.claims[0].bias.as_ref().unwrap();
    assert_eq!(e.test, verify::bias::BiasTest::Egger);
    let p = e.p.as_ref().unwrap();
    assert_eq!(
        (p.relation, p.num.value, p.num.decimals),
        (verify::bias::Relation::Eq, 0.03, 2)
    );
    assert_eq!(e.stat.as_ref().unwrap().0, "t");
    assert_eq!(e.options.model.as_str(), "lm");
    assert_eq!(e.options.predictor.as_str(), "ninv");
    assert!(c.claims[0].p.is_none(), "a test's p is not the pooled p");
    let t = c.claims[1].bias.as_ref().unwrap();
    assert_eq!(t.k0.as_ref().unwrap().value, 4.0);
    assert_eq!(t.options.estimator.as_str(), "R0");
    assert_eq!(t.options.side.unwrap().as_str(), "right");
    assert_eq!(c.claims[1].printed.ci_ub.as_ref().unwrap().text, "0.94");
    let fs = c.claims[2].bias.as_ref().unwrap();
    assert_eq!(fs.fsn_type, verify::bias::FsnType::Orwin);
    assert_eq!(fs.options.fsn_target, Some(0.1));
    // A pooled claim still needs `printed`.
    assert!(parse_err("[[claim]]\nlabel = \"x\"\n").contains("printed: missing"));
}

#[test]
fn bad_keys_are_errors_naming_the_key() {
    // Unknown key anywhere in a claim.
    let e = parse_err("[[claim]]\nlabel = \"x\"\ntest = \"egger\"\np = \"0.03\"\negger_p = \"0.03\"\n");
    assert!(e.contains("egger_p"), "{e}");
    let e = parse_err("[[claim]]\nlabel = \"x\"\nprinted = \"0.5\"\nsubgrup = \"a\"\n");
    assert!(e.contains("subgrup"), "{e}");
    let e = parse_err("[method]\nmeasur = \"PLO\"\n[[claim]]\nlabel = \"x\"\nprinted = \"0.5\"\n");
    assert!(e.contains("measur"), "{e}");
    // A key of another test.
    let e = parse_err("[[claim]]\nlabel = \"x\"\ntest = \"egger\"\nk0 = 3\n");
    assert!(
        e.contains("claim \"x\": k0") && e.contains("which takes p, z, t"),
        "{e}"
    );
    // A test key on a pooled claim.
    let e = parse_err("[[claim]]\nlabel = \"x\"\nprinted = \"0.5\"\nk0 = 3\n");
    assert!(e.contains("claim \"x\": k0") && e.contains("test"), "{e}");
    // Bad values.
    let e = parse_err("[[claim]]\nlabel = \"x\"\ntest = \"funnel\"\np = \"0.1\"\n");
    assert!(e.contains("test") && e.contains("funnel"), "{e}");
    let e = parse_err("[[claim]]\nlabel = \"x\"\ntest = \"knha\"\np = \"0.1\"\n");
    assert!(e.contains("[method] test"), "{e}");
    let e = parse_err("[[claim]]\nlabel = \"x\"\ntest = \"begg\"\np = \"NS\"\n");
    assert!(e.contains("claim \"x\": p"), "{e}");
    let e = parse_err("[[claim]]\nlabel = \"x\"\ntest = \"trimfill\"\nk0 = \"4.5\"\n");
    assert!(e.contains("k0") && e.contains("count"), "{e}");
    let e = parse_err("[[claim]]\nlabel = \"x\"\ntest = \"trimfill\"\nk0 = 4\nside = \"up\"\n");
    assert!(e.contains("claim \"x\": side") && e.contains("left or right"), "{e}");
    let e = parse_err("[[claim]]\nlabel = \"x\"\ntest = \"egger\"\n");
    assert!(e.contains("needs a printed number"), "{e}");
    let e = parse_err("[[claim]]\nlabel = \"x\"\ntest = \"egger\"\np = \"0.1\"\nI2 = \"50%\"\n");
    assert!(e.contains("I2"), "{e}");
}
