//! Erosion and dilation of u8 images with a rectangular kx×ky element (and opening,
//! closing), separable: per output row, a vertical min (max) over the ky source rows,
//! then a horizontal one over kx.
//!
//! Vertical: elements shorter than [`VHGW_MIN_KY`] rows fold their rows straight from
//! the source, 64 lanes at a time. Taller ones take van Herk / Gil-Werman
//! ([`VerticalVhgw`]): the rows are cut into segments of ky, and a window is a suffix of
//! one segment (made for the whole segment at once, one pick per row) and a prefix of
//! the next (one pick per row as the windows go down): three picks per pixel whatever
//! ky, every one a vector op across the row.
//!
//! Horizontal, on rows padded by the neutral value ([`HorizontalPass`]): elements
//! narrower than [`DOUBLING_MIN_K`] take the direct min of kx shifted rows in blocks of
//! 64 lanes; from there to [`H_VHGW_MIN_KX`], windows double, 2, 4, 8, … pixels up to
//! the largest power of two in kx, then two overlapping windows cover kx: log2(kx) + 1
//! vector passes over the row. Wider elements take van Herk / Gil-Werman along the row,
//! O(1) in kx: a running min along one row does not vectorize (those scans, one pixel
//! after another, measured 5-10x slower than the doubling at every width), so 32 rows
//! are transposed into columns of 32 lanes ([`crate::simd::transpose`]), the scans run
//! down the columns with every step a vector op across the 32 rows
//! ([`h_vhgw_columns`]), and the results are transposed back. That costs about as much
//! as 7 doubling passes, whatever the width (measured on 4K erosions, one thread: even
//! with the doubling at 63 columns, 1.2 against 1.5 ms from 127, 2.4 against 4.9 ms at
//! 4095).
//!
//! All loops but the transposes are compiled per SIMD level from one source
//! (`autovectorized!`): min and max are exact, so every level gives the same bytes.
//! Pixels outside the image do not take part (OpenCV's default border for morphology).

use crate::image::{Image, ImageView, ImageViewMut, check_same_size};
use crate::kernels::parallel;
use crate::simd::autovectorized;
use crate::simd::transpose::{self, Column, ROWS, TILE};
use crate::simd::{self, SimdLevel};
use crate::{Error, Result};

/// Erode (min) or dilate (max).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MorphOp {
    Erode,
    Dilate,
}

const BLOCK: usize = 64;
/// Elements this wide or wider take the doubling windows (measured on 4K erosions, one
/// thread: about even with the direct min at 7 to 9, 2.5 against 1 ms at 13).
const DOUBLING_MIN_K: usize = 10;

#[inline(always)]
fn pick(op: MorphOp, a: u8, b: u8) -> u8 {
    match op {
        MorphOp::Erode => a.min(b),
        MorphOp::Dilate => a.max(b),
    }
}

autovectorized! {
    /// `out[i] = op over p[i..i + k]` (`p.len() >= out.len() + k − 1`); `g` and `g2` are
    /// scratch of `p.len()`.
    fn h_rank(p: &[u8], k: usize, op: MorphOp, g: &mut [u8], g2: &mut [u8], out: &mut [u8]) {
        let n = out.len();
        if k < DOUBLING_MIN_K {
            let mut i = 0;
            while i + BLOCK <= n {
                let mut acc: [u8; BLOCK] = p[i..i + BLOCK].try_into().expect("block");
                for j in 1..k {
                    let src = &p[i + j..i + j + BLOCK];
                    for l in 0..BLOCK {
                        acc[l] = pick(op, acc[l], src[l]);
                    }
                }
                out[i..i + BLOCK].copy_from_slice(&acc);
                i += BLOCK;
            }
            for i in i..n {
                let mut a = p[i];
                for j in 1..k {
                    a = pick(op, a, p[i + j]);
                }
                out[i] = a;
            }
        } else {
            // Windows of `span` = 2, 4, 8, … pixels, each from two of the half as wide, up
            // to the largest power of two in k; then two of those, k − span apart, cover
            // the k pixels (a pixel counted twice changes no min or max).
            let mut span = 2;
            let mut len = p.len() - 1;
            for ((o, &a), &b) in g[..len].iter_mut().zip(&p[..len]).zip(&p[1..]) {
                *o = pick(op, a, b);
            }
            let (mut cur, mut next) = (g, g2);
            while 2 * span <= k {
                len -= span;
                let (lo, hi) = (&cur[..len], &cur[span..span + len]);
                for ((o, &a), &b) in next[..len].iter_mut().zip(lo).zip(hi) {
                    *o = pick(op, a, b);
                }
                std::mem::swap(&mut cur, &mut next);
                span *= 2;
            }
            let off = k - span;
            for ((o, &a), &b) in out.iter_mut().zip(&cur[..n]).zip(&cur[off..off + n]) {
                *o = pick(op, a, b);
            }
        }
    }
}

