//! Median filters 3×3 and 5×5 on u8, through min/max networks on whole rows (every
//! lane an output pixel), compiled per SIMD level (`autovectorized!`): bit-identical to
//! a sort-based reference, since min and max are exact. Borders replicate the edge, as
//! OpenCV's `medianBlur` does.
//!
//! 3×3 shares work between neighbours: each column of three is sorted once (low, middle,
//! high); the median of the window is then the median of (the largest low, the median
//! middle, the smallest high) of three adjacent columns. 5×5 sorts each column of five
//! once per row (shared by the five windows that contain it), then runs Batcher's
//! odd–even merge network on the 25 values, pruned to the 76 comparators that decide
//! the middle when the columns come sorted.

use crate::image::{ImageView, ImageViewMut, check_same_size};
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

/// One output row of the 3×3 median at a level already checked by the caller: with
/// AVX-512 VBMI the columns are sorted once and shifted in registers (`vpermt2b`),
/// elsewhere the compiled blocks.
fn median3_row_at(level: SimdLevel, rows: &[&[u8]; 3], out: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if level == SimdLevel::Avx512Vbmi && level.is_supported() {
        // SAFETY: the guard just checked that the CPU has AVX-512 F/BW and VBMI.
        return unsafe { vbmi::median3_row(rows, out) };
    }
    median3_row(level, rows, out)
}

/// The 3×3 median on AVX-512 VBMI. The compiled blocks sort each column three times
/// (once per window that holds it) from nine loads; here each 64-column vector of rows
/// is loaded and sorted once, and the windows' columns x − 1, x, x + 1 are cut from two
/// sorted vectors with one two-source byte permute each.
#[cfg(target_arch = "x86_64")]
mod vbmi {
    use super::{BLOCK, median3_at};
    use std::arch::x86_64::*;

    /// Lows, middles and highs of the 64 columns starting at `x` (three rows sorted).
    /// Only for callers with AVX-512 BW enabled.
    #[inline(always)]
    unsafe fn sorted_columns(rows: &[&[u8]; 3], x: usize) -> [__m512i; 3] {
        // SAFETY: the caller keeps x + 64 within every row.
        unsafe {
            let load = |r: usize| _mm512_loadu_si512(rows[r].as_ptr().add(x).cast());
            let (a, b, c) = (load(0), load(1), load(2));
            let (lo, hi) = (_mm512_min_epu8(a, b), _mm512_max_epu8(a, b));
            let (mid, hi) = (_mm512_min_epu8(hi, c), _mm512_max_epu8(hi, c));
            let (lo, mid) = (_mm512_min_epu8(lo, mid), _mm512_max_epu8(lo, mid));
            [lo, mid, hi]
        }
    }

    /// `max(min(a, b), min(max(a, b), c))`.
    #[inline(always)]
    unsafe fn med3(a: __m512i, b: __m512i, c: __m512i) -> __m512i {
        // SAFETY: AVX-512 BW is enabled in the only caller.
        unsafe {
            _mm512_max_epu8(
                _mm512_min_epu8(a, b),
                _mm512_min_epu8(_mm512_max_epu8(a, b), c),
            )
        }
    }

