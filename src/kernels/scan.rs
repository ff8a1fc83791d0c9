//! Row scans: the per-row exponential moving average of the chapter's Code 8.2.4,
//! `out[c] = a·in[c] + (1 − a)·out[c − 1]`, `out[0] = in[0]`.
//!
//! One row is a dependency chain (a multiply and an add per pixel, several cycles of
//! latency), so a row alone cannot go faster than that chain. Rows are independent:
//! blocks of [`ROWS`] rows advance together, column by column, as one vector of
//! [`ROWS`] lanes (loaded across the rows, the transposed direction), which fills the
//! pipeline; blocks run in parallel on rayon. Every lane does exactly the scalar
//! reference's operations, so results are bit-identical to it.

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
            ema_block(level, &src_rows, rows, alpha, &mut dst_rows);
        }
    });
    Ok(())
}
