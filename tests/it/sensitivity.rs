//! Sensitivity analyses, batch pooling and the allocation-free fit.
//!
//! - leave1out, cumul, influence (inf and dfbs, influential flags), Baujat data, exact
//!   permutation tests and GOSH subsets compared with R metafor (fixtures written by
//!   `tests/fixtures/make_sensitivity_fixtures.R`): 1e-6 relative or 1e-10 absolute, as the pool
//!   fixtures; the largest differences are printed (`--nocapture`).
//! - `model::fast::rma_int` against `rma` on every case of the pool fixtures, to 1e-12.
//! - The bootstrap has no metafor equivalent: reproducibility by seed (also across thread
//!   counts) and distributional sanity.
//! - Batch: results equal to `pool`, a bad analysis gives a row with its message, streaming
//!   order checks, Parquet and CSV outputs; GOSH streams in chunks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use metarepro::batch::{run_batch, BatchOptions};
use metarepro::data::Studies;
use metarepro::diagnostics::{
    self, bootstrap_tau2, cumul, cumul_order, gosh, influence, leave1out, permutest, BootstrapOptions, GoshOptions,
    GoshRow, PermTestOptions,
};
use metarepro::effect::{escalc, AddTo, Correction, EffectSizes, Measure};
use metarepro::model::fast::rma_int;
use metarepro::model::{pool, rma, FitRow, Method, PoolOptions, RmaOptions, Test};
use serde_json::Value;

const REL: f64 = 1e-6;
const ABS: f64 = 1e-10;

#[derive(Default)]
struct Checker {
    failures: Vec<String>,
    compared: usize,
    /// Largest relative difference per output.
    max_rel: HashMap<String, f64>,
}

impl Checker {
    fn num(&mut self, group: &str, what: &str, ours: f64, theirs: &Value) {
        // I² is in percent: its absolute tolerance is that of a fraction (1e-10) times 100. This
        // matters only at the boundary τ² = 0, where metafor's Fisher scoring can stop at
        // τ² ≈ 5e-15 instead of 0 (GOSH subsets of debruin2009, PR, REML: metafor I² = 2.3e-10 %).
        let abs = if what.ends_with(".I2") || what.contains(".I2[") {
            100.0 * ABS
        } else {
            ABS
        };
        self.compared += 1;
        match theirs.as_f64() {
            None => {
                if ours.is_finite() {
                    self.failures.push(format!("{what}: metafor NA, ours {ours}"));
                }
            }
            Some(t) => {
                let d = (ours - t).abs();
                let ok = d <= abs || d <= REL * t.abs();
                let rel = if t.abs() > abs { d / t.abs() } else { d };
                let e = self.max_rel.entry(group.to_string()).or_insert(0.0);
                if rel.is_nan() || rel > *e {
                    *e = if rel.is_nan() { f64::INFINITY } else { rel };
                }
                if !ok {
                    self.failures.push(format!("{what}: metafor {t:e}, ours {ours:e}"));
                }
            }
        }
    }

    fn vec(&mut self, group: &str, what: &str, ours: &[f64], theirs: &Value) {
        let t = theirs.as_array().cloned().unwrap_or_default();
        if t.len() != ours.len() {
            self.failures
                .push(format!("{what}: metafor has {} values, ours {}", t.len(), ours.len()));
            return;
        }
        for (i, (o, t)) in ours.iter().zip(&t).enumerate() {
            self.num(group, &format!("{what}[{i}]"), *o, t);
        }
    }
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default()
}

fn fixture_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    files
}

fn fit_rows(c: &mut Checker, group: &str, label: &str, rows: &[FitRow], r: &Value) {
    let col = |f: fn(&FitRow) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    c.vec(
        group,
        &format!("{label}.estimate"),
        &col(|r| r.estimate),
        &r["estimate"],
    );
    c.vec(group, &format!("{label}.se"), &col(|r| r.se), &r["se"]);
    c.vec(group, &format!("{label}.zval"), &col(|r| r.zval), &r["zval"]);
    c.vec(group, &format!("{label}.pval"), &col(|r| r.pval), &r["pval"]);
    c.vec(group, &format!("{label}.ci_lb"), &col(|r| r.ci_lb), &r["ci_lb"]);
    c.vec(group, &format!("{label}.ci_ub"), &col(|r| r.ci_ub), &r["ci_ub"]);
    c.vec(group, &format!("{label}.Q"), &col(|r| r.q), &r["Q"]);
    c.vec(group, &format!("{label}.Qp"), &col(|r| r.q_p), &r["Qp"]);
    c.vec(group, &format!("{label}.tau2"), &col(|r| r.tau2), &r["tau2"]);
    c.vec(group, &format!("{label}.I2"), &col(|r| r.i2), &r["I2"]);
    c.vec(group, &format!("{label}.H2"), &col(|r| r.h2), &r["H2"]);
}

fn subset(es: &EffectSizes, idx: &[usize]) -> EffectSizes {
    es.subset(idx)
}

