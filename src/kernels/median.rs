//! Median filters 3×3 and 5×5 on u8, through min/max networks on whole rows (every
//! lane an output pixel), compiled per SIMD level (`autovectorized!`): bit-identical to
//! a sort-based reference, since min and max are exact. Borders replicate the edge, as
//! OpenCV's `medianBlur` does.
//!
//! 3×3 shares work between neighbours: each column of three is sorted once (low, middle,
//! high); the median of the window is then the median of (the largest low, the median
//! middle, the smallest high) of three adjacent columns. 5×5 runs Batcher's odd–even
//! merge network on 25 values padded to 32, pruned to the comparators that decide the
//! middle one.

use crate::autovectorized;
use crate::image::{ImageView, ImageViewMut, check_same_size};
use crate::kernels::border::{Border, pad_row};
use crate::kernels::parallel;
use crate::simd::{self, SimdLevel};
use crate::{Error, Result};

/// Pixels per block: the lanes the network works on at once.
const BLOCK: usize = 64;

/// The 3×3 median of output pixel `i` from its three sorted columns, the scalar form of
/// the vector code (used for the row's tail).
#[inline(always)]
fn median3_at(rows: &[&[u8]; 3], i: usize) -> u8 {
    let col = |s: usize| {
        let (mut a, mut b, mut c) = (rows[0][i + s], rows[1][i + s], rows[2][i + s]);
        (a, b) = (a.min(b), a.max(b));
        (b, c) = (b.min(c), b.max(c));
        (a, b) = (a.min(b), a.max(b));
        (a, b, c)
    };
    let (l0, m0, h0) = col(0);
    let (l1, m1, h1) = col(1);
    let (l2, m2, h2) = col(2);
    med3(l0.max(l1).max(l2), med3(m0, m1, m2), h0.min(h1).min(h2))
}

#[inline(always)]
fn med3(a: u8, b: u8, c: u8) -> u8 {
    a.min(b).max(a.max(b).min(c))
}

autovectorized! {
    /// One output row of the 3×3 median from three padded rows (one pixel of border on
    /// each side): `out[i]` is the median of columns i..i+3 of the three rows.
    fn median3_row(rows: &[&[u8]; 3], out: &mut [u8]) {
        let n = out.len();
        let mut i = 0;
        while i + BLOCK <= n {
            // Each column sort is recomputed for the three shifts: cheaper than sharing it
            // through memory, where shifted reloads of fresh stores stall.
            let load = |r: usize, s: usize| -> &[u8; BLOCK] { rows[r][i + s..i + s + BLOCK].try_into().expect("block") };
            let (r0, r1, r2) = ([load(0, 0), load(0, 1), load(0, 2)], [load(1, 0), load(1, 1), load(1, 2)], [load(2, 0), load(2, 1), load(2, 2)]);
            let mut res = [0u8; BLOCK];
            for l in 0..BLOCK {
                let col = |s: usize| {
                    let (mut a, mut b, mut c) = (r0[s][l], r1[s][l], r2[s][l]);
                    (a, b) = (a.min(b), a.max(b));
                    (b, c) = (b.min(c), b.max(c));
                    (a, b) = (a.min(b), a.max(b));
                    (a, b, c)
                };
                let (l0, m0, h0) = col(0);
                let (l1, m1, h1) = col(1);
                let (l2, m2, h2) = col(2);
                res[l] = med3(l0.max(l1).max(l2), med3(m0, m1, m2), h0.min(h1).min(h2));
            }
            out[i..i + BLOCK].copy_from_slice(&res);
            i += BLOCK;
        }
        for i in i..n {
            out[i] = median3_at(rows, i);
        }
    }
}

/// Compare-exchange of lanes `a` and `b` (min to `a`).
#[inline(always)]
fn cx(v: &mut [[u8; BLOCK]; 32], a: usize, b: usize) {
    let (x, y) = (v[a], v[b]);
    for l in 0..BLOCK {
        v[a][l] = x[l].min(y[l]);
        v[b][l] = x[l].max(y[l]);
    }
}

/// Straight-line compare-exchanges, so every lane index is a constant.
macro_rules! network {
    ($v:ident; $(($a:literal, $b:literal)),* $(,)?) => {
        $(cx($v, $a, $b);)*
    };
}

