//! Weighted least squares for the small p × p systems of the univariate model.
//!
//! Everything is O(k p²): no k × k matrix is ever formed. With W = diag(w),
//! A = (X'WX)⁻¹ and r = y − Xβ̂, the projection P = W − WXAX'W enters only through
//! y'Py = Σ w r², Py = W r, tr(P) and tr(PP), which reduce to p × p products.

use ndarray::Array2;

use crate::error::{Error, Result};

/// A weighted least-squares fit of y on X with weights w.
#[derive(Debug, Clone)]
pub struct Wls {
    /// β̂ = (X'WX)⁻¹ X'Wy.
    pub beta: Vec<f64>,
    /// (X'WX)⁻¹, p × p.
    pub a: Vec<Vec<f64>>,
    /// Residuals y − Xβ̂.
    pub resid: Vec<f64>,
    /// y'Py = Σ w r².
    pub rss: f64,
}

/// The fit of y on X with weights w.
pub fn wls(x: &Array2<f64>, y: &[f64], w: &[f64]) -> Result<Wls> {
    let (k, p) = x.dim();
    if p == 1 && x.column(0).iter().all(|&v| v == 1.0) {
        // Intercept-only model: the common case, done without any matrix.
        let sw: f64 = w.iter().sum();
        let mu = w.iter().zip(y).map(|(wi, yi)| wi * yi).sum::<f64>() / sw;
        let resid: Vec<f64> = y.iter().map(|yi| yi - mu).collect();
        let rss = w.iter().zip(&resid).map(|(wi, r)| wi * r * r).sum();
        return Ok(Wls {
            beta: vec![mu],
            a: vec![vec![1.0 / sw]],
            resid,
            rss,
        });
    }
    let mut xtwx = vec![vec![0.0; p]; p];
    let mut xtwy = vec![0.0; p];
    for i in 0..k {
        for a in 0..p {
            let xa = x[[i, a]] * w[i];
            xtwy[a] += xa * y[i];
            for b in 0..p {
                xtwx[a][b] += xa * x[[i, b]];
            }
        }
    }
    let a = invert_spd(&xtwx)?;
    let beta: Vec<f64> = (0..p).map(|r| (0..p).map(|c| a[r][c] * xtwy[c]).sum()).collect();
    let resid: Vec<f64> = (0..k)
        .map(|i| y[i] - (0..p).map(|c| x[[i, c]] * beta[c]).sum::<f64>())
        .collect();
    let rss = w.iter().zip(&resid).map(|(wi, r)| wi * r * r).sum();
    Ok(Wls { beta, a, resid, rss })
}

/// X' diag(d) X, p × p.
pub fn xtdx(x: &Array2<f64>, d: &[f64]) -> Vec<Vec<f64>> {
    let (k, p) = x.dim();
    let mut m = vec![vec![0.0; p]; p];
    for i in 0..k {
        for a in 0..p {
            let xa = x[[i, a]] * d[i];
            for b in 0..p {
                m[a][b] += xa * x[[i, b]];
            }
        }
    }
    m
}

/// tr(A B) for p × p matrices.
pub fn tr_prod(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    let p = a.len();
    let mut s = 0.0;
    for i in 0..p {
        for j in 0..p {
            s += a[i][j] * b[j][i];
        }
    }
    s
}

/// A B for p × p matrices.
pub fn mat_mul(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let p = a.len();
    let mut m = vec![vec![0.0; p]; p];
    for i in 0..p {
        for l in 0..p {
            let ail = a[i][l];
            for j in 0..p {
                m[i][j] += ail * b[l][j];
            }
        }
    }
    m
}

/// Inverse of a symmetric positive-definite matrix by Cholesky decomposition.
pub fn invert_spd(m: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
    let p = m.len();
    let mut l = vec![vec![0.0; p]; p];
    for i in 0..p {
        for j in 0..=i {
            let mut s = m[i][j];
            for c in 0..j {
                s -= l[i][c] * l[j][c];
            }
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return Err(Error::Computation(
                        "model matrix is not of full rank (a moderator level has no studies, or a column is constant)"
                            .into(),
                    ));
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    // Invert L (lower triangular), then M⁻¹ = L⁻ᵀ L⁻¹.
    let mut li = vec![vec![0.0; p]; p];
    for i in 0..p {
        li[i][i] = 1.0 / l[i][i];
        for j in 0..i {
            let mut s = 0.0;
            for c in j..i {
                s -= l[i][c] * li[c][j];
            }
            li[i][j] = s / l[i][i];
        }
    }
    let mut inv = vec![vec![0.0; p]; p];
    for i in 0..p {
        for j in 0..p {
            let mut s = 0.0;
            for c in i.max(j)..p {
                s += li[c][i] * li[c][j];
            }
            inv[i][j] = s;
        }
    }
    Ok(inv)
}

/// A column of ones: the design matrix of an intercept-only model.
pub fn intercept(k: usize) -> Array2<f64> {
    Array2::ones((k, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_of_spd_matrix() {
        let m = vec![vec![4.0, 1.0, 0.5], vec![1.0, 3.0, 0.2], vec![0.5, 0.2, 2.0]];
        let inv = invert_spd(&m).unwrap();
        let id = mat_mul(&m, &inv);
        for i in 0..3 {
            for j in 0..3 {
                let e = if i == j { 1.0 } else { 0.0 };
                assert!((id[i][j] - e).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn singular_matrix_is_an_error() {
        let m = vec![vec![1.0, 1.0], vec![1.0, 1.0]];
        assert!(invert_spd(&m).is_err());
    }
}
