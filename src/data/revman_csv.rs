//! RevMan 5's "export analysis data" CSV (File > Export > Data and analyses), the format R meta's
//! `read.rm5` reads, into the same [`Review`] as a `.rm5` file.
//!
//! The export is one table: a header row naming the exported fields, then per comparison a row
//! (outcome number 0: its name), per outcome a row with its data type (`DIC`, `CON`, `GIV`),
//! method (`MH`, `IV`, `PETO`), effect measure, analysis model (`Fixed`, `Random`) and stored
//! results (effect estimate, CI, Q, P(Q), I²(Q), Tau², Z, P(Z), Qint, P(Qint), I²(Qint), df,
//! group and graph labels), per subgroup a row with its number and results, and the study rows
//! (events, means, SDs and totals per group; effect estimate, SE, CI, weight; year; order).
//! Required fields: Comparison Number, Outcome Number, Subgroup Number, Name, Data Type; the
//! others are read where exported. Header names are matched on their letters and digits only
//! (so `I²(Q)` is found whatever the export's encoding did to the `²`). Numbers may have
//! thousands separators (`1,570` in quotes). The export rounds to 8 decimals. Outcomes
//! are given IDs as in a `.rm5` file ("CMP-001.01"), subgroups "CMP-001.01.01"; studies have no
//! IDs in the export, so their names stand in. Exported O-E and variance outcomes are refused.
//!
//! The file is UTF-8 or, failing that, Latin-1 (each byte its own code point).

use std::collections::HashMap;
use std::path::Path;

use super::delimited::parse_delimited;
use super::revman::{
    Comparison, DataType, Outcome, Review, RmMeasure, RmMethod, Row, RowData, Stored, StoredTest, Subgroup, Totals,
};
use crate::error::{Error, Result};

