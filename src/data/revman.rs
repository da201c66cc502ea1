//! RevMan 5 review files (`.rm5`): the comparisons, outcomes, subgroups and study rows of a
//! Cochrane review, with the numbers RevMan computed and stored for each of them.
//!
//! A `.rm5` file is XML (RevMan 5.0–5.4) in ISO-8859-1 or UTF-8, as its XML declaration says
//! (no declaration: UTF-8). Latin-1 is decoded here (each byte is the code point of the same
//! number); other declared encodings are refused by name. The XML is parsed with `roxmltree`:
//! a DOCTYPE (and so any entity definition, e.g. the "billion laughs" expansion) is refused, as
//! is nesting deeper than [`MAX_DEPTH`] elements; RevMan files have neither.
//!
//! What is read (`COCHRANE_REVIEW/ANALYSES_AND_DATA/COMPARISON/{DICH,CONT,IV}_OUTCOME
//! [/…_SUBGROUP]/…_DATA`):
//!
//! - per outcome: `ID`, `NO`, `NAME`, the data type, `METHOD` (MH, IV, PETO; continuous and
//!   generic inverse-variance outcomes have inverse variance), `EFFECT_MEASURE` (RR, OR, RD,
//!   PETO_OR, MD, SMD; for IV outcomes the free-text `<EFFECT_MEASURE>` child and `LOG_DATA`),
//!   `RANDOM`, `CI_STUDY`, `CI_TOTAL`, `TOTALS` (YES/SUB/NO), `SUBGROUPS`, `SUBGROUP_TEST`,
//!   `SWAP_EVENTS`, the group labels and the "Favours" (graph) labels;
//! - stored results of outcomes and subgroups: `EFFECT_SIZE`, `CI_START`, `CI_END`, `Z`, `P_Z`,
//!   `TAU2`, `I2`, `CHI2`, `DF`, `P_CHI2`, `ESTIMABLE`, `STUDIES`; of the subgroup difference
//!   test: `Q`, `P_Q`, `I2_Q`; per study: `EFFECT_SIZE`, `CI_START`, `CI_END`, `SE`, `VAR`,
//!   `O_E`, `WEIGHT`, `ESTIMABLE`;
//! - study names and years from `STUDIES_AND_REFERENCES` by `STUDY_ID`.
//!
//! An empty attribute (RevMan writes `CHI2=""` for results it has not computed) is a missing
//! value; `NaN` and `-Infinity` are read as such. Every error names the file, the element with
//! its path of IDs and its line, and the attribute.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};

/// Deepest element nesting accepted (RevMan files nest about 10 deep).
pub const MAX_DEPTH: usize = 256;

/// Most XML nodes accepted (a large review has a few hundred thousand).
pub const MAX_NODES: u32 = 50_000_000;

/// A RevMan 5 review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub file: PathBuf,
    /// The encoding the file was decoded from ("UTF-8" or "ISO-8859-1").
    pub encoding: String,
    pub title: String,
    pub review_id: String,
    pub doi: Option<String>,
    pub revman_version: Option<String>,
    pub revman_sub_version: Option<String>,
    pub comparisons: Vec<Comparison>,
    /// The paragraphs of the review's abstract and results text (where estimates are printed).
    pub texts: Vec<ReviewText>,
}

/// One paragraph of the review's text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewText {
    /// "abstract" (`ABSTRACT`) or "results" (`RESULTS`).
    pub section: String,
    /// The paragraph's text, whitespace collapsed.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub id: String,
    pub no: u32,
    pub name: String,
    pub outcomes: Vec<Outcome>,
}

/// The data type of an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DataType {
    /// Dichotomous: events and totals (`DICH_OUTCOME`).
    Dich,
    /// Continuous: means, SDs and totals (`CONT_OUTCOME`).
    Cont,
    /// Generic inverse variance: an estimate and its SE (`IV_OUTCOME`).
    Iv,
}

impl DataType {
    pub fn as_str(self) -> &'static str {
        match self {
            DataType::Dich => "DICH",
            DataType::Cont => "CONT",
            DataType::Iv => "IV",
        }
    }
}

/// RevMan's statistical method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RmMethod {
    MH,
    IV,
    PETO,
}

impl RmMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            RmMethod::MH => "MH",
            RmMethod::IV => "IV",
            RmMethod::PETO => "PETO",
        }
    }
}

