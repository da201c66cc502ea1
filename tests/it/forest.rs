//! Figures: forest plots, subgroup summary plots and funnel plots.
//!
//! - structure of the SVG (every label and number present, squares and diamonds counted,
//!   nothing outside the canvas);
//! - the numbers printed on the plot, read back out of the SVG, against the JSON report and
//!   against R metafor's (the fixtures of `tests/fixtures/pool/`);
//! - canvas sized to content with no overlapping text from 1 to 300 studies and labels up to 60
//!   characters;
//! - PNG decodes at the expected size and resolution, text is drawn;
//! - byte stability (a consistency test), and the committed example figures in
//!   `figures/examples/` are what the code draws now (regenerate with
//!   `METAREPRO_UPDATE_FIGURES=1 cargo test --test it forest::`);
//! - the `forest`, `summary-plot` and `funnel` commands.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use metarepro::data::Studies;
use metarepro::model::{pool, PoolOptions, PoolResult};
use metarepro::plot::figure::{Figure, Role, Shape, Text};
use metarepro::plot::forest::{self, ForestOptions, Scale, Sort, Weights};
use metarepro::plot::funnel::{self, FunnelOptions};
use metarepro::plot::summary;
use metarepro::plot::table::{self, Style};
use metarepro::report::{fmt_num, fmt_p};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Data

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/pool/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn studies_of(name: &str, grouped: bool) -> Studies {
    let f = fixture(name);
    let strs = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    let nums = |v: &Value| -> Vec<f64> { v.as_array().unwrap().iter().map(|s| s.as_f64().unwrap()).collect() };
    let group = if grouped && !f["group"].is_null() {
        Some(strs(&f["group"]))
    } else {
        None
    };
    Studies::from_counts(strs(&f["study"]), nums(&f["events"]), nums(&f["total"]), group).unwrap()
}

fn pooled(name: &str, grouped: bool) -> PoolResult {
    pool(&studies_of(name, grouped), &PoolOptions::default()).unwrap()
}

