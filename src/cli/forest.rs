//! `metarepro forest`, `metarepro summary-plot` and `metarepro funnel`: pool a study table (every
//! `pool` option applies) and draw the figure into SVG and/or PNG files.

use std::path::{Path, PathBuf};

use clap::Args;

use super::args::{DataArgs, ModelArgs};
use crate::data;
use crate::effect::Measure;
use crate::error::{Error, Result};
use crate::model::{self, PoolResult};
use crate::plot::forest::{ForestOptions, Scale, Sort, Weights};
use crate::plot::funnel::FunnelOptions;
use crate::plot::{self, forest, funnel, summary, Format};

/// Output files and the options every figure has.
#[derive(Debug, Clone, Args)]
pub struct FigureArgs {
    /// Figure file: .svg or .png (format from the extension). Repeat to write both, e.g.
    /// --out figures/remission.svg --out figures/remission.png.
    #[arg(
        long = "out",
        short = 'o',
        visible_alias = "output",
        value_name = "FILE",
        required = true
    )]
    pub out: Vec<PathBuf>,
    /// PNG resolution in dots per inch: 300 for print, 96 for screen. The PNG is the SVG layout
    /// scaled by DPI/96 (text, lines and margins scale together).
    #[arg(long, default_value_t = 300.0)]
    pub dpi: f64,
    /// Print proportions in percent (41.2) or as proportions (0.412); --ref and --xlim are given
    /// on this scale.
    #[arg(long, default_value = "percent", value_name = "percent|prop")]
    pub scale: String,
    /// Title above the figure.
    #[arg(long)]
    pub title: Option<String>,
    /// Title of the horizontal axis [default: "Proportion (%)"].
    #[arg(long)]
    pub xlab: Option<String>,
    /// A TrueType/OpenType font file for the figure's text (e.g. one with Korean or rare Chinese
    /// characters): PNG glyphs and text widths come from it, SVG files name its family first.
    /// Characters it lacks come from the bundled DejaVu Sans and Droid Sans Fallback.
    #[arg(long, value_name = "FILE.ttf")]
    pub font: Option<PathBuf>,
}

/// Load `--font`, if given.
fn load_font(fig: &FigureArgs) -> Result<()> {
    if let Some(path) = &fig.font {
        let bytes = std::fs::read(path).map_err(|e| Error::Input {
            file: path.clone(),
            message: format!("cannot read the font (--font): {e}"),
        })?;
        plot::font::use_font(bytes, path, None)?;
    }
    Ok(())
}

/// A warning on stderr for each label the figure draws with boxes.
fn warn_undrawable<'a>(labels: impl IntoIterator<Item = &'a str>) {
    for (label, chars) in plot::table::undrawable(labels) {
        let cs: Vec<String> = chars.iter().map(|c| format!("{c} (U+{:04X})", *c as u32)).collect();
        eprintln!(
            "warning: \"{label}\": the figure's fonts cannot draw {}; they are drawn as boxes (give a font \
             that has them with --font FILE.ttf)",
            cs.join(", ")
        );
    }
}

/// Options of forest-type figures (forest and summary plots).
#[derive(Debug, Clone, Args)]
pub struct TableArgs {
    /// Vertical reference line at this value (on the --scale: --ref 50 is 50%).
    #[arg(long = "ref", value_name = "VALUE")]
    pub reference: Option<f64>,
    /// Axis limits LO,HI on the --scale (e.g. 0,60); for two-group measures on the natural scale
    /// (e.g. 0.1,10 for a ratio); intervals beyond them end in arrows [default: fit every
    /// interval].
    #[arg(long, value_name = "LO,HI")]
    pub xlim: Option<String>,
    /// Decimals of proportions and CIs [default: 1 in percent, 3 as proportions].
    #[arg(long)]
    pub digits: Option<usize>,
    /// Leave out the prediction interval.
    #[arg(long = "no-prediction")]
    pub no_prediction: bool,
    /// Leave out the dashed line at the overall pooled proportion.
    #[arg(long = "no-pooled-line")]
    pub no_pooled_line: bool,
    /// Width of the plot column in pixels (1/96 inch).
    #[arg(long = "plot-width", default_value_t = 280.0, value_name = "PX")]
    pub plot_width: f64,
}

