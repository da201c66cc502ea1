//! Estimates printed in a review's abstract and results text ("RR 0.27; 95% CI 0.12 to 0.60",
//! "OR 0.66 (95% CI 0.53 to 0.82)", "MD -3.49 (95% CI -5.03 to -1.96)"), found, matched to the
//! analysis they report and checked at their printed precision.
//!
//! - **Found:** a measure (RR, risk ratio, relative risk; OR, odds ratio, Peto OR; RD, risk
//!   difference; MD, WMD, mean difference; SMD, standardised/standardized mean difference; HR,
//!   hazard ratio), a number within a few characters, "CI" after it and two numbers after that
//!   (separated by "to", a dash or a comma). Abbreviations count only in capitals ("or" is a
//!   word). The snippet is read with verify's printed-number parser ([`super::printed::parse`]).
//! - **Matched:** among the analyses (outcomes and subgroups) of the same measure, the one whose
//!   recomputed estimate and CI bounds round to most of the three printed numbers (at least two),
//!   then the one with the most words of its outcome's name in the 200 characters before the
//!   estimate, then the nearest estimate. Several analyses equally good are named (`also_fits`).
//! - **Checked:** each printed number with verify's rounding rule ([`super::rounding::compare`]:
//!   the value printed with d decimals stands for ± ½·10^−d), and a printed p-value with
//!   [`super::printed::PValue::judge`]. Verdicts: `consistent` (every number rounds), `misprinted`
//!   (matched, but a number does not round; which, and by how many printed units), `unmatched` (no
//!   analysis of that measure fits two of the three numbers).

use serde::Serialize;

use super::printed::PNum;
use super::revman::AnalysisCheck;
use super::rounding::{compare, rounds_to};
use crate::data::revman::ReviewText;

/// A measure family named in text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    RR,
    OR,
    RD,
    MD,
    Smd,
    HR,
}

impl Family {
    fn as_str(self) -> &'static str {
        match self {
            Family::RR => "RR",
            Family::OR => "OR",
            Family::RD => "RD",
            Family::MD => "MD",
            Family::Smd => "SMD",
            Family::HR => "HR",
        }
    }

    /// Whether an analysis of `measure` (RevMan's label) reports this family.
    fn fits(self, measure: &str) -> bool {
        let m = measure.to_ascii_lowercase();
        match self {
            Family::RR => m == "rr" || m.contains("risk ratio"),
            Family::OR => m == "or" || m == "peto_or" || m.contains("odds ratio"),
            Family::RD => m == "rd" || m.contains("risk difference"),
            Family::MD => m == "md" || (m.contains("mean difference") && !m.contains("standard")),
            Family::Smd => m == "smd" || m.contains("standardi"),
            Family::HR => m == "hr" || m.contains("hazard"),
        }
    }
}

/// Labels: (text, case-sensitive, family), longest first where one contains another.
const LABELS: &[(&str, bool, Family)] = &[
    ("standardised mean difference", false, Family::Smd),
    ("standardized mean difference", false, Family::Smd),
    ("weighted mean difference", false, Family::MD),
    ("mean difference", false, Family::MD),
    ("peto odds ratio", false, Family::OR),
    ("odds ratio", false, Family::OR),
    ("risk ratio", false, Family::RR),
    ("relative risk", false, Family::RR),
    ("risk difference", false, Family::RD),
    ("hazard ratio", false, Family::HR),
    ("Peto OR", true, Family::OR),
    ("SMD", true, Family::Smd),
    ("WMD", true, Family::MD),
    ("MD", true, Family::MD),
    ("RR", true, Family::RR),
    ("OR", true, Family::OR),
    ("RD", true, Family::RD),
    ("HR", true, Family::HR),
];

/// A number in the text: (value, decimals, text, start, end) in bytes.
type Num = (f64, u32, String, usize, usize);

