//! Reading PostgreSQL's COPY text format: tab-separated fields, `\N` for NULL, backslash
//! escapes, one row per line (newlines inside values are escaped, so a raw `\n` ends a row).
//! Rows land column by column in flat buffers: no allocation per value.

/// One column of a batch: the values' bytes back to back, where each ends, and NULLs.
#[derive(Default)]
pub struct Column {
    data: Vec<u8>,
    ends: Vec<u32>,
    null: Vec<bool>,
}

impl Column {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The `i`-th value; `None` for NULL (and for bytes that are not UTF-8, which COPY in a
    /// UTF8 client encoding does not send).
    pub fn get(&self, i: usize) -> Option<&str> {
        if self.null[i] {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        std::str::from_utf8(&self.data[start..self.ends[i] as usize]).ok()
    }

    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> {
        // Validate the whole buffer once, and that every value ends on a character boundary;
        // then each value is valid UTF-8 on its own and needs no check of its own.
        let whole = std::str::from_utf8(&self.data)
            .ok()
            .filter(|s| self.ends.iter().all(|e| s.is_char_boundary(*e as usize)));
        (0..self.len()).map(move |i| match whole {
            Some(s) if !self.null[i] => {
                let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
                Some(&s[start..self.ends[i] as usize])
            }
            Some(_) => None,
            None => self.get(i),
        })
    }

    /// A column holding `values` as they are (no COPY escaping).
    #[cfg(test)]
    pub fn from_values<S: AsRef<str>>(values: &[Option<S>]) -> Column {
        let mut c = Column::default();
        for v in values {
            match v {
                None => c.null.push(true),
                Some(v) => {
                    c.null.push(false);
                    c.data.extend_from_slice(v.as_ref().as_bytes());
                }
            }
            c.ends.push(c.data.len() as u32);
        }
        c
    }

    fn push(&mut self, field: &[u8]) {
        self.push_field(field, true);
    }

    /// Appends a field; `escaped`: it may hold a backslash (else it is copied as it is).
    fn push_field(&mut self, field: &[u8], escaped: bool) {
        if escaped && field == b"\\N" {
            self.null.push(true);
        } else {
            self.null.push(false);
            if escaped {
                unescape_into(field, &mut self.data);
            } else {
                self.data.extend_from_slice(field);
            }
        }
        self.ends.push(self.data.len() as u32);
    }
}

/// One batch of rows, column by column.
pub struct Batch {
    pub columns: Vec<Column>,
    pub rows: usize,
}

impl Batch {
    /// The bytes the batch holds.
    pub fn bytes(&self) -> usize {
        self.columns.iter().map(|c| c.data.len()).sum()
    }

    pub fn new(ncols: usize) -> Batch {
        Batch {
            columns: (0..ncols).map(|_| Column::default()).collect(),
            rows: 0,
        }
    }

    /// Empties the batch, keeping its room (a batch reused is not grown again, copy by copy).
    pub fn clear(&mut self) {
        for c in &mut self.columns {
            c.data.clear();
            c.ends.clear();
            c.null.clear();
        }
        self.rows = 0;
    }

    /// Appends the complete lines in `buf` and returns how many bytes were consumed; a
    /// partial last line is left for the next chunk.
    pub fn push_lines(&mut self, buf: &[u8]) -> usize {
        // One pass finds tabs, line ends and backslashes at once (a pass for lines, one per
        // line for tabs and one per field for escapes cost a tenth of an exact profile).
        let Some(last) = memchr::memrchr(b'\n', buf) else {
            return 0;
        };
        let body = &buf[..=last];
        let ncols = self.columns.len();
        let (mut col, mut field, mut escaped) = (0, 0, false);
        for i in memchr::memchr3_iter(b'\t', b'\n', b'\\', body) {
            let sep = body[i];
            if sep == b'\\' {
                escaped = true;
                continue;
            }
            if let Some(c) = self.columns.get_mut(col) {
                c.push_field(&body[field..i], escaped);
            }
            col += 1;
            field = i + 1;
            escaped = false;
            if sep == b'\n' {
                // Fields past the batch's columns are ignored, missing ones are NULL.
                for c in self.columns.iter_mut().skip(col.min(ncols)) {
                    c.push_field(b"\\N", true);
                }
                col = 0;
                self.rows += 1;
            }
        }
        last + 1
    }

    /// Appends one row (fields past the batch's columns are ignored, missing ones are NULL).
    fn push_line(&mut self, line: &[u8]) {
        let mut cols = self.columns.iter_mut();
        let mut field = 0;
        for tab in memchr::memchr_iter(b'\t', line) {
            if let Some(col) = cols.next() {
                col.push(&line[field..tab]);
            } else {
                break;
            }
            field = tab + 1;
        }
        if let Some(col) = cols.next() {
            col.push(&line[field..]);
        }
        for col in cols {
            col.push(b"\\N");
        }
        self.rows += 1;
    }
}

/// Appends the complete lines in `buf` to the batch their first field names (its index in
/// `batches`: rows of several tables read by one statement) and returns how many bytes were
/// consumed; a partial last line is left for the next chunk. A line naming no batch is an
/// error.
pub fn route_lines(buf: &[u8], batches: &mut [Batch]) -> Result<usize, String> {
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', buf) {
        let line = &buf[start..nl];
        let tab = memchr::memchr(b'\t', line).unwrap_or(line.len());
        let batch = std::str::from_utf8(&line[..tab])
            .ok()
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| batches.get_mut(i))
            .ok_or_else(|| "a row of no table in the batched read".to_string())?;
        batch.push_line(line.get(tab + 1..).unwrap_or_default());
        start = nl + 1;
    }
    Ok(start)
}

