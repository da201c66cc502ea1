//! Reading a published number as printed: `"58.4% (95% CI, 47.3% to 69.4%)"`, `"0.41 (0.35-0.48)"`,
//! `"7 of 17 patients (41%)"`, `"RR: 0.86, 95% CI: 0.78–0.94"`, `"89.2% (95%CI 82.5-93.6; 7 studies,
//! n = 124)"`.
//!
//! Each number keeps its text and its number of decimals (trailing zeros count: `68.0` has one), because
//! a printed value stands for every value that rounds to it.

use serde::Serialize;

use super::rounding::{compare, Verdict};

/// One printed number.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PNum {
    pub value: f64,
    pub decimals: u32,
    pub text: String,
}

impl PNum {
    /// The interval of values that round to this number (half-up or half-even): value ± ½·10^−d.
    pub fn interval(&self) -> (f64, f64) {
        let h = 0.5 * 10f64.powi(-(self.decimals as i32));
        (self.value - h, self.value + h)
    }
}

/// How a printed p-value relates to the value: `p = 0.03` (rounded), `p < 0.001` (a bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Relation {
    pub fn symbol(self) -> &'static str {
        match self {
            Relation::Eq => "",
            Relation::Lt => "<",
            Relation::Le => "≤",
            Relation::Gt => ">",
            Relation::Ge => "≥",
        }
    }
}

/// A printed p-value: a rounded value or a bound.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PValue {
    pub relation: Relation,
    pub num: PNum,
}

impl PValue {
    /// Read "0.03", "p = .03", "P<0.001", "< 0.001", "≤0.05", "p > 0.05".
    pub fn parse(text: &str) -> std::result::Result<PValue, String> {
        let v = PValue::parse_bound(text, "p-value")?;
        if !(0.0..=1.0).contains(&v.num.value) {
            return Err(format!("p-value \"{text}\" is not between 0 and 1"));
        }
        Ok(v)
    }

    /// A printed number that may be a bound ("<0.001", "≥ 25%", "0.04"): `what` names it in
    /// errors. A leading "p" is skipped; decimal commas are read ("0,03").
    pub fn parse_bound(text: &str, what: &str) -> std::result::Result<PValue, String> {
        let t = text.trim().replace('\u{00b7}', ".");
        let mut rest = t.as_str();
        if let Some(r) = rest.strip_prefix(['p', 'P']) {
            rest = r.trim_start();
        }
        let ops: [(&str, Relation); 7] = [
            ("<=", Relation::Le),
            (">=", Relation::Ge),
            ("≤", Relation::Le),
            ("≥", Relation::Ge),
            ("<", Relation::Lt),
            (">", Relation::Gt),
            ("=", Relation::Eq),
        ];
        let mut relation = Relation::Eq;
        for (op, r) in ops {
            if let Some(x) = rest.strip_prefix(op) {
                relation = r;
                rest = x.trim_start();
                break;
            }
        }
        let num = rest.trim().trim_end_matches('%').trim_end();
        let num = if !num.contains('.') && num.matches(',').count() == 1 {
            num.replace(',', ".")
        } else {
            num.to_string()
        };
        let num = num.as_str();
        let bad = || {
            format!("cannot read a {what} in \"{text}\": expected a number such as \"0.03\", \"p = .03\" or a bound such as \"<0.001\"")
        };
        if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-') {
            return Err(bad());
        }
        let value: f64 = num.parse().map_err(|_| bad())?;
        let decimals = num.split_once('.').map(|(_, d)| d.len() as u32).unwrap_or(0);
        Ok(PValue {
            relation,
            num: PNum {
                value,
                decimals,
                text: num.to_string(),
            },
        })
    }

    /// Whether the printed number is a bound ("<0.001"), not a rounded value.
    pub fn is_bound(&self) -> bool {
        self.relation != Relation::Eq
    }

    /// The values the printed number allows: its rounding interval, or the half-line of a bound.
    pub fn interval(&self) -> (f64, f64) {
        let v = self.num.value;
        match self.relation {
            Relation::Eq => self.num.interval(),
            Relation::Lt | Relation::Le => (f64::NEG_INFINITY, v),
            Relation::Gt | Relation::Ge => (v, f64::INFINITY),
        }
    }

    /// As printed, without the "p": "0.03", "<0.001".
    pub fn text(&self) -> String {
        format!("{}{}", self.relation.symbol(), self.num.text)
    }

    /// A rounded value is judged at its precision; a bound holds or does not (a recomputed
    /// 0.0004 satisfies "<0.001", 0.002 does not).
    pub fn judge(&self, x: f64) -> Verdict {
        if !x.is_finite() {
            return Verdict::NotComputed;
        }
        let v = self.num.value;
        let ok = match self.relation {
            Relation::Eq => return compare(x, &self.num),
            Relation::Lt => x < v,
            Relation::Le => x <= v,
            Relation::Gt => x > v,
            Relation::Ge => x >= v,
        };
        if ok {
            Verdict::Match
        } else {
            Verdict::Mismatch
        }
    }
}

