//! Median filters 3×3 and 5×5 on u8, through min/max networks on whole rows (every
//! lane an output pixel), compiled per SIMD level (`autovectorized!`): bit-identical to
//! a sort-based reference, since min and max are exact. Borders replicate the edge, as
//! OpenCV's `medianBlur` does.
//!
//! 3×3 shares work between neighbours: each column of three is sorted once (low, middle,
//! high); the median of the window is then the median of (the largest low, the median
//! middle, the smallest high) of three adjacent columns. 5×5 runs Batcher's odd–even
//! merge network on the 25 values, pruned to the 113 comparators that decide the middle.

use crate::image::{ImageView, ImageViewMut, check_same_size};
use crate::kernels::border::{Border, pad_row};
use crate::kernels::parallel;
use crate::simd::autovectorized;
use crate::simd::{self, SimdLevel};
use crate::{Error, Result};

/// Pixels per block: the lanes the network works on at once.
const BLOCK: usize = 64;

/// The 3×3 median at column `x` of three unpadded rows, columns replicated at the
/// edges: the scalar form of the vector code (edges and tails).
#[inline(always)]
fn median3_at(rows: &[&[u8]; 3], x: usize) -> u8 {
    let last = rows[0].len() - 1;
    let col = |c: usize| {
        let (mut a, mut b, mut c) = (rows[0][c], rows[1][c], rows[2][c]);
        (a, b) = (a.min(b), a.max(b));
        (b, c) = (b.min(c), b.max(c));
        (a, b) = (a.min(b), a.max(b));
        (a, b, c)
    };
    let (l0, m0, h0) = col(x.saturating_sub(1));
    let (l1, m1, h1) = col(x);
    let (l2, m2, h2) = col((x + 1).min(last));
    med3(l0.max(l1).max(l2), med3(m0, m1, m2), h0.min(h1).min(h2))
}

#[inline(always)]
fn med3(a: u8, b: u8, c: u8) -> u8 {
    a.min(b).max(a.max(b).min(c))
}

autovectorized! {
    /// One output row of the 3×3 median from the three source rows (unpadded: the edge
    /// columns are replicated by the scalar form, the interior runs in blocks straight
    /// from the image, with no copy).
    fn median3_row(rows: &[&[u8]; 3], out: &mut [u8]) {
        let n = out.len();
        out[0] = median3_at(rows, 0);
        out[n - 1] = median3_at(rows, n - 1);
        if n < BLOCK + 2 {
            for x in 1..n.saturating_sub(1) {
                out[x] = median3_at(rows, x);
            }
            return;
        }
        // Blocks over the interior 1..n−1; the last one overlaps the one before it
        // (recomputing a few pixels) instead of leaving a scalar tail.
        let mut next = 1;
        loop {
            let x = next.min(n - 1 - BLOCK);
            // Each column sort is recomputed for the three shifts: cheaper than sharing it
            // through memory, where shifted reloads of fresh stores stall.
            let load = |r: usize, s: usize| -> &[u8; BLOCK] { rows[r][x - 1 + s..x - 1 + s + BLOCK].try_into().expect("block") };
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
            out[x..x + BLOCK].copy_from_slice(&res);
            next += BLOCK;
            if x == n - 1 - BLOCK {
                break;
            }
        }
    }
}

/// Lane-wise (min, max) of two blocks.
#[inline(always)]
fn mm(a: [u8; BLOCK], b: [u8; BLOCK]) -> ([u8; BLOCK], [u8; BLOCK]) {
    let (mut lo, mut hi) = (a, b);
    for l in 0..BLOCK {
        lo[l] = a[l].min(b[l]);
        hi[l] = a[l].max(b[l]);
    }
    (lo, hi)
}

