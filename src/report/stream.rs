//! Tables written in chunks: Parquet (one row group per chunk) or CSV, atomically.
//!
//! `batch` and `gosh` produce rows faster than they could be kept in memory for large inputs, so
//! they hand them over a chunk at a time. A row type says what its columns are
//! ([`TableRows::columns`]) and how it looks as CSV ([`TableRows::write_csv`]); [`TableWriter`]
//! does the rest. The file is written into a temporary file beside the target and renamed over it
//! by [`TableWriter::finish`]: dropped without `finish` (after an error), nothing appears at the
//! target.
//!
//! Parquet schema: text columns are optional `BYTE_ARRAY` (`STRING`); numbers are optional
//! `DOUBLE`, where NaN (a missing value) is written as null; counts are required unsigned
//! `INT32`/`INT64`; flags are required `BOOLEAN`. Pages are Snappy-compressed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use parquet::basic::{Compression, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{ColumnPath, Type};

use crate::error::{Error, Result};

/// The values of one column for a chunk of rows.
pub enum ColumnData<'a> {
    /// Text; `None` is null.
    Text(Vec<Option<&'a str>>),
    /// A number; NaN is null.
    F64(Vec<f64>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    Bool(Vec<bool>),
}

/// Rows that can be streamed to Parquet or CSV.
pub trait TableRows: Sized + Sync {
    /// The columns of `rows`, in order, with their names. Called with no rows for the schema of
    /// an empty table, so the variants must not depend on the rows.
    fn columns(rows: &[Self]) -> Vec<(&'static str, ColumnData<'_>)>;
    /// The CSV header line (with its newline).
    fn csv_header() -> &'static str;
    /// Append the CSV lines of `rows` to `out`.
    fn write_csv(rows: &[Self], out: &mut Vec<u8>);
}

/// Output format from the extension: `.parquet`/`.pq` or `.csv`.
pub fn is_parquet_output(path: &Path) -> Result<bool> {
    match crate::data::extension(path).as_str() {
        "parquet" | "pq" => Ok(true),
        "csv" => Ok(false),
        _ => Err(Error::Usage(format!(
            "{}: cannot tell the output format from the extension; use .parquet or .csv",
            path.display()
        ))),
    }
}

/// A number in a CSV field: the shortest text that reads back as the same `f64`; empty when
/// missing (NaN) or infinite.
pub fn csv_f64(out: &mut Vec<u8>, x: f64) {
    if x.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(x).as_bytes());
    }
}

/// A text field of a CSV line, quoted when it holds a comma, a quote or a line break.
pub fn csv_text(out: &mut Vec<u8>, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.extend_from_slice(crate::report::csv_field(s).as_bytes());
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

fn out_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The Parquet schema of a row type, from the variants of its columns.
fn schema<T: TableRows>() -> parquet::errors::Result<Type> {
    let mut fields = Vec::new();
    for (name, col) in T::columns(&[]) {
        let (physical, logical, repetition) = match col {
            ColumnData::Text(_) => (
                PhysicalType::BYTE_ARRAY,
                Some(LogicalType::String),
                Repetition::OPTIONAL,
            ),
            ColumnData::F64(_) => (PhysicalType::DOUBLE, None, Repetition::OPTIONAL),
            ColumnData::U32(_) => (
                PhysicalType::INT32,
                Some(LogicalType::integer(32, false)),
                Repetition::REQUIRED,
            ),
            ColumnData::U64(_) => (
                PhysicalType::INT64,
                Some(LogicalType::integer(64, false)),
                Repetition::REQUIRED,
            ),
            ColumnData::Bool(_) => (PhysicalType::BOOLEAN, None, Repetition::REQUIRED),
        };
        let field = Type::primitive_type_builder(name, physical)
            .with_logical_type(logical)
            .with_repetition(repetition)
            .build()?;
        fields.push(Arc::new(field));
    }
    Type::group_type_builder("schema").with_fields(fields).build()
}

/// Definition levels of an optional column (1 present, 0 null) and the present values.
fn present<V: Copy>(values: impl Iterator<Item = Option<V>>) -> (Vec<i16>, Vec<V>) {
    let mut def = Vec::new();
    let mut vals = Vec::new();
    for v in values {
        match v {
            Some(x) => {
                def.push(1);
                vals.push(x);
            }
            None => def.push(0),
        }
    }
    (def, vals)
}

type ParquetFile = SerializedFileWriter<BufWriter<File>>;

/// Write one row group.
fn write_row_group<T: TableRows>(w: &mut ParquetFile, rows: &[T]) -> parquet::errors::Result<()> {
    let mut rg = w.next_row_group()?;
    for (_, data) in T::columns(rows) {
        let Some(mut col) = rg.next_column()? else {
            return Err(parquet::errors::ParquetError::General(
                "more columns than the schema".into(),
            ));
        };
        match data {
            ColumnData::Text(v) => {
                let (def, vals) = present(v.into_iter());
                let vals: Vec<ByteArray> = vals
                    .into_iter()
                    .map(|s| ByteArray::from(s.as_bytes().to_vec()))
                    .collect();
                col.typed::<ByteArrayType>().write_batch(&vals, Some(&def), None)?;
            }
            ColumnData::F64(v) => {
                let (def, vals) = present(v.into_iter().map(|x| if x.is_nan() { None } else { Some(x) }));
                col.typed::<DoubleType>().write_batch(&vals, Some(&def), None)?;
            }
            ColumnData::U32(v) => {
                // Unsigned 32-bit values are stored in INT32 by their bit pattern.
                let vals: Vec<i32> = v.into_iter().map(|x| x as i32).collect();
                col.typed::<Int32Type>().write_batch(&vals, None, None)?;
            }
            ColumnData::U64(v) => {
                let vals: Vec<i64> = v.into_iter().map(|x| x as i64).collect();
                col.typed::<Int64Type>().write_batch(&vals, None, None)?;
            }
            ColumnData::Bool(v) => {
                col.typed::<BoolType>().write_batch(&v, None, None)?;
            }
        }
        col.close()?;
    }
    rg.close()?;
    Ok(())
}

/// Rows per piece of CSV formatted in parallel.
const CSV_PIECE: usize = 256;

enum Sink {
    Parquet(Box<ParquetFile>),
    Csv { out: BufWriter<File>, header: bool },
}

/// A Parquet or CSV file written in chunks (Parquet: one row group per chunk), atomically: into a
/// temporary file beside the target, renamed over it by [`TableWriter::finish`]. Dropped without
/// `finish`, nothing appears at the target.
pub struct TableWriter {
    path: PathBuf,
    tmp: tempfile::NamedTempFile,
    sink: Sink,
    buf: Vec<u8>,
}

/// The format of a table file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Parquet,
    Csv,
}

