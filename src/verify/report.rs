//! Renderings of a verification: a terminal table (coloured on a terminal), Markdown, JSON.

use std::fmt::Write;

use super::VerifyReport;
use crate::report::fmt_num;

fn colour(s: &str, verdict: &str, on: bool) -> String {
    if !on {
        return s.to_string();
    }
    let code = match verdict {
        "match" | "consistent" | "pass" => "32",
        v if v.starts_with("off by") || v == "near miss" || v == "not computed" || v == "not_applicable" => "33",
        _ => "31",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

fn rec(x: Option<f64>, decimals: u32) -> String {
    match x {
        Some(v) if decimals == 0 && v.fract() == 0.0 => fmt_num(v, 0),
        // One more decimal than printed, to show which way it rounds.
        Some(v) => fmt_num(v, decimals as usize + 2),
        None => "—".into(),
    }
}

/// The terminal report; `colour_on` adds ANSI colours.
pub fn terminal(r: &VerifyReport, colour_on: bool) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}", r.paper.citation);
    if let Some(d) = &r.paper.doi {
        let _ = writeln!(o, "doi:{d}");
    }
    match (&r.data, &r.setting, &r.comparative) {
        (Some(d), _, Some(c)) => {
            let _ = writeln!(
                o,
                "Recomputed from {d} with {}{}",
                c.setting_described,
                preset_names(&c.presets)
            );
        }
        (Some(d), Some(s), None) => {
            let _ = writeln!(o, "Recomputed from {d} with {}", s.describe());
        }
        _ => {
            let _ = writeln!(o, "No study data: checking the published numbers alone");
        }
    }
    for c in &r.claims {
        let _ = writeln!(o);
        let _ = writeln!(o, "{}  [{}]", c.label, colour(&c.verdict, &c.verdict, colour_on));
        let _ = writeln!(
            o,
            "  printed: {}{}",
            c.printed,
            c.source.as_deref().map(|s| format!("   ({s})")).unwrap_or_default()
        );
        if let Some(t) = &c.test {
            let _ = writeln!(o, "  test: {t}");
        }
        if let Some(n) = &c.data_note {
            let _ = writeln!(o, "  data: {n}");
        }
        for n in &c.numbers {
            let _ = writeln!(
                o,
                "  {:<9} {:>9}  {:>11}  {}",
                n.name,
                n.printed,
                rec(n.recomputed, n.decimals),
                colour(&n.verdict, &n.verdict, colour_on)
            );
        }
        if !c.implied.is_empty() {
            let s: Vec<String> = c
                .implied
                .iter()
                .map(|s| {
                    format!(
                        "{} SE {}{}",
                        s.scale.name(),
                        fmt_num(s.se, 4),
                        if s.symmetric { " (symmetric)" } else { "" }
                    )
                })
                .collect();
            let _ = writeln!(o, "  scales: {}", s.join("; "));
        }
        for k in &c.checks {
            if k.status == "not_applicable" {
                continue;
            }
            let _ = writeln!(
                o,
                "  {} {}: {}",
                colour(if k.status == "pass" { "ok  " } else { "FLAG" }, k.status, colour_on),
                k.name,
                k.detail
            );
        }
    }
    if let Some(why) = r.method_search.skipped.as_ref().filter(|_| !comparative_searched(r)) {
        let _ = writeln!(o, "\nMethod search not run: {why}");
    }
    if let Some(s) = Some(&r.method_search).filter(|s| s.ran) {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "Method search: {} settings tried on {} claims",
            s.tried,
            s.claims_used.len()
        );
        if s.matches.is_empty() {
            let _ = writeln!(o, "  no setting reproduces every printed number; closest:");
            for m in s.closest.iter().take(5) {
                let _ = writeln!(
                    o,
                    "    {} ({} units off){}",
                    m.setting.describe(),
                    m.units_off,
                    presets(&m.presets)
                );
            }
        } else {
            let _ = writeln!(
                o,
                "  {} settings reproduce every printed number; best first:",
                s.matches.len()
            );
            for m in s.matches.iter().take(10) {
                let _ = writeln!(o, "    {}{}", m.setting.describe(), presets(&m.presets));
            }
        }
        if !s.constrained.is_empty() {
            let d: Vec<String> = s
                .constrained
                .iter()
                .map(|(k, v)| format!("{k}: {}", v.join(", ")))
                .collect();
            let _ = writeln!(o, "  the matches pin down: {}", d.join("; "));
        }
        match s.stated_method_matches {
            Some(true) => {
                let _ = writeln!(o, "  the paper's stated method is among them");
            }
            Some(false) => {
                let _ = writeln!(
                    o,
                    "  {}",
                    colour("the paper's stated method is NOT among them", "mismatch", colour_on)
                );
            }
            None => {}
        }
        for (label, n) in &s.per_claim {
            let _ = writeln!(o, "    {n:>5} settings reproduce \"{label}\"");
        }
    }
    if let Some(c) = &r.comparative {
        o.push_str(&super::comparative::render(c, false));
    }
    o
}