/// Batcher's odd–even merge sort network for 32 inputs restricted to 25 (comparators
/// reaching past lane 24 would only meet +∞ padding), pruned to the 113 that decide
/// lane 12, the median (checked against sorting by `median_matches_sorting_on_every_level`).
/// Written on 25 named locals, not an array, so they stay in registers (25 of AVX-512's
/// 32). The comparator list is generated; do not edit by hand.
#[inline(always)]
#[allow(unused_assignments)]
fn median25(v: [[u8; BLOCK]; 25]) -> [u8; BLOCK] {
    let [
        mut v0,
        mut v1,
        mut v2,
        mut v3,
        mut v4,
        mut v5,
        mut v6,
        mut v7,
        mut v8,
        mut v9,
        mut v10,
        mut v11,
        mut v12,
        mut v13,
        mut v14,
        mut v15,
        mut v16,
        mut v17,
        mut v18,
        mut v19,
        mut v20,
        mut v21,
        mut v22,
        mut v23,
        mut v24,
    ] = v;
    (v0, v1) = mm(v0, v1);
    (v2, v3) = mm(v2, v3);
    (v4, v5) = mm(v4, v5);
    (v6, v7) = mm(v6, v7);
    (v8, v9) = mm(v8, v9);
    (v10, v11) = mm(v10, v11);
    (v12, v13) = mm(v12, v13);
    (v14, v15) = mm(v14, v15);
    (v16, v17) = mm(v16, v17);
    (v18, v19) = mm(v18, v19);
    (v20, v21) = mm(v20, v21);
    (v22, v23) = mm(v22, v23);
    (v0, v2) = mm(v0, v2);
    (v1, v3) = mm(v1, v3);
    (v4, v6) = mm(v4, v6);
    (v5, v7) = mm(v5, v7);
    (v8, v10) = mm(v8, v10);
    (v9, v11) = mm(v9, v11);
    (v12, v14) = mm(v12, v14);
    (v13, v15) = mm(v13, v15);
    (v16, v18) = mm(v16, v18);
    (v17, v19) = mm(v17, v19);
    (v20, v22) = mm(v20, v22);
    (v21, v23) = mm(v21, v23);
    (v1, v2) = mm(v1, v2);
    (v5, v6) = mm(v5, v6);
    (v9, v10) = mm(v9, v10);
    (v13, v14) = mm(v13, v14);
    (v17, v18) = mm(v17, v18);
    (v21, v22) = mm(v21, v22);
    (v0, v4) = mm(v0, v4);
    (v1, v5) = mm(v1, v5);
    (v2, v6) = mm(v2, v6);
    (v3, v7) = mm(v3, v7);
    (v8, v12) = mm(v8, v12);
    (v9, v13) = mm(v9, v13);
    (v10, v14) = mm(v10, v14);
    (v11, v15) = mm(v11, v15);
    (v16, v20) = mm(v16, v20);
    (v17, v21) = mm(v17, v21);
    (v18, v22) = mm(v18, v22);
    (v19, v23) = mm(v19, v23);
    (v2, v4) = mm(v2, v4);
    (v3, v5) = mm(v3, v5);
    (v10, v12) = mm(v10, v12);
    (v11, v13) = mm(v11, v13);
    (v18, v20) = mm(v18, v20);
    (v19, v21) = mm(v19, v21);
    (v1, v2) = mm(v1, v2);
    (v3, v4) = mm(v3, v4);
    (v5, v6) = mm(v5, v6);
    (v9, v10) = mm(v9, v10);
    (v11, v12) = mm(v11, v12);
    (v13, v14) = mm(v13, v14);
    (v17, v18) = mm(v17, v18);
    (v19, v20) = mm(v19, v20);
    (v21, v22) = mm(v21, v22);
    (v0, v8) = mm(v0, v8);
    (v1, v9) = mm(v1, v9);
    (v2, v10) = mm(v2, v10);
    (v3, v11) = mm(v3, v11);
    (v4, v12) = mm(v4, v12);
    (v5, v13) = mm(v5, v13);
    (v6, v14) = mm(v6, v14);
    (v7, v15) = mm(v7, v15);
    (v16, v24) = mm(v16, v24);
    (v4, v8) = mm(v4, v8);
    (v5, v9) = mm(v5, v9);
    (v6, v10) = mm(v6, v10);
    (v7, v11) = mm(v7, v11);
    (v20, v24) = mm(v20, v24);
    (v2, v4) = mm(v2, v4);
    (v3, v5) = mm(v3, v5);
    (v6, v8) = mm(v6, v8);
    (v7, v9) = mm(v7, v9);
    (v10, v12) = mm(v10, v12);
    (v11, v13) = mm(v11, v13);
    (v18, v20) = mm(v18, v20);
    (v19, v21) = mm(v19, v21);
    (v22, v24) = mm(v22, v24);
    (v1, v2) = mm(v1, v2);
    (v3, v4) = mm(v3, v4);
    (v5, v6) = mm(v5, v6);
    (v7, v8) = mm(v7, v8);
    (v9, v10) = mm(v9, v10);
    (v11, v12) = mm(v11, v12);
    (v13, v14) = mm(v13, v14);
    (v17, v18) = mm(v17, v18);
    (v19, v20) = mm(v19, v20);
    (v21, v22) = mm(v21, v22);
    (v23, v24) = mm(v23, v24);
    (v0, v16) = mm(v0, v16);
    (v1, v17) = mm(v1, v17);
    (v2, v18) = mm(v2, v18);
    (v3, v19) = mm(v3, v19);
    (v4, v20) = mm(v4, v20);
    (v5, v21) = mm(v5, v21);
    (v6, v22) = mm(v6, v22);
    (v7, v23) = mm(v7, v23);
    (v8, v24) = mm(v8, v24);
    (v8, v16) = mm(v8, v16);
    (v9, v17) = mm(v9, v17);
    (v10, v18) = mm(v10, v18);
    (v11, v19) = mm(v11, v19);
    (v12, v20) = mm(v12, v20);
    (v13, v21) = mm(v13, v21);
    (v6, v10) = mm(v6, v10);
    (v7, v11) = mm(v7, v11);
    (v12, v16) = mm(v12, v16);
    (v13, v17) = mm(v13, v17);
    (v10, v12) = mm(v10, v12);
    (v11, v13) = mm(v11, v13);
    (v11, v12) = mm(v11, v12);
    v12
}

