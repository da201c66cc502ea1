//! Fuzz the parsers of published numbers: any text as a printed result, a printed interval, and
//! a claims file (TOML). Each must give a value or an error — never a panic or a hang — and a
//! parsed number must keep its text and a decimal count that fits it.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use metarepro::verify::{claims, printed};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = printed::parse(text) {
        for n in [&p.estimate, &p.ci_lb, &p.ci_ub].into_iter().flatten() {
            assert!(n.value.is_finite() || n.text.len() > 300, "non-finite value from {:?}", n.text);
            let after_point = n.text.split('.').nth(1).map(|d| d.len()).unwrap_or(0);
            assert_eq!(after_point as u32, n.decimals, "decimals of {:?}", n.text);
        }
    }
    let _ = printed::parse_interval(text);
    // As a claims file: a claim around the text, and the text as a whole file.
    let wrapped = format!(
        "[paper]\ncitation = \"fuzz\"\n[[claim]]\nlabel = \"x\"\nprinted = {:?}\npi = {:?}\n",
        text, text
    );
    if let Ok(c) = claims::parse(&wrapped, Path::new("fuzz.toml")) {
        let _ = metarepro::verify::verify(&c, &metarepro::verify::VerifyOptions::default());
    }
    if let Ok(c) = claims::parse(text, Path::new("fuzz.toml")) {
        if c.file.data.is_none() {
            let _ = metarepro::verify::verify(&c, &metarepro::verify::VerifyOptions::default());
        }
    }
});
