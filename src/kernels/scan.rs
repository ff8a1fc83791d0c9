//! Row scans: the per-row exponential moving average of the chapter's Code 8.2.4,
//! `out[c] = a·in[c] + (1 − a)·out[c − 1]`, `out[0] = in[0]`.
//!
//! One row is a dependency chain (a multiply and an add per pixel, several cycles of
//! latency), so a row alone cannot go faster than that chain. Rows are independent:
//! blocks of [`ROWS`] rows advance together, column by column, as one vector of
//! [`ROWS`] lanes (loaded across the rows, the transposed direction), which fills the
//! pipeline; blocks run in parallel on rayon. On AVX-512 a block moves through 16x16
//! tiles transposed in registers (16 vector loads and stores per 256 pixels instead of
//! lane-by-lane gathers), and large outputs are written with streaming stores. Every
//! lane does exactly the scalar reference's operations, so results are bit-identical
//! to it.

use crate::image::{ImageView, ImageViewMut, check_same_size};
use crate::kernels::parallel;
use crate::simd::autovectorized;
use crate::simd::{self, SimdLevel};
use crate::{Error, Result};

/// Rows advanced together.
pub const ROWS: usize = 16;

/// The reference: one row, sequentially.
pub fn row_ema_reference(src: &[f32], alpha: f32, out: &mut [f32]) {
    let b = 1.0 - alpha;
    let mut prev = src[0];
    out[0] = prev;
    for (o, &x) in out[1..].iter_mut().zip(&src[1..]) {
        prev = alpha * x + b * prev;
        *o = prev;
    }
}

autovectorized! {
    /// Up to ROWS rows at once (`rows` of them), lanes across rows.
    fn ema_block(src: &[&[f32]; ROWS], rows: usize, alpha: f32, out: &mut [&mut [f32]; ROWS]) {
        let b = 1.0 - alpha;
        let w = out[0].len();
        let mut prev = [0.0f32; ROWS];
        for r in 0..rows {
            prev[r] = src[r][0];
            out[r][0] = prev[r];
        }
        for c in 1..w {
            let mut x = [0.0f32; ROWS];
            for r in 0..rows {
                x[r] = src[r][c];
            }
            for r in 0..ROWS {
                prev[r] = alpha * x[r] + b * prev[r];
            }
            for r in 0..rows {
                out[r][c] = prev[r];
            }
        }
    }
}

/// The row EMA of an f32 image (`0 <= alpha <= 1`).
pub fn row_ema(
    src: &ImageView<'_, f32>,
    dst: &mut ImageViewMut<'_, f32>,
    alpha: f32,
) -> Result<()> {
    row_ema_at(simd::level()?, src, dst, alpha)
}

/// [`row_ema`] at an explicit SIMD level.
pub fn row_ema_at(
    level: SimdLevel,
    src: &ImageView<'_, f32>,
    dst: &mut ImageViewMut<'_, f32>,
    alpha: f32,
) -> Result<()> {
    let level = level.check()?;
    check_same_size("output", src.size(), dst.size())?;
    if !(0.0..=1.0).contains(&alpha) {
        return Err(Error::bad_param(
            "alpha",
            format!("must be in 0..=1, got {alpha}"),
        ));
    }
    #[cfg(target_arch = "x86_64")]
    let stream = dst.width() * dst.height() * size_of::<f32>() >= crate::kernels::STREAM_MIN_BYTES;
    parallel::for_each_band(*src, dst.reborrow(), 1 << 14, &|s, mut d| {
        let (mut ins, mut outs) = (s.rows(), d.rows_mut());
        loop {
            let mut src_rows: [&[f32]; ROWS] = Default::default();
            let mut dst_rows: [&mut [f32]; ROWS] = Default::default();
            let mut rows = 0;
            for (i, o) in src_rows.iter_mut().zip(dst_rows.iter_mut()) {
                match (ins.next(), outs.next()) {
                    (Some(a), Some(b)) => (*i, *o, rows) = (a, b, rows + 1),
                    _ => break,
                }
            }
            if rows == 0 {
                break;
            }
            #[cfg(target_arch = "x86_64")]
            if rows == ROWS
                && matches!(level, SimdLevel::Avx512 | SimdLevel::Avx512Vbmi)
                && SimdLevel::Avx512.is_supported()
            {
                // SAFETY: the guard just checked that the CPU has AVX-512 F.
                unsafe { avx512::ema_rows(&src_rows, alpha, &mut dst_rows, stream) };
                continue;
            }
            ema_block(level, &src_rows, rows, alpha, &mut dst_rows);
        }
    });
    Ok(())
}

