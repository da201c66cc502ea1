//! The one reader of delimited text (CSV, TSV, any one-byte delimiter), used both for whole
//! tables ([`parse_delimited`], behind [`super::read_table`]) and for streaming files of any size
//! one record at a time ([`DelimitedStream`], behind `batch`).
//!
//! The rules (RFC 4180 with the leniencies spreadsheets need):
//! - LF, CRLF or a lone CR ends a record; a UTF-8 byte-order mark at the start is skipped;
//! - a quote opens a quoted field only at the start of a field (after optional spaces); elsewhere
//!   it is an ordinary character; inside quotes `""` is a quote and line breaks are kept (as LF);
//! - after a closing quote only spaces may come before the delimiter or the end of the line;
//! - a quote never closed, a NUL byte, or a record that is not UTF-8 is an error naming the line;
//! - blank records (only whitespace) are skipped.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// One record of a delimited text file.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// File line the record starts on (1-based).
    pub line: usize,
    pub fields: Vec<String>,
}

/// Every non-blank record of `text` (see the module rules).
pub fn parse_delimited(path: &Path, text: &str, sep: u8) -> Result<Vec<Record>> {
    let mut stream = DelimitedStream::new(text.as_bytes(), path, sep);
    let mut records = Vec::new();
    while let Some(line) = stream.next_record()? {
        let fields = (0..stream.n_fields()).map(|i| stream.field(i).to_string()).collect();
        records.push(Record { line, fields });
    }
    Ok(records)
}

/// A streaming reader of delimited text that keeps one record in memory.
pub struct DelimitedStream<R: Read> {
    reader: BufReader<R>,
    path: PathBuf,
    sep: u8,
    line: usize,
    /// Bytes consumed so far (for progress).
    pub bytes: u64,
    buf: Vec<u8>,
    ends: Vec<usize>,
    first: bool,
}

/// Where a record's scan stands between two bytes (kept over buffer refills).
#[derive(Default)]
struct Scan {
    in_quotes: bool,
    /// A '"' inside quotes was the last byte (a closing quote, or the first of `""`).
    quote_pending: bool,
    /// Inside quotes, a CR was the last byte: a following LF belongs to it.
    cr_in_quotes: bool,
    /// A quoted field was closed: only spaces until the delimiter or the end of the line.
    after_quote: bool,
    /// A CR ended the record: a following LF belongs to it.
    cr_pending: bool,
    /// Where the current field starts in `buf`, and whether it holds only spaces so far.
    field_begin: usize,
    only_spaces: bool,
    /// Line of the quote that opened the current quoted field.
    quote_line: usize,
}

impl<R: Read> DelimitedStream<R> {
    pub fn new(reader: R, path: &Path, sep: u8) -> Self {
        DelimitedStream {
            reader: BufReader::with_capacity(1 << 16, reader),
            path: path.to_path_buf(),
            sep,
            line: 1,
            bytes: 0,
            buf: Vec::new(),
            ends: Vec::new(),
            first: true,
        }
    }

    fn err(&self, line: usize, m: impl Into<String>) -> Error {
        Error::Input {
            file: self.path.clone(),
            message: format!("line {line}: {}", m.into()),
        }
    }

    fn io_err(path: &Path, e: std::io::Error) -> Error {
        Error::Input {
            file: path.to_path_buf(),
            message: e.to_string(),
        }
    }

    /// Skip a UTF-8 byte-order mark at the start of the input.
    fn skip_bom(&mut self) -> Result<()> {
        let avail = self.reader.fill_buf().map_err(|e| Self::io_err(&self.path, e))?;
        if avail.first() != Some(&0xEF) {
            return Ok(());
        }
        let mut head = [0u8; 3];
        let mut n = 0;
        while n < 3 {
            let avail = self.reader.fill_buf().map_err(|e| Self::io_err(&self.path, e))?;
            let Some(&b) = avail.first() else { break };
            head[n] = b;
            n += 1;
            self.reader.consume(1);
            self.bytes += 1;
        }
        if head[..n] != [0xEF, 0xBB, 0xBF] {
            // Not a BOM: the bytes are data (and fail the UTF-8 check of their record).
            self.buf.extend_from_slice(&head[..n]);
        }
        Ok(())
    }

    /// The error for a byte other than a space, the delimiter or a line end after a closing quote.
    fn after_quote_error(&self, b: u8) -> Error {
        let hint = match b {
            b';' => "; is the file semicolon-separated? give ';' as the delimiter".to_string(),
            b'\t' => "; is the file tab-separated? give a tab as the delimiter".to_string(),
            b'|' => "; is the file pipe-separated? give '|' as the delimiter".to_string(),
            _ => " (a quote inside a quoted field must be doubled: \"\")".to_string(),
        };
        let shown: String = char::from(b).escape_default().collect();
        self.err(
            self.line,
            format!(
                "unexpected '{shown}' after the closing quote of field {}{hint}",
                self.ends.len() + 1
            ),
        )
    }

