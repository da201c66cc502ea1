//! Fuzz the text-table loader: any bytes, as a CSV, TSV or semicolon-separated file, must give
//! either validated studies or an `Error` — never a panic, abort or hang.
//!
//! The first byte picks the file type and options; the rest is the file's content.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use metarepro::data::{load, LoadOptions};

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::Builder::new()
            .prefix("metarepro-fuzz-")
            .tempdir()
            .expect("temporary folder");
        d.keep()
    })
}

/// libFuzzer's panic hook aborts on every panic, even one the library catches on purpose (a
/// panic inside the Parquet reader becomes an input error). Keep that behaviour for every
/// other panic: those are the crashes looked for.
fn install_hook() {
    static HOOK: OnceLock<()> = OnceLock::new();
    HOOK.get_or_init(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if metarepro::error::panic_is_guarded() {
                return;
            }
            fuzzer_hook(info);
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    install_hook();
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let (ext, delimiter) = match mode & 3 {
        0 => ("csv", None),
        1 => ("tsv", None),
        2 => ("csv", Some(b';')),
        _ => ("txt", Some(b'|')),
    };
    let path = dir().join(format!("input.{ext}"));
    std::fs::write(&path, body).expect("write the input");
    let options = LoadOptions {
        by: (mode & 4 != 0).then(|| "group".to_string()),
        filters: if mode & 16 != 0 {
            vec![("outcome".to_string(), "a".to_string())]
        } else {
            Vec::new()
        },
        delimiter,
        na_drop: mode & 8 != 0,
        ..LoadOptions::default()
    };
    if let Ok(studies) = load(&path, &options) {
        // What the validator accepts must be usable counts.
        let k = studies.k();
        assert!(k > 0);
        assert_eq!(studies.total.len(), k);
        assert_eq!(studies.study.len(), k);
        assert_eq!(studies.rows.len(), k);
        for (e, t) in studies.events.iter().zip(&studies.total) {
            assert!(e.is_finite() && t.is_finite() && *e >= 0.0 && *t >= 1.0 && e <= t);
            assert!(e.fract() == 0.0 && t.fract() == 0.0);
        }
    }
});
