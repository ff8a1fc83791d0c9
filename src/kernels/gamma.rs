//! The two float tiers of the ladder (the chapter's Code 8.2.2), kept as real kernels so
//! the LUT tiers have honest baselines. Both are single-threaded on purpose.

use crate::image::{ImageView, ImageViewMut, check_same_size};
use crate::kernels::lut::gamma_pixel_f64;
use crate::{Error, Result};

/// Accepted gamma exponents: wide enough for any real correction, narrow enough that
/// the f32 tier computes the same table as the f64 one.
pub const GAMMA_RANGE: std::ops::RangeInclusive<f64> = 1e-3..=1e3;

/// Errors unless `gamma` lies in [`GAMMA_RANGE`].
pub fn check_gamma(gamma: f64) -> Result<()> {
    if GAMMA_RANGE.contains(&gamma) {
        Ok(())
    } else {
        Err(Error::bad_param(
            "gamma",
            format!(
                "must be in {}..={}, got {gamma}",
                GAMMA_RANGE.start(),
                GAMMA_RANGE.end()
            ),
        ))
    }
}

/// Tier 0: one f64 `powf` per pixel, `round(255 * (v / 255)^gamma)`.
pub fn gamma_naive(
    src: &ImageView<'_, u8>,
    dst: &mut ImageViewMut<'_, u8>,
    gamma: f64,
) -> Result<()> {
    check_gamma(gamma)?;
    check_same_size("output", src.size(), dst.size())?;
    for (s, d) in src.rows().zip(dst.rows_mut()) {
        for (d, &s) in d.iter_mut().zip(s) {
            *d = gamma_pixel_f64(s, gamma);
        }
    }
    Ok(())
}

/// Scratch for [`gamma_row_float`]: one f32 row, made once and reused.
#[derive(Debug, Default)]
pub struct RowScratch(Vec<f32>);

impl RowScratch {
    /// Scratch already sized for rows of `width` pixels.
    pub fn for_width(width: usize) -> Self {
        RowScratch(vec![0.0; width])
    }
}

/// Tier 1: whole-row f32 arithmetic, NumPy style: each step is one pass over a row
/// (convert and scale, power, scale and round). Equal to tier 0 wherever
/// `255 * (v/255)^gamma` is not within f32 round-off of a half-integer; for gamma 0.5
/// that holds for all 256 inputs (tested).
pub fn gamma_row_float(
    src: &ImageView<'_, u8>,
    dst: &mut ImageViewMut<'_, u8>,
    gamma: f64,
    scratch: &mut RowScratch,
) -> Result<()> {
    check_gamma(gamma)?;
    check_same_size("output", src.size(), dst.size())?;
    let g = gamma as f32;
    let row = &mut scratch.0;
    row.resize(src.width(), 0.0);
    for (s, d) in src.rows().zip(dst.rows_mut()) {
        for (f, &v) in row.iter_mut().zip(s) {
            *f = f32::from(v) * (1.0 / 255.0);
        }
        for f in row.iter_mut() {
            *f = f.powf(g);
        }
        for (d, &f) in d.iter_mut().zip(row.iter()) {
            *d = (f * 255.0 + 0.5) as u8;
        }
    }
    Ok(())
}
