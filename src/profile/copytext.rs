//! Reading PostgreSQL's COPY text format: tab-separated fields, `\N` for NULL, backslash
//! escapes, one row per line (newlines inside values are escaped, so a raw `\n` ends a row).

/// One batch of rows, column by column.
pub struct Batch {
    pub columns: Vec<Vec<Option<String>>>,
    pub rows: usize,
}

impl Batch {
    pub fn new(ncols: usize) -> Batch {
        Batch {
            columns: (0..ncols).map(|_| Vec::new()).collect(),
            rows: 0,
        }
    }

    pub fn clear(&mut self) {
        for c in &mut self.columns {
            c.clear();
        }
        self.rows = 0;
    }

    /// Appends the complete lines in `buf` and returns how many bytes were consumed; a
    /// partial last line is left for the next chunk.
    pub fn push_lines(&mut self, buf: &[u8]) -> usize {
        let mut start = 0;
        while let Some(pos) = buf[start..].iter().position(|&b| b == b'\n') {
            let line = &buf[start..start + pos];
            self.push_line(line);
            start += pos + 1;
        }
        start
    }

    fn push_line(&mut self, line: &[u8]) {
        let ncols = self.columns.len();
        let mut fields = line.split(|&b| b == b'\t');
        for col in 0..ncols {
            let field = fields.next().unwrap_or(b"\\N");
            self.columns[col].push(if field == b"\\N" {
                None
            } else {
                Some(unescape(field))
            });
        }
        self.rows += 1;
    }
}

fn unescape(field: &[u8]) -> String {
    if !field.contains(&b'\\') {
        return String::from_utf8_lossy(field).into_owned();
    }
    let mut out = Vec::with_capacity(field.len());
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
    String::from_utf8_lossy(&out).into_owned()
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
        assert_eq!(b.columns[0], vec![Some("a\tb".into()), Some("x".into())]);
        assert_eq!(b.columns[1], vec![None, Some("\\".into())]);
        assert_eq!(
            b.columns[2],
            vec![Some("line\nbreak".into()), Some("AB".into())]
        );
    }
}
