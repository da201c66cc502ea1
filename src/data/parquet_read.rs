//! Reading a Parquet file into a polars `DataFrame` with the `parquet` crate's column readers.
//!
//! Flat tables only (one top-level column per field, no lists, maps or structs), which is what
//! a study table is. Types become polars columns as follows:
//!
//! | Parquet | polars |
//! | --- | --- |
//! | `BOOLEAN` | `Boolean` |
//! | `INT32`/`INT64`, signed or without a logical type | `Int64` |
//! | `INT32` unsigned (8, 16, 32 bits) / `INT64` unsigned | `UInt32` / `UInt64` |
//! | `FLOAT`, `DOUBLE` | `Float64` |
//! | `BYTE_ARRAY` (text, enum, JSON, or no logical type) | `String` (must be UTF-8) |
//! | `DATE` | `String`, `2005-03-01` |
//! | `TIMESTAMP` (any unit), `INT96` | `String`, `2005-03-01 12:30:00` (fraction when not zero) |
//! | `DECIMAL` (any physical type) | `String`, the exact value without trailing zeros (`12.50` → `12.5`) |
//!
//! Other types (times of day, intervals, UUIDs, 16-bit floats, nested columns) are refused with
//! an error naming the column. Pages may be uncompressed or compressed with Snappy, gzip, LZ4 or
//! zstd (what polars, pyarrow, pandas, R arrow, DuckDB and Spark write); Brotli and LZO are
//! refused with an error naming the column and the codec.
//!
//! The caller checks the footer and page headers first ([`super::parquet_check`]).

use bytes::Bytes;
use parquet::basic::{Compression, ConvertedType, LogicalType, TimeUnit, Type as PhysicalType};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{ByteArray, DataType as ParquetType, FixedLenByteArray, Int96};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::ColumnDescriptor;
use polars_core::prelude::{Column, DataFrame};

use super::parquet_check;

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadError {
    /// The file is damaged (or not what its metadata says).
    Corrupt(String),
    /// A valid file using something this reader does not decode (a codec, a column type).
    Unsupported(String),
}

/// Values are decoded this many rows at a time.
const BATCH: usize = 65_536;

/// What a column becomes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Bool,
    Int,
    UInt32,
    UInt64,
    Float,
    /// Days since 1970-01-01, as text.
    Date,
    /// Since 1970-01-01T00:00, in the unit, as text.
    Timestamp(TimeUnit),
    /// Julian day and nanoseconds, as text.
    Int96,
    /// Unscaled integer and scale, as text.
    Decimal(i32),
    Text,
}

