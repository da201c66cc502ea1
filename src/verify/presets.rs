//! The presets of two-group (comparative) analyses: what metafor, meta, RevMan and Stata `metan`
//! do by default, as one table of switches ([`PRESETS`]). The comparative method search
//! ([`super::comparative`]) names the presets a matching setting reproduces; `metarepro verify
//! --presets` prints the table, and `docs/presets.md` is generated from it (a test keeps the two
//! equal).
//!
//! The values come from the tools' source as summarised in the project's reference notes
//! (`comparative.md` §3): metafor 3.8–5.1 (`escalc`, `rma`, `rma.mh`), meta 8.4 `settings.meta()`
//! and its `"meta7"`, `"meta4"` and `"RevMan5"` settings, the Cochrane Handbook, and Stata `metan`
//! 4.08's help files. A value marked **unverified** is an informed guess that no readable source
//! confirmed.

use serde::Serialize;

use crate::effect::comparative::{CcTarget, Vtype};
use crate::effect::AddTo;
use crate::model::{Method, PiType, Pooling, RdVariance, Test};

/// Where DerSimonian–Laird's Q comes from when the common-effect model is Mantel–Haenszel (or
/// Peto).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum QSource {
    /// Q of the inverse-variance common-effect model (τ² as `rma` estimates it).
    IV,
    /// Q around the M-H (or Peto) estimate with inverse-variance weights (RevMan 5; meta's
    /// `Q.Cochrane`).
    MH,
}

impl QSource {
    pub fn as_str(self) -> &'static str {
        match self {
            QSource::IV => "IV",
            QSource::MH => "MH",
        }
    }
}

impl std::str::FromStr for QSource {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.to_ascii_uppercase().replace(['-', '_'], "").as_str() {
            "IV" => Ok(QSource::IV),
            "MH" | "COCHRANE" => Ok(QSource::MH),
            _ => Err(crate::Error::Usage(format!(
                "unknown Q source \"{s}\"; expected IV or MH"
            ))),
        }
    }
}

/// A named configuration of another tool: one value per switch.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Preset {
    /// Short name, as `[method] preset` takes it.
    pub id: &'static str,
    /// The tool and version, in words.
    pub name: &'static str,
    /// Default pooling of binary outcomes.
    pub pooling: Pooling,
    /// τ² estimator of the random-effects model.
    pub method: Method,
    /// With M-H (or Peto) pooling and DL: where Q comes from.
    pub q_source: QSource,
    /// CI of the random-effects estimate: z or Hartung–Knapp.
    pub test: Test,
    /// Prediction interval (`None`: the tool prints none by default).
    pub pi: Option<PiType>,
    /// Continuity correction: the value added.
    pub cc_add: f64,
    /// Which tables get it.
    pub cc_to: AddTo,
    /// RR: which cells get it (OR always gets all four).
    pub cc_target_rr: CcTarget,
    /// RD: the correction enters the variance only, the estimate uses the raw counts.
    pub rd_cc_se_only: bool,
    /// The correction is also added inside the Mantel–Haenszel sums.
    pub cc_in_mh: bool,
    /// Double-zero tables (OR, RR) are left out.
    pub drop00: bool,
    /// Variance of the M-H risk difference.
    pub rd_variance: RdVariance,
    /// SMD: the estimator and its variance.
    pub smd: Vtype,
    /// MD: unpooled (LS) or pooled (HO) SDs in the variance.
    pub md: Vtype,
    /// Switches whose value no readable source confirmed.
    pub unverified: &'static [&'static str],
}

/// The switch names, in the order of the table's columns (after the name).
pub const SWITCHES: [&str; 14] = [
    "pooling",
    "method",
    "q_source",
    "test",
    "pi",
    "cc_add",
    "cc_to",
    "cc_target_rr",
    "rd_cc_se_only",
    "cc_in_mh",
    "drop00",
    "rd_variance",
    "smd",
    "md",
];

const HALF: f64 = 0.5;