/// The scale the printed numbers are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Percentages (a `%` after the estimate or a bound).
    Percent,
    /// Proportions between 0 and 1.
    Proportion,
    /// A ratio measure (RR, OR, HR): symmetric on the log scale.
    Ratio,
    /// A difference measure (MD, SMD) or anything else on an unbounded scale.
    Difference,
    /// Not shown and not inferable: "33.8 (26.8 to 41.6)" may be a percentage or a mean. Nothing
    /// that depends on the unit is judged.
    Unknown,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::Percent => "percent",
            Unit::Proportion => "proportion",
            Unit::Ratio => "ratio",
            Unit::Difference => "difference",
            Unit::Unknown => "unknown",
        }
    }
}

/// Everything read from one printed text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Printed {
    pub text: String,
    pub estimate: Option<PNum>,
    pub ci_lb: Option<PNum>,
    pub ci_ub: Option<PNum>,
    pub unit: Unit,
    /// Whether the text shows the unit (a "%", a measure label such as "RR", or "x of n").
    pub unit_shown: bool,
    /// Confidence level in percent (95 unless printed otherwise).
    pub level: f64,
    /// Whether the level was printed ("90% CI"); otherwise `level` is the default 95.
    pub level_printed: bool,
    /// "7 of 17": events and total.
    pub x_of_n: Option<(u64, u64)>,
    /// Number of studies ("7 studies", "k = 7").
    pub k: Option<u64>,
    /// Number of patients ("n = 124").
    pub n: Option<u64>,
    /// I² as printed (percent).
    pub i2: Option<PNum>,
    /// The measure's label when printed ("RR", "SMD").
    pub label: Option<String>,
    /// The estimate's p-value when printed in the text ("p = 0.03", "p < 0.001").
    pub p: Option<PValue>,
}

