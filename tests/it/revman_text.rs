//! Estimates printed in a RevMan review's abstract and results text: found, matched to the analysis
//! they report and checked at their printed precision (`text_claims` in the JSON, the table and the
//! Markdown report).
//!
//! The review is `rule_mh_or_cc.rm5` (three OR analyses: M-H fixed 0.61 [0.37, 1.00], M-H random
//! 0.60 [0.32, 1.12], IV fixed 0.60 [0.36, 1.00]) with a handwritten abstract and results text.

use std::path::{Path, PathBuf};

use metarepro::data::revman::parse_rm5;
use metarepro::verify::revman::verify_review;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/revman")
        .join(name)
}

const TEXT: &str = "<MAIN_TEXT><ABSTRACT><ABS_RESULTS><P>Six trials were included. The odds of the event \
were lower with treatment (OR 0.61, 95% CI 0.37 to 1.00; P = 0.05). Under random effects the <B>odds \
ratio</B> was 0.60 (95% CI 0.32 to 1.21), or so we thought. A sensitivity analysis gave OR 0.85 (95% CI \
0.70 to 0.95).</P></ABS_RESULTS></ABSTRACT><RESULTS><P>Inverse variance pooling: odds ratio 0.60 \
(95% CI 0.36 to 1.00). In another review: MD -3.49 (95% CI -5.03 to -1.96).</P></RESULTS></MAIN_TEXT>\n";

fn review_with_text() -> Vec<u8> {
    let s = std::fs::read_to_string(fixture("rule_mh_or_cc.rm5")).unwrap();
    let i = s.find("<ANALYSES_AND_DATA").unwrap();
    format!("{}{TEXT}{}", &s[..i], &s[i..]).into_bytes()
}

#[test]
fn printed_estimates_found_matched_and_checked() {
    let bytes = review_with_text();
    let review = parse_rm5(&bytes, Path::new("text.rm5")).unwrap();
    assert_eq!(review.texts.len(), 2);
    assert_eq!(review.texts[0].section, "abstract");
    assert!(
        review.texts[0].text.contains("the odds ratio was 0.60"),
        "{:?}",
        review.texts[0]
    );
    let check = verify_review(&review);
    let c = &check.text_claims;
    // Five estimates with CIs; the conjunction "or" is not an odds ratio.
    assert_eq!(c.len(), 5, "{c:#?}");
    // Right: M-H fixed, with its p-value.
    assert_eq!(c[0].text, "OR 0.61, 95% CI 0.37 to 1.00; P = 0.05");
    assert_eq!(c[0].verdict, "consistent");
    assert_eq!(c[0].analysis.as_ref().unwrap().id, "CMP-001.01");
    assert_eq!(c[0].numbers.len(), 4);
    assert!(c[0].numbers.iter().all(|n| n.verdict == "match"), "{:?}", c[0].numbers);
    // Misprinted upper bound: matched to M-H random by the estimate and the lower bound.
    assert_eq!(c[1].text, "odds ratio was 0.60 (95% CI 0.32 to 1.21)");
    assert_eq!(c[1].verdict, "misprinted");
    assert_eq!(c[1].analysis.as_ref().unwrap().id, "CMP-001.02");
    let ub = c[1].numbers.iter().find(|n| n.what == "ci_ub").unwrap();
    assert_eq!(ub.printed, "1.21");
    assert_eq!(ub.verdict, "mismatch");
    assert!((ub.recomputed.unwrap() - 1.1161023821193101).abs() < 1e-9);
    assert!(c[1]
        .numbers
        .iter()
        .filter(|n| n.what != "ci_ub")
        .all(|n| n.verdict == "match"));
    // Unmatched: no OR analysis fits two of its numbers.
    assert_eq!(c[2].text, "OR 0.85 (95% CI 0.70 to 0.95)");
    assert_eq!(c[2].verdict, "unmatched");
    assert!(c[2].analysis.is_none());
    // The results text: IV fixed (0.60 fits M-H random too, but only IV fits all three numbers).
    assert_eq!(c[3].section, "results");
    assert_eq!(c[3].verdict, "consistent");
    assert_eq!(c[3].analysis.as_ref().unwrap().id, "CMP-001.03");
    // A negative MD with no MD analysis.
    assert_eq!(c[4].text, "MD -3.49 (95% CI -5.03 to -1.96)");
    assert_eq!(c[4].numbers[0].printed, "-3.49");
    assert_eq!(c[4].verdict, "unmatched");
}