/// Whether the two-group method search ran (its report replaces the proportion search's).
fn comparative_searched(r: &VerifyReport) -> bool {
    r.comparative.as_ref().is_some_and(|c| c.search.is_some())
}

/// " (as the presets metafor, ...)" for a two-group setting, or nothing.
fn preset_names(p: &[&str]) -> String {
    if p.is_empty() {
        String::new()
    } else {
        format!(" (as the presets {})", p.join(", "))
    }
}

fn presets(p: &[&str]) -> String {
    if p.is_empty() {
        String::new()
    } else {
        format!("  = {}", p.join("; "))
    }
}

/// A Markdown report; `figure` is a relative path to a summary plot to embed.
pub fn markdown(r: &VerifyReport, figure: Option<&str>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Verification: {}\n", r.paper.citation);
    if let Some(d) = &r.paper.doi {
        let _ = writeln!(o, "DOI: {d}  ");
    }
    let _ = writeln!(o, "Claims file: `{}`  ", r.claims_file);
    match (&r.data, &r.setting, &r.comparative) {
        (Some(d), _, Some(c)) => {
            let _ = writeln!(
                o,
                "Recomputed from `{d}` with **{}**{}.\n",
                c.setting_described,
                preset_names(&c.presets)
            );
        }
        (Some(d), Some(s), None) => {
            let _ = writeln!(o, "Recomputed from `{d}` with **{}**.\n", s.describe());
        }
        _ => {
            let _ = writeln!(o, "No study data: the published numbers are checked on their own.\n");
        }
    }
    if let Some(f) = figure {
        let _ = writeln!(o, "![Published estimates]({f})\n");
    }
    let _ = writeln!(o, "| claim | printed | source | verdict |\n|---|---|---|---|");
    for c in &r.claims {
        let _ = writeln!(
            o,
            "| {} | {} | {} | **{}** |",
            esc(&c.label),
            esc(&c.printed),
            esc(c.source.as_deref().unwrap_or("")),
            c.verdict
        );
    }
    for c in &r.claims {
        let _ = writeln!(o, "\n## {}\n", esc(&c.label));
        let _ = writeln!(o, "Printed: `{}`\n", c.printed);
        if let Some(t) = &c.test {
            let _ = writeln!(o, "Test: {}\n", esc(t));
        }
        if let Some(n) = &c.data_note {
            let _ = writeln!(o, "Data: {n}\n");
        }
        let _ = writeln!(o, "| number | printed | recomputed | verdict |\n|---|---|---|---|");
        for n in &c.numbers {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                n.name,
                n.printed,
                rec(n.recomputed, n.decimals),
                n.verdict
            );
        }
        if !c.implied.is_empty() {
            let _ = writeln!(
                o,
                "\n| scale | implied SE | CI symmetric within rounding |\n|---|---|---|"
            );
            for s in &c.implied {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} |",
                    s.scale.name(),
                    fmt_num(s.se, 4),
                    if s.symmetric { "yes" } else { "no" }
                );
            }
        }
        let _ = writeln!(o, "\n| check | status | detail |\n|---|---|---|");
        for k in &c.checks {
            let _ = writeln!(o, "| {} | {} | {} |", esc(&k.name), k.status, esc(&k.detail));
        }
    }
    if let Some(why) = r.method_search.skipped.as_ref().filter(|_| !comparative_searched(r)) {
        let _ = writeln!(o, "\n## Method search\n\nNot run: {}", esc(why));
    }
    if let Some(s) = Some(&r.method_search).filter(|s| s.ran) {
        let _ = writeln!(
            o,
            "\n## Method search\n\n{} settings tried on {} claims.\n",
            s.tried,
            s.claims_used.len()
        );
        let list = if s.matches.is_empty() { &s.closest } else { &s.matches };
        if s.matches.is_empty() {
            let _ = writeln!(o, "No setting reproduces every printed number. Closest settings:\n");
        } else {
            let _ = writeln!(
                o,
                "{} settings reproduce every printed number (best first):\n",
                s.matches.len()
            );
        }
        let _ = writeln!(o, "| measure | method | test | PI | correction | PFT n | common τ² | units off | also known as |\n|---|---|---|---|---|---|---|---|---|");
        for m in list.iter().take(20) {
            let st = &m.setting;
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                st.measure,
                st.method,
                st.test,
                st.pi.as_str(),
                st.correction.label(),
                st.pft_mean.as_str(),
                if st.tau2_common { "yes" } else { "no" },
                m.units_off,
                m.presets.join("; ")
            );
        }
        if let Some(b) = s.stated_method_matches {
            let _ = writeln!(
                o,
                "\nThe paper's stated method {} among the matches.",
                if b { "is" } else { "is **not**" }
            );
        }
    }
    if let Some(c) = &r.comparative {
        o.push_str(&super::comparative::render(c, true));
    }
    o
}

fn esc(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The JSON contract.
pub fn json(r: &VerifyReport) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