/// The number starting at or after `from` within `limit` bytes; a '-' right after a digit is a
/// range dash, not a sign.
fn next_number(t: &str, from: usize, limit: usize) -> Option<Num> {
    let b = t.as_bytes();
    let end = (from + limit).min(b.len());
    let mut i = from;
    while i < end {
        let c = b[i];
        let ascii_minus =
            c == b'-' && i + 1 < b.len() && b[i + 1].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_digit());
        // U+2212 MINUS SIGN is three bytes in UTF-8.
        let unicode_minus =
            t.is_char_boundary(i) && t[i..].starts_with('\u{2212}') && b.get(i + 3).is_some_and(|d| d.is_ascii_digit());
        let sign_here = ascii_minus || unicode_minus;
        if c.is_ascii_digit() || sign_here {
            let start = i;
            let mut j = i;
            let mut neg = false;
            if c == b'-' {
                neg = true;
                j += 1;
            } else if !c.is_ascii_digit() {
                neg = true;
                j += 3;
            }
            let ds = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let mut dec = 0;
            if j + 1 < b.len() && b[j] == b'.' && b[j + 1].is_ascii_digit() {
                j += 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                    dec += 1;
                }
            }
            let digits = &t[ds..j];
            let v: f64 = digits.parse().ok()?;
            let v = if neg { -v } else { v };
            let text = if neg { format!("-{digits}") } else { digits.to_string() };
            return Some((v, dec, text, start, j));
        }
        i += 1;
    }
    None
}

fn pnum(n: &Num) -> PNum {
    PNum {
        value: n.0,
        decimals: n.1,
        text: n.2.clone(),
    }
}

/// One estimate found in the text.
#[derive(Debug, Clone, PartialEq)]
struct Found {
    section: String,
    family: Family,
    label: String,
    snippet: String,
    /// The text before the estimate (for outcome-name words).
    before: String,
    estimate: PNum,
    ci_lb: PNum,
    ci_ub: PNum,
    p: Option<super::printed::PValue>,
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

/// Every printed estimate with a CI in one paragraph.
fn find_in(par: &ReviewText) -> Vec<Found> {
    let t = par.text.as_str();
    let lower = t.to_ascii_lowercase();
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !t.is_char_boundary(i) || (i > 0 && is_word_byte(b[i - 1])) {
            i += 1;
            continue;
        }
        let hit = LABELS.iter().find(|(l, cs, _)| {
            let hay = if *cs { t } else { lower.as_str() };
            hay[i..].starts_with(l) && !b.get(i + l.len()).is_some_and(|&c| is_word_byte(c))
        });
        let Some(&(label, _, family)) = hit else {
            i += 1;
            continue;
        };
        let after = i + label.len();
        let found = (|| {
            let est = next_number(t, after, 16)?;
            // Only punctuation, spaces and a few words between the label and the estimate.
            let gap = &t[after..est.3];
            if gap.chars().any(|c| c.is_ascii_digit()) || gap.split_whitespace().count() > 2 {
                return None;
            }
            let mut ci_end = (est.4 + 30).min(t.len());
            while !t.is_char_boundary(ci_end) {
                ci_end -= 1;
            }
            let ci_at = lower[est.4..ci_end].find("ci")? + est.4;
            let lb = next_number(t, ci_at + 2, 12)?;
            let ub = next_number(t, lb.4, 8)?;
            let sep = t[lb.4..ub.3].trim().to_ascii_lowercase();
            if !matches!(sep.as_str(), "to" | "-" | "\u{2013}" | "\u{2014}" | "," | ";" | "") {
                return None;
            }
            let mut end = ub.4;
            // The closing parenthesis of "(95% CI 0.12 to 0.60)".
            if t[i..end].contains('(') && t[end..].starts_with(')') {
                end += 1;
            }
            if let Some(rest) = t.get(end..) {
                // Keep a printed p-value right after the interval ("; P = 0.03").
                let r = rest.trim_start_matches([' ', ')', ';', ',']);
                if r.starts_with(['P', 'p']) && r[1..].trim_start().starts_with(['=', '<', '>', '\u{2264}']) {
                    if let Some(pn) = next_number(t, t.len() - r.len(), 12) {
                        end = pn.4;
                    }
                }
            }
            let snippet = t[i..end].to_string();
            let parsed = super::printed::parse(&snippet).ok();
            // The printed-number parser reads the snippet; where it reads the same three numbers,
            // its values stand (with its p-value).
            let agree = parsed.as_ref().is_some_and(|p| {
                p.estimate.as_ref().is_some_and(|e| e.value == est.0)
                    && p.ci_lb.as_ref().is_some_and(|x| x.value == lb.0)
                    && p.ci_ub.as_ref().is_some_and(|x| x.value == ub.0)
            });
            let (estimate, ci_lb, ci_ub, p) = match (agree, parsed) {
                (true, Some(p)) => (p.estimate?, p.ci_lb?, p.ci_ub?, p.p),
                _ => (pnum(&est), pnum(&lb), pnum(&ub), None),
            };
            Some((
                Found {
                    section: par.section.clone(),
                    family,
                    label: t[i..after].to_string(),
                    snippet,
                    before: {
                        let mut s = i.saturating_sub(200);
                        while !t.is_char_boundary(s) {
                            s += 1;
                        }
                        t[s..i].to_string()
                    },
                    estimate,
                    ci_lb,
                    ci_ub,
                    p,
                },
                end,
            ))
        })();
        match found {
            Some((f, end)) => {
                out.push(f);
                i = end;
            }
            None => i = after,
        }
    }
    out
}

