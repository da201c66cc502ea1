//! `metarepro reproduce` (issue 5): runs every `datasets/*/analysis.toml` of a copied datasets
//! tree, writes the reports and figures, its JSON is byte for byte what `metarepro pool --format
//! json` prints for the same analysis (a consistency test: [`reports_equal_to_pool_consistency`]),
//! the numbers of its reports are R metafor's ([`reproduce_reports_match_metafor`], an independent
//! reference), and a bad `analysis.toml` is an error naming the file that does not stop the other
//! datasets. Also: every command of the README runs as shown ([`readme_commands_run_as_shown`];
//! in this test binary to save a link).

use std::path::{Path, PathBuf};

use assert_cmd::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn metarepro(args: &[&str]) -> Run {
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

/// A temporary root with copies of the shipped `datasets/<name>/{studies.csv,analysis.toml,claims.toml}`
/// (those that exist).
fn tree(datasets: &[&str]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temporary folder");
    for name in datasets {
        let dir = tmp.path().join("datasets").join(name);
        std::fs::create_dir_all(&dir).expect("create dataset folder");
        for f in ["studies.csv", "analysis.toml", "claims.toml"] {
            let src = Path::new("datasets").join(name).join(f);
            if src.is_file() {
                std::fs::copy(&src, dir.join(f)).expect("copy dataset file");
            }
        }
    }
    tmp
}

fn s(p: &Path) -> String {
    p.to_str().expect("UTF-8 path").to_string()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `metarepro pool <data> <args> --format <format>` must succeed; its standard output.
fn pool(data: &Path, args: &[&str], format: &str) -> String {
    let d = s(data);
    let mut all = vec!["pool", d.as_str()];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", format]);
    let r = metarepro(&all);
    assert_eq!(r.code, 0, "pool {all:?}: {}", r.stderr);
    r.stdout
}

/// A consistency test, not a correctness test: `reproduce` and `pool`/`verify` are the same code
/// reached along two paths, so this checks that `reproduce` passes each analysis's options (and
/// the dataset's labels) through, writes every report and figure, and summarises what ran.
/// Whether the numbers are right is checked against independent references elsewhere: the reports
/// of `reproduce` against R metafor in [`reproduce_reports_match_metafor`], `pool --format json`
/// in `tests/it/metafor_fixtures.rs` (`pool_cli_json_matches_metafor`), `verify --search` against
/// metafor's numbers in `src/verify/tests.rs`.
#[test]
fn reports_equal_to_pool_consistency() {
    let tmp = tree(&["rpild_treatment", "pritz1997", "wang2023"]);
    let root = tmp.path();
    let r = metarepro(&["reproduce", "--root", &s(root)]);
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(!r.stderr.contains("error"), "{}", r.stderr);

    // The summary table: one line per analysis.
    for name in [
        "remission_by_class",
        "survival_6m_by_class",
        "improvement_plo",
        "improvement_pr",
    ] {
        let line = r
            .stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap_or_else(|| panic!("no summary line for {name}:\n{}", r.stdout));
        assert!(line.trim_end().ends_with("ok"), "{line}");
    }
    assert!(r.stdout.contains("of 11 analyses ran"), "{}", r.stdout);

    assert!(root.join("reports/README.md").is_file());
    let reports = root.join("reports/rpild_treatment");
    for ext in ["json", "csv", "md"] {
        assert!(reports.join(format!("remission_by_class.{ext}")).is_file(), "{ext}");
    }
    for ext in ["svg", "png"] {
        let f = root.join(format!("figures/rpild_treatment_remission_by_class.{ext}"));
        assert!(
            std::fs::metadata(&f).map(|m| m.len() > 1000).unwrap_or(false),
            "{}",
            f.display()
        );
    }
    assert!(root.join("reports/pritz1997/improvement_pr.json").is_file());

    // The claims file is verified, as `metarepro verify --search` does it.
    let claims = root.join("datasets/wang2023/claims.toml");
    let r_verify = metarepro(&["verify", &s(&claims), "--search", "--format", "json"]);
    assert_eq!(r_verify.code, 0, "{}", r_verify.stderr);
    assert_eq!(read(&root.join("reports/wang2023/verification.json")), r_verify.stdout);
    assert!(read(&root.join("reports/wang2023/verification.md")).contains("58.4"));
    assert!(r.stdout.contains("wang2023/claims.toml"), "{}", r.stdout);
    assert!(r.stdout.contains("1 of 1 claims files verified"), "{}", r.stdout);

    // JSON and CSV: exactly `metarepro pool` with the analysis's options, the dataset's
    // `[labels]` included (issue 13).
    let rpild = root.join("datasets/rpild_treatment/studies.csv");
    let labels = [
        "--labels",
        "biologics=Biologics",
        "--labels",
        "cdmards=cDMARDs",
        "--labels",
        "ivig=IVIG",
        "--labels",
        "multi_modality=Multi-modality",
        "--labels",
        "other=Other regimens",
        "--labels",
        "plasma_exchange=Plasma exchange",
        "--labels",
        "triple_therapy=Triple therapy",
    ];
    let mut remission = vec![
        "--where",
        "outcome=remission",
        "--where",
        "primary=yes",
        "--by",
        "treatment_class",
        "--na",
        "drop",
    ];
    remission.extend_from_slice(&labels);
    let json = read(&reports.join("remission_by_class.json"));
    assert!(json.contains("\"name\": \"cdmards\"") && json.contains("\"label\": \"cDMARDs\""));
    assert_eq!(json, pool(&rpild, &remission, "json"));
    assert_eq!(
        read(&reports.join("remission_by_class.csv")),
        pool(&rpild, &remission, "csv")
    );
    let mut pft = vec![
        "--where",
        "outcome=survival_6m",
        "--where",
        "primary=yes",
        "--by",
        "treatment_class",
        "--na",
        "drop",
        "--measure",
        "PFT",
        "--method",
        "DL",
    ];
    pft.extend_from_slice(&labels);
    assert_eq!(
        read(&reports.join("survival_6m_by_class_pft_dl.json")),
        pool(&rpild, &pft, "json")
    );
    let pritz = root.join("datasets/pritz1997/studies.csv");
    assert_eq!(
        read(&root.join("reports/pritz1997/improvement_pr.json")),
        pool(&pritz, &["--measure", "PR"], "json")
    );

    // The Markdown summary: a row per subgroup, the subgroup test, the rows left out.
    let md = read(&reports.join("remission_by_class.md"));
    for want in [
        "| cDMARDs | 3 | 31/43 |",
        "### Triple therapy",
        "| **overall** | 7 | 79/112 |",
        "Test for subgroup differences",
        "Ge 2021",
        "metarepro pool datasets/rpild_treatment/studies.csv --where outcome=remission",
    ] {
        assert!(md.contains(want), "{want:?} not in:\n{md}");
    }

    // The figure names the classes by their labels.
    let svg = read(&root.join("figures/rpild_treatment_remission_by_class.svg"));
    // plotters writes each text on its own line between the tags.
    let texts: Vec<&str> = svg.lines().map(str::trim).collect();
    for want in ["cDMARDs", "Plasma exchange", "Triple therapy"] {
        assert!(texts.contains(&want), "{want} not in the figure");
    }
    assert!(!texts.contains(&"cdmards") && !texts.contains(&"plasma_exchange"));

    // Running again overwrites in place; --no-figures and a dataset filter.
    let out = tempfile::tempdir().expect("temporary folder");
    let r = metarepro(&[
        "reproduce",
        "pritz1997",
        "--root",
        &s(root),
        "--out",
        &s(out.path()),
        "--no-figures",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(out.path().join("reports/pritz1997/improvement_plo.md").is_file());
    assert!(!out.path().join("reports/rpild_treatment").exists());
    assert!(!out.path().join("figures").exists());
}

/// The reports `reproduce` writes for `datasets/pritz1997` (metadat dat.pritz1997; the PLO and
/// PR random-effects models of the metadat help page) carry R metafor's numbers: the JSON and
/// the CSV to 1e-6 relative (1e-10 absolute), the Markdown table as metafor's values rounded. metafor's
/// values are the committed fixture `tests/fixtures/pool/pritz1997.json` (metafor 3.8.1, REML,
/// z, add = 0.5 to studies with 0 or all events, as the analyses state).
#[test]
fn reproduce_reports_match_metafor() {
    let tmp = tree(&["pritz1997"]);
    let out = tempfile::tempdir().expect("temporary folder");
    let r = metarepro(&[
        "reproduce",
        "pritz1997",
        "--root",
        &s(tmp.path()),
        "--out",
        &s(out.path()),
        "--no-figures",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let fx: serde_json::Value =
        serde_json::from_str(&read(Path::new("tests/fixtures/pool/pritz1997.json"))).expect("fixture JSON");
    let num = |v: &serde_json::Value, what: &str| v.as_f64().unwrap_or_else(|| panic!("{what}: not a number: {v}"));
    let mut compared = 0;
    for (analysis, measure) in [("improvement_plo", "PLO"), ("improvement_pr", "PR")] {
        let case = fx["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .find(|c| {
                c["measure"] == measure
                    && c["method"] == "REML"
                    && c["test"] == "z"
                    && c["add"] == 0.5
                    && c["to"] == "only0"
            })
            .expect("metafor's fit");
        let m = &case["overall"];
        let dir = out.path().join("reports/pritz1997");
        let json: serde_json::Value =
            serde_json::from_str(&read(&dir.join(format!("{analysis}.json")))).expect("report JSON");
        let o = &json["overall"];
        for key in [
            "k",
            "estimate",
            "se",
            "zval",
            "ci_lb",
            "ci_ub",
            "pval",
            "pi_lb",
            "pi_ub",
            "tau2",
            "tau2_ci_lb",
            "tau2_ci_ub",
            "I2",
            "I2_ci_lb",
            "I2_ci_ub",
            "H2",
            "Q",
            "Q_df",
            "Q_p",
        ] {
            let what = format!("{analysis} overall.{key}");
            let (ours, theirs) = (num(&o[key], &what), num(&m[key], &what));
            assert!(
                (ours - theirs).abs() <= 1e-10 || (ours - theirs).abs() <= 1e-6 * theirs.abs(),
                "{what}: report {ours:e}, metafor {theirs:e}"
            );
            compared += 1;
        }
        for key in ["estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub"] {
            let what = format!("{analysis} overall.proportion.{key}");
            let (ours, theirs) = (num(&o["proportion"][key], &what), num(&m["proportion"][key], &what));
            assert!(
                (ours - theirs).abs() <= 1e-10 || (ours - theirs).abs() <= 1e-6 * theirs.abs(),
                "{what}: report {ours:e}, metafor {theirs:e}"
            );
            compared += 1;
        }
        // The CSV's overall row, by its header.
        let csv = read(&dir.join(format!("{analysis}.csv")));
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().expect("CSV header").split(',').collect();
        let row: Vec<&str> = lines
            .find(|l| l.starts_with("overall,"))
            .expect("CSV overall row")
            .split(',')
            .collect();
        assert_eq!(header.len(), row.len(), "{analysis}: CSV columns");
        for (col, value) in header.iter().zip(&row).skip(1) {
            let theirs = match *col {
                "events" | "total" => continue,
                "proportion" => &m["proportion"]["estimate"],
                c if c.starts_with("proportion_") => &m["proportion"][&c["proportion_".len()..]],
                c => &m[c],
            };
            let what = format!("{analysis}.csv {col}");
            let ours: f64 = value.parse().unwrap_or_else(|_| panic!("{what}: {value:?}"));
            let theirs = num(theirs, &what);
            assert!(
                (ours - theirs).abs() <= 1e-10 || (ours - theirs).abs() <= 1e-6 * theirs.abs(),
                "{what}: report {ours:e}, metafor {theirs:e}"
            );
            compared += 1;
        }
        // The Markdown row: proportion, CI and PI in % at one decimal, I² at one decimal; limits
        // outside [0%, 100%] shown truncated there, the model's limit in a note.
        let md = read(&dir.join(format!("{analysis}.md")));
        let p = |key: &str| format!("{:.1}", 100.0 * num(&m["proportion"][key], key).clamp(0.0, 1.0));
        let pi_ub = num(&m["proportion"]["pi_ub"], "pi_ub");
        let note = format!(
            "Note: Random effects model: PI truncated to [0%, 100%]; the model's 95% PI is [{:.1}; {:.1}].",
            100.0 * num(&m["proportion"]["pi_lb"], "pi_lb"),
            100.0 * pi_ub
        );
        assert_eq!(md.contains(&note), pi_ub > 1.0, "{analysis}: {note:?} in:\n{md}");
        if measure == "PR" {
            assert!(pi_ub > 1.0, "metafor's PR PI of pritz1997 reaches past 100%");
        }
        let row = format!(
            "| {} | [{}; {}] | [{}; {}] |",
            p("estimate"),
            p("ci_lb"),
            p("ci_ub"),
            p("pi_lb"),
            p("pi_ub")
        );
        assert!(
            md.contains(&row),
            "{analysis}: {row:?} (metafor, rounded) not in:\n{md}"
        );
        let i2 = format!("| {:.1} |", num(&m["I2"], "I2"));
        let overall_row = md
            .lines()
            .find(|l| l.starts_with("| **overall** |"))
            .expect("overall row");
        assert!(overall_row.contains(&i2), "{analysis}: I² {i2} not in {overall_row}");
    }
    // Per analysis: 19 + 5 values of the JSON, 23 columns of the CSV (all but the name and the
    // sums of events and totals).
    assert_eq!(compared, 94);

    // The small-study section of the PLO report (k = 14), against metafor's regtest, ranktest and
    // trimfill on the same data (tests/fixtures/bias/pritz1997.json), at the printed digits.
    let bx: serde_json::Value =
        serde_json::from_str(&read(Path::new("tests/fixtures/bias/pritz1997.json"))).expect("bias fixture");
    let case = bx["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["method"] == "REML" && c["test"] == "z")
        .expect("REML z case");
    let egger = case["regtest"]
        .as_array()
        .expect("regtest")
        .iter()
        .find(|r| r["model"] == "rma" && r["predictor"] == "sei")
        .expect("regtest sei rma");
    let tf = case["trimfill"]
        .as_array()
        .expect("trimfill")
        .iter()
        .find(|t| t["estimator"] == "L0" && t["side_given"].is_null())
        .expect("trimfill L0");
    let expit = |x: f64| 100.0 / (1.0 + (-x).exp());
    let md = read(&out.path().join("reports/pritz1997/improvement_plo.md"));
    let expected = [
        format!(
            "- Egger's regression test (predictor: standard error; model: REML, z-test): z = {:.2}, p = {:.3}.",
            num(&egger["zval"], "zval"),
            num(&egger["pval"], "pval")
        ),
        format!(
            "- Begg and Mazumdar's rank correlation: Kendall's tau = {:.3}, p = {:.3} (exact).",
            num(&bx["ranktest"]["tau"], "tau"),
            num(&bx["ranktest"]["pval"], "pval")
        ),
        format!(
            "{} studies imputed; adjusted estimate {:.1}% [95% CI {:.1}; {:.1}].",
            num(&tf["k0"], "k0"),
            expit(num(&tf["estimate"], "estimate")),
            expit(num(&tf["ci_lb"], "ci_lb")),
            expit(num(&tf["ci_ub"], "ci_ub"))
        ),
    ];
    for line in expected {
        assert!(md.contains(&line), "{line:?} (metafor, rounded) not in:\n{md}");
    }
    // Below 10 studies no test is shown, and the report says why (the shipped report).
    let small = read(Path::new("reports/rpild_treatment/remission_by_class.md"));
    assert!(
        small.contains("Not assessed: 7 studies (fewer than 10)") && !small.contains("Egger's regression test ("),
        "{small}"
    );
}

/// `Analysis::options` (the library's own reading of the keys) and the `metarepro pool` command
/// line the reports print for the analysis (`Analysis::pool_args`), parsed by the real CLI, give
/// the same load and model options (and published-CI level).
fn assert_same_as_pool_command_line(a: &metarepro::reproduce::Analysis, data: &Path, what: &str) -> usize {
    use clap::Parser;
    use metarepro::cli::{Cli, Command};
    let args = ["metarepro".to_string(), "pool".to_string()]
        .into_iter()
        .chain(a.pool_args(data));
    let cli = Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{what}: {e}"));
    let Command::Pool(cmd) = cli.command else {
        panic!("{what}: not the pool command")
    };
    let load = cmd.data.load_options().unwrap_or_else(|e| panic!("{what}: {e}"));
    let model = cmd.model.pool_options().unwrap_or_else(|e| panic!("{what}: {e}"));
    let (lib_load, lib_model) = a.options().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(lib_load, load, "{what}: load options");
    assert_eq!(lib_model, model, "{what}: model options");
    assert_eq!(
        a.ci_level().unwrap(),
        cmd.data.columns.ci_level().unwrap(),
        "{what}: published-CI level"
    );
    1
}

/// Every shipped analysis, and one that sets every key to something other than its default,
/// means what its printed `metarepro pool` command line means (a consistency test of two front
/// ends over one library resolution: `data::LoadSpec` and `model::ModelSpec`).
#[test]
fn analyses_resolve_as_their_pool_command_lines() {
    let found = metarepro::reproduce::discover(Path::new("."), &[]).expect("the datasets folder");
    let mut checked = 0;
    for d in found {
        let ds = d.analyses.unwrap_or_else(|e| panic!("{}: {e}", d.dataset));
        for a in &ds.spec.analyses {
            let what = format!("{}/{}", ds.dataset, a.name);
            checked += assert_same_as_pool_command_line(a, &ds.data_path(a), &what);
        }
    }
    assert!(checked >= 21, "{checked} shipped analyses: some are missing");

    let tmp = tempfile::tempdir().expect("temporary folder");
    let file = tmp.path().join("analysis.toml");
    let every_key = r#"
[labels]
a = " Alpha "
[[analysis]]
name = "every_key"
where = ["outcome=remission", "arm = x", "site!=a,b"]
exclude = ["Smith 2001", "Jones 2003"]
by = "g"
events = "e"
total = "n"
study = "s"
na = "drop"
delimiter = "tab"
measure = "RD"
method = "PM"
test = "knha"
level = 0.9
add = 0.25
to = "all"
study_ci = "WS"
pi = "k-2"
pft_mean = "geometric"
tau2_common = true
pooling = "MH"
ai = "c1"
bi = "c2"
ci = "c3"
di = "c4"
n1i = "c5"
n2i = "c6"
m1i = "c7"
sd1i = "c8"
m2i = "c9"
sd2i = "c10"
x1i = "c11"
t1i = "c12"
x2i = "c13"
t2i = "c14"
ri = "c15"
ni = "c16"
yi = "c17"
vi = "c18"
sei = "c19"
est = "c20"
ci_lb = "c21"
ci_ub = "c22"
level_column = "c23"
drop00 = false
vtype = "UB"
mh_add = 0.5
mh_drop00 = true
rd_variance = "GR"
rd_raw_estimate = true
cc_target = "tacc"
cc_variance_only = true
ci_level = 90
labels = { b = "Beta" }

[[analysis]]
name = "labels_without_by"
measure = "PETO"
pooling = "PETO"
delimiter = ";"
"#;
    std::fs::write(&file, every_key).expect("write analysis.toml");
    let ds = metarepro::reproduce::read_analysis_file(&file, "every_key").expect("a valid analysis file");
    for a in &ds.spec.analyses {
        assert_same_as_pool_command_line(a, &ds.data_path(a), &a.name);
    }
    let (load, model) = ds.spec.analyses[0].options().unwrap();
    assert_eq!(load.labels.get("a").map(String::as_str), Some("Alpha"));
    assert_eq!(load.delimiter, Some(b'\t'));
    assert!(model.tau2_common && !model.drop00 && !model.addyi && model.mh.rd_raw_estimate);
    assert!(
        model.mh.drop00_sums,
        "mh_drop00 = true leaves double-zero tables out of the M-H sums"
    );
    // The file's labels are not an error for an analysis without subgroups; they are unused.
    let (load, model) = ds.spec.analyses[1].options().unwrap();
    assert!(load.labels.is_empty() && model.drop00 && model.correction.add == 0.0);
}

#[test]
fn bad_analysis_file_is_named_and_others_still_run() {
    let tmp = tree(&["pritz1997"]);
    let root = tmp.path();
    let bad = |name: &str, toml: &str| -> PathBuf {
        let dir = root.join("datasets").join(name);
        std::fs::create_dir_all(&dir).expect("create folder");
        std::fs::copy("datasets/pritz1997/studies.csv", dir.join("studies.csv")).expect("copy");
        std::fs::write(dir.join("analysis.toml"), toml).expect("write analysis.toml");
        dir.join("analysis.toml")
    };
    // Broken TOML, an unknown key, an unknown method, and an analysis whose column is missing.
    bad("a_syntax", "[[analysis]]\nname = \"x\nmeasure = \"PLO\"\n");
    bad("b_key", "[[analysis]]\nname = \"x\"\nmesure = \"PLO\"\n");
    bad("c_method", "[[analysis]]\nname = \"x\"\nmethod = \"XYZ\"\n");
    bad(
        "d_column",
        "[[analysis]]\nname = \"bad_by\"\nby = \"no_such_column\"\n\n[[analysis]]\nname = \"fine\"\n",
    );

    // A claims file that is not TOML: its verification fails, naming it.
    let claims_dir = root.join("datasets").join("e_claims");
    std::fs::create_dir_all(&claims_dir).expect("create folder");
    std::fs::write(claims_dir.join("claims.toml"), "[paper\ncitation = 1\n").expect("write claims.toml");

    let r = metarepro(&["reproduce", "--root", &s(root), "--no-figures"]);
    assert_eq!(r.code, 3, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    let sep = std::path::MAIN_SEPARATOR;
    let file = |d: &str| match d {
        "e_claims" => format!("{d}{sep}claims.toml"),
        _ => format!("{d}{sep}analysis.toml"),
    };
    for (dataset, want) in [
        ("a_syntax", "invalid analysis file"),
        ("b_key", "mesure"),
        ("c_method", "unknown method \"XYZ\""),
        ("e_claims", "e_claims"),
    ] {
        let line = r
            .stderr
            .lines()
            .find(|l| l.contains(&file(dataset)))
            .unwrap_or_else(|| panic!("no error naming {dataset}/analysis.toml:\n{}", r.stderr));
        assert!(line.starts_with("error: "), "{line}");
        assert!(r.stderr.contains(want), "{want:?} not in:\n{}", r.stderr);
    }
    assert!(r.stderr.contains("no_such_column"), "{}", r.stderr);
    assert!(r.stderr.contains("5 of 8 runs failed"), "{}", r.stderr);
    // The good analyses ran and were written.
    assert!(root.join("reports/pritz1997/improvement_plo.json").is_file());
    assert!(root.join("reports/d_column/fine.json").is_file());
    assert!(!root.join("reports/d_column/bad_by.json").exists());
    assert!(r.stdout.contains("FAILED"), "{}", r.stdout);

    // Nothing to run is a usage error.
    let empty = tempfile::tempdir().expect("temporary folder");
    std::fs::create_dir(empty.path().join("datasets")).expect("create folder");
    let r = metarepro(&["reproduce", "--root", &s(empty.path())]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("analysis.toml"), "{}", r.stderr);
    // An unknown dataset name is a usage error listing the datasets.
    let r = metarepro(&["reproduce", "nope", "--root", &s(root)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("pritz1997"), "{}", r.stderr);
}

/// The values of `column` in a study table (`None` for an empty cell).
fn column(frame: &metarepro::data::Table, file: &Path, column: &str) -> Vec<Option<String>> {
    metarepro::data::column_text(&frame.frame, file, column, "test")
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// Issue 16: rows that share a `cohort` label may share patients, so no shipped analysis may pool
/// two of them. Every `analysis.toml` is read and its rows selected by the library's own loader
/// (the `where` filters and `na = "drop"` of `metarepro pool`), exactly as `reproduce` runs it.
#[test]
fn no_shipped_analysis_pools_one_cohort_twice() {
    let found = metarepro::reproduce::discover(Path::new("."), &[]).expect("the datasets folder");
    let mut checked = Vec::new();
    for d in found {
        let ds = d.analyses.unwrap_or_else(|e| panic!("{}: {e}", d.dataset));
        for a in &ds.spec.analyses {
            let data = ds.data_path(a);
            let (load, options) = a.options().unwrap_or_else(|e| panic!("{}/{}: {e}", ds.dataset, a.name));
            let studies = metarepro::data::load_for(&data, &load, options.measure.input_kind(), a.ci_level().unwrap())
                .unwrap_or_else(|e| panic!("{}/{}: {e}", ds.dataset, a.name));
            let Ok(cohorts) = metarepro::data::column_text(&studies.frame, &data, "cohort", "test") else {
                continue; // a dataset without overlapping patient groups
            };
            assert_eq!(cohorts.len(), studies.rows.len(), "{}/{}", ds.dataset, a.name);
            let mut seen: Vec<(&str, usize)> = Vec::new();
            for (c, &row) in cohorts.iter().zip(&studies.rows) {
                let c = c
                    .as_deref()
                    .unwrap_or_else(|| panic!("{}/{}: row {row} has no cohort", ds.dataset, a.name));
                if let Some((_, first)) = seen.iter().find(|(s, _)| *s == c) {
                    panic!(
                        "{}/{}: rows {first} and {row} are both cohort \"{c}\" (the same patients pooled twice)",
                        ds.dataset, a.name
                    );
                }
                seen.push((c, row));
            }
            checked.push(format!("{}/{}", ds.dataset, a.name));
        }
    }
    for name in [
        "remission_by_class",
        "remission_objective_by_class",
        "survival_6m_by_class",
        "survival_6m_whole_cohort_by_class",
        "survival_6m_tsuji_by_class",
        "survival_1y_by_class",
        "survival_1y_whole_cohort_by_class",
    ] {
        let want = format!("rpild_treatment/{name}");
        assert!(checked.contains(&want), "{want} was not checked: {checked:?}");
    }
}

/// Issue 16: the columns added to `rpild_treatment/studies.csv` after the audit hold only their
/// documented values, and each analysis set (`primary`, `sens_whole_cohort`, `sens_tsuji`) has at
/// most one row per cohort and outcome, so any by-outcome pool of a set is free of double counts.
#[test]
fn rpild_audit_columns_are_well_formed() {
    let file = Path::new("datasets/rpild_treatment/studies.csv");
    let table = metarepro::data::read_table(file, None).expect("read the table");
    let names: Vec<String> = table.frame.get_column_names().iter().map(|s| s.to_string()).collect();
    let added = [
        "cohort",
        "remission_definition",
        "primary",
        "sens_whole_cohort",
        "sens_tsuji",
    ];
    assert_eq!(names[names.len() - added.len()..], added, "new columns must come last");
    let existing = [
        "study",
        "year",
        "pmid_or_doi",
        "treatment",
        "treatment_class",
        "outcome",
        "events",
        "total",
        "population",
        "design",
        "source_url",
        "source_quote",
        "derived",
        "note",
    ];
    assert_eq!(names.len(), existing.len() + added.len(), "{names:?}");
    assert_eq!(names[..existing.len()], existing, "existing columns keep their order");
    let outcome = column(&table, file, "outcome");
    let cohort = column(&table, file, "cohort");
    let definition = column(&table, file, "remission_definition");
    let definitions = [
        "radiological_functional",
        "symptomatic",
        "symptomatic_after_exclusion",
        "survival_equivalent",
        "undefined",
    ];
    for (i, (o, d)) in outcome.iter().zip(&definition).enumerate() {
        let row = i + 1;
        assert!(cohort[i].is_some(), "row {row}: no cohort");
        match (o.as_deref(), d.as_deref()) {
            (Some("remission"), Some(d)) => assert!(definitions.contains(&d), "row {row}: {d:?}"),
            (Some("remission"), None) => panic!("row {row}: remission without remission_definition"),
            (_, Some(d)) => panic!("row {row}: remission_definition {d:?} on a non-remission row"),
            (_, None) => {}
        }
    }
    for set in ["primary", "sens_whole_cohort", "sens_tsuji"] {
        let flags = column(&table, file, set);
        let mut seen: Vec<(&str, &str, usize)> = Vec::new();
        for (i, f) in flags.iter().enumerate() {
            let row = i + 1;
            match f.as_deref() {
                Some("yes") => {}
                Some("no") => continue,
                other => panic!("row {row}: {set} = {other:?}, expected yes or no"),
            }
            let (o, c) = (outcome[i].as_deref().unwrap_or(""), cohort[i].as_deref().unwrap_or(""));
            if let Some((_, _, first)) = seen.iter().find(|(so, sc, _)| *so == o && *sc == c) {
                panic!("{set}: rows {first} and {row} are both {o} of cohort \"{c}\"");
            }
            seen.push((o, c, row));
        }
    }
}
/// A directive for the command of the next ```sh block that starts with `lhs`:
/// `<!-- readme-test: LHS => RHS -->`, where RHS is `skip: REASON` or a command to run instead.
struct Marker {
    lhs: String,
    rhs: String,
    used: bool,
}

/// A command without its trailing comment, with single spaces.
fn normalise(cmd: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for c in cmd.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' && prev.is_whitespace() => break,
            None => {}
        }
        out.push(c);
        prev = c;
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The markers of a ```sh block and its commands, each with the README line it starts on.
type Block = (Vec<Marker>, Vec<(usize, String)>);

/// The ```sh blocks of `markdown`: for each, its markers and its commands (lines joined at a
/// trailing `\`; blank and comment-only lines left out), with the line each starts on.
fn sh_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut markers: Vec<Marker> = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let t = line.trim();
        if let Some(body) = t.strip_prefix("<!-- readme-test:") {
            let body = body
                .strip_suffix("-->")
                .unwrap_or_else(|| panic!("README line {}: unterminated marker", i + 1));
            let (lhs, rhs) = body.split_once("=>").unwrap_or_else(|| {
                panic!(
                    "README line {}: a marker is `<!-- readme-test: COMMAND => RHS -->`",
                    i + 1
                )
            });
            markers.push(Marker {
                lhs: normalise(lhs),
                rhs: rhs.trim().to_string(),
                used: false,
            });
            continue;
        }
        if !t.starts_with("```") {
            continue;
        }
        let sh = matches!(t, "```sh" | "```bash" | "```shell");
        assert!(
            sh || markers.is_empty(),
            "README line {}: readme-test markers must come right before a ```sh block",
            i + 1
        );
        let mut commands = Vec::new();
        let mut pending: Option<(usize, String)> = None;
        for (j, l) in lines.by_ref() {
            if l.trim_start().starts_with("```") {
                break;
            }
            if !sh {
                continue;
            }
            let (start, mut cmd) = pending.take().unwrap_or((j + 1, String::new()));
            match l.trim_end().strip_suffix('\\') {
                Some(head) => {
                    cmd.push_str(head);
                    cmd.push(' ');
                    pending = Some((start, cmd));
                }
                None => {
                    cmd.push_str(l);
                    if !normalise(&cmd).is_empty() {
                        commands.push((start, cmd));
                    }
                }
            }
        }
        assert!(pending.is_none(), "README: a ```sh block ends inside a continued line");
        if sh {
            blocks.push((std::mem::take(&mut markers), commands));
        }
    }
    assert!(
        markers.is_empty(),
        "README: readme-test markers after the last ```sh block"
    );
    blocks
}

/// Every command of the README's ```sh blocks, run as shown from a fresh clone's root: in a
/// temporary copy of `datasets/`, `figures/` and `reports/` (so that commands writing outputs do
/// not touch the repository), with `metarepro` on the PATH being the binary cargo built for these
/// tests. A command must exit with 0. A marker right before a block (an HTML comment, invisible on
/// the rendered page) may say how a command of it is run here:
/// `<!-- readme-test: cargo run --release -- reproduce => metarepro reproduce -->` runs the same
/// program built by `cargo test` instead of building a release binary, and
/// `<!-- readme-test: cargo test => skip: REASON -->` leaves a command out, printing it with the
/// reason. A marker that matches no command of its block fails the test, and so does a `cargo`
/// command without a marker.
#[test]
fn readme_commands_run_as_shown() {
    let readme = read(Path::new("README.md"));
    let blocks = sh_blocks(&readme);
    let tmp = tempfile::tempdir().expect("temporary folder");
    for dir in ["datasets", "figures", "reports", "tests/fixtures/revman"] {
        copy_tree(Path::new(dir), &tmp.path().join(dir));
    }
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_metarepro"));
    let bin_dir = bin.parent().expect("the binary's folder");
    let path = std::env::join_paths(
        std::iter::once(bin_dir.to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("PATH");
    let outputs = shown_outputs(&readme);
    let (mut ran, mut skipped, mut compared) = (0, 0, 0);
    for (mut markers, commands) in blocks {
        for (line, shown) in commands {
            let key = normalise(&shown);
            let marker = markers.iter_mut().find(|m| m.lhs == key);
            let cmd = match marker {
                Some(m) => {
                    m.used = true;
                    if let Some(reason) = m.rhs.strip_prefix("skip:") {
                        eprintln!("README line {line}: not run: {key} ({})", reason.trim());
                        skipped += 1;
                        continue;
                    }
                    m.rhs.clone()
                }
                None => shown.clone(),
            };
            assert!(
                !normalise(&cmd).starts_with("cargo "),
                "README line {line}: `{key}` needs a readme-test marker (see tests/it/reproduce.rs)"
            );
            let start = std::time::Instant::now();
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(&cmd)
                .current_dir(tmp.path())
                .env("PATH", &path)
                .output()
                .expect("run sh");
            eprintln!(
                "README line {line}: {} ({:.1} s)",
                normalise(&cmd),
                start.elapsed().as_secs_f64()
            );
            assert!(
                out.status.success(),
                "README line {line}: `{cmd}` exited with {}\nstdout: {}\nstderr: {}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            if let Some((_, shown_out)) = outputs.iter().find(|(l, _)| *l == line) {
                let stdout = String::from_utf8_lossy(&out.stdout);
                if let Err(e) = output_matches(shown_out, &stdout) {
                    panic!(
                        "README line {line}: the output shown after `{key}` is not what it prints: {e}\n\
                         printed:\n{stdout}"
                    );
                }
                compared += 1;
            }
            ran += 1;
        }
        if let Some(m) = markers.iter().find(|m| !m.used) {
            panic!("README: the marker for `{}` matches no command of its block", m.lhs);
        }
    }
    assert!(ran >= 5, "only {ran} README commands found");
    assert!(
        compared >= 4,
        "only {compared} README outputs compared with what the commands print"
    );
    eprintln!("README: {ran} commands run, {skipped} not run, {compared} outputs compared");
}

/// The output the README shows for a command: a ```sh block of one command followed (after
/// blank lines only) by a plain ``` block. The README line of the command and the shown lines.
fn shown_outputs(markdown: &str) -> Vec<(usize, Vec<String>)> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !matches!(lines[i].trim(), "```sh" | "```bash" | "```shell") {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < lines.len() && !lines[end].trim_start().starts_with("```") {
            end += 1;
        }
        let body: Vec<&str> = lines[start..end.min(lines.len())]
            .iter()
            .copied()
            .filter(|l| !normalise(l).is_empty())
            .collect();
        // One command (continued lines end in a backslash).
        let one = body.iter().filter(|l| !l.trim_end().ends_with('\\')).count() == 1;
        let first = (start..end).find(|&j| !normalise(lines[j]).is_empty());
        let mut j = end + 1;
        while j < lines.len() && lines[j].trim().is_empty() {
            j += 1;
        }
        if let (true, Some(first), Some("```")) = (one, first, lines.get(j).map(|l| l.trim())) {
            let mut k = j + 1;
            let mut shown = Vec::new();
            while k < lines.len() && !lines[k].trim_start().starts_with("```") {
                shown.push(lines[k].to_string());
                k += 1;
            }
            out.push((first + 1, shown));
            i = k + 1;
        } else {
            i = end + 1;
        }
    }
    out
}

/// Whether `printed` has every non-blank line of `shown`, in order, exactly (trailing spaces
/// aside); printed lines may come between them (a shown block may be an excerpt). `...` stands
/// for any text within a line, and a line that is only `...` for any lines.
fn output_matches(shown: &[String], printed: &str) -> Result<(), String> {
    let printed: Vec<&str> = printed.lines().map(str::trim_end).collect();
    let line_matches = |pat: &str, line: &str| {
        let pieces: Vec<&str> = pat.split("...").collect();
        if pieces.len() == 1 {
            return pat == line;
        }
        let (head, tail) = (pieces[0], pieces[pieces.len() - 1]);
        if !line.starts_with(head) || line.len() < head.len() + tail.len() || !line.ends_with(tail) {
            return false;
        }
        let mut rest = &line[head.len()..line.len() - tail.len()];
        for p in &pieces[1..pieces.len() - 1] {
            match rest.find(p) {
                Some(at) => rest = &rest[at + p.len()..],
                None => return false,
            }
        }
        true
    };
    let mut at = 0;
    for pat in shown.iter().map(|l| l.trim_end()) {
        if pat.trim().is_empty() || pat.trim() == "..." {
            continue;
        }
        match printed[at..].iter().position(|l| line_matches(pat, l)) {
            Some(p) => at += p + 1,
            None => return Err(format!("no printed line (after line {at}) reads {pat:?}")),
        }
    }
    Ok(())
}

#[test]
fn readme_outputs_are_parsed_and_compared() {
    let md = "```sh\nmetarepro pool a.csv \\\n  --by g\n```\n\n```\nQ = 1, p-val <0.0001\n...\nend ... done\n```\n\
              ```sh\nmetarepro a\nmetarepro b\n```\n```\nnot compared\n```\n";
    let got = shown_outputs(md);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, 2);
    assert_eq!(got[0].1, vec!["Q = 1, p-val <0.0001", "...", "end ... done"]);
    assert!(output_matches(&got[0].1, "head\nQ = 1, p-val <0.0001\nx\nend of it: done\n").is_ok());
    // The README's old text: a space the program does not print.
    let old = vec!["Q = 1, p-val < 0.0001".to_string()];
    assert!(output_matches(&old, "Q = 1, p-val <0.0001\n").is_err());
    assert!(output_matches(&["a".into(), "b".into()], "b\na\n").is_err());
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for e in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let e = e.expect("folder entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("file type").is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy file");
        }
    }
}

#[test]
fn readme_blocks_are_parsed() {
    let md = "x\n<!-- readme-test: cargo test => skip: the suite itself -->\n```sh\ncargo test   # tests\n\
              metarepro forest a.csv --where x=1 \\\n  --out f.svg\n\n# a comment\n```\n```\nnot a command\n```\n";
    let blocks = sh_blocks(md);
    assert_eq!(blocks.len(), 1);
    let (markers, commands) = &blocks[0];
    assert_eq!(markers.len(), 1);
    assert_eq!(
        (markers[0].lhs.as_str(), markers[0].rhs.as_str()),
        ("cargo test", "skip: the suite itself")
    );
    let shown: Vec<(usize, String)> = commands.iter().map(|(l, c)| (*l, normalise(c))).collect();
    assert_eq!(
        shown,
        vec![
            (4, "cargo test".to_string()),
            (5, "metarepro forest a.csv --where x=1 --out f.svg".to_string())
        ]
    );
    assert_eq!(normalise("a 'b # c' # d"), "a 'b # c'");
}

/// The resolution recorded in a PNG's pHYs chunk, in dots per inch (rounded).
fn png_dpi(png: &[u8]) -> Option<f64> {
    let mut at = 8;
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().ok()?) as usize;
        let kind = &png[at + 4..at + 8];
        let data = png.get(at + 8..at + 8 + len)?;
        if kind == b"pHYs" && data.len() == 9 && data[8] == 1 {
            let ppm = u32::from_be_bytes(data[0..4].try_into().ok()?) as f64;
            return Some((ppm * 0.0254).round());
        }
        at += 12 + len;
    }
    None
}

/// The number README.md quotes right before `after` (e.g. "300" in "default to 300 dpi"), found
/// after the first occurrence of `context`.
fn readme_number(readme: &str, context: &str, after: &str) -> f64 {
    let from = readme
        .find(context)
        .unwrap_or_else(|| panic!("README.md no longer says {context:?}"));
    let rest = &readme[from..];
    let end = rest
        .find(after)
        .unwrap_or_else(|| panic!("README.md: no {after:?} after {context:?}"));
    let head = rest[..end].trim_end();
    let digits: String = head
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("README.md: no number before {after:?} after {context:?}"))
}

/// The resolutions README.md states are the ones the program writes: `forest`'s default (a PNG
/// drawn now) and `reproduce`'s (the shipped figures).
#[test]
fn readme_dpi_is_what_the_program_writes() {
    let readme = read(Path::new("README.md"));
    let forest_dpi = readme_number(&readme, "PNGs from `forest` default to", " dpi");
    let reproduce_dpi = readme_number(&readme, "`reproduce` draws the shipped", " dpi");
    let tmp = tempfile::tempdir().expect("temporary folder");
    let out = tmp.path().join("f.png");
    let r = metarepro(&["forest", "datasets/pritz1997/studies.csv", "--out", &s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let png = std::fs::read(&out).expect("the PNG");
    assert_eq!(png_dpi(&png), Some(forest_dpi), "forest's default resolution");
    let shipped = std::fs::read("figures/pritz1997_improvement_plo.png").expect("a shipped figure");
    assert_eq!(
        png_dpi(&shipped),
        Some(reproduce_dpi),
        "the shipped figures' resolution"
    );
    let t = tree(&["pritz1997"]);
    let r = metarepro(&["reproduce", "--root", &s(t.path()), "pritz1997"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let fresh = std::fs::read(t.path().join("figures/pritz1997_improvement_plo.png")).expect("reproduce's PNG");
    assert_eq!(png_dpi(&fresh), Some(reproduce_dpi), "reproduce's resolution");
}

/// A folder holding only scripts (`datasets/metadat/`) is not offered as a dataset.
#[test]
fn only_folders_with_analyses_or_claims_are_datasets() {
    let r = metarepro(&["reproduce", "no_such_dataset"]);
    assert_ne!(r.code, 0);
    let list = r
        .stderr
        .split("the datasets are: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no list of datasets in {:?}", r.stderr));
    let names: Vec<&str> = list.trim().split(", ").collect();
    assert!(
        names.contains(&"pritz1997") && names.contains(&"barba2019"),
        "{names:?}"
    );
    assert!(!names.contains(&"metadat"), "{names:?}");
    for n in names {
        let d = Path::new("datasets").join(n);
        assert!(
            d.join("analysis.toml").is_file() || d.join("claims.toml").is_file(),
            "{n} is offered but has neither file"
        );
    }
}

/// The studies of a Markdown report's `## Studies` tables, in order.
fn report_studies(md: &str) -> Vec<String> {
    let at = md.find("## Studies").expect("a Studies section");
    md[at..]
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| study "))
        .map(|l| l.split('|').nth(1).unwrap_or("").trim().to_string())
        .collect()
}

/// The study labels of a forest plot SVG in drawing order (top to bottom): the texts that are
/// also a report's study names.
fn figure_studies(svg: &str, names: &[String]) -> Vec<String> {
    svg.lines()
        .map(str::trim)
        .filter(|l| names.iter().any(|n| n == l))
        .map(str::to_string)
        .collect()
}

/// `reproduce`: the report lists the studies in the figure's order and says which order it is;
/// the figure says which weights it shows and the report shows both; the figure names the
/// model and, for two-group data too, the rows left out for missing counts.
#[test]
fn reproduce_figure_and_report_agree() {
    let t = tree(&["rpild_treatment", "rpild_comparative"]);
    let r = metarepro(&[
        "reproduce",
        "--root",
        &s(t.path()),
        "--no-verify",
        "rpild_treatment",
        "rpild_comparative",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let root = t.path();
    let md = read(&root.join("reports/rpild_treatment/survival_6m_by_class.md"));
    let svg = read(&root.join("figures/rpild_treatment_survival_6m_by_class.svg"));
    assert!(md.contains("Studies in order of year (column `year`"), "{md}");
    let in_report = report_studies(&md);
    assert!(in_report.len() >= 5, "{in_report:?}");
    assert_eq!(figure_studies(&svg, &in_report), in_report, "figure and report order");
    // So 2018 (4/4) comes before Fan 2022 in the biologics block: by year, not by row.
    let so = in_report.iter().position(|s| s == "So 2018").expect("So 2018");
    assert_eq!(in_report[so + 1], "Fan 2022");
    // Weights: the figure's are the overall ones, and the report shows them beside the
    // within-subgroup ones.
    assert!(svg.contains("Weight (overall)"), "header");
    assert!(md.contains("| weight in subgroup % | overall weight % |"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&read(&root.join("reports/rpild_treatment/survival_6m_by_class.json"))).unwrap();
    for st in json["studies"].as_array().unwrap() {
        let w = metarepro::report::fmt_num(st["weight_overall"].as_f64().unwrap(), 1);
        assert!(svg.contains(&format!("{w}%")), "figure: overall weight {w}%");
        let row = md
            .lines()
            .find(|l| l.starts_with(&format!("| {} | {} |", st["study"].as_str().unwrap(), st["row"])))
            .expect("the study's report row");
        assert!(row.ends_with(&format!(" {w} |")), "{row}");
    }
    assert!(
        svg.contains("Random effects, REML; logit scale; z-test; 95% CI"),
        "model line"
    );
    // Two-group figure: the rows dropped for missing counts, as in the report.
    let md = read(&root.join("reports/rpild_comparative/tof_mortality_main_mh.md"));
    let svg = read(&root.join("figures/rpild_comparative_tof_mortality_main_mh.svg"));
    assert!(md.contains("- row 7:"), "{md}");
    assert!(
        svg.contains("Left out of the data: row 7 (missing"),
        "two-group figure footnote"
    );
    let in_report = report_studies(&md);
    assert_eq!(figure_studies(&svg, &in_report), in_report, "two-group order");
}