#[test]
fn sensitivity_outputs_match_metafor() {
    let files = fixture_files("tests/fixtures/sensitivity");
    assert!(!files.is_empty(), "no sensitivity fixtures");
    let mut c = Checker::default();
    let mut cases = 0;
    for path in &files {
        let fx: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let name = fx["name"].as_str().unwrap().to_string();
        let events = floats(&fx["events"]);
        let total = floats(&fx["total"]);
        for case in fx["cases"].as_array().unwrap() {
            cases += 1;
            let measure: Measure = case["measure"].as_str().unwrap().parse().unwrap();
            let method: Method = case["method"].as_str().unwrap().parse().unwrap();
            let test: Test = case["test"].as_str().unwrap().parse().unwrap();
            let label = format!("{name} {measure} {method} {test}");
            let options = PoolOptions {
                measure,
                method,
                test,
                ..PoolOptions::default()
            };
            let ro = options.rma_options();
            let es = escalc(
                measure,
                &events,
                &total,
                Correction {
                    add: 0.5,
                    to: AddTo::Only0,
                },
            );
            c.vec("escalc", &format!("{label} yi"), &es.yi, &case["yi"]);

            let l1o = leave1out(&es, &options).unwrap();
            fit_rows(
                &mut c,
                "leave1out",
                &format!("{label} leave1out"),
                &l1o,
                &case["leave1out"],
            );

            let order: Vec<usize> = case["cumul"]["order"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(
                cumul_order(&floats(&fx["order_values"]), false),
                order,
                "{label}: cumul order"
            );
            let cu = cumul(&es, &options, &order).unwrap();
            fit_rows(&mut c, "cumul", &format!("{label} cumul"), &cu, &case["cumul"]);

            let inf = influence(&es, &options).unwrap();
            let r = &case["influence"];
            let l = format!("{label} influence");
            c.vec("influence", &format!("{l}.rstudent"), &inf.rstudent, &r["rstudent"]);
            c.vec("influence", &format!("{l}.dffits"), &inf.dffits, &r["dffits"]);
            c.vec("influence", &format!("{l}.cook_d"), &inf.cook_d, &r["cook_d"]);
            c.vec("influence", &format!("{l}.cov_r"), &inf.cov_r, &r["cov_r"]);
            c.vec("influence", &format!("{l}.tau2_del"), &inf.tau2_del, &r["tau2_del"]);
            c.vec("influence", &format!("{l}.QE_del"), &inf.qe_del, &r["QE_del"]);
            c.vec("influence", &format!("{l}.hat"), &inf.hat, &r["hat"]);
            c.vec("influence", &format!("{l}.weight"), &inf.weight, &r["weight"]);
            c.vec("influence", &format!("{l}.dfbs"), &inf.dfbs, &r["dfbs"]);
            let flags: Vec<bool> = r["inf"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_bool() == Some(true))
                .collect();
            assert_eq!(inf.inf, flags, "{l}: influential flags");

            let bj = diagnostics::baujat(&es, &options).unwrap();
            c.vec("baujat", &format!("{label} baujat.x"), &bj.x, &case["baujat"]["x"]);
            c.vec("baujat", &format!("{label} baujat.y"), &bj.y, &case["baujat"]["y"]);

            if let Some(p) = case.get("permutest").filter(|v| !v.is_null()) {
                let o = PermTestOptions {
                    exact: true,
                    ..PermTestOptions::default()
                };
                let pt = permutest(&es, &ro, &o).unwrap();
                assert!(pt.exact);
                assert_eq!(pt.iter, p["iter"].as_u64().unwrap(), "{label}: permutest iter");
                c.num("permutest", &format!("{label} permutest.pval"), pt.pval, &p["pval"]);
                c.num("permutest", &format!("{label} permutest.QMp"), pt.qm_p, &p["QMp"]);
                c.num("permutest", &format!("{label} permutest.QM"), pt.qm, &p["QM"]);
                c.num("permutest", &format!("{label} permutest.zval"), pt.zval, &p["zval"]);
            }
            if let Some(p) = case.get("permutest_small").filter(|v| !v.is_null()) {
                let idx: Vec<usize> = (0..8).collect();
                let sub = subset(&es, &idx);
                let o = PermTestOptions {
                    keep_distribution: true,
                    ..PermTestOptions::default()
                };
                let pt = permutest(&sub, &ro, &o).unwrap();
                assert!(pt.exact, "{label}: 2^8 <= 1000 is exact by default");
                c.num("permutest", &format!("{label} permutest8.pval"), pt.pval, &p["pval"]);
                c.num("permutest", &format!("{label} permutest8.QMp"), pt.qm_p, &p["QMp"]);
                c.vec(
                    "permutest distribution",
                    &format!("{label} permutest8.zval_perm"),
                    pt.zval_perm.as_deref().unwrap(),
                    &p["zval_perm"],
                );
            }
            if let Some(g) = case.get("gosh").filter(|v| !v.is_null()) {
                let idx: Vec<usize> = (0..6).collect();
                let sub = subset(&es, &idx);
                let mut rows: Vec<GoshRow> = Vec::new();
                let s = gosh(&sub, &ro, &GoshOptions::default(), |r: &[GoshRow]| {
                    rows.extend_from_slice(r);
                    Ok(())
                })
                .unwrap();
                assert!(s.exact);
                assert_eq!(s.subsets, 63);
                let by_mask: HashMap<u64, GoshRow> = rows.iter().map(|r| (r.mask, *r)).collect();
                let masks = g["mask"].as_array().unwrap();
                assert_eq!(masks.len(), 63);
                for (i, m) in masks.iter().enumerate() {
                    let r = by_mask[&m.as_u64().unwrap()];
                    let l = format!("{label} gosh[{}]", m);
                    assert_eq!(r.k as u64, g["k"][i].as_u64().unwrap(), "{l}.k");
                    c.num("gosh", &format!("{l}.estimate"), r.estimate, &g["estimate"][i]);
                    c.num("gosh", &format!("{l}.QE"), r.qe, &g["QE"][i]);
                    c.num("gosh", &format!("{l}.I2"), r.i2, &g["I2"][i]);
                    c.num("gosh", &format!("{l}.H2"), r.h2, &g["H2"][i]);
                    c.num("gosh", &format!("{l}.tau2"), r.tau2, &g["tau2"][i]);
                }
            }
        }
    }
    let mut groups: Vec<_> = c.max_rel.iter().collect();
    groups.sort_by(|a, b| a.0.cmp(b.0));
    println!(
        "{} fixture files, {cases} cases, {} values compared",
        files.len(),
        c.compared
    );
    for (g, m) in groups {
        println!("  max relative difference {g:<24} {m:.2e}");
    }
    assert!(
        c.failures.is_empty(),
        "{} of {} values differ from metafor:\n{}",
        c.failures.len(),
        c.compared,
        c.failures.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn fast_fit_equals_rma_on_every_pool_fixture_case() {
    let mut n = 0;
    let mut worst: f64 = 0.0;
    for path in fixture_files("tests/fixtures/pool") {
        let fx: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for case in fx["cases"].as_array().unwrap() {
            if case.get("error").is_some_and(|e| !e.is_null()) {
                continue;
            }
            let (yi, vi) = (floats(&case["yi"]), floats(&case["vi"]));
            let o = RmaOptions {
                method: case["method"].as_str().unwrap().parse().unwrap(),
                test: case["test"].as_str().unwrap().parse().unwrap(),
                ..RmaOptions::default()
            };
            let (a, b) = match (rma(&yi, &vi, &o), rma_int(&yi, &vi, &o)) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(_), Err(_)) => continue,
                (a, b) => panic!("{}: rma {:?} vs rma_int {:?}", path.display(), a.is_ok(), b.is_ok()),
            };
            let pairs = [
                (a.estimate(), b.core.estimate),
                (a.se(), b.se),
                (a.coefficients[0].ci_lb, b.ci_lb),
                (a.coefficients[0].ci_ub, b.ci_ub),
                (a.coefficients[0].pval, b.pval),
                (a.tau2, b.core.tau2),
                (a.q, b.core.q),
                (a.q_p, b.q_p),
                (a.i2, b.core.i2),
                (a.h2, b.core.h2),
            ];
            for (x, y) in pairs {
                n += 1;
                if x.is_nan() && y.is_nan() {
                    continue;
                }
                let d = (x - y).abs();
                let rel = if x.abs() > 1e-300 { d / x.abs() } else { d };
                // Absolute 1e-15 for values at 0 (e.g. tau2 = 0 vs 1e-17 after cancellation).
                assert!(
                    d <= 1e-15 || rel <= 1e-12,
                    "{}: {} {} {}: rma {x:e} vs rma_int {y:e}",
                    path.display(),
                    case["measure"],
                    o.method,
                    o.test
                );
                if d > 1e-15 {
                    worst = worst.max(rel);
                }
            }
        }
    }
    println!("rma_int vs rma: {n} values, largest relative difference {worst:.2e}");
    assert!(n > 10_000);
}

fn example() -> EffectSizes {
    let events = [16.0, 10.0, 4.0, 13.0, 6.0, 17.0, 9.0, 22.0, 40.0, 5.0, 30.0, 7.0];
    let total = [17.0, 12.0, 8.0, 16.0, 12.0, 22.0, 13.0, 30.0, 52.0, 10.0, 35.0, 14.0];
    escalc(Measure::PLO, &events, &total, Correction::default())
}

#[test]
fn bootstrap_is_reproducible_and_sane() {
    let es = example();
    let ro = RmaOptions::default();
    let o = BootstrapOptions {
        replicates: 400,
        seed: 7,
        keep_replicates: true,
        ..BootstrapOptions::default()
    };
    let a = bootstrap_tau2(&es, &ro, &o).unwrap();
    let b = bootstrap_tau2(&es, &ro, &o).unwrap();
    assert_eq!(a, b, "same seed, same result");
    // The same with one thread: replicate r always draws from stream r.
    let pool1 = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let c = pool1.install(|| bootstrap_tau2(&es, &ro, &o).unwrap());
    assert_eq!(a, c, "independent of the number of threads");
    let d = bootstrap_tau2(&es, &ro, &BootstrapOptions { seed: 8, ..o }).unwrap();
    assert_ne!(a.tau2_star, d.tau2_star);
    assert!(a.ci_lb <= a.median && a.median <= a.ci_ub);
    assert!(a.tau2_star.as_ref().unwrap().iter().all(|t| *t >= 0.0));

    // Distribution: 60 studies simulated with tau2 = 0.25; the bootstrap mean is near the
    // estimate and the interval covers it.
    let mut rng = diagnostics::rng::Rng::new(3);
    let k = 60;
    let vi: Vec<f64> = (0..k).map(|i| 0.02 + 0.01 * (i % 7) as f64).collect();
    let yi: Vec<f64> = vi.iter().map(|v| 0.3 + (v + 0.25f64).sqrt() * rng.normal()).collect();
    let es = EffectSizes {
        measure: Measure::PLO,
        yi,
        vi,
        ni: vec![100.0; k],
        corrected: vec![false; k],
    };
    let r = bootstrap_tau2(
        &es,
        &ro,
        &BootstrapOptions {
            replicates: 1000,
            ..BootstrapOptions::default()
        },
    )
    .unwrap();
    assert!(r.failed == 0);
    assert!(
        (r.mean - r.tau2).abs() < 0.1 * r.tau2,
        "mean {} vs tau2 {}",
        r.mean,
        r.tau2
    );
    assert!(r.ci_lb < r.tau2 && r.tau2 < r.ci_ub);
    // SE close to the REML asymptotic SE sqrt(2 / sum w^2) (within 30%).
    let sw2: f64 = es.vi.iter().map(|v| (v + r.tau2).powi(-2)).sum();
    let ase = (2.0 / sw2).sqrt();
    assert!(
        (r.se / ase - 1.0).abs() < 0.3,
        "bootstrap SE {} vs asymptotic {}",
        r.se,
        ase
    );
}

#[test]
fn random_permutations_and_subsets_are_reproducible() {
    let es = example();
    let ro = RmaOptions::default();
    let o = PermTestOptions {
        iter: 500,
        seed: 11,
        ..PermTestOptions::default()
    };
    let a = permutest(&es, &ro, &o).unwrap();
    assert!(!a.exact);
    assert_eq!(a, permutest(&es, &ro, &o).unwrap());
    let exact = permutest(
        &es,
        &ro,
        &PermTestOptions {
            exact: true,
            ..PermTestOptions::default()
        },
    )
    .unwrap();
    assert_eq!(exact.iter, 1 << 12);
    assert!((a.pval - exact.pval).abs() < 0.02);

    let go = GoshOptions {
        subsets: 3000,
        seed: 5,
        chunk: 1000,
        ..GoshOptions::default()
    };
    let mut chunks = Vec::new();
    let mut rows = Vec::new();
    let s = gosh(&es, &ro, &go, |r: &[GoshRow]| {
        chunks.push(r.len());
        rows.extend_from_slice(r);
        Ok(())
    })
    .unwrap();
    assert!(!s.exact);
    assert_eq!(chunks, vec![1000, 1000, 1000], "streamed in chunks");
    let mut again = Vec::new();
    gosh(&es, &ro, &go, |r: &[GoshRow]| {
        again.extend_from_slice(r);
        Ok(())
    })
    .unwrap();
    assert_eq!(rows, again);
    assert!(rows.iter().all(|r| r.mask != 0 && r.mask < 1 << 12));
    assert_eq!(s.histogram.counts.iter().sum::<u64>(), 3000 - s.failed);
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn batch_matches_pool_and_isolates_bad_analyses() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "analysis,study,events,total,grp\n\
               a1,s1,16,17,x\na1,s2,10,12,x\na1,s3,4,8,y\na1,s4,13,16,y\na1,s5,6,12,y\n\
               bad,s1,5,4,x\nbad,s2,3,10,x\n\
               \"a,3\",s1,3,20,x\n\"a,3\",s2,8,25,x\n\"a,3\",s3,NA,30,x\n\
               a4,s1,12,40,x\na4,s2,30,60,y\n";
    let input = write(dir.path(), "long.csv", csv);
    let out = dir.path().join("out.csv");
    let o = BatchOptions {
        analysis: "analysis".into(),
        by: Some("grp".into()),
        chunk: 2,
        ..BatchOptions::default()
    };
    let s = run_batch(&input, &out, &o, |_, _| {}).unwrap();
    assert_eq!(s.analyses, 4);
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("analysis,subgroup,k,estimate,se,ci_lb,ci_ub"));
    // a1: overall + x + y; bad: 1 row; "a,3": 1 row (NA count); a4: overall + x + y.
    assert_eq!(lines.len(), 1 + 3 + 1 + 1 + 3, "{text}");
    assert!(lines[4].starts_with("bad,,2,") && lines[4].contains("greater than total"));
    assert!(lines[5].starts_with("\"a,3\",,3,") && lines[5].contains("missing count"));
    assert!(lines[4].contains(",false,"));

    // a1 overall equals `pool` on the same studies.
    let st = Studies::from_counts(
        (1..=5).map(|i| format!("s{i}")).collect(),
        vec![16.0, 10.0, 4.0, 13.0, 6.0],
        vec![17.0, 12.0, 8.0, 16.0, 12.0],
        None,
    )
    .unwrap();
    let p = pool(&st, &PoolOptions::default()).unwrap();
    let f: Vec<&str> = lines[1].split(',').collect();
    let est: f64 = f[3].parse().unwrap();
    let tau2: f64 = f[8].parse().unwrap();
    let prop: f64 = f[12].parse().unwrap();
    assert!((est - p.overall.coef().estimate).abs() < 1e-12);
    assert!((tau2 - p.overall.fit.tau2).abs() < 1e-12);
    assert!((prop - p.overall.effect.estimate).abs() < 1e-12);

    // Parquet output: same number of rows.
    let pq = dir.path().join("out.parquet");
    run_batch(&input, &pq, &o, |_, _| {}).unwrap();
    let df = metarepro::data::read_frame(&pq, None).unwrap();
    assert_eq!(df.height(), 8);
    assert!(df.column("converged").is_ok() && df.column("proportion_ci_ub").is_ok());

    // Non-contiguous analyses: an error naming the lines, unless --unsorted.
    let scattered = write(
        dir.path(),
        "scattered.csv",
        "analysis,events,total\nA,1,10\nB,2,10\nA,3,10\n",
    );
    let e = run_batch(
        &scattered,
        &dir.path().join("x.csv"),
        &BatchOptions::default(),
        |_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("line 4") && e.contains("contiguous"), "{e}");
    assert!(!dir.path().join("x.csv").exists(), "no output on error");
    let un = BatchOptions {
        unsorted: true,
        ..BatchOptions::default()
    };
    let s = run_batch(&scattered, &dir.path().join("x.csv"), &un, |_, _| {}).unwrap();
    assert_eq!(s.analyses, 2);
    let t = std::fs::read_to_string(dir.path().join("x.csv")).unwrap();
    assert!(t.lines().nth(1).unwrap().starts_with("A,,2,"), "{t}");
}

