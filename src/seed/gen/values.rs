//! A column's values drawn row by row into COPY text: NULLs at the profile's rate, then a value
//! of its base, or one of its pool of categories (drawn once per chunk and reused).

use super::*;

impl Values {
    /// One value (or `None` for NULL) appended to `out` as COPY text.
    pub fn write(&self, rng: &mut ChaCha8Rng, salt: u64, out: &mut Vec<u8>) -> bool {
        self.write_row(rng, salt, out, u64::MAX, &mut Drawn::default())
    }

    /// As [`Values::write`], for row `row` of the table: rows 0 and 1 of a number or time
    /// column take the profile's minimum and maximum exactly, and of a text column its
    /// shortest and longest length, so a small table reaches its extremes (a random draw from
    /// 20 rows rarely does).
    pub fn write_row(
        &self,
        rng: &mut ChaCha8Rng,
        salt: u64,
        out: &mut Vec<u8>,
        row: u64,
        drawn: &mut Drawn,
    ) -> bool {
        if row < 2 && self.pool.is_none() && {
            let placed = self.band(row, salt, drawn).map(|b| b.position());
            self.write_text(rng, row, placed, true, out)
        } {
            // The shortest and the longest length, placed exactly like numbers' extremes.
            return true;
        }

        let ordered = matches!(
            self.base,
            Base::Number { .. } | Base::Temporal { .. } | Base::Text { .. }
        );
        if row < 2 && ordered && self.pool.is_none() {
            let text = self.base.draw_at(rng, row as f64);
            push_escaped(out, &text);
            return true;
        }
        // A mixed pool's rows are placed by their band (see below); its first two rows, like
        // the extremes of other columns, are never NULL.
        let mixed = row != u64::MAX && matches!(self.pool, Some(Pool::Mixed { .. }));
        if self.null_rate > 0.0 && !(mixed && row < 2) {
            // NULLs at exactly the profile's rate (evenly spread, from an offset of the
            // column's own), so a small table has its one NULL too; at random when the row is
            // not known.
            let null = if row == u64::MAX {
                rng.random::<f64>() < self.null_rate
            } else {
                let x = (row + salt % 1_000_003) as f64;
                ((x + 1.0) * self.null_rate).floor() > (x * self.null_rate).floor()
            };
            if null {
                return false;
            }
        }
        if let Some(v) = self.reserved_at(row, salt, drawn) {
            push_escaped(out, v);
            return true;
        }
        // Shares by leaf partition hold every label somewhere: a label covered in the first
        // rows would land in a partition production has none of it in.
        if row != u64::MAX && self.by_leaf.is_none() {
            if let (None, Base::Labels { labels, .. }) = (&self.pool, &self.base) {
                // Every label once in the first rows, the first and the last (a categorical
                // number's minimum and maximum) first.
                if let Some(k) = covering(row, labels.len()) {
                    push_escaped(out, &labels[k]);
                    return true;
                }
            }
            if let Some(pool) = self.pool.as_ref().filter(|_| !mixed) {
                if let Some(k) = covering(row, pool.len()) {
                    self.category(salt, k, pool.len(), out, drawn);
                    return true;
                }
            }
        }
        // A mixed pool of text: its frequent values take the rows whose stratified position
        // lies past the fresh rows' share, picked by weight from that position (exact shares,
        // and no class of the fresh rows lands on them).
        if let (Some(Pool::Mixed { cum, share }), Some(b)) =
            (&self.pool, self.band(row, salt, drawn))
        {
            let u = b.position();
            if u >= 1.0 - share {
                let k = pick(cum, (u - (1.0 - share)) / share.max(1e-12));
                self.category(salt, k, cum.len(), out, drawn);
            } else {
                // The fresh rows: the positions below the frequent values' share.
                let placed = u / (1.0 - share).max(1e-12);
                self.write_text(rng, row, Some(placed), false, out);
            }
            return true;
        }
        if let Some(o) = self
            .ordered
            .filter(|_| row != u64::MAX && self.pool.is_none())
        {
            let u = o.position(row);
            if !self.base.write_at(u, out) {
                push_escaped(out, &self.base.draw_at(rng, u));
            }
            return true;
        }
        if let Some(b) = self.by_leaf.as_ref().filter(|_| row != u64::MAX) {
            let u = rng.random::<f64>();
            match (&self.pool, &self.base, b.pick(row, u)) {
                (Some(pool), _, Some(k)) => {
                    self.category(salt, k, pool.len(), out, drawn);
                    return true;
                }
                (None, Base::Labels { labels, .. }, Some(k)) => {
                    push_escaped(out, &labels[k]);
                    return true;
                }
                (Some(pool), _, None) if let Some(k) = pool.choose(u) => {
                    self.category(salt, k, pool.len(), out, drawn);
                    return true;
                }
                _ => {}
            }
        }
        match (&self.pool, &self.base) {
            (Some(pool), _) if let Some(k) = pool.choose(rng.random::<f64>()) => {
                self.category(salt, k, pool.len(), out, drawn);
            }
            (_, Base::Text { classes, .. }) if row != u64::MAX && classes.rows > 0 => {
                let placed = self.band(row, salt, drawn).map(|b| b.position());
                self.write_text(rng, row, placed, false, out);
            }
            _ => self.base.write_drawn(rng, out),
        }
        true
    }

