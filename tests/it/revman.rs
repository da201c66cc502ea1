//! RevMan 5 review files: the reader, `verify FILE.rm5` (every analysis re-pooled by RevMan's rules
//! and every stored number compared), and `import` (study and analysis tables).
//!
//! Fixtures (`tests/fixtures/revman/`, see its README): `Fleiss1993.rm5`, a real RevMan 5.0 file
//! shipped by the R package meta (GPL >= 2), and `rule_*.rm5`, one handwritten file per RevMan rule
//! whose stored numbers come from an independent base-R implementation (`make_rm5.R`).

use std::path::{Path, PathBuf};

use metarepro::data::revman::{parse_rm5, read_rm5, Totals};
use metarepro::effect::{AddTo, Correction};
use metarepro::model::{Method, Pooling};
use metarepro::verify::revman::{repool, revman_options, verify_file, verify_review, Verdict};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/revman")
        .join(name)
}

fn metarepro(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_metarepro"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

const RULE_FILES: &[(&str, usize)] = &[
    ("rule_mh_or_cc.rm5", 3),
    ("rule_mh_rr_double_zero.rm5", 3),
    ("rule_rd.rm5", 3),
    ("rule_peto.rm5", 2),
    ("rule_smd.rm5", 3),
    ("rule_subgroups.rm5", 6),
    ("rule_generic_iv.rm5", 2),
    ("rule_single_study.rm5", 1),
];

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// Fleiss1993.rm5 (RevMan 5.0.23, ISO-8859-1): the M-H OR analysis is reproduced, every stored
/// number to 1e-9 relative (P values 1e-6 absolute); the SMD analysis has no stored results.
#[test]
fn fleiss1993_every_estimable_analysis_reproduced() {
    let review = read_rm5(&fixture("Fleiss1993.rm5")).unwrap();
    assert_eq!(review.encoding, "ISO-8859-1");
    assert_eq!(review.revman_sub_version.as_deref(), Some("5.0.23"));
    let o = &review.comparisons[0].outcomes[0];
    assert_eq!(o.id, "CMP-001.01");
    assert_eq!(o.rows.len(), 7);
    assert_eq!(o.rows[0].study, "MRC-1");
    assert_eq!(o.rows[0].year.as_deref(), Some("1974"));
    assert_eq!(o.group_labels, ["Aspirin".to_string(), "Control".to_string()]);
    assert_eq!(o.graph_labels[1], "Favours control");
    let r = verify_review(&review);
    assert_eq!(r.summary.reproduced, 1, "{}", r.table());
    assert_eq!(r.summary.checked, 1);
    assert_eq!(r.summary.no_stored_results, 1);
    assert_eq!(r.summary.text, "1 of 1 analyses reproduced (1 with no stored results)");
    let a = &r.analyses[0];
    assert_eq!(a.verdict, Verdict::Reproduced);
    let (x, y) = (&a.recomputed, &a.revman);
    for (name, p, q) in [
        ("estimate", x.estimate, y.estimate),
        ("ci_lb", x.ci_lb, y.ci_lb),
        ("ci_ub", x.ci_ub, y.ci_ub),
        ("z", x.z, y.z),
        ("I2", x.i2, y.i2),
        ("Q", x.q, y.q),
    ] {
        let (p, q) = (p.unwrap(), q.unwrap());
        assert!(rel(p, q) < 1e-9, "{name}: {p} vs RevMan {q}");
    }
    assert!((x.p.unwrap() - y.p.unwrap()).abs() < 1e-6);
    assert!((x.q_p.unwrap() - y.q_p.unwrap()).abs() < 1e-6);
    // Study effects, CIs and M-H weights.
    assert_eq!(a.studies.len(), 7);
    for s in &a.studies {
        for (p, q) in [
            (s.recomputed.effect, s.revman.effect),
            (s.recomputed.ci_lb, s.revman.ci_lb),
            (s.recomputed.weight, s.revman.weight),
        ] {
            assert!(rel(p.unwrap(), q.unwrap()) < 1e-9, "{}: {p:?} vs {q:?}", s.study);
        }
    }
    // RevMan's approximate P(Chi2) is reported as an artefact, not counted as a difference.
    assert!(a.artefacts.iter().any(|t| t.starts_with("Q_p")), "{:?}", a.artefacts);
    assert_eq!(r.analyses[1].verdict, Verdict::NoStoredResults);
    assert!(r.analyses[1].recomputed.estimate.is_some());
}

/// Every analysis of every handwritten rule file is reproduced (stored numbers from base R).
#[test]
fn rule_files_reproduced() {
    for (file, n) in RULE_FILES {
        let r = verify_file(&fixture(file)).unwrap();
        assert_eq!(r.analyses.len(), *n, "{file}");
        for a in &r.analyses {
            assert_eq!(
                a.verdict,
                Verdict::Reproduced,
                "{file} {} {:?}: {:?}",
                a.id,
                a.subgroup,
                a.differences
            );
            assert!(!a.studies.is_empty() || a.totals == "SUB", "{file} {}", a.id);
        }
        assert_eq!(r.summary.text, format!("{n} of {n} analyses reproduced"), "{file}");
    }
}

/// The rule files test their rules: without the rule, the stored numbers are not reproduced.
#[test]
fn each_rule_changes_the_result() {
    let check = |file: &str, outcome: usize, change: &dyn Fn(&mut metarepro::model::PoolOptions), what: &str| {
        let review = read_rm5(&fixture(file)).unwrap();
        let o = &review.comparisons[0].outcomes[outcome];
        let rows = o.all_rows();
        let stored = o.stored;
        let with = repool(o, &rows, &revman_options(o)).unwrap();
        assert!(
            rel(with.estimate.unwrap(), stored.effect_size.unwrap()) < 1e-9,
            "{file}: {what}"
        );
        let mut opts = revman_options(o);
        change(&mut opts);
        let without = repool(o, &rows, &opts);
        let moved = match without {
            Err(_) => true,
            Ok(n) => {
                rel(n.estimate.unwrap(), stored.effect_size.unwrap()) > 1e-6
                    || rel(n.ci_lb.unwrap(), stored.ci_start.unwrap()) > 1e-6
                    || rel(n.tau2.unwrap().max(1e-300), stored.tau2.unwrap().max(1e-300)) > 1e-6
            }
        };
        assert!(moved, "{file}: {what} does not change the result");
    };
    let none = Correction {
        add: 0.0,
        to: AddTo::None,
    };
    check(
        "rule_mh_or_cc.rm5",
        0,
        &|o| o.mh.sums = none,
        "no CC inside the M-H sums",
    );
    check(
        "rule_mh_or_cc.rm5",
        1,
        &|o| o.pooling = Pooling::IV,
        "IV-DL instead of Q around M-H",
    );
    check(
        "rule_mh_rr_double_zero.rm5",
        2,
        &|o| o.drop00 = false,
        "double-zero table kept for RR",
    );
    check(
        "rule_rd.rm5",
        0,
        &|o| o.mh.rd_raw_estimate = false,
        "RD estimate from corrected cells",
    );
    check(
        "rule_rd.rm5",
        2,
        &|o| o.drop00 = true,
        "double-zero table dropped for RD",
    );
    check(
        "rule_rd.rm5",
        2,
        &|o| o.addyi = true,
        "RD study estimate from corrected cells",
    );
    check(
        "rule_smd.rm5",
        0,
        &|o| o.vtype = metarepro::effect::comparative::Vtype::UB,
        "exact SMD",
    );
    check(
        "rule_peto.rm5",
        0,
        &|o| {
            o.mh.sums = Correction {
                add: 0.5,
                to: AddTo::Only0,
            }
        },
        "CC in Peto",
    );
    check("rule_mh_rr_double_zero.rm5", 1, &|o| o.method = Method::REML, "REML");
    // TOTALS=SUB: the pool of all studies is not the stored estimate.
    let review = read_rm5(&fixture("rule_subgroups.rm5")).unwrap();
    let o = &review.comparisons[0].outcomes[0];
    assert_eq!(o.totals, Totals::Sub);
    let all = repool(o, &o.all_rows(), &revman_options(o)).unwrap();
    assert!(rel(all.estimate.unwrap(), o.stored.effect_size.unwrap()) > 1e-6);
}

fn mutated(file: &str, from: &str, to: &str) -> metarepro::verify::revman::ReviewCheck {
    let text = std::fs::read(fixture(file)).unwrap();
    let s = String::from_utf8_lossy(&text).into_owned();
    assert!(s.contains(from), "{file} has no {from}");
    let s = s.replacen(from, to, 1);
    verify_review(&parse_rm5(s.as_bytes(), Path::new(file)).unwrap())
}

/// A changed stored number makes its analysis "differs", naming the number.
#[test]
fn a_changed_number_is_found() {
    let r = mutated(
        "Fleiss1993.rm5",
        "CI_START=\"0.8405144008917793\"",
        "CI_START=\"0.8405\"",
    );
    assert_eq!(r.analyses[0].verdict, Verdict::Differs);
    assert_eq!(r.analyses[0].differences[0].what, "ci_lb");
    assert_eq!(
        r.summary.text,
        "0 of 1 analyses reproduced (1 differ, 1 with no stored results)"
    );
    let r = mutated("Fleiss1993.rm5", "WEIGHT=\"3.176490004091248\"", "WEIGHT=\"3.1765\"");
    assert_eq!(r.analyses[0].differences[0].what, "study \"MRC-1\" weight");
    let r = mutated("Fleiss1993.rm5", "P_Z=\"0.0010103343130005407\"", "P_Z=\"0.0011\"");
    assert_eq!(r.analyses[0].differences[0].what, "p");
    // A p-value within 1e-6 is not a difference.
    let r = mutated("Fleiss1993.rm5", "P_Z=\"0.0010103343130005407\"", "P_Z=\"0.0010108\"");
    assert_eq!(r.analyses[0].verdict, Verdict::Reproduced);
    // Subgroup test and a subgroup's tau2.
    let text = std::fs::read_to_string(fixture("rule_subgroups.rm5")).unwrap();
    let q = text
        .split(" Q=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = mutated("rule_subgroups.rm5", &format!(" Q=\"{q}\""), " Q=\"9.5\"");
    assert!(
        r.analyses[0].differences.iter().any(|d| d.what == "subgroup_test.Q"),
        "{:?}",
        r.analyses[0].differences
    );
    // The first non-zero stored tau2 (a subgroup's; the TOTALS=SUB outcome stores none).
    let tau = text
        .split("TAU2=\"")
        .skip(1)
        .map(|t| t.split('"').next().unwrap().to_string())
        .find(|t| !t.is_empty() && t != "0")
        .unwrap();
    let r = mutated("rule_subgroups.rm5", &format!("TAU2=\"{tau}\""), "TAU2=\"0.5\"");
    assert!(r
        .analyses
        .iter()
        .any(|a| a.differences.iter().any(|d| d.what == "tau2")));
    // A stored double-zero row said estimable.
    let r = mutated("rule_mh_rr_double_zero.rm5", "ESTIMABLE=\"NO\"", "ESTIMABLE=\"YES\"");
    assert!(r.analyses[0].differences.iter().any(|d| d.what.contains("estimable")));
}