#[test]
fn cli_runs_the_new_commands() {
    use assert_cmd::Command;
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/pritz1997/studies.csv");
    let bin = || Command::cargo_bin("metarepro").unwrap();
    let out = bin()
        .args(["leave1out", data.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), 14);
    assert_eq!(v["rows"][0]["label"], "Giannotta et al.");
    let svg = dir.path().join("cum.svg");
    bin()
        .args(["cumul", data.to_str().unwrap(), "--order", "total", "--plot"])
        .arg(&svg)
        .assert()
        .success();
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    let pq = dir.path().join("g.parquet");
    bin()
        .args(["gosh", data.to_str().unwrap(), "--format", "json", "--subsets-output"])
        .arg(&pq)
        .assert()
        .success();
    let df = metarepro::data::read_frame(&pq, None).unwrap();
    assert_eq!(df.height(), (1 << 14) - 1);
    for cmd in ["influence", "permutest", "bootstrap"] {
        bin().args([cmd, data.to_str().unwrap()]).assert().success();
    }
    let long = write(
        dir.path(),
        "long.csv",
        "id,events,total\na,1,10\na,5,12\nb,3,9\nb,4,4\n",
    );
    bin()
        .args(["batch", long.to_str().unwrap(), "--analysis", "id", "--output"])
        .arg(dir.path().join("o.parquet"))
        .assert()
        .success();
}

