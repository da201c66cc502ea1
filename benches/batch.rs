//! Batch pooling: 1 000 analyses of k = 10 (PLO, REML) from a CSV file to Parquet and to CSV,
//! the whole `run_batch` (read, pool in parallel, write), and 10 000 analyses to Parquet.
//!
//! `cargo bench --bench batch`. The data are `batch::synthetic_long_table(n, 10, 1)`, the file
//! `benches/compare_metafor.sh` also gives to R.

use criterion::{criterion_group, criterion_main, Criterion};
use metarepro::batch::{run_batch, synthetic_long_table, BatchOptions};

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
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
