//! Hardening of the input path (issue 7): every file under `tests/data/bad/` must give a clean
//! error — exit code 3 (input) or 2 (usage), a message naming the file, the line and row and the
//! column where there is one — and every file under `tests/data/good/` must pool to a sensible
//! number. Also: output files are written atomically (no file, no temporary left on error).
//!
//! One integration test binary on purpose (each extra one costs a link).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const BAD: &str = "tests/data/bad";
const GOOD: &str = "tests/data/good";

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

/// Pool a bad file: exit code `code`, one `error:` line, no panic, and every one of `expected`
/// in the message.
fn fails(file: &str, extra: &[&str], code: i32, expected: &[&str]) -> String {
    let path = format!("{BAD}/{file}");
    let mut args = vec!["pool", path.as_str()];
    args.extend_from_slice(extra);
    let r = metarepro(&args);
    assert_eq!(r.code, code, "{file}: exit code {} (stderr: {})", r.code, r.stderr);
    assert!(r.stdout.is_empty(), "{file}: printed a result: {}", r.stdout);
    assert!(r.stderr.starts_with("error: "), "{file}: {}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{file}: {}", r.stderr);
    assert!(!r.stderr.contains("internal error"), "{file}: {}", r.stderr);
    for e in expected {
        assert!(r.stderr.contains(e), "{file}: expected {e:?} in: {}", r.stderr);
    }
    r.stderr
}

/// An input error (exit 3) naming the file.
fn input_error(file: &str, extra: &[&str], expected: &[&str]) -> String {
    let name = Path::new(file).file_name().and_then(|n| n.to_str()).unwrap_or(file);
    let mut all = vec![name];
    all.extend_from_slice(expected);
    fails(file, extra, 3, &all)
}