/// Read a CSV written by metarepro with the project's own reader, every column as text.
fn csv_as_text(path: &Path) -> Vec<Vec<Option<String>>> {
    let df = metarepro::data::read_frame(path, None).unwrap();
    frame_as_text(&df)
}

/// Every cell as text (numbers through f64, so that "3.3e-5" and "0.000033" agree); `None` for
/// a null, or an empty CSV field.
fn frame_as_text(df: &metarepro::polars_core::prelude::DataFrame) -> Vec<Vec<Option<String>>> {
    use metarepro::polars_core::prelude::*;
    df.columns()
        .iter()
        .map(|c| {
            let s = c.as_materialized_series();
            (0..s.len())
                .map(|i| match s.get(i).unwrap() {
                    AnyValue::Null => None,
                    AnyValue::String("") => None,
                    AnyValue::String(t) => Some(t.parse::<f64>().map(|x| format!("{x:?}")).unwrap_or(t.to_string())),
                    AnyValue::Boolean(b) => Some(b.to_string()),
                    v => Some(match v.extract::<f64>() {
                        Some(x) => format!("{x:?}"),
                        None => v.to_string(),
                    }),
                })
                .collect()
        })
        .collect()
}

#[test]
fn batch_parquet_and_csv_hold_the_same_table() {
    use metarepro::polars_core::prelude::DataType;
    let dir = tempfile::tempdir().unwrap();
    // Subgroups (null on overall rows), a failed analysis (null numbers, a message), quoting.
    let csv = "analysis,study,events,total,grp\n\
               a1,s1,16,17,x\na1,s2,10,12,x\na1,s3,4,8,y\na1,s4,13,16,y\na1,s5,6,12,y\n\
               bad,s1,5,4,x\nbad,s2,3,10,x\n\
               \"a,3\",s1,3,20,\"x,y\"\n\"a,3\",s2,8,25,\"x,y\"\n";
    let input = write(dir.path(), "long.csv", csv);
    for (by, chunk) in [(Some("grp"), 1), (Some("grp"), 4096), (None, 2)] {
        let o = BatchOptions {
            by: by.map(String::from),
            chunk,
            ..BatchOptions::default()
        };
        let (c, p) = (dir.path().join("o.csv"), dir.path().join("o.parquet"));
        run_batch(&input, &c, &o, |_, _| {}).unwrap();
        run_batch(&input, &p, &o, |_, _| {}).unwrap();
        let df = metarepro::data::read_frame(&p, None).unwrap();
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        let header = std::fs::read_to_string(&c).unwrap();
        assert_eq!(names.join(","), header.lines().next().unwrap());
        assert_eq!(df.column("k").unwrap().dtype(), &DataType::UInt32);
        assert_eq!(df.column("estimate").unwrap().dtype(), &DataType::Float64);
        assert_eq!(df.column("converged").unwrap().dtype(), &DataType::Boolean);
        assert_eq!(df.column("subgroup").unwrap().dtype(), &DataType::String);
        // Failed rows: numbers are null (not NaN), the message is there.
        let bad = df.column("estimate").unwrap().null_count();
        assert_eq!(bad, 1, "the one failed analysis has no estimate");
        assert_eq!(df.column("message").unwrap().null_count(), df.height() - 1);
        assert_eq!(frame_as_text(&df), csv_as_text(&c), "by {by:?}, chunk {chunk}");
        // One row group per chunk of analyses (3 analyses here).
        use parquet::file::reader::FileReader;
        let reader = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&p).unwrap()).unwrap();
        assert_eq!(
            reader.metadata().num_row_groups(),
            3usize.div_ceil(chunk),
            "chunk {chunk}"
        );
        #[cfg(unix)]
        for f in [&c, &p] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644, "{} is an ordinary file", f.display());
        }
    }
    // No analyses: the schema (Parquet) or header (CSV) alone.
    let empty = write(dir.path(), "empty.csv", "analysis,events,total\n");
    let p = dir.path().join("e.parquet");
    let s = run_batch(&empty, &p, &BatchOptions::default(), |_, _| {}).unwrap();
    assert_eq!(s.analyses, 0);
    let df = metarepro::data::read_frame(&p, None).unwrap();
    assert_eq!((df.height(), df.width()), (0, 17));
    let c = dir.path().join("e.csv");
    run_batch(&empty, &c, &BatchOptions::default(), |_, _| {}).unwrap();
    assert_eq!(std::fs::read_to_string(&c).unwrap().lines().count(), 1);
}

