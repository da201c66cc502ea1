//! The method search on a 20-study, 4-subgroup table: the full grid (measures × estimators × tests ×
//! corrections × PFT n × separate/common τ²) against five printed claims (4 subgroups + overall).
//!
//! Run: `cargo bench --profile dist --bench method_search`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use metarepro::verify::{claims, prepare, search};

const CSV: &str = "study,events,total,class
S1,12,40,a
S2,30,61,a
S3,9,25,a
S4,22,48,a
S5,15,30,a
S6,40,52,b
S7,33,47,b
S8,18,20,b
S9,27,41,b
S10,61,70,b
S11,3,35,c
S12,0,18,c
S13,7,44,c
S14,11,39,c
S15,5,60,c
S16,25,50,d
S17,14,33,d
S18,40,71,d
S19,8,16,d
S20,19,27,d
";

const CLAIMS: &str = r#"
[paper]
citation = "synthetic benchmark"
[data]
file = "studies.csv"
by = "class"
[[claim]]
label = "overall"
printed = "43.2% (95% CI, 33.0% to 54.1%)"
[[claim]]
label = "a"
subgroup = "a"
printed = "39.4% (95% CI, 33.6% to 45.6%)"
[[claim]]
label = "b"
subgroup = "b"
printed = "72.6% (95% CI, 60.2% to 82.3%)"
[[claim]]
label = "c"
subgroup = "c"
printed = "13.1% (95% CI, 7.3% to 22.4%)"
[[claim]]
label = "d"
subgroup = "d"
printed = "52.8% (95% CI, 44.1% to 61.3%)"
"#;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("studies.csv"), CSV).expect("write data");
    let path = dir.path().join("claims.toml");
    std::fs::write(&path, CLAIMS).expect("write claims");
    let cl = claims::load(&path).expect("claims");
    let prepared = prepare(&cl).expect("data").expect("has data");
    let grid = search::Grid::full(false, true);
    eprintln!("grid size: {} settings", grid.size());
    c.bench_function("method search, full grid, k = 20 in 4 subgroups, 5 claims", |b| {
        b.iter(|| black_box(search::search(&cl, &prepared, &grid, None).expect("search")))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).without_plots();
    targets = bench
}
criterion_main!(benches);