/// `metarepro forest`.
#[derive(Debug, Clone, Args)]
pub struct ForestCmd {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub figure: FigureArgs,
    #[command(flatten)]
    pub table: TableArgs,
    /// Order of the studies within each subgroup: estimate (increasing proportion), year
    /// (increasing; --year COL, or a column named "year"), weight (decreasing), none (file order).
    #[arg(long, default_value = "none", value_name = "estimate|year|weight|none")]
    pub sort: String,
    /// Column with each study's year (for --sort year).
    #[arg(long, value_name = "COL")]
    pub year: Option<String>,
    /// Weights shown and used to size the squares: overall (the overall model's, as meta and
    /// RevMan) or subgroup (within each subgroup's model).
    #[arg(long, default_value = "overall", value_name = "overall|subgroup")]
    pub weights: String,
    /// Draw each subgroup's prediction interval too.
    #[arg(long = "subgroup-prediction")]
    pub subgroup_prediction: bool,
    /// Header of the study column.
    #[arg(long = "study-header", default_value = "Study")]
    pub study_header: String,
    /// Two-group measures: names of the two groups over their columns, e.g. "BCG,Control"
    /// [default: Group 1,Group 2].
    #[arg(long = "arm-labels", value_name = "GROUP1,GROUP2")]
    pub arm_labels: Option<String>,
    /// Two-group measures: the labels under the axis, left and right of the null line, e.g.
    /// "Favours BCG,Favours control" [default: Favours GROUP1,Favours GROUP2].
    #[arg(long, value_name = "LEFT,RIGHT")]
    pub favours: Option<String>,
}

/// `metarepro summary-plot`.
#[derive(Debug, Clone, Args)]
pub struct SummaryPlotCmd {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub figure: FigureArgs,
    #[command(flatten)]
    pub table: TableArgs,
    /// Order of the subgroups: estimate (increasing pooled proportion), weight (decreasing share
    /// of the overall weight), none (sorted names).
    #[arg(long, default_value = "none", value_name = "estimate|weight|none")]
    pub sort: String,
}

/// `metarepro funnel`.
#[derive(Debug, Clone, Args)]
pub struct FunnelCmd {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub figure: FigureArgs,
    /// Title of the vertical axis [default: "Standard error"].
    #[arg(long)]
    pub ylab: Option<String>,
    /// Level of the pseudo-confidence region, in percent or as a fraction [default: --level].
    #[arg(long = "funnel-level")]
    pub funnel_level: Option<f64>,
    /// Contour-enhanced funnel: bands around the null value (0 on the analysis scale) where a
    /// study's p is in (0.05, 0.10], (0.01, 0.05] and <= 0.01 (meta's contour = c(0.9, 0.95, 0.99)).
    #[arg(long)]
    pub contours: bool,
    /// Draw trim-and-fill's imputed studies, hollow (metafor trimfill, estimator L0, side as
    /// metafor chooses it; see `metarepro bias` for the numbers).
    #[arg(long)]
    pub trimfill: bool,
    /// Draw Egger's regression line (metafor regtest, predictor sei, the pooling model).
    #[arg(long)]
    pub egger: bool,
}