/// RevMan's effect measure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RmMeasure {
    RR,
    OR,
    RD,
    PetoOr,
    MD,
    SMD,
    /// A generic inverse-variance outcome: the free-text measure, and whether the data are on
    /// the (natural) log scale and shown exponentiated.
    Generic {
        name: String,
        log: bool,
    },
}

impl RmMeasure {
    pub fn label(&self) -> String {
        match self {
            RmMeasure::RR => "RR".into(),
            RmMeasure::OR => "OR".into(),
            RmMeasure::RD => "RD".into(),
            RmMeasure::PetoOr => "PETO_OR".into(),
            RmMeasure::MD => "MD".into(),
            RmMeasure::SMD => "SMD".into(),
            RmMeasure::Generic { name, .. } => name.clone(),
        }
    }

    /// Whether results are ratios, pooled on the natural-log scale and shown exponentiated.
    pub fn is_ratio(&self) -> bool {
        match self {
            RmMeasure::RR | RmMeasure::OR | RmMeasure::PetoOr => true,
            RmMeasure::Generic { log, .. } => *log,
            _ => false,
        }
    }
}

/// `TOTALS`: whether the outcome pools all its studies (YES), is the inverse-variance mean of
/// its subgroup estimates (SUB), or has no total (NO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Totals {
    Yes,
    Sub,
    No,
}

/// Results RevMan stored for an outcome or a subgroup (ratios on their natural scale; `None`
/// where the attribute is absent or empty).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Stored {
    pub estimable: Option<bool>,
    pub effect_size: Option<f64>,
    pub ci_start: Option<f64>,
    pub ci_end: Option<f64>,
    pub z: Option<f64>,
    pub p_z: Option<f64>,
    pub tau2: Option<f64>,
    pub i2: Option<f64>,
    pub chi2: Option<f64>,
    pub df: Option<f64>,
    pub p_chi2: Option<f64>,
    pub studies: Option<f64>,
}

impl Stored {
    /// Whether RevMan stored a pooled estimate at all.
    pub fn has_results(&self) -> bool {
        self.effect_size.is_some()
    }
}

/// The subgroup-difference test RevMan stored on an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct StoredTest {
    pub q: Option<f64>,
    pub p_q: Option<f64>,
    pub i2_q: Option<f64>,
}

/// The data of one study row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum RowData {
    Dich {
        events_1: f64,
        total_1: f64,
        events_2: f64,
        total_2: f64,
    },
    Cont {
        mean_1: f64,
        sd_1: f64,
        total_1: f64,
        mean_2: f64,
        sd_2: f64,
        total_2: f64,
    },
    /// A generic inverse-variance row: the entered estimate and SE (ln scale with `LOG_DATA`).
    Iv { estimate: f64, se: f64 },
}

/// One study row of an analysis, with what RevMan stored for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub study_id: String,
    pub study: String,
    pub year: Option<String>,
    pub order: Option<f64>,
    pub data: RowData,
    pub estimable: Option<bool>,
    pub effect_size: Option<f64>,
    pub ci_start: Option<f64>,
    pub ci_end: Option<f64>,
    pub se: Option<f64>,
    pub var: Option<f64>,
    pub o_e: Option<f64>,
    pub weight: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subgroup {
    pub id: String,
    pub no: u32,
    pub name: String,
    pub stored: Stored,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// RevMan's ID, e.g. "CMP-001.01".
    pub id: String,
    pub no: u32,
    pub name: String,
    pub data_type: DataType,
    pub method: RmMethod,
    pub measure: RmMeasure,
    pub random: bool,
    /// CI levels in percent.
    pub ci_study: f64,
    pub ci_total: f64,
    pub totals: Totals,
    pub has_subgroups: bool,
    pub subgroup_test: bool,
    pub swap_events: bool,
    pub group_labels: [String; 2],
    pub graph_labels: [String; 2],
    pub stored: Stored,
    pub stored_test: StoredTest,
    /// The subgroups (empty without subgroups; then the rows are in `rows`).
    pub subgroups: Vec<Subgroup>,
    pub rows: Vec<Row>,
}

impl Outcome {
    /// Every study row of the outcome (of all subgroups).
    pub fn all_rows(&self) -> Vec<&Row> {
        if self.subgroups.is_empty() {
            self.rows.iter().collect()
        } else {
            self.subgroups.iter().flat_map(|s| s.rows.iter()).collect()
        }
    }
}

