//! `metarepro verify`: check a paper's printed numbers (a claims file).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::error::Result;
use crate::report::write_atomic;
use crate::verify::{self, claims, report};

#[derive(Debug, Clone, Args)]
#[command(
    after_help = "The claims file: every key, with an example, is documented in docs/claims.md (in the \
                  source tree). Verdicts: match / off by N / mismatch / not computed (recomputed from data); \
                  consistent / inconsistent / unchecked (printed numbers alone)."
)]
pub struct VerifyCmd {
    /// Claims file (TOML): the paper, what it printed, optionally its data and stated method; or a
    /// RevMan 5 review (.rm5): every analysis re-pooled by RevMan's rules and its stored numbers checked;
    /// or a directory of .rm5 files (checked in parallel, one summary line per file).
    #[arg(required_unless_present = "presets")]
    pub claims: Option<PathBuf>,
    /// Print the table of presets (metafor, meta, RevMan, Stata metan) that the two-group method
    /// search names, with what each switch means, and exit.
    #[arg(long)]
    pub presets: bool,
    /// Search the grid of analysis choices for those that reproduce every printed number (needs data).
    #[arg(long)]
    pub search: bool,
    /// With --search: also try the software's default stopping rules (metafor's threshold 1e-5, uniroot's tolerance), as a paper run with them.
    #[arg(long = "default-stopping")]
    pub default_stopping: bool,
    /// Output format: table (terminal, coloured on a TTY), markdown, json (the contract).
    #[arg(long, value_enum, default_value_t = VerifyFormat::Table)]
    pub format: VerifyFormat,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Exit with code 1 when any number does not match or any check is flagged.
    #[arg(long)]
    pub strict: bool,
    /// Recompute from this study table instead of the claims file's [data] (e.g. an independent extraction).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// With --data: the subgroup column.
    #[arg(long)]
    pub by: Option<String>,
    /// With --data: the column a claim's `outcome` selects.
    #[arg(long = "outcome-column")]
    pub outcome_column: Option<String>,
    /// Also draw the published (and recomputed) estimates to this SVG/PNG; a Markdown report embeds it.
    #[arg(long)]
    pub figure: Option<PathBuf>,
    /// With --data: leave out rows with a missing count instead of failing.
    #[arg(long = "na-drop")]
    pub na_drop: bool,
    /// Same as --format json.
    #[arg(long)]
    pub json: bool,
    /// RevMan review (.rm5): also write DIR/report.md with the verdict of every analysis and a
    /// forest plot per analysis in RevMan's layout (DIR/<analysis ID>.png and .svg).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    Table,
    Markdown,
    Json,
}

/// Whether `path` is a RevMan 5 review: the `.rm5` extension, or an XML file whose root is
/// `COCHRANE_REVIEW`.
fn is_revman(path: &std::path::Path) -> bool {
    if path.is_dir() || crate::data::extension(path) == "rm5" {
        return true;
    }
    let mut head = [0u8; 4096];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    crate::data::revman::looks_like_rm5(&head[..n]) || crate::data::revman_csv::looks_like_revman_csv(&head[..n])
}

/// A directory of .rm5 files: each file checked (in parallel), one summary line per file and the
/// total; with --json an array of the files' JSON documents.
fn run_revman_dir(cmd: &VerifyCmd, dir: &std::path::Path) -> Result<i32> {
    use rayon::prelude::*;
    let files = crate::verify::revman_table::rm5_files(dir)?;
    let pb = (files.len() > 1 && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(files.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files ({eta})") {
            b.set_style(style);
        }
        b
    });
    let results: Vec<Result<crate::verify::revman::ReviewCheck>> = files
        .par_iter()
        .map(|f| {
            let r = crate::verify::revman::verify_file(f);
            if let Some(b) = &pb {
                b.inc(1);
            }
            r
        })
        .collect();
    if let Some(b) = pb {
        b.finish_and_clear();
    }
    let json = cmd.json || cmd.format == VerifyFormat::Json;
    let (mut reproduced, mut checked, mut differs, mut unreadable) = (0, 0, 0, 0);
    let mut text = String::new();
    let mut docs = Vec::new();
    for (f, r) in files.iter().zip(&results) {
        match r {
            Ok(r) => {
                reproduced += r.summary.reproduced;
                checked += r.summary.checked;
                differs += r.summary.differs;
                text.push_str(&format!("{}: {}\n", f.display(), r.summary.text));
                docs.push(r.json().trim_end().to_string());
            }
            Err(e) => {
                unreadable += 1;
                text.push_str(&format!("{}: unreadable: {e}\n", f.display()));
                docs.push(serde_json::json!({"file": f.display().to_string(), "error": e.to_string()}).to_string());
            }
        }
    }
    text.push_str(&format!(
        "\n{} files ({unreadable} unreadable): {reproduced} of {checked} analyses reproduced\n",
        files.len()
    ));
    let out = if json {
        format!("[\n{}\n]\n", docs.join(",\n"))
    } else {
        text
    };
    match &cmd.output {
        Some(p) => write_atomic(p, out.as_bytes())?,
        None => print!("{out}"),
    }
    Ok(if cmd.strict && (differs > 0 || unreadable > 0) {
        1
    } else {
        0
    })
}