fn check_outputs(fig: &FigureArgs, input: &Path) -> Result<()> {
    for out in &fig.out {
        Format::from_path(out)?;
        let same = match (out.canonicalize(), input.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same {
            return Err(Error::Usage(format!(
                "--out {} is the input file: refusing to overwrite the data",
                out.display()
            )));
        }
    }
    load_font(fig)?;
    if !(fig.dpi.is_finite() && (10.0..=2400.0).contains(&fig.dpi)) {
        return Err(Error::Usage(format!(
            "--dpi must be between 10 and 2400, got {}",
            fig.dpi
        )));
    }
    Ok(())
}

fn parse_xlim(s: &str) -> Result<(f64, f64)> {
    let bad = || Error::Usage(format!("--xlim expects LO,HI (e.g. 0,60), got \"{s}\""));
    let (a, b) = s.split_once(',').ok_or_else(bad)?;
    let a: f64 = a.trim().parse().map_err(|_| bad())?;
    let b: f64 = b.trim().parse().map_err(|_| bad())?;
    if !(a.is_finite() && b.is_finite() && b > a) {
        return Err(bad());
    }
    Ok((a, b))
}

fn pooled(data_args: &DataArgs, model_args: &ModelArgs) -> Result<(data::Studies, PoolResult)> {
    let load = data_args.load_options()?;
    let options = model_args.pool_options()?;
    let studies = data_args.load_studies(&load, options.measure)?;
    let mut res = model::pool(&studies, &options)?;
    super::note_unused_labels(&data_args.file, &res.set_labels(&load.labels));
    Ok((studies, res))
}

/// Two comma-separated labels.
fn parse_pair(flag: &str, s: &str) -> Result<(String, String)> {
    match s.split_once(',') {
        Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
            Ok((a.trim().to_string(), b.trim().to_string()))
        }
        _ => Err(Error::Usage(format!(
            "{flag} expects two labels separated by a comma, got \"{s}\""
        ))),
    }
}

/// The options of forest-type figures; `proportion`: the measure is a proportion (--ref and
/// --xlim on the --scale), else a two-group or other measure (--xlim on the natural scale; the
/// null line takes the place of --ref).
fn table_options(fig: &FigureArgs, t: &TableArgs, proportion: bool) -> Result<ForestOptions> {
    if !proportion {
        let mut o = table_options(
            fig,
            &TableArgs {
                reference: None,
                xlim: None,
                ..t.clone()
            },
            true,
        )?;
        if t.reference.is_some() {
            return Err(Error::Usage(
                "--ref is for proportions: forest plots of two-group and other measures draw the null line \
                 (1 for ratios, 0 for differences)"
                    .into(),
            ));
        }
        if let Some(x) = &t.xlim {
            o.xlim = Some(parse_xlim(x)?);
        }
        return Ok(o);
    }
    let scale: Scale = fig.scale.parse()?;
    let mut o = ForestOptions {
        scale,
        title: fig.title.clone(),
        xlab: fig.xlab.clone(),
        dpi: fig.dpi,
        prediction: !t.no_prediction,
        pooled_line: !t.no_pooled_line,
        reference: t.reference.map(|r| scale.to_proportion(r)),
        ..ForestOptions::default()
    };
    if let Some(r) = o.reference {
        if !(0.0..=1.0).contains(&r) {
            return Err(Error::Usage(format!(
                "--ref must be a proportion on the --scale (0 to {}), got {}",
                scale.of(1.0),
                t.reference.unwrap_or(f64::NAN)
            )));
        }
    }
    if let Some(x) = &t.xlim {
        let (a, b) = parse_xlim(x)?;
        o.xlim = Some((scale.to_proportion(a), scale.to_proportion(b)));
    }
    o.digits.proportion = t.digits;
    if !(t.plot_width.is_finite() && (60.0..=4000.0).contains(&t.plot_width)) {
        return Err(Error::Usage(format!(
            "--plot-width must be between 60 and 4000 pixels, got {}",
            t.plot_width
        )));
    }
    o.style.plot_width = t.plot_width;
    Ok(o)
}

