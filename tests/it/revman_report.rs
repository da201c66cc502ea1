//! `verify FILE.rm5 --report DIR`: the Markdown report and a forest plot per analysis in RevMan's
//! layout, whose numbers are the recomputed ones as RevMan prints them.

use std::path::{Path, PathBuf};

use metarepro::data::revman::read_rm5;
use metarepro::plot::figure::Figure;
use metarepro::verify::revman::verify_review;
use metarepro::verify::revman_report::figures;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/revman")
        .join(name)
}

fn all_fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixture(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rm5"))
        .collect();
    v.sort();
    v
}

fn texts(f: &Figure) -> Vec<String> {
    f.texts().map(|(_, t)| t.text.clone()).collect()
}

/// Two decimals, as RevMan prints ratios and differences (independent of the plot's formatter).
fn r2(x: f64) -> String {
    let s = format!("{x:.2}");
    if s == "-0.00" {
        "0.00".into()
    } else {
        s
    }
}

#[test]
fn every_analysis_gets_a_figure_with_the_recomputed_numbers_as_revman_prints_them() {
    let mut checked_rows = 0;
    for file in all_fixtures() {
        let review = read_rm5(&file).unwrap();
        let check = verify_review(&review);
        let figs = figures(&review);
        let n_outcomes: usize = review.comparisons.iter().map(|c| c.outcomes.len()).sum();
        assert_eq!(figs.len(), n_outcomes, "{}", file.display());
        for o in review.comparisons.iter().flat_map(|c| &c.outcomes) {
            let f = figs
                .iter()
                .find_map(|f| f.as_ref().ok().filter(|f| f.id == o.id))
                .unwrap_or_else(|| panic!("{}: no figure for {}", file.display(), o.id));
            let t = texts(&f.figure);
            let total = t.iter().any(|x| x == "Total (95% CI)");
            assert_eq!(
                total,
                o.totals == metarepro::data::revman::Totals::Yes,
                "{} {}: total row",
                file.display(),
                o.id
            );
            for a in check.analyses.iter().filter(|a| a.id == o.id) {
                if a.subgroup.is_none() && o.totals != metarepro::data::revman::Totals::Yes {
                    continue;
                }
                let r = &a.recomputed;
                let (Some(e), Some(l), Some(u)) = (r.estimate, r.ci_lb, r.ci_ub) else {
                    continue;
                };
                let want = format!("{} [{}, {}]", r2(e), r2(l), r2(u));
                assert!(
                    t.contains(&want),
                    "{} {} subgroup {:?}: {want} not in the figure: {t:?}",
                    file.display(),
                    o.id,
                    a.subgroup
                );
                if let (Some(q), Some(df)) = (r.q, r.q_df) {
                    if df > 0.0 {
                        let het = format!("Chi\u{b2} = {}, df = {df}", r2(q));
                        assert!(
                            t.iter().any(|x| x.contains(&het)),
                            "{} {}: {het} not in {t:?}",
                            file.display(),
                            o.id
                        );
                    }
                }
                if let Some(z) = r.z {
                    let zt = format!("Test for overall effect: Z = {}", r2(z));
                    assert!(
                        t.iter().any(|x| x.starts_with(&zt)),
                        "{} {}: {zt}",
                        file.display(),
                        o.id
                    );
                }
                // Study effects and weights (1 decimal, as RevMan prints them).
                for s in a.studies.iter().filter(|s| s.estimable) {
                    let sr = &s.recomputed;
                    let (Some(e), Some(l), Some(u)) = (sr.effect, sr.ci_lb, sr.ci_ub) else {
                        continue;
                    };
                    let want = format!("{} [{}, {}]", r2(e), r2(l), r2(u));
                    assert!(t.contains(&want), "{} {}: study {want}", file.display(), o.id);
                    checked_rows += 1;
                }
            }
        }
    }
    assert!(checked_rows > 50, "only {checked_rows} study rows checked");
}