    /// Read one raw record into `buf`/`ends`: `None` at the end of the input, else its first
    /// line and whether it is blank. Scans the reader's buffer in place (no call per byte); a
    /// quote or a CR whose meaning depends on the next byte is carried over buffer refills.
    fn read_raw(&mut self) -> Result<Option<(usize, bool)>> {
        self.buf.clear();
        self.ends.clear();
        let start = self.line;
        if self.first {
            self.first = false;
            self.skip_bom()?;
        }
        let mut any = !self.buf.is_empty();
        let mut s = Scan {
            only_spaces: true,
            ..Scan::default()
        };
        let sep = self.sep;
        loop {
            let avail = self.reader.fill_buf().map_err(|e| Self::io_err(&self.path, e))?;
            if avail.is_empty() {
                if s.cr_pending {
                    break;
                }
                if s.quote_pending {
                    s.in_quotes = false;
                }
                if s.in_quotes {
                    return Err(self.err(
                        s.quote_line,
                        format!(
                            "the quote opening field {} is never closed (unterminated quote)",
                            self.ends.len() + 1
                        ),
                    ));
                }
                if !any {
                    return Ok(None);
                }
                break;
            }
            let n = avail.len();
            let mut i = 0;
            let mut done = false;
            let mut nul = false;
            let mut bad_after_quote = None;
            while i < n {
                let b = avail[i];
                if s.cr_pending {
                    if b == b'\n' {
                        i += 1;
                    }
                    done = true;
                    break;
                }
                i += 1;
                any = true;
                if b == 0 {
                    nul = true;
                    break;
                }
                if s.quote_pending {
                    s.quote_pending = false;
                    if b == b'"' {
                        self.buf.push(b'"');
                        continue;
                    }
                    s.in_quotes = false;
                    s.after_quote = true;
                }
                if s.in_quotes {
                    if s.cr_in_quotes {
                        s.cr_in_quotes = false;
                        if b == b'\n' {
                            continue;
                        }
                    }
                    match b {
                        b'"' => s.quote_pending = true,
                        b'\r' => {
                            self.line += 1;
                            self.buf.push(b'\n');
                            s.cr_in_quotes = true;
                        }
                        b'\n' => {
                            self.line += 1;
                            self.buf.push(b'\n');
                        }
                        b => self.buf.push(b),
                    }
                    continue;
                }
                if s.after_quote {
                    if b == b' ' && sep != b' ' {
                        continue;
                    }
                    if b != sep && b != b'\n' && b != b'\r' {
                        bad_after_quote = Some(b);
                        break;
                    }
                    s.after_quote = false;
                }
                match b {
                    b'"' if s.only_spaces => {
                        self.buf.truncate(s.field_begin);
                        s.in_quotes = true;
                        s.only_spaces = false;
                        s.quote_line = self.line;
                    }
                    b'\n' => {
                        self.line += 1;
                        done = true;
                        break;
                    }
                    b'\r' => {
                        self.line += 1;
                        s.cr_pending = true;
                    }
                    b if b == sep => {
                        self.ends.push(self.buf.len());
                        s.field_begin = self.buf.len();
                        s.only_spaces = true;
                    }
                    b => {
                        self.buf.push(b);
                        s.only_spaces &= b == b' ';
                    }
                }
            }
            self.reader.consume(i);
            self.bytes += i as u64;
            if nul {
                return Err(self.err(self.line, "NUL byte: this is not a text table (binary data?)"));
            }
            if let Some(b) = bad_after_quote {
                return Err(self.after_quote_error(b));
            }
            if done {
                break;
            }
        }
        self.ends.push(self.buf.len());
        let blank = self.buf.iter().all(|c| c.is_ascii_whitespace());
        Ok(Some((start, blank)))
    }

    /// The next non-blank record: its first line. Its fields are then [`Self::field`].
    pub fn next_record(&mut self) -> Result<Option<usize>> {
        let start = loop {
            match self.read_raw()? {
                None => return Ok(None),
                Some((_, true)) => continue,
                Some((start, false)) => break start,
            }
        };
        if std::str::from_utf8(&self.buf).is_err() {
            return Err(self.err(
                start,
                "the text is not UTF-8 (probably Latin-1 or Windows-1252): re-save it as UTF-8",
            ));
        }
        Ok(Some(start))
    }

