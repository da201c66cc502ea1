//! The verdicts of a verification, as enums (serialised as the words the reports print).
//!
//! A number recomputed from study data is a `match`, `off by ±N` units of its last printed digit,
//! a `mismatch`, or `not computed`. Without data a number is `consistent` when at least one check
//! about it ran and none flagged it, `inconsistent` when one flagged it, and `unchecked` when no
//! check could say anything about it. A claim's verdict follows the same rule over all its
//! numbers and checks: nothing checked is never reported as consistent.

use serde::{Serialize, Serializer};

use super::published::{Check, CheckStatus};
use super::rounding::Verdict;

/// The verdict on one printed number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberVerdict {
    /// Recomputed, and it rounds to the printed value (or satisfies the printed bound).
    Match,
    /// Recomputed, off by this many units of the last printed digit.
    OffBy(i64),
    /// Recomputed, further off (or a printed bound or exact count not met).
    Mismatch,
    /// Data were there but the number could not be recomputed.
    NotComputed,
    /// Without data: a check about this number ran and none flagged it.
    Consistent,
    /// Without data: a check about this number flagged it.
    Inconsistent,
    /// Without data: no check could say anything about this number.
    Unchecked,
}

impl NumberVerdict {
    pub fn label(&self) -> String {
        match self {
            NumberVerdict::Match => "match".into(),
            NumberVerdict::OffBy(n) => format!("off by {}{}", if *n > 0 { "+" } else { "" }, n),
            NumberVerdict::Mismatch => "mismatch".into(),
            NumberVerdict::NotComputed => "not computed".into(),
            NumberVerdict::Consistent => "consistent".into(),
            NumberVerdict::Inconsistent => "inconsistent".into(),
            NumberVerdict::Unchecked => "unchecked".into(),
        }
    }

    /// Without data: the verdict of the checks about the number `name`.
    pub fn from_checks(checks: &[Check], name: &str) -> NumberVerdict {
        let about: Vec<&Check> = checks.iter().filter(|k| k.concerns(name)).collect();
        if about.iter().any(|k| k.status == CheckStatus::Flag) {
            NumberVerdict::Inconsistent
        } else if about.iter().any(|k| k.status == CheckStatus::Pass) {
            NumberVerdict::Consistent
        } else {
            NumberVerdict::Unchecked
        }
    }
}

impl From<Verdict> for NumberVerdict {
    fn from(v: Verdict) -> Self {
        match v {
            Verdict::Match => NumberVerdict::Match,
            Verdict::OffBy(n) => NumberVerdict::OffBy(n),
            Verdict::Mismatch => NumberVerdict::Mismatch,
            Verdict::NotComputed => NumberVerdict::NotComputed,
        }
    }
}

impl std::fmt::Display for NumberVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

impl Serialize for NumberVerdict {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.label())
    }
}

impl PartialEq<&str> for NumberVerdict {
    fn eq(&self, other: &&str) -> bool {
        self.label() == *other
    }
}

/// The verdict on one claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ClaimVerdict {
    /// Every recomputed number matches.
    #[serde(rename = "match")]
    Match,
    /// The worst recomputed number is off by a few units of its last digit.
    #[serde(rename = "near miss")]
    NearMiss,
    /// A recomputed number is further off.
    #[serde(rename = "mismatch")]
    Mismatch,
    /// Data were there but the claim could not be recomputed.
    #[serde(rename = "not computed")]
    NotComputed,
    /// Without data: at least one check ran and none flagged.
    #[serde(rename = "consistent")]
    Consistent,
    /// Without data: a check flagged.
    #[serde(rename = "inconsistent")]
    Inconsistent,
    /// Nothing could be checked.
    #[serde(rename = "unchecked")]
    Unchecked,
}

