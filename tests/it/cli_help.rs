//! What `--help` shows: every option has a description, and a command's help lists only what
//! the command accepts (an option shown is not then refused as unsupported).

use std::path::Path;

use assert_cmd::Command;

fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (i32, String, String) {
    let out = Command::cargo_bin("metarepro")
        .expect("the metarepro binary")
        .args(args)
        .output()
        .expect("run metarepro");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The subcommands listed by `metarepro --help`.
fn subcommands() -> Vec<String> {
    let (code, help, _) = run(&["--help"]);
    assert_eq!(code, 0);
    let mut out = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line.starts_with("Commands:") {
            inside = true;
            continue;
        }
        if inside {
            if !line.starts_with("  ") {
                break;
            }
            let name = line.split_whitespace().next().unwrap_or("");
            if name != "help" {
                out.push(name.to_string());
            }
        }
    }
    assert!(out.len() >= 14, "{out:?}");
    out
}

/// The options of a subcommand's short help (`-h`: one line each): (flag, description).
fn options(cmd: &str) -> Vec<(String, String)> {
    let (code, help, err) = run(&[cmd, "-h"]);
    assert_eq!(code, 0, "{cmd}: {err}");
    let mut out = Vec::new();
    let lines: Vec<&str> = help.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        if !t.starts_with('-') || line.len() == t.len() {
            continue;
        }
        // "-o, --output <OUTPUT>  Write to ..." : the flag spec, then two spaces, then the text;
        // or (a wide help) the text on the next, further indented line.
        let (spec, mut text) = t.split_once("  ").unwrap_or((t, ""));
        if text.trim().is_empty() {
            if let Some(next) = lines.get(i + 1) {
                if indent(next) > indent(line) && !next.trim_start().starts_with('-') {
                    text = next.trim();
                }
            }
        }
        let flag = spec
            .split([',', ' '])
            .map(str::trim)
            .find(|w| w.starts_with("--"))
            .unwrap_or(spec)
            .to_string();
        out.push((flag, text.trim().to_string()));
    }
    assert!(!out.is_empty(), "{cmd}: no options in\n{help}");
    out
}

/// Every option of every subcommand has a description: not nothing, nor only its default or
/// its possible values.
#[test]
fn every_option_of_every_subcommand_is_described() {
    let mut undescribed = Vec::new();
    for cmd in subcommands() {
        for (flag, text) in options(&cmd) {
            if text.is_empty() || text.starts_with('[') {
                undescribed.push(format!("{cmd} {flag}"));
            }
        }
    }
    assert!(undescribed.is_empty(), "options without a description: {undescribed:?}");
}

/// The top-level and `pool` descriptions do not say "proportions" only: two-group measures
/// are pooled as well.
#[test]
fn descriptions_name_more_than_proportions() {
    let (_, help, _) = run(&["--help"]);
    assert!(!help.contains("meta-analyses of proportions."), "{help}");
    assert!(help.contains("two-group measures"), "{help}");
    let pool = help.lines().find(|l| l.trim_start().starts_with("pool ")).unwrap();
    assert!(!pool.contains("Pool proportions with"), "{pool}");
}

const DEBRUIN: &str = "datasets/debruin2009/studies.csv";

/// Every subcommand with a command line that runs on a table with a subgroup column (`None`:
/// the command takes no study table of its own, see [`others_list_no_data_options`]).
fn base(cmd: &str, dir: &Path, long: &Path) -> Option<Vec<String>> {
    let d = DEBRUIN.to_string();
    let out = |name: &str| dir.join(name).display().to_string();
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Some(match cmd {
        "pool" | "leave1out" | "cumul" | "influence" => vec![d],
        "metareg" => vec![d, "--mods".into(), "scq".into()],
        "forest" | "summary-plot" | "funnel" => vec![d, "--out".into(), out("x.svg")],
        "gosh" => [vec![d], v(&["--subsets", "40"])].concat(),
        "permutest" => [vec![d], v(&["--iter", "40"])].concat(),
        "bootstrap" => [vec![d], v(&["--replicates", "20"])].concat(),
        "batch" => vec![
            long.display().to_string(),
            "--analysis".into(),
            "analysis".into(),
            "--output".into(),
            out("b.csv"),
        ],
        _ => return None,
    })
}

/// Options that some commands once listed and then refused: (flag, a word its description
/// must hold for the probe to apply, the arguments).
const PROBES: &[(&str, &str, &[&str])] = &[
    ("--by", "", &["--by", "ethnicity"]),
    ("--tau2-common", "", &["--by", "ethnicity", "--tau2-common"]),
    ("--labels", "", &["--by", "ethnicity", "--labels", "other=Other"]),
    ("--method", "; or GLMM", &["--method", "GLMM"]),
    ("--nagq", "", &["--method", "GLMM", "--nagq", "5"]),
    ("--where", "", &["--where", "ethnicity!=other"]),
    ("--exclude", "", &["--exclude", "Fairley et al."]),
    ("--na", "", &["--na", "drop"]),
];

/// For each subcommand, every probed option its `--help` lists is accepted: the run does not
/// end with a usage error (exit 2) saying the command does not take it.
#[test]
fn options_listed_by_help_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let long = dir.path().join("long.csv");
    let text = std::fs::read_to_string(DEBRUIN).unwrap();
    let mut lines = text.lines();
    let mut t = format!("analysis,{}\n", lines.next().unwrap());
    for l in lines {
        t.push_str(&format!("a,{l}\n"));
    }
    std::fs::write(&long, t).unwrap();
    let mut probed = 0;
    let mut refused = Vec::new();
    for cmd in subcommands() {
        let Some(base) = base(&cmd, dir.path(), &long) else {
            continue;
        };
        let listed = options(&cmd);
        for (flag, marker, args) in PROBES {
            let shown = listed.iter().any(|(f, text)| f == flag && text.contains(marker));
            if !shown {
                continue;
            }
            // The probe's other flags must be shown too (e.g. --by for --tau2-common).
            for a in args.iter().filter(|a| a.starts_with("--")) {
                assert!(
                    listed.iter().any(|(f, _)| f == a),
                    "{cmd}: {flag} is shown but {a}, which it needs, is not"
                );
            }
            probed += 1;
            let mut all = vec![cmd.clone()];
            all.extend(base.iter().cloned());
            all.extend(args.iter().map(|s| s.to_string()));
            let (code, _, err) = run(&all);
            if code == 2 || err.contains("not supported") || err.contains("does not take") {
                refused.push(format!("{all:?}: exit {code}: {}", err.trim()));
            }
        }
    }
    assert!(
        refused.is_empty(),
        "options shown by --help but refused:\n{}",
        refused.join("\n")
    );
    assert!(probed >= 40, "only {probed} probes ran");
}

/// The commands without a study table of their own list none of the data options probed above
/// (verify's `--by` and `--na-drop` belong to its `--data` and are described as such).
#[test]
fn others_list_no_data_options() {
    for cmd in ["reproduce"] {
        for (flag, _) in options(cmd) {
            assert!(!PROBES.iter().any(|(p, _, _)| *p == flag), "{cmd} lists {flag}");
        }
    }
    for (flag, text) in options("verify") {
        if flag == "--by" || flag == "--na-drop" {
            assert!(text.starts_with("With --data"), "verify {flag}: {text}");
        }
    }
}
