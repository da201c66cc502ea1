//! Tests of the verification: a synthetic paper whose printed numbers come from known settings
//! must lead the method search back to those settings; each published-only check has a case that
//! passes and one that is flagged.

use std::path::Path;

use super::claims::{parse, Claims};
use super::search::{self, CcChoice, Setting};
use super::*;
use crate::effect::{Measure, PftMean};
use crate::model::{Method, PiType, Test};

/// 20 studies in 4 subgroups with heterogeneous proportions and one 0-event study.
fn synthetic_csv() -> String {
    let rows = [
        ("a", 12, 40),
        ("a", 30, 61),
        ("a", 9, 25),
        ("a", 22, 48),
        ("a", 15, 30),
        ("b", 40, 52),
        ("b", 33, 47),
        ("b", 18, 20),
        ("b", 27, 41),
        ("b", 61, 70),
        ("c", 3, 35),
        ("c", 0, 18),
        ("c", 7, 44),
        ("c", 11, 39),
        ("c", 5, 60),
        ("d", 25, 50),
        ("d", 14, 33),
        ("d", 40, 71),
        ("d", 8, 16),
        ("d", 19, 27),
    ];
    let mut s = String::from("study,events,total,class\n");
    for (i, (g, x, n)) in rows.iter().enumerate() {
        s.push_str(&format!("S{},{x},{n},{g}\n", i + 1));
    }
    s
}

fn write_case(dir: &Path, claims: &str) -> Claims {
    std::fs::write(dir.join("studies.csv"), synthetic_csv()).unwrap();
    let path = dir.join("claims.toml");
    std::fs::write(&path, claims).unwrap();
    super::claims::load(&path).unwrap()
}

fn pct1(p: f64) -> String {
    format!("{:.1}", 100.0 * p)
}

/// Claims text printing every subgroup and the overall estimate at one decimal, as produced by `truth`.
fn claims_from(truth: &Setting, dir: &Path, stated: &str) -> String {
    // First a claims file without numbers, to evaluate the truth on the same data.
    let mut head =
        format!("[paper]\ncitation = \"synthetic\"\n[data]\nfile = \"studies.csv\"\nby = \"class\"\n{stated}\n");
    let labels = [None, Some("a"), Some("b"), Some("c"), Some("d")];
    let mut skeleton = head.clone();
    for l in labels {
        skeleton.push_str(&format!(
            "[[claim]]\nlabel = \"{}\"\n{}printed = \"50.0%\"\n",
            l.unwrap_or("overall"),
            l.map(|g| format!("subgroup = \"{g}\"\n")).unwrap_or_default()
        ));
    }
    let c = write_case(dir, &skeleton);
    let p = prepare(&c).unwrap().unwrap();
    let vals = search::evaluate(&p, truth);
    for (l, v) in labels.iter().zip(vals) {
        let v = v.expect("truth setting fits");
        head.push_str(&format!(
            "[[claim]]\nlabel = \"{}\"\n{}printed = \"{}% (95% CI, {}% to {}%)\"\n",
            l.unwrap_or("overall"),
            l.map(|g| format!("subgroup = \"{g}\"\n")).unwrap_or_default(),
            pct1(v.estimate),
            pct1(v.ci_lb),
            pct1(v.ci_ub)
        ));
    }
    head
}

fn find_truth(truth: Setting, stated: &str) -> (bool, Option<bool>, usize) {
    let dir = tempfile::tempdir().unwrap();
    let text = claims_from(&truth, dir.path(), stated);
    let c = write_case(dir.path(), &text);
    let r = verify(
        &c,
        &VerifyOptions {
            search: true,
            progress: false,
        },
    )
    .unwrap();
    let s = r.method_search;
    assert!(s.ran);
    let found = s.matches.iter().any(|m| m.setting == truth);
    (found, s.stated_method_matches, s.matches.len())
}

#[test]
fn method_search_finds_the_settings_that_produced_the_numbers() {
    let truths = [
        Setting {
            measure: Measure::PFT,
            method: Method::DL,
            test: Test::Z,
            pi: PiType::Metafor,
            correction: CcChoice::None,
            pft_mean: PftMean::Harmonic,
            tau2_common: false,
        },
        Setting {
            measure: Measure::PLO,
            method: Method::REML,
            test: Test::Knha,
            pi: PiType::Metafor,
            correction: CcChoice::HalfOnly0,
            pft_mean: PftMean::Harmonic,
            tau2_common: false,
        },
        Setting {
            measure: Measure::PR,
            method: Method::PM,
            test: Test::Z,
            pi: PiType::Metafor,
            correction: CcChoice::Drop,
            pft_mean: PftMean::Harmonic,
            tau2_common: true,
        },
    ];
    for t in truths {
        let (found, stated, n) = find_truth(t, "");
        assert!(found, "{} not among the {n} matches", t.describe());
        assert_eq!(stated, None);
        assert!(
            n < 200,
            "{}: {n} matches: the numbers should pin the setting down",
            t.describe()
        );
    }
    // The stated method is reported as reproducing (or not) the numbers.
    let t = truths[0];
    let (found, stated, _) = find_truth(t, "[method]\nmeasure = \"PFT\"\nmethod = \"DL\"\n");
    assert!(found);
    assert_eq!(stated, Some(true));
    let (_, stated, _) = find_truth(t, "[method]\nmeasure = \"PLO\"\nmethod = \"ML\"\n");
    assert_eq!(stated, Some(false));
}

#[test]
fn recomputed_numbers_get_rounding_aware_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let truth = Setting::from_spec(&claims::MethodSpec::default()).unwrap();
    let text = claims_from(&truth, dir.path(), "");
    let c = write_case(dir.path(), &text);
    let r = verify(&c, &VerifyOptions::default()).unwrap();
    assert!(
        r.claims.iter().all(|c| c.verdict == "match"),
        "{:?}",
        r.claims.iter().map(|c| &c.verdict).collect::<Vec<_>>()
    );
    // Shift one printed estimate by 0.3 points: off by 3 units of the last digit.
    let overall = &r.claims[0].numbers[0];
    let shifted: f64 = overall.printed.parse::<f64>().unwrap() + 0.3;
    let text2 = text.replacen(
        &format!("printed = \"{}%", overall.printed),
        &format!("printed = \"{shifted:.1}%"),
        1,
    );
    let c2 = write_case(dir.path(), &text2);
    let r2 = verify(&c2, &VerifyOptions::default()).unwrap();
    assert_eq!(r2.claims[0].numbers[0].verdict, "off by -3");
    assert_eq!(r2.claims[0].verdict, "near miss");
}

fn published(claims_toml: &str) -> VerifyReport {
    let c = parse(claims_toml, Path::new("inline.toml")).unwrap();
    verify(&c, &VerifyOptions::default()).unwrap()
}

fn status(r: &VerifyReport, claim: usize, check: &str) -> &'static str {
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
    assert_eq!(r.claims[0].scales_consistent, vec!["logit".to_string()]);
    assert_eq!(status(&r, 0, "CI symmetric on some scale"), "pass");
    // Symmetric on no scale.
    let r = published(&format!(
        "{PAPER}[[claim]]\nlabel = \"x\"\nprinted = \"90.0% (95% CI, 60.0% to 91.0%)\"\n"
    ));
    assert_eq!(status(&r, 0, "CI symmetric on some scale"), "flag");
    assert_eq!(r.claims[0].verdict, "inconsistent");
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
