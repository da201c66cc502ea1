//! Cross-source checks: a claim from a secondary source (a review, a drug-information summary)
//! that names, with `cites = "<label>"`, the claim of the primary source it quotes is checked
//! against it:
//!
//! - **population**: both claims' `population` must name the same population ("ILD in DM/PM" is
//!   not "RP-ILD in DM/PM");
//! - **the number**: the secondary estimate must round-agree with the primary estimate, or, when
//!   the primary prints only a CI, lie inside it; printed CI bounds must agree; "x of n" counts must
//!   be equal.
//!
//! A secondary figure given as approximate ("roughly 40%", "about", "approximately", "nearly",
//! "~" in its printed text or quote) agrees when it lies within [`APPROX_REL`] (relative) of the
//! primary's value, and the check says it was judged as an approximation.
//!
//! Each finding is a [`Check`] on the secondary claim. The primary claim gets the same text as a
//! `finding`: how another source quotes it says nothing about whether the primary is right, so it
//! does not change the primary's verdict.

use super::claims::Claim;
use super::printed::{PNum, Unit};
use super::published::Check;

fn scaled(p: &PNum, u: Unit) -> (f64, f64) {
    let (l, h) = p.interval();
    if u == Unit::Percent {
        (l / 100.0, h / 100.0)
    } else {
        (l, h)
    }
}

/// A printed number as a fraction (percent divided by 100).
fn value(p: &PNum, u: Unit) -> f64 {
    if u == Unit::Percent {
        p.value / 100.0
    } else {
        p.value
    }
}

fn agree(a: &PNum, ua: Unit, b: &PNum, ub: Unit) -> bool {
    let (al, ah) = scaled(a, ua);
    let (bl, bh) = scaled(b, ub);
    al <= bh && bl <= ah
}

/// A printed number with its unit sign.
fn show(p: &PNum, u: Unit) -> String {
    if u == Unit::Percent && !p.text.ends_with('%') {
        format!("{}%", p.text)
    } else {
        p.text.clone()
    }
}

/// How far (relative) an approximate secondary figure may lie from the primary's value.
pub const APPROX_REL: f64 = 0.10;

/// The word that marks a secondary figure as approximate, if its printed text or quote has one.
fn approximate(c: &Claim) -> Option<&'static str> {
    let text = format!("{} {}", c.spec.printed, c.spec.quote.as_deref().unwrap_or("")).to_lowercase();
    [
        "roughly",
        "approximately",
        "about ",
        "around ",
        "nearly",
        "almost",
        "~",
        "≈",
    ]
    .into_iter()
    .find(|w| text.contains(w))
    .map(str::trim)
}

/// Whether the approximate figure `e` lies within [`APPROX_REL`] of `x` (both as fractions).
fn near(e: (f64, f64), x: f64) -> bool {
    let tol = APPROX_REL * x.abs();
    e.1 >= x - tol && e.0 <= x + tol
}