fn run_revman(cmd: &VerifyCmd, path: &std::path::Path) -> Result<i32> {
    if path.is_dir() {
        return run_revman_dir(cmd, path);
    }
    let r = match &cmd.report {
        Some(dir) => {
            let review = crate::data::revman_csv::read_review(path)?;
            let r = crate::verify::revman::verify_review(&review);
            let files = crate::verify::revman_report::write(&review, &r, dir)?;
            eprintln!(
                "wrote {} and {} forest plots",
                files.report.display(),
                files.figures.len() / 2
            );
            r
        }
        None => crate::verify::revman::verify_file(path)?,
    };
    let text = if cmd.json || cmd.format == VerifyFormat::Json {
        r.json()
    } else {
        r.table()
    };
    match &cmd.output {
        Some(p) => write_atomic(p, text.as_bytes())?,
        None => print!("{text}"),
    }
    Ok(if cmd.strict && r.problems() > 0 { 1 } else { 0 })
}

pub fn run(cmd: &VerifyCmd) -> Result<i32> {
    if cmd.presets {
        print!("{}", crate::verify::presets::document());
        return Ok(0);
    }
    let Some(path) = &cmd.claims else {
        return Err(crate::error::Error::Usage("a claims file is needed".into()));
    };
    if is_revman(path) {
        if cmd.report.is_some() && path.is_dir() {
            return Err(crate::error::Error::Usage(
                "--report takes one RevMan file, not a directory".into(),
            ));
        }
        return run_revman(cmd, path);
    }
    if cmd.report.is_some() {
        return Err(crate::error::Error::Usage(format!(
            "--report is for RevMan 5 reviews (.rm5); {} is a claims file (use --format markdown)",
            path.display()
        )));
    }
    let mut c = claims::load(path)?;
    if let Some(file) = &cmd.data {
        // Resolve against the current directory, not the claims file.
        let file = std::path::absolute(file).unwrap_or_else(|_| file.clone());
        c.file.data = Some(claims::DataSpec {
            file,
            events: None,
            total: None,
            study: None,
            by: cmd.by.clone(),
            filters: None,
            delimiter: None,
            outcome_column: cmd.outcome_column.clone(),
            na: cmd.na_drop.then(|| "drop".to_string()),
        });
    }
    let tty = std::io::stderr().is_terminal();
    let r = verify::verify(
        &c,
        &verify::VerifyOptions {
            search: cmd.search,
            progress: tty,
            default_stopping: cmd.default_stopping,
        },
    )?;
    let figure_link = match &cmd.figure {
        Some(path) => {
            let opts = crate::plot::forest::ForestOptions::default();
            crate::verify::figure::write(&r, &opts, path)?;
            Some(path.display().to_string())
        }
        None => None,
    };
    let text = match cmd.format {
        _ if cmd.json => report::json(&r),
        VerifyFormat::Table => report::terminal(&r, cmd.output.is_none() && std::io::stdout().is_terminal()),
        VerifyFormat::Markdown => report::markdown(&r, figure_link.as_deref()),
        VerifyFormat::Json => report::json(&r),
    };
    match &cmd.output {
        Some(p) => write_atomic(p, text.as_bytes())?,
        None => print!("{text}"),
    }
    Ok(if cmd.strict && r.problems() > 0 { 1 } else { 0 })
}