/// The decoded values of one column.
enum Values {
    Bool(Vec<Option<bool>>),
    Int(Vec<Option<i64>>),
    UInt32(Vec<Option<u32>>),
    UInt64(Vec<Option<u64>>),
    Float(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
}

/// Read a whole Parquet file (footer and page headers are checked first).
pub fn read(bytes: Vec<u8>) -> Result<DataFrame, ReadError> {
    let corrupt = |e: String| ReadError::Corrupt(e);
    parquet_check::check_footer(&bytes).map_err(corrupt)?;
    let bytes = Bytes::from(bytes);
    let reader = SerializedFileReader::new(bytes.clone()).map_err(|e| corrupt(e.to_string()))?;
    let meta = reader.metadata();
    parquet_check::check(&bytes, meta).map_err(corrupt)?;
    let schema = meta.file_metadata().schema_descr();
    let kinds: Vec<Kind> = schema
        .columns()
        .iter()
        .map(|c| kind(c).map_err(ReadError::Unsupported))
        .collect::<Result<_, _>>()?;
    for rg in meta.row_groups() {
        for (c, chunk) in rg.columns().iter().enumerate() {
            let name = schema.columns().get(c).map_or("?", |d| d.name());
            let codec = match chunk.compression() {
                Compression::UNCOMPRESSED
                | Compression::SNAPPY
                | Compression::GZIP(_)
                | Compression::LZ4
                | Compression::LZ4_RAW
                | Compression::ZSTD(_) => continue,
                Compression::BROTLI(_) => "Brotli",
                Compression::LZO => "LZO",
            };
            return Err(ReadError::Unsupported(format!(
                "column \"{name}\" is compressed with {codec}, which metarepro does not read \
                 (it reads uncompressed, Snappy, gzip, LZ4 and zstd pages): write the file with \
                 one of those, e.g. pyarrow's or polars' default"
            )));
        }
    }
    let mut values: Vec<Values> = kinds.iter().map(|&k| empty(k)).collect();
    for g in 0..reader.num_row_groups() {
        let rg = reader.get_row_group(g).map_err(|e| corrupt(e.to_string()))?;
        let rows = usize::try_from(rg.metadata().num_rows())
            .map_err(|_| corrupt(format!("row group {}: negative number of rows", g + 1)))?;
        for (c, (out, &k)) in values.iter_mut().zip(&kinds).enumerate() {
            let descr = schema.column(c);
            let col = rg.get_column_reader(c).map_err(|e| corrupt(e.to_string()))?;
            decode(col, k, rows, descr.max_def_level(), out)
                .map_err(|e| corrupt(format!("row group {}, column \"{}\": {e}", g + 1, descr.name())))?;
        }
    }
    let columns: Vec<Column> = schema
        .columns()
        .iter()
        .zip(values)
        .map(|(d, v)| {
            let name = d.name().into();
            match v {
                Values::Bool(v) => Column::new(name, v),
                Values::Int(v) => Column::new(name, v),
                Values::UInt32(v) => Column::new(name, v),
                Values::UInt64(v) => Column::new(name, v),
                Values::Float(v) => Column::new(name, v),
                Values::Text(v) => Column::new(name, v),
            }
        })
        .collect();
    let height = usize::try_from(meta.file_metadata().num_rows()).unwrap_or(0);
    if columns.is_empty() {
        return Ok(DataFrame::empty_with_height(height));
    }
    DataFrame::new_infer_height(columns).map_err(|e| corrupt(e.to_string()))
}

fn empty(k: Kind) -> Values {
    match k {
        Kind::Bool => Values::Bool(Vec::new()),
        Kind::Int => Values::Int(Vec::new()),
        Kind::UInt32 => Values::UInt32(Vec::new()),
        Kind::UInt64 => Values::UInt64(Vec::new()),
        Kind::Float => Values::Float(Vec::new()),
        Kind::Date | Kind::Timestamp(_) | Kind::Int96 | Kind::Decimal(_) | Kind::Text => Values::Text(Vec::new()),
    }
}

/// The polars type of a column, or why it is not read.
fn kind(c: &ColumnDescriptor) -> Result<Kind, String> {
    let name = c.path().string();
    if c.max_rep_level() > 0 || c.path().parts().len() != 1 {
        return Err(format!(
            "column \"{name}\" is nested (a list, map or struct): metarepro reads flat tables \
             (one value per cell)"
        ));
    }
    let refuse = |what: &str| {
        Err(format!(
            "column \"{name}\" holds {what} ({} {}), which metarepro does not read; \
             store it as text or numbers",
            c.physical_type(),
            c.logical_type_ref()
                .map_or_else(|| c.converted_type().to_string(), |l| format!("{l:?}"))
        ))
    };
    let logical = c.logical_type_ref();
    match c.physical_type() {
        PhysicalType::BOOLEAN => Ok(Kind::Bool),
        PhysicalType::INT32 | PhysicalType::INT64 => {
            let wide = c.physical_type() == PhysicalType::INT64;
            let unsigned = if wide { Kind::UInt64 } else { Kind::UInt32 };
            match logical {
                Some(LogicalType::Integer(t)) if !t.is_signed => Ok(unsigned),
                Some(LogicalType::Integer(_)) | None => match c.converted_type() {
                    ConvertedType::UINT_8
                    | ConvertedType::UINT_16
                    | ConvertedType::UINT_32
                    | ConvertedType::UINT_64 => Ok(unsigned),
                    ConvertedType::DATE => Ok(Kind::Date),
                    ConvertedType::DECIMAL => Ok(Kind::Decimal(c.type_scale())),
                    ConvertedType::TIMESTAMP_MILLIS => Ok(Kind::Timestamp(TimeUnit::MILLIS)),
                    ConvertedType::TIMESTAMP_MICROS => Ok(Kind::Timestamp(TimeUnit::MICROS)),
                    ConvertedType::TIME_MILLIS | ConvertedType::TIME_MICROS => refuse("times of day"),
                    _ => Ok(Kind::Int),
                },
                Some(LogicalType::Date) => Ok(Kind::Date),
                Some(LogicalType::Decimal(d)) => Ok(Kind::Decimal(d.scale)),
                Some(LogicalType::Timestamp(t)) => Ok(Kind::Timestamp(t.unit)),
                Some(LogicalType::Time(_)) => refuse("times of day"),
                Some(_) => refuse("values of an unknown kind"),
            }
        }
        PhysicalType::INT96 => Ok(Kind::Int96),
        PhysicalType::FLOAT | PhysicalType::DOUBLE => Ok(Kind::Float),
        PhysicalType::BYTE_ARRAY => match logical {
            Some(LogicalType::Decimal(d)) => Ok(Kind::Decimal(d.scale)),
            Some(LogicalType::String | LogicalType::Enum | LogicalType::Json) => Ok(Kind::Text),
            None => match c.converted_type() {
                ConvertedType::DECIMAL => Ok(Kind::Decimal(c.type_scale())),
                ConvertedType::NONE | ConvertedType::UTF8 | ConvertedType::ENUM | ConvertedType::JSON => Ok(Kind::Text),
                _ => refuse("binary data"),
            },
            Some(_) => refuse("binary data"),
        },
        PhysicalType::FIXED_LEN_BYTE_ARRAY => match logical {
            Some(LogicalType::Decimal(d)) => Ok(Kind::Decimal(d.scale)),
            None if c.converted_type() == ConvertedType::DECIMAL => Ok(Kind::Decimal(c.type_scale())),
            Some(LogicalType::Float16) => refuse("16-bit floating-point numbers"),
            _ => refuse("fixed-length binary data"),
        },
    }
}

/// Decode `rows` rows of one column chunk into `out`.
fn decode(col: ColumnReader, k: Kind, rows: usize, max_def: i16, out: &mut Values) -> Result<(), String> {
    use ColumnReader as R;
    match (col, out) {
        (R::BoolColumnReader(mut r), Values::Bool(o)) => drain(&mut r, rows, max_def, o, |v| Ok(*v)),
        (R::Int32ColumnReader(mut r), out) => drain_int(&mut r, k, rows, max_def, out, |v| i64::from(*v)),
        (R::Int64ColumnReader(mut r), out) => drain_int(&mut r, k, rows, max_def, out, |v| *v),
        (R::Int96ColumnReader(mut r), Values::Text(o)) => drain(&mut r, rows, max_def, o, |v: &Int96| {
            Ok(timestamp(v.to_nanos(), TimeUnit::NANOS))
        }),
        (R::FloatColumnReader(mut r), Values::Float(o)) => drain(&mut r, rows, max_def, o, |v| Ok(f64::from(*v))),
        (R::DoubleColumnReader(mut r), Values::Float(o)) => drain(&mut r, rows, max_def, o, |v| Ok(*v)),
        (R::ByteArrayColumnReader(mut r), Values::Text(o)) => match k {
            Kind::Decimal(scale) => drain(&mut r, rows, max_def, o, |v: &ByteArray| decimal_bytes(v.data(), scale)),
            _ => drain(&mut r, rows, max_def, o, |v: &ByteArray| {
                std::str::from_utf8(v.data())
                    .map(str::to_string)
                    .map_err(|_| "a value is not UTF-8 text".to_string())
            }),
        },
        (R::FixedLenByteArrayColumnReader(mut r), Values::Text(o)) => match k {
            Kind::Decimal(scale) => drain(&mut r, rows, max_def, o, |v: &FixedLenByteArray| {
                decimal_bytes(v.data(), scale)
            }),
            _ => Err("fixed-length binary data is not read".into()),
        },
        _ => Err("the column's type does not match its schema".into()),
    }
}

/// Integer columns: as integers, or as text (dates, timestamps, decimals).
fn drain_int<T: ParquetType>(
    r: &mut ColumnReaderImpl<T>,
    k: Kind,
    rows: usize,
    max_def: i16,
    out: &mut Values,
    wide: impl Fn(&T::T) -> i64,
) -> Result<(), String> {
    let range = |v: i64, what: &str| format!("{v} is out of range for {what}");
    match (k, out) {
        (Kind::Int, Values::Int(o)) => drain(r, rows, max_def, o, |v| Ok(wide(v))),
        // Unsigned values are stored in the signed physical type: reinterpret the bits.
        (Kind::UInt32, Values::UInt32(o)) => drain(r, rows, max_def, o, |v| Ok(wide(v) as u32)),
        (Kind::UInt64, Values::UInt64(o)) => drain(r, rows, max_def, o, |v| Ok(wide(v) as u64)),
        (Kind::Date, Values::Text(o)) => drain(r, rows, max_def, o, |v| {
            let d = wide(v);
            if d.unsigned_abs() > 100_000_000 {
                return Err(range(d, "a date"));
            }
            let (y, m, day) = civil(d);
            Ok(format!("{y:04}-{m:02}-{day:02}"))
        }),
        (Kind::Timestamp(unit), Values::Text(o)) => drain(r, rows, max_def, o, |v| Ok(timestamp(wide(v), unit))),
        (Kind::Decimal(scale), Values::Text(o)) => drain(r, rows, max_def, o, |v| decimal(i128::from(wide(v)), scale)),
        _ => Err("the column's type does not match its schema".into()),
    }
}

/// Read `rows` records of a flat column, converting each present value.
fn drain<T: ParquetType, U>(
    r: &mut ColumnReaderImpl<T>,
    rows: usize,
    max_def: i16,
    out: &mut Vec<Option<U>>,
    mut convert: impl FnMut(&T::T) -> Result<U, String>,
) -> Result<(), String> {
    let mut def: Vec<i16> = Vec::new();
    let mut vals: Vec<T::T> = Vec::new();
    let mut left = rows;
    out.reserve(rows.min(BATCH));
    while left > 0 {
        def.clear();
        vals.clear();
        let want = left.min(BATCH);
        let levels = if max_def > 0 { Some(&mut def) } else { None };
        let (records, nvals, nlevels) = r
            .read_records(want, levels, None, &mut vals)
            .map_err(|e| e.to_string())?;
        if records == 0 || records > want {
            return Err(format!(
                "the column chunk holds {} of the row group's {rows} rows",
                rows - left
            ));
        }
        let present = vals.get(..nvals).ok_or("fewer values decoded than reported")?;
        if max_def > 0 {
            let levels = def.get(..nlevels).ok_or("fewer levels decoded than reported")?;
            if levels.len() != records {
                return Err("definition levels do not match the rows".into());
            }
            let mut it = present.iter();
            for &l in levels {
                if l == max_def {
                    let v = it.next().ok_or("fewer values than definition levels")?;
                    out.push(Some(convert(v)?));
                } else {
                    out.push(None);
                }
            }
            if it.next().is_some() {
                return Err("more values than definition levels".into());
            }
        } else {
            if present.len() != records {
                return Err("values do not match the rows".into());
            }
            for v in present {
                out.push(Some(convert(v)?));
            }
        }
        left -= records;
    }
    Ok(())
}

/// Year, month, day of a day count since 1970-01-01 (proleptic Gregorian calendar).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DD HH:MM:SS`, with the fraction of a second when it is not zero.
fn timestamp(v: i64, unit: TimeUnit) -> String {
    let (per_second, digits) = match unit {
        TimeUnit::MILLIS => (1_000, 3),
        TimeUnit::MICROS => (1_000_000, 6),
        TimeUnit::NANOS => (1_000_000_000, 9),
    };
    let secs = v.div_euclid(per_second);
    let frac = v.rem_euclid(per_second);
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    let mut t = format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    if frac != 0 {
        let f = format!("{frac:0digits$}");
        t.push('.');
        t.push_str(f.trim_end_matches('0'));
    }
    t
}

/// The exact text of a decimal: `unscaled` × 10^-`scale`, without trailing zeros.
fn decimal(unscaled: i128, scale: i32) -> Result<String, String> {
    let scale = usize::try_from(scale)
        .ok()
        .filter(|&s| s <= 76)
        .ok_or_else(|| format!("decimal scale {scale} out of range"))?;
    let digits = unscaled.unsigned_abs().to_string();
    let sign = if unscaled < 0 { "-" } else { "" };
    if scale == 0 {
        return Ok(format!("{sign}{digits}"));
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    let frac = frac.trim_end_matches('0');
    Ok(if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    })
}

/// A decimal stored as big-endian two's complement bytes.
fn decimal_bytes(b: &[u8], scale: i32) -> Result<String, String> {
    if b.is_empty() || b.len() > 16 {
        return Err(format!("a decimal of {} bytes is not read (at most 16)", b.len()));
    }
    let negative = b.first().is_some_and(|&x| x & 0x80 != 0);
    let mut buf = if negative { [0xffu8; 16] } else { [0u8; 16] };
    if let Some(tail) = buf.get_mut(16 - b.len()..) {
        tail.copy_from_slice(b);
    }
    decimal(i128::from_be_bytes(buf), scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(11_016), (2000, 2, 29));
        assert_eq!(civil(-1), (1969, 12, 31));
        assert_eq!(timestamp(0, TimeUnit::MILLIS), "1970-01-01 00:00:00");
        assert_eq!(timestamp(1_500, TimeUnit::MILLIS), "1970-01-01 00:00:01.5");
        assert_eq!(timestamp(-1, TimeUnit::MICROS), "1969-12-31 23:59:59.999999");
        assert_eq!(
            timestamp(1_109_680_200_000_000_000, TimeUnit::NANOS),
            "2005-03-01 12:30:00"
        );
    }

    #[test]
    fn decimals() {
        assert_eq!(decimal(1250, 2).unwrap(), "12.5");
        assert_eq!(decimal(1200, 2).unwrap(), "12");
        assert_eq!(decimal(-5, 3).unwrap(), "-0.005");
        assert_eq!(decimal(12, 0).unwrap(), "12");
        assert_eq!(decimal_bytes(&[0xff, 0x38], 1).unwrap(), "-20");
        assert_eq!(decimal_bytes(&[0x04, 0xd2], 2).unwrap(), "12.34");
        assert!(decimal_bytes(&[0; 17], 0).is_err());
    }
}
