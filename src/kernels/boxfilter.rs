//! Box filter: the mean (or plain sum) over a kx×ky window, O(1) per pixel at any size
//! thanks to running sums (see [`crate::kernels::window`]). u8 sums are exact; the mean
//! is `sum · (1/n)` in f32 rounded half to even, as OpenCV's `boxFilter` does. Even sizes
//! anchor like OpenCV (the extra row and column lie above and left of the centre).

use crate::image::{DType, Pixel};
use crate::image::{ImageView, ImageViewMut, check_same_size};
use crate::kernels::border::Border;
use crate::kernels::window::{Emit, Scratches, Window, WindowPixel, window_sums};
use crate::simd::autovectorized;
use crate::simd::{self, SimdLevel};
use crate::{Error, Result};

/// Largest window side for local statistics of u8 images: sums of squares stay exact
/// in u32.
pub const MAX_KSIZE_U8: usize = 255;
/// Largest window area for box sums of u8 images: `255 · kx · ky` stays exact in u32.
pub const MAX_AREA_U8: usize = (u32::MAX / 255) as usize;
/// Largest window side for f32 images.
pub const MAX_KSIZE: usize = 4095;

/// Rounds `v` (0 <= v < 2^22) half to even through the float's own rounding: adding
/// 1.5·2^23 leaves the rounded integer in the low mantissa bits. Unlike a saturating
/// float-to-int cast, this vectorizes.
#[inline(always)]
pub(crate) fn round_small(v: f32) -> i32 {
    const MAGIC: f32 = 12_582_912.0;
    (v + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32
}

autovectorized! {
    fn mean_u8_row(col: &[u32], scale: f32, out: &mut [u8]) {
        for (o, &s) in out.iter_mut().zip(col) {
            *o = round_small(s as f32 * scale).clamp(0, 255) as u8;
        }
    }
}
autovectorized! {
    fn mean_u32_f32_row(col: &[u32], scale: f64, out: &mut [f32]) {
        for (o, &s) in out.iter_mut().zip(col) {
            *o = (f64::from(s) * scale) as f32;
        }
    }
}
autovectorized! {
    fn mean_f64_u8_row(col: &[f64], scale: f64, out: &mut [u8]) {
        for (o, &s) in out.iter_mut().zip(col) {
            *o = round_small(((s * scale) as f32).clamp(0.0, 255.0)) as u8;
        }
    }
}
autovectorized! {
    fn copy_u32_row(col: &[u32], out: &mut [u32]) {
        out.copy_from_slice(&col[..out.len()]);
    }
}
autovectorized! {
    fn scale_f32_row(col: &[f64], scale: f64, out: &mut [f32]) {
        for (o, &s) in out.iter_mut().zip(col) {
            *o = (s * scale) as f32;
        }
    }
}

/// Errors unless u8 box sums over a `kx`×`ky` window fit u32.
pub(crate) fn check_area_u8((kx, ky): (usize, usize)) -> Result<()> {
    if kx * ky <= MAX_AREA_U8 {
        Ok(())
    } else {
        Err(Error::bad_param(
            "ksize",
            format!("{kx}x{ky} is too large for u8 sums (at most {MAX_AREA_U8} pixels)"),
        ))
    }
}

/// Checks a window side for pixels whose limit is `max`.
pub(crate) fn check_ksize(name: &str, k: usize, max: usize) -> Result<()> {
    if (1..=max).contains(&k) {
        Ok(())
    } else {
        Err(Error::bad_param(
            name,
            format!("must be in 1..={max}, got {k}"),
        ))
    }
}

/// A reusable box filter; scratch is kept between calls.
#[derive(Debug)]
pub struct BoxFilter {
    ksize: (usize, usize),
    border: Border,
    scratch: Scratches,
}

impl BoxFilter {
    /// A `kx`×`ky` box (1..=[`MAX_KSIZE`]; for u8 images `kx·ky` up to [`MAX_AREA_U8`]).
    pub fn new(ksize: (usize, usize), border: Border) -> Result<Self> {
        check_ksize("ksize", ksize.0, MAX_KSIZE)?;
        check_ksize("ksize_y", ksize.1, MAX_KSIZE)?;
        Ok(BoxFilter {
            ksize,
            border,
            scratch: Scratches::default(),
        })
    }

    /// The window size (x, y).
    pub fn ksize(&self) -> (usize, usize) {
        self.ksize
    }

    fn window(&self, squares: bool) -> Window {
        Window {
            kx: self.ksize.0,
            ky: self.ksize.1,
            border: self.border,
            squares,
        }
    }

    fn check_u8(&self) -> Result<()> {
        check_area_u8(self.ksize)
    }

    /// Checks the level, the window against the pixel type and the sizes, then streams
    /// the window sums of `src` into `emit`.
    fn run<P: WindowPixel, D: Pixel>(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, P>,
        dst: &mut ImageViewMut<'_, D>,
        emit: Emit<'_, P, D>,
    ) -> Result<()> {
        let level = level.check()?;
        if P::DTYPE == DType::U8 {
            self.check_u8()?;
        }
        check_same_size("output", src.size(), dst.size())?;
        window_sums(level, src, dst, self.window(false), &mut self.scratch, emit);
        Ok(())
    }

    /// `1 / (kx · ky)`.
    fn inv_area(&self) -> f64 {
        1.0 / (self.ksize.0 * self.ksize.1) as f64
    }

    /// The window mean of a u8 image, rounded to u8.
    pub fn mean_u8(
        &mut self,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u8>,
    ) -> Result<()> {
        self.mean_u8_at(simd::level()?, src, dst)
    }

    /// [`Self::mean_u8`] at an explicit SIMD level.
    pub fn mean_u8_at(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u8>,
    ) -> Result<()> {
        let scale = self.inv_area() as f32;
        self.run(
            level,
            src,
            dst,
            &|col: &[u32], _: &[u32], _: &[u8], out: &mut [u8]| mean_u8_row(level, col, scale, out),
        )
    }

    /// The exact window sums of a u8 image.
    pub fn sum_u8(
        &mut self,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u32>,
    ) -> Result<()> {
        self.sum_u8_at(simd::level()?, src, dst)
    }

    /// [`Self::sum_u8`] at an explicit SIMD level.
    pub fn sum_u8_at(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u32>,
    ) -> Result<()> {
        self.run(
            level,
            src,
            dst,
            &|col: &[u32], _: &[u32], _: &[u8], out: &mut [u32]| copy_u32_row(level, col, out),
        )
    }

    /// The window mean of a u8 image, unrounded (f32 out).
    pub fn mean_u8_to_f32_at(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, f32>,
    ) -> Result<()> {
        let scale = self.inv_area();
        self.run(
            level,
            src,
            dst,
            &|col: &[u32], _: &[u32], _: &[u8], out: &mut [f32]| {
                mean_u32_f32_row(level, col, scale, out)
            },
        )
    }

    /// The window mean of an f32 image, rounded half to even and saturated to u8.
    pub fn mean_f32_to_u8_at(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, f32>,
        dst: &mut ImageViewMut<'_, u8>,
    ) -> Result<()> {
        let scale = self.inv_area();
        self.run(
            level,
            src,
            dst,
            &|col: &[f64], _: &[f64], _: &[f32], out: &mut [u8]| {
                mean_f64_u8_row(level, col, scale, out)
            },
        )
    }

    /// The window mean (`normalize`) or sum of an f32 image.
    pub fn apply_f32(
        &mut self,
        src: &ImageView<'_, f32>,
        dst: &mut ImageViewMut<'_, f32>,
        normalize: bool,
    ) -> Result<()> {
        self.apply_f32_at(simd::level()?, src, dst, normalize)
    }

    /// [`Self::apply_f32`] at an explicit SIMD level.
    pub fn apply_f32_at(
        &mut self,
        level: SimdLevel,
        src: &ImageView<'_, f32>,
        dst: &mut ImageViewMut<'_, f32>,
        normalize: bool,
    ) -> Result<()> {
        let scale = if normalize { self.inv_area() } else { 1.0 };
        self.run(
            level,
            src,
            dst,
            &|col: &[f64], _: &[f64], _: &[f32], out: &mut [f32]| {
                scale_f32_row(level, col, scale, out)
            },
        )
    }
}
