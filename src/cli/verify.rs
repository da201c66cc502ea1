//! `metarepro verify`: check a paper's printed numbers (a claims file).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::error::Result;
use crate::report::write_atomic;
use crate::verify::{self, claims, report};

#[derive(Debug, Clone, Args)]
pub struct VerifyCmd {
    /// Claims file (TOML): the paper, what it printed, optionally its data and stated method; or a
    /// RevMan 5 review (.rm5): every analysis re-pooled by RevMan's rules and its stored numbers checked.
    pub claims: PathBuf,
    /// Search the grid of analysis choices for those that reproduce every printed number (needs data).
    #[arg(long)]
    pub search: bool,
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
    if crate::data::extension(path) == "rm5" {
        return true;
    }
    let mut head = [0u8; 4096];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    crate::data::revman::looks_like_rm5(&head[..n])
}

fn run_revman(cmd: &VerifyCmd) -> Result<i32> {
    let r = crate::verify::revman::verify_file(&cmd.claims)?;
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
    if is_revman(&cmd.claims) {
        return run_revman(cmd);
    }
    let mut c = claims::load(&cmd.claims)?;
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
