//! RevMan 5 files: 1 000 analyses re-pooled and checked by RevMan's rules after parsing
//! (`verify::revman::verify_review`), the target being under 1 s; and the parse of the
//! same review.
//!
//! The review is built from the outcomes of the test files (`tests/fixtures/revman/*.rm5`: M-H,
//! IV and Peto with zero cells, double zeros, RD, SMD, MD, generic IV, subgroups with TOTALS=SUB
//! and YES), repeated until there are 1 000 outcome-level analyses (about 1 300 with their
//! subgroups).
//!
//! `cargo bench --profile dist --bench revman`.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use metarepro::data::revman::{parse_rm5, read_rm5, Review};
use metarepro::verify::revman::verify_review;

fn review_of(n: usize) -> Review {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/revman");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rm5"))
        .collect();
    files.sort();
    let reviews: Vec<Review> = files.iter().map(|p| read_rm5(p).expect("fixture")).collect();
    let outcomes: Vec<_> = reviews
        .iter()
        .flat_map(|r| r.comparisons.iter().flat_map(|c| c.outcomes.iter().cloned()))
        .filter(|o| o.stored.has_results())
        .collect();
    let mut review = reviews[0].clone();
    let mut cmp = review.comparisons[0].clone();
    cmp.outcomes = (0..n)
        .map(|i| {
            let mut o = outcomes[i % outcomes.len()].clone();
            o.id = format!("CMP-001.{:04}", i + 1);
            o
        })
        .collect();
    review.comparisons = vec![cmp];
    review
}

fn bench(c: &mut Criterion) {
    let review = review_of(1_000);
    let check = verify_review(&review);
    assert_eq!(check.summary.differs, 0, "{}", check.summary.text);
    let mut g = c.benchmark_group("revman");
    g.sample_size(20);
    g.bench_function("verify_1000_analyses", |b| b.iter(|| verify_review(&review)));
    let text = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/revman/rule_subgroups.rm5"))
        .expect("fixture");
    g.bench_function("parse_rule_subgroups", |b| {
        b.iter(|| parse_rm5(&text, Path::new("x.rm5")).expect("parse"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
