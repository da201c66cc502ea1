//! Fuzz the RevMan 5 reader and `verify` on what it reads: any bytes as a `.rm5` file must give a
//! review or an input error (never a panic, an abort or a hang), and every review read must be
//! re-pooled and checked without a panic, with a summary whose counts add up.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use metarepro::data::revman::parse_rm5;
use metarepro::verify::revman::verify_review;

fuzz_target!(|data: &[u8]| {
    let Ok(review) = parse_rm5(data, Path::new("fuzz.rm5")) else {
        return;
    };
    let r = verify_review(&review);
    let s = &r.summary;
    assert_eq!(s.reproduced + s.differs + s.not_estimable + s.no_stored_results, s.analyses);
    assert_eq!(s.analyses, r.analyses.len());
    let _ = r.json();
    let _ = r.table();
});