/// Pool a good file as JSON: success, and the parsed result.
fn pools(dir: &str, file: &str, extra: &[&str]) -> (Value, Run) {
    let path = format!("{dir}/{file}");
    let mut args = vec!["pool", path.as_str(), "--format", "json"];
    args.extend_from_slice(extra);
    let r = metarepro(&args);
    assert_eq!(r.code, 0, "{file}: exit code {} (stderr: {})", r.code, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{file}: not JSON ({e}): {}", r.stdout));
    (v, r)
}

fn num(v: &Value, path: &[&str]) -> f64 {
    let mut x = v;
    for p in path {
        x = match p.parse::<usize>() {
            Ok(i) => &x[i],
            Err(_) => &x[*p],
        };
    }
    x.as_f64().unwrap_or_else(|| panic!("{path:?} is not a number: {x}"))
}

/// The pooled proportion, checked to be a proportion inside its CI.
fn proportion(v: &Value) -> f64 {
    let p = num(v, &["overall", "proportion", "estimate"]);
    let lb = num(v, &["overall", "proportion", "ci_lb"]);
    let ub = num(v, &["overall", "proportion", "ci_ub"]);
    assert!((0.0..=1.0).contains(&p), "proportion {p}");
    assert!(lb <= p && p <= ub, "CI [{lb}, {ub}] does not contain {p}");
    p
}

// ---------------------------------------------------------------------------------------------
// Item 2: input that must give an error.

#[test]
fn events_greater_than_total() {
    // The example of the issue, verbatim.
    let e = input_error("events_gt_total.csv", &[], &[]);
    assert!(
        e.contains("events_gt_total.csv: line 14 (row 13), column \"events\": 25 is greater than total (22)"),
        "{e}"
    );
}

#[test]
fn line_numbers_follow_multiline_fields_and_blank_lines() {
    // Row 2 starts on line 5: row 1's label spans lines 2-3 and line 4 is blank.
    input_error(
        "events_gt_total_after_multiline_label.csv",
        &[],
        &["line 5 (row 2), column \"events\": 40 is greater than total (31)"],
    );
}

#[test]
fn negative_count() {
    input_error(
        "negative_count.csv",
        &[],
        &["line 3 (row 2), column \"events\"", "-3", "negative"],
    );
}

#[test]
fn fractional_count() {
    input_error(
        "fractional_count.csv",
        &[],
        &[
            "line 3 (row 2), column \"events\"",
            "4.5 is not a whole number",
            "expected",
        ],
    );
}

#[test]
fn non_numeric_count() {
    input_error(
        "non_numeric_count.csv",
        &[],
        &[
            "line 3 (row 2), column \"total\"",
            "\"thirty-one\" is not a number",
            "expected",
        ],
    );
}

#[test]
fn nan_count() {
    input_error(
        "nan_count.csv",
        &[],
        &["line 3 (row 2), column \"events\"", "NaN", "not a count"],
    );
}

#[test]
fn infinite_count() {
    input_error(
        "infinite_count.csv",
        &[],
        &["line 3 (row 2), column \"total\"", "inf", "infinite"],
    );
}

#[test]
fn overflowing_count() {
    input_error(
        "overflowing_count.csv",
        &[],
        &[
            "line 3 (row 2), column \"total\"",
            "99999999999999999999999",
            "too large",
        ],
    );
}

#[test]
fn scientific_notation_count() {
    // Excel displays large numbers rounded as 1.2E+05: never accept such a value.
    input_error(
        "scientific_notation.csv",
        &[],
        &["line 3 (row 2), column \"total\"", "1.2E+05", "scientific notation"],
    );
}

#[test]
fn total_zero() {
    input_error(
        "total_zero.csv",
        &[],
        &["line 3 (row 2), column \"total\"", "0 is not a valid total"],
    );
}

#[test]
fn missing_required_column() {
    input_error(
        "missing_column.csv",
        &[],
        &[
            "no column \"total\"",
            "the file has the columns \"study\", \"events\", \"n\"",
        ],
    );
    // With --total naming a column that differs in case only: a hint.
    input_error(
        "missing_column.csv",
        &["--total", "N"],
        &["no column \"N\"", "did you mean \"n\"?"],
    );
}

#[test]
fn unknown_by_column() {
    input_error(
        "unknown_by_column.csv",
        &["--by", "region"],
        &["no column \"region\"", "the subgroup column", "\"group\""],
    );
}

#[test]
fn unknown_where_column() {
    input_error(
        "unknown_where_column.csv",
        &["--where", "endpoint=remission"],
        &["no column \"endpoint\"", "the column of a row filter", "\"outcome\""],
    );
}

#[test]
fn where_value_matching_no_row() {
    input_error(
        "no_matching_where.csv",
        &["--where", "outcome=remision"],
        &[
            "no rows match the row filter outcome=remision",
            "\"remission\", \"response\"",
        ],
    );
}

#[test]
fn empty_file() {
    input_error("empty.csv", &[], &["empty"]);
    input_error("blank_lines_only.csv", &[], &["empty"]);
}

#[test]
fn header_only() {
    input_error("header_only.csv", &[], &["no data rows", "only a header"]);
}

#[test]
fn ragged_rows() {
    input_error(
        "ragged_row_long.csv",
        &[],
        &["line 3 (row 2): 4 fields, but the header has 3 columns"],
    );
    input_error(
        "ragged_row_short.csv",
        &[],
        &[
            "line 3 (row 2): 2 fields, but the header has 3 columns",
            "no value for \"total\"",
        ],
    );
}

#[test]
fn unterminated_quote() {
    input_error(
        "unterminated_quote.csv",
        &[],
        &["line 3", "never closed", "unterminated quote"],
    );
}

#[test]
fn text_after_closing_quote() {
    input_error(
        "text_after_closing_quote.csv",
        &[],
        &["line 3", "after the closing quote"],
    );
}

#[test]
fn duplicate_column_names() {
    input_error(
        "duplicate_columns.csv",
        &[],
        &["duplicate column name \"events\" (columns 2 and 4)"],
    );
}

#[test]
fn binary_garbage() {
    input_error("binary_garbage.csv", &[], &["not a text table"]);
    input_error("xlsx_workbook.csv", &[], &["Excel workbook", "CSV UTF-8"]);
}

#[test]
fn corrupt_or_truncated_parquet() {
    input_error("corrupt.parquet", &[], &["corrupt Parquet file"]);
    input_error("truncated.parquet", &[], &["truncated or corrupt Parquet file"]);
    input_error("not_parquet.parquet", &[], &["not a Parquet file"]);
}

#[test]
fn parquet_values_are_validated() {
    // A float column with a fraction: the same checks as for text, with the row (no line).
    input_error(
        "fractional_count.parquet",
        &[],
        &["row 2, column \"events\"", "4.5 is not a whole number"],
    );
}

#[test]
fn parquet_integers_beyond_2_53_are_refused() {
    input_error(
        "overflowing_count.parquet",
        &[],
        &["row 2, column \"total\"", "9007199254740993", "too large"],
    );
}

#[test]
fn file_without_header_row() {
    input_error(
        "no_header.csv",
        &[],
        &[
            "no column \"study\"",
            "\"Adams 2001\", \"4\", \"20\"",
            "needs a header row",
        ],
    );
}

#[test]
fn missing_file_and_folder() {
    input_error("does_not_exist.csv", &[], &["cannot open", "no such file"]);
    let r = metarepro(&["pool", BAD]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("is a folder"), "{}", r.stderr);
}

#[test]
fn unreadable_encodings() {
    input_error(
        "latin1_encoding.csv",
        &[],
        &["line 3", "not valid UTF-8", "Latin-1", "re-save"],
    );
    input_error("utf16_encoding.csv", &[], &["UTF-16", "re-save"]);
}

#[test]
fn missing_count_is_an_error_naming_the_row() {
    input_error(
        "missing_count.csv",
        &[],
        &["line 3 (row 2), column \"events\"", "empty cell", "na = drop"],
    );
}

#[test]
fn missing_subgroup() {
    input_error(
        "missing_subgroup.csv",
        &["--by", "group"],
        &["line 3 (row 2), column \"group\"", "subgroup is missing"],
    );
}

#[test]
fn decimal_comma_must_still_be_a_whole_count() {
    input_error(
        "fractional_decimal_comma.csv",
        &["--delimiter", ";"],
        &["line 3 (row 2), column \"events\"", "10.5 is not a whole number"],
    );
    // "1.500" with a decimal comma is a thousands separator or 1.5: refuse to guess.
    input_error(
        "thousands_separator.csv",
        &["--delimiter", ";"],
        &["line 3 (row 2), column \"total\"", "\"1.500\" is ambiguous"],
    );
}

#[test]
fn wrong_delimiter_gets_a_hint() {
    input_error(
        "wrong_delimiter.csv",
        &[],
        &["no column \"study\"", "semicolon-separated", "set the delimiter to ';'"],
    );
    // A decimal comma in a semicolon file read as comma-separated: a ragged row, with the hint.
    input_error(
        "fractional_decimal_comma.csv",
        &[],
        &[
            "line 3 (row 2): 2 fields, but the header has 1 column",
            "set the delimiter to ';'",
        ],
    );
}

#[test]
fn usage_errors_exit_2() {
    let f = format!("{GOOD}/crlf.csv");
    for (args, expected) in [
        (vec!["--delimiter", "ab"], "the delimiter must be one ASCII character"),
        (vec!["--delimiter", "\""], "the delimiter cannot be a quote"),
        (vec!["--where", "outcome"], "COL=VALUE"),
        (vec!["--method", "XYZ"], "unknown method"),
        (
            vec!["--level", "150"],
            "the confidence level must be 50 to 99.9 (percent) or 0.5 to 0.999 (a fraction), got 150",
        ),
        (vec!["--na", "maybe"], "--na"),
        (vec!["--no-such-option"], "--no-such-option"),
        (vec!["--events", "total"], "are both \"total\""),
    ] {
        let mut a = vec!["pool", f.as_str()];
        a.extend_from_slice(&args);
        let r = metarepro(&a);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(expected), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty());
    }
}