impl TableWriter {
    /// A writer for rows of type `T`; the format follows the extension of `path`.
    pub fn create<T: TableRows>(path: &Path) -> Result<TableWriter> {
        Self::create_as::<T>(path, None)
    }

    /// A writer for rows of type `T` in `format` (`None`: from the extension of `path`).
    pub fn create_as<T: TableRows>(path: &Path, format: Option<TableFormat>) -> Result<TableWriter> {
        let parquet = match format {
            Some(f) => f == TableFormat::Parquet,
            None => is_parquet_output(path)?,
        };
        let tmp = crate::report::temp_beside(path)?;
        let file = tmp.reopen().map_err(|e| out_err(path, e))?;
        let sink = if parquet {
            // Dictionary pages only for text (repeated subgroups and messages; numbers are
            // nearly all distinct), and statistics per column chunk, not per page.
            let mut props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_dictionary_enabled(false)
                .set_statistics_enabled(EnabledStatistics::Chunk)
                .set_created_by(format!("metarepro {}", env!("CARGO_PKG_VERSION")));
            for (name, col) in T::columns(&[]) {
                if matches!(col, ColumnData::Text(_)) {
                    props = props.set_column_dictionary_enabled(ColumnPath::from(name), true);
                }
            }
            let props = props.build();
            let schema = schema::<T>().map_err(|e| out_err(path, e))?;
            let w = SerializedFileWriter::new(
                BufWriter::with_capacity(1 << 20, file),
                Arc::new(schema),
                Arc::new(props),
            )
            .map_err(|e| out_err(path, e))?;
            Sink::Parquet(Box::new(w))
        } else {
            Sink::Csv {
                out: BufWriter::with_capacity(1 << 16, file),
                header: false,
            }
        };
        Ok(TableWriter {
            path: path.to_path_buf(),
            tmp,
            sink,
            buf: Vec::new(),
        })
    }

    /// Append rows (a Parquet row group, or CSV lines after the header on the first call).
    pub fn write<T: TableRows>(&mut self, rows: &[T]) -> Result<()> {
        match &mut self.sink {
            Sink::Parquet(w) => {
                if rows.is_empty() {
                    return Ok(());
                }
                write_row_group(w, rows).map_err(|e| out_err(&self.path, e))
            }
            Sink::Csv { out, header } => {
                self.buf.clear();
                if !*header {
                    self.buf.extend_from_slice(T::csv_header().as_bytes());
                    *header = true;
                }
                // Formatting numbers is most of the cost of a CSV line: large chunks are
                // formatted in parallel, in pieces written in order.
                if rows.len() >= 2 * CSV_PIECE {
                    out.write_all(&self.buf).map_err(|e| out_err(&self.path, e))?;
                    let pieces: Vec<Vec<u8>> = rows
                        .par_chunks(CSV_PIECE)
                        .map(|c| {
                            let mut b = Vec::with_capacity(c.len() * 160);
                            T::write_csv(c, &mut b);
                            b
                        })
                        .collect();
                    for p in pieces {
                        out.write_all(&p).map_err(|e| out_err(&self.path, e))?;
                    }
                    Ok(())
                } else {
                    T::write_csv(rows, &mut self.buf);
                    out.write_all(&self.buf).map_err(|e| out_err(&self.path, e))
                }
            }
        }
    }

    /// Finish the file (Parquet footer; an empty table still gets its header/schema) and move it
    /// to the target.
    pub fn finish<T: TableRows>(self) -> Result<()> {
        let TableWriter { path, tmp, sink, .. } = self;
        match sink {
            Sink::Parquet(w) => {
                let out = w.into_inner().map_err(|e| out_err(&path, e))?;
                out.into_inner().map_err(|e| out_err(&path, e.error()))?;
            }
            Sink::Csv { mut out, header } => {
                if !header {
                    out.write_all(T::csv_header().as_bytes())
                        .map_err(|e| out_err(&path, e))?;
                }
                out.flush().map_err(|e| out_err(&path, e))?;
            }
        }
        crate::report::publish(tmp, &path)
    }
}
