//! Axis ticks: "nice" linear ticks (steps of 1, 2, 2.5 or 5 × 10^k), and proportion ticks on a
//! transformed axis (funnel plots: positions on the logit/arcsine/… scale, labels as
//! proportions).

/// A tick: position on the axis's data scale and its label value (what is printed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tick {
    pub at: f64,
    pub value: f64,
    /// Decimals to print `value` with (through `report::fmt_num`).
    pub decimals: usize,
}

/// A nice step for about `target` intervals over `range`.
pub fn nice_step(range: f64, target: usize) -> f64 {
    if !(range > 0.0) || !range.is_finite() {
        return 1.0;
    }
    let raw = range / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Decimals needed to print multiples of `step` exactly.
pub fn step_decimals(step: f64) -> usize {
    decimals_of(step)
}

/// The fewest decimals (up to 10) that print `v` without loss.
pub fn decimals_of(v: f64) -> usize {
    for d in 0..=10usize {
        let p = 10f64.powi(d as i32);
        if ((v * p).round() - v * p).abs() < 1e-7 * p.max(1.0) * v.abs().max(1.0) {
            return d;
        }
    }
    10
}

/// Linear axis: limits widened outwards to multiples of a nice step, kept inside `bounds`, and
/// the ticks. Returns (lo, hi, ticks).
pub fn linear(lo: f64, hi: f64, target: usize, bounds: (f64, f64)) -> (f64, f64, Vec<Tick>) {
    let (mut lo, mut hi) = (lo.max(bounds.0), hi.min(bounds.1));
    if !(hi > lo) {
        let c = if lo.is_finite() {
            lo
        } else {
            (bounds.0 + bounds.1) / 2.0
        };
        let w = (bounds.1 - bounds.0) / 20.0;
        lo = (c - w).max(bounds.0);
        hi = (c + w).min(bounds.1);
    }
    let step = nice_step(hi - lo, target);
    let i0 = (lo / step + 1e-9).floor();
    let i1 = (hi / step - 1e-9).ceil();
    let lo2 = (i0 * step).max(bounds.0);
    let hi2 = (i1 * step).min(bounds.1);
    let ticks = ticks_between(lo2, hi2, step);
    (lo2, hi2, ticks)
}

/// Ticks at the multiples of `step` in [lo, hi].
pub fn ticks_between(lo: f64, hi: f64, step: f64) -> Vec<Tick> {
    let d = step_decimals(step);
    let i0 = (lo / step - 1e-9).ceil() as i64;
    let i1 = (hi / step + 1e-9).floor() as i64;
    (i0..=i1)
        .map(|i| {
            // Multiply an integer by the step, then snap to the printed precision so that the
            // value is the shortest decimal (0.30000000000000004 → 0.3).
            let v = i as f64 * step;
            let p = 10f64.powi(d as i32);
            let v = (v * p).round() / p;
            Tick {
                at: v,
                value: v,
                decimals: d,
            }
        })
        .collect()
}

/// Candidate proportions for a transformed axis, most important first.
const PROPORTION_CANDIDATES: &[f64] = &[
    0.5, 0.0, 1.0, 0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6, 0.05, 0.95, 0.25, 0.75, 0.01, 0.99, 0.02, 0.98, 0.15, 0.85,
    0.35, 0.65, 0.45, 0.55, 0.005, 0.995, 0.001, 0.999, 0.002, 0.998, 0.03, 0.97, 0.0005, 0.9995, 0.0001, 0.9999,
];

/// Ticks labelled with proportions on an axis whose positions are `transform(p)`, between the
/// positions `lo` and `hi`, at least `min_gap` position units apart. `percent` prints them in
/// percent.
pub fn proportion_ticks(
    transform: impl Fn(f64) -> f64,
    lo: f64,
    hi: f64,
    min_gap: f64,
    max_ticks: usize,
    percent: bool,
) -> Vec<Tick> {
    let mut chosen: Vec<Tick> = Vec::new();
    for &p in PROPORTION_CANDIDATES {
        let at = transform(p);
        if !at.is_finite() || at < lo - 1e-12 || at > hi + 1e-12 {
            continue;
        }
        if chosen.iter().any(|t| (t.at - at).abs() < min_gap) {
            continue;
        }
        let value = if percent { 100.0 * p } else { p };
        let value = (value * 1e6).round() / 1e6;
        chosen.push(Tick {
            at,
            value,
            decimals: decimals_of(value),
        });
        if chosen.len() >= max_ticks {
            break;
        }
    }
    chosen.sort_by(|a, b| a.at.total_cmp(&b.at));
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(100.0, 5), 20.0);
        assert_eq!(nice_step(1.0, 5), 0.2);
        assert_eq!(nice_step(12.0, 5), 2.5);
        assert_eq!(nice_step(0.3, 5), 0.1);
    }

    #[test]
    fn linear_axis_covers_and_is_bounded() {
        let (lo, hi, t) = linear(3.2, 67.1, 5, (0.0, 100.0));
        assert_eq!((lo, hi), (0.0, 80.0));
        let v: Vec<f64> = t.iter().map(|t| t.value).collect();
        assert_eq!(v, vec![0.0, 20.0, 40.0, 60.0, 80.0]);
        let (lo, hi, t) = linear(0.12, 0.34, 5, (0.0, 1.0));
        assert!(lo <= 0.12 && hi >= 0.34);
        assert!(t.iter().all(|t| t.decimals == 2 || t.decimals == 1));
        assert_eq!(t[1].value, 0.15);
        let (lo, hi, _) = linear(0.0, 1.0, 5, (0.0, 1.0));
        assert_eq!((lo, hi), (0.0, 1.0));
    }

    #[test]
    fn proportion_ticks_on_logit() {
        let logit = |p: f64| (p / (1.0 - p)).ln();
        let t = proportion_ticks(logit, logit(0.03), logit(0.6), 0.5, 8, true);
        assert!(t.len() >= 3);
        assert!(t.windows(2).all(|w| w[1].at - w[0].at >= 0.5));
        assert!(t.iter().any(|t| t.value == 50.0));
    }
}
