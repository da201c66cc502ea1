//! Tests of the verification: a paper whose printed numbers are R metafor's (the committed
//! fixtures of `tests/fixtures/pool/`, written by `tests/fixtures/make_fixtures.R`, rounded as a
//! paper prints them) must lead the method search back to the settings metafor used, and to no
//! others but those listed; each published-only check has a case that passes and one that is
//! flagged.

use std::path::Path;

use serde_json::Value;

use super::claims::{parse, Claims};
use super::search::{self, CcChoice, Setting};
use super::*;
use crate::effect::{Measure, PftMean};
use crate::model::{Method, PiType, Test};

/// A fixture of `tests/fixtures/pool/`: metafor 3.8.1 on a `metadat` dataset.
fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/pool/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The fixture's studies as a CSV with the subgroup in `class`.
fn fixture_csv(fx: &Value) -> String {
    let col = |k: &str| fx[k].as_array().unwrap().clone();
    let (study, events, total, group) = (col("study"), col("events"), col("total"), col("group"));
    let mut s = String::from("study,events,total,class\n");
    for i in 0..study.len() {
        s.push_str(&format!(
            "\"{}\",{},{},{}\n",
            study[i].as_str().unwrap().replace('"', "\"\""),
            events[i],
            total[i],
            group[i].as_str().unwrap()
        ));
    }
    s
}

/// metafor's fit of the fixture with (measure, method, test) and `escalc`'s default correction
/// (add = 0.5, to = "only0").
fn metafor_case(fx: &Value, measure: Measure, method: Method, test: Test) -> &Value {
    fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["measure"] == measure.as_str()
                && c["method"] == method.as_str()
                && c["test"] == test.as_str()
                && c["add"] == 0.5
                && c["to"] == "only0"
        })
        .unwrap_or_else(|| panic!("no fixture case {measure} {method} {test}"))
}

fn write_case(dir: &Path, csv: &str, claims: &str) -> Claims {
    std::fs::write(dir.join("studies.csv"), csv).unwrap();
    let path = dir.join("claims.toml");
    std::fs::write(&path, claims).unwrap();
    super::claims::load(&path).unwrap()
}

/// A proportion in % at one decimal, as the paper prints it.
fn pct1(p: &Value) -> String {
    format!("{:.1}", 100.0 * p.as_f64().expect("a number in the fixture"))
}

/// A claim printing a metafor fit's back-transformed estimate and CI at one decimal.
fn claim(label: &str, subgroup: Option<&str>, fit: &Value) -> String {
    let p = &fit["proportion"];
    format!(
        "[[claim]]\nlabel = \"{label}\"\n{}printed = \"{}% (95% CI, {}% to {}%)\"\n",
        subgroup.map(|g| format!("subgroup = \"{g}\"\n")).unwrap_or_default(),
        pct1(&p["estimate"]),
        pct1(&p["ci_lb"]),
        pct1(&p["ci_ub"])
    )
}

/// Claims text printing metafor's `case`: the overall estimate and every subgroup, with
/// `tau2_common` the subgroups of metafor's common-τ² model (the overall fit keeps its own τ²,
/// as metafor and `pool` fit it).
fn metafor_claims(case: &Value, tau2_common: bool, stated: &str) -> String {
    let mut text =
        format!("[paper]\ncitation = \"synthetic\"\n[data]\nfile = \"studies.csv\"\nby = \"class\"\n{stated}\n");
    text.push_str(&claim("overall", None, &case["overall"]));
    let subs = if tau2_common {
        &case["tau2_common"]["subgroups"]
    } else {
        &case["subgroups"]
    };
    let subs = subs.as_array().unwrap();
    assert!(subs.len() >= 2);
    for s in subs {
        let name = s["name"].as_str().unwrap();
        text.push_str(&claim(name, Some(name), s));
    }
    text
}

/// The method search on `claims` over `csv`.
fn search_claims(csv: &str, claims: &str) -> search::SearchResult {
    let dir = tempfile::tempdir().unwrap();
    let c = write_case(dir.path(), csv, claims);
    let r = verify(
        &c,
        &VerifyOptions {
            search: true,
            progress: false,
            default_stopping: false,
        },
    )
    .unwrap();
    r.method_search
}

const fn setting(measure: Measure, method: Method, test: Test, correction: CcChoice, tau2_common: bool) -> Setting {
    Setting {
        measure,
        method,
        test,
        pi: PiType::Metafor,
        correction,
        pft_mean: PftMean::Harmonic,
        tau2_common,
        stopping: search::Stopping::Tight,
    }
}

