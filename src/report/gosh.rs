//! The columns of a GOSH table ([`crate::diagnostics::GoshRow`]) as [`TableWriter`](super::stream::TableWriter)
//! writes them (Parquet or CSV, `gosh --output`).

use super::stream::{csv_f64, ColumnData, TableRows};
use crate::diagnostics::GoshRow;

impl TableRows for GoshRow {
    fn columns(rows: &[Self]) -> Vec<(&'static str, ColumnData<'_>)> {
        let f = |g: fn(&GoshRow) -> f64| ColumnData::F64(rows.iter().map(g).collect());
        vec![
            ("mask", ColumnData::U64(rows.iter().map(|r| r.mask).collect())),
            ("k", ColumnData::U32(rows.iter().map(|r| r.k).collect())),
            ("estimate", f(|r| r.estimate)),
            ("QE", f(|r| r.qe)),
            ("I2", f(|r| r.i2)),
            ("H2", f(|r| r.h2)),
            ("tau2", f(|r| r.tau2)),
            (
                "converged",
                ColumnData::Bool(rows.iter().map(|r| r.converged).collect()),
            ),
        ]
    }

    fn csv_header() -> &'static str {
        "mask,k,estimate,QE,I2,H2,tau2,converged\n"
    }

    fn write_csv(rows: &[Self], out: &mut Vec<u8>) {
        use std::io::Write;
        for r in rows {
            let _ = write!(out, "{},{}", r.mask, r.k);
            for x in [r.estimate, r.qe, r.i2, r.h2, r.tau2] {
                out.push(b',');
                csv_f64(out, x);
            }
            let _ = writeln!(out, ",{}", r.converged);
        }
    }
}
