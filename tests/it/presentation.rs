//! How the readable outputs present a result (issue of a first-time user, items 1-4 and 6): the
//! labels follow the confidence level; both models are shown; a subgroup of one study is shown
//! as that study; pooled intervals outside [0, 1] are truncated with a note; one rounding of
//! proportions (percent, `--digits`) across `pool` and the sensitivity commands. The JSON keeps
//! the model's values throughout.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn metarepro(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_metarepro"))
        .args(args)
        .output()
        .expect("run metarepro");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(args: &[&str]) -> String {
    let r = metarepro(args);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    r.stdout
}

fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    serde_json::from_str(&ok(&a)).expect("JSON")
}

const DEBRUIN: &str = "datasets/debruin2009/studies.csv";
const PRITZ: &str = "datasets/pritz1997/studies.csv";

/// A study table with a subgroup of one study (4/4, whose own proportion and CP CI differ from
/// the one-study fit with a continuity correction: 90.0 [32.6; 99.4]).
fn one_study_table(dir: &Path) -> PathBuf {
    let p = dir.join("one.csv");
    std::fs::write(
        &p,
        "study,events,total,g\nA1,10,30,a\nA2,14,31,a\nA3,7,25,a\nB1,4,4,b\n",
    )
    .unwrap();
    p
}

/// The texts of an SVG (plotters writes each text on its own line between the tags).
fn svg_texts(svg: &str) -> Vec<String> {
    svg.lines()
        .map(|l| l.trim().replace("&apos;", "'").replace("&amp;", "&"))
        .collect()
}

