//! Rendering time of a 300-study forest plot with subgroups (SVG, and PNG at 96 and 300 dpi).
//!
//! `cargo bench --profile dist --bench forest`. Pooling is done once outside the timed loop: this measures the
//! figure (layout, text measurement, rendering, PNG encoding), not the model.

use criterion::{criterion_group, criterion_main, Criterion};
use metarepro::data::Studies;
use metarepro::model::{pool, PoolOptions, PoolResult};
use metarepro::plot::forest::{self, ForestOptions};

/// 300 studies in 3 subgroups with deterministic pseudo-random counts and labels up to 60 chars.
fn result_300() -> PoolResult {
    let k = 300;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut study = Vec::new();
    let mut events = Vec::new();
    let mut total = Vec::new();
    let mut group = Vec::new();
    for i in 0..k {
        let n = 20 + (next() % 400) as usize;
        let p = 0.1 + (next() % 600) as f64 / 1000.0;
        let x = ((n as f64) * p).round().max(1.0);
        let len = 8 + (next() % 53) as usize;
        let mut label = format!("Study {i:03} ");
        while label.len() < len {
            label.push_str("et al. ");
        }
        label.truncate(len);
        study.push(label.trim_end().to_string());
        events.push(x);
        total.push(n as f64);
        group.push(["SSRI", "SNRI", "Tricyclic"][i % 3].to_string());
    }
    let studies = Studies::from_counts(study, events, total, Some(group)).expect("valid counts");
    pool(&studies, &PoolOptions::default()).expect("pools")
}

fn bench(c: &mut Criterion) {
    let res = result_300();
    let opts = ForestOptions::default();
    c.bench_function("forest_300_svg", |b| {
        b.iter(|| forest::render_svg(&res, &opts).expect("svg"))
    });
    let screen = ForestOptions {
        dpi: 96.0,
        ..ForestOptions::default()
    };
    c.bench_function("forest_300_png_96dpi", |b| {
        b.iter(|| forest::render_png(&res, &screen).expect("png"))
    });
    let mut group = c.benchmark_group("slow");
    group.sample_size(10);
    group.bench_function("forest_300_png_300dpi", |b| {
        b.iter(|| forest::render_png(&res, &opts).expect("png"))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Criterion's own HTML charts go through plotters, which in this crate has only the ab_glyph
    // font backend (no system fonts): they would fail to find "sans-serif". The timings are
    // printed either way.
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