/// Full blocks of [`ROWS`] rows on AVX-512, transposing 16x16 tiles in registers (the
/// issue's "transpose small blocks"): 16 columns of the 16 rows are loaded as 16
/// vectors and transposed, so that each vector holds one column across the rows; the
/// 16 steps of the scan run on those, and the result is transposed back and stored.
/// That is 16 vector loads and stores per 256 pixels, where the lane loop gathers and
/// scatters them one by one. Every lane does the reference's operations in its order
/// (a product each, then their sum; no fused multiply-add), so the bits are the same.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::ROWS;

    /// Two-source permute indices of the transpose step that swaps blocks of `b`
    /// (`high` = false: the first row of a pair, true: the second).
    const fn swap_indices(b: usize, high: bool) -> [i32; 16] {
        let mut idx = [0i32; 16];
        let mut pos = 0;
        while pos < 16 {
            let upper = pos & b != 0;
            idx[pos] = match (high, upper) {
                (false, false) => pos as i32,
                (false, true) => (16 + pos - b) as i32,
                (true, false) => (pos + b) as i32,
                (true, true) => (16 + pos) as i32,
            };
            pos += 1;
        }
        idx
    }

    /// The permute indices of the four block swaps (blocks of 8, 4, 2, 1), each for the
    /// first and the second row of a pair.
    const SWAPS: [[[i32; 16]; 2]; 4] = [
        [swap_indices(8, false), swap_indices(8, true)],
        [swap_indices(4, false), swap_indices(4, true)],
        [swap_indices(2, false), swap_indices(2, true)],
        [swap_indices(1, false), swap_indices(1, true)],
    ];

    /// [`SWAPS`] in registers.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn swap_vectors() -> [[__m512i; 2]; 4] {
        // SAFETY: each index array is 16 i32s, read whole.
        SWAPS.map(|pair| pair.map(|idx| unsafe { _mm512_loadu_si512(idx.as_ptr().cast()) }))
    }

    /// Rows i and i + B, for every i with bit B clear, swap their blocks of B lanes.
    #[inline(always)]
    fn swap_blocks<const B: usize>(m: &mut [__m512; 16], [lo, hi]: [__m512i; 2]) {
        for k in 0..8 {
            let i = k / B * 2 * B + k % B;
            let (x, y) = (m[i], m[i + B]);
            // SAFETY: AVX-512 F is enabled in the only caller, `transpose`.
            unsafe {
                m[i] = _mm512_permutex2var_ps(x, lo, y);
                m[i + B] = _mm512_permutex2var_ps(x, hi, y);
            }
        }
    }

    /// The 16x16 transpose (Eklundh's block swaps: blocks of 8, 4, 2, 1): afterwards
    /// lane `i` of vector `j` is lane `j` of input vector `i`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) fn transpose(mut m: [__m512; 16], swaps: &[[__m512i; 2]; 4]) -> [__m512; 16] {
        swap_blocks::<8>(&mut m, swaps[0]);
        swap_blocks::<4>(&mut m, swaps[1]);
        swap_blocks::<2>(&mut m, swaps[2]);
        swap_blocks::<1>(&mut m, swaps[3]);
        m
    }

    /// The scan of 16 rows of equal length; `stream`: aligned output vectors written with
    /// streaming stores (4K f32, one thread: 5.6 -> 2.45 ms; the 16 rows' read-for-
    /// ownership of their output lines was half the memory traffic).
    #[target_feature(enable = "avx512f")]
    pub(super) fn ema_rows(
        src: &[&[f32]; ROWS],
        alpha: f32,
        out: &mut [&mut [f32]; ROWS],
        stream: bool,
    ) {
        const L: usize = 16;
        let w = out[0].len();
        assert!(
            src.iter().all(|r| r.len() >= w) && out.iter().all(|r| r.len() == w),
            "rows of unequal length"
        );
        let (a, b) = (_mm512_set1_ps(alpha), _mm512_set1_ps(1.0 - alpha));
        // Lane r: the last output of row r (column 0 starts the scan as itself).
        let mut prev = [0.0f32; ROWS];
        for (p, row) in prev.iter_mut().zip(src) {
            *p = row[0];
        }
        // SAFETY: `prev` is 16 f32s.
        let mut carry = unsafe { _mm512_loadu_ps(prev.as_ptr()) };
        let swaps = swap_vectors();
        let from = src.map(|row| row.as_ptr());
        let to = out.each_mut().map(|row| row.as_mut_ptr());
        let mut x = 0;
        while x + L <= w {
            // SAFETY: x + 16 <= w <= every row's length (asserted).
            let rows = from.map(|row| unsafe { _mm512_loadu_ps(row.add(x)) });
            let mut cols = transpose(rows, &swaps);
            for (j, col) in cols.iter_mut().enumerate() {
                if x + j > 0 {
                    carry = _mm512_add_ps(_mm512_mul_ps(a, *col), _mm512_mul_ps(b, carry));
                }
                *col = carry;
            }
            for (row, v) in to.iter().zip(transpose(cols, &swaps)) {
                // SAFETY: x + 16 <= w = the row's length (asserted).
                unsafe {
                    let at = row.add(x);
                    if stream && (at as usize).is_multiple_of(64) {
                        _mm512_stream_ps(at, v);
                    } else {
                        _mm512_storeu_ps(at, v);
                    }
                }
            }
            x += L;
        }
        if stream {
            // Streaming stores are weakly ordered: make them visible before anyone reads.
            _mm_sfence();
        }
        // SAFETY: `prev` is 16 f32s.
        unsafe { _mm512_storeu_ps(prev.as_mut_ptr(), carry) };
        let beta = 1.0 - alpha;
        for c in x..w {
            for ((p, s), o) in prev.iter_mut().zip(src).zip(out.iter_mut()) {
                if c > 0 {
                    *p = alpha * s[c] + beta * *p;
                }
                o[c] = *p;
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::simd::SimdLevel;

        #[test]
        fn transpose_swaps_rows_and_columns() {
            if !SimdLevel::Avx512.is_supported() {
                eprintln!("skipped: this CPU has no AVX-512");
                return;
            }
            let m: [[f32; 16]; 16] =
                std::array::from_fn(|i| std::array::from_fn(|j| (i * 16 + j) as f32));
            // SAFETY: AVX-512 F checked above; every load and store is 16 f32s.
            let t = unsafe {
                let v = std::array::from_fn(|i| _mm512_loadu_ps(m[i].as_ptr()));
                let t = transpose(v, &swap_vectors());
                let mut out = [[0.0f32; 16]; 16];
                for (o, v) in out.iter_mut().zip(t) {
                    _mm512_storeu_ps(o.as_mut_ptr(), v);
                }
                out
            };
            for i in 0..16 {
                for j in 0..16 {
                    assert_eq!(t[j][i], m[i][j], "({i}, {j})");
                }
            }
        }
    }
}
