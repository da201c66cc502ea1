//! Structural checks of a Parquet file before it is decoded.
//!
//! A Parquet reader may trust the counts in a file's page headers: a corrupt header (say a
//! negative `num_values`, read as a huge unsigned number) made the reader used before (polars)
//! try to allocate exabytes, and a failed allocation aborts the process — it cannot be caught
//! like a panic. Fuzzing found such files (`tests/data/bad/fuzz/`). So, before the data are
//! decoded ([`super::parquet_read`]), every page header of every column chunk is read here
//! (Thrift compact protocol, bounds-checked) and the counts and sizes are checked against each
//! other, the file size and limits far above any study table. The footer is scanned the same way
//! before the metadata are decoded ([`check_footer`]). Limits:
//! at most [`MAX_VALUES`] rows per file and values per column chunk, and pages of at most
//! [`MAX_PAGE_BYTES`] uncompressed.

use parquet::file::metadata::ParquetMetaData;

/// Most rows of a file and most values of a column chunk accepted (a study table has far fewer).
pub const MAX_VALUES: u64 = 10_000_000;
/// Largest uncompressed page accepted.
pub const MAX_PAGE_BYTES: i64 = 256 << 20;
/// Most pages per column chunk.
const MAX_PAGES: usize = 1_000_000;
/// Deepest nesting of Thrift structs and containers.
const MAX_DEPTH: usize = 32;

type Check<T> = std::result::Result<T, String>;

/// Check the footer (the file metadata, Thrift-encoded) before it is decoded: its length, and
/// that no list, map or string in it claims more elements or bytes than the footer holds
/// (a decoder may reserve memory for the declared sizes; fuzzing found footers declaring lists
/// of billions of row groups).
pub fn check_footer(bytes: &[u8]) -> Check<()> {
    let n = bytes.len();
    let len_bytes = bytes
        .get(n.saturating_sub(8)..n.saturating_sub(4))
        .ok_or("the file is too short for a Parquet footer")?;
    let mut le = [0u8; 4];
    le.copy_from_slice(len_bytes);
    let len = u32::from_le_bytes(le) as usize;
    let start = n
        .checked_sub(8)
        .and_then(|e| e.checked_sub(len))
        .filter(|&s| s >= 4)
        .ok_or_else(|| format!("the footer length ({len} bytes) is larger than the file ({n} bytes)"))?;
    let footer = bytes.get(start..n - 8).ok_or("footer outside the file")?;
    let mut t = Thrift { b: footer, pos: 0 };
    t.skip(T_STRUCT, 0)
        .map_err(|m| format!("corrupt footer: {}", m.replace("page header", "footer")))
}

/// Check the row groups, column chunks and page headers of `bytes` against `meta`.
pub fn check(bytes: &[u8], meta: &ParquetMetaData) -> Check<()> {
    let file_len = bytes.len() as u64;
    let num_rows = meta.file_metadata().num_rows();
    if !(0..=MAX_VALUES as i64).contains(&num_rows) {
        return Err(format!(
            "the footer declares {num_rows} rows (more than {MAX_VALUES} or negative: corrupt?)"
        ));
    }
    let mut rows = 0u64;
    for (g, rg) in meta.row_groups().iter().enumerate() {
        let n = u64::try_from(rg.num_rows())
            .map_err(|_| format!("row group {}: {} rows declared", g + 1, rg.num_rows()))?;
        rows = rows.saturating_add(n);
        if rows > MAX_VALUES {
            return Err(format!(
                "row group {} brings the rows to more than {MAX_VALUES} (corrupt?)",
                g + 1
            ));
        }
        for (c, col) in rg.columns().iter().enumerate() {
            let place = format!("row group {}, column chunk {}", g + 1, c + 1);
            let total = col.num_values();
            if !(0..=MAX_VALUES as i64).contains(&total) {
                return Err(format!("{place}: {total} values declared"));
            }
            let start = col.dictionary_page_offset().unwrap_or_else(|| col.data_page_offset());
            let size = col.compressed_size();
            if start < 0 || size < 0 {
                return Err(format!("{place}: negative offset or size"));
            }
            let (start, size) = (start as u64, size as u64);
            let end = start.checked_add(size).filter(|&e| e <= file_len).ok_or_else(|| {
                format!("{place}: the chunk ({size} bytes at {start}) lies outside the file ({file_len} bytes)")
            })?;
            check_pages(bytes, start as usize, end as usize, total).map_err(|m| format!("{place}: {m}"))?;
        }
    }
    Ok(())
}

