//! RevMan 5's "export analysis data" CSV (the format R meta's `read.rm5` reads): read into the same
//! review as the `.rm5` file, and verified and imported alike. Fixture: meta's
//! `Fleiss1993_CR.csv` (GPL >= 2, see tests/fixtures/revman/README.md).

use std::path::{Path, PathBuf};

use metarepro::data::revman::{read_rm5, DataType, RmMeasure, RowData, Stored};
use metarepro::data::revman_csv::{parse_revman_csv, read_review, read_revman_csv};
use metarepro::verify::revman::{verify_review, Verdict};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/revman")
        .join(name)
}

/// The CSV prints 8 decimals (0.00101033, 72.87984024): equal to 1e-7 relative, or to half a unit
/// of the 8th decimal for small values.
fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-7 * a.abs().max(b.abs()) + 5e-9
}

fn same(what: &str, a: Option<f64>, b: Option<f64>) {
    match (a, b) {
        (Some(x), Some(y)) => assert!(close(x, y), "{what}: csv {x} vs rm5 {y}"),
        (x, y) => panic!("{what}: csv {x:?} vs rm5 {y:?}"),
    }
}

fn same_stored(what: &str, c: &Stored, r: &Stored) {
    same(&format!("{what} estimate"), c.effect_size, r.effect_size);
    same(&format!("{what} CI start"), c.ci_start, r.ci_start);
    same(&format!("{what} CI end"), c.ci_end, r.ci_end);
    same(&format!("{what} Z"), c.z, r.z);
    same(&format!("{what} P(Z)"), c.p_z, r.p_z);
    same(&format!("{what} Tau2"), c.tau2, r.tau2);
    same(&format!("{what} I2"), c.i2, r.i2);
    same(&format!("{what} Chi2"), c.chi2, r.chi2);
    same(&format!("{what} df"), c.df, r.df);
    same(&format!("{what} P(Chi2)"), c.p_chi2, r.p_chi2);
}

#[test]
fn csv_and_rm5_give_the_same_analyses() {
    let csv = read_revman_csv(&fixture("Fleiss1993_CR.csv")).unwrap();
    let rm5 = read_rm5(&fixture("Fleiss1993.rm5")).unwrap();
    assert_eq!(csv.comparisons.len(), rm5.comparisons.len());
    let (cc, rc) = (&csv.comparisons[0], &rm5.comparisons[0]);
    assert_eq!(cc.no, rc.no);
    assert_eq!(cc.name.replace("(1993)", "1993"), rc.name.replace("(1993)", "1993"));
    assert_eq!(cc.outcomes.len(), 2);
    assert_eq!(rc.outcomes.len(), 2);
    for (co, ro) in cc.outcomes.iter().zip(&rc.outcomes) {
        assert_eq!(co.id, ro.id);
        assert_eq!(co.name, ro.name);
        assert_eq!(co.data_type, ro.data_type);
        assert_eq!(co.random, ro.random);
        assert_eq!(co.group_labels, ro.group_labels);
        assert_eq!(co.rows.len(), ro.rows.len(), "{}", co.id);
        for (cr, rr) in co.rows.iter().zip(&ro.rows) {
            assert_eq!(cr.study, rr.study);
            assert_eq!(cr.year, rr.year);
            assert_eq!(cr.data, rr.data, "{} {}", co.id, cr.study);
        }
    }
    // CMP-001.01: M-H OR fixed in both, every stored number equal at the CSV's 8 digits.
    let (co, ro) = (&cc.outcomes[0], &rc.outcomes[0]);
    assert_eq!(co.method, ro.method);
    assert_eq!(co.measure, RmMeasure::OR);
    assert_eq!(co.measure, ro.measure);
    same_stored(&co.id, &co.stored, &ro.stored);
    for (cr, rr) in co.rows.iter().zip(&ro.rows) {
        same(&format!("{} effect", cr.study), cr.effect_size, rr.effect_size);
        same(&format!("{} CI start", cr.study), cr.ci_start, rr.ci_start);
        same(&format!("{} CI end", cr.study), cr.ci_end, rr.ci_end);
        same(&format!("{} SE", cr.study), cr.se, rr.se);
        same(&format!("{} weight", cr.study), cr.weight, rr.weight);
    }
    // CMP-001.02 was exported as MD with its results; the .rm5 has it as SMD without results.
    assert_eq!(cc.outcomes[1].measure, RmMeasure::MD);
    assert_eq!(rc.outcomes[1].measure, RmMeasure::SMD);
    assert!(cc.outcomes[1].stored.has_results());
    assert!(matches!(cc.outcomes[1].rows[0].data, RowData::Cont { .. }));
    assert_eq!(cc.outcomes[1].data_type, DataType::Cont);
}