/// A dataset folder with one analysis, run by `reproduce`; returns (Markdown, SVG).
fn reproduce_one(dir: &Path, csv: &str, analysis: &str) -> (String, String) {
    let ds = dir.join("datasets/x");
    std::fs::create_dir_all(&ds).unwrap();
    std::fs::write(ds.join("studies.csv"), csv).unwrap();
    std::fs::write(
        ds.join("analysis.toml"),
        format!("[dataset]\ntitle = \"x\"\n\n[[analysis]]\nname = \"a\"\n{analysis}"),
    )
    .unwrap();
    let root = dir.to_string_lossy().into_owned();
    let r = metarepro(&["reproduce", "--root", &root, "--out", &root]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let md = std::fs::read_to_string(dir.join("reports/x/a.md")).unwrap();
    let svg = std::fs::read_to_string(dir.join("figures/x_a.svg")).unwrap();
    (md, svg)
}

fn debruin_csv() -> String {
    std::fs::read_to_string(DEBRUIN).unwrap()
}

/// Item 1: every interval label says the level asked for, in the table, the Markdown report, the
/// figure and the sensitivity tables.
#[test]
fn interval_labels_follow_the_level() {
    let t = ok(&["pool", DEBRUIN, "--by", "ethnicity", "--level", "90"]);
    assert!(!t.contains("95%"), "{t}");
    for line in ["tau^2 (", "I^2 (", "H^2 ("] {
        let l = t.lines().find(|l| l.starts_with(line)).unwrap();
        assert!(l.contains("(90% CI "), "{l}");
    }
    let l = t
        .lines()
        .find(|l| l.starts_with("Random effects model: pooled"))
        .unwrap();
    assert!(l.contains("(90% CI ") && l.contains("; 90% PI "), "{l}");
    assert!(t.contains("90% CI") && t.contains("90% PI"), "{t}");
    // The numbers are the 90% intervals of the JSON.
    let v = json(&["pool", DEBRUIN, "--level", "90"]);
    let lb = 100.0 * v["overall"]["proportion"]["ci_lb"].as_f64().unwrap();
    assert!(l.contains(&format!("(90% CI {lb:.1}% to")), "{l}");

    let tmp = tempfile::tempdir().unwrap();
    let (md, svg) = reproduce_one(tmp.path(), &debruin_csv(), "by = \"ethnicity\"\nlevel = 90\n");
    assert!(md.contains("90% CI") && !md.contains("95%"), "{md}");
    let texts = svg_texts(&svg);
    assert!(texts.iter().any(|t| t == "Proportion (%) [90% CI]"));
    assert!(!svg.contains("95%"));

    for cmd in ["leave1out", "cumul"] {
        let t = ok(&[cmd, DEBRUIN, "--level", "90"]);
        assert!(t.contains("90% CI") && !t.contains("95%"), "{cmd}: {t}");
    }
}

/// Item 1: a level that is no confidence level is refused, saying why.
#[test]
fn senseless_levels_are_refused_with_the_reason() {
    for (level, why) in [
        ("9", "that is a 9% interval"),
        ("0.3", "that is a 30% interval"),
        ("100", "a 100% interval is unbounded"),
        ("150", "a percentage above 100"),
    ] {
        let r = metarepro(&["pool", DEBRUIN, "--level", level]);
        assert_eq!(r.code, 2, "{level}: {}", r.stderr);
        assert!(
            r.stderr.contains(why) && r.stderr.contains("50 to 99.9"),
            "{level}: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty());
    }
    for level in ["50", "0.8", "99.9", "0.999"] {
        assert_eq!(metarepro(&["pool", DEBRUIN, "--level", level]).code, 0, "{level}");
    }
}

/// Item 2: the common and the random effects model, in the table, the Markdown and the figure;
/// with a common-effect method only the common one, and subgroup headings that say so.
#[test]
fn both_models_are_shown_and_headings_follow_the_model() {
    let v = json(&["pool", DEBRUIN]);
    let t = ok(&["pool", DEBRUIN]);
    let c = 100.0 * v["common"]["proportion"]["estimate"].as_f64().unwrap();
    let r = 100.0 * v["overall"]["proportion"]["estimate"].as_f64().unwrap();
    assert!(
        t.contains(&format!("Common effect model:  pooled proportion {c:.1}% (95% CI")),
        "{t}"
    );
    assert!(
        t.contains(&format!("Random effects model: pooled proportion {r:.1}% (95% CI")),
        "{t}"
    );
    let rows: Vec<&str> = t
        .lines()
        .filter(|l| l.ends_with("model") || l.contains("effect model "))
        .collect();
    assert!(rows.iter().any(|l| l.starts_with("Common effect model ")), "{t}");

    let fe = ok(&["pool", DEBRUIN, "--by", "ethnicity", "--method", "FE"]);
    assert!(!fe.contains("Random effects") && !fe.contains("tau^2"), "{fe}");
    assert!(fe.contains("Subgroups (common-effect model in each subgroup):"), "{fe}");
    let re = ok(&["pool", DEBRUIN, "--by", "ethnicity"]);
    assert!(
        re.contains(
            "Subgroups (common-effect and random-effects models in each subgroup, a separate tau^2 per subgroup):"
        ),
        "{re}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let (md, svg) = reproduce_one(tmp.path(), &debruin_csv(), "");
    let crow = md
        .lines()
        .find(|l| l.starts_with("| **overall, common effect model** |"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(crow.contains(&format!("| {c:.1} |")), "{crow}");
    let texts = svg_texts(&svg);
    let at = texts
        .iter()
        .position(|t| t == "Common effect model")
        .expect("common row");
    let rt = texts
        .iter()
        .position(|t| t == "Random effects model")
        .expect("random row");
    assert!(at < rt);

    let tmp = tempfile::tempdir().unwrap();
    let (md, svg) = reproduce_one(tmp.path(), &debruin_csv(), "method = \"FE\"\nby = \"ethnicity\"\n");
    assert!(
        !md.contains("common effect model**") && md.contains("a common-effect model in each subgroup"),
        "{md}"
    );
    assert!(!md.contains("separate τ²"), "{md}");
    assert!(!svg.contains("Random effects model"));
}

/// Item 2, per subgroup: each subgroup of more than one study shows its common-effect model
/// above its random-effects model, as meta prints them, in the table, the Markdown report and
/// the figure; a common-effect analysis shows its one model; a one-study subgroup stays the
/// study's own result (no model rows).
#[test]
fn each_subgroup_shows_both_models() {
    let v = json(&["pool", DEBRUIN, "--by", "ethnicity"]);
    let pct = |x: &Value| format!("{:.1}", 100.0 * x.as_f64().unwrap());
    let t = ok(&["pool", DEBRUIN, "--by", "ethnicity"]);
    let lines: Vec<&str> = t.lines().collect();
    assert!(t.contains("  subgroup   model "), "{t}");
    for g in v["subgroups"].as_array().unwrap() {
        let name = g["name"].as_str().unwrap();
        let (c, r) = (&g["common"]["proportion"], &g["proportion"]);
        let i = lines
            .iter()
            .position(|l| l.starts_with(&format!("  {name} ")))
            .unwrap_or_else(|| panic!("{name}: {t}"));
        let (cl, rl) = (lines[i], lines[i + 1]);
        let cells = |l: &str| l.split_whitespace().map(String::from).collect::<Vec<_>>();
        let (cc, rc) = (cells(cl), cells(rl));
        assert_eq!(cc[1], "common", "{cl}");
        assert_eq!(rc[0], "random", "{rl}");
        assert_eq!(cc[4], pct(&c["estimate"]), "{cl}");
        assert!(
            cl.contains(&format!("[{}; {}]", pct(&c["ci_lb"]), pct(&c["ci_ub"]))),
            "{cl}"
        );
        assert_eq!(rc[3], pct(&r["estimate"]), "{rl}");
        assert!(
            rl.contains(&format!("[{}; {}]", pct(&r["pi_lb"]), pct(&r["pi_ub"]))),
            "{rl}"
        );
        // The common-effect row has no tau^2 and no PI.
        assert_eq!(cl.matches('\u{2014}').count(), 2, "{cl}");
        assert_ne!(cc[4], rc[3], "the two models differ here");
    }
    // The test for subgroup differences says whose estimates it compares.
    assert!(
        t.contains("Test for subgroup differences (between groups, random-effects estimates): Q(df = 1)"),
        "{t}"
    );
    let fe = ok(&["pool", DEBRUIN, "--by", "ethnicity", "--method", "FE"]);
    assert!(
        fe.contains("Test for subgroup differences (between groups): Q(df = 1)"),
        "{fe}"
    );
    assert!(
        !fe.contains("subgroup   model") && !fe.contains("  common  ") && !fe.contains("random"),
        "{fe}"
    );

    // Markdown: "<name>, common effect model" right above the subgroup's (random-effects) row.
    let tmp = tempfile::tempdir().unwrap();
    let (md, svg) = reproduce_one(tmp.path(), &debruin_csv(), "by = \"ethnicity\"\n");
    let mdl: Vec<&str> = md.lines().collect();
    for g in v["subgroups"].as_array().unwrap() {
        let name = g["name"].as_str().unwrap();
        let i = mdl
            .iter()
            .position(|l| l.starts_with(&format!("| {name}, common effect model |")))
            .unwrap_or_else(|| panic!("{name}: {md}"));
        let c = &g["common"]["proportion"];
        assert!(
            mdl[i].contains(&format!(
                "| {} | [{}; {}] | – | – |",
                pct(&c["estimate"]),
                pct(&c["ci_lb"]),
                pct(&c["ci_ub"])
            )),
            "{}",
            mdl[i]
        );
        assert!(mdl[i + 1].starts_with(&format!("| {name} |")), "{}", mdl[i + 1]);
        assert!(
            mdl[i + 1].contains(&format!("| {} |", pct(&g["proportion"]["estimate"]))),
            "{}",
            mdl[i + 1]
        );
    }
    assert!(
        md.contains("the common-effect model of the same studies is shown above each"),
        "{md}"
    );
    // Figure: per subgroup and overall a common diamond row above the random one.
    let texts = svg_texts(&svg);
    let labels: Vec<&String> = texts
        .iter()
        .filter(|t| *t == "Common effect model" || *t == "Random effects model")
        .collect();
    assert_eq!(
        labels,
        ["Common effect model", "Random effects model"].repeat(3),
        "{labels:?}"
    );
    for g in v["subgroups"].as_array().unwrap() {
        assert!(texts.contains(&pct(&g["common"]["proportion"]["estimate"])), "{g}");
    }
    assert!(
        md.contains("Test for subgroup differences (between subgroups, random-effects estimates): Q = "),
        "{md}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("Test for subgroup differences (random effects model): \u{3c7}\u{b2} = ")),
        "{texts:?}"
    );
    // A common-effect analysis: one model per subgroup.
    let tmp = tempfile::tempdir().unwrap();
    let (md, svg) = reproduce_one(tmp.path(), &debruin_csv(), "by = \"ethnicity\"\nmethod = \"EE\"\n");
    assert!(!md.contains("common effect model |"), "{md}");
    let texts = svg_texts(&svg);
    assert_eq!(texts.iter().filter(|t| *t == "Common effect model").count(), 3);
    assert!(!texts.iter().any(|t| t == "Random effects model"));

    // A one-study subgroup: no model rows for it, both for the other.
    let tmp = tempfile::tempdir().unwrap();
    let f = one_study_table(tmp.path());
    let t = ok(&["pool", f.to_str().unwrap(), "--by", "g"]);
    assert_eq!(t.lines().filter(|l| l.contains(" common ")).count(), 1, "{t}");
    let brow = t.lines().find(|l| l.trim_start().starts_with("b ")).unwrap();
    assert!(
        brow.contains(" (1)") && !brow.contains("common") && !brow.contains("random"),
        "{brow}"
    );
    let csv = std::fs::read_to_string(&f).unwrap();
    let tmp2 = tempfile::tempdir().unwrap();
    let (md, svg) = reproduce_one(tmp2.path(), &csv, "by = \"g\"\n");
    assert!(
        md.contains("| a, common effect model |") && !md.contains("| b, common effect model"),
        "{md}"
    );
    assert!(!md.contains("b ¹, common"), "{md}");
    let texts = svg_texts(&svg);
    assert_eq!(texts.iter().filter(|t| *t == "Common effect model").count(), 2);

    // Two-group data: the table, the Markdown and the figure, inverse variance and M-H.
    let p = tmp.path().join("two.csv");
    std::fs::write(
        &p,
        "study,ai,n1i,ci,n2i,g\nA1,5,50,10,50,a\nA2,8,60,12,58,a\nA3,20,70,11,69,a\nB1,3,40,9,41,b\nC1,4,45,8,44,c\nC2,9,52,10,50,c\n",
    )
    .unwrap();
    let ps = p.to_str().unwrap();
    for (pooling, common) in [
        ("IV", "Common effect (inverse variance)"),
        ("MH", "Common effect (Mantel-Haenszel)"),
    ] {
        let v = json(&[
            "pool",
            ps,
            "--measure",
            "RR",
            "--by",
            "g",
            "--pooling",
            pooling,
            "--method",
            "DL",
        ]);
        let t = ok(&[
            "pool",
            ps,
            "--measure",
            "RR",
            "--by",
            "g",
            "--pooling",
            pooling,
            "--method",
            "DL",
        ]);
        for g in v["subgroups"].as_array().unwrap() {
            let name = g["name"].as_str().unwrap();
            let block = t
                .split(&format!("Subgroup {name} (k = "))
                .nth(1)
                .unwrap()
                .split("\n\n")
                .next()
                .unwrap();
            if g["k"] == 1 {
                assert!(
                    !block.contains("Common effect") && !block.contains("Random effects"),
                    "{block}"
                );
                continue;
            }
            let ce = format!("{:.3}", g["common"]["effect"]["estimate"].as_f64().unwrap());
            let re = format!("{:.3}", g["effect"]["estimate"].as_f64().unwrap());
            let ci = block
                .find(&format!("  {common}: RR {ce} ("))
                .unwrap_or_else(|| panic!("{pooling} {name}: {block}"));
            let ri = block
                .find(&format!("  Random effects (DL): RR {re} ("))
                .unwrap_or_else(|| panic!("{block}"));
            assert!(ci < ri, "{block}");
        }
        let svg_path = tmp.path().join(format!("two_{pooling}.svg"));
        ok(&[
            "forest",
            ps,
            "--measure",
            "RR",
            "--by",
            "g",
            "--pooling",
            pooling,
            "--method",
            "DL",
            "--out",
            svg_path.to_str().unwrap(),
        ]);
        let texts = svg_texts(&std::fs::read_to_string(&svg_path).unwrap());
        let labels: Vec<&String> = texts
            .iter()
            .filter(|t| *t == "Common effect model" || *t == "Random effects model")
            .collect();
        assert_eq!(
            labels,
            ["Common effect model", "Random effects model"].repeat(3),
            "{pooling}: {labels:?}"
        );
        assert_eq!(
            texts
                .iter()
                .filter(|t| t.starts_with("Test for overall effect: common "))
                .count(),
            3,
            "{pooling}"
        );
        // M-H with a common-effect method: the M-H fit alone, once per subgroup.
        let fe = ok(&[
            "pool",
            ps,
            "--measure",
            "RR",
            "--by",
            "g",
            "--pooling",
            pooling,
            "--method",
            "EE",
        ]);
        assert_eq!(fe.matches(&format!("  {common}: RR")).count(), 3, "{fe}");
        assert!(!fe.contains("Random effects"), "{fe}");
    }
    let csv = std::fs::read_to_string(&p).unwrap();
    let tmp3 = tempfile::tempdir().unwrap();
    let (md, _) = reproduce_one(
        tmp3.path(),
        &csv,
        "by = \"g\"\nmeasure = \"RR\"\npooling = \"MH\"\nmethod = \"DL\"\n",
    );
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| a |") || l.starts_with("| c |"))
        .collect();
    assert_eq!(rows.len(), 4, "{md}");
    assert!(
        rows[0].starts_with("| a | common effect, M-H |") && rows[1].starts_with("| a | random effects, DL |"),
        "{rows:?}"
    );
}

/// Item 3: a subgroup of one study is that study's own result with a note, in every output; the
/// JSON keeps metafor's one-study fit.
#[test]
fn a_one_study_subgroup_is_shown_as_the_study() {
    let tmp = tempfile::tempdir().unwrap();
    let f = one_study_table(tmp.path());
    let f = f.to_str().unwrap();
    let v = json(&["pool", f, "--by", "g"]);
    let b = &v["subgroups"][1];
    assert_eq!(b["k"], 1);
    assert!(
        (b["proportion"]["estimate"].as_f64().unwrap() - 0.9).abs() < 1e-12,
        "JSON keeps the fit"
    );
    let t = ok(&["pool", f, "--by", "g"]);
    let row = t.lines().find(|l| l.trim_start().starts_with("b ")).unwrap();
    assert!(
        row.contains("100.0") && row.contains("[39.8; 100.0]") && !row.contains("90.0"),
        "{row}"
    );
    assert!(
        !row.contains("0.000") && !row.contains("1.0000") && row.contains('\u{2014}'),
        "{row}"
    );
    assert!(t.contains("one study: no pooling; heterogeneity not defined"), "{t}");

    let csv = std::fs::read_to_string(f).unwrap();
    let tmp2 = tempfile::tempdir().unwrap();
    let (md, svg) = reproduce_one(tmp2.path(), &csv, "by = \"g\"\n");
    let row = md
        .lines()
        .find(|l| l.starts_with("| b ¹ |"))
        .unwrap_or_else(|| panic!("{md}"));
    assert_eq!(row, "| b ¹ | 1 | 4/4 | 100.0 | [39.8; 100.0] | – | – | – | – |");
    assert!(md.contains("One study: no pooling; heterogeneity not defined"), "{md}");
    let texts = svg_texts(&svg);
    assert!(texts
        .iter()
        .any(|t| t == "One study: no pooling; heterogeneity not defined"));
    assert!(!texts.iter().any(|t| t == "90.0"), "the one-study fit is not drawn");
    // One pooled row for subgroup a, and the two overall ones.
    assert_eq!(texts.iter().filter(|t| *t == "Random effects model").count(), 2);

    // The two-group plot: the same note instead of a pooled row.
    let p = tmp.path().join("two.csv");
    std::fs::write(
        &p,
        "study,ai,n1i,ci,n2i,g\nA1,5,50,10,50,a\nA2,8,60,12,58,a\nB1,3,40,9,41,b\n",
    )
    .unwrap();
    let t = ok(&["pool", p.to_str().unwrap(), "--measure", "RR", "--by", "g"]);
    assert!(
        t.contains("Subgroup b (k = 1):\n  The study: RR ")
            && t.contains("(one study: no pooling; heterogeneity not defined)"),
        "{t}"
    );
    let svg_path = tmp.path().join("two.svg");
    ok(&[
        "forest",
        p.to_str().unwrap(),
        "--measure",
        "RR",
        "--by",
        "g",
        "--out",
        svg_path.to_str().unwrap(),
    ]);
    let texts = svg_texts(&std::fs::read_to_string(&svg_path).unwrap());
    assert!(texts
        .iter()
        .any(|t| t == "One study: no pooling; heterogeneity not defined"));
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.starts_with("Heterogeneity: Not applicable"))
            .count(),
        0
    );
}

/// Item 4: a PI outside [0, 1] (PR of pritz1997, metafor's [0.531; 1.063]) is shown truncated to
/// 100% with the model's limits in a note; the JSON keeps them.
#[test]
fn intervals_outside_0_1_are_truncated_with_a_note() {
    let v = json(&["pool", PRITZ, "--measure", "PR"]);
    let pi = &v["overall"]["proportion"];
    let (lb, ub) = (
        100.0 * pi["pi_lb"].as_f64().unwrap(),
        100.0 * pi["pi_ub"].as_f64().unwrap(),
    );
    assert!(ub > 100.0, "the model's PI reaches past 100%: {ub}");
    let note = format!("PI truncated to [0%, 100%]; the model's 95% PI is [{lb:.1}; {ub:.1}]");
    let t = ok(&["pool", PRITZ, "--measure", "PR"]);
    assert!(t.contains(&format!("95% PI {lb:.1}% to 100.0%)")), "{t}");
    assert!(t.contains(&note), "{t}");
    assert_eq!(t.matches(&format!("{ub:.1}")).count(), 1, "only in the note: {t}");
    let svg_path = tempfile::tempdir().unwrap();
    let out = svg_path.path().join("pr.svg");
    ok(&["forest", PRITZ, "--measure", "PR", "--out", out.to_str().unwrap()]);
    let texts = svg_texts(&std::fs::read_to_string(&out).unwrap());
    assert!(texts.iter().any(|t| t == "100.0]"));
    assert!(texts.iter().any(|t| t.contains(&note)), "footnote");
    // The PLO analysis needs no note.
    assert!(!ok(&["pool", PRITZ]).contains("truncated"));
}

/// Item 6: proportions in percent with one decimal by default across pool and the sensitivity
/// commands, `--digits` setting the decimals; JSON and CSV unrounded.
#[test]
fn one_rounding_of_proportions_and_digits() {
    let v = json(&["pool", DEBRUIN]);
    let p = 100.0 * v["overall"]["proportion"]["estimate"].as_f64().unwrap();
    assert!(ok(&["pool", DEBRUIN]).contains(&format!("pooled proportion {p:.1}% (")));
    assert!(ok(&["pool", DEBRUIN, "--digits", "3"]).contains(&format!("pooled proportion {p:.3}% (")));
    let l = json(&["leave1out", DEBRUIN]);
    let first = 100.0 * l["rows"][0]["proportion"]["estimate"].as_f64().unwrap();
    let full = 100.0 * l["full"]["proportion"]["estimate"].as_f64().unwrap();
    assert!((full - p).abs() < 1e-9);
    let t = ok(&["leave1out", DEBRUIN]);
    let row = t.lines().find(|r| r.starts_with("Andrade et al.")).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[4], format!("{first:.1}"), "{row}");
    let all = t.lines().find(|r| r.starts_with("(all studies)")).unwrap();
    assert!(all.contains(&format!(" {p:.1} ")), "the same value as pool: {all}");
    let t = ok(&["leave1out", DEBRUIN, "--digits", "2"]);
    let row = t.lines().find(|r| r.starts_with("Andrade et al.")).unwrap();
    assert_eq!(row.split_whitespace().nth(4).unwrap(), format!("{first:.2}"), "{row}");
    let t = ok(&["cumul", DEBRUIN, "--digits", "0"]);
    assert!(t.contains(&format!(" {p:.0} ")), "{t}");
    // CSV keeps full precision whatever --digits.
    let csv = ok(&["leave1out", DEBRUIN, "--digits", "1", "--format", "csv"]);
    let est = l["rows"][0]["proportion"]["estimate"].as_f64().unwrap();
    assert!(csv.contains(&format!("{est:?}")), "{csv}");
    let r = metarepro(&["pool", DEBRUIN, "--digits", "11"]);
    assert_eq!(r.code, 2);
}