#[test]
fn revman_layout_has_method_header_favours_labels_and_a_log_axis_for_ratios() {
    let review = read_rm5(&fixture("Fleiss1993.rm5")).unwrap();
    let figs = figures(&review);
    let f = figs[0].as_ref().unwrap();
    let t = texts(&f.figure);
    for want in [
        "M-H, Fixed, 95% CI",
        "Odds Ratio",
        "Total events",
        "Weight",
        "Events",
        "Total",
    ] {
        assert!(t.iter().any(|x| x == want), "{want} not in {t:?}");
    }
    assert!(t.iter().any(|x| x.starts_with("Favours")), "{t:?}");
    assert!(t.iter().any(|x| x.starts_with("Heterogeneity: Chi\u{b2} = ")), "{t:?}");
    // Log axis: ticks symmetric about 1 (1/x and x).
    let ticks: Vec<f64> = f
        .figure
        .texts()
        .filter(|(r, _)| *r == metarepro::plot::figure::Role::TickLabel)
        .filter_map(|(_, t)| t.text.parse().ok())
        .collect();
    assert!(ticks.contains(&1.0), "{ticks:?}");
    for x in &ticks {
        assert!(
            ticks.iter().any(|y| (x * y - 1.0).abs() < 1e-9),
            "tick {x} has no reciprocal: {ticks:?}"
        );
    }
    // No meta-style rows.
    assert!(
        !t.iter().any(|x| x.contains("Common effect model") && !x.ends_with('.')),
        "{t:?}"
    );
    assert!(!t.iter().any(|x| x == "Prediction interval"), "{t:?}");
}

#[test]
fn subgroup_figure_has_headings_subtotals_and_the_subgroup_test() {
    let review = read_rm5(&fixture("rule_subgroups.rm5")).unwrap();
    let check = verify_review(&review);
    let figs = figures(&review);
    let f = figs[0].as_ref().unwrap();
    let t = texts(&f.figure);
    let o = &review.comparisons[0].outcomes[0];
    for s in &o.subgroups {
        let h = format!("1.{}.{} {}", o.no, s.no, s.name);
        assert!(t.contains(&h), "{h} not in {t:?}");
    }
    assert_eq!(
        t.iter().filter(|x| *x == "Subtotal (95% CI)").count(),
        o.subgroups.len()
    );
    let test = check
        .analyses
        .iter()
        .find(|a| a.id == o.id && a.subgroup.is_none())
        .and_then(|a| a.subgroup_test.as_ref())
        .expect("a subgroup test");
    let want = format!(
        "Test for subgroup differences: Chi\u{b2} = {}, df = {}",
        r2(test.recomputed.q.unwrap()),
        test.recomputed.df.unwrap()
    );
    assert!(t.iter().any(|x| x.starts_with(&want)), "{want} not in {t:?}");
}

#[test]
fn verify_report_writes_markdown_and_a_png_and_svg_per_analysis() {
    let dir = std::env::temp_dir().join(format!("metarepro-revman-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_metarepro"))
        .args([
            "verify",
            "tests/fixtures/revman/rule_subgroups.rm5",
            "--json",
            "--report",
        ])
        .arg(&dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let summary = json["summary"]["text"].as_str().unwrap();
    assert!(md.contains(summary), "{summary} not in the report");
    assert!(md.contains("| number | RevMan stored | recomputed | difference |"));
    assert!(md.contains("beyond RevMan: REML"));
    let review = read_rm5(&fixture("rule_subgroups.rm5")).unwrap();
    assert!(md.starts_with(&format!("# {}", review.title.trim())));
    for o in review.comparisons.iter().flat_map(|c| &c.outcomes) {
        assert!(md.contains(&format!("]({}.png)", o.id)), "{} not linked", o.id);
        let png = std::fs::read(dir.join(format!("{}.png", o.id))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let svg = std::fs::read_to_string(dir.join(format!("{}.svg", o.id))).unwrap();
        assert!(svg.contains("<svg"));
    }
    let _ = std::fs::remove_dir_all(&dir);
    // A claims file has no RevMan report.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_metarepro"))
        .args(["verify", "Cargo.toml", "--report", "/nonexistent/never"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("RevMan"));
}
