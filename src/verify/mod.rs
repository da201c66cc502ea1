//! Verification of published results: read what a paper printed (a claims file), recompute it
//! from study data where there is any, search for the analysis choices that reproduce it, and say
//! what the printed numbers imply on their own.
//!
//! - [`printed`]: parse printed text into numbers with their precision;
//! - [`rounding`]: rounding-aware verdicts (`match`, `off by N`, `mismatch`);
//! - [`claims`]: the claims file (TOML);
//! - [`bias`]: printed small-study tests (Egger, Begg, trim-and-fill, ...), recomputed;
//! - [`search`]: analysis settings, their evaluation, the method search;
//! - [`published`]: checks of the published numbers alone;
//! - [`report`]: terminal, Markdown and JSON renderings;
//! - [`figure`]: the published estimates beside the recomputed ones, as a forest-type figure;
//! - [`comparative`]: two-group claims (RR, OR, MD, SMD, ...) recomputed from two-group data, their
//!   method search, and published-only checks of ratios;
//! - [`presets`]: the switches of metafor, meta, RevMan and Stata `metan` as a table;
//! - [`sources`]: a secondary source's claims checked against the primary claims they cite.
//! - [`revman`]: RevMan 5 reviews (`.rm5`) re-pooled by RevMan 5's rules, every stored number
//!   checked; [`revman_table`]: the same as study and analysis tables (`import`).

pub mod bias;
pub mod claims;
pub mod comparative;
pub mod figure;
pub mod presets;
pub mod printed;
pub mod published;
pub mod report;
pub mod revman;
pub mod revman_report;
pub mod revman_table;
pub mod revman_text;
pub mod rounding;
pub mod search;
pub mod sources;
#[cfg(test)]
mod tests;
pub mod verdict;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::data::{self, LoadOptions};
use crate::error::Result;
use claims::{Claim, Claims, MethodSpec, Paper};
use printed::{PNum, Unit};
use published::{Check, CheckStatus, ScaleImplication};
use search::{Grid, Prepared, SearchResult, Setting, StatedRecompute, Target, Values};
pub use verdict::{ClaimVerdict, NumberVerdict};

/// Options of a verification run.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Run the method search (needs study data).
    pub search: bool,
    /// Show a progress bar for the search.
    pub progress: bool,
    /// Also search with the software's default stopping rules (metafor's threshold 1e-5 for
    /// Fisher scoring, `uniroot`'s tolerance for Paule–Mandel), besides the tight ones.
    pub default_stopping: bool,
}

/// One printed number and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct NumberReport {
    pub name: String,
    pub printed: String,
    pub decimals: u32,
    /// Recomputed value in the printed unit (`null` without data).
    pub recomputed: Option<f64>,
    /// `match`, `off by +N`, `mismatch`, `not computed` (recomputed from data), or `consistent` /
    /// `inconsistent` / `unchecked` (published numbers alone).
    pub verdict: NumberVerdict,
}

/// Everything said about one claim.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimReport {
    pub label: String,
    pub printed: String,
    pub source: Option<String>,
    pub outcome: Option<String>,
    pub subgroup: Option<String>,
    pub unit: Unit,
    /// How the unit was read when the text does not show it (no "%").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_note: Option<String>,
    pub numbers: Vec<NumberReport>,
    /// The claim's verdict: the worst of its recomputed numbers; without data, `consistent` only
    /// when at least one check ran and none flagged (`unchecked` when none ran).
    pub verdict: ClaimVerdict,
    /// What the verdict rests on: the numbers recomputed, the checks that passed or flagged.
    pub checked: String,
    /// Scales on which the printed CI is symmetric within rounding.
    pub scales_consistent: Vec<String>,
    /// Implied SE on each scale.
    pub implied: Vec<ScaleImplication>,
    pub checks: Vec<Check>,
    /// Why the claim could not be recomputed from the data, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_note: Option<String>,
    /// A small-study test claim: the test and its options as recomputed (absent for a pooled
    /// estimate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
}

/// The whole verification of one claims file.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub claims_file: String,
    pub paper: Paper,
    /// The data file the claims were recomputed from, if any.
    pub data: Option<String>,
    pub stated_method: Option<MethodSpec>,
    /// The setting used to recompute (the stated method, metafor's defaults for what it leaves out).
    pub setting: Option<Setting>,
    pub claims: Vec<ClaimReport>,
    /// Always present; `ran` is false without `--search` or without data.
    pub method_search: SearchResult,
    /// Two-group claims with data: the setting recomputed with and the method search over the
    /// two-group switches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparative: Option<comparative::ComparativeReport>,
}