/// Deterministic synthetic studies: `k` studies, labels of `label_len` characters (wide
/// letters), in `groups` subgroups (0: none).
fn synthetic(k: usize, label_len: usize, groups: usize) -> PoolResult {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D ^ (k as u64) ^ ((label_len as u64) << 20);
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut study = Vec::new();
    let mut events = Vec::new();
    let mut total = Vec::new();
    let mut group = Vec::new();
    for i in 0..k {
        let n = 5.0 + (next() % 2000) as f64;
        let x = (next() % (n as u64 + 1)) as f64;
        let mut label = format!("{i} ");
        let filler = "WMWmwQ Ødegård–Müller ";
        while label.chars().count() < label_len {
            label.push_str(filler);
        }
        let label: String = label.chars().take(label_len).collect();
        study.push(label);
        events.push(x);
        total.push(n);
        group.push(format!("Class {} {}", i % groups.max(1), "W".repeat(label_len.min(40))));
    }
    let g = if groups > 0 { Some(group) } else { None };
    let studies = Studies::from_counts(study, events, total, g).unwrap();
    pool(&studies, &PoolOptions::default()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// A small reader for the SVG that plotters writes

#[derive(Debug, Clone)]
struct El {
    name: String,
    attrs: BTreeMap<String, String>,
    text: String,
}

impl El {
    fn num(&self, k: &str) -> f64 {
        self.attrs[k].parse().unwrap()
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn parse_svg(svg: &str) -> Vec<El> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        if rest.starts_with('/') || rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let end = rest.find('>').unwrap();
        let tag = &rest[..end];
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, mut a) = tag.split_once(' ').unwrap_or((tag, ""));
        let mut attrs = BTreeMap::new();
        while let Some(eq) = a.find("=\"") {
            let key = a[..eq].trim().to_string();
            let after = &a[eq + 2..];
            let close = after.find('"').unwrap();
            attrs.insert(key, unescape(&after[..close]));
            a = &after[close + 1..];
        }
        rest = &rest[end + 1..];
        let mut text = String::new();
        if name == "text" && !self_closing {
            let close = rest.find("</text>").unwrap();
            text = unescape(rest[..close].trim());
        }
        out.push(El {
            name: name.to_string(),
            attrs,
            text,
        });
    }
    out
}

fn view_box(els: &[El]) -> (f64, f64) {
    let svg = els.iter().find(|e| e.name == "svg").unwrap();
    let v: Vec<f64> = svg.attrs["viewBox"].split(' ').map(|x| x.parse().unwrap()).collect();
    (v[2], v[3])
}

fn svg_texts(els: &[El]) -> Vec<&El> {
    els.iter().filter(|e| e.name == "text").collect()
}

fn count_fill(els: &[El], name: &str, fill: &str) -> usize {
    els.iter()
        .filter(|e| e.name == name && e.attrs.get("fill").map(|f| f.as_str()) == Some(fill))
        .count()
}

/// Every coordinate of every element lies inside the view box.
fn assert_inside_view_box(els: &[El]) {
    let (w, h) = view_box(els);
    for e in els {
        let mut pts: Vec<(f64, f64)> = Vec::new();
        match e.name.as_str() {
            "rect" => {
                let (x, y) = (e.num("x"), e.num("y"));
                pts.push((x, y));
                pts.push((x + e.num("width"), y + e.num("height")));
            }
            "line" => {
                let sw = e.num("stroke-width") / 2.0;
                for (a, b) in [("x1", "y1"), ("x2", "y2")] {
                    let (x, y) = (e.num(a), e.num(b));
                    pts.push((x - sw, y - sw));
                    pts.push((x + sw, y + sw));
                }
            }
            "polygon" | "polyline" => {
                for p in e.attrs["points"].split_whitespace() {
                    let (x, y) = p.split_once(',').unwrap();
                    pts.push((x.parse().unwrap(), y.parse().unwrap()));
                }
            }
            "circle" => {
                let r = e.num("r");
                pts.push((e.num("cx") - r, e.num("cy") - r));
                pts.push((e.num("cx") + r, e.num("cy") + r));
            }
            "text" => pts.push((e.num("x"), e.num("y"))),
            _ => {}
        }
        for (x, y) in pts {
            assert!(
                (-0.5..=w + 0.5).contains(&x) && (-0.5..=h + 0.5).contains(&y),
                "{} at ({x}, {y}) is outside the {w} x {h} view box: {:?}",
                e.name,
                e.attrs
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checks on the laid-out figure

/// Every shape inside the canvas; no two texts overlap.
fn assert_fits_without_overlap(fig: &Figure) {
    let eps = 1e-6;
    for item in &fig.items {
        let (x0, y0, x1, y1) = item.shape.bbox();
        assert!(
            x0 >= -eps && y0 >= -eps && x1 <= fig.width + eps && y1 <= fig.height + eps,
            "{:?} {:?} is outside the {} x {} canvas",
            item.role,
            item.shape,
            fig.width,
            fig.height
        );
    }
    type Boxed<'a> = ((f64, f64, f64, f64), &'a Text);
    let mut boxes: Vec<Boxed> = fig.texts().map(|(_, t)| (t.bbox(), t)).collect();
    boxes.sort_by(|a, b| a.0 .1.total_cmp(&b.0 .1));
    for i in 0..boxes.len() {
        let (a, ta) = boxes[i];
        for &(b, tb) in &boxes[i + 1..] {
            if b.1 >= a.3 - 0.5 {
                break; // sorted by top: nothing further down can overlap a
            }
            let overlap_x = a.0 < b.2 - 0.5 && b.0 < a.2 - 0.5;
            let overlap_y = a.1 < b.3 - 0.5 && b.1 < a.3 - 0.5;
            assert!(
                !(overlap_x && overlap_y),
                "texts overlap: {:?} and {:?}",
                ta.text,
                tb.text
            );
        }
    }
}

/// No table text reaches into the plot column; every mark stays in it (squares may reach half
/// their side beyond an axis end).
fn assert_plot_column_clear(res: &PoolResult, opts: &ForestOptions) {
    let t = forest::table(res, opts).unwrap();
    let (fig, g) = table::layout_with_geometry(&t);
    let (px0, px1) = g.plot_x;
    for item in &fig.items {
        let (x0, _, x1, _) = item.shape.bbox();
        match item.role {
            Role::Label | Role::Number | Role::Header | Role::Note => {
                assert!(
                    x1 <= px0 - 2.0 || x0 >= px1 + 2.0,
                    "{:?} reaches into the plot column",
                    item.shape
                )
            }
            Role::Diamond | Role::Ci | Role::PredictionBar | Role::Arrow => {
                assert!(
                    x0 >= px0 - 1.0 && x1 <= px1 + 1.0,
                    "{:?} outside the plot column",
                    item.shape
                )
            }
            Role::Square => {
                let half = (x1 - x0) / 2.0;
                assert!(x0 >= px0 - half - 1e-6 && x1 <= px1 + half + 1e-6, "{:?}", item.shape)
            }
            _ => {}
        }
    }
}

fn texts_of(fig: &Figure, role: Role) -> Vec<&Text> {
    fig.texts().filter(|(r, _)| *r == role).map(|(_, t)| t).collect()
}

// ---------------------------------------------------------------------------------------------
// SVG structure

#[test]
fn svg_has_every_label_number_square_and_diamond() {
    for (name, grouped) in [
        ("debruin2009", true),
        ("pritz1997", false),
        ("hasselblad1998", true),
        ("kearon1998", true),
    ] {
        let res = pooled(name, grouped);
        let opts = ForestOptions::default();
        let svg = forest::render_svg(&res, &opts).unwrap();
        let els = parse_svg(&svg);
        assert_inside_view_box(&els);
        let texts: Vec<String> = svg_texts(&els).iter().map(|e| e.text.clone()).collect();
        let has = |s: &str| texts.iter().any(|t| t == s);
        for s in &res.studies {
            assert!(has(&s.study), "{name}: label {:?} missing", s.study);
            for n in [
                fmt_num(s.events, 0),
                fmt_num(s.total, 0),
                fmt_num(100.0 * s.proportion, 1),
                format!("[{};", fmt_num(100.0 * s.ci_lb, 1)),
                format!("{}]", fmt_num(100.0 * s.ci_ub, 1)),
                format!("{}%", fmt_num(s.weight_overall, 1)),
            ] {
                assert!(has(&n), "{name}: number {n:?} of {:?} missing", s.study);
            }
        }
        for g in &res.subgroups {
            assert!(has(g.name.as_deref().unwrap()), "{name}: subgroup heading missing");
        }
        let st = Style::default();
        let squares = count_fill(&els, "rect", &st.square.hex());
        let diamonds = count_fill(&els, "polygon", &st.diamond_fill.hex());
        let bars = count_fill(&els, "rect", &st.prediction.hex());
        assert_eq!(squares, res.studies.len(), "{name}: one square per study");
        // Both models (common and random effects) per subgroup of more than one study and
        // overall.
        assert_eq!(
            diamonds,
            2 * res.subgroups.iter().filter(|g| g.fit.k > 1).count() + 2,
            "{name}: two diamonds per pooled subgroup and overall"
        );
        assert_eq!(bars, 1, "{name}: one prediction bar");
        for h in [
            "Study",
            "Events",
            "Total",
            "Proportion (%) [95% CI]",
            forest::weight_header(&res, Weights::Overall),
            "Proportion (%)",
        ] {
            assert!(has(h), "{name}: header {h:?} missing");
        }
        assert_eq!(
            texts.iter().filter(|t| t.starts_with("Heterogeneity:")).count(),
            res.subgroups.len() + 1
        );
        assert_eq!(
            texts
                .iter()
                .filter(|t| t.starts_with("Test for subgroup differences"))
                .count(),
            usize::from(res.subgroups.len() > 1)
        );
        // The figure and the SVG agree on counts.
        let fig = forest::figure(&res, &opts).unwrap();
        assert_eq!(fig.with_role(Role::Square).count(), squares);
        assert_eq!(fig.with_role(Role::Diamond).count(), diamonds);
        assert_eq!(svg_texts(&els).len(), fig.texts().count());
        // SVG names the bundled family.
        assert!(svg_texts(&els)
            .iter()
            .all(|e| e.attrs["font-family"].starts_with("DejaVu Sans")));
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers read back from the SVG against the JSON report

/// The number in `s` after stripping the decorations the plot adds (`[`, `;`, `]`, `%`).
fn number_in(s: &str) -> f64 {
    s.trim_matches(|c| c == '[' || c == ']' || c == ';' || c == '%')
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// Decimals printed in `s`.
fn decimals_in(s: &str) -> usize {
    let t = s.trim_matches(|c: char| !c.is_ascii_digit());
    t.split_once('.').map(|(_, d)| d.len()).unwrap_or(0)
}

/// `printed` is `value` rounded to the printed decimals, by the report's own function.
fn assert_printed(printed: &str, value: f64, what: &str) {
    let d = decimals_in(printed);
    let x = number_in(printed);
    assert!(
        (x - value).abs() <= 0.5 * 10f64.powi(-(d as i32)) + 1e-9,
        "{what}: plot shows {printed}, report has {value}"
    );
    assert_eq!(fmt_num(x, d), fmt_num(value, d), "{what}: {printed} vs {value}");
}

/// Numbers of a heterogeneity or subgroup-test line: name → printed text.
fn stats_in(line: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let body = line.split_once(": ").unwrap().1;
    for part in body.split([',', '(', ')']) {
        let part = part.trim();
        for (key, sep) in [
            ("I2", "I² = "),
            ("tau2", "τ² = "),
            ("Q", "χ² = "),
            ("df", "df = "),
            ("F", "F = "),
        ] {
            if let Some(v) = part.strip_prefix(sep) {
                m.insert(key.to_string(), v.trim_end_matches('%').to_string());
            }
        }
        if let Some(v) = part.strip_prefix("p = ") {
            m.insert("p".into(), v.to_string());
        }
        if let Some(v) = part.strip_prefix("p < ") {
            m.insert("p".into(), format!("<{v}"));
        }
    }
    m
}

fn check_stats(line: &str, fit: &Value, what: &str) {
    let m = stats_in(line);
    assert_printed(&m["I2"], fit["I2"].as_f64().unwrap(), &format!("{what} I²"));
    assert_printed(&m["tau2"], fit["tau2"].as_f64().unwrap(), &format!("{what} τ²"));
    assert_printed(&m["Q"], fit["Q"].as_f64().unwrap(), &format!("{what} Q"));
    assert_eq!(m["df"], fit["Q_df"].as_u64().unwrap().to_string(), "{what} df");
    assert_eq!(m["p"], fmt_p(fit["Q_p"].as_f64().unwrap(), 3), "{what} p");
}

/// The texts of an SVG by row (texts sharing a y), each row left to right.
fn svg_rows(svg: &str) -> Vec<Vec<String>> {
    let els = parse_svg(svg);
    let mut rows: BTreeMap<i64, Vec<&El>> = BTreeMap::new();
    for e in svg_texts(&els) {
        rows.entry(e.num("y") as i64).or_default().push(e);
    }
    rows.into_values()
        .map(|mut r| {
            r.sort_by(|a, b| a.num("x").total_cmp(&b.num("x")));
            r.iter().map(|e| e.text.clone()).collect()
        })
        .collect()
}

/// The pooled numbers a forest plot prints are R metafor's, rounded (an independent reference:
/// `tests/fixtures/pool/`, metafor 3.8.1, PLO, REML, z, add = 0.5 to studies with 0 or all
/// events, the plot's defaults): each subgroup's and the overall proportion and CI, the PI, and
/// the heterogeneity line's I², τ², Q, df and p.
#[test]
fn numbers_on_the_plot_are_metafors_rounded() {
    for (name, grouped) in [
        ("debruin2009", true),
        ("hannum2020", true),
        ("pritz1997", false),
        ("kearon1998", true),
        ("hasselblad1998", true),
    ] {
        let fx = fixture(name);
        let case = fx["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["measure"] == "PLO"
                    && c["method"] == "REML"
                    && c["test"] == "z"
                    && c["add"] == 0.5
                    && c["to"] == "only0"
            })
            .expect("metafor's PLO REML z fit");
        let rows = svg_rows(&forest::render_svg(&pooled(name, grouped), &ForestOptions::default()).unwrap());
        // Subgroups in metafor's order (sorted levels, as ours), then overall.
        let mut fits: Vec<&Value> = case["subgroups"].as_array().unwrap().iter().collect();
        fits.push(&case["overall"]);
        let pooled_rows: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "Random effects model").collect();
        assert_eq!(pooled_rows.len(), fits.len(), "{name}: pooled rows");
        let v = |x: &Value| x.as_f64().expect("metafor value");
        for (row, fit) in pooled_rows.iter().zip(&fits) {
            let p = &fit["proportion"];
            let what = format!("{name} {}", fit["name"].as_str().unwrap_or("overall"));
            assert_printed(&row[3], 100.0 * v(&p["estimate"]), &what);
            assert_printed(&row[4], 100.0 * v(&p["ci_lb"]), &what);
            assert_printed(&row[5], 100.0 * v(&p["ci_ub"]), &what);
        }
        // The common effect model's row: metafor's EE fit.
        let ee = fx["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["measure"] == "PLO"
                    && c["method"] == "EE"
                    && c["test"] == "z"
                    && c["add"] == 0.5
                    && c["to"] == "only0"
            })
            .expect("metafor's PLO EE z fit");
        // One per subgroup (metafor's EE fit of the subgroup's studies), then all studies'.
        let mut ee_fits: Vec<&Value> = ee["subgroups"].as_array().unwrap().iter().collect();
        ee_fits.push(&ee["overall"]);
        let crows: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "Common effect model").collect();
        assert_eq!(crows.len(), ee_fits.len(), "{name}: common effect rows");
        for (crow, fit) in crows.iter().zip(&ee_fits) {
            let cp = &fit["proportion"];
            let what = format!("{name} common {}", fit["name"].as_str().unwrap_or("overall"));
            assert_printed(&crow[3], 100.0 * v(&cp["estimate"]), &what);
            assert_printed(&crow[4], 100.0 * v(&cp["ci_lb"]), &what);
            assert_printed(&crow[5], 100.0 * v(&cp["ci_ub"]), &what);
        }
        let pi = rows.iter().find(|r| r[0] == "Prediction interval").unwrap();
        let op = &case["overall"]["proportion"];
        assert_printed(&pi[1], 100.0 * v(&op["pi_lb"]), name);
        assert_printed(&pi[2], 100.0 * v(&op["pi_ub"]), name);
        let het: Vec<&String> = rows
            .iter()
            .flatten()
            .filter(|t| t.starts_with("Heterogeneity:"))
            .collect();
        assert_eq!(het.len(), fits.len(), "{name}: heterogeneity lines");
        for (line, fit) in het.iter().zip(&fits) {
            check_stats(line, fit, &format!("{name} (metafor)"));
        }
        if let Some(line) = rows
            .iter()
            .flatten()
            .find(|t| t.starts_with("Test for subgroup differences"))
        {
            let t = &case["subgroup_test"];
            let m = stats_in(line);
            assert_printed(&m["Q"], v(&t["Q"]), name);
            assert_eq!(m["df"], t["df"].as_u64().unwrap().to_string());
            assert_eq!(m["p"], fmt_p(v(&t["p"]), 3));
        } else {
            assert!(!grouped, "{name}: no test for subgroup differences");
        }
    }
}

#[test]
fn numbers_on_the_plot_are_the_json_report_rounded() {
    for (name, grouped) in [
        ("debruin2009", true),
        ("hannum2020", true),
        ("pritz1997", false),
        ("kearon1998", true),
    ] {
        let res = pooled(name, grouped);
        let json: Value = serde_json::from_str(&metarepro::report::json::to_json(&res)).unwrap();
        let rows = svg_rows(&forest::render_svg(&res, &ForestOptions::default()).unwrap());
        // Studies, by label (labels are unique in these datasets).
        let jstudies = json["studies"].as_array().unwrap();
        let mut seen = 0;
        for js in jstudies {
            let label = js["study"].as_str().unwrap();
            let row = rows
                .iter()
                .find(|r| r[0] == label)
                .unwrap_or_else(|| panic!("{name}: no row {label}"));
            assert_eq!(row.len(), 7, "{name}: {row:?}");
            assert_eq!(number_in(&row[1]), js["events"].as_f64().unwrap());
            assert_eq!(number_in(&row[2]), js["total"].as_f64().unwrap());
            let what = format!("{name} {label}");
            assert_printed(&row[3], 100.0 * js["proportion"].as_f64().unwrap(), &what);
            assert_printed(&row[4], 100.0 * js["ci_lb"].as_f64().unwrap(), &what);
            assert_printed(&row[5], 100.0 * js["ci_ub"].as_f64().unwrap(), &what);
            assert_printed(&row[6], js["weight_overall"].as_f64().unwrap(), &what);
            seen += 1;
        }
        assert_eq!(seen, res.studies.len());
        // Pooled rows, in order: each subgroup, then overall.
        let pooled_rows: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "Random effects model").collect();
        let mut fits: Vec<&Value> = json["subgroups"].as_array().unwrap().iter().collect();
        fits.push(&json["overall"]);
        assert_eq!(pooled_rows.len(), fits.len(), "{name}");
        for (row, fit) in pooled_rows.iter().zip(&fits) {
            let p = &fit["proportion"];
            assert_printed(&row[1], fit["events"].as_f64().unwrap(), name);
            assert_printed(&row[2], fit["total"].as_f64().unwrap(), name);
            assert_printed(&row[3], 100.0 * p["estimate"].as_f64().unwrap(), name);
            assert_printed(&row[4], 100.0 * p["ci_lb"].as_f64().unwrap(), name);
            assert_printed(&row[5], 100.0 * p["ci_ub"].as_f64().unwrap(), name);
        }
        // Subgroup weights are the sums of their studies' overall weights.
        for (row, g) in pooled_rows.iter().zip(json["subgroups"].as_array().unwrap()) {
            let w: f64 = jstudies
                .iter()
                .filter(|s| s["group"] == g["name"])
                .map(|s| s["weight_overall"].as_f64().unwrap())
                .sum();
            assert_printed(&row[6], w, name);
        }
        // The common effect model's rows, each right above its random effects row, per subgroup
        // and overall (issue 18: both models, as meta draws them), without a weight.
        let at: Vec<usize> = (0..rows.len())
            .filter(|&i| rows[i][0] == "Common effect model")
            .collect();
        let commons: Vec<&Value> = json["subgroups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| &g["common"])
            .chain([&json["common"]])
            .collect();
        assert_eq!(at.len(), commons.len(), "{name}: common effect rows");
        for (&i, c) in at.iter().zip(&commons) {
            assert!(rows[i + 1][0] == "Random effects model", "{name}: {:?}", rows[i + 1]);
            assert_eq!(rows[i].len(), 6, "{name}: a common row has no weight: {:?}", rows[i]);
            let cp = &c["proportion"];
            assert_printed(&rows[i][1], c["events"].as_f64().unwrap(), name);
            assert_printed(&rows[i][3], 100.0 * cp["estimate"].as_f64().unwrap(), name);
            assert_printed(&rows[i][4], 100.0 * cp["ci_lb"].as_f64().unwrap(), name);
            assert_printed(&rows[i][5], 100.0 * cp["ci_ub"].as_f64().unwrap(), name);
        }
        // Prediction interval.
        let pi = rows.iter().find(|r| r[0] == "Prediction interval").unwrap();
        let op = &json["overall"]["proportion"];
        assert_printed(&pi[1], 100.0 * op["pi_lb"].as_f64().unwrap(), name);
        assert_printed(&pi[2], 100.0 * op["pi_ub"].as_f64().unwrap(), name);
        // Heterogeneity lines: subgroups in order, then overall.
        let het: Vec<&String> = rows
            .iter()
            .flatten()
            .filter(|t| t.starts_with("Heterogeneity:"))
            .collect();
        assert_eq!(het.len(), fits.len());
        for (line, fit) in het.iter().zip(&fits) {
            check_stats(line, fit, name);
        }
        // Test for subgroup differences.
        if let Some(line) = rows
            .iter()
            .flatten()
            .find(|t| t.starts_with("Test for subgroup differences"))
        {
            let t = &json["subgroup_test"];
            let m = stats_in(line);
            assert_printed(&m["Q"], t["Q"].as_f64().unwrap(), name);
            assert_eq!(m["df"], t["df"].as_u64().unwrap().to_string());
            assert_eq!(m["p"], fmt_p(t["p"].as_f64().unwrap(), 3));
        } else {
            assert!(json["subgroup_test"].is_null());
        }
    }
}

#[test]
fn proportion_scale_and_digits() {
    let res = pooled("debruin2009", false);
    let opts = ForestOptions {
        scale: Scale::Proportion,
        ..ForestOptions::default()
    };
    let fig = forest::figure(&res, &opts).unwrap();
    let numbers: Vec<&str> = texts_of(&fig, Role::Number).iter().map(|t| t.text.as_str()).collect();
    let s = &res.studies[0];
    assert!(numbers.contains(&fmt_num(s.proportion, 3).as_str()));
    assert!(numbers.contains(&format!("[{};", fmt_num(s.ci_lb, 3)).as_str()));
    let headers: Vec<&str> = texts_of(&fig, Role::Header).iter().map(|t| t.text.as_str()).collect();
    assert!(headers.contains(&"Proportion [95% CI]"));
    let mut opts = ForestOptions::default();
    opts.digits.proportion = Some(2);
    let fig = forest::figure(&res, &opts).unwrap();
    let numbers: Vec<&str> = texts_of(&fig, Role::Number).iter().map(|t| t.text.as_str()).collect();
    assert!(numbers.contains(&fmt_num(100.0 * s.proportion, 2).as_str()));
    // A 90% analysis says so in the header.
    let res90 = pool(
        &studies_of("debruin2009", false),
        &PoolOptions {
            level: 0.9,
            ..PoolOptions::default()
        },
    )
    .unwrap();
    let fig = forest::figure(&res90, &ForestOptions::default()).unwrap();
    assert!(texts_of(&fig, Role::Header)
        .iter()
        .any(|t| t.text == "Proportion (%) [90% CI]"));
}

// ---------------------------------------------------------------------------------------------
// Canvas sized to content, no clipping or overlap

#[test]
fn canvas_fits_content_from_1_to_300_studies() {
    let mut heights = Vec::new();
    for &k in &[1usize, 2, 3, 12, 60, 300] {
        for &len in &[1usize, 12, 60] {
            for &groups in &[0usize, 3] {
                if groups > 0 && k < 3 {
                    continue;
                }
                let res = synthetic(k, len, groups);
                let opts = ForestOptions::default();
                let fig = forest::figure(&res, &opts).unwrap();
                assert_fits_without_overlap(&fig);
                assert_plot_column_clear(&res, &opts);
                if len == 60 && (k == 12 || k == 300) {
                    assert_inside_view_box(&parse_svg(&fig.to_svg()));
                }
                if len == 12 && groups == 0 {
                    heights.push((k, fig.height));
                }
                let sfig = summary::figure(&res, &opts).unwrap();
                assert_fits_without_overlap(&sfig);
            }
        }
    }
    // Height follows the number of rows: one row per study.
    let row = Style::default().row;
    for w in heights.windows(2) {
        let ((k0, h0), (k1, h1)) = (w[0], w[1]);
        // One row per study; k = 1 has no heterogeneity line and no prediction interval.
        assert!(
            ((h1 - h0) - (k1 - k0) as f64 * row).abs() <= 2.0 * row + 1.0,
            "height {h0} for {k0} studies, {h1} for {k1}"
        );
    }
    // Width follows the longest label (once labels are wider than the notes under the table).
    let longest = |fig: &Figure| {
        texts_of(fig, Role::Label)
            .iter()
            .filter(|t| !t.bold)
            .map(|t| t.width())
            .fold(0.0f64, f64::max)
    };
    let mid = forest::figure(&synthetic(12, 40, 0), &ForestOptions::default()).unwrap();
    let long = forest::figure(&synthetic(12, 60, 0), &ForestOptions::default()).unwrap();
    let grow = long.width - mid.width;
    let expected = longest(&long) - longest(&mid);
    assert!(
        grow > 50.0 && (grow - expected).abs() <= 1.0,
        "grew {grow}, labels grew {expected}"
    );
}

#[test]
fn options_titles_limits_reference_and_long_texts_fit() {
    let res = pooled("hasselblad1998", true);
    let opts = ForestOptions {
        title: Some(
            "A very long title that is wider than the table itself, to check that the canvas grows with it".into(),
        ),
        xlab: Some("Quit rate at 12 months (%)".into()),
        reference: Some(0.5),
        xlim: Some((0.05, 0.3)),
        subgroup_prediction: true,
        sort: Sort::Estimate,
        ..ForestOptions::default()
    };
    let fig = forest::figure(&res, &opts).unwrap();
    assert_fits_without_overlap(&fig);
    assert_plot_column_clear(&res, &opts);
    // The reference at 50% is outside 5–30%: not drawn; intervals beyond the limits get arrows.
    assert_eq!(fig.with_role(Role::ReferenceLine).count(), 0);
    assert!(fig.with_role(Role::Arrow).count() > 0);
    // Studies whose estimate is outside the limits have no square.
    let inside = res
        .studies
        .iter()
        .filter(|s| s.proportion >= 0.05 && s.proportion <= 0.3)
        .count();
    assert_eq!(fig.with_role(Role::Square).count(), inside);
    assert_eq!(fig.with_role(Role::PredictionBar).count(), res.subgroups.len() + 1);
    let ticks: Vec<&str> = texts_of(&fig, Role::TickLabel)
        .iter()
        .map(|t| t.text.as_str())
        .collect();
    assert_eq!(ticks.first(), Some(&"5"));
    assert_eq!(ticks.last(), Some(&"30"));
    let opts = ForestOptions {
        reference: Some(0.2),
        pooled_line: false,
        prediction: false,
        ..ForestOptions::default()
    };
    let fig = forest::figure(&res, &opts).unwrap();
    assert_eq!(fig.with_role(Role::ReferenceLine).count(), 1);
    assert_eq!(fig.with_role(Role::PooledLine).count(), 0);
    assert_eq!(fig.with_role(Role::PredictionBar).count(), 0);
}

#[test]
fn axis_ticks_are_round_and_cover_every_interval() {
    for (name, grouped) in [
        ("debruin2009", true),
        ("pritz1997", false),
        ("hasselblad1998", true),
        ("hannum2020", true),
    ] {
        let res = pooled(name, grouped);
        let t = forest::table(&res, &ForestOptions::default()).unwrap();
        let a = &t.axis;
        for s in &res.studies {
            assert!(100.0 * s.ci_lb >= a.lo - 1e-9 && 100.0 * s.ci_ub <= a.hi + 1e-9);
        }
        assert!(a.ticks.len() >= 3 && a.ticks.len() <= 11, "{name}: {:?}", a.ticks);
        assert_eq!(a.ticks.first().unwrap().value, a.lo);
        assert_eq!(a.ticks.last().unwrap().value, a.hi);
        let step = a.ticks[1].value - a.ticks[0].value;
        assert!(
            [1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 25.0]
                .iter()
                .any(|s| (s - step).abs() < 1e-9),
            "{name}: step {step}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Sorting

fn label_order(fig: &Figure, res: &PoolResult) -> Vec<usize> {
    let mut labels: Vec<&Text> = texts_of(fig, Role::Label);
    labels.sort_by(|a, b| a.baseline.total_cmp(&b.baseline));
    labels
        .iter()
        .filter_map(|t| res.studies.iter().position(|s| s.study == t.text))
        .collect()
}

#[test]
fn sort_by_estimate_weight_year_or_input() {
    let res = pooled("pritz1997", false);
    let by = |sort: Sort, years: Option<Vec<Option<f64>>>| {
        let fig = forest::figure(
            &res,
            &ForestOptions {
                sort,
                years,
                ..ForestOptions::default()
            },
        )
        .unwrap();
        label_order(&fig, &res)
    };
    assert_eq!(by(Sort::None, None), (0..res.studies.len()).collect::<Vec<_>>());
    let est = by(Sort::Estimate, None);
    assert!(est
        .windows(2)
        .all(|w| res.studies[w[0]].proportion <= res.studies[w[1]].proportion));
    let wt = by(Sort::Weight, None);
    assert!(wt
        .windows(2)
        .all(|w| res.studies[w[0]].weight_overall >= res.studies[w[1]].weight_overall));
    let years: Vec<Option<f64>> = (0..res.studies.len())
        .map(|i| if i == 2 { None } else { Some(2000.0 - (i % 5) as f64) })
        .collect();
    let yr = by(Sort::Year, Some(years.clone()));
    assert_eq!(*yr.last().unwrap(), 2, "a study without a year comes last");
    assert!(yr[..yr.len() - 1].windows(2).all(|w| years[w[0]] <= years[w[1]]));
    // Sorting by year without years is a usage error.
    assert!(forest::figure(
        &res,
        &ForestOptions {
            sort: Sort::Year,
            ..ForestOptions::default()
        }
    )
    .is_err());
    // Within subgroups: the heading stays first, the studies are sorted under it.
    let res = pooled("debruin2009", true);
    let fig = forest::figure(
        &res,
        &ForestOptions {
            sort: Sort::Estimate,
            weights: Weights::Subgroup,
            ..ForestOptions::default()
        },
    )
    .unwrap();
    let order = label_order(&fig, &res);
    for g in &res.subgroups {
        let block: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| res.studies[i].group == g.name)
            .collect();
        assert!(block
            .windows(2)
            .all(|w| res.studies[w[0]].proportion <= res.studies[w[1]].proportion));
    }
    // Subgroup weights: each subgroup's pooled row shows 100%.
    let numbers: Vec<&str> = texts_of(&fig, Role::Number).iter().map(|t| t.text.as_str()).collect();
    assert_eq!(numbers.iter().filter(|t| **t == "100.0%").count(), res.subgroups.len());
}

// ---------------------------------------------------------------------------------------------
// PNG

fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>, Option<png::PixelDimensions>, png::ColorType) {
    let dec = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let dims = reader.info().pixel_dims;
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf, dims, info.color_type)
}

#[test]
fn png_decodes_at_the_expected_size_with_text_drawn() {
    let res = pooled("debruin2009", true);
    let fig = forest::figure(&res, &ForestOptions::default()).unwrap();
    for dpi in [96.0, 300.0, 150.0] {
        let png = fig.to_png(dpi).unwrap();
        let (w, h, pixels, dims, color) = decode_png(&png);
        assert_eq!((w, h), fig.png_size(dpi));
        assert_eq!(w, (fig.width * dpi / 96.0).round() as u32);
        assert_eq!(h, (fig.height * dpi / 96.0).round() as u32);
        let dims = dims.unwrap();
        assert_eq!(dims.unit, png::Unit::Meter);
        assert_eq!(dims.xppu, (dpi / 0.0254).round() as u32);
        // Greyscale figure: encoded as one channel.
        assert_eq!(color, png::ColorType::Grayscale);
        // Text is drawn: dark pixels inside the box of a study label, none outside the canvas.
        let s = dpi / 96.0;
        let label = texts_of(&fig, Role::Label)
            .into_iter()
            .find(|t| t.text == res.studies[0].study)
            .unwrap();
        let (x0, y0, x1, y1) = label.bbox();
        let mut dark = 0;
        for y in (y0 * s) as u32..(y1 * s) as u32 {
            for x in (x0 * s) as u32..(x1 * s) as u32 {
                if pixels[(y * w + x) as usize] < 100 {
                    dark += 1;
                }
            }
        }
        let area = (x1 - x0) * (y1 - y0) * s * s;
        assert!(
            dark as f64 > 0.05 * area && (dark as f64) < 0.6 * area,
            "{dark} dark pixels of {area}"
        );
        // The margins stay white.
        let m = (Style::default().margin * s * 0.5) as u32;
        for y in 0..h {
            for x in (0..m).chain(w - m..w) {
                assert_eq!(pixels[(y * w + x) as usize], 255, "pixel ({x}, {y}) in the margin");
            }
        }
    }
    assert!(fig.to_png(5.0).is_err());
}

// ---------------------------------------------------------------------------------------------
// Determinism and the committed example figures

/// A consistency test, not a correctness test: the same input rendered twice in one process
/// gives the same bytes (SVG and PNG, forest and funnel), also from a fresh pool of the same data.
/// What the bytes should be is checked against independent references elsewhere: the committed
/// figures of `figures/examples/` drawn by earlier builds ([`example_figures_are_what_the_code_draws`]),
/// and the numbers drawn against R metafor ([`numbers_on_the_plot_are_metafors_rounded`]).
#[test]
fn byte_identical_across_runs_consistency() {
    let res = pooled("hasselblad1998", true);
    let opts = ForestOptions {
        dpi: 96.0,
        ..ForestOptions::default()
    };
    assert_eq!(
        forest::render_svg(&res, &opts).unwrap(),
        forest::render_svg(&res, &opts).unwrap()
    );
    assert_eq!(
        forest::render_png(&res, &opts).unwrap(),
        forest::render_png(&res, &opts).unwrap()
    );
    // A fresh pool of the same data gives the same bytes too.
    let res2 = pooled("hasselblad1998", true);
    assert_eq!(
        forest::render_svg(&res, &opts).unwrap(),
        forest::render_svg(&res2, &opts).unwrap()
    );
    let f = FunnelOptions {
        dpi: 96.0,
        ..FunnelOptions::default()
    };
    assert_eq!(
        funnel::render_png(&res, &f).unwrap(),
        funnel::render_png(&res2, &f).unwrap()
    );
}

/// The example figures committed in `figures/examples/`, and how to draw them.
/// Name, how to draw it, PNG resolution.
type Example = (&'static str, Box<dyn Fn() -> Figure>, f64);

fn examples() -> Vec<Example> {
    vec![
        (
            "debruin2009_forest",
            Box::new(|| {
                forest::figure(
                    &pooled("debruin2009", true),
                    &ForestOptions {
                        title: Some("Adherence to HAART by ethnicity (de Bruin et al. 2009)".into()),
                        ..ForestOptions::default()
                    },
                )
                .unwrap()
            }),
            300.0,
        ),
        (
            "hasselblad1998_forest",
            Box::new(|| {
                forest::figure(
                    &pooled("hasselblad1998", true),
                    &ForestOptions {
                        title: Some("Smoking cessation by intervention (Hasselblad 1998)".into()),
                        ..ForestOptions::default()
                    },
                )
                .unwrap()
            }),
            150.0,
        ),
        (
            "hasselblad1998_summary",
            Box::new(|| summary::figure(&pooled("hasselblad1998", true), &ForestOptions::default()).unwrap()),
            300.0,
        ),
        (
            "hasselblad1998_funnel",
            Box::new(|| funnel::figure(&pooled("hasselblad1998", true), &FunnelOptions::default()).unwrap()),
            300.0,
        ),
        (
            "pritz1997_forest",
            Box::new(|| {
                forest::figure(
                    &pooled("pritz1997", false),
                    &ForestOptions {
                        sort: Sort::Estimate,
                        ..ForestOptions::default()
                    },
                )
                .unwrap()
            }),
            300.0,
        ),
    ]
}

#[test]
fn example_figures_are_what_the_code_draws() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("figures/examples");
    let update = std::env::var_os("METAREPRO_UPDATE_FIGURES").is_some();
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }
    for (name, draw, dpi) in examples() {
        let fig = draw();
        assert_fits_without_overlap(&fig);
        for (ext, bytes) in [("svg", fig.to_svg().into_bytes()), ("png", fig.to_png(dpi).unwrap())] {
            let path = dir.join(format!("{name}.{ext}"));
            if update {
                metarepro::report::write_atomic(&path, &bytes).unwrap();
            } else {
                let old = std::fs::read(&path).unwrap_or_else(|_| panic!("{} is missing", path.display()));
                assert!(
                    old == bytes,
                    "{} differs from what the code draws now; if the change is intended, regenerate with \
                     METAREPRO_UPDATE_FIGURES=1 cargo test --test it forest::example_figures",
                    path.display()
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Summary and funnel plots

#[test]
fn summary_plot_has_one_diamond_per_subgroup() {
    let res = pooled("hasselblad1998", true);
    let svg = summary::render_svg(&res, &ForestOptions::default()).unwrap();
    let els = parse_svg(&svg);
    assert_inside_view_box(&els);
    let st = Style::default();
    assert_eq!(
        count_fill(&els, "polygon", &st.diamond_fill.hex()),
        res.subgroups.len() + 1
    );
    assert_eq!(count_fill(&els, "rect", &st.square.hex()), 0);
    let texts: Vec<String> = svg_texts(&els).iter().map(|e| e.text.clone()).collect();
    for g in &res.subgroups {
        assert!(texts.contains(g.name.as_ref().unwrap()));
        assert!(texts.contains(&fmt_num(100.0 * g.effect.estimate, 1)));
        assert!(texts.contains(&format!("{}%", fmt_num(g.fit.i2, 1))));
        assert!(texts.contains(&g.fit.k.to_string()));
    }
    assert!(texts.iter().any(|t| t.starts_with("Test for subgroup differences")));
    // The model, scale and level, as in the forest plot.
    assert!(
        texts.contains(
            &"Random effects, REML; logit scale; z-test; 95% CI (studies: Clopper\u{2013}Pearson)".to_string()
        ),
        "{texts:?}"
    );
    let fig = summary::figure(&res, &ForestOptions::default()).unwrap();
    assert_fits_without_overlap(&fig);
}

#[test]
fn funnel_plot_has_every_study_and_the_region() {
    for (name, measure) in [
        ("hasselblad1998", "PLO"),
        ("pritz1997", "PFT"),
        ("debruin2009", "PR"),
        ("kearon1998", "PAS"),
        ("hannum2020", "PLN"),
    ] {
        let options = PoolOptions {
            measure: measure.parse().unwrap(),
            ..PoolOptions::default()
        };
        let res = pool(&studies_of(name, false), &options).unwrap();
        let fig = funnel::figure(&res, &FunnelOptions::default()).unwrap();
        assert_fits_without_overlap(&fig);
        assert_eq!(fig.with_role(Role::Point).count(), res.studies.len(), "{name}");
        assert_eq!(fig.with_role(Role::Region).count(), 1);
        let ticks = texts_of(&fig, Role::TickLabel);
        assert!(
            ticks.len() >= 6,
            "{name} {measure}: {:?}",
            ticks.iter().map(|t| &t.text).collect::<Vec<_>>()
        );
        // Every point lies in the plot area, at its yi and SE.
        for s in fig.with_role(Role::Point) {
            let Shape::Circle { cx, cy, .. } = s else { panic!() };
            assert!(*cx > 0.0 && *cx < fig.width && *cy > 0.0 && *cy < fig.height);
        }
        let els = parse_svg(&fig.to_svg());
        assert_inside_view_box(&els);
        assert_eq!(els.iter().filter(|e| e.name == "circle").count(), res.studies.len());
        let (w, h, _, _, _) = decode_png(&fig.to_png(96.0).unwrap());
        assert_eq!((w, h), fig.png_size(96.0));
    }
}

// ---------------------------------------------------------------------------------------------
// Command line

fn write_csv(dir: &Path) -> PathBuf {
    let f = fixture("debruin2009");
    let mut s = String::from("study,year,events,total,ethnicity\n");
    let arr = |k: &str| f[k].as_array().unwrap().clone();
    for (i, ((st, e), (t, g))) in arr("study")
        .iter()
        .zip(arr("events"))
        .zip(arr("total").iter().zip(arr("group")))
        .enumerate()
    {
        s.push_str(&format!(
            "\"{}\",{},{},{},{}\n",
            st.as_str().unwrap(),
            2010 - (i % 4),
            e,
            t,
            g.as_str().unwrap()
        ));
    }
    let p = dir.join("debruin.csv");
    std::fs::write(&p, s).unwrap();
    p
}

fn metarepro() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("metarepro").unwrap()
}

#[test]
fn cli_forest_writes_svg_and_png_matching_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(dir.path());
    let svg = dir.path().join("f.svg");
    let png = dir.path().join("f.png");
    metarepro()
        .arg("forest")
        .arg(&csv)
        .args(["--by", "ethnicity", "--sort", "year", "--dpi", "96", "--ref", "50"])
        .arg("--out")
        .arg(&svg)
        .arg("--out")
        .arg(&png)
        .assert()
        .success();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg "));
    let (w, h, _, dims, _) = decode_png(&std::fs::read(&png).unwrap());
    assert_eq!(dims.unwrap().xppu, (96.0f64 / 0.0254).round() as u32);
    // The same figure from the library.
    let studies = metarepro::data::load(
        &csv,
        &metarepro::data::LoadOptions {
            by: Some("ethnicity".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let res = pool(&studies, &PoolOptions::default()).unwrap();
    let opts = ForestOptions {
        sort: Sort::Year,
        years: Some(metarepro::plot::years_from_frame(&studies, "year").unwrap()),
        reference: Some(0.5),
        dpi: 96.0,
        ..ForestOptions::default()
    };
    assert_eq!(forest::render_svg(&res, &opts).unwrap(), text);
    let fig = forest::figure(&res, &opts).unwrap();
    assert_eq!((w, h), fig.png_size(96.0));
    assert_eq!(fig.with_role(Role::ReferenceLine).count(), 1);

    // Summary and funnel commands.
    let s = dir.path().join("s.svg");
    metarepro()
        .arg("summary-plot")
        .arg(&csv)
        .args(["--by", "ethnicity", "--out"])
        .arg(&s)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(&s).unwrap(),
        summary::render_svg(&res, &ForestOptions::default()).unwrap()
    );
    let fpng = dir.path().join("funnel.png");
    metarepro()
        .arg("funnel")
        .arg(&csv)
        .args(["--dpi", "96", "--out"])
        .arg(&fpng)
        .assert()
        .success();
    assert!(std::fs::metadata(&fpng).unwrap().len() > 1000);
}

#[test]
fn cli_forest_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(dir.path());
    let out = dir.path().join("f.pdf");
    let a = metarepro()
        .arg("forest")
        .arg(&csv)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    assert_stderr_has(&a, ".svg or .png");
    assert!(!out.exists());
    // --sort year with neither --year nor a "year" column.
    let no_year = dir.path().join("noyear.csv");
    std::fs::write(&no_year, "study,events,total\nA,1,10\nB,3,12\n").unwrap();
    let svg = dir.path().join("x.svg");
    let a = metarepro()
        .arg("forest")
        .arg(&no_year)
        .args(["--sort", "year", "--out"])
        .arg(&svg)
        .assert()
        .code(3);
    assert_stderr_has(&a, "year");
    assert!(!svg.exists());
    for bad in [
        ["--scale", "logit"],
        ["--sort", "author"],
        ["--xlim", "60,10"],
        ["--ref", "150"],
        ["--dpi", "0"],
    ] {
        metarepro()
            .arg("forest")
            .arg(&csv)
            .args(bad)
            .arg("--out")
            .arg(&svg)
            .assert()
            .code(2);
        assert!(!svg.exists(), "{bad:?}");
    }
    // --out is required; the input file is never overwritten.
    metarepro().arg("forest").arg(&csv).assert().code(2);
    let csv_as_svg = dir.path().join("data.svg");
    std::fs::copy(&csv, &csv_as_svg).unwrap();
    metarepro()
        .arg("forest")
        .arg(&csv_as_svg)
        .arg("--out")
        .arg(&csv_as_svg)
        .assert()
        .code(2);
}

fn assert_stderr_has(a: &assert_cmd::assert::Assert, s: &str) {
    let err = String::from_utf8_lossy(&a.get_output().stderr);
    assert!(err.contains(s), "stderr {err:?} lacks {s:?}");
}

#[test]
fn glmm_forest_has_no_weight_column() {
    // A GLMM gives no study weights: no "NA%" cells, no Weight header, squares of one size;
    // the inverse-variance fit of the same studies keeps its weights.
    for (name, grouped) in [("pritz1997", false), ("debruin2009", true)] {
        let st = studies_of(name, grouped);
        let glmm = pool(
            &st,
            &PoolOptions {
                method: metarepro::model::Method::GLMM,
                ..PoolOptions::default()
            },
        )
        .unwrap();
        let texts = |res: &PoolResult| -> Vec<String> {
            let svg = forest::render_svg(res, &ForestOptions::default()).unwrap();
            svg_texts(&parse_svg(&svg)).iter().map(|e| e.text.clone()).collect()
        };
        let t = texts(&glmm);
        let weight_cell = |s: &str| s == "NA%" || s.strip_suffix('%').is_some_and(|n| n.parse::<f64>().is_ok());
        assert!(
            !t.iter().any(|s| weight_cell(s) || s.starts_with("Weight")),
            "{name}: {t:?}"
        );
        let fig = forest::figure(&glmm, &ForestOptions::default()).unwrap();
        let square = Style::default().square;
        let sizes: Vec<f64> = fig
            .items
            .iter()
            .filter_map(|i| match &i.shape {
                Shape::Rect { x0, x1, fill, .. } if *fill == square => Some(x1 - x0),
                _ => None,
            })
            .collect();
        assert_eq!(sizes.len(), st.k(), "{name}: one square per study");
        assert!(
            sizes.windows(2).all(|p| (p[0] - p[1]).abs() < 1e-9),
            "{name}: one square size"
        );
        let t = texts(&pooled(name, grouped));
        assert!(
            t.iter().any(|s| s.starts_with("Weight")) && t.iter().any(|s| weight_cell(s)),
            "{name}: {t:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Two-group forest plots (plot::comparative)

const BCG: &[(&str, [f64; 4])] = &[
    ("Aronson 1948", [4.0, 119.0, 11.0, 128.0]),
    ("Ferguson & Simes 1949", [6.0, 300.0, 29.0, 274.0]),
    ("Rosenthal et al 1960", [3.0, 228.0, 11.0, 209.0]),
    ("Hart & Sutherland 1977", [62.0, 13536.0, 248.0, 12619.0]),
    ("Frimodt-Moller et al 1973", [33.0, 5036.0, 47.0, 5761.0]),
    ("Stein & Aronson 1953", [180.0, 1361.0, 372.0, 1079.0]),
    ("Vandiviere et al 1973", [8.0, 2537.0, 10.0, 619.0]),
    ("TPT Madras 1980", [505.0, 87886.0, 499.0, 87892.0]),
    ("Coetzee & Berjak 1968", [29.0, 7470.0, 45.0, 7232.0]),
    ("Rosenthal et al 1961", [17.0, 1699.0, 65.0, 1600.0]),
    ("Comstock et al 1974", [186.0, 50448.0, 141.0, 27197.0]),
    ("Comstock & Webster 1969", [5.0, 2493.0, 3.0, 2338.0]),
    ("Comstock et al 1976", [27.0, 16886.0, 29.0, 17825.0]),
];

/// dat.bcg as 2×2 tables plus a double-zero study (given no effect size with `drop00`), and
/// with `printed` a study given only as a printed OR with its CI (which M-H sums refuse).
fn bcg_two_group(options: &PoolOptions, printed: bool) -> PoolResult {
    use metarepro::data::StudyInput;
    let mut study: Vec<String> = BCG.iter().map(|(s, _)| s.to_string()).collect();
    let mut inputs: Vec<StudyInput> = BCG
        .iter()
        .map(|&(_, [ai, bi, ci, di])| StudyInput::Table2x2 { ai, bi, ci, di })
        .collect();
    study.push("Double Zero 2001".into());
    inputs.push(StudyInput::Table2x2 {
        ai: 0.0,
        bi: 50.0,
        ci: 0.0,
        di: 50.0,
    });
    if printed {
        study.push("Printed 2010".into());
        inputs.push(StudyInput::EstimateCi {
            est: 0.5,
            ci_lb: 0.25,
            ci_ub: 1.0,
            level: 0.95,
        });
    }
    let studies = Studies::from_inputs(study, inputs, None).unwrap();
    pool(&studies, options).unwrap()
}

/// OR by Mantel-Haenszel, double-zero tables given no effect size.
fn or_mh() -> PoolOptions {
    PoolOptions {
        measure: metarepro::effect::Measure::OR,
        pooling: metarepro::model::Pooling::MH,
        drop00: true,
        ..Default::default()
    }
}

#[test]
fn two_group_forest_has_arms_log_ticks_favours_and_the_null_line_at_1() {
    let res = bcg_two_group(&or_mh(), false);
    let opts = ForestOptions::default();
    // forest:: dispatches two-group results to plot::comparative.
    let svg = forest::render_svg(&res, &opts).unwrap();
    assert_eq!(svg, metarepro::plot::comparative::render_svg(&res, &opts).unwrap());
    let els = parse_svg(&svg);
    assert_inside_view_box(&els);
    let texts: Vec<&str> = svg_texts(&els).iter().map(|e| e.text.as_str()).collect();
    for want in [
        "Group 1",
        "Group 2",
        "Events",
        "Total",
        "Weight",
        "Odds Ratio",
        "M-H, Random, 95% CI",
        "Favours group 1",
        "Favours group 2",
        "Common effect model",
        "Random effects model",
        "Not estimable",
    ] {
        assert!(texts.contains(&want), "no {want:?} in {texts:?}");
    }
    // The arm columns of the first study: events and totals of both groups.
    for want in ["4", "123", "11", "139"] {
        assert!(texts.contains(&want), "no arm cell {want:?}");
    }
    assert!(texts.iter().any(|t| t.starts_with("Heterogeneity: Tau\u{b2} = ")
        && t.contains("Chi\u{b2} = ")
        && t.contains("I\u{b2} = ")));
    assert!(texts.iter().any(|t| t.starts_with("Test for overall effect: ")));

    let fig = forest::figure(&res, &opts).unwrap();
    assert_fits_without_overlap(&fig);
    // Log axis: ratios as tick labels, equally spaced per decade.
    let ticks: BTreeMap<String, f64> = texts_of(&fig, Role::TickLabel)
        .iter()
        .map(|t| (t.text.clone(), t.x))
        .collect();
    for want in ["0.1", "1", "10"] {
        assert!(ticks.contains_key(want), "no tick {want}: {ticks:?}");
    }
    let decade = ticks["10"] - ticks["1"];
    assert!(
        decade > 0.0 && (decade - (ticks["1"] - ticks["0.1"])).abs() < 1e-6,
        "{ticks:?}"
    );
    if let (Some(a), Some(b)) = (ticks.get("2"), ticks.get("5")) {
        assert!((a - ticks["1"] - decade * 2f64.log10()).abs() < 1e-6);
        assert!((b - ticks["1"] - decade * 5f64.log10()).abs() < 1e-6);
    }
    // The null line (solid, vertical, spanning the studies) is at 1, in the figure and the SVG.
    let null: Vec<f64> = fig
        .with_role(Role::ReferenceLine)
        .filter_map(|s| match s {
            Shape::Line { x0, x1, .. } if x0 == x1 => Some(*x0),
            _ => None,
        })
        .collect();
    assert_eq!(null.len(), 1);
    assert!((null[0] - ticks["1"]).abs() < 1e-9);
    let tick1 = svg_texts(&els).into_iter().find(|e| e.text == "1").unwrap().num("x");
    let row = Style::default().row * metarepro::plot::figure::SVG_UNITS_PER_PX;
    let long_vertical: Vec<f64> = els
        .iter()
        .filter(|e| e.name == "line" && e.num("x1") == e.num("x2") && (e.num("y2") - e.num("y1")).abs() > 5.0 * row)
        .map(|e| e.num("x1"))
        .collect();
    assert_eq!(long_vertical.len(), 1, "one null line");
    assert!(
        (long_vertical[0] - tick1).abs() <= 1.0,
        "null line at {}, tick 1 at {tick1}",
        long_vertical[0]
    );
    // "Not estimable" is on the double-zero study's row, which has no square.
    let label_y = texts_of(&fig, Role::Label)
        .iter()
        .find(|t| t.text == "Double Zero 2001")
        .unwrap()
        .baseline;
    let ne = texts_of(&fig, Role::Number)
        .into_iter()
        .find(|t| t.text == "Not estimable")
        .unwrap();
    assert_eq!(ne.baseline, label_y);
    assert_eq!(fig.with_role(Role::Square).count(), res.studies.len() - 1);
    // The model in words, the level and the row left out, under the figure.
    let notes: Vec<String> = texts_of(&fig, Role::Note).iter().map(|t| t.text.clone()).collect();
    let all = notes.join(" ");
    assert!(all.contains("Random effects model: ") && all.contains("REML"), "{all}");
    assert!(all.contains("Common effect model: Mantel-Haenszel"), "{all}");
    assert!(all.contains("95% confidence intervals"), "{all}");
    assert!(
        all.contains("Not estimable") && all.contains("Double Zero 2001"),
        "{all}"
    );
}

#[test]
fn two_group_forest_shows_printed_estimates_with_blank_arm_cells() {
    // Inverse variance (M-H sums cannot take a printed estimate).
    let res = bcg_two_group(
        &PoolOptions {
            pooling: metarepro::model::Pooling::IV,
            ..or_mh()
        },
        true,
    );
    let fig = forest::figure(&res, &ForestOptions::default()).unwrap();
    assert_fits_without_overlap(&fig);
    let y = texts_of(&fig, Role::Label)
        .iter()
        .find(|t| t.text == "Printed 2010")
        .unwrap()
        .baseline;
    let cells: Vec<&str> = texts_of(&fig, Role::Number)
        .into_iter()
        .filter(|t| t.baseline == y)
        .map(|t| t.text.as_str())
        .collect();
    // Its weight and the printed values; no arm cells.
    assert_eq!(cells.len(), 2, "{cells:?}");
    assert!(cells[0].ends_with('%'), "{cells:?}");
    assert_eq!(cells[1], "0.50 [0.25, 1.00]");
    let heads: Vec<&str> = texts_of(&fig, Role::Header).iter().map(|t| t.text.as_str()).collect();
    assert!(heads.contains(&"IV, Random, 95% CI"), "{heads:?}");
    let all: Vec<String> = texts_of(&fig, Role::Note).iter().map(|t| t.text.clone()).collect();
    assert!(
        all.join(" ").contains("1 study was given as an estimate with its CI"),
        "{all:?}"
    );
}

#[test]
fn two_group_forest_labels_models_and_differences() {
    // M-H with DL: RevMan's "M-H, random" in words; user labels; two diamonds.
    let res = bcg_two_group(
        &PoolOptions {
            measure: metarepro::effect::Measure::RR,
            method: metarepro::model::Method::DL,
            ..or_mh()
        },
        false,
    );
    let opts = ForestOptions {
        arm_labels: Some(("BCG".into(), "Control".into())),
        ..ForestOptions::default()
    };
    let fig = forest::figure(&res, &opts).unwrap();
    assert_fits_without_overlap(&fig);
    let all: Vec<String> = fig.texts().map(|(_, t)| t.text.clone()).collect();
    let joined = all.join("\n");
    for want in [
        "BCG",
        "Control",
        "Favours BCG",
        "Favours Control",
        "Risk Ratio",
        "M-H, Random, 95% CI",
    ] {
        assert!(all.iter().any(|t| t == want), "no {want:?}");
    }
    assert!(joined.contains("around the M-H estimate"), "{joined}");
    assert_eq!(fig.with_role(Role::Diamond).count(), 2);

    // A common-effect fit: one diamond, no tau².
    let common = bcg_two_group(
        &PoolOptions {
            method: metarepro::model::Method::EE,
            ..or_mh()
        },
        false,
    );
    let fig = forest::figure(&common, &ForestOptions::default()).unwrap();
    let all: Vec<String> = fig.texts().map(|(_, t)| t.text.clone()).collect();
    assert!(all.iter().any(|t| t == "M-H, Fixed, 95% CI"));
    assert!(
        all.iter().any(|t| t.starts_with("Heterogeneity: Chi\u{b2} = ")),
        "{all:?}"
    );
    assert_eq!(fig.with_role(Role::Diamond).count(), 1);

    // Mean differences: Mean/SD/Total columns, a linear axis symmetric about the null line at 0.
    use metarepro::data::StudyInput;
    let means = [
        (10.0, 2.0, 30.0, 12.0, 2.5, 31.0),
        (9.0, 3.0, 50.0, 9.5, 3.0, 48.0),
        (11.0, 2.2, 20.0, 13.5, 2.0, 22.0),
    ];
    let studies = Studies::from_inputs(
        vec!["A 2001".into(), "B 2005".into(), "C 2010".into()],
        means
            .iter()
            .map(|&(m1i, sd1i, n1i, m2i, sd2i, n2i)| StudyInput::Means {
                m1i,
                sd1i,
                n1i,
                m2i,
                sd2i,
                n2i,
            })
            .collect(),
        None,
    )
    .unwrap();
    let res = pool(
        &studies,
        &PoolOptions {
            measure: metarepro::effect::Measure::MD,
            ..Default::default()
        },
    )
    .unwrap();
    let fig = forest::figure(&res, &ForestOptions::default()).unwrap();
    assert_fits_without_overlap(&fig);
    let heads: Vec<&str> = texts_of(&fig, Role::Header).iter().map(|t| t.text.as_str()).collect();
    for want in ["Mean", "SD", "Total", "Mean Difference", "IV, Random, 95% CI"] {
        assert!(heads.contains(&want), "no header {want:?}: {heads:?}");
    }
    // Means print with the decimals of their column: 9.0 beside 9.5.
    let numbers: Vec<&str> = texts_of(&fig, Role::Number).iter().map(|t| t.text.as_str()).collect();
    assert!(numbers.contains(&"9.0") && numbers.contains(&"3.0"), "{numbers:?}");
    let ticks: Vec<(f64, f64)> = texts_of(&fig, Role::TickLabel)
        .iter()
        .map(|t| (t.text.parse::<f64>().unwrap(), t.x))
        .collect();
    assert_eq!(ticks.first().unwrap().0, -ticks.last().unwrap().0);
    let zero = ticks.iter().find(|t| t.0 == 0.0).unwrap().1;
    let null = fig
        .with_role(Role::ReferenceLine)
        .find_map(|s| match s {
            Shape::Line { x0, .. } => Some(*x0),
            _ => None,
        })
        .unwrap();
    assert!((null - zero).abs() < 1e-9);
}

#[test]
fn cli_forest_draws_two_group_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = String::from("study,ai,bi,ci,di\n");
    for (st, [a, b, c, d]) in BCG {
        s.push_str(&format!("\"{st}\",{a},{b},{c},{d}\n"));
    }
    let csv = dir.path().join("bcg.csv");
    std::fs::write(&csv, s).unwrap();
    let svg = dir.path().join("bcg.svg");
    metarepro()
        .arg("forest")
        .arg(&csv)
        .args([
            "--measure",
            "RR",
            "--pooling",
            "MH",
            "--method",
            "DL",
            "--arm-labels",
            "BCG,Control",
        ])
        .args(["--favours", "Favours BCG,Favours no vaccine", "--xlim", "0.1,10"])
        .arg("-o")
        .arg(&svg)
        .assert()
        .success();
    let text = std::fs::read_to_string(&svg).unwrap();
    let els = parse_svg(&text);
    assert_inside_view_box(&els);
    let texts: Vec<&str> = svg_texts(&els).iter().map(|e| e.text.as_str()).collect();
    for want in [
        "BCG",
        "Control",
        "Favours BCG",
        "Favours no vaccine",
        "0.1",
        "10",
        "M-H, Random, 95% CI",
    ] {
        assert!(texts.contains(&want), "no {want:?} in {texts:?}");
    }
    let a = metarepro()
        .arg("forest")
        .arg(&csv)
        .args(["--measure", "RR", "--ref", "1"])
        .arg("-o")
        .arg(&svg)
        .assert()
        .failure();
    assert_stderr_has(&a, "null line");
}

/// Issue 13: `--labels` names the subgroups in the table, the forest plot and the summary plot;
/// the JSON keeps the codes (and gives the label beside them); a code that names no subgroup is
/// noted; a label map without `--by`, a malformed pair and a bad label file are errors.
#[test]
fn labels_name_subgroups_in_tables_and_figures_and_json_keeps_codes() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(dir.path());
    let labels = dir.path().join("labels.toml");
    std::fs::write(&labels, "[labels]\nother = \"Other ethnicity\"\n").unwrap();
    let base = |cmd: &str| {
        let mut c = metarepro();
        c.arg(cmd)
            .arg(&csv)
            .args(["--by", "ethnicity", "--labels", "caucasian=Mostly Caucasian"]);
        c.arg("--labels").arg(&labels);
        c
    };
    // Table: the labels, not the codes, in the subgroup rows.
    let out = base("pool").assert().success();
    let table = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        table.contains("Mostly Caucasian") && table.contains("Other ethnicity"),
        "{table}"
    );
    assert!(
        !table.lines().any(|l| l.trim_start().starts_with("caucasian ")),
        "{table}"
    );
    // JSON: `name` is the code, `label` what the table showed.
    let out = base("pool").args(["--format", "json"]).assert().success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let names: Vec<(String, String)> = v["subgroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap().to_string(),
                g["label"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("caucasian".to_string(), "Mostly Caucasian".to_string()),
            ("other".to_string(), "Other ethnicity".to_string())
        ]
    );
    // Figures: the SVG texts carry the labels and not the codes.
    for cmd in ["forest", "summary-plot"] {
        let svg = dir.path().join(format!("{cmd}.svg"));
        base(cmd).arg("--out").arg(&svg).assert().success();
        let els = parse_svg(&std::fs::read_to_string(&svg).unwrap());
        let texts: Vec<String> = svg_texts(&els).iter().map(|e| e.text.trim().to_string()).collect();
        for want in ["Mostly Caucasian", "Other ethnicity"] {
            assert!(texts.iter().any(|t| t == want), "{cmd}: no text {want:?} in {texts:?}");
        }
        assert!(
            !texts.iter().any(|t| t == "caucasian" || t == "other"),
            "{cmd}: {texts:?}"
        );
    }
    // A code that names no subgroup is noted on standard error; the run still succeeds.
    let out = base("pool").args(["--labels", "caucasain=Typo"]).assert().success();
    assert_stderr_has(&out, "\"caucasain\" names no subgroup");
    // Errors: no --by; a pair without '='; an unreadable or malformed label file.
    let out = metarepro()
        .arg("pool")
        .arg(&csv)
        .args(["--labels", "a=b"])
        .assert()
        .code(2);
    assert_stderr_has(&out, "--labels names subgroups");
    let out = base("pool").args(["--labels", "nolabel"]).assert().code(2);
    assert_stderr_has(&out, "a subgroup label is CODE=LABEL");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "other = 3\n").unwrap();
    let out = base("pool").arg("--labels").arg(&bad).assert().code(3);
    assert_stderr_has(&out, "bad.toml");
    assert_stderr_has(&out, "label of \"other\" must be a non-empty string");
}

/// Funnel plots of two-group measures are labelled on the natural scale (a risk ratio's axis at
/// 0.1, 0.2, 0.5, 1, 2 placed at their logs, titled "Risk ratio, log scale"), and summary-plot,
/// which draws pooled proportions, refuses other measures rather than drawing them as percentages.
#[test]
fn funnel_of_risk_ratios_is_labelled_as_risk_ratios_and_summary_plot_refuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let csv = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/comparative/bcg.csv");
    let svg = dir.path().join("funnel.svg");
    metarepro()
        .arg("funnel")
        .arg(&csv)
        .args(["--measure", "RR", "--out"])
        .arg(&svg)
        .assert()
        .success();
    let els = parse_svg(&std::fs::read_to_string(&svg).unwrap());
    let texts: Vec<String> = svg_texts(&els).iter().map(|e| e.text.trim().to_string()).collect();
    assert!(texts.iter().any(|t| t == "Risk ratio, log scale"), "{texts:?}");
    assert!(!texts.iter().any(|t| t.contains("Proportion")), "{texts:?}");
    // The x tick labels (below the plot) and their positions: equal ratios, equal distances.
    let ticks: Vec<(f64, f64)> = svg_texts(&els)
        .iter()
        .filter_map(|e| {
            let v: f64 = e.text.trim().parse().ok()?;
            (e.attrs.get("text-anchor").map(String::as_str) == Some("middle")).then(|| (v, e.num("x")))
        })
        .collect();
    let at = |v: f64| ticks.iter().find(|t| (t.0 - v).abs() < 1e-12).map(|t| t.1);
    let (x01, x1, x2) = (at(0.1).unwrap(), at(1.0).unwrap(), at(2.0).unwrap());
    let per_log = (x1 - x01) / 10f64.ln();
    assert!(((x2 - x1) - per_log * 2f64.ln()).abs() < 1.5, "{ticks:?}");
    let out = metarepro()
        .arg("summary-plot")
        .arg(&csv)
        .args(["--measure", "RR", "--by", "year", "--out"])
        .arg(dir.path().join("s.svg"))
        .assert()
        .code(2);
    assert_stderr_has(&out, "summary-plot draws pooled proportions; for RR use forest");
    assert!(!dir.path().join("s.svg").exists());
}

// ---------------------------------------------------------------------------------------------
// Issue: what a first-time user saw (CJK names, studies at 0%/100%, labels, brackets, dashes)

/// Studies at 100% or 0% (large variance, small weight) next to large ones.
fn extremes() -> PoolResult {
    let studies = Studies::from_counts(
        [
            "Ando 2012",
            "Sato 2015",
            "Lee 2019",
            "Kim 2020",
            "Big 2021",
            "Bigger 2022",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        vec![4.0, 5.0, 9.0, 0.0, 60.0, 150.0],
        vec![4.0, 5.0, 9.0, 12.0, 200.0, 400.0],
        None,
    )
    .unwrap();
    pool(&studies, &PoolOptions::default()).unwrap()
}

/// Every study's square is at least the minimum size and lies wholly inside the plot column,
/// also at 0% and 100% (4/4, 5/5, 9/9, 0/12).
#[test]
fn squares_at_0_and_100_percent_are_visible_and_inside_the_plot() {
    let res = extremes();
    let opts = ForestOptions::default();
    let (fig, geom) = table::layout_with_geometry(&forest::table(&res, &opts).unwrap());
    let squares: Vec<(f64, f64, f64, f64)> = fig
        .with_role(Role::Square)
        .map(|s| match s {
            Shape::Rect { x0, y0, x1, y1, .. } => (*x0, *y0, *x1, *y1),
            other => panic!("a square that is not a rectangle: {other:?}"),
        })
        .collect();
    assert_eq!(squares.len(), 6);
    let (p0, p1) = geom.plot_x;
    let min = opts.style.square_min;
    assert!(min >= 0.3 * opts.style.row, "minimum square {min} px");
    for (i, &(x0, y0, x1, y1)) in squares.iter().enumerate() {
        assert!(
            x0 >= p0 - 1e-9 && x1 <= p1 + 1e-9,
            "square {i}: {x0}..{x1} outside {p0}..{p1}"
        );
        assert!(
            x1 - x0 >= min - 1e-9 && y1 - y0 >= min - 1e-9,
            "square {i}: {}",
            x1 - x0
        );
    }
    // The 100% studies touch the right end, the 0% one the left end.
    let at_end = squares.iter().filter(|s| (s.2 - p1).abs() < 1e-9).count();
    assert_eq!(at_end, 3);
    assert!(squares.iter().any(|s| (s.0 - p0).abs() < 1e-9));
}

/// The CI columns read "[lb; ub]" with one space after the semicolon in every row, whatever the
/// widths of the limits ("[39.8; 100.0]" and "[5.0; 53.8]" in one figure): no padding inside
/// the brackets.
#[test]
fn no_padding_inside_ci_brackets() {
    let fig = forest::figure(&extremes(), &ForestOptions::default()).unwrap();
    let space = metarepro::plot::font::text_width(" ", Style::default().font, false);
    let mut rows = 0;
    for (_, lb) in fig.texts().filter(|(r, t)| *r == Role::Number && t.text.ends_with(';')) {
        let ub = fig
            .texts()
            .map(|(_, t)| t)
            .find(|t| t.baseline == lb.baseline && t.text.ends_with(']'))
            .expect("the upper limit on the same row");
        let gap = ub.bbox().0 - lb.bbox().2;
        assert!(
            (gap - space).abs() < 1e-6,
            "{} {}: gap {gap}, a space is {space}",
            lb.text,
            ub.text
        );
        rows += 1;
    }
    // Six studies, the common-effect and random-effects rows and the prediction interval.
    assert_eq!(rows, 9);
}

/// The figure alone names the model, the scale, the test and the level, and the weight column
/// says which weights it shows when there are subgroups.
#[test]
fn figure_names_model_scale_level_and_weights() {
    let res = pooled("debruin2009", true);
    let texts: Vec<String> = forest::figure(&res, &ForestOptions::default())
        .unwrap()
        .texts()
        .map(|(_, t)| t.text.clone())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t == "Random effects, REML; logit scale; z-test; 95% CI (studies: Clopper\u{2013}Pearson)"),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t == "Weight (overall)"), "{texts:?}");
    let sub = ForestOptions {
        weights: Weights::Subgroup,
        ..ForestOptions::default()
    };
    let texts: Vec<String> = forest::figure(&res, &sub)
        .unwrap()
        .texts()
        .map(|(_, t)| t.text.clone())
        .collect();
    assert!(texts.iter().any(|t| t == "Weight (in subgroup)"), "{texts:?}");
    // Another model, test and level.
    let other = pool(
        &studies_of("pritz1997", false),
        &PoolOptions {
            method: metarepro::model::Method::DL,
            measure: metarepro::effect::Measure::PFT,
            test: metarepro::model::Test::Knha,
            level: 0.9,
            ..PoolOptions::default()
        },
    )
    .unwrap();
    let texts: Vec<String> = forest::figure(&other, &ForestOptions::default())
        .unwrap()
        .texts()
        .map(|(_, t)| t.text.clone())
        .collect();
    assert!(
        texts.iter().any(|t| t
            == "Random effects, DL; Freeman\u{2013}Tukey double arcsine scale; Knapp\u{2013}Hartung test; 90% CI (studies: Clopper\u{2013}Pearson)"),
        "{texts:?}"
    );
    // No subgroups: plain "Weight".
    assert!(texts.iter().any(|t| t == "Weight"), "{texts:?}");
}

fn csv_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Study names in Chinese and Japanese script draw (bundled fallback font): no warning, no
/// footnote. A name with characters no bundled font has (Hangul) gets a warning on stderr naming
/// the study and the characters, and a footnote on the figure. The rows left out for a missing
/// count are a footnote too.
#[test]
fn cli_forest_cjk_names_and_undrawable_characters() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = csv_file(
        tmp.path(),
        "cjk.csv",
        "study,events,total\n李 et al. 2021,12,30\n佐藤 2019,5,20\nSmith 2018,4,4\nJones 2017,,10\n",
    );
    let svg = tmp.path().join("f.svg");
    let png = tmp.path().join("f.png");
    let out = metarepro()
        .args(["forest", csv.to_str().unwrap(), "--na", "drop", "--dpi", "96"])
        .args(["--out", svg.to_str().unwrap(), "--out", png.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("cannot draw"), "{stderr}");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("李 et al. 2021") && text.contains("佐藤 2019"));
    assert!(!text.contains("cannot draw"), "{text}");
    assert!(
        text.contains("Left out of the data: row 4 (missing &quot;events&quot;)."),
        "{text}"
    );
    assert!(text.contains("Random effects, REML; logit scale"), "{text}");

    let csv = csv_file(
        tmp.path(),
        "kr.csv",
        "study,events,total\n김 2020,7,15\nLee 2019,3,12\n",
    );
    let out = metarepro()
        .args(["forest", csv.to_str().unwrap(), "--out", svg.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: \"김 2020\"") && stderr.contains("김 (U+AE40)") && stderr.contains("--font"),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.contains("Characters the fonts cannot draw, shown as boxes: &quot;김 2020&quot;: 김 (U+AE40)"),
        "{text}"
    );
}

/// `--font FILE.ttf`: the SVG names its family first; a file that is not a font is an error
/// naming it, and nothing is written.
#[test]
fn cli_forest_user_font() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = csv_file(tmp.path(), "a.csv", "study,events,total\n李 2021,7,15\nLee 2019,3,12\n");
    let svg = tmp.path().join("f.svg");
    let font = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/fonts/DroidSansFallbackFull.ttf");
    let out = metarepro()
        .args(["forest", csv.to_str().unwrap(), "--font", font.to_str().unwrap()])
        .args(["--out", svg.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.contains("font-family=\"Droid Sans Fallback, DejaVu Sans, Verdana, sans-serif\""),
        "{text}"
    );
    let bad = csv_file(tmp.path(), "bad.ttf", "not a font");
    let svg2 = tmp.path().join("g.svg");
    let out = metarepro()
        .args(["forest", csv.to_str().unwrap(), "--font", bad.to_str().unwrap()])
        .args(["--out", svg2.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.ttf") && stderr.contains("not a TrueType/OpenType font"),
        "{stderr}"
    );
    assert!(!svg2.exists());
}