/// The presets. Defaults of metafor are `rma`'s (binary outcomes pooled by inverse variance;
/// `rma.mh` is a separate function).
pub const PRESETS: &[Preset] = &[
    Preset {
        id: "metafor",
        name: "metafor 3.8-5.1 (rma, escalc defaults)",
        pooling: Pooling::IV,
        method: Method::REML,
        q_source: QSource::IV,
        test: Test::Z,
        pi: Some(PiType::Metafor),
        cc_add: HALF,
        cc_to: AddTo::Only0,
        cc_target_rr: CcTarget::AllCells,
        rd_cc_se_only: false,
        cc_in_mh: false,
        drop00: false,
        rd_variance: RdVariance::SGR,
        smd: Vtype::LS,
        md: Vtype::LS,
        unverified: &[],
    },
    Preset {
        id: "meta8",
        name: "meta 8.x (current)",
        pooling: Pooling::MH,
        method: Method::REML,
        q_source: QSource::MH,
        test: Test::Z,
        pi: Some(PiType::TkMinus1),
        cc_add: HALF,
        cc_to: AddTo::Only0,
        cc_target_rr: CcTarget::EventsAndN,
        rd_cc_se_only: true,
        cc_in_mh: true,
        drop00: true,
        rd_variance: RdVariance::GR,
        smd: Vtype::UB,
        md: Vtype::LS,
        unverified: &[],
    },
    Preset {
        id: "meta7",
        name: "meta 5.0-1 to 7.x",
        pooling: Pooling::MH,
        method: Method::REML,
        q_source: QSource::MH,
        test: Test::Z,
        pi: Some(PiType::TkMinus2),
        cc_add: HALF,
        cc_to: AddTo::Only0,
        cc_target_rr: CcTarget::EventsAndN,
        rd_cc_se_only: true,
        cc_in_mh: true,
        drop00: true,
        rd_variance: RdVariance::GR,
        smd: Vtype::UB,
        md: Vtype::LS,
        unverified: &[],
    },
    Preset {
        id: "meta5.0-0",
        name: "meta 5.0-0 (Q.Cochrane off even with DL)",
        pooling: Pooling::MH,
        method: Method::REML,
        q_source: QSource::IV,
        test: Test::Z,
        pi: Some(PiType::TkMinus2),
        cc_add: HALF,
        cc_to: AddTo::Only0,
        cc_target_rr: CcTarget::EventsAndN,
        rd_cc_se_only: true,
        cc_in_mh: true,
        drop00: true,
        rd_variance: RdVariance::GR,
        smd: Vtype::UB,
        md: Vtype::LS,
        unverified: &[],
    },
    Preset {
        id: "meta4",
        name: "meta 4.x and earlier",
        pooling: Pooling::MH,
        method: Method::DL,
        q_source: QSource::MH,
        test: Test::Z,
        pi: Some(PiType::TkMinus2),
        cc_add: HALF,
        cc_to: AddTo::Only0,
        cc_target_rr: CcTarget::EventsAndN,
        rd_cc_se_only: true,
        cc_in_mh: true,
        drop00: true,
        rd_variance: RdVariance::GR,
        smd: Vtype::REVMAN,
        md: Vtype::LS,
        unverified: &[],
    },
    Preset {
        id: "revman5",
        name: "RevMan 5",
        pooling: Pooling::MH,
        method: Method::DL,
        q_source: QSource::MH,
        test: Test::Z,
        pi: None,
        cc_add: HALF,
        cc_to: AddTo::Only0,
        cc_target_rr: CcTarget::AllCells,
        rd_cc_se_only: true,
        cc_in_mh: true,
        drop00: true,
        rd_variance: RdVariance::GR,
        smd: Vtype::REVMAN,
        md: Vtype::LS,
        unverified: &[],
    },
    Preset {
        id: "revman-web-reml",
        name: "RevMan Web (2025, REML)",
        pooling: Pooling::MH,
        method: Method::REML,
        q_source: QSource::IV,
        test: Test::Z,
        pi: Some(PiType::TkMinus1),
        cc_add: HALF,
        cc_to: AddTo::Only0,
        cc_target_rr: CcTarget::AllCells,
        rd_cc_se_only: true,
        cc_in_mh: true,
        drop00: true,
        rd_variance: RdVariance::GR,
        smd: Vtype::REVMAN,
        md: Vtype::LS,
        unverified: &["q_source", "pi", "cc_in_mh", "smd"],
    },
    Preset {
        id: "revman-web-hksj",
        name: "RevMan Web (2025, REML, Hartung-Knapp)",
        pooling: Pooling::MH,
        method: Method::REML,
        q_source: QSource::IV,
        test: Test::Knha,
        pi: Some(PiType::TkMinus1),
        cc_add: HALF,
        cc_to: AddTo::Only0,
        cc_target_rr: CcTarget::AllCells,
        rd_cc_se_only: true,
        cc_in_mh: true,
        drop00: true,
        rd_variance: RdVariance::GR,
        smd: Vtype::REVMAN,
        md: Vtype::LS,
        unverified: &["q_source", "pi", "cc_in_mh", "smd"],
    },
    Preset {
        id: "stata-metan4",
        name: "Stata metan 4.x",
        pooling: Pooling::MH,
        method: Method::DL,
        q_source: QSource::IV,
        test: Test::Z,
        pi: None,
        cc_add: HALF,
        cc_to: AddTo::Only0,
        cc_target_rr: CcTarget::AllCells,
        rd_cc_se_only: false,
        cc_in_mh: false,
        drop00: true,
        rd_variance: RdVariance::GR,
        smd: Vtype::COHEN,
        md: Vtype::LS,
        unverified: &["rd_cc_se_only", "smd", "md"],
    },
    Preset {
        id: "stata-metan3",
        name: "Stata metan 3.x",
        pooling: Pooling::MH,
        method: Method::DL,
        q_source: QSource::MH,
        test: Test::Z,
        pi: None,
        cc_add: HALF,
        cc_to: AddTo::Only0,
        cc_target_rr: CcTarget::AllCells,
        rd_cc_se_only: false,
        cc_in_mh: true,
        drop00: true,
        rd_variance: RdVariance::GR,
        smd: Vtype::COHEN,
        md: Vtype::LS,
        unverified: &["rd_cc_se_only", "smd", "md"],
    },
];

