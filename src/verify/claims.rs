//! The claims file: what a paper printed, where, and optionally its data and stated method.
//!
//! ```toml
//! [paper]
//! citation = "Wang H et al. Autoimmun Rev 2023;22(8):103335"
//! doi = "10.1016/j.autrev.2023.103335"
//! [data]                      # optional: recompute from study data
//! file = "studies.csv"        # relative to the claims file
//! by = "treatment_class"      # also events, total, study, where, delimiter as in `pool`
//! outcome_column = "outcome"  # a claim's `outcome` selects these rows
//! [method]                    # optional: what the paper says it did
//! measure = "PR"
//! method = "DL"
//! [[claim]]
//! label = "remission, biologics"
//! outcome = "remission"
//! subgroup = "biologics"      # absent: the overall estimate
//! printed = "74.7% (95% CI, 62.8% to 85.7%)"
//! source = "abstract"
//! k = 7                       # optional, as printed; also n, I2, tau2, Q, p, pi
//! [[claim]]                   # a small-study test (see [`super::bias`])
//! label = "Egger's test"
//! test = "egger"              # egger, begg, trimfill, peters, harbord, fsn
//! p = "0.03"                  # "<0.001" is a bound; also z or t, bias, k0, printed, ...
//! ```
//!
//! Every table refuses keys it does not know (an error naming the key), so a misspelt key is not
//! silently ignored.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::bias::BiasClaim;
use super::printed::{self, PNum, PValue, Printed, Unit};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// A number given as printed: a string keeps trailing zeros ("0.50"); a TOML number is read with
/// the decimals of its shortest representation.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum AsPrinted {
    Text(String),
    Int(i64),
    Float(f64),
}

impl AsPrinted {
    pub fn to_pnum(&self) -> std::result::Result<PNum, String> {
        let text = match self {
            AsPrinted::Text(s) => s.clone(),
            AsPrinted::Int(i) => i.to_string(),
            AsPrinted::Float(f) => format!("{f}"),
        };
        let p = printed::parse(&text)?;
        p.estimate.ok_or_else(|| format!("no number in \"{text}\""))
    }