/// RevMan's I2 = 100 for a single-study pool is reported as an artefact, and the analysis is
/// still reproduced; a real I2 difference on a single study is not hidden.
#[test]
fn single_study_artefact_reported_not_copied() {
    let r = verify_file(&fixture("rule_single_study.rm5")).unwrap();
    let a = &r.analyses[0];
    assert_eq!(a.verdict, Verdict::Reproduced);
    assert_eq!(a.recomputed.i2, Some(0.0));
    assert_eq!(a.revman.i2, Some(100.0));
    assert!(a.artefacts.iter().any(|t| t.contains("I2 = 100")), "{:?}", a.artefacts);
    let r = mutated(
        "rule_single_study.rm5",
        "CHI2=\"1.232595164407831E-32\"",
        "CHI2=\"0.5\"",
    );
    assert_eq!(r.analyses[0].verdict, Verdict::Differs);
}

/// `verify FILE.rm5 --json`: the contract's keys; the table names the conventions; --strict exits 1
/// on a difference.
#[test]
fn verify_cli_json_contract() {
    let out = metarepro(&["verify", "tests/fixtures/revman/Fleiss1993.rm5", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["review"]["title"], "Examples from Fleiss 1993");
    let a = &v["analyses"][0];
    for k in [
        "id",
        "subgroup",
        "comparison",
        "name",
        "data_type",
        "method",
        "measure",
        "model",
        "recomputed",
        "revman",
        "verdict",
        "studies",
    ] {
        assert!(a.get(k).is_some(), "no key {k}");
    }
    assert_eq!(a["id"], "CMP-001.01");
    assert!(a["subgroup"].is_null());
    assert_eq!(a["verdict"], "reproduced");
    assert_eq!(a["model"], "fixed");
    let keys: Vec<&str> = a["recomputed"]
        .as_object()
        .unwrap()
        .keys()
        .map(|s| s.as_str())
        .collect();
    let mut want = vec!["estimate", "ci_lb", "ci_ub", "z", "p", "tau2", "I2", "Q", "Q_df", "Q_p"];
    let mut got = keys.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    // The ratio scale: an OR below 1, not its logarithm.
    let est = a["recomputed"]["estimate"].as_f64().unwrap();
    assert!((est - 0.8968655609130709).abs() < 1e-12);
    assert_eq!(v["summary"]["reproduced"], 1);
    let out = metarepro(&["verify", "tests/fixtures/revman/rule_subgroups.rm5"]);
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(
        t.contains("6 of 6 analyses reproduced") && t.contains("conventions: RevMan 5 rules"),
        "{t}"
    );
    // --strict on a changed file.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.rm5");
    let s = std::fs::read_to_string(fixture("Fleiss1993.rm5"))
        .unwrap()
        .replace("I2=\"39.67458045558399\"", "I2=\"39.7\"");
    std::fs::write(&bad, s).unwrap();
    let out = metarepro(&["verify", bad.to_str().unwrap(), "--strict"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("differs: I2"));
}

/// Bad input: a clear error naming the file (and the element and attribute), exit 3, no output.
#[test]
fn bad_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(fixture("rule_rd.rm5")).unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        ("truncated.rm5", good[..good.len() / 2].to_string(), "XML"),
        ("empty.rm5", String::new(), "empty"),
        ("html.rm5", "<html><body/></html>".into(), "not a RevMan 5 review"),
        (
            "bomb.rm5",
            "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><COCHRANE_REVIEW>&b;</COCHRANE_REVIEW>".into(),
            "DOCTYPE",
        ),
        (
            "deep.rm5",
            format!("<COCHRANE_REVIEW>{}{}</COCHRANE_REVIEW>", "<X>".repeat(5000), "</X>".repeat(5000)),
            "nested more than",
        ),
        ("measure.rm5", good.replacen("EFFECT_MEASURE=\"RD\"", "EFFECT_MEASURE=\"XX\"", 1), "attribute EFFECT_MEASURE"),
        ("missing.rm5", good.replacen(" TOTAL_2=\"30\"", "", 1), "attribute TOTAL_2: missing"),
        ("encoding.rm5", good.replacen("encoding=\"UTF-8\"", "encoding=\"KOI8-R\"", 1), "KOI8-R"),
    ];
    for (name, text, want) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let out_file = dir.path().join(format!("{name}.csv"));
        for args in [
            vec!["verify", p.to_str().unwrap()],
            vec!["import", p.to_str().unwrap(), "-o", out_file.to_str().unwrap()],
        ] {
            let out = metarepro(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
            assert!(err.contains(name) && err.contains(want), "{args:?}: {err}");
        }
        assert!(!out_file.exists(), "{name}: output written");
    }
    // Element path and line in the message.
    let e = parse_rm5(
        good.replacen("EVENTS_1=\"12\"", "EVENTS_1=\"12x\"", 1).as_bytes(),
        Path::new("f.rm5"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with(
            "f.rm5: element COMPARISON CMP-001 > DICH_OUTCOME CMP-001.01 > DICH_DATA #1 (STUDY_ID STD-A) (line"
        ),
        "{e}"
    );
    assert!(e.contains("attribute EVENTS_1: \"12x\" is not a number"), "{e}");
}

/// `import DIR`: a study table ready for `batch` and an analysis table with RevMan's and the
/// recomputed numbers; an unreadable file in a directory becomes a row, not a stop.
#[test]
fn import_directory_tables() {
    let dir = tempfile::tempdir().unwrap();
    for (f, _) in RULE_FILES.iter().take(3) {
        std::fs::copy(fixture(f), dir.path().join(f)).unwrap();
    }
    std::fs::copy(fixture("Fleiss1993.rm5"), dir.path().join("Fleiss1993.rm5")).unwrap();
    std::fs::write(dir.path().join("zz_broken.rm5"), "<COCHRANE_REVIEW>").unwrap();
    let studies = dir.path().join("out/studies.csv");
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let out = metarepro(&[
        "import",
        dir.path().to_str().unwrap(),
        "-o",
        studies.to_str().unwrap(),
        "-q",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("5 files (1 unreadable)"), "{err}");
    let s = std::fs::read_to_string(&studies).unwrap();
    let header: Vec<&str> = s.lines().next().unwrap().split(',').collect();
    for c in [
        "analysis",
        "study",
        "ai",
        "n1i",
        "ci",
        "n2i",
        "m1i",
        "sd1i",
        "yi",
        "sei",
        "revman_weight",
    ] {
        assert!(header.contains(&c), "no column {c}");
    }
    // Fleiss: 7 + 5 rows; the three rule files: 6 rows per outcome, 9 outcomes.
    assert_eq!(s.lines().count() - 1, 12 + 9 * 6);
    let a = std::fs::read_to_string(dir.path().join("out/studies_analyses.csv")).unwrap();
    assert_eq!(a.lines().filter(|l| l.contains(",reproduced,")).count(), 10);
    assert_eq!(a.lines().filter(|l| l.contains(",unreadable,")).count(), 1);
    assert!(a.lines().next().unwrap().contains("reml_hk_ci_lb,"));
    // The study table pools with batch: its M-H OR with RevMan's continuity correction is
    // RevMan's estimate for Fleiss1993. (batch has no switch to leave double-zero tables out of
    // the M-H sums, so the zero-cell rule file is not pooled as RevMan pools it there.)
    let b = dir.path().join("out/b.csv");
    let out = metarepro(&[
        "batch",
        studies.to_str().unwrap(),
        "--analysis",
        "analysis",
        "--where",
        "analysis=Fleiss1993:CMP-001.01",
        "--measure",
        "OR",
        "--pooling",
        "MH",
        "--method",
        "EE",
        "--mh-add",
        "0.5",
        "-o",
        b.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t = std::fs::read_to_string(&b).unwrap();
    let line = t.lines().nth(1).unwrap();
    let est: f64 = line.split(',').nth(3).unwrap().parse().unwrap();
    let stored = read_rm5(&fixture("Fleiss1993.rm5")).unwrap().comparisons[0].outcomes[0]
        .stored
        .effect_size
        .unwrap();
    assert!(rel(est.exp(), stored) < 1e-9, "{line} vs {stored}");
}

const TWO_DOUBLE_ZERO: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<COCHRANE_REVIEW ID="1"><ANALYSES_AND_DATA><COMPARISON ID="CMP-001" NO="1"><NAME>C</NAME>
<DICH_OUTCOME ID="CMP-001.01" NO="1" METHOD="MH" EFFECT_MEASURE="@M@" RANDOM="NO" ESTIMABLE="NO" EFFECT_SIZE="0.0" CI_START="0.0" CI_END="0.0" Z="0.0" P_Z="0.0" TAU2="NaN" I2="0.0" CHI2="0.0" DF="0" P_CHI2="0.0">
<NAME>O</NAME>
<DICH_DATA STUDY_ID="STD-A" EVENTS_1="0" TOTAL_1="10" EVENTS_2="0" TOTAL_2="12" ESTIMABLE="NO" WEIGHT="0.0"/>
<DICH_DATA STUDY_ID="STD-B" EVENTS_1="0" TOTAL_1="20" EVENTS_2="0" TOTAL_2="20" ESTIMABLE="NO" WEIGHT="0.0"/>
</DICH_OUTCOME></COMPARISON></ANALYSES_AND_DATA></COCHRANE_REVIEW>"#;

/// Only double-zero tables: not estimable for OR (RevMan's zeros are not compared), but an RD of 0
/// is estimable, so RevMan's "not estimable" there is a difference.
#[test]
fn not_estimable_outcomes() {
    let or = TWO_DOUBLE_ZERO.replace("@M@", "OR");
    let r = verify_review(&parse_rm5(or.as_bytes(), Path::new("dz.rm5")).unwrap());
    assert_eq!(r.analyses[0].verdict, Verdict::NotEstimable, "{:?}", r.analyses[0]);
    assert_eq!(r.summary.text, "0 of 0 analyses reproduced (1 not estimable)");
    assert!(r.analyses[0].studies.iter().all(|s| !s.estimable));
    let rd = TWO_DOUBLE_ZERO.replace("@M@", "RD");
    let r = verify_review(&parse_rm5(rd.as_bytes(), Path::new("dz.rm5")).unwrap());
    let a = &r.analyses[0];
    assert_eq!(a.verdict, Verdict::Differs);
    assert_eq!(a.recomputed.estimate, Some(0.0));
    assert!(
        a.differences[0].what.starts_with("estimable (RevMan: not estimable"),
        "{:?}",
        a.differences
    );
    // Every study row is estimable for RD (RevMan said no).
    assert!(
        a.differences
            .iter()
            .any(|d| d.what == "study \"STD-A\" estimable (RevMan: no)"),
        "{:?}",
        a.differences
    );
}

/// `verify DIR`: one line per file and the total; an unreadable file is listed and fails --strict.
#[test]
fn verify_directory() {
    let out = metarepro(&["verify", "tests/fixtures/revman"]);
    assert!(out.status.success());
    let t = String::from_utf8_lossy(&out.stdout);
    // The rule files, Fleiss1993.rm5 (1 analysis with stored results) and Fleiss1993_CR.csv (2).
    let n: usize = RULE_FILES.iter().map(|(_, n)| n).sum::<usize>() + 1 + 2;
    assert!(
        t.contains(&format!(
            "{} files (0 unreadable): {n} of {n} analyses reproduced",
            RULE_FILES.len() + 2
        )),
        "{t}"
    );
    assert!(t.contains("rule_rd.rm5: 3 of 3 analyses reproduced"), "{t}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("rule_rd.rm5"), dir.path().join("a.rm5")).unwrap();
    std::fs::write(dir.path().join("b.rm5"), "<COCHRANE_REVIEW>").unwrap();
    let out = metarepro(&["verify", dir.path().to_str().unwrap(), "--strict", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["summary"]["reproduced"], 3);
    assert!(v[1]["error"].as_str().unwrap().contains("b.rm5"));
}

/// `import` to Parquet: both tables read back (metarepro's own Parquet reader) with the CSV's
/// columns and rows; ratios stored by RevMan survive at full precision.
#[test]
fn import_parquet_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let pq = dir.path().join("s.parquet");
    let csv = dir.path().join("s.csv");
    for out in [&pq, &csv] {
        let o = metarepro(&[
            "import",
            "tests/fixtures/revman/rule_subgroups.rm5",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for (a, b) in [
        (pq.clone(), csv.clone()),
        (dir.path().join("s_analyses.parquet"), dir.path().join("s_analyses.csv")),
    ] {
        let fa = metarepro::data::read_frame(&a, None).unwrap();
        let fb = metarepro::data::read_frame(&b, None).unwrap();
        assert_eq!(fa.height(), fb.height());
        assert_eq!(fa.get_column_names(), fb.get_column_names());
    }
    let f = metarepro::data::read_frame(&dir.path().join("s_analyses.parquet"), None).unwrap();
    assert_eq!(f.height(), 6);
    let verdicts = f.column("verdict").unwrap().str().unwrap().clone();
    let v: Vec<Option<&str>> = verdicts.iter().collect();
    assert!(v.iter().all(|x| *x == Some("reproduced")), "{v:?}");
    let review = read_rm5(&fixture("rule_subgroups.rm5")).unwrap();
    let est = f.column("revman_estimate").unwrap().f64().unwrap().get(0).unwrap();
    assert_eq!(est, review.comparisons[0].outcomes[0].stored.effect_size.unwrap());
}