#[test]
fn help_documents_the_exit_codes() {
    let r = metarepro(&["pool", "--help"]);
    assert_eq!(r.code, 0);
    for s in ["Exit codes", "2 usage", "3 input", "4 computation", "5 the output"] {
        assert!(r.stdout.contains(s), "{s} not in: {}", r.stdout);
    }
}

// ---------------------------------------------------------------------------------------------
// Item 3: input that must work. The reference is the comma-separated LF file.

fn reference() -> f64 {
    let (v, _) = pools(GOOD, "crlf.csv", &[]);
    proportion(&v)
}

fn same_as_reference(file: &str, extra: &[&str]) -> Value {
    let (v, _) = pools(GOOD, file, extra);
    assert_eq!(num(&v, &["overall", "k"]), 3.0, "{file}");
    let p = proportion(&v);
    let r = reference();
    assert!((p - r).abs() < 1e-12, "{file}: {p} vs {r}");
    // 4/20, 10/31, 7/15: the pooled proportion lies among the study proportions.
    assert!(p > 0.2 && p < 0.47, "{file}: {p}");
    v
}

#[test]
fn utf8_bom_from_excel() {
    same_as_reference("bom.csv", &[]);
}

#[test]
fn crlf_and_cr_line_endings() {
    same_as_reference("crlf.csv", &[]);
    same_as_reference("cr_only.csv", &[]);
}

#[test]
fn tab_separated() {
    same_as_reference("tabs.tsv", &[]);
    // A .tsv file is tab-separated without being told; --delimiter '\t' works as well.
    same_as_reference("tabs.tsv", &["--delimiter", "\\t"]);
}

#[test]
fn semicolons_with_decimal_commas() {
    let v = same_as_reference("semicolon_decimal_comma.csv", &["--delimiter", ";"]);
    assert_eq!(v["studies"][0]["study"], "Adams, 2001");
}

