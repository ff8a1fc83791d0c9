//! Point operations through a 256-entry lookup table (`u8 -> u8`).
//!
//! A per-pixel function of a u8 image has at most 256 distinct results, so any such
//! function (gamma, brightness/contrast, inversion, threshold) costs 256 evaluations
//! plus one table lookup per pixel. The lookup itself is vectorized per ISA:
//! - AVX2: 16 in-lane byte shuffles (one per 16-entry slice), merged by a 4-level
//!   blend tree on the index's high nibble;
//! - AVX-512 (BW): the same on 64 bytes, with mask blends;
//! - AVX-512 VBMI: two 128-entry `vpermi2b` lookups and one blend on bit 7;
//! - NEON: `tbl`/`tbx` over four 64-byte quarters.

use crate::image::{ImageView, ImageViewMut, check_same_size};
use crate::simd::{self, SimdLevel};
use crate::{Error, Result};

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "aarch64")]
mod neon;
mod scalar;

use crate::kernels::parallel::POINT_OP_PAR_MIN_PIXELS as PAR_MIN_PIXELS;

/// A 256-entry table: `out = table[in]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lut {
    table: [u8; 256],
}

/// Rounds to the nearest integer and saturates to 0..=255 (NaN becomes 0).
fn saturate_u8(v: f64) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

impl Lut {
    /// A table from its 256 entries.
    pub fn from_table(table: [u8; 256]) -> Self {
        Lut { table }
    }

    /// A table with `table[v] = f(v)`.
    pub fn from_fn(mut f: impl FnMut(u8) -> u8) -> Self {
        let mut table = [0u8; 256];
        for (v, t) in table.iter_mut().enumerate() {
            *t = f(v as u8);
        }
        Lut { table }
    }

    /// The identity table.
    pub fn identity() -> Self {
        Self::from_fn(|v| v)
    }

    /// Gamma correction `round(255 * (v / 255)^gamma)`, the chapter's Code 8.2.2 formula
    /// evaluated in f64. `gamma` must be finite and positive.
    pub fn gamma(gamma: f64) -> Result<Self> {
        crate::kernels::gamma::check_gamma(gamma)?;
        Ok(Self::from_fn(|v| gamma_pixel_f64(v, gamma)))
    }

    /// Linear brightness/contrast: `saturate(round(contrast * v + brightness))`, the
    /// mapping of OpenCV's `convertScaleAbs` without the absolute value.
    pub fn brightness_contrast(brightness: f64, contrast: f64) -> Result<Self> {
        for (name, v) in [("brightness", brightness), ("contrast", contrast)] {
            if !v.is_finite() {
                return Err(Error::bad_param(name, format!("must be finite, got {v}")));
            }
        }
        Ok(Self::from_fn(|v| {
            saturate_u8(contrast * f64::from(v) + brightness)
        }))
    }

    /// Inversion: `255 - v`.
    pub fn invert() -> Self {
        Self::from_fn(|v| 255 - v)
    }

    /// Binary threshold: `255` where `v > threshold`, else `0` (OpenCV's THRESH_BINARY).
    pub fn threshold(threshold: u8) -> Self {
        Self::from_fn(|v| if v > threshold { 255 } else { 0 })
    }

    /// The 256 entries.
    pub fn table(&self) -> &[u8; 256] {
        &self.table
    }
}

/// One pixel of gamma correction in f64, the ladder's tier-0 arithmetic.
pub fn gamma_pixel_f64(v: u8, gamma: f64) -> u8 {
    saturate_u8(255.0 * (f64::from(v) / 255.0).powf(gamma))
}

/// `dst = lut[src]` at the process's SIMD level ([`simd::level`]), row bands in
/// parallel on the current rayon pool.
pub fn apply_lut(src: &ImageView<'_, u8>, dst: &mut ImageViewMut<'_, u8>, lut: &Lut) -> Result<()> {
    apply_lut_at(simd::level()?, src, dst, lut)
}

/// [`apply_lut`] at an explicit SIMD level; errors if the CPU lacks it.
pub fn apply_lut_at(
    level: SimdLevel,
    src: &ImageView<'_, u8>,
    dst: &mut ImageViewMut<'_, u8>,
    lut: &Lut,
) -> Result<()> {
    let level = level.check()?;
    check_same_size("output", src.size(), dst.size())?;
    crate::kernels::parallel::for_each_band(*src, dst.reborrow(), PAR_MIN_PIXELS, &|s, mut d| {
        for (s, d) in s.rows().zip(d.rows_mut()) {
            lut_row(level, s, d, &lut.table);
        }
    });
    Ok(())
}

/// One row at a level already checked by the caller.
fn lut_row(level: SimdLevel, src: &[u8], dst: &mut [u8], table: &[u8; 256]) {
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `level` passed `SimdLevel::check`, so the CPU has AVX-512 F/BW and VBMI.
        SimdLevel::Avx512Vbmi => unsafe { avx512::lut_row_vbmi(src, dst, table) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `level` passed `SimdLevel::check`, so the CPU has AVX-512 F/BW.
        SimdLevel::Avx512 => unsafe { avx512::lut_row(src, dst, table) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `level` passed `SimdLevel::check`, so the CPU has AVX2.
        SimdLevel::Avx2 => unsafe { avx2::lut_row(src, dst, table) },
        #[cfg(target_arch = "aarch64")]
        // SAFETY: `level` passed `SimdLevel::check`, so the CPU has NEON.
        SimdLevel::Neon => unsafe { neon::lut_row(src, dst, table) },
        _ => scalar::lut_row(src, dst, table),
    }
}
