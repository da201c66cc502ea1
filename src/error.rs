//! The one error type of the library, and the exit codes the CLI maps it to.

use std::path::PathBuf;

/// Everything that can go wrong in metarepro.
///
/// Data errors always name the file, and where they can the row (data row, 1-based, and
/// file line) and the column, what was found and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value in the input table is invalid.
    #[error("{}: {}column \"{column}\": {message}", file.display(), location(*row))]
    Data {
        file: PathBuf,
        /// 1-based data row (header excluded); `None` when the problem is not tied to one row.
        row: Option<usize>,
        column: String,
        message: String,
    },
    /// The input file could not be read or parsed at all.
    #[error("{}: {message}", file.display())]
    Input { file: PathBuf, message: String },
    /// A required column is missing.
    #[error("{}: no column \"{column}\" ({purpose}); the file has columns: {}", file.display(), available.join(", "))]
    MissingColumn {
        file: PathBuf,
        column: String,
        purpose: String,
        available: Vec<String>,
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

fn location(row: Option<usize>) -> String {
    match row {
        // Data row r is on file line r + 1 (line 1 is the header).
        Some(r) => format!("line {} (row {r}), ", r + 1),
        None => String::new(),
    }
}

impl Error {
    /// Process exit code: 2 usage, 3 input data, 4 computation, 5 output.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            Error::Data { .. } | Error::Input { .. } | Error::MissingColumn { .. } => 3,
            Error::Computation(_) => 4,
            Error::Output { .. } => 5,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