#[test]
fn csv_analyses_reproduce() {
    let review = read_review(&fixture("Fleiss1993_CR.csv")).unwrap();
    let check = verify_review(&review);
    assert_eq!(check.analyses.len(), 2);
    for a in &check.analyses {
        assert_eq!(a.verdict, Verdict::Reproduced, "{}: {:?}", a.id, a.differences);
    }
    assert_eq!(check.summary.text, "2 of 2 analyses reproduced");
    // The MD analysis against meta's metacont (Fleiss1993cont, common effect): -0.7094 [-1.2585; -0.1603].
    let md = &check.analyses[1].recomputed;
    assert!((md.estimate.unwrap() + 0.70938839).abs() < 1e-7);
}

#[test]
fn verify_and_import_accept_the_csv() {
    let bin = env!("CARGO_BIN_EXE_metarepro");
    let out = std::process::Command::new(bin)
        .args(["verify", "tests/fixtures/revman/Fleiss1993_CR.csv", "--json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["reproduced"], 2);
    assert_eq!(v["analyses"][0]["id"], "CMP-001.01");
    let dir = tempfile::tempdir().unwrap();
    let studies = dir.path().join("s.csv");
    let out = std::process::Command::new(bin)
        .args(["import", "tests/fixtures/revman/Fleiss1993_CR.csv", "-o"])
        .arg(&studies)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t = std::fs::read_to_string(&studies).unwrap();
    // 7 + 5 study rows and a header.
    assert_eq!(t.lines().count(), 13, "{t}");
    assert!(t.contains("ISIS-2"));
}

#[test]
fn bad_csv_exports_are_refused_with_file_line_and_column() {
    let f = Path::new("x.csv");
    let head = "Comparison Number,Outcome Number,Subgroup Number,Name,Data Type,Statistical Method,Effect Measure,Analysis Model,Events 1,Total 1,Events 2,Total 2\n";
    let e = parse_revman_csv(b"", f).unwrap_err().to_string();
    assert!(e.contains("x.csv") && e.contains("empty"), "{e}");
    let e = parse_revman_csv(b"a,b\n1,2\n", f).unwrap_err().to_string();
    assert!(e.contains("Comparison Number"), "{e}");
    let bad = format!("{head}1,0,0,C,,,,,,,,\n1,1,0,O,DIC,MH,XX,Fixed,1,10,2,10\n");
    let e = parse_revman_csv(bad.as_bytes(), f).unwrap_err().to_string();
    assert!(
        e.contains("line 3") && e.contains("Effect Measure") && e.contains("XX"),
        "{e}"
    );
    let bad = format!("{head}1,0,0,C,,,,,,,,\n1,1,0,O,DIC,MH,OR,Fixed,1,10,2,10\n1,1,0,S,,,,,one,10,2,10\n");
    let e = parse_revman_csv(bad.as_bytes(), f).unwrap_err().to_string();
    assert!(
        e.contains("line 4") && e.contains("Events 1") && e.contains("one"),
        "{e}"
    );
    let bad = format!("{head}1,1,0,O,DIC,MH,OR,Fixed,1,10,2,10\n");
    let e = parse_revman_csv(bad.as_bytes(), f).unwrap_err().to_string();
    assert!(e.contains("before its comparison"), "{e}");
}

/// `import --format parquet|csv` overrides the extensions; without it an unknown extension is an
/// error that names the option.
#[test]
fn import_format_option() {
    let bin = env!("CARGO_BIN_EXE_metarepro");
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &Path, format: Option<&str>| {
        let mut c = std::process::Command::new(bin);
        c.args(["import", "tests/fixtures/revman/Fleiss1993.rm5", "-q", "-o"])
            .arg(out)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if let Some(f) = format {
            c.args(["--format", f]);
        }
        c.output().unwrap()
    };
    let p = dir.path().join("a.out");
    let o = run(&p, Some("parquet"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&p).unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
    let a = std::fs::read(dir.path().join("a_analyses.out")).unwrap();
    assert_eq!(&a[..4], b"PAR1");
    // A .parquet name written as CSV when asked.
    let p = dir.path().join("b.parquet");
    let o = run(&p, Some("csv"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = std::fs::read_to_string(&p).unwrap();
    assert!(t.starts_with("file,analysis,"), "{t}");
    assert_eq!(t.lines().count(), 13);
    let o = run(&dir.path().join("c.out"), None);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("--format"), "{e}");
    assert!(!dir.path().join("c.out").exists());
}