pub fn run_forest(cmd: &ForestCmd) -> Result<i32> {
    check_outputs(&cmd.figure, &cmd.data.file)?;
    let proportion = cmd.model.measure.parse::<Measure>()?.is_proportion();
    let mut o = table_options(&cmd.figure, &cmd.table, proportion)?;
    o.sort = cmd.sort.parse::<Sort>()?;
    if let Some(a) = &cmd.arm_labels {
        o.arm_labels = Some(parse_pair("--arm-labels", a)?);
    }
    if let Some(f) = &cmd.favours {
        o.favours = Some(parse_pair("--favours", f)?);
    }
    o.weights = cmd.weights.parse::<Weights>()?;
    o.subgroup_prediction = cmd.subgroup_prediction;
    o.study_header = cmd.study_header.clone();
    let (studies, res) = pooled(&cmd.data, &cmd.model)?;
    o.footnotes.extend(forest::excluded_note(&studies.excluded));
    let year_col = match (&cmd.year, o.sort) {
        (Some(c), _) => Some(c.clone()),
        (None, Sort::Year) => Some("year".to_string()),
        (None, _) => None,
    };
    if let Some(c) = year_col {
        o.years = Some(plot::years_from_frame(&studies, &c)?);
    }
    let fig = forest::figure(&res, &o)?;
    warn_undrawable(forest::study_labels(&res));
    for out in &cmd.figure.out {
        plot::write_figure(&fig, out, o.dpi)?;
    }
    Ok(0)
}

pub fn run_summary(cmd: &SummaryPlotCmd) -> Result<i32> {
    check_outputs(&cmd.figure, &cmd.data.file)?;
    let measure = cmd.model.measure.parse::<Measure>()?;
    if !measure.is_proportion() {
        return Err(Error::Usage(format!(
            "summary-plot draws pooled proportions; for {measure} use forest, which shows each subgroup's \
             pooled {} with its studies",
            measure.natural_name().to_lowercase()
        )));
    }
    let mut o = table_options(&cmd.figure, &cmd.table, true)?;
    o.sort = cmd.sort.parse::<Sort>()?;
    if o.sort == Sort::Year {
        return Err(Error::Usage(
            "summary plots sort subgroups by estimate or weight, not by year".into(),
        ));
    }
    let (_, res) = pooled(&cmd.data, &cmd.model)?;
    let fig = summary::figure(&res, &o)?;
    warn_undrawable(res.subgroups.iter().map(|g| g.display_name()));
    for out in &cmd.figure.out {
        plot::write_figure(&fig, out, o.dpi)?;
    }
    Ok(0)
}

pub fn run_funnel(cmd: &FunnelCmd) -> Result<i32> {
    check_outputs(&cmd.figure, &cmd.data.file)?;
    let level = match cmd.funnel_level {
        None => None,
        Some(l) => {
            let l = if l > 1.0 { l / 100.0 } else { l };
            if !(l > 0.0 && l < 1.0) {
                return Err(Error::Usage(format!(
                    "--funnel-level must be between 0 and 100 (percent), got {l}"
                )));
            }
            Some(l)
        }
    };
    let o = FunnelOptions {
        scale: cmd.figure.scale.parse()?,
        level,
        title: cmd.figure.title.clone(),
        xlab: cmd.figure.xlab.clone(),
        ylab: cmd.ylab.clone(),
        dpi: cmd.figure.dpi,
        ..FunnelOptions::default()
    };
    let (studies, res) = pooled(&cmd.data, &cmd.model)?;
    let mut o = FunnelOptions {
        contours: cmd.contours,
        ..o
    };
    if cmd.trimfill || cmd.egger {
        use crate::diagnostics::bias;
        let options = cmd.model.pool_options()?;
        if options.method == model::Method::GLMM || options.pooling != model::Pooling::IV {
            return Err(Error::Usage(
                "--trimfill and --egger work on inverse-variance fits: use --pooling IV and a --method other than GLMM"
                    .into(),
            ));
        }
        let es = model::subgroup::checked_effect_sizes(&studies, &options)?;
        let ro = options.rma_options();
        if cmd.trimfill {
            let tf = bias::trimfill(&es, &ro, None, bias::Estimator::L0)?;
            o.filled = tf.filled.iter().map(|f| (f.yi, f.vi)).collect();
        }
        if cmd.egger {
            let r = bias::regtest(&es, &ro, bias::RegModel::Rma, bias::Predictor::Sei)?;
            o.egger = r.est.map(|b0| (b0, r.slope));
        }
    }
    let fig = funnel::figure(&res, &o)?;
    for out in &cmd.figure.out {
        plot::write_figure(&fig, out, o.dpi)?;
    }
    Ok(0)
}
