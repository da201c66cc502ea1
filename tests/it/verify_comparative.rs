//! `verify` on two-group claims: recomputed from two-group data, the method search over the
//! two-group switches with the presets it names, published-only checks of ratios, the preset
//! table and its documentation, and the cross-source checks of datasets/wang2023.

use std::path::{Path, PathBuf};
use std::process::Command;

use metarepro::verify::{self, claims, presets, VerifyOptions, VerifyReport};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(path: &Path, search: bool) -> VerifyReport {
    let c = claims::load(path).unwrap();
    verify::verify(
        &c,
        &VerifyOptions {
            search,
            progress: false,
            default_stopping: false,
        },
    )
    .unwrap()
}

fn json(r: &VerifyReport) -> Value {
    serde_json::from_str(&verify::report::json(r)).unwrap()
}

/// A temporary folder with dat.bcg's 2×2 tables (from the committed metafor fixture) and a claims
/// file `body` recomputing from them.
fn bcg_claims(name: &str, body: &str) -> PathBuf {
    let fx: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("tests/fixtures/comparative/cases.json")).unwrap())
            .unwrap();
    let case = fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "bcg/RR/rma/DL/z")
        .unwrap();
    let d = &case["data"];
    let dir = std::env::temp_dir().join(format!("metarepro_vc_{name}_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut csv = String::from("study,ai,n1i,ci,n2i\n");
    for i in 0..d["ai"].as_array().unwrap().len() {
        csv.push_str(&format!(
            "\"{}\",{},{},{},{}\n",
            d["study"][i].as_str().unwrap_or(&i.to_string()),
            d["ai"][i],
            d["n1i"][i],
            d["ci"][i],
            d["n2i"][i]
        ));
    }
    std::fs::write(dir.join("bcg.csv"), csv).unwrap();
    let path = dir.join("claims.toml");
    std::fs::write(
        &path,
        format!("[paper]\ncitation = \"dat.bcg\"\n[data]\nfile = \"bcg.csv\"\n{body}"),
    )
    .unwrap();
    path
}

fn matches(r: &VerifyReport) -> Vec<Value> {
    json(r)["comparative"]["search"]["matches"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Normand 1999's common-effect MD needs the pooled SD: metafor's default (unpooled) recomputes
/// −3.46 (−4.96 to −1.96), a mismatch; the search finds vtype HO, and each match in the JSON names
/// measure, method, pooling and the other switches.
#[test]
fn normand1999_md_needs_the_pooled_sd() {
    let r = run(&root().join("datasets/normand1999/claims.toml"), true);
    assert_eq!(r.claims[0].verdict, "mismatch", "{:?}", r.claims[0].numbers);
    let m = matches(&r);
    assert!(!m.is_empty());
    for x in &m {
        assert_eq!(x["vtype"], "HO", "{x}");
        assert_eq!(x["method"], "EE", "{x}");
        for key in [
            "measure",
            "pooling",
            "q_source",
            "test",
            "cc_add",
            "cc_to",
            "drop00",
            "rd_variance",
            "presets",
        ] {
            assert!(x.get(key).is_some(), "match lacks {key}: {x}");
        }
    }
    assert_eq!(m[0]["measure"], "MD");
    let j = json(&r);
    assert_eq!(j["comparative"]["search"]["stated_method_matches"], true);
    let pinned = j["comparative"]["search"]["constrained"].to_string();
    assert!(pinned.contains("[\"vtype\",[\"HO\"]]"), "{pinned}");
    // Stating the pooled SD makes the recompute a match.
    let dir = std::env::temp_dir().join(format!("metarepro_vc_normand_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(root().join("datasets/normand1999/studies.csv"), dir.join("studies.csv")).unwrap();
    let text = std::fs::read_to_string(root().join("datasets/normand1999/claims.toml"))
        .unwrap()
        .replace("method = \"EE\"", "method = \"EE\"\nvtype = \"HO\"");
    std::fs::write(dir.join("claims.toml"), text).unwrap();
    let r2 = run(&dir.join("claims.toml"), false);
    assert_eq!(r2.claims[0].verdict, "match", "{:?}", r2.claims[0].numbers);
}

/// dat.bcg's M-H RR and Peto OR as Stata metan prints them (reference notes §5, from metafor's
/// test_misc_metan_vs_rma.{mh,peto}_with_dat.bcg.r): the search finds M-H and Peto pooling, not
/// inverse variance.
#[test]
fn bcg_mantel_haenszel_and_peto_are_found() {
    let p = bcg_claims(
        "mh",
        "[method]\nmeasure = \"RR\"\npooling = \"MH\"\nmethod = \"EE\"\n[[claim]]\nlabel = \"M-H RR\"\nprinted = \"RR 0.6353 (95% CI 0.5881 to 0.6862)\"\nk = 13\n",
    );
    let r = run(&p, true);
    assert_eq!(r.claims[0].verdict, "match", "{:?}", r.claims[0]);
    let m = matches(&r);
    assert!(!m.is_empty());
    assert!(m.iter().all(|x| x["pooling"] == "MH" && x["method"] == "EE"), "{m:?}");
    assert_eq!(json(&r)["comparative"]["search"]["stated_method_matches"], true);
    // Stated IV: the recompute misses and the stated method is not among the matches.
    let p = bcg_claims(
        "iv",
        "[method]\nmeasure = \"RR\"\npooling = \"IV\"\nmethod = \"EE\"\n[[claim]]\nlabel = \"M-H RR\"\nprinted = \"RR 0.6353 (95% CI 0.5881 to 0.6862)\"\n",
    );
    let r = run(&p, true);
    assert_ne!(r.claims[0].verdict, "match");
    assert_eq!(json(&r)["comparative"]["search"]["stated_method_matches"], false);
    // Peto's OR.
    let p = bcg_claims(
        "peto",
        "[method]\nmeasure = \"OR\"\n[[claim]]\nlabel = \"Peto OR\"\nprinted = \"OR 0.6222 (95% CI 0.5746 to 0.6738)\"\n",
    );
    let m = matches(&run(&p, true));
    assert!(!m.is_empty() && m.iter().all(|x| x["pooling"] == "PETO"), "{m:?}");
}

/// The random-effects RR of dat.bcg two ways: IV-DL (τ² 0.3088, Stata metan 4's `random`) and
/// RevMan's "M-H, random" (τ² from Q around the M-H estimate, 0.3095). The printed τ² separates
/// them; each names its presets.
#[test]
fn bcg_random_effects_q_source_and_presets() {
    let p = bcg_claims(
        "revman",
        "[method]\nmeasure = \"RR\"\n[[claim]]\nlabel = \"RR random\"\nprinted = \"RR 0.4896 (95% CI 0.3448 to 0.6952)\"\ntau2 = \"0.3095\"\n",
    );
    let m = matches(&run(&p, true));
    assert!(!m.is_empty());
    for x in &m {
        assert_eq!(
            (x["pooling"].as_str(), x["method"].as_str(), x["q_source"].as_str()),
            (Some("MH"), Some("DL"), Some("MH")),
            "{x}"
        );
    }
    let presets: Vec<String> = m
        .iter()
        .flat_map(|x| {
            x["presets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_string())
        })
        .collect();
    assert!(presets.contains(&"revman5".to_string()), "{presets:?}");
    assert!(!presets.contains(&"stata-metan4".to_string()), "{presets:?}");
    let p = bcg_claims(
        "ivdl",
        "[method]\nmeasure = \"RR\"\n[[claim]]\nlabel = \"RR random\"\nprinted = \"RR 0.4896 (95% CI 0.3449 to 0.6950)\"\ntau2 = \"0.3088\"\n",
    );
    let m = matches(&run(&p, true));
    assert!(!m.is_empty());
    assert!(m.iter().all(|x| x["pooling"] == "IV" && x["method"] == "DL"), "{m:?}");
    let presets: Vec<String> = m
        .iter()
        .flat_map(|x| {
            x["presets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_string())
        })
        .collect();
    assert!(presets.contains(&"stata-metan4".to_string()), "{presets:?}");
    assert!(!presets.contains(&"revman5".to_string()), "{presets:?}");
}

/// A stated preset that does not exist, and Peto pooling of an RR, are errors that say why.
#[test]
fn bad_stated_methods_are_errors() {
    for (method, want) in [
        ("measure = \"RR\"\npreset = \"revman6\"", "unknown preset \"revman6\""),
        ("measure = \"RR\"\npooling = \"PETO\"", "Peto pooling pools odds ratios"),
        ("measure = \"RR\"\nq_source = \"XY\"", "unknown Q source \"XY\""),
    ] {
        let p = bcg_claims(
            "bad",
            &format!("[method]\n{method}\n[[claim]]\nlabel = \"a\"\nprinted = \"RR 0.5 (0.4-0.6)\"\n"),
        );
        let c = claims::load(&p).unwrap();
        let e = verify::verify(&c, &VerifyOptions::default()).unwrap_err().to_string();
        assert!(e.contains(want), "{method}: {e}");
    }
}

/// Cohen's d (vtype Cohen) equals R meta's `method.smd = "Cohen", exact.smd = FALSE`.
#[test]
fn cohen_d_matches_meta() {
    let fx: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("tests/fixtures/comparative/cohen_d.json")).unwrap())
            .unwrap();
    let d = &fx["data"];
    let g = |k: &str, i: usize| d[k][i].as_f64().unwrap();
    let inputs: Vec<metarepro::data::StudyInput> = (0..9)
        .map(|i| metarepro::data::StudyInput::Means {
            m1i: g("m1i", i),
            sd1i: g("sd1i", i),
            n1i: g("n1i", i),
            m2i: g("m2i", i),
            sd2i: g("sd2i", i),
            n2i: g("n2i", i),
        })
        .collect();
    let mut o = metarepro::effect::comparative::EscalcOptions::default_for(metarepro::effect::Measure::SMD);
    o.vtype = metarepro::effect::comparative::Vtype::COHEN;
    let c = metarepro::effect::comparative::escalc_inputs(metarepro::effect::Measure::SMD, &inputs, &o).unwrap();
    for i in 0..9 {
        let (y, v) = (fx["yi"][i].as_f64().unwrap(), fx["vi"][i].as_f64().unwrap());
        assert!(
            (c.es.yi[i] - y).abs() <= 1e-10 * y.abs().max(1.0),
            "yi[{i}] {} vs {y}",
            c.es.yi[i]
        );
        assert!((c.es.vi[i] - v).abs() <= 1e-10 * v, "vi[{i}] {} vs {v}", c.es.vi[i]);
    }
}

/// `docs/presets.md` is the preset table as the code has it, and `verify --presets` prints it.
#[test]
fn presets_doc_is_the_table() {
    let doc = std::fs::read_to_string(root().join("docs/presets.md")).unwrap();
    assert_eq!(
        doc,
        presets::document(),
        "regenerate with: metarepro verify --presets > docs/presets.md"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_metarepro"))
        .args(["verify", "--presets"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), doc);
    for p in presets::PRESETS {
        assert!(doc.contains(&format!("| `{}` |", p.id)), "{}", p.id);
    }
}

/// The tofacitinib RR 0.61 (0.41–0.91) with p = 0.02 (Ther Adv Respir Dis 2024): the CI implies
/// p ≈ 0.015, consistent with the printed 0.02, and the report says so.
#[test]
fn tofacitinib_implied_p() {
    let r = run(&root().join("datasets/rpild_comparative/claims.toml"), false);
    let c = &r.claims[0];
    let k = c
        .checks
        .iter()
        .find(|k| k.name == "p implied by the CI (Wald z)")
        .expect("check present");
    assert_eq!(k.status, "pass", "{}", k.detail);
    assert!(k.detail.contains("printed p = 0.02"), "{}", k.detail);
}

/// datasets/wang2023: the summary's numbers against the primary sources, each finding in words.
#[test]
fn wang2023_summary_against_its_sources() {
    let r = run(&root().join("datasets/wang2023/claims.toml"), false);
    let md = verify::report::markdown(&r, None);
    for want in [
        "says \"ILD in DM/PM\"; the primary (\"prevalence of RP-ILD in DM/PM (abstract)\") says \"RP-ILD in DM/PM\"",
        "92.1% lies outside the CI 49.8% to 73.9%",
        "66.0 at 12 months is above 40.9 at 6 months",
        "\"FVC increase >10% with IVIG, summary\" agrees with \"FVC increase >10% with IVIG, Huapaya 2019 (primary)\"",
    ] {
        assert!(md.contains(want), "missing: {want}");
    }
    let flagged = |label: &str, name: &str| {
        r.claims
            .iter()
            .find(|c| c.label == label)
            .unwrap_or_else(|| panic!("no claim {label}"))
            .checks
            .iter()
            .any(|k| k.name == name && k.status == "flag")
    };
    assert!(flagged("prevalence, summary", "same population as the primary source"));
    assert!(!flagged(
        "remission, overall, summary",
        "same number as the primary source"
    ));
    assert!(flagged(
        "6-month survival, biologics, summary",
        "same number as the primary source"
    ));
}
