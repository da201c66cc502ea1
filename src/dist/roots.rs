//! Root finding for monotone functions (τ² for Paule–Mandel and the Q-profile CI, the beta
//! quantile): Brent's method, run to machine precision.

/// Why [`brent`] found no root.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RootError {
    /// `f(a)` and `f(b)` have the same sign, or one is not finite.
    NoBracket,
    /// `max_iter` iterations did not narrow the bracket to machine precision; `last` is the best
    /// value reached, `width` the bracket's width then.
    NotConverged { last: f64, width: f64 },
}

impl std::fmt::Display for RootError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RootError::NoBracket => write!(f, "the interval does not bracket a root"),
            RootError::NotConverged { last, width } => write!(
                f,
                "no convergence: the bracket around {last:e} is still {width:.1e} wide"
            ),
        }
    }
}

/// A root of `f` in `[a, b]`, where `f(a)` and `f(b)` have opposite signs (or one is zero), to
/// machine precision. An error when the interval does not bracket a root, or when `max_iter`
/// iterations did not reach machine precision (never a value that merely ran out of iterations).
pub fn brent<F: Fn(f64) -> f64>(f: F, a: f64, b: f64, max_iter: usize) -> Result<f64, RootError> {
    brent_tol(f, a, b, max_iter, 0.0)
}

/// [`brent`] stopping as R's `uniroot(tol = tol)` (Brent's `zeroin`): when the bracket is within
/// 2·ε·|b| + tol/2 of the root; `tol = 0` runs to machine precision.
pub fn brent_tol<F: Fn(f64) -> f64>(f: F, mut a: f64, mut b: f64, max_iter: usize, tol: f64) -> Result<f64, RootError> {
    let user_tol = tol;
    let mut fa = f(a);
    let mut fb = f(b);
    if fa == 0.0 {
        return Ok(a);
    }
    if fb == 0.0 {
        return Ok(b);
    }
    if fa.signum() == fb.signum() || !fa.is_finite() || !fb.is_finite() {
        return Err(RootError::NoBracket);
    }
    let mut c = a;
    let mut fc = fa;
    let mut d = b - a;
    let mut e = d;
    for _ in 0..max_iter {
        if fb.signum() == fc.signum() {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol = 2.0 * f64::EPSILON * b.abs() + user_tol / 2.0 + 1e-300;
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb == 0.0 {
            return Ok(b);
        }
        if e.abs() >= tol && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * m * s;
                q = 1.0 - s;
            } else {
                let qq = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * m * qq * (qq - r) - (b - a) * (r - 1.0));
                q = (qq - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = d;
            }
        } else {
            d = m;
            e = d;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol { d } else { tol * m.signum() };
        fb = f(b);
    }
    Err(RootError::NotConverged {
        last: b,
        width: (c - b).abs(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_square_root_of_two() {
        let r = brent(|x| x * x - 2.0, 0.0, 2.0, 200).unwrap();
        assert!((r - 2f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn no_bracket_is_an_error() {
        assert_eq!(brent(|x| x * x + 1.0, -1.0, 1.0, 100), Err(RootError::NoBracket));
    }

    #[test]
    fn running_out_of_iterations_is_an_error_not_a_root() {
        // Three iterations cannot narrow [0, 2] to machine precision around √2.
        match brent(|x| x * x - 2.0, 0.0, 2.0, 3) {
            Err(RootError::NotConverged { last, width }) => {
                assert!(width > 1e-6, "{width}");
                assert!((0.0..=2.0).contains(&last));
            }
            other => panic!("expected NotConverged, got {other:?}"),
        }
    }
}