impl VerifyReport {
    /// Number of claims whose verdict is not a match / consistent.
    pub fn problems(&self) -> usize {
        self.claims.iter().filter(|c| c.verdict.is_problem()).count()
            + self
                .claims
                .iter()
                .map(|c| c.checks.iter().filter(|k| k.status == CheckStatus::Flag).count())
                .sum::<usize>()
    }
}

/// Load the claims' data into the row sets the claims need.
pub fn prepare(claims: &Claims) -> Result<Option<Prepared>> {
    let (Some(spec), Some(path)) = (&claims.file.data, claims.data_path()) else {
        return Ok(None);
    };
    let mut base = LoadOptions::default();
    if let Some(e) = &spec.events {
        base.events = e.clone();
    }
    if let Some(t) = &spec.total {
        base.total = t.clone();
    }
    if let Some(s) = &spec.study {
        base.study = s.clone();
    }
    base.by = spec.by.clone();
    base.na_drop = match spec.na.as_deref() {
        None | Some("error") => false,
        Some("drop") => true,
        Some(other) => {
            return Err(crate::error::Error::Input {
                file: claims.path.clone(),
                message: format!("[data] na = \"{other}\": expected \"error\" or \"drop\""),
            })
        }
    };
    base.delimiter = match spec.delimiter.as_deref() {
        Some("\\t") | Some("\t") | Some("tab") => Some(b'\t'),
        Some(d) if d.len() == 1 => Some(d.as_bytes()[0]),
        _ => None,
    };
    for f in spec.filters.as_ref().map(|f| f.to_vec()).unwrap_or_default() {
        base.filters.push(LoadOptions::parse_filter(&f)?);
    }
    // The inputs the stated measure reads: single-group counts (events, total) for proportions;
    // for other measures metafor's column names (ai, bi, ci, di; yi, vi; ...), whose pooled
    // estimates are not recomputed (only small-study test claims are).
    let kind = stated_measure(claims)?.input_kind();
    // Read the file once to fail early on a bad file.
    let table = data::read_table(&path, base.delimiter)?;
    let mut sets: Vec<crate::data::Studies> = Vec::new();
    let mut keys: BTreeMap<Vec<crate::data::RowFilter>, std::result::Result<usize, String>> = BTreeMap::new();
    let mut targets = Vec::new();
    for c in &claims.claims {
        let mut filters = base.filters.clone();
        for f in c.spec.filters.as_ref().map(|f| f.to_vec()).unwrap_or_default() {
            filters.push(LoadOptions::parse_filter(&f)?);
        }
        if let (Some(col), Some(outcome)) = (&spec.outcome_column, &c.spec.outcome) {
            filters.push(crate::data::RowFilter::equals(col, outcome));
        }
        filters.sort();
        let set = keys
            .entry(filters.clone())
            .or_insert_with(|| {
                let opts = LoadOptions {
                    filters: filters.clone(),
                    ..base.clone()
                };
                let selected = if kind == data::InputKind::Proportion {
                    data::select(table.frame.clone(), &path, &opts)
                } else {
                    data::select_inputs(table.clone(), &path, &opts, kind, 0.95)
                };
                match selected {
                    Ok(s) => {
                        sets.push(s);
                        Ok(sets.len() - 1)
                    }
                    Err(e) => Err(e.to_string()),
                }
            })
            .clone();
        let target = set.and_then(|si| {
            let s = &sets[si];
            match &c.spec.subgroup {
                None => Ok(Target {
                    set: si,
                    idx: (0..s.k()).collect(),
                    subgroup: false,
                    level: c.printed.level / 100.0,
                }),
                Some(g) => {
                    let groups = s
                        .group
                        .as_ref()
                        .ok_or_else(|| format!("claim names subgroup \"{g}\" but [data] has no `by` column"))?;
                    let want = group_key(g);
                    let idx: Vec<usize> = (0..s.k()).filter(|&i| group_key(&groups[i]) == want).collect();
                    if idx.is_empty() {
                        let mut lv: Vec<&String> = groups.iter().collect();
                        lv.sort();
                        lv.dedup();
                        Err(format!(
                            "no studies in subgroup \"{g}\" (the data have: {})",
                            lv.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                        ))
                    } else {
                        Ok(Target {
                            set: si,
                            idx,
                            subgroup: true,
                            level: c.printed.level / 100.0,
                        })
                    }
                }
            }
        });
        targets.push(target);
    }
    Ok(Some(Prepared {
        sets,
        targets,
        subgroup_test: claims.claims.iter().any(|c| c.subgroup_p.is_some()),
    }))
}