fn unescape_into(field: &[u8], out: &mut Vec<u8>) {
    if memchr::memchr(b'\\', field).is_none() {
        out.extend_from_slice(field);
        return;
    }
    let mut i = 0;
    while i < field.len() {
        let b = field[i];
        if b != b'\\' || i + 1 == field.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let n = field[i + 1];
        i += 2;
        match n {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = (n - b'0') as u32;
                let mut k = 0;
                while k < 2 && i < field.len() && (b'0'..=b'7').contains(&field[i]) {
                    v = v * 8 + (field[i] - b'0') as u32;
                    i += 1;
                    k += 1;
                }
                out.push(v as u8);
            }
            b'x' => {
                let mut v = 0u32;
                let mut k = 0;
                while k < 2 && i < field.len() && field[i].is_ascii_hexdigit() {
                    v = v * 16 + (field[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    k += 1;
                }
                out.push(v as u8);
            }
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_nulls_escapes_and_partial_lines() {
        let mut b = Batch::new(3);
        let data = b"a\\tb\t\\N\tline\\nbreak\nx\t\\\\\t\\101\\x42\npartial\t";
        let used = b.push_lines(data);
        assert_eq!(&data[used..], b"partial\t");
        assert_eq!(b.rows, 2);
        let col = |i: usize| {
            b.columns[i]
                .iter()
                .map(|v| v.map(String::from))
                .collect::<Vec<_>>()
        };
        assert_eq!(col(0), vec![Some("a\tb".into()), Some("x".into())]);
        assert_eq!(col(1), vec![None, Some("\\".into())]);
        assert_eq!(col(2), vec![Some("line\nbreak".into()), Some("AB".into())]);
        // Fewer fields than columns (NULLs), more (ignored), an empty line, an escaped
        // backslash before a tab: as one line at a time reads them.
        let data = b"1\n1\t2\t3\t4\n\na\\\\\tb\\\\\n\\N\t\\\\N\n";
        let mut one = Batch::new(3);
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', data) {
            one.push_line(&data[start..nl]);
            start = nl + 1;
        }
        let mut all = Batch::new(3);
        assert_eq!(all.push_lines(data), data.len());
        assert_eq!((all.rows, one.rows), (5, 5));
        for i in 0..3 {
            let a: Vec<_> = all.columns[i].iter().map(|v| v.map(String::from)).collect();
            let b: Vec<_> = one.columns[i].iter().map(|v| v.map(String::from)).collect();
            assert_eq!(a, b, "column {i}");
        }
        let first: Vec<_> = all.columns[0].iter().map(|v| v.map(String::from)).collect();
        assert_eq!(
            first,
            vec![
                Some("1".into()),
                Some("1".into()),
                Some("".into()),
                Some("a\\".into()),
                None
            ]
        );
        assert_eq!(all.columns[1].get(4), Some("\\N"));
        assert_eq!(all.columns[2].get(0), None);
    }

    #[test]
    fn rows_of_several_tables_go_to_their_batches() {
        let mut batches = [Batch::new(1), Batch::new(2)];
        let data = b"1\ta\tb\n0\tx\t\\N\n1\t\\N\t\\N\n0\ty";
        let used = route_lines(data, &mut batches).unwrap();
        assert_eq!(&data[used..], b"0\ty");
        assert_eq!((batches[0].rows, batches[1].rows), (1, 2));
        let values = |b: &Batch, i: usize| {
            b.columns[i]
                .iter()
                .map(|v| v.map(String::from))
                .collect::<Vec<_>>()
        };
        assert_eq!(values(&batches[0], 0), vec![Some("x".to_string())]);
        assert_eq!(values(&batches[1], 0), vec![Some("a".to_string()), None]);
        assert_eq!(values(&batches[1], 1), vec![Some("b".to_string()), None]);
        assert!(route_lines(b"7\tz\n", &mut batches).is_err());
        assert!(route_lines(b"zz\n", &mut batches).is_err());
    }
}