impl Printed {
    /// No printed result (a claim that prints only a test's p-value or count).
    pub fn none() -> Printed {
        Printed {
            text: String::new(),
            estimate: None,
            ci_lb: None,
            ci_ub: None,
            unit: Unit::Difference,
            unit_shown: false,
            level: 95.0,
            level_printed: false,
            x_of_n: None,
            k: None,
            n: None,
            i2: None,
            label: None,
            p: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num {
        value: f64,
        decimals: u32,
        text: String,
        percent: bool,
    },
    Word(String),
    Sym(char),
}

/// Commas between digits: decimal commas ("33,8% (IC 95% 26,8–41,6)") become points; thousands
/// separators ("10,130 patients") are dropped. A text that uses decimal points reads its commas
/// as thousands separators (three digits after them) or separators; a text without decimal
/// points reads them as decimal commas, unless every one is followed by exactly three digits
/// after a non-zero integer part ("1,234": a thousands separator).
fn decimal_commas(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let digit = |i: usize| c.get(i).is_some_and(|d| d.is_ascii_digit());
    // Comma positions between digits, with the length of the digit run after them and whether
    // the integer part before them is "0".
    let mut commas = Vec::new();
    for i in 1..c.len() {
        if c[i] == ',' && digit(i - 1) && digit(i + 1) {
            let mut j = i + 1;
            while digit(j) {
                j += 1;
            }
            let mut b = i;
            while b > 0 && digit(b - 1) {
                b -= 1;
            }
            let int: String = c[b..i].iter().collect();
            let followed_by_point = c.get(j) == Some(&'.') && digit(j + 1);
            commas.push((i, j - i - 1, int == "0", followed_by_point));
        }
    }
    if commas.is_empty() {
        return s.to_string();
    }
    let points = (1..c.len()).any(|i| c[i] == '.' && digit(i - 1) && digit(i + 1));
    let thousands = |&(_, len, zero, fp): &(usize, usize, bool, bool)| len == 3 && !zero && !fp;
    let all_thousands = commas.iter().all(thousands);
    let mut out = c.clone();
    let mut drop = Vec::new();
    for cm in &commas {
        let (i, ..) = *cm;
        if points || all_thousands {
            if thousands(cm) {
                drop.push(i);
            }
        } else {
            out[i] = '.';
        }
    }
    out.iter()
        .enumerate()
        .filter(|(i, _)| !drop.contains(i))
        .map(|(_, ch)| *ch)
        .collect()
}

fn normalise(s: &str) -> String {
    let s = decimal_commas(s);
    let mut t = s
        .replace("<sup>2</sup>", "2")
        .replace("<sup>", "")
        .replace("</sup>", "");
    for (from, to) in [
        ('\u{2212}', '-'), // minus sign
        ('\u{2012}', '–'),
        ('\u{2014}', '–'),
        ('\u{00a0}', ' '),
        ('\u{202f}', ' '),
        ('\u{2009}', ' '),
        ('\u{00b2}', '2'), // I²
        ('\u{00b7}', '.'), // middle dot used as decimal point
    ] {
        t = t.replace(from, &to.to_string());
    }
    t
}

fn tokenize(s: &str) -> Vec<Tok> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts_number = c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
            || (c == '-'
                && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit() || *d == '.')
                // A minus is a sign only at the start or after a space/bracket/colon/comma, not
                // between two numbers ("44-68").
                && (i == 0 || matches!(chars[i - 1], ' ' | '(' | '[' | ':' | ',' | ';' | '=')));
        if starts_number {
            let start = i;
            if c == '-' {
                i += 1;
            }
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let mut decimals = 0;
            if i < chars.len() && chars[i] == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                    decimals += 1;
                }
            }
            let text: String = chars[start..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j] == ' ' {
                j += 1;
            }
            let percent = j < chars.len() && chars[j] == '%';
            if let Ok(value) = text.parse::<f64>() {
                out.push(Tok::Num {
                    value,
                    decimals,
                    text,
                    percent,
                });
            }
            if percent {
                i = j + 1;
            }
        } else if c.is_alphabetic() {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric()) {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect::<String>()));
        } else {
            if !c.is_whitespace() {
                out.push(Tok::Sym(c));
            }
            i += 1;
        }
    }
    out
}

fn is_word(t: Option<&Tok>, words: &[&str]) -> bool {
    matches!(t, Some(Tok::Word(w)) if words.iter().any(|x| w.eq_ignore_ascii_case(x)))
}

