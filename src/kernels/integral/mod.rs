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
//! variants side by side), the running total, and the row above. With several threads
//! the u32 integral is computed in bands that first learn their starting row from
//! per-column sums (see `integral_u8_bands`); the result is the same bits.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "aarch64")]
mod neon;
pub mod scalar;

use crate::image::{ImageView, ImageViewMut};
use crate::kernels::parallel;
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
    let band_rows = parallel::band_rows_for(h + 1, MIN_BAND_ROWS);
    if w * h < PAR_MIN_PIXELS || band_rows > h {
        for y in 0..h {
            let (done, mut rest) = dst
                .reborrow()
                .split_at_row_mut(y + 1)
                .expect("0 < y + 1 < h + 1");
            let above = done.as_view().row(y);
            dispatch!(level => integral_row_u8(src.row(y), above, rest.row_mut(0)));
        }
        return Ok(());
    }
    integral_u8_bands(level, src, dst, band_rows);
    Ok(())
}

/// Below this many pixels the integral stays on one thread.
const PAR_MIN_PIXELS: usize = 1 << 18;
/// Bands of the parallel integral have at least this many rows.
const MIN_BAND_ROWS: usize = 64;

/// The integral on the current rayon pool, in bands of `band_rows` rows of `dst` (at
/// least 2; band `b` starts at row `b·band_rows`). Each row depends on the one above, so
/// the bands first learn where they start:
/// 1. in parallel, every band but the last sums its source rows per column, into its
///    own last row (scratch for now);
/// 2. in order, each band's first row is the previous band's first row plus the prefix
///    sum of those column sums (one row of work per band);
/// 3. in parallel, every band fills its other rows from its first one, as one thread
///    would (overwriting the column sums).
///
/// The source is read twice, the output written once; sums are exact integers, so the
/// result is the single-threaded one, bit for bit.
fn integral_u8_bands(
    level: SimdLevel,
    src: &ImageView<'_, u8>,
    dst: &mut ImageViewMut<'_, u32>,
    band_rows: usize,
) {
    debug_assert!(band_rows >= 2, "a band needs a first row and a row of sums");
    let rows = dst.height();
    let bands = rows.div_ceil(band_rows);
    // One (zero-sized, so unallocated) scratch element per band.
    let mut units = vec![(); bands];
    let last_band_start = (bands - 1) * band_rows;
    parallel::for_each_band_with_scratch(
        dst.reborrow(),
        band_rows,
        &mut units,
        &|y0, mut band, _| {
            if y0 == last_band_start {
                return;
            }
            let sums = band.row_mut(band_rows - 1);
            sums[0] = 0;
            column_sums(level, &band_source(src, y0, band_rows), &mut sums[1..]);
        },
    );
    for b in 1..bands {
        let start = b * band_rows;
        let (top, mut bottom) = dst
            .reborrow()
            .split_at_row_mut(start)
            .expect("0 < start < rows");
        let top = top.as_view();
        boundary_row(
            top.row(start - band_rows),
            top.row(start - 1),
            bottom.row_mut(0),
        );
    }
    parallel::for_each_band_with_scratch(
        dst.reborrow(),
        band_rows,
        &mut units,
        &|y0, mut band, _| {
            for i in 1..band.height() {
                let (above, out) = band.two_rows_mut(i - 1);
                dispatch!(level => integral_row_u8(src.row(y0 + i - 1), above, out));
            }
        },
    );
}

/// The source rows `y0..y0 + n` as a view.
fn band_source<'a>(src: &ImageView<'a, u8>, y0: usize, n: usize) -> ImageView<'a, u8> {
    src.sub_view(0, y0, src.width(), n)
        .expect("a band's source rows lie inside the source")
}

autovectorized! {
    /// `out[x] = Σ_y rows[y][x]` (u32; the caller bounds the rows so nothing wraps).
    fn column_sums_row(out: &mut [u32], row: &[u8], first: bool) {
        let n = out.len();
        let row = &row[..n];
        if first {
            for x in 0..n {
                out[x] = u32::from(row[x]);
            }
        } else {
            for x in 0..n {
                out[x] += u32::from(row[x]);
            }
        }
    }
}

/// Per-column sums of every row of `rows` into `out` (`rows.width()` values).
fn column_sums(level: SimdLevel, rows: &ImageView<'_, u8>, out: &mut [u32]) {
    for (y, row) in rows.rows().enumerate() {
        column_sums_row(level, out, row, y == 0);
    }
}

/// `out[0] = 0`, `out[x] = prev[x] + Σ_{1<=j<=x} sums[j]`: a band's first integral row
/// from the previous band's first row and the column sums of the rows between them.
fn boundary_row(prev: &[u32], sums: &[u32], out: &mut [u32]) {
    out[0] = 0;
    let mut run = 0u32;
    for x in 1..out.len() {
        run = run.wrapping_add(sums[x]);
        out[x] = prev[x].wrapping_add(run);
    }
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