/// Walk the pages of one column chunk, as the reader will: until `total` values were seen.
fn check_pages(bytes: &[u8], start: usize, end: usize, total: i64) -> Check<()> {
    let chunk = bytes.get(start..end).ok_or("chunk outside the file")?;
    let mut pos = 0usize;
    let mut seen = 0i64;
    let mut pages = 0usize;
    while seen < total {
        pages += 1;
        if pages > MAX_PAGES {
            return Err("too many pages".into());
        }
        let rest = chunk
            .get(pos..)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| format!("the pages hold {seen} of the {total} values declared"))?;
        let mut t = Thrift { b: rest, pos: 0 };
        let h = t.page_header(0)?;
        let at = format!("page {pages}");
        if !(0..=MAX_PAGE_BYTES).contains(&i64::from(h.uncompressed)) {
            return Err(format!("{at}: uncompressed size {} out of range", h.uncompressed));
        }
        if h.compressed < 0 {
            return Err(format!("{at}: negative compressed size"));
        }
        let data_end = t
            .pos
            .checked_add(h.compressed as usize)
            .filter(|&e| e <= rest.len())
            .ok_or_else(|| format!("{at}: the page runs past the end of its column chunk"))?;
        match h.kind {
            // Data page (v1 or v2).
            0 | 3 => {
                let n = i64::from(
                    h.num_values
                        .ok_or_else(|| format!("{at}: data page without a data page header"))?,
                );
                if n < 0 || n > total - seen {
                    return Err(format!(
                        "{at}: {n} values declared, but only {} of the chunk's {total} remain",
                        total - seen
                    ));
                }
                if h.kind == 3 {
                    let nulls = i64::from(h.num_nulls.unwrap_or(0));
                    let rows = i64::from(h.num_rows.unwrap_or(0));
                    if !(0..=n).contains(&nulls) || !(0..=n).contains(&rows) {
                        return Err(format!("{at}: {nulls} nulls or {rows} rows declared for {n} values"));
                    }
                    let levels = h.levels_len.unwrap_or(0);
                    if levels < 0 || levels > h.compressed {
                        return Err(format!("{at}: level lengths out of range"));
                    }
                }
                seen += n;
            }
            // Dictionary page.
            2 => {
                let n = h
                    .num_values
                    .ok_or_else(|| format!("{at}: dictionary page without a dictionary page header"))?;
                if n < 0 || i64::from(n) > i64::from(h.uncompressed).max(i64::from(h.compressed)) + 1 {
                    return Err(format!(
                        "{at}: {n} dictionary values declared in {} bytes",
                        h.uncompressed
                    ));
                }
            }
            // Index page: skipped.
            1 => {}
            k => return Err(format!("{at}: unknown page type {k}")),
        }
        pos += data_end;
    }
    Ok(())
}

/// What the checks need from a Parquet `PageHeader`.
#[derive(Debug, Default)]
struct PageHeader {
    kind: i32,
    uncompressed: i32,
    compressed: i32,
    /// `num_values` of the data (v1 or v2) or dictionary page header.
    num_values: Option<i32>,
    num_nulls: Option<i32>,
    num_rows: Option<i32>,
    /// Definition plus repetition level bytes (v2).
    levels_len: Option<i32>,
}

/// A bounds-checked reader of the Thrift compact protocol.
struct Thrift<'a> {
    b: &'a [u8],
    pos: usize,
}

const T_TRUE: u8 = 1;
const T_FALSE: u8 = 2;
const T_BYTE: u8 = 3;
const T_I16: u8 = 4;
const T_I32: u8 = 5;
const T_I64: u8 = 6;
const T_DOUBLE: u8 = 7;
const T_BINARY: u8 = 8;
const T_LIST: u8 = 9;
const T_SET: u8 = 10;
const T_MAP: u8 = 11;
const T_STRUCT: u8 = 12;