autovectorized! {
    /// `out = op over the rows` (`first`), or `out = op(out, rows...)`: blocks of 64
    /// lanes, each block of `out` written once.
    fn v_rank(rows: &[&[u8]], op: MorphOp, first: bool, out: &mut [u8]) {
        let n = out.len();
        let (init, rest): (Option<&[u8]>, &[&[u8]]) = if first {
            (Some(rows[0]), &rows[1..])
        } else {
            (None, rows)
        };
        let mut i = 0;
        while i + BLOCK <= n {
            let from = init.unwrap_or(out);
            let mut acc: [u8; BLOCK] = from[i..i + BLOCK].try_into().expect("block");
            for row in rest {
                let src = &row[i..i + BLOCK];
                for l in 0..BLOCK {
                    acc[l] = pick(op, acc[l], src[l]);
                }
            }
            out[i..i + BLOCK].copy_from_slice(&acc);
            i += BLOCK;
        }
        for i in i..n {
            let mut a = init.map_or(out[i], |r| r[i]);
            for row in rest {
                a = pick(op, a, row[i]);
            }
            out[i] = a;
        }
    }
}

autovectorized! {
    /// `out[i] = op(a[i], b[i])`.
    fn pick_rows(a: &[u8], b: &[u8], op: MorphOp, out: &mut [u8]) {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = pick(op, x, y);
        }
    }
}

autovectorized! {
    /// `acc[i] = op(acc[i], row[i])`.
    fn pick_into(acc: &mut [u8], row: &[u8], op: MorphOp) {
        for (a, &x) in acc.iter_mut().zip(row) {
            *a = pick(op, *a, x);
        }
    }
}

/// Elements this wide or wider take the horizontal van Herk / Gil-Werman pass over 32
/// rows at once ([`h_vhgw_columns`]) instead of the doubling windows. From 64 columns the
/// doubling makes 7 passes; measured on 4K erosions, the two are about even at 63
/// columns and van Herk is ahead from 95 on.
const H_VHGW_MIN_KX: usize = 64;

autovectorized! {
    /// Horizontal van Herk / Gil-Werman over 32 rows held as columns (`cols[x]`: pixel x
    /// of each row, the rows padded: `cols.len() >= n + k − 1`): afterwards `cols[x]`
    /// holds `op` over columns `x..x + k`, for every `x < n`. The columns are cut into
    /// segments of k from 0; a window from `x` is the suffix of its segment from `x` and
    /// the prefix of the next segment up to `x + k − 1`. Per segment, the next one's
    /// prefixes go to `prefix` (up to k − 1 columns), then the suffixes run back through this one,
    /// each window's result written over the column it starts at: three picks per column
    /// whatever k, each one a vector op across the 32 rows.
    fn h_vhgw_columns(cols: &mut [Column], n: usize, k: usize, op: MorphOp, prefix: &mut [Column]) {
        // One loop per operation: a test of `op` in every step measured slower.
        match op {
            MorphOp::Erode => vhgw_columns_with(cols, n, k, prefix, u8::min),
            MorphOp::Dilate => vhgw_columns_with(cols, n, k, prefix, u8::max),
        }
    }
}

/// [`h_vhgw_columns`] with its operation.
#[inline(always)]
fn vhgw_columns_with(
    cols: &mut [Column],
    n: usize,
    k: usize,
    prefix: &mut [Column],
    pick: impl Fn(u8, u8) -> u8 + Copy,
) {
    assert!(
        cols.len() + 1 >= n + k && prefix.len() >= k,
        "columns for the windows"
    );
    let lanes = |a: Column, b: Column| -> Column { std::array::from_fn(|l| pick(a[l], b[l])) };
    for s in (0..n).step_by(k) {
        // Windows from s + 1 ..= s + reach end in the next segment.
        let reach = (n - s).min(k) - 1;
        // The running prefix and suffix stay in registers (read back from memory, each
        // step would wait for the store before it).
        if reach > 0 {
            let mut acc = cols[s + k];
            for (p, &c) in prefix[..reach].iter_mut().zip(&cols[s + k..]) {
                acc = lanes(acc, c);
                *p = acc;
            }
        }
        let segment = &mut cols[s..s + k];
        let mut run = segment[k - 1];
        for &c in segment[reach + 1..].iter().rev() {
            run = lanes(run, c);
        }
        for (c, &p) in segment[1..=reach].iter_mut().zip(&prefix[..reach]).rev() {
            run = lanes(run, *c);
            *c = lanes(run, p);
        }
        segment[0] = lanes(run, segment[0]);
    }
}