    /// The printed number, which may be a bound ("<0.001", "> 50%"); `what` names it in errors.
    pub fn to_bound(&self, what: &str) -> std::result::Result<PValue, String> {
        match self {
            AsPrinted::Text(s) => PValue::parse_bound(s, what),
            AsPrinted::Int(_) | AsPrinted::Float(_) => Ok(PValue {
                relation: printed::Relation::Eq,
                num: self.to_pnum()?,
            }),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Paper {
    pub citation: String,
    pub doi: Option<String>,
    pub pmid: Option<String>,
    pub read_from: Option<OneOrMany>,
    pub read_on: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    pub file: PathBuf,
    pub events: Option<String>,
    pub total: Option<String>,
    pub study: Option<String>,
    pub by: Option<String>,
    #[serde(rename = "where")]
    pub filters: Option<OneOrMany>,
    pub delimiter: Option<String>,
    /// Column whose value a claim's `outcome` selects.
    pub outcome_column: Option<String>,
    /// `"drop"`: leave out rows with a missing count (reported), as `pool --na drop`.
    pub na: Option<String>,
}

/// The analysis as the paper states it; every key optional.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MethodSpec {
    pub measure: Option<String>,
    pub method: Option<String>,
    pub test: Option<String>,
    pub pi: Option<String>,
    pub add: Option<f64>,
    pub to: Option<String>,
    pub pft_mean: Option<String>,
    pub tau2_common: Option<bool>,
    /// Leave out studies with 0 or all events (Stata `metaprop` without `cc()`).
    pub drop_zero_all: Option<bool>,
    /// Confidence level of the CIs and PIs, in percent (90) or as a fraction (0.9), for claims
    /// whose text prints none ("90% CI" in a claim's text wins).
    pub level: Option<f64>,
    /// Two-group claims (see [`super::comparative`]): a preset of [`super::presets`] whose
    /// switches fill in what the keys below leave out (default: metafor's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// IV, MH or PETO.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pooling: Option<String>,
    /// With M-H pooling and DL: τ² from the Q around the M-H estimate (MH) or the IV Q (IV).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q_source: Option<String>,
    /// 2×2 tables: which cells the correction changes (all-cells, events-and-n, tacc).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cc_target: Option<String>,
    /// RD: the correction enters the variance only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rd_cc_se_only: Option<bool>,
    /// The correction is also added inside the M-H sums.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cc_in_mh: Option<bool>,
    /// Double-zero tables get no effect size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop00: Option<bool>,
    /// M-H: double-zero tables left out of the M-H sums (metafor's second `drop00` element);
    /// defaults to `drop00`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mh_drop00: Option<bool>,
    /// Variance of the M-H risk difference: GR or SGR.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rd_variance: Option<String>,
    /// Sampling variances (metafor vtype; SMD variant: LS, UB, RevMan, Cohen; MD: LS, HO).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vtype: Option<String>,
    /// When the iterative τ² estimators stop: "tight" (machine precision, the default) or
    /// "defaults" (metafor's threshold 1e-5 and `uniroot` tolerance, as a paper run with them).
    pub stopping: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimSpec {
    pub label: String,
    pub outcome: Option<String>,
    pub subgroup: Option<String>,
    /// The printed result. Required except on a small-study test claim, where it is the
    /// estimate (with CI) the test gives: trim-and-fill's adjusted estimate, Egger's limit
    /// estimate.
    #[serde(default)]
    pub printed: String,
    pub source: Option<String>,
    pub k: Option<u64>,
    pub n: Option<u64>,
    #[serde(rename = "I2")]
    pub i2: Option<AsPrinted>,
    pub tau2: Option<AsPrinted>,
    #[serde(rename = "Q")]
    pub q: Option<AsPrinted>,
    /// The p-value of the estimate (its test against the null: 0 on the analysis scale); on a
    /// small-study test claim, the test's p-value. "<0.001" is a bound.
    pub p: Option<AsPrinted>,
    /// The p-value of the heterogeneity test (Cochran's Q).
    #[serde(rename = "Q_p")]
    pub q_p: Option<AsPrinted>,
    /// On an overall claim: the p-value of the test for subgroup differences (between the
    /// subgroups of `[data] by`).
    pub subgroup_p: Option<AsPrinted>,
    /// The unit of the printed numbers when the text does not show it ("percent" when a table
    /// prints "%" only in its column header; also "proportion", "ratio", "difference").
    pub unit: Option<String>,
    /// Printed prediction interval, e.g. "(30.1% to 85.2%)".
    pub pi: Option<String>,
    /// Extra row filters for this claim (`COL=VALUE`).
    #[serde(rename = "where")]
    pub filters: Option<OneOrMany>,
    pub quote: Option<String>,
    pub note: Option<String>,
    /// A small-study / publication-bias test: egger, begg, trimfill, peters, harbord, fsn.
    pub test: Option<String>,
    /// Trim-and-fill: the printed number of missing studies.
    pub k0: Option<AsPrinted>,
    /// The printed test statistic (z or t).
    pub z: Option<AsPrinted>,
    pub t: Option<AsPrinted>,
    /// Begg's test: Kendall's tau.
    pub tau: Option<AsPrinted>,
    /// Egger's, Peters' and Harbord's tests: the coefficient tested (Egger's bias coefficient).
    pub bias: Option<AsPrinted>,
    /// Fail-safe N: the printed number.
    pub fsn: Option<AsPrinted>,
    /// Egger's test: predictor (sei, vi, ni, ninv, sqrtni, sqrtninv) and model (rma, lm).
    pub predictor: Option<String>,
    pub model: Option<String>,
    /// Trim-and-fill: estimator (L0, R0, Q0) and side (left, right).
    pub estimator: Option<String>,
    pub side: Option<String>,
    /// Fail-safe N: type (Rosenthal, Orwin, Rosenberg), α, Orwin's target.
    pub fsn_type: Option<String>,
    pub alpha: Option<f64>,
    pub target: Option<f64>,
    /// A ratio claim: the event risks printed for the two groups ("38.5%", "0.629"), checked
    /// against the ratio (see [`super::comparative`]).
    pub rate1: Option<AsPrinted>,
    pub rate2: Option<AsPrinted>,
    /// A secondary source's claim: the label of the claim (in this file) it quotes, checked
    /// against it (see [`super::sources`]).
    pub cites: Option<String>,
    /// The population the number is about, as this source names it ("RP-ILD in DM/PM").
    pub population: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimsFile {
    pub paper: Paper,
    pub data: Option<DataSpec>,
    pub method: Option<MethodSpec>,
    #[serde(rename = "claim", default)]
    pub claims: Vec<ClaimSpec>,
}

/// One claim with its printed text read.
#[derive(Debug, Clone)]
pub struct Claim {
    pub spec: ClaimSpec,
    pub printed: Printed,
    pub pi: Option<Printed>,
    pub i2: Option<PValue>,
    pub tau2: Option<PValue>,
    pub q: Option<PValue>,
    /// The estimate's p-value (the key `p`, or printed in the text).
    pub p: Option<PValue>,
    /// The heterogeneity test's p-value.
    pub q_p: Option<PValue>,
    /// The test for subgroup differences' p-value.
    pub subgroup_p: Option<PValue>,
    /// How the unit was read, when the text does not show it ("%" missing).
    pub unit_note: Option<String>,
    /// The small-study test the claim states, with its printed numbers (`None`: a pooled
    /// estimate).
    pub bias: Option<BiasClaim>,
}

impl Claim {
    /// k as printed on the claim or inside its text.
    pub fn k(&self) -> Option<u64> {
        self.spec.k.or(self.printed.k)
    }

    pub fn n(&self) -> Option<u64> {
        self.spec.n.or(self.printed.n)
    }

    pub fn i2(&self) -> Option<PValue> {
        self.i2.clone().or(self.printed.i2.clone().map(|num| PValue {
            relation: printed::Relation::Eq,
            num,
        }))
    }
}

/// A claims file, read and checked.
#[derive(Debug, Clone)]
pub struct Claims {
    pub path: PathBuf,
    pub file: ClaimsFile,
    pub claims: Vec<Claim>,
}

impl Claims {
    /// The data file, resolved relative to the claims file.
    pub fn data_path(&self) -> Option<PathBuf> {
        self.file.data.as_ref().map(|d| {
            if d.file.is_absolute() {
                d.file.clone()
            } else {
                self.path.parent().unwrap_or(Path::new(".")).join(&d.file)
            }
        })
    }
}

/// Read and parse a claims file; an unreadable text is an error naming the file and the claim.
pub fn load(path: &Path) -> Result<Claims> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Input {
        file: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    parse(&text, path)
}

/// For a misspelt key ("unknown field `subgrup`, expected one of `label`, `subgroup`, ..."): the
/// nearest valid keys, as "; did you mean `subgroup`?" (empty when none is close).
fn nearest_key_hint(message: &str) -> String {
    let Some(rest) = message.split("unknown field `").nth(1) else {
        return String::new();
    };
    let Some((key, expected)) = rest.split_once('`') else {
        return String::new();
    };
    // One- and two-letter keys (`k`, `n`, `p`, `Q`, ...) are suggested only for the same letters
    // in another case: any longer misspelling contains them.
    let valid: Vec<&str> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|v| v.len() > 2 || v.eq_ignore_ascii_case(key))
        .collect();
    let close = crate::data::close_labels(key, valid);
    match close.as_slice() {
        [] => String::new(),
        [one] => format!("; did you mean `{one}`?"),
        many => format!(
            "; did you mean one of {}?",
            many.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Parse claims from TOML text (`path` names it in errors).
pub fn parse(text: &str, path: &Path) -> Result<Claims> {
    let file: ClaimsFile = toml::from_str(text).map_err(|e| Error::Input {
        file: path.to_path_buf(),
        message: format!(
            "not a valid claims file: {}{}",
            e.to_string().trim_end(),
            nearest_key_hint(&e.to_string())
        ),
    })?;
    if file.claims.is_empty() {
        return Err(Error::Input {
            file: path.to_path_buf(),
            message: "no [[claim]] entries".into(),
        });
    }
    // Whether the file is about proportions: it states a proportion measure, or it has study
    // data and states no measure (PLO is the default).
    let stated = file.method.as_ref().and_then(|m| m.measure.as_deref());
    let proportions = match stated {
        Some(m) => m.parse::<crate::effect::Measure>().is_ok_and(|m| m.is_proportion()),
        None => file.data.is_some(),
    };
    // The stated level, in percent.
    let method_level = match file.method.as_ref().and_then(|m| m.level) {
        None => None,
        Some(l) if l > 0.0 && l < 1.0 => Some(100.0 * l),
        Some(l) if l > 1.0 && l < 100.0 => Some(l),
        Some(l) => {
            return Err(Error::Input {
                file: path.to_path_buf(),
                message: format!(
                    "[method] level = {l}: expected a confidence level in percent (95) or as a fraction (0.95)"
                ),
            })
        }
    };
    let mut claims = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for spec in &file.claims {
        let err = |what: &str, m: String| Error::Input {
            file: path.to_path_buf(),
            message: format!("claim \"{}\": {what}: {m}", spec.label),
        };
        if !seen.insert(spec.label.clone()) {
            return Err(err("label", "used twice; labels must be unique".into()));
        }
        let bias = super::bias::parse_claim(spec).map_err(|(what, m)| err(what, m))?;
        if spec.subgroup_p.is_some() && (spec.subgroup.is_some() || bias.is_some()) {
            return Err(err(
                "subgroup_p",
                "the test for subgroup differences belongs to an overall pooled claim (one without `subgroup` or `test`)".into(),
            ));
        }
        if spec.q_p.is_some() && bias.is_some() {
            return Err(err(
                "Q_p",
                "a small-study test claim has no heterogeneity test; `p` is the test's p-value".into(),
            ));
        }
        let printed = if bias.is_some() && spec.printed.trim().is_empty() {
            Printed::none()
        } else if spec.printed.trim().is_empty() {
            return Err(err("printed", "missing: the printed result is required".into()));
        } else {
            printed::parse(&spec.printed).map_err(|m| err("printed", m))?
        };
        let pi = match &spec.pi {
            Some(t) => Some(printed::parse_interval(t).map_err(|m| err("pi", m))?),
            None => None,
        };
        let num = |what: &str, v: &Option<AsPrinted>| -> Result<Option<PValue>> {
            v.as_ref()
                .map(|a| a.to_bound(what).map_err(|m| err(what, m)))
                .transpose()
        };
        let pval = |what: &str, v: &Option<AsPrinted>| -> Result<Option<PValue>> {
            v.as_ref()
                .map(|a| {
                    let t = match a {
                        AsPrinted::Text(s) => s.clone(),
                        AsPrinted::Int(i) => i.to_string(),
                        AsPrinted::Float(f) => format!("{f}"),
                    };
                    PValue::parse(&t).map_err(|m| err(what, m))
                })
                .transpose()
        };
        let mut printed = printed;
        if !printed.level_printed {
            if let Some(l) = method_level {
                printed.level = l;
            }
        }
        let unit_note = resolve_unit(&mut printed, spec.unit.as_deref(), proportions).map_err(|m| err("unit", m))?;
        let p = if bias.is_some() {
            None
        } else {
            match (pval("p", &spec.p)?, printed.p.clone()) {
                (Some(a), Some(b)) if a != b => {
                    return Err(err(
                        "p",
                        format!(
                            "the key says p = {} but the printed text says p = {}",
                            a.text(),
                            b.text()
                        ),
                    ))
                }
                (a, b) => a.or(b),
            }
        };
        claims.push(Claim {
            printed,
            pi,
            i2: num("I2", &spec.i2)?,
            tau2: num("tau2", &spec.tau2)?,
            q: num("Q", &spec.q)?,
            p,
            q_p: pval("Q_p", &spec.q_p)?,
            subgroup_p: pval("subgroup_p", &spec.subgroup_p)?,
            unit_note,
            bias,
            spec: spec.clone(),
        });
    }
    Ok(Claims {
        path: path.to_path_buf(),
        file,
        claims,
    })
}

/// Settle the unit of a printed text that does not show it: the claim's `unit` key, else the one
/// reading the numbers allow (a file about proportions reads "33.8 (26.8 to 41.6)" as percent,
/// since a proportion is at most 1). Returns how the unit was read when the text does not show
/// it; leaves [`Unit::Unknown`] when more than one reading is possible.
fn resolve_unit(p: &mut Printed, key: Option<&str>, proportions: bool) -> std::result::Result<Option<String>, String> {
    if let Some(k) = key {
        let u = match k.trim().to_ascii_lowercase().as_str() {
            "%" | "percent" | "percentage" => Unit::Percent,
            "proportion" | "fraction" => Unit::Proportion,
            "ratio" => Unit::Ratio,
            "difference" => Unit::Difference,
            other => {
                return Err(format!(
                    "\"{other}\": expected \"percent\", \"proportion\", \"ratio\" or \"difference\""
                ))
            }
        };
        if p.unit_shown && p.unit != u {
            return Err(format!(
                "the key says {} but the printed text \"{}\" reads as {}",
                u.name(),
                p.text,
                p.unit.name()
            ));
        }
        let note = (!p.unit_shown).then(|| format!("{} (the claim's `unit` key)", u.name()));
        p.unit = u;
        return Ok(note);
    }
    if p.unit_shown || p.text.trim().is_empty() {
        return Ok(None);
    }
    let vals: Vec<f64> = [&p.estimate, &p.ci_lb, &p.ci_ub]
        .iter()
        .filter_map(|v| v.as_ref().map(|x| x.value))
        .collect();
    let in01 = vals.iter().all(|v| (0.0..=1.0).contains(v));
    let in100 = vals.iter().all(|v| (0.0..=100.0).contains(v));
    let (unit, note) = if in01 {
        (
            Unit::Proportion,
            "proportion: no \"%\" is printed and every number lies in [0, 1] (read as a fraction, not as a percentage below 1%)".to_string(),
        )
    } else if in100 && proportions {
        (
            Unit::Percent,
            "percent: no \"%\" is printed, a number exceeds 1 and the file is about proportions, so only a percentage can be meant".to_string(),
        )
    } else if in100 {
        (
            Unit::Unknown,
            "ambiguous: no \"%\" is printed and the numbers could be percentages or values on another scale; state `unit = \"percent\"` (or \"difference\") on the claim".to_string(),
        )
    } else {
        (
            Unit::Difference,
            "an unbounded scale: no \"%\" is printed and a number lies outside [0, 100]".to_string(),
        )
    };
    p.unit = unit;
    Ok(Some(note))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys a table accepts, as the parser lists them for an unknown key.
    fn accepted_keys(text: &str) -> Vec<String> {
        let e = parse(text, Path::new("c.toml")).unwrap_err().to_string();
        let list = e
            .split("expected one of ")
            .nth(1)
            .or_else(|| e.split("expected ").nth(1))
            .unwrap_or_else(|| panic!("no key list in {e}"));
        let list = list.split(';').next().unwrap();
        let keys: Vec<String> = list.split('`').skip(1).step_by(2).map(String::from).collect();
        assert!(keys.len() >= 2, "{e}");
        keys
    }

    /// docs/claims.md documents every key the parser accepts (the list comes from the parser,
    /// so it cannot drift).
    #[test]
    fn docs_list_every_claims_key() {
        let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/claims.md")).unwrap();
        let bad = "zzqq = 1";
        let claim = "[[claim]]\nlabel = \"a\"\nprinted = \"58.4%\"\n";
        let tables = [
            ("top level", format!("{bad}\n[paper]\ncitation = \"x\"\n{claim}")),
            ("[paper]", format!("[paper]\ncitation = \"x\"\n{bad}\n{claim}")),
            (
                "[data]",
                format!("[paper]\ncitation = \"x\"\n[data]\nfile = \"s.csv\"\n{bad}\n{claim}"),
            ),
            (
                "[method]",
                format!("[paper]\ncitation = \"x\"\n[method]\n{bad}\n{claim}"),
            ),
            ("[[claim]]", format!("[paper]\ncitation = \"x\"\n{claim}{bad}\n")),
        ];
        let mut n = 0;
        for (table, text) in tables {
            for key in accepted_keys(&text) {
                n += 1;
                // The top level's keys are the tables `[paper]`, ..., `[[claim]]`.
                let shown = match (table, key.as_str()) {
                    ("top level", "claim") => "## `[[claim]]`".to_string(),
                    ("top level", k) => format!("## `[{k}]`"),
                    (_, k) => format!("`{k}`"),
                };
                assert!(
                    doc.contains(&shown),
                    "docs/claims.md does not document {table} key {shown}"
                );
            }
        }
        assert!(n > 40, "only {n} keys found");
    }

    /// A misspelt key is an error naming the key, its line, and the nearest valid key.
    #[test]
    fn misspelt_keys_name_the_nearest_valid_one() {
        let file = |claim: &str| format!("[paper]\ncitation = \"x\"\n[[claim]]\nprinted = \"58.4%\"\n{claim}\n");
        for (bad, hint) in [
            (
                "subgrup = \"hospital\"",
                "did you mean one of `subgroup`, `subgroup_p`?",
            ),
            ("i2 = \"48%\"", "did you mean `I2`?"),
            ("outcom = \"remission\"", "did you mean `outcome`?"),
        ] {
            let e = parse(&file(bad), Path::new("c.toml")).unwrap_err().to_string();
            let key = bad.split(' ').next().unwrap();
            assert!(
                e.contains(&format!("unknown field `{key}`")) && e.contains(hint),
                "{bad}: {e}"
            );
        }
        // Nothing close: no guess.
        let e = parse(&file("zzzzzz = \"1\""), Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown field `zzzzzz`") && !e.contains("did you mean"),
            "{e}"
        );
    }
}
