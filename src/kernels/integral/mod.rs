//! Integral images (summed-area tables): `I(x, y) = Σ src over [0, x) × [0, y)`, one
//! row and column larger than the source like OpenCV's `integral`, so any window sum
//! is four lookups ([`window_sum`]).
//!
//! u8 sums are u32: exact while the image holds at most 16,843,009 pixels (255·n must
//! stay below 2^32: a 4096×4096 frame fits, 4K UHD fits with room to spare). Larger
//! images are refused with an error; use [`integral_u8_f64`] for those. Squared sums are
//! f64 (exact up to 2^53, i.e. 138 Gpx of 255² values).
//!
//! Each u8 row is one pass: a prefix sum in SIMD registers (scalar, AVX2, AVX-512, NEON
//! variants side by side), the running total, and the row above.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "aarch64")]
mod neon;
pub mod scalar;

use crate::image::{ImageView, ImageViewMut};
use crate::simd::{self, SimdLevel};
use crate::simd::{autovectorized, dispatch};
use crate::{Error, Result};

/// Most u8 pixels whose sum fits a u32.
pub const MAX_PIXELS_U32: usize = (u32::MAX / 255) as usize;

autovectorized! {
    fn add_f64(out: &mut [f64], above: &[f64]) {
        for (o, &a) in out.iter_mut().zip(above) {
            *o += a;
        }
    }
}

fn check_shape(src: (usize, usize), dst: (usize, usize)) -> Result<()> {
    let want = (src.0 + 1, src.1 + 1);
    if dst == want {
        Ok(())
    } else {
        Err(Error::SizeMismatch {
            what: "integral image (must be one larger than the source each way)",
            want_w: want.0,
            want_h: want.1,
            got_w: dst.0,
            got_h: dst.1,
        })
    }
}

/// Fills `dst` ((w+1)×(h+1)) with the integral of `src`, given each pixel's contribution.
fn integral<S: crate::Pixel, A: crate::Pixel + std::ops::Add<Output = A>>(
    src: &ImageView<'_, S>,
    dst: &mut ImageViewMut<'_, A>,
    value: impl Fn(S) -> A,
    add_above: impl Fn(&mut [A], &[A]),
) {
    dst.row_mut(0).fill(A::default());
    for y in 0..src.height() {
        let (done, rest) = dst
            .reborrow()
            .split_at_row_mut(y + 1)
            .expect("0 < y + 1 < h + 1");
        let above = done.as_view().row(y);
        let mut rest = rest;
        let out = rest.row_mut(0);
        out[0] = A::default();
        let mut run = A::default();
        for (o, &v) in out[1..].iter_mut().zip(src.row(y)) {
            run = run + value(v);
            *o = run;
        }
        add_above(out, above);
    }
}

/// The u32 integral of a u8 image (`dst` is (w+1)×(h+1)). Errors above
/// [`MAX_PIXELS_U32`] pixels, where u32 could overflow.
pub fn integral_u8(src: &ImageView<'_, u8>, dst: &mut ImageViewMut<'_, u32>) -> Result<()> {
    integral_u8_at(simd::level()?, src, dst)
}

/// [`integral_u8`] at an explicit SIMD level.
pub fn integral_u8_at(
    level: SimdLevel,
    src: &ImageView<'_, u8>,
    dst: &mut ImageViewMut<'_, u32>,
) -> Result<()> {
    let level = level.check()?;
    check_shape(src.size(), dst.size())?;
    let (w, h) = src.size();
    if w * h > MAX_PIXELS_U32 {
        return Err(Error::TooLarge {
            width: w,
            height: h,
        });
    }
    dst.row_mut(0).fill(0);
    for y in 0..h {
        let (done, mut rest) = dst
            .reborrow()
            .split_at_row_mut(y + 1)
            .expect("0 < y + 1 < h + 1");
        let above = done.as_view().row(y);
        dispatch!(level => integral_row_u8(src.row(y), above, rest.row_mut(0)));
    }
    Ok(())
}

/// The f64 integral of a u8 image: exact for any size a machine can hold.
pub fn integral_u8_f64(src: &ImageView<'_, u8>, dst: &mut ImageViewMut<'_, f64>) -> Result<()> {
    let level = simd::level()?;
    check_shape(src.size(), dst.size())?;
    integral(src, dst, f64::from, |o, a| add_f64(level, o, a));
    Ok(())
}

/// The f64 integral of squared u8 pixels (for variances).
pub fn integral_sq_u8(src: &ImageView<'_, u8>, dst: &mut ImageViewMut<'_, f64>) -> Result<()> {
    let level = simd::level()?;
    check_shape(src.size(), dst.size())?;
    integral(
        src,
        dst,
        |v| f64::from(v) * f64::from(v),
        |o, a| add_f64(level, o, a),
    );
    Ok(())
}

/// The f64 integral of an f32 image.
pub fn integral_f32(src: &ImageView<'_, f32>, dst: &mut ImageViewMut<'_, f64>) -> Result<()> {
    let level = simd::level()?;
    check_shape(src.size(), dst.size())?;
    integral(src, dst, f64::from, |o, a| add_f64(level, o, a));
    Ok(())
}

/// Sum over the `w`×`h` window at `(x, y)` from an integral image: four lookups.
/// `None` if the window does not fit.
pub fn window_sum(
    integral: &ImageView<'_, u32>,
    x: usize,
    y: usize,
    w: usize,
    h: usize,
) -> Option<u32> {
    let a = integral.get(x, y)?;
    let b = integral.get(x + w, y)?;
    let c = integral.get(x, y + h)?;
    let d = integral.get(x + w, y + h)?;
    Some(d.wrapping_sub(b).wrapping_sub(c).wrapping_add(a))
}
