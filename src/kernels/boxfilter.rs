//! Box filter: the mean (or plain sum) over a kx×ky window, O(1) per pixel at any size
//! thanks to running sums (see [`crate::kernels::window`]). u8 sums are exact; the mean
//! is `sum · (1/n)` in f32 rounded half to even, as OpenCV's `boxFilter` does. Even sizes
//! anchor like OpenCV (the extra row and column lie above and left of the centre).

use crate::image::{DType, Pixel};
use crate::image::{ImageView, ImageViewMut, check_same_size};
use crate::kernels::border::Border;
use crate::kernels::window::{Emit, EmitSums, Scratches, Window, WindowPixel, window_sums};
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

/// Largest window area whose u8 sums fit u16 (255 · 257 = 65535): such windows take
/// the 16-bit path, [`small`].
pub const SMALL_AREA_U8: usize = 257;

/// Small u8 windows in 16 bits: a running vertical sum per column straight from the u8
/// rows, the horizontal sum of the padded column sums, then the same f32 scaling and
/// rounding as the general path (so both give identical bytes). Twice the lanes per
/// vector and no 32-bit intermediate rows: the general path moves 4-byte sums through
/// memory three times per pixel.
mod small {
    use super::round_small;
    use crate::image::{ImageView, ImageViewMut};
    use crate::kernels::border::Border;
    use crate::kernels::colsums::{add_u8_u16 as add_row, slide_u8_u16 as slide_row};
    use crate::kernels::parallel;
    use crate::simd::{SimdLevel, autovectorized};

    autovectorized! {
        /// `acc[i] = p[i] (+ p[i + 1] when `two`)`.
        fn h_first(p: &[u16], two: bool, acc: &mut [u16]) {
            let n = acc.len();
            if two {
                let (a, b) = (&p[..n], &p[1..n + 1]);
                for i in 0..n {
                    acc[i] = a[i] + b[i];
                }
            } else {
                acc.copy_from_slice(&p[..n]);
            }
        }
    }

    autovectorized! {
        /// `acc[i] += p[i + j] + p[i + j + 1]`.
        fn h_add2(p: &[u16], j: usize, acc: &mut [u16]) {
            let n = acc.len();
            let (a, b) = (&p[j..j + n], &p[j + 1..j + 1 + n]);
            for i in 0..n {
                acc[i] += a[i] + b[i];
            }
        }
    }

    autovectorized! {
        /// `acc[i] += p[i + j]`.
        fn h_add1(p: &[u16], j: usize, acc: &mut [u16]) {
            let n = acc.len();
            let a = &p[j..j + n];
            for i in 0..n {
                acc[i] += a[i];
            }
        }
    }

    autovectorized! {
        /// The mean, rounded half to even exactly as the general path rounds it.
        fn mean_row(acc: &[u16], scale: f32, out: &mut [u8]) {
            for (o, &s) in out.iter_mut().zip(acc) {
                *o = round_small(f32::from(s) * scale).clamp(0, 255) as u8;
            }
        }
    }

    /// Per-band scratch: the padded column sums, the horizontal sums, a constant row.
    #[derive(Debug, Default)]
    pub(super) struct Scratch {
        cols: Vec<u16>,
        acc: Vec<u16>,
        constant: Vec<u8>,
    }

    /// The `kx`×`ky` mean of `src` (area at most [`super::SMALL_AREA_U8`]) into `dst`.
    pub(super) fn mean_u8(
        level: SimdLevel,
        (kx, ky): (usize, usize),
        border: Border,
        src: &ImageView<'_, u8>,
        dst: &mut ImageViewMut<'_, u8>,
        scratch: &mut Vec<Scratch>,
    ) {
        debug_assert!(kx * ky <= super::SMALL_AREA_U8);
        let (w, h) = src.size();
        let constant = border.constant_u8();
        // Even sizes anchor like OpenCV: the extra column and row lie left and above.
        let (left, right) = (kx / 2, (kx - 1) / 2);
        let (up, down) = ((ky / 2) as isize, ((ky - 1) / 2) as isize);
        let band_rows = parallel::bands_with_scratch(w, h, scratch);
        for s in scratch.iter_mut() {
            s.cols.resize(w + kx - 1, 0);
            s.acc.resize(w, 0);
            s.constant.resize(w, constant);
            s.constant.fill(constant);
        }
        let scale = (1.0 / (kx * ky) as f64) as f32;
        parallel::for_each_band_with_scratch(
            dst.reborrow(),
            band_rows,
            scratch,
            &|y0, mut band, s| {
                let Scratch {
                    cols,
                    acc,
                    constant: constant_row,
                } = s;
                let row = |y: isize| match border.map(y, h) {
                    Some(yy) => src.row(yy),
                    None => &constant_row[..],
                };
                for i in 0..band.height() {
                    let y = (y0 + i) as isize;
                    let col = &mut cols[left..left + w];
                    if i == 0 {
                        col.fill(0);
                        for d in -up..=down {
                            add_row(level, col, row(y + d));
                        }
                    } else {
                        slide_row(level, col, row(y + down), row(y - up - 1));
                    }
                    // Columns outside the image: mirrored or repeated sums, or the
                    // constant's (a column of `ky` constant pixels).
                    for x in (-(left as isize)..0).chain(w as isize..(w + right) as isize) {
                        cols[(left as isize + x) as usize] = match border.map(x, w) {
                            Some(xx) => cols[left + xx],
                            None => ky as u16 * u16::from(constant),
                        };
                    }
                    h_first(level, cols, kx >= 2, acc);
                    let mut j = if kx >= 2 { 2 } else { 1 };
                    while j + 2 <= kx {
                        h_add2(level, cols, j, acc);
                        j += 2;
                    }
                    if j < kx {
                        h_add1(level, cols, j, acc);
                    }
                    mean_row(level, acc, scale, band.row_mut(i));
                }
            },
        );
    }
}

/// A reusable box filter; scratch is kept between calls.
#[derive(Debug)]
pub struct BoxFilter {
    ksize: (usize, usize),
    border: Border,
    scratch: Scratches,
    small: Vec<small::Scratch>,
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
            small: Vec::new(),
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
        emit: EmitSums<'_, P, D>,
    ) -> Result<()> {
        let level = level.check()?;
        if P::DTYPE == DType::U8 {
            self.check_u8()?;
        }
        check_same_size("output", src.size(), dst.size())?;
        window_sums(
            level,
            src,
            dst,
            self.window(false),
            &mut self.scratch,
            Emit::Sums(emit),
        );
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
        if self.ksize.0 * self.ksize.1 <= SMALL_AREA_U8 {
            let level = level.check()?;
            check_same_size("output", src.size(), dst.size())?;
            small::mean_u8(level, self.ksize, self.border, src, dst, &mut self.small);
            return Ok(());
        }
        self.mean_u8_general_at(level, src, dst)
    }

    /// [`Self::mean_u8_at`] through the general 32-bit path at any window size (the
    /// small-window path's reference in tests).
    pub fn mean_u8_general_at(
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
