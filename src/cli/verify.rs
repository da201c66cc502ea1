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
    /// Claims file (TOML): the paper, what it printed, optionally its data and stated method.
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    Table,
    Markdown,
    Json,
}

pub fn run(cmd: &VerifyCmd) -> Result<i32> {
    if cmd.presets {
        print!("{}", crate::verify::presets::document());
        return Ok(0);
    }
    let Some(path) = &cmd.claims else {
        return Err(crate::error::Error::Usage("a claims file is needed".into()));
    };
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