impl Thrift<'_> {
    fn byte(&mut self) -> Check<u8> {
        let b = *self.b.get(self.pos).ok_or("page header cut short")?;
        self.pos += 1;
        Ok(b)
    }

    fn advance(&mut self, n: u64) -> Check<()> {
        let left = (self.b.len() - self.pos.min(self.b.len())) as u64;
        if n > left {
            return Err("page header cut short".into());
        }
        self.pos += n as usize;
        Ok(())
    }

    fn varint(&mut self) -> Check<u64> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err("varint overflow in page header".into());
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long in page header".into())
    }

    fn zigzag(&mut self) -> Check<i64> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn i32(&mut self, ty: u8) -> Check<i32> {
        if ty != T_I32 {
            return Err(format!("page header field of type {ty} where an i32 was expected"));
        }
        i32::try_from(self.zigzag()?).map_err(|_| "i32 out of range in page header".to_string())
    }

    /// Read the fields of a struct, handing each (id, type) to `field`, which must consume the
    /// value (or call `skip`).
    fn fields(&mut self, depth: usize, mut field: impl FnMut(&mut Self, i16, u8) -> Check<()>) -> Check<()> {
        if depth > MAX_DEPTH {
            return Err("page header nested too deeply".into());
        }
        let mut last = 0i16;
        loop {
            let h = self.byte()?;
            if h == 0 {
                return Ok(());
            }
            let ty = h & 0x0f;
            let delta = h >> 4;
            let id = if delta == 0 {
                i16::try_from(self.zigzag()?).map_err(|_| "field id out of range in page header")?
            } else {
                last.checked_add(i16::from(delta))
                    .ok_or("field id out of range in page header")?
            };
            last = id;
            field(self, id, ty)?;
        }
    }

    fn skip(&mut self, ty: u8, depth: usize) -> Check<()> {
        if depth > MAX_DEPTH {
            return Err("page header nested too deeply".into());
        }
        match ty {
            T_TRUE | T_FALSE => Ok(()),
            T_BYTE => self.advance(1),
            T_I16 | T_I32 | T_I64 => self.varint().map(|_| ()),
            T_DOUBLE => self.advance(8),
            T_BINARY => {
                let n = self.varint()?;
                self.advance(n)
            }
            T_LIST | T_SET => {
                let h = self.byte()?;
                let n = match h >> 4 {
                    15 => self.varint()?,
                    n => u64::from(n),
                };
                let elem = h & 0x0f;
                if n > (self.b.len() - self.pos.min(self.b.len())) as u64 {
                    return Err("list longer than the page header".into());
                }
                for _ in 0..n {
                    if elem == T_TRUE || elem == T_FALSE {
                        self.advance(1)?;
                    } else {
                        self.skip(elem, depth + 1)?;
                    }
                }
                Ok(())
            }
            T_MAP => {
                let n = self.varint()?;
                if n == 0 {
                    return Ok(());
                }
                if n > (self.b.len() - self.pos.min(self.b.len())) as u64 {
                    return Err("map larger than the page header".into());
                }
                let kv = self.byte()?;
                for _ in 0..n {
                    self.skip(kv >> 4, depth + 1)?;
                    self.skip(kv & 0x0f, depth + 1)?;
                }
                Ok(())
            }
            T_STRUCT => self.fields(depth + 1, |t, _, ty| t.skip(ty, depth + 1)),
            t => Err(format!("unknown Thrift type {t} in page header")),
        }
    }

    fn page_header(&mut self, depth: usize) -> Check<PageHeader> {
        let mut h = PageHeader {
            kind: -1,
            uncompressed: -1,
            compressed: -1,
            ..PageHeader::default()
        };
        self.fields(depth, |t, id, ty| {
            match (id, ty) {
                (1, _) => h.kind = t.i32(ty)?,
                (2, _) => h.uncompressed = t.i32(ty)?,
                (3, _) => h.compressed = t.i32(ty)?,
                // DataPageHeader / DictionaryPageHeader: num_values is field 1.
                (5, T_STRUCT) | (7, T_STRUCT) => t.fields(depth + 1, |t, id, ty| match id {
                    1 => {
                        h.num_values = Some(t.i32(ty)?);
                        Ok(())
                    }
                    _ => t.skip(ty, depth + 2),
                })?,
                // DataPageHeaderV2.
                (8, T_STRUCT) => t.fields(depth + 1, |t, id, ty| {
                    match id {
                        1 => h.num_values = Some(t.i32(ty)?),
                        2 => h.num_nulls = Some(t.i32(ty)?),
                        3 => h.num_rows = Some(t.i32(ty)?),
                        5 | 6 => {
                            let v = t.i32(ty)?;
                            let sum = h.levels_len.unwrap_or(0).checked_add(v);
                            h.levels_len = Some(sum.ok_or("level lengths overflow")?);
                        }
                        _ => t.skip(ty, depth + 2)?,
                    }
                    Ok(())
                })?,
                _ => t.skip(ty, depth + 1)?,
            }
            Ok(())
        })?;
        if h.kind < 0 || h.uncompressed < 0 || h.compressed < 0 {
            return Err("page header without type or sizes".into());
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_page_header() {
        // type = 0 (data page), uncompressed = 10, compressed = 8,
        // data_page_header { num_values = 3, encoding = 0 }.
        let bytes = [
            0x15, 0x00, 0x15, 0x14, 0x15, 0x10, 0x2c, 0x15, 0x06, 0x15, 0x00, 0x00, 0x00,
        ];
        let h = Thrift { b: &bytes, pos: 0 }.page_header(0).unwrap();
        assert_eq!(
            (h.kind, h.uncompressed, h.compressed, h.num_values),
            (0, 10, 8, Some(3))
        );
        // Negative num_values is read as such (and refused by check_pages).
        let bytes = [
            0x15, 0x00, 0x15, 0x14, 0x15, 0x10, 0x2c, 0x15, 0x01, 0x15, 0x00, 0x00, 0x00,
        ];
        let h = Thrift { b: &bytes, pos: 0 }.page_header(0).unwrap();
        assert_eq!(h.num_values, Some(-1));
        // Cut short.
        assert!(Thrift { b: &bytes[..5], pos: 0 }.page_header(0).is_err());
    }
}
