//! Row selection: studies excluded by label (`--exclude`, `exclude = [...]` in `analysis.toml`),
//! row filters with `!=` and several values, for `pool`, `forest`, the diagnostics, `batch` and
//! `reproduce`; excluded studies are listed with the rows left out.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const PRITZ: &str = "datasets/pritz1997/studies.csv";
const DEBRUIN: &str = "datasets/debruin2009/studies.csv";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn metarepro<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let out = Command::cargo_bin("metarepro")
        .expect("the metarepro binary")
        .args(args)
        .output()
        .expect("run metarepro");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `pool FILE ARGS --format json`, which must succeed.
fn pool_json(file: &str, args: &[&str]) -> Value {
    let mut all = vec!["pool", file, "--format", "json"];
    all.extend_from_slice(args);
    let r = metarepro(&all);
    assert_eq!(r.code, 0, "{all:?}: {}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{all:?}: {e}: {}", r.stdout))
}

/// The fitted numbers of a `pool --format json` result (the source file left aside).
fn fit(v: &Value) -> (Value, Value) {
    (v["overall"].clone(), v["subgroups"].clone())
}

/// A copy of the text table `file` without the lines whose first field is one of `drop`.
fn without(file: &str, drop: &[&str], dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(file).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            let first = l.split(',').next().unwrap_or("").trim_matches('"');
            !drop.contains(&first)
        })
        .collect();
    assert_eq!(
        kept.len() + drop.len(),
        text.lines().count(),
        "every label to drop is in {file}"
    );
    let out = dir.join(Path::new(file).file_name().unwrap());
    std::fs::write(&out, kept.join("\n") + "\n").unwrap();
    out
}

#[test]
fn excluding_a_study_is_pooling_the_table_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let drop = ["Giannotta et al.", "Awad et al."];
    let reduced = without(PRITZ, &drop, dir.path());
    let excluded = pool_json(PRITZ, &["--exclude", drop[0], "--exclude", drop[1]]);
    let expected = pool_json(reduced.to_str().unwrap(), &[]);
    assert_eq!(excluded["overall"]["k"], 12);
    assert_eq!(fit(&excluded), fit(&expected));
    // The table lists the excluded studies with the rows left out; JSON runs say so on stderr.
    let r = metarepro(&["pool", PRITZ, "--exclude", drop[0], "--exclude", drop[1]]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Rows left out (--exclude):"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("row 1 (line 2): excluded by its study label \"Giannotta et al.\""),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\"Awad et al.\""), "{}", r.stdout);
    let r = metarepro(&["pool", PRITZ, "--exclude", drop[0], "--format", "csv"]);
    assert!(
        r.stderr.contains("row 1 (line 2) left out (--exclude)") && r.stderr.contains("Giannotta et al."),
        "{}",
        r.stderr
    );
    // Two-group data: the same.
    let bcg = "tests/data/comparative/bcg.csv";
    let reduced = without(bcg, &["Aronson 1948"], dir.path());
    let a = pool_json(bcg, &["--measure", "RR", "--exclude", "Aronson 1948"]);
    let b = pool_json(reduced.to_str().unwrap(), &["--measure", "RR"]);
    assert_eq!(a["overall"]["k"], 12);
    assert_eq!(fit(&a), fit(&b));
}