#[test]
fn gosh_parquet_and_csv_hold_the_same_table() {
    let es = example();
    let o = GoshOptions {
        chunk: 100,
        ..GoshOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    for name in ["g.csv", "g.parquet"] {
        let path = dir.path().join(name);
        let mut w = metarepro::batch::TableWriter::create::<GoshRow>(&path).unwrap();
        gosh(&es, &RmaOptions::default(), &o, |rows: &[GoshRow]| w.write(rows)).unwrap();
        w.finish::<GoshRow>().unwrap();
    }
    let pq = metarepro::data::read_frame(&dir.path().join("g.parquet"), None).unwrap();
    assert_eq!(pq.height(), (1 << es.yi.len()) - 1);
    assert_eq!(
        pq.column("mask").unwrap().dtype(),
        &metarepro::polars_core::prelude::DataType::UInt64
    );
    assert_eq!(frame_as_text(&pq), csv_as_text(&dir.path().join("g.csv")));
}

#[test]
fn batch_tells_a_repeated_analysis_in_sorted_and_grouped_files() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, ids: &[&str]| {
        let mut text = String::from("analysis,events,total\n");
        for (i, id) in ids.iter().enumerate() {
            text.push_str(&format!("{id},{},20\n{id},{},30\n", 3 + i % 5, 7 + i % 11));
        }
        let input = write(dir.path(), name, &text);
        let out = dir.path().join(format!("{name}.csv"));
        run_batch(&input, &out, &BatchOptions::default(), |_, _| {}).map(|s| s.analyses)
    };
    // Sorted as text, sorted as numbers (9 before 10), grouped but not sorted: all fine.
    assert_eq!(run("text.csv", &["a", "b", "c", "d"]).unwrap(), 4);
    let numbers: Vec<String> = (1..=25).map(|i| i.to_string()).collect();
    let numbers: Vec<&str> = numbers.iter().map(|s| s.as_str()).collect();
    assert_eq!(run("numbers.csv", &numbers).unwrap(), 25);
    assert_eq!(run("grouped.csv", &["c", "a", "d", "b", "e"]).unwrap(), 5);
    // A repeat is found whether it is the first id out of order or comes after hashing began;
    // the message names the line of the repeat and where the earlier rows ended.
    let e = run("repeat_first.csv", &["a", "b", "c", "b"]).unwrap_err().to_string();
    assert!(
        e.contains("line 8") && e.contains("\"b\"") && e.contains("end on line 5"),
        "{e}"
    );
    let e = run("repeat_later.csv", &["c", "a", "d", "b", "a"])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("line 10") && e.contains("\"a\"") && e.contains("end on line 5"),
        "{e}"
    );
    let e = run("repeat_numbers.csv", &["1", "2", "10", "2"])
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 8") && e.contains("end on line 5"), "{e}");
    for f in ["repeat_first.csv.csv", "repeat_later.csv.csv", "repeat_numbers.csv.csv"] {
        assert!(!dir.path().join(f).exists(), "no output after an error");
    }
}