/// The measure the claims file states (metafor's PLO when it states none).
fn stated_measure(claims: &Claims) -> Result<crate::effect::Measure> {
    let m = claims.file.method.as_ref().and_then(|m| m.measure.as_deref());
    m.unwrap_or("PLO").parse()
}

/// Subgroup names compare without case, and with `_`, `-` and runs of spaces alike
/// ("triple therapy" = "triple_therapy", "cDMARDs" = "cdmards").
fn group_key(s: &str) -> String {
    s.to_lowercase()
        .replace(['_', '-'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Verify a claims file.
pub fn verify(claims: &Claims, options: &VerifyOptions) -> Result<VerifyReport> {
    if comparative::applies(claims) {
        return comparative::verify(claims, options);
    }
    let prepared = prepare(claims)?;
    let setting = match (&prepared, &claims.file.method) {
        (Some(_), Some(m)) => Some(Setting::from_spec(m)?),
        (Some(_), None) => Some(Setting::from_spec(&MethodSpec::default())?),
        _ => None,
    };
    // Pooled estimates are recomputed from single-group counts only.
    let counts = setting.is_none_or(|s| s.measure.is_proportion());
    let recomputed: Vec<Option<Values>> = match (&prepared, &setting) {
        (Some(p), Some(s)) if counts => search::evaluate(p, s),
        _ => vec![None; claims.claims.len()],
    };
    let cross = cross_checks(&claims.claims);
    let sources = sources::checks(&claims.claims);
    let mut reports = Vec::new();
    for (i, c) in claims.claims.iter().enumerate() {
        if let Some(b) = &c.bias {
            reports.push(bias_report(c, b, i, prepared.as_ref(), setting.as_ref()));
            continue;
        }
        let data_note = match &prepared {
            Some(p) => match &p.targets[i] {
                Err(e) => Some(e.clone()),
                Ok(_) if !counts => Some(format!(
                    "pooled estimates are recomputed from single-group counts (proportions); the stated measure {} is not one (small-study test claims are recomputed)",
                    setting.map(|s| s.measure.as_str()).unwrap_or("?")
                )),
                Ok(_) if recomputed[i].is_none() => {
                    Some("the stated setting could not be fitted to these studies".into())
                }
                Ok(_) => None,
            },
            None => None,
        };
        let mut checks = published::claim_checks(c);
        checks.extend(comparative::published_checks(c));
        checks.extend(cross[i].iter().cloned());
        checks.extend(sources[i].iter().cloned());
        let implied = published::scales(&c.printed, c.k(), c.n());
        let scales_consistent: Vec<String> = implied
            .iter()
            .filter(|s| s.symmetric)
            .map(|s| s.scale.name().to_string())
            .collect();
        let with_data = prepared.is_some() && matches!(c.printed.unit, Unit::Percent | Unit::Proportion);
        let mut numbers = Vec::new();
        for cn in search::claim_numbers(c) {
            let (rec, verdict) = match (&recomputed[i], with_data) {
                (Some(v), true) => {
                    let (x, verdict) = search::judge(v, &cn, c.printed.unit);
                    (Some(x).filter(|x| x.is_finite()), NumberVerdict::from(verdict))
                }
                (None, true) => (None, NumberVerdict::NotComputed),
                _ => (None, NumberVerdict::from_checks(&checks, cn.name)),
            };
            numbers.push(NumberReport {
                name: cn.name.into(),
                printed: cn.text(),
                decimals: cn.decimals(),
                recomputed: rec,
                verdict,
            });
        }
        let verdicts: Vec<NumberVerdict> = numbers.iter().map(|n| n.verdict).collect();
        let verdict = ClaimVerdict::of(&verdicts, &checks);
        let mut checked = verdict::basis(
            &numbers.iter().map(|n| (n.name.clone(), n.verdict)).collect::<Vec<_>>(),
            &checks,
        );
        if c.printed.unit == Unit::Unknown {
            checked.push_str("; the unit is ambiguous, so nothing that depends on it is judged");
        }
        reports.push(ClaimReport {
            label: c.spec.label.clone(),
            printed: c.spec.printed.clone(),
            source: c.spec.source.clone(),
            outcome: c.spec.outcome.clone(),
            subgroup: c.spec.subgroup.clone(),
            unit: c.printed.unit,
            unit_note: c.unit_note.clone(),
            numbers,
            verdict,
            checked,
            scales_consistent,
            implied,
            checks,
            data_note,
            test: None,
        });
    }
    let searchable = prepared.as_ref().is_some_and(|p| {
        claims
            .claims
            .iter()
            .zip(&p.targets)
            .any(|(c, t)| c.bias.is_none() && t.is_ok())
    }) || claims.claims.iter().all(|c| c.bias.is_none());
    let method_search = match (&prepared, options.search) {
        (Some(_), true) if !counts => Some(SearchResult {
            skipped: Some("the method search recomputes pooled proportions from single-group counts; the stated measure is not a proportion".into()),
            ..Default::default()
        }),
        (Some(_), true) if !searchable => Some(SearchResult {
            skipped: Some("no pooled-estimate claim to search with (small-study test claims are recomputed with the stated method only)".into()),
            ..Default::default()
        }),
        (Some(p), true) => {
            let grid = Grid::for_claims(claims, options.default_stopping)?;
            let pb = if options.progress {
                let pb = indicatif::ProgressBar::new(0);
                pb.set_style(
                    indicatif::ProgressStyle::with_template("method search {bar:40} {pos}/{len} fits-groups {elapsed}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                Some(pb)
            } else {
                None
            };
            let mut r = search::search(claims, p, &grid, pb.as_ref())?;
            if let Some(pb) = pb {
                pb.finish_and_clear();
            }
            if let (Some(spec), Some(s)) = (&claims.file.method, &setting) {
                r.stated = Some(stated_recompute(claims, p, spec, s, &reports));
            }
            Some(r)
        }
        _ => None,
    };
    Ok(VerifyReport {
        claims_file: claims.path.display().to_string(),
        paper: claims.file.paper.clone(),
        data: claims.data_path().map(|p| p.display().to_string()),
        stated_method: claims.file.method.clone(),
        setting,
        claims: reports,
        method_search: method_search.unwrap_or_default(),
        comparative: None,
    })
}

/// The report of a small-study test claim: recomputed with the stated setting on the claim's
/// studies, each printed number judged at its printed precision.
fn bias_report(
    c: &Claim,
    b: &bias::BiasClaim,
    i: usize,
    prepared: Option<&Prepared>,
    setting: Option<&Setting>,
) -> ClaimReport {
    let drop = setting.is_some_and(|s| s.correction == search::CcChoice::Drop);
    let (rec, data_note) = match (prepared, setting) {
        (Some(p), Some(s)) => match &p.targets[i] {
            Err(e) => (None, Some(e.clone())),
            Ok(t) => {
                let options = crate::model::PoolOptions {
                    measure: s.measure,
                    correction: s.correction.correction(),
                    method: s.method,
                    test: s.test,
                    level: c.printed.level / 100.0,
                    pft_mean: s.pft_mean,
                    ..Default::default()
                };
                match bias::recompute(&p.sets[t.set], &t.idx, &options, drop, b) {
                    Ok(r) => (Some(r), None),
                    Err(e) => (None, Some(format!("{} could not be computed: {e}", b.test.name()))),
                }
            }
        },
        _ => (
            None,
            Some("no study data: a small-study test can only be checked by recomputing it from the studies".into()),
        ),
    };
    let (mut numbers, bias_checks) = bias::numbers(c, b, rec.as_ref());
    if let Some(k) = c.k() {
        let x = rec.as_ref().map(|r| r.k as f64);
        numbers.push(NumberReport {
            name: "k".into(),
            printed: k.to_string(),
            decimals: 0,
            recomputed: x,
            // A count is exact: off by one is a mismatch.
            verdict: match x {
                Some(x) if x == k as f64 => NumberVerdict::Match,
                Some(_) => NumberVerdict::Mismatch,
                None => NumberVerdict::NotComputed,
            },
        });
    }
    let has_printed = !c.spec.printed.trim().is_empty();
    let mut checks = if has_printed {
        published::claim_checks(c)
    } else {
        Vec::new()
    };
    checks.extend(bias_checks);
    let implied = if has_printed {
        published::scales(&c.printed, c.k(), c.n())
    } else {
        Vec::new()
    };
    let scales_consistent = implied
        .iter()
        .filter(|s| s.symmetric)
        .map(|s| s.scale.name().to_string())
        .collect();
    let verdicts: Vec<NumberVerdict> = numbers.iter().map(|n| n.verdict).collect();
    let verdict = match ClaimVerdict::of(&verdicts, &[]) {
        _ if rec.is_none() => ClaimVerdict::NotComputed,
        ClaimVerdict::Unchecked => ClaimVerdict::NotComputed,
        v => v,
    };
    let checked = verdict::basis(
        &numbers.iter().map(|n| (n.name.clone(), n.verdict)).collect::<Vec<_>>(),
        &checks,
    );
    let mut test = b.describe();
    if let Some(d) = rec.as_ref().and_then(|r| r.detail.as_ref()) {
        test.push_str(&format!("; {d}"));
    }
    ClaimReport {
        label: c.spec.label.clone(),
        printed: if has_printed {
            c.spec.printed.clone()
        } else {
            b.summary()
        },
        source: c.spec.source.clone(),
        outcome: c.spec.outcome.clone(),
        subgroup: c.spec.subgroup.clone(),
        unit: c.printed.unit,
        unit_note: c.unit_note.clone(),
        numbers,
        verdict,
        checked,
        scales_consistent,
        implied,
        checks,
        data_note,
        test: Some(test),
    }
}

/// The stated method as recomputed (the reports' numbers), against the claims the search used:
/// how many printed numbers it reproduces, and which it does not.
fn stated_recompute(
    claims: &Claims,
    p: &Prepared,
    spec: &MethodSpec,
    setting: &Setting,
    reports: &[ClaimReport],
) -> StatedRecompute {
    let used = search::used_claims(claims, p);
    let mut numbers = 0;
    let mut reproduced = 0;
    let mut misses = Vec::new();
    for &i in &used {
        for n in &reports[i].numbers {
            numbers += 1;
            if n.verdict == NumberVerdict::Match {
                reproduced += 1;
            } else {
                misses.push(format!(
                    "\"{}\" {}: printed {}, recomputed {} ({})",
                    reports[i].label,
                    n.name,
                    n.printed,
                    n.recomputed
                        .map(|x| crate::report::fmt_num(x, n.decimals as usize + 2))
                        .unwrap_or_else(|| "—".into()),
                    n.verdict
                ));
            }
        }
    }
    StatedRecompute {
        setting: setting.describe(),
        filled_in: Setting::unstated(spec).into_iter().map(String::from).collect(),
        numbers,
        reproduced,
        misses,
    }
}

/// Months of a survival outcome name (`survival_6m`, `survival_1y`), if it is one.
fn survival_months(outcome: &str) -> Option<f64> {
    let o = outcome.to_ascii_lowercase();
    let rest = o.strip_prefix("survival_")?;
    if let Some(m) = rest.strip_suffix('m') {
        return m.parse().ok();
    }
    if let Some(y) = rest.strip_suffix('y') {
        return y.parse::<f64>().ok().map(|y| 12.0 * y);
    }
    None
}

fn norm(s: &Option<String>) -> String {
    s.as_deref().unwrap_or("").trim().to_ascii_lowercase()
}

/// Whether two printed numbers can stand for the same value, each in its own unit (a percent is
/// compared as a proportion).
fn overlap(a: &PNum, ua: Unit, b: &PNum, ub: Unit) -> bool {
    let scaled = |p: &PNum, u: Unit| {
        let (l, h) = p.interval();
        if u == Unit::Percent {
            (l / 100.0, h / 100.0)
        } else {
            (l, h)
        }
    };
    let (al, ah) = scaled(a, ua);
    let (bl, bh) = scaled(b, ub);
    al <= bh && bl <= ah
}

/// Checks across claims: the same quantity printed twice, survival over time, subgroup k and n
/// adding up to the total.
pub fn cross_checks(claims: &[Claim]) -> Vec<Vec<Check>> {
    let mut out = vec![Vec::new(); claims.len()];
    // Same quantity printed in two places.
    for i in 0..claims.len() {
        for j in (i + 1)..claims.len() {
            let (a, b) = (&claims[i], &claims[j]);
            if a.bias.is_some()
                || b.bias.is_some()
                || a.printed.unit == Unit::Unknown
                || b.printed.unit == Unit::Unknown
                || a.spec.outcome.is_none()
                || norm(&a.spec.outcome) != norm(&b.spec.outcome)
                || norm(&a.spec.subgroup) != norm(&b.spec.subgroup)
            {
                continue;
            }
            let pairs = [
                (&a.printed.estimate, &b.printed.estimate),
                (&a.printed.ci_lb, &b.printed.ci_lb),
                (&a.printed.ci_ub, &b.printed.ci_ub),
            ];
            let mut compared = 0;
            let mut bad = Vec::new();
            for (x, y) in pairs {
                if let (Some(x), Some(y)) = (x, y) {
                    compared += 1;
                    if !overlap(x, a.printed.unit, y, b.printed.unit) {
                        bad.push(format!("{} vs {}", x.text, y.text));
                    }
                }
            }
            if compared == 0 {
                continue;
            }
            let name = "same quantity printed twice";
            let ch = if bad.is_empty() {
                Check::pass(
                    name,
                    format!("\"{}\" and \"{}\" agree within rounding", a.spec.label, b.spec.label),
                )
            } else {
                Check::flag(
                    name,
                    format!(
                        "\"{}\" and \"{}\" disagree: {}",
                        a.spec.label,
                        b.spec.label,
                        bad.join(", ")
                    ),
                )
            };
            let ch = ch.on(&["estimate", "ci_lb", "ci_ub"]);
            out[i].push(ch.clone());
            out[j].push(ch);
        }
    }
    // Survival at a later time not above an earlier one for the same group.
    for i in 0..claims.len() {
        for j in 0..claims.len() {
            let (a, b) = (&claims[i], &claims[j]);
            if a.bias.is_some() || b.bias.is_some() {
                continue;
            }
            let (Some(ta), Some(tb)) = (
                a.spec.outcome.as_deref().and_then(survival_months),
                b.spec.outcome.as_deref().and_then(survival_months),
            ) else {
                continue;
            };
            if ta >= tb || norm(&a.spec.subgroup) != norm(&b.spec.subgroup) {
                continue;
            }
            let (Some(ea), Some(eb)) = (&a.printed.estimate, &b.printed.estimate) else {
                continue;
            };
            let name = "survival not increasing over time";
            let ch = if eb.interval().0 > ea.interval().1 {
                Check::flag(name, format!("{} at {} months is above {} at {} months for the same group (possible with different studies per time point, but worth a look)", eb.text, tb, ea.text, ta))
            } else {
                Check::pass(
                    name,
                    format!("{} at {} months ≤ {} at {} months", eb.text, tb, ea.text, ta),
                )
            }
            .on(&["estimate"]);
            out[i].push(ch.clone());
            out[j].push(ch);
        }
    }
    // Subgroup k and n adding up to the overall claim of the same outcome.
    for i in 0..claims.len() {
        let total = &claims[i];
        if total.bias.is_some() || total.spec.subgroup.is_some() || total.spec.outcome.is_none() {
            continue;
        }
        let subs: Vec<&Claim> = claims
            .iter()
            .filter(|c| {
                c.bias.is_none()
                    && c.spec.subgroup.is_some()
                    && norm(&c.spec.outcome) == norm(&total.spec.outcome)
                    && norm(&c.spec.source) == norm(&total.spec.source)
            })
            .collect();
        if subs.len() < 2 {
            continue;
        }
        for (what, tot, parts) in [
            ("k", total.k(), subs.iter().map(|c| c.k()).collect::<Option<Vec<u64>>>()),
            ("n", total.n(), subs.iter().map(|c| c.n()).collect::<Option<Vec<u64>>>()),
        ] {
            if let (Some(t), Some(p)) = (tot, parts) {
                let s: u64 = p.iter().sum();
                let name = format!("subgroup {what} add up to the total");
                out[i].push(if s == t {
                    Check::pass(&name, format!("{} subgroups sum to {what} = {s}, as printed", subs.len()))
                } else {
                    Check::flag(&name, format!("{} subgroups sum to {what} = {s}, the total says {t} (studies in several subgroups, or subgroups not printed)", subs.len()))
                }.on(&[what]));
            }
        }
    }
    out
}
