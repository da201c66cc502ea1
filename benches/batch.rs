//! Batch pooling: 1 000 analyses of k = 10 (PLO, REML) from a CSV file to Parquet and to CSV,
//! the whole `run_batch` (read, pool in parallel, write), and 10 000 analyses to Parquet.
//!
//! 2×2 tables: the same 1 000 analyses × k = 10 tables
//! (`batch::synthetic_two_group_table(1000, 10, 1)`) pooled as odds ratios by inverse variance
//! (REML, `pool`'s default, and EE), by Mantel–Haenszel (EE: the model of metafor `rma.mh`; and
//! DL: RevMan's "M-H, random") and by Peto, each to Parquet: `batch/1000x10_or_*`. The issue's
//! target is M-H within 2× of IV per analysis.
//!
//! `cargo bench --profile dist --bench batch` (`-- 2x2` for the tables only). The data are
//! `batch::synthetic_long_table(n, 10, 1)`, the file `benches/compare_metafor.sh` also gives to
//! R (and the tables it builds from it).

use criterion::{criterion_group, criterion_main, Criterion};
use metarepro::batch::{run_batch, synthetic_long_table, synthetic_two_group_table, BatchOptions};
use metarepro::effect::{AddTo, Correction, Measure};
use metarepro::model::{Method, PoolOptions, Pooling};

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut g = c.benchmark_group("batch");
    g.sample_size(20);
    for n in [1_000usize, 10_000] {
        let input = dir.path().join(format!("long_{n}.csv"));
        std::fs::write(&input, synthetic_long_table(n, 10, 1)).expect("write input");
        let o = BatchOptions {
            analysis: "analysis".into(),
            ..BatchOptions::default()
        };
        let pq = dir.path().join(format!("out_{n}.parquet"));
        g.bench_function(format!("{n}x10_parquet"), |b| {
            b.iter(|| run_batch(&input, &pq, &o, |_, _| {}).expect("batch"))
        });
        if n == 1_000 {
            let csv = dir.path().join("out.csv");
            g.bench_function(format!("{n}x10_csv"), |b| {
                b.iter(|| run_batch(&input, &csv, &o, |_, _| {}).expect("batch"))
            });
        }
    }

    // 2×2 tables, the options `metarepro batch --measure OR --pooling P --method M` gets.
    let n = 1_000usize;
    let input = dir.path().join("two_group.csv");
    std::fs::write(&input, synthetic_two_group_table(n, 10, 1)).expect("write input");
    for (name, pooling, method) in [
        ("or_iv_reml", Pooling::IV, Method::REML),
        ("or_iv_ee", Pooling::IV, Method::EE),
        ("or_mh", Pooling::MH, Method::EE),
        ("or_mh_dl", Pooling::MH, Method::DL),
        ("or_peto", Pooling::PETO, Method::EE),
    ] {
        let o = BatchOptions {
            analysis: "analysis".into(),
            pool: PoolOptions {
                measure: Measure::OR,
                pooling,
                method,
                // As the command line: 1/2 to tables with a zero cell (none with Peto pooling);
                // double-zero tables get no effect size with M-H and Peto.
                correction: Correction {
                    add: if pooling == Pooling::PETO { 0.0 } else { 0.5 },
                    to: AddTo::Only0,
                },
                drop00: pooling != Pooling::IV,
                ..PoolOptions::default()
            },
            ..BatchOptions::default()
        };
        let pq = dir.path().join(format!("out_{name}.parquet"));
        g.bench_function(format!("{n}x10_{name}_2x2_parquet"), |b| {
            b.iter(|| {
                let s = run_batch(&input, &pq, &o, |_, _| {}).expect("batch");
                assert_eq!(s.analyses_failed, 0, "{name}");
                s
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