/// Elements from this tall take the vertical van Herk / Gil-Werman pass.
const VHGW_MIN_KY: usize = 5;

/// The vertical van Herk / Gil-Werman pass over one band: O(1) per pixel in ky.
///
/// Virtual rows (rows outside the image take the neutral value) are cut into segments of
/// ky rows from the band's first window on. A window starting at row `a` is the suffix
/// of its segment from `a` (`suffix`, all of a segment's suffixes made when the windows
/// enter it, one pick per row going up) and the prefix of the next segment up to `a +
/// ky − 1` (`prefix`, one pick per row as the windows go down). Each output row gets the
/// vertical result in turn.
struct VerticalVhgw<'a> {
    level: SimdLevel,
    src: &'a ImageView<'a, u8>,
    op: MorphOp,
    ky: usize,
    neutral: u8,
}

impl VerticalVhgw<'_> {
    /// Row `r` of the image, or None outside it.
    fn row(&self, r: isize) -> Option<&[u8]> {
        (0..self.src.height() as isize)
            .contains(&r)
            .then(|| self.src.row(r as usize))
    }

    /// The suffixes of the segment from `start`: `suffix` holds rows `lo..hi`, the
    /// segment's rows inside the image (a suffix from above the image equals the one
    /// from its first row; from below it, all neutral). Returns (lo, hi).
    fn suffixes(&self, start: isize, suffix: &mut [u8], w: usize) -> (isize, isize) {
        let h = self.src.height() as isize;
        let (lo, hi) = (start.max(0), (start + self.ky as isize).min(h));
        for r in (lo..hi).rev() {
            let at = (r - lo) as usize * w;
            let row = self.row(r).expect("inside");
            if r + 1 == hi {
                suffix[at..at + w].copy_from_slice(row);
            } else {
                let (this, next) = suffix[at..at + 2 * w].split_at_mut(w);
                pick_rows(self.level, row, next, self.op, this);
            }
        }
        (lo, hi)
    }

    /// Vertical results of the windows from rows `first_window + i` for `i < rows`, each
    /// handed to the horizontal pass as output row `i`.
    fn run(
        &self,
        first_window: isize,
        rows: usize,
        suffix: &mut [u8],
        prefix: &mut [u8],
        horizontal: &mut HorizontalPass<'_, '_>,
    ) {
        let (w, ky) = (self.src.width(), self.ky as isize);
        let mut start = first_window;
        let (mut lo, mut hi) = self.suffixes(start, suffix, w);
        // The prefix holds rows start + ky ..= done of the next segment.
        let mut done = start + ky - 1;
        prefix.fill(self.neutral);
        for i in 0..rows {
            let a = first_window + i as isize;
            if a >= start + ky {
                start += ky;
                (lo, hi) = self.suffixes(start, suffix, w);
                done = start + ky - 1;
                prefix.fill(self.neutral);
            }
            // The suffix from a: neutral below the image, else the stored one.
            let suffix_row = if a >= hi {
                None
            } else {
                let at = (a.max(lo) - lo) as usize * w;
                Some(&suffix[at..at + w])
            };
            let result = horizontal.input(i);
            if a == start {
                match suffix_row {
                    Some(s) => result.copy_from_slice(s),
                    None => result.fill(self.neutral),
                }
            } else {
                while done < a + ky - 1 {
                    done += 1;
                    if let Some(row) = self.row(done) {
                        pick_into(self.level, prefix, row, self.op);
                    }
                }
                match suffix_row {
                    Some(s) => pick_rows(self.level, s, prefix, self.op, result),
                    None => result.copy_from_slice(prefix),
                }
            }
            horizontal.finish(i);
        }
    }
}

/// The horizontal pass of one band: [`Self::input`] is where output row `i`'s vertical
/// result goes, [`Self::finish`] runs the pass once it is there. Narrow elements take
/// each row as it comes ([`h_rank`]); wide ones gather 32 rows, transpose them into
/// columns, run [`h_vhgw_columns`] and transpose the results back into the output rows.
struct HorizontalPass<'s, 'b> {
    level: SimdLevel,
    op: MorphOp,
    kx: usize,
    /// Where a row's pixels start in its padded row.
    left: usize,
    width: usize,
    /// One padded row, or 32 of `stride` (wide elements).
    padded: &'s mut [u8],
    stride: usize,
    g: &'s mut [u8],
    g2: &'s mut [u8],
    cols: &'s mut [Column],
    col_prefix: &'s mut [Column],
    band: ImageViewMut<'b, u8>,
}

