#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metarepro::error::EXIT_INTERNAL;

fn main() {
    // A panic is a bug: it must never surface as a raw Rust backtrace with exit code 101. Panics
    // inside third-party readers that the library guards (a corrupt Parquet file) are turned into
    // input errors there and print nothing here.
    std::panic::set_hook(Box::new(|info| {
        if !metarepro::error::panic_is_guarded() {
            eprintln!("error: internal error (a bug in metarepro; please report it with the input): {info}");
        }
    }));
    let code = match std::panic::catch_unwind(metarepro::cli::run) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
        Err(_) => EXIT_INTERNAL,
    };
    std::process::exit(code);
}