#[test]
fn text_claims_in_json_table_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("text.rm5");
    std::fs::write(&file, review_with_text()).unwrap();
    let bin = env!("CARGO_BIN_EXE_metarepro");
    let out = std::process::Command::new(bin)
        .arg("verify")
        .arg(&file)
        .args(["--json", "--report"])
        .arg(dir.path().join("rep"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let claims = v["text_claims"].as_array().unwrap();
    let verdicts: Vec<&str> = claims.iter().map(|c| c["verdict"].as_str().unwrap()).collect();
    assert_eq!(
        verdicts,
        ["consistent", "misprinted", "unmatched", "consistent", "unmatched"]
    );
    assert_eq!(claims[1]["analysis"]["id"], "CMP-001.02");
    let md = std::fs::read_to_string(dir.path().join("rep/report.md")).unwrap();
    assert!(md.contains("## Estimates in the review's text"), "{md}");
    assert!(
        md.contains("5 printed estimates: 2 consistent, 1 misprinted, 2 unmatched"),
        "{md}"
    );
    let out = std::process::Command::new(bin)
        .arg("verify")
        .arg(&file)
        .output()
        .unwrap();
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(
        t.contains("misprinted [abstract] \"odds ratio was 0.60 (95% CI 0.32 to 1.21)\" -> CMP-001.02"),
        "{t}"
    );
    // A review without text has an empty list.
    let out = std::process::Command::new(bin)
        .args(["verify", "--json"])
        .arg(fixture("rule_rd.rm5"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["text_claims"], serde_json::json!([]));
}

/// Two analyses that fit equally well (each rounds to two of the three numbers): the one whose
/// outcome-name words come just before the estimate is taken, and the other is named.
#[test]
fn outcome_name_words_break_ties() {
    let s = std::fs::read_to_string(fixture("rule_mh_or_cc.rm5")).unwrap();
    let i = s.find("<ANALYSES_AND_DATA").unwrap();
    for (words, want, other) in [
        ("random", "CMP-001.02", "CMP-001.03"),
        ("fixed", "CMP-001.03", "CMP-001.02"),
    ] {
        let text = format!(
            "<MAIN_TEXT><ABSTRACT><P>With the {words} model the odds ratio was 0.60 (95% CI 0.32 to 1.00).</P></ABSTRACT></MAIN_TEXT>"
        );
        let bytes = format!("{}{text}{}", &s[..i], &s[i..]).into_bytes();
        let review = parse_rm5(&bytes, Path::new("t.rm5")).unwrap();
        let c = &verify_review(&review).text_claims;
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].verdict, "misprinted", "{:?}", c[0]);
        assert_eq!(c[0].analysis.as_ref().unwrap().id, want, "{words}");
        assert!(c[0].also_fits.is_empty(), "{:?}", c[0].also_fits);
        // Without the word both fit alike: the nearer estimate is taken, the other named.
        let plain = "<MAIN_TEXT><ABSTRACT><P>The odds ratio was 0.60 (95% CI 0.32 to 1.00).</P></ABSTRACT></MAIN_TEXT>";
        let bytes = format!("{}{plain}{}", &s[..i], &s[i..]).into_bytes();
        let review = parse_rm5(&bytes, Path::new("t.rm5")).unwrap();
        let c = &verify_review(&review).text_claims;
        let fits: Vec<String> = std::iter::once(c[0].analysis.as_ref().unwrap().id.clone())
            .chain(c[0].also_fits.iter().cloned())
            .collect();
        assert!(
            fits.contains(&want.to_string()) && fits.contains(&other.to_string()),
            "{fits:?}"
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 500, ..Default::default() })]
    /// Any text (multi-byte characters, minus signs, stray digits and labels) is scanned without
    /// a panic, and every claim found quotes the text.
    #[test]
    fn any_text_is_scanned_without_panic(parts in proptest::collection::vec(
        proptest::sample::select(vec![
            "OR ", "RR", "MD", "odds ratio ", "0.61", "-3.49", "\u{2212}1.2", "1.00", " to ", "-", "95% CI ",
            "CI", "(", ")", "; ", "P = ", "0.05", "é", "\u{a0}", "²", "or ", ".", "0.", "7", " ",
        ]),
        0..40,
    )) {
        let text: String = parts.concat();
        let s = std::fs::read_to_string(fixture("rule_mh_or_cc.rm5")).unwrap();
        let review = metarepro::data::revman::parse_rm5(s.as_bytes(), Path::new("t.rm5")).unwrap();
        let analyses = verify_review(&review).analyses;
        let texts = vec![metarepro::data::revman::ReviewText { section: "abstract".into(), text: text.clone() }];
        for c in metarepro::verify::revman_text::check_texts(&texts, &analyses) {
            proptest::prop_assert!(text.contains(&c.text), "{:?} not in {:?}", c.text, text);
        }
    }
}