    /// Row `row`'s text (a text base only: `false` for others, nothing written), its classes
    /// at its stratified position `placed` (see [`Values::band`]); `extreme`: at the length
    /// curve's end the row number names.
    fn write_text(
        &self,
        rng: &mut ChaCha8Rng,
        row: u64,
        placed: Option<f64>,
        extreme: bool,
        out: &mut Vec<u8>,
    ) -> bool {
        let Base::Text {
            len,
            classes,
            max_chars,
            words,
        } = &self.base
        else {
            return false;
        };
        let at = extreme.then_some(row as f64);
        let t = text(rng, len, classes, *max_chars, words.as_ref(), at, placed);
        push_escaped(out, &t);
        true
    }

    /// The reserved value row `row` takes, if its place among the non-NULL rows past the
    /// extremes falls in one's band.
    fn reserved_at(&self, row: u64, salt: u64, drawn: &mut Drawn) -> Option<&str> {
        let r = self.reserved.as_ref()?;
        if row == u64::MAX || row < 2 {
            return None;
        }
        let (j, n) = self.non_null_place(row, r.rows, salt);
        let (j, n) = (j.checked_sub(2)?, n.checked_sub(2)?);
        let k = match drawn.2 {
            Some((m, k)) if m == n => k,
            _ => {
                let k = coprime_step(n);
                drawn.2 = Some((n, k));
                k
            }
        };
        let u = stratum(j, n, k, salt ^ 0x5EED);
        let mut acc = 0.0;
        for (v, share) in &r.values {
            acc += share;
            if u < acc {
                return Some(v);
            }
        }
        None
    }

    /// Row `row`'s place among a table of `rows` rows' non-NULL rows, and how many there are:
    /// rows 0 and 1 are never NULL (the extremes); from row 2 on, a row is NULL where
    /// `write_row`'s indicator says so.
    fn non_null_place(&self, row: u64, rows: u64, salt: u64) -> (u64, u64) {
        let off = salt % 1_000_003;
        let p = self.null_rate;
        let f = |x: u64| ((x + off) as f64 * p).floor() as u64;
        let nulls = |x: u64| {
            if p > 0.0 && x > 2 {
                f(x) - f(2)
            } else {
                0
            }
        };
        (row - nulls(row).min(row), rows - nulls(rows).min(rows))
    }

    /// Row `row`'s place among the table's non-NULL rows of a text column whose classes are
    /// stratified (see [`Classes::rows`]): NULLs fall where `write_row` puts them, so the
    /// `j`th non-NULL row is `row` less the NULLs before it.
    fn band(&self, row: u64, salt: u64, drawn: &mut Drawn) -> Option<Band> {
        let Base::Text { classes, .. } = &self.base else {
            return None;
        };
        if row == u64::MAX
            || classes.rows == 0
            || matches!(self.pool, Some(Pool::Weighted(_) | Pool::Uniform(_)))
        {
            return None;
        }
        let (j, n) = self.non_null_place(row, classes.rows, salt);
        let k = match drawn.1 {
            Some((m, k)) if m == n => k,
            _ => {
                let k = coprime_step(n);
                drawn.1 = Some((n, k));
                k
            }
        };
        Some(Band {
            j,
            n,
            k,
            stream: salt,
        })
    }

    /// Category `k` of `n`'s value, drawn from its own stream (once per chunk: `drawn`).
    pub(super) fn category(
        &self,
        salt: u64,
        k: usize,
        n: usize,
        out: &mut Vec<u8>,
        drawn: &mut Drawn,
    ) {
        if n <= DRAWN_CAP && drawn.0.len() < n {
            drawn.0.resize(n, None);
        }
        if let Some(Some(v)) = drawn.0.get(k) {
            out.extend_from_slice(v);
            return;
        }
        if let Base::Text {
            len,
            classes,
            max_chars,
            words,
        } = &self.base
        {
            // The classes the category holds (chosen once, by weight), or, a frequent value
            // among fresh ones, the column's; its length placed by its weight.
            let forced = match classes.for_category(k) {
                // The empty string.
                Some(Err(())) => return,
                Some(Ok(forced)) => Some(forced),
                None => None,
            };
            let mixed = matches!(self.pool, Some(Pool::Mixed { .. }));
            if forced.is_some() || mixed {
                let at = out.len();
                let u = self.pool.as_ref().map_or(0.5, |p| p.position(k, n));
                let mut rng = rng_for(&[salt, k as u64]);
                let c = forced.as_ref().unwrap_or(classes);
                let t = text(&mut rng, len, c, *max_chars, words.as_ref(), Some(u), None);
                push_escaped(out, &t);
                if let Some(slot) = drawn.0.get_mut(k) {
                    *slot = Some(out[at..].into());
                }
                return;
            }
        }
        let at = out.len();
        // As `draw` of category k: numbers and times are a position on their curve, and
        // need no stream of their own.
        let u = self.pool.as_ref().map_or(0.5, |p| p.position(k, n));
        if !self.base.write_at(u, out) {
            let text = self.base.draw(&mut rng_for(&[salt, k as u64]), Some(u));
            push_escaped(out, &text);
        }
        if let Some(slot) = drawn.0.get_mut(k) {
            *slot = Some(out[at..].into());
        }
    }
}

/// The category row `row` must take so that the first K rows hold each of K categories once
/// (row 0 the first, row 1 the last, then the rest in order): every value turns up, a 5-row
/// table of 5 names holds all five. `None` past the first K rows: drawn by weight.
pub(super) fn covering(row: u64, k: usize) -> Option<usize> {
    match row {
        r if r >= k as u64 => None,
        0 => Some(0),
        1 => Some(k - 1),
        r => Some(r as usize - 1),
    }
}