    /// The number of fields of the last record.
    pub fn n_fields(&self) -> usize {
        self.ends.len()
    }

    /// Field `i` of the last record ("" beyond its last field).
    pub fn field(&self, i: usize) -> &str {
        let Some(&end) = self.ends.get(i) else {
            return "";
        };
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        // The record is valid UTF-8 and fields end at an ASCII delimiter.
        std::str::from_utf8(&self.buf[start..end]).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str, sep: u8) -> Vec<Vec<String>> {
        parse_delimited(Path::new("x.csv"), text, sep)
            .unwrap()
            .into_iter()
            .map(|r| r.fields)
            .collect()
    }

    #[test]
    fn quotes_line_ends_and_blank_lines() {
        let p = Path::new("x.csv");
        let r = parse_delimited(p, "a,b\r\n\"x, \"\"y\"\"\",2\r\n", b',').unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].fields, vec!["x, \"y\"".to_string(), "2".to_string()]);
        let r = parse_delimited(p, "a,b\n\"multi\nline\",2\n3,4", b',').unwrap();
        assert_eq!(r[2].line, 4);
        let r = parse_delimited(p, "a;b\r1;2\r", b';').unwrap();
        assert_eq!(r[1].fields, vec!["1".to_string(), "2".to_string()]);
        // A CRLF or a lone CR inside quotes is kept as LF and counted as a line.
        let r = parse_delimited(p, "a,b\r\n\"x\r\ny\r z\",2\r\n3,4\r\n", b',').unwrap();
        assert_eq!(r[1].fields[0], "x\ny\n z");
        assert_eq!(r[2].line, 5);
        // Blank lines are skipped; a BOM is not part of the first name.
        assert_eq!(
            fields("\u{feff}a,b\n\n  \n1,2\n", b','),
            vec![vec!["a", "b"], vec!["1", "2"]]
        );
    }

    #[test]
    fn quote_after_spaces_opens_a_field_and_spaces_may_follow_it() {
        assert_eq!(
            fields("a,b\n  \"x,y\"  ,2\n", b','),
            vec![vec!["a", "b"], vec!["x,y", "2"]]
        );
        // A quote inside a field is an ordinary character.
        assert_eq!(fields("a,b\nab\"c,2\n", b','), vec![vec!["a", "b"], vec!["ab\"c", "2"]]);
        // A closing quote at the end of the input.
        assert_eq!(fields("a\n\"x\"", b','), vec![vec!["a"], vec!["x"]]);
    }

    #[test]
    fn malformed_text_is_an_error_naming_the_line() {
        let p = Path::new("x.csv");
        let e = parse_delimited(p, "a,b\n\"open,2\n", b',').unwrap_err().to_string();
        assert!(
            e.contains("line 2") && e.contains("field 1") && e.contains("unterminated"),
            "{e}"
        );
        let e = parse_delimited(p, "a,b\n1,\"x\"y\n", b',').unwrap_err().to_string();
        assert!(
            e.contains("line 2") && e.contains("field 2") && e.contains("doubled"),
            "{e}"
        );
        let e = parse_delimited(p, "a;b\n\"x\";2\n", b',').unwrap_err().to_string();
        assert!(e.contains("semicolon-separated"), "{e}");
        let e = parse_delimited(p, "a,b\n1,2\n3,\u{0}\n", b',').unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("NUL"), "{e}");
    }

    #[test]
    fn a_record_split_over_buffer_refills_reads_the_same() {
        // A reader that hands out one byte at a time forces every refill boundary.
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                match (self.0.split_first(), out.first_mut()) {
                    (Some((&b, rest)), Some(o)) => {
                        *o = b;
                        self.0 = rest;
                        Ok(1)
                    }
                    _ => Ok(0),
                }
            }
        }
        let text = "\u{feff}a,b\r\n \"x\"\"y\r\nz\" ,2\r3,4\r\n\"\",5";
        let mut s = DelimitedStream::new(OneByte(text.as_bytes()), Path::new("x.csv"), b',');
        let mut got = Vec::new();
        while let Some(line) = s.next_record().unwrap() {
            got.push((
                line,
                (0..s.n_fields()).map(|i| s.field(i).to_string()).collect::<Vec<_>>(),
            ));
        }
        let whole: Vec<_> = parse_delimited(Path::new("x.csv"), text, b',')
            .unwrap()
            .into_iter()
            .map(|r| (r.line, r.fields))
            .collect();
        assert_eq!(got, whole);
        assert_eq!(got[1].1, vec!["x\"y\nz", "2"]);
        assert_eq!(got[2].0, 4);
    }
}