#[test]
fn an_unknown_label_is_an_error_naming_it_and_close_labels() {
    let r = metarepro(&["pool", PRITZ, "--exclude", "Giannota"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("no study labelled \"Giannota\"") && r.stderr.contains("did you mean \"Giannotta et al.\"?"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
    // Nothing close: the labels are listed.
    let r = metarepro(&["pool", PRITZ, "--exclude", "Zzyzx"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("the study labels are \"Giannotta et al.\""),
        "{}",
        r.stderr
    );
    // A label of a row the filter leaves out is not among the selected rows.
    let r = metarepro(&[
        "pool",
        DEBRUIN,
        "--where",
        "ethnicity=other",
        "--exclude",
        "Fairley et al.",
    ]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("\"Fairley et al.\""), "{}", r.stderr);
    // Excluding every study leaves nothing to pool.
    let all: Vec<String> = std::fs::read_to_string(PRITZ)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().trim_matches('"').to_string())
        .collect();
    let mut args = vec!["pool".to_string(), PRITZ.to_string()];
    for s in &all {
        args.extend(["--exclude".to_string(), s.clone()]);
    }
    let r = metarepro(&args);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("no rows left") && r.stderr.contains("excluded by label"),
        "{}",
        r.stderr
    );
}

#[test]
fn row_filters_take_not_equal_and_several_values() {
    let caucasian = pool_json(DEBRUIN, &["--where", "ethnicity=caucasian"]);
    let not_other = pool_json(DEBRUIN, &["--where", "ethnicity!=other"]);
    assert_eq!(caucasian["overall"]["k"], 6);
    assert_eq!(fit(&caucasian), fit(&not_other));
    // A or B: every row here is one of the two.
    let both = pool_json(DEBRUIN, &["--where", "ethnicity=caucasian,other"]);
    let all = pool_json(DEBRUIN, &[]);
    assert_eq!(fit(&both), fit(&all));
    // Neither: none left, and the message says which filter and which values exist.
    let r = metarepro(&["pool", DEBRUIN, "--where", "ethnicity!=caucasian,other"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("no rows match the row filter ethnicity!=caucasian,other")
            && r.stderr.contains("\"caucasian\""),
        "{}",
        r.stderr
    );
    // Filters combine (all must hold) with exclusions.
    let two = pool_json(
        DEBRUIN,
        &[
            "--where",
            "ethnicity!=other",
            "--where",
            "select=yes,no",
            "--exclude",
            "Fairley et al.",
        ],
    );
    assert_eq!(two["overall"]["k"], 5);
    for bad in ["ethnicity", "=x", "ethnicity=a,,b"] {
        let r = metarepro(&["pool", DEBRUIN, "--where", bad]);
        assert_eq!(r.code, 2, "{bad}: {}", r.stderr);
        assert!(
            r.stderr.contains("a row filter is COL=VALUE, COL!=VALUE"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn diagnostics_and_figures_leave_the_excluded_study_out() {
    let dir = tempfile::tempdir().unwrap();
    let label = "Giannotta et al.";
    for cmd in ["leave1out", "cumul", "influence"] {
        let r = metarepro(&[cmd, PRITZ, "--exclude", label, "--format", "json"]);
        assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["k"], 13, "{cmd}");
        let studies: Vec<&str> = v["studies"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(!studies.contains(&label), "{cmd}: {studies:?}");
    }
    let svg = dir.path().join("f.svg");
    let r = metarepro(&[
        "forest".as_ref(),
        PRITZ.as_ref(),
        "--exclude".as_ref(),
        label.as_ref(),
        "--out".as_ref(),
        svg.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.contains("excluded by its study label"),
        "no footnote on the excluded study"
    );
    assert!(text.contains("Haraguchi") && !text.contains(">Giannotta et al.<"));
}

#[test]
fn analysis_files_take_exclude_and_the_report_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("datasets").join("x");
    std::fs::create_dir_all(&ds).unwrap();
    std::fs::copy(PRITZ, ds.join("studies.csv")).unwrap();
    let toml = "[[analysis]]\nname = \"sens\"\nexclude = [\"Giannotta et al.\"]\nmethod = \"DL\"\n";
    std::fs::write(ds.join("analysis.toml"), toml).unwrap();
    let d = metarepro::reproduce::read_analysis_file(&ds.join("analysis.toml"), "x").unwrap();
    let a = &d.spec.analyses[0];
    assert!(a
        .pool_args(&ds.join("studies.csv"))
        .join(" ")
        .contains("--exclude Giannotta et al."));
    let out = dir.path().join("out");
    let opts = metarepro::reproduce::RunOptions {
        figures: false,
        dpi: 72.0,
    };
    let done = metarepro::reproduce::run_analysis(&d, a, &out, &opts).unwrap();
    assert_eq!(done.result.overall.fit.k, 13);
    assert_eq!(done.excluded.len(), 1);
    let md = done
        .files
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .expect("a Markdown report");
    let text = std::fs::read_to_string(md).unwrap();
    assert!(
        text.contains("Rows left out (studies excluded by label, `exclude`):"),
        "{text}"
    );
    assert!(
        text.contains("row 1 (line 2)") && text.contains("Giannotta et al."),
        "{text}"
    );
    assert!(
        text.contains("without the excluded study \"Giannotta et al.\""),
        "{text}"
    );
    // Same as pool on the command line.
    let v = pool_json(PRITZ, &["--exclude", "Giannotta et al.", "--method", "DL"]);
    let json = done
        .files
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let r: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert_eq!(fit(&r), fit(&v));
}

/// The rows of a batch CSV output, each as its fields (the message column last).
fn batch_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// `batch FILE --analysis analysis --output OUT ARGS`.
fn batch(file: &Path, out: &Path, args: &[&str]) -> Run {
    let mut all: Vec<&std::ffi::OsStr> = vec!["batch".as_ref(), file.as_os_str()];
    all.extend([
        "--analysis".as_ref(),
        "analysis".as_ref(),
        "--output".as_ref(),
        out.as_os_str(),
    ]);
    all.extend(args.iter().map(std::ffi::OsStr::new));
    metarepro(&all)
}

const LONG: &str = "analysis,study,events,total,outcome\n\
                    a1,s1,16,17,x\na1,s2,,12,x\na1,s3,4,8,y\na1,s4,13,16,x\n\
                    b,s1,NA,4,x\nb,s2,3,10,y\n\
                    c,s1,3,20,x\nc,s2,8,25,x\n";

#[test]
fn batch_drops_missing_counts_and_reports_failures() {
    let dir = tempfile::tempdir().unwrap();
    let long = dir.path().join("long.csv");
    std::fs::write(&long, LONG).unwrap();
    let out = dir.path().join("out.csv");
    // Missing counts fail their analyses: exit 0 (one was pooled), and stderr says how many failed.
    let r = batch(&long, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("warning: 2 of 3 analyses could not be pooled"),
        "{}",
        r.stderr
    );
    let rows = batch_rows(&out);
    assert!(
        rows[0]
            .join(",")
            .contains("missing count (fill it in, or choose to drop rows"),
        "{rows:?}"
    );
    // Also with --quiet.
    let r = batch(&long, &out, &["--quiet"]);
    assert!(r.stderr.contains("2 of 3 analyses could not be pooled"), "{}", r.stderr);
    // --na drop: the rows are left out, listed with their lines, and each analysis equals pool
    // --na drop of its rows.
    let r = batch(&long, &out, &["--na", "drop"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("could not be pooled ("), "{}", r.stderr);
    assert!(
        r.stderr.contains("2 rows left out: 2 with a missing count (--na drop)")
            && r.stderr.contains("line 3 (analysis \"a1\"): missing \"events\"")
            && r.stderr.contains("line 6 (analysis \"b\"): missing \"events\""),
        "{}",
        r.stderr
    );
    let rows = batch_rows(&out);
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r[15] == "true"), "{rows:?}");
    let a1 = dir.path().join("a1.csv");
    std::fs::write(&a1, "study,events,total\ns1,16,17\ns2,,12\ns3,4,8\ns4,13,16\n").unwrap();
    let p = pool_json(a1.to_str().unwrap(), &["--na", "drop"]);
    assert_eq!(rows[0][2], "3");
    let est: f64 = rows[0][3].parse().unwrap();
    assert!((est - p["overall"]["estimate"].as_f64().unwrap()).abs() < 1e-12);
    // Every analysis failing: exit 4 (the computation-error code), and the count.
    let none = dir.path().join("none.csv");
    std::fs::write(&none, "analysis,events,total\nx,5,4\ny,,10\n").unwrap();
    let r = batch(&none, &out, &[]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("all 2 analyses failed"), "{}", r.stderr);
}

#[test]
fn batch_takes_row_filters_and_exclusions_as_pool_does() {
    let dir = tempfile::tempdir().unwrap();
    let long = dir.path().join("long.csv");
    std::fs::write(&long, LONG).unwrap();
    let out = dir.path().join("out.csv");
    // --where and --exclude equal batch on the table without those rows.
    let r = batch(
        &long,
        &out,
        &["--where", "outcome!=y", "--exclude", "s2", "--na", "drop"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("excluded by its study label \"s2\"") && r.stderr.contains("of excluded studies (--exclude)"),
        "{}",
        r.stderr
    );
    let reduced = dir.path().join("reduced.csv");
    std::fs::write(
        &reduced,
        "analysis,study,events,total,outcome\na1,s1,16,17,x\na1,s4,13,16,x\nb,s1,NA,4,x\nc,s1,3,20,x\n",
    )
    .unwrap();
    let out2 = dir.path().join("out2.csv");
    let r2 = batch(&reduced, &out2, &["--na", "drop"]);
    assert_eq!(r2.code, 0, "{}", r2.stderr);
    let (a, b) = (batch_rows(&out), batch_rows(&out2));
    assert_eq!(a.len(), 3);
    // Rows of a1 and c are the same fits; b's one row is left out in both (no rows left).
    assert_eq!(a[0], b[0]);
    assert_eq!(a[2], b[2]);
    assert!(
        a[1].join(",").contains("no rows left") && a[1][15] == "false",
        "{:?}",
        a[1]
    );
    // Several values.
    let r = batch(&long, &out, &["--where", "outcome=x,y", "--na", "drop"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(batch_rows(&out).len(), 3);
    // Errors name what is wrong and write nothing.
    for (args, needle) in [
        (
            &["--where", "outcome=z"][..],
            "no rows match the row filter outcome=z (column \"outcome\" has the values \"x\", \"y\")",
        ),
        (&["--exclude", "s9"], "no study labelled \"s9\""),
        (&["--where", "arm=1"], "no column \"arm\" (the column of a row filter)"),
        (
            &["--exclude", "s1", "--study", "label"],
            "no column \"label\" (the study-label column)",
        ),
    ] {
        let fresh = dir.path().join("fresh.csv");
        let r = batch(&long, &fresh, args);
        assert_eq!(r.code, 3, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
        assert!(!fresh.exists(), "{args:?}: an output was written");
    }
}
