//! Pool a polars `DataFrame` from Rust: the tofacitinib-vs-control style of two-arm mortality
//! data, as a Mantel–Haenszel risk ratio with RevMan's random-effects rule.
//!
//!     cargo run --example pool_dataframe
//!
//! (The counts are the four BCG trials of `tests/data/comparative/bcg.csv`, chosen only to show
//! the API.)

use metarepro::data::{from_frame, LoadOptions};
use metarepro::effect::Measure;
use metarepro::model::{pool, Method, PoolOptions, Pooling};
use polars_core::df;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let df = df!(
        "study" => ["Aronson 1948", "Ferguson & Simes 1949", "Rosenthal et al 1960", "Hart & Sutherland 1977"],
        "ai" => [4i64, 6, 3, 62],
        "n1i" => [123i64, 306, 231, 13598],
        "ci" => [11i64, 29, 11, 248],
        "n2i" => [139i64, 303, 220, 12867],
    )?;

    // The three lines: data, options, pool.
    let studies = from_frame(df, &LoadOptions::default(), Measure::RR.input_kind(), 0.95)?;
    let options = PoolOptions {
        measure: Measure::RR,
        pooling: Pooling::MH,
        method: Method::DL,
        ..PoolOptions::default()
    };
    let res = pool(&studies, &options)?;

    let (c, r) = (res.common.as_ref().map(|c| c.effect), res.overall.effect);
    if let Some(c) = c {
        println!("M-H RR {:.3} (95% CI {:.3} to {:.3})", c.estimate, c.ci_lb, c.ci_ub);
    }
    println!(
        "random effects RR {:.3} (95% CI {:.3} to {:.3}), tau^2 = {:.4}",
        r.estimate, r.ci_lb, r.ci_ub, res.overall.fit.tau2
    );
    for c in &res.conventions {
        println!("  {c}");
    }
    Ok(())
}