autovectorized! {
    /// One output row of the 5×5 median from five padded rows (two pixels of border on
    /// each side).
    fn median5_row(rows: &[&[u8]; 5], out: &mut [u8]) {
        let n = out.len();
        let mut i = 0;
        while i < n {
            let m = BLOCK.min(n - i);
            let mut v = [[0u8; BLOCK]; 25];
            if m == BLOCK {
                // Whole-vector copies: a partial copy followed by a full-width load would
                // defeat store-to-load forwarding.
                for (r, row) in rows.iter().enumerate() {
                    for dx in 0..5 {
                        v[r * 5 + dx] = row[i + dx..i + dx + BLOCK].try_into().expect("block");
                    }
                }
            } else {
                for (r, row) in rows.iter().enumerate() {
                    for dx in 0..5 {
                        v[r * 5 + dx][..m].copy_from_slice(&row[i + dx..i + dx + m]);
                    }
                }
            }
            let median = median25(v);
            out[i..i + m].copy_from_slice(&median[..m]);
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
        if k == 3 {
            // Rows straight from the image (replicated at the top and bottom): no copies.
            parallel::for_each_band_at(*src, dst.reborrow(), 1 << 16, &|y0, _, mut band| {
                for (i, out) in band.rows_mut().enumerate() {
                    let y = y0 + i;
                    let rows = [
                        src.row(y.saturating_sub(1)),
                        src.row(y),
                        src.row((y + 1).min(h - 1)),
                    ];
                    median3_row(level, &rows, out);
                }
            });
            return Ok(());
        }
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
                    median5_row(level, &[row(0), row(1), row(2), row(3), row(4)], out);
                }
            },
        );
        Ok(())
    }
}