#[test]
fn batch_glmm_equals_pool_glmm() {
    let dir = tempfile::tempdir().unwrap();
    // A study with no events: the GLMM needs no correction.
    let ev = [16.0, 10.0, 0.0, 13.0, 6.0, 9.0];
    let tot = [17.0, 12.0, 8.0, 16.0, 12.0, 20.0];
    let grp = ["x", "x", "y", "y", "y", "x"];
    let mut csv = String::from("analysis,events,total,grp\n");
    for i in 0..ev.len() {
        csv.push_str(&format!("a,{},{},{}\n", ev[i], tot[i], grp[i]));
    }
    let input = write(dir.path(), "g.csv", &csv);
    let pool_options = PoolOptions {
        method: Method::GLMM,
        ..PoolOptions::default()
    };
    let o = BatchOptions {
        by: Some("grp".into()),
        pool: pool_options,
        ..BatchOptions::default()
    };
    let out = dir.path().join("g.parquet");
    run_batch(&input, &out, &o, |_, _| {}).unwrap();
    let csv_out = dir.path().join("g.csv.csv");
    run_batch(&input, &csv_out, &o, |_, _| {}).unwrap();
    let rows: Vec<Vec<String>> = std::fs::read_to_string(&csv_out)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    let st = Studies::from_counts(
        (1..=ev.len()).map(|i| format!("s{i}")).collect(),
        ev.to_vec(),
        tot.to_vec(),
        Some(grp.iter().map(|g| g.to_string()).collect()),
    )
    .unwrap();
    let p = pool(&st, &pool_options).unwrap();
    assert_eq!(p.method, Method::GLMM);
    let expected = std::iter::once(&p.overall).chain(p.subgroups.iter());
    assert_eq!(rows.len(), 1 + p.subgroups.len());
    for (row, fit) in rows.iter().zip(expected) {
        let x = |i: usize| row[i].parse::<f64>().unwrap();
        assert_eq!(row[15], "true", "{row:?}");
        for (i, want) in [
            (3, fit.coef().estimate),
            (4, fit.coef().se),
            (5, fit.coef().ci_lb),
            (6, fit.coef().ci_ub),
            (8, fit.fit.tau2),
            (9, fit.fit.i2),
            (10, fit.fit.q),
            (12, fit.effect.estimate),
            (13, fit.effect.ci_lb),
            (14, fit.effect.ci_ub),
        ] {
            assert!(
                (x(i) - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{row:?}: column {i} {} vs {want}",
                x(i)
            );
        }
    }
    // The GLMM models logits: another measure is a usage error before anything is written.
    let bad = BatchOptions {
        pool: PoolOptions {
            measure: Measure::PR,
            ..pool_options
        },
        ..o
    };
    let e = run_batch(&input, &dir.path().join("x.csv"), &bad, |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("does not support measure PR"), "{e}");
    assert!(!dir.path().join("x.csv").exists());
}

// ---------------------------------------------------------------------------------------------
// Batch of 2×2 tables (OR, RR, RD, PETO, AS; IV, M-H, Peto): every analysis gives the numbers
// `metarepro pool` gives for its rows; bad tables fail only their analysis; exit codes.
// ---------------------------------------------------------------------------------------------

/// Two analyses of 2×2 tables as (study, group, ai, n1i, ci, n2i). The second has zero cells and
/// a double-zero table (left out of the M-H Q by drop00, kept in the M-H sums, corrected for IV).
/// A study of a two-group batch: (study, group, ai, n1i, ci, n2i).
type TwoGroupRow = (&'static str, &'static str, u32, u32, u32, u32);

fn two_group_analyses() -> Vec<(&'static str, Vec<TwoGroupRow>)> {
    vec![
        (
            "t1",
            vec![
                ("s1", "x", 12, 50, 8, 48),
                ("s2", "x", 5, 30, 9, 31),
                ("s3", "y", 20, 100, 14, 98),
                ("s4", "y", 3, 25, 7, 26),
                ("s5", "y", 15, 60, 15, 62),
            ],
        ),
        (
            "t2",
            vec![
                ("s1", "x", 0, 20, 3, 21),
                ("s2", "x", 4, 40, 9, 40),
                ("s3", "x", 0, 15, 0, 16),
                ("s4", "y", 10, 55, 18, 57),
                ("s5", "y", 6, 33, 5, 30),
                ("s6", "y", 2, 18, 7, 20),
            ],
        ),
    ]
}

/// The batch file (ai, n1i, ci, n2i) and one `pool` file per analysis (ai, bi, ci, di: the other
/// layout, so that both are read alike).
fn write_two_group_files(dir: &Path) -> (PathBuf, Vec<(String, PathBuf)>) {
    let mut long = String::from("analysis,study,grp,ai,n1i,ci,n2i\n");
    let mut singles = Vec::new();
    for (id, rows) in two_group_analyses() {
        let mut one = String::from("study,grp,ai,bi,ci,di\n");
        for (s, g, a, n1, c, n2) in rows {
            long.push_str(&format!("{id},{s},{g},{a},{n1},{c},{n2}\n"));
            one.push_str(&format!("{s},{g},{a},{},{c},{}\n", n1 - a, n2 - c));
        }
        singles.push((id.to_string(), write(dir, &format!("{id}.csv"), &one)));
    }
    (write(dir, "long2x2.csv", &long), singles)
}

/// The fields of one CSV line (quoted fields as RFC 4180; no line breaks inside fields here).
fn csv_fields(line: &str) -> Vec<String> {
    let (mut out, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    out.push(field);
    out
}

/// The rows of a CSV written by batch: header name -> field, per line.
fn batch_csv_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = csv_fields(lines.next().unwrap());
    lines
        .map(|l| {
            let fields = csv_fields(l);
            assert_eq!(fields.len(), header.len(), "{l}");
            header.iter().cloned().zip(fields).collect()
        })
        .collect()
}

/// One batch row against one FIT of `pool --format json`, to 1e-12.
fn assert_row_is_fit(row: &HashMap<String, String>, fit: &Value, what: &str) {
    assert_eq!(row["converged"], "true", "{what}: {row:?}");
    assert_eq!(row["k"], fit["k"].to_string(), "{what}: k");
    let pairs = [
        ("estimate", &fit["estimate"]),
        ("se", &fit["se"]),
        ("ci_lb", &fit["ci_lb"]),
        ("ci_ub", &fit["ci_ub"]),
        ("pval", &fit["pval"]),
        ("tau2", &fit["tau2"]),
        ("I2", &fit["I2"]),
        ("Q", &fit["Q"]),
        ("Q_p", &fit["Q_p"]),
        ("effect", &fit["effect"]["estimate"]),
        ("effect_ci_lb", &fit["effect"]["ci_lb"]),
        ("effect_ci_ub", &fit["effect"]["ci_ub"]),
    ];
    for (col, want) in pairs {
        let got = &row[col];
        match want.as_f64() {
            None => assert!(got.is_empty(), "{what}: {col} is {got}, pool gives null"),
            Some(w) => {
                let g: f64 = got.parse().unwrap_or_else(|_| panic!("{what}: {col} = {got:?}"));
                assert!(
                    (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                    "{what}: {col} batch {g:e}, pool {w:e}"
                );
            }
        }
    }
    // Natural-scale columns of proportion measures are empty for two-group measures.
    for col in ["proportion", "proportion_ci_lb", "proportion_ci_ub", "message"] {
        assert!(row[col].is_empty(), "{what}: {col} = {}", row[col]);
    }
}

/// `batch` with `args` equals `pool --format json` with `args` on each analysis's rows (and, with
/// `by`, each subgroup equals pool's subgroup of the same name).
fn batch_equals_pool(args: &[&str], by: bool) {
    use assert_cmd::Command;
    let dir = tempfile::tempdir().unwrap();
    let (long, singles) = write_two_group_files(dir.path());
    let out = dir.path().join("out.csv");
    let mut batch = Command::cargo_bin("metarepro").unwrap();
    batch
        .arg("batch")
        .arg(&long)
        .args(["--analysis", "analysis", "--quiet"])
        .args(args);
    if by {
        batch.args(["--by", "grp"]);
    }
    batch.arg("--output").arg(&out).assert().success();
    let rows = batch_csv_rows(&out);
    assert_eq!(rows.len(), if by { 6 } else { 2 }, "{args:?}");
    for (id, file) in singles {
        let mut pool = Command::cargo_bin("metarepro").unwrap();
        pool.arg("pool").arg(&file).args(args).args(["--format", "json"]);
        if by {
            pool.args(["--by", "grp"]);
        }
        let o = pool.output().unwrap();
        assert!(
            o.status.success(),
            "pool {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let mine: Vec<&HashMap<String, String>> = rows.iter().filter(|r| r["analysis"] == id).collect();
        assert_row_is_fit(mine[0], &v["overall"], &format!("{args:?} {id}"));
        assert!(mine[0]["subgroup"].is_empty());
        if by {
            let subs = v["subgroups"].as_array().unwrap();
            assert_eq!(mine.len(), 1 + subs.len());
            for (row, fit) in mine[1..].iter().zip(subs) {
                assert_eq!(row["subgroup"], fit["name"].as_str().unwrap());
                assert_row_is_fit(row, fit, &format!("{args:?} {id} {}", row["subgroup"]));
            }
        }
    }
}

#[test]
fn batch_of_2x2_tables_equals_pool_mh_common_effect() {
    batch_equals_pool(&["--measure", "OR", "--pooling", "MH", "--method", "EE"], false);
}

#[test]
fn batch_of_2x2_tables_equals_pool_iv_reml() {
    batch_equals_pool(&["--measure", "OR", "--method", "REML"], false);
}

#[test]
fn batch_of_2x2_tables_equals_pool_mh_dl() {
    // RevMan's "M-H, random": tau^2 by DL from Q around the M-H estimate; overall and subgroups.
    batch_equals_pool(&["--measure", "OR", "--pooling", "MH", "--method", "DL"], false);
    batch_equals_pool(&["--measure", "OR", "--pooling", "MH", "--method", "DL"], true);
}

#[test]
fn batch_of_2x2_tables_equals_pool_other_measures_and_options() {
    for args in [
        &["--measure", "RR", "--pooling", "MH", "--method", "REML"][..],
        &[
            "--measure",
            "RD",
            "--pooling",
            "MH",
            "--method",
            "EE",
            "--rd-variance",
            "GR",
            "--mh-add",
            "0.5",
        ],
        &["--measure", "OR", "--pooling", "PETO", "--method", "EE"],
        &["--measure", "PETO", "--method", "DL", "--test", "knha"],
        &["--measure", "AS", "--method", "PM"],
        &[
            "--measure",
            "RD",
            "--method",
            "EE",
            "--cc-variance-only",
            "--vtype",
            "UB",
        ],
        &[
            "--measure",
            "OR",
            "--method",
            "DL",
            "--add",
            "1",
            "--to",
            "all",
            "--level",
            "90",
        ],
    ] {
        batch_equals_pool(args, false);
    }
}

#[test]
fn batch_of_2x2_tables_fails_bad_analyses_and_exits_non_zero_when_none_pooled() {
    use assert_cmd::Command;
    let dir = tempfile::tempdir().unwrap();
    let bin = || Command::cargo_bin("metarepro").unwrap();
    // Both layouts in one file: a row takes ai, bi, ci, di, or ai, n1i, ci, n2i when bi or di is
    // empty (as pool reads it). "bad": more events than patients.
    let mixed = write(
        dir.path(),
        "mixed.csv",
        "analysis,ai,bi,ci,di,n1i,n2i\n\
         a,12,38,8,40,,\na,5,,9,,30,31\na,20,80,14,84,100,98\n\
         bad,5,,3,,4,10\nbad,2,8,3,7,,\n",
    );
    let out = dir.path().join("m.csv");
    bin()
        .arg("batch")
        .arg(&mixed)
        .args([
            "--analysis",
            "analysis",
            "--measure",
            "OR",
            "--pooling",
            "MH",
            "--method",
            "EE",
            "--output",
        ])
        .arg(&out)
        .assert()
        .success();
    let rows = batch_csv_rows(&out);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["converged"], "true");
    assert_eq!(rows[0]["k"], "3");
    assert_eq!(rows[1]["converged"], "false");
    assert!(
        rows[1]["message"].contains("line 5") && rows[1]["message"].contains("greater than n1i"),
        "{:?}",
        rows[1]
    );
    assert!(rows[1]["estimate"].is_empty() && rows[1]["effect"].is_empty());
    // The same first analysis, read from ai, n1i, ci, n2i only.
    let sizes = write(
        dir.path(),
        "sizes.csv",
        "analysis,ai,n1i,ci,n2i\na,12,50,8,48\na,5,30,9,31\na,20,100,14,98\n",
    );
    let out2 = dir.path().join("s.csv");
    bin()
        .arg("batch")
        .arg(&sizes)
        .args([
            "--analysis",
            "analysis",
            "--measure",
            "OR",
            "--pooling",
            "MH",
            "--method",
            "EE",
            "--output",
        ])
        .arg(&out2)
        .assert()
        .success();
    assert_eq!(batch_csv_rows(&out2)[0], rows[0]);

    // No analysis could be pooled: exit 4, the count on stderr, the output (with the messages)
    // still written.
    let none = write(
        dir.path(),
        "none.csv",
        "analysis,ai,n1i,ci,n2i\nx,5,4,3,10\ny,1,10,NA,10\n",
    );
    let out3 = dir.path().join("n.parquet");
    let o = bin()
        .arg("batch")
        .arg(&none)
        .args(["--analysis", "analysis", "--measure", "RR", "--output"])
        .arg(&out3)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no analysis could be pooled") && err.contains("all 2 analyses failed"),
        "{err}"
    );
    let df = metarepro::data::read_frame(&out3, None).unwrap();
    assert_eq!(df.height(), 2);
    let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    assert_eq!(
        names.join(","),
        "analysis,subgroup,k,estimate,se,ci_lb,ci_ub,pval,tau2,I2,Q,Q_p,proportion,proportion_ci_lb,\
         proportion_ci_ub,effect,effect_ci_lb,effect_ci_ub,converged,message"
    );

    // Options no analysis can use: a usage error (exit 2) before anything is written.
    for args in [
        &["--measure", "AS", "--pooling", "MH"][..],
        &["--measure", "RR", "--pooling", "PETO"],
        &["--measure", "SMD"],
        &["--measure", "PLO", "--pooling", "MH"],
    ] {
        let out4 = dir.path().join("u.csv");
        let o = bin()
            .arg("batch")
            .arg(&sizes)
            .args(["--analysis", "analysis"])
            .args(args)
            .arg("--output")
            .arg(&out4)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!out4.exists(), "{args:?}");
    }
    // A missing column names both layouts.
    let o = bin()
        .arg("batch")
        .arg(&sizes)
        .args(["--analysis", "analysis", "--measure", "OR", "--n2i", "n2", "--output"])
        .arg(dir.path().join("c.csv"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("n2") && err.contains("ai, n1i, ci, n2"), "{err}");
}
