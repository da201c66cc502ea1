//! The one error type of the library, and the exit codes the CLI maps it to.
//!
//! Exit codes (also in `metarepro --help`): 0 success; 1 verification found mismatches with
//! `--strict`; 2 usage error; 3 input data error; 4 computation error; 5 output could not be
//! written; 70 internal error (a bug).

use std::path::PathBuf;

/// Exit code of a usage error (unknown option or value; clap uses 2 as well).
pub const EXIT_USAGE: i32 = 2;
/// Exit code of an input data error (the message names the file, row, line and column).
pub const EXIT_INPUT: i32 = 3;
/// Exit code of a computation error (e.g. non-convergence).
pub const EXIT_COMPUTATION: i32 = 4;
/// Exit code when an output file could not be written.
pub const EXIT_OUTPUT: i32 = 5;
/// Exit code of an internal error (a panic: a bug in metarepro or a library it uses).
pub const EXIT_INTERNAL: i32 = 70;

/// Everything that can go wrong in metarepro.
///
/// Data errors always name the file, and where they can the row (data row, 1-based, and
/// file line) and the column, what was found and what was expected, e.g.
/// `rpild.csv: line 14 (row 13), column "events": 25 is greater than total (22)`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value in the input table is invalid.
    #[error("{}: {}column \"{column}\": {message}", file.display(), location(*row, *line))]
    Data {
        file: PathBuf,
        /// 1-based data row (header and blank lines excluded); `None` when the problem is not
        /// tied to one row.
        row: Option<usize>,
        column: String,
        message: String,
        /// 1-based line of the file on which the row starts (text tables only).
        line: Option<usize>,
    },
    /// The input file could not be read or parsed at all.
    #[error("{}: {message}", file.display())]
    Input { file: PathBuf, message: String },
    /// A required column is missing.
    #[error("{}: no column \"{column}\" ({purpose}); the file has the columns {}{}", file.display(), quoted(available), column_hint(column, available))]
    MissingColumn {
        file: PathBuf,
        column: String,
        purpose: String,
        available: Vec<String>,
    },
    /// A row of a text table is malformed as a whole (e.g. a wrong number of fields).
    #[error("{}: {}{message}", file.display(), location(*row, *line).replace(", ", ": "))]
    Record {
        file: PathBuf,
        row: Option<usize>,
        line: Option<usize>,
        message: String,
    },
    /// The options given do not make sense together or name an unknown value.
    #[error("{0}")]
    Usage(String),
    /// The model could not be computed (non-convergence, degenerate data).
    #[error("{0}")]
    Computation(String),
    /// Writing an output file failed.
    #[error("{}: cannot write: {message}", path.display())]
    Output { path: PathBuf, message: String },
}

/// `line 14 (row 13), ` / `row 13, ` (no line known) / `line 14, ` / nothing.
fn location(row: Option<usize>, line: Option<usize>) -> String {
    match (row, line) {
        (Some(r), Some(l)) => format!("line {l} (row {r}), "),
        (Some(r), None) => format!("row {r}, "),
        (None, Some(l)) => format!("line {l}, "),
        (None, None) => String::new(),
    }
}

fn quoted(names: &[String]) -> String {
    if names.is_empty() {
        return "(none)".into();
    }
    names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
}

/// "did you mean" for a column that differs only in case or spacing, or a delimiter hint.
fn column_hint(column: &str, available: &[String]) -> String {
    let norm = |s: &str| s.to_lowercase().replace([' ', '_', '-', '.'], "");
    if let Some(c) = available.iter().find(|c| norm(c) == norm(column)) {
        return format!("; did you mean \"{c}\"?");
    }
    let hint = delimiter_hint(available);
    if !hint.is_empty() {
        return hint;
    }
    // A column named by a number (e.g. "12", "12.0"): the header row is missing.
    if available
        .iter()
        .any(|c| !c.trim().is_empty() && c.trim().replace(',', ".").parse::<f64>().is_ok_and(f64::is_finite))
    {
        return "; the first line looks like data: the file needs a header row naming the columns".into();
    }
    String::new()
}

/// A hint when the header looks like it was split with the wrong delimiter: a single column
/// whose name holds another delimiter.
pub fn delimiter_hint(names: &[String]) -> String {
    let [n] = names else {
        return String::new();
    };
    for (c, what, opt) in [
        (';', "semicolon", "';'"),
        ('\t', "tab", "'\\t'"),
        (',', "comma", "','"),
        ('|', "pipe", "'|'"),
    ] {
        if n.contains(c) {
            return format!("; the header looks {what}-separated: set the delimiter to {opt}");
        }
    }
    String::new()
}

impl Error {
    /// Process exit code: 2 usage, 3 input data, 4 computation, 5 output.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => EXIT_USAGE,
            Error::Data { .. } | Error::Input { .. } | Error::MissingColumn { .. } | Error::Record { .. } => EXIT_INPUT,
            Error::Computation(_) => EXIT_COMPUTATION,
            Error::Output { .. } => EXIT_OUTPUT,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

static GUARDED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether a panic now happens inside [`guard_panics`] (and will become an error): the CLI's
/// panic hook then stays silent.
pub fn panic_is_guarded() -> bool {
    GUARDED.load(std::sync::atomic::Ordering::SeqCst) > 0
}

/// Run `f`, turning a panic inside it (in a third-party library not hardened against corrupt
/// input) into `Err(())`.
pub(crate) fn guard_panics<T>(f: impl FnOnce() -> T) -> std::result::Result<T, ()> {
    use std::sync::atomic::Ordering;
    GUARDED.fetch_add(1, Ordering::SeqCst);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    GUARDED.fetch_sub(1, Ordering::SeqCst);
    r.map_err(|_| ())
}