/// Parse a printed result. Returns an error message when no number can be read.
pub fn parse(text: &str) -> Result<Printed, String> {
    let norm = normalise(text);
    let toks = tokenize(&norm);
    let mut used = vec![false; toks.len()];
    let mut level = 95.0;
    let mut level_printed = false;
    let mut p = None;
    let mut k = None;
    let mut n = None;
    let mut i2 = None;
    let mut x_of_n = None;
    let mut label = None;
    // Measure label at the start: "RR: 1.2", "SMD 0.3", "OR".
    for t in toks.iter().take(6) {
        if let Tok::Word(w) = t {
            let up = w.to_ascii_uppercase();
            if ["RR", "OR", "HR", "IRR", "SMD", "MD", "WMD", "RD"].contains(&up.as_str()) {
                label = Some(up);
                break;
            }
        }
    }
    for i in 0..toks.len() {
        if used[i] {
            continue;
        }
        if let Tok::Num {
            value,
            decimals,
            text,
            percent,
        } = &toks[i]
        {
            let next = toks.get(i + 1);
            let next2 = toks.get(i + 2);
            // Confidence level: "95% CI", "95%CI", "95 % confidence interval".
            if *percent && (is_word(next, &["CI", "IC", "confidence", "CrI", "credible"])) {
                level = *value;
                level_printed = true;
                used[i] = true;
                continue;
            }
            // "CI 95% 26.8-41.6", "IC 95% 26,8–41,6": the level after the keyword, when two
            // bounds follow it.
            if *percent
                && *decimals == 0
                && (50.0..100.0).contains(value)
                && i > 0
                && is_word(toks.get(i - 1), &["CI", "IC"])
                && toks[i + 1..].iter().filter(|t| matches!(t, Tok::Num { .. })).count() >= 2
            {
                level = *value;
                level_printed = true;
                used[i] = true;
                continue;
            }
            // "8 studies", "2 trials"
            if *decimals == 0
                && is_word(
                    next,
                    &["studies", "study", "trials", "trial", "cohorts", "papers", "articles"],
                )
            {
                k = Some(*value as u64);
                used[i] = true;
                continue;
            }
            // "7 of 17"
            if *decimals == 0 && is_word(next, &["of", "out"]) {
                let m = if is_word(next2, &["of"]) {
                    toks.get(i + 3)
                } else {
                    next2
                };
                let idx = if is_word(next2, &["of"]) { i + 3 } else { i + 2 };
                if let Some(Tok::Num {
                    value: tot,
                    decimals: 0,
                    ..
                }) = m
                {
                    x_of_n = Some((*value as u64, *tot as u64));
                    used[i] = true;
                    used[idx] = true;
                    continue;
                }
            }
            let _ = text;
        }
        // "n = 124", "k = 7", "I2 = 52%", "I2 52 %"
        if let Tok::Word(w) = &toks[i] {
            let lw = w.to_ascii_lowercase();
            // "p = 0.03", "p < 0.001", "P ≤ .05": the estimate's p-value, a bound when printed so.
            if lw == "p" {
                let mut j = i + 1;
                let mut rel = String::new();
                while let Some(Tok::Sym(c)) = toks.get(j) {
                    if !matches!(c, '=' | '<' | '>' | '≤' | '≥') {
                        break;
                    }
                    rel.push(*c);
                    j += 1;
                }
                if let Some(Tok::Num { text, .. }) = toks.get(j) {
                    if !rel.is_empty() && !used[j] {
                        if let Ok(v) = PValue::parse(&format!("{rel}{text}")) {
                            p = Some(v);
                            used[j] = true;
                            continue;
                        }
                    }
                }
            }
            let mut j = i + 1;
            if matches!(toks.get(j), Some(Tok::Sym('=')) | Some(Tok::Sym(':'))) {
                j += 1;
            }
            if let Some(Tok::Num {
                value, decimals, text, ..
            }) = toks.get(j)
            {
                if !used[j] {
                    match lw.as_str() {
                        "n" | "patients" if *decimals == 0 => {
                            n = Some(*value as u64);
                            used[j] = true;
                        }
                        "k" if *decimals == 0 => {
                            k = Some(*value as u64);
                            used[j] = true;
                        }
                        "i2" => {
                            i2 = Some(PNum {
                                value: *value,
                                decimals: *decimals,
                                text: text.clone(),
                            });
                            used[j] = true;
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    // The remaining numbers, in order: estimate, lower, upper.
    let rest: Vec<(usize, &Tok)> = toks
        .iter()
        .enumerate()
        .filter(|(i, t)| !used[*i] && matches!(t, Tok::Num { .. }))
        .collect();
    let pnum = |t: &Tok| match t {
        Tok::Num {
            value, decimals, text, ..
        } => PNum {
            value: *value,
            decimals: *decimals,
            text: text.clone(),
        },
        _ => unreachable!(),
    };
    let any_percent = rest.iter().any(|(_, t)| matches!(t, Tok::Num { percent: true, .. }))
        // "58.4 (47.3-69.4)%": a percent sign after a bracket applies to the numbers before it.
        || toks.iter().any(|t| matches!(t, Tok::Sym('%')));
    let ci_first = {
        // "(95% CI, 49.8% to 73.9%)": the CI keyword comes before the first remaining number.
        let first = rest.first().map(|(i, _)| *i).unwrap_or(0);
        toks[..first]
            .iter()
            .any(|t| matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case("CI") || w.eq_ignore_ascii_case("confidence")))
    };
    let (estimate, ci_lb, ci_ub) = match rest.len() {
        0 => {
            if x_of_n.is_some() {
                (None, None, None)
            } else {
                return Err(format!("no number found in \"{text}\""));
            }
        }
        1 => (Some(pnum(rest[0].1)), None, None),
        2 if ci_first => (None, Some(pnum(rest[0].1)), Some(pnum(rest[1].1))),
        2 => (Some(pnum(rest[0].1)), None, None),
        _ => (Some(pnum(rest[0].1)), Some(pnum(rest[1].1)), Some(pnum(rest[2].1))),
    };
    if rest.len() > 3 {
        return Err(format!(
            "more numbers than an estimate and two bounds in \"{text}\" ({}); split the claim or move k, n or I2 to their own keys",
            rest.iter()
                .map(|(_, t)| match t {
                    Tok::Num { text, .. } => text.clone(),
                    _ => String::new(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if rest.len() == 2 && !ci_first {
        return Err(format!(
            "two numbers in \"{text}\" but no \"CI\" before them: cannot tell an estimate with one bound from a CI"
        ));
    }
    let unit = match label.as_deref() {
        Some("RR" | "OR" | "HR" | "IRR") => Unit::Ratio,
        Some(_) => Unit::Difference,
        None if any_percent || x_of_n.is_some() => Unit::Percent,
        None => {
            let vals: Vec<f64> = [&estimate, &ci_lb, &ci_ub]
                .iter()
                .filter_map(|v| v.as_ref().map(|p| p.value))
                .collect();
            if vals.iter().all(|v| (0.0..=1.0).contains(v)) {
                Unit::Proportion
            } else {
                Unit::Difference
            }
        }
    };
    Ok(Printed {
        text: text.to_string(),
        estimate,
        ci_lb,
        ci_ub,
        unit,
        unit_shown: label.is_some() || any_percent || x_of_n.is_some(),
        level,
        level_printed,
        x_of_n,
        k,
        n,
        i2,
        label,
        p,
    })
}

/// Read a printed interval ("(30.1% to 85.2%)", "0.30-0.85") as two bounds.
pub fn parse_interval(text: &str) -> Result<Printed, String> {
    let norm = normalise(text);
    let toks = tokenize(&norm);
    let nums: Vec<PNum> = toks
        .iter()
        .enumerate()
        .filter(|(i, t)| {
            // Skip a confidence level ("95% PI").
            !matches!(t, Tok::Num { percent: true, .. } if is_word(toks.get(i + 1), &["PI", "CI", "prediction", "confidence"]))
        })
        .filter_map(|(_, t)| match t {
            Tok::Num { value, decimals, text, .. } => Some(PNum { value: *value, decimals: *decimals, text: text.clone() }),
            _ => None,
        })
        .collect();
    if nums.len() != 2 {
        return Err(format!(
            "expected two bounds in \"{text}\", found {} numbers",
            nums.len()
        ));
    }
    let percent = toks.iter().any(|t| matches!(t, Tok::Num { percent: true, .. }));
    let unit = if percent {
        Unit::Percent
    } else if nums.iter().all(|p| (0.0..=1.0).contains(&p.value)) {
        Unit::Proportion
    } else {
        Unit::Difference
    };
    Ok(Printed {
        text: text.to_string(),
        estimate: None,
        ci_lb: Some(nums[0].clone()),
        ci_ub: Some(nums[1].clone()),
        unit,
        unit_shown: percent,
        level: 95.0,
        level_printed: false,
        x_of_n: None,
        k: None,
        n: None,
        i2: None,
        label: None,
        p: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Printed {
        parse(s).unwrap()
    }

    #[test]
    fn percent_with_ci_words() {
        let r = p("58.4% (95% CI, 47.3% to 69.4%)");
        assert_eq!(r.unit, Unit::Percent);
        assert_eq!(r.estimate.as_ref().unwrap().value, 58.4);
        assert_eq!(r.ci_lb.as_ref().unwrap().value, 47.3);
        assert_eq!(r.ci_ub.as_ref().unwrap().text, "69.4");
        assert_eq!(r.level, 95.0);
    }

    #[test]
    fn proportion_with_dash_range_and_trailing_zero() {
        let r = p("0.41 (0.35-0.48)");
        assert_eq!(r.unit, Unit::Proportion);
        assert_eq!(r.ci_lb.as_ref().unwrap().value, 0.35);
        let r = p("56.4% (95%CI 44-68.0; 8 studies, n = 71)");
        assert_eq!(r.ci_lb.as_ref().unwrap().decimals, 0);
        assert_eq!(r.ci_ub.as_ref().unwrap().decimals, 1);
        assert_eq!(r.k, Some(8));
        assert_eq!(r.n, Some(71));
    }

    #[test]
    fn ci_only_and_x_of_n() {
        let r = p("(95% CI, 49.8% to 73.9%)");
        assert!(r.estimate.is_none());
        assert_eq!(r.ci_ub.as_ref().unwrap().value, 73.9);
        let r = p("7 of 17 patients (41%)");
        assert_eq!(r.x_of_n, Some((7, 17)));
        assert_eq!(r.estimate.as_ref().unwrap().value, 41.0);
        assert_eq!(r.unit, Unit::Percent);
    }

    #[test]
    fn ratios_negative_differences_and_i2() {
        let r = p("RR: 0.86, 95% CI: 0.78–0.94");
        assert_eq!(r.unit, Unit::Ratio);
        assert_eq!(r.ci_ub.as_ref().unwrap().value, 0.94);
        let r = p("SMD: \u{2212}0.44, 95% CI: \u{2212}0.67 to \u{2212}0.21");
        assert_eq!(r.unit, Unit::Difference);
        assert_eq!(r.estimate.as_ref().unwrap().value, -0.44);
        assert_eq!(r.ci_lb.as_ref().unwrap().value, -0.67);
        let r = p("(relative risk [RR] 1.59, 95 % CI 0.96–2.65, I<sup>2</sup> 52 %)");
        assert_eq!(r.unit, Unit::Ratio);
        assert_eq!(r.i2.as_ref().unwrap().value, 52.0);
        assert_eq!(r.ci_lb.as_ref().unwrap().value, 0.96);
    }

    #[test]
    fn decimal_commas_and_thousands_separators() {
        let r = p("33,8% (IC 95% 26,8–41,6)");
        assert_eq!(r.estimate.as_ref().unwrap().text, "33.8");
        assert_eq!(r.ci_ub.as_ref().unwrap().value, 41.6);
        assert_eq!((r.level, r.level_printed), (95.0, true));
        // A decimal point elsewhere: the comma is a thousands separator or a separator.
        let r = p("0.41 (95% CI 0.35,0.48; n = 10,130)");
        assert_eq!(r.n, Some(10_130));
        assert_eq!(r.ci_lb.as_ref().unwrap().value, 0.35);
        // "0,123" is a decimal comma even with three digits after it.
        assert_eq!(p("0,123").estimate.unwrap().value, 0.123);
        // "p < 0.001" in the text is the estimate's p, a bound.
        let r = p("89.2% (95%CI 82.5-93.6; p < 0.001)");
        let pv = r.p.unwrap();
        assert_eq!((pv.relation, pv.num.value), (Relation::Lt, 0.001));
        assert_eq!(r.ci_ub.unwrap().value, 93.6);
    }

    #[test]
    fn unparseable_text_is_an_error() {
        assert!(parse("not reported").is_err());
        assert!(parse("1.2 3.4").is_err());
        assert!(parse("1 2 3 4 5").is_err());
    }
}