#[test]
fn quoted_labels_with_commas_and_non_ascii_letters() {
    let (v, _) = pools(GOOD, "quoted_labels.csv", &[]);
    assert_eq!(num(&v, &["overall", "k"]), 4.0);
    proportion(&v);
    let labels: Vec<&str> = v["studies"]
        .as_array()
        .expect("studies")
        .iter()
        .map(|s| s["study"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        labels,
        [
            "Smith, J. (2001)",
            "Müller, Ä.; Øster",
            "Łukasz \"Łuki\" Nowak",
            "José, 李"
        ]
    );
    // And in the readable table.
    let r = metarepro(&["pool", &format!("{GOOD}/quoted_labels.csv")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn excel_ghost_rows_and_columns() {
    // Trailing empty columns and rows of empty cells, as Excel exports them.
    same_as_reference("excel_ghost_rows.csv", &[]);
}

#[test]
fn single_study() {
    let (v, _) = pools(GOOD, "single_study.csv", &[]);
    assert_eq!(num(&v, &["overall", "k"]), 1.0);
    let p = proportion(&v);
    assert!((p - 0.2).abs() < 1e-12, "{p}");
    assert_eq!(num(&v, &["overall", "tau2"]), 0.0);
    let r = metarepro(&["pool", &format!("{GOOD}/single_study.csv")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("no heterogeneity statistics"), "{}", r.stdout);
}

#[test]
fn subgroup_of_one_study() {
    let (v, _) = pools(GOOD, "subgroup_of_one.csv", &["--by", "group"]);
    assert_eq!(num(&v, &["overall", "k"]), 4.0);
    let subs = v["subgroups"].as_array().expect("subgroups");
    assert_eq!(subs.len(), 2);
    let b = subs.iter().find(|s| s["name"] == "b").expect("subgroup b");
    assert_eq!(b["k"], 1);
    let pb = b["proportion"]["estimate"].as_f64().expect("estimate");
    assert!((pb - 6.0 / 18.0).abs() < 1e-12, "{pb}");
}

#[test]
fn all_zero_and_all_full_studies() {
    for (file, lo, hi) in [("all_zero.csv", 0.0, 0.05), ("all_full.csv", 0.95, 1.0)] {
        let (v, _) = pools(GOOD, file, &[]);
        let p = proportion(&v);
        assert!(p > lo && p < hi, "{file}: {p}");
        // The continuity correction is reported for every study.
        for s in v["studies"].as_array().expect("studies") {
            assert_eq!(s["corrected"], true, "{file}: {s}");
        }
        let r = metarepro(&["pool", &format!("{GOOD}/{file}")]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.to_lowercase().contains("correction"), "{file}: {}", r.stdout);
    }
}

#[test]
fn very_large_counts() {
    let (v, _) = pools(GOOD, "large_counts.csv", &[]);
    let p = proportion(&v);
    // 0.125, 0.222, 0.15
    assert!(p > 0.12 && p < 0.23, "{p}");
    assert_eq!(num(&v, &["studies", "0", "total"]), 0.0 + 987654321.0);
}

#[test]
fn rare_events_in_huge_studies() {
    // 3/20,000,000, 0/15,000,000, 7/30,000,000: a registry-sized "very large counts" case.
    let (v, _) = pools(GOOD, "rare_events_huge_total.csv", &[]);
    let p = proportion(&v);
    assert!(p > 0.0 && p < 1e-6, "{p}");
}

#[test]
fn extreme_proportions() {
    let (v, _) = pools(GOOD, "extreme_proportion.csv", &[]);
    let p = proportion(&v);
    assert!(p > 5e-6 && p < 2e-5, "{p}");
}

#[test]
fn identical_studies() {
    let (v, _) = pools(GOOD, "identical_studies.csv", &[]);
    let p = proportion(&v);
    assert!((p - 0.2).abs() < 1e-12, "{p}");
    assert_eq!(num(&v, &["overall", "tau2"]), 0.0);
}

#[test]
fn knha_identical_studies_at_one_half() {
    // Found by tests/it/properties.rs: two studies of 5/10 with --test knha; the CLI turns the
    // panic into exit code 70 ("internal error").
    let (v, _) = pools(GOOD, "identical_half.csv", &["--test", "knha"]);
    let p = proportion(&v);
    assert!((p - 0.5).abs() < 1e-12, "{p}");
}

#[test]
fn parquet() {
    same_as_reference("studies.parquet", &[]);
}

#[test]
fn parquet_float_counts() {
    let (v, _) = pools(GOOD, "large_counts.parquet", &[]);
    let p = proportion(&v);
    assert!(p > 0.1 && p < 0.15, "{p}");
    assert_eq!(num(&v, &["studies", "0", "total"]), 1.0e15);
}

#[test]
fn missing_counts_dropped_are_listed_by_row() {
    let (v, r) = pools(GOOD, "na_drop.csv", &["--na", "drop"]);
    assert_eq!(num(&v, &["overall", "k"]), 2.0);
    assert!(r.stderr.contains("row 2 (line 3) left out"), "{}", r.stderr);
    assert!(r.stderr.contains("row 3 (line 4) left out"), "{}", r.stderr);
    let t = metarepro(&["pool", &format!("{GOOD}/na_drop.csv"), "--na", "drop"]);
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert!(t.stdout.contains("Rows left out (--na drop)"), "{}", t.stdout);
    assert!(t.stdout.contains("row 2 (line 3): missing \"events\""), "{}", t.stdout);
    assert!(t.stdout.contains("row 3 (line 4): missing \"events\""), "{}", t.stdout);
}

// ---------------------------------------------------------------------------------------------
// Item 5: nothing half-written.

fn temporaries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(".metarepro-"))
        })
        .collect()
}

#[test]
fn output_written_atomically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("result.json");
    let out_s = out.to_str().expect("utf-8 path");

    // An input error: no output file, no temporary.
    let r = metarepro(&["pool", &format!("{BAD}/events_gt_total.csv"), "--output", out_s]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(!out.exists());
    assert!(temporaries(dir.path()).is_empty());

    // Success: the file, complete, and no temporary.
    let r = metarepro(&["pool", &format!("{GOOD}/crlf.csv"), "--format", "json", "-o", out_s]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).expect("output")).expect("JSON");
    proportion(&v);
    assert!(temporaries(dir.path()).is_empty());

    // A later failing run leaves the previous output untouched.
    let before = std::fs::read(&out).expect("output");
    let r = metarepro(&["pool", &format!("{BAD}/ragged_row_long.csv"), "-o", out_s]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(std::fs::read(&out).expect("output"), before);
    assert!(temporaries(dir.path()).is_empty());
}

#[test]
fn output_that_cannot_be_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The target is an existing folder: the rename fails; exit 5, no temporary left.
    let target = dir.path().join("a_folder");
    std::fs::create_dir(&target).expect("mkdir");
    let r = metarepro(&[
        "pool",
        &format!("{GOOD}/crlf.csv"),
        "-o",
        target.to_str().expect("path"),
    ]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("cannot write"), "{}", r.stderr);
    assert!(temporaries(dir.path()).is_empty());
    assert!(target.is_dir());

    // A folder that does not exist.
    let missing = dir.path().join("nope").join("result.csv");
    let r = metarepro(&[
        "pool",
        &format!("{GOOD}/crlf.csv"),
        "-o",
        missing.to_str().expect("path"),
    ]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(!missing.exists());
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
}

#[test]
fn output_never_overwrites_the_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("studies.csv");
    std::fs::copy(format!("{GOOD}/crlf.csv"), &input).expect("copy");
    let before = std::fs::read(&input).expect("input");
    let s = input.to_str().expect("path");
    let r = metarepro(&["pool", s, "-o", s]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is the input file"), "{}", r.stderr);
    assert_eq!(std::fs::read(&input).expect("input"), before);
}

// ---------------------------------------------------------------------------------------------
// Regressions found by fuzzing (fuzz/README.md): each file must give an input error, not a crash.

#[test]
fn fuzz_found_parquet_page_with_negative_value_count() {
    // polars (the Parquet reader used then) read the count as a huge usize, tried to allocate
    // 2^61 bytes and aborted.
    input_error(
        "fuzz/page_num_values_negative.parquet",
        &[],
        &["corrupt Parquet file", "page 2: -6 values declared"],
    );
}

#[test]
fn fuzz_found_parquet_footer_declaring_a_huge_list() {
    // polars (the Parquet reader used then) reserved memory for the declared size (51 GB) and
    // aborted.
    input_error(
        "fuzz/footer_list_size_huge.parquet",
        &[],
        &["corrupt Parquet file", "corrupt footer"],
    );
}

#[test]
fn fuzz_regressions() {
    let dir = Path::new(BAD).join("fuzz");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries.filter_map(|e| e.ok()) {
        let path = e.path();
        let s = path.to_str().expect("path");
        let r = metarepro(&["pool", s]);
        assert!(
            r.code == 3 || r.code == 0,
            "{s}: exit code {} (stderr: {})",
            r.code,
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{s}: {}", r.stderr);
    }
}

// ---------------------------------------------------------------------------------------------
// Parquet written here with the `parquet` crate: every codec other tools write by default, the
// column types, and the corpus files.

/// One column of a Parquet file written by [`write_parquet`]; `None` is null (the column must
/// be OPTIONAL in the schema then).
enum PqCol {
    Bool(Vec<Option<bool>>),
    I32(Vec<Option<i32>>),
    I64(Vec<Option<i64>>),
    F32(Vec<Option<f32>>),
    F64(Vec<Option<f64>>),
    Bytes(Vec<Option<Vec<u8>>>),
    Fixed(Vec<Option<Vec<u8>>>),
}

fn text(v: &[&str]) -> PqCol {
    PqCol::Bytes(v.iter().map(|s| Some(s.as_bytes().to_vec())).collect())
}

/// Write `cols` under the message type `schema`, in row groups of `group` rows.
fn write_parquet(path: &Path, schema: &str, cols: &[PqCol], compression: parquet::basic::Compression, group: usize) {
    use parquet::data_type::{
        BoolType, ByteArray, ByteArrayType, DoubleType, FixedLenByteArray, FixedLenByteArrayType, FloatType, Int32Type,
        Int64Type,
    };
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use std::sync::Arc;

    fn put<T: parquet::data_type::DataType>(
        c: &mut parquet::file::writer::SerializedColumnWriter<'_>,
        v: &[Option<T::T>],
    ) where
        T::T: Clone,
    {
        let w = c.typed::<T>();
        let optional = w.get_descriptor().max_def_level() > 0;
        let def: Vec<i16> = v.iter().map(|x| i16::from(x.is_some())).collect();
        let vals: Vec<T::T> = v.iter().flatten().cloned().collect();
        assert!(optional || vals.len() == v.len(), "null in a REQUIRED column");
        w.write_batch(&vals, optional.then_some(def.as_slice()), None)
            .expect("write values");
    }

    let schema = Arc::new(parquet::schema::parser::parse_message_type(schema).expect("schema"));
    let props = Arc::new(WriterProperties::builder().set_compression(compression).build());
    let mut w = SerializedFileWriter::new(std::fs::File::create(path).expect("create"), schema, props).expect("writer");
    let rows = cols.first().map_or(0, |c| match c {
        PqCol::Bool(v) => v.len(),
        PqCol::I32(v) => v.len(),
        PqCol::I64(v) => v.len(),
        PqCol::F32(v) => v.len(),
        PqCol::F64(v) => v.len(),
        PqCol::Bytes(v) | PqCol::Fixed(v) => v.len(),
    });
    let mut start = 0;
    while start < rows {
        let r = start..(start + group).min(rows);
        let mut rg = w.next_row_group().expect("row group");
        for col in cols {
            let mut c = rg.next_column().expect("column").expect("a column of the schema");
            match col {
                PqCol::Bool(v) => put::<BoolType>(&mut c, &v[r.clone()]),
                PqCol::I32(v) => put::<Int32Type>(&mut c, &v[r.clone()]),
                PqCol::I64(v) => put::<Int64Type>(&mut c, &v[r.clone()]),
                PqCol::F32(v) => put::<FloatType>(&mut c, &v[r.clone()]),
                PqCol::F64(v) => put::<DoubleType>(&mut c, &v[r.clone()]),
                PqCol::Bytes(v) => {
                    let v: Vec<Option<ByteArray>> =
                        v[r.clone()].iter().map(|x| x.clone().map(ByteArray::from)).collect();
                    put::<ByteArrayType>(&mut c, &v)
                }
                PqCol::Fixed(v) => {
                    let v: Vec<Option<FixedLenByteArray>> = v[r.clone()]
                        .iter()
                        .map(|x| x.clone().map(|b| FixedLenByteArray::from(ByteArray::from(b))))
                        .collect();
                    put::<FixedLenByteArrayType>(&mut c, &v)
                }
            }
            c.close().expect("close column");
        }
        rg.close().expect("close row group");
        start = r.end;
    }
    w.close().expect("close file");
}

const STUDIES_SCHEMA: &str =
    "message schema { OPTIONAL BYTE_ARRAY study (STRING); OPTIONAL INT64 events; OPTIONAL DOUBLE total; }";

/// The three reference studies (4/20, 10/31, 7/15) as Parquet.
fn studies_parquet(path: &Path, compression: parquet::basic::Compression) {
    write_parquet(
        path,
        STUDIES_SCHEMA,
        &[
            text(&["Adams 2001", "Brown 2003", "Chen 2005"]),
            PqCol::I64(vec![Some(4), Some(10), Some(7)]),
            PqCol::F64(vec![Some(20.0), Some(31.0), Some(15.0)]),
        ],
        compression,
        2,
    );
}

#[test]
fn parquet_codecs_other_tools_write() {
    use parquet::basic::{Compression, GzipLevel, ZstdLevel};
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_str().expect("path");
    let r = reference();
    for (name, codec) in [
        ("uncompressed", Compression::UNCOMPRESSED),
        ("snappy", Compression::SNAPPY),
        ("zstd", Compression::ZSTD(ZstdLevel::default())),
        ("gzip", Compression::GZIP(GzipLevel::default())),
        ("lz4_raw", Compression::LZ4_RAW),
        ("lz4", Compression::LZ4),
    ] {
        let file = format!("{name}.parquet");
        studies_parquet(&dir.path().join(&file), codec);
        let (v, _) = pools(d, &file, &[]);
        assert_eq!(num(&v, &["overall", "k"]), 3.0, "{file}");
        assert!((proportion(&v) - r).abs() < 1e-12, "{file}");
    }
    // A codec that is not read (Brotli): an input error naming the file, the column and the codec.
    // The file is written uncompressed and its footer's codec of every column chunk patched from
    // UNCOMPRESSED (0) to BROTLI (4): Thrift compact, field 4 of ColumnMetaData, after the path.
    let plain = dir.path().join("uncompressed.parquet");
    let mut bytes = std::fs::read(&plain).expect("read");
    let mut patched = 0;
    for name in ["study", "events", "total"] {
        let mut pattern = vec![0x18, name.len() as u8];
        pattern.extend_from_slice(name.as_bytes());
        pattern.extend_from_slice(&[0x15, 0x00]);
        let mut at = 0;
        while let Some(i) = bytes[at..].windows(pattern.len()).position(|w| w == pattern.as_slice()) {
            let last = at + i + pattern.len() - 1;
            bytes[last] = 0x08;
            patched += 1;
            at = last;
        }
    }
    assert_eq!(patched, 6, "two row groups of three column chunks");
    let brotli = dir.path().join("brotli.parquet");
    std::fs::write(&brotli, &bytes).expect("write");
    let run = metarepro(&["pool", brotli.to_str().expect("path")]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    for want in ["brotli.parquet", "column \"study\"", "Brotli", "does not read"] {
        assert!(run.stderr.contains(want), "expected {want:?} in: {}", run.stderr);
    }
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn parquet_column_types() {
    use metarepro::polars_core::prelude::{AnyValue, DataType};
    use parquet::basic::Compression;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("types.parquet");
    let schema = "message schema {
        REQUIRED BOOLEAN flag;
        OPTIONAL INT32 i32;
        OPTIONAL INT32 u32 (INTEGER(32, false));
        OPTIONAL INT32 i8 (INTEGER(8, true));
        REQUIRED INT64 i64;
        REQUIRED INT64 u64 (INTEGER(64, false));
        OPTIONAL FLOAT f32;
        OPTIONAL DOUBLE f64;
        OPTIONAL BYTE_ARRAY s (STRING);
        OPTIONAL BYTE_ARRAY plain;
        OPTIONAL INT32 day (DATE);
        OPTIONAL INT64 ms (TIMESTAMP(MILLIS, true));
        OPTIONAL INT64 ns (TIMESTAMP(NANOS, false));
        OPTIONAL INT32 d32 (DECIMAL(5, 2));
        OPTIONAL INT64 d64 (DECIMAL(12, 0));
        OPTIONAL FIXED_LEN_BYTE_ARRAY (2) dfix (DECIMAL(4, 1));
    }";
    let cols = [
        PqCol::Bool(vec![Some(true), Some(false), Some(true)]),
        PqCol::I32(vec![Some(-7), None, Some(2_000_000_000)]),
        PqCol::I32(vec![Some(-1), Some(3), None]),
        PqCol::I32(vec![Some(-8), Some(8), None]),
        PqCol::I64(vec![Some(9_007_199_254_740_993), Some(0), Some(-1)]),
        PqCol::I64(vec![Some(-1), Some(1), Some(2)]),
        PqCol::F32(vec![Some(0.5), None, Some(-2.0)]),
        PqCol::F64(vec![Some(1e15), Some(0.1), None]),
        PqCol::Bytes(vec![Some("García".into()), None, Some("".into())]),
        PqCol::Bytes(vec![Some(b"x".to_vec()), Some(b"y".to_vec()), None]),
        PqCol::I32(vec![Some(12_843), Some(0), None]),
        PqCol::I64(vec![Some(1_109_680_200_500), None, Some(0)]),
        PqCol::I64(vec![Some(1_109_680_200_000_000_000), None, Some(-1)]),
        PqCol::I32(vec![Some(1250), Some(-5), None]),
        PqCol::I64(vec![Some(31), None, Some(0)]),
        PqCol::Fixed(vec![Some(vec![0xff, 0x38]), Some(vec![0x00, 0x7b]), None]),
    ];
    // Two row groups (2 + 1 rows), zstd as polars writes.
    write_parquet(&path, schema, &cols, Compression::ZSTD(Default::default()), 2);
    let df = metarepro::data::read_frame(&path, None).expect("read");
    assert_eq!(df.height(), 3);
    let dtype = |c: &str| df.column(c).expect("column").dtype().clone();
    let cell = |c: &str, i: usize| -> String {
        match df.column(c).expect("column").get(i).expect("cell") {
            AnyValue::Null => "null".into(),
            AnyValue::String(s) => format!("{s:?}"),
            AnyValue::Boolean(b) => b.to_string(),
            AnyValue::Int64(x) => x.to_string(),
            AnyValue::UInt32(x) => x.to_string(),
            AnyValue::UInt64(x) => x.to_string(),
            AnyValue::Float64(x) => format!("{x:?}"),
            v => format!("unexpected {v:?}"),
        }
    };
    let col = |c: &str| (0..3).map(|i| cell(c, i)).collect::<Vec<_>>().join(" ");
    for (c, t, values) in [
        ("flag", DataType::Boolean, "true false true"),
        ("i32", DataType::Int64, "-7 null 2000000000"),
        ("u32", DataType::UInt32, "4294967295 3 null"),
        ("i8", DataType::Int64, "-8 8 null"),
        ("i64", DataType::Int64, "9007199254740993 0 -1"),
        ("u64", DataType::UInt64, "18446744073709551615 1 2"),
        ("f32", DataType::Float64, "0.5 null -2.0"),
        ("f64", DataType::Float64, "1000000000000000.0 0.1 null"),
        ("s", DataType::String, "\"García\" null \"\""),
        ("plain", DataType::String, "\"x\" \"y\" null"),
        ("day", DataType::String, "\"2005-03-01\" \"1970-01-01\" null"),
        (
            "ms",
            DataType::String,
            "\"2005-03-01 12:30:00.5\" null \"1970-01-01 00:00:00\"",
        ),
        (
            "ns",
            DataType::String,
            "\"2005-03-01 12:30:00\" null \"1969-12-31 23:59:59.999999999\"",
        ),
        ("d32", DataType::String, "\"12.5\" \"-0.05\" null"),
        ("d64", DataType::String, "\"31\" null \"0\""),
        ("dfix", DataType::String, "\"-20\" \"12.3\" null"),
    ] {
        assert_eq!(dtype(c), t, "column {c}");
        assert_eq!(col(c), values, "column {c}");
    }
    // A study table with a decimal count and a date column pools like the text table.
    let study = dir.path().join("decimal_counts.parquet");
    write_parquet(
        &study,
        "message schema { REQUIRED BYTE_ARRAY study (STRING); REQUIRED INT64 events (DECIMAL(10, 3));
                          REQUIRED INT32 total; REQUIRED INT32 published (DATE); }",
        &[
            text(&["Adams 2001", "Brown 2003", "Chen 2005"]),
            PqCol::I64(vec![Some(4_000), Some(10_000), Some(7_000)]),
            PqCol::I32(vec![Some(20), Some(31), Some(15)]),
            PqCol::I32(vec![Some(11_323), Some(12_100), Some(12_843)]),
        ],
        Compression::SNAPPY,
        8,
    );
    let (v, _) = pools(dir.path().to_str().expect("path"), "decimal_counts.parquet", &[]);
    assert!((proportion(&v) - reference()).abs() < 1e-12);
    // Nested columns and times of day: an input error naming the column.
    let nested = dir.path().join("nested.parquet");
    write_parquet(
        &nested,
        "message schema { REQUIRED BYTE_ARRAY study (STRING);
                          OPTIONAL group arms (LIST) { REPEATED group list { OPTIONAL INT64 element; } } }",
        &[],
        Compression::SNAPPY,
        1,
    );
    let run = metarepro(&["pool", nested.to_str().expect("path")]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("\"arms.list.element\" is nested"), "{}", run.stderr);
    let time = dir.path().join("time.parquet");
    write_parquet(
        &time,
        "message schema { REQUIRED INT32 t (TIME(MILLIS, true)); }",
        &[PqCol::I32(vec![Some(1)])],
        Compression::UNCOMPRESSED,
        1,
    );
    let run = metarepro(&["pool", time.to_str().expect("path")]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("column \"t\" holds times of day"), "{}", run.stderr);
}

// The Parquet files of the corpus. They were written by polars 0.55 (zstd pages, optional
// columns); this generator now writes the same tables with the `parquet` crate. Run with
// `cargo test --test it input::make_parquet_files -- --ignored` to regenerate them (the fuzz-found
// files under tests/data/bad/fuzz/ are not regenerated).

#[test]
#[ignore]
fn make_parquet_files() {
    use parquet::basic::{Compression, ZstdLevel};
    let zstd = Compression::ZSTD(ZstdLevel::default());
    studies_parquet(Path::new(&format!("{GOOD}/studies.parquet")), zstd);
    let bytes = std::fs::read(format!("{GOOD}/studies.parquet")).expect("read");
    std::fs::write(format!("{BAD}/truncated.parquet"), &bytes[..bytes.len() / 2]).expect("write");
    let counts = "message schema { OPTIONAL BYTE_ARRAY study (STRING); OPTIONAL DOUBLE events; OPTIONAL INT64 total; }";
    write_parquet(
        Path::new(&format!("{BAD}/fractional_count.parquet")),
        counts,
        &[
            text(&["Adams 2001", "Brown 2003"]),
            PqCol::F64(vec![Some(4.0), Some(4.5)]),
            PqCol::I64(vec![Some(20), Some(31)]),
        ],
        zstd,
        1 << 20,
    );
    // 2^53 + 1 is exact in an Int64 column but not as a float.
    write_parquet(
        Path::new(&format!("{BAD}/overflowing_count.parquet")),
        STUDIES_SCHEMA.replace("DOUBLE total", "INT64 total").as_str(),
        &[
            text(&["Adams 2001", "Brown 2003"]),
            PqCol::I64(vec![Some(4), Some(10)]),
            PqCol::I64(vec![Some(20), Some(9_007_199_254_740_993)]),
        ],
        zstd,
        1 << 20,
    );
    // Float counts that Display would not round: 1e15 must be read as the whole number it is.
    write_parquet(
        Path::new(&format!("{GOOD}/large_counts.parquet")),
        STUDIES_SCHEMA.replace("INT64 events", "DOUBLE events").as_str(),
        &[
            text(&["Registry A", "Registry B"]),
            PqCol::F64(vec![Some(1.0e14), Some(3.0e14)]),
            PqCol::F64(vec![Some(1.0e15), Some(2.0e15)]),
        ],
        zstd,
        1 << 20,
    );
}