/// The settings metafor used for three synthetic papers, and every setting that reproduces
/// each paper's numbers (`Setting::describe`), in the search's order.
fn truths() -> [(&'static str, Setting, &'static [&'static str]); 3] {
    [
        // hasselblad1998: 50 studies in 4 subgroups, two with 0 events. The five claims pin
        // the setting down: measure, estimator, test, correction and PFT mean.
        (
            "hasselblad1998",
            setting(Measure::PFT, Method::DL, Test::Z, CcChoice::HalfOnly0, false),
            &["PFT DL z PI:metafor cc:0.5 only0 n:harmonic"],
        ),
        (
            "hasselblad1998",
            setting(Measure::PLO, Method::REML, Test::Knha, CcChoice::HalfOnly0, false),
            &["PLO REML knha PI:metafor cc:0.5 only0"],
        ),
        // debruin2009: 13 studies in 2 subgroups, none with 0 or all events, so the three
        // corrections that change only such studies agree; the empirical Bayes estimator is
        // the Paule-Mandel estimator (both solve Q(τ²) = k - p).
        (
            "debruin2009",
            setting(Measure::PR, Method::PM, Test::Z, CcChoice::HalfOnly0, true),
            &[
                "PR EB z PI:metafor cc:0.5 only0 common-tau2",
                "PR PM z PI:metafor cc:0.5 only0 common-tau2",
                "PR EB z PI:metafor cc:none common-tau2",
                "PR PM z PI:metafor cc:none common-tau2",
                "PR EB z PI:metafor cc:drop 0/n common-tau2",
                "PR PM z PI:metafor cc:drop 0/n common-tau2",
            ],
        ),
    ]
}

#[test]
fn method_search_finds_the_settings_that_produced_metafors_numbers() {
    for (dataset, truth, expected) in truths() {
        let fx = fixture(dataset);
        let case = metafor_case(&fx, truth.measure, truth.method, truth.test);
        let s = search_claims(&fixture_csv(&fx), &metafor_claims(case, truth.tau2_common, ""));
        assert!(s.ran);
        assert_eq!(s.stated_method_matches, None);
        let found: Vec<String> = s.matches.iter().map(|m| m.setting.describe()).collect();
        assert!(
            s.matches.iter().any(|m| m.setting == truth),
            "{dataset}: {} not among the {} matches: {found:#?}",
            truth.describe(),
            found.len()
        );
        assert_eq!(
            found,
            expected,
            "{dataset} {}: the settings that match",
            truth.describe()
        );
    }
    // The stated method is reported as reproducing (or not) the numbers.
    let (dataset, t, _) = truths()[0];
    let fx = fixture(dataset);
    let csv = fixture_csv(&fx);
    let case = metafor_case(&fx, t.measure, t.method, t.test);
    let s = search_claims(
        &csv,
        &metafor_claims(case, false, "[method]\nmeasure = \"PFT\"\nmethod = \"DL\"\n"),
    );
    assert!(s.matches.iter().any(|m| m.setting == t));
    assert_eq!(s.stated_method_matches, Some(true));
    let s = search_claims(
        &csv,
        &metafor_claims(case, false, "[method]\nmeasure = \"PLO\"\nmethod = \"ML\"\n"),
    );
    assert_eq!(s.stated_method_matches, Some(false));
}

#[test]
fn recomputed_numbers_get_rounding_aware_verdicts() {
    // metafor's defaults (PLO, REML, z) printed at one decimal: every number matches.
    let fx = fixture("hasselblad1998");
    let csv = fixture_csv(&fx);
    let case = metafor_case(&fx, Measure::PLO, Method::REML, Test::Z);
    let text = metafor_claims(case, false, "");
    let dir = tempfile::tempdir().unwrap();
    let c = write_case(dir.path(), &csv, &text);
    let r = verify(&c, &VerifyOptions::default()).unwrap();
    assert_eq!(r.claims.len(), 5);
    assert!(
        r.claims.iter().all(|c| c.verdict == "match"),
        "{:?}",
        r.claims.iter().map(|c| &c.verdict).collect::<Vec<_>>()
    );
    // Shift one printed estimate by 0.3 points: off by 3 units of the last digit.
    let overall = &r.claims[0].numbers[0];
    assert_eq!(overall.printed, pct1(&case["overall"]["proportion"]["estimate"]));
    let shifted: f64 = overall.printed.parse::<f64>().unwrap() + 0.3;
    let text2 = text.replacen(
        &format!("printed = \"{}%", overall.printed),
        &format!("printed = \"{shifted:.1}%"),
        1,
    );
    let c2 = write_case(dir.path(), &csv, &text2);
    let r2 = verify(&c2, &VerifyOptions::default()).unwrap();
    assert_eq!(r2.claims[0].numbers[0].verdict, "off by -3");
    assert_eq!(r2.claims[0].verdict, "near miss");
}

fn published(claims_toml: &str) -> VerifyReport {
    let c = parse(claims_toml, Path::new("inline.toml")).unwrap();
    verify(&c, &VerifyOptions::default()).unwrap()
}

fn status(r: &VerifyReport, claim: usize, check: &str) -> published::CheckStatus {
    r.claims[claim]
        .checks
        .iter()
        .find(|k| k.name == check)
        .unwrap_or_else(|| panic!("no check {check} in {:?}", r.claims[claim].checks))
        .status
}

const PAPER: &str = "[paper]\ncitation = \"test\"\n";

#[test]
fn symmetric_scale_tells_the_transformation() {
    // 90% with a logit-symmetric CI: logit(0.9) ± 1.96 * 0.3.
    let r = published(&format!(
        "{PAPER}[[claim]]\nlabel = \"x\"\nprinted = \"90.0% (95% CI, 83.3% to 94.2%)\"\n"
    ));
    assert!(r.claims[0].scales_consistent.contains(&"logit".to_string()));
    assert!(!r.claims[0].scales_consistent.contains(&"raw".to_string()));
    assert_eq!(status(&r, 0, "CI symmetric on some scale"), "finding");
    // Symmetric on none of the scales tried: a finding that lists them, not an inconsistency
    // by itself (the estimate inside its CI is what was checked).
    let r = published(&format!(
        "{PAPER}[[claim]]\nlabel = \"x\"\nprinted = \"90.0% (95% CI, 60.0% to 91.0%)\"\n"
    ));
    assert_eq!(status(&r, 0, "CI symmetric on some scale"), "finding");
    let d = &r.claims[0]
        .checks
        .iter()
        .find(|k| k.name == "CI symmetric on some scale")
        .unwrap()
        .detail;
    assert!(
        d.contains("none of the scales tried") && d.contains("Freeman-Tukey") && d.contains("Wilson"),
        "{d}"
    );
    assert_eq!(r.claims[0].verdict, "consistent");
}

#[test]
fn grim_checks_x_of_n() {
    let r = published(&format!(
        "{PAPER}[[claim]]\nlabel = \"x\"\nprinted = \"7 of 17 patients (41%)\"\n"
    ));
    assert_eq!(status(&r, 0, "GRIM: x of n"), "pass");
    let r = published(&format!(
        "{PAPER}[[claim]]\nlabel = \"x\"\nprinted = \"7 of 17 patients (45%)\"\n"
    ));
    assert_eq!(status(&r, 0, "GRIM: x of n"), "flag");
}

#[test]
fn estimate_must_lie_inside_its_ci() {
    let r = published(&format!(
        "{PAPER}[[claim]]\nlabel = \"x\"\nprinted = \"50.0% (95% CI, 40.0% to 60.0%)\"\n"
    ));
    assert_eq!(status(&r, 0, "estimate inside CI"), "pass");
    let r = published(&format!(
        "{PAPER}[[claim]]\nlabel = \"x\"\nprinted = \"65.0% (95% CI, 40.0% to 60.0%)\"\n"
    ));
    assert_eq!(status(&r, 0, "estimate inside CI"), "flag");
}

#[test]
fn prediction_interval_must_contain_the_ci() {
    let base = format!("{PAPER}[[claim]]\nlabel = \"x\"\nprinted = \"50.0% (95% CI, 40.0% to 60.0%)\"\n");
    let r = published(&format!("{base}pi = \"(20.0% to 80.0%)\"\n"));
    assert_eq!(status(&r, 0, "PI at least as wide as CI"), "pass");
    let r = published(&format!("{base}pi = \"(45.0% to 80.0%)\"\n"));
    assert_eq!(status(&r, 0, "PI at least as wide as CI"), "flag");
}

#[test]
fn i2_must_agree_with_q_and_k() {
    let base = format!(
        "{PAPER}[[claim]]\nlabel = \"x\"\nprinted = \"50.0% (95% CI, 40.0% to 60.0%)\"\nk = 11\nQ = \"20.0\"\n"
    );
    let r = published(&format!("{base}I2 = \"50%\"\n"));
    assert_eq!(status(&r, 0, "I2 consistent with Q and k"), "pass");
    let r = published(&format!("{base}I2 = \"70%\"\n"));
    assert_eq!(status(&r, 0, "I2 consistent with Q and k"), "flag");
}

#[test]
fn ci_width_against_common_effect_n() {
    // p = 0.5, n = 100: the common-effect Wald CI on the raw scale is 0.5 ± 0.098.
    let c = |n: u64, lb: &str, ub: &str| {
        published(&format!(
            "{PAPER}[[claim]]\nlabel = \"x\"\nprinted = \"50.0% (95% CI, {lb}% to {ub}%)\"\nn = {n}\n"
        ))
    };
    let r = c(100, "40.2", "59.8");
    assert_eq!(status(&r, 0, "CI width vs common-effect n"), "pass");
    assert!(r.claims[0]
        .checks
        .iter()
        .any(|k| k.detail.contains("consistent with a common-effect model")));
    // Narrower than 100 patients allow: flagged.
    let r = c(100, "47.0", "53.0");
    assert_eq!(status(&r, 0, "CI width vs common-effect n"), "flag");
}

#[test]
fn cross_claim_checks() {
    let two = |a: &str, b: &str| {
        published(&format!(
            "{PAPER}[[claim]]\nlabel = \"a\"\noutcome = \"survival_6m\"\nsubgroup = \"x\"\nprinted = \"{a}\"\n\
             [[claim]]\nlabel = \"b\"\noutcome = \"survival_1y\"\nsubgroup = \"x\"\nprinted = \"{b}\"\n"
        ))
    };
    let r = two("70.0% (95% CI, 60.0% to 80.0%)", "60.0% (95% CI, 50.0% to 70.0%)");
    assert_eq!(status(&r, 0, "survival not increasing over time"), "pass");
    let r = two("60.0% (95% CI, 50.0% to 70.0%)", "70.0% (95% CI, 60.0% to 80.0%)");
    assert_eq!(status(&r, 1, "survival not increasing over time"), "flag");

    let twice = |b: &str| {
        published(&format!(
            "{PAPER}[[claim]]\nlabel = \"abstract\"\noutcome = \"remission\"\nprinted = \"58.4% (95% CI, 47.3% to 69.4%)\"\n\
             [[claim]]\nlabel = \"table\"\noutcome = \"remission\"\nprinted = \"{b}\"\n"
        ))
    };
    assert_eq!(
        status(&twice("58.4 (47.3-69.4)%"), 0, "same quantity printed twice"),
        "pass"
    );
    assert_eq!(
        status(&twice("58.4% (47.3-69.4)"), 1, "same quantity printed twice"),
        "pass"
    );
    assert_eq!(
        status(
            &twice("54.8% (95% CI, 47.3% to 69.4%)"),
            0,
            "same quantity printed twice"
        ),
        "flag"
    );

    let sums = |k_total: u64| {
        published(&format!(
            "{PAPER}[[claim]]\nlabel = \"all\"\noutcome = \"r\"\nprinted = \"50.0%\"\nk = {k_total}\n\
             [[claim]]\nlabel = \"g1\"\noutcome = \"r\"\nsubgroup = \"g1\"\nprinted = \"40.0%\"\nk = 3\n\
             [[claim]]\nlabel = \"g2\"\noutcome = \"r\"\nsubgroup = \"g2\"\nprinted = \"60.0%\"\nk = 4\n"
        ))
    };
    assert_eq!(status(&sums(7), 0, "subgroup k add up to the total"), "pass");
    assert_eq!(status(&sums(9), 0, "subgroup k add up to the total"), "flag");
}

#[test]
fn unparseable_printed_text_names_file_and_claim() {
    let e = parse(
        &format!("{PAPER}[[claim]]\nlabel = \"bad one\"\nprinted = \"not reported\"\n"),
        Path::new("x/claims.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("x/claims.toml") && e.contains("bad one"), "{e}");
}

#[test]
fn grim_checks_a_single_study_percentage_against_n() {
    let r = published(&format!(
        "{PAPER}[[claim]]\nlabel = \"x\"\nprinted = \"41.2%\"\nk = 1\nn = 17\n"
    ));
    assert_eq!(status(&r, 0, "GRIM: percentage against n"), "pass");
    let r = published(&format!(
        "{PAPER}[[claim]]\nlabel = \"x\"\nprinted = \"44.0%\"\nk = 1\nn = 26\n"
    ));
    assert_eq!(status(&r, 0, "GRIM: percentage against n"), "flag");
}

#[test]
fn p_value_and_ci_imply_the_critical_value() {
    // RR 2.00 (1.50-2.67): log SE = 0.147, z = 4.72, p = 2.4e-6.
    let base = format!("{PAPER}[[claim]]\nlabel = \"x\"\nprinted = \"RR 2.00 (95% CI 1.50-2.67)\"\n");
    let r = published(&format!("{base}p = \"0.0000024\"\n"));
    assert_eq!(status(&r, 0, "implied critical value"), "pass");
    // The same CI with p = 0.01 needs a critical value far above z or t.
    let r = published(&format!("{base}p = \"0.01\"\nk = 10\n"));
    assert_eq!(status(&r, 0, "implied critical value"), "flag");
}