impl ClaimVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimVerdict::Match => "match",
            ClaimVerdict::NearMiss => "near miss",
            ClaimVerdict::Mismatch => "mismatch",
            ClaimVerdict::NotComputed => "not computed",
            ClaimVerdict::Consistent => "consistent",
            ClaimVerdict::Inconsistent => "inconsistent",
            ClaimVerdict::Unchecked => "unchecked",
        }
    }

    /// Whether the verdict reports a problem (`--strict` fails on it): not a match, not
    /// consistent, and not merely unchecked.
    pub fn is_problem(self) -> bool {
        !matches!(
            self,
            ClaimVerdict::Match | ClaimVerdict::Consistent | ClaimVerdict::Unchecked
        )
    }

    /// The verdict of a claim from its numbers' verdicts and its checks. A recomputed number
    /// decides (the worst of them); without any, the checks decide: inconsistent when one
    /// flagged, consistent when at least one ran, unchecked when none did.
    pub fn of(numbers: &[NumberVerdict], checks: &[Check]) -> ClaimVerdict {
        let recomputed: Vec<NumberVerdict> = numbers
            .iter()
            .copied()
            .filter(|v| {
                matches!(
                    v,
                    NumberVerdict::Match
                        | NumberVerdict::OffBy(_)
                        | NumberVerdict::Mismatch
                        | NumberVerdict::NotComputed
                )
            })
            .collect();
        if !recomputed.is_empty() {
            return if recomputed.contains(&NumberVerdict::Mismatch) {
                ClaimVerdict::Mismatch
            } else if recomputed.contains(&NumberVerdict::NotComputed) {
                ClaimVerdict::NotComputed
            } else if recomputed.iter().any(|v| matches!(v, NumberVerdict::OffBy(_))) {
                ClaimVerdict::NearMiss
            } else {
                ClaimVerdict::Match
            };
        }
        if checks.iter().any(|k| k.status == CheckStatus::Flag) {
            ClaimVerdict::Inconsistent
        } else if checks.iter().any(|k| k.status == CheckStatus::Pass) {
            ClaimVerdict::Consistent
        } else {
            ClaimVerdict::Unchecked
        }
    }
}

impl std::fmt::Display for ClaimVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ClaimVerdict {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// What a verdict rests on, in words: the numbers recomputed and the checks that ran, passed,
/// flagged or could not run.
pub fn basis(numbers: &[(String, NumberVerdict)], checks: &[Check]) -> String {
    let mut parts = Vec::new();
    let rec: Vec<&str> = numbers
        .iter()
        .filter(|(_, v)| {
            matches!(
                v,
                NumberVerdict::Match | NumberVerdict::OffBy(_) | NumberVerdict::Mismatch
            )
        })
        .map(|(n, _)| n.as_str())
        .collect();
    if !rec.is_empty() {
        parts.push(format!("recomputed from the data: {}", rec.join(", ")));
    }
    let names = |s: CheckStatus| -> Vec<&str> {
        checks
            .iter()
            .filter(|k| k.status == s)
            .map(|k| k.name.as_str())
            .collect()
    };
    let (pass, flag, finding) = (
        names(CheckStatus::Pass),
        names(CheckStatus::Flag),
        names(CheckStatus::Finding),
    );
    if !pass.is_empty() {
        parts.push(format!("checks passed: {}", pass.join(", ")));
    }
    if !flag.is_empty() {
        parts.push(format!("checks flagged: {}", flag.join(", ")));
    }
    if !finding.is_empty() {
        parts.push(format!("findings: {}", finding.join(", ")));
    }
    let unchecked: Vec<&str> = numbers
        .iter()
        .filter(|(_, v)| matches!(v, NumberVerdict::Unchecked | NumberVerdict::NotComputed))
        .map(|(n, _)| n.as_str())
        .collect();
    if !unchecked.is_empty() {
        parts.push(format!("not checked: {}", unchecked.join(", ")));
    }
    if parts.is_empty() {
        "nothing could be checked".into()
    } else {
        parts.join("; ")
    }
}