    /// Output row of the 3×3 median; edges replicated as in [`super::median3_row`].
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    pub(super) fn median3_row(rows: &[&[u8]; 3], out: &mut [u8]) {
        let n = out.len();
        assert!(rows.iter().all(|r| r.len() == n), "rows and output differ");
        // Blocks need columns x − 1 ..= x + 64 and one sorted vector ahead: x + 127 < n.
        if n < 2 * BLOCK + 2 {
            return super::median3_row(super::SimdLevel::Avx512Vbmi, rows, out);
        }
        out[0] = median3_at(rows, 0);
        out[n - 1] = median3_at(rows, n - 1);
        // The windows' middle and last columns, bytes i + 1 and i + 2 of (the sorted
        // columns from x − 1, the next vector). The next vector starts 64 columns on,
        // except near the end of the row, where it is loaded from n − 64, `back` columns
        // before that, so that it stays within the row.
        let index = |back: usize| {
            let mut b = [[0u8; 64]; 2];
            for (s, b) in b.iter_mut().enumerate() {
                for (i, v) in b.iter_mut().enumerate() {
                    let j = i + s + 1;
                    *v = (if j < 64 { j } else { j + back }) as u8;
                }
            }
            // SAFETY: unaligned loads of local 64-byte arrays.
            unsafe { b.map(|b| _mm512_loadu_si512(b.as_ptr().cast())) }
        };
        let median = |cur: &[__m512i; 3], next: &[__m512i; 3], idx: &[__m512i; 2]| {
            let cut = |k: usize, j: usize| _mm512_permutex2var_epi8(cur[k], idx[j], next[k]);
            let lows = _mm512_max_epu8(_mm512_max_epu8(cur[0], cut(0, 0)), cut(0, 1));
            let highs = _mm512_min_epu8(_mm512_min_epu8(cur[2], cut(2, 0)), cut(2, 1));
            // SAFETY: AVX-512 BW is enabled here.
            let mids = unsafe { med3(cur[1], cut(1, 0), cut(1, 1)) };
            // SAFETY: as above.
            unsafe { med3(lows, mids, highs) }
        };
        let within = index(0);
        let mut x = 1;
        // SAFETY: sorted_columns(x − 1) reads columns x − 1 .. x + 63 and
        // sorted_columns(x + 63) columns up to x + 126, below n (loop condition
        // x + 128 <= n); the store writes out[x .. x + 64], x + 64 < n.
        unsafe {
            let mut cur = sorted_columns(rows, x - 1);
            while x + 2 * BLOCK <= n {
                let next = sorted_columns(rows, x - 1 + BLOCK);
                _mm512_storeu_si512(out.as_mut_ptr().add(x).cast(), median(&cur, &next, &within));
                cur = next;
                x += BLOCK;
            }
        }
        // At most two more blocks; the last ends at n − 1, overlapping the one before
        // (recomputing a few columns to the same values).
        while x < n - 1 {
            let x_b = x.min(n - 1 - BLOCK);
            let back = x_b + 127 - n;
            // SAFETY: x_b >= 1 and x_b + 64 <= n − 1, so the loads read columns
            // x_b − 1 .. x_b + 63 and n − 64 .. n (end exclusive), and the store writes
            // out[x_b .. x_b + 64].
            unsafe {
                let cur = sorted_columns(rows, x_b - 1);
                let next = sorted_columns(rows, n - BLOCK);
                let v = median(&cur, &next, &index(back));
                _mm512_storeu_si512(out.as_mut_ptr().add(x_b).cast(), v);
            }
            x += BLOCK;
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

/// The median of 25 values given as five sorted columns of five (`v[r·5 + dx]` is the
/// r-th smallest of column dx): Batcher's odd–even merge sort network for 32 inputs
/// restricted to 25, pruned to the 76 comparators that still decide lane 12, the median,
/// for inputs with sorted columns (113 are needed without them). Checked by the 0-1
/// principle in the generator (`scripts/median_network.py`) and against sorting by
/// `median_matches_sorting_on_every_level`. Written on 25 named locals, not an array,
/// so they stay in registers (25 of AVX-512's 32). Generated; do not edit by hand.
#[inline(always)]
#[allow(unused_assignments)]
fn median25_of_sorted_columns(at: impl Fn(usize) -> [u8; BLOCK]) -> [u8; BLOCK] {
    let mut v0 = at(0);
    let mut v1 = at(1);
    let mut v2 = at(2);
    let mut v3 = at(3);
    let mut v4 = at(4);
    let mut v5 = at(5);
    let mut v6 = at(6);
    let mut v7 = at(7);
    let mut v8 = at(8);
    let mut v9 = at(9);
    let mut v10 = at(10);
    let mut v11 = at(11);
    let mut v12 = at(12);
    let mut v13 = at(13);
    let mut v14 = at(14);
    let mut v15 = at(15);
    let mut v16 = at(16);
    let mut v17 = at(17);
    let mut v18 = at(18);
    let mut v19 = at(19);
    let mut v20 = at(20);
    let mut v21 = at(21);
    let mut v22 = at(22);
    let mut v23 = at(23);
    let mut v24 = at(24);
    // 76 comparators (generated by scripts/median_network.py)
    (v0, v1) = mm(v0, v1);
    (v2, v3) = mm(v2, v3);
    (v0, v2) = mm(v0, v2);
    (v1, v3) = mm(v1, v3);
    (v1, v2) = mm(v1, v2);
    (v4, v5) = mm(v4, v5);
    (v6, v7) = mm(v6, v7);
    (v4, v6) = mm(v4, v6);
    (v5, v7) = mm(v5, v7);
    (v5, v6) = mm(v5, v6);
    (v2, v6) = mm(v2, v6);
    (v2, v4) = mm(v2, v4);
    (v3, v7) = mm(v3, v7);
    (v3, v5) = mm(v3, v5);
    (v3, v4) = mm(v3, v4);
    (v5, v6) = mm(v5, v6);
    (v8, v9) = mm(v8, v9);
    (v10, v11) = mm(v10, v11);
    (v8, v10) = mm(v8, v10);
    (v9, v11) = mm(v9, v11);
    (v9, v10) = mm(v9, v10);
    (v12, v13) = mm(v12, v13);
    (v14, v15) = mm(v14, v15);
    (v12, v14) = mm(v12, v14);
    (v13, v15) = mm(v13, v15);
    (v13, v14) = mm(v13, v14);
    (v10, v14) = mm(v10, v14);
    (v10, v12) = mm(v10, v12);
    (v9, v13) = mm(v9, v13);
    (v11, v15) = mm(v11, v15);
    (v11, v13) = mm(v11, v13);
    (v9, v10) = mm(v9, v10);
    (v11, v12) = mm(v11, v12);
    (v13, v14) = mm(v13, v14);
    (v4, v12) = mm(v4, v12);
    (v4, v8) = mm(v4, v8);
    (v6, v14) = mm(v6, v14);
    (v6, v10) = mm(v6, v10);
    (v6, v8) = mm(v6, v8);
    (v10, v12) = mm(v10, v12);
    (v5, v13) = mm(v5, v13);
    (v5, v9) = mm(v5, v9);
    (v7, v11) = mm(v7, v11);
    (v7, v9) = mm(v7, v9);
    (v11, v13) = mm(v11, v13);
    (v7, v8) = mm(v7, v8);
    (v9, v10) = mm(v9, v10);
    (v11, v12) = mm(v11, v12);
    (v16, v17) = mm(v16, v17);
    (v18, v19) = mm(v18, v19);
    (v16, v18) = mm(v16, v18);
    (v17, v19) = mm(v17, v19);
    (v17, v18) = mm(v17, v18);
    (v20, v21) = mm(v20, v21);
    (v22, v23) = mm(v22, v23);
    (v20, v22) = mm(v20, v22);
    (v21, v23) = mm(v21, v23);
    (v21, v22) = mm(v21, v22);
    (v16, v20) = mm(v16, v20);
    (v18, v20) = mm(v18, v20);
    (v17, v21) = mm(v17, v21);
    (v19, v21) = mm(v19, v21);
    (v17, v18) = mm(v17, v18);
    (v20, v24) = mm(v20, v24);
    (v18, v20) = mm(v18, v20);
    (v17, v18) = mm(v17, v18);
    (v19, v20) = mm(v19, v20);
    (v8, v16) = mm(v8, v16);
    (v12, v16) = mm(v12, v16);
    (v10, v18) = mm(v10, v18);
    (v10, v12) = mm(v10, v12);
    (v9, v17) = mm(v9, v17);
    (v13, v17) = mm(v13, v17);
    (v11, v19) = mm(v11, v19);
    (v11, v13) = mm(v11, v13);
    (v11, v12) = mm(v11, v12);
    v12
}

autovectorized! {
    /// Sorts the five rows column by column into the five rows of `sorted` (row k: the
    /// k-th smallest of each column), written from column `offset` of each sorted row
    /// (the columns before it are the caller's border), with the optimal nine-comparator
    /// network for five.
    fn sort_columns5(rows: &[&[u8]; 5], offset: usize, sorted: &mut [u8]) {
        let n = rows[0].len();
        let len = sorted.len() / 5;
        let (s0, rest) = sorted.split_at_mut(len);
        let (s1, rest) = rest.split_at_mut(len);
        let (s2, rest) = rest.split_at_mut(len);
        let (s3, s4) = rest.split_at_mut(len);
        let (s0, s1, s2) = (&mut s0[offset..offset + n], &mut s1[offset..offset + n], &mut s2[offset..offset + n]);
        let (s3, s4) = (&mut s3[offset..offset + n], &mut s4[offset..offset + n]);
        let (r0, r1, r2, r3, r4) = (&rows[0][..n], &rows[1][..n], &rows[2][..n], &rows[3][..n], &rows[4][..n]);
        for i in 0..n {
            let (mut a, mut b, mut c, mut d, mut e) = (r0[i], r1[i], r2[i], r3[i], r4[i]);
            (a, b) = (a.min(b), a.max(b));
            (d, e) = (d.min(e), d.max(e));
            (c, e) = (c.min(e), c.max(e));
            (c, d) = (c.min(d), c.max(d));
            (b, e) = (b.min(e), b.max(e));
            (a, d) = (a.min(d), a.max(d));
            (a, c) = (a.min(c), a.max(c));
            (b, d) = (b.min(d), b.max(d));
            (b, c) = (b.min(c), b.max(c));
            (s0[i], s1[i], s2[i], s3[i], s4[i]) = (a, b, c, d, e);
        }
    }
}

autovectorized! {
    /// One output row of the 5×5 median from the five sorted rows of [`sort_columns5`]
    /// (two columns of border on each side): each window reads its five sorted columns.
    fn median5_row(sorted: &[u8], out: &mut [u8]) {
        let n = out.len();
        let len = sorted.len() / 5;
        let rank = |r: usize| &sorted[r * len..(r + 1) * len];
        let mut i = 0;
        while i + BLOCK <= n {
            // Each input loaded straight into its local (an array of 25 blocks built first
            // went through the stack, with memset and memcpy calls).
            let median = median25_of_sorted_columns(|j| {
                let at = i + j % 5;
                rank(j / 5)[at..at + BLOCK].try_into().expect("block")
            });
            out[i..i + BLOCK].copy_from_slice(&median);
            i += BLOCK;
        }
        if i < n {
            let m = n - i;
            let median = median25_of_sorted_columns(|j| {
                let mut v = [0u8; BLOCK];
                let at = i + j % 5;
                v[..m].copy_from_slice(&rank(j / 5)[at..at + m]);
                v
            });
            out[i..].copy_from_slice(&median[..m]);
        }
    }
}

/// A reusable median filter; its scratch rows are kept between calls.
#[derive(Debug)]
pub struct Median {
    ksize: usize,
    /// Per band: the five rows of sorted columns, padded by two columns a side.
    sorted: Vec<Vec<u8>>,
}

impl Median {
    /// `ksize` 3 or 5.
    pub fn new(ksize: usize) -> Result<Self> {
        if ksize == 3 || ksize == 5 {
            Ok(Median {
                ksize,
                sorted: Vec::new(),
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
                    median3_row_at(level, &rows, out);
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
        if self.sorted.len() < bands {
            self.sorted.resize_with(bands, Vec::new);
        }
        for sorted in &mut self.sorted {
            sorted.resize(5 * row_len, 0);
        }
        parallel::for_each_band_with_scratch(
            dst.reborrow(),
            band_rows,
            &mut self.sorted,
            &|y0, mut band, sorted| {
                for (i, out) in band.rows_mut().enumerate() {
                    // Rows straight from the image, replicated at the top and bottom.
                    let row = |dy: usize| src.row((y0 + i + dy).saturating_sub(r).min(h - 1));
                    let rows = [row(0), row(1), row(2), row(3), row(4)];
                    sort_columns5(level, &rows, r, sorted);
                    // Columns beyond the edges replicate the edge column, sorted as it is.
                    for rank in sorted.chunks_exact_mut(row_len) {
                        let (first, last) = (rank[r], rank[r + w - 1]);
                        rank[..r].fill(first);
                        rank[r + w..].fill(last);
                    }
                    median5_row(level, sorted, out);
                }
            },
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The network as written here (not only the generator's list) decides the median of
    /// every 0/1 input with sorted columns, which by the 0-1 principle covers all inputs
    /// with sorted columns: the 6^5 cases, 64 lanes at a time.
    #[test]
    fn network_takes_the_median_of_every_column_sorted_zero_one_input() {
        // Case c: column dx holds ones in its top `ones(c, dx)` ranks.
        let ones = |c: usize, dx: usize| c / 6usize.pow(dx as u32) % 6;
        let cases = 6usize.pow(5);
        for base in (0..cases).step_by(BLOCK) {
            let lane_case = |l: usize| (base + l).min(cases - 1);
            let got = median25_of_sorted_columns(|j| {
                let (r, dx) = (j / 5, j % 5);
                std::array::from_fn(|l| u8::from(r >= 5 - ones(lane_case(l), dx)))
            });
            for (l, &g) in got.iter().enumerate() {
                let c = lane_case(l);
                let total: usize = (0..5).map(|dx| ones(c, dx)).sum();
                assert_eq!(g, u8::from(total > 12), "case {c}");
            }
        }
    }
}