/// The analysis a text claim was matched to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimAnalysis {
    pub id: String,
    pub subgroup: Option<u32>,
    pub name: String,
}

/// One printed number of a text claim, checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimNumber {
    pub what: &'static str,
    pub printed: String,
    pub recomputed: Option<f64>,
    /// "match", "off by +N" (units of the printed digit), "mismatch".
    pub verdict: String,
}

/// An estimate printed in the review's text, matched and checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextClaim {
    /// "abstract" or "results".
    pub section: String,
    /// The printed text, e.g. "RR 0.27; 95% CI 0.12 to 0.60".
    pub text: String,
    pub measure: &'static str,
    pub analysis: Option<ClaimAnalysis>,
    /// Other analyses that fit as well.
    pub also_fits: Vec<String>,
    pub numbers: Vec<ClaimNumber>,
    /// "consistent", "misprinted" or "unmatched".
    pub verdict: &'static str,
}

fn words(name: &str) -> Vec<String> {
    let mut w: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4)
        .map(|w| w.to_lowercase())
        .collect();
    w.sort();
    w.dedup();
    w
}

fn label_of(a: &AnalysisCheck) -> String {
    match a.subgroup {
        Some(s) => format!("{} subgroup {s}", a.id),
        None => a.id.clone(),
    }
}