impl HorizontalPass<'_, '_> {
    fn by_columns(kx: usize) -> bool {
        kx >= H_VHGW_MIN_KX
    }

    fn input(&mut self, i: usize) -> &mut [u8] {
        let at = if Self::by_columns(self.kx) {
            (i % ROWS) * self.stride
        } else {
            0
        };
        &mut self.padded[at + self.left..at + self.left + self.width]
    }

    fn finish(&mut self, i: usize) {
        let (level, op, kx) = (self.level, self.op, self.kx);
        if !Self::by_columns(kx) {
            let padded = &self.padded[..self.width + kx - 1];
            h_rank(level, padded, kx, op, self.g, self.g2, self.band.row_mut(i));
            return;
        }
        if i % ROWS != ROWS - 1 && i + 1 != self.band.height() {
            return;
        }
        let first = i - i % ROWS;
        let cols = &mut self.cols[..(self.width + kx - 1).next_multiple_of(TILE)];
        transpose::rows_to_columns(level, self.padded, self.stride, cols);
        h_vhgw_columns(level, cols, self.width, kx, op, self.col_prefix);
        let mut rows: [&mut [u8]; ROWS] = Default::default();
        let count = i + 1 - first;
        for (slot, row) in rows.iter_mut().zip(self.band.rows_mut().skip(first)) {
            *slot = row;
        }
        transpose::columns_to_rows(level, self.cols, &mut rows[..count]);
    }
}

/// Scratch of one band: the vertical result of an output row (32 rows for wide
/// elements), padded by the neutral value, the horizontal doubling's two rows or the
/// horizontal van Herk pass's columns, and the vertical van Herk pass's rows.
#[derive(Debug, Default)]
struct Scratch {
    padded: Vec<u8>,
    g: Vec<u8>,
    g2: Vec<u8>,
    cols: Vec<Column>,
    col_prefix: Vec<Column>,
    /// The vertical van Herk pass: a segment's suffixes and the running prefix.
    suffix: Vec<u8>,
    prefix: Vec<u8>,
}

/// `out = op over src.row(y) for y in rows` (`first`: the range must not be empty), or
/// `out = op(out, those rows)` (an empty range leaves `out` as it is); rows in groups of
/// 64 (a fixed array: no allocation).
fn fold_rows(
    level: SimdLevel,
    src: &ImageView<'_, u8>,
    rows: std::ops::RangeInclusive<isize>,
    op: MorphOp,
    mut first: bool,
    out: &mut [u8],
) {
    debug_assert!(!first || !rows.is_empty(), "nothing to start the fold from");
    let mut group: [&[u8]; 64] = [&[]; 64];
    let mut count = 0;
    let last = *rows.end();
    for y in rows {
        group[count] = src.row(y as usize);
        count += 1;
        if count == group.len() || y == last {
            v_rank(level, &group[..count], op, first, out);
            (count, first) = (0, false);
        }
    }
}

/// A reusable erosion/dilation with a rectangular element; scratch kept between calls.
#[derive(Debug)]
pub struct Morphology {
    ksize: (usize, usize),
    scratch: Vec<Scratch>,
    tmp: Option<Image<u8>>,
}

/// Largest element side.
pub const MAX_KSIZE: usize = 4095;

impl Morphology {
    pub fn new(ksize: (usize, usize)) -> Result<Self> {
        for (name, k) in [("ksize", ksize.0), ("ksize_y", ksize.1)] {
            if !(1..=MAX_KSIZE).contains(&k) {
                return Err(Error::bad_param(
                    name,
                    format!("must be in 1..={MAX_KSIZE}, got {k}"),
                ));
            }
        }
        Ok(Morphology {
            ksize,
            scratch: Vec::new(),
            tmp: None,
        })
    }

    pub fn erode(&mut self, src: &ImageView<'_, u8>, dst: &mut ImageViewMut<'_, u8>) -> Result<()> {
        self.apply_at(simd::level()?, MorphOp::Erode, src, dst)
    }

    pub fn dilate(
        &mut self,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u8>,
    ) -> Result<()> {
        self.apply_at(simd::level()?, MorphOp::Dilate, src, dst)
    }