/// The preset with this id (case and `_`/`-` ignored).
pub fn find(id: &str) -> Option<&'static Preset> {
    let key = |s: &str| s.to_ascii_lowercase().replace('_', "-");
    PRESETS.iter().find(|p| key(p.id) == key(id))
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn target(t: CcTarget) -> &'static str {
    match t {
        CcTarget::AllCells => "all cells",
        CcTarget::EventsAndN => "events and n",
        CcTarget::TreatmentArm => "TACC",
    }
}

fn rd_var(v: RdVariance) -> &'static str {
    match v {
        RdVariance::SGR => "SGR 1989",
        RdVariance::GR => "GR 1985",
    }
}

impl Preset {
    /// The value of each switch, in [`SWITCHES`] order, as the table prints it (an unverified
    /// value is marked with `?`).
    pub fn cells(&self) -> Vec<String> {
        let vals = [
            self.pooling.as_str().to_string(),
            self.method.to_string(),
            self.q_source.as_str().to_string(),
            self.test.as_str().to_string(),
            self.pi.map(|p| p.as_str()).unwrap_or("none").to_string(),
            format!("{}", self.cc_add),
            self.cc_to.as_str().to_string(),
            target(self.cc_target_rr).to_string(),
            yes(self.rd_cc_se_only).to_string(),
            yes(self.cc_in_mh).to_string(),
            yes(self.drop00).to_string(),
            rd_var(self.rd_variance).to_string(),
            self.smd.as_str().to_string(),
            self.md.as_str().to_string(),
        ];
        SWITCHES
            .iter()
            .zip(vals)
            .map(|(name, v)| {
                if self.unverified.contains(name) {
                    format!("{v}?")
                } else {
                    v
                }
            })
            .collect()
    }
}

/// The preset table as Markdown (one row per preset, one column per switch).
pub fn markdown_table() -> String {
    let mut o = String::new();
    o.push_str("| preset | tool | ");
    o.push_str(&SWITCHES.join(" | "));
    o.push_str(" |\n|---|---|");
    o.push_str(&"---|".repeat(SWITCHES.len()));
    o.push('\n');
    for p in PRESETS {
        o.push_str(&format!("| `{}` | {} | {} |\n", p.id, p.name, p.cells().join(" | ")));
    }
    o
}

/// What each switch means, for the documentation and `verify --presets`.
pub const SWITCH_MEANINGS: [(&str, &str); 14] = [
    ("pooling", "default pooling of binary outcomes: IV (inverse variance), MH (Mantel-Haenszel), PETO"),
    ("method", "tau^2 estimator of the random-effects model"),
    ("q_source", "with M-H pooling and DL: Q around the M-H estimate (MH, RevMan's \"M-H, random\") or the inverse-variance Q (IV)"),
    ("test", "CI of the random-effects estimate: z, or knha (Hartung-Knapp-Sidik-Jonkman)"),
    ("pi", "prediction interval printed by default: metafor's (z), t with k-1 or k-2 df, or none"),
    ("cc_add", "continuity correction added to the cells"),
    ("cc_to", "which tables get it: only0 (a zero cell), if0all (all, if any has a zero), all"),
    ("cc_target_rr", "RR: the cells that get it: all four, or events and n only (meta's RR.Cochrane = FALSE)"),
    ("rd_cc_se_only", "RD: the correction enters the variance only; the estimate uses the raw counts"),
    ("cc_in_mh", "the correction is also added inside the Mantel-Haenszel sums"),
    ("drop00", "double-zero tables (OR, RR) are left out"),
    ("rd_variance", "variance of the M-H risk difference: Greenland-Robins 1985 or Sato-Greenland-Robins 1989"),
    ("smd", "SMD: LS (Hedges' g, exact J, g^2/(2N)), UB (exact J, Hedges 1983 variance), RevMan (approximate J, g^2/(2(N-3.94))), Cohen (d, no correction)"),
    ("md", "MD variance: LS (unpooled SDs) or HO (pooled SD)"),
];