fn norm(s: &str) -> String {
    s.to_lowercase()
        .replace(['-', '_', '/'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The checks of every claim that cites another, placed on both claims.
pub fn checks(claims: &[Claim]) -> Vec<Vec<Check>> {
    let mut out = vec![Vec::new(); claims.len()];
    for (i, sec) in claims.iter().enumerate() {
        let Some(cited) = &sec.spec.cites else {
            continue;
        };
        let Some(j) = claims.iter().position(|c| &c.spec.label == cited) else {
            out[i].push(Check::flag(
                "secondary vs primary source",
                format!("cites \"{cited}\", which is no claim of this file"),
            ));
            continue;
        };
        let pri = &claims[j];
        let mut found = Vec::new();
        // Population.
        let name = "same population as the primary source";
        match (&sec.spec.population, &pri.spec.population) {
            (Some(a), Some(b)) if norm(a) == norm(b) => {
                found.push(Check::pass(name, format!("both say \"{a}\"")));
            }
            (Some(a), Some(b)) => found.push(Check::flag(
                name,
                format!(
                    "the secondary source (\"{}\") says \"{a}\"; the primary (\"{}\") says \"{b}\": the number is quoted for another population",
                    sec.spec.label, pri.spec.label
                ),
            )),
            _ => found.push(Check::na(name, "needs `population` on both claims".into())),
        }
        // The number.
        let name = "same number as the primary source";
        let (sp, pp) = (&sec.printed, &pri.printed);
        let mut compared = Vec::new();
        let mut bad = Vec::new();
        let approx = approximate(sec);
        match (&sp.estimate, &pp.estimate, &pp.ci_lb, &pp.ci_ub) {
            (Some(e), Some(pe), _, _) => {
                compared.push("estimate");
                let approx_ok = approx.is_some() && near(scaled(e, sp.unit), value(pe, pp.unit));
                if !agree(e, sp.unit, pe, pp.unit) && !approx_ok {
                    bad.push(format!(
                        "the estimate {} is not the primary's {}",
                        show(e, sp.unit),
                        show(pe, pp.unit)
                    ));
                }
            }
            (Some(e), None, Some(l), Some(u)) => {
                compared.push("estimate against the primary's CI");
                let (el, eh) = scaled(e, sp.unit);
                let (ll, _) = scaled(l, pp.unit);
                let (_, uh) = scaled(u, pp.unit);
                if eh < ll || el > uh {
                    bad.push(format!(
                        "{} lies outside the CI {} to {} that the primary prints for it (the primary prints no estimate)",
                        show(e, sp.unit),
                        show(l, pp.unit),
                        show(u, pp.unit)
                    ));
                }
            }
            _ => {}
        }
        for (what, a, b) in [
            ("lower CI bound", &sp.ci_lb, &pp.ci_lb),
            ("upper CI bound", &sp.ci_ub, &pp.ci_ub),
        ] {
            if let (Some(a), Some(b)) = (a, b) {
                compared.push(what);
                if !agree(a, sp.unit, b, pp.unit) {
                    bad.push(format!(
                        "the {what} {} is not the primary's {}",
                        show(a, sp.unit),
                        show(b, pp.unit)
                    ));
                }
            }
        }
        if let (Some(e), None, None, Some((px, pn))) = (&sp.estimate, &pp.estimate, sp.x_of_n, pp.x_of_n) {
            if pn > 0 {
                compared.push("estimate against the primary's count");
                let frac = px as f64 / pn as f64;
                let (el, eh) = scaled(e, sp.unit);
                let approx_ok = approx.is_some() && near((el, eh), frac);
                if (frac < el - 1e-12 || frac > eh + 1e-12) && !approx_ok {
                    bad.push(format!(
                        "{} is not {px} of {pn} = {:.1}% that the primary prints",
                        show(e, sp.unit),
                        100.0 * frac
                    ));
                }
            }
        }
        if let (Some((x, n)), Some((px, pn))) = (sp.x_of_n, pp.x_of_n) {
            compared.push("count");
            if (x, n) != (px, pn) {
                bad.push(format!("{x} of {n} is not the primary's {px} of {pn}"));
            }
        }
        if compared.is_empty() {
            found.push(Check::na(
                name,
                format!(
                    "\"{}\" and \"{}\" print no number that can be compared",
                    sec.spec.label, pri.spec.label
                ),
            ));
        } else if bad.is_empty() {
            found.push(Check::pass(
                name,
                match approx {
                    None => format!(
                        "\"{}\" agrees with \"{}\" within rounding ({})",
                        sec.spec.label,
                        pri.spec.label,
                        compared.join(", ")
                    ),
                    Some(w) => format!(
                        "\"{}\" agrees with \"{}\" as an approximation (\"{w}\": within {:.0}% of the primary's value; {})",
                        sec.spec.label,
                        pri.spec.label,
                        100.0 * APPROX_REL,
                        compared.join(", ")
                    ),
                },
            ));
        } else {
            found.push(Check::flag(
                name,
                format!(
                    "\"{}\" does not say what \"{}\" says: {}",
                    sec.spec.label,
                    pri.spec.label,
                    bad.join("; ")
                ),
            ));
        }
        // On the primary: what the secondary does with it, as findings.
        out[j].extend(found.iter().filter(|k| k.status.ran()).map(|k| {
            Check::finding(
                &format!("{} (quoted by \"{}\")", k.name, sec.spec.label),
                format!("{}: {}", k.status, k.detail),
            )
        }));
        out[i].extend(found);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Vec<Claim> {
        let t = format!("[paper]\ncitation = \"x\"\n{body}");
        super::super::claims::parse(&t, std::path::Path::new("c.toml"))
            .unwrap()
            .claims
    }

    fn status(c: &[Check], name: &str) -> &'static str {
        c.iter()
            .find(|k| k.name == name)
            .map(|k| k.status.as_str())
            .unwrap_or("absent")
    }

    /// Wang 2023's abstract prints 8.9% for RP-ILD; the summary quotes it for ILD. Its 6-month
    /// survival CI for biologics is 49.8–73.9%; the summary's 92.1% lies outside.
    #[test]
    fn population_and_number_against_the_primary() {
        let cl = parse(
            "[[claim]]\nlabel = \"p\"\nprinted = \"8.9% (95% CI, 5.8% to 12.1%)\"\npopulation = \"RP-ILD in DM/PM\"\n\
             [[claim]]\nlabel = \"s\"\nprinted = \"8.9%\"\npopulation = \"ILD in DM/PM\"\ncites = \"p\"\n\
             [[claim]]\nlabel = \"ci\"\nprinted = \"(95% CI, 49.8% to 73.9%)\"\n\
             [[claim]]\nlabel = \"s2\"\nprinted = \"92.1%\"\ncites = \"ci\"\n\
             [[claim]]\nlabel = \"s3\"\nprinted = \"60.0%\"\ncites = \"ci\"\n\
             [[claim]]\nlabel = \"s4\"\nprinted = \"9.9%\"\npopulation = \"RP ILD in DM PM\"\ncites = \"p\"\n\
             [[claim]]\nlabel = \"s5\"\nprinted = \"1%\"\ncites = \"nothing\"\n\
             [[claim]]\nlabel = \"h\"\nprinted = \"7 of 17\"\n\
             [[claim]]\nlabel = \"s6\"\nprinted = \"7 of 17 patients (41%)\"\ncites = \"h\"\n\
             [[claim]]\nlabel = \"s7\"\nprinted = \"40%\"\ncites = \"h\"\n\
             [[claim]]\nlabel = \"s8\"\nprinted = \"6 of 17 patients (35%)\"\ncites = \"h\"\n\
             [[claim]]\nlabel = \"s9\"\nprinted = \"40%\"\nquote = \"roughly 40% of patients\"\ncites = \"h\"\n\
             [[claim]]\nlabel = \"s10\"\nprinted = \"30%\"\nquote = \"roughly 30% of patients\"\ncites = \"h\"\n",
        );
        let ch = checks(&cl);
        assert_eq!(status(&ch[1], "same population as the primary source"), "flag");
        assert_eq!(status(&ch[1], "same number as the primary source"), "pass");
        // On the primary, a finding that does not change its verdict.
        assert_eq!(
            status(&ch[0], "same population as the primary source (quoted by \"s\")"),
            "finding"
        );
        assert!(ch[0].iter().all(|k| !k.status.ran()), "{:?}", ch[0]);
        assert_eq!(status(&ch[3], "same number as the primary source"), "flag");
        assert!(
            ch[3].iter().any(|k| k.detail.contains("outside the CI 49.8% to 73.9%")),
            "{:?}",
            ch[3]
        );
        assert_eq!(status(&ch[4], "same number as the primary source"), "pass");
        assert_eq!(status(&ch[5], "same population as the primary source"), "pass");
        assert_eq!(status(&ch[5], "same number as the primary source"), "flag");
        assert_eq!(status(&ch[6], "secondary vs primary source"), "flag");
        assert_eq!(status(&ch[8], "same number as the primary source"), "pass");
        assert_eq!(
            status(&ch[9], "same number as the primary source"),
            "flag",
            "40% is not 7/17 = 41.2%"
        );
        assert_eq!(status(&ch[10], "same number as the primary source"), "flag");
        // "roughly 40%" for 7/17 = 41.2% is an approximation within 10%; "roughly 30%" is not.
        assert_eq!(status(&ch[11], "same number as the primary source"), "pass");
        assert!(ch[11]
            .iter()
            .any(|k| k.detail.contains("as an approximation (\"roughly\"")));
        assert_eq!(status(&ch[12], "same number as the primary source"), "flag");
    }
}