/// A header name reduced to its lower-case ASCII letters and digits.
fn key(h: &str) -> String {
    h.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether `bytes` start with the header of a RevMan analysis-data export.
pub fn looks_like_revman_csv(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let first: String = head
        .iter()
        .take_while(|&&b| b != b'\n' && b != b'\r')
        .map(|&b| b as char)
        .collect();
    let k: Vec<String> = first.split(',').map(key).collect();
    ["comparisonnumber", "outcomenumber", "subgroupnumber"]
        .iter()
        .all(|w| k.iter().any(|x| x == w))
}

/// Read a RevMan analysis-data CSV.
pub fn read_revman_csv(path: &Path) -> Result<Review> {
    let bytes = std::fs::read(path).map_err(|e| Error::Input {
        file: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    parse_revman_csv(&bytes, path)
}

/// A RevMan review from either of RevMan's files: a `.rm5` (XML) or an analysis-data CSV, told
/// apart by their content.
pub fn read_review(path: &Path) -> Result<Review> {
    let bytes = std::fs::read(path).map_err(|e| Error::Input {
        file: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    if looks_like_revman_csv(&bytes) {
        parse_revman_csv(&bytes, path)
    } else {
        super::revman::parse_rm5(&bytes, path)
    }
}

struct Cols {
    idx: HashMap<String, usize>,
}

struct Rec<'a> {
    file: &'a Path,
    line: usize,
    fields: &'a [String],
    cols: &'a Cols,
}

impl Rec<'_> {
    fn err(&self, message: String) -> Error {
        Error::Input {
            file: self.file.to_path_buf(),
            message: format!("line {}: {message}", self.line),
        }
    }

    fn text(&self, k: &str) -> &str {
        self.cols
            .idx
            .get(k)
            .and_then(|&i| self.fields.get(i))
            .map(|s| s.trim())
            .unwrap_or("")
    }

    /// A number, or `None` when the field is absent or empty.
    fn num(&self, k: &str, name: &str) -> Result<Option<f64>> {
        let t = self.text(k).replace(',', "");
        if t.is_empty() {
            return Ok(None);
        }
        match t.as_str() {
            "NaN" => return Ok(Some(f64::NAN)),
            "Infinity" | "Inf" => return Ok(Some(f64::INFINITY)),
            "-Infinity" | "-Inf" => return Ok(Some(f64::NEG_INFINITY)),
            _ => {}
        }
        t.parse::<f64>()
            .map(Some)
            .map_err(|_| self.err(format!("column \"{name}\": \"{}\" is not a number", self.text(k))))
    }

    fn int(&self, k: &str, name: &str) -> Result<u32> {
        match self.num(k, name)? {
            Some(v) if v >= 0.0 && v.fract() == 0.0 && v < 1e9 => Ok(v as u32),
            Some(v) => Err(self.err(format!("column \"{name}\": {v} is not a whole number"))),
            None => Err(self.err(format!("column \"{name}\" is empty"))),
        }
    }

    fn req(&self, k: &str, name: &str) -> Result<f64> {
        self.num(k, name)?
            .ok_or_else(|| self.err(format!("column \"{name}\" is empty")))
    }

    fn stored(&self) -> Result<Stored> {
        Ok(Stored {
            estimable: None,
            effect_size: self.num("effectestimate", "Effect Estimate")?,
            ci_start: self.num("cistart", "CI Start")?,
            ci_end: self.num("ciend", "CI End")?,
            z: self.num("z", "Z")?,
            p_z: self.num("pz", "P(Z)")?,
            tau2: self.num("tau", "Tau²")?,
            i2: self.num("iq", "I²(Q)")?,
            chi2: self.num("q", "Q")?,
            df: self.num("df", "df")?,
            p_chi2: self.num("pq", "P(Q)")?,
            studies: None,
        })
    }
}

fn measure_of(r: &Rec, dt: DataType, logscale: bool) -> Result<RmMeasure> {
    let m = r.text("effectmeasure");
    Ok(match (dt, m.to_ascii_uppercase().as_str()) {
        (DataType::Iv, _) => RmMeasure::Generic {
            name: m.to_string(),
            log: logscale,
        },
        (_, "RR") => RmMeasure::RR,
        (_, "OR") => RmMeasure::OR,
        (_, "RD") => RmMeasure::RD,
        (_, "PETO_OR") => RmMeasure::PetoOr,
        (_, "MD") => RmMeasure::MD,
        (_, "SMD") => RmMeasure::SMD,
        _ => {
            return Err(r.err(format!(
                "column \"Effect Measure\": unknown measure \"{m}\" (expected RR, OR, RD, PETO_OR, MD or SMD)"
            )))
        }
    })
}

/// Parse the export (see the module documentation).
pub fn parse_revman_csv(bytes: &[u8], file: &Path) -> Result<Review> {
    let (text, encoding) = match std::str::from_utf8(bytes) {
        Ok(t) => (t.to_string(), "UTF-8"),
        Err(_) => (bytes.iter().map(|&b| b as char).collect(), "ISO-8859-1"),
    };
    let input = |message: String| Error::Input {
        file: file.to_path_buf(),
        message,
    };
    let records = parse_delimited(file, &text, b',')?;
    let Some((header, body)) = records.split_first() else {
        return Err(input("the file is empty".into()));
    };
    let cols = Cols {
        idx: header
            .fields
            .iter()
            .enumerate()
            .map(|(i, h)| (key(h), i))
            .rev()
            .collect(),
    };
    for (k, name) in [
        ("comparisonnumber", "Comparison Number"),
        ("outcomenumber", "Outcome Number"),
        ("subgroupnumber", "Subgroup Number"),
        ("name", "Name"),
        ("datatype", "Data Type"),
    ] {
        if !cols.idx.contains_key(k) {
            return Err(input(format!(
                "not a RevMan analysis-data export: no \"{name}\" column (export with the comparison, outcome \
                 and subgroup numbers)"
            )));
        }
    }
    let mut comparisons: Vec<Comparison> = Vec::new();
    // The outcome being read (its position in its comparison) and the subgroup row last seen.
    let mut cur: Option<(usize, usize)> = None;
    let mut last_sub: Option<u32> = None;
    for rec in body {
        let r = Rec {
            file,
            line: rec.line,
            fields: &rec.fields,
            cols: &cols,
        };
        let cno = r.int("comparisonnumber", "Comparison Number")?;
        let ono = r.int("outcomenumber", "Outcome Number")?;
        let sno = r.int("subgroupnumber", "Subgroup Number")?;
        let name = r.text("name").to_string();
        let dtype = r.text("datatype");
        if ono == 0 {
            comparisons.push(Comparison {
                id: format!("CMP-{cno:03}"),
                no: cno,
                name,
                outcomes: Vec::new(),
            });
            cur = None;
            continue;
        }
        let Some(ci) = comparisons.iter().position(|c| c.no == cno) else {
            return Err(r.err(format!("outcome {cno}.{ono} comes before its comparison row")));
        };
        let is_new_outcome =
            !dtype.is_empty() && sno == 0 && cur.is_none_or(|(c, o)| c != ci || comparisons[c].outcomes[o].no != ono);
        if is_new_outcome {
            let data_type = match dtype.to_ascii_uppercase().as_str() {
                "DIC" | "DICH" => DataType::Dich,
                "CON" | "CONT" => DataType::Cont,
                "GIV" | "IV" => DataType::Iv,
                "IPD" | "O-E" | "OE" => {
                    return Err(r.err(format!(
                        "outcome {cno}.{ono}: O-E and variance data (data type \"{dtype}\") are not supported"
                    )))
                }
                _ => return Err(r.err(format!("column \"Data Type\": unknown data type \"{dtype}\""))),
            };
            let method = match (data_type, r.text("statisticalmethod").to_ascii_uppercase().as_str()) {
                (DataType::Dich, "MH") => RmMethod::MH,
                (DataType::Dich, "PETO") => RmMethod::PETO,
                (_, "IV" | "INVERSE") => RmMethod::IV,
                (DataType::Cont | DataType::Iv, "") => RmMethod::IV,
                (_, m) => {
                    return Err(r.err(format!(
                        "column \"Statistical Method\": unknown method \"{m}\" (expected MH, IV or PETO)"
                    )))
                }
            };
            let logscale = {
                let t = r.text("entereddataareonlogscalegenericinversevarianceonly");
                t.eq_ignore_ascii_case("yes") || t.eq_ignore_ascii_case("true")
            };
            let measure = measure_of(&r, data_type, logscale)?;
            let random = match r.text("analysismodel").to_ascii_lowercase().as_str() {
                "random" => true,
                "fixed" | "" => false,
                m => {
                    return Err(r.err(format!(
                        "column \"Analysis Model\": unknown model \"{m}\" (expected Fixed or Random)"
                    )))
                }
            };
            let swap = r.text("swapeventandnonevent");
            let o = Outcome {
                id: format!("CMP-{cno:03}.{ono:02}"),
                no: ono,
                name,
                data_type,
                method,
                measure,
                random,
                ci_study: 95.0,
                ci_total: 95.0,
                totals: Totals::Yes,
                has_subgroups: false,
                subgroup_test: false,
                swap_events: swap.eq_ignore_ascii_case("yes") || swap.eq_ignore_ascii_case("true"),
                group_labels: [r.text("grouplabel1").to_string(), r.text("grouplabel2").to_string()],
                graph_labels: [
                    r.text("leftgraphlabel").to_string(),
                    r.text("rightgraphlabel").to_string(),
                ],
                stored: r.stored()?,
                stored_test: StoredTest {
                    q: r.num("qint", "Qint")?,
                    p_q: r.num("pqint", "P(Qint)")?,
                    i2_q: r.num("iqint", "I²(Qint)")?,
                },
                subgroups: Vec::new(),
                rows: Vec::new(),
            };
            comparisons[ci].outcomes.push(o);
            cur = Some((ci, comparisons[ci].outcomes.len() - 1));
            last_sub = None;
            continue;
        }
        let Some((c, oi)) = cur.filter(|&(c, oi)| c == ci && comparisons[c].outcomes[oi].no == ono) else {
            return Err(r.err(format!("a row of outcome {cno}.{ono} before the outcome's own row")));
        };
        let o = &mut comparisons[c].outcomes[oi];
        if sno > 0 && last_sub != Some(sno) && !dtype.is_empty() {
            // A subgroup's own row: its name and results.
            o.has_subgroups = true;
            o.subgroups.push(Subgroup {
                id: format!("{}.{sno:02}", o.id),
                no: sno,
                name,
                stored: r.stored()?,
                rows: Vec::new(),
            });
            last_sub = Some(sno);
            continue;
        }
        let data = match o.data_type {
            DataType::Dich => RowData::Dich {
                events_1: r.req("events1", "Events 1")?,
                total_1: r.req("total1", "Total 1")?,
                events_2: r.req("events2", "Events 2")?,
                total_2: r.req("total2", "Total 2")?,
            },
            DataType::Cont => RowData::Cont {
                mean_1: r.req("mean1", "Mean 1")?,
                sd_1: r.req("sd1", "SD 1")?,
                total_1: r.req("total1", "Total 1")?,
                mean_2: r.req("mean2", "Mean 2")?,
                sd_2: r.req("sd2", "SD 2")?,
                total_2: r.req("total2", "Total 2")?,
            },
            DataType::Iv => RowData::Iv {
                estimate: r.req("effectestimate", "Effect Estimate")?,
                se: r.req("se", "SE")?,
            },
        };
        let year = r.text("yearofstudy");
        let row = Row {
            study_id: name.clone(),
            study: name,
            year: (!year.is_empty()).then(|| year.to_string()),
            order: r.num("userdefinedorder", "User defined order")?,
            data,
            estimable: None,
            effect_size: r.num("effectestimate", "Effect Estimate")?,
            ci_start: r.num("cistart", "CI Start")?,
            ci_end: r.num("ciend", "CI End")?,
            se: r.num("se", "SE")?,
            var: None,
            o_e: None,
            weight: r.num("weight", "Weight")?,
        };
        let no_subgroups = o.subgroups.is_empty();
        match o.subgroups.last_mut() {
            Some(s) if sno > 0 && s.no == sno => s.rows.push(row),
            _ if sno == 0 && no_subgroups => o.rows.push(row),
            _ => {
                return Err(r.err(format!(
                    "study \"{}\" of outcome {cno}.{ono}, subgroup {sno}: no such subgroup row before it",
                    row.study
                )))
            }
        }
    }
    // Subgroups: the outcome's total is what was exported (a total row with results: YES).
    for o in comparisons.iter_mut().flat_map(|c| c.outcomes.iter_mut()) {
        if o.has_subgroups {
            o.subgroup_test = o.stored_test.q.is_some();
            if !o.stored.has_results() {
                o.totals = Totals::No;
            }
        }
    }
    if comparisons.is_empty() {
        return Err(input("the export has no comparisons".into()));
    }
    let title = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Review {
        file: file.to_path_buf(),
        encoding: encoding.into(),
        title,
        review_id: String::new(),
        doi: None,
        revman_version: None,
        revman_sub_version: None,
        comparisons,
        texts: Vec::new(),
    })
}
