//! Renderings of a verification: a terminal table (coloured on a terminal), Markdown, JSON.

use std::fmt::Write;

use super::published::{CheckStatus, ScaleImplication};
use super::search::{SearchMatch, SearchResult};
use super::{ClaimVerdict, NumberVerdict, VerifyReport};
use crate::report::fmt_num;

/// How a verdict is coloured on a terminal.
#[derive(Clone, Copy)]
enum Tone {
    Good,
    Doubt,
    Bad,
}

fn colour(s: &str, tone: Tone, on: bool) -> String {
    if !on {
        return s.to_string();
    }
    let code = match tone {
        Tone::Good => "32",
        Tone::Doubt => "33",
        Tone::Bad => "31",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

fn claim_tone(v: ClaimVerdict) -> Tone {
    match v {
        ClaimVerdict::Match | ClaimVerdict::Consistent => Tone::Good,
        ClaimVerdict::NearMiss | ClaimVerdict::NotComputed | ClaimVerdict::Unchecked => Tone::Doubt,
        ClaimVerdict::Mismatch | ClaimVerdict::Inconsistent => Tone::Bad,
    }
}

fn number_tone(v: NumberVerdict) -> Tone {
    match v {
        NumberVerdict::Match | NumberVerdict::Consistent => Tone::Good,
        NumberVerdict::OffBy(_) | NumberVerdict::NotComputed | NumberVerdict::Unchecked => Tone::Doubt,
        NumberVerdict::Mismatch | NumberVerdict::Inconsistent => Tone::Bad,
    }
}

fn scale_text(s: &ScaleImplication) -> String {
    let se = s.se.map(|se| format!(" SE {}", fmt_num(se, 4))).unwrap_or_default();
    let sym = match (&s.detail, s.symmetric) {
        (Some(d), true) => format!(" (reproduced: {d})"),
        (None, true) => " (symmetric)".to_string(),
        (Some(_), false) => " (not reproduced)".to_string(),
        (None, false) => String::new(),
    };
    format!("{}{se}{sym}", s.scale.name())
}

/// Matches that give the same numbers, on one line each: the first setting, then the others.
fn grouped(list: &[SearchMatch], max: usize) -> Vec<(String, Vec<&'static str>)> {
    let mut groups: Vec<(usize, Vec<&SearchMatch>)> = Vec::new();
    for m in list {
        match groups.iter_mut().find(|(g, _)| *g == m.group) {
            Some((_, v)) => v.push(m),
            None => groups.push((m.group, vec![m])),
        }
    }
    groups
        .into_iter()
        .take(max)
        .map(|(_, ms)| {
            let mut line = ms[0].setting.describe();
            if ms.len() > 1 {
                let others: Vec<String> = ms[1..].iter().take(4).map(|m| m.setting.describe()).collect();
                let more = if ms.len() > 5 {
                    format!(" and {} more", ms.len() - 5)
                } else {
                    String::new()
                };
                line.push_str(&format!("; identical numbers: {}{more}", others.join("; ")));
            }
            let mut presets: Vec<&'static str> = Vec::new();
            for m in &ms {
                for p in &m.presets {
                    if !presets.contains(p) {
                        presets.push(p);
                    }
                }
            }
            (line, presets)
        })
        .collect()
}

/// The search's summary in sentences: what the matches pin down and leave open, and how the
/// stated method fares (which number breaks it).
fn summary(s: &SearchResult) -> Vec<String> {
    let mut out = Vec::new();
    if !s.pinned.is_empty() {
        out.push(format!(
            "The matches pin down: {}.",
            s.pinned
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if !s.not_determined.is_empty() {
        out.push(format!(
            "Not determined by the printed numbers: {}.",
            s.not_determined
                .iter()
                .map(|(k, v)| format!("{k} ({})", v.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    let Some(b) = s.stated_method_matches else {
        return out;
    };
    let with = |st: &super::search::StatedRecompute| {
        let mut w = format!("recomputed with {}", st.setting);
        if !st.filled_in.is_empty() {
            w.push_str(&format!(
                " (the paper leaves {} unstated: metafor's defaults)",
                st.filled_in.join(", ")
            ));
        }
        w
    };
    let all = |n: usize| {
        if n == 1 {
            "the printed number reproduces".to_string()
        } else {
            format!("all {n} printed numbers reproduce")
        }
    };
    match (&s.stated, b) {
        (Some(st), true) if st.misses.is_empty() => out.push(format!(
            "The paper's stated method is among the matches: {}, {}.",
            with(st),
            all(st.numbers)
        )),
        (Some(st), true) => out.push(format!(
            "A setting consistent with the paper's stated choices is among the matches, but not the one recomputed above: {}, {} of {} printed numbers reproduce; not {}.",
            with(st),
            st.reproduced,
            st.numbers,
            st.misses.join("; ")
        )),
        (Some(st), false) => out.push(format!(
            "The paper's stated method is NOT among the matches: {}, {} of {} printed numbers reproduce; not {}.",
            with(st),
            st.reproduced,
            st.numbers,
            st.misses.join("; ")
        )),
        (None, true) => out.push("The paper's stated method is among the matches.".into()),
        (None, false) => out.push("The paper's stated method is NOT among the matches.".into()),
    }
    out
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
        let _ = writeln!(
            o,
            "{}  [{}]",
            c.label,
            colour(c.verdict.as_str(), claim_tone(c.verdict), colour_on)
        );
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
        if let Some(u) = &c.unit_note {
            let _ = writeln!(o, "  unit: {u}");
        }
        let _ = writeln!(o, "  checked: {}", c.checked);
        for n in &c.numbers {
            let _ = writeln!(
                o,
                "  {:<9} {:>9}  {:>11}  {}",
                n.name,
                n.printed,
                rec(n.recomputed, n.decimals),
                colour(&n.verdict.label(), number_tone(n.verdict), colour_on)
            );
        }
        if !c.implied.is_empty() {
            let s: Vec<String> = c.implied.iter().map(scale_text).collect();
            let _ = writeln!(o, "  scales: {}", s.join("; "));
        }
        for k in &c.checks {
            let (word, tone) = match k.status {
                CheckStatus::NotApplicable => continue,
                CheckStatus::Pass => ("ok  ", Tone::Good),
                CheckStatus::Finding => ("note", Tone::Doubt),
                CheckStatus::Flag => ("FLAG", Tone::Bad),
            };
            let _ = writeln!(o, "  {} {}: {}", colour(word, tone, colour_on), k.name, k.detail);
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
                "  {} settings reproduce every printed number; best first (settings with identical numbers on one line):",
                s.matches.len()
            );
            for (line, p) in grouped(&s.matches, 10) {
                let _ = writeln!(o, "    {line}{}", presets(&p));
            }
        }
        for line in summary(s) {
            let tone = if line.contains("NOT among") {
                Tone::Bad
            } else {
                Tone::Good
            };
            let _ = writeln!(o, "  {}", colour(&line, tone, colour_on && line.contains("stated")));
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
        let _ = writeln!(o, "Verdict: **{}** ({})\n", c.verdict, esc(&c.checked));
        if let Some(u) = &c.unit_note {
            let _ = writeln!(o, "Unit: {}\n", esc(u));
        }
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
                "\n| scale | implied SE | CI reproduced within rounding |\n|---|---|---|"
            );
            for s in &c.implied {
                let yes = match (&s.detail, s.symmetric) {
                    (Some(d), true) => format!("yes: {d}"),
                    (Some(d), false) => format!("no ({d})"),
                    (None, true) => "yes".into(),
                    (None, false) => "no".into(),
                };
                let _ = writeln!(
                    o,
                    "| {} | {} | {} |",
                    s.scale.name(),
                    s.se.map(|se| fmt_num(se, 4)).unwrap_or_else(|| "—".into()),
                    esc(&yes)
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
                "{} settings reproduce every printed number (best first; settings that give identical numbers share a row):\n",
                s.matches.len()
            );
        }
        let _ = writeln!(o, "| measure | method | test | PI | correction | PFT n | common τ² | units off | also known as |\n|---|---|---|---|---|---|---|---|---|");
        let mut shown: Vec<usize> = Vec::new();
        for m in list {
            if shown.len() >= 20 {
                break;
            }
            if shown.contains(&m.group) {
                continue;
            }
            shown.push(m.group);
            let same: Vec<&SearchMatch> = list.iter().filter(|x| x.group == m.group).collect();
            let cell = |f: &dyn Fn(&SearchMatch) -> String| {
                let mut v: Vec<String> = Vec::new();
                for x in &same {
                    let t = f(x);
                    if !v.contains(&t) {
                        v.push(t);
                    }
                }
                v.join(", ")
            };
            let mut presets: Vec<&str> = Vec::new();
            for x in &same {
                for p in &x.presets {
                    if !presets.contains(p) {
                        presets.push(p);
                    }
                }
            }
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&|x| x.setting.measure.to_string()),
                cell(&|x| {
                    let mut m = x.setting.method.to_string();
                    if x.setting.stopping != super::search::Stopping::Tight {
                        m.push_str(" (default stopping)");
                    }
                    m
                }),
                cell(&|x| x.setting.test.to_string()),
                cell(&|x| x.setting.pi.as_str().to_string()),
                cell(&|x| x.setting.correction.label()),
                cell(&|x| x.setting.pft_mean.as_str().to_string()),
                cell(&|x| if x.setting.tau2_common {
                    "yes".into()
                } else {
                    "no".into()
                }),
                m.units_off,
                presets.join("; ")
            );
        }
        let summary = summary(s);
        if !summary.is_empty() {
            let _ = writeln!(o);
            for line in summary {
                let _ = writeln!(o, "{}\n", esc(&line));
            }
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
