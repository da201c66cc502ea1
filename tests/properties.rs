//! Property tests (issue 7, item 6) over random valid datasets, through the library:
//!
//! - results do not depend on the order of the studies;
//! - a common-effect estimate lies within the range of the study estimates;
//! - every CI contains its estimate (measure and proportion scale);
//! - τ² ≥ 0 and I² ∈ [0, 100];
//! - back-transformations are monotone;
//! - no panic for any row the validator accepts.

use metarepro::data::{parse_count_text, Studies};
use metarepro::effect::{back_transform, escalc, BackTransform, Measure, PftMean};
use metarepro::model::{pool, Method, PoolOptions, PoolResult, Test};
use proptest::prelude::*;

/// A study: (events, total) with 0 ≤ events ≤ total, 1 ≤ total ≤ `max_n`.
fn study(max_n: u64) -> impl Strategy<Value = (f64, f64)> {
    (1..=max_n).prop_flat_map(|n| (0..=n).prop_map(move |x| (x as f64, n as f64)))
}

fn dataset(k: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<(f64, f64)>> {
    prop::collection::vec(study(3000), k)
}

fn studies(d: &[(f64, f64)]) -> Studies {
    Studies::from_counts(
        (1..=d.len()).map(|i| format!("S{i}")).collect(),
        d.iter().map(|s| s.0).collect(),
        d.iter().map(|s| s.1).collect(),
        None,
    )
    .expect("valid counts")
}

/// Totals from 10^6 to 2^53.
const BIG: [f64; 6] = [1e6, 1e9, 1e12, 1e15, 4503599627370496.0, 9007199254740992.0];

/// Any row: ordinary counts, tiny counts, huge counts, or arbitrary floats. Huge totals (up to
/// 10^12) come with about half events; at the extremes of the proportion (0, 1, n - 1, n
/// events) only up to 10^6. Beyond, known bugs: with n >= 10^7 and few events the
/// Clopper-Pearson study CI (`dist::qbeta`) does not return, and near 2^53 the model can panic
/// (see the ignored `rare_events_in_huge_studies`).
fn any_row() -> impl Strategy<Value = (f64, f64)> {
    prop_oneof![
        4 => study(3000),
        2 => (0u64..4, 0u64..4).prop_map(|(x, n)| (x as f64, n as f64)),
        1 => prop::sample::select(BIG[..3].to_vec()).prop_map(|n| ((n / 2.0).floor(), n)),
        1 => (0usize..4).prop_map(|w| {
            let n = 1e6;
            ([0.0, 1.0, n - 1.0, n][w], n)
        }),
        1 => (any::<f64>(), any::<f64>()),
    ]
}

/// Every extreme row with a huge total.
fn extreme_row() -> impl Strategy<Value = (f64, f64)> {
    (prop::sample::select(BIG.to_vec()), 0usize..5).prop_map(|(n, w)| ([0.0, 1.0, (n / 2.0).floor(), n - 1.0, n][w], n))
}

/// Pool `rows` (when the validator accepts them) with and without a common τ².
fn no_panic(rows: &[(f64, f64)], measure: Measure, method: Method, test: Test, grouped: bool) {
    let k = rows.len();
    let events: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let total: Vec<f64> = rows.iter().map(|r| r.1).collect();
    let group = grouped.then(|| (0..k).map(|i| if i % 3 == 0 { "a" } else { "b" }.to_string()).collect());
    if let Ok(s) = Studies::from_counts((0..k).map(|i| i.to_string()).collect(), events, total, group) {
        let _ = pool(&s, &options(measure, method, test));
        let mut o = options(measure, method, test);
        o.tau2_common = true;
        let _ = pool(&s, &o);
    }
}

fn measure() -> impl Strategy<Value = Measure> {
    prop::sample::select(Measure::ALL.to_vec())
}

fn method() -> impl Strategy<Value = Method> {
    prop::sample::select(Method::ALL.to_vec())
}

fn test_kind() -> impl Strategy<Value = Test> {
    prop::sample::select(Test::ALL.to_vec())
}

fn options(measure: Measure, method: Method, test: Test) -> PoolOptions {
    PoolOptions {
        measure,
        method,
        test,
        ..PoolOptions::default()
    }
}

/// `a` and `b` agree to a relative 1e-6 (absolute 1e-9 near zero); both non-finite counts as agreement.
fn close(a: f64, b: f64) -> bool {
    if !a.is_finite() || !b.is_finite() {
        return a.is_nan() && b.is_nan() || a == b;
    }
    (a - b).abs() <= 1e-9 || (a - b).abs() <= 1e-6 * a.abs().max(b.abs())
}

fn fit(d: &[(f64, f64)], o: &PoolOptions) -> Option<PoolResult> {
    // A computation error (e.g. non-convergence) is allowed; a panic is not.
    pool(&studies(d), o).ok()
}

proptest! {
    #[test]
    fn invariant_to_study_order(
        (d, shuffled) in dataset(1..=10).prop_flat_map(|d| (Just(d.clone()), Just(d).prop_shuffle())),
        measure in measure(),
        method in method(),
        test in test_kind(),
    ) {
        let o = options(measure, method, test);
        let (a, b) = (fit(&d, &o), fit(&shuffled, &o));
        prop_assert_eq!(a.is_some(), b.is_some());
        if let (Some(a), Some(b)) = (a, b) {
            let (fa, fb) = (&a.overall, &b.overall);
            for (what, x, y) in [
                ("estimate", fa.estimate, fb.estimate),
                ("se", fa.se, fb.se),
                ("ci_lb", fa.ci_lb, fb.ci_lb),
                ("ci_ub", fa.ci_ub, fb.ci_ub),
                ("tau2", fa.tau2, fb.tau2),
                ("I2", fa.i2, fb.i2),
                ("Q", fa.q, fb.q),
                ("proportion", fa.proportion.estimate, fb.proportion.estimate),
            ] {
                prop_assert!(close(x, y), "{}: {} vs {} ({:?} {:?})", what, x, y, method, measure);
            }
        }
    }

    #[test]
    fn common_effect_estimate_within_study_range(
        d in dataset(1..=12),
        measure in measure(),
    ) {
        let o = options(measure, Method::EE, Test::Z);
        let s = studies(&d);
        let es = escalc(measure, &s.events, &s.total, o.correction);
        let finite: Vec<f64> = es.yi.iter().copied().filter(|y| y.is_finite()).collect();
        prop_assume!(finite.len() == es.yi.len() && es.vi.iter().all(|v| *v > 0.0));
        if let Some(r) = fit(&d, &o) {
            let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e = r.overall.estimate;
            let tol = 1e-9 * (1.0 + lo.abs().max(hi.abs()));
            prop_assert!(e >= lo - tol && e <= hi + tol, "{} outside [{}, {}]", e, lo, hi);
        }
    }

    #[test]
    fn intervals_contain_estimates_and_heterogeneity_is_in_range(
        d in dataset(1..=12),
        measure in measure(),
        method in method(),
        test in test_kind(),
        level in prop::sample::select(vec![0.8, 0.9, 0.95, 0.99]),
    ) {
        let mut o = options(measure, method, test);
        o.level = level;
        if let Some(r) = fit(&d, &o) {
            for f in std::iter::once(&r.overall).chain(&r.subgroups) {
                if f.estimate.is_finite() {
                    prop_assert!(f.ci_lb <= f.estimate && f.estimate <= f.ci_ub,
                        "CI [{}, {}] vs {}", f.ci_lb, f.ci_ub, f.estimate);
                    prop_assert!(f.pi_lb <= f.estimate && f.estimate <= f.pi_ub,
                        "PI [{}, {}] vs {}", f.pi_lb, f.pi_ub, f.estimate);
                    let p = &f.proportion;
                    prop_assert!(p.ci_lb <= p.estimate && p.estimate <= p.ci_ub,
                        "proportion CI [{}, {}] vs {}", p.ci_lb, p.ci_ub, p.estimate);
                    prop_assert!((0.0..=1.0).contains(&p.ci_lb) && (0.0..=1.0).contains(&p.ci_ub)
                        || measure == Measure::PR || measure == Measure::PLN,
                        "proportion CI [{}, {}] not in [0, 1]", p.ci_lb, p.ci_ub);
                }
                prop_assert!(f.tau2 >= 0.0, "tau2 = {}", f.tau2);
                prop_assert!(f.i2.is_nan() || (0.0..=100.0).contains(&f.i2), "I2 = {}", f.i2);
                if let (Some(lb), Some(ub)) = (f.tau2_ci_lb, f.tau2_ci_ub) {
                    prop_assert!(lb >= 0.0 && lb <= ub, "tau2 CI [{}, {}]", lb, ub);
                }
                if let (Some(lb), Some(ub)) = (f.i2_ci_lb, f.i2_ci_ub) {
                    prop_assert!((0.0..=100.0).contains(&lb) && (0.0..=100.0).contains(&ub) && lb <= ub,
                        "I2 CI [{}, {}]", lb, ub);
                }
            }
        }
    }

    #[test]
    fn back_transforms_are_monotone(
        measure in measure(),
        ni in prop::collection::vec(1.0f64..5000.0, 1..8),
        a in -20.0f64..20.0,
        b in -20.0f64..20.0,
        mean in prop::sample::select(vec![PftMean::Harmonic, PftMean::Geometric, PftMean::Arithmetic]),
    ) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let (x, y) = (back_transform(measure, lo, &ni), back_transform(measure, hi, &ni));
        prop_assert!(x <= y, "{:?}: f({}) = {} > f({}) = {}", measure, lo, x, hi, y);
        let t = BackTransform::with_mean(measure, &ni, mean);
        prop_assert!(t.apply(lo) <= t.apply(hi), "{:?} {:?}", measure, mean);
    }

    #[test]
    fn no_panic_for_any_accepted_row(
        rows in prop::collection::vec(any_row(), 1..8),
        measure in measure(),
        method in method(),
        test in prop::sample::select(vec![Test::Z, Test::T]),
        grouped in any::<bool>(),
    ) {
        // Rows of every kind the validator might see — ordinary, tiny, all-zero and all-event,
        // huge, and arbitrary floats (mostly rejected): whatever from_counts accepts must pool
        // or give an error, never panic. Knapp-Hartung: see `no_panic_with_knapp_hartung`.
        no_panic(&rows, measure, method, test, grouped);
    }

    #[test]
    fn no_panic_with_knapp_hartung(
        rows in prop::collection::vec(any_row(), 1..8),
        measure in measure(),
        method in method(),
        grouped in any::<bool>(),
    ) {
        no_panic(&rows, measure, method, Test::Knha, grouped);
    }

    #[test]
    fn rare_events_in_huge_studies(
        rows in prop::collection::vec(prop_oneof![extreme_row(), study(3000)], 1..4),
        measure in measure(),
        method in method(),
        test in test_kind(),
    ) {
        let s = Studies::from_counts(
            (0..rows.len()).map(|i| i.to_string()).collect(),
            rows.iter().map(|r| r.0).collect(),
            rows.iter().map(|r| r.1).collect(),
            None,
        );
        if let Ok(s) = s {
            let _ = pool(&s, &options(measure, method, test));
        }
    }

    #[test]
    fn count_parser_never_panics_and_accepts_only_whole_counts(s in "\\PC{0,12}", dc in any::<bool>()) {
        if let Ok(v) = parse_count_text(&s, dc) {
            prop_assert!(v >= 0.0 && v.fract() == 0.0 && v <= 9_007_199_254_740_992.0);
        }
    }

    #[test]
    fn count_parser_reads_every_whole_count(v in 0u64..=(1u64 << 53), zeros in 0usize..3, dc in any::<bool>()) {
        let mut s = v.to_string();
        if zeros > 0 {
            s.push(if dc { ',' } else { '.' });
            s.push_str(&"0".repeat(zeros));
        }
        // "1.000"-like strings are ambiguous (thousands separator) and refused on purpose.
        let ambiguous = zeros == 3 && (1..=3).contains(&v.to_string().len()) && v != 0;
        match parse_count_text(&s, dc) {
            Ok(x) => prop_assert_eq!(x, v as f64),
            Err(e) => prop_assert!(ambiguous, "{} refused: {}", s, e),
        }
    }
}

#[test]
fn ordinary_data_pools_with_every_measure_method_and_test() {
    // Guards the properties above against passing vacuously (every fit an error).
    let d = [(4.0, 20.0), (10.0, 31.0), (7.0, 15.0), (0.0, 12.0), (30.0, 30.0)];
    for measure in Measure::ALL {
        for method in Method::ALL {
            for test in Test::ALL {
                let r = pool(&studies(&d), &options(measure, method, test));
                assert!(r.is_ok(), "{measure:?} {method:?} {test:?}: {:?}", r.err());
            }
        }
    }
}