/// Read a `.rm5` file.
pub fn read_rm5(path: &Path) -> Result<Review> {
    let bytes = std::fs::read(path).map_err(|e| Error::Input {
        file: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    parse_rm5(&bytes, path)
}

/// Whether `bytes` look like a RevMan file (an XML document whose root is `COCHRANE_REVIEW`),
/// judged from the first few kilobytes.
pub fn looks_like_rm5(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let text: String = head.iter().map(|&b| b as char).collect();
    text.contains("<COCHRANE_REVIEW")
}

/// The encoding named in the XML declaration, if any.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    if !bytes.starts_with(b"<?xml") {
        return None;
    }
    let end = bytes.iter().position(|&b| b == b'>')?;
    let decl: String = bytes[..end].iter().map(|&b| b as char).collect();
    let i = decl.find("encoding")?;
    let rest = decl[i + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let q = rest.chars().next()?;
    if q != '"' && q != '\'' {
        return None;
    }
    let rest = &rest[1..];
    Some(rest[..rest.find(q)?].to_string())
}

/// Decode the file's bytes as its declaration says.
fn decode(bytes: &[u8], file: &Path) -> Result<(String, String)> {
    let input = |message: String| Error::Input {
        file: file.to_path_buf(),
        message,
    };
    if bytes.is_empty() || bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(input("the file is empty (expected a RevMan 5 review, XML)".into()));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(input(
            "the file is UTF-16; RevMan 5 files are ISO-8859-1 or UTF-8 (save it as UTF-8)".into(),
        ));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let declared = declared_encoding(bytes);
    let enc = declared.clone().unwrap_or_else(|| "UTF-8".into());
    match enc.to_ascii_uppercase().replace('_', "-").as_str() {
        "UTF-8" | "UTF8" | "US-ASCII" | "ASCII" => match std::str::from_utf8(bytes) {
            Ok(s) => Ok((s.to_string(), "UTF-8".into())),
            Err(e) => {
                let at = e.valid_up_to();
                let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
                Err(input(format!(
                    "line {line}: byte {at} is not valid UTF-8, but the file {} UTF-8{}",
                    if declared.is_some() {
                        "declares"
                    } else {
                        "declares no encoding, so XML reads it as"
                    },
                    if declared.is_none() {
                        " (a Latin-1 file must declare encoding=\"ISO-8859-1\")"
                    } else {
                        ""
                    }
                )))
            }
        },
        "ISO-8859-1" | "ISO8859-1" | "LATIN1" | "LATIN-1" | "L1" | "ISO-LATIN-1" => {
            Ok((bytes.iter().map(|&b| b as char).collect(), "ISO-8859-1".into()))
        }
        _ => Err(input(format!(
            "the XML declaration names the encoding \"{enc}\"; RevMan 5 files are ISO-8859-1 or UTF-8"
        ))),
    }
}

/// Parse the bytes of a `.rm5` file (`file` names it in errors).
pub fn parse_rm5(bytes: &[u8], file: &Path) -> Result<Review> {
    let (text, encoding) = decode(bytes, file)?;
    let input = |message: String| Error::Input {
        file: file.to_path_buf(),
        message,
    };
    depth_check(&text).map_err(input)?;
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(&text, opts).map_err(|e| {
        input(match e {
            roxmltree::Error::DtdDetected => {
                "the file has a DOCTYPE declaration: refused (entity definitions could expand without bound; \
                 RevMan files have none)"
                    .to_string()
            }
            roxmltree::Error::NodesLimitReached => format!("more than {MAX_NODES} XML nodes: refused"),
            roxmltree::Error::UnexpectedEndOfStream | roxmltree::Error::UnclosedRootNode => {
                format!("the XML ends early (truncated file?): {e}")
            }
            other => format!("not well-formed XML: {other}"),
        })
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "COCHRANE_REVIEW" {
        return Err(input(format!(
            "not a RevMan 5 review: the root element is <{}>, expected <COCHRANE_REVIEW>",
            root.tag_name().name()
        )));
    }
    let cx = Cx { file, doc: &doc };
    let studies = study_list(root);
    let title = root
        .children()
        .find(|n| n.has_tag_name("COVER_SHEET"))
        .and_then(|c| c.children().find(|n| n.has_tag_name("TITLE")))
        .map(text_of)
        .unwrap_or_default();
    let mut comparisons = Vec::new();
    if let Some(ad) = root.children().find(|n| n.has_tag_name("ANALYSES_AND_DATA")) {
        for cmp in ad.children().filter(|n| n.has_tag_name("COMPARISON")) {
            comparisons.push(cx.comparison(cmp, &studies)?);
        }
    }
    let opt = |name: &str| root.attribute(name).filter(|s| !s.is_empty()).map(str::to_string);
    let texts = review_texts(root);
    Ok(Review {
        file: file.to_path_buf(),
        encoding,
        title,
        review_id: root.attribute("ID").unwrap_or_default().to_string(),
        doi: opt("DOI"),
        revman_version: opt("REVMAN_VERSION"),
        revman_sub_version: opt("REVMAN_SUB_VERSION"),
        comparisons,
        texts,
    })
}

/// The paragraphs (`P`, else the whole element) of every `ABSTRACT` and `RESULTS` element outside
/// the analyses, in document order.
fn review_texts(root: roxmltree::Node) -> Vec<ReviewText> {
    let collapse = |s: String| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = Vec::new();
    for sec in root
        .descendants()
        .filter(|n| n.has_tag_name("ABSTRACT") || n.has_tag_name("RESULTS"))
    {
        if sec.ancestors().any(|a| a.has_tag_name("ANALYSES_AND_DATA")) {
            continue;
        }
        let section = if sec.has_tag_name("ABSTRACT") {
            "abstract"
        } else {
            "results"
        };
        let paragraphs: Vec<roxmltree::Node> = sec.descendants().filter(|n| n.has_tag_name("P")).collect();
        let texts: Vec<String> = if paragraphs.is_empty() {
            vec![collapse(text_of(sec))]
        } else {
            paragraphs.into_iter().map(|p| collapse(text_of(p))).collect()
        };
        out.extend(texts.into_iter().filter(|t| !t.is_empty()).map(|text| ReviewText {
            section: section.to_string(),
            text,
        }));
    }
    out
}

/// Refuse nesting deeper than [`MAX_DEPTH`] before building the tree (a cheap scan of the tags).
fn depth_check(text: &str) -> std::result::Result<(), String> {
    let b = text.as_bytes();
    let (mut depth, mut max, mut line) = (0usize, 0usize, 1usize);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\n' => line += 1,
            b'<' => {
                let next = b.get(i + 1).copied().unwrap_or(0);
                if next == b'/' {
                    depth = depth.saturating_sub(1);
                } else if next == b'!' || next == b'?' {
                    // comments, CDATA, declarations: not elements
                } else {
                    // find the end of the tag; a self-closing tag does not nest
                    let mut j = i + 1;
                    let mut quote = 0u8;
                    while j < b.len() {
                        let c = b[j];
                        if quote != 0 {
                            if c == quote {
                                quote = 0;
                            }
                        } else if c == b'"' || c == b'\'' {
                            quote = c;
                        } else if c == b'>' {
                            break;
                        }
                        j += 1;
                    }
                    if !(j > 0 && j < b.len() && b[j - 1] == b'/') {
                        depth += 1;
                        max = max.max(depth);
                        if max > MAX_DEPTH {
                            return Err(format!(
                                "line {line}: elements nested more than {MAX_DEPTH} deep: refused (RevMan files nest about 10 deep)"
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

fn text_of(n: roxmltree::Node) -> String {
    n.descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect::<String>()
        .trim()
        .to_string()
}

/// Study ID → (name, year) from `STUDIES_AND_REFERENCES`.
fn study_list(root: roxmltree::Node) -> HashMap<String, (String, Option<String>)> {
    let mut m = HashMap::new();
    if let Some(sr) = root.children().find(|n| n.has_tag_name("STUDIES_AND_REFERENCES")) {
        for s in sr.descendants().filter(|n| n.has_tag_name("STUDY")) {
            if let Some(id) = s.attribute("ID") {
                let name = s.attribute("NAME").unwrap_or(id).to_string();
                let year = s.attribute("YEAR").filter(|y| !y.is_empty()).map(str::to_string);
                m.insert(id.to_string(), (name, year));
            }
        }
    }
    m
}

struct Cx<'a, 'd> {
    file: &'a Path,
    doc: &'a roxmltree::Document<'d>,
}

impl Cx<'_, '_> {
    /// "DICH_DATA (CMP-001 > CMP-001.01 > row 3, line 245)".
    fn where_(&self, n: roxmltree::Node) -> String {
        let mut path = Vec::new();
        for a in n.ancestors().filter(|a| a.is_element()) {
            let tag = a.tag_name().name();
            if tag == "ANALYSES_AND_DATA" {
                break;
            }
            match a.attribute("ID") {
                Some(id) => path.push(format!("{tag} {id}")),
                None => {
                    // prev_siblings() starts with the node itself.
                    let pos = a
                        .prev_siblings()
                        .filter(|s| s.is_element() && s.tag_name() == a.tag_name())
                        .count();
                    match a.attribute("STUDY_ID") {
                        Some(study) => path.push(format!("{tag} #{pos} (STUDY_ID {study})")),
                        None => path.push(format!("{tag} #{pos}")),
                    }
                }
            }
        }
        path.reverse();
        let line = self.doc.text_pos_at(n.range().start).row;
        format!("element {} (line {line})", path.join(" > "))
    }

    fn err(&self, n: roxmltree::Node, attr: &str, message: String) -> Error {
        Error::Input {
            file: self.file.to_path_buf(),
            message: format!("{}, attribute {attr}: {message}", self.where_(n)),
        }
    }

    fn required<'n>(&self, n: roxmltree::Node<'n, '_>, attr: &str) -> Result<&'n str> {
        n.attribute(attr).ok_or_else(|| self.err(n, attr, "missing".into()))
    }

    /// A number; `None` for an absent or empty attribute.
    fn num(&self, n: roxmltree::Node, attr: &str) -> Result<Option<f64>> {
        match n.attribute(attr).map(str::trim) {
            None | Some("") => Ok(None),
            Some(s) => s
                .parse::<f64>()
                .map(Some)
                .map_err(|_| self.err(n, attr, format!("\"{s}\" is not a number"))),
        }
    }

    /// A required number (a study row's data).
    fn req_num(&self, n: roxmltree::Node, attr: &str) -> Result<f64> {
        match self.num(n, attr)? {
            Some(x) if x.is_finite() => Ok(x),
            Some(x) => Err(self.err(n, attr, format!("{x} is not a finite number"))),
            None => Err(self.err(
                n,
                attr,
                if n.attribute(attr).is_some() {
                    "empty (a study row needs this value)".into()
                } else {
                    "missing".into()
                },
            )),
        }
    }

    fn flag(&self, n: roxmltree::Node, attr: &str) -> Result<Option<bool>> {
        match n.attribute(attr).map(str::trim) {
            None | Some("") => Ok(None),
            Some("YES") => Ok(Some(true)),
            Some("NO") => Ok(Some(false)),
            Some(s) => Err(self.err(n, attr, format!("\"{s}\": expected YES or NO"))),
        }
    }

    fn uint(&self, n: roxmltree::Node, attr: &str) -> Result<u32> {
        let s = self.required(n, attr)?;
        s.trim()
            .parse::<u32>()
            .map_err(|_| self.err(n, attr, format!("\"{s}\" is not a whole number")))
    }

    fn stored(&self, n: roxmltree::Node) -> Result<Stored> {
        Ok(Stored {
            estimable: self.flag(n, "ESTIMABLE")?,
            effect_size: self.num(n, "EFFECT_SIZE")?,
            ci_start: self.num(n, "CI_START")?,
            ci_end: self.num(n, "CI_END")?,
            z: self.num(n, "Z")?,
            p_z: self.num(n, "P_Z")?,
            tau2: self.num(n, "TAU2")?,
            i2: self.num(n, "I2")?,
            chi2: self.num(n, "CHI2")?,
            df: self.num(n, "DF")?,
            p_chi2: self.num(n, "P_CHI2")?,
            studies: self.num(n, "STUDIES")?,
        })
    }

    fn comparison(
        &self,
        n: roxmltree::Node,
        studies: &HashMap<String, (String, Option<String>)>,
    ) -> Result<Comparison> {
        let id = self.required(n, "ID")?.to_string();
        let no = self.uint(n, "NO")?;
        let name = child_text(n, "NAME");
        let mut outcomes = Vec::new();
        for o in n.children().filter(|c| c.is_element()) {
            let dt = match o.tag_name().name() {
                "DICH_OUTCOME" => DataType::Dich,
                "CONT_OUTCOME" => DataType::Cont,
                "IV_OUTCOME" => DataType::Iv,
                _ => continue,
            };
            outcomes.push(self.outcome(o, dt, studies)?);
        }
        Ok(Comparison { id, no, name, outcomes })
    }

    fn outcome(
        &self,
        n: roxmltree::Node,
        data_type: DataType,
        studies: &HashMap<String, (String, Option<String>)>,
    ) -> Result<Outcome> {
        let id = self.required(n, "ID")?.to_string();
        let no = self.uint(n, "NO")?;
        let method = match data_type {
            DataType::Dich => match self.required(n, "METHOD")?.trim() {
                "MH" => RmMethod::MH,
                "IV" => RmMethod::IV,
                "PETO" => RmMethod::PETO,
                s => return Err(self.err(n, "METHOD", format!("unknown method \"{s}\"; expected MH, IV or PETO"))),
            },
            _ => RmMethod::IV,
        };
        let measure = match data_type {
            DataType::Dich => match self.required(n, "EFFECT_MEASURE")?.trim() {
                "RR" => RmMeasure::RR,
                "OR" => RmMeasure::OR,
                "RD" => RmMeasure::RD,
                "PETO_OR" => RmMeasure::PetoOr,
                s => {
                    return Err(self.err(
                        n,
                        "EFFECT_MEASURE",
                        format!("unknown measure \"{s}\" for a dichotomous outcome; expected RR, OR, RD or PETO_OR"),
                    ))
                }
            },
            DataType::Cont => match self.required(n, "EFFECT_MEASURE")?.trim() {
                "MD" => RmMeasure::MD,
                "SMD" => RmMeasure::SMD,
                s => {
                    return Err(self.err(
                        n,
                        "EFFECT_MEASURE",
                        format!("unknown measure \"{s}\" for a continuous outcome; expected MD or SMD"),
                    ))
                }
            },
            DataType::Iv => {
                let name = n
                    .children()
                    .find(|c| c.has_tag_name("EFFECT_MEASURE"))
                    .map(text_of)
                    .or_else(|| n.attribute("EFFECT_MEASURE").map(str::to_string))
                    .unwrap_or_default();
                RmMeasure::Generic {
                    name,
                    log: self.flag(n, "LOG_DATA")?.unwrap_or(false),
                }
            }
        };
        if method == RmMethod::PETO && measure != RmMeasure::PetoOr {
            return Err(self.err(
                n,
                "EFFECT_MEASURE",
                format!("the Peto method pools Peto odds ratios, not {}", measure.label()),
            ));
        }
        if method == RmMethod::MH && !matches!(measure, RmMeasure::RR | RmMeasure::OR | RmMeasure::RD) {
            return Err(self.err(
                n,
                "EFFECT_MEASURE",
                format!("the M-H method is defined for RR, OR and RD, not {}", measure.label()),
            ));
        }
        let level = |attr: &str| -> Result<f64> {
            match self.num(n, attr)? {
                None => Ok(95.0),
                Some(x) if x > 0.0 && x < 100.0 => Ok(x),
                Some(x) => Err(self.err(n, attr, format!("{x} is not a CI level in percent"))),
            }
        };
        let totals = match n.attribute("TOTALS").map(str::trim) {
            None | Some("") | Some("YES") => Totals::Yes,
            Some("SUB") => Totals::Sub,
            Some("NO") => Totals::No,
            Some(s) => return Err(self.err(n, "TOTALS", format!("\"{s}\": expected YES, SUB or NO"))),
        };
        let (sub_tag, data_tag) = match data_type {
            DataType::Dich => ("DICH_SUBGROUP", "DICH_DATA"),
            DataType::Cont => ("CONT_SUBGROUP", "CONT_DATA"),
            DataType::Iv => ("IV_SUBGROUP", "IV_DATA"),
        };
        let mut subgroups = Vec::new();
        for s in n.children().filter(|c| c.has_tag_name(sub_tag)) {
            let rows = self.rows(s, data_tag, data_type, studies)?;
            subgroups.push(Subgroup {
                id: self.required(s, "ID")?.to_string(),
                no: self.uint(s, "NO")?,
                name: child_text(s, "NAME"),
                stored: self.stored(s)?,
                rows,
            });
        }
        let rows = self.rows(n, data_tag, data_type, studies)?;
        Ok(Outcome {
            id,
            no,
            name: child_text(n, "NAME"),
            data_type,
            method,
            measure,
            random: self.flag(n, "RANDOM")?.unwrap_or(false),
            ci_study: level("CI_STUDY")?,
            ci_total: level("CI_TOTAL")?,
            totals,
            has_subgroups: self.flag(n, "SUBGROUPS")?.unwrap_or(!subgroups.is_empty()),
            subgroup_test: self.flag(n, "SUBGROUP_TEST")?.unwrap_or(true),
            swap_events: self.flag(n, "SWAP_EVENTS")?.unwrap_or(false),
            group_labels: [child_text(n, "GROUP_LABEL_1"), child_text(n, "GROUP_LABEL_2")],
            graph_labels: [child_text(n, "GRAPH_LABEL_1"), child_text(n, "GRAPH_LABEL_2")],
            stored: self.stored(n)?,
            stored_test: StoredTest {
                q: self.num(n, "Q")?,
                p_q: self.num(n, "P_Q")?,
                i2_q: self.num(n, "I2_Q")?,
            },
            subgroups,
            rows,
        })
    }

    fn rows(
        &self,
        parent: roxmltree::Node,
        tag: &str,
        data_type: DataType,
        studies: &HashMap<String, (String, Option<String>)>,
    ) -> Result<Vec<Row>> {
        let mut out = Vec::new();
        for r in parent.children().filter(|c| c.has_tag_name(tag)) {
            let study_id = self.required(r, "STUDY_ID")?.to_string();
            let (study, year) = studies
                .get(&study_id)
                .cloned()
                .unwrap_or_else(|| (study_id.clone(), None));
            let data = match data_type {
                DataType::Dich => {
                    let d = RowData::Dich {
                        events_1: self.req_num(r, "EVENTS_1")?,
                        total_1: self.req_num(r, "TOTAL_1")?,
                        events_2: self.req_num(r, "EVENTS_2")?,
                        total_2: self.req_num(r, "TOTAL_2")?,
                    };
                    if let RowData::Dich {
                        events_1,
                        total_1,
                        events_2,
                        total_2,
                    } = d
                    {
                        for (e, t, ea, ta) in [
                            (events_1, total_1, "EVENTS_1", "TOTAL_1"),
                            (events_2, total_2, "EVENTS_2", "TOTAL_2"),
                        ] {
                            if e < 0.0 || e.fract() != 0.0 {
                                return Err(self.err(r, ea, format!("{e} is not a count")));
                            }
                            if t <= 0.0 || t.fract() != 0.0 {
                                return Err(self.err(r, ta, format!("{t} is not a positive count")));
                            }
                            if e > t {
                                return Err(self.err(r, ea, format!("{e} events out of {t} ({ta})")));
                            }
                        }
                    }
                    d
                }
                DataType::Cont => {
                    let d = RowData::Cont {
                        mean_1: self.req_num(r, "MEAN_1")?,
                        sd_1: self.req_num(r, "SD_1")?,
                        total_1: self.req_num(r, "TOTAL_1")?,
                        mean_2: self.req_num(r, "MEAN_2")?,
                        sd_2: self.req_num(r, "SD_2")?,
                        total_2: self.req_num(r, "TOTAL_2")?,
                    };
                    for a in ["SD_1", "SD_2", "TOTAL_1", "TOTAL_2"] {
                        if self.req_num(r, a)? < 0.0 {
                            return Err(self.err(r, a, "negative".into()));
                        }
                    }
                    d
                }
                DataType::Iv => RowData::Iv {
                    estimate: self.req_num(r, "ESTIMATE")?,
                    se: {
                        let se = self.req_num(r, "SE")?;
                        if se < 0.0 {
                            return Err(self.err(r, "SE", format!("{se} is negative")));
                        }
                        se
                    },
                },
            };
            out.push(Row {
                study_id,
                study,
                year,
                order: self.num(r, "ORDER")?,
                data,
                estimable: self.flag(r, "ESTIMABLE")?,
                effect_size: self.num(r, "EFFECT_SIZE")?,
                ci_start: self.num(r, "CI_START")?,
                ci_end: self.num(r, "CI_END")?,
                // An IV row's SE is its data; the stored SE of other rows is a result.
                se: if data_type == DataType::Iv {
                    None
                } else {
                    self.num(r, "SE")?
                },
                var: self.num(r, "VAR")?,
                o_e: self.num(r, "O_E")?,
                weight: self.num(r, "WEIGHT")?,
            });
        }
        Ok(out)
    }
}

fn child_text(n: roxmltree::Node, tag: &str) -> String {
    n.children()
        .find(|c| c.has_tag_name(tag))
        .map(text_of)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<COCHRANE_REVIEW ID="1" REVMAN_VERSION="5">
<COVER_SHEET><TITLE>T</TITLE></COVER_SHEET>
<STUDIES_AND_REFERENCES><STUDIES><INCLUDED_STUDIES>
<STUDY ID="STD-A" NAME="Alpha" YEAR="1999"/>
</INCLUDED_STUDIES></STUDIES></STUDIES_AND_REFERENCES>
<ANALYSES_AND_DATA>
<COMPARISON ID="CMP-001" NO="1"><NAME>C</NAME>
<DICH_OUTCOME ID="CMP-001.01" NO="1" METHOD="MH" EFFECT_MEASURE="OR" RANDOM="NO" CHI2="">
<NAME>O</NAME><GROUP_LABEL_1>Tx</GROUP_LABEL_1>
<DICH_DATA STUDY_ID="STD-A" EVENTS_1="1" TOTAL_1="10" EVENTS_2="2" TOTAL_2="10"/>
</DICH_OUTCOME></COMPARISON></ANALYSES_AND_DATA></COCHRANE_REVIEW>"#;

    fn parse(s: &str) -> Result<Review> {
        parse_rm5(s.as_bytes(), Path::new("x.rm5"))
    }

    #[test]
    fn reads_a_minimal_review() {
        let r = parse(MINI).unwrap();
        assert_eq!(r.title, "T");
        let o = &r.comparisons[0].outcomes[0];
        assert_eq!(o.id, "CMP-001.01");
        assert_eq!(o.method, RmMethod::MH);
        assert_eq!(o.rows[0].study, "Alpha");
        assert_eq!(o.rows[0].year.as_deref(), Some("1999"));
        assert_eq!(o.stored.chi2, None);
        assert_eq!(o.group_labels[0], "Tx");
    }

    #[test]
    fn latin1_is_decoded() {
        let s = MINI
            .replace("UTF-8", "ISO-8859-1")
            .replace("<TITLE>T", "<TITLE>T\u{e9}");
        let bytes: Vec<u8> = s.chars().map(|c| c as u32 as u8).collect();
        let r = parse_rm5(&bytes, Path::new("x.rm5")).unwrap();
        assert_eq!(r.title, "T\u{e9}");
        assert_eq!(r.encoding, "ISO-8859-1");
        // The same byte in a file declared UTF-8 is an error naming the encoding.
        let bad = MINI.replace("<TITLE>T", "<TITLE>T\u{e9}");
        let mut b: Vec<u8> = bad.chars().map(|c| c as u32 as u8).collect();
        b.push(b'\n');
        let e = parse_rm5(&b, Path::new("x.rm5")).unwrap_err().to_string();
        assert!(e.contains("not valid UTF-8"), "{e}");
        // No declaration: XML's default, UTF-8; the message says how to declare Latin-1.
        let undeclared: Vec<u8> = b.splitn(2, |&c| c == b'\n').nth(1).unwrap().to_vec();
        let e = parse_rm5(&undeclared, Path::new("x.rm5")).unwrap_err().to_string();
        assert!(e.contains("declares no encoding") && e.contains("ISO-8859-1"), "{e}");
    }

    #[test]
    fn errors_name_element_and_attribute() {
        let e = parse(&MINI.replace("EVENTS_1=\"1\"", "EVENTS_1=\"one\""))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x.rm5") && e.contains("DICH_OUTCOME CMP-001.01") && e.contains("attribute EVENTS_1"),
            "{e}"
        );
        let e = parse(&MINI.replace("EFFECT_MEASURE=\"OR\"", "EFFECT_MEASURE=\"HR\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown measure \"HR\""), "{e}");
        let e = parse(&MINI.replace(" TOTAL_2=\"10\"", "")).unwrap_err().to_string();
        assert!(e.contains("attribute TOTAL_2: missing"), "{e}");
    }

    #[test]
    fn refuses_dtd_depth_truncation_and_other_roots() {
        let bomb = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]><COCHRANE_REVIEW>&lol2;</COCHRANE_REVIEW>";
        assert!(parse(bomb).unwrap_err().to_string().contains("DOCTYPE"));
        let deep = format!(
            "<COCHRANE_REVIEW>{}{}</COCHRANE_REVIEW>",
            "<a>".repeat(1000),
            "</a>".repeat(1000)
        );
        assert!(parse(&deep).unwrap_err().to_string().contains("nested more than"));
        let cut = &MINI[..MINI.len() - 40];
        assert!(parse(cut).unwrap_err().to_string().contains("XML"), "truncated");
        assert!(parse("").unwrap_err().to_string().contains("empty"));
        assert!(parse("<html/>")
            .unwrap_err()
            .to_string()
            .contains("not a RevMan 5 review"));
        assert!(parse(&MINI.replace("UTF-8", "UTF-16"))
            .unwrap_err()
            .to_string()
            .contains("UTF-16"));
    }
}