/// Find, match and check every printed estimate of `texts` against `analyses`.
pub fn check_texts(texts: &[ReviewText], analyses: &[AnalysisCheck]) -> Vec<TextClaim> {
    let mut out = Vec::new();
    for par in texts {
        for f in find_in(par) {
            let before = f.before.to_lowercase();
            let mut scored: Vec<(usize, usize, f64, &AnalysisCheck)> = analyses
                .iter()
                .filter(|a| f.family.fits(&a.measure))
                .filter_map(|a| {
                    let r = &a.recomputed;
                    let (e, l, u) = (r.estimate?, r.ci_lb?, r.ci_ub?);
                    let hits = [(e, &f.estimate), (l, &f.ci_lb), (u, &f.ci_ub)]
                        .iter()
                        .filter(|(x, p)| rounds_to(*x, p))
                        .count();
                    let name = a
                        .subgroup_name
                        .as_deref()
                        .map(|s| format!("{} {s}", a.name))
                        .unwrap_or(a.name.clone());
                    let w = words(&name).iter().filter(|w| before.contains(w.as_str())).count();
                    Some((hits, w, (e - f.estimate.value).abs(), a))
                })
                .filter(|(hits, ..)| *hits >= 2)
                .collect();
            scored.sort_by(|x, y| y.0.cmp(&x.0).then(y.1.cmp(&x.1)).then(x.2.total_cmp(&y.2)));
            let printed = |p: &PNum| p.text.clone();
            let Some(&(best_hits, best_words, _, a)) = scored.first() else {
                out.push(TextClaim {
                    section: f.section.clone(),
                    text: f.snippet.clone(),
                    measure: f.family.as_str(),
                    analysis: None,
                    also_fits: vec![],
                    numbers: [("estimate", &f.estimate), ("ci_lb", &f.ci_lb), ("ci_ub", &f.ci_ub)]
                        .into_iter()
                        .map(|(what, p)| ClaimNumber {
                            what,
                            printed: printed(p),
                            recomputed: None,
                            verdict: "not computed".into(),
                        })
                        .collect(),
                    verdict: "unmatched",
                });
                continue;
            };
            let also_fits = scored
                .iter()
                .skip(1)
                .filter(|(h, w, ..)| *h == best_hits && *w == best_words)
                .map(|(.., a)| label_of(a))
                .collect();
            let r = &a.recomputed;
            let mut numbers: Vec<ClaimNumber> = [
                ("estimate", &f.estimate, r.estimate),
                ("ci_lb", &f.ci_lb, r.ci_lb),
                ("ci_ub", &f.ci_ub, r.ci_ub),
            ]
            .into_iter()
            .map(|(what, p, x)| ClaimNumber {
                what,
                printed: printed(p),
                recomputed: x,
                verdict: x
                    .map(|x| compare(x, p).label())
                    .unwrap_or_else(|| "not computed".into()),
            })
            .collect();
            if let Some(p) = &f.p {
                numbers.push(ClaimNumber {
                    what: "p",
                    printed: p.text(),
                    recomputed: r.p,
                    verdict: r.p.map(|x| p.judge(x).label()).unwrap_or_else(|| "not computed".into()),
                });
            }
            let all = numbers.iter().all(|n| n.verdict == "match");
            out.push(TextClaim {
                section: f.section.clone(),
                text: f.snippet.clone(),
                measure: f.family.as_str(),
                analysis: Some(ClaimAnalysis {
                    id: a.id.clone(),
                    subgroup: a.subgroup,
                    name: a.subgroup_name.clone().unwrap_or_else(|| a.name.clone()),
                }),
                also_fits,
                numbers,
                verdict: if all { "consistent" } else { "misprinted" },
            });
        }
    }
    out
}

/// One line per claim, for the terminal and Markdown.
pub fn claim_line(c: &TextClaim) -> String {
    let target = match &c.analysis {
        Some(a) => match a.subgroup {
            Some(s) => format!("{} subgroup {s} ({})", a.id, a.name),
            None => format!("{} ({})", a.id, a.name),
        },
        None => "no analysis fits".into(),
    };
    let bad: Vec<String> = c
        .numbers
        .iter()
        .filter(|n| n.verdict != "match" && c.analysis.is_some())
        .map(|n| {
            format!(
                "{} printed {}, recomputed {}: {}",
                n.what,
                n.printed,
                n.recomputed.map(|x| format!("{x:.4}")).unwrap_or_else(|| "-".into()),
                n.verdict
            )
        })
        .collect();
    let mut s = format!("{} [{}] \"{}\" -> {target}", c.verdict, c.section, c.text);
    if !bad.is_empty() {
        s.push_str(&format!(" ({})", bad.join("; ")));
    }
    if !c.also_fits.is_empty() {
        s.push_str(&format!(" (also fits: {})", c.also_fits.join(", ")));
    }
    s
}
