//! GOSH (REML, PLO): every subset of k = 16 (65 535 fits) and k = 20 (1 048 575 fits), computed
//! only (rows dropped), and streamed to Parquet (one row group per 65 536 subsets).
//!
//! `cargo bench --profile dist --bench gosh`.

use criterion::{criterion_group, criterion_main, Criterion};
use metarepro::batch::TableWriter;
use metarepro::diagnostics::{gosh, GoshOptions, GoshRow};
use metarepro::effect::{escalc, Correction, EffectSizes, Measure};
use metarepro::model::RmaOptions;

fn studies(k: usize) -> EffectSizes {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut ev = Vec::new();
    let mut tot = Vec::new();
    for _ in 0..k {
        let n = 20.0 + (next() % 181) as f64;
        let p = 0.1 + (next() % 500) as f64 / 1000.0;
        ev.push((n * p).round().max(1.0));
        tot.push(n);
    }
    escalc(Measure::PLO, &ev, &tot, Correction::default())
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let ro = RmaOptions::default();
    let mut g = c.benchmark_group("gosh");
    g.sample_size(10);
    for k in [16usize, 20] {
        let es = studies(k);
        let o = GoshOptions::default();
        g.bench_function(format!("k{k}_compute"), |b| {
            b.iter(|| gosh(&es, &ro, &o, |_: &[GoshRow]| Ok(())).expect("gosh"))
        });
        let out = dir.path().join(format!("gosh_{k}.parquet"));
        g.bench_function(format!("k{k}_parquet"), |b| {
            b.iter(|| {
                let mut w = TableWriter::create::<GoshRow>(&out).expect("writer");
                gosh(&es, &ro, &o, |r: &[GoshRow]| w.write(r)).expect("gosh");
                w.finish::<GoshRow>().expect("finish")
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
