//! Erosion and dilation of u8 images with a rectangular kx×ky element (and opening,
//! closing), separable: per output row, a vertical min (max) over the ky source rows,
//! then a horizontal one over kx.
//!
//! Vertical: straight from the source rows (no copies, no ring), 64 lanes at a time
//! (a vector min per row of the element: O(ky), but ky/64 operations per pixel).
//! Elements [`PAIR_MIN_KY`] rows or taller fold two output rows at a time: the rows both
//! elements share are folded once, then each row gets the one row of its own (none where
//! the element is clipped by the image's edge); a vertical van Herk pass is the next step
//! for very tall elements. Horizontal, on that row padded by the neutral value: elements
//! up to 64 wide take the direct min of kx shifted rows in blocks of 64 lanes (measured
//! faster than the scans below up to there: one vector min per tap and 64 pixels); wider
//! ones use van Herk / Gil-Werman: per segment of kx pixels, a running min forwards and
//! one backwards, so two scans and one min per pixel whatever kx. All loops are compiled per SIMD
//! level from one source (`autovectorized!`): bit-identical across levels. Pixels
//! outside the image do not take part (OpenCV's default border for morphology).

use crate::image::{Image, ImageView, ImageViewMut, check_same_size};
use crate::kernels::parallel;
use crate::simd::autovectorized;
use crate::simd::{self, SimdLevel};
use crate::{Error, Result};

/// Erode (min) or dilate (max).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MorphOp {
    Erode,
    Dilate,
}

const BLOCK: usize = 64;
const DIRECT_MAX_K: usize = 64;

#[inline(always)]
fn pick(op: MorphOp, a: u8, b: u8) -> u8 {
    match op {
        MorphOp::Erode => a.min(b),
        MorphOp::Dilate => a.max(b),
    }
}

autovectorized! {
    /// `out[i] = op over p[i..i + k]`; `g` is scratch of `p.len()`.
    fn h_rank(p: &[u8], k: usize, op: MorphOp, g: &mut [u8], out: &mut [u8]) {
        let n = out.len();
        if k <= DIRECT_MAX_K {
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
            // van Herk / Gil-Werman: g runs forwards from each segment's start; out first
            // holds the backward run to each segment's end; a window [i, i + k) spans
            // the end of one segment and the start of the next.
            let len = n + k - 1;
            for seg in (0..len).step_by(k) {
                let end = (seg + k).min(len);
                g[seg] = p[seg];
                for j in seg + 1..end {
                    g[j] = pick(op, g[j - 1], p[j]);
                }
            }
            for seg in (0..n).step_by(k) {
                let end = (seg + k).min(len);
                let mut acc = p[end - 1];
                for j in (seg..end).rev() {
                    acc = pick(op, acc, p[j]);
                    if j < n {
                        out[j] = acc;
                    }
                }
            }
            for i in 0..n {
                out[i] = pick(op, out[i], g[i + k - 1]);
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

/// Elements from this tall fold two output rows at a time (measured on 4K erosions, one
/// thread, in one run: k = 7 0.71 ms alone vs 0.76 paired, k = 9 0.86 vs 0.80, k = 31
/// 2.9 vs 2.3).
const PAIR_MIN_KY: usize = 9;

/// Scratch of one band: the vertical results of two output rows, each padded by the
/// neutral value, and the van Herk scratch.
#[derive(Debug, Default)]
struct Scratch {
    padded: [Vec<u8>; 2],
    g: Vec<u8>,
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
        for s in &mut self.scratch {
            for p in &mut s.padded {
                p.resize(w + kx - 1, 0);
            }
            s.g.resize(w + kx - 1, 0);
        }
        let (left, above) = (kx / 2, (ky / 2) as isize);
        let below = ky as isize - 1 - above;
        parallel::for_each_band_with_scratch(
            dst.reborrow(),
            band_rows,
            &mut self.scratch,
            &|y0, mut band, s| {
                let Scratch { padded, g } = s;
                let [pa, pb] = padded;
                // Columns outside the row never win: the identity of the operation.
                for p in [&mut *pa, &mut *pb] {
                    p[..left].fill(neutral);
                    p[left + w..].fill(neutral);
                }
                // Rows outside the image never win either: only rows inside take part.
                let inside = |y: isize| (y - above).max(0)..=(y + below).min(h as isize - 1);
                let height = band.height();
                let mut i = 0;
                while i < height {
                    let y = (y0 + i) as isize;
                    if i + 1 == height || ky < PAIR_MIN_KY {
                        fold_rows(level, src, inside(y), op, true, &mut pa[left..left + w]);
                        h_rank(level, pa, kx, op, g, band.row_mut(i));
                        i += 1;
                        continue;
                    }
                    // Two output rows share all but one row of their elements: the shared
                    // rows are read once, for both (tall elements were bound by reading
                    // every source row of the element again for each output row).
                    let (a, b) = (inside(y), inside(y + 1));
                    let shared = *b.start()..=*a.end();
                    let (ma, mb) = (&mut pa[left..left + w], &mut pb[left..left + w]);
                    if shared.is_empty() {
                        fold_rows(level, src, a, op, true, ma);
                        fold_rows(level, src, b, op, true, mb);
                    } else {
                        fold_rows(level, src, shared.clone(), op, true, ma);
                        mb.copy_from_slice(ma);
                        fold_rows(level, src, *a.start()..=*shared.start() - 1, op, false, ma);
                        fold_rows(level, src, *shared.end() + 1..=*b.end(), op, false, mb);
                    }
                    let (out_a, out_b) = band.two_rows_mut(i);
                    h_rank(level, pa, kx, op, g, out_a);
                    h_rank(level, pb, kx, op, g, out_b);
                    i += 2;
                }
            },
        );
        Ok(())
    }
}
