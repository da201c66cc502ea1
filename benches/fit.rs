//! A single REML fit of an intercept-only model, k = 10, 100, 10 000: `rma` (the general engine,
//! O(k p²), builds an `RmaFit`) and `model::fast::rma_int` (allocation-free sums), plus the
//! other estimators at k = 10 000.
//!
//! `cargo bench --profile dist --bench fit`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use metarepro::diagnostics::rng::Rng;
use metarepro::model::fast::rma_int;
use metarepro::model::{rma, Method, RmaOptions};
use std::hint::black_box;

/// k logit proportions from a random-effects model (τ² = 0.16), with their variances.
pub fn data(k: usize) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Rng::new(42);
    let mut y = Vec::with_capacity(k);
    let mut v = Vec::with_capacity(k);
    for _ in 0..k {
        let n = 20.0 + rng.below(181) as f64;
        let p = 1.0 / (1.0 + (-(-1.0 + 0.4 * rng.normal())).exp());
        let x = (n * p).round().clamp(1.0, n - 1.0);
        y.push((x / (n - x)).ln());
        v.push(1.0 / x + 1.0 / (n - x));
    }
    (y, v)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("reml_fit");
    for k in [10usize, 100, 10_000] {
        let (y, v) = data(k);
        let o = RmaOptions::default();
        g.bench_with_input(BenchmarkId::new("rma", k), &k, |b, _| {
            b.iter(|| rma(black_box(&y), black_box(&v), &o).map(|f| f.tau2))
        });
        g.bench_with_input(BenchmarkId::new("rma_int", k), &k, |b, _| {
            b.iter(|| rma_int(black_box(&y), black_box(&v), &o).map(|f| f.core.tau2))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("estimators_k10000");
    let (y, v) = data(10_000);
    for m in [Method::DL, Method::PM, Method::ML, Method::EB] {
        let o = RmaOptions {
            method: m,
            ..RmaOptions::default()
        };
        g.bench_function(BenchmarkId::new("rma_int", m.as_str()), |b| {
            b.iter(|| rma_int(black_box(&y), black_box(&v), &o).map(|f| f.core.tau2))
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