/// The text of `docs/presets.md`.
pub fn document() -> String {
    let mut o = String::new();
    o.push_str("# Presets of two-group analyses\n\n");
    o.push_str(
        "Generated from `src/verify/presets.rs` (`metarepro verify --presets` prints the same table); a test \
         keeps this file equal to the table, so edit the code, not this file.\n\n",
    );
    o.push_str(
        "The comparative method search (`metarepro verify --search` on a claims file with two-group data) \
         names, beside each setting that reproduces the printed numbers, the presets that produce it. \
         A value marked `?` is unverified: no readable source confirmed it. Sources: metafor's \
         `escalc`, `rma` and `rma.mh`; meta 8.4's `settings.meta()` with its `meta7`, `meta4` and `RevMan5` \
         settings; the Cochrane Handbook 5.1 (§9.4.4, §16.9.3) and Cochrane's notes on RevMan Web's \
         random-effects methods; Stata `metan` 4.08's help files.\n\n",
    );
    o.push_str(&markdown_table());
    o.push_str("\n## The switches\n\n");
    for (k, v) in SWITCH_MEANINGS {
        o.push_str(&format!("- `{k}`: {v}.\n"));
    }
    o.push_str(
        "\nA preset's random-effects setting uses its `method`; its common-effect setting is the \
         `pooling` model (M-H or Peto), whose CI is always z-based. metafor's `rma.mh` (a separate function) \
         has no correction inside the M-H sums and the Sato-Greenland-Robins RD variance: the metafor \
         row gives those values for when M-H pooling is chosen. Continuous outcomes are always pooled \
         by inverse variance.\n",
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every preset has one value per switch, ids are unique, and `find` finds each.
    #[test]
    fn table_is_complete_and_ids_unique() {
        let mut ids: Vec<&str> = PRESETS.iter().map(|p| p.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), PRESETS.len());
        for p in PRESETS {
            assert_eq!(p.cells().len(), SWITCHES.len(), "{}", p.id);
            assert_eq!(find(&p.id.to_uppercase()).map(|q| q.id), Some(p.id));
            for u in p.unverified {
                assert!(SWITCHES.contains(u), "{}: unknown switch {u}", p.id);
            }
        }
        assert_eq!(SWITCH_MEANINGS.map(|(k, _)| k), SWITCHES);
        assert_eq!(PRESETS.len(), 10);
    }

    /// The values the reference notes give for the tools that differ most.
    #[test]
    fn values_of_the_reference_notes() {
        let revman = find("revman5").unwrap();
        assert_eq!(
            (revman.pooling, revman.method, revman.q_source),
            (Pooling::MH, Method::DL, QSource::MH)
        );
        assert!(revman.cc_in_mh && revman.drop00 && revman.rd_cc_se_only);
        assert_eq!(revman.smd, Vtype::REVMAN);
        let metan4 = find("stata-metan4").unwrap();
        assert!(!metan4.cc_in_mh);
        assert_eq!(metan4.q_source, QSource::IV);
        assert_eq!(metan4.smd, Vtype::COHEN);
        let metan3 = find("stata-metan3").unwrap();
        assert!(metan3.cc_in_mh);
        assert_eq!(metan3.q_source, QSource::MH);
        let mf = find("metafor").unwrap();
        assert_eq!(
            (mf.pooling, mf.rd_variance, mf.drop00),
            (Pooling::IV, RdVariance::SGR, false)
        );
        assert_eq!(find("meta8").unwrap().cc_target_rr, CcTarget::EventsAndN);
        assert_eq!(find("meta5.0-0").unwrap().q_source, QSource::IV);
        assert_eq!(find("revman-web-hksj").unwrap().test, Test::Knha);
        let table = markdown_table();
        assert_eq!(table.lines().count(), PRESETS.len() + 2);
        assert!(
            table.contains("| `revman-web-reml` | RevMan Web (2025, REML) | MH | REML | IV? |"),
            "{table}"
        );
    }
}
