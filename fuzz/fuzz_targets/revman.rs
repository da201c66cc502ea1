//! Fuzz the RevMan 5 reader and `verify` on what it reads: any bytes as a `.rm5` file must give a
//! review or an input error (never a panic, an abort or a hang), and every review read must be
//! re-pooled and checked without a panic, with a summary whose counts add up. The same bytes are
//! also read as RevMan's analysis-data CSV, and the Markdown report (with the forest plots laid
//! out, not rendered) is made of every review read.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use metarepro::data::revman::{parse_rm5, Review};
use metarepro::data::revman_csv::parse_revman_csv;
use metarepro::verify::revman::verify_review;
use metarepro::verify::revman_report;

fn check(review: &Review) {
    let r = verify_review(review);
    let s = &r.summary;
    assert_eq!(s.reproduced + s.differs + s.not_estimable + s.no_stored_results, s.analyses);
    assert_eq!(s.analyses, r.analyses.len());
    for c in &r.text_claims {
        assert!(review.texts.iter().any(|t| t.text.contains(&c.text)));
    }
    let _ = r.json();
    let _ = r.table();
    let figs = revman_report::figures(review);
    let _ = revman_report::markdown(&r, &figs);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(review) = parse_rm5(data, Path::new("fuzz.rm5")) {
        check(&review);
    }
    if let Ok(review) = parse_revman_csv(data, Path::new("fuzz.csv")) {
        check(&review);
    }
});