    /// Erosion then dilation: removes bright specks smaller than the element.
    pub fn open(&mut self, src: &ImageView<'_, u8>, dst: &mut ImageViewMut<'_, u8>) -> Result<()> {
        self.twice(MorphOp::Erode, MorphOp::Dilate, src, dst)
    }

    /// Dilation then erosion: fills dark holes smaller than the element.
    pub fn close(&mut self, src: &ImageView<'_, u8>, dst: &mut ImageViewMut<'_, u8>) -> Result<()> {
        self.twice(MorphOp::Dilate, MorphOp::Erode, src, dst)
    }

    fn twice(
        &mut self,
        a: MorphOp,
        b: MorphOp,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u8>,
    ) -> Result<()> {
        let level = simd::level()?;
        check_same_size("output", src.size(), dst.size())?;
        let mut tmp = match self.tmp.take() {
            Some(t) if t.size() == src.size() => t,
            _ => Image::new(src.width(), src.height())?,
        };
        let result = self
            .apply_at(level, a, src, &mut tmp.as_view_mut())
            .and_then(|()| self.apply_at(level, b, &tmp.as_view(), dst));
        self.tmp = Some(tmp);
        result
    }

    /// One erosion or dilation at an explicit SIMD level.
    pub fn apply_at(
        &mut self,
        level: SimdLevel,
        op: MorphOp,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u8>,
    ) -> Result<()> {
        let level = level.check()?;
        check_same_size("output", src.size(), dst.size())?;
        let (w, h) = src.size();
        let (kx, ky) = self.ksize;
        // Outside pixels never win: the identity of the operation.
        let neutral = match op {
            MorphOp::Erode => 255u8,
            MorphOp::Dilate => 0u8,
        };
        let band_rows = if w * h < 1 << 16 {
            h
        } else {
            parallel::band_rows_for(h, 2 * ky)
        };
        let bands = h.div_ceil(band_rows);
        if self.scratch.len() < bands {
            self.scratch.resize_with(bands, Scratch::default);
        }
        // Wide elements: 32 padded rows at a stride of whole tiles of columns, an odd
        // number of cache lines (rows a power of two apart fall into the same few cache
        // sets: at 4096 bytes, the 255-wide element on 3840 columns ran 10% slower).
        let stride = (w + kx - 1).next_multiple_of(128) + 64;
        for s in &mut self.scratch {
            if HorizontalPass::by_columns(kx) {
                s.padded.resize(ROWS * stride, 0);
                s.cols.resize(stride, [0; ROWS]);
                s.col_prefix.resize(kx, [0; ROWS]);
            } else {
                s.padded.resize(w + kx - 1, 0);
                s.g.resize(w + kx - 1, 0);
                s.g2.resize(w + kx - 1, 0);
            }
            if ky >= VHGW_MIN_KY {
                s.suffix.resize(ky.min(h) * w, 0);
                s.prefix.resize(w, 0);
            }
        }
        let (left, above) = (kx / 2, (ky / 2) as isize);
        let below = ky as isize - 1 - above;
        parallel::for_each_band_with_scratch(
            dst.reborrow(),
            band_rows,
            &mut self.scratch,
            &|y0, band, s| {
                let Scratch {
                    padded,
                    g,
                    g2,
                    cols,
                    col_prefix,
                    suffix,
                    prefix,
                } = s;
                // Columns outside the rows never win: the identity of the operation.
                // (Narrow elements: one padded row, shorter than the stride.)
                for row in padded.chunks_mut(stride) {
                    row[..left].fill(neutral);
                    row[left + w..].fill(neutral);
                }
                let height = band.height();
                let mut horizontal = HorizontalPass {
                    level,
                    op,
                    kx,
                    left,
                    width: w,
                    padded,
                    stride,
                    g,
                    g2,
                    cols,
                    col_prefix,
                    band,
                };
                if ky >= VHGW_MIN_KY {
                    let vhgw = VerticalVhgw {
                        level,
                        src,
                        op,
                        ky,
                        neutral,
                    };
                    let first_window = y0 as isize - above;
                    vhgw.run(first_window, height, suffix, prefix, &mut horizontal);
                    return;
                }
                for i in 0..height {
                    // Rows outside the image never win either: only rows inside take part.
                    let y = (y0 + i) as isize;
                    let inside = (y - above).max(0)..=(y + below).min(h as isize - 1);
                    fold_rows(level, src, inside, op, true, horizontal.input(i));
                    horizontal.finish(i);
                }
            },
        );
        Ok(())
    }
}
