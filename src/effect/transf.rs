//! Transformations between the proportion scale and each measure's scale (metafor `transf.*`).

use super::Measure;

/// How a value on the measure's scale is mapped back to a proportion.
///
/// For `PFT` the Freeman–Tukey inversion needs a sample size: metafor's `transf.ipft.hm` uses the
/// harmonic mean of the totals of the studies in the fit; the geometric and arithmetic means are
/// alternatives seen in other software (Stata `metan`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BackTransform {
    Identity,
    Exp,
    ILogit,
    IArcsin,
    /// tanh: Fisher's z back to a correlation (ZCOR).
    Tanh,
    /// Inverse Freeman–Tukey with the given sample size n̄.
    IPft {
        n: f64,
    },
}

impl BackTransform {
    /// The back-transformation metafor applies for `measure`, with n̄ the harmonic mean of `ni`.
    pub fn for_measure(measure: Measure, ni: &[f64]) -> BackTransform {
        match measure {
            Measure::PR => BackTransform::Identity,
            Measure::PLN => BackTransform::Exp,
            Measure::PLO => BackTransform::ILogit,
            Measure::PAS => BackTransform::IArcsin,
            Measure::PFT => BackTransform::IPft { n: harmonic_mean(ni) },
            Measure::ZCOR => BackTransform::Tanh,
            m if m.is_ratio() => BackTransform::Exp,
            _ => BackTransform::Identity,
        }
    }

    pub fn apply(self, x: f64) -> f64 {
        match self {
            BackTransform::Identity => x,
            BackTransform::Exp => x.exp(),
            BackTransform::ILogit => ilogit(x),
            BackTransform::IArcsin => iarcsin(x),
            BackTransform::Tanh => x.tanh(),
            BackTransform::IPft { n } => ipft(x, n),
        }
    }
}

/// Harmonic mean `1 / mean(1 / n)`.
pub fn harmonic_mean(n: &[f64]) -> f64 {
    n.len() as f64 / n.iter().map(|v| 1.0 / v).sum::<f64>()
}

/// Geometric mean.
pub fn geometric_mean(n: &[f64]) -> f64 {
    (n.iter().map(|v| v.ln()).sum::<f64>() / n.len() as f64).exp()
}

/// Arithmetic mean.
pub fn arithmetic_mean(n: &[f64]) -> f64 {
    n.iter().sum::<f64>() / n.len() as f64
}

/// metafor `transf.ilogit`.
pub fn ilogit(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// metafor `transf.iarcsin`: sin(x)², clamped to 0 below 0 and to 1 above π/2.
pub fn iarcsin(x: f64) -> f64 {
    if x < 0.0 {
        0.0
    } else if x > std::f64::consts::FRAC_PI_2 {
        1.0
    } else {
        x.sin().powi(2)
    }
}

/// metafor `transf.pft`: the Freeman–Tukey transform of proportion `p` at sample size `n`.
pub fn pft(p: f64, n: f64) -> f64 {
    let x = p * n;
    0.5 * ((x / (n + 1.0)).sqrt().asin() + ((x + 1.0) / (n + 1.0)).sqrt().asin())
}

/// metafor `transf.ipft` (Miller 1978) at sample size `n`: 0 below `pft(0, n)`, 1 above
/// `pft(1, n)`, NaN where the expression is not real.
pub fn ipft(t: f64, n: f64) -> f64 {
    if t.is_nan() {
        return f64::NAN;
    }
    if t > pft(1.0, n) {
        return 1.0;
    }
    if t < pft(0.0, n) {
        return 0.0;
    }
    let s = (2.0 * t).sin();
    let c = (2.0 * t).cos();
    let inner = 1.0 - (s + (s - 1.0 / s) / n).powi(2);
    let sign = if c > 0.0 {
        1.0
    } else if c < 0.0 {
        -1.0
    } else {
        0.0
    };
    0.5 * (1.0 - sign * inner.sqrt())
}

/// The measure's transformation of a proportion (for PFT at sample size `n`).
pub fn transform(measure: Measure, p: f64, n: f64) -> f64 {
    match measure {
        Measure::PR => p,
        Measure::PLN => p.ln(),
        Measure::PLO => (p / (1.0 - p)).ln(),
        Measure::PAS => p.sqrt().asin(),
        Measure::PFT => pft(p, n),
        // Not a proportion measure: no proportion scale.
        _ => f64::NAN,
    }
}

/// Back-transform `x` to a proportion with metafor's default for `measure` (PFT: harmonic mean of `ni`).
pub fn back_transform(measure: Measure, x: f64, ni: &[f64]) -> f64 {
    BackTransform::for_measure(measure, ni).apply(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipft_inverts_pft() {
        for &n in &[5.0, 20.0, 137.0] {
            for i in 1..20 {
                let p = i as f64 / 20.0;
                let back = ipft(pft(p, n), n);
                assert!((back - p).abs() < 1e-12, "n={n} p={p} back={back}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn back_transform_of_transform_is_identity(p in 0.0005f64..0.9995, n in 1.0f64..100_000.0, m in 0usize..5) {
            let measure = Measure::ALL[m];
            let back = BackTransform::with_mean(measure, &[n], PftMean::Harmonic);
            let x = back.apply(transform(measure, p, n));
            proptest::prop_assert!((x - p).abs() < 1e-9, "{measure} p={p} n={n} back={x}");
        }
    }

    #[test]
    fn ipft_clamps_outside_range() {
        assert_eq!(ipft(-0.1, 10.0), 0.0);
        assert_eq!(ipft(2.0, 10.0), 1.0);
    }
}

/// Which mean of the study totals the PFT back-transformation uses as n̄.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PftMean {
    /// Harmonic mean (Miller 1978; metafor `transf.ipft.hm`, meta, Stata `metaprop`).
    Harmonic,
    /// Geometric mean (Stata `metan`, `transform(ftukey, geometric)`).
    Geometric,
    /// Arithmetic mean (Stata `metan`, `transform(ftukey, arithmetic)`).
    Arithmetic,
}

impl PftMean {
    pub fn as_str(self) -> &'static str {
        match self {
            PftMean::Harmonic => "harmonic",
            PftMean::Geometric => "geometric",
            PftMean::Arithmetic => "arithmetic",
        }
    }

    pub fn of(self, n: &[f64]) -> f64 {
        match self {
            PftMean::Harmonic => harmonic_mean(n),
            PftMean::Geometric => geometric_mean(n),
            PftMean::Arithmetic => arithmetic_mean(n),
        }
    }
}

impl std::str::FromStr for PftMean {
    type Err = crate::error::Error;
    fn from_str(s: &str) -> crate::error::Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "harmonic" | "hm" => Ok(PftMean::Harmonic),
            "geometric" | "gm" => Ok(PftMean::Geometric),
            "arithmetic" | "am" => Ok(PftMean::Arithmetic),
            _ => Err(crate::error::Error::Usage(format!(
                "unknown PFT mean \"{s}\"; expected harmonic, geometric or arithmetic"
            ))),
        }
    }
}

impl BackTransform {
    /// The back-transformation for `measure` with the PFT n̄ taken as `mean` of `ni`.
    pub fn with_mean(measure: Measure, ni: &[f64], mean: PftMean) -> BackTransform {
        match measure {
            Measure::PFT => BackTransform::IPft { n: mean.of(ni) },
            m => BackTransform::for_measure(m, ni),
        }
    }
}