/// Batcher's odd–even merge sort of 32 lanes (191 comparators), pruned to the 131 that
/// decide element 15 when lanes 25..28 hold 0 and 28..32 hold 255 (checked against
/// sorting by `median_matches_sorting_on_every_level`).
#[inline(always)]
fn median25(v: &mut [[u8; BLOCK]; 32]) {
    network!(v; (0, 1), (2, 3), (4, 5), (6, 7), (8, 9), (10, 11), (12, 13), (14, 15), (16, 17), (18, 19), (20, 21), (22, 23), (24, 25), (0, 2), (1, 3), (4, 6), (5, 7), (8, 10), (9, 11), (12, 14), (13, 15), (16, 18), (17, 19), (20, 22), (21, 23), (24, 26), (25, 27), (1, 2), (5, 6), (9, 10), (13, 14), (17, 18), (21, 22), (25, 26), (0, 4), (1, 5), (2, 6), (3, 7), (8, 12), (9, 13), (10, 14), (11, 15), (16, 20), (17, 21), (18, 22), (19, 23), (2, 4), (3, 5), (10, 12), (11, 13), (18, 20), (19, 21), (1, 2), (3, 4), (5, 6), (9, 10), (11, 12), (13, 14), (17, 18), (19, 20), (21, 22), (25, 26), (0, 8), (1, 9), (2, 10), (3, 11), (4, 12), (5, 13), (6, 14), (7, 15), (16, 24), (17, 25), (18, 26), (19, 27), (4, 8), (5, 9), (6, 10), (7, 11), (20, 24), (21, 25), (22, 26), (23, 27), (2, 4), (3, 5), (6, 8), (7, 9), (10, 12), (11, 13), (18, 20), (19, 21), (22, 24), (23, 25), (1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (17, 18), (19, 20), (21, 22), (23, 24), (25, 26), (0, 16), (1, 17), (2, 18), (3, 19), (4, 20), (5, 21), (6, 22), (7, 23), (8, 24), (9, 25), (10, 26), (11, 27), (8, 16), (9, 17), (10, 18), (11, 19), (12, 20), (13, 21), (14, 22), (15, 23), (12, 16), (13, 17), (14, 18), (15, 19), (14, 16), (15, 17), (15, 16));
}

autovectorized! {
    /// One output row of the 5×5 median from five padded rows (two pixels of border on
    /// each side).
    fn median5_row(rows: &[&[u8]; 5], out: &mut [u8]) {
        let n = out.len();
        let mut i = 0;
        while i < n {
            let m = BLOCK.min(n - i);
            // 25 window values, then 3 zeros and 4 × 255: the 13th smallest of the window
            // is element 15 of the sorted 32.
            let mut v = [[0u8; BLOCK]; 32];
            for (r, row) in rows.iter().enumerate() {
                for dx in 0..5 {
                    v[r * 5 + dx][..m].copy_from_slice(&row[i + dx..i + dx + m]);
                }
            }
            for lane in v.iter_mut().skip(28) {
                *lane = [255u8; BLOCK];
            }
            median25(&mut v);
            out[i..i + m].copy_from_slice(&v[15][..m]);
            i += m;
        }
    }
}

/// A reusable median filter; padded rows (a ring per band) are kept between calls.
#[derive(Debug)]
pub struct Median {
    ksize: usize,
    rings: Vec<Vec<u8>>,
}

impl Median {
    /// `ksize` 3 or 5.
    pub fn new(ksize: usize) -> Result<Self> {
        if ksize == 3 || ksize == 5 {
            Ok(Median {
                ksize,
                rings: Vec::new(),
            })
        } else {
            Err(Error::bad_param(
                "ksize",
                format!("must be 3 or 5, got {ksize}"),
            ))
        }
    }

    pub fn apply(&mut self, src: &ImageView<'_, u8>, dst: &mut ImageViewMut<'_, u8>) -> Result<()> {
        self.apply_at(simd::level()?, src, dst)
    }

    pub fn apply_at(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u8>,
    ) -> Result<()> {
        let level = level.check()?;
        check_same_size("output", src.size(), dst.size())?;
        let (w, h) = src.size();
        let k = self.ksize;
        let r = k / 2;
        let row_len = w + 2 * r;
        let band_rows = if w * h < 1 << 16 {
            h
        } else {
            parallel::band_rows_for(h, 4 * k)
        };
        let bands = h.div_ceil(band_rows);
        if self.rings.len() < bands {
            self.rings.resize_with(bands, Vec::new);
        }
        for ring in &mut self.rings {
            ring.resize(k * row_len, 0);
        }
        parallel::for_each_band_with_scratch(
            dst.reborrow(),
            band_rows,
            &mut self.rings,
            &|y0, mut band, ring| {
                let slot = |y: isize| y.rem_euclid(k as isize) as usize * row_len;
                // Row `y` (replicated at the image's edges), padded, into its ring slot.
                let fill = |ring: &mut [u8], y: isize| {
                    let sy = Border::Replicate.map(y, h).expect("replicate always maps");
                    let at = slot(y);
                    pad_row(
                        src.row(sy),
                        -(r as isize),
                        Border::Replicate,
                        0,
                        |v| v,
                        &mut ring[at..at + row_len],
                        |a, b| b.copy_from_slice(a),
                    );
                };
                for (i, out) in band.rows_mut().enumerate() {
                    let y = (y0 + i) as isize;
                    let first_new = if i == 0 {
                        y - r as isize
                    } else {
                        y + r as isize
                    };
                    for yy in first_new..=y + r as isize {
                        fill(ring, yy);
                    }
                    let row = |j: usize| {
                        let at = slot(y - r as isize + j as isize);
                        &ring[at..at + row_len]
                    };
                    if k == 3 {
                        median3_row(level, &[row(0), row(1), row(2)], out);
                    } else {
                        median5_row(level, &[row(0), row(1), row(2), row(3), row(4)], out);
                    }
                }
            },
        );
        Ok(())
    }
}
